//! Loading Hugging Face `BertModel` weights (`model.safetensors`) into [`Bert`] with burn-store.
//!
//! burn-store's [`PyTorchToBurnAdapter`] transposes every `Linear` weight (PyTorch stores
//! `[out, in]`, Burn `[in, out]`) and reads LayerNorm `weight`/`bias` as `gamma`/`beta`; the
//! regular expressions of [`hf_bert_remapper`] rename the paths:
//!
//! | Hugging Face `BertModel` | [`Bert`] |
//! | --- | --- |
//! | `embeddings.LayerNorm.*` | `embeddings.layer_norm.*` |
//! | `embeddings.{word,position,token_type}_embeddings.weight` | same |
//! | `encoder.layer.N.attention.self.{query,key,value}.*` | `encoder.layers.N.mha.{query,key,value}.*` |
//! | `encoder.layer.N.attention.output.dense.*` | `encoder.layers.N.mha.output.*` |
//! | `encoder.layer.N.attention.output.LayerNorm.*` | `encoder.layers.N.norm_1.*` |
//! | `encoder.layer.N.intermediate.dense.*` | `encoder.layers.N.pwff.linear_inner.*` |
//! | `encoder.layer.N.output.dense.*` | `encoder.layers.N.pwff.linear_outer.*` |
//! | `encoder.layer.N.output.LayerNorm.*` | `encoder.layers.N.norm_2.*` |
//!
//! A leading `bert.` (checkpoints saved from `BertFor…` heads) is dropped. Tensors the
//! encoder does not use (`pooler.*`, `embeddings.position_ids`, heads) are ignored; a tensor it
//! needs that the file lacks, or one of the wrong shape, is an error naming it.

use std::path::Path;

use burn::store::{KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use burn::tensor::Device;

use crate::bert::Bert;
use crate::config::BertConfig;
use crate::error::TextError;

/// The path renames from Hugging Face `BertModel` names to [`Bert`]'s (table in the module docs).
pub fn hf_bert_remapper() -> KeyRemapper {
    const RULES: [(&str, &str); 8] = [
        (r"^bert\.", ""),
        (r"^embeddings\.LayerNorm\.", "embeddings.layer_norm."),
        (r"^encoder\.layer\.(\d+)\.attention\.self\.(query|key|value)\.", "encoder.layers.${1}.mha.${2}."),
        (r"^encoder\.layer\.(\d+)\.attention\.output\.dense\.", "encoder.layers.${1}.mha.output."),
        (r"^encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\.", "encoder.layers.${1}.norm_1."),
        (r"^encoder\.layer\.(\d+)\.intermediate\.dense\.", "encoder.layers.${1}.pwff.linear_inner."),
        (r"^encoder\.layer\.(\d+)\.output\.dense\.", "encoder.layers.${1}.pwff.linear_outer."),
        (r"^encoder\.layer\.(\d+)\.output\.LayerNorm\.", "encoder.layers.${1}.norm_2."),
    ];
    // The patterns are constants of this file, checked by the tests.
    KeyRemapper::from_patterns(RULES.to_vec()).expect("the BERT remapping patterns are valid regular expressions")
}

/// A [`Bert`] of shape `config` with the weights of the safetensors file `path` (Hugging Face
/// `BertModel` names), on `device`.
///
/// # Errors
/// [`TextError::Weights`] naming the file: unreadable, not safetensors, a needed tensor
/// missing (listed), or a tensor of the wrong shape or type.
pub fn load_bert(config: &BertConfig, path: &Path, device: &Device) -> Result<Bert, TextError> {
    let weights_error = |message: String| TextError::Weights { path: path.to_path_buf(), message };
    let mut model = Bert::new(config, device);
    let mut store = SafetensorsStore::from_file(path).with_from_adapter(PyTorchToBurnAdapter).remap(hf_bert_remapper()).allow_partial(true);
    let result = model.load_from(&mut store).map_err(|e| weights_error(e.to_string()))?;
    if !result.errors.is_empty() {
        let list: Vec<String> = result.errors.iter().take(5).map(|e| format!("{e:?}")).collect();
        return Err(weights_error(format!("{} tensors could not be applied: {}", result.errors.len(), list.join("; "))));
    }
    if !result.missing.is_empty() {
        let list: Vec<&str> = result.missing.iter().take(8).map(|m| m.0.as_str()).collect();
        return Err(weights_error(format!(
            "{} tensors the model needs are not in the file (after renaming from Hugging Face `BertModel` names), e.g. {}",
            result.missing.len(),
            list.join(", ")
        )));
    }
    Ok(model)
}
