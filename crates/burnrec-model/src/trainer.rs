//! One training loop for every explicit-feedback Burn model.
//!
//! Any module implementing [`RatingModule`] is trained by [`train_explicit`]: seeded shuffled
//! mini-batches, mean squared error on `r − μ` plus an L2 penalty on the parameters the batch
//! touched, Adam, a progress bar on stderr, and divergence detection.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::data::dataloader::batcher::Batcher;
use burn::tensor::{Device, Int, Tensor};
use burnrec_data::Interactions;
use burnrec_data::batch::{ExplicitBatcher, Features, index_tensor};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A Burn module that predicts ratings (as deviations from the global mean μ).
pub trait RatingModule: Module {
    /// `users`, `items`: `[batch]` indices; returns `[batch]` predictions of `r − μ` in rating
    /// units.
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
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self { epochs: 20, batch_size: 1024, lr: 0.005, l2: 0.05, seed: 42, progress: true }
    }
}

/// What happened in one epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochLog {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean squared training error of the epoch (without the penalty), rating units².
    pub train_mse: f64,
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
    #[error("training diverged at epoch {epoch}: mean squared error is {mse} (try a lower learning rate)")]
    Diverged {
        /// 1-based epoch.
        epoch: usize,
        /// The non-finite value.
        mse: f64,
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
    mut model: M,
    train: &Interactions,
    valid: Option<&Interactions>,
    mu: f32,
    cfg: &TrainConfig,
    device: &Device,
) -> Result<(M, Vec<EpochLog>), TrainError> {
    cfg.check()?;
    if train.is_empty() {
        return Err(TrainError::EmptyTrainSet);
    }
    let device = device.clone().autodiff();
    let mut optim = AdamConfig::new().init();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let n = train.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    let n_batches = n.div_ceil(cfg.batch_size);
    let batcher = ExplicitBatcher { offset: mu, features: Features::default() };
    let mut logs = Vec::with_capacity(cfg.epochs);
    for epoch in 1..=cfg.epochs {
        let start = Instant::now();
        let bar = progress_bar(cfg.progress, n_batches as u64, epoch, cfg.epochs);
        order.shuffle(&mut rng);
        let mut sse: Option<Tensor<1>> = None;
        for chunk in order.chunks(cfg.batch_size) {
            let batch = batcher.batch(chunk.iter().map(|&k| train.get(k as usize)).collect(), &device);
            let (u, i, y) = (batch.users, batch.items, batch.targets);
            let pred = model.forward(u.clone(), i.clone());
            let se = (pred - y).square().sum();
            let loss = se.clone().div_scalar(chunk.len() as f64)
                + model.penalty(u, i).mul_scalar(cfg.l2);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(cfg.lr, model, grads);
            let se = se.detach();
            sse = Some(match sse {
                Some(acc) => acc + se,
                None => se,
            });
            bar.inc(1);
        }
        let sse: f64 = sse
            .expect("at least one batch")
            .try_into_scalar::<f64>()
            .map_err(|e| TrainError::Backend(format!("{e:?}")))?;
        let mse = sse / n as f64;
        let seconds = start.elapsed().as_secs_f64();
        bar.finish_with_message(format!("train mse {mse:.4}"));
        if !mse.is_finite() {
            return Err(TrainError::Diverged { epoch, mse });
        }
        let valid_rmse = match valid.filter(|v| !v.is_empty()) {
            Some(v) => Some(rmse_of(&model.valid(), v, mu, &device.clone().without_autodiff())?),
            None => None,
        };
        logs.push(EpochLog { epoch, train_mse: mse, seconds, samples_per_s: n as f64 / seconds, valid_rmse });
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
