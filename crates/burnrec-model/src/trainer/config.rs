//! The trainer's settings ([`TrainConfig`]: optimiser, schedule, early stopping), its
//! per-epoch log, its result and its errors.

use super::*;

/// Optimisation settings shared by every Burn model, explicit and implicit (one trainer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training ratings.
    pub epochs: usize,
    /// Ratings per mini-batch.
    pub batch_size: usize,
    /// Learning rate of [`TrainConfig::optimizer`] (the first epoch's, under a schedule).
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
