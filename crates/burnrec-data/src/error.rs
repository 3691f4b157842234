//! Errors of the data layer.
//!
//! Every error that comes from a file names the file (or the bundled dataset's name), the
//! 1-based line number and, where one field is at fault, the field, and says what was expected.

use std::path::PathBuf;

/// Errors raised while reading, parsing or splitting rating data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read `{}`", .path.display())]
    Io {
        /// The file that failed.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// A line could not be parsed: a field is missing or malformed.
    #[error("{source_name}:{line}: field `{field}`: {msg}")]
    Parse {
        /// File path or bundled dataset name.
        source_name: String,
        /// 1-based line number in the file.
        line: u64,
        /// The field at fault (e.g. `rating`, or `column 3` for positional formats).
        field: String,
        /// What was found and what was expected.
        msg: String,
    },
    /// The same (user, item) pair occurs twice.
    #[error(
        "{source_name}: duplicate rating for user `{user}` and item `{item}` on lines {first_line} and {second_line} \
         (each (user, item) pair may appear once)"
    )]
    Duplicate {
        /// File path or bundled dataset name.
        source_name: String,
        /// Raw user id.
        user: String,
        /// Raw item id.
        item: String,
        /// 1-based line of the first occurrence.
        first_line: u64,
        /// 1-based line of the second occurrence.
        second_line: u64,
    },
    /// The file holds no ratings.
    #[error("{source_name}: no ratings found")]
    Empty {
        /// File path or bundled dataset name.
        source_name: String,
    },
    /// A dataset specification (`--dataset`) or format option is invalid.
    #[error("{0}")]
    Spec(String),
    /// A split parameter is out of range or the split cannot be made.
    #[error("invalid split: {0}")]
    Split(String),
    /// A listed-split file (folds file, negatives file) does not fit the dataset or its own
    /// format: the file, the 1-based line when one line is at fault, and what was expected.
    #[error("{}{}: {msg}", .source_name, .line.map(|l| format!(":{l}")).unwrap_or_default())]
    Listed {
        /// The file.
        source_name: String,
        /// 1-based line at fault, if one is.
        line: Option<u64>,
        /// What was found and what was expected.
        msg: String,
    },
}

impl DataError {
    pub(crate) fn parse(source_name: &str, line: u64, field: impl Into<String>, msg: impl Into<String>) -> Self {
        DataError::Parse { source_name: source_name.to_string(), line, field: field.into(), msg: msg.into() }
    }
}
