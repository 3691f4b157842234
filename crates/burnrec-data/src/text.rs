//! The text a sentence encoder reads for each item, built from the dataset's side files.
//!
//! Template ([`ItemText`]; `{…}` omitted with its label when the item has none):
//!
//! ```text
//! {title}. Genres: {genre}, {genre}, …. Tags: {tag}, {tag}, ….
//! ```
//!
//! - `title`: the item's title (ML-100K `u.item`, ML-1M / ml-latest `movies.*`, Last.fm
//!   artist names), else the item's raw id;
//! - genres: the item's `genre=…` features, in the table's order;
//! - tags: its `tag=…` features (ml-latest `tags.csv`), at most [`ItemText::max_tags`], in the
//!   table's order (ML-100K has none: title + genres).
//!
//! Example (ML-100K item 1): `Toy Story (1995). Genres: Animation, Children's, Comedy.`

use crate::dataset::Dataset;

/// How item texts are built (see the [module docs](self) for the template).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ItemText {
    /// Most tags written per item (default 10): tags can be many, and the encoder truncates
    /// long texts anyway.
    pub max_tags: usize,
}

impl Default for ItemText {
    fn default() -> Self {
        Self { max_tags: 10 }
    }
}

impl ItemText {
    /// The text of every item of `data`, `[n_items]`, indexed like the items.
    pub fn texts(&self, data: &Dataset) -> Vec<String> {
        (0..data.n_items() as u32).map(|i| self.text(data, i)).collect()
    }

    /// The text of item `item` (an index of `data`'s items).
    pub fn text(&self, data: &Dataset, item: u32) -> String {
        let title = data.item_title(item).map(str::to_string).or_else(|| data.items.raw(item).map(str::to_string)).unwrap_or_default();
        let (mut genres, mut tags) = (Vec::new(), Vec::new());
        if let Some(f) = &data.item_features {
            for name in f.row_names(item as usize) {
                if let Some(g) = name.strip_prefix("genre=") {
                    genres.push(g);
                } else if let Some(t) = name.strip_prefix("tag=") {
                    tags.push(t);
                }
            }
        }
        tags.truncate(self.max_tags);
        compose(title.trim(), &genres, &tags)
    }
}

/// `title. Genres: a, b. Tags: x, y.` with empty parts left out.
pub fn compose(title: &str, genres: &[&str], tags: &[&str]) -> String {
    let mut s = title.to_string();
    for (label, list) in [("Genres", genres), ("Tags", tags)] {
        if list.is_empty() {
            continue;
        }
        if !s.is_empty() {
            s.push_str(". ");
        }
        s.push_str(label);
        s.push_str(": ");
        s.push_str(&list.join(", "));
    }
    if !s.is_empty() && !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// Dense item vectors (text embeddings from a sentence encoder), rows by item index.
///
/// # Shapes
/// `values`: `[n_items × dim]`, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemEmbeddings {
    dim: usize,
    values: Vec<f32>,
}

impl ItemEmbeddings {
    /// Wraps `values` (`[n × dim]`, row-major).
    ///
    /// # Errors
    /// A message if `dim` is 0, `values.len()` is not a multiple of it, or a value is not finite.
    pub fn new(values: Vec<f32>, dim: usize) -> Result<Self, String> {
        if dim == 0 || !values.len().is_multiple_of(dim) {
            return Err(format!("{} values do not make rows of width {dim}", values.len()));
        }
        if let Some(k) = values.iter().position(|v| !v.is_finite()) {
            return Err(format!("value {} of row {} is {}, expected a finite number", k % dim, k / dim, values[k]));
        }
        Ok(Self { dim, values })
    }

    /// The width `d`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Rows (items).
    pub fn n_rows(&self) -> usize {
        self.values.len() / self.dim
    }

    /// Row `i`, `[dim]` (empty outside the table).
    pub fn row(&self, i: usize) -> &[f32] {
        self.values.get(i * self.dim..(i + 1) * self.dim).unwrap_or(&[])
    }

    /// All values, `[n_rows × dim]`.
    pub fn values(&self) -> &[f32] {
        &self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template() {
        assert_eq!(compose("Toy Story (1995)", &["Animation", "Children's", "Comedy"], &[]), "Toy Story (1995). Genres: Animation, Children's, Comedy.");
        assert_eq!(compose("Heat (1995)", &["Action"], &["pacino", "de niro"]), "Heat (1995). Genres: Action. Tags: pacino, de niro.");
        assert_eq!(compose("Untitled", &[], &[]), "Untitled.");
        assert_eq!(compose("", &["Drama"], &[]), "Genres: Drama.");
        assert_eq!(compose("", &[], &[]), "");
        assert_eq!(compose("Dr. Strangelove.", &[], &[]), "Dr. Strangelove.");
    }

    #[test]
    fn items_with_titles_genres_and_tags() {
        let data = crate::DatasetSpec::Bundled.load(&crate::LoadOptions::default()).unwrap();
        let texts = ItemText::default().texts(&data);
        assert_eq!(texts.len(), data.n_items());
        let toy = data.items.index("1").unwrap();
        // The bundled copy has no tags.csv: title + genres.
        assert_eq!(texts[toy as usize], "Toy Story (1995). Genres: Adventure, Animation, Children, Comedy, Fantasy.");
        // Tags (as ml-latest's tags.csv gives them), at most `max_tags`; a missing title falls
        // back to the raw id.
        let mut fb = crate::features::FeatureBuilder::new(2);
        fb.set(0, "genre", "Crime");
        for t in ["heist", "pacino", "la"] {
            fb.set(0, "tag", t);
        }
        let small = Dataset {
            name: "t".into(),
            interactions: crate::Interactions::new(vec![], 1, 2).unwrap(),
            users: crate::IdMap::from_raw(["u"]),
            items: crate::IdMap::from_raw(["6", "77"]),
            item_titles: vec![Some("Heat (1995)".into()), None],
            scale: (1.0, 5.0),
            item_features: Some(fb.build()),
            user_features: None,
        };
        assert_eq!(ItemText { max_tags: 2 }.text(&small, 0), "Heat (1995). Genres: Crime. Tags: heist, pacino.");
        assert_eq!(ItemText::default().text(&small, 1), "77.");
    }

    #[test]
    fn item_embeddings_check_their_shape() {
        let e = ItemEmbeddings::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3).unwrap();
        assert_eq!((e.n_rows(), e.dim(), e.row(1), e.row(2)), (2, 3, &[4.0, 5.0, 6.0][..], &[][..]));
        assert!(ItemEmbeddings::new(vec![1.0; 5], 3).unwrap_err().contains("rows of width 3"));
        assert!(ItemEmbeddings::new(vec![1.0; 3], 0).is_err());
        assert!(ItemEmbeddings::new(vec![1.0, f32::NAN, 0.0, 0.0], 2).unwrap_err().contains("value 1 of row 0 is NaN"));
    }
}
