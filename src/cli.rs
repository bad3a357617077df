//! The command line: clap arguments that only validate, and their conversion into the [`Config`]
//! the core reads.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use backfill_triage::category::{Action, Category};
use backfill_triage::config::{
    Config, ExpectedDates, Format, TemplateFormat, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_TEMPLATES,
    DEFAULT_PROCESSORS,
};
use backfill_triage::manifest::Reason;
use backfill_triage::plan::{DateBounds, Filters, PlanOptions, Template, DEFAULT_MAX_RANGE};
use backfill_triage::processors::RETRY_COMMAND;
use backfill_triage::scan::Source;
use backfill_triage::term::{self, ColorWhen};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

macro_rules! exit_codes {
    () => {
        "\
Exit codes:
  0    done (scan: every input read, whatever it found); with --exit-code: nothing left;
       rules --check: every example passed
  1    --exit-code: scan, plan: retry rows remain after the filters, or a crashed run never
       reached dates it does not name (its not_started count, with no rows); diff: pairs are
       still failing or new. rules --check: an example or counter-example failed
  2    bad usage; an input that is unreadable, damaged, not text or a manifest; a bad rule
       file; an unwritable manifest; a file that is not a manifest of this schema_version
       (plan, diff). No manifest was written
  3    --keep-going: some inputs were skipped or damaged (each named on stderr); the
       manifest was written without them (3 wins over --exit-code's 1)
  130  interrupted by SIGINT (Ctrl-C); no manifest was written
  143  terminated by SIGTERM; no manifest was written"
    };
}

const EXIT_CODES: &str = exit_codes!();
/// The plan, its TSV/CSV columns and the loop that reads them: shared by `scan` and `plan`.
macro_rules! plan_help {
    () => {
        "\
The plan (-f commands, csv, tsv, summary; each JSON row's `command`):
  - rows of one processor, phase, category and action merge into one command over A..B when no
    date between them succeeded or has a row of its own, up to --max-range days;
    resource_exhaustion rows never merge and each waits the category's backoff first (30 s;
    BACKFILL_TRIAGE_BACKOFF=SECONDS in the script's environment overrides it)
  - commands run in waves, gap dates before the dates they block, and within a wave in
    --processors order (upstream first), then by date
  - mode `run`: the script runs it; `manual`: its action needs a person first (upstream backfill,
    code fix, investigate), written commented out; `held`: a blocked date whose gap dates are not
    all run by this plan, written commented out with the reason
  - the script: set -u -o pipefail, every command's status tallied, a last line on stderr
    \"N of M commands failed\", exit status 1 when any failed

TSV/CSV columns (one row per retry row, in run order; only the last field can be empty, '-'
stands for an empty value):
  step mode date processor phase category action reason failures silent blocked_by start end
  file line rule command error

  backfill-triage plan retry.json -f tsv | tail -n +2 |
    while IFS=$'\\t' read -r step mode date processor phase category action reason failures \\
        silent blocked_by start end file line rule command error; do
      [ \"$mode\" = run ] && [ \"$step\" != \"${last:-}\" ] || continue; last=$step
      echo \"step $step: $processor $start..$end ($category, $file:$line)\"
    done
"
    };
}

const SCAN_HELP: &str = concat!(plan_help!(), "\n", exit_codes!());
const PLAN_HELP: &str = concat!(plan_help!(), "\n", exit_codes!());
const DIFF_HELP: &str = concat!(
    "\
Pairs are (date, processor): `fixed` (a row in OLD, none in NEW), `still_failing` (a row in both;
a changed category or action is shown), `new` (a row only in NEW). The summary shows the counts
per status and per category, then the pairs.

TSV columns (category ... error are the row in NEW, or in OLD for `fixed`; old_category and
old_action are OLD's, '-' for `new`; only the last field can be empty):
  status date processor category old_category action old_action reason failures file line error
",
    "\n",
    exit_codes!()
);

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
    /// Plan retries from a saved manifest (no rescan): filters, escalation, range commands.
    Plan(PlanArgs),
    /// Compare two manifests of a retry loop: pairs fixed, still failing, new.
    Diff(DiffArgs),
    /// List the rules in force; with --check, test every rule's examples.
    Rules(RulesArgs),
    /// Cluster the failure lines no rule names into templates, most frequent first; -f toml
    /// prints a rule stub per template.
    Templates(TemplatesArgs),
    /// Print the recovery procedure of a category or action, or what a rule matches.
    Explain(ExplainArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print the man page; with --dir, write one page per command there.
    Man(ManArgs),
}

#[derive(clap::Args, Debug)]
#[command(after_help = SCAN_HELP)]
pub struct ScanArgs {
    /// Logs, plain or compressed (gzip, xz, zstd, bzip2: detected by content); '-' or none: stdin.
    /// Read oldest first by their first timestamps (see --keep-order).
    #[arg(value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// Write the JSON retry manifest to PATH, atomically (a new file gets mode 0666 less the
    /// umask; a rewritten one keeps its mode). '-' (or /dev/stdout): print it on stdout instead of
    /// the format.
    #[arg(short, long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// What goes to stdout [default: summary].
    #[arg(short, long, value_enum)]
    pub format: Option<FormatArg>,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Exit 1 when retry rows remain after the filters, or when a crashed run never reached
    /// dates it does not name (a not_started count with no rows); 0 when nothing is left.
    #[arg(long)]
    pub exit_code: bool,
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
    /// Also write the post-mortem as one self-contained HTML page (calendar heatmap, run
    /// timeline, retries, top templates), atomically.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub look: LookArgs,
    #[command(flatten)]
    pub filters: FilterArgs,
    #[command(flatten)]
    pub plan: PlanOptionArgs,
}

/// How the summary looks on a terminal.
#[derive(clap::Args, Debug)]
pub struct LookArgs {
    /// Colour: auto (when stdout is a terminal; NO_COLOR turns it off, CLICOLOR_FORCE on), always,
    /// never. Lines are cut to the width of COLUMNS, else the terminal's, else 120.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

impl LookArgs {
    fn apply(self, config: &mut Config) {
        config.color = term::stdout_color(match self.color {
            ColorArg::Auto => ColorWhen::Auto,
            ColorArg::Always => ColorWhen::Always,
            ColorArg::Never => ColorWhen::Never,
        });
        config.width = term::stdout_width();
    }
}

#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct TemplatesArgs {
    /// Logs, oldest first; '-' or none: stdin.
    #[arg(value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// Cluster every failure line, not only those no rule names.
    #[arg(long)]
    pub all: bool,
    /// What goes to stdout.
    #[arg(short, long, value_enum, default_value_t = TemplateFormatArg::Text)]
    pub format: TemplateFormatArg,
    /// Templates kept (about 2 KiB of memory each); lines that fit none past it are counted.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_TEMPLATES as u64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_templates: u64,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Worker threads [default: all cores].
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Read files instead of memory-mapping them.
    #[arg(long)]
    pub no_mmap: bool,
    /// Skip unreadable inputs and read damaged ones up to the damage, naming each on stderr;
    /// exit code 3.
    #[arg(long)]
    pub keep_going: bool,
    #[command(flatten)]
    pub look: LookArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum TemplateFormatArg {
    /// Templates with counts and where they were seen.
    Text,
    /// The same as one JSON document.
    Json,
    /// A rule stub per template: set its category, then rules --check --rules FILE.
    Toml,
}

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// A category (data_availability), an action (fill_gaps_then_rerun) or a rule id.
    #[arg(value_name = "CATEGORY|ACTION|RULE-ID")]
    pub name: String,
    #[command(flatten)]
    pub rules: RuleArgs,
}

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// Write backfill-triage.1 and a page per command (backfill-triage-scan.1, ...) into DIR
    /// instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
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

/// FILTERS: which retry rows every output keeps, the manifest included. A LIST is
/// comma-separated, and the option may be repeated.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Filters (every format, the manifest included)")]
pub struct FilterArgs {
    /// Keep rows of these categories: script_infrastructure, data_availability,
    /// processing_error, resource_exhaustion, defensive_check, uncategorized.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub category: Vec<Category>,
    /// Keep rows with these actions (after --max-failures): rerun, backfill_upstream_then_rerun,
    /// fix_code_then_rerun, rerun_with_backoff, fill_gaps_then_rerun, investigate.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub action: Vec<Action>,
    /// Keep rows with these reasons: failed, interrupted, not_started, gap, missing.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub reason: Vec<Reason>,
    /// Keep rows of these processors.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub processor: Vec<String>,
    /// Keep rows dated A to B, inclusive (A.. and ..B are open; one date is one day).
    #[arg(long, value_name = "A..B", value_parser = DateBounds::parse)]
    pub dates: Option<DateBounds>,
}

/// PLAN OPTIONS: how the kept rows become commands.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Plan options")]
pub struct PlanOptionArgs {
    /// The retry command; placeholders {phase} {processor} {start} {end} {category} {action}
    /// (the shell's ${...} is left alone).
    #[arg(long, value_name = "TEMPLATE", value_parser = Template::parse, default_value = RETRY_COMMAND)]
    pub command: Template,
    /// The longest date range one command may cover. Dates of one processor and action merge
    /// into one command when no date between them succeeded or has a row of its own (dates the
    /// logs never mention are days without games); resource_exhaustion rows never merge.
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_MAX_RANGE, value_parser = clap::value_parser!(u32).range(1..=36_600))]
    pub max_range: u32,
    /// A pair that has failed N or more times is escalated: action `investigate`, not retried.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_failures: Option<u32>,
}

#[derive(clap::Args, Debug)]
#[command(after_help = PLAN_HELP)]
pub struct PlanArgs {
    /// A manifest written by `scan` ('-': stdin).
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    /// What goes to stdout.
    #[arg(short, long, value_enum, default_value_t = PlanFormatArg::Summary)]
    pub format: PlanFormatArg,
    /// Processor names in run order, upstream first: the order of the commands
    /// [default: the playbook's five; others follow by name].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub processors: Vec<String>,
    /// Exit 1 when retry rows remain after the filters (or a crashed run never reached dates it
    /// does not name); 0 when nothing is left.
    #[arg(long)]
    pub exit_code: bool,
    #[command(flatten)]
    pub filters: FilterArgs,
    #[command(flatten)]
    pub plan: PlanOptionArgs,
}

#[derive(clap::Args, Debug)]
#[command(after_help = DIFF_HELP)]
pub struct DiffArgs {
    /// The manifest before a retry round ('-': stdin).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The manifest after it ('-': stdin).
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// What goes to stdout.
    #[arg(short, long, value_enum, default_value_t = DiffFormatArg::Summary)]
    pub format: DiffFormatArg,
    /// Exit 1 when a pair is still failing or new; 0 when every pair of OLD is fixed.
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum PlanFormatArg {
    /// For people: the commands in run order, what needs a person, what is held.
    Summary,
    /// The manifest, filtered, escalated, each row with its command.
    Json,
    /// Planned rows, comma-separated, with a header.
    Csv,
    /// Planned rows, tab-separated, with a header; no empty field but the last.
    Tsv,
    /// A bash script that runs the plan unattended.
    Commands,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum DiffFormatArg {
    /// For people: counts per status and category, then the pairs.
    Summary,
    /// One pair per line, tab-separated, with a header.
    Tsv,
    /// Counts and pairs with their rows in OLD and NEW.
    Json,
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
    /// Planned retry rows, comma-separated, with a header.
    Csv,
    /// Planned retry rows, tab-separated, with a header; no empty field but the last.
    Tsv,
    /// NDJSON, one object per line that matched a rule or is a failure (filtered by category,
    /// action, processor and dates; --reason does not apply).
    Events,
    /// A bash script that runs the plan unattended.
    Commands,
    /// A post-mortem in Markdown: runs, counts, the calendar, retries by action, top templates.
    Markdown,
}

impl FilterArgs {
    fn filters(self) -> Filters {
        Filters {
            categories: self.category,
            actions: self.action,
            reasons: self.reason,
            processors: self
                .processor
                .into_iter()
                .map(|p| p.trim().to_string())
                .collect(),
            dates: self.dates,
        }
    }
}

impl PlanOptionArgs {
    fn options(self) -> PlanOptions {
        PlanOptions {
            command: self.command,
            max_range: self.max_range,
            max_failures: self.max_failures,
        }
    }
}

fn source(path: PathBuf) -> Source {
    if path.as_os_str() == "-" {
        Source::Stdin
    } else {
        Source::Path(path)
    }
}

impl RuleArgs {
    fn apply(self, config: &mut Config) -> Result<(), clap::Error> {
        config.rules = self.rules;
        config.processors = processors(self.processors)?;
        Ok(())
    }
}

/// The processor list, in run order: the playbook's five by default. A name listed twice would
/// split its attempts between two indexes.
fn processors(list: Vec<String>) -> Result<Vec<String>, clap::Error> {
    if list.is_empty() {
        return Ok(DEFAULT_PROCESSORS.iter().map(|s| s.to_string()).collect());
    }
    let mut names: Vec<String> = Vec::with_capacity(list.len());
    for name in list {
        let name = name.trim().to_string();
        if names.contains(&name) {
            return Err(usage(format!(
                "--processors: '{}' is listed twice",
                name.escape_debug()
            )));
        }
        names.push(name);
    }
    Ok(names)
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
        if matches!(format, FormatArg::Events) && !self.filters.reason.is_empty() {
            return Err(usage(
                "--reason selects retry rows; the lines -f events prints have none".to_string(),
            ));
        }
        let filters = self.filters.filters();
        let plan = self.plan.options();
        let exit_code = self.exit_code;
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
                FormatArg::Markdown => Format::Markdown,
            },
            chunk_size: self.chunk_size as usize,
            mmap: !self.no_mmap,
            keep_going: self.keep_going,
            keep_order: self.keep_order,
            progress: stderr_is_terminal && !self.quiet,
            report: self.report,
            expected_dates: self.expected_dates,
            run_history: self.run_history,
            filters,
            plan,
            exit_code,
            ..Config::default()
        };
        if let Some(n) = self.threads {
            config.threads = usize::from(n);
        }
        self.rules.apply(&mut config)?;
        self.look.apply(&mut config);
        Ok(config)
    }
}

impl PlanArgs {
    pub fn into_config(self) -> Result<Config, clap::Error> {
        Ok(Config {
            inputs: vec![source(self.manifest)],
            format: match self.format {
                PlanFormatArg::Summary => Format::Summary,
                PlanFormatArg::Json => Format::Json,
                PlanFormatArg::Csv => Format::Csv,
                PlanFormatArg::Tsv => Format::Tsv,
                PlanFormatArg::Commands => Format::Commands,
            },
            processors: processors(self.processors)?,
            filters: self.filters.filters(),
            plan: self.plan.options(),
            exit_code: self.exit_code,
            ..Config::default()
        })
    }
}

impl DiffArgs {
    pub fn into_config(self) -> Result<Config, clap::Error> {
        if self.old.as_os_str() == "-" && self.new.as_os_str() == "-" {
            return Err(usage("OLD and NEW cannot both be stdin ('-')".to_string()));
        }
        Ok(Config {
            inputs: vec![source(self.old), source(self.new)],
            format: match self.format {
                DiffFormatArg::Summary => Format::Summary,
                DiffFormatArg::Tsv => Format::Tsv,
                DiffFormatArg::Json => Format::Json,
            },
            exit_code: self.exit_code,
            ..Config::default()
        })
    }
}

impl TemplatesArgs {
    pub fn into_config(self) -> Result<Config, clap::Error> {
        let mut config = Config {
            inputs: if self.logs.is_empty() {
                vec![Source::Stdin]
            } else {
                self.logs.into_iter().map(source).collect()
            },
            mmap: !self.no_mmap,
            keep_going: self.keep_going,
            ..Config::default()
        };
        config.templates.all = self.all;
        config.templates.max_templates = self.max_templates as usize;
        config.templates.format = match self.format {
            TemplateFormatArg::Text => TemplateFormat::Text,
            TemplateFormatArg::Json => TemplateFormat::Json,
            TemplateFormatArg::Toml => TemplateFormat::Toml,
        };
        if let Some(n) = self.threads {
            config.threads = usize::from(n);
        }
        self.rules.apply(&mut config)?;
        self.look.apply(&mut config);
        Ok(config)
    }
}

impl ExplainArgs {
    pub fn into_config(self) -> Result<(String, Config), clap::Error> {
        let mut config = Config::default();
        self.rules.apply(&mut config)?;
        Ok((self.name, config))
    }
}

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Args::command(), "backfill-triage", out);
}

/// Prints the main man page, or writes a page per command into `dir`.
pub fn man(dir: Option<&Path>, out: &mut dyn Write) -> io::Result<()> {
    let cmd = Args::command();
    match dir {
        None => clap_mangen::Man::new(cmd).render(out),
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            clap_mangen::generate_to(cmd, dir)
        }
    }
}

impl RulesArgs {
    pub fn into_config(self) -> Result<Config, clap::Error> {
        let mut config = Config::default();
        self.rules.apply(&mut config)?;
        Ok(config)
    }
}
