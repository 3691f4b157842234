//! Progress on stderr (a bar on a terminal, one line per epoch otherwise) and peak memory.

use super::*;

/// Peak resident set size of this process in MiB, from `/proc/self/status` (`VmHWM`, Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub(super) fn progress_bar(show: bool, samples: u64, epoch: usize, epochs: usize, previous_loss: Option<f64>) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(samples);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {human_pos}/{human_len} samples, {rate} {msg}")
            .expect("valid template")
            // Whole samples per second (the built-in `per_sec` prints four decimals).
            .with_key("rate", |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} samples/s", s.per_sec());
            })
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("epoch {epoch}/{epochs}"));
    if let Some(l) = previous_loss {
        bar.set_message(format!("(previous epoch loss {l:.4})"));
    }
    bar
}
