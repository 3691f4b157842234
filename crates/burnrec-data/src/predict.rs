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

/// What a model's scores mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Feedback {
    /// Trained on explicit ratings: [`Prediction::rating`] is on the training rating scale, so
    /// rating metrics (RMSE, MAE) and ranking metrics both apply.
    Explicit,
    /// Trained on implicit feedback (interactions, not ratings): [`Prediction::rating`] is a
    /// ranking score with no unit (higher = more likely to interact); only ranking metrics
    /// apply, and evaluation skips RMSE/MAE for it.
    Implicit,
}

/// Something that scores (user, item) index pairs: predicted ratings for explicit-feedback
/// models, ranking scores for implicit-feedback ones (see [`RatingPredictor::feedback`]).
/// Classic and neural models implement it alike; evaluation and the runner use nothing else.
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

    /// Whether the scores are ratings ([`Feedback::Explicit`], the default) or unitless
    /// ranking scores ([`Feedback::Implicit`]).
    fn feedback(&self) -> Feedback {
        Feedback::Explicit
    }

    /// The `k` best of `candidates` for `user`, best first, as `(item index, score)`: scores
    /// from [`RatingPredictor::score_block`]; equal scores go to the smaller item index.
    /// Callers pass the candidates (for example every item the user has not interacted with);
    /// returns fewer than `k` entries when there are fewer candidates.
    fn recommend(&self, user: u32, candidates: &[u32], k: usize) -> Vec<(u32, f32)> {
        let scores = self.score_block(&[user], candidates);
        let mut ranked: Vec<(u32, f32)> = candidates.iter().copied().zip(scores).collect();
        let by_score = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if k < ranked.len() {
            ranked.select_nth_unstable_by(k, by_score);
            ranked.truncate(k);
        }
        ranked.sort_by(by_score);
        ranked
    }
}

/// Which users and items have at least one training rating.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KnownSet {
    users: Vec<bool>,
    items: Vec<bool>,
}

impl KnownSet {
    /// Size of the user index space.
    pub fn n_users(&self) -> usize {
        self.users.len()
    }

    /// Size of the item index space.
    pub fn n_items(&self) -> usize {
        self.items.len()
    }

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

    struct ByItem;
    impl RatingPredictor for ByItem {
        fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
            // scores 0, 1, 2, 0, 1, 2, … so that ties occur
            pairs.iter().map(|&(_, i)| Prediction { rating: (i % 3) as f32, known_user: true, known_item: true }).collect()
        }
    }

    #[test]
    fn recommend_sorts_by_score_then_smaller_item() {
        let m = ByItem;
        assert_eq!(m.recommend(0, &[0, 1, 2, 3, 4, 5], 3), vec![(2, 2.0), (5, 2.0), (1, 1.0)]);
        assert_eq!(m.recommend(0, &[4, 3], 5), vec![(4, 1.0), (3, 0.0)]);
        assert!(m.recommend(0, &[], 5).is_empty());
        assert_eq!(m.feedback(), Feedback::Explicit);
    }
}
