//! A fitted model of any family ([`FittedModel`]): its scores, its files, and the serving
//! capabilities that depend on what it is (a new user's fold-in, new users from side
//! features), so that serving code never looks inside.

use std::path::Path;

use burnrec_classic::registry::{ClassicModel, ClassicParams};
use burnrec_classic::saved::ModelFile;
use burnrec_classic::text_knn::neighbours_of;
use burnrec_data::text::ItemEmbeddings;
use burnrec_data::{IdMap, RatingPredictor};
use burnrec_model::{Backend, BurnModel};

use crate::{FOLD_IN_REG, Serving, ZooError};

/// A fitted model of any family, kept concrete so that it can be saved.
#[allow(clippy::large_enum_variant)] // one per loaded model, never in a collection
pub enum FittedModel {
    /// A classic model.
    Classic {
        /// The params it was fitted with (for the hybrid: its ALS part's; `None` for
        /// `content`, whose params are inside the fitted model).
        params: Option<ClassicParams>,
        /// The fitted model.
        model: ClassicModel,
    },
    /// A Burn model.
    Burn(BurnModel),
    /// A model defined outside the workspace through the public API (a [`crate::Recipe`] of
    /// its own, as `examples/toy_model.rs`): fitted, evaluated and served in process like any
    /// other, but it has no model-directory format, so [`FittedModel::save`] refuses it.
    Other {
        /// Its name, for messages.
        name: String,
        /// The model.
        model: Box<dyn RatingPredictor + Send + Sync>,
    },
}

impl std::fmt::Debug for FittedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FittedModel::Classic { params, model } => f.debug_struct("Classic").field("params", params).field("model", model).finish(),
            FittedModel::Burn(m) => f.debug_tuple("Burn").field(m).finish(),
            FittedModel::Other { name, .. } => f.debug_struct("Other").field("name", name).finish_non_exhaustive(),
        }
    }
}

/// Why a serving request cannot be answered by this model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unanswerable {
    /// The model has no such capability (the message names what would).
    #[error("{0}")]
    Unsupported(String),
    /// The request's input does not fit the model (e.g. unknown feature values, listed).
    #[error("{0}")]
    BadInput(String),
}

impl FittedModel {
    /// The model as the one scoring trait.
    pub fn predictor(&self) -> &dyn RatingPredictor {
        match self {
            FittedModel::Classic { model, .. } => model,
            FittedModel::Burn(m) => m.predictor(),
            FittedModel::Other { model, .. } => model.as_ref(),
        }
    }

    /// The ridge weight λ and confidence of the fold-in solve against this model's item
    /// factors: ALS's own `regularization` and `alpha` for `als` (and the hybrid's ALS part),
    /// [`FOLD_IN_REG`] and 1 for every other factor model.
    pub fn fold_in_ridge(&self) -> (f32, f32) {
        match self {
            FittedModel::Classic { params: Some(ClassicParams::Als(p)), .. } => (p.regularization, p.alpha),
            _ => (FOLD_IN_REG, 1.0),
        }
    }

    /// Prepares what serving needs once: the factor index of a factor model (and of the
    /// hybrid's collaborative part), over `n_users × n_items`.
    pub fn serving(&self, n_users: usize, n_items: usize) -> Serving {
        let (reg, confidence) = self.fold_in_ridge();
        match self {
            FittedModel::Classic { model: ClassicModel::Hybrid(h), .. } => Serving::new(None, crate::FactorIndex::of(&*h.a, reg, confidence, n_users, n_items)),
            _ => Serving::new(crate::FactorIndex::of(self.predictor(), reg, confidence, n_users, n_items), None),
        }
    }

    /// Raw scores of every item (`[n_items]`) for a user known only by `history` (item
    /// indices, non-empty): the model's own rule (item-knn, EASE, PureSVD, content), each
    /// part's fold-in blended (the hybrid), or the factor fold-in of [`Serving`].
    ///
    /// # Errors
    /// [`Unanswerable::Unsupported`] for models without fold-in.
    pub fn fold_in(&self, serving: &Serving, history: &[u32], name: &str) -> Result<Vec<f32>, Unanswerable> {
        if let Some(s) = self.predictor().history_scores(history) {
            return Ok(s);
        }
        if let FittedModel::Classic { model: ClassicModel::Hybrid(h), .. } = self
            && let Some(s) = h.history_scores_with(history, |hist| serving.part.as_ref().map(|fx| fx.fold_in(hist)))
        {
            return Ok(s);
        }
        match &serving.factors {
            Some(fx) => Ok(fx.fold_in(history)),
            None => Err(Unanswerable::Unsupported(format!("`{name}` cannot fold in a new user: it has neither item factors nor a history rule of its own"))),
        }
    }

    /// Raw scores of every item (`[n_items]`) for a new user described by side features
    /// (`field=value`): the deep hybrid's cold-start path
    /// ([`burnrec_model::DeepHybrid::score_new_user`]).
    ///
    /// # Errors
    /// [`Unanswerable::BadInput`] for unknown names or values (the known values listed),
    /// [`Unanswerable::Unsupported`] for every other model.
    pub fn score_new_user(&self, features: &[String], name: &str) -> Result<Vec<f32>, Unanswerable> {
        match self {
            FittedModel::Burn(BurnModel::Deep(m)) => m.score_new_user(features).map_err(Unanswerable::BadInput),
            _ => Err(Unanswerable::Unsupported(format!("`{name}` has no side features: recommending from user features needs `deep-hybrid`"))),
        }
    }

    /// Scores (`[users.len()]`) of an item that is not in the model, known only by its text
    /// embedding `query` (`[d]`, by the encoder that made `item_text`, the model's item
    /// embeddings `[n_items × d]`), for training users `users` — an item added to the
    /// catalogue after training, recommended by the model's own rule: `text-knn` keeps the
    /// new item's `k` nearest items by cosine ([`burnrec_classic::text_knn::neighbours_of`],
    /// `k` the fit's neighbourhood size) and sums those the user has; `deep-hybrid-text`
    /// scores the projection of its text with no id or feature embedding
    /// ([`burnrec_model::DeepHybrid::score_new_item`]).
    ///
    /// # Errors
    /// [`Unanswerable::BadInput`] for a query of the wrong width (or all zeros),
    /// [`Unanswerable::Unsupported`] for models without item text.
    pub fn score_new_item(&self, users: &[u32], query: &[f32], item_text: &ItemEmbeddings, name: &str) -> Result<Vec<f32>, Unanswerable> {
        match self {
            FittedModel::Burn(BurnModel::Deep(m)) => m
                .score_new_item(users, query)
                .map_err(|e| if e.contains("without item text") { Unanswerable::Unsupported(format!("`{name}`: {e}")) } else { Unanswerable::BadInput(e) }),
            FittedModel::Classic { model: ClassicModel::Content(c), .. } if name == "text-knn" => {
                let row = neighbours_of(query, item_text, c.neighbourhood_size()).map_err(|e| Unanswerable::BadInput(e.to_string()))?;
                Ok(users.iter().map(|&u| c.score_new_item(u, &row)).collect())
            }
            _ => Err(Unanswerable::Unsupported(format!(
                "`{name}` does not read item text: scoring a new item by its text needs `text-knn` or `deep-hybrid-text`"
            ))),
        }
    }

    /// Writes the model into the folder `dir` (which must exist): `classic.json` (params, id
    /// maps and model, a [`ModelFile`]) for classic models, `burn/` (config, id maps, history
    /// and weights) for Burn models.
    ///
    /// # Errors
    /// [`ZooError::ModelFile`] or [`ZooError::BurnModel`] naming the file that failed;
    /// [`ZooError::NotSaveable`] for [`FittedModel::Other`].
    pub fn save(&self, dir: &Path, dataset: &str, users: &IdMap, items: &IdMap) -> Result<(), ZooError> {
        match self {
            FittedModel::Classic { params, model } => {
                ModelFile::new(dataset, params.clone(), users.clone(), items.clone(), model.clone()).save(&dir.join("classic.json"))?
            }
            FittedModel::Burn(m) => m.save(&dir.join("burn"), users, items)?,
            FittedModel::Other { name, .. } => return Err(ZooError::NotSaveable(name.clone())),
        }
        Ok(())
    }

    /// Reads a model written by [`FittedModel::save`] from `dir`, with its id maps; Burn models
    /// are loaded onto `backend`'s device.
    ///
    /// # Errors
    /// [`ZooError::MissingModel`] when `dir` holds neither file; the files' own errors.
    pub fn load(dir: &Path, backend: Backend) -> Result<(FittedModel, IdMap, IdMap), ZooError> {
        if dir.join("classic.json").is_file() {
            let f = ModelFile::load(&dir.join("classic.json"))?;
            Ok((FittedModel::Classic { params: f.params, model: f.model }, f.users, f.items))
        } else if dir.join("burn").is_dir() {
            let (m, users, items) = BurnModel::load(&dir.join("burn"), &backend.device())?;
            Ok((FittedModel::Burn(m), users, items))
        } else {
            Err(ZooError::MissingModel(dir.display().to_string()))
        }
    }
}
