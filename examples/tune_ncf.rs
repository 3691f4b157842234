//! Chooses NeuMF's settings on a validation split carved from the *training* part of ML-100K
//! leave-one-out (each user's latest training interaction, ties to the larger item id), scored
//! by the sampled protocol (held-out item + 99 seeded negatives the user never interacted with
//! in training); the test part is never looked at. Prints a Markdown table, one row per setting.
//!
//! Run: `cargo run --release --example tune_ncf -- PATH/TO/ml-100k [FIRST_ROW]`
use std::collections::HashMap;

use burnrec::classic::Fit;
use burnrec::data::sampling::{NegativeSampler, Shortfall};
use burnrec::data::split::leave_one_out;
use burnrec::eval::evaluate_sampled;
use burnrec::model::{EarlyStopping, NcfParams, Validation};
use burnrec::prelude::*;
use rand::SeedableRng;

#[path = "common/patch.rs"]
mod patch;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: tune_ncf PATH/TO/ml-100k")?;
    let data = DatasetSpec::Ml100k(dir.into()).load(&LoadOptions::default())?;
    let outer = leave_one_out(&data.interactions, &data.items)?;
    let inner = leave_one_out(&outer.train, &data.items)?;
    let sampler = NegativeSampler::new(&outer.train);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut negatives = HashMap::new();
    for r in inner.test.iter() {
        negatives.insert(r.user, sampler.sample_distinct(r.user, 99, Shortfall::Cap, &mut rng)?.items);
    }
    // Each row: NcfParams fields as JSON over the defaults. Every row trains up to 40 epochs
    // with early stopping (patience 5) on the validation NDCG@10 and keeps the best epoch.
    let grid = [
        r#"{}"#,
        r#"{"factors": 16}"#,
        r#"{"factors": 32, "layers": [128, 64, 32, 16]}"#,
        r#"{"dropout": 0.2}"#,
        r#"{"train": {"l2": 0.0001}}"#,
        r#"{"factors": 16, "negatives": 8}"#,
        r#"{"factors": 32, "layers": [128, 64, 32, 16], "dropout": 0.3, "train": {"l2": 0.0001}}"#,
        r#"{"train": {"lr": 0.002, "lr_schedule": {"cosine": {"min_lr": 0.0}}}}"#,
        r#"{"factors": 16, "train": {"batch_size": 1024, "lr": 0.003}}"#,
        // Round 2, around the two best of round 1.
        r#"{"factors": 16, "negatives": 8, "train": {"batch_size": 1024, "lr": 0.003}}"#,
        r#"{"factors": 16, "negatives": 16, "train": {"batch_size": 2048, "lr": 0.003}}"#,
        r#"{"factors": 32, "negatives": 8, "train": {"batch_size": 1024, "lr": 0.003}}"#,
        r#"{"factors": 16, "negatives": 8, "train": {"batch_size": 1024, "lr": 0.003, "l2": 0.0001}}"#,
        r#"{"factors": 16, "negatives": 8, "dropout": 0.1, "train": {"batch_size": 1024, "lr": 0.003}}"#,
        // Round 3, around the best of round 2 (32 factors, 8 negatives, batch 1024, lr 0.003).
        r#"{"factors": 64, "layers": [128, 64, 32, 16], "negatives": 8, "train": {"batch_size": 1024, "lr": 0.003}}"#,
        r#"{"factors": 32, "negatives": 8, "dropout": 0.2, "train": {"batch_size": 1024, "lr": 0.003}}"#,
        r#"{"factors": 32, "negatives": 8, "train": {"batch_size": 1024, "lr": 0.001}}"#,
        r#"{"factors": 32, "negatives": 8, "train": {"batch_size": 1024, "lr": 0.003, "optimizer": {"adam_w": {"weight_decay": 0.01}}}}"#,
        // Round 4: pretraining with each part stopped early on the validation as well, the
        // NeuMF stage with Adam at a lower rate or with the paper's plain SGD.
        r#"{"factors": 32, "negatives": 8, "pretrain": true, "train": {"batch_size": 1024, "lr": 0.003}}"#,
        r#"{"factors": 32, "negatives": 8, "pretrain": true, "train": {"batch_size": 1024, "lr": 0.003, "optimizer": "sgd"}}"#,
        r#"{"factors": 16, "negatives": 8, "pretrain": true, "train": {"batch_size": 1024, "lr": 0.003}}"#,
        // Round 5: L2 on the embedding rows strong enough to matter (round 1 tried 1e-4), which
        // may let larger models and more negatives train longer.
        r#"{"factors": 32, "negatives": 8, "train": {"batch_size": 1024, "lr": 0.003, "l2": 0.001}}"#,
        r#"{"factors": 32, "negatives": 8, "train": {"batch_size": 1024, "lr": 0.003, "l2": 0.003}}"#,
        r#"{"factors": 32, "negatives": 8, "train": {"batch_size": 1024, "lr": 0.003, "l2": 0.01}}"#,
        r#"{"factors": 64, "layers": [128, 64, 32, 16], "negatives": 8, "train": {"batch_size": 1024, "lr": 0.003, "l2": 0.003}}"#,
        r#"{"factors": 64, "layers": [128, 64, 32, 16], "negatives": 8, "train": {"batch_size": 1024, "lr": 0.003, "l2": 0.01}}"#,
        r#"{"factors": 32, "negatives": 16, "train": {"batch_size": 2048, "lr": 0.003, "l2": 0.003}}"#,
        // Round 6: the pairwise BPR objective instead of BCE (one sampled negative per positive).
        r#"{"factors": 32, "objective": "bpr", "train": {"batch_size": 1024, "lr": 0.003}}"#,
        r#"{"factors": 32, "objective": "bpr", "train": {"batch_size": 256, "lr": 0.001}}"#,
        r#"{"factors": 64, "layers": [128, 64, 32, 16], "objective": "bpr", "train": {"batch_size": 1024, "lr": 0.003, "l2": 0.001}}"#,
        // Round 7, around row 11: row-wise optimisers for the embedding tables (lazy Adam moves
        // a row only when its user or item is in the batch; Adagrad's rate decays per row), a
        // wider MLP, a smaller batch, gradient clipping.
        r#"{"factors": 32, "negatives": 8, "train": {"batch_size": 1024, "lr": 0.003, "embedding_update": {"sparse": {"lazy_adam": {}}}}}"#,
        r#"{"factors": 32, "negatives": 8, "train": {"batch_size": 1024, "lr": 0.003, "embedding_update": {"sparse": {"adagrad": {}}}}}"#,
        r#"{"factors": 32, "negatives": 8, "layers": [256, 128, 64, 32], "train": {"batch_size": 1024, "lr": 0.003}}"#,
        r#"{"factors": 32, "negatives": 8, "train": {"batch_size": 256, "lr": 0.001}}"#,
        r#"{"factors": 32, "negatives": 8, "train": {"batch_size": 1024, "lr": 0.003, "grad_clip_norm": 1.0}}"#,
        // Round 8: the sampled softmax objective (the positive's cross-entropy among itself and
        // its sampled negatives) instead of BCE.
        r#"{"factors": 32, "negatives": 8, "objective": "softmax", "train": {"batch_size": 1024, "lr": 0.003}}"#,
        r#"{"factors": 32, "negatives": 32, "objective": "softmax", "train": {"batch_size": 4096, "lr": 0.003}}"#,
        r#"{"factors": 16, "negatives": 8, "objective": "softmax", "train": {"batch_size": 1024, "lr": 0.003}}"#,
        r#"{"factors": 32, "negatives": 32, "objective": "softmax", "train": {"batch_size": 2048, "lr": 0.001}}"#,
    ];
    let only: Option<usize> = std::env::args().nth(2).and_then(|s| s.parse().ok());
    let validation = Validation {
        name: "sampled ndcg@10".into(),
        higher_is_better: true,
        score: Box::new(|m: &dyn RatingPredictor| evaluate_sampled(m, &inner.train, &inner.test, &negatives, 10).ndcg),
    };
    println!("| row | setting (over the defaults) | best epoch | valid sampled HR@10 | NDCG@10 | fit s |");
    println!("| ---: | --- | ---: | ---: | ---: | ---: |");
    for (row, patch) in grid.into_iter().enumerate() {
        if only.is_some_and(|o| o > row) {
            continue; // `tune_ncf PATH N` starts at row N
        }
        let mut p: NcfParams = patch::patched(&NcfParams::default(), patch)?;
        p.train.progress = false;
        p.train.epochs = 40;
        p.train.early_stopping = Some(EarlyStopping { patience: 5, min_delta: 0.0 });
        let t = std::time::Instant::now();
        let model = p.fit_validated(&inner.train, Some(&validation), &Backend::Flex.device())?;
        let secs = t.elapsed().as_secs_f64();
        let r = evaluate_sampled(&model, &inner.train, &inner.test, &negatives, 10);
        println!("| {row} | `{patch}` | {} | {:.4} | {:.4} | {secs:.1} |", model.best_epoch.unwrap_or(0), r.hr, r.ndcg);
    }
    // Untuned references on the same validation users and negatives: how much easier the
    // validation items are than the test items shows in models with nothing to tune.
    let ease = EaseParams::default().fit(&inner.train)?;
    let pop = PopularityParams.fit(&inner.train)?;
    for (name, m) in [("EASE, λ 500 (reference)", &ease as &dyn RatingPredictor), ("popularity (reference)", &pop)] {
        let r = evaluate_sampled(m, &inner.train, &inner.test, &negatives, 10);
        println!("| – | {name} | – | {:.4} | {:.4} | – |", r.hr, r.ndcg);
    }
    Ok(())
}
