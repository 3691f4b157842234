//! # burnrec-text
//!
//! Items as a pretrained language model reads them. A BERT-family sentence encoder as a Burn
//! module ([`Bert`], Devlin et al., NAACL 2019; pooling and normalisation of
//! sentence-transformers, Reimers & Gurevych, EMNLP 2019), loaded from a Hugging Face model
//! folder — `config.json`, `model.safetensors` (through burn-store, [`weights`]),
//! `tokenizer.json` (the `tokenizers` crate) — and run on the CPU or GPU [`burn::tensor::Device`]
//! chosen at run time. The model supported first is `sentence-transformers/all-MiniLM-L6-v2`
//! (6 layers, width 384, mean pooling, L2-normalised); its embeddings match the Python
//! `sentence-transformers` library's (the reference test, `tests/reference.rs`).
//!
//! ```no_run
//! use burnrec_text::SentenceEncoder;
//! let encoder = SentenceEncoder::from_folder("../shared/models/all-MiniLM-L6-v2", &burn::tensor::Device::flex()).unwrap();
//! let v = encoder.encode(&["Toy Story (1995) — Animation, Children's, Comedy"], 32).unwrap();
//! assert_eq!(v.len(), encoder.dim());
//! ```
#![warn(missing_docs)]

pub mod bert;
pub mod cache;
pub mod config;
pub mod encoder;
pub mod error;
pub mod weights;

pub use bert::Bert;
pub use cache::EmbeddingCache;
pub use config::{BertConfig, EncoderFolder, Pooling};
pub use encoder::{DEFAULT_BATCH_SIZE, SentenceEncoder};
pub use error::TextError;
