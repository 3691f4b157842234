//! GRU4Rec — a recurrent network over each user's ordered history (Hidasi et al., ICLR 2016)
//! with RecBole's defaults (embedding 64, GRU state 128, dropout 0.3, full-softmax
//! cross-entropy) on the bundled dataset, leave-one-out, a fixed number of epochs; then how
//! the order of a history changes what comes next.
//!
//! Run: `cargo run --release --example gru4rec -- [flex|ndarray|wgpu] [epochs]`
use burnrec::data::sequence::UserSequences;
use burnrec::data::split::leave_one_out;
use burnrec::data::top_k;
use burnrec::model::Gru4RecParams;
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let backend: Backend = args.next().unwrap_or_else(|| "flex".into()).parse()?;
    let mut params = Gru4RecParams::default();
    params.train.epochs = args.next().map_or(Ok(30), |e| e.parse())?;
    params.train.progress = false;

    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = leave_one_out(&data.interactions, &data.items)?;
    let seqs = UserSequences::from_interactions(&split.train, &data.items)?;
    let model = params.fit(&split.train, &seqs, None, &backend.device())?;
    let report = evaluate_full(&model, &split.train, &split.test, 10, 256);
    let last = model.history.last().expect("at least one epoch");
    println!("GRU4Rec on {backend}, {} epochs: HR@10 {:.4}, NDCG@10 {:.4} (final loss {:.3} nats)", last.epoch, report.hr, report.ndcg, last.train_loss);

    // The same three films in two orders: the latest one weighs most.
    let films: Vec<u32> = ["1", "2", "6"].iter().filter_map(|raw| data.items.index(raw)).collect();
    for order in [films.clone(), films.iter().rev().copied().collect()] {
        let scores = model.history_scores(&order).expect("GRU4Rec folds in an ordered history");
        let best = top_k((0..scores.len() as u32).filter(|i| !order.contains(i)).map(|i| (i, scores[i as usize])).collect(), 3);
        let names: Vec<&str> = order.iter().map(|&i| data.item_title(i).unwrap_or("?")).collect();
        println!("after {}:", names.join(" → "));
        best.iter().for_each(|(i, s)| println!("  {s:>8.3}  {}", data.item_title(*i).unwrap_or("?")));
    }
    Ok(())
}
