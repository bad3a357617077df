//! The binary: parse arguments, run, map the outcome to an exit code (documented in `--help`).

mod cli;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use backfill_triage::{scan::INTERRUPTED, Error};
use clap::Parser;

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
            let config = scan.into_config(io::stderr().is_terminal());
            let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout());
            backfill_triage::run_scan(&config, &mut stdout).map(|()| ExitCode::SUCCESS)
        }
        cli::Command::Rules(rules) => list_rules(rules),
        cli::Command::Templates(t) if t.logs.is_empty() && io::stdin().is_terminal() => {
            eprintln!("backfill-triage: no input: give LOG files, or pipe a log into stdin ('-')");
            return ExitCode::from(2);
        }
        cli::Command::Templates(t) => {
            let config = t.into_config();
            let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout());
            backfill_triage::templates::command::run(&config, &mut stdout)
                .map(|()| ExitCode::SUCCESS)
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

fn explain(args: cli::ExplainArgs) -> Result<ExitCode, Error> {
    let (name, config) = args.into_config();
    let classifier = backfill_triage::load_classifier(&config)?;
    let topic = backfill_triage::explain::lookup(&name, &classifier)?;
    let _ = backfill_triage::explain::write(&mut io::stdout().lock(), &topic);
    Ok(ExitCode::SUCCESS)
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
