//! Calendar dates and how a log line writes them: data dates (never timestamps), the ranges and
//! lists a start line or banner names, and the dates a count summary lists as failed. A date is
//! packed as `yyyymmdd`, so that ordering by value is ordering by time, and is only ever
//! calendar-valid.

use std::fmt;
use std::ops::Range;

/// A calendar date packed as `yyyymmdd`, so that ordering by value is ordering by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(u32);

impl Date {
    /// Only calendar-valid dates exist: 2023-02-30 and 2023-13-01 are not dates.
    pub fn new(year: u32, month: u32, day: u32) -> Option<Date> {
        if year == 0 || year > 9999 || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        (day <= days_in_month(year, month)).then_some(Date(year * 10_000 + month * 100 + day))
    }

    pub fn year(self) -> u32 {
        self.0 / 10_000
    }
    pub fn month(self) -> u32 {
        self.0 / 100 % 100
    }
    pub fn day(self) -> u32 {
        self.0 % 100
    }

    /// The next calendar day; `None` past 9999-12-31.
    pub fn succ(self) -> Option<Date> {
        let (y, m, d) = (self.year(), self.month(), self.day());
        Date::new(y, m, d + 1)
            .or_else(|| Date::new(y, m + 1, 1))
            .or_else(|| Date::new(y + 1, 1, 1))
    }

    /// Days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        later.day_number() - self.day_number()
    }

    /// Days since 1970-01-01 (proleptic Gregorian).
    fn day_number(self) -> i64 {
        let (y, m, d) = (
            i64::from(self.year()),
            i64::from(self.month()),
            i64::from(self.day()),
        );
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(s: &[u8]) -> Option<Date> {
        if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
            return None;
        }
        let num = |r: &[u8]| -> Option<u32> {
            r.iter().try_fold(0u32, |acc, &b| {
                b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
            })
        };
        Date::new(num(&s[0..4])?, num(&s[5..7])?, num(&s[8..10])?)
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.year(),
            self.month(),
            self.day()
        )
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Date::parse(text.as_bytes())
            .ok_or_else(|| serde::de::Error::custom(format!("not a YYYY-MM-DD date: {text:?}")))
    }
}

/// A moment to the second, packed as `yyyymmddhhmmss` so that ordering by value is ordering by time.
/// The zone is not read: logs and exports of one platform share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// How far into a line its timestamp may start (past a GNU parallel tag, a `[`, a JSON key).
    const WINDOW: usize = 200;

    /// `YYYY-MM-DD HH:MM:SS` with `T` or a space (or Airflow's `, `) between date and time, and
    /// anything after the seconds (fractions, a zone).
    pub fn parse(s: &[u8]) -> Option<Timestamp> {
        let date = Date::parse(s.get(..10)?)?;
        let rest = &s[10..];
        let rest = rest
            .strip_prefix(b", ")
            .or_else(|| rest.strip_prefix(b"T"))
            .or_else(|| rest.strip_prefix(b" "))?;
        let two = |i: usize| -> Option<u64> {
            let (a, b) = (*rest.get(i)?, *rest.get(i + 1)?);
            (a.is_ascii_digit() && b.is_ascii_digit())
                .then(|| u64::from((a - b'0') * 10 + b - b'0'))
        };
        if rest.get(2) != Some(&b':') || rest.get(5) != Some(&b':') {
            return None;
        }
        let (h, m, sec) = (two(0)?, two(3)?, two(6)?);
        if h > 23 || m > 59 || sec > 60 {
            return None;
        }
        let ymd = u64::from(date.0);
        Some(Timestamp(ymd * 1_000_000 + h * 10_000 + m * 100 + sec))
    }

    /// The first timestamp near the start of a log line.
    pub fn find(line: &[u8]) -> Option<Timestamp> {
        let head = &line[..line.len().min(Self::WINDOW)];
        let mut from = 0;
        while let Some(i) = memchr::memchr(b'-', &head[from..]) {
            let dash = from + i;
            from = dash + 1;
            if dash < 4 || (dash > 4 && head[dash - 5].is_ascii_digit()) {
                continue;
            }
            if let Some(t) = Timestamp::parse(&line[dash - 4..]) {
                return Some(t);
            }
        }
        None
    }

    pub fn date(self) -> Date {
        Date((self.0 / 1_000_000) as u32)
    }

    /// Seconds since midnight, for placing a moment on a timeline.
    pub fn seconds_of_day(self) -> u32 {
        let t = (self.0 % 1_000_000) as u32;
        t / 10_000 * 3600 + t / 100 % 100 * 60 + t % 100
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0 % 1_000_000;
        write!(
            f,
            "{}T{:02}:{:02}:{:02}",
            self.date(),
            t / 10_000,
            t / 100 % 100,
            t % 100
        )
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(text.as_bytes()).ok_or_else(|| {
            serde::de::Error::custom(format!("not a YYYY-MM-DDTHH:MM:SS time: {text:?}"))
        })
    }
}

/// The longest range one line may name (ten years); a longer "range" is read as its first date, so
/// a typo cannot make millions of pairs.
pub const MAX_RANGE_DAYS: usize = 3660;

/// An event's dates: most lines name one, held inline.
pub type Dates = smallvec::SmallVec<[Date; 2]>;

/// Every data date on the line, in order, with its byte span. A date directly followed by a time
/// of day (`2025-11-29 10:00:01`, `2025-11-29T10:00`) is a timestamp (the line's own, or a
/// `created_at`) and never a data date; digits glued to either side (`12023-11-15`, `2023-11-150`)
/// are not a date.
pub fn dates_in(line: &[u8]) -> impl Iterator<Item = (Date, Range<usize>)> + '_ {
    let mut from = 0;
    std::iter::from_fn(move || {
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
                return Some((date, start..end));
            }
        }
        None
    })
}

/// Calls `f` with every data date on the line, in order (see [`dates_in`]).
pub fn for_each_date(line: &[u8], mut f: impl FnMut(Date)) {
    for (date, _) in dates_in(line) {
        f(date);
    }
}

/// Whether `rest` (what follows a date) starts with `T` or a space and then `HH:MM`.
fn is_time_of_day(rest: &[u8]) -> bool {
    matches!(rest, [b'T' | b' ' | b'_', h1, h2, b':', m1, m2, ..]
        if h1.is_ascii_digit() && h2.is_ascii_digit() && m1.is_ascii_digit() && m2.is_ascii_digit())
}

/// How two dates written one after the other relate, from the text between them.
#[derive(Debug, PartialEq, Eq)]
enum Joint {
    /// `A to B`, `A..B`, `A -> B`, `from A through B`, `--start-date=A --end-date=B`, `Start: A End: B`.
    Range,
    /// `a,b,c`, `['a', 'b']`, `a b`.
    List,
    /// Anything else: the second date is about something else (a lookback window, a timestamp).
    Apart,
}

fn joint(between: &[u8]) -> Joint {
    let trim = |b: &u8| b.is_ascii_whitespace() || matches!(b, b'\'' | b'"' | b'=' | b'`');
    let start = between
        .iter()
        .position(|b| !trim(b))
        .unwrap_or(between.len());
    let end = between
        .iter()
        .rposition(|b| !trim(b))
        .map_or(start, |i| i + 1);
    let word = between[start..end].to_ascii_lowercase();
    match word.as_slice() {
        b"to" | b".." | b"..." | b"->" | b"=>" | b"-" | b"through" | b"thru" | b"until"
        | b"till" | b"\xe2\x86\x92" | b"\xe2\x80\x93" | b"\xe2\x80\x94" => Joint::Range,
        b"," | b";" | b"" => Joint::List,
        w => {
            // `--end-date`, `, end_date:`, `End:`, `end date`: the second date is the range's end.
            let w: Vec<u8> = w
                .iter()
                .copied()
                .filter(|b| {
                    !matches!(
                        b,
                        b'-' | b'_' | b' ' | b',' | b';' | b':' | b'(' | b'"' | b'\''
                    )
                })
                .collect();
            if w == b"end" || w == b"enddate" || w == b"to" {
                Joint::Range
            } else {
                Joint::Apart
            }
        }
    }
}

/// The dates an attempt or a run covers, read from the first date in `text`: a range (every day of
/// A..=B), a list, or the first date alone. Sorted, without repeats; empty when `text` has no date.
pub fn read_dates(text: &[u8]) -> Vec<Date> {
    let mut found = dates_in(text);
    let Some((first, first_span)) = found.next() else {
        return Vec::new();
    };
    let mut out = vec![first];
    let mut prev_end = first_span.end;
    let mut listing = false;
    for (date, span) in found {
        match joint(&text[prev_end..span.start]) {
            Joint::Range if !listing => {
                out = range(first, date).unwrap_or(out);
                break;
            }
            Joint::List => {
                listing = true;
                out.push(date);
                prev_end = span.end;
            }
            _ => break,
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Every day of `first..=last`, or `None` for a backwards or overlong range.
pub fn range(first: Date, last: Date) -> Option<Vec<Date>> {
    let mut out = vec![first];
    let mut d = first;
    while d < last {
        if out.len() >= MAX_RANGE_DAYS {
            return None;
        }
        d = d.succ()?;
        out.push(d);
    }
    (d == last).then_some(out)
}

/// The dates a count summary lists as failed: `Done: 2 succeeded, 1 failed (2024-02-03)`,
/// `Completed 4/5 dates; failed dates: ['2024-01-10']`. A date is failed when the nearest word
/// before it is a failure word; a line with failure words but no success word lists only failed
/// dates, wherever they stand (`2024-01-10 failed`). `None` when the line has no failure word
/// (zero counts such as `0 failed` or `errors: 0` are not failure words).
pub fn failed_dates(line: &[u8]) -> Option<Vec<Date>> {
    let lower = line.to_ascii_lowercase();
    let words = crate::vocab::outcome_words(&lower);
    if !words.iter().any(|w| w.1) {
        return None;
    }
    let any_success = words.iter().any(|w| !w.1);
    let mut out = Vec::new();
    for (date, span) in dates_in(line) {
        let before = words.iter().rev().find(|w| w.0 < span.start);
        if !any_success || before.is_some_and(|w| w.1) {
            out.push(date);
        }
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_between_dates() {
        let d = |s: &str| Date::parse(s.as_bytes()).unwrap();
        assert_eq!(d("1970-01-01").day_number(), 0);
        assert_eq!(d("2024-02-28").days_until(d("2024-03-01")), 2);
        assert_eq!(d("2023-02-28").days_until(d("2023-03-01")), 1);
        assert_eq!(d("2023-12-31").days_until(d("2024-01-01")), 1);
        assert_eq!(d("2024-01-31").days_until(d("2024-01-01")), -30);
        let mut x = d("1999-12-25");
        for _ in 0..800 {
            let next = x.succ().unwrap();
            assert_eq!(x.days_until(next), 1, "{x}");
            x = next;
        }
    }

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

    fn read(text: &str) -> Vec<String> {
        read_dates(text.as_bytes())
            .iter()
            .map(Date::to_string)
            .collect()
    }

    #[test]
    fn start_lines_name_ranges_lists_or_one_date() {
        let week: Vec<String> = (1..=7).map(|d| format!("2023-11-0{d}")).collect();
        for text in [
            " --start-date=2023-11-01 --end-date=2023-11-07 --skip-downstream-trigger=true",
            " --start-date 2023-11-01 --end-date 2023-11-07",
            " for 2023-11-01 to 2023-11-07 (batch mode)",
            " 2023-11-01..2023-11-07",
            " 2023-11-01 -> 2023-11-07",
            " from 2023-11-01 through 2023-11-07",
            " Start: 2023-11-01 End: 2023-11-07",
            r#" {"start_date": "2023-11-01", "end_date": "2023-11-07"}"#,
        ] {
            assert_eq!(read(text), week, "{text}");
        }
        let list = ["2023-11-01", "2023-11-03", "2023-11-09"];
        for text in [
            " --dates 2023-11-01,2023-11-03,2023-11-09",
            " ['2023-11-01', '2023-11-03', '2023-11-09']",
            r#" ["2023-11-09","2023-11-01","2023-11-03"]"#,
        ] {
            assert_eq!(read(text), list, "{text}");
        }
        assert_eq!(
            read(" for 2023-11-15 (lookback from 2023-11-01)"),
            ["2023-11-15"]
        );
        assert_eq!(read(" 2025-11-29 10:00:00 for 2023-11-15"), ["2023-11-15"]);
        assert_eq!(
            read(" for 2023-11-07 to 2023-11-01"),
            ["2023-11-07"],
            "backwards"
        );
        assert_eq!(
            read(" for 2000-01-01 to 2023-11-01"),
            ["2000-01-01"],
            "over ten years"
        );
        assert!(read(" no date here").is_empty());
    }

    #[test]
    fn count_summaries_list_their_failed_dates() {
        let failed = |s: &str| {
            failed_dates(s.as_bytes()).map(|d| d.iter().map(Date::to_string).collect::<Vec<_>>())
        };
        assert_eq!(
            failed("Done: 2 succeeded (2024-02-01, 2024-02-02), 1 failed (2024-02-03)"),
            Some(vec!["2024-02-03".to_string()])
        );
        assert_eq!(
            failed("Completed 4/5 dates; failed dates: ['2024-01-10']"),
            Some(vec!["2024-01-10".to_string()])
        );
        assert_eq!(
            failed("2024-01-10 failed"),
            Some(vec!["2024-01-10".to_string()])
        );
        assert_eq!(failed("Done for 2024-01-10: 0 failed"), None);
    }

    #[test]
    fn timestamps_in_the_forms_logs_print_them() {
        let t = |s: &str| Timestamp::find(s.as_bytes()).map(|t| t.to_string());
        let want = Some("2025-11-29T10:00:01".to_string());
        assert_eq!(t("2025-11-29 10:00:01,123 - INFO - x"), want);
        assert_eq!(t("2025-11-29T10:00:01.123Z level=info"), want);
        assert_eq!(
            t("[2025-11-29, 10:00:01 UTC] {taskinstance.py:1} ERROR"),
            want
        );
        assert_eq!(t("p\t2025-11-29 10:00:01 INFO"), want);
        assert_eq!(
            t(r#"{"timestamp": "2025-11-29T10:00:01Z", "severity": "ERROR"}"#),
            want
        );
        assert_eq!(t("Starting X for 2023-11-15"), None);
        assert_eq!(t("12025-11-29 10:00:01"), None);
        assert!(
            Timestamp::parse(b"2025-11-29 10:00:01") > Timestamp::parse(b"2025-11-29T09:59:59")
        );
    }

    #[test]
    fn date_successor_rolls_over() {
        let d = |s: &str| Date::parse(s.as_bytes()).unwrap();
        assert_eq!(d("2023-12-31").succ(), Some(d("2024-01-01")));
        assert_eq!(d("2024-02-28").succ(), Some(d("2024-02-29")));
        assert_eq!(d("2023-02-28").succ(), Some(d("2023-03-01")));
    }
}
