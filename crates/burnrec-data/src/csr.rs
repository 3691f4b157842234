//! Compressed sparse row views of interactions, by user and by item.

use crate::dataset::Interactions;

/// A CSR matrix: row `r`'s column indices (sorted ascending) and values.
///
/// # Shapes
/// `offsets`: `[n_rows + 1]`; `cols`, `values`: `[nnz]`. Serialisable, so fitted models can
/// keep their training interactions in this form.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Csr {
    offsets: Vec<usize>,
    cols: Vec<u32>,
    values: Vec<f32>,
}

impl Csr {
    /// Builds rows from `(row, col, value)` columns; a counting sort, O(nnz + n_rows).
    fn build(rows: &[u32], cols: &[u32], values: &[f32], n_rows: usize) -> Self {
        let mut offsets = vec![0usize; n_rows + 1];
        for &r in rows {
            offsets[r as usize + 1] += 1;
        }
        for k in 0..n_rows {
            offsets[k + 1] += offsets[k];
        }
        let mut next = offsets.clone();
        let mut c = vec![0u32; rows.len()];
        let mut v = vec![0f32; rows.len()];
        for k in 0..rows.len() {
            let slot = &mut next[rows[k] as usize];
            c[*slot] = cols[k];
            v[*slot] = values[k];
            *slot += 1;
        }
        for r in 0..n_rows {
            let (a, b) = (offsets[r], offsets[r + 1]);
            let mut pairs: Vec<(u32, f32)> = c[a..b].iter().copied().zip(v[a..b].iter().copied()).collect();
            pairs.sort_unstable_by_key(|p| p.0);
            for (k, (cc, vv)) in pairs.into_iter().enumerate() {
                c[a + k] = cc;
                v[a + k] = vv;
            }
        }
        Self { offsets, cols: c, values: v }
    }

    /// Rows are users, columns items: `[n_users × n_items]`.
    pub fn by_user(data: &Interactions) -> Self {
        Self::build(data.users(), data.items(), data.values(), data.n_users())
    }

    /// Rows are items, columns users: `[n_items × n_users]`.
    pub fn by_item(data: &Interactions) -> Self {
        Self::build(data.items(), data.users(), data.values(), data.n_items())
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.cols.len()
    }

    /// Sorted column indices of row `r` (empty for `r >= n_rows()`).
    pub fn row(&self, r: usize) -> &[u32] {
        if r >= self.n_rows() {
            return &[];
        }
        &self.cols[self.offsets[r]..self.offsets[r + 1]]
    }

    /// Values of row `r`, aligned with [`Csr::row`].
    pub fn row_values(&self, r: usize) -> &[f32] {
        if r >= self.n_rows() {
            return &[];
        }
        &self.values[self.offsets[r]..self.offsets[r + 1]]
    }

    /// Whether `(r, c)` is stored; O(log row length).
    pub fn contains(&self, r: usize, c: u32) -> bool {
        self.row(r).binary_search(&c).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Rating;

    #[test]
    fn by_user_and_by_item() {
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        let d = Interactions::new(vec![r(1, 2, 5.0), r(0, 1, 3.0), r(1, 0, 4.0), r(0, 2, 1.0)], 3, 3).unwrap();
        let u = Csr::by_user(&d);
        assert_eq!((u.n_rows(), u.nnz()), (3, 4));
        assert_eq!((u.row(0), u.row_values(0)), (&[1, 2][..], &[3.0, 1.0][..]));
        assert_eq!((u.row(1), u.row_values(1)), (&[0, 2][..], &[4.0, 5.0][..]));
        assert!(u.row(2).is_empty() && u.row(9).is_empty());
        assert!(u.contains(1, 2) && !u.contains(1, 1));
        let i = Csr::by_item(&d);
        assert_eq!(i.row(2), &[0, 1]);
        assert_eq!(i.row_values(2), &[1.0, 5.0]);
    }
}
