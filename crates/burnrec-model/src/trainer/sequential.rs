//! Next-item objectives of the sequential models (SASRec, and the sequential models that
//! follow it) over the one loop: a training unit is a user, whose latest `max_len + 1` items
//! give `max_len` next-item targets ([`SequenceBatcher`]); every position with a target adds
//! one term to the loss.

use burnrec_data::sequence::{SequenceBatch, UserSequences};

use super::*;

/// A Burn module that reads a user's ordered history: the sequential models.
pub trait SequenceModule: RatingModule {
    /// `[b, L]` item ids, 1-based (0 = padding, left-padded) → `[b, L, d]` hidden states, the
    /// state at each position a function of the items up to it (causal models) or of the
    /// whole row (bidirectional ones), zero at padded positions.
    fn encode(&self, inputs: Tensor<2, Int>) -> Tensor<3>;

    /// `[n_items, d]` output embeddings: the logit of item `i` after hidden state `h` is
    /// `h · out[i]`.
    fn output_items(&self) -> Tensor<2>;
}

/// The loss of a next-item target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SequentialLoss {
    /// Full-softmax cross-entropy over the whole catalogue (RecBole's default for SASRec).
    #[default]
    Ce,
    /// Binary cross-entropy of the target against `negatives` sampled negatives (SASRec's
    /// original, with one negative).
    Bce,
    /// Sampled softmax: the target's cross-entropy among itself and `negatives` sampled
    /// negatives (Covington et al. 2016).
    SampledSoftmax,
    /// Generalised BCE (Petrov & Macdonald, "gSASRec: Reducing Overconfidence in Sequential
    /// Recommendation Trained with Negative Sampling", RecSys 2023): BCE with the positive's
    /// term weighted by `β = α(t(1 − 1/α) + 1/α)`, `α = negatives / (n_items − 1)` the
    /// sampling rate and `t` the calibration parameter (`t = 0`: plain BCE, `β = 1`; `t = 1`:
    /// `β = α`, the most calibrated).
    Gbce,
}

impl SequentialLoss {
    /// Whether the loss draws negatives.
    pub fn samples(self) -> bool {
        self != SequentialLoss::Ce
    }
}

/// gSASRec's positive weight `β = α(t(1 − 1/α) + 1/α)` for `negatives` per target among
/// `n_items` items, `α = negatives / (n_items − 1)` (capped at 1).
pub fn gbce_beta(negatives: usize, n_items: usize, t: f64) -> f64 {
    let alpha = (negatives as f64 / (n_items.max(2) - 1) as f64).min(1.0);
    alpha * (t * (1.0 - 1.0 / alpha) + 1.0 / alpha)
}

/// The summed loss `[1]` (nats) of hidden states `h` `[n, d]` against `targets` `[n]` (0-based
/// items), weighted by `weights` `[n]` (0 for positions without a target), with `negatives`
/// `[n, K]` (needed by every loss but [`SequentialLoss::Ce`]) and the output table `out`
/// `[n_items, d]`; `beta` weights the positive term of [`SequentialLoss::Gbce`].
///
/// # Panics
/// If a sampling loss gets no negatives (the batcher draws them for every such loss).
pub fn sequence_loss(
    loss: SequentialLoss,
    h: Tensor<2>,
    out: Tensor<2>,
    targets: Tensor<1, Int>,
    negatives: Option<Tensor<2, Int>>,
    weights: Tensor<1>,
    beta: f64,
) -> Tensor<1> {
    let [n, d] = h.dims();
    let per_position = match loss {
        SequentialLoss::Ce => {
            let logits = h.matmul(out.transpose());
            -log_softmax(logits, 1).gather(1, targets.reshape([n, 1])).reshape([n])
        }
        _ => {
            let negatives = negatives.expect("sampling losses come with negatives");
            let k = negatives.dims()[1];
            let pos_e = out.clone().select(0, targets);
            let pos = (h.clone() * pos_e).sum_dim(1); // [n, 1]
            let neg_e = out.select(0, negatives.reshape([n * k])).reshape([n, k, d]);
            let neg = (h.unsqueeze_dim::<3>(1) * neg_e).sum_dim(2).reshape([n, k]);
            match loss {
                SequentialLoss::SampledSoftmax => sampled_softmax_loss(Tensor::cat(vec![pos, neg], 1)),
                _ => {
                    let b = if loss == SequentialLoss::Gbce { beta } else { 1.0 };
                    let pos_term = -log_sigmoid(pos.reshape([n])).mul_scalar(b);
                    let neg_term = -log_sigmoid(neg.neg()).sum_dim(1).reshape([n]);
                    pos_term + neg_term
                }
            }
        }
    };
    (per_position * weights).sum()
}

/// What [`train_sequential`] trains with.
#[derive(Clone, Copy, Debug)]
pub struct SequenceObjective {
    /// The loss.
    pub loss: SequentialLoss,
    /// Negatives per target (sampling losses).
    pub negatives: usize,
    /// Positions per training sequence.
    pub max_len: usize,
    /// gBCE's calibration `t` in `[0, 1]`.
    pub gbce_t: f64,
}

/// Trains the sequential `model` (parameters on an autodiff device) to predict each user's
/// next item from the items before it: the units of the loop are the users of `seqs` with at
/// least 2 items (`cfg.batch_size` users a step, in a seeded shuffled order), each giving up
/// to `max_len` targets ([`burnrec_data::sequence::SequenceBatcher`]); negatives come from the
/// items of `train` (the same interactions as `seqs`) that the user never interacted with,
/// drawn afresh every epoch (seeded). The loss per target is [`sequence_loss`], averaged
/// over the step's targets, plus `cfg.l2 ×` the mean squared norm of the targets' output
/// rows. `EpochLog::train_loss` is the loss per target (nats).
///
/// # Errors
/// [`TrainError::EmptyTrainSet`] if no user has 2 items; [`TrainError::Param`] for a
/// sampling loss with 0 negatives or `max_len` 0; as [`train_explicit`].
pub fn train_sequential<M: SequenceModule>(
    model: M,
    train: &Interactions,
    seqs: &UserSequences,
    objective: SequenceObjective,
    cfg: &TrainConfig,
    device: &Device,
    metric: Option<ModuleMetric<'_, M>>,
) -> Result<Trained<M>, TrainError> {
    use burnrec_data::sequence::SequenceBatcher;
    if objective.loss.samples() && objective.negatives == 0 {
        return Err(TrainError::Param { name: "negatives", value: "0".into(), expected: ">= 1 for the sampling losses (bce, sampled_softmax, gbce)" });
    }
    if objective.max_len == 0 {
        return Err(TrainError::Param { name: "max_len", value: "0".into(), expected: ">= 1" });
    }
    // One unit per user with a next item to predict.
    let units: Vec<Rating> = seqs.trainable_users().into_iter().map(|user| Rating { user, item: 0, rating: 1.0, timestamp: None }).collect();
    let units = Interactions::new(units, seqs.n_users(), seqs.n_items().max(1)).map_err(|e| TrainError::Backend(e.to_string()))?;
    let n_neg = if objective.loss.samples() { objective.negatives } else { 0 };
    let batcher = SequenceBatcher::new(
        Arc::new(seqs.clone()),
        Arc::new(NegativeSampler::among_positive_items(train)),
        objective.max_len,
        n_neg,
        cfg.seed.wrapping_add(1),
    );
    let beta = gbce_beta(objective.negatives, train.item_counts().iter().filter(|&&c| c > 0).count(), objective.gbce_t);
    fit_loop(
        model,
        &units,
        cfg,
        cfg.batch_size,
        1,
        &|batch: Vec<Rating>| batch,
        device,
        |epoch| batcher.set_epoch(epoch as u64),
        |model: &M, units: Vec<Rating>, device: &Device| {
            let b: SequenceBatch = batcher.batch(units.iter().map(|r| r.user).collect(), device);
            let [rows, l] = b.inputs.dims();
            let n = rows * l;
            let h = model.encode(b.inputs);
            let d = h.dims()[2];
            let out = model.output_items();
            let targets = b.targets.reshape([n]);
            let weights = b.weights.reshape([n]);
            let negatives = b.negatives.map(|t| t.reshape([n, n_neg]));
            let summed = sequence_loss(objective.loss, h.reshape([n, d]), out.clone(), targets.clone(), negatives, weights.clone(), beta);
            let k = b.n_targets.max(1);
            let mut loss = summed.clone().div_scalar(k as f64);
            if cfg.l2 > 0.0 {
                let sq = (out.select(0, targets).square().sum_dim(1).reshape([n]) * weights).sum();
                loss = loss + sq.div_scalar(k as f64).mul_scalar(cfg.l2);
            }
            (loss, summed, b.n_targets)
        },
        metric,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_losses_are_the_hand_computed_values() {
        let device = Device::flex();
        // Two positions, d = 2, three items; the second position has no target (weight 0).
        let h = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 0.0, 0.5, 0.5], [2, 2]), &device);
        let out = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 0.0, 0.0, 1.0, -1.0, 0.0], [3, 2]), &device);
        let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1], [2]), &device);
        let negatives = Tensor::<2, Int>::from_data(TensorData::new(vec![2i64, 1, 2, 2], [2, 2]), &device);
        let weights = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 0.0], [2]), &device);
        let value = |loss, beta| {
            sequence_loss(loss, h.clone(), out.clone(), targets.clone(), Some(negatives.clone()), weights.clone(), beta)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()[0] as f64
        };
        // Position 0: logits of items 0, 1, 2 are 1, 0, −1; the target is item 0.
        let lse = (1f64.exp() + 1.0 + (-1f64).exp()).ln();
        assert!((value(SequentialLoss::Ce, 1.0) - (lse - 1.0)).abs() < 1e-6);
        // Negatives 2 (logit −1) and 1 (logit 0).
        let softplus = |x: f64| (1.0 + x.exp()).ln();
        let bce = softplus(-1.0) + softplus(-1.0) + softplus(0.0);
        assert!((value(SequentialLoss::Bce, 1.0) - bce).abs() < 1e-6);
        assert!((value(SequentialLoss::Gbce, 0.5) - (0.5 * softplus(-1.0) + softplus(-1.0) + softplus(0.0))).abs() < 1e-6);
        let ss = (1f64.exp() + (-1f64).exp() + 1.0).ln() - 1.0;
        assert!((value(SequentialLoss::SampledSoftmax, 1.0) - ss).abs() < 1e-6);
        // gSASRec's β: t = 0 → 1 (plain BCE), t = 1 → α, the sampling rate.
        assert!((gbce_beta(1, 101, 0.0) - 1.0).abs() < 1e-12);
        assert!((gbce_beta(1, 101, 1.0) - 0.01).abs() < 1e-12);
        assert!((gbce_beta(256, 3417, 0.75) - (256.0 / 3416.0 * (0.75 * (1.0 - 3416.0 / 256.0) + 3416.0 / 256.0))).abs() < 1e-12);
    }
}
