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
}
