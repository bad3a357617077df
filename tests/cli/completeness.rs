//! Completeness: `--expected-dates` (a range or a schedule file) and `--run-history` (an export of
//! `processor_run_history`) through the built binary, with whole outputs compared.

use std::path::Path;

use serde_json::{json, Value};

use crate::helpers::{assert_golden, assert_text, root, run, run_in, tempdir, Run};

const PROCESSORS: [&str; 5] = [
    "player_game_summary",
    "team_defense_game_summary",
    "team_offense_game_summary",
    "upcoming_player_game_context",
    "upcoming_team_game_context",
];

/// A small timestamped log: on 2023-11-15 player_game_summary fails at 10:00:05 and
/// team_defense_game_summary succeeds at 10:00:09; the other three never run.
const TIMED_LOG: &str = "\
2025-11-29 10:00:00,000 - INFO - backfill - Found 1 dates to process
2025-11-29 10:00:01,000 - INFO - backfill - Processing date 1/1: 2023-11-15
2025-11-29 10:00:02,000 - INFO - analytics.player_game_summary - Starting PlayerGameSummaryProcessor for 2023-11-15
2025-11-29 10:00:05,000 - ERROR - analytics.player_game_summary - ZeroDivisionError: division by zero
2025-11-29 10:00:06,000 - INFO - analytics.team_defense_game_summary - Starting TeamDefenseGameSummaryProcessor for 2023-11-15
2025-11-29 10:00:09,000 - INFO - analytics.team_defense_game_summary - TeamDefenseGameSummaryProcessor completed for 2023-11-15: 25 rows written
2025-11-29 10:00:10,000 - INFO - backfill - Backfill complete
";

const TSV_HEADER: &str =
    "date\tprocessor\tcategory\taction\treason\tfailures\tblocked_by\tfile\tline\terror\n";

/// Runs `scan ARGS -f json` in `dir` and returns the run, the manifest (its counts checked) and
/// its rows, one line each in the columns of [`TSV_HEADER`], in the manifest's order (date, then
/// processor). Taken from the manifest, they do not depend on how CSV/TSV order their columns.
fn scan_rows(dir: &Path, args: &[&str]) -> (Run, Value, String) {
    let run = run_in(dir, &[args, &["-f", "json"]].concat(), None).success();
    let m = manifest(&run);
    let mut rows = String::from(TSV_HEADER);
    for r in m["retries"].as_array().expect("retries") {
        let blocked: Vec<&str> = r["blocked_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
        rows.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            text("date"),
            text("processor"),
            text("category"),
            text("action"),
            text("reason"),
            r["failures"],
            blocked.join(","),
            text("file"),
            r["line"],
            text("error"),
        ));
    }
    (run, m, rows)
}

/// Keeps columns `keep` (indices into [`TSV_HEADER`]'s) of every row but the header, joined by
/// spaces, with `file:line` for 7 and 8 together.
fn cut(rows: &str, keep: &[usize]) -> String {
    rows.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let mut out: Vec<String> = Vec::new();
            for &k in keep {
                match k {
                    7 => out.push(format!("{}:{}", f[7], f[8])),
                    8 => {}
                    k => out.push(f[k].to_string()),
                }
            }
            out.join(" ") + "\n"
        })
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("test file written");
}

fn copy_fixture(dir: &Path, fixture: &str, name: &str) {
    std::fs::copy(root().join(fixture), dir.join(name)).expect("fixture copied");
}

fn manifest(run: &Run) -> Value {
    let m: Value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("not JSON: {e}\n{}", run.report()));
    check_counts(&m, run);
    m
}

/// The summary is counted from the merged rows: totals per category and processor agree with the
/// rows, and every processor's expected dates are succeeded + failed + missing.
fn check_counts(m: &Value, run: &Run) {
    let rows = m["retries"].as_array().expect("retries");
    let s = &m["summary"];
    let sum = |v: &Value| -> u64 {
        v.as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum()
    };
    let ctx = run.report();
    assert_eq!(s["retries"].as_u64(), Some(rows.len() as u64), "{ctx}");
    assert_eq!(sum(&s["by_category"]), rows.len() as u64, "{ctx}");
    assert_eq!(sum(&s["by_processor"]), rows.len() as u64, "{ctx}");
    for (p, n) in s["by_processor"].as_object().unwrap() {
        let count = rows.iter().filter(|r| r["processor"] == p.as_str()).count();
        assert_eq!(n.as_u64(), Some(count as u64), "{p}\n{ctx}");
    }
    for (c, n) in s["by_category"].as_object().unwrap() {
        let count = rows.iter().filter(|r| r["category"] == c.as_str()).count();
        assert_eq!(n.as_u64(), Some(count as u64), "{c}\n{ctx}");
    }
    let gaps = rows.iter().filter(|r| r["reason"] == "gap").count();
    assert_eq!(s["gaps"].as_u64(), Some(gaps as u64), "{ctx}");
    let keys: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["date"].as_str().unwrap(),
                r["processor"].as_str().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by_key(|(d, p)| (*d, PROCESSORS.iter().position(|x| x == p)));
    sorted.dedup();
    assert_eq!(
        keys, sorted,
        "rows sorted by date then processor, each pair once\n{ctx}"
    );
    if let Some(c) = m.get("completeness") {
        let missing = rows.iter().filter(|r| r["reason"] == "missing").count() as u64;
        assert_eq!(c["missing"].as_u64(), Some(missing), "{ctx}");
        for p in c["processors"].as_array().unwrap() {
            let n = |k: &str| p[k].as_u64().unwrap();
            assert_eq!(
                n("expected"),
                n("succeeded") + n("failed") + n("missing"),
                "{p}\n{ctx}"
            );
        }
    }
}

/// The playbook's Scenario 6 symptom, verbatim: the script says every date succeeded. The
/// schedule has three dates the log never mentions: each is missing for all five processors,
/// and the retry plan runs the playbook's Scenario 6 recovery loop.
#[test]
fn scenario6_verbatim_with_three_unmentioned_scheduled_dates_gives_fifteen_missing_rows() {
    let dir = tempdir();
    copy_fixture(
        dir.path(),
        "fixtures/shapes/pb_s6_verbatim.log",
        "scenario6.log",
    );
    write(
        dir.path(),
        "schedule.txt",
        "# MISSING_DATES from the playbook's Scenario 6\n2022-03-15\n\n2022-04-20\n2023-01-10\n",
    );
    let args = ["scan", "scenario6.log", "--expected-dates", "schedule.txt"];
    let (json, m, rows) = scan_rows(dir.path(), &args);
    let dates = [("2022-03-15", 2), ("2022-04-20", 4), ("2023-01-10", 5)];
    let mut want = String::from(TSV_HEADER);
    for (date, line) in dates {
        for p in PROCESSORS {
            want.push_str(&format!(
                "{date}\t{p}\tscript_infrastructure\trerun\tmissing\t0\t\tschedule.txt\t{line}\texpected date never attempted: no log line mentions it\n"
            ));
        }
    }
    assert_text(&want, &rows, "rows", Some(&json));
    let per: Vec<Value> = PROCESSORS
        .iter()
        .map(|p| json!({"processor": p, "expected": 3, "succeeded": 0, "failed": 0, "missing": 3}))
        .collect();
    assert_eq!(
        m["completeness"],
        json!({
            "expected": {"source": "schedule.txt", "dates": 3, "first": "2022-03-15", "last": "2023-01-10"},
            "history": null,
            "processors": per,
            "missing": 15,
            "unexpected": [],
            "unexpected_dates": 0
        }),
        "{}",
        json.report()
    );
    assert_eq!(m["summary"]["by_category"]["script_infrastructure"], 15);
    assert_eq!(m["runs"][0]["completed"], true, "{}", json.report());

    // The ready commands: the playbook's loop over the missing dates and the five processors.
    let commands = run_in(dir.path(), &[&args[..], &["-f", "commands"]].concat(), None).success();
    let got: Vec<String> = commands
        .stdout()
        .lines()
        .filter(|l| l.starts_with("./bin/"))
        .map(str::to_string)
        .collect();
    let mut want: Vec<String> = Vec::new();
    for p in PROCESSORS {
        for (date, _) in dates {
            want.push(format!(
                "./bin/run_backfill.sh analytics/{p} --start-date={date} --end-date={date} --skip-downstream-trigger=true"
            ));
        }
    }
    assert_text(
        &want.join("\n"),
        &got.join("\n"),
        "commands",
        Some(&commands),
    );

    let summary = run_in(dir.path(), &args, None).success();
    let block =
        "\nCompleteness: 3 expected dates (schedule.txt, 2022-03-15..2023-01-10); 15 missing pairs
  processor                      expected succeeded failed missing
  player_game_summary                   3         0      0       3
  team_defense_game_summary             3         0      0       3
  team_offense_game_summary             3         0      0       3
  upcoming_player_game_context          3         0      0       3
  upcoming_team_game_context            3         0      0       3
";
    assert!(summary.stdout().contains(block), "{}", summary.report());
}

/// The scenario 6 fixture log with the schedule and run history that go with it: the whole
/// manifest and summary against golden files, and the rows worked out by hand.
#[test]
fn scenario6_log_with_its_schedule_and_run_history() {
    let args = [
        "scan",
        "fixtures/scenario6_completed_with_failures.log",
        "--expected-dates",
        "fixtures/scenario6_schedule.csv",
        "--run-history",
        "fixtures/scenario6_history.csv",
    ];
    let (json, _, rows) = scan_rows(&root(), &args);
    assert_golden(
        &root().join("tests/golden/scenario6_completeness.manifest.json"),
        &json.stdout(),
        &json,
    );
    let summary = run(&args, None).success();
    assert_golden(
        &root().join("tests/golden/scenario6_completeness.summary.txt"),
        &summary.stdout(),
        &summary,
    );
    // See fixtures/README.md: 2022-03-15 player_game_summary's MemoryError is cleared by the
    // manual retry at 09:30; 2022-03-16 player_game_summary failed in the history only; 2022-04-20
    // team_offense's Permission denied is later than the history's success of the day before;
    // 2023-01-10 team_defense failed in both (the log's line is the evidence); 2023-01-11
    // upcoming_team failed in the history 2 s after the log said completed; 2022-03-16 (4 left),
    // 2022-04-21 and 2023-01-12 were never attempted.
    let log = "fixtures/scenario6_completed_with_failures.log";
    let history = "fixtures/scenario6_history.csv";
    let schedule = "fixtures/scenario6_schedule.csv";
    let mut want = format!("2022-03-16 player_game_summary data_availability failed {history}:2\n");
    for p in &PROCESSORS[1..] {
        want.push_str(&format!(
            "2022-03-16 {p} script_infrastructure missing {schedule}:4\n"
        ));
    }
    want.push_str(&format!(
        "2022-04-20 team_offense_game_summary script_infrastructure failed {log}:47\n"
    ));
    for p in PROCESSORS {
        want.push_str(&format!(
            "2022-04-21 {p} script_infrastructure missing {schedule}:8\n"
        ));
    }
    want.push_str(&format!(
        "2023-01-10 team_defense_game_summary script_infrastructure failed {log}:71\n"
    ));
    want.push_str(&format!(
        "2023-01-11 upcoming_team_game_context resource_exhaustion failed {history}:26\n"
    ));
    for p in PROCESSORS {
        want.push_str(&format!(
            "2023-01-12 {p} script_infrastructure missing {schedule}:12\n"
        ));
    }
    assert_text(&want, &cut(&rows, &[0, 1, 2, 4, 7]), "rows", Some(&json));
}

/// The history's manual retry clears the log's MemoryError row, and its failures add rows whose
/// category comes from classifying `error_message` (a quoted multi-line traceback before them
/// shifts their lines).
#[test]
fn a_history_success_clears_a_log_failure_and_a_history_failure_adds_a_row() {
    let log = "fixtures/scenario6_completed_with_failures.log";
    let (without, _, rows) = scan_rows(&root(), &["scan", log]);
    assert!(
        rows.contains("2022-03-15\tplayer_game_summary\tresource_exhaustion"),
        "the log alone has the MemoryError row\n{}",
        without.report()
    );
    let (json, m, rows) = scan_rows(
        &root(),
        &[
            "scan",
            log,
            "--run-history",
            "fixtures/scenario6_history.csv",
        ],
    );
    let want = format!(
        "{TSV_HEADER}\
2022-03-16\tplayer_game_summary\tdata_availability\tbackfill_upstream_then_rerun\tfailed\t1\t\tfixtures/scenario6_history.csv\t2\tFileNotFoundError: No raw data found for game_date=2022-03-16
2022-04-20\tteam_offense_game_summary\tscript_infrastructure\trerun\tfailed\t1\t\t{log}\t47\tbash: ./bin/run_backfill.sh: Permission denied
2023-01-10\tteam_defense_game_summary\tscript_infrastructure\trerun\tfailed\t1\t\t{log}\t71\trequests.exceptions.ConnectionError: HTTPSConnectionPool(host='bigquery.googleapis.com', port=443): Max retries exceeded with url: /bigquery/v2/projects/nba-props-platform/jobs (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused'))
2023-01-11\tupcoming_team_game_context\tresource_exhaustion\trerun_with_backoff\tfailed\t1\t\tfixtures/scenario6_history.csv\t26\tgoogle.api_core.exceptions.Forbidden: 403 Exceeded rate limits: too many table update operations for this table
"
    );
    assert_text(&want, &rows, "rows", Some(&json));
    assert_eq!(
        m["completeness"]["history"],
        json!({
            "file": "fixtures/scenario6_history.csv", "records": 23, "ignored": 1,
            "ignored_names": ["NbacGamebookProcessor"], "pairs": 21, "cleared": 1, "added": 2,
            "log_later": 1
        }),
        "{}",
        json.report()
    );
    assert_eq!(
        m["retries"][0]["rule"],
        "no-raw-data-found",
        "{}",
        json.report()
    );
    // The cleared pair now counts as succeeded, and the history's failure no longer does.
    let succeeded = &m["succeeded"];
    assert_eq!(
        succeeded["player_game_summary"],
        json!(["2022-03-15", "2022-04-20", "2023-01-10..2023-01-11"])
    );
    assert_eq!(
        succeeded["upcoming_team_game_context"],
        json!(["2022-03-15", "2022-04-20", "2023-01-10"])
    );
}

/// History and logs fold by time: a log failure later than a history success stays, a later
/// history record decides, and an untimed history wins for the pairs it has.
#[test]
fn the_latest_record_wins_and_an_untimed_history_wins_over_the_logs() {
    let dir = tempdir();
    write(dir.path(), "run.log", TIMED_LOG);
    let history = |time: &str| {
        format!(
            "data_date,processor_name,success,error_message,created_at\n\
             2023-11-15,PlayerGameSummaryProcessor,true,,{time}\n\
             2023-11-15,team_defense_game_summary,FALSE,\"Query timeout: exceeded 180 seconds\",{time}\n"
        )
    };
    write(
        dir.path(),
        "early.csv",
        &history("2025-11-29 09:00:00.000000 UTC"),
    );
    write(dir.path(), "late.csv", &history("2025-11-29T11:00:00Z"));
    write(
        dir.path(),
        "untimed.csv",
        "data_date,processor_name,success,error_message\n\
         2023-11-15,PlayerGameSummaryProcessor,1,\n\
         2023-11-15,team_defense_game_summary,0,\"Query timeout: exceeded 180 seconds\"\n",
    );
    let log_row = "2023-11-15\tplayer_game_summary\tprocessing_error\tfix_code_then_rerun\tfailed\t1\t\trun.log\t4\t2025-11-29 10:00:05,000 - ERROR - analytics.player_game_summary - ZeroDivisionError: division by zero\n";
    let history_row = |file: &str| {
        format!("2023-11-15\tteam_defense_game_summary\tresource_exhaustion\trerun_with_backoff\tfailed\t1\t\t{file}\t3\tQuery timeout: exceeded 180 seconds\n")
    };
    for (file, want, stats) in [
        // Both history records are older than the log's: the log decides both pairs.
        ("early.csv", format!("{TSV_HEADER}{log_row}"), (0, 0, 2)),
        // Both are newer: the success clears the log's failure, the failure adds a row.
        (
            "late.csv",
            format!("{TSV_HEADER}{}", history_row("late.csv")),
            (1, 1, 0),
        ),
        // No times: the history wins for the pairs it has.
        (
            "untimed.csv",
            format!("{TSV_HEADER}{}", history_row("untimed.csv")),
            (1, 1, 0),
        ),
    ] {
        let (json, m, rows) = scan_rows(dir.path(), &["scan", "run.log", "--run-history", file]);
        assert_text(&want, &rows, file, Some(&json));
        let h = &m["completeness"]["history"];
        assert_eq!(
            (
                h["cleared"].as_u64().unwrap(),
                h["added"].as_u64().unwrap(),
                h["log_later"].as_u64().unwrap()
            ),
            stats,
            "{}",
            json.report()
        );
    }
}

/// A scheduled date that some processors ran: the others are missing, and say so.
#[test]
fn a_scheduled_date_other_processors_ran_gives_missing_rows_for_the_rest() {
    let dir = tempdir();
    write(dir.path(), "run.log", TIMED_LOG);
    let (json, _, rows) = scan_rows(
        dir.path(),
        &[
            "scan",
            "run.log",
            "--expected-dates",
            "2023-11-15..2023-11-15",
        ],
    );
    let mut want = format!("{TSV_HEADER}2023-11-15\tplayer_game_summary\tprocessing_error\tfix_code_then_rerun\tfailed\t1\t\trun.log\t4\t2025-11-29 10:00:05,000 - ERROR - analytics.player_game_summary - ZeroDivisionError: division by zero\n");
    for p in &PROCESSORS[2..] {
        want.push_str(&format!(
            "2023-11-15\t{p}\tscript_infrastructure\trerun\tmissing\t0\t\t2023-11-15..2023-11-15\t0\texpected date, but this processor never ran it: no log line of it on this date (other processors ran the date)\n"
        ));
    }
    assert_text(&want, &rows, "rows", Some(&json));
}

/// A range: every calendar day is expected; log dates outside it are reported, never rows (their
/// own failure rows stay).
#[test]
fn expected_dates_as_a_range_report_the_log_dates_outside_it() {
    let log = "fixtures/scenario6_completed_with_failures.log";
    let args = ["scan", log, "--expected-dates", "2023-01-10..2023-01-13"];
    let (json, m, rows) = scan_rows(&root(), &args);
    let mut want = format!(
        "2022-03-15 player_game_summary failed {log}:18\n\
         2022-04-20 team_offense_game_summary failed {log}:47\n\
         2023-01-10 team_defense_game_summary failed {log}:71\n"
    );
    for date in ["2023-01-12", "2023-01-13"] {
        for p in PROCESSORS {
            want.push_str(&format!("{date} {p} missing 2023-01-10..2023-01-13:0\n"));
        }
    }
    assert_text(&want, &cut(&rows, &[0, 1, 4, 7]), "rows", Some(&json));
    let c = &m["completeness"];
    assert_eq!(
        c["unexpected"],
        json!(["2022-03-15", "2022-04-20"]),
        "{}",
        json.report()
    );
    assert_eq!(c["unexpected_dates"], 2);
    assert_eq!(
        c["processors"][1],
        json!({"processor": "team_defense_game_summary", "expected": 4, "succeeded": 1, "failed": 1, "missing": 2})
    );
    let summary = run(&args, None).success();
    assert!(
        summary.stdout().contains(
            "\n  not expected: 2 dates seen in the logs, no rows made: 2022-03-15, 2022-04-20\n"
        ),
        "{}",
        summary.report()
    );
}

/// The same dates as a plain list (comments, blank lines, CRLF), as `bq query --format=csv`
/// prints `SELECT game_date` (a header, a row per game), and as a schedule export whose date is
/// not the first column: the same rows, with each file's first line for a date as evidence.
#[test]
fn expected_dates_from_a_plain_list_and_a_bq_csv_give_the_same_rows() {
    let dir = tempdir();
    copy_fixture(
        dir.path(),
        "fixtures/scenario6_completed_with_failures.log",
        "run.log",
    );
    write(
        dir.path(),
        "plain.txt",
        "# schedule\r\n2023-01-11\r\n\r\n2023-01-12\r\n  2023-01-14  \r\n",
    );
    write(
        dir.path(),
        "bq.csv",
        "game_date\n2023-01-11\n2023-01-11\n2023-01-12\n2023-01-14\n2023-01-14\n2023-01-14\n",
    );
    write(
        dir.path(),
        "games.csv",
        "game_id,game_date,home_team_tricode,away_team_tricode\n\
         0022200630,2023-01-11,DEN,SAS\n\
         0022200641,2023-01-12,BOS,BKN\n\
         \"0022200660\",\"2023-01-14\",\"LAL, the Lakers\",PHI\n",
    );
    for (file, lines) in [
        ("plain.txt", [4, 5]),
        ("bq.csv", [4, 5]),
        ("games.csv", [3, 4]),
    ] {
        let (json, m, rows) = scan_rows(dir.path(), &["scan", "run.log", "--expected-dates", file]);
        let mut want = String::new();
        for (date, line) in [("2023-01-12", lines[0]), ("2023-01-14", lines[1])] {
            for p in PROCESSORS {
                want.push_str(&format!("{date} {p} missing {file}:{line}\n"));
            }
        }
        let got: String = cut(&rows, &[0, 1, 4, 7])
            .lines()
            .filter(|l| l.contains(" missing "))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_text(&want, &got, file, Some(&json));
        let c = &m["completeness"];
        assert_eq!(c["expected"]["dates"], 3, "{}", json.report());
        assert_eq!(c["processors"][0]["succeeded"], 1, "{}", json.report());
        assert_eq!(
            c["unexpected"],
            json!(["2022-03-15", "2022-04-20", "2023-01-10"]),
            "{}",
            json.report()
        );
    }
}

/// Every bad file is one line naming the file, the line and the column; exit 2; the manifest
/// from before stays as it was.
#[test]
fn bad_history_and_schedule_files_are_one_line_errors_naming_file_line_and_column() {
    let dir = tempdir();
    write(dir.path(), "run.log", TIMED_LOG);
    write(dir.path(), "m.json", "previous manifest\n");
    let cases: [(&str, &str, &str, &str); 9] = [
        (
            "--run-history",
            "nocol.csv",
            "data_date,processor_name,error_message\n2023-11-15,PlayerGameSummaryProcessor,\n",
            "nocol.csv:1: column 'success': missing from the header (it has: data_date, processor_name, error_message)",
        ),
        (
            "--run-history",
            "bool.csv",
            "data_date,processor_name,success\n2023-11-15,PlayerGameSummaryProcessor,true\n2023-11-15,PlayerGameSummaryProcessor,yes\n",
            "bool.csv:3: column 'success': not a boolean (true, false, 1 or 0): \"yes\"",
        ),
        (
            "--run-history",
            "date.csv",
            "data_date,processor_name,success,error_message\n2023-11-15,PlayerGameSummaryProcessor,false,\"a, b\nc\"\n2023-02-30,PlayerGameSummaryProcessor,true,\n",
            "date.csv:4: column 'data_date': not a YYYY-MM-DD date: \"2023-02-30\"",
        ),
        (
            "--run-history",
            "time.csv",
            "data_date,processor_name,success,created_at\n2023-11-15,PlayerGameSummaryProcessor,true,yesterday\n",
            "time.csv:2: column 'created_at': not a timestamp (YYYY-MM-DD HH:MM:SS): \"yesterday\"",
        ),
        (
            "--run-history",
            "short.csv",
            "data_date,processor_name,success\n2023-11-15,PlayerGameSummaryProcessor\n",
            "short.csv:2: column 'success': missing value (short row)",
        ),
        (
            "--run-history",
            "empty.csv",
            "",
            "empty.csv:1: empty file: expected a header with data_date, processor_name and success",
        ),
        (
            "--expected-dates",
            "schedule.csv",
            "game_date\n2023-11-15\n2023-11-31\n",
            "schedule.csv:3: column 'game_date': not a YYYY-MM-DD date: \"2023-11-31\"",
        ),
        (
            "--expected-dates",
            "list.txt",
            "2023-11-15\n2023-02-29\n",
            "list.txt:2: column '1': not a YYYY-MM-DD date: \"2023-02-29\"",
        ),
        (
            "--expected-dates",
            "games.csv",
            "game_id,home\n0022200630,DEN\n",
            "games.csv:2: no YYYY-MM-DD date in the first row after the header",
        ),
    ];
    for (flag, file, text, message) in cases {
        write(dir.path(), file, text);
        let run = run_in(
            dir.path(),
            &["scan", "run.log", flag, file, "-m", "m.json"],
            None,
        )
        .fails_with(2);
        assert_text(
            &format!("backfill-triage: {message}\n"),
            &run.stderr(),
            file,
            Some(&run),
        );
        assert_eq!(run.stdout(), "", "{}", run.report());
        let kept = std::fs::read_to_string(dir.path().join("m.json")).unwrap();
        assert_eq!(kept, "previous manifest\n", "{}", run.report());
    }
    for (spec, message) in [
        (
            "2023-11-15..2023-11-01",
            "the range ends (2023-11-01) before it starts (2023-11-15)",
        ),
        (
            "2023-02-30..2023-03-01",
            "2023-02-30 is not a calendar date",
        ),
    ] {
        let run = run_in(
            dir.path(),
            &["scan", "run.log", "--expected-dates", spec],
            None,
        )
        .fails_with(2);
        assert!(run.stderr().contains(message), "{}", run.report());
    }
    let run = run_in(
        dir.path(),
        &["scan", "run.log", "--run-history", "absent.csv"],
        None,
    )
    .fails_with(2);
    assert!(
        run.stderr().starts_with("backfill-triage: absent.csv: "),
        "{}",
        run.report()
    );
}

/// A history success clears rows of every reason (interrupted, not started, gap); a history failure
/// takes the place of a not-started or gap row, with the category its message names.
#[test]
fn history_records_clear_or_replace_interrupted_not_started_and_gap_rows() {
    let dir = tempdir();
    copy_fixture(dir.path(), "fixtures/scenario1_crash.log", "crash.log");
    copy_fixture(dir.path(), "fixtures/scenario3_gap.log", "gap.log");
    write(
        dir.path(),
        "crash.csv",
        "data_date,processor_name,success,error_message,created_at\n\
         2023-11-04,TeamOffenseGameSummaryProcessor,true,,2026-01-05 08:00:00\n\
         2023-11-05,player_game_summary,true,,\n\
         2023-11-06,UpcomingTeamGameContextProcessor,false,ERROR: Query timeout: exceeded 180 seconds,\n",
    );
    write(
        dir.path(),
        "gap.csv",
        "data_date,processor_name,success,error_message\n\
         2023-11-10,PlayerGameSummaryProcessor,true,\n\
         2023-11-10,TeamDefenseGameSummaryProcessor,false,\"Traceback (most recent call last):\n  File \"\"x.py\"\", line 3, in f\nValueError: NULL value in column 'points'\"\n",
    );
    let rows = |log: &str, history: Option<&str>| -> (Run, Vec<String>) {
        let mut args = vec!["scan", log];
        args.extend(history.iter().flat_map(|h| ["--run-history", *h]));
        let (run, _, rows) = scan_rows(dir.path(), &args);
        let lines = cut(&rows, &[0, 1, 2, 4, 7])
            .lines()
            .map(|l| format!("{l}\n"))
            .collect();
        (run, lines)
    };
    // The rows without the history (the fixtures' truths), changed as the history says.
    let edit = |rows: Vec<String>, key: &str, now: Option<&str>, was: &str| -> Vec<String> {
        let at = rows
            .iter()
            .position(|r| r.starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("{key} has a row without the history"));
        assert!(rows[at].contains(was), "{key}: {} is not {was}", rows[at]);
        let mut rows = rows;
        match now {
            Some(row) => rows[at] = format!("{row}\n"),
            None => drop(rows.remove(at)),
        }
        rows
    };

    let (_, before) = rows("crash.log", None);
    let want = edit(
        before,
        "2023-11-04 team_offense_game_summary",
        None,
        " interrupted ",
    );
    let want = edit(
        want,
        "2023-11-05 player_game_summary",
        None,
        " not_started ",
    );
    let want = edit(
        want,
        "2023-11-06 upcoming_team_game_context",
        Some("2023-11-06 upcoming_team_game_context resource_exhaustion failed crash.csv:4"),
        " not_started ",
    );
    let (with, got) = rows("crash.log", Some("crash.csv"));
    assert_text(&want.concat(), &got.concat(), "crash rows", Some(&with));

    let (_, before) = rows("gap.log", None);
    let want = edit(before, "2023-11-10 player_game_summary", None, " gap ");
    let want = edit(
        want,
        "2023-11-10 team_defense_game_summary",
        Some("2023-11-10 team_defense_game_summary processing_error failed gap.csv:3"),
        " gap ",
    );
    let (with, got) = rows("gap.log", Some("gap.csv"));
    assert_text(&want.concat(), &got.concat(), "gap rows", Some(&with));
    let (json, m, _) = scan_rows(dir.path(), &["scan", "gap.log", "--run-history", "gap.csv"]);
    assert_eq!(m["summary"]["gaps"], 3, "{}", json.report());
    assert_eq!(m["completeness"]["history"]["cleared"], 1);
    assert_eq!(m["completeness"]["history"]["added"], 1);
}
