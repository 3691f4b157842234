//! `burnrec data stats` and `burnrec fetch`.

use std::io::Write;

use anyhow::Context;
use burnrec_data::fetch::{self, FetchOptions};
use burnrec_data::stats::DatasetStats;

use crate::cli::{FetchArgs, StatsArgs};

/// Prints the statistics of a dataset (text, or JSON with `--json`).
///
/// # Errors
/// Loading errors.
pub fn stats(args: &StatsArgs) -> anyhow::Result<()> {
    let opts = args.data.load_options()?;
    let data = args.data.load()?;
    let stats = DatasetStats::of(&data, &opts);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        print!("{}", stats.to_text());
    }
    Ok(())
}

/// Downloads, verifies and unpacks an archive, printing progress on stderr.
///
/// # Errors
/// Unknown names, network, checksum and filesystem errors.
pub fn fetch(args: &FetchArgs) -> anyhow::Result<()> {
    let mut opts = match &args.cache_dir {
        Some(d) => FetchOptions::with_cache_dir(d),
        None => FetchOptions::new()?,
    };
    opts.force = args.force;
    opts.url = args.url.clone();
    opts.expected_sha256 = args.sha256.clone();
    if let Some(m) = burnrec_data::fetch_model::model(&args.name) {
        if args.sha256.is_some() {
            anyhow::bail!("--sha256: every file of a model has its own pinned checksum");
        }
        let mut last = (String::new(), u64::MAX);
        let dir = burnrec_data::fetch_model::fetch_files(m, &opts, &mut |file, done, total| {
            let mb = done >> 20;
            if (file, mb) != (last.0.as_str(), last.1) {
                last = (file.to_string(), mb);
                eprint!("\rdownloading {} {file}: {mb} / {} MiB   ", args.name, total.map_or(0, |t| t >> 20));
                let _ = std::io::stderr().flush();
            }
        })
        .with_context(|| format!("fetching `{}`", args.name))?;
        eprintln!();
        println!("{} is ready in {} (every file's sha256 verified); it is now the default --encoder", args.name, dir.display());
        return Ok(());
    }
    let mut last_mb = u64::MAX;
    let dir = fetch::fetch_with_progress(&args.name, &opts, |done, total| {
        let mb = done >> 20;
        if mb != last_mb {
            last_mb = mb;
            match total {
                Some(t) => eprint!("\rdownloading {}: {mb} / {} MiB", args.name, t >> 20),
                None => eprint!("\rdownloading {}: {mb} MiB", args.name),
            }
            let _ = std::io::stderr().flush();
        }
    })
    .with_context(|| format!("fetching `{}`", args.name))?;
    eprintln!();
    println!("{} is ready in {} (verified sha256); use it as --dataset {}", args.name, dir.display(), args.name);
    Ok(())
}
