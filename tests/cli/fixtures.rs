//! The playbook scenarios: each fixture log's whole manifest against its golden file, and its retry
//! rows against the truth worked out by hand (fixtures/README.md says why each truth is what it is).

use crate::helpers::{assert_golden, assert_text, root, run, tempdir};

const FIXTURES: [&str; 8] = [
    "scenario1_crash",
    "scenario2_missing_data",
    "scenario3_gap",
    "scenario4_query_timeout",
    "scenario5_multi_processor",
    "scenario6_completed_with_failures",
    "multi_run",
    "sample",
];

/// The manifest's retries in the truth files' columns.
pub fn truth_columns(manifest: &serde_json::Value) -> String {
    let mut out = String::from("date\tprocessor\tcategory\treason\tblocked_by\n");
    for r in manifest["retries"].as_array().expect("retries is an array") {
        let blocked: Vec<&str> = r["blocked_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            r["date"].as_str().unwrap(),
            r["processor"].as_str().unwrap(),
            r["category"].as_str().unwrap(),
            r["reason"].as_str().unwrap(),
            blocked.join(",")
        ));
    }
    out
}

fn check(name: &str) {
    let dir = tempdir();
    let manifest_path = dir.path().join("manifest.json");
    let log = format!("fixtures/{name}.log");
    let run = run(
        &[
            "scan",
            &log,
            "--manifest",
            manifest_path.to_str().unwrap(),
            "--format",
            "json",
            "--quiet",
        ],
        None,
    )
    .success();
    let written = std::fs::read_to_string(&manifest_path).expect("manifest written");
    assert_text(
        &written,
        &run.stdout(),
        "--format json vs the --manifest file",
        Some(&run),
    );
    assert_golden(
        &root().join(format!("fixtures/{name}.manifest.json")),
        &written,
        &run,
    );

    let manifest: serde_json::Value = serde_json::from_str(&written).expect("the manifest is JSON");
    let truth = std::fs::read_to_string(root().join(format!("fixtures/{name}.truth.tsv")))
        .expect("truth file");
    assert_text(
        &truth,
        &truth_columns(&manifest),
        &format!("{name}: retries vs the hand-made truth"),
        Some(&run),
    );
}

#[test]
fn scenario1_crash_interrupts_the_open_attempt_and_the_untried_processors() {
    check(FIXTURES[0]);
}

#[test]
fn scenario2_missing_phase2_data_is_data_availability() {
    check(FIXTURES[1]);
}

#[test]
fn scenario3_defensive_check_blocks_and_adds_gap_rows() {
    check(FIXTURES[2]);
}

#[test]
fn scenario4_query_timeout_beats_the_wrapper_and_a_retried_timeout_is_no_failure() {
    check(FIXTURES[3]);
}

#[test]
fn scenario5_only_the_failed_processors_are_retried() {
    check(FIXTURES[4]);
}

#[test]
fn scenario6_a_completed_run_still_reports_buried_failures() {
    check(FIXTURES[5]);
}

#[test]
fn multi_run_the_last_attempt_of_a_pair_wins() {
    check(FIXTURES[6]);
}

#[test]
fn sample_log() {
    check(FIXTURES[7]);
}

#[test]
fn several_logs_are_one_history_in_the_order_given() {
    // multi_run's runs, split across three files, give the same retries as the whole file.
    let whole = std::fs::read_to_string(root().join("fixtures/multi_run.log")).unwrap();
    let lines: Vec<&str> = whole.lines().collect();
    let dir = tempdir();
    let parts = [&lines[..50], &lines[50..100], &lines[100..]];
    let mut paths = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let p = dir.path().join(format!("part{i}.log"));
        std::fs::write(&p, part.join("\n") + "\n").unwrap();
        paths.push(p.to_str().unwrap().to_string());
    }
    let mut args = vec!["scan", "--format", "json", "--quiet"];
    args.extend(paths.iter().map(String::as_str));
    let split = run(&args, None).success();
    let manifest: serde_json::Value = serde_json::from_str(&split.stdout()).unwrap();
    let truth = std::fs::read_to_string(root().join("fixtures/multi_run.truth.tsv")).unwrap();
    assert_text(
        &truth,
        &truth_columns(&manifest),
        "split multi_run",
        Some(&split),
    );
    assert_eq!(manifest["inputs"].as_array().unwrap().len(), 3);
}
