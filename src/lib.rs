//! backfill-triage: reads backfill logs and writes the retry manifest.
//!
//! The pipeline: [`scan`] cuts inputs into chunks and classifies them in parallel with
//! [`classify`] (rules from [`rules`], fields from [`extract`]); [`triage`] folds the events in input
//! order into runs, attempts and retry rows; [`plan`] filters them, escalates them and turns them
//! into ordered range commands; [`output`] and [`summary`] write the results. `plan` reads a saved
//! manifest instead of logs; [`diff`] compares two.

pub mod category;
pub mod classify;
pub mod completeness;
pub mod config;
pub mod date;
pub mod diff;
pub mod error;
pub mod extract;
pub mod history;
pub mod manifest;
mod mapped;
pub mod output;
pub mod plan;
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
use manifest::{InputStats, Manifest};
use scan::{Chunk, Scanner, Source};
use triage::{Report, Triage};

/// What a command leaves for a retry loop to do: `--exit-code` exits 1 when something remains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// `scan`, `plan`: retry rows remain after the filters, or a crashed run never reached dates
    /// it does not name. `diff`: pairs are still failing or new.
    pub remains: bool,
}

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
/// still written. The filters and plan options shape every output, the manifest included.
pub fn run_scan(config: &Config, stdout: &mut (dyn Write + Send)) -> Result<Outcome> {
    let classifier = load_classifier(config)?;
    // Read before the logs: a bad schedule or history file fails at once, not after a long scan.
    let completeness = completeness::load(config, classifier.processors())?;
    config
        .filters
        .check_processors(config.processors.iter().map(String::as_str))?;
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
                if events && output::is_reported(&event) && keeps_event(config, &classifier, &event)
                {
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
            return Ok(Outcome::default());
        }
    }
    bar.finish_and_clear();
    let report = triage.finish_with(completeness.as_ref());
    let mut manifest = output::manifest(&inputs, &report);
    let plan = plan::plan(
        &mut manifest,
        &config.filters,
        &config.plan,
        &config.processors,
    );
    let json = (config.manifest.is_some() || config.format == Format::Json)
        .then(|| output::manifest_json(&manifest));
    if let (Some(path), Some(json)) = (&config.manifest, &json) {
        output::write_atomically(path, json).map_err(|e| Error::io(path, e))?;
    }
    match config.format {
        Format::Summary => {
            // The summary shows the rows the filters kept, with their plan.
            let report = Report {
                retries: manifest.retries.clone(),
                summary: manifest.summary.clone(),
                ..report
            };
            out.write(|w| summary::write_summary(w, &inputs, &report))
        }
        Format::Events => {}
        _ => write_planned(&mut out, config.format, &manifest, &plan, json.as_deref()),
    }
    out.write(|w| w.flush());
    match out.error {
        Some(e) => Err(Error::io("<stdout>", e)),
        None => Ok(Outcome {
            remains: plan.remains(),
        }),
    }
}

/// Whether `-f events` prints this line under the filters.
fn keeps_event(config: &Config, classifier: &Classifier, event: &classify::Event) -> bool {
    config.filters.is_empty()
        || config.filters.keeps_line(
            Some(classifier.category(event.rule)),
            event.processor.map(|p| classifier.processors().name(p)),
            &event.dates,
        )
}

/// The formats `scan` and `plan` share, from the planned manifest.
fn write_planned(
    out: &mut Out,
    format: Format,
    manifest: &Manifest,
    plan: &plan::Plan,
    json: Option<&[u8]>,
) {
    match format {
        Format::Json => match json {
            Some(json) => out.write(|w| w.write_all(json)),
            None => out.write(|w| w.write_all(&output::manifest_json(manifest))),
        },
        Format::Csv => out.write(|w| output::write_rows(w, manifest, plan, b',')),
        Format::Tsv => out.write(|w| output::write_rows(w, manifest, plan, b'\t')),
        Format::Commands => out.write(|w| output::write_commands(w, manifest, plan)),
        Format::Summary => out.write(|w| output::write_plan_summary(w, plan)),
        Format::Events => {}
    }
}

/// Reads a whole input: a file, or stdin for `-`. Returns the name errors use.
fn read_input(source: &Source) -> Result<(String, Vec<u8>)> {
    match source {
        Source::Stdin => {
            let mut bytes = Vec::new();
            io::Read::read_to_end(&mut io::stdin().lock(), &mut bytes)
                .map_err(|e| Error::io("<stdin>", e))?;
            Ok(("<stdin>".to_string(), bytes))
        }
        Source::Path(path) => {
            if path.is_dir() {
                return Err(Error::IsDirectory { path: path.clone() });
            }
            let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
            Ok((path.display().to_string(), bytes))
        }
    }
}

/// Runs `plan`: reads a saved manifest (no rescan), applies the filters and plan options, and
/// prints the chosen format.
pub fn run_plan(config: &Config, stdout: &mut (dyn Write + Send)) -> Result<Outcome> {
    let source = config.inputs.first().unwrap_or(&Source::Stdin);
    let (name, bytes) = read_input(source)?;
    let mut manifest = Manifest::from_json(&name, &bytes)?;
    let known = config
        .processors
        .iter()
        .chain(manifest.retries.iter().map(|r| &r.processor))
        .chain(manifest.succeeded.keys())
        .map(String::as_str);
    config.filters.check_processors(known)?;
    let plan = plan::plan(
        &mut manifest,
        &config.filters,
        &config.plan,
        &config.processors,
    );
    let mut out = Out {
        inner: stdout,
        open: true,
        error: None,
    };
    write_planned(&mut out, config.format, &manifest, &plan, None);
    out.write(|w| w.flush());
    match out.error {
        Some(e) => Err(Error::io("<stdout>", e)),
        None => Ok(Outcome {
            remains: plan.remains(),
        }),
    }
}

/// Runs `diff`: compares two manifests (`inputs[0]` OLD, `inputs[1]` NEW) pair by pair.
pub fn run_diff(config: &Config, stdout: &mut (dyn Write + Send)) -> Result<Outcome> {
    let [old_source, new_source] = config.inputs.as_slice() else {
        return Err(Error::Usage("diff: give OLD and NEW manifests".to_string()));
    };
    let (old_name, old_bytes) = read_input(old_source)?;
    let old = Manifest::from_json(&old_name, &old_bytes)?;
    let (new_name, new_bytes) = read_input(new_source)?;
    let new = Manifest::from_json(&new_name, &new_bytes)?;
    let changes = diff::diff(&old, &new);
    let mut out = Out {
        inner: stdout,
        open: true,
        error: None,
    };
    match config.format {
        Format::Tsv => out.write(|w| diff::write_tsv(w, &changes)),
        Format::Json => out.write(|w| diff::write_json(w, &old_name, &new_name, &changes)),
        _ => out.write(|w| diff::write_summary(w, &old_name, &new_name, &changes)),
    }
    out.write(|w| w.flush());
    match out.error {
        Some(e) => Err(Error::io("<stdout>", e)),
        None => Ok(Outcome {
            remains: changes.remains(),
        }),
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
