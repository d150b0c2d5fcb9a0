//! Setting the HTTP service up from the configuration file: its settings,
//! listen addresses, start-up, and the checks `pxe-server check` runs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::string::String;
use std::sync::Arc;
use std::vec::Vec;

use pxe_engine::script::{Template, TemplateError};

use super::client::ClientLookup;
use super::server::HttpService;
use crate::driver::journeys::Journeys;

/// The HTTP part of the configuration (`http-port=`, `http-root=`,
/// `ipxe-script=`, `ipxe-script-dir=` in the configuration file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpConfig {
    /// Directory boot files are served from; `None` serves no files (only
    /// scripts).
    pub root: Option<PathBuf>,
    /// Template file for scripts; `None` uses the built-in
    /// [`pxe_engine::script::DEFAULT_TEMPLATE`].
    pub script: Option<PathBuf>,
    /// Directory of per-UUID and per-MAC override templates.
    pub script_dir: Option<PathBuf>,
}

impl HttpConfig {
    /// The HTTP settings of a configuration file (`http-root=`,
    /// `ipxe-script=`, `ipxe-script-dir=`; ports are separate, see
    /// [`listen_addrs`]).
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
    let hosts = hosts(config)?;
    Ok(ports
        .iter()
        .flat_map(|p| hosts.iter().map(move |h| SocketAddr::from((*h, *p))))
        .collect())
}

/// Where the status page listens (`status-page=`): its address, or the
/// addresses [`listen_addrs`] uses, on its port; empty without the line.
pub fn status_addrs(config: &pxe_rules::Config) -> Result<Vec<SocketAddr>, HttpSetupError> {
    let Some(page) = config.settings.extensions.status_page else {
        return Ok(Vec::new());
    };
    let hosts = match page.addr {
        Some(a) => std::vec![a],
        None => hosts(config)?,
    };
    Ok(hosts
        .into_iter()
        .map(|h| SocketAddr::from((h, page.port)))
        .collect())
}

/// `0.0.0.0`, or the addresses of the `interface=` interfaces.
fn hosts(config: &pxe_rules::Config) -> Result<Vec<std::net::Ipv4Addr>, HttpSetupError> {
    let names = &config.settings.interfaces;
    if names.is_empty() {
        return Ok(std::vec![std::net::Ipv4Addr::UNSPECIFIED]);
    }
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
    Ok(hosts)
}

/// The HTTP service the configuration describes (root, template,
/// override directory), or `None` without `http-port=`. Nothing is bound.
/// `lookup` supplies host names, arch and tags for scripts; with
/// `journeys`, requests are recorded in boot journeys and `/done` is
/// answered.
pub fn service_for(
    config: &pxe_rules::Config,
    lookup: Option<Arc<dyn ClientLookup>>,
    journeys: Option<&Arc<Journeys>>,
) -> Result<Option<HttpService>, HttpSetupError> {
    let ext = &config.settings.extensions;
    if ext.http_ports.is_empty() {
        return Ok(None);
    }
    let service = HttpService::new(&HttpConfig::from_extensions(ext), lookup)?;
    Ok(Some(match journeys {
        Some(j) => service.with_journeys(j.clone()),
        None => service,
    }))
}

/// Binds a listener on every address (all or none: the first failure is
/// returned and what was bound is closed).
pub async fn bind_listeners(
    addrs: &[SocketAddr],
) -> Result<Vec<tokio::net::TcpListener>, HttpSetupError> {
    let mut out = Vec::with_capacity(addrs.len());
    for &addr in addrs {
        // Every address (`0.0.0.0`) means IPv6 too: one dual-stack socket
        // on `[::]`, IPv4 clients seen as mapped addresses; IPv4 alone
        // where the host has no IPv6.
        if addr.ip() == std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
            && let Ok(l) = bind_dual_stack(addr.port())
        {
            out.push(l);
            continue;
        }
        out.push(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| HttpSetupError::Bind { addr, source })?,
        );
    }
    Ok(out)
}

/// A listener on `[::]:port` that also accepts IPv4.
fn bind_dual_stack(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP))?;
    s.set_only_v6(false)?;
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    let any = SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port));
    s.bind(&any.into())?;
    s.listen(1024)?;
    tokio::net::TcpListener::from_std(s.into())
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
