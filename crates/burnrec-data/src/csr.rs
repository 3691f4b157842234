//! Compressed sparse rows: the one sparse-row type of the workspace — interactions by user
//! and by item, merged interaction rows (ALS, BPR, item-KNN, EASE), and neighbourhoods
//! (neighbour-based models store row `i`'s kept neighbours and their similarities as row `i`).

use crate::dataset::Interactions;

/// A CSR matrix: row `r`'s column indices (sorted ascending) and values.
///
/// # Shapes
/// `offsets`: `[n_rows + 1]`; `cols`, `values`: `[nnz]`. Serialisable, so fitted models can
/// keep their training interactions and neighbourhoods in this form (`vals`, the name an
/// earlier sparse-row type wrote, is read as `values`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Csr {
    offsets: Vec<usize>,
    cols: Vec<u32>,
    #[serde(alias = "vals")]
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

    /// Interactions by user with duplicate `(user, item)` pairs merged into one entry: value
    /// 1 if `binary`, otherwise the sum of the pair's values (in data order) — the input of
    /// the implicit-feedback models (confidences, counts). Rows `[n_users]`, columns items.
    pub fn merged_by_user(data: &Interactions, binary: bool) -> Self {
        let by_user = Self::by_user(data);
        let mut offsets = Vec::with_capacity(data.n_users() + 1);
        let mut cols = Vec::with_capacity(data.len());
        let mut values = Vec::with_capacity(data.len());
        offsets.push(0);
        for u in 0..data.n_users() {
            for (&i, &v) in by_user.row(u).iter().zip(by_user.row_values(u)) {
                let v = if binary { 1.0 } else { v };
                if cols.len() > offsets[u] && cols.last() == Some(&i) {
                    if !binary {
                        *values.last_mut().expect("a value per column") += v;
                    }
                } else {
                    cols.push(i);
                    values.push(v);
                }
            }
            offsets.push(cols.len());
        }
        Self { offsets, cols, values }
    }

    /// A matrix from its rows, each `(columns, values)` of one length with the columns sorted
    /// and distinct (what neighbour lists sorted by index are).
    ///
    /// # Errors
    /// A message naming the first row that breaks those rules.
    pub fn from_rows(rows: impl IntoIterator<Item = (Vec<u32>, Vec<f32>)>) -> Result<Self, String> {
        let mut m = Self { offsets: vec![0], cols: Vec::new(), values: Vec::new() };
        for (r, (c, v)) in rows.into_iter().enumerate() {
            if c.len() != v.len() {
                return Err(format!("row {r} has {} columns but {} values", c.len(), v.len()));
            }
            if c.windows(2).any(|w| w[0] >= w[1]) {
                return Err(format!("the columns of row {r} are not sorted and distinct"));
            }
            m.cols.extend(c);
            m.values.extend(v);
            m.offsets.push(m.cols.len());
        }
        Ok(m)
    }

    /// The transpose, `[n_cols × n_rows]` (every column must be `< n_cols`); rows of the
    /// result stay sorted, since rows of `self` are visited in order.
    pub fn transpose(&self, n_cols: usize) -> Self {
        let mut offsets = vec![0usize; n_cols + 1];
        for &c in &self.cols {
            offsets[c as usize + 1] += 1;
        }
        for c in 0..n_cols {
            offsets[c + 1] += offsets[c];
        }
        let mut next = offsets.clone();
        let mut cols = vec![0u32; self.cols.len()];
        let mut values = vec![0f32; self.cols.len()];
        for r in 0..self.n_rows() {
            for (&c, &v) in self.row(r).iter().zip(self.row_values(r)) {
                let slot = &mut next[c as usize];
                cols[*slot] = r as u32;
                values[*slot] = v;
                *slot += 1;
            }
        }
        Self { offsets, cols, values }
    }

    /// Row offsets, `[n_rows + 1]`: row `r` is `offsets()[r]..offsets()[r + 1]` of
    /// [`Csr::cols`] and [`Csr::values`].
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// All column indices, row after row, `[nnz]`.
    pub fn cols(&self) -> &[u32] {
        &self.cols
    }

    /// All values, aligned with [`Csr::cols`], `[nnz]`.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Row `r` as `(columns, values)` (both empty for `r >= n_rows()`).
    pub fn entries(&self, r: usize) -> (&[u32], &[f32]) {
        (self.row(r), self.row_values(r))
    }

    /// The stored value at `(r, c)`, if any; O(log row length).
    pub fn get(&self, r: usize, c: u32) -> Option<f32> {
        self.row(r).binary_search(&c).ok().map(|p| self.row_values(r)[p])
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
    fn merged_rows_transpose_and_from_rows() {
        let r = |user, item, rating| Rating { user, item, rating, timestamp: None };
        // (0, 1) twice: summed to 5, or 1 when binary.
        let d = Interactions::new(vec![r(0, 1, 2.0), r(1, 0, 4.0), r(0, 1, 3.0), r(0, 2, 0.5)], 2, 3).unwrap();
        let m = Csr::merged_by_user(&d, false);
        assert_eq!(m.entries(0), (&[1, 2][..], &[5.0, 0.5][..]));
        assert_eq!(m.entries(1), (&[0][..], &[4.0][..]));
        assert_eq!(Csr::merged_by_user(&d, true).row_values(0), &[1.0, 1.0]);
        let t = m.transpose(3);
        assert_eq!((t.n_rows(), t.nnz()), (3, 3));
        assert_eq!((t.entries(0), t.entries(1), t.entries(2)), ((&[1][..], &[4.0][..]), (&[0][..], &[5.0][..]), (&[0][..], &[0.5][..])));
        assert_eq!((m.get(0, 2), m.get(0, 0), m.get(7, 0)), (Some(0.5), None, None));
        let rows = Csr::from_rows([(vec![1, 2], vec![5.0, 0.5]), (vec![0], vec![4.0])]).unwrap();
        assert_eq!(rows, m);
        assert_eq!((rows.offsets(), rows.cols(), rows.values()), (&[0, 2, 3][..], &[1, 2, 0][..], &[5.0, 0.5, 4.0][..]));
        assert!(Csr::from_rows([(vec![2, 1], vec![1.0, 1.0])]).unwrap_err().contains("row 0 are not sorted"));
        assert!(Csr::from_rows([(vec![], vec![]), (vec![1], vec![])]).unwrap_err().contains("row 1 has 1 columns but 0 values"));
        // The name an earlier sparse-row type wrote is still read.
        let old: Csr = serde_json::from_str(r#"{"offsets":[0,1],"cols":[3],"vals":[2.5]}"#).unwrap();
        assert_eq!(old.entries(0), (&[3][..], &[2.5][..]));
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
