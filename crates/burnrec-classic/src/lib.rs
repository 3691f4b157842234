//! # burnrec-classic
//!
//! Classic collaborative filtering in pure Rust: the global mean, BaselineOnly biases
//! (Koren 2010) and biased matrix factorisation by SGD ("SVD", Koren, Bell & Volinsky 2009),
//! with Surprise's default parameters so results compare.
//!
//! Every algorithm is a params struct implementing [`Fit`]; the fitted model implements
//! [`burnrec_data::RatingPredictor`], the trait evaluation is written against.
//!
//! ```
//! use burnrec_classic::{Fit, SvdParams};
//! use burnrec_data::{RatingPredictor, synthetic::planted_low_rank};
//! let data = planted_low_rank(50, 40, 2, 0.3, 0.1, 1).observed;
//! let model = SvdParams { n_factors: 8, ..Default::default() }.fit(&data)?;
//! let p = model.predict(0, 1);
//! assert!(p.rating.is_finite());
//! # Ok::<(), burnrec_classic::FitError>(())
//! ```
#![warn(missing_docs)]

pub mod als;
pub mod baseline;
pub mod bpr;
pub mod content;
pub mod ease;
pub mod error;
pub mod item_knn;
pub mod knn;
pub mod nmf;
pub mod pure_svd;
pub mod registry;
pub mod saved;
pub mod slope_one;
pub mod svd;
pub mod svdpp;
pub mod util;

pub use als::{Als, AlsParams};
pub use baseline::{
    BaselineOnly, BaselineParams, BaselineSgdParams, GlobalMean, GlobalMeanParams, NormalPredictor, NormalPredictorParams, Popularity, PopularityParams,
};
pub use bpr::{Bpr, BprParams};
pub use content::{ContentKnn, ContentKnnParams, Hybrid, ScoreScale};
pub use ease::{Ease, EaseParams};
pub use error::{FitError, ParamError};
pub use item_knn::{ItemKnn, ItemKnnParams, ItemKnnWeighting};
pub use knn::{Knn, KnnKind, KnnParams, Similarity, SimilarityName};
pub use nmf::{Nmf, NmfParams};
pub use pure_svd::{PureSvd, PureSvdParams};
pub use registry::{ClassicModel, ClassicParams};
pub use saved::{ModelFile, ModelFileError};
pub use slope_one::{SlopeOne, SlopeOneParams};
pub use svd::{BiasedMf, SvdParams};
pub use svdpp::{SvdPp, SvdPpParams};

use burnrec_data::{Interactions, RatingPredictor};

/// Fits a model on training ratings; implemented by every params struct.
pub trait Fit {
    /// The fitted model.
    type Model: RatingPredictor;

    /// Fits on `train` (ratings over the dataset's index space).
    ///
    /// # Errors
    /// [`FitError`] for a bad parameter, an empty training set, or divergence.
    fn fit(&self, train: &Interactions) -> Result<Self::Model, FitError>;
}
