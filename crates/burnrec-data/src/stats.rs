//! Dataset statistics (`burnrec data stats`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::dataset::Dataset;
use crate::loader::LoadOptions;

/// Quantiles of a count distribution (nearest-rank on the sorted counts).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quantiles {
    /// Smallest count.
    pub min: u32,
    /// 25th percentile.
    pub p25: u32,
    /// Median.
    pub median: u32,
    /// 75th percentile.
    pub p75: u32,
    /// 95th percentile.
    pub p95: u32,
    /// Largest count.
    pub max: u32,
    /// Mean count.
    pub mean: f64,
}

impl Quantiles {
    /// Quantiles of `counts` (nearest rank: the value at position `ceil(q·n) − 1` of the sorted
    /// counts); `None` if empty.
    pub fn of(counts: &[u32]) -> Option<Self> {
        if counts.is_empty() {
            return None;
        }
        let mut c = counts.to_vec();
        c.sort_unstable();
        let at = |q: f64| c[((q * c.len() as f64).ceil() as usize).clamp(1, c.len()) - 1];
        Some(Self {
            min: c[0],
            p25: at(0.25),
            median: at(0.5),
            p75: at(0.75),
            p95: at(0.95),
            max: c[c.len() - 1],
            mean: c.iter().map(|&x| f64::from(x)).sum::<f64>() / c.len() as f64,
        })
    }
}

/// Everything `burnrec data stats` prints.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatasetStats {
    /// Dataset name.
    pub name: String,
    /// Distinct users.
    pub users: usize,
    /// Distinct items with at least one rating.
    pub items: usize,
    /// Ratings (after the duplicate policy).
    pub ratings: usize,
    /// `ratings / (users × items)`.
    pub density: f64,
    /// Mean rating.
    pub mean_rating: f64,
    /// Rating scale `(min, max)`, declared or inferred.
    pub scale: (f32, f32),
    /// Whether the scale was declared (`--scale`) rather than inferred.
    pub scale_declared: bool,
    /// The duplicate policy applied.
    pub duplicates: String,
    /// The implicit threshold and interaction minimums applied, e.g. `ratings >= 4 as positives ·
    /// users >= 5 · items >= 5`, or `none`.
    pub filters: String,
    /// Count of each distinct rating value (up to 50 values; `None` beyond, e.g. play counts).
    pub histogram: Option<BTreeMap<String, usize>>,
    /// Ratings per user.
    pub per_user: Quantiles,
    /// Ratings per item.
    pub per_item: Quantiles,
    /// Earliest and latest timestamp (seconds since 1970), if the data has timestamps.
    pub time_span: Option<(i64, i64)>,
    /// Items with titles / item and user side-feature counts.
    pub titles: usize,
    /// Number of distinct item features (genres, …), if loaded.
    pub item_features: Option<usize>,
    /// Number of distinct user features (age, gender, occupation, …), if loaded.
    pub user_features: Option<usize>,
}

impl DatasetStats {
    /// Computes the statistics of a non-empty dataset loaded with `opts`.
    pub fn of(d: &Dataset, opts: &LoadOptions) -> Self {
        let x = &d.interactions;
        let mut hist: BTreeMap<u32, usize> = BTreeMap::new();
        for &v in x.values() {
            *hist.entry(v.to_bits()).or_default() += 1;
        }
        let histogram = (hist.len() <= 50).then(|| {
            let mut pairs: Vec<(f32, usize)> = hist.iter().map(|(&b, &c)| (f32::from_bits(b), c)).collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            pairs.into_iter().map(|(v, c)| (format!("{v}"), c)).collect()
        });
        let time_span = x.timestamps().and_then(|t| Some((*t.iter().min()?, *t.iter().max()?)));
        Self {
            name: d.name.clone(),
            users: d.n_users(),
            items: d.n_items(),
            ratings: d.len(),
            density: d.len() as f64 / (d.n_users() as f64 * d.n_items() as f64),
            mean_rating: x.global_mean().unwrap_or(f64::NAN),
            scale: d.scale,
            scale_declared: opts.scale.is_some(),
            duplicates: opts.duplicates.to_string(),
            filters: {
                let mut f = Vec::new();
                if let Some(t) = opts.implicit_threshold {
                    f.push(format!("ratings >= {t} as positives"));
                }
                if opts.min_user_interactions > 1 {
                    f.push(format!("users >= {}", opts.min_user_interactions));
                }
                if opts.min_item_interactions > 1 {
                    f.push(format!("items >= {}", opts.min_item_interactions));
                }
                if f.is_empty() { "none".to_string() } else { f.join(" · ") }
            },
            histogram,
            per_user: Quantiles::of(&x.user_counts()).expect("a loaded dataset is not empty"),
            per_item: Quantiles::of(&x.item_counts()).expect("a loaded dataset is not empty"),
            time_span,
            titles: d.item_titles.iter().filter(|t| t.is_some()).count(),
            item_features: d.item_features.as_ref().map(|f| f.n_features()),
            user_features: d.user_features.as_ref().map(|f| f.n_features()),
        }
    }

    /// Human-readable report.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let q =
            |q: &Quantiles| format!("min {} · p25 {} · median {} · p75 {} · p95 {} · max {} · mean {:.1}", q.min, q.p25, q.median, q.p75, q.p95, q.max, q.mean);
        let _ = writeln!(s, "dataset      {}", self.name);
        let _ = writeln!(s, "users        {}", self.users);
        let _ = writeln!(s, "items        {}", self.items);
        let _ = writeln!(s, "ratings      {}", self.ratings);
        let _ = writeln!(s, "density      {:.4}%", self.density * 100.0);
        let _ = writeln!(s, "mean rating  {:.4}", self.mean_rating);
        let _ = writeln!(
            s,
            "scale        {} to {} ({})",
            self.scale.0,
            self.scale.1,
            if self.scale_declared { "declared with --scale" } else { "inferred from the data; declare with --scale MIN,MAX" }
        );
        let _ = writeln!(s, "duplicates   policy `{}` (default `error`; --duplicates error|first|last|mean)", self.duplicates);
        let _ = writeln!(s, "filters      {} (--implicit-threshold, --min-user-interactions, --min-item-interactions)", self.filters);
        let _ = writeln!(s, "per user     {}", q(&self.per_user));
        let _ = writeln!(s, "per item     {}", q(&self.per_item));
        match self.time_span {
            Some((a, b)) => {
                let _ = writeln!(s, "time span    {a} .. {b} (Unix seconds; {:.1} days)", (b - a) as f64 / 86_400.0);
            }
            None => {
                let _ = writeln!(s, "time span    no timestamps");
            }
        }
        let _ = writeln!(s, "titles       {} of {} items", self.titles, self.items);
        let f = |n: Option<usize>| n.map_or("none".to_string(), |n| n.to_string());
        let _ = writeln!(s, "features     items {} · users {}", f(self.item_features), f(self.user_features));
        if let Some(h) = &self.histogram {
            let _ = writeln!(s, "histogram");
            let max = h.values().copied().max().unwrap_or(1).max(1);
            for (v, &c) in h {
                let _ = writeln!(s, "  {v:>6}  {c:>9}  {}", "#".repeat((c * 40).div_ceil(max)));
            }
        } else {
            let _ = writeln!(s, "histogram    more than 50 distinct values (counts or confidences)");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::{DelimitedFormat, read_ratings};

    #[test]
    fn nearest_rank_quantiles() {
        let q = Quantiles::of(&[5, 1, 4, 2, 3, 10, 7, 8, 6, 9]).unwrap();
        assert_eq!((q.min, q.p25, q.median, q.p75, q.p95, q.max), (1, 3, 5, 8, 10, 10));
        assert!((q.mean - 5.5).abs() < 1e-12);
        assert_eq!(Quantiles::of(&[]), None);
    }

    #[test]
    fn stats_of_a_small_file() {
        let text = "1\t10\t4\t100\n1\t11\t5\t300\n2\t10\t4\t200\n";
        let opts = LoadOptions::default();
        let d = read_ratings(text.as_bytes(), "s.tsv", &DelimitedFormat::ml100k(), &opts).unwrap();
        let s = DatasetStats::of(&d, &opts);
        assert_eq!((s.users, s.items, s.ratings), (2, 2, 3));
        assert!((s.density - 0.75).abs() < 1e-12);
        assert_eq!(s.time_span, Some((100, 300)));
        let h = s.histogram.as_ref().unwrap();
        assert_eq!(h.get("4"), Some(&2));
        assert_eq!(h.get("5"), Some(&1));
        assert_eq!((s.per_user.min, s.per_user.max), (1, 2));
        let text = s.to_text();
        assert!(text.contains("density      75.0000%"), "{text}");
        assert!(text.contains("scale        4 to 5 (inferred from the data"), "{text}");
    }
}
