#!/usr/bin/env bash
# compare.sh [LOG]: benchmark `backfill-triage scan` against the playbook's grep recipe,
# ripgrep, ugrep and `wc -l` on one big backfill log, and check its manifest against the truth.
#
# Usage:
#   benches/compare.sh                 # generate (or reuse) a 2 GB log in ${TMPDIR:-/tmp}
#   benches/compare.sh /tmp/big.log    # use an existing log (truth: /tmp/big.log.truth.tsv)
#
# Environment:
#   RUNS=5        rounds; every round runs each command once, round-robin; the median is reported
#   SIZE=2G       size of the generated log when LOG is not given
#   SEED=42       seed of the generated log (tools/genlog)
#   REGEN=1       regenerate the default log even if it already exists
#   TRUTH=PATH    truth TSV (default: LOG.truth.tsv when that file exists)
#   JOBS="1 2 4"  -j values to time (default: 1..nproc, or powers of two + nproc above 8 cores)
#   BT=PATH       use this backfill-triage binary instead of `cargo build --release`'s
#   GZ=PATH       gzip copy of LOG for the .gz row (default ${TMPDIR:-/tmp}/<log name>.gz; made
#                 once with gzip -1 outside the timing, reused while newer than LOG)
#
# The generated log, its truth file and the .gz copy are left in place for reuse.
# Missing tools are skipped with a note; install them with:
#   apt-get update && apt-get install -y ripgrep ugrep hyperfine
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
# The log
# ---------------------------------------------------------------------------------------------
LOG=${1:-}
if [[ -z $LOG ]]; then
    LOG=$TMP/backfill-triage-bench-$SIZE-seed$SEED.log
    if [[ -n ${REGEN:-} || ! -s $LOG || ! -s $LOG.truth.tsv ]]; then
        log "generating $SIZE log (seed $SEED) at $LOG"
        (cd "$ROOT" && cargo run --release --quiet -p genlog -- \
            --size "$SIZE" --seed "$SEED" --out "$LOG" --truth "$LOG.truth.tsv")
    else
        log "reusing $LOG (REGEN=1 to regenerate)"
    fi
fi
[[ -r $LOG ]] || { echo "cannot read $LOG" >&2; exit 2; }
LOG=$(cd "$(dirname "$LOG")" && pwd)/$(basename "$LOG")
BYTES=$(stat -c %s "$LOG")
TRUTH=${TRUTH:-}
if [[ -z $TRUTH && -s $LOG.truth.tsv ]]; then TRUTH=$LOG.truth.tsv; fi

WORK=$(mktemp -d "$TMP/bt-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------------------------------------
# Machine
# ---------------------------------------------------------------------------------------------
echo "## Machine"
echo
echo '```'
echo "nproc: $NPROC"
echo "cpu:   $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
echo "kernel: $(uname -sr)"
echo "locale: LANG=${LANG:-} LC_ALL=${LC_ALL:-} (GNU grep -i is locale-sensitive)"
free -g 2>/dev/null || true
echo "log:   $LOG ($BYTES bytes, $(awk -v b="$BYTES" 'BEGIN{printf "%.2f GB", b/1e9}'))"
for t in grep rg ugrep wc gzip; do
    if have "$t"; then printf '%-6s %s\n' "$t:" "$("$t" --version 2>&1 | head -1)"; fi
done
echo '```'
echo

# ---------------------------------------------------------------------------------------------
# backfill-triage
# ---------------------------------------------------------------------------------------------
HAVE_SCAN=1
if [[ -n ${BT:-} ]]; then
    log "using BT=$BT (no cargo build)"
else
    BT="${CARGO_TARGET_DIR:-$ROOT/target}/release/backfill-triage"
    log "cargo build --release"
fi
if [[ $BT == "${CARGO_TARGET_DIR:-$ROOT/target}/release/backfill-triage" ]] &&
    ! (cd "$ROOT" && cargo build --release 2>"$WORK/build.err"); then
    tail -20 "$WORK/build.err" >&2
    note "cargo build --release failed; backfill-triage rows skipped"
    HAVE_SCAN=0
elif [[ ! -x $BT ]]; then
    note "no binary at $BT; backfill-triage rows skipped"
    HAVE_SCAN=0
elif ! "$BT" scan --help >/dev/null 2>&1; then
    note "$BT has no 'scan' subcommand yet; backfill-triage rows skipped"
    HAVE_SCAN=0
fi

# ---------------------------------------------------------------------------------------------
# Commands. Each is a shell function; stdout goes to $WORK/<id>.out and stderr to $WORK/<id>.err.
# Not /dev/null: GNU grep and ugrep notice a /dev/null stdout and stop at the first match, which
# would time nothing.
# ---------------------------------------------------------------------------------------------
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

GZ=${GZ:-$TMP/$(basename "$LOG").gz}

# grep -c exits 1 when nothing matches: that is a result, not an error.
ok01() { local rc=$?; ((rc <= 1)); }
run_scan()  { "$BT" scan "$LOG" --manifest "$WORK/m.scan" --quiet; }
run_scanj() { "$BT" scan "$LOG" -j "$1" --manifest "$WORK/m.scan-j$1" --quiet; }
run_stdin() { "$BT" scan - --manifest "$WORK/m.stdin" --quiet <"$LOG"; }
run_gz()    { "$BT" scan "$GZ" --manifest "$WORK/m.gz" --quiet; }
run_grep5() {
    local p
    for p in "${GREP_PATTERNS[@]}"; do
        grep -i -c -- "$p" "$LOG" || ok01 || return $?
    done
}
run_rg()    { rg -c -i -f "$PATFILE" "$LOG" || ok01; }
run_ugrep() { ugrep -c -i -f "$PATFILE" "$LOG" || ok01; }
run_wc()    { wc -l "$LOG"; }

IDS=() LABELS=() FUNCS=()
add() { IDS+=("$1"); LABELS+=("$2"); FUNCS+=("$3"); }

if ((HAVE_SCAN)); then
    add scan '`backfill-triage scan LOG --manifest M --quiet`' run_scan
fi
if have grep; then
    add grep5 'playbook: five `grep -i -c` (total)' run_grep5
else note "grep not installed"; fi
if have rg; then
    add rg '`rg -c -i -f PATFILE LOG`' run_rg
else note "rg not installed (apt-get update && apt-get install -y ripgrep)"; fi
if have ugrep; then
    add ugrep '`ugrep -c -i -f PATFILE LOG`' run_ugrep
else note "ugrep not installed (apt-get update && apt-get install -y ugrep)"; fi
add wc '`wc -l LOG`' run_wc
if ((HAVE_SCAN)); then
    if [[ -n ${JOBS:-} ]]; then
        read -r -a JLIST <<<"$JOBS"
    elif ((NPROC <= 8)); then
        JLIST=($(seq 1 "$NPROC"))
    else
        JLIST=() ; j=1
        while ((j < NPROC)); do JLIST+=("$j"); j=$((j * 2)); done
        JLIST+=("$NPROC")
    fi
    for j in "${JLIST[@]}"; do add "scan-j$j" "\`backfill-triage scan LOG -j $j\`" "run_scanj $j"; done
    add stdin '`backfill-triage scan - < LOG`' run_stdin
    if have gzip || have pigz; then
        if [[ ! -s $GZ || $GZ -ot $LOG ]]; then
            log "compressing a .gz copy (gzip -1, untimed) at $GZ"
            if have pigz; then pigz -1 -c "$LOG" >"$GZ.part"; else gzip -1 -c "$LOG" >"$GZ.part"; fi
            mv "$GZ.part" "$GZ"
        fi
        add gz "\`backfill-triage scan LOG.gz\` ($(awk -v b="$(stat -c %s "$GZ")" 'BEGIN{printf "%.0f MB", b/1e6}') gz)" run_gz
    else
        note "gzip not installed; .gz row skipped"
    fi
fi
echo "PATFILE (rg/ugrep):"; echo '```'; cat "$PATFILE"; echo '```'; echo

# ---------------------------------------------------------------------------------------------
# Warm-up + validation pass (untimed): fills the page cache, and drops commands that fail.
# ---------------------------------------------------------------------------------------------
log "warming the page cache"
cat "$LOG" >/dev/null
if [[ -s $GZ && " ${IDS[*]} " == *" gz "* ]]; then cat "$GZ" >/dev/null; fi

declare -A TIMES=() FAILED=()
for i in "${!IDS[@]}"; do
    id=${IDS[$i]}
    log "validate: $id"
    set +e; ${FUNCS[$i]} >"$WORK/$id.out" 2>"$WORK/$id.err"; rc=$?; set -e
    if [[ $id == scan* || $id == stdin || $id == gz ]]; then
        m=$WORK/m.$id
        if [[ ! -s $m ]]; then
            FAILED[$id]="rc=$rc, no manifest: $(head -c 300 "$WORK/$id.err" | tr '\n' ' ')"
        elif ((rc != 0)); then
            note "$id exited $rc (manifest written; timed anyway)"
        fi
    elif ((rc != 0)); then
        FAILED[$id]="rc=$rc: $(head -c 300 "$WORK/$id.err" | tr '\n' ' ')"
    fi
    if [[ -n ${FAILED[$id]:-} ]]; then note "$id failed, not timed (${FAILED[$id]})"; fi
done

# ---------------------------------------------------------------------------------------------
# Timed rounds, round-robin so drift (thermal, background load) hits every command alike.
# ---------------------------------------------------------------------------------------------
now() {
    local t=${EPOCHREALTIME:-}
    if [[ -n $t ]]; then echo "${t/,/.}"; else date +%s.%N; fi
}
for ((r = 1; r <= RUNS; r++)); do
    for i in "${!IDS[@]}"; do
        id=${IDS[$i]}
        if [[ -n ${FAILED[$id]:-} ]]; then continue; fi
        t0=$(now)
        set +e; ${FUNCS[$i]} >"$WORK/$id.out" 2>"$WORK/$id.err"; set -e
        t1=$(now)
        TIMES[$id]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", b-a}') "
    done
    line=""
    for id in "${IDS[@]}"; do
        if [[ -n ${TIMES[$id]:-} ]]; then line+="$id=$(echo ${TIMES[$id]} | awk '{print $NF}')s "; fi
    done
    log "round $r/$RUNS: $line"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{if(NR==0){print ""}else if(NR%2){print a[(NR+1)/2]}else{printf "%.4f\n",(a[NR/2]+a[NR/2+1])/2}}'; }
declare -A MED=()
for id in "${IDS[@]}"; do
    if [[ -n ${TIMES[$id]:-} ]]; then MED[$id]=$(echo "${TIMES[$id]}" | median); fi
done
RG=${MED[rg]:-}
WC=${MED[wc]:-}

echo "## Timings (median of $RUNS, page cache warm)"
echo
echo "| command | median s | GB/s | vs rg | vs \`wc -l\` |"
echo "|---|---:|---:|---:|---:|"
for i in "${!IDS[@]}"; do
    id=${IDS[$i]}
    if [[ -n ${FAILED[$id]:-} ]]; then
        echo "| ${LABELS[$i]} | failed | | | |"
        continue
    fi
    awk -v l="${LABELS[$i]}" -v t="${MED[$id]}" -v b="$BYTES" -v rg="$RG" -v wc="$WC" 'BEGIN{
        r = (rg == "" || rg == 0) ? "n/a" : sprintf("%.2fx", t / rg);
        w = (wc == "" || wc == 0) ? "n/a" : sprintf("%.2fx", t / wc);
        printf "| %s | %.3f | %.2f | %s | %s |\n", l, t, (t > 0 ? b / 1e9 / t : 0), r, w }'
done
echo
echo "GB/s = log bytes / median time (the .gz row too: uncompressed bytes). Ratios are time / time."
echo "The five greps count per category; rg/ugrep count lines matching any of the alternatives."
echo
outof() { if [[ -s $WORK/$1.out ]]; then awk '{printf "%s ", $1}' "$WORK/$1.out"; else printf 'n/a '; fi; }
echo "Match counts (sanity): grep x5: $(outof grep5)| rg: $(outof rg)| ugrep: $(outof ugrep)| wc -l: $(outof wc)"
echo

# ---------------------------------------------------------------------------------------------
# Manifest consistency across input paths, truth check, peak RSS.
# ---------------------------------------------------------------------------------------------
if ((HAVE_SCAN)) && [[ -s $WORK/m.scan ]]; then
    echo "## Manifest consistency (JSON manifests, input paths and the gzip flag masked)"
    echo
    # The manifest records each input's path ("-" for stdin) and a gzip flag; mask those.
    norm() { sed -E 's/"(path|file)": "[^"]*"/"\1": "*"/; /"gzip": /d; s/,$//' "$1"; }
    norm "$WORK/m.scan" >"$WORK/m.scan.norm"
    for id in "${IDS[@]}"; do
        if [[ $id == scan || ! -s $WORK/m.$id ]]; then continue; fi
        norm "$WORK/m.$id" >"$WORK/m.$id.norm"
        if cmp -s "$WORK/m.scan.norm" "$WORK/m.$id.norm"; then
            s="identical"
        else
            s="DIFFERS ($( (diff "$WORK/m.scan.norm" "$WORK/m.$id.norm" || true) | grep -c '^[<>]' || true) lines)"
        fi
        echo "- $id vs default scan: $s"
    done
    echo
fi

if ((HAVE_SCAN)) && [[ -n $TRUTH ]]; then
    echo "## Truth check ($TRUTH)"
    echo
    set +e
    "$BT" scan "$LOG" --format tsv --quiet 2>"$WORK/tsv.err" | cut -f1,2,3,5,7 >"$WORK/got.tsv"
    rc=${PIPESTATUS[0]}
    set -e
    # Compare rows only: drop a header line on either side.
    sed '1{/^date\t/d}' "$WORK/got.tsv" >"$WORK/got.rows"
    sed '1{/^date\t/d}' "$TRUTH" >"$WORK/want.rows"
    if [[ ! -s $WORK/got.rows && -s $WORK/want.rows ]]; then
        echo "NO OUTPUT from \`scan --format tsv\` (rc=$rc): $(head -c 300 "$WORK/tsv.err")"
    elif cmp -s "$WORK/got.rows" "$WORK/want.rows"; then
        echo "MATCH: $(wc -l <"$WORK/want.rows") rows identical (date processor category reason blocked_by)."
    else
        sort "$WORK/got.rows" >"$WORK/got.sorted"; sort "$WORK/want.rows" >"$WORK/want.sorted"
        missing=$(comm -13 "$WORK/got.sorted" "$WORK/want.sorted" | wc -l)
        extra=$(comm -23 "$WORK/got.sorted" "$WORK/want.sorted" | wc -l)
        echo "MISMATCH: truth $(wc -l <"$WORK/want.rows") rows, scan $(wc -l <"$WORK/got.rows") rows;" \
             "$missing missing from scan, $extra extra in scan (rc=$rc)."
        if ((missing == 0 && extra == 0)); then echo "Same rows, different order."; fi
        echo
        echo "Rows that differ only in category/reason/blocked_by: $(comm -12 <(comm -13 "$WORK/got.sorted" "$WORK/want.sorted" | awk -F'\t' '{print $1"\t"$2}' | sort -u) <(comm -23 "$WORK/got.sorted" "$WORK/want.sorted" | awk -F'\t' '{print $1"\t"$2}' | sort -u) | wc -l)"
        echo
        echo "Missing from scan, by category/reason:"
        echo '```'
        comm -13 "$WORK/got.sorted" "$WORK/want.sorted" | awk -F'\t' '{print $3" "$4}' | sort | uniq -c | sort -rn
        echo "first 10:"
        comm -13 "$WORK/got.sorted" "$WORK/want.sorted" | head -10
        echo '```'
        echo "Extra in scan, by category/reason:"
        echo '```'
        comm -23 "$WORK/got.sorted" "$WORK/want.sorted" | awk -F'\t' '{print $3" "$4}' | sort | uniq -c | sort -rn
        echo "first 10:"
        comm -23 "$WORK/got.sorted" "$WORK/want.sorted" | head -10
        echo '```'
    fi
    echo
elif [[ -z $TRUTH ]]; then
    note "no truth file (LOG.truth.tsv or TRUTH=); manifest not checked"
fi

if ((HAVE_SCAN)) && [[ -z ${FAILED[scan]:-} ]]; then
    echo "## Peak memory"
    echo
    if [[ -x /usr/bin/time ]]; then
        # With mmap (the default) the mapped log pages the scan touched count as resident too, so
        # also measure --no-mmap (when the binary has it) to see the heap-side footprint.
        VARIANTS=("")
        if "$BT" scan --help 2>&1 | grep -q -- '--no-mmap'; then VARIANTS+=("--no-mmap"); fi
        for v in "${VARIANTS[@]}"; do
            set +e
            /usr/bin/time -v "$BT" scan "$LOG" $v --manifest "$WORK/m.rss" --quiet \
                2>"$WORK/rss.err" >"$WORK/rss.out"
            set -e
            rss=$(awk -F: '/Maximum resident set size/{gsub(/ /,"",$2); print $2}' "$WORK/rss.err")
            el=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$WORK/rss.err")
            if [[ -n $rss ]]; then
                echo "- \`backfill-triage scan LOG${v:+ $v}\`: max RSS $rss KiB" \
                    "($(awk -v k="$rss" 'BEGIN{printf "%.1f MiB", k/1024}')), wall $el"
            else
                echo "- ${v:-default}: could not read max RSS from /usr/bin/time -v"
            fi
        done
    else
        echo "/usr/bin/time not installed (apt-get install -y time); peak RSS not measured"
    fi
    echo
fi

if ((${#NOTES[@]})); then
    echo "## Notes"
    echo
    for n in "${NOTES[@]}"; do echo "- $n"; done
fi
