//! `burnrec train`: one catalogue model fitted on a split and saved as a model directory.

use burnrec_data::sequence::UserSequences;
use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, bail};
use burnrec_data::split::carve_validation;
use burnrec_zoo::{FitSettings, Need, TrainingData};

use crate::cli::TrainArgs;
use crate::common::{BLOCK_USERS, check_training_flags, holdout_metrics, item_text_embeddings};
use crate::modeldir::{self, FORMAT, Manifest, SplitInfo, ToSave};

/// Runs `burnrec train`.
///
/// # Errors
/// Data, split, fit and save errors, with context.
pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    if burnrec_zoo::GROUPS.iter().any(|g| g.0 == args.model) {
        bail!("--model takes one model, not the group `{}`", args.model);
    }
    if args.k == 0 {
        bail!("--k must be at least 1");
    }
    check_training_flags(args.epochs, args.patience, args.valid_ratio)?;
    let entry = burnrec_zoo::entry(&args.model)?;
    let data = args.data.load()?;
    let kind = args.split.name();
    let info = SplitInfo { kind: kind.to_string(), test_ratio: args.test_ratio, seed: args.seed };
    let mut split = info.split(&data, true)?;
    if let Some(v) = args.valid_ratio {
        // As in `compare`; the model trains on the rest, which its directory records as seen.
        split = carve_validation(split, v, args.seed).context("carving the validation part")?;
    }
    let settings = FitSettings {
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
        // A model with parts (the hybrid) is set through them.
        if model != args.model && !entry.parts.contains(&model) {
            bail!("--set `{s}`: `{model}` is not the model trained (`{}`)", args.model);
        }
    }
    burnrec_zoo::catalogue::check_sets(&args.set, &[entry])?;
    let recipe = entry.recipe(&settings)?;
    let text = if entry.needs.item_text == Need::No { None } else { Some(item_text_embeddings(&args.text, &data, &args.backend.device())?) };
    let sequences = if entry.needs.timestamps == Need::Required {
        Some(
            UserSequences::from_interactions(&split.train_and_valid()?, &data.items)
                .with_context(|| format!("`{}` reads each user's history in time order", args.model))?,
        )
    } else {
        None
    };
    let training = TrainingData {
        train: &split.train,
        valid: (!split.valid.is_empty()).then_some(&split.valid),
        user_features: data.user_features.as_ref(),
        item_features: data.item_features.as_ref(),
        item_text: text.as_ref().map(|t| &t.embeddings),
        sequences: sequences.as_ref(),
    };
    let start = Instant::now();
    let model = recipe.fit(&training, &settings).with_context(|| format!("fitting `{}`", args.model))?.model;
    let fit_s = start.elapsed().as_secs_f64();
    let metrics: BTreeMap<String, f64> = holdout_metrics(model.predictor(), &split.train, &split.test, args.k, data.scale).into_iter().collect();
    let manifest = Manifest {
        format: FORMAT,
        burnrec_version: env!("CARGO_PKG_VERSION").to_string(),
        model: args.model.clone(),
        dataset: args.data.spec().absolute().to_string(),
        dataset_name: data.name.clone(),
        load_options: Some(args.data.load_options()?),
        split: info,
        backend: entry.is_neural().then(|| args.backend.name().to_string()),
        trained_at_unix: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        fit_s,
        n_users: data.n_users(),
        n_items: data.n_items(),
        n_train: split.train.len(),
        metrics,
        // Absolute, so that serving from another folder finds it.
        encoder: text.as_ref().map(|t| std::fs::canonicalize(&t.encoder).unwrap_or_else(|_| t.encoder.clone()).display().to_string()),
    };
    let seen = burnrec_data::csr::Csr::by_user(&split.train);
    let what =
        ToSave { manifest: &manifest, model: &model, users: &data.users, items: &data.items, titles: &data.item_titles, seen: &seen, item_text: text.as_ref() };
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
