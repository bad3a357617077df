#!/usr/bin/env bash
# retry-loop.sh: drive backfill retries round after round with backfill-triage, until nothing is
# left or nothing more can be done unattended.
#
#   examples/retry-loop.sh [OPTIONS] LOG...
#
# Round 0 scans the LOGs (oldest first). Each round then plans the retries of the last manifest,
# runs the plan's script unattended (its output, stdout and stderr, is the round's retry log),
# scans the original LOGs plus every retry log so far (one history: the last attempt of a pair
# wins), and diffs the new manifest against the previous one. The loop stops:
#
#   exit 0  when nothing is left to retry;
#   exit 1  when every remaining pair is escalated (--max-failures) or needs a person, when a round
#           fixed nothing, or after --rounds rounds;
#   exit 2  on an error (bad option, a scan or plan that failed).
#
# Options:
#   --dir DIR            where rounds are kept (default: retry-rounds): round-N.json (manifest),
#                        round-N.sh (the plan that ran), round-N.log (its output), final.json
#   --rounds N           at most N retry rounds (default: 5)
#   --max-failures N     escalate pairs that failed N times or more (default: 3)
#   --command TEMPLATE   the retry command template (default: the playbook's run_backfill.sh)
#   --max-range DAYS     the longest range one command covers (default: 31)
#   --processors LIST    processor names in run order (default: the playbook's five)
#
# Environment: BACKFILL_TRIAGE names the binary (default: backfill-triage on PATH). The plan's
# commands run in the current directory (the default command is ./bin/run_backfill.sh).
set -u -o pipefail

bt=${BACKFILL_TRIAGE:-backfill-triage}
dir=retry-rounds
rounds=5
max_failures=3
plan_opts=()
scan_opts=()
logs=()

usage() {
  sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=${2:?--dir needs a value}; shift 2 ;;
    --rounds) rounds=${2:?--rounds needs a value}; shift 2 ;;
    --max-failures) max_failures=${2:?--max-failures needs a value}; shift 2 ;;
    --command | --max-range)
      plan_opts+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    --processors)
      plan_opts+=("$1" "${2:?$1 needs a value}"); scan_opts+=("$1" "$2"); shift 2 ;;
    -h | --help) usage ;;
    --) shift; logs+=("$@"); break ;;
    -*) echo "retry-loop: unknown option $1" >&2; usage ;;
    *) logs+=("$1"); shift ;;
  esac
done
[ ${#logs[@]} -gt 0 ] || usage
plan_opts+=(--max-failures "$max_failures")
mkdir -p "$dir" || exit 2

say() { echo "retry-loop: $*"; }

# Scans the original logs plus the retry logs so far into round-$1.json.
scan() {
  "$bt" scan "${logs[@]}" "${scan_opts[@]}" "${plan_opts[@]}" --quiet \
    --manifest "$dir/round-$1.json" --format summary > "$dir/round-$1.summary.txt" || {
    say "the scan of round $1 failed"
    exit 2
  }
}

# Stops the loop: final.json is the last manifest; prints what is left.
stop() {
  local code=$1
  shift
  cp "$dir/round-$round.json" "$dir/final.json"
  say "stopped after $round round(s): $*"
  "$bt" plan "$dir/final.json" "${plan_opts[@]}" || exit 2
  exit "$code"
}

round=0
scan 0
while :; do
  manifest="$dir/round-$round.json"
  if [ "$round" -gt 0 ]; then
    say "after round $round:"
    "$bt" diff "$dir/round-$((round - 1)).json" "$manifest" || exit 2
    fixed=$("$bt" diff "$dir/round-$((round - 1)).json" "$manifest" -f tsv |
      awk -F'\t' 'NR > 1 && $1 == "fixed"' | wc -l) || exit 2
  fi
  # The plan's rows: column 2 is the mode (run, manual, held).
  "$bt" plan "$manifest" "${plan_opts[@]}" -f tsv > "$dir/round-$round.tsv" || exit 2
  left=$(awk 'NR > 1' "$dir/round-$round.tsv" | wc -l)
  runnable=$(awk -F'\t' 'NR > 1 && $2 == "run"' "$dir/round-$round.tsv" | wc -l)
  "$bt" plan "$manifest" "${plan_opts[@]}" --exit-code > /dev/null
  case $? in
    0) stop 0 "nothing left to retry" ;;
    1) [ "$left" -gt 0 ] ||
      stop 1 "no rows left, but a crashed run never reached dates it does not name: re-run the driver script" ;;
    *) exit 2 ;;
  esac
  if [ "$runnable" -eq 0 ]; then
    stop 1 "every remaining pair is escalated or needs a person"
  fi
  if [ "$round" -gt 0 ] && [ "$fixed" -eq 0 ]; then
    stop 1 "round $round fixed nothing"
  fi
  if [ "$round" -ge "$rounds" ]; then
    stop 1 "--rounds $rounds reached"
  fi
  round=$((round + 1))
  "$bt" plan "$manifest" "${plan_opts[@]}" -f commands > "$dir/round-$round.sh" || exit 2
  say "round $round: running $runnable of $left planned row(s) ($dir/round-$round.sh)"
  # The script tallies its own failures; the next scan reads what happened from its log.
  bash "$dir/round-$round.sh" > "$dir/round-$round.log" 2>&1
  tail -n 1 "$dir/round-$round.log" | sed 's/^/retry-loop:   /'
  logs+=("$dir/round-$round.log")
  scan "$round"
done
