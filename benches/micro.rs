//! Micro-benchmarks of the scanner's parts, in bytes per second: the chunk scanner (the whole
//! per-chunk path), the line classifier on interesting lines, and the extractors (dates, levels)
//! every examined line goes through.
//!
//! Run: `cargo bench --bench micro`. Inputs: the bundled sample log repeated to 4 MiB (nearly
//! every line is interesting: the classifier's cost) and typical noise of a healthy run repeated to
//! 4 MiB (the prefilter's cost, which dominates real multi-GB logs).

use std::sync::OnceLock;

use backfill_triage::classify::Classifier;
use backfill_triage::config::DEFAULT_PROCESSORS;
use backfill_triage::{date, extract};
use divan::counter::BytesCount;
use divan::{black_box, Bencher};

fn main() {
    divan::main();
}

fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| {
        let processors: Vec<String> = DEFAULT_PROCESSORS.iter().map(|s| s.to_string()).collect();
        Classifier::new(backfill_triage::rules::builtin(), &processors)
            .expect("built-in rules compile")
    })
}

fn chunk() -> &'static [u8] {
    static DATA: OnceLock<Vec<u8>> = OnceLock::new();
    DATA.get_or_init(|| {
        let sample = include_bytes!("../fixtures/sample.log");
        sample.repeat((4 << 20) / sample.len() + 1)
    })
}

/// Typical noise of a healthy backfill (INFO/DEBUG rows, SQL text, symptom mentions), the bulk of
/// a real multi-GB log, repeated to 4 MiB.
fn noise() -> &'static [u8] {
    static DATA: OnceLock<Vec<u8>> = OnceLock::new();
    DATA.get_or_init(|| {
        let lines = "2025-11-29 10:28:10,958 - INFO - google.cloud.bigquery.job - Job job_8e2eb2830a5adb38 state=DONE bytes_processed=6392356498\n\
            2025-11-29 10:28:10,967 - INFO - analytics.player_game_summary - memory usage 3510 MB (rss), peak 5041 MB\n\
            2025-11-29 10:28:10,971 - INFO - analytics.player_game_summary - Batch 44/53 done: 0 errors\n\
            2025-11-29 10:28:10,992 - DEBUG - analytics.player_game_summary - bigquery query text:\n\
            \x20   SELECT game_id, game_date, team_abbr, player_lookup, points, minutes_played\n\
            \x20   WHERE game_date BETWEEN '2021-10-05' AND '2021-10-19'\n\
            2025-11-29 10:28:11,054 - DEBUG - analytics.player_game_summary - row {'game_date': '2021-10-16', 'points': 20}\n\
            2025-11-29 10:28:11,089 - WARNING - analytics.player_game_summary - Rate limit approaching (93% of quota); sleeping 1s\n\
            2025-11-29 10:28:11,090 - INFO - analytics.player_game_summary - No data found for player 1628369; skipping\n";
        lines.as_bytes().repeat((4 << 20) / lines.len() + 1)
    })
}

fn lines() -> Vec<&'static [u8]> {
    include_bytes!("../fixtures/sample.log")
        .split(|&b| b == b'\n')
        .collect()
}

#[divan::bench]
fn scan_chunk(bencher: Bencher) {
    let data = chunk();
    let c = classifier();
    bencher
        .counter(BytesCount::of_slice(data))
        .bench(|| c.scan_chunk(black_box(data), false));
}

#[divan::bench]
fn scan_chunk_noise(bencher: Bencher) {
    let data = noise();
    let c = classifier();
    bencher
        .counter(BytesCount::of_slice(data))
        .bench(|| c.scan_chunk(black_box(data), false));
}

#[divan::bench]
fn classify_lines(bencher: Bencher) {
    let lines = lines();
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    let c = classifier();
    bencher.counter(BytesCount::new(bytes)).bench(|| {
        for line in &lines {
            black_box(c.classify(black_box(line), false));
        }
    });
}

#[divan::bench]
fn extract_dates(bencher: Bencher) {
    let data = chunk();
    bencher.counter(BytesCount::of_slice(data)).bench(|| {
        let mut n = 0u32;
        for line in black_box(data).split(|&b| b == b'\n') {
            date::for_each_date(line, |_| n += 1);
        }
        n
    });
}

#[divan::bench]
fn extract_level(bencher: Bencher) {
    let data = chunk();
    bencher.counter(BytesCount::of_slice(data)).bench(|| {
        black_box(data)
            .split(|&b| b == b'\n')
            .filter(|line| extract::level(line).is_some())
            .count()
    });
}
