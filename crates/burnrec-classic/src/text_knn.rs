//! Item KNN over text embeddings: the content-based recommender of [`crate::content`] with
//! item–item similarity taken from dense item vectors — the sentence embeddings of each item's
//! text (title, genres, tags) by a pretrained language model (Reimers & Gurevych,
//! "Sentence-BERT", EMNLP 2019; all-MiniLM-L6-v2 by default) — instead of genre/tag TF-IDF.
//! Two items about the same thing are neighbours even if no user has interacted with both, and
//! an item nobody has rated yet still has neighbours, so it can be recommended.
//!
//! The fitted form is a [`ContentKnn`] (one scoring rule, one way of serving `similar` and
//! fold-in): `sim(i, j) = cos(e_i, e_j)`, each item keeping its `k` most similar items with a
//! positive cosine; the score of `i` for a user is the sum of the cosines of `i`'s kept
//! neighbours that the user has.

use burnrec_data::csr::Csr;
use burnrec_data::text::ItemEmbeddings;
use burnrec_data::{Interactions, KnownSet};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::content::ContentKnn;
use crate::error::{FitError, ParamError, ensure};
use crate::util::top_k_row;

/// Parameters of text-embedding item KNN (see the [module docs](self)).
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `k` | 50 | neighbours kept per item | `≥ 1` |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextKnnParams {
    /// Neighbours kept per item.
    pub k: usize,
}

impl Default for TextKnnParams {
    fn default() -> Self {
        Self { k: 50 }
    }
}

/// Items per block of the similarity product (`[block × n_items]` f32 at a time).
const BLOCK: usize = 256;

impl TextKnnParams {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`ParamError`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), ParamError> {
        ensure(self.k >= 1, "k", self.k, ">= 1")
    }

    /// Fits on `train` with item vectors `embeddings` (rows indexed like the items; rows past
    /// `train`'s items are items without interactions yet, which get neighbours too). Rows are
    /// L2-normalised here; an all-zero row has no neighbours. Cosines are computed exactly, in
    /// blocks of items, O(n² d) time and O(block · n) memory.
    ///
    /// # Errors
    /// [`FitError::Param`]; [`FitError::EmptyTrainSet`]; [`FitError::Input`] if `embeddings`
    /// has fewer rows than `train` has items.
    pub fn fit(&self, train: &Interactions, embeddings: &ItemEmbeddings) -> Result<ContentKnn, FitError> {
        self.check()?;
        if train.is_empty() {
            return Err(FitError::EmptyTrainSet);
        }
        let (n, d) = (embeddings.n_rows(), embeddings.dim());
        if n < train.n_items() {
            return Err(FitError::Input(format!("text KNN needs an embedding for each of the {} items, got {n} rows", train.n_items())));
        }
        let mut unit = embeddings.values().to_vec();
        for row in unit.chunks_exact_mut(d) {
            let norm = row.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
            if norm > 0.0 {
                row.iter_mut().for_each(|x| *x = (f64::from(*x) / norm) as f32);
            }
        }
        // Row-major `[n, d]` is column-major `Eᵀ` `[d, n]`.
        let et = MatRef::from_column_major_slice(&unit, d, n);
        let k = self.k;
        let rows: Vec<(Vec<u32>, Vec<f32>)> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .flat_map_iter(|b| {
                let (i0, m) = (b * BLOCK, BLOCK.min(n - b * BLOCK));
                // Column c: the cosines of item i0 + c with every item.
                let mut s = Mat::<f32>::zeros(n, m);
                matmul(s.as_mut(), Accum::Replace, et.transpose(), et.subcols(i0, m), 1.0, Par::Seq);
                (0..m).map(move |c| {
                    let col = s.col(c);
                    top_k_row((0..n).filter(|&j| j != i0 + c).map(|j| (j as u32, col[j])).filter(|&(_, v)| v > 0.0).collect(), k)
                })
            })
            .collect();
        let neighbours = Csr::from_rows(rows).expect("neighbour rows are sorted by item index");
        Ok(ContentKnn::from_parts(neighbours, Csr::by_user(train), KnownSet::from_train(train)))
    }
}

/// The neighbour row [`TextKnnParams::fit`] keeps for an item, computed for an item outside
/// the model known only by its vector `query` (`[d]`, e.g. the encoder's embedding of a new
/// film's text): its `k` most similar rows of `embeddings` with a positive cosine, as
/// `(item, cosine)` by item index. With [`ContentKnn::score_new_item`] the new item is scored
/// for users by the model's own rule.
///
/// # Errors
/// [`FitError::Input`] if `query` is not `d` wide or is all zeros.
pub fn neighbours_of(query: &[f32], embeddings: &ItemEmbeddings, k: usize) -> Result<Vec<(u32, f32)>, FitError> {
    let d = embeddings.dim();
    if query.len() != d {
        return Err(FitError::Input(format!("a query vector of width {}, expected {d} (the width of the item embeddings)", query.len())));
    }
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let qn = norm(query);
    if qn == 0.0 {
        return Err(FitError::Input("the query vector is all zeros: it has no cosine with any item".into()));
    }
    let sims: Vec<(u32, f32)> = embeddings
        .values()
        .chunks_exact(d)
        .enumerate()
        .filter_map(|(j, row)| {
            let rn = norm(row);
            let dot: f64 = row.iter().zip(query).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
            (rn > 0.0).then(|| (j as u32, (dot / (rn * qn)) as f32))
        })
        .filter(|&(_, c)| c > 0.0)
        .collect();
    let (cols, vals) = top_k_row(sims, k);
    Ok(cols.into_iter().zip(vals).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnrec_data::{Rating, RatingPredictor};

    /// Items 0..4 in 2-d: 0 = (1, 0), 1 = (1, 1), 2 = (0, 1), 3 = (−1, 0), 4 = (2, 0.1) (unrated).
    fn setup() -> (Interactions, ItemEmbeddings) {
        let e = ItemEmbeddings::new(vec![1.0, 0.0, 1.0, 1.0, 0.0, 1.0, -1.0, 0.0, 2.0, 0.1], 2).unwrap();
        let r = |user, item| Rating { user, item, rating: 1.0, timestamp: None };
        (Interactions::new(vec![r(0, 0), r(1, 2), r(1, 3)], 2, 4).unwrap(), e)
    }

    #[test]
    fn cosines_by_hand() {
        let (train, e) = setup();
        let m = TextKnnParams::default().fit(&train, &e).unwrap();
        // cos(0,4) = 2/√4.01 = 0.99875; cos(0,1) = 1/√2 = 0.70711; cos(0,2) = 0; cos(0,3) = −1.
        let s0 = m.similar(0);
        assert_eq!(s0.iter().map(|p| p.0).collect::<Vec<_>>(), vec![4, 1]);
        assert!((s0[0].1 - 0.998_752).abs() < 1e-5 && (s0[1].1 - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6, "{s0:?}");
        // Item 3 points away from everything: no positive cosine.
        assert!(m.similar(3).is_empty());
        // cos(1,4) = (2 + 0.1)/(√2 · √4.01) = 0.74154 > cos(1,0) = cos(1,2) = 0.70711.
        assert_eq!(m.similar(1)[0].0, 4);
        assert!((m.similar(1)[0].1 - 0.741_535).abs() < 1e-5);
        // The unrated item 4 is recommended to user 0 (who has item 0): score cos(4, 0).
        let rec = m.recommend(0, &[1, 2, 3, 4], 2);
        assert_eq!(rec[0].0, 4);
        assert!((rec[0].1 - 0.998_752).abs() < 1e-5);
        // k = 1 keeps only the nearest.
        let one = TextKnnParams { k: 1 }.fit(&train, &e).unwrap();
        assert_eq!(one.similar(0).len(), 1);
    }

    #[test]
    fn a_new_item_gets_the_row_fit_would_give_it() {
        let (train, e) = setup();
        // A query equal to item 4's vector: item 4 itself (cos 1), then 0 and 1, as fitted.
        let row = neighbours_of(&[2.0, 0.1], &e, 50).unwrap();
        let mut fitted = TextKnnParams::default().fit(&train, &e).unwrap().similar(4);
        fitted.push((4, 1.0));
        fitted.sort_by_key(|p| p.0);
        assert_eq!(row.len(), fitted.len());
        for (a, b) in row.iter().zip(&fitted) {
            assert!(a.0 == b.0 && (a.1 - b.1).abs() < 1e-6, "{row:?} vs {fitted:?}");
        }
        // k = 1: the nearest only; (0, 1) is closest to item 2 (cos 1), then 1 (0.70711).
        assert_eq!(neighbours_of(&[0.0, 3.0], &e, 1).unwrap(), vec![(2, 1.0)]);
        let m = TextKnnParams::default().fit(&train, &e).unwrap();
        // User 1 has items 2 and 3: a new item along (0, 1) scores cos with 2 (1) — 3 is at 90°.
        let row = neighbours_of(&[0.0, 3.0], &e, 50).unwrap();
        assert!((m.score_new_item(1, &row) - 1.0).abs() < 1e-6);
        assert_eq!(m.score_new_item(0, &row).to_bits(), 0.0f32.to_bits(), "+0, not −0");
        assert!(neighbours_of(&[1.0], &e, 5).unwrap_err().to_string().contains("width 1, expected 2"));
        assert!(neighbours_of(&[0.0, 0.0], &e, 5).unwrap_err().to_string().contains("all zeros"));
    }

    #[test]
    fn blocks_do_not_change_the_neighbours() {
        // More items than one block: every item's neighbours equal a direct computation.
        let n = BLOCK + 37;
        let v: Vec<f32> = (0..n * 3).map(|x| ((x * 7919) % 101) as f32 / 50.0 - 1.0).collect();
        let e = ItemEmbeddings::new(v.clone(), 3).unwrap();
        let train = Interactions::new(vec![Rating { user: 0, item: 0, rating: 1.0, timestamp: None }], 1, n).unwrap();
        let m = TextKnnParams { k: 5 }.fit(&train, &e).unwrap();
        let unit = |i: usize| {
            let r = &v[i * 3..i * 3 + 3];
            let nrm = r.iter().map(|x| x * x).sum::<f32>().sqrt();
            r.iter().map(|x| x / nrm).collect::<Vec<f32>>()
        };
        for i in [0, 5, BLOCK - 1, BLOCK, n - 1] {
            let mut all: Vec<(u32, f32)> =
                (0..n).filter(|&j| j != i).map(|j| (j as u32, unit(i).iter().zip(unit(j)).map(|(a, b)| a * b).sum::<f32>())).filter(|p| p.1 > 0.0).collect();
            all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let got = m.similar(i as u32);
            assert_eq!(got.len(), 5);
            for (g, w) in got.iter().zip(&all) {
                assert!((g.1 - w.1).abs() < 1e-5, "item {i}: {got:?} vs {:?}", &all[..5]);
            }
        }
    }

    #[test]
    fn bad_input_is_named() {
        let (train, _) = setup();
        let short = ItemEmbeddings::new(vec![1.0; 6], 2).unwrap();
        assert!(matches!(TextKnnParams::default().fit(&train, &short), Err(FitError::Input(m)) if m.contains("each of the 4 items")));
        assert_eq!(TextKnnParams { k: 0 }.check().unwrap_err().name, "k");
    }
}
