//! NMF by multiplicative updates (Luo et al. 2014; Surprise's defaults: 15 factors, 50 epochs)
//! on the bundled dataset; the factors are non-negative, so each is a "part" of a taste.
//!
//! Run: `cargo run --release --example nmf`
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = random_split(&data.interactions, 0.2, 42)?;
    let model = NmfParams::default().fit(&split.train)?;
    let r = evaluate_ratings(&model, &split.test, split.train.rating_range()).expect("non-empty test");
    println!("NMF: test RMSE {:.4}, MAE {:.4}", r.rmse, r.mae);
    let k = model.n_factors;
    // The movies with the largest weight on factor 0.
    let mut items: Vec<u32> = (0..data.n_items() as u32).collect();
    items.sort_by(|&a, &b| model.q[b as usize * k].total_cmp(&model.q[a as usize * k]));
    println!("factor 0, top movies:");
    for &i in items.iter().take(5) {
        println!("  {:.3}  {}", model.q[i as usize * k], data.item_title(i).unwrap_or("?"));
    }
    Ok(())
}
