//! The playbook's failure categories and the policy that hangs on each: the recovery action a retry
//! loop dispatches on, the advice people read, the recovery procedure `explain` prints (what to
//! check, what to run, how to verify, with the commands and the SQL), whether a script may run the
//! retry unattended, and the pause before it. This table is the one place that policy is written.

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
    /// What the failure is, in a line.
    pub title: &'static str,
    /// How it shows in a log.
    pub symptoms: &'static str,
    /// What to look at before acting, with the queries that tell.
    pub check: &'static str,
    /// What to run, in order.
    pub run: &'static str,
    /// How to tell the recovery worked.
    pub verify: &'static str,
}

/// The check shared by every procedure: the run history says which pairs succeeded.
const VERIFY_HISTORY: &str = "\
Every retried pair has a successful run in the run history, newer than the failure:

    SELECT data_date, processor_name, success, rows_processed, created_at
    FROM `nba-props-platform.nba_reference.processor_run_history`
    WHERE phase = 'phase_3_analytics'
      AND data_date BETWEEN 'FIRST_DATE' AND 'LAST_DATE'
    ORDER BY data_date, processor_name, created_at DESC;

Expect success = true on the latest row of each (date, processor); for a whole date, all five
processors. Then scan the retry's own log: backfill-triage scan retry.log should list no rows.";

const INFO: [CategoryInfo; 6] = [
    CategoryInfo {
        id: "script_infrastructure",
        action: Action::Rerun,
        advice: "no data harm: just re-run (the script skips completed dates)",
        backoff_secs: None,
        title: "the backfill script or its host failed; the data and the code are fine",
        symptoms: "\
The driver stopped or could not start: a dropped SSH session (`Connection lost`, `Broken pipe`),
`Killed`, `Script terminated`, `command not found`, `Permission denied`, a network timeout. Pairs a
crash cut off are `interrupted`; dates the crashed run never reached are `not_started`. Nothing was
half-written: a date is recorded only when it completes.",
        check: "\
1. Where it stopped: the summary's Runs section names the crash line and the last progress line
   (`date 150/327`); a re-run resumes there.
2. What the run history last recorded as done:

    SELECT MAX(data_date) AS last_done, MAX(created_at) AS at
    FROM `nba-props-platform.nba_reference.processor_run_history`
    WHERE phase = 'phase_3_analytics' AND success = true;

3. For `command not found` or `Permission denied`, fix the host first (PATH, the gcloud tools,
   file modes): a re-run would fail the same way.",
        run: "\
Re-run the driver; it asks which dates are missing and skips the ones already done:

    ./bin/backfill/backfill_phase3_historical.sh

Or retry exactly the listed pairs:

    backfill-triage scan run.log -f commands > retry.sh && bash retry.sh

Start it inside tmux or screen (or with nohup) so a dropped session cannot kill it again.",
        verify: VERIFY_HISTORY,
    },
    CategoryInfo {
        id: "data_availability",
        action: Action::BackfillUpstreamThenRerun,
        advice: "Phase 2 data is missing: backfill upstream data first, then re-run",
        backoff_secs: None,
        title: "the processor's input (Phase 2 raw data) is not there",
        symptoms: "\
The processor ran, but what it reads is missing: `FileNotFoundError`, `No raw data found for
game_date=D`, `Table not found`, a 404 from BigQuery or Cloud Storage. Re-running alone fails again:
the raw data has to be backfilled first.",
        check: "\
1. Did the date have finished games? A date without any has nothing to process:

    SELECT game_id, game_date, home_team, away_team
    FROM `nba-props-platform.nba_raw.nbac_schedule`
    WHERE game_date = 'D' AND game_status = 3;

2. If it had games, is the raw data there?

    SELECT COUNT(*) AS raw_rows
    FROM `nba-props-platform.nba_raw.nbac_team_boxscore`
    WHERE game_date = 'D';

   Games scheduled and zero raw rows: the Phase 2 data for D is missing.",
        run: "\
1. Backfill the Phase 2 (raw) data for D with the Phase 2 backfill scripts.
2. When the raw rows are there, retry the date's Phase 3 processors:

    for p in player_game_summary team_defense_game_summary team_offense_game_summary \\
             upcoming_player_game_context upcoming_team_game_context; do
      ./bin/run_backfill.sh analytics/$p --start-date=D --end-date=D --skip-downstream-trigger=true
    done",
        verify: VERIFY_HISTORY,
    },
    CategoryInfo {
        id: "processing_error",
        action: Action::FixCodeThenRerun,
        advice: "processor logic issue: fix the code, test one date, then re-run",
        backoff_secs: None,
        title: "the processor's own logic failed on the data",
        symptoms: "\
The input was there and the processor broke on it: `ZeroDivisionError`, NULL values where a number
was expected, invalid data types, `KeyError`, a failed assertion. The same date fails the same way
on every retry until the code changes.",
        check: "\
1. Read the error and its traceback at the row's file:line, or the recent failures in the run
   history:

    SELECT data_date, processor_name, error_message, created_at
    FROM `nba-props-platform.nba_reference.processor_run_history`
    WHERE phase = 'phase_3_analytics' AND success = false
    ORDER BY created_at DESC
    LIMIT 20;

2. Many dates failing with one template is one bug. If the processor writes wrong data, stop the
   backfill (Ctrl+C, or kill its process) before fixing.",
        run: "\
1. Fix the processor, then test the fix on one failed date:

    ./bin/run_backfill.sh analytics/PROCESSOR --start-date=D --end-date=D --skip-downstream-trigger=true

2. Then retry the other failed pairs: backfill-triage scan run.log -f commands lists them,
   commented out until a person has made the fix.",
        verify: VERIFY_HISTORY,
    },
    CategoryInfo {
        id: "resource_exhaustion",
        action: Action::RerunWithBackoff,
        advice: "temporary: wait, then retry with delay or a smaller batch",
        backoff_secs: Some(30),
        title: "a limit was hit (time, memory, rate, quota); it passes with time",
        symptoms: "\
`Query timeout: exceeded 180 seconds`, memory exceeded, `Rate limit exceeded`, BigQuery quotas
(`Exceeded quota: concurrent queries`, daily query bytes). Nothing is wrong with the data or the
code: the same retry usually succeeds after a pause.",
        check: "\
1. One processor or all of them? Timeouts on one heavy processor are its load; quota errors on
   every processor are the project's limits.
2. Concurrent-query quotas recover within minutes; a daily bytes quota only the next day.",
        run: "\
Wait, then retry with a pause (the commands format puts `sleep 30` before these rows):

    sleep 30
    ./bin/run_backfill.sh analytics/PROCESSOR --start-date=D --end-date=D --skip-downstream-trigger=true

Still failing after two or three tries: retry the processors one at a time, lengthen the driver's
pause between dates (sleep 2 -> sleep 10), or process fewer dates per run.",
        verify: VERIFY_HISTORY,
    },
    CategoryInfo {
        id: "defensive_check",
        action: Action::FillGapsThenRerun,
        advice: "upstream gaps: fill the gap dates first, then retry the blocked dates",
        backoff_secs: None,
        title: "a processor refused to run over holes in its lookback window",
        symptoms: "\
`DependencyError: Cannot process D - upstream gaps detected`, `Missing dates in lookback window:
[...]`, `Completeness threshold not met`, an upstream processor that failed. The check is right to
block: the gap dates must be filled first. The row's blocked_by lists them, and each gap date gets
rows of its own (reason `gap`) that sort before the dates they block.",
        check: "\
The gap dates are in blocked_by. To list the holes of a window yourself:

    SELECT game_date
    FROM `nba-props-platform.nba_raw.nbac_schedule`
    WHERE game_status = 3
      AND game_date BETWEEN 'WINDOW_START' AND 'D'
      AND game_date NOT IN (SELECT DISTINCT game_date
                            FROM `nba-props-platform.nba_analytics.player_game_summary`)
    ORDER BY game_date;",
        run: "\
1. Fill the gap dates first, oldest first, every processor:

    for gap in GAP_1 GAP_2; do
      for p in player_game_summary team_defense_game_summary team_offense_game_summary \\
               upcoming_player_game_context upcoming_team_game_context; do
        ./bin/run_backfill.sh analytics/$p --start-date=$gap --end-date=$gap --skip-downstream-trigger=true
      done
    done

2. Then retry the blocked date D the same way. The manifest lists gap rows before the dates they
   block, so backfill-triage scan run.log -f commands already runs them in that order.",
        verify: VERIFY_HISTORY,
    },
    CategoryInfo {
        id: "uncategorized",
        action: Action::Investigate,
        advice: "no rule names this failure: read the error, then add a rule",
        backoff_secs: None,
        title: "no rule names the failure: read it, then teach the tool",
        symptoms: "\
A failure line no rule recognises, kept rather than guessed at: a new kind of failure, or only a
wrapper line (`Processing failed for D`, `exit code 1`) whose cause the log does not show. Rows
that failed again and again are escalated here too.",
        check: "\
1. Read the error at the row's file:line and the lines around it.
2. See which unknown failures recur, as templates with counts and where each was seen:

    backfill-triage templates run.log",
        run: "\
1. Turn the templates into rule stubs, choose each one's category, and check them:

    backfill-triage templates run.log -f toml > ours.toml
    backfill-triage rules --check --rules ours.toml

2. Scan again with the new rules: the rows then carry a category and its recovery action.

    backfill-triage scan run.log --rules ours.toml",
        verify: "\
No row is left uncategorized, or only those still to read:

    backfill-triage scan run.log --rules ours.toml -f csv | grep -c ',uncategorized,'

Then follow the procedure of the category each row now has (backfill-triage explain CATEGORY).",
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
