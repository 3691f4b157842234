//! Readers for the side files that come with the rating files: item titles and genres, user
//! demographics. Each returns rows indexed like the dataset's own id maps; side-file entries
//! for users or items without ratings are skipped, and rated entities missing from the side
//! file get no title and an empty feature row.
//!
//! | dataset | file | encoding | fields |
//! | --- | --- | --- | --- |
//! | ML-100K | `u.item` | Latin-1 | `id|title|release|video|url|19 genre flags` |
//! | ML-100K | `u.user` | ASCII | `id|age|gender|occupation|zip` |
//! | ML-1M/10M | `movies.dat` | Latin-1 (10M: UTF-8) | `id::title::Genre|Genre` |
//! | ML-1M | `users.dat` | ASCII | `id::gender::age-code::occupation-code::zip` |
//! | ML latest/20M/25M | `movies.csv` | UTF-8, quoted | `movieId,title,genres` |
//! | Last.fm | `artists.dat` | UTF-8 | `id \t name \t url \t picture` |

use std::io::{BufRead, Read};

use crate::error::DataError;
use crate::features::{FeatureBuilder, FeatureTable, age_bucket};
use crate::ids::IdMap;
use crate::loader::skip_bom;

/// Text encoding of a side file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (invalid bytes are an error naming the line).
    Utf8,
    /// ISO-8859-1: every byte is the code point of the same value.
    Latin1,
}

/// Decodes ISO-8859-1 bytes.
pub fn decode_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Calls `f(line_number, text)` for every non-blank line (1-based numbers, line end and a
/// leading UTF-8 BOM removed).
///
/// # Errors
/// [`DataError::Parse`] for a read error or invalid UTF-8 (naming the line), and whatever `f`
/// returns.
pub fn for_each_line<R: Read>(reader: R, source: &str, encoding: Encoding, mut f: impl FnMut(u64, &str) -> Result<(), DataError>) -> Result<(), DataError> {
    let mut r = skip_bom(reader).map_err(|e| DataError::parse(source, 1, "line", format!("cannot read: {e}")))?;
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        line += 1;
        let n = r.read_until(b'\n', &mut buf).map_err(|e| DataError::parse(source, line, "line", format!("cannot read: {e}")))?;
        if n == 0 {
            return Ok(());
        }
        let bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let text = match encoding {
            Encoding::Utf8 => std::borrow::Cow::Borrowed(
                std::str::from_utf8(bytes).map_err(|_| DataError::parse(source, line, "line", "is not valid UTF-8 (is the file Latin-1?)"))?,
            ),
            Encoding::Latin1 => std::borrow::Cow::Owned(decode_latin1(bytes)),
        };
        if text.trim().is_empty() {
            continue;
        }
        f(line, &text)?;
    }
}

/// The 19 ML-100K genres, in `u.genre` order (the order of the flags in `u.item`).
pub const ML100K_GENRES: [&str; 19] = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
];

/// The 21 ML-1M occupation codes (`users.dat`), from the ML-1M README.
pub const ML1M_OCCUPATIONS: [&str; 21] = [
    "other",
    "academic/educator",
    "artist",
    "clerical/admin",
    "college/grad student",
    "customer service",
    "doctor/health care",
    "executive/managerial",
    "farmer",
    "homemaker",
    "K-12 student",
    "lawyer",
    "programmer",
    "retired",
    "sales/marketing",
    "scientist",
    "self-employed",
    "technician/engineer",
    "tradesman/craftsman",
    "unemployed",
    "writer",
];

/// Titles (`[n_items]`) and genres of the items.
pub type ItemSide = (Vec<Option<String>>, FeatureTable);

fn fields<'t>(source: &str, line: u64, text: &'t str, sep: &str, min: usize, layout: &str) -> Result<Vec<&'t str>, DataError> {
    let f: Vec<&str> = text.split(sep).collect();
    if f.len() < min {
        return Err(DataError::parse(source, line, "line", format!("has {} field(s) separated by {sep:?}, expected {layout}", f.len())));
    }
    Ok(f)
}

/// Reads ML-100K `u.item` (Latin-1): titles and the 19 genre flags as `genre=…` features.
///
/// # Errors
/// [`DataError::Parse`] for a line with too few fields or a flag other than 0/1.
pub fn read_ml100k_items<R: Read>(reader: R, source: &str, items: &IdMap) -> Result<ItemSide, DataError> {
    let mut titles = vec![None; items.len()];
    let mut fb = FeatureBuilder::new(items.len());
    for g in ML100K_GENRES {
        fb.declare("genre", g);
    }
    for_each_line(reader, source, Encoding::Latin1, |line, text| {
        let f = fields(source, line, text, "|", 24, "24 (id|title|release|video|url|19 genre flags)")?;
        let Some(i) = items.index(f[0].trim()) else { return Ok(()) };
        titles[i as usize] = Some(f[1].to_string());
        for (g, flag) in ML100K_GENRES.iter().zip(&f[5..24]) {
            match flag.trim() {
                "1" => fb.set(i as usize, "genre", g),
                "0" => {}
                other => {
                    return Err(DataError::parse(source, line, format!("genre {g}"), format!("expected 0 or 1, found {other:?}")));
                }
            }
        }
        Ok(())
    })?;
    Ok((titles, fb.build()))
}

/// Reads ML-100K `u.user`: `age` (bucketed as in ML-1M), `gender`, `occupation` features (the
/// zip code is not used).
///
/// # Errors
/// [`DataError::Parse`] for a line with too few fields or a non-numeric age.
pub fn read_ml100k_users<R: Read>(reader: R, source: &str, users: &IdMap) -> Result<FeatureTable, DataError> {
    let mut fb = FeatureBuilder::new(users.len());
    for_each_line(reader, source, Encoding::Latin1, |line, text| {
        let f = fields(source, line, text, "|", 4, "5 (id|age|gender|occupation|zip)")?;
        let Some(u) = users.index(f[0].trim()) else { return Ok(()) };
        let age: u32 = f[1].trim().parse().map_err(|_| DataError::parse(source, line, "age", format!("expected a whole number, found {:?}", f[1])))?;
        fb.set(u as usize, "age", age_bucket(age));
        fb.set(u as usize, "gender", f[2].trim());
        fb.set(u as usize, "occupation", f[3].trim());
        Ok(())
    })?;
    Ok(fb.build())
}

/// Reads ML-1M / ML-10M `movies.dat` (`::`-separated; ML-1M is Latin-1, ML-10M UTF-8):
/// titles and `|`-separated genres.
///
/// # Errors
/// [`DataError::Parse`] for a line with too few fields.
pub fn read_ml1m_movies<R: Read>(reader: R, source: &str, items: &IdMap, encoding: Encoding) -> Result<ItemSide, DataError> {
    let mut titles = vec![None; items.len()];
    let mut fb = FeatureBuilder::new(items.len());
    for_each_line(reader, source, encoding, |line, text| {
        let f = fields(source, line, text, "::", 3, "3 (MovieID::Title::Genres)")?;
        let Some(i) = items.index(f[0].trim()) else { return Ok(()) };
        titles[i as usize] = Some(f[1].to_string());
        add_genres(&mut fb, i as usize, f[2]);
        Ok(())
    })?;
    Ok((titles, fb.build()))
}

/// Reads ML-1M `users.dat`: `gender`, `age` (the README's buckets) and `occupation` (named
/// from its code) features.
///
/// # Errors
/// [`DataError::Parse`] for a line with too few fields or an unknown age or occupation code.
pub fn read_ml1m_users<R: Read>(reader: R, source: &str, users: &IdMap) -> Result<FeatureTable, DataError> {
    let mut fb = FeatureBuilder::new(users.len());
    for_each_line(reader, source, Encoding::Latin1, |line, text| {
        let f = fields(source, line, text, "::", 4, "5 (UserID::Gender::Age::Occupation::Zip-code)")?;
        let Some(u) = users.index(f[0].trim()) else { return Ok(()) };
        let age: u32 = match f[2].trim().parse() {
            Ok(a @ (1 | 18 | 25 | 35 | 45 | 50 | 56)) => a,
            _ => return Err(DataError::parse(source, line, "age", format!("expected one of 1, 18, 25, 35, 45, 50, 56, found {:?}", f[2]))),
        };
        let occupation = f[3]
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|c| ML1M_OCCUPATIONS.get(c))
            .ok_or_else(|| DataError::parse(source, line, "occupation", format!("expected a code 0–20, found {:?}", f[3])))?;
        fb.set(u as usize, "gender", f[1].trim());
        fb.set(u as usize, "age", age_bucket(age));
        fb.set(u as usize, "occupation", occupation);
        Ok(())
    })?;
    Ok(fb.build())
}

/// Reads MovieLens latest / 20M / 25M `movies.csv` (`movieId,title,genres`, header, quoted
/// titles): titles and `|`-separated genres (`(no genres listed)` gives none).
///
/// # Errors
/// [`DataError::Parse`] for a malformed line, naming it.
pub fn read_ml_latest_movies<R: Read>(reader: R, source: &str, items: &IdMap) -> Result<ItemSide, DataError> {
    let mut titles = vec![None; items.len()];
    let mut fb = FeatureBuilder::new(items.len());
    for rec in csv_records(reader, source)? {
        let (line, rec) = rec?;
        let (Some(id), Some(title), Some(genres)) = (rec.get(0), rec.get(1), rec.get(2)) else {
            return Err(DataError::parse(source, line, "line", "expected 3 fields: movieId,title,genres"));
        };
        if let Some(i) = items.index(id) {
            titles[i as usize] = Some(title.to_string());
            add_genres(&mut fb, i as usize, genres);
        }
    }
    Ok((titles, fb.build()))
}

/// Reads MovieLens latest / 20M / 25M `tags.csv` (`userId,movieId,tag,timestamp`, header,
/// quoted): every tag applied to an item becomes a `tag=…` feature (trimmed, lower-cased).
///
/// # Errors
/// [`DataError::Parse`] for a malformed line, naming it.
pub fn read_ml_latest_tags<R: Read>(reader: R, source: &str, items: &IdMap) -> Result<FeatureTable, DataError> {
    let mut fb = FeatureBuilder::new(items.len());
    for rec in csv_records(reader, source)? {
        let (line, rec) = rec?;
        let (Some(id), Some(tag)) = (rec.get(1), rec.get(2)) else {
            return Err(DataError::parse(source, line, "line", "expected 4 fields: userId,movieId,tag,timestamp"));
        };
        let tag = tag.trim().to_lowercase();
        if let (Some(i), false) = (items.index(id), tag.is_empty()) {
            fb.set(i as usize, "tag", &tag);
        }
    }
    Ok(fb.build())
}

/// The records of a quoted CSV file with a header, each with its 1-based line number.
fn csv_records<R: Read>(reader: R, source: &str) -> Result<impl Iterator<Item = Result<(u64, csv::StringRecord), DataError>>, DataError> {
    let reader = skip_bom(reader).map_err(|e| DataError::parse(source, 1, "line", format!("cannot read: {e}")))?;
    let rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        // `\n` only: the csv crate miscounts lines with CRLF terminators (see loader.rs).
        .terminator(csv::Terminator::Any(b'\n'))
        .trim(csv::Trim::All)
        .from_reader(reader);
    let source = source.to_string();
    Ok(rdr.into_records().map(move |rec| {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            DataError::parse(&source, line, "line", e.to_string())
        })?;
        Ok((rec.position().map_or(0, |p| p.line()), rec))
    }))
}

fn add_genres(fb: &mut FeatureBuilder, row: usize, genres: &str) {
    for g in genres.split('|').map(str::trim) {
        if !g.is_empty() && g != "(no genres listed)" {
            fb.set(row, "genre", g);
        }
    }
}

/// Reads HetRec Last.fm `artists.dat` (`id \t name \t url \t pictureURL`, header): artist
/// names as item titles.
///
/// # Errors
/// [`DataError::Parse`] for a line with too few fields or invalid UTF-8.
pub fn read_lastfm_artists<R: Read>(reader: R, source: &str, items: &IdMap) -> Result<Vec<Option<String>>, DataError> {
    let mut titles = vec![None; items.len()];
    let mut first = true;
    for_each_line(reader, source, Encoding::Utf8, |line, text| {
        if std::mem::take(&mut first) {
            return Ok(()); // header
        }
        let f = fields(source, line, text, "\t", 2, "4 (id, name, url, pictureURL)")?;
        if let Some(i) = items.index(f[0].trim()) {
            titles[i as usize] = Some(f[1].to_string());
        }
        Ok(())
    })?;
    Ok(titles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ml100k_items_latin1_and_genres() {
        let items = IdMap::from_raw(["543", "1"]);
        let mut text = b"1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n".to_vec();
        text.extend_from_slice(b"543|Mis\xe9rables, Les (1995)|01-Jan-1995||http://y|0|0|0|0|0|0|0|0|1|0|0|0|1|0|0|0|0|0|0\r\n");
        text.extend_from_slice(b"9|Unrated|01-Jan-1995||u|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0\n");
        let (titles, genres) = read_ml100k_items(&text[..], "u.item", &items).unwrap();
        assert_eq!(titles, vec![Some("Misérables, Les (1995)".to_string()), Some("Toy Story (1995)".to_string())]);
        assert_eq!(genres.n_features(), 19);
        assert_eq!(genres.row_names(1), vec!["genre=Animation", "genre=Children's", "genre=Comedy"]);
        assert_eq!(genres.row_names(0), vec!["genre=Drama", "genre=Musical"]);
    }

    #[test]
    fn ml100k_items_bad_flag_names_line_and_genre() {
        let items = IdMap::from_raw(["1"]);
        let text = "1|T|d||u|0|0|0|1|1|1|0|0|0|0|0|0|0|0|x|0|0|0|0\n";
        let e = read_ml100k_items(text.as_bytes(), "u.item", &items).unwrap_err();
        assert_eq!(e.to_string(), "u.item:1: field `genre Romance`: expected 0 or 1, found \"x\"");
        let e = read_ml100k_items("1|T|d\n".as_bytes(), "u.item", &items).unwrap_err();
        assert!(e.to_string().starts_with("u.item:1: field `line`: has 3 field(s)"), "{e}");
    }

    #[test]
    fn ml100k_users_demographics() {
        let users = IdMap::from_raw(["2", "1"]);
        let t = read_ml100k_users("1|24|M|technician|85711\n2|53|F|other|94043\n".as_bytes(), "u.user", &users).unwrap();
        assert_eq!(t.row_names(1), vec!["age=18-24", "gender=M", "occupation=technician"]);
        assert_eq!(sorted(t.row_names(0)), vec!["age=50-55", "gender=F", "occupation=other"]);
    }

    fn sorted(mut v: Vec<&str>) -> Vec<&str> {
        v.sort_unstable();
        v
    }

    #[test]
    fn ml1m_movies_and_users() {
        let items = IdMap::from_raw(["1", "2"]);
        let text = b"1::Toy Story (1995)::Animation|Children's|Comedy\n2::Caf\xe9 (2000)::Drama\n";
        let (titles, g) = read_ml1m_movies(&text[..], "movies.dat", &items, Encoding::Latin1).unwrap();
        assert_eq!(titles[1].as_deref(), Some("Café (2000)"));
        assert_eq!(g.row_names(0), vec!["genre=Animation", "genre=Children's", "genre=Comedy"]);
        let users = IdMap::from_raw(["1"]);
        let t = read_ml1m_users("1::F::1::10::48067\n".as_bytes(), "users.dat", &users).unwrap();
        assert_eq!(t.row_names(0), vec!["gender=F", "age=under-18", "occupation=K-12 student"]);
        let e = read_ml1m_users("1::F::2::10::48067\n".as_bytes(), "users.dat", &users).unwrap_err();
        assert_eq!(e.to_string(), "users.dat:1: field `age`: expected one of 1, 18, 25, 35, 45, 50, 56, found \"2\"");
        let e = read_ml1m_users("1::F::1::21::48067\n".as_bytes(), "users.dat", &users).unwrap_err();
        assert_eq!(e.to_string(), "users.dat:1: field `occupation`: expected a code 0–20, found \"21\"");
    }

    #[test]
    fn ml_latest_movies_quoted_titles_and_no_genres() {
        let items = IdMap::from_raw(["3", "1", "2"]);
        let text = "\u{feff}movieId,title,genres\r\n1,Toy Story (1995),Animation|Comedy\r\n2,\"Heat, The (1995)\",(no genres listed)\r\n3,Grumpier Old Men (1995),Comedy\r\n";
        let (t, g) = read_ml_latest_movies(text.as_bytes(), "movies.csv", &items).unwrap();
        assert_eq!(t[2].as_deref(), Some("Heat, The (1995)"));
        assert_eq!(t[0].as_deref(), Some("Grumpier Old Men (1995)"));
        assert!(g.row(2).is_empty());
        assert_eq!(sorted(g.row_names(1)), vec!["genre=Animation", "genre=Comedy"]);
    }

    #[test]
    fn ml_latest_tags_are_lowercased_features() {
        let items = IdMap::from_raw(["60756", "1"]);
        let text = "userId,movieId,tag,timestamp\r\n2,60756,Funny,1445714994\r\n2,60756,\"Highly quotable\",1445714996\r\n7,60756,funny,1\r\n";
        let t = read_ml_latest_tags(text.as_bytes(), "tags.csv", &items).unwrap();
        assert_eq!(t.row_names(0), vec!["tag=funny", "tag=highly quotable"]);
        assert!(t.row(1).is_empty());
    }

    #[test]
    fn lastfm_artist_names() {
        let items = IdMap::from_raw(["2"]);
        let text = "id\tname\turl\tpictureURL\n1\tMALICE MIZER\thttp://a\thttp://b\n2\tDiary of Dreams\thttp://c\thttp://d\n";
        assert_eq!(read_lastfm_artists(text.as_bytes(), "artists.dat", &items).unwrap(), vec![Some("Diary of Dreams".into())]);
        let e = read_lastfm_artists(&b"id\tname\n2\t\xff\n"[..], "artists.dat", &items).unwrap_err();
        assert_eq!(e.to_string(), "artists.dat:2: field `line`: is not valid UTF-8 (is the file Latin-1?)");
    }
}
