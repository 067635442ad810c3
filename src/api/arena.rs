//! Header values carved from one block per thread: a response's `Link`, `X-*` and
//! `X-Request-Id` values are written into the block and handed out as shared slices of it,
//! so they cost no allocation of their own. They live until hyper has written the response
//! head; once every slice of a block is gone the block is taken back whole (`BytesMut`
//! reclaims a buffer no one else holds), otherwise the next one is allocated and the old one
//! goes with its last slice. Nothing long-lived may come from here: one slice kept would
//! keep its block (HTTP/2 responses, whose values HPACK may keep for the connection, get
//! copies of their own in `server::own_header_values`).

use std::cell::RefCell;

use bytes::{Bytes, BytesMut};

/// Bytes per block; larger values get their own allocation.
const BLOCK: usize = 8 * 1024;

thread_local! {
    static BLOCK_BUF: RefCell<BytesMut> = RefCell::new(BytesMut::new());
    static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
}

/// `bytes`, copied into this thread's block.
pub fn copy(bytes: &[u8]) -> Bytes {
    if bytes.len() > BLOCK / 4 {
        return Bytes::copy_from_slice(bytes);
    }
    BLOCK_BUF.with(|cell| match cell.try_borrow_mut() {
        Ok(mut block) => {
            if block.capacity() < bytes.len() {
                // The whole block back when no slice of it is alive, else a new one.
                block.reserve(BLOCK);
            }
            block.extend_from_slice(bytes);
            block.split().freeze()
        }
        Err(_) => Bytes::copy_from_slice(bytes),
    })
}

/// What `write` writes into an empty string (kept per thread, so not allocated per call),
/// from the offset it returns on (what comes before is its working space), copied into the
/// block; with the rest of what `write` returns (the ranges of the values, say).
pub fn text<R>(write: impl FnOnce(&mut String) -> (usize, R)) -> (Bytes, R) {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            scratch.clear();
            let (from, r) = write(&mut scratch);
            let bytes = copy(&scratch.as_bytes()[from..]);
            // A huge value's buffer is not kept.
            scratch.shrink_to(BLOCK);
            (bytes, r)
        }
        Err(_) => {
            let mut own = String::new();
            let (from, r) = write(&mut own);
            (Bytes::from(own).slice(from..), r)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_copied_and_a_free_block_is_taken_back() {
        let a = copy(b"glmock-0000000000000001");
        assert_eq!(&a[..], b"glmock-0000000000000001");
        let start = a.as_ptr();
        drop(a);
        // Values that die at once are carved one after the other; when the block is used
        // up, the next value starts it over in place (not in a new block).
        let mut end = start as usize + 23;
        for _ in 0..2 * BLOCK / 64 {
            let v = copy(&[b'x'; 64]);
            assert_eq!(v[..], [b'x'; 64]);
            let at = v.as_ptr() as usize;
            if at != end {
                assert_eq!(
                    at, start as usize,
                    "a block with no live slice was not taken back"
                );
                return;
            }
            end = at + 64;
        }
        panic!("the block never filled up");
    }

    #[test]
    fn a_block_still_in_use_is_left_to_its_slices() {
        let kept = copy(b"kept");
        let mut others = Vec::new();
        for _ in 0..(2 * BLOCK / 16) {
            others.push(copy(&[b'z'; 16]));
        }
        // The slice of the first block is intact whatever was carved after it.
        assert_eq!(&kept[..], b"kept");
        assert!(others.iter().all(|b| b[..] == [b'z'; 16]));
    }

    #[test]
    fn text_returns_what_the_writer_returns_and_large_values_stand_alone() {
        let (bytes, n) = text(|s| {
            s.push_str("scratch:");
            let from = s.len();
            s.push_str("<a>; rel=\"next\"");
            (from, s.len() - from)
        });
        assert_eq!(&bytes[..], b"<a>; rel=\"next\"");
        assert_eq!(n, bytes.len());
        let big = "q".repeat(BLOCK);
        let (bytes, ()) = text(|s| {
            s.push_str(&big);
            (0, ())
        });
        assert_eq!(bytes.len(), BLOCK);
    }
}
