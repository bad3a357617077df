//! Field extraction from one log line: data dates, the log level, processor names, and the cleaning
//! of raw bytes (ANSI colour codes, control characters, overlong text) before anything is matched or
//! printed. Everything here is a pure function of the line, so chunks can be read in any order.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, MatchKind};

pub use crate::date::Date;

/// Calls `f` with every data date on the line, in order. A date directly followed by a time of day
/// (`2025-11-29 10:00:01`, `2025-11-29T10:00`) is a timestamp (the line's own, or a `created_at`)
/// and never a data date; digits glued to either side (`12023-11-15`, `2023-11-150`) are not a date.
pub fn for_each_date(line: &[u8], mut f: impl FnMut(Date)) {
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'-', &line[from..]) {
        let dash = from + i;
        from = dash + 1;
        if dash < 4 || dash + 6 > line.len() {
            continue;
        }
        let start = dash - 4;
        let end = start + 10;
        if start > 0 && line[start - 1].is_ascii_digit() {
            continue;
        }
        if line.get(end).is_some_and(u8::is_ascii_digit) {
            continue;
        }
        let Some(date) = Date::parse(&line[start..end]) else {
            continue;
        };
        from = end;
        if !is_time_of_day(&line[end..]) {
            f(date);
        }
    }
}

/// Whether `rest` (what follows a date) starts with `T` or a space and then `HH:MM`.
fn is_time_of_day(rest: &[u8]) -> bool {
    matches!(rest, [b'T' | b' ' | b'_', h1, h2, b':', m1, m2, ..]
        if h1.is_ascii_digit() && h2.is_ascii_digit() && m1.is_ascii_digit() && m2.is_ascii_digit())
}

/// The severity a line was logged at, if it carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warning,
    Error,
    Critical,
    Fatal,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Critical => "critical",
            Level::Fatal => "fatal",
        }
    }

    /// Lines at these levels are failures whatever they say.
    pub fn is_failure(self) -> bool {
        self >= Level::Error
    }
}

/// How far into a line a level word may stand: past the timestamp and logger name, not into the
/// message, where "ERROR" is just a word someone logged at INFO.
const LEVEL_WINDOW: usize = 80;

/// The first level word in the head of the line: an upper-case word (`ERROR`, `[WARNING]`,
/// `- INFO -`), or any case after `level=` / inside brackets (`level=error`, `[error]`).
pub fn level(line: &[u8]) -> Option<Level> {
    let head = &line[..line.len().min(LEVEL_WINDOW)];
    let mut i = timestamp_len(head);
    while i < head.len() {
        if !head[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        while i < head.len() && head[i].is_ascii_alphanumeric() {
            i += 1;
        }
        // A word cut off by the window is not a whole word.
        if i == head.len() && head.len() < line.len() && line[i].is_ascii_alphanumeric() {
            return None;
        }
        let word = &head[start..i];
        let before = if start > 0 { head[start - 1] } else { b' ' };
        if !(3..=8).contains(&word.len()) || before == b'_' || before == b'.' {
            continue;
        }
        let mut key = [0u8; 8];
        key[..word.len()].copy_from_slice(word);
        key.make_ascii_uppercase();
        let level = match &key[..word.len()] {
            b"TRACE" => Level::Trace,
            b"DEBUG" => Level::Debug,
            b"INFO" => Level::Info,
            b"WARN" | b"WARNING" => Level::Warning,
            b"ERROR" | b"ERR" => Level::Error,
            b"CRITICAL" | b"CRIT" => Level::Critical,
            b"FATAL" | b"PANIC" => Level::Fatal,
            _ => continue,
        };
        // Upper case, or tagged as a level in any case: `[error]`, `level=error`, `"level":"error"`.
        let tagged = matches!(before, b'[' | b'=')
            || (before == b'"' && head[..start - 1].ends_with(b"level\":"));
        if key[..word.len()] == *word || tagged {
            return Some(level);
        }
    }
    None
}

/// The length of a leading `YYYY-MM-DD HH:MM:SS` timestamp (with `T`, fractions and `Z`), which
/// nearly every line starts with and which holds no level word: skipping it halves level detection.
fn timestamp_len(h: &[u8]) -> usize {
    let digit = |i: usize| h[i].is_ascii_digit();
    if h.len() < 10
        || !(digit(0) && digit(1) && digit(2) && digit(3) && h[4] == b'-')
        || !(digit(5) && digit(6) && h[7] == b'-' && digit(8) && digit(9))
    {
        return 0;
    }
    if h.len() < 19
        || !(matches!(h[10], b' ' | b'T') && digit(11) && digit(12) && h[13] == b':')
        || !(digit(14) && digit(15) && h[16] == b':' && digit(17) && digit(18))
    {
        return 10;
    }
    let mut i = 19;
    if i < h.len() && matches!(h[i], b'.' | b',') {
        i += 1;
        while i < h.len() && digit(i) {
            i += 1;
        }
    }
    i + usize::from(i < h.len() && h[i] == b'Z')
}

/// Whether the line is a Python exception line, as printed last in a traceback:
/// `ValueError: bad`, `google.api_core.exceptions.NotFound: 404 ...`, a bare `MemoryError`.
pub fn is_exception_line(line: &[u8]) -> bool {
    let body = trim_ascii_start(line);
    let ident_len = body
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'.'))
        .unwrap_or(body.len());
    let (ident, rest) = body.split_at(ident_len);
    let rest_ok = matches!(
        rest,
        [] | [b'\r'] | [b':'] | [b':', b' ' | b'\t' | b'\r', ..]
    );
    if ident.is_empty() || !rest_ok || ident.ends_with(b".") {
        return false;
    }
    let name = ident.rsplit(|&b| b == b'.').next().unwrap_or(ident);
    if !name.first().is_some_and(u8::is_ascii_uppercase) {
        return false;
    }
    const SUFFIXES: [&[u8]; 16] = [
        b"Error",
        b"Exception",
        b"Exit",
        b"Interrupt",
        b"Timeout",
        b"Exceeded",
        b"NotFound",
        b"Forbidden",
        b"BadRequest",
        b"TooManyRequests",
        b"Unavailable",
        b"InternalServerError",
        b"Unauthorized",
        b"Conflict",
        b"Invalid",
        b"Failure",
    ];
    SUFFIXES.iter().any(|s| name.ends_with(s))
        || memchr::memmem::find(ident, b"exceptions.").is_some()
        || memchr::memmem::find(ident, b"errors.").is_some()
}

fn trim_ascii_start(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    &s[n..]
}

/// Finds the known processors in a line in every spelling the platform logs them: `p`, `[p]`,
/// `analytics/p`, `analytics.p` and the class name `PProcessor` in CamelCase.
#[derive(Debug, Clone)]
pub struct ProcessorNames {
    names: Vec<String>,
    classes: Vec<String>,
    automaton: AhoCorasick,
    /// Pattern id to processor index: each processor has two patterns (snake, Camel).
    owner: Vec<u16>,
}

impl ProcessorNames {
    pub fn new(names: &[String]) -> ProcessorNames {
        let mut patterns = Vec::with_capacity(names.len() * 2);
        let mut owner = Vec::with_capacity(names.len() * 2);
        for (i, name) in names.iter().enumerate() {
            patterns.push(name.clone());
            patterns.push(class_name(name));
            owner.extend([i as u16, i as u16]);
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .expect("processor names are plain literals");
        let classes = names.iter().map(|n| class_name(n)).collect();
        ProcessorNames {
            names: names.to_vec(),
            classes,
            automaton,
            owner,
        }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The first processor named on the line, as its index in the known list.
    pub fn find(&self, line: &[u8]) -> Option<u16> {
        self.automaton
            .find_iter(line)
            .find(|m| {
                let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
                let before_ok = m.start() == 0 || !word(line[m.start() - 1]);
                // Class names may run on (`PlayerGameSummaryProcessor.run`), snake names may not
                // (`player_game_summary_processor.py` is a file, not the processor).
                let snake = m.pattern().as_usize() % 2 == 0;
                let after_ok = !snake || line.get(m.end()).is_none_or(|&b| !word(b));
                before_ok && after_ok
            })
            .map(|m| self.owner[m.pattern().as_usize()])
    }

    /// The processor whose snake or class name is exactly `token`.
    pub fn lookup(&self, token: &[u8]) -> Option<u16> {
        (0..self.names.len())
            .find(|&i| self.names[i].as_bytes() == token || self.classes[i].as_bytes() == token)
            .map(|i| i as u16)
    }
}

/// `player_game_summary` -> `PlayerGameSummaryProcessor`.
pub fn class_name(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len() + 9);
    for part in snake.split(['_', '-']).filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out.push_str("Processor");
    out
}

/// Removes ANSI escape sequences (colours, cursor moves, OSC titles) so that `\x1b[31mERROR` matches
/// like `ERROR`. Borrows when there is nothing to strip, which is nearly always.
pub fn strip_ansi(line: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(0x1b, line).is_none() {
        return Cow::Borrowed(line);
    }
    // A full VT parser: charset selections (`ESC ( B`, which `tput sgr0` prints), CSI, OSC and
    // the rest go whole, without eating the text after them.
    Cow::Owned(anstream::adapter::strip_bytes(line).into_vec())
}

/// The longest text (in bytes of UTF-8) kept from a log line in manifests, events and summaries.
pub const MAX_TEXT: usize = 512;
/// Appended to text cut at [`MAX_TEXT`].
pub const TRUNCATED: &str = " …[truncated]";

/// Log bytes as safe, bounded text: invalid UTF-8 becomes U+FFFD, control characters (which could
/// replay escape sequences on a terminal) become U+FFFD, tabs become spaces, a BOM and surrounding
/// whitespace go, and anything past [`MAX_TEXT`] bytes is cut with [`TRUNCATED`].
pub fn clean_text(line: &[u8]) -> String {
    // Nearly every line is short printable ASCII: nothing to replace, cut or decode.
    if line.len() <= MAX_TEXT && line.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        let text = std::str::from_utf8(line).expect("printable ASCII is UTF-8");
        return text.trim().to_string();
    }
    let raw = &line[..line.len().min(MAX_TEXT * 2)];
    let lossy = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(lossy.len().min(MAX_TEXT + TRUNCATED.len()));
    let mut cut = raw.len() < line.len();
    for c in lossy.trim_start_matches('\u{feff}').trim().chars() {
        let c = match c {
            '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        };
        if out.len() + c.len_utf8() > MAX_TEXT {
            cut = true;
            break;
        }
        out.push(c);
    }
    if cut {
        out.push_str(TRUNCATED);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(line: &str) -> Vec<String> {
        let mut v = Vec::new();
        for_each_date(line.as_bytes(), |d| v.push(d.to_string()));
        v
    }

    #[test]
    fn dates_skip_timestamps_and_impossible_days() {
        assert_eq!(
            dates("2025-11-29 10:00:01,123 - INFO - Starting X for 2023-11-15"),
            ["2023-11-15"]
        );
        assert_eq!(
            dates("2025-11-29T10:00:01Z game_date=2023-11-15"),
            ["2023-11-15"]
        );
        assert_eq!(
            dates("Missing: ['2023-11-10', '2023-11-12']"),
            ["2023-11-10", "2023-11-12"]
        );
        assert_eq!(
            dates("2023-02-30 2023-13-01 2024-02-29 2023-02-29"),
            ["2024-02-29"]
        );
        assert_eq!(
            dates("--start-date=2023-11-15 --end-date=2023-11-16"),
            ["2023-11-15", "2023-11-16"]
        );
        assert_eq!(
            dates("12023-11-15 2023-11-150 /data/2023-11-15/x"),
            ["2023-11-15"]
        );
    }

    #[test]
    fn levels() {
        let l = |s: &str| level(s.as_bytes());
        assert_eq!(
            l("2025-11-29 10:00:01,123 - ERROR - backfill - x"),
            Some(Level::Error)
        );
        assert_eq!(l("INFO: 0 ERROR rows"), Some(Level::Info));
        assert_eq!(l("ts=1 level=error msg=x"), Some(Level::Error));
        assert_eq!(l("[warning] disk"), Some(Level::Warning));
        assert_eq!(l("ValueError: bad"), None);
        assert_eq!(l("Error connecting"), None);
        assert_eq!(l("query_timeout=180s log_level_INFO"), None);
        assert_eq!(l("2025-11-29T10:00:01.123Z WARN x"), Some(Level::Warning));
        assert_eq!(l("2025-11-29 10:00:01,123 - DEBUG - x"), Some(Level::Debug));
        assert_eq!(l("2025-11-29 INFO x"), Some(Level::Info));
    }

    #[test]
    fn exception_lines() {
        for yes in [
            "ValueError: x",
            "google.api_core.exceptions.NotFound: 404 x",
            "MemoryError",
            "  KeyError: 'a'",
        ] {
            assert!(is_exception_line(yes.as_bytes()), "{yes}");
        }
        for no in [
            "Traceback (most recent call last):",
            "error: x",
            "Processing failed",
            "Errors: 0 ",
        ] {
            assert!(!is_exception_line(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn processors_in_every_spelling() {
        let names: Vec<String> = ["player_game_summary", "upcoming_player_game_context"]
            .map(String::from)
            .into();
        let p = ProcessorNames::new(&names);
        assert_eq!(p.find(b"[player_game_summary] ok"), Some(0));
        assert_eq!(
            p.find(b"x analytics.upcoming_player_game_context - y"),
            Some(1)
        );
        assert_eq!(
            p.find(b"Starting UpcomingPlayerGameContextProcessor for"),
            Some(1)
        );
        assert_eq!(p.find(b"player_game_summary_processor.py"), None);
        assert_eq!(
            class_name("team_defense_game_summary"),
            "TeamDefenseGameSummaryProcessor"
        );
    }

    #[test]
    fn text_is_cleaned_and_bounded() {
        assert_eq!(strip_ansi(b"\x1b[31mERROR\x1b[0m x").as_ref(), b"ERROR x");
        assert_eq!(
            clean_text(b"\xef\xbb\xbfa\tb\x07c\xff\r"),
            "a b\u{fffd}c\u{fffd}"
        );
        let long = clean_text(&[b'a'; 2000]);
        assert!(long.ends_with(TRUNCATED) && long.len() == MAX_TEXT + TRUNCATED.len());
    }
}
