//! The HTTP side of netbooting: boot files from a root directory and
//! per-machine iPXE scripts, on hyper.
//!
//! # Configuration (pxe-server extensions of the dnsmasq dialect)
//!
//! ```text
//! http-port=80                 # repeatable; no http-port = no HTTP service
//! http-port=81
//! http-root=/srv/tftp          # files served over HTTP (may equal tftp-root)
//! ipxe-script=/etc/pxe/boot.ipxe        # template; default: the seed's ipxe.php output
//! ipxe-script-dir=/etc/pxe/machines     # <uuid>.ipxe / <52-54-00-12-34-56>.ipxe overrides
//! ```
//!
//! Each port listens on `0.0.0.0`, or on the address of each `interface=`
//! when the file restricts the server to some interfaces. `pxe-server check` loads the root, the template and every
//! `*.ipxe` override and reports errors with file, line and column.
//!
//! Template syntax (see [`pxe_engine::script::Template`]): literal text with
//! `{{mac}}`, `{{mac_hyphen}}`, `{{mac_hex}}`, `{{uuid}}`, `{{arch}}`,
//! `{{ip}}`, `{{hostname}}`, `{{tags}}`, `{{server}}`, `{{port}}`; the first
//! line must be `#!ipxe`; unknown names are load-time errors; a variable
//! with no value for a request answers `400`. `mac`, `uuid`, `arch`, `ip`
//! and `hostname` can come from the query (`?mac=${mac}&uuid=${uuid}&...`);
//! in `pxe-server`, host names also come from the DHCP leases, while `arch`
//! and `tags` are only filled by a [`ClientLookup`] that knows them (the
//! lease store does not keep them yet, so `{{tags}}` renders empty there).
//!
//! # Requests
//!
//! * `GET`/`HEAD` of any other path serve the file it names under
//!   [`HttpConfig::root`] (see [`resolve`] for the path rules), with
//!   `Content-Length`, `Accept-Ranges: bytes` and single-range `Range`
//!   requests (`206`, or `416` with `Content-Range: bytes */LEN`; a
//!   multi-range or malformed `Range`, or any `If-Range`, gets the whole
//!   file with `200`).
//! * `GET`/`HEAD` of `/ipxe.php` (the path the seed's configuration uses)
//!   and of its neutral alias `/boot.ipxe` render an iPXE script: the query
//!   is parsed by [`pxe_engine::script::parse_query`] (anything invalid → `400`
//!   with the reason), the script comes from, in order, the per-UUID file
//!   `SCRIPT_DIR/<uuid>.ipxe`, the per-MAC file
//!   `SCRIPT_DIR/<52-54-00-12-34-56>.ipxe`, the configured template
//!   (`ipxe-script=`), or the built-in [`pxe_engine::script::DEFAULT_TEMPLATE`].
//!   Override files are read at each request (edits apply at once, as with
//!   the seed's PHP page) and are templates too. `{{server}}`/`{{port}}` are
//!   the address and port the client reached; `{{ip}}` defaults to the
//!   client's own address; host name, arch and tags come from a
//!   [`ClientLookup`] when the query does not give them.
//! * Other methods get `405` with `Allow: GET, HEAD`. There are no
//!   redirects (a `//` in a path is simply collapsed).
//!
//! ```no_run
//! use pxe_server::driver::http::{HttpConfig, HttpService};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = HttpConfig { root: Some("/srv/tftp".into()), ..HttpConfig::default() };
//! let service = HttpService::new(&config, None)?;
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:81").await?;
//! service.serve(listener).await;
//! # Ok(()) }
//! ```

mod body;
mod path;
mod range;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::string::{String, ToString};
use std::sync::Arc;
use std::vec::Vec;

use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

pub use body::HttpBody;
pub use path::{PathError, relative_path, resolve};
pub use range::{RangeOutcome, parse_range};

use pxe_engine::script::{
    Arch, Hostname, MacAddr, ScriptVars, Tag, Template, TemplateError, Uuid, parse_query,
};

/// The HTTP part of the configuration (`http-port=`, `http-root=`,
/// `ipxe-script=`, `ipxe-script-dir=` in the configuration file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpConfig {
    /// Directory boot files are served from; `None` serves no files (only
    /// scripts).
    pub root: Option<PathBuf>,
    /// Template file for scripts; `None` uses the built-in seed template.
    pub script: Option<PathBuf>,
    /// Directory of per-UUID and per-MAC override templates.
    pub script_dir: Option<PathBuf>,
}

impl HttpConfig {
    /// The HTTP settings of a configuration file (`http-root=`,
    /// `ipxe-script=`, `ipxe-script-dir=`; ports are separate, see
    /// [`start`]).
    pub fn from_extensions(ext: &pxe_rules::config::Extensions) -> HttpConfig {
        HttpConfig {
            root: ext.http_root.as_ref().map(PathBuf::from),
            script: ext.ipxe_script.as_ref().map(PathBuf::from),
            script_dir: ext.ipxe_script_dir.as_ref().map(PathBuf::from),
        }
    }
}

/// Checks the HTTP part of a configuration without starting anything (for
/// `pxe-server check`): the root is a directory, the template and every
/// `*.ipxe` override parse. Returns every problem (empty = fine); each
/// names the file and, for templates, line and column.
pub fn check(ext: &pxe_rules::config::Extensions) -> Vec<HttpSetupError> {
    let mut problems = Vec::new();
    let config = HttpConfig::from_extensions(ext);
    if ext.http_ports.is_empty()
        && (config.root.is_some() || config.script.is_some() || config.script_dir.is_some())
    {
        problems.push(HttpSetupError::NoPort);
    }
    if let Err(e) = HttpService::new(
        &HttpConfig {
            script_dir: None,
            ..config.clone()
        },
        None,
    ) {
        problems.push(e);
    }
    if let Some(dir) = &config.script_dir {
        match check_script_dir(dir) {
            Ok(errors) => problems.extend(errors),
            Err(source) => problems.push(HttpSetupError::ScriptDir {
                path: dir.clone(),
                source,
            }),
        }
    }
    problems
}

/// The addresses the HTTP service listens on: every `http-port=` on
/// `0.0.0.0`, or, when `interface=` lines restrict the server, on the IPv4
/// address of each named interface (a trailing `*` matches a prefix, as in
/// dnsmasq).
pub fn listen_addrs(config: &pxe_rules::Config) -> Result<Vec<SocketAddr>, HttpSetupError> {
    let ports = &config.settings.extensions.http_ports;
    let names = &config.settings.interfaces;
    let hosts: Vec<std::net::Ipv4Addr> = if names.is_empty() {
        std::vec![std::net::Ipv4Addr::UNSPECIFIED]
    } else {
        let all = crate::driver::net::interfaces().map_err(HttpSetupError::Interfaces)?;
        let mut hosts = Vec::new();
        for name in names {
            let matches = |i: &&crate::driver::net::IfaceInfo| match name.strip_suffix('*') {
                Some(prefix) => i.name.starts_with(prefix),
                None => &i.name == name,
            };
            let found: Vec<_> = all.iter().filter(matches).map(|i| i.addr).collect();
            if found.is_empty() {
                return Err(HttpSetupError::NoInterface(name.clone()));
            }
            for a in found {
                if !hosts.contains(&a) {
                    hosts.push(a);
                }
            }
        }
        hosts
    };
    Ok(ports
        .iter()
        .flat_map(|p| hosts.iter().map(move |h| SocketAddr::from((*h, *p))))
        .collect())
}

/// Starts the HTTP service as the configuration file says: one listener per
/// [`listen_addrs`] entry, serving until `shutdown` turns `true`. No
/// `http-port=` means no HTTP service (no tasks). `lookup` supplies host
/// names, arch and tags for scripts.
pub async fn start(
    config: &pxe_rules::Config,
    lookup: Option<Arc<dyn ClientLookup>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, HttpSetupError> {
    let ext = &config.settings.extensions;
    if ext.http_ports.is_empty() {
        return Ok(Vec::new());
    }
    let service = HttpService::new(&HttpConfig::from_extensions(ext), lookup)?;
    let mut tasks = Vec::new();
    for addr in listen_addrs(config)? {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| HttpSetupError::Bind { addr, source })?;
        tracing::info!(
            target: "pxe_server::http",
            "HTTP on {addr} (root {}, script {})",
            service.inner.root.as_ref().map_or_else(|| String::from("none"), |r| r.display().to_string()),
            ext.ipxe_script.as_deref().unwrap_or("built-in seed template")
        );
        let svc = service.clone();
        let mut stop = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            tokio::select! {
                () = svc.serve(listener) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        }));
    }
    Ok(tasks)
}

/// Why the HTTP service could not be set up, or what `pxe-server check`
/// found wrong with its configuration.
#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    /// HTTP settings were given without an `http-port=`, so they have no
    /// effect.
    #[error(
        "http-root/ipxe-script/ipxe-script-dir given but no http-port=: the HTTP service is off"
    )]
    NoPort,
    /// The interface list could not be read.
    #[error("cannot list network interfaces for http-port: {0}")]
    Interfaces(#[source] std::io::Error),
    /// An `interface=` name matches no interface with an IPv4 address.
    #[error("interface={0}: no such interface with an IPv4 address (needed for http-port)")]
    NoInterface(String),
    /// A listening socket could not be opened.
    #[error("http-port {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The root directory cannot be used.
    #[error("http-root {path}: {source}")]
    Root {
        /// The configured root.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The template file cannot be read.
    #[error("ipxe-script {path}: {source}")]
    ScriptRead {
        /// The configured file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The override directory (`ipxe-script-dir=`) cannot be listed.
    #[error("ipxe-script-dir {}: {source}", .path.display())]
    ScriptDir {
        /// The configured directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The template file is not a valid template.
    #[error("ipxe-script {path}: {source}")]
    Script {
        /// The configured file.
        path: PathBuf,
        /// What is wrong with it.
        source: TemplateError,
    },
}

/// What the DHCP side knows about a client, for script rendering.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientFacts {
    /// Architecture (option 93).
    pub arch: Option<u16>,
    /// Host name (from the lease or the configuration).
    pub hostname: Option<String>,
    /// Tags the rules set for the client's last request.
    pub tags: Vec<String>,
}

/// Where the HTTP service asks about a client by MAC (the server wires
/// this to its DHCP engine).
pub trait ClientLookup: Send + Sync {
    /// Facts about the client with this MAC, if known.
    fn lookup(&self, mac: &MacAddr) -> Option<ClientFacts>;
}

/// One answered request, as given to an [`AccessObserver`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    /// Client address.
    pub peer: SocketAddr,
    /// Local address the request came in on.
    pub local: SocketAddr,
    /// Request method.
    pub method: String,
    /// Request target (path and query) as received.
    pub target: String,
    /// Response status.
    pub status: u16,
    /// Body bytes announced (Content-Length of the response).
    pub length: u64,
}

/// Receives one [`AccessRecord`] per answered request (after it was
/// logged).
pub trait AccessObserver: Send + Sync {
    /// Called once per request.
    fn record(&self, record: &AccessRecord);
}

#[derive(Clone)]
struct Inner {
    root: Option<PathBuf>,
    template: Template,
    script_dir: Option<PathBuf>,
    lookup: Option<Arc<dyn ClientLookup>>,
    observer: Option<Arc<dyn AccessObserver>>,
    connections: Arc<tokio::sync::Semaphore>,
}

/// Connections served at once by one [`HttpService`] (all its listeners
/// together); further clients wait in the listen backlog.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// The HTTP service: cheap to clone, shared by all listeners.
#[derive(Clone)]
pub struct HttpService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for HttpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpService")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

/// Reads and checks a template file (what `pxe-server check` uses).
pub fn load_template(path: &std::path::Path) -> Result<Template, HttpSetupError> {
    let text = std::fs::read_to_string(path).map_err(|source| HttpSetupError::ScriptRead {
        path: path.to_path_buf(),
        source,
    })?;
    Template::parse(&text).map_err(|source| HttpSetupError::Script {
        path: path.to_path_buf(),
        source,
    })
}

/// Checks every `*.ipxe` file in an override directory; returns the files
/// that failed with their errors (empty when all are good).
pub fn check_script_dir(dir: &std::path::Path) -> Result<Vec<HttpSetupError>, std::io::Error> {
    let mut errors = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "ipxe")
            && let Err(e) = load_template(&path)
        {
            errors.push(e);
        }
    }
    Ok(errors)
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
        let head = req.method() == Method::HEAD;
        let mut resp = if req.method() != Method::GET && !head {
            let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            r
        } else if SCRIPT_PATHS.contains(&req.uri().path()) {
            self.script(req, peer, local).await
        } else {
            self.file(req).await
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
        resp
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
        let len = match file.metadata().await {
            Ok(m) => m.len(),
            Err(_) => return text(StatusCode::NOT_FOUND, "no such file"),
        };
        let range = if req.headers().contains_key(header::IF_RANGE) {
            RangeOutcome::Full
        } else {
            match req
                .headers()
                .get(header::RANGE)
                .and_then(|v| v.to_str().ok())
            {
                Some(h) => parse_range(h, len),
                None => RangeOutcome::Full,
            }
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

    /// Serves HTTP/1.1 on `listener` until the task is dropped or aborted.
    /// Accept errors are logged and retried after a short pause; each
    /// connection runs in its own task, at most as many at once as
    /// [`HttpService::with_max_connections`] allows.
    pub async fn serve(self, listener: tokio::net::TcpListener) {
        let local_default = listener.local_addr().ok();
        loop {
            let Ok(permit) = self.inner.connections.clone().acquire_owned().await else {
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
            let svc = self.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let io = hyper_util::rt::TokioIo::new(stream);
                let handler =
                    hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let svc = svc.clone();
                        async move {
                            Ok::<_, std::convert::Infallible>(svc.handle(&req, peer, local).await)
                        }
                    });
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(std::time::Duration::from_secs(30))
                    .serve_connection(io, handler);
                if let Err(e) = conn.await {
                    tracing::debug!(target: "pxe_server::http", %peer, "connection: {e}");
                }
            });
        }
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests;
