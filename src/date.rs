//! Calendar dates: the data dates that pairs, ranges and schedules are made of. Packed as
//! `yyyymmdd` so that ordering by value is ordering by time, and only ever calendar-valid.

use std::fmt;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_successor_rolls_over() {
        let d = |s: &str| Date::parse(s.as_bytes()).unwrap();
        assert_eq!(d("2023-12-31").succ(), Some(d("2024-01-01")));
        assert_eq!(d("2024-02-28").succ(), Some(d("2024-02-29")));
        assert_eq!(d("2023-02-28").succ(), Some(d("2023-03-01")));
    }
}
