//! Everything the tool writes: the JSON manifest (to a file, atomically, or to stdout), the planned
//! retry rows as CSV/TSV, the retry script, the plan for people, and the NDJSON events stream.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use crate::classify::{Classifier, Event};
use crate::date::Date;
use crate::manifest::{EventLine, InputStats, Manifest, Retry, Tool, SCHEMA_VERSION};
use crate::plan::{Mode, Plan, Step};
use crate::triage::Report;

/// The manifest document of a finished scan, its rows' `command` still empty: [`crate::plan`]
/// fills them.
pub fn manifest(inputs: &[InputStats], report: &Report) -> Manifest {
    Manifest {
        schema_version: SCHEMA_VERSION,
        tool: Tool::this(),
        inputs: inputs.to_vec(),
        runs: Arc::clone(&report.runs),
        summary: report.summary.clone(),
        retries: report.retries.clone(),
        unattributed: report.unattributed.clone(),
        succeeded: report.succeeded.clone(),
        completeness: report.completeness.clone(),
    }
}

/// Writes the manifest as pretty JSON and a newline, streamed: a manifest of tens of thousands of
/// runs is not held in memory a second time as text.
pub fn write_manifest_json(w: &mut dyn Write, manifest: &Manifest) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, manifest).map_err(io::Error::from)?;
    w.write_all(b"\n")
}

/// Writes what `write` writes to `path` through a temporary file in the same folder and a rename: readers see
/// the old manifest or the new one, never a part, whatever happens meanwhile, and of two scans
/// writing the same path at once, the last rename wins whole. A symbolic link is followed (its
/// target is replaced, not the link). A path that is not a regular file (a device or a pipe,
/// `/dev/null`) cannot be renamed over and is written directly. The new file gets the mode an
/// ordinary new file gets (0644 under umask 022), or the mode of the file it replaces.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let target = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let existing = std::fs::metadata(&target).ok();
    if existing.as_ref().is_some_and(|m| !m.is_file()) {
        let file = std::fs::OpenOptions::new().write(true).open(&target)?;
        let mut out = io::BufWriter::new(file);
        write(&mut out)?;
        return out.flush();
    }
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".backfill-triage-").suffix(".tmp");
    // tempfile creates 0600 files, right for secrets and wrong for a manifest other tools and
    // users read: ask for 0666, which the umask narrows as it does for any new file.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir)?;
    if let Some(meta) = &existing {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    let mut out = io::BufWriter::new(&mut tmp);
    write(&mut out)?;
    out.flush()?;
    drop(out);
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}

/// The columns of `-f csv` and `-f tsv`, a contract for scripts: one row per retry row, in the
/// order the plan runs them (rows of one command together, sharing `step`). No field is empty but
/// the last: an empty value is written `-`.
pub const COLUMNS: [&str; 18] = [
    "step",
    "mode",
    "date",
    "processor",
    "phase",
    "category",
    "action",
    "reason",
    "failures",
    "silent",
    "blocked_by",
    "start",
    "end",
    "file",
    "line",
    "rule",
    "command",
    "error",
];

/// Text as one field of one line: control characters (tabs, newlines, escapes) become U+FFFD, so
/// a file name or a message from a hand-edited manifest can neither split a TSV row nor end a
/// comment in a script.
pub fn field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(char::is_control) {
        text.chars()
            .map(|c| if c.is_control() { '\u{fffd}' } else { c })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

fn dash(text: &str) -> std::borrow::Cow<'_, str> {
    if text.is_empty() {
        "-".into()
    } else {
        field(text)
    }
}

pub(crate) fn csv_writer(out: &mut dyn Write, delimiter: u8) -> csv::Writer<&mut dyn Write> {
    csv::WriterBuilder::new()
        .delimiter(delimiter)
        .quote_style(if delimiter == b'\t' {
            csv::QuoteStyle::Never
        } else {
            csv::QuoteStyle::Necessary
        })
        .from_writer(out)
}

pub(crate) fn csv_err(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// The planned rows with a header ([`COLUMNS`]); `delimiter` is `,` (RFC 4180 quoting) or `\t`
/// (no quoting: every field is cleaned of tabs and newlines).
pub fn write_rows(
    out: &mut dyn Write,
    manifest: &Manifest,
    plan: &Plan,
    delimiter: u8,
) -> io::Result<()> {
    let mut w = csv_writer(out, delimiter);
    w.write_record(COLUMNS).map_err(csv_err)?;
    for step in &plan.steps {
        for &i in &step.rows {
            let r = &manifest.retries[i];
            w.write_record([
                step.number.to_string().as_str(),
                step.mode.as_str(),
                &r.date.to_string(),
                &field(&r.processor),
                &field(&r.phase),
                r.category.as_str(),
                r.action.as_str(),
                r.reason.as_str(),
                &r.failures.to_string(),
                if r.silent { "true" } else { "false" },
                &dash(&join_dates(&r.blocked_by)),
                &step.first.to_string(),
                &step.last.to_string(),
                &dash(&r.file),
                &r.line.to_string(),
                &dash(r.rule.as_deref().unwrap_or_default()),
                &field(&step.command),
                &field(&r.error),
            ])
            .map_err(csv_err)?;
        }
    }
    w.flush()
}

fn join_dates(dates: &[Date]) -> String {
    dates
        .iter()
        .map(Date::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// `A..B`, or `A` for one day.
fn span(first: Date, last: Date) -> String {
    if first == last {
        first.to_string()
    } else {
        format!("{first}..{last}")
    }
}

/// Why a step is not run, for people.
fn mode_note(step: &Step) -> String {
    match &step.mode {
        Mode::Run => String::new(),
        Mode::Manual => "needs a person first".to_string(),
        Mode::Held(why) => format!("held: {}", field(why)),
    }
}

/// One row's evidence for a comment: date, reason, category, what else matters, `file:line`.
fn evidence(r: &Retry, with_error: bool) -> String {
    let mut out = format!("{} {} {}", r.date, r.reason, r.category);
    if r.failures > 1 {
        out.push_str(&format!(", {} failures", r.failures));
    }
    if r.silent {
        out.push_str(", silent");
    }
    if !r.blocked_by.is_empty() {
        out.push_str(&format!(", blocked by {}", join_dates(&r.blocked_by)));
    }
    out.push_str(&format!(" {}:{}", field(&r.file), r.line));
    if with_error && !r.error.is_empty() {
        out.push_str(&format!(": {}", field(&r.error)));
    }
    out
}

/// A bash script that runs the plan unattended: `set -u -o pipefail`, the steps in order, each
/// command's status tallied, a last line "N of M commands failed" on stderr, and exit status 1
/// when any failed. Steps that need a person or are held are written commented out, with the
/// reason; each command is followed by its rows' category and evidence (`file:line`).
pub fn write_commands(out: &mut dyn Write, manifest: &Manifest, plan: &Plan) -> io::Result<()> {
    let (run, manual, held) = plan.counts();
    let pairs: usize = plan.steps.iter().map(|s| s.rows.len()).sum();
    writeln!(out, "#!/usr/bin/env bash")?;
    writeln!(
        out,
        "# Retry plan from backfill-triage {}: {pairs} (date, processor) pair{} in {} command{}:",
        env!("CARGO_PKG_VERSION"),
        plural(pairs),
        plan.steps.len(),
        plural(plan.steps.len()),
    )?;
    writeln!(
        out,
        "# {run} to run, {manual} waiting for a person, {held} held (those two kinds are commented out)."
    )?;
    writeln!(
        out,
        "# Each command's exit status is tallied; the last line (stderr) says how many failed, and"
    )?;
    writeln!(
        out,
        "# the script exits 1 if any did. BACKFILL_TRIAGE_BACKOFF=SECONDS overrides every pause."
    )?;
    writeln!(out, "set -u -o pipefail")?;
    writeln!(out, "failed=0")?;
    writeln!(out, "total=0")?;
    writeln!(out, "tally() {{")?;
    writeln!(out, "  total=$((total + 1))")?;
    writeln!(out, "  if [ \"$1\" -ne 0 ]; then")?;
    writeln!(out, "    failed=$((failed + 1))")?;
    writeln!(out, "    echo \"retry step $2 returned $1\" >&2")?;
    writeln!(out, "  fi")?;
    writeln!(out, "}}")?;
    if plan.unknown_not_started > 0 {
        writeln!(out)?;
        writeln!(
            out,
            "# {} date{} a crashed run never reached {} not listed (the log does not say which):",
            plan.unknown_not_started,
            plural(plan.unknown_not_started as usize),
            if plan.unknown_not_started == 1 {
                "is"
            } else {
                "are"
            },
        )?;
        writeln!(out, "# re-run the backfill driver script to retry them.")?;
    }
    for step in &plan.steps {
        let live = step.mode == Mode::Run;
        writeln!(out)?;
        write!(
            out,
            "# step {}/{}: {} {}, {}",
            step.number,
            plan.steps.len(),
            step.processor,
            span(step.first, step.last),
            step.action
        )?;
        if !live {
            write!(out, ": {}", mode_note(step))?;
        }
        writeln!(out)?;
        let comment = if live { "" } else { "# " };
        if let Some(secs) = step.backoff_secs {
            writeln!(
                out,
                "{comment}sleep \"${{BACKFILL_TRIAGE_BACKOFF:-{secs}}}\"  # {}: let quotas and timeouts recover",
                step.category
            )?;
        }
        writeln!(out, "{comment}{}", field(&step.command))?;
        if live {
            writeln!(out, "tally $? {}", step.number)?;
        }
        for &i in &step.rows {
            writeln!(out, "#   {}", evidence(&manifest.retries[i], !live))?;
        }
    }
    writeln!(out)?;
    writeln!(out, "echo \"$failed of $total commands failed\" >&2")?;
    writeln!(out, "[ \"$failed\" -eq 0 ]")?;
    Ok(())
}

/// `plan -f summary`: the steps for people, then what no step can retry.
pub fn write_plan_summary(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    let (run, manual, held) = plan.counts();
    let pairs: usize = plan.steps.iter().map(|s| s.rows.len()).sum();
    if plan.steps.is_empty() {
        writeln!(out, "Plan: nothing to retry")?;
    } else {
        writeln!(
            out,
            "Plan: {pairs} (date, processor) pair{} in {} command{}: {run} to run, {manual} waiting for a person, {held} held",
            plural(pairs),
            plan.steps.len(),
            plural(plan.steps.len()),
        )?;
    }
    let width = plan
        .steps
        .iter()
        .map(|s| s.processor.len())
        .max()
        .unwrap_or(0);
    for step in &plan.steps {
        let note = mode_note(step);
        writeln!(
            out,
            "  {:>3}  {:<6}  {:<width$}  {:<22}  {:<28}  {} pair{}{}{}",
            step.number,
            step.mode.as_str(),
            step.processor,
            span(step.first, step.last),
            step.action.as_str(),
            step.rows.len(),
            plural(step.rows.len()),
            if note.is_empty() { "" } else { "  " },
            note,
        )?;
    }
    if plan.unknown_not_started > 0 {
        writeln!(
            out,
            "{} date{} a crashed run never reached: the log does not say which; re-run the driver script",
            plan.unknown_not_started,
            plural(plan.unknown_not_started as usize)
        )?;
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Whether `--format events` prints this event: it matched a rule or is a failure.
pub fn is_reported(event: &Event) -> bool {
    event.failure || event.rule.is_some()
}

pub fn write_event(
    out: &mut dyn Write,
    file: &str,
    event: &Event,
    classifier: &Classifier,
) -> io::Result<()> {
    let line = EventLine {
        file,
        line: event.line,
        offset: event.offset,
        severity: event.level.map(|l| l.as_str()),
        failure: event.failure,
        category: (event.failure || event.rule.is_some()).then(|| classifier.category(event.rule)),
        rule: classifier.rule_id(event.rule),
        dates: &event.dates,
        processor: event.processor.map(|p| classifier.processors().name(p)),
        text: &event.text,
    };
    serde_json::to_writer(&mut *out, &line).map_err(io::Error::from)?;
    out.write_all(b"\n")
}
