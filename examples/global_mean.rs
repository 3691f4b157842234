//! Global mean baseline on the bundled MovieLens latest-small dataset.
//!
//! Run: `cargo run --release --example global_mean`
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = random_split(&data.interactions, 0.2, 42)?;
    let model = GlobalMeanParams.fit(&split.train)?;
    let r = evaluate_ratings(&model, &split.test, split.train.rating_range()).expect("non-empty test");
    println!("global mean μ = {:.4}; test RMSE {:.4}, MAE {:.4}", model.mu, r.rmse, r.mae);
    Ok(())
}
