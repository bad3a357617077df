//! `genlog`: deterministic synthetic backfill-log generator, and its oracle.
//!
//! Writes a log of (roughly) any requested size in the vocabulary that `backfill-triage` reads
//! (see the playbook, `/work/shared/playbook/backfill-failure-recovery-playbook.md`): several
//! appended backfill runs (`Found N dates to process`, `Processing date i/N: D`, the five Phase 3
//! analytics processors per date in Python-logging style, hundreds of noise lines per attempt,
//! an outcome per attempt, `✅ ALL DATES SUCCESSFUL` / `Backfill script completed`), one run that
//! crashes mid-attempt (`Connection lost` / `Script terminated`), later runs that retry what failed
//! earlier, and defensive-check blocks whose gap lists name dates the log never processes.
//! Processor names, class names, loggers and the echoed retry command come from the main crate's
//! playbook tables ([`backfill_triage::processors`]), so the log speaks as the platform does.
//!
//! [`generate`] writes the log and returns the retry rows the tool must produce for it
//! ([`TruthRow`], written by [`truth_tsv`] as `date processor category reason blocked_by`),
//! computed by replaying the engine rules of the project spec over the generated event stream
//! (not by bookkeeping during generation). The `genlog` binary is its command line:
//!
//! ```text
//! cargo run --release -p genlog -- --size 2G --seed 42 --out /tmp/big.log --truth /tmp/big.log.truth.tsv
//! ```
//!
//! The same size and seed always give byte-identical output.
//!
//! Shape (seed-independent): 4 runs taking 40/30/18/12% of the new dates; run 2 crashes at ~60%
//! of its dates on a date processed for the first time, and its unreached dates move to run 3;
//! the crashed date is never re-run (the playbook's "resume from 151/327"), so `interrupted` rows
//! survive to the truth. Each run also re-runs ~90% of the still-failed pairs of earlier runs
//! (half the dates with only those processors, each preceded by a `run_backfill.sh` echo line,
//! half with all five); defensive-check failures are never re-run. ~2% of calendar days are holes
//! that no run processes. The last attempt of every completed run succeeds.
//!
//! Line forms were chosen so that each has one reading under the spec: noise lines carry a
//! DEBUG/INFO/WARNING level (or are bare SQL continuation lines with no trigger word) and contain
//! no start verb, success word, progress/run marker, crash phrase or "missing dates"; the
//! `⚠️ Analytics BLOCKED` and `Missing dates in lookback window` lines are logged at WARNING, so the
//! only failure line of a defensive check is the `DependencyError` ending its traceback.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{self, Write};
use std::sync::LazyLock;

use backfill_triage::processors::{class_name, DEFAULT_PHASE, DEFAULT_PROCESSORS, RETRY_COMMAND};

/// How many processors each date runs: the playbook's five.
const NP: usize = DEFAULT_PROCESSORS.len();
/// `PlayerGameSummaryProcessor`...: how start and success lines name a processor.
static CLASSES: LazyLock<[String; NP]> = LazyLock::new(|| DEFAULT_PROCESSORS.map(class_name));
/// `analytics.player_game_summary`...: the Python logger of each processor's lines.
static LOGGERS: LazyLock<[String; NP]> =
    LazyLock::new(|| DEFAULT_PROCESSORS.map(|p| format!("{DEFAULT_PHASE}.{p}")));

/// First data date processed (2021-10-19, start of the 2021-22 NBA season).
const START: (i64, i64, i64) = (2021, 10, 19);
/// Wall-clock start of the first run's log timestamps.
const TS_START: (i64, i64, i64) = (2025, 11, 29);

const PLAYERS: [&str; 32] = [
    "lebronjames",
    "stephencurry",
    "kevindurant",
    "giannisantetokounmpo",
    "nikolajokic",
    "lukadoncic",
    "jaysontatum",
    "joelembiid",
    "jimmybutler",
    "damianlillard",
    "anthonydavis",
    "devinbooker",
    "jamorant",
    "traeyoung",
    "zionwilliamson",
    "kawhileonard",
    "paulgeorge",
    "kyrieirving",
    "donovanmitchell",
    "shaigilgeousalexander",
    "deaaronfox",
    "bamadebayo",
    "pascalsiakam",
    "karlanthonytowns",
    "anthonyedwards",
    "lamelloball",
    "tyresehaliburton",
    "jalenbrunson",
    "derrickwhite",
    "jrueholiday",
    "chrispaul",
    "russellwestbrook",
];
const TEAMS: [&str; 30] = [
    "ATL", "BOS", "BKN", "CHA", "CHI", "CLE", "DAL", "DEN", "DET", "GSW", "HOU", "IND", "LAC",
    "LAL", "MEM", "MIA", "MIL", "MIN", "NOP", "NYK", "OKC", "ORL", "PHI", "PHX", "POR", "SAC",
    "SAS", "TOR", "UTA", "WAS",
];
const RAW_TABLES: [&str; 4] = [
    "nbac_gamebook_player_stats",
    "nbac_team_boxscore",
    "bdl_player_boxscores",
    "nbac_schedule",
];
const FUNCS: [(&str, &str); 4] = [
    ("run", "result = self.client.query(sql)"),
    (
        "extract_raw_data",
        "df = self.client.query(sql).to_dataframe()",
    ),
    ("transform", "record = self._build_record(row)"),
    ("load", "self.client.load_table_from_json(rows, table_id)"),
];

// ---------------------------------------------------------------------------------------------
// Failure templates: (category, kind). The text of each is written by `emit_failure`.
// ---------------------------------------------------------------------------------------------

const T_FILE_NOT_FOUND: u8 = 0;
const T_TABLE_NOT_FOUND: u8 = 1;
const T_QUERY_TIMEOUT: u8 = 2;
const T_RATE_LIMIT_403: u8 = 3;
const T_MEMORY: u8 = 4;
const T_ZERO_DIV: u8 = 5;
const T_NULL_VALUE: u8 = 6;
const T_CONN_ERROR: u8 = 7;
const T_GAP_BLOCKED: u8 = 8;
const N_TEMPLATES: u64 = 9;

fn template_category(t: u8) -> &'static str {
    match t {
        T_FILE_NOT_FOUND | T_TABLE_NOT_FOUND => "data_availability",
        T_QUERY_TIMEOUT | T_RATE_LIMIT_403 | T_MEMORY => "resource_exhaustion",
        T_ZERO_DIV | T_NULL_VALUE => "processing_error",
        T_CONN_ERROR => "script_infrastructure",
        _ => "defensive_check",
    }
}

// ---------------------------------------------------------------------------------------------
// RNG
// ---------------------------------------------------------------------------------------------

/// SplitMix64: tiny, fast, good enough statistically, and fully determined by the seed, which is
/// all a reproducible log needs.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    #[inline]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (multiply-shift; the bias is irrelevant here).
    #[inline]
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
    /// Uniform in `lo..=hi`.
    #[inline]
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    /// True with probability `per10k / 10000`.
    #[inline]
    fn chance(&mut self, per10k: u64) -> bool {
        self.below(10_000) < per10k
    }
    #[inline]
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------------------------
// Calendar
// ---------------------------------------------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm), so dates can be
/// plain integers and "advance one day" is `+ 1` across months, leap years and years.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn fmt_day(day: i64) -> [u8; 10] {
    let (y, m, d) = civil_from_days(day);
    let mut s = [0u8; 10];
    let y = y as u32;
    s[0] = b'0' + (y / 1000 % 10) as u8;
    s[1] = b'0' + (y / 100 % 10) as u8;
    s[2] = b'0' + (y / 10 % 10) as u8;
    s[3] = b'0' + (y % 10) as u8;
    s[4] = b'-';
    s[5] = b'0' + (m / 10) as u8;
    s[6] = b'0' + (m % 10) as u8;
    s[7] = b'-';
    s[8] = b'0' + (d / 10) as u8;
    s[9] = b'0' + (d % 10) as u8;
    s
}

fn day_string(day: i64) -> String {
    String::from_utf8(fmt_day(day).to_vec()).unwrap()
}

/// Pre-formatted `YYYY-MM-DD` for every data date the generator can mention, so hot noise lines
/// copy 10 bytes instead of doing calendar arithmetic.
struct DateTable {
    base: i64,
    strs: Vec<[u8; 10]>,
}

impl DateTable {
    fn new(lo: i64, hi: i64) -> Self {
        DateTable {
            base: lo,
            strs: (lo..=hi).map(fmt_day).collect(),
        }
    }
    #[inline]
    fn get(&self, day: i64) -> &[u8; 10] {
        &self.strs[(day - self.base) as usize]
    }
}

// ---------------------------------------------------------------------------------------------
// Plan: the semantic event stream. Generated first (so `Found N dates` and the byte budget per
// attempt are known), then both rendered to text and replayed for the truth.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Out {
    Success,
    /// Query timeout, `Retrying (attempt 2/3)`, then success: not a failure.
    Transient,
    /// Failed with template `t`; `gaps` is the sorted gap list for `T_GAP_BLOCKED`.
    Fail {
        t: u8,
        gaps: Vec<i64>,
    },
}

#[derive(Clone, Debug)]
enum Ev {
    /// `$ ./bin/backfill/backfill_phase3_historical.sh` + `Found N dates to process`.
    RunStart { n: usize },
    /// `Processing date i/N: D`.
    Progress { i: usize, n: usize, day: i64 },
    /// The playbook's retry command for `p` and `D` as `bash -x` echoes it, bare (`+
    /// ./bin/run_backfill.sh analytics/<p> --start-date=D --end-date=D ...`): an attempt start per
    /// spec, immediately superseded by the processor's own `Starting`.
    Cmd { day: i64, p: usize },
    /// `Starting <Class> for D`, noise, outcome.
    Attempt { day: i64, p: usize, out: Out },
    /// `Starting <Class> for D`, some noise, `Connection lost`, `Script terminated`.
    Crash { day: i64, p: usize },
    /// `WARNING - backfill - ⚠️ Date D had failures` (non-failure; playbook scenario 5).
    DateHadFailures { day: i64 },
    /// `✅ ALL DATES SUCCESSFUL` + `Backfill script completed`.
    RunEnd,
}

struct Plan {
    events: Vec<Ev>,
    attempts: u64,
    dates_processed: usize,
    runs: usize,
    min_day: i64,
    max_day: i64,
}

const RUNS: usize = 4;
/// Index of the run that crashes (its remaining dates move to the next run; the crashed date is
/// not retried, like the playbook's "resume from 151/327").
const CRASH_RUN: usize = 1;
/// Share (per mille) of new dates handed to each run.
const RUN_SHARE: [u64; RUNS] = [400, 300, 180, 120];

/// Target bytes per processor attempt: ~90 KB (hundreds of noise lines) for GB-sized logs, down
/// to ~1.5 KB so tiny logs still hold enough dates to show failures, gaps and a crash.
fn bytes_per_attempt(size: u64) -> u64 {
    (size / 20_000).clamp(1_500, 90_000)
}

fn plan(size: u64, rng: &mut Rng) -> Plan {
    let start = days_from_civil(START.0, START.1, START.2);
    let per_attempt = bytes_per_attempt(size);
    // ~5.3 attempts per new date once retries are counted.
    let ndates = ((size / per_attempt) * 10 / 53).max(12) as usize;

    // Calendar: consecutive days from START, ~2% of them "holes" the log never processes.
    let mut new_dates = Vec::with_capacity(ndates);
    let mut holes: BTreeSet<i64> = BTreeSet::new();
    let mut day = start;
    while new_dates.len() < ndates {
        if day != start && rng.chance(200) {
            holes.insert(day);
        } else {
            new_dates.push(day);
        }
        day += 1;
    }
    let is_hole = |d: i64, holes: &BTreeSet<i64>| d < start || holes.contains(&d);

    // Split the new dates over the runs.
    let mut chunks: Vec<Vec<i64>> = Vec::new();
    let mut at = 0usize;
    for (r, &share) in RUN_SHARE.iter().enumerate() {
        let take = if r + 1 == RUNS {
            ndates - at
        } else {
            ((ndates as u64 * share / 1000) as usize)
                .max(2)
                .min(ndates - at - (RUNS - r - 1))
        };
        chunks.push(new_dates[at..at + take].to_vec());
        at += take;
    }

    let mut events = Vec::new();
    let mut attempts = 0u64;
    // (day -> per-processor "needs retry"), and pairs that must never be re-attempted.
    let mut pending: BTreeMap<i64, [bool; NP]> = BTreeMap::new();
    let mut blocked_pairs: HashSet<(i64, usize)> = HashSet::new();
    let mut carry: Vec<i64> = Vec::new();
    let mut processed: BTreeSet<i64> = BTreeSet::new();

    for (r, chunk) in chunks.iter().enumerate() {
        let mut new: Vec<i64> = std::mem::take(&mut carry);
        new.extend_from_slice(chunk);
        let new_set: HashSet<i64> = new.iter().copied().collect();

        // Retry set: each pending pair is picked up by this run with 90% probability.
        let mut retry: BTreeMap<i64, [bool; NP]> = BTreeMap::new();
        for (&d, mask) in pending.iter() {
            let mut m = [false; NP];
            for p in 0..NP {
                m[p] = mask[p] && rng.chance(9_000);
            }
            if m.iter().any(|&b| b) {
                retry.insert(d, m);
            }
        }
        let mut list: Vec<i64> = retry.keys().copied().chain(new.iter().copied()).collect();
        list.sort_unstable();
        let n = list.len();
        events.push(Ev::RunStart { n });

        // The crash: in CRASH_RUN, at ~60% through the run, on a new date (so "every processor not
        // yet attempted for the date" is unambiguous), at a random processor.
        let crash_at: Option<(usize, usize)> = if r == CRASH_RUN {
            let target = n * 6 / 10;
            let idx = (target..n)
                .chain(0..target)
                .find(|&i| new_set.contains(&list[i]));
            idx.map(|i| (i, rng.below(NP as u64) as usize))
        } else {
            None
        };

        let mut crashed = false;
        for (i, &d) in list.iter().enumerate() {
            events.push(Ev::Progress {
                i: i + 1,
                n,
                day: d,
            });
            processed.insert(d);
            let is_new = new_set.contains(&d);
            // Which processors run, and whether each is echoed via run_backfill.sh first.
            let (mask, echo) = if is_new {
                ([true; NP], false)
            } else {
                let m = retry[&d];
                let has_blocked = (0..NP).any(|p| blocked_pairs.contains(&(d, p)));
                if !has_blocked && rng.chance(5_000) {
                    ([true; NP], false) // whole date re-run
                } else {
                    (m, true) // "retry ONLY the failed processors"
                }
            };
            let last_date = i + 1 == n;
            let mut any_failed = false;
            for p in 0..NP {
                if !mask[p] {
                    continue;
                }
                if let Some((ci, cp)) = crash_at {
                    if ci == i && cp == p {
                        events.push(Ev::Crash { day: d, p });
                        attempts += 1;
                        crashed = true;
                        break;
                    }
                }
                if echo {
                    events.push(Ev::Cmd { day: d, p });
                }
                let was_pending = pending.get(&d).is_some_and(|m| m[p]);
                let last_of_run = last_date && (p + 1..NP).all(|q| !mask[q]);
                let out = if last_of_run && r != CRASH_RUN {
                    // Keep the final attempt before `ALL DATES SUCCESSFUL` a success so the run
                    // end is never mistaken for that attempt's outcome.
                    Out::Success
                } else {
                    draw_outcome(rng, was_pending, d, &holes, start, &is_hole)
                };
                match &out {
                    Out::Fail { t, .. } => {
                        any_failed = true;
                        let e = pending.entry(d).or_insert([false; NP]);
                        if *t == T_GAP_BLOCKED {
                            e[p] = false;
                            blocked_pairs.insert((d, p));
                        } else {
                            e[p] = true;
                        }
                    }
                    _ => {
                        if let Some(e) = pending.get_mut(&d) {
                            e[p] = false;
                        }
                    }
                }
                events.push(Ev::Attempt { day: d, p, out });
                attempts += 1;
            }
            if crashed {
                // The crashed date is not retried; later dates of this run move to the next run.
                pending.remove(&d);
                carry = list[i + 1..]
                    .iter()
                    .copied()
                    .filter(|x| new_set.contains(x))
                    .collect();
                for x in &carry {
                    processed.remove(x);
                }
                break;
            }
            if any_failed {
                events.push(Ev::DateHadFailures { day: d });
            }
        }
        pending.retain(|_, m| m.iter().any(|&b| b));
        if !crashed {
            events.push(Ev::RunEnd);
        }
    }

    let min_day = start - 80;
    let max_day = day + 40;
    Plan {
        events,
        attempts,
        dates_processed: processed.len(),
        runs: RUNS,
        min_day,
        max_day,
    }
}

/// Outcome of one attempt: ~95% success, ~1% transient, ~4% failure drawn uniformly from the fixed
/// table. A retry of a pair that failed before succeeds 80% of the time (77% clean, 3% transient);
/// when it fails again the template is drawn afresh, so the category of the final attempt can
/// differ from the earlier ones (the engine must report the last attempt's).
fn draw_outcome(
    rng: &mut Rng,
    retried: bool,
    day: i64,
    holes: &BTreeSet<i64>,
    start: i64,
    is_hole: &dyn Fn(i64, &BTreeSet<i64>) -> bool,
) -> Out {
    let x = rng.below(10_000);
    let (succ, trans) = if retried { (7_700, 300) } else { (9_500, 100) };
    if x < succ {
        return Out::Success;
    }
    if x < succ + trans {
        return Out::Transient;
    }
    let t = rng.below(N_TEMPLATES) as u8;
    if t != T_GAP_BLOCKED {
        return Out::Fail {
            t,
            gaps: Vec::new(),
        };
    }
    // Gap list: 1-3 dates from the 14-day lookback window. 60% of lists also name a date the log
    // never processes, so gap rows appear: the nearest calendar hole in the window, else the
    // nearest earlier hole (possibly outside the window), else a day before the first date.
    let k = rng.range(1, 3) as usize;
    let mut gaps: BTreeSet<i64> = BTreeSet::new();
    if rng.chance(6_000) {
        let window_hole = (1..=14).map(|b| day - b).find(|&g| is_hole(g, holes));
        let hole = window_hole
            .or_else(|| holes.range(..day).next_back().copied())
            .unwrap_or(start - 1 - rng.below(10) as i64);
        gaps.insert(hole);
    }
    while gaps.len() < k {
        gaps.insert(day - rng.range(1, 14) as i64);
    }
    Out::Fail {
        t,
        gaps: gaps.into_iter().collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Truth: replay the spec's rules over the event stream.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Final {
    Success,
    Failed {
        category: &'static str,
        blocked_by: Vec<i64>,
    },
    Interrupted,
}

/// One retry row the tool must produce: the manifest's `date processor category reason
/// blocked_by`, in its order (date, then processor order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TruthRow {
    pub date: String,
    pub processor: &'static str,
    pub category: &'static str,
    /// `failed`, `interrupted` or `gap`.
    pub reason: &'static str,
    /// The gap dates of a defensive check, sorted.
    pub blocked_by: Vec<String>,
}

/// The truth as TSV with a header (`date processor category reason blocked_by`, `blocked_by`
/// joined with commas): what `--truth` writes and what the benchmark scripts compare with the
/// columns of `scan --format tsv`.
pub fn truth_tsv(rows: &[TruthRow]) -> String {
    let mut s = String::from("date\tprocessor\tcategory\treason\tblocked_by\n");
    for r in rows {
        let fields = [r.date.as_str(), r.processor, r.category, r.reason];
        s.push_str(&fields.join("\t"));
        s.push('\t');
        s.push_str(&r.blocked_by.join(","));
        s.push('\n');
    }
    s
}

/// Follows the log as the spec does: an attempt opens at its start line and is closed by a success,
/// the next start, a crash or a run end; the last attempt of a pair wins; a crash interrupts the
/// open attempt and every processor not yet attempted for the context date; gap dates expand to
/// rows for every processor whose final state is not success and that has no row of its own.
fn truth(events: &[Ev]) -> Vec<TruthRow> {
    struct Open {
        day: i64,
        p: usize,
        failure: Option<(&'static str, Vec<i64>)>,
    }
    let mut state: HashMap<(i64, usize), Final> = HashMap::new();
    let mut open: Option<Open> = None;
    let mut ctx: Option<i64> = None;
    let mut attempted = [false; NP];
    let mut run_open = false;
    let mut gap_dates: BTreeSet<i64> = BTreeSet::new();

    fn close(open: &mut Option<Open>, state: &mut HashMap<(i64, usize), Final>) {
        if let Some(o) = open.take() {
            let f = match o.failure {
                Some((category, blocked_by)) => Final::Failed {
                    category,
                    blocked_by,
                },
                None => Final::Success,
            };
            state.insert((o.day, o.p), f);
        }
    }
    fn interrupt_run(
        open: &mut Option<Open>,
        state: &mut HashMap<(i64, usize), Final>,
        ctx: Option<i64>,
        attempted: &[bool; NP],
    ) {
        if let Some(o) = open.take() {
            state.insert((o.day, o.p), Final::Interrupted);
        }
        if let Some(d) = ctx {
            for (q, &done) in attempted.iter().enumerate() {
                if !done {
                    state.insert((d, q), Final::Interrupted);
                }
            }
        }
    }
    fn start(
        open: &mut Option<Open>,
        state: &mut HashMap<(i64, usize), Final>,
        ctx: &mut Option<i64>,
        attempted: &mut [bool; NP],
        day: i64,
        p: usize,
    ) {
        close(open, state);
        if *ctx != Some(day) {
            *ctx = Some(day);
            *attempted = [false; NP];
        }
        attempted[p] = true;
        *open = Some(Open {
            day,
            p,
            failure: None,
        });
    }

    for ev in events {
        match ev {
            Ev::RunStart { .. } => {
                if run_open {
                    interrupt_run(&mut open, &mut state, ctx, &attempted);
                }
                run_open = true;
                ctx = None;
            }
            Ev::Progress { day, .. } => {
                close(&mut open, &mut state);
                ctx = Some(*day);
                attempted = [false; NP];
            }
            Ev::Cmd { day, p } => start(&mut open, &mut state, &mut ctx, &mut attempted, *day, *p),
            Ev::Attempt { day, p, out } => {
                start(&mut open, &mut state, &mut ctx, &mut attempted, *day, *p);
                match out {
                    Out::Success | Out::Transient => close(&mut open, &mut state),
                    Out::Fail { t, gaps } => {
                        let o = open.as_mut().unwrap();
                        o.failure = Some((template_category(*t), gaps.clone()));
                        gap_dates.extend(gaps.iter().copied());
                        // stays open until the next start / run end
                    }
                }
            }
            Ev::Crash { day, p } => {
                start(&mut open, &mut state, &mut ctx, &mut attempted, *day, *p);
                interrupt_run(&mut open, &mut state, ctx, &attempted);
                run_open = false;
                ctx = None;
            }
            Ev::DateHadFailures { .. } => {}
            Ev::RunEnd => {
                close(&mut open, &mut state);
                run_open = false;
                ctx = None;
            }
        }
    }
    if run_open {
        interrupt_run(&mut open, &mut state, ctx, &attempted);
    }

    // (category, reason, blocked_by) per pair, in row order.
    let mut rows: BTreeMap<(i64, usize), (&'static str, &'static str, Vec<i64>)> = BTreeMap::new();
    for (&pair, f) in &state {
        match f {
            Final::Success => {}
            Final::Failed {
                category,
                blocked_by,
            } => {
                rows.insert(pair, (category, "failed", blocked_by.clone()));
            }
            Final::Interrupted => {
                rows.insert(pair, ("script_infrastructure", "interrupted", vec![]));
            }
        }
    }
    for &g in &gap_dates {
        for p in 0..NP {
            if state.get(&(g, p)) != Some(&Final::Success) {
                rows.entry((g, p))
                    .or_insert(("defensive_check", "gap", vec![]));
            }
        }
    }
    rows.into_iter()
        .map(|((day, p), (category, reason, blocked_by))| TruthRow {
            date: day_string(day),
            processor: DEFAULT_PROCESSORS[p],
            category,
            reason,
            blocked_by: blocked_by.into_iter().map(day_string).collect(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// Line writer: one big byte buffer flushed in multi-MB chunks, a cached timestamp date, and
/// hand-rolled number formatting, so the hot path never allocates or goes through `format!`.
struct W<'a> {
    buf: Vec<u8>,
    out: &'a mut dyn Write,
    flushed: u64,
    lines: u64,
    ts_day: i64,
    ts_str: [u8; 10],
    ms: u64,
    dates: DateTable,
}

const FLUSH_AT: usize = 4 << 20;

impl<'a> W<'a> {
    #[inline]
    fn bytes(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }
    #[inline]
    fn s(&mut self, x: &str) {
        self.buf.extend_from_slice(x.as_bytes());
    }
    #[inline]
    fn b(&mut self, x: &[u8]) {
        self.buf.extend_from_slice(x);
    }
    #[inline]
    fn date(&mut self, day: i64) {
        let d = *self.dates.get(day);
        self.buf.extend_from_slice(&d);
    }
    #[inline]
    fn num(&mut self, mut n: u64) {
        let mut tmp = [0u8; 20];
        let mut i = 20;
        loop {
            i -= 1;
            tmp[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&tmp[i..]);
    }
    /// `tenths` as `X.Y`.
    #[inline]
    fn dec1(&mut self, tenths: u64) {
        self.num(tenths / 10);
        self.buf.push(b'.');
        self.buf.push(b'0' + (tenths % 10) as u8);
    }
    #[inline]
    fn hex(&mut self, mut v: u64, n: usize) {
        for _ in 0..n {
            self.buf.push(b"0123456789abcdef"[(v & 15) as usize]);
            v >>= 4;
        }
    }
    #[inline]
    fn nl(&mut self) -> io::Result<()> {
        self.buf.push(b'\n');
        self.lines += 1;
        if self.buf.len() >= FLUSH_AT {
            self.out.write_all(&self.buf)?;
            self.flushed += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.flushed += self.buf.len() as u64;
        self.buf.clear();
        self.out.flush()
    }
    /// Advance the wall clock and write `YYYY-MM-DD HH:MM:SS,mmm - LEVEL - logger - `.
    #[inline]
    fn prefix(&mut self, rng: &mut Rng, level: &str, logger: &str) {
        self.ms += rng.below(12);
        if self.ms >= 86_400_000 {
            self.ms -= 86_400_000;
            self.ts_day += 1;
            self.ts_str = fmt_day(self.ts_day);
        }
        let ms = self.ms;
        let (h, m, s, f) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
        let t = [
            b' ',
            b'0' + (h / 10) as u8,
            b'0' + (h % 10) as u8,
            b':',
            b'0' + (m / 10) as u8,
            b'0' + (m % 10) as u8,
            b':',
            b'0' + (s / 10) as u8,
            b'0' + (s % 10) as u8,
            b',',
            b'0' + (f / 100) as u8,
            b'0' + (f / 10 % 10) as u8,
            b'0' + (f % 10) as u8,
            b' ',
            b'-',
            b' ',
        ];
        let d = self.ts_str;
        self.buf.extend_from_slice(&d);
        self.buf.extend_from_slice(&t);
        self.s(level);
        self.b(b" - ");
        self.s(logger);
        self.b(b" - ");
    }
    fn skip_time(&mut self, ms: u64) {
        self.ms += ms;
        while self.ms >= 86_400_000 {
            self.ms -= 86_400_000;
            self.ts_day += 1;
            self.ts_str = fmt_day(self.ts_day);
        }
    }
}

/// One noise line (or a short SQL block) for processor `p` working on `day`. None of these is a
/// failure, an attempt start, a success, a progress/run marker, a crash or a gap list under the
/// spec (every line carries a non-failure level, or is a bare SQL continuation line with no
/// trigger words), but several mention symptoms the playbook's greps look for.
fn noise_line(w: &mut W, rng: &mut Rng, p: usize, day: i64) -> io::Result<()> {
    let lg: &str = &LOGGERS[p];
    let player = p == 0 || p == 3;
    let x = rng.below(100);
    match x {
        0..=33 => {
            w.prefix(rng, "DEBUG", lg);
            w.s("row {'game_date': '");
            w.date(day - rng.below(15) as i64);
            if player {
                w.s("', 'player_lookup': '");
                let n = rng.pick(&PLAYERS);
                w.s(n);
                w.s("', 'points': ");
                w.num(rng.below(45));
                w.s(", 'minutes': ");
                w.dec1(rng.range(40, 440));
                w.s("}");
            } else {
                w.s("', 'team_abbr': '");
                let t = rng.pick(&TEAMS);
                w.s(t);
                w.s("', 'opponent': '");
                let o = rng.pick(&TEAMS);
                w.s(o);
                w.s("', 'pace': ");
                w.dec1(rng.range(900, 1060));
                w.s(", 'def_rating': ");
                w.dec1(rng.range(1000, 1250));
                w.s("}");
            }
            w.nl()
        }
        34..=39 => {
            w.prefix(rng, "DEBUG", lg);
            w.s("bigquery query text:");
            w.nl()?;
            w.s("    SELECT game_id, game_date, team_abbr, player_lookup, points, minutes_played");
            w.nl()?;
            w.s("    FROM `nba-props-platform.nba_raw.");
            let t = rng.pick(&RAW_TABLES);
            w.s(t);
            w.s("`");
            w.nl()?;
            w.s("    WHERE game_date BETWEEN '");
            w.date(day - 14);
            w.s("' AND '");
            w.date(day);
            w.s("'");
            w.nl()?;
            w.s("      AND team_abbr IN ('");
            let a = rng.pick(&TEAMS);
            w.s(a);
            w.s("', '");
            let b = rng.pick(&TEAMS);
            w.s(b);
            w.s("')");
            w.nl()
        }
        40..=43 => {
            w.prefix(rng, "INFO", lg);
            w.s("No data found for player ");
            w.num(rng.range(1_626_000, 1_631_999));
            w.s("; skipping");
            w.nl()
        }
        44..=45 => {
            w.prefix(rng, "DEBUG", lg);
            w.s("bigquery client config: query_timeout=");
            w.num(60 * rng.range(2, 5));
            w.s("s retries=");
            w.num(rng.range(2, 5));
            w.nl()
        }
        46..=50 => {
            w.prefix(rng, "INFO", lg);
            let total = rng.range(10, 60);
            w.s("Batch ");
            w.num(rng.range(1, total));
            w.s("/");
            w.num(total);
            w.s(" done: 0 errors");
            w.nl()
        }
        51..=52 => {
            w.prefix(rng, "WARNING", lg);
            w.s("Rate limit approaching (");
            w.num(rng.range(70, 95));
            w.s("% of quota); sleeping ");
            w.num(rng.range(1, 5));
            w.s("s");
            w.nl()
        }
        53..=62 => {
            w.prefix(rng, "INFO", lg);
            let total = rng.range(500, 9000);
            let done = rng.range(1, total);
            w.s("Loaded ");
            w.num(done);
            w.s("/");
            w.num(total);
            w.s(" rows (");
            w.num(done * 100 / total);
            w.s("%)");
            w.nl()
        }
        63..=66 => {
            w.prefix(rng, "INFO", lg);
            w.s("memory usage ");
            w.num(rng.range(300, 3800));
            w.s(" MB (rss), peak ");
            w.num(rng.range(3800, 6000));
            w.s(" MB");
            w.nl()
        }
        67..=76 => {
            w.prefix(rng, "DEBUG", "urllib3.connectionpool");
            if rng.chance(5_000) {
                w.s("https://bigquery.googleapis.com:443 \"POST /bigquery/v2/projects/nba-props-platform/jobs HTTP/1.1\" 200 None");
            } else {
                w.s("https://bigquery.googleapis.com:443 \"GET /bigquery/v2/projects/nba-props-platform/queries/job_");
                let v = rng.next();
                w.hex(v, 16);
                w.s("?maxResults=0&location=US&prettyPrint=false HTTP/1.1\" 200 None");
            }
            w.nl()
        }
        77..=80 => {
            w.prefix(rng, "INFO", lg);
            w.s("Merged ");
            w.num(rng.range(10, 700));
            w.s(" rows into nba_analytics.");
            w.s(DEFAULT_PROCESSORS[p]);
            w.s(" for game_date=");
            w.date(day);
            w.nl()
        }
        81..=87 => {
            w.prefix(rng, "DEBUG", lg);
            w.s("rolling averages for ");
            if player {
                let n = rng.pick(&PLAYERS);
                w.s(n);
            } else {
                let t = rng.pick(&TEAMS);
                w.s(t);
            }
            w.s(" over ");
            w.num(rng.range(5, 20));
            w.s(" games (window ");
            w.date(day - 30);
            w.s("..");
            w.date(day - 1);
            w.s(")");
            w.nl()
        }
        88..=91 => {
            w.prefix(rng, "INFO", "google.cloud.bigquery.job");
            w.s("Job job_");
            let v = rng.next();
            w.hex(v, 16);
            w.s(" state=DONE bytes_processed=");
            w.num(rng.range(1_000_000, 9_000_000_000));
            w.s(" slot_ms=");
            w.num(rng.range(100, 900_000));
            w.nl()
        }
        _ => {
            w.prefix(rng, "DEBUG", lg);
            w.s("cache lookup key=");
            w.s(DEFAULT_PROCESSORS[p]);
            w.s(":");
            w.date(day - rng.below(3) as i64);
            w.s(" hit=");
            w.s(if rng.chance(5_000) { "True" } else { "False" });
            w.s(" elapsed_ms=");
            w.num(rng.range(1, 900));
            w.nl()
        }
    }
}

fn noise(w: &mut W, rng: &mut Rng, p: usize, day: i64, goal: u64) -> io::Result<()> {
    let start = w.bytes();
    while w.bytes() - start < goal {
        noise_line(w, rng, p, day)?;
    }
    Ok(())
}

fn start_line(w: &mut W, rng: &mut Rng, p: usize, day: i64) -> io::Result<()> {
    w.prefix(rng, "INFO", &LOGGERS[p]);
    w.s("Starting ");
    w.s(&CLASSES[p]);
    w.s(" for ");
    w.date(day);
    w.nl()
}

fn success_lines(w: &mut W, rng: &mut Rng, p: usize, day: i64) -> io::Result<()> {
    w.prefix(rng, "INFO", &LOGGERS[p]);
    w.s(&CLASSES[p]);
    w.s(" completed for ");
    w.date(day);
    w.s(": ");
    w.num(rng.range(20, 900));
    w.s(" rows written");
    w.nl()?;
    w.s("[");
    w.s(DEFAULT_PROCESSORS[p]);
    w.s("] ✅ Success");
    w.nl()
}

/// `Traceback (most recent call last):` + 1-2 File/code frame pairs (2-4 lines); the exception
/// line itself is written by the caller.
fn traceback(w: &mut W, rng: &mut Rng, p: usize) -> io::Result<()> {
    w.s("Traceback (most recent call last):");
    w.nl()?;
    let frames = rng.range(1, 2);
    for _ in 0..frames {
        let (func, code) = FUNCS[rng.below(FUNCS.len() as u64) as usize];
        w.s("  File \"/app/data_processors/");
        w.s(DEFAULT_PHASE);
        w.s("/");
        w.s(DEFAULT_PROCESSORS[p]);
        w.s("/");
        w.s(DEFAULT_PROCESSORS[p]);
        w.s("_processor.py\", line ");
        w.num(rng.range(40, 900));
        w.s(", in ");
        w.s(func);
        w.nl()?;
        w.s("    ");
        w.s(code);
        w.nl()?;
    }
    Ok(())
}

fn emit_failure(
    w: &mut W,
    rng: &mut Rng,
    p: usize,
    day: i64,
    t: u8,
    gaps: &[i64],
) -> io::Result<()> {
    let lg: &str = &LOGGERS[p];
    match t {
        T_FILE_NOT_FOUND => {
            w.prefix(rng, "ERROR", lg);
            w.s("FileNotFoundError: No raw data found for game_date=");
            w.date(day);
            w.nl()?;
        }
        T_TABLE_NOT_FOUND => {
            traceback(w, rng, p)?;
            w.s("google.api_core.exceptions.NotFound: 404 Not found: Table nba-props-platform:nba_raw.nbac_team_boxscore was not found in location US");
            w.nl()?;
        }
        T_QUERY_TIMEOUT => {
            w.prefix(rng, "ERROR", lg);
            w.s("Query timeout: exceeded 180 seconds");
            w.nl()?;
        }
        T_RATE_LIMIT_403 => {
            traceback(w, rng, p)?;
            w.s("google.api_core.exceptions.Forbidden: 403 Exceeded rate limits: too many table update operations for this table");
            w.nl()?;
        }
        T_MEMORY => {
            traceback(w, rng, p)?;
            w.s("MemoryError");
            w.nl()?;
        }
        T_ZERO_DIV => {
            traceback(w, rng, p)?;
            w.s("ZeroDivisionError: division by zero");
            w.nl()?;
        }
        T_NULL_VALUE => {
            traceback(w, rng, p)?;
            w.s("ValueError: NULL value in column 'points' for game_id 0022300215");
            w.nl()?;
        }
        T_CONN_ERROR => {
            traceback(w, rng, p)?;
            w.s("requests.exceptions.ConnectionError: HTTPSConnectionPool(host='bigquery.googleapis.com', port=443): Max retries exceeded with url: /bigquery/v2/projects/nba-props-platform/jobs (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused'))");
            w.nl()?;
        }
        _ => {
            // Defensive check. The two lead lines are logged at WARNING (non-failures), so only the
            // DependencyError (a traceback's exception line, naming the attempt's own date) is a
            // failure; the gap list sits in the same attempt.
            w.prefix(rng, "WARNING", lg);
            w.s("⚠️ Analytics BLOCKED: Gap Detected");
            w.nl()?;
            w.prefix(rng, "WARNING", lg);
            w.s("Missing dates in lookback window: [");
            for (i, &g) in gaps.iter().enumerate() {
                if i > 0 {
                    w.s(", ");
                }
                w.s("'");
                w.date(g);
                w.s("'");
            }
            w.s("]");
            w.nl()?;
            traceback(w, rng, p)?;
            w.s("DependencyError: Cannot process ");
            w.date(day);
            w.s(" - upstream gaps detected");
            w.nl()?;
        }
    }
    w.prefix(rng, "ERROR", "backfill");
    w.s("Processing failed for ");
    w.date(day);
    w.nl()?;
    w.s("[");
    w.s(DEFAULT_PROCESSORS[p]);
    w.s("] ❌ Failed");
    w.nl()
}

fn render(w: &mut W, rng: &mut Rng, plan: &Plan, target: u64) -> io::Result<()> {
    let mut attempts_left = plan.attempts.max(1);
    // Byte goal for the noise of the next attempt: spread what is left of the target evenly over
    // the attempts left (so the file lands near --size), with +-50% jitter.
    let goal = |w: &W, rng: &mut Rng, left: u64| -> u64 {
        let remaining = target.saturating_sub(w.bytes());
        let per = remaining / left;
        let per = per.saturating_sub(250).max(300);
        per / 2 + rng.below(per + 1)
    };
    for ev in &plan.events {
        match ev {
            Ev::RunStart { n } => {
                w.skip_time(rng.range(600_000, 7_200_000));
                w.s("$ ./bin/backfill/backfill_phase3_historical.sh");
                w.nl()?;
                w.prefix(rng, "INFO", "backfill");
                w.s("Found ");
                w.num(*n as u64);
                w.s(" dates to process");
                w.nl()?;
            }
            Ev::Progress { i, n, day } => {
                w.prefix(rng, "INFO", "backfill");
                w.s("Processing date ");
                w.num(*i as u64);
                w.s("/");
                w.num(*n as u64);
                w.s(": ");
                w.date(*day);
                w.nl()?;
            }
            Ev::Cmd { day, p } => {
                let date = day_string(*day);
                let command = RETRY_COMMAND
                    .replace("{phase}", DEFAULT_PHASE)
                    .replace("{processor}", DEFAULT_PROCESSORS[*p])
                    .replace("{start}", &date)
                    .replace("{end}", &date);
                w.s("+ ");
                w.s(&command);
                w.nl()?;
            }
            Ev::Attempt { day, p, out } => {
                let g = goal(w, rng, attempts_left);
                attempts_left = attempts_left.saturating_sub(1).max(1);
                start_line(w, rng, *p, *day)?;
                match out {
                    Out::Success => {
                        noise(w, rng, *p, *day, g)?;
                        success_lines(w, rng, *p, *day)?;
                    }
                    Out::Transient => {
                        noise(w, rng, *p, *day, g / 2)?;
                        w.prefix(rng, "ERROR", &LOGGERS[*p]);
                        w.s("Query timeout: exceeded 180 seconds");
                        w.nl()?;
                        w.prefix(rng, "INFO", &LOGGERS[*p]);
                        w.s("Retrying (attempt 2/3)");
                        w.nl()?;
                        noise(w, rng, *p, *day, g / 2)?;
                        success_lines(w, rng, *p, *day)?;
                    }
                    Out::Fail { t, gaps } => {
                        noise(w, rng, *p, *day, g)?;
                        emit_failure(w, rng, *p, *day, *t, gaps)?;
                    }
                }
            }
            Ev::Crash { day, p } => {
                let g = goal(w, rng, attempts_left);
                attempts_left = attempts_left.saturating_sub(1).max(1);
                start_line(w, rng, *p, *day)?;
                noise(w, rng, *p, *day, g / 2)?;
                w.s("Connection lost");
                w.nl()?;
                w.s("Script terminated");
                w.nl()?;
            }
            Ev::DateHadFailures { day } => {
                w.prefix(rng, "WARNING", "backfill");
                w.s("⚠️ Date ");
                w.date(*day);
                w.s(" had failures");
                w.nl()?;
            }
            Ev::RunEnd => {
                w.s("✅ ALL DATES SUCCESSFUL");
                w.nl()?;
                w.s("Backfill script completed");
                w.nl()?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// API
// ---------------------------------------------------------------------------------------------

/// What [`generate`] wrote: the log's size and shape (for a summary line), and its truth.
#[derive(Clone, Debug)]
pub struct Log {
    pub bytes: u64,
    pub lines: u64,
    /// Distinct dates processed.
    pub dates: usize,
    /// Backfill runs in the log (one of them crashes).
    pub runs: usize,
    /// Processor attempts, retries included.
    pub attempts: u64,
    /// The retry rows the tool must produce for this log.
    pub truth: Vec<TruthRow>,
}

/// Writes a log of about `size` bytes for `seed` made only of failures: every failure shape the
/// generator knows (the ERROR lines, the tracebacks that end in an exception line, the
/// `Processing failed for D` and `[p] ❌ Failed` lines that follow them, and the transient
/// `Query timeout` line), with no start, success, progress or run line around them: the log of a
/// night where everything failed, for benchmarks. The defensive check is written without its
/// WARNING lines, so every line is a failure line or a traceback line.
///
/// There is no truth for it ([`Log::truth`] is empty): the oracle replays attempts, and this log
/// has none; what the tool makes of stray failures (pairs they name, unattributed lines) is its
/// fold's business, tested elsewhere. Same size and seed, same bytes.
pub fn generate_failures(size: u64, seed: u64, out: &mut impl Write) -> io::Result<Log> {
    let mut rng = Rng::new(seed ^ 0xFA11_0000);
    let first = days_from_civil(START.0, START.1, START.2);
    // About three seasons of dates, so date-keyed state grows as in a real outage's log.
    let last = first + 1_000;
    let ts0 = days_from_civil(TS_START.0, TS_START.1, TS_START.2);
    let mut w = W {
        buf: Vec::with_capacity(FLUSH_AT + (1 << 16)),
        out,
        flushed: 0,
        lines: 0,
        ts_day: ts0,
        ts_str: fmt_day(ts0),
        ms: 10 * 3_600_000,
        dates: DateTable::new(first, last),
    };
    let mut days = HashSet::new();
    let mut failures = 0u64;
    while w.bytes() < size {
        let p = rng.below(NP as u64) as usize;
        let day = first + rng.below((last - first + 1) as u64) as i64;
        days.insert(day);
        failures += 1;
        // One in ten is the transient timeout alone; the rest are the templates but the defensive
        // check, whose lead lines are warnings: its traceback and exception line stand in for it.
        let t = rng.below(N_TEMPLATES + 1) as u8;
        if t == N_TEMPLATES as u8 {
            w.prefix(&mut rng, "ERROR", &LOGGERS[p]);
            w.s("Query timeout: exceeded 180 seconds");
            w.nl()?;
        } else if t == T_GAP_BLOCKED {
            traceback(&mut w, &mut rng, p)?;
            w.s("DependencyError: Cannot process ");
            w.date(day);
            w.s(" - upstream gaps detected");
            w.nl()?;
        } else {
            emit_failure(&mut w, &mut rng, p, day, t, &[])?;
        }
    }
    w.finish()?;
    Ok(Log {
        bytes: w.bytes(),
        lines: w.lines,
        dates: days.len(),
        runs: 0,
        attempts: failures,
        truth: Vec::new(),
    })
}

/// Writes a log of about `size` bytes for `seed` to `out` and returns what it holds. The same
/// size and seed always give the same bytes; `out` gets multi-MB writes, so it needs no buffer.
pub fn generate(size: u64, seed: u64, out: &mut impl Write) -> io::Result<Log> {
    let mut rng = Rng::new(seed);
    let plan = plan(size, &mut rng);
    let ts0 = days_from_civil(TS_START.0, TS_START.1, TS_START.2);
    let mut w = W {
        buf: Vec::with_capacity(FLUSH_AT + (1 << 16)),
        out,
        flushed: 0,
        lines: 0,
        ts_day: ts0,
        ts_str: fmt_day(ts0),
        ms: 10 * 3_600_000,
        dates: DateTable::new(plan.min_day, plan.max_day),
    };
    let mut render_rng = Rng::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D).wrapping_add(1));
    render(&mut w, &mut render_rng, &plan, size)?;
    w.finish()?;
    Ok(Log {
        bytes: w.bytes(),
        lines: w.lines,
        dates: plan.dates_processed,
        runs: plan.runs,
        attempts: plan.attempts,
        truth: truth(&plan.events),
    })
}
