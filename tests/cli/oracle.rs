//! The generator's oracle: `genlog` logs of a few MiB on several seeds, scanned by the built
//! binary, whose retry rows must equal the truth the generator computes from the events it wrote.
//! Covers what hand-made fixtures do not: thousands of attempts, retry rounds, a crash and gap
//! lists mixed in hundreds of noise lines, at a size the test suite can afford.

use std::fmt::Write as _;
use std::fs::File;

use crate::helpers::{assert_text, run, tempdir};

/// Small enough for the whole test to take about a second, big enough for ~60 rows per seed of
/// every reason.
const SIZE: u64 = 3 << 20;
const SEEDS: [u64; 4] = [1, 2, 3, 4];

/// The manifest's retry rows in the columns of [`genlog::truth_tsv`].
fn rows(manifest: &serde_json::Value) -> String {
    let mut out = String::from("date\tprocessor\tcategory\treason\tblocked_by\n");
    for r in manifest["retries"].as_array().expect("retries") {
        let blocked: Vec<&str> = r["blocked_by"]
            .as_array()
            .expect("blocked_by")
            .iter()
            .map(|d| d.as_str().expect("a date"))
            .collect();
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            r["date"].as_str().expect("date"),
            r["processor"].as_str().expect("processor"),
            r["category"].as_str().expect("category"),
            r["reason"].as_str().expect("reason"),
            blocked.join(","),
        )
        .unwrap();
    }
    out
}

#[test]
fn scan_agrees_with_the_generators_truth() {
    let dir = tempdir();
    for seed in SEEDS {
        let path = dir.path().join(format!("seed{seed}.log"));
        let mut file = File::create(&path).expect("log file");
        let log = genlog::generate(SIZE, seed, &mut file).expect("log written");
        let run = run(
            &[
                "scan",
                path.to_str().expect("utf-8 path"),
                "-f",
                "json",
                "-q",
            ],
            None,
        )
        .success();
        let manifest: serde_json::Value =
            serde_json::from_str(&run.stdout()).expect("the manifest is JSON");
        assert_text(
            &genlog::truth_tsv(&log.truth),
            &rows(&manifest),
            &format!(
                "retry rows of seed {seed} vs the generator's truth (expected) \
                 (reproduce: cargo run -p genlog -- --size {SIZE} --seed {seed} --out x.log --truth x.truth.tsv)"
            ),
            Some(&run),
        );
    }
}
