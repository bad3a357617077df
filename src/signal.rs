//! What a line that is not a failure says about runs and attempts: a start (with its processor,
//! phase and dates), a success, a skip, a retry, progress, a run banner or end, a count summary
//! that lists failed dates, or the header and chain markers of a traceback. Each reading looks at
//! one line alone; the fold (`triage`) gives them meaning in order. The words come from `vocab`.

use std::sync::LazyLock;

use memchr::memmem::Finder;
use regex::bytes::{Regex, RegexBuilder};

use crate::date::{self, Date};
use crate::processors::{ProcessorId, ProcessorNames};
use crate::vocab::{self, trigger};

/// What a line says about the run's progress, besides any failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    None,
    /// An attempt of a processor over some dates begins.
    Start(Box<Start>),
    /// Something ended well: the pairs it names, or the open attempt.
    Success,
    /// The pair was done by an earlier run (`⏭️ Already complete`).
    Skip,
    /// A failed step is being tried again: a success after it means the processor recovered.
    Retry,
    /// `Processing date 150/327`: the script moved to its next date (the event's date, if any).
    Progress {
        index: u32,
        total: u32,
    },
    /// `Processing 2023-12-02`: the script or processor moved to the event's date.
    DateProgress,
    /// `Found 327 dates to process`, `Date range: A to B`: a backfill run begins.
    RunStart {
        total: Option<u32>,
        planned: Vec<Date>,
    },
    /// `ALL DATES SUCCESSFUL`, `Backfill script completed`; `claims_success` when it says every
    /// date succeeded (so failures it covers were hidden).
    RunComplete {
        claims_success: bool,
    },
    /// A count summary (`Done: 2 succeeded, 1 failed (2024-02-03)`): the event's dates failed.
    /// `tally`: it also counts successes, so it is the final word of the attempt it is in.
    Summary {
        tally: bool,
    },
    /// `Traceback (most recent call last):`
    Traceback,
    /// A chained-exception marker: the exception before it is the root cause.
    Chain,
}

/// An attempt start, as read from its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    pub processor: ProcessorId,
    /// The phase the line names (`precompute/p`), if any.
    pub phase: Option<String>,
    /// Sorted, never empty.
    pub dates: Vec<Date>,
}

/// The compiled readers, shared read-only by every worker thread.
#[derive(Debug)]
pub struct SignalReader {
    progress: Regex,
    found: Regex,
    start: Regex,
    command: Regex,
    date_progress: Regex,
    structured_processor: Regex,
    structured_event: Regex,
    structured_date: Regex,
    success: Regex,
    after_processor: Regex,
    retry: Regex,
    already: Regex,
}

/// Searchers for the fixed strings looked for on lines, built once (`memmem::find` builds one
/// per call, which cost more than the search on short lines).
static CHECK_MARK: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(vocab::CHECK_MARK));
static SKIP_MARK: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(vocab::SKIP_MARK));
static DATE_FLAGS: LazyLock<[Finder<'static>; 2]> =
    LazyLock::new(|| [Finder::new("--start-date"), Finder::new("--date")]);

/// Whether `haystack` holds `needle` (lower case) in any ASCII case: the lower-cased line holds
/// it, without lower-casing (and allocating) the line.
fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), haystack).any(|at| {
        haystack
            .get(at..at + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    })
}

fn re(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .unicode(false)
        .build()
        .expect("built-in regex")
}

impl Default for SignalReader {
    fn default() -> SignalReader {
        let verbs = vocab::START_VERBS.join("|");
        SignalReader {
            progress: re(r"\bprocessing\s+date\s+(\d{1,9})\s*/\s*(\d{1,9})"),
            found: re(r"\bfound\s+(\d{1,9})\s+dates?\s+to\s+process"),
            start: re(&format!(
                r"\b(?:{verbs}|run_backfill\.sh)\s+(?:([a-z][a-z0-9_]*)[/.])?([a-z_][a-z0-9_]*)"
            )),
            command: re(r"(?:^|[\s'=])([a-z][a-z0-9_]*)/([a-z_][a-z0-9_]*)"),
            date_progress: re(
                r"\b(?:processing|starting|running|backfilling|working on)\s+(?:date\s+)?\d{4}-\d\d-\d\d",
            ),
            structured_processor: re(
                r#"["']?\b(?:processor|processor_name|job_name|job|task)["']?\s*[:=]\s*["']?([a-z_][a-z0-9_]*)"#,
            ),
            structured_event: re(
                r#"["']?\b(?:event|msg|message|action|status|state)["']?\s*[:=]\s*["']?(?:start|starting|started)\b"#,
            ),
            structured_date: re(
                r#"["']?\b(?:start_date|game_date|data_date|target_date|date|dates)["']?\s*[:=]\s*"#,
            ),
            success: re(&format!(r"\b(?:{})\b", vocab::SUCCESS_WORDS.join("|"))),
            after_processor: re(&format!(
                r"^[\]\s:\-]*(?:{})\b",
                vocab::SUCCESS_WORDS.join("|")
            )),
            retry: re(
                r"\bretrying\b|\bwill\s+(?:be\s+)?retr(?:y|ied)\b|\bretry\s+(?:attempt|in\b|#|\d)",
            ),
            already: re(
                r"\balready\s+(?:been\s+)?(?:complete|completed|processed|done|exists|succeeded|ran|run|loaded)\b",
            ),
        }
    }
}

/// What [`SignalReader::read`] found: the signal, and the processor and dates it concerns.
pub struct Reading {
    pub signal: Signal,
    pub processor: Option<ProcessorId>,
    pub dates: Vec<Date>,
}

impl SignalReader {
    /// Reads a line that is not a failure and carries signal words (`triggers`, from the
    /// classifier's automaton). `processor` is the line's own (its first processor, or its GNU
    /// parallel tag's).
    pub fn read(
        &self,
        line: &[u8],
        triggers: u16,
        names: &ProcessorNames,
        processor: Option<ProcessorId>,
    ) -> Reading {
        let reading = |signal, dates| Reading {
            signal,
            processor,
            dates,
        };
        if triggers & trigger::TRACEBACK != 0 {
            return reading(Signal::Traceback, Vec::new());
        }
        if triggers & trigger::CHAIN != 0 {
            return reading(Signal::Chain, Vec::new());
        }
        let lower_has = |needle: &[u8]| contains_ignore_ascii_case(line, needle);
        // A line that says something failed is never a success; the dates it lists as failed are
        // failure evidence.
        let failed = || {
            (triggers & trigger::COUNT != 0)
                .then(|| date::failed_dates(line))
                .flatten()
                .filter(|d| !d.is_empty())
        };
        if triggers & trigger::RUN_END != 0 {
            let claims_success = CHECK_MARK.find(line).is_some() || lower_has(b"successful");
            return reading(
                Signal::RunComplete { claims_success },
                failed().unwrap_or_default(),
            );
        }
        if triggers & trigger::BANNER != 0 {
            if let Some(c) = self.found.captures(line) {
                return reading(
                    Signal::RunStart {
                        total: Some(number(&c[1])),
                        planned: Vec::new(),
                    },
                    Vec::new(),
                );
            }
        }
        if triggers & trigger::START != 0 {
            let progress = (triggers & trigger::PROCESSING != 0)
                .then(|| self.progress.captures(line))
                .flatten();
            if let Some(c) = progress {
                let after = c.get(0).expect("whole match").end();
                let dates = date::dates_in(&line[after..])
                    .map(|d| d.0)
                    .take(1)
                    .collect();
                return reading(
                    Signal::Progress {
                        index: number(&c[1]),
                        total: number(&c[2]),
                    },
                    dates,
                );
            }
            // A start names its processor exactly, as a whole word (after a space, `/`, `.`, `=`,
            // `:` or a quote, before a character that cannot continue a name): such a line has
            // a processor of its own. `Running query: SELECT ...` has none, and its SQL is not
            // searched for start verbs and date flags.
            let start = processor.and_then(|_| {
                self.start(line, names).or_else(|| {
                    (triggers & trigger::START_WORD != 0)
                        .then(|| self.structured_start(line, names))
                        .flatten()
                })
            });
            if let Some(start) = start {
                let processor = Some(start.processor);
                return Reading {
                    signal: Signal::Start(Box::new(start)),
                    processor,
                    dates: Vec::new(),
                };
            }
        }
        if let Some(dates) = failed() {
            let lower = line.to_ascii_lowercase();
            let tally = vocab::outcome_words(&lower).iter().any(|w| !w.1);
            return reading(Signal::Summary { tally }, dates);
        }
        let banner = triggers & (trigger::BANNER | trigger::START) != 0 && processor.is_none();
        if banner {
            // `Start: A End: B`, `Date range: A to B`, `Dates: [...]`, the driver's own command
            // line: several dates and no processor name the run's dates; one date after a
            // progress verb is the date the run moved to.
            let first = date::dates_in(line).next();
            if let Some((_, span)) = first {
                let planned = date::read_dates(&line[span.start..]);
                if planned.len() > 1 {
                    return reading(
                        Signal::RunStart {
                            total: Some(planned.len() as u32),
                            planned,
                        },
                        Vec::new(),
                    );
                }
                // The automaton found the banner phrases already (`trigger::BANNER`).
                let named = triggers & trigger::BANNER != 0 || lower_has(b"--start-date");
                if named {
                    return reading(
                        Signal::RunStart {
                            total: Some(1),
                            planned,
                        },
                        Vec::new(),
                    );
                }
            }
        }
        if triggers & trigger::START != 0 && self.date_progress.is_match(line) {
            let dates = date::dates_in(line).map(|d| d.0).take(1).collect();
            return reading(Signal::DateProgress, dates);
        }
        let dates = || date::dates_in(line).map(|d| d.0).collect::<Vec<_>>();
        if triggers & trigger::SKIP != 0
            && (SKIP_MARK.find(line).is_some() || self.already.is_match(line))
        {
            return reading(Signal::Skip, dates());
        }
        if triggers & trigger::RETRY != 0 && self.retry.is_match(line) {
            return reading(Signal::Retry, Vec::new());
        }
        // A success word counts next to a date ("completed for 2023-11-15") or right after the
        // processor's name (`PProcessor completed`, `[p] SUCCESS`, `analytics.p - Completed
        // successfully`): "Query completed in 2.1s" is not the end of an attempt. A check mark
        // always is.
        if triggers & trigger::CHECK != 0 {
            return reading(Signal::Success, dates());
        }
        if triggers & trigger::SUCCESS != 0 && self.success.is_match(line) {
            let dates = dates();
            let of_processor = || {
                names
                    .find(line)
                    .is_some_and(|(_, end)| self.after_processor.is_match(&line[end..]))
            };
            if !dates.is_empty() || of_processor() {
                return reading(Signal::Success, dates);
            }
        }
        reading(Signal::None, Vec::new())
    }

    /// Whether a failure line also says it will be retried (`... 503 ... Retrying in 2s`).
    pub fn retries(&self, line: &[u8]) -> bool {
        self.retry.is_match(line)
    }

    /// A start verb or script followed by a processor (`Starting PProcessor for D`,
    /// `run_backfill.sh precompute/p --start-date=A --end-date=B`), or a `<phase>/<p>` command line
    /// with date flags; the dates are read after the processor.
    fn start(&self, line: &[u8], names: &ProcessorNames) -> Option<Start> {
        for m in self.start.find_iter(line) {
            let (phase, token) = start_groups(line, m.range());
            let Some(processor) = names.lookup(&line[token.clone()]) else {
                continue;
            };
            let dates = date::read_dates(&line[token.end..]);
            if !dates.is_empty() {
                let phase = phase.map(|p| String::from_utf8_lossy(&line[p]).into_owned());
                return Some(Start {
                    processor,
                    phase,
                    dates,
                });
            }
        }
        let flags = DATE_FLAGS.iter().any(|f| f.find(line).is_some());
        if !flags {
            return None;
        }
        for c in self.command.captures_iter(line) {
            let token = c.get(2).expect("group 2 always takes part");
            let Some(processor) = names.lookup(token.as_bytes()) else {
                continue;
            };
            let dates = date::read_dates(&line[token.end()..]);
            if !dates.is_empty() {
                return Some(Start {
                    processor,
                    phase: Some(String::from_utf8_lossy(&c[1]).into_owned()),
                    dates,
                });
            }
        }
        None
    }

    /// A JSON or logfmt line whose fields say it starts, and name the processor and its date(s):
    /// `{"event": "starting", "processor": "p", "game_date": "D"}`, `msg=start processor=p date=D`.
    fn structured_start(&self, line: &[u8], names: &ProcessorNames) -> Option<Start> {
        if !self.structured_event.is_match(line) {
            return None;
        }
        let c = self.structured_processor.captures(line)?;
        let processor = names.lookup(&c[1])?;
        let value = self.structured_date.find(line)?.end();
        let dates = date::read_dates(&line[value..]);
        (!dates.is_empty()).then_some(Start {
            processor,
            phase: None,
            dates,
        })
    }
}

/// The two groups of the `start` regex in one of its matches (`m`): the phase, if any, and the
/// processor token. Read by hand because running the regex's capture engine on every start verb
/// (`Running query: ...`) cost more than the rest of the line's reading. The regex is
/// `VERB\s+(?:(NAME)[/.])?(NAME2)`: no verb holds a space and no name starts with one, so the verb
/// ends at the match's first space and `\s+` takes every space after it; the phase is taken when
/// a whole name is followed by `/` or `.` and a second name (a shorter first name would be followed
/// by a name character, not by `/` or `.`), and the token is then the longest name there.
fn start_groups(
    line: &[u8],
    m: std::ops::Range<usize>,
) -> (Option<std::ops::Range<usize>>, std::ops::Range<usize>) {
    let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let name_char = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let name_end = |from: usize| from + line[from..].iter().take_while(|b| name_char(b)).count();
    let verb_end = m.start + line[m.clone()].iter().position(space).unwrap_or(m.len());
    let at = verb_end + line[verb_end..].iter().take_while(|b| space(b)).count();
    let first_end = name_end(at);
    let phase = line.get(at).is_some_and(u8::is_ascii_alphabetic)
        && matches!(line.get(first_end), Some(b'/' | b'.'))
        && line
            .get(first_end + 1)
            .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_');
    let groups = if phase {
        (Some(at..first_end), first_end + 1..name_end(first_end + 1))
    } else {
        (None, at..first_end)
    };
    debug_assert_eq!(groups.1.end, m.end, "start regex groups misread");
    groups
}

fn number(b: &[u8]) -> u32 {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Lines made of the pieces the `start` regex cares about, glued at random.
    fn pieces() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "Start",
            "starting",
            "STARTED",
            "processing",
            "Running",
            "launching",
            "executing",
            "run_backfill.sh",
            "run_backfillXsh",
            " ",
            "  ",
            "\t",
            "\r",
            "/",
            ".",
            "a",
            "Z",
            "_",
            "3",
            "-",
            "analytics",
            "player_game_summary",
            "query:",
            "x.y",
            "é",
        ]);
        prop::collection::vec(piece, 0..14).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        /// The search in any case finds what a search of the lower-cased line finds.
        #[test]
        fn any_case_search_is_the_lower_cased_search(line in pieces(), n in 0usize..4) {
            let needle = ["start", "run_backfill.sh", "x.y", "--start-date"][n].as_bytes();
            let lower = line.to_ascii_lowercase();
            let want = memchr::memmem::find(lower.as_bytes(), needle).is_some();
            prop_assert_eq!(contains_ignore_ascii_case(line.as_bytes(), needle), want);
        }

        /// The groups read by hand are the capture engine's, match after match.
        #[test]
        fn start_groups_are_the_regex_groups(line in pieces()) {
            static READER: std::sync::LazyLock<SignalReader> =
                std::sync::LazyLock::new(SignalReader::default);
            let reader = &*READER;
            let line = line.as_bytes();
            let by_regex: Vec<_> = reader
                .start
                .captures_iter(line)
                .map(|c| (c.get(1).map(|g| g.range()), c.get(2).expect("group 2").range()))
                .collect();
            let by_hand: Vec<_> = reader
                .start
                .find_iter(line)
                .map(|m| start_groups(line, m.range()))
                .collect();
            prop_assert_eq!(by_hand, by_regex);
        }
    }
}
