//! `burnrec embed`: item embeddings from a pretrained sentence encoder.

use burnrec_data::text::ItemText;

use crate::cli::EmbedArgs;
use crate::common::{embed_texts, write_embeddings};

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
