//! Readers for delimited rating files: MovieLens 100K, 1M/10M and latest/20M/25M, HetRec
//! Last.fm, and generic CSV/TSV with named or positional columns.
//!
//! All readers go through one parser configured by a [`DelimitedFormat`] and [`LoadOptions`],
//! return a [`Dataset`], and turn any bad line into a [`DataError`] naming the source, the
//! 1-based line number and the field — never a panic, never a silently dropped line.
//!
//! Accepted everywhere: `\n` or `\r\n` line ends, a UTF-8 byte-order mark at the start, blank
//! lines (skipped), spaces around fields (trimmed), CSV-quoted fields (`"a, b"`, with `""` for a
//! quote) on one line. Line numbers in errors are the file's own, blank lines included.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, Interactions};
use crate::error::DataError;
use crate::ids::IdMap;

mod builder;
mod fields;
#[cfg(test)]
mod tests;

use builder::*;
use fields::*;

/// A column of a delimited file: a 0-based position, or a name from the header line.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Column {
    /// 0-based position.
    Index(usize),
    /// Name in the header line (needs `header = true`).
    Name(String),
}

impl FromStr for Column {
    type Err = DataError;

    /// A number is a 0-based position; anything else a header name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DataError::Spec("a column must be a 0-based number or a header name".into()));
        }
        Ok(s.parse::<usize>().map_or_else(|_| Column::Name(s.to_string()), Column::Index))
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Index(i) => write!(f, "column {i}"),
            Column::Name(n) => write!(f, "column `{n}`"),
        }
    }
}

impl From<usize> for Column {
    fn from(i: usize) -> Self {
        Column::Index(i)
    }
}

/// Layout of a delimited ratings file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelimitedFormat {
    /// Field separator: one character (`,`, `\t`, `;`, `|`) or a longer string (`::`).
    pub sep: String,
    /// Whether the first line is a header (skipped, and used to resolve named columns).
    pub header: bool,
    /// Column of the raw user id.
    pub user: Column,
    /// Column of the raw item id.
    pub item: Column,
    /// Column of the rating (or play count / confidence); `None`: every line is an implicit
    /// interaction of value 1.
    pub rating: Option<Column>,
    /// Column of the Unix timestamp in seconds, if any.
    pub timestamp: Option<Column>,
}

impl DelimitedFormat {
    /// MovieLens 100K `u.data`: `user \t item \t rating \t timestamp`, no header.
    pub fn ml100k() -> Self {
        Self { sep: "\t".into(), ..Self::csv() }.with_timestamp(3)
    }

    /// MovieLens 1M/10M `ratings.dat`: `UserID::MovieID::Rating::Timestamp`, no header.
    pub fn ml1m() -> Self {
        Self { sep: "::".into(), ..Self::csv() }.with_timestamp(3)
    }

    /// MovieLens latest/20M/25M `ratings.csv`: header `userId,movieId,rating,timestamp`.
    pub fn ml_latest() -> Self {
        Self { header: true, ..Self::csv() }.with_timestamp(3)
    }

    /// HetRec 2011 Last.fm `user_artists.dat`: header `userID \t artistID \t weight`; the
    /// weight is a play count (implicit feedback, used as confidence).
    pub fn lastfm() -> Self {
        Self { sep: "\t".into(), header: true, ..Self::csv() }
    }

    /// Generic CSV default: `user,item,rating`, no header, no timestamp.
    pub fn csv() -> Self {
        Self { sep: ",".into(), header: false, user: Column::Index(0), item: Column::Index(1), rating: Some(Column::Index(2)), timestamp: None }
    }

    /// Sets the timestamp column.
    pub fn with_timestamp(mut self, col: impl Into<Column>) -> Self {
        self.timestamp = Some(col.into());
        self
    }

    fn roles(&self) -> Vec<(&'static str, &Column)> {
        let mut r = vec![("user", &self.user), ("item", &self.item)];
        if let Some(c) = &self.rating {
            r.push(("rating", c));
        }
        if let Some(c) = &self.timestamp {
            r.push(("timestamp", c));
        }
        r
    }

    /// Checks the format for contradictions.
    ///
    /// # Errors
    /// [`DataError::Spec`] if the separator is empty, two roles share a column, or a column is
    /// named while the file has no header.
    pub fn check(&self) -> Result<(), DataError> {
        if self.sep.is_empty() {
            return Err(DataError::Spec("the field separator must not be empty".into()));
        }
        let roles = self.roles();
        for (a, (na, ca)) in roles.iter().enumerate() {
            if let (Column::Name(n), false) = (ca, self.header) {
                return Err(DataError::Spec(format!(
                    "the `{na}` column is named `{n}`, but the file has no header line (set `header`; `--header` on the command line)"
                )));
            }
            for (nb, cb) in &roles[a + 1..] {
                if ca == cb {
                    return Err(DataError::Spec(format!("columns `{na}` and `{nb}` are both set to {ca}; each needs its own column")));
                }
            }
        }
        Ok(())
    }
}

/// What to do when the same (user, item) pair occurs on several lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DuplicatePolicy {
    /// Stop with an error naming both lines (the default: a duplicate usually means a
    /// malformed or concatenated file).
    #[default]
    Error,
    /// Keep the first line's rating.
    First,
    /// Keep the last line's rating (e.g. a user who changed their mind).
    Last,
    /// Keep the mean of the ratings, with the latest timestamp.
    Mean,
}

impl FromStr for DuplicatePolicy {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "error" => Self::Error,
            "first" => Self::First,
            "last" => Self::Last,
            "mean" => Self::Mean,
            _ => return Err(DataError::Spec(format!("unknown duplicate policy `{s}`: expected error, first, last or mean"))),
        })
    }
}

impl fmt::Display for DuplicatePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::First => "first",
            Self::Last => "last",
            Self::Mean => "mean",
        })
    }
}

/// Policies applied while loading; every default is stated here and printed by
/// `burnrec data stats`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadOptions {
    /// Duplicated (user, item) pairs; default [`DuplicatePolicy::Error`].
    pub duplicates: DuplicatePolicy,
    /// Declared rating scale `(min, max)`: a rating outside it is an error naming the line.
    /// Default `None`: the scale is inferred as the data's own min and max.
    pub scale: Option<(f32, f32)>,
    /// Layout of `csv:` files (the MovieLens and Last.fm layouts are fixed).
    pub csv: DelimitedFormat,
    /// Implicit conversion: `Some(t)` keeps only ratings `>= t`, as positives of value 1
    /// (the scale becomes `(1, 1)`). Default `None`: values are kept — explicit ratings stay
    /// ratings, and play counts (Last.fm) stay counts, used as confidences.
    pub implicit_threshold: Option<f32>,
    /// Fewest interactions a user keeps, applied after the threshold together with
    /// `min_item_interactions` until both hold (a k-core filter,
    /// [`Dataset::filtered`](crate::Dataset::filtered)). Default 0: no filter.
    #[serde(default)]
    pub min_user_interactions: u32,
    /// Fewest interactions an item keeps (see `min_user_interactions`). Default 0: no filter.
    #[serde(default)]
    pub min_item_interactions: u32,
}

impl Default for DelimitedFormat {
    fn default() -> Self {
        Self::csv()
    }
}

/// Reads a ratings file from disk.
///
/// # Errors
/// [`DataError::Io`] if the file cannot be read, otherwise as [`read_ratings`].
pub fn load_ratings(path: &Path, format: &DelimitedFormat, opts: &LoadOptions) -> Result<Dataset, DataError> {
    let file = File::open(path).map_err(|source| DataError::Io { path: path.into(), source })?;
    read_ratings(BufReader::with_capacity(1 << 20, file), &path.display().to_string(), format, opts)
}

/// Skips a UTF-8 byte-order mark at the start of `reader`.
pub(crate) fn skip_bom<R: Read>(reader: R) -> std::io::Result<BufReader<R>> {
    let mut r = BufReader::with_capacity(1 << 20, reader);
    let buf = r.fill_buf()?;
    if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
        r.consume(3);
    }
    Ok(r)
}

/// Parses ratings from any reader; `source_name` is used in error messages and as the
/// dataset's name.
///
/// Rating values are kept exactly as written (half stars stay half stars). Raw ids are
/// assigned indices in order of first appearance.
///
/// # Errors
/// - [`DataError::Parse`] for a line with too few fields, a non-numeric or non-finite rating,
///   a rating outside a declared scale, a malformed timestamp, invalid UTF-8, or a named
///   column missing from the header — naming the line and field;
/// - [`DataError::Duplicate`] if a (user, item) pair occurs twice under
///   [`DuplicatePolicy::Error`], naming both lines;
/// - [`DataError::Empty`] if there are no ratings;
/// - [`DataError::Spec`] if the format is contradictory (see [`DelimitedFormat::check`]) or
///   the declared scale is invalid.
pub fn read_ratings<R: Read>(reader: R, source_name: &str, format: &DelimitedFormat, opts: &LoadOptions) -> Result<Dataset, DataError> {
    format.check()?;
    if let Some((lo, hi)) = opts.scale
        && !(lo.is_finite() && hi.is_finite() && lo < hi)
    {
        return Err(DataError::Spec(format!("rating scale {lo},{hi} must be two finite numbers, min < max")));
    }
    let io_err = |e: std::io::Error| DataError::parse(source_name, 1, "line", format!("cannot read: {e}"));
    let reader = skip_bom(reader).map_err(io_err)?;
    let mut b = Builder::new(source_name, format, opts);
    let mut rdr = reader;
    let mut buf = Vec::new();
    let sep = format.sep.as_bytes();
    let mut fields: Vec<(usize, usize)> = Vec::new();
    let mut unquoted: Vec<u8> = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        line += 1;
        if rdr.read_until(b'\n', &mut buf).map_err(io_err)? == 0 {
            break;
        }
        let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if text.contains(&b'\r') {
            return Err(DataError::parse(
                source_name,
                line,
                "line",
                "a carriage return (\\r) inside the line: old Mac line ends (CR only)? convert them to \\n first, e.g. `tr '\\r' '\\n'`",
            ));
        }
        let text = if sep.len() == 1 && text.contains(&b'"') {
            // Only lines with a quote pay for this scan.
            if open_quote(text, sep[0]) {
                return Err(DataError::parse(
                    source_name,
                    line,
                    "line",
                    "an unbalanced double quote: a quoted field must end on its own line (fields spanning lines are not supported)",
                ));
            }
            // A quoted field (`"a, b"`, `""` escapes): let the csv crate parse this one line.
            // Quoted fields spanning several lines are not supported.
            unquote_line(text, sep[0], &mut unquoted, &mut fields).map_err(|e| DataError::parse(source_name, line, "line", e))?;
            &unquoted[..]
        } else {
            split_fields(text, sep, &mut fields);
            text
        };
        b.line(line, fields.len(), |c| fields.get(c).map(|&(a, z)| text[a..z].trim_ascii()))?;
    }
    b.finish()
}
