//! Biased matrix factorisation fitted by stochastic gradient descent — "SVD" in Surprise's
//! sense (Funk 2006; Koren, Bell & Volinsky, "Matrix Factorization Techniques for Recommender
//! Systems", IEEE Computer 42(8), 2009).

use burnrec_data::{Interactions, KnownSet, Prediction, RatingPredictor};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::error::{FitError, ParamError, ensure};
use crate::Fit;

/// Parameters of [`BiasedMf`]. Defaults are Surprise's `SVD` defaults, so results compare.
///
/// Model: `r̂_ui = μ + b_u + b_i + q_iᵀ p_u` in rating units. For each training rating, in a
/// seeded random order each epoch, with `e = r_ui − r̂_ui`:
/// `b_u += lr (e − reg b_u)`, `b_i += lr (e − reg b_i)`,
/// `p_u += lr (e q_i − reg p_u)`, `q_i += lr (e p_u − reg q_i)` (both from the old values).
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `n_factors` | 100 | latent dimension k | `≥ 1` |
/// | `n_epochs` | 20 | passes over the training ratings | `≥ 1` |
/// | `lr` | 0.005 | SGD step γ | `(0, ∞)` |
/// | `reg` | 0.02 | L2 weight λ on biases and factors | `[0, ∞)` |
/// | `init_mean` | 0 | mean of the normal init of `P`, `Q` | finite |
/// | `init_std` | 0.1 | std of the normal init of `P`, `Q` | `[0, ∞)` |
/// | `biased` | true | learn `b_u`, `b_i` (false: PMF-style `q_iᵀ p_u` only, μ still added) | |
/// | `seed` | 42 | seeds the init and the epoch order | |
///
/// Unlike Surprise, which visits ratings in storage order, each epoch visits them in a fresh
/// seeded permutation (standard SGD practice; it removes the dependence on file order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SvdParams {
    /// Latent dimension k.
    pub n_factors: usize,
    /// Passes over the training ratings.
    pub n_epochs: usize,
    /// SGD learning rate γ.
    pub lr: f32,
    /// L2 regularisation λ.
    pub reg: f32,
    /// Mean of the factor initialisation.
    pub init_mean: f32,
    /// Standard deviation of the factor initialisation.
    pub init_std: f32,
    /// Whether to learn user and item biases.
    pub biased: bool,
    /// Random seed.
    pub seed: u64,
}

impl Default for SvdParams {
    fn default() -> Self {
        Self { n_factors: 100, n_epochs: 20, lr: 0.005, reg: 0.02, init_mean: 0.0, init_std: 0.1, biased: true, seed: 42 }
    }
}

impl SvdParams {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`ParamError`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), ParamError> {
        ensure(self.n_factors >= 1, "n_factors", self.n_factors, ">= 1")?;
        ensure(self.n_epochs >= 1, "n_epochs", self.n_epochs, ">= 1")?;
        ensure(self.lr.is_finite() && self.lr > 0.0, "lr", self.lr, "finite and > 0")?;
        ensure(self.reg.is_finite() && self.reg >= 0.0, "reg", self.reg, "finite and >= 0")?;
        ensure(self.init_mean.is_finite(), "init_mean", self.init_mean, "finite")?;
        ensure(self.init_std.is_finite() && self.init_std >= 0.0, "init_std", self.init_std, "finite and >= 0")
    }
}

/// A fitted [`SvdParams`].
///
/// # Shapes
/// - `p`: `[n_users, n_factors]` row-major; `q`: `[n_items, n_factors]` row-major.
/// - `bu`: `[n_users]`; `bi`: `[n_items]` (rating units).
///
/// Prediction for an unknown user or item drops the terms it has no data for:
/// `μ + b_i` for an unknown user, `μ + b_u` for an unknown item, μ for both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BiasedMf {
    /// Mean training rating μ.
    pub mu: f32,
    /// User biases.
    pub bu: Vec<f32>,
    /// Item biases.
    pub bi: Vec<f32>,
    /// User factors.
    pub p: Vec<f32>,
    /// Item factors.
    pub q: Vec<f32>,
    /// Latent dimension k.
    pub n_factors: usize,
    known: KnownSet,
}

impl Fit for SvdParams {
    type Model = BiasedMf;

    /// # Errors
    /// [`FitError::Param`], [`FitError::EmptyTrainSet`], or [`FitError::Diverged`] if the
    /// epoch's squared error becomes non-finite (lower `lr`).
    fn fit(&self, train: &Interactions) -> Result<BiasedMf, FitError> {
        self.check()?;
        let mu = train.global_mean().ok_or(FitError::EmptyTrainSet)? as f32;
        let k = self.n_factors;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let init = Normal::new(self.init_mean, self.init_std).expect("checked above");
        let mut p: Vec<f32> = (0..train.n_users() * k).map(|_| init.sample(&mut rng)).collect();
        let mut q: Vec<f32> = (0..train.n_items() * k).map(|_| init.sample(&mut rng)).collect();
        let mut bu = vec![0f32; train.n_users()];
        let mut bi = vec![0f32; train.n_items()];
        let (lr, reg) = (self.lr, self.reg);
        let (users, items, values) = (train.users(), train.items(), train.values());
        let mut order: Vec<u32> = (0..train.len() as u32).collect();
        for epoch in 1..=self.n_epochs {
            order.shuffle(&mut rng);
            let mut sse = 0f64;
            for &k_r in &order {
                let k_r = k_r as usize;
                let (u, i) = (users[k_r] as usize, items[k_r] as usize);
                let pu = &mut p[u * k..(u + 1) * k];
                let qi = &mut q[i * k..(i + 1) * k];
                let dot: f32 = pu.iter().zip(qi.iter()).map(|(a, b)| a * b).sum();
                let err = values[k_r] - (mu + bu[u] + bi[i] + dot);
                sse += f64::from(err * err);
                if self.biased {
                    bu[u] += lr * (err - reg * bu[u]);
                    bi[i] += lr * (err - reg * bi[i]);
                }
                for (a, b) in pu.iter_mut().zip(qi.iter_mut()) {
                    let (pf, qf) = (*a, *b);
                    *a += lr * (err * qf - reg * pf);
                    *b += lr * (err * pf - reg * qf);
                }
            }
            if !sse.is_finite() {
                return Err(FitError::Diverged { epoch, value: sse });
            }
        }
        Ok(BiasedMf { mu, bu, bi, p, q, n_factors: k, known: KnownSet::from_train(train) })
    }
}

impl RatingPredictor for BiasedMf {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        let k = self.n_factors;
        pairs
            .iter()
            .map(|&(u, i)| {
                let mut p = self.known.baseline(self.mu, &self.bu, &self.bi, u, i);
                if !p.is_fallback() {
                    let (u, i) = (u as usize, i as usize);
                    p.rating += self.p[u * k..(u + 1) * k].iter().zip(&self.q[i * k..(i + 1) * k]).map(|(a, b)| a * b).sum::<f32>();
                }
                p
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::GlobalMeanParams;
    use burnrec_data::{Rating, random_split, synthetic::planted_low_rank};
    use burnrec_eval::evaluate_ratings;

    #[test]
    fn two_epochs_by_hand() {
        // Two ratings on disjoint users and items, zero init: factors stay 0 and the biases move
        // independently of the visiting order. μ = 4, lr = 0.005, reg = 0.02.
        // epoch 1: e = ±1 → b = ±0.005;  epoch 2: e = ±(1 − 0.01) = ±0.99 →
        // b = ±(0.005 + 0.005 (0.99 − 0.02·0.005)) = ±0.0099495; r̂_00 = 4 + 2·0.0099495.
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        let train = Interactions::new(vec![r(0, 0, 5.0), r(1, 1, 3.0)], 2, 2).unwrap();
        let p = SvdParams { n_epochs: 2, init_std: 0.0, n_factors: 3, ..Default::default() };
        let m = p.fit(&train).unwrap();
        assert!((m.bu[0] - 0.0099495).abs() < 1e-7 && (m.bi[1] + 0.0099495).abs() < 1e-7, "{:?} {:?}", m.bu, m.bi);
        assert!((m.predict(0, 0).rating - 4.019899).abs() < 1e-6);
        assert!(m.p.iter().chain(&m.q).all(|&x| x == 0.0));
        // Unknown pair (0, 1) is known on both sides here: μ + b_u0 + b_i1 = 4.
        assert!((m.predict(0, 1).rating - 4.0).abs() < 1e-6);
    }

    #[test]
    fn recovers_a_planted_low_rank_matrix() {
        let planted = planted_low_rank(300, 200, 3, 0.25, 0.1, 7);
        let split = random_split(&planted.observed, 0.2, 42).unwrap();
        let params = SvdParams { n_factors: 10, n_epochs: 60, lr: 0.01, reg: 0.02, ..Default::default() };
        let model = params.fit(&split.train).unwrap();
        let svd = evaluate_ratings(&model, &split.test, None).unwrap();
        let mean = evaluate_ratings(&GlobalMeanParams.fit(&split.train).unwrap(), &split.test, None).unwrap();
        // The planted signal has std ≈ 1.1 and the noise std is 0.1.
        assert!(mean.rmse > 1.0, "global mean rmse {}", mean.rmse);
        assert!(svd.rmse < 0.3, "svd rmse {} (global mean {})", svd.rmse, mean.rmse);
    }

    #[test]
    fn same_seed_same_model_and_seed_matters() {
        let planted = planted_low_rank(30, 20, 2, 0.5, 0.1, 1);
        let p = SvdParams { n_factors: 4, n_epochs: 3, ..Default::default() };
        assert_eq!(p.fit(&planted.observed).unwrap(), p.fit(&planted.observed).unwrap());
        let q = SvdParams { seed: 43, ..p.clone() };
        assert_ne!(p.fit(&planted.observed).unwrap().p, q.fit(&planted.observed).unwrap().p);
    }

    #[test]
    fn divergence_is_reported() {
        let planted = planted_low_rank(30, 20, 2, 0.5, 0.1, 1);
        let p = SvdParams { lr: 1e3, n_factors: 4, n_epochs: 5, ..Default::default() };
        assert!(matches!(p.fit(&planted.observed), Err(FitError::Diverged { .. })));
    }

    #[test]
    fn bad_params_are_named() {
        let e = SvdParams { lr: 0.0, ..Default::default() }.check().unwrap_err();
        assert_eq!(e.to_string(), "invalid parameter `lr` = 0: expected finite and > 0");
    }
}
