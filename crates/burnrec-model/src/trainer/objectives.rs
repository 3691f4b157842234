//! The objectives — MSE, BCE with sampled negatives, BPR, sampled softmax — each a function
//! over the one loop, with their batchers and losses.

use super::*;

/// Trains `model` (whose parameters live on an autodiff device) on `train` to predict
/// `r − mu` (mean squared error plus the L2 penalty), measuring `metric` after every epoch
/// when given (for learning curves and early stopping).
///
/// # Errors
/// [`TrainError::Param`] (including early stopping without a metric),
/// [`TrainError::EmptyTrainSet`], [`TrainError::Diverged`] (naming the epoch and step), or
/// [`TrainError::Backend`] if reading the loss back fails.
pub fn train_explicit<M: RatingModule>(
    model: M,
    train: &Interactions,
    mu: f32,
    cfg: &TrainConfig,
    device: &Device,
    metric: Option<ModuleMetric<'_, M>>,
) -> Result<Trained<M>, TrainError> {
    let batcher = ExplicitBatcher { offset: mu, features: Features::default() };
    fit_loop(
        model,
        train,
        cfg,
        cfg.batch_size,
        1,
        &|batch: Vec<Rating>| batch,
        device,
        |_| {},
        |model: &M, batch: Vec<Rating>, device: &Device| {
            let b = batcher.batch(batch, device);
            let n = b.targets.dims()[0];
            let pred = model.forward(b.users.clone(), b.items.clone());
            let se = (pred - b.targets).square().sum();
            let loss = se.clone().div_scalar(n as f64) + model.penalty(b.users, b.items).mul_scalar(cfg.l2);
            (loss, se, n)
        },
        metric,
    )
}

/// Trains `model` (parameters on an autodiff device) to output logits of "user interacts with
/// item" on the implicit feedback `train` (every stored pair is a positive; values are
/// ignored): each positive comes with `negatives` items drawn uniformly among those the user
/// has no training interaction with (fresh draws every epoch, seeded by `cfg.seed`);
/// `cfg.batch_size` counts samples (a step takes `batch_size / (1 + negatives)` positives with
/// their negatives); the
/// loss is the binary cross-entropy `−[y ln σ(x) + (1 − y) ln σ(−x)]` averaged over the
/// batch's samples, computed with log-sigmoid (finite for any logit), plus the L2 penalty.
/// `EpochLog::train_loss` is that BCE; `EpochLog::valid` is `metric` when given.
///
/// # Errors
/// As [`train_explicit`]; also [`TrainError::Param`] if `negatives` is 0.
pub fn train_pointwise<M: RatingModule>(
    model: M,
    train: &Interactions,
    negatives: usize,
    cfg: &TrainConfig,
    device: &Device,
    metric: Option<ModuleMetric<'_, M>>,
) -> Result<Trained<M>, TrainError> {
    let (batcher, positives) = sampled_batcher(train, negatives, cfg)?;
    // The negatives are drawn before the step (`expand`), so the samples can be remapped to
    // the batch's rows for row-sparse updates; the labels travel in `Rating::rating`.
    let expand = |batch: Vec<Rating>| batcher.expand(&batch);
    fit_loop(
        model,
        train,
        cfg,
        positives,
        1 + negatives,
        &expand,
        device,
        |epoch| batcher.set_epoch(epoch as u64),
        |model: &M, samples: Vec<Rating>, device: &Device| {
            let n = samples.len();
            let (users, items) = sample_ids(&samples, device);
            let labels: Vec<f32> = samples.iter().map(|r| r.rating).collect();
            let labels = Tensor::<1>::from_data(burn::tensor::TensorData::new(labels, [n]), device);
            let logits = model.forward(users.clone(), items.clone());
            let bce = bce_with_logits(logits, labels).sum();
            let loss = bce.clone().div_scalar(n as f64) + model.penalty(users, items).mul_scalar(cfg.l2);
            (loss, bce, n)
        },
        metric,
    )
}

/// Trains `model` on the implicit feedback `train` with the BPR objective (Rendle,
/// Freudenthaler, Gantner & Schmidt-Thieme, "BPR: Bayesian Personalized Ranking from Implicit
/// Feedback", UAI 2009): for each positive `(u, i)` one item `j` drawn uniformly among those
/// `u` has no training interaction with (fresh every epoch, seeded), and the loss
/// `−ln σ(x_ui − x_uj)` through log-sigmoid, averaged over the batch's triples, plus the L2
/// penalty on both items' rows. `cfg.batch_size` counts triples. `EpochLog::train_loss` is
/// that BPR loss.
///
/// # Errors
/// As [`train_explicit`].
pub fn train_pairwise<M: RatingModule>(
    model: M,
    train: &Interactions,
    cfg: &TrainConfig,
    device: &Device,
    metric: Option<ModuleMetric<'_, M>>,
) -> Result<Trained<M>, TrainError> {
    let sampler = Arc::new(NegativeSampler::among_positive_items(train));
    let batcher = PairwiseBatcher::new(sampler, cfg.seed.wrapping_add(1));
    // The negatives are drawn before the step (`expand`: positive, negative, positive, …), so
    // the samples can be remapped to the batch's rows for row-sparse updates.
    let expand = |batch: Vec<Rating>| batcher.expand(&batch);
    fit_loop(
        model,
        train,
        cfg,
        cfg.batch_size,
        2,
        &expand,
        device,
        |epoch| batcher.set_epoch(epoch as u64),
        |model: &M, samples: Vec<Rating>, device: &Device| {
            let n = samples.len() / 2;
            let (users, items) = sample_ids(&samples, device);
            // One forward over both halves: row k of `[n, 2]` is (x_ui, x_uj) of triple k.
            let scores = model.forward(users.clone(), items.clone()).reshape([n, 2]);
            let diff = (scores.clone().narrow(1, 0, 1) - scores.narrow(1, 1, 1)).reshape([n]);
            let bpr = bpr_loss(diff).sum();
            // `penalty` averages over its 2n samples; the objective's is per triple (the user's
            // row counted for both of its items).
            let penalty = model.penalty(users, items).mul_scalar(2.0);
            let loss = bpr.clone().div_scalar(n.max(1) as f64) + penalty.mul_scalar(cfg.l2);
            (loss, bpr, n)
        },
        metric,
    )
}

/// Trains `model` on the implicit feedback `train` with the sampled softmax objective (Bengio &
/// Senécal, "Adaptive Importance Sampling to Accelerate Training of a Neural Probabilistic
/// Language Model", IEEE TNN 2008; for recommendation Covington, Adams & Sargin, "Deep Neural
/// Networks for YouTube Recommendations", RecSys 2016): each positive `(u, i)` comes with
/// `negatives` items `j_1 … j_K` drawn uniformly among those `u` has no training interaction
/// with (fresh every epoch, seeded), and the loss is the cross-entropy of the positive among
/// its `1 + K` candidates, `−x_ui + ln(e^{x_ui} + Σ_k e^{x_uj_k})`, through log-softmax (finite
/// for any logits), averaged over the batch's positives, plus the L2 penalty. Uniform
/// sampling needs no log-Q correction (it shifts every logit by the same constant).
/// `cfg.batch_size` counts samples as in [`train_pointwise`] (negatives are drawn with
/// replacement, so a user with one non-interacted item gets it `K` times; a positive whose user
/// has none is skipped). `EpochLog::train_loss` is that cross-entropy (nats per positive).
///
/// # Errors
/// As [`train_explicit`]; also [`TrainError::Param`] if `negatives` is 0.
pub fn train_softmax<M: RatingModule>(
    model: M,
    train: &Interactions,
    negatives: usize,
    cfg: &TrainConfig,
    device: &Device,
    metric: Option<ModuleMetric<'_, M>>,
) -> Result<Trained<M>, TrainError> {
    let (batcher, positives) = sampled_batcher(train, negatives, cfg)?;
    let group = 1 + negatives;
    // Positive then its negatives, as `train_pointwise`; only complete groups are kept so that
    // the samples reshape to `[positives, 1 + K]`.
    let expand = |batch: Vec<Rating>| complete_groups(batcher.expand(&batch), group);
    fit_loop(
        model,
        train,
        cfg,
        positives,
        group,
        &expand,
        device,
        |epoch| batcher.set_epoch(epoch as u64),
        |model: &M, samples: Vec<Rating>, device: &Device| {
            let n = samples.len() / group;
            let (users, items) = sample_ids(&samples, device);
            let logits = model.forward(users.clone(), items.clone()).reshape([n, group]);
            let ce = sampled_softmax_loss(logits).sum();
            // `penalty` averages over the `n (1 + K)` samples; the objective's is per positive.
            let penalty = model.penalty(users, items).mul_scalar(group as f64);
            let loss = ce.clone().div_scalar(n.max(1) as f64) + penalty.mul_scalar(cfg.l2);
            (loss, ce, n)
        },
        metric,
    )
}

/// The batcher that draws `negatives` seeded uniform negatives per positive of `train` (for
/// [`train_pointwise`] and [`train_softmax`]) and the positives a step takes: `batch_size`
/// counts samples, positives and negatives together (the paper's and the peers' convention),
/// so 256 samples with 4 negatives are 51 positives per step.
pub(super) fn sampled_batcher(train: &Interactions, negatives: usize, cfg: &TrainConfig) -> Result<(PointwiseBatcher, usize), TrainError> {
    if negatives == 0 {
        return Err(TrainError::Param { name: "negatives", value: "0".into(), expected: ">= 1" });
    }
    let sampler = Arc::new(NegativeSampler::among_positive_items(train));
    let batcher = PointwiseBatcher::new(sampler, negatives, cfg.seed.wrapping_add(1));
    Ok((batcher, (cfg.batch_size / (1 + negatives)).max(1)))
}

/// The samples of [`PointwiseBatcher::expand`] (each positive, label 1, followed by its
/// negatives, label 0) without the positives that have fewer than `group − 1` negatives (the
/// sampler draws with replacement, so that happens only to a user with no non-interacted item
/// at all, who gets none), so that they form `len / group` complete groups.
pub(super) fn complete_groups(samples: Vec<Rating>, group: usize) -> Vec<Rating> {
    let mut out = Vec::with_capacity(samples.len());
    let mut start = 0;
    while start < samples.len() {
        let end = samples[start + 1..].iter().position(|r| r.rating > 0.5).map_or(samples.len(), |k| start + 1 + k);
        if end - start == group {
            out.extend_from_slice(&samples[start..end]);
        }
        start = end;
    }
    out
}

/// The `[n]` user and `[n]` item index tensors of `n` samples, on `device`.
pub(super) fn sample_ids(samples: &[Rating], device: &Device) -> (Tensor<1, Int>, Tensor<1, Int>) {
    let users: Vec<u32> = samples.iter().map(|r| r.user).collect();
    let items: Vec<u32> = samples.iter().map(|r| r.item).collect();
    (index_tensor(&users, device), index_tensor(&items, device))
}

/// Objective of an implicit-feedback Burn model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImplicitObjective {
    /// Pointwise binary cross-entropy with `negatives` sampled negatives per positive (the NCF
    /// paper's; [`train_pointwise`]).
    #[default]
    Bce,
    /// Pairwise BPR with one sampled negative per positive ([`train_pairwise`]).
    Bpr,
    /// Sampled softmax: the positive's cross-entropy among itself and `negatives` sampled
    /// negatives ([`train_softmax`]).
    Softmax,
}

/// [`train_pointwise`] (with `negatives` per positive), [`train_pairwise`] or [`train_softmax`]
/// (with `negatives` per positive), by `objective`.
///
/// # Errors
/// As those.
#[allow(clippy::too_many_arguments)]
pub fn train_implicit<M: RatingModule>(
    objective: ImplicitObjective,
    negatives: usize,
    model: M,
    train: &Interactions,
    cfg: &TrainConfig,
    device: &Device,
    metric: Option<ModuleMetric<'_, M>>,
) -> Result<Trained<M>, TrainError> {
    match objective {
        ImplicitObjective::Bce => train_pointwise(model, train, negatives, cfg, device, metric),
        ImplicitObjective::Bpr => train_pairwise(model, train, cfg, device, metric),
        ImplicitObjective::Softmax => train_softmax(model, train, negatives, cfg, device, metric),
    }
}

/// Element-wise BPR loss of score differences `x_ui − x_uj`: `−ln σ(d)`, through log-sigmoid
/// (finite for any difference). `[n]` → `[n]`, nats.
pub fn bpr_loss(diff: Tensor<1>) -> Tensor<1> {
    -log_sigmoid(diff)
}

/// Row-wise sampled softmax cross-entropy (Bengio & Senécal 2008; Covington et al. 2016):
/// `logits` `[n, 1 + K]` holds in each row the positive's logit (column 0) and its `K`
/// negatives'; returns `[n]`, the positive's `−x_0 + ln Σ_k e^{x_k}` in nats, through
/// log-softmax (finite for any logits).
pub fn sampled_softmax_loss(logits: Tensor<2>) -> Tensor<1> {
    let n = logits.dims()[0];
    -log_softmax(logits, 1).narrow(1, 0, 1).reshape([n])
}

/// Element-wise binary cross-entropy of `logits` against 0/1 `labels`:
/// `−[y ln σ(x) + (1 − y) ln σ(−x)]`, through log-sigmoid (never `ln(σ(x))`), so a logit of
/// ±1000 gives a finite loss. `[n]` → `[n]`, nats.
pub fn bce_with_logits(logits: Tensor<1>, labels: Tensor<1>) -> Tensor<1> {
    let pos = log_sigmoid(logits.clone());
    let neg = log_sigmoid(logits.neg());
    let ones = labels.ones_like();
    -(labels.clone() * pos + (ones - labels) * neg)
}
