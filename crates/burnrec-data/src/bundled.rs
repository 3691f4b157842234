//! The bundled default dataset: MovieLens latest-small (GroupLens, September 2018 release).
//!
//! 100 836 ratings (0.5–5.0 stars in half-star steps) by 610 users on 9 724 movies, with
//! titles. The files in `data/ml-latest-small/` are byte-for-byte copies of the official release
//! (checksums in `data/ml-latest-small/SHA256SUMS`), gzipped at build time and compiled into
//! this crate so the binary works offline. Licence: GroupLens research-use terms, reproduced in
//! `data/ml-latest-small/README.txt`; cite F. Maxwell Harper and Joseph A. Konstan, "The
//! MovieLens Datasets: History and Context", ACM TiiS 5(4):19, 2015.

use std::io::Read;

use flate2::read::GzDecoder;

use crate::dataset::Dataset;
use crate::error::DataError;
use crate::loader::{DelimitedFormat, LoadOptions, read_ratings};
use crate::side::read_ml_latest_movies;

/// Name under which the bundled dataset reports itself.
pub const BUNDLED_NAME: &str = "bundled:ml-latest-small";

static RATINGS_GZ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ratings.csv.gz"));
static MOVIES_GZ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/movies.csv.gz"));

/// Decompressed bytes of the bundled `ratings.csv`, exactly as distributed (CRLF line ends).
pub fn ratings_csv() -> Vec<u8> {
    gunzip(RATINGS_GZ)
}

/// Decompressed bytes of the bundled `movies.csv`, exactly as distributed.
pub fn movies_csv() -> Vec<u8> {
    gunzip(MOVIES_GZ)
}

fn gunzip(gz: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(gz).read_to_end(&mut out).expect("bundled data was compressed by build.rs and cannot be corrupt");
    out
}

/// Loads the bundled MovieLens latest-small ratings with movie titles and genres, under the
/// duplicate and scale policies of `opts` (there are no duplicates; the scale is 0.5–5).
///
/// # Errors
/// Only if `opts.scale` excludes some of the data's ratings.
pub fn load(opts: &LoadOptions) -> Result<Dataset, DataError> {
    let mut d = read_ratings(&ratings_csv()[..], BUNDLED_NAME, &DelimitedFormat::ml_latest(), opts)?;
    let (titles, genres) = read_ml_latest_movies(&movies_csv()[..], "bundled:movies.csv", &d.items)?;
    d.item_titles = titles;
    d.item_features = Some(genres);
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn hex(bytes: &[u8]) -> String {
        Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn embedded_bytes_match_official_checksums() {
        // sha256 values from the dataset's SOURCE.md (official 2018-09-26 release).
        assert_eq!(hex(&ratings_csv()), "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646");
        assert_eq!(hex(&movies_csv()), "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07");
    }

    #[test]
    fn statistics_match_the_release() {
        let d = load(&LoadOptions::default()).unwrap();
        assert_eq!((d.n_users(), d.n_items(), d.len()), (610, 9724, 100_836));
        let mean = d.interactions.global_mean().unwrap();
        assert!((mean - 3.50156).abs() < 1e-5, "mean {mean}");
        assert_eq!(d.interactions.rating_range(), Some((0.5, 5.0)));
        let half = d.interactions.values().iter().filter(|&&v| v == 0.5).count();
        assert_eq!(half, 1370);
        let toy = d.items.index("1").unwrap();
        assert_eq!(d.item_title(toy), Some("Toy Story (1995)"));
        assert!(d.item_titles.iter().all(Option::is_some), "every rated movie has a title");
        let genres = d.item_features.as_ref().unwrap();
        assert_eq!(genres.n_features(), 19, "18 genres + IMAX; `(no genres listed)` is none");
        let mut toy_genres = genres.row_names(toy as usize);
        toy_genres.sort_unstable();
        assert_eq!(toy_genres, ["genre=Adventure", "genre=Animation", "genre=Children", "genre=Comedy", "genre=Fantasy"]);
    }
}
