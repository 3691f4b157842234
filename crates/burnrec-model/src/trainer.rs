//! One training loop for every Burn model.
//!
//! Any module implementing [`RatingModule`] is trained by the same loop (seeded shuffled
//! mini-batches, an objective plus an L2 penalty on the parameters the batch touched, Adam, a
//! progress bar on stderr, divergence detection), with one of two objectives:
//! - [`train_explicit`]: mean squared error on `r − μ` (explicit ratings);
//! - [`train_pointwise`]: binary cross-entropy on logits, each positive with sampled negatives
//!   (implicit feedback, He et al. 2017), computed with log-sigmoid so that it stays finite for
//!   any logit;
//! - [`train_pairwise`]: BPR, `−ln σ(x_ui − x_uj)` with one sampled negative per positive
//!   (Rendle et al. 2009), also through log-sigmoid.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, SgdConfig};
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::data::dataloader::batcher::Batcher;
use burn::tensor::{Device, Int, Tensor};
use std::sync::Arc;

use burn::tensor::activation::log_sigmoid;
use burnrec_data::batch::{ExplicitBatcher, Features, PairwiseBatcher, PointwiseBatcher, index_tensor};
use burnrec_data::sampling::NegativeSampler;
use burnrec_data::{Interactions, Rating};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
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
        }
    }
}

/// What happened in one epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochLog {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss of the epoch (without the penalty): MSE in rating units² for
    /// explicit models, binary cross-entropy in nats per sample for implicit ones.
    pub train_loss: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Training ratings processed per second.
    pub samples_per_s: f64,
    /// RMSE on the validation ratings after the epoch (raw predictions, rating units), when a
    /// validation set was given.
    pub valid_rmse: Option<f64>,
}

/// Errors of the trainer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A setting is out of range.
    #[error("invalid training setting `{name}` = {value}: expected {expected}")]
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
    #[error("training diverged at epoch {epoch}: the mean training loss is {loss} (try a lower learning rate)")]
    Diverged {
        /// 1-based epoch.
        epoch: usize,
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
        if let OptimizerKind::AdamW { weight_decay } = self.optimizer {
            if !(weight_decay.is_finite() && weight_decay >= 0.0) {
                return bad("optimizer.adam_w.weight_decay", weight_decay.to_string(), "finite and >= 0");
            }
        }
        if let Some(c) = self.grad_clip_norm {
            if !(c.is_finite() && c > 0.0) {
                return bad("grad_clip_norm", c.to_string(), "finite and > 0");
            }
        }
        Ok(())
    }
}

/// Trains `model` (whose parameters live on an autodiff device) on `train` to predict
/// `r − mu`, and returns the trained module with one [`EpochLog`] per epoch.
///
/// # Errors
/// [`TrainError::Param`], [`TrainError::EmptyTrainSet`], [`TrainError::Diverged`] (naming the
/// epoch), or [`TrainError::Backend`] if reading the loss back fails.
pub fn train_explicit<M: RatingModule>(
    model: M,
    train: &Interactions,
    mu: f32,
    cfg: &TrainConfig,
    device: &Device,
) -> Result<(M, Vec<EpochLog>), TrainError> {
    train_explicit_with_valid(model, train, None, mu, cfg, device)
}

/// [`train_explicit`], also measuring the RMSE on `valid` after every epoch (with the module
/// in evaluation mode; nothing is selected on it here — it feeds learning curves).
///
/// # Errors
/// As [`train_explicit`].
pub fn train_explicit_with_valid<M: RatingModule>(
    model: M,
    train: &Interactions,
    valid: Option<&Interactions>,
    mu: f32,
    cfg: &TrainConfig,
    device: &Device,
) -> Result<(M, Vec<EpochLog>), TrainError> {
    let batcher = ExplicitBatcher { offset: mu, features: Features::default() };
    let eval_device = device.clone().without_autodiff();
    fit_loop(
        model,
        train,
        cfg,
        cfg.batch_size,
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
        |model: &M| match valid.filter(|v| !v.is_empty()) {
            Some(v) => Ok(Some(rmse_of(&model.valid(), v, mu, &eval_device)?)),
            None => Ok(None),
        },
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
/// `EpochLog::train_loss` is that BCE; `valid_rmse` stays empty.
///
/// # Errors
/// As [`train_explicit`]; also [`TrainError::Param`] if `negatives` is 0.
pub fn train_pointwise<M: RatingModule>(
    model: M,
    train: &Interactions,
    negatives: usize,
    cfg: &TrainConfig,
    device: &Device,
) -> Result<(M, Vec<EpochLog>), TrainError> {
    if negatives == 0 {
        return Err(TrainError::Param { name: "negatives", value: "0".into(), expected: ">= 1" });
    }
    let sampler = Arc::new(NegativeSampler::new(train));
    let batcher = PointwiseBatcher::new(sampler, negatives, cfg.seed.wrapping_add(1));
    // `batch_size` counts samples, positives and negatives together (the paper's and the
    // peers' convention): 256 samples with 4 negatives are 51 positives per step.
    let positives = (cfg.batch_size / (1 + negatives)).max(1);
    fit_loop(
        model,
        train,
        cfg,
        positives,
        device,
        |epoch| batcher.set_epoch(epoch as u64),
        |model: &M, batch: Vec<Rating>, device: &Device| {
            let b = batcher.batch(batch, device);
            let n = b.labels.dims()[0];
            let logits = model.forward(b.users.clone(), b.items.clone());
            let bce = bce_with_logits(logits, b.labels).sum();
            let loss = bce.clone().div_scalar(n as f64) + model.penalty(b.users, b.items).mul_scalar(cfg.l2);
            (loss, bce, n)
        },
        |_| Ok(None),
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
) -> Result<(M, Vec<EpochLog>), TrainError> {
    let sampler = Arc::new(NegativeSampler::new(train));
    let batcher = PairwiseBatcher::new(sampler, cfg.seed.wrapping_add(1));
    fit_loop(
        model,
        train,
        cfg,
        cfg.batch_size,
        device,
        |epoch| batcher.set_epoch(epoch as u64),
        |model: &M, batch: Vec<Rating>, device: &Device| {
            let b = batcher.batch(batch, device);
            let n = b.users.dims()[0];
            let diff = model.forward(b.users.clone(), b.positives.clone()) - model.forward(b.users.clone(), b.negatives.clone());
            let bpr = bpr_loss(diff).sum();
            let penalty = model.penalty(b.users.clone(), b.positives) + model.penalty(b.users, b.negatives);
            let loss = bpr.clone().div_scalar(n.max(1) as f64) + penalty.mul_scalar(cfg.l2);
            (loss, bpr, n)
        },
        |_| Ok(None),
    )
}

/// Element-wise BPR loss of score differences `x_ui − x_uj`: `−ln σ(d)`, through log-sigmoid
/// (finite for any difference). `[n]` → `[n]`, nats.
pub fn bpr_loss(diff: Tensor<1>) -> Tensor<1> {
    -log_sigmoid(diff)
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
/// mini-batches of `chunk` of `train`'s ratings, each turned by `batch_loss(model, ratings, device)` into
/// `(loss to minimise, summed monitored loss, samples)`, an Adam step, and after the epoch the
/// mean monitored loss (divergence check) and `validate(model)`.
fn fit_loop<M: RatingModule>(
    mut model: M,
    train: &Interactions,
    cfg: &TrainConfig,
    chunk: usize,
    device: &Device,
    mut before_epoch: impl FnMut(usize),
    batch_loss: impl Fn(&M, Vec<Rating>, &Device) -> (Tensor<1>, Tensor<1>, usize),
    validate: impl Fn(&M) -> Result<Option<f64>, TrainError>,
) -> Result<(M, Vec<EpochLog>), TrainError> {
    cfg.check()?;
    if train.is_empty() {
        return Err(TrainError::EmptyTrainSet);
    }
    let device = device.clone().autodiff();
    let clip = cfg.grad_clip_norm.map(GradientClippingConfig::Norm);
    let mut optim = match cfg.optimizer {
        OptimizerKind::Adam => AdamConfig::new().with_grad_clipping(clip).init(),
        OptimizerKind::AdamW { weight_decay } => AdamWConfig::new().with_weight_decay(weight_decay).with_grad_clipping(clip).init(),
        OptimizerKind::Sgd => SgdConfig::new().with_gradient_clipping(clip).init(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let n = train.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    let n_batches = n.div_ceil(chunk);
    let mut logs = Vec::with_capacity(cfg.epochs);
    for epoch in 1..=cfg.epochs {
        let start = Instant::now();
        before_epoch(epoch);
        let bar = progress_bar(cfg.progress, n_batches as u64, epoch, cfg.epochs);
        order.shuffle(&mut rng);
        let mut total: Option<Tensor<1>> = None;
        let mut samples = 0usize;
        for part in order.chunks(chunk) {
            let (loss, monitored, k) = batch_loss(&model, part.iter().map(|&r| train.get(r as usize)).collect(), &device);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(cfg.lr, model, grads);
            let monitored = monitored.detach();
            total = Some(match total {
                Some(acc) => acc + monitored,
                None => monitored,
            });
            samples += k;
            bar.inc(1);
        }
        let total: f64 = total
            .expect("at least one batch")
            .try_into_scalar::<f64>()
            .map_err(|e| TrainError::Backend(format!("{e:?}")))?;
        let loss = total / samples.max(1) as f64;
        let seconds = start.elapsed().as_secs_f64();
        bar.finish_with_message(format!("train loss {loss:.4}"));
        if !loss.is_finite() {
            return Err(TrainError::Diverged { epoch, loss });
        }
        let valid_rmse = validate(&model)?;
        logs.push(EpochLog { epoch, train_loss: loss, seconds, samples_per_s: samples as f64 / seconds, valid_rmse });
    }
    Ok((model, logs))
}

/// RMSE of `model` (predicting `r − mu`) on `data`, in blocks of 65 536 ratings.
fn rmse_of<M: RatingModule>(model: &M, data: &Interactions, mu: f32, device: &Device) -> Result<f64, TrainError> {
    let mut se = 0f64;
    let idx: Vec<usize> = (0..data.len()).collect();
    for block in idx.chunks(65_536) {
        let u: Vec<u32> = block.iter().map(|&k| data.users()[k]).collect();
        let i: Vec<u32> = block.iter().map(|&k| data.items()[k]).collect();
        let pred = model.forward(index_tensor(&u, device), index_tensor(&i, device));
        let p = pred.into_data().try_to_vec::<f32>().map_err(|e| TrainError::Backend(format!("{e:?}")))?;
        se += block.iter().zip(p).map(|(&k, p)| (f64::from(p + mu) - f64::from(data.values()[k])).powi(2)).sum::<f64>();
    }
    Ok((se / data.len() as f64).sqrt())
}

fn progress_bar(show: bool, len: u64, epoch: usize, epochs: usize) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} batches {per_sec} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("epoch {epoch}/{epochs}"));
    bar
}
