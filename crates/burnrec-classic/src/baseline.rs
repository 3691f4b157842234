//! Baselines: the global mean, and regularised user + item biases (BaselineOnly).

use burnrec_data::{Feedback, Interactions, KnownSet, Prediction, RatingPredictor};
use serde::{Deserialize, Serialize};

use crate::Fit;
use crate::error::{FitError, ensure};

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
        pairs.iter().map(|&(u, i)| Prediction { rating: self.mu, known_user: self.known.user(u), known_item: self.known.item(i) }).collect()
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

/// Parameters of BaselineOnly fitted by SGD instead of ALS (Surprise's
/// `bsl_options={'method': 'sgd'}`, whose defaults these are); the fitted model is the same
/// [`BaselineOnly`].
///
/// For each training rating in storage order, with `e = r_ui − (μ + b_u + b_i)`:
/// `b_u += lr (e − reg b_u)`, `b_i += lr (e − reg b_i)` (Koren 2010, §2.1).
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `n_epochs` | 20 | passes over the ratings | `≥ 1` |
/// | `reg` | 0.02 | L2 weight on both biases | `[0, ∞)` |
/// | `learning_rate` | 0.005 | SGD step | `(0, ∞)` |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BaselineSgdParams {
    /// Passes over the ratings.
    pub n_epochs: usize,
    /// L2 weight on both biases.
    pub reg: f32,
    /// SGD step.
    pub learning_rate: f32,
}

impl Default for BaselineSgdParams {
    fn default() -> Self {
        Self { n_epochs: 20, reg: 0.02, learning_rate: 0.005 }
    }
}

impl Fit for BaselineSgdParams {
    type Model = BaselineOnly;

    /// # Errors
    /// [`FitError::Param`] for a bad parameter; [`FitError::EmptyTrainSet`] for empty `train`.
    fn fit(&self, train: &Interactions) -> Result<BaselineOnly, FitError> {
        ensure(self.n_epochs >= 1, "n_epochs", self.n_epochs, ">= 1")?;
        ensure(self.reg.is_finite() && self.reg >= 0.0, "reg", self.reg, "finite and >= 0")?;
        ensure(self.learning_rate.is_finite() && self.learning_rate > 0.0, "learning_rate", self.learning_rate, "finite and > 0")?;
        let mu = train.global_mean().ok_or(FitError::EmptyTrainSet)? as f32;
        let (mut bu, mut bi) = (vec![0f32; train.n_users()], vec![0f32; train.n_items()]);
        let (lr, reg) = (self.learning_rate, self.reg);
        for epoch in 1..=self.n_epochs {
            let mut sse = 0f64;
            for ((&u, &i), &r) in train.users().iter().zip(train.items()).zip(train.values()) {
                let (u, i) = (u as usize, i as usize);
                let err = r - (mu + bu[u] + bi[i]);
                sse += f64::from(err * err);
                bu[u] += lr * (err - reg * bu[u]);
                bi[i] += lr * (err - reg * bi[i]);
            }
            if !sse.is_finite() || !bu.iter().chain(&bi).all(|x| x.is_finite()) {
                return Err(FitError::Diverged { epoch, value: sse });
            }
        }
        Ok(BaselineOnly { mu, bu, bi, known: KnownSet::from_train(train) })
    }
}

/// NormalPredictor: a random rating drawn from `N(μ, σ²)` fitted to the training ratings by
/// maximum likelihood (`σ² = Σ (r − μ)² / n`), as Surprise's `NormalPredictor` — the floor
/// that says what chance looks like.
///
/// | name | default | meaning |
/// | --- | --- | --- |
/// | `seed` | 42 | seeds the draws |
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NormalPredictorParams {
    /// Random seed.
    pub seed: u64,
}

impl Default for NormalPredictorParams {
    fn default() -> Self {
        Self { seed: 42 }
    }
}

/// A fitted [`NormalPredictorParams`]. The draw for a pair depends only on the seed, the
/// user and the item, so predictions are the same in any order, batch or thread, and after
/// reloading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NormalPredictor {
    /// Mean training rating μ.
    pub mu: f32,
    /// Standard deviation σ of the training ratings (maximum likelihood).
    pub sigma: f32,
    /// Random seed.
    pub seed: u64,
    known: KnownSet,
}

impl Fit for NormalPredictorParams {
    type Model = NormalPredictor;

    /// # Errors
    /// [`FitError::EmptyTrainSet`] if `train` is empty.
    fn fit(&self, train: &Interactions) -> Result<NormalPredictor, FitError> {
        let mu = train.global_mean().ok_or(FitError::EmptyTrainSet)?;
        let var = train.values().iter().map(|&r| (f64::from(r) - mu).powi(2)).sum::<f64>() / train.len() as f64;
        Ok(NormalPredictor { mu: mu as f32, sigma: var.sqrt() as f32, seed: self.seed, known: KnownSet::from_train(train) })
    }
}

impl RatingPredictor for NormalPredictor {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        let normal = rand_distr::Normal::new(self.mu, self.sigma).unwrap_or_else(|_| rand_distr::Normal::new(self.mu, 0.0).expect("0 is a valid std"));
        pairs
            .iter()
            .map(|&(u, i)| {
                let rating = rand_distr::Distribution::sample(&normal, &mut crate::util::rng_for(self.seed, u64::from(u), u64::from(i)));
                Prediction { rating, known_user: self.known.user(u), known_item: self.known.item(i) }
            })
            .collect()
    }
}

/// Popularity: ranks items by their number of training interactions — the top-N floor every
/// personalised model must beat (Cremonesi, Koren & Turrin, "Performance of Recommender
/// Algorithms on Top-N Recommendation Tasks", RecSys 2010, "TopPop"). No parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PopularityParams;

/// A fitted [`PopularityParams`]: the score of `(u, i)` is `count_i`, the number of training
/// interactions of item `i` (0 for an unknown item), the same for every user.
/// [`RatingPredictor::feedback`] is [`Feedback::Implicit`]: the score is not a rating.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Popularity {
    /// `[n_items]` training interaction counts.
    pub counts: Vec<u32>,
    known: KnownSet,
}

impl Fit for PopularityParams {
    type Model = Popularity;

    /// # Errors
    /// [`FitError::EmptyTrainSet`] if `train` is empty.
    fn fit(&self, train: &Interactions) -> Result<Popularity, FitError> {
        if train.is_empty() {
            return Err(FitError::EmptyTrainSet);
        }
        Ok(Popularity { counts: train.item_counts(), known: KnownSet::from_train(train) })
    }
}

impl RatingPredictor for Popularity {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        pairs
            .iter()
            .map(|&(u, i)| Prediction {
                rating: self.counts.get(i as usize).copied().unwrap_or(0) as f32,
                known_user: self.known.user(u),
                known_item: self.known.item(i),
            })
            .collect()
    }

    fn score_block(&self, users: &[u32], items: &[u32]) -> Vec<f32> {
        let row: Vec<f32> = items.iter().map(|&i| self.counts.get(i as usize).copied().unwrap_or(0) as f32).collect();
        let mut out = Vec::with_capacity(users.len() * items.len());
        for _ in users {
            out.extend_from_slice(&row);
        }
        out
    }

    fn feedback(&self) -> Feedback {
        Feedback::Implicit
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
    fn sgd_baseline_two_epochs_by_hand() {
        // μ = 4, lr = 0.5, reg = 0: storage order (0,0)=5, (0,1)=3, (1,0)=4.
        // epoch 1: e = 1 → bu0 = bi0 = 0.5; e = 3 − 4.5 = −1.5 → bu0 = −0.25, bi1 = −0.75;
        //          e = 4 − 4.5 = −0.5 → bu1 = −0.25, bi0 = 0.25.
        let p = BaselineSgdParams { n_epochs: 1, reg: 0.0, learning_rate: 0.5 };
        let m = p.fit(&tiny()).unwrap();
        assert_eq!(m.bu, vec![-0.25, -0.25, 0.0]);
        assert_eq!(m.bi, vec![0.25, -0.75, 0.0]);
        assert!(BaselineSgdParams { learning_rate: 0.0, ..Default::default() }.fit(&tiny()).is_err());
        let wild = BaselineSgdParams { learning_rate: 5.0, ..Default::default() }.fit(&tiny());
        assert!(matches!(wild, Err(FitError::Diverged { .. })), "{wild:?}");
    }

    #[test]
    fn normal_predictor_matches_the_training_moments_and_is_order_free() {
        // Ratings 5, 3, 4: μ = 4, σ² = (1 + 1 + 0)/3.
        let m = NormalPredictorParams::default().fit(&tiny()).unwrap();
        assert_eq!(m.mu, 4.0);
        assert!((m.sigma - (2.0f32 / 3.0).sqrt()).abs() < 1e-6);
        let pairs: Vec<(u32, u32)> = (0..60).map(|k| (k % 3, k / 3)).collect();
        let all = m.predict_batch(&pairs);
        let one_by_one: Vec<Prediction> = pairs.iter().rev().map(|&(u, i)| m.predict(u, i)).collect();
        assert_eq!(all, one_by_one.into_iter().rev().collect::<Vec<_>>());
        let mean = all.iter().map(|p| f64::from(p.rating)).sum::<f64>() / 60.0;
        assert!((mean - 4.0).abs() < 0.35, "mean of 60 draws {mean}");
        let other = NormalPredictorParams { seed: 7 }.fit(&tiny()).unwrap();
        assert_ne!(other.predict_batch(&pairs), all);
    }

    #[test]
    fn popularity_counts_interactions() {
        let m = PopularityParams.fit(&tiny()).unwrap();
        assert_eq!(m.counts, vec![2, 1, 0]);
        assert_eq!(m.score_block(&[0, 2], &[2, 0, 1]), vec![0.0, 2.0, 1.0, 0.0, 2.0, 1.0]);
        assert_eq!(m.recommend(2, &[0, 1, 2], 2), vec![(0, 2.0), (1, 1.0)]);
        assert_eq!(m.feedback(), Feedback::Implicit);
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
