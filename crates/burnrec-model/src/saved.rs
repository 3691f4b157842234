//! Saving and loading a trained Burn model as a directory:
//!
//! - `model.json`: format version, the model's parameters (its config), the training-time
//!   state that is not a weight (global mean, which users/items were seen, item popularity,
//!   side-feature tables), the raw-id maps and the training history;
//! - `weights.bpk`: every trained tensor, written by burn-store's [`BurnpackStore`].
//!
//! Loading rebuilds the module from the config on the chosen device and reads the weights
//! into it, so predictions after reload are identical on the same backend (tested).

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::Device;
use burnrec_data::text::ItemEmbeddings;
use burnrec_data::{FeatureTable, IdMap, KnownSet, RatingPredictor};
use serde::{Deserialize, Serialize};

use crate::deep::{DeepHybrid, DeepHybridModule, DeepParams};
use crate::gru4rec::{Gru4Rec, Gru4RecModule, Gru4RecParams};
use crate::mf::{BiasedMfModule, BurnMf, MfParams};
use crate::ncf::{BurnNcf, NcfKind, NcfModule, NcfParams};
use crate::sasrec::{SasRec, SasRecModule, SasRecParams};
use crate::sequential::{SequenceNet, SequenceState, Sequential};
use crate::trainer::EpochLog;
use burnrec_data::sequence::UserSequences;

/// Version of the `model.json` layout written by this build.
pub const BURN_MODEL_FORMAT: u32 = 1;

/// A trained Burn model of any kind.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one value per loaded model; boxing buys nothing
pub enum BurnModel {
    /// Explicit biased MF.
    Mf(BurnMf),
    /// Dot-product MF, GMF, MLP or NeuMF.
    Ncf(BurnNcf),
    /// The feature-aware deep hybrid.
    Deep(DeepHybrid),
    /// SASRec, the self-attentive sequential model.
    SasRec(SasRec),
    /// GRU4Rec, the recurrent sequential model.
    Gru4Rec(Gru4Rec),
}

/// The non-weight part of a saved model.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)]
enum Config {
    BurnMf {
        params: MfParams,
        mu: f32,
    },
    Ncf {
        params: NcfParams,
        popularity: Vec<f32>,
    },
    DeepHybrid {
        params: DeepParams,
        user_features: Option<FeatureTable>,
        item_features: Option<FeatureTable>,
        /// Width of the frozen item text embeddings (saved among the weights), when the model
        /// has them (`deep-hybrid-text`); absent in files of models without text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text_dim: Option<usize>,
    },
    SasRec {
        params: SasRecParams,
        popularity: Vec<f32>,
        /// Every user's latest `max_len` known items, oldest first.
        sequences: UserSequences,
    },
    Gru4Rec {
        params: Gru4RecParams,
        popularity: Vec<f32>,
        sequences: UserSequences,
    },
}

/// The checks of a sequential model's saved state against the model's sizes.
fn check_sequential(popularity: &[f32], sequences: &UserSequences, n_users: usize, n_items: usize) -> Result<(), String> {
    if popularity.len() != n_items {
        return Err(format!("{} popularity values for {n_items} items", popularity.len()));
    }
    if sequences.n_users() != n_users || sequences.n_items() != n_items {
        return Err(format!("sequences of {} users × {} items for a model of {n_users} × {n_items}", sequences.n_users(), sequences.n_items()));
    }
    sequences.check().map_err(|e| e.to_string())
}

/// The widest item text embedding a saved model may declare (sentence encoders give 384–4096).
const MAX_TEXT_DIM: usize = 65_536;
/// The most frozen text values (`n_items × text_dim`) a saved model may declare: 16 GiB of f32.
const MAX_TEXT_VALUES: usize = 1 << 32;

#[derive(Debug, Serialize, Deserialize)]
struct ModelJson {
    format: u32,
    burnrec_version: String,
    config: Config,
    n_users: usize,
    n_items: usize,
    known: KnownSet,
    users: IdMap,
    items: IdMap,
    history: Vec<EpochLog>,
    best_epoch: Option<usize>,
}

/// Errors of [`BurnModel::save`] and [`BurnModel::load`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaveError {
    /// A file could not be written or read.
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        /// "read", "write" or "create".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `model.json` is not a burnrec Burn model, or is damaged.
    #[error("`{path}` is not a valid burnrec model description: {msg}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// The weights file is missing, damaged or does not fit the config.
    #[error("weights `{path}`: {msg}")]
    Weights {
        /// The file.
        path: PathBuf,
        /// burn-store's message.
        msg: String,
    },
    /// The id maps do not match the model's tables.
    #[error("the id maps ({users} users, {items} items) do not match the model ({n_users} users, {n_items} items)")]
    IdMaps {
        /// Users in the map.
        users: usize,
        /// Items in the map.
        items: usize,
        /// Users of the model.
        n_users: usize,
        /// Items of the model.
        n_items: usize,
    },
}

const CONFIG: &str = "model.json";
const WEIGHTS: &str = "weights.bpk";

impl BurnModel {
    /// The model as a predictor.
    pub fn predictor(&self) -> &dyn RatingPredictor {
        match self {
            BurnModel::Mf(m) => m,
            BurnModel::Ncf(m) => m,
            BurnModel::Deep(m) => m,
            BurnModel::SasRec(m) => m,
            BurnModel::Gru4Rec(m) => m,
        }
    }

    /// The training history (one [`EpochLog`] per epoch run) and the epoch early stopping
    /// kept, if it was on.
    pub fn history(&self) -> (&[EpochLog], Option<usize>) {
        match self {
            BurnModel::Mf(m) => (&m.history, m.best_epoch),
            BurnModel::Ncf(m) => (&m.history, m.best_epoch),
            BurnModel::Deep(m) => (&m.history, m.best_epoch),
            BurnModel::SasRec(m) => (&m.history, m.best_epoch),
            BurnModel::Gru4Rec(m) => (&m.history, m.best_epoch),
        }
    }

    /// Writes `dir/model.json` and `dir/weights.bpk` (creating `dir`; existing files are
    /// replaced), with the raw-id maps `users` and `items` of the training data.
    ///
    /// # Errors
    /// [`SaveError::IdMaps`] if the maps are larger than the model's tables, [`SaveError::Io`]
    /// or [`SaveError::Weights`] if writing fails.
    pub fn save(&self, dir: &Path, users: &IdMap, items: &IdMap) -> Result<(), SaveError> {
        let (config, n_users, n_items, known, history, best_epoch) = match self {
            BurnModel::Mf(m) => {
                let [nu, _] = m.module().user.weight.dims();
                let [ni, _] = m.module().item.weight.dims();
                (Config::BurnMf { params: m.params.clone(), mu: m.mu() }, nu, ni, &m.known, &m.history, m.best_epoch)
            }
            BurnModel::Ncf(m) => {
                let (nu, ni) = (m.known.n_users(), m.known.n_items());
                (Config::Ncf { params: m.params.clone(), popularity: m.popularity.clone() }, nu, ni, &m.known, &m.history, m.best_epoch)
            }
            BurnModel::Deep(m) => {
                let [nu, _] = m.module().user_id.weight.dims();
                let [ni, _] = m.module().item_id.weight.dims();
                let config = Config::DeepHybrid {
                    params: m.params.clone(),
                    user_features: m.user_features.clone(),
                    item_features: m.item_features.clone(),
                    text_dim: m.module().item_text.as_ref().map(|t| t.text_dim()),
                };
                (config, nu, ni, &m.known, &m.history, m.best_epoch)
            }
            BurnModel::SasRec(m) => {
                let config = Config::SasRec { params: m.params.clone(), popularity: m.popularity.clone(), sequences: m.sequences.clone() };
                (config, m.known.n_users(), m.known.n_items(), &m.known, &m.history, m.best_epoch)
            }
            BurnModel::Gru4Rec(m) => {
                let config = Config::Gru4Rec { params: m.params.clone(), popularity: m.popularity.clone(), sequences: m.sequences.clone() };
                (config, m.known.n_users(), m.known.n_items(), &m.known, &m.history, m.best_epoch)
            }
        };
        if users.len() > n_users || items.len() > n_items {
            return Err(SaveError::IdMaps { users: users.len(), items: items.len(), n_users, n_items });
        }
        std::fs::create_dir_all(dir).map_err(|source| SaveError::Io { action: "create", path: dir.to_path_buf(), source })?;
        let json = ModelJson {
            format: BURN_MODEL_FORMAT,
            burnrec_version: env!("CARGO_PKG_VERSION").to_string(),
            config,
            n_users,
            n_items,
            known: known.clone(),
            users: users.clone(),
            items: items.clone(),
            history: history.clone(),
            best_epoch,
        };
        let path = dir.join(CONFIG);
        let text = serde_json::to_string(&json).map_err(|e| SaveError::Format { path: path.clone(), msg: e.to_string() })?;
        // Weights first, to a temporary name renamed into place, then the description: a
        // failed save never leaves a description beside weights it does not describe.
        let wpath = dir.join(WEIGHTS);
        let tmp = dir.join(format!("{WEIGHTS}.tmp"));
        let mut store = BurnpackStore::from_file(&tmp).overwrite(true).auto_extension(false);
        let res = match self {
            BurnModel::Mf(m) => m.module().save_into(&mut store),
            BurnModel::Ncf(m) => m.module().save_into(&mut store),
            BurnModel::Deep(m) => m.module().save_into(&mut store),
            BurnModel::SasRec(m) => m.module().save_into(&mut store),
            BurnModel::Gru4Rec(m) => m.module().save_into(&mut store),
        };
        res.map_err(|e| SaveError::Weights { path: wpath.clone(), msg: e.to_string() })?;
        std::fs::rename(&tmp, &wpath).map_err(|source| SaveError::Io { action: "write", path: wpath.clone(), source })?;
        let ctmp = dir.join(format!("{CONFIG}.tmp"));
        std::fs::write(&ctmp, text).map_err(|source| SaveError::Io { action: "write", path: ctmp.clone(), source })?;
        std::fs::rename(&ctmp, &path).map_err(|source| SaveError::Io { action: "write", path: path.clone(), source })
    }

    /// Reads a directory written by [`BurnModel::save`] onto `device`: returns the model and
    /// its user and item id maps.
    ///
    /// # Errors
    /// [`SaveError::Io`] for unreadable files, [`SaveError::Format`] for a damaged or newer
    /// `model.json`, [`SaveError::Weights`] for weights that are missing, damaged or of the
    /// wrong shapes, [`SaveError::IdMaps`] if the maps do not fit the tables.
    pub fn load(dir: &Path, device: &Device) -> Result<(BurnModel, IdMap, IdMap), SaveError> {
        let path = dir.join(CONFIG);
        let text = std::fs::read_to_string(&path).map_err(|source| SaveError::Io { action: "read", path: path.clone(), source })?;
        let mut j: ModelJson = serde_json::from_str(&text).map_err(|e| SaveError::Format { path: path.clone(), msg: e.to_string() })?;
        j.users.rebuild_index();
        j.items.rebuild_index();
        let bad = |msg: String| SaveError::Format { path: path.clone(), msg };
        match &mut j.config {
            Config::BurnMf { params, .. } => params.check().map_err(|e| bad(e.to_string()))?,
            Config::Ncf { params, popularity } => {
                params.check().map_err(|e| bad(e.to_string()))?;
                if popularity.len() != j.n_items {
                    return Err(bad(format!("{} popularity values for {} items", popularity.len(), j.n_items)));
                }
            }
            Config::DeepHybrid { params, user_features, item_features, text_dim } => {
                params.check().map_err(|e| bad(e.to_string()))?;
                if let Some(t) = *text_dim
                    && !((1..=MAX_TEXT_DIM).contains(&t) && j.n_items.checked_mul(t).is_some_and(|n| n <= MAX_TEXT_VALUES))
                {
                    return Err(bad(format!("text_dim {t} for {} items, expected 1 to {MAX_TEXT_DIM} and at most {MAX_TEXT_VALUES} values", j.n_items)));
                }
                for (t, n, what) in [(user_features, j.n_users, "user"), (item_features, j.n_items, "item")] {
                    if let Some(t) = t {
                        t.rebuild_index();
                        t.validate().map_err(|e| bad(format!("{what} features: {e}")))?;
                        if t.n_rows() > n {
                            return Err(bad(format!("{what} features have {} rows for {n} {what}s", t.n_rows())));
                        }
                    }
                }
            }
            Config::SasRec { params, popularity, sequences } => {
                params.check().map_err(|e| bad(e.to_string()))?;
                check_sequential(popularity, sequences, j.n_users, j.n_items).map_err(bad)?;
            }
            Config::Gru4Rec { params, popularity, sequences } => {
                params.check().map_err(|e| bad(e.to_string()))?;
                check_sequential(popularity, sequences, j.n_users, j.n_items).map_err(bad)?;
            }
        }
        if j.format != BURN_MODEL_FORMAT {
            return Err(SaveError::Format { path, msg: format!("format {} (this build reads format {BURN_MODEL_FORMAT})", j.format) });
        }
        if j.users.len() > j.n_users || j.items.len() > j.n_items || j.known.n_users() != j.n_users || j.known.n_items() != j.n_items {
            return Err(SaveError::IdMaps { users: j.users.len(), items: j.items.len(), n_users: j.n_users, n_items: j.n_items });
        }
        let wpath = dir.join(WEIGHTS);
        if !wpath.is_file() {
            return Err(SaveError::Weights { path: wpath, msg: "file not found".into() });
        }
        let mut store = BurnpackStore::from_file(&wpath).auto_extension(false);
        let weights_err = |e: String| SaveError::Weights { path: wpath.clone(), msg: e };
        fn read<M: ModuleSnapshot + Module>(mut m: M, store: &mut BurnpackStore) -> Result<M, String> {
            let r = m.load_from(store).map_err(|e| e.to_string())?;
            if !r.errors.is_empty() || !r.missing.is_empty() || !r.unused.is_empty() {
                return Err(format!("{} tensors missing, {} not used by the model, errors: {:?}", r.missing.len(), r.unused.len(), r.errors));
            }
            Ok(m)
        }
        let (nu, ni) = (j.n_users, j.n_items);
        let model = match j.config {
            Config::BurnMf { params, mu } => {
                let module = read(BiasedMfModule::new(nu, ni, params.dim, 0.0, 0, device), &mut store).map_err(weights_err)?;
                BurnModel::Mf(BurnMf { module, mu, known: j.known, device: device.clone(), history: j.history, best_epoch: j.best_epoch, params })
            }
            Config::Ncf { params, popularity } => {
                let kind = params.kind;
                let module = NcfModule::new(kind, nu, ni, params.factors, &params.layers, params.dropout, 0, device);
                let module = read(module, &mut store).map_err(weights_err)?;
                debug_assert!(kind != NcfKind::Mf || module.out.is_none());
                BurnModel::Ncf(BurnNcf { module, known: j.known, popularity, device: device.clone(), history: j.history, best_epoch: j.best_epoch, params })
            }
            Config::DeepHybrid { params, user_features, item_features, text_dim } => {
                // The frozen text rows are read from the weights; zeros stand in until then.
                let text = text_dim.map(|t| ItemEmbeddings::new(vec![0.0; ni * t], t).expect("a width checked above"));
                let module = DeepHybridModule::new(&j.known, nu, ni, user_features.as_ref(), item_features.as_ref(), text.as_ref(), &params, device);
                let module = read(module, &mut store).map_err(weights_err)?;
                BurnModel::Deep(DeepHybrid {
                    module,
                    known: j.known,
                    device: device.clone(),
                    history: j.history,
                    best_epoch: j.best_epoch,
                    params,
                    user_features,
                    item_features,
                })
            }
            Config::SasRec { params, popularity, sequences } => {
                let module = read(SasRecModule::build(ni, &sequences, &params, device), &mut store).map_err(weights_err)?;
                let state = SequenceState { sequences, known: j.known, popularity };
                BurnModel::SasRec(Sequential::new(module, params, state, device.clone(), j.history, j.best_epoch))
            }
            Config::Gru4Rec { params, popularity, sequences } => {
                let module = read(Gru4RecModule::build(ni, &sequences, &params, device), &mut store).map_err(weights_err)?;
                let state = SequenceState { sequences, known: j.known, popularity };
                BurnModel::Gru4Rec(Sequential::new(module, params, state, device.clone(), j.history, j.best_epoch))
            }
        };
        Ok((model, j.users, j.items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnrec_data::features::FeatureBuilder;
    use burnrec_data::{Interactions, Rating};

    use crate::ncf::NcfKind;
    use crate::trainer::TrainConfig;

    fn data() -> (Interactions, IdMap, IdMap) {
        let mut v = Vec::new();
        for u in 0..12u32 {
            for k in 0..4u32 {
                v.push(Rating { user: u, item: (u * 3 + k * 5) % 10, rating: 1.0 + ((u + k) % 5) as f32, timestamp: None });
            }
        }
        v.sort_by_key(|r| (r.user, r.item));
        v.dedup_by_key(|r| (r.user, r.item));
        let mut users = IdMap::default();
        let mut items = IdMap::default();
        (0..12).for_each(|u| {
            users.get_or_insert(&format!("u{u}"));
        });
        (0..10).for_each(|i| {
            items.get_or_insert(&format!("i{i}"));
        });
        (Interactions::new(v, 12, 10).unwrap(), users, items)
    }

    fn quiet() -> TrainConfig {
        TrainConfig { epochs: 2, batch_size: 16, lr: 0.01, l2: 0.0, seed: 3, progress: false, ..Default::default() }
    }

    /// Every user × item, including an item index outside the tables.
    fn all_scores(m: &dyn RatingPredictor) -> Vec<f32> {
        m.score_block(&(0..12).collect::<Vec<_>>(), &(0..11).collect::<Vec<_>>())
    }

    #[test]
    fn every_kind_predicts_identically_after_reload() {
        let _rng = crate::backend_rng_lock();
        let (train, users, items) = data();
        let device = Device::flex();
        let mut fb = FeatureBuilder::new(10);
        (0..10).for_each(|i| fb.set(i, "kind", if i % 2 == 0 { "x" } else { "y" }));
        let itf = fb.build();
        let mut ub = FeatureBuilder::new(12);
        (0..12).for_each(|u| ub.set(u, "group", if u < 6 { "a" } else { "b" }));
        let uf = ub.build();
        let mut models = vec![BurnModel::Mf(MfParams { dim: 3, init_std: 0.1, train: quiet() }.fit(&train, &device).unwrap())];
        for kind in [NcfKind::Mf, NcfKind::Gmf, NcfKind::Mlp, NcfKind::NeuMf] {
            let p = NcfParams { kind, factors: 4, layers: vec![8, 4], dropout: 0.2, train: quiet(), ..Default::default() };
            models.push(BurnModel::Ncf(p.fit(&train, &device).unwrap()));
        }
        let p = NcfParams { kind: NcfKind::NeuMf, factors: 4, layers: vec![8, 4], pretrain: true, train: quiet(), ..Default::default() };
        models.push(BurnModel::Ncf(p.fit(&train, &device).unwrap()));
        let p = DeepParams { dim: 4, layers: vec![8], train: quiet(), ..Default::default() };
        models.push(BurnModel::Deep(p.fit(&train, Some(&uf), Some(&itf), &device).unwrap()));
        models.push(BurnModel::Deep(p.fit(&train, None, None, &device).unwrap()));
        // With item text embeddings (3-d, one row per item).
        let text = ItemEmbeddings::new((0..30).map(|v| ((v * 7) % 11) as f32 / 11.0 - 0.5).collect(), 3).unwrap();
        models.push(BurnModel::Deep(p.fit_validated(&train, None, Some(&itf), Some(&text), None, &device).unwrap()));
        // SASRec, over the data's users in index order of their items (no timestamps here).
        let seqs: Vec<Vec<u32>> = (0..12u32).map(|u| train.iter().filter(|r| r.user == u).map(|r| r.item).collect()).collect();
        let seqs = UserSequences::from_ordered(seqs, 10).unwrap();
        let p = SasRecParams { hidden: 8, layers: 1, heads: 2, inner: 8, max_len: 3, dropout: 0.2, train: quiet(), ..Default::default() };
        models.push(BurnModel::SasRec(p.fit(&train, &seqs, None, &device).unwrap()));
        let p = Gru4RecParams { embedding: 6, hidden: 5, max_len: 3, dropout: 0.2, train: quiet(), ..Default::default() };
        models.push(BurnModel::Gru4Rec(p.fit(&train, &seqs, None, &device).unwrap()));
        for (k, m) in models.iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            m.save(dir.path(), &users, &items).unwrap();
            let (back, u2, i2) = BurnModel::load(dir.path(), &device).unwrap();
            assert_eq!((u2, i2), (users.clone(), items.clone()));
            assert_eq!(all_scores(back.predictor()), all_scores(m.predictor()), "model {k}: {m:?}");
            assert_eq!(back.predictor().feedback(), m.predictor().feedback());
        }
    }

    #[test]
    fn damaged_directories_are_clear_errors() {
        let _rng = crate::backend_rng_lock();
        let (train, users, items) = data();
        let device = Device::flex();
        let m = BurnModel::Mf(MfParams { dim: 3, init_std: 0.1, train: quiet() }.fit(&train, &device).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let e = BurnModel::load(dir.path(), &device).unwrap_err();
        assert!(matches!(e, SaveError::Io { action: "read", .. }), "{e}");
        m.save(dir.path(), &users, &items).unwrap();
        // Weights of another shape: a model with dim 5 written over the dim-3 weights.
        let other = BurnModel::Mf(MfParams { dim: 5, init_std: 0.1, train: quiet() }.fit(&train, &device).unwrap());
        let dir2 = tempfile::tempdir().unwrap();
        other.save(dir2.path(), &users, &items).unwrap();
        std::fs::copy(dir2.path().join(WEIGHTS), dir.path().join(WEIGHTS)).unwrap();
        let e = BurnModel::load(dir.path(), &device).unwrap_err();
        assert!(matches!(e, SaveError::Weights { .. }), "{e}");
        // A truncated description names the file.
        std::fs::write(dir.path().join(CONFIG), "{\"format\": 1, ").unwrap();
        let e = BurnModel::load(dir.path(), &device).unwrap_err();
        assert!(matches!(e, SaveError::Format { .. }) && e.to_string().contains("model.json"), "{e}");
        // Settings out of range in a hand-edited description are errors, not panics.
        let ncf = BurnModel::Ncf(
            NcfParams { kind: NcfKind::Mlp, layers: vec![8, 4], dropout: 0.25, train: quiet(), ..Default::default() }.fit(&train, &device).unwrap(),
        );
        let dir3 = tempfile::tempdir().unwrap();
        ncf.save(dir3.path(), &users, &items).unwrap();
        let text = std::fs::read_to_string(dir3.path().join(CONFIG)).unwrap();
        assert!(text.contains("\"dropout\":0.25"), "{text}");
        std::fs::write(dir3.path().join(CONFIG), text.replace("\"dropout\":0.25", "\"dropout\":1.5")).unwrap();
        let e = BurnModel::load(dir3.path(), &device).unwrap_err();
        assert!(matches!(e, SaveError::Format { .. }) && e.to_string().contains("`dropout`"), "{e}");
        // Id maps larger than the tables are refused on save.
        let mut more = users.clone();
        more.get_or_insert("extra");
        assert!(matches!(m.save(dir2.path(), &more, &items), Err(SaveError::IdMaps { .. })));
    }
}
