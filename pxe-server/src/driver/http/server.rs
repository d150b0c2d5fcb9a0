//! The HTTP service: answers `GET`/`HEAD` with boot files and rendered
//! iPXE scripts, and serves HTTP/1.1 connections on listeners.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::string::{String, ToString};
use std::sync::Arc;
use std::vec::Vec;

use arc_swap::ArcSwap;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use pxe_engine::script::{Arch, Hostname, MacAddr, ScriptVars, Tag, Template, Uuid, parse_query};

use pxe_engine::journey::HttpObservation;

use super::body::HttpBody;
use super::client::{AccessObserver, AccessRecord, ClientLookup};
use super::conditional::{Precondition, Validators};
use super::fast;
use super::path::{PathError, resolve};
use super::range::{RangeOutcome, parse_range};
use super::setup::{HttpConfig, HttpSetupError, load_template};
use super::status;
use crate::driver::journeys::Journeys;
use crate::driver::metrics::HttpKind;

#[derive(Clone)]
pub(super) struct Inner {
    pub(super) root: Option<PathBuf>,
    template: Template,
    script_dir: Option<PathBuf>,
    lookup: Option<Arc<dyn ClientLookup>>,
    observer: Option<Arc<dyn AccessObserver>>,
    /// Where requests are recorded as journey steps and counted, and
    /// what `/done` and the status routes read.
    journeys: Option<Arc<Journeys>>,
    /// This listener serves the status page, API and `/metrics`.
    status: bool,
    connections: Arc<tokio::sync::Semaphore>,
}

/// Connections served at once by one [`HttpService`] (all its listeners
/// together); further clients wait in the listen backlog.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// The HTTP service: cheap to clone, shared by all listeners.
#[derive(Clone)]
pub struct HttpService {
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for HttpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpService")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

const SCRIPT_PATHS: [&str; 2] = ["/ipxe.php", "/boot.ipxe"];

fn text(status: StatusCode, msg: &str) -> Response<HttpBody> {
    let mut body = String::with_capacity(msg.len() + 1);
    body.push_str(msg);
    body.push('\n');
    let len = body.len() as u64;
    let mut r = Response::new(HttpBody::bytes(Bytes::from(body)));
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn v4(ip: IpAddr) -> Option<std::net::Ipv4Addr> {
    match ip {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(a) => a.to_ipv4_mapped(),
    }
}

impl HttpService {
    /// Sets the service up: canonicalizes the root and loads the template.
    pub fn new(
        config: &HttpConfig,
        lookup: Option<Arc<dyn ClientLookup>>,
    ) -> Result<HttpService, HttpSetupError> {
        let root = match &config.root {
            Some(p) => Some(
                std::fs::canonicalize(p)
                    .and_then(|c| {
                        if c.is_dir() {
                            Ok(c)
                        } else {
                            Err(std::io::Error::other("not a directory"))
                        }
                    })
                    .map_err(|source| HttpSetupError::Root {
                        path: p.clone(),
                        source,
                    })?,
            ),
            None => None,
        };
        let template = match &config.script {
            Some(p) => load_template(p)?,
            None => Template::seed_default(),
        };
        Ok(HttpService {
            inner: Arc::new(Inner {
                root,
                template,
                script_dir: config.script_dir.clone(),
                lookup,
                observer: None,
                journeys: None,
                status: false,
                connections: Arc::new(tokio::sync::Semaphore::new(DEFAULT_MAX_CONNECTIONS)),
            }),
        })
    }

    /// Adds an observer that sees every answered request.
    pub fn with_observer(self, observer: Arc<dyn AccessObserver>) -> HttpService {
        let mut inner = (*self.inner).clone();
        inner.observer = Some(observer);
        HttpService {
            inner: Arc::new(inner),
        }
    }

    /// Records every request as a step of its client's boot journey,
    /// counts it in the metrics, and answers `/done` (the OS callback).
    pub fn with_journeys(self, journeys: Arc<Journeys>) -> HttpService {
        let mut inner = (*self.inner).clone();
        inner.journeys = Some(journeys);
        HttpService {
            inner: Arc::new(inner),
        }
    }

    /// The service of the `status-page=` listener: the page, its JSON API
    /// and `/metrics` over `journeys` (and `/done`); nothing else.
    pub fn status_page(journeys: Arc<Journeys>) -> HttpService {
        let template = Template::seed_default();
        HttpService {
            inner: Arc::new(Inner {
                root: None,
                template,
                script_dir: None,
                lookup: None,
                observer: None,
                journeys: Some(journeys),
                status: true,
                connections: Arc::new(tokio::sync::Semaphore::new(DEFAULT_MAX_CONNECTIONS)),
            }),
        }
    }

    /// Sets how many connections are served at once (default
    /// [`DEFAULT_MAX_CONNECTIONS`], at least 1); a slow or idle client holds
    /// one until it closes or the 30 s header timeout ends it.
    pub fn with_max_connections(self, max: usize) -> HttpService {
        let mut inner = (*self.inner).clone();
        inner.connections = Arc::new(tokio::sync::Semaphore::new(max.max(1)));
        HttpService {
            inner: Arc::new(inner),
        }
    }

    /// Answers one request. `peer` is the client, `local` the address it
    /// reached.
    pub async fn handle<B>(
        &self,
        req: &Request<B>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Response<HttpBody> {
        let started = std::time::Instant::now();
        let head = req.method() == Method::HEAD;
        let path = req.uri().path();
        let journeys = self.inner.journeys.as_ref();
        let (mut resp, kind) = if req.method() != Method::GET && !head {
            let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            (r, HttpKind::File)
        } else {
            match (self.route(path), journeys) {
                (HttpKind::Done, Some(j)) => {
                    (status::done(j, req.uri().query(), peer), HttpKind::Done)
                }
                (HttpKind::Status, Some(j)) => {
                    let accept = req
                        .headers()
                        .get(header::ACCEPT)
                        .and_then(|v| v.to_str().ok());
                    match status::answer(j, path, accept) {
                        Some(r) => (r, HttpKind::Status),
                        None => (
                            text(StatusCode::NOT_FOUND, "no such page"),
                            HttpKind::Status,
                        ),
                    }
                }
                (HttpKind::Script, _) => (self.script(req, peer, local).await, HttpKind::Script),
                _ => (self.file(req).await, HttpKind::File),
            }
        };
        let length = resp
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if head {
            *resp.body_mut() = HttpBody::empty();
        }
        let record = AccessRecord {
            peer,
            local,
            method: req.method().to_string(),
            target: req
                .uri()
                .path_and_query()
                .map_or_else(String::new, |p| p.to_string()),
            status: resp.status().as_u16(),
            length,
        };
        tracing::info!(
            target: "pxe_server::http",
            peer = %record.peer, local = %record.local, method = %record.method,
            target_uri = %record.target.escape_debug(), status = record.status, length = record.length,
            "http request"
        );
        if let Some(o) = &self.inner.observer {
            o.record(&record);
        }
        if let Some(j) = journeys {
            let status = record.status;
            j.metrics()
                .http(kind, status, length, started.elapsed().as_secs_f64());
            if matches!(kind, HttpKind::File | HttpKind::Script) {
                let o = HttpObservation {
                    path: path.as_bytes(),
                    status,
                    bytes: length,
                    range: req.headers().contains_key(header::RANGE),
                    script: kind == HttpKind::Script,
                };
                j.http(peer.ip(), status::query_mac(req.uri().query()), &o);
            }
        }
        resp
    }

    /// Which kind of answer a `GET`/`HEAD` of `path` gets: the one
    /// dispatch [`HttpService::handle`] follows and the file fast path
    /// asks before it takes a request.
    pub(super) fn route(&self, path: &str) -> HttpKind {
        let journeys = self.inner.journeys.is_some();
        if journeys && path == "/done" {
            HttpKind::Done
        } else if journeys && self.inner.status {
            HttpKind::Status
        } else if SCRIPT_PATHS.contains(&path) {
            HttpKind::Script
        } else {
            HttpKind::File
        }
    }

    /// Whether the fast path may take this connection at all: any
    /// listener but the status page's (boot files, scripts, `/done`).
    pub(super) fn takes_fast_path(&self) -> bool {
        !self.inner.status
    }

    async fn file<B>(&self, req: &Request<B>) -> Response<HttpBody> {
        let Some(root) = &self.inner.root else {
            return text(StatusCode::NOT_FOUND, "no http-root configured");
        };
        let path = match resolve(root, req.uri().path()).await {
            Ok(p) => p,
            Err(e @ PathError::NotFound) => return text(StatusCode::NOT_FOUND, &e.to_string()),
            Err(e @ (PathError::DotDot | PathError::OutsideRoot)) => {
                return text(StatusCode::FORBIDDEN, &e.to_string());
            }
            Err(e) => return text(StatusCode::BAD_REQUEST, &e.to_string()),
        };
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(_) => return text(StatusCode::NOT_FOUND, "no such file"),
        };
        let (len, modified) = match file.metadata().await {
            Ok(m) => (m.len(), m.modified().ok()),
            Err(_) => return text(StatusCode::NOT_FOUND, "no such file"),
        };
        let version = Validators::of(modified, len);
        let range_applies = match version.evaluate(req.headers()) {
            Precondition::Serve { range } => range,
            Precondition::NotModified => {
                let mut r = Response::new(HttpBody::empty());
                *r.status_mut() = StatusCode::NOT_MODIFIED;
                with_validators(&mut r, &version);
                return r;
            }
            Precondition::Failed => {
                let mut r = text(StatusCode::PRECONDITION_FAILED, "precondition failed");
                with_validators(&mut r, &version);
                return r;
            }
        };
        let range = match req
            .headers()
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
        {
            Some(h) if range_applies => parse_range(h, len),
            _ => RangeOutcome::Full,
        };
        let (status, start, count) = match range {
            RangeOutcome::Full => (StatusCode::OK, 0, len),
            RangeOutcome::Partial { start, end } => {
                (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
            }
            RangeOutcome::Unsatisfiable => {
                let mut r = text(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable");
                if let Ok(v) = HeaderValue::from_str(&std::format!("bytes */{len}")) {
                    r.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return r;
            }
        };
        let body = if req.method() == Method::HEAD {
            HttpBody::empty()
        } else {
            match HttpBody::file(file, start, count).await {
                Ok(b) => b,
                Err(_) => return text(StatusCode::INTERNAL_SERVER_ERROR, "cannot read file"),
            }
        };
        let mut r = Response::new(body);
        *r.status_mut() = status;
        with_validators(&mut r, &version);
        let h = r.headers_mut();
        h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        if status == StatusCode::PARTIAL_CONTENT
            && let Ok(v) =
                HeaderValue::from_str(&std::format!("bytes {}-{}/{len}", start, start + count - 1))
        {
            h.insert(header::CONTENT_RANGE, v);
        }
        with_length(r, count)
    }

    async fn script<B>(
        &self,
        req: &Request<B>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Response<HttpBody> {
        let q = match parse_query(req.uri().query().unwrap_or("")) {
            Ok(q) => q,
            Err(e) => return text(StatusCode::BAD_REQUEST, &e.to_string()),
        };
        let facts = match (&self.inner.lookup, &q.mac) {
            (Some(l), Some(mac)) => l.lookup(mac),
            _ => None,
        };
        let facts = facts.unwrap_or_default();
        let vars = ScriptVars {
            mac: q.mac,
            uuid: q.uuid,
            arch: q.arch.or(facts.arch.map(Arch::Number)),
            ip: q.ip.or_else(|| v4(peer.ip())),
            hostname: q.hostname.or_else(|| {
                facts
                    .hostname
                    .as_deref()
                    .and_then(|h| h.parse::<Hostname>().ok())
            }),
            tags: facts
                .tags
                .iter()
                .filter_map(|t| t.parse::<Tag>().ok())
                .collect(),
            server: Some(v4(local.ip()).map_or(local.ip(), IpAddr::V4)),
            port: Some(local.port()),
        };
        let template = match self
            .override_template(q.uuid.as_ref(), q.mac.as_ref())
            .await
        {
            Ok(Some(t)) => t,
            Ok(None) => self.inner.template.clone(),
            Err(e) => {
                tracing::error!(target: "pxe_server::http", "{e}");
                return text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "bad override script, see the server log",
                );
            }
        };
        match template.render(&vars) {
            Ok(s) => {
                let len = s.len() as u64;
                let mut r = Response::new(HttpBody::bytes(Bytes::from(s)));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                with_length(r, len)
            }
            Err(e) => text(StatusCode::BAD_REQUEST, &e.to_string()),
        }
    }

    async fn override_template(
        &self,
        uuid: Option<&Uuid>,
        mac: Option<&MacAddr>,
    ) -> Result<Option<Template>, HttpSetupError> {
        let Some(dir) = &self.inner.script_dir else {
            return Ok(None);
        };
        // Names are built from validated values only (hex digits and '-').
        let names = [uuid.map(|u| u.to_string()), mac.map(MacAddr::hyphenated)];
        for name in names.into_iter().flatten() {
            let path = dir.join(std::format!("{name}.ipxe"));
            match tokio::fs::read_to_string(&path).await {
                Ok(text) => {
                    return Template::parse(&text)
                        .map(Some)
                        .map_err(|source| HttpSetupError::Script { path, source });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(HttpSetupError::ScriptRead { path, source }),
            }
        }
        Ok(None)
    }

    /// This service with the connection limit (and the connections
    /// counted against it) of `other`: a reloaded service shares them
    /// with the one it replaces.
    pub fn sharing_connections_of(self, other: &HttpService) -> HttpService {
        let mut inner = (*self.inner).clone();
        inner.connections = other.inner.connections.clone();
        HttpService {
            inner: Arc::new(inner),
        }
    }

    /// Serves HTTP/1.1 on `listener` until the task is dropped or aborted.
    /// Accept errors are logged and retried after a short pause; each
    /// connection runs in its own task, at most as many at once as
    /// [`HttpService::with_max_connections`] allows.
    pub async fn serve(self, listener: tokio::net::TcpListener) {
        serve_current(Arc::new(ArcSwap::from_pointee(self)), listener).await;
    }
}

/// The service a listener hands each new connection: a reload stores a
/// new one, and connections already open keep the one they started with
/// (a download in flight finishes as it began).
pub type ServiceHandle = Arc<ArcSwap<HttpService>>;

/// Serves HTTP/1.1 on `listener` until the task is dropped or aborted,
/// each connection by the service `current` holds when it is accepted.
/// Aborting this task stops accepting; connections already accepted run
/// on in their own tasks until they end.
pub async fn serve_current(current: ServiceHandle, listener: tokio::net::TcpListener) {
    let local_default = listener.local_addr().ok();
    loop {
        let this = current.load_full();
        let Ok(permit) = this.inner.connections.clone().acquire_owned().await else {
            // The semaphore is never closed.
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(target: "pxe_server::http", "accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let local = stream
            .local_addr()
            .ok()
            .or(local_default)
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        // On the dual-stack listener an IPv4 client is a mapped address:
        // seen as the IPv4 address it is, as on an IPv4 listener.
        let (peer, local) = (unmapped(peer), unmapped(local));
        // The service of this connection, read after the wait for a
        // free slot (a reload during the wait applies to it).
        let svc = (*current.load_full()).clone();
        tokio::spawn(async move {
            let _permit = permit;
            if svc.takes_fast_path() {
                fast::serve(svc, stream, peer, local).await;
            } else {
                serve_hyper(svc, stream, peer, local).await;
            }
        });
    }
}

/// How long a client may take to send a request head (hyper's
/// `header_read_timeout`, and the fast path's).
pub(super) const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves the rest of a connection with hyper: every request that is not
/// a plain file `GET`/`HEAD` (see [`fast`]), and everything after it.
pub(super) async fn serve_hyper<I>(svc: HttpService, io: I, peer: SocketAddr, local: SocketAddr)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let io = hyper_util::rt::TokioIo::new(io);
    let handler = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let svc = svc.clone();
        async move { Ok::<_, std::convert::Infallible>(svc.handle(&req, peer, local).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(io, handler);
    if let Err(e) = conn.await {
        tracing::debug!(target: "pxe_server::http", %peer, "connection: {e}");
    }
}

/// `::ffff:a.b.c.d` as `a.b.c.d` (same port).
fn unmapped(a: SocketAddr) -> SocketAddr {
    match a {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::from((v4, v6.port())),
            None => a,
        },
        v4 => v4,
    }
}

/// `ETag` and `Last-Modified` of the file a response is about.
fn with_validators(r: &mut Response<HttpBody>, version: &Validators) {
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(version.etag()) {
        h.insert(header::ETAG, v);
    }
    if let Some(v) = version
        .last_modified()
        .and_then(|d| HeaderValue::from_str(d).ok())
    {
        h.insert(header::LAST_MODIFIED, v);
    }
}

fn with_length(mut r: Response<HttpBody>, len: u64) -> Response<HttpBody> {
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    r
}

/// Binds one listener per address (e.g. one per `http-port=`), each with
/// `SO_REUSEADDR` as tokio sets it.
pub async fn bind_all(addrs: &[SocketAddr]) -> std::io::Result<Vec<tokio::net::TcpListener>> {
    let mut out = Vec::with_capacity(addrs.len());
    for a in addrs {
        out.push(tokio::net::TcpListener::bind(a).await?);
    }
    Ok(out)
}

/// Spawns [`HttpService::serve`] for every listener on the current tokio
/// runtime and returns the task handles.
pub fn spawn_all(
    service: &HttpService,
    listeners: Vec<tokio::net::TcpListener>,
) -> Vec<tokio::task::JoinHandle<()>> {
    listeners
        .into_iter()
        .map(|l| tokio::spawn(service.clone().serve(l)))
        .collect()
}
