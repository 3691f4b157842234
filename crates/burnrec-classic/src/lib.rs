//! # burnrec-classic
//!
//! Classic recommenders in pure Rust, each with its paper's (or its reference library's)
//! defaults so results compare:
//!
//! - rating prediction, as Surprise: the global mean and a normal draw, BaselineOnly biases by
//!   ALS or SGD (Koren 2010), biased MF "SVD" and PMF (Koren, Bell & Volinsky 2009;
//!   Salakhutdinov & Mnih 2007), SVD++ (Koren 2008), NMF (Luo et al. 2014), Slope One
//!   (Lemire & Maclachlan 2005) and the KNN family — basic, with means, with z-scores,
//!   with baselines ([`knn`]);
//! - top-N from implicit feedback, as implicit and the top-N literature: popularity,
//!   PureSVD (Cremonesi et al. 2010), ALS (Hu, Koren & Volinsky 2008), BPR-MF (Rendle et al.
//!   2009), item KNN (Sarwar et al. 2001) and EASE (Steck 2019);
//! - from item side features: content-based item KNN ([`content`], Lops et al. 2011) and a
//!   weighted hybrid of two models ([`hybrid`], Burke 2002).
//!
//! Every algorithm is a params struct implementing [`Fit`]; the fitted model implements
//! [`burnrec_data::RatingPredictor`], the trait evaluation is written against. [`registry`]
//! holds every algorithm under one serialisable enum (what a model file stores); the model
//! catalogue (`burnrec-zoo`) names them.
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
pub mod f32_blob;
pub mod hybrid;
pub mod item_knn;
pub mod knn;
pub mod nmf;
pub mod pure_svd;
pub mod registry;
pub mod saved;
pub mod slope_one;
pub mod svd;
pub mod svdpp;
pub mod text_knn;
pub mod util;

pub use als::{Als, AlsParams};
pub use baseline::{
    BaselineOnly, BaselineParams, BaselineSgdParams, GlobalMean, GlobalMeanParams, NormalPredictor, NormalPredictorParams, Popularity, PopularityParams,
};
pub use bpr::{Bpr, BprParams};
pub use content::{ContentKnn, ContentKnnParams};
pub use ease::{Ease, EaseParams};
pub use error::{FitError, ParamError};
pub use hybrid::{Hybrid, ScoreScale};
pub use item_knn::{ItemKnn, ItemKnnParams, ItemKnnWeighting};
pub use knn::{Knn, KnnKind, KnnParams, Similarity, SimilarityName};
pub use nmf::{Nmf, NmfParams};
pub use pure_svd::{PureSvd, PureSvdParams};
pub use registry::{ClassicModel, ClassicParams};
pub use saved::{ModelFile, ModelFileError};
pub use slope_one::{SlopeOne, SlopeOneParams};
pub use svd::{BiasedMf, SvdParams};
pub use svdpp::{SvdPp, SvdPpParams};
pub use text_knn::TextKnnParams;

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
