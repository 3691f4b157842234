//! Biased MF as a Burn module, trained with Adam on a backend chosen on the command line.
//!
//! Run: `cargo run --release --example burn_mf -- [flex|ndarray|wgpu]`
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let backend: Backend = std::env::args().nth(1).as_deref().unwrap_or("flex").parse()?;
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = random_split(&data.interactions, 0.2, 42)?;
    let model = MfParams::default().fit(&split.train, &backend.device())?;
    for e in &model.history {
        println!("epoch {:2}: train MSE {:.4} ({:.0} ratings/s)", e.epoch, e.train_loss, e.samples_per_s);
    }
    let r = evaluate_ratings(&model, &split.test, split.train.rating_range()).expect("non-empty test");
    println!("burn-mf on {backend}: test RMSE {:.4}, MAE {:.4}", r.rmse, r.mae);
    Ok(())
}
