//! Seeded train/test splits.
//!
//! Every split is a function of the data order and the seed only (ChaCha8 generator), so the
//! same input and seed give the same split on every platform.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::Interactions;
use crate::error::DataError;

/// Default fraction of ratings held out for testing.
pub const DEFAULT_TEST_RATIO: f64 = 0.2;
/// Default seed of every split.
pub const DEFAULT_SEED: u64 = 42;

/// A train/test partition of one dataset's ratings. Both parts keep the dataset's index space
/// and the ratings' original relative order.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Ratings to fit on.
    pub train: Interactions,
    /// Held-out ratings.
    pub test: Interactions,
}

impl Split {
    /// Number of test ratings whose user has no training rating.
    pub fn test_users_unseen_in_train(&self) -> usize {
        let counts = self.train.user_counts();
        self.test.users().iter().filter(|&&u| counts[u as usize] == 0).count()
    }

    /// Number of test ratings whose item has no training rating.
    pub fn test_items_unseen_in_train(&self) -> usize {
        let counts = self.train.item_counts();
        self.test.items().iter().filter(|&&i| counts[i as usize] == 0).count()
    }
}

/// Random split: `round(len × test_ratio)` ratings, drawn uniformly without replacement with a
/// seeded ChaCha8 generator, go to the test part; the rest to train.
///
/// Each rating line lands in exactly one part, and since loaders reject duplicate
/// (user, item) pairs, no pair is in both parts.
///
/// # Errors
/// [`DataError::Split`] if `test_ratio` is not in `(0, 1)` or either part would be empty.
pub fn random_split(data: &Interactions, test_ratio: f64, seed: u64) -> Result<Split, DataError> {
    if !(test_ratio > 0.0 && test_ratio < 1.0) {
        return Err(DataError::Split(format!("test ratio {test_ratio} must be strictly between 0 and 1")));
    }
    let n = data.len();
    let n_test = (n as f64 * test_ratio).round() as usize;
    if n_test == 0 || n_test == n {
        return Err(DataError::Split(format!(
            "a test ratio of {test_ratio} on {n} ratings leaves an empty train or test part"
        )));
    }
    // Partial Fisher–Yates: the first `n_test` slots end up a uniform sample.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut idx: Vec<usize> = (0..n).collect();
    for k in 0..n_test {
        let j = rng.random_range(k..n);
        idx.swap(k, j);
    }
    let mut in_test = vec![false; n];
    for &k in &idx[..n_test] {
        in_test[k] = true;
    }
    let (test, train): (Vec<usize>, Vec<usize>) = (0..n).partition(|&k| in_test[k]);
    Ok(Split { train: data.select(&train), test: data.select(&test) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Rating;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn grid(nu: u32, ni: u32) -> Interactions {
        let r = (0..nu)
            .flat_map(|u| (0..ni).map(move |i| Rating { user: u, item: i, rating: ((u + i) % 5 + 1) as f32, timestamp: None }))
            .collect();
        Interactions::new(r, nu as usize, ni as usize).unwrap()
    }

    #[test]
    fn proportions_and_disjointness() {
        let d = grid(30, 40); // 1200 ratings
        let s = random_split(&d, 0.2, 42).unwrap();
        assert_eq!((s.train.len(), s.test.len()), (960, 240));
        let train: HashSet<(u32, u32)> = s.train.iter().map(|r| (r.user, r.item)).collect();
        let test: HashSet<(u32, u32)> = s.test.iter().map(|r| (r.user, r.item)).collect();
        assert!(train.is_disjoint(&test));
        assert_eq!(train.len() + test.len(), 1200);
        assert_eq!((s.train.n_users(), s.test.n_items()), (30, 40));
    }

    #[test]
    fn seeded_and_seed_sensitive() {
        let d = grid(20, 20);
        assert_eq!(random_split(&d, 0.25, 7).unwrap(), random_split(&d, 0.25, 7).unwrap());
        assert_ne!(random_split(&d, 0.25, 7).unwrap(), random_split(&d, 0.25, 8).unwrap());
    }

    #[test]
    fn rounding_of_test_size() {
        let d = grid(1, 7);
        assert_eq!(random_split(&d, 0.2, 1).unwrap().test.len(), 1); // 1.4 → 1
        assert_eq!(random_split(&d, 0.5, 1).unwrap().test.len(), 4); // 3.5 → 4
    }

    #[test]
    fn bad_ratios_are_errors() {
        let d = grid(2, 2);
        for r in [0.0, 1.0, -0.1, f64::NAN, 0.01] {
            assert!(matches!(random_split(&d, r, 1), Err(DataError::Split(_))), "ratio {r}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn split_is_a_partition(nu in 1u32..12, ni in 2u32..12, ratio in 0.05f64..0.95, seed: u64) {
            let d = grid(nu, ni);
            if let Ok(s) = random_split(&d, ratio, seed) {
                prop_assert_eq!(s.train.len() + s.test.len(), d.len());
                prop_assert_eq!(s.test.len(), (d.len() as f64 * ratio).round() as usize);
                let mut all: Vec<_> = s.train.iter().chain(s.test.iter()).map(|r| (r.user, r.item)).collect();
                all.sort();
                all.dedup();
                prop_assert_eq!(all.len(), d.len());
            }
        }
    }
}
