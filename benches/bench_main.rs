//! Criterion benchmarks: one entry per algorithm, named `<what>/<backend>/<size>`.
//!
//! Run: `cargo bench --bench bench_main` (add `-- svd_fit` to run one group). Data is
//! synthetic and generated outside the timed closures; see `docs/benchmarks.md`.

use std::hint::black_box;
use std::time::Instant;

use burn::tensor::{Int, Tensor, TensorData};
use burnrec::classic::{ContentKnnParams, TextKnnParams};
use burnrec::data::synthetic::random_ratings;
use burnrec::model::{BiasedMfModule, RatingModule};
use burnrec::prelude::*;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// A MovieLens-latest-style `ratings.csv` of `n` lines (header, CRLF, grouped by user, 100
/// ratings per user, half-star ratings, 10-digit timestamps), generated in memory.
fn ratings_csv(n: usize) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(n * 32);
    out.extend_from_slice(b"userId,movieId,rating,timestamp\r\n");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for k in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let user = k / 100 + 1;
        let item = (k % 100) * 500 + (x % 500) as usize + 1; // distinct within a user
        let rating = (x >> 20) % 10 + 1;
        let ts = 900_000_000 + (x >> 32) % 600_000_000;
        write!(out, "{user},{item},{}.{},{ts}\r\n", rating / 2, if rating % 2 == 1 { 5 } else { 0 }).unwrap();
    }
    out
}

fn bench_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.sample_size(10);
    for n in [1_000_000usize, 10_000_000] {
        let bytes = ratings_csv(n);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(format!("ml_latest_csv/-/{n}lines"), |b| {
            b.iter(|| burnrec::data::read_ratings(black_box(&bytes[..]), "bench", &DelimitedFormat::ml_latest(), &LoadOptions::default()).unwrap())
        });
    }
    g.finish();
}

const SIZES: [(usize, usize, usize); 2] = [(1_000, 2_000, 50_000), (6_000, 4_000, 200_000)];

fn bench_classic(c: &mut Criterion) {
    let mut g = c.benchmark_group("classic_fit");
    g.sample_size(10);
    for &(u, i, n) in &SIZES {
        let data = random_ratings(u, i, n, 42);
        let size = format!("{u}u-{i}i-{n}r");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("global_mean/-", &size), &data, |b, d| b.iter(|| GlobalMeanParams.fit(black_box(d)).unwrap()));
        g.bench_with_input(BenchmarkId::new("baseline_als/-", &size), &data, |b, d| b.iter(|| BaselineParams::default().fit(black_box(d)).unwrap()));
        // One SGD epoch at Surprise's default 100 factors.
        g.bench_with_input(BenchmarkId::new("svd_epoch/-", &size), &data, |b, d| {
            b.iter(|| SvdParams { n_epochs: 1, ..Default::default() }.fit(black_box(d)).unwrap())
        });
    }
    g.finish();

    // Every classic algorithm by its CLI name, default parameters, the smaller size: the fit,
    // then the prediction of 20 000 pairs (where neighbourhood models do their work).
    let (u, i, n) = SIZES[0];
    let data = random_ratings(u, i, n, 42);
    let pairs: Vec<(u32, u32)> = (0..20_000u32).map(|k| ((k * 7919) % u as u32, (k * 104_729) % i as u32)).collect();
    let size = format!("{u}u-{i}i-{n}r");
    let mut fit = c.benchmark_group("classic_fit_all");
    fit.sample_size(10);
    fit.throughput(Throughput::Elements(n as u64));
    let settings = burnrec::zoo::FitSettings { quiet: true, ..Default::default() };
    let mut fitted = Vec::new();
    for entry in burnrec::zoo::CATALOGUE.iter().filter(|e| e.family == burnrec::zoo::Family::Classic) {
        let (name, recipe) = (entry.name, entry.recipe(&settings).unwrap());
        let train = burnrec::zoo::TrainingData::of(&data);
        fit.bench_with_input(BenchmarkId::new(format!("{name}/-"), &size), &data, |b, d| {
            b.iter(|| recipe.fit(&burnrec::zoo::TrainingData::of(black_box(d)), &settings).unwrap())
        });
        fitted.push((name, recipe.fit(&train, &settings).unwrap().model));
    }
    let mut features = burnrec::data::features::FeatureBuilder::new(i);
    for item in 0..i {
        features.set(item, "genre", &format!("g{}", item % 19));
        features.set(item, "tag", &format!("t{}", (item * 31) % 200));
    }
    let features = features.build();
    fit.bench_with_input(BenchmarkId::new("content/-", &size), &data, |b, d| b.iter(|| ContentKnnParams::default().fit(black_box(d), &features).unwrap()));
    // Text KNN on 384-d item vectors (the width of all-MiniLM-L6-v2), seeded random ones.
    let text = burnrec::data::text::ItemEmbeddings::new((0..i * 384).map(|k| ((k * 7919 % 2003) as f32 / 1001.0) - 1.0).collect(), 384).unwrap();
    fit.bench_with_input(BenchmarkId::new("text-knn/-", &size), &data, |b, d| b.iter(|| TextKnnParams::default().fit(black_box(d), &text).unwrap()));
    fit.finish();
    let mut pred = c.benchmark_group("classic_predict_20k");
    pred.sample_size(10);
    pred.throughput(Throughput::Elements(pairs.len() as u64));
    for (name, model) in &fitted {
        pred.bench_function(format!("{name}/-/{size}"), |b| b.iter(|| model.predictor().predict_batch(black_box(&pairs))));
    }
    pred.finish();
}

fn bench_burn_mf(c: &mut Criterion) {
    let mut g = c.benchmark_group("burn_mf");
    g.sample_size(10);
    for backend in [Backend::Flex, Backend::Ndarray] {
        let device = backend.device();
        // One training epoch (Adam, batch 1024, 64 factors) over 200k ratings.
        let (u, i, n) = SIZES[1];
        let data = random_ratings(u, i, n, 42);
        let params = MfParams { train: TrainConfig { epochs: 1, progress: false, ..Default::default() }, ..Default::default() };
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("epoch/{backend}/{u}u-{i}i-{n}r"), |b| b.iter(|| params.fit(black_box(&data), &device).unwrap()));
        // One NeuMF epoch (paper defaults: 4 negatives, batch 256 samples) over the same data
        // taken as implicit feedback.
        let ncf = burnrec::model::NcfParams {
            train: TrainConfig { epochs: 1, batch_size: 256, lr: 0.001, l2: 0.0, seed: 42, progress: false, ..Default::default() },
            ..Default::default()
        };
        g.throughput(Throughput::Elements(n as u64 * 5));
        g.bench_function(format!("neumf_epoch/{backend}/{u}u-{i}i-{n}r"), |b| b.iter(|| ncf.fit(black_box(&data), &device).unwrap()));
        // The other implicit models, same settings: dot-product MF (BPR, one negative per
        // positive), GMF, MLP, and the deep hybrid without side features (ids only).
        for (name, kind) in [("gmf", burnrec::model::NcfKind::Gmf), ("mlp", burnrec::model::NcfKind::Mlp)] {
            let p = burnrec::model::NcfParams { kind, ..ncf.clone() };
            g.bench_function(format!("{name}_epoch/{backend}/{u}u-{i}i-{n}r"), |b| b.iter(|| p.fit(black_box(&data), &device).unwrap()));
        }
        let mf = burnrec::model::NcfParams { kind: burnrec::model::NcfKind::Mf, objective: burnrec::model::ImplicitObjective::Bpr, factors: 64, ..ncf.clone() };
        g.throughput(Throughput::Elements(n as u64 * 2));
        g.bench_function(format!("mf_bpr_epoch/{backend}/{u}u-{i}i-{n}r"), |b| b.iter(|| mf.fit(black_box(&data), &device).unwrap()));
        let deep = burnrec::model::DeepParams { train: ncf.train.clone(), ..Default::default() };
        g.throughput(Throughput::Elements(n as u64 * 5));
        g.bench_function(format!("deep_hybrid_epoch/{backend}/{u}u-{i}i-{n}r"), |b| b.iter(|| deep.fit(black_box(&data), None, None, &device).unwrap()));
        // With 384-d frozen item text embeddings (all-MiniLM-L6-v2's width) and their projection.
        let text = burnrec::data::text::ItemEmbeddings::new((0..i * 384).map(|k| ((k * 7919 % 2003) as f32 / 1001.0) - 1.0).collect(), 384).unwrap();
        g.bench_function(format!("deep_hybrid_text_epoch/{backend}/{u}u-{i}i-{n}r"), |b| {
            b.iter(|| deep.fit_validated(black_box(&data), None, None, Some(&text), None, &device).unwrap())
        });
        // One SASRec epoch (RecBole's defaults: hidden 64, 2 blocks, 2 heads, max_len 50,
        // full-softmax cross-entropy, 128 users a step) over an ML-100K-sized sequence set.
        let (su, si, sn) = (943, 1682, 100_000);
        let seq_data = random_ratings(su, si, sn, 42);
        let seqs: Vec<Vec<u32>> = {
            let mut v = vec![Vec::new(); su];
            seq_data.iter().for_each(|r| v[r.user as usize].push(r.item));
            v
        };
        let seqs = burnrec::data::sequence::UserSequences::from_ordered(seqs, si).unwrap();
        let mut sasrec = burnrec::model::SasRecParams::default();
        sasrec.train.epochs = 1;
        sasrec.train.progress = false;
        g.throughput(Throughput::Elements(seqs.trainable_users().len() as u64));
        g.bench_function(format!("sasrec_epoch/{backend}/{su}u-{si}i-{sn}r"), |b| b.iter(|| sasrec.fit(black_box(&seq_data), &seqs, None, &device).unwrap()));
        let mut gru = burnrec::model::Gru4RecParams::default();
        gru.train.epochs = 1;
        gru.train.progress = false;
        g.bench_function(format!("gru4rec_epoch/{backend}/{su}u-{si}i-{sn}r"), |b| b.iter(|| gru.fit(black_box(&seq_data), &seqs, None, &device).unwrap()));
        // Forward pass of a 4096 batch (inference).
        let module = BiasedMfModule::new(u, i, 64, 0.05, 1, &device);
        let ids: Vec<i64> = (0..4096).collect();
        let t = Tensor::<1, Int>::from_data(TensorData::new(ids, [4096]), &device);
        g.throughput(Throughput::Elements(4096));
        g.bench_function(format!("forward/{backend}/4096"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(module.forward(t.clone(), t.clone()));
                }
                device.sync().unwrap();
                start.elapsed()
            })
        });
    }
    g.finish();
}

/// One biased-MF training step (batch 4096, d 32, Adam) as the tables grow: dense updates
/// (Burn's Adam on every row) against row-sparse ones (lazy Adam on the batch's rows).
/// Larger tables: `burnrec bench embedding` (docs/benchmarks.md).
fn bench_embedding_updates(c: &mut Criterion) {
    use burnrec::model::{EmbeddingUpdate, RowOptimizer};
    let mut g = c.benchmark_group("embedding_step");
    g.sample_size(10);
    let device = Backend::Flex.device();
    for rows in [10_000usize, 100_000] {
        let data = random_ratings(rows, rows, 4096 * 4, 7);
        for (mode, update) in [("dense", EmbeddingUpdate::Dense), ("sparse", EmbeddingUpdate::Sparse(RowOptimizer::LAZY_ADAM))] {
            let p = MfParams {
                dim: 32,
                init_std: 0.05,
                train: TrainConfig { epochs: 1, batch_size: 4096, progress: false, embedding_update: update, ..Default::default() },
            };
            g.throughput(Throughput::Elements(data.len() as u64));
            g.bench_function(format!("{mode}/{rows}rows-d32-4steps"), |b| b.iter(|| p.fit(black_box(&data), &device).unwrap()));
        }
    }
    g.finish();
}

/// Serving's per-request work for a new user: the ALS fold-in solve (YᵀY precomputed) for a
/// history of 20 items, and the scores of the whole catalogue from the folded-in vector.
fn bench_fold_in(c: &mut Criterion) {
    let (u, i, n) = SIZES[0];
    let data = random_ratings(u, i, n, 42);
    let params = burnrec::classic::AlsParams { factors: 64, ..Default::default() };
    let model = params.fit(&data).unwrap();
    let k = model.factors;
    let fold = burnrec::classic::als::FoldIn::new(&model.item_factors, k, params.regularization, params.alpha);
    let history: Vec<u32> = (0..20u32).map(|j| (j * 37) % i as u32).collect();
    let mut g = c.benchmark_group("fold_in");
    g.bench_function(format!("als_solve/k{k}/history20/{i}items"), |b| b.iter(|| fold.solve(&model.item_factors, black_box(&history))));
    g.bench_function(format!("als_history_scores/k{k}/history20/{i}items"), |b| {
        b.iter(|| {
            let x = fold.solve(&model.item_factors, black_box(&history));
            model.item_factors.chunks_exact(k).map(|y| y.iter().zip(&x).map(|(a, b)| a * b).sum::<f32>()).collect::<Vec<f32>>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_parse, bench_classic, bench_burn_mf, bench_embedding_updates, bench_fold_in);
criterion_main!(benches);
