//! The post-mortem outputs: the terminal summary's colour rules and width, the calendar's glyphs,
//! the top error templates, `-f markdown` and the HTML report (parsed back, one cell per pair).

use std::collections::BTreeMap;

use crate::helpers::{assert_golden, root, run, run_with, tempdir};

const ESC: &str = "\u{1b}[";

fn summary_with(args: &[&str], env: &[(&str, &str)]) -> crate::helpers::Run {
    let mut all = vec!["scan", "fixtures/sample.log", "--quiet"];
    all.extend_from_slice(args);
    run_with(&root(), &all, env, None).success()
}

/// Removes ANSI SGR sequences.
fn strip(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(ESC) {
        out.push_str(&rest[..i]);
        let after = &rest[i + ESC.len()..];
        let end = after.find('m').map_or(after.len(), |j| j + 1);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn no_colour_when_stdout_is_not_a_terminal() {
    let run = summary_with(&[], &[]);
    assert!(!run.stdout().contains(ESC), "{}", run.report());
    let never = summary_with(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]);
    assert!(!never.stdout().contains(ESC), "{}", never.report());
}

#[test]
fn colour_always_and_clicolor_force_colour_the_same_text() {
    let plain = summary_with(&[], &[]).stdout();
    for (args, env) in [
        (&["--color", "always"][..], &[][..]),
        (&[][..], &[("CLICOLOR_FORCE", "1")][..]),
        // The flag beats NO_COLOR, as no-color.org asks of command-line options.
        (&["--color", "always"][..], &[("NO_COLOR", "1")][..]),
    ] {
        let run = summary_with(args, env);
        let out = run.stdout();
        assert!(out.contains(ESC), "{}", run.report());
        // Categories and states are coloured: the data_availability action heading, a crash.
        assert!(
            out.contains("\u{1b}[1m\u{1b}[35m  backfill_upstream_then_rerun"),
            "{}",
            run.report()
        );
        assert!(out.contains("CRASHED at"), "{}", run.report());
        assert_eq!(strip(&out), plain, "{}", run.report());
    }
}

#[test]
fn no_color_beats_clicolor_force_in_auto_mode() {
    let run = summary_with(&[], &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]);
    assert!(!run.stdout().contains(ESC), "{}", run.report());
}

#[test]
fn lines_fit_the_width_and_the_manifest_keeps_texts_whole() {
    let dir = tempdir();
    let manifest = dir.path().join("m.json");
    for (columns, width) in [(None, 120), (Some("80"), 80), (Some("60"), 60)] {
        let env: Vec<(&str, &str)> = columns.iter().map(|c| ("COLUMNS", *c)).collect();
        let run = summary_with(&["--manifest", manifest.to_str().unwrap()], &env);
        let out = run.stdout();
        let widest = out.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(widest <= width, "{widest} > {width}\n{}", run.report());
        assert!(
            out.lines().any(|l| l.ends_with('…')),
            "nothing was cut\n{}",
            run.report()
        );
    }
    let json = std::fs::read_to_string(&manifest).unwrap();
    assert!(json.contains("FileNotFoundError: No raw data found for game_date=2024-01-09\""));
    // The same width, coloured or not.
    let coloured = summary_with(&["--color", "always"], &[("COLUMNS", "70")]);
    let plain = summary_with(&[], &[("COLUMNS", "70")]);
    assert_eq!(strip(&coloured.stdout()), plain.stdout());
}

/// The lines of the summary from the calendar's title to its legend.
fn calendar_of(out: &str) -> String {
    let start = out.find("Calendar  ").expect("a calendar");
    let rest = &out[start..];
    let end = rest.find("legend:").expect("a legend");
    let end = end + rest[end..].find("\n\n").unwrap_or(rest.len() - end);
    rest[..end].to_string()
}

#[test]
fn calendar_glyphs_of_the_sample() {
    let run = summary_with(&[], &[]);
    let expected = "\
Calendar  2024-01-07 .. 2024-01-12: 6 days x 5 processors
                              2024-01
                              000111
                              789012
player_game_summary           ····-C
team_defense_game_summary     ··D·-C
team_offense_game_summary     ··R!-C
upcoming_player_game_context  ···!-·
upcoming_team_game_context    ···!-·
legend:  · succeeded  D data_availability  R resource_exhaustion  C defensive_check  ! interrupted  - not started
         (blank) not seen";
    crate::helpers::assert_text(
        expected,
        &calendar_of(&run.stdout()),
        "calendar",
        Some(&run),
    );
}

#[test]
fn calendar_of_a_long_range_has_a_line_per_month_and_processor() {
    let dir = tempdir();
    let log = dir.path().join("long.log");
    let mut text = String::from("Found 3 dates to process\n");
    for (i, date) in ["2024-01-05", "2024-02-10", "2024-04-20"]
        .iter()
        .enumerate()
    {
        text.push_str(&format!("Processing date {}/3: {date}\n", i + 1));
        text.push_str(&format!(
            "2025-01-01 10:00:0{i},000 - INFO - analytics.player_game_summary - Starting PlayerGameSummaryProcessor for {date}\n"
        ));
        text.push_str("[player_game_summary] ✅ Success\n");
    }
    text.push_str(
        "2025-01-01 10:00:09,000 - INFO - analytics.team_offense_game_summary - Starting TeamOffenseGameSummaryProcessor for 2024-04-20\n\
         2025-01-01 10:00:09,500 - ERROR - analytics.team_offense_game_summary - ZeroDivisionError: division by zero\n\
         Backfill complete\n",
    );
    std::fs::write(&log, text).unwrap();
    let report = dir.path().join("r.html");
    let run = run_with(
        dir.path(),
        &[
            "scan",
            log.to_str().unwrap(),
            "--quiet",
            "--report",
            report.to_str().unwrap(),
        ],
        &[("COLUMNS", "100")],
        None,
    )
    .success();
    // The HTML heatmap of a span over 92 days has a block per month, with only real days.
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<svg class=\"heatmap\" data-layout=\"months\""));
    let cells = cells(&html);
    assert_eq!(cells.len(), 5 * (31 + 29 + 30), "January, February, April");
    assert_eq!(
        cells[&(
            "2024-04-20".to_string(),
            "team_offense_game_summary".to_string()
        )]
            .1,
        Some("processing_error".to_string())
    );
    let cal = calendar_of(&run.stdout());
    let lines: Vec<&str> = cal.lines().collect();
    assert_eq!(
        lines[0],
        "Calendar  2024-01-05 .. 2024-04-20: 107 days, one line per month and processor (days 1-31)",
        "{}",
        run.report()
    );
    assert_eq!(
        lines[1],
        format!("{}1        10        20        30", " ".repeat(39))
    );
    assert_eq!(
        lines[2],
        format!("2024-01  player_game_summary{}·", " ".repeat(15))
    );
    assert_eq!(lines[3], "         team_defense_game_summary");
    // Three months that hold a pair, five processors each; no line for March.
    assert_eq!(lines.iter().filter(|l| l.starts_with("2024-")).count(), 3);
    assert!(!cal.contains("2024-03"), "{cal}");
    let april_offense = lines[2 + 2 * 5 + 2];
    assert_eq!(
        april_offense,
        format!("         team_offense_game_summary{}P", " ".repeat(24))
    );
}

#[test]
fn top_errors_are_templates_of_lines_that_name_a_cause() {
    let run = summary_with(&[], &[("COLUMNS", "200")]);
    let out = run.stdout();
    let top = &out[out.find("Top error templates").expect("top list")..];
    let top = &top[..top.find("\n\n").unwrap_or(top.len())];
    assert!(
        top.contains("      2x  data_availability     fixtures/sample.log:76  FileNotFoundError: No raw data found for game_date=<date>"),
        "{top}"
    );
    assert!(
        top.contains("      3x  defensive_check       fixtures/sample.log:157  DependencyError: Cannot process <date> - upstream gaps detected"),
        "{top}"
    );
    // Wrapper and status lines say that something failed, not why: they are no causes.
    for wrapper in ["Processing failed", "❌ Failed", "had failures"] {
        assert!(!top.contains(wrapper), "{wrapper}\n{top}");
    }
}

#[test]
fn markdown_post_mortem_of_the_sample() {
    let run = run(&["scan", "fixtures/sample.log", "-f", "markdown"], None).success();
    assert_golden(&root().join("tests/golden/sample.md"), &run.stdout(), &run);
    let md = run.stdout();
    for section in [
        "# Backfill post-mortem",
        "## Runs",
        "## Counts",
        "## Calendar",
        "## Retries by action",
        "### `fill_gaps_then_rerun`: defensive_check (3)",
        "## Top error templates",
    ] {
        assert!(md.contains(section), "{section}\n{}", run.report());
    }
    // Templates hold <date>-like placeholders: they must be code, never HTML.
    assert!(md.contains("`FileNotFoundError: No raw data found for game_date=<date>`"));
}

/// Every cell of the heatmap: (date, processor) -> (state, category).
fn cells(html: &str) -> BTreeMap<(String, String), (String, Option<String>, String)> {
    let doc = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse("svg.heatmap rect.cell").unwrap();
    let title = scraper::Selector::parse("title").unwrap();
    let mut out = BTreeMap::new();
    for cell in doc.select(&selector) {
        let attr = |name: &str| cell.value().attr(name).map(str::to_string);
        let tip = cell
            .select(&title)
            .next()
            .map(|t| t.text().collect::<String>())
            .unwrap_or_default();
        let key = (attr("data-date").unwrap(), attr("data-processor").unwrap());
        let previous = out.insert(
            key.clone(),
            (attr("data-state").unwrap(), attr("data-category"), tip),
        );
        assert!(previous.is_none(), "two cells for {key:?}");
    }
    out
}

#[test]
fn html_report_has_one_cell_per_pair_with_its_state() {
    for fixture in [
        "sample",
        "scenario3_gap",
        "multi_run",
        "scenario1_crash",
        "month",
    ] {
        let dir = tempdir();
        let report = dir.path().join("report.html");
        let manifest = dir.path().join("m.json");
        let log = format!("fixtures/{fixture}.log");
        run(
            &[
                "scan",
                &log,
                "--quiet",
                "--report",
                report.to_str().unwrap(),
                "--manifest",
                manifest.to_str().unwrap(),
            ],
            None,
        )
        .success();
        let html = std::fs::read_to_string(&report).unwrap();
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
        let cells = cells(&html);
        let mut expected: BTreeMap<(String, String), (String, Option<String>)> = BTreeMap::new();
        for (processor, runs) in manifest["succeeded"].as_object().unwrap() {
            for run in runs.as_array().unwrap() {
                let run = run.as_str().unwrap();
                let (a, b) = run.split_once("..").unwrap_or((run, run));
                for (key, _) in cells.range((a.to_string(), String::new())..) {
                    if key.0.as_str() > b {
                        break;
                    }
                    if &key.1 == processor {
                        expected.insert(key.clone(), ("succeeded".into(), None));
                    }
                }
            }
        }
        for r in manifest["retries"].as_array().unwrap() {
            let key = (
                r["date"].as_str().unwrap().to_string(),
                r["processor"].as_str().unwrap().to_string(),
            );
            let category = r["category"].as_str().unwrap().to_string();
            let state = match r["reason"].as_str().unwrap() {
                "failed" => ("failed".to_string(), Some(category)),
                other => (other.to_string(), None),
            };
            expected.insert(key, state);
        }
        let seen: BTreeMap<_, _> = cells
            .iter()
            .filter(|(_, (state, ..))| state != "not_seen")
            .map(|(k, (state, category, _))| (k.clone(), (state.clone(), category.clone())))
            .collect();
        assert_eq!(seen, expected, "{fixture}");
        // Failed cells say why in their tooltip.
        for ((date, processor), (state, _, tip)) in &cells {
            assert!(tip.starts_with(&format!("{date} {processor}: ")), "{tip}");
            if state == "failed" {
                assert!(tip.contains(".log:"), "{tip}");
            }
        }
    }
}

#[test]
fn html_report_is_self_contained_and_written_atomically() {
    let dir = tempdir();
    let report = dir.path().join("report.html");
    std::fs::write(&report, "old").unwrap();
    run(
        &[
            "scan",
            "fixtures/sample.log",
            "--quiet",
            "--report",
            report.to_str().unwrap(),
        ],
        None,
    )
    .success();
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for banned in ["<script", "http://", "https://", "@import", "url(", "<link"] {
        assert!(!html.contains(banned), "{banned}");
    }
    let doc = scraper::Html::parse_document(&html);
    let count = |css: &str| doc.select(&scraper::Selector::parse(css).unwrap()).count();
    assert_eq!(count("svg.timeline rect.run"), 2);
    assert_eq!(count("svg.timeline rect.run[data-state=crashed]"), 1);
    assert_eq!(count("svg.timeline g.crash"), 1);
    assert_eq!(count("#retries table tr"), 13 + 4);
    assert!(count("#templates tr") > 5);
    // No temporary file is left beside it.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1);
    // An unwritable report is an error, and the scan says which file.
    let bad = run(
        &[
            "scan",
            "fixtures/sample.log",
            "--quiet",
            "--report",
            "/nonexistent-dir/r.html",
        ],
        None,
    )
    .fails_with(2);
    assert!(
        bad.stderr().contains("/nonexistent-dir/r.html"),
        "{}",
        bad.report()
    );
}

#[test]
fn markdown_of_every_fixture_lists_every_retry_and_calendar_pair() {
    for fixture in [
        "scenario1_crash",
        "scenario2_missing_data",
        "scenario3_gap",
        "scenario4_query_timeout",
        "scenario5_multi_processor",
        "scenario6_completed_with_failures",
        "multi_run",
        "month",
    ] {
        let log = format!("fixtures/{fixture}.log");
        let md = run(&["scan", &log, "-f", "markdown"], None).success();
        let json = run(&["scan", &log, "-f", "json"], None).success();
        let manifest: serde_json::Value = serde_json::from_str(&json.stdout()).unwrap();
        let retries = manifest["retries"].as_array().unwrap();
        let out = md.stdout();
        let section = |head: &str| {
            let start = out
                .find(head)
                .unwrap_or_else(|| panic!("{fixture}: {head}"));
            let rest = &out[start + head.len()..];
            rest[..rest.find("\n## ").unwrap_or(rest.len())].to_string()
        };
        let rows = section("## Retries by action")
            .lines()
            .filter(|l| l.starts_with("| 20"))
            .count();
        assert_eq!(rows, retries.len(), "{fixture}\n{}", md.report());
        // Every retry's date is in the calendar table, alone or inside a folded range.
        let calendar = section("## Calendar");
        for r in retries {
            let date = r["date"].as_str().unwrap();
            let covered = calendar.lines().any(|l| {
                let first = l.trim_start_matches("| ").split(" |").next().unwrap_or("");
                let (a, b) = first.split_once(" .. ").unwrap_or((first, first));
                a <= date && date <= b && a.len() == 10
            });
            assert!(covered, "{fixture}: {date}\n{calendar}");
        }
    }
}
