//! The library's error type: every failure the core can report, each naming the file it concerns.

use std::io;
use std::path::PathBuf;

use crate::manifest::Compression;

/// Everything that can stop a scan. Each variant names the file so that the one-line message the
/// binary prints is enough to act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },

    #[error("{}: is a directory", path.display())]
    IsDirectory { path: PathBuf },

    /// A scan of an image, a database or an unknown compression format finds nothing and would
    /// report "nothing to retry": refuse it instead.
    #[error("{}: not a text log: its first bytes are mostly binary", path.display())]
    NotText { path: PathBuf },

    /// A manifest passed where a log was meant gives bogus rows (its `error` strings are failures).
    #[error("{}: is a backfill-triage manifest, not a log", path.display())]
    IsManifest { path: PathBuf },

    /// The input could be read only part-way (a truncated `.gz`, a read error): the complete lines
    /// before the damage were read.
    #[error("{}: cannot read past line {lines}{}: {source}", path.display(), compression.map(|c| format!(" (damaged {} data)", c.as_str())).unwrap_or_default())]
    Damaged {
        path: PathBuf,
        compression: Option<Compression>,
        lines: u64,
        source: io::Error,
    },

    #[error("{file}:{line}: {}{message}", rule.as_ref().map(|r| format!("rule '{}': ", r.escape_debug())).unwrap_or_default())]
    Rule {
        file: String,
        line: usize,
        rule: Option<String>,
        message: String,
    },

    /// Rules that parse but are too big to compile together.
    #[error("cannot compile the rules: {0}")]
    Matcher(String),

    #[error("--processors: {0}")]
    Processors(String),

    /// A bad line of a schedule or run-history file (`--expected-dates`, `--run-history`).
    #[error("{file}:{line}: {}{message}", column.as_ref().map(|c| format!("column '{}': ", c.escape_debug())).unwrap_or_default())]
    Table {
        file: String,
        line: u64,
        column: Option<String>,
        message: String,
    },
    /// A file `plan` or `diff` reads that is not a manifest this version can read.
    #[error("{path}: {message}")]
    Manifest { path: String, message: String },

    /// Options that parse but do not fit what they are applied to (`--processor` naming a
    /// processor the run does not know).
    #[error("{0}")]
    Usage(String),

    #[error("interrupted")]
    Interrupted,

    /// A name the command line gave that means nothing here (`explain NAME`).
    #[error("{0}")]
    Unknown(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
