//! Content-based recommendation from genres and tags (TF-IDF item KNN, Lops et al. 2011) and a
//! weighted hybrid with ALS (Burke 2002) whose weight is chosen on a validation part, on the
//! bundled dataset, leave-one-out, full ranking. Also shows "more like this" for a movie.
//!
//! Run: `cargo run --release --example content_hybrid`
use burnrec::classic::{ClassicModel, ContentKnnParams, Hybrid};
use burnrec::data::split::leave_one_out;
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let features = data.item_features.as_ref().ok_or("the bundled dataset has genres and tags")?;
    let split = leave_one_out(&data.interactions, &data.items)?;
    let content = ContentKnnParams::default().fit(&split.train, features)?;
    let toy_story = data.items.index("1").ok_or("movie 1")?;
    println!("more like {}:", data.item_title(toy_story).unwrap_or("?"));
    for (i, s) in content.similar(toy_story).into_iter().take(5) {
        println!("  {s:.3}  {}", data.item_title(i).unwrap_or("?"));
    }
    // Choose the weight on ALS by NDCG@10 on a validation part carved from the training part.
    let inner = random_split(&split.train, 0.1, 1)?;
    let als = AlsParams { factors: 64, regularization: 0.05, ..Default::default() };
    let probe = Hybrid::new(
        ClassicModel::Als(als.fit(&inner.train)?),
        ClassicModel::Content(ContentKnnParams::default().fit(&inner.train, features)?),
        0.5,
        data.n_users(),
        data.n_items(),
    )?;
    let grid: Vec<f32> = (0..=10).map(|k| k as f32 / 10.0).collect();
    let (chosen, tried) = probe.tune(&grid, |h| evaluate_full(h, &inner.train, &inner.test, 10, 256).ndcg)?;
    println!("validation NDCG@10 by weight on ALS: {tried:.3?} → {}", chosen.weight);
    let hybrid = Hybrid::new(ClassicModel::Als(als.fit(&split.train)?), ClassicModel::Content(content.clone()), chosen.weight, data.n_users(), data.n_items())?;
    let als_full = als.fit(&split.train)?;
    for (name, m) in [("content", &content as &dyn RatingPredictor), ("ALS", &als_full), ("hybrid", &hybrid)] {
        let r = evaluate_full(m, &split.train, &split.test, 10, 256);
        println!("{name:>8}: HR@10 {:.4}, NDCG@10 {:.4}", r.hr, r.ndcg);
    }
    Ok(())
}
