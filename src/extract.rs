//! Field extraction from one log line: data dates, the log level, processor names, and the cleaning
//! of raw bytes (ANSI colour codes, control characters, overlong text) before anything is matched or
//! printed. Everything here is a pure function of the line, so chunks can be read in any order.

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::vocab;

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

/// How far into a JSON log line its level key may stand: structured loggers put a timestamp, a
/// logger name and sometimes the message before it.
const JSON_LEVEL_WINDOW: usize = 512;

/// For each length of word (up to 8), the initials of the level words of that length, as bits
/// (`A` is bit 0): derived from [`vocab::LEVEL_WORDS`] at compile time.
const LEVEL_INITIALS: [u32; 9] = {
    let mut bits = [0u32; 9];
    let mut i = 0;
    while i < vocab::LEVEL_WORDS.len() {
        let word = vocab::LEVEL_WORDS[i].0;
        bits[word.len()] |= 1 << (word[0] - b'A');
        i += 1;
    }
    bits
};

/// The level scan's byte classes: 0 ends a word, [`LETTER`] may start one, 1 (a digit) continues
/// one. A table lookup per byte is what the scan of nearly every line's head costs.
const WORD_BYTE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphabetic() {
            LETTER
        } else if c.is_ascii_digit() {
            1
        } else {
            0
        };
        b += 1;
    }
    table
};
const LETTER: u8 = 2;

/// Whether a word of 3 to 8 letters could be a level word: most words of a line's head (`File`,
/// `data`, `team`) differ from every level word in their length and initial, and are passed over
/// without being copied and looked up.
fn may_be_level_word(word: &[u8]) -> bool {
    let initial = word[0].to_ascii_uppercase();
    initial.is_ascii_uppercase() && LEVEL_INITIALS[word.len()] & (1 << (initial - b'A')) != 0
}

/// A scan, not a map: the table is short, and most words differ from every entry in length.
fn level_word(upper: &[u8]) -> Option<Level> {
    vocab::LEVEL_WORDS
        .iter()
        .find(|(word, _)| *word == upper)
        .map(|&(_, level)| level)
}

/// The level of a log line, read where logging libraries print it: a leading klog/glog letter
/// (`E1030 01:08:14.634565 ...`), the value of a level key in a JSON line, or the first level word
/// in the head of the line (see [`vocab::LEVEL_WORDS`] for when a word counts). It runs on nearly every
/// line, so the klog and JSON forms cost a byte comparison on lines that are neither.
pub fn level(line: &[u8]) -> Option<Level> {
    if let Some(level) = klog_level(line) {
        return Some(level);
    }
    if line.first() == Some(&b'{') {
        if let Some(level) = json_level(&line[..line.len().min(JSON_LEVEL_WINDOW)]) {
            return Some(level);
        }
    }
    let head = &line[..line.len().min(LEVEL_WINDOW)];
    let mut i = timestamp_len(head);
    while i < head.len() {
        if WORD_BYTE[usize::from(head[i])] != LETTER {
            i += 1;
            continue;
        }
        let start = i;
        while i < head.len() && WORD_BYTE[usize::from(head[i])] != 0 {
            i += 1;
        }
        // A word cut off by the window is not a whole word.
        if i == head.len() && head.len() < line.len() && line[i].is_ascii_alphanumeric() {
            return None;
        }
        let word = &head[start..i];
        let before = if start > 0 { head[start - 1] } else { b' ' };
        if !(3..=8).contains(&word.len())
            || before == b'_'
            || before == b'.'
            || !may_be_level_word(word)
        {
            continue;
        }
        let mut key = [0u8; 8];
        key[..word.len()].copy_from_slice(word);
        key.make_ascii_uppercase();
        let Some(level) = level_word(&key[..word.len()]) else {
            continue;
        };
        let tagged =
            matches!(before, b'[' | b'=') || (before == b'"' && is_level_key(&head[..start - 1]));
        let column = line.get(i..i + 2) == Some(b"  ");
        let shouted = key[..word.len()] == *word && word != b"NORMAL";
        if shouted || tagged || column {
            return Some(level);
        }
    }
    None
}

/// klog, glog and absl print the level as one letter glued to the date (`I0831 05:24:59.337848
/// 140525 report.py:14] ...`), where the word scan sees only `I0831`.
fn klog_level(line: &[u8]) -> Option<Level> {
    let [letter, m1, m2, d1, d2, b' ', h1, h2, b':', ..] = line else {
        return None;
    };
    if ![m1, m2, d1, d2, h1, h2].iter().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match letter {
        b'I' => Some(Level::Info),
        b'W' => Some(Level::Warning),
        b'E' => Some(Level::Error),
        b'F' => Some(Level::Fatal),
        _ => None,
    }
}

/// Whether `before` (what precedes the opening quote of a JSON string value) ends with a level key
/// (`"level":`, `"levelname": `, `"severity":`, `"log.level":`): only then is a lower-case `error`
/// value a level rather than a word of the message.
fn is_level_key(before: &[u8]) -> bool {
    let before = before.trim_ascii_end();
    let Some(key) = before
        .strip_suffix(b":")
        .map(<[u8]>::trim_ascii_end)
        .and_then(|k| k.strip_suffix(b"\""))
    else {
        return false;
    };
    let ends = |suffix: &[u8]| {
        key.len() >= suffix.len() && key[key.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    ends(b"level") || ends(b"levelname") || ends(b"severity")
}

/// The level in a JSON log line: the string value of a level or severity key, wherever it stands,
/// because structured loggers order keys as they like and a message before the key may shout ERROR.
fn json_level(line: &[u8]) -> Option<Level> {
    for needle in [&b"evel"[..], b"everity"] {
        for at in memchr::memmem::find_iter(line, needle) {
            let mut rest = &line[at + needle.len()..];
            rest = rest.strip_prefix(b"name").unwrap_or(rest);
            let Some(rest) = rest.strip_prefix(b"\"") else {
                continue;
            };
            let Some(rest) = rest.trim_ascii_start().strip_prefix(b":") else {
                continue;
            };
            let Some(value) = rest.trim_ascii_start().strip_prefix(b"\"") else {
                continue;
            };
            let len = value.iter().take_while(|b| b.is_ascii_alphabetic()).count();
            if !(3..=8).contains(&len) || value.get(len) != Some(&b'"') {
                continue;
            }
            let mut key = [0u8; 8];
            key[..len].copy_from_slice(&value[..len]);
            key.make_ascii_uppercase();
            if let Some(level) = level_word(&key[..len]) {
                return Some(level);
            }
        }
    }
    None
}

/// The length of a leading `YYYY-MM-DD HH:MM:SS` timestamp (with `T`, fractions and `Z`), which
/// nearly every line starts with and which holds no level word: skipping it halves level detection.
pub fn timestamp_len(h: &[u8]) -> usize {
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

/// Module paths that make an identifier an exception's (`google.api_core.exceptions.X`,
/// `psycopg2.errors.X`): searchers built once.
static QUALIFIERS: LazyLock<[Finder<'static>; 2]> =
    LazyLock::new(|| [Finder::new("exceptions."), Finder::new("errors.")]);

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
        || QUALIFIERS.iter().any(|q| q.find(ident).is_some())
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
    // Short valid UTF-8 without control characters (`[p] ❌ Failed`): nothing to replace or cut,
    // as the loop below would find character by character.
    if line.len() <= MAX_TEXT {
        if let Ok(text) = std::str::from_utf8(line) {
            if !text.chars().any(char::is_control) {
                return text.trim_start_matches('\u{feff}').trim().to_string();
            }
        }
    }
    clean_text_by_char(line)
}

/// [`clean_text`], character by character: what its short cuts must agree with.
fn clean_text_by_char(line: &[u8]) -> String {
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

    proptest::proptest! {
        /// The short cuts clean text exactly as the character loop does.
        #[test]
        fn clean_text_short_cuts_agree(
            pieces in proptest::collection::vec(0usize..12, 0..40),
            long in 0usize..3,
        ) {
            const PIECES: [&[u8]; 12] = [
                b"ERROR x", b" ", b"\t", b"\xef\xbb\xbf", "\u{274c}".as_bytes(), b"\x07",
                b"\xff", "\u{85}".as_bytes(), b"\x7f", b"\r", "\u{e9}t\u{e9}".as_bytes(), b"a",
            ];
            let mut line: Vec<u8> = pieces.iter().flat_map(|&i| PIECES[i].iter().copied()).collect();
            line.extend(std::iter::repeat_n(b'z', [0, MAX_TEXT - 20, MAX_TEXT * 2][long]));
            proptest::prop_assert_eq!(clean_text(&line), clean_text_by_char(&line));
        }
    }

    fn l(s: &str) -> Option<Level> {
        level(s.as_bytes())
    }

    #[test]
    fn levels_in_plain_and_python_logging() {
        assert_eq!(
            l("2025-11-29 10:00:01,123 - ERROR - backfill - x"),
            Some(Level::Error)
        );
        assert_eq!(l("INFO: 0 ERROR rows"), Some(Level::Info));
        assert_eq!(l("[warning] disk"), Some(Level::Warning));
        assert_eq!(l("ValueError: bad"), None);
        assert_eq!(l("Error connecting"), None);
        assert_eq!(l("query_timeout=180s log_level_INFO"), None);
        assert_eq!(l("2025-11-29T10:00:01.123Z WARN x"), Some(Level::Warning));
        assert_eq!(l("2025-11-29 10:00:01,123 - DEBUG - x"), Some(Level::Debug));
        assert_eq!(l("2025-11-29 INFO x"), Some(Level::Info));
        assert_eq!(
            l("WARNING:urllib3.connectionpool:Retrying (Retry(total=2))"),
            Some(Level::Warning)
        );
        assert_eq!(l("ERROR:root:boom"), Some(Level::Error));
        assert_eq!(
            l("13:27:41.303 | ERROR   | Flow run 'x' - Crash detected!"),
            Some(Level::Error)
        );
        assert_eq!(
            l("[2016-01-19 06:54:30,839: INFO/MainProcess] Received task: t[1]"),
            Some(Level::Info)
        );
        assert_eq!(
            l("NOTICE:  relation \"events\" already exists, skipping"),
            Some(Level::Info)
        );
    }

    #[test]
    fn levels_in_airflow_task_logs() {
        assert_eq!(
            l("{taskinstance.py:1025} DEBUG - Dependencies not met for <TaskInstance: d.t [None]>"),
            Some(Level::Debug)
        );
        assert_eq!(
            l("[2022-01-27, 03:09:36 UTC] {taskinstance.py:1025} DEBUG - Dependencies not met"),
            Some(Level::Debug)
        );
        assert_eq!(
            l("[2022-01-27, 03:09:36 UTC] {taskinstance.py:1482} ERROR - Received SIGTERM."),
            Some(Level::Error)
        );
        assert_eq!(
            l("[2025-06-20T00:41:18.162+0000] {scheduler_job_runner.py:2110} ERROR - Detected zombie job"),
            Some(Level::Error)
        );
        assert_eq!(
            l("[2020-04-25 02:46:55,867] {taskinstance.py:712} INFO - Dependencies not met"),
            Some(Level::Info)
        );
    }

    #[test]
    fn levels_in_java_and_log4j_lines() {
        assert_eq!(
            l("ERROR [main] o.a.s.deploy.yarn.ApplicationMaster: User class threw exception"),
            Some(Level::Error)
        );
        assert_eq!(
            l("2022-01-01 10:00:00 ERROR Executor: Exception in task 0.0 in stage 1.0 (TID 1)"),
            Some(Level::Error)
        );
        assert_eq!(
            l("2022-01-01 10:00:00,123 ERROR [main] org.apache.spark.deploy.yarn.ApplicationMaster: x"),
            Some(Level::Error)
        );
        assert_eq!(
            l("22/01/01 10:00:00 WARN TaskSetManager: Lost task 0.0 in stage 1.0"),
            Some(Level::Warning)
        );
        assert_eq!(
            l("SEVERE: Servlet.service() threw exception"),
            Some(Level::Error)
        );
    }

    #[test]
    fn levels_in_kubernetes_event_columns() {
        assert_eq!(
            l("  Warning  BackOff    2m (x12 over 5m)  kubelet  Back-off restarting failed container"),
            Some(Level::Warning)
        );
        assert_eq!(
            l("  Normal   Scheduled  5m    default-scheduler  Successfully assigned default/p to n"),
            Some(Level::Info)
        );
        assert_eq!(
            l("3m12s       Warning   BackoffLimitExceeded   job/backfill   Job has reached the specified backoff limit"),
            Some(Level::Warning)
        );
        // Title case counts only as a column; NORMAL counts only as a column or a tag.
        assert_eq!(l("Warning: the node was low on resource"), None);
        assert_eq!(l("NORMAL mode restored"), None);
        assert_eq!(l("LAST SEEN   TYPE      REASON"), None);
    }

    #[test]
    fn levels_in_key_value_and_json_lines() {
        assert_eq!(l("ts=1 level=error msg=x"), Some(Level::Error));
        assert_eq!(
            l("ts=1 level=warn msg=\"ERROR rows\""),
            Some(Level::Warning)
        );
        assert_eq!(
            l(r#"{"severity": "ERROR", "message": "x"}"#),
            Some(Level::Error)
        );
        assert_eq!(
            l(r#"{"severity":"error","message":"x"}"#),
            Some(Level::Error)
        );
        assert_eq!(
            l(r#"{"levelname": "ERROR", "message": "x"}"#),
            Some(Level::Error)
        );
        assert_eq!(l(r#"{"level": "error", "msg": "x"}"#), Some(Level::Error));
        assert_eq!(l(r#"{"level":"error","msg":"x"}"#), Some(Level::Error));
        // The level key decides, not a level word in the message before it.
        assert_eq!(
            l(r#"{"msg": "ERROR rows: 0", "level": "info"}"#),
            Some(Level::Info)
        );
        assert_eq!(
            l(
                r#"{"asctime": "2023-11-15 02:00:00,123", "name": "analytics.player_game_summary", "levelname": "ERROR", "message": "x"}"#
            ),
            Some(Level::Error)
        );
        assert_eq!(l(r#"{"level": 50, "msg": "x"}"#), None);
        assert_eq!(
            l(r#"time="2023-11-15T02:00:00Z" {"level": "debug"}"#),
            Some(Level::Debug)
        );
    }

    #[test]
    fn levels_in_klog_lines() {
        assert_eq!(
            l("E1030 01:08:14.634565      12 event.go:291] \"Event occurred\""),
            Some(Level::Error)
        );
        assert_eq!(
            l("I0831 05:24:59.337848 140525127004928 report.py:14] SQLGen Errors: 1."),
            Some(Level::Info)
        );
        assert_eq!(
            l("W1030 01:08:14.634565 12 x.go:1] y"),
            Some(Level::Warning)
        );
        assert_eq!(l("I0831x 05:24 ERROR"), Some(Level::Error));
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
