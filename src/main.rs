//! The binary: parse arguments, watch for signals, run, map the outcome to an exit code. The codes
//! (also in `--help` from `cli::EXIT_CODES`, and in the README):
//!
//! | code | |
//! |---|---|
//! | 0 | every input scanned (with `--exit-code`: and nothing left); `rules --check` passed |
//! | 1 | `--exit-code`: retry rows remain (`scan`, `plan`), pairs still failing or new (`diff`); `rules --check` failed |
//! | 2 | bad usage, or an error: nothing written |
//! | 3 | `--keep-going` skipped or cut short some inputs; the manifest was written |
//! | 128 + signal | SIGINT (130) or SIGTERM (143); nothing written |

mod cli;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};

use backfill_triage::config::Config;
use backfill_triage::{scan::INTERRUPTED, terminal_safe, Error, Outcome};
use clap::Parser;

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read from this symbol at its start (a C string; `_RJEM_MALLOC_CONF` in the
/// environment overrides it). Unused pages go back to the system after a second rather than ten,
/// and for good (pages only marked free would still count as resident): a scan's memory follows
/// the chunks its threads hold. Purging at once (0) cost a fifth of a failure-dense scan in page
/// faults (BENCHMARKS.md, "Tuning choices").
#[cfg(not(target_env = "msvc"))]
#[export_name = "_rjem_malloc_conf"]
static MALLOC_CONF: &u8 = &b"dirty_decay_ms:1000,muzzy_decay_ms:0\0"[0];

/// `--keep-going` skipped or cut short some inputs: the manifest is written but incomplete.
const EXIT_INCOMPLETE: u8 = 3;

/// The signal that asked the scan to stop (SIGINT or SIGTERM), 0 for none.
static SIGNAL: AtomicI32 = AtomicI32::new(0);

const INTERRUPTED_MESSAGE: &str = "backfill-triage: interrupted; no manifest was written\n";

fn main() -> ExitCode {
    let args = cli::Args::parse();
    watch_signals();
    let result = match args.command {
        // Waiting on a terminal for a log that is never coming helps nobody.
        cli::Command::Scan(scan) if scan.logs.is_empty() && io::stdin().is_terminal() => {
            eprintln!("backfill-triage: no input: give LOG files, or pipe a log into stdin ('-')");
            return ExitCode::from(2);
        }
        cli::Command::Scan(scan) => {
            let config = scan
                .into_config(io::stderr().is_terminal())
                .unwrap_or_else(|e| e.exit());
            let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout());
            backfill_triage::run_scan(&config, &mut stdout, &mut io::stderr())
                .map(|o| exit_status(&config, o))
        }
        cli::Command::Plan(plan)
            if plan.manifest.as_os_str() == "-" && io::stdin().is_terminal() =>
        {
            eprintln!("backfill-triage: no input: give a MANIFEST, or pipe one into stdin ('-')");
            return ExitCode::from(2);
        }
        cli::Command::Plan(plan) => {
            let config = plan.into_config().unwrap_or_else(|e| e.exit());
            let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout());
            backfill_triage::run_plan(&config, &mut stdout).map(|o| exit_status(&config, o))
        }
        cli::Command::Diff(diff)
            if (diff.old.as_os_str() == "-" || diff.new.as_os_str() == "-")
                && io::stdin().is_terminal() =>
        {
            eprintln!("backfill-triage: no input: pipe the manifest given as '-' into stdin");
            return ExitCode::from(2);
        }
        cli::Command::Diff(diff) => {
            let config = diff.into_config().unwrap_or_else(|e| e.exit());
            let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout());
            backfill_triage::run_diff(&config, &mut stdout).map(|o| exit_status(&config, o))
        }
        cli::Command::Rules(rules) => list_rules(rules),
        cli::Command::Templates(t) if t.logs.is_empty() && io::stdin().is_terminal() => {
            eprintln!("backfill-triage: no input: give LOG files, or pipe a log into stdin ('-')");
            return ExitCode::from(2);
        }
        cli::Command::Templates(t) => {
            let config = t.into_config().unwrap_or_else(|e| e.exit());
            let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout());
            backfill_triage::templates::command::run(&config, &mut stdout, &mut io::stderr()).map(
                |failed_inputs| {
                    if failed_inputs > 0 {
                        ExitCode::from(EXIT_INCOMPLETE)
                    } else {
                        ExitCode::SUCCESS
                    }
                },
            )
        }
        cli::Command::Explain(e) => explain(e),
        cli::Command::Completions(c) => {
            cli::completions(c.shell, &mut io::stdout().lock());
            Ok(ExitCode::SUCCESS)
        }
        cli::Command::Man(m) => cli::man(m.dir.as_deref(), &mut io::stdout().lock())
            .map(|()| ExitCode::SUCCESS)
            .map_err(|e| Error::io(m.dir.unwrap_or_else(|| "<stdout>".into()), e)),
    };
    match result {
        Ok(code) => code,
        Err(Error::Interrupted) => {
            eprint!("{INTERRUPTED_MESSAGE}");
            ExitCode::from(match SIGNAL.load(Ordering::SeqCst) {
                signal @ 1..=127 => 128 + signal as u8,
                _ => 130,
            })
        }
        Err(e) => {
            eprintln!("backfill-triage: {}", terminal_safe(&e.to_string()));
            ExitCode::from(2)
        }
    }
}

fn explain(args: cli::ExplainArgs) -> Result<ExitCode, Error> {
    let (name, config) = args.into_config().unwrap_or_else(|e| e.exit());
    let classifier = backfill_triage::load_classifier(&config)?;
    let topic = backfill_triage::explain::lookup(&name, &classifier)?;
    let _ = backfill_triage::explain::write(&mut io::stdout().lock(), &topic);
    Ok(ExitCode::SUCCESS)
}

/// An incomplete read outranks what is left to retry: 3 when `--keep-going` skipped or cut short
/// an input, else 1 when `--exit-code` finds something left, else 0.
fn exit_status(config: &Config, outcome: Outcome) -> ExitCode {
    if outcome.failed_inputs > 0 {
        ExitCode::from(EXIT_INCOMPLETE)
    } else if config.exit_code && outcome.remains {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// SIGINT and SIGTERM stop the scan at its next chunk, with nothing written. A scan blocked on a
/// pipe that sends nothing (`tail -f log | backfill-triage scan -`) never reaches its next chunk:
/// a second signal ends the process at once.
#[cfg(unix)]
fn watch_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        for signal in signals.forever() {
            if SIGNAL.swap(signal, Ordering::SeqCst) != 0 {
                // SAFETY: write and _exit only touch the process's own fd 2 and end it; nothing
                // is left half-written (the manifest is renamed into place or not at all).
                unsafe {
                    libc::write(
                        2,
                        INTERRUPTED_MESSAGE.as_ptr().cast(),
                        INTERRUPTED_MESSAGE.len(),
                    );
                    libc::_exit(128 + signal);
                }
            }
            INTERRUPTED.store(true, Ordering::SeqCst);
        }
    });
}

/// Elsewhere the platform's default applies: the process ends, and the manifest, renamed into
/// place only when complete, is not written.
#[cfg(not(unix))]
fn watch_signals() {}

fn list_rules(args: cli::RulesArgs) -> Result<ExitCode, Error> {
    let check = args.check;
    let config = args.into_config().unwrap_or_else(|e| e.exit());
    let classifier = backfill_triage::load_classifier(&config)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    let (code, written) = if check {
        let problems = backfill_triage::check_rules(&classifier);
        let examples: usize = classifier
            .rules()
            .iter()
            .map(|r| r.examples.len() + r.counter_examples.len())
            .sum();
        let written = problems
            .iter()
            .try_for_each(|p| writeln!(out, "FAIL {p}"))
            .and_then(|()| {
                writeln!(
                    out,
                    "{} rules, {} examples: {} failed",
                    classifier.rules().len(),
                    examples,
                    problems.len()
                )
            });
        let code = if problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
        (code, written)
    } else {
        let written = classifier.rules().iter().try_for_each(|r| {
            let crash = if r.crash { " crash" } else { "" };
            writeln!(
                out,
                "{:<40} {:<22} {:>3}{}  {}",
                r.id, r.category, r.priority, crash, r.origin
            )
        });
        (ExitCode::SUCCESS, written)
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => Ok(code),
        // The reader went away (`| head`): nothing left to say.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(code),
        Err(e) => Err(Error::io("<stdout>", e)),
    }
}
