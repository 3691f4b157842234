//! data → classic | model → eval on a planted dataset written to a real CSV file.

use std::io::Write;

use burnrec::data::synthetic::planted_low_rank;
use burnrec::prelude::*;

/// Writes `observed` as `user;item;rating` lines with string ids and a header.
fn write_csv(data: &Interactions) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    writeln!(f, "who;what;stars").unwrap();
    for r in data.iter() {
        writeln!(f, "u{};i{};{}", r.user, r.item, r.rating).unwrap();
    }
    f
}

#[test]
fn csv_to_models_to_metrics() {
    let _rng = crate::burn_rng_lock();
    let planted = planted_low_rank(150, 100, 3, 0.3, 0.1, 5);
    let file = write_csv(&planted.observed);
    let csv = DelimitedFormat { sep: ";".into(), header: true, ..DelimitedFormat::csv() };
    let spec: DatasetSpec = format!("csv:{}", file.path().display()).parse().unwrap();
    let data = spec.load(&LoadOptions { csv, ..Default::default() }).unwrap();
    assert_eq!(data.len(), planted.observed.len());
    // Ids round-trip through the file: raw "u7" names the planted user 7.
    let first = data.interactions.get(0);
    let raw = data.users.raw(first.user).unwrap();
    assert_eq!(raw, format!("u{}", planted.observed.get(0).user));

    let split = random_split(&data.interactions, 0.2, 42).unwrap();
    let clip = split.train.rating_range();
    let mean = evaluate_ratings(&GlobalMeanParams.fit(&split.train).unwrap(), &split.test, clip).unwrap();
    let base = evaluate_ratings(&BaselineParams::default().fit(&split.train).unwrap(), &split.test, clip).unwrap();
    let svd_params = SvdParams { n_factors: 10, n_epochs: 60, lr: 0.01, ..Default::default() };
    let svd = evaluate_ratings(&svd_params.fit(&split.train).unwrap(), &split.test, clip).unwrap();
    let mf_params = MfParams {
        dim: 8,
        init_std: 0.1,
        train: TrainConfig { epochs: 40, batch_size: 128, lr: 0.02, l2: 0.002, seed: 1, progress: false, ..Default::default() },
    };
    let mf = evaluate_ratings(&mf_params.fit(&split.train, &Backend::Flex.device()).unwrap(), &split.test, clip).unwrap();
    // Signal std ≈ 1.1, biases explain part of it, the factors the rest; noise std 0.1.
    assert!(mean.rmse > 1.0, "global mean {}", mean.rmse);
    assert!(base.rmse < mean.rmse - 0.05, "baseline {} vs mean {}", base.rmse, mean.rmse);
    assert!(svd.rmse < 0.4, "svd {}", svd.rmse);
    assert!(mf.rmse < 0.4, "burn mf {}", mf.rmse);
    assert_eq!(svd.n, split.test.len());
}
