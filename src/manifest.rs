//! The manifest's schema: every type the JSON manifest and `--format events` serialise, with
//! [`SCHEMA_VERSION`]. Retry loops and `plan`/`diff` read these documents back, so a change here is a
//! change of contract: bump the version.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::category::{Action, Category};
use crate::date::{Date, Timestamp};
use crate::error::Error;

/// Version 2: rows carry `phase`, `silent` and `command`; reasons `not_started` and `missing`;
/// runs carry `not_started`, `planned` and the file of their last progress; `completeness`, present
/// only with `--expected-dates` or `--run-history`.
pub const SCHEMA_VERSION: u32 = 2;

/// The retry manifest. Its bytes depend only on the input: no clock, no thread count, no paths
/// other than the ones given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub tool: Tool,
    pub inputs: Vec<InputStats>,
    /// Shared with the report the people's outputs are drawn from: a crash loop leaves tens of
    /// thousands of runs, held once.
    pub runs: Arc<[Run]>,
    pub summary: Summary,
    pub retries: Vec<Retry>,
    pub unattributed: Vec<Unattributed>,
    /// Per processor, the dates that succeeded (or an earlier run had done), as ranges
    /// (`"2023-11-01..2023-11-14"`) and single dates: what a retry must not re-run, and what tells
    /// a date without games (never mentioned) from a date that was done.
    pub succeeded: BTreeMap<String, Vec<DateRun>>,
    /// What `--expected-dates` and `--run-history` found; absent without them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completeness: Option<Completeness>,
}

impl Manifest {
    /// Reads a manifest back (`plan`, `diff`): JSON with this [`SCHEMA_VERSION`], whose rows name
    /// processors and phases that are words (they go into shell commands). `name` is what errors
    /// call the input.
    pub fn from_json(name: &str, bytes: &[u8]) -> crate::error::Result<Manifest> {
        let fail = |message: String| Error::Manifest {
            path: name.to_string(),
            message,
        };
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| fail(format!("not a backfill-triage manifest (not JSON: {e})")))?;
        let version = match value.get("schema_version") {
            Some(v) => v.as_u64().ok_or_else(|| {
                fail(format!(
                    "not a backfill-triage manifest (schema_version is {v})"
                ))
            })?,
            None => {
                return Err(fail(
                    "not a backfill-triage manifest (no schema_version)".to_string(),
                ))
            }
        };
        if version != u64::from(SCHEMA_VERSION) {
            return Err(fail(format!(
                "schema_version {version}, this version reads {SCHEMA_VERSION}: scan the logs again"
            )));
        }
        let manifest: Manifest = serde_json::from_value(value)
            .map_err(|e| fail(format!("not a backfill-triage manifest ({e})")))?;
        let word = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        for (i, r) in manifest.retries.iter().enumerate() {
            if !word(&r.processor) || !word(&r.phase) {
                return Err(fail(format!(
                    "retries[{i}]: processor {:?} or phase {:?} is not a word (letters, digits, '_', '-')",
                    r.processor, r.phase
                )));
            }
        }
        Ok(manifest)
    }
}

/// Consecutive calendar days, written `A..B` (or `A` for one day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateRun {
    pub first: Date,
    pub last: Date,
}

impl DateRun {
    /// Compacts sorted dates into runs of consecutive days.
    pub fn compact(dates: impl IntoIterator<Item = Date>) -> Vec<DateRun> {
        let mut out: Vec<DateRun> = Vec::new();
        for d in dates {
            match out.last_mut() {
                Some(r) if r.last.succ() == Some(d) => r.last = d,
                Some(r) if r.last >= d => {}
                _ => out.push(DateRun { first: d, last: d }),
            }
        }
        out
    }

    pub fn contains(&self, d: Date) -> bool {
        self.first <= d && d <= self.last
    }
}

impl Serialize for DateRun {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.first == self.last {
            s.collect_str(&self.first)
        } else {
            s.collect_str(&format_args!("{}..{}", self.first, self.last))
        }
    }
}

impl<'de> Deserialize<'de> for DateRun {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DateRun, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let (a, b) = text.split_once("..").unwrap_or((&text, &text));
        match (Date::parse(a.as_bytes()), Date::parse(b.as_bytes())) {
            (Some(first), Some(last)) if first <= last => Ok(DateRun { first, last }),
            _ => Err(serde::de::Error::custom(format!(
                "not a date or a range A..B: {text:?}"
            ))),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    pub fn this() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// What the manifest records of each input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputStats {
    pub path: String,
    /// Bytes and lines of text read (decompressed); for a damaged input, up to its last complete
    /// line before the damage.
    pub bytes: u64,
    pub lines: u64,
    /// The format the input was decompressed from, found by its magic bytes (not its name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<Compression>,
    /// False when no run, attempt or failure was found in it: a manifest that says "nothing to
    /// retry" about a file that is not a backfill log at all must say so.
    #[serde(default = "recognised_by_default")]
    pub recognised: bool,
    /// Set, with `--keep-going`, for an input that could not be read (zero counts) or was damaged
    /// part-way (counts up to the damage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn recognised_by_default() -> bool {
    true
}

/// A compressed input's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    Gzip,
    Xz,
    Zstd,
    Bzip2,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
        }
    }
}

/// One backfill run found in the input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    pub file: String,
    pub first_line: u64,
    pub completed: bool,
    pub crashed: bool,
    /// The line that ended a crashed run: the crash marker, the next run's banner, or the last line.
    pub crash: Option<LineText>,
    pub total_dates: Option<u32>,
    /// The dates the run set out to process, when a banner named them.
    pub planned: Option<Span>,
    pub last_progress: Option<Progress>,
    /// Dates the run never reached because it crashed: with planned dates known they are rows
    /// (reason `not_started`); without, this count is all a retry loop can be told.
    pub not_started: u32,
    /// The times of its first and last lines that carry one.
    pub started: Option<Timestamp>,
    pub ended: Option<Timestamp>,
}

/// A set of dates, by its bounds and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub first: Date,
    pub last: Date,
    pub dates: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Progress {
    pub index: u32,
    pub total: u32,
    pub date: Option<Date>,
    pub file: String,
    pub line: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LineText {
    pub file: String,
    pub line: u64,
    pub text: String,
}

/// Why a pair is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Its last attempt failed.
    Failed,
    /// A crash cut its last attempt off, or it never ran for the date the run was on.
    Interrupted,
    /// The run crashed before it reached the date.
    NotStarted,
    /// A defensive check reported the date missing.
    Gap,
    /// Expected (schedule) but never seen succeeding, in the logs or the history.
    Missing,
}

impl Reason {
    pub const ALL: [Reason; 5] = [
        Reason::Failed,
        Reason::Interrupted,
        Reason::NotStarted,
        Reason::Gap,
        Reason::Missing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Failed => "failed",
            Reason::Interrupted => "interrupted",
            Reason::NotStarted => "not_started",
            Reason::Gap => "gap",
            Reason::Missing => "missing",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Reason {
    type Err = String;
    fn from_str(s: &str) -> Result<Reason, String> {
        Reason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
                format!(
                    "unknown reason '{}' (known: {})",
                    s.escape_debug(),
                    known.join(", ")
                )
            })
    }
}

/// One (date, processor) to re-run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Retry {
    pub date: Date,
    pub processor: String,
    /// The pipeline phase seen on the pair's start line (`analytics/p`), for the retry command.
    pub phase: String,
    pub category: Category,
    pub action: Action,
    pub reason: Reason,
    /// A success line claimed this pair while it had failed: the script hid the error.
    pub silent: bool,
    /// Failed attempts seen for the pair, this one included.
    pub failures: u32,
    pub blocked_by: Vec<Date>,
    pub error: String,
    pub file: String,
    pub line: u64,
    /// The rule that named the category (null for rows no rule decided): what to retune when a
    /// category is wrong.
    pub rule: Option<String>,
    /// The command that retries this row (shared by the rows one range command covers).
    pub command: String,
}

impl Retry {
    /// The row's reason as the reports print it: `failed 3 times`, `gap, blocked by A, B`.
    pub fn reason_label(&self) -> String {
        let mut reason = match self.reason {
            Reason::Failed if self.failures > 1 => format!("failed {} times", self.failures),
            other => other.as_str().to_string(),
        };
        if !self.blocked_by.is_empty() {
            let gaps: Vec<String> = self.blocked_by.iter().map(Date::to_string).collect();
            reason.push_str(&format!(", blocked by {}", gaps.join(", ")));
        }
        reason
    }

    /// A row of `category` for `reason`, with the category's action and the default phase; the
    /// caller fills in what it knows (evidence, failures, gaps).
    pub fn new(date: Date, processor: &str, category: Category, reason: Reason) -> Retry {
        Retry {
            date,
            processor: processor.to_string(),
            phase: crate::processors::DEFAULT_PHASE.to_string(),
            category,
            action: category.action(),
            reason,
            silent: false,
            failures: 0,
            blocked_by: Vec::new(),
            error: String::new(),
            file: String::new(),
            line: 0,
            rule: None,
            command: String::new(),
        }
    }
}

/// A failure that names no date or processor and falls outside every attempt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unattributed {
    pub file: String,
    pub line: u64,
    pub category: Category,
    pub rule: Option<String>,
    pub error: String,
    /// Identical failures (same rule and text) after the first.
    pub repeats: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    pub attempts: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub interrupted: u64,
    pub failure_lines: u64,
    pub retries: u64,
    pub gaps: u64,
    /// Failed rows that a success line claimed.
    pub silent: u64,
    /// Dates the runs never reached (see `Run::not_started`).
    pub not_started: u64,
    pub unattributed: u64,
    /// Retry rows per category (every category present, zero or not).
    pub by_category: BTreeMap<Category, u64>,
    /// Retry rows per processor.
    pub by_processor: BTreeMap<String, u64>,
}

/// The expected dates against the final states, and the run history folded in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completeness {
    /// The dates that should have succeeded (`--expected-dates`).
    pub expected: Option<Expected>,
    /// The run history read (`--run-history`).
    pub history: Option<HistoryStats>,
    /// Per processor, in processor order, over the expected dates: `expected` = `succeeded`
    /// (finally succeeded or skipped, in the logs or the history) + `failed` (a retry row of
    /// another reason: failed, interrupted, not_started, gap) + `missing` (a `missing` row).
    /// Empty without expected dates.
    pub processors: Vec<ProcessorCompleteness>,
    /// Retry rows with reason `missing`.
    pub missing: u64,
    /// Dates the logs mention that are not expected: reported, never rows.
    pub unexpected: Vec<DateRun>,
    pub unexpected_dates: u64,
}

/// Where the expected dates came from and what they span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    /// The schedule file, or the `A..B` range as given.
    pub source: String,
    pub dates: u64,
    pub first: Option<Date>,
    pub last: Option<Date>,
}

/// What the run history contributed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryStats {
    pub file: String,
    /// Data rows in the file.
    pub records: u64,
    /// Rows of processors not in `--processors` (other phases), ignored.
    pub ignored: u64,
    /// The first distinct ignored processor names, sorted: a naming mismatch shows here.
    pub ignored_names: Vec<String>,
    /// Pairs the history has a record of.
    pub pairs: u64,
    /// Retry rows from the logs that a later (or untimed) history success cleared.
    pub cleared: u64,
    /// Retry rows that come from a history failure (new, or replacing an interrupted,
    /// not-started or gap row).
    pub added: u64,
    /// Pairs where a later log record overruled a history record with the other outcome.
    pub log_later: u64,
}

/// One processor's completeness over the expected dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessorCompleteness {
    pub processor: String,
    pub expected: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub missing: u64,
}

/// One line of `--format events`.
#[derive(Debug, Serialize)]
pub struct EventLine<'a> {
    pub file: &'a str,
    pub line: u64,
    pub offset: u64,
    pub severity: Option<&'static str>,
    pub failure: bool,
    pub category: Option<Category>,
    pub rule: Option<&'a str>,
    pub dates: &'a [Date],
    pub processor: Option<&'a str>,
    pub text: &'a str,
}
