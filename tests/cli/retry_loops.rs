//! Retry loops: `plan` on saved manifests, the filters on every format, escalation, range
//! compaction, the order of commands and what is held, the command template, the retry script run
//! against a fake `run_backfill.sh` (tests/fake/), `diff`, `--exit-code`, the TSV `while read` loop,
//! and examples/retry-loop.sh driving rounds to the end.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{assert_text, root, run, run_in, tempdir, Run};

const P1: &str = "player_game_summary";
const P2: &str = "team_defense_game_summary";
const P3: &str = "team_offense_game_summary";

fn action_of(category: &str) -> &'static str {
    match category {
        "script_infrastructure" => "rerun",
        "data_availability" => "backfill_upstream_then_rerun",
        "processing_error" => "fix_code_then_rerun",
        "resource_exhaustion" => "rerun_with_backoff",
        "defensive_check" => "fill_gaps_then_rerun",
        _ => "investigate",
    }
}

/// A schema-2 manifest. Each row is `DATE PROCESSOR CATEGORY REASON FAILURES BLOCKED_BY` (a
/// comma-separated list, or `-`); its evidence is `run.log`, line 10 + its index. `succeeded`
/// lists per processor its succeeded dates and ranges (`A..B`).
fn manifest(rows: &[&str], succeeded: &[(&str, &[&str])]) -> String {
    let retries: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let f: Vec<&str> = spec.split_whitespace().collect();
            assert_eq!(f.len(), 6, "row spec: {spec}");
            let blocked: Vec<&str> = if f[5] == "-" {
                Vec::new()
            } else {
                f[5].split(',').collect()
            };
            json!({
                "date": f[0], "processor": f[1], "phase": "analytics", "category": f[2],
                "action": action_of(f[2]), "reason": f[3], "silent": false,
                "failures": f[4].parse::<u32>().unwrap(), "blocked_by": blocked,
                "error": format!("ERROR {} on {}", f[2], f[0]), "file": "run.log",
                "line": 10 + i, "rule": null, "command": ""
            })
        })
        .collect();
    let succeeded: serde_json::Map<String, Value> = succeeded
        .iter()
        .map(|(p, dates)| (p.to_string(), json!(dates)))
        .collect();
    let doc = json!({
        "schema_version": 2,
        "tool": { "name": "backfill-triage", "version": "0.1.0" },
        "inputs": [ { "path": "run.log", "bytes": 100, "lines": 10 } ],
        "runs": [],
        "summary": {
            "attempts": 0, "succeeded": 0, "failed": 0, "interrupted": 0, "failure_lines": 0,
            "retries": rows.len(), "gaps": 0, "silent": 0, "not_started": 0, "unattributed": 0,
            "by_category": {}, "by_processor": {}
        },
        "retries": retries,
        "unattributed": [],
        "succeeded": succeeded,
    });
    serde_json::to_string_pretty(&doc).unwrap()
}

/// Writes `text` to `dir/name` and returns the path as a string.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn expect_stdout(run: &Run, expected: &str) {
    assert_text(expected, &run.stdout(), "stdout", Some(run));
}

/// TSV written with `|` for tabs, for readable expectations.
fn tsv(text: &str) -> String {
    text.replace(" | ", "\t").replace("|\n", "\t\n")
}

#[test]
fn compaction_merges_dates_without_games_and_splits_at_known_dates() {
    let dir = tempdir();
    let m = write(
        dir.path(),
        "m.json",
        &manifest(
            &[
                // P2 first in the manifest; the plan runs the upstream P1 first anyway.
                &format!("2024-01-01 {P2} script_infrastructure interrupted 0 -"),
                &format!("2024-01-02 {P2} script_infrastructure not_started 0 -"),
                &format!("2024-01-03 {P2} script_infrastructure not_started 0 -"),
                // 01-02 and 01-03 are never mentioned for P1: days without games.
                &format!("2024-01-01 {P1} script_infrastructure interrupted 0 -"),
                &format!("2024-01-04 {P1} script_infrastructure not_started 0 -"),
                // 01-05 succeeded: it splits the range.
                &format!("2024-01-06 {P1} script_infrastructure not_started 0 -"),
                &format!("2024-01-07 {P1} script_infrastructure not_started 0 -"),
                // 01-08 has a row of its own that needs a person: it splits the range too.
                &format!("2024-01-08 {P1} processing_error failed 1 -"),
                &format!("2024-01-09 {P1} script_infrastructure not_started 0 -"),
            ],
            &[(P1, &["2024-01-05", "2024-01-10..2024-01-12"])],
        ),
    );
    let plan = run(&["plan", &m], None).success();
    expect_stdout(
        &plan,
        "\
Plan: 9 (date, processor) pairs in 5 commands: 4 to run, 1 waiting for a person, 0 held
    1  run     player_game_summary        2024-01-01..2024-01-04  rerun                         2 pairs
    2  run     player_game_summary        2024-01-06..2024-01-07  rerun                         2 pairs
    3  manual  player_game_summary        2024-01-08              fix_code_then_rerun           1 pair  needs a person first
    4  run     player_game_summary        2024-01-09              rerun                         1 pair
    5  run     team_defense_game_summary  2024-01-01..2024-01-03  rerun                         3 pairs
",
    );
    // Each row's command is the one that covers it.
    let json = run(&["plan", &m, "-f", "json"], None).success();
    let doc: Value = serde_json::from_str(&json.stdout()).unwrap();
    let commands: Vec<String> = doc["retries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["date"].as_str().unwrap(),
                r["command"].as_str().unwrap()
            )
        })
        .collect();
    let cmd = |p: &str, a: &str, b: &str| {
        format!("./bin/run_backfill.sh analytics/{p} --start-date={a} --end-date={b} --skip-downstream-trigger=true")
    };
    assert_eq!(
        commands,
        [
            format!("2024-01-01 {}", cmd(P2, "2024-01-01", "2024-01-03")),
            format!("2024-01-02 {}", cmd(P2, "2024-01-01", "2024-01-03")),
            format!("2024-01-03 {}", cmd(P2, "2024-01-01", "2024-01-03")),
            format!("2024-01-01 {}", cmd(P1, "2024-01-01", "2024-01-04")),
            format!("2024-01-04 {}", cmd(P1, "2024-01-01", "2024-01-04")),
            format!("2024-01-06 {}", cmd(P1, "2024-01-06", "2024-01-07")),
            format!("2024-01-07 {}", cmd(P1, "2024-01-06", "2024-01-07")),
            format!("2024-01-08 {}", cmd(P1, "2024-01-08", "2024-01-08")),
            format!("2024-01-09 {}", cmd(P1, "2024-01-09", "2024-01-09")),
        ],
        "{}",
        json.report()
    );
}

#[test]
fn compaction_stops_at_max_range() {
    let dir = tempdir();
    let rows: Vec<String> = ["01", "02", "03", "04", "05", "07"]
        .iter()
        .map(|d| format!("2024-01-{d} {P1} script_infrastructure not_started 0 -"))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let m = write(dir.path(), "m.json", &manifest(&rows, &[]));
    // 05 and 07 would span 3 days: over the limit of 2.
    let plan = run(&["plan", &m, "--max-range", "2"], None).success();
    expect_stdout(
        &plan,
        "\
Plan: 6 (date, processor) pairs in 4 commands: 4 to run, 0 waiting for a person, 0 held
    1  run     player_game_summary  2024-01-01..2024-01-02  rerun                         2 pairs
    2  run     player_game_summary  2024-01-03..2024-01-04  rerun                         2 pairs
    3  run     player_game_summary  2024-01-05              rerun                         1 pair
    4  run     player_game_summary  2024-01-07              rerun                         1 pair
",
    );
    let plan = run(&["plan", &m], None).success();
    assert!(
        plan.stdout()
            .contains("1  run     player_game_summary  2024-01-01..2024-01-07  rerun"),
        "the default range (31 days) covers them all\n{}",
        plan.report()
    );
    run(&["plan", &m, "--max-range", "0"], None).fails_with(2);
}

#[test]
fn resource_exhaustion_rows_are_never_merged_and_each_waits_its_backoff() {
    let dir = tempdir();
    let m = write(
        dir.path(),
        "m.json",
        &manifest(
            &[
                &format!("2024-01-01 {P1} resource_exhaustion failed 1 -"),
                &format!("2024-01-02 {P1} resource_exhaustion failed 2 -"),
            ],
            &[],
        ),
    );
    let plan = run(
        &[
            "plan",
            &m,
            "-f",
            "commands",
            "--command",
            "run {processor} {start} {end}",
        ],
        None,
    )
    .success();
    expect_stdout(
        &plan,
        r#"#!/usr/bin/env bash
# Retry plan from backfill-triage 0.1.0: 2 (date, processor) pairs in 2 commands:
# 2 to run, 0 waiting for a person, 0 held (those two kinds are commented out).
# Each command's exit status is tallied; the last line (stderr) says how many failed, and
# the script exits 1 if any did. BACKFILL_TRIAGE_BACKOFF=SECONDS overrides every pause.
set -u -o pipefail
failed=0
total=0
tally() {
  total=$((total + 1))
  if [ "$1" -ne 0 ]; then
    failed=$((failed + 1))
    echo "retry step $2 returned $1" >&2
  fi
}

# step 1/2: player_game_summary 2024-01-01, rerun_with_backoff
sleep "${BACKFILL_TRIAGE_BACKOFF:-30}"  # resource_exhaustion: let quotas and timeouts recover
run player_game_summary 2024-01-01 2024-01-01
tally $? 1
#   2024-01-01 failed resource_exhaustion run.log:10

# step 2/2: player_game_summary 2024-01-02, rerun_with_backoff
sleep "${BACKFILL_TRIAGE_BACKOFF:-30}"  # resource_exhaustion: let quotas and timeouts recover
run player_game_summary 2024-01-02 2024-01-02
tally $? 2
#   2024-01-02 failed resource_exhaustion, 2 failures run.log:11

echo "$failed of $total commands failed" >&2
[ "$failed" -eq 0 ]
"#,
    );
}

#[test]
fn the_command_template_fills_every_placeholder() {
    let dir = tempdir();
    let mut doc: Value = serde_json::from_str(&manifest(
        &[&format!("2024-01-03 {P2} defensive_check gap 0 -")],
        &[],
    ))
    .unwrap();
    doc["retries"][0]["phase"] = json!("precompute");
    let m = write(dir.path(), "m.json", &doc.to_string());
    let template = "job --phase={phase} --name={processor} {start}..{end} {category} {action} ${HOME:-x} {x y}";
    let plan = run(&["plan", &m, "-f", "json", "--command", template], None).success();
    let planned: Value = serde_json::from_str(&plan.stdout()).unwrap();
    assert_eq!(
        planned["retries"][0]["command"],
        "job --phase=precompute --name=team_defense_game_summary 2024-01-03..2024-01-03 defensive_check fill_gaps_then_rerun ${HOME:-x} {x y}",
        "{}",
        plan.report()
    );
    // The playbook's command is the default.
    let plan = run(&["plan", &m, "-f", "json"], None).success();
    let planned: Value = serde_json::from_str(&plan.stdout()).unwrap();
    assert_eq!(
        planned["retries"][0]["command"],
        "./bin/run_backfill.sh precompute/team_defense_game_summary --start-date=2024-01-03 --end-date=2024-01-03 --skip-downstream-trigger=true"
    );
    let bad = run(&["plan", &m, "--command", "run {proc} {start}"], None).fails_with(2);
    assert!(
        bad.stderr()
            .contains("unknown placeholder {proc} in the command template (known: {phase} {processor} {start} {end} {category} {action})"),
        "{}",
        bad.report()
    );
    run(&["plan", &m, "--command", "run\n{processor}"], None).fails_with(2);
}

/// Gap rows on 01-10 for P1 and P2, P3 interrupted on 01-10, and P1 and P2 blocked on 01-12.
fn blocked_manifest(p3_on_the_gap_date: &str) -> String {
    manifest(
        &[
            &format!("2024-01-10 {P1} defensive_check gap 0 -"),
            &format!("2024-01-10 {P2} defensive_check gap 0 -"),
            &format!("2024-01-10 {P3} {p3_on_the_gap_date} 1 -"),
            &format!("2024-01-12 {P1} defensive_check failed 1 2024-01-10"),
            &format!("2024-01-12 {P2} defensive_check failed 1 2024-01-10"),
        ],
        &[
            (P1, &["2024-01-11"]),
            (P2, &["2024-01-11"]),
            (P3, &["2024-01-11..2024-01-12"]),
        ],
    )
}

#[test]
fn a_blocked_date_runs_after_its_gap_dates_upstream_first() {
    let dir = tempdir();
    let m = write(
        dir.path(),
        "m.json",
        &blocked_manifest("script_infrastructure interrupted"),
    );
    let plan = run(
        &[
            "plan",
            &m,
            "-f",
            "tsv",
            "--command",
            "run {processor} {start}",
        ],
        None,
    )
    .success();
    expect_stdout(
        &plan,
        &tsv("\
step | mode | date | processor | phase | category | action | reason | failures | silent | blocked_by | start | end | file | line | rule | command | error
1 | run | 2024-01-10 | player_game_summary | analytics | defensive_check | fill_gaps_then_rerun | gap | 0 | false | - | 2024-01-10 | 2024-01-10 | run.log | 10 | - | run player_game_summary 2024-01-10 | ERROR defensive_check on 2024-01-10
2 | run | 2024-01-10 | team_defense_game_summary | analytics | defensive_check | fill_gaps_then_rerun | gap | 0 | false | - | 2024-01-10 | 2024-01-10 | run.log | 11 | - | run team_defense_game_summary 2024-01-10 | ERROR defensive_check on 2024-01-10
3 | run | 2024-01-10 | team_offense_game_summary | analytics | script_infrastructure | rerun | interrupted | 1 | false | - | 2024-01-10 | 2024-01-10 | run.log | 12 | - | run team_offense_game_summary 2024-01-10 | ERROR script_infrastructure on 2024-01-10
4 | run | 2024-01-12 | player_game_summary | analytics | defensive_check | fill_gaps_then_rerun | failed | 1 | false | 2024-01-10 | 2024-01-12 | 2024-01-12 | run.log | 13 | - | run player_game_summary 2024-01-12 | ERROR defensive_check on 2024-01-12
5 | run | 2024-01-12 | team_defense_game_summary | analytics | defensive_check | fill_gaps_then_rerun | failed | 1 | false | 2024-01-10 | 2024-01-12 | 2024-01-12 | run.log | 14 | - | run team_defense_game_summary 2024-01-12 | ERROR defensive_check on 2024-01-12
"),
    );

    // Run against the fake runner, which fails a blocked date whose gaps were not filled first.
    let work = FakeRunner::new();
    let script = run(&["plan", &m, "-f", "commands"], None).success();
    let needs = format!(
        "{P1}@2024-01-12={P1}@2024-01-10,{P2}@2024-01-10,{P3}@2024-01-10 {P2}@2024-01-12={P1}@2024-01-10,{P2}@2024-01-10,{P3}@2024-01-10"
    );
    let ran = work.run_script(&script.stdout(), &[("FAKE_NEEDS", &needs)]);
    assert_eq!(ran.code, Some(0), "{}", ran.report);
    assert_eq!(
        work.calls(),
        format!(
            "{P1} 2024-01-10 2024-01-10\n{P2} 2024-01-10 2024-01-10\n{P3} 2024-01-10 2024-01-10\n{P1} 2024-01-12 2024-01-12\n{P2} 2024-01-12 2024-01-12\n"
        )
    );
}

#[test]
fn a_blocked_date_whose_gaps_need_a_person_is_held_never_live() {
    let dir = tempdir();
    let m = write(
        dir.path(),
        "m.json",
        &blocked_manifest("data_availability failed"),
    );
    let plan = run(
        &[
            "plan",
            &m,
            "-f",
            "commands",
            "--command",
            "run {processor} {start}",
        ],
        None,
    )
    .success();
    let out = plan.stdout();
    let steps = &out[out.find("\n# step 1/").expect("steps") + 1..];
    assert_text(
        "\
# step 1/5: player_game_summary 2024-01-10, fill_gaps_then_rerun
run player_game_summary 2024-01-10
tally $? 1
#   2024-01-10 gap defensive_check run.log:10

# step 2/5: team_defense_game_summary 2024-01-10, fill_gaps_then_rerun
run team_defense_game_summary 2024-01-10
tally $? 2
#   2024-01-10 gap defensive_check run.log:11

# step 3/5: team_offense_game_summary 2024-01-10, backfill_upstream_then_rerun: needs a person first
# run team_offense_game_summary 2024-01-10
#   2024-01-10 failed data_availability run.log:12: ERROR data_availability on 2024-01-10

# step 4/5: player_game_summary 2024-01-12, fill_gaps_then_rerun: held: gap 2024-01-10 team_offense_game_summary needs backfill_upstream_then_rerun first
# run player_game_summary 2024-01-12
#   2024-01-12 failed defensive_check, blocked by 2024-01-10 run.log:13: ERROR defensive_check on 2024-01-12

# step 5/5: team_defense_game_summary 2024-01-12, fill_gaps_then_rerun: held: gap 2024-01-10 team_offense_game_summary needs backfill_upstream_then_rerun first
# run team_defense_game_summary 2024-01-12
#   2024-01-12 failed defensive_check, blocked by 2024-01-10 run.log:14: ERROR defensive_check on 2024-01-12

echo \"$failed of $total commands failed\" >&2
[ \"$failed\" -eq 0 ]
",
        steps,
        "the steps of the script",
        Some(&plan),
    );
    // A gap date the filters leave out of the plan holds the dates it blocks as well.
    let live = write(
        dir.path(),
        "live.json",
        &blocked_manifest("script_infrastructure interrupted"),
    );
    let plan = run(&["plan", &live, "--processor", P1], None).success();
    expect_stdout(
        &plan,
        "\
Plan: 2 (date, processor) pairs in 2 commands: 1 to run, 0 waiting for a person, 1 held
    1  run     player_game_summary  2024-01-10              fill_gaps_then_rerun          1 pair
    2  held    player_game_summary  2024-01-12              fill_gaps_then_rerun          1 pair  held: gap 2024-01-10 team_defense_game_summary is not in this plan (filters)
",
    );
}

/// A temporary directory with `bin/run_backfill.sh` (the fake runner) and its state.
struct FakeRunner {
    dir: tempfile::TempDir,
}

struct ScriptRun {
    code: Option<i32>,
    stderr: String,
    report: String,
}

impl FakeRunner {
    fn new() -> FakeRunner {
        let dir = tempdir();
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        std::os::unix::fs::symlink(
            root().join("tests/fake/run_backfill.sh"),
            dir.path().join("bin/run_backfill.sh"),
        )
        .unwrap();
        FakeRunner { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The fake runner's environment.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.path())
            .env("FAKE_STATE", self.path().join("state"))
            .env("BACKFILL_TRIAGE_BACKOFF", "0")
            .env_remove("FAKE_FAIL_ONCE")
            .env_remove("FAKE_FAIL_ALWAYS")
            .env_remove("FAKE_NEEDS");
        cmd
    }

    fn run_script(&self, script: &str, env: &[(&str, &str)]) -> ScriptRun {
        let path = self.path().join("retry.sh");
        std::fs::write(&path, script).unwrap();
        let mut cmd = self.command("bash");
        cmd.arg(&path).envs(env.iter().copied());
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        ScriptRun {
            code: out.status.code(),
            report: format!(
                "script:\n{script}\n--- stdout ---\n{}\n--- stderr ---\n{stderr}",
                String::from_utf8_lossy(&out.stdout)
            ),
            stderr,
        }
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.path().join("state/calls")).unwrap_or_default()
    }
}

#[test]
fn the_script_tallies_every_command_and_exits_non_zero_when_one_failed() {
    let dir = tempdir();
    let m = write(
        dir.path(),
        "m.json",
        &manifest(
            &[
                &format!("2024-01-01 {P1} script_infrastructure interrupted 0 -"),
                &format!("2024-01-02 {P1} script_infrastructure not_started 0 -"),
                &format!("2024-01-01 {P2} resource_exhaustion failed 1 -"),
                &format!("2024-01-01 {P3} processing_error failed 1 -"),
                &format!("2024-01-02 {P3} resource_exhaustion failed 1 -"),
            ],
            &[],
        ),
    );
    let script = run(&["plan", &m, "-f", "commands"], None)
        .success()
        .stdout();

    let work = FakeRunner::new();
    let ran = work.run_script(
        &script,
        &[(
            "FAKE_FAIL_ALWAYS",
            &format!("{P2}@2024-01-01 {P1}@2024-01-02"),
        )],
    );
    assert_eq!(ran.code, Some(1), "{}", ran.report);
    assert_eq!(
        ran.stderr, "retry step 1 returned 1\nretry step 2 returned 1\n2 of 3 commands failed\n",
        "{}",
        ran.report
    );
    // The fix_code_then_rerun row is never run.
    assert_eq!(
        work.calls(),
        format!(
            "{P1} 2024-01-01 2024-01-02\n{P2} 2024-01-01 2024-01-01\n{P3} 2024-01-02 2024-01-02\n"
        )
    );

    let work = FakeRunner::new();
    let ran = work.run_script(&script, &[]);
    assert_eq!(ran.code, Some(0), "{}", ran.report);
    assert_eq!(ran.stderr, "0 of 3 commands failed\n", "{}", ran.report);
}

#[test]
fn plan_of_a_saved_manifest_plans_like_the_scan_in_every_format() {
    let dir = tempdir();
    let m = dir.path().join("m.json");
    let m = m.to_str().unwrap();
    run(&["scan", "fixtures/sample.log", "-m", m, "-q"], None).success();
    let saved = std::fs::read(m).unwrap();
    let filters: &[&[&str]] = &[
        &[],
        &["--category", "script_infrastructure,resource_exhaustion"],
        &["--processor", P3, "--max-failures", "1"],
        &["--dates", "2024-01-10..2024-01-11", "--max-range", "1"],
    ];
    for extra in filters {
        for format in ["json", "csv", "tsv", "commands"] {
            let mut scan_args = vec!["scan", "fixtures/sample.log", "-f", format];
            scan_args.extend_from_slice(extra);
            let scan = run(&scan_args, None).success();
            let mut plan_args = vec!["plan", m, "-f", format];
            plan_args.extend_from_slice(extra);
            let plan = run(&plan_args, None).success();
            assert_text(
                &scan.stdout(),
                &plan.stdout(),
                &format!("plan {extra:?} -f {format} vs scan"),
                Some(&plan),
            );
            // '-' reads the manifest from stdin.
            plan_args[1] = "-";
            let piped = run(&plan_args, Some(&saved)).success();
            assert_text(
                &plan.stdout(),
                &piped.stdout(),
                "plan - (stdin)",
                Some(&piped),
            );
        }
    }
}

#[test]
fn plan_refuses_a_file_that_is_not_a_manifest_in_one_line() {
    let dir = tempdir();
    let mut v1: Value = serde_json::from_str(&manifest(&[], &[])).unwrap();
    v1["schema_version"] = json!(1);
    let cases = [
        (
            "fixtures/sample.log".to_string(),
            "fixtures/sample.log: not a backfill-triage manifest (not JSON: expected value at line 1 column 1)",
        ),
        (
            write(dir.path(), "empty.json", "{}"),
            "empty.json: not a backfill-triage manifest (no schema_version)",
        ),
        (
            write(dir.path(), "v1.json", &v1.to_string()),
            "v1.json: schema_version 1, this version reads 2: scan the logs again",
        ),
        (
            write(dir.path(), "partial.json", r#"{"schema_version": 2, "retries": []}"#),
            "partial.json: not a backfill-triage manifest (missing field `tool`)",
        ),
        (
            "no/such.json".to_string(),
            "no/such.json: No such file or directory",
        ),
    ];
    for (path, message) in &cases {
        for args in [
            vec!["plan", path.as_str()],
            vec!["diff", path.as_str(), "fixtures/sample.manifest.json"],
        ] {
            let failed = run(&args, None).fails_with(2);
            let stderr = failed.stderr();
            assert_eq!(stderr.lines().count(), 1, "{}", failed.report());
            assert!(
                stderr.starts_with("backfill-triage: ") && stderr.contains(message),
                "expected ...{message}\n{}",
                failed.report()
            );
        }
    }
    // A hand-edited row cannot smuggle shell syntax into the script.
    let mut evil: Value = serde_json::from_str(&manifest(
        &[&format!(
            "2024-01-01 {P1} script_infrastructure interrupted 0 -"
        )],
        &[],
    ))
    .unwrap();
    evil["retries"][0]["phase"] = json!("analytics; rm -rf ~");
    let path = write(dir.path(), "evil.json", &evil.to_string());
    let failed = run(&["plan", &path, "-f", "commands"], None).fails_with(2);
    assert!(
        failed.stderr().contains("is not a word"),
        "{}",
        failed.report()
    );
}

/// The sample's rows as `date processor` lines, from TSV/CSV output (columns 3 and 4).
fn pairs_of_rows(text: &str, delimiter: char) -> Vec<String> {
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(delimiter).collect();
            format!("{} {}", f[2], f[3])
        })
        .collect()
}

#[test]
fn filters_apply_to_every_format_and_the_manifest() {
    let dir = tempdir();
    let m = dir.path().join("m.json");
    let m = m.to_str().unwrap();
    let filters = [
        "--category",
        "script_infrastructure",
        "--dates",
        "2024-01-10..2024-01-11",
        "--processor",
        "team_offense_game_summary,upcoming_team_game_context",
    ];
    let expected = [
        "2024-01-10 team_offense_game_summary",
        "2024-01-11 team_offense_game_summary",
        "2024-01-10 upcoming_team_game_context",
        "2024-01-11 upcoming_team_game_context",
    ];
    let scan = |format: &str| {
        let mut args = vec!["scan", "fixtures/sample.log", "-q", "-m", m, "-f", format];
        args.extend(filters);
        run(&args, None).success()
    };
    let tsv_run = scan("tsv");
    assert_eq!(
        pairs_of_rows(&tsv_run.stdout(), '\t'),
        expected,
        "{}",
        tsv_run.report()
    );
    let csv_run = scan("csv");
    assert_eq!(
        pairs_of_rows(&csv_run.stdout(), ','),
        expected,
        "{}",
        csv_run.report()
    );

    // The manifest (-m and -f json alike): only the kept rows, and the summary counts them.
    let json_run = scan("json");
    let written = std::fs::read_to_string(m).unwrap();
    assert_text(
        &written,
        &json_run.stdout(),
        "-m vs -f json",
        Some(&json_run),
    );
    let doc: Value = serde_json::from_str(&written).unwrap();
    let rows: Vec<String> = doc["retries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["date"].as_str().unwrap(),
                r["processor"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        rows,
        [expected[0], expected[2], expected[1], expected[3]],
        "manifest order is date, then processor"
    );
    assert_eq!(doc["summary"]["retries"], 4);
    assert_eq!(doc["summary"]["by_category"]["script_infrastructure"], 4);
    assert_eq!(doc["summary"]["by_category"]["defensive_check"], 0);
    assert_eq!(
        doc["summary"]["by_processor"],
        json!({"team_offense_game_summary": 2, "upcoming_team_game_context": 2})
    );

    let script = scan("commands").stdout();
    let live: Vec<&str> = script
        .lines()
        .filter(|l| l.starts_with("./bin/run_backfill.sh"))
        .collect();
    assert_eq!(
        live,
        [
            "./bin/run_backfill.sh analytics/team_offense_game_summary --start-date=2024-01-10 --end-date=2024-01-11 --skip-downstream-trigger=true",
            "./bin/run_backfill.sh analytics/upcoming_team_game_context --start-date=2024-01-10 --end-date=2024-01-11 --skip-downstream-trigger=true",
        ],
        "{script}"
    );
    assert!(!script.contains("# ./bin"), "{script}");

    let summary = scan("summary").stdout();
    assert!(
        summary.contains("\nRetries: 4 (date, processor) pairs\n"),
        "{summary}"
    );
    assert!(!summary.contains("defensive_check"), "{summary}");

    // -f events: the lines of the kept categories, processors and dates.
    let events = run(
        &[
            "scan",
            "fixtures/sample.log",
            "-f",
            "events",
            "--category",
            "defensive_check",
            "--processor",
            P2,
            "--dates",
            "2024-01-12",
        ],
        None,
    )
    .success();
    let lines: Vec<Value> = events
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{}", events.report());
    assert_eq!(lines[0]["line"], 164);
    let refused = run(
        &[
            "scan",
            "fixtures/sample.log",
            "-f",
            "events",
            "--reason",
            "gap",
        ],
        None,
    )
    .fails_with(2);
    assert!(
        refused.stderr().contains("--reason"),
        "{}",
        refused.report()
    );

    // --reason and --action (after escalation) through plan.
    let saved = dir.path().join("all.json");
    run(
        &[
            "scan",
            "fixtures/sample.log",
            "-q",
            "-m",
            saved.to_str().unwrap(),
        ],
        None,
    )
    .success();
    let saved = saved.to_str().unwrap();
    let keep = |args: &[&str]| {
        let mut all = vec!["plan", saved, "-f", "tsv"];
        all.extend_from_slice(args);
        let plan = run(&all, None).success();
        pairs_of_rows(&plan.stdout(), '\t')
    };
    assert_eq!(
        keep(&["--reason", "interrupted"]),
        [
            "2024-01-10 team_offense_game_summary",
            "2024-01-10 upcoming_player_game_context",
            "2024-01-10 upcoming_team_game_context",
        ]
    );
    assert_eq!(
        keep(&["--action", "rerun_with_backoff"]),
        ["2024-01-09 team_offense_game_summary"]
    );
    assert_eq!(
        keep(&["--action", "investigate", "--max-failures", "2"]),
        ["2024-01-09 team_defense_game_summary"]
    );
    let unknown = run(&["plan", saved, "--processor", "shot_chart"], None).fails_with(2);
    assert!(
        unknown
            .stderr()
            .contains("--processor: 'shot_chart' is not a known processor"),
        "{}",
        unknown.report()
    );
    run(&["plan", saved, "--category", "disk"], None).fails_with(2);
    run(&["plan", saved, "--dates", "2024-01-12..2024-01-01"], None).fails_with(2);
}

#[test]
fn the_tsv_while_read_loop_reads_every_field_in_place() {
    let dir = tempdir();
    let mut doc: Value = serde_json::from_str(&manifest(
        &[
            &format!("2024-01-10 {P2} defensive_check gap 0 -"),
            &format!("2024-01-11 {P2} script_infrastructure interrupted 0 -"),
            &format!("2024-01-12 {P1} defensive_check failed 1 2024-01-10,2024-01-11"),
        ],
        &[],
    ))
    .unwrap();
    // Empty values in the middle, a file name with a tab and a newline, an empty last field.
    doc["retries"][0]["error"] = json!("");
    doc["retries"][1]["file"] = json!("odd\tname\n.log");
    doc["retries"][2]["rule"] = json!("dependency-error");
    let m = write(dir.path(), "m.json", &doc.to_string());
    // The loop documented in the README and in `plan --help`.
    let script = r#"
backfill-triage plan "$1" -f tsv | tail -n +2 |
  while IFS=$'\t' read -r step mode date processor phase category action reason failures \
      silent blocked_by start end file line rule command error; do
    printf '[%s]' "$step" "$mode" "$date" "$processor" "$phase" "$category" "$action" "$reason" \
      "$failures" "$silent" "$blocked_by" "$start" "$end" "$file" "$line" "$rule" "$command" "$error"
    echo
  done
"#;
    let bin_dir = PathBuf::from(env!("CARGO_BIN_EXE_backfill-triage"))
        .parent()
        .unwrap()
        .to_path_buf();
    let out = Command::new("bash")
        .args(["-c", script, "loop", &m])
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cmd = |p: &str, a: &str, b: &str| {
        format!("./bin/run_backfill.sh analytics/{p} --start-date={a} --end-date={b} --skip-downstream-trigger=true")
    };
    assert_text(
        &format!(
            "\
[1][run][2024-01-10][team_defense_game_summary][analytics][defensive_check][fill_gaps_then_rerun][gap][0][false][-][2024-01-10][2024-01-10][run.log][10][-][{}][]
[2][run][2024-01-11][team_defense_game_summary][analytics][script_infrastructure][rerun][interrupted][0][false][-][2024-01-11][2024-01-11][odd\u{fffd}name\u{fffd}.log][11][-][{}][ERROR script_infrastructure on 2024-01-11]
[3][run][2024-01-12][player_game_summary][analytics][defensive_check][fill_gaps_then_rerun][failed][1][false][2024-01-10,2024-01-11][2024-01-12][2024-01-12][run.log][12][dependency-error][{}][ERROR defensive_check on 2024-01-12]
",
            cmd(P2, "2024-01-10", "2024-01-10"),
            cmd(P2, "2024-01-11", "2024-01-11"),
            cmd(P1, "2024-01-12", "2024-01-12"),
        ),
        &String::from_utf8_lossy(&out.stdout),
        "the while-read loop's fields",
        None,
    );
}

/// OLD: P1 interrupted on 01-01, P2 timed out on 01-01, P3 failed on 01-02.
/// NEW: P2 timed out again, P3 failed again under another category, P1 interrupted on 01-03.
fn diff_manifests(dir: &Path) -> (String, String) {
    let old = write(
        dir,
        "old.json",
        &manifest(
            &[
                &format!("2024-01-01 {P1} script_infrastructure interrupted 0 -"),
                &format!("2024-01-01 {P2} resource_exhaustion failed 1 -"),
                &format!("2024-01-02 {P3} processing_error failed 1 -"),
            ],
            &[],
        ),
    );
    let new = write(
        dir,
        "new.json",
        &manifest(
            &[
                &format!("2024-01-01 {P2} resource_exhaustion failed 2 -"),
                &format!("2024-01-02 {P3} uncategorized failed 2 -"),
                &format!("2024-01-03 {P1} script_infrastructure interrupted 0 -"),
            ],
            &[],
        ),
    );
    (old, new)
}

#[test]
fn diff_shows_fixed_still_failing_and_new_pairs() {
    let dir = tempdir();
    let (old, new) = diff_manifests(dir.path());
    let summary = run_in(dir.path(), &["diff", "old.json", "new.json"], None).success();
    expect_stdout(
        &summary,
        "\
old.json -> new.json: 1 fixed, 2 still failing, 1 new
  category               fixed  still_failing  new
  script_infrastructure      1              0    1
  resource_exhaustion        0              1    0
  uncategorized              0              1    0

fixed
  2024-01-01  player_game_summary        script_infrastructure interrupted  run.log:10

still failing
  2024-01-01  team_defense_game_summary  resource_exhaustion failed, 2 failures  run.log:10
  2024-01-02  team_offense_game_summary  uncategorized failed (was processing_error), investigate (was fix_code_then_rerun), 2 failures  run.log:11

new
  2024-01-03  player_game_summary        script_infrastructure interrupted  run.log:12
",
    );
    let tsv_run = run(&["diff", &old, &new, "-f", "tsv"], None).success();
    expect_stdout(
        &tsv_run,
        &tsv("\
status | date | processor | category | old_category | action | old_action | reason | failures | file | line | error
fixed | 2024-01-01 | player_game_summary | script_infrastructure | script_infrastructure | rerun | rerun | interrupted | 0 | run.log | 10 | ERROR script_infrastructure on 2024-01-01
still_failing | 2024-01-01 | team_defense_game_summary | resource_exhaustion | resource_exhaustion | rerun_with_backoff | rerun_with_backoff | failed | 2 | run.log | 10 | ERROR resource_exhaustion on 2024-01-01
still_failing | 2024-01-02 | team_offense_game_summary | uncategorized | processing_error | investigate | fix_code_then_rerun | failed | 2 | run.log | 11 | ERROR uncategorized on 2024-01-02
new | 2024-01-03 | player_game_summary | script_infrastructure | - | rerun | - | interrupted | 0 | run.log | 12 | ERROR script_infrastructure on 2024-01-03
"),
    );
    let json_run = run(&["diff", &old, &new, "-f", "json"], None).success();
    let doc: Value = serde_json::from_str(&json_run.stdout()).unwrap();
    assert_eq!(
        doc["counts"],
        json!({"fixed": 1, "still_failing": 2, "new": 1}),
        "{}",
        json_run.report()
    );
    assert_eq!(
        doc["by_category"]["uncategorized"],
        json!({"fixed": 0, "still_failing": 1, "new": 0})
    );
    let pairs = doc["pairs"].as_array().unwrap();
    let statuses: Vec<(&str, &str, bool, bool)> = pairs
        .iter()
        .map(|p| {
            (
                p["status"].as_str().unwrap(),
                p["date"].as_str().unwrap(),
                p["old"].is_object(),
                p["new"].is_object(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("fixed", "2024-01-01", true, false),
            ("still_failing", "2024-01-01", true, true),
            ("still_failing", "2024-01-02", true, true),
            ("new", "2024-01-03", false, true),
        ]
    );
    assert_eq!(pairs[2]["old"]["category"], "processing_error");
    assert_eq!(pairs[2]["new"]["category"], "uncategorized");
}

#[test]
fn exit_code_says_whether_anything_is_left_on_scan_plan_and_diff() {
    let dir = tempdir();
    let code = |args: &[&str], stdin: Option<&[u8]>| run(args, stdin).code();
    // scan: the sample leaves rows; a filter that keeps none leaves nothing; without the flag, 0.
    assert_eq!(
        code(&["scan", "fixtures/sample.log", "--exit-code"], None),
        Some(1)
    );
    assert_eq!(
        code(
            &[
                "scan",
                "fixtures/sample.log",
                "--exit-code",
                "--category",
                "uncategorized"
            ],
            None
        ),
        Some(0)
    );
    assert_eq!(code(&["scan", "fixtures/sample.log"], None), Some(0));
    let healthy = "Found 1 dates to process\nProcessing date 1/1: 2024-02-01\n2025-11-29 10:00:00,000 - INFO - analytics.player_game_summary - Starting PlayerGameSummaryProcessor for 2024-02-01\n[player_game_summary] ✅ Success\n✅ ALL DATES SUCCESSFUL\n";
    assert_eq!(
        code(
            &["scan", "-", "--exit-code", "--processors", P1],
            Some(healthy.as_bytes())
        ),
        Some(0)
    );
    // A crashed run that never names the dates it did not reach: no rows, but not done.
    let crashed = "Found 4 dates to process\nProcessing date 1/4: 2024-02-01\n2025-11-29 10:00:00,000 - INFO - analytics.player_game_summary - Starting PlayerGameSummaryProcessor for 2024-02-01\n[player_game_summary] ✅ Success\nConnection lost\n";
    let m = dir.path().join("crashed.json");
    let m = m.to_str().unwrap();
    let scan = run(
        &[
            "scan",
            "-",
            "--exit-code",
            "--processors",
            P1,
            "-f",
            "tsv",
            "-m",
            m,
        ],
        Some(crashed.as_bytes()),
    )
    .fails_with(1);
    assert_eq!(
        scan.stdout().lines().count(),
        1,
        "only the header\n{}",
        scan.report()
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(m).unwrap()).unwrap();
    assert_eq!(doc["runs"][0]["not_started"], 3);
    assert_eq!(
        code(
            &[
                "scan",
                "-",
                "--exit-code",
                "--processors",
                P1,
                "--reason",
                "failed"
            ],
            Some(crashed.as_bytes())
        ),
        Some(0),
        "rows of reason not_started are filtered out"
    );
    let plan = run(
        &[
            "plan",
            m,
            "--exit-code",
            "--processors",
            P1,
            "-f",
            "commands",
        ],
        None,
    )
    .fails_with(1);
    assert!(
        plan.stdout()
            .contains("# 3 dates a crashed run never reached are not listed"),
        "{}",
        plan.report()
    );
    // plan: the sample's manifest.
    assert_eq!(
        code(
            &["plan", "fixtures/sample.manifest.json", "--exit-code"],
            None
        ),
        Some(1)
    );
    assert_eq!(
        code(
            &[
                "plan",
                "fixtures/sample.manifest.json",
                "--exit-code",
                "--dates",
                "2023-01-01..2023-12-31"
            ],
            None
        ),
        Some(0)
    );
    // diff: 1 while anything is still failing or new, 0 when everything was fixed.
    let (old, new) = diff_manifests(dir.path());
    let empty = write(dir.path(), "empty.json", &manifest(&[], &[]));
    assert_eq!(code(&["diff", &old, &new, "--exit-code"], None), Some(1));
    assert_eq!(code(&["diff", &old, &new], None), Some(0));
    assert_eq!(code(&["diff", &old, &empty, "--exit-code"], None), Some(0));
    assert_eq!(code(&["diff", &empty, &new, "--exit-code"], None), Some(1));
    // Errors stay 2 with --exit-code.
    assert_eq!(
        code(&["diff", &old, "no/such.json", "--exit-code"], None),
        Some(2)
    );
    assert_eq!(
        code(&["plan", "no/such.json", "--exit-code"], None),
        Some(2)
    );
    assert_eq!(code(&["scan", "no/such.log", "--exit-code"], None), Some(2));
}

#[test]
fn the_manifest_goes_to_stdout_with_dash_and_files_get_the_usual_modes() {
    use std::os::unix::fs::PermissionsExt;
    let to_stdout = run(&["scan", "fixtures/sample.log", "-m", "-"], None).success();
    let json = run(&["scan", "fixtures/sample.log", "-f", "json"], None).success();
    assert_text(
        &json.stdout(),
        &to_stdout.stdout(),
        "-m - vs -f json",
        Some(&to_stdout),
    );
    run(
        &["scan", "fixtures/sample.log", "-m", "-", "-f", "tsv"],
        None,
    )
    .fails_with(2);

    let dir = tempdir();
    let fresh = dir.path().join("fresh.json");
    let kept = dir.path().join("kept.json");
    std::fs::write(&kept, "old").unwrap();
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
    for path in [&fresh, &kept] {
        let out = Command::new("bash")
            .args([
                "-c",
                "umask 022 && exec \"$0\" scan fixtures/sample.log -q -m \"$1\"",
                env!("CARGO_BIN_EXE_backfill-triage"),
                path.to_str().unwrap(),
            ])
            .current_dir(root())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&fresh), 0o644);
    assert_eq!(mode(&kept), 0o640);
    assert!(std::fs::read_to_string(&kept)
        .unwrap()
        .contains("\"schema_version\": 2"));
}

/// Runs examples/retry-loop.sh in a fresh fake-runner directory on tests/fake/backfill.log.
fn retry_loop(fail_once: &str, fail_always: &str, args: &[&str]) -> (FakeRunner, Run) {
    let work = FakeRunner::new();
    std::fs::copy(
        root().join("tests/fake/backfill.log"),
        work.path().join("backfill.log"),
    )
    .unwrap();
    // The blocked date fails again unless the pairs of its gap date were retried before it.
    let needs = format!(
        "{P1}@2024-01-12={P2}@2024-01-10,{P3}@2024-01-10,upcoming_player_game_context@2024-01-10,upcoming_team_game_context@2024-01-10"
    );
    let mut cmd = work.command("bash");
    cmd.arg(root().join("examples/retry-loop.sh"))
        .args(args)
        .arg("backfill.log")
        .env("BACKFILL_TRIAGE", env!("CARGO_BIN_EXE_backfill-triage"))
        .env("FAKE_FAIL_ONCE", fail_once)
        .env("FAKE_FAIL_ALWAYS", fail_always)
        .env("FAKE_NEEDS", needs);
    let output = cmd.output().unwrap();
    let run = Run {
        command: format!("examples/retry-loop.sh {} backfill.log", args.join(" ")),
        output,
    };
    (work, run)
}

/// The final manifest's rows as `date processor action failures`.
fn final_rows(work: &FakeRunner) -> Vec<String> {
    let text = std::fs::read_to_string(work.path().join("retry-rounds/final.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["retries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["date"].as_str().unwrap(),
                r["processor"].as_str().unwrap(),
                r["action"].as_str().unwrap(),
                r["failures"]
            )
        })
        .collect()
}

const FAIL_ONCE: &str = "upcoming_player_game_context@2024-01-09";
const FAIL_ALWAYS: &str =
    "team_defense_game_summary@2024-01-08 upcoming_team_game_context@2024-01-09";

#[test]
fn the_retry_loop_stops_with_exactly_the_pairs_that_fail_for_good_escalated() {
    let (work, run) = retry_loop(FAIL_ONCE, FAIL_ALWAYS, &["--max-failures", "3"]);
    assert_eq!(run.code(), Some(1), "{}", run.report());
    let stdout = run.stdout();
    assert!(
        stdout.contains("retry-loop: stopped after 2 round(s): every remaining pair is escalated or needs a person\n"),
        "{}",
        run.report()
    );
    assert_eq!(
        final_rows(&work),
        [
            "2024-01-08 team_defense_game_summary investigate 3",
            "2024-01-09 upcoming_team_game_context investigate 3",
        ],
        "{}",
        run.report()
    );
    // Round 1 fixed the interrupted pairs and the blocked date (after its gap date), round 2 the
    // pair that failed once more.
    assert!(
        stdout
            .contains("round-0.json -> retry-rounds/round-1.json: 5 fixed, 3 still failing, 0 new"),
        "{}",
        run.report()
    );
    assert!(
        stdout
            .contains("round-1.json -> retry-rounds/round-2.json: 1 fixed, 2 still failing, 0 new"),
        "{}",
        run.report()
    );
    let calls = work.calls();
    let order: Vec<&str> = calls.lines().collect();
    let blocked = order.iter().position(|c| c.starts_with(P1)).unwrap();
    assert!(
        order[..blocked]
            .iter()
            .filter(|c| c.contains("2024-01-10"))
            .count()
            == 4,
        "the gap date's pairs run before the date they block:\n{calls}"
    );
    assert_eq!(order.len(), 8 + 3, "{calls}");
}

#[test]
fn the_retry_loop_stops_when_a_round_fixes_nothing_or_nothing_is_left() {
    // Without escalation, the pairs that fail for good stop the loop once a round fixes nothing.
    let (work, run) = retry_loop(FAIL_ONCE, FAIL_ALWAYS, &["--max-failures", "100"]);
    assert_eq!(run.code(), Some(1), "{}", run.report());
    assert!(
        run.stdout()
            .contains("retry-loop: stopped after 3 round(s): round 3 fixed nothing\n"),
        "{}",
        run.report()
    );
    assert_eq!(
        final_rows(&work),
        [
            "2024-01-08 team_defense_game_summary rerun_with_backoff 4",
            "2024-01-09 upcoming_team_game_context rerun_with_backoff 4",
        ]
    );
    // When every pair recovers, the loop ends with nothing left and status 0.
    let (work, run) = retry_loop(FAIL_ONCE, "", &[]);
    assert_eq!(run.code(), Some(0), "{}", run.report());
    assert!(
        run.stdout()
            .contains("retry-loop: stopped after 2 round(s): nothing left to retry\n"),
        "{}",
        run.report()
    );
    assert!(final_rows(&work).is_empty());
}
