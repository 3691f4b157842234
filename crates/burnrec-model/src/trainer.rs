//! One training loop for every Burn model.
//!
//! Any module implementing [`RatingModule`] is trained by the same loop (seeded shuffled
//! mini-batches, an objective plus an L2 penalty on the parameters the batch touched, Adam /
//! AdamW / SGD with optional gradient clipping, a per-epoch learning-rate schedule, a progress
//! bar on stderr with the loss and samples/s, divergence detection naming the epoch and step,
//! and — given a [`Validation`] — early stopping with patience and best-checkpoint restore),
//! with one of four objectives:
//! - [`train_explicit`]: mean squared error on `r − μ` (explicit ratings);
//! - [`train_pointwise`]: binary cross-entropy on logits, each positive with sampled negatives
//!   (implicit feedback, He et al. 2017), computed with log-sigmoid so that it stays finite for
//!   any logit;
//! - [`train_pairwise`]: BPR, `−ln σ(x_ui − x_uj)` with one sampled negative per positive
//!   (Rendle et al. 2009), also through log-sigmoid;
//! - [`train_softmax`]: sampled softmax, the positive's cross-entropy among itself and its
//!   sampled negatives (Covington et al. 2016), through log-softmax.

use std::time::Instant;

use burn::data::dataloader::batcher::Batcher;
use burn::module::{Module, Param};
use burn::nn::Embedding;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, SgdConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use std::sync::Arc;

use burn::tensor::activation::{log_sigmoid, log_softmax};
use burnrec_data::batch::{ExplicitBatcher, Features, PairwiseBatcher, PointwiseBatcher, index_tensor};
use burnrec_data::sampling::NegativeSampler;
use burnrec_data::{Interactions, Rating, RatingPredictor};

use crate::sparse::{EmbeddingUpdate, HostTables, RowOptimizer, RowState, gather, unique};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A Burn module that scores (user, item) pairs: predicted ratings as deviations from the
/// global mean μ (explicit models), or logits of "the user interacts with the item" (implicit
/// models).
pub trait RatingModule: Module {
    /// `users`, `items`: `[batch]` indices; returns `[batch]` predictions of `r − μ` in rating
    /// units, or `[batch]` logits.
    fn forward(&self, users: Tensor<1, Int>, items: Tensor<1, Int>) -> Tensor<1>;

    /// `[1]` L2 penalty of the parameters this batch uses, averaged over the batch
    /// (per-rating regularisation, as in SGD matrix factorisation).
    fn penalty(&self, users: Tensor<1, Int>, items: Tensor<1, Int>) -> Tensor<1>;

    /// The embedding tables that [`EmbeddingUpdate::Sparse`] updates row by row, each with the
    /// ids that index it (the module's other parameters keep the dense optimiser). `None` (the
    /// default) for modules without such tables.
    fn sparse_tables(&self) -> Option<Vec<(&Embedding, TableSide)>> {
        None
    }

    /// The tables, by value, in [`RatingModule::sparse_tables`] order (empty by default): a
    /// table owned once can be updated in place.
    fn into_tables(self) -> Vec<Embedding> {
        Vec::new()
    }

    /// A copy of the module with its tables replaced, in [`RatingModule::sparse_tables`]
    /// order (`None` by default).
    fn with_tables(&self, _tables: Vec<Embedding>) -> Option<Self> {
        None
    }

    /// For a table indexed by side features ([`TableSide::UserFeatures`] /
    /// [`TableSide::ItemFeatures`]): the rows that users (items) `ids` (global indices,
    /// ascending) read, ascending and distinct. Empty by default (no such tables).
    fn feature_rows(&self, _side: TableSide, _ids: &[u32]) -> Vec<u32> {
        Vec::new()
    }

    /// The module of one row-sparse step: each table of `tables` holds rows `rows.of(side)` of
    /// the full table, in [`RatingModule::sparse_tables`] order, and the step's samples index
    /// the user and item tables locally. Modules with per-row data beside their tables (the deep
    /// hybrid's known masks and feature bags) keep the maps to read it; the default is
    /// [`RatingModule::with_tables`].
    fn with_batch_rows(&self, tables: Vec<Embedding>, _rows: &StepRows<'_>) -> Option<Self> {
        self.with_tables(tables)
    }
}

/// Runs `module` (in evaluation mode, on `device`) on the pairs `pairs[k]` for each `k` in
/// `selected`, in blocks of 65 536 so memory stays bounded; returns their `[selected.len()]`
/// outputs (`r − μ` or logits) in `selected` order — the one place the trained Burn models score
/// pairs.
///
/// # Panics
/// If a selected index is out of `pairs`, or a user/item index is outside the module's tables
/// (callers route those to their fallbacks first).
pub fn forward_pairs<M: RatingModule>(module: &M, pairs: &[(u32, u32)], selected: &[usize], device: &Device) -> Vec<f32> {
    const BLOCK: usize = 65_536;
    let mut out = Vec::with_capacity(selected.len());
    for block in selected.chunks(BLOCK) {
        let users: Vec<u32> = block.iter().map(|&k| pairs[k].0).collect();
        let items: Vec<u32> = block.iter().map(|&k| pairs[k].1).collect();
        let t = module.forward(index_tensor(&users, device), index_tensor(&items, device));
        out.extend(t.into_data().try_to_vec::<f32>().expect("float tensor reads back as f32"));
    }
    out
}

/// Which ids index an embedding table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableSide {
    /// Rows are users.
    User,
    /// Rows are items.
    Item,
    /// Rows are side features of users; a step trains those of its users
    /// ([`RatingModule::feature_rows`]).
    UserFeatures,
    /// Rows are side features of items; a step trains those of its items.
    ItemFeatures,
}

/// The rows one row-sparse step trains, by what indexes them: global indices, ascending and
/// distinct.
#[derive(Clone, Copy, Debug)]
pub struct StepRows<'a> {
    /// The batch's users.
    pub users: &'a [u32],
    /// The batch's items (positives and sampled negatives).
    pub items: &'a [u32],
    /// The side features of those users ([`RatingModule::feature_rows`]).
    pub user_features: &'a [u32],
    /// The side features of those items.
    pub item_features: &'a [u32],
}

impl StepRows<'_> {
    /// The rows of a table indexed by `side`.
    pub fn of(&self, side: TableSide) -> &[u32] {
        match side {
            TableSide::User => self.users,
            TableSide::Item => self.items,
            TableSide::UserFeatures => self.user_features,
            TableSide::ItemFeatures => self.item_features,
        }
    }
}

/// Optimisation settings shared by every explicit model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training ratings.
    pub epochs: usize,
    /// Ratings per mini-batch.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Weight λ of the L2 penalty (see [`RatingModule::penalty`]).
    pub l2: f64,
    /// Seeds the batch order (and, in the models, the initialisation).
    pub seed: u64,
    /// Draw a progress bar on stderr (only when stderr is a terminal).
    pub progress: bool,
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// Clip each gradient to this L2 norm before the step (off when `None`).
    pub grad_clip_norm: Option<f32>,
    /// Learning rate by epoch.
    pub lr_schedule: LrSchedule,
    /// Stop when the validation metric has not improved for `patience` epochs and restore the
    /// best epoch's weights (needs a [`Validation`]; off when `None`).
    pub early_stopping: Option<EarlyStopping>,
    /// Dense (Burn's optimiser on every row) or row-sparse embedding updates
    /// ([`crate::sparse`]; modules implementing [`RatingModule::sparse_tables`] — biased MF,
    /// the NCF family, the deep hybrid's id and side-feature tables — with any objective).
    /// With `sparse`, the tables use the row optimiser and the dense layers (towers and output
    /// layers) keep `optimizer`; `grad_clip_norm`
    /// and AdamW's decoupled weight decay then act on the dense layers only (regularise the
    /// tables with `l2`). NeuMF's pretrained parts use the same setting.
    pub embedding_update: EmbeddingUpdate,
}

/// Learning rate of epoch `e` (1-based) from the base rate `lr` of [`TrainConfig`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    /// `lr` every epoch.
    #[default]
    Constant,
    /// `lr · gamma^(e − 1)`.
    Exponential {
        /// Decay factor per epoch, in (0, 1].
        gamma: f64,
    },
    /// Cosine annealing from `lr` at epoch 1 towards `min_lr`, reached just after the last
    /// epoch: epoch `e` of `E` trains at `min_lr + ½(lr − min_lr)(1 + cos(π(e − 1)/E))`, as
    /// PyTorch's `CosineAnnealingLR` with `T_max = E` stepped per epoch (Loshchilov & Hutter,
    /// "SGDR", ICLR 2017, without restarts). (Until 2026-11-30 the last epoch trained at
    /// `min_lr`, a wasted epoch with `min_lr = 0`.)
    Cosine {
        /// The rate the schedule tends to, in [0, lr].
        min_lr: f64,
    },
}

impl LrSchedule {
    /// The rate of 1-based `epoch` out of `epochs`, from the base rate `lr`.
    pub fn rate(self, lr: f64, epoch: usize, epochs: usize) -> f64 {
        match self {
            LrSchedule::Constant => lr,
            LrSchedule::Exponential { gamma } => lr * gamma.powi(epoch.saturating_sub(1) as i32),
            LrSchedule::Cosine { min_lr } => {
                let t = epoch.saturating_sub(1) as f64 / epochs.max(1) as f64;
                min_lr + 0.5 * (lr - min_lr) * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

/// Early stopping on the validation metric of a [`Validation`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStopping {
    /// Epochs without an improvement of more than `min_delta` before training stops.
    pub patience: usize,
    /// Smallest change that counts as an improvement, in the metric's units.
    #[serde(default)]
    pub min_delta: f64,
}

/// A metric the trainer measures after every epoch on the model in evaluation mode (dropout
/// off), for learning curves and [`EarlyStopping`]. The model is handed over as a
/// [`RatingPredictor`], so any evaluation (RMSE, HR@K, NDCG@K, … from `burnrec-eval`) can be
/// plugged in without the model crate depending on it.
pub struct Validation<'a> {
    /// Name for logs, e.g. `rmse` or `ndcg@10`.
    pub name: String,
    /// Whether larger values are better (NDCG) or smaller (RMSE).
    pub higher_is_better: bool,
    /// Computes the metric of a model.
    pub score: ScoreFn<'a>,
}

/// The metric function of a [`Validation`].
pub type ScoreFn<'a> = Box<dyn Fn(&dyn RatingPredictor) -> f64 + 'a>;

impl std::fmt::Debug for Validation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validation").field("name", &self.name).field("higher_is_better", &self.higher_is_better).finish_non_exhaustive()
    }
}

/// Optimizer of [`TrainConfig`] (Burn's implementations).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// Adam (Kingma & Ba, ICLR 2015): β = (0.9, 0.999), ε = 1e-5.
    #[default]
    Adam,
    /// AdamW (Loshchilov & Hutter, ICLR 2019) with decoupled weight decay.
    AdamW {
        /// Decoupled weight-decay rate.
        weight_decay: f32,
    },
    /// Plain stochastic gradient descent (no momentum).
    Sgd,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 20,
            batch_size: 1024,
            lr: 0.005,
            l2: 0.05,
            seed: 42,
            progress: true,
            optimizer: OptimizerKind::Adam,
            grad_clip_norm: None,
            lr_schedule: LrSchedule::Constant,
            early_stopping: None,
            embedding_update: EmbeddingUpdate::Dense,
        }
    }
}

/// What happened in one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss of the epoch (without the penalty): MSE in rating units² for
    /// explicit models; for implicit ones binary cross-entropy in nats per sample, BPR in nats
    /// per triple or sampled softmax cross-entropy in nats per positive.
    pub train_loss: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Training samples (ratings, or positives plus negatives) processed per second.
    pub samples_per_s: f64,
    /// Learning rate of the epoch (after the schedule).
    pub lr: f64,
    /// Peak resident memory of the process so far, MiB (Linux `VmHWM`; `None` elsewhere).
    /// Host memory only: GPU memory is not included.
    #[serde(default)]
    pub peak_rss_mib: Option<f64>,
    /// The validation metric after the epoch (model in evaluation mode), when a
    /// [`Validation`] was given: e.g. RMSE in rating units for `fit_with_valid`.
    pub valid: Option<f64>,
}

/// The trained module with its per-epoch log.
#[derive(Debug)]
pub struct Trained<M> {
    /// The module (the best epoch's weights when early stopping ran).
    pub module: M,
    /// One entry per epoch run.
    pub history: Vec<EpochLog>,
    /// The 1-based epoch whose weights `module` holds when early stopping ran.
    pub best_epoch: Option<usize>,
}

/// Errors of the trainer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A setting is out of range.
    #[error("invalid setting `{name}` = {value}: expected {expected}")]
    Param {
        /// Setting name.
        name: &'static str,
        /// Offending value.
        value: String,
        /// Valid range.
        expected: &'static str,
    },
    /// The training set has no ratings.
    #[error("training set is empty")]
    EmptyTrainSet,
    /// The loss became NaN or infinite.
    #[error("training diverged at epoch {epoch}, step {step}: the batch loss is {loss} (try a lower learning rate, gradient clipping or more L2)")]
    Diverged {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step (mini-batch) within the epoch: the first whose loss is not finite.
        step: usize,
        /// The non-finite value.
        loss: f64,
    },
    /// The backend failed to execute or read back a tensor.
    #[error("backend error: {0}")]
    Backend(String),
}

impl TrainConfig {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`TrainError::Param`] naming the first setting out of range.
    pub fn check(&self) -> Result<(), TrainError> {
        let bad = |name, value: String, expected| Err(TrainError::Param { name, value, expected });
        if self.epochs == 0 {
            return bad("epochs", self.epochs.to_string(), ">= 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", self.batch_size.to_string(), ">= 1");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", self.lr.to_string(), "finite and > 0");
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return bad("l2", self.l2.to_string(), "finite and >= 0");
        }
        if let OptimizerKind::AdamW { weight_decay } = self.optimizer
            && !(weight_decay.is_finite() && weight_decay >= 0.0)
        {
            return bad("optimizer.adam_w.weight_decay", weight_decay.to_string(), "finite and >= 0");
        }
        if let Some(c) = self.grad_clip_norm
            && !(c.is_finite() && c > 0.0)
        {
            return bad("grad_clip_norm", c.to_string(), "finite and > 0");
        }
        match self.lr_schedule {
            LrSchedule::Exponential { gamma } if !(gamma > 0.0 && gamma <= 1.0) => {
                return bad("lr_schedule.exponential.gamma", gamma.to_string(), "in (0, 1]");
            }
            LrSchedule::Cosine { min_lr } if !(min_lr >= 0.0 && min_lr <= self.lr) => {
                return bad("lr_schedule.cosine.min_lr", min_lr.to_string(), "in [0, lr]");
            }
            _ => {}
        }
        match self.embedding_update {
            EmbeddingUpdate::Sparse(RowOptimizer::Adagrad { eps }) if !(eps.is_finite() && eps > 0.0) => {
                return bad("embedding_update.sparse.adagrad.eps", eps.to_string(), "finite and > 0");
            }
            EmbeddingUpdate::Sparse(RowOptimizer::LazyAdam { beta1, beta2, eps }) => {
                if !((0.0..1.0).contains(&beta1) && (0.0..1.0).contains(&beta2)) {
                    return bad("embedding_update.sparse.lazy_adam.beta1/beta2", format!("{beta1}/{beta2}"), "in [0, 1)");
                }
                if !(eps.is_finite() && eps > 0.0) {
                    return bad("embedding_update.sparse.lazy_adam.eps", eps.to_string(), "finite and > 0");
                }
            }
            _ => {}
        }
        if let Some(es) = self.early_stopping {
            if es.patience == 0 {
                return bad("early_stopping.patience", "0".into(), ">= 1");
            }
            if !(es.min_delta.is_finite() && es.min_delta >= 0.0) {
                return bad("early_stopping.min_delta", es.min_delta.to_string(), "finite and >= 0");
            }
        }
        Ok(())
    }
}

/// A per-epoch metric of the module being trained (see [`Validation`] for the predictor-level
/// form the model types build it from).
pub struct ModuleMetric<'a, M> {
    /// Whether larger values are better.
    pub higher_is_better: bool,
    /// Computes the metric; receives the training module (switch it to evaluation mode with
    /// `Module::valid` before scoring).
    pub score: &'a dyn Fn(&M) -> f64,
}

/// Trains `model` (whose parameters live on an autodiff device) on `train` to predict
/// `r − mu` (mean squared error plus the L2 penalty), measuring `metric` after every epoch
/// when given (for learning curves and early stopping).
///
/// # Errors
/// [`TrainError::Param`] (including early stopping without a metric),
/// [`TrainError::EmptyTrainSet`], [`TrainError::Diverged`] (naming the epoch and step), or
/// [`TrainError::Backend`] if reading the loss back fails.
pub fn train_explicit<M: RatingModule>(
    model: M,
    train: &Interactions,
    mu: f32,
    cfg: &TrainConfig,
    device: &Device,
    metric: Option<ModuleMetric<'_, M>>,
) -> Result<Trained<M>, TrainError> {
    let batcher = ExplicitBatcher { offset: mu, features: Features::default() };
    fit_loop(
        model,
        train,
        cfg,
        cfg.batch_size,
        1,
        &|batch: Vec<Rating>| batch,
        device,
        |_| {},
        |model: &M, batch: Vec<Rating>, device: &Device| {
            let b = batcher.batch(batch, device);
            let n = b.targets.dims()[0];
            let pred = model.forward(b.users.clone(), b.items.clone());
            let se = (pred - b.targets).square().sum();
            let loss = se.clone().div_scalar(n as f64) + model.penalty(b.users, b.items).mul_scalar(cfg.l2);
            (loss, se, n)
        },
        metric,
    )
}

/// Trains `model` (parameters on an autodiff device) to output logits of "user interacts with
/// item" on the implicit feedback `train` (every stored pair is a positive; values are
/// ignored): each positive comes with `negatives` items drawn uniformly among those the user
/// has no training interaction with (fresh draws every epoch, seeded by `cfg.seed`);
/// `cfg.batch_size` counts samples (a step takes `batch_size / (1 + negatives)` positives with
/// their negatives); the
/// loss is the binary cross-entropy `−[y ln σ(x) + (1 − y) ln σ(−x)]` averaged over the
/// batch's samples, computed with log-sigmoid (finite for any logit), plus the L2 penalty.
/// `EpochLog::train_loss` is that BCE; `EpochLog::valid` is `metric` when given.
///
/// # Errors
/// As [`train_explicit`]; also [`TrainError::Param`] if `negatives` is 0.
pub fn train_pointwise<M: RatingModule>(
    model: M,
    train: &Interactions,
    negatives: usize,
    cfg: &TrainConfig,
    device: &Device,
    metric: Option<ModuleMetric<'_, M>>,
) -> Result<Trained<M>, TrainError> {
    let (batcher, positives) = sampled_batcher(train, negatives, cfg)?;
    // The negatives are drawn before the step (`expand`), so the samples can be remapped to
    // the batch's rows for row-sparse updates; the labels travel in `Rating::rating`.
    let expand = |batch: Vec<Rating>| batcher.expand(&batch);
    fit_loop(
        model,
        train,
        cfg,
        positives,
        1 + negatives,
        &expand,
        device,
        |epoch| batcher.set_epoch(epoch as u64),
        |model: &M, samples: Vec<Rating>, device: &Device| {
            let n = samples.len();
            let (users, items) = sample_ids(&samples, device);
            let labels: Vec<f32> = samples.iter().map(|r| r.rating).collect();
            let labels = Tensor::<1>::from_data(burn::tensor::TensorData::new(labels, [n]), device);
            let logits = model.forward(users.clone(), items.clone());
            let bce = bce_with_logits(logits, labels).sum();
            let loss = bce.clone().div_scalar(n as f64) + model.penalty(users, items).mul_scalar(cfg.l2);
            (loss, bce, n)
        },
        metric,
    )
}

/// Trains `model` on the implicit feedback `train` with the BPR objective (Rendle,
/// Freudenthaler, Gantner & Schmidt-Thieme, "BPR: Bayesian Personalized Ranking from Implicit
/// Feedback", UAI 2009): for each positive `(u, i)` one item `j` drawn uniformly among those
/// `u` has no training interaction with (fresh every epoch, seeded), and the loss
/// `−ln σ(x_ui − x_uj)` through log-sigmoid, averaged over the batch's triples, plus the L2
/// penalty on both items' rows. `cfg.batch_size` counts triples. `EpochLog::train_loss` is
/// that BPR loss.
///
/// # Errors
/// As [`train_explicit`].
pub fn train_pairwise<M: RatingModule>(
    model: M,
    train: &Interactions,
    cfg: &TrainConfig,
    device: &Device,
    metric: Option<ModuleMetric<'_, M>>,
) -> Result<Trained<M>, TrainError> {
    let sampler = Arc::new(NegativeSampler::new(train));
    let batcher = PairwiseBatcher::new(sampler, cfg.seed.wrapping_add(1));
    // The negatives are drawn before the step (`expand`: positive, negative, positive, …), so
    // the samples can be remapped to the batch's rows for row-sparse updates.
    let expand = |batch: Vec<Rating>| batcher.expand(&batch);
    fit_loop(
        model,
        train,
        cfg,
        cfg.batch_size,
        2,
        &expand,
        device,
        |epoch| batcher.set_epoch(epoch as u64),
        |model: &M, samples: Vec<Rating>, device: &Device| {
            let n = samples.len() / 2;
            let (users, items) = sample_ids(&samples, device);
            // One forward over both halves: row k of `[n, 2]` is (x_ui, x_uj) of triple k.
            let scores = model.forward(users.clone(), items.clone()).reshape([n, 2]);
            let diff = (scores.clone().narrow(1, 0, 1) - scores.narrow(1, 1, 1)).reshape([n]);
            let bpr = bpr_loss(diff).sum();
            // `penalty` averages over its 2n samples; the objective's is per triple (the user's
            // row counted for both of its items).
            let penalty = model.penalty(users, items).mul_scalar(2.0);
            let loss = bpr.clone().div_scalar(n.max(1) as f64) + penalty.mul_scalar(cfg.l2);
            (loss, bpr, n)
        },
        metric,
    )
}

/// Trains `model` on the implicit feedback `train` with the sampled softmax objective (Bengio &
/// Senécal, "Adaptive Importance Sampling to Accelerate Training of a Neural Probabilistic
/// Language Model", IEEE TNN 2008; for recommendation Covington, Adams & Sargin, "Deep Neural
/// Networks for YouTube Recommendations", RecSys 2016): each positive `(u, i)` comes with
/// `negatives` items `j_1 … j_K` drawn uniformly among those `u` has no training interaction
/// with (fresh every epoch, seeded), and the loss is the cross-entropy of the positive among
/// its `1 + K` candidates, `−x_ui + ln(e^{x_ui} + Σ_k e^{x_uj_k})`, through log-softmax (finite
/// for any logits), averaged over the batch's positives, plus the L2 penalty. Uniform
/// sampling needs no log-Q correction (it shifts every logit by the same constant).
/// `cfg.batch_size` counts samples as in [`train_pointwise`] (negatives are drawn with
/// replacement, so a user with one non-interacted item gets it `K` times; a positive whose user
/// has none is skipped). `EpochLog::train_loss` is that cross-entropy (nats per positive).
///
/// # Errors
/// As [`train_explicit`]; also [`TrainError::Param`] if `negatives` is 0.
pub fn train_softmax<M: RatingModule>(
    model: M,
    train: &Interactions,
    negatives: usize,
    cfg: &TrainConfig,
    device: &Device,
    metric: Option<ModuleMetric<'_, M>>,
) -> Result<Trained<M>, TrainError> {
    let (batcher, positives) = sampled_batcher(train, negatives, cfg)?;
    let group = 1 + negatives;
    // Positive then its negatives, as `train_pointwise`; only complete groups are kept so that
    // the samples reshape to `[positives, 1 + K]`.
    let expand = |batch: Vec<Rating>| complete_groups(batcher.expand(&batch), group);
    fit_loop(
        model,
        train,
        cfg,
        positives,
        group,
        &expand,
        device,
        |epoch| batcher.set_epoch(epoch as u64),
        |model: &M, samples: Vec<Rating>, device: &Device| {
            let n = samples.len() / group;
            let (users, items) = sample_ids(&samples, device);
            let logits = model.forward(users.clone(), items.clone()).reshape([n, group]);
            let ce = sampled_softmax_loss(logits).sum();
            // `penalty` averages over the `n (1 + K)` samples; the objective's is per positive.
            let penalty = model.penalty(users, items).mul_scalar(group as f64);
            let loss = ce.clone().div_scalar(n.max(1) as f64) + penalty.mul_scalar(cfg.l2);
            (loss, ce, n)
        },
        metric,
    )
}

/// The batcher that draws `negatives` seeded uniform negatives per positive of `train` (for
/// [`train_pointwise`] and [`train_softmax`]) and the positives a step takes: `batch_size`
/// counts samples, positives and negatives together (the paper's and the peers' convention),
/// so 256 samples with 4 negatives are 51 positives per step.
fn sampled_batcher(train: &Interactions, negatives: usize, cfg: &TrainConfig) -> Result<(PointwiseBatcher, usize), TrainError> {
    if negatives == 0 {
        return Err(TrainError::Param { name: "negatives", value: "0".into(), expected: ">= 1" });
    }
    let sampler = Arc::new(NegativeSampler::new(train));
    let batcher = PointwiseBatcher::new(sampler, negatives, cfg.seed.wrapping_add(1));
    Ok((batcher, (cfg.batch_size / (1 + negatives)).max(1)))
}

/// The samples of [`PointwiseBatcher::expand`] (each positive, label 1, followed by its
/// negatives, label 0) without the positives that have fewer than `group − 1` negatives (the
/// sampler draws with replacement, so that happens only to a user with no non-interacted item
/// at all, who gets none), so that they form `len / group` complete groups.
fn complete_groups(samples: Vec<Rating>, group: usize) -> Vec<Rating> {
    let mut out = Vec::with_capacity(samples.len());
    let mut start = 0;
    while start < samples.len() {
        let end = samples[start + 1..].iter().position(|r| r.rating > 0.5).map_or(samples.len(), |k| start + 1 + k);
        if end - start == group {
            out.extend_from_slice(&samples[start..end]);
        }
        start = end;
    }
    out
}

/// The `[n]` user and `[n]` item index tensors of `n` samples, on `device`.
fn sample_ids(samples: &[Rating], device: &Device) -> (Tensor<1, Int>, Tensor<1, Int>) {
    let users: Vec<u32> = samples.iter().map(|r| r.user).collect();
    let items: Vec<u32> = samples.iter().map(|r| r.item).collect();
    (index_tensor(&users, device), index_tensor(&items, device))
}

/// Objective of an implicit-feedback Burn model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImplicitObjective {
    /// Pointwise binary cross-entropy with `negatives` sampled negatives per positive (the NCF
    /// paper's; [`train_pointwise`]).
    #[default]
    Bce,
    /// Pairwise BPR with one sampled negative per positive ([`train_pairwise`]).
    Bpr,
    /// Sampled softmax: the positive's cross-entropy among itself and `negatives` sampled
    /// negatives ([`train_softmax`]).
    Softmax,
}

/// [`train_pointwise`] (with `negatives` per positive), [`train_pairwise`] or [`train_softmax`]
/// (with `negatives` per positive), by `objective`.
///
/// # Errors
/// As those.
#[allow(clippy::too_many_arguments)]
pub fn train_implicit<M: RatingModule>(
    objective: ImplicitObjective,
    negatives: usize,
    model: M,
    train: &Interactions,
    cfg: &TrainConfig,
    device: &Device,
    metric: Option<ModuleMetric<'_, M>>,
) -> Result<Trained<M>, TrainError> {
    match objective {
        ImplicitObjective::Bce => train_pointwise(model, train, negatives, cfg, device, metric),
        ImplicitObjective::Bpr => train_pairwise(model, train, cfg, device, metric),
        ImplicitObjective::Softmax => train_softmax(model, train, negatives, cfg, device, metric),
    }
}

/// Element-wise BPR loss of score differences `x_ui − x_uj`: `−ln σ(d)`, through log-sigmoid
/// (finite for any difference). `[n]` → `[n]`, nats.
pub fn bpr_loss(diff: Tensor<1>) -> Tensor<1> {
    -log_sigmoid(diff)
}

/// Row-wise sampled softmax cross-entropy (Bengio & Senécal 2008; Covington et al. 2016):
/// `logits` `[n, 1 + K]` holds in each row the positive's logit (column 0) and its `K`
/// negatives'; returns `[n]`, the positive's `−x_0 + ln Σ_k e^{x_k}` in nats, through
/// log-softmax (finite for any logits).
pub fn sampled_softmax_loss(logits: Tensor<2>) -> Tensor<1> {
    let n = logits.dims()[0];
    -log_softmax(logits, 1).narrow(1, 0, 1).reshape([n])
}

/// Element-wise binary cross-entropy of `logits` against 0/1 `labels`:
/// `−[y ln σ(x) + (1 − y) ln σ(−x)]`, through log-sigmoid (never `ln(σ(x))`), so a logit of
/// ±1000 gives a finite loss. `[n]` → `[n]`, nats.
pub fn bce_with_logits(logits: Tensor<1>, labels: Tensor<1>) -> Tensor<1> {
    let pos = log_sigmoid(logits.clone());
    let neg = log_sigmoid(logits.neg());
    let ones = labels.ones_like();
    -(labels.clone() * pos + (ones - labels) * neg)
}

/// The one training loop: for each epoch, `before_epoch(epoch)`, then seeded shuffled
/// mini-batches of `chunk` of `train`'s ratings (each expanding to about `per_rating` samples),
/// each turned by `batch_loss(model, ratings, device)` into `(loss to minimise, summed
/// monitored loss, samples)`, an optimiser step at the epoch's scheduled rate; after the epoch
/// the per-step losses are read back once (divergence names the first bad step), then
/// `metric` is measured and early stopping decides.
#[allow(clippy::too_many_arguments)]
fn fit_loop<M: RatingModule>(
    mut model: M,
    train: &Interactions,
    cfg: &TrainConfig,
    chunk: usize,
    per_rating: usize,
    // Turns a chunk of training ratings into the samples `batch_loss` takes, with global ids
    // (explicit: the ratings; pointwise: positives and drawn negatives; pairwise: positive,
    // negative pairs), so that they can be remapped to the batch's local rows (row-sparse
    // updates).
    expand: &dyn Fn(Vec<Rating>) -> Vec<Rating>,
    device: &Device,
    mut before_epoch: impl FnMut(usize),
    batch_loss: impl Fn(&M, Vec<Rating>, &Device) -> (Tensor<1>, Tensor<1>, usize),
    metric: Option<ModuleMetric<'_, M>>,
) -> Result<Trained<M>, TrainError> {
    cfg.check()?;
    if train.is_empty() {
        return Err(TrainError::EmptyTrainSet);
    }
    if let (Some(es), None) = (cfg.early_stopping, &metric) {
        return Err(TrainError::Param {
            name: "early_stopping",
            value: format!("{{patience {}, min_delta {}}}", es.patience, es.min_delta),
            expected: "a validation set or metric to stop on (none was given)",
        });
    }
    let inner = device.clone().without_autodiff();
    let device = device.clone().autodiff();
    // Dropout masks come from the backend's generator: seed it so runs repeat.
    device.seed(cfg.seed);
    // Row-sparse updates: the full tables live without autodiff; each step trains a copy made
    // of the batch's rows.
    let sparse = match cfg.embedding_update {
        EmbeddingUpdate::Dense => None,
        EmbeddingUpdate::Sparse(opt) => {
            let n_tables = match model.sparse_tables() {
                Some(t) => t.len(),
                _ => {
                    return Err(TrainError::Param {
                        name: "embedding_update",
                        value: "sparse".into(),
                        expected: "dense for this model (row-sparse updates need a model with embedding tables)",
                    });
                }
            };
            // The tables move off autodiff (updated by the row optimiser); dense layers stay
            // trainable with their parameter ids (updated by `optim`). On CPU backends the
            // tables move into host buffers beside their state and the module keeps 1-row
            // placeholders until the epoch ends.
            let weights: Vec<Tensor<2>> = model.sparse_tables().expect("checked above").into_iter().map(|(t, _)| t.weight.val().without_autodiff()).collect();
            let store = if host_tables(&inner) {
                let sides: Vec<TableSide> = model.sparse_tables().expect("checked above").into_iter().map(|(_, s)| s).collect();
                // The module lets go of its tables first (1-row stand-ins), so each table's
                // memory is freed as soon as its group is copied into host blocks.
                let stand_ins = weights.iter().map(|w| Embedding { weight: Param::from_tensor(Tensor::zeros([1, w.dims()[1]], &inner)) }).collect();
                model = model.with_tables(stand_ins).expect("a module with tables rebuilds from them");
                let host = HostStore::new(&sides, weights, opt)?;
                RowStore::Host(host)
            } else {
                let tables = weights.into_iter().map(|w| Embedding { weight: Param::from_tensor(w) }).collect();
                model = model.with_tables(tables).expect("a module with tables rebuilds from them");
                RowStore::Device((0..n_tables).map(|_| RowState::default()).collect())
            };
            Some((opt, store))
        }
    };
    let mut sparse = sparse;
    let mut global_step = 0u64;
    let clip = cfg.grad_clip_norm.map(GradientClippingConfig::Norm);
    let mut optim = match cfg.optimizer {
        OptimizerKind::Adam => AdamConfig::new().with_grad_clipping(clip).init(),
        OptimizerKind::AdamW { weight_decay } => AdamWConfig::new().with_weight_decay(weight_decay).with_grad_clipping(clip).init(),
        OptimizerKind::Sgd => SgdConfig::new().with_gradient_clipping(clip).init(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let n = train.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut logs = Vec::with_capacity(cfg.epochs);
    let read = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().map_err(|e| TrainError::Backend(format!("{e:?}")));
    // (best value, its epoch, its weights)
    let mut best: Option<(f64, usize, M)> = None;
    let mut previous_loss = None;
    for epoch in 1..=cfg.epochs {
        let start = Instant::now();
        let lr = cfg.lr_schedule.rate(cfg.lr, epoch, cfg.epochs);
        before_epoch(epoch);
        let bar = progress_bar(cfg.progress, (n * per_rating) as u64, epoch, cfg.epochs, previous_loss);
        order.shuffle(&mut rng);
        // Per step: the monitored loss and the full loss (with the penalty), read back together.
        let mut step_losses: Vec<Tensor<1>> = Vec::with_capacity(n.div_ceil(chunk));
        let mut full_losses: Vec<Tensor<1>> = Vec::with_capacity(n.div_ceil(chunk));
        let mut step_sizes: Vec<usize> = Vec::with_capacity(n.div_ceil(chunk));
        // Samples (ratings, or positives with their negatives) trained on, for the progress bar
        // and the throughput; `step_sizes` counts the units the monitored loss is summed over
        // (samples, BPR triples, softmax positives).
        let mut samples = 0usize;
        for part in order.chunks(chunk) {
            global_step += 1;
            let ratings: Vec<Rating> = part.iter().map(|&r| train.get(r as usize)).collect();
            let batch = expand(ratings);
            let batch_samples = batch.len();
            let (loss, monitored, k) = if let Some((opt, store)) = sparse.as_mut() {
                let (loss, monitored, k, updated) = sparse_step(model, batch, *opt, store, &mut optim, lr, global_step, &inner, &device, &batch_loss);
                model = updated;
                full_losses.push(loss);
                (None, monitored, k)
            } else {
                let (loss, monitored, k) = batch_loss(&model, batch, &device);
                (Some(loss), monitored, k)
            };
            if let Some(loss) = loss {
                full_losses.push(loss.clone().detach());
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(lr, model, grads);
            }
            step_losses.push(monitored.detach());
            step_sizes.push(k);
            samples += batch_samples;
            bar.inc(batch_samples as u64);
        }
        // One read-back per epoch: the summed loss of every step.
        let steps = step_losses.len();
        let both = read(Tensor::cat(step_losses.into_iter().chain(full_losses).collect(), 0))?;
        let (sums, full) = both.split_at(steps);
        if let Some(step) = (0..steps).find(|&s| !(sums[s].is_finite() && full[s].is_finite())) {
            bar.abandon();
            let loss = if full[step].is_finite() { sums[step] / step_sizes[step].max(1) as f32 } else { full[step] };
            return Err(TrainError::Diverged { epoch, step: step + 1, loss: f64::from(loss) });
        }
        let units: usize = step_sizes.iter().sum();
        let loss = sums.iter().map(|&v| f64::from(v)).sum::<f64>() / units.max(1) as f64;
        let seconds = start.elapsed().as_secs_f64();
        bar.finish_with_message(format!("loss {loss:.4}"));
        previous_loss = Some(loss);
        // With host tables the module holds placeholders: validate (and keep) the full one.
        let full = match &sparse {
            Some((_, RowStore::Host(host))) if metric.is_some() => Some(host.module(&model, &inner)),
            _ => None,
        };
        let current = full.as_ref().unwrap_or(&model);
        let valid = metric.as_ref().map(|m| (m.score)(current));
        logs.push(EpochLog { epoch, train_loss: loss, seconds, samples_per_s: samples as f64 / seconds, lr, valid, peak_rss_mib: peak_rss_mib() });
        if cfg.progress && !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            // No progress bar without a terminal (a log file, CI): one line per epoch instead.
            let v = valid.map_or(String::new(), |v| format!(", valid {v:.4}"));
            eprintln!("epoch {epoch}/{}: loss {loss:.4}{v}, lr {lr:.3e}, {seconds:.2} s, {:.0} samples/s", cfg.epochs, samples as f64 / seconds);
        }
        if let (Some(es), Some(v), Some(m)) = (cfg.early_stopping, valid, metric.as_ref()) {
            // A non-finite metric never counts as an improvement (nor becomes the best).
            let improved = v.is_finite()
                && match &best {
                    None => true,
                    Some((b, _, _)) => {
                        if m.higher_is_better {
                            v > b + es.min_delta
                        } else {
                            v < b - es.min_delta
                        }
                    }
                };
            if improved {
                best = Some((v, epoch, current.clone()));
            } else if epoch - best.as_ref().map_or(0, |b| b.1) >= es.patience {
                break;
            }
        }
    }
    let (module, best_epoch) = match (best, &sparse) {
        (Some((_, epoch, weights)), _) => (weights, Some(epoch)),
        (None, Some((_, RowStore::Host(host)))) => (host.module(&model, &inner), None),
        (None, _) => (model, None),
    };
    // Sparse training kept the tables off autodiff: hand them back trainable, as they came.
    let module = match (&sparse, module.sparse_tables()) {
        (Some(_), Some(tables)) => {
            let back: Vec<Embedding> = tables.into_iter().map(|(t, _)| Embedding { weight: Param::from_tensor(t.weight.val().autodiff()) }).collect();
            module.with_tables(back).expect("a module with tables rebuilds from them")
        }
        _ => module,
    };
    Ok(Trained { module, history: logs, best_epoch })
}

/// Where row-sparse training keeps the full tables and their optimiser state.
enum RowStore {
    /// `[n, d]` device tensors, updated with `select_assign` (every backend but flex and
    /// ndarray: wgpu, cuda, …).
    Device(Vec<RowState>),
    /// Host buffers, one per side, all of a user's (item's) rows and state in one block (CPU
    /// backends flex and ndarray).
    Host(HostStore),
}

/// The module's tables in [`HostTables`], one per side (and row count).
struct HostStore {
    /// One block store per group of tables.
    groups: Vec<HostTables>,
    /// The ids that index each group.
    group_side: Vec<TableSide>,
    /// For each module table (in [`RatingModule::sparse_tables`] order): its group and its
    /// place in that group.
    place: Vec<(usize, usize)>,
}

impl HostStore {
    /// Groups tables `weights[i]` (`[rows, dim]`, read back to the host) indexed by
    /// `sides[i]`: tables of one side with the same number of rows share blocks. Each group's
    /// tensors are dropped once copied.
    fn new(sides: &[TableSide], weights: Vec<Tensor<2>>, opt: RowOptimizer) -> Result<Self, TrainError> {
        let mut members: Vec<(TableSide, usize, Vec<usize>)> = Vec::new();
        let mut place = Vec::with_capacity(weights.len());
        for (i, (&side, w)) in sides.iter().zip(&weights).enumerate() {
            let rows = w.dims()[0];
            let g = match members.iter().position(|(s, r, _)| *s == side && *r == rows) {
                Some(g) => g,
                None => {
                    members.push((side, rows, Vec::new()));
                    members.len() - 1
                }
            };
            place.push((g, members[g].2.len()));
            members[g].2.push(i);
        }
        let mut weights: Vec<Option<Tensor<2>>> = weights.into_iter().map(Some).collect();
        let mut groups = Vec::with_capacity(members.len());
        for (_, rows, idx) in &members {
            let data: Vec<TensorData> = idx.iter().map(|&i| weights[i].take().expect("each table in one group").into_data()).collect();
            let mut tables = Vec::with_capacity(data.len());
            for d in &data {
                tables.push(d.as_slice::<f32>().map_err(|e| TrainError::Backend(format!("{e:?}")))?);
            }
            let dims: Vec<usize> = data.iter().map(|d| d.shape()[1]).collect();
            groups.push(HostTables::new(&tables, &dims, *rows, opt));
        }
        Ok(Self { groups, group_side: members.iter().map(|m| m.0).collect(), place })
    }

    /// Whether any group is large enough for several threads.
    fn parallel(&self) -> bool {
        self.groups.iter().any(HostTables::parallel)
    }

    /// `model` (holding 1-row stand-ins) with the full tables, as `[n, d]` embeddings on
    /// `device`.
    fn module<M: RatingModule>(&self, model: &M, device: &Device) -> M {
        let tables = self
            .place
            .iter()
            .map(|&(g, k)| {
                let t = &self.groups[g];
                Embedding { weight: Param::from_tensor(Tensor::from_data(TensorData::new(t.weights(k), [t.rows(), t.dims()[k]]), device)) }
            })
            .collect();
        model.with_tables(tables).expect("a module with tables rebuilds from them")
    }
}

#[cfg(test)]
thread_local! {
    /// Tests set this to train with the device-tensor store on a CPU backend, to compare it
    /// with the host blocks.
    pub(crate) static FORCE_DEVICE_ROWS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether `device` computes in host memory (flex, ndarray), where [`HostTables`] serve the
/// row-sparse step.
fn host_tables(device: &Device) -> bool {
    #[cfg(test)]
    if FORCE_DEVICE_ROWS.with(std::cell::Cell::get) {
        return false;
    }
    let d = device.clone().without_autodiff();
    #[allow(deprecated)] // ndarray is deprecated upstream; the design asks for it
    let ndarray = Device::ndarray();
    d == Device::flex() || d == ndarray
}

/// One row-sparse step (see [`crate::sparse`]): the batch's unique users and items, their rows
/// gathered into a small module (dense layers shared), the loss on ids remapped to those rows,
/// backward, the dense optimiser on the dense layers and the row optimiser on the full tables.
/// Returns (full loss, monitored loss, samples, new module).
#[allow(clippy::too_many_arguments)]
fn sparse_step<M: RatingModule>(
    model: M,
    batch: Vec<Rating>,
    opt: RowOptimizer,
    store: &mut RowStore,
    optim: &mut burn::optim::ModuleOptimizer,
    lr: f64,
    step: u64,
    inner: &Device,
    ad: &Device,
    batch_loss: &impl Fn(&M, Vec<Rating>, &Device) -> (Tensor<1>, Tensor<1>, usize),
) -> (Tensor<1>, Tensor<1>, usize, M) {
    let users: Vec<u32> = batch.iter().map(|r| r.user).collect();
    let items: Vec<u32> = batch.iter().map(|r| r.item).collect();
    let (uu, ui) = (unique(&users), unique(&items));
    let sides: Vec<TableSide> = model.sparse_tables().expect("checked before training").into_iter().map(|(_, side)| side).collect();
    let features = |side, ids: &[u32]| if sides.contains(&side) { model.feature_rows(side, ids) } else { Vec::new() };
    let (user_features, item_features) = (features(TableSide::UserFeatures, &uu.ids), features(TableSide::ItemFeatures, &ui.ids));
    let rows = StepRows { users: &uu.ids, items: &ui.ids, user_features: &user_features, item_features: &item_features };
    let ids_of = |side: TableSide| rows.of(side);
    // Device store: one index tensor per side, shared by its tables' gathers and updates.
    let index: Vec<(TableSide, Tensor<1, Int>)> = match store {
        RowStore::Device(_) => {
            let mut index: Vec<(TableSide, Tensor<1, Int>)> = Vec::new();
            for &side in &sides {
                if !index.iter().any(|(s, _)| *s == side) {
                    index.push((side, index_tensor(ids_of(side), inner)));
                }
            }
            index
        }
        RowStore::Host(_) => Vec::new(),
    };
    let index_of = |side: TableSide| index.iter().find(|(s, _)| *s == side).map(|(_, t)| t.clone()).expect("one index tensor per side");
    let small: Vec<Embedding> = match store {
        RowStore::Device(_) => {
            let tables = model.sparse_tables().expect("checked before training");
            tables.into_iter().map(|(t, side)| gather(&t.weight.val(), &index_of(side), ad)).collect()
        }
        RowStore::Host(host) => {
            // Large tables: all groups in one parallel region (each splits again inside it);
            // small ones on this thread (waking another costs more than it saves).
            let read = |(t, &side): (&HostTables, &TableSide)| t.gather(ids_of(side));
            let mut gathered: Vec<Vec<Vec<f32>>> = if host.parallel() {
                host.groups.par_iter().zip(&host.group_side).map(read).collect()
            } else {
                host.groups.iter().zip(&host.group_side).map(read).collect()
            };
            host.place
                .iter()
                .map(|&(g, k)| {
                    let n = ids_of(host.group_side[g]).len();
                    let t = Tensor::<2>::from_data(TensorData::new(std::mem::take(&mut gathered[g][k]), [n, host.groups[g].dims()[k]]), inner);
                    Embedding { weight: Param::from_tensor(t.autodiff()) }
                })
                .collect()
        }
    };
    let small_model = model.with_batch_rows(small.clone(), &rows).expect("checked before training");
    // Owned once from here, so the backend can update the full tables (and the dense layers,
    // now held only by the small module) in place.
    let tables = model.into_tables();
    let local: Vec<Rating> = batch.iter().enumerate().map(|(k, r)| Rating { user: uu.local[k], item: ui.local[k], ..*r }).collect();
    let (loss, monitored, k) = batch_loss(&small_model, local, ad);
    let full = loss.clone().detach();
    let grads = loss.backward();
    let table_grads: Vec<Option<Tensor<2>>> = small.iter().map(|leaf| leaf.weight.val().grad(&grads)).collect();
    // Dense layers (if any): the trainer's optimiser, without the tables' gradients.
    let mut dense = GradientsParams::from_grads(grads, &small_model);
    for leaf in &small {
        dense.remove::<2>(leaf.weight.id);
    }
    let small_model = optim.step(lr, small_model, dense);
    let updated: Vec<Embedding> = match store {
        RowStore::Device(states) => tables
            .into_iter()
            .zip(&sides)
            .zip(table_grads)
            .zip(states.iter_mut())
            .map(|(((table, &side), grad), state)| {
                let weight = table.weight.into_value();
                let new = match grad {
                    Some(g) => state.apply(opt, weight, index_of(side), g, lr, step),
                    None => weight,
                };
                Embedding { weight: Param::from_tensor(new) }
            })
            .collect(),
        RowStore::Host(host) => {
            let mut grads: Vec<Vec<Option<Vec<f32>>>> = host.groups.iter().map(|t| vec![None; t.dims().len()]).collect();
            for (&(g, k), grad) in host.place.iter().zip(table_grads) {
                grads[g][k] = grad.map(|g| g.into_data().try_into_vec::<f32>().expect("float gradients read back as f32"));
            }
            let parallel = host.parallel();
            let apply = |((t, &side), grads): ((&mut HostTables, &TableSide), &Vec<Option<Vec<f32>>>)| {
                if grads.iter().any(Option::is_some) {
                    t.apply(opt, ids_of(side), grads, lr, step);
                }
            };
            if parallel {
                host.groups.par_iter_mut().zip(&host.group_side).zip(&grads).for_each(apply);
            } else {
                host.groups.iter_mut().zip(&host.group_side).zip(&grads).for_each(apply);
            }
            tables // the placeholders, back into the module
        }
    };
    (full.inner(), monitored.inner(), k, small_model.with_tables(updated).expect("checked before training"))
}

/// Peak resident set size of this process in MiB, from `/proc/self/status` (`VmHWM`, Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn progress_bar(show: bool, samples: u64, epoch: usize, epochs: usize, previous_loss: Option<f64>) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(samples);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {human_pos}/{human_len} samples, {rate} {msg}")
            .expect("valid template")
            // Whole samples per second (the built-in `per_sec` prints four decimals).
            .with_key("rate", |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} samples/s", s.per_sec());
            })
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("epoch {epoch}/{epochs}"));
    if let Some(l) = previous_loss {
        bar.set_message(format!("(previous epoch loss {l:.4})"));
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(user: u32, item: u32, label: f32) -> Rating {
        Rating { user, item, rating: label, timestamp: None }
    }

    #[test]
    fn complete_groups_drops_positives_short_of_negatives() {
        // Groups of 1 + 2: user 0's first positive has both negatives, its second only one
        // (not what the sampler produces — it draws with replacement — but the rule is by
        // count), user 1's has both.
        let samples = vec![r(0, 1, 1.0), r(0, 5, 0.0), r(0, 6, 0.0), r(0, 2, 1.0), r(0, 5, 0.0), r(1, 3, 1.0), r(1, 4, 0.0), r(1, 0, 0.0)];
        let kept = complete_groups(samples.clone(), 3);
        assert_eq!(kept, [&samples[0..3], &samples[5..8]].concat());
        // A positive with no negative at all (last in the batch) is dropped too.
        assert_eq!(complete_groups(vec![r(0, 1, 1.0), r(2, 2, 1.0)], 2), Vec::<Rating>::new());
        assert_eq!(complete_groups(Vec::new(), 3), Vec::<Rating>::new());
    }
}
