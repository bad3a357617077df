//! Every input the fuzzers found a bug with (fuzz/regressions/), replayed with the fuzz targets'
//! checks: the scanner's prefilter never drops a line classify accepts, chunking changes nothing,
//! and a bad rule file is a one-line error.

use backfill_triage::chunk;
use backfill_triage::classify::Classifier;
use backfill_triage::config::DEFAULT_PROCESSORS;

use crate::helpers::{root, run};

fn inputs(target: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("fuzz/regressions").join(target))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

#[test]
fn line_pipeline_regressions() {
    let processors: Vec<String> = DEFAULT_PROCESSORS.iter().map(|s| s.to_string()).collect();
    let classifier = Classifier::new(backfill_triage::rules::builtin(), &processors).unwrap();
    for path in inputs("line_pipeline") {
        let data = std::fs::read(&path).unwrap();
        let whole = classifier.scan_chunk(&data, false).events;
        // The prefilter agrees with classify on every line.
        let mut offset = 0;
        let mut by_line = Vec::new();
        for (i, line) in data.split(|&b| b == b'\n').enumerate() {
            if let Some(mut event) = classifier.classify(line, false) {
                event.line = i as u64 + 1;
                event.offset = offset as u64;
                by_line.push(event);
            }
            offset += line.len() + 1;
        }
        assert_eq!(whole, by_line, "{}", path.display());
        // One chunk per line, cut and renumbered by the scanner's own code, gives the same events.
        let mut chunked = Vec::new();
        let mut rebase = chunk::Rebase::default();
        for range in chunk::bounds(&data, 1) {
            let mut events = classifier.scan_chunk(&data[range.clone()], false);
            rebase.next_chunk(range.start as u64, &mut events);
            chunked.extend(events.events);
        }
        assert_eq!(whole, chunked, "{}", path.display());
        run(&["scan", path.to_str().unwrap(), "-f", "json"], None).success();
    }
}

/// Inputs named `error-*` are rule files that must be refused: exit 2 with a one-line error that
/// names the file. The others must load.
#[test]
fn rule_file_regressions_are_one_line_errors() {
    for path in inputs("rule_file") {
        let r = run(&["rules", "--rules", path.to_str().unwrap()], None);
        let name = path.file_name().unwrap().to_str().unwrap();
        if name.starts_with("error-") {
            let r = r.fails_with(2);
            assert_eq!(r.stderr().lines().count(), 1, "{}", r.report());
            assert!(
                r.stderr()
                    .starts_with(&format!("backfill-triage: {}:", path.display())),
                "{}",
                r.report()
            );
        } else {
            r.success();
        }
    }
}
