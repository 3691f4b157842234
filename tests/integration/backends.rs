//! The Burn models (biased MF; NeuMF) train to the same result on every backend from the same
//! seed.
//!
//! wgpu needs a Vulkan/Metal/DX12 adapter. Without a GPU, Mesa's lavapipe
//! (`apt-get install mesa-vulkan-drivers`) provides one. When no Vulkan driver is installed the
//! wgpu case is skipped with a message, unless `BURNREC_REQUIRE_WGPU=1` (set by `.ci/run`).

use burnrec::data::synthetic::planted_low_rank;
use burnrec::prelude::*;

fn rmse_on(backend: Backend) -> f64 {
    let planted = planted_low_rank(80, 60, 2, 0.4, 0.1, 21);
    let split = random_split(&planted.observed, 0.2, 42).unwrap();
    let params = MfParams {
        dim: 4,
        init_std: 0.1,
        train: TrainConfig { epochs: 30, batch_size: 128, lr: 0.02, l2: 0.002, seed: 9, progress: false, ..Default::default() },
    };
    let model = params.fit(&split.train, &backend.device()).unwrap();
    evaluate_ratings(&model, &split.test, None).unwrap().rmse
}

/// Whether test `name` must skip: no Vulkan driver here (it says so on stderr), unless
/// `BURNREC_REQUIRE_WGPU=1` demands the wgpu case run.
fn skip_without_vulkan(name: &str) -> bool {
    let required = std::env::var("BURNREC_REQUIRE_WGPU").is_ok_and(|v| v == "1");
    if !required && !vulkan_driver_present() {
        eprintln!("SKIPPED {name}: no Vulkan driver (install mesa-vulkan-drivers)");
        return true;
    }
    false
}

fn vulkan_driver_present() -> bool {
    ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"].iter().any(|d| std::fs::read_dir(d).map(|mut e| e.next().is_some()).unwrap_or(false))
}

#[test]
fn ndarray_matches_flex() {
    let _rng = crate::burn_rng_lock();
    let (flex, nd) = (rmse_on(Backend::Flex), rmse_on(Backend::Ndarray));
    assert!(flex < 0.45, "flex rmse {flex}");
    assert!((flex - nd).abs() < 0.01, "flex {flex} vs ndarray {nd}");
}

#[test]
fn wgpu_matches_flex() {
    let _rng = crate::burn_rng_lock();
    if skip_without_vulkan("wgpu_matches_flex") {
        return;
    }
    let (flex, gpu) = (rmse_on(Backend::Flex), rmse_on(Backend::Wgpu));
    assert!((flex - gpu).abs() < 0.01, "flex {flex} vs wgpu {gpu}");
}

/// NeuMF scores after a short BCE training on a small two-group dataset (same seed and
/// weights on every backend; the backends differ only in floating-point summation order).
fn neumf_scores(backend: Backend) -> Vec<f32> {
    neumf_scores_with(backend, burnrec::model::EmbeddingUpdate::Dense)
}

/// [`neumf_scores`] with the tables updated by `update`.
fn neumf_scores_with(backend: Backend, update: burnrec::model::EmbeddingUpdate) -> Vec<f32> {
    use burnrec::model::NcfParams;
    let mut v = Vec::new();
    for u in 0..30u32 {
        let base = if u < 15 { 0 } else { 10 };
        for k in 0..5u32 {
            v.push(burnrec::data::Rating { user: u, item: base + (u + k * 3) % 10, rating: 1.0, timestamp: None });
        }
    }
    v.sort_by_key(|r| (r.user, r.item));
    v.dedup_by_key(|r| (r.user, r.item));
    let data = Interactions::new(v, 30, 20).unwrap();
    let params = NcfParams {
        layers: vec![16, 8],
        train: TrainConfig { epochs: 5, batch_size: 64, lr: 0.01, l2: 0.0, seed: 3, progress: false, embedding_update: update, ..Default::default() },
        ..Default::default()
    };
    let model = params.fit(&data, &backend.device()).unwrap();
    let items: Vec<u32> = (0..20).collect();
    model.score_block(&[0, 7, 16, 29], &items)
}

#[test]
fn neumf_agrees_across_cpu_backends_and_is_reproducible() {
    let _rng = crate::burn_rng_lock();
    let flex = neumf_scores(Backend::Flex);
    assert_eq!(flex, neumf_scores(Backend::Flex), "same seed, same backend: identical scores");
    let nd = neumf_scores(Backend::Ndarray);
    let worst = flex.iter().zip(&nd).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst < 1e-3, "flex vs ndarray: largest logit difference {worst}");
}

#[test]
fn neumf_wgpu_agrees_with_flex() {
    let _rng = crate::burn_rng_lock();
    if skip_without_vulkan("neumf_wgpu_agrees_with_flex") {
        return;
    }
    let (flex, gpu) = (neumf_scores(Backend::Flex), neumf_scores(Backend::Wgpu));
    let worst = flex.iter().zip(&gpu).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    // Tolerance: 1e-3 in logits after 5 epochs (different float summation order on the GPU).
    assert!(worst < 1e-3, "flex vs wgpu: largest logit difference {worst}");
}

/// Row-sparse lazy Adam keeps its tables in host buffers on flex and as device tensors on
/// wgpu (`burnrec_model::sparse`): both stores train to the same scores.
#[test]
fn sparse_tables_on_wgpu_agree_with_host_tables_on_flex() {
    use burnrec::model::{EmbeddingUpdate, RowOptimizer};
    let _rng = crate::burn_rng_lock();
    if skip_without_vulkan("sparse_tables_on_wgpu_agree_with_host_tables_on_flex") {
        return;
    }
    let update = EmbeddingUpdate::Sparse(RowOptimizer::LAZY_ADAM);
    let (flex, gpu) = (neumf_scores_with(Backend::Flex, update), neumf_scores_with(Backend::Wgpu, update));
    assert_ne!(flex, neumf_scores(Backend::Flex), "lazy Adam trains differently from dense Adam");
    let worst = flex.iter().zip(&gpu).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst < 1e-3, "flex (host tables) vs wgpu (device tables): largest logit difference {worst}");
}

/// The sequential models trained on flex (dropout off), saved, and loaded onto `backend`: the
/// scores of every user × item, recomputed there by the network (the user states come from
/// the stored sequences through the attention blocks / the GRU on the loading device).
/// Training itself is not compared across backends: the attention blocks' and the GRU's
/// initial weights (burn-nn's initialisers) and dropout masks come from each backend's own
/// generator.
fn sequential_scores_after_reload(backend: Backend) -> Vec<Vec<f32>> {
    use burnrec::data::sequence::UserSequences;
    use burnrec::model::{Gru4RecParams, SasRecParams};
    let seqs: Vec<Vec<u32>> = (0..20u32).map(|u| (0..6).map(|k| if u < 10 { (u + k) % 9 } else { (u + 54 - k) % 9 }).collect()).collect();
    let r: Vec<burnrec::data::Rating> = seqs
        .iter()
        .enumerate()
        .flat_map(|(u, s)| s.iter().map(move |&i| burnrec::data::Rating { user: u as u32, item: i, rating: 1.0, timestamp: None }))
        .collect();
    let data = Interactions::new(r, 20, 9).unwrap();
    let seqs = UserSequences::from_ordered(seqs, 9).unwrap();
    let train = TrainConfig { epochs: 5, batch_size: 8, lr: 0.01, l2: 0.0, seed: 3, progress: false, ..Default::default() };
    let flex = Backend::Flex.device();
    let sasrec = SasRecParams { hidden: 16, layers: 2, heads: 2, inner: 32, max_len: 8, dropout: 0.0, train: train.clone(), ..Default::default() };
    let gru = Gru4RecParams { embedding: 16, hidden: 12, max_len: 8, dropout: 0.0, train, ..Default::default() };
    let models = [BurnModel::SasRec(sasrec.fit(&data, &seqs, None, &flex).unwrap()), BurnModel::Gru4Rec(gru.fit(&data, &seqs, None, &flex).unwrap())];
    let ids = |n: usize| burnrec::data::IdMap::from_raw((0..n).map(|k| k.to_string()));
    let users: Vec<u32> = (0..20).collect();
    let items: Vec<u32> = (0..9).collect();
    models
        .iter()
        .map(|m| {
            let dir = tempfile::tempdir().unwrap();
            m.save(dir.path(), &ids(20), &ids(9)).unwrap();
            let (back, _, _) = BurnModel::load(dir.path(), &backend.device()).unwrap();
            let mut s = back.predictor().score_block(&users, &items);
            s.extend(back.predictor().history_scores(&[4, 3, 2]).unwrap());
            s
        })
        .collect()
}

#[test]
fn sequential_models_score_alike_on_every_backend() {
    let _rng = crate::burn_rng_lock();
    let flex = sequential_scores_after_reload(Backend::Flex);
    let mut others = vec![("ndarray", sequential_scores_after_reload(Backend::Ndarray))];
    if !skip_without_vulkan("sequential_models_score_alike_on_every_backend (wgpu)") {
        others.push(("wgpu", sequential_scores_after_reload(Backend::Wgpu)));
    }
    for (name, other) in others {
        for (model, (a, b)) in ["sasrec", "gru4rec"].iter().zip(flex.iter().zip(&other)) {
            let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
            // Tolerance: 1e-4 in logits (the same weights; float summation order differs).
            assert!(worst < 1e-4, "{model}: flex vs {name}: largest logit difference {worst}");
        }
    }
}
