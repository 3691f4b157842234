//! `burnrec compare`: every model on one seeded split, one table, every protocol.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use burnrec_classic::registry::{ClassicModel, ClassicParams, RATING_MODELS, TOP_N_MODELS, set_dotted};
use burnrec_classic::{ContentKnnParams, Hybrid};
use burnrec_data::sampling::{NegativeSampler, Shortfall};
use burnrec_data::split::{cold_item_split, kfold, ml100k_official};
use burnrec_data::{Dataset, DatasetSpec, FeatureTable, Feedback, Interactions, RatingPredictor, Split, random_split};
use burnrec_eval::{RankingReport, evaluate_full, evaluate_full_among, evaluate_ratings, evaluate_sampled, paired_bootstrap};
use burnrec_model::{Backend, DeepParams, EarlyStopping, MfParams, NcfKind, NcfParams, TrainConfig, Validation};
use rand::SeedableRng;

use crate::cli::{BURN_MODELS, CompareArgs, DEFAULT_MODELS, SIDE_MODELS};

/// The dataset's side features.
#[derive(Clone, Copy)]
pub(crate) struct Side<'a> {
    pub(crate) users: Option<&'a FeatureTable>,
    pub(crate) items: Option<&'a FeatureTable>,
}

/// How every model is built and trained: the flags `compare` and `train` share.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ModelSettings<'a> {
    pub(crate) backend: Backend,
    pub(crate) seed: u64,
    pub(crate) epochs: Option<usize>,
    pub(crate) patience: Option<usize>,
    pub(crate) set: &'a [String],
    pub(crate) quiet: bool,
    pub(crate) k: usize,
    pub(crate) block_users: usize,
}

impl CompareArgs {
    fn settings(&self) -> ModelSettings<'_> {
        ModelSettings {
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

/// A fitted model of any family, kept concrete so that `train` can save it.
#[allow(clippy::large_enum_variant)] // one per loaded model, never in a collection
pub enum FittedModel {
    /// A classic model (`params` is `None` for `content` and `hybrid`, whose settings are not
    /// classic params).
    Classic {
        /// Its params (saved beside it).
        params: Option<ClassicParams>,
        /// The fitted model.
        model: ClassicModel,
    },
    /// A Burn model.
    Burn(burnrec_model::BurnModel),
}

impl FittedModel {
    /// The model as the one scoring trait.
    pub fn predictor(&self) -> &dyn RatingPredictor {
        match self {
            FittedModel::Classic { model, .. } => model,
            FittedModel::Burn(m) => m.predictor(),
        }
    }
}
use crate::report::{Row, csv, json, markdown, table};

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
    let all = args.protocol.iter().any(|p| p == "all");
    let has = |p: &str| all || args.protocol.iter().any(|x| x == p);
    let cold = args.split == "cold-items";
    let loo = args.split != "random" && !cold;
    let fixed_folds = matches!(args.split.as_str(), "official-5fold" | "folds-file");
    // `all` is every protocol the split allows: the sampled one needs leave-one-out.
    let sampled = args.protocol.iter().any(|x| x == "sampled") || (all && loo && !fixed_folds && args.folds.is_none());
    let mut proto = Protocols { rating: has("rating"), full: has("full"), sampled, among: None };
    if proto.sampled && !loo {
        bail!("the sampled protocol ranks each user's held-out item: use --split leave-one-out");
    }
    if args.k == 0 {
        bail!("--k must be at least 1");
    }
    if proto.sampled && args.negatives == 0 && args.negatives_file.is_none() {
        bail!("--negatives must be at least 1: the sampled protocol ranks the held-out item among them");
    }
    if fixed_folds && (proto.sampled || args.folds.is_some() || args.valid_ratio.is_some()) {
        bail!("--split {} brings its own folds: it cannot be combined with --folds, --valid-ratio or the sampled protocol", args.split);
    }
    if cold && (proto.sampled || args.folds.is_some()) {
        bail!("--split cold-items cannot be combined with --folds or the sampled protocol");
    }
    if args.patience.is_some() && args.valid_ratio.is_none() {
        bail!("--patience stops on the validation part: add --valid-ratio F (e.g. 0.1)");
    }
    check_training_flags(args.epochs, args.patience, args.valid_ratio)?;
    if let Some(s) = args.set.iter().find(|s| s.split_once('=').is_some_and(|(k, _)| k.ends_with(".train.early_stopping")))
        && args.valid_ratio.is_none()
    {
        bail!("--set `{s}`: early stopping needs a validation part: add --valid-ratio F (e.g. 0.1), or use --patience N with it");
    }
    if args.negatives_file.is_some() && !proto.sampled {
        bail!("--negatives-file lists the candidates of the sampled protocol: add --protocol sampled (with --split leave-one-out)");
    }
    if args.folds_file.is_some() != (args.split == "folds-file") {
        bail!("--folds-file PATH goes with --split folds-file (and that split needs the file)");
    }
    let filtered = args.data.implicit_threshold.is_some() || args.data.min_user_interactions > 1 || args.data.min_item_interactions > 1;
    if filtered && (fixed_folds || args.negatives_file.is_some()) {
        bail!(
            "{} refers to ratings of the unfiltered data: it cannot be combined with --implicit-threshold, --min-user-interactions or --min-item-interactions, which drop some",
            if fixed_folds { format!("--split {}", args.split) } else { "--negatives-file".to_string() }
        );
    }
    // Every `--set` is checked before the data loads (with every model a group could select;
    // again below with the models actually selected).
    let maybe = selected_models(args.models.as_deref(), true);
    check_sets(&args.set, &maybe)?;
    for name in &maybe {
        model_params(name, &args.settings())?;
    }
    let (data, given_folds) = match args.split.as_str() {
        "official-5fold" => {
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
        "folds-file" => {
            let data = args.data.load()?;
            let path = args.folds_file.as_ref().expect("checked above");
            let folds = folds_from_file(path, &data)?;
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
        None if loo => crate::product::loo_split(&data, args.seed, false)?,
        None => random_split(&data.interactions, args.test_ratio, args.seed).context("splitting the dataset")?,
    };
    if let Some(v) = args.valid_ratio {
        split = carve_validation(split, v, args.seed)?;
    }
    let rep = split.report();
    eprintln!(
        "dataset {}: {} users, {} items, {} ratings; {} split{}: {} train, {} validation, {} test ({} test users and {} test items unseen in training)",
        data.name,
        data.n_users(),
        data.n_items(),
        data.len(),
        match args.split.as_str() {
            "official-5fold" => "official u1".to_string(),
            "folds-file" => "listed fold 0".to_string(),
            _ if args.folds.is_some() => format!("random fold 1 of {}", given_folds.as_ref().map_or(0, Vec::len)),
            "cold-items" => format!("cold items (item ratio {}, seed {})", args.test_ratio, args.seed),
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
    let mut selected = selected_models(args.models.as_deref(), data.item_features.is_some());
    let side = Side { users: data.user_features.as_ref(), items: data.item_features.as_ref() };
    // (Every model's settings were checked before loading, with a superset of these models.)
    check_sets(&args.set, &selected)?;
    if !proto.full && !proto.sampled {
        // Top-N models (implicit feedback) have no rating to score.
        let ranking: Vec<&str> = selected.iter().map(String::as_str).filter(|m| *m != "burn-mf" && !RATING_MODELS.contains(m)).collect();
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
            let ranking: Vec<String> = ranking.iter().map(|m| m.to_string()).collect();
            selected.retain(|m| !ranking.contains(m));
        }
    }
    if cold {
        // Only side features say anything about an item nobody interacted with.
        let blind: Vec<&str> = selected.iter().map(String::as_str).filter(|m| !matches!(*m, "content" | "hybrid" | "deep-hybrid")).collect();
        if !blind.is_empty() {
            eprintln!(
                "note: {} {} no item side features: every cold item looks the same to {}, so {} ranking among them is chance (AUC 0.5) — a baseline for content, hybrid and deep-hybrid",
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
    if args.patience.is_some() && !selected.iter().any(|m| BURN_MODELS.contains(&m.as_str())) {
        bail!("--patience stops the neural models early, and none is selected ({})", BURN_MODELS.join(", "));
    }
    let folds = given_folds.unwrap_or_else(|| vec![split]);
    let mut rows = Vec::new();
    let mut fallback_note = None;
    let mut per_user_ndcg: Vec<(String, Vec<f64>)> = Vec::new();
    let mut curves: Curves = Vec::new();
    // A model that fails (diverges, does not suit the data) is reported and left out; the
    // others still run, and the command fails at the end.
    let mut failed: Vec<String> = Vec::new();
    'models: for name in selected.iter().map(String::as_str) {
        let backend = if BURN_MODELS.contains(&name) { args.backend.name() } else { "-" };
        let mut runs = Vec::new();
        let mut model_curves = Vec::new();
        let (mut model_fallback, mut model_ndcg) = (None, Vec::new());
        for (f, split) in folds.iter().enumerate() {
            let run = match evaluate_model(name, args, &proto, split, negatives.as_ref(), clip, &side) {
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
            "{}full ranking: {evaluated} users evaluated, {} without test items excluded; training items excluded; \
             relevant = the user's test items; ties in a fixed pseudo-random item order",
            if folds.len() > 1 { "first fold: " } else { "" },
            data.n_users() - evaluated
        );
        significance(&per_user_ndcg, args.k);
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

fn evaluate_model(
    name: &str,
    args: &CompareArgs,
    proto: &Protocols,
    split: &Split,
    negatives: Option<&HashMap<u32, Vec<u32>>>,
    clip: Option<(f32, f32)>,
    side: &Side<'_>,
) -> anyhow::Result<Run> {
    let k = args.k;
    let start = Instant::now();
    let valid = (!split.valid.is_empty()).then_some(&split.valid);
    let (fitted, history, timing) = fit_model(name, &args.settings(), &split.train, valid, side).with_context(|| format!("fitting `{name}`"))?;
    let model = fitted.predictor();
    let fit_s = start.elapsed().as_secs_f64();
    let mut run = Run { values: Vec::new(), fallbacks: None, per_user_ndcg: None, history };
    let mut eval_s = 0.0;
    if proto.rating && model.feedback() == Feedback::Explicit {
        let r = evaluate_ratings(model, &split.test, clip).context("the test part is empty")?;
        run.fallbacks = Some((r.n, r.n_unknown_user, r.n_unknown_item));
        run.values.push(("rmse".to_string(), r.rmse));
        run.values.push(("mae".to_string(), r.mae));
        eval_s += r.predict_s;
    }
    if proto.full {
        let r = match &proto.among {
            Some(items) => evaluate_full_among(model, &split.train, &split.test, items, k, args.block_users),
            None => evaluate_full(model, &split.train, &split.test, k, args.block_users),
        };
        eval_s += r.eval_s;
        run.per_user_ndcg = Some(r.per_user.iter().map(|m| m.ndcg).collect());
        push_ranking(&mut run.values, "", &r, true);
    }
    if let Some(neg) = negatives {
        let r = evaluate_sampled(model, &split.train, &split.test, neg, k);
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

pub(crate) fn push_ranking(values: &mut Vec<(String, f64)>, prefix: &str, r: &RankingReport, full: bool) {
    let k = r.k;
    values.push((format!("{prefix}hr@{k}"), r.hr));
    values.push((format!("{prefix}ndcg@{k}"), r.ndcg));
    if full {
        values.push((format!("precision@{k}"), r.precision));
        values.push((format!("recall@{k}"), r.recall));
        values.push((format!("map@{k}"), r.map));
        values.push((format!("mrr@{k}"), r.mrr));
        values.push(("auc".to_string(), r.auc));
        values.push((format!("coverage@{k}"), r.coverage));
        values.push((format!("novelty@{k}"), r.novelty));
    }
}

/// Paired bootstrap of per-user NDCG@K between the best and the runner-up model.
fn significance(per_user: &[(String, Vec<f64>)], k: usize) {
    if per_user.len() < 2 {
        return;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let mut order: Vec<usize> = (0..per_user.len()).collect();
    order.sort_by(|&a, &b| mean(&per_user[b].1).total_cmp(&mean(&per_user[a].1)));
    let (a, b) = (&per_user[order[0]], &per_user[order[1]]);
    if a.1.is_empty() || a.1.len() != b.1.len() {
        return;
    }
    let (d, lo, hi) = paired_bootstrap(&a.1, &b.1, 2000, 0);
    let verdict = if lo > 0.0 { "a real difference" } else { "not distinguishable at 95 %" };
    println!("ndcg@{k}: {} − {} = {d:+.4} (95% CI {lo:+.4} .. {hi:+.4}, paired bootstrap over {} users): {verdict}", a.0, b.0, a.1.len());
}

/// Each test user's candidate negatives: from `--negatives-file`, or `--negatives` distinct
/// items sampled among those the user never interacted with (train or test), seeded.
fn sampled_negatives(args: &CompareArgs, data: &Dataset, split: &Split) -> anyhow::Result<HashMap<u32, Vec<u32>>> {
    if let Some(path) = &args.negatives_file {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading `{}`", path.display()))?;
        let mut out = HashMap::new();
        let held: HashMap<u32, u32> = split.test.iter().map(|r| (r.user, r.item)).collect();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let at = |what: &str| format!("{}:{}: {what}", path.display(), n + 1);
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() != 3 {
                bail!(at("expected `user<TAB>heldout_item<TAB>neg,neg,…`"));
            }
            let u = data.users.index(f[0]).ok_or_else(|| anyhow!(at(&format!("unknown user `{}`", f[0]))))?;
            let h = data.items.index(f[1]).ok_or_else(|| anyhow!(at(&format!("unknown item `{}`", f[1]))))?;
            if held.get(&u) != Some(&h) {
                bail!(at(&format!("user `{}`: the file holds out item `{}`, the split holds out another", f[0], f[1])));
            }
            let negs = f[2]
                .split(',')
                .map(|raw| data.items.index(raw.trim()).ok_or_else(|| anyhow!(at(&format!("unknown item `{raw}`")))))
                .collect::<anyhow::Result<Vec<u32>>>()?;
            out.insert(u, negs);
        }
        return Ok(out);
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

/// A fitted model, its training curves (neural models: training RMSE or loss per epoch, and the
/// validation RMSE or NDCG@K when `--valid-ratio` is set) and its epoch timing.
type Fitted = (FittedModel, Option<Curves>, Option<EpochTiming>);

/// Named learning curves: (name, [(epoch, value)]).
type Curves = Vec<(String, Vec<(usize, f64)>)>;

/// Median seconds per epoch and samples per second of a neural model's training, over its
/// epochs (the first left out when there are several: it allocates the optimiser state).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct EpochTiming {
    epoch_s: f64,
    samples_per_s: f64,
    /// The epoch early stopping kept, when it was on.
    best_epoch: Option<usize>,
}

impl EpochTiming {
    fn of(history: &[burnrec_model::EpochLog], best_epoch: Option<usize>) -> Option<Self> {
        let timed = if history.len() > 1 { &history[1..] } else { history };
        let median = |f: &dyn Fn(&burnrec_model::EpochLog) -> f64| {
            let mut v: Vec<f64> = timed.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied()
        };
        Some(Self { epoch_s: median(&|e| e.seconds)?, samples_per_s: median(&|e| e.samples_per_s)?, best_epoch })
    }
}

/// The settings of one model, built from its defaults and the CLI (`--seed`, `--epochs`,
/// `--set`, …) and checked — before anything trains (see [`model_params`]).
enum ModelParams {
    /// `content`, or `hybrid` with its ALS part.
    Side {
        content: ContentKnnParams,
        als: Option<ClassicParams>,
    },
    Ncf(NcfParams),
    Deep(DeepParams),
    Mf(MfParams),
    Classic(ClassicParams),
}

/// The params of model `name`: the one place that maps a model name to its settings, used to
/// check every selected model before the first one trains and then to fit each.
fn model_params(name: &str, args: &ModelSettings<'_>) -> anyhow::Result<ModelParams> {
    Ok(if SIDE_MODELS.contains(&name) {
        let content = apply_sets("content", ContentKnnParams::default(), args.set)?;
        content.check().map_err(|e| anyhow!("`content`: {e}"))?;
        let als = if name == "hybrid" { Some(classic_params("als", args)?) } else { None };
        ModelParams::Side { content, als }
    } else if let Some(kind) = ncf_kind(name) {
        // NcfParams serves every kind: settings of the parts a kind does not have are refused
        // rather than silently ignored.
        let unused: &[&str] = match kind {
            NcfKind::Gmf | NcfKind::Mf => &["layers", "dropout", "pretrain"],
            NcfKind::Mlp => &["factors", "pretrain"],
            NcfKind::NeuMf => &[],
        };
        for s in args.set {
            let key = s.split_once('=').map_or(s.as_str(), |(k, _)| k);
            if let Some(param) = key.strip_prefix(name).and_then(|k| k.strip_prefix('.'))
                && unused.contains(&param)
            {
                bail!(
                    "--set `{s}`: `{param}` does not apply to `{name}` (it sets {}; only neumf has every part)",
                    match param {
                        "layers" | "dropout" => "the MLP tower of mlp and neumf",
                        "factors" => "the GMF part of gmf, neumf and mf",
                        _ => "neumf's pretraining from gmf and mlp",
                    }
                );
            }
        }
        ModelParams::Ncf(burn_params(name, NcfParams { kind, ..Default::default() }, |p| &mut p.train, NcfParams::check, args)?)
    } else if name == "deep-hybrid" {
        ModelParams::Deep(burn_params(name, DeepParams::default(), |p| &mut p.train, DeepParams::check, args)?)
    } else if name == "burn-mf" {
        ModelParams::Mf(burn_params(name, MfParams::default(), |p| &mut p.train, MfParams::check, args)?)
    } else {
        ModelParams::Classic(classic_params(name, args)?)
    })
}

pub(crate) fn fit_model(name: &str, args: &ModelSettings<'_>, train: &Interactions, valid: Option<&Interactions>, side: &Side<'_>) -> anyhow::Result<Fitted> {
    // The validation metric of the neural models: NDCG@K (full ranking of the validation
    // part against `train`) for implicit models.
    let ndcg = valid.map(|v| Validation {
        name: format!("ndcg@{}", args.k),
        higher_is_better: true,
        score: Box::new(move |p: &dyn burnrec_data::RatingPredictor| evaluate_full(p, train, v, args.k, args.block_users).ndcg),
    });
    let curves = |h: &[burnrec_model::EpochLog], train_name: &str, train_of: &dyn Fn(f64) -> f64, valid_name: &str| {
        let mut c = vec![(train_name.to_string(), h.iter().map(|e| (e.epoch, train_of(e.train_loss))).collect::<Vec<_>>())];
        if h.iter().any(|e| e.valid.is_some()) {
            c.push((valid_name.to_string(), h.iter().filter_map(|e| Some((e.epoch, e.valid?))).collect()));
        }
        Some(c)
    };
    let implicit_curves = |h: &[burnrec_model::EpochLog]| curves(h, "train loss", &|l| l, &format!("valid ndcg@{}", args.k));
    // Early stopping says where it stopped and which epoch it kept.
    let stopped = |h: &[burnrec_model::EpochLog], best: Option<usize>, metric: &str| {
        if let (Some(best), Some(last), false) = (best, h.last(), args.quiet) {
            let v = h.iter().find(|e| e.epoch == best).and_then(|e| e.valid).unwrap_or(f64::NAN);
            eprintln!("{name}: early stopping ran {} epochs and kept epoch {best} (validation {metric} {v:.4})", last.epoch);
        }
    };
    Ok(match model_params(name, args)? {
        ModelParams::Side { content, als } => {
            let features = side.items.ok_or_else(|| anyhow!("`{name}` needs item side features (genres, tags); this dataset has none"))?;
            let model = match als {
                None => ClassicModel::Content(content.fit(train, features)?),
                Some(als) => ClassicModel::Hybrid(fit_hybrid(args, als, &content, train, valid, features)?),
            };
            (FittedModel::Classic { params: None, model }, None, None)
        }
        ModelParams::Ncf(p) => {
            let m = fit_burn(args.backend, || p.fit_validated(train, ndcg.as_ref(), &args.backend.device()))?;
            stopped(&m.history, m.best_epoch, &format!("ndcg@{}", args.k));
            let (c, t) = (implicit_curves(&m.history), EpochTiming::of(&m.history, m.best_epoch));
            (FittedModel::Burn(burnrec_model::BurnModel::Ncf(m)), c, t)
        }
        ModelParams::Deep(p) => {
            let m = fit_burn(args.backend, || p.fit_validated(train, side.users, side.items, ndcg.as_ref(), &args.backend.device()))?;
            stopped(&m.history, m.best_epoch, &format!("ndcg@{}", args.k));
            let (c, t) = (implicit_curves(&m.history), EpochTiming::of(&m.history, m.best_epoch));
            (FittedModel::Burn(burnrec_model::BurnModel::Deep(m)), c, t)
        }
        ModelParams::Mf(p) => {
            let m = fit_burn(args.backend, || p.fit_with_valid(train, valid, &args.backend.device()))?;
            stopped(&m.history, m.best_epoch, "rmse");
            let (c, t) = (curves(&m.history, "train", &f64::sqrt, "valid"), EpochTiming::of(&m.history, m.best_epoch));
            (FittedModel::Burn(burnrec_model::BurnModel::Mf(m)), c, t)
        }
        ModelParams::Classic(params) => {
            let model = params.fit(train)?;
            (FittedModel::Classic { params: Some(params), model }, None, None)
        }
    })
}

/// A Burn model's params: `base` with the CLI's training settings (`train` finds them), then
/// every `--set name.…`; checked by `check`.
fn burn_params<T: serde::Serialize + serde::de::DeserializeOwned>(
    name: &str,
    mut base: T,
    train: impl Fn(&mut T) -> &mut TrainConfig,
    check: impl Fn(&T) -> Result<(), burnrec_model::TrainError>,
    args: &ModelSettings<'_>,
) -> anyhow::Result<T> {
    neural_train(train(&mut base), args);
    let p = apply_sets(name, base, args.set)?;
    check(&p).map_err(|e| anyhow!("`{name}`: {e}"))?;
    Ok(p)
}

/// The CLI's settings of a neural model's training: `--seed`, `--quiet`, `--epochs`,
/// `--patience` — applied to the defaults before `--set`, so a `--set MODEL.train.KEY` wins.
fn neural_train(t: &mut TrainConfig, args: &ModelSettings<'_>) {
    t.seed = args.seed;
    t.progress = !args.quiet;
    if let Some(e) = args.epochs {
        t.epochs = e;
    }
    if let Some(p) = args.patience {
        t.early_stopping = Some(EarlyStopping { patience: p, min_delta: 0.0 });
    }
}

/// The classic params of `name`: defaults, `--seed`, `--epochs` (as `n_epochs` or
/// `iterations`, where the model has one), then every `--set name.key=value` in order.
pub(crate) fn classic_params(name: &str, args: &ModelSettings<'_>) -> anyhow::Result<ClassicParams> {
    let mut p = ClassicParams::default_for(name).map_err(|e| anyhow!(e))?.with_seed(args.seed);
    if let Some(e) = args.epochs {
        let fields = p.params_json();
        for key in ["n_epochs", "iterations"] {
            if fields.get(key).is_some() {
                p = p.set(key, &e.to_string()).map_err(|e| anyhow!(e))?;
            }
        }
    }
    for s in args.set {
        let (target, value) = s.split_once('=').ok_or_else(|| anyhow!("--set `{s}`: expected MODEL.PARAM=VALUE"))?;
        let (model, key) = target.split_once('.').ok_or_else(|| anyhow!("--set `{s}`: expected MODEL.PARAM=VALUE"))?;
        if model == name {
            p = p.set(key, value).map_err(|e| anyhow!("--set `{s}`: {e}"))?;
        }
    }
    Ok(p)
}

/// Every `--set MODEL.PARAM=VALUE` must name a selected model (or a part of `hybrid`), so a
/// typo cannot silently run the defaults.
fn check_sets(sets: &[String], selected: &[String]) -> anyhow::Result<()> {
    let hybrid = selected.iter().any(|m| m == "hybrid");
    for s in sets {
        let model = s.split_once('.').map_or(s.as_str(), |(m, _)| m);
        if model == "hybrid" {
            bail!("--set `{s}`: the hybrid is set through its parts, `als.…` and `content.…`");
        }
        if matches!(model, "mf" | "gmf" | "mlp" | "neumf") && s.contains(".kind=") {
            bail!("--set `{s}`: the model name chooses the kind");
        }
        let part_of_hybrid = hybrid && (model == "als" || model == "content");
        if !selected.iter().any(|m| m == model) && !part_of_hybrid {
            bail!("--set `{s}`: `{model}` is not among the models run ({}); check the spelling or add it to --models", selected.join(", "));
        }
    }
    Ok(())
}

/// `defaults` with every `--set NAME.PATH=VALUE` for `name` applied (PATH dotted into nested
/// params, VALUE JSON or a bare word), through serde so that unknown names and wrong types are
/// errors naming them.
fn apply_sets<T: serde::Serialize + serde::de::DeserializeOwned>(name: &str, defaults: T, sets: &[String]) -> anyhow::Result<T> {
    let mut v = serde_json::to_value(defaults)?;
    for s in sets {
        let Some(rest) = s.strip_prefix(name).and_then(|r| r.strip_prefix('.')) else { continue };
        let (key, value) = rest.split_once('=').ok_or_else(|| anyhow!("--set `{s}`: expected MODEL.PARAM=VALUE"))?;
        set_dotted(&mut v, name, key, value).map_err(|e| anyhow!("--set `{s}`: {e}"))?;
        // Read back after each one, so that the error names the `--set` at fault.
        T::deserialize(&v).map_err(|e| {
            // A bare name where a setting with parameters needs its JSON object.
            let hint = if e.to_string().contains("expected struct variant") {
                format!(" (this choice takes parameters, as a JSON object: e.g. --set '{name}.{key}={{\"NAME\":{{…}}}}'; see docs/models.md)")
            } else {
                String::new()
            };
            anyhow!("--set `{s}`: `{name}`: cannot set `{key}` = {value}: {e}{hint}")
        })?;
    }
    serde_json::from_value(v).map_err(|e| anyhow!("--set {name}.…: {e}"))
}

/// The weighted hybrid of ALS (its defaults plus `--set als.…`) and the content model: the
/// weight on ALS is chosen from 0, 0.1, …, 1 by NDCG@K on the validation part (`--valid-ratio`,
/// else 10 % of the training part carved with seed + 2), then both models are refitted on the
/// whole training part.
fn fit_hybrid(
    args: &ModelSettings<'_>,
    cf: ClassicParams,
    content: &ContentKnnParams,
    train: &Interactions,
    valid: Option<&Interactions>,
    features: &FeatureTable,
) -> anyhow::Result<Hybrid> {
    let (inner_train, inner_valid) = match valid {
        Some(v) => (train.clone(), v.clone()),
        None => {
            let s = random_split(train, 0.1, args.seed.wrapping_add(2)).context("carving the hybrid's validation part")?;
            (s.train, s.test)
        }
    };
    let grid: Vec<f32> = (0..=10).map(|k| k as f32 / 10.0).collect();
    let (nu, ni) = (train.n_users(), train.n_items());
    let probe = Hybrid::new(cf.fit(&inner_train)?, ClassicModel::Content(content.fit(&inner_train, features)?), 0.5, nu, ni)?;
    let (chosen, tried) = probe.tune(&grid, |h| evaluate_full(h, &inner_train, &inner_valid, args.k, args.block_users).ndcg)?;
    if !args.quiet {
        let line: Vec<String> = tried.iter().map(|(w, m)| format!("{w:.1}: {m:.4}")).collect();
        eprintln!("hybrid: validation NDCG@{} by weight on ALS — {}; chose {:.1}", args.k, line.join(", "), chosen.weight);
    }
    let mut hybrid = Hybrid::new(cf.fit(train)?, ClassicModel::Content(content.fit(train, features)?), chosen.weight, nu, ni)?;
    hybrid.a_params = Some(cf);
    Ok(hybrid)
}

/// The checks of the neural-training flags `compare` and `train` share: `--epochs` and
/// `--patience` at least 1, `--valid-ratio` in (0, 1).
///
/// # Errors
/// Naming the flag and what it expects.
pub(crate) fn check_training_flags(epochs: Option<usize>, patience: Option<usize>, valid_ratio: Option<f64>) -> anyhow::Result<()> {
    if epochs == Some(0) || patience == Some(0) {
        bail!("--{} must be at least 1", if epochs == Some(0) { "epochs" } else { "patience" });
    }
    if let Some(v) = valid_ratio
        && !(v > 0.0 && v < 1.0)
    {
        bail!("--valid-ratio {v}: expected a fraction of the training part, in (0, 1)");
    }
    Ok(())
}

/// `split` with a validation part of `ratio` carved from its training part (seeded by
/// `seed + 1`), so the test part is never looked at; models train on the rest.
///
/// # Errors
/// If the training part cannot be split that way.
pub(crate) fn carve_validation(split: Split, ratio: f64, seed: u64) -> anyhow::Result<Split> {
    let inner = random_split(&split.train, ratio, seed.wrapping_add(1)).context("carving the validation part")?;
    Ok(Split { train: inner.train, valid: inner.test, test: split.test })
}

/// The NCF-family model a name selects (`mf`, `gmf`, `mlp`, `neumf`).
fn ncf_kind(name: &str) -> Option<NcfKind> {
    match name {
        "gmf" => Some(NcfKind::Gmf),
        "mlp" => Some(NcfKind::Mlp),
        "neumf" => Some(NcfKind::NeuMf),
        "mf" => Some(NcfKind::Mf),
        _ => None,
    }
}

/// `--models` expanded (groups → their members; the groups include the side-feature models
/// only when the dataset has item features), duplicates dropped, order kept; the default set
/// when not given.
fn selected_models(models: Option<&[String]>, has_features: bool) -> Vec<String> {
    let Some(models) = models else { return DEFAULT_MODELS.iter().map(|s| s.to_string()).collect() };
    let side: &[&str] = if has_features { &SIDE_MODELS } else { &[] };
    let mut out: Vec<String> = Vec::new();
    for m in models {
        let members: Vec<&str> = match m.as_str() {
            "all-classic" => RATING_MODELS.iter().chain(TOP_N_MODELS).chain(side).copied().collect(),
            "all-rating" => RATING_MODELS.to_vec(),
            "all-top-n" => TOP_N_MODELS.iter().chain(side).copied().collect(),
            one => vec![one],
        };
        for x in members {
            if !out.iter().any(|o| o == x) {
                out.push(x.to_string());
            }
        }
    }
    out
}

/// Folds from a `user<TAB>item<TAB>fold` file: fold `f`'s test part is the ratings listed
/// with `f`, its train part all the others.
fn folds_from_file(path: &std::path::Path, data: &Dataset) -> anyhow::Result<Vec<Split>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading `{}`", path.display()))?;
    let inter = &data.interactions;
    let pos: HashMap<(u32, u32), usize> = inter.users().iter().zip(inter.items()).enumerate().map(|(k, (&u, &i))| ((u, i), k)).collect();
    let mut fold_of = vec![usize::MAX; inter.len()];
    let mut header_skipped = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let at = |what: String| anyhow!("{}:{}: {what}", path.display(), n + 1);
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 3 {
            return Err(at(format!("expected `user<TAB>item<TAB>fold`, found {} fields", f.len())));
        }
        let Ok(fold) = f[2].trim().parse::<u32>().map(|f| f as usize) else {
            if !header_skipped {
                header_skipped = true;
                continue;
            }
            return Err(at(format!("fold `{}` is not a fold number (0, 1, 2, …)", f[2])));
        };
        let u = data.users.index(f[0]).ok_or_else(|| at(format!("user `{}` is not in the dataset", f[0])))?;
        let i = data.items.index(f[1]).ok_or_else(|| at(format!("item `{}` is not in the dataset", f[1])))?;
        let k = *pos.get(&(u, i)).ok_or_else(|| at(format!("user `{}` never rated item `{}` in the dataset", f[0], f[1])))?;
        if fold_of[k] != usize::MAX {
            return Err(at(format!("user `{}`, item `{}` is listed twice", f[0], f[1])));
        }
        fold_of[k] = fold;
    }
    if let Some(k) = fold_of.iter().position(|&f| f == usize::MAX) {
        let r = inter.get(k);
        bail!(
            "`{}` does not list the rating of user `{}` for item `{}`: every rating needs a fold",
            path.display(),
            data.users.raw(r.user).unwrap_or("?"),
            data.items.raw(r.item).unwrap_or("?")
        );
    }
    let n_folds = fold_of.iter().max().map_or(0, |m| m + 1);
    if n_folds < 2 || n_folds > inter.len() {
        bail!("`{}` lists folds 0…{}: expected 2 or more folds, numbered from 0, at most one per rating", path.display(), n_folds.saturating_sub(1));
    }
    let mut sizes = vec![0usize; n_folds];
    for &f in &fold_of {
        sizes[f] += 1;
    }
    if let Some(empty) = sizes.iter().position(|&n| n == 0) {
        bail!("`{}` lists folds up to {} but none numbered {empty}: folds must be numbered 0…K−1 without gaps", path.display(), n_folds - 1);
    }
    Ok((0..n_folds)
        .map(|f| {
            let (test, train): (Vec<usize>, Vec<usize>) = (0..inter.len()).partition(|&k| fold_of[k] == f);
            Split { train: inter.select(&train), valid: inter.select(&[]), test: inter.select(&test) }
        })
        .collect())
}

/// Runs a Burn fit, turning a backend panic (e.g. no wgpu adapter) into an error.
fn fit_burn<T>(backend: Backend, f: impl FnOnce() -> Result<T, burnrec_model::TrainError>) -> anyhow::Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Ok(r?),
        Err(panic) => {
            let msg = panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied()).unwrap_or("unknown panic");
            let hint = if backend == Backend::Wgpu {
                " (wgpu needs a Vulkan, Metal or DX12 adapter; on Linux without a GPU install \
                 Mesa's software Vulkan: `apt-get install mesa-vulkan-drivers`)"
            } else {
                ""
            };
            Err(anyhow!("the {backend} backend failed: {msg}{hint}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_timing_is_the_median_after_the_first_epoch() {
        let log = |epoch, seconds, samples_per_s| burnrec_model::EpochLog {
            epoch,
            train_loss: 1.0,
            seconds,
            samples_per_s,
            lr: 0.1,
            valid: None,
            peak_rss_mib: None,
        };
        // The first epoch (9 s) is left out; the median of 2, 4, 3 is 3.
        let h = [log(1, 9.0, 10.0), log(2, 2.0, 50.0), log(3, 4.0, 25.0), log(4, 3.0, 33.0)];
        assert_eq!(EpochTiming::of(&h, None), Some(EpochTiming { epoch_s: 3.0, samples_per_s: 33.0, best_epoch: None }));
        assert_eq!(EpochTiming::of(&h[..1], Some(1)), Some(EpochTiming { epoch_s: 9.0, samples_per_s: 10.0, best_epoch: Some(1) }));
        assert_eq!(EpochTiming::of(&[], None), None);
    }

    #[test]
    fn aggregate_means_and_sample_std() {
        let run = |r: f64, t: f64| vec![("rmse".to_string(), r), ("fit_s".to_string(), t)];
        let a = aggregate(&[run(1.0, 2.0), run(2.0, 4.0), run(3.0, 6.0)]);
        // mean 2, sample std sqrt(((1)² + 0 + 1²) / 2) = 1; times get a mean only.
        assert_eq!(a, vec![("rmse".into(), 2.0), ("rmse_std".into(), 1.0), ("fit_s".into(), 4.0)]);
        assert_eq!(aggregate(&[run(1.5, 1.0)]), run(1.5, 1.0));
    }
}
