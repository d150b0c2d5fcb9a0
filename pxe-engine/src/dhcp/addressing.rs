//! Where a reply goes (RFC 2131 §4.1, as dnsmasq's `dhcp.c: dhcp_packet`
//! decides it on Linux).

use core::net::{Ipv4Addr, SocketAddrV4};

use crate::lease::HwAddr;

/// DHCP client port.
pub const CLIENT_PORT: u16 = 68;
/// DHCP server port.
pub const SERVER_PORT: u16 = 67;
/// PXE boot server port.
pub const PXE_PORT: u16 = 4011;

/// The destination of a reply, decided by the engine; the driver only
/// sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// `255.255.255.255:68` out of the interface the request came in on.
    Broadcast,
    /// Unicast to an address that already answers ARP (ciaddr, a relay,
    /// the source of a 4011 request).
    Unicast(SocketAddrV4),
    /// Unicast to a client that has no address yet: `addr:68` at hardware
    /// address `hw`. A driver that cannot add the neighbour entry itself
    /// broadcasts instead (RFC 2131 allows it; the client accepts both).
    UnicastHw {
        /// The address just assigned (`yiaddr`).
        addr: Ipv4Addr,
        /// The client's hardware address.
        hw: HwAddr,
    },
}

impl core::fmt::Display for Destination {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Destination::Broadcast => f.write_str("broadcast"),
            Destination::Unicast(a) => write!(f, "unicast {a}"),
            Destination::UnicastHw { addr, hw } => write!(f, "unicast {addr} ({hw})"),
        }
    }
}

/// The request fields that decide the destination.
#[derive(Clone, Copy, Debug)]
pub struct AddressingInput {
    /// UDP port the request arrived on (67 or 4011).
    pub arrival_port: u16,
    /// Source address and port of the request.
    pub src: SocketAddrV4,
    /// `ciaddr` of the request (after dnsmasq's zeroing for DISCOVER or
    /// when option 50 is present).
    pub ciaddr: Ipv4Addr,
    /// `giaddr` of the request.
    pub giaddr: Ipv4Addr,
    /// Broadcast flag of the request.
    pub broadcast_flag: bool,
    /// `htype` and `hlen` of the request.
    pub htype: u8,
    /// `hlen` of the request.
    pub hlen: u8,
    /// The request is a DHCPINFORM.
    pub inform: bool,
    /// `yiaddr` of the reply.
    pub yiaddr: Ipv4Addr,
    /// The client hardware address.
    pub hw: HwAddr,
    /// The reply must be broadcast (proxy OFFER, NAK, `dhcp-broadcast`).
    pub force_broadcast: bool,
}

/// Decide the destination, in dnsmasq's order.
pub fn destination(i: &AddressingInput) -> Destination {
    let any = Ipv4Addr::UNSPECIFIED;
    if i.arrival_port == PXE_PORT {
        let to = if i.ciaddr != any {
            i.ciaddr
        } else {
            *i.src.ip()
        };
        return Destination::Unicast(SocketAddrV4::new(to, i.src.port()));
    }
    if i.giaddr != any {
        return Destination::Unicast(SocketAddrV4::new(i.giaddr, SERVER_PORT));
    }
    if i.ciaddr != any {
        if i.inform {
            let (ip, port) = if *i.src.ip() == any || i.src.port() == 0 {
                (i.ciaddr, CLIENT_PORT)
            } else {
                (*i.src.ip(), i.src.port())
            };
            return Destination::Unicast(SocketAddrV4::new(ip, port));
        }
        let port = if *i.src.ip() == i.ciaddr {
            i.src.port()
        } else {
            CLIENT_PORT
        };
        return Destination::Unicast(SocketAddrV4::new(i.ciaddr, port));
    }
    if i.force_broadcast
        || i.broadcast_flag
        || i.hlen == 0
        || i.hlen > 14
        || i.htype == 0
        || i.yiaddr == any
    {
        return Destination::Broadcast;
    }
    Destination::UnicastHw {
        addr: i.yiaddr,
        hw: i.hw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> AddressingInput {
        AddressingInput {
            arrival_port: 67,
            src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
            ciaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            broadcast_flag: false,
            htype: 1,
            hlen: 6,
            inform: false,
            yiaddr: Ipv4Addr::new(10, 0, 0, 5),
            hw: HwAddr::ethernet([1, 2, 3, 4, 5, 6]),
            force_broadcast: false,
        }
    }

    #[test]
    fn table_of_cases() {
        let mut i = base();
        assert!(matches!(destination(&i), Destination::UnicastHw { .. }));
        i.broadcast_flag = true;
        assert_eq!(destination(&i), Destination::Broadcast);
        i.giaddr = Ipv4Addr::new(10, 1, 0, 1);
        assert_eq!(
            destination(&i),
            Destination::Unicast(SocketAddrV4::new(i.giaddr, 67))
        );
        let mut i = base();
        i.ciaddr = Ipv4Addr::new(10, 0, 0, 9);
        i.src = SocketAddrV4::new(i.ciaddr, 68);
        assert_eq!(
            destination(&i),
            Destination::Unicast(SocketAddrV4::new(i.ciaddr, 68))
        );
        i.arrival_port = 4011;
        i.src = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 9), 4011);
        assert_eq!(destination(&i), Destination::Unicast(i.src));
        let mut i = base();
        i.inform = true;
        i.ciaddr = Ipv4Addr::new(10, 0, 0, 9);
        i.src = SocketAddrV4::new(i.ciaddr, 5000);
        assert_eq!(destination(&i), Destination::Unicast(i.src));
        let mut i = base();
        i.hlen = 16;
        assert_eq!(destination(&i), Destination::Broadcast);
    }
}
