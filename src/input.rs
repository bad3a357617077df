//! What an input is before it is scanned: compressed or not (by its magic bytes, not its name), a
//! log or not (by a sample of its first bytes), and when it starts (its first timestamp, to read
//! rotated logs oldest first).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::sync::OnceLock;

use regex::bytes::Regex;

use crate::manifest::Compression;
use crate::scan::Source;

/// How much of an input's text is looked at before it is scanned.
pub const HEAD_SAMPLE: usize = 64 << 10;

/// Input buffer of the decompressors.
const COMPRESSED_BUFFER: usize = 1 << 20;

/// The format whose magic bytes start `prefix` (at least six bytes, unless the input is shorter).
pub fn detect(prefix: &[u8]) -> Option<Compression> {
    match prefix {
        [0x1f, 0x8b, ..] => Some(Compression::Gzip),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Some(Compression::Xz),
        // A zstd frame, or a skippable frame first (pzstd writes one).
        [0x28, 0xb5, 0x2f, 0xfd, ..] | [0x50..=0x5f, 0x2a, 0x4d, 0x18, ..] => {
            Some(Compression::Zstd)
        }
        [b'B', b'Z', b'h', b'1'..=b'9', ..] => Some(Compression::Bzip2),
        _ => None,
    }
}

/// The text of a byte stream: decompressed when its magic bytes name a format. Every member,
/// stream or frame is read, as `zcat` does with concatenated files.
pub fn text<'a>(
    mut raw: impl Read + Send + 'a,
) -> io::Result<(Option<Compression>, Box<dyn Read + Send + 'a>)> {
    // A pipe may deliver the magic bytes one read at a time.
    let mut magic = [0u8; 6];
    let n = read_full(&mut raw, &mut magic)?;
    let raw = io::Cursor::new(magic[..n].to_vec()).chain(raw);
    let compression = detect(&magic[..n]);
    let Some(format) = compression else {
        return Ok((None, Box::new(raw)));
    };
    let buffered = BufReader::with_capacity(COMPRESSED_BUFFER, raw);
    let text: Box<dyn Read + Send + 'a> = match format {
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Xz => Box::new(xz2::bufread::XzDecoder::new_multi_decoder(buffered)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(buffered)),
    };
    Ok((compression, text))
}

/// Reads until `buf` is full or the stream ends; retries on EINTR.
pub(crate) fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The first [`HEAD_SAMPLE`] bytes of `text`, and the error that stopped the reading early, if
/// one did: what was read before it is kept.
pub fn head(text: &mut dyn Read) -> (Vec<u8>, Option<io::Error>) {
    let mut head = Vec::with_capacity(HEAD_SAMPLE);
    let error = text.take(HEAD_SAMPLE as u64).read_to_end(&mut head).err();
    (head, error)
}

/// Why an input is refused before it is scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotALog {
    Binary,
    Manifest,
}

/// Looks at an input's first bytes: a log is text (UTF-8 or close to it), and a backfill-triage
/// manifest is not a log.
pub fn check_head(head: &[u8]) -> Option<NotALog> {
    if is_manifest(head) {
        Some(NotALog::Manifest)
    } else if mostly_binary(head) {
        Some(NotALog::Binary)
    } else {
        None
    }
}

fn is_manifest(head: &[u8]) -> bool {
    let json = head
        .strip_prefix("\u{feff}".as_bytes())
        .unwrap_or(head)
        .trim_ascii_start();
    let has = |needle: &[u8]| memchr::memmem::find(json, needle).is_some();
    // "retries" comes after the inputs list, which can be long: the tool's name says it too.
    json.starts_with(b"{")
        && has(b"\"schema_version\"")
        && (has(b"\"retries\"") || has(b"\"backfill-triage\""))
}

/// More than an eighth of the bytes are not text: control characters other than whitespace,
/// escapes, backspace and bell, or bytes that are not UTF-8. Random and compressed data comes out
/// near one half, Latin-1 text far under an eighth. NUL bytes in runs of 64 or more do not count
/// either way: a log that a copytruncate rotation cut under a writer that kept its offset starts
/// with a hole of NULs, and is still a log.
fn mostly_binary(head: &[u8]) -> bool {
    /// A run of NULs counts as binary only when it is short.
    fn nul_run(run: &mut usize, binary: &mut usize) {
        if *run < 64 {
            *binary += *run;
        }
        *run = 0;
    }
    let (mut text, mut binary, mut nuls) = (0usize, 0usize, 0usize);
    for piece in head.utf8_chunks() {
        for &b in piece.valid().as_bytes() {
            if b == 0 {
                nuls += 1;
                continue;
            }
            nul_run(&mut nuls, &mut binary);
            match b {
                b'\t' | b'\n' | b'\r' | 0x07 | 0x08 | 0x0b | 0x0c | 0x1b => text += 1,
                0x01..=0x1f | 0x7f => binary += 1,
                _ => text += 1,
            }
        }
        if !piece.invalid().is_empty() {
            nul_run(&mut nuls, &mut binary);
            binary += piece.invalid().len();
        }
    }
    nul_run(&mut nuls, &mut binary);
    binary * 8 > text + binary
}

/// The first timestamp in `head`, as sortable bytes (`YYYY-MM-DDTHH:MM:SS.fraction`): a date and a
/// time of day near the start of a line (`2025-11-29 07:57:10,956`, `2025-11-29T07:57:10Z`,
/// `[2022-01-27, 03:09:36 UTC]`). Time zones are ignored: rotated logs share theirs.
pub fn first_timestamp(head: &[u8]) -> Option<Vec<u8>> {
    static STAMP: OnceLock<Regex> = OnceLock::new();
    let re = STAMP.get_or_init(|| {
        Regex::new(
            r"(?m-u)^[^\n]{0,40}?\b(\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]))(?:[T ]|, )([01]\d|2[0-3]):([0-5]\d):([0-5]\d|60)(?:[.,](\d{1,9}))?",
        )
        .expect("valid timestamp regex")
    });
    let caps = re.captures(head)?;
    let mut stamp = caps[1].to_vec();
    stamp.push(b'T');
    for (i, part) in [&caps[2], &caps[3], &caps[4]].into_iter().enumerate() {
        if i > 0 {
            stamp.push(b':');
        }
        stamp.extend_from_slice(part);
    }
    // Fractions compare digit by digit: pad them to one width.
    let mut fraction = caps.get(5).map_or(Vec::new(), |m| m.as_bytes().to_vec());
    fraction.resize(9, b'0');
    stamp.push(b'.');
    stamp.extend_from_slice(&fraction);
    Some(stamp)
}

/// The size of standard input when it is redirected from a regular file (`< run.log`).
pub fn stdin_size() -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let fd = io::stdin().as_fd().try_clone_to_owned().ok()?;
        let meta = File::from(fd).metadata().ok()?;
        meta.is_file().then_some(meta.len())
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The head of a file's text, for ordering: `None` if it cannot be opened or read at all.
fn file_head(path: &std::path::Path) -> Option<Vec<u8>> {
    let file = File::open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let (_, mut text) = text(file).ok()?;
    let (head, _) = head(&mut text);
    Some(head)
}

/// Inputs oldest first, when every file among them starts with a timestamp and they were not
/// given in that order (`run.log*` expands newest first: `run.log run.log.1 run.log.2.gz`).
/// Standard input and files that cannot be read keep their places (the scan reports the latter).
/// `None`: keep the order given.
pub fn oldest_first(inputs: &[Source]) -> Option<Vec<Source>> {
    let mut movable = Vec::new();
    for (i, source) in inputs.iter().enumerate() {
        if let Source::Path(path) = source {
            if let Some(head) = file_head(path) {
                movable.push((i, first_timestamp(&head)?));
            }
        }
    }
    let mut sorted = movable.clone();
    sorted.sort_by(|a, b| a.1.cmp(&b.1));
    if sorted == movable {
        return None;
    }
    let mut ordered = inputs.to_vec();
    for ((slot, _), (from, _)) in movable.iter().zip(&sorted) {
        ordered[*slot] = inputs[*from].clone();
    }
    Some(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_name_the_format() {
        assert_eq!(detect(b"\x1f\x8b\x08\0\0\0"), Some(Compression::Gzip));
        assert_eq!(detect(b"\xfd7zXZ\0"), Some(Compression::Xz));
        assert_eq!(detect(b"\x28\xb5\x2f\xfd\0\0"), Some(Compression::Zstd));
        assert_eq!(detect(b"\x50\x2a\x4d\x18\0\0"), Some(Compression::Zstd));
        assert_eq!(detect(b"BZh91AY"), Some(Compression::Bzip2));
        assert_eq!(detect(b"BZh0"), None);
        assert_eq!(detect(b"2025-11-29 10:00:00"), None);
        assert_eq!(detect(b"\x1f"), None);
    }

    #[test]
    fn text_with_dirt_is_text_and_binary_is_not() {
        let log = b"2025-11-29 10:00:00,000 - ERROR - x - \x1b[31mboom\x1b[0m caf\xe9 \x00\x01\r\n";
        assert_eq!(check_head(&log.repeat(100)), None);
        assert_eq!(check_head("日本語のログ\n".repeat(100).as_bytes()), None);
        assert_eq!(check_head(b""), None);
        let mut hole = vec![0u8; 4096];
        hole.extend_from_slice(b"INFO ok\n");
        assert_eq!(check_head(&hole), None, "copytruncate hole");
        let utf16: Vec<u8> = "ERROR x\n".bytes().flat_map(|b| [b, 0]).collect();
        assert_eq!(check_head(&utf16.repeat(50)), Some(NotALog::Binary));
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(check_head(&noise), Some(NotALog::Binary));
        // Cut inside a character at the end of the sample.
        assert_eq!(
            check_head("é".repeat(1000).as_bytes()[..1999].as_ref()),
            None
        );
    }

    #[test]
    fn a_manifest_is_recognised_by_its_head() {
        let m = b"{\n  \"schema_version\": 2,\n  \"tool\": { \"name\": \"backfill-triage\" } }";
        assert_eq!(check_head(m), Some(NotALog::Manifest));
        assert_eq!(check_head(b"{\"event\": \"starting\"}\n"), None);
    }

    #[test]
    fn timestamps_in_their_usual_forms() {
        let t = |s: &str| first_timestamp(s.as_bytes()).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(
            t("x\n2025-11-29 07:57:10,956 - INFO - y").as_deref(),
            Some("2025-11-29T07:57:10.956000000")
        );
        assert_eq!(
            t("2025-11-29T07:57:10Z level=info").as_deref(),
            Some("2025-11-29T07:57:10.000000000")
        );
        assert_eq!(
            t("[2022-01-27, 03:09:36 UTC] {taskinstance.py:1035} INFO").as_deref(),
            Some("2022-01-27T03:09:36.000000000")
        );
        assert_eq!(t("Processing date 2023-11-15 now"), None);
        assert_eq!(
            t("a line that is much longer than forty bytes before 2025-11-29 07:57:10"),
            None
        );
    }
}
