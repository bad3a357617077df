//! The manifest depends on the input alone: not on thread count, chunk size, mmap or streaming,
//! file or stdin, plain or gzip. Property tests cut random logs into chunks small enough to split
//! every attempt.

use std::io::Write;
use std::path::Path;

use backfill_triage::config::{Config, Format};
use backfill_triage::scan::Source;
use proptest::prelude::*;

use crate::helpers::{assert_text, root, run, tempdir};

fn manifest(path: &Path, threads: usize, chunk_size: usize, mmap: bool) -> String {
    let config = Config {
        inputs: vec![Source::Path(path.to_path_buf())],
        format: Format::Json,
        threads,
        chunk_size,
        mmap,
        ..Config::default()
    };
    let mut out = Vec::new();
    backfill_triage::run_scan(&config, &mut out).expect("scan succeeds");
    String::from_utf8(out).expect("the manifest is UTF-8")
}

/// Every line of every fixture log, plus lines that test the reader's edges.
fn vocabulary() -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(root().join("fixtures")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "log") {
            lines.extend(
                std::fs::read(&path)
                    .unwrap()
                    .split(|&b| b == b'\n')
                    .map(<[u8]>::to_vec),
            );
        }
    }
    lines.extend([
        b"\x1b[31mERROR\x1b[0m - analytics.player_game_summary - Query timeout: exceeded 180 seconds".to_vec(),
        b"\xef\xbb\xbfFound 3 dates to process".to_vec(),
        b"ERROR \xff\xfe\x00 binary \x07 garbage".to_vec(),
        b"".to_vec(),
    ]);
    lines
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn chunking_threads_and_mmap_do_not_change_the_manifest(
        picks in prop::collection::vec(any::<prop::sample::Index>(), 0..250),
        crlf in any::<bool>(),
        trailing_newline in any::<bool>(),
        chunk_size in 1usize..400,
        threads in 1usize..5,
    ) {
        let vocab = vocabulary();
        let sep: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let mut log = Vec::new();
        for (i, pick) in picks.iter().enumerate() {
            if i > 0 {
                log.extend_from_slice(sep);
            }
            let line: &Vec<u8> = pick.get(&vocab[..]);
            log.extend_from_slice(line);
        }
        if trailing_newline {
            log.extend_from_slice(sep);
        }
        let dir = tempdir();
        let path = dir.path().join("random.log");
        std::fs::write(&path, &log).unwrap();
        let reference = manifest(&path, 1, 1 << 30, true);
        prop_assert_eq!(&reference, &manifest(&path, threads, chunk_size, true));
        prop_assert_eq!(&reference, &manifest(&path, threads, chunk_size, false));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Any bytes at all (newline-rich, so chunks cut lines): no panic, and the same manifest
    /// whatever the chunking, threads and reader.
    #[test]
    fn any_bytes_scan_without_panic_and_invariantly(
        bytes in prop::collection::vec(prop_oneof![3 => any::<u8>(), 1 => Just(b'\n'), 1 => Just(b'-')], 0..3000),
        chunk_size in 1usize..64,
        threads in 1usize..4,
    ) {
        let dir = tempdir();
        let path = dir.path().join("bytes.log");
        std::fs::write(&path, &bytes).unwrap();
        let reference = manifest(&path, 1, 1 << 30, true);
        serde_json::from_str::<serde_json::Value>(&reference).expect("valid JSON");
        prop_assert_eq!(&reference, &manifest(&path, threads, chunk_size, true));
        prop_assert_eq!(&reference, &manifest(&path, threads, chunk_size, false));
    }
}

#[test]
fn thread_counts_and_tiny_chunks_give_identical_manifests() {
    for name in ["sample", "multi_run", "scenario3_gap"] {
        let log = format!("fixtures/{name}.log");
        let base = run(&["scan", &log, "-f", "json", "-j", "1"], None).success();
        for (threads, chunk) in [("2", "64"), ("7", "1"), ("3", "4096")] {
            let other = run(
                &[
                    "scan",
                    &log,
                    "-f",
                    "json",
                    "-j",
                    threads,
                    "--chunk-size",
                    chunk,
                ],
                None,
            )
            .success();
            assert_text(
                &base.stdout(),
                &other.stdout(),
                &format!("{name} -j {threads} --chunk-size {chunk}"),
                Some(&other),
            );
        }
    }
}

#[test]
fn stdin_plain_file_and_gzip_give_the_same_manifest() {
    let dir = tempdir();
    for name in ["sample", "multi_run", "scenario1_crash"] {
        let log = root().join(format!("fixtures/{name}.log"));
        let bytes = std::fs::read(&log).unwrap();
        let copy = dir.path().join(format!("{name}.log"));
        std::fs::write(&copy, &bytes).unwrap();
        // Rotated logs are often gzip without a .gz name: detection is by content.
        let gz = dir.path().join(format!("{name}.rotated"));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&bytes).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();

        let from_file = run(&["scan", copy.to_str().unwrap(), "-f", "json"], None).success();
        let from_stdin = run(
            &["scan", "-", "-f", "json", "--chunk-size", "100"],
            Some(&bytes),
        )
        .success();
        let from_gz = run(
            &[
                "scan",
                gz.to_str().unwrap(),
                "-f",
                "json",
                "--chunk-size",
                "77",
            ],
            None,
        )
        .success();
        // The same manifest but for the input's name and its gzip flag.
        let as_stdin = |s: String, path: &Path| {
            let mut v: serde_json::Value =
                serde_json::from_str(&s.replace(path.to_str().unwrap(), "-")).unwrap();
            v["inputs"][0].as_object_mut().unwrap().remove("gzip");
            serde_json::to_string_pretty(&v).unwrap()
        };
        let expected = as_stdin(from_file.stdout(), &copy);
        assert_text(
            &expected,
            &as_stdin(from_stdin.stdout(), Path::new("-")),
            &format!("{name}: stdin vs file"),
            Some(&from_stdin),
        );
        assert_text(
            &expected,
            &as_stdin(from_gz.stdout(), &gz),
            &format!("{name}: gzip vs file"),
            Some(&from_gz),
        );
        assert!(
            from_gz.stdout().contains("\"gzip\": true"),
            "{}",
            from_gz.report()
        );
    }
}
