//! Response bodies: small in-memory ones and streamed file ranges.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::vec;

use hyper::body::{Body, Bytes, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncSeekExt, ReadBuf};

/// Bytes read from a file per body frame.
const CHUNK: usize = 64 * 1024;

/// A response body: in-memory bytes or a byte range of an open file read
/// in 64 KiB chunks (never the whole file in memory).
#[derive(Debug)]
pub struct HttpBody(Kind);

#[derive(Debug)]
enum Kind {
    Bytes(Option<Bytes>),
    File {
        file: tokio::fs::File,
        /// Offset of the first byte not yet read (the file's position).
        offset: u64,
        remaining: u64,
    },
}

/// What a body is made of, for a writer that sends it itself (the file
/// fast path: bytes written, file ranges by `sendfile(2)`).
#[derive(Debug)]
pub(super) enum Source {
    /// No body.
    Empty,
    /// These bytes.
    Bytes(Bytes),
    /// `count` bytes of `file` from `offset`.
    File {
        file: tokio::fs::File,
        offset: u64,
        count: u64,
    },
}

impl HttpBody {
    /// An empty body.
    pub fn empty() -> HttpBody {
        HttpBody(Kind::Bytes(None))
    }

    /// A body of these bytes.
    pub fn bytes(b: Bytes) -> HttpBody {
        HttpBody(Kind::Bytes(if b.is_empty() { None } else { Some(b) }))
    }

    /// `count` bytes of `file` from `start`.
    pub async fn file(
        mut file: tokio::fs::File,
        start: u64,
        count: u64,
    ) -> std::io::Result<HttpBody> {
        if start > 0 {
            file.seek(std::io::SeekFrom::Start(start)).await?;
        }
        Ok(HttpBody(Kind::File {
            file,
            offset: start,
            remaining: count,
        }))
    }

    /// What is left of this body, taken apart.
    pub(super) fn into_source(self) -> Source {
        match self.0 {
            Kind::Bytes(None) => Source::Empty,
            Kind::Bytes(Some(b)) => Source::Bytes(b),
            Kind::File { remaining: 0, .. } => Source::Empty,
            Kind::File {
                file,
                offset,
                remaining,
            } => Source::File {
                file,
                offset,
                count: remaining,
            },
        }
    }
}

impl Body for HttpBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match &mut self.get_mut().0 {
            Kind::Bytes(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Kind::File {
                file,
                offset,
                remaining,
            } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                let want = usize::try_from(*remaining).unwrap_or(CHUNK).min(CHUNK);
                let mut buf = vec![0u8; want];
                let mut rb = ReadBuf::new(&mut buf);
                match Pin::new(file).poll_read(cx, &mut rb) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
                    Poll::Ready(Ok(())) => {
                        let n = rb.filled().len();
                        if n == 0 {
                            // The file shrank under us: fail the body rather
                            // than send fewer bytes than Content-Length said.
                            return Poll::Ready(Some(Err(std::io::Error::new(
                                std::io::ErrorKind::UnexpectedEof,
                                "file shorter than announced",
                            ))));
                        }
                        *remaining -= n as u64;
                        *offset += n as u64;
                        buf.truncate(n);
                        Poll::Ready(Some(Ok(Frame::data(Bytes::from(buf)))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Kind::Bytes(b) => b.is_none(),
            Kind::File { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Kind::Bytes(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::File { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}
