//! Implicit-feedback ALS (Hu, Koren & Volinsky 2008, conjugate-gradient solver as in implicit)
//! on the bundled dataset: every rating counts as an interaction, each user's latest one is
//! held out (leave-one-out), and it is ranked among all items the user has not interacted with.
//!
//! Run: `cargo run --release --example als`
use burnrec::classic::AlsParams;
use burnrec::data::split::leave_one_out;
use burnrec::eval::evaluate_full;
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = leave_one_out(&data.interactions, &data.items)?;
    let params = AlsParams { factors: 64, regularization: 0.05, ..Default::default() };
    let start = std::time::Instant::now();
    let model = params.fit(&split.train)?;
    let fit_s = start.elapsed().as_secs_f64();
    let r = evaluate_full(&model, &split.train, &split.test, 10, 256);
    println!(
        "ALS ({} factors, {} iterations, alpha {}): HR@10 {:.4}, NDCG@10 {:.4} over {} users (fit {fit_s:.2} s)",
        params.factors, params.iterations, params.alpha, r.hr, r.ndcg, r.users
    );
    Ok(())
}
