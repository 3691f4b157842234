//! On-disk cache of text embeddings, so that `compare`, `train` and the tests encode each
//! item text once per encoder.
//!
//! One safetensors file per encoder, `<dir>/<fingerprint>.safetensors` (the fingerprint of
//! [`EncoderFolder::fingerprint`]: weights, tokenizer and configuration), holding
//! `embeddings` (F32 `[n, d]`) and `text_sha256` (U8 `[n, 32]`, the SHA-256 of each row's
//! text, UTF-8). A lookup hashes the texts, encodes only the ones not in the file, and rewrites
//! the file (to a temporary file, then renamed: an interrupted run leaves the old file). The
//! vectors are those of the device that first encoded a text; devices agree to the tolerance
//! of the reference test.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use sha2::{Digest, Sha256};

use crate::config::EncoderFolder;
use crate::encoder::SentenceEncoder;
use crate::error::{TextError, io};

/// Embeddings of texts by one encoder, kept in a folder (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct EmbeddingCache {
    path: PathBuf,
    dim: usize,
    rows: HashMap<[u8; 32], usize>,
    vectors: Vec<f32>,
    hashes: Vec<[u8; 32]>,
}

fn text_hash(t: &str) -> [u8; 32] {
    Sha256::digest(t.as_bytes()).into()
}

impl EmbeddingCache {
    /// Opens (or starts) the cache of the encoder with `fingerprint` and width `dim` in `dir`.
    ///
    /// # Errors
    /// [`TextError::Cache`] if the file exists but is not a cache of this shape (it is left as
    /// it is: delete it to start over); [`TextError::Io`] if it cannot be read.
    pub fn open(dir: &Path, fingerprint: &str, dim: usize) -> Result<Self, TextError> {
        let path = dir.join(format!("{fingerprint}.safetensors"));
        let mut cache = Self { path: path.clone(), dim, rows: HashMap::new(), vectors: Vec::new(), hashes: Vec::new() };
        if !path.exists() {
            return Ok(cache);
        }
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let bad = |message: String| TextError::Cache { path: path.clone(), message };
        let st = SafeTensors::deserialize(&bytes).map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let emb = st.tensor("embeddings").map_err(|e| bad(format!("no `embeddings` tensor: {e}")))?;
        let hashes = st.tensor("text_sha256").map_err(|e| bad(format!("no `text_sha256` tensor: {e}")))?;
        let n = hashes.shape().first().copied().unwrap_or(0);
        if emb.dtype() != Dtype::F32 || emb.shape() != [n, dim] || hashes.dtype() != Dtype::U8 || hashes.shape() != [n, 32] {
            return Err(bad(format!(
                "expected `embeddings` F32 [n, {dim}] and `text_sha256` U8 [n, 32], found {:?} {:?} and {:?} {:?}",
                emb.dtype(),
                emb.shape(),
                hashes.dtype(),
                hashes.shape()
            )));
        }
        cache.vectors = emb.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        for (k, h) in hashes.data().chunks_exact(32).enumerate() {
            let h: [u8; 32] = h.try_into().expect("32-byte rows");
            cache.rows.insert(h, k);
            cache.hashes.push(h);
        }
        Ok(cache)
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Texts held.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether it holds no text.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The cached vector of `text`, `[dim]`, if any.
    pub fn get(&self, text: &str) -> Option<&[f32]> {
        self.rows.get(&text_hash(text)).map(|&k| &self.vectors[k * self.dim..(k + 1) * self.dim])
    }

    /// Adds vectors (`[texts.len() × dim]`) for texts not yet held.
    fn insert(&mut self, texts: &[&str], vectors: &[f32]) {
        for (k, t) in texts.iter().enumerate() {
            let h = text_hash(t);
            if let std::collections::hash_map::Entry::Vacant(e) = self.rows.entry(h) {
                e.insert(self.hashes.len());
                self.hashes.push(h);
                self.vectors.extend_from_slice(&vectors[k * self.dim..(k + 1) * self.dim]);
            }
        }
    }

    /// Writes the cache (creating the folder): a temporary file, then renamed over the old.
    ///
    /// # Errors
    /// [`TextError::Io`] / [`TextError::Cache`] naming the file.
    pub fn save(&self) -> Result<(), TextError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let n = self.hashes.len();
        let emb: Vec<u8> = self.vectors.iter().flat_map(|v| v.to_le_bytes()).collect();
        let hashes: Vec<u8> = self.hashes.iter().flatten().copied().collect();
        let bad = |e: safetensors::SafeTensorError| TextError::Cache { path: self.path.clone(), message: e.to_string() };
        let views = [
            ("embeddings", TensorView::new(Dtype::F32, vec![n, self.dim], &emb).map_err(bad)?),
            ("text_sha256", TensorView::new(Dtype::U8, vec![n, 32], &hashes).map_err(bad)?),
        ];
        let tmp = self.path.with_extension("safetensors.tmp");
        safetensors::serialize_to_file(views, None, &tmp).map_err(bad)?;
        std::fs::rename(&tmp, &self.path).map_err(io(&self.path))
    }

    /// The vectors of `texts`, `[texts.len() × dim]`: cached rows where present, the rest
    /// encoded by `encoder` (batches of `batch_size`) and added. Returns the vectors and how
    /// many texts were encoded; the file is rewritten only if that is not 0.
    ///
    /// # Errors
    /// [`TextError::Argument`] if the encoder's width is not the cache's; those of
    /// [`SentenceEncoder::encode`] and [`EmbeddingCache::save`].
    pub fn embed(&mut self, encoder: &SentenceEncoder, texts: &[&str], batch_size: usize) -> Result<(Vec<f32>, usize), TextError> {
        if encoder.dim() != self.dim {
            return Err(TextError::Argument(format!("the encoder's width {} is not the cache's {}", encoder.dim(), self.dim)));
        }
        let mut missing: Vec<&str> = texts.iter().copied().filter(|t| self.get(t).is_none()).collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let v = encoder.encode(&missing, batch_size)?;
            self.insert(&missing, &v);
            self.save()?;
        }
        let mut out = Vec::with_capacity(texts.len() * self.dim);
        for t in texts {
            out.extend_from_slice(self.get(t).expect("every text is cached now"));
        }
        Ok((out, missing.len()))
    }
}

impl EncoderFolder {
    /// A hex SHA-256 over the files that decide the embeddings (`config.json`,
    /// `model.safetensors`, `tokenizer.json`, and `modules.json`, the pooling config and
    /// `sentence_bert_config.json` where present): the name of the encoder's cache file.
    ///
    /// # Errors
    /// [`TextError::Io`] naming a file that cannot be read.
    pub fn fingerprint(&self) -> Result<String, TextError> {
        let mut all = Sha256::new();
        let files = ["config.json", "model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json"];
        for name in files {
            let p = self.dir.join(name);
            if !p.exists() {
                continue;
            }
            let bytes = std::fs::read(&p).map_err(io(&p))?;
            all.update(name.as_bytes());
            all.update(Sha256::digest(&bytes));
        }
        Ok(all.finalize().iter().map(|b| format!("{b:02x}")).collect())
    }
}
