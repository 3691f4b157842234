//! How the Burn MF settings were chosen: a small grid on a validation split carved out of the
//! *training* part (the test part is never looked at), each setting trained with early
//! stopping on the validation RMSE (patience 3, at most 60 epochs; the best epoch is kept).
//!
//! - no argument: the bundled dataset (outer random 80/20 split, seed 42; validation: 20 % of
//!   its train part, seed 7) — the defaults of `MfParams`;
//! - `PATH/TO/ml-100k`: ML-100K's official `u1.base` (validation: 20 % of it, seed 7) — the
//!   settings for the u1 comparison in docs/benchmarks.md.
//!
//! Run: `cargo run --release --example tune_burn_mf -- [PATH/TO/ml-100k]`
use burnrec::data::split::ml100k_official;
use burnrec::model::{EarlyStopping, LrSchedule};
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let train = match std::env::args().nth(1) {
        Some(dir) => ml100k_official(dir.as_ref(), "u1", &LoadOptions::default())?.1.train,
        None => {
            let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
            random_split(&data.interactions, 0.2, 42)?.train // the compare split's train part
        }
    };
    let inner = random_split(&train, 0.2, 7)?;
    let clip = inner.train.rating_range();
    println!("| dim | l2 | lr | batch | lr schedule | best epoch | valid RMSE |");
    println!("| ---: | ---: | ---: | ---: | --- | ---: | ---: |");
    let cosine = LrSchedule::Cosine { min_lr: 0.0 };
    let mut grid = Vec::new();
    for dim in [64, 128] {
        for l2 in [0.05, 0.1, 0.2] {
            for lr in [0.002, 0.005] {
                grid.push((dim, l2, lr, 1024, LrSchedule::Constant));
            }
        }
    }
    // Round 2, around the best of round 1 (64, 0.1, 0.005).
    for (l2, batch, sched) in [(0.08, 1024, LrSchedule::Constant), (0.13, 1024, LrSchedule::Constant), (0.1, 256, LrSchedule::Constant), (0.1, 4096, LrSchedule::Constant), (0.1, 1024, cosine)] {
        grid.push((64, l2, 0.005, batch, sched));
    }
    for (dim, l2, lr, batch_size, lr_schedule) in grid {
        let mut p = MfParams { dim, ..Default::default() };
        p.train = TrainConfig {
            l2,
            lr,
            batch_size,
            lr_schedule,
            epochs: if lr_schedule == LrSchedule::Constant { 60 } else { 20 },
            early_stopping: Some(EarlyStopping { patience: 3, min_delta: 0.0 }),
            progress: false,
            ..p.train
        };
        let model = p.fit_with_valid(&inner.train, Some(&inner.test), &Backend::Flex.device())?;
        let r = evaluate_ratings(&model, &inner.test, clip).expect("non-empty");
        println!("| {dim} | {l2} | {lr} | {batch_size} | {lr_schedule:?} | {} | {:.4} |", model.best_epoch.unwrap_or(0), r.rmse);
    }
    Ok(())
}
