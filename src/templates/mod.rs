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
use std::sync::LazyLock;

use regex::Regex;

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

/// The template clusterer, bounded by the templates it keeps.
#[derive(Debug)]
pub struct Templates {
    limit: usize,
    max_examples: usize,
    templates: Vec<Template>,
    leaves: HashMap<Leaf, Vec<usize>>,
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
            lines: 0,
            dropped: 0,
        }
    }

    /// Adds one failure line.
    pub fn add(&mut self, category: Category, text: &str, at: At) {
        self.lines += 1;
        let tokens = mask(message(text));
        if tokens.is_empty() {
            return;
        }
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
            let t = &mut self.templates[i];
            for (kept, new) in t.tokens.iter_mut().zip(&tokens) {
                if kept != new && *kept != [Piece::Var(Var::Any)] {
                    *kept = vec![Piece::Var(Var::Any)];
                }
            }
            t.count += 1;
            if t.examples.len() < self.max_examples {
                t.examples.push(Example {
                    at,
                    text: text.to_string(),
                });
            }
            return;
        }
        if self.templates.len() >= self.limit {
            self.dropped += 1;
            return;
        }
        members.push(self.templates.len());
        self.templates.push(Template {
            tokens,
            count: 1,
            category,
            examples: if self.max_examples > 0 {
                vec![Example {
                    at,
                    text: text.to_string(),
                }]
            } else {
                Vec::new()
            },
        });
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

/// The share of positions whose tokens are equal (a `<*>` in the template equals anything).
fn similarity(template: &[Token], tokens: &[Token]) -> f64 {
    let same = template
        .iter()
        .zip(tokens)
        .filter(|(a, b)| a == b || **a == [Piece::Var(Var::Any)])
        .count();
    same as f64 / template.len().max(1) as f64
}

/// A log line's prefix: a timestamp (bracketed or not), a level word, and a Python logging logger
/// name between ` - ` separators.
static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*\[?\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?\]?(?:\s*[-|:]?\s*)|^\s*",
    )
    .expect("valid prefix regex")
});
static LEVEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\[?(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL|PANIC)\]?:?(?:\s+-\s+[\w.\[\]/-]+\s+-\s+|\s*[-|:]\s*|\s+)",
    )
    .expect("valid level regex")
});

/// The message of a log line: what follows its timestamp, level and logger name.
pub fn message(text: &str) -> &str {
    let rest = &text[PREFIX.find(text).map_or(0, |m| m.end())..];
    let rest = &rest[LEVEL.find(rest).map_or(0, |m| m.end())..];
    let rest = rest.trim();
    if rest.is_empty() {
        text.trim()
    } else {
        rest
    }
}

/// The message's tokens with their variable parts masked.
pub fn mask(message: &str) -> Vec<Token> {
    unquote(message)
        .split_whitespace()
        .map(|raw| {
            let mut token = Vec::new();
            mask_token(raw, &mut token);
            token
        })
        .collect()
}

/// Stands in for a quoted value after [`unquote`]; a control character never left in cleaned text.
const QUOTED: char = '\u{1}';

/// Replaces quoted values (`'...'`, `"..."`, opening after a non-alphanumeric character and
/// closing before one, so `doesn't` is no quote) by [`QUOTED`].
fn unquote(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let opens = (c == '\'' || c == '"') && (i == 0 || !chars[i - 1].is_alphanumeric());
        if opens {
            let close = (i + 1..chars.len())
                .find(|&j| chars[j] == c && chars.get(j + 1).is_none_or(|n| !n.is_alphanumeric()));
            if let Some(j) = close {
                out.push(QUOTED);
                i = j + 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Characters that separate the parts of a token: `key=value`, `(a, b)`, `[x]`.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        '=' | ',' | ';' | ':' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '<' | '>'
    ) || c == QUOTED
}

fn push_const(token: &mut Token, s: &str) {
    if s.is_empty() {
        return;
    }
    match token.last_mut() {
        Some(Piece::Const(last)) => last.push_str(s),
        _ => token.push(Piece::Const(s.to_string())),
    }
}

fn push_var(token: &mut Token, v: Var) {
    // Two masked parts in a row (`<num><num>`) read as one.
    if token.last() != Some(&Piece::Var(v)) {
        token.push(Piece::Var(v));
    }
}

fn mask_token(raw: &str, token: &mut Token) {
    // A path or URL is one value, whatever separators it holds; so are a date with its time and a
    // time of day.
    let core = raw.trim_matches(|c: char| matches!(c, '(' | ')' | '[' | ']' | ',' | ';' | '.'));
    if let Some(v) = whole_var(core) {
        let start = raw.find(core).unwrap_or(0);
        push_const(token, &raw[..start]);
        push_var(token, v);
        push_const(token, &raw[start + core.len()..]);
        return;
    }
    let mut atom_start = 0;
    for (i, c) in raw.char_indices() {
        if is_separator(c) {
            mask_atom(&raw[atom_start..i], token);
            if c == QUOTED {
                push_var(token, Var::Str);
            } else {
                push_const(token, &raw[i..i + c.len_utf8()]);
            }
            atom_start = i + c.len_utf8();
        }
    }
    mask_atom(&raw[atom_start..], token);
}

/// A token that is one value as a whole: a path, a URL, a date or timestamp, a time of day.
fn whole_var(s: &str) -> Option<Var> {
    if s.len() < 2 {
        return None;
    }
    let b = s.as_bytes();
    if s.contains("://")
        || s.starts_with('/')
        || s.starts_with("./")
        || s.starts_with("../")
        || s.starts_with("~/")
        || s.bytes().filter(|&c| c == b'/').count() >= 2
    {
        return Some(Var::Path);
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
    let parts: Vec<&str> = s.splitn(3, ':').collect();
    parts.len() >= 2
        && parts.iter().enumerate().all(|(i, p)| {
            let p = if i == 2 {
                p.split(['.', ',']).next().unwrap_or("")
            } else {
                p
            };
            (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
        })
}

/// Masks one separator-free part of a token.
fn mask_atom(atom: &str, token: &mut Token) {
    if atom.is_empty() {
        return;
    }
    // Sentence punctuation stays constant: `exceeded 180.` is `<num>.`
    let core = atom.trim_end_matches(['.', '!', '?']);
    let tail = &atom[core.len()..];
    match atom_var(core) {
        Some(v) => {
            push_var(token, v);
            push_const(token, tail);
        }
        None => push_const(token, atom),
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
}
