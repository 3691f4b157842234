//! Report rows and their table / JSON / CSV / Markdown renderings.

use serde_json::{Map, Value};

/// One line of a `compare` report: the model, its backend, then named numeric columns in
/// display order (e.g. `rmse`, `mae`, `fit_s`, `predict_s`).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Model name (`global-mean`, `baseline`, `svd`, `burn-mf`).
    pub model: String,
    /// Burn backend, or `-` for classic models.
    pub backend: String,
    /// `(column, value)` pairs, in display order.
    pub values: Vec<(String, f64)>,
    /// Per-fold values when the row is a mean over folds (empty otherwise); JSON only.
    pub folds: Vec<Vec<(String, f64)>>,
}

/// The value columns: every key of every row, in order of first appearance (rows differ
/// when, for example, an implicit-feedback model has no RMSE).
fn columns(rows: &[Row]) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for r in rows {
        for (k, _) in &r.values {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    // Timings last, always in the same order (whichever model comes first).
    let timing = |k: &str| TIMINGS.iter().position(|t| k.strip_suffix("_std").unwrap_or(k) == *t);
    cols.sort_by_key(|k| timing(k).map_or((0, 0), |p| (1, 2 * p + usize::from(k.ends_with("_std")))));
    cols
}

/// Timing columns, in display order after every metric.
const TIMINGS: [&str; 5] = ["fit_s", "predict_s", "eval_s", "epoch_s", "samples_per_s"];

fn header(rows: &[Row]) -> Vec<String> {
    let mut h = vec!["model".to_string(), "backend".to_string()];
    h.extend(columns(rows));
    h
}

fn value(r: &Row, key: &str) -> Option<f64> {
    r.values.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

/// A row's cells under `cols`; `-` where the row has no such value or it is undefined (NaN).
fn cells(r: &Row, cols: &[String]) -> Vec<String> {
    let mut c = vec![r.model.clone(), r.backend.clone()];
    c.extend(cols.iter().map(|k| match value(r, k) {
        None => "-".to_string(),
        Some(v) if v.is_nan() => "-".to_string(),
        Some(v) if k.ends_with("per_s") => format!("{v:.0}"),
        Some(v) if k.starts_with("best_epoch") => {
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        }
        Some(v) if k.ends_with("_s") => format!("{v:.3}"),
        Some(v) => format!("{v:.4}"),
    }));
    c
}

/// Renders rows as an aligned text table with a header line (text left, numbers right).
pub fn table(rows: &[Row]) -> String {
    let head = header(rows);
    let cols = columns(rows);
    let body: Vec<Vec<String>> = rows.iter().map(|r| cells(r, &cols)).collect();
    let mut width: Vec<usize> = head.iter().map(String::len).collect();
    for c in &body {
        for (w, s) in width.iter_mut().zip(c) {
            *w = (*w).max(s.len());
        }
    }
    let line = |c: &[String]| {
        let mut s = String::new();
        for (k, (cell, &w)) in c.iter().zip(&width).enumerate() {
            if k > 0 {
                s.push_str("  ");
            }
            if k < 2 { s.push_str(&format!("{cell:<w$}")) } else { s.push_str(&format!("{cell:>w$}")) }
        }
        s.trim_end().to_string()
    };
    let mut out = line(&head);
    out.push('\n');
    for c in &body {
        out.push_str(&line(c));
        out.push('\n');
    }
    out
}

/// Renders rows as a pretty-printed JSON array of objects (numbers as numbers; a non-finite
/// value becomes `null`).
///
/// # Errors
/// Never in practice.
pub fn json(rows: &[Row]) -> serde_json::Result<String> {
    let arr: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("model".into(), Value::from(r.model.clone()));
            m.insert("backend".into(), Value::from(r.backend.clone()));
            let num = |v: f64| serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
            for (k, v) in &r.values {
                m.insert(k.clone(), num(*v));
            }
            if !r.folds.is_empty() {
                let folds = r.folds.iter().map(|f| Value::Object(f.iter().map(|(k, v)| (k.clone(), num(*v))).collect())).collect();
                m.insert("folds".into(), Value::Array(folds));
            }
            Value::Object(m)
        })
        .collect();
    serde_json::to_string_pretty(&arr)
}

/// Renders rows as CSV with a header line (full precision).
pub fn csv(rows: &[Row]) -> String {
    let mut out = header(rows).join(",");
    out.push('\n');
    let cols = columns(rows);
    for r in rows {
        let mut c = vec![r.model.clone(), r.backend.clone()];
        c.extend(cols.iter().map(|k| value(r, k).map_or(String::new(), |v| v.to_string())));
        out.push_str(&c.join(","));
        out.push('\n');
    }
    out
}

/// Renders rows as a GitHub-flavoured Markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let head = header(rows);
    let mut out = format!("| {} |\n", head.join(" | "));
    out.push_str(&format!("|{}\n", head.iter().enumerate().map(|(k, _)| if k < 2 { " --- |" } else { " ---: |" }).collect::<String>()));
    let cols = columns(rows);
    for r in rows {
        out.push_str(&format!("| {} |\n", cells(r, &cols).join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(model: &str, backend: &str, v: &[(&str, f64)]) -> Row {
        Row { model: model.into(), backend: backend.into(), values: v.iter().map(|(k, x)| (k.to_string(), *x)).collect(), folds: Vec::new() }
    }

    fn rows() -> Vec<Row> {
        vec![
            row("svd", "-", &[("rmse", 0.87654), ("mae", 0.6712), ("fit_s", 1.5), ("predict_s", 0.0123)]),
            row("burn-mf", "flex", &[("rmse", 0.881), ("mae", 0.68), ("fit_s", 12.25), ("predict_s", 0.1)]),
        ]
    }

    #[test]
    fn table_layout() {
        let expect = "\
model    backend    rmse     mae   fit_s  predict_s
svd      -        0.8765  0.6712   1.500      0.012
burn-mf  flex     0.8810  0.6800  12.250      0.100
";
        assert_eq!(table(&rows()), expect);
    }

    #[test]
    fn json_has_exactly_the_table_keys_and_numbers() {
        let v: serde_json::Value = serde_json::from_str(&json(&rows()).unwrap()).unwrap();
        let obj = v[0].as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["backend", "fit_s", "mae", "model", "predict_s", "rmse"]);
        assert_eq!(v[0]["rmse"].as_f64(), Some(0.87654));
        assert_eq!(v[1]["backend"], "flex");
    }

    #[test]
    fn csv_and_markdown() {
        assert_eq!(csv(&rows()).lines().next(), Some("model,backend,rmse,mae,fit_s,predict_s"));
        assert_eq!(csv(&rows()).lines().nth(1), Some("svd,-,0.87654,0.6712,1.5,0.0123"));
        let md = markdown(&rows());
        assert!(md.starts_with("| model | backend | rmse | mae | fit_s | predict_s |\n| --- | --- | ---: | ---: | ---: | ---: |\n"), "{md}");
        assert!(md.contains("| burn-mf | flex | 0.8810 | 0.6800 | 12.250 | 0.100 |"));
    }

    #[test]
    fn rows_without_a_metric_show_a_dash_and_folds_go_to_json() {
        let mut rs = vec![row("svd", "-", &[("rmse", 0.9), ("fit_s", 0.5)]), row("als", "-", &[("hr@10", 0.08), ("fit_s", 0.2)])];
        rs[0].folds = vec![vec![("rmse".into(), 0.8)], vec![("rmse".into(), 1.0)]];
        let t = table(&rs);
        // Timings after every metric, whichever row brought them first.
        assert_eq!(t.lines().next().unwrap().split_whitespace().collect::<Vec<_>>(), ["model", "backend", "rmse", "hr@10", "fit_s"]);
        assert_eq!(t.lines().nth(2).unwrap().split_whitespace().collect::<Vec<_>>(), ["als", "-", "-", "0.0800", "0.200"]);
        assert_eq!(csv(&rs).lines().nth(2).unwrap(), "als,-,,0.08,0.2");
        let burn = row("burn-mf", "flex", &[("epoch_s", 0.1), ("samples_per_s", 9.0), ("rmse", 0.9), ("fit_s", 2.0), ("predict_s", 0.01)]);
        let cols = columns(&[burn, row("svd", "-", &[("rmse", 0.9), ("fit_s", 0.5), ("predict_s", 0.1)])]);
        assert_eq!(cols, ["rmse", "fit_s", "predict_s", "epoch_s", "samples_per_s"]);
        let v: serde_json::Value = serde_json::from_str(&json(&rs).unwrap()).unwrap();
        assert_eq!(v[0]["folds"][1]["rmse"], 1.0);
        assert!(v[1].get("folds").is_none() && v[1].get("rmse").is_none());
    }
}
