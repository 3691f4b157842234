//! What serving prepares once per loaded model: the factor index of a factor model
//! ([`FactorIndex`]: its matrices, the fold-in solve, item norms for cosine) — the fast path
//! of top-N and `similar`.

use burnrec_classic::als::FoldIn;
use burnrec_classic::util::dot;
use burnrec_data::{DotFactors, RatingPredictor};

/// Ridge weight of the fold-in solve for factor models other than ALS.
pub const FOLD_IN_REG: f32 = 0.1;

/// A factor model's matrices ready for serving (see [`FittedModel::serving`](crate::FittedModel::serving)).
#[derive(Debug)]
pub struct FactorIndex {
    /// The factors (`items`: `[n_items, dim]` row-major; `users`: `[n_users, dim]`).
    pub f: DotFactors,
    fold: FoldIn,
    /// `[n_items]` norms of the factor columns (for cosine).
    pub norms: Vec<f32>,
}

impl FactorIndex {
    /// The factor matrices of `model` when it is a factor model, with its fold-in solve (ridge
    /// `reg`, confidence `confidence`: one implicit-ALS user step against the fixed item
    /// matrix, Hu, Koren & Volinsky 2008). Shapes are checked against `n_users × n_items`, so
    /// that a damaged model file falls back to the model's own scores instead of indexing out
    /// of bounds.
    pub fn of(model: &dyn RatingPredictor, reg: f32, confidence: f32, n_users: usize, n_items: usize) -> Option<Self> {
        let fits = |f: &DotFactors| {
            f.dim > 0 && f.factor_dim <= f.dim && f.items.len() == n_items * f.dim && f.users.len() == n_users * f.dim && f.user_offset.len() == n_users
        };
        model.dot_factors().filter(fits).map(|f| {
            let fold = FoldIn::new(&f.items, f.dim, reg, confidence);
            let norms = f.items.chunks_exact(f.dim).map(|r| dot(&r[..f.factor_dim], &r[..f.factor_dim]).sqrt()).collect();
            Self { f, fold, norms }
        })
    }

    /// A training user's scores `[n_items]`: one matrix–vector product.
    pub fn user_scores(&self, user: u32) -> Vec<f32> {
        let d = self.f.dim;
        let x = &self.f.users[user as usize * d..(user as usize + 1) * d];
        matvec(&self.f.items, d, x, self.f.user_offset[user as usize])
    }

    /// A new user's scores `[n_items]` from `history` (item indices) by the fold-in solve.
    pub fn fold_in(&self, history: &[u32]) -> Vec<f32> {
        let x = self.fold.solve(&self.f.items, history);
        matvec(&self.f.items, self.f.dim, &x, self.f.new_user_offset)
    }
}

/// `offset + items · x` (`items`: `[n, d]` row-major).
fn matvec(items: &[f32], d: usize, x: &[f32], offset: f32) -> Vec<f32> {
    items.chunks_exact(d).map(|y| offset + dot(y, x)).collect()
}

/// What [`FittedModel::serving`](crate::FittedModel::serving) prepared.
#[derive(Debug)]
pub struct Serving {
    /// The model's factor index, when it is a factor model.
    pub factors: Option<FactorIndex>,
    /// A part's factor index for its fold-in (the hybrid's ALS part).
    pub(crate) part: Option<FactorIndex>,
}

impl Serving {
    pub(crate) fn new(factors: Option<FactorIndex>, part: Option<FactorIndex>) -> Self {
        Self { factors, part }
    }
}
