//! The BERT encoder as a Burn module (Devlin et al., NAACL 2019), with sentence-transformers'
//! pooling and normalisation on top (Reimers & Gurevych, EMNLP 2019).
//!
//! Built on burn-nn: [`Embedding`] for the word, position and token-type tables, [`LayerNorm`],
//! and [`TransformerEncoder`] for the layers. burn-nn's encoder fits BERT exactly with
//! `norm_first: false` (post-norm: `x = LN₁(x + MHA(x))`, `x = LN₂(x + FFN(x))`), the exact
//! GELU, BERT's LayerNorm epsilon and dropout 0 — its parameter names differ from Hugging
//! Face's, which [`crate::weights`] remaps. What did not fit: burn-nn has no BERT embedding
//! block (three tables summed, then LayerNorm) nor sentence pooling, written here; and its
//! attention masks padded keys with a large negative score (`-1e4`) rather than `-∞`, as
//! Hugging Face's BERT does with `finfo.min` — the padded keys' weights are `e^-1e4 ≈ 0` either
//! way, so unpadded tokens' states do not depend on the padding (tested).

use burn::module::Module;
use burn::nn::activation::ActivationConfig;
use burn::nn::transformer::{TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput};
use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig};
use burn::tensor::{Bool, Device, Int, Tensor};

use crate::config::{BertConfig, Pooling};

/// BERT's input embedding: word + absolute position + token type (always type 0 here), then
/// LayerNorm.
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    /// `[vocab_size, d]`.
    pub word_embeddings: Embedding,
    /// `[max_position_embeddings, d]`.
    pub position_embeddings: Embedding,
    /// `[type_vocab_size, d]`.
    pub token_type_embeddings: Embedding,
    /// Over `d`.
    pub layer_norm: LayerNorm,
}

/// A BERT encoder: embeddings and `num_hidden_layers` post-norm transformer layers.
#[derive(Module, Debug)]
pub struct Bert {
    /// The input embedding block.
    pub embeddings: BertEmbeddings,
    /// The transformer layers (burn-nn).
    pub encoder: TransformerEncoder,
}

impl Bert {
    /// A randomly initialised model of the shape `config` describes (weights are then loaded
    /// with [`crate::weights::load_bert`]). `config` must pass [`BertConfig::check`].
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        let d = config.hidden_size;
        let table = |n: usize| EmbeddingConfig::new(n, d).init(device);
        let embeddings = BertEmbeddings {
            word_embeddings: table(config.vocab_size),
            position_embeddings: table(config.max_position_embeddings),
            token_type_embeddings: table(config.type_vocab_size),
            layer_norm: LayerNormConfig::new(d).with_epsilon(config.layer_norm_eps).init(device),
        };
        let encoder = TransformerEncoderConfig::new(d, config.intermediate_size, config.num_attention_heads, config.num_hidden_layers)
            .with_dropout(0.0)
            .with_norm_first(false)
            .with_activation(ActivationConfig::Gelu)
            .with_layer_norm_eps(config.layer_norm_eps)
            .init(device);
        Self { embeddings, encoder }
    }

    /// Token states.
    ///
    /// # Shapes
    /// `ids`: `[batch, seq]` token ids (`seq ≤ max_position_embeddings`); `pad`: `[batch, seq]`,
    /// true where a position is padding. Returns `[batch, seq, d]`.
    pub fn forward(&self, ids: Tensor<2, Int>, pad: Tensor<2, Bool>) -> Tensor<3> {
        let seq = ids.dims()[1];
        let e = &self.embeddings;
        let words = e.word_embeddings.forward(ids);
        // `[1, seq, d]` and `[1, 1, d]`, broadcast over the batch.
        let positions = e.position_embeddings.weight.val().narrow(0, 0, seq).unsqueeze_dim::<3>(0);
        let types = e.token_type_embeddings.weight.val().narrow(0, 0, 1).unsqueeze_dim::<3>(0);
        let x = e.layer_norm.forward(words + positions + types);
        self.encoder.forward(TransformerEncoderInput::new(x).mask_pad(pad))
    }
}

/// Pools token states into one vector per text and, if `normalize`, scales it to unit L2 norm
/// (`x / max(‖x‖₂, 1e-12)`, as `torch.nn.functional.normalize`).
///
/// # Shapes
/// `states`: `[batch, seq, d]`; `pad`: `[batch, seq]` (true = padding). Returns `[batch, d]`.
pub fn pool(states: Tensor<3>, pad: Tensor<2, Bool>, pooling: Pooling, normalize: bool) -> Tensor<2> {
    let [batch, seq, d] = states.dims();
    let pooled: Tensor<2> = match pooling {
        Pooling::Mean => {
            let keep = pad.bool_not().float().unsqueeze_dim::<3>(2);
            let count = keep.clone().sum_dim(1).clamp_min(1e-9);
            (states * keep).sum_dim(1).div(count).reshape([batch, d])
        }
        Pooling::Cls => states.narrow(1, 0, 1).reshape([batch, d]),
        Pooling::Max => {
            let mask = pad.unsqueeze_dim::<3>(2).expand([batch, seq, d]);
            states.mask_fill(mask, -1e9).max_dim(1).reshape([batch, d])
        }
    };
    if !normalize {
        return pooled;
    }
    let norm = pooled.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12);
    pooled.div(norm)
}
