//! `burnrec embed`: item embeddings from a pretrained sentence encoder.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use burnrec_data::text::ItemText;

use crate::cli::EmbedArgs;
use crate::common::embed_texts;

/// Runs `burnrec embed`.
///
/// # Errors
/// Loading the data or the encoder, encoding, or writing `--out`.
pub fn embed(args: &EmbedArgs) -> anyhow::Result<()> {
    let data = args.data.load()?;
    let texts = ItemText { max_tags: args.text.max_tags }.texts(&data);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (vectors, d, encoded, fingerprint) = embed_texts(&args.text, &args.backend.device(), &refs)?;
    let ids = data.items.raw_ids();
    write_embeddings(&args.out, ids, &vectors, d, &fingerprint, &texts)?;
    eprintln!("{} items × {d} → {} ({encoded} texts encoded, the rest from the cache)", ids.len(), args.out.display());
    Ok(())
}

/// Writes item vectors (`[ids.len() × d]`) as `.safetensors` or `.tsv` (by extension).
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
