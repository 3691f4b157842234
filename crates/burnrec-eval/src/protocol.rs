//! Top-N protocols: full ranking and sampled ranking, written against
//! [`RatingPredictor::score_block`].
//!
//! - **Full ranking**: every item is scored; the user's *training* items are excluded; the
//!   user's test items are the relevant set (graded by their test rating for graded NDCG).
//!   Users are scored in blocks of `block_users` so memory stays `O(block × n_items)` for any
//!   catalogue.
//! - **Sampled ranking** (He et al., NCF, WWW 2017): each user's held-out item is ranked
//!   among a fixed list of negatives (e.g. 99). Sampled metrics can disagree with full ranking
//!   — even in the order of models (Krichene & Rendle, "On Sampled Metrics for Item
//!   Recommendation", KDD 2020).
//!
//! Users without test items are excluded and counted ([`RankingReport::users_without_test`]).

use std::collections::HashMap;
use std::time::Instant;

use burnrec_data::{Interactions, RatingPredictor};
use serde::Serialize;

use crate::ranking::{ap_at_k, auc, hit_rate_at_k, mrr_at_k, ndcg_at_k, precision_at_k, rank_candidates, recall_at_k};

/// One user's metrics (kept for paired comparisons between models).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UserMetrics {
    /// User index.
    pub user: u32,
    /// HR@K.
    pub hr: f64,
    /// Precision@K.
    pub precision: f64,
    /// Recall@K.
    pub recall: f64,
    /// NDCG@K, binary gain.
    pub ndcg: f64,
    /// NDCG@K, graded gain `2^rating − 1`.
    pub ndcg_graded: f64,
    /// AP@K.
    pub ap: f64,
    /// MRR@K.
    pub mrr: f64,
    /// AUC over all candidates (`None` if every candidate is relevant).
    pub auc: Option<f64>,
}

/// Metrics averaged over evaluated users, plus list-level metrics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RankingReport {
    /// Cut-off K.
    pub k: usize,
    /// Users evaluated (with at least one test item).
    pub users: usize,
    /// Users of the index space with no test item (excluded, counted).
    pub users_without_test: usize,
    /// Mean HR@K.
    pub hr: f64,
    /// Mean Precision@K.
    pub precision: f64,
    /// Mean Recall@K.
    pub recall: f64,
    /// Mean NDCG@K (binary gain).
    pub ndcg: f64,
    /// Mean NDCG@K (graded gain).
    pub ndcg_graded: f64,
    /// MAP@K.
    pub map: f64,
    /// Mean MRR@K.
    pub mrr: f64,
    /// Mean AUC over users where it is defined.
    pub auc: f64,
    /// Catalogue coverage@K: distinct items in any top-K list / catalogue size.
    pub coverage: f64,
    /// Novelty@K: mean self-information `−log2(p_i)` of recommended items, `p_i` = share of
    /// training users who interacted with item i (unseen items count as 1 user). NaN when
    /// `train` is empty: there is no popularity to measure it by.
    pub novelty: f64,
    /// Wall-clock seconds of scoring and ranking.
    pub eval_s: f64,
    /// Per-user values, in user order.
    #[serde(skip)]
    pub per_user: Vec<UserMetrics>,
}

fn relevant_by_user(test: &Interactions) -> Vec<HashMap<u32, f32>> {
    let mut rel = vec![HashMap::new(); test.n_users()];
    for r in test.iter() {
        rel[r.user as usize].insert(r.item, r.rating);
    }
    rel
}

fn user_metrics(user: u32, ranked: &[u32], candidates: &[u32], scores: &[f32], rel: &HashMap<u32, f32>, k: usize) -> UserMetrics {
    UserMetrics {
        user,
        hr: hit_rate_at_k(ranked, rel, k),
        precision: precision_at_k(ranked, rel, k),
        recall: recall_at_k(ranked, rel, k),
        ndcg: ndcg_at_k(ranked, rel, k, false),
        ndcg_graded: ndcg_at_k(ranked, rel, k, true),
        ap: ap_at_k(ranked, rel, k),
        mrr: mrr_at_k(ranked, rel, k),
        auc: auc(candidates, scores, rel),
    }
}

/// `catalogue`: the number of items that could be recommended (coverage's denominator).
fn summarise(
    k: usize,
    per_user: Vec<UserMetrics>,
    lists: &[Vec<u32>],
    train: &Interactions,
    catalogue: usize,
    n_space_users: usize,
    eval_s: f64,
) -> RankingReport {
    let n = per_user.len().max(1) as f64;
    let mean = |f: &dyn Fn(&UserMetrics) -> f64| per_user.iter().map(f).sum::<f64>() / n;
    let aucs: Vec<f64> = per_user.iter().filter_map(|m| m.auc).collect();
    let n_items = train.n_items();
    let mut shown = vec![false; n_items];
    for l in lists {
        for &i in l {
            shown[i as usize] = true;
        }
    }
    let item_users = train.item_counts();
    let n_train_users = train.user_counts().iter().filter(|&&c| c > 0).count().max(1) as f64;
    let (mut info, mut n_rec) = (0.0, 0usize);
    for l in lists {
        for &i in l {
            info += -(f64::from(item_users[i as usize].max(1)) / n_train_users).log2();
            n_rec += 1;
        }
    }
    RankingReport {
        k,
        users: per_user.len(),
        users_without_test: n_space_users - per_user.len(),
        hr: mean(&|m| m.hr),
        precision: mean(&|m| m.precision),
        recall: mean(&|m| m.recall),
        ndcg: mean(&|m| m.ndcg),
        ndcg_graded: mean(&|m| m.ndcg_graded),
        map: mean(&|m| m.ap),
        mrr: mean(&|m| m.mrr),
        auc: if aucs.is_empty() { f64::NAN } else { aucs.iter().sum::<f64>() / aucs.len() as f64 },
        coverage: shown.iter().filter(|&&s| s).count() as f64 / catalogue.max(1) as f64,
        novelty: if train.is_empty() {
            f64::NAN
        } else if n_rec == 0 {
            0.0
        } else {
            info / n_rec as f64
        },
        eval_s,
        per_user,
    }
}

/// Full-ranking evaluation at cut-off `k`, scoring `block_users` users at a time.
///
/// Never recommends a training item of the user. AUC is computed over all candidates.
pub fn evaluate_full(model: &dyn RatingPredictor, train: &Interactions, test: &Interactions, k: usize, block_users: usize) -> RankingReport {
    let items: Vec<u32> = (0..train.n_items() as u32).collect();
    evaluate_full_among(model, train, test, &items, k, block_users)
}

/// Full ranking restricted to the candidate `items` (sorted or not; e.g. the cold items of an
/// item cold-start split): each evaluated user's training items are still excluded, and test
/// items outside `items` count as relevant but can never be ranked; coverage@K is the share of
/// `items` recommended to anyone.
///
/// # Panics
/// If an entry of `items` is `>= train.n_items()`.
pub fn evaluate_full_among(
    model: &dyn RatingPredictor,
    train: &Interactions,
    test: &Interactions,
    items: &[u32],
    k: usize,
    block_users: usize,
) -> RankingReport {
    let start = Instant::now();
    let rel = relevant_by_user(test);
    let mut seen = vec![Vec::new(); train.n_users()];
    for (&u, &i) in train.users().iter().zip(train.items()) {
        seen[u as usize].push(i);
    }
    let users: Vec<u32> = (0..test.n_users() as u32).filter(|&u| !rel[u as usize].is_empty()).collect();
    let mut per_user = Vec::with_capacity(users.len());
    let mut lists = Vec::with_capacity(users.len());
    let mut mask = vec![false; train.n_items()];
    for block in users.chunks(block_users.max(1)) {
        let scores = model.score_block(block, items);
        for (b, &u) in block.iter().enumerate() {
            let row = &scores[b * items.len()..(b + 1) * items.len()];
            for &i in &seen[u as usize] {
                mask[i as usize] = true;
            }
            let (candidates, cand_scores): (Vec<u32>, Vec<f32>) = items.iter().zip(row).filter(|(i, _)| !mask[**i as usize]).map(|(&i, &s)| (i, s)).unzip();
            for &i in &seen[u as usize] {
                mask[i as usize] = false;
            }
            let top = rank_candidates(&candidates, &cand_scores, k);
            per_user.push(user_metrics(u, &top, &candidates, &cand_scores, &rel[u as usize], k));
            lists.push(top);
        }
    }
    summarise(k, per_user, &lists, train, items.len(), test.n_users(), start.elapsed().as_secs_f64())
}

/// Sampled-ranking evaluation: for each user with a candidate list, the user's test items
/// are ranked among `negatives[user]` (which must not contain positives). AUC is over the
/// candidates.
pub fn evaluate_sampled(model: &dyn RatingPredictor, train: &Interactions, test: &Interactions, negatives: &HashMap<u32, Vec<u32>>, k: usize) -> RankingReport {
    let start = Instant::now();
    let rel = relevant_by_user(test);
    let mut users: Vec<u32> = (0..test.n_users() as u32).filter(|&u| !rel[u as usize].is_empty() && negatives.contains_key(&u)).collect();
    users.sort_unstable();
    let mut per_user = Vec::with_capacity(users.len());
    let mut lists = Vec::with_capacity(users.len());
    for &u in &users {
        let mut cands: Vec<u32> = rel[u as usize].keys().copied().collect();
        cands.sort_unstable();
        cands.extend(&negatives[&u]);
        let scores = model.score_block(&[u], &cands);
        let top = rank_candidates(&cands, &scores, k);
        per_user.push(user_metrics(u, &top, &cands, &scores, &rel[u as usize], k));
        lists.push(top);
    }
    summarise(k, per_user, &lists, train, train.n_items(), test.n_users(), start.elapsed().as_secs_f64())
}

/// Paired bootstrap over users of `a − b` (per-user metric values of two models on the same
/// users, same order): returns (mean difference, 2.5 % and 97.5 % percentiles of the
/// bootstrap means). `n_boot` resamples, seeded.
///
/// # Panics
/// If the slices differ in length or are empty.
#[track_caller]
pub fn paired_bootstrap(a: &[f64], b: &[f64], n_boot: usize, seed: u64) -> (f64, f64, f64) {
    use rand::{Rng, SeedableRng};
    assert!(!a.is_empty() && a.len() == b.len(), "paired_bootstrap needs two equal, non-empty samples");
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut means: Vec<f64> = (0..n_boot.max(1)).map(|_| (0..d.len()).map(|_| d[rng.random_range(0..d.len())]).sum::<f64>() / d.len() as f64).collect();
    means.sort_by(f64::total_cmp);
    let q = |p: f64| means[((p * means.len() as f64) as usize).min(means.len() - 1)];
    (mean, q(0.025), q(0.975))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ranking::top_k_among;
    use burnrec_data::{Prediction, Rating};
    use proptest::prelude::*;

    /// Scores item i for user u as `table[u][i]`.
    struct Table(Vec<Vec<f32>>);
    impl RatingPredictor for Table {
        fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
            pairs.iter().map(|&(u, i)| Prediction { rating: self.0[u as usize][i as usize], known_user: true, known_item: true }).collect()
        }
    }

    fn inter(cells: &[(u32, u32, f32)], nu: usize, ni: usize) -> Interactions {
        Interactions::new(cells.iter().map(|&(user, item, rating)| Rating { user, item, rating, timestamp: None }).collect(), nu, ni).unwrap()
    }

    #[test]
    fn full_ranking_excludes_training_items_by_hand() {
        // User 0 trained on item 0 (the model's favourite); test item 2.
        // Scores: [9, 1, 5, 3] → candidates 1..3 ranked [2, 3, 1]: hit at rank 1.
        // User 1 has no test item: excluded, counted. User 2 trained on 3, test {0, 1}.
        let model = Table(vec![vec![9.0, 1.0, 5.0, 3.0], vec![0.0; 4], vec![1.0, 2.0, 3.0, 4.0]]);
        let train = inter(&[(0, 0, 5.0), (1, 1, 3.0), (2, 3, 4.0)], 3, 4);
        let test = inter(&[(0, 2, 4.0), (2, 0, 2.0), (2, 1, 5.0)], 3, 4);
        let r = evaluate_full(&model, &train, &test, 2, 2);
        assert_eq!((r.users, r.users_without_test), (2, 1));
        // user 0: top-2 [2, 3] → HR 1, P 0.5, R 1, MRR 1. user 2: [2, 1, 0] → top-2 [2, 1]: HR 1,
        // P 0.5, R 0.5, MRR 0.5, AP = (1/2)/2 = 0.25.
        assert_eq!(r.hr, 1.0);
        assert_eq!(r.precision, 0.5);
        assert_eq!(r.recall, 0.75);
        assert_eq!(r.mrr, 0.75);
        assert!((r.map - (1.0 + 0.25) / 2.0).abs() < 1e-12);
        // AUC: user 0: relevant 2 is above both negatives → 1. User 2: candidates ranked
        // [2, 1, 0], relevant {0, 1}, negative {2} above both → 0. Mean 0.5.
        assert!((r.auc - 0.5).abs() < 1e-12);
        // coverage: items {2, 3, 1} of 4.
        assert_eq!(r.coverage, 0.75);
    }

    #[test]
    fn novelty_by_hand() {
        // Every user scores items [1, 4, 3, 2]. Train: u0 {1}, u1 {1}, u2 {0}; top-1 among the
        // candidates: u0 → 2, u1 → 2, u2 → 1. Item 2 has no training user (counts as 1 of the 3
        // training users), item 1 has 2: novelty = (2·log2 3 + log2(3/2)) / 3.
        let model = Table(vec![vec![1.0, 4.0, 3.0, 2.0]; 3]);
        let train = inter(&[(0, 1, 1.0), (1, 1, 1.0), (2, 0, 1.0)], 3, 4);
        let test = inter(&[(0, 2, 1.0), (1, 3, 1.0), (2, 1, 1.0)], 3, 4);
        let r = evaluate_full(&model, &train, &test, 1, 2);
        let want = (2.0 * 3f64.log2() + 1.5f64.log2()) / 3.0;
        assert!((r.novelty - want).abs() < 1e-12, "novelty {} vs {want}", r.novelty);
        // No training interactions (e.g. scoring the training set itself): no popularity, NaN.
        let none = inter(&[], 3, 4);
        assert!(evaluate_full(&model, &none, &test, 1, 2).novelty.is_nan());
    }

    #[test]
    fn full_ranking_among_candidates_by_hand() {
        // Same data, candidates {1, 2} only (e.g. cold items). User 0: [2, 1] → hit at 1.
        // User 2: scores 2 (item 1) < 3 (item 2) → [2, 1]: its test item 1 at rank 2, test
        // item 0 is not a candidate (relevant, never ranked).
        let model = Table(vec![vec![9.0, 1.0, 5.0, 3.0], vec![0.0; 4], vec![1.0, 2.0, 3.0, 4.0]]);
        let train = inter(&[(0, 0, 5.0), (1, 1, 3.0), (2, 3, 4.0)], 3, 4);
        let test = inter(&[(0, 2, 4.0), (2, 0, 2.0), (2, 1, 5.0)], 3, 4);
        let r = evaluate_full_among(&model, &train, &test, &[1, 2], 1, 2);
        // HR@1: user 0 hits, user 2 does not. MRR@1: 1 and 0.
        assert_eq!((r.users, r.hr, r.mrr), (2, 0.5, 0.5));
        let r2 = evaluate_full_among(&model, &train, &test, &[1, 2], 2, 2);
        // Recall@2: user 0 1/1; user 2 1/2 (item 0 cannot be ranked).
        assert_eq!(r2.recall, 0.75);
        // Both candidates are in someone's top 2: coverage 2/2 (not 2 of the 4 items).
        assert_eq!(r2.coverage, 1.0);
        // Among all items it equals evaluate_full.
        assert_eq!(evaluate_full_among(&model, &train, &test, &[0, 1, 2, 3], 2, 2).hr, evaluate_full(&model, &train, &test, 2, 2).hr);
    }

    #[test]
    fn sampled_ranking_uses_only_the_candidates() {
        let model = Table(vec![vec![0.0, 5.0, 1.0, 2.0, 9.0]]);
        let train = inter(&[(0, 4, 5.0)], 1, 5);
        let test = inter(&[(0, 2, 4.0)], 1, 5);
        // Item 2 (score 1) among negatives {0 (0), 3 (2)} → rank 2.
        let negs: HashMap<u32, Vec<u32>> = [(0, vec![0, 3])].into_iter().collect();
        let r = evaluate_sampled(&model, &train, &test, &negs, 1);
        assert_eq!((r.hr, r.mrr), (0.0, 0.0));
        let r = evaluate_sampled(&model, &train, &test, &negs, 2);
        assert_eq!((r.hr, r.mrr), (1.0, 0.5));
        assert!((r.ndcg - 1.0 / 3f64.log2()).abs() < 1e-12);
    }

    #[test]
    fn bootstrap_of_a_constant_difference() {
        let (m, lo, hi) = paired_bootstrap(&[0.5, 0.7, 0.9], &[0.4, 0.6, 0.8], 200, 1);
        assert!((m - 0.1).abs() < 1e-12 && (lo - 0.1).abs() < 1e-12 && (hi - 0.1).abs() < 1e-12);
        let (m, lo, hi) = paired_bootstrap(&[1.0, 0.0, 1.0, 0.0], &[0.0; 4], 500, 2);
        assert_eq!(m, 0.5);
        assert!(lo < 0.5 && hi > 0.5 && lo >= 0.0 && hi <= 1.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn full_ranking_never_recommends_training_items_and_is_user_order_invariant(
            scores in prop::collection::vec(prop::collection::vec(-3.0f32..3.0, 12), 5),
            cells in prop::collection::btree_map((0u32..5, 0u32..12), any::<bool>(), 1..40),
        ) {
            let train = inter(&cells.iter().filter(|c| *c.1).map(|(&(u, i), _)| (u, i, 1.0)).collect::<Vec<_>>(), 5, 12);
            let test = inter(&cells.iter().filter(|c| !*c.1).map(|(&(u, i), _)| (u, i, 1.0)).collect::<Vec<_>>(), 5, 12);
            let model = Table(scores.clone());
            let r1 = evaluate_full(&model, &train, &test, 5, 2);
            let r2 = evaluate_full(&model, &train, &test, 5, 5);
            prop_assert_eq!(&r1.per_user, &r2.per_user); // blocks do not change results
            // Recompute each user's top list and check no training item is in it.
            for m in &r1.per_user {
                let row = &scores[m.user as usize];
                let cands: Vec<u32> = (0..12).filter(|&i| !cells.get(&(m.user, i)).copied().unwrap_or(false)).collect();
                let top = top_k_among(row, cands, 5);
                for i in top {
                    prop_assert!(!cells.get(&(m.user, i)).copied().unwrap_or(false));
                }
            }
            // Reversing the user order of the model (and of the data) gives the same means.
            let rev = |d: &Interactions| inter(&d.iter().map(|r| (4 - r.user, r.item, r.rating)).collect::<Vec<_>>(), 5, 12);
            let mut rs = scores.clone();
            rs.reverse();
            let r3 = evaluate_full(&Table(rs), &rev(&train), &rev(&test), 5, 3);
            prop_assert!((r1.ndcg - r3.ndcg).abs() < 1e-12 && (r1.hr - r3.hr).abs() < 1e-12 && (r1.map - r3.map).abs() < 1e-12);
        }
    }
}
