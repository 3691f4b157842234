//! Downloading the official MovieLens archives into a local cache, verified by SHA-256.
//!
//! [`fetch`] downloads one of the [`ARCHIVES`] from GroupLens (streaming it to disk while
//! hashing it), refuses it unless its SHA-256 matches the pinned checksum, unpacks it and
//! returns the folder that holds its ratings file. Later calls find the cached copy and do not
//! touch the network.
//!
//! ```no_run
//! use burnrec_data::fetch::{fetch, FetchOptions};
//! let dir = fetch("ml-1m", &FetchOptions::new()?)?;
//! assert!(dir.join("ratings.dat").is_file());
//! # Ok::<(), burnrec_data::DataError>(())
//! ```
//!
//! # Cache layout
//!
//! ```text
//! <cache>/<name>/.complete            the archive's sha256, written last
//! <cache>/<name>/<folder>/<ratings>   the unpacked archive, e.g. ml-1m/ml-1m/ratings.dat
//! ```
//!
//! `<cache>` is [`cache_dir()`]: `$BURNREC_DATA`, or `burnrec` under the platform's cache
//! folder. An entry is only ever put in place by a `rename` of a fully unpacked and checked
//! temporary folder, so a failed or interrupted fetch leaves no half-written entry.

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::error::DataError;

/// The environment variable that overrides the cache folder (see [`cache_dir()`]).
pub const CACHE_ENV: &str = "BURNREC_DATA";

/// Name of the marker file, written last into a complete cache entry; it holds the sha256.
pub(crate) const MARKER: &str = ".complete";

/// Size of the read buffer used while downloading and unpacking.
const CHUNK: usize = 1 << 16;

/// Which loader layout an archive's ratings file uses (the kind prefix of a
/// [`DatasetSpec`](crate::DatasetSpec) such as `ml-1m:PATH`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArchiveKind {
    /// MovieLens 100K: tab-separated `u.data`.
    Ml100k,
    /// MovieLens 1M / 10M: `::`-separated `ratings.dat`.
    Ml1m,
    /// MovieLens latest / 20M / 25M: `ratings.csv` with a header.
    MlLatest,
}

impl ArchiveKind {
    /// The dataset-spec kind: `"ml-100k"`, `"ml-1m"` or `"ml-latest"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ml100k => "ml-100k",
            Self::Ml1m => "ml-1m",
            Self::MlLatest => "ml-latest",
        }
    }
}

impl fmt::Display for ArchiveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One official GroupLens archive that [`fetch`] knows how to download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Archive {
    /// The name used on the command line and as the cache entry, e.g. `ml-1m`.
    pub name: &'static str,
    /// The official download URL.
    pub url: &'static str,
    /// The pinned SHA-256 of the zip (lowercase hex), or `None` if no verified checksum is
    /// known; such an archive can only be fetched with [`FetchOptions::expected_sha256`].
    pub sha256: Option<&'static str>,
    /// The folder inside the zip that holds the data, e.g. `ml-10M100K`.
    pub folder: &'static str,
    /// The ratings file inside [`folder`](Self::folder), e.g. `ratings.dat`.
    pub ratings_file: &'static str,
    /// The loader layout of the ratings file.
    pub kind: ArchiveKind,
}

/// The official MovieLens archives, smallest first.
///
/// Checksum sources (each is the SHA-256 of the zip as served by files.grouplens.org):
/// - ml-100k, ml-1m, ml-20m, ml-25m, ml-latest-small: TensorFlow Datasets,
///   `tensorflow/datasets`, `tensorflow_datasets/url_checksums/movielens.txt` (which also
///   records the byte sizes 4924029, 5917549, 198702078, 261978986 and 978202).
/// - ml-10m (not in TensorFlow Datasets): `ISG-Siegen/OmniRec`,
///   `src/omnirec/data_loaders/movielens_small.py`, corroborated by several independent
///   research repositories that pin the same value together with the size 65566137 bytes
///   and GroupLens's published MD5 `ce571fd55effeba0271552578f2648bd`.
pub static ARCHIVES: &[Archive] = &[
    Archive {
        name: "ml-100k",
        url: "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        // tensorflow/datasets: tensorflow_datasets/url_checksums/movielens.txt (4924029 bytes);
        // also ISG-Siegen/OmniRec src/omnirec/data_loaders/movielens_100k.py.
        sha256: Some("50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"),
        folder: "ml-100k",
        ratings_file: "u.data",
        kind: ArchiveKind::Ml100k,
    },
    Archive {
        name: "ml-latest-small",
        url: "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
        // tensorflow/datasets: tensorflow_datasets/url_checksums/movielens.txt (978202 bytes);
        // also ISG-Siegen/OmniRec src/omnirec/data_loaders/movielens_large.py.
        sha256: Some("696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436"),
        folder: "ml-latest-small",
        ratings_file: "ratings.csv",
        kind: ArchiveKind::MlLatest,
    },
    Archive {
        name: "ml-1m",
        url: "https://files.grouplens.org/datasets/movielens/ml-1m.zip",
        // tensorflow/datasets: tensorflow_datasets/url_checksums/movielens.txt (5917549 bytes);
        // also ISG-Siegen/OmniRec src/omnirec/data_loaders/movielens_small.py.
        sha256: Some("a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20"),
        folder: "ml-1m",
        ratings_file: "ratings.dat",
        kind: ArchiveKind::Ml1m,
    },
    Archive {
        name: "ml-10m",
        url: "https://files.grouplens.org/datasets/movielens/ml-10m.zip",
        // ISG-Siegen/OmniRec: src/omnirec/data_loaders/movielens_small.py (65566137 bytes,
        // GroupLens MD5 ce571fd55effeba0271552578f2648bd, per independent pins of the same hash).
        sha256: Some("813c411ccb6122564edfe752e7f80c4dcc5aa25fa94c93622f6877a7ba252862"),
        folder: "ml-10M100K",
        ratings_file: "ratings.dat",
        kind: ArchiveKind::Ml1m,
    },
    Archive {
        name: "ml-20m",
        url: "https://files.grouplens.org/datasets/movielens/ml-20m.zip",
        // tensorflow/datasets: tensorflow_datasets/url_checksums/movielens.txt (198702078 bytes);
        // also ISG-Siegen/OmniRec src/omnirec/data_loaders/movielens_large.py.
        sha256: Some("96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3"),
        folder: "ml-20m",
        ratings_file: "ratings.csv",
        kind: ArchiveKind::MlLatest,
    },
    Archive {
        name: "ml-25m",
        url: "https://files.grouplens.org/datasets/movielens/ml-25m.zip",
        // tensorflow/datasets: tensorflow_datasets/url_checksums/movielens.txt (261978986 bytes);
        // also ISG-Siegen/OmniRec src/omnirec/data_loaders/movielens_large.py.
        sha256: Some("8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa"),
        folder: "ml-25m",
        ratings_file: "ratings.csv",
        kind: ArchiveKind::MlLatest,
    },
];

/// The archive called `name`, if [`fetch`] knows it.
pub fn archive(name: &str) -> Option<&'static Archive> {
    ARCHIVES.iter().find(|a| a.name == name)
}

/// The names of all [`ARCHIVES`], comma-separated (for messages and `--help`).
pub fn known_names() -> String {
    ARCHIVES.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
}

/// The cache folder for downloaded datasets: `$BURNREC_DATA` if set and non-empty, otherwise
/// `burnrec` inside the platform's cache folder (e.g. `~/.cache/burnrec` on Linux).
///
/// # Errors
/// [`DataError::Spec`] if `BURNREC_DATA` is unset and the platform has no cache folder.
pub fn cache_dir() -> Result<PathBuf, DataError> {
    cache_dir_from(std::env::var_os(CACHE_ENV), dirs::cache_dir())
}

fn cache_dir_from(env: Option<OsString>, platform: Option<PathBuf>) -> Result<PathBuf, DataError> {
    match env {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => platform
            .map(|dir| dir.join("burnrec"))
            .ok_or_else(|| DataError::Spec(format!("cannot find a cache folder for downloaded datasets: set {CACHE_ENV} to a writable folder"))),
    }
}

/// Options of [`fetch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchOptions {
    /// The cache folder; the archive is unpacked into `<cache_dir>/<name>`.
    pub cache_dir: PathBuf,
    /// Downloads from this URL instead of the official one (a mirror, or a test server).
    pub url: Option<String>,
    /// The expected SHA-256 (hex, any case) instead of the pinned one. Needed for an archive
    /// without a pinned checksum, or for a mirror that serves a different file.
    pub expected_sha256: Option<String>,
    /// Downloads again even if a complete copy is cached (the old copy is replaced only once the
    /// new one is complete).
    pub force: bool,
}

impl FetchOptions {
    /// Default options on the default [`cache_dir()`].
    ///
    /// # Errors
    /// As [`cache_dir()`].
    pub fn new() -> Result<Self, DataError> {
        Ok(Self::with_cache_dir(cache_dir()?))
    }

    /// Default options on the given cache folder: official URL, pinned checksum, no `force`.
    pub fn with_cache_dir(cache_dir: impl Into<PathBuf>) -> Self {
        Self { cache_dir: cache_dir.into(), url: None, expected_sha256: None, force: false }
    }
}

/// The dataset folder of `name` (`<cache_dir>/<name>/<folder>`, holding the ratings file) if a
/// complete copy is cached there, without touching the network. `None` for unknown names.
pub fn fetched(name: &str, cache_dir: &Path) -> Option<PathBuf> {
    archive(name).and_then(|a| complete_dir(a, cache_dir))
}

/// Downloads, verifies and unpacks the archive `name` (one of [`ARCHIVES`]) into the cache
/// unless a complete copy is already there, and returns its dataset folder
/// (`<cache_dir>/<name>/<folder>`, which holds the ratings file).
///
/// # Errors
/// [`DataError::Spec`] for an unknown name, an archive without a known checksum (and no
/// [`FetchOptions::expected_sha256`]), an HTTP or network failure, a checksum mismatch, or a
/// corrupt or unsafe archive; [`DataError::Io`] (naming the path) for a cache folder that cannot
/// be written. After an error no entry `<cache_dir>/<name>` has been created and no temporary
/// files are left behind.
pub fn fetch(name: &str, opts: &FetchOptions) -> Result<PathBuf, DataError> {
    fetch_with_progress(name, opts, |_, _| {})
}

/// As [`fetch`], calling `progress(bytes_downloaded, total_bytes)` after each chunk of the
/// download (`total_bytes` is the server's `Content-Length`, if any). It is not called when a
/// cached copy is returned.
///
/// # Errors
/// As [`fetch`].
pub fn fetch_with_progress(name: &str, opts: &FetchOptions, progress: impl FnMut(u64, Option<u64>)) -> Result<PathBuf, DataError> {
    let archive = archive(name).ok_or_else(|| DataError::Spec(format!("unknown dataset `{name}`: expected one of {}", known_names())))?;
    if let Some(dir) = cached(archive, opts) {
        return Ok(dir);
    }
    fetch_archive(archive, opts, &agent(true), progress)
}

fn cached(archive: &Archive, opts: &FetchOptions) -> Option<PathBuf> {
    if opts.force { None } else { complete_dir(archive, &opts.cache_dir) }
}

/// The HTTP agent: HTTP errors come back as responses (so that the status can be reported),
/// with timeouts on connecting and on each read but none on the whole (large) transfer.
pub(crate) fn agent(proxy_from_env: bool) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .user_agent(concat!("burnrec/", env!("CARGO_PKG_VERSION")));
    if !proxy_from_env {
        config = config.proxy(None);
    }
    config.build().into()
}

fn complete_dir(archive: &Archive, cache_dir: &Path) -> Option<PathBuf> {
    let entry = cache_dir.join(archive.name);
    let dir = entry.join(archive.folder);
    (entry.join(MARKER).is_file() && dir.join(archive.ratings_file).is_file()).then_some(dir)
}

fn fetch_archive(archive: &Archive, opts: &FetchOptions, agent: &ureq::Agent, mut progress: impl FnMut(u64, Option<u64>)) -> Result<PathBuf, DataError> {
    if let Some(dir) = cached(archive, opts) {
        return Ok(dir);
    }
    let url = opts.url.as_deref().unwrap_or(archive.url);
    let expected = expected_sha256(archive, opts, url)?;
    let cache = &opts.cache_dir;
    fs::create_dir_all(cache).map_err(io_error(cache))?;
    let stem = unique_stem(archive.name);

    let download = Temp::new(cache.join(format!("{stem}.zip.part")));
    let actual = download_to(agent, url, &download.path, &mut progress)?;
    if actual != expected {
        return Err(DataError::Spec(format!(
            "checksum mismatch for `{url}`: expected sha256 {expected}, got {actual}; \
             the download was discarded"
        )));
    }

    let unpacked = Temp::new(cache.join(format!("{stem}.tmp")));
    unzip(&download.path, &unpacked.path, url)?;
    drop(download);
    if !unpacked.path.join(archive.folder).join(archive.ratings_file).is_file() {
        return Err(DataError::Spec(format!("archive `{url}` does not contain `{}/{}`", archive.folder, archive.ratings_file)));
    }
    let marker = unpacked.path.join(MARKER);
    fs::write(&marker, format!("{expected}\n")).map_err(io_error(&marker))?;

    let entry = cache.join(archive.name);
    match install(unpacked, &entry, cache, &stem) {
        Ok(()) => Ok(entry.join(archive.folder)),
        // Another process may have installed a complete copy at the same time.
        Err(err) => complete_dir(archive, cache).ok_or(err),
    }
}

/// The checksum to verify against, validated and lowercased.
fn expected_sha256(archive: &Archive, opts: &FetchOptions, url: &str) -> Result<String, DataError> {
    let raw = match (opts.expected_sha256.as_deref(), archive.sha256) {
        (Some(given), _) => given,
        (None, Some(pinned)) => pinned,
        (None, None) => {
            return Err(DataError::Spec(format!(
                "no verified sha256 checksum is known for `{}` ({url}): refusing to download it \
                 unverified; check the archive yourself and pass its checksum explicitly \
                 (`FetchOptions::expected_sha256`)",
                archive.name
            )));
        }
    };
    let sha = raw.trim().to_ascii_lowercase();
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DataError::Spec(format!("invalid sha256 checksum `{raw}`: expected 64 hexadecimal digits")));
    }
    Ok(sha)
}

/// Streams `url` into the new file `dest`, returning the lowercase hex sha256 of the bytes.
pub(crate) fn download_to(agent: &ureq::Agent, url: &str, dest: &Path, progress: &mut impl FnMut(u64, Option<u64>)) -> Result<String, DataError> {
    let mut response = agent.get(url).call().map_err(|e| DataError::Spec(format!("cannot download `{url}`: {e}")))?;
    let status = response.status();
    if !status.is_success() {
        return Err(DataError::Spec(format!("cannot download `{url}`: server answered HTTP {status}")));
    }
    let total = response.body().content_length();
    let file = File::create_new(dest).map_err(io_error(dest))?;
    let mut writer = BufWriter::with_capacity(CHUNK, file);
    let mut hasher = Sha256::new();
    let mut done = 0u64;
    pump(&mut response.body_mut().as_reader(), &mut writer, |chunk| {
        hasher.update(chunk);
        done += chunk.len() as u64;
        progress(done, total);
    })
    .map_err(|e| match e {
        PumpError::Read(e) => DataError::Spec(format!("download of `{url}` failed after {done} bytes: {e}")),
        PumpError::Write(e) => io_error(dest)(e),
    })?;
    writer.into_inner().map_err(|e| io_error(dest)(e.into_error()))?;
    if let Some(total) = total.filter(|&total| total != done) {
        return Err(DataError::Spec(format!("download of `{url}` is truncated: got {done} of {total} bytes")));
    }
    Ok(hex(&hasher.finalize()))
}

/// Unpacks the zip `archive` into the new folder `dest`, rejecting entries that are symbolic
/// links or whose path is absolute or leaves `dest` (zip-slip). `url` is for messages.
fn unzip(archive: &Path, dest: &Path, url: &str) -> Result<(), DataError> {
    let corrupt = |e: &dyn fmt::Display| DataError::Spec(format!("archive `{url}` is not a valid zip file: {e}"));
    fs::create_dir(dest).map_err(io_error(dest))?;
    let file = File::open(archive).map_err(io_error(archive))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| corrupt(&e))?;
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).map_err(|e| corrupt(&e))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        // `enclosed_name` turns a leading `/` into a relative path; refuse such entries too.
        let absolute = name.starts_with(['/', '\\']) || name.get(1..2) == Some(":");
        let Some(relative) = entry.enclosed_name().filter(|_| !absolute) else {
            return Err(DataError::Spec(format!(
                "archive `{url}` holds an unsafe entry `{name}` (absolute, or outside the archive's \
                 folder); refusing to unpack it"
            )));
        };
        if entry.is_symlink() {
            return Err(DataError::Spec(format!("archive `{url}` holds a symbolic link `{name}`; refusing to unpack it")));
        }
        let out = dest.join(relative);
        if entry.is_dir() {
            fs::create_dir_all(&out).map_err(io_error(&out))?;
            continue;
        }
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        let mut writer = BufWriter::with_capacity(CHUNK, File::create_new(&out).map_err(io_error(&out))?);
        pump(&mut entry, &mut writer, |_| {}).map_err(|e| match e {
            PumpError::Read(e) => DataError::Spec(format!("archive `{url}` is not a valid zip file: cannot unpack `{name}`: {e}")),
            PumpError::Write(e) => io_error(&out)(e),
        })?;
        writer.into_inner().map_err(|e| io_error(&out)(e.into_error()))?;
    }
    Ok(())
}

/// Moves the complete folder `new` to `entry`, replacing (after the move) whatever was there.
pub(crate) fn install(new: Temp, entry: &Path, cache: &Path, stem: &str) -> Result<(), DataError> {
    let old = if fs::symlink_metadata(entry).is_ok() {
        let old = Temp::new(cache.join(format!("{stem}.old")));
        fs::rename(entry, &old.path).map_err(io_error(entry))?;
        Some(old)
    } else {
        None
    };
    match fs::rename(&new.path, entry) {
        Ok(()) => {
            new.keep();
            drop(old);
            Ok(())
        }
        Err(e) => {
            // Put the previous copy back rather than lose it.
            if let Some(old) = old
                && fs::symlink_metadata(entry).is_err()
                && fs::rename(&old.path, entry).is_ok()
            {
                old.keep();
            }
            Err(io_error(entry)(e))
        }
    }
}

enum PumpError {
    Read(io::Error),
    Write(io::Error),
}

/// Copies `reader` to `writer` in chunks, showing each chunk to `inspect` first.
fn pump(reader: &mut impl Read, writer: &mut impl Write, mut inspect: impl FnMut(&[u8])) -> Result<(), PumpError> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(PumpError::Read(e)),
        };
        inspect(&buf[..n]);
        writer.write_all(&buf[..n]).map_err(PumpError::Write)?;
    }
}

/// A temporary file or folder inside the cache, removed when dropped unless kept.
pub(crate) struct Temp {
    pub(crate) path: PathBuf,
}

impl Temp {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// Forgets the path (it has been renamed into place, or restored).
    fn keep(mut self) {
        self.path = PathBuf::new();
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if self.path.as_os_str().is_empty() {
            return;
        }
        match fs::symlink_metadata(&self.path) {
            Ok(meta) if meta.is_dir() => {
                let _ = fs::remove_dir_all(&self.path);
            }
            Ok(_) => {
                let _ = fs::remove_file(&self.path);
            }
            Err(_) => {}
        }
    }
}

/// A name prefix for temporary paths that no other fetch (in this or another process) uses.
pub(crate) fn unique_stem(name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(".{name}.{}.{nanos}.{n}", std::process::id())
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(io::Error) -> DataError + '_ {
    move |source| DataError::Io { path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::net::TcpListener;
    use std::thread::{self, JoinHandle};
    use std::time::Instant;

    /// A fresh folder under the system temp folder, removed on drop.
    struct TestDir(PathBuf);

    impl TestDir {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("burnrec-fetch-test-{tag}{}", unique_stem("")));
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        /// The cache folder used by the test (not created: `fetch` must create it).
        fn cache(&self) -> PathBuf {
            self.0.join("cache")
        }
    }

    impl Drop for TestDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// Sorted names in `dir` (empty if it does not exist).
    fn listing(dir: &Path) -> Vec<String> {
        let Ok(read) = fs::read_dir(dir) else { return Vec::new() };
        let mut names: Vec<String> = read.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn sha256_hex(bytes: &[u8]) -> String {
        hex(&Sha256::digest(bytes))
    }

    const U_DATA: &[u8] = b"196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n";

    fn ml100k_zip(u_data: &[u8]) -> Vec<u8> {
        zip_bytes(&[("ml-100k/u.data", u_data), ("ml-100k/README", b"fixture\n")])
    }

    /// A one-shot HTTP/1.1 server on loopback: answers up to `max` requests with `status` and
    /// `body`, then closes its socket (so any later request is refused). It gives up after a
    /// few seconds without a request. Joining it yields the request lines it saw.
    struct Server {
        url: String,
        handle: JoinHandle<Vec<String>>,
    }

    impl Server {
        fn start(status: &'static str, body: Vec<u8>, max: usize) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("http://{}/ml-100k.zip", listener.local_addr().unwrap());
            listener.set_nonblocking(true).unwrap();
            let handle = thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(10);
                let mut requests = Vec::new();
                while requests.len() < max && Instant::now() < deadline {
                    let mut stream = match listener.accept() {
                        Ok((stream, _)) => stream,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                        Err(e) => panic!("test server: accept failed: {e}"),
                    };
                    stream.set_nonblocking(false).unwrap();
                    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                        match stream.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            _ => break,
                        }
                    }
                    let head = String::from_utf8_lossy(&head);
                    requests.push(head.lines().next().unwrap_or_default().to_string());
                    let header = format!(
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/zip\r\n\
                         Connection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(header.as_bytes());
                    let _ = stream.write_all(&body);
                    let _ = stream.flush();
                }
                requests
            });
            Self { url, handle }
        }

        fn requests(self) -> Vec<String> {
            self.handle.join().unwrap()
        }
    }

    fn options(cache: PathBuf, url: &str, sha: Option<String>) -> FetchOptions {
        FetchOptions { url: Some(url.to_string()), expected_sha256: sha, ..FetchOptions::with_cache_dir(cache) }
    }

    fn ml100k() -> &'static Archive {
        archive("ml-100k").unwrap()
    }

    fn fetch_local(opts: &FetchOptions) -> Result<PathBuf, DataError> {
        fetch_archive(ml100k(), opts, &agent(false), |_, _| {})
    }

    #[test]
    fn fetch_downloads_verifies_unpacks_and_then_uses_the_cache() {
        let dir = TestDir::new("ok");
        let cache = dir.cache();
        let zip = ml100k_zip(U_DATA);
        let sha = sha256_hex(&zip);
        let server = Server::start("200 OK", zip.clone(), 1);
        // Upper case: the comparison must not care.
        let opts = options(cache.clone(), &server.url, Some(sha.to_uppercase()));

        let mut seen = Vec::new();
        let got = fetch_archive(ml100k(), &opts, &agent(false), |done, total| seen.push((done, total))).unwrap();
        assert_eq!(got, cache.join("ml-100k").join("ml-100k"));
        assert_eq!(fs::read(got.join("u.data")).unwrap(), U_DATA);
        assert_eq!(fs::read(got.join("README")).unwrap(), b"fixture\n");
        assert_eq!(seen.last(), Some(&(zip.len() as u64, Some(zip.len() as u64))));
        assert_eq!(fs::read_to_string(cache.join("ml-100k").join(MARKER)).unwrap(), format!("{sha}\n"));
        assert_eq!(listing(&cache), ["ml-100k"], "no temporary files may be left");

        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        assert!(requests[0].starts_with("GET /ml-100k.zip HTTP/1.1"), "{requests:?}");

        assert_eq!(fetched("ml-100k", &cache), Some(got.clone()));
        assert_eq!(fetched("ml-1m", &cache), None);
        assert_eq!(fetched("no-such-set", &cache), None);

        // The server has shut down, so this only succeeds without touching the network; the
        // public entry point is used here.
        assert_eq!(fetch("ml-100k", &opts).unwrap(), got);
        assert_eq!(fetch_local(&opts).unwrap(), got);
    }

    #[test]
    fn force_and_incomplete_entries_are_replaced_only_when_the_new_copy_is_complete() {
        let dir = TestDir::new("replace");
        let cache = dir.cache();
        // An incomplete entry (no marker), as left by a crash of an older version.
        let stale = cache.join("ml-100k").join("ml-100k");
        fs::create_dir_all(&stale).unwrap();
        fs::write(stale.join("u.data"), b"stale\n").unwrap();
        fs::write(stale.join("junk"), b"junk\n").unwrap();
        assert_eq!(fetched("ml-100k", &cache), None);

        let first = ml100k_zip(U_DATA);
        let server = Server::start("200 OK", first.clone(), 1);
        let got = fetch_local(&options(cache.clone(), &server.url, Some(sha256_hex(&first)))).unwrap();
        server.requests();
        assert_eq!(fs::read(got.join("u.data")).unwrap(), U_DATA);
        assert!(!got.join("junk").exists(), "the incomplete entry must be replaced wholesale");

        // A forced fetch whose download fails keeps the complete copy.
        let server = Server::start("500 Internal Server Error", b"oops".to_vec(), 1);
        let mut opts = options(cache.clone(), &server.url, Some(sha256_hex(&first)));
        opts.force = true;
        fetch_local(&opts).unwrap_err();
        server.requests();
        assert_eq!(fetched("ml-100k", &cache), Some(got.clone()));

        // A forced fetch that succeeds replaces it.
        let second_data: &[u8] = b"1\t2\t5\t881250949\n";
        let second = ml100k_zip(second_data);
        let server = Server::start("200 OK", second.clone(), 1);
        let mut opts = options(cache.clone(), &server.url, Some(sha256_hex(&second)));
        opts.force = true;
        assert_eq!(fetch_local(&opts).unwrap(), got);
        assert_eq!(server.requests().len(), 1);
        assert_eq!(fs::read(got.join("u.data")).unwrap(), second_data);
        assert_eq!(listing(&cache), ["ml-100k"]);
    }

    #[test]
    fn checksum_mismatch_is_rejected_and_leaves_nothing() {
        let dir = TestDir::new("badsum");
        let cache = dir.cache();
        let zip = ml100k_zip(U_DATA);
        let actual = sha256_hex(&zip);
        let wrong = "ab".repeat(32);
        let server = Server::start("200 OK", zip, 1);
        let err = fetch_local(&options(cache.clone(), &server.url, Some(wrong.clone()))).unwrap_err();
        server.requests();
        let msg = err.to_string();
        assert!(matches!(err, DataError::Spec(_)), "{err:?}");
        assert!(msg.contains(&wrong) && msg.contains(&actual), "{msg}");
        assert!(msg.contains("127.0.0.1"), "{msg}");
        assert_eq!(listing(&cache), Vec::<String>::new(), "no entry and no temporary files");
        assert_eq!(fetched("ml-100k", &cache), None);
    }

    #[test]
    fn pinned_checksum_is_used_when_none_is_given() {
        // The fixture is not the official archive, so the pinned checksum must reject it.
        let dir = TestDir::new("pinned");
        let cache = dir.cache();
        let server = Server::start("200 OK", ml100k_zip(U_DATA), 1);
        let msg = fetch_local(&options(cache.clone(), &server.url, None)).unwrap_err().to_string();
        server.requests();
        assert!(msg.contains(ml100k().sha256.unwrap()), "{msg}");
        assert_eq!(listing(&cache), Vec::<String>::new());
    }

    #[test]
    fn http_errors_name_the_url_and_status() {
        let dir = TestDir::new("404");
        let cache = dir.cache();
        let server = Server::start("404 Not Found", b"not here".to_vec(), 1);
        let url = server.url.clone();
        let err = fetch_local(&options(cache.clone(), &url, None)).unwrap_err();
        server.requests();
        let msg = err.to_string();
        assert!(msg.contains(&url) && msg.contains("404"), "{msg}");
        assert_eq!(listing(&cache), Vec::<String>::new());

        // Nobody listening: a network error, also naming the URL.
        let closed = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}/ml-100k.zip", listener.local_addr().unwrap())
        };
        let msg = fetch_local(&options(cache.clone(), &closed, None)).unwrap_err().to_string();
        assert!(msg.contains(&closed), "{msg}");
        assert_eq!(listing(&cache), Vec::<String>::new());
    }

    #[test]
    fn zip_slip_entries_are_rejected() {
        for evil in ["../evil", "ml-100k/../../evil", "/tmp/burnrec-evil-absolute"] {
            let dir = TestDir::new("slip");
            let cache = dir.cache();
            let zip = zip_bytes(&[(evil, b"pwned\n"), ("ml-100k/u.data", U_DATA)]);
            let server = Server::start("200 OK", zip.clone(), 1);
            let err = fetch_local(&options(cache.clone(), &server.url, Some(sha256_hex(&zip)))).unwrap_err();
            server.requests();
            let msg = err.to_string();
            assert!(msg.contains("unsafe entry") && msg.contains(evil), "{msg}");
            assert_eq!(listing(&dir.0), ["cache"], "nothing may be written beside the cache");
            assert_eq!(listing(&cache), Vec::<String>::new(), "no entry and no temporary files");
            assert!(!Path::new("/tmp/burnrec-evil-absolute").exists());
        }
    }

    #[test]
    fn archives_without_the_ratings_file_or_not_zip_are_rejected() {
        let dir = TestDir::new("content");
        let cache = dir.cache();
        let wrong_folder = zip_bytes(&[("other/u.data", U_DATA)]);
        let not_zip = b"<html>this is not a zip</html>".to_vec();
        for (body, expect) in [(wrong_folder, "does not contain `ml-100k/u.data`"), (not_zip, "not a valid zip")] {
            let server = Server::start("200 OK", body.clone(), 1);
            let msg = fetch_local(&options(cache.clone(), &server.url, Some(sha256_hex(&body)))).unwrap_err().to_string();
            server.requests();
            assert!(msg.contains(expect) && msg.contains("127.0.0.1"), "{msg}");
            assert_eq!(listing(&cache), Vec::<String>::new());
        }
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let dir = TestDir::new("unknown");
        let err = fetch("ml-5m", &FetchOptions::with_cache_dir(dir.cache())).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DataError::Spec(_)));
        assert!(msg.contains("`ml-5m`"), "{msg}");
        for a in ARCHIVES {
            assert!(msg.contains(a.name), "{msg}");
        }
        assert!(!dir.cache().exists());
    }

    #[test]
    fn archives_without_a_checksum_need_an_explicit_one() {
        let dir = TestDir::new("nosum");
        let unverified = Archive { sha256: None, ..*ml100k() };
        // The URL is never contacted: port 9 on loopback would refuse anyway.
        let opts = options(dir.cache(), "http://127.0.0.1:9/ml-100k.zip", None);
        let msg = fetch_archive(&unverified, &opts, &agent(false), |_, _| {}).unwrap_err().to_string();
        assert!(msg.contains("no verified sha256") && msg.contains("expected_sha256"), "{msg}");
        assert!(!dir.cache().exists());

        let opts = options(dir.cache(), "http://127.0.0.1:9/ml-100k.zip", Some("xyz".into()));
        let msg = fetch_archive(&unverified, &opts, &agent(false), |_, _| {}).unwrap_err().to_string();
        assert!(msg.contains("invalid sha256 checksum `xyz`"), "{msg}");
    }

    #[test]
    fn the_registry_lists_the_official_archives() {
        let expected = [
            ("ml-100k", "ml-100k", "u.data", ArchiveKind::Ml100k),
            ("ml-1m", "ml-1m", "ratings.dat", ArchiveKind::Ml1m),
            ("ml-10m", "ml-10M100K", "ratings.dat", ArchiveKind::Ml1m),
            ("ml-20m", "ml-20m", "ratings.csv", ArchiveKind::MlLatest),
            ("ml-25m", "ml-25m", "ratings.csv", ArchiveKind::MlLatest),
            ("ml-latest-small", "ml-latest-small", "ratings.csv", ArchiveKind::MlLatest),
        ];
        assert_eq!(ARCHIVES.len(), expected.len());
        for (name, folder, ratings, kind) in expected {
            let a = archive(name).unwrap();
            assert_eq!(a.url, format!("https://files.grouplens.org/datasets/movielens/{name}.zip"));
            assert_eq!((a.folder, a.ratings_file, a.kind), (folder, ratings, kind));
            let sha = a.sha256.unwrap();
            assert!(sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        }
        assert_eq!(ArchiveKind::Ml1m.to_string(), "ml-1m");
        assert!(archive("ml-5m").is_none());
    }

    #[test]
    fn cache_dir_prefers_a_non_empty_environment_variable() {
        let platform = Some(PathBuf::from("/platform-cache"));
        assert_eq!(cache_dir_from(Some("/data".into()), platform.clone()).unwrap(), PathBuf::from("/data"));
        assert_eq!(cache_dir_from(Some("".into()), platform.clone()).unwrap(), PathBuf::from("/platform-cache/burnrec"));
        assert_eq!(cache_dir_from(None, platform).unwrap(), PathBuf::from("/platform-cache/burnrec"));
        let msg = cache_dir_from(None, None).unwrap_err().to_string();
        assert!(msg.contains(CACHE_ENV), "{msg}");
    }

    #[test]
    fn sha256_hex_is_lowercase() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
