//! `burnrec similar`: the items most similar to an item (by id, or known only by its text),
//! from a model directory.

use crate::cli::SimilarArgs;
use crate::engine::Engine;
use crate::modeldir;

/// Runs `burnrec similar`.
///
/// # Errors
/// Model directory errors; an unknown item, bad `-k`, models without item similarity (or
/// without item text, for `--item-text`), an encoder that cannot be loaded.
pub fn similar(args: &SimilarArgs) -> anyhow::Result<()> {
    let mut engine = Engine::new(modeldir::load(&args.model_dir, args.backend)?);
    match (&args.item, &args.item_text) {
        (_, Some(text)) => {
            engine.load_encoder(args.encoder.as_deref(), &args.backend.device())?;
            engine.similar_text(text, args.k)?.print(args.json, serde_json::json!({ "text": text }))
        }
        (Some(item), None) => engine.similar(item, args.k)?.print(args.json, serde_json::json!({ "item": item })),
        (None, None) => anyhow::bail!("give --item RAW_ID or --item-text TEXT"),
    }
}
