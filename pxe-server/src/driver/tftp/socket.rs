//! How one transfer reaches its client: its own socket on a fresh port
//! (RFC 1350's new TID; from `tftp-port-range` when set), or, with
//! `tftp-single-port`, the request socket itself, shared by every transfer
//! and told apart by the client's address and port.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::string::String;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use std::vec::Vec;

use std::os::fd::AsRawFd;

use nix::errno::Errno;
use nix::sys::socket::{ControlMessage, MsgFlags, SockaddrIn, sendmsg};
use pxe_tftp::wire::foreign_tid_reply;

use crate::net::{PktSocket, RecvMeta};

/// Datagrams queued for one single-port transfer before newer ones are
/// dropped (the client retransmits).
const INBOX: usize = 64;

/// The single-port transfers by client address: where the request loop
/// hands each datagram that belongs to a running transfer.
/// A registered transfer: its registration number and its inbox.
type Inbox = (u64, SyncSender<Vec<u8>>);

#[derive(Debug, Default)]
pub(super) struct Routes {
    table: Mutex<HashMap<SocketAddrV4, Inbox>>,
    next_id: AtomicU64,
}

impl Routes {
    /// Hands `datagram` from `peer` to its transfer (moved, not copied);
    /// gives it back when it is not one (no transfer runs for `peer`, or it
    /// is a new request). A new request from a peer supersedes the peer's
    /// running transfer, as a client that asks again follows only the
    /// newest answer.
    pub(super) fn deliver(&self, peer: SocketAddrV4, datagram: Vec<u8>) -> Result<(), Vec<u8>> {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let Some((_, inbox)) = table.get(&peer) else {
            return Err(datagram);
        };
        if matches!(datagram.as_slice(), [0, 1 | 2, ..]) {
            table.remove(&peer);
            return Err(datagram);
        }
        match inbox.try_send(datagram) {
            Ok(()) | Err(TrySendError::Full(_)) => Ok(()),
            Err(TrySendError::Disconnected(_)) => {
                table.remove(&peer);
                Ok(())
            }
        }
    }

    fn register(self: &Arc<Self>, peer: SocketAddrV4) -> (Route, Receiver<Vec<u8>>) {
        let (tx, rx) = sync_channel(INBOX);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(peer, (id, tx));
        let route = Route {
            routes: self.clone(),
            peer,
            id,
        };
        (route, rx)
    }
}

/// A registered single-port transfer; unregisters itself when dropped
/// (unless a newer request from the peer replaced it).
#[derive(Debug)]
pub(super) struct Route {
    routes: Arc<Routes>,
    peer: SocketAddrV4,
    id: u64,
}

impl Drop for Route {
    fn drop(&mut self) {
        let mut table = self.routes.table.lock().unwrap_or_else(|p| p.into_inner());
        if table.get(&self.peer).is_some_and(|(id, _)| *id == self.id) {
            table.remove(&self.peer);
        }
    }
}

/// Chooses transfer ports in `tftp-port-range` round robin, so a port
/// just closed is not the first one tried again.
#[derive(Debug, Default)]
pub(super) struct PortPicker {
    next: AtomicU32,
}

impl PortPicker {
    /// A socket on `local` with a free port of `first..=last`.
    fn bind(&self, local: Ipv4Addr, first: u16, last: u16) -> io::Result<UdpSocket> {
        let (first, last) = (u32::from(first.min(last)), u32::from(first.max(last)));
        let count = last - first + 1;
        let start = self.next.fetch_add(1, Ordering::Relaxed) % count;
        for i in 0..count {
            let port = u16::try_from(first + (start + i) % count).unwrap_or(0);
            if let Ok(s) = UdpSocket::bind(SocketAddrV4::new(local, port)) {
                return Ok(s);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            std::format!("no free port in tftp-port-range {first}-{last}"),
        ))
    }
}

/// What a transfer about to start may use.
#[derive(Debug)]
pub(super) struct LinkPlan<'a> {
    /// `tftp-single-port`: the socket the request came in on, and the
    /// routes to register with.
    pub(super) single_port: Option<(Arc<PktSocket>, Arc<Routes>)>,
    /// Port choice for `tftp-port-range`.
    pub(super) ports: &'a PortPicker,
    /// How long to poll for the client's next datagram before sleeping
    /// (own socket only; zero: sleep at once). See [`Link::recv`].
    pub(super) spin: Duration,
}

impl LinkPlan<'_> {
    /// The link for a transfer answering the request in `meta`, sending
    /// from `local`.
    pub(super) fn open(
        self,
        local: Ipv4Addr,
        meta: &RecvMeta,
        port_range: Option<(u16, u16)>,
    ) -> io::Result<Link> {
        if let Some((sock, routes)) = self.single_port {
            let (route, inbox) = routes.register(meta.src);
            return Ok(Link::Shared {
                sock,
                ifindex: meta.ifindex,
                local,
                inbox,
                _route: route,
            });
        }
        // Bound without SO_REUSEADDR: with it, Linux may give the same
        // port 0 binding to two sockets, and two transfers would share it.
        let sock = match port_range {
            Some((first, last)) => self.ports.bind(local, first, last)?,
            None => UdpSocket::bind(SocketAddrV4::new(local, 0))?,
        };
        if !self.spin.is_zero() {
            sock.set_nonblocking(true)?;
        }
        Ok(Link::Own {
            sock,
            read_timeout: None,
            spin: self.spin,
            segment: true,
        })
    }
}

/// The path between a running transfer and its client.
#[derive(Debug)]
pub(super) enum Link {
    /// A socket of the transfer's own.
    Own {
        /// The socket.
        sock: UdpSocket,
        /// The read timeout set on it (changed only when it moves by more
        /// than 50 ms, to save a system call per datagram).
        read_timeout: Option<Duration>,
        /// Poll this long before sleeping; the socket is non-blocking
        /// while polling.
        spin: Duration,
        /// The kernel segments a run of equal datagrams sent at once
        /// (`UDP_SEGMENT`); cleared when it refuses.
        segment: bool,
    },
    /// The shared request socket (`tftp-single-port`).
    Shared {
        /// The request socket.
        sock: Arc<PktSocket>,
        /// Interface to send out of.
        ifindex: u32,
        /// Address to send from.
        local: Ipv4Addr,
        /// Datagrams from the client, routed by the request loop.
        inbox: Receiver<Vec<u8>>,
        /// Keeps the route registered while the transfer runs.
        _route: Route,
    },
}

/// What waiting for the client brought.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Received {
    /// A datagram from the client, this long.
    Datagram(usize),
    /// Nothing within the wait.
    TimedOut,
    /// A datagram from someone else, answered with ERROR 5; wait again.
    Stranger,
}

/// Retries `send` while the socket's send buffer is full (a polling
/// transfer's socket is non-blocking), for up to about 20 ms.
fn while_full<T>(mut send: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    let mut tries = 0;
    loop {
        match send() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_micros(200));
            }
            r => return r,
        }
    }
}

/// Most datagrams one `UDP_SEGMENT` send may carry (the kernel's limit),
/// and most bytes (one IPv4 datagram's worth).
const MAX_SEGMENTS: usize = 64;
const MAX_SEGMENTED_BYTES: usize = 65_000;

impl Link {
    /// How many datagrams of `len` bytes [`Link::send_segments`] takes at
    /// once (1 when the link cannot segment).
    pub(super) fn max_segments(&self, len: usize) -> usize {
        match self {
            Link::Own { segment: true, .. } => {
                (MAX_SEGMENTED_BYTES / len.max(1)).clamp(1, MAX_SEGMENTS)
            }
            _ => 1,
        }
    }

    /// Sends `run`: datagrams of `size` bytes back to back, the last one
    /// possibly shorter, in one system call where the kernel segments UDP
    /// (a window of DATA blocks), else one by one.
    pub(super) fn send_segments(
        &mut self,
        run: &[u8],
        size: usize,
        peer: SocketAddrV4,
    ) -> io::Result<()> {
        if run.len() > size
            && let Link::Own {
                sock,
                segment: segment @ true,
                ..
            } = self
        {
            let seg = u16::try_from(size).unwrap_or(u16::MAX);
            let iov = [io::IoSlice::new(run)];
            let cmsg = [ControlMessage::UdpGsoSegments(&seg)];
            let to = SockaddrIn::from(peer);
            let sent = while_full(|| {
                sendmsg(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), Some(&to))
                    .map_err(io::Error::from)
            });
            match sent.map_err(|e| e.raw_os_error().map(Errno::from_raw)) {
                Ok(_) => return Ok(()),
                // Not supported here (old kernel, device without checksum
                // offload): send one by one from now on.
                Err(Some(Errno::EIO | Errno::EINVAL | Errno::ENOPROTOOPT | Errno::EOPNOTSUPP)) => {
                    *segment = false;
                }
                Err(e) => {
                    return Err(e.map_or_else(|| io::Error::other("sendmsg"), io::Error::from));
                }
            }
        }
        for d in run.chunks(size.max(1)) {
            self.send(d, peer)?;
        }
        Ok(())
    }

    /// Sends `datagram` to the client.
    pub(super) fn send(&self, datagram: &[u8], peer: SocketAddrV4) -> io::Result<usize> {
        match self {
            Link::Own { sock, .. } => while_full(|| sock.send_to(datagram, peer)),
            Link::Shared {
                sock,
                ifindex,
                local,
                ..
            } => sock.send_sync(datagram, peer, *ifindex, Some(*local)),
        }
    }

    /// Waits up to `wait` for the client's next datagram into `buf`.
    ///
    /// With a spin budget, first polls without sleeping: a lock-step
    /// client answers within tens of microseconds, and waking a sleeping
    /// thread costs about as much again, so polling roughly halves the
    /// time per block. Only a lone transfer is given a budget (see the
    /// service), so a storm never spins.
    pub(super) fn recv(
        &mut self,
        buf: &mut [u8],
        peer: SocketAddrV4,
        wait: Duration,
    ) -> io::Result<Received> {
        match self {
            Link::Own {
                sock,
                read_timeout,
                spin,
                ..
            } => {
                let mut got = None;
                if !spin.is_zero() {
                    let until = Instant::now() + (*spin).min(wait);
                    loop {
                        match sock.recv_from(buf) {
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                if Instant::now() >= until {
                                    break;
                                }
                                std::hint::spin_loop();
                            }
                            r => {
                                got = Some(r);
                                break;
                            }
                        }
                    }
                    if got.is_none() {
                        // Nothing yet: sleep in a blocking read.
                        sock.set_nonblocking(false)?;
                        sock.set_read_timeout(Some(wait))?;
                        *read_timeout = Some(wait);
                        let r = sock.recv_from(buf);
                        sock.set_nonblocking(true)?;
                        got = Some(r);
                    }
                } else if read_timeout.is_none_or(|t| wait.abs_diff(t) > Duration::from_millis(50))
                {
                    sock.set_read_timeout(Some(wait))?;
                    *read_timeout = Some(wait);
                }
                let r = match got {
                    Some(r) => r,
                    None => sock.recv_from(buf),
                };
                match r {
                    Ok((n, from)) if from == SocketAddr::V4(peer) => Ok(Received::Datagram(n)),
                    Ok((_, from)) => {
                        // Another TID: ERROR 5 to the stranger, the
                        // transfer goes on (RFC 1350).
                        let mut e = [0u8; 64];
                        if let Ok(k) = foreign_tid_reply(&mut e) {
                            let _ = sock.send_to(&e[..k], from);
                        }
                        Ok(Received::Stranger)
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock
                                | io::ErrorKind::TimedOut
                                | io::ErrorKind::Interrupted
                        ) =>
                    {
                        Ok(Received::TimedOut)
                    }
                    Err(e) => Err(e),
                }
            }
            Link::Shared { inbox, .. } => match inbox.recv_timeout(wait) {
                Ok(d) => {
                    let n = d.len().min(buf.len());
                    buf[..n].copy_from_slice(&d[..n]);
                    Ok(Received::Datagram(n))
                }
                Err(RecvTimeoutError::Timeout) => Ok(Received::TimedOut),
                Err(RecvTimeoutError::Disconnected) => Err(io::Error::other(String::from(
                    "superseded by a new request from the client",
                ))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::vec;

    fn peer(port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 7), port)
    }

    #[test]
    fn routes_deliver_to_the_running_transfer_only() {
        let routes = Arc::new(Routes::default());
        assert!(
            routes.deliver(peer(2000), vec![0, 4, 0, 1]).is_err(),
            "no transfer"
        );
        let (route, inbox) = routes.register(peer(2000));
        assert!(routes.deliver(peer(2000), vec![0, 4, 0, 1]).is_ok());
        assert_eq!(inbox.try_recv().unwrap(), [0, 4, 0, 1]);
        assert!(
            routes.deliver(peer(2001), vec![0, 4, 0, 1]).is_err(),
            "other port"
        );
        for _ in 0..INBOX + 5 {
            assert!(
                routes.deliver(peer(2000), vec![0, 4, 0, 2]).is_ok(),
                "full: dropped"
            );
        }
        drop(route);
        assert!(
            routes.deliver(peer(2000), vec![0, 4, 0, 1]).is_err(),
            "unregistered"
        );
    }

    #[test]
    fn a_new_request_supersedes_the_running_transfer() {
        let routes = Arc::new(Routes::default());
        let (old, old_inbox) = routes.register(peer(2000));
        assert!(
            routes
                .deliver(peer(2000), b"\x00\x01file\x00octet\x00".to_vec())
                .is_err()
        );
        assert_eq!(
            old_inbox.recv_timeout(Duration::from_millis(1)),
            Err(RecvTimeoutError::Disconnected)
        );
        let (_new, new_inbox) = routes.register(peer(2000));
        drop(old);
        assert!(
            routes.deliver(peer(2000), vec![0, 4, 0, 0]).is_ok(),
            "new route kept"
        );
        assert_eq!(new_inbox.try_recv().unwrap(), [0, 4, 0, 0]);
    }

    #[test]
    fn own_socket_polls_then_sleeps_and_answers_strangers() {
        let lo = Ipv4Addr::LOCALHOST;
        let client = UdpSocket::bind((lo, 0)).unwrap();
        let stranger = UdpSocket::bind((lo, 0)).unwrap();
        let SocketAddr::V4(peer) = client.local_addr().unwrap() else {
            panic!("v4")
        };
        for spin in [Duration::ZERO, Duration::from_micros(200)] {
            let ports = PortPicker::default();
            let plan = LinkPlan {
                single_port: None,
                ports: &ports,
                spin,
            };
            let meta = RecvMeta {
                len: 0,
                src: peer,
                ifindex: 0,
                local: lo,
                dst: lo,
            };
            let mut link = plan.open(lo, &meta, None).unwrap();
            let Link::Own { sock, .. } = &link else {
                panic!("own socket")
            };
            let me = sock.local_addr().unwrap();
            let mut buf = [0u8; 16];
            let wait = Duration::from_millis(20);
            assert_eq!(link.recv(&mut buf, peer, wait).unwrap(), Received::TimedOut);
            client.send_to(&[0, 4, 0, 1], me).unwrap();
            assert_eq!(
                link.recv(&mut buf, peer, wait).unwrap(),
                Received::Datagram(4)
            );
            stranger.send_to(&[0, 4, 0, 1], me).unwrap();
            assert_eq!(link.recv(&mut buf, peer, wait).unwrap(), Received::Stranger);
            let mut e = [0u8; 64];
            stranger.set_read_timeout(Some(wait)).unwrap();
            let n = stranger.recv(&mut e).unwrap();
            assert_eq!(
                &e[..4],
                &[0, 5, 0, 5],
                "ERROR 5 to the stranger ({n} bytes)"
            );
            // Still a timeout after the poll budget, then data again.
            assert_eq!(link.recv(&mut buf, peer, wait).unwrap(), Received::TimedOut);
            client.send_to(&[0, 4, 0, 2], me).unwrap();
            assert_eq!(
                link.recv(&mut buf, peer, wait).unwrap(),
                Received::Datagram(4)
            );
        }
    }

    #[test]
    fn port_range_round_robin_and_exhaustion() {
        let lo = Ipv4Addr::LOCALHOST;
        let free = |p: u16| UdpSocket::bind((lo, p)).is_ok();
        let base = (41000..42000)
            .step_by(2)
            .find(|p| free(*p) && free(*p + 1))
            .unwrap();
        let picker = PortPicker::default();
        let a = picker.bind(lo, base, base + 1).unwrap();
        let b = picker.bind(lo, base, base + 1).unwrap();
        let pa = a.local_addr().unwrap().port();
        let pb = b.local_addr().unwrap().port();
        assert!((base..=base + 1).contains(&pa) && (base..=base + 1).contains(&pb));
        assert_ne!(pa, pb);
        let e = picker.bind(lo, base, base + 1).unwrap_err();
        assert!(e.to_string().contains("tftp-port-range"), "{e}");
    }
}
