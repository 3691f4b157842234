//! The one trait every rating model implements, classic and neural alike.
//!
//! Evaluation (`burnrec-eval`) is written once against [`RatingPredictor`]; the runner holds
//! models as `Box<dyn RatingPredictor>`.

use crate::dataset::Interactions;

/// A predicted rating, with whether the model had training data for the user and the item.
///
/// A model asked about a user or item it never saw in training does not fail: it falls back
/// (global mean, or mean plus the known bias) and clears the matching flag, so that evaluation
/// can count fallbacks instead of hiding them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    /// Predicted rating, in the training data's units (not clipped; evaluation clips).
    pub rating: f32,
    /// The user had at least one training rating.
    pub known_user: bool,
    /// The item had at least one training rating.
    pub known_item: bool,
}

impl Prediction {
    /// Whether the model had to fall back for this pair (unknown user or item).
    pub fn is_fallback(&self) -> bool {
        !(self.known_user && self.known_item)
    }
}

/// Something that predicts explicit ratings for (user, item) index pairs.
pub trait RatingPredictor {
    /// Predicts every pair of `pairs` (`[n]` of `(user index, item index)`); returns `[n]`
    /// predictions in the same order. Indices outside the model's index space are treated as
    /// unknown users/items, never as an error.
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction>;

    /// Predicts one pair.
    fn predict(&self, user: u32, item: u32) -> Prediction {
        self.predict_batch(&[(user, item)])
            .pop()
            .expect("predict_batch returns one prediction per pair")
    }

    /// Ranking scores (higher is better) of every `items` entry for every `users` entry:
    /// returns `[users.len() × items.len()]`, row-major. Used by top-N evaluation and
    /// recommendation. The default calls [`RatingPredictor::predict_batch`] on the cartesian
    /// product; factor models override it with one matrix product per block.
    fn score_block(&self, users: &[u32], items: &[u32]) -> Vec<f32> {
        let pairs: Vec<(u32, u32)> = users.iter().flat_map(|&u| items.iter().map(move |&i| (u, i))).collect();
        self.predict_batch(&pairs).into_iter().map(|p| p.rating).collect()
    }
}

/// Which users and items have at least one training rating.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KnownSet {
    users: Vec<bool>,
    items: Vec<bool>,
}

impl KnownSet {
    /// Marks the users and items that occur in `train`.
    pub fn from_train(train: &Interactions) -> Self {
        let mut users = vec![false; train.n_users()];
        let mut items = vec![false; train.n_items()];
        for &u in train.users() {
            users[u as usize] = true;
        }
        for &i in train.items() {
            items[i as usize] = true;
        }
        Self { users, items }
    }

    /// Whether `user` had training ratings (false for indices outside the space).
    pub fn user(&self, user: u32) -> bool {
        self.users.get(user as usize).copied().unwrap_or(false)
    }

    /// Whether `item` had training ratings (false for indices outside the space).
    pub fn item(&self, item: u32) -> bool {
        self.items.get(item as usize).copied().unwrap_or(false)
    }

    /// The biased baseline with the fallback rule every model shares (Surprise's): `μ`, plus
    /// `bu[user]` if the user is known, plus `bi[item]` if the item is known — the bias of an
    /// unknown user or item counts as zero. `mu`, `bu` (`[n_users]`) and `bi` (`[n_items]`)
    /// are in rating units; returns the estimate with the known flags set. Models add their
    /// interaction term when [`Prediction::is_fallback`] is false.
    pub fn baseline(&self, mu: f32, bu: &[f32], bi: &[f32], user: u32, item: u32) -> Prediction {
        let (ku, ki) = (self.user(user), self.item(item));
        let mut rating = mu;
        if ku {
            rating += bu[user as usize];
        }
        if ki {
            rating += bi[item as usize];
        }
        Prediction { rating, known_user: ku, known_item: ki }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Rating;

    #[test]
    fn baseline_drops_unknown_biases() {
        let r = |user, item| Rating { user, item, rating: 3.0, timestamp: None };
        let known = KnownSet::from_train(&Interactions::new(vec![r(0, 0), r(1, 1)], 3, 3).unwrap());
        let (bu, bi) = ([0.5, -0.5, 9.0], [0.25, 1.0, 9.0]);
        assert_eq!(known.baseline(3.0, &bu, &bi, 0, 1), Prediction { rating: 4.5, known_user: true, known_item: true });
        assert_eq!(known.baseline(3.0, &bu, &bi, 2, 0), Prediction { rating: 3.25, known_user: false, known_item: true });
        assert_eq!(known.baseline(3.0, &bu, &bi, 1, 2), Prediction { rating: 2.5, known_user: true, known_item: false });
        assert_eq!(known.baseline(3.0, &bu, &bi, 7, 7), Prediction { rating: 3.0, known_user: false, known_item: false });
    }
}
