//! A scripted DHCP client built on `pxe-dhcp`: a socket on the client's
//! `eth0`, messages, and the exchanges the tests repeat. Shared by the
//! tests of `pxe-server` and `pxe-dhcp` (the latter includes this file by
//! path).
#![allow(dead_code, clippy::unwrap_used, clippy::panic, unreachable_pub)]

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use pxe_dhcp::{Builder, MessageType, Packet, code};

/// A UDP socket for a scripted client: bound to 0.0.0.0:`port` on eth0 with
/// SO_BROADCAST. Call inside [`Netns::enter`].
pub fn client_socket(port: u16) -> UdpSocket {
    let s = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
    .unwrap();
    s.set_reuse_address(true).unwrap();
    s.set_broadcast(true).unwrap();
    s.bind_device(Some(b"eth0")).unwrap();
    s.bind(&std::net::SocketAddr::from(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)).into())
        .unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    s.into()
}

/// Build a client message.
pub struct Msg<'a> {
    pub ty: MessageType,
    pub xid: u32,
    pub mac: [u8; 6],
    pub ciaddr: Ipv4Addr,
    pub broadcast: bool,
    pub options: Vec<(u8, &'a [u8])>,
}

impl Msg<'_> {
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = [0u8; 1500];
        let mut b = Builder::new(&mut buf).unwrap();
        b.xid(self.xid).ciaddr(self.ciaddr);
        b.chaddr(1, &self.mac).unwrap();
        if self.broadcast {
            b.flags(pxe_dhcp::Flags::BROADCAST);
        }
        b.message_type(self.ty).unwrap();
        for (c, v) in &self.options {
            b.option(*c, v).unwrap();
        }
        let n = b.finish().unwrap();
        buf[..n].to_vec()
    }
}

/// Receive replies on `s` until one with `xid` arrives (or `t` passes).
pub fn recv_xid(s: &UdpSocket, xid: u32, t: Duration) -> Option<(Vec<u8>, std::net::SocketAddr)> {
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    while start.elapsed() < t {
        if let Ok((n, from)) = s.recv_from(&mut buf)
            && let Ok(p) = Packet::new_checked(&buf[..n])
            && p.xid() == xid
            && p.op() == pxe_dhcp::Op::Reply
        {
            return Some((buf[..n].to_vec(), from));
        }
    }
    None
}

/// The message type of a reply.
pub fn msg_type(bytes: &[u8]) -> Option<MessageType> {
    Packet::new_checked(bytes).ok()?.message_type().ok()?
}

/// Option `c` of a reply.
pub fn opt(bytes: &[u8], c: u8) -> Option<Vec<u8>> {
    Packet::new_checked(bytes)
        .ok()?
        .option(c)
        .map(<[u8]>::to_vec)
}

/// One DORA exchange: returns the ACKed address.
pub fn dora(s: &UdpSocket, mac: [u8; 6], xid: u32, extra: &[(u8, &[u8])]) -> Option<Ipv4Addr> {
    dora_tries(s, mac, xid, extra, 5)
}

/// [`dora`] with `tries` attempts per step.
pub fn dora_tries(
    s: &UdpSocket,
    mac: [u8; 6],
    xid: u32,
    extra: &[(u8, &[u8])],
    tries: u32,
) -> Option<Ipv4Addr> {
    let bcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, 67);
    let mut d = Msg {
        ty: MessageType::Discover,
        xid,
        mac,
        ciaddr: Ipv4Addr::UNSPECIFIED,
        broadcast: true,
        options: extra.to_vec(),
    };
    let mut offer = None;
    for _ in 0..tries {
        s.send_to(&d.encode(), bcast).ok()?;
        if let Some((r, _)) = recv_xid(s, xid, Duration::from_millis(600)) {
            offer = Some(r);
            break;
        }
    }
    let offer = offer?;
    let p = Packet::new_checked(&offer[..]).unwrap();
    assert_eq!(p.message_type().unwrap(), Some(MessageType::Offer));
    let yi = p.yiaddr();
    let sid = p.server_id().unwrap().unwrap();
    let yo = yi.octets();
    let so = sid.octets();
    d.ty = MessageType::Request;
    d.options.push((code::REQUESTED_IP, &yo));
    d.options.push((code::SERVER_ID, &so));
    for _ in 0..tries {
        s.send_to(&d.encode(), bcast).unwrap();
        if let Some((r, _)) = recv_xid(s, xid, Duration::from_millis(600)) {
            let p = Packet::new_checked(&r[..]).unwrap();
            return match p.message_type().unwrap() {
                Some(MessageType::Ack) => Some(p.yiaddr()),
                _ => None,
            };
        }
    }
    None
}
