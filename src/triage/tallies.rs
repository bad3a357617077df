//! The fold's counts that are not pair states: failure lines, the most frequent failure messages,
//! and the failures no pair owns (unattributed), each bounded so a log of millions of stray
//! failures cannot exhaust memory.

use std::collections::HashMap;

use crate::category::Category;
use crate::manifest::Unattributed;
use crate::rules::RuleId;

use super::{At, Cause};

/// Distinct unattributed failures kept; past it they are counted, not listed.
pub const MAX_UNATTRIBUTED: usize = 10_000;
/// Distinct error messages counted for the summary's top list.
const MAX_TOP_KEYS: usize = 10_000;
/// Messages listed in the summary's top list.
const TOP: usize = 10;

#[derive(Default)]
pub struct Tallies {
    pub failure_lines: u64,
    top: HashMap<String, u64>,
    pub unattributed: Vec<Unattributed>,
    unattributed_index: HashMap<(Option<RuleId>, String), usize>,
    pub unattributed_count: u64,
}

impl Tallies {
    /// Counts one failure line; `cause` lines (not wrappers) also count towards the top list.
    pub fn failure_line(&mut self, text: &str, cause: bool) {
        self.failure_lines += 1;
        if !cause {
            return;
        }
        let key = fold_digits(text);
        if let Some(n) = self.top.get_mut(&key) {
            *n += 1;
        } else if self.top.len() < MAX_TOP_KEYS {
            self.top.insert(key, 1);
        }
    }

    /// Keeps a failure that no pair owns; identical ones (same rule and text) are one entry.
    pub fn unattributed(&mut self, cause: Cause, file: &str, rule_id: Option<&str>) {
        self.unattributed_count += 1;
        let key = (cause.rule, cause.text);
        if let Some(&i) = self.unattributed_index.get(&key) {
            self.unattributed[i].repeats += 1;
            return;
        }
        if self.unattributed.len() >= MAX_UNATTRIBUTED {
            return;
        }
        self.unattributed_index
            .insert(key.clone(), self.unattributed.len());
        let At { line, .. } = cause.at;
        self.unattributed.push(Unattributed {
            file: file.to_string(),
            line,
            category: cause.category,
            rule: rule_id.map(str::to_string),
            error: key.1,
            repeats: 0,
        });
    }

    /// The most frequent messages, most frequent first (ties by text, so the order is stable).
    pub fn top(&self) -> Vec<(String, u64)> {
        let mut top: Vec<(String, u64)> = self.top.iter().map(|(k, n)| (k.clone(), *n)).collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(TOP);
        top
    }
}

/// Whether a failure's category came from a rule that names a cause: what the top list counts.
pub fn names_a_cause(category: Category, wrapper: bool) -> bool {
    category != Category::Uncategorized || !wrapper
}

/// Groups messages that differ only in numbers (timestamps, ids, dates) for the top-errors list.
fn fold_digits(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // The line's own timestamp says nothing about the message: drop it.
    let text = match text.find(|c: char| !(c.is_ascii_digit() || "-:,. []".contains(c))) {
        Some(i) if i > 0 && text.as_bytes()[0].is_ascii_digit() => &text[i..],
        _ => text,
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else {
            out.push(c);
        }
    }
    out
}
