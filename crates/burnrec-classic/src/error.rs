//! Fitting errors and parameter checks shared by the classic algorithms.

/// A hyper-parameter outside its valid range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid parameter `{name}` = {value}: expected {expected}")]
pub struct ParamError {
    /// Parameter name, as in the params struct and the CLI.
    pub name: &'static str,
    /// The offending value.
    pub value: String,
    /// The valid range.
    pub expected: &'static str,
}

/// Errors raised by `fit`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FitError {
    /// A parameter is out of range.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The training set has no ratings.
    #[error("training set is empty")]
    EmptyTrainSet,
    /// The training error became NaN or infinite.
    #[error("training diverged at epoch {epoch}: the squared error is {value} (try a lower learning rate)")]
    Diverged {
        /// 1-based epoch.
        epoch: usize,
        /// The non-finite value seen.
        value: f64,
    },
    /// The fit would need more memory than the params allow; estimated before allocating.
    #[error("this fit needs about {needed_mib} MiB, more than the limit of {limit_mib} MiB: {hint}")]
    Memory {
        /// Estimated need, MiB.
        needed_mib: u64,
        /// The limit in force, MiB.
        limit_mib: u64,
        /// Which parameter to lower (or raise the limit).
        hint: String,
    },
    /// The input does not suit this model (for example, no item features for a content model).
    #[error("{0}")]
    Input(String),
}

/// The largest latent dimension any factor model accepts (a bound that keeps every
/// `rows × factors` size computation far from overflow; no model needs more).
pub const MAX_FACTORS: usize = 10_000;

/// `Ok` if `ok`, otherwise a [`ParamError`] for `name`.
pub(crate) fn ensure(ok: bool, name: &'static str, value: impl ToString, expected: &'static str) -> Result<(), ParamError> {
    if ok { Ok(()) } else { Err(ParamError { name, value: value.to_string(), expected }) }
}
