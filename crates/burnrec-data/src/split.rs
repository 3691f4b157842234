//! Seeded train/test splits.
//!
//! Every split is a function of the data order and the seed only (ChaCha8 generator), so the
//! same input and seed give the same split on every platform.

use std::path::Path;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::dataset::{Dataset, Interactions};
use crate::error::DataError;
use crate::ids::IdMap;
use crate::loader::{DelimitedFormat, LoadOptions, load_ratings};

/// Default fraction of ratings held out for testing.
pub const DEFAULT_TEST_RATIO: f64 = 0.2;
/// Default seed of every split.
pub const DEFAULT_SEED: u64 = 42;

/// A partition of one dataset's ratings into train, validation (possibly empty) and test
/// parts. All parts keep the dataset's index space and the ratings' original relative order.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Ratings to fit on.
    pub train: Interactions,
    /// Ratings for model selection (early stopping, tuning); empty unless asked for.
    pub valid: Interactions,
    /// Held-out ratings.
    pub test: Interactions,
}

/// Sizes of a split and the cold-start cases it creates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SplitReport {
    /// Training ratings.
    pub train: usize,
    /// Validation ratings.
    pub valid: usize,
    /// Test ratings.
    pub test: usize,
    /// Distinct users with test ratings but no training rating.
    pub test_users_unseen: usize,
    /// Distinct items with test ratings but no training rating.
    pub test_items_unseen: usize,
    /// Test ratings whose user or item has no training rating.
    pub test_ratings_cold: usize,
}

impl Split {
    fn from_assignment(data: &Interactions, part: &[u8]) -> Split {
        let pick = |p: u8| -> Vec<usize> { (0..data.len()).filter(|&k| part[k] == p).collect() };
        Split { train: data.select(&pick(0)), valid: data.select(&pick(1)), test: data.select(&pick(2)) }
    }

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

    /// The training and validation parts together: each user's known history before the test
    /// part (what the sequential models read, in time order).
    ///
    /// # Errors
    /// [`DataError::Spec`] if one part has timestamps and the other not (never for parts of
    /// one split).
    pub fn train_and_valid(&self) -> Result<Interactions, DataError> {
        if self.valid.is_empty() {
            return Ok(self.train.clone());
        }
        self.train.concat(&self.valid)
    }

    /// Sizes and cold-start counts (users or items that appear only in test).
    pub fn report(&self) -> SplitReport {
        let (cu, ci) = (self.train.user_counts(), self.train.item_counts());
        let mut seen_u = vec![false; cu.len()];
        let mut seen_i = vec![false; ci.len()];
        let mut cold = 0;
        for (&u, &i) in self.test.users().iter().zip(self.test.items()) {
            let (u, i) = (u as usize, i as usize);
            if cu[u] == 0 || ci[i] == 0 {
                cold += 1;
            }
            if cu[u] == 0 {
                seen_u[u] = true;
            }
            if ci[i] == 0 {
                seen_i[i] = true;
            }
        }
        SplitReport {
            train: self.train.len(),
            valid: self.valid.len(),
            test: self.test.len(),
            test_users_unseen: seen_u.iter().filter(|&&b| b).count(),
            test_items_unseen: seen_i.iter().filter(|&&b| b).count(),
            test_ratings_cold: cold,
        }
    }
}

fn check_ratio(name: &str, r: f64) -> Result<(), DataError> {
    if r > 0.0 && r < 1.0 { Ok(()) } else { Err(DataError::Split(format!("{name} {r} must be strictly between 0 and 1"))) }
}

/// Random split: `round(len × test_ratio)` ratings, drawn uniformly without replacement with a
/// seeded ChaCha8 generator, go to the test part; the rest to train.
///
/// Each rating line lands in exactly one part, and since loaders reject (or merge) duplicate
/// (user, item) pairs, no pair is in both parts.
///
/// # Errors
/// [`DataError::Split`] if `test_ratio` is not in `(0, 1)` or either part would be empty.
pub fn random_split(data: &Interactions, test_ratio: f64, seed: u64) -> Result<Split, DataError> {
    random_split_valid(data, 0.0, test_ratio, seed)
}

/// Random train/validation/test split: `round(len × test_ratio)` ratings to test, then
/// `round(len × valid_ratio)` to validation (`valid_ratio` may be 0), the rest to train.
///
/// # Errors
/// [`DataError::Split`] if a ratio is out of range or train or test would be empty.
pub fn random_split_valid(data: &Interactions, valid_ratio: f64, test_ratio: f64, seed: u64) -> Result<Split, DataError> {
    check_ratio("test ratio", test_ratio)?;
    if valid_ratio != 0.0 {
        check_ratio("validation ratio", valid_ratio)?;
    }
    let n = data.len();
    let n_test = (n as f64 * test_ratio).round() as usize;
    let n_valid = (n as f64 * valid_ratio).round() as usize;
    if n_test == 0 || n_test + n_valid >= n {
        return Err(DataError::Split(format!("ratios valid {valid_ratio} + test {test_ratio} on {n} ratings leave an empty train or test part")));
    }
    // Partial Fisher–Yates: the first `n_test + n_valid` slots end up a uniform sample.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut idx: Vec<usize> = (0..n).collect();
    for k in 0..n_test + n_valid {
        let j = rng.random_range(k..n);
        idx.swap(k, j);
    }
    let mut part = vec![0u8; n];
    for &k in &idx[..n_test] {
        part[k] = 2;
    }
    for &k in &idx[n_test..n_test + n_valid] {
        part[k] = 1;
    }
    Ok(Split::from_assignment(data, &part))
}

/// Positions of each user's ratings: `[n_users]` lists, in stored order.
fn by_user(data: &Interactions) -> Vec<Vec<usize>> {
    let mut rows = vec![Vec::new(); data.n_users()];
    for (k, &u) in data.users().iter().enumerate() {
        rows[u as usize].push(k);
    }
    rows
}

/// K-fold cross-validation: returns `k` splits whose test parts partition the ratings.
///
/// Without stratification every rating is dealt to a fold after a seeded shuffle (fold sizes
/// differ by at most one). With `stratify_by_user`, each user's ratings are shuffled and dealt
/// round-robin from a random starting fold, so every user with ≥ k ratings has ratings in every
/// fold (per-user fold sizes differ by at most one).
///
/// # Errors
/// [`DataError::Split`] if `k < 2` or `k > len()`.
pub fn kfold(data: &Interactions, k: usize, stratify_by_user: bool, seed: u64) -> Result<Vec<Split>, DataError> {
    if k < 2 || k > data.len() {
        return Err(DataError::Split(format!("k-fold needs 2 <= k <= {} ratings, got k = {k}", data.len())));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold = vec![0usize; data.len()];
    if stratify_by_user {
        for mut rows in by_user(data) {
            rows.shuffle(&mut rng);
            let start = rng.random_range(0..k);
            for (j, &r) in rows.iter().enumerate() {
                fold[r] = (start + j) % k;
            }
        }
    } else {
        let mut idx: Vec<usize> = (0..data.len()).collect();
        idx.shuffle(&mut rng);
        for (j, &r) in idx.iter().enumerate() {
            fold[r] = j % k;
        }
    }
    Ok((0..k)
        .map(|f| {
            let part: Vec<u8> = fold.iter().map(|&x| if x == f { 2 } else { 0 }).collect();
            Split::from_assignment(data, &part)
        })
        .collect())
}

/// Where a temporal split cuts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cutoff {
    /// Ratings with `timestamp >= t` (seconds) are test.
    Timestamp(i64),
    /// The latest `round(len × ratio)` ratings are test (ties in time broken by file order,
    /// so the size is exact).
    Ratio(f64),
}

fn timestamps<'a>(data: &'a Interactions, what: &str) -> Result<&'a [i64], DataError> {
    data.timestamps().ok_or_else(|| DataError::Split(format!("the {what} split needs timestamps, and this dataset has none (for csv: set --timestamp-col)")))
}

/// Global temporal split: everything before the cutoff trains, the rest tests — the
/// realistic "predict the future" protocol.
///
/// # Errors
/// [`DataError::Split`] if the data has no timestamps, the ratio is out of range, or a part
/// would be empty.
pub fn temporal_split(data: &Interactions, cutoff: Cutoff) -> Result<Split, DataError> {
    let ts = timestamps(data, "temporal")?;
    let mut part = vec![0u8; data.len()];
    match cutoff {
        Cutoff::Timestamp(t) => {
            for (p, &x) in part.iter_mut().zip(ts) {
                if x >= t {
                    *p = 2;
                }
            }
        }
        Cutoff::Ratio(r) => {
            check_ratio("test ratio", r)?;
            let n_test = (data.len() as f64 * r).round() as usize;
            let mut order: Vec<usize> = (0..data.len()).collect();
            order.sort_by_key(|&k| (ts[k], k));
            for &k in &order[data.len() - n_test..] {
                part[k] = 2;
            }
        }
    }
    let split = Split::from_assignment(data, &part);
    if split.train.is_empty() || split.test.is_empty() {
        return Err(DataError::Split(format!("temporal cutoff {cutoff:?} leaves an empty train or test part")));
    }
    Ok(split)
}

/// Per-user leave-one-out (the NCF protocol): for every user with at least 2 ratings, the
/// latest rating is the test rating; **ties in time go to the larger raw item id** (compared as
/// integers when both ids are integers, else as strings), as in the peers' scripts. Users with
/// a single rating keep it in train (see [`Split::report`]).
///
/// # Errors
/// [`DataError::Split`] if the data has no timestamps or no user has 2 ratings.
pub fn leave_one_out(data: &Interactions, items: &IdMap) -> Result<Split, DataError> {
    let ts = timestamps(data, "leave-one-out")?;
    // The one time order (shared with the sequential models' sequences).
    let key = |k: usize| crate::sequence::time_order_key(ts[k], items.raw(data.items()[k]).unwrap_or_default());
    let mut part = vec![0u8; data.len()];
    for rows in by_user(data) {
        if rows.len() >= 2 {
            let last = rows.iter().copied().max_by(|&a, &b| key(a).cmp(&key(b))).expect("non-empty");
            part[last] = 2;
        }
    }
    let split = Split::from_assignment(data, &part);
    if split.test.is_empty() {
        return Err(DataError::Split("leave-one-out needs at least one user with 2 ratings".into()));
    }
    Ok(split)
}

/// Per-user leave-one-out for data without timestamps: for every user with at least 2
/// ratings, one rating drawn uniformly (seeded) is the test rating — the "random order"
/// leave-one-out of RecBole (`order: RO`). Users with a single rating keep it in train.
///
/// # Errors
/// [`DataError::Split`] if no user has 2 ratings.
pub fn random_leave_one_out(data: &Interactions, seed: u64) -> Result<Split, DataError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut part = vec![0u8; data.len()];
    for rows in by_user(data) {
        if rows.len() >= 2 {
            part[rows[rng.random_range(0..rows.len())]] = 2;
        }
    }
    let split = Split::from_assignment(data, &part);
    if split.test.is_empty() {
        return Err(DataError::Split("leave-one-out needs at least one user with 2 ratings".into()));
    }
    Ok(split)
}

/// How [`leave_one_out_of`] chose each user's held-out interaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaveOneOutRule {
    /// The latest by timestamp, ties to the larger raw item id ([`leave_one_out`]).
    Latest,
    /// One drawn uniformly with the seed, because the data has no timestamps
    /// ([`random_leave_one_out`]).
    Random,
}

/// Leave-one-out of a dataset, the one rule `compare`, `train` and `evaluate` share: each
/// user's latest interaction (ties to the larger raw item id) when the data has timestamps,
/// else one interaction per user drawn with `seed`. Returns the split and the rule used.
///
/// # Errors
/// [`DataError::Split`] if no user has 2 interactions.
pub fn leave_one_out_of(data: &Dataset, seed: u64) -> Result<(Split, LeaveOneOutRule), DataError> {
    if data.interactions.timestamps().is_some() {
        Ok((leave_one_out(&data.interactions, &data.items)?, LeaveOneOutRule::Latest))
    } else {
        Ok((random_leave_one_out(&data.interactions, seed)?, LeaveOneOutRule::Random))
    }
}

/// `split` with a validation part made of each user's latest *training* interaction — a
/// leave-one-out of the training part by the rule of [`leave_one_out_of`] (latest by time,
/// ties to the larger raw id; one drawn with `seed + 1` when there are no timestamps). After
/// a leave-one-out split that is each user's second-latest interaction, the validation of the
/// sequential-recommendation literature (RecBole, SASRec); users with fewer than 2 training
/// interactions keep them in train. The test part is never looked at.
///
/// # Errors
/// [`DataError::Split`] if no user has 2 training interactions.
pub fn carve_latest(split: Split, items: &IdMap, seed: u64) -> Result<Split, DataError> {
    let inner =
        if split.train.timestamps().is_some() { leave_one_out(&split.train, items)? } else { random_leave_one_out(&split.train, seed.wrapping_add(1))? };
    Ok(Split { train: inner.train, valid: inner.test, test: split.test })
}

/// `split` with a validation part of `ratio` carved from its training part by a random split
/// seeded with `seed + 1` (so the test part is never looked at); models train on the rest.
/// The convention of `compare --valid-ratio` and `train --valid-ratio`.
///
/// # Errors
/// [`DataError::Split`] if `ratio` is not in (0, 1) or the training part cannot be split.
pub fn carve_validation(split: Split, ratio: f64, seed: u64) -> Result<Split, DataError> {
    let inner = random_split(&split.train, ratio, seed.wrapping_add(1))?;
    Ok(Split { train: inner.train, valid: inner.test, test: split.test })
}

/// Per-user ratio holdout: each user's ratings are shuffled (seeded) and
/// `round(n_u × test_ratio)` of them go to test, so every user is represented in train and
/// test in the same proportion (users with one rating stay in train).
///
/// # Errors
/// [`DataError::Split`] if the ratio is out of range or the test part would be empty.
pub fn per_user_holdout(data: &Interactions, test_ratio: f64, seed: u64) -> Result<Split, DataError> {
    check_ratio("test ratio", test_ratio)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut part = vec![0u8; data.len()];
    for mut rows in by_user(data) {
        rows.shuffle(&mut rng);
        let n_test = ((rows.len() as f64 * test_ratio).round() as usize).min(rows.len().saturating_sub(1));
        for &k in &rows[..n_test] {
            part[k] = 2;
        }
    }
    let split = Split::from_assignment(data, &part);
    if split.test.is_empty() {
        return Err(DataError::Split(format!("a per-user test ratio of {test_ratio} leaves the test part empty")));
    }
    Ok(split)
}

/// Item cold-start split (the new-item protocol of Schein, Popescul, Ungar & Pennock, "Methods
/// and Metrics for Cold-Start Recommendations", SIGIR 2002): `round(n_items × item_ratio)` of the
/// items that have interactions, drawn uniformly with a seeded ChaCha8 generator, become *cold*: every interaction with them
/// goes to test, all others to train, so no test item has a training interaction. Returns the
/// split and the sorted cold items (the candidates of a cold-start ranking).
///
/// # Errors
/// [`DataError::Split`] if the ratio is out of range or either part would be empty.
pub fn cold_item_split(data: &Interactions, item_ratio: f64, seed: u64) -> Result<(Split, Vec<u32>), DataError> {
    check_ratio("cold item ratio", item_ratio)?;
    let counts = data.item_counts();
    let mut items: Vec<u32> = (0..data.n_items() as u32).filter(|&i| counts[i as usize] > 0).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    items.shuffle(&mut rng);
    let n_cold = (items.len() as f64 * item_ratio).round() as usize;
    let mut cold: Vec<u32> = items[..n_cold].to_vec();
    cold.sort_unstable();
    let mut is_cold = vec![false; data.n_items()];
    cold.iter().for_each(|&i| is_cold[i as usize] = true);
    let part: Vec<u8> = data.items().iter().map(|&i| if is_cold[i as usize] { 2 } else { 0 }).collect();
    let split = Split::from_assignment(data, &part);
    if split.test.is_empty() || split.train.is_empty() {
        return Err(DataError::Split(format!("a cold item ratio of {item_ratio} leaves a part empty")));
    }
    Ok((split, cold))
}

/// The official ML-100K splits: `u1` … `u5` (5-fold, 80 000 / 20 000) and `ua`, `ub`
/// (10 test ratings per user). Reads `u.data` from `dir` as the dataset (its index space), and
/// `<name>.base` / `<name>.test` as given. `dir` may also be the ratings file itself (as in a
/// `ml-100k:PATH` spec): the split files are then read beside it.
///
/// # Errors
/// [`DataError::Spec`] for an unknown name, [`DataError::Io`] / [`DataError::Parse`] for
/// unreadable files, and [`DataError::Split`] if a line of the split files is not in `u.data`.
pub fn ml100k_official(dir: &Path, name: &str, opts: &LoadOptions) -> Result<(Dataset, Split), DataError> {
    if !["u1", "u2", "u3", "u4", "u5", "ua", "ub"].contains(&name) {
        return Err(DataError::Spec(format!("unknown ML-100K split `{name}`: expected u1..u5, ua or ub")));
    }
    let data = crate::spec::DatasetSpec::Ml100k(dir.to_path_buf()).load(opts)?;
    // The split files lie beside the ratings file, whether `dir` names it or its folder.
    let ratings = crate::spec::resolve(dir, "u.data")?;
    let mut pos = std::collections::HashMap::with_capacity(data.len());
    for (k, (&u, &i)) in data.interactions.users().iter().zip(data.interactions.items()).enumerate() {
        pos.insert((u, i), k);
    }
    let mut part = vec![u8::MAX; data.len()];
    for (suffix, p) in [("base", 0u8), ("test", 2u8)] {
        let file = ratings.with_file_name(format!("{name}.{suffix}"));
        let raw = load_ratings(&file, &DelimitedFormat::ml100k(), &LoadOptions::default())?;
        for r in raw.interactions.iter() {
            let (ru, ri) = (raw.users.raw(r.user).unwrap_or_default(), raw.items.raw(r.item).unwrap_or_default());
            let k = data
                .users
                .index(ru)
                .zip(data.items.index(ri))
                .and_then(|key| pos.get(&key))
                .ok_or_else(|| DataError::Split(format!("{}: user {ru}, item {ri} is not in u.data", file.display())))?;
            part[*k] = p;
        }
    }
    // Ratings in neither file (none for the official splits) are left out of both parts.
    let keep = |p: u8| -> Vec<usize> { (0..part.len()).filter(|&k| part[k] == p).collect() };
    let split = Split { train: data.interactions.select(&keep(0)), valid: data.interactions.select(&[]), test: data.interactions.select(&keep(2)) };
    Ok((data, split))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leave_one_out_of_follows_the_timestamps_and_carving_keeps_the_test_part() {
        let r = |user, item, t| Rating { user, item, rating: 1.0, timestamp: t };
        // User 0: items 0 (t 5), 1 (t 9), 2 (t 9): the tie at t 9 goes to the larger id, 2.
        let v = vec![r(0, 0, Some(5)), r(0, 1, Some(9)), r(0, 2, Some(9)), r(1, 0, Some(1)), r(1, 1, Some(2))];
        let inter = Interactions::new(v, 2, 3).unwrap();
        let data = Dataset {
            name: "t".into(),
            interactions: inter,
            users: IdMap::from_raw(["a", "b"]),
            items: IdMap::from_raw(["10", "11", "12"]),
            item_titles: Vec::new(),
            scale: (1.0, 1.0),
            item_features: None,
            user_features: None,
        };
        let (split, rule) = leave_one_out_of(&data, 0).unwrap();
        assert_eq!(rule, LeaveOneOutRule::Latest);
        let held: Vec<(u32, u32)> = split.test.iter().map(|r| (r.user, r.item)).collect();
        assert_eq!(held, vec![(0, 2), (1, 1)]);
        // Without timestamps: one per user, drawn with the seed (the same split twice).
        let plain = Interactions::new(data.interactions.iter().map(|x| Rating { timestamp: None, ..x }).collect(), 2, 3).unwrap();
        let data = Dataset { interactions: plain, ..data };
        let (a, rule) = leave_one_out_of(&data, 3).unwrap();
        assert_eq!((rule, a.test.len()), (LeaveOneOutRule::Random, 2));
        assert_eq!(leave_one_out_of(&data, 3).unwrap().0, a);
        // Carving: the test part is untouched, train = train' + valid, seeded by seed + 1.
        let s = random_split(&data.interactions, 0.2, 1).unwrap();
        let c = carve_validation(s.clone(), 0.25, 1).unwrap();
        assert_eq!(c.test, s.test);
        assert_eq!(c.train.len() + c.valid.len(), s.train.len());
        let inner = random_split(&s.train, 0.25, 2).unwrap();
        assert_eq!((c.train, c.valid), (inner.train, inner.test));
    }

    #[test]
    fn cold_items_have_no_training_interaction() {
        let r = |user, item| Rating { user, item, rating: 1.0, timestamp: None };
        let v: Vec<Rating> = (0..10u32).flat_map(|u| (0..10u32).filter(move |i| (u + i) % 3 != 0).map(move |i| r(u, i))).collect();
        let data = Interactions::new(v, 10, 10).unwrap();
        let (split, cold) = cold_item_split(&data, 0.3, 7).unwrap();
        assert_eq!(cold.len(), 3);
        assert!(cold.windows(2).all(|w| w[0] < w[1]));
        assert!(split.train.items().iter().all(|i| !cold.contains(i)));
        assert!(split.test.items().iter().all(|i| cold.contains(i)));
        // Every interaction with a cold item is in test: 3 items × the users who have them.
        let expected = data.items().iter().filter(|i| cold.contains(i)).count();
        assert_eq!((split.test.len(), split.train.len()), (expected, data.len() - expected));
        assert_eq!(cold_item_split(&data, 0.3, 7).unwrap().1, cold);
        assert!(cold_item_split(&data, 1.0, 7).is_err());
    }
    use crate::dataset::Rating;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn grid(nu: u32, ni: u32) -> Interactions {
        let r = (0..nu).flat_map(|u| (0..ni).map(move |i| Rating { user: u, item: i, rating: ((u + i) % 5 + 1) as f32, timestamp: None })).collect();
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

    fn timed(rows: &[(u32, u32, i64)], nu: usize, ni: usize) -> Interactions {
        let r = rows.iter().map(|&(user, item, t)| Rating { user, item, rating: 3.0, timestamp: Some(t) }).collect();
        Interactions::new(r, nu, ni).unwrap()
    }

    fn cells(d: &Interactions) -> Vec<(u32, u32)> {
        let mut c: Vec<(u32, u32)> = d.users().iter().copied().zip(d.items().iter().copied()).collect();
        c.sort_unstable();
        c
    }

    #[test]
    fn three_way_sizes() {
        let s = random_split_valid(&grid(30, 40), 0.1, 0.2, 1).unwrap();
        assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (840, 120, 240));
        let mut all = cells(&s.train);
        all.extend(cells(&s.valid));
        all.extend(cells(&s.test));
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 1200);
        assert!(random_split_valid(&grid(2, 2), 0.5, 0.5, 1).is_err());
    }

    #[test]
    fn kfold_tests_partition_the_data() {
        let d = grid(10, 13); // 130 ratings
        for strat in [false, true] {
            let folds = kfold(&d, 5, strat, 3).unwrap();
            let mut tests: Vec<(u32, u32)> = folds.iter().flat_map(|f| cells(&f.test)).collect();
            tests.sort_unstable();
            assert_eq!(tests, cells(&d), "stratified = {strat}");
            for f in &folds {
                assert_eq!(f.train.len() + f.test.len(), 130);
                if strat {
                    // 13 ratings per user over 5 folds: 2 or 3 each.
                    for (u, &c) in f.test.user_counts().iter().enumerate() {
                        assert!((2..=3).contains(&c), "user {u} has {c} test ratings");
                    }
                } else {
                    assert_eq!(f.test.len(), 26);
                }
            }
        }
        assert!(kfold(&d, 1, false, 0).is_err());
    }

    #[test]
    fn carving_the_latest_training_interaction_validates_on_the_second_latest() {
        let r = |user, item, t| Rating { user, item, rating: 1.0, timestamp: Some(t) };
        // User 0: items 0 (t 1), 1 (t 2), 2 (t 3); user 1: 0 (t 5), 3 (t 4); user 2: 1 only.
        let data = Interactions::new(vec![r(0, 0, 1), r(0, 1, 2), r(0, 2, 3), r(1, 0, 5), r(1, 3, 4), r(2, 1, 9)], 3, 4).unwrap();
        let items = IdMap::from_raw((0..4).map(|k| k.to_string()));
        let split = carve_latest(leave_one_out(&data, &items).unwrap(), &items, 0).unwrap();
        let pairs = |p: &Interactions| p.iter().map(|x| (x.user, x.item)).collect::<Vec<_>>();
        assert_eq!(pairs(&split.test), vec![(0, 2), (1, 0)]);
        // Only user 0 has 2 training interactions left: its second-latest (item 1) validates.
        assert_eq!(pairs(&split.valid), vec![(0, 1)]);
        assert_eq!(pairs(&split.train), vec![(0, 0), (1, 3), (2, 1)]);
        assert_eq!(pairs(&split.train_and_valid().unwrap()), vec![(0, 0), (1, 3), (2, 1), (0, 1)]);
    }

    #[test]
    fn temporal_by_timestamp_and_ratio() {
        let d = timed(&[(0, 0, 10), (0, 1, 30), (1, 0, 20), (1, 1, 30), (1, 2, 5)], 2, 3);
        let s = temporal_split(&d, Cutoff::Timestamp(30)).unwrap();
        assert_eq!(cells(&s.test), vec![(0, 1), (1, 1)]);
        let s = temporal_split(&d, Cutoff::Ratio(0.4)).unwrap();
        assert_eq!(cells(&s.test), vec![(0, 1), (1, 1)]);
        // 0.2 of 5 = 1 rating: of the two at t = 30, the later line (1, 1) goes to test.
        let s = temporal_split(&d, Cutoff::Ratio(0.2)).unwrap();
        assert_eq!(cells(&s.test), vec![(1, 1)]);
        assert!(temporal_split(&d, Cutoff::Timestamp(100)).is_err());
        let untimed = grid(2, 2);
        let e = temporal_split(&untimed, Cutoff::Ratio(0.5)).unwrap_err();
        assert_eq!(e.to_string(), "invalid split: the temporal split needs timestamps, and this dataset has none (for csv: set --timestamp-col)");
    }

    #[test]
    fn leave_one_out_latest_with_tie_to_larger_item_id() {
        // Raw item ids "9", "10", "2": user 0's two latest tie at t = 50 → larger id "10" wins
        // (numerically, though "9" > "10" as strings). User 2 has one rating: stays in train.
        let items = IdMap::from_raw(["9", "10", "2"]);
        let d = timed(&[(0, 0, 50), (0, 1, 50), (0, 2, 1), (1, 2, 7), (1, 0, 3), (2, 1, 4)], 3, 3);
        let s = leave_one_out(&d, &items).unwrap();
        assert_eq!(cells(&s.test), vec![(0, 1), (1, 2)]);
        assert_eq!(s.train.len(), 4);
        let r = s.report();
        assert_eq!((r.test_users_unseen, r.test_items_unseen), (0, 0));
        assert!(leave_one_out(&grid(2, 2), &items).is_err());
    }

    #[test]
    fn random_leave_one_out_holds_out_one_rating_per_user() {
        // 30 users × 40 items, no timestamps: one test rating per user, seeded.
        let d = grid(30, 40);
        let s = random_leave_one_out(&d, 3).unwrap();
        assert_eq!((s.test.len(), s.train.len()), (30, 30 * 39));
        assert_eq!(s.test.user_counts(), vec![1; 30]);
        let mut all = cells(&s.train);
        all.extend(cells(&s.test));
        all.sort_unstable();
        assert_eq!(all, cells(&d));
        assert_eq!(cells(&random_leave_one_out(&d, 3).unwrap().test), cells(&s.test));
        assert_ne!(cells(&random_leave_one_out(&d, 4).unwrap().test), cells(&s.test));
        // Not every user's first or last item: the choice is random.
        let picked: std::collections::HashSet<u32> = s.test.items().iter().copied().collect();
        assert!(picked.len() > 10, "{picked:?}");
        // A user with one rating keeps it in train; no such user at all is an error.
        assert!(random_leave_one_out(&grid(5, 1), 3).is_err());
    }

    #[test]
    fn per_user_holdout_keeps_every_user_in_train() {
        let d = grid(6, 10);
        let s = per_user_holdout(&d, 0.3, 5).unwrap();
        assert!(s.test.user_counts().iter().all(|&c| c == 3));
        assert!(s.train.user_counts().iter().all(|&c| c == 7));
    }

    #[test]
    fn report_counts_cold_users_and_items() {
        let d = timed(&[(0, 0, 1), (0, 1, 2), (1, 1, 3), (2, 2, 4)], 3, 3);
        let split = temporal_split(&d, Cutoff::Timestamp(3)).unwrap();
        // test: (1,1) user 1 cold, item 1 known; (2,2) user 2 and item 2 cold.
        let r = split.report();
        assert_eq!(r, SplitReport { train: 2, valid: 0, test: 2, test_users_unseen: 2, test_items_unseen: 1, test_ratings_cold: 2 });
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn every_split_is_a_partition_and_seeded(
            rows in prop::collection::btree_map((0u32..8, 0u32..9), 0i64..20, 2..60),
            ratio in 0.1f64..0.6,
            seed: u64,
        ) {
            let rows: Vec<(u32, u32, i64)> = rows.into_iter().map(|((u, i), t)| (u, i, t)).collect();
            let d = timed(&rows, 8, 9);
            let items = IdMap::from_raw((0..9).map(|i| i.to_string()));
            let mut splits = vec![];
            splits.extend(random_split(&d, ratio, seed).ok());
            splits.extend(per_user_holdout(&d, ratio, seed).ok());
            splits.extend(temporal_split(&d, Cutoff::Ratio(ratio)).ok());
            splits.extend(leave_one_out(&d, &items).ok());
            splits.extend(kfold(&d, 2, true, seed).unwrap_or_default());
            for s in &splits {
                let mut all = cells(&s.train);
                all.extend(cells(&s.valid));
                all.extend(cells(&s.test));
                all.sort_unstable();
                prop_assert_eq!(&all, &cells(&d)); // nothing lost, nothing duplicated
            }
            prop_assert_eq!(random_split(&d, ratio, seed).ok(), random_split(&d, ratio, seed).ok());
            prop_assert_eq!(per_user_holdout(&d, ratio, seed).ok(), per_user_holdout(&d, ratio, seed).ok());
            prop_assert_eq!(kfold(&d, 2, true, seed).ok(), kfold(&d, 2, true, seed).ok());
            if let Ok(s) = leave_one_out(&d, &items) {
                // Exactly one per user with >= 2 ratings, and it is that user's latest.
                let counts = d.user_counts();
                let tc = s.test.user_counts();
                for u in 0..8 {
                    prop_assert_eq!(tc[u], u32::from(counts[u] >= 2));
                }
                for r in s.test.iter() {
                    let latest = d.iter().filter(|x| x.user == r.user).filter_map(|x| x.timestamp).max();
                    prop_assert_eq!(r.timestamp, latest);
                }
            }
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
