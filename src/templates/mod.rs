//! Error templates: failure lines with their variable parts masked and grouped by their token
//! structure, in the spirit of Drain (He et al., 2017). A line's message (its timestamp, level and
//! logger name cut off) is split into tokens; numbers, dates, times, hex strings, ids, quoted values
//! and paths are masked; lines with the same token count and first two tokens are compared position
//! by position, and a line at least [`SIMILARITY`] alike joins the template, the positions that
//! differ becoming `<*>`.
//!
//! The summary's top list and `backfill-triage templates` both use [`Templates`]. Its memory is
//! bounded by the number of templates kept (`limit`): each holds its tokens and up to
//! `max_examples` example lines of at most [`crate::extract::MAX_TEXT`] bytes, so about 2 KiB per
//! template with three examples. A line that fits no kept template once the limit is reached is
//! counted in [`Templates::dropped`], never stored.
//!
//! [`stub`] turns a template into a rule stub; [`command`] runs `backfill-triage templates`.

pub mod command;
pub mod stub;

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use crate::category::Category;
use crate::date::Date;
use crate::triage::At;

/// The share of equal token positions for a line to join a template (Drain's default is 0.5; a
/// little stricter keeps `Connection lost` and `Connection refused`-like pairs of short messages
/// apart, though those also differ in their leaf).
pub const SIMILARITY: f64 = 0.6;

/// What a masked part of a token was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Var {
    Date,
    Time,
    Num,
    Hex,
    Id,
    Path,
    /// A quoted value (may hold spaces).
    Str,
    /// Positions where the lines of a template differ.
    Any,
}

impl Var {
    fn as_str(self) -> &'static str {
        match self {
            Var::Date => "<date>",
            Var::Time => "<time>",
            Var::Num => "<num>",
            Var::Hex => "<hex>",
            Var::Id => "<id>",
            Var::Path => "<path>",
            Var::Str => "<str>",
            Var::Any => "<*>",
        }
    }
}

/// A part of a token: constant text or a masked value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Piece {
    Const(String),
    Var(Var),
}

/// One whitespace-separated token of a message, as pieces (`game_date=2023-11-15` is
/// `game_date=` and a date).
pub type Token = Vec<Piece>;

/// A line, as one of a template's examples: where it is and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub at: At,
    pub text: String,
}

/// A group of lines that share a structure.
#[derive(Debug, Clone)]
pub struct Template {
    pub tokens: Vec<Token>,
    pub count: u64,
    /// The category of its lines' rule (`uncategorized` when no rule names them).
    pub category: Category,
    /// The first lines, in input order; the first is where the template was first seen.
    pub examples: Vec<Example>,
}

impl Template {
    /// The template as text: tokens joined by single spaces, masked parts as `<date>`, `<*>`...
    pub fn text(&self) -> String {
        self.to_string()
    }

    pub fn first(&self) -> At {
        self.examples
            .first()
            .map_or(At { file: 0, line: 0 }, |e| e.at)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, token) in self.tokens.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            for piece in token {
                match piece {
                    Piece::Const(s) => f.write_str(s)?,
                    Piece::Var(v) => f.write_str(v.as_str())?,
                }
            }
        }
        Ok(())
    }
}

/// Lines with the same category, token count and first two tokens can share a template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Leaf {
    category: Category,
    len: usize,
    head: Vec<Token>,
}

/// Masked forms remembered per template kept (see [`Templates`]).
const KEYS_PER_TEMPLATE: usize = 8;
/// The index's mark for a masked form whose lines fit no kept template.
const DROPPED: usize = usize::MAX;

/// The template clusterer, bounded by the templates it keeps.
///
/// Most lines of a log repeat a masked form already seen, so each line is first masked into a text
/// key (one pass, no allocation) and looked up; only a new form goes through the token comparison.
/// The index holds at most [`KEYS_PER_TEMPLATE`] forms per template kept.
#[derive(Debug)]
pub struct Templates {
    limit: usize,
    max_examples: usize,
    templates: Vec<Template>,
    leaves: HashMap<Leaf, Vec<usize>>,
    /// Masked form -> template (or [`DROPPED`]), per category.
    index: [HashMap<String, usize, BuildHasherDefault<FoldHasher>>; 6],
    /// Scratch buffers, reused from line to line.
    unquoted: String,
    key: String,
    /// Lines offered.
    pub lines: u64,
    /// Lines that fit no kept template after `limit` templates were made.
    pub dropped: u64,
}

impl Templates {
    /// Keeps at most `limit` templates with up to `max_examples` examples each.
    pub fn new(limit: usize, max_examples: usize) -> Templates {
        Templates {
            limit,
            max_examples,
            templates: Vec::new(),
            leaves: HashMap::new(),
            index: Default::default(),
            unquoted: String::new(),
            key: String::new(),
            lines: 0,
            dropped: 0,
        }
    }

    /// Adds one failure line.
    pub fn add(&mut self, category: Category, text: &str, at: At) {
        let mut key = std::mem::take(&mut self.key);
        key_into(text, &mut self.unquoted, &mut key);
        self.add_keyed(category, &key, text, at);
        self.key = key;
    }

    /// Adds one failure line with the key the classifier made for it ([`crate::classify::Event`]'s
    /// `template_key`), or masks it here when it has none.
    pub fn add_event(&mut self, category: Category, key: &str, text: &str, at: At) {
        if key.is_empty() {
            self.add(category, text, at);
        } else {
            self.add_keyed(category, key, text, at);
        }
    }

    /// Adds one failure line whose masked form (its [`key`]) was made already: the scan's workers
    /// mask the lines, so the fold only looks them up.
    pub fn add_keyed(&mut self, category: Category, key: &str, text: &str, at: At) {
        self.lines += 1;
        let slot = category as usize;
        let found = self.index[slot].get(key).copied();
        let i = match found {
            Some(i) => Some(i),
            None if key.is_empty() => None,
            None => {
                let mut unquoted = std::mem::take(&mut self.unquoted);
                unquote_into(message(text), &mut unquoted);
                let mut tokens = Tokens::default();
                mask_with(&unquoted, &mut tokens);
                self.unquoted = unquoted;
                let i = self.place(category, tokens.tokens, text, at);
                if self.index[slot].len() < self.limit.saturating_mul(KEYS_PER_TEMPLATE) {
                    self.index[slot].insert(key.to_string(), i.unwrap_or(DROPPED));
                }
                // A new form was counted as it was placed.
                None
            }
        };
        match i {
            Some(DROPPED) => self.dropped += 1,
            Some(i) => self.count(i, text, at),
            None => {}
        }
    }

    fn count(&mut self, i: usize, text: &str, at: At) {
        let t = &mut self.templates[i];
        t.count += 1;
        if t.examples.len() < self.max_examples {
            t.examples.push(Example {
                at,
                text: text.to_string(),
            });
        }
    }

    /// Puts a line of a new masked form into the most similar template of its leaf, or a new one;
    /// returns the template, or `None` when the limit left no room (the line is dropped).
    fn place(
        &mut self,
        category: Category,
        tokens: Vec<Token>,
        text: &str,
        at: At,
    ) -> Option<usize> {
        let leaf = Leaf {
            category,
            len: tokens.len(),
            head: tokens.iter().take(2).cloned().collect(),
        };
        let members = self.leaves.entry(leaf).or_default();
        let best = members
            .iter()
            .map(|&i| (i, similarity(&self.templates[i].tokens, &tokens)))
            .filter(|&(_, s)| s >= SIMILARITY)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        if let Some((i, _)) = best {
            for (kept, new) in self.templates[i].tokens.iter_mut().zip(&tokens) {
                if kept != new && *kept != [Piece::Var(Var::Any)] {
                    *kept = vec![Piece::Var(Var::Any)];
                }
            }
            self.count(i, text, at);
            return Some(i);
        }
        if self.templates.len() >= self.limit {
            self.dropped += 1;
            return None;
        }
        members.push(self.templates.len());
        self.templates.push(Template {
            tokens,
            count: 0,
            category,
            examples: Vec::new(),
        });
        let i = self.templates.len() - 1;
        self.count(i, text, at);
        Some(i)
    }

    /// The templates, most frequent first; ties in order of first appearance.
    pub fn sorted(&self) -> Vec<&Template> {
        let mut all: Vec<&Template> = self.templates.iter().collect();
        all.sort_by(|a, b| b.count.cmp(&a.count).then(a.first().cmp(&b.first())));
        all
    }

    pub fn len(&self) -> usize {
        self.templates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }
}

/// A fast hash for the index's keys (std's SipHash resists flooding, which a bounded index of
/// masked forms does not need; it cost a tenth of the time of a log made only of failures).
#[derive(Default)]
pub(crate) struct FoldHasher(u64);

impl Hasher for FoldHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes(c.try_into().expect("eight bytes"));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The share of positions whose tokens are equal (a `<*>` in the template equals anything).
fn similarity(template: &[Token], tokens: &[Token]) -> f64 {
    let same = template
        .iter()
        .zip(tokens)
        .filter(|(a, b)| a == b || **a == [Piece::Var(Var::Any)])
        .count();
    same as f64 / template.len().max(1) as f64
}

/// Level words a log line's prefix may hold.
const LEVELS: [&str; 11] = [
    "TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "ERR", "CRITICAL", "CRIT", "FATAL",
    "PANIC",
];

/// The message of a log line: what follows its timestamp (bracketed or not), its level word and,
/// in Python's logging format (`T - LEVEL - logger - message`), its logger name.
pub fn message(text: &str) -> &str {
    let b = text.as_bytes();
    let mut i = skip_spaces(b, 0);
    let bracket = b.get(i) == Some(&b'[');
    let t = timestamp_len(&b[i + usize::from(bracket)..]);
    if t > 0 {
        i += usize::from(bracket) + t;
        if bracket && b.get(i) == Some(&b']') {
            i += 1;
        }
        i = skip_separator(b, i);
    }
    let level_start = i + usize::from(b.get(i) == Some(&b'['));
    let level_end = b[level_start..]
        .iter()
        .position(|c| !c.is_ascii_uppercase())
        .map_or(b.len(), |n| level_start + n);
    if LEVELS.contains(&&text[level_start..level_end]) {
        let mut j = level_end;
        if b.get(j) == Some(&b']') {
            j += 1;
        }
        if b.get(j) == Some(&b':') {
            j += 1;
        }
        if let Some(after) = python_logger(b, j) {
            i = after;
        } else if j == b.len() || matches!(b[j], b' ' | b'\t' | b'-' | b'|' | b':') {
            i = skip_separator(b, j);
        }
    }
    let rest = text[i..].trim();
    if rest.is_empty() {
        text.trim()
    } else {
        rest
    }
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Spaces, at most one of `-`, `|`, `:`, spaces.
fn skip_separator(b: &[u8], i: usize) -> usize {
    let i = skip_spaces(b, i);
    if i < b.len() && matches!(b[i], b'-' | b'|' | b':') {
        skip_spaces(b, i + 1)
    } else {
        i
    }
}

/// ` - logger.name - ` at `i`: where the message starts after it.
fn python_logger(b: &[u8], i: usize) -> Option<usize> {
    let rest = b.get(i..)?.strip_prefix(b" - ")?;
    let name = rest
        .iter()
        .position(|c| c.is_ascii_whitespace())
        .filter(|&n| n > 0)?;
    rest[name..]
        .starts_with(b" - ")
        .then(|| b.len() - rest.len() + name + 3)
}

/// The length of a leading `YYYY-MM-DD` with an optional `[T ]HH:MM[:SS][.,fraction][Z|+hh:mm]`.
fn timestamp_len(b: &[u8]) -> usize {
    if b.len() < 10 || Date::parse(&b[..10]).is_none() {
        return 0;
    }
    let digits = |from: usize, n: usize| {
        b.len() >= from + n && b[from..from + n].iter().all(u8::is_ascii_digit)
    };
    let mut i = 10;
    if b.len() > 10
        && matches!(b[10], b'T' | b' ')
        && digits(11, 2)
        && b.get(13) == Some(&b':')
        && digits(14, 2)
    {
        i = 16;
        if b.get(16) == Some(&b':') && digits(17, 2) {
            i = 19;
        }
        if i < b.len() && matches!(b[i], b'.' | b',') && digits(i + 1, 1) {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
        if b.get(i) == Some(&b'Z') {
            i += 1;
        } else if i < b.len() && matches!(b[i], b'+' | b'-') && digits(i + 1, 2) {
            i += 3;
            if b.get(i) == Some(&b':') {
                i += 1;
            }
            if digits(i, 2) {
                i += 2;
            }
        }
    }
    i
}

/// Writes `message` with its digits masked to `shape`, and says whether the shape stands for its
/// messages: then those whose [`key`] holds no digit (every digit went into a masked value) all
/// have that key. Masking tells tokens apart by their digits' places, not values, but for a real
/// date (`2024-02-30` is none) and a `0x` prefix: the digits before an `x` are kept, and a message
/// with a date-shaped `DDDD-DD-DD` that is no date has no shape. Nor has a message without digits:
/// its own text is the memo's key. An outage's failures differ in their dates and ids, and masking
/// one costs twenty times finding its shape.
pub fn digit_shape(message: &str, shape: &mut Vec<u8>) -> bool {
    let b = message.as_bytes();
    shape.clear();
    let mut digits = false;
    for (i, &c) in b.iter().enumerate() {
        if c.is_ascii_digit() {
            digits = true;
            shape.push(if b.get(i + 1) == Some(&b'x') { c } else { b'0' });
        } else {
            shape.push(c);
        }
    }
    let dated = |start: usize| {
        let w = &b[start..start + 10];
        let shaped = w[7] == b'-'
            && [0, 1, 2, 3, 5, 6, 8, 9]
                .iter()
                .all(|&i| w[i].is_ascii_digit());
        !shaped || Date::parse(w).is_some()
    };
    digits
        && memchr::memchr_iter(b'-', b)
            .filter(|&dash| dash >= 4 && dash + 6 <= b.len())
            .all(|dash| dated(dash - 4))
}

/// The masked form of a failure line's text: its message's tokens, masked and joined by single
/// spaces, as [`Templates`] indexes it. Lines with the same key join the same template.
pub fn key(text: &str) -> String {
    let (mut unquoted, mut key) = (String::new(), String::new());
    key_into(text, &mut unquoted, &mut key);
    key
}

/// Writes [`key`]`(text)` into `key`; `unquoted` is a scratch buffer.
pub fn key_into(text: &str, unquoted: &mut String, key: &mut String) {
    unquote_into(message(text), unquoted);
    key.clear();
    mask_with(unquoted, &mut Key::new(key));
}

/// The message's tokens with their variable parts masked.
pub fn mask(message: &str) -> Vec<Token> {
    let mut unquoted = String::new();
    unquote_into(message, &mut unquoted);
    let mut tokens = Tokens::default();
    mask_with(&unquoted, &mut tokens);
    tokens.tokens
}

/// Where masked pieces go: a template's tokens, or the text key that finds a known form fast.
/// Both see the same calls, so a key is exactly its tokens' text.
trait Sink {
    fn constant(&mut self, s: &str);
    fn var(&mut self, v: Var);
    fn end_token(&mut self);
}

#[derive(Default)]
struct Tokens {
    tokens: Vec<Token>,
    current: Token,
}

impl Sink for Tokens {
    fn constant(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        match self.current.last_mut() {
            Some(Piece::Const(last)) => last.push_str(s),
            _ => self.current.push(Piece::Const(s.to_string())),
        }
    }

    fn var(&mut self, v: Var) {
        // Two masked parts in a row (`<num><num>`) read as one.
        if self.current.last() != Some(&Piece::Var(v)) {
            self.current.push(Piece::Var(v));
        }
    }

    fn end_token(&mut self) {
        if !self.current.is_empty() {
            self.tokens.push(std::mem::take(&mut self.current));
        }
    }
}

/// The masked text: tokens joined by one space, masked parts as `<num>`...
struct Key<'a> {
    out: &'a mut String,
    open: bool,
    last_var: Option<Var>,
}

impl<'a> Key<'a> {
    fn new(out: &'a mut String) -> Key<'a> {
        Key {
            out,
            open: false,
            last_var: None,
        }
    }

    fn open(&mut self) {
        if !self.open {
            if !self.out.is_empty() {
                self.out.push(' ');
            }
            self.open = true;
        }
    }
}

impl Sink for Key<'_> {
    fn constant(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        self.open();
        self.out.push_str(s);
        self.last_var = None;
    }

    fn var(&mut self, v: Var) {
        if self.last_var == Some(v) {
            return;
        }
        self.open();
        self.out.push_str(v.as_str());
        self.last_var = Some(v);
    }

    fn end_token(&mut self) {
        self.open = false;
        self.last_var = None;
    }
}

/// Masks every whitespace-separated token of `unquoted` (see [`unquote_into`]) into `sink`.
fn mask_with(unquoted: &str, sink: &mut impl Sink) {
    for raw in unquoted.split_whitespace() {
        mask_token(raw, sink);
        sink.end_token();
    }
}

/// Stands in for a quoted value after [`unquote_into`]; a control character never left in
/// cleaned text.
const QUOTED: char = '\u{1}';

/// Writes `text` to `out` with quoted values (`'...'`, `"..."`, opening after a non-alphanumeric
/// character and closing before one, so `doesn't` is no quote) replaced by [`QUOTED`].
fn unquote_into(text: &str, out: &mut String) {
    out.clear();
    if memchr::memchr2(b'\'', b'"', text.as_bytes()).is_none() {
        out.push_str(text);
        return;
    }
    // A quote character found unclosed once stays unclosed further on: never search again.
    let mut unclosed = [false; 2];
    let mut prev: Option<char> = None;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        let kind = match c {
            '\'' => Some(0),
            '"' => Some(1),
            _ => None,
        };
        if let Some(k) = kind.filter(|&k| !unclosed[k] && prev.is_none_or(|p| !p.is_alphanumeric()))
        {
            let rest = &text[i + 1..];
            let mut close = None;
            let mut inner = rest.char_indices().peekable();
            while let Some((j, d)) = inner.next() {
                if d == c && inner.peek().is_none_or(|&(_, n)| !n.is_alphanumeric()) {
                    close = Some(i + 1 + j);
                    break;
                }
            }
            match close {
                Some(j) => {
                    out.push(QUOTED);
                    // Skip to just after the closing quote.
                    while chars.next().is_some_and(|(x, _)| x < j) {}
                    prev = Some(c);
                    continue;
                }
                None => unclosed[k] = true,
            }
        }
        out.push(c);
        prev = Some(c);
    }
}

/// Characters that separate the parts of a token: `key=value`, `(a, b)`, `[x]`.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        '=' | ',' | ';' | ':' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '<' | '>'
    ) || c == QUOTED
}

fn mask_token(raw: &str, sink: &mut impl Sink) {
    // A path or URL is one value, whatever separators it holds; so are a date with its time and a
    // time of day.
    let core = raw.trim_matches(|c: char| matches!(c, '(' | ')' | '[' | ']' | ',' | ';' | '.'));
    if let Some(v) = whole_var(core) {
        let start = raw.find(core).unwrap_or(0);
        sink.constant(&raw[..start]);
        sink.var(v);
        sink.constant(&raw[start + core.len()..]);
        return;
    }
    let mut atom_start = 0;
    for (i, c) in raw.char_indices() {
        if is_separator(c) {
            mask_atom(&raw[atom_start..i], sink);
            if c == QUOTED {
                sink.var(Var::Str);
            } else {
                sink.constant(&raw[i..i + c.len_utf8()]);
            }
            atom_start = i + c.len_utf8();
        }
    }
    mask_atom(&raw[atom_start..], sink);
}

/// A token that is one value as a whole: a path, a URL, a date or timestamp, a time of day.
fn whole_var(s: &str) -> Option<Var> {
    if s.len() < 2 {
        return None;
    }
    let b = s.as_bytes();
    // Every path form holds a slash: most tokens have none and skip the checks.
    if let Some(slash) = memchr::memchr(b'/', b) {
        if slash == 0
            || s.contains("://")
            || s.starts_with("./")
            || s.starts_with("../")
            || s.starts_with("~/")
            || memchr::memchr(b'/', &b[slash + 1..]).is_some()
        {
            return Some(Var::Path);
        }
    }
    if b.len() >= 10 && Date::parse(&b[..10]).is_some() {
        let rest = &s[10..];
        if rest.is_empty() || rest.starts_with('T') || rest.starts_with('_') {
            return Some(Var::Date);
        }
    }
    if is_time(s) {
        return Some(Var::Time);
    }
    None
}

/// `HH:MM`, `HH:MM:SS`, with fractions.
fn is_time(s: &str) -> bool {
    if memchr::memchr(b':', s.as_bytes()).is_none() {
        return false;
    }
    let mut parts = 0;
    for (i, p) in s.splitn(3, ':').enumerate() {
        let p = if i == 2 {
            p.split(['.', ',']).next().unwrap_or("")
        } else {
            p
        };
        if !((1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())) {
            return false;
        }
        parts += 1;
    }
    parts >= 2
}

/// Masks one separator-free part of a token.
fn mask_atom(atom: &str, sink: &mut impl Sink) {
    if atom.is_empty() {
        return;
    }
    // Sentence punctuation stays constant: `exceeded 180.` is `<num>.`
    let core = atom.trim_end_matches(['.', '!', '?']);
    match atom_var(core) {
        Some(v) => {
            sink.var(v);
            sink.constant(&atom[core.len()..]);
        }
        None => sink.constant(atom),
    }
}

fn atom_var(s: &str) -> Option<Var> {
    if s.is_empty() {
        return None;
    }
    if let Some(v) = whole_var(s) {
        return Some(v);
    }
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let letters = s.bytes().filter(u8::is_ascii_alphabetic).count();
    // A number, signed, with decimals or grouping, and a short unit (`180s`, `5ms`, `1.5GB`, `42%`).
    let body = s.trim_start_matches(['-', '+', '#']);
    let number_len = body
        .bytes()
        .take_while(|b| b.is_ascii_digit() || matches!(b, b'.' | b'_'))
        .count();
    let unit = &body[number_len..];
    if number_len > 0
        && body.as_bytes()[0].is_ascii_digit()
        && unit.len() <= 3
        && unit.bytes().all(|b| b.is_ascii_alphabetic() || b == b'%')
    {
        return Some(Var::Num);
    }
    let hex = s.strip_prefix("0x").unwrap_or(s);
    if (s.starts_with("0x") && hex.len() > 1 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        || (s.len() >= 8 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') && letters > 0)
    {
        return Some(Var::Hex);
    }
    // Letters and digits mixed, long enough not to be a word like `int64` or `utf8`.
    if letters > 0 && s.len() >= 6 {
        return Some(Var::Id);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(line: &str) -> String {
        let mut t = Templates::new(10, 1);
        t.add(Category::Uncategorized, line, At { file: 0, line: 1 });
        t.sorted()[0].text()
    }

    #[test]
    fn prefixes_are_cut_and_variables_masked() {
        assert_eq!(
            masked("2025-11-29 07:50:03,076 - ERROR - analytics.team_defense_game_summary - FileNotFoundError: No raw data found for game_date=2024-01-09"),
            "FileNotFoundError: No raw data found for game_date=<date>"
        );
        assert_eq!(
            masked("2025-11-29 07:53:06,646 - ERROR - shared.utils.bigquery_client - Query timeout: exceeded 180 seconds (job_id=job_Rt5wQa9)"),
            "Query timeout: exceeded <num> seconds (job_id=<id>)"
        );
        assert_eq!(
            masked("ERROR: FileNotFoundError: [Errno 2] No such file or directory: '/tmp/a b/0022300215.json'"),
            "FileNotFoundError: [Errno <num>] No such file or directory: <str>"
        );
        assert_eq!(
            masked("[2024-01-01T10:00:00Z] CRITICAL worker 0x7f3a2c died at 10:00:01 reading gs://bucket/x/y.json, doesn't retry"),
            "worker <hex> died at <time> reading <path>, doesn't retry"
        );
        assert_eq!(
            masked("ERROR - request 3fa85f64-5717-4562-b3fc-2c963f66afa6 failed: 42% done, 1.5GB"),
            "request <hex> failed: <num> done, <num>"
        );
        assert_eq!(masked("Connection lost"), "Connection lost");
        assert_eq!(
            masked("TypeError: int64 is not utf8"),
            "TypeError: int64 is not utf8"
        );
    }

    #[test]
    fn the_index_key_is_the_tokens_text() {
        for line in [
            "ERROR - x - Query timeout: exceeded 180 seconds (job_id=job_Rt5wQa9)",
            "worker 0x7f3a2c died at 10:00:01 reading gs://bucket/x/y.json, doesn't retry 'a b' \"c\"",
            "it's 'unclosed and \"also unclosed",
            "a  <num>  1 2 3,4 [x] ❌ Failed",
        ] {
            let msg = message(line);
            let mut unquoted = String::new();
            unquote_into(msg, &mut unquoted);
            let mut key = String::new();
            mask_with(&unquoted, &mut Key::new(&mut key));
            let template = Template {
                tokens: mask(msg),
                count: 1,
                category: Category::Uncategorized,
                examples: Vec::new(),
            };
            assert_eq!(key, template.text(), "{line}");
        }
    }

    #[test]
    fn lines_alike_share_a_template_and_the_limit_bounds_it() {
        let mut t = Templates::new(2, 2);
        let at = |line| At { file: 0, line };
        t.add(
            Category::Uncategorized,
            "ERROR - x - Error building team context",
            at(1),
        );
        t.add(
            Category::Uncategorized,
            "ERROR - x - Error building player context",
            at(2),
        );
        t.add(
            Category::Uncategorized,
            "ERROR - y - Error building game context",
            at(3),
        );
        t.add(Category::Uncategorized, "Connection lost", at(4));
        t.add(Category::Uncategorized, "Connection refused", at(5));
        t.add(
            Category::ProcessingError,
            "Error building team context",
            at(6),
        );
        let sorted = t.sorted();
        assert_eq!(sorted.len(), 2);
        assert_eq!(sorted[0].text(), "Error building <*> context");
        assert_eq!(sorted[0].count, 3);
        assert_eq!(sorted[0].examples.len(), 2);
        assert_eq!(sorted[0].first(), at(1));
        assert_eq!(sorted[1].text(), "Connection lost");
        assert_eq!((t.lines, t.dropped), (6, 2));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        /// Two lines whose messages have the same digit shape have the same key: the key memo
        /// shares one between them.
        #[test]
        fn the_same_digit_shape_is_the_same_key(
            pieces in proptest::collection::vec(0usize..24, 1..12),
            digits in proptest::collection::vec(0u8..10, 64),
        ) {
            const PIECES: [&str; 24] = [
                "2025-11-29 10:00:00,123 - ERROR - analytics.x - ", "[2025-02-30 10:00:00] ERROR: ",
                "Processing failed for ", "2024-07-11", "2024-02-30", "2023-02-29", "2024-13-01",
                "0x1f", "1x1f", "0x", "12:30:45", "180s", "game_id ", "0022300215", "abc123def",
                "v2", "/app/x_1.py", "'q1'", ": ", ", ", " ", "-", "2024-07-11T10:00", "10-2024-07",
            ];
            let text: String = pieces.iter().map(|&i| PIECES[i]).collect();
            let mut next = digits.iter().cycle();
            let other: String = text
                .chars()
                .map(|c| if c.is_ascii_digit() { char::from(b'0' + next.next().unwrap()) } else { c })
                .collect();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let shaped = digit_shape(message(&text), &mut a) && digit_shape(message(&other), &mut b);
            let masked = key(&text);
            if shaped && a == b && !masked.bytes().any(|c| c.is_ascii_digit()) {
                proptest::prop_assert_eq!(masked, key(&other), "{} | {}", text, other);
            }
        }
    }
}
