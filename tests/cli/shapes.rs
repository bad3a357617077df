//! The log-shapes corpus (fixtures/shapes/): small hand-made logs in every format and shape the
//! attempt model covers, each with its retry rows worked out by hand before the tool ran on it.
//! One test runs them all and prints a diff for every shape that disagrees.

use std::fmt::Write as _;

use crate::helpers::{root, run};

/// The manifest's rows and run facts in the columns of `NAME.expected.tsv`, keeping only the `#@`
/// checks the expectation asks for.
fn actual(manifest: &serde_json::Value, checks: &[&str]) -> String {
    let mut out = String::new();
    for check in checks {
        let key = check.split(':').next().unwrap_or_default();
        let value = match key {
            "#@ runs" => manifest["runs"]
                .as_array()
                .expect("runs")
                .iter()
                .map(
                    |r| match (r["completed"].as_bool(), r["crashed"].as_bool()) {
                        (Some(true), _) => "completed",
                        (_, Some(true)) => "crashed",
                        _ => "open",
                    },
                )
                .collect::<Vec<_>>()
                .join(" "),
            "#@ not_started" => manifest["summary"]["not_started"].to_string(),
            "#@ unattributed" => manifest["summary"]["unattributed"].to_string(),
            other => panic!("unknown check {other:?}"),
        };
        writeln!(out, "{key}: {value}").unwrap();
    }
    out.push_str("date\tprocessor\tphase\tcategory\treason\tsilent\tfailures\tblocked_by\tline\n");
    for r in manifest["retries"].as_array().expect("retries") {
        let blocked: Vec<&str> = r["blocked_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r["date"].as_str().unwrap(),
            r["processor"].as_str().unwrap(),
            r["phase"].as_str().unwrap(),
            r["category"].as_str().unwrap(),
            r["reason"].as_str().unwrap(),
            r["silent"],
            r["failures"],
            blocked.join(","),
            r["line"],
        )
        .unwrap();
    }
    out
}

/// `#@ key: value` lines written as `#@ key: value` with single spaces, for comparison.
fn normalise(expected: &str) -> String {
    expected
        .lines()
        .map(|l| {
            if l.starts_with("#@") {
                let (k, v) = l.split_once(':').unwrap_or((l, ""));
                format!(
                    "{}: {}",
                    k.trim_end(),
                    v.split_whitespace().collect::<Vec<_>>().join(" ")
                )
                .trim_end()
                .to_string()
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect()
}

/// The shape's diff against its expectation, if any.
fn check_shape(dir: &std::path::Path, name: &str) -> Option<String> {
    let expected = std::fs::read_to_string(dir.join(format!("{name}.expected.tsv")))
        .unwrap_or_else(|e| panic!("{name}.expected.tsv: {e}"));
    let expected = normalise(&expected);
    let checks: Vec<&str> = expected.lines().filter(|l| l.starts_with("#@")).collect();
    let log = format!("fixtures/shapes/{name}.log");
    let result = run(&["scan", &log, "--format", "json", "--quiet"], None);
    if result.code() != Some(0) {
        return Some(format!(
            "{name}: exit {:?}\n{}",
            result.code(),
            result.report()
        ));
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&result.stdout()).expect("the manifest is JSON");
    let got = normalise(&actual(&manifest, &checks));
    (got != expected).then(|| {
        let diff = similar::TextDiff::from_lines(&expected, &got)
            .unified_diff()
            .header("expected", "actual")
            .to_string();
        format!("{name} ({log}):\n{diff}")
    })
}

#[test]
fn every_shape_gives_its_hand_made_rows() {
    let dir = root().join("fixtures/shapes");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures/shapes")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".log").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 40, "the corpus has {} shapes", names.len());
    // Each shape is its own scan: four at a time keep the suite's longest test short.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(name) = names.get(i) else { break };
                if let Some(failure) = check_shape(&dir, name) {
                    failures.lock().unwrap().push(failure);
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} shapes differ from their hand-made rows:\n\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}
