//! `burnrec similar`: the items most similar to an item, from a model directory.

use crate::cli::SimilarArgs;
use crate::engine::Engine;
use crate::modeldir;

/// Runs `burnrec similar`.
///
/// # Errors
/// Model directory errors; an unknown item, bad `-k`, models without item similarity.
pub fn similar(args: &SimilarArgs) -> anyhow::Result<()> {
    let engine = Engine::new(modeldir::load(&args.model_dir, args.backend)?);
    engine.similar(&args.item, args.k)?.print(args.json, serde_json::json!({ "item": args.item }))
}
