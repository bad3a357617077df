//! `diff`: what a retry round changed. Owns the comparison of two manifests' retry rows per
//! (date, processor): `fixed` (in OLD, not in NEW), `still_failing` (in both; a changed category
//! or action is shown), `new` (only in NEW), and its three outputs: a summary for people, TSV and
//! JSON.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use serde::Serialize;

use crate::category::Category;
use crate::date::Date;
use crate::manifest::{Manifest, Retry};
use crate::output::{csv_err, csv_writer, field};

/// What happened to a pair between two manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fixed,
    StillFailing,
    New,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Fixed, Status::StillFailing, Status::New];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fixed => "fixed",
            Status::StillFailing => "still_failing",
            Status::New => "new",
        }
    }
}

/// One pair of either manifest.
#[derive(Debug, Clone, Serialize)]
pub struct Change<'a> {
    pub status: Status,
    pub date: Date,
    pub processor: &'a str,
    /// Its row in OLD (null for `new`).
    pub old: Option<&'a Retry>,
    /// Its row in NEW (null for `fixed`).
    pub new: Option<&'a Retry>,
}

impl Change<'_> {
    /// The row as last seen: NEW's, or OLD's for a fixed pair.
    pub fn latest(&self) -> &Retry {
        self.new.or(self.old).expect("a change has a row")
    }

    /// The category it is counted under: the latest row's.
    pub fn category(&self) -> Category {
        self.latest().category
    }
}

/// Every pair of OLD and NEW, by status, then date, then manifest order.
#[derive(Debug, Clone)]
pub struct Diff<'a> {
    pub changes: Vec<Change<'a>>,
}

pub fn diff<'a>(old: &'a Manifest, new: &'a Manifest) -> Diff<'a> {
    let key = |r: &'a Retry| (r.date, r.processor.as_str());
    let in_new: HashMap<(Date, &str), &Retry> = new.retries.iter().map(|r| (key(r), r)).collect();
    let in_old: HashMap<(Date, &str), &Retry> = old.retries.iter().map(|r| (key(r), r)).collect();
    let mut changes: Vec<(usize, Change<'a>)> = Vec::new();
    for (i, r) in old.retries.iter().enumerate() {
        let new_row = in_new.get(&key(r)).copied();
        changes.push((
            i,
            Change {
                status: if new_row.is_some() {
                    Status::StillFailing
                } else {
                    Status::Fixed
                },
                date: r.date,
                processor: &r.processor,
                old: Some(r),
                new: new_row,
            },
        ));
    }
    for (i, r) in new.retries.iter().enumerate() {
        if !in_old.contains_key(&key(r)) {
            changes.push((
                i,
                Change {
                    status: Status::New,
                    date: r.date,
                    processor: &r.processor,
                    old: None,
                    new: Some(r),
                },
            ));
        }
    }
    changes.sort_by_key(|(i, c)| (c.status, c.date, *i));
    Diff {
        changes: changes.into_iter().map(|(_, c)| c).collect(),
    }
}

impl Diff<'_> {
    /// Whether anything is still failing or new (`--exit-code`).
    pub fn remains(&self) -> bool {
        self.changes.iter().any(|c| c.status != Status::Fixed)
    }

    pub fn count(&self, status: Status) -> usize {
        self.changes.iter().filter(|c| c.status == status).count()
    }

    /// Per category (every category, zero or not), the count of each status.
    pub fn by_category(&self) -> BTreeMap<Category, BTreeMap<Status, usize>> {
        let mut out: BTreeMap<Category, BTreeMap<Status, usize>> = Category::ALL
            .iter()
            .map(|&c| (c, Status::ALL.iter().map(|&s| (s, 0)).collect()))
            .collect();
        for c in &self.changes {
            *out.entry(c.category())
                .or_default()
                .entry(c.status)
                .or_default() += 1;
        }
        out
    }
}

/// The columns of `diff -f tsv`, a contract for scripts. `category`, `action`, `reason`,
/// `failures`, `file`, `line` and `error` are the pair's row in NEW (in OLD for `fixed`);
/// `old_category` and `old_action` its row in OLD (`-` for `new`). No field is empty but the last.
pub const COLUMNS: [&str; 12] = [
    "status",
    "date",
    "processor",
    "category",
    "old_category",
    "action",
    "old_action",
    "reason",
    "failures",
    "file",
    "line",
    "error",
];

pub fn write_tsv(out: &mut dyn Write, diff: &Diff) -> io::Result<()> {
    let mut w = csv_writer(out, b'\t');
    w.write_record(COLUMNS).map_err(csv_err)?;
    for c in &diff.changes {
        let r = c.latest();
        let file = field(&r.file);
        w.write_record([
            c.status.as_str(),
            &c.date.to_string(),
            &field(c.processor),
            r.category.as_str(),
            c.old.map_or("-", |o| o.category.as_str()),
            r.action.as_str(),
            c.old.map_or("-", |o| o.action.as_str()),
            r.reason.as_str(),
            &r.failures.to_string(),
            if file.is_empty() { "-" } else { &file },
            &r.line.to_string(),
            &field(&r.error),
        ])
        .map_err(csv_err)?;
    }
    w.flush()
}

#[derive(Serialize)]
struct Document<'a> {
    old: &'a str,
    new: &'a str,
    counts: BTreeMap<Status, usize>,
    by_category: BTreeMap<Category, BTreeMap<Status, usize>>,
    pairs: &'a [Change<'a>],
}

pub fn write_json(out: &mut dyn Write, old: &str, new: &str, diff: &Diff) -> io::Result<()> {
    let doc = Document {
        old,
        new,
        counts: Status::ALL.iter().map(|&s| (s, diff.count(s))).collect(),
        by_category: diff.by_category(),
        pairs: &diff.changes,
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// For people: the counts per status and per category, then the pairs of each status.
pub fn write_summary(out: &mut dyn Write, old: &str, new: &str, diff: &Diff) -> io::Result<()> {
    writeln!(
        out,
        "{} -> {}: {} fixed, {} still failing, {} new",
        field(old),
        field(new),
        diff.count(Status::Fixed),
        diff.count(Status::StillFailing),
        diff.count(Status::New)
    )?;
    let by_category = diff.by_category();
    let width = Category::ALL
        .iter()
        .map(|c| c.as_str().len())
        .max()
        .unwrap_or(0);
    if !diff.changes.is_empty() {
        writeln!(
            out,
            "  {:<width$}  {:>5}  {:>13}  {:>3}",
            "category", "fixed", "still_failing", "new"
        )?;
    }
    for (category, counts) in &by_category {
        if counts.values().all(|&n| n == 0) {
            continue;
        }
        writeln!(
            out,
            "  {:<width$}  {:>5}  {:>13}  {:>3}",
            category.as_str(),
            counts[&Status::Fixed],
            counts[&Status::StillFailing],
            counts[&Status::New]
        )?;
    }
    let name_width = diff
        .changes
        .iter()
        .map(|c| c.processor.len())
        .max()
        .unwrap_or(0);
    for status in Status::ALL {
        let rows: Vec<&Change> = diff.changes.iter().filter(|c| c.status == status).collect();
        if rows.is_empty() {
            continue;
        }
        writeln!(out, "\n{}", status.as_str().replace('_', " "))?;
        for c in rows {
            let r = c.latest();
            let mut note = format!("{} {}", r.category, r.reason);
            if let (Some(o), Some(n)) = (c.old, c.new) {
                if o.category != n.category {
                    note = format!("{} {} (was {})", n.category, n.reason, o.category);
                }
                if o.action != n.action {
                    note.push_str(&format!(", {} (was {})", n.action, o.action));
                }
            }
            if r.failures > 1 {
                note.push_str(&format!(", {} failures", r.failures));
            }
            writeln!(
                out,
                "  {}  {:<name_width$}  {}  {}:{}",
                c.date,
                field(c.processor),
                note,
                field(&r.file),
                r.line
            )?;
        }
    }
    Ok(())
}
