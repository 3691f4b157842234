//! Non-negative matrix factorisation by multiplicative updates (Luo, Xia, Zhu, Wu & Zhu, "An
//! Efficient Non-Negative Matrix-Factorization-Based Approach to Collaborative Filtering for
//! Recommender Systems", IEEE Trans. Industrial Informatics 10(2), 2014), as Surprise's `NMF`.

use burnrec_data::{Interactions, KnownSet, Prediction, RatingPredictor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Fit;
use crate::error::{FitError, MAX_FACTORS, ParamError, ensure};
use crate::util::{dot, group_by};

/// Parameters of [`Nmf`]. Defaults are Surprise's `NMF` defaults.
///
/// Model: `r̂_ui = q_iᵀ p_u` with `p_u, q_i ≥ 0` (plus `μ + b_u + b_i` when `biased`). Each
/// epoch computes, from the current factors and `r̂` (`μ + b_u + b_i + q_iᵀp_u` when biased):
/// `p_uf ← p_uf · Σ_{i∈I_u} q_if r_ui / (Σ_{i∈I_u} q_if r̂_ui + |I_u| reg_pu p_uf)` and the
/// same for `q_if` with `reg_qi` — all users and items from the same old factors, so the
/// update runs in parallel and equals Surprise's. Biases (when `biased`) move by SGD during
/// the pass that computes `r̂`, in storage order, as in Surprise.
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `n_factors` | 15 | latent dimension k | `1..=10000` |
/// | `n_epochs` | 50 | multiplicative-update sweeps | `≥ 1` |
/// | `biased` | false | add `μ + b_u + b_i` (Surprise warns it overfits easily) | |
/// | `reg_pu` | 0.06 | L2 weight on user factors | `[0, ∞)` |
/// | `reg_qi` | 0.06 | L2 weight on item factors | `[0, ∞)` |
/// | `reg_bu`, `reg_bi` | 0.02 | L2 weight on the biases (biased only) | `[0, ∞)` |
/// | `lr_bu`, `lr_bi` | 0.005 | SGD step of the biases (biased only) | `(0, ∞)` |
/// | `init_low`, `init_high` | 0, 1 | factors start uniform in `[init_low, init_high)` | `0 ≤ low < high` |
/// | `seed` | 42 | seeds the init | |
///
/// Ratings must be non-negative for the factors to stay non-negative (they are on every
/// MovieLens scale).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NmfParams {
    /// Latent dimension k.
    pub n_factors: usize,
    /// Multiplicative-update sweeps.
    pub n_epochs: usize,
    /// Whether to add biases.
    pub biased: bool,
    /// L2 weight on user factors.
    pub reg_pu: f32,
    /// L2 weight on item factors.
    pub reg_qi: f32,
    /// L2 weight on user biases.
    pub reg_bu: f32,
    /// L2 weight on item biases.
    pub reg_bi: f32,
    /// SGD step of user biases.
    pub lr_bu: f32,
    /// SGD step of item biases.
    pub lr_bi: f32,
    /// Lower bound of the uniform init.
    pub init_low: f32,
    /// Upper bound of the uniform init.
    pub init_high: f32,
    /// Random seed.
    pub seed: u64,
}

impl Default for NmfParams {
    fn default() -> Self {
        Self {
            n_factors: 15,
            n_epochs: 50,
            biased: false,
            reg_pu: 0.06,
            reg_qi: 0.06,
            reg_bu: 0.02,
            reg_bi: 0.02,
            lr_bu: 0.005,
            lr_bi: 0.005,
            init_low: 0.0,
            init_high: 1.0,
            seed: 42,
        }
    }
}

impl NmfParams {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`ParamError`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), ParamError> {
        ensure((1..=MAX_FACTORS).contains(&self.n_factors), "n_factors", self.n_factors, "in 1..=10000")?;
        ensure(self.n_epochs >= 1, "n_epochs", self.n_epochs, ">= 1")?;
        for (name, v) in [("reg_pu", self.reg_pu), ("reg_qi", self.reg_qi), ("reg_bu", self.reg_bu), ("reg_bi", self.reg_bi)] {
            ensure(v.is_finite() && v >= 0.0, name, v, "finite and >= 0")?;
        }
        for (name, v) in [("lr_bu", self.lr_bu), ("lr_bi", self.lr_bi)] {
            ensure(v.is_finite() && v > 0.0, name, v, "finite and > 0")?;
        }
        ensure(self.init_low.is_finite() && self.init_low >= 0.0, "init_low", self.init_low, "finite and >= 0")?;
        ensure(self.init_high.is_finite() && self.init_high > self.init_low, "init_high", self.init_high, "finite and > init_low")
    }
}

/// A fitted [`NmfParams`].
///
/// # Shapes
/// `p`: `[n_users, n_factors]`, `q`: `[n_items, n_factors]`, row-major, non-negative; `bu`,
/// `bi`: `[n_users]`, `[n_items]` (zero unless biased).
///
/// Prediction: unbiased — `q_iᵀ p_u` when user and item are known, otherwise μ (Surprise's
/// default prediction); biased — `μ + b_u + b_i + q_iᵀ p_u` with unknown terms dropped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Nmf {
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
    /// Whether biases are part of the model.
    pub biased: bool,
    known: KnownSet,
}

impl Fit for NmfParams {
    type Model = Nmf;

    /// # Errors
    /// [`FitError::Param`], [`FitError::EmptyTrainSet`], [`FitError::Input`] for a negative
    /// rating, [`FitError::Diverged`] if a factor becomes non-finite.
    fn fit(&self, train: &Interactions) -> Result<Nmf, FitError> {
        self.check()?;
        let mu = train.global_mean().ok_or(FitError::EmptyTrainSet)? as f32;
        if let Some(&r) = train.values().iter().find(|&&r| r < 0.0 || !r.is_finite()) {
            return Err(FitError::Input(format!("NMF needs non-negative ratings; found {r}")));
        }
        let (nu, ni, k) = (train.n_users(), train.n_items(), self.n_factors);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let (lo, hi) = (self.init_low, self.init_high);
        let mut p: Vec<f32> = (0..nu * k).map(|_| rng.random_range(lo..hi)).collect();
        let mut q: Vec<f32> = (0..ni * k).map(|_| rng.random_range(lo..hi)).collect();
        let (mut bu, mut bi) = (vec![0f32; nu], vec![0f32; ni]);
        let (users, items, values) = (train.users(), train.items(), train.values());
        let by_user = group_by(users, nu);
        let by_item = group_by(items, ni);
        let mut est = vec![0f32; train.len()];
        let base = if self.biased { mu } else { 0.0 };
        for epoch in 1..=self.n_epochs {
            // r̂ for every rating from the current factors (biases move by SGD on the way).
            if self.biased {
                for (pos, e) in est.iter_mut().enumerate() {
                    let (u, i) = (users[pos] as usize, items[pos] as usize);
                    *e = base + bu[u] + bi[i] + dot(&p[u * k..(u + 1) * k], &q[i * k..(i + 1) * k]);
                    let err = values[pos] - *e;
                    bu[u] += self.lr_bu * (err - self.reg_bu * bu[u]);
                    bi[i] += self.lr_bi * (err - self.reg_bi * bi[i]);
                }
            } else {
                est.par_iter_mut().enumerate().for_each(|(pos, e)| {
                    let (u, i) = (users[pos] as usize, items[pos] as usize);
                    *e = dot(&p[u * k..(u + 1) * k], &q[i * k..(i + 1) * k]);
                });
            }
            let new_p = multiplicative_step(&p, &q, &by_user, items, values, &est, self.reg_pu, k);
            let new_q = multiplicative_step(&q, &p, &by_item, users, values, &est, self.reg_qi, k);
            p = new_p;
            q = new_q;
            if !p.iter().chain(&q).all(|x| x.is_finite()) {
                return Err(FitError::Diverged { epoch, value: f64::NAN });
            }
        }
        Ok(Nmf { mu, bu, bi, p, q, n_factors: k, biased: self.biased, known: KnownSet::from_train(train) })
    }
}

/// One multiplicative update of the rows of `own` (`[rows, k]`): row `x` with rating
/// positions `group(x)`, partner rows `other[partner[pos]]`:
/// `own_xf · Σ other_f r / (Σ other_f r̂ + n_x reg own_xf)`; entries with a zero denominator
/// (or already zero) stay as they are.
#[allow(clippy::too_many_arguments)] // one call per side, all arguments are the update's inputs
fn multiplicative_step(
    own: &[f32],
    other: &[f32],
    (offsets, positions): &(Vec<usize>, Vec<u32>),
    partner: &[u32],
    values: &[f32],
    est: &[f32],
    reg: f32,
    k: usize,
) -> Vec<f32> {
    let mut out = own.to_vec();
    // One numerator/denominator buffer per thread, not per row.
    out.par_chunks_mut(k).enumerate().for_each_init(
        || (vec![0f32; k], vec![0f32; k]),
        |(num, den), (x, row)| {
            let rows = &positions[offsets[x]..offsets[x + 1]];
            if rows.is_empty() {
                return;
            }
            num.iter_mut().chain(den.iter_mut()).for_each(|v| *v = 0.0);
            for &pos in rows {
                let pos = pos as usize;
                let o = &other[partner[pos] as usize * k..(partner[pos] as usize + 1) * k];
                for f in 0..k {
                    num[f] += o[f] * values[pos];
                    den[f] += o[f] * est[pos];
                }
            }
            let n = rows.len() as f32;
            for f in 0..k {
                if row[f] != 0.0 {
                    let d = den[f] + n * reg * row[f];
                    if d != 0.0 {
                        row[f] *= num[f] / d;
                    }
                }
            }
        },
    );
    out
}

impl RatingPredictor for Nmf {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        let k = self.n_factors;
        pairs
            .iter()
            .map(|&(u, i)| {
                let (ku, ki) = (self.known.user(u), self.known.item(i));
                let mut pr = if self.biased {
                    self.known.baseline(self.mu, &self.bu, &self.bi, u, i)
                } else {
                    Prediction { rating: if ku && ki { 0.0 } else { self.mu }, known_user: ku, known_item: ki }
                };
                if ku && ki {
                    let (u, i) = (u as usize, i as usize);
                    pr.rating += dot(&self.p[u * k..(u + 1) * k], &self.q[i * k..(i + 1) * k]);
                }
                pr
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GlobalMeanParams;
    use burnrec_data::{Rating, random_split, synthetic::planted_low_rank};
    use burnrec_eval::evaluate_ratings;

    #[test]
    fn one_update_by_hand() {
        // k = 1, init 1 everywhere (low 1, high 1+ε), ratings (0,0)=4, (0,1)=2, (1,0)=3, reg 0.
        // r̂ = 1 for all. p_0 ← 1·(q0·4 + q1·2)/(q0·1 + q1·1) = 6/2 = 3; p_1 ← 3/1 = 3.
        // q_0 ← 1·(4 + 3)/(1 + 1) = 3.5; q_1 ← 2/1 = 2.
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        let train = Interactions::new(vec![r(0, 0, 4.0), r(0, 1, 2.0), r(1, 0, 3.0)], 2, 2).unwrap();
        let params = NmfParams { n_factors: 1, n_epochs: 1, reg_pu: 0.0, reg_qi: 0.0, init_low: 1.0, init_high: 1.0 + 1e-7, ..Default::default() };
        let m = params.fit(&train).unwrap();
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
        assert!(close(&m.p, &[3.0, 3.0]), "{:?}", m.p);
        assert!(close(&m.q, &[3.5, 2.0]), "{:?}", m.q);
        assert!((m.predict(1, 1).rating - 6.0).abs() < 1e-4);
        // Unknown user: Surprise's default prediction μ = 3.
        let e = m.predict(5, 0);
        assert!(!e.known_user && (e.rating - 3.0).abs() < 1e-6);
    }

    #[test]
    fn regularisation_enters_the_denominator() {
        // Same data, reg_pu = 0.5: p_0 ← (4 + 2)/(2 + 2·0.5·1) = 2; p_1 ← 3/(1 + 0.5) = 2.
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        let train = Interactions::new(vec![r(0, 0, 4.0), r(0, 1, 2.0), r(1, 0, 3.0)], 2, 2).unwrap();
        let params = NmfParams { n_factors: 1, n_epochs: 1, reg_pu: 0.5, reg_qi: 0.0, init_low: 1.0, init_high: 1.0 + 1e-7, ..Default::default() };
        let m = params.fit(&train).unwrap();
        assert!((m.p[0] - 2.0).abs() < 1e-5 && (m.p[1] - 2.0).abs() < 1e-5, "{:?}", m.p);
    }

    #[test]
    fn fits_planted_data_and_stays_non_negative() {
        let planted = planted_low_rank(200, 150, 3, 0.3, 0.1, 5);
        let clamped: Vec<Rating> = planted.observed.iter().map(|r| Rating { rating: r.rating.max(0.0), ..r }).collect();
        let data = Interactions::new(clamped, 200, 150).unwrap();
        let split = random_split(&data, 0.2, 1).unwrap();
        let m = NmfParams::default().fit(&split.train).unwrap();
        assert!(m.p.iter().chain(&m.q).all(|&x| x >= 0.0));
        let nmf = evaluate_ratings(&m, &split.test, None).unwrap();
        let mean = evaluate_ratings(&GlobalMeanParams.fit(&split.train).unwrap(), &split.test, None).unwrap();
        assert!(nmf.rmse < 0.8 * mean.rmse, "nmf {} mean {}", nmf.rmse, mean.rmse);
        let back: Nmf = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        let pairs: Vec<(u32, u32)> = split.test.iter().map(|r| (r.user, r.item)).collect();
        assert_eq!(m.predict_batch(&pairs), back.predict_batch(&pairs));
    }

    #[test]
    fn negative_ratings_and_bad_params_are_errors() {
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        let train = Interactions::new(vec![r(0, 0, -1.0)], 1, 1).unwrap();
        assert!(matches!(NmfParams::default().fit(&train), Err(FitError::Input(_))));
        let e = NmfParams { init_high: 0.0, ..Default::default() }.check().unwrap_err();
        assert_eq!(e.name, "init_high");
    }
}
