//! Row-sparse embedding updates: a training step that touches only the rows of the batch.
//!
//! A plain Burn `Embedding` gets a dense `[n, d]` gradient every step and a dense optimiser then
//! touches every row, so step cost grows with the number of users and items. Here a step
//! instead
//! 1. gathers the batch's *unique* rows of each table into a small `[rows_in_batch, d]` leaf
//!    tensor on the autodiff device ([`gather`]),
//! 2. runs forward and backward on a copy of the module whose tables are those leaves (indices
//!    remapped to the local rows),
//! 3. applies a row-wise optimiser to those rows only ([`RowState::apply`]), keeping the
//!    per-row optimiser state in `[n, d]` tables beside the weights, on the model's device
//!    (flex, ndarray, wgpu).
//!
//! Semantics (documented, tested):
//! - [`RowOptimizer::Sgd`]: `p_r ← p_r − lr·g_r` — exactly the dense SGD step (rows outside
//!   the batch have a zero gradient and do not move in either).
//! - [`RowOptimizer::Adagrad`]: `G_r ← G_r + g_r²`, `p_r ← p_r − lr·g_r / (√G_r + ε)` (Duchi,
//!   Hazan & Singer, JMLR 2011) with one accumulator per weight (`[n, d]`; TorchRec's "row-wise"
//!   Adagrad keeps one per row): untouched rows and their state do not change, which is also
//!   what dense Adagrad does for a zero gradient.
//! - [`RowOptimizer::LazyAdam`]: Adam's moments are updated only for the rows in the batch
//!   (`m_r ← β₁m_r + (1−β₁)g_r`, `v_r ← β₂v_r + (1−β₂)g_r²`), with the bias correction of the
//!   global step `t`: `p_r ← p_r − lr·m̂_r/(√v̂_r + ε)`. Dense Adam would also decay the moments
//!   of untouched rows and keep moving them with their old momentum; lazy Adam does not (as
//!   TensorFlow's `LazyAdam` and PyTorch's `SparseAdam`). Results therefore differ from dense
//!   Adam, by design.

use burn::module::Param;
use burn::nn::Embedding;
use burn::tensor::{Device, IndexingUpdateOp, Int, Tensor};
use serde::{Deserialize, Serialize};

/// How embedding tables are updated while training.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddingUpdate {
    /// Burn's dense gradient and the trainer's optimiser on every row (cost ∝ table size).
    #[default]
    Dense,
    /// Only the batch's rows, with a row-wise optimiser (cost ∝ batch).
    Sparse(RowOptimizer),
}

/// A row-wise optimiser for [`EmbeddingUpdate::Sparse`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowOptimizer {
    /// Plain SGD (equals dense SGD exactly).
    Sgd,
    /// Row-wise Adagrad.
    Adagrad {
        /// Added to `√G` (default 1e-10 as in PyTorch).
        #[serde(default = "eps_adagrad")]
        eps: f64,
    },
    /// Lazy Adam: moments of the batch's rows only, global-step bias correction.
    LazyAdam {
        /// First-moment decay (0.9).
        #[serde(default = "beta1")]
        beta1: f64,
        /// Second-moment decay (0.999).
        #[serde(default = "beta2")]
        beta2: f64,
        /// Added to `√v̂` (1e-8).
        #[serde(default = "eps_adam")]
        eps: f64,
    },
}

fn eps_adagrad() -> f64 {
    1e-10
}
fn beta1() -> f64 {
    0.9
}
fn beta2() -> f64 {
    0.999
}
fn eps_adam() -> f64 {
    1e-8
}

impl RowOptimizer {
    /// Lazy Adam with β = (0.9, 0.999), ε = 1e-8.
    pub const LAZY_ADAM: RowOptimizer = RowOptimizer::LazyAdam { beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    /// Adagrad with ε = 1e-10.
    pub const ADAGRAD: RowOptimizer = RowOptimizer::Adagrad { eps: 1e-10 };
}

/// The batch's unique ids and, for every batch position, its row among them.
#[derive(Clone, Debug, PartialEq)]
pub struct Unique {
    /// Distinct ids, ascending (`[r]`): the full tables are then walked in address order.
    pub ids: Vec<u32>,
    /// For each input position, the index into `ids` (`[batch]`).
    pub local: Vec<u32>,
}

/// Unique ids of `ids`, ascending, and each position's local row.
pub fn unique(ids: &[u32]) -> Unique {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let local = ids.iter().map(|x| sorted.binary_search(x).expect("present") as u32).collect();
    Unique { ids: sorted, local }
}

/// Rows `rows` of the table `weight` (`[n, d]`, no autodiff) as a new trainable leaf on the
/// autodiff device `ad`: an `Embedding` of shape `[rows.len(), d]`.
pub fn gather(weight: &Tensor<2>, rows: &Tensor<1, Int>, ad: &Device) -> Embedding {
    // Stays on the device (no host round trip): the selected rows become a new autodiff leaf.
    let small = weight.clone().select(0, rows.clone()).autodiff();
    debug_assert!(small.device().is_autodiff() && ad.is_autodiff());
    Embedding { weight: Param::from_tensor(small) }
}

/// Per-row optimiser state of one table (`[n, d]` tensors beside the weights, created on first
/// use).
#[derive(Debug, Default)]
pub struct RowState {
    acc: Option<Tensor<2>>,
    m: Option<Tensor<2>>,
    v: Option<Tensor<2>>,
}

impl RowState {
    /// Updates rows `rows` (`[r]`, distinct) of `weight` (`[n, d]`) with their gradient
    /// `grad` (`[r, d]`) at learning rate `lr`, global step `step` (1-based); returns the new
    /// table. Only those rows (and their state) change.
    pub fn apply(&mut self, opt: RowOptimizer, weight: Tensor<2>, rows: Tensor<1, Int>, grad: Tensor<2>, lr: f64, step: u64) -> Tensor<2> {
        let zeros = |w: &Tensor<2>| w.zeros_like();
        let delta = match opt {
            RowOptimizer::Sgd => grad.mul_scalar(-lr),
            RowOptimizer::Adagrad { eps } => {
                let acc = self.acc.take().unwrap_or_else(|| zeros(&weight));
                let g2 = grad.clone().square();
                let acc = acc.select_assign(0, rows.clone(), g2, IndexingUpdateOp::Add);
                let a_r = acc.clone().select(0, rows.clone());
                self.acc = Some(acc);
                (grad / (a_r.sqrt().add_scalar(eps))).mul_scalar(-lr)
            }
            RowOptimizer::LazyAdam { beta1, beta2, eps } => {
                let m = self.m.take().unwrap_or_else(|| zeros(&weight));
                let v = self.v.take().unwrap_or_else(|| zeros(&weight));
                let m_old = m.clone().select(0, rows.clone());
                let v_old = v.clone().select(0, rows.clone());
                let m_new = m_old.clone().mul_scalar(beta1) + grad.clone().mul_scalar(1.0 - beta1);
                let v_new = v_old.clone().mul_scalar(beta2) + grad.square().mul_scalar(1.0 - beta2);
                self.m = Some(m.select_assign(0, rows.clone(), m_new.clone() - m_old, IndexingUpdateOp::Add));
                self.v = Some(v.select_assign(0, rows.clone(), v_new.clone() - v_old, IndexingUpdateOp::Add));
                let c1 = 1.0 - beta1.powf(step as f64);
                let c2 = 1.0 - beta2.powf(step as f64);
                let denom = v_new.div_scalar(c2).sqrt().add_scalar(eps);
                (m_new.div_scalar(c1) / denom).mul_scalar(-lr)
            }
        };
        weight.select_assign(0, rows, delta, IndexingUpdateOp::Add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use burnrec_data::batch::index_tensor;

    #[test]
    fn settings_parse_with_defaults() {
        let u: EmbeddingUpdate = serde_json::from_str(r#"{"sparse": {"lazy_adam": {}}}"#).unwrap();
        assert_eq!(u, EmbeddingUpdate::Sparse(RowOptimizer::LAZY_ADAM));
        let u: EmbeddingUpdate = serde_json::from_str(r#"{"sparse": "sgd"}"#).unwrap();
        assert_eq!(u, EmbeddingUpdate::Sparse(RowOptimizer::Sgd));
        let u: EmbeddingUpdate = serde_json::from_str(r#"{"sparse": {"adagrad": {}}}"#).unwrap();
        assert_eq!(u, EmbeddingUpdate::Sparse(RowOptimizer::ADAGRAD));
        assert_eq!(serde_json::from_str::<EmbeddingUpdate>(r#""dense""#).unwrap(), EmbeddingUpdate::Dense);
    }

    #[test]
    fn unique_sorts_and_maps_back() {
        let u = unique(&[7, 3, 7, 9, 3]);
        assert_eq!(u.ids, vec![3, 7, 9]);
        assert_eq!(u.local, vec![1, 0, 1, 2, 0]);
    }

    fn table(device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [3, 2]), device)
    }

    #[test]
    fn row_updates_by_hand() {
        let device = Device::flex();
        let rows = index_tensor(&[2, 0], &device);
        let g = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, -2.0, 0.5, 0.0], [2, 2]), &device);
        let read = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
        // SGD, lr 0.1: row 2 ← [5, 6] − 0.1·[1, −2]; row 0 ← [1, 2] − 0.1·[0.5, 0]; row 1 unchanged.
        let w = RowState::default().apply(RowOptimizer::Sgd, table(&device), rows.clone(), g.clone(), 0.1, 1);
        let want = [0.95f32, 2.0, 3.0, 4.0, 4.9, 6.2];
        read(w).iter().zip(want).for_each(|(a, b)| assert!((a - b).abs() < 1e-6));
        // Adagrad, first step: G = g², update = lr·g/(|g| + ε) = lr·sign(g) where g ≠ 0.
        let mut st = RowState::default();
        let w = st.apply(RowOptimizer::ADAGRAD, table(&device), rows.clone(), g.clone(), 0.1, 1);
        let want = [0.9f32, 2.0, 3.0, 4.0, 4.9, 6.1];
        read(w).iter().zip(want).for_each(|(a, b)| assert!((a - b).abs() < 1e-6));
        assert_eq!(read(st.acc.clone().unwrap()), vec![0.25, 0.0, 0.0, 0.0, 1.0, 4.0]);
        // Lazy Adam, first step: m̂ = g, v̂ = g², update = lr·g/(|g| + ε) — the same signs.
        let mut st = RowState::default();
        let w = st.apply(RowOptimizer::LAZY_ADAM, table(&device), rows, g, 0.1, 1);
        read(w).iter().zip(want).for_each(|(a, b)| assert!((a - b).abs() < 1e-6));
        // Row 1 was never in a batch: its moments stay 0.
        let m1 = st.m.clone().unwrap().into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(&m1[2..4], &[0.0, 0.0]);
        let m = read(st.m.unwrap());
        assert!((m[4] - 0.1).abs() < 1e-7 && (m[5] + 0.2).abs() < 1e-7, "{m:?}");
    }

    #[test]
    fn second_steps_use_the_state_by_hand() {
        let device = Device::flex();
        let w0 = || Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 5.0], [2, 1]), &device);
        let row = index_tensor(&[0], &device);
        let g = || Tensor::<2>::from_data(TensorData::new(vec![1.0f32], [1, 1]), &device);
        let two = |opt| {
            let mut st = RowState::default();
            let w = st.apply(opt, w0(), row.clone(), g(), 0.1, 1);
            st.apply(opt, w, row.clone(), g(), 0.1, 2).into_data().try_to_vec::<f32>().unwrap()
        };
        // Adagrad: G = 1 then 2 → 1 − 0.1 − 0.1/√2 = 0.8292893.
        let w = two(RowOptimizer::ADAGRAD);
        assert!((w[0] - 0.829_289_3).abs() < 1e-6 && w[1] == 5.0, "{w:?}");
        // Lazy Adam, constant gradient: m̂ = v̂ = 1 at both steps (bias correction of step 2),
        // so 1 − 0.1 − 0.1 = 0.8; a step count stuck at 1 would give 0.7656.
        let w = two(RowOptimizer::LAZY_ADAM);
        assert!((w[0] - 0.8).abs() < 1e-5 && w[1] == 5.0, "{w:?}");
    }
}
