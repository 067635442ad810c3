//! The console log's writer. Access-log lines (target `glmock::access`, one per request) are
//! batched: written when 64 KiB are pending, every 50 ms, before any other line, and when
//! the [`Flush`] guard drops at exit, so a busy server pays one `write(2)` per batch instead
//! of one per request (measured in the README, "Performance"). Every other line — warnings,
//! errors, start-up — is written at once, after the access lines that came before it.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

use crate::server::ACCESS_LOG_TARGET;

const BATCH_BYTES: usize = 64 * 1024;
const BATCH_EVERY: Duration = Duration::from_millis(50);

#[derive(Default)]
struct Shared {
    pending: Mutex<Vec<u8>>,
}

impl Shared {
    fn flush_pending(pending: &mut Vec<u8>) {
        if !pending.is_empty() {
            // A console that cannot be written to cannot report it either.
            let _ = io::stderr().lock().write_all(pending);
            pending.clear();
        }
    }

    fn flush(&self) {
        Self::flush_pending(&mut self.pending.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

/// Standard error, with access-log lines batched.
#[derive(Clone)]
pub struct Console {
    shared: Arc<Shared>,
}

/// Writes what is pending when dropped (keep it alive until the process exits).
pub struct Flush(Arc<Shared>);

impl Drop for Flush {
    fn drop(&mut self) {
        self.0.flush();
    }
}

impl Console {
    /// The writer, its exit guard, and a thread that writes pending lines every 50 ms.
    pub fn new() -> (Console, Flush) {
        let shared = Arc::new(Shared::default());
        let weak: Weak<Shared> = Arc::downgrade(&shared);
        let _ = std::thread::Builder::new()
            .name("glmock-console".into())
            .spawn(move || {
                while let Some(shared) = weak.upgrade() {
                    shared.flush();
                    drop(shared);
                    std::thread::sleep(BATCH_EVERY);
                }
            });
        (
            Console {
                shared: shared.clone(),
            },
            Flush(shared),
        )
    }
}

/// One event's writer.
pub struct Line<'a> {
    shared: &'a Shared,
    batched: bool,
}

impl Shared {
    fn batch(&self, buf: &[u8]) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.extend_from_slice(buf);
        if pending.len() >= BATCH_BYTES {
            Shared::flush_pending(&mut pending);
        }
    }
}

impl Console {
    /// Adds access-log lines to the batch (the access log's direct writer,
    /// `server::access::write_directly`).
    pub fn batch(&self, lines: &[u8]) {
        self.shared.batch(lines);
    }
}

impl Write for Line<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.batched {
            self.shared.batch(buf);
        } else {
            let mut pending = self
                .shared
                .pending
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            // Keep the order: the access lines before this one go first.
            Shared::flush_pending(&mut pending);
            io::stderr().lock().write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Console {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line {
            shared: &self.shared,
            batched: false,
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Line<'a> {
        Line {
            shared: &self.shared,
            batched: meta.target() == ACCESS_LOG_TARGET,
        }
    }
}
