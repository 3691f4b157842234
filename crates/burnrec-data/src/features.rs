//! Side features of users and items in one representation: a sparse multi-hot table.
//!
//! Every feature is a categorical `field=value` pair (`genre=Comedy`, `age=25-34`, `gender=F`,
//! `occupation=writer`), so the same table feeds content-based classic models (as sparse
//! vectors) and the neural models' feature embeddings (as lists of feature indices). Rows are
//! indexed like the dataset's users or items; an entity missing from the side file has an
//! empty row.

use serde::{Deserialize, Serialize};

use crate::ids::IdMap;

/// A CSR multi-hot table: row `k` holds the sorted feature indices of user/item `k`.
///
/// # Shapes
/// `offsets`: `[n_rows + 1]`; `indices`: `[nnz]`, each `< n_features()`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureTable {
    names: IdMap,
    offsets: Vec<u32>,
    indices: Vec<u32>,
}

impl FeatureTable {
    /// Checks the table's invariants (offsets start at 0, never decrease and end at the
    /// number of indices; every index names a feature) — for tables read from files.
    ///
    /// # Errors
    /// A sentence saying which invariant fails.
    pub fn validate(&self) -> Result<(), String> {
        if self.offsets.first() != Some(&0) || self.offsets.last().map(|&o| o as usize) != Some(self.indices.len()) {
            return Err("feature table offsets must start at 0 and end at the number of indices".into());
        }
        if self.offsets.windows(2).any(|w| w[0] > w[1]) {
            return Err("feature table offsets decrease".into());
        }
        if let Some(&f) = self.indices.iter().find(|&&f| f as usize >= self.names.len()) {
            return Err(format!("feature index {f} is outside the {} named features", self.names.len()));
        }
        Ok(())
    }

    /// Number of rows (users or items).
    pub fn n_rows(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of distinct features.
    pub fn n_features(&self) -> usize {
        self.names.len()
    }

    /// The sorted feature indices of row `k`; empty for `k >= n_rows()`.
    pub fn row(&self, k: usize) -> &[u32] {
        if k >= self.n_rows() {
            return &[];
        }
        &self.indices[self.offsets[k] as usize..self.offsets[k + 1] as usize]
    }

    /// The `field=value` name of feature `f`.
    pub fn name(&self, f: u32) -> Option<&str> {
        self.names.raw(f)
    }

    /// The index of a `field=value` name.
    pub fn index(&self, name: &str) -> Option<u32> {
        self.names.index(name)
    }

    /// The feature names of row `k`, e.g. `["genre=Animation", "genre=Comedy"]`.
    pub fn row_names(&self, k: usize) -> Vec<&str> {
        self.row(k).iter().filter_map(|&f| self.name(f)).collect()
    }

    /// Row-wise union of two tables over the same rows: `other`'s features are appended to
    /// this vocabulary (e.g. genres + tags).
    ///
    /// # Panics
    /// If the tables have different row counts.
    #[track_caller]
    pub fn merge(&self, other: &FeatureTable) -> FeatureTable {
        assert_eq!(self.n_rows(), other.n_rows(), "merged feature tables must have the same rows");
        let mut b = FeatureBuilder { names: self.names.clone(), rows: vec![Vec::new(); self.n_rows()] };
        let remap: Vec<u32> = (0..other.n_features() as u32).map(|f| b.names.get_or_insert(other.name(f).expect("in range"))).collect();
        for (k, row) in b.rows.iter_mut().enumerate() {
            row.extend_from_slice(self.row(k));
            row.extend(other.row(k).iter().map(|&f| remap[f as usize]));
        }
        b.build()
    }

    /// The table of rows `rows` (old row indices, in their new order; one past the end gives
    /// an empty row, as [`FeatureTable::row`]), with the same feature vocabulary — for a
    /// dataset whose users or items were filtered.
    pub fn select_rows(&self, rows: &[usize]) -> FeatureTable {
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        offsets.push(0u32);
        let mut indices = Vec::new();
        for &k in rows {
            indices.extend_from_slice(self.row(k));
            offsets.push(indices.len() as u32);
        }
        FeatureTable { names: self.names.clone(), offsets, indices }
    }

    /// Rebuilds the name lookup after deserialisation.
    pub fn rebuild_index(&mut self) {
        self.names.rebuild_index();
    }
}

/// Builds a [`FeatureTable`] row by row.
#[derive(Clone, Debug)]
pub struct FeatureBuilder {
    names: IdMap,
    rows: Vec<Vec<u32>>,
}

impl FeatureBuilder {
    /// A builder for `n_rows` rows, all empty.
    pub fn new(n_rows: usize) -> Self {
        Self { names: IdMap::new(), rows: vec![Vec::new(); n_rows] }
    }

    /// Declares a feature so it gets an index even if no row has it (keeps the vocabulary
    /// stable, e.g. all 19 ML-100K genres).
    pub fn declare(&mut self, field: &str, value: &str) -> u32 {
        self.names.get_or_insert(&format!("{field}={value}"))
    }

    /// Sets `field=value` on `row` (ignored if `row` is out of range).
    pub fn set(&mut self, row: usize, field: &str, value: &str) {
        let f = self.declare(field, value);
        if let Some(r) = self.rows.get_mut(row) {
            r.push(f);
        }
    }

    /// Finishes the table (sorting and de-duplicating each row).
    pub fn build(self) -> FeatureTable {
        let mut offsets = Vec::with_capacity(self.rows.len() + 1);
        let mut indices = Vec::new();
        offsets.push(0);
        for mut r in self.rows {
            r.sort_unstable();
            r.dedup();
            indices.extend(r);
            offsets.push(indices.len() as u32);
        }
        FeatureTable { names: self.names, offsets, indices }
    }
}

/// MovieLens 1M's age buckets, applied to raw ages too (ML-100K): under 18, 18–24, 25–34,
/// 35–44, 45–49, 50–55, 56+.
pub fn age_bucket(age: u32) -> &'static str {
    match age {
        0..=17 => "under-18",
        18..=24 => "18-24",
        25..=34 => "25-34",
        35..=44 => "35-44",
        45..=49 => "45-49",
        50..=55 => "50-55",
        _ => "56+",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_makes_sorted_deduplicated_rows() {
        let mut b = FeatureBuilder::new(3);
        b.declare("genre", "Action");
        b.set(0, "genre", "Comedy");
        b.set(0, "genre", "Action");
        b.set(0, "genre", "Comedy");
        b.set(2, "gender", "F");
        b.set(9, "gender", "M"); // out of range: vocabulary only
        let t = b.build();
        assert_eq!((t.n_rows(), t.n_features()), (3, 4));
        assert_eq!(t.row(0), &[0, 1]);
        assert_eq!(t.row_names(0), vec!["genre=Action", "genre=Comedy"]);
        assert!(t.row(1).is_empty());
        assert_eq!(t.row_names(2), vec!["gender=F"]);
        assert!(t.row(7).is_empty());
        assert_eq!(t.index("gender=M"), Some(3));
    }

    #[test]
    fn merge_unions_rows_and_vocabularies() {
        let mut a = FeatureBuilder::new(2);
        a.set(0, "genre", "Drama");
        let mut b = FeatureBuilder::new(2);
        b.set(1, "tag", "funny");
        b.set(0, "genre", "Drama");
        b.set(0, "tag", "dark");
        let m = a.build().merge(&b.build());
        assert_eq!(m.n_features(), 3);
        assert_eq!(m.row_names(0), vec!["genre=Drama", "tag=dark"]);
        assert_eq!(m.row_names(1), vec!["tag=funny"]);
    }

    #[test]
    fn age_buckets_follow_ml1m() {
        let got: Vec<&str> = [1, 17, 18, 24, 25, 34, 35, 44, 45, 49, 50, 55, 56, 73].into_iter().map(age_bucket).collect();
        assert_eq!(got, ["under-18", "under-18", "18-24", "18-24", "25-34", "25-34", "35-44", "35-44", "45-49", "45-49", "50-55", "50-55", "56+", "56+"]);
    }
}
