//! SVD++ (Koren 2008; Surprise's defaults: 20 factors, 20 epochs, lr 0.007, reg 0.02) against
//! biased MF on the bundled dataset.
//!
//! Run: `cargo run --release --example svdpp`
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = random_split(&data.interactions, 0.2, 42)?;
    let range = split.train.rating_range();
    let t = std::time::Instant::now();
    let svdpp = SvdPpParams::default().fit(&split.train)?;
    let secs = t.elapsed().as_secs_f64();
    let r = evaluate_ratings(&svdpp, &split.test, range).expect("non-empty test");
    println!("SVD++: test RMSE {:.4}, MAE {:.4} (fit {secs:.2} s)", r.rmse, r.mae);
    let svd = SvdParams::default().fit(&split.train)?;
    let r = evaluate_ratings(&svd, &split.test, range).expect("non-empty test");
    println!("SVD:   test RMSE {:.4}, MAE {:.4}", r.rmse, r.mae);
    Ok(())
}
