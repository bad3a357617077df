//! Completeness: what should exist against what the logs and the platform's run history say.
//!
//! The logs alone cannot show a date nobody attempted (the playbook's Scenario 6: "ALL DATES
//! SUCCESSFUL", yet the quality gate finds dates missing). Two inputs close that hole:
//!
//! - `--expected-dates SPEC`: the dates that should have succeeded, a range `A..B` (every calendar
//!   day) or a schedule file ([`read_schedule`]: one date per line, or a CSV with a header whose
//!   first date-valued column is used, as `bq query --format=csv` prints the playbook's schedule
//!   query). Every (expected date, processor) pair that neither the logs nor the history show as
//!   succeeded, and that has no row of its own, becomes a `missing` row.
//! - `--run-history FILE.csv`: an export of `processor_run_history` ([`crate::history`]). History
//!   and logs fold by time: the latest record of a pair wins, whichever source it is in; when either
//!   side has no time, the history (the platform's record) wins for the pairs it has.
//!
//! [`merge`] is the one place both are applied to the rows, before the report step counts them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::category::Category;
use crate::classify::Classifier;
use crate::config::Config;
use crate::date::Date;
use crate::error::Result;
use crate::extract::clean_text;
use crate::history::{self, CsvFile, History, Record};
use crate::manifest::{
    Completeness, DateRun, Expected, HistoryStats, ProcessorCompleteness, Reason, Retry,
};
use crate::processors::{ProcessorId, ProcessorNames, DEFAULT_PHASE};
use crate::rules::RuleId;
use crate::triage::{Outcome, PairOutcome};

/// The longest `A..B` range accepted (100 years): a typo must not make millions of rows.
pub const MAX_EXPECTED_DAYS: usize = 36_600;

/// `--expected-dates`: a range, or a schedule file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedDates {
    /// Every calendar day of `first..=last`.
    Range {
        first: Date,
        last: Date,
    },
    File(PathBuf),
}

impl ExpectedDates {
    /// `A..B` with two `YYYY-MM-DD` dates is a range (a bad one is an error); anything else is a
    /// file path.
    pub fn parse(spec: &str) -> std::result::Result<ExpectedDates, String> {
        let shaped = |s: &str| {
            s.len() == 10
                && s.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                })
        };
        if let Some((a, b)) = spec.split_once("..") {
            if shaped(a) && shaped(b) {
                let date = |s: &str| {
                    Date::parse(s.as_bytes()).ok_or_else(|| format!("{s} is not a calendar date"))
                };
                let (first, last) = (date(a)?, date(b)?);
                if first > last {
                    return Err(format!(
                        "the range ends ({last}) before it starts ({first})"
                    ));
                }
                let mut d = first;
                for _ in 1..MAX_EXPECTED_DAYS {
                    if d == last {
                        return Ok(ExpectedDates::Range { first, last });
                    }
                    d = d.succ().ok_or("the range runs past 9999-12-31")?;
                }
                if d == last {
                    return Ok(ExpectedDates::Range { first, last });
                }
                return Err(format!("longer than {MAX_EXPECTED_DAYS} days"));
            }
        }
        if spec.is_empty() {
            return Err("expected A..B or a schedule file".into());
        }
        Ok(ExpectedDates::File(PathBuf::from(spec)))
    }
}

/// The expected dates, sorted, each once, with the line that first names it (0 for a range).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The schedule file, or the range as `A..B`: the `file` of `missing` rows.
    pub source: String,
    pub dates: Vec<(Date, u64)>,
}

impl Schedule {
    pub fn load(spec: &ExpectedDates) -> Result<Schedule> {
        match spec {
            ExpectedDates::Range { first, last } => {
                let mut dates = vec![(*first, 0)];
                let mut d = *first;
                while d < *last {
                    d = d.succ().expect("the range was checked");
                    dates.push((d, 0));
                }
                Ok(Schedule {
                    source: format!("{first}..{last}"),
                    dates,
                })
            }
            ExpectedDates::File(path) => read_schedule(path),
        }
    }
}

/// Reads a schedule file: one date per line, or a CSV whose first row is a header (it names no
/// date) and whose date column is the first field of the first data row that holds a date.
/// Blank lines and lines starting with `#` are skipped; fields are trimmed; repeated dates (one
/// row per game) count once.
pub fn read_schedule(path: &Path) -> Result<Schedule> {
    let mut csv = CsvFile::open(path, Some(b'#'))?;
    let file = csv.name.clone();
    let error =
        |line, column: Option<&str>, message| history::table_error(&file, line, column, message);
    let shaped = |f: &[u8]| {
        let f = f.trim_ascii();
        f.len() == 10 && f[4] == b'-' && f[7] == b'-'
    };
    let mut record = csv::ByteRecord::new();
    let mut header: Option<Vec<String>> = None;
    let mut column: Option<usize> = None;
    let mut dates: Vec<(Date, u64)> = Vec::new();
    while let Some(line) = csv.next(&mut record)? {
        if header.is_none() && column.is_none() && dates.is_empty() && !record.iter().any(shaped) {
            header = Some(
                record
                    .iter()
                    .map(|f| String::from_utf8_lossy(f.trim_ascii()).into_owned())
                    .collect(),
            );
            continue;
        }
        let col = match column {
            Some(c) => c,
            None => {
                let c = record.iter().position(shaped).ok_or_else(|| {
                    error(
                        line,
                        None,
                        "no YYYY-MM-DD date in the first row after the header".to_string(),
                    )
                })?;
                column = Some(c);
                c
            }
        };
        let name = match &header {
            Some(names) => names
                .get(col)
                .cloned()
                .unwrap_or_else(|| (col + 1).to_string()),
            None => (col + 1).to_string(),
        };
        let text = history::field(&record, col)
            .ok_or_else(|| error(line, Some(&name), "missing value (short row)".to_string()))?;
        let date = Date::parse(text).ok_or_else(|| {
            error(
                line,
                Some(&name),
                format!("not a YYYY-MM-DD date: {}", history::shown(text)),
            )
        })?;
        dates.push((date, line));
    }
    // Stable: the first line naming a date stays with it.
    dates.sort_by_key(|d| d.0);
    dates.dedup_by_key(|d| d.0);
    Ok(Schedule {
        source: file,
        dates,
    })
}

/// Everything completeness needs, read before the logs so that a bad file fails fast.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub expected: Option<Schedule>,
    pub history: Option<History>,
}

/// Reads `--expected-dates` and `--run-history`; `None` when neither was given.
pub fn load(config: &Config, names: &ProcessorNames) -> Result<Option<Inputs>> {
    if config.expected_dates.is_none() && config.run_history.is_none() {
        return Ok(None);
    }
    let expected = config
        .expected_dates
        .as_ref()
        .map(Schedule::load)
        .transpose()?;
    let history = config
        .run_history
        .as_deref()
        .map(|p| history::read(p, names))
        .transpose()?;
    Ok(Some(Inputs { expected, history }))
}

/// Folds the history into the logs' final states and rows, then adds the `missing` rows of the
/// expected dates. `pairs` is sorted by (date, processor) and stays so; `retries` comes unsorted
/// and is left unsorted (the caller sorts and counts). `phases` is each processor's phase as the
/// logs last showed it.
pub(crate) fn merge(
    inputs: &Inputs,
    classifier: &Classifier,
    pairs: &mut Vec<PairOutcome>,
    retries: &mut Vec<Retry>,
    phases: &[Option<String>],
) -> Completeness {
    let names = classifier.processors();
    let mut log_dates: Vec<Date> = pairs
        .iter()
        .map(|p| p.date)
        .chain(retries.iter().map(|r| r.date))
        .collect();
    log_dates.sort_unstable();
    log_dates.dedup();

    let mut phases: Vec<Option<String>> = phases.to_vec();
    phases.resize(names.len(), None);
    if let Some(history) = &inputs.history {
        for r in &history.records {
            if let (slot @ None, Some(phase)) = (&mut phases[r.processor.index()], &r.phase) {
                *slot = Some(phase.to_string());
            }
        }
    }
    let phase = |p: ProcessorId| {
        phases[p.index()]
            .clone()
            .unwrap_or_else(|| DEFAULT_PHASE.to_string())
    };

    let mut rows = Rows::new(std::mem::take(retries), names);
    let mut out = Completeness::default();
    if let Some(history) = &inputs.history {
        out.history = Some(fold_history(history, classifier, pairs, &mut rows, &phase));
    }

    if let Some(schedule) = &inputs.expected {
        let mut history_dates: Vec<Date> = inputs
            .history
            .iter()
            .flat_map(|h| h.records.iter().map(|r| r.date))
            .collect();
        history_dates.sort_unstable();
        history_dates.dedup();
        let with_history = inputs.history.is_some();
        let mut per: Vec<ProcessorCompleteness> = names
            .names()
            .iter()
            .map(|p| ProcessorCompleteness {
                processor: p.clone(),
                expected: 0,
                succeeded: 0,
                failed: 0,
                missing: 0,
            })
            .collect();
        for &(date, line) in &schedule.dates {
            let seen = log_dates.binary_search(&date).is_ok()
                || history_dates.binary_search(&date).is_ok();
            for p in ProcessorId::all(names.len()) {
                let count = &mut per[p.index()];
                count.expected += 1;
                if rows.get(date, p).is_some() {
                    count.failed += 1;
                    continue;
                }
                let state = pairs
                    .binary_search_by_key(&(date, p), |x| (x.date, x.processor))
                    .ok()
                    .map(|i| pairs[i].state);
                if matches!(state, Some(Outcome::Succeeded | Outcome::Skipped)) {
                    count.succeeded += 1;
                    continue;
                }
                count.missing += 1;
                let sources = if with_history {
                    "no log line or run-history record"
                } else {
                    "no log line"
                };
                let error = if seen {
                    format!(
                        "expected date, but this processor never ran it: {sources} of it on this date (other processors ran the date)"
                    )
                } else {
                    format!("expected date never attempted: {sources} mentions it")
                };
                let mut r = Retry::new(
                    date,
                    names.name(p),
                    Category::ScriptInfrastructure,
                    Reason::Missing,
                );
                r.phase = phase(p);
                r.error = error;
                r.file = schedule.source.clone();
                r.line = line;
                rows.push(date, p, r);
            }
        }
        out.missing = per.iter().map(|c| c.missing).sum();
        out.processors = per;
        let unexpected: Vec<Date> = log_dates
            .iter()
            .copied()
            .filter(|d| schedule.dates.binary_search_by_key(d, |x| x.0).is_err())
            .collect();
        out.unexpected_dates = unexpected.len() as u64;
        out.unexpected = DateRun::compact(unexpected);
        out.expected = Some(Expected {
            source: schedule.source.clone(),
            dates: schedule.dates.len() as u64,
            first: schedule.dates.first().map(|d| d.0),
            last: schedule.dates.last().map(|d| d.0),
        });
    }
    *retries = rows.into_vec();
    out
}

/// The retry rows by pair while they are being changed.
struct Rows {
    list: Vec<Option<Retry>>,
    index: HashMap<(Date, ProcessorId), usize>,
}

impl Rows {
    fn new(retries: Vec<Retry>, names: &ProcessorNames) -> Rows {
        let index = retries
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some(((r.date, names.lookup(r.processor.as_bytes())?), i)))
            .collect();
        Rows {
            list: retries.into_iter().map(Some).collect(),
            index,
        }
    }

    fn get(&self, date: Date, p: ProcessorId) -> Option<&Retry> {
        self.index
            .get(&(date, p))
            .and_then(|&i| self.list[i].as_ref())
    }

    fn take(&mut self, date: Date, p: ProcessorId) -> Option<Retry> {
        self.index
            .remove(&(date, p))
            .and_then(|i| self.list[i].take())
    }

    fn push(&mut self, date: Date, p: ProcessorId, row: Retry) {
        self.take(date, p);
        self.index.insert((date, p), self.list.len());
        self.list.push(Some(row));
    }

    fn into_vec(self) -> Vec<Retry> {
        self.list.into_iter().flatten().collect()
    }
}

/// Each pair's latest history record against its log state: see the module header.
fn fold_history(
    history: &History,
    classifier: &Classifier,
    pairs: &mut Vec<PairOutcome>,
    rows: &mut Rows,
    phase: &dyn Fn(ProcessorId) -> String,
) -> HistoryStats {
    let records = &history.records;
    let mut stats = HistoryStats {
        file: history.file.clone(),
        records: history.rows,
        ignored: history.ignored,
        ignored_names: history.ignored_names.clone(),
        ..HistoryStats::default()
    };
    // A pair's records in time order; untimed ones before timed ones, then in file order.
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_unstable_by_key(|&i| {
        let r = &records[i];
        (r.date, r.processor, r.time, r.line)
    });
    let mut added_pairs = Vec::new();
    for group in order.chunk_by(|&a, &b| {
        (records[a].date, records[a].processor) == (records[b].date, records[b].processor)
    }) {
        let last = &records[*group.last().expect("chunks are not empty")];
        let failures = group.iter().filter(|&&i| !records[i].success).count() as u32;
        stats.pairs += 1;
        let key = (last.date, last.processor);
        let log = pairs
            .binary_search_by_key(&key, |x| (x.date, x.processor))
            .ok();
        if let Some(i) = log {
            if let (Some(logged), Some(recorded)) = (pairs[i].time, last.time) {
                if logged > recorded {
                    let log_ok = matches!(pairs[i].state, Outcome::Succeeded | Outcome::Skipped);
                    stats.log_later += u64::from(log_ok != last.success);
                    continue;
                }
            }
        }
        // The history decides this pair.
        let state = if last.success {
            Outcome::Succeeded
        } else {
            Outcome::Failed
        };
        match log {
            Some(i) => {
                pairs[i].state = state;
                pairs[i].time = last.time.or(pairs[i].time);
            }
            None => added_pairs.push(PairOutcome {
                date: last.date,
                processor: last.processor,
                state,
                time: last.time,
            }),
        }
        let existing = rows
            .get(last.date, last.processor)
            .map(|r| (r.reason, r.failures));
        if last.success {
            if rows.take(last.date, last.processor).is_some() {
                stats.cleared += 1;
            }
        } else if existing.is_none_or(|(reason, _)| reason != Reason::Failed) {
            // A failed row from the logs stands: it has the line. Otherwise the history's failure
            // is the row.
            let mut r = history_row(classifier, &history.file, last);
            r.phase = match &last.phase {
                Some(p) => p.to_string(),
                None => phase(last.processor),
            };
            r.failures = failures.max(existing.map_or(0, |e| e.1));
            rows.push(last.date, last.processor, r);
            stats.added += 1;
        }
    }
    if !added_pairs.is_empty() {
        pairs.extend(added_pairs);
        pairs.sort_unstable_by_key(|x| (x.date, x.processor));
    }
    stats
}

/// A failure known from the history: its category from classifying `error_message` with the
/// same rules as log lines.
fn history_row(classifier: &Classifier, file: &str, record: &Record) -> Retry {
    let (rule, text) = explain(classifier, &record.message);
    let category = classifier.category(rule);
    let mut r = Retry::new(
        record.date,
        classifier.processors().name(record.processor),
        category,
        Reason::Failed,
    );
    r.error = text;
    r.file = file.to_string();
    r.line = record.line;
    r.failures = 1;
    r.rule = classifier.rule_id(rule).map(str::to_string);
    r
}

/// The line of an error message that best explains it (a message may be a whole traceback):
/// ranked as failure lines of one attempt are, a line a specific rule names first, then the
/// higher priority, then the earlier line. With no rule, the message's first line.
fn explain(classifier: &Classifier, message: &str) -> (Option<RuleId>, String) {
    let mut best: Option<((bool, bool, u8), RuleId, &str)> = None;
    for line in message.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some(rule) = classifier
            .classify(line.as_bytes(), true)
            .and_then(|e| e.rule)
        else {
            continue;
        };
        let named = classifier.category(Some(rule)) != Category::Uncategorized;
        let rank = (
            named,
            !classifier.is_wrapper(Some(rule)),
            classifier.priority(Some(rule)),
        );
        if best.as_ref().is_none_or(|b| rank > b.0) {
            best = Some((rank, rule, line));
        }
    }
    match best {
        Some((_, rule, line)) => (Some(rule), clean_text(line.as_bytes())),
        None => match message.lines().map(str::trim).find(|l| !l.is_empty()) {
            Some(line) => (None, clean_text(line.as_bytes())),
            None => (
                None,
                "processor_run_history: success = false, no error_message".to_string(),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_ranges_or_files() {
        let d = |s: &str| Date::parse(s.as_bytes()).unwrap();
        assert_eq!(
            ExpectedDates::parse("2023-11-01..2023-11-30"),
            Ok(ExpectedDates::Range {
                first: d("2023-11-01"),
                last: d("2023-11-30")
            })
        );
        assert!(ExpectedDates::parse("2023-11-30..2023-11-01")
            .unwrap_err()
            .contains("before it starts"));
        assert!(ExpectedDates::parse("2023-02-30..2023-03-01")
            .unwrap_err()
            .contains("not a calendar date"));
        assert!(ExpectedDates::parse("1900-01-01..2023-01-01")
            .unwrap_err()
            .contains("longer than"));
        assert_eq!(
            ExpectedDates::parse("schedule.csv"),
            Ok(ExpectedDates::File("schedule.csv".into()))
        );
        let ten_years = ExpectedDates::parse("2015-01-01..2024-12-31").unwrap();
        assert_eq!(Schedule::load(&ten_years).unwrap().dates.len(), 3653);
    }
}
