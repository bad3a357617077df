//! The calendar: every (date, processor) pair's final state as one cell of a grid of dates by
//! processors, where a missing week of one processor shows at a glance. One model, three
//! renderings: the terminal's (here), Markdown's ([`crate::markdown`]) and the HTML heatmap
//! ([`crate::report_html`]). The glyphs, names and colours of the cell states are written here once.

use std::collections::BTreeMap;
use std::io;

use anstyle::{AnsiColor, Color, Style};

use crate::category::Category;
use crate::date::Date;
use crate::manifest::{Reason, Retry};
use crate::term::{pad, Painter};
use crate::triage::{Outcome, PairOutcome};

/// A pair's state as the calendar shows it. A pair the logs never mention has no cell ("not seen").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cell {
    /// Succeeded, or done by an earlier run.
    Succeeded,
    /// Its last attempt failed, for this category.
    Failed(Category),
    Interrupted,
    NotStarted,
    /// A defensive check found the date missing.
    Gap,
    /// Expected but never seen succeeding.
    Missing,
}

impl Cell {
    /// Every state in legend order.
    pub fn all() -> impl Iterator<Item = Cell> {
        [Cell::Succeeded]
            .into_iter()
            .chain(Category::ALL.into_iter().map(Cell::Failed))
            .chain([
                Cell::Interrupted,
                Cell::NotStarted,
                Cell::Gap,
                Cell::Missing,
            ])
    }

    pub fn glyph(self) -> char {
        match self {
            Cell::Succeeded => '·',
            Cell::Failed(Category::ScriptInfrastructure) => 'S',
            Cell::Failed(Category::DataAvailability) => 'D',
            Cell::Failed(Category::ProcessingError) => 'P',
            Cell::Failed(Category::ResourceExhaustion) => 'R',
            Cell::Failed(Category::DefensiveCheck) => 'C',
            Cell::Failed(Category::Uncategorized) => '?',
            Cell::Interrupted => '!',
            Cell::NotStarted => '-',
            Cell::Gap => 'g',
            Cell::Missing => 'm',
        }
    }

    /// The state as the HTML report's `data-state` and the JSON-ish names elsewhere.
    pub fn state(self) -> &'static str {
        match self {
            Cell::Succeeded => "succeeded",
            Cell::Failed(_) => "failed",
            Cell::Interrupted => "interrupted",
            Cell::NotStarted => "not_started",
            Cell::Gap => "gap",
            Cell::Missing => "missing",
        }
    }

    /// The legend's word for the state: the category for a failure.
    pub fn label(self) -> &'static str {
        match self {
            Cell::Failed(c) => c.as_str(),
            Cell::NotStarted => "not started",
            other => other.state(),
        }
    }

    /// The terminal colour of the state (and of its category, where it has one).
    pub fn style(self) -> Style {
        let fg = |c: AnsiColor| Style::new().fg_color(Some(Color::Ansi(c)));
        match self {
            Cell::Succeeded => fg(AnsiColor::Green),
            Cell::Failed(Category::ScriptInfrastructure) => fg(AnsiColor::Yellow).bold(),
            Cell::Failed(Category::DataAvailability) => fg(AnsiColor::Magenta).bold(),
            Cell::Failed(Category::ProcessingError) => fg(AnsiColor::Red).bold(),
            Cell::Failed(Category::ResourceExhaustion) => fg(AnsiColor::Cyan).bold(),
            Cell::Failed(Category::DefensiveCheck) => fg(AnsiColor::Blue).bold(),
            Cell::Failed(Category::Uncategorized) => fg(AnsiColor::BrightRed).bold(),
            Cell::Interrupted => fg(AnsiColor::Yellow),
            Cell::NotStarted => fg(AnsiColor::BrightBlack),
            Cell::Gap => fg(AnsiColor::Blue),
            Cell::Missing => fg(AnsiColor::Magenta),
        }
    }

    /// The HTML heatmap's fill, the terminal palette's counterpart.
    pub fn fill(self) -> &'static str {
        match self {
            Cell::Succeeded => "#4caf50",
            Cell::Failed(Category::ScriptInfrastructure) => "#e6a700",
            Cell::Failed(Category::DataAvailability) => "#a347ba",
            Cell::Failed(Category::ProcessingError) => "#d93b3b",
            Cell::Failed(Category::ResourceExhaustion) => "#1c9fc4",
            Cell::Failed(Category::DefensiveCheck) => "#3a63d1",
            Cell::Failed(Category::Uncategorized) => "#6b1d1d",
            Cell::Interrupted => "#f59f42",
            Cell::NotStarted => "#b9b9b9",
            Cell::Gap => "#9bb8f0",
            Cell::Missing => "#d9a3e6",
        }
    }
}

/// The glyph and words for a pair the logs never mention.
pub const NOT_SEEN: (char, &str, &str) = (' ', "not seen", "#efefef");

/// The grid: a cell per pair the logs tell of, with the retry row behind it (error, file, line).
/// Sparse, so a log that names dates years apart costs its pairs, not its span.
pub struct Calendar<'r> {
    pub processors: &'r [String],
    cells: BTreeMap<(Date, usize), (Cell, Option<&'r Retry>)>,
}

/// How a grid is laid out: one column per date, or one line per month with a column per day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Days,
    Months,
}

impl<'r> Calendar<'r> {
    /// The grid of `pairs` (their processors are indexes into `processors`), with the category
    /// and evidence of each from `retries` (every row, before any filter), and the gap rows.
    pub fn new(
        processors: &'r [String],
        pairs: &[PairOutcome],
        retries: &'r [Retry],
    ) -> Calendar<'r> {
        let index = |name: &str| processors.iter().position(|p| p == name);
        let mut rows: BTreeMap<(Date, usize), &Retry> = BTreeMap::new();
        for r in retries {
            if let Some(p) = index(&r.processor) {
                rows.insert((r.date, p), r);
            }
        }
        let mut cells = BTreeMap::new();
        for pair in pairs {
            let key = (pair.date, pair.processor.index());
            let row = rows.get(&key).copied();
            let cell = match pair.state {
                Outcome::Succeeded | Outcome::Skipped => Cell::Succeeded,
                Outcome::Failed => {
                    Cell::Failed(row.map_or(Category::Uncategorized, |r| r.category))
                }
                Outcome::Interrupted => Cell::Interrupted,
                Outcome::NotStarted => Cell::NotStarted,
            };
            cells.insert(key, (cell, row));
        }
        for (key, r) in rows {
            let cell = match r.reason {
                Reason::Gap => Cell::Gap,
                Reason::Missing => Cell::Missing,
                Reason::Failed => Cell::Failed(r.category),
                Reason::Interrupted => Cell::Interrupted,
                Reason::NotStarted => Cell::NotStarted,
            };
            cells.entry(key).or_insert((cell, Some(r)));
        }
        Calendar { processors, cells }
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    pub fn first(&self) -> Option<Date> {
        self.cells.keys().next().map(|k| k.0)
    }

    pub fn last(&self) -> Option<Date> {
        self.cells.keys().next_back().map(|k| k.0)
    }

    /// The cell of (date, processor index) and its retry row; `None`: not seen.
    pub fn get(&self, date: Date, processor: usize) -> Option<(Cell, Option<&'r Retry>)> {
        self.cells.get(&(date, processor)).copied()
    }

    /// Every cell with its date and processor index, in date then processor order.
    pub fn cells(&self) -> impl Iterator<Item = (Date, usize, Cell, Option<&'r Retry>)> + '_ {
        self.cells.iter().map(|(&(d, p), &(c, r))| (d, p, c, r))
    }

    /// The states present, in legend order.
    pub fn present(&self) -> Vec<Cell> {
        Cell::all()
            .filter(|c| self.cells.values().any(|(x, _)| x == c))
            .collect()
    }

    /// Days from the first date to the last, both included.
    pub fn span_days(&self) -> u64 {
        match (self.first(), self.last()) {
            (Some(a), Some(b)) => (day_number(b) - day_number(a) + 1) as u64,
            _ => 0,
        }
    }

    /// Every date from the first to the last (call only for spans that fit a line).
    pub fn days(&self) -> Vec<Date> {
        let mut out = Vec::new();
        let (Some(mut d), Some(last)) = (self.first(), self.last()) else {
            return out;
        };
        while d <= last {
            out.push(d);
            match d.succ() {
                Some(next) => d = next,
                None => break,
            }
        }
        out
    }

    /// The months that hold at least one cell, as their first day.
    pub fn months(&self) -> Vec<Date> {
        let mut out: Vec<Date> = Vec::new();
        for &(d, _) in self.cells.keys() {
            let m = Date::new(d.year(), d.month(), 1).expect("the first of a month is a date");
            if out.last() != Some(&m) {
                out.push(m);
            }
        }
        out
    }

    /// One column per date when the span fits `columns` (and is at most `max_days`), else one
    /// line per month.
    pub fn layout(&self, columns: usize, max_days: u64) -> Layout {
        let span = self.span_days();
        if span as usize <= columns && span <= max_days {
            Layout::Days
        } else {
            Layout::Months
        }
    }

    /// The cell of (date, processor) as a glyph.
    pub fn glyph(&self, date: Date, processor: usize) -> (char, Style) {
        match self.get(date, processor) {
            Some((cell, _)) => (cell.glyph(), cell.style()),
            None => (NOT_SEEN.0, Style::new()),
        }
    }

    /// The terminal grid with its legend.
    pub fn write_terminal(&self, p: &mut Painter) -> io::Result<()> {
        let (Some(first), Some(last)) = (self.first(), self.last()) else {
            return Ok(());
        };
        let label = self
            .processors
            .iter()
            .map(|n| crate::term::width(n))
            .max()
            .unwrap_or(0)
            + 2;
        let bold = Style::new().bold();
        let dim = Style::new().dimmed();
        let layout = self.layout(p.width.saturating_sub(label), 92);
        let title = match layout {
            Layout::Days => format!(
                "Calendar  {first} .. {last}: {} days x {} processors",
                self.span_days(),
                self.processors.len()
            ),
            Layout::Months => format!(
                "Calendar  {first} .. {last}: {} days, one line per month and processor (days 1-31)",
                self.span_days()
            ),
        };
        p.line(&[(bold, &title)])?;
        match layout {
            Layout::Days => {
                let days = self.days();
                let mut months = String::new();
                for (i, d) in days.iter().enumerate() {
                    if (i == 0 || d.day() == 1) && months.chars().count() <= i {
                        let gap = i - months.chars().count();
                        months.extend(std::iter::repeat_n(' ', gap));
                        months.push_str(&format!("{:04}-{:02} ", d.year(), d.month()));
                    }
                }
                let tens: String = days
                    .iter()
                    .map(|d| char::from(b'0' + (d.day() / 10) as u8))
                    .collect();
                let units: String = days
                    .iter()
                    .map(|d| char::from(b'0' + (d.day() % 10) as u8))
                    .collect();
                for ruler in [months.trim_end(), &tens, &units] {
                    p.line(&[(dim, &format!("{}{ruler}", pad("", label)))])?;
                }
                for (i, name) in self.processors.iter().enumerate() {
                    self.row(p, &pad(name, label), i, &days)?;
                }
            }
            Layout::Months => {
                let ruler = format!("{}1        10        20        30", pad("", 9 + label));
                p.line(&[(dim, &ruler)])?;
                for month in self.months() {
                    let days: Vec<Option<Date>> = (1..=31)
                        .map(|day| Date::new(month.year(), month.month(), day))
                        .collect();
                    for (i, name) in self.processors.iter().enumerate() {
                        let head = if i == 0 {
                            format!("{:04}-{:02}  ", month.year(), month.month())
                        } else {
                            pad("", 9)
                        };
                        let mut spans: Vec<(Style, String)> =
                            vec![(dim, head), (Style::new(), pad(name, label))];
                        for d in &days {
                            spans.push(match d {
                                Some(d) => {
                                    let (g, s) = self.glyph(*d, i);
                                    (s, g.to_string())
                                }
                                None => (Style::new(), " ".to_string()),
                            });
                        }
                        let spans: Vec<(Style, &str)> =
                            spans.iter().map(|(s, t)| (*s, t.as_str())).collect();
                        p.line(&trim_end(&spans))?;
                    }
                }
            }
        }
        self.write_legend(p)
    }

    /// One processor's row over `days`.
    fn row(&self, p: &mut Painter, label: &str, processor: usize, days: &[Date]) -> io::Result<()> {
        let glyphs: Vec<(Style, String)> = days
            .iter()
            .map(|&d| {
                let (g, s) = self.glyph(d, processor);
                (s, g.to_string())
            })
            .collect();
        let mut spans: Vec<(Style, &str)> = vec![(Style::new(), label)];
        spans.extend(glyphs.iter().map(|(s, t)| (*s, t.as_str())));
        p.line(&trim_end(&spans))
    }

    /// The legend: each state present, wrapped to the width.
    fn write_legend(&self, p: &mut Painter) -> io::Result<()> {
        let mut entries: Vec<(Style, String)> = self
            .present()
            .into_iter()
            .map(|c| (c.style(), format!("{} {}", c.glyph(), c.label())))
            .collect();
        entries.push((Style::new(), format!("(blank) {}", NOT_SEEN.1)));
        let mut line: Vec<(Style, String)> = vec![(Style::new().dimmed(), "legend:".into())];
        let mut used = "legend:".len();
        for (style, text) in entries {
            let w = crate::term::width(&text) + 2;
            if used + w > p.width && line.len() > 1 {
                let spans: Vec<(Style, &str)> =
                    line.iter().map(|(s, t)| (*s, t.as_str())).collect();
                p.line(&spans)?;
                line = vec![(Style::new(), "       ".into())];
                used = 7;
            }
            line.push((Style::new(), "  ".into()));
            line.push((style, text));
            used += w;
        }
        let spans: Vec<(Style, &str)> = line.iter().map(|(s, t)| (*s, t.as_str())).collect();
        p.line(&spans)
    }
}

/// Drops trailing blanks, so rows end at their last seen cell.
fn trim_end<'a>(spans: &[(Style, &'a str)]) -> Vec<(Style, &'a str)> {
    let keep = spans
        .iter()
        .rposition(|(_, t)| !t.trim().is_empty())
        .map_or(0, |i| i + 1);
    let mut out = spans[..keep].to_vec();
    if let Some((_, last)) = out.last_mut() {
        *last = last.trim_end();
    }
    out
}

/// Days since 1970-01-01 (proleptic Gregorian), for spans and positions.
pub fn day_number(d: Date) -> i64 {
    let (y, m, day) = (
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_count_days() {
        let d = |y, m, dd| Date::new(y, m, dd).unwrap();
        assert_eq!(day_number(d(1970, 1, 1)), 0);
        assert_eq!(day_number(d(2024, 3, 1)) - day_number(d(2024, 2, 28)), 2);
        assert_eq!(day_number(d(2023, 3, 1)) - day_number(d(2023, 2, 28)), 1);
        assert_eq!(day_number(d(2000, 1, 1)), 10_957);
    }

    #[test]
    fn every_state_has_its_own_glyph() {
        let mut glyphs: Vec<char> = Cell::all().map(Cell::glyph).collect();
        glyphs.push(NOT_SEEN.0);
        let n = glyphs.len();
        glyphs.sort_unstable();
        glyphs.dedup();
        assert_eq!(glyphs.len(), n);
    }
}
