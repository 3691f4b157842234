//! Tests of the neighbourhood models against hand-computed values and Surprise's formulas.

use super::*;

use burnrec_data::RatingPredictor;

use crate::Fit;
use crate::error::FitError;
use crate::util::fixtures::tiny;

fn params(kind: KnnKind, name: SimilarityName, user_based: bool) -> KnnParams {
    KnnParams { kind, sim: Similarity { name, user_based, ..Default::default() }, ..Default::default() }
}

fn close(a: f32, b: f64) -> bool {
    (f64::from(a) - b).abs() < 2e-5
}

/// The training set's missing cells, predicted in the table below.
const PAIRS: [(u32, u32); 6] = [(0, 3), (1, 1), (1, 4), (2, 2), (3, 0), (3, 3)];

#[test]
fn similarities_by_hand() {
    let t = tiny();
    let msd = params(KnnKind::Basic, SimilarityName::Msd, true).fit(&t).unwrap();
    // u0, u1 share i0 (5, 4) and i2 (4, 5): msd = (1 + 1)/2 = 1 → 1/(1 + 1) = 0.5.
    // u0, u2 share i0 (5, 1), i1 (3, 2), i4 (1, 5): msd = (16 + 1 + 16)/3 = 11 → 1/12.
    // u0, u3 share i1 (3, 4), i2 (4, 3), i4 (1, 2): msd = 3/3 = 1 → 0.5.
    assert!(close(msd.similarity(0, 1), 0.5) && close(msd.similarity(1, 0), 0.5));
    assert!(close(msd.similarity(0, 2), 1.0 / 12.0) && close(msd.similarity(0, 3), 0.5));
    assert_eq!(msd.similarity(2, 2), 1.0);
    assert_eq!(msd.neighbours(0).0, &[1, 2, 3]);
    assert_eq!(msd.neighbours(4), (&[][..], &[][..])); // no ratings, no neighbours
    // Item-based: i3, i4 share u2 (4, 5) → 1/(1 + 1) = 0.5.
    let msd_i = params(KnnKind::Basic, SimilarityName::Msd, false).fit(&t).unwrap();
    assert!(close(msd_i.similarity(3, 4), 0.5));

    // cosine(u0, u1) = (5·4 + 4·5) / √((25 + 16)(16 + 25)) = 40/41.
    let cos = params(KnnKind::Basic, SimilarityName::Cosine, true).fit(&t).unwrap();
    assert!(close(cos.similarity(0, 1), 40.0 / 41.0));

    // pearson(u0, u3) over i1, i2, i4: n = 3, Σab = 26, Σa = 8, Σb = 9, Σa² = 26, Σb² = 29:
    // (3·26 − 8·9) / √((3·26 − 64)(3·29 − 81)) = 6/√84 = 0.6546537.
    // pearson(u0, u1) over i0 (5, 4), i2 (4, 5) = −1: not kept (only positive ones are).
    let pe = params(KnnKind::Basic, SimilarityName::Pearson, true).fit(&t).unwrap();
    assert!(close(pe.similarity(0, 3), 6.0 / 84f64.sqrt()));
    assert_eq!(pe.similarity(0, 1), 0.0);
    assert_eq!(pe.neighbours(0).0, &[3]);

    // pearson_baseline(u0, u3): residuals d = r − (μ + b_u + b_i) with the ALS biases, times
    // the shrinkage (3 − 1)/(3 − 1 + 100); value from a direct transcription of Surprise's
    // loops: 0.011733869.
    let pb = params(KnnKind::Basic, SimilarityName::PearsonBaseline, true).fit(&t).unwrap();
    assert!(close(pb.similarity(0, 3), 0.011733869), "{}", pb.similarity(0, 3));
    // min_support: with 3, u0–u1 (2 common items) drops to 0, u0–u3 (3) stays.
    let mut p = params(KnnKind::Basic, SimilarityName::Msd, true);
    p.sim.min_support = 3;
    let m = p.fit(&t).unwrap();
    assert_eq!((m.similarity(0, 1), m.similarity(0, 3)), (0.0, 0.5));
}

#[test]
fn basic_predictions_by_hand() {
    let t = tiny();
    // User-based MSD, (u0, i3): raters of i3 are u1 (2, sim 1/2) and u2 (4, sim 1/12):
    // (2/2 + 4/12) / (1/2 + 1/12) = (4/3)/(7/12) = 16/7.
    let m = params(KnnKind::Basic, SimilarityName::Msd, true).fit(&t).unwrap();
    assert!(close(m.predict(0, 3).rating, 16.0 / 7.0));
    // Item-based MSD, (u0, i3): u0 rated i0 (5), i1 (3), i2 (4), i4 (1), with similarities
    // to i3 of 2/15, 1/5, 1/10, 1/2: (2/3 + 3/5 + 2/5 + 1/2)/(14/15) = (13/6)(15/14) = 65/28.
    let m = params(KnnKind::Basic, SimilarityName::Msd, false).fit(&t).unwrap();
    assert!(close(m.predict(0, 3).rating, 65.0 / 28.0));
    // k = 1: only u1 (sim 1/2, the larger) → 2.
    let mut p = params(KnnKind::Basic, SimilarityName::Msd, true);
    p.k = 1;
    assert!(close(p.fit(&t).unwrap().predict(0, 3).rating, 2.0));
}

#[test]
fn every_kind_and_similarity_matches_surprise() {
    // r̂ for PAIRS from a line-by-line Python transcription of Surprise's knns.py and
    // similarities.pyx (dense matrices, heapq-ordered neighbours, ALS baselines with
    // Surprise's defaults) on the same data. Pearson rows where no neighbour has a positive
    // similarity give μ = 3.214286 (Basic) or the row mean (WithMeans, WithZScore).
    use KnnKind::*;
    use SimilarityName::*;
    #[rustfmt::skip]
    let table: [(KnnKind, SimilarityName, bool, [f64; 6]); 32] = [
        (Basic, Msd, true, [2.285714, 3.080000, 1.880000, 4.000000, 4.120000, 2.800000]),
        (Basic, Msd, false, [2.321429, 4.101449, 2.851351, 2.157895, 3.268657, 2.625000]),
        (Basic, Cosine, true, [2.672080, 3.132961, 2.371902, 3.948933, 3.519216, 2.855448]),
        (Basic, Cosine, false, [3.082607, 3.639475, 3.514896, 2.968051, 3.236361, 3.000000]),
        (Basic, Pearson, true, [3.214286, 3.214286, 3.214286, 3.214286, 5.000000, 3.214286]),
        (Basic, Pearson, false, [3.214286, 4.000000, 3.214286, 3.214286, 4.000000, 3.214286]),
        (Basic, PearsonBaseline, true, [2.000000, 3.000000, 1.000000, 3.214286, 5.000000, 3.214286]),
        (Basic, PearsonBaseline, false, [3.214286, 4.000000, 3.214286, 1.000000, 3.498774, 3.214286]),
        (WithMeans, Msd, true, [1.964286, 3.596667, 2.396667, 3.686508, 3.810000, 2.400000]),
        (WithMeans, Msd, false, [2.345238, 3.497585, 2.261261, 3.070175, 3.033167, 2.708333]),
        (WithMeans, Cosine, true, [2.479440, 3.706762, 2.945703, 3.654370, 3.183919, 2.473931]),
        (WithMeans, Cosine, false, [2.840579, 3.199832, 2.732851, 3.960986, 3.198824, 2.777778]),
        (WithMeans, Pearson, true, [3.250000, 3.666667, 3.666667, 3.000000, 4.750000, 3.000000]),
        (WithMeans, Pearson, false, [3.000000, 3.666667, 2.666667, 4.000000, 4.333333, 3.000000]),
        (WithMeans, PearsonBaseline, true, [1.583333, 3.416667, 1.416667, 3.000000, 4.750000, 3.000000]),
        (WithMeans, PearsonBaseline, false, [3.000000, 3.666667, 2.666667, 1.666667, 3.330882, 3.000000]),
        (WithZScore, Msd, true, [1.689553, 3.780572, 2.414060, 3.834828, 3.466780, 2.551905]),
        (WithZScore, Msd, false, [2.614772, 3.434408, 2.027545, 3.374750, 2.758715, 2.907948]),
        (WithZScore, Cosine, true, [2.252071, 3.974501, 2.771178, 3.790676, 3.134008, 2.596472]),
        (WithZScore, Cosine, false, [2.906205, 3.152404, 2.850356, 3.938773, 3.174713, 2.869256]),
        (WithZScore, Pearson, true, [3.250000, 3.666667, 3.666667, 3.000000, 3.966092, 3.000000]),
        (WithZScore, Pearson, false, [3.000000, 3.320256, 2.666667, 4.000000, 5.414999, 3.000000]),
        (WithZScore, PearsonBaseline, true, [1.273576, 3.455848, 1.769300, 3.000000, 3.966092, 3.000000]),
        (WithZScore, PearsonBaseline, false, [3.000000, 3.320256, 2.666667, 2.879103, 3.328230, 3.000000]),
        (Baseline, Msd, true, [2.239579, 3.157362, 1.957362, 3.951650, 4.070057, 2.738099]),
        (Baseline, Msd, false, [2.334960, 3.967130, 2.713435, 2.363220, 3.211057, 2.651279]),
        (Baseline, Cosine, true, [2.645632, 3.219849, 2.458790, 3.903418, 3.466152, 2.796373]),
        (Baseline, Cosine, false, [3.036379, 3.541055, 3.336171, 3.189778, 3.223149, 2.957400]),
        (Baseline, Pearson, true, [3.181560, 3.236185, 3.159262, 3.357203, 4.958029, 3.139588]),
        (Baseline, Pearson, false, [3.181560, 3.930974, 3.159262, 3.357203, 4.069026, 3.139588]),
        (Baseline, PearsonBaseline, true, [1.939306, 3.060694, 1.060694, 3.357203, 4.958029, 3.139588]),
        (Baseline, PearsonBaseline, false, [3.181560, 3.930974, 3.159262, 1.153904, 3.456062, 3.139588]),
    ];
    let t = tiny();
    for (kind, name, ub, want) in table {
        let m = params(kind, name, ub).fit(&t).unwrap();
        let got = m.predict_batch(&PAIRS);
        for (k, (p, w)) in got.iter().zip(want).enumerate() {
            assert!(close(p.rating, w), "{kind:?} {name:?} user_based={ub} pair {:?}: {} vs {w}", PAIRS[k], p.rating);
            assert!(p.known_user && p.known_item);
        }
    }
}

#[test]
fn min_k_forces_the_fallback() {
    // (u0, i3), user-based MSD has 2 positive neighbours; min_k = 3 drops the neighbour term:
    // Basic → μ = 45/14; WithMeans and WithZScore → μ_u0 = 13/4; Baseline → μ + b_u0 + b_i3.
    let t = tiny();
    let with = |kind| KnnParams { min_k: 3, ..params(kind, SimilarityName::Msd, true) }.fit(&t).unwrap().predict(0, 3);
    assert!(close(with(KnnKind::Basic).rating, 45.0 / 14.0));
    assert!(close(with(KnnKind::WithMeans).rating, 3.25));
    assert!(close(with(KnnKind::WithZScore).rating, 3.25));
    assert!(close(with(KnnKind::Baseline).rating, 3.181560));
    let b = params(KnnKind::Baseline, SimilarityName::Msd, true).fit(&t).unwrap();
    assert!(close(with(KnnKind::Baseline).rating, f64::from(b.mu + b.bu[0] + b.bi[3])));
    // min_k = 2 is met: the neighbour term is back (value from the table).
    let p = KnnParams { min_k: 2, ..params(KnnKind::WithMeans, SimilarityName::Msd, true) };
    assert!(close(p.fit(&t).unwrap().predict(0, 3).rating, 1.964286));
}

#[test]
fn unknown_users_and_items_fall_back() {
    let t = tiny();
    let mu = 45.0 / 14.0;
    for kind in [KnnKind::Basic, KnnKind::WithMeans, KnnKind::WithZScore] {
        let m = params(kind, SimilarityName::Msd, true).fit(&t).unwrap();
        let p = m.predict(4, 0);
        assert!(close(p.rating, mu) && !p.known_user && p.known_item, "{kind:?}");
        let p = m.predict(0, 5);
        assert!(close(p.rating, mu) && p.known_user && !p.known_item, "{kind:?}");
        let p = m.predict(99, 99);
        assert!(close(p.rating, mu) && p.is_fallback(), "{kind:?}");
    }
    // KNNBaseline: the baseline, an unknown side's bias counted as zero.
    let m = params(KnnKind::Baseline, SimilarityName::Msd, true).fit(&t).unwrap();
    assert!(close(m.predict(4, 0).rating, f64::from(m.mu + m.bi[0])));
    assert!(close(m.predict(0, 5).rating, f64::from(m.mu + m.bu[0])));
    assert!(close(m.predict(4, 5).rating, mu));
}

#[test]
fn max_neighbours_keeps_the_most_similar() {
    let t = tiny();
    // MSD row u2: u0 1/12, u1 2/15, u3 2/15. Keeping 2 drops u0; keeping 1 keeps the tie
    // broken towards the smaller index, u1.
    let fit = |m| KnnParams { max_neighbours: Some(m), ..params(KnnKind::Basic, SimilarityName::Msd, true) }.fit(&t).unwrap();
    let m2 = fit(2);
    assert_eq!(m2.neighbours(2).0, &[1, 3]);
    assert!(close(m2.neighbours(2).1[0], 2.0 / 15.0) && close(m2.neighbours(2).1[1], 2.0 / 15.0));
    assert_eq!(m2.similarity(2, 0), 0.0);
    let m1 = fit(1);
    assert_eq!(m1.neighbours(2).0, &[1]);
    // Row u0: u1 1/2, u2 1/12, u3 1/2 → u1.
    assert_eq!(m1.neighbours(0).0, &[1]);
    assert_eq!(m1.n_stored_pairs(), 4);
    assert_eq!(fit(9).n_stored_pairs(), 12);
    // Automatic: all kept below AUTO_KEEP_ALL_ROWS rows, max(10 k, 200) above.
    let p = KnnParams::default();
    assert_eq!(p.effective_max_neighbours(AUTO_KEEP_ALL_ROWS), None);
    assert_eq!(p.effective_max_neighbours(AUTO_KEEP_ALL_ROWS + 1), Some(400));
    assert_eq!(KnnParams { k: 5, ..p.clone() }.effective_max_neighbours(50_000), Some(200));
    assert_eq!(KnnParams { max_neighbours: Some(7), ..p }.effective_max_neighbours(3), Some(7));
}

#[test]
fn truncation_is_the_exact_top_of_the_full_rows() {
    // MSD on uniform random 1–5 ratings has many tied similarities: the truncated rows must
    // be the `m` best of the full rows by (similarity, then the smaller index).
    let data = burnrec_data::synthetic::random_ratings(150, 60, 3_000, 11);
    let full = params(KnnKind::Basic, SimilarityName::Msd, true).fit(&data).unwrap();
    for m in [1, 3, 7, 40] {
        let cut = KnnParams { max_neighbours: Some(m), ..params(KnnKind::Basic, SimilarityName::Msd, true) };
        let cut = cut.fit(&data).unwrap();
        for x in 0..150 {
            let (idx, sim) = full.neighbours(x);
            let mut best: Vec<(u32, f32)> = idx.iter().copied().zip(sim.iter().copied()).collect();
            best.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            best.truncate(m);
            best.sort_by_key(|b| b.0);
            let (ci, cs) = cut.neighbours(x);
            assert_eq!(ci, best.iter().map(|b| b.0).collect::<Vec<_>>(), "row {x}, m = {m}");
            assert_eq!(cs, best.iter().map(|b| b.1).collect::<Vec<_>>(), "row {x}, m = {m}");
        }
    }
}

#[test]
fn sort_desc_sorts() {
    let mut state = 99u64;
    for len in [0usize, 1, 2, 5, 16, 17, 40, 1000, 5000] {
        let mut v: Vec<u64> = (0..len as u64)
            .map(|k| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 40) << 20 | k
            })
            .collect();
        let mut want = v.clone();
        want.sort_unstable_by(|a, b| b.cmp(a));
        sort_desc(&mut v);
        assert_eq!(v, want, "len {len}");
        // Already sorted, and reversed, inputs.
        sort_desc(&mut v);
        assert_eq!(v, want);
        v.reverse();
        sort_desc(&mut v);
        assert_eq!(v, want);
    }
}

#[test]
fn select_top_puts_the_largest_first() {
    let mut state = 12345u64;
    for len in [1usize, 2, 3, 10, 100, 1000] {
        let mut v: Vec<u64> = (0..len as u64)
            .map(|k| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 40) << 20 | k
            })
            .collect();
        let mut sorted = v.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        for m in [1, len / 2, len.saturating_sub(1)] {
            if m == 0 || m >= len {
                continue;
            }
            select_top(&mut v, m);
            let mut top = v[..m].to_vec();
            top.sort_unstable_by(|a, b| b.cmp(a));
            assert_eq!(top, sorted[..m], "len {len}, m {m}");
        }
    }
}

#[test]
fn memory_estimate_bounds_the_storage_and_the_limit_is_enforced() {
    let t = tiny();
    let p = KnnParams::default();
    let m = p.fit(&t).unwrap();
    assert!(p.memory_estimate(&t) >= 8 * m.n_stored_pairs() as u64);
    let data = burnrec_data::synthetic::random_ratings(600, 300, 20_000, 3);
    let p = KnnParams { memory_limit_mib: 1, ..Default::default() };
    assert!(p.memory_estimate(&data) > 1 << 20);
    match p.fit(&data) {
        Err(FitError::Memory { limit_mib: 1, hint, .. }) => assert!(hint.contains("max_neighbours"), "{hint}"),
        other => panic!("expected a memory error, got {other:?}"),
    }
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let data = burnrec_data::synthetic::random_ratings(120, 80, 2_000, 5);
    let p = KnnParams {
        kind: KnnKind::Baseline,
        sim: Similarity { name: SimilarityName::Pearson, ..Default::default() },
        max_neighbours: Some(10),
        ..Default::default()
    };
    let pairs: Vec<(u32, u32)> = (0..120).flat_map(|u| (0..80).step_by(7).map(move |i| (u, i))).collect();
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let m = p.fit(&data).unwrap();
            let preds = m.predict_batch(&pairs);
            (m, preds)
        })
    };
    let (m1, p1) = run(1);
    let (m3, p3) = run(3);
    assert_eq!(m1, m3);
    assert_eq!(p1, p3);
    // The batch keeps the order of the pairs.
    for (k, &(u, i)) in pairs.iter().enumerate().step_by(37) {
        assert_eq!(p1[k], m1.predict(u, i));
    }
}

#[test]
fn save_load_gives_identical_predictions() {
    let t = tiny();
    for kind in [KnnKind::Basic, KnnKind::WithMeans, KnnKind::WithZScore, KnnKind::Baseline] {
        let m = params(kind, SimilarityName::PearsonBaseline, false).fit(&t).unwrap();
        let back: Knn = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        let pairs = [(0, 3), (1, 1), (4, 0), (2, 5)];
        assert_eq!(m.predict_batch(&pairs), back.predict_batch(&pairs));
    }
    let p = params(KnnKind::WithZScore, SimilarityName::Cosine, false);
    let json = serde_json::to_string(&p).unwrap();
    assert!(json.contains("\"with_zscore\"") && json.contains("\"cosine\""), "{json}");
    assert_eq!(serde_json::from_str::<KnnParams>(&json).unwrap(), p);
    let q: KnnParams = serde_json::from_str(r#"{"k": 20, "sim": {"name": "pearson_baseline"}}"#).unwrap();
    assert_eq!((q.k, q.sim.name, q.sim.user_based, q.sim.shrinkage), (20, SimilarityName::PearsonBaseline, true, 100.0));
    assert!(serde_json::from_str::<KnnParams>(r#"{"kk": 20}"#).is_err());
}

#[test]
fn legacy_neighbour_lists_still_load() {
    // Model files before the one sparse-row type wrote `neighbors` as a list of rows.
    let m = params(KnnKind::Basic, SimilarityName::Msd, true).fit(&tiny()).unwrap();
    let mut v = serde_json::to_value(&m).unwrap();
    let rows: Vec<serde_json::Value> = (0..5).map(|x| serde_json::json!({"idx": m.neighbours(x).0, "sim": m.neighbours(x).1})).collect();
    let o = v.as_object_mut().unwrap();
    o.remove("neighbours");
    o.insert("neighbors".into(), rows.into());
    let back: Knn = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(back, m);
    // A legacy row out of order is refused, naming the row.
    v["neighbors"][0] = serde_json::json!({"idx": [3, 2, 1], "sim": [0.5, 0.5, 0.5]});
    let e = serde_json::from_value::<Knn>(v).unwrap_err().to_string();
    assert!(e.contains("row 0 are not sorted"), "{e}");
}

#[test]
fn bad_params_are_named() {
    let bad = |p: KnnParams| p.check().unwrap_err().name;
    assert_eq!(bad(KnnParams { k: 0, ..Default::default() }), "k");
    assert_eq!(bad(KnnParams { k: 3, min_k: 4, ..Default::default() }), "min_k");
    assert_eq!(bad(KnnParams { max_neighbours: Some(0), ..Default::default() }), "max_neighbours");
    assert_eq!(bad(KnnParams { memory_limit_mib: 0, ..Default::default() }), "memory_limit_mib");
    let mut p = KnnParams::default();
    p.sim.shrinkage = -1.0;
    assert_eq!(bad(p), "shrinkage");
    let p = KnnParams { baseline: BaselineParams { n_epochs: 0, ..Default::default() }, ..Default::default() };
    assert_eq!(bad(p.clone()), "n_epochs");
    assert!(matches!(p.fit(&tiny()), Err(FitError::Param(_))));
    let empty = Interactions::new(vec![], 2, 2).unwrap();
    assert!(matches!(KnnParams::default().fit(&empty), Err(FitError::EmptyTrainSet)));
}
