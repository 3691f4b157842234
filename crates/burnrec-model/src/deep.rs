//! A feature-aware deep hybrid: NeuMF (He et al., WWW 2017) over user and item
//! representations that add side-feature embeddings to the id embeddings, as LightFM does
//! (Kula, "Metadata Embeddings for User and Item Cold-start Recommendations", CBRecSys 2015),
//! with id dropout so that the network learns to score from features alone (in the spirit of
//! DropoutNet, Volkovs, Yu & Poutanen, NeurIPS 2017).
//!
//! For user `u` with features `F(u)` (age bucket, gender, occupation, …) and item `i` with
//! features `F(i)` (genres, …):
//!
//! ```text
//! f_u = mean_{f ∈ F(u)} E_user_feat[f]          f_i = mean_{f ∈ F(i)} E_item_feat[f]
//! e_u = k_u · m_u · E_user_id[u]                 e_i = k_i · m_i · E_item_id[i]
//! x_GMF = (e_u + f_u) ⊙ (e_i + f_i)              x_MLP = tower([e_u; f_u; e_i; f_i])
//! logit = wᵀ [x_GMF; x_MLP] + b
//! ```
//!
//! `k_u`, `k_i` are 1 for users/items with training interactions and 0 otherwise (their id
//! rows were never trained), so a cold-start user or item is scored from its features alone;
//! `m_u`, `m_i` are Bernoulli(1 − `id_dropout`) masks drawn per sample while training (1 in
//! evaluation). Trained on implicit feedback by the one loop, with BCE and sampled negatives
//! or BPR.
//!
//! **Item text** (`deep-hybrid-text`): with item text embeddings `x_i` (frozen sentence-encoder
//! vectors, e.g. all-MiniLM-L6-v2's 384-d, [`burnrec_data::text::ItemEmbeddings`]) the item side
//! gains a trainable projection `t_i = P x_i` (`P`: `[text_dim, dim]`, no bias): it is added
//! to the item's representation in the GMF part (`e_i + f_i + t_i`) and concatenated into the
//! tower's input (`[e_u; f_u; e_i; f_i; t_i]`). The encoder is not fine-tuned (the embeddings
//! are a constant of the model, saved with its weights): only `P` learns how text maps to
//! taste, so a cold item is scored from its text as well as its genres — the frozen
//! pretrained-feature setting of e.g. Hou et al., "Towards Universal Sequence Representation
//! Learning for Recommender Systems" (UniSRec, KDD 2022), here on NeuMF.

use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, Embedding, Linear};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use burnrec_data::batch::padded_features;
use burnrec_data::text::ItemEmbeddings;
use burnrec_data::{FeatureTable, Feedback, Interactions, KnownSet, Prediction, RatingPredictor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::trainer::{
    EpochLog, ImplicitObjective, ModuleMetric, RatingModule, StepRows, TableSide, TrainConfig, TrainError, Validation, forward_pairs, train_implicit,
};

/// Feature side of one entity type (users or items): padded feature indices and weights
/// `1 / |F(x)|` (0 on padding), constants rebuilt from the [`FeatureTable`] (not trained, not
/// saved).
///
/// In a row-sparse step the bag holds only the step's rows: `table` the features its
/// users (items) use, and `step_idx` / `step_weight` one row per user (item) of the step,
/// indexing that table locally ([`FeatureBag::for_step`]).
#[derive(Module, Debug)]
pub struct FeatureBag {
    /// Feature embeddings, `[n_features + 1, dim]` (the last row is padding, weighted 0).
    pub table: Embedding,
    /// `[n_rows, width]` feature indices, padded with `n_features`.
    idx: Tensor<2, Int>,
    /// `[n_rows, width]` weights.
    weight: Tensor<2>,
    /// During a row-sparse step only: `[step rows, width]` local indices and weights.
    step_idx: Option<Tensor<2, Int>>,
    step_weight: Option<Tensor<2>>,
    /// The features of each row, on the host (for the rows of a row-sparse step).
    #[module(skip)]
    features: std::sync::Arc<FeatureTable>,
}

impl FeatureBag {
    fn new(features: &FeatureTable, n_rows: usize, dim: usize, rng: &mut ChaCha8Rng, device: &Device) -> Self {
        let rows: Vec<u32> = (0..n_rows as u32).collect();
        let idx = padded_features(features, &rows, device);
        let [_, width] = idx.dims();
        let mut w = vec![0f32; n_rows * width];
        for r in 0..n_rows {
            let len = features.row(r).len();
            for c in 0..len {
                w[r * width + c] = 1.0 / len as f32;
            }
        }
        let weight = Tensor::from_data(TensorData::new(w, [n_rows, width]), device);
        let table = crate::init::normal_embedding(features.n_features() + 1, dim, 0.01, rng, device);
        Self { table, idx, weight, step_idx: None, step_weight: None, features: std::sync::Arc::new(features.clone()) }
    }

    /// The padding row of the table (`n_features`).
    fn padding(&self) -> u32 {
        self.features.n_features() as u32
    }

    /// The table rows that entities `ids` read: their features and the padding row,
    /// ascending.
    fn rows_for(&self, ids: &[u32]) -> Vec<u32> {
        let mut rows: Vec<u32> = ids.iter().flat_map(|&e| self.features.row(e as usize)).copied().collect();
        rows.push(self.padding());
        rows.sort_unstable();
        rows.dedup();
        rows
    }

    /// The bag of a row-sparse step: `table` holds rows `rows` (from [`FeatureBag::rows_for`]
    /// of `ids`) of the full table, and row `r` of the bag is entity `ids[r]`'s features as
    /// indices into `rows`, on `device`.
    fn for_step(&self, table: Embedding, ids: &[u32], rows: &[u32], device: &Device) -> Self {
        let [_, width] = self.idx.dims();
        let local = |f: u32| rows.binary_search(&f).expect("rows_for lists every feature of the step's entities") as i64;
        let pad = local(self.padding());
        let (mut idx, mut w) = (Vec::with_capacity(ids.len() * width), Vec::with_capacity(ids.len() * width));
        for &e in ids {
            let f = self.features.row(e as usize);
            for c in 0..width {
                idx.push(f.get(c).map_or(pad, |&x| local(x)));
                w.push(if c < f.len() { 1.0 / f.len() as f32 } else { 0.0 });
            }
        }
        Self {
            table,
            step_idx: Some(Tensor::from_data(TensorData::new(idx, [ids.len(), width]), device)),
            step_weight: Some(Tensor::from_data(TensorData::new(w, [ids.len(), width]), device)),
            ..self.clone()
        }
    }

    /// `[batch]` row indices → `[batch, dim]` mean feature embeddings (zero for rows without
    /// features).
    fn forward(&self, rows: Tensor<1, Int>) -> Tensor<2> {
        let [b] = rows.dims();
        let idx = self.step_idx.as_ref().unwrap_or(&self.idx).clone().select(0, rows.clone()); // [b, width]
        let w = self.step_weight.as_ref().unwrap_or(&self.weight).clone().select(0, rows); // [b, width]
        let [_, width] = w.dims();
        let e = self.table.forward(idx); // [b, width, d]
        let [_, _, d] = e.dims();
        (e * w.reshape([b, width, 1])).sum_dim(1).reshape([b, d])
    }
}

/// The item-text side of the deep hybrid: frozen item embeddings and their trainable
/// projection into the model's space (see the module docs).
#[derive(Module, Debug)]
pub struct TextProjection {
    /// `[n_items, text_dim]` frozen embeddings (no gradient: not trained, but saved with the
    /// weights so that a loaded model scores items without the encoder). Rows of items that
    /// had no text are zero.
    pub frozen: Param<Tensor<2>>,
    /// `[text_dim, dim]` trainable projection, no bias.
    pub proj: Linear,
}

impl TextProjection {
    /// `n_items` rows of `text` (rows past its end are zero; rows past `n_items` are left out)
    /// and a projection to `dim` drawn `U(±1/√text_dim)` from `rng`.
    fn new(text: &ItemEmbeddings, n_items: usize, dim: usize, rng: &mut ChaCha8Rng, device: &Device) -> Self {
        let t = text.dim();
        let mut values = vec![0f32; n_items * t];
        let rows = text.n_rows().min(n_items);
        values[..rows * t].copy_from_slice(&text.values()[..rows * t]);
        let frozen = Param::from_data(TensorData::new(values, [n_items, t]), device).set_require_grad(false);
        let mut proj = crate::init::uniform_linear(t, dim, rng, device);
        proj.bias = None;
        Self { frozen, proj }
    }

    /// `[batch]` global item indices → `[batch, dim]` projected text embeddings.
    fn forward(&self, items: Tensor<1, Int>) -> Tensor<2> {
        self.proj.forward(self.frozen.val().select(0, items))
    }

    /// The width of the frozen embeddings.
    pub fn text_dim(&self) -> usize {
        self.frozen.dims()[1]
    }
}

/// The deep hybrid network (see the module docs for the model).
///
/// # Shapes
/// - `user_id`: `[n_users, dim]`, `item_id`: `[n_items, dim]`
/// - `user_features` / `item_features`: `[n_features + 1, dim]` tables
/// - `item_text`: `[n_items, text_dim]` frozen embeddings and a `[text_dim, dim]` projection
/// - `tower[0]`: `[(2 + bags + text) · dim, layers[0]]` (one `dim` per id embedding, per
///   feature bag and for the text projection), `tower[k]`: `[layers[k − 1], layers[k]]`
/// - `out`: `[dim + layers.last(), 1]`
#[derive(Module, Debug)]
pub struct DeepHybridModule {
    /// User id embeddings.
    pub user_id: Embedding,
    /// Item id embeddings.
    pub item_id: Embedding,
    /// User side-feature embeddings.
    pub user_features: Option<FeatureBag>,
    /// Item side-feature embeddings.
    pub item_features: Option<FeatureBag>,
    /// Item text embeddings and their projection (`deep-hybrid-text`).
    pub item_text: Option<TextProjection>,
    /// MLP tower (ReLU, then dropout, after every layer).
    pub tower: Vec<Linear>,
    /// Dropout after each tower layer while training.
    pub dropout: Dropout,
    /// Output layer to one logit.
    pub out: Linear,
    /// `[n_users, 1]`: 1 for users with training interactions.
    user_known: Tensor<2>,
    /// `[n_items, 1]`: 1 for items with training interactions.
    item_known: Tensor<2>,
    /// Probability of dropping a sample's id embeddings while training.
    id_dropout: f64,
    /// During a row-sparse step only: the global user / item index of each row of the (local)
    /// id tables, so the known masks are read at global rows (a step's feature bags are
    /// indexed by the local rows themselves, [`FeatureBag::for_step`]).
    user_rows: Option<Tensor<1, Int>>,
    item_rows: Option<Tensor<1, Int>>,
}

impl DeepHybridModule {
    /// A module for `known`'s users and items, with the feature tables given (rows by user /
    /// item index; `None` leaves that side without features) and, with `item_text`, the
    /// frozen item text embeddings (rows by item index), all weights drawn by a ChaCha8
    /// generator seeded with `seed` (embeddings `N(0, 0.01²)`, linear layers
    /// `U(±1/√fan_in)`; the text projection is drawn after every other weight, so a model
    /// without text draws the same weights as before).
    ///
    /// # Panics
    /// If `dropout` is outside `[0, 1)` or `layers` is empty (checked by [`DeepParams::fit`]).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        known: &KnownSet,
        n_users: usize,
        n_items: usize,
        user_features: Option<&FeatureTable>,
        item_features: Option<&FeatureTable>,
        item_text: Option<&ItemEmbeddings>,
        params: &DeepParams,
        device: &Device,
    ) -> Self {
        let d = params.dim;
        let mut rng = ChaCha8Rng::seed_from_u64(params.train.seed);
        let user_id = crate::init::normal_embedding(n_users, d, 0.01, &mut rng, device);
        let item_id = crate::init::normal_embedding(n_items, d, 0.01, &mut rng, device);
        let user_features = user_features.map(|t| FeatureBag::new(t, n_users, d, &mut rng, device));
        let item_features = item_features.map(|t| FeatureBag::new(t, n_items, d, &mut rng, device));
        let width = d * (2 + usize::from(user_features.is_some()) + usize::from(item_features.is_some()) + usize::from(item_text.is_some()));
        let mut tower = Vec::new();
        let mut prev = width;
        for &w in &params.layers {
            tower.push(crate::init::uniform_linear(prev, w, &mut rng, device));
            prev = w;
        }
        let out = crate::init::uniform_linear(d + prev, 1, &mut rng, device);
        let item_text = item_text.map(|t| TextProjection::new(t, n_items, d, &mut rng, device));
        let mask = |n: usize, f: &dyn Fn(u32) -> bool| {
            let v: Vec<f32> = (0..n as u32).map(|x| if f(x) { 1.0 } else { 0.0 }).collect();
            Tensor::from_data(TensorData::new(v, [n, 1]), device)
        };
        Self {
            user_id,
            item_id,
            user_features,
            item_features,
            item_text,
            tower,
            dropout: DropoutConfig::new(params.dropout).init(),
            out,
            user_known: mask(n_users, &|u| known.user(u)),
            item_known: mask(n_items, &|i| known.item(i)),
            id_dropout: params.id_dropout,
            user_rows: None,
            item_rows: None,
        }
    }

    /// Global indices of `idx` (rows of the id tables): themselves, or through the row map of a
    /// row-sparse step.
    fn global(rows: &Option<Tensor<1, Int>>, idx: Tensor<1, Int>) -> Tensor<1, Int> {
        match rows {
            Some(map) => map.clone().select(0, idx),
            None => idx,
        }
    }

    /// A copy with tables `tables` in [`RatingModule::sparse_tables`] order: the full tables,
    /// or, with `rows`, those of one row-sparse step (id tables and feature bags indexed by the
    /// step's local rows).
    fn rebuilt(&self, tables: Vec<Embedding>, rows: Option<&StepRows<'_>>) -> Option<Self> {
        let mut tables = tables.into_iter();
        let (user_id, item_id) = (tables.next()?, tables.next()?);
        let mut bag = |old: &Option<FeatureBag>, ids: Option<(&[u32], &[u32])>| -> Option<Option<FeatureBag>> {
            let Some(old) = old else { return Some(None) };
            let table = tables.next()?;
            Some(Some(match ids {
                Some((ids, feature_rows)) => old.for_step(table, ids, feature_rows, &old.idx.device()),
                None => FeatureBag { table, step_idx: None, step_weight: None, ..old.clone() },
            }))
        };
        let user_features = bag(&self.user_features, rows.map(|r| (r.users, r.user_features)))?;
        let item_features = bag(&self.item_features, rows.map(|r| (r.items, r.item_features)))?;
        if tables.next().is_some() {
            return None;
        }
        let map = |ids: &[u32]| burnrec_data::batch::index_tensor(ids, &self.user_known.device());
        Some(Self {
            user_id,
            item_id,
            user_features,
            item_features,
            item_text: self.item_text.clone(),
            tower: self.tower.clone(),
            dropout: self.dropout.clone(),
            out: self.out.clone(),
            user_known: self.user_known.clone(),
            item_known: self.item_known.clone(),
            id_dropout: self.id_dropout,
            user_rows: rows.map(|r| map(r.users)),
            item_rows: rows.map(|r| map(r.items)),
        })
    }

    /// `[batch, dim]` id embeddings (rows `idx` of `table`), zeroed for entities without
    /// training data (`known` at the `global` rows) and, while training, dropped per sample
    /// with probability `id_dropout`.
    fn ids(&self, table: &Embedding, known: &Tensor<2>, idx: Tensor<1, Int>, global: Tensor<1, Int>) -> Tensor<2> {
        let e = crate::mf::BiasedMfModule::rows(table, idx);
        let mut k = known.clone().select(0, global); // [b, 1]
        if self.id_dropout > 0.0 && k.device().is_autodiff() {
            k = k.clone() * k.random_like(Distribution::Bernoulli(1.0 - self.id_dropout));
        }
        e * k
    }
}

impl DeepHybridModule {
    /// `[items.len()]` logits of a user who is not in the training data, described only by
    /// `features` (indices into the user feature table): the user's id embedding is zero, as
    /// for any user without training data, and their feature embedding is the mean of those
    /// features' embeddings — the cold-start path the model was trained for by id dropout.
    pub fn forward_new_user(&self, features: &[u32], items: Tensor<1, Int>) -> Tensor<1> {
        let [b] = items.dims();
        let device = items.device();
        let [_, d] = self.user_id.weight.dims();
        let eu = Tensor::<2>::zeros([b, d], &device);
        let fu = self.user_features.as_ref().map(|bag| {
            if features.is_empty() {
                return Tensor::<2>::zeros([b, d], &device);
            }
            let f = features.len();
            let idx = burnrec_data::batch::index_tensor(features, &device).reshape([1, f]);
            bag.table.forward(idx).mean_dim(1).reshape([1, d]).repeat_dim(0, b)
        });
        self.forward_parts(eu, fu, items)
    }

    /// `[users.len()]` logits of training users `users` for an item that is not in the model,
    /// known only by its text embedding `text` (`[text_dim]`, from the encoder the model was
    /// trained with): its id embedding is zero and it has no side features, as for any item
    /// without training data, so its score comes from the projection of its text alone.
    ///
    /// # Errors
    /// A message if the model has no text projection or `text` has the wrong width.
    pub fn forward_new_item(&self, users: Tensor<1, Int>, text: &[f32]) -> Result<Tensor<1>, String> {
        let proj = self.item_text.as_ref().ok_or("this model was trained without item text: scoring an item by its text needs `deep-hybrid-text`")?;
        if text.len() != proj.text_dim() {
            return Err(format!("a text embedding of width {}, expected {} (the encoder the model was trained with)", text.len(), proj.text_dim()));
        }
        let [b] = users.dims();
        let device = users.device();
        let [_, d] = self.item_id.weight.dims();
        let gu = Self::global(&self.user_rows, users.clone());
        let fu = self.user_features.as_ref().map(|f| f.forward(if self.user_rows.is_some() { users.clone() } else { gu.clone() }));
        let eu = self.ids(&self.user_id, &self.user_known, users, gu);
        let x = Tensor::<2>::from_data(TensorData::new(text.to_vec(), [1, text.len()]), &device);
        let ti = proj.proj.forward(x).repeat_dim(0, b);
        let fi = self.item_features.as_ref().map(|_| Tensor::<2>::zeros([b, d], &device));
        Ok(self.head(eu, fu, Tensor::zeros([b, d], &device), fi, Some(ti)))
    }

    /// The item side and the network on top of the user side `eu` (`[b, d]` id embeddings)
    /// and `fu` (`[b, d]` feature embeddings, when the model has user features).
    fn forward_parts(&self, eu: Tensor<2>, fu: Option<Tensor<2>>, items: Tensor<1, Int>) -> Tensor<1> {
        let gi = Self::global(&self.item_rows, items.clone());
        // A step's feature bags are indexed by the step's local rows, like its id tables.
        let fi = self.item_features.as_ref().map(|f| f.forward(if self.item_rows.is_some() { items.clone() } else { gi.clone() }));
        // The text projection reads the frozen rows at global item indices.
        let ti = self.item_text.as_ref().map(|t| t.forward(gi.clone()));
        let ei = self.ids(&self.item_id, &self.item_known, items, gi);
        self.head(eu, fu, ei, fi, ti)
    }

    /// The network on top of both sides' `[b, d]` parts: user id and feature embeddings, item
    /// id, feature and text embeddings (`None`: the model has no such part) → `[b]` logits.
    fn head(&self, eu: Tensor<2>, fu: Option<Tensor<2>>, ei: Tensor<2>, fi: Option<Tensor<2>>, ti: Option<Tensor<2>>) -> Tensor<1> {
        let [b, _] = eu.dims();
        let side = |e: Tensor<2>, f: &Option<Tensor<2>>| match f {
            Some(f) => e + f.clone(),
            None => e,
        };
        let gmf = side(eu.clone(), &fu) * side(side(ei.clone(), &fi), &ti);
        let mut parts = vec![eu];
        parts.extend(fu);
        parts.push(ei);
        parts.extend(fi);
        parts.extend(ti);
        let mut h = Tensor::cat(parts, 1);
        for layer in &self.tower {
            h = self.dropout.forward(relu(layer.forward(h)));
        }
        self.out.forward(Tensor::cat(vec![gmf, h], 1)).reshape([b])
    }
}

impl RatingModule for DeepHybridModule {
    /// `[batch]` logits.
    fn forward(&self, users: Tensor<1, Int>, items: Tensor<1, Int>) -> Tensor<1> {
        let gu = Self::global(&self.user_rows, users.clone());
        let fu = self.user_features.as_ref().map(|f| f.forward(if self.user_rows.is_some() { users.clone() } else { gu.clone() }));
        let eu = self.ids(&self.user_id, &self.user_known, users, gu);
        self.forward_parts(eu, fu, items)
    }

    /// Mean over the batch of the squared norms of the id-embedding rows it uses.
    fn penalty(&self, users: Tensor<1, Int>, items: Tensor<1, Int>) -> Tensor<1> {
        let [b] = users.dims();
        let u = crate::mf::BiasedMfModule::rows(&self.user_id, users).square().sum();
        let i = crate::mf::BiasedMfModule::rows(&self.item_id, items).square().sum();
        (u + i).div_scalar(b as f64)
    }

    /// The id tables, then the feature tables (users', items'), all row-sparse.
    fn sparse_tables(&self) -> Option<Vec<(&Embedding, TableSide)>> {
        let mut t = vec![(&self.user_id, TableSide::User), (&self.item_id, TableSide::Item)];
        t.extend(self.user_features.as_ref().map(|b| (&b.table, TableSide::UserFeatures)));
        t.extend(self.item_features.as_ref().map(|b| (&b.table, TableSide::ItemFeatures)));
        Some(t)
    }

    fn into_tables(self) -> Vec<Embedding> {
        let mut t = vec![self.user_id, self.item_id];
        t.extend(self.user_features.map(|b| b.table));
        t.extend(self.item_features.map(|b| b.table));
        t
    }

    fn with_tables(&self, tables: Vec<Embedding>) -> Option<Self> {
        self.rebuilt(tables, None)
    }

    fn feature_rows(&self, side: TableSide, ids: &[u32]) -> Vec<u32> {
        let bag = match side {
            TableSide::UserFeatures => &self.user_features,
            TableSide::ItemFeatures => &self.item_features,
            _ => &None,
        };
        bag.as_ref().map_or_else(Vec::new, |b| b.rows_for(ids))
    }

    fn with_batch_rows(&self, tables: Vec<Embedding>, rows: &StepRows<'_>) -> Option<Self> {
        self.rebuilt(tables, Some(rows))
    }
}

/// Parameters of the deep hybrid (`deep-hybrid` in reports; `deep-hybrid-text` with item text
/// embeddings, same parameters).
///
/// | name | default | meaning |
/// | --- | --- | --- |
/// | `dim` | 32 | size of every id and feature embedding |
/// | `layers` | `[64, 32, 16]` | MLP tower widths |
/// | `dropout` | 0.1 | dropout after each tower layer while training |
/// | `id_dropout` | 0.2 | probability of dropping a sample's id embeddings while training, so features alone must score it (cold start) |
/// | `negatives` | 4 | sampled negatives per positive (`bce`, `softmax`) |
/// | `objective` | `bce` | `bce`, `bpr` or `softmax` (as [`crate::NcfParams`]) |
/// | `train.epochs` | 20 | passes over the positives |
/// | `train.batch_size` | 256 | samples per step (positives and negatives together) |
/// | `train.lr` | 0.001 | Adam learning rate |
/// | `train.l2` | 0 | L2 on the id rows a batch uses |
///
/// The defaults follow NCF's (batch, learning rate, negatives); `dim`, `id_dropout` and the
/// tower are untuned choices (docs/models.md, docs/benchmarks.md: "at its untuned defaults").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeepParams {
    /// Embedding size.
    pub dim: usize,
    /// Tower widths.
    pub layers: Vec<usize>,
    /// Tower dropout, in `[0, 1)`.
    pub dropout: f64,
    /// Id dropout, in `[0, 1)`.
    pub id_dropout: f64,
    /// Negatives per positive (`bce`, `softmax`).
    pub negatives: usize,
    /// Training objective.
    pub objective: ImplicitObjective,
    /// Optimisation settings.
    pub train: TrainConfig,
}

impl Default for DeepParams {
    fn default() -> Self {
        Self {
            dim: 32,
            layers: vec![64, 32, 16],
            dropout: 0.1,
            id_dropout: 0.2,
            negatives: 4,
            objective: ImplicitObjective::Bce,
            train: TrainConfig { epochs: 20, batch_size: 256, lr: 0.001, l2: 0.0, seed: 42, progress: true, ..Default::default() },
        }
    }
}

/// A trained deep hybrid. Scores are logits ([`Feedback::Implicit`]); users and items without
/// training interactions are scored from their features (and get `known_* = false` in
/// [`Prediction`]); indices outside the tables score `f32::MIN`.
#[derive(Debug)]
pub struct DeepHybrid {
    pub(crate) module: DeepHybridModule,
    pub(crate) known: KnownSet,
    pub(crate) device: Device,
    pub(crate) params: DeepParams,
    pub(crate) user_features: Option<FeatureTable>,
    pub(crate) item_features: Option<FeatureTable>,
    /// One entry per training epoch.
    pub history: Vec<EpochLog>,
    /// The epoch whose weights were kept, when early stopping ran.
    pub best_epoch: Option<usize>,
}

impl DeepParams {
    /// Trains on the implicit feedback `train` with optional user and item feature tables
    /// (rows by index; shorter tables leave the missing rows without features).
    ///
    /// # Errors
    /// [`TrainError::Param`] for settings out of range, [`TrainError::EmptyTrainSet`],
    /// [`TrainError::Diverged`], [`TrainError::Backend`].
    pub fn fit(
        &self,
        train: &Interactions,
        user_features: Option<&FeatureTable>,
        item_features: Option<&FeatureTable>,
        device: &Device,
    ) -> Result<DeepHybrid, TrainError> {
        self.fit_validated(train, user_features, item_features, None, None, device)
    }

    /// [`DeepParams::fit`] with item text embeddings `item_text` (`[n_items × text_dim]`,
    /// rows by item index; see the module docs) and a per-epoch [`Validation`] (and early
    /// stopping when `train.early_stopping` is set).
    ///
    /// # Errors
    /// As [`DeepParams::fit`]; [`TrainError::Param`] (`item_text`) for embeddings with fewer
    /// rows than the training data has items.
    pub fn fit_validated(
        &self,
        train: &Interactions,
        user_features: Option<&FeatureTable>,
        item_features: Option<&FeatureTable>,
        item_text: Option<&ItemEmbeddings>,
        validation: Option<&Validation<'_>>,
        device: &Device,
    ) -> Result<DeepHybrid, TrainError> {
        self.check()?;
        if train.is_empty() {
            return Err(TrainError::EmptyTrainSet);
        }
        if let Some(t) = item_text
            && t.n_rows() < train.n_items()
        {
            return Err(TrainError::Param {
                name: "item_text",
                value: format!("{} rows", t.n_rows()),
                expected: "one embedding row per item of the training data",
            });
        }
        let ad = device.clone().autodiff();
        let known = KnownSet::from_train(train);
        let module = DeepHybridModule::new(&known, train.n_users(), train.n_items(), user_features, item_features, item_text, self, &ad);
        let wrap = |m: DeepHybridModule| DeepHybrid {
            module: m,
            known: known.clone(),
            device: device.clone(),
            params: self.clone(),
            user_features: user_features.cloned(),
            item_features: item_features.cloned(),
            history: Vec::new(),
            best_epoch: None,
        };
        let score = |m: &DeepHybridModule| validation.map_or(f64::NAN, |v| (v.score)(&wrap(m.valid())));
        let metric = validation.map(|v| ModuleMetric { higher_is_better: v.higher_is_better, score: &score });
        let t = train_implicit(self.objective, self.negatives, module, train, &self.train, &ad, metric)?;
        Ok(DeepHybrid { history: t.history, best_epoch: t.best_epoch, ..wrap(t.module.valid()) })
    }
}

impl DeepParams {
    /// Checks every setting (also done when loading a saved model).
    ///
    /// # Errors
    /// [`TrainError::Param`] naming the first setting out of range.
    pub fn check(&self) -> Result<(), TrainError> {
        let bad = |name, value: String, expected| Err(TrainError::Param { name, value, expected });
        if self.dim == 0 {
            return bad("dim", "0".into(), ">= 1");
        }
        if self.layers.is_empty() || self.layers.contains(&0) {
            return bad("layers", format!("{:?}", self.layers), "at least 1 width, all >= 1");
        }
        for (name, p) in [("dropout", self.dropout), ("id_dropout", self.id_dropout)] {
            if !(p.is_finite() && (0.0..1.0).contains(&p)) {
                return bad(name, p.to_string(), "in [0, 1)");
            }
        }
        if self.negatives == 0 && self.objective != ImplicitObjective::Bpr {
            return bad("negatives", "0".into(), ">= 1");
        }
        self.train.check()
    }
}

impl DeepHybrid {
    /// The trained network.
    pub fn module(&self) -> &DeepHybridModule {
        &self.module
    }

    /// Scores (`[n_items]` logits) of every item for a user who is not in the training data,
    /// described by user side-feature names as in the model's user feature table (`field=value`,
    /// e.g. `gender=F`, `occupation=writer`, `age=25-34`; a raw age such as `age=31` is put in its
    /// bucket by [`burnrec_data::features::age_bucket`]). See
    /// [`DeepHybridModule::forward_new_user`].
    ///
    /// # Errors
    /// A message if the model was trained without user features, or naming every unknown
    /// feature with the known values of its field.
    pub fn score_new_user(&self, features: &[String]) -> Result<Vec<f32>, String> {
        let table = self
            .user_features
            .as_ref()
            .ok_or("this deep-hybrid was trained without user side features (the dataset had none): it cannot score a new user from features")?;
        // One value per field: `gender=F,gender=M` is a mistake, not a blend.
        let mut fields: Vec<&str> = features.iter().map(|f| f.split_once('=').map_or(f.as_str(), |(k, _)| k)).collect();
        fields.sort_unstable();
        if let Some(w) = fields.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("user feature field `{}` given more than once", w[0]));
        }
        let mut idx = Vec::with_capacity(features.len());
        let mut unknown = Vec::new();
        for name in features {
            let bucketed = match name.split_once('=') {
                Some(("age", v)) => v.trim().parse::<u32>().ok().map(|a| format!("age={}", burnrec_data::features::age_bucket(a))),
                _ => None,
            };
            // Exact, then a raw age in its bucket, then ignoring case (`occupation=Writer`).
            let found = table
                .index(name)
                .or_else(|| bucketed.and_then(|b| table.index(&b)))
                .or_else(|| (0..table.n_features() as u32).find(|&f| table.name(f).is_some_and(|n| n.eq_ignore_ascii_case(name))));
            match found {
                Some(f) => idx.push(f),
                None => unknown.push(name.as_str()),
            }
        }
        if !unknown.is_empty() {
            let known = |field: &str| -> Vec<&str> {
                let mut v: Vec<&str> =
                    (0..table.n_features() as u32).filter_map(|f| table.name(f)).filter(|n| n.split_once('=').is_some_and(|(k, _)| k == field)).collect();
                v.sort_unstable();
                v
            };
            let mut msg = format!("unknown user feature(s) {}", unknown.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>().join(", "));
            for u in &unknown {
                let field = u.split_once('=').map_or(*u, |(k, _)| k);
                let values = known(field);
                msg.push_str(&if values.is_empty() { format!("; no field `{field}`") } else { format!("; `{field}` takes {}", values.join(", ")) });
            }
            return Err(msg);
        }
        idx.sort_unstable();
        idx.dedup();
        let [n_items, _] = self.module.item_id.weight.dims();
        let mut out = Vec::with_capacity(n_items);
        for block in (0..n_items as u32).collect::<Vec<_>>().chunks(65_536) {
            let t = self.module.forward_new_user(&idx, burnrec_data::batch::index_tensor(block, &self.device));
            out.extend(t.into_data().try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?);
        }
        Ok(out)
    }
}

impl DeepHybrid {
    /// Scores (logits, `[users.len()]`) of an item that is not in the model, known only by its
    /// text embedding `text` (`[text_dim]`, L2-normalised output of the encoder the model was
    /// trained with), for training users `users` ([`DeepHybridModule::forward_new_item`]).
    /// Users outside the tables score `f32::MIN`.
    ///
    /// # Errors
    /// A message if the model has no item text or `text` has the wrong width.
    pub fn score_new_item(&self, users: &[u32], text: &[f32]) -> Result<Vec<f32>, String> {
        let [n_users, _] = self.module.user_id.weight.dims();
        let inside: Vec<u32> = users.iter().copied().filter(|&u| (u as usize) < n_users).collect();
        let mut scores = Vec::with_capacity(inside.len());
        for block in inside.chunks(65_536) {
            let t = self.module.forward_new_item(burnrec_data::batch::index_tensor(block, &self.device), text)?;
            scores.extend(t.into_data().try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?);
        }
        let mut scores = scores.into_iter();
        Ok(users.iter().map(|&u| if (u as usize) < n_users { scores.next().unwrap_or(f32::MIN) } else { f32::MIN }).collect())
    }
}

impl RatingPredictor for DeepHybrid {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        let [n_users, _] = self.module.user_id.weight.dims();
        let [n_items, _] = self.module.item_id.weight.dims();
        let mut out: Vec<Prediction> =
            pairs.iter().map(|&(u, i)| Prediction { rating: f32::MIN, known_user: self.known.user(u), known_item: self.known.item(i) }).collect();
        let inside: Vec<usize> = (0..pairs.len()).filter(|&k| (pairs[k].0 as usize) < n_users && (pairs[k].1 as usize) < n_items).collect();
        for (&k, s) in inside.iter().zip(forward_pairs(&self.module, pairs, &inside, &self.device)) {
            out[k].rating = s;
        }
        out
    }

    fn feedback(&self) -> Feedback {
        Feedback::Implicit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burnrec_data::Rating;
    use burnrec_data::batch::index_tensor;
    use burnrec_data::features::FeatureBuilder;

    /// Two taste groups of users (feature `group=a|b`) and two item kinds (`kind=x|y`):
    /// group a interacts with kind x, group b with kind y. Items 16..20 never occur in
    /// training (cold), users 36..40 neither.
    fn world() -> (Interactions, FeatureTable, FeatureTable) {
        let mut uf = FeatureBuilder::new(40);
        for u in 0..40 {
            uf.set(u, "group", if u % 2 == 0 { "a" } else { "b" });
        }
        let mut itf = FeatureBuilder::new(20);
        for i in 0..20 {
            itf.set(i, "kind", if i % 2 == 0 { "x" } else { "y" });
        }
        let mut v = Vec::new();
        for u in 0..36u32 {
            for k in 0..5u32 {
                let item = (u % 2) + 2 * ((u + 3 * k) % 8); // same parity as the user, < 16
                v.push(Rating { user: u, item, rating: 1.0, timestamp: None });
            }
        }
        v.sort_by_key(|r| (r.user, r.item));
        v.dedup_by_key(|r| (r.user, r.item));
        (Interactions::new(v, 40, 20).unwrap(), uf.build(), itf.build())
    }

    fn quiet(epochs: usize) -> TrainConfig {
        TrainConfig { epochs, batch_size: 64, lr: 0.01, l2: 0.0, seed: 9, progress: false, ..Default::default() }
    }

    /// Three entities: 0 has g=a and h=b, 1 nothing, 2 g=a; a bag of width-2 embeddings.
    fn three_entity_bag(device: &Device) -> (FeatureTable, FeatureBag) {
        let mut fb = FeatureBuilder::new(3);
        fb.set(0, "g", "a");
        fb.set(0, "h", "b");
        fb.set(2, "g", "a");
        let table = fb.build();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let bag = FeatureBag::new(&table, 3, 2, &mut rng, device);
        (table, bag)
    }

    #[test]
    fn feature_bag_is_the_mean_of_the_row_embeddings() {
        let device = Device::flex();
        let (table, mut bag) = three_entity_bag(&device);
        // Features g=a → [1, 2], h=b → [3, 6]; padding row [100, 100] must not leak in.
        let (ga, hb) = (table.index("g=a").unwrap() as usize, table.index("h=b").unwrap() as usize);
        let mut w = vec![100f32; 3 * 2];
        w[ga * 2..ga * 2 + 2].copy_from_slice(&[1.0, 2.0]);
        w[hb * 2..hb * 2 + 2].copy_from_slice(&[3.0, 6.0]);
        bag.table = Embedding { weight: Param::from_data(TensorData::new(w, [3, 2]), &device) };
        let v = bag.forward(index_tensor(&[0, 1, 2], &device)).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(v, vec![2.0, 4.0, 0.0, 0.0, 1.0, 2.0]);
    }

    #[test]
    fn a_step_bag_reads_only_the_features_of_its_rows() {
        let device = Device::flex();
        let (table, bag) = three_entity_bag(&device);
        let (ga, hb, pad) = (table.index("g=a").unwrap(), table.index("h=b").unwrap(), 2);
        // Entities 1 (no features) and 2 (g=a) read g=a and the padding row; entity 0 adds h=b.
        let mut want = vec![ga, pad];
        want.sort_unstable();
        assert_eq!(bag.rows_for(&[1, 2]), want);
        let mut all = vec![ga, hb, pad];
        all.sort_unstable();
        assert_eq!(bag.rows_for(&[0, 1, 2]), all);
        // A step table holding those two rows: g=a → [1, 2], padding → [100, 100] (weight 0).
        let rows = bag.rows_for(&[1, 2]);
        let local: Vec<f32> = rows.iter().flat_map(|&r| if r == ga { [1.0, 2.0] } else { [100.0, 100.0] }).collect();
        let small = Embedding { weight: Param::from_data(TensorData::new(local, [2, 2]), &device) };
        let step = bag.for_step(small, &[1, 2], &rows, &device);
        // Local rows 0, 1 are entities 1, 2.
        let v = step.forward(index_tensor(&[0, 1, 1], &device)).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(v, vec![0.0, 0.0, 1.0, 2.0, 1.0, 2.0]);
    }

    #[test]
    fn scores_cold_items_and_users_from_their_features() {
        let _rng = crate::backend_rng_lock();
        let (train, uf, itf) = world();
        let p = DeepParams { dim: 8, layers: vec![16, 8], train: quiet(25), ..Default::default() };
        let m = p.fit(&train, Some(&uf), Some(&itf), &Device::flex()).unwrap();
        assert!(m.history.last().unwrap().train_loss < m.history[0].train_loss * 0.8, "{:?}", m.history);
        // Cold users (36..40) ranking cold items (16..20): their own kind first.
        let cold_items: Vec<u32> = (16..20).collect();
        let mut wins = 0;
        for u in 0..40u32 {
            let s = m.score_block(&[u], &cold_items);
            let (mine, other): (Vec<usize>, Vec<usize>) = (0..4).partition(|&k| cold_items[k] % 2 == u % 2);
            let mean = |ks: &[usize]| ks.iter().map(|&k| s[k]).sum::<f32>() / ks.len() as f32;
            wins += usize::from(mean(&mine) > mean(&other));
        }
        assert!(wins >= 38, "{wins} of 40 users prefer cold items of their group's kind");
        let p = m.predict(38, 17);
        assert!(!p.known_user && !p.known_item && p.rating > f32::MIN);
        assert_eq!(m.predict(99, 0).rating, f32::MIN);
        // Same seed → identical scores.
        let again = p_fit(&p_params(), &train, &uf, &itf);
        assert_eq!(p_fit(&p_params(), &train, &uf, &itf).score_block(&[0, 37], &[3, 18]), again.score_block(&[0, 37], &[3, 18]));
    }

    /// Item text that says each item's kind: `[1, 0, ε]` for kind x, `[0, 1, ε]` for kind y
    /// (ε a small per-item value), one row per item of [`world`].
    fn kind_text() -> ItemEmbeddings {
        ItemEmbeddings::new((0..20).flat_map(|i| [if i % 2 == 0 { 1.0 } else { 0.0 }, if i % 2 == 0 { 0.0 } else { 1.0 }, 0.01 * i as f32]).collect(), 3)
            .unwrap()
    }

    #[test]
    fn item_text_alone_lets_cold_items_rank() {
        let _rng = crate::backend_rng_lock();
        let (train, uf, _) = world();
        let text = kind_text();
        let p = DeepParams { dim: 8, layers: vec![16, 8], train: quiet(25), ..Default::default() };
        // No item features: only the text tells a cold item's kind.
        let m = p.fit_validated(&train, Some(&uf), None, Some(&text), None, &Device::flex()).unwrap();
        let proj = m.module().item_text.as_ref().unwrap();
        assert_eq!((proj.text_dim(), proj.frozen.dims(), proj.proj.weight.dims()), (3, [20, 3], [3, 8]));
        assert!(proj.proj.bias.is_none());
        // The frozen rows are the embeddings, untouched by training.
        assert_eq!(proj.frozen.val().into_data().try_to_vec::<f32>().unwrap(), text.values());
        let cold_items: Vec<u32> = (16..20).collect();
        let wins = |m: &DeepHybrid| {
            (0..40u32)
                .filter(|&u| {
                    let s = m.score_block(&[u], &cold_items);
                    let (mine, other): (Vec<usize>, Vec<usize>) = (0..4).partition(|&k| cold_items[k] % 2 == u % 2);
                    let mean = |ks: &[usize]| ks.iter().map(|&k| s[k]).sum::<f32>() / ks.len() as f32;
                    mean(&mine) > mean(&other)
                })
                .count()
        };
        let with_text = wins(&m);
        assert!(with_text >= 38, "{with_text} of 40 users prefer cold items of their group's kind");
        // Without text (nor features) every cold item gets the same score for a user: no user
        // prefers either kind.
        let plain = p.fit(&train, Some(&uf), None, &Device::flex()).unwrap();
        assert_eq!(wins(&plain), 0);
        // An item known only by its text scores as the cold item with that text (item 16: no
        // id row, no features).
        let users: Vec<u32> = (0..40).collect();
        let by_text = m.score_new_item(&users, text.row(16)).unwrap();
        let cold: Vec<f32> = users.iter().map(|&u| m.predict(u, 16).rating).collect();
        for (a, b) in by_text.iter().zip(&cold) {
            assert!((a - b).abs() <= 1e-6, "{a} vs {b}");
        }
        assert_eq!(m.score_new_item(&[99], text.row(16)).unwrap(), vec![f32::MIN]);
        let e = m.score_new_item(&[0], &[1.0, 0.0]).unwrap_err();
        assert!(e.contains("width 2, expected 3"), "{e}");
        assert!(plain.score_new_item(&[0], text.row(16)).unwrap_err().contains("deep-hybrid-text"));
        // Too few text rows for the items: a clear error.
        let short = ItemEmbeddings::new(vec![0.5; 3 * 10], 3).unwrap();
        let e = p.fit_validated(&train, Some(&uf), None, Some(&short), None, &Device::flex()).unwrap_err();
        assert!(e.to_string().contains("item_text") && e.to_string().contains("10 rows"), "{e}");
    }

    fn p_params() -> DeepParams {
        DeepParams { dim: 4, layers: vec![8], train: quiet(2), ..Default::default() }
    }

    fn p_fit(p: &DeepParams, train: &Interactions, uf: &FeatureTable, itf: &FeatureTable) -> DeepHybrid {
        p.fit(train, Some(uf), Some(itf), &Device::flex()).unwrap()
    }

    #[test]
    fn sparse_sgd_equals_dense_sgd_with_features_read_at_global_rows() {
        use crate::sparse::{EmbeddingUpdate, RowOptimizer};
        use crate::trainer::OptimizerKind;
        let _rng = crate::backend_rng_lock();
        let (train, uf, itf) = world();
        // Dropout and id dropout on: the masks have the same shapes in both steps, so the
        // seeded draws match too.
        let fit = |update, objective| {
            let t = TrainConfig { optimizer: OptimizerKind::Sgd, lr: 0.3, l2: 0.01, embedding_update: update, ..quiet(3) };
            DeepParams { dim: 4, layers: vec![8, 4], objective, train: t, ..Default::default() }.fit(&train, Some(&uf), Some(&itf), &Device::flex()).unwrap()
        };
        for objective in [ImplicitObjective::Bce, ImplicitObjective::Bpr, ImplicitObjective::Softmax] {
            let (dense, sparse) = (fit(EmbeddingUpdate::Dense, objective), fit(EmbeddingUpdate::Sparse(RowOptimizer::Sgd), objective));
            let (users, items): (Vec<u32>, Vec<u32>) = ((0..40).collect(), (0..20).collect());
            let (a, b) = (dense.score_block(&users, &items), sparse.score_block(&users, &items));
            let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
            assert!(worst <= 1e-5, "{objective:?}: largest logit difference {worst}");
            assert!(dense.history[2].train_loss < dense.history[0].train_loss, "{objective:?}");
            // The module hands its feature tables to the row optimiser with its id tables.
            let sides: Vec<TableSide> = sparse.module().sparse_tables().unwrap().into_iter().map(|(_, s)| s).collect();
            assert_eq!(sides, [TableSide::User, TableSide::Item, TableSide::UserFeatures, TableSide::ItemFeatures]);
            let init = DeepHybridModule::new(
                &dense.known,
                40,
                20,
                Some(&uf),
                Some(&itf),
                None,
                &DeepParams { dim: 4, layers: vec![8, 4], ..Default::default() },
                &Device::flex(),
            );
            let read = |e: &Embedding| e.weight.val().into_data().try_to_vec::<f32>().unwrap();
            let m = sparse.module();
            assert_ne!(read(&m.user_features.as_ref().unwrap().table), read(&init.user_features.as_ref().unwrap().table));
            assert_ne!(read(&m.item_id), read(&init.item_id));
        }
    }

    #[test]
    fn host_blocks_train_like_device_tensors() {
        // Lazy Adam on every table (ids and features), dropout on: the host-block store of the
        // CPU backends and the device-tensor store of the GPU backends (forced here on flex)
        // give the same model.
        use crate::sparse::{EmbeddingUpdate, RowOptimizer};
        let _rng = crate::backend_rng_lock();
        let (train, uf, itf) = world();
        let fit = || {
            let t = TrainConfig { embedding_update: EmbeddingUpdate::Sparse(RowOptimizer::LAZY_ADAM), lr: 0.05, ..quiet(3) };
            DeepParams { dim: 4, layers: vec![8, 4], train: t, ..Default::default() }.fit(&train, Some(&uf), Some(&itf), &Device::flex()).unwrap()
        };
        let host = fit();
        crate::trainer::FORCE_DEVICE_ROWS.with(|f| f.set(true));
        let device = fit();
        crate::trainer::FORCE_DEVICE_ROWS.with(|f| f.set(false));
        let (users, items): (Vec<u32>, Vec<u32>) = ((0..40).collect(), (0..20).collect());
        let (a, b) = (host.score_block(&users, &items), device.score_block(&users, &items));
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(worst <= 1e-4, "largest logit difference {worst}");
        let read = |e: &Embedding| e.weight.val().into_data().try_to_vec::<f32>().unwrap();
        let (fa, fb) = (read(&host.module().item_features.as_ref().unwrap().table), read(&device.module().item_features.as_ref().unwrap().table));
        assert!(fa.iter().zip(&fb).all(|(x, y)| (x - y).abs() <= 1e-5), "item feature tables differ");
    }

    #[test]
    fn a_new_user_is_scored_from_features_like_a_cold_user() {
        let _rng = crate::backend_rng_lock();
        let (train, uf, itf) = world();
        let m = DeepParams { dim: 8, layers: vec![16, 8], train: quiet(5), ..Default::default() }.fit(&train, Some(&uf), Some(&itf), &Device::flex()).unwrap();
        // User 37 has no training interaction and the feature `group=b`: a new user with that
        // feature gets the same scores.
        let items: Vec<u32> = (0..20).collect();
        let cold = m.score_block(&[37], &items);
        let new = m.score_new_user(&["group=b".to_string()]).unwrap();
        let worst = cold.iter().zip(&new).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-5, "largest difference {worst}");
        assert_ne!(new, m.score_new_user(&["group=a".to_string()]).unwrap());
        // Unknown features are named with the values their field takes.
        let e = m.score_new_user(&["group=c".to_string(), "shoe=42".to_string()]).unwrap_err();
        assert!(e.contains("`group=c`") && e.contains("`group` takes group=a, group=b") && e.contains("no field `shoe`"), "{e}");
        let plain = DeepParams { dim: 4, layers: vec![8], train: quiet(1), ..Default::default() }.fit(&train, None, Some(&itf), &Device::flex()).unwrap();
        assert!(plain.score_new_user(&["group=a".to_string()]).unwrap_err().contains("without user side features"));
        let e = m.score_new_user(&["group=a".to_string(), "group=b".to_string()]).unwrap_err();
        assert!(e.contains("`group` given more than once"), "{e}");
        assert_eq!(m.score_new_user(&["Group=B".to_string()]).unwrap(), new, "names match ignoring case");
    }

    #[test]
    fn without_features_it_is_an_id_model() {
        let _rng = crate::backend_rng_lock();
        let (train, _, _) = world();
        let m = DeepParams { dim: 4, layers: vec![8], train: quiet(3), ..Default::default() }.fit(&train, None, None, &Device::flex()).unwrap();
        assert_eq!(m.module().tower[0].weight.dims(), [8, 8]);
        let e = DeepParams { id_dropout: 1.0, ..Default::default() }.fit(&train, None, None, &Device::flex()).unwrap_err();
        assert!(e.to_string().contains("`id_dropout`"), "{e}");
    }
}
