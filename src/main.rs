//! The binary: parse arguments, run, map the outcome to an exit code (documented in `--help`).

mod cli;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use backfill_triage::config::Config;
use backfill_triage::{scan::INTERRUPTED, Error, Outcome};
use clap::{CommandFactory, Parser};

fn main() -> ExitCode {
    let args = cli::Args::parse();
    // SIGINT/SIGTERM: finish nothing half-way; the scan stops at its next window.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::Relaxed));
    let result = match args.command {
        // Waiting on a terminal for a log that is never coming helps nobody.
        cli::Command::Scan(scan) if scan.logs.is_empty() && io::stdin().is_terminal() => {
            eprintln!("backfill-triage: no input: give LOG files, or pipe a log into stdin ('-')");
            return ExitCode::from(2);
        }
        cli::Command::Scan(scan) => {
            let config = scan
                .into_config(io::stderr().is_terminal())
                .unwrap_or_else(|e| usage_error(e));
            let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout());
            backfill_triage::run_scan(&config, &mut stdout).map(|o| exit_status(&config, o))
        }
        cli::Command::Plan(plan)
            if plan.manifest.as_os_str() == "-" && io::stdin().is_terminal() =>
        {
            eprintln!("backfill-triage: no input: give a MANIFEST, or pipe one into stdin ('-')");
            return ExitCode::from(2);
        }
        cli::Command::Plan(plan) => {
            let config = plan.into_config();
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
            let config = diff.into_config().unwrap_or_else(|e| usage_error(e));
            let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout());
            backfill_triage::run_diff(&config, &mut stdout).map(|o| exit_status(&config, o))
        }
        cli::Command::Rules(rules) => list_rules(rules),
    };
    match result {
        Ok(code) => code,
        Err(Error::Interrupted) => {
            eprintln!("backfill-triage: interrupted; no manifest was written");
            ExitCode::from(130)
        }
        Err(e) => {
            // A file name may hold control characters: never replay them on the terminal.
            let message: String = e
                .to_string()
                .chars()
                .map(|c| if c.is_control() { '\u{fffd}' } else { c })
                .collect();
            eprintln!("backfill-triage: {message}");
            ExitCode::from(2)
        }
    }
}

/// `--exit-code`: 1 when something is left, else 0.
fn exit_status(config: &Config, outcome: Outcome) -> ExitCode {
    if config.exit_code && outcome.remains {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Options that parse but do not fit together: clap's usage error, exit 2.
fn usage_error(message: String) -> ! {
    cli::Args::command()
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}

fn list_rules(args: cli::RulesArgs) -> Result<ExitCode, Error> {
    let check = args.check;
    let classifier = backfill_triage::load_classifier(&args.into_config())?;
    let mut out = io::stdout().lock();
    let result = if check {
        let problems = backfill_triage::check_rules(&classifier);
        let examples: usize = classifier
            .rules()
            .iter()
            .map(|r| r.examples.len() + r.counter_examples.len())
            .sum();
        for p in &problems {
            let _ = writeln!(out, "FAIL {p}");
        }
        let _ = writeln!(
            out,
            "{} rules, {} examples: {} failed",
            classifier.rules().len(),
            examples,
            problems.len()
        );
        if problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    } else {
        for r in classifier.rules() {
            let crash = if r.crash { " crash" } else { "" };
            let _ = writeln!(
                out,
                "{:<40} {:<22} {:>3}{}  {}",
                r.id, r.category, r.priority, crash, r.origin
            );
        }
        ExitCode::SUCCESS
    };
    Ok(result)
}
