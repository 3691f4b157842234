//! BaselineOnly (user + item biases, Koren 2010) on the bundled dataset, fitted by ALS
//! (Surprise's default) and by SGD, with the highest-bias movies by title.
//!
//! Run: `cargo run --release --example baseline_only`
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = random_split(&data.interactions, 0.2, 42)?;
    let model = BaselineParams::default().fit(&split.train)?;
    let r = evaluate_ratings(&model, &split.test, split.train.rating_range()).expect("non-empty test");
    println!("BaselineOnly (ALS, 10 epochs, reg_u 15, reg_i 10): test RMSE {:.4}, MAE {:.4}", r.rmse, r.mae);
    let sgd = BaselineSgdParams::default().fit(&split.train)?;
    let r = evaluate_ratings(&sgd, &split.test, split.train.rating_range()).expect("non-empty test");
    println!("BaselineOnly (SGD, 20 epochs, lr 0.005, reg 0.02): test RMSE {:.4}, MAE {:.4}", r.rmse, r.mae);
    let mut items: Vec<u32> = (0..data.n_items() as u32).collect();
    items.sort_by(|&a, &b| model.bi[b as usize].total_cmp(&model.bi[a as usize]));
    for &i in items.iter().take(5) {
        println!("  b_i = {:+.3}  {}", model.bi[i as usize], data.item_title(i).unwrap_or("?"));
    }
    Ok(())
}
