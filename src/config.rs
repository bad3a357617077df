//! The one configuration the core reads. The command line (or a test, or a fuzz target) builds it;
//! nothing below this module knows about argument parsing.

use std::path::PathBuf;

pub use crate::completeness::ExpectedDates;
pub use crate::plan::{Filters, PlanOptions};
pub use crate::processors::DEFAULT_PROCESSORS;
use crate::scan::Source;

/// Default chunk: big enough that handing chunks to threads costs little, small enough that a
/// chunk's events are still in its core's cache when they are folded, and to bound the events in
/// flight in a log made only of failures (BENCHMARKS.md, "Tuning choices").
pub const DEFAULT_CHUNK_SIZE: usize = 2 << 20;

/// What goes to stdout. `plan` writes every one but `Events`; `diff` writes `Summary`, `Tsv`
/// and `Json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Summary,
    Json,
    Csv,
    Tsv,
    Events,
    Commands,
    /// A post-mortem document in Markdown.
    Markdown,
}

/// What `templates` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateFormat {
    Text,
    Json,
    /// A rule stub per template.
    Toml,
}

/// The options of `templates`.
#[derive(Debug, Clone)]
pub struct TemplateOptions {
    /// Cluster every failure line, not only those no rule names.
    pub all: bool,
    pub format: TemplateFormat,
    /// Templates kept: the bound on memory (about 2 KiB each).
    pub max_templates: usize,
}

/// Templates kept by default: 1000 x about 2 KiB.
pub const DEFAULT_MAX_TEMPLATES: usize = 1000;

#[derive(Debug, Clone)]
pub struct Config {
    /// `scan`: the logs, in the order given, read oldest first unless `keep_order` (see
    /// [`crate::input::oldest_first`]). `plan`: the manifest. `diff`: OLD and NEW.
    pub inputs: Vec<Source>,
    pub manifest: Option<PathBuf>,
    pub format: Format,
    /// Rule files layered, in order, over the built-in rules.
    pub rules: Vec<PathBuf>,
    pub processors: Vec<String>,
    pub threads: usize,
    pub chunk_size: usize,
    pub mmap: bool,
    /// Skip unreadable inputs and read damaged ones up to the damage, instead of stopping.
    pub keep_going: bool,
    /// Read the inputs in the order given, even when their timestamps say otherwise.
    pub keep_order: bool,
    pub progress: bool,
    /// ANSI colours in the summary and the calendar (resolved from `--color`, the environment and
    /// whether stdout is a terminal: see [`crate::term`]).
    pub color: bool,
    /// The width summary lines are cut to.
    pub width: usize,
    /// Also write the self-contained HTML report here, atomically.
    pub report: Option<PathBuf>,
    pub templates: TemplateOptions,
    /// The dates that should have succeeded (`--expected-dates`): missing pairs become rows.
    pub expected_dates: Option<ExpectedDates>,
    /// An export of `processor_run_history` folded in with the logs (`--run-history`).
    pub run_history: Option<PathBuf>,
    /// Which retry rows every output keeps, the manifest included (`scan`, `plan`).
    pub filters: Filters,
    /// How the kept rows become commands (`scan`, `plan`).
    pub plan: PlanOptions,
    /// Exit with status 1 when something is left: retry rows after the filters (`scan`, `plan`),
    /// pairs still failing or new (`diff`).
    pub exit_code: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            inputs: vec![Source::Stdin],
            manifest: None,
            format: Format::Summary,
            rules: Vec::new(),
            processors: DEFAULT_PROCESSORS.iter().map(|s| s.to_string()).collect(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_size: DEFAULT_CHUNK_SIZE,
            mmap: true,
            keep_going: false,
            keep_order: false,
            progress: false,
            color: false,
            width: crate::term::DEFAULT_WIDTH,
            report: None,
            templates: TemplateOptions {
                all: false,
                format: TemplateFormat::Text,
                max_templates: DEFAULT_MAX_TEMPLATES,
            },
            expected_dates: None,
            run_history: None,
            filters: Filters::default(),
            plan: PlanOptions::default(),
            exit_code: false,
        }
    }
}
