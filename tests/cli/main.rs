//! The integration tests: one binary, themed modules. Each runs the built `backfill-triage` (or
//! the library, for property tests) on fixture logs and compares whole outputs.

mod completeness;
mod corpus;
mod fixtures;
mod formats;
mod fuzz_regressions;
mod helpers;
mod invariance;
mod kit;
mod oracle;
mod reliability;
mod report;
mod retry_loops;
mod rules;
mod shapes;
mod templates;
