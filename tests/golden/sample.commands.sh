#!/usr/bin/env bash
# Retry plan from backfill-triage: 13 (date, processor) pairs.
set -u
# ./bin/run_backfill.sh analytics/team_defense_game_summary --start-date=2024-01-09 --end-date=2024-01-09 --skip-downstream-trigger=true  # failed data_availability; first: backfill_upstream_then_rerun
sleep 30  # rerun_with_backoff: let quotas and timeouts recover
./bin/run_backfill.sh analytics/team_offense_game_summary --start-date=2024-01-09 --end-date=2024-01-09 --skip-downstream-trigger=true  # failed resource_exhaustion
./bin/run_backfill.sh analytics/team_offense_game_summary --start-date=2024-01-10 --end-date=2024-01-10 --skip-downstream-trigger=true  # interrupted script_infrastructure
./bin/run_backfill.sh analytics/upcoming_player_game_context --start-date=2024-01-10 --end-date=2024-01-10 --skip-downstream-trigger=true  # interrupted script_infrastructure
./bin/run_backfill.sh analytics/upcoming_team_game_context --start-date=2024-01-10 --end-date=2024-01-10 --skip-downstream-trigger=true  # interrupted script_infrastructure
./bin/run_backfill.sh analytics/player_game_summary --start-date=2024-01-11 --end-date=2024-01-11 --skip-downstream-trigger=true  # not_started script_infrastructure
./bin/run_backfill.sh analytics/team_defense_game_summary --start-date=2024-01-11 --end-date=2024-01-11 --skip-downstream-trigger=true  # not_started script_infrastructure
./bin/run_backfill.sh analytics/team_offense_game_summary --start-date=2024-01-11 --end-date=2024-01-11 --skip-downstream-trigger=true  # not_started script_infrastructure
./bin/run_backfill.sh analytics/upcoming_player_game_context --start-date=2024-01-11 --end-date=2024-01-11 --skip-downstream-trigger=true  # not_started script_infrastructure
./bin/run_backfill.sh analytics/upcoming_team_game_context --start-date=2024-01-11 --end-date=2024-01-11 --skip-downstream-trigger=true  # not_started script_infrastructure
./bin/run_backfill.sh analytics/player_game_summary --start-date=2024-01-12 --end-date=2024-01-12 --skip-downstream-trigger=true  # blocked by 2024-01-09,2024-01-10,2024-01-11
./bin/run_backfill.sh analytics/team_defense_game_summary --start-date=2024-01-12 --end-date=2024-01-12 --skip-downstream-trigger=true  # blocked by 2024-01-09,2024-01-10,2024-01-11
./bin/run_backfill.sh analytics/team_offense_game_summary --start-date=2024-01-12 --end-date=2024-01-12 --skip-downstream-trigger=true  # blocked by 2024-01-09,2024-01-10,2024-01-11
