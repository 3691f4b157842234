//! User-based KNNBaseline on 100 000 users must fit within 4 GiB: the similarity lists are
//! sparse and truncated (automatic `max_neighbours`), never a dense users × users matrix.
//!
//! Its own test binary, so that the process's peak resident memory (`VmHWM`) is this fit's.

use std::time::Instant;

use burnrec_classic::{Fit, KnnKind, KnnParams};
use burnrec_data::{Interactions, RatingPredictor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const N_USERS: usize = 100_000;
const N_ITEMS: usize = 4_000;
const PER_USER: usize = 20;
const GROUPS: usize = 20;
const GIB: u64 = 1 << 30;

/// Seeded taste groups: user `u` and item `i` belong to groups `u % GROUPS` and `i % GROUPS`.
/// Each user rates `PER_USER + 1` distinct items, half from their own group; the rating is
/// `3 + b_u + b_i + (1 if same group else −0.3) + noise`, rounded and clamped to 1–5. The
/// last rating of the first 2 000 users is held out as the test set.
fn data() -> (Interactions, Vec<(u32, u32, f32)>) {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let bi: Vec<f32> = (0..N_ITEMS).map(|_| rng.random_range(-0.7..0.7)).collect();
    let (mut users, mut items, mut values) = (Vec::new(), Vec::new(), Vec::new());
    let mut test = Vec::new();
    let mut chosen = Vec::with_capacity(PER_USER + 1);
    for u in 0..N_USERS {
        let bu: f32 = rng.random_range(-0.7..0.7);
        let g = u % GROUPS;
        chosen.clear();
        while chosen.len() < PER_USER + 1 {
            let i = if rng.random_bool(0.5) { rng.random_range(0..N_ITEMS / GROUPS) * GROUPS + g } else { rng.random_range(0..N_ITEMS) };
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        for (k, &i) in chosen.iter().enumerate() {
            let affinity = if i % GROUPS == g { 1.0 } else { -0.3 };
            let noise: f32 = rng.random_range(-0.6..0.6);
            let r = (3.0 + bu + bi[i] + affinity + noise).round().clamp(1.0, 5.0);
            if k == PER_USER && u < 2_000 {
                test.push((u as u32, i as u32, r));
            } else {
                users.push(u as u32);
                items.push(i as u32);
                values.push(r);
            }
        }
    }
    (Interactions::from_columns(users, items, values, None, N_USERS, N_ITEMS).unwrap(), test)
}

/// Peak resident set size of this process, bytes (`VmHWM` in /proc/self/status).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[test]
fn user_based_knn_baseline_on_100k_users_fits_in_4_gib() {
    let (train, test) = data();
    let params = KnnParams::new(KnnKind::Baseline);
    let estimate = params.memory_estimate(&train);
    assert!(estimate <= 4 * GIB, "estimate {estimate} B > 4 GiB");

    let t = Instant::now();
    let model = params.fit(&train).unwrap();
    let fit_s = t.elapsed().as_secs_f64();
    // Automatic truncation: at most max(10·40, 200) = 400 neighbours per user.
    assert!(model.n_stored_pairs() <= N_USERS * 400);

    let pairs: Vec<(u32, u32)> = test.iter().map(|&(u, i, _)| (u, i)).collect();
    let t = Instant::now();
    let preds = model.predict_batch(&pairs);
    let predict_s = t.elapsed().as_secs_f64();
    let rmse = |f: &dyn Fn(usize) -> f32| {
        let se: f64 = test.iter().enumerate().map(|(k, t)| f64::from(f(k).clamp(1.0, 5.0) - t.2).powi(2)).sum();
        (se / test.len() as f64).sqrt()
    };
    let knn_rmse = rmse(&|k| preds[k].rating);
    let mean_rmse = rmse(&|_| model.mu);
    assert!(preds.iter().all(|p| p.rating.is_finite() && p.known_user && p.known_item));
    let peak = peak_rss();
    eprintln!(
        "knn_scale: {} ratings; estimate {:.0} MiB; peak RSS {}; {} stored pairs; fit {fit_s:.2} s; \
         predict {} pairs {predict_s:.3} s; RMSE {knn_rmse:.4} (global mean {mean_rmse:.4})",
        train.len(),
        estimate as f64 / (1 << 20) as f64,
        peak.map_or("unknown".into(), |p| format!("{:.0} MiB", p as f64 / (1 << 20) as f64)),
        model.n_stored_pairs(),
        pairs.len(),
    );
    if let Some(p) = peak {
        assert!(p <= 4 * GIB, "peak RSS {p} B > 4 GiB");
    }
    // The neighbourhood model finds the taste groups: far better than the global mean.
    assert!(knn_rmse < 0.9 * mean_rmse, "KNN {knn_rmse:.4} vs global mean {mean_rmse:.4}");
}
