//! `backfill-triage templates`: reads logs with the same parallel scanner as `scan`, clusters the
//! failure lines no rule names (all failure lines with `--all`) into templates, and prints them
//! most frequent first, as text, JSON, or TOML rule stubs. Only failure lines reach the
//! clusterer, so a healthy log is read at scan speed; memory is bounded by `--max-templates`.

use std::collections::HashSet;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::calendar::Cell;
use crate::chunk::Rebase;
use crate::config::{Config, TemplateFormat};
use crate::error::{Error, Result};
use crate::scan::{Chunk, Scanner};
use crate::term::Painter;
use crate::triage::At;

use super::stub::{self, Stub};
use super::{Template, Templates};

/// Example lines kept per template.
const EXAMPLES: usize = 3;

/// Runs `templates` over the config's inputs and prints the result to `stdout`; with
/// `--keep-going`, inputs skipped or cut short by damage are named on `stderr`. Returns how many
/// were.
pub fn run(config: &Config, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<usize> {
    let classifier = crate::load_classifier(config)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .build()
        .map_err(|e| Error::io("thread pool", io::Error::other(e.to_string())))?;
    let scanner = Scanner {
        classifier: &classifier,
        pool: &pool,
        chunk_size: config.chunk_size,
        mmap: config.mmap,
        keep_mentions: false,
    };
    let options = &config.templates;
    let mut templates = Templates::new(options.max_templates, EXAMPLES);
    let mut files: Vec<String> = Vec::new();
    let mut failure_lines = 0u64;
    let mut failed_inputs = 0;
    for source in &config.inputs {
        let file = files.len() as u32;
        files.push(source.name());
        let mut rebase = Rebase::default();
        let mut fold = |chunk: &mut Chunk| -> bool {
            rebase.next_chunk(chunk.offset, &mut chunk.events);
            for event in chunk.events.events.drain(..) {
                if !event.failure {
                    continue;
                }
                failure_lines += 1;
                if options.all || event.rule.is_none() {
                    let at = At {
                        file,
                        line: event.line,
                    };
                    let category = classifier.category(event.rule);
                    templates.add_event(category, &event.template_key, &event.text, at);
                }
            }
            true
        };
        let problem = match scanner.scan(source, &mut fold, &|_| {}) {
            Ok(scanned) => scanned.damage,
            Err(e @ Error::Interrupted) => return Err(e),
            Err(e) => Some(e),
        };
        match problem {
            Some(e) if config.keep_going => {
                failed_inputs += 1;
                let _ = writeln!(
                    stderr,
                    "backfill-triage: {}",
                    crate::terminal_safe(&e.to_string())
                );
            }
            Some(e) => return Err(e),
            None => {}
        }
        if crate::scan::INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
    }
    let place = |at: At| format!("{}:{}", file_name(&files, at), at.line);
    let sorted = templates.sorted();
    let written = match options.format {
        TemplateFormat::Text => {
            let mut p = Painter {
                out: stdout,
                color: config.color,
                width: config.width,
            };
            write_text(
                &mut p,
                &templates,
                &sorted,
                failure_lines,
                options.all,
                &place,
            )
        }
        TemplateFormat::Json => write_json(stdout, &templates, &sorted, failure_lines, &files),
        TemplateFormat::Toml => {
            let mut taken: HashSet<String> =
                classifier.rules().iter().map(|r| r.id.clone()).collect();
            let mut stubs: Vec<(&Template, Option<Stub>)> = sorted
                .iter()
                .map(|t| (*t, stub::make(t, &classifier, &mut taken)))
                .collect();
            let mut made: Vec<Stub> = stubs.iter().filter_map(|(_, s)| s.clone()).collect();
            stub::check(&mut made, classifier.rules(), &config.processors);
            let mut made = made.into_iter();
            for (_, s) in stubs.iter_mut().filter(|(_, s)| s.is_some()) {
                *s = made.next();
            }
            write_toml(
                stdout,
                &templates,
                &stubs,
                failure_lines,
                options.all,
                &place,
            )
        }
    };
    match written.and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::io("<stdout>", e)),
        _ => Ok(failed_inputs),
    }
}

fn file_name(files: &[String], at: At) -> &str {
    files.get(at.file as usize).map_or("", String::as_str)
}

fn what(all: bool) -> &'static str {
    if all {
        "failure lines"
    } else {
        "failure lines that no rule names"
    }
}

fn write_text(
    p: &mut Painter,
    templates: &Templates,
    sorted: &[&Template],
    failure_lines: u64,
    all: bool,
    place: &dyn Fn(At) -> String,
) -> io::Result<()> {
    let head = format!(
        "{} template{} from {} {} (of {} failure lines), most frequent first",
        sorted.len(),
        if sorted.len() == 1 { "" } else { "s" },
        templates.lines,
        what(all),
        failure_lines
    );
    p.line(&[(Style::new().bold(), &head)])?;
    let dim = Style::new().dimmed();
    for t in sorted {
        let count = format!("{:>8}x  ", t.count);
        let category = crate::term::pad(t.category.as_str(), 22);
        let text = t.text();
        let mut spans = vec![(Style::new().bold(), count.as_str())];
        if all {
            spans.push((Cell::Failed(t.category).style(), category.as_str()));
        }
        spans.push((Style::new(), text.as_str()));
        p.line(&spans)?;
        let pointers: Vec<String> = t.examples.iter().map(|e| place(e.at)).collect();
        let pointers = format!("{:>11}{}", "", pointers.join(", "));
        p.line(&[(dim, &pointers)])?;
    }
    if templates.dropped > 0 {
        let note = format!(
            "{} more line(s) fit none of the {} templates kept (--max-templates)",
            templates.dropped,
            templates.len()
        );
        p.line(&[(AnsiColor::Yellow.on_default(), &note)])?;
    }
    if !all && !sorted.is_empty() {
        p.line(&[(
            dim,
            "next: -f toml > new.toml, choose each category, then rules --check --rules new.toml",
        )])?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonOut<'a> {
    failure_lines: u64,
    /// Lines clustered: those no rule names, or all failure lines with --all.
    lines: u64,
    dropped: u64,
    templates: Vec<JsonTemplate<'a>>,
}

#[derive(Serialize)]
struct JsonTemplate<'a> {
    template: String,
    count: u64,
    category: crate::category::Category,
    examples: Vec<JsonExample<'a>>,
}

#[derive(Serialize)]
struct JsonExample<'a> {
    file: &'a str,
    line: u64,
    text: &'a str,
}

fn write_json(
    out: &mut dyn Write,
    templates: &Templates,
    sorted: &[&Template],
    failure_lines: u64,
    files: &[String],
) -> io::Result<()> {
    let doc = JsonOut {
        failure_lines,
        lines: templates.lines,
        dropped: templates.dropped,
        templates: sorted
            .iter()
            .map(|t| JsonTemplate {
                template: t.text(),
                count: t.count,
                category: t.category,
                examples: t
                    .examples
                    .iter()
                    .map(|e| JsonExample {
                        file: file_name(files, e.at),
                        line: e.at.line,
                        text: &e.text,
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
    writeln!(out)
}

fn write_toml(
    out: &mut dyn Write,
    templates: &Templates,
    stubs: &[(&Template, Option<Stub>)],
    failure_lines: u64,
    all: bool,
    place: &dyn Fn(At) -> String,
) -> io::Result<()> {
    let mut text = String::new();
    text.push_str(&format!(
        "# Rule stubs from backfill-triage templates: {} template(s) from {} {} (of {} failure lines).\n\
         # Set each category, then: backfill-triage rules --check --rules THIS_FILE\n",
        stubs.len(),
        templates.lines,
        what(all),
        failure_lines
    ));
    for (t, s) in stubs {
        text.push('\n');
        match s {
            Some(s) => s.write_toml(&mut text, t, &place(t.first())),
            None => text.push_str(&format!(
                "# {} line(s) like: {t}\n# no constant text to find them by: no stub (first at {})\n",
                t.count,
                place(t.first())
            )),
        }
    }
    out.write_all(text.as_bytes())
}
