//! Uniform negative sampling: items a user has *not* interacted with.
//!
//! Training draws negatives with replacement ([`NegativeSampler::sample`]); evaluation draws
//! *distinct* negatives ([`NegativeSampler::sample_distinct`]). A negative is never one of the
//! user's positives. A user who has interacted with every item has no negative: sampling
//! returns an error (or, for evaluation with [`Shortfall::Cap`], fewer items with a flag) —
//! never an endless loop.

use rand::Rng;
use rand::seq::index::sample as sample_indices;

use crate::csr::Csr;
use crate::dataset::Interactions;
use crate::error::DataError;

/// What [`NegativeSampler::sample_distinct`] does when a user has fewer than `n` candidates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Shortfall {
    /// Return an error naming the user (the default).
    #[default]
    Error,
    /// Return all candidates, with [`Negatives::capped`] set.
    Cap,
}

/// Distinct negatives for one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negatives {
    /// Item indices, distinct, none a positive of the user (in sampling order).
    pub items: Vec<u32>,
    /// Fewer than requested were available.
    pub capped: bool,
}

/// Samples items outside each user's positives, uniformly over `0..n_items` ([`Self::new`])
/// or over the items that have positives ([`Self::among_positive_items`]).
#[derive(Clone, Debug)]
pub struct NegativeSampler {
    positives: Csr,
    n_items: usize,
    /// The items negatives are drawn from, ascending (`None`: every item). Every positive is
    /// one of them.
    candidates: Option<Vec<u32>>,
}

impl NegativeSampler {
    /// Uses every (user, item) in `positives` as a positive (values ignored); negatives are
    /// drawn over all `n_items` items (evaluation's sampled protocol).
    pub fn new(positives: &Interactions) -> Self {
        Self { positives: Csr::by_user(positives), n_items: positives.n_items(), candidates: None }
    }

    /// As [`Self::new`], but negatives are drawn only among the items that occur in
    /// `positives` — the catalogue a model knows when it trains. Items without a training
    /// interaction (in a cold-items split: exactly the test items) are never drawn: a
    /// negative on one of them would teach a model with item features or text to rank those
    /// very items last.
    pub fn among_positive_items(positives: &Interactions) -> Self {
        let positives_csr = Csr::by_user(positives);
        let mut seen = vec![false; positives.n_items()];
        for r in positives.iter() {
            seen[r.item as usize] = true;
        }
        let candidates = (0..positives.n_items() as u32).filter(|&i| seen[i as usize]).collect();
        Self { positives: positives_csr, n_items: positives.n_items(), candidates: Some(candidates) }
    }

    /// Whether `item` is a positive of `user`.
    pub fn is_positive(&self, user: u32, item: u32) -> bool {
        self.positives.contains(user as usize, item)
    }

    fn n_candidates(&self, user: u32) -> usize {
        self.candidates.as_ref().map_or(self.n_items, Vec::len) - self.positives.row(user as usize).len()
    }

    /// The `k`-th non-positive candidate of `user` in index order (`k < n_candidates`).
    fn kth_candidate(&self, user: u32, k: usize) -> u32 {
        // Positives are sorted: skip past each positive (its position among the candidates)
        // <= the running answer.
        let row = self.positives.row(user as usize);
        let mut ans = k;
        match &self.candidates {
            None => {
                for &p in row {
                    if p as usize <= ans {
                        ans += 1;
                    } else {
                        break;
                    }
                }
                ans as u32
            }
            Some(c) => {
                for &p in row {
                    let at = c.binary_search(&p).expect("every positive is a candidate");
                    if at <= ans {
                        ans += 1;
                    } else {
                        break;
                    }
                }
                c[ans]
            }
        }
    }

    /// One uniform negative for `user`.
    ///
    /// # Errors
    /// [`DataError::Split`] if the user has interacted with every item.
    pub fn sample(&self, user: u32, rng: &mut impl Rng) -> Result<u32, DataError> {
        let n = self.n_candidates(user);
        if n == 0 {
            let what = match &self.candidates {
                None => format!("all {} items", self.n_items),
                Some(c) => format!("all {} items that have training interactions", c.len()),
            };
            return Err(DataError::Split(format!("user index {user} has interacted with {what}: no negative to sample")));
        }
        // Rejection sampling is fast when positives are sparse; fall back to an exact draw.
        for _ in 0..32 {
            let i = match &self.candidates {
                None => rng.random_range(0..self.n_items as u32),
                Some(c) => c[rng.random_range(0..c.len())],
            };
            if !self.is_positive(user, i) {
                return Ok(i);
            }
        }
        Ok(self.kth_candidate(user, rng.random_range(0..n)))
    }

    /// `n` distinct negatives for `user` (for sampled-ranking evaluation).
    ///
    /// # Errors
    /// [`DataError::Split`] if fewer than `n` exist and `shortfall` is [`Shortfall::Error`].
    pub fn sample_distinct(&self, user: u32, n: usize, shortfall: Shortfall, rng: &mut impl Rng) -> Result<Negatives, DataError> {
        let available = self.n_candidates(user);
        if available < n && shortfall == Shortfall::Error {
            return Err(DataError::Split(format!("user index {user} has only {available} items outside its positives, {n} distinct negatives were asked for")));
        }
        let take = n.min(available);
        let items = sample_indices(rng, available, take).into_iter().map(|k| self.kth_candidate(user, k)).collect();
        Ok(Negatives { items, capped: take < n })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Rating;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn data(cells: &[(u32, u32)], nu: usize, ni: usize) -> Interactions {
        Interactions::new(cells.iter().map(|&(user, item)| Rating { user, item, rating: 1.0, timestamp: None }).collect(), nu, ni).unwrap()
    }

    #[test]
    fn among_positive_items_never_draws_an_untrained_item() {
        // Items 1, 4, 6 have no positive (as cold items); user 0 has 0 and 2, user 1 has 3, 5.
        let s = NegativeSampler::among_positive_items(&data(&[(0, 0), (0, 2), (1, 3), (1, 5)], 2, 7));
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut drawn = [0usize; 7];
        for _ in 0..2000 {
            drawn[s.sample(0, &mut rng).unwrap() as usize] += 1;
        }
        // User 0's only candidates are 3 and 5, each about half the time.
        assert_eq!((drawn[0], drawn[1], drawn[2], drawn[4], drawn[6]), (0, 0, 0, 0, 0));
        assert!(drawn[3] > 900 && drawn[5] > 900, "{drawn:?}");
        // The exact draw walks the candidates: user 1's k-th non-positive is 0, then 2.
        assert_eq!((s.kth_candidate(1, 0), s.kth_candidate(1, 1)), (0, 2));
        let d = s.sample_distinct(1, 5, Shortfall::Cap, &mut rng).unwrap();
        let mut items = d.items.clone();
        items.sort_unstable();
        assert_eq!((items, d.capped), (vec![0, 2], true));
        // Without the restriction every non-positive item can be drawn.
        assert_eq!(NegativeSampler::new(&data(&[(0, 0), (0, 2), (1, 3), (1, 5)], 2, 7)).n_candidates(0), 5);
    }

    #[test]
    fn kth_candidate_skips_positives() {
        let s = NegativeSampler::new(&data(&[(0, 0), (0, 2), (0, 3)], 1, 6));
        let c: Vec<u32> = (0..3).map(|k| s.kth_candidate(0, k)).collect();
        assert_eq!(c, vec![1, 4, 5]);
    }

    #[test]
    fn saturated_user_is_an_error_not_a_loop() {
        let s = NegativeSampler::new(&data(&[(0, 0), (0, 1), (1, 0)], 2, 2));
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let e = s.sample(0, &mut rng).unwrap_err();
        assert_eq!(e.to_string(), "invalid split: user index 0 has interacted with all 2 items: no negative to sample");
        assert_eq!(s.sample(1, &mut rng).unwrap(), 1);
        let e = s.sample_distinct(1, 2, Shortfall::Error, &mut rng).unwrap_err();
        assert!(e.to_string().contains("only 1 items outside its positives"), "{e}");
        let capped = s.sample_distinct(1, 2, Shortfall::Cap, &mut rng).unwrap();
        assert_eq!(capped, Negatives { items: vec![1], capped: true });
    }

    #[test]
    fn sampling_is_uniform_over_candidates() {
        // Candidates {1, 3, 4}: each should get about a third of 30 000 draws.
        let s = NegativeSampler::new(&data(&[(0, 0), (0, 2)], 1, 5));
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut hits = [0u32; 5];
        for _ in 0..30_000 {
            hits[s.sample(0, &mut rng).unwrap() as usize] += 1;
        }
        assert_eq!((hits[0], hits[2]), (0, 0));
        for i in [1, 3, 4] {
            assert!((9_500..10_500).contains(&hits[i]), "{hits:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn negatives_are_never_positives(
            cells in prop::collection::btree_set((0u32..4, 0u32..12), 1..30),
            n in 1usize..12,
            seed: u64,
        ) {
            let cells: Vec<(u32, u32)> = cells.into_iter().collect();
            let s = NegativeSampler::new(&data(&cells, 4, 12));
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for u in 0..4u32 {
                let pos: Vec<u32> = cells.iter().filter(|c| c.0 == u).map(|c| c.1).collect();
                if let Ok(i) = s.sample(u, &mut rng) {
                    prop_assert!(!pos.contains(&i));
                }
                let neg = s.sample_distinct(u, n, Shortfall::Cap, &mut rng).unwrap();
                let mut sorted = neg.items.clone();
                sorted.sort_unstable();
                sorted.dedup();
                prop_assert_eq!(sorted.len(), neg.items.len());
                prop_assert!(neg.items.iter().all(|i| !pos.contains(i) && *i < 12));
                prop_assert_eq!(neg.items.len(), n.min(12 - pos.len()));
            }
        }
    }
}
