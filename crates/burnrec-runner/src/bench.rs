//! `burnrec bench`: benchmarks that print their results (for `docs/benchmarks.md`).

use anyhow::{Context, bail};
use burnrec_data::{Interactions, Rating};
use burnrec_model::{EmbeddingUpdate, MfParams, RowOptimizer, TrainConfig};
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::cli::{EmbeddingBenchArgs, EncoderBenchArgs};
use crate::common::encoder_dir;

/// One measurement of `bench embedding`.
#[derive(Debug, Serialize)]
pub struct EmbeddingRow {
    /// Rows of each table (users = items = rows).
    pub rows: usize,
    /// `dense` or `sparse`.
    pub mode: String,
    /// Embedding width.
    pub dim: usize,
    /// Ratings per step.
    pub batch: usize,
    /// Backend name.
    pub backend: String,
    /// Median over the timed epochs (all but the first when there are several) of (epoch
    /// seconds / steps).
    pub step_s: f64,
    /// `batch / step_s`.
    pub samples_per_s: f64,
    /// Peak resident memory of the process after this measurement, MiB (Linux; includes the
    /// measurements before it).
    pub peak_rss_mib: Option<f64>,
}

/// Runs `bench embedding`: for each table size and mode, a biased MF with `rows` users and
/// `rows` items trains `repeats` epochs of `steps` steps of `batch` synthetic ratings (uniform
/// ids, seeded) — dense: Burn's Adam on the whole tables; sparse: lazy Adam on the batch's
/// rows — and the median step time is printed.
///
/// # Errors
/// Bad settings, or a training failure.
pub fn embedding(args: &EmbeddingBenchArgs) -> anyhow::Result<()> {
    if args.rows.is_empty() || args.rows.contains(&0) || args.dim == 0 || args.batch == 0 || args.steps == 0 || args.repeats == 0 {
        bail!("--rows, --dim, --batch, --steps and --repeats must all be at least 1");
    }
    let device = args.backend.device();
    let mut out = Vec::new();
    for &rows in &args.rows {
        let n = args.batch * args.steps;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(rows as u64);
        let mut ratings: Vec<Rating> = (0..n)
            .map(|_| Rating {
                user: rng.random_range(0..rows as u32),
                item: rng.random_range(0..rows as u32),
                rating: rng.random_range(1..=5) as f32,
                timestamp: None,
            })
            .collect();
        ratings.sort_by_key(|r| (r.user, r.item));
        ratings.dedup_by_key(|r| (r.user, r.item));
        let data = Interactions::new(ratings, rows, rows).context("synthetic ratings")?;
        for mode in &args.modes {
            let update = if mode == "sparse" { EmbeddingUpdate::Sparse(RowOptimizer::LAZY_ADAM) } else { EmbeddingUpdate::Dense };
            let p = MfParams {
                dim: args.dim,
                init_std: 0.05,
                train: TrainConfig { epochs: args.repeats, batch_size: args.batch, lr: 0.005, progress: false, embedding_update: update, ..Default::default() },
            };
            let model = p.fit(&data, &device).with_context(|| format!("training with {mode} updates on {rows} rows"))?;
            let steps = data.len().div_ceil(args.batch) as f64;
            // The first epoch pays for allocating optimiser state (and compiling kernels on
            // wgpu): left out when there are later ones.
            let timed = if model.history.len() > 1 { &model.history[1..] } else { &model.history[..] };
            let mut per_step: Vec<f64> = timed.iter().map(|e| e.seconds / steps).collect();
            per_step.sort_by(f64::total_cmp);
            let step_s = per_step[per_step.len() / 2];
            let row = EmbeddingRow {
                rows,
                mode: mode.clone(),
                dim: args.dim,
                batch: args.batch,
                backend: args.backend.name().to_string(),
                step_s,
                samples_per_s: args.batch as f64 / step_s,
                peak_rss_mib: model.history.last().and_then(|e| e.peak_rss_mib),
            };
            if !args.json {
                println!(
                    "rows {:>10}  {:<6}  d {:>4}  batch {:>6}  {}  step {:.4} s  ({:.0} samples/s)",
                    row.rows, row.mode, row.dim, row.batch, row.backend, row.step_s, row.samples_per_s
                );
            }
            out.push(row);
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

/// The result of `bench encoder`.
#[derive(Debug, Serialize)]
pub struct EncoderRow {
    /// Backend name.
    pub backend: String,
    /// Threads of the CPU pool (rayon; `RAYON_NUM_THREADS`).
    pub threads: usize,
    /// Texts per batch.
    pub batch_size: usize,
    /// Texts encoded per pass.
    pub texts: usize,
    /// Tokens per pass, special tokens included (after truncation).
    pub tokens: usize,
    /// Median seconds of a pass (tokenisation included).
    pub pass_s: f64,
    /// `texts / pass_s`.
    pub texts_per_s: f64,
}

/// Runs `bench encoder`: loads the encoder, builds the dataset's item texts, and times
/// `repeats` passes of [`burnrec_text::SentenceEncoder::encode`] over all of them.
///
/// # Errors
/// Bad settings, loading the data or the encoder, or encoding.
pub fn encoder(args: &EncoderBenchArgs) -> anyhow::Result<()> {
    if args.repeats == 0 {
        bail!("--repeats must be at least 1");
    }
    let data = args.data.load()?;
    let mut texts = burnrec_data::text::ItemText { max_tags: args.text.max_tags }.texts(&data);
    if let Some(n) = args.limit {
        texts.truncate(n);
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let dir = encoder_dir(&args.text)?;
    let device = args.backend.device();
    let enc = burnrec_text::SentenceEncoder::from_folder(&dir, &device).with_context(|| format!("loading the sentence encoder in {}", dir.display()))?;
    let bs = args.text.encoder_batch_size;
    let tokens: usize = refs.iter().map(|t| enc.token_ids(t).map(|v| v.len())).sum::<Result<usize, _>>()?;
    enc.encode(&refs[..bs.min(refs.len())], bs)?;
    let mut times = Vec::with_capacity(args.repeats);
    for _ in 0..args.repeats {
        let t = std::time::Instant::now();
        std::hint::black_box(enc.encode(&refs, bs)?);
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let pass_s = times[times.len() / 2];
    let row = EncoderRow {
        backend: args.backend.name().to_string(),
        threads: rayon::current_num_threads(),
        batch_size: bs,
        texts: refs.len(),
        tokens,
        pass_s,
        texts_per_s: refs.len() as f64 / pass_s,
    };
    if args.json {
        println!("{}", serde_json::to_string(&row)?);
    } else {
        println!(
            "{}: {} texts ({} tokens) in {:.3} s = {:.1} texts/s (batch {}, {} threads)",
            row.backend, row.texts, row.tokens, row.pass_s, row.texts_per_s, row.batch_size, row.threads
        );
    }
    Ok(())
}
