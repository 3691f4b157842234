//! One fitting vocabulary for every model: a catalogue row builds a [`Recipe`] (its checked
//! parameters), and every recipe fits on one [`TrainingData`] value into a [`Fitted`] — the
//! [`FittedModel`], its learning curves and its epoch timing.
//!
//! Early stopping and learning curves of the neural models use a validation metric measured
//! after every epoch on [`TrainingData::valid`]: RMSE for explicit models (`burn-mf`), NDCG@K
//! by full ranking against the training part for the implicit ones.

use std::panic::{AssertUnwindSafe, catch_unwind};

use burnrec_classic::registry::{ClassicModel, ClassicParams};
use burnrec_classic::{ContentKnnParams, Hybrid, TextKnnParams};
use burnrec_data::sequence::UserSequences;
use burnrec_data::text::ItemEmbeddings;
use burnrec_data::{FeatureTable, Interactions, RatingPredictor, random_split};
use burnrec_eval::evaluate_full;
use burnrec_model::{Backend, BurnModel, DeepParams, EpochLog, Gru4RecParams, MfParams, NcfParams, SasRecParams, TrainError, Validation};

use crate::{FitSettings, FittedModel, ZooError};

/// What a model is fitted on. Every part is over one index space (`train.n_users()` ×
/// `train.n_items()`); feature tables have rows by user / item index. Models read the parts
/// their catalogue row says they need ([`crate::Needs`]) and ignore the rest.
#[derive(Clone, Copy, Debug)]
pub struct TrainingData<'a> {
    /// The training interactions.
    pub train: &'a Interactions,
    /// A validation part for early stopping and learning curves (neural models) or weight
    /// choice (the hybrid), disjoint from `train`; `None` when not carved.
    pub valid: Option<&'a Interactions>,
    /// User side features (age, gender, occupation, …), when the dataset has them.
    pub user_features: Option<&'a FeatureTable>,
    /// Item side features (genres, tags, …), when the dataset has them.
    pub item_features: Option<&'a FeatureTable>,
    /// Text embeddings of the items (a sentence encoder over each item's title, genres and
    /// tags, `burnrec_data::text::ItemText`), `[n_items × d]`, when computed.
    pub item_text: Option<&'a ItemEmbeddings>,
    /// Every user's known history in time order, oldest first
    /// ([`UserSequences::from_interactions`] of `train` and `valid` together), for the
    /// sequential models: they train on the pairs of `train` only and score each user from
    /// the whole history (the validation item, the latest known, is the input that predicts
    /// the test item).
    pub sequences: Option<&'a UserSequences>,
}

impl<'a> TrainingData<'a> {
    /// Interactions only: no validation part, no side features.
    pub fn of(train: &'a Interactions) -> Self {
        Self { train, valid: None, user_features: None, item_features: None, item_text: None, sequences: None }
    }
}

/// Named learning curves: (name, [(epoch, value)]).
pub type Curves = Vec<(String, Vec<(usize, f64)>)>;

/// Median seconds per epoch and samples per second of a neural model's training, over its
/// epochs (the first left out when there are several: it allocates the optimiser state).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochTiming {
    /// Median seconds per epoch.
    pub epoch_s: f64,
    /// Median training samples per second.
    pub samples_per_s: f64,
    /// The epoch early stopping kept, when it was on.
    pub best_epoch: Option<usize>,
}

impl EpochTiming {
    /// The timing of a training `history`; `None` when it is empty.
    pub fn of(history: &[EpochLog], best_epoch: Option<usize>) -> Option<Self> {
        let timed = if history.len() > 1 { &history[1..] } else { history };
        let median = |f: &dyn Fn(&EpochLog) -> f64| {
            let mut v: Vec<f64> = timed.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied()
        };
        Some(Self { epoch_s: median(&|e| e.seconds)?, samples_per_s: median(&|e| e.samples_per_s)?, best_epoch })
    }
}

/// A fitted model with what its training recorded.
#[derive(Debug)]
pub struct Fitted {
    /// The model.
    pub model: FittedModel,
    /// Neural models: the training loss (or RMSE) per epoch, and the validation metric when a
    /// validation part was given. `None` for models without epochs.
    pub curves: Option<Curves>,
    /// Neural models: the epoch timing.
    pub timing: Option<EpochTiming>,
}

/// A model's checked parameters, ready to fit: what a catalogue row builds
/// ([`crate::ModelEntry::recipe`]).
pub trait Recipe: std::fmt::Debug {
    /// The parameters as JSON (the document `--set NAME.PATH=VALUE` edits; `null` for a
    /// model without parameters).
    fn params_json(&self) -> serde_json::Value;

    /// Fits the model.
    ///
    /// # Errors
    /// [`ZooError::NeedsData`] when a part the model needs is missing; the model's own fit
    /// errors ([`ZooError::Fit`], [`ZooError::Train`]); [`ZooError::Backend`] when the Burn
    /// backend panics.
    fn fit(&self, data: &TrainingData<'_>, settings: &FitSettings<'_>) -> Result<Fitted, ZooError>;
}

/// A classic algorithm of the registry.
#[derive(Debug)]
pub(crate) struct ClassicRecipe(pub(crate) ClassicParams);

impl Recipe for ClassicRecipe {
    fn params_json(&self) -> serde_json::Value {
        self.0.params_json()
    }

    fn fit(&self, data: &TrainingData<'_>, _: &FitSettings<'_>) -> Result<Fitted, ZooError> {
        let model = self.0.fit(data.train)?;
        Ok(Fitted { model: FittedModel::Classic { params: Some(self.0.clone()), model }, curves: None, timing: None })
    }
}

fn item_features<'a>(name: &str, data: &TrainingData<'a>) -> Result<&'a FeatureTable, ZooError> {
    data.item_features.ok_or_else(|| ZooError::NeedsData { model: name.to_string(), what: "item side features (genres, tags)" })
}

fn item_text<'a>(name: &str, data: &TrainingData<'a>) -> Result<&'a ItemEmbeddings, ZooError> {
    data.item_text.ok_or_else(|| ZooError::NeedsData { model: name.to_string(), what: "item text embeddings (a sentence encoder: --encoder PATH)" })
}

fn sequences<'a>(name: &str, data: &TrainingData<'a>) -> Result<&'a UserSequences, ZooError> {
    data.sequences.ok_or_else(|| ZooError::NeedsData { model: name.to_string(), what: "each user's history in time order (a dataset with timestamps)" })
}

/// Item KNN over text embeddings.
#[derive(Debug)]
pub(crate) struct TextKnnRecipe(pub(crate) TextKnnParams);

impl Recipe for TextKnnRecipe {
    fn params_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).expect("params serialise")
    }

    fn fit(&self, data: &TrainingData<'_>, _: &FitSettings<'_>) -> Result<Fitted, ZooError> {
        let model = ClassicModel::Content(self.0.fit(data.train, item_text("text-knn", data)?)?);
        Ok(Fitted { model: FittedModel::Classic { params: None, model }, curves: None, timing: None })
    }
}

/// The content-based item KNN.
#[derive(Debug)]
pub(crate) struct ContentRecipe(pub(crate) ContentKnnParams);

impl Recipe for ContentRecipe {
    fn params_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).expect("params serialise")
    }

    fn fit(&self, data: &TrainingData<'_>, _: &FitSettings<'_>) -> Result<Fitted, ZooError> {
        let model = ClassicModel::Content(self.0.fit(data.train, item_features("content", data)?)?);
        Ok(Fitted { model: FittedModel::Classic { params: None, model }, curves: None, timing: None })
    }
}

/// The weighted hybrid of ALS and the content model: the weight on ALS is chosen from 0, 0.1,
/// …, 1 by NDCG@K on the validation part (given, else 10 % of the training part carved with
/// seed + 2), then both models are refitted on the whole training part. The fitted model
/// records ALS's params (for its fold-in).
#[derive(Debug)]
pub(crate) struct HybridRecipe {
    pub(crate) als: ClassicParams,
    pub(crate) content: ContentKnnParams,
}

impl Recipe for HybridRecipe {
    fn params_json(&self) -> serde_json::Value {
        serde_json::json!({ "als": self.als.params_json(), "content": serde_json::to_value(&self.content).expect("params serialise") })
    }

    fn fit(&self, data: &TrainingData<'_>, s: &FitSettings<'_>) -> Result<Fitted, ZooError> {
        let features = item_features("hybrid", data)?;
        let train = data.train;
        let (inner_train, inner_valid) = match data.valid {
            Some(v) => (train.clone(), v.clone()),
            None => {
                let split = random_split(train, 0.1, s.seed.wrapping_add(2))?;
                (split.train, split.test)
            }
        };
        let grid: Vec<f32> = (0..=10).map(|k| k as f32 / 10.0).collect();
        let (nu, ni) = (train.n_users(), train.n_items());
        let probe = Hybrid::new(self.als.fit(&inner_train)?, ClassicModel::Content(self.content.fit(&inner_train, features)?), 0.5, nu, ni)?;
        let (chosen, tried) = probe.tune(&grid, |h| evaluate_full(h, &inner_train, &inner_valid, s.k, s.block_users).ndcg)?;
        if !s.quiet {
            let line: Vec<String> = tried.iter().map(|(w, m)| format!("{w:.1}: {m:.4}")).collect();
            eprintln!("hybrid: validation NDCG@{} by weight on ALS — {}; chose {:.1}", s.k, line.join(", "), chosen.weight);
        }
        let hybrid = Hybrid::new(self.als.fit(train)?, ClassicModel::Content(self.content.fit(train, features)?), chosen.weight, nu, ni)?;
        let model = FittedModel::Classic { params: Some(self.als.clone()), model: ClassicModel::Hybrid(hybrid) };
        Ok(Fitted { model, curves: None, timing: None })
    }
}

/// Which Burn params a [`BurnRecipe`] holds.
#[derive(Debug)]
pub(crate) enum BurnParams {
    Mf(MfParams),
    Ncf(NcfParams),
    Deep(DeepParams),
    /// The deep hybrid with item text embeddings (`deep-hybrid-text`).
    DeepText(DeepParams),
    /// SASRec.
    SasRec(SasRecParams),
    /// GRU4Rec.
    Gru4Rec(Gru4RecParams),
}

/// A neural model (burnrec-model), fitted on the settings' backend.
#[derive(Debug)]
pub(crate) struct BurnRecipe {
    pub(crate) name: &'static str,
    pub(crate) params: BurnParams,
    /// Fields of the params type that this row refuses to set (the parts an NCF kind lacks,
    /// and `kind` itself), left out of [`Recipe::params_json`].
    pub(crate) hidden: &'static [&'static str],
}

impl Recipe for BurnRecipe {
    fn params_json(&self) -> serde_json::Value {
        let mut v = match &self.params {
            BurnParams::Mf(p) => serde_json::to_value(p),
            BurnParams::Ncf(p) => serde_json::to_value(p),
            BurnParams::Deep(p) | BurnParams::DeepText(p) => serde_json::to_value(p),
            BurnParams::SasRec(p) => serde_json::to_value(p),
            BurnParams::Gru4Rec(p) => serde_json::to_value(p),
        }
        .expect("params serialise");
        if let Some(o) = v.as_object_mut() {
            o.retain(|k, _| !self.hidden.contains(&k.as_str()));
        }
        v
    }

    fn fit(&self, data: &TrainingData<'_>, s: &FitSettings<'_>) -> Result<Fitted, ZooError> {
        let (train, device) = (data.train, s.backend.device());
        // The validation metric of the implicit models: NDCG@K (full ranking of the validation
        // part against `train`).
        let ndcg = data.valid.map(|v| Validation {
            name: format!("ndcg@{}", s.k),
            higher_is_better: true,
            score: Box::new(move |p: &dyn RatingPredictor| evaluate_full(p, train, v, s.k, s.block_users).ndcg),
        });
        let ndcg_name = format!("ndcg@{}", s.k);
        let (model, metric) = match &self.params {
            BurnParams::Mf(p) => (BurnModel::Mf(fit_burn(s.backend, || p.fit_with_valid(train, data.valid, &device))?), "rmse"),
            BurnParams::Ncf(p) => (BurnModel::Ncf(fit_burn(s.backend, || p.fit_validated(train, ndcg.as_ref(), &device))?), ndcg_name.as_str()),
            BurnParams::Deep(p) => (
                BurnModel::Deep(fit_burn(s.backend, || p.fit_validated(train, data.user_features, data.item_features, None, ndcg.as_ref(), &device))?),
                ndcg_name.as_str(),
            ),
            BurnParams::DeepText(p) => {
                let text = item_text(self.name, data)?;
                let fit = || p.fit_validated(train, data.user_features, data.item_features, Some(text), ndcg.as_ref(), &device);
                (BurnModel::Deep(fit_burn(s.backend, fit)?), ndcg_name.as_str())
            }
            BurnParams::SasRec(p) => {
                let seqs = sequences(self.name, data)?;
                (BurnModel::SasRec(fit_burn(s.backend, || p.fit(train, seqs, ndcg.as_ref(), &device))?), ndcg_name.as_str())
            }
            BurnParams::Gru4Rec(p) => {
                let seqs = sequences(self.name, data)?;
                (BurnModel::Gru4Rec(fit_burn(s.backend, || p.fit(train, seqs, ndcg.as_ref(), &device))?), ndcg_name.as_str())
            }
        };
        let (history, best) = model.history();
        // Early stopping says where it stopped and which epoch it kept.
        if let (Some(best), Some(last), false) = (best, history.last(), s.quiet) {
            let v = history.iter().find(|e| e.epoch == best).and_then(|e| e.valid).unwrap_or(f64::NAN);
            eprintln!("{}: early stopping ran {} epochs and kept epoch {best} (validation {metric} {v:.4})", self.name, last.epoch);
        }
        let curves = match &model {
            BurnModel::Mf(_) => curves(history, "train", &f64::sqrt, "valid"),
            _ => curves(history, "train loss", &|l| l, &format!("valid ndcg@{}", s.k)),
        };
        let timing = EpochTiming::of(history, best);
        Ok(Fitted { model: FittedModel::Burn(model), curves: Some(curves), timing })
    }
}

/// The training curve (`train_of` of each epoch's loss) and, when measured, the validation one.
fn curves(h: &[EpochLog], train_name: &str, train_of: &dyn Fn(f64) -> f64, valid_name: &str) -> Curves {
    let mut c = vec![(train_name.to_string(), h.iter().map(|e| (e.epoch, train_of(e.train_loss))).collect::<Vec<_>>())];
    if h.iter().any(|e| e.valid.is_some()) {
        c.push((valid_name.to_string(), h.iter().filter_map(|e| Some((e.epoch, e.valid?))).collect()));
    }
    c
}

/// Runs a Burn fit, turning a backend panic (e.g. no wgpu adapter) into an error.
fn fit_burn<T>(backend: Backend, f: impl FnOnce() -> Result<T, TrainError>) -> Result<T, ZooError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Ok(r?),
        Err(panic) => {
            let msg = panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied()).unwrap_or("unknown panic");
            let hint = if backend == Backend::Wgpu {
                " (wgpu needs a Vulkan, Metal or DX12 adapter; on Linux without a GPU install \
                 Mesa's software Vulkan: `apt-get install mesa-vulkan-drivers`)"
            } else {
                ""
            };
            Err(ZooError::Backend { backend: backend.to_string(), msg: msg.to_string(), hint })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_timing_is_the_median_after_the_first_epoch() {
        let log = |epoch, seconds, samples_per_s| EpochLog { epoch, train_loss: 1.0, seconds, samples_per_s, lr: 0.1, valid: None, peak_rss_mib: None };
        // The first epoch (9 s) is left out; the median of 2, 4, 3 is 3.
        let h = [log(1, 9.0, 10.0), log(2, 2.0, 50.0), log(3, 4.0, 25.0), log(4, 3.0, 33.0)];
        assert_eq!(EpochTiming::of(&h, None), Some(EpochTiming { epoch_s: 3.0, samples_per_s: 33.0, best_epoch: None }));
        assert_eq!(EpochTiming::of(&h[..1], Some(1)), Some(EpochTiming { epoch_s: 9.0, samples_per_s: 10.0, best_epoch: Some(1) }));
        assert_eq!(EpochTiming::of(&[], None), None);
    }
}
