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

    /// Checks a matrix read back from a file: offsets increasing from 0 to `nnz`, values
    /// aligned with columns, every column `< n_cols`, each row's columns sorted and distinct
    /// (what [`Csr::contains`] and merges over rows rely on).
    ///
    /// # Errors
    /// A message naming the first violation (and the row).
    pub fn validate(&self, n_cols: usize) -> Result<(), String> {
        let monotone = self.offsets.first() == Some(&0) && self.offsets.windows(2).all(|w| w[0] <= w[1]);
        if !monotone || self.offsets.last() != Some(&self.cols.len()) || self.values.len() != self.cols.len() {
            return Err(format!("row offsets must increase from 0 to the {} stored entries, one value each", self.cols.len()));
        }
        if let Some(&c) = self.cols.iter().find(|&&c| c as usize >= n_cols) {
            return Err(format!("column index {c} outside the {n_cols} columns"));
        }
        if let Some(r) = (0..self.n_rows()).find(|&r| self.row(r).windows(2).any(|w| w[0] >= w[1])) {
            return Err(format!("the columns of row {r} are not sorted and distinct"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Rating;

    #[test]
    fn validate_names_what_is_wrong() {
        let r = |user, item| Rating { user, item, rating: 1.0, timestamp: None };
        let m = Csr::by_user(&Interactions::new(vec![r(0, 2), r(0, 1), r(1, 0)], 2, 3).unwrap());
        assert_eq!(m.validate(3), Ok(()));
        assert!(m.validate(2).unwrap_err().contains("column index 2 outside the 2 columns"));
        let swapped = Csr { cols: vec![2, 1, 0], ..m.clone() };
        assert!(swapped.validate(3).unwrap_err().contains("row 0 are not sorted"));
        let short = Csr { offsets: vec![0, 2, 4], ..m };
        assert!(short.validate(3).unwrap_err().contains("row offsets"));
    }

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
