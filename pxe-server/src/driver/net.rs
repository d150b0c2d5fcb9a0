//! Sockets for the drivers: UDP sockets with
//! `SO_BROADCAST`, optional `SO_BINDTODEVICE`, and `IP_PKTINFO` so every
//! datagram says which interface it came in on and which local address it
//! was sent to; replies can be sent out of a chosen interface.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::string::{String, ToString};
use std::vec::Vec;

use nix::libc;
use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn, recvmsg, sendmsg, setsockopt,
    sockopt,
};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;

/// One IPv4 address of a local interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfaceInfo {
    /// Interface index.
    pub index: u32,
    /// Interface name (`eth0`).
    pub name: String,
    /// One IPv4 address of the interface.
    pub addr: Ipv4Addr,
    /// Its netmask.
    pub netmask: Ipv4Addr,
    /// The interface MTU (1500 if unknown).
    pub mtu: u16,
}

fn v4(s: &Option<nix::sys::socket::SockaddrStorage>) -> Option<Ipv4Addr> {
    s.as_ref()?.as_sockaddr_in().map(|a| a.ip())
}

/// The MTU of interface `name`, from sysfs.
pub fn mtu_of(name: &str) -> Option<u16> {
    let s = std::fs::read_to_string(std::format!("/sys/class/net/{name}/mtu")).ok()?;
    s.trim().parse::<u32>().ok().map(|m| m.min(65535) as u16)
}

/// Every IPv4 address of every interface (an interface with secondary
/// addresses appears once per address, primary first).
pub fn interfaces() -> io::Result<Vec<IfaceInfo>> {
    let mut out: Vec<IfaceInfo> = Vec::new();
    for ifa in nix::ifaddrs::getifaddrs().map_err(io::Error::from)? {
        let (Some(addr), Some(netmask)) = (v4(&ifa.address), v4(&ifa.netmask)) else {
            continue;
        };
        if out
            .iter()
            .any(|i| i.name == ifa.interface_name && i.addr == addr)
        {
            continue;
        }
        let index = nix::net::if_::if_nametoindex(ifa.interface_name.as_str()).unwrap_or(0);
        out.push(IfaceInfo {
            index,
            mtu: mtu_of(&ifa.interface_name).unwrap_or(1500),
            name: ifa.interface_name,
            addr,
            netmask,
        });
    }
    Ok(out)
}

/// What `IP_PKTINFO` told about a received datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvMeta {
    /// Datagram length.
    pub len: usize,
    /// Sender.
    pub src: SocketAddrV4,
    /// Index of the interface it arrived on (0 if unknown).
    pub ifindex: u32,
    /// The local address the kernel would answer from on that interface.
    pub local: Ipv4Addr,
    /// The destination address in the IP header (255.255.255.255 for a
    /// broadcast).
    pub dst: Ipv4Addr,
}

/// A UDP socket that knows the arrival interface of each datagram.
#[derive(Debug)]
pub struct PktSocket {
    sock: tokio::net::UdpSocket,
    device: Option<String>,
}

impl PktSocket {
    /// Bind `addr` (with `SO_REUSEADDR`, `SO_BROADCAST` and `IP_PKTINFO`),
    /// restricted to interface `device` if given. Must be called inside a
    /// tokio runtime.
    pub fn bind(addr: SocketAddrV4, device: Option<&str>) -> io::Result<Self> {
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        s.set_reuse_address(true)?;
        s.set_broadcast(true)?;
        if let Some(d) = device {
            s.bind_device(Some(d.as_bytes()))
                .map_err(|e| io::Error::new(e.kind(), std::format!("SO_BINDTODEVICE {d}: {e}")))?;
        }
        setsockopt(&s, sockopt::Ipv4PacketInfo, &true).map_err(io::Error::from)?;
        // Room for bursts (boot storms); the kernel caps it at rmem_max.
        let _ = s.set_recv_buffer_size(4 << 20);
        s.set_nonblocking(true)?;
        s.bind(&SocketAddr::V4(addr).into())
            .map_err(|e| io::Error::new(e.kind(), std::format!("bind {addr}: {e}")))?;
        let std_sock: std::net::UdpSocket = s.into();
        Ok(PktSocket {
            sock: tokio::net::UdpSocket::from_std(std_sock)?,
            device: device.map(ToString::to_string),
        })
    }

    /// The interface this socket is bound to, if any.
    pub fn device(&self) -> Option<&str> {
        self.device.as_deref()
    }

    /// The bound local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    fn recv_now(&self, buf: &mut [u8]) -> io::Result<RecvMeta> {
        let fd = self.sock.as_raw_fd();
        let mut iov = [IoSliceMut::new(buf)];
        let mut cmsg = [0u8; 64];
        let msg = recvmsg::<SockaddrIn>(fd, &mut iov, Some(&mut cmsg), MsgFlags::MSG_DONTWAIT)
            .map_err(io::Error::from)?;
        let src = msg
            .address
            .map(|a| SocketAddrV4::new(a.ip(), a.port()))
            .unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
        let mut meta = RecvMeta {
            len: msg.bytes,
            src,
            ifindex: 0,
            local: Ipv4Addr::UNSPECIFIED,
            dst: Ipv4Addr::UNSPECIFIED,
        };
        if let Ok(cm) = msg.cmsgs() {
            for c in cm {
                if let ControlMessageOwned::Ipv4PacketInfo(pi) = c {
                    meta.ifindex = u32::try_from(pi.ipi_ifindex).unwrap_or(0);
                    meta.local = Ipv4Addr::from(u32::from_be(pi.ipi_spec_dst.s_addr));
                    meta.dst = Ipv4Addr::from(u32::from_be(pi.ipi_addr.s_addr));
                }
            }
        }
        Ok(meta)
    }

    /// Receive one datagram, waiting for it.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<RecvMeta> {
        self.sock
            .async_io(Interest::READABLE, || self.recv_now(buf))
            .await
    }

    /// Receive one datagram if one is queued (`WouldBlock` otherwise).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<RecvMeta> {
        self.sock.try_io(Interest::READABLE, || self.recv_now(buf))
    }

    fn send_now(
        &self,
        buf: &[u8],
        dst: SocketAddrV4,
        ifindex: u32,
        src: Option<Ipv4Addr>,
    ) -> io::Result<usize> {
        let fd = self.sock.as_raw_fd();
        let iov = [IoSlice::new(buf)];
        let addr = SockaddrIn::from(dst);
        if ifindex == 0 && src.is_none() {
            return sendmsg(fd, &iov, &[], MsgFlags::empty(), Some(&addr)).map_err(io::Error::from);
        }
        let pi = libc::in_pktinfo {
            ipi_ifindex: i32::try_from(ifindex).unwrap_or(0),
            ipi_spec_dst: libc::in_addr {
                s_addr: u32::from(src.unwrap_or(Ipv4Addr::UNSPECIFIED)).to_be(),
            },
            ipi_addr: libc::in_addr { s_addr: 0 },
        };
        sendmsg(
            fd,
            &iov,
            &[ControlMessage::Ipv4PacketInfo(&pi)],
            MsgFlags::empty(),
            Some(&addr),
        )
        .map_err(io::Error::from)
    }

    /// Send from a thread outside the runtime (the lease writer): retries
    /// briefly while the socket's send buffer is full.
    pub fn send_sync(
        &self,
        buf: &[u8],
        dst: SocketAddrV4,
        ifindex: u32,
        src: Option<Ipv4Addr>,
    ) -> io::Result<usize> {
        let mut tries = 0;
        loop {
            match self.send_now(buf, dst, ifindex, src) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                r => return r,
            }
        }
    }

    /// Send `buf` to `dst` out of interface `ifindex` (0 = let routing
    /// decide) with source address `src` (None = the interface's).
    pub async fn send(
        &self,
        buf: &[u8],
        dst: SocketAddrV4,
        ifindex: u32,
        src: Option<Ipv4Addr>,
    ) -> io::Result<usize> {
        self.sock
            .async_io(Interest::WRITABLE, || self.send_now(buf, dst, ifindex, src))
            .await
    }
}

/// What `IPV6_PKTINFO` told about a received datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvMeta6 {
    /// Datagram length.
    pub len: usize,
    /// Sender (a link-local sender's scope id is the interface).
    pub src: std::net::SocketAddrV6,
    /// Index of the interface it arrived on (0 if unknown).
    pub ifindex: u32,
    /// The destination address in the IP header.
    pub dst: std::net::Ipv6Addr,
}

/// An IPv6-only UDP socket that knows the arrival interface and
/// destination of each datagram (the IPv6 twin of [`PktSocket`], for the
/// TFTP request port).
#[derive(Debug)]
pub struct PktSocket6 {
    sock: tokio::net::UdpSocket,
}

impl PktSocket6 {
    /// Binds `[::]:port` (IPv6 only, `SO_REUSEADDR`, `IPV6_RECVPKTINFO`),
    /// restricted to interface `device` if given. Must be called inside a
    /// tokio runtime.
    pub fn bind(port: u16, device: Option<&str>) -> io::Result<Self> {
        let s = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
        s.set_only_v6(true)?;
        s.set_reuse_address(true)?;
        if let Some(d) = device {
            s.bind_device(Some(d.as_bytes()))
                .map_err(|e| io::Error::new(e.kind(), std::format!("SO_BINDTODEVICE {d}: {e}")))?;
        }
        setsockopt(&s, sockopt::Ipv6RecvPacketInfo, &true).map_err(io::Error::from)?;
        let _ = s.set_recv_buffer_size(4 << 20);
        s.set_nonblocking(true)?;
        let any = std::net::SocketAddrV6::new(std::net::Ipv6Addr::UNSPECIFIED, port, 0, 0);
        s.bind(&SocketAddr::V6(any).into())
            .map_err(|e| io::Error::new(e.kind(), std::format!("bind [::]:{port}: {e}")))?;
        let std_sock: std::net::UdpSocket = s.into();
        Ok(PktSocket6 {
            sock: tokio::net::UdpSocket::from_std(std_sock)?,
        })
    }

    fn recv_now(&self, buf: &mut [u8]) -> io::Result<RecvMeta6> {
        let fd = self.sock.as_raw_fd();
        let mut iov = [IoSliceMut::new(buf)];
        let mut cmsg = [0u8; 64];
        let msg = recvmsg::<nix::sys::socket::SockaddrIn6>(
            fd,
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_DONTWAIT,
        )
        .map_err(io::Error::from)?;
        let src =
            msg.address
                .map(std::net::SocketAddrV6::from)
                .unwrap_or(std::net::SocketAddrV6::new(
                    std::net::Ipv6Addr::UNSPECIFIED,
                    0,
                    0,
                    0,
                ));
        let mut meta = RecvMeta6 {
            len: msg.bytes,
            src,
            ifindex: src.scope_id(),
            dst: std::net::Ipv6Addr::UNSPECIFIED,
        };
        if let Ok(cm) = msg.cmsgs() {
            for c in cm {
                if let ControlMessageOwned::Ipv6PacketInfo(pi) = c {
                    meta.ifindex = pi.ipi6_ifindex;
                    meta.dst = std::net::Ipv6Addr::from(pi.ipi6_addr.s6_addr);
                }
            }
        }
        Ok(meta)
    }

    /// Receive one datagram, waiting for it.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<RecvMeta6> {
        self.sock
            .async_io(Interest::READABLE, || self.recv_now(buf))
            .await
    }

    /// Send `buf` to `dst` (the kernel picks the source address).
    pub async fn send(&self, buf: &[u8], dst: std::net::SocketAddrV6) -> io::Result<usize> {
        self.sock.send_to(buf, dst).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pktinfo_on_loopback() {
        let a = PktSocket::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0), None).unwrap();
        let b = PktSocket::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0), None).unwrap();
        let SocketAddr::V4(bd) = b.local_addr().unwrap() else {
            panic!()
        };
        a.send(b"hello", bd, 0, None).await.unwrap();
        let mut buf = [0u8; 16];
        let m = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..m.len], b"hello");
        assert_eq!(m.dst, Ipv4Addr::LOCALHOST);
        assert_eq!(m.local, Ipv4Addr::LOCALHOST);
        let lo = interfaces().unwrap();
        let l = lo.iter().find(|i| i.name == "lo").unwrap();
        assert_eq!(m.ifindex, l.index);
        // Sending with an explicit interface works too.
        b.send(b"x", m.src, l.index, Some(Ipv4Addr::LOCALHOST))
            .await
            .unwrap();
        let m2 = a.recv(&mut buf).await.unwrap();
        assert_eq!(m2.len, 1);
        assert!(matches!(b.try_recv(&mut buf), Err(e) if e.kind() == io::ErrorKind::WouldBlock));
    }
}
