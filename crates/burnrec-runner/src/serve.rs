//! `burnrec serve`: a model directory over HTTP/JSON (axum on tokio), in the raw ids users
//! know.
//!
//! | endpoint | answer |
//! | --- | --- |
//! | `GET /recommend?user=U&k=10[&include_seen=true][&fallback=popular]` | top-K for a training user |
//! | `POST /recommend` `{"history": ["i1", …], "k": 10, "include_seen": false, "skip_unknown": false}` (or `{"user": "U", …}`, or `{"user_features": ["gender=F", "age=31"], …}` for the deep hybrid; `{"user": "U", "item_text": "…"}` adds an item known only by its text as a candidate) | top-K for a new user by fold-in (or from side features); `history` is oldest first, and the sequential models (sasrec) read its order |
//! | `GET /similar?item=I&k=10` | the K most similar items |
//! | `POST /similar` `{"item": "I", "k": 10}` or `{"text": "A new film (2026). Genres: …", "k": 10}` | the K most similar items to an item, or to one known only by its text (models over item text) |
//! | `GET /health` | `{"status": "ok", model, users, items, …}` |
//! | `GET /metrics` | request counts by endpoint and status class, latency quantiles |
//! | `POST /admin/reload` `{"model_dir": "…"}` (body optional) | swap in a model directory; loopback clients only |
//!
//! Bad requests get a 4xx JSON `{"error": "…"}`: 400 for missing, malformed or unknown
//! parameters or JSON fields, JSON of the wrong shape, and k outside 1…1000; 404 for unknown
//! ids; 413 for bodies over `--max-body-bytes`; 415 for a JSON body without
//! `content-type: application/json`; 422 for a model that cannot answer that kind of request
//! (fold-in or similarity it does not support) or a reload that fails; 403 for
//! `/admin/reload` from a non-loopback client. A reload
//! loads the new directory beside the serving one and swaps it in with one pointer write:
//! requests in flight finish on the model they started with, none are dropped, and a
//! directory that fails to load leaves the old model serving. `SIGTERM` (or Ctrl-C) stops
//! accepting connections and drains the requests in flight before exiting, waiting at most
//! `--shutdown-timeout` seconds (default 30) for them.

// Handlers' helpers return a ready `Response` as their error (axum's idiom); its size does not
// matter on this path.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use anyhow::Context;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use burnrec_model::Backend;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cli::ServeArgs;
use crate::engine::{Answer, Engine, EngineError};
use crate::modeldir;

/// Endpoints counted in `/metrics`, in order.
const ENDPOINTS: [&str; 6] = ["recommend", "similar", "health", "metrics", "admin_reload", "other"];
/// Latency histogram: 8 buckets per doubling from 1 µs (bucket b ends at 2^(b/8) µs), up to
/// about 17 minutes; quantiles are read as a bucket's upper edge (within 9 %).
const BUCKETS: usize = 8 * 30;

struct EndpointStats {
    count: AtomicU64,
    /// 2xx, 4xx, 5xx (others counted with 5xx).
    classes: [AtomicU64; 3],
    latency: Vec<AtomicU64>,
}

impl EndpointStats {
    fn new() -> Self {
        Self { count: AtomicU64::new(0), classes: Default::default(), latency: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect() }
    }

    fn record(&self, status: StatusCode, micros: f64) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let class = match status.as_u16() {
            200..=299 => 0,
            400..=499 => 1,
            _ => 2,
        };
        self.classes[class].fetch_add(1, Ordering::Relaxed);
        let b = (8.0 * micros.max(1.0).log2()).ceil() as usize;
        self.latency[b.min(BUCKETS - 1)].fetch_add(1, Ordering::Relaxed);
    }

    /// Upper edge (ms) of the bucket holding quantile `q`.
    fn quantile_ms(counts: &[u64], q: f64) -> Option<f64> {
        let n: u64 = counts.iter().sum();
        if n == 0 {
            return None;
        }
        let target = (q * n as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (b, &c) in counts.iter().enumerate() {
            seen += c;
            if seen >= target {
                return Some(2f64.powf(b as f64 / 8.0) / 1000.0);
            }
        }
        None
    }

    fn to_json(&self) -> Value {
        let counts: Vec<u64> = self.latency.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        let q = |p| Self::quantile_ms(&counts, p);
        json!({
            "requests": self.count.load(Ordering::Relaxed),
            "2xx": self.classes[0].load(Ordering::Relaxed),
            "4xx": self.classes[1].load(Ordering::Relaxed),
            "5xx": self.classes[2].load(Ordering::Relaxed),
            "latency_ms": {"p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "p999": q(0.999)},
        })
    }
}

struct AppState {
    engine: RwLock<Arc<Engine>>,
    model_dir: RwLock<PathBuf>,
    backend: Backend,
    /// `--encoder` (queries by text).
    encoder: Option<PathBuf>,
    started: Instant,
    stats: Vec<EndpointStats>,
    reloads: AtomicU64,
    reload_lock: tokio::sync::Mutex<()>,
}

impl AppState {
    fn engine(&self) -> Arc<Engine> {
        self.engine.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

type Shared = Arc<AppState>;

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({ "error": msg.into() }))).into_response()
}

fn engine_error(e: &EngineError) -> Response {
    let status = match e {
        EngineError::UnknownUser(_) | EngineError::UnknownItems(_) => StatusCode::NOT_FOUND,
        EngineError::BadK(_) | EngineError::EmptyHistory | EngineError::BadFeatures(_) | EngineError::BadText(_) => StatusCode::BAD_REQUEST,
        EngineError::Unsupported(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    error(status, e.to_string())
}

/// The query string as a map, refusing parameters other than `allowed` and repeated ones.
fn params(q: Result<Query<Vec<(String, String)>>, QueryRejection>, allowed: &[&str]) -> Result<HashMap<String, String>, Response> {
    let Query(pairs) = q.map_err(|r| error(StatusCode::BAD_REQUEST, r.body_text()))?;
    let mut map = HashMap::with_capacity(pairs.len());
    for (k, v) in pairs {
        if !allowed.contains(&k.as_str()) {
            return Err(error(StatusCode::BAD_REQUEST, format!("unknown parameter `{k}`: expected {}", allowed.join(", "))));
        }
        if map.contains_key(&k) {
            return Err(error(StatusCode::BAD_REQUEST, format!("parameter `{k}` given more than once")));
        }
        map.insert(k, v);
    }
    Ok(map)
}

fn required<'a>(map: &'a HashMap<String, String>, name: &str) -> Result<&'a str, Response> {
    match map.get(name).map(String::as_str) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(error(StatusCode::BAD_REQUEST, format!("missing parameter `{name}`"))),
    }
}

fn k_of(map: &HashMap<String, String>) -> Result<usize, Response> {
    match map.get("k") {
        None => Ok(10),
        Some(v) => v.parse().map_err(|_| error(StatusCode::BAD_REQUEST, format!("k = `{v}`: expected a whole number from 1 to {}", crate::engine::MAX_K))),
    }
}

fn flag(map: &HashMap<String, String>, name: &str) -> Result<bool, Response> {
    match map.get(name).map(String::as_str) {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1" | "") => Ok(true),
        Some(v) => Err(error(StatusCode::BAD_REQUEST, format!("{name} = `{v}`: expected true or false"))),
    }
}

/// Runs an engine call: directly for factor models (a matrix–vector product), on the blocking
/// pool for models that score through their network or neighbourhoods.
async fn answer<F>(engine: Arc<Engine>, f: F) -> Response
where
    F: FnOnce(&Engine) -> Result<(Answer, Value), EngineError> + Send + 'static,
{
    let result = if engine.is_factor_model() {
        // A panic (a bug, or a damaged model that passed the checks) becomes a 500 answer, not
        // a dropped connection.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&engine))) {
            Ok(r) => r,
            Err(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "scoring failed (internal error)"),
        }
    } else {
        match tokio::task::spawn_blocking(move || f(&engine)).await {
            Ok(r) => r,
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("scoring failed: {e}")),
        }
    };
    match result {
        Ok((a, context)) => Json(a.to_json(context)).into_response(),
        Err(e) => engine_error(&e),
    }
}

async fn get_recommend(State(s): State<Shared>, q: Result<Query<Vec<(String, String)>>, QueryRejection>) -> Response {
    let map = match params(q, &["user", "k", "include_seen", "fallback"]) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let (user, k, include_seen) = match (required(&map, "user"), k_of(&map), flag(&map, "include_seen")) {
        (Ok(u), Ok(k), Ok(i)) => (u.to_string(), k, i),
        (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => return r,
    };
    let popular = match map.get("fallback").map(String::as_str) {
        None => false,
        Some("popular") => true,
        Some(v) => return error(StatusCode::BAD_REQUEST, format!("fallback = `{v}`: the only fallback is `popular`")),
    };
    answer(s.engine(), move |e| Ok((e.recommend(&user, k, include_seen, popular)?, json!({ "user": user })))).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecommendBody {
    user: Option<String>,
    history: Option<Vec<String>>,
    user_features: Option<Vec<String>>,
    #[serde(default = "ten")]
    k: usize,
    #[serde(default)]
    include_seen: bool,
    fallback: Option<String>,
    /// Leave history ids the model does not know out (listed as `skipped`) instead of a 404.
    #[serde(default)]
    skip_unknown: bool,
    /// With `user`: one more candidate, an item known only by this text.
    item_text: Option<String>,
}

/// The POST body as a [`RecommendBody`]: a JSON object only (serde would also fill a struct
/// from an array, by position); raw ids may be JSON numbers (MovieLens ids are), turned into
/// their decimal strings.
fn recommend_body(v: Value) -> Result<RecommendBody, String> {
    let Value::Object(mut m) = v else {
        return Err("the body must be a JSON object, e.g. {\"history\": [\"1\", \"260\"], \"k\": 10}".into());
    };
    let id = |x: &mut Value| {
        if let Value::Number(n) = x {
            *x = Value::String(n.to_string());
        }
    };
    if let Some(u) = m.get_mut("user") {
        id(u);
    }
    if let Some(Value::Array(h)) = m.get_mut("history") {
        h.iter_mut().for_each(id);
    }
    serde_json::from_value(Value::Object(m)).map_err(|e| format!("request body: {e}"))
}

fn ten() -> usize {
    10
}

async fn post_recommend(State(s): State<Shared>, body: Result<Json<Value>, JsonRejection>) -> Response {
    // Wrong field types or unknown fields are bad requests like malformed JSON (422 stays for
    // "this model cannot answer that").
    let b = match body.map(|Json(v)| recommend_body(v)) {
        Ok(Ok(b)) => b,
        Ok(Err(msg)) => return error(StatusCode::BAD_REQUEST, msg),
        Err(r) => return error(r.status(), r.body_text()),
    };
    let popular = match b.fallback.as_deref() {
        None => false,
        Some("popular") => true,
        Some(v) => return error(StatusCode::BAD_REQUEST, format!("fallback = `{v}`: the only fallback is `popular`")),
    };
    let alone = b.history.is_none() && b.user_features.is_none() && b.fallback.is_none() && !b.skip_unknown;
    if let (Some(user), Some(text), true) = (&b.user, &b.item_text, alone) {
        let (user, text) = (user.clone(), text.clone());
        return answer(s.engine(), move |e| Ok((e.recommend_text(&user, &text, b.k, b.include_seen)?, json!({ "user": user, "text": text })))).await;
    }
    if b.item_text.is_some() {
        return error(
            StatusCode::BAD_REQUEST,
            "`item_text` goes with `user` (a training user's raw id) alone, without `history`, `user_features`, `fallback` or `skip_unknown`",
        );
    }
    match (b.user, b.history, b.user_features) {
        (Some(user), None, None) => answer(s.engine(), move |e| Ok((e.recommend(&user, b.k, b.include_seen, popular)?, json!({ "user": user })))).await,
        (None, Some(history), None) => {
            answer(s.engine(), move |e| {
                Ok((e.recommend_history(&history, b.k, b.include_seen, b.skip_unknown)?, json!({ "history": Engine::distinct(&history) })))
            })
            .await
        }
        (None, None, Some(features)) => answer(s.engine(), move |e| Ok((e.recommend_features(&features, b.k)?, json!({ "user_features": features })))).await,
        _ => error(
            StatusCode::BAD_REQUEST,
            "give exactly one of `user` (a training user's raw id), `history` (raw item ids) or `user_features` (`field=value` names, deep-hybrid)",
        ),
    }
}

async fn get_similar(State(s): State<Shared>, q: Result<Query<Vec<(String, String)>>, QueryRejection>) -> Response {
    let map = match params(q, &["item", "k"]) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let (item, k) = match (required(&map, "item"), k_of(&map)) {
        (Ok(i), Ok(k)) => (i.to_string(), k),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    answer(s.engine(), move |e| Ok((e.similar(&item, k)?, json!({ "item": item })))).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimilarBody {
    item: Option<Value>,
    text: Option<String>,
    #[serde(default = "ten")]
    k: usize,
}

async fn post_similar(State(s): State<Shared>, body: Result<Json<Value>, JsonRejection>) -> Response {
    let b: SimilarBody = match body.map(|Json(v)| serde_json::from_value::<SimilarBody>(v)) {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            return error(StatusCode::BAD_REQUEST, format!("request body: {e} (expected {{\"item\": \"I\"}} or {{\"text\": \"…\"}}, and optionally \"k\")"));
        }
        Err(r) => return error(r.status(), r.body_text()),
    };
    let k = b.k;
    match (b.item, b.text) {
        (Some(item), None) => {
            let item = match item {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                other => return error(StatusCode::BAD_REQUEST, format!("`item` = {other}: expected a raw item id")),
            };
            answer(s.engine(), move |e| Ok((e.similar(&item, k)?, json!({ "item": item })))).await
        }
        (None, Some(text)) => answer(s.engine(), move |e| Ok((e.similar_text(&text, k)?, json!({ "text": text })))).await,
        _ => error(StatusCode::BAD_REQUEST, "give exactly one of `item` (a raw item id) or `text` (an item known only by its text)"),
    }
}

/// A model directory loaded for serving; models over item text also get their sentence
/// encoder (`encoder`, else the one they were trained with). An encoder that cannot be loaded
/// is reported on stderr and leaves text queries unanswerable (422), the rest served.
fn ready_engine(dir: &std::path::Path, backend: Backend, encoder: Option<&std::path::Path>) -> anyhow::Result<Engine> {
    let mut engine = Engine::new(modeldir::load(dir, backend)?);
    if engine.dir.item_text.is_some()
        && let Err(e) = engine.load_encoder(encoder, &backend.device())
    {
        eprintln!("warning: queries by text will be refused: {e:#}");
    }
    Ok(engine)
}

async fn health(State(s): State<Shared>) -> Response {
    let e = s.engine();
    let m = &e.dir.manifest;
    Json(json!({
        "status": "ok",
        "model": m.model,
        "dataset": m.dataset_name,
        "users": e.dir.users.len(),
        "items": e.dir.items.len(),
        "trained_at_unix": m.trained_at_unix,
        "model_dir": s.model_dir.read().unwrap_or_else(|e| e.into_inner()).display().to_string(),
        "factor_path": e.is_factor_model(),
    }))
    .into_response()
}

async fn metrics(State(s): State<Shared>) -> Response {
    let endpoints: serde_json::Map<String, Value> = ENDPOINTS.iter().zip(&s.stats).map(|(n, st)| (n.to_string(), st.to_json())).collect();
    Json(json!({
        "uptime_s": s.started.elapsed().as_secs_f64(),
        "model": s.engine().dir.manifest.model,
        "reloads": s.reloads.load(Ordering::Relaxed),
        "endpoints": endpoints,
    }))
    .into_response()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReloadBody {
    model_dir: Option<PathBuf>,
}

async fn reload(State(s): State<Shared>, ConnectInfo(peer): ConnectInfo<SocketAddr>, body: axum::body::Bytes) -> Response {
    if !peer.ip().to_canonical().is_loopback() {
        return error(StatusCode::FORBIDDEN, "/admin/reload accepts loopback clients only");
    }
    let body: ReloadBody = if body.is_empty() {
        ReloadBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("reload body: {e} (expected {{\"model_dir\": \"PATH\"}} or nothing)")),
        }
    };
    // One reload at a time; requests keep being answered by the current model meanwhile.
    let _one = s.reload_lock.lock().await;
    let dir = body.model_dir.unwrap_or_else(|| s.model_dir.read().unwrap_or_else(|e| e.into_inner()).clone());
    let backend = s.backend;
    let load_dir = dir.clone();
    let encoder = s.encoder.clone();
    let loaded = tokio::task::spawn_blocking(move || ready_engine(&load_dir, backend, encoder.as_deref())).await;
    match loaded {
        Ok(Ok(engine)) => {
            let model = engine.dir.manifest.model.clone();
            *s.engine.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(engine);
            *s.model_dir.write().unwrap_or_else(|e| e.into_inner()) = dir.clone();
            s.reloads.fetch_add(1, Ordering::Relaxed);
            eprintln!("reloaded `{}` ({model})", dir.display());
            Json(json!({ "reloaded": true, "model": model, "model_dir": dir.display().to_string() })).into_response()
        }
        Ok(Err(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, format!("reload failed, still serving the previous model: {e:#}")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("reload failed: {e}")),
    }
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such endpoint: see /recommend, /similar, /health, /metrics, /admin/reload")
}

async fn wrong_method() -> Response {
    error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed: GET or POST /recommend, GET or POST /similar, /health, /metrics, POST /admin/reload")
}

async fn track(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let endpoint = match req.uri().path() {
        "/recommend" => 0,
        "/similar" => 1,
        "/health" => 2,
        "/metrics" => 3,
        "/admin/reload" => 4,
        _ => 5,
    };
    let start = Instant::now();
    let response = next.run(req).await;
    s.stats[endpoint].record(response.status(), start.elapsed().as_secs_f64() * 1e6);
    response
}

fn router(state: Shared, max_body: usize) -> Router {
    Router::new()
        .route("/recommend", get(get_recommend).post(post_recommend))
        .route("/similar", get(get_similar).post(post_similar))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/admin/reload", post(reload))
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

async fn shutdown_signal(started: tokio::sync::oneshot::Sender<()>) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    eprintln!("shutting down: draining requests in flight");
    let _ = started.send(());
}

/// Runs `burnrec serve` until SIGTERM / Ctrl-C. Prints `listening on http://ADDR` on stdout
/// once the socket is bound (with the real port when `--addr` asks for port 0).
///
/// # Errors
/// The model directory cannot be loaded, the address cannot be bound, or the server fails.
pub fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    if args.max_body_bytes == 0 {
        anyhow::bail!("--max-body-bytes must be at least 1");
    }
    if !(args.shutdown_timeout.is_finite() && args.shutdown_timeout >= 0.0) {
        anyhow::bail!("--shutdown-timeout must be a number of seconds >= 0");
    }
    let engine = ready_engine(&args.model_dir, args.backend, args.encoder.as_deref())?;
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(t) = args.threads {
        rt.worker_threads(t.max(1));
    }
    let rt = rt.enable_all().build().context("starting the async runtime")?;
    let state = Arc::new(AppState {
        engine: RwLock::new(Arc::new(engine)),
        model_dir: RwLock::new(args.model_dir.clone()),
        backend: args.backend,
        encoder: args.encoder.clone(),
        started: Instant::now(),
        stats: ENDPOINTS.iter().map(|_| EndpointStats::new()).collect(),
        reloads: AtomicU64::new(0),
        reload_lock: tokio::sync::Mutex::new(()),
    });
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr).await.with_context(|| format!("binding {}", args.addr))?;
        let addr = listener.local_addr()?;
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on http://{addr}")?;
            out.flush()?;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let server = axum::serve(listener, router(state, args.max_body_bytes).into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown_signal(tx));
        // The drain is bounded: a client that never finishes its request cannot hold the
        // process up for longer than --shutdown-timeout after SIGTERM.
        let deadline = async {
            if rx.await.is_err() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(std::time::Duration::from_secs_f64(args.shutdown_timeout)).await;
        };
        tokio::select! {
            r = server => r.context("serving"),
            () = deadline => {
                eprintln!("requests still in flight after {} s: exiting anyway", args.shutdown_timeout);
                Ok(())
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_quantiles_read_the_bucket_edges() {
        let s = EndpointStats::new();
        // 90 requests at 100 µs, 9 at 1 ms, 1 at 50 ms.
        for _ in 0..90 {
            s.record(StatusCode::OK, 100.0);
        }
        for _ in 0..9 {
            s.record(StatusCode::NOT_FOUND, 1000.0);
        }
        s.record(StatusCode::INTERNAL_SERVER_ERROR, 50_000.0);
        let j = s.to_json();
        assert_eq!((j["requests"].as_u64(), j["2xx"].as_u64(), j["4xx"].as_u64(), j["5xx"].as_u64()), (Some(100), Some(90), Some(9), Some(1)));
        let q = |p: &str| j["latency_ms"][p].as_f64().unwrap();
        // Bucket edges: 2^(ceil(8 log2 x)/8) µs, within 9 % above the value.
        assert!((0.1..0.1 * 1.091).contains(&q("p50")), "{}", q("p50"));
        assert!((0.1..0.1 * 1.091).contains(&q("p90")), "{}", q("p90"));
        assert!((1.0..1.091).contains(&q("p99")), "{}", q("p99"));
        assert!((50.0..50.0 * 1.091).contains(&q("p999")), "{}", q("p999"));
        assert!(EndpointStats::new().to_json()["latency_ms"]["p50"].is_null());
    }
}
