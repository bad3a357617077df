//! Accuracy on real lines: every line of `tests/corpus/real-lines.tsv` (lines real software printed,
//! labelled by the playbook's categories) goes through the built binary, and the category it gets is
//! compared with its label. The confusion matrix is printed (`cargo test -- --nocapture`) and is
//! part of the failure message.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::helpers::{root, run, tempdir};

const CORPUS: &str = "tests/corpus/real-lines.tsv";
const NOT_AN_ERROR: &str = "not_an_error";
/// Row order of the matrix: the labels a corpus line may carry.
const LABELS: [&str; 6] = [
    "script_infrastructure",
    "data_availability",
    "processing_error",
    "resource_exhaustion",
    "defensive_check",
    NOT_AN_ERROR,
];
const MIN_OVERALL: f64 = 0.95;
const MIN_PER_CATEGORY: f64 = 0.90;

struct Labelled {
    label: String,
    line: String,
}

fn read_corpus() -> Vec<Labelled> {
    let text = std::fs::read_to_string(root().join(CORPUS)).expect("the corpus is readable");
    let mut rows = text.lines();
    assert_eq!(
        rows.next(),
        Some("category\tline\tsource"),
        "{CORPUS}: header"
    );
    rows.enumerate()
        .map(|(i, row)| {
            let fields: Vec<&str> = row.split('\t').collect();
            let [label, line, source] = fields[..] else {
                panic!("{CORPUS}:{}: expected 3 tab-separated fields: {row}", i + 2);
            };
            assert!(
                LABELS.contains(&label),
                "{CORPUS}:{}: unknown category {label}",
                i + 2
            );
            assert!(
                !line.trim().is_empty() && !source.trim().is_empty(),
                "{CORPUS}:{}: empty line or source",
                i + 2
            );
            Labelled {
                label: label.to_string(),
                line: line.to_string(),
            }
        })
        .collect()
}

/// What the scanner made of each corpus line, by line number: a line without an event, or whose
/// event is not a failure, is not an error.
fn predictions(corpus: &[Labelled]) -> Vec<String> {
    let dir = tempdir();
    let log = dir.path().join("real-lines.log");
    let mut text = String::new();
    for row in corpus {
        text.push_str(&row.line);
        text.push('\n');
    }
    std::fs::write(&log, text).expect("temp log written");
    let run = run(
        &[
            "scan",
            log.to_str().expect("temp path is UTF-8"),
            "-f",
            "events",
            "--quiet",
        ],
        None,
    )
    .success();
    let mut got = vec![NOT_AN_ERROR.to_string(); corpus.len()];
    for event in run.stdout().lines() {
        let event: serde_json::Value = serde_json::from_str(event)
            .unwrap_or_else(|e| panic!("event is not JSON ({e}): {event}\n{}", run.report()));
        let line = event["line"].as_u64().expect("events carry a line number") as usize;
        assert!(
            (1..=corpus.len()).contains(&line),
            "event for line {line} of a {}-line log",
            corpus.len()
        );
        if event["failure"] == serde_json::Value::Bool(true) {
            got[line - 1] = event["category"]
                .as_str()
                .expect("failures carry a category")
                .to_string();
        }
    }
    got
}

#[test]
fn real_lines_land_in_their_playbook_category() {
    let corpus = read_corpus();
    assert!(
        corpus.len() >= 400,
        "{CORPUS} has only {} lines",
        corpus.len()
    );
    let got = predictions(&corpus);

    // (label, prediction) -> count; predictions may also be `uncategorized`.
    let mut matrix: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut columns: Vec<&str> = LABELS.to_vec();
    columns.insert(LABELS.len() - 1, "uncategorized");
    let mut misses = String::new();
    for (i, (row, got)) in corpus.iter().zip(&got).enumerate() {
        *matrix
            .entry((row.label.as_str(), got.as_str()))
            .or_default() += 1;
        if row.label != *got {
            let _ = writeln!(
                misses,
                "  line {:>3}: {} -> {}: {}",
                i + 1,
                row.label,
                got,
                row.line
            );
        }
    }

    let short = |c: &str| {
        c.split('_')
            .next()
            .unwrap_or(c)
            .chars()
            .take(7)
            .collect::<String>()
    };
    let mut report = format!(
        "{CORPUS}: {} lines (rows: label, columns: what the scanner said)\n{:<22}",
        corpus.len(),
        ""
    );
    for c in &columns {
        let _ = write!(report, "{:>8}", short(c));
    }
    let _ = writeln!(report, "{:>9}", "accuracy");
    let mut failing = Vec::new();
    let mut right = 0;
    for label in LABELS {
        let _ = write!(report, "{label:<22}");
        let mut total = 0;
        for c in &columns {
            let n = matrix.get(&(label, c)).copied().unwrap_or(0);
            total += n;
            let _ = write!(report, "{n:>8}");
        }
        let hits = matrix.get(&(label, label)).copied().unwrap_or(0);
        right += hits;
        let accuracy = hits as f64 / total.max(1) as f64;
        let _ = writeln!(report, "{accuracy:>9.3}");
        if total == 0 || accuracy < MIN_PER_CATEGORY {
            failing.push(format!("{label} {accuracy:.3} < {MIN_PER_CATEGORY}"));
        }
    }
    let overall = right as f64 / corpus.len() as f64;
    let _ = writeln!(report, "overall {overall:.3} ({right}/{})", corpus.len());
    if overall < MIN_OVERALL {
        failing.push(format!("overall {overall:.3} < {MIN_OVERALL}"));
    }
    if !misses.is_empty() {
        let _ = write!(report, "misclassified:\n{misses}");
    }
    println!("{report}");
    assert!(failing.is_empty(), "{}\n{report}", failing.join(", "));
}
