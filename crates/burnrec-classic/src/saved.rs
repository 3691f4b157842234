//! Saving and loading a fitted classic model together with what it needs to serve raw ids:
//! the user and item id maps, the algorithm's parameters and the dataset's name.
//!
//! Format: one JSON document (`.json`), gzip-compressed when the path ends in `.gz`. Floats
//! are written with the shortest representation that reads back to the same bits, so a
//! reloaded model predicts exactly what the saved one did; EASE's dense `[n, n]` weight
//! matrix is written as one base64 string of its little-endian `f32` bytes ([`f32_blob`]:
//! 5.3 characters per weight instead of ~12, and no float parsing on load). Format 1 files
//! (the matrix as a number array) still load.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use burnrec_data::IdMap;
use serde::{Deserialize, Serialize};

use crate::registry::{ClassicModel, ClassicParams};

/// The current [`ModelFile::format`]: 2 since EASE's weights are a base64 blob; 1 still loads.
pub const MODEL_FORMAT: u32 = 2;

/// Oldest [`ModelFile::format`] this version reads.
pub const OLDEST_MODEL_FORMAT: u32 = 1;

pub use crate::f32_blob;

/// A fitted model with its id maps, ready to serve raw user and item ids.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    /// File format version ([`MODEL_FORMAT`] when written by this version).
    pub format: u32,
    /// The burnrec version that wrote it.
    pub burnrec_version: String,
    /// Name of the dataset the model was fitted on.
    pub dataset: String,
    /// Algorithm and parameters used (for the hybrid: its collaborative part's, which its
    /// fold-in needs); `None` for `content`, whose params are inside the fitted model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<ClassicParams>,
    /// Raw user id ↔ user index.
    pub users: IdMap,
    /// Raw item id ↔ item index.
    pub items: IdMap,
    /// The fitted model (indices as in `users` / `items`).
    pub model: ClassicModel,
}

/// Errors of [`ModelFile::save`] and [`ModelFile::load`].
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    /// The file could not be created, written or read.
    #[error("cannot {action} model file `{path}`: {source}")]
    Io {
        /// "read" or "write".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a burnrec model file, or is damaged.
    #[error("`{path}` is not a valid burnrec model file: {msg}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong (line and column from the JSON parser).
        msg: String,
    },
    /// The file was written by an incompatible version.
    #[error("`{path}` has model format {found}; this burnrec ({ours}) reads formats 1 to {expected}")]
    Version {
        /// The file.
        path: PathBuf,
        /// Format found.
        found: u32,
        /// Format understood.
        expected: u32,
        /// This crate's version.
        ours: &'static str,
    },
}

impl ModelFile {
    /// Wraps a fitted model with its id maps; `params`: a [`ClassicParams`], or `None` for
    /// the content and hybrid models.
    pub fn new(dataset: &str, params: impl Into<Option<ClassicParams>>, users: IdMap, items: IdMap, model: ClassicModel) -> Self {
        Self {
            format: MODEL_FORMAT,
            burnrec_version: env!("CARGO_PKG_VERSION").to_string(),
            dataset: dataset.to_string(),
            params: params.into(),
            users,
            items,
            model,
        }
    }

    /// Writes the model to `path` (JSON; gzip when the name ends in `.gz`), replacing it
    /// atomically (written to a temporary file beside it, then renamed).
    ///
    /// # Errors
    /// [`ModelFileError::Io`] if the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), ModelFileError> {
        if let Err(msg) = self.model.check_consistent(self.users.len(), self.items.len()) {
            let source = std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("the model does not fit its id maps: {msg}"));
            return Err(ModelFileError::Io { action: "write", path: path.to_path_buf(), source });
        }
        let io = |source| ModelFileError::Io { action: "write", path: path.to_path_buf(), source };
        let tmp = path.with_extension(format!("{}.tmp", path.extension().and_then(|e| e.to_str()).unwrap_or("")));
        {
            let file = BufWriter::new(File::create(&tmp).map_err(io)?);
            let mut out: Box<dyn Write> =
                if is_gz(path) { Box::new(flate2::write::GzEncoder::new(file, flate2::Compression::default())) } else { Box::new(file) };
            serde_json::to_writer(&mut out, self).map_err(|e| io(e.into()))?;
            out.flush().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a model written by [`ModelFile::save`].
    ///
    /// # Errors
    /// [`ModelFileError::Io`] if unreadable, [`ModelFileError::Version`] for another format
    /// version, [`ModelFileError::Format`] for anything else that is not a model file.
    pub fn load(path: &Path) -> Result<Self, ModelFileError> {
        let file = BufReader::new(File::open(path).map_err(|source| ModelFileError::Io { action: "read", path: path.to_path_buf(), source })?);
        let mut input: Box<dyn Read> = if is_gz(path) { Box::new(flate2::read::GzDecoder::new(file)) } else { Box::new(file) };
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes).map_err(|source| ModelFileError::Io { action: "read", path: path.to_path_buf(), source })?;
        let format_err = |msg: String| ModelFileError::Format { path: path.to_path_buf(), msg };
        let version_err =
            |found: u64| ModelFileError::Version { path: path.to_path_buf(), found: found as u32, expected: MODEL_FORMAT, ours: env!("CARGO_PKG_VERSION") };
        // Straight into the model (no intermediate JSON tree: an EASE model holds n_items²
        // floats); only a file that does not parse is read again to say why.
        let mut file: ModelFile = match serde_json::from_slice::<ModelFile>(&bytes) {
            Ok(f) if (OLDEST_MODEL_FORMAT..=MODEL_FORMAT).contains(&f.format) => f,
            Ok(f) => return Err(version_err(u64::from(f.format))),
            Err(e) => {
                let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| format_err(e.to_string()))?;
                let found = value.get("format").and_then(serde_json::Value::as_u64).ok_or_else(|| format_err("no `format` field".into()))?;
                if !(u64::from(OLDEST_MODEL_FORMAT)..=u64::from(MODEL_FORMAT)).contains(&found) {
                    return Err(version_err(found));
                }
                return Err(format_err(e.to_string()));
            }
        };
        file.users.rebuild_index();
        file.items.rebuild_index();
        // A hybrid written before its ALS part's params moved beside the model kept them inside.
        if let (None, ClassicModel::Hybrid(h)) = (&file.params, &mut file.model) {
            file.params = h.legacy_a_params.take();
        }
        file.model.check_consistent(file.users.len(), file.items.len()).map_err(|e| format_err(format!("the model does not fit its id maps: {e}")))?;
        Ok(file)
    }
}

fn is_gz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnrec_data::RatingPredictor;
    use burnrec_data::synthetic::planted_low_rank;

    fn ids(n: usize, prefix: &str) -> IdMap {
        IdMap::from_raw((0..n).map(|k| format!("{prefix}{k}")))
    }

    #[test]
    fn save_load_round_trip_plain_and_gz() {
        // Every algorithm (ratings 1–5 on 20 × 15: NMF needs non-negative ones).
        let data = burnrec_data::synthetic::random_ratings(20, 15, 150, 9);
        let dir = tempfile::tempdir().unwrap();
        for params in crate::registry::tests::every_default() {
            let name = params.name();
            let model = params.fit(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
            let file = ModelFile::new("synthetic", params, ids(20, "u"), ids(15, "i"), model);
            for ext in ["json", "json.gz"] {
                let path = dir.path().join(format!("{name}.{ext}"));
                file.save(&path).unwrap();
                let back = ModelFile::load(&path).unwrap();
                assert_eq!(back, file);
                assert_eq!(back.users.index("u7"), Some(7));
                let pairs: Vec<(u32, u32)> = (0..20).flat_map(|u| (0..15).map(move |i| (u, i))).collect();
                assert_eq!(back.model.predict_batch(&pairs), file.model.predict_batch(&pairs));
            }
        }
    }

    #[test]
    fn ease_weights_are_a_blob_and_format_1_arrays_still_load() {
        let data = planted_low_rank(20, 15, 2, 0.6, 0.1, 9).observed;
        let params = ClassicParams::Ease(crate::EaseParams::default());
        let model = params.fit(&data).unwrap();
        let file = ModelFile::new("synthetic", params, ids(20, "u"), ids(15, "i"), model);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ease.json");
        file.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let ClassicModel::Ease(e) = &file.model else { panic!("an EASE model") };
        // 15 active items: 225 weights of 4 bytes, base64 (4 characters per 3 bytes, padded).
        let blob = v["model"]["model"]["b"].as_str().expect("the weights are one string");
        assert_eq!((e.b.len(), blob.len()), (225, 900_usize.div_ceil(3) * 4));
        assert_eq!(ModelFile::load(&path).unwrap(), file);
        // The same file as format 1 wrote it: the weights as a number array.
        let mut old = v.clone();
        old["format"] = 1.into();
        old["model"]["model"]["b"] = e.b.iter().map(|&w| serde_json::Value::from(w)).collect();
        std::fs::write(&path, old.to_string()).unwrap();
        let back = ModelFile::load(&path).unwrap();
        assert_eq!(back.model, file.model);
        // A damaged blob is named.
        let mut bad = v;
        bad["model"]["model"]["b"] = "AAAA!".into();
        std::fs::write(&path, bad.to_string()).unwrap();
        let e = ModelFile::load(&path).unwrap_err().to_string();
        assert!(e.contains("f32 blob"), "{e}");
    }

    #[test]
    fn bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.json");
        assert!(ModelFile::load(&missing).unwrap_err().to_string().contains("cannot read model file"));
        let junk = dir.path().join("junk.json");
        std::fs::write(&junk, "{\"format\": 1, \"dataset\": 3}").unwrap();
        let e = ModelFile::load(&junk).unwrap_err().to_string();
        assert!(e.contains("junk.json") && e.contains("not a valid burnrec model file"), "{e}");
        std::fs::write(&junk, "{\"format\": 99}").unwrap();
        assert!(matches!(ModelFile::load(&junk), Err(ModelFileError::Version { found: 99, .. })));
        std::fs::write(&junk, "not json").unwrap();
        assert!(matches!(ModelFile::load(&junk), Err(ModelFileError::Format { .. })));
        // A well-formed file whose arrays do not agree is refused, not a later panic.
        let data = planted_low_rank(20, 15, 2, 0.6, 0.1, 9).observed;
        let params = ClassicParams::Svd(crate::SvdParams::default()).set("n_factors", "3").unwrap();
        let file = ModelFile::new("s", params, ids(20, "u"), ids(15, "i"), params_fit(&data));
        let mut v = serde_json::to_value(&file).unwrap();
        v["model"]["model"]["bu"].as_array_mut().unwrap().truncate(5);
        std::fs::write(&junk, v.to_string()).unwrap();
        let e = ModelFile::load(&junk).unwrap_err().to_string();
        assert!(e.contains("user biases has 5 values, expected 20"), "{e}");
        let mut v = serde_json::to_value(ModelFile::new(
            "s",
            ClassicParams::KnnBasic(crate::KnnParams::new(crate::KnnKind::Basic)),
            ids(20, "u"),
            ids(15, "i"),
            ClassicParams::KnnBasic(crate::KnnParams::new(crate::KnnKind::Basic)).fit(&data).unwrap(),
        ))
        .unwrap();
        v["model"]["model"]["k"] = 0.into();
        std::fs::write(&junk, v.to_string()).unwrap();
        assert!(ModelFile::load(&junk).unwrap_err().to_string().contains("k is 0"));
        // Id maps smaller than the model's index space cannot be saved.
        let small = ModelFile::new("s", ClassicParams::Svd(crate::SvdParams::default()), ids(3, "u"), ids(15, "i"), params_fit(&data));
        assert!(small.save(&dir.path().join("small.json")).unwrap_err().to_string().contains("does not fit its id maps"));
    }

    fn params_fit(data: &burnrec_data::Interactions) -> ClassicModel {
        ClassicParams::Svd(crate::SvdParams::default()).set("n_factors", "3").unwrap().fit(data).unwrap()
    }
}
