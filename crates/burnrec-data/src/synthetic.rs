//! Synthetic rating data with a known structure, for tests, examples and benchmarks.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::dataset::{Interactions, Rating};

/// A planted biased low-rank rating matrix
/// `r_ui = μ + b_u + b_i + p_uᵀ q_i + ε`, with `p_u, q_i ~ N(0, rank^-½ I)` (so `p_uᵀ q_i`
/// has unit variance), `b_u, b_i ~ N(0, 0.3²)`, `ε ~ N(0, noise²)`, μ = 3.
#[derive(Clone, Debug)]
pub struct Planted {
    /// Observed entries: each (user, item) cell independently with probability `density`.
    pub observed: Interactions,
    /// The noise-free rating of every cell, row-major `[n_users × n_items]`.
    pub truth: Vec<f32>,
}

impl Planted {
    /// The noise-free rating of (user, item).
    pub fn truth(&self, user: u32, item: u32) -> f32 {
        self.truth[user as usize * self.observed.n_items() + item as usize]
    }
}

/// Draws a [`Planted`] matrix of `n_users × n_items` of the given `rank`.
///
/// # Panics
/// If `noise` is negative or not finite.
pub fn planted_low_rank(n_users: usize, n_items: usize, rank: usize, density: f64, noise: f32, seed: u64) -> Planted {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let factor = Normal::new(0.0f32, (rank as f32).powf(-0.25)).expect("valid std");
    let bias = Normal::new(0.0f32, 0.3).expect("valid std");
    let eps = Normal::new(0.0f32, noise).expect("noise must be finite and >= 0");
    let p: Vec<f32> = (0..n_users * rank).map(|_| factor.sample(&mut rng)).collect();
    let q: Vec<f32> = (0..n_items * rank).map(|_| factor.sample(&mut rng)).collect();
    let bu: Vec<f32> = (0..n_users).map(|_| bias.sample(&mut rng)).collect();
    let bi: Vec<f32> = (0..n_items).map(|_| bias.sample(&mut rng)).collect();
    let mut truth = Vec::with_capacity(n_users * n_items);
    let mut ratings = Vec::new();
    for u in 0..n_users {
        for i in 0..n_items {
            let dot: f32 = (0..rank).map(|k| p[u * rank + k] * q[i * rank + k]).sum();
            let t = 3.0 + bu[u] + bi[i] + dot;
            truth.push(t);
            if rng.random_bool(density) {
                ratings.push(Rating { user: u as u32, item: i as u32, rating: t + eps.sample(&mut rng), timestamp: None });
            }
        }
    }
    let observed = Interactions::new(ratings, n_users, n_items).expect("indices are in range");
    Planted { observed, truth }
}

/// Uniformly random ratings on the 1–5 integer scale: `n` distinct cells of an
/// `n_users × n_items` matrix (for benchmarks; capped at the matrix size).
pub fn random_ratings(n_users: usize, n_items: usize, n: usize, seed: u64) -> Interactions {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = n.min(n_users * n_items);
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut ratings = Vec::with_capacity(n);
    while ratings.len() < n {
        let (u, i) = (rng.random_range(0..n_users as u32), rng.random_range(0..n_items as u32));
        if seen.insert((u, i)) {
            let rating = rng.random_range(1..=5) as f32;
            ratings.push(Rating { user: u, item: i, rating, timestamp: None });
        }
    }
    Interactions::new(ratings, n_users, n_items).expect("indices are in range")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_is_seeded_and_has_expected_density() {
        let a = planted_low_rank(50, 40, 3, 0.5, 0.1, 9);
        let b = planted_low_rank(50, 40, 3, 0.5, 0.1, 9);
        assert_eq!(a.observed, b.observed);
        let n = a.observed.len() as f64;
        assert!((n / 2000.0 - 0.5).abs() < 0.05, "density {}", n / 2000.0);
        // Observed ratings are the truth plus small noise.
        for r in a.observed.iter() {
            assert!((r.rating - a.truth(r.user, r.item)).abs() < 0.6);
        }
    }

    #[test]
    fn random_ratings_are_distinct_cells() {
        let d = random_ratings(10, 10, 60, 1);
        let mut cells: Vec<_> = d.iter().map(|r| (r.user, r.item)).collect();
        cells.sort();
        cells.dedup();
        assert_eq!(cells.len(), 60);
        assert!(d.iter().all(|r| (1.0..=5.0).contains(&r.rating)));
    }
}
