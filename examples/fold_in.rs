//! Fold-in: recommending to a user who is not in the training data, from the items of their
//! history, with the item factors of a trained implicit ALS kept fixed (Hu, Koren & Volinsky
//! 2008: one ALS user solve, what implicit's `recalculate_user` does; `burnrec recommend
//! --history` and `POST /recommend` use the same code). Each training user's own history is
//! folded in and their held-out item (leave-one-out) ranked with the folded-in vector and with
//! the trained one: the same hit rate.
//!
//! Run: `cargo run --release --example fold_in`
use burnrec::classic::AlsParams;
use burnrec::classic::als::FoldIn;
use burnrec::data::split::leave_one_out;
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = leave_one_out(&data.interactions, &data.items)?;
    let params = AlsParams { factors: 32, ..Default::default() };
    let model = params.fit(&split.train)?;
    let k = model.factors;
    // The item matrix and the fold-in solver (YᵀY + λI computed once), with ALS's own λ and α.
    let fold = FoldIn::new(&model.item_factors, k, params.regularization, params.alpha);
    let mut seen: Vec<Vec<u32>> = vec![Vec::new(); data.n_users()];
    for r in split.train.iter() {
        seen[r.user as usize].push(r.item);
    }
    let top10 = |x: &[f32], exclude: &[u32]| -> Vec<u32> {
        let mut s: Vec<(u32, f32)> = model
            .item_factors
            .chunks_exact(k)
            .enumerate()
            .filter(|(i, _)| !exclude.contains(&(*i as u32)))
            .map(|(i, y)| (i as u32, y.iter().zip(x).map(|(a, b)| a * b).sum()))
            .collect();
        s.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        s.into_iter().take(10).map(|p| p.0).collect()
    };
    let (mut trained, mut folded) = (0, 0);
    for r in split.test.iter() {
        let u = r.user as usize;
        let x_trained = &model.user_factors[u * k..(u + 1) * k];
        let x_folded = fold.solve(&model.item_factors, &seen[u]);
        trained += usize::from(top10(x_trained, &seen[u]).contains(&r.item));
        folded += usize::from(top10(&x_folded, &seen[u]).contains(&r.item));
    }
    let n = split.test.len() as f64;
    println!("HR@10 over {} users: trained vectors {:.4}, folded in from the history {:.4}", split.test.len(), trained as f64 / n, folded as f64 / n);
    // A brand-new user who liked three Star Wars films.
    let history: Vec<u32> = ["260", "1196", "1210"].iter().filter_map(|id| data.items.index(id)).collect();
    let x = fold.solve(&model.item_factors, &history);
    println!("a new user with Star Wars IV, V and VI:");
    for i in top10(&x, &history) {
        println!("  {}", data.item_title(i).unwrap_or("?"));
    }
    Ok(())
}
