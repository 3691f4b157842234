//! # burnrec-model
//!
//! Neural recommenders as Burn 0.22 modules, trained on a [`Backend`] chosen at run time
//! (flex, ndarray or wgpu). Every model implements [`RatingModule`] and is trained by the one
//! loop in [`trainer`]; the trained model implements [`burnrec_data::RatingPredictor`], so it
//! is evaluated by the same code as the classic models.
//!
//! ```no_run
//! use burnrec_data::{DatasetSpec, LoadOptions, random_split};
//! use burnrec_model::{Backend, MfParams};
//! let data = DatasetSpec::Bundled.load(&LoadOptions::default()).unwrap();
//! let split = random_split(&data.interactions, 0.2, 42).unwrap();
//! let model = MfParams::default().fit(&split.train, &Backend::Flex.device()).unwrap();
//! let report = burnrec_eval::evaluate_ratings(&model, &split.test, Some((0.5, 5.0))).unwrap();
//! println!("RMSE {:.4}", report.rmse);
//! ```
#![warn(missing_docs)]

pub mod backend;
pub mod deep;
pub mod gru4rec;
mod init;
pub mod mf;
pub mod ncf;
pub mod sasrec;
pub mod saved;
pub mod sequential;
pub mod sparse;
pub mod trainer;

pub use backend::Backend;

/// Serialises the unit tests that train (every fit reseeds the backend's generator with
/// `Device::seed`) or draw from it (dropout, id dropout): on flex it is process-wide, and tests
/// run in parallel threads, so one test's fit would change another's dropout masks.
#[cfg(test)]
pub(crate) fn backend_rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
pub use deep::{DeepHybrid, DeepHybridModule, DeepParams};
pub use gru4rec::{Gru4Rec, Gru4RecModule, Gru4RecParams};
pub use mf::{BiasedMfModule, BurnMf, MfParams};
pub use ncf::{BurnNcf, ImplicitObjective, NcfKind, NcfModule, NcfParams};
pub use sasrec::{SasRec, SasRecModule, SasRecParams};
pub use saved::{BURN_MODEL_FORMAT, BurnModel, SaveError};
pub use sequential::{SequenceNet, SequenceParams, Sequential, fit_sequential};
pub use sparse::{EmbeddingUpdate, RowOptimizer};
pub use trainer::{
    EarlyStopping, EpochLog, LrSchedule, ModuleMetric, OptimizerKind, RatingModule, SequenceModule, SequenceObjective, SequentialLoss, StepRows, TableSide,
    TrainConfig, TrainError, Trained, Validation, bce_with_logits, bpr_loss, forward_pairs, gbce_beta, peak_rss_mib, sampled_softmax_loss, sequence_loss,
    train_explicit, train_implicit, train_pairwise, train_pointwise, train_sequential, train_softmax,
};
