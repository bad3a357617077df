//! Rule files: the TOML rule format of `patterns/*.toml`, the built-in rule set compiled into the
//! binary, and the layering of `--rules` files over it.

use serde::Deserialize;

pub use crate::category::Category;
use crate::error::{Error, Result};

/// A rule, as its index in the rule list the classifier was built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId(u16);

impl RuleId {
    /// Rule ids are 16-bit, so events stay small.
    pub const MAX: usize = u16::MAX as usize + 1;

    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// Every id of a list of `count` rules (at most [`RuleId::MAX`]), in order.
    pub fn all(count: usize) -> impl Iterator<Item = RuleId> {
        (0..count.min(RuleId::MAX)).map(|i| RuleId(i as u16))
    }
}

/// One rule: what to look for on a line, and what category a failure that matches it belongs to.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub category: Category,
    /// Higher wins when several rules match one line: the most specific message decides.
    pub priority: u8,
    /// Case-insensitive ASCII substrings; any one suffices. They also serve as the prefilter that
    /// finds candidate lines, so a rule with literals costs nothing on lines without them.
    pub literals: Vec<String>,
    /// When set, it must match too (after a literal, if any).
    pub regex: Option<String>,
    /// The line means the backfill script itself died: the run ends as crashed.
    pub crash: bool,
    pub examples: Vec<String>,
    pub counter_examples: Vec<String>,
    /// `file:line` of the rule's table, for error messages and `rules` listings.
    pub origin: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<toml::Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    category: String,
    #[serde(default = "default_priority")]
    priority: i64,
    #[serde(default)]
    literals: Vec<String>,
    regex: Option<String>,
    #[serde(default)]
    crash: bool,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    counter_examples: Vec<String>,
}

fn default_priority() -> i64 {
    50
}

/// The built-in rule files, compiled in so the binary works with nothing beside it.
const BUILTIN: [(&str, &str); 6] = [
    (
        "patterns/script_infrastructure.toml",
        include_str!("../patterns/script_infrastructure.toml"),
    ),
    (
        "patterns/data_availability.toml",
        include_str!("../patterns/data_availability.toml"),
    ),
    (
        "patterns/processing_error.toml",
        include_str!("../patterns/processing_error.toml"),
    ),
    (
        "patterns/resource_exhaustion.toml",
        include_str!("../patterns/resource_exhaustion.toml"),
    ),
    (
        "patterns/defensive_check.toml",
        include_str!("../patterns/defensive_check.toml"),
    ),
    (
        "patterns/wrappers.toml",
        include_str!("../patterns/wrappers.toml"),
    ),
];

/// Parses the built-in rules. They are tested, so failure here is a build defect.
pub fn builtin() -> Vec<Rule> {
    let mut rules = Vec::new();
    for (file, text) in BUILTIN {
        let parsed =
            parse(text, file).unwrap_or_else(|e| panic!("built-in rules are invalid: {e}"));
        layer(&mut rules, parsed);
    }
    rules
}

/// Adds `over` to `base`: a rule whose id is already there replaces it in place (so a user can
/// retune a built-in rule), new ids are appended.
pub fn layer(base: &mut Vec<Rule>, over: Vec<Rule>) {
    for rule in over {
        match base.iter_mut().find(|r| r.id == rule.id) {
            Some(slot) => *slot = rule,
            None => base.push(rule),
        }
    }
}

/// Parses and validates one rule file. Every error names the file, the line and, once the rule is
/// known, its id.
pub fn parse(text: &str, file: &str) -> Result<Vec<Rule>> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let parsed: RuleFile = toml::from_str(text).map_err(|e| Error::Rule {
        file: file.to_string(),
        line: e.span().map_or(1, |s| line_of(s.start)),
        rule: None,
        message: e.message().trim().replace('\n', "; "),
    })?;
    let mut rules: Vec<Rule> = Vec::with_capacity(parsed.rule.len());
    for spanned in parsed.rule {
        let line = line_of(spanned.span().start);
        let raw = spanned.into_inner();
        let fail = |message: String| Error::Rule {
            file: file.to_string(),
            line,
            rule: Some(raw.id.clone()),
            message,
        };
        if raw.id.trim().is_empty() {
            return Err(fail("empty id".into()));
        }
        if rules.iter().any(|r| r.id == raw.id) {
            return Err(fail("duplicate id".into()));
        }
        let category = raw.category.parse::<Category>().map_err(&fail)?;
        let priority = u8::try_from(raw.priority)
            .ok()
            .filter(|p| *p <= 100)
            .ok_or_else(|| fail(format!("priority {} is not in 0..=100", raw.priority)))?;
        if raw.literals.is_empty() && raw.regex.is_none() {
            return Err(fail("needs literals or a regex".into()));
        }
        if let Some(l) = raw.literals.iter().find(|l| l.trim().is_empty()) {
            return Err(fail(format!("empty literal {l:?}")));
        }
        // The syntax only: the classifier compiles the regex, and names this rule's line if it
        // is too big. Compiling it here too took a quarter of the start-up.
        if let Some(re) = &raw.regex {
            regex_syntax::ParserBuilder::new()
                .utf8(false)
                .build()
                .parse(re)
                .map_err(|e| fail(format!("bad regex: {}", e.to_string().replace('\n', " "))))?;
        }
        rules.push(Rule {
            id: raw.id,
            category,
            priority,
            literals: raw.literals,
            regex: raw.regex,
            crash: raw.crash,
            examples: raw.examples,
            counter_examples: raw.counter_examples,
            origin: format!("{file}:{line}"),
        });
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, "r.toml").unwrap_err().to_string()
    }

    #[test]
    fn errors_name_file_line_and_rule() {
        assert_eq!(
            err("[[rule]]\nid = \"a\"\ncategory = \"x\"\nliterals = [\"y\"]\n"),
            "r.toml:1: rule 'a': unknown category 'x' (known: script_infrastructure, data_availability, \
             processing_error, resource_exhaustion, defensive_check, uncategorized)"
        );
        let bad_re = err("[[rule]]\nid = \"a\"\ncategory = \"uncategorized\"\nliterals = [\"y\"]\n\n[[rule]]\nid = \"b\"\ncategory = \"uncategorized\"\nregex = \"(\"\n");
        assert!(
            bad_re.starts_with("r.toml:6: rule 'b': bad regex:"),
            "{bad_re}"
        );
        assert!(
            err("[[rule]]\nid = \"a\"\ncategory = \n").starts_with("r.toml:3: "),
            "{}",
            err("[[rule]]\nid = \"a\"\ncategory = \n")
        );
        assert!(err("[[rule]]\nid = \"a\"\ncategory = \"uncategorized\"\n")
            .contains("needs literals or a regex"));
        assert!(
            err("[[rule]]\nid = \"a\"\ncategory = \"uncategorized\"\nliteral = [\"x\"]\n")
                .contains("unknown field")
        );
    }

    #[test]
    fn layering_replaces_by_id() {
        let mut base = parse(
            "[[rule]]\nid = \"a\"\ncategory = \"uncategorized\"\nliterals = [\"x\"]\n",
            "b",
        )
        .unwrap();
        let over = parse(
            "[[rule]]\nid = \"a\"\ncategory = \"processing_error\"\nliterals = [\"x\"]\n[[rule]]\nid = \"c\"\ncategory = \"uncategorized\"\nliterals = [\"z\"]\n",
            "o",
        )
        .unwrap();
        layer(&mut base, over);
        assert_eq!(base.len(), 2);
        assert_eq!(base[0].category, Category::ProcessingError);
    }
}
