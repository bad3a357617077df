//! Arbitrary bytes as a backfill log, through the whole pipeline: classify (`scan_chunk`), fold
//! (`Triage`), and every output writer. Checks, besides "no panic":
//!
//! * the prefilter: `scan_chunk` reports exactly the lines `classify` reports when it reads each
//!   line alone, and `keep_mentions = false` drops exactly the mention-only events;
//! * chunk invariance: cutting the log into chunks with the scanner's own `chunk::bounds` (a
//!   chunk size of 1..=64 bytes taken from the first input byte), scanning each chunk and
//!   renumbering its events with `chunk::Rebase` (as `run_scan` does) gives exactly the
//!   single-chunk event list;
//! * the stream reader (`Scanner::scan_reader`, what stdin and compressed files go through) gives
//!   the same events; so does the log compressed in gzip, xz, zstd or bzip2 (picked by the second
//!   byte); cut short (where the third byte says), it reports the damage and gives exactly the
//!   events of the complete lines before the cut;
//! * every event sits at the start of the line it numbers, in increasing order;
//! * event text is clean (no control characters) and bounded (`MAX_TEXT` + `TRUNCATED`);
//! * mentions do not change the fold: the manifest is byte-identical with or without them;
//! * the outputs are consistent: TSV has one 10-column row per retry, the summary is terminal-safe,
//!   the summary counts add up.
//!
//! See fuzz/README.md for how to run it and `FUZZ_SKIP`.

#![no_main]

#[path = "../common.rs"]
mod common;
use common::skipped;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use backfill_triage::chunk;
use backfill_triage::classify::{Classifier, Event, Signal, MAX_LINE};
use backfill_triage::config::DEFAULT_PROCESSORS;
use backfill_triage::extract::{MAX_TEXT, TRUNCATED};
use backfill_triage::manifest::{InputStats, Reason, Retry};
use backfill_triage::rules::Category;
use backfill_triage::scan::{Chunk, Scanned, Scanner};
use backfill_triage::triage::{Report, Triage};
use backfill_triage::{output, summary};
use libfuzzer_sys::fuzz_target;

const FILE: &str = "fuzz.log";

fn classifier() -> &'static Classifier {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    CLASSIFIER.get_or_init(|| {
        let processors: Vec<String> = DEFAULT_PROCESSORS.iter().map(|s| s.to_string()).collect();
        Classifier::new(backfill_triage::rules::builtin(), &processors)
            .expect("the built-in rules compile")
    })
}

fn memchr_nl(s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == b'\n')
}

/// Scans `data` cut into chunks of about `size` bytes and renumbers every event onto the whole
/// input, with the scanner's own cutting and renumbering. Returns the events and the total newline
/// count.
fn scan_chunked(c: &Classifier, data: &[u8], size: usize, keep: bool) -> (Vec<Event>, u64) {
    let mut events = Vec::new();
    let mut rebase = chunk::Rebase::default();
    let mut newlines = 0;
    for range in chunk::bounds(data, size) {
        let mut chunk = c.scan_chunk(&data[range.clone()], keep);
        rebase.next_chunk(range.start as u64, &mut chunk);
        newlines += chunk.newlines;
        events.extend(chunk.events);
    }
    (events, newlines)
}

/// `data` read as a stream (as stdin and compressed files are) in blocks of `size` bytes: the
/// outcome and the events, renumbered as `run_scan` does.
fn scan_stream(data: &[u8], size: usize) -> Result<(Scanned, Vec<Event>), String> {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a pool")
    });
    let scanner = Scanner {
        classifier: classifier(),
        pool,
        chunk_size: size,
        mmap: false,
        keep_mentions: true,
    };
    let events = Mutex::new(Vec::new());
    let mut rebase = chunk::Rebase::default();
    let mut fold = |chunk: &mut Chunk| {
        rebase.next_chunk(chunk.offset, &mut chunk.events);
        events.lock().unwrap().extend(chunk.events.events.drain(..));
        true
    };
    let scanned = scanner
        .scan_reader(Path::new(FILE), data, &mut fold, &|_| {})
        .map_err(|e| e.to_string())?;
    Ok((scanned, events.into_inner().unwrap()))
}

/// `data` compressed in one of the four formats the scanner reads.
fn compress(format: u8, data: &[u8]) -> (&'static str, Vec<u8>) {
    match format % 4 {
        0 => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).unwrap();
            ("gzip", e.finish().unwrap())
        }
        1 => {
            let mut e = xz2::write::XzEncoder::new(Vec::new(), 0);
            e.write_all(data).unwrap();
            ("xz", e.finish().unwrap())
        }
        2 => ("zstd", zstd::encode_all(data, 1).unwrap()),
        _ => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(data).unwrap();
            ("bzip2", e.finish().unwrap())
        }
    }
}

/// The stream reader and the decompressors against the one-chunk scan: the same events for the
/// whole input, and for a damaged one exactly those of its complete lines before the damage.
fn check_streams(data: &[u8], size: usize, whole: &[Event], lines: u64) {
    let Ok((plain, events)) = scan_stream(data, size) else {
        // Refused by the head check (binary, a manifest) or read as compressed: nothing to compare.
        return;
    };
    if plain.compression.is_some() {
        return;
    }
    assert!(plain.damage.is_none(), "{:?}", plain.damage);
    assert_eq!(
        (plain.bytes, plain.lines),
        (data.len() as u64, lines),
        "stream counts"
    );
    assert!(
        events == whole,
        "the stream reader's events differ from one chunk's"
    );

    let (name, packed) = compress(data.get(1).copied().unwrap_or(0), data);
    let (scanned, events) = scan_stream(&packed, size).expect("compressed text is read");
    assert_eq!(scanned.compression.map(|c| c.as_str()), Some(name));
    assert!(scanned.damage.is_none(), "{name}: {:?}", scanned.damage);
    assert_eq!(
        (scanned.bytes, scanned.lines),
        (plain.bytes, plain.lines),
        "{name} counts"
    );
    assert!(
        events == whole,
        "{name}: events differ from the plain text's"
    );

    let cut = packed.len() * usize::from(data.get(2).copied().unwrap_or(0)) / 256;
    let Ok((damaged, events)) = scan_stream(&packed[..cut], size) else {
        // The head sample of a shorter text may be refused where the whole one was not.
        return;
    };
    let read = usize::try_from(damaged.bytes).unwrap();
    assert!(
        read <= data.len(),
        "{name} cut at {cut}: read past the text"
    );
    assert!(
        read == 0 || data[read - 1] == b'\n',
        "{name} cut at {cut}: a partial line was read"
    );
    assert_eq!(
        damaged.lines,
        data[..read].iter().filter(|&&b| b == b'\n').count() as u64,
        "{name} cut at {cut}: line count"
    );
    let expected: Vec<Event> = whole
        .iter()
        .filter(|e| (e.offset as usize) < read)
        .cloned()
        .collect();
    assert!(
        events == expected,
        "{name} cut at {cut}: events are not those of the complete lines before the damage"
    );
}

/// The events `classify` gives for every line of `data` read on its own: what `scan_chunk`, with
/// whatever prefilter it uses, must reproduce exactly.
fn classify_each_line(c: &Classifier, data: &[u8], keep: bool) -> Vec<Event> {
    let mut events = Vec::new();
    let mut start = 0;
    let mut line_no = 0u64;
    while start < data.len() {
        let end = memchr_nl(&data[start..]).map_or(data.len(), |i| start + i);
        line_no += 1;
        if let Some(mut e) = c.classify(&data[start..end.min(start + MAX_LINE)], keep) {
            e.line = line_no;
            e.offset = start as u64;
            events.push(e);
        }
        start = end + 1;
    }
    events
}

fn first_difference(a: &[Event], b: &[Event]) -> (usize, Option<Event>, Option<Event>) {
    let i = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    (i, a.get(i).cloned(), b.get(i).cloned())
}

fn fold(c: &Classifier, events: &[Event], lines: u64) -> Report {
    let mut triage = Triage::new(c);
    let file = triage.add_file(FILE.to_string());
    for event in events {
        triage.feed(file, event.clone());
    }
    triage.end_of_file(file, lines);
    triage.finish()
}

fn check_events(data: &[u8], events: &[Event], newlines: u64) {
    assert_eq!(
        newlines,
        data.iter().filter(|&&b| b == b'\n').count() as u64,
        "newline count"
    );
    // Walk the input once: line numbers and offsets must agree with the bytes.
    let mut line = 1u64;
    let mut counted = 0usize;
    let mut prev: Option<(u64, u64)> = None;
    for e in events {
        let offset = usize::try_from(e.offset).expect("offset fits");
        assert!(offset < data.len().max(1), "offset {offset} past the input");
        assert!(
            offset == 0 || data[offset - 1] == b'\n',
            "event offset {offset} is not at a line start"
        );
        assert!(offset >= counted, "events out of order");
        line += data[counted..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        counted = offset;
        assert_eq!(e.line, line, "line number of the event at offset {offset}");
        if let Some(p) = prev {
            assert!((e.line, e.offset) > p, "events not strictly increasing");
        }
        prev = Some((e.line, e.offset));

        assert!(
            !e.text.chars().any(char::is_control),
            "control character in event text {:?}",
            e.text
        );
        assert!(
            e.text.len() <= MAX_TEXT + TRUNCATED.len(),
            "event text of {} bytes",
            e.text.len()
        );
        if let Some(p) = e.processor {
            assert!(
                p.index() < DEFAULT_PROCESSORS.len(),
                "processor index {p:?}"
            );
        }
        if let Some(r) = e.rule {
            assert!(r.index() < classifier().rules().len(), "rule index {r:?}");
        }
        if let Signal::Start(start) = &e.signal {
            assert!(!start.dates.is_empty(), "start without dates");
            assert_eq!(
                e.processor,
                Some(start.processor),
                "start of another processor"
            );
        }
        if e.failure {
            assert!(
                matches!(e.signal, Signal::None | Signal::Retry),
                "failure with a signal: {:?}",
                e.signal
            );
        }
    }
}

fn check_report(report: &Report, inputs: &[InputStats]) {
    let s = &report.summary;
    assert_eq!(
        s.attempts,
        s.succeeded + s.failed + s.interrupted,
        "attempts != succeeded + failed + interrupted: {s:?}"
    );
    assert_eq!(s.retries, report.retries.len() as u64);
    assert_eq!(s.by_category.values().sum::<u64>(), s.retries);
    assert_eq!(s.by_processor.values().sum::<u64>(), s.retries);
    let order = |r: &Retry| {
        (
            r.date,
            DEFAULT_PROCESSORS
                .iter()
                .position(|p| *p == r.processor)
                .expect("known processor"),
        )
    };
    for w in report.retries.windows(2) {
        assert!(
            order(&w[0]) < order(&w[1]),
            "retry rows unsorted or repeated"
        );
    }
    for r in &report.retries {
        assert_eq!(r.action, r.category.action());
        match r.reason {
            Reason::Failed => assert!(r.failures >= 1),
            Reason::Interrupted | Reason::NotStarted => {
                assert_eq!(r.category, Category::ScriptInfrastructure)
            }
            Reason::Gap => assert_eq!(r.category, Category::DefensiveCheck),
            Reason::Missing => {}
        }
        assert!(
            !r.error.contains(['\n', '\r', '\t']),
            "raw control in {:?}",
            r.error
        );
    }

    let mut manifest = output::manifest(inputs, report);
    let plan = backfill_triage::plan::plan(
        &mut manifest,
        &Default::default(),
        &Default::default(),
        &classifier().processors().names().to_vec(),
    );
    let _json = manifest_json(&manifest);

    let mut tsv = Vec::new();
    output::write_rows(&mut tsv, &manifest, &plan, b'\t').expect("tsv to a Vec");
    let rows: Vec<&[u8]> = tsv
        .strip_suffix(b"\n")
        .unwrap_or(&tsv)
        .split(|&b| b == b'\n')
        .collect();
    assert_eq!(rows.len(), report.retries.len() + 1, "tsv rows");
    for row in rows {
        assert_eq!(
            row.iter().filter(|&&b| b == b'\t').count(),
            output::COLUMNS.len() - 1,
            "tsv columns"
        );
    }

    let mut csv = Vec::new();
    output::write_rows(&mut csv, &manifest, &plan, b',').expect("csv to a Vec");

    let mut commands = Vec::new();
    output::write_commands(&mut commands, &manifest, &plan).expect("commands to a Vec");
    let script = std::str::from_utf8(&commands).expect("commands are UTF-8");
    assert!(script.starts_with("#!/usr/bin/env bash\n"));
    assert!(script.contains("set -u -o pipefail"));

    let mut text = Vec::new();
    let calendar = backfill_triage::calendar::Calendar::new(
        &report.processors,
        &report.pairs,
        &report.retries,
    );
    let mut painter = backfill_triage::term::Painter {
        out: &mut text,
        color: false,
        width: backfill_triage::term::DEFAULT_WIDTH,
    };
    summary::write_summary(&mut painter, inputs, report, &calendar).expect("summary to a Vec");
    let text = std::str::from_utf8(&text).expect("summary is UTF-8");
    assert!(
        !text.chars().any(|c| c != '\n' && c.is_control()),
        "control character in the summary"
    );
}

fuzz_target!(|data: &[u8]| {
    let c = classifier();

    // (a) one chunk, as a small file is read.
    let whole = c.scan_chunk(data, true);
    check_events(data, &whole.events, whole.newlines);

    let lean = c.scan_chunk(data, false);
    assert_eq!(lean.newlines, whole.newlines);
    if !skipped("prefilter") {
        // scan_chunk's prefilter must never drop a line that classify, reading it alone, reports.
        for (keep, events) in [(true, &whole.events), (false, &lean.events)] {
            let oracle = classify_each_line(c, data, keep);
            if *events != oracle {
                let (i, scanned, alone) = first_difference(events, &oracle);
                panic!(
                    "keep_mentions={keep}: scan_chunk and line-by-line classify differ at event \
                     #{i}: scan_chunk {scanned:?} vs classify {alone:?}"
                );
            }
        }
        // keep_mentions = false drops exactly the lines that are only a rule mention.
        let expected: Vec<Event> = whole
            .events
            .iter()
            .filter(|e| e.failure || e.signal != Signal::None || e.gap_list)
            .cloned()
            .collect();
        if lean.events != expected {
            let (i, lean_e, kept_e) = first_difference(&lean.events, &expected);
            panic!(
                "keep_mentions=false is not keep_mentions=true without mentions at #{i}: \
                 {lean_e:?} vs {kept_e:?}"
            );
        }
    }

    // (c) chunk invariance, for both kinds of scan.
    let size = data.first().map_or(1, |b| usize::from(b % 64) + 1);
    for (keep, single) in [(true, &whole), (false, &lean)] {
        let (chunked, newlines) = scan_chunked(c, data, size, keep);
        assert_eq!(newlines, single.newlines, "chunked newline count");
        if chunked != single.events {
            let (i, a, b) = first_difference(&chunked, &single.events);
            panic!(
                "keep_mentions={keep}, chunk size {size}: event lists differ at #{i}: \
                 chunked {a:?} vs one chunk {b:?}"
            );
        }
    }

    // (b) the fold and every writer, on the events every format but `events` folds.
    let lines = whole.newlines + u64::from(data.last().is_some_and(|&b| b != b'\n'));

    // (d) the stream reader and the decompressors.
    check_streams(data, size, &whole.events, lines);

    let inputs = [InputStats {
        path: FILE.to_string(),
        bytes: data.len() as u64,
        lines,
        compression: None,
        recognised: true,
        error: None,
    }];
    let report = fold(c, &lean.events, lines);
    check_report(&report, &inputs);

    // `--format events` folds the list with mentions: they must not change the manifest. (Only
    // meaningful when the lean list is the mention-free one, which the prefilter check asserts.)
    if !skipped("prefilter") {
        let with_mentions = fold(c, &whole.events, lines);
        assert!(
            manifest_json(&output::manifest(&inputs, &report))
                == manifest_json(&output::manifest(&inputs, &with_mentions)),
            "mention events changed the manifest"
        );
    }
});

/// The manifest as its JSON file holds it.
fn manifest_json(manifest: &backfill_triage::manifest::Manifest) -> Vec<u8> {
    let mut json = Vec::new();
    output::write_manifest_json(&mut json, manifest).expect("json to a Vec");
    json
}
