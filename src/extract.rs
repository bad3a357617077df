//! Field extraction from one log line: data dates, the log level, processor names, and the cleaning
//! of raw bytes (ANSI colour codes, control characters, overlong text) before anything is matched or
//! printed. Everything here is a pure function of the line, so chunks can be read in any order.

use std::borrow::Cow;

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
    let body = line.trim_ascii_start();
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
    crate::vocab::EXCEPTION_SUFFIXES
        .iter()
        .any(|s| name.ends_with(s.as_bytes()))
        || memchr::memmem::find(ident, b"exceptions.").is_some()
        || memchr::memmem::find(ident, b"errors.").is_some()
}

/// Removes ANSI escape sequences (colours, cursor moves, OSC titles) so that `\x1b[31mERROR` matches
/// like `ERROR`. Borrows when there is nothing to strip, which is nearly always.
pub fn strip_ansi(line: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(0x1b, line).is_none() {
        return Cow::Borrowed(line);
    }
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] != 0x1b {
            out.push(line[i]);
            i += 1;
            continue;
        }
        i += 1;
        match line.get(i) {
            // CSI: parameters and intermediates, then one final byte in @..~.
            Some(b'[') => {
                i += 1;
                while i < line.len() && !(0x40..=0x7e).contains(&line[i]) {
                    i += 1;
                }
                i += 1;
            }
            // OSC: up to BEL or ESC \.
            Some(b']') => {
                while i < line.len()
                    && line[i] != 0x07
                    && !(line[i] == 0x1b && line.get(i + 1) == Some(&b'\\'))
                {
                    i += 1;
                }
                i += if line.get(i) == Some(&0x07) { 1 } else { 2 };
            }
            Some(_) => i += 1,
            None => {}
        }
    }
    Cow::Owned(out)
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
