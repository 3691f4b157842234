//! Biased MF by SGD ("SVD", Surprise defaults) on the bundled dataset.
//!
//! Run: `cargo run --release --example svd`
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = random_split(&data.interactions, 0.2, 42)?;
    let model = SvdParams::default().fit(&split.train)?;
    let r = evaluate_ratings(&model, &split.test, split.train.rating_range()).expect("non-empty test");
    println!("SVD (100 factors, 20 epochs): test RMSE {:.4}, MAE {:.4}", r.rmse, r.mae);
    Ok(())
}
