//! The other stdout formats: summary, CSV, TSV, events and commands, each compared whole.

use crate::helpers::{assert_golden, root, run};

fn golden(args: &[&str], file: &str) {
    let run = run(args, None).success();
    assert_golden(&root().join("tests/golden").join(file), &run.stdout(), &run);
}

#[test]
fn summary_of_the_sample() {
    golden(
        &["scan", "fixtures/sample.log", "--quiet"],
        "sample.summary.txt",
    );
}

#[test]
fn csv_of_the_gap_scenario() {
    golden(
        &["scan", "fixtures/scenario3_gap.log", "-f", "csv"],
        "scenario3_gap.csv",
    );
}

#[test]
fn tsv_of_the_sample() {
    golden(&["scan", "fixtures/sample.log", "-f", "tsv"], "sample.tsv");
}

#[test]
fn events_of_the_timeout_scenario() {
    golden(
        &[
            "scan",
            "fixtures/scenario4_query_timeout.log",
            "-f",
            "events",
        ],
        "scenario4_query_timeout.events.ndjson",
    );
}

#[test]
fn events_are_one_json_object_per_line_with_the_documented_fields() {
    let run = run(&["scan", "fixtures/sample.log", "-f", "events"], None).success();
    let mut failures = 0;
    for line in run.stdout().lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for key in [
            "file",
            "line",
            "offset",
            "severity",
            "failure",
            "category",
            "rule",
            "dates",
            "processor",
            "text",
        ] {
            assert!(v.get(key).is_some(), "missing {key}: {line}");
        }
        failures += usize::from(v["failure"] == true);
    }
    assert!(failures > 10, "{}", run.report());
}

#[test]
fn commands_of_the_sample() {
    golden(
        &["scan", "fixtures/sample.log", "-f", "commands"],
        "sample.commands.sh",
    );
}

#[test]
fn commands_are_valid_bash() {
    let run = run(&["scan", "fixtures/sample.log", "-f", "commands"], None).success();
    let dir = crate::helpers::tempdir();
    let script = dir.path().join("retry.sh");
    std::fs::write(&script, run.stdout()).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn the_summary_lists_escalated_rows_under_investigate() {
    let r = run(
        &[
            "scan",
            "fixtures/sample.log",
            "--max-failures",
            "2",
            "--color",
            "never",
            "-q",
        ],
        None,
    )
    .success();
    let out = r.stdout();
    let investigate = out
        .lines()
        .skip_while(|l| !l.starts_with("  investigate"))
        .take(2)
        .collect::<Vec<_>>();
    assert_eq!(investigate.len(), 2, "{}", r.report());
    assert!(
        investigate[1].contains("2024-01-09 team_defense_game_summary")
            && investigate[1].contains("(data_availability, failed 2 times)"),
        "{}",
        r.report()
    );
}
