//! SIGINT and SIGTERM: the scan stops with 128 + the signal and writes nothing; a scan blocked on a
//! pipe that sends nothing ends at the second signal.

use std::io::Write;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{bin, tempdir};

const MESSAGE: &str = "backfill-triage: interrupted; no manifest was written\n";

fn signal(child: &Child, signal: i32) {
    // SAFETY: kill only sends a signal, to our own child process.
    let sent = unsafe { libc::kill(child.id() as i32, signal) };
    assert_eq!(sent, 0, "the child exists");
}

/// Waits until the child catches SIGINT and SIGTERM (`SigCgt` in `/proc/<pid>/status`): a signal
/// sent earlier would meet the default action. Without `/proc`, waits a while.
fn wait_for_handlers(child: &Child) {
    let caught = |status: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .is_some_and(|mask| {
                let bit = |s: i32| 1u64 << (s - 1);
                mask & bit(libc::SIGINT) != 0 && mask & bit(libc::SIGTERM) != 0
            })
    };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        match std::fs::read_to_string(format!("/proc/{}/status", child.id())) {
            Ok(status) if caught(&status) => return,
            Ok(_) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => return std::thread::sleep(Duration::from_millis(500)),
        }
    }
    panic!("the child never caught SIGINT and SIGTERM");
}

/// Bytes written to a pipe and not yet read from it.
fn unread(pipe: &std::process::ChildStdin) -> i32 {
    use std::os::fd::AsRawFd;
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer, which points at `n`.
    let ok = unsafe { libc::ioctl(pipe.as_raw_fd(), libc::FIONREAD, &mut n) };
    assert_eq!(ok, 0, "FIONREAD on a pipe");
    n
}

/// Waits up to `limit` for the child to end.
fn ended_within(child: &mut Child, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn sigint_and_sigterm_stop_a_busy_scan_promptly_without_a_manifest() {
    for (sig, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let dir = tempdir();
        let manifest = dir.path().join("m.json");
        let mut child = bin()
            .args(["scan", "-", "--manifest", manifest.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // Keep the scan busy on an endless stdin, then interrupt it.
        let line =
            "2025-11-29 10:00:00,000 - INFO - analytics.player_game_summary - Running query\n"
                .repeat(10_000);
        let writer = std::thread::spawn(move || while stdin.write_all(line.as_bytes()).is_ok() {});
        wait_for_handlers(&child);
        std::thread::sleep(Duration::from_millis(100));
        signal(&child, sig);
        assert!(
            ended_within(&mut child, Duration::from_secs(5)),
            "signal {sig}: stopped promptly"
        );
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), MESSAGE);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no manifest, no temp file"
        );
    }
}

/// `tail -f run.log | backfill-triage scan -`: the scan waits for lines that do not come. The first
/// signal asks it to stop at its next block, which never comes; the second ends it at once.
#[test]
fn a_second_signal_ends_a_scan_blocked_on_an_idle_pipe() {
    for (sig, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let dir = tempdir();
        let manifest = dir.path().join("m.json");
        let mut child = bin()
            .args(["scan", "-", "--manifest", manifest.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"2025-11-29 10:00:00,000 - INFO - Found 3 dates to process\n")
            .unwrap();
        // The pipe stays open and idle: once the scan has read the line, it is blocked reading
        // for more (its signal handlers were installed before it read anything).
        let start = Instant::now();
        while unread(&stdin) > 0 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the scan reads stdin"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(50));
        signal(&child, sig);
        assert!(
            !ended_within(&mut child, Duration::from_millis(300)),
            "signal {sig}: the first signal cannot end a blocked read (this test would not \
             reach the second-signal path)"
        );
        signal(&child, sig);
        assert!(
            ended_within(&mut child, Duration::from_secs(2)),
            "signal {sig}: the second signal ends the scan at once"
        );
        let out = child.wait_with_output().unwrap();
        drop(stdin);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), MESSAGE);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
