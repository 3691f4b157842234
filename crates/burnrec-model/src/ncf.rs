//! Neural collaborative filtering (He, Liao, Zhang, Nie, Hu & Chua, "Neural Collaborative
//! Filtering", WWW 2017): GMF, MLP and NeuMF — and plain dot-product MF for implicit feedback
//! (the model BPR-MF and the NCF paper's baselines use; Rendle et al. 2009, Hu, Koren &
//! Volinsky 2008) — as one Burn module, trained on implicit feedback with binary cross-entropy
//! and sampled negatives ([`crate::trainer::train_pointwise`]), BPR
//! ([`crate::trainer::train_pairwise`]) or the sampled softmax
//! ([`crate::trainer::train_softmax`]) by the one training loop.

use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, Embedding, Linear};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burnrec_data::{Feedback, Interactions, KnownSet, Prediction, RatingPredictor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use crate::trainer::ImplicitObjective;
use crate::trainer::{EpochLog, ModuleMetric, RatingModule, TableSide, TrainConfig, TrainError, Trained, Validation, forward_pairs, train_implicit};

/// Which NCF model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NcfKind {
    /// Generalized MF: `σ(hᵀ (p_u ⊙ q_i))` — MF with a learned output weighting.
    Gmf,
    /// MLP over the concatenated user and item embeddings (ReLU tower).
    Mlp,
    /// GMF and MLP side by side with separate embeddings, their last layers concatenated
    /// before the output layer.
    NeuMf,
    /// Dot-product MF for implicit feedback: `p_uᵀ q_i + b_i` (no output layer; the GMF
    /// embeddings hold `P`, `Q`).
    Mf,
}

/// The NCF network; parts a kind does not use are `None`.
///
/// # Shapes
/// - `gmf_user`: `[n_users, factors]`, `gmf_item`: `[n_items, factors]`
/// - `mlp_user`, `mlp_item`: `[n_users | n_items, layers[0] / 2]`
/// - `tower[k]`: `[layers[k], layers[k + 1]]`; `out`: `[factors (GMF) + layers.last() (MLP), 1]`
/// - `item_bias` (dot-product MF only): `[n_items, 1]`
#[derive(Module, Debug)]
pub struct NcfModule {
    /// GMF user embeddings.
    pub gmf_user: Option<Embedding>,
    /// GMF item embeddings.
    pub gmf_item: Option<Embedding>,
    /// MLP user embeddings.
    pub mlp_user: Option<Embedding>,
    /// MLP item embeddings.
    pub mlp_item: Option<Embedding>,
    /// MLP tower (ReLU, then dropout, after every layer).
    pub tower: Vec<Linear>,
    /// Dropout after each tower layer; active only while training on an autodiff device, off
    /// in evaluation.
    pub dropout: Dropout,
    /// Output layer to one logit (absent for dot-product MF).
    pub out: Option<Linear>,
    /// Item biases of dot-product MF.
    pub item_bias: Option<Embedding>,
}

impl NcfModule {
    /// A module of `kind` for `n_users × n_items`, embeddings drawn from `N(0, 0.01²)` (the
    /// paper's init) and linear layers from `U(−1/√fan_in, 1/√fan_in)` (PyTorch's default), all
    /// by a ChaCha8 generator seeded with `seed`, so every backend starts from the same weights.
    ///
    /// `dropout` is the probability in `[0, 1)` of zeroing a tower activation while training.
    ///
    /// # Panics
    /// If `dropout` is outside `[0, 1)` (checked by [`NcfParams::fit`] before).
    #[allow(clippy::too_many_arguments)]
    pub fn new(kind: NcfKind, n_users: usize, n_items: usize, factors: usize, layers: &[usize], dropout: f64, seed: u64, device: &Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let embedding = |rows: usize, cols: usize, rng: &mut ChaCha8Rng| crate::init::normal_embedding(rows, cols, 0.01, rng, device);
        let linear = |d_in: usize, d_out: usize, rng: &mut ChaCha8Rng| crate::init::uniform_linear(d_in, d_out, rng, device);
        let gmf = kind != NcfKind::Mlp;
        let mlp = matches!(kind, NcfKind::Mlp | NcfKind::NeuMf);
        let half = layers.first().copied().unwrap_or(2) / 2;
        let (gmf_user, gmf_item) = if gmf { (Some(embedding(n_users, factors, &mut rng)), Some(embedding(n_items, factors, &mut rng))) } else { (None, None) };
        let (mlp_user, mlp_item) = if mlp { (Some(embedding(n_users, half, &mut rng)), Some(embedding(n_items, half, &mut rng))) } else { (None, None) };
        let tower = if mlp { layers.windows(2).map(|w| linear(w[0], w[1], &mut rng)).collect() } else { Vec::new() };
        let width = if gmf { factors } else { 0 } + if mlp { layers.last().copied().unwrap_or(0) } else { 0 };
        let dot = kind == NcfKind::Mf;
        let out = (!dot).then(|| linear(width, 1, &mut rng));
        let item_bias = dot.then(|| Embedding { weight: Param::from_data(TensorData::new(vec![0f32; n_items], [n_items, 1]), device) });
        let dropout = DropoutConfig::new(dropout).init();
        Self { gmf_user, gmf_item, mlp_user, mlp_item, tower, dropout, out, item_bias }
    }

    /// NeuMF assembled from a trained GMF and a trained MLP (He et al. 2017, §3.4.1): their
    /// embeddings and tower as they are, the output layer `[α w_GMF; (1 − α) w_MLP]` with bias
    /// `α b_GMF + (1 − α) b_MLP`, α = 0.5.
    ///
    /// # Panics
    /// If `gmf` is not a GMF or `mlp` not an MLP module (an internal misuse).
    pub fn from_pretrained(gmf: NcfModule, mlp: NcfModule) -> Self {
        let (Some(g_out), Some(m_out)) = (gmf.out, mlp.out) else { panic!("from_pretrained takes a GMF and an MLP") };
        assert!(gmf.gmf_user.is_some() && mlp.mlp_user.is_some(), "from_pretrained takes a GMF and an MLP");
        // New leaf parameters (from data), so they train on an autodiff device.
        let device = g_out.weight.val().device();
        let half = |p: Param<Tensor<2>>| p.val().detach().mul_scalar(0.5);
        let w = Tensor::cat(vec![half(g_out.weight), half(m_out.weight)], 0).into_data();
        let bias = match (g_out.bias, m_out.bias) {
            (Some(a), Some(b)) => Some(Param::from_data((a.val().detach() + b.val().detach()).mul_scalar(0.5).into_data(), &device)),
            _ => None,
        };
        Self {
            gmf_user: gmf.gmf_user,
            gmf_item: gmf.gmf_item,
            mlp_user: mlp.mlp_user,
            mlp_item: mlp.mlp_item,
            tower: mlp.tower,
            dropout: mlp.dropout,
            out: Some(Linear { weight: Param::from_data(w, &device), bias }),
            item_bias: None,
        }
    }

    /// Looks up `[batch]` indices in `table`: returns `[batch, cols]`.
    fn rows(table: &Embedding, idx: Tensor<1, Int>) -> Tensor<2> {
        crate::mf::BiasedMfModule::rows(table, idx)
    }

    fn tables(&self) -> [(&Option<Embedding>, bool); 5] {
        [(&self.gmf_user, true), (&self.gmf_item, false), (&self.mlp_user, true), (&self.mlp_item, false), (&self.item_bias, false)]
    }
}

impl RatingModule for NcfModule {
    /// `[batch]` logits.
    fn forward(&self, users: Tensor<1, Int>, items: Tensor<1, Int>) -> Tensor<1> {
        let [b] = users.dims();
        let mut parts = Vec::with_capacity(2);
        if let (Some(pu), Some(qi)) = (&self.gmf_user, &self.gmf_item) {
            parts.push(Self::rows(pu, users.clone()) * Self::rows(qi, items.clone()));
        }
        if let (Some(pu), Some(qi)) = (&self.mlp_user, &self.mlp_item) {
            let mut h = Tensor::cat(vec![Self::rows(pu, users.clone()), Self::rows(qi, items.clone())], 1);
            for layer in &self.tower {
                h = self.dropout.forward(relu(layer.forward(h)));
            }
            parts.push(h);
        }
        let h = if parts.len() == 1 { parts.pop().expect("one part") } else { Tensor::cat(parts, 1) };
        match (&self.out, &self.item_bias) {
            (Some(out), _) => out.forward(h).reshape([b]),
            (None, Some(bias)) => (h.sum_dim(1) + Self::rows(bias, items)).reshape([b]),
            (None, None) => h.sum_dim(1).reshape([b]),
        }
    }

    /// The embedding tables present (GMF, MLP, item bias), in `tables()` order; the tower and
    /// output layer are dense.
    fn sparse_tables(&self) -> Option<Vec<(&Embedding, TableSide)>> {
        Some(self.tables().into_iter().filter_map(|(t, is_user)| Some((t.as_ref()?, if is_user { TableSide::User } else { TableSide::Item }))).collect())
    }

    fn into_tables(self) -> Vec<Embedding> {
        [self.gmf_user, self.gmf_item, self.mlp_user, self.mlp_item, self.item_bias].into_iter().flatten().collect()
    }

    fn with_tables(&self, tables: Vec<Embedding>) -> Option<Self> {
        let mut it = tables.into_iter();
        let mut take = |present: bool| if present { it.next().map(Some) } else { Some(None) };
        let m = Self {
            gmf_user: take(self.gmf_user.is_some())?,
            gmf_item: take(self.gmf_item.is_some())?,
            mlp_user: take(self.mlp_user.is_some())?,
            mlp_item: take(self.mlp_item.is_some())?,
            item_bias: take(self.item_bias.is_some())?,
            tower: self.tower.clone(),
            dropout: self.dropout.clone(),
            out: self.out.clone(),
        };
        it.next().is_none().then_some(m)
    }

    /// Mean over the batch of the squared norms of the embedding rows it uses.
    fn penalty(&self, users: Tensor<1, Int>, items: Tensor<1, Int>) -> Tensor<1> {
        let [b] = users.dims();
        let mut total: Option<Tensor<1>> = None;
        for (table, is_user) in self.tables() {
            if let Some(t) = table {
                let idx = if is_user { users.clone() } else { items.clone() };
                let s = Self::rows(t, idx).square().sum();
                total = Some(match total {
                    Some(acc) => acc + s,
                    None => s,
                });
            }
        }
        total.expect("every kind has embeddings").div_scalar(b as f64)
    }
}

/// Parameters of an NCF model (`gmf`, `mlp`, `neumf`, and `mf` for dot-product MF, in
/// reports). Defaults are the paper's.
///
/// | name | default | meaning |
/// | --- | --- | --- |
/// | `kind` | `neu_mf` | `gmf`, `mlp`, `neu_mf` or `mf` |
/// | `factors` | 8 | GMF embedding size (predictive factors) |
/// | `layers` | `[64, 32, 16, 8]` | MLP tower widths; the input is user ⊕ item embeddings of `layers[0] / 2` each |
/// | `negatives` | 4 | sampled negatives per positive, fresh every epoch (`bce`, `softmax`) |
/// | `objective` | `bce` | `bce` (pointwise, the paper's), `bpr` (pairwise, Rendle et al. 2009) or `softmax` (sampled softmax over the positive and its `negatives`, Covington et al. 2016) |
/// | `pretrain` | false | NeuMF: start from a trained GMF and MLP (the paper's §3.4.1); costs their fits too |
/// | `dropout` | 0 | probability of zeroing each MLP-tower activation while training (off in evaluation) |
/// | `train.epochs` | 20 | passes over the positives |
/// | `train.batch_size` | 256 | samples per Adam step, positives and negatives together (51 positives with 4 negatives each) |
/// | `train.lr` | 0.001 | Adam learning rate |
/// | `train.l2` | 0 | L2 weight on the embedding rows a batch uses |
/// | `train.seed` | 42 | seeds init, batch order and negatives |
/// | `train.lr_schedule` | `constant` | or `{"exponential": {"gamma": g}}`, `{"cosine": {"min_lr": m}}` |
/// | `train.early_stopping` | none | `{"patience": p, "min_delta": d}`, with a validation (see [`NcfParams::fit_validated`]) |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NcfParams {
    /// Which model.
    pub kind: NcfKind,
    /// GMF embedding size.
    pub factors: usize,
    /// MLP tower widths.
    pub layers: Vec<usize>,
    /// Negatives per positive (`bce` and `softmax` objectives; `bpr` uses one per positive).
    pub negatives: usize,
    /// Training objective.
    pub objective: ImplicitObjective,
    /// NeuMF only: first train GMF and MLP with the same settings but Adam, then start NeuMF
    /// from their embeddings and towers, with the output layer `[½ h_GMF; ½ h_MLP]`, and train
    /// it with `train.optimizer` (the paper's pretraining, §3.4.1, α = 0.5; it uses SGD there).
    pub pretrain: bool,
    /// Dropout probability after each MLP-tower layer while training, in `[0, 1)`.
    pub dropout: f64,
    /// Optimisation settings.
    pub train: TrainConfig,
}

impl Default for NcfParams {
    fn default() -> Self {
        Self {
            kind: NcfKind::NeuMf,
            factors: 8,
            layers: vec![64, 32, 16, 8],
            negatives: 4,
            objective: ImplicitObjective::Bce,
            pretrain: false,
            dropout: 0.0,
            train: TrainConfig { epochs: 20, batch_size: 256, lr: 0.001, l2: 0.0, seed: 42, progress: true, ..Default::default() },
        }
    }
}

/// A trained NCF model, ready to score on its device. Scores are logits
/// ([`Feedback::Implicit`]); a user or item without training interactions is scored by item
/// popularity (the share of training users who interacted with the item), below every logit
/// of a known pair only in the sense that it is a different scale — rank unknown users among
/// themselves only.
#[derive(Debug)]
pub struct BurnNcf {
    pub(crate) module: NcfModule,
    pub(crate) known: KnownSet,
    pub(crate) popularity: Vec<f32>,
    pub(crate) device: Device,
    pub(crate) params: NcfParams,
    /// One entry per training epoch (`train_loss` = BCE or BPR loss).
    pub history: Vec<EpochLog>,
    /// The epoch whose weights were kept, when early stopping ran.
    pub best_epoch: Option<usize>,
}

impl NcfParams {
    /// Trains on the implicit feedback `train` (every stored pair is a positive) on `device`.
    ///
    /// # Errors
    /// [`TrainError::Param`] for `factors`/`layers`/`negatives`/training settings out of range
    /// (`layers` needs at least 2 widths, the first even, all ≥ 1, unless `kind` is `gmf`);
    /// [`TrainError::EmptyTrainSet`]; [`TrainError::Diverged`]; [`TrainError::Backend`].
    pub fn fit(&self, train: &Interactions, device: &Device) -> Result<BurnNcf, TrainError> {
        self.fit_validated(train, None, device)
    }

    /// [`NcfParams::fit`], measuring `validation` (e.g. HR@10 on held-out interactions) after
    /// every epoch on the model in evaluation mode (dropout off; in [`EpochLog::valid`]); with
    /// `train.early_stopping` set, stops after `patience` epochs without improvement and keeps
    /// the best epoch's weights — NeuMF's pretrained GMF and MLP parts too.
    ///
    /// # Errors
    /// As [`NcfParams::fit`]; [`TrainError::Param`] if early stopping is set without a
    /// validation, or `dropout` is outside `[0, 1)`.
    pub fn fit_validated(&self, train: &Interactions, validation: Option<&Validation<'_>>, device: &Device) -> Result<BurnNcf, TrainError> {
        self.check()?;
        if train.is_empty() {
            return Err(TrainError::EmptyTrainSet);
        }
        let ad = device.clone().autodiff();
        let new = |kind| NcfModule::new(kind, train.n_users(), train.n_items(), self.factors, &self.layers, self.dropout, self.train.seed, &ad);
        let counts = train.item_counts();
        let n_users = train.n_users().max(1) as f32;
        let popularity: Vec<f32> = counts.iter().map(|&c| c as f32 / n_users).collect();
        let known = KnownSet::from_train(train);
        let wrap = |m: NcfModule| BurnNcf {
            module: m,
            known: known.clone(),
            popularity: popularity.clone(),
            device: device.clone(),
            params: self.clone(),
            history: Vec::new(),
            best_epoch: None,
        };
        let score = |m: &NcfModule| validation.map_or(f64::NAN, |v| (v.score)(&wrap(m.valid())));
        let module = if self.pretrain && self.kind == NcfKind::NeuMf {
            // The parts train with Adam (the paper's §3.4.1), each stopped early on the
            // validation too when it is given; NeuMF then trains with `train.optimizer` (the
            // paper uses plain SGD there).
            let adam = TrainConfig { optimizer: crate::trainer::OptimizerKind::Adam, ..self.train.clone() };
            let part = |kind| {
                let metric = validation.map(|v| ModuleMetric { higher_is_better: v.higher_is_better, score: &score });
                self.train_with(new(kind), train, &adam, &ad, metric).map(|t| t.module)
            };
            NcfModule::from_pretrained(part(NcfKind::Gmf)?, part(NcfKind::Mlp)?)
        } else {
            new(self.kind)
        };
        let metric = validation.map(|v| ModuleMetric { higher_is_better: v.higher_is_better, score: &score });
        let t = self.train_with(module, train, &self.train, &ad, metric)?;
        Ok(BurnNcf { history: t.history, best_epoch: t.best_epoch, ..wrap(t.module.valid()) })
    }

    /// Checks every setting (also done when loading a saved model).
    ///
    /// # Errors
    /// [`TrainError::Param`] naming the first setting out of range.
    pub fn check(&self) -> Result<(), TrainError> {
        let bad = |name, value: String, expected| Err(TrainError::Param { name, value, expected });
        if self.factors == 0 && self.kind != NcfKind::Mlp {
            return bad("factors", "0".into(), ">= 1");
        }
        let towered = matches!(self.kind, NcfKind::Mlp | NcfKind::NeuMf);
        if towered && (self.layers.len() < 2 || self.layers[0] % 2 == 1 || self.layers.contains(&0)) {
            return bad("layers", format!("{:?}", self.layers), "at least 2 widths, all >= 1, the first even");
        }
        if !(self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout)) {
            return bad("dropout", self.dropout.to_string(), "in [0, 1)");
        }
        if self.negatives == 0 && self.objective != ImplicitObjective::Bpr {
            return bad("negatives", "0".into(), ">= 1");
        }
        self.train.check()
    }

    fn train_with(
        &self,
        m: NcfModule,
        train: &Interactions,
        cfg: &TrainConfig,
        ad: &Device,
        metric: Option<ModuleMetric<'_, NcfModule>>,
    ) -> Result<Trained<NcfModule>, TrainError> {
        train_implicit(self.objective, self.negatives, m, train, cfg, ad, metric)
    }
}

impl BurnNcf {
    /// The trained network.
    pub fn module(&self) -> &NcfModule {
        &self.module
    }
}

impl RatingPredictor for BurnNcf {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        let mut out: Vec<Prediction> = pairs
            .iter()
            .map(|&(u, i)| Prediction {
                rating: self.popularity.get(i as usize).copied().unwrap_or(0.0),
                known_user: self.known.user(u),
                known_item: self.known.item(i),
            })
            .collect();
        let known: Vec<usize> = (0..pairs.len()).filter(|&k| !out[k].is_fallback()).collect();
        for (&k, s) in known.iter().zip(forward_pairs(&self.module, pairs, &known, &self.device)) {
            out[k].rating = s;
        }
        out
    }

    fn score_block(&self, users: &[u32], items: &[u32]) -> Vec<f32> {
        let pairs: Vec<(u32, u32)> = users.iter().flat_map(|&u| items.iter().map(move |&i| (u, i))).collect();
        self.predict_batch(&pairs).into_iter().map(|p| p.rating).collect()
    }

    fn feedback(&self) -> Feedback {
        Feedback::Implicit
    }

    /// `mf`: `[p_u, 1] · [q_i, b_i]`. GMF: its logit `hᵀ(p_u ⊙ q_i) + b` is the dot product
    /// `(h ⊙ p_u) · q_i` plus the constant `b`, so it serves (and folds in, and finds similar
    /// items) as a factor model too. MLP and NeuMF are not dot products: `None`.
    fn dot_factors(&self) -> Option<burnrec_data::DotFactors> {
        let m = &self.module;
        if let (Some(pu), Some(qi), Some(bias), None, None) = (&m.gmf_user, &m.gmf_item, &m.item_bias, &m.out, &m.mlp_user) {
            let (users, k) = crate::mf::table_values(pu);
            let (items, _) = crate::mf::table_values(qi);
            let (bias, _) = crate::mf::table_values(bias);
            return Some(burnrec_data::DotFactors::with_bias_column(k, &users, &items, &bias, vec![0.0; users.len() / k], 0.0));
        }
        let (Some(pu), Some(qi), None, Some(out), None) = (&m.gmf_user, &m.gmf_item, &m.item_bias, &m.out, &m.mlp_user) else {
            return None;
        };
        let (mut users, k) = crate::mf::table_values(pu);
        let (items, _) = crate::mf::table_values(qi);
        let h = out.weight.val().into_data().try_to_vec::<f32>().ok()?;
        let b = out.bias.as_ref().map_or(Some(0.0), |b| b.val().into_data().try_to_vec::<f32>().ok().and_then(|v| v.first().copied()))?;
        if h.len() != k || k == 0 {
            return None;
        }
        for row in users.chunks_exact_mut(k) {
            for (x, w) in row.iter_mut().zip(&h) {
                *x *= w;
            }
        }
        let n_users = users.len() / k;
        Some(burnrec_data::DotFactors { dim: k, factor_dim: k, users, items, user_offset: vec![b; n_users], new_user_offset: b })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trainer::bce_with_logits;
    use burnrec_data::Rating;
    use burnrec_data::batch::index_tensor;

    fn quiet(epochs: usize) -> TrainConfig {
        TrainConfig { epochs, batch_size: 64, lr: 0.01, l2: 0.0, seed: 5, progress: false, ..Default::default() }
    }

    #[test]
    fn bce_is_finite_and_exact() {
        let device = Device::flex();
        let logits = Tensor::<1>::from_data(TensorData::new(vec![0.0f32, 2.0, -2.0, 1000.0, -1000.0], [5]), &device);
        let labels = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 1.0, 0.0, 0.0, 1.0], [5]), &device);
        let v = bce_with_logits(logits, labels).into_data().try_to_vec::<f32>().unwrap();
        // ln 2; ln(1 + e^-2) = 0.126928; same by symmetry; a confident wrong answer costs ≈ 1000.
        let want = [std::f32::consts::LN_2, 0.126928, 0.126928, 1000.0, 1000.0];
        for (a, b) in v.iter().zip(want) {
            assert!(a.is_finite() && (a - b).abs() < 1e-3 * b.max(1.0), "{v:?}");
        }
    }

    #[test]
    fn gmf_is_a_dot_product_model() {
        let _rng = crate::backend_rng_lock();
        let data = groups();
        let m = NcfParams { kind: NcfKind::Gmf, factors: 4, train: quiet(3), ..Default::default() }.fit(&data, &Device::flex()).unwrap();
        let f = m.dot_factors().expect("GMF exposes its factors");
        let items: Vec<u32> = (0..20).collect();
        let scores = m.score_block(&[0, 7, 33], &items);
        for (r, &u) in [0usize, 7, 33].iter().enumerate() {
            for &i in &items {
                let (x, y) = (&f.users[u * f.dim..(u + 1) * f.dim], &f.items[i as usize * f.dim..(i as usize + 1) * f.dim]);
                let dot: f32 = f.user_offset[u] + x.iter().zip(y).map(|(a, b)| a * b).sum::<f32>();
                assert!((dot - scores[r * 20 + i as usize]).abs() < 1e-5, "user {u} item {i}: {dot} vs {}", scores[r * 20 + i as usize]);
            }
        }
        let mlp = NcfParams { kind: NcfKind::Mlp, factors: 4, layers: vec![8, 4], train: quiet(1), ..Default::default() }.fit(&data, &Device::flex()).unwrap();
        assert!(mlp.dot_factors().is_none());
    }

    #[test]
    fn shapes_of_each_kind() {
        let device = Device::flex();
        for (kind, out_width) in [(NcfKind::Gmf, 8), (NcfKind::Mlp, 8), (NcfKind::NeuMf, 16)] {
            let m = NcfModule::new(kind, 5, 7, 8, &[64, 32, 16, 8], 0.0, 1, &device);
            assert_eq!(m.out.as_ref().unwrap().weight.dims(), [out_width, 1], "{kind:?}");
            assert_eq!(m.tower.len(), if kind == NcfKind::Gmf { 0 } else { 3 });
            let u = index_tensor(&[0, 4, 2], &device);
            let i = index_tensor(&[6, 0, 3], &device);
            assert_eq!(m.forward(u, i).dims(), [3]);
        }
    }

    /// Two taste groups: users 0..20 interact with items 0..10, users 20..40 with 10..20 (each
    /// user with 6 of them); NeuMF must score a user's unseen in-group items above the other
    /// group's items.
    fn groups() -> Interactions {
        let mut v = Vec::new();
        for u in 0..40u32 {
            let base = if u < 20 { 0 } else { 10 };
            for k in 0..6u32 {
                v.push(Rating { user: u, item: base + (u + k * 3) % 10, rating: 1.0, timestamp: None });
            }
        }
        v.sort_by_key(|r| (r.user, r.item));
        v.dedup_by_key(|r| (r.user, r.item));
        Interactions::new(v, 40, 20).unwrap()
    }

    /// Users (of 40) whose own group's items (0..10 for users 0..20, else 10..20) sum to a
    /// higher score than the other group's.
    fn group_wins(m: &BurnNcf) -> usize {
        let items: Vec<u32> = (0..20).collect();
        (0..40u32)
            .filter(|&u| {
                let s = m.score_block(&[u], &items);
                let (mine, other) = if u < 20 { (0..10, 10..20) } else { (10..20, 0..10) };
                mine.map(|i| s[i]).sum::<f32>() > other.map(|i| s[i]).sum::<f32>()
            })
            .count()
    }

    #[test]
    fn neumf_learns_the_groups_and_is_reproducible() {
        let _rng = crate::backend_rng_lock();
        let data = groups();
        let params = NcfParams { factors: 8, layers: vec![16, 8], train: quiet(30), ..Default::default() };
        let m = params.fit(&data, &Device::flex()).unwrap();
        assert!(m.history.last().unwrap().train_loss < m.history[0].train_loss * 0.8, "{:?}", m.history);
        let (mut inside, mut outside) = (0.0, 0.0);
        for u in 0..40u32 {
            let s = m.score_block(&[u], &(0..20).collect::<Vec<_>>());
            let (mine, other) = if u < 20 { (0..10, 10..20) } else { (10..20, 0..10) };
            inside += mine.map(|i| s[i]).sum::<f32>() / 10.0;
            outside += other.map(|i| s[i]).sum::<f32>() / 10.0;
        }
        assert!(inside > outside + 40.0 * 1.0, "mean in-group logit must exceed out-group by > 1: {inside} vs {outside}");
        let again = params.fit(&data, &Device::flex()).unwrap();
        assert_eq!(m.score_block(&[0, 39], &[0, 19]), again.score_block(&[0, 39], &[0, 19]));
        assert_eq!(m.feedback(), Feedback::Implicit);
        // Unknown user: item popularity (item 0 has some of group 0's interactions).
        let p = m.predict(99, 0);
        assert!(!p.known_user && p.rating > 0.0 && p.rating <= 1.0);
    }

    #[test]
    fn pretrained_neumf_starts_as_the_average_of_its_parts() {
        let _rng = crate::backend_rng_lock();
        // On an autodiff device, as in training: the new output layer must be a trainable leaf.
        let device = Device::flex().autodiff();
        let gmf = NcfModule::new(NcfKind::Gmf, 5, 7, 4, &[8, 4], 0.0, 1, &device);
        let mlp = NcfModule::new(NcfKind::Mlp, 5, 7, 4, &[8, 4], 0.0, 2, &device);
        let (u, i) = (index_tensor(&[0, 3, 4], &device), index_tensor(&[6, 1, 2], &device));
        let read = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
        let (g, m) = (read(gmf.forward(u.clone(), i.clone())), read(mlp.forward(u.clone(), i.clone())));
        let neumf = NcfModule::from_pretrained(gmf, mlp);
        let n = read(neumf.forward(u, i));
        for k in 0..3 {
            assert!((n[k] - 0.5 * (g[k] + m[k])).abs() < 1e-5, "{n:?} vs ½({g:?} + {m:?})");
        }
        // And it trains end to end.
        let data = groups();
        let p = NcfParams { factors: 4, layers: vec![8, 4], pretrain: true, train: quiet(2), ..Default::default() };
        assert_eq!(p.fit(&data, &Device::flex()).unwrap().history.len(), 2);
    }

    #[test]
    fn every_optimizer_trains() {
        let _rng = crate::backend_rng_lock();
        use crate::trainer::OptimizerKind;
        let data = groups();
        for (optimizer, lr) in [(OptimizerKind::Sgd, 0.5), (OptimizerKind::AdamW { weight_decay: 1e-4 }, 0.01)] {
            let train = TrainConfig { optimizer, lr, grad_clip_norm: Some(5.0), ..quiet(15) };
            let m = NcfParams { kind: NcfKind::Gmf, train, ..Default::default() }.fit(&data, &Device::flex()).unwrap();
            let (first, last) = (m.history[0].train_loss, m.history.last().unwrap().train_loss);
            assert!(last < first, "{optimizer:?}: BCE {first} → {last}");
        }
        let bad = TrainConfig { grad_clip_norm: Some(0.0), ..quiet(1) };
        let e = NcfParams { train: bad, ..Default::default() }.fit(&data, &Device::flex()).unwrap_err();
        assert!(e.to_string().contains("grad_clip_norm"), "{e}");
    }

    #[test]
    fn bpr_objective_learns_the_groups() {
        let _rng = crate::backend_rng_lock();
        let data = groups();
        let params = NcfParams { kind: NcfKind::Gmf, objective: ImplicitObjective::Bpr, train: quiet(30), ..Default::default() };
        let m = params.fit(&data, &Device::flex()).unwrap();
        assert!(m.history.last().unwrap().train_loss < m.history[0].train_loss, "{:?}", m.history);
        // Pairwise: a user's in-group items above the other group's, on average.
        let wins = group_wins(&m);
        assert!(wins >= 36, "{wins} of 40 users rank their own group higher");
    }

    #[test]
    fn softmax_objective_learns_the_groups() {
        let _rng = crate::backend_rng_lock();
        let data = groups();
        let params = NcfParams { kind: NcfKind::Gmf, objective: ImplicitObjective::Softmax, train: quiet(30), ..Default::default() };
        let m = params.fit(&data, &Device::flex()).unwrap();
        // Per positive with 4 negatives the loss starts near ln 5 = 1.609 (all logits ≈ equal).
        assert!((m.history[0].train_loss - 5f64.ln()).abs() < 0.1, "{:?}", m.history);
        assert!(m.history.last().unwrap().train_loss < m.history[0].train_loss * 0.8, "{:?}", m.history);
        let wins = group_wins(&m);
        assert!(wins >= 36, "{wins} of 40 users rank their own group higher");
    }

    #[test]
    fn sampled_softmax_loss_is_finite_and_exact() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 0.0, 0.0, 2.0, 0.0, -1.0, -1000.0, 0.0, 1000.0], [3, 3]), &device);
        let v = crate::trainer::sampled_softmax_loss(logits).into_data().try_to_vec::<f32>().unwrap();
        // ln 3; ln(1 + e^-2 + e^-3) = ln 1.185122 = 0.169850; a positive 2000 below the best
        // negative costs ≈ 2000.
        for (a, b) in v.iter().zip([3f32.ln(), 0.169850, 2000.0]) {
            assert!(a.is_finite() && (a - b).abs() < 1e-3 * b.max(1.0), "{v:?}");
        }
    }

    #[test]
    fn dot_mf_forward_is_the_dot_product_plus_item_bias() {
        let _rng = crate::backend_rng_lock();
        let device = Device::flex();
        let mut m = NcfModule::new(NcfKind::Mf, 2, 2, 2, &[], 0.0, 1, &device);
        assert!(m.out.is_none() && m.tower.is_empty() && m.mlp_user.is_none());
        let t = |v: Vec<f32>, r: usize, c: usize| Some(Embedding { weight: Param::from_data(TensorData::new(v, [r, c]), &device) });
        m.gmf_user = t(vec![1.0, 2.0, 0.5, -1.0], 2, 2);
        m.gmf_item = t(vec![3.0, 1.0, 0.0, 4.0], 2, 2);
        m.item_bias = t(vec![0.3, -0.5], 2, 1);
        let v = m.forward(index_tensor(&[0, 1, 1], &device), index_tensor(&[0, 0, 1], &device)).into_data().try_to_vec::<f32>().unwrap();
        // (0,0): 3 + 2 + 0.3; (1,0): 1.5 − 1 + 0.3; (1,1): −4 − 0.5
        for (a, b) in v.iter().zip([5.3f32, 0.8, -4.5]) {
            assert!((a - b).abs() < 1e-5, "{v:?}");
        }
        // It learns the two groups with BPR like the others.
        let data = groups();
        let p = NcfParams { kind: NcfKind::Mf, objective: ImplicitObjective::Bpr, train: quiet(30), ..Default::default() };
        let model = p.fit(&data, &Device::flex()).unwrap();
        let wins = group_wins(&model);
        assert!(wins >= 36, "{wins} of 40 users rank their own group higher");
    }

    #[test]
    fn implicit_sparse_sgd_equals_dense_sgd() {
        let _rng = crate::backend_rng_lock();
        use crate::sparse::{EmbeddingUpdate, RowOptimizer};
        use crate::trainer::OptimizerKind;
        let data = groups();
        // Dot-product MF (tables only), GMF (tables + dense output layer) and NeuMF (tables,
        // tower, output), with BCE, BPR or sampled softmax (whose negatives are drawn before the
        // step too): with
        // plain SGD everywhere (and the L2 penalty on) the row-sparse step equals the dense one.
        let cases = [
            (NcfKind::Mf, ImplicitObjective::Bce),
            (NcfKind::Gmf, ImplicitObjective::Bce),
            (NcfKind::NeuMf, ImplicitObjective::Bce),
            (NcfKind::Mf, ImplicitObjective::Bpr),
            (NcfKind::Gmf, ImplicitObjective::Bpr),
            (NcfKind::NeuMf, ImplicitObjective::Bpr),
            (NcfKind::Mf, ImplicitObjective::Softmax),
            (NcfKind::NeuMf, ImplicitObjective::Softmax),
        ];
        for (kind, objective) in cases {
            let fit = |update| {
                let train = TrainConfig { optimizer: OptimizerKind::Sgd, lr: 0.5, l2: 0.01, embedding_update: update, ..quiet(3) };
                NcfParams { kind, objective, factors: 4, layers: vec![8, 4], train, ..Default::default() }.fit(&data, &Device::flex()).unwrap()
            };
            let (dense, sparse) = (fit(EmbeddingUpdate::Dense), fit(EmbeddingUpdate::Sparse(RowOptimizer::Sgd)));
            let items: Vec<u32> = (0..20).collect();
            let (a, b) = (dense.score_block(&[0, 13, 27], &items), sparse.score_block(&[0, 13, 27], &items));
            let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
            assert!(worst <= 1e-5, "{kind:?} {objective:?}: largest score difference {worst}");
            // GMF with BPR barely leaves ln 2 in 3 epochs from the paper's N(0, 0.01²) init (the
            // output bias cancels in x_ui − x_uj and every gradient is a product of small
            // factors); the equality above still covers its row updates.
            if (kind, objective) != (NcfKind::Gmf, ImplicitObjective::Bpr) {
                assert!(dense.history[2].train_loss < dense.history[0].train_loss, "{kind:?} {objective:?}");
            }
        }
        // NeuMF with lazy Adam on the tables and Adam on the tower learns the groups.
        let train = TrainConfig { embedding_update: EmbeddingUpdate::Sparse(RowOptimizer::LAZY_ADAM), ..quiet(30) };
        let m = NcfParams { factors: 8, layers: vec![16, 8], train, ..Default::default() }.fit(&data, &Device::flex()).unwrap();
        assert!(m.history.last().unwrap().train_loss < m.history[0].train_loss * 0.8, "{:?}", m.history);
    }

    #[test]
    fn dropout_trains_but_is_off_in_evaluation() {
        let _rng = crate::backend_rng_lock();
        let ad = Device::flex().autodiff();
        let m = NcfModule::new(NcfKind::Mlp, 5, 7, 4, &[8, 4], 0.5, 1, &ad);
        let (u, i) = (index_tensor(&[0, 1, 2, 3, 4], &ad), index_tensor(&[6, 5, 4, 3, 2], &ad));
        let read = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
        ad.seed(1);
        let a = read(m.forward(u.clone(), i.clone()));
        let b = read(m.forward(u.clone(), i.clone()));
        assert_ne!(a, b, "dropout must be active while training");
        let eval = m.valid();
        let dev = Device::flex();
        let (u, i) = (index_tensor(&[0, 1, 2, 3, 4], &dev), index_tensor(&[6, 5, 4, 3, 2], &dev));
        assert_eq!(read(eval.forward(u.clone(), i.clone())), read(eval.forward(u, i)));
        // A trained model with dropout scores deterministically.
        let p = NcfParams { dropout: 0.3, train: quiet(3), ..Default::default() };
        let trained = p.fit(&groups(), &Device::flex()).unwrap();
        assert_eq!(trained.score_block(&[0, 5], &[1, 2, 3]), trained.score_block(&[0, 5], &[1, 2, 3]));
        let e = NcfParams { dropout: 1.0, ..Default::default() }.fit(&groups(), &Device::flex()).unwrap_err();
        assert!(e.to_string().contains("`dropout`"), "{e}");
    }

    #[test]
    fn bpr_loss_is_finite_and_exact() {
        let device = Device::flex();
        let d = Tensor::<1>::from_data(TensorData::new(vec![0.0f32, 3.0, -1000.0], [3]), &device);
        let v = crate::trainer::bpr_loss(d).into_data().try_to_vec::<f32>().unwrap();
        // ln 2; ln(1 + e^-3) = 0.048587; ≈ 1000.
        for (a, b) in v.iter().zip([std::f32::consts::LN_2, 0.048587, 1000.0]) {
            assert!((a - b).abs() < 1e-3 * b.max(1.0), "{v:?}");
        }
    }

    #[test]
    fn bad_settings_are_named() {
        let _rng = crate::backend_rng_lock();
        let data = groups();
        let e = NcfParams { layers: vec![63, 8], ..Default::default() }.fit(&data, &Device::flex()).unwrap_err();
        assert!(e.to_string().contains("`layers`"), "{e}");
        let e = NcfParams { negatives: 0, ..Default::default() }.fit(&data, &Device::flex()).unwrap_err();
        assert!(e.to_string().contains("`negatives`"), "{e}");
    }
}
