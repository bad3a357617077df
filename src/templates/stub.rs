//! Rule stubs: a template as a `[[rule]]` table to edit and layer with `--rules`. Its literal is the
//! template's longest constant run (what the aho-corasick prefilter needs), its regex the whole
//! template with the masked parts as wildcards, its examples the template's real lines; only the
//! category is left to a person. A stub passes `rules --check` once its category is set: both the
//! literal and the regex are checked against every example here before they are written.

use std::collections::HashSet;
use std::fmt::Write as _;

use regex::RegexBuilder;

use crate::category::Category;
use crate::classify::Classifier;
use crate::rules::Rule;

use super::{Piece, Template, Var};

/// The placeholder category: not a category, so `rules --check` refuses the stub until a person
/// chooses one.
pub const CHOOSE: &str = "CHOOSE";
/// The priority of a stub, unless a rule already names its lines (`--all`) and must be outranked.
pub const PRIORITY: u8 = 50;

/// A rule made from a template.
#[derive(Debug, Clone)]
pub struct Stub {
    pub id: String,
    /// Set when the template's lines already have a category a rule gave them (`--all`).
    pub category: Option<Category>,
    pub priority: u8,
    pub literal: String,
    pub regex: Option<String>,
    pub examples: Vec<String>,
    /// What the reader should know: why the priority is raised, what `rules --check` would say.
    pub notes: Vec<String>,
}

/// Makes a stub for `template`, or `None` when it has no constant text to find its lines by.
/// `taken` holds the rule ids in use (built-in, `--rules`, earlier stubs); the new id is added.
pub fn make(
    template: &Template,
    classifier: &Classifier,
    taken: &mut HashSet<String>,
) -> Option<Stub> {
    let mut examples: Vec<String> = Vec::new();
    for e in &template.examples {
        if !examples.contains(&e.text) {
            examples.push(e.text.clone());
        }
    }
    let literal = literal(template, &examples)?;
    let regex = regex(template, &examples).filter(|r| *r != literal_regex(&literal));
    let mut notes = Vec::new();
    // With --all the lines may be named by a rule already: the stub must outrank it to win them.
    let named_by: Vec<&Rule> = examples
        .iter()
        .filter_map(|e| {
            classifier
                .classify(e.as_bytes(), true)
                .and_then(|ev| ev.rule)
        })
        .map(|r| classifier.rule(r))
        .collect();
    let mut priority = PRIORITY;
    if let Some(top) = named_by.iter().max_by_key(|r| r.priority) {
        if top.priority >= PRIORITY {
            priority = top.priority.saturating_add(1).min(100);
            notes.push(format!(
                "priority above rule '{}' ({}), which names these lines today",
                top.id, top.origin
            ));
        }
    }
    let category = Some(template.category).filter(|c| *c != Category::Uncategorized);
    let id = unique_id(&slug(template), taken);
    Some(Stub {
        id,
        category,
        priority,
        literal,
        regex,
        examples,
        notes,
    })
}

/// Checks the stubs as `rules --check` would, with their category set (any real category: the
/// check does not depend on which), layered over `rules`; adds a note to each stub that would fail.
pub fn check(stubs: &mut [Stub], rules: &[Rule], processors: &[String]) {
    let mut all = rules.to_vec();
    for s in stubs.iter() {
        all.push(s.as_rule(s.category.unwrap_or(Category::ProcessingError)));
    }
    let Ok(classifier) = Classifier::new(all, processors) else {
        return;
    };
    for problem in crate::check_rules(&classifier) {
        if let Some(s) = stubs
            .iter_mut()
            .find(|s| problem.starts_with(&format!("{} (", s.id)))
        {
            s.notes.push(format!("rules --check would say: {problem}"));
        }
    }
}

impl Stub {
    fn as_rule(&self, category: Category) -> Rule {
        Rule {
            id: self.id.clone(),
            category,
            priority: self.priority,
            literals: vec![self.literal.clone()],
            regex: self.regex.clone(),
            crash: false,
            examples: self.examples.clone(),
            counter_examples: Vec::new(),
            origin: "stub".to_string(),
        }
    }

    /// The stub as a TOML `[[rule]]` table, with a comment on what it was made from.
    pub fn write_toml(&self, out: &mut String, template: &Template, first: &str) {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let _ = writeln!(out, "# {} line(s) like: {template}", template.count);
        let _ = writeln!(out, "# first seen at {first}");
        for note in &self.notes {
            let _ = writeln!(out, "# note: {note}");
        }
        let _ = writeln!(out, "[[rule]]");
        let _ = writeln!(out, "id = {}", q(&self.id));
        match self.category {
            Some(c) => {
                let _ = writeln!(out, "category = {}", q(c.as_str()));
            }
            None => {
                let _ = writeln!(
                    out,
                    "# choose: script_infrastructure, data_availability, processing_error, resource_exhaustion,\n\
                     # defensive_check ('backfill-triage explain CATEGORY' says what each means)"
                );
                let _ = writeln!(out, "category = {}", q(CHOOSE));
            }
        }
        let _ = writeln!(out, "priority = {}", self.priority);
        let _ = writeln!(out, "literals = [{}]", q(&self.literal));
        if let Some(re) = &self.regex {
            let _ = writeln!(out, "regex = {}", q(re));
        }
        let _ = writeln!(out, "examples = [");
        for e in &self.examples {
            let _ = writeln!(out, "  {},", q(e));
        }
        let _ = writeln!(out, "]");
    }
}

/// The template's runs of constant text, tokens joined by one space, each with its score (its
/// alphanumeric characters: `- ERROR -` is worth nothing).
fn constant_runs(template: &Template) -> Vec<String> {
    let mut runs = Vec::new();
    let mut run = String::new();
    for token in &template.tokens {
        let starts_const = matches!(token.first(), Some(Piece::Const(_)));
        if starts_const && !run.is_empty() {
            run.push(' ');
        }
        for piece in token {
            match piece {
                Piece::Const(s) => run.push_str(s),
                Piece::Var(_) => runs.push(std::mem::take(&mut run)),
            }
        }
    }
    runs.push(run);
    runs.into_iter()
        .map(|r| r.trim().to_string())
        .filter(|r| r.bytes().filter(u8::is_ascii_alphabetic).count() >= 3)
        .collect()
}

fn score(s: &str) -> usize {
    s.bytes().filter(u8::is_ascii_alphanumeric).count()
}

/// The best constant run found in every example (ASCII case folded, as the automaton matches),
/// else the best single word of one.
fn literal(template: &Template, examples: &[String]) -> Option<String> {
    let lower: Vec<String> = examples.iter().map(|e| e.to_ascii_lowercase()).collect();
    let in_all = |s: &str| {
        let s = s.to_ascii_lowercase();
        lower.iter().all(|e| e.contains(&s))
    };
    let runs = constant_runs(template);
    let words = runs
        .iter()
        .flat_map(|r| r.split_whitespace().map(str::to_string))
        .filter(|w| w.bytes().filter(u8::is_ascii_alphabetic).count() >= 3)
        .collect::<Vec<_>>();
    let best = |candidates: &[String]| {
        candidates
            .iter()
            .filter(|c| in_all(c))
            .max_by_key(|c| score(c))
            .cloned()
    };
    best(&runs).or_else(|| best(&words))
}

/// The template as a regex: constant parts escaped, masked parts as wildcards, tokens separated by
/// whitespace; leading and trailing tokens that are wholly masked are left out. Only kept when it
/// compiles as the classifier compiles rule regexes and matches every example.
fn regex(template: &Template, examples: &[String]) -> Option<String> {
    let masked = |t: &Vec<Piece>| t.iter().all(|p| matches!(p, Piece::Var(_)));
    let first = template.tokens.iter().position(|t| !masked(t))?;
    let last = template.tokens.iter().rposition(|t| !masked(t))?;
    let mut re = String::from("(?i)");
    for (i, token) in template.tokens[first..=last].iter().enumerate() {
        if i > 0 {
            re.push_str(r"\s+");
        }
        for piece in token {
            match piece {
                Piece::Const(s) => re.push_str(&regex::escape(s)),
                Piece::Var(Var::Str | Var::Any) => re.push_str(".+?"),
                Piece::Var(_) => re.push_str(r"\S+?"),
            }
        }
    }
    let compiled = RegexBuilder::new(&re)
        .unicode(false)
        .build()
        .or_else(|_| RegexBuilder::new(&re).build())
        .ok()?;
    examples.iter().all(|e| compiled.is_match(e)).then_some(re)
}

/// The regex a literal alone would give: a stub whose regex says no more than its literal has none.
fn literal_regex(literal: &str) -> String {
    let mut re = String::from("(?i)");
    for (i, word) in literal.split(' ').enumerate() {
        if i > 0 {
            re.push_str(r"\s+");
        }
        re.push_str(&regex::escape(word));
    }
    re
}

/// An id from the template's first constant words: `error-building-context`.
fn slug(template: &Template) -> String {
    let mut words: Vec<String> = Vec::new();
    for token in &template.tokens {
        for piece in token {
            if let Piece::Const(s) = piece {
                for w in s.split(|c: char| !c.is_ascii_alphanumeric()) {
                    if w.bytes().any(|b| b.is_ascii_alphabetic()) && words.len() < 5 {
                        words.push(w.to_ascii_lowercase());
                    }
                }
            }
        }
    }
    let mut id = words.join("-");
    id.truncate(48);
    let id = id.trim_end_matches('-').to_string();
    if id.is_empty() {
        "template".to_string()
    } else {
        id
    }
}

fn unique_id(base: &str, taken: &mut HashSet<String>) -> String {
    let mut id = base.to_string();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(id.clone());
    id
}
