//! EASE (Steck 2019), a closed-form item × item linear model, on the bundled dataset:
//! leave-one-out, full ranking. Prints the memory the dense fit needs before fitting.
//!
//! Run: `cargo run --release --example ease`
use burnrec::classic::EaseParams;
use burnrec::data::split::leave_one_out;
use burnrec::eval::evaluate_full;
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = leave_one_out(&data.interactions, &data.items)?;
    let params = EaseParams::default();
    let mib = params.memory_estimate(&split.train) as f64 / (1u64 << 20) as f64;
    println!("EASE needs about {mib:.0} MiB at the peak (limit {} MiB)", params.memory_limit_mib);
    let start = std::time::Instant::now();
    let model = params.fit(&split.train)?;
    let fit_s = start.elapsed().as_secs_f64();
    let r = evaluate_full(&model, &split.train, &split.test, 10, 256);
    println!(
        "EASE (lambda {}, {} items): HR@10 {:.4}, NDCG@10 {:.4} over {} users (fit {fit_s:.2} s)",
        params.lambda,
        model.items.len(),
        r.hr,
        r.ndcg,
        r.users
    );
    Ok(())
}
