//! The one error type at the catalogue boundary.

use burnrec_classic::{FitError, ModelFileError};
use burnrec_data::DataError;
use burnrec_model::{SaveError, TrainError};

/// Why a model could not be built, fitted, saved or loaded. Every message names the model
/// (and the `--set` at fault, where one is).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZooError {
    /// A name that is no catalogue row (the message lists the known names and groups).
    #[error("unknown model `{name}`: expected one of {known}, or a group ({groups})")]
    UnknownModel {
        /// The name given.
        name: String,
        /// Every model name, comma-separated.
        known: String,
        /// Every group name, comma-separated.
        groups: String,
    },
    /// A setting that cannot be applied or is out of range (`--set`, the CLI's shared flags,
    /// a params check); the message is complete.
    #[error("{0}")]
    Setting(String),
    /// The model needs data the dataset does not have.
    #[error("`{model}` needs {what}; this dataset has none")]
    NeedsData {
        /// The model.
        model: String,
        /// What it needs (e.g. "item side features (genres, tags)").
        what: &'static str,
    },
    /// A classic model's fit failed.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// A Burn model's training failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// A data step of fitting (e.g. the hybrid's validation carve) failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The Burn backend panicked (e.g. no wgpu adapter); the message has a hint where one helps.
    #[error("the {backend} backend failed: {msg}{hint}")]
    Backend {
        /// The backend's name.
        backend: String,
        /// The panic's message.
        msg: String,
        /// What to do about it, or empty.
        hint: &'static str,
    },
    /// A classic model file could not be written or read.
    #[error(transparent)]
    ModelFile(#[from] ModelFileError),
    /// A Burn model could not be written or read.
    #[error(transparent)]
    BurnModel(#[from] SaveError),
    /// A model defined outside the workspace has no model-directory format.
    #[error("`{0}` is defined outside burnrec's catalogue and has no model-directory format: it cannot be saved")]
    NotSaveable(String),
    /// A model folder holds neither kind of model file.
    #[error("`{0}` holds neither classic.json nor burn/: the model files are missing")]
    MissingModel(String),
}
