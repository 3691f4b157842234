//! Slope One (Lemire & Maclachlan, "Slope One Predictors for Online Rating-Based Collaborative
//! Filtering", SIAM SDM 2005), exactly as Surprise's `SlopeOne`.
//!
//! # Model
//! The deviation of item `i` from item `j` is the mean difference over the users `U_ij` who
//! rated both: `dev(i, j) = Σ_{u ∈ U_ij} (r_ui − r_uj) / |U_ij|`. The prediction is
//! `r̂_ui = μ_u + Σ_{j ∈ R_i(u)} dev(i, j) / |R_i(u)|`, where `μ_u` is the user's mean rating
//! and `R_i(u)` the items `j` the user rated that share at least one rater with `i`; with
//! `R_i(u)` empty, `r̂_ui = μ_u`. An unknown user or item gives the global mean μ (Surprise's
//! default prediction), with the [`Prediction`] flags saying which side was unknown.
//!
//! # Storage and memory
//! Only co-rated item pairs are stored (8 bytes each, per direction), never a dense
//! `n_items²` matrix; rows are computed in parallel and do not depend on the number of threads.
//! [`SlopeOneParams::memory_estimate`] bounds the fit's memory before allocating, and `fit`
//! refuses with [`FitError::Memory`] above `memory_limit_mib`.
//!
//! Unlike Surprise, whose Cython code reads ratings as integers, non-integer ratings (half
//! stars) are used as they are.

use burnrec_data::csr::Csr;
use burnrec_data::{Interactions, KnownSet, Prediction, RatingPredictor};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Fit;
use crate::error::{FitError, ParamError, ensure};
use crate::knn::ScratchPool;

/// Parameters of [`SlopeOne`]. Slope One has no hyper-parameters; only a memory guard.
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `memory_limit_mib` | 4096 | `fit` fails with [`FitError::Memory`] if [`SlopeOneParams::memory_estimate`] exceeds it | `≥ 1` |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlopeOneParams {
    /// Memory limit of `fit`, MiB.
    pub memory_limit_mib: u64,
}

impl Default for SlopeOneParams {
    fn default() -> Self {
        Self { memory_limit_mib: 4096 }
    }
}

impl SlopeOneParams {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`ParamError`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), ParamError> {
        ensure(self.memory_limit_mib >= 1, "memory_limit_mib", self.memory_limit_mib, ">= 1")
    }

    /// An upper bound, in bytes, on the memory `fit` allocates on `train`, computed in
    /// O(ratings) without allocating it: item `i` stores at most
    /// `min(n_items − 1, Σ_{u rated i} (|items of u| − 1))` deviations at 8 bytes each, plus the
    /// copies of the ratings and the per-thread accumulators. Does not count `train` itself.
    pub fn memory_estimate(&self, train: &Interactions) -> u64 {
        let (nu, ni) = (train.n_users(), train.n_items());
        let mut u_count = vec![0u64; nu];
        for &u in train.users() {
            u_count[u as usize] += 1;
        }
        let mut reach = vec![0u64; ni];
        for (&u, &i) in train.users().iter().zip(train.items()) {
            reach[i as usize] += u_count[u as usize] - 1;
        }
        let cap = (ni as u64).saturating_sub(1);
        let stored: u64 = reach.iter().map(|&r| r.min(cap)).sum();
        let (nnz, nu, ni) = (train.len() as u64, nu as u64, ni as u64);
        let threads = rayon::current_num_threads() as u64;
        // 8 bytes a pair, plus each row's two vectors and their allocator overhead.
        let lists = stored * 8 + ni * (std::mem::size_of::<DevRow>() as u64 + 64);
        let ratings = 2 * nnz * 8 + (nu + ni + 2) * 8 + nnz * 8 + (nu + 1) * 8;
        let scratch = threads * ni * (4 + 8 + 4);
        let small = nu * 4 + (nu + ni) * 2 + (nu + ni) * 8;
        lists + ratings + scratch + small
    }
}

/// One item's deviations `dev(i, j)` to its co-rated items `j`, sorted by `j`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct DevRow {
    idx: Vec<u32>,
    dev: Vec<f32>,
}

/// A fitted [`SlopeOneParams`].
///
/// # Shapes
/// - `user_means`: `[n_users]`, rating units (0 for users without ratings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlopeOne {
    /// Mean training rating μ (the prediction for unknown users or items).
    pub mu: f32,
    /// Mean rating `μ_u` of each user.
    pub user_means: Vec<f32>,
    devs: Vec<DevRow>,
    user_items: Csr,
    known: KnownSet,
}

struct DevScratch {
    count: Vec<u32>,
    sum: Vec<f64>,
    touched: Vec<u32>,
}

impl Fit for SlopeOneParams {
    type Model = SlopeOne;

    /// # Errors
    /// [`FitError::Param`], [`FitError::EmptyTrainSet`] for empty `train`, or
    /// [`FitError::Memory`] if [`SlopeOneParams::memory_estimate`] exceeds `memory_limit_mib`.
    fn fit(&self, train: &Interactions) -> Result<SlopeOne, FitError> {
        self.check()?;
        let mu = train.global_mean().ok_or(FitError::EmptyTrainSet)?;
        let needed = self.memory_estimate(train);
        if needed > self.memory_limit_mib.saturating_mul(1 << 20) {
            return Err(FitError::Memory {
                needed_mib: needed.div_ceil(1 << 20),
                limit_mib: self.memory_limit_mib,
                hint: "Slope One keeps every co-rated item pair; raise `memory_limit_mib`".into(),
            });
        }
        let (by_user, by_item) = (Csr::by_user(train), Csr::by_item(train));
        let ni = train.n_items();
        let pool = ScratchPool::new();
        let devs: Vec<DevRow> = (0..ni)
            .into_par_iter()
            .with_min_len(16)
            .map_init(
                || pool.take(|| DevScratch { count: vec![0; ni], sum: vec![0.0; ni], touched: Vec::new() }),
                |s, i| {
                    let s = &mut **s;
                    for (&u, &rui) in by_item.row(i).iter().zip(by_item.row_values(i)) {
                        let u = u as usize;
                        let rui = f64::from(rui);
                        for (&j, &ruj) in by_user.row(u).iter().zip(by_user.row_values(u)) {
                            let ju = j as usize;
                            if ju == i {
                                continue;
                            }
                            if s.count[ju] == 0 {
                                s.touched.push(j);
                            }
                            s.count[ju] += 1;
                            s.sum[ju] += rui - f64::from(ruj);
                        }
                    }
                    s.touched.sort_unstable();
                    let mut row = DevRow { idx: Vec::with_capacity(s.touched.len()), dev: Vec::with_capacity(s.touched.len()) };
                    for &j in &s.touched {
                        let ju = j as usize;
                        row.idx.push(j);
                        row.dev.push((s.sum[ju] / f64::from(s.count[ju])) as f32);
                        s.count[ju] = 0;
                        s.sum[ju] = 0.0;
                    }
                    s.touched.clear();
                    row
                },
            )
            .collect();
        let user_means = (0..train.n_users())
            .map(|u| {
                let v = by_user.row_values(u);
                if v.is_empty() { 0.0 } else { (v.iter().map(|&r| f64::from(r)).sum::<f64>() / v.len() as f64) as f32 }
            })
            .collect();
        Ok(SlopeOne { mu: mu as f32, user_means, devs, user_items: by_user.clone(), known: KnownSet::from_train(train) })
    }
}

impl SlopeOne {
    /// `dev(i, j)`, the mean of `r_ui − r_uj` over the users who rated both, or `None` if no
    /// user did (or an index is out of range). `dev(i, i) = 0` for an item with ratings.
    pub fn deviation(&self, i: u32, j: u32) -> Option<f32> {
        if i == j {
            return self.known.item(i).then_some(0.0);
        }
        let row = self.devs.get(i as usize)?;
        row.idx.binary_search(&j).ok().map(|p| row.dev[p])
    }

    /// Number of stored (item, item) deviations.
    pub fn n_stored_pairs(&self) -> usize {
        self.devs.iter().map(|r| r.idx.len()).sum()
    }

    fn predict_one(&self, u: u32, i: u32) -> Prediction {
        let (ku, ki) = (self.known.user(u), self.known.item(i));
        if !(ku && ki) {
            return Prediction { rating: self.mu, known_user: ku, known_item: ki };
        }
        let row = &self.devs[i as usize];
        let items = self.user_items.row(u as usize);
        let (mut sum, mut n) = (0f64, 0usize);
        // Both lists are sorted: walk the deviation row forward.
        let gallop = row.idx.len() > 8 * items.len();
        let mut p = 0usize;
        for &j in items {
            if j == i {
                // dev(i, i) = 0, and i shares its raters with itself.
                n += 1;
                continue;
            }
            if gallop {
                p += row.idx[p..].partition_point(|&v| v < j);
            } else {
                while p < row.idx.len() && row.idx[p] < j {
                    p += 1;
                }
            }
            if p < row.idx.len() && row.idx[p] == j {
                sum += f64::from(row.dev[p]);
                n += 1;
            }
        }
        let mut est = f64::from(self.user_means[u as usize]);
        if n > 0 {
            est += sum / n as f64;
        }
        Prediction { rating: est as f32, known_user: true, known_item: true }
    }
}

impl RatingPredictor for SlopeOne {
    /// Predicts the pairs in parallel (rayon); the order of `pairs` is kept.
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        pairs.par_iter().with_min_len(64).map(|&(u, i)| self.predict_one(u, i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnrec_data::Rating;

    use crate::util::fixtures::tiny;

    fn close(a: f32, b: f64) -> bool {
        (f64::from(a) - b).abs() < 1e-5
    }

    #[test]
    fn deviations_and_predictions_by_hand() {
        let m = SlopeOneParams::default().fit(&tiny()).unwrap();
        // dev(i3, i0): u1 (2 − 4) and u2 (4 − 1) → (−2 + 3)/2 = 0.5; antisymmetric.
        assert!(close(m.deviation(3, 0).unwrap(), 0.5) && close(m.deviation(0, 3).unwrap(), -0.5));
        // dev(i3, i1) = 4 − 2 = 2 (u2); dev(i3, i2) = 2 − 5 = −3 (u1); dev(i3, i4) = 4 − 5 = −1 (u2).
        assert!(close(m.deviation(3, 1).unwrap(), 2.0) && close(m.deviation(3, 2).unwrap(), -3.0));
        assert!(close(m.deviation(3, 4).unwrap(), -1.0));
        assert_eq!(m.deviation(3, 3), Some(0.0));
        assert_eq!(m.deviation(5, 0), None); // item 5 has no raters
        // r̂(u0, i3) = μ_u0 + mean(dev(i3, j) for j in {i0, i1, i2, i4})
        //          = 13/4 + (0.5 + 2 − 3 − 1)/4 = 3.25 − 0.375 = 2.875.
        assert!(close(m.predict(0, 3).rating, 2.875));
        // r̂(u3, i0) = μ_u3 + mean(dev(i0, i1), dev(i0, i2), dev(i0, i4))
        //   dev(i0, i1): u0 (5 − 3), u2 (1 − 2) → 0.5; dev(i0, i2): u0 (1), u1 (−1) → 0;
        //   dev(i0, i4): u0 (4), u2 (−4) → 0  ⇒ 3 + 0.5/3 = 3.1666667.
        assert!(close(m.predict(3, 0).rating, 3.0 + 0.5 / 3.0));
        // The rest, from a transcription of Surprise's slope_one.pyx.
        let want = [2.833333, 3.333333, 4.25, 2.333333];
        for ((u, i), w) in [(1, 1), (1, 4), (2, 2), (3, 3)].into_iter().zip(want) {
            assert!(close(m.predict(u, i).rating, w), "({u}, {i}): {} vs {w}", m.predict(u, i).rating);
        }
        // Each of the 10 pairs of distinct rated items shares a rater (i1–i3 only through u2),
        // so all 5·4 = 20 ordered pairs are stored.
        assert_eq!(m.n_stored_pairs(), 20);
    }

    #[test]
    fn unknown_users_and_items_give_the_global_mean() {
        let m = SlopeOneParams::default().fit(&tiny()).unwrap();
        let mu = 45.0 / 14.0;
        let p = m.predict(4, 0);
        assert!(close(p.rating, mu) && !p.known_user && p.known_item);
        let p = m.predict(0, 5);
        assert!(close(p.rating, mu) && p.known_user && !p.known_item);
        assert!(m.predict(77, 77).is_fallback());
    }

    #[test]
    fn no_shared_rater_gives_the_user_mean() {
        // u0 rates i0, i1; u1 rates i2 only: i2 shares no rater with i0 or i1.
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        let t = Interactions::new(vec![r(0, 0, 4.0), r(0, 1, 2.0), r(1, 2, 5.0)], 2, 3).unwrap();
        let m = SlopeOneParams::default().fit(&t).unwrap();
        assert!(close(m.predict(0, 2).rating, 3.0));
        assert!(close(m.predict(1, 0).rating, 5.0));
    }

    #[test]
    fn save_load_thread_count_and_params() {
        let data = burnrec_data::synthetic::random_ratings(100, 60, 1_500, 2);
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| SlopeOneParams::default().fit(&data).unwrap())
        };
        let (a, b) = (run(1), run(3));
        assert_eq!(a, b);
        let back: SlopeOne = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        let pairs: Vec<(u32, u32)> = (0..100).map(|u| (u, (u * 7) % 60)).collect();
        assert_eq!(a.predict_batch(&pairs), back.predict_batch(&pairs));
        let e = SlopeOneParams { memory_limit_mib: 0 }.check().unwrap_err();
        assert_eq!(e.name, "memory_limit_mib");
        let big = burnrec_data::synthetic::random_ratings(300, 900, 30_000, 4);
        assert!(matches!(SlopeOneParams { memory_limit_mib: 1 }.fit(&big), Err(FitError::Memory { .. })));
        let empty = Interactions::new(vec![], 2, 2).unwrap();
        assert!(matches!(SlopeOneParams::default().fit(&empty), Err(FitError::EmptyTrainSet)));
    }
}
