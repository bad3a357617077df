//! Run tracking: where each backfill run begins (banners, the first progress line), what it set
//! out to do (its total and planned dates), how far it got, and how it ended.

use crate::date::{Date, Timestamp};
use crate::manifest::{LineText, Progress, Run, Span};

#[derive(Default)]
pub struct Runs {
    pub list: Vec<Run>,
    open: Option<usize>,
    /// The open run has started work (an attempt or a progress line): a banner now opens another.
    active: bool,
    /// The open run's planned dates.
    planned: Vec<Date>,
}

impl Runs {
    pub fn open(&self) -> Option<usize> {
        self.open
    }

    pub fn is_active(&self) -> bool {
        self.open.is_some() && self.active
    }

    pub fn planned(&self) -> &[Date] {
        &self.planned
    }

    /// The open run, opened at `file:line` if there is none. Returns its index and whether it
    /// is new.
    pub fn ensure(&mut self, file: &str, line: u64, now: Option<Timestamp>) -> (usize, bool) {
        if let Some(run) = self.open {
            return (run, false);
        }
        self.list.push(Run {
            file: file.to_string(),
            first_line: line,
            completed: false,
            crashed: false,
            crash: None,
            total_dates: None,
            planned: None,
            last_progress: None,
            not_started: 0,
            started: now,
            ended: None,
        });
        self.open = Some(self.list.len() - 1);
        self.active = false;
        self.planned.clear();
        (self.list.len() - 1, true)
    }

    /// A time seen while the open run is open: its start, if its banner had none.
    pub fn note_time(&mut self, now: Option<Timestamp>) {
        if let Some(run) = self.open {
            self.list[run].started = self.list[run].started.or(now);
        }
    }

    /// The open run started work.
    pub fn activity(&mut self) {
        if self.open.is_some() {
            self.active = true;
        }
    }

    /// A banner's total and planned dates, for the open run.
    pub fn banner(&mut self, total: Option<u32>, planned: Vec<Date>) {
        let Some(run) = self.open else {
            return;
        };
        let r = &mut self.list[run];
        if let Some(total) = total {
            r.total_dates = Some(total);
        }
        if let (Some(&first), Some(&last)) = (planned.first(), planned.last()) {
            r.planned = Some(Span {
                first,
                last,
                dates: planned.len() as u32,
            });
            r.total_dates.get_or_insert(planned.len() as u32);
            self.planned = planned;
        }
    }

    pub fn progress(&mut self, progress: Progress) {
        if let Some(run) = self.open {
            self.list[run].total_dates.get_or_insert(progress.total);
            self.list[run].last_progress = Some(progress);
        }
    }

    /// A completion marker: the open run (or, outside a run, a run of its own) completed. A second
    /// marker right after the first ("Backfill script completed" after "ALL DATES SUCCESSFUL") is
    /// the same completion. Returns the run.
    pub fn complete(&mut self, file: &str, line: u64, now: Option<Timestamp>) -> usize {
        let run = match self.open.take() {
            Some(run) => run,
            None if self.list.last().is_some_and(|r| r.completed) => return self.list.len() - 1,
            None => {
                let (run, _) = self.ensure(file, line, now);
                self.open = None;
                run
            }
        };
        self.list[run].completed = true;
        self.list[run].ended = now;
        run
    }

    /// The open run ended without completing: at `crash`, with `not_started` dates never reached.
    pub fn crashed(&mut self, crash: LineText, not_started: u32, now: Option<Timestamp>) {
        if let Some(run) = self.open.take() {
            let r = &mut self.list[run];
            r.ended = now;
            r.crashed = true;
            r.crash = Some(crash);
            r.not_started = not_started;
        }
    }

    /// How many dates a crashed run never started when its planned dates are unknown: the
    /// progress total minus the last index, or the banner's total minus the dates it reached.
    pub fn unstarted_count(&self, reached: usize) -> u32 {
        let Some(run) = self.open else {
            return 0;
        };
        let r = &self.list[run];
        match (&r.last_progress, r.total_dates) {
            (Some(p), _) if p.total != u32::MAX && p.index != u32::MAX => {
                p.total.saturating_sub(p.index)
            }
            (None, Some(total)) if total != u32::MAX => total.saturating_sub(reached as u32),
            _ => 0,
        }
    }
}
