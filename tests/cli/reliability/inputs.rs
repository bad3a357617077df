//! What is given as a log: compressed and damaged logs, files that are not logs at all, rotated logs
//! in the wrong order. None of them may end in a clean "nothing to retry".

use std::path::Path;

use backfill_triage::classify::Classifier;
use backfill_triage::config::DEFAULT_PROCESSORS;
use backfill_triage::scan::{Scanner, Source};

use super::one_line_error;
use crate::helpers::{compress, root, run, run_in, tempdir, COMPRESSIONS};

fn manifest_of(run: &crate::helpers::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout()).unwrap_or_else(|e| panic!("{e}\n{}", run.report()))
}

#[test]
fn a_binary_file_is_refused_and_keep_going_skips_it_loudly() {
    let dir = tempdir();
    let blob = dir.path().join("core.dump");
    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&blob, &noise).unwrap();
    let manifest = dir.path().join("m.json");
    std::fs::write(&manifest, "previous").unwrap();
    let (b, m) = (blob.to_str().unwrap(), manifest.to_str().unwrap());
    for args in [
        &["scan", b, "-m", m][..],
        &["scan", b, "-m", m, "--no-mmap"],
    ] {
        let r = run(args, None).fails_with(2);
        one_line_error(
            &r,
            "core.dump: not a text log: its first bytes are mostly binary",
        );
    }
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), "previous");
    let r = run(
        &[
            "scan",
            b,
            "fixtures/sample.log",
            "--keep-going",
            "-f",
            "json",
        ],
        None,
    )
    .fails_with(3);
    one_line_error(&r, &format!("{b}: not a text log"));
    let v = manifest_of(&r);
    assert_eq!(v["inputs"][0]["bytes"], 0);
    assert!(v["inputs"][0]["error"]
        .as_str()
        .unwrap()
        .contains("not a text log"));
    assert_eq!(v["summary"]["retries"], 13);
}

#[test]
fn a_manifest_given_as_a_log_is_refused() {
    let dir = tempdir();
    let manifest = dir.path().join("retry.json");
    run(
        &[
            "scan",
            "fixtures/sample.log",
            "-m",
            manifest.to_str().unwrap(),
        ],
        None,
    )
    .success();
    let packed = dir.path().join("retry.json.gz");
    std::fs::write(
        &packed,
        compress("gzip", &std::fs::read(&manifest).unwrap()),
    )
    .unwrap();
    for path in [&manifest, &packed] {
        let r = run(&["scan", path.to_str().unwrap()], None).fails_with(2);
        one_line_error(&r, "is a backfill-triage manifest, not a log");
    }
}

#[test]
fn a_text_file_that_is_no_backfill_log_is_flagged_not_passed_clean() {
    let dir = tempdir();
    let services = dir.path().join("services");
    // /etc/services where there is one, else a file like it.
    let text = match std::fs::read("/etc/services") {
        Ok(text) => text,
        Err(_) => b"ssh\t\t22/tcp\t\t\t# SSH Remote Login Protocol\n".repeat(300),
    };
    std::fs::write(&services, text).unwrap();
    let s = services.to_str().unwrap();
    let r = run(&["scan", s, "fixtures/sample.log", "-f", "json"], None).success();
    assert_eq!(
        r.stderr(),
        format!(
            "backfill-triage: warning: {s}: no backfill run, attempt or failure recognised in \
             it; is it a backfill log?\n"
        ),
        "{}",
        r.report()
    );
    let v = manifest_of(&r);
    assert_eq!(v["inputs"][0]["recognised"], false);
    assert_eq!(v["inputs"][1]["recognised"], true);
}

#[test]
fn a_damaged_log_without_keep_going_is_exit_2_and_the_old_manifest_stays() {
    let dir = tempdir();
    let log = std::fs::read(root().join("fixtures/sample.log")).unwrap();
    let manifest = dir.path().join("m.json");
    std::fs::write(&manifest, "previous").unwrap();
    for format in COMPRESSIONS {
        let packed = compress(format, &log.repeat(20));
        let path = dir.path().join(format!("cut.{format}"));
        std::fs::write(&path, &packed[..packed.len() * 2 / 3]).unwrap();
        let r = run(
            &[
                "scan",
                path.to_str().unwrap(),
                "-m",
                manifest.to_str().unwrap(),
            ],
            None,
        )
        .fails_with(2);
        one_line_error(&r, &format!("(damaged {format} data)"));
        assert_eq!(std::fs::read_to_string(&manifest).unwrap(), "previous");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no temp file"
        );
        std::fs::remove_file(&path).unwrap();
    }
}

/// A log line for the ordering tests, at `time` on 2025-11-29.
fn line(time: &str, level: &str, text: &str) -> String {
    format!("2025-11-29 {time},000 - {level} - analytics.player_game_summary - {text}\n")
}

/// `run.log*` as a shell expands it: newest first. The oldest fails 2024-01-02, the middle one
/// retries it successfully, the newest fails 2024-01-03.
fn rotated_logs(dir: &Path) {
    let oldest = line(
        "08:00:00",
        "INFO",
        "Starting PlayerGameSummaryProcessor for 2024-01-02",
    ) + &line("08:00:01", "ERROR", "MemoryError");
    let middle = line(
        "10:00:00",
        "INFO",
        "Starting PlayerGameSummaryProcessor for 2024-01-02",
    ) + &line("10:00:01", "INFO", "Successfully processed 2024-01-02");
    let newest = line(
        "12:00:00",
        "INFO",
        "Starting PlayerGameSummaryProcessor for 2024-01-03",
    ) + &line("12:00:01", "ERROR", "MemoryError");
    std::fs::write(
        dir.join("run.log.2.gz"),
        compress("gzip", oldest.as_bytes()),
    )
    .unwrap();
    std::fs::write(dir.join("run.log.1"), middle).unwrap();
    std::fs::write(dir.join("run.log"), newest).unwrap();
}

fn retried_dates(run: &crate::helpers::Run) -> Vec<String> {
    manifest_of(run)["retries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["date"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn rotated_logs_are_read_oldest_first_unless_keep_order() {
    let dir = tempdir();
    rotated_logs(dir.path());
    let newest_first = ["scan", "run.log", "run.log.1", "run.log.2.gz", "-f", "json"];
    let r = run_in(dir.path(), &newest_first, None).success();
    assert_eq!(
        r.stderr(),
        "backfill-triage: reading inputs oldest first: run.log.2.gz, run.log.1, run.log\n"
    );
    assert_eq!(retried_dates(&r), ["2024-01-03"], "{}", r.report());
    let v = manifest_of(&r);
    let paths: Vec<&str> = v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["run.log.2.gz", "run.log.1", "run.log"]);

    let mut kept = newest_first.to_vec();
    kept.push("--keep-order");
    let r = run_in(dir.path(), &kept, None).success();
    assert_eq!(r.stderr(), "", "{}", r.report());
    assert_eq!(
        retried_dates(&r),
        ["2024-01-02", "2024-01-03"],
        "the order given, phantom row and all"
    );

    let in_order = ["scan", "run.log.2.gz", "run.log.1", "run.log", "-f", "json"];
    let r = run_in(dir.path(), &in_order, None).success();
    assert_eq!(r.stderr(), "", "already oldest first: nothing to say");
}

#[test]
fn stdin_keeps_its_place_among_reordered_inputs() {
    let dir = tempdir();
    rotated_logs(dir.path());
    let stdin = line("09:00:00", "INFO", "Found 1 dates to process");
    let r = run_in(
        dir.path(),
        &[
            "scan",
            "run.log",
            "-",
            "run.log.1",
            "run.log.2.gz",
            "-f",
            "json",
        ],
        Some(stdin.as_bytes()),
    )
    .success();
    assert_eq!(
        r.stderr(),
        "backfill-triage: reading inputs oldest first: run.log.2.gz, -, run.log.1, run.log\n"
    );
}

#[test]
fn inputs_without_timestamps_keep_their_order() {
    let dir = tempdir();
    rotated_logs(dir.path());
    std::fs::write(
        dir.path().join("plain.log"),
        "Starting PlayerGameSummaryProcessor for 2024-01-04\n",
    )
    .unwrap();
    let r = run_in(
        dir.path(),
        &["scan", "run.log", "plain.log", "run.log.2.gz", "-f", "json"],
        None,
    )
    .success();
    assert_eq!(r.stderr(), "", "{}", r.report());
}

/// The progress bar counts what is read from the file: compressed bytes for a compressed input,
/// against its size on disk.
#[test]
fn compressed_inputs_count_the_compressed_bytes_read() {
    let processors: Vec<String> = DEFAULT_PROCESSORS.iter().map(|s| s.to_string()).collect();
    let classifier = Classifier::new(backfill_triage::rules::builtin(), &processors).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let scanner = Scanner {
        classifier: &classifier,
        pool: &pool,
        chunk_size: 4096,
        mmap: true,
        keep_mentions: false,
    };
    let dir = tempdir();
    let log = std::fs::read(root().join("fixtures/multi_run.log"))
        .unwrap()
        .repeat(30);
    for format in COMPRESSIONS {
        let path = dir.path().join(format!("run.{format}"));
        std::fs::write(&path, compress(format, &log)).unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        let shown = std::sync::atomic::AtomicU64::new(0);
        let scanned = scanner
            .scan(&Source::Path(path), &mut |_| true, &|read| {
                shown.fetch_max(read, std::sync::atomic::Ordering::Relaxed);
            })
            .unwrap();
        assert_eq!(scanned.read, size, "{format}");
        assert_eq!(scanned.bytes, log.len() as u64, "{format}");
        assert_eq!(shown.into_inner(), size, "{format}: the bar ends full");
    }
}

/// `tput sgr0` prints `ESC ( B ESC [ m`: a line that starts with it is still logged at ERROR.
#[test]
fn a_charset_escape_before_the_level_keeps_the_failure() {
    let log = "Starting PlayerGameSummaryProcessor for 2024-01-02\n\
               \x1b(B\x1b[mERROR analytics.player_game_summary: something went wrong\n";
    let r = run(&["scan", "-", "-f", "events"], Some(log.as_bytes())).success();
    let failure: serde_json::Value = r
        .stdout()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["failure"] == true)
        .unwrap_or_else(|| panic!("the ERROR line is a failure\n{}", r.report()));
    assert_eq!(
        failure["text"],
        "ERROR analytics.player_game_summary: something went wrong"
    );
    assert_eq!(failure["severity"], "error");
}
