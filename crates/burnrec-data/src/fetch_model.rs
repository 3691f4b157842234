//! Downloading pretrained models (the sentence encoder all-MiniLM-L6-v2) from the Hugging Face
//! hub into the same cache as the datasets ([`crate::fetch`]), every file verified by its
//! pinned SHA-256.
//!
//! A model is a folder of files, fetched one by one from
//! `<base>/<repo>/resolve/<revision>/<path>` into a temporary folder, each checked against its
//! checksum, then renamed into place as `<cache>/<name>/` with a `.complete` marker written last
//! — a failed or interrupted fetch leaves no entry and no temporary files. The files are
//! fetched from the repository's `main` revision; a file changed upstream fails its checksum
//! loudly rather than load unverified.
//!
//! ```no_run
//! use burnrec_data::fetch::FetchOptions;
//! let dir = burnrec_data::fetch_model::fetch_model("all-MiniLM-L6-v2", &FetchOptions::new()?)?;
//! assert!(dir.join("model.safetensors").is_file());
//! # Ok::<(), burnrec_data::DataError>(())
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::DataError;
use crate::fetch::{FetchOptions, MARKER, Temp, agent, download_to, install, io_error, unique_stem};

/// A model of the hub: its files and their checksums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelFiles {
    /// The name used by `burnrec fetch` and for the cache folder.
    pub name: &'static str,
    /// The hub repository, `owner/name`.
    pub repo: &'static str,
    /// The revision (branch or commit) the files are read from.
    pub revision: &'static str,
    /// `(path in the repository, lowercase hex sha256)`; the first is the file whose presence
    /// marks a usable copy.
    pub files: &'static [(&'static str, &'static str)],
}

/// The hub's address.
pub const HUB: &str = "https://huggingface.co";

/// The models [`fetch_model`] knows.
pub const MODELS: &[ModelFiles] = &[ModelFiles {
    name: "all-MiniLM-L6-v2",
    repo: "sentence-transformers/all-MiniLM-L6-v2",
    revision: "main",
    // The checksums of `shared/models/all-MiniLM-L6-v2/SOURCE.md` (the repository's files,
    // unchanged).
    files: &[
        ("model.safetensors", "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
        ("config.json", "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
        ("tokenizer.json", "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
        ("modules.json", "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"),
        ("1_Pooling/config.json", "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23"),
        ("sentence_bert_config.json", "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"),
        ("config_sentence_transformers.json", "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3"),
        ("special_tokens_map.json", "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"),
        ("tokenizer_config.json", "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"),
        ("vocab.txt", "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
        ("README.md", "7dfc82496ec33f906b5b0d6750c1e2397da6530c74d1ae3568c55bc2739125e7"),
    ],
}];

/// The model called `name`, if [`fetch_model`] knows it.
pub fn model(name: &str) -> Option<&'static ModelFiles> {
    MODELS.iter().find(|m| m.name == name)
}

/// The folder of `name` in `cache_dir` if a complete copy is there (no network).
pub fn fetched_model(name: &str, cache_dir: &Path) -> Option<PathBuf> {
    model(name).and_then(|m| complete(m, cache_dir))
}

fn complete(m: &ModelFiles, cache_dir: &Path) -> Option<PathBuf> {
    let dir = cache_dir.join(m.name);
    (dir.join(MARKER).is_file() && dir.join(m.files[0].0).is_file()).then_some(dir)
}

/// Downloads and verifies the model `name` (one of [`MODELS`]) into `<cache_dir>/<name>/`
/// unless a complete copy is there, and returns that folder. [`FetchOptions::url`] replaces
/// the hub's address (a mirror serving the same `<repo>/resolve/<revision>/<path>` layout, or
/// a test server); [`FetchOptions::expected_sha256`] is not used (every file has its own).
///
/// # Errors
/// [`DataError::Spec`] for an unknown name, an HTTP or network failure, or a checksum
/// mismatch (naming the file); [`DataError::Io`] for a cache folder that cannot be written.
/// After an error no entry has been created and no temporary files are left behind.
pub fn fetch_model(name: &str, opts: &FetchOptions) -> Result<PathBuf, DataError> {
    let m = model(name)
        .ok_or_else(|| DataError::Spec(format!("unknown model `{name}`: expected one of {}", MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", "))))?;
    fetch_files(m, opts, &mut |_, _, _| {})
}

/// [`fetch_model`] for any [`ModelFiles`], calling `progress(file, bytes, total)` during each
/// download.
///
/// # Errors
/// As [`fetch_model`].
pub fn fetch_files(m: &ModelFiles, opts: &FetchOptions, progress: &mut dyn FnMut(&str, u64, Option<u64>)) -> Result<PathBuf, DataError> {
    if !opts.force
        && let Some(dir) = complete(m, &opts.cache_dir)
    {
        return Ok(dir);
    }
    let base = opts.url.as_deref().unwrap_or(HUB).trim_end_matches('/');
    let cache = &opts.cache_dir;
    fs::create_dir_all(cache).map_err(io_error(cache))?;
    let stem = unique_stem(m.name);
    let tmp = Temp::new(cache.join(format!("{stem}.tmp")));
    for (path, sha) in m.files {
        let dest = tmp.path.join(path);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        let url = format!("{base}/{}/resolve/{}/{path}", m.repo, m.revision);
        let actual = download_to(&agent(opts.url.is_none()), &url, &dest, &mut |done, total| progress(path, done, total))?;
        if actual != *sha {
            return Err(DataError::Spec(format!(
                "checksum mismatch for `{path}` of `{}` ({url}): expected sha256 {sha}, got {actual}; the download was discarded",
                m.name
            )));
        }
    }
    let marker = tmp.path.join(MARKER);
    fs::write(&marker, m.files.iter().map(|(p, s)| format!("{s}  {p}\n")).collect::<String>()).map_err(io_error(&marker))?;
    let entry = cache.join(m.name);
    match install(tmp, &entry, cache, &stem) {
        Ok(()) => Ok(entry),
        Err(err) => complete(m, cache).ok_or(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use std::collections::HashMap;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::thread;
    use std::time::{Duration, Instant};

    fn sha(b: &[u8]) -> String {
        Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
    }

    /// A loopback HTTP server answering `GET /path` from `files` (404 otherwise) for up to
    /// `max` requests; joining it gives the paths asked for.
    fn serve(files: HashMap<String, Vec<u8>>, max: usize) -> (String, thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let handle = thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut seen = Vec::new();
            while seen.len() < max && Instant::now() < deadline {
                let mut stream = match listener.accept() {
                    Ok((s, _)) => s,
                    Err(_) => {
                        thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                };
                stream.set_nonblocking(false).unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_string();
                let path = line.split_whitespace().nth(1).unwrap_or_default().to_string();
                let (status, body) = match files.get(&path) {
                    Some(b) => ("200 OK", b.clone()),
                    None => ("404 Not Found", b"no".to_vec()),
                };
                let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = stream.write_all(&body);
                seen.push(path);
            }
            seen
        });
        (url, handle)
    }

    const WEIGHTS: &[u8] = b"weights";
    const POOLING: &[u8] = b"{\"pooling_mode_mean_tokens\": true}";

    fn spec(pooling_sha: &'static str) -> ModelFiles {
        let weights_sha: &'static str = Box::leak(sha(WEIGHTS).into_boxed_str());
        let files: &'static [(&'static str, &'static str)] =
            Box::leak(vec![("model.safetensors", weights_sha), ("1_Pooling/config.json", pooling_sha)].into_boxed_slice());
        ModelFiles { name: "tiny", repo: "org/tiny", revision: "r1", files }
    }

    fn hub() -> HashMap<String, Vec<u8>> {
        HashMap::from([
            ("/org/tiny/resolve/r1/model.safetensors".to_string(), WEIGHTS.to_vec()),
            ("/org/tiny/resolve/r1/1_Pooling/config.json".to_string(), POOLING.to_vec()),
        ])
    }

    #[test]
    fn fetches_every_file_verified_then_serves_the_cached_copy() {
        let cache = tempfile::tempdir().unwrap();
        let (url, server) = serve(hub(), 2);
        let m = spec(Box::leak(sha(POOLING).into_boxed_str()));
        let opts = FetchOptions { url: Some(url), ..FetchOptions::with_cache_dir(cache.path()) };
        let dir = fetch_files(&m, &opts, &mut |_, _, _| {}).unwrap();
        assert_eq!(dir, cache.path().join("tiny"));
        assert_eq!(fs::read(dir.join("1_Pooling/config.json")).unwrap(), POOLING);
        assert_eq!(server.join().unwrap(), ["/org/tiny/resolve/r1/model.safetensors", "/org/tiny/resolve/r1/1_Pooling/config.json"]);
        // Cached: no network (the server is gone), same folder.
        assert_eq!(fetch_files(&m, &opts, &mut |_, _, _| {}).unwrap(), dir);
        assert!(fs::read_to_string(dir.join(MARKER)).unwrap().contains("1_Pooling/config.json"));
    }

    #[test]
    fn a_wrong_checksum_or_a_missing_file_leaves_nothing() {
        let cache = tempfile::tempdir().unwrap();
        let (url, server) = serve(hub(), 2);
        let bad = spec("0000000000000000000000000000000000000000000000000000000000000000");
        let opts = FetchOptions { url: Some(url), ..FetchOptions::with_cache_dir(cache.path()) };
        let e = fetch_files(&bad, &opts, &mut |_, _, _| {}).unwrap_err().to_string();
        assert!(e.contains("checksum mismatch for `1_Pooling/config.json` of `tiny`"), "{e}");
        server.join().unwrap();
        assert_eq!(fs::read_dir(cache.path()).unwrap().count(), 0, "no entry, no temporary files");
        let (url, server) = serve(HashMap::new(), 1);
        let opts = FetchOptions { url: Some(url), ..FetchOptions::with_cache_dir(cache.path()) };
        let e = fetch_files(&spec("00"), &opts, &mut |_, _, _| {}).unwrap_err().to_string();
        assert!(e.contains("HTTP 404"), "{e}");
        server.join().unwrap();
        assert_eq!(fs::read_dir(cache.path()).unwrap().count(), 0);
        assert!(fetch_model("no-such-model", &opts).unwrap_err().to_string().contains("expected one of all-MiniLM-L6-v2"));
    }

    #[test]
    fn the_pinned_checksums_are_those_of_the_shared_copy() {
        // Where the shared copy exists, every pinned checksum is that of its file.
        let Some(dir) = crate::shared::MINILM.for_test(Path::new(env!("CARGO_MANIFEST_DIR")), "the_pinned_checksums_are_those_of_the_shared_copy") else {
            return;
        };
        for (path, pinned) in model("all-MiniLM-L6-v2").unwrap().files {
            assert_eq!(sha(&fs::read(dir.join(path)).unwrap()), *pinned, "{path}");
        }
    }
}
