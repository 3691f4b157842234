//! Surprise's neighbourhood models (KNNBasic, KNNWithMeans, KNNWithZScore, KNNBaseline) on the
//! bundled dataset, user- and item-based, and an item's nearest neighbours by title.
//!
//! Run: `cargo run --release --example knn`
use burnrec::classic::{KnnKind, KnnParams, Similarity, SimilarityName};
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = random_split(&data.interactions, 0.2, 42)?;
    let range = split.train.rating_range();

    // Surprise's defaults: k = 40, min_k = 1, MSD similarity, user-based.
    for kind in [KnnKind::Basic, KnnKind::WithMeans, KnnKind::WithZScore, KnnKind::Baseline] {
        let params = KnnParams::new(kind);
        let model = params.fit(&split.train)?;
        let r = evaluate_ratings(&model, &split.test, range).expect("non-empty test");
        println!("{kind:?} (user-based, msd): test RMSE {:.4}, MAE {:.4}", r.rmse, r.mae);
    }

    // Koren's recommended setting: item-based KNNBaseline with the shrunk pearson_baseline.
    let params = KnnParams {
        kind: KnnKind::Baseline,
        sim: Similarity { name: SimilarityName::PearsonBaseline, user_based: false, ..Default::default() },
        ..Default::default()
    };
    println!("item-based fit needs at most {} MiB", params.memory_estimate(&split.train) >> 20);
    let model = params.fit(&split.train)?;
    let r = evaluate_ratings(&model, &split.test, range).expect("non-empty test");
    println!("Baseline (item-based, pearson_baseline): test RMSE {:.4}, MAE {:.4}", r.rmse, r.mae);

    // The most-rated movie's nearest neighbours (rows are items in an item-based model).
    let counts = split.train.item_counts();
    let item = (0..counts.len()).max_by_key(|&i| counts[i]).expect("items") as u32;
    let (idx, sim) = model.neighbours(item);
    let mut near: Vec<(u32, f32)> = idx.iter().copied().zip(sim.iter().copied()).collect();
    near.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("most similar to {}:", data.item_title(item).unwrap_or("?"));
    for &(j, s) in near.iter().take(5) {
        println!("  {s:.3}  {}", data.item_title(j).unwrap_or("?"));
    }
    Ok(())
}
