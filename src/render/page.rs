//! A list page as pieces for the socket. Entities rendered together share one slab (see
//! `Rendered`), so the items of a page that was rendered in one go sit side by side in
//! memory; `PageBuf` sends such a run as one piece instead of one per item. A page of
//! cached jobs is then three pieces (`[`, the run, `]`): nothing is copied to send it,
//! and the kernel walks three segments, not one or more per item.

use std::ops::Range;
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};

/// About how much one slab holds. A slab lives while any entity in it is cached, or any
/// journal entry keeps a slice of it; the bound keeps what a superseded rendering, or a
/// journaled small page, can hold alive near what it is counted for.
pub(super) const SLAB_BYTES: usize = 16 * 1024;

/// Entities written one after the other into shared buffers (slabs) of about
/// [`SLAB_BYTES`]: each comes out with its slab and its range in it.
pub(super) struct SlabWriter<T> {
    buf: Vec<u8>,
    written: Vec<(T, Range<usize>)>,
    frozen: Vec<(T, Bytes, Range<usize>)>,
}

impl<T> SlabWriter<T> {
    pub(super) fn new() -> Self {
        SlabWriter {
            buf: Vec::new(),
            written: Vec::new(),
            frozen: Vec::new(),
        }
    }

    /// The buffer to write the next entity at the end of (a full slab is closed first).
    pub(super) fn buf(&mut self) -> &mut Vec<u8> {
        if self.buf.len() >= SLAB_BYTES {
            self.close();
        }
        if self.buf.capacity() == 0 {
            // Room for the entity that crosses the bound, so a slab is not doubled for it.
            self.buf.reserve(SLAB_BYTES + SLAB_BYTES / 4);
        }
        &mut self.buf
    }

    /// `range` of the buffer holds `item`.
    pub(super) fn written(&mut self, item: T, range: Range<usize>) {
        self.written.push((item, range));
    }

    fn close(&mut self) {
        let mut buf = std::mem::take(&mut self.buf);
        // A slab keeps its whole allocation alive: no more than a quarter of it spare
        // (glibc shrinks in place).
        if buf.capacity() - buf.len() > buf.len() / 4 {
            buf.shrink_to_fit();
        }
        let slab = Bytes::from(buf);
        for (item, range) in self.written.drain(..) {
            self.frozen.push((item, slab.clone(), range));
        }
    }

    /// Every item written, in order, with its slab and range.
    pub(super) fn finish(mut self) -> Vec<(T, Bytes, Range<usize>)> {
        self.close();
        self.frozen
    }
}

/// Collects a page's pieces, merging slices of one slab that follow each other, and bytes
/// written for the page that follow each other. At most one of the two is open at a time.
pub(super) struct PageBuf<'a> {
    out: &'a mut Vec<Bytes>,
    run: Option<Run>,
    /// Bytes written for this page and not yet pushed (the open run of them); its capacity
    /// is what later writes share.
    fresh: BytesMut,
}

/// `slab[start..end]`, not yet pushed (it may grow).
struct Run {
    slab: Bytes,
    start: usize,
    end: usize,
}

impl<'a> PageBuf<'a> {
    pub(super) fn new(out: &'a mut Vec<Bytes>) -> Self {
        PageBuf {
            out,
            run: None,
            fresh: BytesMut::new(),
        }
    }

    /// A piece of its own (a bracket, an entity rendered alone).
    pub(super) fn push(&mut self, piece: Bytes) {
        self.flush();
        if !piece.is_empty() {
            self.out.push(piece);
        }
    }

    /// `slab[range]`, joined to the piece before it when that one ends where this starts
    /// in the same slab.
    pub(super) fn push_slice(&mut self, slab: &Bytes, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        if let Some(run) = &mut self.run
            && run.slab.as_ptr() == slab.as_ptr()
            && run.slab.len() == slab.len()
            && run.end == range.start
        {
            run.end = range.end;
            return;
        }
        self.flush();
        self.run = Some(Run {
            slab: slab.clone(),
            start: range.start,
            end: range.end,
        });
    }

    /// Appends what `write` writes (about `len` bytes) to the page's own buffer: what is
    /// written by calls that follow each other goes out as one piece (a run of jobs with
    /// durations spliced in). The buffer grows as a `Vec` does, so it holds at most about
    /// twice what was written for the page.
    pub(super) fn write(&mut self, len: usize, write: impl FnOnce(&mut BytesMut)) {
        self.flush_run();
        self.fresh.reserve(len);
        write(&mut self.fresh);
    }

    fn flush(&mut self) {
        self.flush_run();
        if !self.fresh.is_empty() {
            // The buffer's rest stays for later writes.
            self.out.push(self.fresh.split().freeze());
        }
    }

    fn flush_run(&mut self) {
        if let Some(Run {
            mut slab,
            start,
            end,
        }) = self.run.take()
        {
            // Cut in place: no second reference to the slab.
            slab.truncate(end);
            slab.advance(start);
            self.out.push(slab);
        }
    }
}

impl Drop for PageBuf<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The pieces `fill` pushes, as one shared slice: gathered in a list kept per thread (a
/// page's list is not allocated, and grown, for each page), then copied into one
/// allocation of their exact size.
pub(super) fn pieces(fill: impl FnOnce(&mut PageBuf<'_>)) -> Arc<[Bytes]> {
    thread_local! {
        static PIECES: std::cell::RefCell<Vec<Bytes>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    PIECES.with(|cell| match cell.try_borrow_mut() {
        Ok(mut list) => {
            list.clear();
            fill(&mut PageBuf::new(&mut list));
            let out: Arc<[Bytes]> = list.drain(..).collect();
            // A huge page's list is not kept.
            list.shrink_to(1024);
            out
        }
        // Not expected (rendering does not nest pages); then a list of its own.
        Err(_) => {
            let mut list = Vec::new();
            fill(&mut PageBuf::new(&mut list));
            list.into()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(fill: impl FnOnce(&mut PageBuf<'_>)) -> Vec<Bytes> {
        let mut out = Vec::new();
        fill(&mut PageBuf::new(&mut out));
        out
    }

    #[test]
    fn slabs_close_when_full_and_items_keep_their_ranges() {
        let mut w = SlabWriter::new();
        let item = vec![b'x'; SLAB_BYTES / 2 + 1];
        for n in 0..3 {
            let buf = w.buf();
            let start = buf.len();
            buf.extend_from_slice(&item);
            w.written(n, start..start + item.len());
        }
        let out = w.finish();
        assert_eq!(out.len(), 3);
        // Two items fill the first slab; the third starts the next one.
        assert_eq!(out[0].1.as_ptr(), out[1].1.as_ptr());
        assert_ne!(out[1].1.as_ptr(), out[2].1.as_ptr());
        assert_eq!(out[2].2, 0..item.len());
        for (n, (i, slab, range)) in out.iter().enumerate() {
            assert_eq!(*i, n);
            assert_eq!(&slab[range.clone()], &item[..]);
        }
    }

    #[test]
    fn adjacent_slices_of_one_slab_become_one_piece() {
        let slab = Bytes::from_static(b",{\"a\":1},{\"b\":2},{\"c\":3}");
        let out = collect(|p| {
            p.push(Bytes::from_static(b"["));
            p.push_slice(&slab, 1..8);
            p.push_slice(&slab, 8..16);
            p.push_slice(&slab, 16..24);
            p.push(Bytes::from_static(b"]"));
        });
        assert_eq!(out.len(), 3, "{out:?}");
        assert_eq!(out.concat(), b"[{\"a\":1},{\"b\":2},{\"c\":3}]");
        // The run is the slab's own memory, not a copy.
        assert_eq!(out[1].as_ptr(), slab[1..].as_ptr());
    }

    #[test]
    fn writes_that_follow_each_other_are_one_piece_between_slices() {
        let slab = Bytes::from_static(b",{\"a\":1},{\"b\":2}");
        let out = collect(|p| {
            p.push(Bytes::from_static(b"["));
            p.write(4, |b| b.extend_from_slice(b"{\"r\":"));
            p.write(4, |b| b.extend_from_slice(b"1}"));
            p.push_slice(&slab, 0..8);
            p.write(2, |b| b.extend_from_slice(b",7"));
            p.push_slice(&slab, 8..16);
            p.push(Bytes::from_static(b"]"));
        });
        let texts: Vec<&[u8]> = out.iter().map(|b| b.as_ref()).collect();
        assert_eq!(
            texts,
            [
                &b"["[..],
                b"{\"r\":1}",
                b",{\"a\":1}",
                b",7",
                b",{\"b\":2}",
                b"]"
            ]
        );
    }

    #[test]
    fn a_gap_another_slab_or_a_piece_between_starts_a_new_piece() {
        let one = Bytes::from(b",{\"a\":1},{\"b\":2}".to_vec());
        let two = Bytes::from(b",{\"c\":3}".to_vec());
        let out = collect(|p| {
            p.push_slice(&one, 9..16); // {"b":2} out of order: not adjacent to what follows
            p.push_slice(&one, 0..8);
            p.push_slice(&two, 0..8);
            p.push(Bytes::from_static(b"7"));
            p.push_slice(&two, 0..2);
        });
        let texts: Vec<&[u8]> = out.iter().map(|b| b.as_ref()).collect();
        assert_eq!(
            texts,
            [&b"{\"b\":2}"[..], b",{\"a\":1}", b",{\"c\":3}", b"7", b",{"]
        );
    }
}
