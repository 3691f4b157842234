//! Splits and candidate lists given as files: the folds file of `compare --split folds-file`
//! and the negatives file of the sampled protocol (`--negatives-file`), so that a run can use
//! exactly the folds or candidates another tool (a peer's script, a paper's published lists)
//! used.
//!
//! Both are tab-separated text with raw ids; lines starting with `#` and blank lines are
//! ignored, and a Windows line end (`\r\n`) is accepted. Every error is a
//! [`DataError::Listed`] naming the file, the 1-based line and what was expected.

use std::collections::HashMap;
use std::path::Path;

use crate::dataset::{Dataset, Interactions};
use crate::error::DataError;
use crate::split::Split;

fn read(path: &Path) -> Result<String, DataError> {
    std::fs::read_to_string(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })
}

fn listed(path: &Path, line: Option<usize>, msg: String) -> DataError {
    DataError::Listed { source_name: path.display().to_string(), line: line.map(|n| n as u64), msg }
}

/// The content lines of `text` with their 1-based numbers (comments and blank lines skipped).
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(n, l)| (n + 1, l.trim_end_matches('\r'))).filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
}

/// Folds from a `user<TAB>item<TAB>fold` file (one header line is skipped): fold `f`'s test
/// part is the interactions listed with `f`, its training part all the others; validation
/// parts are empty. Every interaction of `data` must be listed exactly once, and the folds
/// must be numbered `0…K−1` without gaps, `K ≥ 2`.
///
/// # Errors
/// [`DataError::Io`] if the file cannot be read; [`DataError::Listed`] for a line with other
/// than 3 fields, a fold that is not a number, an unknown user or item, a pair the dataset
/// does not have, a pair listed twice, an interaction not listed, or folds with gaps.
pub fn read_folds_file(path: &Path, data: &Dataset) -> Result<Vec<Split>, DataError> {
    let text = read(path)?;
    let inter = &data.interactions;
    let pos: HashMap<(u32, u32), usize> = inter.users().iter().zip(inter.items()).enumerate().map(|(k, (&u, &i))| ((u, i), k)).collect();
    let mut fold_of = vec![usize::MAX; inter.len()];
    let mut header_skipped = false;
    for (n, line) in lines(&text) {
        let at = |msg: String| listed(path, Some(n), msg);
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 3 {
            return Err(at(format!("expected `user<TAB>item<TAB>fold`, found {} fields", f.len())));
        }
        let Ok(fold) = f[2].trim().parse::<u32>().map(|f| f as usize) else {
            if !header_skipped {
                header_skipped = true;
                continue;
            }
            return Err(at(format!("fold `{}` is not a fold number (0, 1, 2, …)", f[2])));
        };
        let u = data.users.index(f[0]).ok_or_else(|| at(format!("user `{}` is not in the dataset", f[0])))?;
        let i = data.items.index(f[1]).ok_or_else(|| at(format!("item `{}` is not in the dataset", f[1])))?;
        let k = *pos.get(&(u, i)).ok_or_else(|| at(format!("user `{}` never rated item `{}` in the dataset", f[0], f[1])))?;
        if fold_of[k] != usize::MAX {
            return Err(at(format!("user `{}`, item `{}` is listed twice", f[0], f[1])));
        }
        fold_of[k] = fold;
    }
    if let Some(k) = fold_of.iter().position(|&f| f == usize::MAX) {
        let r = inter.get(k);
        return Err(listed(
            path,
            None,
            format!(
                "does not list the rating of user `{}` for item `{}`: every rating needs a fold",
                data.users.raw(r.user).unwrap_or("?"),
                data.items.raw(r.item).unwrap_or("?")
            ),
        ));
    }
    let n_folds = fold_of.iter().max().map_or(0, |m| m + 1);
    if n_folds < 2 || n_folds > inter.len() {
        return Err(listed(
            path,
            None,
            format!("lists folds 0…{}: expected 2 or more folds, numbered from 0, at most one per rating", n_folds.saturating_sub(1)),
        ));
    }
    let mut sizes = vec![0usize; n_folds];
    for &f in &fold_of {
        sizes[f] += 1;
    }
    if let Some(empty) = sizes.iter().position(|&n| n == 0) {
        return Err(listed(path, None, format!("lists folds up to {} but none numbered {empty}: folds must be numbered 0…K−1 without gaps", n_folds - 1)));
    }
    Ok((0..n_folds)
        .map(|f| {
            let (test, train): (Vec<usize>, Vec<usize>) = (0..inter.len()).partition(|&k| fold_of[k] == f);
            Split { train: inter.select(&train), valid: inter.select(&[]), test: inter.select(&test) }
        })
        .collect())
}

/// Each listed user's candidate negatives (item indices) from a
/// `user<TAB>heldout_item<TAB>neg,neg,…` file (raw ids), checked against the held-out part
/// `test` of a leave-one-out split: the file's held-out item must be the one the split holds
/// out for that user.
///
/// # Errors
/// [`DataError::Io`] if the file cannot be read; [`DataError::Listed`] for a line with other
/// than 3 fields, an unknown user or item, or a held-out item that differs from the split's.
pub fn read_negatives_file(path: &Path, data: &Dataset, test: &Interactions) -> Result<HashMap<u32, Vec<u32>>, DataError> {
    let text = read(path)?;
    let held: HashMap<u32, u32> = test.iter().map(|r| (r.user, r.item)).collect();
    let mut out = HashMap::new();
    for (n, line) in lines(&text) {
        let at = |msg: String| listed(path, Some(n), msg);
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 3 {
            return Err(at("expected `user<TAB>heldout_item<TAB>neg,neg,…`".to_string()));
        }
        let u = data.users.index(f[0]).ok_or_else(|| at(format!("unknown user `{}`", f[0])))?;
        let h = data.items.index(f[1]).ok_or_else(|| at(format!("unknown item `{}`", f[1])))?;
        if held.get(&u) != Some(&h) {
            return Err(at(format!("user `{}`: the file holds out item `{}`, the split holds out another", f[0], f[1])));
        }
        let negs =
            f[2].split(',').map(|raw| data.items.index(raw.trim()).ok_or_else(|| at(format!("unknown item `{raw}`")))).collect::<Result<Vec<u32>, _>>()?;
        out.insert(u, negs);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Rating;
    use crate::ids::IdMap;

    /// Users a, b; items x, y, z; a rated x, y, z; b rated x, y.
    fn data() -> Dataset {
        let r = |user, item| Rating { user, item, rating: 1.0, timestamp: None };
        let inter = Interactions::new(vec![r(0, 0), r(0, 1), r(0, 2), r(1, 0), r(1, 1)], 2, 3).unwrap();
        Dataset {
            name: "t".into(),
            interactions: inter,
            users: IdMap::from_raw(["a", "b"]),
            items: IdMap::from_raw(["x", "y", "z"]),
            item_titles: Vec::new(),
            scale: (1.0, 1.0),
            item_features: None,
            user_features: None,
        }
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn folds_file_gives_each_fold_its_listed_test_part() {
        let d = data();
        let f = file("# comment\nuser\titem\tfold\na\tx\t0\na\ty\t1\r\na\tz\t0\nb\tx\t1\n\nb\ty\t0\n");
        let folds = read_folds_file(f.path(), &d).unwrap();
        assert_eq!(folds.len(), 2);
        let pairs = |i: &Interactions| i.iter().map(|r| (r.user, r.item)).collect::<Vec<_>>();
        assert_eq!(pairs(&folds[0].test), vec![(0, 0), (0, 2), (1, 1)]);
        assert_eq!(pairs(&folds[0].train), vec![(0, 1), (1, 0)]);
        assert_eq!(pairs(&folds[1].test), vec![(0, 1), (1, 0)]);
        assert!(folds.iter().all(|s| s.valid.is_empty()));
    }

    #[test]
    fn folds_file_mistakes_name_the_line() {
        let d = data();
        let err = |text: &str| read_folds_file(file(text).path(), &d).unwrap_err().to_string();
        let full = "a\tx\t0\na\ty\t1\na\tz\t0\nb\tx\t1\nb\ty\t0\n";
        assert!(err("a\tx\n").ends_with(":1: expected `user<TAB>item<TAB>fold`, found 2 fields"), "{}", err("a\tx\n"));
        assert!(err("h\th\th\na\tx\tone\n").contains(":2: fold `one` is not a fold number"));
        assert!(err("c\tx\t0\n").contains(":1: user `c` is not in the dataset"));
        assert!(err("a\tw\t0\n").contains(":1: item `w` is not in the dataset"));
        assert!(err("b\tz\t0\n").contains(":1: user `b` never rated item `z`"));
        assert!(err(&format!("{full}a\tx\t1\n")).contains(":6: user `a`, item `x` is listed twice"));
        assert!(err("a\tx\t0\n").contains("does not list the rating of user `a` for item `y`"));
        assert!(err(&full.replace("\t1\n", "\t0\n")).contains("expected 2 or more folds"));
        assert!(err(&full.replace("\t1\n", "\t2\n")).contains("none numbered 1"));
        let missing = read_folds_file(Path::new("/nonexistent/folds.tsv"), &d).unwrap_err();
        assert!(matches!(missing, DataError::Io { .. }));
    }

    #[test]
    fn negatives_file_is_read_and_checked_against_the_split() {
        let d = data();
        let r = |user, item| Rating { user, item, rating: 1.0, timestamp: None };
        // The split holds out z for a and y for b.
        let test = Interactions::new(vec![r(0, 2), r(1, 1)], 2, 3).unwrap();
        let negs = read_negatives_file(file("# user\theld\tnegs\na\tz\tx, y\nb\ty\tz\n").path(), &d, &test).unwrap();
        assert_eq!(negs, HashMap::from([(0, vec![0, 1]), (1, vec![2])]));
        let err = |text: &str| read_negatives_file(file(text).path(), &d, &test).unwrap_err().to_string();
        assert!(err("a\tz\n").contains(":1: expected `user<TAB>heldout_item<TAB>neg,neg,…`"));
        assert!(err("c\tz\tx\n").contains(":1: unknown user `c`"));
        assert!(err("\na\tq\tx\n").contains(":2: unknown item `q`"));
        assert!(err("a\ty\tx\n").contains(":1: user `a`: the file holds out item `y`, the split holds out another"));
        assert!(err("a\tz\tx,w\n").contains(":1: unknown item `w`"));
    }
}
