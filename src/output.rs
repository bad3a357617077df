//! Everything the tool writes: the JSON manifest (to a file, atomically, or to stdout), the retry
//! rows as CSV/TSV, the ready shell commands, and the NDJSON events stream.

use std::io::{self, Write};
use std::path::Path;

use crate::classify::{Classifier, Event};
use crate::date::Date;
use crate::manifest::{EventLine, InputStats, Manifest, Reason, Retry, Tool, SCHEMA_VERSION};
use crate::triage::Report;

/// The manifest document of a finished scan.
pub fn manifest(inputs: &[InputStats], report: &Report) -> Manifest {
    Manifest {
        schema_version: SCHEMA_VERSION,
        tool: Tool::this(),
        inputs: inputs.to_vec(),
        runs: report.runs.clone(),
        summary: report.summary.clone(),
        retries: report
            .retries
            .iter()
            .map(|r| Retry {
                command: command(r),
                ..r.clone()
            })
            .collect(),
        unattributed: report.unattributed.clone(),
        succeeded: report.succeeded.clone(),
        completeness: report.completeness.clone(),
    }
}

pub fn manifest_json(manifest: &Manifest) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(manifest).expect("the manifest serialises");
    out.push(b'\n');
    out
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename: readers see
/// the old manifest or the new one, never a part, whatever happens meanwhile. A symbolic link is
/// followed (its target is replaced, not the link). A path that is not a regular file (a device or a
/// pipe, `/dev/stdout`) cannot be renamed over and is written directly.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let target = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    if std::fs::metadata(&target).is_ok_and(|m| !m.is_file()) {
        let mut file = std::fs::OpenOptions::new().write(true).open(&target)?;
        return file.write_all(bytes).and_then(|()| file.flush());
    }
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".backfill-triage-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}

const COLUMNS: [&str; 10] = [
    "date",
    "processor",
    "category",
    "action",
    "reason",
    "failures",
    "blocked_by",
    "file",
    "line",
    "error",
];

/// The retry rows with a header; `delimiter` is `,` (RFC 4180 quoting) or `\t` (no quoting: the
/// cleaned text holds no tabs or newlines).
pub fn write_rows(out: &mut dyn Write, retries: &[Retry], delimiter: u8) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .quote_style(if delimiter == b'\t' {
            csv::QuoteStyle::Never
        } else {
            csv::QuoteStyle::Necessary
        })
        .from_writer(out);
    let csv_err = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    };
    w.write_record(COLUMNS).map_err(csv_err)?;
    for r in retries {
        w.write_record([
            r.date.to_string().as_str(),
            &r.processor,
            r.category.as_str(),
            r.action.as_str(),
            r.reason.as_str(),
            &r.failures.to_string(),
            &join_dates(&r.blocked_by),
            &r.file,
            &r.line.to_string(),
            &r.error,
        ])
        .map_err(csv_err)?;
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

/// The playbook's retry command for one row.
pub fn command(r: &Retry) -> String {
    format!(
        "./bin/run_backfill.sh {}/{} --start-date={} --end-date={} --skip-downstream-trigger=true",
        r.phase, r.processor, r.date, r.date
    )
}

/// A shell script that replays the playbook's recovery for every row, in manifest order (gaps
/// before what they block). Rows whose action needs a person first (fix code, backfill upstream,
/// investigate) are written commented out, so running the script retries only what can succeed.
pub fn write_commands(out: &mut dyn Write, retries: &[Retry]) -> io::Result<()> {
    writeln!(out, "#!/usr/bin/env bash")?;
    writeln!(
        out,
        "# Retry plan from backfill-triage: {} (date, processor) pairs.",
        retries.len()
    )?;
    writeln!(out, "set -u")?;
    let mut last_action = None;
    for r in retries {
        let ready = r.action.scriptable();
        if Some(r.action) != last_action && r.category.info().backoff_secs.is_some() {
            writeln!(
                out,
                "sleep 30  # rerun_with_backoff: let quotas and timeouts recover"
            )?;
        }
        last_action = Some(r.action);
        let note = match r.reason {
            Reason::Gap => "gap: fill before the dates it blocks".to_string(),
            Reason::Failed if !r.blocked_by.is_empty() => {
                format!("blocked by {}", join_dates(&r.blocked_by))
            }
            _ => format!("{} {}", r.reason.as_str(), r.category),
        };
        writeln!(
            out,
            "{}{}  # {}{}",
            if ready { "" } else { "# " },
            command(r),
            note,
            if ready {
                String::new()
            } else {
                format!("; first: {}", r.action)
            },
        )?;
    }
    Ok(())
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
