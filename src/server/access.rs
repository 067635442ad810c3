//! The access log: one line per API request, at `info`, target [`TARGET`] (method, path,
//! session, status, µs).
//!
//! By default a line is a `tracing` event, for whatever subscriber the process has (a test
//! suite that embeds glmock sees them in its own). The binary installs a direct writer
//! instead ([`write_directly`]): the line is then formatted here, byte for byte as
//! tracing-subscriber's `fmt` layer writes it (text without colour, or JSON), and handed to
//! the console's batch — without the event's field visiting and `fmt` machinery, which
//! cost about as much as a whole small page (README, "Performance").

use std::cell::RefCell;
use std::io::Write;
use std::sync::OnceLock;

use jiff::Timestamp;

/// The target of the access log's events.
pub const TARGET: &str = "glmock::access";

/// One request, as logged.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub time: Timestamp,
    pub method: &'a str,
    pub path: &'a str,
    pub session: &'a str,
    pub status: u16,
    pub latency_us: u64,
}

/// The line formats of tracing-subscriber's `fmt` layer that [`write_directly`] reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `fmt()` with ANSI colours off.
    Text,
    /// `fmt().json()`.
    Json,
}

/// Where formatted lines go: the whole line, newline included.
pub type Writer = Box<dyn Fn(&[u8]) + Send + Sync>;

static DIRECT: OnceLock<(Format, Writer)> = OnceLock::new();

/// From now on, access lines are formatted here in `format` and given to `write` instead of
/// being `tracing` events. For a process whose subscriber writes `format` and lets
/// [`TARGET`] through at `info` (the binary checks both). False when a writer was already
/// installed (the first one stays).
pub fn write_directly(format: Format, write: Writer) -> bool {
    DIRECT.set((format, write)).is_ok()
}

/// Logs one request.
pub fn log(line: &Line<'_>) {
    let Some((format, write)) = DIRECT.get() else {
        tracing::info!(target: TARGET, method = %line.method, path = %line.path, session = %line.session, status = line.status, latency_us = line.latency_us, "request");
        return;
    };
    thread_local! {
        static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    BUF.with_borrow_mut(|buf| {
        buf.clear();
        render(line, *format, buf);
        write(buf);
    });
}

/// The line as tracing-subscriber's `fmt` layer writes it.
pub fn render(line: &Line<'_>, format: Format, out: &mut Vec<u8>) {
    // Writing to a `Vec` does not fail.
    match format {
        Format::Text => {
            push_time(line.time, out);
            out.extend_from_slice(b"  INFO ");
            out.extend_from_slice(TARGET.as_bytes());
            out.extend_from_slice(b": request method=");
            out.extend_from_slice(line.method.as_bytes());
            out.extend_from_slice(b" path=");
            out.extend_from_slice(line.path.as_bytes());
            out.extend_from_slice(b" session=");
            out.extend_from_slice(line.session.as_bytes());
            let _ = writeln!(
                out,
                " status={} latency_us={}",
                line.status, line.latency_us
            );
        }
        Format::Json => {
            out.extend_from_slice(b"{\"timestamp\":\"");
            push_time(line.time, out);
            out.extend_from_slice(
                b"\",\"level\":\"INFO\",\"fields\":{\"message\":\"request\",\"method\":",
            );
            let _ = serde_json::to_writer(&mut *out, line.method);
            out.extend_from_slice(b",\"path\":");
            let _ = serde_json::to_writer(&mut *out, line.path);
            out.extend_from_slice(b",\"session\":");
            let _ = serde_json::to_writer(&mut *out, line.session);
            let _ = writeln!(
                out,
                ",\"status\":{},\"latency_us\":{}}},\"target\":\"{TARGET}\"}}",
                line.status, line.latency_us
            );
        }
    }
}

/// `2026-12-05T07:51:22.261907Z`: UTC, microseconds, as tracing-subscriber's `SystemTime`
/// timer writes it. The part up to the second is kept per thread (it changes once a second).
fn push_time(time: Timestamp, out: &mut Vec<u8>) {
    thread_local! {
        static SECOND: RefCell<(i64, [u8; 19])> = const { RefCell::new((i64::MIN, [0; 19])) };
    }
    let second = time.as_second();
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached == second {
            out.extend_from_slice(text);
            return;
        }
        let dt = jiff::tz::Offset::UTC.to_datetime(time);
        let start = out.len();
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        // (A year past 9999 does not fit, and is not cached.)
        if let Ok(t) = <[u8; 19]>::try_from(&out[start..]) {
            (*cached, *text) = (second, t);
        }
    });
    let _ = write!(out, ".{:06}Z", time.subsec_microsecond().max(0));
}

#[cfg(all(test, feature = "cli"))]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A timer that writes one fixed instant, as tracing's `SystemTime` printed it.
    struct Fixed(&'static str);

    impl tracing_subscriber::fmt::time::FormatTime for Fixed {
        fn format_time(
            &self,
            w: &mut tracing_subscriber::fmt::format::Writer<'_>,
        ) -> std::fmt::Result {
            w.write_str(self.0)
        }
    }

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What tracing-subscriber writes for the event `log` would send.
    fn by_tracing(line: &Line<'_>, stamp: &'static str, format: Format) -> String {
        let buffer = Buffer::default();
        let out = buffer.clone();
        let builder = tracing_subscriber::fmt()
            .with_writer(move || out.clone())
            .with_timer(Fixed(stamp))
            .with_ansi(false);
        let event = || tracing::info!(target: TARGET, method = %line.method, path = %line.path, session = %line.session, status = line.status, latency_us = line.latency_us, "request");
        match format {
            Format::Text => tracing::subscriber::with_default(builder.finish(), event),
            Format::Json => tracing::subscriber::with_default(builder.json().finish(), event),
        }
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn lines_are_what_tracing_subscriber_writes() {
        for stamp in [
            "2026-12-05T07:51:22.261907Z",
            "2026-01-09T00:00:00.000000Z",
            "1999-12-31T23:59:59.000042Z",
        ] {
            for (method, path, session, status, latency_us) in [
                ("GET", "/api/v4/projects/1/jobs", "default", 200, 233),
                ("POST", "/api/v4/projects/a%2Fb/jobs/7/retry", "s-1", 404, 0),
                ("BREW", "/api/v4/\"quoted\"\\back\u{e9}", "", 500, u64::MAX),
            ] {
                let line = Line {
                    time: stamp.parse().unwrap(),
                    method,
                    path,
                    session,
                    status,
                    latency_us,
                };
                for format in [Format::Text, Format::Json] {
                    let mut ours = Vec::new();
                    render(&line, format, &mut ours);
                    assert_eq!(
                        String::from_utf8(ours).unwrap(),
                        by_tracing(&line, stamp, format),
                        "{format:?} {line:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_second_is_recomputed_when_it_changes() {
        let mut out = Vec::new();
        for stamp in ["2026-12-05T07:51:22.9Z", "2026-12-05T07:51:23.000001Z"] {
            push_time(stamp.parse().unwrap(), &mut out);
            out.push(b' ');
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-12-05T07:51:22.900000Z 2026-12-05T07:51:23.000001Z "
        );
    }
}
