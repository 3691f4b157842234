//! A trained model on disk: what `burnrec train --out DIR` writes and `evaluate`, `recommend`,
//! `similar` and `serve` read.
//!
//! ```text
//! DIR/
//!   burnrec-model.json   manifest: model name, dataset and loading flags, split, backend, training summary
//!   classic.json         classic models: params, id maps and the fitted model (ModelFile)
//!   burn/                Burn models: model.json (config, id maps, history) + weights.bpk
//!   catalog.json         item titles by item index (empty when the dataset has none)
//!   seen.json            the training interactions by user (CSR), to exclude seen items
//!   item_text.safetensors models over item text (text-knn, deep-hybrid-text): every item's
//!                        text embedding, ids, texts and the encoder's fingerprint (the
//!                        layout of `burnrec embed --out`), to answer queries by text
//! ```
//!
//! [`save`] writes everything into a fresh sibling folder and renames it into place, so a
//! reader (or a hot-reloading server) never sees a half-written model; replacing an existing
//! folder needs `force`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use burnrec_data::csr::Csr;
use burnrec_data::split::leave_one_out_of;
use burnrec_data::text::ItemEmbeddings;
use burnrec_data::{Dataset, IdMap, Interactions, RatingPredictor, Split, random_split};
use burnrec_model::Backend;
use burnrec_zoo::FittedModel;
use serde::{Deserialize, Serialize};

use crate::common::{ItemTextVectors, read_embeddings, write_embeddings};

/// File name of the manifest.
pub const MANIFEST: &str = "burnrec-model.json";
/// The current [`Manifest::format`].
pub const FORMAT: u32 = 1;

/// What a model directory holds and how it was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Directory format version ([`FORMAT`]).
    pub format: u32,
    /// The burnrec version that wrote it.
    pub burnrec_version: String,
    /// Model name as in `--model` (e.g. `als`, `burn-mf`).
    pub model: String,
    /// The `--dataset` spec it was trained on (so `evaluate` can reload it).
    pub dataset: String,
    /// The dataset's own name (path or `bundled:…`).
    pub dataset_name: String,
    /// The loading policies and CSV layout it was read with (so `evaluate` can reload it the
    /// same way); `None` in directories written before they were recorded.
    #[serde(default)]
    pub load_options: Option<burnrec_data::LoadOptions>,
    /// How the training part was chosen.
    pub split: SplitInfo,
    /// Burn backend it was trained on (`None` for classic models).
    pub backend: Option<String>,
    /// Seconds since the Unix epoch when training finished.
    pub trained_at_unix: u64,
    /// Training wall time, seconds.
    pub fit_s: f64,
    /// Users and items of the id space, and training interactions.
    pub n_users: usize,
    /// Items of the id space.
    pub n_items: usize,
    /// Training interactions.
    pub n_train: usize,
    /// Metrics on the held-out part (empty when trained on everything).
    pub metrics: BTreeMap<String, f64>,
    /// The sentence-encoder folder the item texts were embedded with (models over item
    /// text): queries by text are encoded with it unless `--encoder` says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
}

/// The split used by `train`: `none` (every interaction trains), `random` or `leave-one-out`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitInfo {
    /// `none`, `random` or `leave-one-out`.
    pub kind: String,
    /// Test fraction of `random`.
    pub test_ratio: f64,
    /// Seed of the split and the model.
    pub seed: u64,
}

impl SplitInfo {
    /// The training and held-out parts of `data` this split describes: `none` (everything
    /// trains, nothing is held out), `random` (`test_ratio`, `seed`) or `leave-one-out`
    /// ([`leave_one_out_of`]: latest per user, or one drawn with `seed` without timestamps;
    /// said on stderr when `say`).
    ///
    /// # Errors
    /// An unknown kind, or a split that cannot be made.
    pub fn split(&self, data: &Dataset, say: bool) -> anyhow::Result<Split> {
        let empty = || Interactions::new(Vec::new(), data.n_users(), data.n_items());
        Ok(match self.kind.as_str() {
            "none" => Split { train: data.interactions.clone(), valid: empty()?, test: empty()? },
            "random" => random_split(&data.interactions, self.test_ratio, self.seed).context("splitting the dataset")?,
            "leave-one-out" => {
                let (split, rule) = leave_one_out_of(data, self.seed).context("leave-one-out split")?;
                if say && rule == burnrec_data::split::LeaveOneOutRule::Random {
                    eprintln!("note: the data has no timestamps: leave-one-out holds out one interaction per user drawn at random (seed {})", self.seed);
                }
                split
            }
            other => bail!("split `{other}`: expected none, random or leave-one-out"),
        })
    }
}

#[derive(Serialize, Deserialize)]
struct Catalog {
    titles: Vec<Option<String>>,
}

/// A model directory read back.
pub struct ModelDir {
    /// The manifest.
    pub manifest: Manifest,
    /// The model.
    pub model: FittedModel,
    /// Raw user ids ↔ indices.
    pub users: IdMap,
    /// Raw item ids ↔ indices.
    pub items: IdMap,
    /// Item titles by index (may be empty).
    pub titles: Vec<Option<String>>,
    /// Training interactions by user (`[n_users × n_items]`, `Csr::by_user` of the training part).
    pub seen: Csr,
    /// Models over item text: every item's embedding and the encoder's fingerprint.
    pub item_text: Option<StoredText>,
}

/// The item text embeddings of a model directory (`item_text.safetensors`).
pub struct StoredText {
    /// `[n_items × d]`, rows by item index.
    pub embeddings: ItemEmbeddings,
    /// Fingerprint of the encoder that made them ([`burnrec_text::EncoderFolder::fingerprint`]).
    pub fingerprint: String,
}

/// File name of the item text embeddings.
pub const ITEM_TEXT: &str = "item_text.safetensors";

impl ModelDir {
    /// The model as the one scoring trait.
    pub fn predictor(&self) -> &dyn RatingPredictor {
        self.model.predictor()
    }
}

/// What `save` writes.
pub struct ToSave<'a> {
    /// Manifest.
    pub manifest: &'a Manifest,
    /// Model.
    pub model: &'a FittedModel,
    /// Id maps.
    pub users: &'a IdMap,
    /// Id maps.
    pub items: &'a IdMap,
    /// Titles by item index.
    pub titles: &'a [Option<String>],
    /// Training interactions by user (`Csr::by_user`).
    pub seen: &'a Csr,
    /// Models over item text: the embeddings they were trained with.
    pub item_text: Option<&'a ItemTextVectors>,
}

fn write_json(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    use std::io::Write;
    let text = serde_json::to_string(value).with_context(|| format!("serialising `{}`", path.display()))?;
    let mut f = std::fs::File::create(path).with_context(|| format!("creating `{}`", path.display()))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).with_context(|| format!("writing `{}`", path.display()))
}

/// Flushes every file below `dir` (and the folders themselves) to disk.
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            std::fs::File::open(&path)?.sync_all()?;
        }
    }
    std::fs::File::open(dir)?.sync_all()
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading `{}`", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow!("`{}` is not a valid burnrec model file: {e}", path.display()))
}

/// Writes a model directory at `dir` atomically: everything goes into a temporary sibling
/// folder, flushed to disk, which is then renamed to `dir`. An existing `dir` is an error
/// unless `force`, which swaps it out (rename; renamed back if the swap fails) and then deletes
/// it — and only if it is a model directory (or empty), never another folder.
///
/// # Errors
/// `dir` exists without `force`, or is not a model directory; any I/O error, naming the file.
pub fn save(dir: &Path, what: &ToSave<'_>, force: bool) -> anyhow::Result<()> {
    if dir.exists() {
        let empty = dir.read_dir().map(|mut d| d.next().is_none()).unwrap_or(false);
        if !dir.join(MANIFEST).is_file() && !empty {
            bail!("`{}` exists and is not a burnrec model directory (no {MANIFEST}): choose another --out; it is never replaced", dir.display());
        }
        if !force {
            bail!("`{}` already holds a model: pass --force to replace it", dir.display());
        }
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating `{}`", parent.display()))?;
    let name = dir.file_name().ok_or_else(|| anyhow!("`{}` names no folder", dir.display()))?.to_string_lossy().to_string();
    let nonce = format!("{}-{}", std::process::id(), std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    let tmp = parent.join(format!(".{name}.tmp-{nonce}"));
    let result = (|| -> anyhow::Result<()> {
        std::fs::create_dir(&tmp).with_context(|| format!("creating `{}`", tmp.display()))?;
        what.model.save(&tmp, &what.manifest.dataset_name, what.users, what.items)?;
        write_json(&tmp.join("catalog.json"), &Catalog { titles: what.titles.to_vec() })?;
        write_json(&tmp.join("seen.json"), what.seen)?;
        if let Some(t) = what.item_text {
            let e = &t.embeddings;
            // No texts in the header (safetensors caps it at 100 MB; serving never reads them).
            write_embeddings(&tmp.join(ITEM_TEXT), what.items.raw_ids(), e.values(), e.dim(), &t.fingerprint, &[])?;
        }
        // The manifest last: a folder with a manifest is complete.
        write_json(&tmp.join(MANIFEST), what.manifest)?;
        sync_tree(&tmp).with_context(|| format!("flushing `{}`", tmp.display()))
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if dir.exists() {
        let old = parent.join(format!(".{name}.old-{nonce}"));
        std::fs::rename(dir, &old).with_context(|| format!("moving the old `{}` aside", dir.display()))?;
        if let Err(e) = std::fs::rename(&tmp, dir) {
            // Put the old model back rather than leave no model at `dir`.
            let _ = std::fs::rename(&old, dir);
            return Err(e).with_context(|| format!("renaming `{}` to `{}`", tmp.display(), dir.display()));
        }
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(&tmp, dir).with_context(|| format!("renaming `{}` to `{}`", tmp.display(), dir.display()))?;
    }
    let _ = std::fs::File::open(parent).and_then(|d| d.sync_all());
    Ok(())
}

/// Reads a model directory; Burn models are loaded onto `backend`'s device. When the folder is
/// replaced (`train --force`) while it is being read, the parts could come from two trainings:
/// the manifest is read again at the end and the load retried (up to 3 times) if it changed.
///
/// # Errors
/// A missing or damaged file (named), a format from another version, or contents that
/// disagree with each other (id maps vs model vs seen items).
pub fn load(dir: &Path, backend: Backend) -> anyhow::Result<ModelDir> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match load_once(dir, backend) {
            Ok(m) => {
                let again: Option<Manifest> = read_json(&dir.join(MANIFEST)).ok();
                if again.as_ref() == Some(&m.manifest) {
                    return Ok(m);
                }
                if attempt >= 3 {
                    bail!("`{}` kept changing while it was read (is a training writing to it?)", dir.display());
                }
            }
            Err(e) if attempt >= 3 => return Err(e),
            Err(_) => {}
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn load_once(dir: &Path, backend: Backend) -> anyhow::Result<ModelDir> {
    if !dir.join(MANIFEST).is_file() {
        bail!("`{}` is not a burnrec model directory (no {MANIFEST}; create one with `burnrec train --out DIR`)", dir.display());
    }
    let manifest: Manifest = read_json(&dir.join(MANIFEST))?;
    if manifest.format != FORMAT {
        bail!("`{}` has model directory format {}, this burnrec reads format {FORMAT}", dir.display(), manifest.format);
    }
    let (model, users, items) = FittedModel::load(dir, backend)?;
    let catalog: Catalog = read_json(&dir.join("catalog.json"))?;
    let seen: Csr = read_json(&dir.join("seen.json"))?;
    let bad = |what: String| anyhow!("`{}` is inconsistent: {what}", dir.display());
    seen.validate(items.len()).map_err(|e| bad(format!("seen.json: {e}")))?;
    if seen.n_rows() != users.len() {
        return Err(bad(format!("seen.json has {} users, the id map {}", seen.n_rows(), users.len())));
    }
    if !catalog.titles.is_empty() && catalog.titles.len() != items.len() {
        return Err(bad(format!("catalog.json has {} titles for {} items", catalog.titles.len(), items.len())));
    }
    let item_text = if dir.join(ITEM_TEXT).is_file() {
        let (ids, embeddings, fingerprint) = read_embeddings(&dir.join(ITEM_TEXT))?;
        if ids.len() != items.len() || ids.iter().zip(items.raw_ids()).any(|(a, b)| a != b) {
            return Err(bad(format!("{ITEM_TEXT} lists {} items, not those of the id map ({})", ids.len(), items.len())));
        }
        Some(StoredText { embeddings, fingerprint })
    } else {
        None
    };
    Ok(ModelDir { manifest, model, users, items, titles: catalog.titles, seen, item_text })
}
