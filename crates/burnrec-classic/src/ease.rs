//! EASE, the embarrassingly shallow linear autoencoder (Steck, "Embarrassingly Shallow
//! Autoencoders for Sparse Data", WWW 2019): a dense item × item weight matrix with a zero
//! diagonal, in closed form from the regularised Gram matrix of the interactions.

use burnrec_data::csr::Csr;
use burnrec_data::{Feedback, Interactions, KnownSet, Prediction, RatingPredictor};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{LltRegularization, cholesky_in_place, cholesky_in_place_scratch};
use faer::linalg::cholesky::llt::inverse::{inverse, inverse_scratch};
use faer::{MatMut, MatRef, Par};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Fit;
use crate::als::{axpy, fill_popularity, interaction_rows, popularity};
use crate::error::{FitError, ParamError, ensure};

/// Parameters of [`Ease`].
///
/// Model: with `X` the users × items interaction matrix (`x_ui = 1` when `binary`),
/// `G = XᵀX + λI`, `P = G⁻¹`, the weights are `B = I − P · diag(1 / diag(P))`, i.e.
/// `B_ij = −P_ij / P_jj` off the diagonal and `B_jj = 0` — the minimiser of
/// `‖X − XB‖²_F + λ‖B‖²_F` subject to `diag(B) = 0`. The score of `(u, j)` is
/// `(X_u B)_j = Σ_{i ∈ I_u} x_ui B_ij`.
///
/// Only the `n` items with at least one training interaction enter the dense matrices (the
/// others have zero rows and columns in `B` anyway). Memory is dense and quadratic: the fit
/// allocates at most `24 n²` bytes at once (`G` factored in place, `P` and faer's `n × n`
/// scratch, all `f64`; only about `16 n²` of it is touched, since the inverse works on lower
/// triangles), and the fitted model keeps `B` as `f32`, `4 n²` bytes. The fit checks
/// [`EaseParams::memory_estimate`] against `memory_limit_mib` before allocating anything
/// large. Time is `O(n³)` for the Cholesky factorisation and inverse (faer, parallel on
/// the rayon pool) plus `Σ_u |I_u|²` for `XᵀX`. Measured on 2 cores: 1 682 items 0.2 s,
/// 9 701 items (ml-latest-small) 20 s and 1.6 GB resident.
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `lambda` | 500 | L2 weight λ added to the diagonal of `XᵀX` (in interaction-count units) | `(0, ∞)` |
/// | `binary` | true | every interaction counts as `x_ui = 1` (false: the stored value, which must be > 0) | |
/// | `memory_limit_mib` | 4096 | refuse to fit if the estimated peak exceeds this many MiB | `≥ 1` |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EaseParams {
    /// L2 regularisation λ.
    pub lambda: f32,
    /// Treat every interaction as 1.
    pub binary: bool,
    /// Largest estimated peak memory, MiB.
    pub memory_limit_mib: u64,
}

impl Default for EaseParams {
    fn default() -> Self {
        Self { lambda: 500.0, binary: true, memory_limit_mib: 4096 }
    }
}

impl EaseParams {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`ParamError`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), ParamError> {
        ensure(self.lambda.is_finite() && self.lambda > 0.0, "lambda", self.lambda, "finite and > 0")?;
        ensure(self.memory_limit_mib >= 1, "memory_limit_mib", self.memory_limit_mib, ">= 1")
    }

    /// Estimated peak memory of fitting on `train`, in bytes (an upper bound on what is
    /// allocated): `24 n² + 16 nnz + 16 (n_users + n_items)` with `n` the number of distinct
    /// items in `train` (dense `f64` Gram matrix, inverse and scratch, plus the sparse copies
    /// of the interactions). The fitted model holds `4 n²` bytes of weights. O(len) to
    /// compute.
    pub fn memory_estimate(&self, train: &Interactions) -> u64 {
        let mut seen = vec![false; train.n_items()];
        for &i in train.items() {
            seen[i as usize] = true;
        }
        let n = seen.iter().filter(|&&s| s).count() as u64;
        dense_bytes(n) + 16 * train.len() as u64 + 16 * (train.n_users() + train.n_items()) as u64
    }
}

fn dense_bytes(n: u64) -> u64 {
    24 * n * n
}

/// A fitted [`EaseParams`]. Scores are unitless ([`Feedback::Implicit`]).
///
/// # Shapes
/// - `items`: `[n]`, the item indices with training interactions, ascending.
/// - `b`: `[n, n]` row-major over positions in `items`: `b[r * n + c]` is `B_{items[r], items[c]}`;
///   the diagonal is 0.
///
/// A user without training interactions (or outside the index space) is scored by item
/// popularity — the share of training users who interacted with the item, in `[0, 1]` — with
/// `known_user = false`; an item without training interactions, or outside the index space,
/// scores 0 for a known user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ease {
    /// Active item indices `[n]`, ascending.
    pub items: Vec<u32>,
    /// Weights `B`, `[n, n]` row-major (saved as a base64 blob, [`crate::f32_blob`]).
    #[serde(with = "crate::f32_blob")]
    pub b: Vec<f32>,
    user_items: Csr,
    popularity: Vec<f32>,
    known: KnownSet,
}

impl Ease {
    /// `B_ij` for item indices `i`, `j` (0 if either has no training interaction).
    pub fn weight(&self, i: u32, j: u32) -> f32 {
        match (self.position(i), self.position(j)) {
            (Some(r), Some(c)) => self.b[r * self.items.len() + c],
            _ => 0.0,
        }
    }

    fn position(&self, item: u32) -> Option<usize> {
        self.items.binary_search(&item).ok()
    }

    /// `X_u B` over active positions (`[n]`), accumulated into `acc`.
    fn user_row(&self, u: usize, acc: &mut [f32]) {
        self.row_scores(self.user_items.row(u).iter().copied().zip(self.user_items.row_values(u).iter().copied()), acc);
    }

    /// `Σ_j x_j B_j·` over active positions (`[n]`) for the `(item, x_j)` pairs of one user,
    /// into `acc` (cleared first); items outside the active set contribute nothing.
    fn row_scores(&self, row: impl Iterator<Item = (u32, f32)>, acc: &mut [f32]) {
        let n = self.items.len();
        acc.iter_mut().for_each(|a| *a = 0.0);
        for (i, x) in row {
            if let Some(r) = self.position(i) {
                axpy(x, &self.b[r * n..(r + 1) * n], acc);
            }
        }
    }
}

impl Fit for EaseParams {
    type Model = Ease;

    /// # Errors
    /// [`FitError::Param`] for a bad parameter; [`FitError::EmptyTrainSet`] for an empty
    /// `train`; [`FitError::Input`] if `binary` is false and a value is `<= 0`;
    /// [`FitError::Memory`] if [`EaseParams::memory_estimate`] exceeds `memory_limit_mib`
    /// (checked before the dense matrices are allocated).
    fn fit(&self, train: &Interactions) -> Result<Ease, FitError> {
        self.check()?;
        if train.is_empty() {
            return Err(FitError::EmptyTrainSet);
        }
        let needed = self.memory_estimate(train);
        let needed_mib = needed.div_ceil(1 << 20);
        if needed_mib > self.memory_limit_mib {
            let n = train.item_counts().iter().filter(|&&c| c > 0).count();
            return Err(FitError::Memory {
                needed_mib,
                limit_mib: self.memory_limit_mib,
                hint: format!(
                    "EASE is dense in the {n} items with interactions (24 bytes × items² at the peak); raise \
                     `memory_limit_mib`, or keep fewer items (e.g. drop the rarest with --min-item-interactions N) before fitting"
                ),
            });
        }
        let by_user = interaction_rows(train, self.binary)?;
        let by_item = by_user.transpose(train.n_items());
        let items: Vec<u32> = (0..train.n_items() as u32).filter(|&i| !by_item.row(i as usize).is_empty()).collect();
        let n = items.len();
        let mut pos = vec![u32::MAX; train.n_items()];
        for (p, &i) in items.iter().enumerate() {
            pos[i as usize] = p as u32;
        }
        // G = XᵀX + λI, column-major (symmetric): column a = Σ_{u ∈ U_i} x_ui X_u, parallel over
        // columns, each summed in a fixed order.
        let lambda = f64::from(self.lambda);
        let mut g = vec![0f64; n * n];
        g.par_chunks_mut(n).enumerate().for_each(|(a, col)| {
            let i = items[a] as usize;
            for (&u, &x) in by_item.row(i).iter().zip(by_item.row_values(i)) {
                let x = f64::from(x);
                for (&j, &y) in by_user.row(u as usize).iter().zip(by_user.row_values(u as usize)) {
                    col[pos[j as usize] as usize] += x * f64::from(y);
                }
            }
            col[a] += lambda;
        });
        let p = invert_spd(&mut g, n)?;
        drop(g);
        // B_rc = −P_rc / P_cc, B_cc = 0; P holds its lower triangle (column-major).
        let mut b = vec![0f32; n * n];
        b.par_chunks_mut(n.max(1)).enumerate().for_each(|(r, row)| {
            for (c, v) in row.iter_mut().enumerate() {
                if r != c {
                    let (lo, hi) = (r.min(c), r.max(c));
                    *v = (-p[lo * n + hi] / p[c * n + c]) as f32;
                }
            }
        });
        let popularity = popularity(&by_user, train.n_items());
        Ok(Ease { items, b, user_items: by_user, popularity, known: KnownSet::from_train(train) })
    }
}

/// `G⁻¹` of a symmetric positive definite `[n, n]` column-major `g` (overwritten by its
/// Cholesky factor): returns the inverse's lower triangle, column-major (faer, rayon pool).
fn invert_spd(g: &mut [f64], n: usize) -> Result<Vec<f64>, FitError> {
    let par = Par::rayon(0);
    let mut mem = MemBuffer::new(cholesky_in_place_scratch::<f64>(n, par, Default::default()));
    cholesky_in_place(MatMut::from_column_major_slice_mut(g, n, n), LltRegularization::default(), par, MemStack::new(&mut mem), Default::default())
        .map_err(|e| FitError::Input(format!("XᵀX + λI is not positive definite ({e:?}); raise `lambda`")))?;
    let mut p = vec![0f64; n * n];
    let mut mem = MemBuffer::new(inverse_scratch::<f64>(n, par));
    inverse(MatMut::from_column_major_slice_mut(&mut p, n, n), MatRef::from_column_major_slice(g, n, n), par, MemStack::new(&mut mem));
    Ok(p)
}

impl RatingPredictor for Ease {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        let n = self.items.len();
        pairs
            .iter()
            .map(|&(u, j)| {
                let (ku, kj) = (self.known.user(u), self.known.item(j));
                let rating = if !ku {
                    self.popularity.get(j as usize).copied().unwrap_or(0.0)
                } else if let Some(c) = self.position(j) {
                    let mut s = 0f32;
                    for (&i, &x) in self.user_items.row(u as usize).iter().zip(self.user_items.row_values(u as usize)) {
                        if let Some(r) = self.position(i) {
                            s += x * self.b[r * n + c];
                        }
                    }
                    s
                } else {
                    0.0
                };
                Prediction { rating, known_user: ku, known_item: kj }
            })
            .collect()
    }

    /// The user's row of `X` times `B`, parallel over users.
    fn score_block(&self, users: &[u32], items: &[u32]) -> Vec<f32> {
        let mut out = vec![0f32; users.len() * items.len()];
        if items.is_empty() {
            return out;
        }
        let cols: Vec<Option<usize>> = items.iter().map(|&i| self.position(i)).collect();
        let n = self.items.len();
        out.par_chunks_mut(items.len()).zip(users.par_iter()).for_each_init(
            || vec![0f32; n],
            |acc, (row, &u)| {
                if !self.known.user(u) {
                    fill_popularity(row, items, &self.popularity);
                    return;
                }
                self.user_row(u as usize, acc);
                for (o, c) in row.iter_mut().zip(&cols) {
                    *o = c.map_or(0.0, |c| acc[c]);
                }
            },
        );
        out
    }

    fn feedback(&self) -> Feedback {
        Feedback::Implicit
    }

    /// `Σ_{j ∈ history} B_ji` (every interaction counts 1): EASE scores any user from their
    /// items, no training row needed.
    fn history_scores(&self, history: &[u32]) -> Option<Vec<f32>> {
        let mut seen = history.to_vec();
        seen.sort_unstable();
        seen.dedup();
        let mut acc = vec![0f32; self.items.len()];
        self.row_scores(seen.into_iter().map(|j| (j, 1.0)), &mut acc);
        let mut out = vec![0f32; self.popularity.len()];
        for (&i, &s) in self.items.iter().zip(&acc) {
            out[i as usize] = s;
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::als::tests::{assert_history_scores_equal_the_users, cells, two_blocks};

    /// u0: {0, 1}; u1: {0}; u2: {1, 2}; item 3 unused.
    fn small() -> Interactions {
        cells(&[(0, 0), (0, 1), (1, 0), (2, 1), (2, 2)], 4, 4)
    }

    /// A history equal to a training user's items scores every item exactly as that user.
    #[test]
    fn history_scores_equal_the_training_users_scores() {
        let data = small();
        assert_history_scores_equal_the_users(&EaseParams::default().fit(&data).unwrap(), &data);
    }

    #[test]
    fn weights_by_hand() {
        // XᵀX = [[2, 1, 0], [1, 2, 1], [0, 1, 1]] over items 0..3 (item 3 has no interaction),
        // G = XᵀX + I = [[3, 1, 0], [1, 3, 1], [0, 1, 2]], det G = 3·5 − 1·2 = 13,
        // P = G⁻¹ = [[5, −2, 1], [−2, 6, −3], [1, −3, 8]] / 13,
        // B_ij = −P_ij / P_jj: B = [[0, 1/3, −1/8], [2/5, 0, 3/8], [−1/5, 1/2, 0]].
        let m = EaseParams { lambda: 1.0, ..Default::default() }.fit(&small()).unwrap();
        assert_eq!(m.items, vec![0, 1, 2]);
        let want = [[0.0, 1.0 / 3.0, -1.0 / 8.0], [2.0 / 5.0, 0.0, 3.0 / 8.0], [-1.0 / 5.0, 1.0 / 2.0, 0.0]];
        for (i, row) in want.iter().enumerate() {
            for (j, &w) in row.iter().enumerate() {
                assert!((f64::from(m.weight(i as u32, j as u32)) - w).abs() < 1e-6, "B[{i}][{j}] = {} vs {w}", m.weight(i as u32, j as u32));
            }
        }
        assert_eq!(m.weight(3, 0), 0.0);
        // Scores X_u B: u1 = row 0 = (0, 1/3, −1/8); u0 = rows 0 + 1 = (2/5, 1/3, 1/4);
        // u2 = rows 1 + 2 = (1/5, 1/2, 3/8); item 3 scores 0.
        let s = m.score_block(&[1, 0, 2], &[0, 1, 2, 3]);
        let want = [0.0, 1.0 / 3.0, -0.125, 0.0, 0.4, 1.0 / 3.0, 0.25, 0.0, 0.2, 0.5, 0.375, 0.0];
        for (a, b) in s.iter().zip(want) {
            assert!((f64::from(*a) - b).abs() < 1e-6, "{s:?}");
        }
        let p = m.predict(0, 3);
        assert!(p.known_user && !p.known_item && p.rating == 0.0);
        // User 3 has no interactions: popularity shares (2/3, 2/3, 1/3, 0).
        let s = m.score_block(&[3], &[0, 1, 2, 3, 17]);
        assert!(s.iter().zip([2.0 / 3.0, 2.0 / 3.0, 1.0 / 3.0, 0.0, 0.0]).all(|(a, b)| (f64::from(*a) - b).abs() < 1e-6), "{s:?}");
        assert!(!m.predict(3, 0).known_user);
        assert_eq!(m.feedback(), Feedback::Implicit);
    }

    #[test]
    fn memory_is_estimated_and_limited_before_allocating() {
        // n = 3 active items, nnz = 5, 4 users, 4 items: 24·9 + 16·5 + 16·8 = 424 bytes.
        assert_eq!(EaseParams::default().memory_estimate(&small()), 424);
        // 700 items → 24 · 700² ≈ 11.2 MiB > 8 MiB.
        let wide = cells(&(0..700).map(|i| (0, i)).collect::<Vec<_>>(), 1, 700);
        let p = EaseParams { memory_limit_mib: 8, ..Default::default() };
        match p.fit(&wide) {
            Err(FitError::Memory { needed_mib, limit_mib, hint }) => {
                assert_eq!((needed_mib, limit_mib), (12, 8));
                assert!(hint.contains("memory_limit_mib"), "{hint}");
            }
            other => panic!("expected a memory error, got {other:?}"),
        }
    }

    #[test]
    fn planted_blocks_rank_the_held_out_item_first() {
        let data = two_blocks(40, 20);
        let m = EaseParams { lambda: 1.0, ..Default::default() }.fit(&data).unwrap();
        for u in [0u32, 7, 25, 39] {
            let base = if u < 20 { 0 } else { 10 };
            let held = base + u % 10;
            let candidates: Vec<u32> = (0..20).filter(|&i| (i < 10) != (base == 0) || i == held).collect();
            assert_eq!(m.recommend(u, &candidates, 1)[0].0, held, "user {u}");
        }
    }

    #[test]
    fn score_block_matches_predict_batch_and_serde() {
        let data = two_blocks(30, 16);
        let p = EaseParams { lambda: 5.0, ..Default::default() };
        let run = |threads| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| p.fit(&data).unwrap());
        let m = run(1);
        let m2 = run(2);
        assert!(m.b.iter().zip(&m2.b).all(|(a, b)| (a - b).abs() < 1e-6), "1 and 2 threads agree");
        let (users, items) = ([0u32, 9, 29, 31], [0u32, 5, 15, 16]);
        let pairs: Vec<(u32, u32)> = users.iter().flat_map(|&u| items.iter().map(move |&i| (u, i))).collect();
        let single: Vec<f32> = m.predict_batch(&pairs).iter().map(|p| p.rating).collect();
        assert_eq!(m.score_block(&users, &items), single);
        let back: Ease = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.score_block(&users, &items), single);
    }

    #[test]
    fn bad_params_are_errors() {
        let e = EaseParams { lambda: 0.0, ..Default::default() }.check().unwrap_err();
        assert_eq!(e.to_string(), "invalid parameter `lambda` = 0: expected finite and > 0");
        assert!(EaseParams { memory_limit_mib: 0, ..Default::default() }.check().is_err());
        let empty = Interactions::new(vec![], 2, 2).unwrap();
        assert!(matches!(EaseParams::default().fit(&empty), Err(FitError::EmptyTrainSet)));
        let p: EaseParams = serde_json::from_str(r#"{"lambda": 250}"#).unwrap();
        assert_eq!(p, EaseParams { lambda: 250.0, ..Default::default() });
    }
}
