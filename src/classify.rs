//! The line classifier and the chunk scanner. A line becomes an [`Event`] (a failure, a mention of
//! a symptom, or one of the signals of `signal`) by rules that look at that line alone: this is
//! what lets chunks be classified in parallel and folded in order afterwards, and what lets a chunk
//! read a repeated line once (its line memos). Most lines are dropped by their level and a small
//! automaton of signal words; the rest go through one aho-corasick automaton that holds every rule
//! literal, every trigger word of the vocabulary and every processor name.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem::Finder;
use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::date::{self, Date, Timestamp};
use crate::error::{Error, Result};
use crate::extract::{self, Level};
use crate::processors::{ProcessorId, ProcessorNames};
use crate::rules::{Category, Rule, RuleId};
use crate::signal::SignalReader;
pub use crate::signal::{Signal, Start};
use crate::templates::{self, FoldHasher};
use crate::vocab::{self, trigger};

/// The cross of a failure status line, searched on indented lines (a searcher built once).
static CROSS_MARK: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(vocab::CROSS_MARK));

/// Lines are read up to this many bytes; the rest of a longer line is ignored. This bounds the work
/// and memory for one line (a 1 GB line without a newline) the same way from a file and from stdin.
pub const MAX_LINE: usize = 1 << 20;

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
    /// An unlevelled exception line (`ValueError: ...`), the end of a traceback: it belongs to the
    /// failure line before it, whatever processor its message mentions.
    pub exception: bool,
    /// The winning rule.
    pub rule: Option<RuleId>,
    pub signal: Signal,
    /// The line lists gap dates ("Missing dates in lookback window: [...]"): its dates are the gaps,
    /// not the date the line is about.
    pub gap_list: bool,
    /// The line's processor: its GNU parallel tag's, or the first one it names.
    pub processor: Option<ProcessorId>,
    /// The line carries a GNU `parallel --tag` prefix naming its processor: attempts of different
    /// tags run at the same time.
    pub tagged: bool,
    /// A status line (`[p] ❌ Failed`): it reports the processor's final status, so it ends the
    /// processor's attempt.
    pub status: bool,
    /// Data dates (a start's are in its [`Start`]); for count summaries, the dates listed as failed.
    pub dates: Vec<Date>,
    /// The line's own timestamp, if it has one.
    pub time: Option<Timestamp>,
    /// Cleaned, bounded text; empty for lines whose text nothing reports (starts, progress).
    pub text: String,
    /// The text's masked form ([`templates::key`]) for a failure that counts towards the
    /// top error templates (not a wrapper, not a status line no rule names); empty otherwise. It is
    /// made here, on the scan's workers, so that the fold only looks it up.
    pub template_key: Arc<str>,
}

/// The events of one chunk, and how many newlines it holds (to number the lines of the next one).
#[derive(Debug, Default)]
pub struct ChunkEvents {
    pub events: Vec<Event>,
    pub newlines: u64,
}

#[derive(Debug, Clone, Copy)]
enum Owner {
    Rule {
        rule: RuleId,
        len: u16,
    },
    Trigger(u16),
    /// A processor's snake name (even) or class name (odd), as [`ProcessorNames`] numbers them:
    /// the trigger automaton's pass finds the line's processor too.
    Name(u16),
}

/// Buffers one worker reuses from line to line.
#[derive(Debug, Default)]
struct Scratch {
    /// Rule literals found on the line: rule, longest literal.
    hits: Vec<(RuleId, u16)>,
    /// Processor names found on the line, exactly as spelled: start, end, name pattern.
    names: Vec<(usize, usize, u16)>,
    /// Template keys: the unquoted message, and the key.
    unquoted: String,
    key: String,
    /// The template keys of the messages seen in this chunk: failure-dense logs repeat their
    /// messages, and finding one again costs a small part of masking it.
    keys: HashMap<Box<str>, Arc<str>, BuildHasherDefault<FoldHasher>>,
    /// The same keys by the message's digit shape ([`templates::digit_shape`]), and its buffer:
    /// messages that differ only in a date or an id share one.
    shapes: HashMap<Box<[u8]>, Arc<str>, BuildHasherDefault<FoldHasher>>,
    shape: Vec<u8>,
}

/// Messages whose keys a chunk remembers; past it, the memo starts over. It bounds the memo's
/// memory (messages are at most [`extract::MAX_TEXT`] bytes) whatever the log.
const KEY_MEMO: usize = 1024;

/// Lines a chunk remembers the reading of (a bound on the line memo's memory, whatever the log),
/// and the longest line remembered: longer ones rarely repeat, and hashing them would be wasted.
/// A traceback's last line often runs past 300 bytes (`requests.exceptions.ConnectionError:
/// HTTPSConnectionPool(host=...)`) and repeats with every attempt.
const LINE_MEMO: usize = 1024;
const LINE_MEMO_MAX: usize = 1024;

/// The longest leading timestamp the line memo masks (`2025-11-29T10:00:00.123456789Z` is 30).
const STAMP_MAX: usize = 32;

/// A timestamped line as the line memo knows it: its leading timestamp with every digit masked
/// (zero-padded to [`STAMP_MAX`]; a timestamp holds no zero byte, so the padding also fixes its
/// length), and the rest of the line.
type StampKey<'a> = ([u8; STAMP_MAX], &'a [u8]);

impl Scratch {
    /// The template key of a failure's text (see [`templates::key`]).
    fn template_key(&mut self, text: &str) -> Arc<str> {
        let message = templates::message(text);
        if let Some(key) = self.keys.get(message) {
            return Arc::clone(key);
        }
        let shaped = templates::digit_shape(message, &mut self.shape);
        let key = match self.shapes.get(self.shape.as_slice()).filter(|_| shaped) {
            Some(key) => Arc::clone(key),
            None => {
                templates::key_into(text, &mut self.unquoted, &mut self.key);
                let key: Arc<str> = Arc::from(self.key.as_str());
                if shaped && !self.key.bytes().any(|b| b.is_ascii_digit()) {
                    if self.shapes.len() >= KEY_MEMO {
                        self.shapes.clear();
                    }
                    self.shapes
                        .insert(self.shape.as_slice().into(), Arc::clone(&key));
                }
                key
            }
        };
        if self.keys.len() >= KEY_MEMO {
            self.keys.clear();
        }
        self.keys.insert(message.into(), Arc::clone(&key));
        key
    }
}

/// Everything needed to read lines: compiled once, shared read-only by all worker threads.
#[derive(Debug)]
pub struct Classifier {
    rules: Vec<Rule>,
    processors: ProcessorNames,
    /// Rule literals, trigger words and processor names, matched case-insensitively.
    automaton: AhoCorasick,
    owners: Vec<Owner>,
    /// The processor name patterns of [`Owner::Name`], to check their case.
    name_patterns: Vec<String>,
    /// The signal words a line logged at INFO/DEBUG/WARNING can matter for: a small automaton with
    /// a SIMD searcher, fast enough for every such line ([`SignalHits`]).
    signals: AhoCorasick,
    reader: SignalReader,
    /// How many events the last chunk held: the next one's list starts that big, so a log full
    /// of failures does not grow (and copy) its lists of thousands of events step by step.
    events_hint: AtomicUsize,
    /// Each rule's regex, run only on lines where one of its literals was found.
    confirm: Vec<Option<Regex>>,
    /// Rules with a regex and no literal: they cannot be prefiltered, so every line is examined
    /// and matched against all of them in one pass of `regex_only_set`.
    regex_only: Vec<RuleId>,
    regex_only_set: RegexSet,
    /// Per rule: its regex (if any) cannot tell one digit from another ([`digit_blind`]).
    blind: Vec<bool>,
    /// The automaton's patterns (lower-case) that hold a digit and could begin inside a leading
    /// timestamp ([`Classifier::stamp_safe`]), with how many of their first bytes could stand in
    /// one.
    stamp_digits: Vec<(Vec<u8>, usize)>,
    /// Timestamped lines are remembered by their masked timestamp: false when a regex-only rule,
    /// which runs on every line, can tell digits apart.
    stamp_memo: bool,
}

impl Classifier {
    pub fn new(rules: Vec<Rule>, processors: &[String]) -> Result<Classifier> {
        let processors = ProcessorNames::new(processors)?;
        if rules.len() > RuleId::MAX {
            return Err(Error::Matcher(format!(
                "{} rules: at most {} can be loaded",
                rules.len(),
                RuleId::MAX
            )));
        }
        let mut patterns: Vec<String> = Vec::new();
        let mut owners = Vec::new();
        for (id, rule) in RuleId::all(rules.len()).zip(&rules) {
            for lit in &rule.literals {
                patterns.push(lit.clone());
                owners.push(Owner::Rule {
                    rule: id,
                    len: lit.len().min(u16::MAX as usize) as u16,
                });
            }
        }
        for (word, bit) in vocab::triggers() {
            patterns.push(word);
            owners.push(Owner::Trigger(bit));
        }
        // In the order of `ProcessorNames`' own automaton: processor i's snake name is pattern 2i,
        // its class name 2i + 1.
        let name_patterns: Vec<String> = processors
            .names()
            .iter()
            .flat_map(|n| [n.clone(), crate::processors::class_name(n)])
            .collect();
        for (i, name) in name_patterns.iter().enumerate() {
            patterns.push(name.clone());
            owners.push(Owner::Name(i as u16));
        }
        // Leftmost-first lets aho-corasick use its SIMD (Teddy) searcher; is_match does not care.
        let signals = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(vocab::PREFILTER)
            .expect("signal words are plain literals");
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
        let regex_only: Vec<RuleId> = RuleId::all(rules.len())
            .filter(|id| rules[id.index()].literals.is_empty())
            .collect();
        let regex_only_set = RegexSetBuilder::new(
            regex_only
                .iter()
                .map(|id| rules[id.index()].regex.as_deref().unwrap_or_default()),
        )
        .size_limit(1 << 26)
        .build()
        .map_err(|e| Error::Matcher(e.to_string()))?;
        let blind: Vec<bool> = rules
            .iter()
            .map(|r| r.regex.as_deref().is_none_or(digit_blind))
            .collect();
        let stamp_memo = regex_only.iter().all(|id| blind[id.index()]);
        // Bytes a leading timestamp is made of (`2025-11-29T10:00:00,123Z`), either case as the
        // automaton matches them.
        let in_stamp = |b: u8| b.is_ascii_digit() || b"-: T.,Z".contains(&b.to_ascii_uppercase());
        let stamp_digits = patterns
            .iter()
            .filter(|p| {
                p.bytes().any(|b| b.is_ascii_digit()) && p.bytes().next().is_some_and(in_stamp)
            })
            .map(|p| {
                let lead = p.bytes().take_while(|&b| in_stamp(b)).count();
                (p.to_ascii_lowercase().into_bytes(), lead)
            })
            .collect();
        Ok(Classifier {
            processors,
            rules,
            automaton,
            owners,
            name_patterns,
            events_hint: AtomicUsize::new(0),
            signals,
            reader: SignalReader::default(),
            confirm,
            regex_only,
            regex_only_set,
            blind,
            stamp_digits,
            stamp_memo,
        })
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn processors(&self) -> &ProcessorNames {
        &self.processors
    }

    /// Finds and classifies the interesting lines of `chunk`, which holds whole lines (its last line
    /// may lack a newline). `keep_mentions` keeps lines that match a rule without being failures,
    /// which only `--format events` prints.
    pub fn scan_chunk(&self, chunk: &[u8], keep_mentions: bool) -> ChunkEvents {
        let mut out = ChunkEvents {
            events: Vec::with_capacity(self.events_hint.load(Ordering::Relaxed)),
            newlines: 0,
        };
        let mut scratch = Scratch::default();
        // A line's reading depends on its bytes alone, and the lines without a timestamp (status
        // lines, `Traceback (most recent call last):`, exception messages, the driver's echoes)
        // repeat: a log of failures repeats each of them thousands of times. Those are read once
        // per chunk and their event copied.
        let mut memo: HashMap<&[u8], Option<usize>, BuildHasherDefault<FoldHasher>> =
            HashMap::default();
        // Lines with a timestamp repeat too, all but the timestamp's digits: the failures of an
        // outage, a retry round. A line reads as every line that differs from it only there (see
        // `stamp_key`), except for its time, and its text's timestamp.
        let mut stamped: HashMap<StampKey, Option<usize>, BuildHasherDefault<FoldHasher>> =
            HashMap::default();
        let mut dull = Dull::default();
        let mut signal_hits = SignalHits {
            words: &self.signals,
            chunk,
            next: None,
        };
        let mut start = 0;
        let mut line_no = 0u64;
        while start < chunk.len() {
            let end = memchr::memchr(b'\n', &chunk[start..]).map_or(chunk.len(), |i| start + i);
            line_no += 1;
            let line = &chunk[start..end.min(start + MAX_LINE)];
            let mut has_signal = || signal_hits.in_line(start, start + line.len());
            let mut level = None;
            let repeats =
                line.len() <= LINE_MEMO_MAX && line.first().is_some_and(|b| !b.is_ascii_digit());
            // A remembered reading is the index of its event in `out.events` (its line and offset
            // are this line's once pushed), or `None` for a line that is no event.
            let next = out.events.len();
            let read = if repeats {
                // Remembered whether or not it was worth a look: a traceback's code lines repeat
                // with every attempt, and finding one again costs less than its level scan.
                if let Some(&seen) = memo.get(line) {
                    seen.map(|i| out.events[i].clone())
                } else {
                    let read = if dull.seen(line) {
                        None
                    } else if self.worth_a_look(line, &mut has_signal, keep_mentions, &mut level) {
                        self.read_line(line, keep_mentions, &mut scratch, level)
                    } else {
                        dull.remember();
                        None
                    };
                    if memo.len() >= LINE_MEMO {
                        memo.clear();
                    }
                    memo.insert(line, read.is_some().then_some(next));
                    read
                }
            } else if !self.worth_a_look(line, &mut has_signal, keep_mentions, &mut level) {
                None
            } else if let Some((key, stamp)) = self.stamp_key(line) {
                if let Some(&seen) = stamped.get(&key) {
                    seen.map(|i| restamp(&out.events[i], line, stamp, &mut scratch))
                } else {
                    let read = self.read_line(line, keep_mentions, &mut scratch, level);
                    // Not remembered: a line whose rules' regexes tell digits apart, or where a
                    // pattern may start inside the timestamp; to be safe, a text that does not
                    // start with the line's timestamp.
                    let same = scratch.hits.iter().all(|(r, _)| self.blind[r.index()])
                        && self.stamp_safe(line, stamp)
                        && read.as_ref().is_none_or(|e| {
                            e.text.is_empty() || e.text.as_bytes().starts_with(&line[..stamp])
                        });
                    if same {
                        if stamped.len() >= LINE_MEMO {
                            stamped.clear();
                        }
                        stamped.insert(key, read.is_some().then_some(next));
                    }
                    read
                }
            } else {
                self.read_line(line, keep_mentions, &mut scratch, level)
            };
            if let Some(mut event) = read {
                event.line = line_no;
                event.offset = start as u64;
                out.events.push(event);
            }
            start = end + 1;
        }
        out.newlines = line_no - u64::from(chunk.last().is_some_and(|&b| b != b'\n'));
        self.events_hint.store(out.events.len(), Ordering::Relaxed);
        out
    }

    /// The line memo's key for a line that starts with a timestamp, and the timestamp's length.
    ///
    /// A line reads as every line that differs from it only in its leading timestamp's digits: the
    /// level scan, the dates, the processor and the signal reader look at digits only as digits
    /// (the timestamp's own date is never a data date), and every regex they run starts with a
    /// byte no timestamp holds. What can differ is checked before a reading is remembered: a rule
    /// regex that tells digits apart ([`digit_blind`]), and a pattern with a digit that could start
    /// inside the timestamp ([`Classifier::stamp_safe`]).
    fn stamp_key<'l>(&self, line: &'l [u8]) -> Option<(StampKey<'l>, usize)> {
        if !self.stamp_memo || line.len() > LINE_MEMO_MAX {
            return None;
        }
        let stamp = extract::timestamp_len(line);
        if !(19..=STAMP_MAX).contains(&stamp) {
            return None;
        }
        let mut masked = [0u8; STAMP_MAX];
        for (m, &b) in masked.iter_mut().zip(&line[..stamp]) {
            *m = if b.is_ascii_digit() { b'0' } else { b };
        }
        Some(((masked, &line[stamp..]), stamp))
    }

    /// Whether no automaton pattern with a digit could start inside the line's timestamp, whatever
    /// its digits (`...,404 not found` finds a rule's `404 not found` where `...,123 not found`
    /// does not): then every line with the same [`StampKey`] finds the same patterns. Run only
    /// before a reading is remembered.
    fn stamp_safe(&self, line: &[u8], stamp: usize) -> bool {
        let fits = |pattern: &[u8], at: usize| {
            line.len() >= at + pattern.len()
                && pattern
                    .iter()
                    .zip(&line[at..])
                    .enumerate()
                    .all(|(i, (&p, &b))| {
                        if at + i < stamp && b.is_ascii_digit() {
                            p.is_ascii_digit()
                        } else {
                            p == b.to_ascii_lowercase()
                        }
                    })
        };
        // A pattern that runs past the timestamp has only its first `lead` bytes in it.
        !self.stamp_digits.iter().any(|(pattern, lead)| {
            let from = if *lead < pattern.len() {
                stamp.saturating_sub(*lead)
            } else {
                0
            };
            (from..stamp).any(|at| fits(pattern, at))
        })
    }

    /// A cheap filter in front of [`Classifier::classify`] that never rejects a line it would
    /// accept (the fuzz target `line_pipeline` checks this). Most lines of a backfill log are
    /// logged at INFO or DEBUG: for those only the signal words matter (`has_signal`: one is on the
    /// line; asked only when it matters). Indented lines without a level (traceback frames, SQL text) can only be
    /// exception lines, ❌ lines or signals. So `classify`'s big automaton of every rule literal
    /// runs only on lines logged at ERROR and above and on other lines without a level (the
    /// script's own output).
    ///
    /// The line's level, when it was read, is left in `level` for [`Classifier::read_line`].
    fn worth_a_look(
        &self,
        line: &[u8],
        has_signal: &mut dyn FnMut() -> bool,
        keep_mentions: bool,
        level: &mut Option<Option<Level>>,
    ) -> bool {
        if !self.regex_only.is_empty() {
            return true;
        }
        // Colour codes can split any word (`ERR\x1b[0mOR`); classify strips them first.
        if memchr::memchr(0x1b, line).is_some() {
            return true;
        }
        match *level.insert(extract::level(line)) {
            Some(level) if level.is_failure() => true,
            Some(_) if !keep_mentions => has_signal(),
            None if !keep_mentions && line.first().is_some_and(|&b| b == b' ' || b == b'\t') => {
                has_signal() || extract::is_exception_line(line) || CROSS_MARK.find(line).is_some()
            }
            // The rest needs the big automaton, which `read_line` runs first thing: running it
            // here too would read these lines twice.
            _ => true,
        }
    }

    /// Reads one line (without its newline). `None` when nothing on it matters.
    pub fn classify(&self, raw: &[u8], keep_mentions: bool) -> Option<Event> {
        self.read_line(raw, keep_mentions, &mut Scratch::default(), None)
    }

    /// [`Classifier::classify`] with a worker's buffers, and the level of `raw` when the prefilter
    /// read it already.
    fn read_line(
        &self,
        raw: &[u8],
        keep_mentions: bool,
        scratch: &mut Scratch,
        raw_level: Option<Option<Level>>,
    ) -> Option<Event> {
        // The line memo reads the rules found on the line from `hits`, whatever the line is.
        scratch.hits.clear();
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let cleaned = extract::strip_ansi(raw);
        let line = cleaned
            .strip_prefix("\u{feff}".as_bytes())
            .unwrap_or(&cleaned);
        // `set -x` prints each command before running it: the echo's own output follows.
        if is_xtrace_echo(line) {
            return None;
        }
        let (tag, line) = match self.processors.tag(line) {
            Some((p, body)) => (Some(p), &line[body..]),
            None => (None, line),
        };

        let mut triggers = 0u16;
        let Scratch { hits, names, .. } = scratch;
        hits.clear();
        names.clear();
        for m in self.automaton.find_overlapping_iter(line) {
            match self.owners[m.pattern().as_usize()] {
                Owner::Trigger(bit) => triggers |= bit,
                Owner::Rule { rule, len } => match hits.iter_mut().find(|(r, _)| *r == rule) {
                    Some(h) => h.1 = h.1.max(len),
                    None => hits.push((rule, len)),
                },
                Owner::Name(i) => {
                    if line[m.range()] == *self.name_patterns[usize::from(i)].as_bytes() {
                        names.push((m.start(), m.end(), i));
                    }
                }
            }
        }
        // The prefilter's reading stands when nothing was cut off the line.
        let unchanged = line.as_ptr() == raw.as_ptr() && line.len() == raw.len();
        let level = match raw_level {
            Some(level) if unchanged => level,
            _ => extract::level(line),
        };
        if triggers == 0
            && hits.is_empty()
            && self.regex_only.is_empty()
            && !level.is_some_and(Level::is_failure)
        {
            return None;
        }
        // A line logged below ERROR is no failure whatever rule it matches, and without
        // `keep_mentions` only its signals can make it an event: its rule is read only then.
        let rule_later = !keep_mentions && level.is_some_and(|l| !l.is_failure());
        let mut rule = if rule_later {
            None
        } else {
            self.winning_rule(line, hits)
        };

        let indented = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        let exception = level.is_none()
            && triggers & trigger::FAIL_WORD != 0
            && extract::is_exception_line(line);
        let failure = match level {
            Some(level) => level.is_failure(),
            None => triggers & trigger::CROSS != 0 || exception || (rule.is_some() && !indented),
        };
        let processor = tag.or_else(|| self.first_processor(line, names));
        // Below ERROR only the prefilter's words make a line count, exactly as `worth_a_look`
        // filters; an unlevelled line (the driver's own output) went through the trigger
        // automaton, which reads every signal word in any case.
        let signal_words = !failure
            && ((level.is_none() && !indented && triggers & !trigger::FAIL_WORD != 0)
                || self.signals.is_match(line));
        let gap_list = triggers & trigger::GAP != 0 && (failure || signal_words);
        let (signal, mut dates) = if signal_words {
            let read = self
                .reader
                .read(line, triggers, &self.processors, processor);
            (read.signal, read.dates)
        } else if failure && triggers & trigger::RETRY != 0 && self.reader.retries(line) {
            (Signal::Retry, Vec::new())
        } else {
            (Signal::None, Vec::new())
        };
        let mention = keep_mentions && rule.is_some();
        if !(failure || signal != Signal::None || gap_list || mention) {
            return None;
        }
        if rule_later {
            rule = self.winning_rule(line, hits);
        }
        let processor = match &signal {
            Signal::Start(start) => Some(start.processor),
            _ => processor,
        };
        if failure || gap_list || (mention && signal == Signal::None) {
            // A count summary at ERROR lists the dates that failed; any other failure is about
            // every date it names.
            let failed = (triggers & trigger::SUCCESS != 0 && !gap_list)
                .then(|| date::failed_dates(line))
                .flatten();
            dates = failed.unwrap_or_else(|| date::dates_in(line).map(|d| d.0).collect());
        }
        let text = if failure || rule.is_some() || gap_list {
            extract::clean_text(line)
        } else {
            String::new()
        };
        let status = processor.is_some() && triggers & (trigger::CROSS | trigger::CHECK) != 0;
        let template_key = if failure && !(self.is_wrapper(rule) || (status && rule.is_none())) {
            scratch.template_key(&text)
        } else {
            Arc::default()
        };
        Some(Event {
            line: 0,
            offset: 0,
            level,
            failure,
            exception,
            rule,
            signal,
            gap_list,
            processor,
            tagged: tag.is_some(),
            status,
            dates,
            time: Timestamp::find(line),
            text,
            template_key,
        })
    }

    /// The most specific rule matching the line: highest priority, then the longest literal, then
    /// the first in rule order. Literal hits are confirmed by the rule's regex where it has one.
    ///
    /// The candidates are tried best first and the first one confirmed wins: a line of failure
    /// holds several rules' literals, and most of their regexes need not run.
    fn winning_rule(&self, line: &[u8], hits: &mut Vec<(RuleId, u16)>) -> Option<RuleId> {
        if !self.regex_only.is_empty() {
            let set = self.regex_only_set.matches(line);
            hits.extend(set.iter().map(|i| (self.regex_only[i], 0)));
        }
        hits.sort_unstable_by_key(|&(r, len)| {
            std::cmp::Reverse((self.rules[r.index()].priority, len, std::cmp::Reverse(r)))
        });
        hits.iter()
            .find(|&&(r, len)| {
                // A regex-only rule's hit is its regex's match already.
                len == 0
                    || self.confirm[r.index()]
                        .as_ref()
                        .is_none_or(|re| re.is_match(line))
            })
            .map(|&(r, _)| r)
    }

    /// The line's first processor, exactly as [`ProcessorNames::find`] reads it, from the names the
    /// automaton found (`names`: every occurrence, spelled as configured). That search reports
    /// leftmost-longest matches one after the other, without overlap, and keeps the first that
    /// stands as a name: not glued to a word before it, and a snake name not glued to one after.
    fn first_processor(&self, line: &[u8], names: &[(usize, usize, u16)]) -> Option<ProcessorId> {
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let mut from = 0;
        loop {
            // Leftmost, then longest; a name listed twice is the first one listed.
            let &(start, end, pattern) = names
                .iter()
                .filter(|n| n.0 >= from)
                .min_by_key(|n| (n.0, std::cmp::Reverse(n.1), n.2))?;
            let before_ok = start == 0 || !word(line[start - 1]);
            let snake = pattern % 2 == 0;
            let after_ok = !snake || line.get(end).is_none_or(|&b| !word(b));
            if before_ok && after_ok {
                return ProcessorId::all(self.processors.len()).nth(usize::from(pattern / 2));
            }
            from = end;
        }
    }

    pub fn rule(&self, id: RuleId) -> &Rule {
        &self.rules[id.index()]
    }

    pub fn category(&self, rule: Option<RuleId>) -> Category {
        rule.map_or(Category::Uncategorized, |r| self.rule(r).category)
    }

    pub fn is_crash(&self, rule: Option<RuleId>) -> bool {
        rule.is_some_and(|r| self.rule(r).crash)
    }

    pub fn priority(&self, rule: Option<RuleId>) -> u8 {
        rule.map_or(0, |r| self.rule(r).priority)
    }

    /// A wrapper: a rule that says something failed without saying why (uncategorised on
    /// purpose: `Processing failed for D`, `[p] ❌ Failed`, `exit code 1`). It never decides a
    /// category when a line that says why exists.
    pub fn is_wrapper(&self, rule: Option<RuleId>) -> bool {
        rule.is_some_and(|r| self.rule(r).category == Category::Uncategorized)
    }

    pub fn rule_id(&self, rule: Option<RuleId>) -> Option<&str> {
        rule.map(|r| self.rule(r).id.as_str())
    }
}

/// Lines known not to be worth a look ([`Classifier::worth_a_look`]), by their digit-masked form:
/// whether a line is worth a look does not depend on which digits it holds (its level words, signal
/// words, exception names and marks hold none; the level scan reads digits as digits), and a
/// traceback's frame lines differ only in their line numbers.
#[derive(Default)]
struct Dull {
    seen: HashSet<Box<[u8]>, BuildHasherDefault<FoldHasher>>,
    /// The last line asked about, masked, if it holds a digit.
    masked: Vec<u8>,
    digits: bool,
}

impl Dull {
    /// Whether a line with the same digit-masked form was found not worth a look. Only indented
    /// lines are asked about: nearly all of them are not (frames, code, SQL), nearly all others are.
    fn seen(&mut self, line: &[u8]) -> bool {
        self.digits = false;
        if !line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            return false;
        }
        self.masked.clear();
        self.masked.extend(
            line.iter()
                .map(|&b| if b.is_ascii_digit() { b'0' } else { b }),
        );
        self.digits = self.masked != line;
        self.digits && self.seen.contains(self.masked.as_slice())
    }

    /// Remembers the line last asked about as not worth a look. A line without digits is the line
    /// memo's.
    fn remember(&mut self) {
        if self.digits {
            if self.seen.len() >= LINE_MEMO {
                self.seen.clear();
            }
            self.seen.insert(self.masked.as_slice().into());
        }
    }
}

/// Where the signal words stand in a chunk, searched only as far as a line that asks: in a log of
/// failures most lines never need to know, and the words (`failed`, `retry`) are on most of them.
struct SignalHits<'a> {
    words: &'a AhoCorasick,
    chunk: &'a [u8],
    /// The first hit at or after where the last search began (`usize::MAX`: none up to the end);
    /// `None` before the first search.
    next: Option<usize>,
}

impl SignalHits<'_> {
    /// Whether a signal word starts in `start..end`; lines are asked in order. No word holds a
    /// newline, so the first hit from the start of a line is on it if any is.
    fn in_line(&mut self, start: usize, end: usize) -> bool {
        let hit = match self.next {
            Some(hit) if hit >= start => hit,
            _ => {
                let hit = self
                    .words
                    .find(&self.chunk[start..])
                    .map_or(usize::MAX, |m| start + m.start());
                self.next = Some(hit);
                hit
            }
        };
        hit < end
    }
}

/// The event of a line read as another with the same [`StampKey`]: its own time, its own
/// timestamp at the head of its text, and that text's template key.
fn restamp(seen: &Event, line: &[u8], stamp: usize, scratch: &mut Scratch) -> Event {
    let mut event = seen.clone();
    event.time = Timestamp::find(line);
    if !event.text.is_empty() {
        let own = std::str::from_utf8(&line[..stamp]).expect("a timestamp is ASCII");
        event.text.replace_range(..stamp, own);
        // The template key reads the text past its timestamp when the timestamp's date is a
        // real one (the same text then); otherwise it reads the timestamp's digits too.
        let real = |text: &[u8]| Date::parse(&text[..10]).is_some();
        let same_key = real(seen.text.as_bytes()) && real(line);
        if !event.template_key.is_empty() && !same_key {
            event.template_key = scratch.template_key(&event.text);
        }
    }
    event
}

/// Whether a regex treats every ASCII digit alike (each of its classes holds all ten or none,
/// and no literal holds one): then whether it matches does not depend on which digits a line
/// holds, only on where. A regex that does not parse is not.
fn digit_blind(source: &str) -> bool {
    use regex_syntax::hir::{Class, Hir, HirKind};
    fn blind(hir: &Hir) -> bool {
        let all_or_none = |n: usize| n == 0 || n == 10;
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => true,
            HirKind::Literal(lit) => !lit.0.iter().any(u8::is_ascii_digit),
            HirKind::Class(Class::Bytes(c)) => all_or_none(
                (b'0'..=b'9')
                    .filter(|&d| {
                        c.ranges()
                            .iter()
                            .any(|r| (r.start()..=r.end()).contains(&d))
                    })
                    .count(),
            ),
            HirKind::Class(Class::Unicode(c)) => all_or_none(
                ('0'..='9')
                    .filter(|&d| {
                        c.ranges()
                            .iter()
                            .any(|r| (r.start()..=r.end()).contains(&d))
                    })
                    .count(),
            ),
            HirKind::Repetition(r) => blind(&r.sub),
            HirKind::Capture(c) => blind(&c.sub),
            HirKind::Concat(all) | HirKind::Alternation(all) => all.iter().all(blind),
        }
    }
    let parse = |unicode| {
        regex_syntax::ParserBuilder::new()
            .unicode(unicode)
            .utf8(false)
            .build()
            .parse(source)
            .ok()
    };
    parse(false)
        .or_else(|| parse(true))
        .is_some_and(|hir| blind(&hir))
}

/// Whether the line is `set -x`'s echo of an `echo`/`printf` command (`+ echo 'Found 2 dates'`),
/// whose output is the next line.
fn is_xtrace_echo(line: &[u8]) -> bool {
    let plus = line.iter().take_while(|&&b| b == b'+').count();
    plus > 0
        && line[plus..]
            .strip_prefix(b" ")
            .is_some_and(|rest| rest.starts_with(b"echo ") || rest.starts_with(b"printf "))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn classifier() -> Classifier {
        let names: Vec<String> = crate::processors::DEFAULT_PROCESSORS
            .iter()
            .map(|s| s.to_string())
            .collect();
        Classifier::new(crate::rules::builtin(), &names).expect("built-in rules compile")
    }

    /// The line memo of `scan_chunk` must give each repeated line the event reading it alone
    /// gives, numbered where it stands, and must not touch lines with a timestamp.
    #[test]
    fn repeated_lines_read_as_if_alone() {
        let c = classifier();
        let lines = [
            "2025-11-29 10:00:00,009 - INFO - analytics.player_game_summary - Starting PlayerGameSummaryProcessor for 2023-11-15",
            "Traceback (most recent call last):",
            "  File \"/app/p.py\", line 3, in run",
            "google.api_core.exceptions.NotFound: 404 Not found: Table p:nba_raw.x was not found in location US",
            "[player_game_summary] \u{274c} Failed",
            "2025-11-29 10:00:01,010 - ERROR - analytics.player_game_summary - 404 Not found: Table p:nba_raw.x was not found",
            "Processing date 2/5: 2023-11-16",
            "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='bigquery.googleapis.com', port=443): Max retries exceeded with url: /bigquery/v2/projects/nba-props-platform/jobs (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused'))",
            "    result = self.client.query(sql)",
        ];
        let mut text = String::new();
        for round in 0..LINE_MEMO + 5 {
            for line in &lines[round % 2..] {
                text.push_str(line);
                text.push('\n');
            }
        }
        for keep in [false, true] {
            let (got, want) = chunk_and_alone(&c, &text, keep);
            assert!(got.len() > 2 * LINE_MEMO, "{}", got.len());
            assert_eq!(got, want);
        }
    }

    /// What `scan_chunk` reads of `text`, and what reading each line alone gives.
    fn chunk_and_alone(c: &Classifier, text: &str, keep: bool) -> (Vec<Event>, Vec<Event>) {
        let got = c.scan_chunk(text.as_bytes(), keep).events;
        let mut want = Vec::new();
        let mut offset = 0;
        for (i, line) in text.lines().enumerate() {
            if let Some(mut e) = c.classify(line.as_bytes(), keep) {
                e.line = i as u64 + 1;
                e.offset = offset;
                want.push(e);
            }
            offset += line.len() as u64 + 1;
        }
        (got, want)
    }

    /// Timestamped lines that differ only in their timestamp's digits share a reading in the line
    /// memo: each must still get its own time and text, and the lines whose reading the digits
    /// change must be read alone: a rule literal or regex that matches inside the timestamp, a
    /// date that is no date (the template key then reads the timestamp as text).
    #[test]
    fn stamped_lines_read_as_if_alone() {
        let mut rules = crate::rules::builtin();
        // Matches only when the milliseconds start with 5: its reading depends on the digits.
        rules.extend(
            crate::rules::parse(
                "[[rule]]\nid = \"half-second\"\ncategory = \"processing_error\"\npriority = 99\n\
                 literals = [\"boom\"]\nregex = \'^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,5\'\n",
                "t.toml",
            )
            .expect("the test rule parses"),
        );
        let names: Vec<String> = crate::processors::DEFAULT_PROCESSORS
            .iter()
            .map(|s| s.to_string())
            .collect();
        let custom = Classifier::new(rules, &names).expect("compiles");
        let suffixes = [
            " - ERROR - analytics.player_game_summary - Query timeout: exceeded 180 seconds",
            " - ERROR - backfill - Processing failed for 2024-07-11",
            " - INFO - analytics.player_game_summary - Starting PlayerGameSummaryProcessor for 2023-11-15",
            " - INFO - backfill - Processing date 2/5: 2023-11-16",
            " not found: Table p:nba_raw.x was not found",
            " - ERROR - x - boom",
            " - WARNING - x - Retrying in 5 s",
            " [INFO] nothing to see",
            "Z ERROR too many requests",
        ];
        let mut text = String::new();
        for round in 0..3 * LINE_MEMO {
            let (month, sep) = match round % 7 {
                3 => (13, ' '),
                5 => (11, 'T'),
                _ => (11, ' '),
            };
            for (i, suffix) in suffixes.iter().enumerate() {
                let ms = (round * 37 + i * 101) % 1000;
                text.push_str(&format!(
                    "2025-{month}-{:02}{sep}10:{:02}:{:02},{ms:03}{suffix}\n",
                    1 + round % 28,
                    round % 60,
                    i
                ));
            }
            // `...,404 not found` finds a rule that `...,123 not found` does not.
            text.push_str(&format!(
                "2025-11-29 10:00:00,{:03} not found\n",
                400 + round % 10
            ));
        }
        for c in [classifier(), custom] {
            for keep in [false, true] {
                let (got, want) = chunk_and_alone(&c, &text, keep);
                assert!(got.len() > 4 * LINE_MEMO, "{}", got.len());
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn digit_blind_regexes() {
        for blind in [
            r"exceeded \d+ seconds",
            r"(?i)[\d.]+% below",
            r"[^\d\s]x",
            r"\w+Error",
            r"[ -~]+",
        ] {
            assert!(digit_blind(blind), "{blind}");
        }
        for not in [
            r"code[ =:]+137\b",
            r"[1-9]\d*",
            r"50[0-4]",
            r"[+-5]",
            r"\x35",
            r"(",
            "0?",
        ] {
            assert!(!digit_blind(not), "{not}");
        }
    }

    #[test]
    fn a_failure_level_alone_makes_a_failure() {
        let c = classifier();
        for line in [
            "E1030 01:08:14.634565   12345 x.go:191] boom",
            "SEVERE: it broke",
            "2025-11-29 10:00:00 ERR frobnication out of band",
        ] {
            let event = c.classify(line.as_bytes(), false);
            assert!(event.is_some_and(|e| e.failure), "{line}");
        }
    }

    #[test]
    fn the_winning_rule_is_the_most_specific() {
        let c = classifier();
        let read = |line: &str| {
            let e = c.classify(line.as_bytes(), false).expect("a failure");
            (c.category(e.rule), c.rule_id(e.rule).map(str::to_string))
        };
        // A specific rule beats the wrapper on the same line, whatever their order on it.
        assert_eq!(
            read("ERROR: Processing failed for 2023-11-15: Query timeout: exceeded 180 seconds").0,
            Category::ResourceExhaustion
        );
        assert_eq!(
            read("Processing failed for 2023-11-15"),
            (
                Category::Uncategorized,
                Some("processing-failed-for".to_string())
            )
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

        /// Whatever lines repeat and in whatever order, the chunk scan (its line memos, its search
        /// for signal words as far as a line asks) reads each line as reading it alone does.
        #[test]
        fn a_chunk_reads_its_lines_as_if_alone(
            picks in proptest::collection::vec((0usize..17, 0u32..100_000), 1..120),
        ) {
            static C: std::sync::LazyLock<Classifier> = std::sync::LazyLock::new(classifier);
            const LINES: [&str; 17] = [
                "{ts} - ERROR - analytics.player_game_summary - Query timeout: exceeded 180 seconds",
                "{ts} - INFO - backfill - Processing date 2/5: 2023-11-16",
                "{ts} - INFO - analytics.team_offense_game_summary - Loaded 12 rows",
                "{ts} - DEBUG - x - retry budget 3",
                "{ts},404 not found",
                "{ts} - ERROR - backfill - Processing failed for 2024-07-11",
                "Traceback (most recent call last):",
                "  File \"/app/p.py\", line {n}, in run",
                "    result = self.client.query(sql)",
                "    Retrying the query {n}",
                "ValueError: NULL value in column 'points'",
                "[player_game_summary] \u{274c} Failed",
                "\u{2705} 2023-11-15 INFO done",
                "Started: {ts}",
                "  ERROR: indented and levelled {n}",
                "\x1b[31mERR\x1b[0mOR boom {ts}",
                "{ts} - ERROR - x - step v{n} broke on 2024-01-0{n}",
            ];
            let mut text = String::new();
            for (pick, digits) in &picks {
                let ts = format!(
                    "2025-{:02}-{:02} 1{}:0{}:{:02},{:03}",
                    1 + digits % 13,
                    1 + digits % 29,
                    digits % 10,
                    digits % 7,
                    digits % 61,
                    digits % 1000
                );
                let line = LINES[*pick].replace("{ts}", &ts).replace("{n}", &digits.to_string());
                text.push_str(&line);
                text.push('\n');
            }
            for keep in [false, true] {
                let (got, want) = chunk_and_alone(&C, &text, keep);
                proptest::prop_assert_eq!(got, want);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 3000, ..Default::default() })]

        /// The processor read from the automaton's names is the one `ProcessorNames::find` reads,
        /// with names that overlap, nest, repeat and run into words.
        #[test]
        fn first_processor_is_the_names_own_search(
            list in 0usize..3,
            pieces in proptest::collection::vec(0usize..16, 0..12),
        ) {
            static LISTS: std::sync::LazyLock<Vec<Classifier>> = std::sync::LazyLock::new(|| {
                let lists: [&[&str]; 3] = [
                    &crate::processors::DEFAULT_PROCESSORS,
                    &["a_b", "b_c", "ab", "b", "FooProcessor", "foo"],
                    &["game", "game_summary", "player_game", "Game"],
                ];
                lists
                    .iter()
                    .map(|l| {
                        let names: Vec<String> = l.iter().map(|s| s.to_string()).collect();
                        Classifier::new(crate::rules::builtin(), &names).expect("compiles")
                    })
                    .collect()
            });
            const PIECES: [&str; 16] = [
                "player_game_summary", "PlayerGameSummaryProcessor", "a_b", "b_c", "ab", "_c",
                "FooProcessor", "Foo", "game", "_summary", "Game", "GAME", " ", ".", "x", "_",
            ];
            let c = &LISTS[list];
            let line: String = pieces.iter().map(|&i| PIECES[i]).collect();
            let line = line.as_bytes();
            let mut names = Vec::new();
            for m in c.automaton.find_overlapping_iter(line) {
                if let Owner::Name(i) = c.owners[m.pattern().as_usize()] {
                    if line[m.range()] == *c.name_patterns[usize::from(i)].as_bytes() {
                        names.push((m.start(), m.end(), i));
                    }
                }
            }
            let want = c.processors.find(line).map(|(p, _)| p);
            proptest::prop_assert_eq!(c.first_processor(line, &names), want);
        }
    }

    #[test]
    fn set_x_echoes_are_not_read() {
        let c = classifier();
        assert!(c
            .classify(b"+ echo 'Found 2 dates to process'", false)
            .is_none());
        assert!(c
            .classify(b"+ ./bin/run_backfill.sh analytics/player_game_summary --start-date=2023-11-15 --end-date=2023-11-15", false)
            .is_some_and(|e| matches!(e.signal, Signal::Start(_))));
    }
}
