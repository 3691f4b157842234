//! Compresses the bundled MovieLens latest-small files (`data/ml-latest-small/` at the
//! repository root) into `OUT_DIR`, where `src/bundled.rs` embeds them with `include_bytes!`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let src = manifest.join("../../data/ml-latest-small");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    for name in ["ratings.csv", "movies.csv"] {
        gzip(&src.join(name), &out.join(format!("{name}.gz")));
    }
}

fn gzip(from: &Path, to: &Path) {
    println!("cargo::rerun-if-changed={}", from.display());
    let bytes = std::fs::read(from).unwrap_or_else(|e| panic!("bundled dataset file `{}` is missing: {e}", from.display()));
    let file = File::create(to).unwrap_or_else(|e| panic!("cannot create `{}`: {e}", to.display()));
    let mut enc = flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::best());
    enc.write_all(&bytes).and_then(|_| enc.finish()?.flush()).expect("gzip bundled dataset");
}
