//! Fuzz target for burnrec-data's line parsers: `read_ratings` under every preset format, a
//! generic format built from the input, every duplicate policy and optional declared scales,
//! plus every side-file reader (`burnrec_data::side`).
//!
//! Input layout (so hand-written seeds stay readable; see fuzz/README.md):
//!
//! | byte | meaning |
//! | --- | --- |
//! | 0 | format: `b % 6` → 0 ml100k, 1 ml1m, 2 ml_latest, 3 lastfm, 4 csv, 5 generic (ASCII `'0'`…`'5'` pick the same) |
//! | 1 | options: bits 0–1 duplicate policy (Error, First, Last, Mean; ASCII `'0'`…`'3'`), bit 2 declares a scale, bits 3–4 pick it from [`SCALES`] (`'4'`…`'7'` → [1, 5]) |
//! | 2–4 | generic format only: separator, columns, header / named columns (see [`generic_format`]) |
//! | rest | the file's bytes |
//!
//! A panic anywhere (parser or the invariant checks below) is what libFuzzer reports.
#![no_main]

use std::collections::HashSet;

use burnrec_data::side::{self, Encoding};
use burnrec_data::{Column, DataError, Dataset, DelimitedFormat, DuplicatePolicy, IdMap, LoadOptions, read_ratings};
use libfuzzer_sys::fuzz_target;

const SOURCE: &str = "fuzz.dat";

/// Declared scales, picked by bits 3–4 of byte 1 when bit 2 is set. The last one is invalid
/// (min > max) and must be rejected with an error, not a panic.
const SCALES: [(f32, f32); 4] = [(0.5, 5.0), (0.0, 1.0), (1.0, 5.0), (5.0, 1.0)];

/// Multi-character separators for generic-format separator bytes >= 0x80 (exercise the
/// non-csv path, including non-ASCII separators).
const LONG_SEPS: [&str; 8] = ["::", "||", " :: ", "\t\t", "→", "é", ",,", "ab"];

/// Header names for named columns (generic format, named mode).
const NAMES: [&str; 4] = ["user", "item", "rating", "ts"];

const POLICIES: [DuplicatePolicy; 4] =
    [DuplicatePolicy::Error, DuplicatePolicy::First, DuplicatePolicy::Last, DuplicatePolicy::Mean];

fuzz_target!(|data: &[u8]| {
    let Some((&fmt_byte, rest)) = data.split_first() else { return };
    let Some((&opt_byte, rest)) = rest.split_first() else { return };

    let (format, body) = match fmt_byte % 6 {
        0 => (DelimitedFormat::ml100k(), rest),
        1 => (DelimitedFormat::ml1m(), rest),
        2 => (DelimitedFormat::ml_latest(), rest),
        3 => (DelimitedFormat::lastfm(), rest),
        4 => (DelimitedFormat::csv(), rest),
        _ => match rest {
            [s, c, h, body @ ..] => (generic_format(*s, *c, *h), body),
            _ => return,
        },
    };
    let scale = (opt_byte & 0b100 != 0).then(|| SCALES[usize::from((opt_byte >> 3) & 0b11)]);
    let opts = LoadOptions {
        duplicates: POLICIES[usize::from(opt_byte & 0b11)],
        scale,
        csv: format.clone(),
        // Not applied by `read_ratings` (only by `DatasetSpec::load`); set so that stays true.
        implicit_threshold: (opt_byte & 0b10_0000 != 0).then_some(4.0),
        min_user_interactions: 0,
        min_item_interactions: 0,
    };

    let result = read_ratings(body, SOURCE, &format, &opts);
    let parsed_items = match &result {
        Ok(d) => {
            check_dataset(d, &format, &opts);
            check_filtered(d);
            Some(d.items.clone())
        }
        Err(e) => {
            check_error(e, body);
            None
        }
    };

    // Side files: the same bytes, against a few fixed ids and (when the parse succeeded) the
    // parsed item ids, as the loaders do.
    let fixed = IdMap::from_raw(["1", "2", "3", "10", "196", "242", "a"]);
    check_side(body, &fixed);
    if let Some(items) = parsed_items {
        check_side(body, &items);
    }
});

/// Builds a generic format from three control bytes.
///
/// - `s`: separator: an ASCII byte is itself (any ASCII, even `"`, `\n` or a digit); a byte
///   `>= 0x80` picks one of [`LONG_SEPS`].
/// - `c`: bits 0–1 user column, bits 2–3 item column, bits 4–5 rating column, bit 6 no rating
///   column (implicit), bit 7 timestamp column present.
/// - `h`: bit 0 header line, bit 1 named columns (needs the header; without one the format
///   must be rejected), bits 2–3 timestamp column, bit 4 huge positions (positional column
///   `k` becomes `usize::MAX - k`, as `--csv-user 18446744073709551615` would give).
fn generic_format(s: u8, c: u8, h: u8) -> DelimitedFormat {
    let sep = if s.is_ascii() { char::from(s).to_string() } else { LONG_SEPS[usize::from(s & 7)].to_string() };
    let named = h & 0b10 != 0;
    let huge = h & 0b1_0000 != 0;
    let col = |k: u8| {
        let k = usize::from(k & 0b11);
        match (named, huge) {
            (true, _) => Column::Name(NAMES[k].to_string()),
            (false, false) => Column::Index(k),
            (false, true) => Column::Index(usize::MAX - k),
        }
    };
    DelimitedFormat {
        sep,
        header: h & 1 != 0,
        user: col(c),
        item: col(c >> 2),
        rating: (c & 0b100_0000 == 0).then(|| col(c >> 4)),
        timestamp: (c & 0b1000_0000 != 0).then(|| col(h >> 2)),
    }
}

/// Invariants of a successfully parsed dataset.
fn check_dataset(d: &Dataset, format: &DelimitedFormat, opts: &LoadOptions) {
    let it = &d.interactions;
    let (n_users, n_items) = (it.n_users(), it.n_items());
    assert!(it.len() > 0, "Ok dataset with no interactions");
    assert!(!d.is_empty() && d.len() == it.len());
    assert_eq!(d.users.len(), n_users, "users IdMap length != interactions.n_users()");
    assert_eq!(d.items.len(), n_items, "items IdMap length != interactions.n_items()");
    assert_eq!((d.n_users(), d.n_items()), (n_users, n_items));
    assert_eq!(d.name, SOURCE);

    let (users, items, values) = (it.users(), it.items(), it.values());
    assert!(users.len() == it.len() && items.len() == it.len() && values.len() == it.len());
    match (it.timestamps(), &format.timestamp) {
        (Some(t), Some(_)) => assert_eq!(t.len(), it.len(), "timestamp column length"),
        (None, None) => {}
        (t, c) => panic!("timestamps present = {}, but timestamp column = {c:?}", t.is_some()),
    }

    let mut seen_users = vec![false; n_users];
    let mut seen_items = vec![false; n_items];
    let mut pairs = HashSet::with_capacity(it.len());
    for k in 0..it.len() {
        let (u, i, v) = (users[k] as usize, items[k] as usize, values[k]);
        assert!(u < n_users, "user index {u} >= n_users {n_users}");
        assert!(i < n_items, "item index {i} >= n_items {n_items}");
        assert!(v.is_finite(), "non-finite rating {v}");
        if let Some((lo, hi)) = opts.scale {
            assert!(lo <= v && v <= hi, "rating {v} outside the declared scale [{lo}, {hi}]");
        }
        if format.rating.is_none() {
            assert_eq!(v, 1.0, "implicit format must give value 1");
        }
        seen_users[u] = true;
        seen_items[i] = true;
        // Every duplicate policy leaves at most one rating per (user, item) pair.
        assert!(pairs.insert((u, i)), "pair ({u}, {i}) kept twice under {:?}", opts.duplicates);
    }
    // Indices are contiguous: every id in the maps has at least one rating.
    assert!(seen_users.iter().all(|&s| s), "a user index has no rating");
    assert!(seen_items.iter().all(|&s| s), "an item index has no rating");
    for (name, map) in [("user", &d.users), ("item", &d.items)] {
        for (k, raw) in map.raw_ids().iter().enumerate() {
            assert!(!raw.is_empty(), "empty raw {name} id at index {k}");
            assert_eq!(map.index(raw), Some(k as u32), "{name} IdMap is not a bijection at {raw:?}");
        }
    }

    let (lo, hi) = d.scale;
    match opts.scale {
        Some(s) => assert_eq!(d.scale, s, "declared scale not kept"),
        None => {
            let (min, max) = it.rating_range().expect("non-empty");
            assert_eq!((lo, hi), (min, max), "inferred scale is not the data's min/max");
        }
    }
    assert!(d.item_titles.is_empty() && d.item_features.is_none() && d.user_features.is_none());
}

/// Invariants of an error from `read_ratings`.
fn check_error(e: &DataError, body: &[u8]) {
    check_message(e);
    // Lines named in errors are 1-based and inside the file.
    let n_lines = body.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    match e {
        DataError::Parse { source_name, line, field, msg } => {
            assert_eq!(source_name, SOURCE);
            assert!(!field.is_empty() && !msg.is_empty(), "parse error without field or message: {e}");
            assert!((1..=n_lines).contains(line), "parse error names line {line}, file has {n_lines}: {e}");
        }
        DataError::Duplicate { first_line, second_line, .. } => {
            assert!(
                1 <= *first_line && first_line < second_line && *second_line <= n_lines,
                "duplicate error names lines {first_line} and {second_line}, file has {n_lines}: {e}"
            );
        }
        _ => {}
    }
}

fn check_message(e: &DataError) {
    let msg = e.to_string();
    assert!(!msg.is_empty(), "empty error message for {e:?}");
    assert!(!msg.contains("panicked"), "error message mentions a panic: {msg}");
}

/// Runs every side-file reader on `body` against `ids`; checks shapes on Ok, messages on Err.
fn check_side(body: &[u8], ids: &IdMap) {
    let n = ids.len();
    let check_items = |r: Result<side::ItemSide, DataError>| match r {
        Ok((titles, table)) => {
            assert_eq!(titles.len(), n, "titles not indexed like the id map");
            check_table(&table, n);
        }
        Err(e) => check_message(&e),
    };
    let check_users = |r: Result<burnrec_data::FeatureTable, DataError>| match r {
        Ok(table) => check_table(&table, n),
        Err(e) => check_message(&e),
    };
    match side::read_ml100k_items(body, "u.item", ids) {
        Ok((_, table)) if table.n_features() < 19 => panic!("ML-100K genres not all declared"),
        r => check_items(r),
    }
    check_users(side::read_ml100k_users(body, "u.user", ids));
    check_items(side::read_ml1m_movies(body, "movies.dat", ids, Encoding::Latin1));
    check_items(side::read_ml1m_movies(body, "movies.dat", ids, Encoding::Utf8));
    check_users(side::read_ml1m_users(body, "users.dat", ids));
    let genres = match side::read_ml_latest_movies(body, "movies.csv", ids) {
        Ok((titles, table)) => {
            assert_eq!(titles.len(), n, "titles not indexed like the id map");
            check_table(&table, n);
            Some(table)
        }
        Err(e) => {
            check_message(&e);
            None
        }
    };
    match side::read_ml_latest_tags(body, "tags.csv", ids) {
        Ok(tags) => {
            check_table(&tags, n);
            for k in 0..n {
                for name in tags.row_names(k) {
                    let tag = name.strip_prefix("tag=").expect("tag features are named tag=...");
                    assert!(!tag.is_empty() && tag == tag.trim() && tag == tag.to_lowercase(), "tag {tag:?}");
                }
            }
            if let Some(genres) = genres {
                // Genres + tags, as the ML-latest loader combines them.
                let merged = genres.merge(&tags);
                check_table(&merged, n);
                assert!(merged.n_features() >= genres.n_features() && merged.n_features() <= genres.n_features() + tags.n_features());
                for k in 0..n {
                    let mut want: Vec<&str> = genres.row_names(k).into_iter().chain(tags.row_names(k)).collect();
                    let mut got = merged.row_names(k);
                    want.sort_unstable();
                    want.dedup();
                    got.sort_unstable();
                    assert_eq!(got, want, "merged row {k} is not the union of its genres and tags");
                }
            }
        }
        Err(e) => check_message(&e),
    }
    match side::read_lastfm_artists(body, "artists.dat", ids) {
        Ok(titles) => assert_eq!(titles.len(), n, "artist titles not indexed like the id map"),
        Err(e) => check_message(&e),
    }
}

fn check_table(t: &burnrec_data::FeatureTable, n_rows: usize) {
    assert_eq!(t.n_rows(), n_rows, "feature rows not indexed like the id map");
    for k in 0..n_rows {
        let row = t.row(k);
        assert!(row.windows(2).all(|w| w[0] < w[1]), "feature row {k} not sorted/deduplicated: {row:?}");
        for &f in row {
            assert!((f as usize) < t.n_features(), "feature {f} >= n_features {}", t.n_features());
            assert!(t.name(f).is_some_and(|s| s.contains('=')), "feature {f} has no field=value name");
        }
    }
}

/// The k-core filter keeps only users and items with at least 2 interactions, re-indexed in
/// their old order, with every kept rating unchanged.
fn check_filtered(d: &burnrec_data::Dataset) {
    let f = d.filtered(2, 2);
    let x = &f.interactions;
    assert_eq!((x.n_users(), x.n_items()), (f.users.len(), f.items.len()));
    assert!(x.user_counts().iter().all(|&c| c >= 2) && x.item_counts().iter().all(|&c| c >= 2));
    let before: std::collections::HashSet<(u32, u32, u32)> = d.interactions.iter().map(|o| (o.user, o.item, o.rating.to_bits())).collect();
    for r in x.iter() {
        let (u, i) = (f.users.raw(r.user).unwrap(), f.items.raw(r.item).unwrap());
        let (ou, oi) = (d.users.index(u).unwrap(), d.items.index(i).unwrap());
        assert!(before.contains(&(ou, oi, r.rating.to_bits())));
    }
}
