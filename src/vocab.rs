//! The vocabulary: every word the reader looks for to see how severe a line is and what it says
//! about runs and attempts, written once. The level reader, the scanner's SIMD prefilter, the
//! classifier's trigger automaton, its regexes, the exception-name check and the README's list are
//! all derived from these tables, so a word added here is found everywhere (the fuzzer once found
//! two hand-kept copies that disagreed).

use crate::extract::Level;

/// The level words logging libraries print, in upper case, and what each means. A word counts when
/// it is printed in upper case (`ERROR`, `[WARNING]`), tagged as a level in any case (`[error]`,
/// `level=error`, `"severity": "error"`) or stands as a table column in any case, followed by two
/// spaces (`kubectl` events: `Warning  BackOff`, `Normal   Scheduled`). `NORMAL` is a level only
/// as such a column or tag: as a bare upper-case word it is just a word.
pub const LEVEL_WORDS: [(&[u8], Level); 14] = [
    (b"TRACE", Level::Trace),
    (b"DEBUG", Level::Debug),
    (b"INFO", Level::Info),
    (b"NOTICE", Level::Info),
    (b"NORMAL", Level::Info),
    (b"WARN", Level::Warning),
    (b"WARNING", Level::Warning),
    (b"ERROR", Level::Error),
    (b"ERR", Level::Error),
    (b"SEVERE", Level::Error),
    (b"CRITICAL", Level::Critical),
    (b"CRIT", Level::Critical),
    (b"FATAL", Level::Fatal),
    (b"PANIC", Level::Fatal),
];

/// Verbs that open an attempt when a processor follows them (`Starting PProcessor for D`).
pub const START_VERBS: [&str; 7] = [
    "start",
    "starting",
    "started",
    "processing",
    "running",
    "launching",
    "executing",
];

/// Words that say an attempt ended well, next to a date, a processor's status tag or a check mark.
pub const SUCCESS_WORDS: [&str; 6] = [
    "success",
    "successful",
    "successfully",
    "succeeded",
    "completed",
    "complete",
];

/// Words that say something failed, in count summaries (`1 failed (2024-02-03)`).
pub const FAILURE_WORDS: [&str; 6] = [
    "failed", "failure", "failures", "error", "errors", "errored",
];

/// Phrases of run banners: the driver announcing the dates it is about to walk.
pub const BANNER_PHRASES: [&str; 4] = ["dates to process", "date range", "start date", "dates:"];

/// Phrases that end a run well.
pub const RUN_END_PHRASES: [&str; 4] = [
    "all dates successful",
    "backfill complete",
    "backfill completed",
    "backfill script completed",
];

/// Phrases that introduce a list of gap dates.
pub const GAP_PHRASES: [&str; 2] = ["missing dates", "gap dates"];

/// The word that says a pair was done by an earlier run (`Skipping D (already processed)`,
/// `⏭️ Already complete`). "Skipping" alone is not enough: processors log "no data for player X;
/// skipping" on every other line of a healthy run.
pub const SKIP_WORDS: [&str; 1] = ["already"];

/// Words that say a failed step is being tried again.
pub const RETRY_WORDS: [&str; 2] = ["retry", "retrying"];

/// The header Python prints before a traceback.
pub const TRACEBACK: &str = "traceback (most recent call last)";

/// The lines Python prints between the exceptions of a chain: the first exception is the root.
pub const CHAIN_MARKERS: [&str; 2] = [
    "the above exception was the direct cause of the following exception",
    "during handling of the above exception, another exception occurred",
];

/// The check mark of a success and the skip mark of a resumed run.
pub const CHECK_MARK: &str = "\u{2705}";
pub const SKIP_MARK: &str = "\u{23ed}";
/// The cross of a failure status line.
pub const CROSS_MARK: &str = "\u{274c}";

/// How exception class names end (`ValueError`, `NotFound`, `AnalysisException`): a line that
/// starts with such a name and a colon is the last line of a traceback.
pub const EXCEPTION_SUFFIXES: [&str; 16] = [
    "Error",
    "Exception",
    "Exit",
    "Interrupt",
    "Timeout",
    "Exceeded",
    "NotFound",
    "Forbidden",
    "BadRequest",
    "TooManyRequests",
    "Unavailable",
    "InternalServerError",
    "Unauthorized",
    "Conflict",
    "Invalid",
    "Failure",
];

/// The words, besides exception names, that can make an unlevelled line a failure: the failure
/// levels' words (shorter ones, such as `ERR`, are inside longer ones).
fn failure_triggers() -> Vec<String> {
    LEVEL_WORDS
        .iter()
        .filter(|(word, level)| level.is_failure() && word.len() >= 4)
        .map(|(word, _)| String::from_utf8_lossy(word).to_ascii_lowercase())
        .collect()
}

/// Every word whose presence matters on a line that is not a failure (starts, successes,
/// progress, banners, run ends, gap lists, skips, retries, count summaries): what the prefilter and
/// the README must cover.
#[cfg(test)]
fn signal_words() -> Vec<&'static str> {
    let mut words: Vec<&str> = Vec::new();
    words.extend(START_VERBS);
    words.push("run_backfill");
    words.extend(SUCCESS_WORDS);
    words.push("failed");
    words.extend(BANNER_PHRASES);
    words.extend(RUN_END_PHRASES);
    words.extend(GAP_PHRASES);
    words.extend(SKIP_WORDS);
    words.extend(RETRY_WORDS);
    words
}

/// The scanner's SIMD prefilter for lines logged below ERROR: a part of each signal word that its
/// lower-case and Capitalised forms share (the word without its first letter), `UCCE` and
/// `OMPLETE` for scripts that shout (`ALL DATES SUCCESSFUL`, `BACKFILL COMPLETE`), and for phrases
/// a part that starts with rare letters (`o process`, ` range`, `es: [`: "ate" occurs every 300
/// bytes of a log, and `ates:` alone slowed the whole scan by 30%). Lines without a level (the
/// driver's own output) do not depend on it: the trigger automaton reads them in any case.
///
/// The order is measured, not cosmetic: Teddy puts patterns into 8 buckets by their position in
/// this list, and a bucket's patterns share one fingerprint mask, so the order decides how often a
/// false candidate is checked (BENCHMARKS.md, "Tuning choices", has the measurements). A test
/// checks that the list still finds every signal word.
pub const PREFILTER: [&str; 20] = [
    "es: [",
    " range",
    "\u{2705}",
    "tart",
    "lready",
    "ailed",
    "o process",
    "UCCE",
    "aunching",
    "ucce",
    "p dates",
    "o Process",
    "issing dates",
    "omplete",
    "rocessing",
    "un_backfill",
    "OMPLETE",
    "xecuting",
    "unning",
    "etry",
];

/// What a trigger word found by the big automaton says about a line, as a bit in a set.
pub mod trigger {
    /// A level word or an exception-name ending: a candidate failure.
    pub const FAIL_WORD: u16 = 1;
    pub const CROSS: u16 = 1 << 1;
    pub const CHECK: u16 = 1 << 2;
    pub const START: u16 = 1 << 3;
    pub const SUCCESS: u16 = 1 << 4;
    /// A failure word of a count summary (`1 failed`).
    pub const COUNT: u16 = 1 << 5;
    pub const SKIP: u16 = 1 << 6;
    pub const RETRY: u16 = 1 << 7;
    pub const BANNER: u16 = 1 << 8;
    pub const RUN_END: u16 = 1 << 9;
    pub const GAP: u16 = 1 << 10;
    pub const TRACEBACK: u16 = 1 << 11;
    pub const CHAIN: u16 = 1 << 12;
    /// "processing": what the progress line (`Processing date 3/10`) needs, among the start verbs.
    pub const PROCESSING: u16 = 1 << 13;
    /// "start", "starting", "started": what a structured start (`event=starting`) needs.
    pub const START_WORD: u16 = 1 << 14;
}

/// The words of the classifier's trigger automaton (matched case-insensitively), each with the
/// trigger bit it sets. The automaton also holds every rule literal, so one pass finds both.
pub fn triggers() -> Vec<(String, u16)> {
    use trigger::{
        BANNER, CHAIN, CHECK, COUNT, CROSS, FAIL_WORD, GAP, RETRY, RUN_END, SKIP, START, SUCCESS,
    };
    let lower = |w: &str| w.to_ascii_lowercase();
    let mut out: Vec<(String, u16)> = Vec::new();
    let mut add = |words: &[&str], bit: u16| out.extend(words.iter().map(|w| (lower(w), bit)));
    let levels = failure_triggers();
    add(
        &levels.iter().map(String::as_str).collect::<Vec<_>>(),
        FAIL_WORD,
    );
    let suffixes: Vec<&str> = EXCEPTION_SUFFIXES.to_vec();
    add(&suffixes, FAIL_WORD);
    add(&[CROSS_MARK], CROSS);
    add(&[CHECK_MARK], CHECK);
    // Two start verbs also say which of the signal reader's regexes can match at all.
    for verb in START_VERBS {
        let bit = match verb {
            "processing" => START | trigger::PROCESSING,
            "start" | "starting" | "started" => START | trigger::START_WORD,
            _ => START,
        };
        add(&[verb], bit);
    }
    add(&["run_backfill"], START);
    add(&SUCCESS_WORDS, SUCCESS);
    add(&FAILURE_WORDS, COUNT);
    add(&[SKIP_MARK], SKIP);
    add(&SKIP_WORDS, SKIP);
    add(&RETRY_WORDS, RETRY);
    add(&BANNER_PHRASES, BANNER);
    add(&RUN_END_PHRASES, RUN_END);
    add(&GAP_PHRASES, GAP);
    add(&[TRACEBACK], trigger::TRACEBACK);
    add(&CHAIN_MARKERS, CHAIN);
    out
}

/// The success and failure words of a lower-cased line, as (position, is a failure word), in
/// order. Zero counts (`0 failed`, `no errors`, `errors: 0`, `0 failures`) are left out: they say
/// nothing failed.
pub fn outcome_words(lower: &[u8]) -> Vec<(usize, bool)> {
    let mut out = Vec::new();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < lower.len() {
        if !lower[i].is_ascii_alphabetic() || (i > 0 && is_word(lower[i - 1])) {
            i += 1;
            continue;
        }
        let end = lower[i..]
            .iter()
            .position(|&b| !is_word(b))
            .map_or(lower.len(), |n| i + n);
        let word = &lower[i..end];
        let failure = FAILURE_WORDS.iter().any(|w| w.as_bytes() == word);
        let success = !failure
            && (SUCCESS_WORDS.iter().any(|w| w.as_bytes() == word)
                || matches!(word, b"ok" | b"done" | b"processed" | b"passed"));
        if failure && !zero_count(lower, i, end) {
            out.push((i, true));
        } else if success {
            out.push((i, false));
        }
        i = end;
    }
    out
}

/// Whether the failure word at `start..end` is counted as zero: `0 failed`, `no errors`,
/// `without errors`, `failed: 0`, `errors=0`.
fn zero_count(lower: &[u8], start: usize, end: usize) -> bool {
    let before = lower[..start].trim_ascii_end();
    let prev_word_start = before
        .iter()
        .rposition(|b| !b.is_ascii_alphanumeric())
        .map_or(0, |i| i + 1);
    let prev = &before[prev_word_start..];
    if matches!(prev, b"0" | b"no" | b"zero" | b"without") {
        return true;
    }
    let after = lower[end..].trim_ascii_start();
    let after = after
        .strip_prefix(b":")
        .or_else(|| after.strip_prefix(b"="))
        .unwrap_or(after)
        .trim_ascii_start();
    after.first() == Some(&b'0') && !after.get(1).is_some_and(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every signal word, lower case and Capitalised (and the shouted ones in upper case), is
    /// found by the prefilter in a line that uses it the way logs do.
    #[test]
    fn the_prefilter_finds_every_signal_word() {
        let found = |line: &str| PREFILTER.iter().any(|p| line.contains(p));
        for word in signal_words() {
            let capitalised = word[..1].to_ascii_uppercase() + &word[1..];
            for w in [word.to_string(), capitalised] {
                let line = format!("2025-11-29 10:00:00 - INFO - x - {w} ['2024-01-05']");
                assert!(found(&line), "{w:?} escapes the prefilter");
            }
        }
        for shout in ["ALL DATES SUCCESSFUL", "BACKFILL COMPLETE", "SUCCEEDED"] {
            assert!(found(shout), "{shout}");
        }
        assert!(found("\u{2705} 2023-12-01"));
        assert!(!found(
            "2025-11-29 10:00:00 - INFO - loaded 418 rows into game_date 2024-01-05"
        ));
        assert!(!found("INFO - No data found for player 1628983; skipping"));
    }

    #[test]
    fn the_readme_lists_every_signal_word() {
        let readme = include_str!("../README.md");
        let start = readme
            .find("Signal words on lines logged below ERROR:")
            .expect("the README's signal-word paragraph");
        let paragraph = &readme[start..];
        let paragraph =
            paragraph[..paragraph.find("\n\n").unwrap_or(paragraph.len())].replace('\n', " ");
        let mut want: Vec<&str> = signal_words();
        want.extend([CHECK_MARK, SKIP_MARK]);
        for w in want {
            let listed = [format!(": {w},"), format!(" {w},"), format!(" {w} and")]
                .iter()
                .any(|form| paragraph.contains(form.as_str()))
                || paragraph.contains(&format!(" and {w}."));
            assert!(listed, "the README's signal-word list lacks {w:?}");
        }
    }

    #[test]
    fn zero_counts_are_not_failures() {
        let failures = |s: &str| {
            outcome_words(s.to_ascii_lowercase().as_bytes())
                .iter()
                .filter(|w| w.1)
                .count()
        };
        assert_eq!(failures("Batch done: 0 errors"), 0);
        assert_eq!(failures("completed with no errors"), 0);
        assert_eq!(failures("failed: 0, errors=0"), 0);
        assert_eq!(failures("Done: 2 succeeded, 1 failed (2024-02-03)"), 1);
        assert_eq!(failures("failed: 10"), 1);
        assert_eq!(
            failures("Completed 4/5 dates; failed dates: ['2024-01-10']"),
            1
        );
    }
}
