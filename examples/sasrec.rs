//! SASRec — self-attentive sequential recommendation (Kang & McAuley, ICDM 2018) with
//! RecBole's defaults (hidden 64, 2 blocks, 2 heads, max_len 50, dropout 0.5, full-softmax
//! cross-entropy, Adam 1e-3, 128 users a step) on the bundled dataset: each user's latest
//! interaction held out (leave-one-out), their second-latest the validation item for early
//! stopping, full ranking beside popularity; then next items for an ordered history.
//!
//! Run: `cargo run --release --example sasrec -- [flex|ndarray|wgpu] [epochs]`
use burnrec::data::sequence::UserSequences;
use burnrec::data::split::leave_one_out;
use burnrec::model::{EarlyStopping, SasRecParams, Validation};
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let backend: Backend = std::env::args().nth(1).unwrap_or_else(|| "flex".into()).parse()?;
    let epochs: usize = std::env::args().nth(2).map_or(Ok(100), |e| e.parse())?;
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = leave_one_out(&data.interactions, &data.items)?;
    // Validation: each user's latest *training* interaction (the test item never looked at).
    let inner = leave_one_out(&split.train, &data.items)?;
    let seqs = UserSequences::from_interactions(&inner.train, &data.items)?;
    let pop = PopularityParams.fit(&split.train)?;
    let r = evaluate_full(&pop, &split.train, &split.test, 10, 256);
    println!("popularity: HR@10 {:.4}, NDCG@10 {:.4}", r.hr, r.ndcg);

    let mut params = SasRecParams::default();
    params.train.epochs = epochs;
    params.train.progress = false;
    params.train.early_stopping = Some(EarlyStopping { patience: 10, min_delta: 0.0 });
    let (fit_train, valid) = (&inner.train, &inner.test);
    let validation = Validation {
        name: "ndcg@10".into(),
        higher_is_better: true,
        score: Box::new(|m: &dyn RatingPredictor| evaluate_full(m, fit_train, valid, 10, 256).ndcg),
    };
    let model = params.fit(&inner.train, &seqs, Some(&validation), &backend.device())?;
    // The model scores each user from the sequence it was fitted on (without the validation
    // item); the test item is the one after it.
    let r = evaluate_full(&model, &split.train, &split.test, 10, 256);
    let secs: f64 = model.history.iter().map(|e| e.seconds).sum();
    println!(
        "SASRec on {backend}: HR@10 {:.4}, NDCG@10 {:.4}; kept epoch {:?} of {}; {:.2} s/epoch",
        r.hr,
        r.ndcg,
        model.best_epoch,
        model.history.len(),
        secs / model.history.len() as f64
    );

    // A new user, known by an ordered history (oldest first): Toy Story, then Jumanji, then
    // Heat (raw ids 1, 2, 6).
    let history: Vec<u32> = ["1", "2", "6"].iter().filter_map(|raw| data.items.index(raw)).collect();
    let scores = model.history_scores(&history).expect("SASRec folds in an ordered history");
    let mut ranked: Vec<(u32, f32)> = scores.into_iter().enumerate().map(|(i, s)| (i as u32, s)).filter(|(i, _)| !history.contains(i)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (i, s) in ranked.iter().take(5) {
        println!("  {:>8.3}  {}", s, data.item_title(*i).unwrap_or("?"));
    }
    Ok(())
}
