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

/// A list of ratings over a fixed user × item index space.
///
/// Train and test parts of a split share the index space of the dataset they come from:
/// `n_users` and `n_items` are the *dataset's* counts, so a user who has ratings only in the
/// test part still has an index (and models treat it as unknown).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interactions {
    ratings: Vec<Rating>,
    n_users: usize,
    n_items: usize,
}

impl Interactions {
    /// Wraps `ratings` in an index space of `n_users` × `n_items`.
    ///
    /// # Errors
    /// [`DataError::Spec`] if a rating's user or item index is outside the space, or a rating
    /// is not finite.
    pub fn new(ratings: Vec<Rating>, n_users: usize, n_items: usize) -> Result<Self, DataError> {
        if let Some((k, r)) = ratings.iter().enumerate().find(|(_, r)| {
            r.user as usize >= n_users || r.item as usize >= n_items || !r.rating.is_finite()
        }) {
            return Err(DataError::Spec(format!(
                "rating #{k} (user {}, item {}, rating {}) is outside the {n_users} users × \
                 {n_items} items index space or not finite",
                r.user, r.item, r.rating
            )));
        }
        Ok(Self { ratings, n_users, n_items })
    }

    /// The ratings, in their stored order.
    pub fn ratings(&self) -> &[Rating] {
        &self.ratings
    }

    /// Number of ratings.
    pub fn len(&self) -> usize {
        self.ratings.len()
    }

    /// Whether there are no ratings.
    pub fn is_empty(&self) -> bool {
        self.ratings.is_empty()
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
        if self.ratings.is_empty() {
            return None;
        }
        let sum: f64 = self.ratings.iter().map(|r| f64::from(r.rating)).sum();
        Some(sum / self.ratings.len() as f64)
    }

    /// `(min, max)` rating, or `None` when empty.
    pub fn rating_range(&self) -> Option<(f32, f32)> {
        let first = self.ratings.first()?.rating;
        Some(self.ratings.iter().fold((first, first), |(lo, hi), r| {
            (lo.min(r.rating), hi.max(r.rating))
        }))
    }

    /// Number of ratings per user: `[n_users]`.
    pub fn user_counts(&self) -> Vec<u32> {
        let mut c = vec![0u32; self.n_users];
        for r in &self.ratings {
            c[r.user as usize] += 1;
        }
        c
    }

    /// Number of ratings per item: `[n_items]`.
    pub fn item_counts(&self) -> Vec<u32> {
        let mut c = vec![0u32; self.n_items];
        for r in &self.ratings {
            c[r.item as usize] += 1;
        }
        c
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
