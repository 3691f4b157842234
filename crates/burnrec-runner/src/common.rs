//! What several commands share that is neither a model (`burnrec_zoo`) nor data
//! (`burnrec_data`): the checks of the training flags and the held-out metrics' columns.

use anyhow::bail;
use burnrec_data::{Feedback, Interactions, RatingPredictor};
use burnrec_eval::{RankingReport, evaluate_full, evaluate_ratings};

/// Users scored per block in held-out full ranking (`train`, `evaluate`).
pub const BLOCK_USERS: usize = 256;

/// The checks of the neural-training flags `compare` and `train` share: `--epochs` and
/// `--patience` at least 1, `--valid-ratio` in (0, 1).
///
/// # Errors
/// Naming the flag and what it expects.
pub fn check_training_flags(epochs: Option<usize>, patience: Option<usize>, valid_ratio: Option<f64>) -> anyhow::Result<()> {
    if epochs == Some(0) || patience == Some(0) {
        bail!("--{} must be at least 1", if epochs == Some(0) { "epochs" } else { "patience" });
    }
    if let Some(v) = valid_ratio
        && !(v > 0.0 && v < 1.0)
    {
        bail!("--valid-ratio {v}: expected a fraction of the training part, in (0, 1)");
    }
    Ok(())
}

/// The columns of a ranking report: `{prefix}hr@K`, `{prefix}ndcg@K` and, for full ranking,
/// precision, recall, MAP, MRR, AUC, coverage and novelty.
pub fn push_ranking(values: &mut Vec<(String, f64)>, prefix: &str, r: &RankingReport, full: bool) {
    let k = r.k;
    values.push((format!("{prefix}hr@{k}"), r.hr));
    values.push((format!("{prefix}ndcg@{k}"), r.ndcg));
    if full {
        values.push((format!("precision@{k}"), r.precision));
        values.push((format!("recall@{k}"), r.recall));
        values.push((format!("map@{k}"), r.map));
        values.push((format!("mrr@{k}"), r.mrr));
        values.push(("auc".to_string(), r.auc));
        values.push((format!("coverage@{k}"), r.coverage));
        values.push((format!("novelty@{k}"), r.novelty));
    }
}

/// Held-out metrics of `train` and `evaluate`: RMSE/MAE (explicit models, clipped to the
/// dataset's rating scale `clip`) and full ranking at `k` (every model; `train`'s items are
/// excluded from each user's candidates).
pub fn holdout_metrics(model: &dyn RatingPredictor, train: &Interactions, test: &Interactions, k: usize, clip: (f32, f32)) -> Vec<(String, f64)> {
    let mut values = Vec::new();
    if test.is_empty() {
        return values;
    }
    if model.feedback() == Feedback::Explicit
        && let Some(r) = evaluate_ratings(model, test, Some(clip))
    {
        values.push(("rmse".to_string(), r.rmse));
        values.push(("mae".to_string(), r.mae));
    }
    let r = evaluate_full(model, train, test, k, BLOCK_USERS);
    push_ranking(&mut values, "", &r, true);
    values
}
