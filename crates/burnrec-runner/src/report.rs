//! Report rows and their table / JSON renderings.

use serde::Serialize;

/// One line of a `compare` report. The JSON form has exactly these keys.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// Model name (`global-mean`, `baseline`, `svd`, `burn-mf`).
    pub model: String,
    /// Burn backend, or `-` for classic models.
    pub backend: String,
    /// Root-mean-square error on the test ratings, rating units.
    pub rmse: f64,
    /// Mean absolute error on the test ratings, rating units.
    pub mae: f64,
    /// Seconds to fit.
    pub fit_s: f64,
    /// Seconds to predict every test rating.
    pub predict_s: f64,
}

/// Renders rows as an aligned text table with a header line.
pub fn table(rows: &[Row]) -> String {
    let header = ["model", "backend", "rmse", "mae", "fit_s", "predict_s"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.model.clone(),
                r.backend.clone(),
                format!("{:.4}", r.rmse),
                format!("{:.4}", r.mae),
                format!("{:.3}", r.fit_s),
                format!("{:.3}", r.predict_s),
            ]
        })
        .collect();
    let mut width = header.map(str::len);
    for c in &cells {
        for (w, s) in width.iter_mut().zip(c) {
            *w = (*w).max(s.len());
        }
    }
    let line = |c: &[String]| {
        let mut s = String::new();
        for (k, (cell, w)) in c.iter().zip(width).enumerate() {
            if k > 0 {
                s.push_str("  ");
            }
            // Text columns left-aligned, numbers right-aligned.
            if k < 2 { s.push_str(&format!("{cell:<w$}")) } else { s.push_str(&format!("{cell:>w$}")) }
        }
        s.trim_end().to_string()
    };
    let mut out = line(&header.map(String::from));
    out.push('\n');
    for c in &cells {
        out.push_str(&line(c));
        out.push('\n');
    }
    out
}

/// Renders rows as a pretty-printed JSON array of objects.
///
/// # Errors
/// Never in practice (rows hold only strings and finite numbers); a non-finite number would
/// be written as `null` by serde_json.
pub fn json(rows: &[Row]) -> serde_json::Result<String> {
    serde_json::to_string_pretty(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Row> {
        vec![
            Row { model: "svd".into(), backend: "-".into(), rmse: 0.87654, mae: 0.6712, fit_s: 1.5, predict_s: 0.0123 },
            Row { model: "burn-mf".into(), backend: "flex".into(), rmse: 0.881, mae: 0.68, fit_s: 12.25, predict_s: 0.1 },
        ]
    }

    #[test]
    fn table_layout() {
        let t = table(&rows());
        let expect = "\
model    backend    rmse     mae   fit_s  predict_s
svd      -        0.8765  0.6712   1.500      0.012
burn-mf  flex     0.8810  0.6800  12.250      0.100
";
        assert_eq!(t, expect);
    }

    #[test]
    fn json_has_exactly_the_table_keys_and_numbers() {
        let v: serde_json::Value = serde_json::from_str(&json(&rows()).unwrap()).unwrap();
        let obj = v[0].as_object().unwrap();
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 6);
        for k in ["model", "backend", "rmse", "mae", "fit_s", "predict_s"] {
            assert!(obj.contains_key(k), "{k}");
        }
        assert_eq!(v[0]["rmse"].as_f64(), Some(0.87654));
        assert_eq!(v[1]["backend"], "flex");
    }
}
