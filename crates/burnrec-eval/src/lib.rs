//! # burnrec-eval
//!
//! Evaluation written once, against [`RatingPredictor`], for every model.
//!
//! Conventions (stated here, applied everywhere):
//! - Predictions are **clipped to the rating scale** before scoring by default (as Surprise
//!   does); pass `clip: None` to score raw predictions.
//! - Predictions for users or items with no training rating are *kept* in RMSE/MAE (a model
//!   that falls back to the mean pays for it) and *counted* in [`RatingReport`].

#![warn(missing_docs)]

pub mod protocol;
pub mod ranking;

pub use protocol::{RankingReport, UserMetrics, evaluate_full, evaluate_full_among, evaluate_sampled, paired_bootstrap};

use std::time::Instant;

use burnrec_data::{Interactions, RatingPredictor};
use serde::Serialize;

/// Root-mean-square error `sqrt(mean((p - t)²))`, accumulated in `f64`, in rating units.
/// Returns `None` for empty input.
///
/// # Panics
/// If `predicted` and `truth` differ in length.
#[track_caller]
pub fn rmse(predicted: &[f32], truth: &[f32]) -> Option<f64> {
    assert_eq!(predicted.len(), truth.len(), "rmse: predicted and truth differ in length");
    if predicted.is_empty() {
        return None;
    }
    let se: f64 = predicted.iter().zip(truth).map(|(&p, &t)| (f64::from(p) - f64::from(t)).powi(2)).sum();
    Some((se / predicted.len() as f64).sqrt())
}

/// Mean absolute error `mean(|p - t|)`, accumulated in `f64`, in rating units.
/// Returns `None` for empty input.
///
/// # Panics
/// If `predicted` and `truth` differ in length.
#[track_caller]
pub fn mae(predicted: &[f32], truth: &[f32]) -> Option<f64> {
    assert_eq!(predicted.len(), truth.len(), "mae: predicted and truth differ in length");
    if predicted.is_empty() {
        return None;
    }
    let ae: f64 = predicted.iter().zip(truth).map(|(&p, &t)| (f64::from(p) - f64::from(t)).abs()).sum();
    Some(ae / predicted.len() as f64)
}

/// Result of scoring a model on held-out ratings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RatingReport {
    /// Root-mean-square error, rating units.
    pub rmse: f64,
    /// Mean absolute error, rating units.
    pub mae: f64,
    /// Number of test ratings scored.
    pub n: usize,
    /// Test ratings whose user had no training rating (model fell back).
    pub n_unknown_user: usize,
    /// Test ratings whose item had no training rating (model fell back).
    pub n_unknown_item: usize,
    /// Wall-clock seconds spent in `predict_batch`.
    pub predict_s: f64,
}

/// Scores `model` on every rating of `test` with one `predict_batch` call.
///
/// `clip`: `Some((lo, hi))` clamps each prediction into `[lo, hi]` first (the default in the
/// CLI is the training data's rating range); `None` scores raw predictions.
///
/// Returns `None` if `test` is empty.
pub fn evaluate_ratings(model: &dyn RatingPredictor, test: &Interactions, clip: Option<(f32, f32)>) -> Option<RatingReport> {
    let pairs: Vec<(u32, u32)> = test.users().iter().copied().zip(test.items().iter().copied()).collect();
    let truth = test.values();
    let start = Instant::now();
    let preds = model.predict_batch(&pairs);
    let predict_s = start.elapsed().as_secs_f64();
    assert_eq!(preds.len(), pairs.len(), "predict_batch must return one prediction per pair");
    let values: Vec<f32> = preds
        .iter()
        .map(|p| match clip {
            Some((lo, hi)) => p.rating.clamp(lo, hi),
            None => p.rating,
        })
        .collect();
    Some(RatingReport {
        rmse: rmse(&values, truth)?,
        mae: mae(&values, truth)?,
        n: pairs.len(),
        n_unknown_user: preds.iter().filter(|p| !p.known_user).count(),
        n_unknown_item: preds.iter().filter(|p| !p.known_item).count(),
        predict_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnrec_data::{Prediction, Rating};
    use proptest::prelude::*;

    #[test]
    fn hand_computed_rmse_mae() {
        // errors: +1, -2, 0, +0.5 → SE = 1 + 4 + 0 + 0.25 = 5.25; AE = 3.5
        let p = [4.0, 1.0, 3.0, 5.0];
        let t = [3.0, 3.0, 3.0, 4.5];
        assert!((rmse(&p, &t).unwrap() - (5.25f64 / 4.0).sqrt()).abs() < 1e-12);
        assert!((mae(&p, &t).unwrap() - 0.875).abs() < 1e-12);
        assert_eq!(rmse(&[], &[]), None);
        assert_eq!(mae(&[], &[]), None);
    }

    /// Predicts `user + item` and marks user 9 unknown.
    struct Sum;
    impl RatingPredictor for Sum {
        fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
            pairs.iter().map(|&(u, i)| Prediction { rating: (u + i) as f32, known_user: u != 9, known_item: true }).collect()
        }
    }

    #[test]
    fn evaluate_clips_and_counts_fallbacks() {
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        // predictions 1, 9 (→5 when clipped), 10 (→5)
        let test = Interactions::new(vec![r(0, 1, 1.0), r(4, 5, 5.0), r(9, 1, 4.0)], 10, 10).unwrap();
        let clipped = evaluate_ratings(&Sum, &test, Some((1.0, 5.0))).unwrap();
        // errors 0, 0, 1
        assert!((clipped.rmse - (1.0f64 / 3.0).sqrt()).abs() < 1e-9);
        assert!((clipped.mae - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!((clipped.n, clipped.n_unknown_user, clipped.n_unknown_item), (3, 1, 0));
        let raw = evaluate_ratings(&Sum, &test, None).unwrap();
        // errors 0, 4, 6 → RMSE sqrt(52/3), MAE 10/3
        assert!((raw.rmse - (52.0f64 / 3.0).sqrt()).abs() < 1e-9);
        assert!((raw.mae - 10.0 / 3.0).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn mae_le_rmse_and_nonnegative(v in prop::collection::vec((-5.0f32..5.0, -5.0f32..5.0), 1..50)) {
            let (p, t): (Vec<f32>, Vec<f32>) = v.into_iter().unzip();
            let (r, m) = (rmse(&p, &t).unwrap(), mae(&p, &t).unwrap());
            prop_assert!(m >= 0.0);
            prop_assert!(m <= r + 1e-9);
        }
    }
}
