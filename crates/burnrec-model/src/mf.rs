//! Biased matrix factorisation as a Burn module (Koren, Bell & Volinsky, "Matrix
//! Factorization Techniques for Recommender Systems", IEEE Computer 42(8), 2009), trained in
//! mini-batches with Adam on MSE + L2.

use burn::module::{Module, Param};
use burn::nn::Embedding;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burnrec_data::{Interactions, KnownSet, Prediction, RatingPredictor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::trainer::{EpochLog, ModuleMetric, RatingModule, TableSide, TrainConfig, TrainError, Validation, forward_pairs, train_explicit};
use burnrec_data::batch::index_tensor;

/// The biased MF network: `r̂_ui − μ = b_u + b_i + p_uᵀ q_i`.
///
/// # Shapes
/// - `user`: `[n_users, dim]`, `item`: `[n_items, dim]` (factors `P`, `Q`)
/// - `user_bias`: `[n_users, 1]`, `item_bias`: `[n_items, 1]`
#[derive(Module, Debug)]
pub struct BiasedMfModule {
    /// User factors `P`.
    pub user: Embedding,
    /// Item factors `Q`.
    pub item: Embedding,
    /// User biases `b_u`.
    pub user_bias: Embedding,
    /// Item biases `b_i`.
    pub item_bias: Embedding,
}

impl BiasedMfModule {
    /// A module with factors drawn from `N(0, init_std²)` by a ChaCha8 generator seeded with
    /// `seed` (so every backend starts from the same weights) and zero biases, on `device`.
    pub fn new(n_users: usize, n_items: usize, dim: usize, init_std: f32, seed: u64, device: &Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let zeros = |rows: usize| Embedding { weight: Param::from_data(TensorData::new(vec![0f32; rows], [rows, 1]), device) };
        Self {
            user: crate::init::normal_embedding(n_users, dim, init_std, &mut rng, device),
            item: crate::init::normal_embedding(n_items, dim, init_std, &mut rng, device),
            user_bias: zeros(n_users),
            item_bias: zeros(n_items),
        }
    }

    /// Looks up `[batch]` indices in `table`: returns `[batch, cols]`.
    pub(crate) fn rows(table: &Embedding, idx: Tensor<1, Int>) -> Tensor<2> {
        let [b] = idx.dims();
        let out = table.forward(idx.reshape([b, 1]));
        let [_, _, d] = out.dims();
        out.reshape([b, d])
    }
}

impl RatingModule for BiasedMfModule {
    fn forward(&self, users: Tensor<1, Int>, items: Tensor<1, Int>) -> Tensor<1> {
        let [b] = users.dims();
        let p = Self::rows(&self.user, users.clone());
        let q = Self::rows(&self.item, items.clone());
        let bu = Self::rows(&self.user_bias, users);
        let bi = Self::rows(&self.item_bias, items);
        ((p * q).sum_dim(1) + bu + bi).reshape([b])
    }

    fn sparse_tables(&self) -> Option<Vec<(&Embedding, TableSide)>> {
        use TableSide::{Item, User};
        Some(vec![(&self.user, User), (&self.item, Item), (&self.user_bias, User), (&self.item_bias, Item)])
    }

    fn into_tables(self) -> Vec<Embedding> {
        vec![self.user, self.item, self.user_bias, self.item_bias]
    }

    fn with_tables(&self, tables: Vec<Embedding>) -> Option<Self> {
        let [user, item, user_bias, item_bias]: [Embedding; 4] = tables.try_into().ok()?;
        Some(Self { user, item, user_bias, item_bias })
    }

    fn penalty(&self, users: Tensor<1, Int>, items: Tensor<1, Int>) -> Tensor<1> {
        let [b] = users.dims();
        let p = Self::rows(&self.user, users.clone()).square().sum();
        let q = Self::rows(&self.item, items.clone()).square().sum();
        let bu = Self::rows(&self.user_bias, users).square().sum();
        let bi = Self::rows(&self.item_bias, items).square().sum();
        (p + q + bu + bi).div_scalar(b as f64)
    }
}

/// Parameters of the Burn biased MF ("burn-mf" in reports).
///
/// | name | default | meaning |
/// | --- | --- | --- |
/// | `dim` | 64 | latent dimension |
/// | `init_std` | 0.05 | std of the normal factor init (biases start at 0) |
/// | `train.epochs` | 20 | passes over the training ratings |
/// | `train.batch_size` | 1024 | ratings per Adam step |
/// | `train.lr` | 0.005 | Adam learning rate |
/// | `train.l2` | 0.1 | per-rating L2 weight on the rows a batch touches |
/// | `train.seed` | 42 | seeds init and batch order |
///
/// The defaults were chosen on a validation split carved from the *training* part of the
/// bundled dataset (see `docs/models.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfParams {
    /// Latent dimension.
    pub dim: usize,
    /// Std of the factor initialisation.
    pub init_std: f32,
    /// Optimisation settings.
    pub train: TrainConfig,
}

impl Default for MfParams {
    fn default() -> Self {
        Self { dim: 64, init_std: 0.05, train: TrainConfig { l2: 0.1, ..TrainConfig::default() } }
    }
}

/// A trained Burn biased MF, ready to predict on its device.
#[derive(Debug)]
pub struct BurnMf {
    pub(crate) module: BiasedMfModule,
    pub(crate) mu: f32,
    pub(crate) known: KnownSet,
    pub(crate) device: Device,
    pub(crate) params: MfParams,
    /// One entry per training epoch.
    pub history: Vec<EpochLog>,
    /// The epoch whose weights were kept, when early stopping ran.
    pub best_epoch: Option<usize>,
}

impl MfParams {
    /// Trains on `train` on `device` (autodiff is switched on internally).
    ///
    /// # Errors
    /// [`TrainError`] for bad settings, an empty training set, divergence or a backend failure.
    pub fn fit(&self, train: &Interactions, device: &Device) -> Result<BurnMf, TrainError> {
        self.fit_with_valid(train, None, device)
    }

    /// [`MfParams::fit`], measuring the RMSE on `valid` after every epoch (raw predictions,
    /// rating units; in [`EpochLog::valid`]) — for learning curves, and for early stopping
    /// when `train.early_stopping` is set.
    ///
    /// # Errors
    /// As [`MfParams::fit`].
    pub fn fit_with_valid(&self, train: &Interactions, valid: Option<&Interactions>, device: &Device) -> Result<BurnMf, TrainError> {
        let rmse = valid.filter(|v| !v.is_empty()).map(|v| Validation {
            name: "rmse".into(),
            higher_is_better: false,
            score: Box::new(move |p: &dyn RatingPredictor| {
                let pairs: Vec<(u32, u32)> = v.users().iter().zip(v.items()).map(|(&u, &i)| (u, i)).collect();
                let se: f64 = p.predict_batch(&pairs).iter().zip(v.values()).map(|(p, &r)| (f64::from(p.rating) - f64::from(r)).powi(2)).sum();
                (se / v.len() as f64).sqrt()
            }),
        });
        self.fit_validated(train, rmse.as_ref(), device)
    }

    /// [`MfParams::fit`], measuring `validation` after every epoch on the model in evaluation
    /// mode (in [`EpochLog::valid`]); with `train.early_stopping` set, stops after `patience`
    /// epochs without improvement and keeps the best epoch's weights.
    ///
    /// # Errors
    /// As [`MfParams::fit`]; [`TrainError::Param`] if early stopping is set without a validation.
    pub fn fit_validated(&self, train: &Interactions, validation: Option<&Validation<'_>>, device: &Device) -> Result<BurnMf, TrainError> {
        self.check()?;
        let mu = train.global_mean().ok_or(TrainError::EmptyTrainSet)? as f32;
        let ad = device.clone().autodiff();
        let known = KnownSet::from_train(train);
        let module = BiasedMfModule::new(train.n_users(), train.n_items(), self.dim, self.init_std, self.train.seed, &ad);
        let wrap = |m: BiasedMfModule| BurnMf {
            module: m,
            mu,
            known: known.clone(),
            device: device.clone(),
            params: self.clone(),
            history: Vec::new(),
            best_epoch: None,
        };
        let score = |m: &BiasedMfModule| validation.map_or(f64::NAN, |v| (v.score)(&wrap(m.valid())));
        let metric = validation.map(|v| ModuleMetric { higher_is_better: v.higher_is_better, score: &score });
        let t = train_explicit(module, train, mu, &self.train, &ad, metric)?;
        Ok(BurnMf { history: t.history, best_epoch: t.best_epoch, ..wrap(t.module.valid()) })
    }
}

impl MfParams {
    /// Checks every setting (also done when loading a saved model).
    ///
    /// # Errors
    /// [`TrainError::Param`] naming the first setting out of range.
    pub fn check(&self) -> Result<(), TrainError> {
        if self.dim == 0 {
            return Err(TrainError::Param { name: "dim", value: "0".into(), expected: ">= 1" });
        }
        if !(self.init_std.is_finite() && self.init_std >= 0.0) {
            return Err(TrainError::Param { name: "init_std", value: self.init_std.to_string(), expected: "finite and >= 0" });
        }
        self.train.check()
    }
}

impl BurnMf {
    /// The global mean μ the model predicts deviations from.
    pub fn mu(&self) -> f32 {
        self.mu
    }

    /// The trained network (in evaluation mode).
    pub fn module(&self) -> &BiasedMfModule {
        &self.module
    }

    /// User biases `[n_users]` and item biases `[n_items]`, read back from the device.
    fn bias_tables(&self) -> (Vec<f32>, Vec<f32>) {
        let read = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().expect("float tensor reads back as f32");
        (read(self.module.user_bias.weight.val()), read(self.module.item_bias.weight.val()))
    }
}

/// A table's weights read back to the host: (`[rows · dim]` row-major, `dim`).
pub(crate) fn table_values(table: &Embedding) -> (Vec<f32>, usize) {
    let [_, dim] = table.weight.dims();
    (table.weight.val().into_data().try_to_vec::<f32>().expect("float tensor reads back as f32"), dim)
}

impl RatingPredictor for BurnMf {
    /// `(μ + b_u) + [p_u, 1] · [q_i, b_i]`, read back from the device once.
    fn dot_factors(&self) -> Option<burnrec_data::DotFactors> {
        let (p, k) = table_values(&self.module.user);
        let (q, _) = table_values(&self.module.item);
        let (bu, _) = table_values(&self.module.user_bias);
        let (bi, _) = table_values(&self.module.item_bias);
        let offset = bu.iter().map(|b| self.mu + b).collect();
        Some(burnrec_data::DotFactors::with_bias_column(k, &p, &q, &bi, offset, self.mu))
    }

    /// Runs the network on blocks of known pairs on the model's device. A pair with an
    /// unknown user or item (or an index outside the tables) gets `μ + b_i`, `μ + b_u` or μ,
    /// read from the bias tables, as in the classic SVD.
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        let mut out: Vec<Prediction> =
            pairs.iter().map(|&(u, i)| Prediction { rating: self.mu, known_user: self.known.user(u), known_item: self.known.item(i) }).collect();
        // Fallbacks follow the shared rule; fetch the (small) bias tables once if any pair needs it.
        if out.iter().any(|p| p.is_fallback()) {
            let (bu, bi) = self.bias_tables();
            for (p, &(u, i)) in out.iter_mut().zip(pairs) {
                if p.is_fallback() {
                    *p = self.known.baseline(self.mu, &bu, &bi, u, i);
                }
            }
        }
        let known: Vec<usize> = (0..pairs.len()).filter(|&k| !out[k].is_fallback()).collect();
        for (&k, v) in known.iter().zip(forward_pairs(&self.module, pairs, &known, &self.device)) {
            out[k].rating += v;
        }
        out
    }

    /// One `[users, dim] × [dim, items]` matrix product on the model's device plus biases and
    /// μ; rows of unknown users and columns of unknown items are patched with the same
    /// fallbacks as [`RatingPredictor::predict_batch`].
    fn score_block(&self, users: &[u32], items: &[u32]) -> Vec<f32> {
        let (nu, ni) = (users.len(), items.len());
        if nu == 0 || ni == 0 {
            return Vec::new();
        }
        let read = |t: Tensor<2>| -> Vec<f32> { t.into_data().try_to_vec::<f32>().expect("float tensor reads back as f32") };
        let [n_user_rows, _] = self.module.user.weight.dims();
        let [n_item_rows, _] = self.module.item.weight.dims();
        // Out-of-range indices are looked up as row 0 and patched below.
        let clamp = |v: &[u32], n: usize| -> Vec<u32> { v.iter().map(|&x| if (x as usize) < n { x } else { 0 }).collect() };
        let u = index_tensor(&clamp(users, n_user_rows), &self.device);
        let i = index_tensor(&clamp(items, n_item_rows), &self.device);
        let p = BiasedMfModule::rows(&self.module.user, u.clone());
        let q = BiasedMfModule::rows(&self.module.item, i.clone());
        let bu = BiasedMfModule::rows(&self.module.user_bias, u); // [nu, 1]
        let bi = BiasedMfModule::rows(&self.module.item_bias, i).reshape([1, ni]);
        let scores = p.matmul(q.transpose()) + bu + bi;
        let mut out = read(scores);
        let (ku, ki): (Vec<bool>, Vec<bool>) = (users.iter().map(|&x| self.known.user(x)).collect(), items.iter().map(|&x| self.known.item(x)).collect());
        if ku.iter().chain(&ki).any(|k| !k) {
            let (bu_all, bi_all) = self.bias_tables();
            for (r, &uu) in users.iter().enumerate() {
                for (c, &ii) in items.iter().enumerate() {
                    if !(ku[r] && ki[c]) {
                        // μ is added to every cell below.
                        out[r * ni + c] = self.known.baseline(0.0, &bu_all, &bi_all, uu, ii).rating;
                    }
                }
            }
        }
        out.iter_mut().for_each(|v| *v += self.mu);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnrec_classic::{Fit, GlobalMeanParams};
    use burnrec_data::{Rating, random_split, synthetic::planted_low_rank};
    use burnrec_eval::evaluate_ratings;

    fn quiet(epochs: usize, batch_size: usize, lr: f64, l2: f64) -> TrainConfig {
        TrainConfig { epochs, batch_size, lr, l2, seed: 3, progress: false, ..Default::default() }
    }

    #[test]
    fn forward_matches_hand_computation() {
        let device = Device::flex();
        let mut m = BiasedMfModule::new(2, 2, 2, 0.0, 0, &device);
        let t = |v: Vec<f32>, r: usize, c: usize| Embedding { weight: Param::from_data(TensorData::new(v, [r, c]), &device) };
        m.user = t(vec![1.0, 2.0, 0.5, -1.0], 2, 2);
        m.item = t(vec![3.0, 1.0, 0.0, 4.0], 2, 2);
        m.user_bias = t(vec![0.1, -0.2], 2, 1);
        m.item_bias = t(vec![0.3, 0.0], 2, 1);
        let out = m.forward(index_tensor(&[0, 1, 1], &device), index_tensor(&[0, 0, 1], &device));
        let v = out.into_data().try_to_vec::<f32>().unwrap();
        // (0,0): 1·3 + 2·1 + 0.1 + 0.3 = 5.4; (1,0): 1.5 − 1 − 0.2 + 0.3 = 0.6; (1,1): −4 − 0.2 = −4.2
        for (a, b) in v.iter().zip([5.4f32, 0.6, -4.2]) {
            assert!((a - b).abs() < 1e-5, "{v:?}");
        }
        let pen = m.penalty(index_tensor(&[0, 1], &device), index_tensor(&[0, 1], &device));
        // (|p0|² + |p1|² + |q0|² + |q1|² + bu0² + bu1² + bi0² + bi1²) / 2
        let expect = (5.0 + 1.25 + 10.0 + 16.0 + 0.01 + 0.04 + 0.09 + 0.0) / 2.0;
        assert!((pen.into_scalar::<f32>() - expect).abs() < 1e-4);
    }

    #[test]
    fn recovers_a_planted_low_rank_matrix_on_flex() {
        let _rng = crate::backend_rng_lock();
        let planted = planted_low_rank(120, 80, 3, 0.4, 0.1, 11);
        let split = random_split(&planted.observed, 0.2, 42).unwrap();
        let params = MfParams { dim: 8, init_std: 0.1, train: quiet(60, 128, 0.02, 0.002) };
        let model = params.fit(&split.train, &Device::flex()).unwrap();
        let mf = evaluate_ratings(&model, &split.test, None).unwrap();
        let mean = evaluate_ratings(&GlobalMeanParams.fit(&split.train).unwrap(), &split.test, None).unwrap();
        assert!(mean.rmse > 1.0, "global mean rmse {}", mean.rmse);
        assert!(mf.rmse < 0.35, "burn mf rmse {} (global mean {})", mf.rmse, mean.rmse);
        assert_eq!(model.history.len(), 60);
        assert!(model.history[59].train_loss < model.history[0].train_loss);
        // The per-epoch validation RMSE equals the evaluation of the final model.
        let with_valid = params.fit_with_valid(&split.train, Some(&split.test), &Device::flex()).unwrap();
        let last = with_valid.history.last().unwrap().valid.unwrap();
        assert!((last - mf.rmse).abs() < 1e-4, "logged {last} vs evaluated {}", mf.rmse);
        assert!(model.history.iter().all(|e| e.valid.is_none()));
    }

    #[test]
    fn unknown_pairs_fall_back_to_biases() {
        let _rng = crate::backend_rng_lock();
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        let train = Interactions::new(vec![r(0, 0, 5.0), r(0, 1, 1.0), r(1, 0, 4.0)], 3, 3).unwrap();
        let model = MfParams { dim: 2, init_std: 0.1, train: quiet(5, 2, 0.05, 0.0) }.fit(&train, &Device::flex()).unwrap();
        let bi = model.module.item_bias.weight.val().into_data().try_to_vec::<f32>().unwrap();
        let p = model.predict(2, 0); // unknown user, known item
        assert!(!p.known_user && p.known_item);
        assert!((p.rating - (model.mu() + bi[0])).abs() < 1e-6);
        let p = model.predict(7, 9); // outside the index space: μ
        assert_eq!((p.rating, p.known_user, p.known_item), (model.mu(), false, false));
        // Batch equals single.
        let pairs = [(0, 0), (2, 0), (1, 1), (0, 2)];
        let batch = model.predict_batch(&pairs);
        for (k, &(u, i)) in pairs.iter().enumerate() {
            assert_eq!(batch[k], model.predict(u, i));
        }
    }

    #[test]
    fn score_block_equals_predict_batch() {
        let _rng = crate::backend_rng_lock();
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        let train = Interactions::new(vec![r(0, 0, 5.0), r(0, 1, 1.0), r(1, 0, 4.0), r(1, 2, 2.0)], 3, 4).unwrap();
        let model = MfParams { dim: 3, init_std: 0.1, train: quiet(3, 2, 0.05, 0.0) }.fit(&train, &Device::flex()).unwrap();
        let (users, items) = ([0u32, 2, 1, 9], [3u32, 0, 2, 1, 7]);
        let block = model.score_block(&users, &items);
        for (a, &u) in users.iter().enumerate() {
            for (b, &i) in items.iter().enumerate() {
                let p = model.predict(u, i).rating;
                assert!((block[a * items.len() + b] - p).abs() < 1e-5, "({u}, {i}): {} vs {p}", block[a * items.len() + b]);
            }
        }
    }

    #[test]
    fn divergence_names_the_epoch_and_step() {
        let _rng = crate::backend_rng_lock();
        let planted = planted_low_rank(20, 20, 2, 0.5, 0.1, 1);
        let params = MfParams { dim: 4, init_std: 0.1, train: quiet(3, 8, 1e9, 0.0) };
        match params.fit(&planted.observed, &Device::flex()) {
            Err(e @ TrainError::Diverged { epoch, step, loss }) => {
                // Step 1 starts from finite weights, so its loss is finite; a later one is not.
                assert!(epoch >= 1 && step >= 2 && !loss.is_finite(), "{e}");
                assert!(e.to_string().starts_with(&format!("training diverged at epoch {epoch}, step {step}:")), "{e}");
            }
            other => panic!("expected divergence, got {:?}", other.map(|m| m.history)),
        }
    }

    #[test]
    fn early_stopping_restores_the_best_epoch() {
        let _rng = crate::backend_rng_lock();
        use crate::trainer::{EarlyStopping, Validation};
        use std::cell::Cell;
        let planted = planted_low_rank(60, 40, 2, 0.5, 0.1, 4);
        // A scripted validation metric (lower is better): best at epoch 2, then worse.
        let script = [0.9, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9];
        let calls = Cell::new(0usize);
        let v = Validation {
            name: "scripted".into(),
            higher_is_better: false,
            score: Box::new(|_| {
                calls.set(calls.get() + 1);
                script[calls.get() - 1]
            }),
        };
        let es = TrainConfig { early_stopping: Some(EarlyStopping { patience: 2, min_delta: 0.0 }), ..quiet(8, 64, 0.01, 0.0) };
        let stopped = MfParams { dim: 3, init_std: 0.1, train: es }.fit_validated(&planted.observed, Some(&v), &Device::flex()).unwrap();
        // Epoch 3 and 4 do not improve on epoch 2: training stops after epoch 4.
        assert_eq!(stopped.history.len(), 4);
        assert_eq!(stopped.best_epoch, Some(2));
        assert_eq!(stopped.history.iter().map(|e| e.valid.unwrap()).collect::<Vec<_>>(), vec![0.9, 0.8, 0.85, 0.86]);
        // The kept weights are exactly those after epoch 2 (same seed, 2 epochs, no stopping).
        let two = MfParams { dim: 3, init_std: 0.1, train: quiet(2, 64, 0.01, 0.0) }.fit(&planted.observed, &Device::flex()).unwrap();
        let pairs: Vec<(u32, u32)> = (0..10).map(|k| (k, k + 3)).collect();
        assert_eq!(stopped.predict_batch(&pairs), two.predict_batch(&pairs));
        // Early stopping without a validation is an error naming the setting.
        let e = MfParams {
            train: TrainConfig { early_stopping: Some(EarlyStopping { patience: 1, min_delta: 0.0 }), ..quiet(2, 64, 0.01, 0.0) },
            ..Default::default()
        }
        .fit(&planted.observed, &Device::flex())
        .unwrap_err();
        assert!(e.to_string().contains("`early_stopping`"), "{e}");
    }

    #[test]
    fn host_blocks_train_like_device_tensors() {
        // Lazy Adam and Adagrad on biased MF (factors and biases in one block per user): the
        // CPU backends' host blocks and the GPU backends' device tensors (forced on flex).
        use crate::sparse::{EmbeddingUpdate, RowOptimizer};
        let planted = planted_low_rank(40, 30, 2, 0.5, 0.1, 5);
        for opt in [RowOptimizer::LAZY_ADAM, RowOptimizer::ADAGRAD] {
            let p = MfParams { dim: 4, init_std: 0.1, train: TrainConfig { embedding_update: EmbeddingUpdate::Sparse(opt), ..quiet(4, 32, 0.02, 0.01) } };
            let host = p.fit(&planted.observed, &Device::flex()).unwrap();
            crate::trainer::FORCE_DEVICE_ROWS.with(|f| f.set(true));
            let device = p.fit(&planted.observed, &Device::flex()).unwrap();
            crate::trainer::FORCE_DEVICE_ROWS.with(|f| f.set(false));
            let read = |m: &BurnMf| {
                [&m.module.user, &m.module.item, &m.module.user_bias, &m.module.item_bias].map(|t| t.weight.val().into_data().try_to_vec::<f32>().unwrap())
            };
            for (a, b) in read(&host).iter().zip(&read(&device)) {
                let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
                assert!(worst <= 1e-5, "{opt:?}: largest weight difference {worst}");
            }
            assert_eq!(host.history.len(), 4);
            assert!((host.history[3].train_loss - device.history[3].train_loss).abs() < 1e-5);
        }
    }

    #[test]
    fn sparse_sgd_equals_dense_sgd_and_sparse_adam_trains() {
        let _rng = crate::backend_rng_lock();
        use crate::sparse::{EmbeddingUpdate, RowOptimizer};
        use crate::trainer::OptimizerKind;
        let planted = planted_low_rank(40, 30, 2, 0.5, 0.1, 5);
        let split = random_split(&planted.observed, 0.2, 1).unwrap();
        let sgd = |update| MfParams {
            dim: 4,
            init_std: 0.1,
            train: TrainConfig { optimizer: OptimizerKind::Sgd, embedding_update: update, ..quiet(3, 32, 0.05, 0.01) },
        };
        let dense = sgd(EmbeddingUpdate::Dense).fit(&split.train, &Device::flex()).unwrap();
        let sparse = sgd(EmbeddingUpdate::Sparse(RowOptimizer::Sgd)).fit(&split.train, &Device::flex()).unwrap();
        let read = |m: &BurnMf| {
            [&m.module.user, &m.module.item, &m.module.user_bias, &m.module.item_bias].map(|t| t.weight.val().into_data().try_to_vec::<f32>().unwrap())
        };
        let (d, s) = (read(&dense), read(&sparse));
        for (a, b) in d.iter().zip(&s) {
            let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
            assert!(worst <= 1e-6, "sparse SGD differs from dense SGD by {worst}");
        }
        assert_eq!(
            dense.history.iter().map(|e| e.train_loss as f32).collect::<Vec<_>>(),
            sparse.history.iter().map(|e| e.train_loss as f32).collect::<Vec<_>>()
        );
        // Lazy Adam: learns, and a user with no training rating keeps its initial row.
        let mut ratings: Vec<Rating> = split.train.iter().filter(|r| r.user != 7).collect();
        ratings.sort_by_key(|r| (r.user, r.item));
        let train = Interactions::new(ratings, 40, 30).unwrap();
        let p = MfParams {
            dim: 4,
            init_std: 0.1,
            train: TrainConfig { embedding_update: EmbeddingUpdate::Sparse(RowOptimizer::LAZY_ADAM), ..quiet(30, 32, 0.02, 0.01) },
        };
        let m = p.fit(&train, &Device::flex()).unwrap();
        assert!(m.history.last().unwrap().train_loss < 0.5 * m.history[0].train_loss, "{:?}", m.history);
        let init = BiasedMfModule::new(40, 30, 4, 0.1, p.train.seed, &Device::flex()).user.weight.val().into_data().try_to_vec::<f32>().unwrap();
        let user = read(&m)[0].clone();
        assert_eq!(&user[7 * 4..8 * 4], &init[7 * 4..8 * 4]);
        assert_ne!(&user[0..4], &init[0..4]);
    }

    #[test]
    fn learning_rate_schedules() {
        let _rng = crate::backend_rng_lock();
        use crate::trainer::LrSchedule;
        assert_eq!(LrSchedule::Constant.rate(0.1, 7, 10), 0.1);
        // 0.1 · 0.5² at epoch 3.
        assert!((LrSchedule::Exponential { gamma: 0.5 }.rate(0.1, 3, 10) - 0.025).abs() < 1e-12);
        // Cosine from 0.1 towards 0.02 over 4 epochs (PyTorch's CosineAnnealingLR, T_max = 4):
        // 0.1, 0.02 + 0.04(1 + cos π/4) = 0.088284, the midpoint 0.06 at epoch 3, then
        // 0.02 + 0.04(1 − cos π/4) = 0.031716 — the last epoch still learns.
        let c = LrSchedule::Cosine { min_lr: 0.02 };
        let rates: Vec<f64> = (1..=4).map(|e| c.rate(0.1, e, 4)).collect();
        for (a, b) in rates.iter().zip([0.1, 0.0882843, 0.06, 0.0317157]) {
            assert!((a - b).abs() < 1e-6, "{rates:?}");
        }
        assert_eq!(LrSchedule::Cosine { min_lr: 0.0 }.rate(0.1, 1, 1), 0.1);
        // The trainer logs the scheduled rate of every epoch.
        let planted = planted_low_rank(20, 20, 2, 0.5, 0.1, 1);
        let cfg = TrainConfig { lr_schedule: LrSchedule::Exponential { gamma: 0.5 }, ..quiet(3, 32, 0.04, 0.0) };
        let m = MfParams { dim: 2, init_std: 0.1, train: cfg }.fit(&planted.observed, &Device::flex()).unwrap();
        assert_eq!(m.history.iter().map(|e| e.lr).collect::<Vec<_>>(), vec![0.04, 0.02, 0.01]);
        // Peak memory is logged on Linux, and never decreases.
        if cfg!(target_os = "linux") {
            let peaks: Vec<f64> = m.history.iter().map(|e| e.peak_rss_mib.unwrap()).collect();
            assert!(peaks[0] > 1.0 && peaks.windows(2).all(|w| w[1] >= w[0]), "{peaks:?}");
        }
        let bad = TrainConfig { lr_schedule: LrSchedule::Cosine { min_lr: 1.0 }, ..quiet(3, 32, 0.04, 0.0) };
        let e = MfParams { train: bad, ..Default::default() }.fit(&planted.observed, &Device::flex()).unwrap_err();
        assert!(e.to_string().contains("lr_schedule.cosine.min_lr"), "{e}");
    }

    #[test]
    fn bad_settings_are_named() {
        let _rng = crate::backend_rng_lock();
        let planted = planted_low_rank(5, 5, 1, 0.5, 0.1, 1);
        let e =
            MfParams { train: TrainConfig { batch_size: 0, ..Default::default() }, ..Default::default() }.fit(&planted.observed, &Device::flex()).unwrap_err();
        assert_eq!(e.to_string(), "invalid setting `batch_size` = 0: expected >= 1");
    }
}
