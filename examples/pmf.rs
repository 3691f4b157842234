//! Unbiased MF ("PMF", Salakhutdinov & Mnih 2008; Surprise's `SVD(biased=False)`) on the
//! bundled dataset, beside biased MF: what the biases are worth.
//!
//! Run: `cargo run --release --example pmf`
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = random_split(&data.interactions, 0.2, 42)?;
    let range = split.train.rating_range();
    for biased in [false, true] {
        let model = SvdParams { biased, ..Default::default() }.fit(&split.train)?;
        let r = evaluate_ratings(&model, &split.test, range).expect("non-empty test");
        println!("{}: test RMSE {:.4}, MAE {:.4}", if biased { "biased MF (SVD)" } else { "PMF (unbiased)" }, r.rmse, r.mae);
    }
    Ok(())
}
