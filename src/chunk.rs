//! Chunks: how an input in memory is cut into pieces of whole lines that are classified in
//! parallel, and how each piece's events are put back on the input's line numbers and offsets.
//! The scanner, the fuzz target `line_pipeline` and the invariance tests all call this module, so
//! that fuzzing and property tests prove the code that ships.

use std::ops::Range;

use crate::classify::ChunkEvents;

/// Cuts `data` into ranges of whole lines that cover it in order: each range aims at `size` bytes
/// and runs on to just after the next newline, so no line is ever split (only the last range may
/// end without a newline).
pub fn bounds(data: &[u8], size: usize) -> Vec<Range<usize>> {
    let size = size.max(1);
    let mut out = Vec::with_capacity(data.len() / size + 1);
    let mut start = 0;
    while start < data.len() {
        let target = (start + size).min(data.len());
        let end = if target == data.len() {
            target
        } else {
            memchr::memchr(b'\n', &data[target - 1..]).map_or(data.len(), |i| target + i)
        };
        out.push(start..end);
        start = end;
    }
    out
}

/// Renumbers the events of consecutive chunks of one input: a chunk numbers its lines from 1 and
/// its offsets from 0, and only the chunks before it know how many lines precede it.
#[derive(Debug, Default)]
pub struct Rebase {
    lines_before: u64,
}

impl Rebase {
    /// Moves the events of the next chunk, which starts at byte `offset` of the input, onto the
    /// input's lines and offsets.
    pub fn next_chunk(&mut self, offset: u64, chunk: &mut ChunkEvents) {
        for event in &mut chunk.events {
            event.line += self.lines_before;
            event.offset += offset;
        }
        self.lines_before += chunk.newlines;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_cover_the_input_and_end_after_newlines() {
        let data = b"a\nbb\n\nccc\nd";
        for size in 1..=data.len() + 1 {
            let cuts = bounds(data, size);
            assert_eq!(cuts.first().map(|r| r.start), Some(0));
            assert_eq!(cuts.last().map(|r| r.end), Some(data.len()));
            for pair in cuts.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert_eq!(data[pair[0].end - 1], b'\n', "size {size}: {cuts:?}");
            }
        }
        assert!(bounds(b"", 4).is_empty());
    }
}
