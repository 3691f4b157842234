//! PureSVD: a truncated SVD of the user × item rating matrix (missing entries are zeros),
//! for top-N recommendation (Cremonesi, Koren & Turrin, "Performance of Recommender Algorithms
//! on Top-N Recommendation Tasks", RecSys 2010, §4.2).
//!
//! The SVD is computed the way scikit-learn's `TruncatedSVD(algorithm="randomized")` does —
//! randomized range finder with power iterations (Halko, Martinsson & Tropp, "Finding Structure
//! with Randomness", SIAM Review 53(2), 2011, Alg. 4.4) — but on the sparse matrix directly:
//! only sparse × thin-dense products and QR/SVD of thin `[n, k + oversamples]` matrices
//! (`faer`), never a dense users × items matrix, and no mean-centring (which would densify it).

use burnrec_data::csr::Csr;
use burnrec_data::{Feedback, Interactions, KnownSet, Prediction, RatingPredictor};
use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Fit;
use crate::error::{FitError, MAX_FACTORS, ParamError, ensure};
use crate::util::dot;

/// Parameters of [`PureSvd`].
///
/// Model: `R ≈ U Σ Vᵀ` (rank `n_factors`); the score of item `i` for user `u` is
/// `r_u V V_iᵀ` — the user's rating row projected on the top right singular vectors — stored
/// as user factors `P = R V = U Σ` and item factors `V`.
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `n_factors` | 50 | rank of the truncated SVD (Cremonesi et al.'s PureSVD50) | `≥ 1`, `≤ min(n_users, n_items)` |
/// | `n_oversamples` | 10 | extra random directions of the range finder (scikit-learn's default) | `≥ 0` |
/// | `n_iter` | 5 | power iterations (scikit-learn `TruncatedSVD`'s default) | `≥ 0` |
/// | `binary` | false | use 1 for every interaction instead of the rating | |
/// | `seed` | 42 | seeds the random test matrix | |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PureSvdParams {
    /// Rank of the truncated SVD.
    pub n_factors: usize,
    /// Extra random directions.
    pub n_oversamples: usize,
    /// Power iterations.
    pub n_iter: usize,
    /// Use 1 instead of the rating value.
    pub binary: bool,
    /// Random seed.
    pub seed: u64,
}

impl Default for PureSvdParams {
    fn default() -> Self {
        Self { n_factors: 50, n_oversamples: 10, n_iter: 5, binary: false, seed: 42 }
    }
}

impl PureSvdParams {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`ParamError`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), ParamError> {
        ensure((1..=MAX_FACTORS).contains(&self.n_factors), "n_factors", self.n_factors, "in 1..=10000")?;
        ensure(self.n_oversamples <= MAX_FACTORS, "n_oversamples", self.n_oversamples, "<= 10000")?;
        ensure(self.n_iter <= 100, "n_iter", self.n_iter, "<= 100")
    }
}

/// A fitted [`PureSvdParams`]. Scores are unitless ([`Feedback::Implicit`]).
///
/// # Shapes
/// `p`: `[n_users, n_factors]` (`U Σ`), `v`: `[n_items, n_factors]`, row-major;
/// `singular_values`: `[n_factors]`, non-increasing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PureSvd {
    /// User factors `U Σ`.
    pub p: Vec<f32>,
    /// Item factors `V` (right singular vectors).
    pub v: Vec<f32>,
    /// The top singular values of the rating matrix.
    pub singular_values: Vec<f32>,
    /// Rank.
    pub n_factors: usize,
    known: KnownSet,
}

/// `out[r, :] = Σ_{(c, v) ∈ row r} v · x[c, :]`: sparse `[rows × cols]` times row-major
/// `[cols × l]`, parallel over rows.
fn sparse_times(csr: &Csr, binary: bool, x: &[f64], l: usize) -> Vec<f64> {
    let mut out = vec![0f64; csr.n_rows() * l];
    out.par_chunks_mut(l).enumerate().for_each(|(r, o)| {
        for (&c, &v) in csr.row(r).iter().zip(csr.row_values(r)) {
            let w = if binary { 1.0 } else { f64::from(v) };
            for (a, b) in o.iter_mut().zip(&x[c as usize * l..(c as usize + 1) * l]) {
                *a += w * b;
            }
        }
    });
    out
}

/// Orthonormal basis (thin Q of a QR) of the columns of row-major `[rows × l]`, row-major.
fn orthonormalise(y: &[f64], rows: usize, l: usize) -> Vec<f64> {
    let m = Mat::<f64>::from_fn(rows, l, |i, j| y[i * l + j]);
    let q = m.qr().compute_thin_Q();
    let mut out = vec![0f64; rows * l];
    for i in 0..rows {
        for j in 0..l {
            out[i * l + j] = q[(i, j)];
        }
    }
    out
}

impl Fit for PureSvdParams {
    type Model = PureSvd;

    /// # Errors
    /// [`FitError::Param`] for a bad parameter or `n_factors > min(n_users, n_items)`;
    /// [`FitError::EmptyTrainSet`]; [`FitError::Diverged`] if the small dense SVD fails.
    fn fit(&self, train: &Interactions) -> Result<PureSvd, FitError> {
        self.check()?;
        if train.is_empty() {
            return Err(FitError::EmptyTrainSet);
        }
        let (nu, ni, k) = (train.n_users(), train.n_items(), self.n_factors);
        ensure(k <= nu.min(ni), "n_factors", format!("{k} (the training data has {nu} users and {ni} items)"), "<= min(n_users, n_items)")?;
        let l = (k + self.n_oversamples).min(nu.min(ni));
        let (by_user, by_item) = (Csr::by_user(train), Csr::by_item(train));
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let omega: Vec<f64> = (0..ni * l).map(|_| StandardNormal.sample(&mut rng)).collect();
        // Range finder: Q spans the top of range(R).
        let mut q = orthonormalise(&sparse_times(&by_user, self.binary, &omega, l), nu, l);
        for _ in 0..self.n_iter {
            let z = orthonormalise(&sparse_times(&by_item, self.binary, &q, l), ni, l);
            q = orthonormalise(&sparse_times(&by_user, self.binary, &z, l), nu, l);
        }
        // B = Qᵀ R, an [l × n_items] matrix; computed as (Rᵀ Q)ᵀ.
        let bt = sparse_times(&by_item, self.binary, &q, l);
        let b = Mat::<f64>::from_fn(l, ni, |i, j| bt[j * l + i]);
        let svd = b.thin_svd().map_err(|_| FitError::Diverged { epoch: 0, value: f64::NAN })?;
        let (vmat, s) = (svd.V(), svd.S().column_vector());
        let mut v = vec![0f32; ni * k];
        for i in 0..ni {
            for f in 0..k {
                v[i * k + f] = vmat[(i, f)] as f32;
            }
        }
        let v64: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
        let p: Vec<f32> = sparse_times(&by_user, self.binary, &v64, k).into_iter().map(|x| x as f32).collect();
        let singular_values = (0..k).map(|f| s[f] as f32).collect();
        Ok(PureSvd { p, v, singular_values, n_factors: k, known: KnownSet::from_train(train) })
    }
}

impl RatingPredictor for PureSvd {
    /// `p_uᵀ v_i`; 0 for an unknown user or item.
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        let k = self.n_factors;
        pairs
            .iter()
            .map(|&(u, i)| {
                let (ku, ki) = (self.known.user(u), self.known.item(i));
                let rating = if ku && ki { dot(&self.p[u as usize * k..(u as usize + 1) * k], &self.v[i as usize * k..(i as usize + 1) * k]) } else { 0.0 };
                Prediction { rating, known_user: ku, known_item: ki }
            })
            .collect()
    }

    fn score_block(&self, users: &[u32], items: &[u32]) -> Vec<f32> {
        let k = self.n_factors;
        let mut out = vec![0f32; users.len() * items.len()];
        out.par_chunks_mut(items.len().max(1)).zip(users.par_iter()).for_each(|(row, &u)| {
            if !self.known.user(u) {
                return;
            }
            let pu = &self.p[u as usize * k..(u as usize + 1) * k];
            for (o, &i) in row.iter_mut().zip(items) {
                if self.known.item(i) {
                    *o = dot(pu, &self.v[i as usize * k..(i as usize + 1) * k]);
                }
            }
        });
        out
    }

    fn feedback(&self) -> Feedback {
        Feedback::Implicit
    }

    fn dot_factors(&self) -> Option<burnrec_data::DotFactors> {
        let k = self.n_factors;
        Some(burnrec_data::DotFactors {
            dim: k,
            factor_dim: k,
            users: self.p.clone(),
            items: self.v.clone(),
            user_offset: vec![0.0; self.p.len() / k.max(1)],
            new_user_offset: 0.0,
        })
    }

    /// PureSVD's own fold-in (Cremonesi, Koren & Turrin 2010): `p = r V`, so the scores are
    /// `Σ_{j ∈ history} v_jᵀ v_i`.
    fn history_scores(&self, history: &[u32]) -> Option<Vec<f32>> {
        let k = self.n_factors;
        let n_items = self.v.len() / k.max(1);
        let mut p = vec![0f32; k];
        let mut seen = history.to_vec();
        seen.sort_unstable();
        seen.dedup();
        for &j in seen.iter().filter(|&&j| (j as usize) < n_items) {
            for (a, b) in p.iter_mut().zip(&self.v[j as usize * k..(j as usize + 1) * k]) {
                *a += b;
            }
        }
        Some(self.v.chunks_exact(k).map(|vi| dot(&p, vi)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnrec_data::Rating;

    #[test]
    fn recovers_the_singular_values_of_a_small_matrix() {
        // R = [[3, 0], [4, 5]]: RᵀR = [[9 + 16, 20], [20, 25]] = [[25, 20], [20, 25]], whose
        // eigenvalues are 25 ± 20 = 45 and 5, so the singular values are √45 and √5.
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        let train = Interactions::new(vec![r(0, 0, 3.0), r(1, 0, 4.0), r(1, 1, 5.0)], 2, 2).unwrap();
        let m = PureSvdParams { n_factors: 2, ..Default::default() }.fit(&train).unwrap();
        assert!((m.singular_values[0] - 45f32.sqrt()).abs() < 1e-4, "{:?}", m.singular_values);
        assert!((m.singular_values[1] - 5f32.sqrt()).abs() < 1e-4, "{:?}", m.singular_values);
        // Full rank: P Vᵀ = R V Vᵀ = R.
        let s = m.score_block(&[0, 1], &[0, 1]);
        for (a, b) in s.iter().zip([3.0, 0.0, 4.0, 5.0]) {
            assert!((a - b).abs() < 1e-4, "{s:?}");
        }
    }

    #[test]
    fn rank_one_keeps_the_dominant_direction() {
        // Two groups of users with disjoint tastes, the first group larger: rank 1 follows it.
        let r = |user, item| Rating { user, item, rating: 1.0, timestamp: None };
        let mut v = Vec::new();
        for u in 0..6 {
            v.push(r(u, 0));
            v.push(r(u, 1));
        }
        for u in 6..8 {
            v.push(r(u, 2));
        }
        v.push(r(0, 2)); // user 0 also likes item 2
        let train = Interactions::new(v, 8, 3).unwrap();
        let m = PureSvdParams { n_factors: 1, binary: true, ..Default::default() }.fit(&train).unwrap();
        // RᵀR = [[6, 6, 1], [6, 6, 1], [1, 1, 3]]; its top eigenvector is (a, a, c) with
        // 12a + c = λa and 2a + 3c = λc, so λ² − 15λ + 34 = 0, λ = (15 + √89)/2 = 12.2170,
        // c/a = λ − 12 = 0.2170, a = 1/√(2 + 0.2170²) = 0.69893, c = 0.15170. User 1's row is
        // (1, 1, 0): p = 2a, scores 2a·a = 0.97699 for items 0 and 1, 2a·c = 0.21206 for item 2.
        let s = m.score_block(&[1], &[0, 1, 2]);
        for (got, want) in s.iter().zip([0.97699, 0.97699, 0.21206]) {
            assert!((got - want).abs() < 1e-4, "{s:?}");
        }
        assert!((m.singular_values[0] - 12.2170f32.sqrt()).abs() < 1e-4, "{:?}", m.singular_values);
        let back: PureSvd = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back.score_block(&[0, 7], &[0, 1, 2]), m.score_block(&[0, 7], &[0, 1, 2]));
        assert!(PureSvdParams { n_factors: 4, ..Default::default() }.fit(&train).is_err());
    }
}
