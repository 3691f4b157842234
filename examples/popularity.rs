//! Popularity ("TopPop", Cremonesi et al. 2010) on the bundled dataset, leave-one-out, full
//! ranking: the top-N floor every personalised model must beat.
//!
//! Run: `cargo run --release --example popularity`
use burnrec::data::split::leave_one_out;
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = leave_one_out(&data.interactions, &data.items)?;
    let model = PopularityParams.fit(&split.train)?;
    let r = evaluate_full(&model, &split.train, &split.test, 10, 256);
    println!("Popularity, leave-one-out, full ranking: HR@10 {:.4}, NDCG@10 {:.4}", r.hr, r.ndcg);
    let all: Vec<u32> = (0..data.n_items() as u32).collect();
    for (i, n) in model.recommend(0, &all, 5) {
        println!("  {n:>4} ratings  {}", data.item_title(i).unwrap_or("?"));
    }
    Ok(())
}
