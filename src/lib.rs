//! backfill-triage: reads backfill logs and writes the retry manifest.
//!
//! The pipeline: [`scan`] cuts inputs into chunks and classifies them in parallel with
//! [`classify`] (rules from [`rules`], fields from [`extract`]); [`triage`] folds the events in input
//! order into runs, attempts and retry rows; [`output`] and [`summary`] write the results.

pub mod category;
pub mod classify;
pub mod completeness;
pub mod config;
pub mod date;
pub mod error;
pub mod extract;
pub mod history;
pub mod manifest;
mod mapped;
pub mod output;
pub mod processors;
pub mod rules;
pub mod scan;
pub mod signal;
pub mod summary;
pub mod triage;
pub mod vocab;

use std::fs;
use std::io::{self, Write};

use classify::Classifier;
use config::{Config, Format};
pub use error::{Error, Result};
use manifest::InputStats;
use scan::{Chunk, Scanner, Source};
use triage::Triage;

/// The built-in rules with the config's rule files layered over them, compiled.
pub fn load_classifier(config: &Config) -> Result<Classifier> {
    let mut all = rules::builtin();
    for path in &config.rules {
        let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        rules::layer(&mut all, rules::parse(&text, &path.display().to_string())?);
    }
    Classifier::new(all, &config.processors)
}

/// Checks every rule's examples and counter-examples against the whole rule set; returns one line
/// per problem.
pub fn check_rules(classifier: &Classifier) -> Vec<String> {
    let mut problems = Vec::new();
    let ids = rules::RuleId::all(classifier.rules().len());
    for (i, rule) in ids.zip(classifier.rules()) {
        let wins = |line: &str| {
            classifier
                .classify(line.as_bytes(), true)
                .filter(|e| e.failure)
                .and_then(|e| e.rule)
        };
        for example in &rule.examples {
            let got = wins(example);
            if got != Some(i) {
                let got = classifier.rule_id(got).unwrap_or("no failure rule");
                problems.push(format!(
                    "{} ({}): example won by {got}: {example}",
                    rule.id, rule.origin
                ));
            }
        }
        for counter in &rule.counter_examples {
            if wins(counter) == Some(i) {
                problems.push(format!(
                    "{} ({}): counter-example matched: {counter}",
                    rule.id, rule.origin
                ));
            }
        }
    }
    problems
}

/// Runs `scan`: reads every input, writes the manifest if asked, and prints the chosen format to
/// `stdout`. A closed stdout (`| head`) stops the printing quietly; the manifest, if asked for, is
/// still written.
pub fn run_scan(config: &Config, stdout: &mut (dyn Write + Send)) -> Result<()> {
    let classifier = load_classifier(config)?;
    // Read before the logs: a bad schedule or history file fails at once, not after a long scan.
    let completeness = completeness::load(config, classifier.processors())?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .build()
        .map_err(|e| Error::io("thread pool", io::Error::other(e.to_string())))?;
    let events = config.format == Format::Events;
    let scanner = Scanner {
        classifier: &classifier,
        pool: &pool,
        chunk_size: config.chunk_size,
        mmap: config.mmap,
        keep_mentions: events,
    };
    let bar = progress_bar(config);
    let mut triage = Triage::new(&classifier);
    let mut inputs: Vec<InputStats> = Vec::new();
    let mut out = Out {
        inner: stdout,
        open: true,
        error: None,
    };
    let mut done = 0u64;
    for source in &config.inputs {
        let name = source.name();
        let file = triage.add_file(name.clone());
        let mut base_line = 0u64;
        let keep_scanning = config.manifest.is_some() || !events;
        let mut fold = |chunk: Chunk| -> bool {
            for mut event in chunk.events.events {
                event.line += base_line;
                event.offset += chunk.offset;
                if events && output::is_reported(&event) {
                    out.write(|w| output::write_event(w, &name, &event, &classifier));
                }
                triage.feed(file, event);
            }
            base_line += chunk.events.newlines;
            out.open || keep_scanning
        };
        let show = |n: u64| bar.set_position(done + n);
        match scanner.scan(source, &mut fold, &show) {
            Ok(stats) => {
                done += stats.bytes;
                triage.end_of_file(file, stats.lines);
                inputs.push(stats);
            }
            Err(e @ Error::Interrupted) => return Err(e),
            Err(e) if config.keep_going => {
                inputs.push(InputStats {
                    path: name,
                    bytes: 0,
                    lines: 0,
                    gzip: false,
                    error: Some(e.to_string()),
                });
            }
            Err(e) => return Err(e),
        }
        if !out.open && !keep_scanning {
            return Ok(());
        }
    }
    bar.finish_and_clear();
    let report = triage.finish_with(completeness.as_ref());
    let json = (config.manifest.is_some() || config.format == Format::Json)
        .then(|| output::manifest_json(&output::manifest(&inputs, &report)));
    if let (Some(path), Some(json)) = (&config.manifest, &json) {
        output::write_atomically(path, json).map_err(|e| Error::io(path, e))?;
    }
    match config.format {
        Format::Summary => out.write(|w| summary::write_summary(w, &inputs, &report)),
        Format::Json => out.write(|w| w.write_all(json.as_deref().unwrap_or_default())),
        Format::Csv => out.write(|w| output::write_rows(w, &report.retries, b',')),
        Format::Tsv => out.write(|w| output::write_rows(w, &report.retries, b'\t')),
        Format::Commands => out.write(|w| output::write_commands(w, &report.retries)),
        Format::Events => {}
    }
    out.write(|w| w.flush());
    match out.error {
        Some(e) => Err(Error::io("<stdout>", e)),
        None => Ok(()),
    }
}

/// Stdout that goes quiet once the reader has gone away (EPIPE) and remembers any other error.
struct Out<'a> {
    inner: &'a mut (dyn Write + Send),
    open: bool,
    error: Option<io::Error>,
}

impl Out<'_> {
    fn write(&mut self, f: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
        if !self.open {
            return;
        }
        if let Err(e) = f(self.inner) {
            self.open = false;
            if e.kind() != io::ErrorKind::BrokenPipe {
                self.error.get_or_insert(e);
            }
        }
    }
}

fn average_rate(state: &indicatif::ProgressState) -> f64 {
    state.pos() as f64 / state.elapsed().as_secs_f64().max(1e-3)
}

/// A byte-progress bar on stderr, only when asked for (a terminal, not `--quiet`).
fn progress_bar(config: &Config) -> indicatif::ProgressBar {
    if !config.progress {
        return indicatif::ProgressBar::hidden();
    }
    let sizes: Option<u64> = config
        .inputs
        .iter()
        .map(|s| match s {
            Source::Path(p) => fs::metadata(p).ok().map(|m| m.len()),
            Source::Stdin => None,
        })
        .sum();
    // indicatif's own rate estimator is smoothed over many seconds and reads far too low on a
    // scan that lasts a few: show the average since the start, and the ETA it implies.
    let style = |template: &str| {
        indicatif::ProgressStyle::with_template(template)
            .expect("valid template")
            .with_key(
                "rate",
                |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}/s", indicatif::BinaryBytes(average_rate(s) as u64));
                },
            )
            .with_key(
                "eta",
                |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let left = s.len().unwrap_or(0).saturating_sub(s.pos()) as f64;
                    let secs = if average_rate(s) > 0.0 {
                        left / average_rate(s)
                    } else {
                        0.0
                    };
                    let _ = write!(
                        w,
                        "{}",
                        indicatif::HumanDuration(std::time::Duration::from_secs_f64(secs))
                    );
                },
            )
    };
    let bar = match sizes {
        Some(total) => indicatif::ProgressBar::new(total)
            .with_style(style("{bytes}/{total_bytes} {wide_bar} {rate} ETA {eta}")),
        None => indicatif::ProgressBar::new_spinner().with_style(style("{spinner} {bytes} {rate}")),
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(10));
    bar
}
