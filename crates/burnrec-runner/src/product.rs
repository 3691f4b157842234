//! `burnrec train`, `evaluate`, `recommend` and `similar`: from a trained model to answers.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use burnrec_data::split::{leave_one_out, random_leave_one_out};
use burnrec_data::{DatasetSpec, Feedback, Interactions, LoadOptions, Rating, RatingPredictor, Split, random_split};
use burnrec_eval::{evaluate_full, evaluate_ratings};

use crate::cli::{BURN_MODELS, EvaluateArgs, RecommendArgs, SimilarArgs, TrainArgs};
use crate::compare::{ModelSettings, Side, fit_model, push_ranking};
use crate::engine::{Answer, Engine};
use crate::modeldir::{self, FORMAT, Manifest, SplitInfo, ToSave};

/// Users scored per block in held-out full ranking.
const BLOCK_USERS: usize = 256;

/// The training and held-out parts for `kind` (`none`, `random`, `leave-one-out`).
fn make_split(kind: &str, data: &burnrec_data::Dataset, test_ratio: f64, seed: u64) -> anyhow::Result<Split> {
    Ok(match kind {
        "none" => Split {
            train: data.interactions.clone(),
            valid: Interactions::new(Vec::new(), data.n_users(), data.n_items())?,
            test: Interactions::new(Vec::new(), data.n_users(), data.n_items())?,
        },
        "random" => random_split(&data.interactions, test_ratio, seed).context("splitting the dataset")?,
        _ => loo_split(data, seed, true)?,
    })
}

/// Leave-one-out: each user's latest interaction (ties to the larger item id), or, when the
/// data has no timestamps, one drawn at random (seeded; said on stderr when `say`).
pub(crate) fn loo_split(data: &burnrec_data::Dataset, seed: u64, say: bool) -> anyhow::Result<Split> {
    if data.interactions.timestamps().is_some() {
        return leave_one_out(&data.interactions, &data.items).context("leave-one-out split");
    }
    if say {
        eprintln!("note: the data has no timestamps: leave-one-out holds out one interaction per user drawn at random (seed {seed})");
    }
    random_leave_one_out(&data.interactions, seed).context("leave-one-out split")
}

/// Held-out metrics: RMSE/MAE (explicit models, clipped to the dataset's rating scale `clip`)
/// and full ranking at `k` (every model; `train`'s items are excluded from each user's
/// candidates).
fn holdout_metrics(model: &dyn RatingPredictor, train: &Interactions, test: &Interactions, k: usize, clip: (f32, f32)) -> Vec<(String, f64)> {
    let mut values = Vec::new();
    if test.is_empty() {
        return values;
    }
    if model.feedback() == Feedback::Explicit
        && let Some(r) = evaluate_ratings(model, test, Some(clip))
    {
        values.push(("rmse".to_string(), r.rmse));
        values.push(("mae".to_string(), r.mae));
    }
    let r = evaluate_full(model, train, test, k, BLOCK_USERS);
    push_ranking(&mut values, "", &r, true);
    values
}

/// Runs `burnrec train`.
///
/// # Errors
/// Data, split, fit and save errors, with context.
pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    if args.model.starts_with("all-") {
        bail!("--model takes one model, not the group `{}`", args.model);
    }
    if args.k == 0 {
        bail!("--k must be at least 1");
    }
    crate::compare::check_training_flags(args.epochs, args.patience, args.valid_ratio)?;
    let data = args.data.load()?;
    let kind = if args.split == "loo" { "leave-one-out" } else { args.split.as_str() };
    let mut split = make_split(kind, &data, args.test_ratio, args.seed)?;
    if let Some(v) = args.valid_ratio {
        // As in `compare`; the model trains on the rest, which its directory records as seen.
        split = crate::compare::carve_validation(split, v, args.seed)?;
    }
    let settings = ModelSettings {
        backend: args.backend,
        seed: args.seed,
        epochs: args.epochs,
        patience: args.patience,
        set: &args.set,
        quiet: args.quiet,
        k: args.k,
        block_users: BLOCK_USERS,
    };
    for s in &args.set {
        let model = s.split_once('.').map_or(s.as_str(), |(m, _)| m);
        // The hybrid is set through its parts.
        let part = args.model == "hybrid" && (model == "als" || model == "content");
        if model != args.model && !part {
            bail!("--set `{s}`: `{model}` is not the model trained (`{}`)", args.model);
        }
    }
    let side = Side { users: data.user_features.as_ref(), items: data.item_features.as_ref() };
    let start = Instant::now();
    let valid = (!split.valid.is_empty()).then_some(&split.valid);
    let (model, _, _) = fit_model(&args.model, &settings, &split.train, valid, &side).with_context(|| format!("fitting `{}`", args.model))?;
    let fit_s = start.elapsed().as_secs_f64();
    let metrics: BTreeMap<String, f64> = holdout_metrics(model.predictor(), &split.train, &split.test, args.k, data.scale).into_iter().collect();
    let manifest = Manifest {
        format: FORMAT,
        burnrec_version: env!("CARGO_PKG_VERSION").to_string(),
        model: args.model.clone(),
        dataset: args.data.spec().absolute().to_string(),
        dataset_name: data.name.clone(),
        load_options: Some(args.data.load_options()?),
        split: SplitInfo { kind: kind.to_string(), test_ratio: args.test_ratio, seed: args.seed },
        backend: BURN_MODELS.contains(&args.model.as_str()).then(|| args.backend.name().to_string()),
        trained_at_unix: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        fit_s,
        n_users: data.n_users(),
        n_items: data.n_items(),
        n_train: split.train.len(),
        metrics,
    };
    let seen = burnrec_data::csr::Csr::by_user(&split.train);
    let what = ToSave { manifest: &manifest, model: &model, users: &data.users, items: &data.items, titles: &data.item_titles, seen: &seen };
    modeldir::save(&args.out, &what, args.force)?;
    eprintln!(
        "trained `{}` on {} ({} users, {} items, {} training interactions{}) in {fit_s:.2} s; saved to `{}`",
        args.model,
        data.name,
        data.n_users(),
        data.n_items(),
        split.train.len(),
        if kind == "none" { String::new() } else { format!(", {} held out by {kind}", split.test.len()) },
        args.out.display()
    );
    for (k, v) in &manifest.metrics {
        println!("{k}\t{v:.4}");
    }
    Ok(())
}

/// Runs `burnrec evaluate`.
///
/// # Errors
/// Model directory, data and split errors, with context.
pub fn evaluate(args: &EvaluateArgs) -> anyhow::Result<()> {
    if args.k == 0 {
        bail!("--k must be at least 1");
    }
    let dir = modeldir::load(&args.model_dir, args.backend)?;
    let m = &dir.manifest;
    // Without --dataset: the dataset the model was trained on, read with the loading flags it
    // was read with (csv layout, duplicates, scale, threshold, minimum interactions) when the
    // directory records them.
    let given = args.data.load_options()?;
    let data = match (&args.data.dataset, &m.load_options) {
        (Some(spec), _) => args.data.load_as(spec, &given)?,
        (None, recorded) => {
            let spec: DatasetSpec = m.dataset.parse().map_err(|e| anyhow!("{}: dataset `{}`: {e}; pass --dataset", args.model_dir.display(), m.dataset))?;
            let opts = match recorded {
                Some(recorded) => {
                    if given != LoadOptions::default() && &given != recorded {
                        eprintln!("note: without --dataset the loading flags recorded at training are used; the ones given here are ignored");
                    }
                    recorded.clone()
                }
                None => given,
            };
            args.data.load_as(&spec, &opts)?
        }
    };
    if args.data.dataset.is_some() && data.name != m.dataset_name {
        eprintln!(
            "warning: the model was trained on {}, evaluating on {}: users and items are matched by raw id, so the ids must mean the same users and items in both",
            m.dataset_name, data.name
        );
    }
    let kind = m.split.kind.as_str();
    let split = make_split(kind, &data, m.split.test_ratio, m.split.seed)?;
    let held_out = if kind == "none" {
        eprintln!("note: the model was trained on every interaction (--split none): these are training-set metrics, not a held-out evaluation");
        &data.interactions
    } else {
        &split.test
    };
    // Into the model's index space, through raw ids.
    // Left out: interactions of unknown users, of unknown items, of both, and (on another
    // dataset) those the model trained on — its training items are not candidates.
    let (mut dropped_users, mut dropped_items, mut dropped_both, mut trained) = (0usize, 0usize, 0usize, 0usize);
    let mut test = Vec::with_capacity(held_out.len());
    for r in held_out.iter() {
        let u = data.users.raw(r.user).and_then(|raw| dir.users.index(raw));
        let i = data.items.raw(r.item).and_then(|raw| dir.items.index(raw));
        match (u, i) {
            (Some(user), Some(item)) if kind != "none" && dir.seen.row(user as usize).binary_search(&item).is_ok() => trained += 1,
            (Some(user), Some(item)) => test.push(Rating { user, item, ..r }),
            (None, None) => dropped_both += 1,
            (None, Some(_)) => dropped_users += 1,
            (Some(_), None) => dropped_items += 1,
        }
    }
    let (nu, ni) = (dir.users.len(), dir.items.len());
    let test = Interactions::new(test, nu, ni).context("held-out interactions in the model's id space")?;
    let mut train = Vec::with_capacity(dir.seen.nnz());
    for u in 0..nu as u32 {
        train.extend(dir.seen.row(u as usize).iter().map(|&item| Rating { user: u, item, rating: 1.0, timestamp: None }));
    }
    // Items the model trained on leave each user's candidates — except after `--split none`,
    // where the training interactions are what is being scored.
    let train = if kind == "none" {
        Interactions::new(Vec::new(), nu, ni)?
    } else {
        Interactions::new(train, nu, ni).context("training interactions of the model directory")?
    };
    let left_out = format!(
        "{dropped_users} of unknown users, {dropped_items} of unknown items, {dropped_both} of both{}",
        if trained > 0 { format!(", {trained} the model trained on") } else { String::new() }
    );
    eprintln!(
        "evaluating `{}` ({}) on {} {} interactions of {} ({} split, seed {}); left out: {left_out}",
        m.model,
        args.model_dir.display(),
        test.len(),
        if kind == "none" { "training" } else { "held-out" },
        data.name,
        kind,
        m.split.seed
    );
    if trained > 0 {
        eprintln!(
            "note: {trained} of the {} held-out interactions were training interactions of the model (is this data the training data, split differently?): they are left out",
            held_out.len()
        );
    }
    if test.is_empty() {
        bail!(
            "nothing to evaluate: none of the {} {} interactions is new to the model with a user and an item it knows (left out: {left_out})",
            held_out.len(),
            if kind == "none" { "training" } else { "held-out" }
        );
    }
    let values = holdout_metrics(dir.predictor(), &train, &test, args.k, data.scale);
    // The backend it ran on now (a Burn model loads on any), not the one it trained on.
    let backend = if m.backend.is_some() { args.backend.name().to_string() } else { "-".to_string() };
    let row = crate::report::Row { model: m.model.clone(), backend, values, folds: Vec::new() };
    print!("{}", crate::report::table(std::slice::from_ref(&row)));
    if let Some(p) = &args.json {
        std::fs::write(p, crate::report::json(std::slice::from_ref(&row))? + "\n").with_context(|| format!("writing `{}`", p.display()))?;
    }
    Ok(())
}

fn print_answer(answer: &Answer, json: bool, context: serde_json::Value) -> anyhow::Result<()> {
    if json {
        // The HTTP service's JSON, field for field (`Answer::to_json`).
        println!("{}", serde_json::to_string_pretty(&answer.to_json(context))?);
        return Ok(());
    }
    if let Some(f) = answer.fallback {
        eprintln!("note: unknown user; showing the {f} fallback");
    }
    if !answer.skipped.is_empty() {
        eprintln!("note: left out of the history (unknown to the model): {}", answer.skipped.join(", "));
    }
    println!("rank\titem\tscore\ttitle");
    for (r, s) in answer.items.iter().enumerate() {
        println!("{}\t{}\t{:.4}\t{}", r + 1, s.item, s.score, s.title.as_deref().unwrap_or(""));
    }
    Ok(())
}

/// Runs `burnrec recommend`.
///
/// # Errors
/// Model directory errors; unknown ids, bad `-k`, models without fold-in.
pub fn recommend(args: &RecommendArgs) -> anyhow::Result<()> {
    let engine = Engine::new(modeldir::load(&args.model_dir, args.backend)?);
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
    print_answer(&answer, args.json, context)
}

/// Runs `burnrec similar`.
///
/// # Errors
/// Model directory errors; an unknown item, bad `-k`, models without item similarity.
pub fn similar(args: &SimilarArgs) -> anyhow::Result<()> {
    let engine = Engine::new(modeldir::load(&args.model_dir, args.backend)?);
    print_answer(&engine.similar(&args.item, args.k)?, args.json, serde_json::json!({ "item": args.item }))
}
