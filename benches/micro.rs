//! Micro-benchmarks of the scanner's parts, in bytes per second: the chunk scanner (the whole
//! per-chunk path), the line classifier on interesting lines, and the extractors (dates, levels)
//! every examined line goes through.
//!
//! Run: `cargo bench --bench micro`. The input is the bundled sample log repeated to 4 MiB, so
//! the mix of noise and failures is the fixtures'.

use std::sync::OnceLock;

use backfill_triage::classify::Classifier;
use backfill_triage::config::DEFAULT_PROCESSORS;
use backfill_triage::extract;
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
            extract::for_each_date(line, |_| n += 1);
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
