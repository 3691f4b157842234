//! Real MovieLens data. ML-100K may not be redistributed, so it is read from
//! `../shared/datasets/ml-100k` (or `$BURNREC_ML100K`) and the test is skipped with a message
//! when it is absent. The bundled ml-latest-small is always there.

use std::path::PathBuf;

use burnrec::prelude::*;

/// ML-100K's folder for `test` (skipped without it; a failure when CI requires the data).
fn ml100k_dir(test: &str) -> Option<PathBuf> {
    burnrec::data::shared::ML100K.for_test(std::path::Path::new(env!("CARGO_MANIFEST_DIR")), test)
}

#[test]
fn ml100k_loads_and_svd_beats_baseline() {
    let Some(dir) = ml100k_dir("ml100k_loads_and_svd_beats_baseline") else { return };
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

/// Issue #6: Burn's biased MF reaches RMSE ≤ 0.925 on ML-100K's u1 fold with the setting
/// chosen on 20 % of `u1.base` (examples/tune_burn_mf.rs, docs/models.md): per-rating SGD
/// (batch 128, rate 0.64, λ 0.1, 44 epochs). PyTorch's biased MF gets 0.9462 and Surprise's SVD
/// 0.9513 on this fold (../shared/peers/RESULTS.md).
#[test]
fn burn_mf_u1_rmse_with_the_tuned_setting() {
    let Some(dir) = ml100k_dir("burn_mf_u1_rmse_with_the_tuned_setting") else { return };
    let (_, u1) = burnrec::data::split::ml100k_official(&dir, "u1", &LoadOptions::default()).unwrap();
    let mut p = MfParams::default();
    p.train.optimizer = burnrec::model::OptimizerKind::Sgd;
    p.train.embedding_update = burnrec::model::EmbeddingUpdate::Sparse(burnrec::model::RowOptimizer::Sgd);
    p.train.lr = 0.64;
    p.train.batch_size = 128;
    p.train.l2 = 0.1;
    p.train.epochs = 44;
    p.train.progress = false;
    let model = p.fit(&u1.train, &Backend::Flex.device()).unwrap();
    let r = evaluate_ratings(&model, &u1.test, u1.train.rating_range()).unwrap();
    assert!(r.rmse <= 0.925, "u1 rmse {}", r.rmse);
    // Measured 0.920366 in release and debug builds alike (one thread of sparse SGD: same f32
    // arithmetic); a change to the trainer that moves it shows here.
    assert!((r.rmse - 0.920366).abs() < 1e-4, "u1 rmse {}", r.rmse);
}

#[test]
fn bundled_split_is_the_documented_one() {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default()).unwrap();
    let split = random_split(&data.interactions, 0.2, 42).unwrap();
    // round(100836 × 0.2) = 20167.
    assert_eq!((split.train.len(), split.test.len()), (80_669, 20_167));
    let base = evaluate_ratings(&BaselineParams::default().fit(&split.train).unwrap(), &split.test, split.train.rating_range()).unwrap();
    assert!(base.rmse <= 0.885, "baseline rmse {}", base.rmse);
}

#[test]
fn ml100k_official_splits_and_side_features() {
    let Some(dir) = ml100k_dir("ml100k_official_splits_and_side_features") else { return };
    let opts = LoadOptions::default();
    let (data, u1) = burnrec::data::split::ml100k_official(&dir, "u1", &opts).unwrap();
    assert_eq!((u1.train.len(), u1.test.len()), (80_000, 20_000));
    // The ratings file as PATH (as `ml-100k:PATH/u.data` allows): the split files beside it.
    let (_, u1_by_file) = burnrec::data::split::ml100k_official(&dir.join("u.data"), "u1", &opts).unwrap();
    assert_eq!(u1_by_file.test.iter().collect::<Vec<_>>(), u1.test.iter().collect::<Vec<_>>());
    let (_, ua) = burnrec::data::split::ml100k_official(&dir, "ua", &opts).unwrap();
    assert_eq!((ua.train.len(), ua.test.len()), (90_570, 9_430));
    assert!(ua.test.user_counts().iter().all(|&c| c == 10), "ua holds out 10 ratings per user");
    // Side files: u.item is Latin-1, u.user has demographics.
    let item = data.items.index("543").unwrap();
    assert_eq!(data.item_title(item), Some("Misérables, Les (1995)"));
    let genres = data.item_features.as_ref().unwrap();
    assert_eq!(genres.row_names(data.items.index("1").unwrap() as usize), ["genre=Animation", "genre=Children's", "genre=Comedy"]);
    let users = data.user_features.as_ref().unwrap();
    let mut u1_feats = users.row_names(data.users.index("1").unwrap() as usize);
    u1_feats.sort_unstable();
    assert_eq!(u1_feats, ["age=18-24", "gender=M", "occupation=technician"]);
    // Leave-one-out with the peers' tie rule holds out the same items as their published file.
    let loo = burnrec::data::split::leave_one_out(&data.interactions, &data.items).unwrap();
    assert_eq!(loo.test.len(), 943);
    let peers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/data/ml100k_loo_test_negatives99_seed0.tsv");
    if let Ok(text) = std::fs::read_to_string(&peers) {
        let held: std::collections::HashMap<u32, u32> = loo.test.iter().map(|r| (r.user, r.item)).collect();
        let mut checked = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let mut f = line.split('\t');
            let (u, i) = (f.next().unwrap(), f.next().unwrap());
            let (u, i) = (data.users.index(u).unwrap(), data.items.index(i).unwrap());
            assert_eq!(held[&u], i, "user {}", data.users.raw(u).unwrap());
            checked += 1;
        }
        assert_eq!(checked, 943);
    }
}

#[test]
fn lastfm_loads_with_known_figures() {
    let Some(dir) = burnrec::data::shared::LASTFM.for_test(std::path::Path::new(env!("CARGO_MANIFEST_DIR")), "lastfm_loads_with_known_figures") else { return };
    let data: DatasetSpec = format!("lastfm:{}", dir.display()).parse().unwrap();
    let data = data.load(&LoadOptions::default()).unwrap();
    assert_eq!((data.n_users(), data.n_items(), data.len()), (1892, 17_632, 92_834));
    assert_eq!(data.interactions.rating_range(), Some((1.0, 352_698.0)));
    assert_eq!(data.item_title(data.items.index("51").unwrap()), Some("Duran Duran"));
}
