//! The summary for people: what each run did and where a crashed one stopped, the calendar of
//! every pair's final state, what to retry grouped by the playbook's recovery action, and the error
//! templates that recur most. Coloured when the terminal allows it and cut to its width (the
//! manifest keeps every text whole): see [`crate::term`].

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::calendar::{Calendar, Cell};
use crate::category::{Action, Category};
use crate::manifest::InputStats;
use crate::manifest::{Reason, Run};
use crate::templates::message;
use crate::term::{pad, Painter};
use crate::triage::Report;

/// Runs listed, the latest ones; the manifest has them all.
const MAX_RUNS: usize = 10;

/// Rows listed per action before the rest are summed up; the manifest has them all.
const ROWS_PER_ACTION: usize = 20;

pub fn write_summary(
    p: &mut Painter,
    inputs: &[InputStats],
    report: &Report,
    calendar: &Calendar,
) -> io::Result<()> {
    let s = &report.summary;
    let plain = Style::new();
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    let bytes: u64 = inputs.iter().map(|i| i.bytes).sum();
    let lines: u64 = inputs.iter().map(|i| i.lines).sum();
    let head = format!(
        "backfill-triage: {} input{}, {} lines ({}), {} run{}",
        inputs.len(),
        plural(inputs.len() as u64),
        lines,
        human_bytes(bytes),
        report.runs.len(),
        plural(report.runs.len() as u64)
    );
    p.line(&[(bold, &head)])?;
    for input in inputs.iter().filter(|i| i.error.is_some()) {
        let text = format!(
            "  skipped {}: {}",
            safe(&input.path),
            input.error.as_deref().unwrap_or_default()
        );
        p.line(&[(AnsiColor::Yellow.on_default(), &text)])?;
    }
    let counts = [
        format!("{}", s.attempts),
        format!("{} succeeded", s.succeeded),
        format!("{} failed", s.failed),
        format!("{} interrupted", s.interrupted),
        format!("{} failure lines", s.failure_lines),
    ];
    let failed = if s.failed > 0 {
        Cell::Failed(Category::ProcessingError).style()
    } else {
        plain
    };
    let interrupted = if s.interrupted > 0 {
        Cell::Interrupted.style()
    } else {
        plain
    };
    p.line(&[
        (plain, "attempts: "),
        (plain, &counts[0]),
        (plain, " ("),
        (Cell::Succeeded.style(), &counts[1]),
        (plain, ", "),
        (failed, &counts[2]),
        (plain, ", "),
        (interrupted, &counts[3]),
        (plain, "); "),
        (plain, &counts[4]),
    ])?;

    if !report.runs.is_empty() {
        p.blank()?;
        p.line(&[(bold, "Runs")])?;
    }
    // A crash loop leaves thousands of runs: the latest ones are the post-mortem, the rest a count.
    let skipped = report.runs.len().saturating_sub(MAX_RUNS);
    if skipped > 0 {
        let crashed = report.runs[..skipped].iter().filter(|r| r.crashed).count();
        p.line(&[(
            plain,
            &format!(
                "  ... {skipped} earlier runs ({crashed} crashed, {} completed; see the manifest)",
                skipped - crashed
            ),
        )])?;
    }
    for (i, run) in report.runs.iter().enumerate().skip(skipped) {
        let at = format!("  #{} {}:{}  ", i + 1, safe(&run.file), run.first_line);
        let (style, state, detail) = if run.completed {
            (
                Cell::Succeeded.style(),
                "completed".to_string(),
                String::new(),
            )
        } else if let Some(crash) = &run.crash {
            (
                Cell::Failed(Category::ProcessingError).style(),
                format!("CRASHED at {}:{}", safe(&crash.file), crash.line),
                format!(": {}", crash.text),
            )
        } else {
            (
                Cell::Interrupted.style(),
                "crashed".to_string(),
                String::new(),
            )
        };
        p.line(&[(plain, &at), (style, &state), (plain, &detail)])?;
        if let Some(started) = run.started {
            let ended = run.ended.map(|t| t.to_string()).unwrap_or_default();
            p.line(&[(dim, &format!("     time: {started} .. {ended}"))])?;
        }
        if let Some(pr) = &run.last_progress {
            let date = pr.date.map(|d| format!(" ({d})")).unwrap_or_default();
            let mut text = format!(
                "     last progress: date {}/{}{} at line {}",
                pr.index, pr.total, date, pr.line
            );
            if run.crashed {
                text.push_str(&format!(
                    "; resume: re-run the script, it restarts at date {}/{}",
                    pr.index, pr.total
                ));
            }
            p.line(&[(plain, &text)])?;
        }
        if run.not_started > 0 {
            let text = format!(
                "     {} DATE{} NEVER STARTED: the run crashed before reaching {}",
                run.not_started,
                if run.not_started == 1 { "" } else { "S" },
                if run.planned.is_some() {
                    "them (retry rows with reason not_started)"
                } else {
                    "them, and the log does not name them: re-run the script"
                }
            );
            p.line(&[(Cell::Failed(Category::ProcessingError).style(), &text)])?;
        }
    }

    if !calendar.is_empty() {
        p.blank()?;
        calendar.write_terminal(p)?;
    }
    write_completeness(p, report)?;

    p.blank()?;
    let head = format!(
        "Retries: {} (date, processor) pair{}",
        s.retries,
        plural(s.retries)
    );
    p.line(&[(bold, &head)])?;
    let unnamed: u64 = report
        .runs
        .iter()
        .filter(|r| r.planned.is_none())
        .map(|r| u64::from(r.not_started))
        .sum();
    if unnamed > 0 {
        let text = format!(
            "  and {unnamed} date{} never started that no row can name: re-run the backfill script",
            plural(unnamed)
        );
        p.line(&[(Cell::NotStarted.style(), &text)])?;
    }
    // Grouped by what to do: a row escalated by --max-failures is `investigate`, whatever its
    // category.
    for category in Category::ALL {
        let escalated = category == Category::Uncategorized;
        let rows: Vec<_> = report
            .retries
            .iter()
            .filter(|r| {
                (r.category == category && r.action == category.action())
                    || (escalated && r.action == Action::Investigate && r.category != category)
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        let action = format!("  {}", category.action());
        let detail = format!(" ({}, {}): ", category, rows.len());
        let advice = if rows.iter().any(|r| r.category != category) {
            "failed too often (--max-failures) or no rule names it: read the error first"
        } else {
            category.info().advice
        };
        p.line(&[
            (Cell::Failed(category).style(), &action),
            (plain, &detail),
            (plain, advice),
        ])?;
        for r in rows.iter().take(ROWS_PER_ACTION) {
            let (extra, style) = match r.reason {
                Reason::Gap => (" (gap)".to_string(), Cell::Gap.style()),
                Reason::Interrupted => (" (interrupted)".to_string(), Cell::Interrupted.style()),
                Reason::NotStarted => (" (not started)".to_string(), Cell::NotStarted.style()),
                Reason::Missing => (" (missing)".to_string(), Cell::Missing.style()),
                Reason::Failed if !r.blocked_by.is_empty() => {
                    let gaps: Vec<String> = r.blocked_by.iter().map(|d| d.to_string()).collect();
                    (
                        format!(" (blocked by {})", gaps.join(", ")),
                        Cell::Gap.style(),
                    )
                }
                Reason::Failed if r.action != r.category.action() => (
                    format!(" ({}, failed {} times)", r.category, r.failures),
                    Cell::Failed(r.category).style(),
                ),
                Reason::Failed if r.silent => (
                    " (silent: a success line hid it)".to_string(),
                    Cell::Failed(Category::ProcessingError).style(),
                ),
                Reason::Failed if r.failures > 1 => {
                    (format!(" (failed {} times)", r.failures), plain)
                }
                Reason::Failed => (String::new(), plain),
            };
            let head = format!("    {} {}", r.date, pad(&r.processor, 30));
            let place = format!("  {}:{}  ", safe(&r.file), r.line);
            // The line's timestamp and logger say nothing a person needs here; the manifest keeps
            // the whole line.
            p.line(&[
                (plain, &head),
                (style, &extra),
                (dim, &place),
                (plain, message(&r.error)),
            ])?;
        }
        if rows.len() > ROWS_PER_ACTION {
            let more = format!(
                "    ... and {} more (see the manifest)",
                rows.len() - ROWS_PER_ACTION
            );
            p.line(&[(dim, &more)])?;
        }
    }

    if !s.by_processor.is_empty() {
        let parts: Vec<String> = s
            .by_processor
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect();
        p.blank()?;
        p.line(&[(bold, "By processor: "), (plain, &parts.join(", "))])?;
    }
    if !report.top_errors.is_empty() {
        p.blank()?;
        p.line(&[(bold, "Top error templates")])?;
        for t in &report.top_errors {
            let count = format!("  {:>7}x  ", t.count);
            let category = pad(t.category.as_str(), 22);
            let place = format!("{}:{}  ", safe(&t.file), t.line);
            p.line(&[
                (plain, &count),
                (Cell::Failed(t.category).style(), &category),
                (dim, &place),
                (plain, &t.template),
            ])?;
        }
    }
    if s.unattributed > 0 {
        p.blank()?;
        let head = format!(
            "Unattributed failures (no date or processor): {}",
            s.unattributed
        );
        p.line(&[(bold, &head)])?;
        for u in report.unattributed.iter().take(ROWS_PER_ACTION) {
            let repeats = if u.repeats > 0 {
                format!(" (+{} more)", u.repeats)
            } else {
                String::new()
            };
            let place = format!("  {}:{}  ", safe(&u.file), u.line);
            let category = format!("[{}]  ", u.category);
            p.line(&[
                (dim, &place),
                (Cell::Failed(u.category).style(), &category),
                (plain, message(&u.error)),
                (dim, &repeats),
            ])?;
        }
    }
    Ok(())
}

/// Date runs shown in the "not expected" line before the rest are summed up.
const UNEXPECTED_SHOWN: usize = 10;

/// `--expected-dates` and `--run-history`: per processor, expected = succeeded + failed +
/// missing; the dates the logs mention that were not expected; what the history changed.
/// The completeness section, through the painter: cut to the width like every other line.
fn write_completeness(p: &mut Painter, report: &Report) -> io::Result<()> {
    let mut text = Vec::new();
    completeness_text(&mut text, report)?;
    for line in String::from_utf8_lossy(&text).lines() {
        if line.is_empty() {
            p.blank()?;
        } else {
            p.line(&[(Style::new(), line)])?;
        }
    }
    Ok(())
}

fn completeness_text(out: &mut dyn Write, report: &Report) -> io::Result<()> {
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
pub fn safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

pub fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Where a run was when it ended (`date 4/5 (2024-01-10), line 98`), and that re-running the script
/// resumes there if it crashed: the Markdown and HTML reports' "last progress" cell.
pub fn progress_note(run: &Run) -> String {
    let Some(p) = &run.last_progress else {
        return String::new();
    };
    let date = p.date.map(|d| format!(" ({d})")).unwrap_or_default();
    let resume = if run.crashed {
        "; re-running the script resumes there"
    } else {
        ""
    };
    format!(
        "date {}/{}{date}, line {}{resume}",
        p.index, p.total, p.line
    )
}

/// Byte counts as people read them (`200.00 MiB`), in the progress bar's units.
pub fn human_bytes(n: u64) -> String {
    indicatif::BinaryBytes(n).to_string()
}
