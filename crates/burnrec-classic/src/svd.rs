//! Biased matrix factorisation fitted by stochastic gradient descent — "SVD" in Surprise's
//! sense (Funk 2006; Koren, Bell & Volinsky, "Matrix Factorization Techniques for Recommender
//! Systems", IEEE Computer 42(8), 2009).

use burnrec_data::{Interactions, KnownSet, Prediction, RatingPredictor};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Fit;
use crate::error::{FitError, MAX_FACTORS, ParamError, ensure};
use crate::util::dot;

/// Parameters of [`BiasedMf`]. Defaults are Surprise's `SVD` defaults, so results compare.
///
/// Model: `r̂_ui = μ + b_u + b_i + q_iᵀ p_u` in rating units. For each training rating, in a
/// seeded random order each epoch, with `e = r_ui − r̂_ui`:
/// `b_u += lr (e − reg b_u)`, `b_i += lr (e − reg b_i)`,
/// `p_u += lr (e q_i − reg p_u)`, `q_i += lr (e p_u − reg q_i)` (both from the old values).
///
/// | name | default | meaning | range |
/// | --- | --- | --- | --- |
/// | `n_factors` | 100 | latent dimension k | `1..=10000` |
/// | `n_epochs` | 20 | passes over the training ratings | `≥ 1` |
/// | `lr` | 0.005 | SGD step γ | `(0, ∞)` |
/// | `reg` | 0.02 | L2 weight λ on biases and factors | `[0, ∞)` |
/// | `init_mean` | 0 | mean of the normal init of `P`, `Q` | finite |
/// | `init_std` | 0.1 | std of the normal init of `P`, `Q` | `[0, ∞)` |
/// | `biased` | true | learn `μ + b_u + b_i` (false: `r̂ = q_iᵀ p_u` only, Surprise's `SVD(biased=False)`) | |
/// | `seed` | 42 | seeds the init and the epoch order | |
/// | `blocks` | 8 | user and item blocks of stratified parallel SGD | `1..=256` |
///
/// Unlike Surprise, which visits ratings in storage order, the fit visits them in a seeded
/// random order, and runs on all cores by stratified SGD (Gemulla et al., KDD 2011): users and
/// items are cut into `blocks` seeded groups each; an epoch is `blocks` strata of `blocks`
/// rating blocks that share no user and no item, updated in parallel. The result depends on
/// the seed and `blocks`, never on the number of threads; `blocks = 1` is plain sequential SGD.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SvdParams {
    /// Latent dimension k.
    pub n_factors: usize,
    /// Passes over the training ratings.
    pub n_epochs: usize,
    /// SGD learning rate γ.
    pub lr: f32,
    /// L2 regularisation λ.
    pub reg: f32,
    /// Mean of the factor initialisation.
    pub init_mean: f32,
    /// Standard deviation of the factor initialisation.
    pub init_std: f32,
    /// Whether to learn user and item biases.
    pub biased: bool,
    /// Random seed.
    pub seed: u64,
    /// Rating blocks per side for stratified parallel SGD (1 = plain sequential SGD).
    pub blocks: usize,
}

impl Default for SvdParams {
    fn default() -> Self {
        Self { n_factors: 100, n_epochs: 20, lr: 0.005, reg: 0.02, init_mean: 0.0, init_std: 0.1, biased: true, seed: 42, blocks: 8 }
    }
}

impl SvdParams {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`ParamError`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), ParamError> {
        ensure((1..=MAX_FACTORS).contains(&self.n_factors), "n_factors", self.n_factors, "in 1..=10000")?;
        ensure(self.n_epochs >= 1, "n_epochs", self.n_epochs, ">= 1")?;
        ensure(self.lr.is_finite() && self.lr > 0.0, "lr", self.lr, "finite and > 0")?;
        ensure(self.reg.is_finite() && self.reg >= 0.0, "reg", self.reg, "finite and >= 0")?;
        ensure(self.init_mean.is_finite(), "init_mean", self.init_mean, "finite")?;
        ensure(self.init_std.is_finite() && self.init_std >= 0.0, "init_std", self.init_std, "finite and >= 0")?;
        ensure((1..=256).contains(&self.blocks), "blocks", self.blocks, "in 1..=256")
    }
}

/// A fitted [`SvdParams`].
///
/// # Shapes
/// - `p`: `[n_users, n_factors]` row-major; `q`: `[n_items, n_factors]` row-major.
/// - `bu`: `[n_users]`; `bi`: `[n_items]` (rating units).
///
/// Unbiased (`biased: false`): `q_iᵀ p_u` for a known pair, μ (Surprise's default prediction)
/// otherwise. Biased: prediction for an unknown user or item drops the terms it has no data for:
/// `μ + b_i` for an unknown user, `μ + b_u` for an unknown item, μ for both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BiasedMf {
    /// Mean training rating μ.
    pub mu: f32,
    /// User biases.
    pub bu: Vec<f32>,
    /// Item biases.
    pub bi: Vec<f32>,
    /// User factors.
    pub p: Vec<f32>,
    /// Item factors.
    pub q: Vec<f32>,
    /// Latent dimension k.
    pub n_factors: usize,
    /// Whether μ and the biases are part of the model (false: `r̂ = q_iᵀ p_u`).
    #[serde(default = "yes")]
    pub biased: bool,
    known: KnownSet,
}

fn yes() -> bool {
    true
}

impl Fit for SvdParams {
    type Model = BiasedMf;

    /// # Errors
    /// [`FitError::Param`], [`FitError::EmptyTrainSet`], or [`FitError::Diverged`] if the
    /// epoch's squared error becomes non-finite (lower `lr`).
    fn fit(&self, train: &Interactions) -> Result<BiasedMf, FitError> {
        self.check()?;
        let mu = train.global_mean().ok_or(FitError::EmptyTrainSet)? as f32;
        let k = self.n_factors;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let init = Normal::new(self.init_mean, self.init_std).expect("checked above");
        let mut p: Vec<f32> = (0..train.n_users() * k).map(|_| init.sample(&mut rng)).collect();
        let mut q: Vec<f32> = (0..train.n_items() * k).map(|_| init.sample(&mut rng)).collect();
        let (nu, ni) = (train.n_users(), train.n_items());
        let mut bu = vec![0f32; nu];
        let mut bi = vec![0f32; ni];
        let strata = Strata::new(train, self.blocks, &mut rng);
        // Work in block order: rows of one block are contiguous, so blocks are disjoint slices.
        let (mut pb, mut qb) = (strata.users.gather(&p, k), strata.items.gather(&q, k));
        // Unbiased (PMF): no global mean either, as Surprise's SVD(biased=False).
        let step = Step { mu: if self.biased { mu } else { 0.0 }, lr: self.lr, reg: self.reg, biased: self.biased, k };
        for epoch in 1..=self.n_epochs {
            let sse = strata.epoch(&step, &mut pb, &mut qb, &mut bu, &mut bi, &mut rng);
            if !sse.is_finite() || !pb.iter().chain(&qb).chain(&bu).chain(&bi).all(|x| x.is_finite()) {
                return Err(FitError::Diverged { epoch, value: sse });
            }
        }
        strata.users.scatter(&pb, &mut p, k);
        strata.items.scatter(&qb, &mut q, k);
        let bu = strata.users.unpermute(&bu);
        let bi = strata.items.unpermute(&bi);
        Ok(BiasedMf { mu, bu, bi, p, q, n_factors: k, biased: self.biased, known: KnownSet::from_train(train) })
    }
}

/// One SGD step's constants.
struct Step {
    mu: f32,
    lr: f32,
    reg: f32,
    biased: bool,
    k: usize,
}

impl Step {
    /// One rating's update of `(p_u, q_i, b_u, b_i)`; returns the squared error before it.
    #[inline]
    fn apply(&self, r: f32, pu: &mut [f32], qi: &mut [f32], bu: &mut f32, bi: &mut f32) -> f32 {
        let err = r - (self.mu + *bu + *bi + dot(pu, qi));
        if self.biased {
            *bu += self.lr * (err - self.reg * *bu);
            *bi += self.lr * (err - self.reg * *bi);
        }
        let (le, lreg) = (self.lr * err, 1.0 - self.lr * self.reg);
        for (a, b) in pu.iter_mut().zip(qi.iter_mut()) {
            let (pf, qf) = (*a, *b);
            *a = lreg * pf + le * qf;
            *b = lreg * qf + le * pf;
        }
        err * err
    }
}

/// A seeded partition of rows (users or items) into `blocks` contiguous groups: row `x` sits at
/// position `pos[x]` of the block order, and block `b` holds positions `b·size .. (b+1)·size`.
struct Blocks {
    pos: Vec<u32>,
    size: usize,
    n: usize,
}

impl Blocks {
    fn new(n: usize, blocks: usize, rng: &mut ChaCha8Rng) -> Self {
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.shuffle(rng);
        let mut pos = vec![0u32; n];
        for (p, &x) in order.iter().enumerate() {
            pos[x as usize] = p as u32;
        }
        Self { pos, size: n.div_ceil(blocks).max(1), n }
    }

    fn block_of(&self, x: u32) -> usize {
        self.pos[x as usize] as usize / self.size
    }

    /// Rows of `[n, k]` `src` in block order.
    fn gather(&self, src: &[f32], k: usize) -> Vec<f32> {
        let mut out = vec![0f32; src.len()];
        for x in 0..self.n {
            let p = self.pos[x] as usize;
            out[p * k..(p + 1) * k].copy_from_slice(&src[x * k..(x + 1) * k]);
        }
        out
    }

    /// Inverse of [`Blocks::gather`].
    fn scatter(&self, src: &[f32], dst: &mut [f32], k: usize) {
        for x in 0..self.n {
            let p = self.pos[x] as usize;
            dst[x * k..(x + 1) * k].copy_from_slice(&src[p * k..(p + 1) * k]);
        }
    }

    fn unpermute(&self, v: &[f32]) -> Vec<f32> {
        (0..self.n).map(|x| v[self.pos[x] as usize]).collect()
    }
}

/// Stratified SGD (Gemulla, Nijkamp, Haas & Sismanis, "Large-Scale Matrix Factorization with
/// Distributed Stochastic Gradient Descent", KDD 2011): users and items are split into `B`
/// blocks each; an epoch runs `B` strata, and stratum `s` updates the `B` rating blocks
/// `(b, (b + s) mod B)`, which share no user and no item, in parallel. Each block visits its
/// ratings in a seeded order, so the result depends on the seed and `B`, never on the number of
/// threads.
struct Strata {
    users: Blocks,
    items: Blocks,
    /// `[B × B]` rating blocks of `(user position, item position, rating)`.
    cells: Vec<Vec<(u32, u32, f32)>>,
    b: usize,
}

impl Strata {
    fn new(train: &Interactions, blocks: usize, rng: &mut ChaCha8Rng) -> Self {
        let users = Blocks::new(train.n_users(), blocks, rng);
        let items = Blocks::new(train.n_items(), blocks, rng);
        let mut cells = vec![Vec::new(); blocks * blocks];
        for ((&u, &i), &r) in train.users().iter().zip(train.items()).zip(train.values()) {
            cells[users.block_of(u) * blocks + items.block_of(i)].push((users.pos[u as usize], items.pos[i as usize], r));
        }
        for c in &mut cells {
            c.shuffle(rng);
        }
        Self { users, items, cells, b: blocks }
    }

    /// One epoch; returns the sum of squared errors (in a fixed order).
    fn epoch(&self, step: &Step, p: &mut [f32], q: &mut [f32], bu: &mut [f32], bi: &mut [f32], rng: &mut ChaCha8Rng) -> f64 {
        let (b, k) = (self.b, step.k);
        let mut strata: Vec<usize> = (0..b).collect();
        strata.shuffle(rng);
        let mut sse = 0f64;
        for s in strata {
            // A fresh visiting order per block and epoch: j ↦ (a·j + c) mod n with a coprime
            // to n is a permutation that costs nothing to draw.
            let orders: Vec<(usize, usize)> = (0..b).map(|_| (rng.random::<u32>() as usize, rng.random::<u32>() as usize)).collect();
            let mut qs: Vec<&mut [f32]> = q.chunks_mut(self.items.size * k).collect();
            let mut bis: Vec<&mut [f32]> = bi.chunks_mut(self.items.size).collect();
            qs.resize_with(b, Default::default);
            bis.resize_with(b, Default::default);
            qs.rotate_left(s);
            bis.rotate_left(s);
            let mut ps: Vec<&mut [f32]> = p.chunks_mut(self.users.size * k).collect();
            let mut bus: Vec<&mut [f32]> = bu.chunks_mut(self.users.size).collect();
            ps.resize_with(b, Default::default);
            bus.resize_with(b, Default::default);
            let parts: Vec<f64> = ps
                .into_par_iter()
                .zip(bus)
                .zip(qs.into_par_iter().zip(bis))
                .enumerate()
                .map(|(ub, ((pc, buc), (qc, bic)))| {
                    let ib = (ub + s) % b;
                    let cell = &self.cells[ub * b + ib];
                    let n = cell.len();
                    if n == 0 {
                        return 0.0;
                    }
                    let (u0, i0) = (ub * self.users.size, ib * self.items.size);
                    let (mut a, c) = (orders[ub].0 % n, orders[ub].1 % n);
                    while gcd(a, n) != 1 {
                        a = (a + 1) % n;
                    }
                    let mut local = 0f64;
                    let mut j = c;
                    for _ in 0..n {
                        let (u, i, r) = cell[j];
                        let (u, i) = (u as usize - u0, i as usize - i0);
                        let (pu, qi) = (&mut pc[u * k..(u + 1) * k], &mut qc[i * k..(i + 1) * k]);
                        local += f64::from(step.apply(r, pu, qi, &mut buc[u], &mut bic[i]));
                        j += a;
                        if j >= n {
                            j -= n;
                        }
                    }
                    local
                })
                .collect();
            sse += parts.iter().sum::<f64>();
        }
        sse
    }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl RatingPredictor for BiasedMf {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        let k = self.n_factors;
        pairs
            .iter()
            .map(|&(u, i)| {
                let mut p = self.known.baseline(self.mu, &self.bu, &self.bi, u, i);
                if !p.is_fallback() {
                    let (u, i) = (u as usize, i as usize);
                    let d = dot(&self.p[u * k..(u + 1) * k], &self.q[i * k..(i + 1) * k]);
                    // Unbiased: q_iᵀp_u alone (biases are 0, μ is not part of the model).
                    p.rating = if self.biased { p.rating + d } else { d };
                }
                p
            })
            .collect()
    }

    /// Biased: `(μ + b_u) + [p_u, 1] · [q_i, b_i]`; unbiased (PMF): `p_u · q_i`.
    fn dot_factors(&self) -> Option<burnrec_data::DotFactors> {
        let k = self.n_factors;
        if !self.biased {
            return Some(burnrec_data::DotFactors {
                dim: k,
                factor_dim: k,
                users: self.p.clone(),
                items: self.q.clone(),
                user_offset: vec![0.0; self.bu.len()],
                new_user_offset: 0.0,
            });
        }
        let offset = self.bu.iter().map(|b| self.mu + b).collect();
        Some(burnrec_data::DotFactors::with_bias_column(k, &self.p, &self.q, &self.bi, offset, self.mu))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::GlobalMeanParams;
    use burnrec_data::{Rating, random_split, synthetic::planted_low_rank};
    use burnrec_eval::evaluate_ratings;

    #[test]
    fn two_epochs_by_hand() {
        // Two ratings on disjoint users and items, zero init: factors stay 0 and the biases move
        // independently of the visiting order. μ = 4, lr = 0.005, reg = 0.02.
        // epoch 1: e = ±1 → b = ±0.005;  epoch 2: e = ±(1 − 0.01) = ±0.99 →
        // b = ±(0.005 + 0.005 (0.99 − 0.02·0.005)) = ±0.0099495; r̂_00 = 4 + 2·0.0099495.
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        let train = Interactions::new(vec![r(0, 0, 5.0), r(1, 1, 3.0)], 2, 2).unwrap();
        let p = SvdParams { n_epochs: 2, init_std: 0.0, n_factors: 3, ..Default::default() };
        let m = p.fit(&train).unwrap();
        assert!((m.bu[0] - 0.0099495).abs() < 1e-7 && (m.bi[1] + 0.0099495).abs() < 1e-7, "{:?} {:?}", m.bu, m.bi);
        assert!((m.predict(0, 0).rating - 4.019899).abs() < 1e-6);
        assert!(m.p.iter().chain(&m.q).all(|&x| x == 0.0));
        // Unknown pair (0, 1) is known on both sides here: μ + b_u0 + b_i1 = 4.
        assert!((m.predict(0, 1).rating - 4.0).abs() < 1e-6);
    }

    #[test]
    fn one_factor_update_by_hand() {
        // One rating r = 5 (μ = 5), k = 1, factors start at p = q = 1 (init_mean 1, std 0),
        // lr = 0.1, reg = 0: e = 5 − (5 + 0 + 0 + 1) = −1; biases −0.1 each;
        // p = 1 + 0.1·(−1·1) = 0.9, q = 0.9. Unbiased: μ = 0, e = 5 − 1 = 4, p = q = 1.4.
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        let train = Interactions::new(vec![r(0, 0, 5.0)], 1, 1).unwrap();
        let base = SvdParams { n_epochs: 1, n_factors: 1, init_mean: 1.0, init_std: 0.0, lr: 0.1, reg: 0.0, blocks: 1, ..Default::default() };
        let m = base.fit(&train).unwrap();
        assert!((m.p[0] - 0.9).abs() < 1e-6 && (m.q[0] - 0.9).abs() < 1e-6 && (m.bu[0] + 0.1).abs() < 1e-6, "{m:?}");
        assert!((m.predict(0, 0).rating - (5.0 - 0.2 + 0.81)).abs() < 1e-5);
        let pmf = SvdParams { biased: false, ..base }.fit(&train).unwrap();
        assert!((pmf.p[0] - 1.4).abs() < 1e-6 && pmf.bu[0] == 0.0, "{pmf:?}");
        assert!((pmf.predict(0, 0).rating - 1.96).abs() < 1e-5);
        // An unknown pair falls back to μ.
        assert_eq!(pmf.predict(3, 0).rating, 5.0);
    }

    #[test]
    fn recovers_a_planted_low_rank_matrix() {
        let planted = planted_low_rank(300, 200, 3, 0.25, 0.1, 7);
        let split = random_split(&planted.observed, 0.2, 42).unwrap();
        let params = SvdParams { n_factors: 10, n_epochs: 60, lr: 0.01, reg: 0.02, ..Default::default() };
        let model = params.fit(&split.train).unwrap();
        let svd = evaluate_ratings(&model, &split.test, None).unwrap();
        let mean = evaluate_ratings(&GlobalMeanParams.fit(&split.train).unwrap(), &split.test, None).unwrap();
        // The planted signal has std ≈ 1.1 and the noise std is 0.1.
        assert!(mean.rmse > 1.0, "global mean rmse {}", mean.rmse);
        assert!(svd.rmse < 0.3, "svd rmse {} (global mean {})", svd.rmse, mean.rmse);
    }

    #[test]
    fn same_seed_same_model_and_seed_matters() {
        let planted = planted_low_rank(30, 20, 2, 0.5, 0.1, 1);
        let p = SvdParams { n_factors: 4, n_epochs: 3, ..Default::default() };
        assert_eq!(p.fit(&planted.observed).unwrap(), p.fit(&planted.observed).unwrap());
        let q = SvdParams { seed: 43, ..p.clone() };
        assert_ne!(p.fit(&planted.observed).unwrap().p, q.fit(&planted.observed).unwrap().p);
    }

    #[test]
    fn threads_do_not_change_the_result_but_blocks_do() {
        let planted = planted_low_rank(60, 50, 2, 0.5, 0.1, 4);
        let p = SvdParams { n_factors: 8, n_epochs: 3, ..Default::default() };
        let fit_with =
            |threads: usize, p: &SvdParams| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| p.fit(&planted.observed).unwrap());
        assert_eq!(fit_with(1, &p), fit_with(2, &p));
        assert_eq!(fit_with(1, &p), fit_with(3, &p));
        let sequential = SvdParams { blocks: 1, ..p.clone() };
        assert_ne!(fit_with(2, &p).p, fit_with(2, &sequential).p);
    }

    #[test]
    fn divergence_is_reported() {
        let planted = planted_low_rank(30, 20, 2, 0.5, 0.1, 1);
        let p = SvdParams { lr: 1e3, n_factors: 4, n_epochs: 5, ..Default::default() };
        assert!(matches!(p.fit(&planted.observed), Err(FitError::Diverged { .. })));
    }

    #[test]
    fn bad_params_are_named() {
        let e = SvdParams { lr: 0.0, ..Default::default() }.check().unwrap_err();
        assert_eq!(e.to_string(), "invalid parameter `lr` = 0: expected finite and > 0");
    }
}
