//! BPR matrix factorisation (Rendle et al. 2009, as implicit trains it) on the bundled
//! dataset, leave-one-out, full ranking; then the top 5 for the first user, with titles.
//!
//! Run: `cargo run --release --example bpr`
use burnrec::classic::BprParams;
use burnrec::data::split::leave_one_out;
use burnrec::eval::evaluate_full;
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = leave_one_out(&data.interactions, &data.items)?;
    let params = BprParams { factors: 64, ..Default::default() };
    let start = std::time::Instant::now();
    let model = params.fit(&split.train)?;
    let fit_s = start.elapsed().as_secs_f64();
    let r = evaluate_full(&model, &split.train, &split.test, 10, 256);
    println!(
        "BPR ({} factors, {} epochs, lr {}): HR@10 {:.4}, NDCG@10 {:.4} over {} users (fit {fit_s:.2} s)",
        params.factors, params.iterations, params.learning_rate, r.hr, r.ndcg, r.users
    );

    // Recommend for user index 0 among the items it has not interacted with in training.
    let seen: std::collections::HashSet<u32> = split.train.iter().filter(|x| x.user == 0).map(|x| x.item).collect();
    let candidates: Vec<u32> = (0..split.train.n_items() as u32).filter(|i| !seen.contains(i)).collect();
    for (item, score) in model.recommend(0, &candidates, 5) {
        let title = data.item_titles.get(item as usize).cloned().flatten().unwrap_or_default();
        println!("  {score:7.3}  {title}");
    }
    Ok(())
}
