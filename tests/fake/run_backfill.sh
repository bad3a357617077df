#!/usr/bin/env bash
# A stand-in for the platform's ./bin/run_backfill.sh, for the retry-loop tests. It logs each date
# the way the platform does (Python logging lines: Starting ... for A to B, a ✅ per date or an ERROR
# with a real error message) and fails the pairs it is told to:
#
#   FAKE_FAIL_ONCE="processor@YYYY-MM-DD ..."    fail on the first try, succeed on later ones
#   FAKE_FAIL_ALWAYS="processor@YYYY-MM-DD ..."  fail on every try
#   FAKE_NEEDS="processor@DATE=processor@DATE,... ..."
#                                                fail with DependencyError unless every pair after
#                                                '=' succeeded in an earlier call (a gap to fill)
#   FAKE_STATE=DIR                               where tries and successes are remembered (required)
#
# Every call is appended to $FAKE_STATE/calls as "processor start end".
# Usage: run_backfill.sh PHASE/PROCESSOR --start-date=A --end-date=B [--skip-downstream-trigger=true]
set -u -o pipefail

target=${1:?usage: run_backfill.sh PHASE/PROCESSOR --start-date=A --end-date=B}
shift
phase=${target%%/*}
processor=${target#*/}
start= end=
for arg; do
  case $arg in
    --start-date=*) start=${arg#*=} ;;
    --end-date=*) end=${arg#*=} ;;
  esac
done
state=${FAKE_STATE:?FAKE_STATE must name a directory}
[ -n "$start" ] && [ -n "$end" ] || { echo "run_backfill.sh: --start-date and --end-date are required" >&2; exit 2; }
touch "$state/tries" "$state/done"
echo "$processor $start $end" >> "$state/calls"

# player_game_summary -> PlayerGameSummaryProcessor
class=$(echo "$processor" | sed -E 's/(^|_)([a-z])/\U\2/g')Processor
log() { echo "$(date '+%Y-%m-%d %H:%M:%S'),000 - $1 - $phase.$processor - $2"; }
listed() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

log INFO "Starting $class for $start to $end"
status=0
d=$start
while :; do
  pair="$processor@$d"
  tries=$(grep -cx "$pair" "$state/tries" || true)
  echo "$pair" >> "$state/tries"
  missing=
  for need in ${FAKE_NEEDS:-}; do
    [ "${need%%=*}" = "$pair" ] || continue
    for gap in $(echo "${need#*=}" | tr ',' ' '); do
      grep -qx "$gap" "$state/done" || missing="$missing ${gap#*@}"
    done
  done
  log INFO "Processing $d"
  if [ -n "$missing" ]; then
    log WARNING "Missing dates in lookback window: [$(echo $missing | sed -E "s/([0-9-]+)/'\1'/g; s/ /, /g")]"
    log ERROR "DependencyError: Cannot process $d - upstream gaps detected"
    status=1
  elif listed "$pair" "${FAKE_FAIL_ALWAYS:-}" || { listed "$pair" "${FAKE_FAIL_ONCE:-}" && [ "$tries" -eq 0 ]; }; then
    log ERROR "Query timeout: exceeded 180 seconds (job_id=job_fake$RANDOM)"
    status=1
  else
    log INFO "✅ $d complete"
    echo "$pair" >> "$state/done"
  fi
  [ "$d" = "$end" ] && break
  d=$(date -d "$d + 1 day" +%F)
done
exit $status
