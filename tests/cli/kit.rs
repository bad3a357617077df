//! The CLI kit: `explain` for every category, action and a rule; shell completions; the man page;
//! and a README that stays inside the repository.

use crate::helpers::{root, run, tempdir};

const CATEGORIES: [&str; 6] = [
    "script_infrastructure",
    "data_availability",
    "processing_error",
    "resource_exhaustion",
    "defensive_check",
    "uncategorized",
];

const ACTIONS: [&str; 6] = [
    "rerun",
    "backfill_upstream_then_rerun",
    "fix_code_then_rerun",
    "rerun_with_backoff",
    "fill_gaps_then_rerun",
    "investigate",
];

#[test]
fn explain_prints_the_procedure_of_every_category() {
    for (category, action) in CATEGORIES.iter().zip(ACTIONS) {
        let run = run(&["explain", category], None).success();
        let out = run.stdout();
        assert!(
            out.starts_with(&format!("{category}: ")),
            "{}",
            run.report()
        );
        assert!(
            out.contains(&format!("action: {action}")),
            "{}",
            run.report()
        );
        for section in [
            "What it looks like",
            "What to check",
            "What to run",
            "How to verify",
        ] {
            assert!(out.contains(section), "{section}\n{}", run.report());
        }
        // Commands to run, and (but for the rules workflow) SQL to check with.
        assert!(
            out.contains("backfill-triage") || out.contains("./bin/"),
            "{}",
            run.report()
        );
        if *category != "uncategorized" {
            assert!(out.contains("SELECT"), "{}", run.report());
        }
    }
}

#[test]
fn explain_prints_the_procedure_of_every_action() {
    for (category, action) in CATEGORIES.iter().zip(ACTIONS) {
        let run = run(&["explain", action], None).success();
        let out = run.stdout();
        assert!(
            out.starts_with(&format!("{action}: the recovery for category {category}")),
            "{}",
            run.report()
        );
        assert!(out.contains("What to run"), "{}", run.report());
    }
}

#[test]
fn explain_of_a_rule_shows_its_category_patterns_examples_and_source() {
    let run = run(&["explain", "dependency-error"], None).success();
    let out = run.stdout();
    assert!(
        out.starts_with("rule dependency-error  (patterns/defensive_check.toml:"),
        "{}",
        run.report()
    );
    for part in [
        "category: defensive_check (action fill_gaps_then_rerun)",
        "priority: ",
        "literals (any one, case-insensitive): ",
        "examples:",
        "recovery: backfill-triage explain defensive_check",
    ] {
        assert!(out.contains(part), "{part}\n{}", run.report());
    }
}

#[test]
fn explain_finds_rules_of_user_files_and_refuses_unknown_names() {
    let dir = tempdir();
    let path = dir.path().join("mine.toml");
    std::fs::write(
        &path,
        "[[rule]]\nid = \"roster-sync\"\ncategory = \"processing_error\"\nliterals = [\"roster sync mismatch\"]\n",
    )
    .unwrap();
    let run_ok = run(
        &["explain", "roster-sync", "--rules", path.to_str().unwrap()],
        None,
    )
    .success();
    assert!(
        run_ok.stdout().contains("category: processing_error"),
        "{}",
        run_ok.report()
    );
    let bad = run(&["explain", "no-such-thing"], None).fails_with(2);
    assert!(
        bad.stderr()
            .contains("'no-such-thing' is no category, action or rule id"),
        "{}",
        bad.report()
    );
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = run(&["completions", shell], None).success();
        let out = run.stdout();
        assert!(out.contains("backfill-triage"), "{}", run.report());
        for sub in ["scan", "templates", "explain", "manifest", "color"] {
            assert!(out.contains(sub), "{shell}: {sub}\n{}", run.report());
        }
    }
    let bash = run(&["completions", "bash"], None).success();
    let dir = tempdir();
    let script = dir.path().join("c.bash");
    std::fs::write(&script, bash.stdout()).unwrap();
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
fn man_prints_a_roff_page_and_writes_one_per_command() {
    let run_page = run(&["man"], None).success();
    let page = run_page.stdout();
    assert!(page.starts_with(".ie"), "{}", run_page.report());
    assert!(
        page.contains(".TH backfill-triage 1"),
        "{}",
        run_page.report()
    );
    for sub in ["scan", "rules", "templates", "explain", "completions"] {
        assert!(page.contains(sub), "{sub}\n{}", run_page.report());
    }
    let dir = tempdir();
    let out = dir.path().join("man1");
    run(&["man", "--dir", out.to_str().unwrap()], None).success();
    for page in [
        "backfill-triage.1",
        "backfill-triage-scan.1",
        "backfill-triage-templates.1",
    ] {
        let text = std::fs::read_to_string(out.join(page)).unwrap_or_default();
        assert!(text.contains(".TH"), "{page}: {text}");
    }
}

#[test]
fn every_subcommand_is_in_help() {
    let run = run(&["--help"], None).success();
    for sub in [
        "scan",
        "rules",
        "templates",
        "explain",
        "completions",
        "man",
    ] {
        assert!(run.stdout().contains(sub), "{sub}\n{}", run.report());
    }
    let scan = crate::helpers::run(&["scan", "--help"], None).success();
    for flag in ["--color", "--report", "markdown"] {
        assert!(scan.stdout().contains(flag), "{flag}\n{}", scan.report());
    }
}

/// The README explains in its own words: every link points into the repository, at a file that
/// exists; every category and action is explained.
#[test]
fn the_readme_stays_inside_the_repository_and_explains_every_category() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut rest = readme.as_str();
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let end = after.find(')').unwrap_or(after.len());
        let target = after[..end].split('#').next().unwrap_or_default();
        assert!(
            !target.contains("://") && !target.starts_with(".."),
            "README links outside the repository: {target}"
        );
        if !target.is_empty() {
            assert!(
                root().join(target).exists(),
                "README links to a missing file: {target}"
            );
        }
        rest = &after[end..];
    }
    for name in CATEGORIES.iter().chain(ACTIONS.iter()) {
        assert!(readme.contains(&format!("`{name}`")), "README lacks {name}");
    }
}
