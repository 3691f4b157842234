//! Item-based k-nearest-neighbour top-N recommendation (Sarwar, Karypis, Konstan & Riedl,
//! "Item-based Collaborative Filtering Recommendation Algorithms", WWW 2001), with the
//! weightings of implicit's `CosineRecommender`, `BM25Recommender` (Okapi BM25, Robertson et
//! al.) and plain `ItemItemRecommender` (benfred/implicit 0.7, `nearest_neighbours.py`).

use burnrec_data::csr::Csr;
use burnrec_data::{Feedback, Interactions, KnownSet, Prediction, RatingPredictor};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Fit;
use crate::als::{fill_popularity, interaction_rows, popularity};
use crate::error::{FitError, ParamError, ensure};

/// How interactions are weighted before item–item similarities are taken.
///
/// With `x_ui` the interaction value (1 when `binary`), `n_i = Σ_u x_ui`, and `W` the
/// weighted matrix, the similarity of items `i` and `j` is `Σ_u W_ui W_uj` (co-occurrence
/// through users).
///
/// In JSON and `--set`: `"cosine"`, `"none"`, or `{"bm25": {"k1": 1.2, "b": 0.75}}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKnnWeighting {
    /// Cosine similarity: `W_ui = x_ui / ‖x_·i‖₂` (implicit's `CosineRecommender`); the default.
    #[default]
    #[serde(alias = "Cosine")]
    Cosine,
    /// BM25 weighting of each item's column, users as terms (implicit's `bm25_weight` on the
    /// items × users matrix, `BM25Recommender`):
    /// `W_ui = x_ui (k1 + 1) / (k1 L_i + x_ui) · idf_u`, with
    /// `idf_u = ln N − ln(1 + |I_u|)` (`N` = catalogue size, `|I_u|` = the user's item count)
    /// and length norm `L_i = 1 − b + b n_i / mean(n)`, the mean over all `N` items.
    #[serde(alias = "Bm25")]
    Bm25 {
        /// Term-frequency saturation, `≥ 0` (implicit default 1.2).
        k1: f32,
        /// Length normalisation, in `[0, 1]` (implicit default 0.75).
        b: f32,
    },
    /// Raw co-occurrence: `W_ui = x_ui` (implicit's `ItemItemRecommender`).
    #[serde(alias = "None")]
    None,
}

impl ItemKnnWeighting {
    /// BM25 with implicit's `BM25Recommender` defaults, `k1 = 1.2`, `b = 0.75`.
    pub fn bm25() -> Self {
        Self::Bm25 { k1: 1.2, b: 0.75 }
    }
}

/// Parameters of [`ItemKnn`]. Defaults are implicit's `CosineRecommender` defaults.
///
/// Fitting computes, for every item `i`, its similarity `s_ij = Σ_u W_ui W_uj` to every item
/// `j` it co-occurs with (sparse, through the users of `i`; `i` itself included, as in
/// implicit) and keeps the `k` largest (equal values: the smaller item index). Scoring is
/// `score(u, i) = Σ_{j ∈ I_u} x_uj s_ji` over the user's training items `j`, with the
/// *unweighted* `x_uj` — implicit's `recommend` multiplies the raw user row by the similarity
/// matrix.
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `k` | 20 | neighbours kept per item (the item itself counts) | `≥ 1` |
/// | `weighting` | `Cosine` | [`ItemKnnWeighting`]: `Cosine`, `Bm25 { k1: 1.2, b: 0.75 }` or `None` | BM25: `k1 ≥ 0`, `b ∈ [0, 1]` |
/// | `binary` | true | every interaction counts as `x_ui = 1` (false: the stored value, which must be > 0) | |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ItemKnnParams {
    /// Neighbours kept per item.
    pub k: usize,
    /// Interaction weighting before similarities.
    pub weighting: ItemKnnWeighting,
    /// Treat every interaction as 1.
    pub binary: bool,
}

impl Default for ItemKnnParams {
    fn default() -> Self {
        Self { k: 20, weighting: ItemKnnWeighting::Cosine, binary: true }
    }
}

impl ItemKnnParams {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`ParamError`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), ParamError> {
        ensure(self.k >= 1, "k", self.k, ">= 1")?;
        if let ItemKnnWeighting::Bm25 { k1, b } = self.weighting {
            ensure(k1.is_finite() && k1 >= 0.0, "k1", k1, "finite and >= 0")?;
            ensure((0.0..=1.0).contains(&b), "b", b, "in [0, 1]")?;
        }
        Ok(())
    }
}

/// A fitted [`ItemKnnParams`]: the top-`k` similarity rows and the training interactions
/// they are applied to. Scores are unitless ([`Feedback::Implicit`]).
///
/// A user without training interactions (or outside the index space) is scored by item
/// popularity — the share of training users who interacted with the item, in `[0, 1]` — with
/// `known_user = false`; an item outside the index space scores 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemKnn {
    /// Neighbours kept per item.
    pub k: usize,
    /// `[n_items × n_items]`, at most `k` entries per row: row `j` holds `s_j·`.
    similarity: Csr,
    /// `[n_users × n_items]` training values `x_uj`.
    user_items: Csr,
    popularity: Vec<f32>,
    known: KnownSet,
}

impl ItemKnn {
    /// The stored neighbours of `item` as `(item indices, similarities)`, sorted by item index
    /// (empty for an item outside the space).
    pub fn neighbours(&self, item: u32) -> (&[u32], &[f32]) {
        (self.similarity.row(item as usize), self.similarity.row_values(item as usize))
    }

    /// `acc[i] += Σ_j x_j s_ji` over the `(item j, x_j)` pairs of one user (`acc`: `[n_items]`,
    /// not cleared) — the model's scoring rule, for a training row or a folded-in history.
    fn accumulate(&self, row: impl Iterator<Item = (u32, f32)>, acc: &mut [f32]) {
        for (j, x) in row {
            let (cols, vals) = self.neighbours(j);
            for (&c, &s) in cols.iter().zip(vals) {
                acc[c as usize] += x * s;
            }
        }
    }

    /// The stored similarity `s_ij`: 0 when `j` is not among `i`'s `k` neighbours.
    pub fn similarity(&self, i: u32, j: u32) -> f32 {
        self.similarity.get(i as usize, j).unwrap_or(0.0)
    }
}

impl Fit for ItemKnnParams {
    type Model = ItemKnn;

    /// Parallel over items (rayon); the result does not depend on the thread count.
    ///
    /// # Errors
    /// [`FitError::Param`] for a bad parameter; [`FitError::EmptyTrainSet`] for an empty
    /// `train`; [`FitError::Input`] if `binary` is false and a value is `<= 0`.
    fn fit(&self, train: &Interactions) -> Result<ItemKnn, FitError> {
        self.check()?;
        let (nu, ni) = (train.n_users(), train.n_items());
        let by_user = interaction_rows(train, self.binary)?;
        let by_item = by_user.transpose(ni);
        let weight = weights(&by_user, &by_item, self.weighting, ni);
        // The same weights in both layouts: w_item aligned with by_item, w_user with by_user.
        let w_item: Vec<f64> = (0..ni)
            .flat_map(|i| by_item.row(i).iter().zip(by_item.row_values(i)).map(move |(&u, &x)| (u as usize, i, x)))
            .map(|(u, i, x)| weight(u, i, x))
            .collect();
        let w_user: Vec<f64> = (0..nu)
            .flat_map(|u| by_user.row(u).iter().zip(by_user.row_values(u)).map(move |(&i, &x)| (u, i as usize, x)))
            .map(|(u, i, x)| weight(u, i, x))
            .collect();
        let k = self.k;
        let rows: Vec<(Vec<u32>, Vec<f32>)> = (0..ni)
            .into_par_iter()
            .map_init(
                || (vec![0f64; ni], vec![false; ni], Vec::<u32>::new()),
                |(acc, seen, touched), i| {
                    let span = by_item.offsets()[i]..by_item.offsets()[i + 1];
                    for (&u, &w1) in by_item.cols()[span.clone()].iter().zip(&w_item[span]) {
                        let span = by_user.offsets()[u as usize]..by_user.offsets()[u as usize + 1];
                        for (&j, &w2) in by_user.cols()[span.clone()].iter().zip(&w_user[span]) {
                            acc[j as usize] += w1 * w2;
                            if !seen[j as usize] {
                                seen[j as usize] = true;
                                touched.push(j);
                            }
                        }
                    }
                    let mut best: Vec<(u32, f64)> = touched.iter().map(|&j| (j, acc[j as usize])).collect();
                    for &j in touched.iter() {
                        acc[j as usize] = 0.0;
                        seen[j as usize] = false;
                    }
                    touched.clear();
                    let order = |a: &(u32, f64), b: &(u32, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
                    if best.len() > k {
                        best.select_nth_unstable_by(k, order);
                        best.truncate(k);
                    }
                    best.sort_unstable_by_key(|p| p.0);
                    best.into_iter().map(|(j, s)| (j, s as f32)).unzip()
                },
            )
            .collect();
        let similarity = Csr::from_rows(rows).expect("similarity rows are sorted by item index");
        let popularity = popularity(&by_user, ni);
        Ok(ItemKnn { k, similarity, user_items: by_user, popularity, known: KnownSet::from_train(train) })
    }
}

/// The weight `W_ui` of an interaction `(u, i, x_ui)` under `weighting`, in f64 as implicit.
fn weights(by_user: &Csr, by_item: &Csr, weighting: ItemKnnWeighting, ni: usize) -> impl Fn(usize, usize, f32) -> f64 + use<> {
    let col_sum = |f: &dyn Fn(f64) -> f64| -> Vec<f64> { (0..ni).map(|i| by_item.row_values(i).iter().map(|&x| f(f64::from(x))).sum()).collect() };
    let (scale, idf, k1) = match weighting {
        ItemKnnWeighting::None => (vec![], vec![], 0.0),
        ItemKnnWeighting::Cosine => (col_sum(&|x| x * x).into_iter().map(|s| 1.0 / s.sqrt()).collect(), vec![], 0.0),
        ItemKnnWeighting::Bm25 { k1, b } => {
            let (k1, b) = (f64::from(k1), f64::from(b));
            let n = ni as f64;
            let idf = (0..by_user.n_rows()).map(|u| n.ln() - (by_user.row(u).len() as f64).ln_1p()).collect();
            let sums = col_sum(&|x| x);
            let mean = sums.iter().sum::<f64>() / n;
            // `scale` holds k1 · L_i here.
            (sums.iter().map(|s| k1 * ((1.0 - b) + b * s / mean)).collect(), idf, k1)
        }
    };
    move |u, i, x| {
        let x = f64::from(x);
        match weighting {
            ItemKnnWeighting::None => x,
            ItemKnnWeighting::Cosine => x * scale[i],
            ItemKnnWeighting::Bm25 { .. } => x * (k1 + 1.0) / (scale[i] + x) * idf[u],
        }
    }
}

impl RatingPredictor for ItemKnn {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        pairs
            .iter()
            .map(|&(u, i)| {
                let (ku, ki) = (self.known.user(u), self.known.item(i));
                let rating = if ku {
                    let mut s = 0f32;
                    for (&j, &x) in self.user_items.row(u as usize).iter().zip(self.user_items.row_values(u as usize)) {
                        let (cols, vals) = self.neighbours(j);
                        if let Ok(p) = cols.binary_search(&i) {
                            s += x * vals[p];
                        }
                    }
                    s
                } else {
                    self.popularity.get(i as usize).copied().unwrap_or(0.0)
                };
                Prediction { rating, known_user: ku, known_item: ki }
            })
            .collect()
    }

    /// Sparse accumulation per user, parallel over users: `Σ_j x_uj s_j·` into a dense
    /// `[n_items]` row, then the requested items are read out.
    fn score_block(&self, users: &[u32], items: &[u32]) -> Vec<f32> {
        let mut out = vec![0f32; users.len() * items.len()];
        if items.is_empty() {
            return out;
        }
        let ni = self.popularity.len();
        out.par_chunks_mut(items.len()).zip(users.par_iter()).for_each_init(
            || vec![0f32; ni],
            |acc, (row, &u)| {
                if !self.known.user(u) {
                    fill_popularity(row, items, &self.popularity);
                    return;
                }
                let u = u as usize;
                self.accumulate(self.user_items.row(u).iter().copied().zip(self.user_items.row_values(u).iter().copied()), acc);
                for (o, &i) in row.iter_mut().zip(items) {
                    *o = acc.get(i as usize).copied().unwrap_or(0.0);
                }
                for &j in self.user_items.row(u) {
                    for &c in self.neighbours(j).0 {
                        acc[c as usize] = 0.0;
                    }
                }
            },
        );
        out
    }

    fn feedback(&self) -> Feedback {
        Feedback::Implicit
    }

    /// `Σ_{j ∈ history} s_ji` (every interaction counts 1), the model's own rule for a user's
    /// items.
    fn history_scores(&self, history: &[u32]) -> Option<Vec<f32>> {
        let mut out = vec![0f32; self.popularity.len()];
        let mut seen = history.to_vec();
        seen.sort_unstable();
        seen.dedup();
        let n = out.len();
        self.accumulate(seen.into_iter().filter(|&j| (j as usize) < n).map(|j| (j, 1.0)), &mut out);
        Some(out)
    }

    fn item_neighbours(&self, item: u32) -> Option<Vec<(u32, f32)>> {
        if item as usize >= self.popularity.len() {
            return Some(Vec::new());
        }
        let (cols, vals) = self.neighbours(item);
        Some(cols.iter().copied().zip(vals.iter().copied()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::als::tests::{assert_history_scores_equal_the_users, cells, two_blocks};
    use burnrec_data::Rating;

    /// u0: {0, 1}; u1: {0, 1, 2}; u2: {1, 3}.
    fn small() -> Interactions {
        cells(&[(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 1), (2, 3)], 3, 4)
    }

    /// A history equal to a training user's items scores every item exactly as that user.
    #[test]
    fn history_scores_equal_the_training_users_scores() {
        let data = small();
        assert_history_scores_equal_the_users(&ItemKnnParams::default().fit(&data).unwrap(), &data);
    }

    fn close(a: f32, b: f64) -> bool {
        (f64::from(a) - b).abs() < 1e-6
    }

    #[test]
    fn cosine_similarities_by_hand() {
        // Item users: 0 → {u0, u1}, 1 → {u0, u1, u2}, 2 → {u1}, 3 → {u2}.
        // cos(i, j) = |U_i ∩ U_j| / sqrt(|U_i| |U_j|):
        // cos(0,1) = 2/√6, cos(0,2) = 1/√2, cos(1,2) = cos(1,3) = 1/√3, cos(i,i) = 1.
        let m = ItemKnnParams::default().fit(&small()).unwrap();
        assert!(close(m.similarity(0, 1), 2.0 / 6f64.sqrt()) && close(m.similarity(1, 0), 2.0 / 6f64.sqrt()));
        assert!(close(m.similarity(0, 2), 1.0 / 2f64.sqrt()));
        assert!(close(m.similarity(1, 2), 1.0 / 3f64.sqrt()) && close(m.similarity(3, 1), 1.0 / 3f64.sqrt()));
        assert!(close(m.similarity(2, 2), 1.0));
        assert_eq!(m.similarity(0, 3), 0.0, "items 0 and 3 share no user");
        assert_eq!(m.neighbours(1).0, &[0, 1, 2, 3]);
        // score(u2, i) = s_1i + s_3i: item 0 → 2/√6 + 0; item 2 → 1/√3 + 0.
        let s = m.score_block(&[2], &[0, 2]);
        assert!(close(s[0], 2.0 / 6f64.sqrt()) && close(s[1], 1.0 / 3f64.sqrt()), "{s:?}");
        // score(u0, 3) = s_03 + s_13 = 0 + 1/√3.
        assert!(close(m.predict(0, 3).rating, 1.0 / 3f64.sqrt()));
    }

    #[test]
    fn only_the_top_k_neighbours_are_kept() {
        // k = 2: row 1 = {1: 1, 0: 2/√6, 2: 1/√3, 3: 1/√3} keeps {0, 1}; row 3 = {3: 1, 1: 1/√3}.
        let m = ItemKnnParams { k: 2, ..Default::default() }.fit(&small()).unwrap();
        assert_eq!(m.neighbours(1).0, &[0, 1]);
        assert_eq!(m.neighbours(3).0, &[1, 3]);
        // score(u2, 2) = s_12 + s_32 = 0 now; score(u2, 0) = s_10 = 2/√6.
        let s = m.score_block(&[2], &[0, 2]);
        assert!(close(s[0], 2.0 / 6f64.sqrt()) && s[1] == 0.0, "{s:?}");
        // k = 3: items 2 and 3 tie at 1/√3 in row 1; the smaller index wins.
        let m = ItemKnnParams { k: 3, ..Default::default() }.fit(&small()).unwrap();
        assert_eq!(m.neighbours(1).0, &[0, 1, 2]);
    }

    #[test]
    fn bm25_similarities_by_hand() {
        // As items × users (implicit's bm25_weight on counts.T): N = 4 items; user item counts
        // |I_u0| = 2, |I_u1| = 3, |I_u2| = 2 → idf = ln 4 − ln 3, ln 4 − ln 4 = 0, ln 4 − ln 3.
        // Item totals n = (2, 3, 1, 1), mean 7/4, L_i = 0.25 + 0.75 n_i / 1.75.
        // W_ui = 2.2 / (1.2 L_i + 1) · idf_u = a_i idf_u, so s_ij = Σ_{u∈U_i∩U_j} idf_u² a_i a_j.
        let m = ItemKnnParams { weighting: ItemKnnWeighting::bm25(), ..Default::default() }.fit(&small()).unwrap();
        let idf = 4f64.ln() - 3f64.ln();
        let a = |n: f64| 2.2 / (1.2 * (0.25 + 0.75 * n / 1.75) + 1.0);
        // s_01 = idf(u0)² a_0 a_1 (u1 shares both but has idf 0) = 0.0827610 · 0.944785 · 0.773869
        let s01 = idf * idf * a(2.0) * a(3.0);
        assert!((s01 - 0.060_510).abs() < 1e-5);
        assert!(close(m.similarity(0, 1), s01) && close(m.similarity(1, 0), s01));
        // s_02: only u1 links items 0 and 2, and idf(u1) = 0.
        assert_eq!(m.similarity(0, 2), 0.0);
        assert!(close(m.similarity(1, 3), idf * idf * a(3.0) * a(1.0)));
        assert!(close(m.similarity(1, 1), 2.0 * idf * idf * a(3.0) * a(3.0)));
        // Raw co-occurrence: s_01 = 2, s_11 = 3.
        let m = ItemKnnParams { weighting: ItemKnnWeighting::None, ..Default::default() }.fit(&small()).unwrap();
        assert_eq!((m.similarity(0, 1), m.similarity(1, 1), m.similarity(2, 3)), (2.0, 3.0, 0.0));
    }

    #[test]
    fn values_weight_the_scores_when_not_binary() {
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        let d = Interactions::new(vec![r(0, 0, 2.0), r(0, 1, 1.0), r(1, 1, 3.0)], 2, 2).unwrap();
        let m = ItemKnnParams { weighting: ItemKnnWeighting::None, binary: false, ..Default::default() }.fit(&d).unwrap();
        // s_01 = 2·1 = 2, s_11 = 1 + 9 = 10; score(u0, 1) = x_00 s_01 + x_01 s_11 = 2·2 + 1·10.
        assert_eq!((m.similarity(0, 1), m.similarity(1, 1)), (2.0, 10.0));
        assert_eq!(m.predict(0, 1).rating, 14.0);
    }

    #[test]
    fn planted_blocks_and_unknown_users() {
        let data = two_blocks(20, 10);
        let m = ItemKnnParams { k: 5, ..Default::default() }.fit(&data).unwrap();
        // User 3 holds out item 3 of block 0..5; the other block scores 0.
        let s = m.score_block(&[3], &[3, 5, 6, 7, 8, 9]);
        assert!(s[0] > 0.5 && s[1..].iter().all(|&v| v == 0.0), "{s:?}");
        let sparse = cells(&[(0, 0), (0, 1), (1, 1)], 3, 3);
        let m = ItemKnnParams::default().fit(&sparse).unwrap();
        assert_eq!(m.score_block(&[2, 5], &[0, 1, 2, 9]), vec![0.5, 1.0, 0.0, 0.0, 0.5, 1.0, 0.0, 0.0]);
        let p = m.predict(2, 1);
        assert!(!p.known_user && p.rating == 1.0);
        assert_eq!(m.feedback(), Feedback::Implicit);
    }

    #[test]
    fn score_block_matches_predict_batch_and_thread_count() {
        let data = two_blocks(16, 12);
        let p = ItemKnnParams { k: 4, weighting: ItemKnnWeighting::bm25(), ..Default::default() };
        let run = |threads| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| p.fit(&data).unwrap());
        let m = run(1);
        assert_eq!(m, run(2));
        let (users, items) = ([0u32, 5, 15, 30], [0u32, 3, 7, 11, 40]);
        let pairs: Vec<(u32, u32)> = users.iter().flat_map(|&u| items.iter().map(move |&i| (u, i))).collect();
        let single: Vec<f32> = m.predict_batch(&pairs).iter().map(|p| p.rating).collect();
        assert_eq!(m.score_block(&users, &items), single);
    }

    #[test]
    fn serde_round_trip_predicts_identically() {
        let m = ItemKnnParams { k: 2, weighting: ItemKnnWeighting::bm25(), ..Default::default() }.fit(&small()).unwrap();
        let back: ItemKnn = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert_eq!(m.score_block(&[0, 1, 2, 3], &[0, 1, 2, 3]), back.score_block(&[0, 1, 2, 3], &[0, 1, 2, 3]));
        let p: ItemKnnParams = serde_json::from_str(r#"{"k": 50, "weighting": {"bm25": {"k1": 1.2, "b": 0.75}}}"#).unwrap();
        assert_eq!(p, ItemKnnParams { k: 50, weighting: ItemKnnWeighting::bm25(), binary: true });
        let p: ItemKnnParams = serde_json::from_str(r#"{"weighting": "none"}"#).unwrap();
        assert_eq!(p.weighting, ItemKnnWeighting::None);
    }

    #[test]
    fn bad_params_are_errors() {
        let e = ItemKnnParams { k: 0, ..Default::default() }.check().unwrap_err();
        assert_eq!(e.to_string(), "invalid parameter `k` = 0: expected >= 1");
        let e = ItemKnnParams { weighting: ItemKnnWeighting::Bm25 { k1: 1.2, b: 1.5 }, ..Default::default() }.check().unwrap_err();
        assert_eq!(e.to_string(), "invalid parameter `b` = 1.5: expected in [0, 1]");
        let empty = Interactions::new(vec![], 2, 2).unwrap();
        assert!(matches!(ItemKnnParams::default().fit(&empty), Err(FitError::EmptyTrainSet)));
    }
}
