//! Content-based recommendation from item side features.
//!
//! - [`ContentKnn`]: item-based KNN where item–item similarity comes from the items' side
//!   features (genres, tags, …) rather than from co-ratings — the content-based recommender of
//!   Lops, de Gemmis & Semeraro ("Content-based Recommender Systems: State of the Art and
//!   Trends", Recommender Systems Handbook, 2011), with TF-IDF weighting of the features
//!   (Salton & Buckley, "Term-weighting approaches in automatic text retrieval", 1988). It can
//!   recommend an item nobody has rated yet: such an item still has content neighbours.
//!
//! Blending it with collaborative filtering is [`crate::hybrid`].

use burnrec_data::csr::Csr;
use burnrec_data::{FeatureTable, Feedback, Interactions, KnownSet, Prediction, RatingPredictor};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{FitError, ParamError, ensure};
use crate::util::top_k_row;

/// Parameters of [`ContentKnn`].
///
/// Each item is a TF-IDF vector over its features: weight `idf_f = ln(N / df_f)` for every
/// feature `f` it has (features are multi-hot, so TF is 1), `N` the number of items with at
/// least one feature, `df_f` how many have `f`; the vector is L2-normalised. `sim(i, j)` is
/// the cosine of the two vectors. Each item keeps its `k` most similar items (sparse).
/// The score of item `i` for user `u` is `Σ_{j ∈ N_k(i) ∩ I_u} sim(i, j)` — how much of
/// what `u` interacted with resembles `i`.
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `k` | 50 | neighbours kept per item | `≥ 1` |
/// | `idf` | true | weight features by IDF (false: plain multi-hot cosine) | |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentKnnParams {
    /// Neighbours kept per item.
    pub k: usize,
    /// IDF weighting of features.
    pub idf: bool,
}

impl Default for ContentKnnParams {
    fn default() -> Self {
        Self { k: 50, idf: true }
    }
}

impl ContentKnnParams {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`ParamError`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), ParamError> {
        ensure(self.k >= 1, "k", self.k, ">= 1")
    }

    /// Fits on `train` with item side features `features` (rows indexed like the items).
    ///
    /// # Errors
    /// [`FitError::Param`]; [`FitError::EmptyTrainSet`]; [`FitError::Input`] if `features`
    /// has fewer rows than `train` has items or no features at all.
    pub fn fit(&self, train: &Interactions, features: &FeatureTable) -> Result<ContentKnn, FitError> {
        self.check()?;
        if train.is_empty() {
            return Err(FitError::EmptyTrainSet);
        }
        let ni = train.n_items();
        if features.n_rows() < ni || features.n_features() == 0 {
            return Err(FitError::Input(format!(
                "content-based KNN needs item features for all {ni} items (got {} rows, {} features): \
                 load a dataset with genres or tags (ML-100K u.item, ML-latest movies.csv/tags.csv)",
                features.n_rows(),
                features.n_features()
            )));
        }
        let nf = features.n_features();
        let mut df = vec![0u32; nf];
        let mut with_features = 0usize;
        for i in 0..ni {
            let row = features.row(i);
            with_features += usize::from(!row.is_empty());
            for &f in row {
                df[f as usize] += 1;
            }
        }
        let weight: Vec<f32> = df
            .iter()
            .map(|&d| {
                if !self.idf {
                    1.0
                } else if d == 0 {
                    0.0
                } else {
                    (with_features as f32 / d as f32).ln()
                }
            })
            .collect();
        let norm: Vec<f32> = (0..ni).map(|i| features.row(i).iter().map(|&f| weight[f as usize].powi(2)).sum::<f32>().sqrt()).collect();
        // Items by feature, to reach the items sharing at least one feature.
        let mut by_feature = vec![Vec::new(); nf];
        for i in 0..ni {
            for &f in features.row(i) {
                by_feature[f as usize].push(i as u32);
            }
        }
        let k = self.k;
        let rows: Vec<(Vec<u32>, Vec<f32>)> = (0..ni)
            .into_par_iter()
            .map_init(
                || vec![0f32; ni],
                |acc, i| {
                    if norm[i] == 0.0 {
                        return (Vec::new(), Vec::new());
                    }
                    let mut touched = Vec::new();
                    for &f in features.row(i) {
                        let w2 = weight[f as usize] * weight[f as usize];
                        for &j in &by_feature[f as usize] {
                            if j as usize != i {
                                if acc[j as usize] == 0.0 {
                                    touched.push(j);
                                }
                                acc[j as usize] += w2;
                            }
                        }
                    }
                    let nb: Vec<(u32, f32)> = touched
                        .iter()
                        .map(|&j| {
                            let s = acc[j as usize] / (norm[i] * norm[j as usize]);
                            acc[j as usize] = 0.0;
                            (j, s)
                        })
                        .filter(|&(_, s)| s > 0.0)
                        .collect();
                    top_k_row(nb, k)
                },
            )
            .collect();
        let neighbours = Csr::from_rows(rows).expect("neighbour rows are sorted by item index");
        Ok(ContentKnn { neighbours, user_items: Csr::by_user(train), known: KnownSet::from_train(train) })
    }
}

/// A fitted [`ContentKnnParams`]; scores are unitless ([`Feedback::Implicit`]).
///
/// # Shapes
/// `neighbours`: `[n_items × n_items]`, row `i` holds item `i`'s kept neighbours (sorted by
/// index) and their content cosines. `user_items`: the training interactions by user
/// (`user_items.row(u)`: the items `u` interacted with, sorted).
///
/// Files written before the one sparse-row type (`offsets`, `neighbours`, `sims`, rows most
/// similar first) still load. Since then a score sums its cosines in index order rather than
/// most-similar-first, which can change a score in its last bits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ContentKnnFile")]
pub struct ContentKnn {
    /// Item `i`'s content neighbours and cosines, row `i`.
    pub neighbours: Csr,
    /// Training interactions by user.
    pub user_items: Csr,
    known: KnownSet,
}

/// The two shapes of a saved [`ContentKnn`].
#[derive(Deserialize)]
#[serde(untagged)]
enum ContentKnnFile {
    Current { neighbours: Csr, user_items: Csr, known: KnownSet },
    Legacy { offsets: Vec<u32>, neighbours: Vec<u32>, sims: Vec<f32>, user_items: Csr, known: KnownSet },
}

impl TryFrom<ContentKnnFile> for ContentKnn {
    type Error = String;

    fn try_from(f: ContentKnnFile) -> Result<Self, String> {
        match f {
            ContentKnnFile::Current { neighbours, user_items, known } => Ok(Self { neighbours, user_items, known }),
            ContentKnnFile::Legacy { offsets, neighbours, sims, user_items, known } => {
                let bad = || format!("content neighbours: offsets must increase from 0 to {} with one cosine per neighbour", neighbours.len());
                if offsets.first() != Some(&0)
                    || offsets.windows(2).any(|w| w[0] > w[1])
                    || offsets.last().map(|&o| o as usize) != Some(neighbours.len())
                    || sims.len() != neighbours.len()
                {
                    return Err(bad());
                }
                let rows = offsets.windows(2).map(|w| {
                    let r = w[0] as usize..w[1] as usize;
                    let mut row: Vec<(u32, f32)> = neighbours[r.clone()].iter().copied().zip(sims[r].iter().copied()).collect();
                    row.sort_unstable_by_key(|p| p.0);
                    row.into_iter().unzip()
                });
                let neighbours = Csr::from_rows(rows).map_err(|e| format!("content neighbours: {e}"))?;
                Ok(Self { neighbours, user_items, known })
            }
        }
    }
}

impl ContentKnn {
    /// A model from its neighbourhoods (`[n_items × n_items]`, rows sorted by index), the
    /// training interactions by user and the known users and items — how other similarity
    /// sources (text embeddings, [`crate::text_knn`]) share this scoring rule.
    pub fn from_parts(neighbours: Csr, user_items: Csr, known: KnownSet) -> Self {
        Self { neighbours, user_items, known }
    }

    /// The stored neighbours of `item` as `(item, cosine)`, most similar first (empty for an
    /// item without features or out of range) — "more like this", also for unrated items.
    pub fn similar(&self, item: u32) -> Vec<(u32, f32)> {
        let (cols, sims) = self.neighbours.entries(item as usize);
        let mut out: Vec<(u32, f32)> = cols.iter().copied().zip(sims.iter().copied()).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// The score, for training user `user`, of an item outside the model given by its
    /// neighbour row `row` (`(item, cosine)` by item index, e.g.
    /// [`crate::text_knn::neighbours_of`]): the sum of the cosines of the row's items the user
    /// has — the rule every stored item is scored by (0 for a user outside the model).
    pub fn score_new_item(&self, user: u32, row: &[(u32, f32)]) -> f32 {
        let seen = if (user as usize) < self.user_items.n_rows() { self.user_items.row(user as usize) } else { &[] };
        // `+ 0.0`: an empty sum is −0.0, printed "-0.0000".
        row.iter().filter(|(j, _)| seen.binary_search(j).is_ok()).map(|(_, s)| s).sum::<f32>() + 0.0
    }

    /// The number of neighbours the fit kept per item: its longest stored row (the `k` of the
    /// params whenever one item had `k` neighbours with a positive similarity).
    pub fn neighbourhood_size(&self) -> usize {
        (0..self.neighbours.n_rows()).map(|i| self.neighbours.row(i).len()).max().unwrap_or(0)
    }

    /// The one scoring rule: the sum, in index order, of the cosines of `item`'s stored
    /// neighbours `j` for which `has(j)` (the user has them).
    fn rule(&self, item: u32, has: impl Fn(u32) -> bool) -> f32 {
        let (cols, sims) = self.neighbours.entries(item as usize);
        cols.iter().zip(sims).filter(|&(&j, _)| has(j)).map(|(_, s)| s).sum()
    }

    fn score(&self, user: u32, item: u32) -> f32 {
        let seen = self.user_items.row(user as usize);
        self.rule(item, |j| seen.binary_search(&j).is_ok())
    }

    /// The scores of `items` for a user whose items are flagged in `has` (`[n_items]`).
    fn scores_into(&self, has: &[bool], items: &[u32], out: &mut [f32]) {
        for (o, &i) in out.iter_mut().zip(items) {
            *o = self.rule(i, |j| has[j as usize]);
        }
    }
}

impl RatingPredictor for ContentKnn {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        pairs.par_iter().map(|&(u, i)| Prediction { rating: self.score(u, i), known_user: self.known.user(u), known_item: self.known.item(i) }).collect()
    }

    fn score_block(&self, users: &[u32], items: &[u32]) -> Vec<f32> {
        let mut out = vec![0f32; users.len() * items.len()];
        let n_items = self.neighbours.n_rows();
        out.par_chunks_mut(items.len().max(1)).zip(users.par_iter()).for_each_init(
            || vec![false; n_items],
            |seen, (row, &u)| {
                let mine = self.user_items.row(u as usize);
                for &j in mine {
                    seen[j as usize] = true;
                }
                self.scores_into(seen, items, row);
                for &j in mine {
                    seen[j as usize] = false;
                }
            },
        );
        out
    }

    /// A new user's scores, `[n_items]` (unitless sums of cosines), from the items of
    /// `history` (duplicates count once, indices outside the catalogue are ignored): the
    /// training users' rule, so a history equal to a user's
    /// items gives that user's scores — content-based recommendations for a user with a few
    /// items and no training row.
    fn history_scores(&self, history: &[u32]) -> Option<Vec<f32>> {
        let n_items = self.neighbours.n_rows();
        let mut has = vec![false; n_items];
        for &j in history {
            if let Some(h) = has.get_mut(j as usize) {
                *h = true;
            }
        }
        let items: Vec<u32> = (0..n_items as u32).collect();
        let mut out = vec![0f32; n_items];
        self.scores_into(&has, &items, &mut out);
        Some(out)
    }

    /// The stored content neighbours of `item` ("more like this", also for unrated items).
    fn item_neighbours(&self, item: u32) -> Option<Vec<(u32, f32)>> {
        Some(self.similar(item))
    }

    fn feedback(&self) -> Feedback {
        Feedback::Implicit
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use burnrec_data::Rating;
    use burnrec_data::features::FeatureBuilder;

    /// Items: 0 = {Comedy}, 1 = {Comedy, Drama}, 2 = {Drama}, 3 = {Horror}, 4 = {Comedy}
    /// (item 4 is never rated). Users: 0 rated item 0; 1 rated items 2 and 3.
    pub(crate) fn setup() -> (Interactions, FeatureTable) {
        let mut b = FeatureBuilder::new(5);
        for (i, g) in [(0, "Comedy"), (1, "Comedy"), (1, "Drama"), (2, "Drama"), (3, "Horror"), (4, "Comedy")] {
            b.set(i, "genre", g);
        }
        let r = |user, item| Rating { user, item, rating: 4.0, timestamp: None };
        (Interactions::new(vec![r(0, 0), r(1, 2), r(1, 3)], 2, 5).unwrap(), b.build())
    }

    #[test]
    fn tf_idf_cosines_by_hand() {
        let (train, feats) = setup();
        let m = ContentKnnParams::default().fit(&train, &feats).unwrap();
        // N = 5 items with features; df: Comedy 3, Drama 2, Horror 1.
        // idf: Comedy ln(5/3) = 0.5108, Drama ln(5/2) = 0.9163.
        // cos(0, 1) = 0.5108² / (0.5108 · √(0.5108² + 0.9163²)) = 0.5108 / 1.0491 = 0.4869.
        // cos(0, 4) = 1 (same single genre); cos(1, 2) = 0.9163 / 1.0491 = 0.8734.
        let s0 = m.similar(0);
        assert_eq!(s0[0].0, 4);
        assert!((s0[0].1 - 1.0).abs() < 1e-6);
        assert_eq!(s0[1].0, 1);
        assert!((s0[1].1 - 0.4869).abs() < 1e-4, "{s0:?}");
        assert!(m.similar(3).is_empty()); // Horror is shared with nobody
        let s1 = m.similar(1);
        assert_eq!(s1[0].0, 2);
        assert!((s1[0].1 - 0.8734).abs() < 1e-4, "{s1:?}");
    }

    #[test]
    fn legacy_neighbour_lists_still_load() {
        // Files before the one sparse-row type: `offsets`, `neighbours`, `sims`, most similar first.
        let (train, feats) = setup();
        let m = ContentKnnParams::default().fit(&train, &feats).unwrap();
        let mut v = serde_json::to_value(&m).unwrap();
        let (mut offsets, mut nb, mut sims) = (vec![0u32], Vec::new(), Vec::new());
        for i in 0..5 {
            for (j, s) in m.similar(i) {
                nb.push(j);
                sims.push(s);
            }
            offsets.push(nb.len() as u32);
        }
        let o = v.as_object_mut().unwrap();
        o.insert("offsets".into(), offsets.into());
        o.insert("neighbours".into(), nb.into());
        o.insert("sims".into(), sims.into());
        assert_eq!(serde_json::from_value::<ContentKnn>(v.clone()).unwrap(), m);
        v["offsets"][5] = 99.into();
        let e = serde_json::from_value::<ContentKnn>(v).unwrap_err().to_string();
        assert!(e.contains("offsets must increase"), "{e}");
    }

    #[test]
    fn recommends_an_item_nobody_rated() {
        let (train, feats) = setup();
        let m = ContentKnnParams::default().fit(&train, &feats).unwrap();
        // User 0 liked item 0 (Comedy): unrated item 4 (Comedy) scores cos(4, 0) = 1, above
        // item 1 (0.4869) and items 2, 3 (0).
        let rec = m.recommend(0, &[1, 2, 3, 4], 4);
        assert_eq!(rec[0].0, 4);
        assert!((rec[0].1 - 1.0).abs() < 1e-6);
        assert_eq!(rec[1].0, 1);
        assert!(!m.predict(0, 4).known_item);
        let block = m.score_block(&[0, 1], &[1, 4]);
        let single: Vec<f32> = [(0, 1), (0, 4), (1, 1), (1, 4)].iter().map(|&(u, i)| m.predict(u, i).rating).collect();
        assert_eq!(block, single);
        let back: ContentKnn = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back.score_block(&[0, 1], &[0, 1, 2, 3, 4]), m.score_block(&[0, 1], &[0, 1, 2, 3, 4]));
    }

    #[test]
    fn histories_and_neighbours_for_serving() {
        let (train, feats) = setup();
        let m = ContentKnnParams::default().fit(&train, &feats).unwrap();
        crate::als::tests::assert_history_scores_equal_the_users(&m, &train);
        // A new user who liked item 1 (Comedy, Drama): item 2 (Drama) scores cos(1, 2) = 0.8734,
        // items 0 and 4 (Comedy) 0.4869 each, item 3 nothing.
        let s = m.history_scores(&[1]).unwrap();
        assert!((s[2] - 0.8734).abs() < 1e-4 && (s[0] - 0.4869).abs() < 1e-4 && (s[4] - 0.4869).abs() < 1e-4 && s[3] == 0.0, "{s:?}");
        assert_eq!(m.item_neighbours(0), Some(m.similar(0)));
    }

    #[test]
    fn missing_features_are_a_clear_error() {
        let (train, _) = setup();
        let few = FeatureBuilder::new(2).build();
        let e = ContentKnnParams::default().fit(&train, &few).unwrap_err().to_string();
        assert!(e.contains("needs item features for all 5 items"), "{e}");
    }
}
