//! The fold's counts that are not pair states: failure lines, the most frequent error templates,
//! and the failures no pair owns (unattributed), each bounded so a log of millions of stray
//! failures cannot exhaust memory.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::classify::Text;
use crate::manifest::Unattributed;
use crate::rules::RuleId;
use crate::templates::{FoldHasher, Templates};

use super::{At, Cause, TopError};

/// Distinct unattributed failures kept; past it they are counted, not listed.
pub const MAX_UNATTRIBUTED: usize = 10_000;
/// Error templates counted for the top list: with one example each, about 1 KiB apiece.
const MAX_TOP_TEMPLATES: usize = 2_000;
/// Templates listed in the top list.
const TOP: usize = 10;

pub struct Tallies {
    pub failure_lines: u64,
    top: Templates,
    pub unattributed: Vec<Unattributed>,
    /// An index, never iterated: the fast hash costs a fraction of SipHash on every stray failure
    /// of a log made of them.
    unattributed_index: HashMap<(Option<RuleId>, Text), usize, BuildHasherDefault<FoldHasher>>,
    pub unattributed_count: u64,
}

impl Default for Tallies {
    fn default() -> Tallies {
        Tallies {
            failure_lines: 0,
            top: Templates::new(MAX_TOP_TEMPLATES, 1),
            unattributed: Vec::new(),
            unattributed_index: HashMap::default(),
            unattributed_count: 0,
        }
    }
}

impl Tallies {
    /// Counts one failure line. Lines that can decide a category count towards the top templates;
    /// wrappers (`Processing failed for D`, `exit code 1`) and status lines no rule names
    /// (`[p] ❌ Failed`) say that something failed, not why, and do not.
    /// `key` is the line's template key, when the classifier made one.
    pub fn failure_line(&mut self, cause: &Cause, status: bool, key: &str) {
        self.failure_lines += 1;
        if cause.wrapper || (status && cause.rule.is_none()) {
            return;
        }
        self.top
            .add_event(cause.category, key, &cause.text, cause.at);
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
            error: key.1.to_string(),
            repeats: 0,
        });
    }

    /// The most frequent templates, most frequent first (ties by first appearance), with the
    /// file and line each was first seen at.
    pub fn top(&self, files: &[String]) -> Vec<TopError> {
        self.top
            .sorted()
            .into_iter()
            .take(TOP)
            .map(|t| {
                let first = t.first();
                TopError {
                    template: t.text(),
                    count: t.count,
                    category: t.category,
                    file: files.get(first.file as usize).cloned().unwrap_or_default(),
                    line: first.line,
                    example: t
                        .examples
                        .first()
                        .map(|e| e.text.clone())
                        .unwrap_or_default(),
                }
            })
            .collect()
    }
}
