#!/usr/bin/env bash
# scaling.sh: how `backfill-triage scan` grows with input size, and what the progress bar costs.
#
# For each size (1, 2 and 4 GB by default) it generates a log with genlog (reused while present),
# warms the page cache, and reports the median wall time of RUNS scans with a manifest, GB/s,
# seconds per GB, the peak anonymous memory (RssAnon: heap and stacks, not the file mapping) and
# whether the manifest equals the generated truth. Then, on the middle size, it times the scan on
# a pseudo-terminal (script(1)) with and without the progress bar.
#
# Usage: benches/scaling.sh            Environment: SIZES="1G 2G 4G" RUNS=3 SEED=42 BT=binary
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=${TMPDIR:-/tmp}
SIZES=${SIZES:-"1G 2G 4G"}
RUNS=${RUNS:-3}
SEED=${SEED:-42}
if [[ -z ${BT:-} ]]; then
    (cd "$ROOT" && cargo build --release --quiet)
    BT=$ROOT/target/release/backfill-triage
fi
(cd "$ROOT" && cargo build --release --quiet -p genlog)
GENLOG=${CARGO_TARGET_DIR:-$ROOT/target}/release/genlog

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# Runs "$@" and prints the peak RssAnon in KiB, sampled every 2 ms.
peak_anon() {
    "$@" >/dev/null & local pid=$! peak=0 kb
    while kill -0 "$pid" 2>/dev/null; do
        kb=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        [[ -n $kb && $kb -gt $peak ]] && peak=$kb
        sleep 0.002
    done
    wait "$pid"
    echo "$peak"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo
echo "| size | bytes | median s | GB/s | s per GB | peak anon MiB (mmap) | peak anon MiB (--no-mmap) | manifest vs truth |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
for size in $SIZES; do
    log=$TMP/backfill-triage-scale-$size-seed$SEED.log
    if [[ ! -s $log || ! -s $log.truth.tsv ]]; then
        "$GENLOG" --size "$size" --seed "$SEED" --out "$log" --truth "$log.truth.tsv" 2>/dev/null
    fi
    cat "$log" >/dev/null
    bytes=$(stat -c %s "$log")
    times=()
    for _ in $(seq "$RUNS"); do
        t0=$(now)
        "$BT" scan "$log" --manifest "$TMP/scale-manifest.json" --quiet --format tsv >/dev/null
        t1=$(now)
        times+=("$(echo "$t1 - $t0" | bc -l)")
    done
    med=$(printf '%s\n' "${times[@]}" | median)
    anon=$(peak_anon "$BT" scan "$log" --manifest "$TMP/scale-manifest.json" --quiet --format tsv)
    anon_stream=$(peak_anon "$BT" scan "$log" --no-mmap --manifest "$TMP/scale-manifest.json" --quiet --format tsv)
    if "$BT" scan "$log" --quiet --format tsv | cut -f1,2,3,5,7 | cmp -s - "$log.truth.tsv"; then
        truth=MATCH
    else
        truth=DIFFERS
    fi
    awk -v s="$size" -v b="$bytes" -v t="$med" -v a="$anon" -v n="$anon_stream" -v m="$truth" \
        'BEGIN {printf "| %s | %.0f | %.3f | %.2f | %.3f | %.1f | %.1f | %s |\n", s, b, t, b/t/1e9, t/(b/1e9), a/1024, n/1024, m}'
done

# The progress bar only draws on a terminal: run under script(1) to give it one.
if command -v script >/dev/null; then
    mid=$(echo "$SIZES" | awk '{print $((NF+1)/2 < 1 ? 1 : int((NF+1)/2))}')
    log=$TMP/backfill-triage-scale-$mid-seed$SEED.log
    with=() without=()
    for _ in $(seq "$RUNS"); do
        t0=$(now); script -qec "$BT scan $log --format tsv >/dev/null" /dev/null >/dev/null; t1=$(now)
        with+=("$(echo "$t1 - $t0" | bc -l)")
        t0=$(now); script -qec "$BT scan $log --format tsv --quiet >/dev/null" /dev/null >/dev/null; t1=$(now)
        without+=("$(echo "$t1 - $t0" | bc -l)")
    done
    w=$(printf '%s\n' "${with[@]}" | median)
    q=$(printf '%s\n' "${without[@]}" | median)
    echo
    awk -v s="$mid" -v w="$w" -v q="$q" \
        'BEGIN {printf "progress bar on a terminal (%s): %.3f s with, %.3f s --quiet: %+.1f%%\n", s, w, q, (w-q)/q*100}'
fi
