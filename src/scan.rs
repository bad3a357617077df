//! Reading inputs and driving the parallel classifier: plain files are memory-mapped (or read,
//! with `--no-mmap` or when mapping fails), stdin and compressed inputs are read in large blocks;
//! either way the bytes are cut into chunks at newline boundaries ([`crate::chunk`]). Each thread
//! of the rayon pool takes the next chunk, classifies it, and folds its events when the chunks
//! before it are folded: events are folded in input order, on the core that made them. Each
//! thread holds one chunk at a time, so memory stays bounded whatever the input size.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::chunk;
use crate::classify::{ChunkEvents, Classifier, MAX_LINE};
use crate::error::{Error, Result};
use crate::input::{self, NotALog, HEAD_SAMPLE};
use crate::manifest::Compression;
use crate::mapped::Mapped;

/// Set by the SIGINT/SIGTERM handler: scans stop at the next chunk folded and report
/// [`Error::Interrupted`].
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Stream blocks are owned buffers, one per thread alive at once (and their recycled buffers), so
/// they are kept smaller than mapped chunks: that bounds the heap of a streamed scan at no cost in
/// speed (BENCHMARKS.md, "Tuning choices").
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

/// What was read of one input.
#[derive(Debug)]
pub struct Scanned {
    /// Bytes and lines of text: decompressed, and up to the last complete line before any damage.
    pub bytes: u64,
    pub lines: u64,
    pub compression: Option<Compression>,
    /// Bytes read from the file or pipe itself (compressed, for a compressed input).
    pub read: u64,
    /// The error that stopped the reading part-way; everything before it was folded.
    pub damage: Option<Error>,
}

/// How to read: shared by every input of one scan.
pub struct Scanner<'a> {
    pub classifier: &'a Classifier,
    pub pool: &'a rayon::ThreadPool,
    pub chunk_size: usize,
    pub mmap: bool,
    pub keep_mentions: bool,
}

/// An owned block of whole lines from a stream, and where it starts. Its buffer goes back to the
/// [`BlockReader`] once the block is classified.
struct Block {
    offset: u64,
    data: Vec<u8>,
}

/// Counts the bytes read through it, for the progress bar.
struct Counted<'a, R> {
    inner: R,
    count: &'a AtomicU64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The head sample again, then the rest of the stream; an error met while reading the head comes
/// after the head's bytes, where it happened. A stream that ended within the head is not read
/// again (a terminal would wait for a second end of input).
struct Replay<R> {
    head: io::Cursor<Vec<u8>>,
    error: Option<io::Error>,
    ended: bool,
    rest: R,
}

impl<R: Read> Read for Replay<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.head.read(buf)?;
        if n > 0 || buf.is_empty() || self.ended {
            return Ok(n);
        }
        match self.error.take() {
            Some(e) => {
                self.ended = true;
                Err(e)
            }
            None => self.rest.read(buf),
        }
    }
}

fn refuse(path: &Path, why: NotALog) -> Error {
    let path = path.to_path_buf();
    match why {
        NotALog::Binary => Error::NotText { path },
        NotALog::Manifest => Error::IsManifest { path },
    }
}

impl Scanner<'_> {
    /// Scans one input, calling `fold` with each chunk in input order and `progress` with the
    /// bytes read from the input so far. `fold` takes the chunk's events out (their list is
    /// reused for a later chunk) and returns false to stop early (stdout was closed). An error before anything was folded is `Err`; one after is [`Scanned::damage`].
    pub fn scan(
        &self,
        source: &Source,
        fold: &mut (dyn FnMut(&mut Chunk) -> bool + Send),
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Scanned> {
        let path = match source {
            Source::Stdin => return self.scan_reader(Path::new("-"), io::stdin(), fold, progress),
            Source::Path(path) => path,
        };
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            return Err(Error::IsDirectory { path: path.clone() });
        }
        // The length is fixed at open: a log that grows while it is scanned is read up to the
        // size it had then, mapped or not. (Files in /proc say 0 and are read to their end.)
        let len = meta.len();
        let sized = meta.is_file() && len > 0;
        if sized && self.mmap {
            let mut magic = [0u8; 6];
            let n = input::read_full(&mut file, &mut magic).map_err(|e| Error::io(path, e))?;
            if input::detect(&magic[..n]).is_none() {
                // A file that cannot be mapped (a file system without mmap, no address space
                // left) is read instead.
                if let Ok(map) = Mapped::new(&file, len, path) {
                    return self.scan_mapped(path, &map, fold, progress);
                }
            }
            file.rewind().map_err(|e| Error::io(path, e))?;
        }
        let limit = if sized { len } else { u64::MAX };
        self.scan_reader(path, file.take(limit), fold, progress)
    }

    fn scan_mapped(
        &self,
        path: &Path,
        map: &Mapped,
        fold: &mut (dyn FnMut(&mut Chunk) -> bool + Send),
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Scanned> {
        let data = map.bytes();
        if let Some(why) = input::check_head(&data[..data.len().min(HEAD_SAMPLE)]) {
            return Err(refuse(path, why));
        }
        let mut bounds = chunk::bounds(data, self.chunk_size).into_iter();
        let mut next = |_folded| bounds.next().map(|r| (r.start as u64, &data[r]));
        let newlines = self.pipeline(&mut next, fold, progress)?;
        let lines = newlines + u64::from(data.last().is_some_and(|&b| b != b'\n'));
        Ok(Scanned {
            bytes: data.len() as u64,
            lines,
            compression: None,
            read: data.len() as u64,
            damage: None,
        })
    }

    /// Scans a stream: standard input, a file read without a mapping, or any reader (the fuzz
    /// target's bytes). Compressed streams are decompressed. `path` names it in errors.
    pub fn scan_reader(
        &self,
        path: &Path,
        raw: impl Read + Send,
        fold: &mut (dyn FnMut(&mut Chunk) -> bool + Send),
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Scanned> {
        let read = AtomicU64::new(0);
        let counted = Counted {
            inner: raw,
            count: &read,
        };
        let (compression, mut text) = input::text(counted).map_err(|e| Error::io(path, e))?;
        let (head, error) = input::head(&mut text);
        if let Some(why) = input::check_head(&head) {
            return Err(refuse(path, why));
        }
        let mut text = Replay {
            ended: error.is_none() && head.len() < HEAD_SAMPLE,
            head: io::Cursor::new(head),
            error,
            rest: text,
        };
        let mut blocks = BlockReader::new(self.chunk_size.min(STREAM_BLOCK));
        let mut next = |folded: Option<Block>| {
            if let Some(block) = folded {
                blocks.recycle(block.data);
            }
            blocks.next(&mut text)
        };
        let newlines =
            self.pipeline(&mut next, fold, &|_| progress(read.load(Ordering::Relaxed)))?;
        let complete_last_line =
            blocks.error.is_none() && blocks.last_byte.is_some_and(|b| b != b'\n');
        let lines = newlines - blocks.synthetic_newlines + u64::from(complete_last_line);
        Ok(Scanned {
            bytes: blocks.offset,
            lines,
            compression,
            read: read.load(Ordering::Relaxed),
            damage: blocks.error.map(|source| Error::Damaged {
                path: path.to_path_buf(),
                compression,
                lines,
                source,
            }),
        })
    }

    /// Classifies chunks on the pool's threads and folds them in input order. Each thread takes
    /// the next chunk, classifies it, waits for the chunk before it to be folded, and folds its
    /// own: a chunk's events are folded on the core that made them, while they are in its cache,
    /// and its allocations are freed by the thread that made them. Each thread holds one chunk,
    /// which bounds memory. `next` gives the next chunk, and is handed the one the thread
    /// asking folded last (a stream reader reuses its buffer). Returns the number of newlines
    /// seen.
    fn pipeline<T: ChunkData>(
        &self,
        next: &mut (dyn FnMut(Option<T>) -> Option<T> + Send),
        fold: &mut (dyn FnMut(&mut Chunk) -> bool + Send),
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<u64> {
        let source = Mutex::new(Chunks { next, taken: 0 });
        let folder = Mutex::new(Folder {
            fold,
            folded: 0,
            stop: false,
            interrupted: false,
            newlines: 0,
            done_bytes: 0,
        });
        let turn = Condvar::new();
        self.pool.broadcast(|_| {
            let _stop_on_panic = StopOnPanic {
                folder: &folder,
                turn: &turn,
            };
            let mut folded = None;
            // The events of the chunk this thread folded last: the fold empties the list, and the
            // next chunk fills it again.
            let mut spare = Vec::new();
            loop {
                let Some((index, data)) = lock(&source).take(folded.take()) else {
                    return;
                };
                let events = self.classifier.scan_chunk_into(
                    data.bytes(),
                    self.keep_mentions,
                    std::mem::take(&mut spare),
                );
                let mut f = lock(&folder);
                while f.folded != index && !f.stop {
                    f = turn
                        .wait(f)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                if f.stop {
                    return;
                }
                f.folded += 1;
                f.newlines += events.newlines;
                f.done_bytes += data.bytes().len() as u64;
                if INTERRUPTED.load(Ordering::Relaxed) {
                    f.interrupted = true;
                    f.stop = true;
                } else {
                    let mut chunk = Chunk {
                        offset: data.offset(),
                        events,
                    };
                    if (f.fold)(&mut chunk) {
                        progress(f.done_bytes);
                    } else {
                        f.stop = true;
                    }
                    spare = chunk.events.events;
                }
                let stop = f.stop;
                drop(f);
                turn.notify_all();
                if stop {
                    return;
                }
                folded = Some(data);
            }
        });
        let folder = folder
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if folder.interrupted {
            return Err(Error::Interrupted);
        }
        Ok(folder.newlines)
    }
}

/// Where the threads take their chunks from, in order.
struct Chunks<'f, T> {
    next: &'f mut (dyn FnMut(Option<T>) -> Option<T> + Send),
    taken: usize,
}

impl<T> Chunks<'_, T> {
    /// The next chunk and its index, for a thread that folded `folded` last.
    fn take(&mut self, folded: Option<T>) -> Option<(usize, T)> {
        let data = (self.next)(folded)?;
        self.taken += 1;
        Some((self.taken - 1, data))
    }
}

/// The fold's side: its turn goes from chunk to chunk in input order.
struct Folder<'f> {
    fold: &'f mut (dyn FnMut(&mut Chunk) -> bool + Send),
    /// Chunks folded: the index of the chunk whose turn it is.
    folded: usize,
    stop: bool,
    interrupted: bool,
    newlines: u64,
    done_bytes: u64,
}

/// Stops the scan if its thread panics, so that no other thread waits for a turn that will not
/// come; the panic is raised again when every thread is done.
struct StopOnPanic<'a, 'f> {
    folder: &'a Mutex<Folder<'f>>,
    turn: &'a Condvar,
}

impl Drop for StopOnPanic<'_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            lock(self.folder).stop = true;
            self.turn.notify_all();
        }
    }
}

/// Locks a mutex whose holder may have panicked: the panic is raised again once every thread of
/// the scan is done.
fn lock<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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
/// for a gigabyte without a newline. A read error ends the stream after the last complete line
/// before it, wherever the blocks happen to be cut: what is folded of a damaged input does not
/// depend on the block size.
struct BlockReader {
    size: usize,
    /// Bytes read after the last full line of the previous block.
    carry: Vec<u8>,
    /// Buffers of classified blocks, to read the next blocks into: allocating a fresh megabyte for
    /// every block cost page faults, and the allocator's work on the thread that freed it.
    spare: Vec<Vec<u8>>,
    /// Stream offset of `carry`'s first byte.
    offset: u64,
    /// Newlines added after cut-off long lines; subtracted from the line count.
    synthetic_newlines: u64,
    last_byte: Option<u8>,
    eof: bool,
    /// The read error that ended the stream early.
    error: Option<io::Error>,
}

impl BlockReader {
    fn new(size: usize) -> BlockReader {
        BlockReader {
            size,
            carry: Vec::new(),
            spare: Vec::new(),
            offset: 0,
            synthetic_newlines: 0,
            last_byte: None,
            eof: false,
            error: None,
        }
    }

    /// Takes back the buffer of a classified block.
    fn recycle(&mut self, mut data: Vec<u8>) {
        data.clear();
        self.spare.push(data);
    }

    fn next(&mut self, reader: &mut dyn Read) -> Option<Block> {
        let mut data = self.spare.pop().unwrap_or_default();
        data.extend_from_slice(&self.carry);
        self.carry.clear();
        let base = self.offset;
        let want = self.size.max(1);
        loop {
            let filled = data.len();
            if !self.eof && filled < want {
                self.fill(reader, &mut data, want - filled);
            }
            if self.error.is_some() {
                // What follows the last newline is a line the damage cut off.
                data.truncate(memchr::memrchr(b'\n', &data).map_or(0, |i| i + 1));
                return self.emit(base, data);
            }
            if data.is_empty() {
                return None;
            }
            if self.eof && !data.contains(&b'\n') {
                return self.emit(base, data);
            }
            if let Some(last_nl) = memchr::memrchr(b'\n', &data) {
                self.carry.extend_from_slice(&data[last_nl + 1..]);
                data.truncate(last_nl + 1);
                return self.emit(base, data);
            }
            if data.len() > MAX_LINE {
                let (skipped, found_newline) = self.skip_line(reader);
                if !found_newline && self.error.is_some() {
                    // The damage cut the long line: it is not a complete line.
                    return None;
                }
                self.offset = base + data.len() as u64 + skipped;
                data.truncate(MAX_LINE);
                // The newline that ends the kept head stands for the real one skipped; with none
                // (the stream ended inside the line) it must not count as a line end.
                data.push(b'\n');
                if !found_newline {
                    self.synthetic_newlines += 1;
                }
                return Some(Block { offset: base, data });
            }
            // A line longer than a block: read on until its end.
            self.fill(reader, &mut data, want.min(MAX_LINE));
        }
    }

    fn emit(&mut self, base: u64, data: Vec<u8>) -> Option<Block> {
        if data.is_empty() {
            return None;
        }
        self.offset = base + data.len() as u64;
        Some(Block { offset: base, data })
    }

    /// Appends up to `more` bytes to `data`, noting the end of the stream or the error that ended
    /// it. `read_to_end` on a `Take` fills spare capacity without zeroing it first, and keeps
    /// what it read before an error.
    fn fill(&mut self, reader: &mut dyn Read, data: &mut Vec<u8>, more: usize) {
        let filled = data.len();
        data.reserve(more);
        let result = reader.take(more as u64).read_to_end(data);
        if let Some(&b) = data[filled..].last() {
            self.last_byte = Some(b);
        }
        match result {
            Ok(n) if n < more => self.eof = true,
            Ok(_) => {}
            Err(e) => {
                self.eof = true;
                self.error = Some(e);
            }
        }
    }

    /// Discards the rest of an overlong line, up to and including its newline, keeping what follows
    /// for the next block. Returns the bytes consumed and whether a newline ended the line.
    fn skip_line(&mut self, reader: &mut dyn Read) -> (u64, bool) {
        const PIECE: usize = 1 << 16;
        let mut buf = Vec::with_capacity(PIECE);
        let mut consumed = 0u64;
        loop {
            buf.clear();
            self.fill(reader, &mut buf, PIECE);
            if let Some(i) = memchr::memchr(b'\n', &buf) {
                self.carry.extend_from_slice(&buf[i + 1..]);
                return (consumed + i as u64 + 1, true);
            }
            consumed += buf.len() as u64;
            if self.eof {
                return (consumed, false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner_with<'a>(classifier: &'a Classifier, pool: &'a rayon::ThreadPool) -> Scanner<'a> {
        Scanner {
            classifier,
            pool,
            chunk_size: 64,
            mmap: false,
            keep_mentions: false,
        }
    }

    /// The built-in classifier and a pool of 4 threads.
    fn classifier_and_pool() -> (Classifier, rayon::ThreadPool) {
        let classifier = crate::load_classifier(&crate::Config::default()).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        (classifier, pool)
    }

    fn log() -> Vec<u8> {
        (0..2000)
            .map(|i| format!("2024-01-01 00:00:00 - ERROR - x - boom {i}\n"))
            .collect::<String>()
            .into_bytes()
    }

    /// Chunks are folded in input order whichever thread classified them.
    #[test]
    fn chunks_are_folded_in_input_order() {
        let (classifier, pool) = classifier_and_pool();
        let mut offsets = Vec::new();
        let mut fold = |chunk: &mut Chunk| {
            offsets.push(chunk.offset);
            true
        };
        let data = log();
        let scanned = scanner_with(&classifier, &pool)
            .scan_reader(Path::new("t"), data.as_slice(), &mut fold, &|_| {})
            .unwrap();
        assert_eq!(scanned.lines, 2000);
        assert!(offsets.len() > 100);
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{offsets:?}");
    }

    /// A chunk whose bytes panic on the thread that classifies it.
    struct Bad(u64, bool);

    impl ChunkData for Bad {
        fn offset(&self) -> u64 {
            self.0
        }
        fn bytes(&self) -> &[u8] {
            assert!(!self.1, "a chunk that cannot be read");
            b"2024-01-01 00:00:00 - ERROR - x - boom\n"
        }
    }

    /// A thread that panics before its turn to fold ends the scan with that panic: the threads
    /// waiting for the chunks after its own do not wait for ever.
    #[test]
    fn a_thread_that_panics_before_its_turn_does_not_leave_others_waiting() {
        let (classifier, pool) = classifier_and_pool();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut taken = 0;
            let mut next = |_: Option<Bad>| {
                taken += 1;
                (taken <= 200).then_some(Bad(taken, taken == 3))
            };
            scanner_with(&classifier, &pool).pipeline(&mut next, &mut |_| true, &|_| {})
        }));
        assert!(result.is_err());
    }
}
