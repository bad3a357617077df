//! The command line: clap arguments that only validate, and their conversion into the [`Config`]
//! the core reads.

use std::path::{Path, PathBuf};

use backfill_triage::config::{Config, Format, DEFAULT_CHUNK_SIZE, DEFAULT_PROCESSORS};
use backfill_triage::scan::Source;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0    scanned every input (whatever it found); rules --check: every example passed
  1    rules --check: an example or counter-example failed
  2    bad usage; an input that is unreadable, damaged, not text or a manifest; a bad
       rule file; an unwritable manifest (no manifest was written)
  3    --keep-going: some inputs were skipped or damaged (each named on stderr); the
       manifest was written without them
  130  interrupted by SIGINT (Ctrl-C); no manifest was written
  143  terminated by SIGTERM; no manifest was written";

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
    /// Logs, plain or compressed (gzip, xz, zstd, bzip2: detected by content); '-' or none: stdin.
    /// Read oldest first by their first timestamps (see --keep-order).
    #[arg(value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// Write the JSON retry manifest to PATH, atomically; '-' (or /dev/stdout): print it on stdout
    /// instead of the summary.
    #[arg(short, long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// What goes to stdout [default: summary].
    #[arg(short, long, value_enum)]
    pub format: Option<FormatArg>,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Worker threads [default: all cores].
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Read files instead of memory-mapping them (for files that may be truncated while read).
    #[arg(long)]
    pub no_mmap: bool,
    /// Skip unreadable inputs and read damaged ones up to the damage, recording each and its
    /// error in the manifest's `inputs` and on stderr; exit code 3.
    #[arg(long)]
    pub keep_going: bool,
    /// Read the LOGs in the order given, even when their first timestamps say another order.
    #[arg(long)]
    pub keep_order: bool,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
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
    fn apply(self, config: &mut Config) -> Result<(), clap::Error> {
        config.rules = self.rules;
        if self.processors.is_empty() {
            config.processors = DEFAULT_PROCESSORS.iter().map(|s| s.to_string()).collect();
            return Ok(());
        }
        let mut names: Vec<String> = Vec::with_capacity(self.processors.len());
        for name in self.processors {
            let name = name.trim().to_string();
            // Two names for one processor would split its attempts between two indexes.
            if names.contains(&name) {
                return Err(usage(format!(
                    "--processors: '{}' is listed twice",
                    name.escape_debug()
                )));
            }
            names.push(name);
        }
        config.processors = names;
        Ok(())
    }
}

fn usage(message: String) -> clap::Error {
    Args::command().error(clap::error::ErrorKind::ValueValidation, message)
}

/// Whether `path` is the file or pipe standard output already writes to (`/dev/stdout`,
/// `/dev/fd/1`, or the file stdout is redirected to): replacing a file by a rename would leave
/// stdout writing to a deleted file, opening it again would write over its start, and a pipe would
/// get the summary after the manifest. (A terminal or `/dev/null` is just written to.)
fn is_stdout(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() else {
            return false;
        };
        match (std::fs::File::from(fd).metadata(), std::fs::metadata(path)) {
            (Ok(out), Ok(target)) => {
                let kind = out.file_type();
                (kind.is_file() || kind.is_fifo() || kind.is_socket())
                    && out.dev() == target.dev()
                    && out.ino() == target.ino()
            }
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        path.as_os_str() == "/dev/stdout"
    }
}

impl ScanArgs {
    pub fn into_config(self, stderr_is_terminal: bool) -> Result<Config, clap::Error> {
        // The manifest on stdout is the JSON format: nothing else may go there.
        let manifest_to_stdout = self
            .manifest
            .as_deref()
            .is_some_and(|m| m.as_os_str() == "-" || is_stdout(m));
        let format = match (self.format, manifest_to_stdout) {
            (None | Some(FormatArg::Json), true) => FormatArg::Json,
            (Some(_), true) => {
                return Err(usage(
                    "--manifest to stdout prints the manifest there: it cannot go with a \
                     --format other than json"
                        .to_string(),
                ))
            }
            (format, false) => format.unwrap_or(FormatArg::Summary),
        };
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
            manifest: self.manifest.filter(|_| !manifest_to_stdout),
            format: match format {
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
            keep_order: self.keep_order,
            progress: stderr_is_terminal && !self.quiet,
            ..Config::default()
        };
        if let Some(n) = self.threads {
            config.threads = usize::from(n);
        }
        self.rules.apply(&mut config)?;
        Ok(config)
    }
}

impl RulesArgs {
    pub fn into_config(self) -> Result<Config, clap::Error> {
        let mut config = Config::default();
        self.rules.apply(&mut config)?;
        Ok(config)
    }
}
