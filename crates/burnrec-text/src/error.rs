//! The one error type of the text crate.

use std::path::PathBuf;

/// What can go wrong reading an encoder folder, encoding texts, or using the embedding cache.
/// Every variant names the file (or the text) it is about.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// A file of the encoder folder is missing or cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A configuration file (`config.json`, `1_Pooling/config.json`, `modules.json`,
    /// `sentence_bert_config.json`) is malformed or describes a model this encoder does not
    /// run.
    #[error("{path}: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what was expected.
        message: String,
    },
    /// `tokenizer.json` cannot be read, or a text cannot be tokenised.
    #[error("{path}: tokenizer: {message}")]
    Tokenizer {
        /// The tokenizer file.
        path: PathBuf,
        /// The tokenizers crate's message.
        message: String,
    },
    /// The weights file cannot be read, lacks a tensor the model needs, or has one of the
    /// wrong shape.
    #[error("{path}: weights: {message}")]
    Weights {
        /// The safetensors file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The embedding cache file is malformed (it is never silently overwritten).
    #[error("{path}: embedding cache: {message}")]
    Cache {
        /// The cache file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A bad argument (e.g. a batch size of 0).
    #[error("{0}")]
    Argument(String),
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> TextError {
    let path = path.into();
    move |source| TextError::Io { path, source }
}
