//! `burnrec evaluate`: a saved model directory scored again on its held-out part (or on
//! another dataset's, matched by raw ids).

use anyhow::{Context, anyhow, bail};
use burnrec_data::{DatasetSpec, Interactions, LoadOptions, Rating};

use crate::cli::EvaluateArgs;
use crate::common::holdout_metrics;
use crate::modeldir;

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
    let split = m.split.split(&data, true)?;
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
