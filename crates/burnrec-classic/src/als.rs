//! Implicit-feedback alternating least squares with confidence weights (Hu, Koren & Volinsky,
//! "Collaborative Filtering for Implicit Feedback Datasets", ICDM 2008), each least-squares
//! problem solved approximately by a few conjugate-gradient steps warm-started from the
//! previous factors (Takács, Pilászy & Tikk, "Applications of the Conjugate Gradient Method for
//! Implicit Feedback Collaborative Filtering", RecSys 2011) — the algorithm of implicit's
//! `AlternatingLeastSquares` (benfred/implicit 0.7, `use_cg=True`).
//!
//! This module also holds the small kernels the four implicit-feedback models (ALS, BPR,
//! item-KNN, EASE) share: the merged training matrix, the popularity fallback for unknown
//! users, and vectorisable dot / axpy loops.

use burnrec_data::csr::Csr;
use burnrec_data::{DotFactors, Feedback, Interactions, KnownSet, Prediction, RatingPredictor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Fit;
use crate::error::{FitError, ParamError, ensure};

/// Parameters of [`Als`]. Defaults are implicit's `AlternatingLeastSquares` defaults.
///
/// Model (Hu et al. 2008): preference `p_ui = 1` for every observed pair and 0 otherwise;
/// confidence `c_ui = alpha · r_ui` for observed pairs (`r_ui` = 1 when `binary`, else the
/// stored value) and 1 otherwise — implicit's convention, so `alpha` means what it means there.
/// ALS minimises `Σ_{u,i} c_ui (p_ui − x_uᵀ y_i)² + regularization (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)`
/// over *all* user × item cells, alternating: each iteration solves every user factor `x_u`
/// with the item factors fixed, then every item factor `y_i` with the user factors fixed. Each
/// solve is `(YᵀY + λI + Yᵀ(C_u − I)Y) x_u = Yᵀ C_u p_u`, approximated by `cg_steps`
/// conjugate-gradient steps started from the current `x_u` (so the cost is linear in the
/// number of interactions, never forming the `k × k` matrix per user).
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `factors` | 100 | latent dimension k | `1..=10000` |
/// | `regularization` | 0.01 | L2 weight λ on user and item factors | `[0, ∞)` |
/// | `alpha` | 1.0 | confidence of an observed pair: `c_ui = alpha · r_ui` | `(0, ∞)` |
/// | `iterations` | 15 | ALS sweeps (users, then items) | `≥ 1` |
/// | `cg_steps` | 3 | conjugate-gradient steps per least-squares solve | `≥ 1` |
/// | `binary` | true | every interaction counts as `r_ui = 1` (false: the stored value, which must be > 0) | |
/// | `seed` | 42 | seeds the initial factors | |
///
/// The paper writes the confidence as `1 + α' r_ui`; on binary data that is `alpha = 1 + α'`
/// here. With the defaults (binary, `alpha = 1`) an observed cell has confidence 1, like a
/// missing one, and differs only by its preference 1 — exactly implicit 0.7's default run.
///
/// Initialisation as implicit: user then item factors uniform in `[0, 0.01)` (a seeded ChaCha8
/// stream, not numpy's). A user or item without interactions gets a zero factor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlsParams {
    /// Latent dimension k.
    pub factors: usize,
    /// L2 regularisation λ.
    pub regularization: f32,
    /// Confidence α of an observed pair: `c_ui = α r_ui`.
    pub alpha: f32,
    /// ALS sweeps.
    pub iterations: usize,
    /// Conjugate-gradient steps per solve.
    pub cg_steps: usize,
    /// Treat every interaction as `r_ui = 1`.
    pub binary: bool,
    /// Random seed of the initial factors.
    pub seed: u64,
}

impl Default for AlsParams {
    fn default() -> Self {
        Self { factors: 100, regularization: 0.01, alpha: 1.0, iterations: 15, cg_steps: 3, binary: true, seed: 42 }
    }
}

impl AlsParams {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`ParamError`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), ParamError> {
        ensure((1..=crate::error::MAX_FACTORS).contains(&self.factors), "factors", self.factors, "in 1..=10000")?;
        ensure(self.regularization.is_finite() && self.regularization >= 0.0, "regularization", self.regularization, "finite and >= 0")?;
        ensure(self.alpha.is_finite() && self.alpha > 0.0, "alpha", self.alpha, "finite and > 0")?;
        ensure(self.iterations >= 1, "iterations", self.iterations, ">= 1")?;
        ensure(self.cg_steps >= 1, "cg_steps", self.cg_steps, ">= 1")
    }
}

/// A fitted [`AlsParams`]: the score of `(u, i)` is `x_uᵀ y_i`, a unitless ranking score
/// ([`Feedback::Implicit`]).
///
/// # Shapes
/// - `user_factors`: `[n_users, factors]` row-major; `item_factors`: `[n_items, factors]`
///   row-major. Users and items without training interactions have zero rows.
///
/// A user without training interactions (or outside the index space) is scored by item
/// popularity instead — the share of training users who interacted with the item, in
/// `[0, 1]` — with `known_user = false`; an item outside the index space scores 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Als {
    /// User factors `[n_users, factors]`.
    pub user_factors: Vec<f32>,
    /// Item factors `[n_items, factors]`.
    pub item_factors: Vec<f32>,
    /// Latent dimension k.
    pub factors: usize,
    popularity: Vec<f32>,
    known: KnownSet,
}

impl Fit for AlsParams {
    type Model = Als;

    /// # Errors
    /// [`FitError::Param`] for a bad parameter; [`FitError::EmptyTrainSet`] for an empty
    /// `train`; [`FitError::Input`] if `binary` is false and a value is `<= 0`;
    /// [`FitError::Diverged`] if a factor becomes non-finite (raise `regularization`).
    fn fit(&self, train: &Interactions) -> Result<Als, FitError> {
        self.check()?;
        let by_user = interaction_rows(train, self.binary)?;
        let by_item = by_user.transpose(train.n_items());
        let k = self.factors;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut x: Vec<f32> = (0..train.n_users() * k).map(|_| rng.random::<f32>() * 0.01).collect();
        let mut y: Vec<f32> = (0..train.n_items() * k).map(|_| rng.random::<f32>() * 0.01).collect();
        for it in 1..=self.iterations {
            least_squares_cg(&by_user, &mut x, &y, k, self.regularization, self.alpha, self.cg_steps);
            least_squares_cg(&by_item, &mut y, &x, k, self.regularization, self.alpha, self.cg_steps);
            if let Some(v) = x.iter().chain(&y).find(|v| !v.is_finite()) {
                return Err(FitError::Diverged { epoch: it, value: f64::from(*v) });
            }
        }
        Ok(Als { user_factors: x, item_factors: y, factors: k, popularity: popularity(&by_user, train.n_items()), known: KnownSet::from_train(train) })
    }
}

impl RatingPredictor for Als {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        factor_predictions(pairs, &self.user_factors, &self.item_factors, self.factors, &self.known, &self.popularity)
    }

    fn score_block(&self, users: &[u32], items: &[u32]) -> Vec<f32> {
        factor_score_block(users, items, &self.user_factors, &self.item_factors, self.factors, &self.known, &self.popularity)
    }

    fn feedback(&self) -> Feedback {
        Feedback::Implicit
    }

    fn dot_factors(&self) -> Option<DotFactors> {
        let n_users = self.user_factors.len() / self.factors;
        Some(DotFactors {
            dim: self.factors,
            factor_dim: self.factors,
            users: self.user_factors.clone(),
            items: self.item_factors.clone(),
            user_offset: vec![0.0; n_users],
            new_user_offset: 0.0,
        })
    }
}

/// Fold-in of users known only by a history of items into a fixed item-factor matrix (Hu,
/// Koren & Volinsky, ICDM 2008, eq. 4 — one ALS user solve, what implicit's
/// `recalculate_user` does): `x = argmin Σ_i c_i (p_i − xᵀy_i)² + λ‖x‖²` over *every* item,
/// with preference `p_i = 1` and confidence `c_i = confidence` for the history's items and
/// `p_i = 0`, `c_i = 1` for all others. `YᵀY + λI` is computed once ([`FoldIn::new`]), each
/// solve then costs `O(k² + |history| · k)` per conjugate-gradient step. With ALS's own
/// `regularization` and `alpha` this is the converged ALS user step of a binary ALS (training
/// runs `cg_steps` from the previous vector instead).
#[derive(Clone, Debug)]
pub struct FoldIn {
    yty: Vec<f32>,
    k: usize,
    confidence: f32,
}

impl FoldIn {
    /// For item factors `y` (`[n_items, k]`, row-major), ridge weight `reg` (λ ≥ 0) and
    /// confidence `confidence` (> 0; ALS's `alpha`).
    ///
    /// # Panics
    /// If `k` is 0 or `y.len()` is not a multiple of `k`.
    pub fn new(y: &[f32], k: usize, reg: f32, confidence: f32) -> Self {
        assert!(k > 0 && y.len().is_multiple_of(k), "item factors of {} values are not rows of {k}", y.len());
        let mut yty = gram(y, k);
        for d in 0..k {
            yty[d * k + d] += reg;
        }
        Self { yty, k, confidence }
    }

    /// The user vector `[k]` for `history` (item indices; duplicates count once), solved by
    /// conjugate gradient from zero (at most `2k` steps, stopping at `‖r‖² < 1e-20`). An empty
    /// history gives the zero vector.
    ///
    /// # Panics
    /// If an index of `history` is not a row of `y` (the same `y` as in [`FoldIn::new`]).
    pub fn solve(&self, y: &[f32], history: &[u32]) -> Vec<f32> {
        let k = self.k;
        let mut cols = history.to_vec();
        cols.sort_unstable();
        cols.dedup();
        assert!(cols.last().is_none_or(|&i| (i as usize + 1) * k <= y.len()), "history item outside the factor matrix");
        let vals = vec![1f32; cols.len()];
        let mut x = vec![0f32; k];
        if !cols.is_empty() {
            let mut buf = vec![0f32; 3 * k];
            Isa::detect().cg_solve(&self.yty, y, k, &cols, &vals, self.confidence, &mut x, 2 * k, &mut buf);
        }
        x
    }
}

/// One half-sweep of ALS: recomputes every row of `x` (`[rows, k]`) from the fixed `y`
/// (`[cols, k]`) and the confidences in `rows`, as implicit's `least_squares_cg`: residual
/// `r = Yᵀ C_u p_u − (YᵀY + λI + Yᵀ(C_u − I)Y) x_u`, then `cg_steps` CG steps (stopping early
/// when `‖r‖² < 1e-20`). Rows without entries are set to zero. Rows are independent, so the
/// result does not depend on the thread count; `YᵀY` is summed in fixed-size chunks in a fixed
/// order for the same reason.
pub(crate) fn least_squares_cg(rows: &Csr, x: &mut [f32], y: &[f32], k: usize, reg: f32, alpha: f32, cg_steps: usize) {
    let mut yty = gram(y, k);
    for d in 0..k {
        yty[d * k + d] += reg;
    }
    let yty = &yty;
    let isa = Isa::detect();
    x.par_chunks_mut(k).enumerate().for_each_init(
        || vec![0f32; 3 * k],
        |buf, (u, xu)| {
            let (cols, vals) = rows.entries(u);
            if cols.is_empty() {
                xu.iter_mut().for_each(|v| *v = 0.0);
                return;
            }
            isa.cg_solve(yty, y, k, cols, vals, alpha, xu, cg_steps, buf);
        },
    );
}

/// The widest vector instruction set this CPU has, for the hot loops. Every variant runs the
/// same scalar program (same operation order, no fused multiply-add), so results are
/// bit-identical whichever is picked; only the speed differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// The compile-time target (SSE2 on a default x86-64 build).
    Baseline,
    /// 256-bit AVX2.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// 512-bit AVX-512F.
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    }

    /// [`cg_solve`] compiled for this instruction set.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) fn cg_solve(self, yty: &[f32], y: &[f32], k: usize, cols: &[u32], vals: &[f32], alpha: f32, x: &mut [f32], steps: usize, buf: &mut [f32]) {
        match self {
            Isa::Baseline => cg_solve(yty, y, k, cols, vals, alpha, x, steps, buf),
            // SAFETY: `detect` saw the feature on this CPU.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { cg_solve_avx2(yty, y, k, cols, vals, alpha, x, steps, buf) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { cg_solve_avx512(yty, y, k, cols, vals, alpha, x, steps, buf) },
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
fn cg_solve_avx2(yty: &[f32], y: &[f32], k: usize, cols: &[u32], vals: &[f32], alpha: f32, x: &mut [f32], steps: usize, buf: &mut [f32]) {
    cg_solve(yty, y, k, cols, vals, alpha, x, steps, buf)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
fn cg_solve_avx512(yty: &[f32], y: &[f32], k: usize, cols: &[u32], vals: &[f32], alpha: f32, x: &mut [f32], steps: usize, buf: &mut [f32]) {
    cg_solve(yty, y, k, cols, vals, alpha, x, steps, buf)
}

/// Conjugate gradient on `(A + Σ_i α r_i y_i y_iᵀ) x = Σ_i (1 + α r_i) y_i` where
/// `A = yty` (`[k, k]`, row-major, symmetric), `y_i` the rows `cols` of `y`, starting from the
/// current `x`; `buf` is scratch of `3k`. Mirrors implicit's `_least_squares_cg` step by step.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn cg_solve(yty: &[f32], y: &[f32], k: usize, cols: &[u32], vals: &[f32], alpha: f32, x: &mut [f32], steps: usize, buf: &mut [f32]) {
    let (r, rest) = buf.split_at_mut(k);
    let (p, ap) = rest.split_at_mut(k);
    // r = −A x + Σ_i (c_i − (c_i − 1) y_iᵀx) y_i
    symv(yty, x, r, k, -1.0);
    for (&i, &v) in cols.iter().zip(vals) {
        let yi = &y[i as usize * k..(i as usize + 1) * k];
        let w = alpha * v - 1.0; // c − 1
        // With c = 1 the term is exactly y_i: skip the dot product.
        let t = if w == 0.0 { 1.0 } else { (1.0 + w) - w * dot(yi, x) };
        axpy(t, yi, r);
    }
    p.copy_from_slice(r);
    let mut rsold = dot(r, r);
    if rsold < 1e-20 {
        return;
    }
    for _ in 0..steps {
        // Ap = A p + Σ_i (c_i − 1)(y_iᵀ p) y_i
        symv(yty, p, ap, k, 1.0);
        for (&i, &v) in cols.iter().zip(vals) {
            let w = alpha * v - 1.0;
            // (With c = 1 the term is an exact zero: skipped.)
            if w != 0.0 {
                let yi = &y[i as usize * k..(i as usize + 1) * k];
                axpy(w * dot(yi, p), yi, ap);
            }
        }
        let a = rsold / dot(p, ap);
        axpy(a, p, x);
        axpy(-a, ap, r);
        let rsnew = dot(r, r);
        if rsnew < 1e-20 {
            break;
        }
        let beta = rsnew / rsold;
        for (pv, &rv) in p.iter_mut().zip(r.iter()) {
            *pv = rv + beta * *pv;
        }
        rsold = rsnew;
    }
}

/// `out = s · A v` for a full symmetric `[k, k]` row-major `A`, written as a sum of scaled
/// rows so that it vectorises.
#[inline(always)]
fn symv(a: &[f32], v: &[f32], out: &mut [f32], k: usize, s: f32) {
    out.iter_mut().for_each(|o| *o = 0.0);
    for (d, &vd) in v.iter().enumerate() {
        axpy(s * vd, &a[d * k..(d + 1) * k], out);
    }
}

/// `YᵀY` (`[k, k]`, row-major) of `y` (`[n, k]`): partial sums over fixed chunks of 256 rows,
/// computed in parallel and added in chunk order (the same result for any thread count).
pub(crate) fn gram(y: &[f32], k: usize) -> Vec<f32> {
    const CHUNK: usize = 256;
    let partials: Vec<Vec<f32>> = y
        .par_chunks(CHUNK * k)
        .map(|block| {
            let mut g = vec![0f32; k * k];
            for row in block.chunks_exact(k) {
                for (d, &rd) in row.iter().enumerate() {
                    if rd != 0.0 {
                        axpy(rd, row, &mut g[d * k..(d + 1) * k]);
                    }
                }
            }
            g
        })
        .collect();
    let mut g = vec![0f32; k * k];
    for p in &partials {
        for (a, b) in g.iter_mut().zip(p) {
            *a += b;
        }
    }
    g
}

// ---------------------------------------------------------------------------------------------
// Shared by the implicit-feedback models (ALS, BPR, item-KNN, EASE).
// ---------------------------------------------------------------------------------------------

/// `Σ a_f b_f` over the common length, with sixteen independent accumulators so that it
/// vectorises (a single running sum forces sequential float adds) and the dependency chains
/// stay short. The operation order is fixed, so every instruction set gives the same bits.
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = reduce(acc);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Accumulator lanes of [`dot`].
pub(crate) const LANES: usize = 16;

/// Pairwise sum of the accumulator lanes, in a fixed order.
#[inline(always)]
pub(crate) fn reduce(acc: [f32; LANES]) -> f32 {
    let mut h = [0f32; 8];
    for l in 0..8 {
        h[l] = acc[l] + acc[l + 8];
    }
    ((h[0] + h[4]) + (h[1] + h[5])) + ((h[2] + h[6]) + (h[3] + h[7]))
}

/// `y += a x` over the common length.
#[inline(always)]
pub(crate) fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yv, &xv) in y.iter_mut().zip(x) {
        *yv += a * xv;
    }
}

/// The training interactions by user as the implicit-feedback models read them (ALS, BPR,
/// item-KNN, EASE): [`Csr::merged_by_user`], `[n_users × n_items]`, duplicates merged
/// (`binary`: value 1; otherwise the values summed).
///
/// # Errors
/// [`FitError::EmptyTrainSet`] if `train` is empty; [`FitError::Input`] if `binary` is
/// false and a value is `<= 0` (a confidence or count must be positive).
pub(crate) fn interaction_rows(train: &Interactions, binary: bool) -> Result<Csr, FitError> {
    if train.is_empty() {
        return Err(FitError::EmptyTrainSet);
    }
    if let Some(k) = train.values().iter().position(|&v| v <= 0.0).filter(|_| !binary) {
        let r = train.get(k);
        return Err(FitError::Input(format!(
            "with `binary: false` every value is a count or confidence and must be > 0, but user {} item {} has {} \
             (use `binary: true`, or keep only positive interactions, e.g. with `Interactions::binarize`)",
            r.user, r.item, r.rating
        )));
    }
    Ok(Csr::merged_by_user(train, binary))
}

/// For a users × items matrix: `[n_items]` share of users with at least one interaction
/// who interacted with each item, in `[0, 1]`.
pub(crate) fn popularity(rows: &Csr, n_items: usize) -> Vec<f32> {
    let mut count = vec![0u32; n_items];
    for &i in rows.cols() {
        count[i as usize] += 1;
    }
    let active = (0..rows.n_rows()).filter(|&u| !rows.row(u).is_empty()).count().max(1) as f32;
    count.into_iter().map(|c| c as f32 / active).collect()
}

/// The popularity fallback row for an unknown user: `pop[i]`, or 0 for an item outside it.
pub(crate) fn fill_popularity(row: &mut [f32], items: &[u32], pop: &[f32]) {
    for (o, &i) in row.iter_mut().zip(items) {
        *o = pop.get(i as usize).copied().unwrap_or(0.0);
    }
}

/// Predictions of a factor model (`uf`: `[n_users, dim]`, `itf`: `[n_items, dim]`): dot
/// products for known users (0 for items outside the space), popularity otherwise.
pub(crate) fn factor_predictions(pairs: &[(u32, u32)], uf: &[f32], itf: &[f32], dim: usize, known: &KnownSet, pop: &[f32]) -> Vec<Prediction> {
    let n_items = itf.len() / dim;
    pairs
        .iter()
        .map(|&(u, i)| {
            let (ku, ki) = (known.user(u), known.item(i));
            let rating = if !ku {
                pop.get(i as usize).copied().unwrap_or(0.0)
            } else if (i as usize) < n_items {
                let (u, i) = (u as usize, i as usize);
                dot(&uf[u * dim..(u + 1) * dim], &itf[i * dim..(i + 1) * dim])
            } else {
                0.0
            };
            Prediction { rating, known_user: ku, known_item: ki }
        })
        .collect()
}

/// [`RatingPredictor::score_block`] of a factor model, parallel over users: the same values as
/// [`factor_predictions`].
pub(crate) fn factor_score_block(users: &[u32], items: &[u32], uf: &[f32], itf: &[f32], dim: usize, known: &KnownSet, pop: &[f32]) -> Vec<f32> {
    let mut out = vec![0f32; users.len() * items.len()];
    if items.is_empty() {
        return out;
    }
    let n_items = itf.len() / dim;
    out.par_chunks_mut(items.len()).zip(users.par_iter()).for_each(|(row, &u)| {
        if !known.user(u) {
            fill_popularity(row, items, pop);
            return;
        }
        let xu = &uf[u as usize * dim..(u as usize + 1) * dim];
        for (o, &i) in row.iter_mut().zip(items) {
            if (i as usize) < n_items {
                *o = dot(xu, &itf[i as usize * dim..(i as usize + 1) * dim]);
            }
        }
    });
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use burnrec_data::Rating;

    /// Interactions with value 1 from `(user, item)` cells.
    pub(crate) fn cells(cells: &[(u32, u32)], nu: usize, ni: usize) -> Interactions {
        Interactions::new(cells.iter().map(|&(user, item)| Rating { user, item, rating: 1.0, timestamp: None }).collect(), nu, ni).unwrap()
    }

    /// For every training user of `data` (binary): `m.history_scores` of that user's items
    /// (given twice: repeats must not count) equals `m.score_block` of the user on every item,
    /// to 1e-6 relative; an empty history scores every item 0.
    pub(crate) fn assert_history_scores_equal_the_users(m: &dyn RatingPredictor, data: &Interactions) {
        let items: Vec<u32> = (0..data.n_items() as u32).collect();
        for u in 0..data.n_users() as u32 {
            let history: Vec<u32> = data.iter().filter(|r| r.user == u).map(|r| r.item).collect();
            if history.is_empty() {
                continue; // an unknown user is scored by popularity, not by the rule
            }
            let mut twice = history.clone();
            twice.extend(&history);
            let got = m.history_scores(&twice).expect("the model scores histories");
            assert_eq!(got.len(), items.len());
            let want = m.score_block(&[u], &items);
            for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "user {u} item {i}: {a} vs {b}");
            }
        }
        assert!(m.history_scores(&[]).expect("the model scores histories").iter().all(|&v| v == 0.0));
    }

    /// Two planted communities: users `0..nu/2` use items `0..ni/2`, the rest use the rest
    /// (every cell but `(u, (u + 1) % half)`'s own held-out item, which is left out).
    pub(crate) fn two_blocks(nu: u32, ni: u32) -> Interactions {
        let (hu, hi) = (nu / 2, ni / 2);
        let mut c = Vec::new();
        for u in 0..nu {
            let base = if u < hu { 0 } else { hi };
            let held = base + (u % hi);
            for i in base..base + hi {
                if i != held {
                    c.push((u, i));
                }
            }
        }
        cells(&c, nu as usize, ni as usize)
    }

    /// Solves the `k × k` system `a x = b` exactly (Gaussian elimination in f64).
    fn solve_exact(mut a: Vec<f64>, mut b: Vec<f64>, k: usize) -> Vec<f64> {
        for c in 0..k {
            let piv = (c..k).max_by(|&i, &j| a[i * k + c].abs().total_cmp(&a[j * k + c].abs())).unwrap();
            for j in 0..k {
                a.swap(c * k + j, piv * k + j);
            }
            b.swap(c, piv);
            for r in c + 1..k {
                let f = a[r * k + c] / a[c * k + c];
                for j in c..k {
                    a[r * k + j] -= f * a[c * k + j];
                }
                b[r] -= f * b[c];
            }
        }
        let mut x = vec![0f64; k];
        for c in (0..k).rev() {
            let s: f64 = (c + 1..k).map(|j| a[c * k + j] * x[j]).sum();
            x[c] = (b[c] - s) / a[c * k + c];
        }
        x
    }

    #[test]
    fn cg_reaches_the_exact_normal_equations_solution() {
        // 6 items × 4 factors, a user with items {0, 2, 5} and values {1, 3, 2}, α = 2, λ = 0.1.
        // Exact: (YᵀY + λI + Σ (α r_i − 1) y_i y_iᵀ) x = Σ α r_i y_i.
        let k = 4;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let y: Vec<f32> = (0..6 * k).map(|_| rng.random::<f32>() - 0.5).collect();
        let (cols, vals, alpha, reg) = ([0u32, 2, 5], [1.0f32, 3.0, 2.0], 2.0f32, 0.1f32);
        let mut a = vec![0f64; k * k];
        let mut b = vec![0f64; k];
        for i in 0..6 {
            let w = cols.iter().position(|&c| c == i as u32).map_or(0.0, |p| f64::from(alpha * vals[p]) - 1.0);
            for r in 0..k {
                for c in 0..k {
                    a[r * k + c] += (1.0 + w) * f64::from(y[i * k + r]) * f64::from(y[i * k + c]);
                }
                if cols.contains(&(i as u32)) {
                    b[r] += (1.0 + w) * f64::from(y[i * k + r]);
                }
            }
        }
        for d in 0..k {
            a[d * k + d] += f64::from(reg);
        }
        let exact = solve_exact(a, b, k);
        let mut yty = gram(&y, k);
        for d in 0..k {
            yty[d * k + d] += reg;
        }
        // k = 4 CG steps solve a 4 × 4 SPD system exactly in exact arithmetic; allow 8.
        let mut x = vec![0.005f32; k];
        cg_solve(&yty, &y, k, &cols, &vals, alpha, &mut x, 8, &mut vec![0f32; 3 * k]);
        for d in 0..k {
            assert!((f64::from(x[d]) - exact[d]).abs() < 1e-4, "{x:?} vs {exact:?}");
        }
        // One step from the same start is not yet there (the solve is approximate).
        let mut x3 = vec![0.005f32; k];
        cg_solve(&yty, &y, k, &cols, &vals, alpha, &mut x3, 1, &mut vec![0f32; 3 * k]);
        assert!(x3.iter().zip(&exact).any(|(a, b)| (f64::from(*a) - b).abs() > 1e-3));
    }

    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        let k = 37; // not a multiple of the vector width: remainders too
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let y: Vec<f32> = (0..30 * k).map(|_| rng.random::<f32>() - 0.5).collect();
        let mut yty = gram(&y, k);
        for d in 0..k {
            yty[d * k + d] += 0.05;
        }
        let (cols, vals): (Vec<u32>, Vec<f32>) = (0..30u32).step_by(3).map(|i| (i, 1.0 + i as f32 / 7.0)).unzip();
        let solve = |isa: Isa| {
            let mut x: Vec<f32> = (0..k).map(|d| d as f32 * 1e-3).collect();
            isa.cg_solve(&yty, &y, k, &cols, &vals, 1.5, &mut x, 5, &mut vec![0f32; 3 * k]);
            x
        };
        assert_eq!(solve(Isa::Baseline), solve(Isa::detect()));
    }

    #[test]
    fn gram_is_yty() {
        // y = [[1, 2], [3, 4], [0, 1]]: YᵀY = [[1+9, 2+12], [2+12, 4+16+1]].
        assert_eq!(gram(&[1.0, 2.0, 3.0, 4.0, 0.0, 1.0], 2), vec![10.0, 14.0, 14.0, 21.0]);
    }

    #[test]
    fn sparse_rows_merge_duplicates_and_check_values() {
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        let d = Interactions::new(vec![r(0, 2, 2.0), r(0, 1, 1.0), r(0, 2, 3.0), r(2, 0, 4.0)], 3, 3).unwrap();
        let b = interaction_rows(&d, true).unwrap();
        assert_eq!((b.row(0), b.row_values(0)), (&[1, 2][..], &[1.0, 1.0][..]));
        let v = interaction_rows(&d, false).unwrap();
        assert_eq!((v.row(0), v.row_values(0)), (&[1, 2][..], &[1.0, 5.0][..]));
        assert!(v.row(1).is_empty() && v.row(7).is_empty());
        let t = v.transpose(3);
        assert_eq!((t.row(2), t.row_values(2)), (&[0][..], &[5.0][..]));
        assert_eq!((t.row(0), t.row_values(0)), (&[2][..], &[4.0][..]));
        // 2 active users; item 2 used by one of them.
        assert_eq!(popularity(&v, 3), vec![0.5, 0.5, 0.5]);
        let neg = Interactions::new(vec![r(0, 0, -1.0)], 1, 1).unwrap();
        assert!(matches!(interaction_rows(&neg, false), Err(FitError::Input(_))));
        assert!(interaction_rows(&neg, true).is_ok());
        let empty = Interactions::new(vec![], 1, 1).unwrap();
        assert!(matches!(interaction_rows(&empty, true), Err(FitError::EmptyTrainSet)));
    }

    #[test]
    fn planted_blocks_rank_the_held_out_item_first() {
        let data = two_blocks(40, 20);
        let m = AlsParams { factors: 8, iterations: 10, regularization: 0.1, ..Default::default() }.fit(&data).unwrap();
        for u in [0u32, 7, 25, 39] {
            let base = if u < 20 { 0 } else { 10 };
            let held = base + u % 10;
            let others: Vec<u32> = (0..20).filter(|i| (*i < 10) != (base == 0) || *i == held).collect();
            let s = m.score_block(&[u], &others);
            let held_score = s[others.iter().position(|&i| i == held).unwrap()];
            // The held-out item of the user's own block beats every item of the other block.
            for (&i, &v) in others.iter().zip(&s) {
                if i != held {
                    assert!(held_score > v + 0.1, "user {u}: held {held} {held_score} vs item {i} {v}");
                }
            }
            assert_eq!(m.recommend(u, &others, 1)[0].0, held);
        }
    }

    #[test]
    fn unknown_users_get_popularity() {
        let data = cells(&[(0, 0), (0, 1), (1, 1)], 3, 3);
        let m = AlsParams { factors: 2, iterations: 2, ..Default::default() }.fit(&data).unwrap();
        let p = m.predict(2, 1);
        assert_eq!((p.rating, p.known_user, p.known_item), (1.0, false, true));
        assert_eq!(m.score_block(&[2, 9], &[0, 1, 2, 7]), vec![0.5, 1.0, 0.0, 0.0, 0.5, 1.0, 0.0, 0.0]);
        assert!(m.user_factors[2 * 2..].iter().all(|&v| v == 0.0), "user without data has a zero factor");
        assert_eq!(m.feedback(), Feedback::Implicit);
        let known = m.predict(0, 2);
        assert!(known.known_user && !known.known_item);
    }

    #[test]
    fn score_block_matches_predict_batch() {
        let data = two_blocks(12, 8);
        let m = AlsParams { factors: 4, iterations: 3, ..Default::default() }.fit(&data).unwrap();
        let (users, items) = ([0u32, 5, 11, 40], [0u32, 3, 7, 99]);
        let block = m.score_block(&users, &items);
        let pairs: Vec<(u32, u32)> = users.iter().flat_map(|&u| items.iter().map(move |&i| (u, i))).collect();
        let single: Vec<f32> = m.predict_batch(&pairs).iter().map(|p| p.rating).collect();
        assert_eq!(block, single);
    }

    #[test]
    fn deterministic_for_any_thread_count_and_seeded() {
        let data = two_blocks(30, 16);
        let p = AlsParams { factors: 6, iterations: 4, ..Default::default() };
        let run = |threads| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| p.fit(&data).unwrap());
        let (a, b) = (run(1), run(2));
        assert_eq!(a, b);
        assert_eq!(a, p.fit(&data).unwrap());
        let other = AlsParams { seed: 7, ..p.clone() }.fit(&data).unwrap();
        assert_ne!(a.user_factors, other.user_factors);
    }

    #[test]
    fn serde_round_trip_predicts_identically() {
        let data = two_blocks(10, 6);
        let m = AlsParams { factors: 3, iterations: 2, ..Default::default() }.fit(&data).unwrap();
        let back: Als = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        let pairs = [(0, 0), (3, 5), (9, 1), (20, 2)];
        assert_eq!(m.predict_batch(&pairs), back.predict_batch(&pairs));
        assert_eq!(m.score_block(&[0, 4], &[0, 1, 2]), back.score_block(&[0, 4], &[0, 1, 2]));
        let p: AlsParams = serde_json::from_str(r#"{"factors": 64, "regularization": 0.05}"#).unwrap();
        assert_eq!(p, AlsParams { factors: 64, regularization: 0.05, ..Default::default() });
        assert!(serde_json::from_str::<AlsParams>(r#"{"factor": 64}"#).is_err());
    }

    #[test]
    fn bad_params_and_inputs_are_errors() {
        let e = AlsParams { factors: 0, ..Default::default() }.check().unwrap_err();
        assert_eq!(e.to_string(), "invalid parameter `factors` = 0: expected in 1..=10000");
        let e = AlsParams { alpha: 0.0, ..Default::default() }.check().unwrap_err();
        assert_eq!(e.to_string(), "invalid parameter `alpha` = 0: expected finite and > 0");
        assert!(AlsParams { regularization: f32::NAN, ..Default::default() }.check().is_err());
        assert!(AlsParams { cg_steps: 0, ..Default::default() }.check().is_err());
        let empty = Interactions::new(vec![], 2, 2).unwrap();
        assert!(matches!(AlsParams::default().fit(&empty), Err(FitError::EmptyTrainSet)));
        assert!(matches!(AlsParams { iterations: 0, ..Default::default() }.fit(&empty), Err(FitError::Param(_))));
    }
}
