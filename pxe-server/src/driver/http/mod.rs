//! The HTTP side of netbooting: boot files from a root directory and
//! per-machine iPXE scripts, on hyper.
//!
//! # Configuration (pxe-server extensions of the dnsmasq dialect)
//!
//! ```text
//! http-port=80                 # repeatable; no http-port = no HTTP service
//! http-port=81
//! http-root=/srv/tftp          # files served over HTTP (may equal tftp-root)
//! ipxe-script=/etc/pxe/boot.ipxe        # template; default: DEFAULT_TEMPLATE
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
//!   multi-range or malformed `Range`, or an `If-Range` that does not name
//!   the current version, gets the whole file with `200`). Every file
//!   answer carries a strong `ETag` (modification time and size, as nginx
//!   makes it) and `Last-Modified`; `If-None-Match` / `If-Modified-Since`
//!   answer `304`, `If-Match` / `If-Unmodified-Since` `412`, in RFC 9110's
//!   order (see [`Validators::evaluate`]). A plain HTTP/1.1 or 1.0
//!   `GET`/`HEAD` of a file is answered outside hyper, the body sent by
//!   `sendfile(2)` straight from the page cache (same answer, log line,
//!   journey step and metrics); every other request, and the rest of its
//!   connection, is served by hyper.
//! * `GET`/`HEAD` of `/ipxe.php` (the path dnsmasq + PHP setups use)
//!   and of its neutral alias `/boot.ipxe` render an iPXE script: the query
//!   is parsed by [`pxe_engine::script::parse_query`] (anything invalid → `400`
//!   with the reason), the script comes from, in order, the per-UUID file
//!   `SCRIPT_DIR/<uuid>.ipxe`, the per-MAC file
//!   `SCRIPT_DIR/<52-54-00-12-34-56>.ipxe`, the configured template
//!   (`ipxe-script=`), or the built-in [`pxe_engine::script::DEFAULT_TEMPLATE`].
//!   Override files are read at each request (edits apply at once, as with
//!   a PHP page) and are templates too. `{{server}}`/`{{port}}` are
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
mod client;
mod conditional;
mod fast;
mod page;
mod page_cache;
mod path;
mod range;
mod server;
mod setup;
mod status;
mod view;

pub use body::HttpBody;
pub use client::{AccessObserver, AccessRecord, ClientFacts, ClientLookup};
pub use conditional::{Precondition, Validators};
pub use page::Esc;
pub use path::{PathError, relative_path, resolve};
pub use range::{RangeOutcome, parse_range};
pub use server::{
    DEFAULT_MAX_CONNECTIONS, HttpService, ServiceHandle, bind_all, serve_current, spawn_all,
};
pub use setup::{
    HttpConfig, HttpSetupError, bind_listeners, check, check_script_dir, listen_addrs,
    load_template, service_for, status_addrs,
};
pub use status::{parse_mac, query_mac};
pub use view::{
    CountsView, DiagnosisView, JourneyView, MachineView, MachinesView, StageView, StepView,
};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests;
