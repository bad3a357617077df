//! Rule files: the built-in rules' examples, user rules layered over them, and rule-file errors.

use crate::helpers::{run, tempdir};

#[test]
fn every_builtin_rule_example_and_counter_example_holds() {
    let run = run(&["rules", "--check"], None).success();
    let last = run.stdout().lines().last().unwrap_or_default().to_string();
    assert!(last.ends_with(": 0 failed"), "{}", run.report());
}

#[test]
fn rules_lists_every_rule_with_its_origin() {
    let run = run(&["rules"], None).success();
    assert!(run.stdout().lines().count() > 50, "{}", run.report());
    assert!(
        run.stdout().contains("patterns/resource_exhaustion.toml:"),
        "{}",
        run.report()
    );
}

#[test]
fn check_reports_a_user_rule_whose_example_fails() {
    let dir = tempdir();
    let path = dir.path().join("mine.toml");
    std::fs::write(
        &path,
        "[[rule]]\nid = \"team-context\"\ncategory = \"processing_error\"\nliterals = [\"building team context\"]\n\
         examples = [\"ERROR - x - Error building team context\", \"INFO - x - building team context\"]\n",
    )
    .unwrap();
    let run = run(
        &["rules", "--check", "--rules", path.to_str().unwrap()],
        None,
    )
    .fails_with(1);
    assert!(
        run.stdout().contains("FAIL team-context"),
        "{}",
        run.report()
    );
    assert!(run.stdout().contains("1 failed"), "{}", run.report());
}

#[test]
fn a_user_rule_names_a_failure_the_builtins_leave_uncategorized() {
    let base = run(&["scan", "fixtures/sample.log", "-f", "events"], None).success();
    let hit = base
        .stdout()
        .lines()
        .find(|l| l.contains("Error building team context"))
        .map(str::to_string);
    assert!(
        hit.unwrap_or_default()
            .contains("\"category\":\"uncategorized\""),
        "{}",
        base.report()
    );
    let dir = tempdir();
    let path = dir.path().join("mine.toml");
    std::fs::write(
        &path,
        "[[rule]]\nid = \"team-context\"\ncategory = \"processing_error\"\npriority = 60\nliterals = [\"building team context\"]\n",
    )
    .unwrap();
    let run = run(
        &[
            "scan",
            "fixtures/sample.log",
            "-f",
            "events",
            "--rules",
            path.to_str().unwrap(),
        ],
        None,
    )
    .success();
    let hit = run
        .stdout()
        .lines()
        .find(|l| l.contains("Error building team context"))
        .map(str::to_string)
        .unwrap_or_default();
    assert!(
        hit.contains("\"rule\":\"team-context\"")
            && hit.contains("\"category\":\"processing_error\""),
        "{}",
        run.report()
    );
}

#[test]
fn a_user_rule_with_the_same_id_replaces_the_builtin() {
    let listed = run(&["rules"], None).success().stdout();
    let id = listed
        .lines()
        .find(|l| l.contains("resource_exhaustion"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let dir = tempdir();
    let path = dir.path().join("over.toml");
    std::fs::write(
        &path,
        format!(
            "[[rule]]\nid = \"{id}\"\ncategory = \"uncategorized\"\nliterals = [\"zzzz never\"]\n"
        ),
    )
    .unwrap();
    let run = run(&["rules", "--rules", path.to_str().unwrap()], None).success();
    let line = run
        .stdout()
        .lines()
        .find(|l| l.starts_with(&format!("{id} ")))
        .unwrap()
        .to_string();
    assert!(
        line.contains("uncategorized") && line.contains("over.toml:1"),
        "{}",
        run.report()
    );
    assert_eq!(
        run.stdout().lines().count(),
        listed.lines().count(),
        "{}",
        run.report()
    );
}

/// A bad rule file: exit 2 and one line naming the file, the line and the rule.
fn bad_rules(text: &str, expected_start: &str) {
    refused_rules(text, "", expected_start);
}

/// A rule file refused with one line that starts with `before`, the file's path and `after`;
/// exit 2 and nothing on stdout.
fn refused_rules(text: &str, before: &str, after: &str) {
    let dir = tempdir();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap();
    let run = run(&["scan", "fixtures/sample.log", "--rules", p], None).fails_with(2);
    let stderr = run.stderr();
    assert_eq!(stderr.lines().count(), 1, "{}", run.report());
    assert!(
        stderr.starts_with(&format!("backfill-triage: {before}{p}:{after}")),
        "{}",
        run.report()
    );
    assert!(run.stdout().is_empty(), "{}", run.report());
}

#[test]
fn a_bad_regex_names_file_line_and_rule() {
    bad_rules(
        "[[rule]]\nid = \"ok\"\ncategory = \"uncategorized\"\nliterals = [\"abcd\"]\n\n[[rule]]\nid = \"broken\"\ncategory = \"processing_error\"\nregex = '(unclosed'\n",
        "6: rule 'broken': bad regex:",
    );
}

/// A regex whose syntax is fine but that compiles past the size limit is refused when the
/// classifier is built, still naming its file, line and rule.
#[test]
fn a_regex_too_big_to_compile_names_file_line_and_rule() {
    refused_rules(
        "[[rule]]\nid = \"ok\"\ncategory = \"uncategorized\"\nliterals = [\"abcd\"]\n\n[[rule]]\nid = \"big\"\ncategory = \"uncategorized\"\nregex = \"(?:x[a-z]{100}){1000}\"\n",
        "cannot compile the rules: ",
        "6: rule 'big': Compiled regex exceeds size limit",
    );
}

#[test]
fn an_unknown_category_names_file_line_and_rule() {
    bad_rules(
        "[[rule]]\nid = \"x\"\ncategory = \"disk\"\nliterals = [\"abcd\"]\n",
        "1: rule 'x': unknown category 'disk'",
    );
}

#[test]
fn a_toml_syntax_error_names_file_and_line() {
    bad_rules(
        "[[rule]]\nid = \"x\"\ncategory = \"uncategorized\"\nliterals = [\"abcd\"\n",
        "5: invalid array; expected `]`",
    );
}

#[test]
fn custom_processors_are_recognised() {
    let log = "Found 1 dates to process\nProcessing date 1/1: 2024-02-01\nStarting ShotChartProcessor for 2024-02-01\nERROR - analytics.shot_chart - ZeroDivisionError: division by zero\n✅ ALL DATES SUCCESSFUL\n";
    let run = run(
        &[
            "scan",
            "-",
            "-f",
            "tsv",
            "--processors",
            "shot_chart,box_score",
        ],
        Some(log.as_bytes()),
    )
    .success();
    let rows: Vec<String> = run
        .stdout()
        .lines()
        .skip(1)
        .map(|l| {
            // date processor category action reason
            let f: Vec<&str> = l.split('\t').collect();
            [f[2], f[3], f[5], f[6], f[7]].join(" ")
        })
        .collect();
    assert_eq!(
        rows,
        ["2024-02-01 shot_chart processing_error fix_code_then_rerun failed"],
        "{}",
        run.report()
    );
}
