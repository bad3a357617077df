#!/usr/bin/env bash
# compare.sh [LOG...]: benchmark `backfill-triage scan` against the playbook's grep recipe,
# ripgrep, ugrep and `wc -l` on big backfill logs of both kinds, and check each manifest against
# the generator's truth where there is one.
#
# Usage:
#   benches/compare.sh                 # three logs in ${TMPDIR:-/tmp}, made once and reused:
#                                      #   healthy: genlog --size $SIZE (a night of mostly INFO lines)
#                                      #   dense:   fixtures/sample.log repeated to $DENSE
#                                      #   failures: genlog --failures-only --size $DENSE
#   benches/compare.sh /tmp/big.log    # only these logs (truth: LOG.truth.tsv when present)
#
# Every command runs RUNS times, round-robin; the tables give min, median and max wall time and
# the ratios of the medians to `rg -c -i -f PATFILE` and to `wc -l` on the same log. rg searches
# one file on one thread; backfill-triage rows say their thread count (-j; the default is every
# core).
#
# Environment:
#   RUNS=5        rounds
#   SIZE=2G       size of the healthy generated log
#   DENSE=500M    size of the two failure-dense logs
#   SEED=42       seed of the generated logs (tools/genlog)
#   REGEN=1       regenerate the default logs even if they exist
#   JOBS="1 2"    -j values to time (default: 1..nproc, or powers of two + nproc above 8 cores)
#   BT=PATH       use this backfill-triage binary instead of `cargo build --release`'s
#   GZ=0          skip the .gz rows (a gzip -1 copy of each log is made once, untimed, and reused)
#
# Missing tools are skipped with a note; install them with:
#   apt-get update && apt-get install -y ripgrep ugrep
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=${TMPDIR:-/tmp}
RUNS=${RUNS:-5}
SIZE=${SIZE:-2G}
SEED=${SEED:-42}
NPROC=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
NOTES=()
note() { NOTES+=("$*"); echo "note: $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
log() { echo "== $*" >&2; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer" >&2; exit 2; }

# ---------------------------------------------------------------------------------------------
# The logs
# ---------------------------------------------------------------------------------------------
DENSE=${DENSE:-500M}
WANT_GZ=${GZ:-1}
to_bytes() { numfmt --from=iec "$1"; }
genlog() { (cd "$ROOT" && cargo run --release --quiet -p genlog -- "$@"); }
LOGS=("$@")
if ((${#LOGS[@]} == 0)); then
    healthy=$TMP/backfill-triage-bench-$SIZE-seed$SEED.log
    if [[ -n ${REGEN:-} || ! -s $healthy || ! -s $healthy.truth.tsv ]]; then
        log "generating the healthy $SIZE log (seed $SEED) at $healthy"
        genlog --size "$SIZE" --seed "$SEED" --out "$healthy" --truth "$healthy.truth.tsv"
    fi
    dense=$TMP/backfill-triage-bench-sample-$DENSE.log
    if [[ -n ${REGEN:-} || ! -s $dense ]]; then
        log "repeating fixtures/sample.log to $DENSE at $dense"
        want=$(to_bytes "$DENSE") sample=$ROOT/fixtures/sample.log
        # Whole copies of the sample, 64 at a time.
        for ((i = 0; i < 64; i++)); do cat "$sample"; done >"$dense.block"
        n=$(( (want + $(stat -c %s "$dense.block") - 1) / $(stat -c %s "$dense.block") ))
        for ((i = 0; i < n; i++)); do cat "$dense.block"; done >"$dense.part"
        rm "$dense.block"
        mv "$dense.part" "$dense"
    fi
    failures=$TMP/backfill-triage-bench-failures-$DENSE-seed$SEED.log
    if [[ -n ${REGEN:-} || ! -s $failures ]]; then
        log "generating the failures-only $DENSE log (seed $SEED) at $failures"
        genlog --size "$DENSE" --seed "$SEED" --failures-only --out "$failures"
    fi
    LOGS=("$healthy" "$dense" "$failures")
fi

WORK=$(mktemp -d "$TMP/bt-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------------------------------------
# Machine and tools
# ---------------------------------------------------------------------------------------------
echo "## Machine"
echo
echo '```'
echo "nproc: $NPROC"
echo "cpu:   $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
echo "kernel: $(uname -sr)"
echo "locale: LANG=${LANG:-} LC_ALL=${LC_ALL:-} (GNU grep -i is locale-sensitive)"
for t in grep rg ugrep wc gzip; do
    if have "$t"; then printf '%-6s %s\n' "$t:" "$("$t" --version 2>&1 | head -1)"; fi
done
echo '```'
echo

HAVE_SCAN=1
if [[ -z ${BT:-} ]]; then
    BT="${CARGO_TARGET_DIR:-$ROOT/target}/release/backfill-triage"
    log "cargo build --release"
    if ! (cd "$ROOT" && cargo build --release 2>"$WORK/build.err"); then
        tail -20 "$WORK/build.err" >&2
        note "cargo build --release failed; backfill-triage rows skipped"
        HAVE_SCAN=0
    fi
fi
if ((HAVE_SCAN)) && [[ ! -x $BT ]]; then
    note "no binary at $BT; backfill-triage rows skipped"
    HAVE_SCAN=0
fi

if [[ -n ${JOBS:-} ]]; then
    read -r -a JLIST <<<"$JOBS"
elif ((NPROC <= 8)); then
    JLIST=($(seq 1 "$NPROC"))
else
    JLIST=() j=1
    while ((j < NPROC)); do JLIST+=("$j"); j=$((j * 2)); done
    JLIST+=("$NPROC")
fi

# Procedure 2 of the playbook, verbatim (GNU grep BRE, `\|` alternation).
GREP_PATTERNS=(
    'command not found\|permission denied\|connection timeout'
    'FileNotFoundError\|No data found\|Table not found'
    'division by zero\|NULL value\|invalid data'
    'timeout\|memory\|rate limit'
    'DependencyError\|Gap detected\|upstream.*failed'
)
# The same alternatives one per line, for rg/ugrep -f.
PATFILE=$WORK/patterns.txt
printf '%s\n' "${GREP_PATTERNS[@]}" | sed 's/\\|/\n/g' >"$PATFILE"
echo "PATFILE (rg/ugrep):"; echo '```'; cat "$PATFILE"; echo '```'; echo

# Commands: shell functions of the log ($LOG) and, for the scans, the manifest's id. Output goes
# to a file, not /dev/null: GNU grep and ugrep notice a /dev/null stdout and stop at the first
# match, which would time nothing. grep -c exits 1 when nothing matches: a result, not an error.
ok01() { local rc=$?; ((rc <= 1)); }
run_scanj() { "$BT" scan "$LOG" -j "$1" --manifest "$WORK/m.scan-j$1" --quiet; }
run_stdin() { "$BT" scan - --manifest "$WORK/m.stdin" --quiet <"$LOG"; }
run_gz()    { "$BT" scan "$GZFILE" --manifest "$WORK/m.gz" --quiet; }
run_grep5() {
    local p
    for p in "${GREP_PATTERNS[@]}"; do
        grep -i -c -- "$p" "$LOG" || ok01 || return $?
    done
}
run_rg()    { rg -c -i -f "$PATFILE" "$LOG" || ok01; }
run_ugrep() { ugrep -c -i -f "$PATFILE" "$LOG" || ok01; }
run_wc()    { wc -l "$LOG"; }

now() {
    local t=${EPOCHREALTIME:-}
    if [[ -n $t ]]; then echo "${t/,/.}"; else date +%s.%N; fi
}
stats() { # min median max of the numbers on stdin
    tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {
        m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%s %s %s\n", a[1], m, a[NR] }'
}
# Runs "$@" and prints its peak RssAnon (heap and stacks, not the file mapping) in KiB.
peak_anon() {
    "$@" >/dev/null 2>&1 & local pid=$! peak=0 kb
    while kill -0 "$pid" 2>/dev/null; do
        kb=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        [[ -n $kb && $kb -gt $peak ]] && peak=$kb
        sleep 0.002
    done
    wait "$pid" || true
    echo "$peak"
}

bench_log() {
    LOG=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
    local bytes truth i id r t0 t1 rc
    bytes=$(stat -c %s "$LOG")
    truth=""
    if [[ -s $LOG.truth.tsv ]]; then truth=$LOG.truth.tsv; fi
    echo "## $(basename "$LOG") ($(awk -v b="$bytes" 'BEGIN{printf "%.2f GB", b/1e9}'), $(wc -l <"$LOG") lines)"
    echo

    IDS=() LABELS=() FUNCS=()
    add() { IDS+=("$1"); LABELS+=("$2"); FUNCS+=("$3"); }
    if ((HAVE_SCAN)); then
        for j in "${JLIST[@]}"; do add "scan-j$j" "\`backfill-triage scan LOG -j $j -m M\`" "run_scanj $j"; done
        add stdin "\`backfill-triage scan - -m M < LOG\` (-j $NPROC)" run_stdin
        GZFILE=$TMP/$(basename "$LOG").gz
        if [[ $WANT_GZ != 0 ]] && have gzip; then
            if [[ ! -s $GZFILE || $GZFILE -ot $LOG ]]; then
                log "compressing a .gz copy (gzip -1, untimed) at $GZFILE"
                gzip -1 -c "$LOG" >"$GZFILE.part" && mv "$GZFILE.part" "$GZFILE"
            fi
            add gz "\`backfill-triage scan LOG.gz -m M\` (-j $NPROC)" run_gz
        fi
    fi
    have grep && add grep5 'playbook: five `grep -i -c` (total)' run_grep5
    have rg && add rg '`rg -c -i -f PATFILE LOG` (one thread)' run_rg
    have ugrep && add ugrep '`ugrep -c -i -f PATFILE LOG`' run_ugrep
    add wc '`wc -l LOG`' run_wc

    log "$(basename "$LOG"): warming the page cache and validating"
    cat "$LOG" >/dev/null
    declare -gA TIMES=() FAILED=()
    TIMES=() FAILED=()
    for i in "${!IDS[@]}"; do
        id=${IDS[$i]}
        set +e; ${FUNCS[$i]} >"$WORK/$id.out" 2>"$WORK/$id.err"; rc=$?; set -e
        if ((rc != 0)) && [[ ! ($id == scan* || $id == stdin || $id == gz) || ! -s $WORK/m.$id ]]; then
            FAILED[$id]="rc=$rc: $(head -c 300 "$WORK/$id.err" | tr '\n' ' ')"
            note "$(basename "$LOG"): $id failed, not timed (${FAILED[$id]})"
        fi
    done

    for ((r = 1; r <= RUNS; r++)); do
        for i in "${!IDS[@]}"; do
            id=${IDS[$i]}
            [[ -n ${FAILED[$id]:-} ]] && continue
            t0=$(now)
            set +e; ${FUNCS[$i]} >"$WORK/$id.out" 2>"$WORK/$id.err"; set -e
            t1=$(now)
            TIMES[$id]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", b-a}') "
        done
        log "$(basename "$LOG"): round $r/$RUNS"
    done

    declare -A MIN=() MED=() MAX=()
    for id in "${IDS[@]}"; do
        if [[ -n ${TIMES[$id]:-} ]]; then
            read -r MIN[$id] MED[$id] MAX[$id] <<<"$(echo "${TIMES[$id]}" | stats)"
        fi
    done
    echo "| command | min s | median s | max s | GB/s (median) | vs rg | vs \`wc -l\` |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for i in "${!IDS[@]}"; do
        id=${IDS[$i]}
        if [[ -z ${MED[$id]:-} ]]; then echo "| ${LABELS[$i]} | failed | | | | | |"; continue; fi
        awk -v l="${LABELS[$i]}" -v lo="${MIN[$id]}" -v t="${MED[$id]}" -v hi="${MAX[$id]}" -v b="$bytes" \
            -v rg="${MED[rg]:-}" -v wc="${MED[wc]:-}" 'BEGIN{
            r = (rg == "" || rg == 0) ? "n/a" : sprintf("%.2fx", t / rg);
            w = (wc == "" || wc == 0) ? "n/a" : sprintf("%.2fx", t / wc);
            printf "| %s | %.3f | %.3f | %.3f | %.2f | %s | %s |\n", l, lo, t, hi, (t > 0 ? b / 1e9 / t : 0), r, w }'
    done
    echo
    if [[ -n ${MED[scan-j1]:-} ]]; then
        for j in "${JLIST[@]}"; do
            [[ $j == 1 || -z ${MED[scan-j$j]:-} ]] && continue
            echo "- $j threads vs 1: $(awk -v a="${MED[scan-j1]}" -v b="${MED[scan-j$j]}" 'BEGIN{printf "%.2fx faster", a/b}')"
        done
    fi
    local top=scan-j${JLIST[-1]}
    if [[ -n ${MED[stdin]:-} && -n ${MED[$top]:-} ]]; then
        echo "- stdin runs at $(awk -v a="${MED[$top]}" -v b="${MED[stdin]}" 'BEGIN{printf "%.0f%%", 100*a/b}') of the mapped speed (both -j $NPROC)"
    fi
    local outs=""
    for id in grep5 rg ugrep wc; do
        [[ -s $WORK/$id.out ]] && outs+="$id: $(awk '{printf "%s ", $1}' "$WORK/$id.out")| "
    done
    echo "- match counts (sanity): ${outs% | }"

    if ((HAVE_SCAN)); then
        # The manifest records each input's path ("-" for stdin) and a gzip flag; mask those.
        norm() { sed -E 's/"(path|file)": "[^"]*"/"\1": "*"/; /"(gzip|compression)": /d; s/,$//' "$1"; }
        local first="" same=1
        for id in "${IDS[@]}"; do
            [[ -s $WORK/m.$id ]] || continue
            norm "$WORK/m.$id" >"$WORK/m.$id.norm"
            if [[ -z $first ]]; then first=$id
            elif ! cmp -s "$WORK/m.$first.norm" "$WORK/m.$id.norm"; then
                same=0; echo "- manifest of $id DIFFERS from $first's"
            fi
        done
        local modes="every thread count and stdin"
        [[ -s $WORK/m.gz ]] && modes="every thread count, stdin and .gz"
        ((same)) && echo "- the manifests of $modes are identical"
        if [[ -n $truth ]]; then
            # The truth's columns: date processor category reason blocked_by (empty for none).
            "$BT" scan "$LOG" --format tsv --quiet 2>/dev/null | sed 1d |
                awk -F'\t' -v OFS='\t' '{print $3, $4, $6, $8, ($11 == "-" ? "" : $11)}' |
                sort >"$WORK/got.tsv" || true
            sed 1d "$truth" | sort >"$WORK/want.tsv"
            if cmp -s "$WORK/got.tsv" "$WORK/want.tsv"; then
                echo "- truth: MATCH, $(wc -l <"$WORK/want.tsv") retry rows (date processor category reason blocked_by)"
            else
                echo "- truth: MISMATCH: $(comm -13 "$WORK/got.tsv" "$WORK/want.tsv" | wc -l) rows missing," \
                    "$(comm -23 "$WORK/got.tsv" "$WORK/want.tsv" | wc -l) extra; first differences:"
                diff "$WORK/want.tsv" "$WORK/got.tsv" | head -6 | sed 's/^/      /'
            fi
        fi
        echo "- peak anonymous memory (RssAnon, not the mapping): mapped" \
            "$(awk -v k="$(peak_anon "$BT" scan "$LOG" -m "$WORK/m.rss" --quiet)" 'BEGIN{printf "%.1f MiB", k/1024}'), streamed" \
            "$(awk -v k="$(peak_anon "$BT" scan "$LOG" --no-mmap -m "$WORK/m.rss" --quiet)" 'BEGIN{printf "%.1f MiB", k/1024}')"
    fi
    echo
}

for l in "${LOGS[@]}"; do
    [[ -r $l ]] || { echo "cannot read $l" >&2; exit 2; }
    bench_log "$l"
done

if ((${#NOTES[@]})); then
    echo "## Notes"
    echo
    for n in "${NOTES[@]}"; do echo "- $n"; done
fi
