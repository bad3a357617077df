//! `--report FILE.html`: the post-mortem as one self-contained HTML page (inline CSS and SVG; no
//! scripts, fonts or images from anywhere). The calendar heatmap has one SVG `rect` per (date,
//! processor), coloured by state and category, its `<title>` the tooltip with the error; the runs
//! lie on a timeline with their crash points; then the retries grouped by action and the top error
//! templates. Each cell carries `data-date`, `data-processor` and `data-state` (and `data-category`
//! on failed cells), so tests and scripts can read the page back.

use std::fmt::Write as _;

use crate::calendar::{day_number, Calendar, Cell, Layout, NOT_SEEN};
use crate::category::Category;
use crate::date::{Date, Timestamp};
use crate::manifest::{InputStats, Reason, Retry, Run};
use crate::summary::{human_bytes, plural, progress_note};
use crate::triage::Report;

/// Retry rows listed per action; the manifest has them all.
const ROWS_PER_ACTION: usize = 500;
/// Spans up to this many days get one column per date; longer ones a line per month.
const MAX_DAY_COLUMNS: u64 = 92;
/// A cell's side and the distance between cells, in pixels: one column per date...
const DAY_CELL: i64 = 18;
const DAY_STEP: i64 = 22;
/// ...and a block per month.
const CELL: i64 = 14;
const STEP: i64 = 17;

const CSS: &str = r#"
:root { --fg: #1d2430; --muted: #667085; --line: #e4e7ec; --bg: #f6f7f9; --card: #ffffff; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1360px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 18px 20px; margin-top: 18px; overflow-x: auto; }
.sub { color: var(--muted); margin: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 18px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 10px 16px; min-width: 120px; }
.card b { display: block; font-size: 22px; }
.card span { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card.bad b { color: #d93b3b; } .card.warn b { color: #d98a00; } .card.good b { color: #2e7d32; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
table.rows { table-layout: fixed; }
table.rows col.date { width: 105px; } table.rows col.processor { width: 235px; }
table.rows col.reason { width: 180px; } table.rows col.where { width: 200px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: #f1f3f6; border-radius: 4px; padding: 1px 4px; word-break: break-word; }
.nowrap { white-space: nowrap; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; margin-top: 10px; color: var(--muted); font-size: 12px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 3px; margin-right: 5px;
  vertical-align: -2px; border: 1px solid rgba(0,0,0,.08); }
.tag { display: inline-block; padding: 0 7px; border-radius: 9px; color: #fff; font-size: 12px; white-space: nowrap; }
.advice { color: var(--muted); margin: 0 0 8px; }
svg text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #475467; }
svg text.label { font-size: 12px; fill: #1d2430; }
svg rect.cell:hover { stroke: #1d2430; stroke-width: 1.5; }
footer { color: var(--muted); font-size: 12px; margin-top: 18px; }
"#;

/// The whole page.
pub fn render(inputs: &[InputStats], report: &Report, calendar: &Calendar) -> String {
    let s = &report.summary;
    let mut h = String::with_capacity(64 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<title>Backfill post-mortem</title>\n<style>");
    h.push_str(CSS);
    h.push_str("</style>\n</head>\n<body>\n<main>\n<h1>Backfill post-mortem</h1>\n");
    let names: Vec<String> = inputs
        .iter()
        .map(|i| {
            format!(
                "<code>{}</code> ({} lines, {}{})",
                esc(&i.path),
                i.lines,
                human_bytes(i.bytes),
                i.error
                    .as_ref()
                    .map(|e| format!(", skipped: {}", esc(e)))
                    .unwrap_or_default()
            )
        })
        .collect();
    let _ = writeln!(
        h,
        "<p class=\"sub\">{} input{}: {}; {} run{}.</p>",
        inputs.len(),
        plural(inputs.len() as u64),
        names.join(", "),
        report.runs.len(),
        plural(report.runs.len() as u64)
    );

    h.push_str("<div class=\"cards\">\n");
    let crashed = report.runs.iter().filter(|r| r.crashed).count() as u64;
    for (class, n, what) in [
        ("", s.attempts, "attempts"),
        ("good", s.succeeded, "succeeded"),
        (if s.failed > 0 { "bad" } else { "" }, s.failed, "failed"),
        (
            if s.interrupted > 0 { "warn" } else { "" },
            s.interrupted,
            "interrupted",
        ),
        (
            if crashed > 0 { "bad" } else { "" },
            crashed,
            "runs crashed",
        ),
        (
            if s.retries > 0 { "warn" } else { "good" },
            s.retries,
            "pairs to retry",
        ),
        ("", s.gaps, "gap rows"),
        ("", s.failure_lines, "failure lines"),
        ("", s.unattributed, "unattributed"),
    ] {
        let _ = writeln!(
            h,
            "<div class=\"card {class}\"><b>{n}</b><span>{what}</span></div>"
        );
    }
    h.push_str("</div>\n");

    h.push_str("<section id=\"calendar\">\n<h2>Calendar</h2>\n");
    if calendar.is_empty() {
        h.push_str("<p class=\"sub\">No (date, processor) pair was seen.</p>\n");
    } else {
        heatmap(&mut h, calendar);
    }
    h.push_str("</section>\n");

    h.push_str("<section id=\"runs\">\n<h2>Runs</h2>\n");
    runs(&mut h, &report.runs);
    h.push_str("</section>\n");

    h.push_str("<section id=\"retries\">\n<h2>Retries</h2>\n");
    retries(&mut h, &report.retries);
    h.push_str("</section>\n");

    if !report.top_errors.is_empty() {
        h.push_str("<section id=\"templates\">\n<h2>Top error templates</h2>\n<table>\n");
        h.push_str("<tr><th class=\"num\">count</th><th>category</th><th>template</th><th>first seen</th></tr>\n");
        for t in &report.top_errors {
            let _ = writeln!(
                h,
                "<tr><td class=\"num\">{}</td><td>{}</td><td><code title=\"{}\">{}</code></td><td class=\"nowrap\"><code>{}:{}</code></td></tr>",
                t.count,
                tag(t.category),
                esc(&t.example),
                esc(&t.template),
                esc(&t.file),
                t.line
            );
        }
        h.push_str("</table>\n</section>\n");
    }

    if !report.unattributed.is_empty() {
        h.push_str("<section id=\"unattributed\">\n<h2>Unattributed failures</h2>\n<table>\n");
        h.push_str("<tr><th>where</th><th>category</th><th>error</th><th class=\"num\">repeats</th></tr>\n");
        for u in report.unattributed.iter().take(ROWS_PER_ACTION) {
            let _ = writeln!(
                h,
                "<tr><td class=\"nowrap\"><code>{}:{}</code></td><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td></tr>",
                esc(&u.file),
                u.line,
                tag(u.category),
                esc(&u.error),
                u.repeats
            );
        }
        h.push_str("</table>\n</section>\n");
    }
    let _ = writeln!(
        h,
        "<footer>Written by {} {}. Every retry row, whole, is in the JSON manifest.</footer>",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION")
    );
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// A category as a coloured label.
fn tag(c: Category) -> String {
    format!(
        "<span class=\"tag\" style=\"background:{}\">{}</span>",
        Cell::Failed(c).fill(),
        c
    )
}

/// The calendar as an SVG grid: one `rect` per (date, processor), with a tooltip.
fn heatmap(h: &mut String, calendar: &Calendar) {
    let label_w = calendar
        .processors
        .iter()
        .map(|p| p.chars().count() as i64)
        .max()
        .unwrap_or(0)
        * 7
        + 16;
    let n = calendar.processors.len() as i64;
    let layout = calendar.layout(usize::MAX, MAX_DAY_COLUMNS);
    match layout {
        Layout::Days => {
            let days = calendar.days();
            let top = 34;
            let width = label_w + days.len() as i64 * DAY_STEP + 8;
            let height = top + n * DAY_STEP + 4;
            let _ = writeln!(
                h,
                "<svg class=\"heatmap\" data-layout=\"days\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"calendar of dates by processor\">"
            );
            for (i, d) in days.iter().enumerate() {
                let x = label_w + i as i64 * DAY_STEP;
                if i == 0 || d.day() == 1 {
                    let _ = writeln!(
                        h,
                        "<text x=\"{x}\" y=\"12\">{:04}-{:02}</text>",
                        d.year(),
                        d.month()
                    );
                }
                let _ = writeln!(
                    h,
                    "<text x=\"{}\" y=\"28\" text-anchor=\"middle\">{}</text>",
                    x + DAY_CELL / 2,
                    d.day()
                );
            }
            for (p, name) in calendar.processors.iter().enumerate() {
                let y = top + p as i64 * DAY_STEP;
                let _ = writeln!(
                    h,
                    "<text class=\"label\" x=\"0\" y=\"{}\">{}</text>",
                    y + 13,
                    esc(name)
                );
                for (i, d) in days.iter().enumerate() {
                    cell(
                        h,
                        calendar,
                        *d,
                        p,
                        (label_w + i as i64 * DAY_STEP, y),
                        DAY_CELL,
                    );
                }
            }
        }
        Layout::Months => {
            let months = calendar.months();
            let top = 20;
            let block = n * STEP + 10;
            let month_w = 64;
            let width = month_w + label_w + 31 * STEP + 8;
            let height = top + months.len() as i64 * block;
            let _ = writeln!(
                h,
                "<svg class=\"heatmap\" data-layout=\"months\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"calendar of dates by processor, a block per month\">"
            );
            for day in [1, 5, 10, 15, 20, 25, 30] {
                let _ = writeln!(
                    h,
                    "<text x=\"{}\" y=\"12\" text-anchor=\"middle\">{day}</text>",
                    month_w + label_w + (day - 1) * STEP + CELL / 2
                );
            }
            for (m, month) in months.iter().enumerate() {
                let y0 = top + m as i64 * block;
                let _ = writeln!(
                    h,
                    "<text class=\"label\" x=\"0\" y=\"{}\">{:04}-{:02}</text>",
                    y0 + 11,
                    month.year(),
                    month.month()
                );
                for (p, name) in calendar.processors.iter().enumerate() {
                    let y = y0 + p as i64 * STEP;
                    let _ = writeln!(
                        h,
                        "<text class=\"label\" x=\"{month_w}\" y=\"{}\">{}</text>",
                        y + 11,
                        esc(name)
                    );
                    for day in 1..=31u32 {
                        if let Some(d) = Date::new(month.year(), month.month(), day) {
                            let x = month_w + label_w + i64::from(day - 1) * STEP;
                            cell(h, calendar, d, p, (x, y), CELL);
                        }
                    }
                }
            }
        }
    }
    h.push_str("</svg>\n<div class=\"legend\">");
    for c in calendar.present() {
        let _ = write!(
            h,
            "<span><i style=\"background:{}\"></i>{}</span>",
            c.fill(),
            esc(c.label())
        );
    }
    let _ = write!(
        h,
        "<span><i style=\"background:{}\"></i>{}</span>",
        NOT_SEEN.2, NOT_SEEN.1
    );
    h.push_str("</div>\n<p class=\"sub\">Hover a cell for its state and, on failed cells, the error that decided the category.</p>\n");
}

/// One cell of the heatmap.
fn cell(h: &mut String, calendar: &Calendar, date: Date, p: usize, (x, y): (i64, i64), side: i64) {
    let processor = &calendar.processors[p];
    let (fill, state, category, tip) = match calendar.get(date, p) {
        Some((c, row)) => {
            let category = match c {
                Cell::Failed(cat) => format!(" data-category=\"{cat}\""),
                _ => String::new(),
            };
            let mut tip = format!("{date} {processor}: {}", c.label());
            if let Some(r) = row {
                tip.push_str(&tooltip(r));
            }
            (c.fill(), c.state(), category, tip)
        }
        None => (
            NOT_SEEN.2,
            "not_seen",
            String::new(),
            format!("{date} {processor}: {}", NOT_SEEN.1),
        ),
    };
    let _ = writeln!(
        h,
        "<rect class=\"cell\" x=\"{x}\" y=\"{y}\" width=\"{side}\" height=\"{side}\" rx=\"3\" fill=\"{fill}\" data-date=\"{date}\" data-processor=\"{}\" data-state=\"{state}\"{category}><title>{}</title></rect>",
        esc(processor),
        esc(&tip)
    );
}

/// What a cell's tooltip says of its retry row.
fn tooltip(r: &Retry) -> String {
    let mut t = String::new();
    if r.reason != Reason::Failed {
        t.push_str(&format!(" ({})", r.reason.as_str()));
    }
    if !r.blocked_by.is_empty() {
        let gaps: Vec<String> = r.blocked_by.iter().map(Date::to_string).collect();
        t.push_str(&format!("; blocked by {}", gaps.join(", ")));
    }
    t.push_str(&format!("\n{}:{}  {}", r.file, r.line, r.error));
    t.push_str(&format!("\naction: {}", r.action));
    t
}

/// Seconds since 1970 of a log time (the zone is the log's own).
fn epoch(t: Timestamp) -> i64 {
    day_number(t.date()) * 86_400 + i64::from(t.seconds_of_day())
}

/// The runs on a time axis (when their lines carry times) and as a table.
fn runs(h: &mut String, runs: &[Run]) {
    if runs.is_empty() {
        h.push_str("<p class=\"sub\">No run banner or progress line was found.</p>\n");
        return;
    }
    let times: Vec<i64> = runs
        .iter()
        .flat_map(|r| [r.started, r.ended])
        .flatten()
        .map(epoch)
        .collect();
    if let (Some(&t0), Some(&t1)) = (times.iter().min(), times.iter().max()) {
        let span = (t1 - t0).max(1) as f64;
        let (left, right, row) = (110.0, 1240.0, 30i64);
        let width = right + 40.0;
        let height = 30 + runs.len() as i64 * row + 10;
        let x = |t: i64| left + (t - t0) as f64 / span * (right - left);
        let _ = writeln!(
            h,
            "<svg class=\"timeline\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"runs on a timeline\">"
        );
        for k in 0..=4 {
            let t = t0 + (t1 - t0) * k / 4;
            let tx = x(t);
            let _ = writeln!(
                h,
                "<line x1=\"{tx:.1}\" y1=\"18\" x2=\"{tx:.1}\" y2=\"{}\" stroke=\"#e4e7ec\"/><text x=\"{tx:.1}\" y=\"12\" text-anchor=\"middle\">{}</text>",
                height - 6,
                esc(&clock(t, t0, t1))
            );
        }
        for (i, r) in runs.iter().enumerate() {
            let y = 26 + i as i64 * row;
            let _ = writeln!(
                h,
                "<text class=\"label\" x=\"0\" y=\"{}\">run #{}</text>",
                y + 13,
                i + 1
            );
            let (Some(a), b) = (r.started.map(epoch), r.ended.map(epoch)) else {
                continue;
            };
            let b = b.unwrap_or(a);
            let (xa, xb) = (x(a), x(b).max(x(a) + 3.0));
            let color = if r.completed { "#4caf50" } else { "#d93b3b" };
            let state = if r.completed { "completed" } else { "crashed" };
            let _ = writeln!(
                h,
                "<rect class=\"run\" data-state=\"{state}\" x=\"{xa:.1}\" y=\"{y}\" width=\"{:.1}\" height=\"18\" rx=\"4\" fill=\"{color}\" opacity=\"0.85\"><title>run #{} {}: {} .. {}</title></rect>",
                xb - xa,
                i + 1,
                state,
                r.started.map(|t| t.to_string()).unwrap_or_default(),
                r.ended.map(|t| t.to_string()).unwrap_or_default()
            );
            if let Some(c) = &r.crash {
                let _ = writeln!(
                    h,
                    "<g class=\"crash\"><title>crash at {}:{}: {}</title><path d=\"M{:.1} {} l6 -6 l6 6 l-6 6 z\" transform=\"translate(-6 0)\" fill=\"#7a1f1f\"/><text x=\"{:.1}\" y=\"{}\">crash: {}</text></g>",
                    esc(&c.file),
                    c.line,
                    esc(&c.text),
                    xb,
                    y + 9,
                    (xb + 10.0).min(right - 120.0),
                    y - 2,
                    esc(&short(&c.text, 60))
                );
            }
        }
        h.push_str("</svg>\n");
    } else {
        h.push_str("<p class=\"sub\">The runs' lines carry no timestamps: no timeline.</p>\n");
    }
    h.push_str("<table>\n<tr><th>run</th><th>starts at</th><th>started</th><th>ended</th><th>outcome</th><th>last progress</th></tr>\n");
    for (i, r) in runs.iter().enumerate() {
        let outcome = if r.completed {
            "<span class=\"tag\" style=\"background:#4caf50\">completed</span>".to_string()
        } else {
            let at = r
                .crash
                .as_ref()
                .map(|c| {
                    format!(
                        " at <code>{}:{}</code> <code>{}</code>",
                        esc(&c.file),
                        c.line,
                        esc(&c.text)
                    )
                })
                .unwrap_or_default();
            format!("<span class=\"tag\" style=\"background:#d93b3b\">crashed</span>{at}")
        };
        let progress = progress_note(r);
        let t = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td>#{}</td><td class=\"nowrap\"><code>{}:{}</code></td><td class=\"nowrap\">{}</td><td class=\"nowrap\">{}</td><td>{outcome}</td><td>{}</td></tr>",
            i + 1,
            esc(&r.file),
            r.first_line,
            t(r.started),
            t(r.ended),
            esc(&progress)
        );
    }
    h.push_str("</table>\n");
}

/// An axis label: the time of day, with the date when the span crosses days.
fn clock(t: i64, t0: i64, t1: i64) -> String {
    let day = t.div_euclid(86_400);
    let s = t.rem_euclid(86_400);
    let hm = format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    if t0.div_euclid(86_400) == t1.div_euclid(86_400) {
        hm
    } else {
        format!("+{}d {hm}", day - t0.div_euclid(86_400))
    }
}

fn short(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(chars - 1).collect();
        s.push('…');
        s
    }
}

fn retries(h: &mut String, rows: &[Retry]) {
    if rows.is_empty() {
        h.push_str("<p class=\"sub\">Nothing to retry.</p>\n");
        return;
    }
    for category in Category::ALL {
        let group: Vec<&Retry> = rows.iter().filter(|r| r.category == category).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(
            h,
            "<h3>{} <code>{}</code> · {} pair{}</h3>\n<p class=\"advice\">{}. Procedure: <code>backfill-triage explain {}</code></p>",
            tag(category),
            category.action(),
            group.len(),
            plural(group.len() as u64),
            esc(&crate::markdown::capitalised(category.info().advice)),
            category.action()
        );
        h.push_str("<table class=\"rows\">\n<colgroup><col class=\"date\"><col class=\"processor\"><col class=\"reason\"><col class=\"where\"><col></colgroup>\n<tr><th>date</th><th>processor</th><th>reason</th><th>evidence</th><th>error</th></tr>\n");
        for r in group.iter().take(ROWS_PER_ACTION) {
            let reason = r.reason_label();
            let _ = writeln!(
                h,
                "<tr><td class=\"nowrap\">{}</td><td>{}</td><td>{}</td><td class=\"nowrap\"><code>{}:{}</code></td><td><code>{}</code></td></tr>",
                r.date,
                esc(&r.processor),
                esc(&reason),
                esc(&r.file),
                r.line,
                esc(&r.error)
            );
        }
        if group.len() > ROWS_PER_ACTION {
            let _ = writeln!(
                h,
                "<tr><td colspan=\"5\">... and {} more: see the manifest.</td></tr>",
                group.len() - ROWS_PER_ACTION
            );
        }
        h.push_str("</table>\n");
    }
}

/// Text as HTML text or attribute value.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
