//! One training loop for every Burn model.
//!
//! Any module implementing [`RatingModule`] is trained by the same loop (seeded shuffled
//! mini-batches, an objective plus an L2 penalty on the parameters the batch touched, Adam /
//! AdamW / SGD with optional gradient clipping, a per-epoch learning-rate schedule, a progress
//! bar on stderr with the loss and samples/s, divergence detection naming the epoch and step,
//! and — given a [`Validation`] — early stopping with patience and best-checkpoint restore),
//! with one of four objectives:
//! - [`train_explicit`]: mean squared error on `r − μ` (explicit ratings);
//! - [`train_pointwise`]: binary cross-entropy on logits, each positive with sampled negatives
//!   (implicit feedback, He et al. 2017), computed with log-sigmoid so that it stays finite for
//!   any logit;
//! - [`train_pairwise`]: BPR, `−ln σ(x_ui − x_uj)` with one sampled negative per positive
//!   (Rendle et al. 2009), also through log-sigmoid;
//! - [`train_softmax`]: sampled softmax, the positive's cross-entropy among itself and its
//!   sampled negatives (Covington et al. 2016), through log-softmax.
//!
//! Negatives are drawn uniformly among the items that have a training interaction
//! ([`NegativeSampler::among_positive_items`]), never among items the training data does not
//! contain: in a cold-items split those are the test items, and drawing them as negatives
//! taught the feature- and text-aware models to rank exactly them last (until 2026-12-03).

use std::time::Instant;

use burn::data::dataloader::batcher::Batcher;
use burn::module::{Module, Param};
use burn::nn::Embedding;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, SgdConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use std::sync::Arc;

use burn::tensor::activation::{log_sigmoid, log_softmax};
use burnrec_data::batch::{ExplicitBatcher, Features, PairwiseBatcher, PointwiseBatcher, index_tensor};
use burnrec_data::sampling::NegativeSampler;
use burnrec_data::{Interactions, Rating, RatingPredictor};

use crate::sparse::{EmbeddingUpdate, HostTables, RowOptimizer, RowState, gather, unique};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

mod config;
mod fit_loop;
mod objectives;
mod progress;
mod sequential;
mod sparse_step;
#[cfg(test)]
mod tests;

pub use config::*;
use fit_loop::*;
pub use objectives::*;
pub use progress::*;
pub use sequential::*;
#[cfg(test)]
pub(crate) use sparse_step::FORCE_DEVICE_ROWS;
use sparse_step::*;

/// A Burn module that scores (user, item) pairs: predicted ratings as deviations from the
/// global mean μ (explicit models), or logits of "the user interacts with the item" (implicit
/// models).
pub trait RatingModule: Module {
    /// `users`, `items`: `[batch]` indices; returns `[batch]` predictions of `r − μ` in rating
    /// units, or `[batch]` logits.
    fn forward(&self, users: Tensor<1, Int>, items: Tensor<1, Int>) -> Tensor<1>;

    /// `[1]` L2 penalty of the parameters this batch uses, averaged over the batch
    /// (per-rating regularisation, as in SGD matrix factorisation).
    fn penalty(&self, users: Tensor<1, Int>, items: Tensor<1, Int>) -> Tensor<1>;

    /// The embedding tables that [`EmbeddingUpdate::Sparse`] updates row by row, each with the
    /// ids that index it (the module's other parameters keep the dense optimiser). `None` (the
    /// default) for modules without such tables.
    fn sparse_tables(&self) -> Option<Vec<(&Embedding, TableSide)>> {
        None
    }

    /// The tables, by value, in [`RatingModule::sparse_tables`] order (empty by default): a
    /// table owned once can be updated in place.
    fn into_tables(self) -> Vec<Embedding> {
        Vec::new()
    }

    /// A copy of the module with its tables replaced, in [`RatingModule::sparse_tables`]
    /// order (`None` by default).
    fn with_tables(&self, _tables: Vec<Embedding>) -> Option<Self> {
        None
    }

    /// For a table indexed by side features ([`TableSide::UserFeatures`] /
    /// [`TableSide::ItemFeatures`]): the rows that users (items) `ids` (global indices,
    /// ascending) read, ascending and distinct. Empty by default (no such tables).
    fn feature_rows(&self, _side: TableSide, _ids: &[u32]) -> Vec<u32> {
        Vec::new()
    }

    /// The module of one row-sparse step: each table of `tables` holds rows `rows.of(side)` of
    /// the full table, in [`RatingModule::sparse_tables`] order, and the step's samples index
    /// the user and item tables locally. Modules with per-row data beside their tables (the deep
    /// hybrid's known masks and feature bags) keep the maps to read it; the default is
    /// [`RatingModule::with_tables`].
    fn with_batch_rows(&self, tables: Vec<Embedding>, _rows: &StepRows<'_>) -> Option<Self> {
        self.with_tables(tables)
    }
}

/// Runs `module` (in evaluation mode, on `device`) on the pairs `pairs[k]` for each `k` in
/// `selected`, in blocks of 65 536 so memory stays bounded; returns their `[selected.len()]`
/// outputs (`r − μ` or logits) in `selected` order — the one place the trained Burn models score
/// pairs.
///
/// # Panics
/// If a selected index is out of `pairs`, or a user/item index is outside the module's tables
/// (callers route those to their fallbacks first).
pub fn forward_pairs<M: RatingModule>(module: &M, pairs: &[(u32, u32)], selected: &[usize], device: &Device) -> Vec<f32> {
    const BLOCK: usize = 65_536;
    let mut out = Vec::with_capacity(selected.len());
    for block in selected.chunks(BLOCK) {
        let users: Vec<u32> = block.iter().map(|&k| pairs[k].0).collect();
        let items: Vec<u32> = block.iter().map(|&k| pairs[k].1).collect();
        let t = module.forward(index_tensor(&users, device), index_tensor(&items, device));
        out.extend(t.into_data().try_to_vec::<f32>().expect("float tensor reads back as f32"));
    }
    out
}

/// Which ids index an embedding table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableSide {
    /// Rows are users.
    User,
    /// Rows are items.
    Item,
    /// Rows are side features of users; a step trains those of its users
    /// ([`RatingModule::feature_rows`]).
    UserFeatures,
    /// Rows are side features of items; a step trains those of its items.
    ItemFeatures,
}

/// The rows one row-sparse step trains, by what indexes them: global indices, ascending and
/// distinct.
#[derive(Clone, Copy, Debug)]
pub struct StepRows<'a> {
    /// The batch's users.
    pub users: &'a [u32],
    /// The batch's items (positives and sampled negatives).
    pub items: &'a [u32],
    /// The side features of those users ([`RatingModule::feature_rows`]).
    pub user_features: &'a [u32],
    /// The side features of those items.
    pub item_features: &'a [u32],
}

impl StepRows<'_> {
    /// The rows of a table indexed by `side`.
    pub fn of(&self, side: TableSide) -> &[u32] {
        match side {
            TableSide::User => self.users,
            TableSide::Item => self.items,
            TableSide::UserFeatures => self.user_features,
            TableSide::ItemFeatures => self.item_features,
        }
    }
}
