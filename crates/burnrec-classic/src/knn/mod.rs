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
//! ones a prediction can use), sorted by index, truncated to the `max_neighbours` largest (ties
//! to the smaller index). [`KnnParams::max_neighbours`] `= None` means automatic: keep every
//! neighbour (exactly Surprise) when there are at most [`AUTO_KEEP_ALL_ROWS`] rows, otherwise
//! keep the `max(10·k, 200)` most similar per row. Each kept neighbour costs 8 bytes.
//! [`KnnParams::memory_estimate`] bounds the fit's memory before anything is allocated, and
//! `fit` refuses with [`FitError::Memory`] when it exceeds `memory_limit_mib`. Results do not
//! depend on the number of threads.
//!
//! # Differences from Surprise
//! - Neighbours tied on similarity at the `k`-th place go to the smaller index (Surprise keeps
//!   the first in its training-set order).
//! - With truncation (`max_neighbours`), a rater outside `x`'s kept list counts as similarity 0.
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

use burnrec_data::Interactions;
use serde::{Deserialize, Serialize};

use crate::BaselineParams;
use crate::error::{ParamError, ensure};

mod predict;
mod similarity;
#[cfg(test)]
mod tests;

pub use predict::Knn;
pub(crate) use similarity::ScratchPool;
use similarity::*;

/// With [`KnnParams::max_neighbours`] `= None`, every neighbour is kept when the neighbourhood
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
/// | `max_neighbours` | `None` (automatic) | similarities kept per row; `None`: all if the row side has ≤ [`AUTO_KEEP_ALL_ROWS`] rows, else `max(10·k, 200)` | `≥ 1` |
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
    /// Similarities kept per row (`None`: automatic, see the table). Files and `--set`
    /// written with the American spelling `max_neighbors` still read.
    #[serde(alias = "max_neighbors")]
    pub max_neighbours: Option<usize>,
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
            max_neighbours: None,
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
        if let Some(m) = self.max_neighbours {
            ensure(m >= 1, "max_neighbours", m, ">= 1 (or None for automatic)")?;
        }
        ensure(self.memory_limit_mib >= 1, "memory_limit_mib", self.memory_limit_mib, ">= 1")?;
        self.baseline.check()
    }

    /// The number of similarities kept per row for a neighbourhood side of `n_rows` rows:
    /// `max_neighbours` if set; otherwise `None` (all) when `n_rows ≤` [`AUTO_KEEP_ALL_ROWS`],
    /// else `Some(max(10·k, 200))`.
    pub fn effective_max_neighbours(&self, n_rows: usize) -> Option<usize> {
        match self.max_neighbours {
            Some(m) => Some(m),
            None if n_rows <= AUTO_KEEP_ALL_ROWS => None,
            None => Some(self.k.saturating_mul(10).max(200)),
        }
    }

    /// An upper bound, in bytes, on the memory `fit` allocates on `train` (the neighbour lists,
    /// the copies of the ratings, and the per-thread accumulators), computed in O(ratings)
    /// without allocating any of it. Row `x` can keep at most
    /// `min(n_rows − 1, Σ_{y rated by x} (|raters of y| − 1), max_neighbours)` neighbours at 8
    /// bytes each (twice: as built per row, then copied into one matrix); one accumulator of `n_rows` entries is counted per thread of the current
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
        let keep = self.effective_max_neighbours(n_x).map_or(u64::MAX, |m| m as u64);
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
        // 8 bytes a kept pair, twice (the rows as built, then the one matrix they are copied
        // into), plus each built row's two vectors and their allocator overhead, and an offset.
        let lists = stored * 16 + n_x * (std::mem::size_of::<SimRow>() as u64 + 64 + 8);
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
