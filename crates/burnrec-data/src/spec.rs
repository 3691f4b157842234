//! The dataset specification used everywhere in the CLI: `bundled`, `ml-100k:PATH`,
//! `ml-1m:PATH`, `ml-latest:PATH` or `csv:PATH`.
//!
//! For the MovieLens kinds, `PATH` may name the dataset's folder or its ratings file
//! (`u.data`, `ratings.dat`, `ratings.csv`). For `csv`, `PATH` names the file, and its layout
//! comes from a [`DelimitedFormat`] (CLI flags `--sep`, `--header`, `--user-col`, …).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::dataset::Dataset;
use crate::error::DataError;
use crate::loader::{DelimitedFormat, load_ratings, read_ml_latest_titles};

/// Which dataset to load, and from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatasetSpec {
    /// MovieLens latest-small, compiled into the binary.
    Bundled,
    /// MovieLens 100K: folder or `u.data`.
    Ml100k(PathBuf),
    /// MovieLens 1M (or 10M) `::`-separated: folder or `ratings.dat`.
    Ml1m(PathBuf),
    /// MovieLens latest / 20M / 25M CSV layout: folder or `ratings.csv` (titles are read from
    /// `movies.csv` beside it when present).
    MlLatest(PathBuf),
    /// A generic delimited file laid out as the given [`DelimitedFormat`].
    Csv(PathBuf),
}

const KINDS: &str = "`bundled`, `ml-100k:PATH`, `ml-1m:PATH`, `ml-latest:PATH` or `csv:PATH`";

impl FromStr for DatasetSpec {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "bundled" {
            return Ok(Self::Bundled);
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
            Self::Csv(p) => write!(f, "csv:{}", p.display()),
        }
    }
}

impl DatasetSpec {
    /// Loads the dataset. `csv_format` is used only by [`DatasetSpec::Csv`].
    ///
    /// # Errors
    /// [`DataError::Io`] if the file is missing or unreadable (naming the path tried), and
    /// any parse error of the loader.
    pub fn load(&self, csv_format: &DelimitedFormat) -> Result<Dataset, DataError> {
        match self {
            Self::Bundled => crate::bundled::load(),
            Self::Ml100k(p) => load_ratings(&resolve(p, "u.data")?, &DelimitedFormat::ml100k()),
            Self::Ml1m(p) => load_ratings(&resolve(p, "ratings.dat")?, &DelimitedFormat::ml1m()),
            Self::MlLatest(p) => {
                let file = resolve(p, "ratings.csv")?;
                let mut d = load_ratings(&file, &DelimitedFormat::ml_latest())?;
                let movies = file.with_file_name("movies.csv");
                if movies.is_file() {
                    let f = std::fs::File::open(&movies)
                        .map_err(|source| DataError::Io { path: movies.clone(), source })?;
                    d.item_titles = read_ml_latest_titles(
                        std::io::BufReader::new(f),
                        &movies.display().to_string(),
                        &d.items,
                    )?;
                }
                Ok(d)
            }
            Self::Csv(p) => {
                if p.is_dir() {
                    return Err(DataError::Spec(format!(
                        "`csv:{}` is a folder; csv:PATH must name the ratings file",
                        p.display()
                    )));
                }
                load_ratings(p, csv_format)
            }
        }
    }
}

/// A folder resolves to `folder/default_file`; a file stays as it is.
fn resolve(path: &Path, default_file: &str) -> Result<PathBuf, DataError> {
    if path.is_dir() {
        let f = path.join(default_file);
        if !f.is_file() {
            return Err(DataError::Spec(format!(
                "folder `{}` has no `{default_file}`",
                path.display()
            )));
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
    fn parses_every_kind() {
        assert_eq!("bundled".parse::<DatasetSpec>().unwrap(), DatasetSpec::Bundled);
        assert_eq!(
            "ml-100k:/d/ml-100k/u.data".parse::<DatasetSpec>().unwrap(),
            DatasetSpec::Ml100k("/d/ml-100k/u.data".into())
        );
        assert_eq!("ml-1m:x".parse::<DatasetSpec>().unwrap(), DatasetSpec::Ml1m("x".into()));
        assert_eq!("ml-latest:x".parse::<DatasetSpec>().unwrap(), DatasetSpec::MlLatest("x".into()));
        assert_eq!("csv:a:b.csv".parse::<DatasetSpec>().unwrap(), DatasetSpec::Csv("a:b.csv".into()));
        assert_eq!(DatasetSpec::Ml1m("x".into()).to_string(), "ml-1m:x");
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
        let e = spec.load(&DelimitedFormat::csv()).unwrap_err();
        assert_eq!(e.to_string(), "cannot read `/nonexistent/ratings.dat`");
    }
}
