//! The dataset type every loader returns, and the interaction lists models are fitted on.

use serde::{Deserialize, Serialize};

use crate::error::DataError;
use crate::ids::IdMap;

/// One explicit-feedback event: `user` gave `item` the score `rating`.
///
/// `user` and `item` are *indices* into the owning dataset's [`IdMap`]s; `rating` is in the
/// dataset's own units (e.g. 1–5 stars, or 0.5–5.0 in half-star steps for MovieLens latest);
/// `timestamp` is in seconds since the Unix epoch when the format has one.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    /// User index, `< n_users`.
    pub user: u32,
    /// Item index, `< n_items`.
    pub item: u32,
    /// The rating value, in the dataset's units.
    pub rating: f32,
    /// Seconds since the Unix epoch, if the source has timestamps.
    pub timestamp: Option<i64>,
}

/// A list of ratings over a fixed user × item index space, stored as struct-of-arrays
/// (`users`, `items`, `values`: `[len]` each; `timestamps`: `[len]` or absent).
///
/// Train and test parts of a split share the index space of the dataset they come from:
/// `n_users` and `n_items` are the *dataset's* counts, so a user who has ratings only in the
/// test part still has an index (and models treat it as unknown).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interactions {
    users: Vec<u32>,
    items: Vec<u32>,
    values: Vec<f32>,
    timestamps: Option<Vec<i64>>,
    n_users: usize,
    n_items: usize,
}

impl Interactions {
    /// Builds the columns from a list of [`Rating`]s in an index space of
    /// `n_users` × `n_items`. Timestamps are kept if every rating has one.
    ///
    /// # Errors
    /// [`DataError::Spec`] if an index is outside the space, a rating is not finite, or only
    /// some ratings have timestamps.
    pub fn new(ratings: Vec<Rating>, n_users: usize, n_items: usize) -> Result<Self, DataError> {
        let with_ts = ratings.iter().filter(|r| r.timestamp.is_some()).count();
        if with_ts != 0 && with_ts != ratings.len() {
            return Err(DataError::Spec(format!("{with_ts} of {} ratings have a timestamp; either all or none must", ratings.len())));
        }
        let timestamps = (with_ts > 0).then(|| ratings.iter().map(|r| r.timestamp.unwrap_or_default()).collect());
        Self::from_columns(
            ratings.iter().map(|r| r.user).collect(),
            ratings.iter().map(|r| r.item).collect(),
            ratings.iter().map(|r| r.rating).collect(),
            timestamps,
            n_users,
            n_items,
        )
    }

    /// Wraps columns of equal length (`[len]` each) in an index space of `n_users` × `n_items`.
    ///
    /// # Errors
    /// [`DataError::Spec`] if the columns differ in length, an index is outside the space, or
    /// a value is not finite.
    pub fn from_columns(
        users: Vec<u32>,
        items: Vec<u32>,
        values: Vec<f32>,
        timestamps: Option<Vec<i64>>,
        n_users: usize,
        n_items: usize,
    ) -> Result<Self, DataError> {
        let n = users.len();
        if items.len() != n || values.len() != n || timestamps.as_ref().is_some_and(|t| t.len() != n) {
            return Err(DataError::Spec("interaction columns differ in length".into()));
        }
        let bad = (0..n).find(|&k| users[k] as usize >= n_users || items[k] as usize >= n_items || !values[k].is_finite());
        if let Some(k) = bad {
            return Err(DataError::Spec(format!(
                "rating #{k} (user {}, item {}, rating {}) is outside the {n_users} users × \
                 {n_items} items index space or not finite",
                users[k], items[k], values[k]
            )));
        }
        Ok(Self { users, items, values, timestamps, n_users, n_items })
    }

    /// The `k`-th rating.
    ///
    /// # Panics
    /// If `k >= len()`.
    #[track_caller]
    pub fn get(&self, k: usize) -> Rating {
        Rating { user: self.users[k], item: self.items[k], rating: self.values[k], timestamp: self.timestamps.as_ref().map(|t| t[k]) }
    }

    /// The ratings, in their stored order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Rating> + '_ {
        (0..self.len()).map(|k| self.get(k))
    }

    /// The ratings at positions `idx`, in that order, over the same index space.
    ///
    /// # Panics
    /// If a position is `>= len()`.
    #[track_caller]
    pub fn select(&self, idx: &[usize]) -> Interactions {
        Interactions {
            users: idx.iter().map(|&k| self.users[k]).collect(),
            items: idx.iter().map(|&k| self.items[k]).collect(),
            values: idx.iter().map(|&k| self.values[k]).collect(),
            timestamps: self.timestamps.as_ref().map(|t| idx.iter().map(|&k| t[k]).collect()),
            n_users: self.n_users,
            n_items: self.n_items,
        }
    }

    /// User indices `[len]`.
    pub fn users(&self) -> &[u32] {
        &self.users
    }

    /// Item indices `[len]`.
    pub fn items(&self) -> &[u32] {
        &self.items
    }

    /// Rating values `[len]`, in the dataset's units.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Unix timestamps in seconds `[len]`, if the source has them.
    pub fn timestamps(&self) -> Option<&[i64]> {
        self.timestamps.as_deref()
    }

    /// `self` followed by `other`, over `self`'s index space (e.g. a split's training and
    /// validation parts: a user's known history).
    ///
    /// # Errors
    /// [`DataError::Spec`] if one has timestamps and the other not, or `other` indexes past
    /// `self`'s users or items.
    pub fn concat(&self, other: &Interactions) -> Result<Interactions, DataError> {
        Interactions::new(self.iter().chain(other.iter()).collect(), self.n_users, self.n_items)
    }

    /// Number of ratings.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there are no ratings.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Size of the user index space.
    pub fn n_users(&self) -> usize {
        self.n_users
    }

    /// Size of the item index space.
    pub fn n_items(&self) -> usize {
        self.n_items
    }

    /// Mean rating μ, or `None` when empty. Accumulated in `f64`.
    pub fn global_mean(&self) -> Option<f64> {
        if self.is_empty() {
            return None;
        }
        Some(self.values.iter().map(|&v| f64::from(v)).sum::<f64>() / self.len() as f64)
    }

    /// `(min, max)` rating, or `None` when empty.
    pub fn rating_range(&self) -> Option<(f32, f32)> {
        let first = *self.values.first()?;
        Some(self.values.iter().fold((first, first), |(lo, hi), &v| (lo.min(v), hi.max(v))))
    }

    /// Implicit positives: the ratings `>= threshold`, each with value 1 (e.g. 4+ stars as
    /// "liked"). Same index space; timestamps kept.
    pub fn binarize(&self, threshold: f32) -> Interactions {
        let keep: Vec<usize> = (0..self.len()).filter(|&k| self.values[k] >= threshold).collect();
        let mut out = self.select(&keep);
        out.values.iter_mut().for_each(|v| *v = 1.0);
        out
    }

    /// Number of ratings per user: `[n_users]`.
    pub fn user_counts(&self) -> Vec<u32> {
        let mut c = vec![0u32; self.n_users];
        for &u in &self.users {
            c[u as usize] += 1;
        }
        c
    }

    /// Number of ratings per item: `[n_items]`.
    pub fn item_counts(&self) -> Vec<u32> {
        let mut c = vec![0u32; self.n_items];
        for &i in &self.items {
            c[i as usize] += 1;
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(user: u32, item: u32, rating: f32, timestamp: Option<i64>) -> Rating {
        Rating { user, item, rating, timestamp }
    }

    /// Users a, b, c; items x, y, z, w. a: x y z; b: x y; c: x w.
    fn small_dataset() -> Dataset {
        let (a, b, c, x, y, z, w) = (0, 1, 2, 0, 1, 2, 3);
        let ratings =
            vec![r(a, x, 5.0, None), r(a, y, 4.0, None), r(a, z, 2.0, None), r(b, x, 3.0, None), r(b, y, 5.0, None), r(c, x, 4.0, None), r(c, w, 1.0, None)];
        let mut genres = crate::features::FeatureBuilder::new(4);
        for (i, g) in [(x, "A"), (y, "B"), (z, "C"), (w, "A")] {
            genres.set(i as usize, "genre", g);
        }
        let mut gender = crate::features::FeatureBuilder::new(3);
        for (u, g) in [(a, "F"), (b, "M"), (c, "F")] {
            gender.set(u as usize, "gender", g);
        }
        Dataset {
            name: "small".into(),
            interactions: Interactions::new(ratings, 3, 4).unwrap(),
            users: IdMap::from_raw(["a", "b", "c"]),
            items: IdMap::from_raw(["x", "y", "z", "w"]),
            item_titles: vec![Some("X".into()), Some("Y".into()), None, Some("W".into())],
            scale: (1.0, 5.0),
            item_features: Some(genres.build()),
            user_features: Some(gender.build()),
        }
    }

    #[test]
    fn k_core_filter_by_hand() {
        // Minimum 2 each: z and w have one interaction (a–z, c–w go); then c has one left
        // (c–x goes); then a: x y, b: x y — every user and item has 2.
        let d = small_dataset().filtered(2, 2);
        assert_eq!(d.users.raw_ids(), ["a", "b"]);
        assert_eq!(d.items.raw_ids(), ["x", "y"]);
        let got: Vec<(u32, u32, f32)> = d.interactions.iter().map(|r| (r.user, r.item, r.rating)).collect();
        assert_eq!(got, [(0, 0, 5.0), (0, 1, 4.0), (1, 0, 3.0), (1, 1, 5.0)]);
        assert_eq!((d.interactions.n_users(), d.interactions.n_items()), (2, 2));
        assert_eq!(d.item_titles, [Some("X".to_string()), Some("Y".to_string())]);
        let (items, users) = (d.item_features.as_ref().unwrap(), d.user_features.as_ref().unwrap());
        assert_eq!((items.row_names(0), items.row_names(1)), (vec!["genre=A"], vec!["genre=B"]));
        assert_eq!((users.row_names(0), users.row_names(1)), (vec!["gender=F"], vec!["gender=M"]));
        // (1, 1) drops only what has no interaction: after keeping ratings >= 4, item z (2.0)
        // and item w (1.0) have none; every user keeps one.
        let mut liked = small_dataset();
        liked.interactions = liked.interactions.binarize(4.0);
        let d = liked.filtered(1, 1);
        assert_eq!((d.users.raw_ids(), d.items.raw_ids()), (&["a".to_string(), "b".into(), "c".into()][..], &["x".to_string(), "y".into()][..]));
        assert_eq!(d.len(), 4);
        assert_eq!(small_dataset().filtered(1, 1).items.raw_ids(), ["x", "y", "z", "w"]);
    }

    #[test]
    fn columns_round_trip_and_select() {
        let d = Interactions::new(vec![r(0, 1, 4.5, Some(7)), r(1, 0, 2.0, Some(3))], 2, 2).unwrap();
        assert_eq!(d.users(), &[0, 1]);
        assert_eq!(d.values(), &[4.5, 2.0]);
        assert_eq!(d.timestamps(), Some(&[7i64, 3][..]));
        assert_eq!(d.get(1), r(1, 0, 2.0, Some(3)));
        let s = d.select(&[1, 1, 0]);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![d.get(1), d.get(1), d.get(0)]);
        assert_eq!((s.n_users(), s.n_items()), (2, 2));
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let mixed = Interactions::new(vec![r(0, 0, 1.0, Some(1)), r(0, 1, 1.0, None)], 1, 2);
        assert_eq!(mixed.unwrap_err().to_string(), "1 of 2 ratings have a timestamp; either all or none must");
        assert!(Interactions::new(vec![r(2, 0, 1.0, None)], 2, 2).is_err());
        assert!(Interactions::new(vec![r(0, 0, f32::NAN, None)], 1, 1).is_err());
        assert!(Interactions::from_columns(vec![0], vec![], vec![1.0], None, 1, 1).is_err());
    }

    #[test]
    fn binarize_keeps_positives_as_ones() {
        let d = Interactions::new(vec![r(0, 0, 3.5, Some(1)), r(0, 1, 4.0, Some(2)), r(1, 1, 5.0, Some(3))], 2, 2).unwrap();
        let b = d.binarize(4.0);
        assert_eq!(b.iter().collect::<Vec<_>>(), vec![r(0, 1, 1.0, Some(2)), r(1, 1, 1.0, Some(3))]);
        assert_eq!((b.n_users(), b.n_items()), (2, 2));
    }

    #[test]
    fn summaries() {
        let d = Interactions::new(vec![r(0, 0, 1.0, None), r(0, 1, 4.0, None), r(2, 1, 2.5, None)], 3, 2).unwrap();
        assert_eq!(d.global_mean(), Some(2.5));
        assert_eq!(d.rating_range(), Some((1.0, 4.0)));
        assert_eq!(d.user_counts(), vec![2, 0, 1]);
        assert_eq!(d.item_counts(), vec![1, 2]);
    }
}

/// A rating dataset: ratings over index space plus the raw-id maps that name its users and
/// items, and optional item titles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Where it came from: a file path or `bundled:ml-latest-small`.
    pub name: String,
    /// All ratings, over `users.len()` × `items.len()`.
    pub interactions: Interactions,
    /// Raw user ids ↔ user indices.
    pub users: IdMap,
    /// Raw item ids ↔ item indices.
    pub items: IdMap,
    /// Item titles by item index (`[n_items]`), when the source has them; otherwise empty.
    pub item_titles: Vec<Option<String>>,
    /// Rating scale `(min, max)`: declared when loading, or inferred from the data.
    pub scale: (f32, f32),
    /// Item side features (genres, …), rows by item index, when loaded.
    pub item_features: Option<crate::features::FeatureTable>,
    /// User side features (age bucket, gender, occupation, …), rows by user index, when loaded.
    pub user_features: Option<crate::features::FeatureTable>,
}

impl Dataset {
    /// Number of users.
    pub fn n_users(&self) -> usize {
        self.users.len()
    }

    /// Number of items (that have at least one rating).
    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    /// The dataset without sparse users and items: repeatedly drops the interactions of users
    /// with fewer than `min_user` interactions and of items with fewer than `min_item` until
    /// every remaining user and item has enough (the "k-core" filter of many papers and of
    /// RecBole's `user_inter_num_interval` / `item_inter_num_interval`), then drops the users
    /// and items left without any interaction and re-indexes the rest in their old order
    /// (id maps, titles and side-feature rows follow). With `(1, 1)` it only drops users and
    /// items without interactions (e.g. after an implicit threshold).
    pub fn filtered(&self, min_user: u32, min_item: u32) -> Dataset {
        let mut x = self.interactions.clone();
        loop {
            let (uc, ic) = (x.user_counts(), x.item_counts());
            let keep: Vec<usize> = (0..x.len()).filter(|&k| uc[x.users()[k] as usize] >= min_user && ic[x.items()[k] as usize] >= min_item).collect();
            if keep.len() == x.len() {
                break;
            }
            x = x.select(&keep);
        }
        // New index of each old user / item with interactions, in the old order.
        let renumber = |counts: Vec<u32>| -> (Vec<usize>, Vec<u32>) {
            let kept: Vec<usize> = (0..counts.len()).filter(|&k| counts[k] > 0).collect();
            let mut new = vec![u32::MAX; counts.len()];
            for (n, &k) in kept.iter().enumerate() {
                new[k] = n as u32;
            }
            (kept, new)
        };
        let (users_kept, new_user) = renumber(x.user_counts());
        let (items_kept, new_item) = renumber(x.item_counts());
        let interactions = Interactions {
            users: x.users.iter().map(|&u| new_user[u as usize]).collect(),
            items: x.items.iter().map(|&i| new_item[i as usize]).collect(),
            values: x.values,
            timestamps: x.timestamps,
            n_users: users_kept.len(),
            n_items: items_kept.len(),
        };
        let ids = |map: &IdMap, kept: &[usize]| IdMap::from_raw(kept.iter().map(|&k| map.raw(k as u32).unwrap_or_default().to_string()));
        Dataset {
            name: self.name.clone(),
            interactions,
            users: ids(&self.users, &users_kept),
            items: ids(&self.items, &items_kept),
            item_titles: if self.item_titles.is_empty() {
                Vec::new()
            } else {
                items_kept.iter().map(|&k| self.item_titles.get(k).cloned().flatten()).collect()
            },
            scale: self.scale,
            item_features: self.item_features.as_ref().map(|f| f.select_rows(&items_kept)),
            user_features: self.user_features.as_ref().map(|f| f.select_rows(&users_kept)),
        }
    }

    /// Number of ratings.
    pub fn len(&self) -> usize {
        self.interactions.len()
    }

    /// Whether the dataset has no ratings.
    pub fn is_empty(&self) -> bool {
        self.interactions.is_empty()
    }

    /// The title of an item, if known.
    pub fn item_title(&self, item: u32) -> Option<&str> {
        self.item_titles.get(item as usize)?.as_deref()
    }
}
