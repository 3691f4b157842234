//! Saving a trained Burn model (weights through burn-store's burnpack format, config, id maps
//! and training history beside them) and loading it back: the reloaded model scores exactly
//! as the trained one on the same backend.
//!
//! Run: `cargo run --release --example burn_save_load -- [DIR]`
use burnrec::data::split::leave_one_out;
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).map_or_else(|| std::env::temp_dir().join("burnrec-gmf"), Into::into);
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = leave_one_out(&data.interactions, &data.items)?;
    let mut p = NcfParams { kind: NcfKind::Gmf, ..Default::default() };
    p.train.epochs = 3;
    p.train.progress = false;
    let model = BurnModel::Ncf(p.fit(&split.train, &Backend::Flex.device())?);
    model.save(&dir, &data.users, &data.items)?;
    println!("saved to {} (model.json + weights.bpk)", dir.display());
    let (back, users, items) = BurnModel::load(&dir, &Backend::Flex.device())?;
    let user = users.index("1").ok_or("user 1 not in the map")?;
    let all: Vec<u32> = (0..items.len() as u32).collect();
    let (before, after) = (model.predictor().score_block(&[user], &all), back.predictor().score_block(&[user], &all));
    assert_eq!(before, after);
    let best = (0..all.len()).max_by(|&a, &b| after[a].total_cmp(&after[b])).expect("items");
    println!("user 1: identical scores after reload; top item {}", data.item_title(best as u32).unwrap_or("?"));
    Ok(())
}
