//! Readers for delimited rating files: MovieLens 100K, 1M and latest, and generic CSV/TSV.
//!
//! All readers go through one parser configured by a [`DelimitedFormat`], return a
//! [`Dataset`], and turn any bad line into a [`DataError`] naming the source, the 1-based line
//! number and the field — never a panic, never a silently dropped line.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::dataset::{Dataset, Interactions};
use crate::error::DataError;
use crate::ids::IdMap;

/// Layout of a delimited ratings file. Column indices are **0-based**.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DelimitedFormat {
    /// Field separator: one character (`,`, `\t`, `;`, `|`) or a longer string (`::`).
    pub sep: String,
    /// Whether the first line is a header to skip.
    pub header: bool,
    /// Column of the raw user id.
    pub user_col: usize,
    /// Column of the raw item id.
    pub item_col: usize,
    /// Column of the rating value.
    pub rating_col: usize,
    /// Column of the Unix timestamp (seconds), if any.
    pub timestamp_col: Option<usize>,
}

impl DelimitedFormat {
    /// MovieLens 100K `u.data`: `user \t item \t rating \t timestamp`, no header.
    pub fn ml100k() -> Self {
        Self { sep: "\t".into(), header: false, ..Self::csv() }.with_timestamp(3)
    }

    /// MovieLens 1M/10M `ratings.dat`: `UserID::MovieID::Rating::Timestamp`, no header.
    pub fn ml1m() -> Self {
        Self { sep: "::".into(), header: false, ..Self::csv() }.with_timestamp(3)
    }

    /// MovieLens latest/20M/25M `ratings.csv`: header `userId,movieId,rating,timestamp`.
    pub fn ml_latest() -> Self {
        Self { header: true, ..Self::csv() }.with_timestamp(3)
    }

    /// Generic CSV default: `user,item,rating`, no header, no timestamp.
    pub fn csv() -> Self {
        Self {
            sep: ",".into(),
            header: false,
            user_col: 0,
            item_col: 1,
            rating_col: 2,
            timestamp_col: None,
        }
    }

    /// Sets the timestamp column.
    pub fn with_timestamp(mut self, col: usize) -> Self {
        self.timestamp_col = Some(col);
        self
    }

    /// Checks the format for contradictions.
    ///
    /// # Errors
    /// [`DataError::Spec`] if the separator is empty or two roles share a column.
    pub fn check(&self) -> Result<(), DataError> {
        if self.sep.is_empty() {
            return Err(DataError::Spec("the field separator must not be empty".into()));
        }
        let mut cols = vec![
            ("user", self.user_col),
            ("item", self.item_col),
            ("rating", self.rating_col),
        ];
        if let Some(t) = self.timestamp_col {
            cols.push(("timestamp", t));
        }
        for (a, &(na, ca)) in cols.iter().enumerate() {
            for &(nb, cb) in &cols[a + 1..] {
                if ca == cb {
                    return Err(DataError::Spec(format!(
                        "columns `{na}` and `{nb}` are both set to column {ca}; each needs its own column"
                    )));
                }
            }
        }
        Ok(())
    }

    fn max_col(&self) -> usize {
        [self.user_col, self.item_col, self.rating_col, self.timestamp_col.unwrap_or(0)]
            .into_iter()
            .max()
            .unwrap_or(0)
    }
}

/// Reads a ratings file from disk.
///
/// # Errors
/// [`DataError::Io`] if the file cannot be read, otherwise as [`read_ratings`].
pub fn load_ratings(path: &Path, format: &DelimitedFormat) -> Result<Dataset, DataError> {
    let file = File::open(path).map_err(|source| DataError::Io { path: path.into(), source })?;
    read_ratings(BufReader::new(file), &path.display().to_string(), format)
}

/// Parses ratings from any reader; `source_name` is used in error messages and as the
/// dataset's name.
///
/// Empty lines are skipped; `\r\n` and `\n` line ends are both accepted. Rating values are
/// kept exactly as written (half stars stay half stars).
///
/// # Errors
/// - [`DataError::Parse`] for a line with too few fields, a non-numeric or non-finite rating,
///   or a malformed timestamp, naming the line and field;
/// - [`DataError::Duplicate`] if a (user, item) pair occurs twice, naming both lines;
/// - [`DataError::Empty`] if there are no ratings;
/// - [`DataError::Spec`] if the format is contradictory (see [`DelimitedFormat::check`]).
pub fn read_ratings<R: Read>(
    reader: R,
    source_name: &str,
    format: &DelimitedFormat,
) -> Result<Dataset, DataError> {
    format.check()?;
    let mut b = Builder::new(source_name, format);
    if let [sep] = format.sep.as_bytes() {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(*sep)
            .has_headers(false)
            .flexible(true)
            // `\n` as the only terminator (the `\r` of CRLF is trimmed with the field): the csv
            // crate's default CRLF handling miscounts line numbers, which our errors report.
            .terminator(csv::Terminator::Any(b'\n'))
            .trim(csv::Trim::All)
            .from_reader(reader);
        let mut record = csv::StringRecord::new();
        let mut first = true;
        loop {
            match rdr.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    return Err(DataError::parse(source_name, line, "line", e.to_string()));
                }
            }
            let line = record.position().map_or(0, |p| p.line());
            if std::mem::take(&mut first) && format.header {
                continue;
            }
            if record.len() == 1 && record[0].is_empty() {
                continue;
            }
            b.push(line, record.len(), |c| record.get(c))?;
        }
    } else {
        let mut rdr = BufReader::new(reader);
        let mut buf = String::new();
        let mut line = 0u64;
        loop {
            buf.clear();
            line += 1;
            let n = rdr.read_line(&mut buf).map_err(|e| {
                DataError::parse(source_name, line, "line", format!("cannot read: {e}"))
            })?;
            if n == 0 {
                break;
            }
            if line == 1 && format.header {
                continue;
            }
            let text = buf.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = text.split(format.sep.as_str()).map(str::trim).collect();
            b.push(line, fields.len(), |c| fields.get(c).copied())?;
        }
    }
    b.finish()
}

/// Reads item titles from a MovieLens latest `movies.csv` (`movieId,title,genres`, header)
/// for the items already in `items`; items missing from the file keep `None`.
///
/// # Errors
/// [`DataError::Parse`] for a malformed line (naming it).
pub fn read_ml_latest_titles<R: Read>(
    reader: R,
    source_name: &str,
    items: &IdMap,
) -> Result<Vec<Option<String>>, DataError> {
    let mut titles = vec![None; items.len()];
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .trim(csv::Trim::All)
        .from_reader(reader);
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            DataError::parse(source_name, line, "line", e.to_string())
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let (Some(id), Some(title)) = (rec.get(0), rec.get(1)) else {
            return Err(DataError::parse(
                source_name,
                line,
                "title",
                "missing: expected `movieId,title,genres`",
            ));
        };
        if let Some(i) = items.index(id.trim()) {
            titles[i as usize] = Some(title.to_string());
        }
    }
    Ok(titles)
}

/// Accumulates parsed lines into ratings and id maps.
struct Builder<'a> {
    source: &'a str,
    fmt: &'a DelimitedFormat,
    users: IdMap,
    items: IdMap,
    user_idx: Vec<u32>,
    item_idx: Vec<u32>,
    values: Vec<f32>,
    timestamps: Vec<i64>,
    lines: Vec<u64>,
}

impl<'a> Builder<'a> {
    fn new(source: &'a str, fmt: &'a DelimitedFormat) -> Self {
        Self {
            source,
            fmt,
            users: IdMap::new(),
            items: IdMap::new(),
            user_idx: Vec::new(),
            item_idx: Vec::new(),
            values: Vec::new(),
            timestamps: Vec::new(),
            lines: Vec::new(),
        }
    }

    fn field<'f>(
        &self,
        line: u64,
        n_fields: usize,
        get: &impl Fn(usize) -> Option<&'f str>,
        col: usize,
        name: &str,
    ) -> Result<&'f str, DataError> {
        match get(col) {
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => Err(DataError::parse(
                self.source,
                line,
                name,
                format!("column {col} is empty; expected a value"),
            )),
            None => Err(DataError::parse(
                self.source,
                line,
                name,
                format!(
                    "missing: the line has {n_fields} field(s) separated by {:?}, expected at least {} \
                     ({name} in column {col})",
                    self.fmt.sep,
                    self.fmt.max_col() + 1
                ),
            )),
        }
    }

    fn push<'f>(
        &mut self,
        line: u64,
        n_fields: usize,
        get: impl Fn(usize) -> Option<&'f str>,
    ) -> Result<(), DataError> {
        let user = self.field(line, n_fields, &get, self.fmt.user_col, "user")?;
        let item = self.field(line, n_fields, &get, self.fmt.item_col, "item")?;
        let rating_s = self.field(line, n_fields, &get, self.fmt.rating_col, "rating")?;
        let rating: f32 = match rating_s.parse::<f32>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                return Err(DataError::parse(
                    self.source,
                    line,
                    "rating",
                    format!("expected a finite number, found {rating_s:?}"),
                ));
            }
        };
        let timestamp = match self.fmt.timestamp_col {
            None => None,
            Some(c) => {
                let t = self.field(line, n_fields, &get, c, "timestamp")?;
                Some(t.parse::<i64>().map_err(|_| {
                    DataError::parse(
                        self.source,
                        line,
                        "timestamp",
                        format!("expected an integer (seconds since 1970), found {t:?}"),
                    )
                })?)
            }
        };
        let user = self.users.get_or_insert(user);
        let item = self.items.get_or_insert(item);
        self.user_idx.push(user);
        self.item_idx.push(item);
        self.values.push(rating);
        if let Some(t) = timestamp {
            self.timestamps.push(t);
        }
        self.lines.push(line);
        Ok(())
    }

    fn finish(self) -> Result<Dataset, DataError> {
        if self.values.is_empty() {
            return Err(DataError::Empty { source_name: self.source.to_string() });
        }
        // Duplicate (user, item) pairs: sort row numbers by pair, then look at neighbours.
        let (us, is) = (&self.user_idx, &self.item_idx);
        let mut order: Vec<usize> = (0..us.len()).collect();
        order.sort_unstable_by_key(|&k| (us[k], is[k], self.lines[k]));
        let same = |a: usize, b: usize| us[a] == us[b] && is[a] == is[b];
        let first_dup = order.windows(2).filter(|w| same(w[0], w[1])).min_by_key(|w| self.lines[w[1]]);
        if let Some(w) = first_dup {
            let (a, b) = (w[0], w[1]);
            // The pair's first line is the smallest line of that pair; report it with `b`.
            let first = order.iter().find(|&&k| same(k, a)).map_or(self.lines[a], |&k| self.lines[k]);
            return Err(DataError::Duplicate {
                source_name: self.source.to_string(),
                user: self.users.raw(us[a]).unwrap_or_default().to_string(),
                item: self.items.raw(is[a]).unwrap_or_default().to_string(),
                first_line: first,
                second_line: self.lines[b],
            });
        }
        let (n_users, n_items) = (self.users.len(), self.items.len());
        let timestamps = self.fmt.timestamp_col.map(|_| self.timestamps);
        let interactions =
            Interactions::from_columns(self.user_idx, self.item_idx, self.values, timestamps, n_users, n_items)?;
        Ok(Dataset {
            name: self.source.to_string(),
            interactions,
            users: self.users,
            items: self.items,
            item_titles: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Rating;

    fn parse(text: &str, fmt: &DelimitedFormat) -> Result<Dataset, DataError> {
        read_ratings(text.as_bytes(), "t.csv", fmt)
    }

    #[test]
    fn ml100k_tabs() {
        let d = parse("196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t1\t1\n", &DelimitedFormat::ml100k())
            .unwrap();
        assert_eq!((d.n_users(), d.n_items(), d.len()), (2, 2, 3));
        let r: Vec<Rating> = d.interactions.iter().collect();
        assert_eq!(r[0], Rating { user: 0, item: 0, rating: 3.0, timestamp: Some(881250949) });
        assert_eq!(r[2], Rating { user: 0, item: 1, rating: 1.0, timestamp: Some(1) });
        assert_eq!(d.users.raw(1), Some("186"));
        assert_eq!(d.items.raw(1), Some("302"));
    }

    #[test]
    fn ml1m_double_colon() {
        let d = parse("1::1193::5::978300760\r\n1::661::3::978302109\r\n2::1193::4::978298413\r\n", &DelimitedFormat::ml1m())
            .unwrap();
        assert_eq!((d.n_users(), d.n_items(), d.len()), (2, 2, 3));
        assert_eq!(d.interactions.get(2).rating, 4.0);
        assert_eq!(d.interactions.get(1).timestamp, Some(978302109));
    }

    #[test]
    fn ml_latest_header_crlf_and_half_stars() {
        let text = "userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,0.5,964981247\r\n2,3,3.5,1\r\n";
        let d = parse(text, &DelimitedFormat::ml_latest()).unwrap();
        assert_eq!(d.len(), 3);
        let ratings: Vec<f32> = d.interactions.values().to_vec();
        assert_eq!(ratings, vec![4.0, 0.5, 3.5]);
        assert_eq!(d.users.raw_ids(), &["1".to_string(), "2".to_string()]);
        assert_eq!(d.items.raw_ids(), &["1".to_string(), "3".to_string()]);
    }

    #[test]
    fn generic_positions_and_string_ids() {
        let fmt = DelimitedFormat {
            sep: ";".into(),
            header: true,
            user_col: 2,
            item_col: 0,
            rating_col: 1,
            timestamp_col: None,
        };
        let d = parse("item;score;who\nbook-a;5;alice\nbook-b; 2 ;bob\n", &fmt).unwrap();
        assert_eq!(d.users.raw_ids(), &["alice".to_string(), "bob".to_string()]);
        assert_eq!(d.items.raw(1), Some("book-b"));
        assert_eq!(d.interactions.get(1).rating, 2.0);
        assert_eq!(d.interactions.get(1).timestamp, None);
    }

    #[test]
    fn bad_rating_names_line_and_field() {
        let err = parse("userId,movieId,rating,timestamp\r\n1,1,4.0,9\r\n1,2,four,9\r\n", &DelimitedFormat::ml_latest())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv:3: field `rating`: expected a finite number, found \"four\""
        );
    }

    #[test]
    fn crlf_line_numbers_are_exact() {
        let text = "1,1,4\r\n1,2,3\r\n2,1,5\r\n2,2,x\r\n";
        let err = parse(text, &DelimitedFormat::csv()).unwrap_err();
        assert!(err.to_string().starts_with("t.csv:4: field `rating`"), "{err}");
    }

    #[test]
    fn missing_field_and_bad_timestamp_name_line() {
        let err = parse("1\t2\t3\t4\n5\t6\n", &DelimitedFormat::ml100k()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("t.csv:2: field `rating`: missing: the line has 2 field(s)"), "{msg}");
        let err = parse("1::2::3::x\n", &DelimitedFormat::ml1m()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv:1: field `timestamp`: expected an integer (seconds since 1970), found \"x\""
        );
        let err = parse("1,2,nan\n", &DelimitedFormat::csv()).unwrap_err();
        assert!(err.to_string().starts_with("t.csv:1: field `rating`"));
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
    }

    #[test]
    fn empty_and_blank_lines() {
        assert!(matches!(parse("", &DelimitedFormat::csv()), Err(DataError::Empty { .. })));
        assert!(matches!(
            parse("userId,movieId,rating,timestamp\r\n", &DelimitedFormat::ml_latest()),
            Err(DataError::Empty { .. })
        ));
        let d = parse("\n1::2::3::4\n\n", &DelimitedFormat::ml1m()).unwrap();
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn contradictory_format_is_rejected() {
        let fmt = DelimitedFormat { rating_col: 0, ..DelimitedFormat::csv() };
        let err = parse("1,2,3\n", &fmt).unwrap_err();
        assert!(err.to_string().contains("`user` and `rating` are both set to column 0"), "{err}");
    }

    #[test]
    fn titles_from_movies_csv() {
        let items = IdMap::from_raw(["3", "1"]);
        let text = "movieId,title,genres\r\n1,Toy Story (1995),Animation\r\n2,\"Heat, The (1995)\",Crime\r\n3,Grumpier Old Men (1995),Comedy\r\n";
        let t = read_ml_latest_titles(text.as_bytes(), "movies.csv", &items).unwrap();
        assert_eq!(t, vec![Some("Grumpier Old Men (1995)".into()), Some("Toy Story (1995)".into())]);
    }
}
