//! The manifest's schema: every type the JSON manifest and `--format events` serialise, with
//! [`SCHEMA_VERSION`]. Retry loops and `plan`/`diff` read these documents back, so a change here is a
//! change of contract: bump the version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::category::{Action, Category};
use crate::date::Date;

/// Version 2: rows carry `phase`, `silent` and `command`; reasons `not_started` and `missing`;
/// runs carry `not_started`, `planned` and the file of their last progress.
pub const SCHEMA_VERSION: u32 = 2;

/// The retry manifest. Its bytes depend only on the input: no clock, no thread count, no paths
/// other than the ones given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub tool: Tool,
    pub inputs: Vec<InputStats>,
    pub runs: Vec<Run>,
    pub summary: Summary,
    pub retries: Vec<Retry>,
    pub unattributed: Vec<Unattributed>,
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
