//! The command line: clap arguments that only validate, and their conversion into the [`Config`]
//! the core reads.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use backfill_triage::config::{
    Config, Format, TemplateFormat, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_TEMPLATES, DEFAULT_PROCESSORS,
};
use backfill_triage::scan::Source;
use backfill_triage::term::{self, ColorWhen};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

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
    /// Bytes per parallel chunk (testing and tuning).
    #[arg(long, hide = true, value_name = "BYTES", default_value_t = DEFAULT_CHUNK_SIZE as u64, value_parser = clap::value_parser!(u64).range(1..=(1 << 30)))]
    pub chunk_size: u64,
    /// Also write the post-mortem as one self-contained HTML page (calendar heatmap, run
    /// timeline, retries, top templates), atomically.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub look: LookArgs,
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
    /// Skip unreadable inputs.
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
    /// A post-mortem in Markdown: runs, counts, the calendar, retries by action, top templates.
    Markdown,
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
                FormatArg::Markdown => Format::Markdown,
            },
            chunk_size: self.chunk_size as usize,
            mmap: !self.no_mmap,
            keep_going: self.keep_going,
            progress: stderr_is_terminal && !self.quiet,
            report: self.report,
            ..Config::default()
        };
        if let Some(n) = self.threads {
            config.threads = usize::from(n);
        }
        self.rules.apply(&mut config);
        self.look.apply(&mut config);
        config
    }
}

impl TemplatesArgs {
    pub fn into_config(self) -> Config {
        let mut config = Config {
            inputs: sources(self.logs),
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
        self.rules.apply(&mut config);
        self.look.apply(&mut config);
        config
    }
}

impl ExplainArgs {
    pub fn into_config(self) -> (String, Config) {
        let mut config = Config::default();
        self.rules.apply(&mut config);
        (self.name, config)
    }
}

/// LOG arguments as inputs: none or '-' is stdin.
fn sources(logs: Vec<PathBuf>) -> Vec<Source> {
    if logs.is_empty() {
        return vec![Source::Stdin];
    }
    logs.into_iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                Source::Stdin
            } else {
                Source::Path(p)
            }
        })
        .collect()
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
    pub fn into_config(self) -> Config {
        let mut config = Config::default();
        self.rules.apply(&mut config);
        config
    }
}
