//! The TFTP service under tokio (feature `tokio`): requests on port 69,
//! one socket (a fresh port, the new TID) and one task per transfer, each
//! driving a `pxe_tftp::server::ReadTransfer`.
//!
//! * Read-only: write requests are refused with ERROR 4 (as dnsmasq).
//! * Paths go through [`super::path::TftpRoot`]; refusals are
//!   answered with a TFTP ERROR and logged.
//! * At most `tftp-max` transfers at once (default 50); requests beyond that
//!   are dropped (the client retransmits).
//! * blksize is capped by the MTU of the interface the request came in on
//!   (and `tftp-mtu`); `tsize` is answered; `tftp-no-blocksize` honoured.
//! * `tftp-unique-root` picks a per-client directory when it exists
//!   ([`super::client_dir`]); `tftp-port-range` bounds the transfer ports;
//!   `tftp-single-port` runs every transfer over the request socket, told
//!   apart by the client's address and port (not RFC 1350, but some
//!   firewalls allow nothing else).
//! * A transfer that starts while no other runs polls its socket for up to
//!   200 µs before sleeping: lock-step clients are bound by wake-up
//!   latency, and one busy core while one machine boots is a fair price.
//! * A window of DATA blocks leaves in one `sendmsg` with `UDP_SEGMENT`
//!   (the kernel cuts it into one datagram per block), one by one where
//!   the kernel refuses.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::string::String;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, Weak};
use std::time::Duration;
use std::vec::Vec;

use pxe_tftp::server::{ReadTransfer, ServerPolicy, accept};
use pxe_tftp::wire::{ErrorCode, RequestKind, write_error};
use pxe_tftp::{Instant, ServerLimits, TransferConfig};
use tokio::sync::watch;

use super::client_dir::{self, MacSources};
use super::link::{Link, LinkPlan, PortPicker, Received, Routes};
use super::path::TftpRoot;
use crate::net::{PktSocket, RecvMeta, interfaces};
use pxe_rules::config::UniqueRoot;

/// Default `tftp-max`.
pub const DEFAULT_MAX: usize = 50;

/// How long a lone transfer polls for its client's next datagram before
/// sleeping: a few lock-step round trips on a LAN.
const LONE_TRANSFER_SPIN: Duration = Duration::from_micros(200);

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
}

/// TFTP counters (shared with the running service).
#[derive(Debug, Default)]
pub struct TftpMetrics {
    /// Requests received on the request port.
    pub requests: AtomicU64,
    /// Requests refused with an ERROR (bad request, path refused, ...).
    pub refused: AtomicU64,
    /// Requests dropped because `tftp-max` transfers were running, or no
    /// port of `tftp-port-range` was free.
    pub busy: AtomicU64,
    /// Transfers completed.
    pub completed: AtomicU64,
    /// Transfers that failed.
    pub failed: AtomicU64,
    /// Transfers running now.
    pub active: AtomicUsize,
}

fn clock(start: std::time::Instant) -> Instant {
    Instant::from_micros(u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX))
}

impl TftpSettings {
    fn root_for(&self, iface: Option<&str>) -> Option<&TftpRoot> {
        if let Some(i) = iface
            && let Some((_, r)) = self.roots.iter().find(|(n, _)| n.as_deref() == Some(i))
        {
            return Some(r);
        }
        self.roots.iter().find(|(n, _)| n.is_none()).map(|(_, r)| r)
    }
}

async fn send_error(local: Ipv4Addr, to: SocketAddrV4, code: ErrorCode, msg: &str) {
    let mut buf = [0u8; 512];
    let Ok(n) = write_error(&mut buf, code, msg.as_bytes()) else {
        return;
    };
    send_from_new_port(local, to, &buf[..n]).await;
}

/// Sends one datagram from a fresh ephemeral port (a new TID), as RFC 1350
/// wants for answers to a request. Bound without `SO_REUSEADDR`: with it,
/// Linux may hand the same port 0 binding to two sockets.
async fn send_from_new_port(local: Ipv4Addr, to: SocketAddrV4, datagram: &[u8]) {
    if let Ok(s) = tokio::net::UdpSocket::bind(SocketAddrV4::new(local, 0)).await {
        let _ = s.send_to(datagram, to).await;
    }
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
/// by the settings `handle` holds when it arrives. The request sockets
/// are those of the settings at the start (port, interfaces, single-port
/// mode); the binding changes only with a new service.
pub async fn serve_reloadable(
    handle: SettingsHandle,
    metrics: Arc<TftpMetrics>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let settings = handle.load_full();
    let single_port = settings.single_port;
    let mut socks = Vec::new();
    if settings.interfaces.is_empty() {
        socks.push(PktSocket::bind(
            SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, settings.port),
            None,
        )?);
    } else {
        for i in &settings.interfaces {
            socks.push(PktSocket::bind(
                SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, settings.port),
                Some(i),
            )?);
        }
    }
    let socks: Vec<Arc<PktSocket>> = socks.into_iter().map(Arc::new).collect();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(usize, Vec<u8>, RecvMeta)>(256);
    let mut readers = Vec::new();
    for (k, s) in socks.iter().cloned().enumerate() {
        let tx = tx.clone();
        readers.push(tokio::spawn(async move {
            let mut buf = std::vec![0u8; 65536];
            loop {
                match s.recv(&mut buf).await {
                    Ok(m) => {
                        if tx
                            .send((k, buf[..m.len.min(buf.len())].to_vec(), m))
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!("TFTP receive error: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        }));
    }
    drop(tx);
    let start = std::time::Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let cache: Arc<FileCache> = Arc::default();
    let routes: Arc<Routes> = Arc::default();
    let ports = PortPicker::default();
    loop {
        let (k, data, meta) = tokio::select! {
            _ = shutdown.changed() => {
                stop.store(true, Ordering::Relaxed);
                break;
            }
            m = rx.recv() => match m { Some(m) => m, None => break },
        };
        // Roots, limits and options follow a reload; the request sockets
        // and the single-port routing stay those of the first settings
        // (the reloader starts a new service when they change).
        let settings = handle.load_full();
        let data = if single_port {
            match routes.deliver(meta.src, data) {
                Ok(()) => continue,
                Err(request) => request,
            }
        } else {
            data
        };
        metrics.requests.fetch_add(1, Ordering::Relaxed);
        // A lone transfer polls for its client's answers instead of
        // sleeping between them (lock-step clients are latency-bound);
        // with company, none does.
        let spin = if metrics.active.load(Ordering::Relaxed) == 0 {
            LONE_TRANSFER_SPIN
        } else {
            Duration::ZERO
        };
        let link = LinkPlan {
            single_port: single_port.then(|| (socks[k].clone(), routes.clone())),
            ports: &ports,
            spin,
        };
        handle_request(
            &settings,
            &metrics,
            &cache,
            &data,
            meta,
            link,
            start,
            stop.clone(),
        )
        .await;
    }
    for r in readers {
        r.abort();
    }
    tracing::info!(
        "TFTP counters: requests={} refused={} busy={} completed={} failed={} active={}",
        metrics.requests.load(Ordering::Relaxed),
        metrics.refused.load(Ordering::Relaxed),
        metrics.busy.load(Ordering::Relaxed),
        metrics.completed.load(Ordering::Relaxed),
        metrics.failed.load(Ordering::Relaxed),
        metrics.active.load(Ordering::Relaxed)
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn handle_request(
    settings: &Arc<TftpSettings>,
    metrics: &Arc<TftpMetrics>,
    cache: &Arc<FileCache>,
    data: &[u8],
    meta: RecvMeta,
    link: LinkPlan<'_>,
    start: std::time::Instant,
    stop: Arc<AtomicBool>,
) {
    let ifaces = interfaces().unwrap_or_default();
    let iface = ifaces.iter().find(|i| i.index == meta.ifindex);
    let local = if meta.local.is_unspecified() {
        iface.map_or(Ipv4Addr::UNSPECIFIED, |i| i.addr)
    } else {
        meta.local
    };
    let mtu = iface.map_or(1500, |i| u32::from(i.mtu));
    let mtu = settings.mtu_cap.map_or(mtu, |c| c.min(mtu));
    let limits = ServerLimits {
        max_blksize: ServerLimits::blksize_for_mtu(mtu, false),
        blksize: !settings.no_blocksize,
        ..ServerLimits::default()
    };
    let policy = ServerPolicy {
        limits,
        allow_writes: false,
    };
    let acc = match accept(data, &policy) {
        Ok(a) => a,
        Err(rej) => {
            metrics.refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("TFTP refused request from {}: {rej}", meta.src);
            let mut buf = [0u8; 512];
            if let Some(n) = rej.write_reply(&mut buf) {
                send_from_new_port(local, meta.src, &buf[..n]).await;
            }
            return;
        }
    };
    if acc.kind != RequestKind::Read {
        metrics.refused.fetch_add(1, Ordering::Relaxed);
        send_error(local, meta.src, ErrorCode(4), "unsupported request").await;
        return;
    }
    let name = String::from_utf8_lossy(acc.filename).into_owned();
    if metrics.active.load(Ordering::Relaxed) >= settings.max_transfers {
        metrics.busy.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            "TFTP {}: {} transfers running (tftp-max), dropping request for {name:?}",
            meta.src,
            settings.max_transfers
        );
        return;
    }
    let Some(root) = settings.root_for(iface.map(|i| i.name.as_str())) else {
        metrics.refused.fetch_add(1, Ordering::Relaxed);
        send_error(local, meta.src, ErrorCode(2), "no TFTP root").await;
        return;
    };
    let client_root = settings.unique_root.and_then(|kind| {
        let ip = *meta.src.ip();
        let mac = match kind {
            UniqueRoot::Mac => settings.macs.mac_of(ip),
            UniqueRoot::Ip => None,
        };
        root.subdir(&client_dir::dir_name(kind, ip, mac.as_deref())?)
    });
    let root = client_root.as_ref().unwrap_or(root);
    let path = match root.resolve(acc.filename) {
        Ok(p) => p,
        Err(e) => {
            metrics.refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("TFTP refused {name:?} for {}: {e}", meta.src);
            let msg = match e.tftp_code() {
                1 => std::format!("file {name} not found"),
                2 => std::format!("cannot access {name}: Permission denied"),
                _ => std::format!("cannot read {name}: {e}"),
            };
            send_error(local, meta.src, ErrorCode(e.tftp_code()), &msg).await;
            return;
        }
    };
    let source = match open_source(cache, &path) {
        Ok(f) => f,
        Err(e) => {
            metrics.refused.fetch_add(1, Ordering::Relaxed);
            let code = if e.kind() == std::io::ErrorKind::PermissionDenied {
                2
            } else {
                0
            };
            tracing::warn!("TFTP cannot open {}: {e}", path.display());
            send_error(
                local,
                meta.src,
                ErrorCode(code),
                &std::format!("cannot read {name}: {e}"),
            )
            .await;
            return;
        }
    };
    let link = match link.open(local, &meta, settings.port_range) {
        Ok(l) => l,
        Err(e) => {
            metrics.busy.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                "TFTP {}: cannot start a transfer for {name:?}: {e}",
                meta.src
            );
            return;
        }
    };
    let transfer = ReadTransfer::new(
        source,
        acc.mode,
        &acc.options,
        &limits,
        TransferConfig::default(),
    );
    metrics.active.fetch_add(1, Ordering::Relaxed);
    let metrics = metrics.clone();
    let peer = meta.src;
    // One thread per transfer with blocking I/O: the lowest latency per
    // DATA/ACK round (lock-step clients wait for every ACK).
    let spawned = std::thread::Builder::new()
        .name(String::from("tftp-transfer"))
        .spawn({
            let metrics = metrics.clone();
            move || {
                let ok = run_transfer(transfer, link, peer, start, &stop);
                metrics.active.fetch_sub(1, Ordering::Relaxed);
                match ok {
                    Ok(bytes) => {
                        metrics.completed.fetch_add(1, Ordering::Relaxed);
                        tracing::info!("TFTP sent {} to {peer} ({bytes} bytes)", path.display());
                    }
                    Err(e) => {
                        metrics.failed.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!("TFTP failed sending {} to {peer}: {e}", path.display());
                    }
                }
            }
        });
    if let Err(e) = spawned {
        metrics.active.fetch_sub(1, Ordering::Relaxed);
        metrics.failed.fetch_add(1, Ordering::Relaxed);
        tracing::warn!("TFTP cannot start a transfer thread: {e}");
    }
}

/// Files up to this size are read once into memory and shared by every
/// transfer of the same file (a boot storm reads it once).
pub const CACHE_MAX: u64 = 64 << 20;

/// The bytes of a file, shared between transfers.
#[derive(Clone, Debug)]
pub struct Shared(Arc<[u8]>);

/// What a transfer reads: a shared in-memory copy, or the file itself.
#[derive(Debug)]
pub enum Source {
    /// A cached copy.
    Mem(Shared),
    /// A file too large to cache.
    File(std::fs::File),
}

impl pxe_tftp::DataSource for Source {
    type Error = std::io::Error;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, std::io::Error> {
        match self {
            Source::Mem(m) => {
                let data = &m.0[..];
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                let n = buf.len().min(data.len() - start);
                buf[..n].copy_from_slice(&data[start..start + n]);
                Ok(n)
            }
            Source::File(f) => pxe_tftp::DataSource::read_at(f, offset, buf),
        }
    }
    fn size(&mut self) -> Option<u64> {
        match self {
            Source::Mem(m) => Some(m.0.len() as u64),
            Source::File(f) => pxe_tftp::DataSource::size(f),
        }
    }
}

/// The shared-file cache: path → (modification time, length, weak copy).
/// Entries die with their last transfer.
pub type FileCache = Mutex<HashMap<PathBuf, (Option<std::time::SystemTime>, u64, Weak<[u8]>)>>;

fn open_source(cache: &FileCache, path: &Path) -> std::io::Result<Source> {
    let f = std::fs::File::open(path)?;
    let md = f.metadata()?;
    if md.len() > CACHE_MAX {
        return Ok(Source::File(f));
    }
    let mtime = md.modified().ok();
    let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((t, len, w)) = c.get(path)
        && *t == mtime
        && *len == md.len()
        && let Some(data) = w.upgrade()
    {
        return Ok(Source::Mem(Shared(data)));
    }
    let mut data = Vec::with_capacity(md.len() as usize);
    std::io::Read::read_to_end(&mut &f, &mut data)?;
    let data: Arc<[u8]> = Arc::from(data);
    c.retain(|_, (_, _, w)| w.strong_count() > 0);
    c.insert(path.to_path_buf(), (mtime, md.len(), Arc::downgrade(&data)));
    Ok(Source::Mem(Shared(data)))
}

/// Sends everything the transfer has to send now. Runs of equal-sized
/// datagrams (a window of DATA blocks, the last possibly shorter) go out in
/// one system call where the link can segment.
fn transmit(
    t: &mut ReadTransfer<Source>,
    link: &mut Link,
    out: &mut [u8],
    dlen: usize,
    now: Instant,
    peer: SocketAddrV4,
) -> std::io::Result<()> {
    let max = (out.len() / dlen).max(1);
    loop {
        let (mut len, mut size, mut count) = (0, 0, 0);
        let mut drained = false;
        while count < max {
            let Some(n) = t.poll_transmit(now, &mut out[len..len + dlen]) else {
                drained = true;
                break;
            };
            if count > 0 && n > size {
                // Longer than the run's datagrams: it cannot join the run.
                link.send_segments(&out[..len], size, peer)?;
                link.send(&out[len..len + n], peer)?;
                (len, count) = (0, 0);
                continue;
            }
            if count == 0 {
                size = n;
            }
            len += n;
            count += 1;
            if n < size {
                break; // a shorter datagram can only end a run
            }
        }
        if count > 0 {
            link.send_segments(&out[..len], size, peer)?;
        }
        if drained {
            return Ok(());
        }
    }
}

fn run_transfer(
    mut t: ReadTransfer<Source>,
    mut link: Link,
    peer: SocketAddrV4,
    start: std::time::Instant,
    stop: &AtomicBool,
) -> Result<u64, String> {
    let dlen = t.max_datagram_len().max(516);
    let mut out = std::vec![0u8; dlen * link.max_segments(dlen)];
    let mut inb = std::vec![0u8; 65536];
    loop {
        let now = clock(start);
        if let Err(e) = transmit(&mut t, &mut link, &mut out, dlen, now, peer) {
            return Err(std::format!("send: {e}"));
        }
        if t.is_finished() {
            break;
        }
        if stop.load(Ordering::Relaxed) {
            t.abort(ErrorCode(0), "server shutting down");
            let _ = transmit(&mut t, &mut link, &mut out, dlen, clock(start), peer);
            return Err(String::from("server shutting down"));
        }
        // Wake at the engine's deadline, and at least once a second to
        // notice a shutdown.
        let wait = t
            .poll_timeout()
            .map_or(Duration::from_secs(1), |d| {
                d.saturating_duration_since(clock(start))
            })
            .clamp(Duration::from_millis(1), Duration::from_secs(1));
        match link.recv(&mut inb, peer, wait) {
            Ok(Received::Datagram(n)) => t.handle_datagram(clock(start), &inb[..n]),
            Ok(Received::TimedOut) => t.handle_timeout(clock(start)),
            Ok(Received::Stranger) => {}
            Err(e) => return Err(std::format!("receive: {e}")),
        }
    }
    let stats = t.stats();
    match t.state() {
        pxe_tftp::State::Complete => Ok(stats.bytes),
        pxe_tftp::State::Failed(e) => Err(std::format!("{e}")),
        pxe_tftp::State::Active => Err(String::from("still active")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pxe_tftp::DataSource;

    #[test]
    fn cache_shares_and_notices_changes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"first version").unwrap();
        let cache = FileCache::default();
        let (Source::Mem(a), Source::Mem(b)) = (
            open_source(&cache, &p).unwrap(),
            open_source(&cache, &p).unwrap(),
        ) else {
            panic!("small files are cached")
        };
        assert!(Arc::ptr_eq(&a.0, &b.0), "one copy for concurrent transfers");
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&p, b"second, longer version").unwrap();
        let mut c = open_source(&cache, &p).unwrap();
        let mut buf = [0u8; 64];
        let n = c.read_at(0, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"second, longer version");
        assert_eq!(c.size(), Some(22));
        drop((a, b, c));
        // Entries die with their last transfer.
        let _ = open_source(&cache, &p).unwrap();
        assert_eq!(cache.lock().unwrap().len(), 1);
    }
}
