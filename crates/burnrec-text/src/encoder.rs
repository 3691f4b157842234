//! [`SentenceEncoder`]: texts in, unit vectors out — tokenizer, BERT, pooling, normalisation.

use std::path::Path;

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use rayon::prelude::*;
use tokenizers::{Tokenizer, TruncationParams};

use crate::bert::{Bert, pool};
use crate::config::{EncoderFolder, Pooling};
use crate::error::TextError;
use crate::weights::load_bert;

/// Batch size of [`SentenceEncoder::encode`] when none is given: sentence-transformers'
/// default.
pub const DEFAULT_BATCH_SIZE: usize = 32;

/// A pretrained sentence encoder (e.g. `all-MiniLM-L6-v2`) on a Burn [`Device`] chosen at run
/// time: tokenisation by the folder's `tokenizer.json` (the `tokenizers` crate, Hugging
/// Face's own implementation), a [`Bert`] with the folder's weights, the folder's pooling and,
/// if it lists one, L2 normalisation — the pipeline of sentence-transformers'
/// `SentenceTransformer.encode` (Reimers & Gurevych, "Sentence-BERT", EMNLP 2019).
pub struct SentenceEncoder {
    folder: EncoderFolder,
    tokenizer: Tokenizer,
    bert: Bert,
    device: Device,
}

impl std::fmt::Debug for SentenceEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentenceEncoder").field("folder", &self.folder).field("device", &self.device).finish_non_exhaustive()
    }
}

impl SentenceEncoder {
    /// Loads the encoder in `dir` (see [`EncoderFolder::read`] for the layout) onto `device`.
    ///
    /// # Errors
    /// Those of [`EncoderFolder::read`]; [`TextError::Tokenizer`] for an unreadable
    /// `tokenizer.json`; [`TextError::Weights`] (see [`crate::weights::load_bert`]).
    pub fn from_folder(dir: impl AsRef<Path>, device: &Device) -> Result<Self, TextError> {
        let folder = EncoderFolder::read(dir)?;
        let tok_error = |message: String| TextError::Tokenizer { path: folder.tokenizer.clone(), message };
        let mut tokenizer = Tokenizer::from_file(&folder.tokenizer).map_err(|e| tok_error(e.to_string()))?;
        // sentence-transformers truncates to `max_seq_length` and pads each batch itself.
        tokenizer.with_padding(None);
        tokenizer.with_truncation(Some(TruncationParams { max_length: folder.max_seq_length, ..Default::default() })).map_err(|e| tok_error(e.to_string()))?;
        let bert = load_bert(&folder.bert, &folder.weights, device)?;
        Ok(Self { folder, tokenizer, bert, device: device.clone() })
    }

    /// The embedding width `d` (384 for all-MiniLM-L6-v2).
    pub fn dim(&self) -> usize {
        self.folder.bert.hidden_size
    }

    /// What was read from the folder.
    pub fn folder(&self) -> &EncoderFolder {
        &self.folder
    }

    /// The token ids of `text` as the encoder reads it: `[CLS] … [SEP]`, truncated to
    /// `max_seq_length` tokens.
    ///
    /// # Errors
    /// [`TextError::Tokenizer`] if the tokenizer fails on the text.
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, TextError> {
        let enc = self.tokenizer.encode(text, true).map_err(|e| TextError::Tokenizer { path: self.folder.tokenizer.clone(), message: e.to_string() })?;
        Ok(enc.get_ids().to_vec())
    }

    /// Embeds `texts`: `[texts.len() × dim]` row-major, row `k` the vector of `texts[k]`
    /// (unit L2 norm when the folder normalises). Texts are tokenised in parallel, sorted by
    /// token count and cut into batches of `batch_size`, each padded to its longest text, so
    /// the cost follows the real lengths; on the CPU backends (flex, ndarray), whose kernels
    /// use one core per operation at these sizes, the batches run in parallel on rayon's
    /// threads (`RAYON_NUM_THREADS`), one batch per thread. A text's vector does not depend on
    /// the threads or on the other texts of its batch beyond the last bits (padding is masked).
    /// The order of the output is that of `texts`.
    ///
    /// # Errors
    /// [`TextError::Argument`] for `batch_size == 0`; [`TextError::Tokenizer`] naming the text
    /// the tokenizer failed on.
    pub fn encode(&self, texts: &[&str], batch_size: usize) -> Result<Vec<f32>, TextError> {
        if batch_size == 0 {
            return Err(TextError::Argument("the batch size must be at least 1".into()));
        }
        let ids = texts
            .par_iter()
            .enumerate()
            .map(|(k, t)| self.token_ids(t).map_err(|e| TextError::Tokenizer { path: self.folder.tokenizer.clone(), message: format!("text {k}: {e}") }))
            .collect::<Result<Vec<_>, _>>()?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&k| std::cmp::Reverse(ids[k].len()));
        let d = self.dim();
        let chunks: Vec<&[usize]> = order.chunks(batch_size).collect();
        let run = |chunk: &&[usize]| {
            let rows: Vec<&[u32]> = chunk.iter().map(|&k| ids[k].as_slice()).collect();
            self.encode_ids(&rows)
        };
        #[allow(deprecated)] // burn-ndarray is deprecated upstream; kept because users ask for it
        let cpu = self.device == Device::flex() || self.device == Device::ndarray();
        let vectors: Vec<Vec<f32>> = if cpu && chunks.len() > 1 { chunks.par_iter().map(run).collect() } else { chunks.iter().map(run).collect() };
        let mut out = vec![0f32; texts.len() * d];
        for (chunk, v) in chunks.iter().zip(&vectors) {
            for (r, &k) in chunk.iter().enumerate() {
                out[k * d..(k + 1) * d].copy_from_slice(&v[r * d..(r + 1) * d]);
            }
        }
        Ok(out)
    }

    /// Embeds already-tokenised texts as one batch padded to the longest: `[rows.len() × dim]`.
    /// Every row must be non-empty and at most `max_seq_length` long (what [`Self::token_ids`]
    /// gives).
    pub fn encode_ids(&self, rows: &[&[u32]]) -> Vec<f32> {
        let (ids, pad) = padded_batch(rows, 0);
        let states = self.bert.forward(ids_tensor(&ids, rows.len(), &self.device), pad_tensor(&pad, rows.len(), &self.device));
        let pooled = pool(states, pad_tensor(&pad, rows.len(), &self.device), self.folder.pooling, self.folder.normalize);
        pooled.into_data().try_to_vec::<f32>().expect("a float tensor reads back as f32")
    }

    /// The pooling in use.
    pub fn pooling(&self) -> Pooling {
        self.folder.pooling
    }
}

/// `rows` padded with `pad_id` to the longest: ids `[n × len]` and the padding flags (true =
/// padding), row-major.
pub(crate) fn padded_batch(rows: &[&[u32]], pad_id: u32) -> (Vec<i64>, Vec<bool>) {
    let len = rows.iter().map(|r| r.len()).max().unwrap_or(0).max(1);
    let mut ids = Vec::with_capacity(rows.len() * len);
    let mut pad = Vec::with_capacity(rows.len() * len);
    for r in rows {
        ids.extend(r.iter().map(|&t| i64::from(t)));
        ids.extend(std::iter::repeat_n(i64::from(pad_id), len - r.len()));
        pad.extend(std::iter::repeat_n(false, r.len()));
        pad.extend(std::iter::repeat_n(true, len - r.len()));
    }
    (ids, pad)
}

pub(crate) fn ids_tensor(ids: &[i64], n: usize, device: &Device) -> Tensor<2, Int> {
    let len = ids.len() / n.max(1);
    Tensor::from_data(TensorData::new(ids.to_vec(), [n, len]), device)
}

pub(crate) fn pad_tensor(pad: &[bool], n: usize, device: &Device) -> Tensor<2, Bool> {
    let len = pad.len() / n.max(1);
    Tensor::from_data(TensorData::new(pad.to_vec(), [n, len]), device)
}
