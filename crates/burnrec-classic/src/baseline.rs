//! Baselines: the global mean, and regularised user + item biases (BaselineOnly).

use burnrec_data::{Interactions, KnownSet, Prediction, RatingPredictor};
use serde::{Deserialize, Serialize};

use crate::error::{FitError, ensure};
use crate::Fit;

/// Predicts the training mean μ for every pair: the floor any model must beat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GlobalMeanParams;

/// A fitted [`GlobalMeanParams`]: `r̂_ui = μ`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlobalMean {
    /// Mean training rating μ, rating units.
    pub mu: f32,
    known: KnownSet,
}

impl Fit for GlobalMeanParams {
    type Model = GlobalMean;

    /// # Errors
    /// [`FitError::EmptyTrainSet`] if `train` is empty.
    fn fit(&self, train: &Interactions) -> Result<GlobalMean, FitError> {
        let mu = train.global_mean().ok_or(FitError::EmptyTrainSet)? as f32;
        Ok(GlobalMean { mu, known: KnownSet::from_train(train) })
    }
}

impl RatingPredictor for GlobalMean {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        pairs
            .iter()
            .map(|&(u, i)| Prediction { rating: self.mu, known_user: self.known.user(u), known_item: self.known.item(i) })
            .collect()
    }
}

/// Parameters of [`BaselineOnly`]: user and item biases fitted by alternating least squares.
///
/// Model: `r̂_ui = μ + b_u + b_i`, minimising
/// `Σ (r_ui − μ − b_u − b_i)² + reg_u Σ b_u² + reg_i Σ b_i²` (Koren, "Factor in the Neighbors:
/// Scalable and Accurate Collaborative Filtering", ACM TKDD 2010, §2.1). Each epoch solves every
/// `b_i` with the user biases fixed, then every `b_u` with the item biases fixed — exactly
/// Surprise's `BaselineOnly` with `{'method': 'als'}`, whose defaults these are.
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `n_epochs` | 10 | ALS sweeps | `≥ 1` |
/// | `reg_u` | 15 | L2 weight on user biases (in rating-count units) | `≥ 0` |
/// | `reg_i` | 10 | L2 weight on item biases | `≥ 0` |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BaselineParams {
    /// ALS sweeps.
    pub n_epochs: usize,
    /// L2 weight on user biases.
    pub reg_u: f32,
    /// L2 weight on item biases.
    pub reg_i: f32,
}

impl Default for BaselineParams {
    fn default() -> Self {
        Self { n_epochs: 10, reg_u: 15.0, reg_i: 10.0 }
    }
}

impl BaselineParams {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`crate::ParamError`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), crate::ParamError> {
        ensure(self.n_epochs >= 1, "n_epochs", self.n_epochs, ">= 1")?;
        ensure(self.reg_u.is_finite() && self.reg_u >= 0.0, "reg_u", self.reg_u, "finite and >= 0")?;
        ensure(self.reg_i.is_finite() && self.reg_i >= 0.0, "reg_i", self.reg_i, "finite and >= 0")
    }
}

/// A fitted [`BaselineParams`]: `r̂_ui = μ + b_u + b_i`, where an unknown user or item
/// contributes a zero bias.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineOnly {
    /// Mean training rating μ.
    pub mu: f32,
    /// User biases `[n_users]`, rating units.
    pub bu: Vec<f32>,
    /// Item biases `[n_items]`, rating units.
    pub bi: Vec<f32>,
    known: KnownSet,
}

impl Fit for BaselineParams {
    type Model = BaselineOnly;

    /// # Errors
    /// [`FitError::Param`] for a bad parameter; [`FitError::EmptyTrainSet`] for empty `train`.
    fn fit(&self, train: &Interactions) -> Result<BaselineOnly, FitError> {
        self.check()?;
        let mu = train.global_mean().ok_or(FitError::EmptyTrainSet)?;
        let (bu, bi) = als_biases(train, mu, self.n_epochs, f64::from(self.reg_u), f64::from(self.reg_i));
        Ok(BaselineOnly { mu: mu as f32, bu, bi, known: KnownSet::from_train(train) })
    }
}

/// Alternating least squares for biases, as in Surprise's `baseline_als`: items first.
/// Returns `(b_u [n_users], b_i [n_items])`.
pub(crate) fn als_biases(train: &Interactions, mu: f64, n_epochs: usize, reg_u: f64, reg_i: f64) -> (Vec<f32>, Vec<f32>) {
    let (nu, ni) = (train.n_users(), train.n_items());
    let (mut bu, mut bi) = (vec![0f64; nu], vec![0f64; ni]);
    let (cu, ci) = (train.user_counts(), train.item_counts());
    let mut acc_i = vec![0f64; ni];
    let mut acc_u = vec![0f64; nu];
    for _ in 0..n_epochs {
        acc_i.iter_mut().for_each(|a| *a = 0.0);
        for ((&u, &i), &r) in train.users().iter().zip(train.items()).zip(train.values()) {
            acc_i[i as usize] += f64::from(r) - mu - bu[u as usize];
        }
        for i in 0..ni {
            bi[i] = acc_i[i] / (reg_i + f64::from(ci[i]));
        }
        acc_u.iter_mut().for_each(|a| *a = 0.0);
        for ((&u, &i), &r) in train.users().iter().zip(train.items()).zip(train.values()) {
            acc_u[u as usize] += f64::from(r) - mu - bi[i as usize];
        }
        for u in 0..nu {
            bu[u] = acc_u[u] / (reg_u + f64::from(cu[u]));
        }
    }
    // 0/(reg + 0) = 0 for users and items without ratings, unless reg = 0 (then 0/0 = NaN).
    let clean = |v: Vec<f64>| v.into_iter().map(|x| if x.is_finite() { x as f32 } else { 0.0 }).collect();
    (clean(bu), clean(bi))
}

impl RatingPredictor for BaselineOnly {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        pairs.iter().map(|&(u, i)| self.known.baseline(self.mu, &self.bu, &self.bi, u, i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnrec_data::Rating;

    fn tiny() -> Interactions {
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        Interactions::new(vec![r(0, 0, 5.0), r(0, 1, 3.0), r(1, 0, 4.0)], 3, 3).unwrap()
    }

    #[test]
    fn global_mean_is_the_mean_and_flags_unknowns() {
        let m = GlobalMeanParams.fit(&tiny()).unwrap();
        assert_eq!(m.mu, 4.0);
        let p = m.predict(2, 0);
        assert_eq!((p.rating, p.known_user, p.known_item), (4.0, false, true));
        assert!(p.is_fallback());
        assert!(!m.predict(1, 1).is_fallback());
    }

    #[test]
    fn empty_train_is_an_error() {
        let empty = Interactions::new(vec![], 2, 2).unwrap();
        assert!(matches!(GlobalMeanParams.fit(&empty), Err(FitError::EmptyTrainSet)));
        assert!(matches!(BaselineParams::default().fit(&empty), Err(FitError::EmptyTrainSet)));
    }

    #[test]
    fn one_als_sweep_by_hand() {
        // μ = 4, reg_u = reg_i = 1, one sweep, items first:
        // b_i0 = ((5-4) + (4-4)) / (1 + 2) = 1/3;  b_i1 = (3-4) / (1 + 1) = -1/2
        // b_u0 = ((5-4-1/3) + (3-4+1/2)) / (1 + 2) = 1/18;  b_u1 = (4-4-1/3) / (1 + 1) = -1/6
        let p = BaselineParams { n_epochs: 1, reg_u: 1.0, reg_i: 1.0 };
        let m = p.fit(&tiny()).unwrap();
        let close = |a: f32, b: f64| (f64::from(a) - b).abs() < 1e-6;
        assert!(close(m.bi[0], 1.0 / 3.0) && close(m.bi[1], -0.5), "{:?}", m.bi);
        assert!(close(m.bu[0], 1.0 / 18.0) && close(m.bu[1], -1.0 / 6.0), "{:?}", m.bu);
        assert_eq!(m.bu[2], 0.0); // no ratings
        assert!(close(m.predict(1, 1).rating, 4.0 - 1.0 / 6.0 - 0.5));
        // Unknown user 2: μ + b_i only.
        let p = m.predict(2, 0);
        assert!(close(p.rating, 4.0 + 1.0 / 3.0) && !p.known_user);
    }

    #[test]
    fn bad_params_are_named() {
        let e = BaselineParams { reg_u: -1.0, ..Default::default() }.check().unwrap_err();
        assert_eq!(e.to_string(), "invalid parameter `reg_u` = -1: expected finite and >= 0");
        let e = BaselineParams { n_epochs: 0, ..Default::default() }.check().unwrap_err();
        assert_eq!(e.to_string(), "invalid parameter `n_epochs` = 0: expected >= 1");
    }

    #[test]
    fn save_load_gives_identical_predictions() {
        let m = BaselineParams::default().fit(&tiny()).unwrap();
        let back: BaselineOnly = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        let pairs = [(0, 0), (1, 1), (2, 2)];
        assert_eq!(m.predict_batch(&pairs), back.predict_batch(&pairs));
    }
}
