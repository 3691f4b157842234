//! Burn [`Batcher`]s (feature `burn`): turn interactions into tensors on a device.
//!
//! | batcher | items | batch |
//! | --- | --- | --- |
//! | [`ExplicitBatcher`] | [`Rating`] | users, items, `rating − offset` |
//! | [`PointwiseBatcher`] | positive [`Rating`]s | each positive (label 1) + `n_neg` sampled negatives (label 0) |
//! | [`PairwiseBatcher`] | positive [`Rating`]s | (user, positive, sampled negative) triples for BPR |
//!
//! Every batcher can attach side features ([`Features`]): for each row, the user's or item's
//! feature indices from a [`FeatureTable`], padded to the batch's longest row with the index
//! `n_features` (give the feature embedding table `n_features + 1` rows and ignore the last).
//!
//! Negatives are drawn from a ChaCha8 generator seeded with `(seed, epoch)`
//! ([`PointwiseBatcher::set_epoch`]): fresh negatives every epoch, reproducible bit for bit
//! when batches are built in order (a single-threaded loader). A positive whose user has
//! interacted with every item gets no negative (pointwise) or is dropped (pairwise).

use std::sync::{Arc, Mutex};

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::dataset::Rating;
use crate::features::FeatureTable;
use crate::sampling::NegativeSampler;

/// Side features to attach to batches.
#[derive(Clone, Debug, Default)]
pub struct Features {
    /// User features, rows by user index.
    pub users: Option<Arc<FeatureTable>>,
    /// Item features, rows by item index.
    pub items: Option<Arc<FeatureTable>>,
}

/// `[n]` Int tensor of user or item indices on `device` (the one place ids become tensors).
pub fn index_tensor(ids: &[u32], device: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = ids.iter().map(|&x| i64::from(x)).collect();
    Tensor::from_data(TensorData::new(v, [ids.len()]), device)
}

fn floats(v: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

/// `[rows.len(), max_row_len ≥ 1]` feature indices, padded with `table.n_features()`.
pub fn padded_features(table: &FeatureTable, rows: &[u32], device: &Device) -> Tensor<2, Int> {
    let width = rows.iter().map(|&r| table.row(r as usize).len()).max().unwrap_or(0).max(1);
    let pad = table.n_features() as i64;
    let mut v = Vec::with_capacity(rows.len() * width);
    for &r in rows {
        let f = table.row(r as usize);
        v.extend(f.iter().map(|&x| i64::from(x)));
        v.extend(std::iter::repeat_n(pad, width - f.len()));
    }
    Tensor::from_data(TensorData::new(v, [rows.len(), width]), device)
}

fn feats(t: &Option<Arc<FeatureTable>>, rows: &[u32], device: &Device) -> Option<Tensor<2, Int>> {
    t.as_ref().map(|t| padded_features(t, rows, device))
}

/// A batch of explicit ratings.
///
/// # Shapes
/// `users`, `items`, `targets`: `[batch]`; features: `[batch, width]`.
#[derive(Clone, Debug)]
pub struct ExplicitBatch {
    /// User indices.
    pub users: Tensor<1, Int>,
    /// Item indices.
    pub items: Tensor<1, Int>,
    /// `rating − offset` (rating units).
    pub targets: Tensor<1>,
    /// Padded user feature indices.
    pub user_features: Option<Tensor<2, Int>>,
    /// Padded item feature indices.
    pub item_features: Option<Tensor<2, Int>>,
}

/// Batches [`Rating`]s for MSE training; `offset` (usually the global mean μ) is subtracted
/// from every rating.
#[derive(Clone, Debug, Default)]
pub struct ExplicitBatcher {
    /// Subtracted from every rating.
    pub offset: f32,
    /// Side features to attach.
    pub features: Features,
}

impl Batcher<Rating, ExplicitBatch> for ExplicitBatcher {
    fn batch(&self, items: Vec<Rating>, device: &Device) -> ExplicitBatch {
        let u: Vec<u32> = items.iter().map(|r| r.user).collect();
        let i: Vec<u32> = items.iter().map(|r| r.item).collect();
        ExplicitBatch {
            user_features: feats(&self.features.users, &u, device),
            item_features: feats(&self.features.items, &i, device),
            users: index_tensor(&u, device),
            items: index_tensor(&i, device),
            targets: floats(items.iter().map(|r| r.rating - self.offset).collect(), device),
        }
    }
}

/// A batch of labelled implicit interactions.
///
/// # Shapes
/// `users`, `items`, `labels`: `[batch × (1 + n_neg)]` at most; features `[rows, width]`.
#[derive(Clone, Debug)]
pub struct PointwiseBatch {
    /// User indices.
    pub users: Tensor<1, Int>,
    /// Item indices.
    pub items: Tensor<1, Int>,
    /// 1 for positives, 0 for sampled negatives.
    pub labels: Tensor<1>,
    /// Padded user feature indices.
    pub user_features: Option<Tensor<2, Int>>,
    /// Padded item feature indices.
    pub item_features: Option<Tensor<2, Int>>,
}

/// Shared negative-drawing state (also the sequence batcher's, `crate::sequence`).
#[derive(Debug)]
pub(crate) struct Draws {
    pub(crate) sampler: Arc<NegativeSampler>,
    seed: u64,
    pub(crate) rng: Mutex<ChaCha8Rng>,
}

impl Draws {
    pub(crate) fn new(sampler: Arc<NegativeSampler>, seed: u64) -> Self {
        Self { sampler, seed, rng: Mutex::new(Self::rng_for(seed, 0)) }
    }

    fn rng_for(seed: u64, epoch: u64) -> ChaCha8Rng {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(epoch);
        r
    }

    pub(crate) fn set_epoch(&self, epoch: u64) {
        *self.rng.lock().unwrap_or_else(|e| e.into_inner()) = Self::rng_for(self.seed, epoch);
    }
}

/// Pointwise implicit batches (NCF, He et al. 2017): every positive plus `n_neg` uniform
/// negatives, labels 1/0, for BCE training.
#[derive(Debug)]
pub struct PointwiseBatcher {
    draws: Draws,
    /// Negatives per positive.
    pub n_neg: usize,
    /// Side features to attach.
    pub features: Features,
}

impl PointwiseBatcher {
    /// Negatives come from `sampler` (built on the *training* positives), seeded by `seed`.
    pub fn new(sampler: Arc<NegativeSampler>, n_neg: usize, seed: u64) -> Self {
        Self { draws: Draws::new(sampler, seed), n_neg, features: Features::default() }
    }

    /// Reseeds the negative draws for `epoch` (call before each epoch).
    pub fn set_epoch(&self, epoch: u64) {
        self.draws.set_epoch(epoch);
    }

    /// The samples of a batch as ratings: each positive (label 1.0 in `rating`) followed by its
    /// sampled negatives (label 0.0) — the same draws, in the same order, as
    /// [`Batcher::batch`]. A user with no possible negative keeps only the positive.
    pub fn expand(&self, items: &[Rating]) -> Vec<Rating> {
        let mut rng = self.draws.rng.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(items.len() * (1 + self.n_neg));
        for r in items {
            out.push(Rating { rating: 1.0, timestamp: None, ..*r });
            for _ in 0..self.n_neg {
                if let Ok(neg) = self.draws.sampler.sample(r.user, &mut *rng) {
                    out.push(Rating { user: r.user, item: neg, rating: 0.0, timestamp: None });
                }
            }
        }
        out
    }
}

impl Batcher<Rating, PointwiseBatch> for PointwiseBatcher {
    fn batch(&self, items: Vec<Rating>, device: &Device) -> PointwiseBatch {
        let samples = self.expand(&items);
        let u: Vec<u32> = samples.iter().map(|r| r.user).collect();
        let i: Vec<u32> = samples.iter().map(|r| r.item).collect();
        let y: Vec<f32> = samples.iter().map(|r| r.rating).collect();
        PointwiseBatch {
            user_features: feats(&self.features.users, &u, device),
            item_features: feats(&self.features.items, &i, device),
            users: index_tensor(&u, device),
            items: index_tensor(&i, device),
            labels: floats(y, device),
        }
    }
}

/// A batch of (user, positive, negative) triples.
///
/// # Shapes
/// `users`, `positives`, `negatives`: `[batch]` (fewer if some users have no negative).
#[derive(Clone, Debug)]
pub struct PairwiseBatch {
    /// User indices.
    pub users: Tensor<1, Int>,
    /// Positive item indices.
    pub positives: Tensor<1, Int>,
    /// Sampled negative item indices.
    pub negatives: Tensor<1, Int>,
    /// Padded user feature indices.
    pub user_features: Option<Tensor<2, Int>>,
    /// Padded positive-item feature indices.
    pub positive_features: Option<Tensor<2, Int>>,
    /// Padded negative-item feature indices.
    pub negative_features: Option<Tensor<2, Int>>,
}

/// Pairwise batches for BPR (Rendle et al., UAI 2009): one uniform negative per positive.
#[derive(Debug)]
pub struct PairwiseBatcher {
    draws: Draws,
    /// Side features to attach.
    pub features: Features,
}

impl PairwiseBatcher {
    /// Negatives come from `sampler` (built on the *training* positives), seeded by `seed`.
    pub fn new(sampler: Arc<NegativeSampler>, seed: u64) -> Self {
        Self { draws: Draws::new(sampler, seed), features: Features::default() }
    }

    /// Reseeds the negative draws for `epoch` (call before each epoch).
    pub fn set_epoch(&self, epoch: u64) {
        self.draws.set_epoch(epoch);
    }

    /// The triples of a batch as ratings, two per triple: the positive `(u, i)` (1.0 in
    /// `rating`) then its sampled negative `(u, j)` (0.0) — the same draws, in the same order,
    /// as [`Batcher::batch`]. A user with no possible negative is left out. The output's length
    /// is even; sample `2k` and `2k + 1` form triple `k`.
    pub fn expand(&self, items: &[Rating]) -> Vec<Rating> {
        let mut rng = self.draws.rng.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(items.len() * 2);
        for r in items {
            if let Ok(neg) = self.draws.sampler.sample(r.user, &mut *rng) {
                out.push(Rating { rating: 1.0, timestamp: None, ..*r });
                out.push(Rating { user: r.user, item: neg, rating: 0.0, timestamp: None });
            }
        }
        out
    }
}

impl Batcher<Rating, PairwiseBatch> for PairwiseBatcher {
    fn batch(&self, items: Vec<Rating>, device: &Device) -> PairwiseBatch {
        let pairs = self.expand(&items);
        let u: Vec<u32> = pairs.iter().step_by(2).map(|r| r.user).collect();
        let p: Vec<u32> = pairs.iter().step_by(2).map(|r| r.item).collect();
        let n: Vec<u32> = pairs.iter().skip(1).step_by(2).map(|r| r.item).collect();
        PairwiseBatch {
            user_features: feats(&self.features.users, &u, device),
            positive_features: feats(&self.features.items, &p, device),
            negative_features: feats(&self.features.items, &n, device),
            users: index_tensor(&u, device),
            positives: index_tensor(&p, device),
            negatives: index_tensor(&n, device),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Interactions;
    use crate::features::FeatureBuilder;

    fn r(user: u32, item: u32, rating: f32) -> Rating {
        Rating { user, item, rating, timestamp: None }
    }

    fn ints_of(t: Tensor<1, Int>) -> Vec<i64> {
        t.into_data().try_to_vec_as::<i64>().unwrap()
    }

    #[test]
    fn explicit_batch_with_features() {
        let device = Device::flex();
        let mut fb = FeatureBuilder::new(3);
        fb.set(0, "genre", "A");
        fb.set(0, "genre", "B");
        fb.set(2, "genre", "B");
        let batcher = ExplicitBatcher { offset: 3.5, features: Features { users: None, items: Some(Arc::new(fb.build())) } };
        let b = batcher.batch(vec![r(1, 0, 4.0), r(0, 2, 2.5), r(1, 1, 5.0)], &device);
        assert_eq!(ints_of(b.users), vec![1, 0, 1]);
        assert_eq!(ints_of(b.items), vec![0, 2, 1]);
        assert_eq!(b.targets.into_data().try_to_vec::<f32>().unwrap(), vec![0.5, -1.0, 1.5]);
        // 2 features; pad index 2; widest row has 2 features.
        let f = b.item_features.unwrap();
        assert_eq!(f.dims(), [3, 2]);
        assert_eq!(f.into_data().try_to_vec_as::<i64>().unwrap(), vec![0, 1, 1, 2, 2, 2]);
        assert!(b.user_features.is_none());
    }

    #[test]
    fn pointwise_labels_and_fresh_reproducible_negatives() {
        let device = Device::flex();
        let train = Interactions::new(vec![r(0, 0, 1.0), r(0, 1, 1.0), r(1, 2, 1.0)], 2, 50).unwrap();
        let sampler = Arc::new(NegativeSampler::new(&train));
        let batcher = PointwiseBatcher::new(sampler.clone(), 4, 7);
        let run = |epoch| {
            batcher.set_epoch(epoch);
            let b = batcher.batch(train.iter().collect(), &device);
            (ints_of(b.users), ints_of(b.items), b.labels.into_data().try_to_vec::<f32>().unwrap())
        };
        let (u, i, y) = run(0);
        assert_eq!(y.len(), 15);
        assert_eq!(&y[..5], &[1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(&u[..5], &[0; 5]);
        for k in 0..15 {
            if y[k] == 0.0 {
                assert!(!sampler.is_positive(u[k] as u32, i[k] as u32), "negative {k} is a positive");
            }
        }
        assert_eq!(run(0).1, i, "same epoch, same negatives");
        assert_ne!(run(1).1, i, "a new epoch draws fresh negatives");
    }

    #[test]
    fn pairwise_drops_users_without_negatives() {
        let device = Device::flex();
        // User 0 has every item; user 1 has one of two.
        let train = Interactions::new(vec![r(0, 0, 1.0), r(0, 1, 1.0), r(1, 0, 1.0)], 2, 2).unwrap();
        let batcher = PairwiseBatcher::new(Arc::new(NegativeSampler::new(&train)), 1);
        let b = batcher.batch(train.iter().collect(), &device);
        assert_eq!(ints_of(b.users), vec![1]);
        assert_eq!(ints_of(b.positives), vec![0]);
        assert_eq!(ints_of(b.negatives), vec![1]);
        // expand: the same draws as (positive, negative) rating pairs.
        assert_eq!(batcher.expand(&train.iter().collect::<Vec<_>>()), vec![r(1, 0, 1.0), r(1, 1, 0.0)]);
    }

    #[test]
    fn pairwise_expand_gives_the_batch_draws_in_pairs() {
        let device = Device::flex();
        let train = Interactions::new(vec![r(0, 0, 1.0), r(0, 1, 1.0), r(1, 2, 1.0), r(2, 3, 1.0)], 3, 40).unwrap();
        let sampler = Arc::new(NegativeSampler::new(&train));
        let batcher = PairwiseBatcher::new(sampler.clone(), 3);
        batcher.set_epoch(2);
        let b = batcher.batch(train.iter().collect(), &device);
        batcher.set_epoch(2);
        let pairs = batcher.expand(&train.iter().collect::<Vec<_>>());
        assert_eq!(pairs.len(), 8);
        let col = |k: usize, f: fn(&Rating) -> u32| pairs.iter().skip(k).step_by(2).map(|r| i64::from(f(r))).collect::<Vec<_>>();
        assert_eq!(col(0, |r| r.user), ints_of(b.users));
        assert_eq!(col(1, |r| r.user), col(0, |r| r.user), "a pair shares its user");
        assert_eq!(col(0, |r| r.item), ints_of(b.positives));
        assert_eq!(col(1, |r| r.item), ints_of(b.negatives));
        for p in pairs.chunks(2) {
            assert_eq!((p[0].rating, p[1].rating), (1.0, 0.0));
            assert!(!sampler.is_positive(p[1].user, p[1].item));
        }
    }
}
