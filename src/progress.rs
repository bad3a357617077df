//! The progress bar on stderr: one bar for all inputs, counting the bytes read from disk or pipe
//! (compressed bytes for a compressed input) against their sizes, and the notes printed past it.

use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// The bar, hidden unless asked for (a terminal, not `--quiet`), and the bytes of the inputs
/// finished so far.
pub struct Progress {
    bar: ProgressBar,
    finished: u64,
}

impl Progress {
    /// `total`: the bytes of every input, when all their sizes are known (not a pipe).
    pub fn new(show: bool, total: Option<u64>) -> Progress {
        let bar = if !show {
            ProgressBar::hidden()
        } else {
            let bar = match total {
                Some(total) => ProgressBar::new(total)
                    .with_style(style("{bytes}/{total_bytes} {wide_bar} {rate} ETA {eta}")),
                None => ProgressBar::new_spinner().with_style(style("{spinner} {bytes} {rate}")),
            };
            bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
            bar
        };
        Progress { bar, finished: 0 }
    }

    /// Shows `read` bytes read of the current input.
    pub fn at(&self, read: u64) {
        self.bar.set_position(self.finished + read);
    }

    /// The current input is done after `read` bytes.
    pub fn input_done(&mut self, read: u64) {
        self.finished += read;
        self.bar.set_position(self.finished);
    }

    /// Prints a line on `stderr` without tearing the bar.
    pub fn note(&self, stderr: &mut dyn Write, line: &str) {
        self.bar.suspend(|| {
            let _ = writeln!(stderr, "{line}");
        });
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn average_rate(state: &ProgressState) -> f64 {
    state.pos() as f64 / state.elapsed().as_secs_f64().max(1e-3)
}

/// indicatif's own rate estimator is smoothed over many seconds and reads far too low on a scan
/// that lasts a few: show the average since the start, and the ETA it implies.
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("valid template")
        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}/s", indicatif::BinaryBytes(average_rate(s) as u64));
        })
        .with_key("eta", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let left = s.len().unwrap_or(0).saturating_sub(s.pos()) as f64;
            let rate = average_rate(s);
            let secs = if rate > 0.0 { left / rate } else { 0.0 };
            let _ = write!(
                w,
                "{}",
                indicatif::HumanDuration(Duration::from_secs_f64(secs))
            );
        })
}
