//! `compare --plots DIR`: learning curves and a bar chart of the headline metric, each as PNG
//! and SVG (plotters; text drawn with the bundled DejaVu Sans, `assets/`, so no system fonts
//! are needed).

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn font() -> anyhow::Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| register_font("sans-serif", FontStyle::Normal, FONT).is_ok());
    if ok { Ok(()) } else { Err(anyhow!("cannot load the bundled font")) }
}

const COLORS: [RGBColor; 6] =
    [RGBColor(31, 119, 180), RGBColor(255, 127, 14), RGBColor(44, 160, 44), RGBColor(214, 39, 40), RGBColor(148, 103, 189), RGBColor(140, 86, 75)];

fn draw_curves<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, curves: &[(String, Vec<(usize, f64)>)]) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let max_epoch = curves.iter().flat_map(|c| c.1.iter().map(|p| p.0)).max().unwrap_or(1).max(2);
    let ys: Vec<f64> = curves.iter().flat_map(|c| c.1.iter().map(|p| p.1)).filter(|y| y.is_finite()).collect();
    let (lo, hi) = ys.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| (a.min(y), b.max(y)));
    let (lo, hi) = if lo.is_finite() { (lo.min(0.0), hi * 1.05 + 1e-9) } else { (0.0, 1.0) };
    let mut chart = ChartBuilder::on(&root)
        .caption("Learning curves per epoch", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(1f64..max_epoch as f64, lo..hi)
        .map_err(|e| anyhow!("{e:?}"))?;
    chart.configure_mesh().x_desc("epoch").y_desc("train RMSE or loss; validation metric (see legend)").draw().map_err(|e| anyhow!("{e:?}"))?;
    for (k, (name, pts)) in curves.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        chart
            .draw_series(LineSeries::new(pts.iter().map(|&(e, y)| (e as f64, y)), color.stroke_width(2)))
            .map_err(|e| anyhow!("{e:?}"))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart.configure_series_labels().background_style(WHITE).border_style(BLACK).draw().map_err(|e| anyhow!("{e:?}"))?;
    root.present().map_err(|e| anyhow!("{e:?}"))?;
    Ok(())
}

fn draw_bars<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, metric: &str, bars: &[(String, f64)]) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let hi = bars.iter().map(|b| b.1).filter(|v| v.is_finite()).fold(0.0, f64::max) * 1.15 + 1e-9;
    let names: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{metric} by model"), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..bars.len() as f64, 0f64..hi)
        .map_err(|e| anyhow!("{e:?}"))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(bars.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let k = x.floor() as usize;
            if (x - k as f64 - 0.5).abs() < 0.26 { names.get(k).cloned().unwrap_or_default() } else { String::new() }
        })
        .x_desc("model")
        .y_desc(metric)
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    for (k, (_, v)) in bars.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        chart.draw_series(std::iter::once(Rectangle::new([(k as f64 + 0.15, 0.0), (k as f64 + 0.85, *v)], color.filled()))).map_err(|e| anyhow!("{e:?}"))?;
        chart.draw_series(std::iter::once(Text::new(format!("{v:.4}"), (k as f64 + 0.3, *v + hi * 0.02), ("sans-serif", 14)))).map_err(|e| anyhow!("{e:?}"))?;
    }
    root.present().map_err(|e| anyhow!("{e:?}"))?;
    Ok(())
}

/// `curves`: `(label, [(epoch, value)])` series (train RMSE or loss, validation metric). Writes `learning_curves.{png,svg}` (if any curve) and `<metric>.{png,svg}` into `dir`.
///
/// # Errors
/// If `dir` cannot be created or a file cannot be written.
pub fn write_plots(dir: &Path, curves: &[(String, Vec<(usize, f64)>)], metric: &str, bars: &[(String, f64)]) -> anyhow::Result<Vec<String>> {
    font()?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    let mut written = Vec::new();
    let size = (800, 480);
    if !curves.is_empty() {
        let png = dir.join("learning_curves.png");
        draw_curves(BitMapBackend::new(&png, size).into_drawing_area(), curves).with_context(|| format!("writing `{}`", png.display()))?;
        let svg = dir.join("learning_curves.svg");
        draw_curves(SVGBackend::new(&svg, size).into_drawing_area(), curves).with_context(|| format!("writing `{}`", svg.display()))?;
        written.extend([png.display().to_string(), svg.display().to_string()]);
    }
    let stem: String = metric.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let png = dir.join(format!("{stem}.png"));
    draw_bars(BitMapBackend::new(&png, size).into_drawing_area(), metric, bars).with_context(|| format!("writing `{}`", png.display()))?;
    let svg = dir.join(format!("{stem}.svg"));
    draw_bars(SVGBackend::new(&svg, size).into_drawing_area(), metric, bars).with_context(|| format!("writing `{}`", svg.display()))?;
    written.extend([png.display().to_string(), svg.display().to_string()]);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_png_and_svg_with_labels() {
        let dir = tempfile::tempdir().unwrap();
        let curves = vec![("burn-mf".to_string(), vec![(1, 1.2), (2, 0.9), (3, 0.8)])];
        let bars = vec![("svd".to_string(), 0.87), ("burn-mf".to_string(), 0.85)];
        let files = write_plots(dir.path(), &curves, "rmse", &bars).unwrap();
        assert_eq!(files.len(), 4);
        let png = std::fs::read(dir.path().join("rmse.png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let svg = std::fs::read_to_string(dir.path().join("learning_curves.svg")).unwrap();
        assert!(
            svg.contains("\nepoch\n") && svg.contains("\ntrain RMSE or loss; validation metric (see legend)\n") && svg.contains("\nburn-mf\n"),
            "axis labels and legend in the SVG"
        );
        let svg = std::fs::read_to_string(dir.path().join("rmse.svg")).unwrap();
        assert!(svg.contains("\nburn-mf\n") && svg.contains("\n0.8500\n") && svg.contains("\nmodel\n"), "bar labels in the SVG");
    }
}
