//! Shared by the ML-100K test binaries: where ML-100K is.

use std::path::PathBuf;

/// ML-100K's folder: `$BURNREC_ML100K`, else `../shared/datasets/ml-100k` beside the
/// repository. `None`, with a visible message naming the test, when it is not there (the data
/// may not be redistributed, so a checkout may lack it).
pub fn ml100k_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("BURNREC_ML100K")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/ml-100k"));
    if dir.join("u.data").is_file() && dir.join("u1.base").is_file() {
        Some(dir)
    } else {
        eprintln!("SKIPPED {test}: ML-100K not found at {} (set BURNREC_ML100K to the ml-100k folder)", dir.display());
        None
    }
}
