//! `burnrec compare`: every model on one seeded split, one table, every protocol.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use burnrec_classic::{BaselineParams, Fit, GlobalMeanParams, SvdParams};
use burnrec_data::sampling::{NegativeSampler, Shortfall};
use burnrec_data::split::{kfold, leave_one_out};
use burnrec_data::{Dataset, Interactions, RatingPredictor, Split, random_split};
use burnrec_eval::{RankingReport, evaluate_full, evaluate_ratings, evaluate_sampled, paired_bootstrap};
use burnrec_model::{Backend, MfParams};
use rand::SeedableRng;

use crate::cli::{CompareArgs, MODELS};
use crate::report::{Row, csv, json, markdown, table};

struct Protocols {
    rating: bool,
    full: bool,
    sampled: bool,
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
    let proto = Protocols { rating: has("rating"), full: has("full"), sampled: has("sampled") };
    let loo = args.split != "random";
    if proto.sampled && !loo {
        bail!("the sampled protocol ranks each user's held-out item: use --split leave-one-out");
    }
    if args.k == 0 {
        bail!("--k must be at least 1");
    }
    let data = args.data.load()?;
    let mut split = if loo {
        leave_one_out(&data.interactions, &data.items).context("leave-one-out split")?
    } else {
        random_split(&data.interactions, args.test_ratio, args.seed).context("splitting the dataset")?
    };
    if let Some(v) = args.valid_ratio {
        // Carved from the train part only (seed + 1), so the test part is never looked at.
        let inner = random_split(&split.train, v, args.seed.wrapping_add(1)).context("carving the validation part")?;
        split = Split { train: inner.train, valid: inner.test, test: split.test };
    }
    let rep = split.report();
    eprintln!(
        "dataset {}: {} users, {} items, {} ratings; {} split: {} train, {} validation, {} test ({} test users and {} test items unseen in training)",
        data.name,
        data.n_users(),
        data.n_items(),
        data.len(),
        if loo { "leave-one-out (latest; ties to the larger item id)".to_string() } else { format!("random (test ratio {}, seed {})", args.test_ratio, args.seed) },
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
    let selected: Vec<&str> = match &args.models {
        Some(m) => MODELS.iter().copied().filter(|name| m.iter().any(|x| x == name)).collect(),
        None => MODELS.to_vec(),
    };
    let folds = match args.folds {
        Some(f) => {
            if loo || proto.sampled {
                bail!("--folds runs k-fold cross-validation on random folds: it cannot be combined with leave-one-out or the sampled protocol");
            }
            eprintln!("{f}-fold cross-validation (seed {}): each cell is the mean over folds, `_std` the sample standard deviation", args.seed);
            if args.valid_ratio.is_some() {
                bail!("--valid-ratio is not supported with --folds");
            }
            kfold(&data.interactions, f, false, args.seed).context("k-fold split")?
        }
        None => vec![split],
    };
    let mut rows = Vec::new();
    let mut fallback_note = None;
    let mut per_user_ndcg: Vec<(String, Vec<f64>)> = Vec::new();
    let mut curves: Vec<(String, Vec<(usize, f64)>)> = Vec::new();
    for name in selected {
        let backend = if name.starts_with("burn-") { args.backend.name() } else { "-" };
        let mut runs = Vec::new();
        for (f, split) in folds.iter().enumerate() {
            let run = evaluate_model(name, args, &proto, split, negatives.as_ref(), clip)?;
            if let (Some(h), 0) = (run.history.clone(), f) {
                curves.extend(h.into_iter().map(|(part, c)| (format!("{name} ({backend}) {part}"), c)));
            }
            fallback_note = run.fallbacks.or(fallback_note);
            if let Some(nd) = run.per_user_ndcg {
                per_user_ndcg.push((name.to_string(), nd));
            }
            runs.push(run.values);
        }
        rows.push(Row { model: name.to_string(), backend: backend.to_string(), values: aggregate(&runs) });
    }
    if folds.len() > 1 {
        per_user_ndcg.clear(); // a paired test across folds would mix users; see docs/evaluation.md
    }
    print!("{}", table(&rows));
    if let Some((n, uu, ui)) = fallback_note {
        println!(
            "{n} test ratings; {uu} with a user and {ui} with an item unseen in training \
             (predicted by the models' fallbacks, included above); predictions {}",
            match clip {
                Some((lo, hi)) => format!("clipped to [{lo}, {hi}]"),
                None => "not clipped".into(),
            }
        );
    }
    if proto.full {
        let evaluated = per_user_ndcg.first().map_or(0, |p| p.1.len());
        println!(
            "full ranking: {evaluated} users evaluated, {} without test items excluded; training items excluded; \
             relevant = the user's test items; ties to the smaller item index",
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
        let bars: Vec<(String, f64)> = rows
            .iter()
            .map(|r| (r.model.clone(), r.values.iter().find(|(k, _)| *k == metric).map_or(f64::NAN, |v| v.1)))
            .collect();
        for f in crate::plots::write_plots(dir, &curves, &metric, &bars)? {
            eprintln!("wrote {f}");
        }
    }
    Ok(())
}

/// What one model scored on one split.
struct Run {
    values: Vec<(String, f64)>,
    fallbacks: Option<(usize, usize, usize)>,
    per_user_ndcg: Option<Vec<f64>>,
    history: Option<Vec<(String, Vec<(usize, f64)>)>>,
}

fn evaluate_model(
    name: &str,
    args: &CompareArgs,
    proto: &Protocols,
    split: &Split,
    negatives: Option<&HashMap<u32, Vec<u32>>>,
    clip: Option<(f32, f32)>,
) -> anyhow::Result<Run> {
    let k = args.k;
    let start = Instant::now();
    let valid = (!split.valid.is_empty()).then_some(&split.valid);
    let (model, history) = fit_model(name, args, &split.train, valid).with_context(|| format!("fitting `{name}`"))?;
    let fit_s = start.elapsed().as_secs_f64();
    let mut run = Run { values: Vec::new(), fallbacks: None, per_user_ndcg: None, history };
    let mut eval_s = 0.0;
    if proto.rating {
        let r = evaluate_ratings(model.as_ref(), &split.test, clip).context("the test part is empty")?;
        run.fallbacks = Some((r.n, r.n_unknown_user, r.n_unknown_item));
        run.values.push(("rmse".to_string(), r.rmse));
        run.values.push(("mae".to_string(), r.mae));
        eval_s += r.predict_s;
    }
    if proto.full {
        let r = evaluate_full(model.as_ref(), &split.train, &split.test, k, args.block_users);
        eval_s += r.eval_s;
        run.per_user_ndcg = Some(r.per_user.iter().map(|m| m.ndcg).collect());
        push_ranking(&mut run.values, "", &r, true);
    }
    if let Some(neg) = negatives {
        let r = evaluate_sampled(model.as_ref(), &split.train, &split.test, neg, k);
        eval_s += r.eval_s;
        push_ranking(&mut run.values, "sampled_", &r, false);
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

fn push_ranking(values: &mut Vec<(String, f64)>, prefix: &str, r: &RankingReport, full: bool) {
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
    println!(
        "ndcg@{k}: {} − {} = {d:+.4} (95% CI {lo:+.4} .. {hi:+.4}, paired bootstrap over {} users): {verdict}",
        a.0,
        b.0,
        a.1.len()
    );
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
    for u in users {
        let neg = sampler.sample_distinct(u, args.negatives, Shortfall::Cap, &mut rng)?;
        if neg.capped {
            eprintln!("warning: user `{}` has only {} candidate negatives", data.users.raw(u).unwrap_or("?"), neg.items.len());
        }
        out.insert(u, neg.items);
    }
    Ok(out)
}

/// A fitted model and, for trained neural models, its RMSE per epoch on train (and on the
/// validation part when `--valid-ratio` is set).
type Fitted = (Box<dyn RatingPredictor>, Option<Vec<(String, Vec<(usize, f64)>)>>);

fn fit_model(name: &str, args: &CompareArgs, train: &Interactions, valid: Option<&Interactions>) -> anyhow::Result<Fitted> {
    Ok(match name {
        "global-mean" => (Box::new(GlobalMeanParams.fit(train)?), None),
        "baseline" => (Box::new(BaselineParams::default().fit(train)?), None),
        "svd" => {
            let mut p = SvdParams { seed: args.seed, ..Default::default() };
            if let Some(e) = args.epochs {
                p.n_epochs = e;
            }
            (Box::new(p.fit(train)?), None)
        }
        "burn-mf" => {
            let mut p = MfParams::default();
            p.train.seed = args.seed;
            p.train.progress = !args.quiet;
            if let Some(e) = args.epochs {
                p.train.epochs = e;
            }
            let m = fit_burn(args.backend, || p.fit_with_valid(train, valid, &args.backend.device()))?;
            let mut curves = vec![("train".to_string(), m.history.iter().map(|e| (e.epoch, e.train_mse.sqrt())).collect())];
            if valid.is_some() {
                curves.push(("valid".to_string(), m.history.iter().filter_map(|e| Some((e.epoch, e.valid_rmse?))).collect()));
            }
            (Box::new(m), Some(curves))
        }
        other => return Err(anyhow!("unknown model `{other}`")),
    })
}

/// Runs a Burn fit, turning a backend panic (e.g. no wgpu adapter) into an error.
fn fit_burn<T>(backend: Backend, f: impl FnOnce() -> Result<T, burnrec_model::TrainError>) -> anyhow::Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Ok(r?),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
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
    fn aggregate_means_and_sample_std() {
        let run = |r: f64, t: f64| vec![("rmse".to_string(), r), ("fit_s".to_string(), t)];
        let a = aggregate(&[run(1.0, 2.0), run(2.0, 4.0), run(3.0, 6.0)]);
        // mean 2, sample std sqrt(((1)² + 0 + 1²) / 2) = 1; times get a mean only.
        assert_eq!(a, vec![("rmse".into(), 2.0), ("rmse_std".into(), 1.0), ("fit_s".into(), 4.0)]);
        assert_eq!(aggregate(&[run(1.5, 1.0)]), run(1.5, 1.0));
    }
}
