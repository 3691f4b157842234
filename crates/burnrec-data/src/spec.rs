//! The dataset specification used everywhere in the CLI: `bundled`, `ml-100k:PATH`,
//! `ml-1m:PATH`, `ml-latest:PATH`, `lastfm:PATH`, `csv:PATH`, or — after `burnrec fetch` — the
//! bare archive name (`ml-1m`).
//!
//! For the MovieLens and Last.fm kinds, `PATH` may name the dataset's folder or its ratings file
//! (`u.data`, `ratings.dat`, `ratings.csv`, `user_artists.dat`); side files found beside it
//! (titles, genres, demographics, artist names) are loaded too. For `csv`, `PATH` names the
//! file, laid out as [`LoadOptions::csv`] says (CLI flags `--sep`, `--header`, `--user-col`, …).

use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::dataset::Dataset;
use crate::error::DataError;
use crate::loader::{DelimitedFormat, LoadOptions, load_ratings};
use crate::side;

/// Which dataset to load, and from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatasetSpec {
    /// MovieLens latest-small, compiled into the binary.
    Bundled,
    /// MovieLens 100K: folder or `u.data` (+ `u.item`, `u.user`).
    Ml100k(PathBuf),
    /// MovieLens 1M (or 10M) `::`-separated: folder or `ratings.dat` (+ `movies.dat`,
    /// `users.dat`).
    Ml1m(PathBuf),
    /// MovieLens latest / 20M / 25M CSV layout: folder or `ratings.csv` (+ `movies.csv`,
    /// `tags.csv`).
    MlLatest(PathBuf),
    /// HetRec 2011 Last.fm: folder or `user_artists.dat` (+ `artists.dat`); play counts.
    LastFm(PathBuf),
    /// A generic delimited file laid out as [`LoadOptions::csv`].
    Csv(PathBuf),
    /// An archive downloaded by `burnrec fetch`, by name (`ml-100k`, `ml-1m`, …).
    Fetched(String),
}

const KINDS: &str = "`bundled`, `ml-100k:PATH`, `ml-1m:PATH`, `ml-latest:PATH`, `lastfm:PATH`, `csv:PATH`, \
                     or a fetched name (ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-latest-small)";
const FETCHABLE: [&str; 6] = ["ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m", "ml-latest-small"];

impl FromStr for DatasetSpec {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "bundled" {
            return Ok(Self::Bundled);
        }
        if FETCHABLE.contains(&s) {
            return Ok(Self::Fetched(s.to_string()));
        }
        let Some((kind, path)) = s.split_once(':') else {
            return Err(DataError::Spec(format!("unknown dataset `{s}`: expected {KINDS}")));
        };
        if path.is_empty() {
            return Err(DataError::Spec(format!("dataset `{s}` has no path after `{kind}:`")));
        }
        let path = PathBuf::from(path);
        Ok(match kind {
            "ml-100k" => Self::Ml100k(path),
            "ml-1m" | "ml-10m" => Self::Ml1m(path),
            "ml-latest" | "ml-latest-small" | "ml-20m" | "ml-25m" => Self::MlLatest(path),
            "lastfm" => Self::LastFm(path),
            "csv" | "tsv" => Self::Csv(path),
            _ => return Err(DataError::Spec(format!("unknown dataset kind `{kind}`: expected {KINDS}"))),
        })
    }
}

impl fmt::Display for DatasetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bundled => write!(f, "bundled"),
            Self::Ml100k(p) => write!(f, "ml-100k:{}", p.display()),
            Self::Ml1m(p) => write!(f, "ml-1m:{}", p.display()),
            Self::MlLatest(p) => write!(f, "ml-latest:{}", p.display()),
            Self::LastFm(p) => write!(f, "lastfm:{}", p.display()),
            Self::Csv(p) => write!(f, "csv:{}", p.display()),
            Self::Fetched(n) => write!(f, "{n}"),
        }
    }
}

fn open(path: &Path) -> Result<BufReader<File>, DataError> {
    File::open(path).map(BufReader::new).map_err(|source| DataError::Io { path: path.into(), source })
}

/// Opens `name` beside `file` if it exists.
fn beside(file: &Path, name: &str) -> Result<Option<(BufReader<File>, String)>, DataError> {
    let p = file.with_file_name(name);
    if p.is_file() { Ok(Some((open(&p)?, p.display().to_string()))) } else { Ok(None) }
}

impl DatasetSpec {
    /// The same spec with its path made absolute (resolved against the current directory,
    /// links followed), so that it still names the data from another directory — e.g. in a
    /// saved model's manifest. A path that does not resolve, and `bundled` / fetched names,
    /// are kept as they are.
    pub fn absolute(&self) -> Self {
        let abs = |p: &PathBuf| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        match self {
            Self::Ml100k(p) => Self::Ml100k(abs(p)),
            Self::Ml1m(p) => Self::Ml1m(abs(p)),
            Self::MlLatest(p) => Self::MlLatest(abs(p)),
            Self::LastFm(p) => Self::LastFm(abs(p)),
            Self::Csv(p) => Self::Csv(abs(p)),
            Self::Bundled | Self::Fetched(_) => self.clone(),
        }
    }

    /// Loads the dataset with its side files. `opts.csv` is used only by [`DatasetSpec::Csv`];
    /// the duplicate and scale policies apply to every kind.
    ///
    /// # Errors
    /// [`DataError::Io`] if the file is missing or unreadable (naming the path tried),
    /// [`DataError::Spec`] for a fetched name that is not in the cache, and any parse error.
    pub fn load(&self, opts: &LoadOptions) -> Result<Dataset, DataError> {
        let mut d = self.load_raw(opts)?;
        if let Some(t) = opts.implicit_threshold {
            d.interactions = d.interactions.binarize(t);
            d.scale = (1.0, 1.0);
            if d.interactions.is_empty() {
                return Err(DataError::Spec(format!("no rating of `{self}` reaches the implicit threshold {t}")));
            }
        }
        let (mu, mi) = (opts.min_user_interactions, opts.min_item_interactions);
        if opts.implicit_threshold.is_some() || mu > 1 || mi > 1 {
            // Users and items the threshold or the minimums leave without interactions are
            // dropped, so that they are neither evaluated nor ranked as candidates.
            d = d.filtered(mu.max(1), mi.max(1));
            if d.interactions.is_empty() {
                return Err(DataError::Spec(format!(
                    "no interaction of `{self}` is left after keeping users with >= {mu} and items with >= {mi} interactions"
                )));
            }
        }
        Ok(d)
    }

    fn load_raw(&self, opts: &LoadOptions) -> Result<Dataset, DataError> {
        match self {
            Self::Bundled => crate::bundled::load(opts),
            Self::Ml100k(p) => {
                let file = resolve(p, "u.data")?;
                let mut d = load_ratings(&file, &DelimitedFormat::ml100k(), opts)?;
                if let Some((r, name)) = beside(&file, "u.item")? {
                    let (titles, genres) = side::read_ml100k_items(r, &name, &d.items)?;
                    d.item_titles = titles;
                    d.item_features = Some(genres);
                }
                if let Some((r, name)) = beside(&file, "u.user")? {
                    d.user_features = Some(side::read_ml100k_users(r, &name, &d.users)?);
                }
                Ok(d)
            }
            Self::Ml1m(p) => {
                let file = resolve(p, "ratings.dat")?;
                let mut d = load_ratings(&file, &DelimitedFormat::ml1m(), opts)?;
                if let Some((r, name)) = beside(&file, "movies.dat")? {
                    // ML-1M's movies.dat is Latin-1; ML-10M's is UTF-8 (and has no users.dat).
                    let enc = if file.with_file_name("users.dat").is_file() { side::Encoding::Latin1 } else { side::Encoding::Utf8 };
                    let (titles, genres) = side::read_ml1m_movies(r, &name, &d.items, enc)?;
                    d.item_titles = titles;
                    d.item_features = Some(genres);
                }
                if let Some((r, name)) = beside(&file, "users.dat")? {
                    d.user_features = Some(side::read_ml1m_users(r, &name, &d.users)?);
                }
                Ok(d)
            }
            Self::MlLatest(p) => {
                let file = resolve(p, "ratings.csv")?;
                let mut d = load_ratings(&file, &DelimitedFormat::ml_latest(), opts)?;
                if let Some((r, name)) = beside(&file, "movies.csv")? {
                    let (titles, genres) = side::read_ml_latest_movies(r, &name, &d.items)?;
                    d.item_titles = titles;
                    d.item_features = Some(genres);
                }
                if let Some((r, name)) = beside(&file, "tags.csv")? {
                    let tags = side::read_ml_latest_tags(r, &name, &d.items)?;
                    d.item_features = Some(match d.item_features.take() {
                        Some(genres) => genres.merge(&tags),
                        None => tags,
                    });
                }
                Ok(d)
            }
            Self::LastFm(p) => {
                let file = resolve(p, "user_artists.dat")?;
                let mut d = load_ratings(&file, &DelimitedFormat::lastfm(), opts)?;
                if let Some((r, name)) = beside(&file, "artists.dat")? {
                    d.item_titles = side::read_lastfm_artists(r, &name, &d.items)?;
                }
                Ok(d)
            }
            Self::Csv(p) => {
                if p.is_dir() {
                    return Err(DataError::Spec(format!("`csv:{}` is a folder; csv:PATH must name the ratings file", p.display())));
                }
                load_ratings(p, &opts.csv, opts)
            }
            Self::Fetched(name) => Self::from_cache(name)?.load(opts),
        }
    }

    /// The on-disk spec of an archive fetched by `burnrec fetch`.
    ///
    /// # Errors
    /// [`DataError::Spec`] if it has not been fetched (saying how to fetch it).
    #[cfg(feature = "fetch")]
    pub fn from_cache(name: &str) -> Result<DatasetSpec, DataError> {
        let cache = crate::fetch::cache_dir()?;
        let dir = crate::fetch::fetched(name, &cache).ok_or_else(|| {
            DataError::Spec(format!(
                "dataset `{name}` is not in the cache `{}`: run `burnrec fetch {name}` first, or pass ml-…:PATH to your own copy",
                cache.display()
            ))
        })?;
        let kind = crate::fetch::archive(name)
            .map(|a| a.kind)
            .ok_or_else(|| DataError::Spec(format!("unknown archive `{name}`: expected one of {}", crate::fetch::known_names())))?;
        Ok(match kind {
            crate::fetch::ArchiveKind::Ml100k => Self::Ml100k(dir),
            crate::fetch::ArchiveKind::Ml1m => Self::Ml1m(dir),
            crate::fetch::ArchiveKind::MlLatest => Self::MlLatest(dir),
        })
    }

    /// Without the `fetch` feature no archive can be in the cache.
    ///
    /// # Errors
    /// Always [`DataError::Spec`].
    #[cfg(not(feature = "fetch"))]
    pub fn from_cache(name: &str) -> Result<DatasetSpec, DataError> {
        Err(DataError::Spec(format!("dataset `{name}` needs burnrec built with the `fetch` feature")))
    }
}

/// A folder resolves to `folder/default_file`; a file stays as it is.
pub(crate) fn resolve(path: &Path, default_file: &str) -> Result<PathBuf, DataError> {
    if path.is_dir() {
        let f = path.join(default_file);
        if !f.is_file() {
            return Err(DataError::Spec(format!("folder `{}` has no `{default_file}`", path.display())));
        }
        Ok(f)
    } else {
        Ok(path.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_resolves_paths_only() {
        let here = std::env::current_dir().unwrap();
        let spec: DatasetSpec = "csv:.".parse().unwrap();
        assert_eq!(spec.absolute(), DatasetSpec::Csv(std::fs::canonicalize(&here).unwrap()));
        let missing = DatasetSpec::Ml100k(PathBuf::from("no/such/dir"));
        assert_eq!(missing.absolute(), missing);
        assert_eq!(DatasetSpec::Bundled.absolute(), DatasetSpec::Bundled);
    }

    #[test]
    fn parses_every_kind() {
        assert_eq!("bundled".parse::<DatasetSpec>().unwrap(), DatasetSpec::Bundled);
        assert_eq!("ml-100k:/d/ml-100k/u.data".parse::<DatasetSpec>().unwrap(), DatasetSpec::Ml100k("/d/ml-100k/u.data".into()));
        assert_eq!("ml-1m:x".parse::<DatasetSpec>().unwrap(), DatasetSpec::Ml1m("x".into()));
        assert_eq!("ml-latest:x".parse::<DatasetSpec>().unwrap(), DatasetSpec::MlLatest("x".into()));
        assert_eq!("csv:a:b.csv".parse::<DatasetSpec>().unwrap(), DatasetSpec::Csv("a:b.csv".into()));
        assert_eq!("lastfm:d".parse::<DatasetSpec>().unwrap(), DatasetSpec::LastFm("d".into()));
        assert_eq!("ml-1m".parse::<DatasetSpec>().unwrap(), DatasetSpec::Fetched("ml-1m".into()));
        assert_eq!(DatasetSpec::Ml1m("x".into()).to_string(), "ml-1m:x");
    }

    /// The bare names the spec parser accepts are exactly the archives `fetch` knows.
    #[cfg(feature = "fetch")]
    #[test]
    fn fetchable_names_match_the_fetch_registry() {
        let mut registry: Vec<&str> = crate::fetch::ARCHIVES.iter().map(|a| a.name).collect();
        registry.sort_unstable();
        let mut ours = FETCHABLE.to_vec();
        ours.sort_unstable();
        assert_eq!(ours, registry);
    }

    #[test]
    fn rejects_unknown_and_empty() {
        let e = "netflix:x".parse::<DatasetSpec>().unwrap_err().to_string();
        assert!(e.starts_with("unknown dataset kind `netflix`"), "{e}");
        let e = "ml-100k:".parse::<DatasetSpec>().unwrap_err().to_string();
        assert_eq!(e, "dataset `ml-100k:` has no path after `ml-100k:`");
        assert!("movielens".parse::<DatasetSpec>().is_err());
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let spec: DatasetSpec = "ml-1m:/nonexistent/ratings.dat".parse().unwrap();
        let e = spec.load(&LoadOptions::default()).unwrap_err();
        assert_eq!(e.to_string(), "cannot read `/nonexistent/ratings.dat`");
    }
}
