//! The line classifier and the chunk scanner. A line becomes an [`Event`] (a failure, a mention of
//! a symptom, or one of the signals of `signal`) by rules that look at that line alone: this is
//! what lets chunks be classified in parallel and folded in order afterwards, and what lets a chunk
//! read a repeated line once (its line memos). Most lines are dropped by their level and a small
//! automaton of signal words; the rest go through one aho-corasick automaton that holds every rule
//! literal, every trigger word of the vocabulary and every processor name.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::ops::Range;
use std::sync::{Arc, LazyLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem::Finder;
use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::date::{self, Date, Dates, Timestamp};
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

/// A line's text, shared by the events of the lines that repeat it. Empty text holds no `Arc`:
/// `Arc::<str>::default()` hands out clones of one process-wide empty string, and the count of that
/// one string, bumped for every line without text by every thread, bounced between the cores
/// (a fifth more CPU time with two threads than with one on a log of failures).
#[derive(Clone, Default)]
pub struct Text(Option<Arc<str>>);

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_deref().unwrap_or_default()
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text((!text.is_empty()).then(|| Arc::from(text)))
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text((!text.is_empty()).then(|| Arc::from(text)))
    }
}

impl From<std::borrow::Cow<'_, str>> for Text {
    fn from(text: std::borrow::Cow<'_, str>) -> Text {
        match text {
            std::borrow::Cow::Borrowed(text) => text.into(),
            std::borrow::Cow::Owned(text) => text.into(),
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        **self == **other
    }
}

impl Eq for Text {}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
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
    /// Held inline up to two: most dated lines name one date.
    pub dates: Dates,
    /// The line's own timestamp, if it has one.
    pub time: Option<Timestamp>,
    /// Cleaned, bounded text; empty for lines whose text nothing reports (starts, progress).
    /// Shared: a line read again from a chunk's memo takes the text of the line it repeats.
    pub text: Text,
    /// The text's masked form ([`templates::key`]) for a failure that counts towards the
    /// top error templates (not a wrapper, not a status line no rule names); empty otherwise. It is
    /// made here, on the scan's workers, so that the fold only looks it up.
    pub template_key: Text,
}

impl Event {
    /// This event's findings for another line that reads as its own: with that line's dates,
    /// time, text and template key (its line and offset are set where it is pushed).
    fn for_line(
        &self,
        dates: Dates,
        time: Option<Timestamp>,
        text: Text,
        template_key: Text,
    ) -> Event {
        Event {
            line: 0,
            offset: 0,
            level: self.level,
            failure: self.failure,
            exception: self.exception,
            rule: self.rule,
            signal: self.signal.clone(),
            gap_list: self.gap_list,
            processor: self.processor,
            tagged: self.tagged,
            status: self.status,
            dates,
            time,
            text,
            template_key,
        }
    }
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
    keys: HashMap<Box<str>, Text, BuildHasherDefault<FoldHasher>>,
    /// The same keys by the message's digit shape ([`templates::digit_shape`]), and its buffer:
    /// messages that differ only in a date or an id share one.
    shapes: HashMap<Box<[u8]>, Text, BuildHasherDefault<FoldHasher>>,
    shape: Vec<u8>,
    /// A restamped text, before it is shared.
    text: String,
    /// The last line's reading looked at what its dates are, not only where they stand (the
    /// signal reader, a count summary's failed dates): a line with other dates in the same places
    /// may read differently.
    by_value: bool,
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
    fn template_key(&mut self, text: &str) -> Text {
        let message = templates::message(text);
        if let Some(key) = self.keys.get(message) {
            return key.clone();
        }
        let shaped = templates::digit_shape(message, &mut self.shape);
        let key = match self.shapes.get(self.shape.as_slice()).filter(|_| shaped) {
            Some(key) => key.clone(),
            None => {
                templates::key_into(text, &mut self.unquoted, &mut self.key);
                let key = Text::from(self.key.as_str());
                if shaped && !self.key.bytes().any(|b| b.is_ascii_digit()) {
                    if self.shapes.len() >= KEY_MEMO {
                        self.shapes.clear();
                    }
                    self.shapes
                        .insert(self.shape.as_slice().into(), key.clone());
                }
                key
            }
        };
        if self.keys.len() >= KEY_MEMO {
            self.keys.clear();
        }
        self.keys.insert(message.into(), key.clone());
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
    /// Each rule's regex, run only on lines where one of its literals was found.
    confirm: Vec<Option<Regex>>,
    /// Rules with a regex and no literal: they cannot be prefiltered, so every line is examined
    /// and matched against all of them in one pass of `regex_only_set`.
    regex_only: Vec<RuleId>,
    regex_only_set: RegexSet,
    /// Per rule: its regex (if any) cannot tell one digit from another ([`digit_blind`]).
    blind: Vec<bool>,
    /// The patterns of both automata that hold a digit, in lower case ([`Classifier::masks_safe`]),
    /// each with how many of its first bytes could stand in a timestamp: by first byte, those that
    /// start with a digit, and the longest one's length.
    digit_patterns: Vec<(Vec<u8>, usize)>,
    digit_patterns_by_first: Vec<Vec<usize>>,
    digit_first: Vec<usize>,
    longest_digit_pattern: usize,
    /// Lines are remembered with the digits of their timestamp and dates masked: false when a
    /// regex-only rule, which runs on every line, can tell digits apart.
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
                    Error::Matcher(format!("{}: rule '{}': {e}", rule.origin, rule.id))
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
        let digit_patterns = patterns
            .iter()
            .map(String::as_str)
            .chain(vocab::PREFILTER)
            .filter(|p| p.bytes().any(|b| b.is_ascii_digit()))
            .map(|p| {
                // Bytes a timestamp or a date is made of (`2025-11-29T10:00:00,123Z`), in either
                // case as the automaton matches them.
                let in_stamp = |b: u8| b.is_ascii_digit() || b"-: t.,z".contains(&b);
                let p = p.to_ascii_lowercase().into_bytes();
                let lead = p.iter().take_while(|&&b| in_stamp(b)).count();
                (p, lead)
            })
            .collect::<Vec<_>>();
        let mut digit_patterns_by_first = vec![Vec::new(); 256];
        for (i, (pattern, _)) in digit_patterns.iter().enumerate() {
            digit_patterns_by_first[usize::from(pattern[0])].push(i);
        }
        let digit_first = (b'0'..=b'9')
            .flat_map(|d| digit_patterns_by_first[usize::from(d)].iter().copied())
            .collect();
        let longest_digit_pattern = digit_patterns.iter().map(|p| p.0.len()).max().unwrap_or(0);
        Ok(Classifier {
            processors,
            rules,
            automaton,
            owners,
            name_patterns,
            signals,
            reader: SignalReader::default(),
            confirm,
            regex_only,
            regex_only_set,
            blind,
            digit_patterns,
            digit_patterns_by_first,
            digit_first,
            longest_digit_pattern,
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
        self.scan_chunk_into(chunk, keep_mentions, Vec::new())
    }

    /// [`Classifier::scan_chunk`] into `events`, cleared first: a scan's threads reuse the list of
    /// the chunk they folded last, which a chunk of failures would otherwise grow again, copying
    /// megabytes of events into freshly faulted pages.
    pub fn scan_chunk_into(
        &self,
        chunk: &[u8],
        keep_mentions: bool,
        mut events: Vec<Event>,
    ) -> ChunkEvents {
        events.clear();
        let mut out = ChunkEvents {
            events,
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
        // And lines repeat all but the digits of their dates: each date's `Processing failed for
        // D`, an outage's `No data for D`. Those are remembered by a key that masks the dates too
        // (see `Masked`), and read again for their dates, time and text.
        let mut dated = DatedMemo::default();
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
                        let events = &out.events;
                        let dated = &mut dated;
                        self.read_dated(line, 0, keep_mentions, level, &mut scratch, dated, events)
                            .0
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
                    let (read, remembered) = self.read_dated(
                        line,
                        stamp,
                        keep_mentions,
                        level,
                        &mut scratch,
                        &mut dated,
                        &out.events,
                    );
                    // Not remembered: a line whose rules' regexes tell digits apart, or where a
                    // pattern may start inside the timestamp (what a reading of the dated memo
                    // rules out already); to be safe, a text that does not start with the line's
                    // timestamp.
                    let same = (remembered
                        || scratch.hits.iter().all(|(r, _)| self.blind[r.index()])
                            && self.masks_safe(line, stamp, &[]))
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
                self.read_dated(
                    line,
                    0,
                    keep_mentions,
                    level,
                    &mut scratch,
                    &mut dated,
                    &out.events,
                )
                .0
            };
            if let Some(mut event) = read {
                event.line = line_no;
                event.offset = start as u64;
                out.events.push(event);
            }
            start = end + 1;
        }
        out.newlines = line_no - u64::from(chunk.last().is_some_and(|&b| b != b'\n'));
        out
    }

    /// The line memo's key for a line that starts with a timestamp, and the timestamp's length.
    ///
    /// A line reads as every line that differs from it only in its leading timestamp's digits: the
    /// level scan, the dates, the processor and the signal reader look at digits only as digits
    /// (the timestamp's own date is never a data date), and every regex they run starts with a
    /// byte no timestamp holds. What can differ is checked before a reading is remembered: a rule
    /// regex that tells digits apart ([`digit_blind`]), and a pattern with a digit that could start
    /// inside the timestamp ([`Classifier::masks_safe`]).
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

    /// Whether no automaton pattern with a digit could overlap a digit of the line's first `stamp`
    /// bytes or of its date `spans`, whatever the digits there (`...,404 not found` finds a rule's
    /// `404 not found` where `...,123 not found` does not): then every line that differs from it
    /// only in those digits finds the same patterns. Run only before a reading is remembered.
    fn masks_safe(&self, line: &[u8], stamp: usize, spans: &[Range<usize>]) -> bool {
        let masked = |at: usize| at < stamp || spans.iter().any(|s| s.contains(&at));
        let fits = |pattern: &[u8], at: usize| {
            line.len() >= at + pattern.len()
                && pattern
                    .iter()
                    .zip(&line[at..])
                    .enumerate()
                    .all(|(i, (&p, &b))| {
                        if b.is_ascii_digit() && masked(at + i) {
                            p.is_ascii_digit()
                        } else {
                            p == b.to_ascii_lowercase()
                        }
                    })
        };
        let regions = std::iter::once(0..stamp).chain(spans.iter().cloned());
        for region in regions.filter(|r| !r.is_empty()) {
            // A pattern that starts before the region, by less than its length, starts with the
            // byte there (any digit, where one is masked): few do.
            let before = region.start.saturating_sub(self.longest_digit_pattern);
            for (at, &b) in line.iter().enumerate().take(region.start).skip(before) {
                let starting = if b.is_ascii_digit() && masked(at) {
                    &self.digit_first
                } else {
                    &self.digit_patterns_by_first[usize::from(b.to_ascii_lowercase())]
                };
                for &i in starting {
                    let (pattern, _) = &self.digit_patterns[i];
                    if at + pattern.len() > region.start && fits(pattern, at) {
                        return false;
                    }
                }
            }
            // One that starts in it (a timestamp's bytes, or a date's) does so no further from its
            // end than its own run of such bytes.
            for (pattern, lead) in &self.digit_patterns {
                let from = region.start.max(region.end.saturating_sub(*lead));
                if (from..region.end).any(|at| fits(pattern, at)) {
                    return false;
                }
            }
        }
        true
    }

    /// Reads a line worth a look through the dated memo: a line with the same [`Masked`] key as one
    /// read before in the chunk is read as that one was ([`Classifier::reread`]). `stamp` is the
    /// length of the leading timestamp to mask (0: none); `events` are the chunk's events so far
    /// (the line's, if any, comes next). Also says whether the memo read it: then it reads as
    /// every line that differs from it only in its timestamp's and dates' digits.
    #[allow(clippy::too_many_arguments)]
    fn read_dated(
        &self,
        line: &[u8],
        stamp: usize,
        keep_mentions: bool,
        level: Option<Option<Level>>,
        scratch: &mut Scratch,
        memo: &mut DatedMemo,
        events: &[Event],
    ) -> (Option<Event>, bool) {
        // A line logged below ERROR that is worth a look has a signal word: the signal reader
        // reads its dates' values, and it is not remembered here.
        let below_error = level.is_some_and(|l| l.is_some_and(|l| !l.is_failure()));
        let masked = &mut memo.masked;
        if !self.stamp_memo || below_error || !masked.read(line, stamp) {
            return (self.read_line(line, keep_mentions, scratch, level), false);
        }
        if let Some(&seen) = memo.seen.get(masked.key.as_slice()) {
            let read =
                seen.map(|s| self.reread(&events[s.event], line, masked, s.verbatim, scratch));
            return (read, true);
        }
        let read = self.read_line(line, keep_mentions, scratch, level);
        // Not remembered: a line whose reading looked at its dates' values, whose rules' regexes
        // tell digits apart, or where a pattern with a digit could overlap a masked digit.
        if !scratch.by_value
            && scratch.hits.iter().all(|(r, _)| self.blind[r.index()])
            && self.masks_safe(line, masked.stamp, &masked.spans)
        {
            if memo.seen.len() >= LINE_MEMO {
                memo.seen.clear();
            }
            let seen = read.as_ref().map(|e| Seen {
                event: events.len(),
                verbatim: e.text.as_bytes() == line,
            });
            memo.seen.insert(masked.key.as_slice().into(), seen);
        }
        (read, false)
    }

    /// The event of a line with the same [`Masked`] key as `seen`'s: the same findings, with its
    /// own dates, time, text and template key. `verbatim`: `seen`'s text is its whole line, and so
    /// is this line's.
    fn reread(
        &self,
        seen: &Event,
        line: &[u8],
        masked: &Masked,
        verbatim: bool,
        scratch: &mut Scratch,
    ) -> Event {
        let body = || {
            let raw = line.strip_suffix(b"\r").unwrap_or(line);
            self.body(raw).map_or(raw, |(_, body)| body)
        };
        // The dates were read where they stand, from the line without its tag.
        let dates = if seen.tagged {
            date::dates_in(body()).map(|d| d.0).collect()
        } else {
            masked.dates.clone()
        };
        let text: Text = if seen.text.is_empty() {
            Text::default()
        } else if verbatim {
            match std::str::from_utf8(line) {
                Ok(text) => text.into(),
                Err(_) => String::from_utf8_lossy(line).into(),
            }
        } else {
            extract::clean_text(body()).into()
        };
        // The two messages differ only in the digits of real dates (a date glued to an `x` is one
        // `<id>`), unless the timestamp's date is none: the key then reads the timestamp too. A
        // key without a digit is then both's.
        let stamp_read = masked.stamp > 0 && Date::parse(&line[..10]).is_none();
        let template_key = if seen.template_key.is_empty() {
            Text::default()
        } else if !stamp_read && !seen.template_key.bytes().any(|b| b.is_ascii_digit()) {
            seen.template_key.clone()
        } else {
            scratch.template_key(&text)
        };
        seen.for_line(dates, Timestamp::find(line), text, template_key)
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

    /// What the rules read of a line without its `\r` and colour codes: the line without a BOM
    /// and a GNU parallel tag, with the tag's processor. `None` for a `set -x` echo: the shell
    /// prints each command before running it, and the command's own output follows.
    fn body<'l>(&self, line: &'l [u8]) -> Option<(Option<ProcessorId>, &'l [u8])> {
        let line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
        if is_xtrace_echo(line) {
            return None;
        }
        Some(match self.processors.tag(line) {
            Some((p, body)) => (Some(p), &line[body..]),
            None => (None, line),
        })
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
        scratch.by_value = false;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let cleaned = extract::strip_ansi(raw);
        let (tag, line) = self.body(&cleaned)?;

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
            scratch.by_value = true;
            let read = self
                .reader
                .read(line, triggers, &self.processors, processor);
            (read.signal, Dates::from_vec(read.dates))
        } else if failure && triggers & trigger::RETRY != 0 && {
            scratch.by_value = true;
            self.reader.retries(line)
        } {
            (Signal::Retry, Dates::new())
        } else {
            (Signal::None, Dates::new())
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
                .then(|| {
                    scratch.by_value = true;
                    date::failed_dates(line)
                })
                .flatten();
            dates = failed.map_or_else(
                || date::dates_in(line).map(|d| d.0).collect(),
                Dates::from_vec,
            );
        }
        let text: Text = if failure || rule.is_some() || gap_list {
            extract::clean_text(line).into()
        } else {
            Text::default()
        };
        let status = processor.is_some() && triggers & (trigger::CROSS | trigger::CHECK) != 0;
        let template_key = if failure && !(self.is_wrapper(rule) || (status && rule.is_none())) {
            scratch.template_key(&text)
        } else {
            Text::default()
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

/// A line as the dated memo knows it: the digits of its dates (as [`date::dates_in`] finds them)
/// and of its leading timestamp masked, after a head that says where the dates stand. Lines with
/// one key differ only in those digits, and every date of each is a real date in the same place.
/// Such lines read alike but for their dates, time and text: the level scan, the processor, the
/// dates' places and the signal reader look at digits only as digits, or at a date's value only
/// where [`Scratch::by_value`] says so; and a regex either treats all digits alike or is checked
/// ([`digit_blind`], [`Classifier::masks_safe`]).
#[derive(Default)]
struct Masked {
    /// The number of dates, each date's start (two bytes, little-endian), then the masked line.
    key: Vec<u8>,
    stamp: usize,
    spans: Vec<Range<usize>>,
    dates: Dates,
}

impl Masked {
    /// Builds the key of `line`, whose first `stamp` bytes are a timestamp; false when it holds
    /// no date, is too long to be remembered, or holds colour codes (which move its dates once
    /// stripped).
    fn read(&mut self, line: &[u8], stamp: usize) -> bool {
        self.spans.clear();
        self.dates.clear();
        if line.len() > LINE_MEMO_MAX || memchr::memchr(0x1b, line).is_some() {
            return false;
        }
        for (date, span) in date::dates_in(line) {
            self.dates.push(date);
            self.spans.push(span);
        }
        if self.spans.is_empty() {
            return false;
        }
        self.stamp = stamp;
        self.key.clear();
        // A line of at most `LINE_MEMO_MAX` bytes holds fewer than 256 dates.
        self.key.push(self.spans.len() as u8);
        for span in &self.spans {
            self.key
                .extend_from_slice(&(span.start as u16).to_le_bytes());
        }
        let head = self.key.len();
        self.key.extend_from_slice(line);
        for region in std::iter::once(0..stamp).chain(self.spans.iter().cloned()) {
            for b in &mut self.key[head + region.start..head + region.end] {
                if b.is_ascii_digit() {
                    *b = b'0';
                }
            }
        }
        true
    }
}

/// A remembered event: its index in the chunk's events, and whether its text is its whole line.
#[derive(Clone, Copy)]
struct Seen {
    event: usize,
    verbatim: bool,
}

/// The dated memo of a chunk: a reading by [`Masked`] key (`None` for a line that is no event),
/// and the line at hand's key.
#[derive(Default)]
struct DatedMemo {
    seen: HashMap<Box<[u8]>, Option<Seen>, BuildHasherDefault<FoldHasher>>,
    masked: Masked,
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
    let mut text = Text::default();
    let mut template_key = seen.template_key.clone();
    if !seen.text.is_empty() {
        // A timestamp is ASCII, and `seen`'s text starts with one as long.
        let own = &mut scratch.text;
        own.clear();
        own.extend(line[..stamp].iter().map(|&b| char::from(b)));
        own.push_str(&seen.text[stamp..]);
        text = Text::from(own.as_str());
        // The template key reads the text past its timestamp when the timestamp's date is a
        // real one (the same text then); otherwise it reads the timestamp's digits too.
        let real = |text: &[u8]| Date::parse(&text[..10]).is_some();
        let same_key = real(seen.text.as_bytes()) && real(line);
        if !template_key.is_empty() && !same_key {
            template_key = scratch.template_key(&text);
        }
    }
    seen.for_line(
        seen.dates.clone(),
        Timestamp::find(line),
        text,
        template_key,
    )
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

    /// Empty text shares nothing between threads, and texts compare and hash by their bytes
    /// whichever way they were made.
    #[test]
    fn empty_text_holds_no_arc_and_texts_compare_by_value() {
        use std::hash::BuildHasher;
        assert!(Text::from("").0.is_none());
        assert!(Text::from(String::new()).0.is_none());
        assert!(Text::default().0.is_none());
        let (a, b) = (Text::from("boom"), Text::from(String::from("boom")));
        assert!(!Arc::ptr_eq(a.0.as_ref().unwrap(), b.0.as_ref().unwrap()));
        assert_eq!(a, b);
        let hasher = BuildHasherDefault::<FoldHasher>::default();
        assert_eq!(hasher.hash_one(&a), hasher.hash_one(&b));
        assert_ne!(a, Text::default());
        assert_eq!(&*Text::default(), "");
    }

    fn classifier() -> Classifier {
        Classifier::new(crate::rules::builtin(), &default_names()).expect("built-in rules compile")
    }

    /// The built-in rules and those of `extra` (a rule file), with the default processors.
    fn classifier_with(extra: &str) -> Classifier {
        let mut rules = crate::rules::builtin();
        rules.extend(crate::rules::parse(extra, "t.toml").expect("the test rules parse"));
        Classifier::new(rules, &default_names()).expect("compiles")
    }

    fn default_names() -> Vec<String> {
        crate::processors::DEFAULT_PROCESSORS
            .iter()
            .map(|s| s.to_string())
            .collect()
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
        // Matches only when the milliseconds start with 5: its reading depends on the digits.
        let custom = classifier_with(
            "[[rule]]\nid = \"half-second\"\ncategory = \"processing_error\"\npriority = 99\n\
             literals = [\"boom\"]\nregex = \'^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,5\'\n",
        );
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
        /// for signal words as far as a line asks) reads each line as reading it alone does: also
        /// lines that differ only in their dates, which may be no dates, or read by value, or
        /// found by a rule whose literal holds a date's digit.
        #[test]
        fn a_chunk_reads_its_lines_as_if_alone(
            picks in proptest::collection::vec((0usize..36, 0u32..100_000), 1..120),
        ) {
            static C: std::sync::LazyLock<Classifier> = std::sync::LazyLock::new(classifier);
            // Rules that find `...-05 boom` but not `...-06 boom` (by its literal), `...-04 bang`
            // but not `...-06 bang` (by its regex).
            static CUSTOM: std::sync::LazyLock<Classifier> = std::sync::LazyLock::new(|| {
                classifier_with(
                    "[[rule]]\nid = \"fifth\"\ncategory = \"processing_error\"\n\
                     priority = 99\nliterals = [\"5 boom\"]\n\
                     [[rule]]\nid = \"low\"\ncategory = \"data_availability\"\n\
                     priority = 98\nliterals = [\"bang\"]\nregex = \"[0-4] bang\"\n",
                )
            });
            const LINES: [&str; 36] = [
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
                "{ts} - ERROR - backfill - Processing failed for {d}",
                "{ts} - ERROR - x - No data for {d} and {e}",
                "DependencyError: Cannot process {d} - upstream gaps detected",
                "Processing failed for {d}",
                "{d} ERROR date first {n}",
                "{ts} - ERROR - p - Done: 2 succeeded, 1 failed ({d})",
                "{ts} - INFO - analytics.player_game_summary - Starting PlayerGameSummaryProcessor for {d}",
                "Date range: {d} to {e}",
                "{ts} - ERROR - x - Missing dates in lookback window: [{d}, {e}]",
                "player_game_summary\t{d}\tERROR boom for {e} ",
                "{ts} - ERROR - x - failed at {d} 10:00 and {e}x",
                "{ts} - ERROR - x - 404 not found {d}",
                "{ts} - ERROR - x - id 1{d}{n}",
                "{ts} - ERROR - x - at {d} boom",
                "{ts} - ERROR - x - at {d} bang",
                // `conflict: 409` is a rule literal that starts before the date.
                "{ts} - ERROR - x - conflict: {f}",
                // A date glued to a word: the template key keeps its digits.
                "{ts} - ERROR - x - build v{d} failed",
                "[team_offense_game_summary] \u{274c} Failed for {d}",
                "{ts} - ERROR - x - Retrying {d} in 5 s",
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
                // Dates that are no date too: month 13, 30 February.
                let date = |k: u32| {
                    format!("20{:02}-{:02}-{:02}", 20 + k % 7, 1 + k % 13, 1 + (k / 13) % 31)
                };
                let line = LINES[*pick]
                    .replace("{ts}", &ts)
                    .replace("{n}", &digits.to_string())
                    .replace("{d}", &date(*digits))
                    .replace("{e}", &date(digits / 7))
                    .replace(
                        "{f}",
                        &format!("{}-01-{:02}", [2024, 4091][*digits as usize % 2], 1 + digits % 28),
                    );
                text.push_str(&line);
                text.push('\n');
            }
            for c in [&*C, &*CUSTOM] {
                for keep in [false, true] {
                    let (got, want) = chunk_and_alone(c, &text, keep);
                    proptest::prop_assert_eq!(got, want);
                }
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
