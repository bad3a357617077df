//! The command line: clap arguments that only validate, and their conversion into the [`Config`]
//! the core reads.

use std::path::PathBuf;

use backfill_triage::config::{
    Config, ExpectedDates, Format, DEFAULT_CHUNK_SIZE, DEFAULT_PROCESSORS,
};
use backfill_triage::scan::Source;
use clap::{Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0    scanned (whatever it found); rules --check: every example passed
  1    rules --check: an example or counter-example failed
  2    bad usage, unreadable input or rule file, unwritable manifest
  130  interrupted (SIGINT/SIGTERM); no manifest was written";

#[derive(Parser, Debug)]
#[command(name = "backfill-triage", version, about = "Triage backfill logs into a retry manifest.", after_help = EXIT_CODES)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan logs: categorise failures, follow attempts, write the retry manifest.
    Scan(ScanArgs),
    /// List the rules in force; with --check, test every rule's examples.
    Rules(RulesArgs),
}

#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct ScanArgs {
    /// Logs in chronological order, oldest first; '-' or none: stdin. gzip is detected by content.
    #[arg(value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// Write the JSON retry manifest to PATH, atomically.
    #[arg(short, long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// What goes to stdout.
    #[arg(short, long, value_enum, default_value_t = FormatArg::Summary)]
    pub format: FormatArg,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Worker threads [default: all cores].
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Read files instead of memory-mapping them (for files that may be truncated while read).
    #[arg(long)]
    pub no_mmap: bool,
    /// Skip unreadable inputs, recording each and its error in the manifest's `inputs`.
    #[arg(long)]
    pub keep_going: bool,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// The dates that should have succeeded: A..B (every day), or a schedule file (one date per
    /// line, or a CSV whose first date column is used). Pairs never seen succeeding become
    /// `missing` rows.
    #[arg(long, value_name = "SPEC", value_parser = ExpectedDates::parse)]
    pub expected_dates: Option<ExpectedDates>,
    /// An export of processor_run_history (CSV with a header: data_date, processor_name, success;
    /// optional error_message, created_at, phase), folded in with the logs by time.
    #[arg(long, value_name = "FILE.csv")]
    pub run_history: Option<PathBuf>,
    /// Bytes per parallel chunk (testing and tuning).
    #[arg(long, hide = true, value_name = "BYTES", default_value_t = DEFAULT_CHUNK_SIZE as u64, value_parser = clap::value_parser!(u64).range(1..=(1 << 30)))]
    pub chunk_size: u64,
}

#[derive(clap::Args, Debug)]
pub struct RuleArgs {
    /// A rule file layered over the built-in rules (repeatable; same id replaces).
    #[arg(long, value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Known processor names, comma-separated [default: the playbook's five].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub processors: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct RulesArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Check every rule's examples and counter-examples against the whole rule set.
    #[arg(long)]
    pub check: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum FormatArg {
    /// For people: runs, retries grouped by action, top errors.
    Summary,
    /// The manifest.
    Json,
    /// Retry rows, comma-separated, with a header.
    Csv,
    /// Retry rows, tab-separated, with a header.
    Tsv,
    /// NDJSON, one object per line that matched a rule or is a failure.
    Events,
    /// A shell script of run_backfill.sh commands, one per retry row.
    Commands,
}

impl RuleArgs {
    fn apply(self, config: &mut Config) {
        config.rules = self.rules;
        config.processors = if self.processors.is_empty() {
            DEFAULT_PROCESSORS.iter().map(|s| s.to_string()).collect()
        } else {
            self.processors
                .into_iter()
                .map(|p| p.trim().to_string())
                .collect()
        };
    }
}

impl ScanArgs {
    pub fn into_config(self, stderr_is_terminal: bool) -> Config {
        let mut config = Config {
            inputs: if self.logs.is_empty() {
                vec![Source::Stdin]
            } else {
                self.logs
                    .into_iter()
                    .map(|p| {
                        if p.as_os_str() == "-" {
                            Source::Stdin
                        } else {
                            Source::Path(p)
                        }
                    })
                    .collect()
            },
            manifest: self.manifest,
            format: match self.format {
                FormatArg::Summary => Format::Summary,
                FormatArg::Json => Format::Json,
                FormatArg::Csv => Format::Csv,
                FormatArg::Tsv => Format::Tsv,
                FormatArg::Events => Format::Events,
                FormatArg::Commands => Format::Commands,
            },
            chunk_size: self.chunk_size as usize,
            mmap: !self.no_mmap,
            keep_going: self.keep_going,
            progress: stderr_is_terminal && !self.quiet,
            expected_dates: self.expected_dates,
            run_history: self.run_history,
            ..Config::default()
        };
        if let Some(n) = self.threads {
            config.threads = usize::from(n);
        }
        self.rules.apply(&mut config);
        config
    }
}

impl RulesArgs {
    pub fn into_config(self) -> Config {
        let mut config = Config::default();
        self.rules.apply(&mut config);
        config
    }
}
