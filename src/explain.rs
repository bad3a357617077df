//! `backfill-triage explain NAME`: the recovery procedure of a category or an action (the texts live
//! in the category table, [`crate::category`]), or what a rule looks for and where it is written.

use std::io::{self, Write};

use crate::category::{Action, Category};
use crate::classify::Classifier;
use crate::error::{Error, Result};
use crate::rules::Rule;

/// What a name given to `explain` is.
#[derive(Debug)]
pub enum Topic<'a> {
    Category(Category),
    Action(Action),
    Rule(&'a Rule),
}

/// Finds `name` among the categories, the actions and the rule ids (built-in and `--rules`).
pub fn lookup<'a>(name: &str, classifier: &'a Classifier) -> Result<Topic<'a>> {
    if let Ok(c) = name.parse::<Category>() {
        return Ok(Topic::Category(c));
    }
    if let Ok(a) = name.parse::<Action>() {
        return Ok(Topic::Action(a));
    }
    if let Some(r) = classifier.rules().iter().find(|r| r.id == name) {
        return Ok(Topic::Rule(r));
    }
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let actions: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
    Err(Error::Unknown(format!(
        "explain: '{}' is no category, action or rule id (categories: {}; actions: {}; \
         'backfill-triage rules' lists the rule ids)",
        name.escape_debug(),
        categories.join(", "),
        actions.join(", ")
    )))
}

pub fn write(out: &mut dyn Write, topic: &Topic) -> io::Result<()> {
    match topic {
        Topic::Category(c) => write_procedure(out, *c),
        Topic::Action(a) => {
            let c = category_of(*a);
            writeln!(
                out,
                "{a}: the recovery for category {c}{}\n",
                if *a == Action::Investigate {
                    ", and for rows escalated after repeated failures"
                } else {
                    ""
                }
            )?;
            write_procedure(out, c)
        }
        Topic::Rule(r) => write_rule(out, r),
    }
}

/// The category whose recovery an action is (every action belongs to exactly one).
fn category_of(action: Action) -> Category {
    Category::ALL
        .into_iter()
        .find(|c| c.action() == action)
        .unwrap_or(Category::Uncategorized)
}

fn write_procedure(out: &mut dyn Write, c: Category) -> io::Result<()> {
    let info = c.info();
    writeln!(out, "{}: {}", info.id, info.title)?;
    writeln!(
        out,
        "action: {}{}{}",
        info.action,
        if info.action.scriptable() {
            " (a script may run it unattended)"
        } else {
            " (needs a person first; -f commands writes these rows commented out)"
        },
        info.backoff_secs
            .map(|s| format!("; wait {s} s before each retry"))
            .unwrap_or_default()
    )?;
    writeln!(out, "advice: {}", info.advice)?;
    for (head, text) in [
        ("What it looks like", info.symptoms),
        ("What to check", info.check),
        ("What to run", info.run),
        ("How to verify", info.verify),
    ] {
        writeln!(out, "\n{head}")?;
        for line in text.lines() {
            if line.is_empty() {
                writeln!(out)?;
            } else {
                writeln!(out, "  {line}")?;
            }
        }
    }
    Ok(())
}

fn write_rule(out: &mut dyn Write, r: &Rule) -> io::Result<()> {
    writeln!(out, "rule {}  ({})", r.id, r.origin)?;
    writeln!(
        out,
        "category: {} (action {})",
        r.category,
        r.category.action()
    )?;
    if r.category == Category::Uncategorized {
        writeln!(
            out,
            "  a wrapper: it marks a line as a failure but loses to any line that says why"
        )?;
    }
    writeln!(out, "priority: {}", r.priority)?;
    if r.crash {
        writeln!(out, "crash: the line means the backfill script itself died")?;
    }
    if !r.literals.is_empty() {
        let quoted: Vec<String> = r.literals.iter().map(|l| format!("{l:?}")).collect();
        writeln!(
            out,
            "literals (any one, case-insensitive): {}",
            quoted.join(", ")
        )?;
    }
    if let Some(re) = &r.regex {
        writeln!(out, "regex (must match too): {re}")?;
    }
    for (head, lines) in [
        ("examples", &r.examples),
        ("counter-examples", &r.counter_examples),
    ] {
        if !lines.is_empty() {
            writeln!(out, "{head}:")?;
            for l in lines {
                writeln!(out, "  {l}")?;
            }
        }
    }
    writeln!(
        out,
        "recovery: backfill-triage explain {}",
        r.category.as_str()
    )
}
