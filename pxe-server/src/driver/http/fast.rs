//! The fast path: a plain HTTP/1.1 `GET`/`HEAD` of a boot file, an iPXE
//! script or `/done` is answered outside hyper, a file's body sent by
//! `sendfile(2)` (page cache to socket, never through user space);
//! anything else is handed to hyper with the bytes already read.
//!
//! Scripts are taken here too because iPXE keeps its connection alive:
//! it fetches the script, then the kernel and initrd on the same
//! connection, and once hyper has a connection it keeps it, so a script
//! left to hyper would send every boot file after it through user space.
//!
//! Only the framing is ours: the request head is parsed by `httparse`
//! (hyper's own parser), the answer comes from [`HttpService::handle`]
//! (the same path resolution, root confinement, ranges, status codes,
//! logging, journey steps and metrics as every other request), and this
//! module writes its head and body. HTTP/1.0 requests are taken too
//! (syslinux's `lpxelinux.0` fetches its kernel and initrd with them, one
//! connection per file), answered as HTTP/1.1 without chunking, the
//! connection kept only when the client asks `Connection: keep-alive`
//! (RFC 9112 §9.3). A request it does not take whole — another method, a
//! body, `Upgrade`, `Expect`, the status page, a head larger than
//! [`HEAD_BUF`] or one `httparse` refuses — goes to hyper together with
//! the rest of the connection.
//!
//! `sendfile(2)` reads the file on the calling worker thread: from the
//! page cache, where a boot server's files are after their first boot,
//! it hands the socket page references and returns at once. A chunk that
//! is not there is first read on the blocking pool ([`super::page_cache`]),
//! so a cold file does not stall the worker for the disk read.

use std::io::Write;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::vec::Vec;

use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, Uri, Version};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

use super::body::{HttpBody, Source};
use super::page_cache;
use super::server::{HEADER_TIMEOUT, HttpService, serve_hyper};
use crate::driver::metrics::HttpKind;

/// Request-head buffer of a connection (allocated once per connection);
/// a head that does not fit goes to hyper, whose limit is larger.
pub(super) const HEAD_BUF: usize = 16 * 1024;

/// Headers a fast-path request may have (more: hyper takes it).
const MAX_HEADERS: usize = 64;

/// Bytes handed to one `sendfile(2)` call: large enough that the call
/// count is negligible, small enough that one connection cannot hold a
/// worker thread for long (nginx's `sendfile_max_chunk` default).
const SENDFILE_CHUNK: usize = 2 * 1024 * 1024;

/// Serves a connection: file, script and `/done` requests here, the
/// first other request and everything after it by hyper.
pub(super) async fn serve(
    svc: HttpService,
    stream: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
) {
    // The last, short segment of a body leaves at once instead of waiting
    // (Nagle) for the client's possibly delayed ACK of the segments before
    // it: on a keep-alive connection that wait would stall every response
    // (nginx's `tcp_nodelay on`). Heads are held back by MSG_MORE instead.
    let _ = stream.set_nodelay(true);
    let mut conn = Conn {
        stream,
        buf: std::vec![0; HEAD_BUF],
        filled: 0,
        head: Vec::with_capacity(512),
    };
    loop {
        let FileRequest {
            req,
            consumed,
            persistence,
        } = match conn.next_request(&svc).await {
            Next::File(f) => f,
            Next::Closed => return,
            Next::Hyper => {
                conn.buf.truncate(conn.filled);
                let io = Rewind {
                    pre: conn.buf,
                    pos: 0,
                    inner: conn.stream,
                };
                return serve_hyper(svc, io, peer, local).await;
            }
        };
        conn.buf.copy_within(consumed..conn.filled, 0);
        conn.filled -= consumed;
        let resp = svc.handle(&req, peer, local).await;
        if let Err(e) = conn.respond(resp, persistence).await {
            tracing::debug!(target: "pxe_server::http", %peer, "connection: {e}");
            return;
        }
        if persistence == Persistence::Close {
            return;
        }
    }
}

/// One connection on the fast path.
struct Conn {
    stream: TcpStream,
    /// Bytes read and not yet consumed: `buf[..filled]`.
    buf: Vec<u8>,
    filled: usize,
    /// The response head being written (reused).
    head: Vec<u8>,
}

/// A file request this path answers: the request, the bytes of its head,
/// and whether the connection ends after the answer.
struct FileRequest {
    req: Request<()>,
    consumed: usize,
    persistence: Persistence,
}

/// Whether a connection outlives the answer (RFC 9112 §9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Persistence {
    /// HTTP/1.1 without `Connection: close`: kept, nothing to say.
    Kept,
    /// HTTP/1.0 with `Connection: keep-alive`: kept, and the answer must
    /// say so, or the client takes the end of the answer for a close.
    KeptOnRequest,
    /// `Connection: close`, or HTTP/1.0 without keep-alive: the answer
    /// says `connection: close` and the connection ends after it.
    Close,
}

// Moved once per request, never stored: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
enum Next {
    File(FileRequest),
    /// Anything else: hyper takes the connection (with `buf[..filled]`).
    Hyper,
    /// The client closed, or sent no complete head in time.
    Closed,
}

// Moved once per request, never stored: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
enum Parsed {
    Partial,
    File(FileRequest),
    Other,
}

impl Conn {
    /// Reads until `buf` holds a complete request head (or the client
    /// closes, or [`HEADER_TIMEOUT`] passes) and says who answers it.
    async fn next_request(&mut self, svc: &HttpService) -> Next {
        let deadline = tokio::time::Instant::now() + HEADER_TIMEOUT;
        loop {
            if self.filled > 0 {
                match parse(&self.buf[..self.filled], svc) {
                    Parsed::File(f) => return Next::File(f),
                    Parsed::Other => return Next::Hyper,
                    Parsed::Partial if self.filled == self.buf.len() => return Next::Hyper,
                    Parsed::Partial => {}
                }
            }
            let read = self.stream.read(&mut self.buf[self.filled..]);
            match tokio::time::timeout_at(deadline, read).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return Next::Closed,
                Ok(Ok(n)) => self.filled += n,
            }
        }
    }

    /// Writes `resp`: its head, then its body (bytes in the same write,
    /// a file range by `sendfile(2)`). The framing is the body's length:
    /// `Content-Length` as the service set it, or the length of the bytes
    /// when it did not.
    async fn respond(
        &mut self,
        resp: Response<HttpBody>,
        persistence: Persistence,
    ) -> std::io::Result<()> {
        let (mut parts, body) = resp.into_parts();
        let source = body.into_source();
        if !parts.headers.contains_key(header::CONTENT_LENGTH) && may_have_content(parts.status) {
            let len = match &source {
                Source::Empty => 0,
                Source::Bytes(b) => b.len() as u64,
                Source::File { count, .. } => *count,
            };
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        }
        self.head.clear();
        let status = parts.status;
        // Writes into a Vec cannot fail.
        let _ = write!(
            self.head,
            "HTTP/1.1 {} {}\r\n",
            status.as_str(),
            status.canonical_reason().unwrap_or("")
        );
        for (name, value) in &parts.headers {
            self.head.extend_from_slice(name.as_str().as_bytes());
            self.head.extend_from_slice(b": ");
            self.head.extend_from_slice(value.as_bytes());
            self.head.extend_from_slice(b"\r\n");
        }
        let _ = write!(
            self.head,
            "date: {}\r\n",
            httpdate::HttpDate::from(std::time::SystemTime::now())
        );
        match persistence {
            Persistence::Kept => {}
            Persistence::KeptOnRequest => {
                self.head.extend_from_slice(b"connection: keep-alive\r\n")
            }
            Persistence::Close => self.head.extend_from_slice(b"connection: close\r\n"),
        }
        self.head.extend_from_slice(b"\r\n");
        match source {
            Source::Empty => write_all(&self.stream, &self.head, false).await,
            Source::Bytes(b) => {
                self.head.extend_from_slice(&b);
                write_all(&self.stream, &self.head, false).await
            }
            Source::File {
                file,
                offset,
                count,
            } => {
                write_all(&self.stream, &self.head, true).await?;
                send_file(&self.stream, &file, offset, count).await
            }
        }
    }
}

/// Parses the head in `buf`, and builds the request when it is one this
/// path answers.
fn parse(buf: &[u8], svc: &HttpService) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let consumed = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Other,
    };
    let method = match parsed.method {
        Some("GET") => Method::GET,
        Some("HEAD") => Method::HEAD,
        _ => return Parsed::Other,
    };
    let (version, mut keep_alive) = match parsed.version {
        Some(1) => (Version::HTTP_11, true),
        Some(0) => (Version::HTTP_10, false),
        _ => return Parsed::Other,
    };
    let Some(target) = parsed.path.filter(|p| p.starts_with('/')) else {
        return Parsed::Other;
    };
    let Ok(uri) = Uri::try_from(target) else {
        return Parsed::Other;
    };
    if svc.route(uri.path()) == HttpKind::Status {
        return Parsed::Other;
    }
    let mut req = Request::new(());
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.version_mut() = version;
    let mut close = false;
    for h in parsed.headers.iter() {
        let Ok(name) = HeaderName::from_bytes(h.name.as_bytes()) else {
            return Parsed::Other;
        };
        let Ok(value) = HeaderValue::from_bytes(h.value) else {
            return Parsed::Other;
        };
        if name == header::CONTENT_LENGTH {
            if value.as_bytes().trim_ascii() != b"0" {
                return Parsed::Other;
            }
        } else if name == header::TRANSFER_ENCODING
            || name == header::UPGRADE
            || name == header::EXPECT
        {
            return Parsed::Other;
        } else if name == header::CONNECTION {
            for token in value.as_bytes().split(|&c| c == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    keep_alive = true;
                } else if token.eq_ignore_ascii_case(b"upgrade") {
                    return Parsed::Other;
                }
            }
        }
        req.headers_mut().append(name, value);
    }
    let persistence = if close || !keep_alive {
        Persistence::Close
    } else if version == Version::HTTP_10 {
        Persistence::KeptOnRequest
    } else {
        Persistence::Kept
    };
    Parsed::File(FileRequest {
        req,
        consumed,
        persistence,
    })
}

/// Writes all of `data`; `more`: a body follows at once (`MSG_MORE`, so
/// the head leaves in the body's first segment).
async fn write_all(stream: &TcpStream, mut data: &[u8], more: bool) -> std::io::Result<()> {
    let flags = if more { nix::libc::MSG_MORE } else { 0 };
    let sock = socket2::SockRef::from(stream);
    while !data.is_empty() {
        stream.writable().await?;
        match stream.try_io(Interest::WRITABLE, || sock.send_with_flags(data, flags)) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Whether a response with this status has content to frame: 1xx, 204 and
/// 304 have none and carry no Content-Length (RFC 9110 §8.6; a 304's
/// would state the length of the file the client already holds).
fn may_have_content(status: hyper::StatusCode) -> bool {
    !(status.is_informational()
        || status == hyper::StatusCode::NO_CONTENT
        || status == hyper::StatusCode::NOT_MODIFIED)
}

/// Sends `count` bytes of `file` from `offset` by `sendfile(2)` on the
/// non-blocking socket, waiting for writability between calls. A file
/// that ends early (it shrank since its length was announced) fails the
/// connection rather than send fewer bytes than `Content-Length` said.
async fn send_file(
    stream: &TcpStream,
    file: &impl AsFd,
    offset: u64,
    mut count: u64,
) -> std::io::Result<()> {
    let mut off = nix::libc::off64_t::try_from(offset)
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // File offsets below this were found in the page cache, or read into
    // it: the probe runs once per chunk, not once per sendfile call (a call
    // sends what the socket buffer takes, often a fraction of a chunk).
    let mut checked_until = 0u64;
    while count > 0 {
        let mut want = usize::try_from(count)
            .unwrap_or(SENDFILE_CHUNK)
            .min(SENDFILE_CHUNK);
        let at = u64::try_from(off).unwrap_or(0);
        if at >= checked_until {
            // A cold chunk is read on the blocking pool first, so that the
            // disk read does not stall this worker inside sendfile.
            if !page_cache::holds(file, at, want) {
                page_cache::warm(file, at, want).await?;
            }
            checked_until = at.saturating_add(want as u64);
        } else {
            // Up to the end of the checked chunk; the next call checks on.
            want = want.min(usize::try_from(checked_until - at).unwrap_or(want));
        }
        stream.writable().await?;
        let sent = stream.try_io(Interest::WRITABLE, || {
            nix::sys::sendfile::sendfile64(stream, file, Some(&mut off), want)
                .map_err(std::io::Error::from)
        });
        match sent {
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "file shorter than announced",
                ));
            }
            Ok(n) => count -= n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
        // Let the worker run other tasks between large sends.
        tokio::task::consume_budget().await;
    }
    Ok(())
}

/// A stream that first yields bytes already read from it: how hyper gets
/// a connection whose request head the fast path has read.
struct Rewind {
    pre: Vec<u8>,
    pos: usize,
    inner: TcpStream,
}

impl AsyncRead for Rewind {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = &mut *self;
        if this.pos < this.pre.len() {
            let n = (this.pre.len() - this.pos).min(buf.remaining());
            buf.put_slice(&this.pre[this.pos..this.pos + n]);
            this.pos += n;
            if this.pos == this.pre.len() {
                this.pre = Vec::new();
                this.pos = 0;
            }
            return std::task::Poll::Ready(Ok(()));
        }
        std::pin::Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::http::HttpConfig;

    /// A service on an empty root (the root directory lives as long as
    /// the first value).
    fn service() -> (tempfile::TempDir, HttpService) {
        let dir = tempfile::tempdir().unwrap();
        let config = HttpConfig {
            root: Some(dir.path().to_path_buf()),
            script: None,
            script_dir: None,
        };
        let svc = HttpService::new(&config, None).unwrap();
        (dir, svc)
    }

    fn takes(svc: &HttpService, head: &[u8]) -> bool {
        matches!(parse(head, svc), Parsed::File(_))
    }

    #[test]
    fn scripts_and_files_stay_on_the_fast_path() {
        let (_dir, svc) = service();
        // What iPXE sends on one kept-alive connection, in this order: a
        // script left to hyper would take the kernel and initrd with it.
        for head in [
            &b"GET /boot.ipxe?mac=52:54:00:00:00:01 HTTP/1.1\r\nHost: s\r\n\r\n"[..],
            b"GET /linux HTTP/1.1\r\nHost: s\r\nConnection: keep-alive\r\n\r\n",
            b"HEAD /initrd.gz HTTP/1.1\r\nHost: s\r\n\r\n",
            b"GET /done?mac=52:54:00:00:00:01 HTTP/1.1\r\nHost: s\r\n\r\n",
            // syslinux's lpxelinux.0
            b"GET /linux HTTP/1.0\r\nHost: s\r\nUser-Agent: PXELINUX/6.04\r\nConnection: close\r\n\r\n",
        ] {
            assert!(takes(&svc, head), "{}", String::from_utf8_lossy(head));
        }
        for head in [
            &b"POST /boot.ipxe HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"[..],
            b"GET /linux HTTP/1.1\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n",
            b"GET /linux HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
        ] {
            assert!(!takes(&svc, head), "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn a_connection_is_kept_as_rfc_9112_says() {
        let (_dir, svc) = service();
        for (head, want) in [
            (&b"GET /f HTTP/1.1\r\n\r\n"[..], Persistence::Kept),
            (
                b"GET /f HTTP/1.1\r\nConnection: keep-alive\r\n\r\n",
                Persistence::Kept,
            ),
            (
                b"GET /f HTTP/1.1\r\nConnection: close\r\n\r\n",
                Persistence::Close,
            ),
            (
                b"GET /f HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n",
                Persistence::Close,
            ),
            (b"GET /f HTTP/1.0\r\n\r\n", Persistence::Close),
            (
                b"GET /f HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
                Persistence::KeptOnRequest,
            ),
            (
                b"GET /f HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
                Persistence::Close,
            ),
        ] {
            let Parsed::File(f) = parse(head, &svc) else {
                panic!("not taken: {}", String::from_utf8_lossy(head));
            };
            assert_eq!(f.persistence, want, "{}", String::from_utf8_lossy(head));
        }
    }
}
