//! # burnrec-zoo
//!
//! The model catalogue: every model burnrec knows — classic (burnrec-classic), feature-aware
//! and neural (burnrec-model, on Burn) — as one row of [`CATALOGUE`]. A row says what the
//! model is (CLI name, family, feedback, paper), what data it needs (side features,
//! timestamps), what it can do when served (dot-product factors, a new user's fold-in, similar
//! items, new users from side features), and how its parameters are built from the defaults,
//! the CLI's shared flags and every `--set NAME.PATH=VALUE`. Fitting goes through one
//! vocabulary: a row builds a [`Recipe`] (checked params), and every recipe fits on one
//! [`TrainingData`] value into one [`FittedModel`], which saves, loads and answers.
//!
//! The runner (`burnrec` CLI) uses nothing else to build, fit, save or serve a model: adding
//! a model is its module (in burnrec-classic or burnrec-model) plus one row here
//! (docs/adding-a-model.md has the recipe).
//!
//! ```
//! use burnrec_data::{DatasetSpec, LoadOptions, random_split};
//! use burnrec_zoo::{FitSettings, TrainingData, entry};
//! let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
//! let split = random_split(&data.interactions, 0.2, 42)?;
//! let set = ["als.factors=16".to_string()];
//! let settings = FitSettings { set: &set, quiet: true, ..FitSettings::default() };
//! let recipe = entry("als")?.recipe(&settings)?;       // checked before any data is touched
//! let fitted = recipe.fit(&TrainingData::of(&split.train), &settings)?;
//! assert_eq!(fitted.model.predictor().score_block(&[0], &[0, 1]).len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod catalogue;
pub mod error;
pub mod fitted;
pub mod recipe;
pub mod serving;
pub mod settings;

pub use catalogue::{CATALOGUE, DEFAULT_MODELS, Family, GROUPS, ModelEntry, Need, Needs, Serves, entry, select};
pub use error::ZooError;
pub use fitted::FittedModel;
pub use recipe::{Curves, EpochTiming, Fitted, Recipe, TrainingData};
pub use serving::{FOLD_IN_REG, FactorIndex, Serving};
pub use settings::FitSettings;
