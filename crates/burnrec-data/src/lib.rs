//! # burnrec-data
//!
//! Rating data for burnrec: loaders for MovieLens 100K / 1M / latest and generic delimited
//! files, raw-id ↔ index maps, the bundled MovieLens latest-small dataset, seeded splits, and
//! the [`RatingPredictor`] trait that every model (classic or neural) implements.
//!
//! ```
//! use burnrec_data::{DatasetSpec, LoadOptions, split::random_split};
//! let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
//! let split = random_split(&data.interactions, 0.2, 42)?;
//! assert_eq!(split.train.len() + split.test.len(), 100_836);
//! # Ok::<(), burnrec_data::DataError>(())
//! ```
#![warn(missing_docs)]

#[cfg(feature = "burn")]
pub mod batch;
pub mod bundled;
pub mod csr;
pub mod dataset;
pub mod error;
pub mod features;
#[cfg(feature = "fetch")]
pub mod fetch;
#[cfg(feature = "fetch")]
pub mod fetch_model;
pub mod ids;
pub mod listed;
pub mod loader;
pub mod predict;
pub mod sampling;
pub mod sequence;
pub mod shared;
pub mod side;
pub mod spec;
pub mod split;
pub mod stats;
pub mod synthetic;
pub mod text;

pub use dataset::{Dataset, Interactions, Rating};
pub use error::DataError;
pub use features::FeatureTable;
pub use ids::IdMap;
pub use loader::{Column, DelimitedFormat, DuplicatePolicy, LoadOptions, load_ratings, read_ratings};
pub use predict::{DotFactors, Feedback, KnownSet, Prediction, RatingPredictor, rank_order, tie_key, top_k};
pub use spec::DatasetSpec;
pub use split::{Split, random_split};
