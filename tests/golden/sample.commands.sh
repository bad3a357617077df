#!/usr/bin/env bash
# Retry plan from backfill-triage 0.1.0: 13 (date, processor) pairs in 10 commands:
# 6 to run, 1 waiting for a person, 3 held (those two kinds are commented out).
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

# step 1/10: player_game_summary 2024-01-11, rerun
./bin/run_backfill.sh analytics/player_game_summary --start-date=2024-01-11 --end-date=2024-01-11 --skip-downstream-trigger=true
tally $? 1
#   2024-01-11 not_started script_infrastructure fixtures/sample.log:112

# step 2/10: team_defense_game_summary 2024-01-09, backfill_upstream_then_rerun: needs a person first
# ./bin/run_backfill.sh analytics/team_defense_game_summary --start-date=2024-01-09 --end-date=2024-01-09 --skip-downstream-trigger=true
#   2024-01-09 failed data_availability, 2 failures fixtures/sample.log:130: 2025-11-29 07:50:03,076 - ERROR - analytics.team_defense_game_summary - FileNotFoundError: No raw data found for game_date=2024-01-09

# step 3/10: team_defense_game_summary 2024-01-11, rerun
./bin/run_backfill.sh analytics/team_defense_game_summary --start-date=2024-01-11 --end-date=2024-01-11 --skip-downstream-trigger=true
tally $? 3
#   2024-01-11 not_started script_infrastructure fixtures/sample.log:112

# step 4/10: team_offense_game_summary 2024-01-09, rerun_with_backoff
sleep "${BACKFILL_TRIAGE_BACKOFF:-30}"  # resource_exhaustion: let quotas and timeouts recover
./bin/run_backfill.sh analytics/team_offense_game_summary --start-date=2024-01-09 --end-date=2024-01-09 --skip-downstream-trigger=true
tally $? 4
#   2024-01-09 failed resource_exhaustion fixtures/sample.log:135

# step 5/10: team_offense_game_summary 2024-01-10..2024-01-11, rerun
./bin/run_backfill.sh analytics/team_offense_game_summary --start-date=2024-01-10 --end-date=2024-01-11 --skip-downstream-trigger=true
tally $? 5
#   2024-01-10 interrupted script_infrastructure fixtures/sample.log:112
#   2024-01-11 not_started script_infrastructure fixtures/sample.log:112

# step 6/10: upcoming_player_game_context 2024-01-10..2024-01-11, rerun
./bin/run_backfill.sh analytics/upcoming_player_game_context --start-date=2024-01-10 --end-date=2024-01-11 --skip-downstream-trigger=true
tally $? 6
#   2024-01-10 interrupted script_infrastructure fixtures/sample.log:112
#   2024-01-11 not_started script_infrastructure fixtures/sample.log:112

# step 7/10: upcoming_team_game_context 2024-01-10..2024-01-11, rerun
./bin/run_backfill.sh analytics/upcoming_team_game_context --start-date=2024-01-10 --end-date=2024-01-11 --skip-downstream-trigger=true
tally $? 7
#   2024-01-10 interrupted script_infrastructure fixtures/sample.log:112
#   2024-01-11 not_started script_infrastructure fixtures/sample.log:112

# step 8/10: player_game_summary 2024-01-12, fill_gaps_then_rerun: held: gap 2024-01-09 team_defense_game_summary needs backfill_upstream_then_rerun first
# ./bin/run_backfill.sh analytics/player_game_summary --start-date=2024-01-12 --end-date=2024-01-12 --skip-downstream-trigger=true
#   2024-01-12 failed defensive_check, blocked by 2024-01-09,2024-01-10,2024-01-11 fixtures/sample.log:157: 2025-11-29 07:57:10,956 - ERROR - analytics.player_game_summary - DependencyError: Cannot process 2024-01-12 - upstream gaps detected

# step 9/10: team_defense_game_summary 2024-01-12, fill_gaps_then_rerun: held: gap 2024-01-09 team_defense_game_summary needs backfill_upstream_then_rerun first
# ./bin/run_backfill.sh analytics/team_defense_game_summary --start-date=2024-01-12 --end-date=2024-01-12 --skip-downstream-trigger=true
#   2024-01-12 failed defensive_check, blocked by 2024-01-09,2024-01-10,2024-01-11 fixtures/sample.log:164: 2025-11-29 07:57:20,185 - ERROR - analytics.team_defense_game_summary - DependencyError: Cannot process 2024-01-12 - upstream gaps detected

# step 10/10: team_offense_game_summary 2024-01-12, fill_gaps_then_rerun: held: gap 2024-01-09 team_defense_game_summary needs backfill_upstream_then_rerun first
# ./bin/run_backfill.sh analytics/team_offense_game_summary --start-date=2024-01-12 --end-date=2024-01-12 --skip-downstream-trigger=true
#   2024-01-12 failed defensive_check, blocked by 2024-01-09,2024-01-10,2024-01-11 fixtures/sample.log:171: 2025-11-29 07:57:27,759 - ERROR - analytics.team_offense_game_summary - DependencyError: Cannot process 2024-01-12 - upstream gaps detected

echo "$failed of $total commands failed" >&2
[ "$failed" -eq 0 ]
