//! `burnrec compare`: every model on one seeded split, one table.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use anyhow::{Context, anyhow};
use burnrec_classic::{BaselineParams, Fit, GlobalMeanParams, SvdParams};
use burnrec_data::{Interactions, RatingPredictor, random_split};
use burnrec_eval::evaluate_ratings;
use burnrec_model::{Backend, MfParams};

use crate::cli::{CompareArgs, MODELS};
use crate::report::{Row, json, table};

/// Runs `compare`: loads the data, splits it, fits each selected model, prints the table on
/// stdout (and a note on fallbacks), and writes `--json` if asked.
///
/// # Errors
/// Data, split, fit, backend and output errors, each with context.
pub fn compare(args: &CompareArgs) -> anyhow::Result<()> {
    let data = args.data.load()?;
    let split = random_split(&data.interactions, args.test_ratio, args.seed).context("splitting the dataset")?;
    eprintln!(
        "dataset {}: {} users, {} items, {} ratings; random split (test ratio {}, seed {}): {} train, {} test",
        data.name,
        data.n_users(),
        data.n_items(),
        data.len(),
        args.test_ratio,
        args.seed,
        split.train.len(),
        split.test.len()
    );
    let clip = if args.no_clip { None } else { split.train.rating_range() };
    let selected: Vec<&str> = match &args.models {
        Some(m) => MODELS.iter().copied().filter(|name| m.iter().any(|x| x == name)).collect(),
        None => MODELS.to_vec(),
    };
    let mut rows = Vec::new();
    let mut fallback_note = None;
    for name in selected {
        let start = Instant::now();
        let model = fit_model(name, args, &split.train).with_context(|| format!("fitting `{name}`"))?;
        let fit_s = start.elapsed().as_secs_f64();
        let report = evaluate_ratings(model.as_ref(), &split.test, clip).context("the test part is empty")?;
        fallback_note = Some((report.n, report.n_unknown_user, report.n_unknown_item));
        let backend = if name.starts_with("burn-") { args.backend.name() } else { "-" };
        rows.push(Row {
            model: name.to_string(),
            backend: backend.to_string(),
            rmse: report.rmse,
            mae: report.mae,
            fit_s,
            predict_s: report.predict_s,
        });
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
    if let Some(path) = &args.json {
        std::fs::write(path, json(&rows)? + "\n").with_context(|| format!("writing `{}`", path.display()))?;
    }
    Ok(())
}

fn fit_model(name: &str, args: &CompareArgs, train: &Interactions) -> anyhow::Result<Box<dyn RatingPredictor>> {
    Ok(match name {
        "global-mean" => Box::new(GlobalMeanParams.fit(train)?),
        "baseline" => Box::new(BaselineParams::default().fit(train)?),
        "svd" => {
            let mut p = SvdParams { seed: args.seed, ..Default::default() };
            if let Some(e) = args.epochs {
                p.n_epochs = e;
            }
            Box::new(p.fit(train)?)
        }
        "burn-mf" => {
            let mut p = MfParams::default();
            p.train.seed = args.seed;
            p.train.progress = !args.quiet;
            if let Some(e) = args.epochs {
                p.train.epochs = e;
            }
            Box::new(fit_burn(args.backend, || p.fit(train, &args.backend.device()))?)
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
