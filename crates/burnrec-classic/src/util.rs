//! Small numeric kernels shared by the classic algorithms ([`dot`] is public: serving scores
//! factor models with it too; the rest is crate-private).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// `Σ a_f b_f` with eight independent accumulators, so that the compiler vectorises it (a
/// single running sum would force sequential float adds). `a`, `b`: `[n]` (equal lengths;
/// checked in debug builds only).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = (acc[0] + acc[4]) + (acc[1] + acc[5]) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// The `k` most similar of one row's `(neighbour, similarity)` candidates (ties to the smaller
/// index), as a sparse row sorted by neighbour index: `(neighbours, similarities)`.
pub(crate) fn top_k_row(mut nb: Vec<(u32, f32)>, k: usize) -> (Vec<u32>, Vec<f32>) {
    let by_sim = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if nb.len() > k {
        nb.select_nth_unstable_by(k, by_sim);
        nb.truncate(k);
    }
    nb.sort_unstable_by_key(|p| p.0);
    nb.into_iter().unzip()
}

/// Rating positions grouped by a key (user or item index): returns `(offsets [n_keys + 1],
/// positions [len])`, where group `k` is `positions[offsets[k]..offsets[k + 1]]`, in storage
/// order within a group.
pub(crate) fn group_by(keys: &[u32], n_keys: usize) -> (Vec<usize>, Vec<u32>) {
    let mut offsets = vec![0usize; n_keys + 1];
    for &k in keys {
        offsets[k as usize + 1] += 1;
    }
    for k in 0..n_keys {
        offsets[k + 1] += offsets[k];
    }
    let mut next = offsets.clone();
    let mut positions = vec![0u32; keys.len()];
    for (pos, &k) in keys.iter().enumerate() {
        positions[next[k as usize]] = pos as u32;
        next[k as usize] += 1;
    }
    (offsets, positions)
}

/// A random generator that depends only on `(seed, a, b)`: used where a draw must be the
/// same whatever the order or thread it is made in (per-row initialisation, per-pair noise).
pub(crate) fn rng_for(seed: u64, a: u64, b: u64) -> ChaCha8Rng {
    // SplitMix64 finaliser over the three words.
    let mut z = seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ChaCha8Rng::seed_from_u64(z ^ (z >> 31))
}

/// Fixtures shared by the unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use burnrec_data::{Interactions, Rating};

    /// 4 users × 5 items in a 5 × 6 index space (user 4 and item 5 have no ratings),
    /// μ = 45/14 = 3.2142857:
    ///
    /// ```text
    ///        i0 i1 i2 i3 i4
    ///   u0:   5  3  4  .  1
    ///   u1:   4  .  5  2  .
    ///   u2:   1  2  .  4  5
    ///   u3:   .  4  3  .  2
    /// ```
    pub(crate) fn tiny() -> Interactions {
        let cells = [
            (0, 0, 5.0),
            (0, 1, 3.0),
            (0, 2, 4.0),
            (0, 4, 1.0),
            (1, 0, 4.0),
            (1, 2, 5.0),
            (1, 3, 2.0),
            (2, 0, 1.0),
            (2, 1, 2.0),
            (2, 3, 4.0),
            (2, 4, 5.0),
            (3, 1, 4.0),
            (3, 2, 3.0),
            (3, 4, 2.0),
        ];
        let ratings = cells.iter().map(|&(user, item, rating)| Rating { user, item, rating, timestamp: None }).collect();
        Interactions::new(ratings, 5, 6).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_the_plain_sum() {
        let a: Vec<f32> = (0..19).map(|x| x as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|x| 1.0 - x as f32).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-3, "{} vs {plain}", dot(&a, &b));
        assert_eq!(dot(&[], &[]), 0.0);
    }

    #[test]
    fn top_k_row_keeps_the_most_similar_by_index() {
        let row = vec![(5, 0.2), (1, 0.9), (3, 0.5), (2, 0.5), (9, 0.1)];
        assert_eq!(top_k_row(row.clone(), 3), (vec![1, 2, 3], vec![0.9, 0.5, 0.5]));
        // A tie at the cut goes to the smaller index.
        assert_eq!(top_k_row(row.clone(), 2), (vec![1, 2], vec![0.9, 0.5]));
        assert_eq!(top_k_row(row, 9).0, vec![1, 2, 3, 5, 9]);
    }

    #[test]
    fn group_by_keeps_storage_order() {
        let (off, pos) = group_by(&[2, 0, 2, 1, 0], 4);
        assert_eq!(off, vec![0, 2, 3, 5, 5]);
        assert_eq!(pos, vec![1, 4, 3, 0, 2]);
    }
}
