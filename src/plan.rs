//! The retry plan: which retry rows a run keeps (the filters), which it escalates
//! (`--max-failures`), and how the rest become commands: range compaction, the order in which they
//! can succeed (gap dates before the dates they block, upstream before downstream), which may run
//! unattended and which wait for a person, and the command template they are written with.
//!
//! `scan` and `plan` build the plan the same way from a manifest, so a saved manifest plans like a
//! fresh scan. The writers in [`crate::output`] print it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use crate::category::{Action, Category};
use crate::date::Date;
use crate::error::{Error, Result};
use crate::manifest::{Manifest, Reason, Retry, Summary};
use crate::processors::RETRY_COMMAND;

/// The longest date range one command covers unless `--max-range` says otherwise.
pub const DEFAULT_MAX_RANGE: u32 = 31;

/// Which retry rows the outputs keep. An empty list keeps every value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub categories: Vec<Category>,
    pub actions: Vec<Action>,
    pub reasons: Vec<Reason>,
    pub processors: Vec<String>,
    pub dates: Option<DateBounds>,
}

/// `--dates A..B`: inclusive bounds, either of which may be open (`A..`, `..B`); `A` is one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateBounds {
    pub first: Option<Date>,
    pub last: Option<Date>,
}

impl DateBounds {
    pub fn parse(text: &str) -> std::result::Result<DateBounds, String> {
        let date = |s: &str| -> std::result::Result<Option<Date>, String> {
            if s.is_empty() {
                return Ok(None);
            }
            Date::parse(s.as_bytes())
                .map(Some)
                .ok_or_else(|| format!("'{}' is not a YYYY-MM-DD date", s.escape_debug()))
        };
        let (first, last) = match text.split_once("..") {
            Some((a, b)) => (date(a)?, date(b)?),
            None if !text.is_empty() => (date(text)?, date(text)?),
            None => return Err("expected A..B, A.., ..B or one date".to_string()),
        };
        if let (Some(a), Some(b)) = (first, last) {
            if a > b {
                return Err(format!("{a} is after {b}"));
            }
        }
        Ok(DateBounds { first, last })
    }

    pub fn contains(&self, d: Date) -> bool {
        self.first.is_none_or(|a| a <= d) && self.last.is_none_or(|b| d <= b)
    }
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }

    /// Whether the row passes every filter.
    pub fn keeps(&self, r: &Retry) -> bool {
        any_of(&self.categories, &r.category)
            && any_of(&self.actions, &r.action)
            && any_of(&self.reasons, &r.reason)
            && any_of(&self.processors, &r.processor)
            && self.dates.is_none_or(|b| b.contains(r.date))
    }

    /// Whether a classified log line passes (`-f events`): its category (and that category's
    /// action), its processor and any of its dates. Lines have no reason; `--reason` is refused
    /// with `-f events` before this is asked.
    pub fn keeps_line(
        &self,
        category: Option<Category>,
        processor: Option<&str>,
        dates: &[Date],
    ) -> bool {
        let category_ok =
            self.categories.is_empty() || category.is_some_and(|c| self.categories.contains(&c));
        let action_ok =
            self.actions.is_empty() || category.is_some_and(|c| self.actions.contains(&c.action()));
        let processor_ok = self.processors.is_empty()
            || processor.is_some_and(|p| self.processors.iter().any(|q| q == p));
        let dates_ok = self
            .dates
            .is_none_or(|b| dates.iter().any(|&d| b.contains(d)));
        category_ok && action_ok && processor_ok && dates_ok
    }

    /// Whether the rows a crashed run would have had for dates it never reached, had it said which
    /// (`not_started`, `script_infrastructure`, `rerun`, any processor, any date), pass.
    fn keeps_unknown_not_started(&self) -> bool {
        any_of(&self.reasons, &Reason::NotStarted)
            && any_of(&self.categories, &Category::CUT)
            && any_of(&self.actions, &Category::CUT.action())
    }

    /// `--processor` names must be processors the run knows: a typo would silently select nothing.
    pub fn check_processors<'a>(&self, known: impl IntoIterator<Item = &'a str>) -> Result<()> {
        let known: BTreeSet<&str> = known.into_iter().collect();
        match self.processors.iter().find(|p| !known.contains(p.as_str())) {
            Some(p) => Err(Error::Usage(format!(
                "--processor: '{}' is not a known processor (known: {})",
                p.escape_debug(),
                known.into_iter().collect::<Vec<_>>().join(", ")
            ))),
            None => Ok(()),
        }
    }
}

fn any_of<T: PartialEq>(list: &[T], value: &T) -> bool {
    list.is_empty() || list.contains(value)
}

/// What a placeholder of the command template stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Phase,
    Processor,
    Start,
    End,
    Category,
    Action,
}

const FIELDS: [(&str, Field); 6] = [
    ("phase", Field::Phase),
    ("processor", Field::Processor),
    ("start", Field::Start),
    ("end", Field::End),
    ("category", Field::Category),
    ("action", Field::Action),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Field),
}

/// A retry command with placeholders: `{phase}`, `{processor}`, `{start}`, `{end}`, `{category}`,
/// `{action}`. `${...}` is the shell's and left alone. The values put in are words and dates, so a
/// command never needs quoting to stay one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    text: String,
    parts: Vec<Part>,
}

impl Default for Template {
    /// The playbook's command, [`RETRY_COMMAND`].
    fn default() -> Template {
        Template::parse(RETRY_COMMAND).expect("the playbook's command is a valid template")
    }
}

impl Template {
    /// Checks a template: one line, not empty, every `{name}` a known placeholder.
    pub fn parse(text: &str) -> std::result::Result<Template, String> {
        if text.trim().is_empty() {
            return Err("the command template is empty".to_string());
        }
        if text.chars().any(char::is_control) {
            return Err(
                "the command template must be one line (no newlines, tabs or control characters)"
                    .to_string(),
            );
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let shell = rest[..open].ends_with('$');
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name_len = after
                .bytes()
                .take_while(|b| b.is_ascii_lowercase() || *b == b'_')
                .count();
            if shell || name_len == 0 || !after[name_len..].starts_with('}') {
                literal.push('{');
                rest = after;
                continue;
            }
            let name = &after[..name_len];
            let Some(&(_, field)) = FIELDS.iter().find(|(n, _)| *n == name) else {
                let known: Vec<String> = FIELDS.iter().map(|(n, _)| format!("{{{n}}}")).collect();
                return Err(format!(
                    "unknown placeholder {{{name}}} in the command template (known: {})",
                    known.join(" ")
                ));
            };
            if !literal.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut literal)));
            }
            parts.push(Part::Field(field));
            rest = &after[name_len + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template {
            text: text.to_string(),
            parts,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn render(&self, step: &Step) -> String {
        let mut out = String::with_capacity(self.text.len() + 40);
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Field(Field::Phase) => out.push_str(&step.phase),
                Part::Field(Field::Processor) => out.push_str(&step.processor),
                Part::Field(Field::Start) => out.push_str(&step.first.to_string()),
                Part::Field(Field::End) => out.push_str(&step.last.to_string()),
                Part::Field(Field::Category) => out.push_str(step.category.as_str()),
                Part::Field(Field::Action) => out.push_str(step.action.as_str()),
            }
        }
        out
    }
}

/// How retry rows become commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    pub command: Template,
    /// The longest range, in days, one command covers (at least 1).
    pub max_range: u32,
    /// A pair that failed this many times or more is escalated to `investigate`.
    pub max_failures: Option<u32>,
}

impl Default for PlanOptions {
    fn default() -> PlanOptions {
        PlanOptions {
            command: Template::default(),
            max_range: DEFAULT_MAX_RANGE,
            max_failures: None,
        }
    }
}

/// Whether a step runs when the script runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// Its action may run unattended (`rerun`, `rerun_with_backoff`, `fill_gaps_then_rerun`) and
    /// nothing it waits for is missing.
    #[default]
    Run,
    /// Its action needs a person first (upstream backfill, code fix, investigate).
    Manual,
    /// Blocked dates whose gap dates this plan does not fill unattended: the reason says which.
    Held(String),
}

impl Mode {
    /// The value of the `mode` column.
    pub fn as_str(&self) -> &'static str {
        match self {
            Mode::Run => "run",
            Mode::Manual => "manual",
            Mode::Held(_) => "held",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One command of the plan: a processor over consecutive dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1-based, in run order.
    pub number: usize,
    pub mode: Mode,
    pub processor: String,
    pub phase: String,
    pub category: Category,
    pub action: Action,
    pub first: Date,
    pub last: Date,
    pub command: String,
    /// Seconds to wait before the command (the category's backoff).
    pub backoff_secs: Option<u32>,
    /// The rows it covers: indices into the planned manifest's `retries`, in date order.
    pub rows: Vec<usize>,
}

/// The commands, in the order they run, for the manifest's rows.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Dates crashed runs never reached without saying which (their `not_started` count), when the
    /// filters would keep such rows: a retry loop is not done while this is non-zero, but only a
    /// re-run of the driver script can retry them.
    pub unknown_not_started: u64,
}

impl Plan {
    /// Whether anything is left to retry: a row, or dates a crashed run never reached.
    pub fn remains(&self) -> bool {
        !self.steps.is_empty() || self.unknown_not_started > 0
    }

    /// How many steps have each mode: (run, manual, held).
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |m: &str| self.steps.iter().filter(|s| s.mode.as_str() == m).count();
        (count("run"), count("manual"), count("held"))
    }
}

/// Escalates, filters and plans the manifest in place, and returns the commands.
///
/// 1. A row that failed `max_failures` times or more gets action `investigate`.
/// 2. Rows the filters do not keep leave `retries`; the summary's row counts follow.
/// 3. Each row gets a mode: `manual` when its action needs a person; `held` when it is blocked by
///    gap dates and some row of a gap date (any processor) is not in the plan or does not run.
/// 4. Rows of one processor, phase, category, action and mode merge into one command over
///    `first..=last` when every date between them is unknown to the manifest (a day without
///    games): never across a date that succeeded or that has a row of its own outside the command,
///    and never longer than `max_range` days. Categories with a backoff (resource exhaustion) are
///    never merged: one date per command, each after its pause.
/// 5. Commands run in waves: rows that block nothing first, then the rows blocked by them (a
///    blocked row's wave is one more than that of the rows on its gap dates); within a wave, in
///    processor order (`processors`, the run order: upstream first; others after, by name), then
///    by date.
/// 6. Every row's `command` is its step's command.
pub fn plan(
    manifest: &mut Manifest,
    filters: &Filters,
    options: &PlanOptions,
    processors: &[String],
) -> Plan {
    if let Some(n) = options.max_failures {
        for r in manifest.retries.iter_mut().filter(|r| r.failures >= n) {
            r.action = Action::Investigate;
        }
    }
    // What the manifest knows of each processor's dates, whatever the filters keep.
    let mut known: HashMap<String, BTreeSet<Date>> = HashMap::new();
    let mut by_date: BTreeMap<Date, Vec<(String, bool)>> = BTreeMap::new();
    for r in &manifest.retries {
        known.entry(r.processor.clone()).or_default().insert(r.date);
        by_date
            .entry(r.date)
            .or_default()
            .push((r.processor.clone(), filters.keeps(r)));
    }
    manifest.retries.retain(|r| filters.keeps(r));
    recount(&mut manifest.summary, &manifest.retries);

    // Modes and waves, in date order: gap dates come before the dates they block.
    let rows = &manifest.retries;
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| rows[i].date);
    let index: HashMap<(Date, &str), usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| ((r.date, r.processor.as_str()), i))
        .collect();
    let mut modes: Vec<Option<Mode>> = vec![None; rows.len()];
    let mut waves: Vec<u32> = vec![0; rows.len()];
    for &i in &order {
        let r = &rows[i];
        let mut wave = 0;
        let mut held: Option<String> = None;
        for &gap in &r.blocked_by {
            for (p, kept) in by_date.get(&gap).map(Vec::as_slice).unwrap_or_default() {
                let why = if gap >= r.date {
                    Some(format!("gap {gap} is not before {}", r.date))
                } else if !kept {
                    Some(format!("gap {gap} {p} is not in this plan (filters)"))
                } else {
                    let j = index[&(gap, p.as_str())];
                    wave = wave.max(waves[j] + 1);
                    match &modes[j] {
                        Some(Mode::Run) => None,
                        Some(Mode::Manual) => {
                            Some(format!("gap {gap} {p} needs {} first", rows[j].action))
                        }
                        Some(Mode::Held(_)) => Some(format!("gap {gap} {p} is held")),
                        None => Some(format!("gap {gap} {p} is not planned before it")),
                    }
                };
                if held.is_none() {
                    held = why;
                }
            }
        }
        waves[i] = wave;
        modes[i] = Some(if !r.action.scriptable() {
            Mode::Manual
        } else if let Some(why) = held {
            Mode::Held(why)
        } else {
            Mode::Run
        });
    }
    let modes: Vec<Mode> = modes.into_iter().map(Option::unwrap_or_default).collect();

    // Compaction, per group, in date order.
    type Key = (u32, String, String, Category, Action, Mode);
    let mut groups: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    for &i in &order {
        let r = &rows[i];
        groups
            .entry((
                waves[i],
                r.processor.clone(),
                r.phase.clone(),
                r.category,
                r.action,
                modes[i].clone(),
            ))
            .or_default()
            .push(i);
    }
    let succeeded = |p: &str, a: Date, b: Date| {
        manifest
            .succeeded
            .get(p)
            .is_some_and(|runs| runs.iter().any(|run| run.first < b && a < run.last))
    };
    let mut steps: Vec<(u32, Step)> = Vec::new();
    for ((wave, processor, phase, category, action, mode), members) in groups {
        let backoff_secs = category.info().backoff_secs;
        let dates = known.get(&processor);
        let mut current: Option<Step> = None;
        for i in members {
            let d = rows[i].date;
            let joins = current.as_ref().is_some_and(|s| {
                backoff_secs.is_none()
                    && s.first.days_until(d) < i64::from(options.max_range.max(1))
                    && !succeeded(&processor, s.last, d)
                    && dates.is_none_or(|k| k.range(s.last..d).nth(1).is_none())
            });
            match &mut current {
                Some(s) if joins => {
                    s.last = d;
                    s.rows.push(i);
                }
                _ => {
                    if let Some(s) = current.take() {
                        steps.push((wave, s));
                    }
                    current = Some(Step {
                        number: 0,
                        mode: mode.clone(),
                        processor: processor.clone(),
                        phase: phase.clone(),
                        category,
                        action,
                        first: d,
                        last: d,
                        command: String::new(),
                        backoff_secs,
                        rows: vec![i],
                    });
                }
            }
        }
        steps.extend(current.map(|s| (wave, s)));
    }
    let rank = |p: &str| {
        processors
            .iter()
            .position(|q| q == p)
            .unwrap_or(processors.len())
    };
    steps.sort_by(|(wa, a), (wb, b)| {
        (wa, rank(&a.processor), &a.processor, a.first, &a.phase)
            .cmp(&(wb, rank(&b.processor), &b.processor, b.first, &b.phase))
            .then_with(|| (a.category, a.action, &a.mode).cmp(&(b.category, b.action, &b.mode)))
    });
    let mut steps: Vec<Step> = steps.into_iter().map(|(_, s)| s).collect();
    for (n, step) in steps.iter_mut().enumerate() {
        step.number = n + 1;
        step.command = options.command.render(step);
        for &i in &step.rows {
            manifest.retries[i].command = step.command.clone();
        }
    }
    let unknown_not_started = if filters.keeps_unknown_not_started() {
        manifest
            .runs
            .iter()
            .filter(|r| r.crashed && r.planned.is_none())
            .map(|r| u64::from(r.not_started))
            .sum()
    } else {
        0
    };
    Plan {
        steps,
        unknown_not_started,
    }
}

/// The summary's row counts, counted again from the rows the filters kept.
fn recount(summary: &mut Summary, rows: &[Retry]) {
    summary.retries = rows.len() as u64;
    summary.gaps = rows.iter().filter(|r| r.reason == Reason::Gap).count() as u64;
    summary.silent = rows.iter().filter(|r| r.silent).count() as u64;
    summary.by_category = Category::ALL.iter().map(|&c| (c, 0)).collect();
    summary.by_processor.clear();
    for r in rows {
        *summary.by_category.entry(r.category).or_default() += 1;
        *summary.by_processor.entry(r.processor.clone()).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_know_their_placeholders() {
        let t = Template::parse("run {phase}/{processor} {start}..{end} # {category} {action}")
            .unwrap();
        assert_eq!(t.parts.len(), 12);
        assert_eq!(Template::default().as_str(), RETRY_COMMAND);
        let err = Template::parse("run {proc}").unwrap_err();
        assert!(err.contains("unknown placeholder {proc}"), "{err}");
        assert!(Template::parse("a\nb").is_err());
        assert!(Template::parse("  ").is_err());
        // The shell's own braces stay the shell's.
        let t = Template::parse("${HOME}/run ${p} {x y} {} {processor}").unwrap();
        assert_eq!(
            t.parts,
            vec![
                Part::Text("${HOME}/run ${p} {x y} {} ".to_string()),
                Part::Field(Field::Processor)
            ]
        );
    }

    #[test]
    fn date_bounds() {
        let d = |s: &str| Date::parse(s.as_bytes());
        let b = DateBounds::parse("2024-01-02..2024-01-05").unwrap();
        assert!(b.contains(d("2024-01-02").unwrap()) && b.contains(d("2024-01-05").unwrap()));
        assert!(!b.contains(d("2024-01-06").unwrap()));
        let one = DateBounds::parse("2024-01-02").unwrap();
        assert_eq!((one.first, one.last), (d("2024-01-02"), d("2024-01-02")));
        assert_eq!(DateBounds::parse("..2024-01-02").unwrap().first, None);
        assert_eq!(DateBounds::parse("2024-01-02..").unwrap().last, None);
        assert!(DateBounds::parse("2024-01-05..2024-01-02").is_err());
        assert!(DateBounds::parse("2024-02-30").is_err());
        assert!(DateBounds::parse("").is_err());
    }
}
