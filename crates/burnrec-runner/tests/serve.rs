//! `burnrec train` → `recommend` / `similar` / `evaluate` → `serve`, run as a user would: the
//! server on an ephemeral loopback port, every endpoint checked, malformed requests answered
//! with 4xx while a concurrent client keeps getting 200s, a hot reload under load, and a
//! SIGTERM that drains and exits cleanly.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use burnrec_data::synthetic::planted_low_rank;
use serde_json::Value;

fn burnrec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnrec")).args(args).output().expect("run burnrec")
}

/// A small explicit dataset with timestamps (`csv:` with a header), users u0…, items i0….
fn dataset(dir: &Path) -> String {
    let planted = planted_low_rank(80, 60, 3, 0.3, 0.1, 5);
    let mut text = String::from("user,item,rating,ts\n");
    for (k, r) in planted.observed.iter().enumerate() {
        text.push_str(&format!("u{},i{},{},{}\n", r.user, r.item, r.rating.round().clamp(1.0, 5.0), 1000 + k));
    }
    let path = dir.join("r.csv");
    std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
    format!("csv:{}", path.display())
}

fn train(spec: &str, model: &str, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "train",
        "--model",
        model,
        "--dataset",
        spec,
        "--header",
        "--timestamp-col",
        "ts",
        "--split",
        "leave-one-out",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = burnrec(&args);
    assert!(o.status.success(), "train {model}: {}", String::from_utf8_lossy(&o.stderr));
}

struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    fn new(base: String) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(20))).build().into();
        Self { agent, base }
    }

    fn get(&self, path: &str) -> (u16, Value) {
        let mut r = self.agent.get(format!("{}{path}", self.base)).call().expect("GET");
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}")))
    }

    fn post(&self, path: &str, body: &str) -> (u16, Value) {
        let mut r = self.agent.post(format!("{}{path}", self.base)).header("content-type", "application/json").send(body).expect("POST");
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// The server process, killed if the test fails before it shuts it down itself.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn items_of(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|x| x["item"].as_str().unwrap().to_string()).collect()
}

#[cfg(unix)] // SIGTERM
#[test]
fn train_recommend_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dataset(dir.path());
    let (als, knn) = (dir.path().join("als"), dir.path().join("knn"));
    train(&spec, "als", &als, &["--set", "als.factors=8"]);
    train(&spec, "item-knn", &knn, &[]);
    // The manifest records the held-out metrics; a second train into the same folder needs --force.
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(als.join("burnrec-model.json")).unwrap()).unwrap();
    assert_eq!(manifest["model"], "als");
    assert!(manifest["metrics"]["hr@10"].as_f64().is_some_and(|v| (0.0..=1.0).contains(&v)), "{manifest}");
    let again = burnrec(&["train", "--model", "als", "--dataset", &spec, "--header", "--out", als.to_str().unwrap()]);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("--force"));

    // CLI answers.
    let out = burnrec(&["recommend", "--model-dir", als.to_str().unwrap(), "--user", "u3", "-k", "4", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli["items"].as_array().unwrap().len(), 4);
    assert_eq!(cli["user"], "u3", "the CLI's JSON carries what was asked, as the HTTP answer does");
    let out = burnrec(&["recommend", "--model-dir", als.to_str().unwrap(), "--user", "nobody"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("unknown user `nobody`"));
    let out = burnrec(&["similar", "--model-dir", knn.to_str().unwrap(), "--item", "i2", "-k", "3"]);
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).lines().count() == 4, "{}", String::from_utf8_lossy(&out.stdout));
    // `evaluate` re-makes the held-out part and finds the numbers `train` recorded.
    let json = dir.path().join("eval.json");
    let out =
        burnrec(&["evaluate", "--model-dir", als.to_str().unwrap(), "--dataset", &spec, "--header", "--timestamp-col", "ts", "--json", json.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let row: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for key in ["hr@10", "ndcg@10", "auc"] {
        assert_eq!(row[0][key].as_f64(), manifest["metrics"][key].as_f64(), "{key}");
    }
    // Another dataset whose held-out part the model trained on (the same ratings without
    // each user's latest, so its leave-one-out items are the model's training items): named,
    // left out, and nothing is left to evaluate.
    let text = std::fs::read_to_string(spec.strip_prefix("csv:").unwrap()).unwrap();
    let mut latest: std::collections::HashMap<&str, (u64, &str)> = std::collections::HashMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let ts: u64 = f[3].parse().unwrap();
        if latest.get(f[0]).is_none_or(|&(t, _)| ts > t) {
            latest.insert(f[0], (ts, line));
        }
    }
    let older: String = text.lines().filter(|l| !latest.values().any(|&(_, x)| x == *l)).map(|l| format!("{l}\n")).collect();
    let older_path = dir.path().join("older.csv");
    std::fs::write(&older_path, older).unwrap();
    let out = burnrec(&[
        "evaluate",
        "--model-dir",
        als.to_str().unwrap(),
        "--dataset",
        &format!("csv:{}", older_path.display()),
        "--header",
        "--timestamp-col",
        "ts",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("80 the model trained on") && stderr.contains("were training interactions of the model"), "{stderr}");
    // Without --dataset, the dataset the directory records, read with the layout flags it
    // records (`--header`, `--timestamp-col ts`: without them line 1 would not parse).
    let out = burnrec(&["evaluate", "--model-dir", als.to_str().unwrap(), "--json", json.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(again, row);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("ignored"));
    // Flags given there anyway are named as ignored; a directory from before the flags were
    // recorded takes the ones given.
    let out = burnrec(&["evaluate", "--model-dir", als.to_str().unwrap(), "--duplicates", "last", "--header", "--timestamp-col", "ts"]);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stderr).contains("the ones given here are ignored"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = als.join("burnrec-model.json");
    let mut old: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(old["load_options"]["csv"]["header"].as_bool().unwrap());
    old.as_object_mut().unwrap().remove("load_options");
    std::fs::write(&path, old.to_string()).unwrap();
    let out = burnrec(&["evaluate", "--model-dir", als.to_str().unwrap()]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--header"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = burnrec(&["evaluate", "--model-dir", als.to_str().unwrap(), "--header", "--timestamp-col", "ts", "--json", json.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(serde_json::from_str::<Value>(&std::fs::read_to_string(&json).unwrap()).unwrap(), row);

    // The server.
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_burnrec"))
            .args(["serve", "--model-dir", als.to_str().unwrap(), "--addr", "127.0.0.1:0", "--max-body-bytes", "4096"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {line}")).to_string();
    let c = Client::new(base.clone());

    let (s, h) = c.get("/health");
    assert_eq!((s, h["status"].as_str(), h["model"].as_str()), (200, Some("ok"), Some("als")));
    let (s, r) = c.get("/recommend?user=u3&k=4");
    assert_eq!(s, 200);
    assert_eq!(items_of(&r), items_of(&cli), "the service and the CLI agree");
    let (s, r) = c.post("/recommend", r#"{"history": ["i1", "i2", "i5"], "k": 5}"#);
    assert_eq!(s, 200, "{r}");
    let rec = items_of(&r);
    assert_eq!(rec.len(), 5);
    assert!(rec.iter().all(|i| !["i1", "i2", "i5"].contains(&i.as_str())), "history items are excluded: {rec:?}");
    // A repeated item counts once, in the answer as in the scores.
    let (s, again) = c.post("/recommend", r#"{"history": ["i1", "i2", "i5", "i2"], "k": 5}"#);
    assert_eq!((s, items_of(&again)), (200, rec.clone()));
    assert_eq!(again["history"], 3, "{again}");
    // Unknown history ids: a 404, or, asked to, skipped and listed.
    assert_eq!(c.post("/recommend", r#"{"history": ["i1", "i2", "i5", "nope"], "k": 5}"#).0, 404);
    let (s, skipping) = c.post("/recommend", r#"{"history": ["i1", "i2", "i5", "nope"], "k": 5, "skip_unknown": true}"#);
    assert_eq!((s, items_of(&skipping)), (200, rec.clone()));
    assert_eq!(skipping["skipped"], serde_json::json!(["nope"]));
    // Numeric ids in a POST body are read as their decimal strings (here none exist: 404).
    assert_eq!(c.post("/recommend", r#"{"history": [1, 2]}"#).0, 404);
    assert_eq!(c.post("/recommend", r#"{"user": "nobody", "fallback": "popular", "k": 2}"#).0, 200);
    let (s, r) = c.get("/similar?item=i7&k=3");
    assert_eq!((s, items_of(&r).len()), (200, 3));
    // POST /similar by id answers as GET does; by text, a model without item text says which can.
    let (s, by_post) = c.post("/similar", r#"{"item": "i7", "k": 3}"#);
    assert_eq!((s, items_of(&by_post)), (200, items_of(&r)));
    let (s, v) = c.post("/similar", r#"{"text": "A film about toys. Genres: Animation."}"#);
    assert!(s == 422 && v["error"].as_str().unwrap().contains("not trained on item text"), "{s} {v}");
    let (s, v) = c.post("/recommend", r#"{"user": "u5", "item_text": "A film about toys."}"#);
    assert_eq!(s, 422, "{v}");
    let (s, r) = c.get("/recommend?user=nobody&fallback=popular&k=2");
    assert_eq!((s, r["fallback"].as_str()), (200, Some("popularity")));

    // A concurrent client keeps getting 200s while malformed requests come in.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, bad) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load = {
        let (stop, ok, bad, base) = (stop.clone(), ok.clone(), bad.clone(), base.clone());
        std::thread::spawn(move || {
            let c = Client::new(base);
            while !stop.load(Ordering::Relaxed) {
                let (s, _) = c.get("/recommend?user=u5&k=10");
                if s == 200 {
                    ok.fetch_add(1, Ordering::Relaxed)
                } else {
                    bad.fetch_add(1, Ordering::Relaxed)
                };
            }
        })
    };
    let malformed: [(&str, &str, Option<&str>, u16); 22] = [
        ("GET", "/recommend", None, 400),
        ("GET", "/recommend?user=u1&k=0", None, 400),
        ("GET", "/recommend?user=u1&k=100000", None, 400),
        ("GET", "/recommend?user=u1&k=ten", None, 400),
        ("GET", "/recommend?user=u1&colour=red", None, 400),
        ("GET", "/recommend?user=u1&include_seen=maybe", None, 400),
        ("GET", "/recommend?user=nobody", None, 404),
        ("GET", "/similar?item=nothing", None, 404),
        ("GET", "/similar", None, 400),
        ("GET", "/no/such/endpoint", None, 404),
        ("GET", "/admin/reload", None, 405),
        ("POST", "/recommend", Some("{not json"), 400),
        ("GET", "/recommend?user=u1&user=u2", None, 400),
        ("POST", "/recommend", Some(r#"{"history": []}"#), 400),
        ("POST", "/recommend", Some(r#"{"history": ["i1"], "user": "u1"}"#), 400),
        ("POST", "/recommend", Some(r#"{"history": ["zzz"]}"#), 404),
        ("POST", "/recommend", Some(r#"["u1", null, null, 2]"#), 400),
        ("POST", "/recommend", Some(r#"{"history": [true]}"#), 400),
        ("POST", "/recommend", Some(r#"{"history": ["i1"], "colour": "red"}"#), 400),
        ("POST", "/similar", Some(r#"{"item": "i7", "text": "both"}"#), 400),
        ("POST", "/similar", Some(r#"{"k": 3}"#), 400),
        ("POST", "/recommend", Some(r#"{"history": ["i1"], "item_text": "no user"}"#), 400),
    ];
    for (method, path, body, want) in malformed {
        let (s, v) = if method == "GET" { c.get(path) } else { c.post(path, body.unwrap()) };
        assert_eq!(s, want, "{method} {path} {body:?}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{method} {path}: JSON error expected, got {v}");
    }
    let big = format!(r#"{{"history": ["{}"]}}"#, "i".repeat(10_000));
    assert_eq!(c.post("/recommend", &big).0, 413, "body over --max-body-bytes");
    // Hot reload while the client keeps asking: to the item-knn model, then a broken path.
    let (s, r) = c.post("/admin/reload", &serde_json::json!({ "model_dir": knn }).to_string());
    assert_eq!((s, r["model"].as_str()), (200, Some("item-knn")), "{r}");
    assert_eq!(c.get("/health").1["model"], "item-knn");
    let (s, r) = c.post("/admin/reload", r#"{"model_dir": "/no/such/model"}"#);
    assert_eq!(s, 422, "{r}");
    assert_eq!(c.get("/health").1["model"], "item-knn", "a failed reload keeps the model serving");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    assert_eq!(bad.load(Ordering::Relaxed), 0, "the concurrent client saw a failure");
    assert!(ok.load(Ordering::Relaxed) > 10, "the concurrent client got {} answers", ok.load(Ordering::Relaxed));

    let (s, m) = c.get("/metrics");
    assert_eq!(s, 200);
    let rec = &m["endpoints"]["recommend"];
    assert!(rec["2xx"].as_u64().unwrap() >= ok.load(Ordering::Relaxed) as u64, "{m}");
    assert!(rec["4xx"].as_u64().unwrap() >= 10, "{m}");
    assert!(rec["latency_ms"]["p99"].as_f64().is_some_and(|v| v > 0.0), "{m}");
    assert_eq!(m["reloads"], 1);

    // SIGTERM: drains and exits cleanly (within 20 s).
    let killed = Command::new("kill").args(["-TERM", &server.0.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = server.0.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "the server did not exit within 20 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit after SIGTERM: {status}");
}
