//! The encoder folder's configuration: Hugging Face `config.json` (the BERT architecture) and
//! the sentence-transformers files beside it (`modules.json`, `1_Pooling/config.json`,
//! `sentence_bert_config.json`).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{TextError, io};

/// The BERT architecture, as Hugging Face's `config.json` writes it (`BertModel`; Devlin et
/// al., "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
/// NAACL 2019). Fields this encoder does not use (dropouts, `initializer_range`, …) are
/// ignored; the ones it cannot honour are refused by [`BertConfig::check`].
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct BertConfig {
    /// Vocabulary size (rows of the word embedding).
    pub vocab_size: usize,
    /// Model width `d`.
    pub hidden_size: usize,
    /// Transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads (`d` must be a multiple).
    pub num_attention_heads: usize,
    /// Width of the feed-forward inner layer.
    pub intermediate_size: usize,
    /// Feed-forward activation; only `"gelu"` (the exact, erf-based GELU) is supported.
    #[serde(default = "default_act")]
    pub hidden_act: String,
    /// Rows of the learned absolute position embedding: the longest input in tokens.
    pub max_position_embeddings: usize,
    /// Rows of the token-type (segment) embedding; every token here has type 0.
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    /// LayerNorm epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// Only `"absolute"` (the default) is supported.
    #[serde(default)]
    pub position_embedding_type: Option<String>,
    /// `"bert"` (or absent) — other families with this layout are accepted only as `bert`.
    #[serde(default)]
    pub model_type: Option<String>,
}

fn default_act() -> String {
    "gelu".into()
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}

impl BertConfig {
    /// Checks that this encoder can run the described model.
    ///
    /// # Errors
    /// A message naming the field and what is supported.
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
        ];
        if let Some((name, _)) = positive.iter().find(|p| p.1 == 0) {
            return Err(format!("`{name}` must be at least 1"));
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(format!("`hidden_size` {} is not a multiple of `num_attention_heads` {}", self.hidden_size, self.num_attention_heads));
        }
        if self.hidden_act != "gelu" {
            return Err(format!("`hidden_act` is {:?}; only \"gelu\" (exact GELU) is supported", self.hidden_act));
        }
        if let Some(p) = self.position_embedding_type.as_deref().filter(|&p| p != "absolute") {
            return Err(format!("`position_embedding_type` is {p:?}; only \"absolute\" is supported"));
        }
        if let Some(m) = self.model_type.as_deref().filter(|&m| m != "bert") {
            return Err(format!("`model_type` is {m:?}; only \"bert\" is supported"));
        }
        if self.layer_norm_eps.is_nan() || self.layer_norm_eps <= 0.0 {
            return Err(format!("`layer_norm_eps` must be > 0, got {}", self.layer_norm_eps));
        }
        Ok(())
    }
}

/// How token states become one sentence vector (sentence-transformers' `Pooling` module;
/// Reimers & Gurevych, "Sentence-BERT", EMNLP 2019).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pooling {
    /// Mean of the token states under the attention mask (all-MiniLM-L6-v2's).
    Mean,
    /// The state of the first token (`[CLS]`).
    Cls,
    /// Element-wise maximum over the unpadded tokens.
    Max,
}

#[derive(Deserialize)]
struct PoolingFile {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
    #[serde(default)]
    pooling_mode_weightedmean_tokens: bool,
    #[serde(default)]
    pooling_mode_lasttoken: bool,
}

#[derive(Deserialize)]
struct ModuleEntry {
    #[serde(default)]
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct SentenceBertFile {
    max_seq_length: Option<usize>,
}

/// Everything read from an encoder folder before the weights: the architecture, the pooling,
/// whether the sentence vector is L2-normalised, the truncation length, and the paths of the
/// weights and tokenizer files.
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderFolder {
    /// The folder.
    pub dir: PathBuf,
    /// `config.json`.
    pub bert: BertConfig,
    /// From `modules.json` → the pooling module's `config.json`; [`Pooling::Mean`] when the
    /// folder has no `modules.json` (a plain Hugging Face BERT, as sentence-transformers
    /// treats one).
    pub pooling: Pooling,
    /// Whether `modules.json` lists a `Normalize` module (L2 normalisation of the sentence
    /// vector); false without `modules.json`.
    pub normalize: bool,
    /// Texts are truncated to this many tokens, special tokens included:
    /// `sentence_bert_config.json`'s `max_seq_length`, else `max_position_embeddings`.
    pub max_seq_length: usize,
    /// `model.safetensors`.
    pub weights: PathBuf,
    /// `tokenizer.json`.
    pub tokenizer: PathBuf,
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, TextError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    serde_json::from_str(&text).map_err(|e| TextError::Config { path: path.into(), message: format!("not the expected JSON: {e}") })
}

impl EncoderFolder {
    /// Reads and checks the configuration of the encoder in `dir` (the layout of a Hugging Face
    /// sentence-transformers repository, e.g. `sentence-transformers/all-MiniLM-L6-v2`).
    ///
    /// # Errors
    /// [`TextError::Io`] for a missing `config.json`, `model.safetensors` or `tokenizer.json`;
    /// [`TextError::Config`] for a malformed file or an unsupported architecture or pooling.
    pub fn read(dir: impl AsRef<Path>) -> Result<Self, TextError> {
        let dir = dir.as_ref().to_path_buf();
        let config_path = dir.join("config.json");
        let bert: BertConfig = read_json(&config_path)?;
        bert.check().map_err(|message| TextError::Config { path: config_path, message })?;
        let (mut pooling, mut normalize) = (Pooling::Mean, false);
        let modules_path = dir.join("modules.json");
        if modules_path.exists() {
            let modules: Vec<ModuleEntry> = read_json(&modules_path)?;
            normalize = modules.iter().any(|m| m.kind.ends_with(".Normalize"));
            if let Some(m) = modules.iter().find(|m| m.kind.ends_with(".Pooling")) {
                let path = dir.join(&m.path).join("config.json");
                let p: PoolingFile = read_json(&path)?;
                let unsupported = [
                    (p.pooling_mode_mean_sqrt_len_tokens, "pooling_mode_mean_sqrt_len_tokens"),
                    (p.pooling_mode_weightedmean_tokens, "pooling_mode_weightedmean_tokens"),
                    (p.pooling_mode_lasttoken, "pooling_mode_lasttoken"),
                ];
                if let Some((_, name)) = unsupported.iter().find(|u| u.0) {
                    return Err(TextError::Config { path, message: format!("`{name}` is not supported (mean, cls or max pooling are)") });
                }
                pooling = match (p.pooling_mode_mean_tokens, p.pooling_mode_cls_token, p.pooling_mode_max_tokens) {
                    (true, false, false) => Pooling::Mean,
                    (false, true, false) => Pooling::Cls,
                    (false, false, true) => Pooling::Max,
                    _ => {
                        return Err(TextError::Config {
                            path,
                            message: "expected exactly one of pooling_mode_mean_tokens, pooling_mode_cls_token, pooling_mode_max_tokens to be true".into(),
                        });
                    }
                };
            }
        }
        let sb_path = dir.join("sentence_bert_config.json");
        let max_seq = if sb_path.exists() { read_json::<SentenceBertFile>(&sb_path)?.max_seq_length } else { None };
        let max_seq_length = max_seq.unwrap_or(bert.max_position_embeddings);
        if max_seq_length < 2 || max_seq_length > bert.max_position_embeddings {
            return Err(TextError::Config {
                path: sb_path,
                message: format!("`max_seq_length` {max_seq_length} must be in 2..={} (`max_position_embeddings`)", bert.max_position_embeddings),
            });
        }
        let weights = dir.join("model.safetensors");
        let tokenizer = dir.join("tokenizer.json");
        for f in [&weights, &tokenizer] {
            std::fs::metadata(f).map_err(io(f))?;
        }
        Ok(Self { dir, bert, pooling, normalize, max_seq_length, weights, tokenizer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    const CONFIG: &str = r#"{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
        "intermediate_size": 16, "max_position_embeddings": 12, "hidden_act": "gelu", "dropout": 0.1}"#;

    #[test]
    fn reads_a_sentence_transformers_folder_and_names_what_is_wrong() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "config.json", CONFIG);
        // No weights yet: the missing file is named.
        let e = EncoderFolder::read(d.path()).unwrap_err().to_string();
        assert!(e.contains("model.safetensors"), "{e}");
        write(d.path(), "model.safetensors", "");
        write(d.path(), "tokenizer.json", "{}");
        let f = EncoderFolder::read(d.path()).unwrap();
        assert_eq!((f.pooling, f.normalize, f.max_seq_length, f.bert.layer_norm_eps), (Pooling::Mean, false, 12, 1e-12));
        write(
            d.path(),
            "modules.json",
            r#"[{"path": "", "type": "sentence_transformers.models.Transformer"},
            {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}, {"path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]"#,
        );
        write(d.path(), "1_Pooling/config.json", r#"{"pooling_mode_cls_token": true}"#);
        write(d.path(), "sentence_bert_config.json", r#"{"max_seq_length": 6}"#);
        let f = EncoderFolder::read(d.path()).unwrap();
        assert_eq!((f.pooling, f.normalize, f.max_seq_length), (Pooling::Cls, true, 6));
        write(d.path(), "1_Pooling/config.json", r#"{"pooling_mode_mean_sqrt_len_tokens": true}"#);
        let e = EncoderFolder::read(d.path()).unwrap_err().to_string();
        assert!(e.contains("1_Pooling/config.json") && e.contains("pooling_mode_mean_sqrt_len_tokens"), "{e}");
        write(d.path(), "1_Pooling/config.json", r#"{"pooling_mode_mean_tokens": true}"#);
        write(d.path(), "sentence_bert_config.json", r#"{"max_seq_length": 99}"#);
        let e = EncoderFolder::read(d.path()).unwrap_err().to_string();
        assert!(e.contains("max_seq_length") && e.contains("2..=12"), "{e}");
        write(d.path(), "config.json", &CONFIG.replace("\"gelu\"", "\"relu\""));
        let e = EncoderFolder::read(d.path()).unwrap_err().to_string();
        assert!(e.contains("config.json") && e.contains("hidden_act"), "{e}");
        write(d.path(), "config.json", &CONFIG.replace("\"num_attention_heads\": 2", "\"num_attention_heads\": 3"));
        assert!(EncoderFolder::read(d.path()).unwrap_err().to_string().contains("not a multiple"));
        write(d.path(), "config.json", "{\"vocab_size\": 10}");
        let e = EncoderFolder::read(d.path()).unwrap_err().to_string();
        assert!(e.contains("config.json") && e.contains("hidden_size"), "{e}");
    }
}
