//! Chooses NeuMF's settings on a validation split carved from the *training* part of ML-100K
//! leave-one-out (each user's latest training interaction, ties to the larger item id), scored
//! by the sampled protocol (held-out item + 99 seeded negatives the user never interacted with
//! in training); the test part is never looked at. Prints one line per setting.
//!
//! Run: `cargo run --release --example tune_ncf -- PATH/TO/ml-100k [FIRST_ROW]`
use std::collections::HashMap;

use burnrec::data::sampling::{NegativeSampler, Shortfall};
use burnrec::data::split::leave_one_out;
use burnrec::eval::evaluate_sampled;
use burnrec::model::{NcfKind, NcfParams, OptimizerKind};
use burnrec::prelude::*;
use rand::SeedableRng;

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
    // (factors, layers, negatives, pretrain, NeuMF-stage optimizer and learning rate)
    let adam = (OptimizerKind::Adam, 0.001);
    let grid: [(usize, Vec<usize>, usize, bool, (OptimizerKind, f64)); 8] = [
        (8, vec![64, 32, 16, 8], 4, false, adam),
        (16, vec![64, 32, 16, 8], 4, false, adam),
        (32, vec![64, 32, 16, 8], 4, false, adam),
        (8, vec![64, 32, 16, 8], 4, true, adam),
        (16, vec![128, 64, 32, 16], 4, true, adam),
        (16, vec![64, 32, 16, 8], 8, false, adam),
        (8, vec![64, 32, 16, 8], 4, true, (OptimizerKind::Sgd, 0.001)),
        (8, vec![64, 32, 16, 8], 4, true, (OptimizerKind::Sgd, 0.01)),
    ];
    let only: Option<usize> = std::env::args().nth(2).and_then(|s| s.parse().ok());
    println!("factors  layers  negatives  pretrain  stage-2 optimizer  valid sampled HR@10  NDCG@10  fit s");
    for (row, (factors, layers, neg, pretrain, (optimizer, lr))) in grid.into_iter().enumerate() {
        if only.is_some_and(|o| o > row) {
            continue; // `tune_ncf PATH N` starts at row N
        }
        let mut p = NcfParams { kind: NcfKind::NeuMf, factors, layers: layers.clone(), negatives: neg, pretrain, ..Default::default() };
        p.train.progress = false;
        p.train.optimizer = optimizer;
        p.train.lr = lr;
        let t = std::time::Instant::now();
        let model = p.fit(&inner.train, &Backend::Flex.device())?;
        let secs = t.elapsed().as_secs_f64();
        let r = evaluate_sampled(&model, &inner.train, &inner.test, &negatives, 10);
        let opt = format!("{optimizer:?} {lr}");
        println!("{factors:>7}  {layers:?}  {neg:>9}  {pretrain:>8}  {opt:>17}  {:>19.4}  {:>7.4}  {secs:.1}", r.hr, r.ndcg);
    }
    Ok(())
}
