//! One test per row of the attempt model's tables (docs/attempts.md): each feeds the events of a
//! few lines, classified by the built-in rules, to the fold and checks the rows and runs it gives.

use super::*;
use crate::rules;

fn classifier() -> &'static Classifier {
    static C: std::sync::OnceLock<Classifier> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        let names: Vec<String> = crate::processors::DEFAULT_PROCESSORS
            .iter()
            .map(|s| s.to_string())
            .collect();
        Classifier::new(rules::builtin(), &names).expect("built-in rules compile")
    })
}

/// Folds `lines` (one input) and returns the report.
fn fold(lines: &[&str]) -> Report {
    let c = classifier();
    let mut t = Triage::new(c);
    let file = t.add_file("log".into());
    for (i, line) in lines.iter().enumerate() {
        if let Some(mut event) = c.classify(line.as_bytes(), false) {
            event.line = i as u64 + 1;
            t.feed(file, event);
        }
    }
    t.end_of_file(file, lines.len() as u64);
    let report = t.finish();
    let s = &report.summary;
    assert_eq!(
        s.attempts,
        s.succeeded + s.failed + s.interrupted,
        "the attempts' outcomes add up: {s:?}"
    );
    report
}

/// The rows as `date processor category reason line`, processors abbreviated to their initials.
fn rows(lines: &[&str]) -> Vec<String> {
    fold(lines)
        .retries
        .iter()
        .map(|r| {
            let p: String = r.processor.split('_').map(|w| &w[..1]).collect();
            let silent = if r.silent { " silent" } else { "" };
            format!(
                "{} {p} {} {} {}{silent}",
                r.date,
                r.category,
                r.reason.as_str(),
                r.line
            )
        })
        .collect()
}

const START_PGS: &str = "2025-11-29 10:00:00,000 - INFO - analytics.player_game_summary - Starting PlayerGameSummaryProcessor for 2023-11-15";
const NOT_FOUND: &str = "2025-11-29 10:00:05,000 - ERROR - analytics.player_game_summary - 404 Not found: Table p:nba_raw.x was not found in location US";
const DONE_PGS: &str = "2025-11-29 10:00:09,000 - INFO - analytics.player_game_summary - PlayerGameSummaryProcessor completed for 2023-11-15: 260 rows written";

#[test]
fn run_banner_opens_a_run_and_its_planned_dates_become_not_started_when_it_crashes() {
    let report = fold(&[
        "Start: 2024-01-01 End: 2024-01-03",
        "Processing date 1/3: 2024-01-01",
        "Connection lost",
    ]);
    assert_eq!(report.runs.len(), 1);
    assert!(report.runs[0].crashed);
    assert_eq!(report.runs[0].not_started, 2);
    let not_started = report
        .retries
        .iter()
        .filter(|r| r.reason == crate::manifest::Reason::NotStarted)
        .count();
    assert_eq!(not_started, 10, "2 dates x 5 processors");
}

#[test]
fn a_second_banner_before_any_work_is_the_same_run() {
    let report = fold(&[
        "+ ./bin/backfill/backfill_phase3_historical.sh --start-date=2024-01-01 --end-date=2024-01-02",
        "Found 2 dates to process",
        "Processing date 1/2: 2024-01-01",
        "Found 1 dates to process",
        "Backfill complete",
    ]);
    assert_eq!(
        report.runs.len(),
        2,
        "the third banner came after work began"
    );
    assert!(report.runs[0].crashed && report.runs[1].completed);
    assert_eq!(report.runs[0].planned.map(|s| s.dates), Some(2));
}

#[test]
fn progress_without_planned_dates_counts_the_dates_never_started() {
    let report = fold(&[
        "Processing date 150/327...",
        "Connection lost",
        "Script terminated",
    ]);
    assert_eq!(report.runs[0].not_started, 177);
    assert_eq!(report.summary.not_started, 177);
    assert!(report.retries.is_empty());
}

#[test]
fn progress_closes_the_open_attempt_normally() {
    assert_eq!(
        rows(&[
            START_PGS,
            "Processing date 2/3: 2023-11-16",
            "Connection lost"
        ]),
        [
            "2023-11-16 pgs script_infrastructure interrupted 3",
            "2023-11-16 tdgs script_infrastructure interrupted 3",
            "2023-11-16 togs script_infrastructure interrupted 3",
            "2023-11-16 upgc script_infrastructure interrupted 3",
            "2023-11-16 utgc script_infrastructure interrupted 3",
        ],
        "2023-11-15 succeeded when the run moved on; the date it was on was cut"
    );
}

#[test]
fn an_attempt_with_a_cause_fails_whatever_cuts_it_off() {
    let want = ["2023-11-15 pgs data_availability failed 2"];
    assert_eq!(rows(&[START_PGS, NOT_FOUND]), want, "end of input");
    assert_eq!(rows(&[START_PGS, NOT_FOUND, "Killed"]), want, "a crash");
}

#[test]
fn an_attempt_cut_off_without_a_cause_is_interrupted() {
    assert_eq!(
        rows(&[START_PGS]),
        ["2023-11-15 pgs script_infrastructure interrupted 1"]
    );
}

#[test]
fn start_lines_read_every_range_and_list_form() {
    for (line, dates) in [
        ("Running run_backfill.sh analytics/player_game_summary --start-date 2023-11-01 --end-date 2023-11-03", 3),
        ("Starting PlayerGameSummaryProcessor for 2023-11-01 to 2023-11-07 (batch mode)", 7),
        ("Starting PlayerGameSummaryProcessor for 2023-11-01..2023-11-02", 2),
        ("Starting PlayerGameSummaryProcessor for 2023-11-01 -> 2023-11-04", 4),
        ("Starting PlayerGameSummaryProcessor from 2023-11-01 through 2023-11-05", 5),
        ("+ ./bin/run_backfill.sh analytics/player_game_summary --dates 2023-11-01,2023-11-03,2023-11-09", 3),
        ("Starting PlayerGameSummaryProcessor for ['2023-11-01', '2023-11-09']", 2),
        ("Starting PlayerGameSummaryProcessor for 2023-11-15 (lookback 2023-11-01)", 1),
    ] {
        let report = fold(&[line]);
        assert_eq!(report.retries.len(), dates, "{line}");
    }
}

#[test]
fn the_processors_own_start_line_continues_the_echoed_command() {
    let report = fold(&[
        "+ ./bin/run_backfill.sh analytics/player_game_summary --start-date=2023-11-01 --end-date=2023-11-07",
        "2025-11-29 10:00:00,000 - INFO - analytics.player_game_summary - Starting PlayerGameSummaryProcessor for 2023-11-01 to 2023-11-07 (batch mode)",
        "2025-11-29 10:00:05,000 - ERROR - analytics.player_game_summary - Query timeout: exceeded 180 seconds",
        "Backfill complete",
    ]);
    assert_eq!(report.retries.len(), 7);
    assert!(report
        .retries
        .iter()
        .all(|r| r.failures == 1 && r.line == 3));
}

#[test]
fn a_success_line_of_the_processor_needs_no_date() {
    for done in [
        "2025-11-29 10:00:09,000 - INFO - analytics.player_game_summary - Completed successfully",
        "2025-11-29 10:00:09,000 - INFO - x - PlayerGameSummaryProcessor completed: 260 rows written",
        "[player_game_summary] SUCCESS",
    ] {
        assert!(rows(&[START_PGS, done]).is_empty(), "{done}");
    }
    let query =
        "2025-11-29 10:00:09,000 - INFO - analytics.player_game_summary - Query completed in 2.1s";
    assert_eq!(
        rows(&[START_PGS, query]),
        ["2023-11-15 pgs script_infrastructure interrupted 2"],
        "a step of the attempt is not its end"
    );
}

#[test]
fn a_start_after_a_failure_is_a_new_try() {
    assert!(rows(&[START_PGS, NOT_FOUND, START_PGS, DONE_PGS]).is_empty());
    assert_eq!(
        fold(&[START_PGS, NOT_FOUND, START_PGS, NOT_FOUND]).retries[0].failures,
        2
    );
}

#[test]
fn phases_other_than_analytics_are_kept() {
    let report = fold(&["+ ./bin/run_backfill.sh precompute/player_game_summary --start-date=2023-11-15 --end-date=2023-11-15"]);
    assert_eq!(report.retries[0].phase, "precompute");
    assert_eq!(fold(&[START_PGS]).retries[0].phase, "analytics");
}

#[test]
fn per_date_lines_in_a_range_settle_only_their_dates() {
    assert_eq!(
        rows(&[
            "Starting PlayerGameSummaryProcessor for 2023-12-01 to 2023-12-04",
            "✅ 2023-12-01 complete",
            "Processing 2023-12-02",
            "ERROR: Query timeout: exceeded 180 seconds",
            "Starting TeamDefenseGameSummaryProcessor for 2023-12-01",
            "✅ Success",
        ]),
        [
            "2023-12-02 pgs resource_exhaustion failed 4",
            "2023-12-03 pgs script_infrastructure not_started 5",
            "2023-12-04 pgs script_infrastructure not_started 5",
        ],
        "done dates keep their success, the date it was on fails, the rest never started"
    );
}

#[test]
fn a_range_cut_off_part_way_interrupts_the_date_it_was_on() {
    assert_eq!(
        rows(&[
            "Starting PlayerGameSummaryProcessor for 2023-12-01 to 2023-12-03",
            "Processing 2023-12-02",
        ]),
        [
            "2023-12-02 pgs script_infrastructure interrupted 2",
            "2023-12-03 pgs script_infrastructure not_started 2",
        ]
    );
}

#[test]
fn success_after_a_cause_is_silent_unless_a_retry_came_between() {
    assert_eq!(
        rows(&[START_PGS, NOT_FOUND, "[player_game_summary] ✅ Success"]),
        ["2023-11-15 pgs data_availability failed 2 silent"]
    );
    assert_eq!(
        rows(&[
            START_PGS,
            NOT_FOUND,
            "2025-11-29 10:00:06,000 - WARNING - analytics.player_game_summary - Retrying (attempt 2/3) after 30s backoff",
            DONE_PGS,
        ]),
        Vec::<String>::new()
    );
}

#[test]
fn a_run_end_that_claims_success_marks_the_runs_failures_silent() {
    let report = fold(&[
        "Found 1 dates to process",
        START_PGS,
        NOT_FOUND,
        "✅ ALL DATES SUCCESSFUL",
    ]);
    assert!(report.runs[0].completed);
    assert!(report.retries[0].silent);
    let report = fold(&[
        "Found 1 dates to process",
        START_PGS,
        NOT_FOUND,
        "Backfill complete",
    ]);
    assert!(!report.retries[0].silent);
}

#[test]
fn skips_settle_pairs_and_a_date_failure_after_them_spares_them() {
    assert_eq!(
        rows(&[
            "Processing date 1/1: 2023-11-15",
            "[player_game_summary] ⏭️  Already complete",
            "Skipping 2023-11-15 (already processed)",
            "⚠️ Date 2023-11-15 had failures",
        ]),
        Vec::<String>::new()
    );
}

#[test]
fn a_failure_naming_a_processor_without_an_open_attempt_fails_that_pair() {
    assert_eq!(
        rows(&[
            "Processing date 1/1: 2023-11-15",
            "2025-11-29 10:00:05,000 - ERROR - analytics.team_offense_game_summary - ZeroDivisionError: division by zero",
            "Backfill complete",
        ]),
        ["2023-11-15 togs processing_error failed 2"]
    );
}

#[test]
fn status_lines_take_the_errors_waiting_since_the_last_one() {
    assert_eq!(
        rows(&[
            "Processing date 1/1: 2023-11-15",
            "ERROR: FileNotFoundError: No raw data found for game_date=2023-11-15",
            "[player_game_summary] ❌ Failed",
            "[team_defense_game_summary] ✅ Success",
            "ERROR: Query timeout: exceeded 180 seconds",
            "[team_offense_game_summary] ❌ Failed",
            "[upcoming_player_game_context] ✅ Success",
            "[upcoming_team_game_context] ✅ Success",
            "⚠️ Date 2023-11-15 had failures",
        ]),
        [
            "2023-11-15 pgs data_availability failed 2",
            "2023-11-15 togs resource_exhaustion failed 5",
        ]
    );
}

#[test]
fn status_lines_with_no_date_wait_for_the_date_line() {
    assert_eq!(
        rows(&[
            "[player_game_summary] ✅ Success",
            "[team_defense_game_summary] ❌ Failed",
            "⚠️ Date 2023-11-15 had failures",
        ]),
        ["2023-11-15 tdgs uncategorized failed 2"]
    );
}

#[test]
fn a_status_line_ends_its_attempt() {
    let report = fold(&[
        "+ ./bin/run_backfill.sh precompute/team_defense_game_summary --start-date=2023-11-15 --end-date=2023-11-15",
        "ERROR: ZeroDivisionError: division by zero",
        "[team_defense_game_summary] ❌ Failed",
        "+ ./bin/run_backfill.sh analytics/team_defense_game_summary --start-date=2023-11-15 --end-date=2023-11-15",
        "ERROR: ZeroDivisionError: division by zero",
        "[team_defense_game_summary] ❌ Failed",
    ]);
    assert_eq!(report.retries[0].failures, 2);
    assert_eq!(report.retries[0].phase, "analytics");
}

#[test]
fn date_failures_with_nothing_run_fail_every_pair_with_the_waiting_cause() {
    let got = rows(&[
        "ERROR: Query timeout: exceeded 180 seconds",
        "Processing failed for 2023-11-15",
    ]);
    assert_eq!(got.len(), 5);
    assert!(got
        .iter()
        .all(|r| r.contains("resource_exhaustion failed 1")));
}

#[test]
fn a_date_failure_after_pairs_ran_is_their_summary() {
    assert_eq!(
        rows(&[
            "Processing date 1/1: 2023-11-15",
            "+ ./bin/run_backfill.sh analytics/upcoming_team_game_context --start-date=2023-11-15 --end-date=2023-11-15",
            "google.api_core.exceptions.NotFound: 404 Not found: Table x was not found",
            "[upcoming_team_game_context] ❌ Failed",
            "⚠️ Date 2023-11-15 had failures",
            "Backfill complete",
        ]),
        ["2023-11-15 utgc data_availability failed 3"],
        "only the processor the retry round ran"
    );
}

#[test]
fn summary_lines_list_failed_dates_and_are_never_successes() {
    assert_eq!(
        rows(&[
            "Starting PlayerGameSummaryProcessor for 2024-02-01 to 2024-02-05",
            "Done: 4 succeeded, 1 failed (2024-02-03)",
            "Backfill complete",
        ]),
        ["2024-02-03 pgs uncategorized failed 2"]
    );
    assert!(rows(&[
        "Starting PlayerGameSummaryProcessor for 2024-02-01",
        "INFO - Batch done: 0 errors for 2024-02-01",
        "Backfill complete",
    ])
    .is_empty());
}

#[test]
fn a_closing_tally_ends_its_range_attempt() {
    assert_eq!(
        rows(&[
            "INFO:root:Running team_offense_game_summary from 2024-03-01 to 2024-03-03",
            "INFO:root:Processing 2024-03-01",
            "INFO:root:Processing 2024-03-02",
            "ERROR:root:Failed to process 2024-03-02: KeyError: 'possessions'",
            "INFO:root:Processing 2024-03-03",
            "INFO:root:Done: 2 succeeded, 1 failed (2024-03-02)",
        ]),
        ["2024-03-02 togs processing_error failed 4"],
        "the log ends, but the tally said how the attempt ended"
    );
}

#[test]
fn crashes_interrupt_the_untried_processors_of_the_date() {
    assert_eq!(
        rows(&[
            "Found 1 dates to process",
            "Processing date 1/1: 2023-11-15",
            START_PGS,
            DONE_PGS,
            "Connection lost",
            "Script terminated",
        ]),
        [
            "2023-11-15 tdgs script_infrastructure interrupted 5",
            "2023-11-15 togs script_infrastructure interrupted 5",
            "2023-11-15 upgc script_infrastructure interrupted 5",
            "2023-11-15 utgc script_infrastructure interrupted 5",
        ],
        "the second crash line is the same crash"
    );
}

#[test]
fn gap_lists_give_blocked_by_and_gap_rows() {
    let report = fold(&[
        "Starting PlayerGameSummaryProcessor for 2023-11-15",
        "WARNING - Missing dates in lookback window: ['2023-11-10', '2023-11-12']",
        "DependencyError: Cannot process 2023-11-15 - upstream gaps detected",
        "Backfill complete",
    ]);
    let blocked = &report
        .retries
        .iter()
        .find(|r| r.reason == crate::manifest::Reason::Failed)
        .unwrap()
        .blocked_by;
    assert_eq!(blocked.len(), 2);
    assert_eq!(report.summary.gaps, 10);
}

#[test]
fn tracebacks_follow_their_error_line_and_the_chain_root_decides() {
    assert_eq!(
        rows(&[
            "2025-11-29 10:00:00,000 - ERROR - analytics.upcoming_player_game_context - Error calculating analytics",
            "Traceback (most recent call last):",
            "  File \"x.py\", line 1, in run",
            "shared.utils.exceptions.DependencyError: upstream processor team_offense_game_summary failed for 2023-11-15",
            "Processing date 1/1: 2023-11-16",
            "Backfill complete",
        ]),
        ["2023-11-15 upgc defensive_check failed 4"],
        "no date context and no attempt: the traceback waits with its error line, whose processor \
         it keeps, until a date is known (the exception's)"
    );
    assert_eq!(
        rows(&[
            "2025-11-29 10:00:00,000 - INFO - analytics.team_offense_game_summary - Starting TeamOffenseGameSummaryProcessor for 2023-11-16",
            "google.api_core.exceptions.NotFound: 404 Not found: Table x was not found",
            "",
            "The above exception was the direct cause of the following exception:",
            "",
            "google.api_core.exceptions.Forbidden: 403 Exceeded rate limits: too many table update operations",
        ]),
        ["2023-11-16 togs data_availability failed 2"]
    );
}

#[test]
fn exception_lines_never_make_rows_for_the_processors_they_mention() {
    assert_eq!(
        rows(&[
            "2025-11-29 10:00:00,000 - INFO - analytics.upcoming_player_game_context - Starting UpcomingPlayerGameContextProcessor for 2023-11-15",
            "2025-11-29 10:00:01,000 - ERROR - analytics.upcoming_player_game_context - Error calculating analytics",
            "shared.utils.exceptions.DependencyError: upstream processor team_offense_game_summary failed for 2023-11-15",
        ]),
        ["2023-11-15 upgc defensive_check failed 3"]
    );
}

#[test]
fn a_traceback_printed_before_its_error_line_joins_it() {
    assert_eq!(
        rows(&[
            "Processing date 1/1: 2023-11-15",
            "ValueError: NULL value in column 'points'",
            "2025-11-29 10:00:01,000 - ERROR - analytics.team_offense_game_summary - Processing failed",
            "Backfill complete",
        ]),
        ["2023-11-15 togs processing_error failed 2"]
    );
}

#[test]
fn set_x_echoes_open_no_second_run() {
    let report = fold(&[
        "+ echo 'Found 2 dates to process'",
        "Found 2 dates to process",
        "+ echo 'Processing date 1/2: 2024-01-01'",
        "Processing date 1/2: 2024-01-01",
        "Backfill complete",
    ]);
    assert_eq!(report.runs.len(), 1);
}

#[test]
fn structured_lines_open_attempts_like_their_plain_twins() {
    for line in [
        r#"{"event": "starting", "processor": "player_game_summary", "game_date": "2023-11-15", "level": "info"}"#,
        "ts=2025-11-29T10:00:00Z level=info msg=start processor=player_game_summary date=2023-11-15",
    ] {
        assert_eq!(
            rows(&[line, NOT_FOUND]),
            ["2023-11-15 pgs data_availability failed 2"],
            "{line}"
        );
    }
}

#[test]
fn tagged_lanes_run_side_by_side() {
    assert_eq!(
        rows(&[
            "player_game_summary\t2025-11-29 10:00:00,000 - INFO - analytics.player_game_summary - Starting PlayerGameSummaryProcessor for 2023-11-15",
            "team_defense_game_summary\t2025-11-29 10:00:00,100 - INFO - analytics.team_defense_game_summary - Starting TeamDefenseGameSummaryProcessor for 2023-11-15",
            "player_game_summary\tValueError: NULL value in column 'points'",
            "team_defense_game_summary\t2025-11-29 10:00:03,000 - INFO - analytics.team_defense_game_summary - TeamDefenseGameSummaryProcessor completed for 2023-11-15",
            "player_game_summary\t[player_game_summary] ❌ Failed",
        ]),
        ["2023-11-15 pgs processing_error failed 3"]
    );
}

#[test]
fn the_last_attempt_of_a_pair_wins_and_failures_are_counted() {
    let report = fold(&[
        START_PGS,
        NOT_FOUND,
        "Backfill complete",
        START_PGS,
        NOT_FOUND,
        "Backfill complete",
    ]);
    assert_eq!(report.retries[0].failures, 2);
    let report = fold(&[
        START_PGS,
        NOT_FOUND,
        "Backfill complete",
        START_PGS,
        DONE_PGS,
    ]);
    assert!(report.retries.is_empty());
    assert_eq!(report.succeeded["player_game_summary"].len(), 1);
}
