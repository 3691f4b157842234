//! The one trait every rating model implements, classic and neural alike.
//!
//! Evaluation (`burnrec-eval`) is written once against [`RatingPredictor`]; the model
//! catalogue (`burnrec-zoo`) hands every fitted model out as a `&dyn RatingPredictor`.

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
        self.predict_batch(&[(user, item)]).pop().expect("predict_batch returns one prediction per pair")
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

    /// The model as dot products, when it is one: `score(u, i) = user_offset[u] + x_uᵀ y_i`
    /// for every known user and item ([`DotFactors`]), so that serving can score a whole
    /// catalogue with one matrix–vector product, fold in new users and find similar items.
    /// `None` (the default) for models that are not (KNN, NCF towers, …).
    fn dot_factors(&self) -> Option<DotFactors> {
        None
    }

    /// Scores of every item (`[n_items]`) for a user known only by `history` (item indices of
    /// their interactions, each `< n_items`), for models whose scores are an aggregate over the
    /// user's items (item KNN: `Σ_j s_ji`; EASE: `Σ_j B_ji`; PureSVD: `Σ_j v_jᵀ v_i`). `None`
    /// (the default) for models without such a rule; factor models fold in through
    /// [`RatingPredictor::dot_factors`] instead.
    fn history_scores(&self, _history: &[u32]) -> Option<Vec<f32>> {
        None
    }

    /// The stored neighbourhood of `item` as `(item index, similarity)` (unsorted), for
    /// neighbourhood models (item KNN); `None` (the default) otherwise.
    fn item_neighbours(&self, _item: u32) -> Option<Vec<(u32, f32)>> {
        None
    }

    /// The `k` best of `candidates` for `user`, best first, as `(item index, score)`: scores
    /// from [`RatingPredictor::score_block`]; equal scores in [`tie_key`] order.
    /// Callers pass the candidates (for example every item the user has not interacted with);
    /// returns fewer than `k` entries when there are fewer candidates.
    fn recommend(&self, user: u32, candidates: &[u32], k: usize) -> Vec<(u32, f32)> {
        let scores = self.score_block(&[user], candidates);
        top_k(candidates.iter().copied().zip(scores).collect(), k)
    }
}

/// The project's one tie order: items with equal scores rank by this key, ascending — a fixed
/// pseudo-random permutation of the item indices (the SplitMix64 finaliser of the index, a
/// bijection; Steele, Lea & Flood, "Fast Splittable Pseudorandom Number Generators", OOPSLA
/// 2014), so that ties are broken neither by catalogue order (item indices follow the data
/// file, which often lists popular items first) nor by chance from run to run. `item`: an
/// item index; returns its 64-bit rank key (no unit).
pub fn tie_key(item: u32) -> u64 {
    let mut z = u64::from(item).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The one ranking order, `(item, score)` pairs best first: higher score first (NaN counts as
/// −∞, so it ranks last), equal scores in [`tie_key`] order. For [`top_k`] and the evaluation
/// (`burnrec_eval::ranking`).
pub fn rank_order(a: (u32, f32), b: (u32, f32)) -> std::cmp::Ordering {
    let key = |s: f32| if s.is_nan() { f32::NEG_INFINITY } else { s };
    key(b.1).total_cmp(&key(a.1)).then_with(|| tie_key(a.0).cmp(&tie_key(b.0)))
}

/// The `k` best `(item index, score)` pairs of `ranked`, best first: higher score first, equal
/// scores in [`tie_key`] order, NaN last ([`rank_order`], as in evaluation); a partial
/// selection (`select_nth_unstable`, `O(n)`) then a sort of the `k` kept. Fewer than `k` when
/// `ranked` is shorter.
pub fn top_k(mut ranked: Vec<(u32, f32)>, k: usize) -> Vec<(u32, f32)> {
    let by_score = |a: &(u32, f32), b: &(u32, f32)| rank_order((a.0, a.1), (b.0, b.1));
    if k < ranked.len() {
        ranked.select_nth_unstable_by(k, by_score);
        ranked.truncate(k);
    }
    ranked.sort_by(by_score);
    ranked
}

/// A factor model's scores as dot products (see [`RatingPredictor::dot_factors`]):
/// `score(u, i) = user_offset[u] + Σ_d users[u·dim + d] · items[i·dim + d]`. A model with item
/// biases puts them in the last column of `items` (with 1 in the user's last column), and
/// `factor_dim` says how many leading columns are the latent factors proper.
#[derive(Clone, Debug, PartialEq)]
pub struct DotFactors {
    /// Columns of `users` and `items`.
    pub dim: usize,
    /// Leading columns that are latent factors (the rest: bias columns).
    pub factor_dim: usize,
    /// `[n_users, dim]`, row-major.
    pub users: Vec<f32>,
    /// `[n_items, dim]`, row-major.
    pub items: Vec<f32>,
    /// `[n_users]` per-user constant (μ + b_u for biased MF; 0 for ranking models).
    pub user_offset: Vec<f32>,
    /// Constant of a user folded in from a history (μ for biased MF, else 0).
    pub new_user_offset: f32,
}

impl DotFactors {
    /// Factors `users` (`[n_users, k]`) and `items` (`[n_items, k]`) widened with a bias column:
    /// users get 1, items their `item_bias` (`[n_items]`).
    pub fn with_bias_column(k: usize, users: &[f32], items: &[f32], item_bias: &[f32], user_offset: Vec<f32>, new_user_offset: f32) -> Self {
        let widen = |f: &[f32], last: &dyn Fn(usize) -> f32| -> Vec<f32> {
            f.chunks_exact(k).enumerate().flat_map(|(r, row)| row.iter().copied().chain(std::iter::once(last(r)))).collect()
        };
        Self { dim: k + 1, factor_dim: k, users: widen(users, &|_| 1.0), items: widen(items, &|i| item_bias[i]), user_offset, new_user_offset }
    }

    /// Number of users.
    pub fn n_users(&self) -> usize {
        self.users.len() / self.dim.max(1)
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.items.len() / self.dim.max(1)
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
    fn recommend_sorts_by_score_then_tie_order() {
        let m = ByItem;
        // Items 2 and 5 tie at 2.0 (in tie-key order), then 1 and 4 at 1.0.
        let (top, second) = if tie_key(2) < tie_key(5) { (2, 5) } else { (5, 2) };
        let third = if tie_key(1) < tie_key(4) { 1 } else { 4 };
        assert_eq!(m.recommend(0, &[0, 1, 2, 3, 4, 5], 3), vec![(top, 2.0), (second, 2.0), (third, 1.0)]);
        assert_eq!(m.recommend(0, &[4, 3], 5), vec![(4, 1.0), (3, 0.0)]);
        // NaN ranks last, as in evaluation.
        let order: Vec<u32> = top_k(vec![(0, f32::NAN), (1, -1.0), (2, 3.0)], 3).into_iter().map(|p| p.0).collect();
        assert_eq!(order, [2, 1, 0]);
        assert!(m.recommend(0, &[], 5).is_empty());
        assert_eq!(m.feedback(), Feedback::Explicit);
    }
}
