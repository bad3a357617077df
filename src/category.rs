//! The playbook's failure categories and the policy that hangs on each: the recovery action a retry
//! loop dispatches on, the advice people read, whether a script may run the retry unattended, and
//! the pause before it. This table is the one place that policy is written.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The playbook's five failure categories, plus the one for failures no rule names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    ScriptInfrastructure,
    DataAvailability,
    ProcessingError,
    ResourceExhaustion,
    DefensiveCheck,
    Uncategorized,
}

/// What to do about a retry row: the playbook's recovery procedure for its category, or
/// `investigate` for rows escalated after repeated failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Rerun,
    BackfillUpstreamThenRerun,
    FixCodeThenRerun,
    RerunWithBackoff,
    FillGapsThenRerun,
    Investigate,
}

/// Everything the tool knows about a category.
#[derive(Debug)]
pub struct CategoryInfo {
    pub id: &'static str,
    pub action: Action,
    /// The playbook's one-line advice, for people reading the summary.
    pub advice: &'static str,
    /// The pause before each retry, where the playbook says to wait (quotas and timeouts recover).
    pub backoff_secs: Option<u32>,
}

const INFO: [CategoryInfo; 6] = [
    CategoryInfo {
        id: "script_infrastructure",
        action: Action::Rerun,
        advice: "no data harm: just re-run (the script skips completed dates)",
        backoff_secs: None,
    },
    CategoryInfo {
        id: "data_availability",
        action: Action::BackfillUpstreamThenRerun,
        advice: "Phase 2 data is missing: backfill upstream data first, then re-run",
        backoff_secs: None,
    },
    CategoryInfo {
        id: "processing_error",
        action: Action::FixCodeThenRerun,
        advice: "processor logic issue: fix the code, test one date, then re-run",
        backoff_secs: None,
    },
    CategoryInfo {
        id: "resource_exhaustion",
        action: Action::RerunWithBackoff,
        advice: "temporary: wait, then retry with delay or a smaller batch",
        backoff_secs: Some(30),
    },
    CategoryInfo {
        id: "defensive_check",
        action: Action::FillGapsThenRerun,
        advice: "upstream gaps: fill the gap dates first, then retry the blocked dates",
        backoff_secs: None,
    },
    CategoryInfo {
        id: "uncategorized",
        action: Action::Investigate,
        advice: "no rule names this failure: read the error, then add a rule",
        backoff_secs: None,
    },
];

impl Category {
    pub const ALL: [Category; 6] = [
        Category::ScriptInfrastructure,
        Category::DataAvailability,
        Category::ProcessingError,
        Category::ResourceExhaustion,
        Category::DefensiveCheck,
        Category::Uncategorized,
    ];

    /// The category of a pair a crash cut off or a run never reached: nothing is wrong with the
    /// data or the code, the script just has to run again.
    pub const CUT: Category = Category::ScriptInfrastructure;

    pub fn info(self) -> &'static CategoryInfo {
        &INFO[self as usize]
    }

    pub fn as_str(self) -> &'static str {
        self.info().id
    }

    pub fn action(self) -> Action {
        self.info().action
    }
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Rerun,
        Action::BackfillUpstreamThenRerun,
        Action::FixCodeThenRerun,
        Action::RerunWithBackoff,
        Action::FillGapsThenRerun,
        Action::Investigate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Rerun => "rerun",
            Action::BackfillUpstreamThenRerun => "backfill_upstream_then_rerun",
            Action::FixCodeThenRerun => "fix_code_then_rerun",
            Action::RerunWithBackoff => "rerun_with_backoff",
            Action::FillGapsThenRerun => "fill_gaps_then_rerun",
            Action::Investigate => "investigate",
        }
    }

    /// Whether a script may run the retry unattended. The others need a person first: an upstream
    /// backfill, a code fix, or someone reading the error.
    pub fn scriptable(self) -> bool {
        matches!(
            self,
            Action::Rerun | Action::RerunWithBackoff | Action::FillGapsThenRerun
        )
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Category, String> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = Category::ALL.iter().map(|c| c.as_str()).collect();
                format!(
                    "unknown category '{}' (known: {})",
                    s.escape_debug(),
                    known.join(", ")
                )
            })
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Action, String> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
                format!(
                    "unknown action '{}' (known: {})",
                    s.escape_debug(),
                    known.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_enum_order_and_serde_agrees_with_it() {
        for c in Category::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            assert_eq!(c.as_str().parse::<Category>(), Ok(c));
        }
        for a in Action::ALL {
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
            assert_eq!(a.as_str().parse::<Action>(), Ok(a));
        }
    }
}
