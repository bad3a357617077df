//! The last step of the fold: every pair's final state becomes a retry row (or none), gap dates
//! become gap rows, the run history and the expected dates are merged in ([`crate::completeness`]),
//! and then, once, the summary is counted from the rows.

use std::collections::BTreeMap;

use crate::category::Category;
use crate::classify::Classifier;
use crate::completeness;
use crate::manifest::{DateRun, Reason, Retry, Run, Summary};
use crate::processors::{ProcessorId, DEFAULT_PHASE};

use super::attempts::{State, Table};
use super::tallies::Tallies;
use super::{At, Outcome, PairOutcome, Report};

pub fn build(
    classifier: &Classifier,
    files: &[String],
    phases: &[String],
    table: &Table,
    runs: Vec<Run>,
    tallies: &Tallies,
    extra: Option<&completeness::Inputs>,
) -> Report {
    let names = classifier.processors();
    let file = |at: At| files.get(at.file as usize).cloned().unwrap_or_default();
    let phase = |p: Option<u16>| {
        p.and_then(|i| phases.get(usize::from(i)))
            .map_or(DEFAULT_PHASE, String::as_str)
            .to_string()
    };
    let row = |date, p: ProcessorId, category: Category, reason, (at, error): (At, String)| Retry {
        error,
        file: file(at),
        line: at.line,
        ..Retry::new(date, names.name(p), category, reason)
    };
    let mut retries = Vec::new();
    let mut pairs = Vec::with_capacity(table.pairs.len());
    for (&(date, p), pair) in &table.pairs {
        let state = match pair.state {
            State::Succeeded => Outcome::Succeeded,
            State::Skipped => Outcome::Skipped,
            State::Failed => Outcome::Failed,
            State::Interrupted => Outcome::Interrupted,
            State::NotStarted => Outcome::NotStarted,
            State::Open => continue,
        };
        pairs.push(PairOutcome {
            date,
            processor: p,
            state,
            time: pair.time,
        });
    }
    let mut gaps: BTreeMap<(crate::date::Date, ProcessorId), (At, String)> = BTreeMap::new();
    for (&(date, p), pair) in &table.pairs {
        let mut r = match pair.state {
            State::Failed => {
                let (category, evidence, rule) = match &pair.cause {
                    Some(c) => (c.category, (c.at, c.text.to_string()), c.rule),
                    None => (
                        Category::Uncategorized,
                        (At { file: 0, line: 0 }, String::new()),
                        None,
                    ),
                };
                let mut r = row(date, p, category, Reason::Failed, evidence);
                r.rule = classifier.rule_id(rule).map(str::to_string);
                r.silent = pair.silent;
                r
            }
            State::Interrupted | State::NotStarted => {
                let reason = if pair.state == State::Interrupted {
                    Reason::Interrupted
                } else {
                    Reason::NotStarted
                };
                let evidence = pair
                    .cut
                    .clone()
                    .unwrap_or((At { file: 0, line: 0 }, String::new()));
                row(date, p, Category::CUT, reason, evidence)
            }
            State::Open | State::Succeeded | State::Skipped => continue,
        };
        r.phase = phase(pair.phase);
        r.failures = pair.failed;
        if r.category == Category::DefensiveCheck {
            let mut blocked_by = pair.gaps.clone();
            blocked_by.sort_unstable();
            blocked_by.dedup();
            let gap_line = pair.gap_line.clone().unwrap_or((
                At {
                    file: 0,
                    line: r.line,
                },
                r.error.clone(),
            ));
            for &gap in &blocked_by {
                for q in ProcessorId::all(names.len()) {
                    if !table.pairs.contains_key(&(gap, q)) {
                        gaps.entry((gap, q)).or_insert_with(|| gap_line.clone());
                    }
                }
            }
            r.blocked_by = blocked_by;
        }
        retries.push(r);
    }
    retries.extend(gaps.into_iter().map(|((date, p), evidence)| {
        row(date, p, Category::DefensiveCheck, Reason::Gap, evidence)
    }));
    let completeness = extra.map(|inputs| {
        // Each processor's phase as the logs last showed it, for the rows the merge adds.
        let mut last_phase = vec![None; names.len()];
        for (&(_, p), pair) in &table.pairs {
            if pair.phase.is_some() {
                last_phase[p.index()] = Some(phase(pair.phase));
            }
        }
        completeness::merge(inputs, classifier, &mut pairs, &mut retries, &last_phase)
    });
    let order = |r: &Retry| (r.date, names.names().iter().position(|n| *n == r.processor));
    retries.sort_by_key(order);
    let mut succeeded: BTreeMap<String, Vec<crate::date::Date>> = BTreeMap::new();
    for pair in &pairs {
        if matches!(pair.state, Outcome::Succeeded | Outcome::Skipped) {
            succeeded
                .entry(names.name(pair.processor).to_string())
                .or_default()
                .push(pair.date);
        }
    }

    let counts = table.counts;
    let mut summary = Summary {
        attempts: counts.attempts,
        succeeded: counts.succeeded,
        failed: counts.failed,
        interrupted: counts.interrupted,
        failure_lines: tallies.failure_lines,
        retries: retries.len() as u64,
        gaps: retries.iter().filter(|r| r.reason == Reason::Gap).count() as u64,
        silent: retries.iter().filter(|r| r.silent).count() as u64,
        not_started: runs.iter().map(|r| u64::from(r.not_started)).sum(),
        unattributed: tallies.unattributed_count,
        ..Summary::default()
    };
    for c in Category::ALL {
        summary.by_category.insert(c, 0);
    }
    for r in &retries {
        *summary.by_category.entry(r.category).or_default() += 1;
        *summary.by_processor.entry(r.processor.clone()).or_default() += 1;
    }
    Report {
        runs: runs.into(),
        summary,
        retries,
        unattributed: tallies.unattributed.clone(),
        top_errors: tallies.top(files),
        succeeded: succeeded
            .into_iter()
            .map(|(p, dates)| (p, DateRun::compact(dates)))
            .collect(),
        pairs,
        processors: names.names().to_vec(),
        completeness,
    }
}
