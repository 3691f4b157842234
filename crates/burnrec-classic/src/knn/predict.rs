//! The fitted neighbourhood model and its predictions (see the [module docs](super) for the
//! four predictors and their fallbacks).

use burnrec_data::csr::Csr;
use burnrec_data::{Interactions, KnownSet, Prediction, RatingPredictor};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::*;
use crate::Fit;
use crate::baseline::als_biases;
use crate::error::FitError;

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
    /// Row `x`: its kept neighbours and their similarities, sorted by index. Written as
    /// `neighbors`, a list of rows, by earlier versions (still read).
    #[serde(alias = "neighbors", deserialize_with = "similarity::neighbour_store")]
    pub(super) neighbours: Csr,
    pub(super) by_y: Csr,
    pub(super) known: KnownSet,
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
            let now = match self.effective_max_neighbours(n_x) {
                Some(m) => format!("{m}"),
                None => "all".to_string(),
            };
            return Err(FitError::Memory {
                needed_mib: needed.div_ceil(1 << 20),
                limit_mib: self.memory_limit_mib,
                hint: format!(
                    "lower `max_neighbours` (now keeping {now} per row; e.g. Some({})) or raise `memory_limit_mib`",
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
        let keep = self.effective_max_neighbours(xr.n_rows());
        let min_support = self.sim.min_support.min(u32::MAX as usize) as u32;
        let neighbours = match self.sim.name {
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
            neighbours,
            by_y: yr.clone(),
            known: KnownSet::from_train(train),
        })
    }
}

impl Knn {
    /// The kept neighbours of row `x` (a user if [`Knn::user_based`], else an item): sorted
    /// neighbour indices and their similarities, aligned. Empty outside the range.
    pub fn neighbours(&self, x: u32) -> (&[u32], &[f32]) {
        self.neighbours.entries(x as usize)
    }

    /// The similarity used between rows `x` and `x2`: 1 if they are equal, the kept value if
    /// `x2` is among `x`'s kept neighbours, else 0 (no or too few co-ratings, a non-positive
    /// similarity, or truncated by `max_neighbours`).
    pub fn similarity(&self, x: u32, x2: u32) -> f32 {
        if x == x2 {
            return 1.0;
        }
        self.neighbours.get(x as usize, x2).unwrap_or(0.0)
    }

    /// Number of stored (row, neighbour) pairs, over all rows.
    pub fn n_stored_pairs(&self) -> usize {
        self.neighbours.nnz()
    }

    /// The positive-similarity raters of `y` with their similarity to `x` and rating, as
    /// `(sim, rating, x2)` in `buf` (cleared first).
    pub(super) fn gather(&self, x: usize, y: usize, buf: &mut Vec<(f32, f32, u32)>) {
        buf.clear();
        let (nidx, nsim) = self.neighbours.entries(x);
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

    pub(super) fn predict_one(&self, u: u32, i: u32, buf: &mut Vec<(f32, f32, u32)>) -> Prediction {
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
