//! Item-based k-NN for top-N (Sarwar et al. 2001) with cosine and BM25 weighting, as
//! implicit's CosineRecommender and BM25Recommender, on the bundled dataset: leave-one-out,
//! full ranking.
//!
//! Run: `cargo run --release --example item_knn`
use burnrec::classic::{ItemKnnParams, ItemKnnWeighting};
use burnrec::data::split::leave_one_out;
use burnrec::eval::evaluate_full;
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = leave_one_out(&data.interactions, &data.items)?;
    for (name, weighting) in [("cosine", ItemKnnWeighting::Cosine), ("BM25", ItemKnnWeighting::bm25()), ("co-occurrence", ItemKnnWeighting::None)] {
        let params = ItemKnnParams { k: 20, weighting, ..Default::default() };
        let start = std::time::Instant::now();
        let model = params.fit(&split.train)?;
        let fit_s = start.elapsed().as_secs_f64();
        let r = evaluate_full(&model, &split.train, &split.test, 10, 256);
        println!("item-KNN {name:<13} (k = 20): HR@10 {:.4}, NDCG@10 {:.4} (fit {fit_s:.2} s)", r.hr, r.ndcg);
    }
    Ok(())
}
