//! The `burnrec` binary, run as a user would.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use burnrec_data::synthetic::planted_low_rank;

fn burnrec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnrec")).args(args).output().expect("run burnrec")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
    path.display().to_string()
}

#[test]
fn compare_writes_table_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let planted = planted_low_rank(60, 50, 2, 0.4, 0.1, 3);
    let mut text = String::new();
    for r in planted.observed.iter() {
        text.push_str(&format!("{}\t{}\t{}\n", r.user, r.item, r.rating));
    }
    let file = write(dir.path(), "r.tsv", &text);
    let json = dir.path().join("out.json");
    let out = burnrec(&["compare", "--dataset", &format!("csv:{file}"), "--sep", "tab", "--epochs", "5", "--quiet", "--json", json.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["model", "backend", "rmse", "mae", "fit_s", "predict_s", "epoch_s", "samples_per_s"]);
    let models: Vec<&str> = lines[1..5].iter().map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(models, ["global-mean", "baseline", "svd", "burn-mf"]);
    assert!(lines[5].contains("test ratings"), "{stdout}");

    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for row in rows {
        let obj = row.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort();
        // The Burn model adds its epoch timing.
        if obj["model"] == "burn-mf" {
            assert_eq!(keys, ["backend", "epoch_s", "fit_s", "mae", "model", "predict_s", "rmse", "samples_per_s"]);
            assert!(obj["epoch_s"].as_f64().unwrap() > 0.0 && obj["samples_per_s"].as_f64().unwrap() > 0.0);
        } else {
            assert_eq!(keys, ["backend", "fit_s", "mae", "model", "predict_s", "rmse"]);
        }
        for k in ["rmse", "mae", "fit_s", "predict_s"] {
            assert!(obj[k].as_f64().is_some_and(f64::is_finite), "{k} in {row}");
        }
    }
    assert_eq!(rows[0]["backend"], "-");
    assert_eq!(rows[3]["backend"], "flex");
    // The planted signal has std ≈ 1.1 (see `planted_low_rank`): that is the global mean's
    // RMSE; the biases explain part of it, so the baseline must do better.
    let (mean, base) = (rows[0]["rmse"].as_f64().unwrap(), rows[1]["rmse"].as_f64().unwrap());
    assert!((0.9..1.3).contains(&mean), "global mean rmse {mean}");
    assert!(base < mean, "baseline {base} vs global mean {mean}");
}

#[test]
fn bad_line_is_reported_with_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "r.csv", "user,item,rating\n1,10,4\n1,11,four\n");
    let out = burnrec(&["compare", "--dataset", &format!("csv:{file}"), "--header", "--models", "global-mean"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{file}:3: field `rating`: expected a finite number, found \"four\"")), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn duplicate_pair_names_both_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "r.dat", "1::10::4::0\n2::10::3::0\n1::10::5::0\n");
    let out = burnrec(&["compare", "--dataset", &format!("ml-1m:{file}"), "--models", "global-mean"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("duplicate rating for user `1` and item `10` on lines 1 and 3"), "{stderr}");
}

#[test]
fn usage_errors_are_clear() {
    let out = burnrec(&["compare", "--backend", "tpu"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown backend `tpu`: expected flex, ndarray, wgpu"));
    // CUDA is an opt-in cargo feature: the error says how to get it.
    let out = burnrec(&["compare", "--backend", "cuda"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("backend `cuda` is not compiled in: rebuild with `--features cuda`"));
    let out = burnrec(&["compare", "--dataset", "ml-100k:/no/such/u.data"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read `/no/such/u.data`"));
    let out = burnrec(&["compare", "--models", "svd,knn"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown model `knn`"));
}

#[test]
fn data_stats_reports_figures_and_policies() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "r.csv", "\u{feff}who,what,stars,when\r\na,x,4,100\r\na,y,5,300\r\nb,x,4,200\r\nb,x,2,250\r\n");
    let base = [
        "data",
        "stats",
        "--dataset",
        &format!("csv:{file}"),
        "--header",
        "--user-col",
        "who",
        "--item-col",
        "what",
        "--rating-col",
        "stars",
        "--timestamp-col",
        "when",
    ];
    // Duplicate (b, x) on lines 4 and 5: the default policy stops and names both lines.
    let out = burnrec(&base);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("duplicate rating for user `b` and item `x` on lines 4 and 5"));
    let mut args = base.to_vec();
    args.extend(["--duplicates", "mean", "--scale", "1,5", "--json"]);
    let out = burnrec(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["users"].as_u64(), v["items"].as_u64(), v["ratings"].as_u64()), (Some(2), Some(2), Some(3)));
    assert_eq!(v["duplicates"], "mean");
    assert_eq!(v["scale"], serde_json::json!([1.0, 5.0]));
    assert_eq!(v["scale_declared"], true);
    assert_eq!(v["time_span"], serde_json::json!([100, 300]));
    // mean of 4 and 2 = 3: histogram {3: 1, 4: 1, 5: 1}
    assert_eq!(v["histogram"], serde_json::json!({"3": 1, "4": 1, "5": 1}));
    let out = burnrec(&["data", "stats", "--dataset", &format!("csv:{file}"), "--scale", "5,1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("scale `5,1` needs MIN < MAX"));
}

#[test]
fn fetch_of_unknown_name_and_unfetched_dataset_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().to_str().unwrap();
    let out = burnrec(&["fetch", "netflix", "--cache-dir", cache]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ml-100k"), "lists the known names");
    let out = Command::new(env!("CARGO_BIN_EXE_burnrec")).args(["data", "stats", "--dataset", "ml-1m"]).env("BURNREC_DATA", cache).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `burnrec fetch ml-1m` first"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn compare_all_protocols_on_leave_one_out_writes_every_format() {
    let dir = tempfile::tempdir().unwrap();
    // 30 users × 25 items, each user rated 12 items at increasing times.
    let mut text = String::new();
    for u in 0..30u32 {
        for j in 0..12u32 {
            let i = (u * 7 + j * 3) % 25;
            let r = 1 + (u + i) % 5;
            text.push_str(&format!("{u}\t{i}\t{r}\t{}\n", 1000 + j));
        }
    }
    let file = write(dir.path(), "u.data", &text);
    let (json, csv, md) = (dir.path().join("o.json"), dir.path().join("o.csv"), dir.path().join("o.md"));
    let out = burnrec(&[
        "compare",
        "--dataset",
        &format!("ml-100k:{file}"),
        "--split",
        "leave-one-out",
        "--protocol",
        "all",
        "--k",
        "5",
        "--negatives",
        "10",
        "--models",
        "global-mean,baseline",
        "--quiet",
        "--json",
        json.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("Krichene & Rendle"), "{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for key in
        ["rmse", "mae", "hr@5", "ndcg@5", "precision@5", "recall@5", "map@5", "mrr@5", "auc", "coverage@5", "sampled_hr@5", "sampled_ndcg@5", "fit_s", "eval_s"]
    {
        let v = rows[1][key].as_f64().unwrap_or_else(|| panic!("{key} missing in {}", rows[1]));
        assert!(v.is_finite(), "{key}");
        if !key.ends_with("_s") && key != "rmse" && key != "mae" {
            assert!((0.0..=1.0).contains(&v), "{key} = {v}");
        }
    }
    // The global mean scores every item equally: AUC exactly ½ under the tie rule.
    assert_eq!(rows[0]["auc"].as_f64(), Some(0.5));
    assert!(std::fs::read_to_string(&csv).unwrap().starts_with("model,backend,rmse,mae,hr@5,ndcg@5,"));
    assert!(std::fs::read_to_string(&md).unwrap().starts_with("| model | backend | rmse |"));
    // Plots, with a validation part carved from train for the learning curves.
    let plots = dir.path().join("plots");
    let out = burnrec(&[
        "compare",
        "--dataset",
        &format!("ml-100k:{file}"),
        "--split",
        "leave-one-out",
        "--protocol",
        "full",
        "--k",
        "5",
        "--models",
        "baseline,burn-mf",
        "--epochs",
        "2",
        "--quiet",
        "--valid-ratio",
        "0.1",
        "--plots",
        plots.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(" validation, "), "{stderr}");
    for f in ["learning_curves.png", "learning_curves.svg", "ndcg_5.png", "ndcg_5.svg"] {
        let bytes = std::fs::read(plots.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(bytes.len() > 1000, "{f}");
    }
    let curves = std::fs::read_to_string(plots.join("learning_curves.svg")).unwrap();
    assert!(curves.contains("burn-mf (flex) train") && curves.contains("burn-mf (flex) valid"), "both curves in the legend");
    // Sampled ranking needs leave-one-out.
    let out = burnrec(&["compare", "--dataset", &format!("ml-100k:{file}"), "--protocol", "sampled"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use --split leave-one-out"));
    // `all` on a random split is the protocols that split allows (rating and full).
    let out = burnrec(&["compare", "--dataset", &format!("ml-100k:{file}"), "--protocol", "all", "--models", "global-mean", "--json", json.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(rows[0]["rmse"].is_f64() && rows[0]["ndcg@10"].is_f64() && rows[0].get("sampled_ndcg@10").is_none(), "{}", rows[0]);
    // No negatives: every held-out item would rank first.
    let out = burnrec(&["compare", "--dataset", &format!("ml-100k:{file}"), "--split", "leave-one-out", "--protocol", "sampled", "--negatives", "0"]);
    assert!(out.status.code() == Some(2) && String::from_utf8_lossy(&out.stderr).contains("--negatives must be at least 1"));
}

#[test]
fn kfold_reports_mean_and_std() {
    let dir = tempfile::tempdir().unwrap();
    let planted = planted_low_rank(40, 30, 2, 0.5, 0.1, 8);
    let text: String = planted.observed.iter().map(|r| format!("{},{},{}\n", r.user, r.item, r.rating)).collect();
    let file = write(dir.path(), "r.csv", &text);
    let json = dir.path().join("k.json");
    let out = burnrec(&["compare", "--dataset", &format!("csv:{file}"), "--folds", "3", "--models", "global-mean,baseline", "--json", json.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let obj = rows[0].as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["backend", "fit_s", "folds", "mae", "mae_std", "model", "predict_s", "rmse", "rmse_std"]);
    let std = rows[0]["rmse_std"].as_f64().unwrap();
    assert!(std > 0.0 && std < 0.2, "rmse_std {std}");
    // The per-fold values are there, and their mean is the row's value.
    let folds = rows[0]["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 3);
    let mean = folds.iter().map(|f| f["rmse"].as_f64().unwrap()).sum::<f64>() / 3.0;
    assert!((mean - rows[0]["rmse"].as_f64().unwrap()).abs() < 1e-12);
    let out = burnrec(&["compare", "--folds", "3", "--split", "leave-one-out"]);
    assert_eq!(out.status.code(), Some(2));
    // The header line describes the first fold (no unused random split), and so does the
    // fallback line under the table; --test-ratio has no meaning with --folds.
    let err =
        String::from_utf8_lossy(&out_of(&["compare", "--dataset", &format!("csv:{file}"), "--folds", "3", "--models", "global-mean"]).stderr).into_owned();
    assert!(err.contains("random fold 1 of 3") && !err.contains("test ratio"), "{err}");
    // A model that does not suit the data is reported and left out; the others are shown.
    let out =
        burnrec(&["compare", "--dataset", &format!("csv:{file}"), "--models", "popularity,pure-svd", "--set", "pure-svd.n_factors=35", "--protocol", "full"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stdout.lines().nth(1).is_some_and(|l| l.starts_with("popularity")) && !stdout.contains("pure-svd"), "{stdout}");
    assert!(stderr.contains("error: pure-svd: ") && stderr.contains("40 users and 30 items") && stderr.contains("1 of 2 models failed (pure-svd)"), "{stderr}");
    // So does the full-ranking line (it counted no user before, as the folds' per-user
    // values are dropped).
    let out = out_of(&["compare", "--dataset", &format!("csv:{file}"), "--folds", "3", "--models", "popularity", "--protocol", "full"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text.lines().find(|l| l.starts_with("first fold: full ranking: ")).unwrap_or_else(|| panic!("{text}"));
    let n: Vec<usize> = line.split(' ').filter_map(|w| w.parse().ok()).collect();
    assert!(n.len() == 2 && n[0] + n[1] == 40 && n[0] >= 30, "{line}");
    let out = burnrec(&["compare", "--dataset", &format!("csv:{file}"), "--folds", "3", "--test-ratio", "0.5", "--models", "global-mean"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
    // Listed folds name ratings a loading filter may have dropped.
    let out = burnrec(&["compare", "--dataset", &format!("csv:{file}"), "--split", "folds-file", "--folds-file", "f.tsv", "--min-item-interactions", "3"]);
    assert!(out.status.code() == Some(2) && String::from_utf8_lossy(&out.stderr).contains("refers to ratings of the unfiltered data"));
}

#[test]
fn train_with_early_stopping_then_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let planted = planted_low_rank(60, 50, 2, 0.4, 0.1, 3);
    let text: String = planted.observed.iter().map(|r| format!("{},{},{}\n", r.user, r.item, r.rating)).collect();
    let data = format!("csv:{}", write(dir.path(), "r.csv", &text));
    let out_dir = dir.path().join("m");
    let args = [
        "train",
        "--model",
        "burn-mf",
        "--dataset",
        &data,
        "--split",
        "random",
        "--valid-ratio",
        "0.2",
        "--patience",
        "1",
        "--epochs",
        "40",
        "--set",
        "burn-mf.dim=16",
        "--set",
        "burn-mf.train.lr=0.05",
        "--set",
        "burn-mf.train.l2=0",
        "--out",
        out_dir.to_str().unwrap(),
    ];
    let out = out_of(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // It stopped before the 40 epochs and says which epoch it kept.
    let line = stderr.lines().find(|l| l.starts_with("burn-mf: early stopping ran ")).unwrap_or_else(|| panic!("{stderr}"));
    let ran: usize = line.split(' ').nth(4).unwrap().parse().unwrap();
    assert!(ran < 40, "{line}");
    // `evaluate` re-makes the split and finds the recorded numbers.
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("burnrec-model.json")).unwrap()).unwrap();
    let json = dir.path().join("e.json");
    out_of(&["evaluate", "--model-dir", out_dir.to_str().unwrap(), "--json", json.to_str().unwrap()]);
    let row: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(row[0]["rmse"].as_f64(), manifest["metrics"]["rmse"].as_f64());
    // Early stopping needs the validation part.
    let out = burnrec(&["train", "--model", "burn-mf", "--dataset", &data, "--patience", "1", "--out", dir.path().join("x").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn content_and_hybrid_train_save_and_evaluate() {
    // The bundled dataset has genres; leave-one-out keeps the held-out part small.
    let dir = tempfile::tempdir().unwrap();
    for (model, sets) in [("content", vec![]), ("hybrid", vec!["--set", "als.factors=8", "--set", "als.iterations=2"])] {
        let out_dir = dir.path().join(model);
        let mut args = vec!["train", "--model", model, "--split", "leave-one-out", "--quiet", "--out", out_dir.to_str().unwrap()];
        args.extend(sets);
        out_of(&args);
        let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("burnrec-model.json")).unwrap()).unwrap();
        let json = dir.path().join(format!("{model}.json"));
        out_of(&["evaluate", "--model-dir", out_dir.to_str().unwrap(), "--json", json.to_str().unwrap()]);
        let row: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        for key in ["hr@10", "ndcg@10", "auc"] {
            assert_eq!(row[0][key].as_f64(), manifest["metrics"][key].as_f64(), "{model} {key}");
        }
        let out = out_of(&["recommend", "--model-dir", out_dir.to_str().unwrap(), "--user", "1", "-k", "3", "--json"]);
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["items"].as_array().unwrap().len(), 3, "{model}");
        // Both answer a new user's history (the hybrid by its parts' fold-in); the content
        // model also answers "more like this".
        let dir_arg = out_dir.to_str().unwrap();
        let history = burnrec(&["recommend", "--model-dir", dir_arg, "--history", "1,260", "-k", "3"]);
        let similar = burnrec(&["similar", "--model-dir", dir_arg, "--item", "1", "-k", "3"]);
        assert_eq!((history.status.success(), similar.status.success()), (true, model == "content"), "{model}");
    }
    // A --set of another model is still refused.
    let out = burnrec(&["train", "--model", "content", "--set", "als.factors=8", "--out", dir.path().join("x").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not the model trained"));
}

/// Runs `burnrec` and asserts it succeeded.
fn out_of(args: &[&str]) -> std::process::Output {
    let out = burnrec(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn settings_are_checked_before_any_model_trains() {
    let dir = tempfile::tempdir().unwrap();
    let planted = planted_low_rank(30, 20, 2, 0.5, 0.1, 3);
    let text: String = planted.observed.iter().map(|r| format!("{},{},{}\n", r.user, r.item, r.rating)).collect();
    let data = format!("csv:{}", write(dir.path(), "r.csv", &text));
    // The bad value is named with its --set, and nothing is fitted first (the progress of
    // `baseline`'s fit would be the first line otherwise: no table, no note).
    let out = burnrec(&["compare", "--dataset", &data, "--models", "baseline,burn-mf", "--set", "burn-mf.train.lr=abc", "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("--set `burn-mf.train.lr=abc`") && err.contains("`train.lr`") && !err.contains("fitting"), "{err}");
    assert!(out.stdout.is_empty());
    let out = burnrec(&["compare", "--dataset", &data, "--models", "baseline,neumf", "--set", "neumf.factors=0", "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() == Some(2) && err.contains("`neumf`") && err.contains("`factors`"), "{err}");
    // Settings of parts a kind does not have, and early stopping without a validation part,
    // are refused up front rather than ignored or failing the fit.
    for (set, says) in [
        ("gmf.layers=[8,4]", "`layers` does not apply to `gmf`"),
        ("gmf.train.early_stopping={\"patience\":1,\"min_delta\":0}", "add --valid-ratio"),
        ("gmf.negatives=0", "`negatives` = 0"),
    ] {
        let out = burnrec(&["compare", "--dataset", &data, "--models", "baseline,gmf", "--set", set, "--quiet"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.code() == Some(2) && err.contains(says) && out.stdout.is_empty(), "{set}: {err}");
    }
    // A negatives file without the sampled protocol would be ignored: an error instead.
    let out = burnrec(&["compare", "--dataset", &data, "--models", "popularity", "--negatives-file", "n.tsv", "--quiet"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--negatives-file lists the candidates of the sampled protocol"));
    // Top-N models under the rating protocol alone: a note says how to get their metrics.
    let out = out_of(&["compare", "--dataset", &data, "--models", "baseline,popularity", "--quiet"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("note: popularity ranks items and has no rating metrics, so it is not run: add --protocol full"));
    // Loading mistakes the CLI can name a flag for.
    let header = format!("csv:{}", write(dir.path(), "h.csv", "user,item,rating\n1,2,3\n"));
    let err = String::from_utf8_lossy(&burnrec(&["data", "stats", "--dataset", &header]).stderr).into_owned();
    assert!(err.contains("pass --header") && err.contains("h.csv:1: field `rating`"), "{err}");
    let dup = format!("csv:{}", write(dir.path(), "d.csv", "1,2,3\n1,2,4\n"));
    let err = String::from_utf8_lossy(&burnrec(&["data", "stats", "--dataset", &dup]).stderr).into_owned();
    assert!(err.contains("lines 1 and 2") && err.contains("--duplicates first, last or mean"), "{err}");
}

#[test]
fn folds_file_set_and_model_groups() {
    let dir = tempfile::tempdir().unwrap();
    let planted = planted_low_rank(40, 30, 2, 0.5, 0.1, 8);
    let text: String = planted.observed.iter().map(|r| format!("{},{},{}\n", r.user, r.item, r.rating.max(0.0))).collect();
    let file = write(dir.path(), "r.csv", &text);
    // Two folds: ratings with an even item id are fold 0's test part, the others fold 1's.
    let mut folds = String::from("# a comment\nuser\titem\tfold\n");
    for r in planted.observed.iter() {
        folds.push_str(&format!("{}\t{}\t{}\n", r.user, r.item, r.item % 2));
    }
    let folds_file = write(dir.path(), "folds.tsv", &folds);
    let json = dir.path().join("f.json");
    let args = ["compare", "--dataset", &format!("csv:{file}"), "--split", "folds-file", "--folds-file", &folds_file];
    let mut with = args.to_vec();
    with.extend(["--models", "baseline,svd,popularity", "--set", "svd.n_factors=4", "--set", "svd.n_epochs=3", "--json", json.to_str().unwrap()]);
    let out = burnrec(&with);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert_eq!(rows[1]["folds"].as_array().unwrap().len(), 2);
    // Popularity is a top-N model: no rating metrics, so under the rating protocol it is not run.
    assert!(rows.as_array().unwrap().iter().all(|r| r["model"] != "popularity"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("popularity ranks items and has no rating metrics, so it is not run"));
    // The same fold split by hand: fold 0's test part is the even items.
    let test0 = planted.observed.iter().filter(|r| r.item % 2 == 0).count();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{} test", test0)), "{stderr}");

    // Mistakes are named.
    let mut bad = args.to_vec();
    bad.extend(["--models", "svd", "--set", "svd.factors=4"]);
    let out = burnrec(&bad);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no parameter `factors`") && err.contains("n_factors"), "{err}");
    let out = burnrec(&["compare", "--models", "svd++"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown model `svd++`"));
    let first = planted.observed.get(0);
    let short = write(dir.path(), "short.tsv", &format!("{}\t{}\t0\n", first.user, first.item));
    let out = burnrec(&["compare", "--dataset", &format!("csv:{file}"), "--split", "folds-file", "--folds-file", &short, "--models", "baseline"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("does not list the rating of user"), "{err}");
    // Folds 0 and 2 only: a gap.
    let gap = folds.replace("\t1\n", "\t2\n");
    let gap = write(dir.path(), "gap.tsv", &gap);
    let out = burnrec(&["compare", "--dataset", &format!("csv:{file}"), "--split", "folds-file", "--folds-file", &gap, "--models", "baseline"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("none numbered 1"), "{err}");
    // A --set for a model that is not run is a mistake, not a silent default.
    let mut typo = args.to_vec();
    typo.extend(["--models", "svd", "--set", "sdv.n_factors=4"]);
    let err = String::from_utf8_lossy(&burnrec(&typo).stderr).to_string();
    assert!(err.contains("`sdv` is not among the models run (svd)"), "{err}");
    let out = burnrec(&["compare", "--dataset", &format!("csv:{file}"), "--split", "official-5fold"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --dataset ml-100k:PATH"));
}

#[test]
fn ncf_models_run_and_report_ranking_only() {
    let dir = tempfile::tempdir().unwrap();
    let planted = planted_low_rank(30, 20, 2, 0.5, 0.1, 3);
    let text: String = planted.observed.iter().map(|r| format!("{},{},{}\n", r.user, r.item, r.rating)).collect();
    let file = write(dir.path(), "r.csv", &text);
    let json = dir.path().join("n.json");
    let out = burnrec(&[
        "compare",
        "--dataset",
        &format!("csv:{file}"),
        "--protocol",
        "rating,full",
        "--models",
        "gmf,neumf",
        "--epochs",
        "2",
        "--set",
        "neumf.layers=[16,8]",
        "--quiet",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for (k, name) in ["gmf", "neumf"].iter().enumerate() {
        assert_eq!(rows[k]["model"], *name);
        assert_eq!(rows[k]["backend"], "flex");
        assert!(rows[k].get("rmse").is_none(), "implicit models have no RMSE");
        let hr = rows[k]["hr@10"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&hr), "{hr}");
    }
    let out = burnrec(&["compare", "--dataset", &format!("csv:{file}"), "--models", "neumf", "--set", "neumf.layers=[63,8]", "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("`layers`"), "{err}");
}

#[test]
fn bench_embedding_prints_json() {
    let out = burnrec(&["bench", "embedding", "--rows", "50,500", "--dim", "4", "--batch", "64", "--steps", "2", "--repeats", "1", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4, "2 sizes × dense, sparse");
    let keys: Vec<(u64, &str)> = rows.iter().map(|r| (r["rows"].as_u64().unwrap(), r["mode"].as_str().unwrap())).collect();
    assert_eq!(keys, vec![(50, "dense"), (50, "sparse"), (500, "dense"), (500, "sparse")]);
    assert!(rows.iter().all(|r| r["step_s"].as_f64().unwrap() > 0.0 && r["backend"] == "flex"));
    let out = burnrec(&["bench", "embedding", "--rows", "0"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("must all be at least 1"));
}

#[test]
fn cold_items_split_early_stopping_and_new_models() {
    let dir = tempfile::tempdir().unwrap();
    let planted = planted_low_rank(30, 20, 2, 0.5, 0.1, 3);
    let text: String = planted.observed.iter().map(|r| format!("{},{},{}\n", r.user, r.item, r.rating)).collect();
    let file = write(dir.path(), "r.csv", &text);
    let dataset = format!("csv:{file}");
    let json = dir.path().join("c.json");
    // mf (implicit dot product) and deep-hybrid (no side features here: ids only) on a cold-item
    // split: 20 % of the 20 items (4) leave training; ranking is among them only.
    let out = burnrec(&[
        "compare",
        "--dataset",
        &dataset,
        "--split",
        "cold-items",
        "--protocol",
        "full",
        "--models",
        "popularity,mf,deep-hybrid",
        "--epochs",
        "2",
        "--quiet",
        "--json",
        json.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("cold-start: 4 of 20 items held out entirely"), "{err}");
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3);
    // Popularity knows nothing about cold items: every score ties, AUC is exactly 0.5.
    assert_eq!(rows[0]["auc"].as_f64(), Some(0.5));
    // Early stopping: keeps going with a validation part, refuses without one.
    let out = burnrec(&[
        "compare",
        "--dataset",
        &dataset,
        "--models",
        "burn-mf",
        "--valid-ratio",
        "0.2",
        "--patience",
        "1",
        "--epochs",
        "3",
        "--set",
        "burn-mf.dim=4",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = burnrec(&["compare", "--dataset", &dataset, "--models", "burn-mf", "--patience", "2", "--quiet"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--patience stops on the validation part: add --valid-ratio"));
    let out = burnrec(&["compare", "--dataset", &dataset, "--models", "svd", "--valid-ratio", "0.2", "--patience", "2", "--quiet"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--patience stops the neural models early, and none is selected"));
    // burn-mf's parameters are settable, and checked.
    let out = burnrec(&["compare", "--dataset", &dataset, "--models", "burn-mf", "--set", "burn-mf.dim=0", "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("`dim`"), "{err}");
    let out = burnrec(&["compare", "--dataset", &dataset, "--split", "cold-items", "--protocol", "sampled", "--quiet"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("the sampled protocol ranks each user's held-out item: use --split leave-one-out"));
}

#[test]
fn models_lists_the_catalogue() {
    let out = burnrec(&["models"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), burnrec_zoo::CATALOGUE.len());
    assert!(rows.iter().any(|r| r.starts_with("ease\tclassic\tImplicit\t-\tfold-in\tSteck 2019")), "{text}");
    assert!(rows.iter().any(|r| r.starts_with("hybrid\tcontent\tImplicit\titem features\tfold-in\t")), "{text}");
    assert!(
        rows.iter().any(|r| r.starts_with("deep-hybrid\tneural\tImplicit\titem features (optional), user features (optional)\tnew users by features\t")),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_slice(&burnrec(&["models", "--json"]).stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), burnrec_zoo::CATALOGUE.len());
    assert_eq!(json[0]["name"], "global-mean");
    assert_eq!(json[0]["feedback"], "explicit");
}

#[test]
fn sequential_models_read_the_order_of_a_history() {
    // 24 users walk a cycle of 8 items (raw ids 100…107) for 6 steps in time order: users
    // u0…u11 forwards, u12…u23 backwards — the next item depends on the order.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("user,item,rating,time\n");
    for u in 0..24u32 {
        for k in 0..6u32 {
            let item = if u < 12 { (u + k) % 8 } else { (u + 48 - k) % 8 };
            text.push_str(&format!("u{u},{},1,{}\n", 100 + item, 1000 + k));
        }
    }
    let file = write(dir.path(), "walks.csv", &text);
    let data = ["--dataset", &format!("csv:{file}"), "--header", "--user-col", "user", "--item-col", "item", "--rating-col", "rating"];
    let small = ["hidden=16", "layers=1", "heads=2", "inner=32", "max_len=6", "dropout=0", "train.lr=0.01", "train.batch_size=16"];
    for model in ["sasrec", "gru4rec"] {
        let out_dir = dir.path().join(model);
        let mut args = vec!["train", "--model", model, "--split", "leave-one-out", "--epochs", "80", "--quiet", "--timestamp-col", "time"];
        args.extend(data);
        let sets: Vec<String> = small
            .iter()
            .filter(|s| model == "sasrec" || !["layers", "heads", "inner"].iter().any(|k| s.starts_with(k)))
            .map(|s| if model == "gru4rec" && s.starts_with("hidden") { format!("{model}.embedding=16") } else { format!("{model}.{s}") })
            .collect();
        for s in &sets {
            args.extend(["--set", s.as_str()]);
        }
        args.extend(["--out", out_dir.to_str().unwrap()]);
        out_of(&args);
        let dir_arg = out_dir.to_str().unwrap();
        let next = |history: &str| {
            let out = out_of(&["recommend", "--model-dir", dir_arg, "--history", history, "-k", "1", "--json"]);
            let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            answer["items"][0]["item"].as_str().unwrap().to_string()
        };
        // The same three items, oldest first: forwards 102, 103, 104 → 105; backwards → 101.
        assert_eq!((next("102,103,104"), next("104,103,102")), ("105".to_string(), "101".to_string()), "{model}");
    }
    // Without timestamps the sequential models say what they need.
    let mut args = vec!["compare", "--split", "random", "--models", "sasrec", "--protocol", "full", "--quiet"];
    args.extend(data);
    let out = burnrec(&args);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sasrec read each user's history in time order") && err.contains("--timestamp-col"), "{err}");
}
