//! What the sequential models (SASRec, GRU4Rec) share once trained: [`Sequential`], the
//! model that scores each user from the network's state after their history, and
//! [`fit_sequential`], which trains any [`SequenceNet`] through the one trainer.
//!
//! A trained sequential model is a dot-product model: the state `h_u` after a user's latest
//! known item is computed once, and `score(u, i) = h_u · e_i` with the output item
//! embeddings — so it serves as fast as MF (`dot_factors`). A history given at serving time
//! ([`RatingPredictor::history_scores`]) goes through the network **in order**, oldest first.

use burn::tensor::{Device, Int, Tensor, TensorData};
use burnrec_data::sequence::{UserSequences, padded_row};
use burnrec_data::{DotFactors, Feedback, Interactions, KnownSet, Prediction, RatingPredictor};

use crate::trainer::{EpochLog, ModuleMetric, SequenceModule, SequenceObjective, TrainConfig, TrainError, Validation, train_sequential};

/// A sequential network: a [`SequenceModule`] built from its settings, holding every user's
/// stored sequence (`[n_users, max_len]`, 1-based, left-padded) to score users from.
pub trait SequenceNet: SequenceModule + std::fmt::Debug {
    /// Its settings.
    type Params: SequenceParams;

    /// A network for `n_items` items and the users of `seqs`, initialised from the settings'
    /// seed, on `device`.
    fn build(n_items: usize, seqs: &UserSequences, params: &Self::Params, device: &Device) -> Self;

    /// `[n_users, max_len]` the stored sequences.
    fn stored(&self) -> Tensor<2, Int>;

    /// Replaces the stored sequences.
    fn set_stored(&mut self, sequences: Tensor<2, Int>);

    /// `[n, L]` sequences → `[n, d]` the state after each row's latest item (last column).
    fn last_states(&self, inputs: Tensor<2, Int>) -> Tensor<2> {
        let [n, l] = inputs.dims();
        let h = self.encode(inputs);
        let d = h.dims()[2];
        h.narrow(1, l - 1, 1).reshape([n, d])
    }
}

/// The settings every sequential model has.
pub trait SequenceParams: Clone + std::fmt::Debug + PartialEq {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`TrainError::Param`] naming the first setting out of range.
    fn check(&self) -> Result<(), TrainError>;
    /// Latest items a sequence keeps.
    fn max_len(&self) -> usize;
    /// Width of the output item embeddings (and of the user states).
    fn dim(&self) -> usize;
    /// The next-item objective.
    fn objective(&self) -> SequenceObjective;
    /// Optimisation settings.
    fn train_config(&self) -> &TrainConfig;
}

/// The checks every sequential model's settings share: `max_len` in 1..=4096, `dropout` in
/// `[0, 1)`, a sampling loss with at least one negative, gBCE's `t` in `[0, 1]`, a positive
/// finite `init_std`.
///
/// # Errors
/// [`TrainError::Param`] naming the first setting out of range.
pub(crate) fn check_common(max_len: usize, dropout: f64, objective: SequenceObjective, init_std: f32) -> Result<(), TrainError> {
    let bad = |name, value: String, expected| Err(TrainError::Param { name, value, expected });
    if max_len == 0 || max_len > 4096 {
        return bad("max_len", max_len.to_string(), "1 to 4096");
    }
    if !(dropout.is_finite() && (0.0..1.0).contains(&dropout)) {
        return bad("dropout", dropout.to_string(), "in [0, 1)");
    }
    if objective.loss.samples() && objective.negatives == 0 {
        return bad("negatives", "0".into(), ">= 1 for the sampling losses (bce, sampled_softmax, gbce)");
    }
    if !(objective.gbce_t.is_finite() && (0.0..=1.0).contains(&objective.gbce_t)) {
        return bad("gbce_t", objective.gbce_t.to_string(), "in [0, 1]");
    }
    if !(init_std.is_finite() && init_std > 0.0) {
        return bad("init_std", init_std.to_string(), "> 0 and finite");
    }
    Ok(())
}

/// A sequential model's settings type `$params` (with an inherent `check`, `max_len`,
/// `loss`, `negatives`, `gbce_t` and `train` fields, and its output width in `$dim`): its
/// [`SequenceParams`] and its `fit`, training network `$net` into model `$model`.
macro_rules! sequence_params {
    ($params:ty, $net:ty, $model:ty, $dim:ident) => {
        impl $params {
            /// Trains on `train` in the order of `seqs` (each user's known history, oldest
            /// first): [`fit_sequential`](crate::sequential::fit_sequential), which says what is
            /// trained on and what is served from.
            ///
            /// # Errors
            /// As [`fit_sequential`](crate::sequential::fit_sequential).
            pub fn fit(
                &self,
                train: &burnrec_data::Interactions,
                seqs: &burnrec_data::sequence::UserSequences,
                validation: Option<&crate::trainer::Validation<'_>>,
                device: &burn::tensor::Device,
            ) -> Result<$model, crate::trainer::TrainError> {
                crate::sequential::fit_sequential::<$net>(self, train, seqs, validation, device)
            }
        }

        impl crate::sequential::SequenceParams for $params {
            fn check(&self) -> Result<(), crate::trainer::TrainError> {
                <$params>::check(self)
            }

            fn max_len(&self) -> usize {
                self.max_len
            }

            fn dim(&self) -> usize {
                self.$dim
            }

            fn objective(&self) -> crate::trainer::SequenceObjective {
                crate::trainer::SequenceObjective { loss: self.loss, negatives: self.negatives, max_len: self.max_len, gbce_t: self.gbce_t }
            }

            fn train_config(&self) -> &crate::trainer::TrainConfig {
                &self.train
            }
        }
    };
}
pub(crate) use sequence_params;

/// A sequential network `$net` (with an `item` table, a `sequences` field and
/// `new(n_items, seqs, params, device)`) as a [`crate::RatingModule`] and a [`SequenceNet`]
/// with settings `$params`.
macro_rules! sequence_net {
    ($net:ty, $params:ty) => {
        impl crate::trainer::RatingModule for $net {
            /// `h_last(sequence of u) · e_i`: the user's stored sequence through the network.
            fn forward(&self, users: Tensor<1, Int>, items: Tensor<1, Int>) -> Tensor<1> {
                crate::sequential::forward_stored(self, users, items)
            }

            /// Mean squared norm of the items' output rows.
            fn penalty(&self, _users: Tensor<1, Int>, items: Tensor<1, Int>) -> Tensor<1> {
                crate::sequential::output_penalty(self, items)
            }
        }

        impl crate::sequential::SequenceNet for $net {
            type Params = $params;

            fn build(n_items: usize, seqs: &UserSequences, params: &$params, device: &Device) -> Self {
                Self::new(n_items, seqs, params, device)
            }

            fn stored(&self) -> Tensor<2, Int> {
                self.sequences.clone()
            }

            fn set_stored(&mut self, sequences: Tensor<2, Int>) {
                self.sequences = sequences;
            }
        }
    };
}
pub(crate) use sequence_net;

/// Rows `1..` of a table whose row 0 is padding and row `i + 1` item `i`: the `[n_items, d]`
/// output embeddings of a model that shares its input table.
pub(crate) fn shared_output(table: &burn::nn::Embedding) -> Tensor<2> {
    let [rows, _] = table.weight.dims();
    table.weight.val().narrow(0, 1, rows - 1)
}

/// The `[n_users, max_len]` tensor of `seqs` (each row [`padded_row`]).
pub(crate) fn sequence_tensor(seqs: &UserSequences, max_len: usize, device: &Device) -> Tensor<2, Int> {
    let n = seqs.n_users();
    let v: Vec<i64> = (0..n as u32).flat_map(|u| padded_row(seqs.of(u), max_len)).collect();
    Tensor::from_data(TensorData::new(v, [n, max_len]), device)
}

/// [`crate::RatingModule::forward`] of a sequential network: `h_last(stored sequence of u) · e_i`.
pub(crate) fn forward_stored<M: SequenceNet>(m: &M, users: Tensor<1, Int>, items: Tensor<1, Int>) -> Tensor<1> {
    let n = users.dims()[0];
    let h = m.last_states(m.stored().select(0, users));
    let e = m.output_items().select(0, items);
    (h * e).sum_dim(1).reshape([n])
}

/// [`crate::RatingModule::penalty`] of a sequential network: the mean squared norm of the
/// items' output rows.
pub(crate) fn output_penalty<M: SequenceNet>(m: &M, items: Tensor<1, Int>) -> Tensor<1> {
    let n = items.dims()[0].max(1);
    m.output_items().select(0, items).square().sum().div_scalar(n as f64)
}

/// A trained sequential model, ready to score on its device. Scores are logits
/// ([`Feedback::Implicit`]): `h_u · e_i`; a user or item without training interactions is
/// scored by item popularity, flagged unknown.
#[derive(Debug)]
pub struct Sequential<M: SequenceNet> {
    pub(crate) module: M,
    pub(crate) params: M::Params,
    pub(crate) sequences: UserSequences,
    pub(crate) known: KnownSet,
    pub(crate) popularity: Vec<f32>,
    pub(crate) factors: DotFactors,
    pub(crate) device: Device,
    /// One entry per training epoch (`train_loss` per target, nats).
    pub history: Vec<EpochLog>,
    /// The epoch whose weights were kept, when early stopping ran.
    pub best_epoch: Option<usize>,
}

/// What a [`Sequential`] keeps beside its network.
#[derive(Clone, Debug)]
pub(crate) struct SequenceState {
    pub(crate) sequences: UserSequences,
    pub(crate) known: KnownSet,
    pub(crate) popularity: Vec<f32>,
}

/// `Σ a_k b_k`, summed in one fixed order (so a block and a single pair agree bit for bit;
/// burnrec-classic's SIMD `dot` is a dev-dependency of this crate only).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Users scored per forward pass when the user states are computed.
const STATE_BLOCK: usize = 512;

impl<M: SequenceNet> Sequential<M> {
    /// The model over `module` (in evaluation mode, on `device`): computes every user's state
    /// from the stored sequences.
    pub(crate) fn new(module: M, params: M::Params, state: SequenceState, device: Device, history: Vec<EpochLog>, best_epoch: Option<usize>) -> Self {
        let n_users = state.sequences.n_users();
        let d = params.dim();
        let mut users = Vec::with_capacity(n_users * d);
        let all: Vec<u32> = (0..n_users as u32).collect();
        for block in all.chunks(STATE_BLOCK) {
            let idx = burnrec_data::batch::index_tensor(block, &device);
            let h = module.last_states(module.stored().select(0, idx));
            users.extend(h.into_data().try_to_vec::<f32>().expect("float tensor reads back as f32"));
        }
        let items = module.output_items().into_data().try_to_vec::<f32>().expect("float tensor reads back as f32");
        let factors = DotFactors { dim: d, factor_dim: d, users, items, user_offset: vec![0.0; n_users], new_user_offset: 0.0 };
        let SequenceState { sequences, known, popularity } = state;
        Self { module, params, sequences, known, popularity, factors, device, history, best_epoch }
    }

    /// The trained network.
    pub fn module(&self) -> &M {
        &self.module
    }

    /// The settings it was trained with.
    pub fn params(&self) -> &M::Params {
        &self.params
    }

    /// Every user's stored history (their latest `max_len` known items, oldest first).
    pub fn sequences(&self) -> &UserSequences {
        &self.sequences
    }

    fn score(&self, user: u32, item: u32) -> Prediction {
        let (known_user, known_item) = (self.known.user(user), self.known.item(item));
        let rating = if known_user && known_item {
            let d = self.factors.dim;
            let (u, i) = (user as usize * d, item as usize * d);
            dot(&self.factors.users[u..u + d], &self.factors.items[i..i + d])
        } else {
            self.popularity.get(item as usize).copied().unwrap_or(0.0)
        };
        Prediction { rating, known_user, known_item }
    }
}

impl<M: SequenceNet> RatingPredictor for Sequential<M> {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        pairs.iter().map(|&(u, i)| self.score(u, i)).collect()
    }

    fn score_block(&self, users: &[u32], items: &[u32]) -> Vec<f32> {
        users.iter().flat_map(|&u| items.iter().map(move |&i| self.score(u, i).rating)).collect()
    }

    fn feedback(&self) -> Feedback {
        Feedback::Implicit
    }

    /// `h_u · e_i`: user factors are the states after each user's latest item.
    fn dot_factors(&self) -> Option<DotFactors> {
        Some(self.factors.clone())
    }

    /// The ordered `history` (oldest first; its latest `max_len` items) through the network:
    /// `h · e_i` for every item (popularity for items without training interactions).
    fn history_scores(&self, history: &[u32]) -> Option<Vec<f32>> {
        let n_items = self.popularity.len();
        let max_len = self.params.max_len();
        let row: Vec<u32> = history.iter().copied().filter(|&i| (i as usize) < n_items).collect();
        let inputs = Tensor::<2, Int>::from_data(TensorData::new(padded_row(&row, max_len), [1, max_len]), &self.device);
        let h = self.module.last_states(inputs).into_data().try_to_vec::<f32>().expect("float tensor reads back as f32");
        let d = self.factors.dim;
        Some((0..n_items).map(|i| if self.known.item(i as u32) { dot(&h, &self.factors.items[i * d..(i + 1) * d]) } else { self.popularity[i] }).collect())
    }
}

/// Trains the sequential network `M` with `params` on the implicit feedback `train` (every
/// stored pair is a positive) in the order of `seqs` — each user's known history, oldest
/// first ([`UserSequences::from_interactions`]): the training interactions, and possibly
/// more (a validation part). Training and `validation` (measured after every epoch when
/// given; early stopping with the settings' `early_stopping`) read only the pairs of `train`
/// ([`UserSequences::restricted_to`]); the returned model scores each user from their whole
/// history in `seqs` — so the validation item, the latest one known, is the input that
/// predicts the test item, as in RecBole's and SASRec's protocol.
///
/// # Errors
/// [`TrainError::Param`] for settings out of range, or `seqs` over another index space than
/// `train`; [`TrainError::EmptyTrainSet`] when no user has 2 items; as the trainer.
pub fn fit_sequential<M: SequenceNet>(
    params: &M::Params,
    train: &Interactions,
    seqs: &UserSequences,
    validation: Option<&Validation<'_>>,
    device: &Device,
) -> Result<Sequential<M>, TrainError> {
    params.check()?;
    if seqs.n_users() != train.n_users() || seqs.n_items() != train.n_items() {
        return Err(TrainError::Param {
            name: "sequences",
            value: format!("{} users × {} items", seqs.n_users(), seqs.n_items()),
            expected: "the index space of the training interactions",
        });
    }
    let max_len = params.max_len();
    let ad = device.clone().autodiff();
    let train_seqs = seqs.restricted_to(train);
    let n_users = train.n_users().max(1) as f32;
    let state = SequenceState {
        sequences: train_seqs.truncated(max_len),
        known: KnownSet::from_train(train),
        popularity: train.item_counts().iter().map(|&c| c as f32 / n_users).collect(),
    };
    let module = M::build(train.n_items(), &state.sequences, params, &ad);
    let wrap = |m: M| Sequential::new(m, params.clone(), state.clone(), device.clone(), Vec::new(), None);
    let score = |m: &M| validation.map_or(f64::NAN, |v| (v.score)(&wrap(m.valid())));
    let metric = validation.map(|v| ModuleMetric { higher_is_better: v.higher_is_better, score: &score });
    let t = train_sequential(module, train, &train_seqs, params.objective(), params.train_config(), &ad, metric)?;
    // Served from the whole known history.
    let full = seqs.truncated(max_len);
    let mut module = t.module.valid();
    module.set_stored(sequence_tensor(&full, max_len, device));
    Ok(Sequential::new(module, params.clone(), SequenceState { sequences: full, ..state }, device.clone(), t.history, t.best_epoch))
}
