//! NormalPredictor (a rating drawn from N(μ, σ²) of the training ratings, as Surprise's) on
//! the bundled dataset: the chance level every model must beat.
//!
//! Run: `cargo run --release --example normal_predictor`
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = random_split(&data.interactions, 0.2, 42)?;
    let model = NormalPredictorParams { seed: 42 }.fit(&split.train)?;
    println!("training ratings: μ = {:.3}, σ = {:.3}", model.mu, model.sigma);
    let r = evaluate_ratings(&model, &split.test, split.train.rating_range()).expect("non-empty test");
    println!("NormalPredictor: test RMSE {:.4}, MAE {:.4}", r.rmse, r.mae);
    Ok(())
}
