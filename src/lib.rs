//! # burnrec
//!
//! Recommender systems in pure Rust on [Burn](https://burn.dev): one place to load rating
//! data, train classic collaborative filtering and neural models on the CPU or GPU chosen at
//! run time, and compare them honestly on the same split.
//!
//! The architecture is a pipeline of crates, re-exported here:
//! [`data`] → [`classic`] | [`model`] | [`text`] (the pretrained sentence encoder) → [`eval`]
//! → [`zoo`] (the model catalogue) → `burnrec-runner` (the `burnrec` CLI). Every model, classic or neural, implements
//! [`data::RatingPredictor`], and evaluation is written once against it; every model is one
//! row of [`zoo::CATALOGUE`], through which the CLI builds, fits, saves and serves it.
//!
//! ```no_run
//! use burnrec::prelude::*;
//! let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
//! let split = random_split(&data.interactions, 0.2, 42)?;
//! let svd = SvdParams::default().fit(&split.train)?;
//! let mf = MfParams::default().fit(&split.train, &Backend::Flex.device())?;
//! for (name, model) in [("svd", &svd as &dyn RatingPredictor), ("burn-mf", &mf)] {
//!     let r = evaluate_ratings(model, &split.test, split.train.rating_range()).unwrap();
//!     println!("{name}: RMSE {:.4}, MAE {:.4}", r.rmse, r.mae);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub use burnrec_classic as classic;
pub use burnrec_data as data;
pub use burnrec_eval as eval;
pub use burnrec_model as model;
pub use burnrec_text as text;
pub use burnrec_zoo as zoo;

/// The names most programs need.
pub mod prelude {
    pub use burnrec_classic::{
        AlsParams, BaselineParams, BaselineSgdParams, BprParams, ClassicModel, ClassicParams, EaseParams, Fit, GlobalMeanParams, ItemKnnParams, KnnKind,
        KnnParams, ModelFile, NmfParams, NormalPredictorParams, PopularityParams, PureSvdParams, SimilarityName, SlopeOneParams, SvdParams, SvdPpParams,
    };
    pub use burnrec_data::{Dataset, DatasetSpec, DelimitedFormat, Feedback, Interactions, LoadOptions, Prediction, RatingPredictor, random_split};
    pub use burnrec_eval::{RankingReport, RatingReport, evaluate_full, evaluate_ratings, mae, rmse};
    pub use burnrec_model::{Backend, BurnModel, DeepParams, Gru4RecParams, MfParams, NcfKind, NcfParams, SasRecParams, TrainConfig, Validation};
    pub use burnrec_zoo::{FitSettings, FittedModel, Recipe, TrainingData};
}
