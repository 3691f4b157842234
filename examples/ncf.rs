//! NCF — GMF, MLP and NeuMF (He et al., WWW 2017) with the paper's defaults (8 factors, MLP
//! [64, 32, 16, 8], 4 negatives per positive, Adam lr 0.001, batch 256, 20 epochs) on the
//! bundled dataset as implicit feedback, leave-one-out, full ranking, beside popularity.
//!
//! Run: `cargo run --release --example ncf -- [flex|ndarray|wgpu]`
use burnrec::data::split::leave_one_out;
use burnrec::model::{NcfKind, NcfParams};
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let backend: Backend = std::env::args().nth(1).unwrap_or_else(|| "flex".into()).parse()?;
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = leave_one_out(&data.interactions, &data.items)?;
    let pop = PopularityParams.fit(&split.train)?;
    let r = evaluate_full(&pop, &split.train, &split.test, 10, 256);
    println!("popularity: HR@10 {:.4}, NDCG@10 {:.4}", r.hr, r.ndcg);
    for kind in [NcfKind::Gmf, NcfKind::Mlp, NcfKind::NeuMf] {
        let mut params = NcfParams { kind, ..Default::default() };
        params.train.progress = false;
        let model = params.fit(&split.train, &backend.device())?;
        let secs: f64 = model.history.iter().map(|e| e.seconds).sum();
        let r = evaluate_full(&model, &split.train, &split.test, 10, 256);
        println!(
            "{kind:?} on {backend}: HR@10 {:.4}, NDCG@10 {:.4}; final train BCE {:.4}; {:.2} s/epoch",
            r.hr,
            r.ndcg,
            model.history.last().map_or(f64::NAN, |e| e.train_loss),
            secs / model.history.len() as f64
        );
    }
    Ok(())
}
