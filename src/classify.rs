//! The line classifier and the chunk scanner: one aho-corasick automaton holds every rule literal
//! and every structural trigger word, so a chunk is searched in one pass and only the lines around a
//! hit are examined. A line becomes an [`Event`] (a failure, a mention of a symptom, an attempt
//! start, a success, progress, a run banner, a gap list) by rules that look at that line alone: this
//! is what lets chunks be classified in parallel and folded in order afterwards.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::error::{Error, Result};
use crate::extract::{self, Date, Level, ProcessorNames};
use crate::rules::{Category, Rule};

/// Lines are read up to this many bytes; the rest of a longer line is ignored. This bounds the work
/// and memory for one line (a 1 GB line without a newline) the same way from a file and from stdin.
pub const MAX_LINE: usize = 1 << 20;

/// How many days one `--start-date=A --end-date=B` attempt may span before it is read as A alone.
const MAX_RANGE_DAYS: usize = 366;

/// What a line says about the run's progress, besides any failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    None,
    /// An attempt of (date, processor) begins.
    Start,
    /// An attempt ended well.
    Success,
    /// `Processing date 150/327`: the script moved to its next date.
    Progress {
        index: u32,
        total: u32,
    },
    /// `Found 327 dates to process`: a new backfill run begins.
    RunStart {
        total: u32,
    },
    /// `ALL DATES SUCCESSFUL`, `Backfill script completed`.
    RunComplete,
}

/// One interesting line, with positions relative to the chunk it came from until the fold rebases
/// them onto the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line's first byte.
    pub offset: u64,
    pub level: Option<Level>,
    pub failure: bool,
    /// Index of the winning rule in the classifier's rule list.
    pub rule: Option<u16>,
    pub signal: Signal,
    /// The line lists gap dates ("Missing dates in lookback window: [...]"): its dates are the gaps,
    /// not the date the line is about.
    pub gap_list: bool,
    pub processor: Option<u16>,
    /// Data dates: for a start, the dates the attempt covers.
    pub dates: Vec<Date>,
    /// Cleaned, bounded text; empty for lines whose text nothing reports (starts, progress).
    pub text: String,
}

/// The events of one chunk, and how many newlines it holds (to number the lines of the next one).
#[derive(Debug, Default)]
pub struct ChunkEvents {
    pub events: Vec<Event>,
    pub newlines: u64,
}

// Structural trigger words, as bit flags: which ones hit a line decides what to check on it.
const T_FAILWORD: u16 = 1;
const T_CROSS: u16 = 1 << 1;
const T_CHECK: u16 = 1 << 2;
const T_START: u16 = 1 << 3;
const T_SUCCESS: u16 = 1 << 4;
const T_FOUND: u16 = 1 << 5;
const T_COMPLETE: u16 = 1 << 6;
const T_GAP: u16 = 1 << 7;
/// What the scanner looks for on lines logged below ERROR, where only starts, successes, progress,
/// run banners and gap lists matter: the tails of those signal words (start, processing, running,
/// launching, executing, run_backfill, success/succeeded, complete(d), dates to process, missing
/// dates, gap dates) in lower and Title Case (dropping the first letter covers Capitalised words),
/// SUCCESS and COMPLETE in upper case too, and ✅. Each variant costs SIMD (Teddy) throughput on
/// every byte of the log: an upper-case variant of every tail made the whole scan 20% slower.
const SIGNAL_TAILS: [&str; 11] = [
    "tart",
    "rocessing",
    "unning",
    "aunching",
    "xecuting",
    "_backfill",
    "ucce",
    "omplete",
    "o process",
    "issing dates",
    "p dates",
];

fn signal_variants() -> Vec<String> {
    let mut out = vec!["\u{2705}".to_string()];
    for tail in SIGNAL_TAILS {
        // Title Case too, for banners like "Found 3 Dates To Process".
        let title: Vec<String> = tail
            .split(' ')
            .enumerate()
            .map(|(i, w)| {
                if i == 0 {
                    w.to_string()
                } else {
                    w[..1].to_ascii_uppercase() + &w[1..]
                }
            })
            .collect();
        // UPPER CASE only where scripts shout: ALL DATES SUCCESSFUL, BACKFILL COMPLETE.
        let upper = matches!(tail, "ucce" | "omplete").then(|| tail.to_ascii_uppercase());
        for variant in [Some(tail.to_string()), Some(title.join(" ")), upper]
            .into_iter()
            .flatten()
        {
            if !out.contains(&variant) {
                out.push(variant);
            }
        }
    }
    out
}

const TRIGGERS: &[(&str, u16)] = &[
    // Level words and exception-name endings: candidates for a levelled or exception failure.
    ("error", T_FAILWORD),
    ("critical", T_FAILWORD),
    ("fatal", T_FAILWORD),
    ("panic", T_FAILWORD),
    ("exception", T_FAILWORD),
    ("exceeded", T_FAILWORD),
    ("notfound", T_FAILWORD),
    ("forbidden", T_FAILWORD),
    ("badrequest", T_FAILWORD),
    ("toomanyrequests", T_FAILWORD),
    ("unavailable", T_FAILWORD),
    ("unauthorized", T_FAILWORD),
    ("conflict", T_FAILWORD),
    ("invalid", T_FAILWORD),
    ("failure", T_FAILWORD),
    ("interrupt", T_FAILWORD),
    ("timeout", T_FAILWORD),
    ("exit", T_FAILWORD),
    ("\u{274c}", T_CROSS),
    ("\u{2705}", T_CHECK),
    ("start", T_START),
    ("processing", T_START),
    ("running", T_START),
    ("launching", T_START),
    ("executing", T_START),
    ("run_backfill", T_START),
    ("success", T_SUCCESS),
    ("succeeded", T_SUCCESS),
    ("completed", T_SUCCESS),
    ("dates to process", T_FOUND),
    ("all dates successful", T_COMPLETE),
    ("backfill complete", T_COMPLETE),
    ("backfill script completed", T_COMPLETE),
    ("missing dates", T_GAP),
    ("gap dates", T_GAP),
];

#[derive(Debug, Clone, Copy)]
enum Owner {
    Rule { rule: u16, len: u16 },
    Trigger(u16),
}

/// Everything needed to read lines: compiled once, shared read-only by all worker threads.
#[derive(Debug)]
pub struct Classifier {
    rules: Vec<Rule>,
    processors: ProcessorNames,
    automaton: AhoCorasick,
    owners: Vec<Owner>,
    /// The trigger words a line logged at INFO/DEBUG/WARNING can matter for (starts, successes,
    /// progress, run banners, gap lists): a small automaton, fast enough to run on every such line.
    signals: AhoCorasick,
    /// Each rule's regex, run only on lines where one of its literals was found.
    confirm: Vec<Option<Regex>>,
    /// Rules with a regex and no literal: they cannot be prefiltered, so every line is examined
    /// and matched against all of them in one pass of `regex_only_set`.
    regex_only: Vec<u16>,
    regex_only_set: RegexSet,
    start: Regex,
    progress: Regex,
    found: Regex,
    success: Regex,
}

impl Classifier {
    pub fn new(rules: Vec<Rule>, processors: &[String]) -> Result<Classifier> {
        if processors.is_empty() || processors.len() > 64 {
            return Err(Error::Processors(format!(
                "expected 1 to 64 names, got {}",
                processors.len()
            )));
        }
        if let Some(bad) = processors
            .iter()
            .find(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err(Error::Processors(format!(
                "'{bad}' is not a processor name (letters, digits, '_')"
            )));
        }
        let mut patterns: Vec<&str> = Vec::new();
        let mut owners = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            for lit in &rule.literals {
                patterns.push(lit);
                owners.push(Owner::Rule {
                    rule: i as u16,
                    len: lit.len().min(u16::MAX as usize) as u16,
                });
            }
        }
        for (word, flag) in TRIGGERS {
            patterns.push(word);
            owners.push(Owner::Trigger(*flag));
        }
        // Leftmost-first lets aho-corasick use its SIMD (Teddy) searcher; is_match does not care.
        let signals = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(signal_variants())
            .expect("trigger words are plain literals");
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .map_err(|e| Error::Matcher(e.to_string()))?;

        let mut confirm = Vec::with_capacity(rules.len());
        for rule in &rules {
            confirm.push(match &rule.regex {
                Some(re) => Some(compile_rule_regex(re).map_err(|e| {
                    Error::Matcher(format!("rule '{}' ({}): {e}", rule.id, rule.origin))
                })?),
                None => None,
            });
        }
        let regex_only: Vec<u16> = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.literals.is_empty())
            .map(|(i, _)| i as u16)
            .collect();
        let regex_only_set = RegexSetBuilder::new(
            regex_only
                .iter()
                .map(|&r| rules[r as usize].regex.as_deref().unwrap_or_default()),
        )
        .size_limit(1 << 26)
        .build()
        .map_err(|e| Error::Matcher(e.to_string()))?;
        let re = |s: &str| {
            RegexBuilder::new(s)
                .case_insensitive(true)
                .build()
                .expect("built-in regex")
        };
        Ok(Classifier {
            processors: ProcessorNames::new(processors),
            rules,
            automaton,
            owners,
            signals,
            confirm,
            regex_only,
            regex_only_set,
            start: re(
                r"\b(?:start(?:ing|ed)?|processing|running|launching|executing|run_backfill\.sh)\s+(?:analytics[/.])?([A-Za-z_][A-Za-z0-9_]*)",
            ),
            progress: re(r"\bprocessing\s+date\s+(\d{1,9})\s*/\s*(\d{1,9})"),
            found: re(r"\bfound\s+(\d{1,9})\s+dates?\s+to\s+process"),
            success: re(r"\b(?:success|successful|successfully|succeeded|completed)\b"),
        })
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn processors(&self) -> &[String] {
        self.processors.names()
    }

    /// Finds and classifies the interesting lines of `chunk`, which holds whole lines (its last line
    /// may lack a newline). `keep_mentions` keeps lines that match a rule without being failures,
    /// which only `--format events` prints.
    pub fn scan_chunk(&self, chunk: &[u8], keep_mentions: bool) -> ChunkEvents {
        let mut out = ChunkEvents::default();
        // One SIMD pass over the whole chunk finds the signal words; the line loop below then only
        // asks whether the next hit lies inside the current line.
        let mut signal_hits = self.signals.find_iter(chunk).map(|m| m.start()).peekable();
        let mut start = 0;
        let mut line_no = 0u64;
        while start < chunk.len() {
            let end = memchr::memchr(b'\n', &chunk[start..]).map_or(chunk.len(), |i| start + i);
            line_no += 1;
            let line = &chunk[start..end.min(start + MAX_LINE)];
            while signal_hits.next_if(|&hit| hit < start).is_some() {}
            let has_signal = signal_hits
                .peek()
                .is_some_and(|&hit| hit < start + line.len());
            if self.worth_a_look(line, has_signal, keep_mentions) {
                if let Some(mut event) = self.classify(line, keep_mentions) {
                    event.line = line_no;
                    event.offset = start as u64;
                    out.events.push(event);
                }
            }
            start = end + 1;
        }
        out.newlines = line_no - u64::from(chunk.last().is_some_and(|&b| b != b'\n'));
        out
    }

    /// A cheap filter in front of [`Classifier::classify`] that never rejects a line it would
    /// accept (the fuzz target `line_pipeline` checks this). Most lines of a backfill log are logged at INFO or DEBUG: for those only the signal
    /// words matter (`has_signal`: one was found on the line). Indented lines without a level
    /// (traceback frames, SQL text) can only be exception lines, ❌ lines or signals. The big
    /// automaton of every rule literal runs only on lines logged at ERROR and above and on other
    /// lines without a level (the script's own output).
    fn worth_a_look(&self, line: &[u8], has_signal: bool, keep_mentions: bool) -> bool {
        if !self.regex_only.is_empty() || has_signal {
            return true;
        }
        // Colour codes can split any word (`ERR\x1b[0mOR`); classify strips them first.
        if memchr::memchr(0x1b, line).is_some() {
            return true;
        }
        match extract::level(line) {
            Some(level) if level.is_failure() => true,
            Some(_) if !keep_mentions => false,
            None if !keep_mentions && line.first().is_some_and(|&b| b == b' ' || b == b'\t') => {
                extract::is_exception_line(line)
                    || memchr::memmem::find(line, "\u{274c}".as_bytes()).is_some()
            }
            _ => self.automaton.is_match(line),
        }
    }

    /// Reads one line (without its newline). `None` when nothing on it matters.
    pub fn classify(&self, raw: &[u8], keep_mentions: bool) -> Option<Event> {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let cleaned = extract::strip_ansi(raw);
        let line = cleaned
            .strip_prefix("\u{feff}".as_bytes())
            .unwrap_or(&cleaned);

        let mut triggers = 0u16;
        let mut hits: Vec<(u16, u16)> = Vec::new();
        for m in self.automaton.find_overlapping_iter(line) {
            match self.owners[m.pattern().as_usize()] {
                Owner::Trigger(flag) => triggers |= flag,
                Owner::Rule { rule, len } => match hits.iter_mut().find(|(r, _)| *r == rule) {
                    Some(h) => h.1 = h.1.max(len),
                    None => hits.push((rule, len)),
                },
            }
        }
        if triggers == 0 && hits.is_empty() && self.regex_only.is_empty() {
            return None;
        }
        let rule = self.winning_rule(line, hits);

        let level = extract::level(line);
        let failure = match level {
            Some(level) => level.is_failure(),
            None => {
                let indented = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
                triggers & T_CROSS != 0
                    || (triggers & T_FAILWORD != 0 && extract::is_exception_line(line))
                    || (rule.is_some() && !indented)
            }
        };
        // Below ERROR only the signal words (in the casings the scanner searches for) make a line
        // count, exactly as `worth_a_look` filters: classify alone and the scanner agree.
        let signal_words = !failure && self.signals.is_match(line);
        let gap_list = triggers & T_GAP != 0 && (failure || signal_words);
        let mut processor = None;
        let mut dates = Vec::new();
        let signal = if signal_words {
            self.signal(line, triggers, &mut processor, &mut dates)
        } else {
            Signal::None
        };
        let mention = keep_mentions && rule.is_some();
        if !(failure || signal != Signal::None || gap_list || mention) {
            return None;
        }
        if signal != Signal::Start {
            processor = self.processors.find(line);
            extract::for_each_date(line, |d| dates.push(d));
        }
        let text = if failure || rule.is_some() || gap_list {
            extract::clean_text(line)
        } else {
            String::new()
        };
        Some(Event {
            line: 0,
            offset: 0,
            level,
            failure,
            rule,
            signal,
            gap_list,
            processor,
            dates,
            text,
        })
    }

    /// The most specific rule matching the line: highest priority, then the longest literal, then
    /// the first in rule order. Literal hits are confirmed by the rule's regex where it has one.
    fn winning_rule(&self, line: &[u8], mut hits: Vec<(u16, u16)>) -> Option<u16> {
        hits.retain(|&(r, _)| {
            self.confirm[r as usize]
                .as_ref()
                .is_none_or(|re| re.is_match(line))
        });
        if !self.regex_only.is_empty() {
            let set = self.regex_only_set.matches(line);
            hits.extend(set.iter().map(|i| (self.regex_only[i], 0)));
        }
        hits.into_iter()
            .max_by_key(|&(r, len)| (self.rules[r as usize].priority, len, std::cmp::Reverse(r)))
            .map(|(r, _)| r)
    }

    /// What a non-failure line says about runs and attempts. Fills `processor` and `dates` for
    /// starts, whose date is the one after the processor, not any date on the line.
    fn signal(
        &self,
        line: &[u8],
        triggers: u16,
        processor: &mut Option<u16>,
        dates: &mut Vec<Date>,
    ) -> Signal {
        let number = |b: &[u8]| {
            std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
                .unwrap_or(u32::MAX)
        };
        if triggers & T_FOUND != 0 {
            if let Some(c) = self.found.captures(line) {
                return Signal::RunStart {
                    total: number(&c[1]),
                };
            }
        }
        if triggers & T_COMPLETE != 0 {
            return Signal::RunComplete;
        }
        if triggers & T_START != 0 {
            if let Some(c) = self.progress.captures(line) {
                return Signal::Progress {
                    index: number(&c[1]),
                    total: number(&c[2]),
                };
            }
            for c in self.start.captures_iter(line) {
                let token = c.get(1).expect("group 1 always takes part");
                let Some(p) = self.processors.lookup(token.as_bytes()) else {
                    continue;
                };
                start_dates(line, &line[token.end()..], dates);
                if !dates.is_empty() {
                    *processor = Some(p);
                    return Signal::Start;
                }
            }
        }
        // A success word counts only next to a date ("completed for 2023-11-15"): "Query completed
        // in 2.1s" is not the end of an attempt. A check mark always is.
        if triggers & T_CHECK != 0 {
            return Signal::Success;
        }
        if triggers & T_SUCCESS != 0 && self.success.is_match(line) {
            let mut dated = false;
            extract::for_each_date(line, |_| dated = true);
            if dated {
                return Signal::Success;
            }
        }
        Signal::None
    }

    pub fn category(&self, rule: Option<u16>) -> Category {
        rule.map_or(Category::Uncategorized, |r| self.rules[r as usize].category)
    }

    pub fn is_crash(&self, rule: Option<u16>) -> bool {
        rule.is_some_and(|r| self.rules[r as usize].crash)
    }

    pub fn priority(&self, rule: Option<u16>) -> u8 {
        rule.map_or(0, |r| self.rules[r as usize].priority)
    }

    pub fn rule_id(&self, rule: Option<u16>) -> Option<&str> {
        rule.map(|r| self.rules[r as usize].id.as_str())
    }
}

/// Compiles a rule's regex with ASCII classes and word boundaries where the pattern allows: the
/// lazy DFA then runs it, where Unicode word boundaries would need the much slower PikeVM. A pattern
/// that needs Unicode (`\p{..}`) keeps it.
fn compile_rule_regex(source: &str) -> std::result::Result<Regex, regex::Error> {
    let build = |unicode| {
        RegexBuilder::new(source)
            .unicode(unicode)
            .size_limit(1 << 22)
            .build()
    };
    build(false).or_else(|_| build(true))
}

/// The dates a start line's attempt covers: `--start-date=A --end-date=B` expands to every day of
/// A..=B (a range over [`MAX_RANGE_DAYS`] is read as A alone), otherwise the first date after the
/// processor name.
fn start_dates(line: &[u8], after: &[u8], dates: &mut Vec<Date>) {
    let flag = |name: &[u8]| {
        memchr::memmem::find(line, name)
            .and_then(|i| line.get(i + name.len()..i + name.len() + 10))
            .and_then(Date::parse)
    };
    if let Some(first) = flag(b"--start-date=") {
        dates.push(first);
        if let Some(last) = flag(b"--end-date=") {
            let mut d = first;
            while d < last && dates.len() < MAX_RANGE_DAYS {
                match d.succ() {
                    Some(next) => {
                        d = next;
                        dates.push(d);
                    }
                    None => break,
                }
            }
            if d < last {
                dates.truncate(1);
            }
        }
        return;
    }
    let mut first = None;
    extract::for_each_date(after, |d| {
        first.get_or_insert(d);
    });
    dates.extend(first);
}
