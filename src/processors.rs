//! The processors and how the platform writes them: the playbook's five Phase 3 processors, the
//! spellings a log uses for one (`p`, `[p]`, `analytics/p`, `analytics.p`, `PProcessor`), the
//! phase a command names, and the playbook's retry command. The log generator writes logs with
//! these same forms.

use aho_corasick::{AhoCorasick, MatchKind};

use crate::error::{Error, Result};

/// The playbook's five Phase 3 processors, in the order the backfill runs them.
pub const DEFAULT_PROCESSORS: [&str; 5] = [
    "player_game_summary",
    "team_defense_game_summary",
    "team_offense_game_summary",
    "upcoming_player_game_context",
    "upcoming_team_game_context",
];

/// The phase of a pair whose log never names one: the playbook's processors are Phase 3 analytics.
pub const DEFAULT_PHASE: &str = "analytics";

/// The playbook's retry command, as a template (`{phase}`, `{processor}`, `{start}`, `{end}`).
pub const RETRY_COMMAND: &str = "./bin/run_backfill.sh {phase}/{processor} --start-date={start} --end-date={end} --skip-downstream-trigger=true";

/// Processors are tracked per date in 64-bit sets, so there can be at most 64 of them.
pub const MAX_PROCESSORS: usize = 64;

/// A processor, as its index in the configured list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcessorId(u8);

impl ProcessorId {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The bit of this processor in a per-date set.
    pub fn bit(self) -> u64 {
        1 << self.0
    }

    /// Every id of a list of `count` processors, in order.
    pub fn all(count: usize) -> impl Iterator<Item = ProcessorId> {
        (0..count.min(MAX_PROCESSORS) as u8).map(ProcessorId)
    }
}

/// `player_game_summary` -> `PlayerGameSummaryProcessor`.
pub fn class_name(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len() + 9);
    for part in snake.split(['_', '-']).filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out.push_str("Processor");
    out
}

/// Finds the known processors in a line in every spelling the platform logs them.
#[derive(Debug, Clone)]
pub struct ProcessorNames {
    names: Vec<String>,
    classes: Vec<String>,
    automaton: AhoCorasick,
}

impl ProcessorNames {
    /// Checks the list: 1 to [`MAX_PROCESSORS`] distinct names of letters, digits and `_`.
    pub fn new(names: &[String]) -> Result<ProcessorNames> {
        if names.is_empty() || names.len() > MAX_PROCESSORS {
            return Err(Error::Processors(format!(
                "expected 1 to {MAX_PROCESSORS} names, got {}",
                names.len()
            )));
        }
        if let Some(bad) = names
            .iter()
            .find(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err(Error::Processors(format!(
                "'{bad}' is not a processor name (letters, digits, '_')"
            )));
        }
        if let Some((i, dup)) = names
            .iter()
            .enumerate()
            .find(|(i, n)| names[..*i].contains(n))
        {
            return Err(Error::Processors(format!(
                "'{dup}' is listed twice (position {})",
                i + 1
            )));
        }
        let classes: Vec<String> = names.iter().map(|n| class_name(n)).collect();
        // Pattern 2i is processor i's snake name, 2i+1 its class name.
        let patterns = names.iter().zip(&classes).flat_map(|(n, c)| [n, c]);
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns)
            .map_err(|e| Error::Processors(e.to_string()))?;
        Ok(ProcessorNames {
            names: names.to_vec(),
            classes,
            automaton,
        })
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn name(&self, id: ProcessorId) -> &str {
        &self.names[id.index()]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The first processor named on the line, and where its name ends.
    pub fn find(&self, line: &[u8]) -> Option<(ProcessorId, usize)> {
        self.automaton
            .find_iter(line)
            .find(|m| {
                let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
                let before_ok = m.start() == 0 || !word(line[m.start() - 1]);
                // Class names may run on (`PlayerGameSummaryProcessor.run`), snake names may not
                // (`player_game_summary_processor.py` is a file, not the processor).
                let snake = m.pattern().as_usize() % 2 == 0;
                let after_ok = !snake || line.get(m.end()).is_none_or(|&b| !word(b));
                before_ok && after_ok
            })
            .map(|m| (ProcessorId((m.pattern().as_usize() / 2) as u8), m.end()))
    }

    /// A GNU `parallel --tag` prefix naming a processor (`player_game_summary<TAB>...`, or
    /// `analytics/p<TAB>2023-11-15<TAB>...` with several arguments): the processor, and where the
    /// tagged line itself starts.
    pub fn tag(&self, line: &[u8]) -> Option<(ProcessorId, usize)> {
        let mut found = None;
        let mut at = 0;
        for _ in 0..3 {
            let Some(field_len) = memchr::memchr(b'\t', &line[at..]) else {
                break;
            };
            let field = &line[at..at + field_len];
            if field.is_empty() || field.len() > 100 || field.contains(&b' ') {
                break;
            }
            let name = field.rsplit(|&b| b == b'/').next().unwrap_or(field);
            if let Some(p) = self.lookup(name) {
                found.get_or_insert(p);
            } else if crate::date::Date::parse(field).is_none() {
                break;
            }
            at += field_len + 1;
        }
        found.map(|p| (p, at))
    }

    /// The processor whose snake or class name is exactly `token`.
    pub fn lookup(&self, token: &[u8]) -> Option<ProcessorId> {
        (0..self.names.len())
            .find(|&i| self.names[i].as_bytes() == token || self.classes[i].as_bytes() == token)
            .map(|i| ProcessorId(i as u8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn processors_in_every_spelling() {
        let p = ProcessorNames::new(&names(&[
            "player_game_summary",
            "upcoming_player_game_context",
        ]))
        .unwrap();
        let find = |l: &str| p.find(l.as_bytes()).map(|(id, _)| id.index());
        assert_eq!(find("[player_game_summary] ok"), Some(0));
        assert_eq!(
            find("x analytics.upcoming_player_game_context - y"),
            Some(1)
        );
        assert_eq!(
            find("Starting UpcomingPlayerGameContextProcessor for"),
            Some(1)
        );
        assert_eq!(find("player_game_summary_processor.py"), None);
        assert_eq!(
            p.tag(b"upcoming_player_game_context\t2025-11-29 INFO x")
                .map(|(id, at)| (id.index(), at)),
            Some((1, 29))
        );
        assert_eq!(
            p.tag(b"analytics/player_game_summary\t2023-11-15\tERROR x")
                .map(|(id, at)| (id.index(), at)),
            Some((0, 41))
        );
        assert_eq!(
            p.tag(b"2025-11-29T10:00:00Z\tERROR\tplayer_game_summary"),
            None
        );
        assert_eq!(
            class_name("team_defense_game_summary"),
            "TeamDefenseGameSummaryProcessor"
        );
    }

    #[test]
    fn lists_are_checked() {
        let err = |l: &[&str]| ProcessorNames::new(&names(l)).unwrap_err().to_string();
        assert!(err(&[]).contains("expected 1 to 64"));
        assert!(err(&["a b"]).contains("not a processor name"));
        assert!(err(&["a", "b", "a"]).contains("'a' is listed twice (position 3)"));
        let many: Vec<String> = (0..65).map(|i| format!("p{i}")).collect();
        assert!(ProcessorNames::new(&many).is_err());
    }
}
