//! Bad input, faults and interruptions: the tool never crashes, never writes half a manifest, never
//! loses a retry, and never gives an all-clear about input it could not read.

mod inputs;
mod manifest_file;
mod signals;

use std::io::{Read, Write};
use std::process::Stdio;

use crate::helpers::{bin, root, run, run_in, skipped, tempdir};

pub fn one_line_error(run: &crate::helpers::Run, needle: &str) {
    let stderr = run.stderr();
    assert_eq!(stderr.lines().count(), 1, "{}", run.report());
    assert!(
        stderr.starts_with("backfill-triage: ") && stderr.contains(needle),
        "{}",
        run.report()
    );
}

#[test]
fn a_missing_input_is_a_one_line_error_and_the_old_manifest_stays() {
    let dir = tempdir();
    let manifest = dir.path().join("m.json");
    std::fs::write(&manifest, "previous manifest").unwrap();
    let m = manifest.to_str().unwrap();
    let run = run(
        &[
            "scan",
            "fixtures/sample.log",
            "no/such.log",
            "--manifest",
            m,
        ],
        None,
    )
    .fails_with(2);
    one_line_error(&run, "no/such.log: No such file or directory");
    assert_eq!(
        std::fs::read_to_string(&manifest).unwrap(),
        "previous manifest"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left behind"
    );
}

#[test]
fn control_characters_in_file_names_are_not_replayed() {
    let dir = tempdir();
    let evil = dir.path().join("evil\x1b[31m.log");
    std::fs::copy(root().join("fixtures/scenario1_crash.log"), &evil).unwrap();
    let summary = run(&["scan", evil.to_str().unwrap()], None).success();
    assert!(!summary.stdout().contains('\x1b'), "{}", summary.report());
    let missing = dir.path().join("gone\x1b]0;x\x07.log");
    let error = run(&["scan", missing.to_str().unwrap()], None).fails_with(2);
    assert!(
        !error.stderr().chars().any(|c| c.is_control() && c != '\n'),
        "{}",
        error.report()
    );
}

#[test]
fn a_directory_is_a_one_line_error() {
    let dir = tempdir();
    let d = dir.path().to_str().unwrap();
    let run = run(&["scan", d, "--manifest", &format!("{d}/m.json")], None).fails_with(2);
    one_line_error(&run, &format!("{d}: is a directory"));
    assert!(!dir.path().join("m.json").exists());
}

#[test]
fn an_unreadable_file_is_a_one_line_error_or_skipped() {
    let dir = tempdir();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = dir.path().join("secret.log");
    std::fs::write(&path, "ERROR x\n").unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let p = path.to_str().unwrap();
    let run = if std::fs::File::open(&path).is_err() {
        run(&["scan", p], None)
    } else {
        // Root reads anything: drop to nobody to see the error a user gets.
        let out = std::process::Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                env!("CARGO_BIN_EXE_backfill-triage"),
            ])
            .args(["scan", p])
            .output();
        match out {
            Ok(output)
                if String::from_utf8_lossy(&output.stderr).starts_with("backfill-triage: ") =>
            {
                crate::helpers::Run {
                    command: format!("setpriv ... backfill-triage scan {p}"),
                    output,
                }
            }
            _ => {
                skipped(
                    "an_unreadable_file_is_a_one_line_error_or_skipped",
                    "running as root without setpriv to run the binary as another user",
                );
                return;
            }
        }
    };
    let run = run.fails_with(2);
    one_line_error(&run, "secret.log: Permission denied");
}

#[test]
fn keep_going_scans_the_rest_records_what_it_skipped_says_so_and_exits_3() {
    let dir = tempdir();
    let manifest = dir.path().join("m.json");
    let d = dir.path().to_str().unwrap();
    let run = run(
        &[
            "scan",
            "no/such.log",
            "fixtures/scenario2_missing_data.log",
            d,
            "--keep-going",
            "--manifest",
            manifest.to_str().unwrap(),
            "-q",
        ],
        None,
    )
    .fails_with(3);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let inputs = v["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 3, "{}", run.report());
    assert!(
        inputs[0]["error"]
            .as_str()
            .unwrap()
            .contains("No such file"),
        "{}",
        run.report()
    );
    assert!(inputs[1].get("error").is_none());
    assert_eq!(inputs[1]["recognised"], true);
    assert!(inputs[2]["error"]
        .as_str()
        .unwrap()
        .contains("is a directory"));
    assert_eq!(
        v["retries"].as_array().unwrap().len(),
        3,
        "the readable input's retries are all there"
    );
    assert_eq!(
        run.stderr(),
        format!(
            "backfill-triage: no/such.log: No such file or directory (os error 2)\n\
             backfill-triage: {d}: is a directory\n"
        ),
        "each skipped input is named on stderr\n{}",
        run.report()
    );
}

#[test]
fn a_manifest_in_a_missing_folder_is_an_error_naming_it() {
    let run = run(
        &[
            "scan",
            "fixtures/sample.log",
            "--manifest",
            "/nonexistent-dir/m.json",
        ],
        None,
    )
    .fails_with(2);
    one_line_error(&run, "/nonexistent-dir/m.json: No such file or directory");
}

#[test]
fn a_failed_write_is_an_error_and_a_device_is_never_replaced_or_skipped() {
    // /dev/full takes no bytes: the write fails loudly, and the device is still a device.
    if !std::path::Path::new("/dev/full").exists() {
        skipped(
            "a_failed_write_is_an_error_and_a_device_is_never_replaced_or_skipped",
            "no /dev/full",
        );
        return;
    }
    let run = run(
        &["scan", "fixtures/sample.log", "--manifest", "/dev/full"],
        None,
    )
    .fails_with(2);
    one_line_error(&run, "/dev/full: No space left on device");
    assert!(!std::fs::metadata("/dev/full").unwrap().is_file());
}

#[test]
fn a_manifest_path_that_is_a_directory_is_an_error_and_nothing_is_left_behind() {
    let dir = tempdir();
    let target = dir.path().join("m.json");
    std::fs::create_dir(&target).unwrap();
    let run = run(
        &[
            "scan",
            "fixtures/sample.log",
            "--manifest",
            target.to_str().unwrap(),
        ],
        None,
    )
    .fails_with(2);
    one_line_error(&run, "m.json");
    assert!(target.is_dir());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left behind"
    );
}

#[test]
fn a_symlinked_manifest_replaces_its_target_and_keeps_the_link() {
    let dir = tempdir();
    let real = dir.path().join("real.json");
    let link = dir.path().join("link.json");
    std::fs::write(&real, "old").unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    run(
        &[
            "scan",
            "fixtures/scenario1_crash.log",
            "--manifest",
            link.to_str().unwrap(),
            "-q",
        ],
        None,
    )
    .success();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&real)
        .unwrap()
        .contains("\"schema_version\": 2"));
}

#[test]
fn dirty_bytes_classify_like_clean_ones_and_come_out_escaped() {
    let clean = std::fs::read(root().join("fixtures/scenario2_missing_data.log")).unwrap();
    // CRLF line ends, a BOM, colour codes around every level, and garbage lines between.
    let mut dirty = b"\xef\xbb\xbf".to_vec();
    for line in clean.split(|&b| b == b'\n') {
        let line =
            String::from_utf8_lossy(line).replace(" - ERROR - ", " - \x1b[1;31mERROR\x1b[0m - ");
        dirty.extend_from_slice(line.as_bytes());
        dirty.extend_from_slice(b"\r\n\x00\x01\xff\xfe garbage \x1b]0;title\x07 \xc3\x28\r\n");
    }
    let a = run(&["scan", "-", "-f", "tsv"], Some(&clean)).success();
    let b = run(&["scan", "-", "-f", "tsv"], Some(&dirty)).success();
    let cols = |s: String| {
        s.lines()
            .map(|l| l.split('\t').take(7).collect::<Vec<_>>().join("\t"))
            .collect::<Vec<_>>()
    };
    assert_eq!(cols(a.stdout()), cols(b.stdout()), "{}", b.report());
    for format in ["json", "events", "summary", "csv"] {
        let r = run(&["scan", "-", "-f", format], Some(&dirty)).success();
        let out = r.stdout();
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "{format} replays control characters\n{}",
            r.report()
        );
        if format == "json" {
            serde_json::from_str::<serde_json::Value>(&out).expect("valid JSON");
        }
        if format == "events" {
            for line in out.lines() {
                serde_json::from_str::<serde_json::Value>(line).expect("valid NDJSON");
            }
        }
    }
}

#[test]
fn a_line_longer_than_the_limit_is_cut_the_same_way_from_a_file_and_stdin() {
    let dir = tempdir();
    let path = dir.path().join("long.log");
    let mut log = b"Found 1 dates to process\nProcessing date 1/1: 2024-01-02\nStarting PlayerGameSummaryProcessor for 2024-01-02\nERROR - x - ZeroDivisionError: division by zero ".to_vec();
    log.extend(std::iter::repeat_n(b'x', 3 << 20));
    log.extend_from_slice(
        b" Query timeout\n\xe2\x9c\x85 ALL DATES SUCCESSFUL\nERROR - y - no newline at the end ",
    );
    log.extend(std::iter::repeat_n(b'y', 2 << 20));
    std::fs::write(&path, &log).unwrap();
    let file = run(
        &[
            "scan",
            path.to_str().unwrap(),
            "-f",
            "json",
            "--chunk-size",
            "4096",
        ],
        None,
    )
    .success();
    let stdin = run(
        &["scan", "-", "-f", "json", "--chunk-size", "4096"],
        Some(&log),
    )
    .success();
    assert_eq!(
        file.stdout().replace(path.to_str().unwrap(), "-"),
        stdin.stdout(),
        "{}",
        stdin.report()
    );
    let v: serde_json::Value = serde_json::from_str(&file.stdout()).unwrap();
    assert_eq!(v["inputs"][0]["lines"], 6);
    assert_eq!(v["inputs"][0]["bytes"], log.len());
    let error = v["retries"][0]["error"].as_str().unwrap();
    assert!(
        error.ends_with(" …[truncated]") && error.len() < 600,
        "{error}"
    );
    assert_eq!(
        v["retries"][0]["category"], "processing_error",
        "the cut line keeps its head's category"
    );
}

#[test]
fn a_log_of_only_failures_keeps_every_retry_and_bounds_the_unattributed_list() {
    let mut log = String::new();
    for i in 0..60_000u32 {
        log.push_str(&format!(
            "ERROR - backfill - Query timeout: exceeded 180 seconds (job {i})\n"
        ));
        log.push_str("ERROR: Query timeout: exceeded 180 seconds\n");
    }
    let run = run(&["scan", "-", "-f", "json"], Some(log.as_bytes())).success();
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(v["summary"]["failure_lines"], 120_000);
    assert_eq!(v["summary"]["unattributed"], 120_000);
    let listed = v["unattributed"].as_array().unwrap();
    assert_eq!(
        listed.len(),
        10_000,
        "distinct failures are listed up to the documented cap"
    );
    let repeats = listed
        .iter()
        .find(|u| u["error"] == "ERROR: Query timeout: exceeded 180 seconds")
        .unwrap();
    assert_eq!(repeats["repeats"], 59_999);
}

#[test]
fn tens_of_thousands_of_inputs() {
    let dir = tempdir();
    let mut names = Vec::new();
    for i in 0..20_000 {
        let name = format!("{i}");
        let date = 1 + i % 28;
        std::fs::write(
            dir.path().join(&name),
            format!("Starting PlayerGameSummaryProcessor for 2023-02-{date:02}\nERROR - x - MemoryError\n"),
        )
        .unwrap();
        names.push(name);
    }
    let mut args = vec!["scan", "-f", "json", "-q"];
    args.extend(names.iter().map(String::as_str));
    let run = run_in(dir.path(), &args, None).success();
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(v["inputs"].as_array().unwrap().len(), 20_000);
    assert_eq!(
        v["retries"].as_array().unwrap().len(),
        28,
        "one row per date, the last attempt wins"
    );
    assert_eq!(v["retries"][0]["failures"], 715);
}

#[test]
fn impossible_dates_and_timestamps_are_not_data_dates() {
    let log = "2023-11-15 10:00:00,000 - INFO - Starting PlayerGameSummaryProcessor for 2023-02-30\n\
               2023-11-15 10:00:01,000 - ERROR - analytics.player_game_summary - MemoryError\n\
               2023-11-15 10:00:02,000 - INFO - Starting PlayerGameSummaryProcessor for 2023-13-01\n\
               2023-11-15T10:00:03 ERROR - analytics.team_offense_game_summary - MemoryError\n";
    let run = run(&["scan", "-", "-f", "json"], Some(log.as_bytes())).success();
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(
        v["retries"].as_array().unwrap().len(),
        0,
        "{}",
        run.report()
    );
    assert_eq!(v["summary"]["unattributed"], 2, "{}", run.report());
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let big: String = std::fs::read_to_string(root().join("fixtures/sample.log"))
        .unwrap()
        .repeat(300);
    for format in ["events", "summary", "json", "tsv"] {
        let mut child = bin()
            .args(["scan", "-", "-f", format])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = big.clone();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let mut first = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // stdout is dropped here: the reader went away, like `| head -c 10`.
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
