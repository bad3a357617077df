//! What the terminal allows: whether stdout gets colour, how wide a line may be, and lines of
//! styled spans cut to that width. Only the summary and the calendar use it; files and the other
//! formats are never coloured or cut.

use std::io::{self, Write};

use anstyle::Style;
use unicode_width::UnicodeWidthChar;

/// The width used when stdout is not a terminal and `COLUMNS` is unset: fixed, so that piped
/// output (and the test suite's golden files) does not depend on the terminal it came from.
pub const DEFAULT_WIDTH: usize = 120;
/// Narrower than this, cutting would leave nothing readable: lines are cut at this width instead.
pub const MIN_WIDTH: usize = 40;

/// `--color`: when stdout gets ANSI colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorWhen {
    /// When stdout is a terminal that supports colour, unless `NO_COLOR` is set; `CLICOLOR_FORCE`
    /// forces colour (`NO_COLOR` wins over it).
    #[default]
    Auto,
    Always,
    Never,
}

/// Whether stdout gets colour under `when`. `Always` and `Never` beat the environment (a command
/// line flag overrides `NO_COLOR`, as no-color.org asks); `Auto` follows anstream's reading of
/// `NO_COLOR`, `CLICOLOR_FORCE`, `CLICOLOR`, `TERM` and whether stdout is a terminal.
pub fn stdout_color(when: ColorWhen) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            anstream::AutoStream::choice(&io::stdout()) != anstream::ColorChoice::Never
        }
    }
}

/// The width stdout's lines must fit: `COLUMNS` when set to a number, else the terminal's width,
/// else [`DEFAULT_WIDTH`]; never below [`MIN_WIDTH`].
pub fn stdout_width() -> usize {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    let terminal = || terminal_size::terminal_size_of(io::stdout()).map(|(w, _)| usize::from(w.0));
    columns
        .or_else(terminal)
        .unwrap_or(DEFAULT_WIDTH)
        .max(MIN_WIDTH)
}

/// Where styled lines go: colour on or off, and the width to cut them to.
pub struct Painter<'a> {
    pub out: &'a mut dyn Write,
    pub color: bool,
    pub width: usize,
}

impl Painter<'_> {
    /// Writes one line of spans, cut to the width with `…` (the last spans give way first, which
    /// is why error texts go last), styles only when colour is on.
    pub fn line(&mut self, spans: &[(Style, &str)]) -> io::Result<()> {
        let total: usize = spans.iter().map(|(_, t)| width(t)).sum();
        // A line too long keeps one column for the ellipsis.
        let mut room = if total > self.width {
            self.width.saturating_sub(1)
        } else {
            self.width
        };
        for (style, text) in spans {
            let (shown, cut) = fit(text, room);
            room -= width(&shown);
            let ellipsis = if cut { "…" } else { "" };
            if self.color && *style != Style::new() {
                write!(self.out, "{style}{shown}{ellipsis}{style:#}")?;
            } else {
                write!(self.out, "{shown}{ellipsis}")?;
            }
            if cut {
                // The spans after a cut one are dropped: the line ends here.
                break;
            }
        }
        writeln!(self.out)
    }

    /// An empty line.
    pub fn blank(&mut self) -> io::Result<()> {
        writeln!(self.out)
    }
}

/// The display width of `text` in terminal columns.
pub fn width(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// The longest head of `text` that fits in `room` columns, and whether that is not all of it.
pub fn fit(text: &str, room: usize) -> (String, bool) {
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            return (out, true);
        }
        used += w;
        out.push(c);
    }
    (out, false)
}

/// `text` padded with spaces to `columns` display columns.
pub fn pad(text: &str, columns: usize) -> String {
    let mut out = text.to_string();
    out.extend(std::iter::repeat_n(
        ' ',
        columns.saturating_sub(width(text)),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(spans: &[(Style, &str)], width: usize, color: bool) -> String {
        let mut buf = Vec::new();
        Painter {
            out: &mut buf,
            color,
            width,
        }
        .line(spans)
        .unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn lines_are_cut_to_the_width_with_an_ellipsis() {
        let plain = Style::new();
        assert_eq!(
            render(&[(plain, "abc"), (plain, "defgh")], 8, false),
            "abcdefgh\n"
        );
        assert_eq!(
            render(&[(plain, "abc"), (plain, "defghi")], 8, false),
            "abcdefg…\n"
        );
        // Wide characters count two columns.
        assert_eq!(render(&[(plain, "❌❌❌")], 4, false), "❌…\n");
        let red = Style::new().fg_color(Some(anstyle::AnsiColor::Red.into()));
        assert_eq!(render(&[(red, "abc")], 8, true), "\u{1b}[31mabc\u{1b}[0m\n");
        assert_eq!(render(&[(red, "abc")], 8, false), "abc\n");
    }
}
