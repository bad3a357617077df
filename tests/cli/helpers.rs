//! Running the binary and comparing outputs, with failures that show the command, its stdout and
//! stderr, and a diff against what was expected.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary, with the variables that change how output looks removed, so that every test sees
/// a plain, 120-column stdout unless it sets them itself.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backfill-triage"));
    cmd.current_dir(root());
    for var in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "COLUMNS"] {
        cmd.env_remove(var);
    }
    cmd
}

/// The result of one run, printable in full when an assertion fails.
pub struct Run {
    pub command: String,
    pub output: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    pub fn report(&self) -> String {
        format!(
            "command: {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.output.status,
            truncate(&self.stdout()),
            truncate(&self.stderr())
        )
    }

    pub fn success(self) -> Run {
        assert!(
            self.output.status.success(),
            "expected success\n{}",
            self.report()
        );
        self
    }

    pub fn fails_with(self, code: i32) -> Run {
        assert_eq!(
            self.code(),
            Some(code),
            "wrong exit code\n{}",
            self.report()
        );
        self
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(4000) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Runs the binary with `args` (relative paths resolve from the repo root) and optional stdin.
pub fn run(args: &[&str], stdin: Option<&[u8]>) -> Run {
    run_in(&root(), args, stdin)
}

pub fn run_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    run_with(dir, args, &[], stdin)
}

/// Runs the binary in `dir` with environment variables set.
pub fn run_with(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Run {
    let mut cmd = bin();
    cmd.envs(env.iter().copied());
    cmd.current_dir(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("the binary runs");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("piped stdin");
        let input = input.to_vec();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = pipe.write_all(&input);
        });
    }
    let output = child.wait_with_output().expect("the binary finishes");
    let env: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    Run {
        command: format!("{}backfill-triage {}", env.concat(), args.join(" ")),
        output,
    }
}

/// Asserts equality of two texts, printing a unified diff and the run that produced `actual`.
pub fn assert_text(expected: &str, actual: &str, what: &str, run: Option<&Run>) {
    if expected == actual {
        return;
    }
    let diff = similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .header("expected", "actual")
        .to_string();
    panic!(
        "{what} differs\n{diff}\n{}",
        run.map(Run::report).unwrap_or_default()
    );
}

/// Compares `actual` with the golden file; `BLESS=1` rewrites the golden file instead.
pub fn assert_golden(golden: &Path, actual: &str, run: &Run) {
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(golden, actual).expect("golden file written");
        return;
    }
    let expected = std::fs::read_to_string(golden)
        .unwrap_or_else(|e| panic!("{}: {e} (run with BLESS=1 to create it)", golden.display()));
    assert_text(&expected, actual, &golden.display().to_string(), Some(run));
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Marks a test that cannot run on this machine (no `setpriv`, no `/dev/full`, no `/proc`): such
/// tests end in `_or_skipped`, and this line goes straight to stderr, past the test harness's
/// capture, so that a skip shows in every `cargo test` log. With `BACKFILL_TRIAGE_NO_SKIP=1`, a
/// skip fails the test instead.
pub fn skipped(test: &str, reason: &str) {
    use std::io::Write;
    if std::env::var_os("BACKFILL_TRIAGE_NO_SKIP").is_some() {
        panic!("{test} cannot run here ({reason}) and BACKFILL_TRIAGE_NO_SKIP is set");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {reason}");
}

/// The compressed formats the scanner reads, by name.
pub const COMPRESSIONS: [&str; 4] = ["gzip", "xz", "zstd", "bzip2"];

/// `bytes` compressed in `format` (one of [`COMPRESSIONS`]).
pub fn compress(format: &str, bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    match format {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
        "xz" => {
            let mut e = xz2::write::XzEncoder::new(Vec::new(), 1);
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
        "zstd" => zstd::encode_all(bytes, 1).unwrap(),
        "bzip2" => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
        other => panic!("unknown format {other}"),
    }
}
