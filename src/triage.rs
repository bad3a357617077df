//! The fold: events, in input order, become runs, attempts of (date, processor) pairs, their final
//! states, gaps and the retry rows. This is the only stateful step and it runs on one thread; it
//! sees the same events in the same order whatever the chunking, so its answer cannot depend on it.
//!
//! The model, from the playbook: a run walks dates; for each date the processors run one after the
//! other. An attempt opens at its start line and ends at a success, the next start, a crash, a run
//! end or the end of input. Failure lines belong to the open attempt; status lines that name a
//! processor (`[p] ❌ Failed`) update that pair's latest attempt for the current date. The last
//! attempt of a pair decides whether it is retried.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};

use crate::category::Category;
use crate::classify::{Classifier, Event, Signal};
use crate::extract::Date;
use crate::manifest::{LineText, Progress, Reason, Retry, Run, Summary, Unattributed};

/// Distinct unattributed failures kept; past it they are counted, not listed, so a log of millions
/// of stray failures cannot exhaust memory.
pub const MAX_UNATTRIBUTED: usize = 10_000;
/// Distinct error messages counted for the summary's top list.
const MAX_TOP_KEYS: usize = 10_000;

/// Where a line is: input index and 1-based line number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub file: u32,
    pub line: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Open,
    Succeeded,
    Failed,
    Interrupted,
}

/// The line that best explains an attempt's failure.
#[derive(Debug, Clone)]
struct Cause {
    category: Category,
    priority: u8,
    rule: Option<u16>,
    text: String,
    at: At,
}

impl Cause {
    /// Named beats unnamed, then the more specific rule; on a tie the earlier line stays, since
    /// the innermost exception of a chained traceback is printed first.
    fn rank(&self) -> (bool, u8) {
        (self.category != Category::Uncategorized, self.priority)
    }
}

#[derive(Debug, Clone)]
struct Attempt {
    epoch: u64,
    outcome: Outcome,
    cause: Option<Cause>,
    gaps: Vec<Date>,
    gap_line: Option<(At, String)>,
    /// The line that cut the attempt off, for interrupted ones.
    cut: Option<(At, String)>,
}

#[derive(Debug)]
struct PairState {
    last: Attempt,
    failed_before: u32,
}

/// What the fold found: everything the manifest and the summary print.
#[derive(Debug, Default)]
pub struct Report {
    pub runs: Vec<Run>,
    pub summary: Summary,
    pub retries: Vec<Retry>,
    pub unattributed: Vec<Unattributed>,
    /// The most frequent failure messages, digits folded, with counts.
    pub top_errors: Vec<(String, u64)>,
}

/// The fold's state. Feed it every event of every input in order, then [`Triage::finish`].
pub struct Triage<'c> {
    classifier: &'c Classifier,
    files: Vec<String>,
    runs: Vec<Run>,
    open_run: Option<usize>,
    pairs: BTreeMap<(Date, u16), PairState>,
    open: Vec<(Date, u16)>,
    epoch: u64,
    ctx_date: Option<Date>,
    /// Processors attempted for `ctx_date` in this epoch, as a bit set.
    ctx_seen: u64,
    pending_gaps: Vec<Date>,
    pending_gap_line: Option<(At, String)>,
    unattributed: Vec<Unattributed>,
    unattributed_index: HashMap<(Option<u16>, String), usize>,
    summary: Summary,
    top: HashMap<String, u64>,
    last_at: At,
    /// The epoch a crash opened: more crash lines before anything else happens are the same crash.
    crash_epoch: Option<u64>,
}

impl<'c> Triage<'c> {
    pub fn new(classifier: &'c Classifier) -> Triage<'c> {
        Triage {
            classifier,
            files: Vec::new(),
            runs: Vec::new(),
            open_run: None,
            pairs: BTreeMap::new(),
            open: Vec::new(),
            epoch: 0,
            ctx_date: None,
            ctx_seen: 0,
            pending_gaps: Vec::new(),
            pending_gap_line: None,
            unattributed: Vec::new(),
            unattributed_index: HashMap::new(),
            summary: Summary::default(),
            top: HashMap::new(),
            last_at: At { file: 0, line: 0 },
            crash_epoch: None,
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

    pub fn feed(&mut self, file: u32, event: Event) {
        let at = At {
            file,
            line: event.line,
        };
        if event.failure {
            self.on_failure(at, event);
            return;
        }
        if event.gap_list {
            self.add_gaps(at, &event);
        }
        match event.signal {
            Signal::Start => self.on_start(&event),
            Signal::Success => self.on_success(&event),
            Signal::Progress { index, total } => {
                self.on_progress(at, index, total, event.dates.first().copied())
            }
            Signal::RunStart { total } => self.on_run_start(at, total),
            Signal::RunComplete => self.on_run_complete(at),
            Signal::None => {}
        }
    }

    fn new_epoch(&mut self, date: Option<Date>) {
        self.epoch += 1;
        self.ctx_date = date;
        self.ctx_seen = 0;
        self.pending_gaps.clear();
        self.pending_gap_line = None;
    }

    /// Starts a new attempt of `pair`, superseding its previous one.
    fn begin(&mut self, pair: (Date, u16), outcome: Outcome) -> &mut Attempt {
        let attempt = Attempt {
            epoch: self.epoch,
            outcome,
            cause: None,
            gaps: Vec::new(),
            gap_line: None,
            cut: None,
        };
        if self.ctx_date == Some(pair.0) {
            self.ctx_seen |= 1 << pair.1;
        }
        self.summary.attempts += 1;
        match self.pairs.entry(pair) {
            Entry::Occupied(entry) => {
                let state = entry.into_mut();
                let previous = std::mem::replace(&mut state.last, attempt);
                tally(
                    &mut self.summary,
                    &mut state.failed_before,
                    previous.outcome,
                );
                &mut state.last
            }
            Entry::Vacant(entry) => {
                &mut entry
                    .insert(PairState {
                        last: attempt,
                        failed_before: 0,
                    })
                    .last
            }
        }
    }

    /// Ends the open attempt(s). `cut` is the line that interrupted them, if they were cut off.
    fn close_open(&mut self, cut: Option<(At, &str)>) {
        for pair in std::mem::take(&mut self.open) {
            let attempt = &mut self.pairs.get_mut(&pair).expect("open pairs exist").last;
            if attempt.outcome != Outcome::Open {
                continue;
            }
            attempt.outcome = match cut {
                Some((at, text)) => {
                    attempt.cut = Some((at, text.to_string()));
                    Outcome::Interrupted
                }
                None if attempt.cause.is_some() => Outcome::Failed,
                None => Outcome::Succeeded,
            };
        }
    }

    fn on_failure(&mut self, at: At, event: Event) {
        let category = self.classifier.category(event.rule);
        self.summary.failure_lines += 1;
        let key = fold_digits(&event.text);
        if let Some(n) = self.top.get_mut(&key) {
            *n += 1;
        } else if self.top.len() < MAX_TOP_KEYS {
            self.top.insert(key, 1);
        }
        if self.classifier.is_crash(event.rule) {
            self.crash(at, &event);
            return;
        }
        if event.gap_list {
            self.add_gaps(at, &event);
        }
        let cause = Cause {
            category,
            priority: self.classifier.priority(event.rule),
            rule: event.rule,
            text: event.text,
            at,
        };
        let dates: &[Date] = if event.gap_list { &[] } else { &event.dates };
        let open_processor = self.open.first().map(|p| p.1);
        if open_processor.is_some()
            && (event.processor.is_none() || event.processor == open_processor)
        {
            for pair in self.open.clone() {
                self.blame(pair, &cause);
            }
        } else if let Some(p) = event.processor {
            let date = dates
                .first()
                .copied()
                .or(self.open.first().map(|p| p.0))
                .or(self.ctx_date);
            match date {
                Some(date) => self.pair_failure((date, p), &cause),
                None => self.unattributed(cause),
            }
        } else if !dates.is_empty() {
            let mut dates = dates.to_vec();
            dates.sort_unstable();
            dates.dedup();
            for date in dates {
                self.date_failure(date, &cause);
            }
        } else {
            self.unattributed(cause);
        }
    }

    /// Adds a failure line to the attempt of `pair`; a closed attempt becomes failed again (an
    /// error after a success line of the same attempt).
    fn blame(&mut self, pair: (Date, u16), cause: &Cause) {
        let pending = (!self.pending_gaps.is_empty())
            .then(|| (self.pending_gaps.clone(), self.pending_gap_line.clone()));
        let attempt = &mut self.pairs.get_mut(&pair).expect("blamed pairs exist").last;
        if attempt
            .cause
            .as_ref()
            .is_none_or(|c| cause.rank() > c.rank())
        {
            attempt.cause = Some(cause.clone());
        }
        if attempt.outcome != Outcome::Open {
            attempt.outcome = Outcome::Failed;
        }
        if let Some((gaps, line)) = pending {
            attempt.gaps.extend(gaps);
            if attempt.gap_line.is_none() {
                attempt.gap_line = line;
            }
        }
    }

    /// A failure naming a processor outside the open attempt: it updates the pair's attempt for the
    /// current date context, or is a failed attempt of its own.
    fn pair_failure(&mut self, pair: (Date, u16), cause: &Cause) {
        if self
            .pairs
            .get(&pair)
            .is_none_or(|s| s.last.epoch != self.epoch)
        {
            self.begin(pair, Outcome::Failed);
        }
        self.blame(pair, cause);
    }

    /// A failure naming only a date ("Processing failed for 2023-11-15") with no attempt open:
    /// it fails every processor that has not already finished that date.
    fn date_failure(&mut self, date: Date, cause: &Cause) {
        for p in 0..self.processor_count() {
            let pair = (date, p);
            let last = self
                .pairs
                .get(&pair)
                .map(|s| (s.last.epoch, s.last.outcome));
            let in_context = self.ctx_date == Some(date) && self.ctx_seen & (1 << p) != 0;
            match last {
                Some((_, Outcome::Succeeded)) if in_context || self.ctx_date != Some(date) => {}
                Some((epoch, _)) if epoch == self.epoch || self.ctx_date != Some(date) => {
                    self.blame(pair, cause)
                }
                _ => {
                    self.begin(pair, Outcome::Failed);
                    self.blame(pair, cause);
                }
            }
        }
    }

    fn unattributed(&mut self, cause: Cause) {
        self.summary.unattributed += 1;
        let key = (cause.rule, cause.text);
        if let Some(&i) = self.unattributed_index.get(&key) {
            self.unattributed[i].repeats += 1;
            return;
        }
        if self.unattributed.len() >= MAX_UNATTRIBUTED {
            return;
        }
        self.unattributed_index
            .insert(key.clone(), self.unattributed.len());
        self.unattributed.push(Unattributed {
            file: self.files[cause.at.file as usize].clone(),
            line: cause.at.line,
            category: cause.category,
            rule: self.classifier.rule_id(cause.rule).map(str::to_string),
            error: key.1,
            repeats: 0,
        });
    }

    fn add_gaps(&mut self, at: At, event: &Event) {
        let line = Some((at, event.text.clone()));
        if self.open.is_empty() {
            self.pending_gaps.extend(&event.dates);
            self.pending_gap_line = self.pending_gap_line.take().or(line);
            return;
        }
        for pair in self.open.clone() {
            let attempt = &mut self.pairs.get_mut(&pair).expect("open pairs exist").last;
            attempt.gaps.extend(&event.dates);
            if attempt.gap_line.is_none() {
                attempt.gap_line = line.clone();
            }
        }
    }

    fn on_start(&mut self, event: &Event) {
        let p = event.processor.expect("starts name a processor");
        let pairs: Vec<(Date, u16)> = event.dates.iter().map(|&d| (d, p)).collect();
        // The echoed command and the processor's own "Starting ..." line open one attempt, not two.
        if pairs == self.open {
            return;
        }
        self.close_open(None);
        if self.ctx_date != Some(pairs[0].0) {
            self.new_epoch(Some(pairs[0].0));
        }
        for &pair in &pairs {
            self.begin(pair, Outcome::Open);
        }
        self.open = pairs;
    }

    fn on_success(&mut self, event: &Event) {
        let open_processor = self.open.first().map(|p| p.1);
        if open_processor.is_some()
            && (event.processor.is_none() || event.processor == open_processor)
        {
            for pair in std::mem::take(&mut self.open) {
                self.pairs
                    .get_mut(&pair)
                    .expect("open pairs exist")
                    .last
                    .outcome = Outcome::Succeeded;
            }
            return;
        }
        let (Some(p), Some(date)) = (
            event.processor,
            event.dates.first().copied().or(self.ctx_date),
        ) else {
            return;
        };
        match self.pairs.get_mut(&(date, p)) {
            Some(state) if state.last.epoch == self.epoch => {
                state.last.outcome = Outcome::Succeeded
            }
            _ => {
                self.begin((date, p), Outcome::Succeeded);
            }
        }
    }

    fn on_progress(&mut self, at: At, index: u32, total: u32, date: Option<Date>) {
        self.close_open(None);
        let run = self.ensure_run(at);
        self.runs[run].last_progress = Some(Progress {
            index,
            total,
            date,
            file: self.files[at.file as usize].clone(),
            line: at.line,
        });
        self.new_epoch(date);
    }

    fn ensure_run(&mut self, at: At) -> usize {
        if let Some(run) = self.open_run {
            return run;
        }
        self.runs.push(Run {
            file: self.files[at.file as usize].clone(),
            first_line: at.line,
            completed: false,
            crashed: false,
            crash: None,
            total_dates: None,
            planned: None,
            last_progress: None,
            not_started: 0,
        });
        self.open_run = Some(self.runs.len() - 1);
        self.runs.len() - 1
    }

    fn on_run_start(&mut self, at: At, total: u32) {
        if self.open_run.is_some() {
            self.end_unfinished_run(at, "a new run started before this one completed");
        }
        self.close_open(None);
        let run = self.ensure_run(at);
        self.runs[run].total_dates = Some(total);
        self.new_epoch(None);
    }

    fn on_run_complete(&mut self, at: At) {
        self.close_open(None);
        match self.open_run.take() {
            Some(run) => self.runs[run].completed = true,
            // A second completion marker ("Backfill script completed" after "ALL DATES SUCCESSFUL").
            None if self.runs.last().is_some_and(|r| r.completed) => {}
            None => {
                let run = self.ensure_run(at);
                self.runs[run].completed = true;
                self.open_run = None;
            }
        }
        self.new_epoch(None);
    }

    /// The script died: the open attempt is cut off, and so is every processor that had not yet run
    /// for the date in progress.
    fn crash(&mut self, at: At, event: &Event) {
        // "Script terminated" right after "Connection lost": the same death, already recorded.
        if self.crash_epoch == Some(self.epoch) {
            return;
        }
        let interrupted = self.interrupt(at, &event.text);
        match self.open_run.take() {
            Some(run) => {
                let r = &mut self.runs[run];
                r.crashed = true;
                r.crash = Some(LineText {
                    file: self.files[at.file as usize].clone(),
                    line: at.line,
                    text: event.text.clone(),
                });
            }
            None if !interrupted => self.unattributed(Cause {
                category: self.classifier.category(event.rule),
                priority: self.classifier.priority(event.rule),
                rule: event.rule,
                text: event.text.clone(),
                at,
            }),
            None => {}
        }
        self.new_epoch(None);
        self.crash_epoch = Some(self.epoch);
    }

    /// Interrupts the open attempt and, inside a run, the untried processors of the context date.
    /// Returns whether anything was interrupted.
    fn interrupt(&mut self, at: At, text: &str) -> bool {
        let mut any = !self.open.is_empty();
        self.close_open(Some((at, text)));
        if let (Some(date), Some(_)) = (self.ctx_date, self.open_run) {
            for p in 0..self.processor_count() {
                if self.ctx_seen & (1 << p) == 0 {
                    self.begin((date, p), Outcome::Interrupted).cut = Some((at, text.to_string()));
                    any = true;
                }
            }
        }
        any
    }

    fn end_unfinished_run(&mut self, at: At, why: &str) {
        let run = self.open_run.expect("called with a run open");
        let text = format!("run ended without a completion marker: {why}");
        self.interrupt(at, &text);
        let r = &mut self.runs[run];
        r.crashed = true;
        r.crash = Some(LineText {
            file: self.files[at.file as usize].clone(),
            line: at.line,
            text,
        });
        self.open_run = None;
    }

    fn processor_count(&self) -> u16 {
        self.classifier.processors().len() as u16
    }

    /// Ends the fold: unfinished runs crashed at the last line, attempts open at the end are cut
    /// off, and the final state of every pair becomes the retry rows.
    pub fn finish(mut self) -> Report {
        let end = self.last_at;
        if self.open_run.is_some() {
            self.end_unfinished_run(end, "the log ends mid-run");
        } else if !self.open.is_empty() {
            self.close_open(Some((end, "the log ends mid-attempt")));
        }
        let names = self.classifier.processors();
        let file = |at: At| {
            self.files
                .get(at.file as usize)
                .cloned()
                .unwrap_or_default()
        };
        let mut retries = Vec::new();
        let mut gaps: BTreeMap<(Date, u16), (At, String)> = BTreeMap::new();
        for (&(date, p), state) in &self.pairs {
            tally(&mut self.summary, &mut 0, state.last.outcome);
            let attempt = &state.last;
            let (category, reason, at, error, failures) = match attempt.outcome {
                Outcome::Failed => {
                    let cause = attempt
                        .cause
                        .as_ref()
                        .expect("failed attempts have a cause");
                    (
                        cause.category,
                        Reason::Failed,
                        cause.at,
                        cause.text.clone(),
                        state.failed_before + 1,
                    )
                }
                Outcome::Interrupted => {
                    let (at, text) = attempt
                        .cut
                        .clone()
                        .expect("interrupted attempts have a cut");
                    (
                        Category::ScriptInfrastructure,
                        Reason::Interrupted,
                        at,
                        text,
                        state.failed_before,
                    )
                }
                Outcome::Succeeded | Outcome::Open => continue,
            };
            let mut blocked_by = Vec::new();
            if category == Category::DefensiveCheck {
                blocked_by = attempt.gaps.clone();
                blocked_by.sort_unstable();
                blocked_by.dedup();
                let gap_line = attempt.gap_line.clone().unwrap_or((at, error.clone()));
                for &gap in &blocked_by {
                    for q in 0..names.len() as u16 {
                        if !self.pairs.contains_key(&(gap, q)) {
                            gaps.entry((gap, q)).or_insert_with(|| gap_line.clone());
                        }
                    }
                }
            }
            retries.push(Retry {
                date,
                processor: names[p as usize].clone(),
                phase: "analytics".to_string(),
                category,
                action: category.action(),
                reason,
                silent: false,
                error,
                file: file(at),
                line: at.line,
                failures,
                blocked_by,
                rule: if reason == Reason::Failed {
                    attempt
                        .cause
                        .as_ref()
                        .and_then(|c| self.classifier.rule_id(c.rule))
                        .map(str::to_string)
                } else {
                    None
                },
                command: String::new(),
            });
        }
        self.summary.gaps = gaps.len() as u64;
        retries.extend(gaps.into_iter().map(|((date, p), (at, text))| Retry {
            date,
            processor: names[p as usize].clone(),
            phase: "analytics".to_string(),
            category: Category::DefensiveCheck,
            action: Category::DefensiveCheck.action(),
            reason: Reason::Gap,
            silent: false,
            error: text,
            file: file(at),
            line: at.line,
            failures: 0,
            blocked_by: Vec::new(),
            rule: None,
            command: String::new(),
        }));
        let order = |r: &Retry| (r.date, names.iter().position(|n| *n == r.processor));
        retries.sort_by_key(order);

        self.summary.retries = retries.len() as u64;
        for c in Category::ALL {
            self.summary.by_category.insert(c, 0);
        }
        for r in &retries {
            *self.summary.by_category.entry(r.category).or_default() += 1;
            *self
                .summary
                .by_processor
                .entry(r.processor.clone())
                .or_default() += 1;
        }
        let mut top: Vec<(String, u64)> = self.top.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(10);
        Report {
            runs: self.runs,
            summary: self.summary,
            retries,
            unattributed: self.unattributed,
            top_errors: top,
        }
    }
}

/// Counts a superseded or final attempt; `failed_before` tracks failed attempts per pair.
fn tally(summary: &mut Summary, failed_before: &mut u32, outcome: Outcome) {
    match outcome {
        Outcome::Succeeded => summary.succeeded += 1,
        Outcome::Failed => {
            summary.failed += 1;
            *failed_before += 1;
        }
        Outcome::Interrupted => summary.interrupted += 1,
        Outcome::Open => {}
    }
}

/// Groups messages that differ only in numbers (timestamps, ids, dates) for the top-errors list.
fn fold_digits(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // The line's own timestamp says nothing about the message: drop it.
    let text = match text.find(|c: char| !(c.is_ascii_digit() || "-:,. []".contains(c))) {
        Some(i) if i > 0 && text.as_bytes()[0].is_ascii_digit() => &text[i..],
        _ => text,
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else {
            out.push(c);
        }
    }
    out
}
