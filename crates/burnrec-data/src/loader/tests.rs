//! Tests of the delimited-file loader.

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
