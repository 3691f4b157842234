//! The settings every model is built with: the CLI's shared flags ([`FitSettings`]) and the
//! `--set NAME.PATH=VALUE` overrides, applied through serde so that an unknown name or a
//! wrong type is an error naming the `--set` at fault.

use burnrec_classic::registry::set_dotted;
use burnrec_model::{Backend, EarlyStopping, TrainConfig};

use crate::ZooError;

/// How every model is built and trained: the flags `compare` and `train` share.
#[derive(Clone, Copy, Debug)]
pub struct FitSettings<'a> {
    /// Burn backend of the neural models (default `flex`).
    pub backend: Backend,
    /// Seed of every model (default 42).
    pub seed: u64,
    /// Epochs (or iterations) of every model that has them; `None`: each model's own.
    pub epochs: Option<usize>,
    /// Early stopping of the neural models after this many epochs without improvement of the
    /// validation metric (needs a validation part).
    pub patience: Option<usize>,
    /// `MODEL.PATH=VALUE` overrides, applied in order after the defaults and the flags above.
    pub set: &'a [String],
    /// No progress bars or per-model notes.
    pub quiet: bool,
    /// Cut-off K of the validation NDCG@K (implicit neural models, the hybrid's weight).
    pub k: usize,
    /// Users scored per block in the validation's full ranking.
    pub block_users: usize,
}

impl Default for FitSettings<'_> {
    fn default() -> Self {
        Self { backend: Backend::Flex, seed: 42, epochs: None, patience: None, set: &[], quiet: false, k: 10, block_users: 256 }
    }
}

impl FitSettings<'_> {
    /// The `--set` entries that target `name`, as `(the whole entry, PATH, VALUE)`.
    ///
    /// # Errors
    /// [`ZooError::Setting`] for an entry of `name` without `=`.
    pub fn sets_of(&self, name: &str) -> Result<Vec<(&str, &str, &str)>, ZooError> {
        let mut out = Vec::new();
        for s in self.set {
            let Some(rest) = s.strip_prefix(name).and_then(|r| r.strip_prefix('.')) else { continue };
            let (key, value) = rest.split_once('=').ok_or_else(|| ZooError::Setting(format!("--set `{s}`: expected MODEL.PARAM=VALUE")))?;
            out.push((s.as_str(), key, value));
        }
        Ok(out)
    }

    /// The CLI's settings of a neural model's training: `--seed`, `--quiet`, `--epochs`,
    /// `--patience` — applied to the defaults before `--set`, so a `--set MODEL.train.KEY` wins.
    pub fn apply_to_training(&self, t: &mut TrainConfig) {
        t.seed = self.seed;
        t.progress = !self.quiet;
        if let Some(e) = self.epochs {
            t.epochs = e;
        }
        if let Some(p) = self.patience {
            t.early_stopping = Some(EarlyStopping { patience: p, min_delta: 0.0 });
        }
    }
}

/// `defaults` with every `--set NAME.PATH=VALUE` for `name` applied (PATH dotted into nested
/// params, VALUE JSON or a bare word), through serde so that unknown names and wrong types are
/// errors naming them.
///
/// # Errors
/// [`ZooError::Setting`] naming the `--set`, the path and what is wrong.
pub fn apply_sets<T: serde::Serialize + serde::de::DeserializeOwned>(name: &str, defaults: T, settings: &FitSettings<'_>) -> Result<T, ZooError> {
    let mut v = serde_json::to_value(defaults).map_err(|e| ZooError::Setting(format!("`{name}`: {e}")))?;
    for (s, key, value) in settings.sets_of(name)? {
        set_dotted(&mut v, name, key, value).map_err(|e| ZooError::Setting(format!("--set `{s}`: {e}")))?;
        // Read back after each one, so that the error names the `--set` at fault.
        T::deserialize(&v).map_err(|e| {
            // A bare name where a setting with parameters needs its JSON object.
            let hint = if e.to_string().contains("expected struct variant") {
                format!(" (this choice takes parameters, as a JSON object: e.g. --set '{name}.{key}={{\"NAME\":{{…}}}}'; see docs/models.md)")
            } else {
                String::new()
            };
            ZooError::Setting(format!("--set `{s}`: `{name}`: cannot set `{key}` = {value}: {e}{hint}"))
        })?;
    }
    serde_json::from_value(v).map_err(|e| ZooError::Setting(format!("--set {name}.…: {e}")))
}
