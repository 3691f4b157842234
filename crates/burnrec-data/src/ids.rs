//! Raw id ↔ contiguous index maps.
//!
//! Datasets name users and items by *raw ids* (any string: `"196"`, `"u_42"`, an artist name).
//! Models work on *indices*: contiguous `u32` values `0..len`, assigned in order of first
//! appearance. An [`IdMap`] holds both directions and travels with the dataset (and later with
//! trained models), so that results can always be reported in the raw ids users know.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// A bijection between raw string ids and contiguous `u32` indices `0..len()`.
///
/// Indices are assigned in order of first insertion, so loading the same file twice gives the
/// same map.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdMap {
    raw: Vec<String>,
    #[serde(skip)]
    index: HashMap<String, u32>,
}

impl IdMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a map from raw ids in index order; duplicates keep their first index.
    pub fn from_raw<I, S>(raw: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut map = Self::new();
        for r in raw {
            map.get_or_insert(&r.into());
        }
        map
    }

    /// Returns the index of `raw`, inserting it with the next free index if it is new.
    ///
    /// # Panics
    /// If more than `u32::MAX` distinct ids are inserted.
    pub fn get_or_insert(&mut self, raw: &str) -> u32 {
        if let Some(&i) = self.index.get(raw) {
            return i;
        }
        let i = u32::try_from(self.raw.len()).expect("more than u32::MAX distinct ids");
        self.raw.push(raw.to_string());
        self.index.insert(raw.to_string(), i);
        i
    }

    /// The index of a raw id, or `None` if it was never seen.
    pub fn index(&self, raw: &str) -> Option<u32> {
        self.index.get(raw).copied()
    }

    /// The raw id of an index, or `None` if `index >= len()`.
    pub fn raw(&self, index: u32) -> Option<&str> {
        self.raw.get(index as usize).map(String::as_str)
    }

    /// Number of distinct ids.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Raw ids in index order.
    pub fn raw_ids(&self) -> &[String] {
        &self.raw
    }

    /// Rebuilds the raw → index direction after deserialisation (it is not serialised).
    pub fn rebuild_index(&mut self) {
        self.index = self.raw.iter().enumerate().map(|(i, r)| (r.clone(), i as u32)).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn indices_follow_first_appearance() {
        let m = IdMap::from_raw(["b", "a", "b", "c"]);
        assert_eq!(m.len(), 3);
        assert_eq!(m.index("b"), Some(0));
        assert_eq!(m.index("a"), Some(1));
        assert_eq!(m.index("c"), Some(2));
        assert_eq!(m.index("z"), None);
        assert_eq!(m.raw(1), Some("a"));
        assert_eq!(m.raw(3), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn roundtrip(keys in prop::collection::vec("[a-z0-9]{1,6}", 0..200)) {
            let m = IdMap::from_raw(keys.iter().cloned());
            for k in &keys {
                let i = m.index(k).unwrap();
                prop_assert_eq!(m.raw(i), Some(k.as_str()));
            }
            for i in 0..m.len() as u32 {
                prop_assert_eq!(m.index(m.raw(i).unwrap()), Some(i));
            }
            let distinct: std::collections::HashSet<_> = keys.iter().collect();
            prop_assert_eq!(m.len(), distinct.len());
        }
    }

    #[test]
    fn serde_roundtrip_rebuilds_index() {
        let m = IdMap::from_raw(["10", "20"]);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"raw":["10","20"]}"#);
        let mut back: IdMap = serde_json::from_str(&json).unwrap();
        assert_eq!(back.index("20"), None, "index is rebuilt explicitly");
        back.rebuild_index();
        assert_eq!(back, m);
        assert_eq!(back.index("20"), Some(1));
    }
}
