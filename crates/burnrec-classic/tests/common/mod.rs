//! Shared by the ML-100K test binaries: where ML-100K is.

use std::path::{Path, PathBuf};

/// ML-100K's folder (`$BURNREC_ML100K`, else `shared/datasets/ml-100k` beside the checkout):
/// `None`, with a visible message naming the test, when it is not there — or a failure when
/// `BURNREC_REQUIRE_DATA` is set (CI).
pub fn ml100k_dir(test: &str) -> Option<PathBuf> {
    burnrec_data::shared::ML100K.for_test(Path::new(env!("CARGO_MANIFEST_DIR")), test)
}
