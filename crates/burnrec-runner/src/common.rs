//! What several commands share that is neither a model (`burnrec_zoo`) nor data
//! (`burnrec_data`): the checks of the training flags, the held-out metrics' columns, and the
//! item text embeddings of the sentence encoder (with its cache).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burnrec_data::text::{ItemEmbeddings, ItemText};
use burnrec_data::{Dataset, Feedback, Interactions, RatingPredictor};
use burnrec_text::{EmbeddingCache, SentenceEncoder};

use crate::cli::TextArgs;
use burnrec_eval::{RankingReport, evaluate_full, evaluate_ratings};

/// Users scored per block in held-out full ranking (`train`, `evaluate`).
pub const BLOCK_USERS: usize = 256;

/// The checks of the neural-training flags `compare` and `train` share: `--epochs` and
/// `--patience` at least 1, `--valid-ratio` in (0, 1).
///
/// # Errors
/// Naming the flag and what it expects.
pub fn check_training_flags(epochs: Option<usize>, patience: Option<usize>, valid_ratio: Option<f64>) -> anyhow::Result<()> {
    if epochs == Some(0) || patience == Some(0) {
        bail!("--{} must be at least 1", if epochs == Some(0) { "epochs" } else { "patience" });
    }
    if let Some(v) = valid_ratio
        && !(v > 0.0 && v < 1.0)
    {
        bail!("--valid-ratio {v}: expected a fraction of the training part, in (0, 1)");
    }
    Ok(())
}

/// The columns of a ranking report: `{prefix}hr@K`, `{prefix}ndcg@K` and, for full ranking,
/// precision, recall, MAP, MRR, AUC, coverage and novelty.
pub fn push_ranking(values: &mut Vec<(String, f64)>, prefix: &str, r: &RankingReport, full: bool) {
    let k = r.k;
    values.push((format!("{prefix}hr@{k}"), r.hr));
    values.push((format!("{prefix}ndcg@{k}"), r.ndcg));
    if full {
        values.push((format!("precision@{k}"), r.precision));
        values.push((format!("recall@{k}"), r.recall));
        values.push((format!("map@{k}"), r.map));
        values.push((format!("mrr@{k}"), r.mrr));
        values.push(("auc".to_string(), r.auc));
        values.push((format!("coverage@{k}"), r.coverage));
        values.push((format!("novelty@{k}"), r.novelty));
    }
}

/// Held-out metrics of `train` and `evaluate`: RMSE/MAE (explicit models, clipped to the
/// dataset's rating scale `clip`) and full ranking at `k` (every model; `train`'s items are
/// excluded from each user's candidates).
pub fn holdout_metrics(model: &dyn RatingPredictor, train: &Interactions, test: &Interactions, k: usize, clip: (f32, f32)) -> Vec<(String, f64)> {
    let mut values = Vec::new();
    if test.is_empty() {
        return values;
    }
    if model.feedback() == Feedback::Explicit
        && let Some(r) = evaluate_ratings(model, test, Some(clip))
    {
        values.push(("rmse".to_string(), r.rmse));
        values.push(("mae".to_string(), r.mae));
    }
    let r = evaluate_full(model, train, test, k, BLOCK_USERS);
    push_ranking(&mut values, "", &r, true);
    values
}

/// The environment variable naming the default encoder folder.
pub const ENCODER_ENV: &str = "BURNREC_ENCODER";

/// The encoder folder: `--encoder`, else `$BURNREC_ENCODER`, else the copy `burnrec fetch
/// all-MiniLM-L6-v2` put in the data cache.
///
/// # Errors
/// None of them is there.
pub fn encoder_dir(text: &TextArgs) -> anyhow::Result<PathBuf> {
    match &text.encoder {
        Some(p) => Ok(p.clone()),
        None => default_encoder_dir(),
    }
}

/// The encoder folder without `--encoder`: `$BURNREC_ENCODER`, else the copy `burnrec fetch
/// all-MiniLM-L6-v2` put in the data cache.
///
/// # Errors
/// Neither is there.
pub fn default_encoder_dir() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os(ENCODER_ENV) {
        return Ok(PathBuf::from(p));
    }
    let fetched = burnrec_data::fetch::cache_dir().ok().and_then(|c| burnrec_data::fetch_model::fetched_model("all-MiniLM-L6-v2", &c));
    match fetched {
        Some(p) => Ok(p),
        None => bail!(
            "no sentence encoder: pass --encoder PATH (a sentence-transformers folder such as all-MiniLM-L6-v2: config.json, model.safetensors, tokenizer.json), set {ENCODER_ENV}, or run `burnrec fetch all-MiniLM-L6-v2`"
        ),
    }
}

/// Embeds `texts` with the encoder of `text` on `device`, through the embedding cache unless
/// `--no-embedding-cache`: `([texts.len() × d], d, texts encoded now, the encoder's
/// fingerprint)`.
///
/// # Errors
/// Reading the encoder or the cache, or encoding.
pub fn embed_texts(text: &TextArgs, device: &burn::tensor::Device, texts: &[&str]) -> anyhow::Result<(Vec<f32>, usize, usize, String)> {
    let dir = encoder_dir(text)?;
    let encoder = SentenceEncoder::from_folder(&dir, device).with_context(|| format!("loading the sentence encoder in {}", dir.display()))?;
    let fingerprint = encoder.folder().fingerprint()?;
    let d = encoder.dim();
    if text.no_embedding_cache {
        return Ok((encoder.encode(texts, text.encoder_batch_size)?, d, texts.len(), fingerprint));
    }
    let cache_dir = match &text.embedding_cache {
        Some(p) => p.clone(),
        None => burnrec_data::fetch::cache_dir()?.join("embeddings"),
    };
    let mut cache = EmbeddingCache::open(&cache_dir, &fingerprint, d)?;
    let (v, n) = cache.embed(&encoder, texts, text.encoder_batch_size)?;
    Ok((v, d, n, fingerprint))
}

/// Every item's text embedding and what made it.
pub struct ItemTextVectors {
    /// `[n_items × d]`, rows by item index.
    pub embeddings: ItemEmbeddings,
    /// The encoder's fingerprint ([`burnrec_text::EncoderFolder::fingerprint`]).
    pub fingerprint: String,
    /// The encoder folder.
    pub encoder: PathBuf,
    /// The item texts, by item index.
    pub texts: Vec<String>,
}

/// The text embeddings of every item of `data` ([`ItemText`] with `--max-tags`), `[n_items × d]`.
///
/// # Errors
/// Those of [`embed_texts`].
pub fn item_text_embeddings(text: &TextArgs, data: &Dataset, device: &burn::tensor::Device) -> anyhow::Result<ItemTextVectors> {
    let texts = ItemText { max_tags: text.max_tags }.texts(data);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (v, d, encoded, fingerprint) = embed_texts(text, device, &refs)?;
    if encoded > 0 {
        eprintln!("encoded {encoded} of {} item texts (the rest from the embedding cache)", texts.len());
    }
    let embeddings = ItemEmbeddings::new(v, d).map_err(|e| anyhow::anyhow!("the encoder's item embeddings: {e}"))?;
    Ok(ItemTextVectors { embeddings, fingerprint, encoder: encoder_dir(text)?, texts })
}

/// Writes item vectors (`[ids.len() × d]`) as `.safetensors` (tensor `embeddings`, metadata
/// `item_ids`, `texts` as JSON arrays and `encoder`, the fingerprint) or `.tsv` (`id<TAB>v…`),
/// by extension.
///
/// # Errors
/// Another extension, or a write error naming the file.
pub fn write_embeddings(out: &Path, ids: &[String], vectors: &[f32], d: usize, fingerprint: &str, texts: &[String]) -> anyhow::Result<()> {
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "tsv" => {
            let mut s = String::with_capacity(ids.len() * d * 12);
            for (k, id) in ids.iter().enumerate() {
                s.push_str(id);
                for v in &vectors[k * d..(k + 1) * d] {
                    s.push('\t');
                    s.push_str(&v.to_string());
                }
                s.push('\n');
            }
            std::fs::write(out, s).with_context(|| format!("writing {}", out.display()))
        }
        "safetensors" => {
            let bytes: Vec<u8> = vectors.iter().flat_map(|v| v.to_le_bytes()).collect();
            let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![ids.len(), d], &bytes)?;
            let meta = HashMap::from([
                ("item_ids".to_string(), serde_json::to_string(ids)?),
                ("texts".to_string(), serde_json::to_string(texts)?),
                ("encoder".to_string(), fingerprint.to_string()),
            ]);
            safetensors::serialize_to_file([("embeddings", view)], Some(meta), out).with_context(|| format!("writing {}", out.display()))
        }
        _ => bail!("--out {}: expected a .safetensors or .tsv file", out.display()),
    }
}

/// Reads a `.safetensors` file of [`write_embeddings`]: `(item ids, embeddings, encoder
/// fingerprint)`.
///
/// # Errors
/// An unreadable file, or one without the `embeddings` F32 `[n, d]` tensor and the metadata,
/// or whose ids and rows disagree — naming the file and what is wrong.
pub fn read_embeddings(path: &Path) -> anyhow::Result<(Vec<String>, ItemEmbeddings, String)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let bad = |what: String| anyhow::anyhow!("`{}` is not a burnrec item-embeddings file: {what}", path.display());
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
    let t = st.tensor("embeddings").map_err(|_| bad("no tensor `embeddings`".into()))?;
    let [n, d] = <[usize; 2]>::try_from(t.shape().to_vec()).map_err(|s| bad(format!("`embeddings` has shape {s:?}, expected [items, dim]")))?;
    if t.dtype() != safetensors::Dtype::F32 {
        return Err(bad(format!("`embeddings` is {:?}, expected F32", t.dtype())));
    }
    let values: Vec<f32> = t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    let meta = meta.metadata().clone().unwrap_or_default();
    let ids: Vec<String> =
        serde_json::from_str(meta.get("item_ids").ok_or_else(|| bad("no `item_ids` metadata".into()))?).map_err(|e| bad(format!("item_ids: {e}")))?;
    let encoder = meta.get("encoder").ok_or_else(|| bad("no `encoder` metadata".into()))?.clone();
    if ids.len() != n {
        return Err(bad(format!("{} item ids for {n} rows", ids.len())));
    }
    let embeddings = ItemEmbeddings::new(values, d).map_err(bad)?;
    Ok((ids, embeddings, encoder))
}
