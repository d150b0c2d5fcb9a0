//! The TFTP part of the driver: the request socket on port 69 and a pool
//! of transfer sockets (one per `tftp-max` slot, buffers preallocated)
//! around a [`pxe_tftp::server::Endpoint`]. Every datagram, on port 69 or
//! on a transfer's port, goes through the endpoint, which admits, picks
//! ports, routes, answers strangers and counts; this module binds and
//! closes sockets and moves bytes.

use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use pxe_tftp::server::{
    Admission, Counters, Ended, Endpoint, EndpointConfig, Event, Failure, FileRefusal, FileRequest,
    Files, Handled, Local, Name, Opened, Outcome, PortChoice, RequestErrors, TransferPorts,
    Transmit, climbs_out,
};
use pxe_tftp::{Instant as TftpInstant, TransferConfig};
use smoltcp::iface::{Interface, SocketHandle, SocketSet};
use smoltcp::socket::udp;
use smoltcp::time::Instant;
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint};

use crate::{Settings, StartError, Stats, TFTP_PORT, local_cidr, next_datagram, udp_socket, v4};

/// Files in memory: a table of `(name, contents)`. Names match exactly
/// after leading `/` are removed from the request (as dnsmasq does
/// relative to `tftp-root`); a name with a `..` component is an access
/// violation (ERROR 2), anything else missing is "file not found"
/// (ERROR 1).
#[derive(Clone, Copy, Debug)]
pub struct MemoryFiles<'a> {
    files: &'a [(&'a str, &'a [u8])],
}

impl<'a> MemoryFiles<'a> {
    /// Serve these files.
    pub const fn new(files: &'a [(&'a str, &'a [u8])]) -> Self {
        MemoryFiles { files }
    }
}

impl<'a> Files for MemoryFiles<'a> {
    type Source = &'a [u8];
    type Refusal = FileRefusal;
    fn open(&mut self, request: &FileRequest<'_>) -> Result<Opened<&'a [u8]>, FileRefusal> {
        if climbs_out(request.name) {
            return Err(FileRefusal::AccessDenied);
        }
        let mut n = request.name;
        while let [b'/', rest @ ..] = n {
            n = rest;
        }
        self.files
            .iter()
            .find(|(k, _)| k.as_bytes() == n)
            .map(|(_, v)| Opened::new(*v))
            .ok_or(FileRefusal::NotFound)
    }
}

/// A transfer socket of the pool.
#[derive(Debug)]
struct TidSocket {
    handle: SocketHandle,
    /// The port it is bound to, while a transfer runs or its last
    /// datagrams leave.
    port: Option<u16>,
    /// Ended, waiting for its last datagrams to leave before closing.
    draining: bool,
}

/// The TFTP service of a [`Server`](crate::Server).
pub(crate) struct Tftp<F: Files> {
    endpoint: Endpoint<F>,
    request: Option<SocketHandle>,
    pool: Vec<TidSocket>,
    /// The largest datagram a transfer sends: a DATA block of the blksize
    /// limit, or an OACK or ERROR (up to 128 bytes).
    max_datagram: usize,
}

/// The largest datagram a transfer under `settings` sends (the scratch
/// buffers and each socket's transmit slots hold this much).
pub(crate) fn max_datagram(settings: &Settings) -> usize {
    (usize::from(settings.limits().max_blksize) + 4).max(128)
}

/// smoltcp's clock in the endpoint's terms.
pub(crate) fn tftp_now(now: Instant) -> TftpInstant {
    TftpInstant::from_micros(u64::try_from(now.total_micros()).unwrap_or(0))
}

fn socket_addr(e: IpEndpoint) -> Option<SocketAddr> {
    Some(SocketAddr::new(IpAddr::V4(v4(e.addr)?), e.port))
}

fn ip_endpoint(a: SocketAddr) -> Option<IpEndpoint> {
    match a.ip() {
        IpAddr::V4(ip) => Some(IpEndpoint::new(IpAddress::Ipv4(ip), a.port())),
        IpAddr::V6(_) => None,
    }
}

/// Whether `sock` can take one more datagram of up to `max` bytes: a free
/// metadata slot and at least `2 * max` free payload bytes (then a
/// contiguous run of `max` exists whatever the ring's wrap point).
fn room_for(sock: &udp::Socket<'_>, max: usize) -> bool {
    sock.can_send()
        && sock
            .payload_send_capacity()
            .saturating_sub(sock.send_queue())
            >= 2 * max
}

impl<F: Files> Tftp<F> {
    /// The request socket and the pool (none when TFTP is off), with all
    /// their buffers.
    /// Refuses a TID port range that leaves 1..=65535 or cannot hold a
    /// port per slot.
    pub(crate) fn check_tid_range(settings: &Settings) -> Result<(), StartError> {
        let slots = Self::slots(settings);
        let (base, count) = (settings.tid_port_base, settings.tid_port_count);
        let end = u32::from(base) + u32::from(count);
        if slots > 0 && (base == 0 || end > 65536 || usize::from(count) < slots) {
            return Err(StartError::TidRange { base, count, slots });
        }
        Ok(())
    }

    fn slots(settings: &Settings) -> usize {
        if settings.tftp {
            settings.max_transfers
        } else {
            0
        }
    }

    pub(crate) fn new(
        settings: &Settings,
        files: F,
        sockets: &mut SocketSet<'_>,
    ) -> Result<Self, StartError> {
        Self::check_tid_range(settings)?;
        let slots = Self::slots(settings);
        let base = settings.tid_port_base;
        let end = u32::from(base) + u32::from(settings.tid_port_count);
        let limits = settings.limits();
        let max_datagram = max_datagram(settings);
        let config = EndpointConfig {
            request_port: TFTP_PORT,
            max_transfers: slots,
            ports: TransferPorts::Range {
                first: base,
                last: u16::try_from(end.saturating_sub(1)).unwrap_or(u16::MAX),
            },
            limits,
            mtu_cap: None,
            transfer: TransferConfig::default(),
            // A board has no one-off sockets: refusals leave from port 69.
            request_errors: RequestErrors::FromRequestPort,
            // smoltcp queues one datagram per send.
            max_segments: 1,
        };
        let request = if slots > 0 {
            let mut s = udp_socket(4, 2048, 2, 1024);
            s.bind(TFTP_PORT).map_err(|_| StartError::Bind(TFTP_PORT))?;
            Some(sockets.add(s))
        } else {
            None
        };
        let window = usize::from(limits.max_windowsize);
        let pool = (0..slots)
            .map(|_| {
                // Room for a whole window plus the two datagrams of slack
                // that `room_for` needs to guarantee a contiguous slot.
                let s = udp_socket(4, 1024, window + 2, (window + 2) * max_datagram);
                TidSocket {
                    handle: sockets.add(s),
                    port: None,
                    draining: false,
                }
            })
            .collect();
        Ok(Tftp {
            endpoint: Endpoint::new(config, files),
            request,
            pool,
            max_datagram,
        })
    }

    /// The endpoint's counters.
    pub(crate) fn counters(&self) -> Counters {
        self.endpoint.counters()
    }

    /// Transfers running.
    pub(crate) fn active(&self) -> usize {
        self.endpoint.active()
    }

    /// The next retransmission deadline.
    pub(crate) fn poll_timeout(&self) -> Option<TftpInstant> {
        self.endpoint.poll_timeout()
    }

    /// Closes the sockets whose last datagrams have left, so this round's
    /// requests can use them.
    pub(crate) fn release_drained(&mut self, sockets: &mut SocketSet<'_>) {
        for ts in &mut self.pool {
            let sock = sockets.get_mut::<udp::Socket>(ts.handle);
            if ts.draining && sock.send_queue() == 0 {
                sock.close();
                ts.draining = false;
                ts.port = None;
            }
        }
    }

    /// Handles requests, then every transfer's datagrams and timers, and
    /// queues what is to be sent. `rx` and `tx` are the server's scratch
    /// buffers. Returns whether anything was received or queued.
    pub(crate) fn poll(
        &mut self,
        now: Instant,
        iface: &Interface,
        sockets: &mut SocketSet<'_>,
        bufs: (&mut [u8], &mut [u8]),
        stats: &mut Stats,
        log: &mut dyn FnMut(fmt::Arguments<'_>),
    ) -> bool {
        let (rx, tx) = bufs;
        let t_now = tftp_now(now);
        // Transfers first: a client's last word to its transfer (a size
        // probe's ERROR 8) ends it before its next request is judged.
        let mut busy = self.receive_on_transfer_ports(t_now, sockets, rx, tx, stats);
        busy |= self.serve_requests(t_now, iface, sockets, rx, tx, stats, log);
        self.endpoint.handle_timeout(t_now);
        busy |= self.transmit(t_now, sockets, tx, stats);
        self.take_events(sockets, log);
        busy
    }

    #[allow(clippy::too_many_arguments)]
    fn serve_requests(
        &mut self,
        now: TftpInstant,
        iface: &Interface,
        sockets: &mut SocketSet<'_>,
        rx: &mut [u8],
        tx: &mut [u8],
        stats: &mut Stats,
        log: &mut dyn FnMut(fmt::Arguments<'_>),
    ) -> bool {
        let Some(h) = self.request else {
            return false;
        };
        let mut busy = false;
        while let Some(r) = next_datagram(sockets.get_mut::<udp::Socket>(h), rx) {
            busy = true;
            let Some((n, meta)) = r else {
                stats.oversized += 1;
                continue;
            };
            let Some(peer) = socket_addr(meta.endpoint) else {
                continue;
            };
            let local_ip = meta
                .local_address
                .and_then(v4)
                .and_then(|l| local_cidr(iface, Some(l)))
                .or_else(|| local_cidr(iface, None))
                .map_or(Ipv4Addr::UNSPECIFIED, |(a, _)| a);
            let local = Local {
                addr: IpAddr::V4(local_ip),
                port: TFTP_PORT,
                interface: 0,
            };
            let reply = match self.endpoint.handle(now, peer, local, &rx[..n], tx) {
                Handled::Rejected { rejection, reply } => {
                    log(format_args!(
                        "TFTP refused request from {peer}: {rejection}"
                    ));
                    reply
                }
                Handled::Refused {
                    name,
                    refusal,
                    reply,
                } => {
                    log(format_args!(
                        "TFTP refused {:?} for {peer}: {refusal}",
                        Name(name)
                    ));
                    reply
                }
                Handled::Busy { max, .. } => {
                    log(format_args!(
                        "TFTP {peer}: {max} transfers running (tftp-max), dropping request"
                    ));
                    None
                }
                Handled::Foreign { reply } => reply,
                Handled::Admitted(admission) => {
                    // A replaced transfer's socket is released first, so
                    // its slot can take the new request.
                    self.take_events(sockets, log);
                    self.release_drained(sockets);
                    self.bind(admission, local_ip, sockets, log);
                    None
                }
                Handled::Delivered
                | Handled::Duplicate
                | Handled::Unroutable
                | Handled::Started { .. } => None,
            };
            if let Some(t) = reply {
                send(sockets.get_mut::<udp::Socket>(h), &t, tx, stats);
            }
        }
        busy
    }

    /// Binds a free socket of the pool to a port the endpoint offers and
    /// opens the transfer there.
    fn bind(
        &mut self,
        admission: Admission<'_, F::Source>,
        local: Ipv4Addr,
        sockets: &mut SocketSet<'_>,
        log: &mut dyn FnMut(fmt::Arguments<'_>),
    ) {
        let peer = admission.peer();
        let name = admission.name();
        let free = self
            .pool
            .iter()
            .position(|t| t.port.is_none() && !t.draining);
        let taken = |p: u16| self.pool.iter().any(|t| t.port == Some(p));
        let port = admission.ports().find_map(|c| match c {
            PortChoice::Port(p) if !taken(p) => Some(p),
            _ => None,
        });
        let (Some(i), Some(port)) = (free, port) else {
            let why = self.endpoint.not_started(admission);
            log(format_args!("TFTP {peer}: cannot start a transfer: {why}"));
            return;
        };
        let ts = &mut self.pool[i];
        let sock = sockets.get_mut::<udp::Socket>(ts.handle);
        let ep = IpListenEndpoint {
            addr: (!local.is_unspecified()).then_some(IpAddress::Ipv4(local)),
            port,
        };
        if sock.bind(ep).is_err() {
            let why = self.endpoint.not_started(admission);
            log(format_args!("TFTP {peer}: cannot bind port {port}: {why}"));
            return;
        }
        log(format_args!(
            "TFTP sending {:?} to {peer} from port {port}",
            Name(name)
        ));
        match self.endpoint.open(admission, port) {
            Ok(_) => ts.port = Some(port),
            Err(why) => {
                sock.close();
                log(format_args!("TFTP {peer}: cannot start a transfer: {why}"));
            }
        }
    }

    fn receive_on_transfer_ports(
        &mut self,
        now: TftpInstant,
        sockets: &mut SocketSet<'_>,
        rx: &mut [u8],
        tx: &mut [u8],
        stats: &mut Stats,
    ) -> bool {
        let mut busy = false;
        for ts in &self.pool {
            let (Some(port), false) = (ts.port, ts.draining) else {
                continue;
            };
            let sock = sockets.get_mut::<udp::Socket>(ts.handle);
            while let Some(r) = next_datagram(sock, rx) {
                busy = true;
                let Some((n, meta)) = r else {
                    stats.oversized += 1;
                    continue;
                };
                let Some(peer) = socket_addr(meta.endpoint) else {
                    continue;
                };
                let local = Local {
                    addr: meta
                        .local_address
                        .and_then(v4)
                        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), IpAddr::V4),
                    port,
                    interface: 0,
                };
                if let Handled::Foreign { reply: Some(t) } =
                    self.endpoint.handle(now, peer, local, &rx[..n], tx)
                {
                    send(sock, &t, tx, stats);
                }
            }
        }
        busy
    }

    fn transmit(
        &mut self,
        now: TftpInstant,
        sockets: &mut SocketSet<'_>,
        tx: &mut [u8],
        stats: &mut Stats,
    ) -> bool {
        let mut busy = false;
        let max = self.max_datagram.min(tx.len());
        for ts in &self.pool {
            let (Some(port), false) = (ts.port, ts.draining) else {
                continue;
            };
            let sock = sockets.get_mut::<udp::Socket>(ts.handle);
            while room_for(sock, max) {
                let Some(t) = self.endpoint.poll_transmit_on(now, port, &mut tx[..max]) else {
                    break;
                };
                busy = true;
                send(sock, &t, tx, stats);
            }
        }
        busy
    }

    /// Logs ended transfers and lets their sockets drain.
    fn take_events(
        &mut self,
        sockets: &mut SocketSet<'_>,
        log: &mut dyn FnMut(fmt::Arguments<'_>),
    ) {
        while let Some(event) = self.endpoint.poll_event() {
            // Every transfer here is driven by the endpoint: no Cancel.
            let Event::Ended(ended) = event else {
                continue;
            };
            log_end(&ended, log);
            let port = ended.transfer.local().port;
            if let Some(ts) = self
                .pool
                .iter_mut()
                .find(|t| t.port == Some(port) && !t.draining)
            {
                let sock = sockets.get_mut::<udp::Socket>(ts.handle);
                if sock.send_queue() == 0 {
                    sock.close();
                    ts.port = None;
                } else {
                    ts.draining = true;
                }
            }
        }
    }
}

/// Queues what the endpoint wrote into `buf` on `sock`.
fn send(sock: &mut udp::Socket<'_>, t: &Transmit, buf: &[u8], stats: &mut Stats) {
    let Some(to) = ip_endpoint(t.destination) else {
        return;
    };
    for d in t.datagrams(buf) {
        if sock.send_slice(d, to).is_err() {
            stats.send_failures += 1;
        }
    }
}

fn log_end<S: pxe_tftp::DataSource>(ended: &Ended<S>, log: &mut dyn FnMut(fmt::Arguments<'_>)) {
    let t = &ended.transfer;
    let peer = t.peer();
    match ended.outcome {
        Outcome::Completed => log(format_args!(
            "TFTP sent {} bytes to {peer}",
            t.stats().bytes
        )),
        Outcome::SizeProbe => log(format_args!(
            "TFTP {peer}: size probe (OACK answered with ERROR)"
        )),
        Outcome::Failed(Failure::Superseded) => {
            log(format_args!(
                "TFTP {peer}: transfer replaced by a new request"
            ));
        }
        Outcome::Failed(why) => match t.state().error() {
            Some(e) => log(format_args!("TFTP transfer to {peer} failed: {e}")),
            None => log(format_args!("TFTP transfer to {peer} failed: {why}")),
        },
    }
}
