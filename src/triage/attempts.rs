//! The attempt table: every pair's state, the open attempts (one per lane), the date context the
//! run is on, the failure lines waiting for an owner, and the rules of docs/attempts.md that move
//! them: opening, per-date progress and success, attribution of failure lines, and closing an
//! attempt normally or by a cut.

use std::collections::{BTreeMap, BTreeSet};

use crate::date::{Date, Timestamp};
use crate::processors::ProcessorId;

use super::{At, Cause};

/// Where a pair stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// In an open attempt.
    Open,
    Succeeded,
    /// Done by an earlier run (the driver said so).
    Skipped,
    Failed,
    Interrupted,
    NotStarted,
}

/// One (date, processor): the state of its last attempt and what explains it.
#[derive(Debug, Clone)]
pub struct Pair {
    pub state: State,
    pub cause: Option<Cause>,
    /// A success line claimed this pair while it had failed.
    pub silent: bool,
    /// Failed attempts, the last one included.
    pub failed: u32,
    pub epoch: u64,
    pub run: Option<usize>,
    pub phase: Option<u16>,
    pub gaps: Vec<Date>,
    pub gap_line: Option<(At, String)>,
    /// The line that cut an interrupted or not-started pair off.
    pub cut: Option<(At, String)>,
    /// When its last attempt was last heard of.
    pub time: Option<Timestamp>,
}

/// How many pair-attempts began and how the closed ones ended.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub attempts: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub interrupted: u64,
}

impl Counts {
    fn add(&mut self, state: State, delta: i64) {
        let slot = match state {
            State::Succeeded => &mut self.succeeded,
            State::Failed => &mut self.failed,
            State::Interrupted => &mut self.interrupted,
            _ => return,
        };
        *slot = slot.saturating_add_signed(delta);
    }
}

/// An open attempt of one processor over its dates.
#[derive(Debug)]
struct Attempt {
    id: u64,
    processor: ProcessorId,
    /// Sorted, never empty.
    dates: Vec<Date>,
    tagged: bool,
    /// A cause that no date of the attempt was named for.
    cause: Option<Cause>,
    /// The index of the date the attempt is on (per-date progress), or past the last.
    on: Option<usize>,
    /// Some line spoke of single dates of this attempt.
    per_date: bool,
    /// A retry was announced after the last failure: a success now means it recovered.
    retrying: bool,
    gaps: Vec<Date>,
    gap_line: Option<(At, String)>,
    /// When a line last went to this attempt: unnamed failures go to the most recent one.
    active: u64,
    /// The time of the last line that went to it.
    last: Option<Timestamp>,
}

/// Where a failure line went, so the exception lines after it follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Attempt(u64),
    Pair(Date, ProcessorId),
    Waiting,
}

/// A line waiting for the status line or date line that says whose it is.
#[derive(Debug)]
enum Waiting {
    Cause(Cause),
    /// A status line (`[p] ✅ Success`, `[p] ❌ Failed`) seen before its date was known.
    Status {
        processor: ProcessorId,
        cause: Option<Cause>,
    },
}

/// What the table reads of a failure line besides its cause.
pub struct FailureLine<'a> {
    pub processor: Option<ProcessorId>,
    pub dates: &'a [Date],
    /// An unlevelled exception line: it follows the failure line before it.
    pub exception: bool,
    pub tagged: bool,
    /// The line says the step will be retried.
    pub retrying: bool,
    /// A status line: it ends the processor's attempt.
    pub status: bool,
}

/// What ends the wait of unowned failure lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// A start: only the dates the lines name make them a date failure.
    Start,
    /// Progress, a run line, a crash, the end of input: the date the run was on is theirs too.
    EndOfDate,
}

pub struct Table {
    processors: usize,
    pub pairs: BTreeMap<(Date, ProcessorId), Pair>,
    open: Vec<Attempt>,
    next_id: u64,
    seq: u64,
    epoch: u64,
    /// The date the run is on.
    pub ctx: Option<Date>,
    /// Processors attempted or settled for `ctx` in this epoch.
    ctx_seen: u64,
    /// The run new attempts belong to.
    pub run: Option<usize>,
    /// The latest date the current run reached, and how many dates it reached.
    reached: Option<Date>,
    reached_dates: BTreeSet<Date>,
    waiting: Vec<Waiting>,
    waiting_dates: Vec<Date>,
    owner: Option<Target>,
    /// A chained-exception marker was seen in the current traceback: its root cause stands.
    chain: bool,
    pending_gaps: Vec<Date>,
    pending_gap_line: Option<(At, String)>,
    /// Failures no pair owns, for the fold to record.
    pub orphans: Vec<Cause>,
    /// The time of the latest line with one.
    pub now: Option<Timestamp>,
    /// The line being folded: what closes an attempt normally.
    pub at: At,
    pub counts: Counts,
}

/// Keeps the better of two causes. In a chained traceback (`locked`), a named cause stands.
fn merge(slot: &mut Option<Cause>, cause: Cause, locked: bool) {
    match slot {
        Some(old) if (locked && old.named()) || cause.rank() <= old.rank() => {}
        _ => *slot = Some(cause),
    }
}

impl Table {
    pub fn new(processors: usize) -> Table {
        Table {
            processors,
            pairs: BTreeMap::new(),
            open: Vec::new(),
            next_id: 0,
            seq: 0,
            epoch: 0,
            ctx: None,
            ctx_seen: 0,
            run: None,
            reached: None,
            reached_dates: BTreeSet::new(),
            waiting: Vec::new(),
            waiting_dates: Vec::new(),
            owner: None,
            chain: false,
            pending_gaps: Vec::new(),
            pending_gap_line: None,
            orphans: Vec::new(),
            now: None,
            at: At { file: 0, line: 0 },
            counts: Counts::default(),
        }
    }

    fn processor_ids(&self) -> impl Iterator<Item = ProcessorId> {
        ProcessorId::all(self.processors)
    }

    /// The run moved to another date (or to none, between runs).
    pub fn new_epoch(&mut self, date: Option<Date>) {
        self.epoch += 1;
        self.ctx = date;
        self.ctx_seen = 0;
        self.pending_gaps.clear();
        self.pending_gap_line = None;
        if let Some(d) = date {
            self.reach(d);
        }
    }

    fn reach(&mut self, date: Date) {
        if self.reached.is_none_or(|r| r < date) {
            self.reached = Some(date);
        }
        if self.run.is_some() {
            self.reached_dates.insert(date);
        }
    }

    /// New attempts belong to `run` from now on (`None`: outside any run).
    pub fn begin_run(&mut self, run: Option<usize>) {
        self.run = run;
        self.reached = None;
        self.reached_dates.clear();
        self.new_epoch(None);
    }

    /// How many dates the current run reached.
    pub fn dates_reached(&self) -> usize {
        self.reached_dates.len()
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// A structural line: tracebacks before it are over.
    pub fn settle_traceback(&mut self) {
        self.owner = None;
        self.chain = false;
    }

    /// Starts a new record of `key` in `state`, superseding its previous attempt (whose failures
    /// stay counted).
    fn begin(&mut self, key: (Date, ProcessorId), state: State, phase: Option<u16>) -> &mut Pair {
        // Every record that ends as succeeded, failed or interrupted is an attempt (an untried
        // processor a crash interrupted too), so the three always add up to the attempts.
        if matches!(
            state,
            State::Open | State::Failed | State::Succeeded | State::Interrupted
        ) {
            self.counts.attempts += 1;
        }
        self.counts.add(state, 1);
        if self.ctx == Some(key.0) {
            self.ctx_seen |= key.1.bit();
        }
        self.reach(key.0);
        let (epoch, run, now) = (self.epoch, self.run, self.now);
        let pair = self.pairs.entry(key).or_insert_with(|| Pair {
            state,
            cause: None,
            silent: false,
            failed: 0,
            epoch,
            run,
            phase,
            gaps: Vec::new(),
            gap_line: None,
            cut: None,
            time: now,
        });
        pair.time = now;
        pair.state = state;
        pair.cause = None;
        pair.silent = false;
        pair.epoch = epoch;
        pair.run = run;
        pair.phase = phase.or(pair.phase);
        pair.gaps.clear();
        pair.gap_line = None;
        pair.cut = None;
        if state == State::Failed {
            pair.failed += 1;
        }
        pair
    }

    /// Moves a settled pair to another state, keeping the counts right.
    fn restate(&mut self, key: (Date, ProcessorId), state: State) {
        let pair = self.pairs.get_mut(&key).expect("restated pairs exist");
        if pair.state == state {
            return;
        }
        self.counts.add(pair.state, -1);
        self.counts.add(state, 1);
        if state == State::Failed {
            pair.failed += 1;
        }
        pair.state = state;
    }

    /// Whether the pair was settled (succeeded, skipped or failed) in the current run.
    fn settled_here(&self, key: (Date, ProcessorId)) -> Option<State> {
        self.pairs
            .get(&key)
            .filter(|p| p.run == self.run && p.state != State::Open)
            .map(|p| p.state)
    }

    fn attempt_index(&self, id: u64) -> Option<usize> {
        self.open.iter().position(|a| a.id == id)
    }

    /// The open attempt of `processor` (in its lane).
    fn open_of(&self, processor: ProcessorId) -> Option<usize> {
        self.open.iter().rposition(|a| a.processor == processor)
    }

    /// The most recently active open attempt.
    fn most_recent(&self) -> Option<usize> {
        (0..self.open.len()).max_by_key(|&i| self.open[i].active)
    }

    fn touch(&mut self, i: usize) {
        self.seq += 1;
        self.open[i].active = self.seq;
        self.open[i].last = self.now.or(self.open[i].last);
    }

    pub fn has_open(&self) -> bool {
        !self.open.is_empty()
    }

    // ----- starts and progress -------------------------------------------------------------

    /// An attempt start. Returns whether it opened a new attempt (or continued an open one).
    pub fn start(
        &mut self,
        processor: ProcessorId,
        dates: &[Date],
        phase: Option<u16>,
        tagged: bool,
    ) {
        self.settle_traceback();
        // The echoed command, then the processor's own start line for the same dates: one attempt.
        // Once the attempt has failed, a start is a new try.
        if let Some(i) = self.open_of(processor) {
            let a = &self.open[i];
            let failed = a.cause.is_some()
                || a.dates.iter().any(|d| {
                    self.pairs
                        .get(&(*d, processor))
                        .is_some_and(|p| p.cause.is_some())
                });
            if !failed && dates.iter().all(|d| a.dates.binary_search(d).is_ok()) {
                if dates.len() == 1 && a.dates.len() > 1 {
                    self.per_date_progress(i, dates[0]);
                }
                if phase.is_some() {
                    for &d in &self.open[i].dates {
                        if let Some(pair) = self.pairs.get_mut(&(d, processor)) {
                            pair.phase = phase;
                        }
                    }
                }
                self.touch(i);
                return;
            }
        }
        // Other processors' tagged attempts run on beside this one; everything else is over.
        let keep: Vec<bool> = self
            .open
            .iter()
            .map(|a| tagged && a.tagged && a.processor != processor)
            .collect();
        let mut k = keep.iter();
        let (stay, done): (Vec<Attempt>, Vec<Attempt>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|_| *k.next().expect("one flag per attempt"));
        self.open = stay;
        for a in done {
            self.close(a, None);
        }
        if self.ctx != Some(dates[0]) && !tagged {
            self.new_epoch(Some(dates[0]));
        }
        for &d in dates {
            self.begin((d, processor), State::Open, phase);
            if let Some(gaps) = (!self.pending_gaps.is_empty()).then(|| self.pending_gaps.clone()) {
                let line = self.pending_gap_line.clone();
                let pair = self.pairs.get_mut(&(d, processor)).expect("just begun");
                pair.gaps = gaps;
                pair.gap_line = line;
            }
        }
        self.next_id += 1;
        self.open.push(Attempt {
            id: self.next_id,
            processor,
            dates: dates.to_vec(),
            tagged,
            cause: None,
            on: None,
            per_date: false,
            retrying: false,
            gaps: Vec::new(),
            gap_line: None,
            active: 0,
            last: None,
        });
        let last = self.open.len() - 1;
        self.touch(last);
    }

    /// Per-date progress inside attempt `i`: the dates before `date` are finished.
    fn per_date_progress(&mut self, i: usize, date: Date) {
        let a = &mut self.open[i];
        if let Ok(idx) = a.dates.binary_search(&date) {
            a.per_date = true;
            a.on = Some(a.on.map_or(idx, |on| on.max(idx)));
        }
    }

    /// `Processing 2023-12-02`: per-date progress in the open attempt covering the date (returns
    /// true), or nothing (the run moved to that date: the caller treats it as progress).
    pub fn date_progress(&mut self, processor: Option<ProcessorId>, date: Date) -> bool {
        let found = match processor.and_then(|p| self.open_of(p)) {
            Some(i) => Some(i),
            None => self.most_recent().filter(|&i| self.open[i].dates.len() > 1),
        };
        match found {
            Some(i) if self.open[i].dates.binary_search(&date).is_ok() => {
                self.per_date_progress(i, date);
                self.touch(i);
                self.settle_traceback();
                true
            }
            _ => false,
        }
    }

    /// Closes every open attempt normally (the run moved on).
    pub fn close_all(&mut self) {
        for a in std::mem::take(&mut self.open) {
            self.close(a, None);
        }
        self.settle_traceback();
    }

    /// Cuts every open attempt off at `at`. Returns whether any was open.
    pub fn cut_all(&mut self, at: At, text: &str) -> bool {
        let any = !self.open.is_empty();
        for a in std::mem::take(&mut self.open) {
            self.close(a, Some((at, text)));
        }
        self.settle_traceback();
        any
    }

    /// Ends an attempt: normally (`cut` is None) or cut off. See docs/attempts.md, "Closing an
    /// attempt".
    fn close(&mut self, a: Attempt, cut: Option<(At, &str)>) {
        let key = |d: &Date| (*d, a.processor);
        let open_with_cause = |t: &Table, d: &Date| {
            t.pairs
                .get(&key(d))
                .is_some_and(|p| p.state == State::Open && p.cause.is_some())
        };
        let any_date_failed = a.dates.iter().any(|d| open_with_cause(self, d));
        // `on` may be past the last date (every date reported done).
        let on = a.on;
        let on_failed = on.filter(|&on| on < a.dates.len()).is_some_and(|on| {
            open_with_cause(self, &a.dates[on]) || (a.cause.is_some() && !any_date_failed)
        });
        for (i, d) in a.dates.iter().enumerate() {
            let Some(pair) = self.pairs.get_mut(&key(d)) else {
                continue;
            };
            if pair.state != State::Open {
                continue;
            }
            let mut cause = pair.cause.take();
            if let Some(attempt_cause) = &a.cause {
                let applies = if any_date_failed {
                    cause.is_some()
                } else {
                    on.is_none_or(|on| i == on || on >= a.dates.len())
                };
                if applies {
                    merge(&mut cause, attempt_cause.clone(), false);
                }
            }
            let state = if cause.is_some() {
                State::Failed
            } else {
                match (on, cut.is_some()) {
                    (Some(on), _) if i < on => State::Succeeded,
                    (Some(on), true) if i > on => State::NotStarted,
                    (Some(on), false) if i > on && on_failed => State::NotStarted,
                    (_, true) => State::Interrupted,
                    (_, false) => State::Succeeded,
                }
            };
            pair.cause = cause;
            if !a.gaps.is_empty() {
                pair.gaps.extend(&a.gaps);
                if pair.gap_line.is_none() {
                    pair.gap_line = a.gap_line.clone();
                }
            }
            if matches!(state, State::Interrupted | State::NotStarted) {
                pair.cut = Some(match cut {
                    Some((at, text)) => (at, text.to_string()),
                    None => {
                        let stopped =
                            on.map_or(a.dates[0], |on| a.dates[on.min(a.dates.len() - 1)]);
                        (
                            self.at,
                            format!("the attempt stopped at {stopped}, before this date"),
                        )
                    }
                });
            }
            pair.time = a.last.or(pair.time);
            if state == State::NotStarted {
                // The range never got to this date: no attempt of it was made.
                self.counts.attempts -= 1;
            }
            self.counts.add(state, 1);
            if state == State::Failed {
                pair.failed += 1;
            }
            pair.state = state;
        }
    }

    // ----- successes, skips, retries ------------------------------------------------------

    /// A success line naming `processor` and/or `dates` (see the model's success row).
    pub fn success(&mut self, processor: Option<ProcessorId>, dates: &[Date]) {
        self.settle_traceback();
        if let Some(p) = processor {
            if let Some(i) = self.open_of(p) {
                let inside: Vec<Date> = dates
                    .iter()
                    .copied()
                    .filter(|d| self.open[i].dates.binary_search(d).is_ok())
                    .collect();
                if self.open[i].dates.len() > 1 && !inside.is_empty() {
                    for d in inside {
                        self.per_date_success(i, d);
                    }
                } else {
                    let a = self.open.remove(i);
                    self.succeed(a);
                }
                return;
            }
            match dates.first().copied().or(self.ctx) {
                Some(date) => self.status((date, p), None, false),
                None => self.waiting.push(Waiting::Status {
                    processor: p,
                    cause: None,
                }),
            }
            return;
        }
        if dates.is_empty() {
            if let Some(i) = self.most_recent() {
                let a = self.open.remove(i);
                self.succeed(a);
            }
            return;
        }
        for &d in dates {
            let covering =
                (0..self.open.len()).find(|&i| self.open[i].dates.binary_search(&d).is_ok());
            match covering {
                Some(i) if self.open[i].dates.len() > 1 => self.per_date_success(i, d),
                Some(i) => {
                    let a = self.open.remove(i);
                    self.succeed(a);
                }
                None => self.date_success(d),
            }
        }
    }

    /// `✅ D complete` for one date of a range attempt: that date is done, the attempt is past it.
    fn per_date_success(&mut self, i: usize, date: Date) {
        let Ok(idx) = self.open[i].dates.binary_search(&date) else {
            return;
        };
        let a = &mut self.open[i];
        a.per_date = true;
        a.on = Some(a.on.map_or(idx + 1, |on| on.max(idx + 1)));
        let retrying = a.retrying;
        let key = (date, a.processor);
        let pair = self.pairs.get_mut(&key).expect("attempt pairs exist");
        if pair.state != State::Open {
            return;
        }
        if pair.cause.is_some() && !retrying {
            pair.silent = true;
            self.counts.add(State::Failed, 1);
            pair.failed += 1;
            pair.state = State::Failed;
        } else {
            pair.cause = None;
            self.counts.add(State::Succeeded, 1);
            pair.state = State::Succeeded;
        }
    }

    /// A success for a whole attempt: its dates succeed, except those with a cause and no retry
    /// since, which stay failed and are marked silent (the script claimed success over an error).
    fn succeed(&mut self, a: Attempt) {
        let multi = a.dates.len() > 1;
        for d in &a.dates {
            let Some(pair) = self.pairs.get_mut(&(*d, a.processor)) else {
                continue;
            };
            if pair.state != State::Open {
                continue;
            }
            let per_date_cause = pair.cause.is_some();
            if pair.cause.is_none() {
                pair.cause = a.cause.clone();
            }
            let state = if pair.cause.is_some() && !a.retrying {
                // A range's own per-date failure is the processor's report, not a hidden one.
                pair.silent = !(multi && per_date_cause);
                pair.failed += 1;
                State::Failed
            } else {
                pair.cause = None;
                State::Succeeded
            };
            if !a.gaps.is_empty() {
                pair.gaps.extend(&a.gaps);
            }
            pair.time = self.now.or(pair.time);
            self.counts.add(state, 1);
            pair.state = state;
        }
    }

    /// A status line (or a processor-named failure) for `key` outside any open attempt: it settles
    /// the pair for the current date, taking the failure lines waiting since the last status line.
    fn status(&mut self, key: (Date, ProcessorId), own: Option<Cause>, locked: bool) {
        let mut cause = None;
        // Drained and put back: a log of failures waits and settles on every line.
        let mut waiting = std::mem::take(&mut self.waiting);
        for w in waiting.drain(..) {
            match w {
                Waiting::Cause(c) => merge(&mut cause, c, false),
                Waiting::Status { cause: Some(c), .. } => self.orphans.push(c),
                Waiting::Status { .. } => {}
            }
        }
        self.waiting = waiting;
        self.waiting_dates.clear();
        let failed = own.is_some();
        if let Some(c) = own {
            merge(&mut cause, c, false);
        }
        self.settle(key, cause, failed, locked);
    }

    /// Settles `key` for the current date with `cause` (failed when `failed`, or a success that
    /// hides `cause`).
    fn settle(
        &mut self,
        key: (Date, ProcessorId),
        cause: Option<Cause>,
        failed: bool,
        locked: bool,
    ) {
        let here = self
            .pairs
            .get(&key)
            .filter(|p| p.run == self.run && p.epoch == self.epoch && p.state != State::Open)
            .map(|p| p.state);
        if self.ctx == Some(key.0) {
            self.ctx_seen |= key.1.bit();
        }
        let Some(cause) = cause else {
            if here.is_none() {
                self.begin(key, State::Succeeded, None);
            } else if here == Some(State::Failed) {
                // A success status over a failed attempt of this date: the failure stands.
                self.pairs
                    .get_mut(&key)
                    .expect("settled pairs exist")
                    .silent = true;
            }
            return;
        };
        match here {
            Some(State::Failed) => {
                let pair = self.pairs.get_mut(&key).expect("settled pairs exist");
                merge(&mut pair.cause, cause, locked);
                pair.silent |= !failed;
            }
            Some(_) => {
                self.restate(key, State::Failed);
                let pair = self.pairs.get_mut(&key).expect("settled pairs exist");
                pair.cause = Some(cause);
                pair.silent = !failed;
            }
            None => {
                let pair = self.begin(key, State::Failed, None);
                pair.cause = Some(cause);
                pair.silent = !failed;
            }
        }
        if let Some(pair) = self.pairs.get_mut(&key) {
            pair.time = self.now.or(pair.time);
        }
        self.owner = Some(Target::Pair(key.0, key.1));
    }

    /// A date-only success outside any attempt (`✅ 2023-11-15 complete`): the status lines waiting
    /// for a date are this date's; every other pair of it succeeded, unless it failed.
    fn date_success(&mut self, date: Date) {
        self.resolve_waiting(date);
        for p in self.processor_ids().collect::<Vec<_>>() {
            let key = (date, p);
            match self.settled_here(key) {
                Some(State::Failed) => {
                    self.pairs
                        .get_mut(&key)
                        .expect("settled pairs exist")
                        .silent = true
                }
                Some(_) => {}
                None => {
                    self.begin(key, State::Succeeded, None);
                }
            }
        }
    }

    /// `⏭️ Already complete`, `Skipping D (already processed)`: settled by an earlier run.
    pub fn skip(&mut self, processor: Option<ProcessorId>, dates: &[Date]) {
        self.settle_traceback();
        let dates: Vec<Date> = if dates.is_empty() {
            self.ctx.into_iter().collect()
        } else {
            dates.to_vec()
        };
        let processors: Vec<ProcessorId> = match processor {
            Some(p) => vec![p],
            None => self.processor_ids().collect(),
        };
        for d in dates {
            for &p in &processors {
                let key = (d, p);
                if let Some(i) = self.open_of(p) {
                    if self.open[i].dates.binary_search(&d).is_ok() {
                        let pair = self.pairs.get_mut(&key).expect("attempt pairs exist");
                        if pair.state == State::Open {
                            // Not an attempt after all: an earlier run had done it.
                            self.counts.attempts -= 1;
                        }
                        pair.state = State::Skipped;
                        pair.cause = None;
                        continue;
                    }
                }
                self.begin(key, State::Skipped, None);
            }
        }
    }

    /// A retry was announced: a success after it is a recovery.
    pub fn retry(&mut self, processor: Option<ProcessorId>) {
        let i = processor
            .and_then(|p| self.open_of(p))
            .or_else(|| self.most_recent());
        if let Some(i) = i {
            self.open[i].retrying = true;
        }
    }

    // ----- failures ---------------------------------------------------------------------------

    /// A failure line (see docs/attempts.md, "Attribution of a failure line").
    pub fn failure(&mut self, cause: Cause, line: FailureLine) {
        let FailureLine {
            processor,
            dates,
            exception,
            tagged,
            retrying,
            status,
        } = line;
        let locked = self.chain && exception;
        let owned = match self.owner {
            Some(owner) if exception => Some(owner),
            _ => None,
        };
        // An exception's message may mention another processor ("upstream processor p failed"):
        // inside a traceback or an attempt that is content, not attribution.
        let processor = if owned.is_some() || (exception && !tagged && self.has_open()) {
            None
        } else {
            processor
        };
        let target = owned.unwrap_or_else(|| match processor {
            Some(p) => match self.open_of(p) {
                Some(i) => Target::Attempt(self.open[i].id),
                None => match dates.first().copied().or(self.ctx) {
                    Some(d) => Target::Pair(d, p),
                    None => Target::Waiting,
                },
            },
            None => match self.most_recent() {
                Some(i) => Target::Attempt(self.open[i].id),
                None => Target::Waiting,
            },
        });
        match target {
            Target::Attempt(id) => match self.attempt_index(id) {
                // A status line ends the attempt it reports on.
                Some(i) if status => {
                    self.attempt_failure(i, cause, dates, locked);
                    let a = self.open.remove(i);
                    self.close(a, None);
                }
                Some(i) => {
                    self.attempt_failure(i, cause, dates, locked);
                    self.open[i].retrying = retrying;
                }
                None => self.orphans.push(cause),
            },
            Target::Pair(d, p) => self.status((d, p), Some(cause), locked),
            Target::Waiting => {
                match (owned, processor, self.waiting.last_mut()) {
                    // The traceback of the waiting line before it.
                    (Some(_), _, Some(Waiting::Status { cause: slot, .. })) => {
                        merge(slot, cause, locked)
                    }
                    (Some(_), _, Some(Waiting::Cause(old))) => {
                        let mut slot = Some(old.clone());
                        merge(&mut slot, cause, locked);
                        *old = slot.expect("merge keeps a cause");
                    }
                    (_, Some(p), _) => self.waiting.push(Waiting::Status {
                        processor: p,
                        cause: Some(cause),
                    }),
                    (_, None, _) => self.waiting.push(Waiting::Cause(cause)),
                }
                self.waiting_dates.extend(dates);
            }
        }
        self.owner = Some(target);
    }

    /// A failure inside open attempt `i`: to the dates it names, else the date the attempt is on,
    /// else the whole attempt.
    fn attempt_failure(&mut self, i: usize, cause: Cause, dates: &[Date], locked: bool) {
        self.touch(i);
        let a = &mut self.open[i];
        let named: Vec<usize> = if a.dates.len() > 1 {
            dates
                .iter()
                .filter_map(|d| a.dates.binary_search(d).ok())
                .collect()
        } else {
            Vec::new()
        };
        let on = a.on.filter(|&on| on < a.dates.len());
        let targets: Vec<Date> = if !named.is_empty() {
            a.per_date = true;
            named.iter().map(|&n| a.dates[n]).collect()
        } else if let Some(on) = on {
            vec![a.dates[on]]
        } else {
            merge(&mut a.cause, cause, locked);
            return;
        };
        let p = a.processor;
        for d in targets {
            if let Some(pair) = self.pairs.get_mut(&(d, p)) {
                if pair.state == State::Open {
                    merge(&mut pair.cause, cause.clone(), locked);
                }
            }
        }
    }

    /// A count summary's failed dates: per-date failures inside the processor's open attempt, or
    /// date failures. A `tally` (it counts successes too) is the attempt's final word: it ends it.
    pub fn summary(
        &mut self,
        processor: Option<ProcessorId>,
        dates: &[Date],
        cause: Cause,
        tally: bool,
    ) {
        let i = processor
            .and_then(|p| self.open_of(p))
            .or_else(|| self.most_recent());
        if let Some(i) = i {
            if dates
                .iter()
                .any(|d| self.open[i].dates.binary_search(d).is_ok())
            {
                self.attempt_failure(i, cause, dates, false);
                if tally {
                    let a = self.open.remove(i);
                    self.close(a, None);
                }
                return;
            }
        }
        self.waiting.push(Waiting::Cause(cause));
        self.waiting_dates.extend(dates);
        self.flush(Flush::Start);
    }

    /// A chained-exception marker: the exception before it is the root cause.
    pub fn chain(&mut self) {
        self.chain = true;
    }

    /// Applies the status lines waiting for a date to `date`, in order.
    fn resolve_waiting(&mut self, date: Date) {
        let waiting = std::mem::take(&mut self.waiting);
        let mut acc: Option<Cause> = None;
        let mut rest = Vec::new();
        for w in waiting {
            match w {
                Waiting::Cause(c) => merge(&mut acc, c, false),
                Waiting::Status { processor, cause } => {
                    let failed = cause.is_some();
                    let mut all = acc.take();
                    if let Some(c) = cause {
                        merge(&mut all, c, false);
                    }
                    self.settle((date, processor), all, failed, false);
                }
            }
        }
        if let Some(c) = acc {
            rest.push(Waiting::Cause(c));
        }
        self.waiting = rest;
    }

    /// Ends the wait of unowned failure lines (see the model's attribution rule 5).
    pub fn flush(&mut self, by: Flush) {
        if self.waiting.is_empty() {
            self.waiting_dates.clear();
            return;
        }
        let mut dates = std::mem::take(&mut self.waiting_dates);
        dates.sort_unstable();
        dates.dedup();
        if dates.is_empty() && by == Flush::EndOfDate {
            dates.extend(self.ctx);
        }
        if dates.is_empty() {
            for w in std::mem::take(&mut self.waiting) {
                match w {
                    Waiting::Cause(c) | Waiting::Status { cause: Some(c), .. } => {
                        self.orphans.push(c)
                    }
                    Waiting::Status { .. } => {}
                }
            }
            return;
        }
        // Status lines waiting for a date are the first named date's; what is left fails them all.
        self.resolve_waiting(dates[0]);
        let mut cause = None;
        for w in std::mem::take(&mut self.waiting) {
            if let Waiting::Cause(c) = w {
                merge(&mut cause, c, false);
            }
        }
        if let Some(cause) = cause {
            for d in dates {
                self.date_failure(d, &cause);
            }
        }
        self.owner = None;
    }

    /// A failure that names only a date. When pairs of the date ran since the run moved to it, it
    /// is their summary: it adds to the open or failed ones and fails no other. When none did, it
    /// fails every pair of the date, except those that succeeded or were skipped; one that failed in
    /// this run keeps its failure (the line summarises it), one that failed in an earlier run fails
    /// again, keeping the better cause.
    fn date_failure(&mut self, date: Date, cause: &Cause) {
        let ids: Vec<ProcessorId> = self.processor_ids().collect();
        let touched = ids.iter().any(|&p| {
            self.pairs
                .get(&(date, p))
                .is_some_and(|x| x.epoch == self.epoch || x.state == State::Open)
        });
        for p in ids {
            let key = (date, p);
            let here = self
                .pairs
                .get(&key)
                .map(|x| (x.state, x.epoch == self.epoch || x.run == self.run));
            match here {
                Some((State::Succeeded | State::Skipped, _)) => {}
                Some((State::Open, _)) | Some((State::Failed, true)) => {
                    let pair = self.pairs.get_mut(&key).expect("pairs exist");
                    merge(&mut pair.cause, cause.clone(), false);
                }
                _ if touched => {}
                Some((State::Failed, false)) => {
                    let pair = self.pairs.get_mut(&key).expect("pairs exist");
                    merge(&mut pair.cause, cause.clone(), false);
                    pair.failed += 1;
                    pair.epoch = self.epoch;
                    pair.run = self.run;
                    self.counts.attempts += 1;
                    self.counts.failed += 1;
                }
                _ => {
                    let pending = (!self.pending_gaps.is_empty())
                        .then(|| (self.pending_gaps.clone(), self.pending_gap_line.clone()));
                    let pair = self.begin(key, State::Failed, None);
                    pair.cause = Some(cause.clone());
                    if let Some((gaps, line)) = pending {
                        pair.gaps = gaps;
                        pair.gap_line = line;
                    }
                }
            }
        }
    }

    // ----- gaps, crashes ----------------------------------------------------------------------

    /// A gap list: the dates are gaps of the open attempt, or of the next one to fail.
    pub fn add_gaps(&mut self, at: At, dates: &[Date], text: &str) {
        let line = Some((at, text.to_string()));
        match self.most_recent() {
            Some(i) => {
                let a = &mut self.open[i];
                a.gaps.extend(dates);
                if a.gap_line.is_none() {
                    a.gap_line = line;
                }
            }
            None => {
                self.pending_gaps.extend(dates);
                if self.pending_gap_line.is_none() {
                    self.pending_gap_line = line;
                }
            }
        }
    }

    /// A crash inside a run: the processors never attempted for the date the run was on are
    /// interrupted.
    pub fn interrupt_untried(&mut self, at: At, text: &str) {
        let Some(date) = self.ctx else {
            return;
        };
        for p in self.processor_ids().collect::<Vec<_>>() {
            if self.ctx_seen & p.bit() == 0 {
                let pair = self.begin((date, p), State::Interrupted, None);
                pair.cut = Some((at, text.to_string()));
            }
        }
    }

    /// The run's planned dates after the last one it reached: a `not_started` record for every
    /// pair without one. Returns how many dates that is.
    pub fn not_started(&mut self, planned: &[Date], at: At, text: &str) -> u32 {
        let reached = self.reached;
        let mut count = 0;
        for &d in planned.iter().filter(|&&d| reached.is_none_or(|r| d > r)) {
            count += 1;
            for p in self.processor_ids().collect::<Vec<_>>() {
                if !self.pairs.contains_key(&(d, p)) {
                    let pair = self.begin((d, p), State::NotStarted, None);
                    pair.cut = Some((at, text.to_string()));
                }
            }
        }
        count
    }

    /// A run end that claims every date succeeded: its failed pairs were hidden.
    pub fn mark_silent(&mut self, run: usize) {
        for pair in self.pairs.values_mut() {
            if pair.run == Some(run) && pair.state == State::Failed {
                pair.silent = true;
            }
        }
    }
}
