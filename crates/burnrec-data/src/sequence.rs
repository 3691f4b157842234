//! Per-user interaction sequences, oldest first, for the sequential recommenders (SASRec,
//! GRU4Rec, BERT4Rec), and the Burn batcher that turns them into next-item training batches
//! ([`SequenceBatcher`], feature `burn`).
//!
//! **One order rule.** A user's interactions are ordered by timestamp, and interactions at the
//! same second by the raw item id — as integers when both ids are integers, else as strings —
//! ascending: exactly the rule of [`crate::split::leave_one_out`], so the item that split holds
//! out is the *last* item of the user's full sequence ([`time_order_key`] is the one
//! implementation both use). Data without timestamps has no order: building sequences from it
//! is an error, never a silent shuffle.
//!
//! **Items inside sequence tensors are 1-based**: position value `item + 1`, and 0 is padding.
//! Sequences are *left*-padded, so the latest item is always in the last column. Targets and
//! negatives stay 0-based item indices (rows of the output catalogue), with a 0/1 weight that
//! is 0 wherever there is no target.

use crate::dataset::Interactions;
use crate::error::DataError;
use crate::ids::IdMap;

/// The sort key of an interaction in time order: (timestamp, raw item id as an integer when
/// it is one, raw item id) — ties in time go to the larger raw id last. The key of
/// [`crate::split::leave_one_out`] and of [`UserSequences::from_interactions`].
pub fn time_order_key(timestamp: i64, raw_item: &str) -> (i64, Option<i128>, &str) {
    (timestamp, raw_item.parse::<i128>().ok(), raw_item)
}

/// Every user's item indices in time order, oldest first (`[n_users]` lists; a user without
/// interactions has an empty one). Item indices are those of the [`Interactions`] they came
/// from (`0..n_items`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserSequences {
    seqs: Vec<Vec<u32>>,
    n_items: usize,
}

impl UserSequences {
    /// The sequences of `data`, ordered by [`time_order_key`] (`items` gives the raw ids that
    /// break ties in time).
    ///
    /// # Errors
    /// [`DataError::Split`] if `data` has no timestamps (naming the flag that gives them).
    pub fn from_interactions(data: &Interactions, items: &IdMap) -> Result<Self, DataError> {
        let ts = data.timestamps().ok_or_else(|| {
            DataError::Split(
                "sequential models order each user's history by time, and this dataset has no timestamps \
                 (for csv: set --timestamp-col)"
                    .into(),
            )
        })?;
        let mut rows: Vec<Vec<usize>> = vec![Vec::new(); data.n_users()];
        for (k, &u) in data.users().iter().enumerate() {
            rows[u as usize].push(k);
        }
        let key = |k: usize| time_order_key(ts[k], items.raw(data.items()[k]).unwrap_or_default());
        let seqs = rows
            .into_iter()
            .map(|mut r| {
                r.sort_by(|&a, &b| key(a).cmp(&key(b)).then(a.cmp(&b)));
                r.into_iter().map(|k| data.items()[k]).collect()
            })
            .collect();
        Ok(Self { seqs, n_items: data.n_items() })
    }

    /// Sequences given in order (oldest first), over `n_items` items.
    ///
    /// # Errors
    /// [`DataError::Spec`] naming the user and position of an item index `>= n_items`.
    pub fn from_ordered(seqs: Vec<Vec<u32>>, n_items: usize) -> Result<Self, DataError> {
        let s = Self { seqs, n_items };
        s.check()?;
        Ok(s)
    }

    /// Checks that every item index is below `n_items` (for sequences read from a file).
    ///
    /// # Errors
    /// [`DataError::Spec`] naming the user and position of the first bad index.
    pub fn check(&self) -> Result<(), DataError> {
        for (u, s) in self.seqs.iter().enumerate() {
            if let Some(p) = s.iter().position(|&i| i as usize >= self.n_items) {
                return Err(DataError::Spec(format!("sequence of user index {u}, position {p}: item index {} is not below {}", s[p], self.n_items)));
            }
        }
        Ok(())
    }

    /// The user's items, oldest first (empty for an unknown user).
    pub fn of(&self, user: u32) -> &[u32] {
        self.seqs.get(user as usize).map_or(&[], Vec::as_slice)
    }

    /// The user's latest `max_len` items, oldest first.
    pub fn latest(&self, user: u32, max_len: usize) -> &[u32] {
        let s = self.of(user);
        &s[s.len().saturating_sub(max_len)..]
    }

    /// Number of users (sequences).
    pub fn n_users(&self) -> usize {
        self.seqs.len()
    }

    /// Number of items of the index space.
    pub fn n_items(&self) -> usize {
        self.n_items
    }

    /// The users with at least 2 items — those that have a next item to train on —
    /// ascending.
    pub fn trainable_users(&self) -> Vec<u32> {
        (0..self.seqs.len() as u32).filter(|&u| self.seqs[u as usize].len() >= 2).collect()
    }

    /// The sequences with only the (user, item) pairs that `part` contains, order kept: the
    /// training part of a full history (e.g. without the validation items). Users beyond
    /// `part`'s users keep nothing.
    pub fn restricted_to(&self, part: &Interactions) -> Self {
        let csr = crate::csr::Csr::by_user(part);
        let seqs = (0..self.seqs.len())
            .map(|u| if u < part.n_users() { self.seqs[u].iter().copied().filter(|&i| csr.contains(u, i)).collect() } else { Vec::new() })
            .collect();
        Self { seqs, n_items: self.n_items }
    }

    /// Every sequence cut to its latest `max_len` items (what a trained model keeps to score
    /// its users).
    pub fn truncated(&self, max_len: usize) -> Self {
        Self { seqs: (0..self.seqs.len() as u32).map(|u| self.latest(u, max_len).to_vec()).collect(), n_items: self.n_items }
    }
}

/// `seq` (0-based item indices, oldest first) as one row of a sequence tensor: its latest
/// `max_len` items as `item + 1`, left-padded with 0 to `max_len`.
pub fn padded_row(seq: &[u32], max_len: usize) -> Vec<i64> {
    let tail = &seq[seq.len().saturating_sub(max_len)..];
    let mut row = vec![0i64; max_len - tail.len()];
    row.extend(tail.iter().map(|&i| i64::from(i) + 1));
    row
}

#[cfg(feature = "burn")]
pub use batcher::{SequenceBatch, SequenceBatcher};

#[cfg(feature = "burn")]
mod batcher {
    use std::sync::Arc;

    use super::{UserSequences, padded_row};
    use crate::batch::Draws;
    use crate::sampling::NegativeSampler;
    use burn::data::dataloader::batcher::Batcher;
    use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

    /// A batch of next-item training sequences.
    ///
    /// # Shapes
    /// `b` users, `L = max_len`, `K` negatives per position.
    /// - `inputs`: `[b, L]` Int, the items before each target as `item + 1`, left-padded with 0;
    /// - `padding`: `[b, L]` Bool, `true` at padded positions;
    /// - `targets`: `[b, L]` Int, the 0-based next item at each position (0 where `weights` is 0);
    /// - `weights`: `[b, L]` Float, 1 where the position has a target, else 0;
    /// - `negatives`: `[b, L, K]` Int, 0-based items the user never interacted with in
    ///   training (0 where `weights` is 0); `None` when the batcher draws none (full softmax).
    #[derive(Clone, Debug)]
    pub struct SequenceBatch {
        /// The batch's users (indices), in row order.
        pub users: Vec<u32>,
        /// `[b, L]` inputs, 1-based, 0 = padding.
        pub inputs: Tensor<2, Int>,
        /// `[b, L]` padding mask (`true` = padding).
        pub padding: Tensor<2, Bool>,
        /// `[b, L]` next items, 0-based.
        pub targets: Tensor<2, Int>,
        /// `[b, L]` 1 where there is a target.
        pub weights: Tensor<2>,
        /// `[b, L, K]` sampled negatives, 0-based.
        pub negatives: Option<Tensor<3, Int>>,
        /// Positions with a target (the sum of `weights`).
        pub n_targets: usize,
    }

    /// Next-item batches (SASRec, Kang & McAuley, ICDM 2018; GRU4Rec, Hidasi et al., ICLR
    /// 2016): a user's latest `max_len + 1` items give the inputs (all but the last) and, one
    /// step ahead, the targets (all but the first); each target position gets `n_neg`
    /// negatives drawn uniformly, with replacement, among the training items the user never
    /// interacted with. Draws come from a ChaCha8 generator seeded with `(seed, epoch)`
    /// ([`SequenceBatcher::set_epoch`]): fresh every epoch, reproducible bit for bit when
    /// batches are built in order.
    #[derive(Debug)]
    pub struct SequenceBatcher {
        seqs: Arc<UserSequences>,
        draws: Draws,
        /// Positions per sequence (`L`).
        pub max_len: usize,
        /// Negatives per target position (0: none, for the full softmax).
        pub n_neg: usize,
    }

    impl SequenceBatcher {
        /// Batches of `seqs` (the training sequences), negatives from `sampler` (built on the
        /// same training interactions).
        pub fn new(seqs: Arc<UserSequences>, sampler: Arc<NegativeSampler>, max_len: usize, n_neg: usize, seed: u64) -> Self {
            Self { seqs, draws: Draws::new(sampler, seed), max_len, n_neg }
        }

        /// Reseeds the negative draws for `epoch` (call before each epoch).
        pub fn set_epoch(&self, epoch: u64) {
            self.draws.set_epoch(epoch);
        }
    }

    impl Batcher<u32, SequenceBatch> for SequenceBatcher {
        fn batch(&self, users: Vec<u32>, device: &Device) -> SequenceBatch {
            let (b, l, k) = (users.len(), self.max_len, self.n_neg);
            let mut rng = self.draws.rng.lock().unwrap_or_else(|e| e.into_inner());
            let mut inputs = Vec::with_capacity(b * l);
            let mut targets = vec![0i64; b * l];
            let mut weights = vec![0f32; b * l];
            let mut negatives = vec![0i64; b * l * k];
            for (row, &u) in users.iter().enumerate() {
                let s = self.seqs.latest(u, l + 1);
                let n = s.len().saturating_sub(1);
                inputs.extend(padded_row(&s[..n], l));
                for p in 0..n {
                    let at = row * l + (l - n) + p;
                    targets[at] = i64::from(s[p + 1]);
                    weights[at] = 1.0;
                    for j in 0..k {
                        // A user with no possible negative keeps the target's own item as a
                        // stand-in and weight 0, so the position drops out of the loss.
                        match self.draws.sampler.sample(u, &mut *rng) {
                            Ok(neg) => negatives[at * k + j] = i64::from(neg),
                            Err(_) => weights[at] = 0.0,
                        }
                    }
                }
            }
            let n_targets = weights.iter().filter(|&&w| w > 0.0).count();
            let inputs = Tensor::<2, Int>::from_data(TensorData::new(inputs, [b, l]), device);
            let padding = inputs.clone().equal_elem(0);
            SequenceBatch {
                users,
                padding,
                inputs,
                targets: Tensor::from_data(TensorData::new(targets, [b, l]), device),
                weights: Tensor::from_data(TensorData::new(weights, [b, l]), device),
                negatives: (k > 0).then(|| Tensor::from_data(TensorData::new(negatives, [b, l, k]), device)),
                n_targets,
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::dataset::{Interactions, Rating};

        #[test]
        fn batches_are_left_padded_shifted_and_draw_only_unseen_items() {
            // User 0: 2 → 0 → 3 (3 items); user 1: 1 → 4; user 2: 5 only (no target).
            let seqs = UserSequences::from_ordered(vec![vec![2, 0, 3], vec![1, 4], vec![5]], 6).unwrap();
            let train: Vec<Rating> =
                (0..3u32).flat_map(|u| seqs.of(u).to_vec().into_iter().map(move |i| Rating { user: u, item: i, rating: 1.0, timestamp: None })).collect();
            let train = Interactions::new(train, 3, 6).unwrap();
            let batcher = SequenceBatcher::new(Arc::new(seqs), Arc::new(NegativeSampler::among_positive_items(&train)), 3, 2, 9);
            let device = Device::flex();
            let b = batcher.batch(vec![0, 1, 2], &device);
            let ints = |t: Tensor<2, Int>| t.into_data().convert::<i64>().try_to_vec::<i64>().unwrap();
            // Inputs 1-based: user 0 → [0, 3, 1] (items 2, 0), user 1 → [0, 0, 2], user 2 → none.
            assert_eq!(ints(b.inputs.clone()), vec![0, 3, 1, 0, 0, 2, 0, 0, 0]);
            assert_eq!(ints(b.targets.clone()), vec![0, 0, 3, 0, 0, 4, 0, 0, 0]);
            assert_eq!(b.weights.clone().into_data().try_to_vec::<f32>().unwrap(), vec![0., 1., 1., 0., 0., 1., 0., 0., 0.]);
            assert_eq!(b.padding.clone().into_data().try_to_vec::<bool>().unwrap(), vec![true, false, false, true, true, false, true, true, true]);
            assert_eq!(b.n_targets, 3);
            let neg = b.negatives.clone().unwrap().into_data().convert::<i64>().try_to_vec::<i64>().unwrap();
            assert_eq!(neg.len(), 18);
            // Every drawn negative of user 0 is outside {0, 2, 3}; of user 1 outside {1, 4}.
            for (at, forbidden) in [(1usize, &[0i64, 2, 3][..]), (2, &[0, 2, 3]), (5, &[1, 4])] {
                for j in 0..2 {
                    assert!(!forbidden.contains(&neg[at * 2 + j]), "position {at}: {neg:?}");
                }
            }
            // Same epoch → same draws; another epoch → other draws (seeded streams).
            batcher.set_epoch(1);
            let a = batcher.batch(vec![0, 1], &device).negatives.unwrap().into_data().convert::<i64>().try_to_vec::<i64>().unwrap();
            batcher.set_epoch(1);
            let again = batcher.batch(vec![0, 1], &device).negatives.unwrap().into_data().convert::<i64>().try_to_vec::<i64>().unwrap();
            assert_eq!(a, again);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Rating;
    use crate::split::leave_one_out;

    #[test]
    fn time_order_with_ties_to_the_larger_raw_id_last() {
        // Raw ids "9", "10", "b", "a"; user 0: "10" at t 5, "9" at t 5, "b" at t 1 → b, 9, 10.
        let mut items = IdMap::default();
        for raw in ["9", "10", "b", "a"] {
            items.get_or_insert(raw);
        }
        let r = |user, item, t| Rating { user, item, rating: 1.0, timestamp: Some(t) };
        let data = Interactions::new(vec![r(0, 1, 5), r(0, 0, 5), r(0, 2, 1), r(1, 3, 2), r(1, 2, 2)], 3, 4).unwrap();
        let s = UserSequences::from_interactions(&data, &items).unwrap();
        assert_eq!(s.of(0), &[2, 0, 1]);
        // Non-integer ids tie as strings: "a" < "b".
        assert_eq!(s.of(1), &[3, 2]);
        assert_eq!(s.of(2), &[] as &[u32]);
        assert_eq!(s.trainable_users(), vec![0, 1]);
        assert_eq!(s.latest(0, 2), &[0, 1]);
        // The leave-one-out test item of each user is their sequence's last.
        let split = leave_one_out(&data, &items).unwrap();
        for t in split.test.iter() {
            assert_eq!(s.of(t.user).last(), Some(&t.item));
        }
        // Restricted to the training part of the split: the held-out items leave, order kept.
        let train_part = s.restricted_to(&split.train);
        assert_eq!((train_part.of(0), train_part.of(1)), (&[2u32, 0][..], &[3u32][..]));
        assert_eq!(padded_row(&[2, 0, 1], 5), vec![0, 0, 3, 1, 2]);
        assert_eq!(padded_row(&[2, 0, 1], 2), vec![1, 2]);
    }

    #[test]
    fn no_timestamps_or_bad_items_are_errors() {
        let data = Interactions::new(vec![Rating { user: 0, item: 0, rating: 1.0, timestamp: None }], 1, 1).unwrap();
        let e = UserSequences::from_interactions(&data, &IdMap::default()).unwrap_err().to_string();
        assert!(e.contains("no timestamps") && e.contains("--timestamp-col"), "{e}");
        let e = UserSequences::from_ordered(vec![vec![0, 3]], 3).unwrap_err().to_string();
        assert_eq!(e, "sequence of user index 0, position 1: item index 3 is not below 3");
    }
}
