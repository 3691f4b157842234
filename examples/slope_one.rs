//! Slope One (Lemire & Maclachlan 2005, as Surprise's `SlopeOne`) on the bundled dataset.
//!
//! Run: `cargo run --release --example slope_one`
use burnrec::classic::SlopeOneParams;
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = random_split(&data.interactions, 0.2, 42)?;
    let params = SlopeOneParams::default();
    println!("fit needs at most {} MiB", params.memory_estimate(&split.train) >> 20);
    let model = params.fit(&split.train)?;
    let r = evaluate_ratings(&model, &split.test, split.train.rating_range()).expect("non-empty test");
    println!("SlopeOne: test RMSE {:.4}, MAE {:.4} ({} item pairs stored)", r.rmse, r.mae, model.n_stored_pairs());

    // dev(i, j): how much higher item i is rated than item j by the users who rated both.
    let counts = split.train.item_counts();
    let mut by_count: Vec<u32> = (0..counts.len() as u32).collect();
    by_count.sort_by_key(|&i| std::cmp::Reverse(counts[i as usize]));
    let (a, b) = (by_count[0], by_count[1]);
    if let Some(d) = model.deviation(a, b) {
        let title = |i| data.item_title(i).unwrap_or("?");
        println!("dev({}, {}) = {d:+.3} stars", title(a), title(b));
    }
    Ok(())
}
