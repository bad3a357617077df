//! The manifest depends on the input alone: not on thread count, chunk size, mmap or streaming,
//! file or stdin, plain or compressed, nor, for a damaged compressed input, on where the blocks
//! happened to be cut. Property tests cut random logs into chunks small enough to split every
//! attempt.

use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use backfill_triage::classify::Classifier;
use backfill_triage::config::{Config, Format};
use backfill_triage::scan::Source;
use proptest::prelude::*;

use crate::helpers::{assert_text, compress, root, run, tempdir, COMPRESSIONS};

/// The built-in rules, compiled once for every case of every property.
fn classifier() -> &'static Classifier {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    CLASSIFIER.get_or_init(|| {
        backfill_triage::load_classifier(&Config::default()).expect("built-in rules compile")
    })
}

/// The manifest of one scan through the library, or its error (the same at every setting too).
fn manifest(path: &Path, threads: usize, chunk_size: usize, mmap: bool) -> Result<String, String> {
    let config = Config {
        inputs: vec![Source::Path(path.to_path_buf())],
        format: Format::Json,
        threads,
        chunk_size,
        mmap,
        ..Config::default()
    };
    let mut out = Vec::new();
    backfill_triage::scan_with(classifier(), &config, &mut out, &mut std::io::sink())
        .map(|_| String::from_utf8(out).expect("the manifest is UTF-8"))
        .map_err(|e| e.to_string())
}

/// Every line of every fixture log and log shape (every line kind of the attempt model: ranges,
/// lists, per-date lines, skips, retries, summaries, tracebacks and chains, JSON, logfmt, tagged
/// lanes), plus lines that test the reader's edges. Read once.
fn vocabulary() -> &'static [Vec<u8>] {
    static VOCABULARY: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    VOCABULARY.get_or_init(read_vocabulary)
}

fn read_vocabulary() -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    for dir in ["fixtures", "fixtures/shapes"] {
        let mut paths: Vec<_> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .collect();
        paths.sort();
        for path in paths {
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
            let line: &Vec<u8> = pick.get(vocab);
            log.extend_from_slice(line);
        }
        if trailing_newline {
            log.extend_from_slice(sep);
        }
        let dir = tempdir();
        let path = dir.path().join("random.log");
        std::fs::write(&path, &log).unwrap();
        let reference = manifest(&path, 1, 1 << 30, true).expect("a log made of log lines scans");
        prop_assert_eq!(&reference, &manifest(&path, threads, chunk_size, true).unwrap());
        prop_assert_eq!(&reference, &manifest(&path, threads, chunk_size, false).unwrap());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Any bytes at all (newline-rich, so chunks cut lines; mostly printable, so that most pass
    /// the text check): no panic, and the same manifest, or the same refusal, whatever the
    /// chunking, threads and reader.
    #[test]
    fn any_bytes_scan_without_panic_and_invariantly(
        bytes in prop::collection::vec(prop_oneof![
            3 => any::<u8>(), 12 => 0x20u8..0x7f, 2 => Just(b'\n'), 1 => Just(b'-')
        ], 0..3000),
        chunk_size in 1usize..64,
        threads in 1usize..4,
    ) {
        let dir = tempdir();
        let path = dir.path().join("bytes.log");
        std::fs::write(&path, &bytes).unwrap();
        let reference = manifest(&path, 1, 1 << 30, true);
        match &reference {
            Ok(json) => {
                serde_json::from_str::<serde_json::Value>(json).expect("valid JSON");
            }
            Err(e) => prop_assert!(e.ends_with("not a text log: its first bytes are mostly binary"), "{}", e),
        }
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
fn stdin_plain_file_and_every_compression_give_the_same_manifest() {
    let dir = tempdir();
    for name in ["sample", "multi_run", "scenario1_crash"] {
        let bytes = std::fs::read(root().join(format!("fixtures/{name}.log"))).unwrap();
        let copy = dir.path().join(format!("{name}.log"));
        std::fs::write(&copy, &bytes).unwrap();
        let from_file = run(&["scan", copy.to_str().unwrap(), "-f", "json"], None).success();
        let from_stdin = run(
            &["scan", "-", "-f", "json", "--chunk-size", "100"],
            Some(&bytes),
        )
        .success();
        // The same manifest but for the input's name and its compression.
        let as_stdin = |s: String, path: &Path| {
            let mut v: serde_json::Value =
                serde_json::from_str(&s.replace(path.to_str().unwrap(), "-")).unwrap();
            v["inputs"][0]
                .as_object_mut()
                .unwrap()
                .remove("compression");
            serde_json::to_string_pretty(&v).unwrap()
        };
        let expected = as_stdin(from_file.stdout(), &copy);
        assert_text(
            &expected,
            &as_stdin(from_stdin.stdout(), Path::new("-")),
            &format!("{name}: stdin vs file"),
            Some(&from_stdin),
        );
        // Every format on one fixture; each fixture through one format.
        let formats: &[&str] = if name == "sample" {
            &COMPRESSIONS
        } else {
            &["gzip"]
        };
        for &format in formats {
            // Rotated logs are often compressed without a telling name: detection is by content.
            let packed = dir.path().join(format!("{name}.{format}.rotated"));
            std::fs::write(&packed, compress(format, &bytes)).unwrap();
            let packed_name = packed.to_str().unwrap();
            for args in [
                &["scan", packed_name, "-f", "json", "--chunk-size", "77"][..],
                &["scan", "-", "-f", "json", "-j", "3"],
            ] {
                let stdin = (args[1] == "-").then(|| std::fs::read(&packed).unwrap());
                let from_packed = run(args, stdin.as_deref()).success();
                assert_text(
                    &expected,
                    &as_stdin(from_packed.stdout(), &packed),
                    &format!("{name}: {format} vs file"),
                    Some(&from_packed),
                );
                assert!(
                    from_packed
                        .stdout()
                        .contains(&format!("\"compression\": \"{format}\"")),
                    "{}",
                    from_packed.report()
                );
            }
        }
    }
}

/// The complete lines of what the decoder gives before it fails: what a scan of `packed` must
/// fold, however it reads.
fn complete_lines_before_damage(format: &str, packed: &[u8]) -> (u64, u64) {
    let mut decoder: Box<dyn Read> = match format {
        "gzip" => Box::new(flate2::read::MultiGzDecoder::new(packed)),
        "xz" => Box::new(xz2::read::XzDecoder::new_multi_decoder(packed)),
        "zstd" => Box::new(zstd::stream::read::Decoder::new(packed).unwrap()),
        "bzip2" => Box::new(bzip2::read::MultiBzDecoder::new(packed)),
        _ => unreachable!(),
    };
    let mut text = Vec::new();
    assert!(
        decoder.read_to_end(&mut text).is_err(),
        "{format}: the cut must damage the stream"
    );
    let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let lines = text[..complete].iter().filter(|&&b| b == b'\n').count();
    (complete as u64, lines as u64)
}

#[test]
fn a_truncated_compressed_log_gives_the_same_manifest_at_every_chunk_size_and_thread_count() {
    let dir = tempdir();
    // Big enough that every format has several blocks and frames to lose.
    let log = std::fs::read(root().join("fixtures/multi_run.log"))
        .unwrap()
        .repeat(12);
    for format in COMPRESSIONS {
        let mut packed = Vec::new();
        // Several members or frames, as rotation tools and `cat a.gz b.gz` make them.
        for part in log.chunks(log.len() / 3 + 1) {
            packed.extend(compress(format, part));
        }
        // Inside the second and third members (they end near the thirds), and in the last bytes.
        let len = packed.len();
        for cut in [len * 2 / 5, len * 7 / 8, len - 1] {
            let path = dir.path().join(format!("cut-{cut}.{format}"));
            std::fs::write(&path, &packed[..cut]).unwrap();
            let p = path.to_str().unwrap();
            let (bytes, lines) = complete_lines_before_damage(format, &packed[..cut]);
            let what = format!("{format} cut at {cut} of {len}");
            let reference =
                run(&["scan", p, "--keep-going", "-f", "json", "-j", "1"], None).fails_with(3);
            let v: serde_json::Value = serde_json::from_str(&reference.stdout()).unwrap();
            let input = &v["inputs"][0];
            assert_eq!(input["bytes"], bytes, "{what}\n{}", reference.report());
            assert_eq!(input["lines"], lines, "{what}\n{}", reference.report());
            assert_eq!(input["compression"], format, "{what}");
            let error = input["error"].as_str().unwrap();
            assert!(
                error.contains(&format!(
                    "cannot read past line {lines} (damaged {format} data)"
                )),
                "{what}: {error}"
            );
            // Blocks of one line each on several threads (in process: the same code as the
            // binary, without a process start).
            let config = Config {
                inputs: vec![Source::Path(path.clone())],
                format: Format::Json,
                threads: 3,
                chunk_size: 7,
                keep_going: true,
                ..Config::default()
            };
            let mut out = Vec::new();
            let outcome = backfill_triage::run_scan(&config, &mut out, &mut std::io::sink())
                .expect("keep-going scans");
            assert_eq!(outcome.failed_inputs, 1);
            assert_text(
                &reference.stdout(),
                &String::from_utf8(out).unwrap(),
                &format!("{what}: -j 3 --chunk-size 7"),
                None,
            );
            if cut == len - 1 {
                let stdin = run(
                    &[
                        "scan",
                        "-",
                        "--keep-going",
                        "-f",
                        "json",
                        "--chunk-size",
                        "4096",
                    ],
                    Some(&packed[..cut]),
                )
                .fails_with(3);
                assert_text(
                    &reference.stdout().replace(p, "-"),
                    &stdin.stdout(),
                    &format!("{what}: stdin"),
                    Some(&stdin),
                );
            }
        }
    }
}
