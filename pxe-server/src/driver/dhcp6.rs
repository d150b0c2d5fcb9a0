//! The DHCPv6 driver: one UDP socket on `[::]:547` joined to ff02::1:2 on
//! every served interface, handing datagrams to the engine's
//! [`Engine::handle6`](pxe_engine::Engine::handle6) (leases through the same
//! lease writer as DHCPv4), and the router advertisements the engine writes
//! for `enable-ra`, sent from a raw ICMPv6 socket: unsolicited ones to
//! ff02::1 at start and every interval, and an answer to each router
//! solicitation.

use std::io;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::string::String;
use std::sync::Arc;
use std::time::Duration;
use std::vec;
use std::vec::Vec;

use pxe_engine::dhcp::Output;
use pxe_engine::dhcp::v6::{ALL_NODES, ALL_SERVERS, Event6, Outcome6, RxInfo6, server_duid_for};
use pxe_rules::Config;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::sync::watch;

use crate::driver::clock::unix_now;
use crate::driver::engine::{SharedEngine, lock};
use crate::driver::lease_writer::{Exchange, Job, Pending, Route};
use crate::driver::net::mtu_of;

/// One interface as DHCPv6 sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iface6 {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Its global (or ULA) addresses, in the order the kernel lists them.
    pub addrs: Vec<Ipv6Addr>,
    /// Its Ethernet address, if it has one.
    pub mac: Option<[u8; 6]>,
    /// Its MTU.
    pub mtu: u16,
}

/// The all-routers group router solicitations are sent to.
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

/// Whether an address can name a link to DHCPv6 (not link-local, not
/// loopback, not multicast).
fn routable(a: &Ipv6Addr) -> bool {
    !a.is_loopback()
        && !a.is_multicast()
        && !a.is_unspecified()
        && (a.segments()[0] & 0xffc0) != 0xfe80
}

/// Every interface with its IPv6 addresses and MAC.
pub fn interfaces6() -> io::Result<Vec<Iface6>> {
    let mut out: Vec<Iface6> = Vec::new();
    for ifa in nix::ifaddrs::getifaddrs().map_err(io::Error::from)? {
        let name = ifa.interface_name.clone();
        let pos = match out.iter().position(|i| i.name == name) {
            Some(p) => p,
            None => {
                out.push(Iface6 {
                    index: nix::net::if_::if_nametoindex(name.as_str()).unwrap_or(0),
                    mtu: mtu_of(&name).unwrap_or(1500),
                    name,
                    addrs: Vec::new(),
                    mac: None,
                });
                out.len() - 1
            }
        };
        let Some(addr) = ifa.address.as_ref() else {
            continue;
        };
        if let Some(a6) = addr.as_sockaddr_in6() {
            let ip = a6.ip();
            if routable(&ip) && !out[pos].addrs.contains(&ip) {
                out[pos].addrs.push(ip);
            }
        } else if let Some(l) = addr.as_link_addr()
            && let Some(m) = l.addr()
            && m != [0; 6]
        {
            out[pos].mac = Some(m);
        }
    }
    Ok(out)
}

/// The interfaces DHCPv6 serves: `interface=` if given (else every one
/// but loopback), less `except-interface=` and `no-dhcp-interface=`.
fn served<'i>(config: &'i Config, ifaces: &'i [Iface6]) -> impl Iterator<Item = &'i Iface6> + 'i {
    let s = &config.settings;
    ifaces.iter().filter(move |i| {
        i.name != "lo"
            && (s.interfaces.is_empty() || s.interfaces.contains(&i.name))
            && !s.except_interfaces.contains(&i.name)
            && !s.no_dhcp_interfaces.contains(&i.name)
    })
}

/// The address that names `iface`'s link: the first one some IPv6 range
/// covers, else the first.
fn link_address(config: &Config, iface: &Iface6) -> Option<Ipv6Addr> {
    iface
        .addrs
        .iter()
        .find(|a| config.ranges6().any(|(_, r)| r.on_network(**a).is_some()))
        .or(iface.addrs.first())
        .copied()
}

/// The DHCPv6 socket.
#[derive(Debug)]
pub(crate) struct Dhcp6Socket {
    pub(crate) sock: Arc<tokio::net::UdpSocket>,
}

/// Binds `[::]:port` (IPv6 only) and joins ff02::1:2 on every served
/// interface. Must be called inside a tokio runtime.
pub(crate) fn bind_dhcp6(config: &Config, port: u16) -> io::Result<Dhcp6Socket> {
    let s = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_only_v6(true)?;
    s.set_reuse_address(true)?;
    let _ = s.set_recv_buffer_size(4 << 20);
    s.set_nonblocking(true)?;
    let any = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0));
    s.bind(&any.into())
        .map_err(|e| io::Error::new(e.kind(), std::format!("bind [::]:{port}: {e}")))?;
    let ifaces = interfaces6()?;
    let mut joined = Vec::new();
    for i in served(config, &ifaces) {
        match s.join_multicast_v6(&ALL_SERVERS, i.index) {
            Ok(()) => joined.push(i.name.as_str()),
            Err(e) => tracing::warn!("DHCPv6: cannot join ff02::1:2 on {}: {e}", i.name),
        }
    }
    tracing::info!(
        "DHCPv6 listening on UDP {port}, ff02::1:2 on {}",
        joined.join(", ")
    );
    let std_sock: std::net::UdpSocket = s.into();
    Ok(Dhcp6Socket {
        sock: Arc::new(tokio::net::UdpSocket::from_std(std_sock)?),
    })
}

/// The server DUID: a DUID-LL of the first served interface's MAC.
pub(crate) fn server_duid(config: &Config) -> Vec<u8> {
    let ifaces = interfaces6().unwrap_or_default();
    let mac = served(config, &ifaces)
        .find_map(|i| i.mac)
        .unwrap_or([0; 6]);
    server_duid_for(mac)
}

fn log_event(e: &Event6<'_>) {
    tracing::info!("{e}");
}

/// Receives DHCPv6 datagrams until `stop`: replies that need no disk
/// leave at once, the others go to the lease writer with their changes.
pub(crate) async fn dhcp6_worker(
    sock: Dhcp6Socket,
    engine: SharedEngine,
    job_tx: std::sync::mpsc::Sender<Job>,
    mut stop: watch::Receiver<bool>,
) {
    let sock = sock.sock;
    let mut buf = vec![0u8; 2048];
    let (done_tx, done_rx) = std::sync::mpsc::channel::<Job>();
    let mut ifaces = interfaces6().unwrap_or_default();
    let mut ifaces_at = std::time::Instant::now();
    loop {
        let (len, src) = tokio::select! {
            _ = stop.changed() => break,
            r = sock.recv_from(&mut buf) => match r {
                Ok((n, SocketAddr::V6(src))) => (n, src),
                Ok(_) => continue,
                Err(e) => {
                    tracing::debug!("DHCPv6 receive error: {e}");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
        };
        while done_rx.try_recv().is_ok() {}
        if ifaces_at.elapsed() > Duration::from_secs(5)
            || !ifaces.iter().any(|i| i.index == src.scope_id())
        {
            ifaces = interfaces6().unwrap_or_default();
            ifaces_at = std::time::Instant::now();
        }
        let mut out = vec![0u8; 1500];
        let pending = {
            let mut e = lock(&engine);
            let config = e.config().clone();
            // A client on the link sends from its link-local address (the
            // scope id names the interface); a relay from a routable one.
            let iface = match src.scope_id() {
                0 => served(&config, &ifaces).find(|i| !i.addrs.is_empty()),
                k => served(&config, &ifaces).find(|i| i.index == k),
            };
            let Some(iface) = iface else {
                tracing::debug!("DHCPv6 packet from {src} on an interface not served");
                continue;
            };
            let Some(local) = link_address(&config, iface) else {
                tracing::debug!(
                    "DHCPv6 packet on {} which has no global address",
                    iface.name
                );
                continue;
            };
            let rx = RxInfo6 {
                src,
                iface: &iface.name,
                local,
            };
            let mut sink = log_event;
            match e.handle6(unix_now(), &rx, &buf[..len], &mut out, &mut sink) {
                Output::Ready(Outcome6::Reply(r)) => Some((r, None)),
                Output::Ready(Outcome6::Dropped(_)) => None,
                Output::Persist(p) => {
                    let owner = p.owner();
                    let mut job = Job {
                        changes: Vec::new(),
                        exchanges: Vec::new(),
                        replies: Vec::new(),
                        done: done_tx.clone(),
                    };
                    let outcome = p.hand_over(&mut job.changes);
                    job.exchanges.push(Exchange::of(owner, job.changes.len()));
                    match outcome {
                        Outcome6::Reply(r) => Some((r, Some(job))),
                        Outcome6::Dropped(_) => {
                            if job_tx.send(job).is_err() {
                                tracing::error!("lease writer stopped");
                            }
                            None
                        }
                    }
                }
            }
        };
        let Some((reply, job)) = pending else {
            continue;
        };
        match job {
            Some(mut j) => {
                if let Some(x) = j.exchanges.last_mut() {
                    x.reply = Some(j.replies.len());
                }
                j.replies.push(Pending {
                    route: Route::V6 {
                        sock: sock.clone(),
                        dest: reply.dest,
                    },
                    len: reply.len,
                    buf: out,
                    send_at: None,
                    withheld: false,
                });
                if job_tx.send(j).is_err() {
                    tracing::error!("lease writer stopped: DHCPv6 reply withheld");
                }
            }
            None => {
                if let Err(e) = sock.send_to(&out[..reply.len], reply.dest).await {
                    tracing::warn!("DHCPv6 send to {} failed: {e}", reply.dest);
                }
            }
        }
    }
}

/// Router advertisements: a raw ICMPv6 socket with hop limit 255; one
/// advertisement per served interface at start, again every interval,
/// and in answer to every router solicitation.
pub(crate) async fn ra_loop(engine: SharedEngine, mut stop: watch::Receiver<bool>) {
    let sock = match ra_socket() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("router advertisements off: raw ICMPv6 socket: {e}");
            return;
        }
    };
    // Router solicitations go to ff02::2, which a host that does not
    // forward has not joined: join it on every served interface, as
    // dnsmasq does.
    {
        let config = lock(&engine).config().clone();
        let ifaces = interfaces6().unwrap_or_default();
        for i in served(&config, &ifaces) {
            if let Err(e) = sock.join_multicast_v6(&ALL_ROUTERS, i.index) {
                tracing::debug!("RA: cannot join ff02::2 on {}: {e}", i.name);
            }
        }
    }
    let mut buf = vec![0u8; 1500];
    // dnsmasq advertises a few times quickly at start, then every interval.
    let mut next = tokio::time::Instant::now();
    let mut burst = 3u32;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep_until(next) => {
                let interval = advertise_all(&engine, &sock, None).await;
                let wait = if burst > 0 { burst -= 1; 4 } else { interval.max(4) };
                next = tokio::time::Instant::now() + Duration::from_secs(u64::from(wait));
            }
            r = sock.recv_from(&mut buf) => {
                if let Ok((n, SocketAddr::V6(from))) = r
                    && n >= 8
                    && buf[0] == 133
                {
                    advertise_all(&engine, &sock, Some(from)).await;
                }
            }
        }
    }
}

/// A raw ICMPv6 socket (through tokio's datagram socket type, which is
/// only readiness and `recvfrom`/`sendto`), hop limit 255.
fn ra_socket() -> io::Result<tokio::net::UdpSocket> {
    let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
    s.set_multicast_hops_v6(255)?;
    s.set_unicast_hops_v6(255)?;
    s.set_multicast_loop_v6(false)?;
    s.set_nonblocking(true)?;
    let std_sock: std::net::UdpSocket = s.into();
    tokio::net::UdpSocket::from_std(std_sock)
}

/// Sends the advertisement of every served interface (or, for a router
/// solicitation from `to`, of its interface, to it); returns the shortest
/// interval.
async fn advertise_all(
    engine: &SharedEngine,
    sock: &tokio::net::UdpSocket,
    to: Option<SocketAddrV6>,
) -> u32 {
    let ifaces = interfaces6().unwrap_or_default();
    let mut interval = 600;
    let mut ras: Vec<(SocketAddrV6, Vec<u8>)> = Vec::new();
    {
        let e = lock(engine);
        let config = e.config().clone();
        let mut buf = [0u8; 1024];
        for i in served(&config, &ifaces) {
            if to.is_some_and(|t| t.scope_id() != 0 && t.scope_id() != i.index) {
                continue;
            }
            let Some(local) = link_address(&config, i) else {
                continue;
            };
            let Some(plan) = e.router_advert_plan(&i.name, local, u32::from(i.mtu)) else {
                continue;
            };
            interval = interval.min(plan.interval);
            let Some(n) = e.router_advert(&i.name, local, i.mac, u32::from(i.mtu), &mut buf) else {
                continue;
            };
            // A solicitation from `::` is answered to all nodes.
            let dest = match to {
                Some(t) if !t.ip().is_unspecified() => SocketAddrV6::new(*t.ip(), 0, 0, i.index),
                _ => SocketAddrV6::new(ALL_NODES, 0, 0, i.index),
            };
            ras.push((dest, buf[..n].to_vec()));
        }
    }
    for (dest, ra) in ras {
        if let Err(err) = socket2::SockRef::from(sock).set_multicast_if_v6(dest.scope_id()) {
            tracing::debug!("RA on interface {}: {err}", dest.scope_id());
            continue;
        }
        if let Err(err) = sock.send_to(&ra, dest).await {
            tracing::debug!("RA to {dest} failed: {err}");
        }
    }
    interval
}
