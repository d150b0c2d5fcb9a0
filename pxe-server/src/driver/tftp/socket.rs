//! The socket of one transfer (its own port: RFC 1350's new TID): blocking
//! I/O on the transfer's thread and a window in one `sendmsg` with
//! `UDP_SEGMENT`. Which port, who may talk to it and what to answer are
//! the endpoint's business.
//!
//! The thread sleeps in the kernel until the client's next datagram
//! arrives (a blocking receive with the engine's deadline as timeout); it
//! never polls. Polling shaved the wake-up off every lock-step round on an
//! idle machine, but took the core that the client (a VM, other services
//! on the box) needed on a busy one: lock-step rates fell to half of
//! dnsmasq's (issue 17, figures in benches/README.md).

use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{ControlMessage, MsgFlags, SockaddrIn, sendmsg};

/// Retries `send` while the socket's send buffer is full (the socket is
/// non-blocking while a datagram already queued is taken), for up to
/// about 20 ms.
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

/// Most datagrams one `UDP_SEGMENT` send may carry (the kernel's limit).
const MAX_SEGMENTS: usize = pxe_tftp::server::MAX_SEGMENTS;
/// Most bytes one segmented send carries.
const MAX_SEGMENTED_BYTES: usize = pxe_tftp::server::MAX_SEGMENTED_BYTES;

/// A transfer's own UDP socket.
#[derive(Debug)]
pub(super) struct TransferSocket {
    sock: UdpSocket,
    /// The read timeout set on it (changed only when it moves by more
    /// than 50 ms, to save a system call per datagram).
    read_timeout: Option<Duration>,
    /// The kernel segments a run of equal datagrams sent at once
    /// (`UDP_SEGMENT`); cleared when it refuses.
    segment: bool,
}

impl TransferSocket {
    /// A socket on `local:port` (port 0: any). Bound without
    /// `SO_REUSEADDR`: with it, Linux may give the same port 0 binding to
    /// two sockets, and two transfers would share it.
    /// An IPv6 link-local `local` is bound in the scope of interface
    /// `scope`.
    pub(super) fn bind(local: IpAddr, scope: u32, port: u16) -> io::Result<Self> {
        let addr = match local {
            IpAddr::V6(a) if a.is_unicast_link_local() => {
                SocketAddr::V6(SocketAddrV6::new(a, port, 0, scope))
            }
            a => SocketAddr::new(a, port),
        };
        let sock = UdpSocket::bind(addr)?;
        Ok(TransferSocket {
            sock,
            read_timeout: None,
            segment: true,
        })
    }

    /// The port it is bound to.
    pub(super) fn port(&self) -> io::Result<u16> {
        Ok(self.sock.local_addr()?.port())
    }

    /// How many datagrams of `len` bytes one [`send`](Self::send) takes at
    /// once.
    pub(super) fn max_segments(&self, len: usize) -> usize {
        (MAX_SEGMENTED_BYTES / len.max(1)).clamp(1, MAX_SEGMENTS)
    }

    /// Sends `run` to `to`: one datagram, or (with `segment_size`)
    /// datagrams of that size back to back, the last possibly shorter, in
    /// one system call where the kernel segments UDP, else one by one.
    pub(super) fn send(
        &mut self,
        run: &[u8],
        segment_size: Option<usize>,
        to: SocketAddr,
    ) -> io::Result<()> {
        let size = segment_size.unwrap_or(run.len()).max(1);
        let SocketAddr::V4(to) = to else {
            // IPv6: one datagram per block (no UDP_SEGMENT here).
            for d in run.chunks(size) {
                while_full(|| self.sock.send_to(d, to))?;
            }
            return Ok(());
        };
        if run.len() > size && self.segment {
            let seg = u16::try_from(size).unwrap_or(u16::MAX);
            let iov = [io::IoSlice::new(run)];
            let cmsg = [ControlMessage::UdpGsoSegments(&seg)];
            let dst = SockaddrIn::from(to);
            let fd = self.sock.as_raw_fd();
            let sent = while_full(|| {
                sendmsg(fd, &iov, &cmsg, MsgFlags::empty(), Some(&dst)).map_err(io::Error::from)
            });
            match sent.map_err(|e| e.raw_os_error().map(Errno::from_raw)) {
                Ok(_) => return Ok(()),
                // Not supported here (old kernel, device without checksum
                // offload): send one by one from now on.
                Err(Some(Errno::EIO | Errno::EINVAL | Errno::ENOPROTOOPT | Errno::EOPNOTSUPP)) => {
                    self.segment = false;
                }
                Err(e) => {
                    return Err(e.map_or_else(|| io::Error::other("sendmsg"), io::Error::from));
                }
            }
        }
        for d in run.chunks(size) {
            while_full(|| self.sock.send_to(d, to))?;
        }
        Ok(())
    }

    /// The next datagram already queued, without waiting.
    pub(super) fn recv_now(&mut self, buf: &mut [u8]) -> io::Result<Option<(usize, SocketAddr)>> {
        self.sock.set_nonblocking(true)?;
        let r = self.sock.recv_from(buf);
        self.sock.set_nonblocking(false)?;
        match r {
            Ok((n, from)) => Ok(Some((n.min(buf.len()), from))),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Waits up to `wait` for the next datagram into `buf`, asleep in the
    /// kernel: its length and sender, or `None` when nothing came.
    pub(super) fn recv(
        &mut self,
        buf: &mut [u8],
        wait: Duration,
    ) -> io::Result<Option<(usize, SocketAddr)>> {
        if self
            .read_timeout
            .is_none_or(|t| wait.abs_diff(t) > Duration::from_millis(50))
        {
            self.sock.set_read_timeout(Some(wait))?;
            self.read_timeout = Some(wait);
        }
        match self.sock.recv_from(buf) {
            Ok((n, from)) => Ok(Some((n.min(buf.len()), from))),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_until_data_or_timeout_and_sends_windows() {
        let lo = std::net::Ipv4Addr::LOCALHOST;
        let client = UdpSocket::bind((lo, 0)).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let peer = client.local_addr().unwrap();
        {
            let mut sock = TransferSocket::bind(IpAddr::V4(lo), 0, 0).unwrap();
            let me = SocketAddr::from((lo, sock.port().unwrap()));
            let mut buf = [0u8; 16];
            let wait = Duration::from_millis(20);
            let t0 = std::time::Instant::now();
            assert_eq!(sock.recv(&mut buf, wait).unwrap(), None);
            assert!(t0.elapsed() >= wait, "returned before its timeout");
            client.send_to(&[0, 4, 0, 1], me).unwrap();
            assert_eq!(sock.recv(&mut buf, wait).unwrap(), Some((4, peer)));
            // Nothing queued: no wait, no datagram; then one that is.
            assert_eq!(sock.recv_now(&mut buf).unwrap(), None);
            client.send_to(&[0, 4, 0, 2], me).unwrap();
            std::thread::sleep(Duration::from_millis(5));
            assert_eq!(sock.recv_now(&mut buf).unwrap(), Some((4, peer)));
            // The socket blocks again after `recv_now`.
            assert_eq!(sock.recv(&mut buf, wait).unwrap(), None);
            client.send_to(&[0, 4, 0, 3], me).unwrap();
            assert_eq!(sock.recv(&mut buf, wait).unwrap(), Some((4, peer)));
            // A run of three datagrams, the last shorter: three arrive.
            let run: Vec<u8> = (0..10u8).collect();
            sock.send(&run, Some(4), peer).unwrap();
            let mut got = Vec::new();
            for _ in 0..3 {
                let mut b = [0u8; 16];
                let (n, from) = client.recv_from(&mut b).unwrap();
                assert_eq!(from, me);
                got.push(b[..n].to_vec());
            }
            assert_eq!(got, [vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]);
        }
        assert_eq!(
            TransferSocket::bind(IpAddr::V4(lo), 0, 0)
                .unwrap()
                .max_segments(1472),
            44
        );
        assert_eq!(
            TransferSocket::bind(IpAddr::V4(lo), 0, 0)
                .unwrap()
                .max_segments(516),
            64
        );
    }
}
