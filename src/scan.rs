//! Reading inputs and driving the parallel classifier: files are memory-mapped (or read, with
//! `--no-mmap`), stdin and `.gz` streams are read in large blocks; either way the bytes are cut into
//! chunks at newline boundaries, a window of chunks is classified in parallel on the rayon pool, and
//! the chunks' events are handed to the fold in input order while the next window is being read
//! and classified. Memory stays bounded by the window, whatever the input size.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::classify::{ChunkEvents, Classifier, MAX_LINE};
use crate::error::{Error, Result};
use crate::manifest::InputStats;
use rayon::prelude::*;

/// Set by the SIGINT handler: scans stop at the next window and report [`Error::Interrupted`].
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Stream blocks are owned buffers, two windows of them alive at once, so they are kept smaller than
/// mapped chunks: at 4 GB, 2 MiB blocks peaked at 56 MiB of heap and 1 MiB blocks at about 33 MiB,
/// at the same speed.
const STREAM_BLOCK: usize = 1 << 20;

/// One input: a path, or `-` for standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    Path(PathBuf),
}

impl Source {
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "-".to_string(),
            Source::Path(p) => p.display().to_string(),
        }
    }
}

/// The events of one chunk with where the chunk starts in its input.
pub struct Chunk {
    pub offset: u64,
    pub events: ChunkEvents,
}

/// How to read: shared by every input of one scan.
pub struct Scanner<'a> {
    pub classifier: &'a Classifier,
    pub pool: &'a rayon::ThreadPool,
    pub chunk_size: usize,
    pub mmap: bool,
    pub keep_mentions: bool,
}

/// An owned block of whole lines from a stream, and where it starts.
struct Block {
    offset: u64,
    data: Vec<u8>,
}

impl Scanner<'_> {
    /// How many chunks are classified together: enough to keep every thread busy, few enough to
    /// bound memory.
    fn window(&self) -> usize {
        (self.pool.current_num_threads() * 2).max(2)
    }

    /// Scans one input, calling `fold` with each chunk's events in input order and `progress`
    /// with the bytes read so far. `fold` returns false to stop early (stdout was closed).
    pub fn scan(
        &self,
        source: &Source,
        fold: &mut (dyn FnMut(Chunk) -> bool + Send),
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<InputStats> {
        let name = source.name();
        match source {
            Source::Stdin => self.scan_stream(
                &name,
                Path::new("-"),
                BufReader::with_capacity(1 << 20, io::stdin()),
                fold,
                progress,
            ),
            Source::Path(path) => {
                let file = File::open(path).map_err(|e| Error::io(path, e))?;
                let meta = file.metadata().map_err(|e| Error::io(path, e))?;
                if meta.is_dir() {
                    return Err(Error::IsDirectory { path: path.clone() });
                }
                let mut reader = BufReader::with_capacity(1 << 20, file);
                let head = reader.fill_buf().map_err(|e| Error::io(path, e))?;
                if head.starts_with(&[0x1f, 0x8b])
                    || !meta.is_file()
                    || !self.mmap
                    || meta.len() == 0
                {
                    return self.scan_stream(&name, path, reader, fold, progress);
                }
                self.scan_mapped(&name, path, reader.into_inner(), meta.len(), fold, progress)
            }
        }
    }

    fn scan_mapped(
        &self,
        name: &str,
        path: &Path,
        file: File,
        len: u64,
        fold: &mut (dyn FnMut(Chunk) -> bool + Send),
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<InputStats> {
        // The length is fixed at open: a log that grows while it is scanned is read up to the size
        // it had then, consistently.
        let map = crate::mapped::Mapped::new(&file, len, path)?;
        let data = map.bytes();
        let mut bounds = Vec::new();
        let mut start = 0;
        while start < data.len() {
            let target = (start + self.chunk_size).min(data.len());
            let end = if target == data.len() {
                target
            } else {
                memchr::memchr(b'\n', &data[target - 1..]).map_or(data.len(), |i| target + i)
            };
            bounds.push((start, end));
            start = end;
        }
        let mut windows = bounds.chunks(self.window());
        let mut next = || {
            windows.next().map(|w| {
                w.iter()
                    .map(|&(s, e)| (s as u64, &data[s..e]))
                    .collect::<Vec<_>>()
            })
        };
        let newlines = self.pipeline(&mut next, fold, progress)?;
        let lines = newlines + u64::from(data.last().is_some_and(|&b| b != b'\n'));
        Ok(InputStats {
            path: name.to_string(),
            bytes: len,
            lines,
            gzip: false,
            error: None,
        })
    }

    fn scan_stream<R: BufRead + Send>(
        &self,
        name: &str,
        path: &Path,
        mut reader: R,
        fold: &mut (dyn FnMut(Chunk) -> bool + Send),
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<InputStats> {
        let head = reader.fill_buf().map_err(|e| Error::io(path, e))?;
        let gzip = head.starts_with(&[0x1f, 0x8b]);
        let mut reader: Box<dyn Read + Send> = if gzip {
            Box::new(flate2::bufread::MultiGzDecoder::new(reader))
        } else {
            Box::new(reader)
        };
        let mut blocks = BlockReader::new(self.chunk_size.min(STREAM_BLOCK));
        let window = self.window();
        let mut failed: Option<io::Error> = None;
        let mut next = || {
            let mut batch = Vec::with_capacity(window);
            while batch.len() < window && failed.is_none() {
                match blocks.next(&mut reader) {
                    Ok(Some(block)) => batch.push(block),
                    Ok(None) => break,
                    Err(e) => failed = Some(e),
                }
            }
            (!batch.is_empty()).then_some(batch)
        };
        let newlines = self.pipeline(&mut next, fold, progress)?;
        if let Some(e) = failed {
            return Err(Error::io(path, e));
        }
        let lines = newlines - blocks.synthetic_newlines
            + u64::from(blocks.last_byte.is_some_and(|b| b != b'\n'));
        Ok(InputStats {
            path: name.to_string(),
            bytes: blocks.offset,
            lines,
            gzip,
            error: None,
        })
    }

    /// Classifies windows of chunks in parallel while the previous window is folded and the next
    /// one read. Returns the number of newlines seen.
    fn pipeline<T: ChunkData>(
        &self,
        next: &mut (dyn FnMut() -> Option<Vec<T>> + Send),
        fold: &mut (dyn FnMut(Chunk) -> bool + Send),
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<u64> {
        let classifier = self.classifier;
        let keep = self.keep_mentions;
        let mut newlines = 0u64;
        let mut done_bytes = 0u64;
        let mut stop = false;
        self.pool.install(|| {
            let mut current = next();
            let mut pending: Vec<Chunk> = Vec::new();
            while current.is_some() || !pending.is_empty() {
                if INTERRUPTED.load(Ordering::Relaxed) {
                    return Err(Error::Interrupted);
                }
                let work = current.take();
                let (scanned, upcoming) = rayon::join(
                    || {
                        work.map(|w| {
                            let bytes: u64 = w.iter().map(|c| c.bytes().len() as u64).sum();
                            let chunks: Vec<Chunk> = w
                                .par_iter()
                                .map(|c| Chunk {
                                    offset: c.offset(),
                                    events: classifier.scan_chunk(c.bytes(), keep),
                                })
                                .collect();
                            (chunks, bytes)
                        })
                    },
                    || {
                        for chunk in pending.drain(..) {
                            newlines += chunk.events.newlines;
                            if !stop && !fold(chunk) {
                                stop = true;
                            }
                        }
                        if stop {
                            None
                        } else {
                            next()
                        }
                    },
                );
                if let Some((chunks, bytes)) = scanned {
                    done_bytes += bytes;
                    progress(done_bytes);
                    pending = chunks;
                }
                current = upcoming;
            }
            Ok(())
        })?;
        Ok(newlines)
    }
}

/// A chunk of whole lines to classify: borrowed from a mapping, or an owned stream block.
trait ChunkData: Sync + Send {
    fn offset(&self) -> u64;
    fn bytes(&self) -> &[u8];
}

impl ChunkData for (u64, &[u8]) {
    fn offset(&self) -> u64 {
        self.0
    }
    fn bytes(&self) -> &[u8] {
        self.1
    }
}

impl ChunkData for Block {
    fn offset(&self) -> u64 {
        self.offset
    }
    fn bytes(&self) -> &[u8] {
        &self.data
    }
}

/// Cuts a stream into blocks of whole lines. A line longer than [`MAX_LINE`] is kept only up to
/// that length, exactly as the classifier reads it from a mapping, so memory stays bounded even
/// for a gigabyte without a newline.
struct BlockReader {
    size: usize,
    /// Bytes read after the last full line of the previous block.
    carry: Vec<u8>,
    /// Stream offset of `carry`'s first byte.
    offset: u64,
    /// Newlines added after cut-off long lines; subtracted from the line count.
    synthetic_newlines: u64,
    last_byte: Option<u8>,
    eof: bool,
}

impl BlockReader {
    fn new(size: usize) -> BlockReader {
        BlockReader {
            size,
            carry: Vec::new(),
            offset: 0,
            synthetic_newlines: 0,
            last_byte: None,
            eof: false,
        }
    }

    fn next(&mut self, reader: &mut dyn Read) -> io::Result<Option<Block>> {
        let mut data = std::mem::take(&mut self.carry);
        let base = self.offset;
        let want = self.size.max(1);
        loop {
            let filled = data.len();
            if !self.eof && filled < want {
                self.fill(reader, &mut data, want - filled)?;
            }
            if data.is_empty() {
                return Ok(None);
            }
            if self.eof && !data.contains(&b'\n') {
                self.offset = base + data.len() as u64;
                return Ok(Some(Block { offset: base, data }));
            }
            if let Some(last_nl) = memchr::memrchr(b'\n', &data) {
                self.carry = data.split_off(last_nl + 1);
                self.offset = base + data.len() as u64;
                return Ok(Some(Block { offset: base, data }));
            }
            if data.len() > MAX_LINE {
                let (skipped, found_newline) = self.skip_line(reader)?;
                self.offset = base + data.len() as u64 + skipped;
                data.truncate(MAX_LINE);
                // The newline that ends the kept head stands for the real one skipped; with none
                // (the stream ended inside the line) it must not count as a line end.
                data.push(b'\n');
                if !found_newline {
                    self.synthetic_newlines += 1;
                }
                return Ok(Some(Block { offset: base, data }));
            }
            // A line longer than a block: read on until its end.
            self.fill(reader, &mut data, want.min(MAX_LINE))?;
        }
    }

    /// Appends up to `more` bytes to `data`, noting the end of the stream. `read_to_end` on a
    /// `Take` fills spare capacity without zeroing it first.
    fn fill(&mut self, reader: &mut dyn Read, data: &mut Vec<u8>, more: usize) -> io::Result<()> {
        let filled = data.len();
        data.reserve(more);
        let n = reader.take(more as u64).read_to_end(data)?;
        if let Some(&b) = data[filled..].last() {
            self.last_byte = Some(b);
        }
        if n < more {
            self.eof = true;
        }
        Ok(())
    }

    /// Discards the rest of an overlong line, up to and including its newline, keeping what follows
    /// for the next block. Returns the bytes consumed and whether a newline ended the line.
    fn skip_line(&mut self, reader: &mut dyn Read) -> io::Result<(u64, bool)> {
        let mut buf = vec![0u8; 1 << 16];
        let mut consumed = 0u64;
        loop {
            let n = read_full(reader, &mut buf)?;
            if n == 0 {
                self.eof = true;
                return Ok((consumed, false));
            }
            self.last_byte = Some(buf[n - 1]);
            if n < buf.len() {
                self.eof = true;
            }
            if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
                self.carry.extend_from_slice(&buf[i + 1..n]);
                return Ok((consumed + i as u64 + 1, true));
            }
            consumed += n as u64;
            if self.eof {
                return Ok((consumed, false));
            }
        }
    }
}

/// Reads until `buf` is full or the stream ends; retries on EINTR.
fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
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
