//! Neighbour (ARP) entries for replies to clients that have no address
//! yet: RFC 2131 §4.1 wants such an OFFER or ACK unicast to `yiaddr` at
//! the client's hardware address, which the kernel can only do once its
//! neighbour table maps `yiaddr` to that address — the client cannot
//! answer ARP for an address it does not have. dnsmasq writes the entry
//! with `ioctl(SIOCSARP)`; this writes the same entry (`NUD_REACHABLE`,
//! replacing any other) with an `RTM_NEWNEIGH` netlink request on the
//! arrival interface, then the reply is an ordinary `sendto(yiaddr)`.
//!
//! Needs `CAP_NET_ADMIN` (kept when the server drops root). Where the entry
//! cannot be written the caller broadcasts instead, as RFC 2131 allows.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, recv, sendto, socket,
};

/// `RTM_NEWNEIGH` (linux/rtnetlink.h).
const RTM_NEWNEIGH: u16 = 28;
/// `NLMSG_ERROR`: the kernel's acknowledgement (error 0) or refusal.
const NLMSG_ERROR: u16 = 2;
/// `NLM_F_REQUEST | NLM_F_ACK | NLM_F_REPLACE | NLM_F_CREATE`.
const FLAGS: u16 = 0x1 | 0x4 | 0x100 | 0x400;
/// `NUD_REACHABLE`, the state `SIOCSARP` without `ATF_PERM` gives.
const NUD_REACHABLE: u16 = 0x02;
/// `NDA_DST` and `NDA_LLADDR` attribute types.
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
/// The request: nlmsghdr (16) + ndmsg (12) + NDA_DST (8) + NDA_LLADDR
/// (4 + 6, padded to 12).
const REQUEST_LEN: usize = 48;

/// Why a neighbour entry was not written.
#[derive(Debug, thiserror::Error)]
pub enum NeighError {
    /// Only Ethernet addresses (`htype` 1, `hlen` 6) are written: the
    /// kernel's entry must match the interface's own address format.
    #[error("hardware type {htype} with {len}-byte address: only Ethernet entries are written")]
    NotEthernet {
        /// `htype` of the request.
        htype: u8,
        /// `hlen` of the request.
        len: usize,
    },
    /// The netlink socket failed, or the kernel refused the entry.
    #[error("neighbour entry: {0}")]
    Netlink(#[from] io::Error),
}

/// A netlink socket that writes neighbour entries; one per DHCP worker.
#[derive(Debug)]
pub struct Neighbours {
    fd: OwnedFd,
    seq: u32,
}

impl Neighbours {
    /// Opens the `NETLINK_ROUTE` socket.
    pub fn open() -> io::Result<Self> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkRoute,
        )
        .map_err(io::Error::from)?;
        Ok(Neighbours { fd, seq: 0 })
    }

    /// Maps `ip` to the Ethernet address `hw` (`htype` 1) on interface
    /// `ifindex`, and waits for the kernel's answer (given before the
    /// request's `sendto` returns: route requests are handled in the
    /// sender's context).
    pub fn set(
        &mut self,
        ifindex: u32,
        ip: Ipv4Addr,
        htype: u8,
        hw: &[u8],
    ) -> Result<(), NeighError> {
        let Ok(mac) = <[u8; 6]>::try_from(hw) else {
            return Err(NeighError::NotEthernet {
                htype,
                len: hw.len(),
            });
        };
        if htype != 1 {
            return Err(NeighError::NotEthernet {
                htype,
                len: hw.len(),
            });
        }
        self.seq = self.seq.wrapping_add(1);
        let req = request(self.seq, ifindex, ip, mac);
        let kernel = NetlinkAddr::new(0, 0);
        sendto(self.fd.as_raw_fd(), &req, &kernel, MsgFlags::empty()).map_err(io::Error::from)?;
        let mut ack = [0u8; 256];
        loop {
            let n = recv(self.fd.as_raw_fd(), &mut ack, MsgFlags::MSG_DONTWAIT)
                .map_err(io::Error::from)?;
            match parse_ack(&ack[..n], self.seq) {
                Some(0) => return Ok(()),
                Some(errno) => {
                    return Err(NeighError::Netlink(io::Error::from_raw_os_error(errno)));
                }
                // An answer to an earlier request that timed out: skip it.
                None => continue,
            }
        }
    }
}

/// The `RTM_NEWNEIGH` request (native byte order, as netlink wants).
fn request(seq: u32, ifindex: u32, ip: Ipv4Addr, mac: [u8; 6]) -> [u8; REQUEST_LEN] {
    let mut m = [0u8; REQUEST_LEN];
    m[0..4].copy_from_slice(&(REQUEST_LEN as u32).to_ne_bytes());
    m[4..6].copy_from_slice(&RTM_NEWNEIGH.to_ne_bytes());
    m[6..8].copy_from_slice(&FLAGS.to_ne_bytes());
    m[8..12].copy_from_slice(&seq.to_ne_bytes());
    // ndmsg: family, 3 pad bytes, ifindex, state, flags, type.
    m[16] = 2; // AF_INET
    m[20..24].copy_from_slice(&ifindex.to_ne_bytes());
    m[24..26].copy_from_slice(&NUD_REACHABLE.to_ne_bytes());
    // NDA_DST
    m[28..30].copy_from_slice(&8u16.to_ne_bytes());
    m[30..32].copy_from_slice(&NDA_DST.to_ne_bytes());
    m[32..36].copy_from_slice(&ip.octets());
    // NDA_LLADDR
    m[36..38].copy_from_slice(&10u16.to_ne_bytes());
    m[38..40].copy_from_slice(&NDA_LLADDR.to_ne_bytes());
    m[40..46].copy_from_slice(&mac);
    m
}

/// The errno of the acknowledgement of request `seq` (0: done), or `None`
/// when `msg` is not that acknowledgement.
fn parse_ack(msg: &[u8], seq: u32) -> Option<i32> {
    let field = |at: usize| {
        msg.get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
    };
    let ty = u16::from_ne_bytes(msg.get(4..6)?.try_into().ok()?);
    if ty != NLMSG_ERROR || u32::from_ne_bytes(field(8)?) != seq {
        return None;
    }
    Some(-i32::from_ne_bytes(field(16)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_the_kernels_layout() {
        let m = request(7, 3, Ipv4Addr::new(10, 0, 0, 5), [2, 0, 0, 0, 0, 9]);
        assert_eq!(u32::from_ne_bytes(m[0..4].try_into().unwrap()), 48);
        assert_eq!(u16::from_ne_bytes(m[4..6].try_into().unwrap()), 28);
        assert_eq!(&m[32..36], &[10, 0, 0, 5]);
        assert_eq!(&m[40..46], &[2, 0, 0, 0, 0, 9]);
        let mut ack = [0u8; 36];
        ack[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        ack[8..12].copy_from_slice(&7u32.to_ne_bytes());
        assert_eq!(parse_ack(&ack, 7), Some(0));
        assert_eq!(parse_ack(&ack, 8), None);
        ack[16..20].copy_from_slice(&(-1i32).to_ne_bytes());
        assert_eq!(parse_ack(&ack, 7), Some(1));
    }

    #[test]
    fn only_ethernet_entries_are_written() {
        let mut n = Neighbours::open().unwrap();
        assert!(matches!(
            n.set(1, Ipv4Addr::new(10, 0, 0, 5), 6, &[1, 2, 3, 4, 5, 6]),
            Err(NeighError::NotEthernet { htype: 6, len: 6 })
        ));
        assert!(matches!(
            n.set(1, Ipv4Addr::new(10, 0, 0, 5), 1, &[1, 2, 3, 4]),
            Err(NeighError::NotEthernet { htype: 1, len: 4 })
        ));
    }
}
