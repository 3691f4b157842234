//! Bayesian Personalized Ranking matrix factorisation (Rendle, Freudenthaler, Gantner &
//! Schmidt-Thieme, "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI 2009),
//! trained by SGD on sampled (user, liked, disliked) triples exactly as implicit's
//! `BayesianPersonalizedRanking` (benfred/implicit 0.7, `implicit/cpu/bpr.pyx`), with its
//! item-bias column.

use burnrec_data::csr::Csr;
use burnrec_data::{Feedback, Interactions, KnownSet, Prediction, RatingPredictor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::Fit;
use crate::als::{Isa, LANES, factor_predictions, factor_score_block, interaction_rows, popularity, reduce};
use crate::error::{FitError, ParamError, ensure};

/// Parameters of [`Bpr`]. Defaults are implicit's `BayesianPersonalizedRanking` defaults.
///
/// Model: `x̂_ui = p_uᵀ q_i + b_i` in unitless score units, stored as `factors + 1` columns
/// (the user's last column is a constant 1, the item's last column is its bias `b_i`).
/// Each epoch draws as many samples as there are training interactions; a sample is a training
/// interaction `(u, i)` drawn uniformly (so active users are drawn more often) and a
/// "disliked" item `j` taken from a second uniformly drawn interaction — so negatives are
/// drawn in proportion to item popularity, as implicit does. With
/// `verify_negative_samples`, a sample whose `j` the user has interacted with is skipped (not
/// redrawn). Then, with `z = 1 / (1 + exp(x̂_ui − x̂_uj))` (the gradient of `ln σ(x̂_uij)`),
/// every factor `f < factors` is updated from the old values:
/// `p_uf += lr (z (q_if − q_jf) − reg p_uf)`, `q_if += lr (z p_uf − reg q_if)`,
/// `q_jf += lr (−z p_uf − reg q_jf)`, and `b_i += lr (z − reg b_i)`, `b_j += lr (−z − reg b_j)`.
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `factors` | 100 | latent dimension k (plus the bias column) | `1..=10000` |
/// | `learning_rate` | 0.01 | SGD step | `(0, ∞)` |
/// | `regularization` | 0.01 | L2 weight on the factors and item biases | `[0, ∞)` |
/// | `iterations` | 100 | epochs, each of `nnz` samples | `≥ 1` |
/// | `verify_negative_samples` | true | skip samples whose negative the user interacted with | |
/// | `binary` | true | every interaction counts once (false: interactions are drawn in proportion to their stored value, which must be > 0, for both the positive and the negative draw — a count of 3 acts as 3 copies) | |
/// | `seed` | 42 | seeds the initial factors and the sampling | |
///
/// Initialisation as implicit: items then users, uniform in `[−0.5, 0.5) / factors` (a seeded
/// ChaCha8 stream), rows of users and items without interactions set to 0, and the user's bias
/// column set to 1.
///
/// **Determinism.** Training is one seeded sequential SGD stream (implicit with
/// `num_threads=1`): the same seed gives bit-identical factors on any machine thread count.
/// implicit's multi-threaded mode is Hogwild (racing updates), which is not reproducible.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BprParams {
    /// Latent dimension k.
    pub factors: usize,
    /// SGD learning rate.
    pub learning_rate: f32,
    /// L2 regularisation.
    pub regularization: f32,
    /// Epochs.
    pub iterations: usize,
    /// Skip samples whose negative is a positive of the user.
    pub verify_negative_samples: bool,
    /// Treat every interaction as one.
    pub binary: bool,
    /// Random seed.
    pub seed: u64,
}

impl Default for BprParams {
    fn default() -> Self {
        Self { factors: 100, learning_rate: 0.01, regularization: 0.01, iterations: 100, verify_negative_samples: true, binary: true, seed: 42 }
    }
}

impl BprParams {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`ParamError`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), ParamError> {
        ensure((1..=crate::error::MAX_FACTORS).contains(&self.factors), "factors", self.factors, "in 1..=10000")?;
        ensure(self.learning_rate.is_finite() && self.learning_rate > 0.0, "learning_rate", self.learning_rate, "finite and > 0")?;
        ensure(self.regularization.is_finite() && self.regularization >= 0.0, "regularization", self.regularization, "finite and >= 0")?;
        ensure(self.iterations >= 1, "iterations", self.iterations, ">= 1")
    }
}

/// A fitted [`BprParams`]: the score of `(u, i)` is `user_factors[u] · item_factors[i]` over
/// `factors + 1` columns, i.e. `p_uᵀ q_i + b_i` ([`Feedback::Implicit`]).
///
/// # Shapes
/// - `user_factors`: `[n_users, factors + 1]` row-major, last column 1.
/// - `item_factors`: `[n_items, factors + 1]` row-major, last column the item bias.
///
/// A user without training interactions (or outside the index space) is scored by item
/// popularity — the share of training users who interacted with the item, in `[0, 1]` — with
/// `known_user = false`; an item outside the index space scores 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bpr {
    /// User factors `[n_users, factors + 1]`.
    pub user_factors: Vec<f32>,
    /// Item factors `[n_items, factors + 1]` (bias last).
    pub item_factors: Vec<f32>,
    /// Latent dimension k (rows have `k + 1` columns).
    pub factors: usize,
    popularity: Vec<f32>,
    known: KnownSet,
}

impl Bpr {
    /// Item biases `b_i`: `[n_items]`.
    pub fn item_biases(&self) -> Vec<f32> {
        self.item_factors.chunks_exact(self.factors + 1).map(|r| r[self.factors]).collect()
    }
}

/// Draws training-interaction positions: uniformly, or in proportion to a weight.
enum Draw {
    Uniform(u32),
    Weighted { cumulative: Vec<f64>, total: f64 },
}

impl Draw {
    fn new(rows: &Csr, binary: bool) -> Self {
        if binary {
            return Draw::Uniform(rows.nnz() as u32);
        }
        let mut acc = 0f64;
        let cumulative: Vec<f64> = rows
            .values()
            .iter()
            .map(|&v| {
                acc += f64::from(v);
                acc
            })
            .collect();
        Draw::Weighted { cumulative, total: acc }
    }

    #[inline(always)]
    fn sample(&self, rng: &mut ChaCha8Rng) -> usize {
        match self {
            Draw::Uniform(n) => rng.random_range(0..*n) as usize,
            Draw::Weighted { cumulative, total } => {
                let t = rng.random::<f64>() * total;
                cumulative.partition_point(|&c| c <= t).min(cumulative.len() - 1)
            }
        }
    }
}

impl Fit for BprParams {
    type Model = Bpr;

    /// # Errors
    /// [`FitError::Param`] for a bad parameter; [`FitError::EmptyTrainSet`] for an empty
    /// `train`; [`FitError::Input`] if `binary` is false and a value is `<= 0`, or if there
    /// are more than 2³² − 1 interactions; [`FitError::Diverged`] if a factor becomes
    /// non-finite (lower `learning_rate`).
    fn fit(&self, train: &Interactions) -> Result<Bpr, FitError> {
        self.check()?;
        let rows = interaction_rows(train, self.binary)?;
        if rows.nnz() >= u32::MAX as usize {
            return Err(FitError::Input(format!("BPR samples interaction positions as u32; {} interactions is too many", rows.nnz())));
        }
        let (k, d) = (self.factors, self.factors + 1);
        let (nu, ni) = (train.n_users(), train.n_items());
        let mut userids = vec![0u32; rows.nnz()];
        for u in 0..nu {
            userids[rows.offsets()[u]..rows.offsets()[u + 1]].fill(u as u32);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut init = |n: usize| -> Vec<f32> { (0..n * d).map(|_| (rng.random::<f32>() - 0.5) / k as f32).collect() };
        let mut y = init(ni);
        let mut x = init(nu);
        let mut item_has = vec![false; ni];
        for &i in rows.cols() {
            item_has[i as usize] = true;
        }
        for (i, row) in y.chunks_exact_mut(d).enumerate() {
            if !item_has[i] {
                row.fill(0.0);
            }
        }
        for (u, row) in x.chunks_exact_mut(d).enumerate() {
            if rows.row(u).is_empty() {
                row.fill(0.0);
            }
            row[k] = 1.0;
        }
        let draw = Draw::new(&rows, self.binary);
        let sgd =
            Sgd { rows: &rows, userids: &userids, draw: &draw, d, lr: self.learning_rate, reg: self.regularization, verify: self.verify_negative_samples };
        let isa = Isa::detect();
        for epoch in 1..=self.iterations {
            match isa {
                Isa::Baseline => sgd.epoch(&mut rng, &mut x, &mut y),
                // SAFETY: `Isa::detect` saw the feature on this CPU.
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => unsafe { sgd.epoch_avx2(&mut rng, &mut x, &mut y) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => unsafe { sgd.epoch_avx512(&mut rng, &mut x, &mut y) },
            }
            if let Some(v) = x.iter().chain(&y).find(|v| !v.is_finite()) {
                return Err(FitError::Diverged { epoch, value: f64::from(*v) });
            }
        }
        Ok(Bpr { user_factors: x, item_factors: y, factors: k, popularity: popularity(&rows, ni), known: KnownSet::from_train(train) })
    }
}

/// One epoch of implicit's `bpr_update`, single-threaded: `nnz` samples from `rng`.
struct Sgd<'a> {
    rows: &'a Csr,
    userids: &'a [u32],
    draw: &'a Draw,
    d: usize,
    lr: f32,
    reg: f32,
    verify: bool,
}

impl Sgd<'_> {
    #[inline(always)]
    fn epoch(&self, rng: &mut ChaCha8Rng, x: &mut [f32], y: &mut [f32]) {
        let (rows, d, lr, reg) = (self.rows, self.d, self.lr, self.reg);
        for _ in 0..rows.nnz() {
            let liked_pos = self.draw.sample(rng);
            let disliked_pos = self.draw.sample(rng);
            let u = self.userids[liked_pos] as usize;
            let (liked, disliked) = (rows.cols()[liked_pos] as usize, rows.cols()[disliked_pos] as usize);
            if self.verify && rows.row(u).binary_search(&(disliked as u32)).is_ok() {
                continue;
            }
            let user = &mut x[u * d..(u + 1) * d];
            if liked == disliked {
                same_item_step(user, &mut y[liked * d..(liked + 1) * d], lr, reg);
            } else {
                let (l, j) = two_rows_mut(y, liked, disliked, d);
                bpr_step(user, l, j, lr, reg);
            }
        }
    }

    /// [`Sgd::epoch`] compiled for AVX2 (the same operations, so the same bits).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn epoch_avx2(&self, rng: &mut ChaCha8Rng, x: &mut [f32], y: &mut [f32]) {
        self.epoch(rng, x, y)
    }

    /// [`Sgd::epoch`] compiled for AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn epoch_avx512(&self, rng: &mut ChaCha8Rng, x: &mut [f32], y: &mut [f32]) {
        self.epoch(rng, x, y)
    }
}

/// Rows `a` and `b` (`a != b`) of a row-major `[_, d]` matrix, both mutable.
#[inline(always)]
fn two_rows_mut(m: &mut [f32], a: usize, b: usize, d: usize) -> (&mut [f32], &mut [f32]) {
    if a < b {
        let (lo, hi) = m.split_at_mut(b * d);
        (&mut lo[a * d..(a + 1) * d], &mut hi[..d])
    } else {
        let (lo, hi) = m.split_at_mut(a * d);
        (&mut hi[..d], &mut lo[b * d..(b + 1) * d])
    }
}

/// One BPR SGD step on `user`, `liked`, `disliked` (each `factors + 1` long, bias last), as
/// implicit's `bpr_update`; returns `z = σ(−x̂_uij)`.
#[inline(always)]
pub(crate) fn bpr_step(user: &mut [f32], liked: &mut [f32], disliked: &mut [f32], lr: f32, reg: f32) -> f32 {
    let k = user.len() - 1;
    let score = dot_diff(user, liked, disliked);
    let z = 1.0 / (1.0 + score.exp());
    let (uf, lf, df) = (&mut user[..k], &mut liked[..k], &mut disliked[..k]);
    for ((u, l), j) in uf.iter_mut().zip(lf.iter_mut()).zip(df.iter_mut()) {
        let (uo, lo, jo) = (*u, *l, *j);
        *u = uo + lr * (z * (lo - jo) - reg * uo);
        *l = lo + lr * (z * uo - reg * lo);
        *j = jo + lr * (-z * uo - reg * jo);
    }
    liked[k] += lr * (z - reg * liked[k]);
    disliked[k] += lr * (-z - reg * disliked[k]);
    z
}

/// implicit's update when the negative is the positive itself (only possible without
/// `verify_negative_samples`): the same pointer is updated twice in sequence.
fn same_item_step(user: &mut [f32], item: &mut [f32], lr: f32, reg: f32) {
    let k = user.len() - 1;
    let z = 0.5; // x̂_uij = 0
    for (u, q) in user[..k].iter_mut().zip(item[..k].iter_mut()) {
        let uo = *u;
        *u = uo + lr * (-reg * uo);
        *q += lr * (z * uo - reg * *q);
        *q += lr * (-z * uo - reg * *q);
    }
    item[k] += lr * (z - reg * item[k]);
    item[k] += lr * (-z - reg * item[k]);
}

/// `Σ_f u_f (l_f − j_f)` with independent accumulators, as [`crate::als`]'s `dot`.
#[inline(always)]
fn dot_diff(u: &[f32], l: &[f32], j: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (cu, cl, cj) = (u.chunks_exact(LANES), l.chunks_exact(LANES), j.chunks_exact(LANES));
    let (ru, rl, rj) = (cu.remainder(), cl.remainder(), cj.remainder());
    for ((a, b), c) in cu.zip(cl).zip(cj) {
        for f in 0..LANES {
            acc[f] += a[f] * (b[f] - c[f]);
        }
    }
    let mut s = reduce(acc);
    for ((a, b), c) in ru.iter().zip(rl).zip(rj) {
        s += a * (b - c);
    }
    s
}

impl RatingPredictor for Bpr {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        factor_predictions(pairs, &self.user_factors, &self.item_factors, self.factors + 1, &self.known, &self.popularity)
    }

    fn score_block(&self, users: &[u32], items: &[u32]) -> Vec<f32> {
        factor_score_block(users, items, &self.user_factors, &self.item_factors, self.factors + 1, &self.known, &self.popularity)
    }

    fn feedback(&self) -> Feedback {
        Feedback::Implicit
    }

    /// `[x_u, 1] · [y_i, b_i]`: the item bias is the last column.
    fn dot_factors(&self) -> Option<burnrec_data::DotFactors> {
        let dim = self.factors + 1;
        Some(burnrec_data::DotFactors {
            dim,
            factor_dim: self.factors,
            users: self.user_factors.clone(),
            items: self.item_factors.clone(),
            user_offset: vec![0.0; self.user_factors.len() / dim],
            new_user_offset: 0.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::als::tests::{cells, two_blocks};
    use burnrec_data::Rating;

    #[test]
    fn one_step_by_hand() {
        // k = 2: user (0.1, 0.2 | 1), liked (0.3, −0.1 | 0.05), disliked (0, 0.2 | −0.05).
        // x̂_uij = 0.1·0.3 + 0.2·(−0.1 − 0.2) + 1·(0.05 + 0.05) = 0.03 − 0.06 + 0.1 = 0.07
        // z = 1 / (1 + e^0.07) = 0.48250714; lr = 0.1, reg = 0.01.
        let (mut u, mut l, mut j) = (vec![0.1f32, 0.2, 1.0], vec![0.3f32, -0.1, 0.05], vec![0.0f32, 0.2, -0.05]);
        let z = bpr_step(&mut u, &mut l, &mut j, 0.1, 0.01);
        let z64 = 1.0 / (1.0 + 0.07f64.exp());
        assert!((f64::from(z) - z64).abs() < 1e-6 && (z64 - 0.482_507_1).abs() < 1e-6);
        let close = |a: f32, b: f64| (f64::from(a) - b).abs() < 1e-6;
        // p_u0 = 0.1 + 0.1 (z (0.3 − 0) − 0.01·0.1);  p_u1 = 0.2 + 0.1 (z (−0.1 − 0.2) − 0.01·0.2)
        assert!(close(u[0], 0.1 + 0.1 * (z64 * 0.3 - 0.001)) && close(u[1], 0.2 + 0.1 * (z64 * -0.3 - 0.002)), "{u:?}");
        assert_eq!(u[2], 1.0, "the user's bias column stays 1");
        // q_i0 = 0.3 + 0.1 (z·0.1 − 0.01·0.3);  q_j1 = 0.2 + 0.1 (−z·0.2 − 0.01·0.2)
        assert!(close(l[0], 0.3 + 0.1 * (z64 * 0.1 - 0.003)) && close(j[1], 0.2 + 0.1 * (-z64 * 0.2 - 0.002)));
        // b_i = 0.05 + 0.1 (z − 0.01·0.05);  b_j = −0.05 + 0.1 (−z + 0.01·0.05)
        assert!(close(l[2], 0.05 + 0.1 * (z64 - 0.0005)) && close(j[2], -0.05 + 0.1 * (-z64 + 0.0005)));
    }

    #[test]
    fn planted_preference_is_ranked_first() {
        let data = two_blocks(40, 20);
        let m = BprParams { factors: 8, iterations: 300, learning_rate: 0.05, ..Default::default() }.fit(&data).unwrap();
        for u in [0u32, 9, 20, 33] {
            let base = if u < 20 { 0 } else { 10 };
            let held = base + u % 10;
            let candidates: Vec<u32> = (0..20).filter(|&i| (i < 10) != (base == 0) || i == held).collect();
            assert_eq!(m.recommend(u, &candidates, 1)[0].0, held, "user {u}");
        }
    }

    #[test]
    fn popular_items_get_larger_biases() {
        // Item 0 is used by every user, item 3 by one: negatives are drawn by popularity, yet
        // positives dominate for item 0; the never-used item 4 keeps a zero row.
        let mut c = Vec::new();
        for u in 0..30u32 {
            c.push((u, 0));
            c.push((u, 1 + u % 2));
        }
        c.push((0, 3));
        let m = BprParams { factors: 4, iterations: 50, learning_rate: 0.05, ..Default::default() }.fit(&cells(&c, 31, 5)).unwrap();
        let b = m.item_biases();
        assert!(b[0] > b[3], "{b:?}");
        assert!(m.item_factors[4 * 5..].iter().all(|&v| v == 0.0));
        assert!(m.user_factors[30 * 5..30 * 5 + 4].iter().all(|&v| v == 0.0) && m.user_factors[30 * 5 + 4] == 1.0);
        let p = m.predict(30, 0);
        assert!(!p.known_user && (p.rating - 1.0).abs() < 1e-6, "unknown user: popularity share {p:?}");
    }

    #[test]
    fn weighted_draws_follow_the_values() {
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        let d = Interactions::new(vec![r(0, 0, 1.0), r(1, 1, 3.0)], 2, 2).unwrap();
        let draw = Draw::new(&interaction_rows(&d, false).unwrap(), false);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let hits = (0..40_000).filter(|_| draw.sample(&mut rng) == 1).count();
        assert!((29_000..31_000).contains(&hits), "{hits} of 40000, expected 3/4");
        let m = BprParams { factors: 2, iterations: 3, binary: false, ..Default::default() }.fit(&d).unwrap();
        assert!(m.user_factors.iter().all(|v| v.is_finite()));
        let bad = Interactions::new(vec![r(0, 0, 0.0)], 1, 1).unwrap();
        assert!(matches!(BprParams { binary: false, ..Default::default() }.fit(&bad), Err(FitError::Input(_))));
    }

    #[test]
    fn without_verification_the_same_item_can_be_its_own_negative() {
        let mut user = vec![0.5f32, 1.0];
        let mut item = vec![0.2f32, 0.1];
        same_item_step(&mut user, &mut item, 0.1, 0.0);
        // reg = 0: p_u unchanged; q += 0.05 p_u then −= 0.05 p_u; b += 0.05 then −= 0.05.
        assert_eq!(user, vec![0.5, 1.0]);
        assert!((item[0] - 0.2).abs() < 1e-7 && (item[1] - 0.1).abs() < 1e-7);
        let m = BprParams { factors: 3, iterations: 5, verify_negative_samples: false, ..Default::default() }.fit(&two_blocks(8, 4)).unwrap();
        assert!(m.item_factors.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        let rows = interaction_rows(&two_blocks(20, 10), true).unwrap();
        let userids: Vec<u32> = (0..20u32).flat_map(|u| std::iter::repeat_n(u, rows.row(u as usize).len())).collect();
        let draw = Draw::new(&rows, true);
        let sgd = Sgd { rows: &rows, userids: &userids, draw: &draw, d: 11, lr: 0.05, reg: 0.01, verify: true };
        let run = |isa: Isa| {
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            let mut x: Vec<f32> = (0..20 * 11).map(|v| (v % 7) as f32 * 0.01).collect();
            let mut y: Vec<f32> = (0..10 * 11).map(|v| (v % 5) as f32 * -0.01).collect();
            for _ in 0..3 {
                match isa {
                    Isa::Baseline => sgd.epoch(&mut rng, &mut x, &mut y),
                    #[cfg(target_arch = "x86_64")]
                    Isa::Avx2 => unsafe { sgd.epoch_avx2(&mut rng, &mut x, &mut y) },
                    #[cfg(target_arch = "x86_64")]
                    Isa::Avx512 => unsafe { sgd.epoch_avx512(&mut rng, &mut x, &mut y) },
                }
            }
            (x, y)
        };
        assert_eq!(run(Isa::Baseline), run(Isa::detect()));
    }

    #[test]
    fn same_seed_same_model_and_seed_matters() {
        let data = two_blocks(20, 10);
        let p = BprParams { factors: 4, iterations: 5, ..Default::default() };
        let run = |threads| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| p.fit(&data).unwrap());
        assert_eq!(run(1), run(2));
        assert_ne!(p.fit(&data).unwrap().item_factors, BprParams { seed: 1, ..p.clone() }.fit(&data).unwrap().item_factors);
    }

    #[test]
    fn serde_round_trip_predicts_identically() {
        let data = two_blocks(10, 6);
        let m = BprParams { factors: 3, iterations: 4, ..Default::default() }.fit(&data).unwrap();
        let back: Bpr = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        let pairs = [(0, 0), (3, 5), (9, 1), (20, 2)];
        assert_eq!(m.predict_batch(&pairs), back.predict_batch(&pairs));
        assert_eq!(m.score_block(&[0, 4, 11], &[0, 1, 2, 9]), back.score_block(&[0, 4, 11], &[0, 1, 2, 9]));
        let pairs: Vec<(u32, u32)> = [0u32, 4, 11].iter().flat_map(|&u| [0u32, 1, 2, 9].map(|i| (u, i))).collect();
        let single: Vec<f32> = m.predict_batch(&pairs).iter().map(|p| p.rating).collect();
        assert_eq!(m.score_block(&[0, 4, 11], &[0, 1, 2, 9]), single);
    }

    #[test]
    fn divergence_and_bad_params_are_errors() {
        let e = BprParams { learning_rate: 0.0, ..Default::default() }.check().unwrap_err();
        assert_eq!(e.to_string(), "invalid parameter `learning_rate` = 0: expected finite and > 0");
        assert!(BprParams { iterations: 0, ..Default::default() }.check().is_err());
        assert!(BprParams { regularization: -0.1, ..Default::default() }.check().is_err());
        let diverge = BprParams { learning_rate: 1e30, factors: 4, iterations: 20, ..Default::default() };
        assert!(matches!(diverge.fit(&two_blocks(20, 10)), Err(FitError::Diverged { .. })));
        let empty = Interactions::new(vec![], 2, 2).unwrap();
        assert!(matches!(BprParams::default().fit(&empty), Err(FitError::EmptyTrainSet)));
    }
}
