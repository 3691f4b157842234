//! Seeded weight initialisation shared by the Burn modules: every value is drawn on the CPU by
//! a ChaCha8 generator, so every backend starts from the same weights.

use burn::module::Param;
use burn::nn::{Embedding, Linear};
use burn::tensor::{Device, TensorData};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// A `[rows, cols]` embedding table drawn from `N(0, std²)`.
///
/// # Panics
/// If `std` is negative or not finite (callers check their parameters first).
pub(crate) fn normal_embedding(rows: usize, cols: usize, std: f32, rng: &mut ChaCha8Rng, device: &Device) -> Embedding {
    let normal = Normal::new(0.0f32, std).expect("std is finite and >= 0");
    let v: Vec<f32> = (0..rows * cols).map(|_| normal.sample(rng)).collect();
    Embedding { weight: Param::from_data(TensorData::new(v, [rows, cols]), device) }
}

/// A `d_in → d_out` linear layer with weights and bias drawn from `U(−1/√d_in, 1/√d_in)`
/// (PyTorch's default), weights first.
pub(crate) fn uniform_linear(d_in: usize, d_out: usize, rng: &mut ChaCha8Rng, device: &Device) -> Linear {
    let bound = 1.0 / (d_in as f32).sqrt();
    let w: Vec<f32> = (0..d_in * d_out).map(|_| rng.random_range(-bound..bound)).collect();
    let b: Vec<f32> = (0..d_out).map(|_| rng.random_range(-bound..bound)).collect();
    Linear { weight: Param::from_data(TensorData::new(w, [d_in, d_out]), device), bias: Some(Param::from_data(TensorData::new(b, [d_out]), device)) }
}
