//! The DHCP worker: binds the DHCP and PXE sockets, receives batches,
//! hands each datagram to the engine and sends what needs no disk; what
//! does goes to the lease writer.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::string::String;
use std::sync::Arc;
use std::time::Duration;
use std::vec::Vec;
use std::{format, vec};

use pxe_engine::dhcp::addressing::{CLIENT_PORT, Destination, SERVER_PORT};
use pxe_engine::dhcp::{Event, EventSink, Outcome, Output, RxInfo, Sockets};
use pxe_rules::Config;
use tokio::sync::watch;

use crate::driver::clock::unix_now;
use crate::driver::dhcp6::{Dhcp6Socket, bind_dhcp6, dhcp6_worker, ra_loop};
use crate::driver::engine::{SharedEngine, lock};
use crate::driver::journeys::{Journeys, now_ms};
use crate::driver::lease_writer::{Exchange, Job, Pending, Route, lease_writer, send_later};
use crate::driver::neigh::Neighbours;
use crate::driver::net::{IfaceInfo, PktSocket, RecvMeta, interfaces};
use crate::driver::options::RunOptions;
use crate::driver::store::{Store, StoreError};

/// Why the DHCP service could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum DhcpError {
    /// A DHCP or PXE boot server socket could not be bound.
    #[error("UDP port {port}{}: {source}", OnInterface(.interface.as_deref()))]
    Bind {
        /// The UDP port.
        port: u16,
        /// The interface it was bound to (`interface=`), if any.
        interface: Option<String>,
        /// The OS error.
        source: io::Error,
    },
    /// The lease writer thread could not be started.
    #[error("lease writer thread: {0}")]
    WriterThread(#[source] io::Error),
    /// The lease store could not be written (the log: or compacted): the
    /// writer stopped (replies waiting for it were withheld).
    #[error(transparent)]
    Lease(#[from] StoreError),
}

/// ` on IFACE` after a port, or nothing.
struct OnInterface<'a>(Option<&'a str>);

impl fmt::Display for OnInterface<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(i) => write!(f, " on {i}"),
            None => Ok(()),
        }
    }
}

/// The sockets of the DHCP service, with what each is for.
pub(crate) struct DhcpSockets {
    socks: Vec<PktSocket>,
    /// The DHCPv6 socket, when some IPv6 range asks for it.
    v6: Option<Dhcp6Socket>,
    /// Router advertisements (`enable-ra` with an IPv6 range).
    ra: bool,
}

/// Binds the sockets the DHCP service listens on — those the engine
/// `needed`, on the ports of `opts` — one per port, on every `interface=`
/// (or one wildcard socket per port without any).
pub(crate) fn bind_dhcp(
    config: &Config,
    opts: &RunOptions,
    needed: Sockets,
) -> Result<DhcpSockets, DhcpError> {
    let ports = [(needed.dhcp, opts.dhcp_port), (needed.pxe, opts.pxe_port)]
        .into_iter()
        .filter_map(|(on, port)| on.then_some(port));
    let ifs = &config.settings.interfaces;
    let mut socks = Vec::new();
    for port in ports {
        let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
        if ifs.is_empty() {
            socks.push(
                PktSocket::bind(any, None).map_err(|source| DhcpError::Bind {
                    port,
                    interface: None,
                    source,
                })?,
            );
        } else {
            for i in ifs {
                socks.push(
                    PktSocket::bind(any, Some(i)).map_err(|source| DhcpError::Bind {
                        port,
                        interface: Some(i.clone()),
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
    let v6 = if needed.dhcp6 {
        Some(
            bind_dhcp6(config, opts.dhcp6_port).map_err(|source| DhcpError::Bind {
                port: opts.dhcp6_port,
                interface: None,
                source,
            })?,
        )
    } else {
        None
    };
    Ok(DhcpSockets {
        socks,
        v6,
        ra: needed.dhcp6 && config.settings.enable_ra,
    })
}

/// The engine's events as `tracing` log lines (INFO): one summary line per
/// event; with `log-dhcp` (when INFO is on) also the lines dnsmasq logs for
/// the same exchange, one log event each, and the rule trace.
struct LogEvents {
    /// INFO is on: the engine computes the rule trace (with `log-dhcp`).
    trace: bool,
    /// `log-dhcp`: dnsmasq's lines too.
    log_dhcp: bool,
}

impl EventSink for LogEvents {
    fn event(&mut self, e: &Event<'_>) {
        tracing::info!("{e}");
        if self.trace && self.log_dhcp {
            // Only with log-dhcp: one String per exchange is the price of
            // logging dnsmasq's lines as separate log events.
            let lines = e.dnsmasq_lines().to_string();
            for line in lines.lines() {
                tracing::info!("{line}");
            }
        }
    }
    fn wants_trace(&self) -> bool {
        self.trace
    }
}

/// Room for one reply (the engine never builds more than an Ethernet MTU).
const REPLY_MAX: usize = 1500;

/// Datagrams received per wake-up (and handled under one engine lock).
const BATCH: usize = 64;

/// Runs the DHCP service until `stop` turns `true`: one worker per socket
/// and the lease writer thread; ends with the writer's error, if it
/// stopped on one. With `journeys`, every event of the engine is also
/// recorded in its machine's boot journey.
pub(crate) async fn dhcp_loop(
    engine: SharedEngine,
    store: Store,
    socks: DhcpSockets,
    stop: watch::Receiver<bool>,
    journeys: Option<Arc<Journeys>>,
) -> Result<(), DhcpError> {
    let DhcpSockets {
        socks,
        v6: sock6,
        ra,
    } = socks;
    let socks: Vec<Arc<PktSocket>> = socks.into_iter().map(Arc::new).collect();
    let (job_tx, job_rx) = std::sync::mpsc::channel::<Job>();
    let writer = {
        let socks = socks.clone();
        let engine = engine.clone();
        let rt = tokio::runtime::Handle::current();
        std::thread::Builder::new()
            .name(String::from("lease-writer"))
            .spawn(move || lease_writer(job_rx, store, socks, engine, rt))
            .map_err(DhcpError::WriterThread)?
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
            journeys.clone(),
        )));
    }
    if let Some(s6) = sock6 {
        workers.push(tokio::spawn(dhcp6_worker(
            s6,
            engine.clone(),
            job_tx.clone(),
            stop.clone(),
        )));
    }
    if ra {
        workers.push(tokio::spawn(ra_loop(engine.clone(), stop.clone())));
    }
    drop(job_tx);
    for w in workers {
        let _ = w.await;
    }
    match tokio::task::spawn_blocking(move || writer.join()).await {
        Ok(Ok(r)) => Ok(r?),
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

/// Where a reply of the engine's [`Destination`] is sent: a unicast to a
/// client without an address goes to `yiaddr` once its neighbour entry is
/// written on the arrival interface, and is broadcast when it cannot be
/// (not Ethernet, no `CAP_NET_ADMIN`: RFC 2131 allows both).
fn socket_dest(
    dest: Destination,
    ifindex: u32,
    neighbours: &mut Option<Neighbours>,
) -> SocketAddrV4 {
    let broadcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT);
    match dest {
        Destination::Broadcast => broadcast,
        Destination::Unicast(a) => a,
        Destination::UnicastHw { addr, hw } => {
            let Some(n) = neighbours.as_mut() else {
                return broadcast;
            };
            match n.set(ifindex, addr, hw.htype(), hw.as_bytes()) {
                Ok(()) => SocketAddrV4::new(addr, CLIENT_PORT),
                Err(e) => {
                    tracing::debug!("reply to {addr} ({hw}) broadcast: {e}");
                    broadcast
                }
            }
        }
    }
}

/// One socket's worker: receives a batch, hands it to the engine under its
/// lock, sends what needs no disk and queues the rest for the writer.
async fn dhcp_worker(
    k: usize,
    socks: Vec<Arc<PktSocket>>,
    engine: SharedEngine,
    job_tx: std::sync::mpsc::Sender<Job>,
    mut stop: watch::Receiver<bool>,
    journeys: Option<Arc<Journeys>>,
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
    let mut neighbours = Neighbours::open()
        .inspect_err(|e| {
            tracing::warn!("no netlink socket for neighbour entries ({e}): unicast replies to clients without an address are broadcast");
        })
        .ok();
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
        let received_at = tokio::time::Instant::now();
        {
            // One job for the whole batch: its changes are synced together
            // and none of its replies leaves before that.
            let mut job: Option<Job> = None;
            let mut e = lock(&engine);
            let mut log_events = LogEvents {
                trace: tracing::enabled!(tracing::Level::INFO),
                log_dhcp: e.config().settings.log_dhcp,
            };
            // Journeys are locked after the engine (the order everywhere).
            let mut store = journeys.as_ref().map(|j| j.lock());
            let config = e.config().clone();
            let now_ms = now_ms();
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
                // Changes to persist go to the batch's job, and then so
                // does the reply that announces them.
                let mut journey_sink;
                let events: &mut dyn EventSink = match store.as_deref_mut() {
                    Some(s) => {
                        journey_sink = s.sink(now_ms, &config).forward_to(&mut log_events);
                        &mut journey_sink
                    }
                    None => &mut log_events,
                };
                let (outcome, persist) =
                    match e.handle(now, &rx_info, &data[..len], &mut buf, events) {
                        Output::Ready(o) => (o, false),
                        Output::Persist(p) => {
                            let j = job.get_or_insert_with(|| {
                                spare_jobs.pop().unwrap_or_else(|| Job {
                                    changes: Vec::new(),
                                    exchanges: Vec::new(),
                                    replies: Vec::new(),
                                    done: done_tx.clone(),
                                })
                            });
                            let owner = p.owner();
                            let outcome = p.hand_over(&mut j.changes);
                            j.exchanges.push(Exchange::of(owner, j.changes.len()));
                            (outcome, true)
                        }
                    };
                let Outcome::Reply(reply) = outcome else {
                    spare_bufs.push(buf);
                    continue;
                };
                let delay = reply.not_before.saturating_sub(now);
                let p = Pending {
                    route: Route::V4 {
                        sock: k,
                        dest: socket_dest(reply.dest, meta.ifindex, &mut neighbours),
                        ifindex: meta.ifindex,
                        src: iface.addr,
                    },
                    len: reply.len,
                    buf,
                    // `checked_add` cannot fail for a delay of at most
                    // u32::MAX seconds on a 64-bit clock; it only keeps a
                    // configured value from ever panicking here.
                    send_at: (delay > 0).then(|| {
                        received_at
                            .checked_add(Duration::from_secs(delay))
                            .unwrap_or(received_at)
                    }),
                    withheld: false,
                };
                match job.as_mut() {
                    Some(j) if persist => {
                        if let Some(x) = j.exchanges.last_mut() {
                            x.reply = Some(j.replies.len());
                        }
                        j.replies.push(p);
                    }
                    // Nothing to persist (OFFER, NAK, proxy, 4011): send
                    // now, or after `dhcp-reply-delay`.
                    _ if p.send_at.is_some() => {
                        send_later(&tokio::runtime::Handle::current(), sock.clone(), p);
                    }
                    _ => out.push(p),
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
            if let Route::V4 {
                dest, ifindex, src, ..
            } = &p.route
                && let Err(err) = sock
                    .send(&p.buf[..p.len], *dest, *ifindex, Some(*src))
                    .await
            {
                tracing::warn!("DHCP send to {dest} failed: {err}");
            }
        }
        spare_bufs.extend(out.drain(..).map(|p| p.buf));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_socket_that_cannot_be_bound_names_port_and_interface() {
        let config = Config::parse_str(
            "dhcp-range=10.0.0.10,10.0.0.50\ninterface=nonexistent0\n",
            "t.conf",
        )
        .unwrap();
        let opts = RunOptions {
            dhcp_port: 0,
            ..RunOptions::default()
        };
        let Err(e) = bind_dhcp(&config, &opts, Sockets::for_config(&config)) else {
            panic!("bound to an interface that does not exist");
        };
        assert!(
            matches!(&e, DhcpError::Bind { port: 0, interface: Some(i), .. } if i == "nonexistent0"),
            "{e:?}"
        );
        assert!(
            e.to_string().starts_with("UDP port 0 on nonexistent0: "),
            "{e}"
        );
    }

    #[test]
    fn a_bind_error_without_interface_names_the_port_only() {
        let e = DhcpError::Bind {
            port: 67,
            interface: None,
            source: io::Error::from(io::ErrorKind::AddrInUse),
        };
        assert!(e.to_string().starts_with("UDP port 67: "), "{e}");
    }
}
