//! Files under the scan: a mapping that fails or whose file shrinks, a log that grows while it is
//! read; and the manifest file itself: to stdout, its mode, concurrent writers.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;

use super::one_line_error;
use crate::helpers::{bin, root, run, skipped, tempdir, Run};

/// Whether the process maps `path` (`/proc/<pid>/maps`); `None` without `/proc`.
fn maps(pid: u32, path: &Path) -> Option<bool> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    Some(maps.contains(path.to_str().unwrap()))
}

/// Whether the process has `path` open (`/proc/<pid>/fd`); `None` without `/proc`.
fn has_open(pid: u32, path: &Path) -> Option<bool> {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    Some(
        fds.flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == path)),
    )
}

/// A scan of `path` with `-f events` on a pipe this test reads only when it says so: the scan
/// is paused mid-file, with its input open (and mapped), as long as the pipe stays full.
struct PausedScan {
    child: std::process::Child,
    stdout: std::process::ChildStdout,
}

impl PausedScan {
    fn start(path: &Path, extra: &[&str]) -> PausedScan {
        let mut child = bin()
            .args(["scan", path.to_str().unwrap(), "-f", "events", "-j", "1"])
            .args(["--chunk-size", "65536"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        // Events flow: the scan is past opening (and mapping) the file.
        let mut first = [0u8; 1024];
        stdout.read_exact(&mut first).unwrap();
        PausedScan { child, stdout }
    }

    /// Lets the scan run to its end.
    fn finish(mut self) -> std::process::Output {
        std::io::copy(&mut self.stdout, &mut std::io::sink()).unwrap();
        self.child.wait_with_output().unwrap()
    }
}

fn failure_lines(n: usize) -> String {
    "2025-11-29 10:00:00,000 - ERROR - analytics.player_game_summary - Query timeout: exceeded 180 seconds\n"
        .repeat(n)
}

#[test]
fn a_file_truncated_while_mapped_is_reported_not_a_crash_or_skipped() {
    let dir = tempdir();
    let path = dir.path().join("rotating.log");
    std::fs::write(&path, failure_lines(20_000)).unwrap();
    let scan = PausedScan::start(&path, &[]);
    let Some(mapped) = maps(scan.child.id(), &path) else {
        skipped(
            "a_file_truncated_while_mapped_is_reported_not_a_crash_or_skipped",
            "no /proc to see the mapping",
        );
        return;
    };
    assert!(mapped, "the scan maps the file");
    // copytruncate: the file shrinks to nothing under the mapping, mid-scan.
    File::create(&path).unwrap();
    let out = scan.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("rotating.log: the file shrank while it was being read"),
        "{stderr}"
    );
}

#[test]
fn a_growing_log_is_read_up_to_its_size_at_open_or_skipped() {
    for mode in [&[][..], &["--no-mmap"]] {
        let dir = tempdir();
        let path = dir.path().join("growing.log");
        let manifest = dir.path().join("m.json");
        let at_open = failure_lines(20_000);
        std::fs::write(&path, &at_open).unwrap();
        let mut args = vec!["-m", manifest.to_str().unwrap()];
        args.extend(mode);
        let scan = PausedScan::start(&path, &args);
        let Some(open) = has_open(scan.child.id(), &path) else {
            skipped(
                "a_growing_log_is_read_up_to_its_size_at_open_or_skipped",
                "no /proc to see the open file",
            );
            return;
        };
        assert!(open, "{mode:?}: the scan has the file open");
        // The writer goes on logging while the scan reads.
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        log.write_all(failure_lines(5_000).as_bytes()).unwrap();
        let out = scan.finish();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
        let final_size = std::fs::metadata(&path).unwrap().len();
        assert_eq!(v["inputs"][0]["bytes"], at_open.len(), "{mode:?}");
        assert!((at_open.len() as u64) < final_size);
        assert_eq!(v["inputs"][0]["lines"], 20_000, "{mode:?}");
    }
}

/// A file that cannot be mapped is read instead: with the address space limited below the file's
/// size, mapping it must fail, so only the fallback can scan it.
#[test]
fn a_file_that_cannot_be_mapped_is_read_instead() {
    let dir = tempdir();
    let path = dir.path().join("huge-sparse.log");
    let head = std::fs::read(root().join("fixtures/sample.log")).unwrap();
    let mut file = File::create(&path).unwrap();
    file.write_all(&head).unwrap();
    // The rest is a hole: NULs, read from no disk.
    file.set_len(128 << 20).unwrap();
    let mut cmd = bin();
    cmd.args(["scan", path.to_str().unwrap(), "-f", "json", "-j", "1"])
        .env("MALLOC_ARENA_MAX", "1");
    // SAFETY: setrlimit is async-signal-safe and touches only the child about to exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 96 << 20,
                rlim_max: 96 << 20,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    let run = Run {
        command: "backfill-triage scan huge-sparse.log (RLIMIT_AS 96 MiB)".to_string(),
        output: out,
    }
    .success();
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(v["inputs"][0]["bytes"], 128u64 << 20, "{}", run.report());
    assert_eq!(v["summary"]["retries"], 13, "{}", run.report());
}

fn scan_with_umask(args: &[&str]) -> Run {
    let mut cmd = bin();
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    // SAFETY: umask is async-signal-safe and touches only the child about to exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    Run {
        command: format!("backfill-triage {}", args.join(" ")),
        output: cmd.output().unwrap(),
    }
}

#[test]
fn a_new_manifest_gets_the_usual_mode_and_a_rewritten_one_keeps_its_own() {
    let dir = tempdir();
    let manifest = dir.path().join("m.json");
    let m = manifest.to_str().unwrap();
    let mode = || std::fs::metadata(&manifest).unwrap().permissions().mode() & 0o7777;
    scan_with_umask(&["scan", "fixtures/sample.log", "-m", m]).success();
    assert_eq!(mode(), 0o644, "a new file under umask 022");
    // Wider and narrower than the umask would make: both kept.
    for kept in [0o664, 0o600] {
        std::fs::set_permissions(&manifest, std::fs::Permissions::from_mode(kept)).unwrap();
        scan_with_umask(&["scan", "fixtures/sample.log", "-m", m]).success();
        assert_eq!(mode(), kept);
    }
}

#[test]
fn concurrent_scans_leave_one_complete_manifest() {
    let dir = tempdir();
    let manifest = dir.path().join("m.json");
    let m = manifest.to_str().unwrap();
    let logs = [
        "fixtures/sample.log",
        "fixtures/multi_run.log",
        "fixtures/scenario3_gap.log",
        "fixtures/scenario6_completed_with_failures.log",
    ];
    let expected: Vec<String> = logs
        .iter()
        .map(|log| run(&["scan", log, "-f", "json"], None).success().stdout())
        .collect();
    for round in 0..3 {
        let mut children: Vec<_> = logs
            .iter()
            .map(|log| {
                bin()
                    .args(["scan", log, "-m", m, "-q"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        // Meanwhile a reader only ever sees whole manifests.
        while !children.iter_mut().all(|c| c.try_wait().unwrap().is_some()) {
            if let Ok(text) = std::fs::read_to_string(&manifest) {
                assert!(
                    expected.contains(&text),
                    "round {round}: a mixed or partial manifest"
                );
            }
        }
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let text = std::fs::read_to_string(&manifest).unwrap();
        assert!(
            expected.contains(&text),
            "round {round}: one whole manifest"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}

#[test]
fn the_manifest_to_stdout_goes_alone_into_a_pipe_or_a_redirected_file() {
    let expected = run(&["scan", "fixtures/sample.log", "-f", "json"], None)
        .success()
        .stdout();
    for target in ["-", "/dev/stdout"] {
        let piped = run(&["scan", "fixtures/sample.log", "-m", target], None).success();
        assert_eq!(piped.stdout(), expected, "{}", piped.report());
        let dir = tempdir();
        let out_path = dir.path().join("out.json");
        let out = bin()
            .args(["scan", "fixtures/sample.log", "-m", target])
            .stdout(File::create(&out_path).unwrap())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(&out_path).unwrap(),
            expected,
            "{target} > file"
        );
    }
    let clash = run(
        &["scan", "fixtures/sample.log", "-m", "-", "-f", "csv"],
        None,
    )
    .fails_with(2);
    assert!(
        clash
            .stderr()
            .contains("cannot go with a --format other than json"),
        "{}",
        clash.report()
    );
}

#[test]
fn duplicate_processor_names_are_a_usage_error() {
    let r = run(
        &["scan", "fixtures/sample.log", "--processors", "a,b, a"],
        None,
    )
    .fails_with(2);
    assert!(r.stderr().contains("'a' is listed twice"), "{}", r.report());
}

#[test]
fn rules_reports_a_failed_write_or_skipped() {
    if !Path::new("/dev/full").exists() {
        skipped("rules_reports_a_failed_write_or_skipped", "no /dev/full");
        return;
    }
    let out = bin()
        .args(["rules"])
        .stdout(File::create("/dev/full").unwrap())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let r = Run {
        command: "backfill-triage rules > /dev/full".to_string(),
        output: out,
    }
    .fails_with(2);
    one_line_error(&r, "<stdout>: No space left on device");
}
