//! The similarity engine: sparse rows of positive similarities, computed in parallel over
//! rows with per-thread scratch (see the [module docs](super) for the formulas and storage).

use std::sync::Mutex;

use burnrec_data::csr::Csr;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// One row's kept neighbours, sorted by index: what [`similarity_row`] builds, and the form
/// in which model files before the one sparse-row type stored each row (a list of these).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct SimRow {
    pub(super) idx: Vec<u32>,
    pub(super) sim: Vec<f32>,
}

/// Reusable per-thread scratch buffers, handed out one per rayon job and returned on drop, so
/// that at most one lives per thread.
pub(crate) struct ScratchPool<T> {
    pub(super) free: Mutex<Vec<T>>,
}

impl<T> ScratchPool<T> {
    pub(crate) fn new() -> Self {
        Self { free: Mutex::new(Vec::new()) }
    }

    pub(crate) fn take(&self, make: impl FnOnce() -> T) -> Pooled<'_, T> {
        let item = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_else(make);
        Pooled { pool: self, item: Some(item) }
    }
}

/// A buffer borrowed from a [`ScratchPool`].
pub(crate) struct Pooled<'a, T> {
    pub(super) pool: &'a ScratchPool<T>,
    pub(super) item: Option<T>,
}

impl<T> std::ops::Deref for Pooled<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.item.as_ref().expect("present until drop")
    }
}

impl<T> std::ops::DerefMut for Pooled<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.item.as_mut().expect("present until drop")
    }
}

impl<T> Drop for Pooled<'_, T> {
    fn drop(&mut self) {
        if let Some(item) = self.item.take() {
            self.pool.free.lock().unwrap_or_else(|e| e.into_inner()).push(item);
        }
    }
}

/// One similarity measure: the `N` running sums a co-rated entry adds, and the formula.
pub(super) trait Kernel<const N: usize>: Sync {
    /// `r_xy` as the sums see it (row `x`, entry `y`).
    #[inline(always)]
    fn left(&self, _x: usize, _y: usize, r: f64) -> f64 {
        r
    }
    /// `r_x'y` as the sums see it.
    #[inline(always)]
    fn right(&self, _x2: usize, _y: usize, r: f64) -> f64 {
        r
    }
    /// Adds one co-rated entry, from `left` `a` and `right` `b`, to the sums `s`.
    fn add(a: f64, b: f64, s: &mut [f64; N]);
    /// The similarity from `n` co-rated entries and their sums.
    fn finish(&self, n: u32, s: &[f64; N]) -> f64;
}

/// `1 / (Σ (a − b)² / n + 1)`.
pub(super) struct MsdKernel;
impl Kernel<1> for MsdKernel {
    #[inline(always)]
    fn add(a: f64, b: f64, s: &mut [f64; 1]) {
        s[0] += (a - b) * (a - b);
    }
    #[inline(always)]
    fn finish(&self, n: u32, s: &[f64; 1]) -> f64 {
        // = 1 / (s/n + 1), with one division.
        let n = f64::from(n);
        n / (s[0] + n)
    }
}

/// `Σ ab / √(Σ a² Σ b²)` (0 for a zero denominator).
pub(super) struct CosineKernel;
impl Kernel<3> for CosineKernel {
    #[inline(always)]
    fn add(a: f64, b: f64, s: &mut [f64; 3]) {
        s[0] += a * b;
        s[1] += a * a;
        s[2] += b * b;
    }
    #[inline(always)]
    fn finish(&self, _n: u32, s: &[f64; 3]) -> f64 {
        let den = (s[1] * s[2]).sqrt();
        if den > 0.0 { s[0] / den } else { 0.0 }
    }
}

/// `(n Σab − Σa Σb) / √((n Σa² − (Σa)²)(n Σb² − (Σb)²))` (0 for a zero denominator).
pub(super) struct PearsonKernel;
impl Kernel<5> for PearsonKernel {
    #[inline(always)]
    fn add(a: f64, b: f64, s: &mut [f64; 5]) {
        s[0] += a * b;
        s[1] += a * a;
        s[2] += b * b;
        s[3] += a;
        s[4] += b;
    }
    #[inline(always)]
    fn finish(&self, n: u32, s: &[f64; 5]) -> f64 {
        let n = f64::from(n);
        let num = n * s[0] - s[3] * s[4];
        let den = (n * s[1] - s[3] * s[3]) * (n * s[2] - s[4] * s[4]);
        if den > 0.0 { num / den.sqrt() } else { 0.0 }
    }
}

/// Cosine of the baseline residuals `r − (μ + b_x + b_y)`, times `(n − 1)/(n − 1 + shrinkage)`.
pub(super) struct PearsonBaselineKernel<'a> {
    pub(super) mu: f64,
    pub(super) bx: &'a [f32],
    pub(super) by: &'a [f32],
    pub(super) shrinkage: f64,
}
impl Kernel<3> for PearsonBaselineKernel<'_> {
    #[inline(always)]
    fn left(&self, x: usize, y: usize, r: f64) -> f64 {
        r - (self.mu + f64::from(self.by[y]) + f64::from(self.bx[x]))
    }
    #[inline(always)]
    fn right(&self, x2: usize, y: usize, r: f64) -> f64 {
        r - (self.mu + f64::from(self.by[y]) + f64::from(self.bx[x2]))
    }
    #[inline(always)]
    fn add(a: f64, b: f64, s: &mut [f64; 3]) {
        s[0] += a * b;
        s[1] += a * a;
        s[2] += b * b;
    }
    #[inline(always)]
    fn finish(&self, n: u32, s: &[f64; 3]) -> f64 {
        let den = s[1] * s[2];
        if den > 0.0 {
            let n1 = f64::from(n) - 1.0;
            s[0] / den.sqrt() * (n1 / (n1 + self.shrinkage))
        } else {
            0.0
        }
    }
}

/// Bytes of accumulators one block of neighbour indices spans (see `similarity_row`).
pub(super) const BLOCK_BYTES: usize = 256 << 10;

/// A row pair's running count and sums, together in memory (one cache line to touch).
#[derive(Clone, Copy)]
pub(super) struct Slot<const N: usize> {
    pub(super) n: u32,
    pub(super) s: [f64; N],
}

/// Dense accumulators over the rows of one side, reset after each row.
pub(super) struct SimScratch<const N: usize> {
    pub(super) slots: Vec<Slot<N>>,
    pub(super) touched: Vec<u32>,
    pub(super) cand: Vec<u64>,
    pub(super) cursor: Vec<usize>,
}

impl<const N: usize> SimScratch<N> {
    pub(super) fn new(n: usize) -> Self {
        Self { slots: vec![Slot { n: 0, s: [0.0; N] }; n], touched: Vec::new(), cand: Vec::new(), cursor: Vec::new() }
    }
}

/// Row `x`'s positive similarities, sorted by neighbour index, the `keep` largest kept.
pub(super) fn similarity_row<const N: usize, K: Kernel<N>>(
    kernel: &K,
    xr: &Csr,
    yr: &Csr,
    min_support: u32,
    keep: Option<usize>,
    s: &mut SimScratch<N>,
    x: usize,
) -> SimRow {
    let SimScratch { slots, touched, cand, cursor } = s;
    // `while` loops and no std selection on the hot path: range and slice iterators and std's
    // select_nth stay out-of-line (and precondition-checked) in our opt-level-1 test builds,
    // which made them most of the cost there.
    let (ys, rxs) = (xr.row(x), xr.row_values(x));
    cursor.clear();
    cursor.resize(ys.len(), 0);
    let n_x = slots.len();
    // Neighbours are accumulated one block of indices at a time (the raters of each `y` are
    // sorted, so each keeps a cursor), to keep the random accesses to `slots` in cache. The
    // sums of each pair still come in the order of `y`: results do not depend on the blocks.
    let block = (BLOCK_BYTES / std::mem::size_of::<Slot<N>>()).max(1);
    // Candidates are packed in u64 keys (a positive finite f32's bits order like its value).
    // With `keep = Some(m)`: the `m` best by (similarity, then the smaller index); whenever
    // `2m` are pending they are cut back to the best `m`, whose worst key is then a floor that
    // later candidates must beat (keys are unique, so this is exact).
    cand.clear();
    let m = keep.unwrap_or(usize::MAX);
    let mut floor = 0u64;
    let mut lo = 0;
    while lo < n_x {
        let hi = if n_x - lo > block { lo + block } else { n_x };
        for k in 0..ys.len() {
            let y = ys[k] as usize;
            let a = kernel.left(x, y, f64::from(rxs[k]));
            let (x2s, r2s) = (yr.row(y), yr.row_values(y));
            let len = if x2s.len() < r2s.len() { x2s.len() } else { r2s.len() };
            let mut j = cursor[k];
            while j < len {
                let x2u = x2s[j] as usize;
                if x2u >= hi {
                    break;
                }
                let r2 = r2s[j];
                j += 1;
                if x2u == x {
                    continue;
                }
                let b = kernel.right(x2u, y, f64::from(r2));
                let slot = &mut slots[x2u];
                if slot.n == 0 {
                    touched.push(x2u as u32);
                }
                slot.n += 1;
                K::add(a, b, &mut slot.s);
            }
            cursor[k] = j;
        }
        let mut t = 0;
        while t < touched.len() {
            let x2 = touched[t];
            t += 1;
            let slot = &mut slots[x2 as usize];
            if slot.n >= min_support {
                let sim = kernel.finish(slot.n, &slot.s) as f32;
                if sim > 0.0 && sim.is_finite() {
                    if keep.is_none() {
                        cand.push((u64::from(x2) << 32) | u64::from(sim.to_bits()));
                    } else {
                        let key = (u64::from(sim.to_bits()) << 32) | u64::from(!x2);
                        if key > floor {
                            cand.push(key);
                            if cand.len() >= m.saturating_mul(2) {
                                select_top(cand, m);
                                cand.truncate(m);
                                floor = u64::MAX;
                                let mut c = 0;
                                while c < m {
                                    if cand[c] < floor {
                                        floor = cand[c];
                                    }
                                    c += 1;
                                }
                            }
                        }
                    }
                }
            }
            *slot = Slot { n: 0, s: [0.0; N] };
        }
        touched.clear();
        lo = hi;
    }
    if keep.is_some() {
        if cand.len() > m {
            select_top(cand, m);
            cand.truncate(m);
        }
        // Re-key as (index, similarity bits).
        let mut c = 0;
        while c < cand.len() {
            let (sim_bits, x2) = (cand[c] >> 32, !(cand[c] as u32));
            cand[c] = (u64::from(x2) << 32) | sim_bits;
            c += 1;
        }
    }
    // Keys (index, similarity bits) in decreasing order, read backwards: by neighbour index.
    sort_desc(cand);
    let mut row = SimRow { idx: Vec::with_capacity(cand.len()), sim: Vec::with_capacity(cand.len()) };
    let mut c = cand.len();
    while c > 0 {
        c -= 1;
        row.idx.push((cand[c] >> 32) as u32);
        row.sim.push(f32::from_bits(cand[c] as u32));
    }
    row
}

/// Partitions the distinct keys `v[lo..hi]` (`hi − lo ≥ 2`) around a median-of-three pivot,
/// larger keys first; returns the pivot's final position `i`:
/// `v[lo..i] > v[i] > v[i + 1..hi]`. `while` loops, like the rest of this hot path.
#[allow(clippy::manual_swap)]
pub(super) fn partition_desc(v: &mut [u64], lo: usize, hi: usize) -> usize {
    let mid = lo + (hi - lo) / 2;
    let (a, b, c) = (v[lo], v[mid], v[hi - 1]);
    let pick = if (a <= b) == (b <= c) {
        mid
    } else if (b <= a) == (a <= c) {
        lo
    } else {
        hi - 1
    };
    let pivot = v[pick];
    v[pick] = v[hi - 1];
    v[hi - 1] = pivot;
    let (mut i, mut j) = (lo, lo);
    while j < hi - 1 {
        if v[j] > pivot {
            let t = v[i];
            v[i] = v[j];
            v[j] = t;
            i += 1;
        }
        j += 1;
    }
    v[hi - 1] = v[i];
    v[i] = pivot;
    i
}

/// Reorders the distinct keys `v` so that its `m` largest come first, in any order
/// (quickselect).
pub(super) fn select_top(v: &mut [u64], m: usize) {
    // v[..lo] are among the m largest, v[hi..] are not.
    let (mut lo, mut hi) = (0usize, v.len());
    while lo < m && m < hi {
        let i = partition_desc(v, lo, hi);
        if i < m {
            lo = i + 1;
        } else {
            hi = i;
        }
    }
}

/// Sorts the distinct keys `v` in decreasing order (quicksort, insertion sort below 16).
pub(super) fn sort_desc(v: &mut [u64]) {
    // Pending ranges; the smaller side is sorted first, so at most log2(len) are pending.
    let mut stack = [(0usize, 0usize); 64];
    let (mut sp, mut lo, mut hi) = (0usize, 0usize, v.len());
    loop {
        while hi - lo > 16 {
            let i = partition_desc(v, lo, hi);
            if i - lo < hi - (i + 1) {
                stack[sp] = (i + 1, hi);
                hi = i;
            } else {
                stack[sp] = (lo, i);
                lo = i + 1;
            }
            sp += 1;
        }
        let mut k = lo + 1;
        while k < hi {
            let key = v[k];
            let mut j = k;
            while j > lo && v[j - 1] < key {
                v[j] = v[j - 1];
                j -= 1;
            }
            v[j] = key;
            k += 1;
        }
        if sp == 0 {
            return;
        }
        sp -= 1;
        (lo, hi) = stack[sp];
    }
}

/// Every row's positive similarities under `kernel` as one [`Csr`] (row `x`: its kept
/// neighbours, sorted by index), computed in parallel over rows (each row on its own, so the
/// result does not depend on the number of threads).
pub(super) fn similarity_rows<const N: usize, K: Kernel<N>>(kernel: &K, xr: &Csr, yr: &Csr, min_support: u32, keep: Option<usize>) -> Csr {
    let n_x = xr.n_rows();
    let pool = ScratchPool::new();
    let rows: Vec<SimRow> = (0..n_x)
        .into_par_iter()
        .with_min_len(16)
        .map_init(|| pool.take(|| SimScratch::<N>::new(n_x)), |s, x| similarity_row(kernel, xr, yr, min_support, keep, s, x))
        .collect();
    rows_to_csr(rows).expect("similarity rows are built sorted by neighbour index with distinct indices")
}

fn rows_to_csr(rows: Vec<SimRow>) -> Result<Csr, String> {
    Csr::from_rows(rows.into_iter().map(|r| (r.idx, r.sim)))
}

/// Reads a neighbour store: a [`Csr`], or the list of [`SimRow`]s that earlier model files
/// wrote (rows sorted by index; a list that is not is refused, naming the row).
///
/// # Errors
/// Neither form, or a legacy row with unsorted or repeated indices or unaligned similarities.
pub(super) fn neighbour_store<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Csr, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Store {
        Csr(Csr),
        Rows(Vec<SimRow>),
    }
    match Store::deserialize(d)
        .map_err(|_| serde::de::Error::custom("neighbours: expected a sparse-row matrix {offsets, cols, values} or a list of {idx, sim} rows"))?
    {
        Store::Csr(m) => Ok(m),
        Store::Rows(rows) => rows_to_csr(rows).map_err(|e| serde::de::Error::custom(format!("neighbours: {e}"))),
    }
}

/// Mean and population standard deviation of each row's values (0, 0 for an empty row).
pub(super) fn row_moments(xr: &Csr) -> (Vec<f64>, Vec<f64>) {
    (0..xr.n_rows())
        .map(|x| {
            let v = xr.row_values(x);
            if v.is_empty() {
                return (0.0, 0.0);
            }
            let n = v.len() as f64;
            let mean = v.iter().map(|&r| f64::from(r)).sum::<f64>() / n;
            let var = v.iter().map(|&r| (f64::from(r) - mean).powi(2)).sum::<f64>() / n;
            (mean, var.sqrt())
        })
        .unzip()
}
