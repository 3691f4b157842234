//! Chooses NeuMF's settings on a validation split carved from the *training* part of ML-100K
//! leave-one-out (each user's latest training interaction, ties to the larger item id), scored
//! by the sampled protocol (held-out item + 99 seeded negatives the user never interacted with
//! in training); the test part is never looked at. Prints one line per setting.
//!
//! Run: `cargo run --release --example tune_ncf -- PATH/TO/ml-100k`
use std::collections::HashMap;

use burnrec::data::sampling::{NegativeSampler, Shortfall};
use burnrec::data::split::leave_one_out;
use burnrec::eval::evaluate_sampled;
use burnrec::model::{NcfKind, NcfParams};
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
    let grid: [(usize, Vec<usize>, usize, bool); 6] = [
        (8, vec![64, 32, 16, 8], 4, false),
        (16, vec![64, 32, 16, 8], 4, false),
        (32, vec![64, 32, 16, 8], 4, false),
        (8, vec![64, 32, 16, 8], 4, true),
        (16, vec![128, 64, 32, 16], 4, true),
        (16, vec![64, 32, 16, 8], 8, false),
    ];
    println!("factors  layers  negatives  pretrain  valid sampled HR@10  NDCG@10  fit s");
    for (factors, layers, neg, pretrain) in grid {
        let mut p = NcfParams { kind: NcfKind::NeuMf, factors, layers: layers.clone(), negatives: neg, pretrain, ..Default::default() };
        p.train.progress = false;
        let t = std::time::Instant::now();
        let model = p.fit(&inner.train, &Backend::Flex.device())?;
        let secs = t.elapsed().as_secs_f64();
        let r = evaluate_sampled(&model, &inner.train, &inner.test, &negatives, 10);
        println!("{factors:>7}  {layers:?}  {neg:>9}  {pretrain:>8}  {:>19.4}  {:>7.4}  {secs:.1}", r.hr, r.ndcg);
    }
    Ok(())
}
