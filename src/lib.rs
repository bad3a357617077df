//! backfill-triage: reads backfill logs and writes the retry manifest.
//!
//! The pipeline: [`input`] orders the inputs and says what each holds, [`scan`] reads them and
//! classifies their [`chunk`]s in parallel with [`classify`] (rules from [`rules`], fields from
//! [`extract`]); [`triage`] folds the events in input order into runs, attempts and retry rows;
//! [`plan`] filters them, escalates them and turns them into ordered range commands; [`output`]
//! and [`summary`] write the results, with the [`calendar`]; [`markdown`] and [`report_html`]
//! write post-mortems. `plan` reads a saved manifest instead of logs; [`diff`] compares two.
//! [`templates`] turns failure lines into templates and rule stubs; [`explain`] prints recovery
//! procedures.

pub mod calendar;
pub mod category;
pub mod chunk;
pub mod classify;
pub mod completeness;
pub mod config;
pub mod date;
pub mod diff;
pub mod error;
pub mod explain;
pub mod extract;
pub mod history;
pub mod input;
pub mod manifest;
mod mapped;
pub mod markdown;
pub mod output;
pub mod plan;
pub mod processors;
mod progress;
pub mod report_html;
pub mod rules;
pub mod scan;
pub mod signal;
pub mod summary;
pub mod templates;
pub mod term;
pub mod triage;
pub mod vocab;

use std::fs;
use std::io::{self, Write};

use std::sync::atomic::Ordering;

use classify::{Classifier, Signal};
use config::{Config, Format};
pub use error::{Error, Result};
use manifest::{InputStats, Manifest};
use progress::Progress;
use scan::{Chunk, Scanner, Source, INTERRUPTED};
use triage::{Report, Triage};

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

/// How a command that wrote its outputs went: what its exit code says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// `scan`, `plan`: retry rows remain after the filters, or a crashed run never reached dates
    /// it does not name. `diff`: pairs are still failing or new. (`--exit-code` exits 1.)
    pub remains: bool,
    /// `scan`: inputs that `--keep-going` skipped or read only up to damage; each was reported on
    /// stderr and recorded in the manifest (exit code 3).
    pub failed_inputs: usize,
}

/// Runs `scan`: reads every input, writes the manifest if asked, and prints the chosen format to
/// `stdout`; what people must know about the inputs (their order, damage, nothing recognised)
/// goes to `stderr`. A closed stdout (`| head`) stops the printing quietly; the manifest, if asked
/// for, is still written. The filters and plan options shape every output, the manifest included.
pub fn run_scan(
    config: &Config,
    stdout: &mut (dyn Write + Send),
    stderr: &mut dyn Write,
) -> Result<Outcome> {
    scan_with(&load_classifier(config)?, config, stdout, stderr)
}

/// [`run_scan`] with a classifier already built from the config's rules and processors: compiling
/// the rules is most of the cost of a small scan, which tests that scan thousands of small logs
/// pay only once.
pub fn scan_with(
    classifier: &Classifier,
    config: &Config,
    stdout: &mut (dyn Write + Send),
    stderr: &mut dyn Write,
) -> Result<Outcome> {
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
        classifier,
        pool: &pool,
        chunk_size: config.chunk_size,
        mmap: config.mmap,
        keep_mentions: events,
    };
    let mut progress = Progress::new(config.progress, total_size(&config.inputs));
    let mut say = |progress: &Progress, text: String| {
        progress.note(
            stderr,
            &format!("backfill-triage: {}", terminal_safe(&text)),
        );
    };
    let ordered = (!config.keep_order)
        .then(|| input::oldest_first(&config.inputs))
        .flatten();
    if let Some(order) = &ordered {
        let names: Vec<String> = order.iter().map(Source::name).collect();
        say(
            &progress,
            format!("reading inputs oldest first: {}", names.join(", ")),
        );
    }
    let mut triage = Triage::new(classifier);
    let mut inputs: Vec<InputStats> = Vec::new();
    let mut failed_inputs = 0;
    let mut out = Out {
        inner: stdout,
        open: true,
        error: None,
    };
    let keep_scanning = config.manifest.is_some() || !events;
    for source in ordered.as_ref().unwrap_or(&config.inputs) {
        if INTERRUPTED.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        let name = source.name();
        let file = triage.add_file(name.clone());
        let mut rebase = chunk::Rebase::default();
        let mut recognised = false;
        let mut fold = |chunk: &mut Chunk| -> bool {
            rebase.next_chunk(chunk.offset, &mut chunk.events);
            for event in chunk.events.events.drain(..) {
                recognised |= event.failure || event.signal != Signal::None;
                if events && output::is_reported(&event) && keeps_event(config, classifier, &event)
                {
                    out.write(|w| output::write_event(w, &name, &event, classifier));
                }
                triage.feed(file, event);
            }
            out.open || keep_scanning
        };
        match scanner.scan(source, &mut fold, &|read| progress.at(read)) {
            Ok(scanned) => {
                progress.input_done(scanned.read);
                triage.end_of_file(file, scanned.lines);
                let error = match scanned.damage {
                    Some(e) if !config.keep_going => return Err(e),
                    Some(e) => {
                        failed_inputs += 1;
                        say(&progress, e.to_string());
                        Some(e.to_string())
                    }
                    None => None,
                };
                if !recognised && error.is_none() {
                    say(
                        &progress,
                        format!(
                            "warning: {name}: no backfill run, attempt or failure recognised \
                             in it; is it a backfill log?"
                        ),
                    );
                }
                inputs.push(InputStats {
                    path: name,
                    bytes: scanned.bytes,
                    lines: scanned.lines,
                    compression: scanned.compression,
                    recognised,
                    error,
                });
            }
            Err(e @ Error::Interrupted) => return Err(e),
            Err(e) if config.keep_going => {
                failed_inputs += 1;
                say(&progress, e.to_string());
                inputs.push(InputStats {
                    path: name,
                    bytes: 0,
                    lines: 0,
                    compression: None,
                    recognised: false,
                    error: Some(e.to_string()),
                });
            }
            Err(e) => return Err(e),
        }
        if !out.open && !keep_scanning {
            return Ok(Outcome {
                remains: false,
                failed_inputs,
            });
        }
    }
    progress.finish();
    // A signal after the last chunk still means: no manifest.
    if INTERRUPTED.load(Ordering::Relaxed) {
        return Err(Error::Interrupted);
    }
    let report = triage.finish_with(completeness.as_ref());
    let mut manifest = output::manifest(&inputs, &report);
    let plan = plan::plan(
        &mut manifest,
        &config.filters,
        &config.plan,
        &config.processors,
    );
    if let Some(path) = &config.manifest {
        output::write_atomically(path, |w| output::write_manifest_json(w, &manifest))
            .map_err(|e| Error::io(path, e))?;
    }
    // The people's outputs show the rows the filters kept, with their plan; the calendar shows
    // every pair.
    let all_rows = report.retries.clone();
    let shown = Report {
        retries: manifest.retries.clone(),
        summary: manifest.summary.clone(),
        ..report
    };
    let calendar = calendar::Calendar::new(&shown.processors, &shown.pairs, &all_rows);
    if let Some(path) = &config.report {
        let html = report_html::render(&inputs, &shown, &calendar);
        output::write_atomically(path, |w| w.write_all(html.as_bytes()))
            .map_err(|e| Error::io(path, e))?;
    }
    match config.format {
        Format::Summary => out.write(|w| {
            let mut painter = term::Painter {
                out: w,
                color: config.color,
                width: config.width,
            };
            summary::write_summary(&mut painter, &inputs, &shown, &calendar)
        }),
        Format::Markdown => out.write(|w| markdown::write(w, &inputs, &shown, &calendar)),
        Format::Events => {}
        _ => write_planned(&mut out, config.format, &manifest, &plan),
    }
    out.write(|w| w.flush());
    match out.error {
        Some(e) => Err(Error::io("<stdout>", e)),
        None => Ok(Outcome {
            remains: plan.remains(),
            failed_inputs,
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
fn write_planned(out: &mut Out, format: Format, manifest: &Manifest, plan: &plan::Plan) {
    match format {
        Format::Json => out.write(|w| output::write_manifest_json(w, manifest)),
        Format::Csv => out.write(|w| output::write_rows(w, manifest, plan, b',')),
        Format::Tsv => out.write(|w| output::write_rows(w, manifest, plan, b'\t')),
        Format::Commands => out.write(|w| output::write_commands(w, manifest, plan)),
        Format::Summary => out.write(|w| output::write_plan_summary(w, plan)),
        // Only scan prints these, from its report.
        Format::Events | Format::Markdown => {}
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
    write_planned(&mut out, config.format, &manifest, &plan);
    out.write(|w| w.flush());
    match out.error {
        Some(e) => Err(Error::io("<stdout>", e)),
        None => Ok(Outcome {
            remains: plan.remains(),
            failed_inputs: 0,
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
            failed_inputs: 0,
        }),
    }
}

/// Text for a terminal: a file name or a log line may hold control characters, which are never
/// replayed there.
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// The bytes the progress bar counts to: every input's size on disk, when all are known.
fn total_size(inputs: &[Source]) -> Option<u64> {
    inputs
        .iter()
        .map(|s| match s {
            Source::Path(p) => fs::metadata(p)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len()),
            Source::Stdin => input::stdin_size(),
        })
        .sum()
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
