//! The feature-aware deep hybrid (NeuMF over id + side-feature embeddings, with id dropout)
//! in an item cold-start experiment: 10 % of the items leave training entirely, and every
//! user's held-out interactions are ranked among those cold items only. Popularity knows
//! nothing about them (every cold item has zero training interactions); content-based KNN on
//! genres and the deep hybrid score them from their features.
//!
//! Data: ML-100K (genres + age, gender, occupation) when a path is given, else the bundled
//! ml-latest-small (genres only).
//!
//! Run: `cargo run --release --example deep_hybrid -- [PATH/TO/ml-100k]`
use burnrec::classic::ContentKnnParams;
use burnrec::data::split::cold_item_split;
use burnrec::eval::evaluate_full_among;
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spec = match std::env::args().nth(1) {
        Some(dir) => DatasetSpec::Ml100k(dir.into()),
        None => DatasetSpec::Bundled,
    };
    let data = spec.load(&LoadOptions::default())?;
    let (split, cold) = cold_item_split(&data.interactions, 0.1, 42)?;
    println!("{}: {} cold items, {} test interactions", data.name, cold.len(), split.test.len());
    let show = |name: &str, m: &dyn RatingPredictor| {
        let r = evaluate_full_among(m, &split.train, &split.test, &cold, 10, 256);
        println!("{name:<12} HR@10 {:.4}  NDCG@10 {:.4}", r.hr, r.ndcg);
    };
    // Random scores: the baseline that truly knows nothing about cold items.
    show("random", &NormalPredictorParams::default().fit(&split.train)?);
    // Popularity ties on every cold item: its list is the evaluation's tie order, a fixed
    // pseudo-random order of the items — so it scores like random scores (docs/models.md).
    show("popularity", &PopularityParams.fit(&split.train)?);
    let genres = data.item_features.as_ref().ok_or("the dataset has no item features")?;
    show("content", &ContentKnnParams::default().fit(&split.train, genres)?);
    let mut p = DeepParams::default();
    p.train.progress = false;
    let deep = p.fit(&split.train, data.user_features.as_ref(), data.item_features.as_ref(), &Backend::Flex.device())?;
    show("deep-hybrid", &deep);
    Ok(())
}
