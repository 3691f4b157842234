//! Where the datasets that may not be redistributed (MovieLens 100K, HetRec Last.fm) and the
//! pretrained models too large to commit (the all-MiniLM-L6-v2 sentence encoder) are found for
//! tests and benchmarks: an environment variable naming the folder, else
//! `shared/datasets/<name>` (`shared/models/<name>` for a model) beside the checkout (the first
//! ancestor of the start folder that has one).
//!
//! A checkout without them skips those tests with a visible `SKIPPED` line — except when
//! [`REQUIRE_ENV`] is set (CI sets it), where a missing dataset fails the test instead.

use std::path::{Path, PathBuf};

/// Set to `1` to make a missing shared dataset a test failure instead of a skip.
pub const REQUIRE_ENV: &str = "BURNREC_REQUIRE_DATA";

/// A dataset (or model) of the shared folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SharedDataset {
    /// `"datasets"` or `"models"`: the subfolder of `shared/`.
    pub kind: &'static str,
    /// Folder name under `shared/<kind>/`.
    pub name: &'static str,
    /// The environment variable that overrides the folder.
    pub env: &'static str,
    /// A file that must be in the folder.
    pub marker: &'static str,
}

/// MovieLens 100K (`$BURNREC_ML100K`; needs `u.data` and the official folds).
pub const ML100K: SharedDataset = SharedDataset { kind: "datasets", name: "ml-100k", env: "BURNREC_ML100K", marker: "u1.base" };
/// HetRec 2011 Last.fm 2K (`$BURNREC_LASTFM`).
pub const LASTFM: SharedDataset = SharedDataset { kind: "datasets", name: "hetrec2011-lastfm-2k", env: "BURNREC_LASTFM", marker: "user_artists.dat" };
/// The sentence encoder all-MiniLM-L6-v2 (`$BURNREC_ENCODER`; a sentence-transformers folder).
pub const MINILM: SharedDataset = SharedDataset { kind: "models", name: "all-MiniLM-L6-v2", env: "BURNREC_ENCODER", marker: "model.safetensors" };

impl SharedDataset {
    /// The folder, if it is where the variable or the shared folder says (searched upwards
    /// from `start`, e.g. `env!("CARGO_MANIFEST_DIR")`).
    pub fn find(&self, start: &Path) -> Option<PathBuf> {
        let ok = |d: &Path| d.join(self.marker).is_file();
        if let Some(dir) = std::env::var_os(self.env).map(PathBuf::from) {
            return ok(&dir).then_some(dir);
        }
        start.ancestors().map(|a| a.join("shared").join(self.kind).join(self.name)).find(|d| ok(d))
    }

    /// [`SharedDataset::find`] for the test `test`: `None` with a `SKIPPED` line on stderr when
    /// the data is not there.
    ///
    /// # Panics
    /// When the data is not there and [`REQUIRE_ENV`] is set to anything but `0` (CI).
    pub fn for_test(&self, start: &Path, test: &str) -> Option<PathBuf> {
        let found = self.find(start);
        if found.is_none() {
            let msg = format!("{test}: {} not found (set {} to its folder, or place it in shared/{}/{})", self.name, self.env, self.kind, self.name);
            if std::env::var(REQUIRE_ENV).is_ok_and(|v| v != "0") {
                panic!("{msg}; {REQUIRE_ENV} is set, so a missing dataset fails instead of skipping");
            }
            eprintln!("SKIPPED {msg}");
        }
        found
    }
}
