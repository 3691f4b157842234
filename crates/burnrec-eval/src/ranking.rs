//! Top-N metrics for one user, and the one tie rule used everywhere.
//!
//! Conventions (see `docs/evaluation.md`):
//! - A ranked list is best first. Scores are ranked **descending; ties go in a fixed
//!   pseudo-random item order** ([`burnrec_data::tie_key`], [`rank_top_k`]), so a model that
//!   scores every item equally gets chance-level metrics — not those of the catalogue order,
//!   which often lists popular items first.
//! - `relevant` is the user's set of test items (graded gains for graded NDCG).
//! - A list shorter than K is scored as it is (missing positions count as misses); the
//!   denominators stay as defined below.
//! - Every metric is in `[0, 1]`.
//!
//! Sources: NDCG — Järvelin & Kekäläinen, "Cumulated gain-based evaluation of IR techniques",
//! ACM TOIS 20(4), 2002 (graded gain `2^g − 1`: Burges et al., ICML 2005); HR@K and the
//! sampled protocol — He et al., "Neural Collaborative Filtering", WWW 2017; AUC as the
//! Mann–Whitney U statistic — Hanley & McNeil, Radiology 143(1), 1982.

use std::collections::HashMap;

/// Ranks `scores` (`[n]`, index = item) and returns the top `k` item indices, best first:
/// descending score, ties in [`burnrec_data::tie_key`] order; NaN scores rank last. O(n + k log k).
pub fn rank_top_k(scores: &[f32], k: usize) -> Vec<u32> {
    let items: Vec<u32> = (0..scores.len() as u32).collect();
    rank_candidates(&items, scores, k)
}

/// Like [`rank_top_k`] but only over `candidates` (item indices into `scores`, `[n_items]`).
pub fn top_k_among(scores: &[f32], candidates: Vec<u32>, k: usize) -> Vec<u32> {
    let aligned: Vec<f32> = candidates.iter().map(|&i| scores[i as usize]).collect();
    rank_candidates(&candidates, &aligned, k)
}

/// The one tie rule, everywhere: `candidates` (`[n]` item indices) with their `scores` (`[n]`,
/// aligned) → the top `k` item indices, descending score, ties in [`burnrec_data::tie_key`]
/// order, NaN last. O(n + k log k).
///
/// # Panics
/// If the slices differ in length.
#[track_caller]
pub fn rank_candidates(candidates: &[u32], scores: &[f32], k: usize) -> Vec<u32> {
    assert_eq!(candidates.len(), scores.len(), "rank_candidates: one score per candidate");
    let cmp = |a: &usize, b: &usize| burnrec_data::rank_order((candidates[*a], scores[*a]), (candidates[*b], scores[*b]));
    let mut pos: Vec<usize> = (0..candidates.len()).collect();
    let k = k.min(pos.len());
    if k == 0 {
        return Vec::new();
    }
    if k < pos.len() {
        pos.select_nth_unstable_by(k - 1, cmp);
        pos.truncate(k);
    }
    pos.sort_unstable_by(cmp);
    pos.into_iter().map(|p| candidates[p]).collect()
}

/// `hits in top k / k`.
pub fn precision_at_k(ranked: &[u32], relevant: &HashMap<u32, f32>, k: usize) -> f64 {
    if k == 0 {
        return 0.0;
    }
    hits(ranked, relevant, k) as f64 / k as f64
}

/// `hits in top k / |relevant|` (0 if nothing is relevant).
pub fn recall_at_k(ranked: &[u32], relevant: &HashMap<u32, f32>, k: usize) -> f64 {
    if relevant.is_empty() {
        return 0.0;
    }
    hits(ranked, relevant, k) as f64 / relevant.len() as f64
}

/// Hit rate: 1 if any relevant item is in the top k, else 0.
pub fn hit_rate_at_k(ranked: &[u32], relevant: &HashMap<u32, f32>, k: usize) -> f64 {
    f64::from(u8::from(hits(ranked, relevant, k) > 0))
}

/// Reciprocal rank of the first relevant item within the top k (0 if none).
pub fn mrr_at_k(ranked: &[u32], relevant: &HashMap<u32, f32>, k: usize) -> f64 {
    ranked.iter().take(k).position(|i| relevant.contains_key(i)).map_or(0.0, |p| 1.0 / (p + 1) as f64)
}

/// Average precision at k: `Σ_{relevant positions p ≤ k} precision@p / min(|relevant|, k)`.
pub fn ap_at_k(ranked: &[u32], relevant: &HashMap<u32, f32>, k: usize) -> f64 {
    let denom = relevant.len().min(k);
    if denom == 0 {
        return 0.0;
    }
    let mut found = 0;
    let mut sum = 0.0;
    for (p, i) in ranked.iter().take(k).enumerate() {
        if relevant.contains_key(i) {
            found += 1;
            sum += f64::from(found) / (p + 1) as f64;
        }
    }
    sum / denom as f64
}

/// NDCG at k with log2 discount: `DCG = Σ_p gain(i_p) / log2(p + 1)` (p from 1) over the top
/// k, divided by the IDCG of the user's relevant items sorted by gain.
///
/// `graded = false`: binary gain 1 for any relevant item. `graded = true`: gain `2^g − 1` for
/// relevance grade g (e.g. the test rating), as in Burges et al. 2005.
pub fn ndcg_at_k(ranked: &[u32], relevant: &HashMap<u32, f32>, k: usize, graded: bool) -> f64 {
    let gain = |g: f32| if graded { 2f64.powf(f64::from(g)) - 1.0 } else { 1.0 };
    let disc = |p: usize| 1.0 / ((p + 2) as f64).log2();
    // `fold` from +0, not `sum` (whose empty sum is −0: a user without hits would print "-0").
    let dcg = ranked.iter().take(k).enumerate().filter_map(|(p, i)| relevant.get(i).map(|&g| gain(g) * disc(p))).fold(0.0, |a, x| a + x);
    let mut gains: Vec<f64> = relevant.values().map(|&g| gain(g)).collect();
    gains.sort_unstable_by(|a, b| b.total_cmp(a));
    let idcg: f64 = gains.iter().take(k).enumerate().map(|(p, g)| g * disc(p)).sum();
    if idcg > 0.0 { dcg / idcg } else { 0.0 }
}

/// Area under the ROC curve: the probability that a relevant candidate scores above a
/// non-relevant one, **ties counting one half** (Mann–Whitney U with average ranks), so a
/// model that scores everything equally gets exactly 0.5. `candidates` and `scores` are
/// aligned. `None` if either class is empty. NaN scores count as the lowest.
pub fn auc(candidates: &[u32], scores: &[f32], relevant: &HashMap<u32, f32>) -> Option<f64> {
    let n_pos = candidates.iter().filter(|i| relevant.contains_key(i)).count();
    let n_neg = candidates.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let clean = |s: f32| if s.is_nan() { f32::NEG_INFINITY } else { s };
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| clean(scores[a]).total_cmp(&clean(scores[b])));
    // Sum of the (1-based, tie-averaged) ascending ranks of the positives.
    let mut rank_sum = 0.0;
    let mut g = 0;
    while g < order.len() {
        let mut h = g + 1;
        while h < order.len() && clean(scores[order[h]]) == clean(scores[order[g]]) {
            h += 1;
        }
        let avg = (g + 1 + h) as f64 / 2.0;
        rank_sum += avg * order[g..h].iter().filter(|&&p| relevant.contains_key(&candidates[p])).count() as f64;
        g = h;
    }
    let u = rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos * n_neg) as f64)
}

fn hits(ranked: &[u32], relevant: &HashMap<u32, f32>, k: usize) -> usize {
    ranked.iter().take(k).filter(|i| relevant.contains_key(i)).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rel(items: &[u32]) -> HashMap<u32, f32> {
        items.iter().map(|&i| (i, 1.0)).collect()
    }

    const A: u32 = 0;
    const B: u32 = 1;
    const C: u32 = 2;
    const D: u32 = 3;

    #[test]
    fn the_issue_example_by_hand() {
        // relevant = {A, C}, ranked [A, B, C, D]
        let (r, l) = (rel(&[A, C]), [A, B, C, D]);
        assert_eq!(precision_at_k(&l, &r, 2), 0.5);
        assert_eq!(recall_at_k(&l, &r, 2), 0.5);
        assert_eq!(hit_rate_at_k(&l, &r, 2), 1.0);
        assert_eq!(mrr_at_k(&l, &r, 4), 1.0);
        let ndcg = (1.0 + 1.0 / 4f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!((ndcg_at_k(&l, &r, 4, false) - ndcg).abs() < 1e-12);
        assert!((ndcg - 0.91972).abs() < 1e-5);
        assert!((ap_at_k(&l, &r, 4) - 0.83333).abs() < 1e-5);
        // AUC with scores 4, 3, 2, 1 for A, B, C, D: A beats B, D; C beats D; C loses to B.
        assert_eq!(auc(&l, &[4.0, 3.0, 2.0, 1.0], &r), Some(0.75));
        // Ties count one half: a constant scorer gets exactly 0.5.
        assert_eq!(auc(&l, &[1.0; 4], &r), Some(0.5));
        // A ties B, C ties D: pairs (A,B) ½, (A,D) 1, (C,B) 0, (C,D) ½ → 0.5.
        assert_eq!(auc(&l, &[2.0, 2.0, 1.0, 1.0], &r), Some(0.5));
    }

    #[test]
    fn more_hand_computed_values() {
        // relevant = {D}, ranked [A, B, C, D]: a hit only at rank 4.
        let (r, l) = (rel(&[D]), [A, B, C, D]);
        assert_eq!(hit_rate_at_k(&l, &r, 3), 0.0);
        assert_eq!(mrr_at_k(&l, &r, 4), 0.25);
        assert!((ndcg_at_k(&l, &r, 4, false) - 1.0 / 5f64.log2()).abs() < 1e-12);
        assert_eq!(ap_at_k(&l, &r, 4), 0.25);
        assert_eq!(precision_at_k(&l, &r, 4), 0.25);
        // No hit in the top 3: NDCG is +0 (not −0, which reports print as "-0").
        assert!(ndcg_at_k(&l, &r, 3, false) == 0.0 && ndcg_at_k(&l, &r, 3, false).is_sign_positive());
        assert_eq!(auc(&l, &[4.0, 3.0, 2.0, 1.0], &r), Some(0.0));
        // Graded: relevant A (grade 1), C (grade 3); ranked [C, A]: DCG = 7/1 + 1/log2(3) = IDCG.
        let g: HashMap<u32, f32> = [(A, 1.0), (C, 3.0)].into_iter().collect();
        assert!((ndcg_at_k(&[C, A], &g, 2, true) - 1.0).abs() < 1e-12);
        // Ranked [A, C]: DCG = 1 + 7/log2(3); IDCG = 7 + 1/log2(3).
        let expect = (1.0 + 7.0 / 3f64.log2()) / (7.0 + 1.0 / 3f64.log2());
        assert!((ndcg_at_k(&[A, C], &g, 2, true) - expect).abs() < 1e-12);
        // A list shorter than k is scored as it is.
        assert_eq!(precision_at_k(&[A], &rel(&[A]), 10), 0.1);
        assert_eq!(recall_at_k(&[A], &rel(&[A, B]), 10), 0.5);
    }

    #[test]
    fn ties_go_in_the_fixed_pseudo_random_order() {
        use burnrec_data::tie_key;
        // SplitMix64's first output for seed 0 (Steele, Lea & Flood, OOPSLA 2014; Vigna's
        // reference `splitmix64.c`) is the key of item 0.
        assert_eq!(tie_key(0), 0xE220_A839_7B1D_CDAF);
        let by_key = |mut v: Vec<u32>| {
            v.sort_by_key(|&i| tie_key(i));
            v
        };
        // Scores first, NaN last; the two items tied at 3.0 in key order.
        let tied = by_key(vec![1, 2]);
        assert_eq!(rank_top_k(&[1.0, 3.0, 3.0, f32::NAN, 2.0], 5), vec![tied[0], tied[1], 4, 0, 3]);
        assert_eq!(rank_top_k(&[0.5; 6], 6), by_key((0..6).collect()));
        assert_eq!(top_k_among(&[0.5, 0.9, 0.9, 0.1], vec![3, 2, 1], 2), by_key(vec![1, 2]));
        assert_eq!(rank_candidates(&[7, 3, 5], &[1.0, 2.0, 1.0], 3), [vec![3], by_key(vec![7, 5])].concat());
        // A model scoring every item equally ranks no part of the catalogue first: the mean
        // index of its top 100 of 1000 is near 500 (not 49.5 as in index order), and it is the
        // same list every time.
        let constant = rank_top_k(&[0.0; 1000], 100);
        let mean = constant.iter().map(|&i| f64::from(i)).sum::<f64>() / 100.0;
        assert!((400.0..600.0).contains(&mean), "{mean}");
        assert_eq!(constant, rank_top_k(&[0.0; 1000], 100));
        assert_eq!(burnrec_data::top_k((0..1000).map(|i| (i, 0.0)).collect(), 100).into_iter().map(|p| p.0).collect::<Vec<_>>(), constant);
    }

    proptest! {
        #[test]
        fn metrics_are_in_unit_interval_and_perfect_is_one(
            scores in prop::collection::vec(-5.0f32..5.0, 1..40),
            rel_mask in prop::collection::vec(any::<bool>(), 40),
            k in 1usize..20,
        ) {
            let n = scores.len();
            let relevant: HashMap<u32, f32> = (0..n as u32).filter(|&i| rel_mask[i as usize]).map(|i| (i, 1.0 + (i % 3) as f32)).collect();
            let ranked = rank_top_k(&scores, k);
            for m in [
                precision_at_k(&ranked, &relevant, k), recall_at_k(&ranked, &relevant, k), hit_rate_at_k(&ranked, &relevant, k),
                mrr_at_k(&ranked, &relevant, k), ap_at_k(&ranked, &relevant, k), ndcg_at_k(&ranked, &relevant, k, false),
                ndcg_at_k(&ranked, &relevant, k, true),
            ] {
                prop_assert!((0.0..=1.0 + 1e-12).contains(&m), "{m}");
            }
            if !relevant.is_empty() {
                // A perfect ranking: relevant items first, by grade.
                let mut perfect: Vec<u32> = relevant.keys().copied().collect();
                perfect.sort_by(|a, b| relevant[b].total_cmp(&relevant[a]).then(a.cmp(b)));
                perfect.extend((0..n as u32).filter(|i| !relevant.contains_key(i)));
                prop_assert!((ndcg_at_k(&perfect, &relevant, k, true) - 1.0).abs() < 1e-9);
                prop_assert!((ndcg_at_k(&perfect, &relevant, k, false) - 1.0).abs() < 1e-9);
                prop_assert_eq!(hit_rate_at_k(&perfect, &relevant, k), 1.0);
                prop_assert_eq!(mrr_at_k(&perfect, &relevant, k), 1.0);
                prop_assert!((ap_at_k(&perfect, &relevant, k) - 1.0).abs() < 1e-9);
                if relevant.len() < n {
                    let perfect_scores: Vec<f32> = (0..n).map(|p| -(p as f32)).collect();
                    prop_assert_eq!(auc(&perfect, &perfect_scores, &relevant), Some(1.0));
                }
                if let Some(a) = auc(&(0..n as u32).collect::<Vec<_>>(), &scores, &relevant) {
                    prop_assert!((0.0..=1.0).contains(&a));
                }
            }
        }
    }
}
