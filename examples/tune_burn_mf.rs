//! How the Burn MF defaults were chosen: a small grid on a validation split carved out of the
//! *training* part of the bundled dataset (the test part is never looked at).
//!
//! Run: `cargo run --release --example tune_burn_mf -- [flex|ndarray|wgpu]`
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let backend: Backend = std::env::args().nth(1).as_deref().unwrap_or("flex").parse()?;
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let outer = random_split(&data.interactions, 0.2, 42)?; // the compare split
    let inner = random_split(&outer.train, 0.2, 7)?; // validation carved from its train part
    let clip = inner.train.rating_range();
    println!("dim  l2      lr      epochs  valid_rmse");
    for dim in [32, 64, 128] {
        for l2 in [0.05, 0.1, 0.2, 0.3] {
            for lr in [0.005] {
                let mut p = MfParams { dim, ..Default::default() };
                p.train = TrainConfig { l2, lr, progress: false, ..p.train };
                let model = p.fit(&inner.train, &backend.device())?;
                let r = evaluate_ratings(&model, &inner.test, clip).expect("non-empty");
                println!("{dim:<4} {l2:<7} {lr:<7} {:<7} {:.4}", p.train.epochs, r.rmse);
            }
        }
    }
    Ok(())
}
