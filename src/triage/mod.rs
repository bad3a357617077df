//! The fold: events, in input order, become runs, attempts of (date, processor) pairs, their final
//! states, gaps and the retry rows. This is the only stateful step and it runs on one thread; it
//! sees the same events in the same order whatever the chunking, so its answer cannot depend on it.
//!
//! The model is written down in `docs/attempts.md`; in short:
//!
//! | line kind | what it does |
//! |---|---|
//! | run banner | opens a run (ending an active one as crashed); records its total and planned dates |
//! | progress | closes the open attempts normally; the run moves to the date |
//! | attempt start | continues the open attempt of the processor that covers its dates, or closes the lane's attempts and opens one over its dates (ranges and lists) |
//! | success | settles the dates or processor it names, or the open attempt; a pair with a cause stays failed and is `silent` unless a retry came after the cause |
//! | retry | a success after it is a recovery |
//! | skip | the pair was done by an earlier run |
//! | failure | goes to the traceback's owner, the processor's open attempt, the most recent open attempt, the pair it names, or waits for a status or date line |
//! | status line | settles that processor's pair for the current date, with the failures waiting since the last one |
//! | date failure | fails the date's pairs not settled in this run; never a success or skip |
//! | summary line | its failed dates are failure evidence; never a success |
//! | crash | cuts the open attempts (a failed one stays failed), interrupts the untried processors of the date, marks the planned dates never reached `not_started` |
//! | run end | closes the open attempts; the run completed |
//! | gap list | gap dates of the open attempt or of the next one to fail |
//!
//! The submodules: [`runs`] (runs), [`attempts`] (the attempt table with its date context),
//! [`tallies`] (failure lines, top errors, unattributed) and [`report`] (final states into rows).

mod attempts;
mod report;
mod runs;
mod tallies;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::category::Category;
use crate::classify::{Classifier, Event, Signal, Text};
use crate::date::{Date, Timestamp};
use crate::manifest::{
    Completeness, DateRun, LineText, Progress, Retry, Run, Summary, Unattributed,
};
use crate::processors::ProcessorId;
use crate::rules::RuleId;

use attempts::{FailureLine, Flush, Table};
use runs::Runs;
use tallies::Tallies;

pub use tallies::MAX_UNATTRIBUTED;

/// Where a line is: input index and 1-based line number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct At {
    pub file: u32,
    pub line: u64,
}

/// A failure line as an explanation of a failed attempt.
#[derive(Debug, Clone)]
pub struct Cause {
    pub category: Category,
    /// The rule is a wrapper (says something failed, not why).
    pub wrapper: bool,
    pub priority: u8,
    pub rule: Option<RuleId>,
    /// Shared with the event it came from, and with the chunk's other lines that repeat it.
    pub text: Text,
    pub at: At,
}

impl Cause {
    /// A line a specific rule names beats one no rule names, which beats a wrapper; then the
    /// higher priority. Ties keep the earlier line.
    fn rank(&self) -> (bool, bool, u8) {
        (self.named(), !self.wrapper, self.priority)
    }

    fn named(&self) -> bool {
        self.category != Category::Uncategorized
    }
}

/// What the fold found: everything the manifest and the summary print.
#[derive(Debug, Default)]
pub struct Report {
    pub runs: Arc<[Run]>,
    pub summary: Summary,
    pub retries: Vec<Retry>,
    pub unattributed: Vec<Unattributed>,
    /// The most frequent error templates among the lines that can decide a category.
    pub top_errors: Vec<TopError>,
    /// Per processor, the dates that succeeded or were skipped.
    pub succeeded: BTreeMap<String, Vec<DateRun>>,
    /// The final state of every pair the logs (and the run history, when given) tell of, in date
    /// then processor order.
    pub pairs: Vec<PairOutcome>,
    /// What `--expected-dates` and `--run-history` found, when given.
    pub completeness: Option<Completeness>,
    /// The processor names, in run order: `pairs` refer to them by index.
    pub processors: Vec<String>,
}

/// A template of failure lines (see [`crate::templates`]) with how often it was seen, its
/// category, and where it was first seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopError {
    pub template: String,
    pub count: u64,
    pub category: Category,
    pub file: String,
    pub line: u64,
    /// The first line, whole.
    pub example: String,
}

/// A pair's final state, as the logs tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairOutcome {
    pub date: Date,
    pub processor: ProcessorId,
    pub state: Outcome,
    /// When its last attempt was last heard of.
    pub time: Option<Timestamp>,
}

/// The final states a pair can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Done by an earlier run (the driver said so).
    Skipped,
    Failed,
    Interrupted,
    NotStarted,
}

/// The fold's state. Feed it every event of every input in order, then [`Triage::finish`].
pub struct Triage<'c> {
    classifier: &'c Classifier,
    files: Vec<String>,
    runs: Runs,
    table: Table,
    tallies: Tallies,
    /// Phases seen on start lines; pairs refer to them by index.
    phases: Vec<String>,
    last_at: At,
    /// The epoch a crash ended: more crash lines before anything else happens are the same crash.
    crash_epoch: Option<u64>,
    /// The time on the line being folded: a run starts at its own first time, not the last run's.
    line_time: Option<Timestamp>,
}

impl<'c> Triage<'c> {
    pub fn new(classifier: &'c Classifier) -> Triage<'c> {
        Triage {
            classifier,
            files: Vec::new(),
            runs: Runs::default(),
            table: Table::new(classifier.processors().len()),
            tallies: Tallies::default(),
            phases: Vec::new(),
            last_at: At { file: 0, line: 0 },
            crash_epoch: None,
            line_time: None,
        }
    }

    /// Registers the next input; its events follow with `file` = the returned index.
    pub fn add_file(&mut self, name: String) -> u32 {
        self.files.push(name);
        (self.files.len() - 1) as u32
    }

    /// Records where the input ended, so an unfinished run can point at its last line.
    pub fn end_of_file(&mut self, file: u32, lines: u64) {
        self.last_at = At { file, line: lines };
    }

    fn file(&self, at: At) -> &str {
        self.files.get(at.file as usize).map_or("", String::as_str)
    }

    fn cause(&self, at: At, event: &Event) -> Cause {
        self.cause_with(at, event, event.text.clone())
    }

    fn cause_with(&self, at: At, event: &Event, text: Text) -> Cause {
        Cause {
            category: self.classifier.category(event.rule),
            wrapper: self.classifier.is_wrapper(event.rule),
            priority: self.classifier.priority(event.rule),
            rule: event.rule,
            text,
            at,
        }
    }

    pub fn feed(&mut self, file: u32, mut event: Event) {
        let at = At {
            file,
            line: event.line,
        };
        self.table.at = at;
        self.line_time = event.time;
        if event.time.is_some() {
            self.table.now = event.time;
            self.runs.note_time(event.time);
        }
        // A failure's cause takes the event's text: it is built once, and handed to the table
        // at the end.
        let mut failure = None;
        if event.failure {
            let text = std::mem::take(&mut event.text);
            let cause = self.cause_with(at, &event, text);
            self.tallies
                .failure_line(&cause, event.status, &event.template_key);
            if self.classifier.is_crash(event.rule) {
                self.crash(at, cause);
                self.drain_orphans();
                return;
            }
            failure = Some(cause);
        }
        if event.gap_list {
            let text = failure.as_ref().map_or(&event.text, |c| &c.text);
            self.table.add_gaps(at, &event.dates, text);
        }
        match &event.signal {
            Signal::Start(start) => {
                self.table.flush(Flush::Start);
                self.runs.activity();
                let phase = start.phase.as_deref().map(|p| self.phase_id(p));
                self.table
                    .start(start.processor, &start.dates, phase, event.tagged);
            }
            Signal::Success => self.table.success(event.processor, &event.dates),
            Signal::Skip => self.table.skip(event.processor, &event.dates),
            Signal::Retry if !event.failure => self.table.retry(event.processor),
            Signal::Progress { index, total } => {
                let progress = Progress {
                    index: *index,
                    total: *total,
                    date: event.dates.first().copied(),
                    file: self.file(at).to_string(),
                    line: at.line,
                };
                self.progress(at, Some(progress), event.dates.first().copied());
            }
            Signal::DateProgress => {
                let date = event.dates.first().copied();
                if !date.is_some_and(|d| self.table.date_progress(event.processor, d)) {
                    self.progress(at, None, date);
                }
            }
            Signal::RunStart { total, planned } => self.run_start(at, *total, planned.clone()),
            Signal::RunComplete { claims_success } => {
                if !event.dates.is_empty() {
                    let cause = self.cause(at, &event);
                    self.table
                        .summary(event.processor, &event.dates, cause, false);
                }
                self.table.flush(Flush::EndOfDate);
                self.table.close_all();
                let file = self.file(at).to_string();
                let run = self.runs.complete(&file, at.line, self.table.now);
                if *claims_success {
                    self.table.mark_silent(run);
                }
                self.table.begin_run(None);
            }
            Signal::Summary { tally } => {
                let cause = self.cause(at, &event);
                self.table
                    .summary(event.processor, &event.dates, cause, *tally);
            }
            Signal::Chain => self.table.chain(),
            Signal::Traceback | Signal::Retry | Signal::None => {}
        }
        if let Some(cause) = failure {
            let dates = if event.gap_list {
                &[][..]
            } else {
                &event.dates
            };
            let line = FailureLine {
                processor: event.processor,
                dates,
                exception: event.exception,
                tagged: event.tagged,
                retrying: event.signal == Signal::Retry,
                status: event.status,
            };
            self.table.failure(cause, line);
        }
        self.drain_orphans();
    }

    fn phase_id(&mut self, phase: &str) -> u16 {
        match self.phases.iter().position(|p| p == phase) {
            Some(i) => i as u16,
            None => {
                self.phases.push(phase.to_string());
                (self.phases.len() - 1) as u16
            }
        }
    }

    /// The run moved to `date` (or to its next date, unnamed).
    fn progress(&mut self, at: At, progress: Option<Progress>, date: Option<Date>) {
        self.table.flush(Flush::EndOfDate);
        self.table.close_all();
        let file = self.file(at).to_string();
        let (run, new) = self.runs.ensure(&file, at.line, self.line_time);
        if new {
            self.table.begin_run(Some(run));
        }
        self.runs.activity();
        if let Some(progress) = progress {
            self.runs.progress(progress);
        }
        self.table.new_epoch(date);
    }

    fn run_start(&mut self, at: At, total: Option<u32>, planned: Vec<Date>) {
        self.table.flush(Flush::EndOfDate);
        if self.runs.is_active() {
            self.end_run(at, "run ended without a completion marker: a new run started before this one completed");
        } else {
            self.table.close_all();
        }
        let file = self.file(at).to_string();
        let (run, new) = self.runs.ensure(&file, at.line, self.line_time);
        if new {
            self.table.begin_run(Some(run));
        }
        self.runs.banner(total, planned);
    }

    /// The script died: see the model's Runs section.
    fn crash(&mut self, at: At, cause: Cause) {
        if self.crash_epoch == Some(self.table.epoch()) {
            return;
        }
        self.table.flush(Flush::EndOfDate);
        if self.runs.open().is_some() {
            self.end_run(at, &cause.text);
        } else if !self.table.cut_all(at, &cause.text) {
            self.table.orphans.push(cause);
        }
        self.table.begin_run(None);
        self.crash_epoch = Some(self.table.epoch());
    }

    /// Ends the open run as crashed at `at`.
    fn end_run(&mut self, at: At, text: &str) {
        self.table.cut_all(at, text);
        self.table.interrupt_untried(at, text);
        let not_started = if self.runs.planned().is_empty() {
            self.runs.unstarted_count(self.table.dates_reached())
        } else {
            let planned = self.runs.planned().to_vec();
            self.table.not_started(&planned, at, text)
        };
        let crash = LineText {
            file: self.file(at).to_string(),
            line: at.line,
            text: text.to_string(),
        };
        self.runs.crashed(crash, not_started, self.table.now);
        self.table.begin_run(None);
    }

    fn drain_orphans(&mut self) {
        if self.table.orphans.is_empty() {
            return;
        }
        // The list is drained and put back, so a log of stray failures does not allocate a new
        // one for each.
        let mut orphans = std::mem::take(&mut self.table.orphans);
        for cause in orphans.drain(..) {
            let file = self
                .files
                .get(cause.at.file as usize)
                .map_or("", String::as_str);
            let rule = self.classifier.rule_id(cause.rule);
            self.tallies.unattributed(cause, file, rule);
        }
        self.table.orphans = orphans;
    }

    /// Ends the fold: waiting failures find their dates, an unfinished run crashed at the last
    /// line, attempts open at the end are cut off, and the final state of every pair becomes the
    /// retry rows.
    pub fn finish(self) -> Report {
        self.finish_with(None)
    }

    /// [`Triage::finish`], with the run history and the expected dates merged into the final
    /// states and rows before they are counted.
    pub fn finish_with(mut self, completeness: Option<&crate::completeness::Inputs>) -> Report {
        let end = self.last_at;
        self.table.flush(Flush::EndOfDate);
        if self.runs.open().is_some() {
            self.end_run(end, "the log ends mid-run");
        } else {
            self.table.cut_all(end, "the log ends mid-attempt");
        }
        self.drain_orphans();
        report::build(
            self.classifier,
            &self.files,
            &self.phases,
            &self.table,
            self.runs.list,
            &self.tallies,
            completeness,
        )
    }
}

#[cfg(test)]
mod tests;
