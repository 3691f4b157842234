//! Real MovieLens data. ML-100K may not be redistributed, so it is read from
//! `../shared/datasets/ml-100k` (or `$BURNREC_ML100K`) and the test is skipped with a message
//! when it is absent. The bundled ml-latest-small is always there.

use std::path::PathBuf;

use burnrec::prelude::*;

fn ml100k_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("BURNREC_ML100K")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/ml-100k"));
    dir.join("u.data").is_file().then_some(dir)
}

#[test]
fn ml100k_loads_and_svd_beats_baseline() {
    let Some(dir) = ml100k_dir() else {
        eprintln!("SKIPPED ml100k_loads_and_svd_beats_baseline: ML-100K not found (set BURNREC_ML100K)");
        return;
    };
    let data: DatasetSpec = format!("ml-100k:{}", dir.display()).parse().unwrap();
    let data = data.load(&LoadOptions::default()).unwrap();
    // The release's own u.info: 943 users, 1682 items, 100000 ratings.
    assert_eq!((data.n_users(), data.n_items(), data.len()), (943, 1682, 100_000));
    let mean = data.interactions.global_mean().unwrap();
    assert!((mean - 3.52986).abs() < 1e-5, "mean {mean}");
    let split = random_split(&data.interactions, 0.2, 42).unwrap();
    let clip = split.train.rating_range();
    assert_eq!(clip, Some((1.0, 5.0)));
    let base = evaluate_ratings(&BaselineParams::default().fit(&split.train).unwrap(), &split.test, clip).unwrap();
    let svd = evaluate_ratings(&SvdParams::default().fit(&split.train).unwrap(), &split.test, clip).unwrap();
    // Surprise 1.1.5 measured on this machine (../shared/peers/RESULTS.md), official u1..u5
    // folds: BaselineOnly 0.9457, SVD 0.9380. Issue #2 asks SVD ≤ 0.945 on a random 80/20 split.
    assert!(base.rmse < 0.955, "baseline rmse {}", base.rmse);
    assert!(svd.rmse < 0.945, "svd rmse {}", svd.rmse);
}

#[test]
fn bundled_split_is_the_documented_one() {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default()).unwrap();
    let split = random_split(&data.interactions, 0.2, 42).unwrap();
    // round(100836 × 0.2) = 20167.
    assert_eq!((split.train.len(), split.test.len()), (80_669, 20_167));
    let base = evaluate_ratings(
        &BaselineParams::default().fit(&split.train).unwrap(),
        &split.test,
        split.train.rating_range(),
    )
    .unwrap();
    assert!(base.rmse <= 0.885, "baseline rmse {}", base.rmse);
}
