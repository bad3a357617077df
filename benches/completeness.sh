#!/usr/bin/env bash
# completeness.sh: what --expected-dates and --run-history add to a scan.
#
# Generates a 10-year schedule as `bq query --format=csv` prints it (game_id,game_date; several
# games a day, so about 12,000 rows for 3,653 dates) and a processor_run_history export of ROWS rows
# (default 100,000) over the same dates: the five processors' class names, about 10% failures whose
# error_message is a quoted multi-line traceback, other phases' processors mixed in, created_at on
# every row. Then times, with hyperfine, a scan of LOG without the flags, with each, and with both.
# The default LOG is generated too: the same ten years run by the five processors (a start and a
# completion line per pair, 36,530 lines), every 100th date left out, so that the schedule finds
# some dates missing and the history has log pairs to fold with; a LOG that misses most expected
# dates measures mostly the writing of its many `missing` rows instead.
#
# Usage: benches/completeness.sh [LOG]      Environment: ROWS=100000 RUNS=10 BT=binary
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=${TMPDIR:-/tmp}
ROWS=${ROWS:-100000}
RUNS=${RUNS:-10}
LOG=${1:-$TMP/backfill-triage-10y.log}
if [[ -z ${BT:-} ]]; then
    (cd "$ROOT" && cargo build --release --quiet)
    BT=$ROOT/target/release/backfill-triage
fi
SCHEDULE=$TMP/backfill-triage-schedule.csv
HISTORY=$TMP/backfill-triage-history.csv

# 2015-01-01 .. 2024-12-31, 1 to 5 games a day.
awk 'BEGIN {
    print "game_id,game_date"
    split("31 28 31 30 31 30 31 31 30 31 30 31", dim, " ")
    srand(7); id = 21500001
    for (y = 2015; y <= 2024; y++) for (m = 1; m <= 12; m++) {
        n = dim[m] + (m == 2 && y % 4 == 0)
        for (d = 1; d <= n; d++) for (g = 0; g <= int(rand() * 5); g++)
            printf "%010d,%04d-%02d-%02d\n", id++, y, m, d
    }
}' >"$SCHEDULE"

awk -v rows="$ROWS" 'BEGIN {
    split("PlayerGameSummaryProcessor TeamDefenseGameSummaryProcessor TeamOffenseGameSummaryProcessor UpcomingPlayerGameContextProcessor UpcomingTeamGameContextProcessor NbacGamebookProcessor BdlBoxscoresProcessor", p, " ")
    split("31 28 31 30 31 30 31 31 30 31 30 31", dim, " ")
    print "data_date,processor_name,phase,success,error_message,rows_processed,created_at,run_id"
    srand(11)
    for (i = 0; i < rows; i++) {
        y = 2015 + int(rand() * 10); m = 1 + int(rand() * 12); d = 1 + int(rand() * dim[m])
        k = 1 + int(rand() * 7)
        phase = (k <= 5) ? "phase_3_analytics" : "phase_2_raw"
        ok = rand() < 0.9
        msg = ok ? "" : "\"Traceback (most recent call last):\n  File \"\"x.py\"\", line 1, in run\nValueError: NULL value in column points, row " i "\""
        printf "%04d-%02d-%02d,%s,%s,%s,%s,%d,2025-%02d-%02d %02d:%02d:%02d.%06d UTC,run-%d\n",
            y, m, d, p[k], phase, ok ? "true" : "false", msg, ok ? 300 : 0,
            1 + int(rand() * 12), 1 + int(rand() * 28), int(rand() * 24), int(rand() * 60),
            int(rand() * 60), int(rand() * 1000000), int(i / 1000)
    }
}' >"$HISTORY"

if [[ -z ${1:-} ]]; then
    awk 'BEGIN {
        split("player_game_summary team_defense_game_summary team_offense_game_summary upcoming_player_game_context upcoming_team_game_context", s, " ")
        split("PlayerGameSummaryProcessor TeamDefenseGameSummaryProcessor TeamOffenseGameSummaryProcessor UpcomingPlayerGameContextProcessor UpcomingTeamGameContextProcessor", c, " ")
        split("31 28 31 30 31 30 31 31 30 31 30 31", dim, " ")
        t = 0
        for (y = 2015; y <= 2024; y++) for (m = 1; m <= 12; m++) {
            n = dim[m] + (m == 2 && y % 4 == 0)
            for (d = 1; d <= n; d++) {
                if (++day % 100 == 0) continue
                for (k = 1; k <= 5; k++) {
                    t++
                    printf "2025-11-29 %02d:%02d:%02d,000 - INFO - analytics.%s - Starting %s for %04d-%02d-%02d\n", (t / 3600) % 24, (t / 60) % 60, t % 60, s[k], c[k], y, m, d
                    printf "2025-11-29 %02d:%02d:%02d,500 - INFO - analytics.%s - %s completed for %04d-%02d-%02d: 300 rows written\n", (t / 3600) % 24, (t / 60) % 60, t % 60, s[k], c[k], y, m, d
                }
            }
        }
        print "Backfill complete"
    }' >"$LOG"
fi

echo "schedule: $(($(wc -l <"$SCHEDULE") - 1)) rows ($(wc -c <"$SCHEDULE") bytes)," \
    "history: $ROWS rows ($(wc -c <"$HISTORY") bytes), log: $LOG ($(wc -c <"$LOG") bytes)"
hyperfine --warmup 2 --runs "$RUNS" -N \
    "$BT scan $LOG --quiet -m /dev/null" \
    "$BT scan $LOG --quiet -m /dev/null --expected-dates $SCHEDULE" \
    "$BT scan $LOG --quiet -m /dev/null --run-history $HISTORY" \
    "$BT scan $LOG --quiet -m /dev/null --expected-dates $SCHEDULE --run-history $HISTORY"
"$BT" scan "$LOG" --quiet --expected-dates "$SCHEDULE" --run-history "$HISTORY" | sed -n '/^Completeness/,/^Retries/p'
