//! The TFTP service under tokio: the request sockets on port 69 and the
//! loop that feeds a [`pxe_tftp::server::Endpoint`]. Every decision —
//! admission, `tftp-max`, the port of a transfer, routing, the
//! repeated-request rule, ERROR 5 for strangers, what counts as a size
//! probe — is the endpoint's; this loop moves datagrams and runs threads.
//!
//! * Read-only: write requests are refused with ERROR 4 (as dnsmasq).
//! * Files come from [`FsFiles`] (per-interface roots, `tftp-unique-root`,
//!   the path rules of [`super::path`], the interface MTU for `blksize`).
//! * Per-port mode (the default; `tftp-port-range` bounds the ports): each
//!   transfer runs on a thread of its own with a socket of its own, with
//!   no lock per datagram (the endpoint hands the transfer out and takes
//!   it back when it ends). The thread sleeps until its client's next
//!   datagram (it never polls: a busy machine needs the core). A window
//!   of DATA blocks leaves in one `sendmsg` with `UDP_SEGMENT`.
//! * `tftp-single-port`: every transfer runs over the request socket and
//!   this loop drives them all through the endpoint, which tells them
//!   apart by the client's address and port.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::string::String;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::vec::Vec;

use pxe_rules::config::UniqueRoot;
use pxe_tftp::options::MAX_BLKSIZE;
use pxe_tftp::server::{
    Counters, Ended, Endpoint, EndpointConfig, Event, Failure, Handled, Local, Name, Outcome,
    PortChoice, Refusal, RequestErrors, Source, TransferId, TransferPorts, Transmit,
};
use pxe_tftp::wire::ErrorCode;
use pxe_tftp::{Instant, TransferConfig};
use tokio::sync::{mpsc, watch};

use super::client_dir::MacSources;
use super::files::{FsFiles, FsSource};
use super::observe::Observer;
use super::path::TftpRoot;
use super::socket::TransferSocket;
use super::transfer::{self, Report, Stop};
use crate::driver::journeys::Journeys;
use crate::driver::net::{PktSocket, PktSocket6, RecvMeta, RecvMeta6, interfaces};

/// Default `tftp-max`.
pub const DEFAULT_MAX: usize = 50;

/// Request-port datagrams larger than this are cut (RFC 2347 keeps a
/// request within 512 bytes; in single-port mode the rest are ACKs).
const REQUEST_BUF: usize = 4096;

/// TFTP service settings.
#[derive(Clone, Debug)]
pub struct TftpSettings {
    /// Roots: `(interface, root)`; an entry without interface applies to
    /// all interfaces that have no entry of their own.
    pub roots: Vec<(Option<String>, TftpRoot)>,
    /// `tftp-max`.
    pub max_transfers: usize,
    /// `tftp-mtu`: cap on the MTU used for the blksize ceiling.
    pub mtu_cap: Option<u32>,
    /// `tftp-no-blocksize`.
    pub no_blocksize: bool,
    /// Port to listen on (69).
    pub port: u16,
    /// Interfaces to listen on (empty: all).
    pub interfaces: Vec<String>,
    /// `tftp-unique-root`.
    pub unique_root: Option<UniqueRoot>,
    /// Where `tftp-unique-root=mac` finds MAC addresses.
    pub macs: Arc<MacSources>,
    /// `tftp-port-range`: transfer ports come from this range.
    pub port_range: Option<(u16, u16)>,
    /// `tftp-single-port`: transfers run over the request socket.
    pub single_port: bool,
    /// The boot journeys to tell of every transfer's start and end and of
    /// refused requests (with `status-page=`).
    pub journeys: Option<Arc<Journeys>>,
}

impl TftpSettings {
    /// The root for requests arriving on interface `iface`: its own, else
    /// the one without an interface.
    pub fn root_for(&self, iface: Option<&str>) -> Option<&TftpRoot> {
        if let Some(i) = iface
            && let Some((_, r)) = self.roots.iter().find(|(n, _)| n.as_deref() == Some(i))
        {
            return Some(r);
        }
        self.roots.iter().find(|(n, _)| n.is_none()).map(|(_, r)| r)
    }

    /// The endpoint's configuration: `tftp-max`, the port mode, the
    /// option switches; `blksize` is bounded per request by the interface
    /// MTU (capped by `tftp-mtu`), not here.
    pub fn endpoint_config(&self) -> EndpointConfig {
        let ports = match (self.single_port, self.port_range) {
            (true, _) => TransferPorts::Single,
            (false, Some((first, last))) => TransferPorts::Range { first, last },
            (false, None) => TransferPorts::Ephemeral,
        };
        EndpointConfig {
            request_port: self.port,
            max_transfers: self.max_transfers,
            ports,
            limits: pxe_tftp::ServerLimits {
                max_blksize: MAX_BLKSIZE,
                blksize: !self.no_blocksize,
                ..pxe_tftp::ServerLimits::default()
            },
            mtu_cap: self.mtu_cap,
            transfer: TransferConfig::default(),
            request_errors: RequestErrors::FromNewPort,
            // Own sockets segment windows; the shared request socket
            // sends one datagram at a time.
            max_segments: if self.single_port {
                1
            } else {
                pxe_tftp::server::MAX_SEGMENTS
            },
        }
    }
}

/// The TFTP counters, published by the running service (the endpoint
/// keeps them; this is the copy other tasks read).
#[derive(Debug, Default)]
pub struct TftpMetrics {
    published: Mutex<(Counters, usize)>,
}

impl TftpMetrics {
    /// The endpoint's counters as last published.
    pub fn counters(&self) -> Counters {
        self.published.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// Transfers running as last published.
    pub fn active(&self) -> usize {
        self.published.lock().unwrap_or_else(|p| p.into_inner()).1
    }

    fn publish(&self, counters: Counters, active: usize) {
        *self.published.lock().unwrap_or_else(|p| p.into_inner()) = (counters, active);
    }
}

/// The service's clock: microseconds since `start`.
pub(super) fn clock(start: std::time::Instant) -> Instant {
    Instant::from_micros(u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX))
}

/// A request socket and the interface it is bound to (0: all).
#[derive(Debug)]
struct RequestSocket {
    sock: ReqSock,
    ifindex: u32,
}

/// The request port on IPv4 or on IPv6 (one socket each: dual stack).
#[derive(Debug, Clone)]
enum ReqSock {
    V4(Arc<PktSocket>),
    V6(Arc<PktSocket6>),
}

/// Where a request came from and arrived, for either family.
#[derive(Clone, Copy, Debug)]
enum Meta {
    V4(RecvMeta),
    V6(RecvMeta6),
}

impl Meta {
    fn len(&self) -> usize {
        match self {
            Meta::V4(m) => m.len,
            Meta::V6(m) => m.len,
        }
    }
    fn ifindex(&self) -> u32 {
        match self {
            Meta::V4(m) => m.ifindex,
            Meta::V6(m) => m.ifindex,
        }
    }
    fn src(&self) -> SocketAddr {
        match self {
            Meta::V4(m) => SocketAddr::V4(m.src),
            Meta::V6(m) => SocketAddr::V6(m.src),
        }
    }
}

/// The request sockets: IPv4 as before, and the same port on IPv6 beside
/// it (skipped with a warning where the host has no IPv6).
fn bind_request_sockets(settings: &TftpSettings) -> std::io::Result<Vec<RequestSocket>> {
    let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, settings.port);
    let devices: Vec<Option<&str>> = if settings.interfaces.is_empty() {
        std::vec![None]
    } else {
        settings
            .interfaces
            .iter()
            .map(|i| Some(i.as_str()))
            .collect()
    };
    let mut out = Vec::new();
    for d in devices {
        let ifindex = d.map_or(0, |i| nix::net::if_::if_nametoindex(i).unwrap_or(0));
        out.push(RequestSocket {
            sock: ReqSock::V4(Arc::new(PktSocket::bind(any, d)?)),
            ifindex,
        });
        match PktSocket6::bind(settings.port, d) {
            Ok(s) => out.push(RequestSocket {
                sock: ReqSock::V6(Arc::new(s)),
                ifindex,
            }),
            Err(e) => tracing::warn!("TFTP: no IPv6 request socket: {e}"),
        }
    }
    Ok(out)
}

/// A datagram from a request socket, in a buffer that goes back to its
/// reader (no allocation per datagram once the pool is warm).
type Received = (usize, Vec<u8>, Meta);

/// Reads socket `k` into recycled buffers until the loop goes away.
fn spawn_reader(
    k: usize,
    sock: ReqSock,
    to_loop: mpsc::Sender<Received>,
    mut free: mpsc::UnboundedReceiver<Vec<u8>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let mut buf = free
                .try_recv()
                .unwrap_or_else(|_| std::vec![0u8; REQUEST_BUF]);
            let got = match &sock {
                ReqSock::V4(s) => s.recv(&mut buf).await.map(Meta::V4),
                ReqSock::V6(s) => s.recv(&mut buf).await.map(Meta::V6),
            };
            match got {
                Ok(m) => {
                    if to_loop.send((k, buf, m)).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!("TFTP receive error: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    })
}

/// Settings the running service reads afresh for every request: a
/// reload stores new ones, and transfers already running keep theirs.
pub type SettingsHandle = Arc<arc_swap::ArcSwap<TftpSettings>>;

/// Run the TFTP service until `shutdown` turns true.
pub async fn serve(
    settings: Arc<TftpSettings>,
    metrics: Arc<TftpMetrics>,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    serve_reloadable(
        Arc::new(arc_swap::ArcSwap::new(settings)),
        metrics,
        shutdown,
    )
    .await
}

/// Run the TFTP service until `shutdown` turns true, each request answered
/// by the settings `handle` holds when it arrives (roots, limits, options,
/// `tftp-max`, the port range). The request sockets and the single-port
/// choice are those of the settings at the start: the reloader starts a
/// new service when they change.
pub async fn serve_reloadable(
    handle: SettingsHandle,
    metrics: Arc<TftpMetrics>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let settings = handle.load_full();
    let socks = bind_request_sockets(&settings)?;
    let (to_loop, mut received) = mpsc::channel::<Received>(256);
    let mut free = Vec::new();
    let mut readers = Vec::new();
    for (k, s) in socks.iter().enumerate() {
        let (give_back, take) = mpsc::unbounded_channel();
        free.push(give_back);
        readers.push(spawn_reader(k, s.sock.clone(), to_loop.clone(), take));
    }
    drop(to_loop);
    let (report_tx, mut reports) = mpsc::unbounded_channel::<Report>();
    let mut service = Service {
        endpoint: Endpoint::new(settings.endpoint_config(), FsFiles::new(settings.clone())),
        socks,
        start: std::time::Instant::now(),
        shutdown: Arc::new(AtomicBool::new(false)),
        cancels: HashMap::new(),
        reports: report_tx,
        observer: Observer::new(settings.journeys.clone()),
        out: Vec::new(),
        reply: [0u8; 512],
    };
    service.out = std::vec![0u8; service.endpoint.max_datagram_len()];
    // What was last published (the metrics lock is taken only on change).
    let mut published = (Counters::default(), 0);
    loop {
        let deadline = service.endpoint.poll_timeout().map(|d| {
            let now = clock(service.start);
            tokio::time::Instant::now() + d.saturating_duration_since(now)
        });
        tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            Some(r) = reports.recv() => service.on_report(r),
            r = received.recv() => {
                let Some((k, buf, meta)) = r else { break };
                service.follow(&handle);
                service.on_datagram(&buf, meta).await;
                if let Some(f) = free.get(k) {
                    let _ = f.send(buf);
                }
            }
            () = tokio::time::sleep_until(deadline.unwrap_or_else(tokio::time::Instant::now)), if deadline.is_some() => {
                service.endpoint.handle_timeout(clock(service.start));
            }
        }
        service.flush().await;
        service.take_events();
        let now = (service.endpoint.counters(), service.endpoint.active());
        if now != published {
            metrics.publish(now.0, now.1);
            published = now;
        }
    }
    service.shutdown.store(true, Ordering::Relaxed);
    service
        .endpoint
        .abort_all(ErrorCode::NOT_DEFINED, "server shutting down");
    service.flush().await;
    service.take_events();
    for r in readers {
        r.abort();
    }
    let c = service.endpoint.counters();
    metrics.publish(c, service.endpoint.active());
    tracing::info!(
        "TFTP counters: requests={} refused={} busy={} completed={} failed={} active={} duplicates={} probes={} foreign={} bytes={}",
        c.requests,
        c.refused,
        c.busy,
        c.completed,
        c.failed.total(),
        service.endpoint.active(),
        c.duplicates,
        c.probes,
        c.foreign_tids,
        c.bytes
    );
    Ok(())
}

/// The request loop's state.
struct Service {
    endpoint: Endpoint<FsFiles>,
    socks: Vec<RequestSocket>,
    start: std::time::Instant,
    /// Read by every transfer thread.
    shutdown: Arc<AtomicBool>,
    /// The cancel flag of every thread-driven transfer.
    cancels: HashMap<TransferId, Arc<AtomicBool>>,
    reports: mpsc::UnboundedSender<Report>,
    /// Tells the journeys of starts and ends.
    observer: Observer,
    /// Datagrams of the transfers the endpoint drives (single-port mode),
    /// and the first answer of a thread-driven one.
    out: Vec<u8>,
    /// Immediate replies (ERRORs).
    reply: [u8; 512],
}

impl Service {
    /// Takes up settings a reload stored since the last datagram (one
    /// pointer comparison when nothing changed).
    fn follow(&mut self, handle: &SettingsHandle) {
        let current = handle.load();
        if Arc::ptr_eq(&current, self.endpoint.files().settings()) {
            return;
        }
        let settings = arc_swap::Guard::into_inner(current);
        self.observer.set_journeys(settings.journeys.clone());
        self.endpoint.reconfigure(settings.endpoint_config());
        self.endpoint.files_mut().set_settings(settings);
        let len = self.endpoint.max_datagram_len();
        if self.out.len() < len {
            self.out.resize(len, 0);
        }
    }

    async fn on_datagram(&mut self, buf: &[u8], meta: Meta) {
        let datagram = buf.get(..meta.len()).unwrap_or(buf);
        let peer = meta.src();
        let local = Local {
            addr: match &meta {
                Meta::V4(m) => IpAddr::V4(local_address(m)),
                Meta::V6(m) => IpAddr::V6(m.dst),
            },
            port: self.endpoint.config().request_port,
            interface: meta.ifindex(),
        };
        let now = clock(self.start);
        let reply = match self
            .endpoint
            .handle(now, peer, local, datagram, &mut self.reply)
        {
            Handled::Delivered | Handled::Unroutable => None,
            Handled::Duplicate => {
                tracing::debug!("TFTP {peer}: repeated request, the transfer already runs");
                None
            }
            Handled::Rejected { rejection, reply } => {
                tracing::warn!("TFTP refused request from {peer}: {rejection}");
                self.observer.rejected(peer, &rejection);
                reply
            }
            Handled::Refused {
                name,
                refusal,
                reply,
            } => {
                tracing::warn!("TFTP refused {} for {peer}: {refusal}", Name(name));
                self.observer.refused(peer, name, refusal.code());
                reply
            }
            Handled::Busy { name, max } => {
                tracing::warn!(
                    "TFTP {peer}: {max} transfers running (tftp-max), dropping request for {}",
                    Name(name)
                );
                None
            }
            Handled::Foreign { reply } => reply,
            Handled::Started { id, name, granted } => {
                tracing::info!(
                    "TFTP sending {} to {peer} over port {}",
                    Name(name),
                    local.port
                );
                self.observer.started(id, peer, name, &granted);
                None
            }
            Handled::Admitted(admission) => {
                let name = String::from_utf8_lossy(admission.name()).into_owned();
                if let Err(why) = self.start_thread(admission) {
                    tracing::warn!("TFTP {peer}: cannot start a transfer for {name:?}: {why}");
                }
                None
            }
        };
        if let Some(t) = reply {
            send(&self.socks, &t, &self.reply).await;
        }
    }

    /// Binds a socket for an admitted transfer and starts its thread.
    fn start_thread(
        &mut self,
        admission: pxe_tftp::server::Admission<'_, FsSource>,
    ) -> Result<(), String> {
        let addr = admission.local().addr;
        let scope = admission.local().interface;
        if addr.is_unspecified() || addr.is_multicast() {
            return Err(self.endpoint.not_started(admission).to_string());
        }
        let mut bound = None;
        let mut last_error = None;
        for choice in admission.ports() {
            let port = match choice {
                PortChoice::Any => 0,
                PortChoice::Port(p) => p,
            };
            match TransferSocket::bind(addr, scope, port) {
                Ok(s) => {
                    bound = Some(s);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        let Some(sock) = bound else {
            let why = self.endpoint.not_started(admission);
            return Err(match last_error {
                Some(e) => std::format!("{why} ({e})"),
                None => why.to_string(),
            });
        };
        let port = sock.port().map_err(|e| e.to_string())?;
        // The thread starts first and waits for its transfer: if it cannot
        // start, the admission is given up and no slot is lost.
        let (hand_over, handed) = std::sync::mpsc::sync_channel(1);
        let stop = Stop {
            shutdown: self.shutdown.clone(),
            cancel: Arc::new(AtomicBool::new(false)),
        };
        let (reports, start, thread_stop) = (self.reports.clone(), self.start, stop.clone());
        let spawned = std::thread::Builder::new()
            .name(String::from("tftp-transfer"))
            .spawn(move || {
                if let Ok((t, sock)) = handed.recv() {
                    transfer::run(t, sock, reports, start, thread_stop);
                }
            });
        if let Err(e) = spawned {
            let why = self.endpoint.not_started(admission);
            return Err(std::format!("{why} (no thread: {e})"));
        }
        let peer = admission.peer();
        let raw_name = admission.name();
        let granted = *admission.granted();
        let name = String::from_utf8_lossy(raw_name).into_owned();
        let mut transfer = self
            .endpoint
            .detach(admission, port)
            .map_err(|e| e.to_string())?;
        tracing::info!("TFTP sending {name:?} to {peer} from port {port}");
        // The first answer leaves from here, at once: on a busy machine the
        // new thread may wait to be scheduled while the client waits (and
        // re-sends its request).
        let mut sock = sock;
        let now = clock(self.start);
        while let Some(tx) = transfer.poll_transmit(now, &mut self.out) {
            if let Err(e) = sock.send(&self.out[..tx.len], tx.segment_size, tx.destination) {
                // The transfer's timer sends it again.
                tracing::debug!("TFTP {peer}: first answer not sent: {e}");
                break;
            }
        }
        self.observer
            .started(transfer.id(), peer, raw_name, &granted);
        self.cancels.insert(transfer.id(), stop.cancel);
        if let Err(std::sync::mpsc::SendError((t, _))) = hand_over.send((transfer, sock)) {
            self.cancels.remove(&t.id());
            let ended = self.endpoint.finish(t);
            self.end(&ended);
        }
        Ok(())
    }

    fn on_report(&mut self, report: Report) {
        match report {
            Report::Event(id, event) => self.endpoint.handle_event(id, event),
            Report::Finished(t) => {
                self.cancels.remove(&t.id());
                let ended = self.endpoint.finish(*t);
                self.end(&ended);
            }
        }
    }

    fn take_events(&mut self) {
        while let Some(event) = self.endpoint.poll_event() {
            match event {
                Event::Ended(ended) => self.end(&ended),
                Event::Cancel(id) => {
                    if let Some(c) = self.cancels.get(&id) {
                        c.store(true, Ordering::Relaxed);
                    }
                }
            }
        }
    }

    /// A transfer ended: its log line and its journey.
    fn end(&mut self, ended: &Ended<FsSource>) {
        log_end(ended);
        self.observer.ended(ended);
    }

    /// Sends what the transfers the endpoint drives have to send.
    async fn flush(&mut self) {
        let now = clock(self.start);
        let Service {
            endpoint,
            out,
            socks,
            ..
        } = self;
        while let Some(t) = endpoint.poll_transmit(now, out) {
            send(socks, &t, out).await;
        }
    }
}

/// Sends what `t` describes in `buf`: from the request socket of its
/// interface, or from a one-off socket.
async fn send(socks: &[RequestSocket], t: &Transmit, buf: &[u8]) {
    let (to, from) = match (t.destination, t.source.local().addr) {
        (SocketAddr::V4(to), IpAddr::V4(from)) => (to, from),
        (SocketAddr::V6(to), IpAddr::V6(from)) => return send6(socks, t, buf, to, from).await,
        _ => return,
    };
    match t.source {
        Source::NewPort(_) => {
            if let Some(d) = buf.get(..t.len) {
                send_from_new_port(from, to, d).await;
            }
        }
        Source::Port(l) => {
            let v4 = |s: &RequestSocket| match &s.sock {
                ReqSock::V4(p) => Some((s.ifindex, p.clone())),
                ReqSock::V6(_) => None,
            };
            let Some((_, s)) = socks
                .iter()
                .filter_map(v4)
                .find(|(i, _)| *i == l.interface)
                .or_else(|| socks.iter().find_map(v4))
            else {
                return;
            };
            for d in t.datagrams(buf) {
                if let Err(e) = s.send(d, to, l.interface, Some(from)).await {
                    tracing::debug!("TFTP send to {to}: {e}");
                }
            }
        }
    }
}

/// [`send`] for an IPv6 peer: from a fresh port bound to the request's
/// destination address, or from the IPv6 request socket.
async fn send6(
    socks: &[RequestSocket],
    t: &Transmit,
    buf: &[u8],
    to: SocketAddrV6,
    from: Ipv6Addr,
) {
    match t.source {
        Source::NewPort(l) => {
            let Some(d) = buf.get(..t.len) else { return };
            let scope = if from.is_unicast_link_local() {
                l.interface
            } else {
                0
            };
            if let Ok(s) = tokio::net::UdpSocket::bind(SocketAddrV6::new(from, 0, 0, scope)).await {
                let _ = s.send_to(d, to).await;
            }
        }
        Source::Port(l) => {
            let v6 = |s: &RequestSocket| match &s.sock {
                ReqSock::V6(p) => Some((s.ifindex, p.clone())),
                ReqSock::V4(_) => None,
            };
            let Some((_, s)) = socks
                .iter()
                .filter_map(v6)
                .find(|(i, _)| *i == l.interface)
                .or_else(|| socks.iter().find_map(v6))
            else {
                return;
            };
            for d in t.datagrams(buf) {
                if let Err(e) = s.send(d, to).await {
                    tracing::debug!("TFTP send to {to}: {e}");
                }
            }
        }
    }
}

/// The local address of a request: what `IP_PKTINFO` said the kernel would
/// answer from, else the interface's first address.
fn local_address(meta: &RecvMeta) -> Ipv4Addr {
    if !meta.local.is_unspecified() {
        return meta.local;
    }
    interfaces()
        .unwrap_or_default()
        .iter()
        .find(|i| i.index == meta.ifindex)
        .map_or(Ipv4Addr::UNSPECIFIED, |i| i.addr)
}

/// Sends one datagram from a fresh ephemeral port (a new TID), as RFC 1350
/// wants for answers to a request. Bound without `SO_REUSEADDR`: with it,
/// Linux may hand the same port 0 binding to two sockets.
async fn send_from_new_port(local: Ipv4Addr, to: SocketAddrV4, datagram: &[u8]) {
    if let Ok(s) = tokio::net::UdpSocket::bind(SocketAddrV4::new(local, 0)).await {
        let _ = s.send_to(datagram, to).await;
    }
}

/// The log line of an ended transfer.
fn log_end(ended: &Ended<FsSource>) {
    let t = &ended.transfer;
    let (peer, path) = (t.peer(), t.source().path.display());
    match ended.outcome {
        Outcome::Completed => {
            tracing::info!("TFTP sent {path} to {peer} ({} bytes)", t.stats().bytes);
        }
        Outcome::SizeProbe => {
            tracing::info!("TFTP {peer}: size probe for {path} (OACK answered with ERROR)");
        }
        Outcome::Failed(Failure::Superseded) => {
            tracing::info!("TFTP {peer}: transfer of {path} replaced by a new request");
        }
        Outcome::Failed(why) => match t.state().error() {
            Some(e) => tracing::warn!("TFTP failed sending {path} to {peer}: {e}"),
            None => tracing::warn!("TFTP failed sending {path} to {peer}: {why}"),
        },
    }
}
