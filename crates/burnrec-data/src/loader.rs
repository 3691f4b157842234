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

/// Whether a field of `text` opens a double quote (first non-blank character of the field) that
/// the line never closes. A quote inside an unquoted field (`12" vinyl`) is an ordinary
/// character, as for the csv crate; `""` inside a quoted field is an escaped quote.
fn open_quote(text: &[u8], sep: u8) -> bool {
    let mut k = 0;
    while k < text.len() {
        // At the start of a field.
        while k < text.len() && (text[k] == b' ' || text[k] == b'\t') && text[k] != sep {
            k += 1;
        }
        if k < text.len() && text[k] == b'"' {
            k += 1;
            loop {
                match text[k..].iter().position(|&c| c == b'"') {
                    None => return true,
                    Some(p) if text.get(k + p + 1) == Some(&b'"') => k += p + 2,
                    Some(p) => {
                        k += p + 1;
                        break;
                    }
                }
            }
        }
        // To the next field.
        match text[k..].iter().position(|&c| c == sep) {
            Some(p) => k += p + 1,
            None => return false,
        }
    }
    false
}

/// Splits `text` at every occurrence of `sep` into `(start, end)` byte ranges.
fn split_fields(text: &[u8], sep: &[u8], fields: &mut Vec<(usize, usize)>) {
    fields.clear();
    let mut start = 0;
    if let [s] = sep {
        for (k, &c) in text.iter().enumerate() {
            if c == *s {
                fields.push((start, k));
                start = k + 1;
            }
        }
    } else {
        let mut k = 0;
        while k + sep.len() <= text.len() {
            if &text[k..k + sep.len()] == sep {
                fields.push((start, k));
                k += sep.len();
                start = k;
            } else {
                k += 1;
            }
        }
    }
    fields.push((start, text.len()));
}

/// Parses one line with CSV quoting; writes the unquoted fields back to back into `out` and
/// their ranges into `fields`.
fn unquote_line(text: &[u8], sep: u8, out: &mut Vec<u8>, fields: &mut Vec<(usize, usize)>) -> Result<(), String> {
    let mut rdr = csv::ReaderBuilder::new().delimiter(sep).has_headers(false).flexible(true).from_reader(text);
    let mut rec = csv::ByteRecord::new();
    rdr.read_byte_record(&mut rec).map_err(|e| e.to_string())?;
    out.clear();
    fields.clear();
    for f in &rec {
        fields.push((out.len(), out.len() + f.len()));
        out.extend_from_slice(f);
    }
    Ok(())
}

/// Keeps the elements of `v` whose `keep` flag is set.
fn retain_mask<T>(v: &mut Vec<T>, keep: &[bool]) {
    let mut k = 0;
    v.retain(|_| {
        k += 1;
        keep[k - 1]
    });
}

/// Column positions resolved against the header.
struct Cols {
    user: usize,
    item: usize,
    rating: Option<usize>,
    timestamp: Option<usize>,
    max: usize,
}

/// Accumulates parsed lines into rating columns and id maps.
struct Builder<'a> {
    source: &'a str,
    fmt: &'a DelimitedFormat,
    opts: &'a LoadOptions,
    cols: Option<Cols>,
    users: IdMap,
    items: IdMap,
    user_idx: Vec<u32>,
    item_idx: Vec<u32>,
    values: Vec<f32>,
    timestamps: Vec<i64>,
    lines: Vec<u64>,
    /// The previous line's raw user id and index: files are usually grouped by user, so this
    /// skips most hash lookups.
    last_user: (Vec<u8>, u32),
}

fn utf8<'f>(source: &str, line: u64, field: &str, bytes: &'f [u8]) -> Result<&'f str, DataError> {
    std::str::from_utf8(bytes).map_err(|_| DataError::parse(source, line, field, "is not valid UTF-8"))
}

impl<'a> Builder<'a> {
    fn new(source: &'a str, fmt: &'a DelimitedFormat, opts: &'a LoadOptions) -> Self {
        Self {
            source,
            fmt,
            opts,
            cols: None,
            users: IdMap::new(),
            items: IdMap::new(),
            user_idx: Vec::new(),
            item_idx: Vec::new(),
            values: Vec::new(),
            timestamps: Vec::new(),
            lines: Vec::new(),
            last_user: (Vec::new(), u32::MAX),
        }
    }

    /// Resolves the columns; `header` holds the first line's fields when the file has one.
    fn resolve(&self, line: u64, header: Option<&[&str]>) -> Result<Cols, DataError> {
        let find = |role: &str, c: &Column| -> Result<usize, DataError> {
            match c {
                Column::Index(i) => Ok(*i),
                Column::Name(n) => {
                    let h = header.unwrap_or_default();
                    h.iter().position(|f| f == n).ok_or_else(|| DataError::parse(self.source, line, role, format!("no column named `{n}` in the header {h:?}")))
                }
            }
        };
        let user = find("user", &self.fmt.user)?;
        let item = find("item", &self.fmt.item)?;
        let rating = self.fmt.rating.as_ref().map(|c| find("rating", c)).transpose()?;
        let timestamp = self.fmt.timestamp.as_ref().map(|c| find("timestamp", c)).transpose()?;
        let max = [Some(user), Some(item), rating, timestamp].into_iter().flatten().max().unwrap_or(0);
        Ok(Cols { user, item, rating, timestamp, max })
    }

    fn field<'f>(&self, line: u64, n_fields: usize, get: &impl Fn(usize) -> Option<&'f [u8]>, col: usize, name: &str) -> Result<&'f [u8], DataError> {
        let max = self.cols.as_ref().map_or(col, |c| c.max);
        match get(col) {
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => Err(DataError::parse(self.source, line, name, format!("column {col} is empty; expected a value"))),
            None => Err(DataError::parse(
                self.source,
                line,
                name,
                format!(
                    "missing: the line has {n_fields} field(s) separated by {:?}, expected at least {} \
                     ({name} in column {col})",
                    self.fmt.sep,
                    max.saturating_add(1)
                ),
            )),
        }
    }

    fn line<'f>(&mut self, line: u64, n_fields: usize, get: impl Fn(usize) -> Option<&'f [u8]>) -> Result<(), DataError> {
        if self.cols.is_none() {
            if self.fmt.header {
                let names: Vec<&str> = (0..n_fields).map(|c| get(c).map_or(Ok(""), |b| utf8(self.source, line, "header", b))).collect::<Result<_, _>>()?;
                self.cols = Some(self.resolve(line, Some(&names))?);
                return Ok(());
            }
            self.cols = Some(self.resolve(line, None)?);
        }
        let c = self.cols.as_ref().expect("resolved above");
        let (cu, ci, cr, ct) = (c.user, c.item, c.rating, c.timestamp);
        let user = self.field(line, n_fields, &get, cu, "user")?;
        let item = self.field(line, n_fields, &get, ci, "item")?;
        let rating = match cr {
            None => 1.0,
            Some(col) => {
                let raw = self.field(line, n_fields, &get, col, "rating")?;
                let text = utf8(self.source, line, "rating", raw)?;
                let v = match text.parse::<f32>() {
                    Ok(v) if v.is_finite() => v,
                    _ => {
                        return Err(DataError::parse(self.source, line, "rating", format!("expected a finite number, found {text:?}")));
                    }
                };
                if let Some((lo, hi)) = self.opts.scale
                    && (v < lo || v > hi)
                {
                    return Err(DataError::parse(self.source, line, "rating", format!("{v} is outside the declared rating scale [{lo}, {hi}]")));
                }
                v
            }
        };
        if let Some(col) = ct {
            let raw = self.field(line, n_fields, &get, col, "timestamp")?;
            let text = utf8(self.source, line, "timestamp", raw)?;
            let t = text
                .parse::<i64>()
                .map_err(|_| DataError::parse(self.source, line, "timestamp", format!("expected an integer (seconds since 1970), found {text:?}")))?;
            self.timestamps.push(t);
        }
        let u = if self.last_user.0 == user {
            self.last_user.1
        } else {
            let idx = self.users.get_or_insert(utf8(self.source, line, "user", user)?);
            self.last_user.0.clear();
            self.last_user.0.extend_from_slice(user);
            self.last_user.1 = idx;
            idx
        };
        let i = self.items.get_or_insert(utf8(self.source, line, "item", item)?);
        self.user_idx.push(u);
        self.item_idx.push(i);
        self.values.push(rating);
        self.lines.push(line);
        Ok(())
    }

    fn finish(mut self) -> Result<Dataset, DataError> {
        if self.values.is_empty() {
            return Err(DataError::Empty { source_name: self.source.to_string() });
        }
        self.resolve_duplicates()?;
        let scale = match self.opts.scale {
            Some(s) => s,
            None => self.values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v))),
        };
        let (n_users, n_items) = (self.users.len(), self.items.len());
        let timestamps = self.fmt.timestamp.as_ref().map(|_| self.timestamps);
        let interactions = Interactions::from_columns(self.user_idx, self.item_idx, self.values, timestamps, n_users, n_items)?;
        Ok(Dataset {
            name: self.source.to_string(),
            interactions,
            users: self.users,
            items: self.items,
            item_titles: Vec::new(),
            scale,
            item_features: None,
            user_features: None,
        })
    }

    /// Applies the duplicate policy in place. Kept ratings stay at the position of the pair's
    /// first line.
    fn resolve_duplicates(&mut self) -> Result<(), DataError> {
        let (us, is) = (&self.user_idx, &self.item_idx);
        let mut order: Vec<u32> = (0..us.len() as u32).collect();
        // Stable sort by pair keeps each pair's lines in file order.
        order.sort_by_key(|&k| (us[k as usize], is[k as usize]));
        let same = |a: u32, b: u32| us[a as usize] == us[b as usize] && is[a as usize] == is[b as usize];
        if !order.windows(2).any(|w| same(w[0], w[1])) {
            return Ok(());
        }
        let mut keep = vec![true; us.len()];
        let mut first_err: Option<(u32, u32)> = None;
        let mut g = 0;
        while g < order.len() {
            let mut h = g + 1;
            while h < order.len() && same(order[g], order[h]) {
                h += 1;
            }
            if h - g > 1 {
                let group: Vec<usize> = order[g..h].iter().map(|&k| k as usize).collect();
                let head = group[0];
                match self.opts.duplicates {
                    DuplicatePolicy::Error => {
                        let cand = (order[g], order[g + 1]);
                        if first_err.is_none_or(|(_, b)| self.lines[cand.1 as usize] < self.lines[b as usize]) {
                            first_err = Some(cand);
                        }
                    }
                    DuplicatePolicy::First => {}
                    DuplicatePolicy::Last => {
                        let last = group[group.len() - 1];
                        self.values[head] = self.values[last];
                        if !self.timestamps.is_empty() {
                            self.timestamps[head] = self.timestamps[last];
                        }
                    }
                    DuplicatePolicy::Mean => {
                        let sum: f64 = group.iter().map(|&k| f64::from(self.values[k])).sum();
                        self.values[head] = (sum / group.len() as f64) as f32;
                        if !self.timestamps.is_empty() {
                            self.timestamps[head] = group.iter().map(|&k| self.timestamps[k]).max().unwrap_or_default();
                        }
                    }
                }
                for &k in &group[1..] {
                    keep[k] = false;
                }
            }
            g = h;
        }
        if let Some((a, b)) = first_err {
            let (a, b) = (a as usize, b as usize);
            return Err(DataError::Duplicate {
                source_name: self.source.to_string(),
                user: self.users.raw(self.user_idx[a]).unwrap_or_default().to_string(),
                item: self.items.raw(self.item_idx[a]).unwrap_or_default().to_string(),
                first_line: self.lines[a],
                second_line: self.lines[b],
            });
        }
        retain_mask(&mut self.user_idx, &keep);
        retain_mask(&mut self.item_idx, &keep);
        retain_mask(&mut self.values, &keep);
        retain_mask(&mut self.lines, &keep);
        if !self.timestamps.is_empty() {
            retain_mask(&mut self.timestamps, &keep);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Rating;

    fn parse_with(text: &str, fmt: &DelimitedFormat, opts: &LoadOptions) -> Result<Dataset, DataError> {
        read_ratings(text.as_bytes(), "t.csv", fmt, opts)
    }

    fn parse(text: &str, fmt: &DelimitedFormat) -> Result<Dataset, DataError> {
        parse_with(text, fmt, &LoadOptions::default())
    }

    #[test]
    fn ml100k_tabs() {
        let d = parse("196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t1\t1\n", &DelimitedFormat::ml100k()).unwrap();
        assert_eq!((d.n_users(), d.n_items(), d.len()), (2, 2, 3));
        let r: Vec<Rating> = d.interactions.iter().collect();
        assert_eq!(r[0], Rating { user: 0, item: 0, rating: 3.0, timestamp: Some(881250949) });
        assert_eq!(r[2], Rating { user: 0, item: 1, rating: 1.0, timestamp: Some(1) });
        assert_eq!(d.users.raw(1), Some("186"));
        assert_eq!(d.items.raw(1), Some("302"));
        assert_eq!(d.scale, (1.0, 3.0), "inferred scale is the data's range");
    }

    #[test]
    fn ml1m_double_colon() {
        let d = parse("1::1193::5::978300760\r\n1::661::3::978302109\r\n2::1193::4::978298413\r\n", &DelimitedFormat::ml1m()).unwrap();
        assert_eq!((d.n_users(), d.n_items(), d.len()), (2, 2, 3));
        assert_eq!(d.interactions.get(2).rating, 4.0);
        assert_eq!(d.interactions.get(1).timestamp, Some(978302109));
    }

    #[test]
    fn ml_latest_header_crlf_and_half_stars() {
        let text = "userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,0.5,964981247\r\n2,3,3.5,1\r\n";
        let d = parse(text, &DelimitedFormat::ml_latest()).unwrap();
        assert_eq!(d.interactions.values(), &[4.0, 0.5, 3.5]);
        assert_eq!(d.users.raw_ids(), &["1".to_string(), "2".to_string()]);
        assert_eq!(d.items.raw_ids(), &["1".to_string(), "3".to_string()]);
    }

    #[test]
    fn utf8_bom_is_skipped() {
        let text = "\u{feff}userId,movieId,rating,timestamp\n1,1,4.0,9\n";
        let d = parse(text, &DelimitedFormat::ml_latest()).unwrap();
        assert_eq!(d.len(), 1);
        let no_header = "\u{feff}7,8,5\n";
        let d = parse(no_header, &DelimitedFormat::csv()).unwrap();
        assert_eq!(d.users.raw(0), Some("7"), "the BOM must not become part of the first id");
    }

    #[test]
    fn lastfm_play_counts() {
        let text = "userID\tartistID\tweight\r\n2\t51\t13883\r\n2\t52\t11690\r\n3\t51\t7\r\n";
        let d = parse(text, &DelimitedFormat::lastfm()).unwrap();
        assert_eq!((d.n_users(), d.n_items()), (2, 2));
        assert_eq!(d.interactions.values(), &[13883.0, 11690.0, 7.0]);
        assert_eq!(d.interactions.timestamps(), None);
    }

    #[test]
    fn generic_positions_and_string_ids() {
        let fmt =
            DelimitedFormat { sep: ";".into(), header: true, user: Column::Index(2), item: Column::Index(0), rating: Some(Column::Index(1)), timestamp: None };
        let d = parse("item;score;who\nbook-a;5;alice\nbook-b; 2 ;bob\n", &fmt).unwrap();
        assert_eq!(d.users.raw_ids(), &["alice".to_string(), "bob".to_string()]);
        assert_eq!(d.items.raw(1), Some("book-b"));
        assert_eq!(d.interactions.get(1).rating, 2.0);
        assert_eq!(d.interactions.get(1).timestamp, None);
    }

    #[test]
    fn named_columns_and_implicit_files() {
        let fmt = DelimitedFormat {
            header: true,
            user: "who".parse().unwrap(),
            item: "what".parse().unwrap(),
            rating: None,
            timestamp: Some("when".parse().unwrap()),
            ..DelimitedFormat::csv()
        };
        let d = parse("when,what,who\n100,x,a\n50,y,a\n", &fmt).unwrap();
        assert_eq!(d.interactions.values(), &[1.0, 1.0]);
        assert_eq!(d.interactions.timestamps(), Some(&[100i64, 50][..]));
        assert_eq!(d.items.raw(1), Some("y"));
        let err = parse("when,what,user\n1,x,a\n", &fmt).unwrap_err();
        assert_eq!(err.to_string(), "t.csv:1: field `user`: no column named `who` in the header [\"when\", \"what\", \"user\"]");
        let no_header = DelimitedFormat { header: false, ..fmt };
        assert_eq!(
            parse("1,x,a\n", &no_header).unwrap_err().to_string(),
            "the `user` column is named `who`, but the file has no header line (set `header`; `--header` on the command line)"
        );
        assert_eq!("3".parse::<Column>().unwrap(), Column::Index(3));
    }

    #[test]
    fn huge_column_index_is_an_error_not_an_overflow() {
        // Found by the fuzzer (fuzz/regressions/parse_lines/huge-column-index-overflow).
        let fmt = DelimitedFormat { user: Column::Index(usize::MAX), ..DelimitedFormat::csv() };
        let e = parse("1,2,3\n", &fmt).unwrap_err();
        assert!(e.to_string().starts_with("t.csv:1: field `user`: missing: the line has 3 field(s)"), "{e}");
        // A header after blank lines: the error names the header's real line.
        let named = DelimitedFormat { header: true, user: Column::Name("who".into()), ..DelimitedFormat::csv() };
        let e = parse("\n\nx,item,rating\n1,2,3\n", &named).unwrap_err();
        assert!(e.to_string().starts_with("t.csv:3: field `user`: no column named `who`"), "{e}");
    }

    #[test]
    fn quoted_fields_and_blank_lines_keep_exact_line_numbers() {
        let d = parse("\"Smith, J\",\"The \"\"Best\"\" Book\",4\nbob,x,3\n", &DelimitedFormat::csv()).unwrap();
        assert_eq!(d.users.raw(0), Some("Smith, J"));
        assert_eq!(d.items.raw(0), Some("The \"Best\" Book"));
        let e = parse("1,1,4\n\n\n1,2,3\n\n2,1,x\n", &DelimitedFormat::csv()).unwrap_err();
        assert_eq!(e.to_string(), "t.csv:6: field `rating`: expected a finite number, found \"x\"");
        // An unterminated quote, or a quoted field running onto the next line, is named as such.
        let e = parse("1,1,4\n1,\"10,4\n", &DelimitedFormat::csv()).unwrap_err().to_string();
        assert!(e.starts_with("t.csv:2: field `line`: an unbalanced double quote"), "{e}");
        let e = parse("1,\"two\nlines\",4\n", &DelimitedFormat::csv()).unwrap_err().to_string();
        assert!(e.starts_with("t.csv:1: field `line`: an unbalanced double quote"), "{e}");
        // A quote inside an unquoted field is an ordinary character, even an odd number of them.
        let d = parse("u1,i1,4,12\" vinyl\nu2,\"a \"\"b\"\"\",3,x\n", &DelimitedFormat::csv()).unwrap();
        assert_eq!((d.len(), d.items.raw(1)), (2, Some("a \"b\"")));
    }

    #[test]
    fn carriage_return_only_line_ends_are_named() {
        let e = parse("u,i,r\r1,10,4\r2,11,3\r", &DelimitedFormat { header: true, ..DelimitedFormat::csv() }).unwrap_err().to_string();
        assert!(e.starts_with("t.csv:1: field `line`: a carriage return") && e.contains("CR only"), "{e}");
    }

    #[test]
    fn bad_rating_names_line_and_field() {
        let err = parse("userId,movieId,rating,timestamp\r\n1,1,4.0,9\r\n1,2,four,9\r\n", &DelimitedFormat::ml_latest()).unwrap_err();
        assert_eq!(err.to_string(), "t.csv:3: field `rating`: expected a finite number, found \"four\"");
    }

    #[test]
    fn crlf_line_numbers_are_exact() {
        let text = "1,1,4\r\n1,2,3\r\n2,1,5\r\n2,2,x\r\n";
        let err = parse(text, &DelimitedFormat::csv()).unwrap_err();
        assert!(err.to_string().starts_with("t.csv:4: field `rating`"), "{err}");
    }

    #[test]
    fn wrong_field_count_and_bad_timestamp_name_line() {
        let err = parse("1\t2\t3\t4\n5\t6\n", &DelimitedFormat::ml100k()).unwrap_err();
        assert_eq!(err.to_string(), "t.csv:2: field `rating`: missing: the line has 2 field(s) separated by \"\\t\", expected at least 4 (rating in column 2)");
        let err = parse("1::2::3::x\n", &DelimitedFormat::ml1m()).unwrap_err();
        assert_eq!(err.to_string(), "t.csv:1: field `timestamp`: expected an integer (seconds since 1970), found \"x\"");
        let err = parse("1,2,nan\n", &DelimitedFormat::csv()).unwrap_err();
        assert_eq!(err.to_string(), "t.csv:1: field `rating`: expected a finite number, found \"nan\"");
        let err = parse("1,,3\n", &DelimitedFormat::csv()).unwrap_err();
        assert_eq!(err.to_string(), "t.csv:1: field `item`: column 1 is empty; expected a value");
        let err = read_ratings(&b"1,2,3\n\xff,2,3\n"[..], "t.csv", &DelimitedFormat::csv(), &LoadOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "t.csv:2: field `user`: is not valid UTF-8");
    }

    #[test]
    fn declared_scale_rejects_out_of_range_with_the_line() {
        let opts = LoadOptions { scale: Some((1.0, 5.0)), ..Default::default() };
        let err = parse_with("1,1,5\n1,2,6\n", &DelimitedFormat::csv(), &opts).unwrap_err();
        assert_eq!(err.to_string(), "t.csv:2: field `rating`: 6 is outside the declared rating scale [1, 5]");
        let d = parse_with("1,1,2\n1,2,3\n", &DelimitedFormat::csv(), &opts).unwrap();
        assert_eq!(d.scale, (1.0, 5.0), "a declared scale is kept even if the data spans less");
        let bad = LoadOptions { scale: Some((5.0, 1.0)), ..Default::default() };
        assert!(matches!(parse_with("1,1,2\n", &DelimitedFormat::csv(), &bad), Err(DataError::Spec(_))));
    }

    #[test]
    fn duplicate_pair_names_both_lines() {
        let err = parse("a,x,1\nb,x,2\nc,y,3\na,x,4\n", &DelimitedFormat::csv()).unwrap_err();
        match err {
            DataError::Duplicate { user, item, first_line, second_line, .. } => {
                assert_eq!((user.as_str(), item.as_str(), first_line, second_line), ("a", "x", 1, 4));
            }
            e => panic!("expected Duplicate, got {e}"),
        }
        // The first duplicate in file order is reported.
        let err = parse("b,y,1\na,x,1\nb,y,2\na,x,3\n", &DelimitedFormat::csv()).unwrap_err();
        assert!(err.to_string().contains("user `b` and item `y` on lines 1 and 3"), "{err}");
    }

    #[test]
    fn duplicate_policies() {
        let text = "a,x,1,10\nb,x,2,20\na,x,4,30\na,x,3,5\n";
        let fmt = DelimitedFormat::csv().with_timestamp(3);
        let with = |p| parse_with(text, &fmt, &LoadOptions { duplicates: p, ..Default::default() }).unwrap();
        let first = with(DuplicatePolicy::First);
        assert_eq!(first.interactions.values(), &[1.0, 2.0]);
        assert_eq!(first.interactions.timestamps(), Some(&[10i64, 20][..]));
        let last = with(DuplicatePolicy::Last);
        assert_eq!(last.interactions.values(), &[3.0, 2.0]);
        assert_eq!(last.interactions.timestamps(), Some(&[5i64, 20][..]));
        let mean = with(DuplicatePolicy::Mean);
        assert_eq!(mean.interactions.values(), &[8.0 / 3.0, 2.0]);
        assert_eq!(mean.interactions.timestamps(), Some(&[30i64, 20][..]), "mean keeps the latest timestamp");
        assert_eq!("mean".parse::<DuplicatePolicy>().unwrap(), DuplicatePolicy::Mean);
        assert!("avg".parse::<DuplicatePolicy>().is_err());
    }

    #[test]
    fn empty_and_blank_lines() {
        assert!(matches!(parse("", &DelimitedFormat::csv()), Err(DataError::Empty { .. })));
        assert_eq!(parse("userId,movieId,rating,timestamp\r\n", &DelimitedFormat::ml_latest()).unwrap_err().to_string(), "t.csv: no ratings found");
        let d = parse("\n1::2::3::4\n\n  \n", &DelimitedFormat::ml1m()).unwrap();
        assert_eq!(d.len(), 1);
        let d = parse("\n1,2,3\n\n", &DelimitedFormat::csv()).unwrap();
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn contradictory_format_is_rejected() {
        let fmt = DelimitedFormat { rating: Some(Column::Index(0)), ..DelimitedFormat::csv() };
        let err = parse("1,2,3\n", &fmt).unwrap_err();
        assert_eq!(err.to_string(), "columns `user` and `rating` are both set to column 0; each needs its own column");
    }
}
