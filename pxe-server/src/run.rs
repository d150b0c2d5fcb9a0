//! The tokio driver (feature `tokio`): loads the configuration, opens the
//! lease log, binds the sockets and spawns the services.
//!
//! Services are spawned in one place, [`run`], each with a
//! [`ServiceContext`] (configuration, lease queries, shutdown signal).
//! Other services (the HTTP service of issue 6) add their spawn call there.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use std::vec::Vec;
use std::{format, vec};

use pxe_rules::Config;
use tokio::sync::watch;

use crate::driver::tftp::client_dir::MacSources;
use crate::driver::tftp::path::{Access, TftpRoot};
use crate::driver::tftp::service::{self, TftpMetrics, TftpSettings};
use crate::net::{IfaceInfo, PktSocket, RecvMeta, interfaces};
use pxe_engine::dhcp::addressing::{CLIENT_PORT, Destination, PXE_PORT, SERVER_PORT};
use pxe_engine::dhcp::{Engine, Handled, RxInfo};
use pxe_engine::lease::log::{LeaseLog, LogError};
use pxe_engine::lease::{Lease, LeaseChange};

/// Default lease file when neither the file nor the command line names one.
pub const DEFAULT_LEASE_FILE: &str = "/var/lib/misc/pxe-server.leases";

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is invalid (file:line:column inside).
    #[error("{0}")]
    Config(String),
    /// The lease log could not be opened or written.
    #[error(transparent)]
    Lease(#[from] LogError),
    /// A socket could not be opened.
    #[error("{what}: {source}")]
    Socket {
        /// Which socket.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Command-line values that replace the file's.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--interface` (replaces `interface=`).
    pub interfaces: Vec<String>,
    /// `--dhcp-leasefile`.
    pub lease_file: Option<PathBuf>,
    /// `--tftp-root` (also turns TFTP on).
    pub tftp_root: Option<PathBuf>,
    /// `--log-dhcp`.
    pub log_dhcp: bool,
}

/// Read and parse `path`, then apply `overrides`.
pub fn load_config(path: &Path, overrides: &Overrides) -> Result<Config, RunError> {
    let mut config = crate::config::parse_file(path)?;
    let s = &mut config.settings;
    if !overrides.interfaces.is_empty() {
        s.interfaces = overrides.interfaces.clone();
    }
    if let Some(l) = &overrides.lease_file {
        s.lease_file = Some(l.to_string_lossy().into_owned());
    }
    if let Some(r) = &overrides.tftp_root {
        s.tftp_roots = vec![(r.to_string_lossy().into_owned(), None)];
        if s.enable_tftp.is_none() {
            s.enable_tftp = Some(Vec::new());
        }
    }
    s.log_dhcp |= overrides.log_dhcp;
    Ok(config)
}

/// `listen-address=`: as in dnsmasq, the interfaces that hold these
/// addresses are served, beside those named by `interface=` (and then
/// only these). An address no interface holds is an error, as dnsmasq
/// fails to bind it.
fn listen_on_addresses(
    s: &mut pxe_rules::config::Settings,
    ifaces: &[IfaceInfo],
) -> Result<(), RunError> {
    for a in &s.listen_addresses {
        let Some(i) = ifaces.iter().find(|i| i.addr == *a) else {
            return Err(RunError::Config(format!(
                "listen-address={a}: no interface has this address"
            )));
        };
        if !s.interfaces.contains(&i.name) {
            s.interfaces.push(i.name.clone());
        }
    }
    Ok(())
}

/// Says which of the file's dnsmasq settings change nothing here, so no
/// one believes they took effect.
fn note_unimplemented(s: &pxe_rules::config::Settings) {
    if s.leasefile_ro {
        tracing::warn!(
            "leasefile-ro: not supported; leases are still written (pxe-server keeps no lease only in memory)"
        );
    }
    if s.bind_interfaces || s.bind_dynamic {
        tracing::info!(
            "bind-interfaces/bind-dynamic: pxe-server always binds per interface (SO_BINDTODEVICE) when interface= is given"
        );
    }
    if !s.no_ping {
        tracing::info!(
            "pxe-server does not ping an address before offering it (as dnsmasq's no-ping); a client that finds it in use sends DHCPDECLINE"
        );
    }
}

/// A human-readable summary of what the configuration means.
pub fn describe(config: &Config) -> String {
    crate::config::describe(config)
}

/// Knobs of the driver (ports can be changed for tests).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// DHCP server port (67).
    pub dhcp_port: u16,
    /// PXE boot server port (4011).
    pub pxe_port: u16,
    /// TFTP port (69).
    pub tftp_port: u16,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            dhcp_port: SERVER_PORT,
            pxe_port: PXE_PORT,
            tftp_port: 69,
        }
    }
}

/// Resolves when SIGTERM or SIGINT arrives.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = int.recv() => tracing::info!("SIGINT: shutting down"),
    }
}

/// Seconds since the Unix epoch (lease times are wall-clock).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The engine shared between the DHCP loop and queries from other services.
pub type SharedEngine = Arc<Mutex<Engine>>;

fn lock(e: &SharedEngine) -> MutexGuard<'_, Engine> {
    e.lock().unwrap_or_else(|p| p.into_inner())
}

/// A lease as other services see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseInfo {
    /// The leased address.
    pub addr: Ipv4Addr,
    /// The client's host name, if known.
    pub hostname: Option<String>,
    /// Expiry (Unix seconds, 0 = never).
    pub expires: u64,
}

/// Read access to the leases for other services (HTTP scripts, metrics).
#[derive(Clone, Debug)]
pub struct LeaseQuery {
    engine: SharedEngine,
}

impl LeaseQuery {
    /// The active lease of hardware address `mac` (most recent), if any.
    pub fn by_mac(&self, mac: &[u8]) -> Option<LeaseInfo> {
        let e = lock(&self.engine);
        e.leases().lease_by_mac(mac, unix_now()).map(info)
    }

    /// The lease holding `addr`, if active.
    pub fn by_addr(&self, addr: Ipv4Addr) -> Option<LeaseInfo> {
        let e = lock(&self.engine);
        e.leases()
            .get(addr)
            .filter(|l| l.is_active(unix_now()))
            .map(info)
    }

    /// The DHCP counters now.
    pub fn metrics(&self) -> pxe_engine::dhcp::metrics::Metrics {
        lock(&self.engine).metrics().clone()
    }
}

impl crate::driver::tftp::client_dir::MacLookup for LeaseQuery {
    fn mac_of(&self, ip: Ipv4Addr) -> Option<Vec<u8>> {
        let e = lock(&self.engine);
        e.leases()
            .get(ip)
            .filter(|l| l.is_active(unix_now()))
            .map(|l| l.hw.as_bytes().to_vec())
    }
}

fn info(l: &Lease) -> LeaseInfo {
    LeaseInfo {
        addr: l.addr,
        hostname: l.hostname.clone(),
        expires: l.expires,
    }
}

/// What every service gets.
#[derive(Clone, Debug)]
pub struct ServiceContext {
    /// The configuration (after command-line overrides).
    pub config: Arc<Config>,
    /// Lease lookups.
    pub leases: LeaseQuery,
    /// Turns `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
}

fn tftp_settings(
    config: &Config,
    opts: &RunOptions,
    leases: &LeaseQuery,
) -> Result<Option<TftpSettings>, RunError> {
    let s = &config.settings;
    let Some(ifs) = &s.enable_tftp else {
        return Ok(None);
    };
    let access = Access::for_process(nix::unistd::geteuid().as_raw(), s.tftp_secure);
    if access == Access::WorldReadable {
        tracing::info!(
            "TFTP: running as root, so only world-readable files are served (as dnsmasq)"
        );
    }
    let mut roots = Vec::new();
    for (dir, iface) in &s.tftp_roots {
        match TftpRoot::new(Path::new(dir), s.tftp_lowercase) {
            Ok(r) => roots.push((iface.clone(), r.with_access(access))),
            Err(e) if s.tftp_no_fail => {
                tracing::warn!("TFTP root {dir} unusable ({e}); tftp-no-fail: going on");
            }
            Err(e) => {
                return Err(RunError::Config(format!(
                    "tftp-root={dir}: {e} (create the directory, or add tftp-no-fail)"
                )));
            }
        }
    }
    if s.tftp_roots.is_empty() {
        return Err(RunError::Config(String::from(
            "enable-tftp is set but no tftp-root= is given; add tftp-root=DIR (or --tftp-root DIR)",
        )));
    }
    Ok(Some(TftpSettings {
        roots,
        max_transfers: s
            .tftp_max
            .map_or(service::DEFAULT_MAX, |m| m as usize)
            .max(1),
        mtu_cap: s.tftp_mtu,
        no_blocksize: s.tftp_no_blocksize,
        port: opts.tftp_port,
        interfaces: if ifs.is_empty() {
            s.interfaces.clone()
        } else {
            ifs.clone()
        },
        unique_root: s.tftp_unique_root,
        macs: Arc::new(MacSources {
            leases: Some(Arc::new(leases.clone())),
        }),
        port_range: s.tftp_port_range,
        single_port: s.tftp_single_port,
    }))
}

/// Run every configured service until `shutdown` resolves, then flush the
/// leases and stop.
pub async fn run(
    config: Config,
    opts: RunOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), RunError> {
    let mut config = config;
    listen_on_addresses(&mut config.settings, &interfaces().unwrap_or_default())?;
    note_unimplemented(&config.settings);
    let config = Arc::new(config);
    let now = unix_now();
    let lease_path = PathBuf::from(
        config
            .settings
            .lease_file
            .clone()
            .unwrap_or_else(|| DEFAULT_LEASE_FILE.to_string()),
    );
    let mut engine = Engine::new(config.clone());
    // Next servers given by name are looked up here (dnsmasq: hosts file
    // only); read once at start.
    engine.set_hosts(pxe_engine::hosts::Hosts::parse(
        &std::fs::read_to_string("/etc/hosts").unwrap_or_default(),
    ));
    let (log, rec) = LeaseLog::open(&lease_path, engine.leases_mut(), now)?;
    tracing::info!(
        "leases: {} from {} ({} records, {} torn bytes dropped, {} imported from dnsmasq format)",
        engine.leases().len(),
        log.path().display(),
        rec.records,
        rec.discarded_bytes,
        rec.imported
    );
    let engine: SharedEngine = Arc::new(Mutex::new(engine));
    let (stop_tx, stop_rx) = watch::channel(false);
    let ctx = ServiceContext {
        config: config.clone(),
        leases: LeaseQuery {
            engine: engine.clone(),
        },
        shutdown: stop_rx.clone(),
    };

    let mut tasks: Vec<tokio::task::JoinHandle<Result<(), RunError>>> = Vec::new();

    // DHCP (full, proxy) and the PXE boot server.
    let dhcp_needed = config.ranges().next().is_some();
    if dhcp_needed {
        let socks = bind_dhcp(&config, &opts)?;
        tasks.push(tokio::spawn(dhcp_loop(
            engine.clone(),
            log,
            socks,
            stop_rx.clone(),
        )));
    } else {
        tracing::info!("no dhcp-range: DHCP is off");
        drop(log);
    }

    // TFTP.
    if let Some(t) = tftp_settings(&config, &opts, &ctx.leases)? {
        let metrics = Arc::new(TftpMetrics::default());
        let rx = stop_rx.clone();
        tracing::info!(
            "TFTP on port {} (root {}), at most {} transfers",
            t.port,
            t.roots
                .iter()
                .map(|(_, r)| r.root().display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            t.max_transfers
        );
        let t = Arc::new(t);
        tasks.push(tokio::spawn(async move {
            service::serve(t, metrics, rx)
                .await
                .map_err(|source| RunError::Socket {
                    what: String::from("TFTP"),
                    source,
                })
        }));
    }

    // HTTP boot files and per-machine iPXE scripts (issue 6).
    let lookup: Arc<dyn crate::http::ClientLookup> = Arc::new(ctx.leases.clone());
    let http = crate::http::start(&config, Some(lookup), stop_rx.clone())
        .await
        .map_err(|e| RunError::Config(e.to_string()))?;
    for t in http {
        tasks.push(tokio::spawn(async move {
            let _ = t.await;
            Ok(())
        }));
    }

    shutdown.await;
    let _ = stop_tx.send(true);
    let mut result = Ok(());
    for t in tasks {
        match tokio::time::timeout(Duration::from_secs(10), t).await {
            Ok(Ok(Err(e))) => result = Err(e),
            Ok(Err(e)) => tracing::warn!("service task ended abnormally: {e}"),
            _ => {}
        }
    }
    result
}

/// The sockets of the DHCP service, with what each is for.
struct DhcpSockets {
    socks: Vec<PktSocket>,
}

fn bind_dhcp(config: &Config, opts: &RunOptions) -> Result<DhcpSockets, RunError> {
    let mut ports = vec![opts.dhcp_port];
    // 4011 is needed for proxy mode and whenever PXE services exist.
    if config.has_proxy_range() || config.pxe_enabled() {
        ports.push(opts.pxe_port);
    }
    let ifs = &config.settings.interfaces;
    let mut socks = Vec::new();
    for port in ports {
        let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
        if ifs.is_empty() {
            socks.push(
                PktSocket::bind(any, None).map_err(|source| RunError::Socket {
                    what: format!("UDP port {port}"),
                    source,
                })?,
            );
        } else {
            for i in ifs {
                socks.push(
                    PktSocket::bind(any, Some(i)).map_err(|source| RunError::Socket {
                        what: format!("UDP port {port} on {i}"),
                        source,
                    })?,
                );
            }
        }
        tracing::info!(
            "DHCP listening on UDP {port}{}",
            if ifs.is_empty() {
                String::new()
            } else {
                format!(" on {}", ifs.join(", "))
            }
        );
    }
    Ok(DhcpSockets { socks })
}

struct Pending {
    sock: usize,
    len: usize,
    buf: Vec<u8>,
    dest: SocketAddrV4,
    ifindex: u32,
    src: Ipv4Addr,
}

/// Lease changes and the replies that announce them: the writer thread
/// persists the changes (one `fdatasync` for everything queued) and only
/// then sends the replies. The writer hands the emptied job (with the
/// reply buffers) back to its worker through `done`, so in steady state
/// no packet allocates.
struct Job {
    changes: Vec<LeaseChange>,
    replies: Vec<Pending>,
    done: std::sync::mpsc::Sender<Job>,
}

/// Room for one reply (the engine never builds more than an Ethernet MTU).
const REPLY_MAX: usize = 1500;

const BATCH: usize = 64;

fn send_pending(socks: &[Arc<PktSocket>], p: &Pending) {
    if let Some(s) = socks.get(p.sock)
        && let Err(err) = s.send_sync(&p.buf[..p.len], p.dest, p.ifindex, Some(p.src))
    {
        tracing::warn!("DHCP send to {} failed: {err}", p.dest);
    }
}

/// The lease writer: group commit. Everything queued while the previous
/// `fdatasync` ran is written and synced together, then its replies leave.
fn lease_writer(
    jobs: std::sync::mpsc::Receiver<Job>,
    mut log: LeaseLog,
    socks: Vec<Arc<PktSocket>>,
    engine: SharedEngine,
) -> Result<(), RunError> {
    let mut batch: Vec<Job> = Vec::new();
    let flush = |log: &mut LeaseLog, batch: &mut Vec<Job>| -> Result<(), RunError> {
        for j in batch.iter() {
            for c in &j.changes {
                log.stage(c)?;
            }
        }
        if let Err(e) = log.commit() {
            // Not durable: the replies must not leave.
            tracing::error!("{e}; {} replies withheld", batch.len());
            batch.clear();
            return Err(e.into());
        }
        for mut j in batch.drain(..) {
            for p in &j.replies {
                send_pending(&socks, p);
            }
            j.changes.clear();
            let done = j.done.clone();
            let _ = done.send(j);
        }
        Ok(())
    };
    // The dnsmasq-format file is refreshed at most every TEXT_EVERY while
    // leases change (and at every compaction and at shutdown), so tools
    // that read it see current leases.
    const TEXT_EVERY: Duration = Duration::from_secs(30);
    let mut dirty = false;
    let mut text_at = std::time::Instant::now();
    loop {
        match jobs.recv_timeout(TEXT_EVERY) {
            Ok(first) => batch.push(first),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        while let Ok(j) = jobs.try_recv() {
            batch.push(j);
        }
        if !batch.is_empty() {
            dirty = true;
            if let Err(e) = flush(&mut log, &mut batch) {
                tracing::error!("lease log: {e}");
                continue;
            }
        }
        let live = lock(&engine).leases().len();
        if log.wants_compaction(live) {
            // Under the engine lock nothing new can be queued: drain, then
            // snapshot the table.
            let e = lock(&engine);
            while let Ok(j) = jobs.try_recv() {
                batch.push(j);
            }
            flush(&mut log, &mut batch)?;
            log.compact(e.leases(), unix_now())?;
            dirty = false;
            text_at = std::time::Instant::now();
        } else if dirty && text_at.elapsed() >= TEXT_EVERY {
            let e = lock(&engine);
            if let Err(err) = log.write_dnsmasq_file(e.leases(), unix_now()) {
                tracing::warn!("{err}");
            }
            dirty = false;
            text_at = std::time::Instant::now();
        }
    }
    // Shut down: the queue is closed; write the compacted log and the
    // dnsmasq-format file.
    let e = lock(&engine);
    let m = e.metrics();
    tracing::info!(
        "DHCP counters: received={} replies={} offers={} acks={} naks={} proxy={} boot-server={} releases={} declines={} dropped={} malformed={}",
        m.received,
        m.replies,
        m.offers,
        m.acks,
        m.naks,
        m.proxy_replies,
        m.boot_server_replies,
        m.releases,
        m.declines,
        m.dropped(),
        m.malformed()
    );
    log.compact(e.leases(), unix_now())?;
    tracing::info!("leases flushed to {}", log.path().display());
    Ok(())
}

async fn dhcp_loop(
    engine: SharedEngine,
    log: LeaseLog,
    socks: DhcpSockets,
    stop: watch::Receiver<bool>,
) -> Result<(), RunError> {
    let socks: Vec<Arc<PktSocket>> = socks.socks.into_iter().map(Arc::new).collect();
    let (job_tx, job_rx) = std::sync::mpsc::channel::<Job>();
    let writer = {
        let socks = socks.clone();
        let engine = engine.clone();
        std::thread::Builder::new()
            .name(String::from("lease-writer"))
            .spawn(move || lease_writer(job_rx, log, socks, engine))
            .map_err(|source| RunError::Socket {
                what: String::from("lease writer thread"),
                source,
            })?
    };
    // One worker per socket: receive a batch, handle it under the engine
    // lock, send what needs no disk, queue the rest for the writer.
    let mut workers = Vec::new();
    for k in 0..socks.len() {
        workers.push(tokio::spawn(dhcp_worker(
            k,
            socks.clone(),
            engine.clone(),
            job_tx.clone(),
            stop.clone(),
        )));
    }
    drop(job_tx);
    for w in workers {
        let _ = w.await;
    }
    match tokio::task::spawn_blocking(move || writer.join()).await {
        Ok(Ok(r)) => r,
        _ => {
            tracing::error!("lease writer thread panicked");
            Ok(())
        }
    }
}

/// The local address a request is answered from: the one it was sent to
/// if that is ours on the arrival interface, else the interface address
/// whose network has a `dhcp-range` (secondary addresses), else the first.
fn pick_address<'i>(
    ifaces: &'i [IfaceInfo],
    meta: &RecvMeta,
    config: &Config,
) -> Option<&'i IfaceInfo> {
    let mut on_if = ifaces.iter().filter(|i| i.index == meta.ifindex);
    let first = on_if.clone().next()?;
    if let Some(i) = on_if.clone().find(|i| i.addr == meta.dst) {
        return Some(i);
    }
    on_if
        .find(|i| config.ranges().any(|(_, r)| r.same_net(i.addr, i.netmask)))
        .or(Some(first))
}

async fn dhcp_worker(
    k: usize,
    socks: Vec<Arc<PktSocket>>,
    engine: SharedEngine,
    job_tx: std::sync::mpsc::Sender<Job>,
    mut stop: watch::Receiver<bool>,
) {
    let Some(sock) = socks.get(k).cloned() else {
        return;
    };
    let port = sock.local_addr().map_or(SERVER_PORT, |a| a.port());
    let mut bufs: Vec<Vec<u8>> = (0..BATCH).map(|_| vec![0u8; 2048]).collect();
    let mut metas: Vec<RecvMeta> = Vec::with_capacity(BATCH);
    let mut out: Vec<Pending> = Vec::with_capacity(BATCH);
    // Jobs and reply buffers come back from the lease writer for reuse.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<Job>();
    let mut spare_jobs: Vec<Job> = Vec::new();
    let mut spare_bufs: Vec<Vec<u8>> = Vec::new();
    let mut ifaces: Vec<IfaceInfo> = interfaces().unwrap_or_default();
    let mut ifaces_at = std::time::Instant::now();
    loop {
        metas.clear();
        let first = {
            let b = &mut bufs[0];
            tokio::select! {
                _ = stop.changed() => break,
                r = sock.recv(b) => r,
            }
        };
        match first {
            Ok(m) => metas.push(m),
            Err(e) => {
                tracing::debug!("DHCP receive error: {e}");
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        }
        while metas.len() < BATCH {
            match sock.try_recv(&mut bufs[metas.len()]) {
                Ok(m) => metas.push(m),
                Err(_) => break,
            }
        }
        if ifaces_at.elapsed() > Duration::from_secs(5)
            || metas
                .iter()
                .any(|m| !ifaces.iter().any(|i| i.index == m.ifindex))
        {
            ifaces = interfaces().unwrap_or_default();
            ifaces_at = std::time::Instant::now();
        }
        while let Ok(mut j) = done_rx.try_recv() {
            spare_bufs.extend(j.replies.drain(..).map(|p| p.buf));
            spare_jobs.push(j);
        }
        let now = unix_now();
        {
            // One job for the whole batch: its changes are synced together
            // and none of its replies leaves before that.
            let mut job: Option<Job> = None;
            let mut e = lock(&engine);
            e.set_logging(tracing::enabled!(tracing::Level::INFO));
            for (meta, data) in metas.iter().zip(bufs.iter()) {
                let Some(iface) = pick_address(&ifaces, meta, e.config()) else {
                    tracing::debug!(
                        "DHCP packet from {} on unknown interface {}",
                        meta.src,
                        meta.ifindex
                    );
                    continue;
                };
                let set = &e.config().settings;
                if set.except_interfaces.contains(&iface.name)
                    || set.no_dhcp_interfaces.contains(&iface.name)
                {
                    continue;
                }
                let rx_info = RxInfo {
                    port,
                    src: meta.src,
                    iface: &iface.name,
                    local: iface.addr,
                    netmask: iface.netmask,
                    mtu: iface.mtu,
                    broadcast: meta.dst == Ipv4Addr::BROADCAST,
                };
                let mut buf = spare_bufs.pop().unwrap_or_else(|| vec![0u8; REPLY_MAX]);
                let len = meta.len.min(data.len());
                let h = e.handle(now, &rx_info, &data[..len], &mut buf);
                let line = e.log_line();
                if !line.is_empty() {
                    tracing::info!("{line}");
                }
                let reply = match h {
                    Handled::Reply { len, dest } => Some(Pending {
                        sock: k,
                        len,
                        buf,
                        dest: match dest {
                            Destination::Broadcast | Destination::UnicastHw { .. } => {
                                SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT)
                            }
                            Destination::Unicast(a) => a,
                        },
                        ifindex: meta.ifindex,
                        src: iface.addr,
                    }),
                    _ => {
                        spare_bufs.push(buf);
                        None
                    }
                };
                let delay = e.reply_delay();
                let mut changes = e.take_changes().peekable();
                if changes.peek().is_none() {
                    drop(changes);
                    // Nothing to persist (OFFER, NAK, proxy, 4011): send now,
                    // or after `dhcp-reply-delay`.
                    match reply {
                        Some(p) if delay > 0 => {
                            let s = sock.clone();
                            tokio::spawn(async move {
                                tokio::time::sleep(Duration::from_secs(u64::from(delay))).await;
                                if let Err(err) = s
                                    .send(&p.buf[..p.len], p.dest, p.ifindex, Some(p.src))
                                    .await
                                {
                                    tracing::warn!("DHCP send to {} failed: {err}", p.dest);
                                }
                            });
                        }
                        other => out.extend(other),
                    }
                } else {
                    let j = job.get_or_insert_with(|| {
                        spare_jobs.pop().unwrap_or_else(|| Job {
                            changes: Vec::new(),
                            replies: Vec::new(),
                            done: done_tx.clone(),
                        })
                    });
                    j.changes.extend(changes);
                    j.replies.extend(reply);
                }
            }
            // Persist, then send: queued while the engine is locked, so the
            // writer's compaction never misses a change.
            if let Some(j) = job
                && job_tx.send(j).is_err()
            {
                tracing::error!("lease writer stopped: replies withheld");
            }
        }
        for p in &out {
            if let Err(err) = sock
                .send(&p.buf[..p.len], p.dest, p.ifindex, Some(p.src))
                .await
            {
                tracing::warn!("DHCP send to {} failed: {err}", p.dest);
            }
        }
        spare_bufs.extend(out.drain(..).map(|p| p.buf));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(index: u32, name: &str, addr: [u8; 4]) -> IfaceInfo {
        IfaceInfo {
            index,
            name: String::from(name),
            addr: Ipv4Addr::from(addr),
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            mtu: 1500,
        }
    }

    #[test]
    fn listen_address_adds_the_interface_holding_it() {
        let ifaces = [
            iface(1, "lo", [127, 0, 0, 1]),
            iface(2, "eth1", [10, 1, 0, 1]),
        ];
        let mut c = Config::parse_str("interface=eth0\nlisten-address=10.1.0.1\n", "t.conf")
            .expect("parses");
        listen_on_addresses(&mut c.settings, &ifaces).expect("eth1 holds it");
        assert_eq!(c.settings.interfaces, ["eth0", "eth1"]);
        let mut c = Config::parse_str("listen-address=10.9.9.9\n", "t.conf").expect("parses");
        let e = listen_on_addresses(&mut c.settings, &ifaces).expect_err("nobody holds it");
        assert!(e.to_string().contains("listen-address=10.9.9.9"), "{e}");
    }
}
