//! GRU4Rec: a recurrent network over the user's ordered history (Hidasi, Karatzoglou,
//! Baltrunas & Tikk, "Session-based Recommendations with Recurrent Neural Networks", ICLR
//! 2016), as a Burn module on burn-nn's [`Gru`], in RecBole's form: item embedding, dropout,
//! one GRU layer, a linear map of each state back to the embedding width, and the next item
//! scored by a dot product with the *shared* item embedding.
//!
//! **Padding never leaks**: the GRU runs one step at a time and keeps its state (zero at the
//! start) unchanged at padded positions, so a left-padded sequence gives exactly the states of
//! the unpadded one — however long the padding, whatever the padding row holds (tested).
//!
//! **Defaults** are RecBole's GRU4Rec (embedding 64, hidden 128, 1 layer, dropout 0.3,
//! full-softmax cross-entropy), with max_len 50 and Adam 1e-3 as for SASRec; the paper's
//! session-parallel mini-batches with BPR / TOP1 are not reproduced (its follow-up, Hidasi &
//! Karatzoglou, CIKM 2018, moved to cross-entropy with sampled negatives: `--set
//! gru4rec.loss=sampled_softmax`).

use burn::module::Module;
use burn::nn::gru::{Gru, GruConfig};
use burn::nn::{Dropout, DropoutConfig, Embedding, Linear};
use burn::tensor::{Device, Int, Tensor};
use burnrec_data::sequence::UserSequences;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::sequential::{SequenceParams, Sequential, check_common, sequence_net, sequence_params, sequence_tensor, shared_output};
use crate::trainer::{SequenceModule, SequentialLoss, TrainConfig, TrainError};

/// GRU4Rec's settings (`--set gru4rec.KEY=VALUE`).
///
/// | key | default | meaning |
/// | --- | --- | --- |
/// | `embedding` | 64 | item embedding width (and of the output) |
/// | `hidden` | 128 | GRU state width |
/// | `max_len` | 50 | latest items a sequence keeps |
/// | `dropout` | 0.3 | on the item embeddings, in `[0, 1)` |
/// | `loss` | `ce` | `ce` (full softmax), `bce`, `sampled_softmax`, `gbce` |
/// | `negatives` | 1 | per target, for the sampling losses |
/// | `gbce_t` | 0.75 | gBCE's calibration `t` in `[0, 1]` |
/// | `init_std` | 0.02 | `N(0, std²)` of the item embeddings |
/// | `train.epochs` | 200 | passes over the users |
/// | `train.batch_size` | 128 | users (sequences) per step |
/// | `train.lr` | 0.001 | Adam |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gru4RecParams {
    /// Item embedding width.
    pub embedding: usize,
    /// GRU state width.
    pub hidden: usize,
    /// Latest items a sequence keeps.
    pub max_len: usize,
    /// Dropout probability on the item embeddings while training.
    pub dropout: f64,
    /// The next-item loss.
    pub loss: SequentialLoss,
    /// Negatives per target for the sampling losses.
    pub negatives: usize,
    /// gBCE's calibration parameter.
    pub gbce_t: f64,
    /// Standard deviation of the item embeddings' normal initialisation.
    pub init_std: f32,
    /// Optimisation settings (`batch_size` counts users).
    pub train: TrainConfig,
}

impl Default for Gru4RecParams {
    fn default() -> Self {
        Self {
            embedding: 64,
            hidden: 128,
            max_len: 50,
            dropout: 0.3,
            loss: SequentialLoss::Ce,
            negatives: 1,
            gbce_t: 0.75,
            init_std: 0.02,
            train: TrainConfig { epochs: 200, batch_size: 128, lr: 0.001, l2: 0.0, seed: 42, progress: true, ..Default::default() },
        }
    }
}

/// The GRU4Rec network.
#[derive(Module, Debug)]
pub struct Gru4RecModule {
    /// `[n_items + 1, embedding]` item embeddings; row 0 is padding, row `i + 1` item `i`
    /// (input and output: shared).
    pub item: Embedding,
    /// Dropout of the input embeddings.
    pub dropout: Dropout,
    /// The recurrent layer.
    pub gru: Gru,
    /// `hidden → embedding`, each state to the output width.
    pub out: Linear,
    /// `[n_users, max_len]` every user's stored sequence (1-based, left-padded).
    pub sequences: Tensor<2, Int>,
    hidden: usize,
}

impl Gru4RecModule {
    /// A network for `n_items` items and the users of `seqs`, initialised from `params.seed`
    /// (the embedding and output layer by a ChaCha8 draw on the CPU; the GRU by the device's
    /// generator, seeded with the same seed: Xavier-normal, burn-nn's default).
    pub fn new(n_items: usize, seqs: &UserSequences, params: &Gru4RecParams, device: &Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(params.train.seed);
        let item = crate::init::normal_embedding(n_items + 1, params.embedding, params.init_std, &mut rng, device);
        let out = crate::init::uniform_linear(params.hidden, params.embedding, &mut rng, device);
        device.seed(params.train.seed);
        Self {
            item,
            dropout: DropoutConfig::new(params.dropout).init(),
            gru: GruConfig::new(params.embedding, params.hidden, true).init(device),
            out,
            sequences: sequence_tensor(seqs, params.max_len, device),
            hidden: params.hidden,
        }
    }
}

impl SequenceModule for Gru4RecModule {
    fn encode(&self, inputs: Tensor<2, Int>) -> Tensor<3> {
        let [b, l] = inputs.dims();
        let device = inputs.device();
        let keep = inputs.clone().equal_elem(0).bool_not().float(); // [b, l]
        let x = self.dropout.forward(self.item.forward(inputs));
        let mut h = Tensor::<2>::zeros([b, self.hidden], &device);
        let mut states = Vec::with_capacity(l);
        for t in 0..l {
            let step = self.gru.forward(x.clone().narrow(1, t, 1), Some(h.clone())).reshape([b, self.hidden]);
            // Padded rows keep their state (zero until the first real item).
            let k = keep.clone().narrow(1, t, 1);
            h = step * k.clone() + h * (k.clone().neg() + 1.0);
            states.push(h.clone() * k);
        }
        let hs = Tensor::stack::<3>(states, 1);
        self.out.forward(hs) * keep.unsqueeze_dim::<3>(2)
    }

    fn output_items(&self) -> Tensor<2> {
        shared_output(&self.item)
    }
}

sequence_net!(Gru4RecModule, Gru4RecParams);

/// A trained GRU4Rec ([`Sequential`]).
pub type Gru4Rec = Sequential<Gru4RecModule>;

impl Gru4RecParams {
    /// Checks every setting (also done when loading a saved model).
    ///
    /// # Errors
    /// [`TrainError::Param`] naming the first setting out of range.
    pub fn check(&self) -> Result<(), TrainError> {
        let bad = |name, value: String, expected| Err(TrainError::Param { name, value, expected });
        if self.embedding == 0 {
            return bad("embedding", "0".into(), ">= 1");
        }
        if self.hidden == 0 {
            return bad("hidden", "0".into(), ">= 1");
        }
        check_common(self.max_len, self.dropout, SequenceParams::objective(self), self.init_std)?;
        self.train.check()
    }
}

sequence_params!(Gru4RecParams, Gru4RecModule, Gru4Rec, embedding);

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use burnrec_data::Interactions;
    use burnrec_data::{Rating, RatingPredictor};

    fn params(epochs: usize) -> Gru4RecParams {
        Gru4RecParams {
            embedding: 16,
            hidden: 24,
            max_len: 6,
            dropout: 0.0,
            train: TrainConfig { epochs, batch_size: 16, lr: 0.01, l2: 0.0, seed: 5, progress: false, ..Default::default() },
            ..Default::default()
        }
    }

    #[test]
    fn padding_changes_no_state() {
        let _rng = crate::backend_rng_lock();
        let device = Device::flex();
        let seqs = UserSequences::from_ordered(vec![vec![3, 4, 5]], 8).unwrap();
        let m = Gru4RecModule::new(8, &seqs, &params(1), &device);
        let padded = Tensor::<2, Int>::from_data(TensorData::new(vec![0i64, 0, 0, 4, 5, 6], [1, 6]), &device);
        let bare = Tensor::<2, Int>::from_data(TensorData::new(vec![4i64, 5, 6], [1, 3]), &device);
        let a = m.encode(padded).into_data().try_to_vec::<f32>().unwrap();
        let b = m.encode(bare).into_data().try_to_vec::<f32>().unwrap();
        // The padded row's real positions are the unpadded row's states; padding is zero.
        assert_eq!(a[3 * 16..], b[..]);
        assert!(a[..3 * 16].iter().all(|&x| x == 0.0));
    }

    #[test]
    fn gru4rec_learns_the_next_item_of_ordered_walks() {
        let _rng = crate::backend_rng_lock();
        // Users 0..12 walk a cycle of 8 items forwards, 12..24 backwards, 5 steps each.
        let seqs: Vec<Vec<u32>> = (0..24u32).map(|u| (0..5).map(|k| if u < 12 { (u + k) % 8 } else { (u + 8 * 5 - k) % 8 }).collect()).collect();
        let r: Vec<Rating> =
            seqs.iter().enumerate().flat_map(|(u, s)| s.iter().map(move |&i| Rating { user: u as u32, item: i, rating: 1.0, timestamp: None })).collect();
        let train = Interactions::new(r, 24, 8).unwrap();
        let seqs = UserSequences::from_ordered(seqs, 8).unwrap();
        let device = Device::flex();
        let m = params(80).fit(&train, &seqs, None, &device).unwrap();
        let best = |h: &[u32]| {
            let s = m.history_scores(h).unwrap();
            (0..8u32).filter(|i| !h.contains(i)).max_by(|&a, &b| s[a as usize].total_cmp(&s[b as usize])).unwrap()
        };
        assert_eq!((best(&[2, 3, 4]), best(&[4, 3, 2])), (5, 1));
        let mut hits = 0;
        for u in 0..24u32 {
            let last = *seqs.of(u).last().unwrap();
            let next = if u < 12 { (last + 1) % 8 } else { (last + 7) % 8 };
            let unseen: Vec<u32> = (0..8).filter(|i| !seqs.of(u).contains(i)).collect();
            let s = m.score_block(&[u], &unseen);
            hits += usize::from(unseen[(0..unseen.len()).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap()] == next);
        }
        assert_eq!(hits, 24);
        let e = Gru4RecParams { hidden: 0, ..params(1) }.check().unwrap_err().to_string();
        assert!(e.contains("`hidden`"), "{e}");
    }
}
