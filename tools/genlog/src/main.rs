//! The `genlog` command line: `--size N[K|M|G|T] [--seed N] [--out PATH] [--truth PATH]
//! [--failures-only]`. Writes the log (to stdout without `--out`), its truth as TSV with `--truth`,
//! and one summary line on stderr. `--failures-only` writes a log made only of failure lines and
//! tracebacks ([`genlog::generate_failures`]), which has no truth: `--truth` is refused with it.

use std::fs::File;
use std::io;
use std::time::Instant;

const USAGE: &str = "usage: genlog --size N[K|M|G|T] [--seed N] [--out PATH] [--truth PATH] [--failures-only]
  e.g. cargo run --release -p genlog -- --size 2G --seed 42 --out /tmp/big.log --truth /tmp/big.log.truth.tsv
  --failures-only: only failure lines and tracebacks (a night where everything failed); no truth";

/// `2G`, `500M`, `10M`, `200K`, `1.5G`, `123`; binary multiples; `B`/`iB` suffixes tolerated.
fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, mult) = match t.chars().last()? {
        'k' | 'K' => (&t[..t.len() - 1], 1u64 << 10),
        'm' | 'M' => (&t[..t.len() - 1], 1 << 20),
        'g' | 'G' => (&t[..t.len() - 1], 1 << 30),
        't' | 'T' => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let v: f64 = num.parse().ok()?;
    if v.is_nan() || v <= 0.0 {
        return None;
    }
    Some((v * mult as f64) as u64)
}

fn die(msg: &str) -> ! {
    eprintln!("genlog: {msg}\n{USAGE}");
    std::process::exit(2);
}

fn main() {
    let mut size: Option<u64> = None;
    let mut seed: u64 = 42;
    let mut out: Option<String> = None;
    let mut truth_path: Option<String> = None;
    let mut failures_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut val = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .unwrap_or_else(|| die(&format!("{name} needs a value")))
        };
        match key.as_str() {
            "--size" => {
                size = Some(parse_size(&val("--size")).unwrap_or_else(|| die("bad --size")))
            }
            "--seed" => seed = val("--seed").parse().unwrap_or_else(|_| die("bad --seed")),
            "--out" => out = Some(val("--out")),
            "--truth" => truth_path = Some(val("--truth")),
            "--failures-only" => failures_only = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => die(&format!("unknown argument {other:?}")),
        }
    }
    let size = size.unwrap_or_else(|| die("--size is required"));
    if failures_only && truth_path.is_some() {
        die(
            "--failures-only writes no truth: its failures belong to no attempt the oracle replays",
        );
    }
    let generate = |size, seed, mut out: &mut dyn io::Write| {
        if failures_only {
            genlog::generate_failures(size, seed, &mut out)
        } else {
            genlog::generate(size, seed, &mut out)
        }
    };

    let t0 = Instant::now();
    let written = match &out {
        Some(p) if p != "-" => {
            let mut file = File::create(p).unwrap_or_else(|e| die(&format!("{p}: {e}")));
            generate(size, seed, &mut file)
        }
        _ => generate(size, seed, &mut io::stdout().lock()),
    };
    let log = match written {
        Ok(log) => log,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => die(&format!("write: {e}")),
    };
    if let Some(tp) = &truth_path {
        std::fs::write(tp, genlog::truth_tsv(&log.truth))
            .unwrap_or_else(|e| die(&format!("{tp}: {e}")));
    }
    let count = |reason: &str| log.truth.iter().filter(|r| r.reason == reason).count();
    let secs = t0.elapsed().as_secs_f64();
    if failures_only {
        eprintln!(
            "genlog: {} bytes, {} lines, {} failures over {} dates, seed {seed}, failures only \
             (no truth), {:.1}s ({:.0} MB/s)",
            log.bytes,
            log.lines,
            log.attempts,
            log.dates,
            secs,
            log.bytes as f64 / secs.max(1e-9) / 1e6,
        );
        return;
    }
    eprintln!(
        "genlog: {} bytes, {} lines, {} dates, {} runs (1 crash), {} attempts, {} retry rows \
         (failed {}, interrupted {}, gap {}), seed {seed}, {:.1}s ({:.0} MB/s)",
        log.bytes,
        log.lines,
        log.dates,
        log.runs,
        log.attempts,
        log.truth.len(),
        count("failed"),
        count("interrupted"),
        count("gap"),
        secs,
        log.bytes as f64 / secs.max(1e-9) / 1e6,
    );
}
