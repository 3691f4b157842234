//! `burnrec compare`: every model on one seeded split, one table, every protocol.
//!
//! Models come from the catalogue (`burnrec_zoo`): each selected row builds its checked params
//! before any data loads, then fits on each fold's training part; this command only splits,
//! evaluates and reports.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, bail};
use burnrec_data::sampling::{NegativeSampler, Shortfall};
use burnrec_data::sequence::UserSequences;
use burnrec_data::split::{carve_latest, carve_validation, cold_item_split, kfold, leave_one_out_of, ml100k_official};
use burnrec_data::text::ItemEmbeddings;
use burnrec_data::{Dataset, DatasetSpec, Feedback, Interactions, Split, random_split};
use burnrec_eval::{evaluate_full, evaluate_full_among, evaluate_ratings, evaluate_sampled, paired_bootstrap};
use burnrec_zoo::catalogue::check_sets;
use burnrec_zoo::{CATALOGUE, Curves, FitSettings, ModelEntry, Need, TrainingData, select};
use rand::SeedableRng;

use crate::cli::{CompareArgs, Protocol, SplitKind};
use crate::common::{check_training_flags, item_text_embeddings, push_ranking};
use crate::report::{Row, csv, json, markdown, table};

impl CompareArgs {
    fn settings(&self) -> FitSettings<'_> {
        FitSettings {
            backend: self.backend,
            seed: self.seed,
            epochs: self.epochs,
            patience: self.patience,
            set: &self.set,
            quiet: self.quiet,
            k: self.k,
            block_users: self.block_users,
        }
    }
}

struct Protocols {
    rating: bool,
    full: bool,
    sampled: bool,
    /// Full ranking among these items only (the cold items of `--split cold-items`).
    among: Option<Vec<u32>>,
}

/// Runs `compare`: loads the data, splits it, fits each selected model, evaluates it under
/// each protocol, prints the table on stdout (and notes on fallbacks and significance), and
/// writes `--json` / `--csv` / `--markdown` if asked.
///
/// # Errors
/// Data, split, fit, backend and output errors, each with context.
pub fn compare(args: &CompareArgs) -> anyhow::Result<()> {
    let all = args.protocol.contains(&Protocol::All);
    let has = |p: Protocol| all || args.protocol.contains(&p);
    let cold = args.split == SplitKind::ColdItems;
    // Every split that holds out per user (leave-one-out and the given folds).
    let loo = !matches!(args.split, SplitKind::Random | SplitKind::ColdItems);
    let fixed_folds = args.split.fixed_folds();
    // `all` is every protocol the split allows: the sampled one needs leave-one-out.
    let sampled = args.protocol.contains(&Protocol::Sampled) || (all && loo && !fixed_folds && args.folds.is_none());
    let mut proto = Protocols { rating: has(Protocol::Rating), full: has(Protocol::Full), sampled, among: None };
    if proto.sampled && !loo {
        bail!("the sampled protocol ranks each user's held-out item: use --split leave-one-out");
    }
    if args.k == 0 {
        bail!("--k must be at least 1");
    }
    if proto.sampled && args.negatives == 0 && args.negatives_file.is_none() {
        bail!("--negatives must be at least 1: the sampled protocol ranks the held-out item among them");
    }
    if fixed_folds && (proto.sampled || args.folds.is_some() || args.valid_ratio.is_some() || args.valid_latest) {
        bail!("--split {} brings its own folds: it cannot be combined with --folds, --valid-ratio, --valid-latest or the sampled protocol", args.split.name());
    }
    if args.valid_latest && !loo {
        bail!("--valid-latest holds out each user's latest training interaction: it goes with --split leave-one-out (use --valid-ratio F otherwise)");
    }
    let has_valid = args.valid_ratio.is_some() || args.valid_latest;
    if cold && (proto.sampled || args.folds.is_some()) {
        bail!("--split cold-items cannot be combined with --folds or the sampled protocol");
    }
    if args.patience.is_some() && !has_valid {
        bail!("--patience stops on the validation part: add --valid-ratio F (e.g. 0.1), or --valid-latest with --split leave-one-out");
    }
    check_training_flags(args.epochs, args.patience, args.valid_ratio)?;
    if let Some(s) = args.set.iter().find(|s| s.split_once('=').is_some_and(|(k, _)| k.ends_with(".train.early_stopping")))
        && !has_valid
    {
        bail!("--set `{s}`: early stopping needs a validation part: add --valid-ratio F (e.g. 0.1), or use --patience N with it");
    }
    if args.negatives_file.is_some() && !proto.sampled {
        bail!("--negatives-file lists the candidates of the sampled protocol: add --protocol sampled (with --split leave-one-out)");
    }
    if args.folds_file.is_some() != (args.split == SplitKind::FoldsFile) {
        bail!("--folds-file PATH goes with --split folds-file (and that split needs the file)");
    }
    let filtered = args.data.implicit_threshold.is_some() || args.data.min_user_interactions > 1 || args.data.min_item_interactions > 1;
    if filtered && (fixed_folds || args.negatives_file.is_some()) {
        bail!(
            "{} refers to ratings of the unfiltered data: it cannot be combined with --implicit-threshold, --min-user-interactions or --min-item-interactions, which drop some",
            if fixed_folds { format!("--split {}", args.split.name()) } else { "--negatives-file".to_string() }
        );
    }
    // Every `--set` is checked before the data loads, with every model a group could select
    // (again below with the models actually selected).
    let settings = args.settings();
    let maybe = select(args.models.as_deref(), true)?;
    check_sets(&args.set, &maybe)?;
    for (a, b) in &args.bootstrap {
        if let Some(m) = [a, b].into_iter().find(|m| !maybe.iter().any(|e| &e.name == m)) {
            let names: Vec<&str> = maybe.iter().map(|e| e.name).collect();
            bail!("--bootstrap {a}:{b}: `{m}` is not among the models run ({})", names.join(", "));
        }
    }
    if !args.bootstrap.is_empty() && !args.protocol.iter().any(|p| matches!(p, Protocol::Full | Protocol::All)) {
        bail!("--bootstrap compares per-user NDCG@K of the full protocol: add --protocol full");
    }
    if !args.bootstrap.is_empty() && (fixed_folds || args.folds.is_some()) {
        bail!("--bootstrap pairs the users of one split: it cannot be combined with --folds or a split of several folds (official-5fold, folds-file)");
    }
    for e in &maybe {
        e.recipe(&settings)?;
    }
    let (data, given_folds) = match args.split {
        SplitKind::Official5Fold => {
            let DatasetSpec::Ml100k(dir) = args.data.spec() else {
                bail!("--split official-5fold uses ML-100K's u1…u5 files: pass --dataset ml-100k:PATH");
            };
            let opts = args.data.load_options()?;
            let mut data = None;
            let mut folds = Vec::new();
            for f in 1..=5 {
                let (d, s) = ml100k_official(&dir, &format!("u{f}"), &opts).with_context(|| format!("reading the official fold u{f}"))?;
                data.get_or_insert(d);
                folds.push(s);
            }
            eprintln!("official ML-100K folds u1…u5 (uN.base / uN.test): each cell is the mean over the 5 folds, `_std` the sample standard deviation");
            (data.expect("five folds"), Some(folds))
        }
        SplitKind::FoldsFile => {
            let data = args.data.load()?;
            let path = args.folds_file.as_ref().expect("checked above");
            let folds = burnrec_data::listed::read_folds_file(path, &data)?;
            eprintln!("{} folds from `{}`: each cell is the mean over folds, `_std` the sample standard deviation", folds.len(), path.display());
            (data, Some(folds))
        }
        _ => match args.folds {
            Some(f) => {
                if loo || proto.sampled {
                    // (cold-items with --folds is refused above, with the cold-items checks)
                    bail!("--folds runs k-fold cross-validation on random folds: it cannot be combined with leave-one-out or the sampled protocol");
                }
                if args.valid_ratio.is_some() {
                    bail!("--valid-ratio is not supported with --folds");
                }
                let data = args.data.load()?;
                let folds = kfold(&data.interactions, f, false, args.seed).context("k-fold split")?;
                eprintln!("{f}-fold cross-validation (seed {}): each cell is the mean over folds, `_std` the sample standard deviation", args.seed);
                (data, Some(folds))
            }
            None => (args.data.load()?, None),
        },
    };
    let mut split = match &given_folds {
        Some(folds) => folds[0].clone(),
        None if cold => {
            let (split, items) = cold_item_split(&data.interactions, args.test_ratio, args.seed).context("cold-item split")?;
            eprintln!("cold-start: {} of {} items held out entirely; full ranking ranks among them only", items.len(), data.n_items());
            proto.among = Some(items);
            split
        }
        None if loo => leave_one_out_of(&data, args.seed).context("leave-one-out split")?.0,
        None => random_split(&data.interactions, args.test_ratio, args.seed).context("splitting the dataset")?,
    };
    if let Some(v) = args.valid_ratio {
        split = carve_validation(split, v, args.seed).context("carving the validation part")?;
    } else if args.valid_latest {
        split = carve_latest(split, &data.items, args.seed).context("carving each user's latest training interaction for validation")?;
    }
    let rep = split.report();
    eprintln!(
        "dataset {}: {} users, {} items, {} ratings; {} split{}: {} train, {} validation, {} test ({} test users and {} test items unseen in training)",
        data.name,
        data.n_users(),
        data.n_items(),
        data.len(),
        match args.split {
            SplitKind::Official5Fold => "official u1".to_string(),
            SplitKind::FoldsFile => "listed fold 0".to_string(),
            _ if args.folds.is_some() => format!("random fold 1 of {}", given_folds.as_ref().map_or(0, Vec::len)),
            SplitKind::ColdItems => format!("cold items (item ratio {}, seed {})", args.test_ratio, args.seed),
            _ if loo && data.interactions.timestamps().is_none() =>
                format!("leave-one-out (one random interaction per user, seed {}: no timestamps)", args.seed),
            _ if loo => "leave-one-out (latest; ties to the larger item id)".to_string(),
            _ => format!("random (test ratio {}, seed {})", args.test_ratio, args.seed),
        },
        if given_folds.is_some() { " (first fold shown)" } else { "" },
        rep.train,
        split.valid.len(),
        rep.test,
        rep.test_users_unseen,
        rep.test_items_unseen,
    );
    let negatives = if proto.sampled { Some(sampled_negatives(args, &data, &split)?) } else { None };
    if proto.sampled {
        eprintln!(
            "note: sampled metrics rank the held-out item among {} negatives and can disagree with full ranking, \
             even on the order of models (Krichene & Rendle, KDD 2020)",
            args.negatives_file.as_ref().map_or(args.negatives.to_string(), |p| format!("the listed ({})", p.display()))
        );
    }
    let clip = if args.no_clip { None } else { split.train.rating_range() };
    let mut selected = select(args.models.as_deref(), data.item_features.is_some())?;
    check_sets(&args.set, &selected)?;
    if !proto.full && !proto.sampled {
        // Top-N models (implicit feedback) have no rating to score.
        let ranking: Vec<&str> = selected.iter().filter(|e| e.feedback == Feedback::Implicit).map(|e| e.name).collect();
        if !ranking.is_empty() {
            let msg = format!(
                "{} {} items and {} no rating metrics, so {} not run: add --protocol full (or sampled, after --split leave-one-out)",
                ranking.join(", "),
                if ranking.len() == 1 { "ranks" } else { "rank" },
                if ranking.len() == 1 { "has" } else { "have" },
                if ranking.len() == 1 { "it is" } else { "they are" }
            );
            if ranking.len() == selected.len() {
                bail!("{msg}");
            }
            eprintln!("note: {msg}");
            selected.retain(|e| e.feedback != Feedback::Implicit);
        }
    }
    if cold {
        // Only side features or text say anything about an item nobody interacted with.
        let sees = |e: &ModelEntry| e.needs.item_features != Need::No || e.needs.item_text != Need::No;
        let blind: Vec<&str> = selected.iter().filter(|e| !sees(e)).map(|e| e.name).collect();
        if !blind.is_empty() {
            let seeing: Vec<&str> = CATALOGUE.iter().filter(|e| sees(e)).map(|e| e.name).collect();
            let seeing = match seeing.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                _ => seeing.join(""),
            };
            eprintln!(
                "note: {} {} no item side features: every cold item looks the same to {}, so {} ranking among them is chance (AUC 0.5) — a baseline for {seeing}",
                blind.join(", "),
                if blind.len() == 1 { "uses" } else { "use" },
                if blind.len() == 1 { "it" } else { "them" },
                if blind.len() == 1 { "its" } else { "their" }
            );
        }
    }
    if proto.rating && data.scale.1 - data.scale.0 > 20.0 {
        eprintln!(
            "note: the values span {} to {}: if they are counts (plays, clicks), rating models (RMSE) will fit them poorly or diverge; \
             rank with top-N models instead (e.g. --models popularity,als,bpr,item-knn,ease --protocol full) or pass --implicit-threshold T",
            data.scale.0, data.scale.1
        );
    }
    if args.patience.is_some() && !selected.iter().any(|e| e.is_neural()) {
        let neural: Vec<&str> = CATALOGUE.iter().filter(|e| e.is_neural()).map(|e| e.name).collect();
        bail!("--patience stops the neural models early, and none is selected ({})", neural.join(", "));
    }
    // Item text embeddings, once for every fold (and cached on disk per encoder and text).
    let text: Option<ItemEmbeddings> = if selected.iter().any(|e| e.needs.item_text != Need::No) {
        Some(item_text_embeddings(&args.text, &data, &args.backend.device())?.embeddings)
    } else {
        None
    };
    let folds = given_folds.unwrap_or_else(|| vec![split]);
    // Each user's training history in time order, for the sequential models.
    let sequential: Vec<&str> = selected.iter().filter(|e| e.needs.timestamps == Need::Required).map(|e| e.name).collect();
    let fold_sequences: Vec<Option<UserSequences>> = folds
        .iter()
        .map(|s| (!sequential.is_empty()).then(|| UserSequences::from_interactions(&s.train_and_valid()?, &data.items)).transpose())
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} read each user's history in time order", sequential.join(", ")))?;
    let mut rows = Vec::new();
    let mut fallback_note = None;
    let mut per_user_ndcg: Vec<(String, Vec<f64>)> = Vec::new();
    let mut curves: Curves = Vec::new();
    // A model that fails (diverges, does not suit the data) is reported and left out; the
    // others still run, and the command fails at the end.
    let mut failed: Vec<String> = Vec::new();
    'models: for &entry in &selected {
        let name = entry.name;
        let backend = if entry.is_neural() { args.backend.name() } else { "-" };
        let mut runs = Vec::new();
        let mut model_curves = Vec::new();
        let (mut model_fallback, mut model_ndcg) = (None, Vec::new());
        for (f, split) in folds.iter().enumerate() {
            let training = TrainingData {
                train: &split.train,
                valid: (!split.valid.is_empty()).then_some(&split.valid),
                user_features: data.user_features.as_ref(),
                item_features: data.item_features.as_ref(),
                item_text: text.as_ref(),
                sequences: fold_sequences[f].as_ref(),
            };
            let run = match evaluate_model(entry, args, &proto, &training, &split.test, negatives.as_ref(), clip) {
                Ok(run) => run,
                Err(e) => {
                    eprintln!("error: {name}{}: {e:#} (left out of the table)", if folds.len() > 1 { format!(", fold {}", f + 1) } else { String::new() });
                    failed.push(name.to_string());
                    continue 'models;
                }
            };
            if let (Some(h), 0) = (run.history.clone(), f) {
                model_curves.extend(h.into_iter().map(|(part, c)| (format!("{name} ({backend}) {part}"), c)));
            }
            if f == 0 {
                model_fallback = run.fallbacks; // the fold the header line describes
            }
            if let Some(nd) = run.per_user_ndcg {
                model_ndcg.push((name.to_string(), nd));
            }
            runs.push(run.values);
        }
        curves.extend(model_curves);
        fallback_note = model_fallback.or(fallback_note);
        per_user_ndcg.extend(model_ndcg);
        let per_fold = if runs.len() > 1 { runs.clone() } else { Vec::new() };
        rows.push(Row { model: name.to_string(), backend: backend.to_string(), values: aggregate(&runs), folds: per_fold });
    }
    if rows.is_empty() {
        bail!("every selected model failed ({})", failed.join(", "));
    }
    // Users the first model's (first fold's) full ranking evaluated.
    let evaluated = per_user_ndcg.first().map_or(0, |p| p.1.len());
    if folds.len() > 1 {
        per_user_ndcg.clear(); // a paired test across folds would mix users; see docs/evaluation.md
    }
    print!("{}", table(&rows));
    if let Some((n, uu, ui)) = fallback_note {
        println!(
            "{}{n} test ratings; {uu} with a user and {ui} with an item unseen in training \
             (predicted by the models' fallbacks, included above); predictions {}",
            if folds.len() > 1 { "first fold: " } else { "" },
            match clip {
                Some((lo, hi)) => format!("clipped to [{lo}, {hi}]"),
                None => "not clipped".into(),
            }
        );
    }
    if proto.full {
        println!(
            "{}full ranking: {evaluated} users evaluated, {} without test items excluded; {} excluded; \
             relevant = the user's test items; ties in a fixed pseudo-random item order",
            if folds.len() > 1 { "first fold: " } else { "" },
            data.n_users() - evaluated,
            if folds[0].valid.is_empty() { "training items" } else { "training and validation items" }
        );
        if args.bootstrap.is_empty() {
            significance(&per_user_ndcg, args.k);
        } else {
            for (a, b) in &args.bootstrap {
                let find = |m: &str| per_user_ndcg.iter().find(|(n, _)| n == m);
                match (find(a), find(b)) {
                    (Some(a), Some(b)) => paired(a, b, args.k),
                    _ => println!("ndcg@{}: {a} − {b}: no paired bootstrap (a model of the pair was left out or failed)", args.k),
                }
            }
        }
    }
    let write = |path: &Option<std::path::PathBuf>, text: String| -> anyhow::Result<()> {
        if let Some(p) = path {
            std::fs::write(p, text).with_context(|| format!("writing `{}`", p.display()))?;
        }
        Ok(())
    };
    write(&args.json, json(&rows)? + "\n")?;
    write(&args.csv, csv(&rows))?;
    write(&args.markdown, markdown(&rows))?;
    if let Some(dir) = &args.plots {
        let metric = if proto.full {
            format!("ndcg@{}", args.k)
        } else if proto.sampled {
            format!("sampled_ndcg@{}", args.k)
        } else {
            "rmse".to_string()
        };
        let bars: Vec<(String, f64)> = rows.iter().map(|r| (r.model.clone(), r.values.iter().find(|(k, _)| *k == metric).map_or(f64::NAN, |v| v.1))).collect();
        for f in crate::plots::write_plots(dir, &curves, &metric, &bars)? {
            eprintln!("wrote {f}");
        }
    }
    if !failed.is_empty() {
        bail!("{} of {} models failed ({}); the table shows the others", failed.len(), selected.len(), failed.join(", "));
    }
    Ok(())
}

/// What one model scored on one split.
struct Run {
    values: Vec<(String, f64)>,
    fallbacks: Option<(usize, usize, usize)>,
    per_user_ndcg: Option<Vec<f64>>,
    history: Option<Curves>,
}

/// Fits `entry` on `training` and scores it on `test` under every protocol in `proto`.
fn evaluate_model(
    entry: &ModelEntry,
    args: &CompareArgs,
    proto: &Protocols,
    training: &TrainingData,
    test: &Interactions,
    negatives: Option<&HashMap<u32, Vec<u32>>>,
    clip: Option<(f32, f32)>,
) -> anyhow::Result<Run> {
    let k = args.k;
    let start = Instant::now();
    let train = training.train;
    let settings = args.settings();
    let fitted = entry.recipe(&settings)?.fit(training, &settings).with_context(|| format!("fitting `{}`", entry.name))?;
    let (model, timing) = (fitted.model.predictor(), fitted.timing);
    let fit_s = start.elapsed().as_secs_f64();
    let mut run = Run { values: Vec::new(), fallbacks: None, per_user_ndcg: None, history: fitted.curves };
    let mut eval_s = 0.0;
    // The items a user is known to have — training and validation parts — are never
    // candidates of the ranking protocols (as in RecBole).
    let known_owned = match training.valid {
        Some(v) => Some(train.concat(v)?),
        None => None,
    };
    let known = known_owned.as_ref().unwrap_or(train);
    if proto.rating && model.feedback() == Feedback::Explicit {
        let r = evaluate_ratings(model, test, clip).context("the test part is empty")?;
        run.fallbacks = Some((r.n, r.n_unknown_user, r.n_unknown_item));
        run.values.push(("rmse".to_string(), r.rmse));
        run.values.push(("mae".to_string(), r.mae));
        eval_s += r.predict_s;
    }
    if proto.full {
        let r = match &proto.among {
            Some(items) => evaluate_full_among(model, known, test, items, k, args.block_users),
            None => evaluate_full(model, known, test, k, args.block_users),
        };
        eval_s += r.eval_s;
        run.per_user_ndcg = Some(r.per_user.iter().map(|m| m.ndcg).collect());
        push_ranking(&mut run.values, "", &r, true);
    }
    if let Some(neg) = negatives {
        let r = evaluate_sampled(model, known, test, neg, k);
        eval_s += r.eval_s;
        push_ranking(&mut run.values, "sampled_", &r, false);
    }
    if let Some(t) = timing {
        if let Some(b) = t.best_epoch {
            run.values.push(("best_epoch".to_string(), b as f64));
        }
        run.values.push(("epoch_s".to_string(), t.epoch_s));
        run.values.push(("samples_per_s".to_string(), t.samples_per_s));
    }
    if proto.among.is_some() {
        // Every cold item has no training user, so novelty@K is the same for every model.
        run.values.retain(|(key, _)| !key.starts_with("novelty@"));
    }
    run.values.push(("fit_s".to_string(), fit_s));
    // With only the rating protocol the column keeps its historical name.
    let time_key = if proto.full || proto.sampled { "eval_s" } else { "predict_s" };
    run.values.push((time_key.to_string(), eval_s));
    Ok(run)
}

/// One run: its values. Several (k-fold): the mean of each column, followed for every metric
/// (not the times) by `<name>_std`, the sample standard deviation over folds.
fn aggregate(runs: &[Vec<(String, f64)>]) -> Vec<(String, f64)> {
    if runs.len() == 1 {
        return runs[0].clone();
    }
    let n = runs.len() as f64;
    let mut out = Vec::new();
    for (c, (key, _)) in runs[0].iter().enumerate() {
        let xs: Vec<f64> = runs.iter().map(|r| r[c].1).collect();
        let mean = xs.iter().sum::<f64>() / n;
        out.push((key.clone(), mean));
        if !key.ends_with("_s") {
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            out.push((format!("{key}_std"), var.sqrt()));
        }
    }
    out
}

/// Paired bootstrap of per-user NDCG@K between the best and the runner-up model.
fn significance(per_user: &[(String, Vec<f64>)], k: usize) {
    if per_user.len() < 2 {
        return;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let mut order: Vec<usize> = (0..per_user.len()).collect();
    order.sort_by(|&a, &b| mean(&per_user[b].1).total_cmp(&mean(&per_user[a].1)));
    paired(&per_user[order[0]], &per_user[order[1]], k);
}

/// Prints the paired bootstrap of per-user NDCG@K of model `a` minus model `b`.
fn paired(a: &(String, Vec<f64>), b: &(String, Vec<f64>), k: usize) {
    if a.1.is_empty() || a.1.len() != b.1.len() {
        return;
    }
    let (d, lo, hi) = paired_bootstrap(&a.1, &b.1, 2000, 0);
    let verdict = if lo > 0.0 || hi < 0.0 { "a real difference" } else { "not distinguishable at 95 %" };
    println!("ndcg@{k}: {} − {} = {d:+.4} (95% CI {lo:+.4} .. {hi:+.4}, paired bootstrap over {} users): {verdict}", a.0, b.0, a.1.len());
}

/// Each test user's candidate negatives: from `--negatives-file`, or `--negatives` distinct
/// items sampled among those the user never interacted with (train or test), seeded.
fn sampled_negatives(args: &CompareArgs, data: &Dataset, split: &Split) -> anyhow::Result<HashMap<u32, Vec<u32>>> {
    if let Some(path) = &args.negatives_file {
        return Ok(burnrec_data::listed::read_negatives_file(path, data, &split.test)?);
    }
    let sampler = NegativeSampler::new(&data.interactions);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
    let mut users: Vec<u32> = split.test.users().to_vec();
    users.sort_unstable();
    users.dedup();
    let mut out = HashMap::new();
    let mut capped: Vec<(u32, usize)> = Vec::new();
    for u in users {
        let neg = sampler.sample_distinct(u, args.negatives, Shortfall::Cap, &mut rng)?;
        if neg.capped {
            capped.push((u, neg.items.len()));
        }
        out.insert(u, neg.items);
    }
    // One line for all the users with fewer candidates than asked (all of them when
    // `--negatives` exceeds the catalogue), naming the first few.
    if !capped.is_empty() {
        let named: Vec<String> = capped.iter().take(5).map(|&(u, n)| format!("`{}` ({n})", data.users.raw(u).unwrap_or("?"))).collect();
        eprintln!(
            "warning: {} of {} test users have fewer than {} candidate negatives and are ranked among all they have: {}{}",
            capped.len(),
            out.len(),
            args.negatives,
            named.join(", "),
            if capped.len() > 5 { ", …" } else { "" }
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_means_and_sample_std() {
        let run = |r: f64, t: f64| vec![("rmse".to_string(), r), ("fit_s".to_string(), t)];
        let a = aggregate(&[run(1.0, 2.0), run(2.0, 4.0), run(3.0, 6.0)]);
        // mean 2, sample std sqrt(((1)² + 0 + 1²) / 2) = 1; times get a mean only.
        assert_eq!(a, vec![("rmse".into(), 2.0), ("rmse_std".into(), 1.0), ("fit_s".into(), 4.0)]);
        assert_eq!(aggregate(&[run(1.5, 1.0)]), run(1.5, 1.0));
    }
}
