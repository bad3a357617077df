//! `--run-history FILE.csv`: an export of the platform's `processor_run_history` table (what
//! `bq query --format=csv` prints), read into one record per row of a known processor.
//!
//! The file has a header. The columns used are `data_date`, `processor_name` (a class name such as
//! `PlayerGameSummaryProcessor` or a snake name) and `success` (`true`/`false`/`1`/`0`, any case),
//! and, when present, `error_message`, `created_at` and `phase`; any other column is ignored, as
//! are the rows of processors not in `--processors` (the table holds every phase's). A missing
//! required column or a bad value is an error naming the file, the line and the column. Quoted
//! fields may hold commas and newlines (tracebacks in `error_message`).

use std::path::Path;
use std::sync::Arc;

use crate::date::{Date, Timestamp};
use crate::error::{Error, Result};
use crate::processors::{ProcessorId, ProcessorNames};

/// The columns the reader needs; the first three are required.
const DATA_DATE: &str = "data_date";
const PROCESSOR_NAME: &str = "processor_name";
const SUCCESS: &str = "success";
const ERROR_MESSAGE: &str = "error_message";
const CREATED_AT: &str = "created_at";
const PHASE: &str = "phase";

/// Names of ignored processors kept for the report, so that a naming mismatch is visible.
pub const IGNORED_NAMES: usize = 10;

/// One row of the export, of a known processor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub date: Date,
    pub processor: ProcessorId,
    pub success: bool,
    /// `created_at`, when the column is there and the value is not empty.
    pub time: Option<Timestamp>,
    /// `error_message` of a failure (empty for successes: nothing reads it).
    pub message: String,
    /// The phase for the retry command (`phase_3_analytics` -> `analytics`), when it is a plain
    /// word: it is written into shell commands.
    pub phase: Option<Arc<str>>,
    /// The line the row starts on (the header is line 1).
    pub line: u64,
}

/// The whole export.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The path as given, for evidence.
    pub file: String,
    pub records: Vec<Record>,
    /// Data rows read, ignored ones included.
    pub rows: u64,
    /// Rows of processors not in the list.
    pub ignored: u64,
    /// The first few distinct ignored processor names, sorted.
    pub ignored_names: Vec<String>,
}

/// A header-and-rows CSV file read record by record with the line each record starts on. The
/// file is read whole (a 100,000-row export is a few MB); lines are counted from the bytes, so
/// comments, blank lines, CRLF and quoted newlines never shift them. Fields are read trimmed
/// ([`field`]; the reader's own trimming copies every record).
pub(crate) struct CsvFile {
    pub name: String,
    reader: csv::Reader<std::io::Cursor<Vec<u8>>>,
    /// Byte offsets of every `\n`.
    newlines: Vec<u64>,
    comment: Option<u8>,
}

impl CsvFile {
    /// Opens `path`; `comment` makes lines starting with that byte comments.
    pub fn open(path: &Path, comment: Option<u8>) -> Result<CsvFile> {
        if path.is_dir() {
            return Err(Error::IsDirectory {
                path: path.to_path_buf(),
            });
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let newlines = memchr::memchr_iter(b'\n', &bytes)
            .map(|i| i as u64)
            .collect();
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .comment(comment)
            .from_reader(std::io::Cursor::new(bytes));
        Ok(CsvFile {
            name: path.display().to_string(),
            reader,
            newlines,
            comment,
        })
    }

    /// The 1-based line of a byte offset.
    fn line_at(&self, byte: u64) -> u64 {
        self.newlines.partition_point(|&n| n < byte) as u64 + 1
    }

    /// The line a record starts on. The reader's position is where it began reading, before
    /// the blank and comment lines it skipped.
    fn record_line(&self, byte: u64) -> u64 {
        let bytes = self.reader.get_ref().get_ref();
        let mut line = self.line_at(byte);
        let mut at = byte as usize;
        while at < bytes.len() {
            let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
            let text = &bytes[at..end];
            let skipped = text.is_empty()
                || text == b"\r"
                || self.comment.is_some_and(|c| text.first() == Some(&c));
            if !skipped || end == bytes.len() {
                break;
            }
            at = end + 1;
            line += 1;
        }
        line
    }

    /// Reads the next record into `record` and returns its line, or `None` at the end. A UTF-8
    /// BOM before the first field is dropped.
    pub fn next(&mut self, record: &mut csv::ByteRecord) -> Result<Option<u64>> {
        match self.reader.read_byte_record(record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let line = self.record_line(record.position().map_or(0, |p| p.byte()));
                if line == 1 && record.get(0).is_some_and(|f| f.starts_with(BOM)) {
                    let fields: Vec<Vec<u8>> = record
                        .iter()
                        .enumerate()
                        .map(|(i, f)| {
                            let f = if i == 0 { &f[BOM.len()..] } else { f };
                            f.to_vec()
                        })
                        .collect();
                    let position = record.position().cloned();
                    *record = csv::ByteRecord::from(fields);
                    record.set_position(position);
                }
                Ok(Some(line))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| self.line_at(p.byte()));
                match e.into_kind() {
                    csv::ErrorKind::Io(io) => Err(Error::io(&self.name, io)),
                    other => Err(table_error(&self.name, line, None, format!("{other:?}"))),
                }
            }
        }
    }
}

/// Field `i` of a record, without surrounding whitespace.
pub(crate) fn field(record: &csv::ByteRecord, i: usize) -> Option<&[u8]> {
    record.get(i).map(<[u8]>::trim_ascii)
}

pub(crate) fn table_error(file: &str, line: u64, column: Option<&str>, message: String) -> Error {
    Error::Table {
        file: file.to_string(),
        line,
        column: column.map(str::to_string),
        message,
    }
}

const BOM: &[u8] = b"\xef\xbb\xbf";

/// A field for an error message: lossy, quoted, bounded.
pub(crate) fn shown(field: &[u8]) -> String {
    let text = String::from_utf8_lossy(&field[..field.len().min(80)]);
    format!("{:?}", text)
}

/// Reads the export. `names` resolves `processor_name`.
pub fn read(path: &Path, names: &ProcessorNames) -> Result<History> {
    let mut csv = CsvFile::open(path, None)?;
    let file = csv.name.clone();
    let error = |line: u64, column: Option<&str>, message: String| {
        table_error(&file, line, column, message)
    };
    let mut header = csv::ByteRecord::new();
    if csv.next(&mut header)?.is_none() {
        return Err(error(
            1,
            None,
            format!(
                "empty file: expected a header with {DATA_DATE}, {PROCESSOR_NAME} and {SUCCESS}"
            ),
        ));
    }
    let find = |name: &str| {
        header
            .iter()
            .position(|h| h.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
    };
    let required = |name: &str| {
        find(name).ok_or_else(|| {
            let columns: Vec<String> = header
                .iter()
                .map(|h| String::from_utf8_lossy(h).into_owned())
                .collect();
            error(
                1,
                Some(name),
                format!("missing from the header (it has: {})", columns.join(", ")),
            )
        })
    };
    let date_col = required(DATA_DATE)?;
    let name_col = required(PROCESSOR_NAME)?;
    let success_col = required(SUCCESS)?;
    let (message_col, time_col, phase_col) = (find(ERROR_MESSAGE), find(CREATED_AT), find(PHASE));

    let mut history = History {
        file: file.clone(),
        ..History::default()
    };
    let mut ignored_names: Vec<String> = Vec::new();
    let mut phases: Vec<(Vec<u8>, Option<Arc<str>>)> = Vec::new();
    let mut record = csv::ByteRecord::new();
    while let Some(line) = csv.next(&mut record)? {
        history.rows += 1;
        let required = |col: usize, name: &str| {
            field(&record, col)
                .ok_or_else(|| error(line, Some(name), "missing value (short row)".into()))
        };
        let date_text = required(date_col, DATA_DATE)?;
        let date = Date::parse(date_text)
            .or_else(|| Timestamp::parse(date_text).map(Timestamp::date))
            .ok_or_else(|| {
                error(
                    line,
                    Some(DATA_DATE),
                    format!("not a YYYY-MM-DD date: {}", shown(date_text)),
                )
            })?;
        let success_text = required(success_col, SUCCESS)?;
        let success = parse_bool(success_text).ok_or_else(|| {
            error(
                line,
                Some(SUCCESS),
                format!(
                    "not a boolean (true, false, 1 or 0): {}",
                    shown(success_text)
                ),
            )
        })?;
        let time = match time_col.and_then(|c| field(&record, c)) {
            None | Some(b"") => None,
            Some(text) => Some(Timestamp::parse(text).ok_or_else(|| {
                error(
                    line,
                    Some(CREATED_AT),
                    format!("not a timestamp (YYYY-MM-DD HH:MM:SS): {}", shown(text)),
                )
            })?),
        };
        let name = required(name_col, PROCESSOR_NAME)?;
        if name.is_empty() {
            return Err(error(line, Some(PROCESSOR_NAME), "empty".into()));
        }
        let Some(processor) = names.lookup(name) else {
            history.ignored += 1;
            let name = String::from_utf8_lossy(name).into_owned();
            if let Err(at) = ignored_names.binary_search(&name) {
                if ignored_names.len() < IGNORED_NAMES {
                    ignored_names.insert(at, name);
                }
            }
            continue;
        };
        let message = match message_col.and_then(|c| field(&record, c)) {
            Some(text) if !success => String::from_utf8_lossy(text).into_owned(),
            _ => String::new(),
        };
        let phase = match phase_col.and_then(|c| field(&record, c)) {
            None => None,
            // A handful of distinct values: each is read once.
            Some(raw) => match phases.iter().find(|(r, _)| r.as_slice() == raw) {
                Some((_, phase)) => phase.clone(),
                None => {
                    let phase: Option<Arc<str>> = command_phase(raw).map(Arc::from);
                    if phases.len() < 16 {
                        phases.push((raw.to_vec(), phase.clone()));
                    }
                    phase
                }
            },
        };
        history.records.push(Record {
            date,
            processor,
            success,
            time,
            message,
            phase,
            line,
        });
    }
    history.ignored_names = ignored_names;
    Ok(history)
}

fn parse_bool(text: &[u8]) -> Option<bool> {
    if text.eq_ignore_ascii_case(b"true") || text == b"1" {
        Some(true)
    } else if text.eq_ignore_ascii_case(b"false") || text == b"0" {
        Some(false)
    } else {
        None
    }
}

/// The phase of a retry command from the table's phase: `phase_3_analytics` -> `analytics`,
/// `analytics` as is. Only a plain word (letters, digits, `_`) is kept: it goes into commands.
fn command_phase(text: &[u8]) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let word = lower
        .strip_prefix(b"phase_")
        .and_then(|rest| {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            (digits > 0).then(|| &rest[digits..])
        })
        .and_then(|rest| rest.strip_prefix(b"_"))
        .unwrap_or(&lower);
    let plain = !word.is_empty() && word.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    plain.then(|| String::from_utf8_lossy(word).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_and_phases() {
        assert_eq!(parse_bool(b"TRUE"), Some(true));
        assert_eq!(parse_bool(b"False"), Some(false));
        assert_eq!(parse_bool(b"1"), Some(true));
        assert_eq!(parse_bool(b"0"), Some(false));
        assert_eq!(parse_bool(b"yes"), None);
        assert_eq!(parse_bool(b""), None);
        let phase = |s: &str| command_phase(s.as_bytes());
        assert_eq!(phase("phase_3_analytics").as_deref(), Some("analytics"));
        assert_eq!(phase("Phase_4_Precompute").as_deref(), Some("precompute"));
        assert_eq!(phase("analytics").as_deref(), Some("analytics"));
        assert_eq!(phase("phase_3"), Some("phase_3".to_string()));
        assert_eq!(phase("analytics; rm -rf /"), None);
        assert_eq!(phase(""), None);
    }

    #[test]
    fn rows_of_known_processors_with_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.csv");
        std::fs::write(
            &path,
            "\u{feff}Data_Date,processor_name,success,error_message,created_at,extra\n\
             2023-11-15,PlayerGameSummaryProcessor,true,,2025-11-29 10:00:01 UTC,x\n\
             2023-11-15,team_defense_game_summary,False,\"Traceback:\n  x\nValueError: NULL value, again\",2025-11-29T10:00:02,y\n\
             2023-11-15,BdlBoxscoresProcessor,false,boom,,z\n",
        )
        .unwrap();
        let names =
            ProcessorNames::new(&crate::processors::DEFAULT_PROCESSORS.map(String::from)).unwrap();
        let h = read(&path, &names).unwrap();
        assert_eq!((h.rows, h.ignored), (3, 1));
        assert_eq!(h.ignored_names, ["BdlBoxscoresProcessor"]);
        assert_eq!(h.records.len(), 2);
        assert_eq!(h.records[0].processor.index(), 0);
        assert!(h.records[0].success);
        assert_eq!(h.records[0].line, 2);
        assert_eq!(
            h.records[1].message,
            "Traceback:\n  x\nValueError: NULL value, again"
        );
        assert_eq!(h.records[1].line, 3);
        assert_eq!(
            h.records[1].time.map(|t| t.to_string()).as_deref(),
            Some("2025-11-29T10:00:02")
        );
    }
}
