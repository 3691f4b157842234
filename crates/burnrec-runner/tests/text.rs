//! The models over item text, run as a user would: `burnrec embed`, then `compare` on
//! ML-100K's cold items (items nobody rated in training, ranked among themselves) with the
//! sentence encoder all-MiniLM-L6-v2, then `train` and `similar`. Reads ML-100K and the
//! encoder from `../shared` (or `$BURNREC_ML100K`, `$BURNREC_ENCODER`); skipped without them,
//! except in CI (`BURNREC_REQUIRE_DATA`), where that fails.

use std::path::Path;
use std::process::{Command, Output};

use burnrec_data::shared::{MINILM, ML100K};

fn burnrec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnrec")).args(args).env_remove("BURNREC_ENCODER").output().expect("run burnrec")
}

fn ok(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "stderr: {err}");
    err
}

#[test]
fn text_knn_ranks_cold_items_better_than_genre_tf_idf() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let name = "text_knn_ranks_cold_items_better_than_genre_tf_idf";
    let (Some(ml), Some(enc)) = (ML100K.for_test(here, name), MINILM.for_test(here, name)) else { return };
    let dataset = format!("ml-100k:{}", ml.display());
    let enc = enc.display().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache").display().to_string();

    // Embeddings with the id map: encoded once, then from the cache.
    let out_st = tmp.path().join("items.safetensors");
    let err = ok(&burnrec(&["embed", "--dataset", &dataset, "--encoder", &enc, "--embedding-cache", &cache, "--out", out_st.to_str().unwrap()]));
    assert!(err.contains("1682 items × 384"), "{err}");
    let bytes = std::fs::read(&out_st).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("embeddings").unwrap().shape(), [1682, 384]);
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    let ids: Vec<String> = serde_json::from_str(&meta["item_ids"]).unwrap();
    let texts: Vec<String> = serde_json::from_str(&meta["texts"]).unwrap();
    let toy = ids.iter().position(|i| i == "1").unwrap();
    assert_eq!(texts[toy], "Toy Story (1995). Genres: Animation, Children's, Comedy.");
    let out_tsv = tmp.path().join("items.tsv");
    let err = ok(&burnrec(&["embed", "--dataset", &dataset, "--encoder", &enc, "--embedding-cache", &cache, "--out", out_tsv.to_str().unwrap()]));
    assert!(err.contains("(0 texts encoded"), "the second run reads the cache: {err}");
    let tsv = std::fs::read_to_string(&out_tsv).unwrap();
    let first: Vec<&str> = tsv.lines().next().unwrap().split('\t').collect();
    assert_eq!((tsv.lines().count(), first.len()), (1682, 385));
    // Unit vectors (the encoder normalises).
    let norm: f64 = first[1..].iter().map(|v| v.parse::<f64>().unwrap().powi(2)).sum::<f64>();
    assert!((norm - 1.0).abs() < 1e-4, "{norm}");

    // Cold items: text-knn beats the genre TF-IDF content model (this machine, 2026-12-03:
    // NDCG@10 0.2862 vs 0.1818, HR@10 0.8121 vs 0.6391).
    let json = tmp.path().join("cold.json");
    let args = ["compare", "--dataset", &dataset, "--split", "cold-items", "--models", "content,text-knn", "--protocol", "full"];
    let err = ok(&burnrec(&[&args[..], &["--encoder", &enc, "--embedding-cache", &cache, "--quiet", "--json", json.to_str().unwrap()]].concat()));
    assert!(err.contains("cold-start: 336 of 1682 items held out entirely"), "{err}");
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let metric = |k: usize, m: &str| rows[k][m].as_f64().unwrap();
    assert_eq!((rows[0]["model"].as_str(), rows[1]["model"].as_str()), (Some("content"), Some("text-knn")));
    assert!(metric(1, "ndcg@10") > metric(0, "ndcg@10") + 0.05, "{rows}");
    assert!(metric(1, "hr@10") > metric(0, "hr@10"), "{rows}");
    assert!(metric(1, "ndcg@10") > 0.25, "{rows}");

    // Without an encoder the model is refused before anything is fitted, saying what to pass.
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_burnrec")).args(args).env_remove("BURNREC_ENCODER").env("BURNREC_DATA", empty.path()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("--encoder PATH") && err.contains("BURNREC_ENCODER") && err.contains("burnrec fetch all-MiniLM-L6-v2"),
        "{err}"
    );

    // Train, save, and ask for the films most like Toy Story.
    let model_dir = tmp.path().join("text-model");
    let md = model_dir.to_str().unwrap();
    ok(&burnrec(&["train", "--model", "text-knn", "--dataset", &dataset, "--encoder", &enc, "--embedding-cache", &cache, "--out", md, "--quiet"]));
    let out = burnrec(&["similar", "--model-dir", md, "--item", "1", "-k", "10"]);
    ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().filter(|l| l.contains("(19")).count(), 10, "{stdout}");
    assert!(!stdout.lines().any(|l| l.contains("Toy Story (1995)") && !l.starts_with('#')), "the item itself is not its own neighbour: {stdout}");

    // An item known only by its text: Toy Story's own text finds Toy Story first (cosine 1),
    // with the encoder the model directory recorded.
    let toy_text = "Toy Story (1995). Genres: Animation, Children's, Comedy.";
    let out = burnrec(&["similar", "--model-dir", md, "--item-text", toy_text, "-k", "5", "--json"]);
    ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["items"][0]["item"], "1", "{v}");
    assert!((v["items"][0]["score"].as_f64().unwrap() - 1.0).abs() < 1e-5, "{v}");
    assert_eq!(v["items"].as_array().unwrap().len(), 5);
    // The same text as a new item for user 1: scored by text-knn's rule (the cosines of its
    // 50 nearest items that the user has), ranked among the catalogue.
    let text = "A Toy Story spin-off (2026). Genres: Animation, Children's, Comedy.";
    let out = burnrec(&["recommend", "--model-dir", md, "--user", "1", "--item-text", text, "-k", "10", "--json"]);
    ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (rank, score) = (v["new_item"]["rank"].as_u64().unwrap(), v["new_item"]["score"].as_f64().unwrap());
    assert!(score > 1.0 && rank >= 1, "user 1 has rated many animated comedies: {v}");
    let listed = v["items"].as_array().unwrap().iter().position(|i| i["item"] == "(new item)");
    assert_eq!(listed.map(|p| p as u64 + 1), (rank <= 10).then_some(rank), "{v}");
    // Another encoder folder than the one that embedded the items is refused by fingerprint.
    // (Links to every file of the encoder but a config.json that differs in one setting.)
    let other = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(&enc).unwrap() {
        let p = std::fs::canonicalize(f.unwrap().path()).unwrap();
        if p.file_name().unwrap() != "config.json" {
            std::os::unix::fs::symlink(&p, other.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    let text_cfg = std::fs::read_to_string(Path::new(&enc).join("config.json")).unwrap();
    std::fs::write(other.path().join("config.json"), text_cfg.replace("\"layer_norm_eps\": 1e-12", "\"layer_norm_eps\": 1e-11")).unwrap();
    let out = burnrec(&["similar", "--model-dir", md, "--item-text", toy_text, "--encoder", other.path().to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("is not the one that embedded this model's items"), "{err}");

    // The deep hybrid with text features (1 epoch: the path, not the accuracy — that is in
    // docs/benchmarks.md): trains, saves its text projection, and scores a new item by text.
    let deep_dir = tmp.path().join("deep-text");
    let dd = deep_dir.to_str().unwrap();
    let args = ["train", "--model", "deep-hybrid-text", "--dataset", &dataset, "--encoder", &enc, "--embedding-cache", &cache, "--epochs", "1"];
    ok(&burnrec(&[&args[..], &["--out", dd, "--quiet"]].concat()));
    let out = burnrec(&["recommend", "--model-dir", dd, "--user", "1", "--item-text", text, "-k", "5", "--json"]);
    ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["new_item"]["score"].as_f64().unwrap().is_finite() && v["new_item"]["rank"].as_u64().unwrap() >= 1, "{v}");
    // A model without item text says what would answer.
    let pop_dir = tmp.path().join("pop");
    ok(&burnrec(&["train", "--model", "popularity", "--dataset", &dataset, "--out", pop_dir.to_str().unwrap(), "--quiet"]));
    let out = burnrec(&["similar", "--model-dir", pop_dir.to_str().unwrap(), "--item-text", toy_text]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("was not trained on item text") && err.contains("deep-hybrid-text"), "{err}");
}
