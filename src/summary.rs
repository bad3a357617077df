//! The summary for people: what each run did and where a crashed one stopped, what to retry grouped
//! by the playbook's recovery action, and the failures that recur most.

use std::io::{self, Write};

use crate::manifest::InputStats;
use crate::manifest::Reason;
use crate::rules::Category;
use crate::triage::Report;

/// Rows listed per action before the rest are summed up; the manifest has them all.
const ROWS_PER_ACTION: usize = 20;

pub fn write_summary(
    out: &mut dyn Write,
    inputs: &[InputStats],
    report: &Report,
) -> io::Result<()> {
    let s = &report.summary;
    let bytes: u64 = inputs.iter().map(|i| i.bytes).sum();
    let lines: u64 = inputs.iter().map(|i| i.lines).sum();
    writeln!(
        out,
        "backfill-triage: {} input{}, {} lines ({}), {} run{}",
        inputs.len(),
        plural(inputs.len() as u64),
        lines,
        human_bytes(bytes),
        report.runs.len(),
        plural(report.runs.len() as u64)
    )?;
    for input in inputs.iter().filter(|i| i.error.is_some()) {
        writeln!(
            out,
            "  skipped {}: {}",
            safe(&input.path),
            input.error.as_deref().unwrap_or_default()
        )?;
    }
    writeln!(
        out,
        "attempts: {} ({} succeeded, {} failed, {} interrupted); {} failure lines",
        s.attempts, s.succeeded, s.failed, s.interrupted, s.failure_lines
    )?;

    if !report.runs.is_empty() {
        writeln!(out, "\nRuns")?;
    }
    for (i, run) in report.runs.iter().enumerate() {
        let state = if run.completed {
            "completed".to_string()
        } else if let Some(crash) = &run.crash {
            format!(
                "CRASHED at {}:{}: {}",
                safe(&crash.file),
                crash.line,
                crash.text
            )
        } else {
            "crashed".to_string()
        };
        writeln!(
            out,
            "  #{} {}:{}  {}",
            i + 1,
            safe(&run.file),
            run.first_line,
            state
        )?;
        if let Some(p) = &run.last_progress {
            let date = p.date.map(|d| format!(" ({d})")).unwrap_or_default();
            write!(
                out,
                "     last progress: date {}/{}{} at line {}",
                p.index, p.total, date, p.line
            )?;
            if run.crashed {
                write!(
                    out,
                    "; resume: re-run the script, it restarts at date {}/{}",
                    p.index, p.total
                )?;
            }
            writeln!(out)?;
        }
        if run.not_started > 0 {
            writeln!(
                out,
                "     {} DATE{} NEVER STARTED: the run crashed before reaching {}",
                run.not_started,
                if run.not_started == 1 { "" } else { "S" },
                if run.planned.is_some() {
                    "them (retry rows with reason not_started)"
                } else {
                    "them, and the log does not name them: re-run the script"
                }
            )?;
        }
    }

    write_completeness(out, report)?;

    writeln!(
        out,
        "\nRetries: {} (date, processor) pair{}",
        s.retries,
        plural(s.retries)
    )?;
    let unnamed: u64 = report
        .runs
        .iter()
        .filter(|r| r.planned.is_none())
        .map(|r| u64::from(r.not_started))
        .sum();
    if unnamed > 0 {
        writeln!(
            out,
            "  and {unnamed} date{} never started that no row can name: re-run the backfill script",
            plural(unnamed)
        )?;
    }
    for category in Category::ALL {
        let rows: Vec<_> = report
            .retries
            .iter()
            .filter(|r| r.category == category)
            .collect();
        if rows.is_empty() {
            continue;
        }
        writeln!(
            out,
            "  {} ({}, {}): {}",
            category.action(),
            category,
            rows.len(),
            category.info().advice
        )?;
        for r in rows.iter().take(ROWS_PER_ACTION) {
            let extra = match r.reason {
                Reason::Gap => " (gap)".to_string(),
                Reason::Interrupted => " (interrupted)".to_string(),
                Reason::NotStarted => " (not started)".to_string(),
                Reason::Missing => " (missing)".to_string(),
                Reason::Failed if !r.blocked_by.is_empty() => {
                    let gaps: Vec<String> = r.blocked_by.iter().map(|d| d.to_string()).collect();
                    format!(" (blocked by {})", gaps.join(", "))
                }
                Reason::Failed if r.silent => " (silent: a success line hid it)".to_string(),
                Reason::Failed if r.failures > 1 => format!(" (failed {} times)", r.failures),
                Reason::Failed => String::new(),
            };
            writeln!(
                out,
                "    {} {:<30}{}  {}:{}  {}",
                r.date,
                r.processor,
                extra,
                safe(&r.file),
                r.line,
                r.error
            )?;
        }
        if rows.len() > ROWS_PER_ACTION {
            writeln!(
                out,
                "    ... and {} more (see the manifest)",
                rows.len() - ROWS_PER_ACTION
            )?;
        }
    }

    if !s.by_processor.is_empty() {
        let parts: Vec<String> = s
            .by_processor
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect();
        writeln!(out, "\nBy processor: {}", parts.join(", "))?;
    }
    if !report.top_errors.is_empty() {
        writeln!(out, "\nTop errors")?;
        for (text, n) in &report.top_errors {
            writeln!(out, "  {n:>7}x  {text}")?;
        }
    }
    if s.unattributed > 0 {
        writeln!(
            out,
            "\nUnattributed failures (no date or processor): {}",
            s.unattributed
        )?;
        for u in report.unattributed.iter().take(ROWS_PER_ACTION) {
            let repeats = if u.repeats > 0 {
                format!(" (+{} more)", u.repeats)
            } else {
                String::new()
            };
            writeln!(
                out,
                "  {}:{}  [{}]  {}{}",
                safe(&u.file),
                u.line,
                u.category,
                u.error,
                repeats
            )?;
        }
    }
    Ok(())
}

/// Date runs shown in the "not expected" line before the rest are summed up.
const UNEXPECTED_SHOWN: usize = 10;

/// `--expected-dates` and `--run-history`: per processor, expected = succeeded + failed +
/// missing; the dates the logs mention that were not expected; what the history changed.
fn write_completeness(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let Some(c) = &report.completeness else {
        return Ok(());
    };
    if let Some(e) = &c.expected {
        let span = match (e.first, e.last) {
            (Some(a), Some(b)) if a != b => format!(", {a}..{b}"),
            (Some(a), _) => format!(", {a}"),
            _ => String::new(),
        };
        writeln!(
            out,
            "\nCompleteness: {} expected date{} ({}{span}); {} missing pair{}",
            e.dates,
            plural(e.dates),
            safe(&e.source),
            c.missing,
            plural(c.missing)
        )?;
        writeln!(
            out,
            "  {:<30} {:>8} {:>9} {:>6} {:>7}",
            "processor", "expected", "succeeded", "failed", "missing"
        )?;
        for p in &c.processors {
            writeln!(
                out,
                "  {:<30} {:>8} {:>9} {:>6} {:>7}",
                p.processor, p.expected, p.succeeded, p.failed, p.missing
            )?;
        }
        if c.unexpected_dates > 0 {
            let mut shown: Vec<String> = c
                .unexpected
                .iter()
                .take(UNEXPECTED_SHOWN)
                .map(|r| {
                    if r.first == r.last {
                        r.first.to_string()
                    } else {
                        format!("{}..{}", r.first, r.last)
                    }
                })
                .collect();
            if c.unexpected.len() > UNEXPECTED_SHOWN {
                shown.push("...".to_string());
            }
            writeln!(
                out,
                "  not expected: {} date{} seen in the logs, no rows made: {}",
                c.unexpected_dates,
                plural(c.unexpected_dates),
                shown.join(", ")
            )?;
        }
    }
    if let Some(h) = &c.history {
        writeln!(
            out,
            "\nRun history: {}: {} record{} of {} pair{}; {} log row{} cleared by a success, {} row{} from its failures, {} pair{} decided by a later log line",
            safe(&h.file),
            h.records,
            plural(h.records),
            h.pairs,
            plural(h.pairs),
            h.cleared,
            plural(h.cleared),
            h.added,
            plural(h.added),
            h.log_later,
            plural(h.log_later)
        )?;
        if h.ignored > 0 {
            writeln!(
                out,
                "  {} record{} of processors not in --processors ignored: {}{}",
                h.ignored,
                plural(h.ignored),
                h.ignored_names
                    .iter()
                    .map(|n| safe(n))
                    .collect::<Vec<_>>()
                    .join(", "),
                if h.ignored_names.len() < 10 {
                    ""
                } else {
                    ", ..."
                }
            )?;
        }
    }
    Ok(())
}

/// File names come from the command line and may hold control characters; log text is already
/// cleaned. Neither may replay escape sequences on the terminal.
fn safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
