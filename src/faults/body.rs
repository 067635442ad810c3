//! What faults do to a connection and a body: `Conn` wraps the accepted TCP stream so a
//! rule can reset it (SO_LINGER 0, then drop: the peer gets an RST) or close it before any
//! response; `FaultBody` sends the real body whole, cut short, or trickled.

use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

const OPEN: u8 = 0;
const CLOSE: u8 = 1;
const RESET: u8 = 2;

/// One connection's switch, handed to each of its requests (as a request extension).
#[derive(Debug, Clone)]
pub struct ConnCtl {
    state: Arc<AtomicU8>,
    /// The client's address: Rack::Attack's unauthenticated throttle counts per IP.
    pub peer: IpAddr,
}

impl ConnCtl {
    /// Ends the connection at its next read or write, before anything more is sent.
    pub fn close(&self) {
        self.state.store(CLOSE, Ordering::Relaxed);
    }

    /// Resets the connection at its next read or write.
    pub fn reset(&self) {
        self.state.store(RESET, Ordering::Relaxed);
    }
}

/// The accepted stream, with the switch faults use.
pub struct Conn {
    inner: TcpStream,
    state: Arc<AtomicU8>,
}

impl Conn {
    pub fn new(inner: TcpStream, peer: IpAddr) -> (Conn, ConnCtl) {
        let state = Arc::new(AtomicU8::new(OPEN));
        (
            Conn {
                inner,
                state: state.clone(),
            },
            ConnCtl { state, peer },
        )
    }

    /// `Some(error)` once a fault ended the connection: hyper then drops it unanswered.
    fn ended(&self) -> Option<io::Error> {
        match self.state.load(Ordering::Relaxed) {
            OPEN => None,
            RESET => {
                // Linger 0: dropping the socket sends an RST instead of a FIN.
                let _ = self.inner.set_zero_linger();
                Some(io::ErrorKind::ConnectionReset.into())
            }
            _ => Some(io::ErrorKind::ConnectionAborted.into()),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.ended() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.ended() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.ended() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A chunk of a `FaultBody`: the inner body's own data, or bytes the fault re-sliced.
pub enum Chunk<D> {
    Inner(D),
    Bytes(Bytes),
}

impl<D: Buf> Buf for Chunk<D> {
    fn remaining(&self) -> usize {
        match self {
            Chunk::Inner(d) => d.remaining(),
            Chunk::Bytes(b) => b.remaining(),
        }
    }

    fn chunk(&self) -> &[u8] {
        match self {
            Chunk::Inner(d) => d.chunk(),
            Chunk::Bytes(b) => b.chunk(),
        }
    }

    fn advance(&mut self, cnt: usize) {
        match self {
            Chunk::Inner(d) => d.advance(cnt),
            Chunk::Bytes(b) => b.advance(cnt),
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [io::IoSlice<'a>]) -> usize {
        match self {
            Chunk::Inner(d) => d.chunks_vectored(dst),
            Chunk::Bytes(b) => b.chunks_vectored(dst),
        }
    }
}

fn append(buf: &mut Bytes, more: BytesMut) {
    if buf.is_empty() {
        *buf = more.freeze();
    } else if !more.is_empty() {
        let mut joined = BytesMut::from(&buf[..]);
        joined.extend_from_slice(&more);
        *buf = joined.freeze();
    }
}

/// Errors a fault puts into a body (hyper aborts the connection on them).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A response body as a fault leaves it.
pub enum FaultBody<B> {
    /// Untouched.
    Whole(B),
    /// Up to `left` more bytes, then (after the socket has had time to flush) an error.
    Cut {
        inner: B,
        left: u64,
        total: Option<u64>,
        wait: Option<Pin<Box<Sleep>>>,
        done: bool,
    },
    /// Everything, `chunk` bytes every `every`.
    Trickle {
        inner: Option<B>,
        buf: Bytes,
        chunk: usize,
        every: Duration,
        total: Option<u64>,
        wait: Option<Pin<Box<Sleep>>>,
    },
}

impl<B: Body> FaultBody<B> {
    /// Cut after `after` bytes (default: half of the body).
    pub fn cut(inner: B, after: Option<u64>) -> Self {
        let total = inner.size_hint().exact();
        let left = after.unwrap_or(total.unwrap_or(0) / 2);
        FaultBody::Cut {
            inner,
            left,
            total,
            wait: None,
            done: false,
        }
    }

    pub fn trickle(inner: B, chunk: u64, every: Duration) -> Self {
        let total = inner.size_hint().exact();
        FaultBody::Trickle {
            inner: Some(inner),
            buf: Bytes::new(),
            chunk: chunk.clamp(1, 1 << 20) as usize,
            every,
            total,
            wait: None,
        }
    }
}

impl<B> Body for FaultBody<B>
where
    B: Body + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Chunk<B::Data>;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.get_mut() {
            FaultBody::Whole(b) => Pin::new(b)
                .poll_frame(cx)
                .map(|f| f.map(|r| r.map(|fr| fr.map_data(Chunk::Inner)).map_err(Into::into))),
            FaultBody::Cut {
                inner,
                left,
                wait,
                done,
                ..
            } => {
                if *done {
                    return Poll::Ready(None);
                }
                if let Some(w) = wait {
                    return match w.as_mut().poll(cx) {
                        Poll::Pending => Poll::Pending,
                        Poll::Ready(()) => {
                            *done = true;
                            Poll::Ready(Some(Err("body cut short by a fault rule".into())))
                        }
                    };
                }
                loop {
                    match Pin::new(&mut *inner).poll_frame(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(None) => return Poll::Ready(None),
                        Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
                        Poll::Ready(Some(Ok(frame))) => {
                            let Ok(mut data) = frame.into_data() else {
                                continue;
                            };
                            let n = (*left).min(data.remaining() as u64) as usize;
                            let part = data.copy_to_bytes(n);
                            *left -= n as u64;
                            if *left == 0 {
                                // Give hyper time to flush what was sent before failing.
                                *wait =
                                    Some(Box::pin(tokio::time::sleep(Duration::from_millis(20))));
                                cx.waker().wake_by_ref();
                            }
                            if !part.is_empty() {
                                return Poll::Ready(Some(Ok(Frame::data(Chunk::Bytes(part)))));
                            }
                            if *left == 0 {
                                return Poll::Pending;
                            }
                        }
                    }
                }
            }
            FaultBody::Trickle {
                inner,
                buf,
                chunk,
                every,
                wait,
                ..
            } => {
                if let Some(b) = inner {
                    let mut all = BytesMut::new();
                    loop {
                        match Pin::new(&mut *b).poll_frame(cx) {
                            Poll::Pending => {
                                append(buf, all);
                                if buf.is_empty() {
                                    return Poll::Pending;
                                }
                                break;
                            }
                            Poll::Ready(Some(Ok(frame))) => {
                                if let Ok(mut d) = frame.into_data() {
                                    let n = d.remaining();
                                    all.extend_from_slice(&d.copy_to_bytes(n));
                                }
                            }
                            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
                            Poll::Ready(None) => {
                                append(buf, all);
                                *inner = None;
                                break;
                            }
                        }
                    }
                }
                if buf.is_empty() {
                    return Poll::Ready(None);
                }
                if let Some(w) = wait {
                    match w.as_mut().poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(()) => *wait = None,
                    }
                }
                let n = (*chunk).min(buf.len());
                let part = buf.split_to(n);
                if !buf.is_empty() {
                    *wait = Some(Box::pin(tokio::time::sleep(*every)));
                }
                Poll::Ready(Some(Ok(Frame::data(Chunk::Bytes(part)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            FaultBody::Whole(b) => b.is_end_stream(),
            _ => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            FaultBody::Whole(b) => b.size_hint(),
            FaultBody::Cut { total, .. } | FaultBody::Trickle { total, .. } => match total {
                Some(t) => SizeHint::with_exact(*t),
                None => SizeHint::default(),
            },
        }
    }
}
