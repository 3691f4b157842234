//! Neighbourhood collaborative filtering, Surprise-style: `KNNBasic`, `KNNWithMeans`,
//! `KNNWithZScore` and `KNNBaseline`, user- or item-based, with the `msd`, `cosine`, `pearson`
//! and `pearson_baseline` similarities — parameter for parameter as in Surprise
//! (`surprise.prediction_algorithms.knns`, `surprise.similarities`), so results compare.
//!
//! Sources: user-based neighbourhood prediction, Herlocker, Konstan, Borchers & Riedl, "An
//! Algorithmic Framework for Performing Collaborative Filtering", SIGIR 1999; item-based,
//! Sarwar, Karypis, Konstan & Riedl, "Item-Based Collaborative Filtering Recommendation
//! Algorithms", WWW 2001; the baseline-centred variant and the shrunk pearson-baseline
//! similarity, Koren, "Factor in the Neighbors: Scalable and Accurate Collaborative Filtering",
//! ACM TKDD 4(1), 2010 (§2.2, eq. 3). Surprise's documentation gives the exact formulas below.
//!
//! # Notation
//! With `user_based = true`, `x` is the user `u` and `y` the item `i`; with `user_based = false`
//! the roles swap (`x = i`, `y = u`). `N^k(x; y)` is the set of the (at most) `k` other rows
//! `x'` that rated `y`, with the largest `sim(x, x')`, of which only those with `sim > 0` count;
//! `actual_k = |N^k(x; y)|`. All sums below run over `x' ∈ N^k(x; y)`.
//!
//! # Prediction of each [`KnnKind`]
//! - `Basic`: `r̂ = Σ sim(x,x')·r_x'y / Σ sim(x,x')`.
//! - `WithMeans`: `r̂ = μ_x + Σ sim(x,x')·(r_x'y − μ_x') / Σ sim(x,x')`, with `μ_x` the mean
//!   rating of row `x`.
//! - `WithZScore`: `r̂ = μ_x + σ_x · Σ sim(x,x')·(r_x'y − μ_x')/σ_x' / Σ sim(x,x')`, with `σ_x`
//!   the population standard deviation of row `x`'s ratings (the global one where it is 0).
//! - `Baseline`: `r̂ = b_xy + Σ sim(x,x')·(r_x'y − b_x'y) / Σ sim(x,x')`, with the baseline
//!   `b_ui = μ + b_u + b_i` from [`BaselineParams`] (ALS, Surprise's `bsl_options` defaults).
//!
//! Fallbacks, as Surprise: an unknown user or item gives the global mean μ (`Basic`,
//! `WithMeans`, `WithZScore`) or the baseline with the unknown side's bias taken as zero
//! (`Baseline`). When `actual_k < min_k`, `Basic` gives μ, and the others drop the neighbour
//! term (giving `μ_x`, or `b_ui` for `Baseline`). The [`Prediction`] flags say which of user and
//! item were known.
//!
//! # Similarities
//! Over the `n = |Y_xx'|` co-rated entries `y ∈ Y_xx'` of the pair (`I_uv` for users, `U_ij`
//! for items); pairs with `n < min_support` (for `pearson_baseline`, `n < max(2, min_support)`)
//! have similarity 0; `sim(x, x) = 1`.
//! - `msd`: `1 / (Σ (r_xy − r_x'y)² / n + 1)`.
//! - `cosine`: `Σ r_xy r_x'y / √(Σ r_xy² · Σ r_x'y²)`.
//! - `pearson`: `(n Σ r_xy r_x'y − Σ r_xy Σ r_x'y) / √((n Σ r_xy² − (Σ r_xy)²)(n Σ r_x'y² −
//!   (Σ r_x'y)²))`, the correlation centred on the means over the *common* entries (0 where the
//!   denominator is 0).
//! - `pearson_baseline`: `(n − 1)/(n − 1 + shrinkage) · Σ d_xy d_x'y / √(Σ d_xy² · Σ d_x'y²)`
//!   with `d_xy = r_xy − b_xy` (Koren 2010; the *Recommender Systems Handbook*, §5.4.1).
//!
//! # Storage and memory
//! Similarities are computed sparsely, in parallel over rows `x` (a dense per-thread
//! accumulator over the rows reached through co-rated entries), and never as a dense `n × n`
//! matrix: each row `x` keeps only its neighbours `x'` with a *positive* similarity (the only
//! ones a prediction can use), sorted by index, truncated to the `max_neighbors` largest (ties
//! to the smaller index). [`KnnParams::max_neighbors`] `= None` means automatic: keep every
//! neighbour (exactly Surprise) when there are at most [`AUTO_KEEP_ALL_ROWS`] rows, otherwise
//! keep the `max(10·k, 200)` most similar per row. Each kept neighbour costs 8 bytes.
//! [`KnnParams::memory_estimate`] bounds the fit's memory before anything is allocated, and
//! `fit` refuses with [`FitError::Memory`] when it exceeds `memory_limit_mib`. Results do not
//! depend on the number of threads.
//!
//! # Differences from Surprise
//! - Neighbours tied on similarity at the `k`-th place go to the smaller index (Surprise keeps
//!   the first in its training-set order).
//! - With truncation (`max_neighbors`), a rater outside `x`'s kept list counts as similarity 0.
//! - Ratings are used as they are (Surprise shifts a scale starting below 1 up to 1, which only
//!   changes `cosine`).
//! - `Basic` with `min_k = 0` and no positive neighbour gives μ (Surprise divides by zero), and
//!   `WithZScore` on data whose ratings are all equal uses a deviation of 1 (Surprise: 0/0).
//!
//! # Defaults
//! See [`KnnParams`]: `k = 40`, `min_k = 1`, `msd`, user-based, `min_support = 1`,
//! `shrinkage = 100` — Surprise's defaults for all four algorithms.
//!
//! ```
//! use burnrec_classic::{Fit, KnnKind, KnnParams, Similarity, SimilarityName};
//! use burnrec_data::{RatingPredictor, synthetic::random_ratings};
//! let data = random_ratings(60, 40, 900, 1);
//! let params = KnnParams {
//!     kind: KnnKind::Baseline,
//!     sim: Similarity { name: SimilarityName::PearsonBaseline, user_based: false, ..Default::default() },
//!     ..Default::default()
//! };
//! let model = params.fit(&data)?;
//! assert!(model.predict(0, 1).rating.is_finite());
//! # Ok::<(), burnrec_classic::FitError>(())
//! ```

use std::sync::Mutex;

use burnrec_data::csr::Csr;
use burnrec_data::{Interactions, KnownSet, Prediction, RatingPredictor};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::baseline::als_biases;
use crate::error::{FitError, ParamError, ensure};
use crate::{BaselineParams, Fit};

/// With [`KnnParams::max_neighbors`] `= None`, every neighbour is kept when the neighbourhood
/// side (users if user-based, else items) has at most this many rows.
pub const AUTO_KEEP_ALL_ROWS: usize = 10_000;

/// Which of Surprise's four neighbourhood predictors (see the [module docs](self) for the
/// formulas).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KnnKind {
    /// `KNNBasic`: the similarity-weighted mean of the neighbours' ratings.
    #[default]
    Basic,
    /// `KNNWithMeans`: mean-centred neighbour ratings around the row mean `μ_x`.
    WithMeans,
    /// `KNNWithZScore`: z-scored neighbour ratings, rescaled by `σ_x` around `μ_x`.
    #[serde(rename = "with_zscore")]
    WithZScore,
    /// `KNNBaseline`: baseline-centred neighbour ratings around `b_ui = μ + b_u + b_i`.
    Baseline,
}

/// A similarity measure (Surprise's `sim_options['name']`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimilarityName {
    /// Mean squared difference similarity, `1 / (msd + 1)`.
    #[default]
    Msd,
    /// Cosine of the co-rated ratings.
    Cosine,
    /// Pearson correlation over the co-rated entries.
    Pearson,
    /// Pearson correlation of the baseline residuals, shrunk by `(n − 1)/(n − 1 + shrinkage)`.
    PearsonBaseline,
}

/// Similarity options (Surprise's `sim_options`).
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `name` | `msd` | the measure | `msd`, `cosine`, `pearson`, `pearson_baseline` |
/// | `user_based` | true | similarities between users (true) or between items (false) | |
/// | `min_support` | 1 | fewest co-rated entries for a non-zero similarity (0 acts as 1) | `≥ 0` |
/// | `shrinkage` | 100 | shrinkage of `pearson_baseline` (ignored by the others) | `[0, ∞)` |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Similarity {
    /// The measure.
    pub name: SimilarityName,
    /// Between users (true) or items (false).
    pub user_based: bool,
    /// Pairs with fewer co-rated entries get similarity 0.
    pub min_support: usize,
    /// `pearson_baseline` shrinkage (0: none).
    pub shrinkage: f32,
}

impl Default for Similarity {
    fn default() -> Self {
        Self { name: SimilarityName::Msd, user_based: true, min_support: 1, shrinkage: 100.0 }
    }
}

/// Parameters of the neighbourhood models ([`Knn`]); defaults are Surprise's, for each kind.
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `kind` | `basic` | `basic`, `with_means`, `with_zscore`, `baseline` (Surprise's `KNNBasic`, `KNNWithMeans`, `KNNWithZScore`, `KNNBaseline`) | |
/// | `k` | 40 | most neighbours aggregated per prediction | `≥ 1` |
/// | `min_k` | 1 | fewest positive-similarity neighbours, else fall back | `0 ..= k` |
/// | `sim` | `msd`, user-based | see [`Similarity`] | |
/// | `baseline` | ALS, 10 epochs, `reg_u` 15, `reg_i` 10 | baselines of `baseline` and of `pearson_baseline` (Surprise's `bsl_options`) | see [`BaselineParams`] |
/// | `max_neighbors` | `None` (automatic) | similarities kept per row; `None`: all if the row side has ≤ [`AUTO_KEEP_ALL_ROWS`] rows, else `max(10·k, 200)` | `≥ 1` |
/// | `memory_limit_mib` | 4096 | `fit` fails with [`FitError::Memory`] if [`KnnParams::memory_estimate`] exceeds it | `≥ 1` |
///
/// Construct one kind × similarity with struct update syntax, for example item-based
/// `KNNBaseline` with `pearson_baseline`:
/// `KnnParams { kind: KnnKind::Baseline, sim: Similarity { name: SimilarityName::PearsonBaseline,
/// user_based: false, ..Default::default() }, ..Default::default() }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnnParams {
    /// Which predictor.
    pub kind: KnnKind,
    /// Maximum number of neighbours aggregated.
    pub k: usize,
    /// Minimum number of positive-similarity neighbours.
    pub min_k: usize,
    /// Similarity options.
    pub sim: Similarity,
    /// Baseline options (used by [`KnnKind::Baseline`] and [`SimilarityName::PearsonBaseline`]).
    pub baseline: BaselineParams,
    /// Similarities kept per row (`None`: automatic, see the table).
    pub max_neighbors: Option<usize>,
    /// Memory limit of `fit`, MiB.
    pub memory_limit_mib: u64,
}

impl Default for KnnParams {
    fn default() -> Self {
        Self {
            kind: KnnKind::Basic,
            k: 40,
            min_k: 1,
            sim: Similarity::default(),
            baseline: BaselineParams::default(),
            max_neighbors: None,
            memory_limit_mib: 4096,
        }
    }
}

impl KnnParams {
    /// Surprise's defaults for `kind` (`KnnParams { kind, ..Default::default() }`).
    pub fn new(kind: KnnKind) -> Self {
        Self { kind, ..Self::default() }
    }

    /// Checks every parameter.
    ///
    /// # Errors
    /// [`ParamError`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), ParamError> {
        ensure(self.k >= 1, "k", self.k, ">= 1")?;
        ensure(self.min_k <= self.k, "min_k", self.min_k, "<= k")?;
        let s = self.sim.shrinkage;
        ensure(s.is_finite() && s >= 0.0, "shrinkage", s, "finite and >= 0")?;
        if let Some(m) = self.max_neighbors {
            ensure(m >= 1, "max_neighbors", m, ">= 1 (or None for automatic)")?;
        }
        ensure(self.memory_limit_mib >= 1, "memory_limit_mib", self.memory_limit_mib, ">= 1")?;
        self.baseline.check()
    }

    /// The number of similarities kept per row for a neighbourhood side of `n_rows` rows:
    /// `max_neighbors` if set; otherwise `None` (all) when `n_rows ≤` [`AUTO_KEEP_ALL_ROWS`],
    /// else `Some(max(10·k, 200))`.
    pub fn effective_max_neighbors(&self, n_rows: usize) -> Option<usize> {
        match self.max_neighbors {
            Some(m) => Some(m),
            None if n_rows <= AUTO_KEEP_ALL_ROWS => None,
            None => Some(self.k.saturating_mul(10).max(200)),
        }
    }

    /// An upper bound, in bytes, on the memory `fit` allocates on `train` (the neighbour lists,
    /// the copies of the ratings, and the per-thread accumulators), computed in O(ratings)
    /// without allocating any of it. Row `x` can keep at most
    /// `min(n_rows − 1, Σ_{y rated by x} (|raters of y| − 1), max_neighbors)` neighbours at 8
    /// bytes each; one accumulator of `n_rows` entries is counted per thread of the current
    /// rayon pool. Does not count `train` itself.
    pub fn memory_estimate(&self, train: &Interactions) -> u64 {
        let ub = self.sim.user_based;
        let (n_x, n_y) = if ub { (train.n_users(), train.n_items()) } else { (train.n_items(), train.n_users()) };
        let (xs, ys) = if ub { (train.users(), train.items()) } else { (train.items(), train.users()) };
        let mut y_count = vec![0u64; n_y];
        for &y in ys {
            y_count[y as usize] += 1;
        }
        let mut reach = vec![0u64; n_x];
        for (&x, &y) in xs.iter().zip(ys) {
            reach[x as usize] += y_count[y as usize] - 1;
        }
        let keep = self.effective_max_neighbors(n_x).map_or(u64::MAX, |m| m as u64);
        let cap = (n_x as u64).saturating_sub(1);
        let stored: u64 = reach.iter().map(|&r| r.min(cap).min(keep)).sum();
        let (nnz, nu, ni) = (train.len() as u64, train.n_users() as u64, train.n_items() as u64);
        let n_x = n_x as u64;
        let n_stats = match self.sim.name {
            SimilarityName::Msd => 1,
            SimilarityName::Cosine | SimilarityName::PearsonBaseline => 3,
            SimilarityName::Pearson => 5,
        };
        let threads = rayon::current_num_threads() as u64;
        // 8 bytes a kept pair, plus each row's two vectors and their allocator overhead.
        let lists = stored * 8 + n_x * (std::mem::size_of::<SimRow>() as u64 + 64);
        // Csr by user and by item, plus the model's copy of the ratings by y.
        let ratings = 2 * nnz * 8 + (nu + ni + 2) * 8 + nnz * 8 + (n_y as u64 + 1) * 8;
        // Per thread: count and sums (8-byte aligned), touched list, candidate list.
        let scratch = threads * n_x * (8 + 8 * n_stats + 4 + 8);
        // Means, deviations, biases and their f64 working copies, counts, known flags.
        let small = (nu + ni) * 32 + n_x * 16;
        lists + ratings + scratch + small
    }

    fn biases_needed(&self) -> bool {
        self.kind == KnnKind::Baseline || self.sim.name == SimilarityName::PearsonBaseline
    }
}

/// One row's kept neighbours, sorted by index.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct SimRow {
    idx: Vec<u32>,
    sim: Vec<f32>,
}

/// Reusable per-thread scratch buffers, handed out one per rayon job and returned on drop, so
/// that at most one lives per thread.
pub(crate) struct ScratchPool<T> {
    free: Mutex<Vec<T>>,
}

impl<T> ScratchPool<T> {
    pub(crate) fn new() -> Self {
        Self { free: Mutex::new(Vec::new()) }
    }

    pub(crate) fn take(&self, make: impl FnOnce() -> T) -> Pooled<'_, T> {
        let item = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_else(make);
        Pooled { pool: self, item: Some(item) }
    }
}

/// A buffer borrowed from a [`ScratchPool`].
pub(crate) struct Pooled<'a, T> {
    pool: &'a ScratchPool<T>,
    item: Option<T>,
}

impl<T> std::ops::Deref for Pooled<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.item.as_ref().expect("present until drop")
    }
}

impl<T> std::ops::DerefMut for Pooled<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.item.as_mut().expect("present until drop")
    }
}

impl<T> Drop for Pooled<'_, T> {
    fn drop(&mut self) {
        if let Some(item) = self.item.take() {
            self.pool.free.lock().unwrap_or_else(|e| e.into_inner()).push(item);
        }
    }
}

/// One similarity measure: the `N` running sums a co-rated entry adds, and the formula.
trait Kernel<const N: usize>: Sync {
    /// `r_xy` as the sums see it (row `x`, entry `y`).
    #[inline(always)]
    fn left(&self, _x: usize, _y: usize, r: f64) -> f64 {
        r
    }
    /// `r_x'y` as the sums see it.
    #[inline(always)]
    fn right(&self, _x2: usize, _y: usize, r: f64) -> f64 {
        r
    }
    /// Adds one co-rated entry, from `left` `a` and `right` `b`, to the sums `s`.
    fn add(a: f64, b: f64, s: &mut [f64; N]);
    /// The similarity from `n` co-rated entries and their sums.
    fn finish(&self, n: u32, s: &[f64; N]) -> f64;
}

/// `1 / (Σ (a − b)² / n + 1)`.
struct MsdKernel;
impl Kernel<1> for MsdKernel {
    #[inline(always)]
    fn add(a: f64, b: f64, s: &mut [f64; 1]) {
        s[0] += (a - b) * (a - b);
    }
    #[inline(always)]
    fn finish(&self, n: u32, s: &[f64; 1]) -> f64 {
        // = 1 / (s/n + 1), with one division.
        let n = f64::from(n);
        n / (s[0] + n)
    }
}

/// `Σ ab / √(Σ a² Σ b²)` (0 for a zero denominator).
struct CosineKernel;
impl Kernel<3> for CosineKernel {
    #[inline(always)]
    fn add(a: f64, b: f64, s: &mut [f64; 3]) {
        s[0] += a * b;
        s[1] += a * a;
        s[2] += b * b;
    }
    #[inline(always)]
    fn finish(&self, _n: u32, s: &[f64; 3]) -> f64 {
        let den = (s[1] * s[2]).sqrt();
        if den > 0.0 { s[0] / den } else { 0.0 }
    }
}

/// `(n Σab − Σa Σb) / √((n Σa² − (Σa)²)(n Σb² − (Σb)²))` (0 for a zero denominator).
struct PearsonKernel;
impl Kernel<5> for PearsonKernel {
    #[inline(always)]
    fn add(a: f64, b: f64, s: &mut [f64; 5]) {
        s[0] += a * b;
        s[1] += a * a;
        s[2] += b * b;
        s[3] += a;
        s[4] += b;
    }
    #[inline(always)]
    fn finish(&self, n: u32, s: &[f64; 5]) -> f64 {
        let n = f64::from(n);
        let num = n * s[0] - s[3] * s[4];
        let den = (n * s[1] - s[3] * s[3]) * (n * s[2] - s[4] * s[4]);
        if den > 0.0 { num / den.sqrt() } else { 0.0 }
    }
}

/// Cosine of the baseline residuals `r − (μ + b_x + b_y)`, times `(n − 1)/(n − 1 + shrinkage)`.
struct PearsonBaselineKernel<'a> {
    mu: f64,
    bx: &'a [f32],
    by: &'a [f32],
    shrinkage: f64,
}
impl Kernel<3> for PearsonBaselineKernel<'_> {
    #[inline(always)]
    fn left(&self, x: usize, y: usize, r: f64) -> f64 {
        r - (self.mu + f64::from(self.by[y]) + f64::from(self.bx[x]))
    }
    #[inline(always)]
    fn right(&self, x2: usize, y: usize, r: f64) -> f64 {
        r - (self.mu + f64::from(self.by[y]) + f64::from(self.bx[x2]))
    }
    #[inline(always)]
    fn add(a: f64, b: f64, s: &mut [f64; 3]) {
        s[0] += a * b;
        s[1] += a * a;
        s[2] += b * b;
    }
    #[inline(always)]
    fn finish(&self, n: u32, s: &[f64; 3]) -> f64 {
        let den = s[1] * s[2];
        if den > 0.0 {
            let n1 = f64::from(n) - 1.0;
            s[0] / den.sqrt() * (n1 / (n1 + self.shrinkage))
        } else {
            0.0
        }
    }
}

/// Bytes of accumulators one block of neighbour indices spans (see `similarity_row`).
const BLOCK_BYTES: usize = 256 << 10;

/// A row pair's running count and sums, together in memory (one cache line to touch).
#[derive(Clone, Copy)]
struct Slot<const N: usize> {
    n: u32,
    s: [f64; N],
}

/// Dense accumulators over the rows of one side, reset after each row.
struct SimScratch<const N: usize> {
    slots: Vec<Slot<N>>,
    touched: Vec<u32>,
    cand: Vec<u64>,
    cursor: Vec<usize>,
}

impl<const N: usize> SimScratch<N> {
    fn new(n: usize) -> Self {
        Self { slots: vec![Slot { n: 0, s: [0.0; N] }; n], touched: Vec::new(), cand: Vec::new(), cursor: Vec::new() }
    }
}

/// Row `x`'s positive similarities, sorted by neighbour index, the `keep` largest kept.
fn similarity_row<const N: usize, K: Kernel<N>>(
    kernel: &K,
    xr: &Csr,
    yr: &Csr,
    min_support: u32,
    keep: Option<usize>,
    s: &mut SimScratch<N>,
    x: usize,
) -> SimRow {
    let SimScratch { slots, touched, cand, cursor } = s;
    // `while` loops and no std selection on the hot path: range and slice iterators and std's
    // select_nth stay out-of-line (and precondition-checked) in our opt-level-1 test builds,
    // which made them most of the cost there.
    let (ys, rxs) = (xr.row(x), xr.row_values(x));
    cursor.clear();
    cursor.resize(ys.len(), 0);
    let n_x = slots.len();
    // Neighbours are accumulated one block of indices at a time (the raters of each `y` are
    // sorted, so each keeps a cursor), to keep the random accesses to `slots` in cache. The
    // sums of each pair still come in the order of `y`: results do not depend on the blocks.
    let block = (BLOCK_BYTES / std::mem::size_of::<Slot<N>>()).max(1);
    // Candidates are packed in u64 keys (a positive finite f32's bits order like its value).
    // With `keep = Some(m)`: the `m` best by (similarity, then the smaller index); whenever
    // `2m` are pending they are cut back to the best `m`, whose worst key is then a floor that
    // later candidates must beat (keys are unique, so this is exact).
    cand.clear();
    let m = keep.unwrap_or(usize::MAX);
    let mut floor = 0u64;
    let mut lo = 0;
    while lo < n_x {
        let hi = if n_x - lo > block { lo + block } else { n_x };
        for k in 0..ys.len() {
            let y = ys[k] as usize;
            let a = kernel.left(x, y, f64::from(rxs[k]));
            let (x2s, r2s) = (yr.row(y), yr.row_values(y));
            let len = if x2s.len() < r2s.len() { x2s.len() } else { r2s.len() };
            let mut j = cursor[k];
            while j < len {
                let x2u = x2s[j] as usize;
                if x2u >= hi {
                    break;
                }
                let r2 = r2s[j];
                j += 1;
                if x2u == x {
                    continue;
                }
                let b = kernel.right(x2u, y, f64::from(r2));
                let slot = &mut slots[x2u];
                if slot.n == 0 {
                    touched.push(x2u as u32);
                }
                slot.n += 1;
                K::add(a, b, &mut slot.s);
            }
            cursor[k] = j;
        }
        let mut t = 0;
        while t < touched.len() {
            let x2 = touched[t];
            t += 1;
            let slot = &mut slots[x2 as usize];
            if slot.n >= min_support {
                let sim = kernel.finish(slot.n, &slot.s) as f32;
                if sim > 0.0 && sim.is_finite() {
                    if keep.is_none() {
                        cand.push((u64::from(x2) << 32) | u64::from(sim.to_bits()));
                    } else {
                        let key = (u64::from(sim.to_bits()) << 32) | u64::from(!x2);
                        if key > floor {
                            cand.push(key);
                            if cand.len() >= m.saturating_mul(2) {
                                select_top(cand, m);
                                cand.truncate(m);
                                floor = u64::MAX;
                                let mut c = 0;
                                while c < m {
                                    if cand[c] < floor {
                                        floor = cand[c];
                                    }
                                    c += 1;
                                }
                            }
                        }
                    }
                }
            }
            *slot = Slot { n: 0, s: [0.0; N] };
        }
        touched.clear();
        lo = hi;
    }
    if keep.is_some() {
        if cand.len() > m {
            select_top(cand, m);
            cand.truncate(m);
        }
        // Re-key as (index, similarity bits).
        let mut c = 0;
        while c < cand.len() {
            let (sim_bits, x2) = (cand[c] >> 32, !(cand[c] as u32));
            cand[c] = (u64::from(x2) << 32) | sim_bits;
            c += 1;
        }
    }
    // Keys (index, similarity bits) in decreasing order, read backwards: by neighbour index.
    sort_desc(cand);
    let mut row = SimRow { idx: Vec::with_capacity(cand.len()), sim: Vec::with_capacity(cand.len()) };
    let mut c = cand.len();
    while c > 0 {
        c -= 1;
        row.idx.push((cand[c] >> 32) as u32);
        row.sim.push(f32::from_bits(cand[c] as u32));
    }
    row
}

/// Partitions the distinct keys `v[lo..hi]` (`hi − lo ≥ 2`) around a median-of-three pivot,
/// larger keys first; returns the pivot's final position `i`:
/// `v[lo..i] > v[i] > v[i + 1..hi]`. `while` loops, like the rest of this hot path.
#[allow(clippy::manual_swap)]
fn partition_desc(v: &mut [u64], lo: usize, hi: usize) -> usize {
    let mid = lo + (hi - lo) / 2;
    let (a, b, c) = (v[lo], v[mid], v[hi - 1]);
    let pick = if (a <= b) == (b <= c) {
        mid
    } else if (b <= a) == (a <= c) {
        lo
    } else {
        hi - 1
    };
    let pivot = v[pick];
    v[pick] = v[hi - 1];
    v[hi - 1] = pivot;
    let (mut i, mut j) = (lo, lo);
    while j < hi - 1 {
        if v[j] > pivot {
            let t = v[i];
            v[i] = v[j];
            v[j] = t;
            i += 1;
        }
        j += 1;
    }
    v[hi - 1] = v[i];
    v[i] = pivot;
    i
}

/// Reorders the distinct keys `v` so that its `m` largest come first, in any order
/// (quickselect).
fn select_top(v: &mut [u64], m: usize) {
    // v[..lo] are among the m largest, v[hi..] are not.
    let (mut lo, mut hi) = (0usize, v.len());
    while lo < m && m < hi {
        let i = partition_desc(v, lo, hi);
        if i < m {
            lo = i + 1;
        } else {
            hi = i;
        }
    }
}

/// Sorts the distinct keys `v` in decreasing order (quicksort, insertion sort below 16).
fn sort_desc(v: &mut [u64]) {
    // Pending ranges; the smaller side is sorted first, so at most log2(len) are pending.
    let mut stack = [(0usize, 0usize); 64];
    let (mut sp, mut lo, mut hi) = (0usize, 0usize, v.len());
    loop {
        while hi - lo > 16 {
            let i = partition_desc(v, lo, hi);
            if i - lo < hi - (i + 1) {
                stack[sp] = (i + 1, hi);
                hi = i;
            } else {
                stack[sp] = (lo, i);
                lo = i + 1;
            }
            sp += 1;
        }
        let mut k = lo + 1;
        while k < hi {
            let key = v[k];
            let mut j = k;
            while j > lo && v[j - 1] < key {
                v[j] = v[j - 1];
                j -= 1;
            }
            v[j] = key;
            k += 1;
        }
        if sp == 0 {
            return;
        }
        sp -= 1;
        (lo, hi) = stack[sp];
    }
}

/// Every row's positive similarities under `kernel`, computed in parallel over rows (each row
/// on its own, so the result does not depend on the number of threads).
fn similarity_rows<const N: usize, K: Kernel<N>>(kernel: &K, xr: &Csr, yr: &Csr, min_support: u32, keep: Option<usize>) -> Vec<SimRow> {
    let n_x = xr.n_rows();
    let pool = ScratchPool::new();
    (0..n_x)
        .into_par_iter()
        .with_min_len(16)
        .map_init(|| pool.take(|| SimScratch::<N>::new(n_x)), |s, x| similarity_row(kernel, xr, yr, min_support, keep, s, x))
        .collect()
}

/// Mean and population standard deviation of each row's values (0, 0 for an empty row).
fn row_moments(xr: &Csr) -> (Vec<f64>, Vec<f64>) {
    (0..xr.n_rows())
        .map(|x| {
            let v = xr.row_values(x);
            if v.is_empty() {
                return (0.0, 0.0);
            }
            let n = v.len() as f64;
            let mean = v.iter().map(|&r| f64::from(r)).sum::<f64>() / n;
            let var = v.iter().map(|&r| (f64::from(r) - mean).powi(2)).sum::<f64>() / n;
            (mean, var.sqrt())
        })
        .unzip()
}

/// A fitted [`KnnParams`]: the kept similarities of every row `x`, the training ratings grouped
/// by `y`, and what the [`KnnKind`] needs (row means, deviations, or biases).
///
/// # Shapes
/// `x` is the user side if [`Knn::user_based`], else the item side; `n_x` its size.
/// - `means`: `[n_x]` (rating units) for `WithMeans` and `WithZScore`, else empty.
/// - `sigmas`: `[n_x]` for `WithZScore` (0 replaced by the global deviation), else empty.
/// - `bu`: `[n_users]`, `bi`: `[n_items]` for `Baseline`, else empty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Knn {
    /// Which predictor.
    pub kind: KnnKind,
    /// Maximum neighbours aggregated.
    pub k: usize,
    /// Minimum positive-similarity neighbours.
    pub min_k: usize,
    /// Whether `x` is the user (true) or the item.
    pub user_based: bool,
    /// Mean training rating μ.
    pub mu: f32,
    /// Row means `μ_x`.
    pub means: Vec<f32>,
    /// Row standard deviations `σ_x`.
    pub sigmas: Vec<f32>,
    /// User biases.
    pub bu: Vec<f32>,
    /// Item biases.
    pub bi: Vec<f32>,
    neighbors: Vec<SimRow>,
    by_y: Csr,
    known: KnownSet,
}

impl Fit for KnnParams {
    type Model = Knn;

    /// # Errors
    /// [`FitError::Param`] for a bad parameter, [`FitError::EmptyTrainSet`] for empty `train`,
    /// [`FitError::Memory`] if [`KnnParams::memory_estimate`] exceeds `memory_limit_mib`.
    fn fit(&self, train: &Interactions) -> Result<Knn, FitError> {
        self.check()?;
        let mu = train.global_mean().ok_or(FitError::EmptyTrainSet)?;
        let needed = self.memory_estimate(train);
        if needed > self.memory_limit_mib.saturating_mul(1 << 20) {
            let n_x = if self.sim.user_based { train.n_users() } else { train.n_items() };
            let now = match self.effective_max_neighbors(n_x) {
                Some(m) => format!("{m}"),
                None => "all".to_string(),
            };
            return Err(FitError::Memory {
                needed_mib: needed.div_ceil(1 << 20),
                limit_mib: self.memory_limit_mib,
                hint: format!(
                    "lower `max_neighbors` (now keeping {now} per row; e.g. Some({})) or raise `memory_limit_mib`",
                    self.k.saturating_mul(10).max(200)
                ),
            });
        }
        let ub = self.sim.user_based;
        let (by_user, by_item) = (Csr::by_user(train), Csr::by_item(train));
        let (xr, yr) = if ub { (&by_user, &by_item) } else { (&by_item, &by_user) };
        let (bu, bi) = if self.biases_needed() {
            let b = &self.baseline;
            als_biases(train, mu, b.n_epochs, f64::from(b.reg_u), f64::from(b.reg_i))
        } else {
            (Vec::new(), Vec::new())
        };
        let (mut means, mut sigmas) = (Vec::new(), Vec::new());
        if matches!(self.kind, KnnKind::WithMeans | KnnKind::WithZScore) {
            let (m, s) = row_moments(xr);
            means = m.iter().map(|&v| v as f32).collect();
            if self.kind == KnnKind::WithZScore {
                let n = train.len() as f64;
                let var = train.values().iter().map(|&r| (f64::from(r) - mu).powi(2)).sum::<f64>() / n;
                // Surprise uses the global deviation where a row's is 0; if that is 0 too (all
                // ratings equal), every residual is 0 and any positive scale gives the mean.
                let overall = if var > 0.0 { var.sqrt() } else { 1.0 };
                sigmas = s.iter().map(|&v| if v == 0.0 { overall as f32 } else { v as f32 }).collect();
            }
        }
        let keep = self.effective_max_neighbors(xr.n_rows());
        let min_support = self.sim.min_support.min(u32::MAX as usize) as u32;
        let neighbors = match self.sim.name {
            SimilarityName::Msd => similarity_rows(&MsdKernel, xr, yr, min_support, keep),
            SimilarityName::Cosine => similarity_rows(&CosineKernel, xr, yr, min_support, keep),
            SimilarityName::Pearson => similarity_rows(&PearsonKernel, xr, yr, min_support, keep),
            SimilarityName::PearsonBaseline => {
                let (bx, by) = if ub { (&bu, &bi) } else { (&bi, &bu) };
                let kernel = PearsonBaselineKernel { mu, bx, by, shrinkage: f64::from(self.sim.shrinkage) };
                // Surprise: at least 2 common entries, as the shrinkage is 0 for 1.
                similarity_rows(&kernel, xr, yr, min_support.max(2), keep)
            }
        };
        let keep_biases = self.kind == KnnKind::Baseline;
        Ok(Knn {
            kind: self.kind,
            k: self.k,
            min_k: self.min_k,
            user_based: ub,
            mu: mu as f32,
            means,
            sigmas,
            bu: if keep_biases { bu } else { Vec::new() },
            bi: if keep_biases { bi } else { Vec::new() },
            neighbors,
            by_y: yr.clone(),
            known: KnownSet::from_train(train),
        })
    }
}

impl Knn {
    /// The kept neighbours of row `x` (a user if [`Knn::user_based`], else an item): sorted
    /// neighbour indices and their similarities, aligned. Empty outside the range.
    pub fn neighbors(&self, x: u32) -> (&[u32], &[f32]) {
        match self.neighbors.get(x as usize) {
            Some(r) => (&r.idx, &r.sim),
            None => (&[], &[]),
        }
    }

    /// The similarity used between rows `x` and `x2`: 1 if they are equal, the kept value if
    /// `x2` is among `x`'s kept neighbours, else 0 (no or too few co-ratings, a non-positive
    /// similarity, or truncated by `max_neighbors`).
    pub fn similarity(&self, x: u32, x2: u32) -> f32 {
        if x == x2 {
            return 1.0;
        }
        let (idx, sim) = self.neighbors(x);
        idx.binary_search(&x2).map_or(0.0, |p| sim[p])
    }

    /// Number of stored (row, neighbour) pairs, over all rows.
    pub fn n_stored_pairs(&self) -> usize {
        self.neighbors.iter().map(|r| r.idx.len()).sum()
    }

    /// The positive-similarity raters of `y` with their similarity to `x` and rating, as
    /// `(sim, rating, x2)` in `buf` (cleared first).
    fn gather(&self, x: usize, y: usize, buf: &mut Vec<(f32, f32, u32)>) {
        buf.clear();
        let (nidx, nsim) = match self.neighbors.get(x) {
            Some(r) => (&r.idx[..], &r.sim[..]),
            None => (&[][..], &[][..]),
        };
        let (raters, vals) = (self.by_y.row(y), self.by_y.row_values(y));
        // Both lists are sorted: walk the neighbour list forward, by binary search when it is
        // much longer than the rater list, else linearly.
        let gallop = nidx.len() > 8 * raters.len();
        let mut p = 0usize;
        for (&x2, &r) in raters.iter().zip(vals) {
            if x2 as usize == x {
                buf.push((1.0, r, x2));
                continue;
            }
            if gallop {
                p += nidx[p..].partition_point(|&v| v < x2);
            } else {
                while p < nidx.len() && nidx[p] < x2 {
                    p += 1;
                }
            }
            if p < nidx.len() && nidx[p] == x2 {
                buf.push((nsim[p], r, x2));
            }
        }
    }

    fn predict_one(&self, u: u32, i: u32, buf: &mut Vec<(f32, f32, u32)>) -> Prediction {
        let (ku, ki) = (self.known.user(u), self.known.item(i));
        if !(ku && ki) {
            let rating = match self.kind {
                KnnKind::Baseline => self.known.baseline(self.mu, &self.bu, &self.bi, u, i).rating,
                _ => self.mu,
            };
            return Prediction { rating, known_user: ku, known_item: ki };
        }
        let (x, y) = if self.user_based { (u as usize, i as usize) } else { (i as usize, u as usize) };
        self.gather(x, y, buf);
        if buf.len() > self.k {
            let cmp = |a: &(f32, f32, u32), b: &(f32, f32, u32)| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2));
            buf.select_nth_unstable_by(self.k - 1, cmp);
            buf.truncate(self.k);
        }
        let actual_k = buf.len();
        let enough = actual_k >= self.min_k && actual_k > 0;
        let sum_sim: f64 = buf.iter().map(|t| f64::from(t.0)).sum();
        let mu = f64::from(self.mu);
        let rating = match self.kind {
            KnnKind::Basic => {
                if enough {
                    buf.iter().map(|t| f64::from(t.0) * f64::from(t.1)).sum::<f64>() / sum_sim
                } else {
                    mu
                }
            }
            KnnKind::WithMeans => {
                let m = &self.means;
                let mut est = f64::from(m[x]);
                if enough {
                    let s: f64 = buf.iter().map(|t| f64::from(t.0) * (f64::from(t.1) - f64::from(m[t.2 as usize]))).sum();
                    est += s / sum_sim;
                }
                est
            }
            KnnKind::WithZScore => {
                let (m, sd) = (&self.means, &self.sigmas);
                let mut est = f64::from(m[x]);
                if enough {
                    let s: f64 = buf
                        .iter()
                        .map(|t| {
                            let nb = t.2 as usize;
                            f64::from(t.0) * (f64::from(t.1) - f64::from(m[nb])) / f64::from(sd[nb])
                        })
                        .sum();
                    est += s / sum_sim * f64::from(sd[x]);
                }
                est
            }
            KnnKind::Baseline => {
                let (bx, by) = if self.user_based { (&self.bu, &self.bi) } else { (&self.bi, &self.bu) };
                let by_y = f64::from(by[y]);
                let mut est = mu + f64::from(bx[x]) + by_y;
                if enough {
                    let s: f64 = buf.iter().map(|t| f64::from(t.0) * (f64::from(t.1) - (mu + f64::from(bx[t.2 as usize]) + by_y))).sum();
                    est += s / sum_sim;
                }
                est
            }
        };
        Prediction { rating: rating as f32, known_user: true, known_item: true }
    }
}

impl RatingPredictor for Knn {
    /// Predicts the pairs in parallel (rayon); the order of `pairs` is kept.
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        pairs.par_iter().with_min_len(64).map_init(Vec::new, |buf, &(u, i)| self.predict_one(u, i, buf)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::util::fixtures::tiny;

    fn params(kind: KnnKind, name: SimilarityName, user_based: bool) -> KnnParams {
        KnnParams { kind, sim: Similarity { name, user_based, ..Default::default() }, ..Default::default() }
    }

    fn close(a: f32, b: f64) -> bool {
        (f64::from(a) - b).abs() < 2e-5
    }

    /// The training set's missing cells, predicted in the table below.
    const PAIRS: [(u32, u32); 6] = [(0, 3), (1, 1), (1, 4), (2, 2), (3, 0), (3, 3)];

    #[test]
    fn similarities_by_hand() {
        let t = tiny();
        let msd = params(KnnKind::Basic, SimilarityName::Msd, true).fit(&t).unwrap();
        // u0, u1 share i0 (5, 4) and i2 (4, 5): msd = (1 + 1)/2 = 1 → 1/(1 + 1) = 0.5.
        // u0, u2 share i0 (5, 1), i1 (3, 2), i4 (1, 5): msd = (16 + 1 + 16)/3 = 11 → 1/12.
        // u0, u3 share i1 (3, 4), i2 (4, 3), i4 (1, 2): msd = 3/3 = 1 → 0.5.
        assert!(close(msd.similarity(0, 1), 0.5) && close(msd.similarity(1, 0), 0.5));
        assert!(close(msd.similarity(0, 2), 1.0 / 12.0) && close(msd.similarity(0, 3), 0.5));
        assert_eq!(msd.similarity(2, 2), 1.0);
        assert_eq!(msd.neighbors(0).0, &[1, 2, 3]);
        assert_eq!(msd.neighbors(4), (&[][..], &[][..])); // no ratings, no neighbours
        // Item-based: i3, i4 share u2 (4, 5) → 1/(1 + 1) = 0.5.
        let msd_i = params(KnnKind::Basic, SimilarityName::Msd, false).fit(&t).unwrap();
        assert!(close(msd_i.similarity(3, 4), 0.5));

        // cosine(u0, u1) = (5·4 + 4·5) / √((25 + 16)(16 + 25)) = 40/41.
        let cos = params(KnnKind::Basic, SimilarityName::Cosine, true).fit(&t).unwrap();
        assert!(close(cos.similarity(0, 1), 40.0 / 41.0));

        // pearson(u0, u3) over i1, i2, i4: n = 3, Σab = 26, Σa = 8, Σb = 9, Σa² = 26, Σb² = 29:
        // (3·26 − 8·9) / √((3·26 − 64)(3·29 − 81)) = 6/√84 = 0.6546537.
        // pearson(u0, u1) over i0 (5, 4), i2 (4, 5) = −1: not kept (only positive ones are).
        let pe = params(KnnKind::Basic, SimilarityName::Pearson, true).fit(&t).unwrap();
        assert!(close(pe.similarity(0, 3), 6.0 / 84f64.sqrt()));
        assert_eq!(pe.similarity(0, 1), 0.0);
        assert_eq!(pe.neighbors(0).0, &[3]);

        // pearson_baseline(u0, u3): residuals d = r − (μ + b_u + b_i) with the ALS biases, times
        // the shrinkage (3 − 1)/(3 − 1 + 100); value from a direct transcription of Surprise's
        // loops: 0.011733869.
        let pb = params(KnnKind::Basic, SimilarityName::PearsonBaseline, true).fit(&t).unwrap();
        assert!(close(pb.similarity(0, 3), 0.011733869), "{}", pb.similarity(0, 3));
        // min_support: with 3, u0–u1 (2 common items) drops to 0, u0–u3 (3) stays.
        let mut p = params(KnnKind::Basic, SimilarityName::Msd, true);
        p.sim.min_support = 3;
        let m = p.fit(&t).unwrap();
        assert_eq!((m.similarity(0, 1), m.similarity(0, 3)), (0.0, 0.5));
    }

    #[test]
    fn basic_predictions_by_hand() {
        let t = tiny();
        // User-based MSD, (u0, i3): raters of i3 are u1 (2, sim 1/2) and u2 (4, sim 1/12):
        // (2/2 + 4/12) / (1/2 + 1/12) = (4/3)/(7/12) = 16/7.
        let m = params(KnnKind::Basic, SimilarityName::Msd, true).fit(&t).unwrap();
        assert!(close(m.predict(0, 3).rating, 16.0 / 7.0));
        // Item-based MSD, (u0, i3): u0 rated i0 (5), i1 (3), i2 (4), i4 (1), with similarities
        // to i3 of 2/15, 1/5, 1/10, 1/2: (2/3 + 3/5 + 2/5 + 1/2)/(14/15) = (13/6)(15/14) = 65/28.
        let m = params(KnnKind::Basic, SimilarityName::Msd, false).fit(&t).unwrap();
        assert!(close(m.predict(0, 3).rating, 65.0 / 28.0));
        // k = 1: only u1 (sim 1/2, the larger) → 2.
        let mut p = params(KnnKind::Basic, SimilarityName::Msd, true);
        p.k = 1;
        assert!(close(p.fit(&t).unwrap().predict(0, 3).rating, 2.0));
    }

    #[test]
    fn every_kind_and_similarity_matches_surprise() {
        // r̂ for PAIRS from a line-by-line Python transcription of Surprise's knns.py and
        // similarities.pyx (dense matrices, heapq-ordered neighbours, ALS baselines with
        // Surprise's defaults) on the same data. Pearson rows where no neighbour has a positive
        // similarity give μ = 3.214286 (Basic) or the row mean (WithMeans, WithZScore).
        use KnnKind::*;
        use SimilarityName::*;
        #[rustfmt::skip]
        let table: [(KnnKind, SimilarityName, bool, [f64; 6]); 32] = [
            (Basic, Msd, true, [2.285714, 3.080000, 1.880000, 4.000000, 4.120000, 2.800000]),
            (Basic, Msd, false, [2.321429, 4.101449, 2.851351, 2.157895, 3.268657, 2.625000]),
            (Basic, Cosine, true, [2.672080, 3.132961, 2.371902, 3.948933, 3.519216, 2.855448]),
            (Basic, Cosine, false, [3.082607, 3.639475, 3.514896, 2.968051, 3.236361, 3.000000]),
            (Basic, Pearson, true, [3.214286, 3.214286, 3.214286, 3.214286, 5.000000, 3.214286]),
            (Basic, Pearson, false, [3.214286, 4.000000, 3.214286, 3.214286, 4.000000, 3.214286]),
            (Basic, PearsonBaseline, true, [2.000000, 3.000000, 1.000000, 3.214286, 5.000000, 3.214286]),
            (Basic, PearsonBaseline, false, [3.214286, 4.000000, 3.214286, 1.000000, 3.498774, 3.214286]),
            (WithMeans, Msd, true, [1.964286, 3.596667, 2.396667, 3.686508, 3.810000, 2.400000]),
            (WithMeans, Msd, false, [2.345238, 3.497585, 2.261261, 3.070175, 3.033167, 2.708333]),
            (WithMeans, Cosine, true, [2.479440, 3.706762, 2.945703, 3.654370, 3.183919, 2.473931]),
            (WithMeans, Cosine, false, [2.840579, 3.199832, 2.732851, 3.960986, 3.198824, 2.777778]),
            (WithMeans, Pearson, true, [3.250000, 3.666667, 3.666667, 3.000000, 4.750000, 3.000000]),
            (WithMeans, Pearson, false, [3.000000, 3.666667, 2.666667, 4.000000, 4.333333, 3.000000]),
            (WithMeans, PearsonBaseline, true, [1.583333, 3.416667, 1.416667, 3.000000, 4.750000, 3.000000]),
            (WithMeans, PearsonBaseline, false, [3.000000, 3.666667, 2.666667, 1.666667, 3.330882, 3.000000]),
            (WithZScore, Msd, true, [1.689553, 3.780572, 2.414060, 3.834828, 3.466780, 2.551905]),
            (WithZScore, Msd, false, [2.614772, 3.434408, 2.027545, 3.374750, 2.758715, 2.907948]),
            (WithZScore, Cosine, true, [2.252071, 3.974501, 2.771178, 3.790676, 3.134008, 2.596472]),
            (WithZScore, Cosine, false, [2.906205, 3.152404, 2.850356, 3.938773, 3.174713, 2.869256]),
            (WithZScore, Pearson, true, [3.250000, 3.666667, 3.666667, 3.000000, 3.966092, 3.000000]),
            (WithZScore, Pearson, false, [3.000000, 3.320256, 2.666667, 4.000000, 5.414999, 3.000000]),
            (WithZScore, PearsonBaseline, true, [1.273576, 3.455848, 1.769300, 3.000000, 3.966092, 3.000000]),
            (WithZScore, PearsonBaseline, false, [3.000000, 3.320256, 2.666667, 2.879103, 3.328230, 3.000000]),
            (Baseline, Msd, true, [2.239579, 3.157362, 1.957362, 3.951650, 4.070057, 2.738099]),
            (Baseline, Msd, false, [2.334960, 3.967130, 2.713435, 2.363220, 3.211057, 2.651279]),
            (Baseline, Cosine, true, [2.645632, 3.219849, 2.458790, 3.903418, 3.466152, 2.796373]),
            (Baseline, Cosine, false, [3.036379, 3.541055, 3.336171, 3.189778, 3.223149, 2.957400]),
            (Baseline, Pearson, true, [3.181560, 3.236185, 3.159262, 3.357203, 4.958029, 3.139588]),
            (Baseline, Pearson, false, [3.181560, 3.930974, 3.159262, 3.357203, 4.069026, 3.139588]),
            (Baseline, PearsonBaseline, true, [1.939306, 3.060694, 1.060694, 3.357203, 4.958029, 3.139588]),
            (Baseline, PearsonBaseline, false, [3.181560, 3.930974, 3.159262, 1.153904, 3.456062, 3.139588]),
        ];
        let t = tiny();
        for (kind, name, ub, want) in table {
            let m = params(kind, name, ub).fit(&t).unwrap();
            let got = m.predict_batch(&PAIRS);
            for (k, (p, w)) in got.iter().zip(want).enumerate() {
                assert!(close(p.rating, w), "{kind:?} {name:?} user_based={ub} pair {:?}: {} vs {w}", PAIRS[k], p.rating);
                assert!(p.known_user && p.known_item);
            }
        }
    }

    #[test]
    fn min_k_forces_the_fallback() {
        // (u0, i3), user-based MSD has 2 positive neighbours; min_k = 3 drops the neighbour term:
        // Basic → μ = 45/14; WithMeans and WithZScore → μ_u0 = 13/4; Baseline → μ + b_u0 + b_i3.
        let t = tiny();
        let with = |kind| KnnParams { min_k: 3, ..params(kind, SimilarityName::Msd, true) }.fit(&t).unwrap().predict(0, 3);
        assert!(close(with(KnnKind::Basic).rating, 45.0 / 14.0));
        assert!(close(with(KnnKind::WithMeans).rating, 3.25));
        assert!(close(with(KnnKind::WithZScore).rating, 3.25));
        assert!(close(with(KnnKind::Baseline).rating, 3.181560));
        let b = params(KnnKind::Baseline, SimilarityName::Msd, true).fit(&t).unwrap();
        assert!(close(with(KnnKind::Baseline).rating, f64::from(b.mu + b.bu[0] + b.bi[3])));
        // min_k = 2 is met: the neighbour term is back (value from the table).
        let p = KnnParams { min_k: 2, ..params(KnnKind::WithMeans, SimilarityName::Msd, true) };
        assert!(close(p.fit(&t).unwrap().predict(0, 3).rating, 1.964286));
    }

    #[test]
    fn unknown_users_and_items_fall_back() {
        let t = tiny();
        let mu = 45.0 / 14.0;
        for kind in [KnnKind::Basic, KnnKind::WithMeans, KnnKind::WithZScore] {
            let m = params(kind, SimilarityName::Msd, true).fit(&t).unwrap();
            let p = m.predict(4, 0);
            assert!(close(p.rating, mu) && !p.known_user && p.known_item, "{kind:?}");
            let p = m.predict(0, 5);
            assert!(close(p.rating, mu) && p.known_user && !p.known_item, "{kind:?}");
            let p = m.predict(99, 99);
            assert!(close(p.rating, mu) && p.is_fallback(), "{kind:?}");
        }
        // KNNBaseline: the baseline, an unknown side's bias counted as zero.
        let m = params(KnnKind::Baseline, SimilarityName::Msd, true).fit(&t).unwrap();
        assert!(close(m.predict(4, 0).rating, f64::from(m.mu + m.bi[0])));
        assert!(close(m.predict(0, 5).rating, f64::from(m.mu + m.bu[0])));
        assert!(close(m.predict(4, 5).rating, mu));
    }

    #[test]
    fn max_neighbors_keeps_the_most_similar() {
        let t = tiny();
        // MSD row u2: u0 1/12, u1 2/15, u3 2/15. Keeping 2 drops u0; keeping 1 keeps the tie
        // broken towards the smaller index, u1.
        let fit = |m| KnnParams { max_neighbors: Some(m), ..params(KnnKind::Basic, SimilarityName::Msd, true) }.fit(&t).unwrap();
        let m2 = fit(2);
        assert_eq!(m2.neighbors(2).0, &[1, 3]);
        assert!(close(m2.neighbors(2).1[0], 2.0 / 15.0) && close(m2.neighbors(2).1[1], 2.0 / 15.0));
        assert_eq!(m2.similarity(2, 0), 0.0);
        let m1 = fit(1);
        assert_eq!(m1.neighbors(2).0, &[1]);
        // Row u0: u1 1/2, u2 1/12, u3 1/2 → u1.
        assert_eq!(m1.neighbors(0).0, &[1]);
        assert_eq!(m1.n_stored_pairs(), 4);
        assert_eq!(fit(9).n_stored_pairs(), 12);
        // Automatic: all kept below AUTO_KEEP_ALL_ROWS rows, max(10 k, 200) above.
        let p = KnnParams::default();
        assert_eq!(p.effective_max_neighbors(AUTO_KEEP_ALL_ROWS), None);
        assert_eq!(p.effective_max_neighbors(AUTO_KEEP_ALL_ROWS + 1), Some(400));
        assert_eq!(KnnParams { k: 5, ..p.clone() }.effective_max_neighbors(50_000), Some(200));
        assert_eq!(KnnParams { max_neighbors: Some(7), ..p }.effective_max_neighbors(3), Some(7));
    }

    #[test]
    fn truncation_is_the_exact_top_of_the_full_rows() {
        // MSD on uniform random 1–5 ratings has many tied similarities: the truncated rows must
        // be the `m` best of the full rows by (similarity, then the smaller index).
        let data = burnrec_data::synthetic::random_ratings(150, 60, 3_000, 11);
        let full = params(KnnKind::Basic, SimilarityName::Msd, true).fit(&data).unwrap();
        for m in [1, 3, 7, 40] {
            let cut = KnnParams { max_neighbors: Some(m), ..params(KnnKind::Basic, SimilarityName::Msd, true) };
            let cut = cut.fit(&data).unwrap();
            for x in 0..150 {
                let (idx, sim) = full.neighbors(x);
                let mut best: Vec<(u32, f32)> = idx.iter().copied().zip(sim.iter().copied()).collect();
                best.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                best.truncate(m);
                best.sort_by_key(|b| b.0);
                let (ci, cs) = cut.neighbors(x);
                assert_eq!(ci, best.iter().map(|b| b.0).collect::<Vec<_>>(), "row {x}, m = {m}");
                assert_eq!(cs, best.iter().map(|b| b.1).collect::<Vec<_>>(), "row {x}, m = {m}");
            }
        }
    }

    #[test]
    fn sort_desc_sorts() {
        let mut state = 99u64;
        for len in [0usize, 1, 2, 5, 16, 17, 40, 1000, 5000] {
            let mut v: Vec<u64> = (0..len as u64)
                .map(|k| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (state >> 40) << 20 | k
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable_by(|a, b| b.cmp(a));
            sort_desc(&mut v);
            assert_eq!(v, want, "len {len}");
            // Already sorted, and reversed, inputs.
            sort_desc(&mut v);
            assert_eq!(v, want);
            v.reverse();
            sort_desc(&mut v);
            assert_eq!(v, want);
        }
    }

    #[test]
    fn select_top_puts_the_largest_first() {
        let mut state = 12345u64;
        for len in [1usize, 2, 3, 10, 100, 1000] {
            let mut v: Vec<u64> = (0..len as u64)
                .map(|k| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (state >> 40) << 20 | k
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            for m in [1, len / 2, len.saturating_sub(1)] {
                if m == 0 || m >= len {
                    continue;
                }
                select_top(&mut v, m);
                let mut top = v[..m].to_vec();
                top.sort_unstable_by(|a, b| b.cmp(a));
                assert_eq!(top, sorted[..m], "len {len}, m {m}");
            }
        }
    }

    #[test]
    fn memory_estimate_bounds_the_storage_and_the_limit_is_enforced() {
        let t = tiny();
        let p = KnnParams::default();
        let m = p.fit(&t).unwrap();
        assert!(p.memory_estimate(&t) >= 8 * m.n_stored_pairs() as u64);
        let data = burnrec_data::synthetic::random_ratings(600, 300, 20_000, 3);
        let p = KnnParams { memory_limit_mib: 1, ..Default::default() };
        assert!(p.memory_estimate(&data) > 1 << 20);
        match p.fit(&data) {
            Err(FitError::Memory { limit_mib: 1, hint, .. }) => assert!(hint.contains("max_neighbors"), "{hint}"),
            other => panic!("expected a memory error, got {other:?}"),
        }
    }

    #[test]
    fn results_do_not_depend_on_thread_count() {
        let data = burnrec_data::synthetic::random_ratings(120, 80, 2_000, 5);
        let p = KnnParams {
            kind: KnnKind::Baseline,
            sim: Similarity { name: SimilarityName::Pearson, ..Default::default() },
            max_neighbors: Some(10),
            ..Default::default()
        };
        let pairs: Vec<(u32, u32)> = (0..120).flat_map(|u| (0..80).step_by(7).map(move |i| (u, i))).collect();
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let m = p.fit(&data).unwrap();
                let preds = m.predict_batch(&pairs);
                (m, preds)
            })
        };
        let (m1, p1) = run(1);
        let (m3, p3) = run(3);
        assert_eq!(m1, m3);
        assert_eq!(p1, p3);
        // The batch keeps the order of the pairs.
        for (k, &(u, i)) in pairs.iter().enumerate().step_by(37) {
            assert_eq!(p1[k], m1.predict(u, i));
        }
    }

    #[test]
    fn save_load_gives_identical_predictions() {
        let t = tiny();
        for kind in [KnnKind::Basic, KnnKind::WithMeans, KnnKind::WithZScore, KnnKind::Baseline] {
            let m = params(kind, SimilarityName::PearsonBaseline, false).fit(&t).unwrap();
            let back: Knn = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            let pairs = [(0, 3), (1, 1), (4, 0), (2, 5)];
            assert_eq!(m.predict_batch(&pairs), back.predict_batch(&pairs));
        }
        let p = params(KnnKind::WithZScore, SimilarityName::Cosine, false);
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains("\"with_zscore\"") && json.contains("\"cosine\""), "{json}");
        assert_eq!(serde_json::from_str::<KnnParams>(&json).unwrap(), p);
        let q: KnnParams = serde_json::from_str(r#"{"k": 20, "sim": {"name": "pearson_baseline"}}"#).unwrap();
        assert_eq!((q.k, q.sim.name, q.sim.user_based, q.sim.shrinkage), (20, SimilarityName::PearsonBaseline, true, 100.0));
        assert!(serde_json::from_str::<KnnParams>(r#"{"kk": 20}"#).is_err());
    }

    #[test]
    fn bad_params_are_named() {
        let bad = |p: KnnParams| p.check().unwrap_err().name;
        assert_eq!(bad(KnnParams { k: 0, ..Default::default() }), "k");
        assert_eq!(bad(KnnParams { k: 3, min_k: 4, ..Default::default() }), "min_k");
        assert_eq!(bad(KnnParams { max_neighbors: Some(0), ..Default::default() }), "max_neighbors");
        assert_eq!(bad(KnnParams { memory_limit_mib: 0, ..Default::default() }), "memory_limit_mib");
        let mut p = KnnParams::default();
        p.sim.shrinkage = -1.0;
        assert_eq!(bad(p), "shrinkage");
        let p = KnnParams { baseline: BaselineParams { n_epochs: 0, ..Default::default() }, ..Default::default() };
        assert_eq!(bad(p.clone()), "n_epochs");
        assert!(matches!(p.fit(&tiny()), Err(FitError::Param(_))));
        let empty = Interactions::new(vec![], 2, 2).unwrap();
        assert!(matches!(KnnParams::default().fit(&empty), Err(FitError::EmptyTrainSet)));
    }
}
