//! Dot-product MF for implicit feedback (`p_uᵀ q_i + b_i`), trained with BPR (Rendle,
//! Freudenthaler, Gantner & Schmidt-Thieme, UAI 2009), with BCE and sampled negatives, or with
//! the sampled softmax (Covington et al. 2016) by the one Burn training loop, on the bundled dataset as implicit feedback, leave-one-out, full
//! ranking, beside popularity. Early stopping on the validation NDCG@10 (each user's latest
//! *training* interaction), keeping the best epoch.
//!
//! Run: `cargo run --release --example mf_implicit -- [flex|ndarray|wgpu]`
use burnrec::data::split::leave_one_out;
use burnrec::model::{EarlyStopping, ImplicitObjective, NcfKind, NcfParams, Validation};
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let backend: Backend = std::env::args().nth(1).unwrap_or_else(|| "flex".into()).parse()?;
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = leave_one_out(&data.interactions, &data.items)?;
    // Validation: leave-one-out again inside the training part; the test part is not used.
    let inner = leave_one_out(&split.train, &data.items)?;
    let pop = PopularityParams.fit(&split.train)?;
    let r = evaluate_full(&pop, &split.train, &split.test, 10, 256);
    println!("popularity: HR@10 {:.4}, NDCG@10 {:.4}", r.hr, r.ndcg);
    let validation = Validation {
        name: "ndcg@10".into(),
        higher_is_better: true,
        score: Box::new(|m: &dyn RatingPredictor| evaluate_full(m, &inner.train, &inner.test, 10, 256).ndcg),
    };
    for objective in [ImplicitObjective::Bpr, ImplicitObjective::Bce, ImplicitObjective::Softmax] {
        let mut p = NcfParams { kind: NcfKind::Mf, factors: 64, objective, ..Default::default() };
        p.train.batch_size = 1024;
        p.train.lr = 0.01;
        p.train.progress = false;
        p.train.epochs = 30;
        p.train.early_stopping = Some(EarlyStopping { patience: 3, min_delta: 0.0 });
        // Choose the number of epochs on validation, then refit on the whole training part.
        let probe = p.fit_validated(&inner.train, Some(&validation), &backend.device())?;
        p.train.epochs = probe.best_epoch.unwrap_or(p.train.epochs);
        p.train.early_stopping = None;
        let model = p.fit(&split.train, &backend.device())?;
        let r = evaluate_full(&model, &split.train, &split.test, 10, 256);
        println!("mf ({objective:?}, {} epochs chosen on validation) on {backend}: HR@10 {:.4}, NDCG@10 {:.4}", p.train.epochs, r.hr, r.ndcg);
    }
    Ok(())
}
