//! `burnrec recommend`: top-N from a model directory for a training user, a new user's
//! history (fold-in) or a new user's side features.

use anyhow::bail;

use crate::cli::RecommendArgs;
use crate::engine::Engine;
use crate::modeldir;

/// Runs `burnrec recommend`.
///
/// # Errors
/// Model directory errors; unknown ids, bad `-k`, models without fold-in.
pub fn recommend(args: &RecommendArgs) -> anyhow::Result<()> {
    let mut engine = Engine::new(modeldir::load(&args.model_dir, args.backend)?);
    if let (Some(u), Some(text)) = (&args.user, &args.item_text) {
        engine.load_encoder(args.encoder.as_deref(), &args.backend.device())?;
        let answer = engine.recommend_text(u, text, args.k, args.include_seen)?;
        if let (Some(n), false) = (&answer.new_item, args.json) {
            eprintln!("the item known by its text ranks {} for user {u} (score {:.4})", n.rank, n.score);
        }
        return answer.print(args.json, serde_json::json!({ "user": u, "text": text }));
    }
    // `--history "1, 260"`: ids are trimmed, empty ones dropped.
    let clean = |v: &Option<Vec<String>>| v.as_ref().map(|v| v.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect::<Vec<_>>());
    let (history, features) = (clean(&args.history), clean(&args.user_features));
    let (answer, context) = match (&args.user, &history, &features) {
        (Some(u), None, None) => (engine.recommend(u, args.k, args.include_seen, args.popular_fallback)?, serde_json::json!({ "user": u })),
        (None, Some(h), None) => {
            (engine.recommend_history(h, args.k, args.include_seen, args.skip_unknown)?, serde_json::json!({ "history": Engine::distinct(h) }))
        }
        (None, None, Some(f)) => (engine.recommend_features(f, args.k)?, serde_json::json!({ "user_features": f })),
        _ => bail!("give exactly one of --user RAW_ID, --history ITEM,ITEM,… or --user-features FIELD=VALUE,…"),
    };
    answer.print(args.json, context)
}
