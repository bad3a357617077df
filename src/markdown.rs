//! `--format markdown`: a post-mortem to paste into an issue or a chat. The runs and where a
//! crashed one stopped, the counts, the calendar as a table (one row per date, runs of identical
//! dates folded into one), the retries grouped by recovery action with their evidence, and the top
//! error templates. Log text goes into code spans, so nothing in a log is read as Markdown or HTML.

use std::io::{self, Write};

use crate::calendar::{Calendar, Cell, NOT_SEEN};
use crate::category::Category;
use crate::date::Date;
use crate::manifest::{InputStats, Reason};
use crate::summary::{human_bytes, plural, progress_note};
use crate::triage::Report;

/// Retry rows listed per action; the manifest has them all.
const ROWS_PER_ACTION: usize = 50;

pub fn write(
    out: &mut dyn Write,
    inputs: &[InputStats],
    report: &Report,
    calendar: &Calendar,
) -> io::Result<()> {
    let s = &report.summary;
    writeln!(out, "# Backfill post-mortem\n")?;
    let names: Vec<String> = inputs
        .iter()
        .map(|i| {
            let skipped = i
                .error
                .as_ref()
                .map(|e| format!(", skipped: {e}"))
                .unwrap_or_default();
            format!(
                "{} ({} lines, {}{skipped})",
                code(&i.path),
                i.lines,
                human_bytes(i.bytes)
            )
        })
        .collect();
    writeln!(
        out,
        "{} input{}: {}.\n",
        inputs.len(),
        plural(inputs.len() as u64),
        names.join(", ")
    )?;
    writeln!(
        out,
        "**{} attempts**: {} succeeded, {} failed, {} interrupted; {} failure lines. \
         **{} (date, processor) pairs to retry**{}.\n",
        s.attempts,
        s.succeeded,
        s.failed,
        s.interrupted,
        s.failure_lines,
        s.retries,
        if s.unattributed > 0 {
            format!(
                "; {} unattributed failure{}",
                s.unattributed,
                plural(s.unattributed)
            )
        } else {
            String::new()
        }
    )?;

    writeln!(out, "## Runs\n")?;
    if report.runs.is_empty() {
        writeln!(out, "No run banner or progress line was found.\n")?;
    } else {
        writeln!(
            out,
            "| run | starts at | started | ended | outcome | last progress |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for (i, run) in report.runs.iter().enumerate() {
            let outcome = if run.completed {
                "completed".to_string()
            } else if let Some(c) = &run.crash {
                format!(
                    "**crashed** at {}: {}",
                    code(&format!("{}:{}", c.file, c.line)),
                    code(&c.text)
                )
            } else {
                "**crashed**".to_string()
            };
            let progress = progress_note(run);
            let time =
                |t: Option<crate::date::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
            writeln!(
                out,
                "| #{} | {} | {} | {} | {} | {} |",
                i + 1,
                code(&format!("{}:{}", run.file, run.first_line)),
                time(run.started),
                time(run.ended),
                outcome,
                progress
            )?;
        }
        writeln!(out)?;
    }

    writeln!(out, "## Counts\n")?;
    writeln!(out, "| category | action | retries |")?;
    writeln!(out, "|---|---|--:|")?;
    for (c, n) in &s.by_category {
        writeln!(out, "| {} | {} | {n} |", c, c.action())?;
    }
    writeln!(out, "| **all** | | **{}** |\n", s.retries)?;
    let reasons: Vec<String> = Reason::ALL
        .iter()
        .map(|r| {
            let n = report.retries.iter().filter(|x| x.reason == *r).count();
            (r, n)
        })
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| format!("{} {n}", r.as_str()))
        .collect();
    if !reasons.is_empty() {
        writeln!(out, "By reason: {}.\n", reasons.join(", "))?;
    }

    if !calendar.is_empty() {
        write_calendar(out, calendar)?;
    }

    writeln!(out, "## Retries by action\n")?;
    if report.retries.is_empty() {
        writeln!(out, "Nothing to retry.\n")?;
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
            "### `{}`: {} ({})\n",
            category.action(),
            category,
            rows.len()
        )?;
        writeln!(
            out,
            "{}. The procedure: `backfill-triage explain {}`.\n",
            capitalised(category.info().advice),
            category.action()
        )?;
        writeln!(out, "| date | processor | reason | evidence | error |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for r in rows.iter().take(ROWS_PER_ACTION) {
            let reason = r.reason_label();
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                r.date,
                r.processor,
                reason,
                code(&format!("{}:{}", r.file, r.line)),
                code(&r.error)
            )?;
        }
        if rows.len() > ROWS_PER_ACTION {
            writeln!(
                out,
                "\n... and {} more: see the manifest.",
                rows.len() - ROWS_PER_ACTION
            )?;
        }
        writeln!(out)?;
    }

    if !report.top_errors.is_empty() {
        writeln!(out, "## Top error templates\n")?;
        writeln!(out, "| count | category | template | first seen |")?;
        writeln!(out, "|--:|---|---|---|")?;
        for t in &report.top_errors {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                t.count,
                t.category,
                code(&t.template),
                code(&format!("{}:{}", t.file, t.line))
            )?;
        }
        writeln!(out)?;
    }

    if !report.unattributed.is_empty() {
        writeln!(out, "## Unattributed failures\n")?;
        writeln!(out, "| where | category | error | repeats |")?;
        writeln!(out, "|---|---|---|--:|")?;
        for u in report.unattributed.iter().take(ROWS_PER_ACTION) {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                code(&format!("{}:{}", u.file, u.line)),
                u.category,
                code(&u.error),
                u.repeats
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The calendar as a table: a row per date, a column per processor; consecutive dates whose rows
/// are the same are one row (`A .. B`), so a quiet month is one line.
fn write_calendar(out: &mut dyn Write, calendar: &Calendar) -> io::Result<()> {
    writeln!(out, "## Calendar\n")?;
    let mut legend: Vec<String> = calendar
        .present()
        .into_iter()
        .map(|c| format!("`{}` {}", c.glyph(), c.label()))
        .collect();
    legend.push(format!("empty: {}", NOT_SEEN.1));
    writeln!(out, "{}.\n", legend.join(", "))?;
    let header: Vec<&str> = calendar.processors.iter().map(String::as_str).collect();
    writeln!(out, "| date | {} |", header.join(" | "))?;
    writeln!(out, "|---|{}", ":-:|".repeat(header.len()))?;
    let mut dates: Vec<Date> = calendar.cells().map(|(d, ..)| d).collect();
    dates.dedup();
    let row = |d: Date| -> Vec<Option<Cell>> {
        (0..header.len())
            .map(|p| calendar.get(d, p).map(|(c, _)| c))
            .collect()
    };
    let mut i = 0;
    while i < dates.len() {
        let first = dates[i];
        let cells = row(first);
        let mut j = i;
        while j + 1 < dates.len()
            && dates[j].succ() == Some(dates[j + 1])
            && row(dates[j + 1]) == cells
        {
            j += 1;
        }
        let label = if j > i {
            format!("{first} .. {}", dates[j])
        } else {
            first.to_string()
        };
        let glyphs: Vec<String> = cells
            .iter()
            .map(|c| c.map(|c| format!("`{}`", c.glyph())).unwrap_or_default())
            .collect();
        writeln!(out, "| {label} | {} |", glyphs.join(" | "))?;
        i = j + 1;
    }
    writeln!(out)
}

/// `text` with its first letter in upper case, to start a sentence.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `text` as an inline code span that holds any text: a fence longer than any backtick run in it,
/// and `|` escaped so table cells stay whole.
pub fn code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let text = text.replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    if longest > 0 || text.starts_with(' ') || text.ends_with(' ') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

#[cfg(test)]
mod tests {
    use super::code;

    #[test]
    fn code_spans_hold_any_text() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x `y` z"), "`` x `y` z ``");
        assert_eq!(code(""), "");
    }
}
