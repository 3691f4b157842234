//! How the Burn MF settings were chosen: a grid on a validation split carved out of the
//! *training* part (the test part is never looked at), each setting trained with early
//! stopping on the validation RMSE (patience 3, at most 100 epochs — 20 for a cosine schedule,
//! which needs its length up front; the best epoch is kept).
//!
//! - no argument: the bundled dataset (outer random 80/20 split, seed 42; validation: 20 % of
//!   its train part, seed 7) — the defaults of `MfParams`;
//! - `PATH/TO/ml-100k`: ML-100K's official `u1.base` (validation: 20 % of it, seed 7) — the
//!   settings for the u1 comparison in docs/benchmarks.md.
//!
//! Each row is a JSON patch over `MfParams::default()`; prints a Markdown table, one row per
//! setting. Run: `cargo run --release --example tune_burn_mf -- [PATH/TO/ml-100k [FIRST_ROW]]`
use burnrec::data::split::ml100k_official;
use burnrec::model::{EarlyStopping, LrSchedule};
use burnrec::prelude::*;

#[path = "common/patch.rs"]
mod patch;

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
    let grid = [
        // Round 1: dimension × λ × learning rate (Adam, batch 1024).
        r#"{"train": {"l2": 0.05, "lr": 0.002}}"#,
        r#"{"train": {"l2": 0.05, "lr": 0.005}}"#,
        r#"{"train": {"l2": 0.1, "lr": 0.002}}"#,
        r#"{"train": {"l2": 0.1, "lr": 0.005}}"#,
        r#"{"train": {"l2": 0.2, "lr": 0.002}}"#,
        r#"{"train": {"l2": 0.2, "lr": 0.005}}"#,
        r#"{"dim": 128, "train": {"l2": 0.05, "lr": 0.002}}"#,
        r#"{"dim": 128, "train": {"l2": 0.05, "lr": 0.005}}"#,
        r#"{"dim": 128, "train": {"l2": 0.1, "lr": 0.002}}"#,
        r#"{"dim": 128, "train": {"l2": 0.1, "lr": 0.005}}"#,
        r#"{"dim": 128, "train": {"l2": 0.2, "lr": 0.002}}"#,
        r#"{"dim": 128, "train": {"l2": 0.2, "lr": 0.005}}"#,
        // Round 2, around the best of round 1 (64, λ 0.1, lr 0.005).
        r#"{"train": {"l2": 0.08}}"#,
        r#"{"train": {"l2": 0.13}}"#,
        r#"{"train": {"batch_size": 256}}"#,
        r#"{"train": {"batch_size": 4096}}"#,
        r#"{"train": {"lr_schedule": {"cosine": {"min_lr": 0.0}}}}"#,
        // Round 3, around the best of round 2 (λ 0.13): size, initialisation, rate and its
        // decay, and the row-wise optimisers (Adagrad, lazy Adam, per-rating SGD as in
        // Surprise's SVD: batch 128 at rate 0.64 moves a row by 0.005 × its gradient per rating).
        r#"{"dim": 32, "train": {"l2": 0.13}}"#,
        r#"{"dim": 256, "train": {"l2": 0.13}}"#,
        r#"{"dim": 256, "train": {"l2": 0.16}}"#,
        r#"{"init_std": 0.01, "train": {"l2": 0.13}}"#,
        r#"{"init_std": 0.1, "train": {"l2": 0.13}}"#,
        r#"{"train": {"l2": 0.13, "lr": 0.002}}"#,
        r#"{"train": {"l2": 0.13, "lr": 0.002, "batch_size": 256}}"#,
        r#"{"train": {"l2": 0.13, "lr": 0.01, "lr_schedule": {"exponential": {"gamma": 0.85}}}}"#,
        r#"{"train": {"l2": 0.13, "embedding_update": {"sparse": {"lazy_adam": {}}}}}"#,
        r#"{"train": {"l2": 0.13, "lr": 0.05, "embedding_update": {"sparse": {"adagrad": {}}}}}"#,
        r#"{"train": {"l2": 0.05, "lr": 0.64, "batch_size": 128, "optimizer": "sgd", "embedding_update": {"sparse": "sgd"}}}"#,
        r#"{"train": {"l2": 0.1, "lr": 0.64, "batch_size": 128, "optimizer": "sgd", "embedding_update": {"sparse": "sgd"}}}"#,
        // Round 4, around the best of round 3 (per-rating SGD, λ 0.1).
        r#"{"train": {"l2": 0.08, "lr": 0.64, "batch_size": 128, "optimizer": "sgd", "embedding_update": {"sparse": "sgd"}}}"#,
        r#"{"train": {"l2": 0.12, "lr": 0.64, "batch_size": 128, "optimizer": "sgd", "embedding_update": {"sparse": "sgd"}}}"#,
        r#"{"train": {"l2": 0.15, "lr": 0.64, "batch_size": 128, "optimizer": "sgd", "embedding_update": {"sparse": "sgd"}}}"#,
        r#"{"train": {"l2": 0.1, "lr": 1.28, "batch_size": 128, "optimizer": "sgd", "embedding_update": {"sparse": "sgd"}}}"#,
        r#"{"train": {"l2": 0.1, "lr": 0.32, "batch_size": 64, "optimizer": "sgd", "embedding_update": {"sparse": "sgd"}}}"#,
        r#"{"dim": 32, "train": {"l2": 0.1, "lr": 0.64, "batch_size": 128, "optimizer": "sgd", "embedding_update": {"sparse": "sgd"}}}"#,
        r#"{"dim": 128, "train": {"l2": 0.1, "lr": 0.64, "batch_size": 128, "optimizer": "sgd", "embedding_update": {"sparse": "sgd"}}}"#,
        r#"{"init_std": 0.1, "train": {"l2": 0.1, "lr": 0.64, "batch_size": 128, "optimizer": "sgd", "embedding_update": {"sparse": "sgd"}}}"#,
    ];
    let first: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(0);
    println!("| row | setting (over the defaults) | best epoch | valid RMSE | fit s |");
    println!("| ---: | --- | ---: | ---: | ---: |");
    for (row, patch) in grid.into_iter().enumerate().skip(first) {
        let mut p: MfParams = patch::patched(&MfParams::default(), patch)?;
        let cosine = matches!(p.train.lr_schedule, LrSchedule::Cosine { .. });
        p.train.epochs = if cosine { 20 } else { 100 };
        p.train.early_stopping = Some(EarlyStopping { patience: 3, min_delta: 0.0 });
        p.train.progress = false;
        let t = std::time::Instant::now();
        let model = p.fit_with_valid(&inner.train, Some(&inner.test), &Backend::Flex.device())?;
        let secs = t.elapsed().as_secs_f64();
        let r = evaluate_ratings(&model, &inner.test, clip).expect("non-empty");
        println!("| {row} | `{patch}` | {} | {:.4} | {secs:.1} |", model.best_epoch.unwrap_or(0), r.rmse);
    }
    Ok(())
}
