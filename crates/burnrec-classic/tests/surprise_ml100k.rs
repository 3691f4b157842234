//! Accuracy against Surprise 1.1.5 on the official ML-100K folds u1…u5, default parameters.
//!
//! Reference values: `../shared/peers/RESULTS.md` (mean RMSE over the five folds, measured on
//! this project's machine). Needs ML-100K, which may not be redistributed: it is read from
//! `$BURNREC_ML100K` or `../shared/datasets/ml-100k`, and the test is skipped with a message
//! when absent.

mod common;

use std::path::Path;
use std::time::Instant;

use burnrec_classic::{BaselineParams, BaselineSgdParams, Fit, NmfParams, SvdParams, SvdPpParams};
use burnrec_data::{LoadOptions, RatingPredictor, split::ml100k_official};
use burnrec_eval::evaluate_ratings;

/// Mean RMSE over u1…u5 and mean fit seconds.
fn five_folds(dir: &Path, fit: &dyn Fn(&burnrec_data::Interactions) -> Box<dyn RatingPredictor>) -> (f64, f64) {
    let (mut rmse, mut secs) = (0.0, 0.0);
    for f in 1..=5 {
        let (_, split) = ml100k_official(dir, &format!("u{f}"), &LoadOptions::default()).unwrap();
        let t = Instant::now();
        let model = fit(&split.train);
        secs += t.elapsed().as_secs_f64();
        rmse += evaluate_ratings(model.as_ref(), &split.test, split.train.rating_range()).unwrap().rmse;
    }
    (rmse / 5.0, secs / 5.0)
}

fn check(name: &str, surprise: f64, fit: &dyn Fn(&burnrec_data::Interactions) -> Box<dyn RatingPredictor>) {
    let Some(dir) = common::ml100k_dir("surprise_ml100k") else { return };
    let (rmse, secs) = five_folds(&dir, fit);
    eprintln!("{name}: mean RMSE {rmse:.4} (Surprise {surprise:.4}), fit {secs:.3} s/fold");
    assert!(rmse <= surprise + 0.003, "{name}: {rmse:.4} > Surprise {surprise:.4} + 0.003");
}

#[test]
fn baseline_only_als() {
    check("BaselineOnly", 0.9457, &|t| Box::new(BaselineParams::default().fit(t).unwrap()));
}

#[test]
fn baseline_only_sgd() {
    // Surprise's BaselineOnly with SGD is not in the peers' table; it must stay close to ALS.
    check("BaselineOnly (SGD)", 0.9457 + 0.01, &|t| Box::new(BaselineSgdParams::default().fit(t).unwrap()));
}

#[test]
fn svd() {
    check("SVD", 0.9380, &|t| Box::new(SvdParams::default().fit(t).unwrap()));
}

#[test]
fn svdpp() {
    check("SVD++", 0.9218, &|t| Box::new(SvdPpParams::default().fit(t).unwrap()));
}

#[test]
fn nmf() {
    check("NMF", 0.9689, &|t| Box::new(NmfParams::default().fit(t).unwrap()));
}
