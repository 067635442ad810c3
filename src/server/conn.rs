//! Connection hygiene for the accept loop: a watched socket that notes when bytes move, a
//! watchdog that closes connections that never speak, go idle or stop reading, a cap on
//! open connections with a polite refusal, accept errors backed off and logged once per
//! interval, and the count of responses cut at the shutdown deadline.
//!
//! What it does not do: parse HTTP (hyper does) or decide what a request gets (`serve`).

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// The timeouts a connection lives by (see `ServerOptions`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From accept to the first byte.
    pub first_byte: Duration,
    /// No byte in either direction (and no request being handled).
    pub idle: Duration,
    /// A write that makes no progress (a client that does not read).
    pub write_stall: Duration,
}

/// What the watchdog and the shutdown report read; updated by `Watched` and the service.
pub struct ConnState {
    start: Instant,
    /// Milliseconds since `start` of the last byte read or written.
    last_io_ms: AtomicU64,
    /// Milliseconds since `start` at which a write first found the socket full; 0: none.
    write_blocked_ms: AtomicU64,
    any_read: AtomicBool,
    /// Requests whose response is not produced yet.
    in_flight: AtomicUsize,
    /// Requests handed to the service so far.
    started: AtomicUsize,
    /// Complete HTTP/1 request heads seen on the wire so far (see `HeadTracker`).
    heads: AtomicUsize,
    /// The client opened with the HTTP/2 preface.
    h2: AtomicBool,
}

impl ConnState {
    pub fn new() -> Arc<ConnState> {
        Arc::new(ConnState {
            start: Instant::now(),
            last_io_ms: AtomicU64::new(0),
            write_blocked_ms: AtomicU64::new(0),
            any_read: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            started: AtomicUsize::new(0),
            heads: AtomicUsize::new(0),
            h2: AtomicBool::new(false),
        })
    }

    fn now_ms(&self) -> u64 {
        // Never 0, so that 0 can mean "not blocked".
        self.start.elapsed().as_millis() as u64 + 1
    }

    fn touched(&self) {
        self.last_io_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// Counts a request as in flight until the guard is dropped.
    pub fn request(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        let n = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        RequestGuard(self.clone(), n)
    }

    /// HTTP/2, as far as the first bytes tell.
    pub fn is_h2(&self) -> bool {
        self.h2.load(Ordering::Relaxed)
    }

    /// Requests already received (whole heads on the wire) beyond the first `n`: a pipelined
    /// request queued behind request `n`.
    pub fn queued_after(&self, n: usize) -> bool {
        self.heads.load(Ordering::Relaxed) > n
    }

    /// Nothing to finish: no request being handled or written, none received and waiting.
    pub fn drained(&self) -> bool {
        !self.busy() && !self.queued_after(self.started.load(Ordering::Relaxed))
    }

    /// A request is being handled or a response cannot be written.
    pub fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) > 0
            || self.write_blocked_ms.load(Ordering::Relaxed) != 0
    }
}

/// See `ConnState::request`; `.1` is the request's number on its connection (from 1).
pub struct RequestGuard(Arc<ConnState>, usize);

impl RequestGuard {
    /// This request's number on its connection (the first is 1).
    pub fn number(&self) -> usize {
        self.1
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.touched();
    }
}

/// A socket that reports its progress to a `ConnState`, and gives the bodiless 4xx that
/// hyper writes on its own (a request it cannot parse, headers too large) an nginx-shaped
/// body, as GitLab's front end has.
pub struct Watched<T> {
    inner: T,
    state: Arc<ConnState>,
    /// A replacement answer still to be written (see `protocol_error_page`).
    pending: Vec<u8>,
    heads: HeadTracker,
}

impl<T> Watched<T> {
    pub fn new(inner: T, state: Arc<ConnState>) -> Self {
        Watched {
            inner,
            state,
            pending: Vec::new(),
            heads: HeadTracker::default(),
        }
    }

    fn wrote(&self, r: &Poll<io::Result<usize>>) {
        match r {
            Poll::Ready(Ok(n)) if *n > 0 => {
                self.state.write_blocked_ms.store(0, Ordering::Relaxed);
                self.state.touched();
            }
            Poll::Pending => {
                let _ = self.state.write_blocked_ms.compare_exchange(
                    0,
                    self.state.now_ms(),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            }
            _ => {}
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let this = &mut *self;
            if !this.state.any_read.swap(true, Ordering::Relaxed)
                && buf.filled()[before..].starts_with(b"PRI * HTTP/2")
            {
                this.state.h2.store(true, Ordering::Relaxed);
                this.heads.dead = true;
            }
            let done = this.heads.feed(&buf.filled()[before..]);
            if done > 0 {
                this.state.heads.fetch_add(done, Ordering::Relaxed);
            }
            this.state.touched();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> Watched<T> {
    /// Writes what is left of a replacement answer; `Ready(Ok)` once it is all out.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let r = Pin::new(&mut self.inner).poll_write(cx, &self.pending);
            self.wrote(&r);
            match r {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.pending.drain(..n);
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(page) = protocol_error_page(buf) {
            // Taken whole: hyper writes nothing after its error answer but the close.
            self.pending = page;
            return match self.drain(cx) {
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                _ => Poll::Ready(Ok(buf.len())),
            };
        }
        if !self.pending.is_empty() {
            return match self.drain(cx) {
                Poll::Ready(Ok(())) => Poll::Ready(Ok(buf.len())),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            };
        }
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.wrote(&r);
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if bufs
            .first()
            .is_some_and(|b| protocol_error_page(b).is_some())
        {
            let all: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            return self.poll_write(cx, &all);
        }
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.wrote(&r);
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

/// If `buf` is hyper's own bodiless 4xx (every answer glmock builds carries `x-request-id`),
/// the same status with the HTML page nginx, GitLab's front end, sends for it.
fn protocol_error_page(buf: &[u8]) -> Option<Vec<u8>> {
    // Every write passes here: most are not a bodiless 4xx head (`HTTP/1.1 4xx …\r\n\r\n`
    // and nothing after it), and two byte checks say so.
    if buf.len() < 16 || buf[9] != b'4' || !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..head_end])
        .ok()?
        .to_ascii_lowercase();
    let rest = head.strip_prefix("http/1.")?;
    let status: u16 = rest.get(2..5)?.parse().ok()?;
    if !(400..500).contains(&status)
        || head.contains("\r\nx-request-id:")
        || !head.contains("\r\ncontent-length: 0")
        || buf.len() != head_end + 4
    {
        return None;
    }
    let (title, detail) = match status {
        431 => (
            "400 Bad Request",
            Some("Request Header Or Cookie Too Large"),
        ),
        414 => ("414 Request-URI Too Large", None),
        413 => ("413 Request Entity Too Large", None),
        408 => ("408 Request Time-out", None),
        _ => ("400 Bad Request", None),
    };
    let mut body = format!(
        "<html>\r\n<head><title>{}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n",
        detail
            .map(|d| format!("400 {d}"))
            .unwrap_or_else(|| title.to_owned())
    );
    if let Some(d) = detail {
        body.push_str(&format!("<center>{d}</center>\r\n"));
    }
    body.push_str("<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
    let reason = match status {
        431 => "Request Header Fields Too Large",
        414 => "URI Too Long",
        413 => "Payload Too Large",
        408 => "Request Timeout",
        _ => "Bad Request",
    };
    Some(
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// Counts complete HTTP/1 request heads in the bytes read, skipping `Content-Length`
/// bodies, so that shutdown knows whether a pipelined request is already waiting. It gives
/// up (stops counting) on what it cannot follow: chunked bodies, huge heads, HTTP/2.
#[derive(Default)]
struct HeadTracker {
    head: Vec<u8>,
    body_left: u64,
    dead: bool,
}

impl HeadTracker {
    const MAX_HEAD: usize = 256 * 1024;

    /// Feeds bytes; returns the heads completed in them.
    fn feed(&mut self, data: &[u8]) -> usize {
        let mut done = 0;
        let mut data = data;
        loop {
            if self.dead || data.is_empty() {
                return done;
            }
            if self.body_left > 0 {
                let k = (self.body_left as usize).min(data.len());
                data = &data[k..];
                self.body_left -= k as u64;
                continue;
            }
            // A head that starts in these bytes is read where it is (the usual case: one
            // whole request per read); only a head split across reads is kept.
            let kept = self.head.len();
            let end = if kept == 0 {
                find_blank_line(data, 0)
            } else {
                self.head.extend_from_slice(data);
                find_blank_line(&self.head, kept.saturating_sub(3))
            };
            let Some(end) = end else {
                if kept == 0 {
                    self.head.extend_from_slice(data);
                }
                if self.head.len() > Self::MAX_HEAD {
                    self.dead = true;
                }
                return done;
            };
            let head = if kept == 0 {
                &data[..end]
            } else {
                &self.head[..end]
            };
            if let Some(next) = read_head(head) {
                done += 1;
                match next {
                    After::Body(n) => self.body_left = n,
                    After::Lost => self.dead = true,
                }
            }
            // The bytes after the blank line; a kept head had no blank line in it, so they
            // all come from `data`.
            data = &data[end + 4 - kept..];
            self.head.clear();
        }
    }
}

/// Where the first `\r\n\r\n` at or after `from` starts.
fn find_blank_line(bytes: &[u8], from: usize) -> Option<usize> {
    bytes[from..]
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| from + p)
}

/// What follows a request head.
enum After {
    /// This many body bytes (`Content-Length`, 0 without one).
    Body(u64),
    /// A body the tracker cannot follow (`Transfer-Encoding`).
    Lost,
}

/// A request head (without its blank line): `None` when it is only blank lines (not a
/// request), else what follows it. Read as bytes, lines ending in `\n` or `\r\n` (as
/// httparse reads them).
fn read_head(head: &[u8]) -> Option<After> {
    if head.trim_ascii().is_empty() {
        return None;
    }
    let mut body = 0;
    for line in head.split(|b| *b == b'\n').skip(1) {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = (line[..colon].trim_ascii(), line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"content-length") {
            body = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Some(After::Lost);
        }
    }
    Some(After::Body(body))
}

/// Where the server is in its life, for the connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Running,
    /// Stopping: finish what was received, then close.
    Draining,
    /// The grace is over: close now.
    Kill,
}

/// Runs one connection to its end: closed by the client, by the watchdog, or by the
/// server's shutdown. Draining, an HTTP/1 connection is left to finish the requests it has
/// received (the last answer carries `Connection: close`); an idle one, and HTTP/2 (GOAWAY,
/// streams in flight finish), are shut down gracefully at once.
pub async fn drive<C>(
    conn: C,
    state: &ConnState,
    limits: Limits,
    mut phases: tokio::sync::watch::Receiver<Phase>,
) where
    C: std::future::Future<Output = Result<(), Box<dyn std::error::Error + Send + Sync>>>
        + GracefulConn,
{
    let mut conn = std::pin::pin!(conn);
    let mut draining = false;
    let mut shut = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            reason = watchdog(state, limits), if !draining => {
                tracing::debug!(reason, "closing connection");
                return;
            }
            changed = phases.changed() => {
                match (changed, *phases.borrow_and_update()) {
                    (Err(_), _) | (_, Phase::Kill) => return,
                    (_, Phase::Draining) => draining = true,
                    (_, Phase::Running) => {}
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(5)), if draining && !shut => {}
        }
        // A head the tracker counted but hyper never handed over (it cannot follow every
        // framing) must not hold the connection open: quiet for a moment is drained too.
        let quiet = state
            .now_ms()
            .saturating_sub(state.last_io_ms.load(Ordering::Relaxed))
            > 500;
        if draining && !shut && (state.is_h2() || state.drained() || (quiet && !state.busy())) {
            GracefulConn::graceful_shutdown(conn.as_mut());
            shut = true;
        }
    }
}

/// hyper-util's connections, which can be asked to finish gracefully.
pub trait GracefulConn {
    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I, S, E, B> GracefulConn for hyper_util::server::conn::auto::UpgradeableConnection<'_, I, S, E>
where
    S: hyper::service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = hyper::Response<B>,
        >,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::Future: 'static,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    E: hyper::rt::bounds::Http2ServerConnExec<S::Future, B>,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        hyper_util::server::conn::auto::UpgradeableConnection::graceful_shutdown(self)
    }
}

/// Resolves (with the reason) when the connection should be closed.
pub async fn watchdog(state: &ConnState, limits: Limits) -> &'static str {
    let shortest = limits.first_byte.min(limits.idle).min(limits.write_stall);
    let tick = (shortest / 4).clamp(Duration::from_millis(5), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        let now = state.now_ms();
        let ms = |d: Duration| d.as_millis() as u64;
        if !state.any_read.load(Ordering::Relaxed) && now >= ms(limits.first_byte) {
            return "no request within the first-byte timeout";
        }
        let blocked = state.write_blocked_ms.load(Ordering::Relaxed);
        if blocked != 0 && now.saturating_sub(blocked) >= ms(limits.write_stall) {
            return "the client stopped reading (write timeout)";
        }
        let last = state.last_io_ms.load(Ordering::Relaxed);
        if state.any_read.load(Ordering::Relaxed)
            && !state.busy()
            && now.saturating_sub(last) >= ms(limits.idle)
        {
            return "idle timeout";
        }
    }
}

/// The open connections, for the cap and the shutdown report.
#[derive(Default)]
pub struct Registry {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Arc<ConnState>>>,
}

/// Removes its connection from the registry when dropped.
pub struct Registered {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry
            .open
            .lock()
            .expect("registry lock")
            .remove(&self.id);
    }
}

impl Registry {
    pub fn len(&self) -> usize {
        self.open.lock().expect("registry lock").len()
    }

    pub fn add(self: &Arc<Self>, state: Arc<ConnState>) -> Registered {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.open.lock().expect("registry lock").insert(id, state);
        Registered {
            registry: self.clone(),
            id,
        }
    }

    /// Open connections with a request being handled or a response not yet written.
    pub fn busy(&self) -> usize {
        self.open
            .lock()
            .expect("registry lock")
            .values()
            .filter(|s| s.busy())
            .count()
    }
}

/// What a client past `--max-connections` gets before the connection is closed.
pub const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 37\r\n\
\r\n\
{\"message\":\"503 Service Unavailable\"}";

/// Refusals being written at once; past this, a connection over the cap is just closed.
pub const MAX_REFUSING: usize = 64;

/// Answers 503 and closes, reading what the client sent for a moment so that the kernel
/// does not reset the connection before the answer is read.
pub async fn refuse(mut stream: tokio::net::TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(REFUSAL).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        let mut total = 0;
        while total < 64 * 1024 {
            match stream.read(&mut sink).await? {
                0 => break,
                n => total += n,
            }
        }
        Ok::<_, io::Error>(())
    })
    .await;
}

/// Backs off after failed accepts (10 ms doubling to 1 s) and logs at most once per
/// interval, with the number of failures since the last line.
pub struct AcceptBackoff {
    delay: Duration,
    failures: u64,
    last_log: Option<Instant>,
}

/// At most one `accept failed` line per this long.
pub const ACCEPT_LOG_INTERVAL: Duration = Duration::from_secs(5);

impl AcceptBackoff {
    pub fn new() -> Self {
        AcceptBackoff {
            delay: Duration::from_millis(10),
            failures: 0,
            last_log: None,
        }
    }

    /// Notes a failure; returns how long to wait before accepting again.
    pub fn failed(&mut self, e: &io::Error) -> Duration {
        self.failures += 1;
        if self
            .last_log
            .is_none_or(|t| t.elapsed() >= ACCEPT_LOG_INTERVAL)
        {
            tracing::warn!(
                error = %e,
                failures = self.failures,
                retry_in_ms = self.delay.as_millis() as u64,
                "accept failed (at the open-file limit?); backing off"
            );
            self.last_log = Some(Instant::now());
            self.failures = 0;
        }
        let d = self.delay;
        self.delay = (self.delay * 2).min(Duration::from_secs(1));
        d
    }

    pub fn succeeded(&mut self) {
        self.delay = Duration::from_millis(10);
    }
}

#[cfg(test)]
mod tests {
    use super::HeadTracker;

    const TWO: &[u8] = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
        GET /b HTTP/1.1\r\nhost: x\r\n\r\n";

    #[test]
    fn heads_are_counted_however_the_bytes_arrive() {
        assert_eq!(HeadTracker::default().feed(TWO), 2);
        for cut in 0..=TWO.len() {
            let mut t = HeadTracker::default();
            assert_eq!(t.feed(&TWO[..cut]) + t.feed(&TWO[cut..]), 2, "cut at {cut}");
        }
        let mut t = HeadTracker::default();
        let n: usize = TWO.iter().map(|b| t.feed(std::slice::from_ref(b))).sum();
        assert_eq!(n, 2, "byte by byte");
    }

    #[test]
    fn blank_lines_are_no_request_and_chunked_bodies_stop_the_count() {
        assert_eq!(HeadTracker::default().feed(b"\r\n\r\n"), 0);
        let mut t = HeadTracker::default();
        let chunked =
            b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n\
            GET /b HTTP/1.1\r\n\r\n";
        assert_eq!(t.feed(chunked), 1);
        assert!(t.dead);
        assert_eq!(t.feed(b"GET /c HTTP/1.1\r\n\r\n"), 0);
    }
}
