//! What both fuzz targets share.

use std::sync::OnceLock;

/// Checks named in `FUZZ_SKIP` (comma-separated) are skipped, so that a long run can go on past a
/// known, already reported bug; every other check still runs. Unset, every check runs.
pub fn skipped(check: &str) -> bool {
    static SKIP: OnceLock<Vec<String>> = OnceLock::new();
    SKIP.get_or_init(|| {
        std::env::var("FUZZ_SKIP")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
    .iter()
    .any(|s| s == check)
}
