//! A weighted hybrid of two models (Burke, "Hybrid Recommender Systems: Survey and
//! Experiments", UMUAI 12(4), 2002): their standardised scores blended, the weight chosen on
//! validation data by [`Hybrid::tune`]. burnrec blends ALS with the content model.
//!
//! The hybrid is a combinator over the registry's own enum: its parts are
//! [`ClassicModel`]s, and [`ClassicModel::Hybrid`] holds a hybrid — a recursive type, the one
//! place where this module and [`crate::registry`] refer to each other.

use burnrec_data::{Feedback, Prediction, RatingPredictor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{FitError, ensure};
use crate::registry::ClassicModel;

/// Mean and standard deviation of a model's scores over seeded random (user, item) pairs,
/// used to put two models' scores on one scale.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreScale {
    /// Mean score.
    pub mean: f32,
    /// Standard deviation (1 if the scores are constant).
    pub std: f32,
}

impl ScoreScale {
    /// Measures `model` on `n` pairs drawn uniformly from `[n_users] × [n_items]` with `seed`.
    pub fn measure(model: &dyn RatingPredictor, n_users: usize, n_items: usize, n: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let pairs: Vec<(u32, u32)> = (0..n).map(|_| (rng.random_range(0..n_users.max(1) as u32), rng.random_range(0..n_items.max(1) as u32))).collect();
        let s: Vec<f64> = model.predict_batch(&pairs).iter().map(|p| f64::from(p.rating)).collect();
        let mean = s.iter().sum::<f64>() / s.len().max(1) as f64;
        let var = s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / s.len().max(1) as f64;
        let std = if var > 0.0 { var.sqrt() } else { 1.0 };
        Self { mean: mean as f32, std: std as f32 }
    }
}

/// A weighted hybrid: `score = w · (s_a − m_a)/σ_a + (1 − w) · (s_b − m_b)/σ_b`, each model's
/// scores standardised by its [`ScoreScale`] so the weight means the same whatever the units
/// (a rating, an ALS dot product, a sum of cosines). Scores are unitless
/// ([`Feedback::Implicit`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hybrid {
    /// First model (typically collaborative filtering).
    pub a: Box<ClassicModel>,
    /// Second model (typically content-based).
    pub b: Box<ClassicModel>,
    /// Scale of `a`'s scores.
    pub scale_a: ScoreScale,
    /// Scale of `b`'s scores.
    pub scale_b: ScoreScale,
    /// Weight `w` of `a`, in `[0, 1]`.
    pub weight: f32,
    /// Read only from model files written before the settings of `a` moved beside the model
    /// ([`crate::ModelFile::params`] holds them now); [`crate::ModelFile::load`] moves them there.
    #[serde(default, rename = "a_params", skip_serializing)]
    pub(crate) legacy_a_params: Option<crate::registry::ClassicParams>,
}

impl Hybrid {
    /// Blends `a` and `b` with weight `weight` on `a`, measuring both scales on 20 000 seeded
    /// pairs of the `n_users × n_items` space.
    ///
    /// # Errors
    /// [`FitError::Param`] if `weight` is outside `[0, 1]`.
    pub fn new(a: ClassicModel, b: ClassicModel, weight: f32, n_users: usize, n_items: usize) -> Result<Self, FitError> {
        ensure((0.0..=1.0).contains(&weight), "weight", weight, "in [0, 1]")?;
        let scale_a = ScoreScale::measure(&a, n_users, n_items, 20_000, 7);
        let scale_b = ScoreScale::measure(&b, n_users, n_items, 20_000, 7);
        Ok(Self { a: Box::new(a), b: Box::new(b), scale_a, scale_b, weight, legacy_a_params: None })
    }

    /// Tries every weight of `grid` and keeps the one with the highest `metric` (for example
    /// NDCG@10 on a validation split, computed by `burnrec_eval`); ties go to the earlier
    /// weight. Returns the chosen hybrid and every `(weight, metric)` tried.
    ///
    /// # Errors
    /// [`FitError::Param`] for an empty grid or a weight outside `[0, 1]`.
    pub fn tune(mut self, grid: &[f32], metric: impl Fn(&Hybrid) -> f64) -> Result<(Self, Vec<(f32, f64)>), FitError> {
        ensure(!grid.is_empty(), "grid", "[]", "at least one weight")?;
        let mut tried = Vec::with_capacity(grid.len());
        let mut best = (f64::NEG_INFINITY, grid[0]);
        for &w in grid {
            ensure((0.0..=1.0).contains(&w), "weight", w, "in [0, 1]")?;
            self.weight = w;
            let m = metric(&self);
            tried.push((w, m));
            if m > best.0 {
                best = (m, w);
            }
        }
        self.weight = best.1;
        Ok((self, tried))
    }

    /// The blended score of `a`'s score `a` and `b`'s score `b` (see the type's docs).
    pub fn blend(&self, a: f32, b: f32) -> f32 {
        self.weight * (a - self.scale_a.mean) / self.scale_a.std + (1.0 - self.weight) * (b - self.scale_b.mean) / self.scale_b.std
    }

    /// A new user's blended scores (`[n_items]`) from `history` (item indices): each part's
    /// own fold-in rule ([`RatingPredictor::history_scores`]), with `a_fold_in` for a part `a`
    /// without one (e.g. ALS, folded in by a factor solve), blended as a training user's
    /// scores are. `None` when a part cannot fold in.
    pub fn history_scores_with(&self, history: &[u32], a_fold_in: impl Fn(&[u32]) -> Option<Vec<f32>>) -> Option<Vec<f32>> {
        let a = self.a.history_scores(history).or_else(|| a_fold_in(history))?;
        let b = self.b.history_scores(history)?;
        Some(a.iter().zip(&b).map(|(&x, &y)| self.blend(x, y)).collect())
    }
}

impl RatingPredictor for Hybrid {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        let (pa, pb) = (self.a.predict_batch(pairs), self.b.predict_batch(pairs));
        pa.iter()
            .zip(&pb)
            .map(|(x, y)| Prediction {
                rating: self.blend(x.rating, y.rating),
                known_user: x.known_user || y.known_user,
                known_item: x.known_item || y.known_item,
            })
            .collect()
    }

    fn score_block(&self, users: &[u32], items: &[u32]) -> Vec<f32> {
        let (sa, sb) = (self.a.score_block(users, items), self.b.score_block(users, items));
        sa.iter().zip(&sb).map(|(&x, &y)| self.blend(x, y)).collect()
    }

    fn feedback(&self) -> Feedback {
        Feedback::Implicit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::tests::setup;
    use crate::{ContentKnnParams, Fit, PopularityParams};

    #[test]
    fn hybrid_blends_standardised_scores_and_tunes_its_weight() {
        let (train, feats) = setup();
        let content = ClassicModel::Content(ContentKnnParams::default().fit(&train, &feats).unwrap());
        let pop = ClassicModel::Popularity(PopularityParams.fit(&train).unwrap());
        let h = Hybrid::new(pop, content, 0.5, 2, 5).unwrap();
        // weight 1 ranks like popularity alone; weight 0 like content alone.
        let (h1, tried) = h.clone().tune(&[0.0, 1.0], |h| f64::from(h.weight)).unwrap();
        assert_eq!((h1.weight, tried), (1.0, vec![(0.0, 0.0), (1.0, 1.0)]));
        let s = h1.score_block(&[0], &[0, 1, 2, 3, 4]);
        let p = h1.a.score_block(&[0], &[0, 1, 2, 3, 4]);
        for (x, y) in s.iter().zip(&p) {
            assert!((x - (y - h1.scale_a.mean) / h1.scale_a.std).abs() < 1e-5);
        }
        assert!(h.clone().tune(&[], |_| 0.0).is_err());
        assert!(Hybrid::new(h.a.as_ref().clone(), h.b.as_ref().clone(), 1.5, 2, 5).is_err());
    }

    #[test]
    fn a_new_users_scores_blend_each_parts_fold_in() {
        let (train, feats) = setup();
        let content = ClassicModel::Content(ContentKnnParams::default().fit(&train, &feats).unwrap());
        let pop = ClassicModel::Popularity(PopularityParams.fit(&train).unwrap());
        let h = Hybrid::new(pop, content.clone(), 0.3, 2, 5).unwrap();
        // Popularity has no fold-in rule of its own: the given one is used (here: all 2s).
        let s = h.history_scores_with(&[1], |hist| Some(vec![2.0; 5 + hist.len() - 1])).unwrap();
        let b = content.history_scores(&[1]).unwrap();
        for (i, x) in s.iter().enumerate() {
            assert!((x - h.blend(2.0, b[i])).abs() < 1e-6, "{i}: {x}");
        }
        assert_eq!(h.history_scores_with(&[1], |_| None), None);
    }
}
