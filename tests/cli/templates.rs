//! `templates`: the unknown failures of a log with three unknown shapes become three templates,
//! and their rule stubs pass `rules --check` once a category is set.

use crate::helpers::{run, tempdir};

const LOG: &str = "fixtures/unknown_failures.log";

#[test]
fn three_unknown_shapes_become_three_templates_most_frequent_first() {
    let run = run(&["templates", LOG], None).success();
    let out = run.stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "3 templates from 7 failure lines that no rule names (of 19 failure lines), most frequent first",
        "{}",
        run.report()
    );
    assert_eq!(
        lines[1],
        "       3x  Roster sync mismatch for team <*> expected <num> players, got <num>",
        "{}",
        run.report()
    );
    assert_eq!(
        lines[2],
        "           fixtures/unknown_failures.log:9, fixtures/unknown_failures.log:27, fixtures/unknown_failures.log:46"
    );
    assert_eq!(
        lines[3],
        "       2x  Pace model drift <num> exceeds tolerance on game <num>"
    );
    assert_eq!(
        lines[5],
        "       2x  Could not reconcile injury feed snapshot <str> with lineup cache"
    );
    assert!(!out.contains("FileNotFoundError"), "{}", run.report());
}

#[test]
fn all_clusters_every_failure_line_with_its_category() {
    let run = run(&["templates", LOG, "--all", "-f", "json"], None).success();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout()).expect("JSON");
    assert_eq!(doc["failure_lines"], 19, "{}", run.report());
    assert_eq!(doc["lines"], 19, "{}", run.report());
    let templates = doc["templates"].as_array().unwrap();
    let find = |prefix: &str| {
        templates
            .iter()
            .find(|t| t["template"].as_str().unwrap().starts_with(prefix))
            .unwrap_or_else(|| panic!("no template {prefix}\n{}", run.report()))
    };
    assert_eq!(find("FileNotFoundError")["category"], "data_availability");
    assert_eq!(find("Processing failed for")["category"], "uncategorized");
    let roster = find("Roster sync");
    assert_eq!(roster["count"], 3);
    assert_eq!(roster["examples"][0]["file"], LOG);
    assert_eq!(roster["examples"][0]["line"], 9);
    assert!(roster["examples"][0]["text"]
        .as_str()
        .unwrap()
        .ends_with("Roster sync mismatch for team LAL: expected 15 players, got 13"));
    // Counts add up to the lines clustered.
    let total: u64 = templates.iter().map(|t| t["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 19);
}

#[test]
fn rule_stubs_pass_rules_check_once_their_category_is_set() {
    let stubs = run(&["templates", LOG, "-f", "toml"], None).success();
    let text = stubs.stdout();
    assert_eq!(text.matches("[[rule]]").count(), 3, "{}", stubs.report());
    assert_eq!(text.matches("category = \"CHOOSE\"").count(), 3);
    assert!(
        text.contains("literals = [\"Roster sync mismatch for team\"]"),
        "{}",
        stubs.report()
    );
    let dir = tempdir();
    let path = dir.path().join("stub.toml");
    std::fs::write(&path, &text).unwrap();
    let unset = run(
        &["rules", "--check", "--rules", path.to_str().unwrap()],
        None,
    )
    .fails_with(2);
    assert!(
        unset.stderr().contains("unknown category 'CHOOSE'"),
        "{}",
        unset.report()
    );

    std::fs::write(&path, text.replace("\"CHOOSE\"", "\"processing_error\"")).unwrap();
    let check = run(
        &["rules", "--check", "--rules", path.to_str().unwrap()],
        None,
    )
    .success();
    assert!(
        check.stdout().trim_end().ends_with(": 0 failed"),
        "{}",
        check.report()
    );

    // With the rules, the unknown failures are named: no template is left and no row is
    // uncategorized.
    let again = run(&["templates", LOG, "--rules", path.to_str().unwrap()], None).success();
    assert!(
        again
            .stdout()
            .starts_with("0 templates from 0 failure lines"),
        "{}",
        again.report()
    );
    let scan = run(
        &["scan", LOG, "-f", "csv", "--rules", path.to_str().unwrap()],
        None,
    )
    .success();
    assert!(
        !scan.stdout().contains("uncategorized"),
        "{}",
        scan.report()
    );
    assert_eq!(
        scan.stdout().matches(",processing_error,").count(),
        7,
        "{}",
        scan.report()
    );
}

#[test]
fn the_template_limit_bounds_what_is_kept_and_counts_the_rest() {
    let run = run(&["templates", LOG, "--max-templates", "1"], None).success();
    let out = run.stdout();
    assert!(
        out.starts_with("1 template from 7 failure lines"),
        "{}",
        run.report()
    );
    assert!(
        out.contains("4 more line(s) fit none of the 1 templates kept (--max-templates)"),
        "{}",
        run.report()
    );
}

#[test]
fn compressed_and_missing_inputs() {
    let dir = tempdir();
    let gz = dir.path().join("unknown.log.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    std::io::Write::write_all(
        &mut encoder,
        &std::fs::read(crate::helpers::root().join(LOG)).unwrap(),
    )
    .unwrap();
    encoder.finish().unwrap();
    let plain = run(&["templates", LOG], None).success();
    let packed = run(&["templates", gz.to_str().unwrap()], None).success();
    assert_eq!(
        packed.stdout().replace(gz.to_str().unwrap(), LOG),
        plain.stdout(),
        "{}",
        packed.report()
    );
    let missing = run(&["templates", "no-such.log", LOG], None).fails_with(2);
    assert!(
        missing.stderr().contains("no-such.log"),
        "{}",
        missing.report()
    );
    let skipped = run(&["templates", "no-such.log", LOG, "--keep-going"], None).fails_with(3);
    assert!(
        skipped.stderr().contains("no-such.log"),
        "{}",
        skipped.report()
    );
    assert!(
        skipped.stdout().starts_with("3 templates"),
        "{}",
        skipped.report()
    );
}
