//! Writing replies into the caller's buffer: the PXE boot-server ACK, the
//! proxyDHCP reply, full DHCP's OFFER/ACK, the INFORM answer, the BOOTP
//! reply and the NAK, with the server's own options and the destination.
//! Each writer returns what it wrote ([`Sent`]); counting and reporting
//! happen in one place, `Engine::account`.

use core::net::{Ipv4Addr, SocketAddrV4};

use pxe_dhcp::{Builder, MessageType, code};
use pxe_rules::Decision;

use super::addressing::{self, AddressingInput, Destination};
use super::event::{NakReason, NextServer, ReplyKind};
use super::{Engine, Exchange, RAPID_COMMIT};

/// A reply written into the output buffer: its length (or why it did not
/// fit) and what the event about it says.
pub(super) struct Sent<'a> {
    pub(super) built: Result<usize, pxe_dhcp::Error>,
    pub(super) kind: ReplyKind,
    pub(super) yiaddr: Ipv4Addr,
    pub(super) next_server: NextServer<'a>,
    pub(super) dest: Destination,
}

/// The boot file and server name header fields, when the decision has them.
fn boot_fields(b: &mut Builder<'_>, d: &Decision<'_>) -> Result<(), pxe_dhcp::Error> {
    if let Some(f) = d.file() {
        b.file(f)?;
    }
    if let Some(s) = d.sname() {
        b.sname(s)?;
    }
    Ok(())
}

impl Engine {
    /// `siaddr` for a reply: the decision's address, or its server name
    /// looked up in the hosts file (`0.0.0.0` and the name reported when
    /// it is not there).
    fn next_server<'a>(&self, d: &Decision<'a>) -> NextServer<'a> {
        let Some(name) = d.siaddr_host() else {
            return NextServer {
                addr: d.siaddr(),
                unresolved: None,
            };
        };
        match self.hosts.lookup(name) {
            Some(addr) => NextServer {
                addr,
                unresolved: None,
            },
            None => NextServer {
                addr: Ipv4Addr::UNSPECIFIED,
                unresolved: Some(name),
            },
        }
    }

    fn addressing(&self, x: &Exchange<'_>, yiaddr: Ipv4Addr, force_broadcast: bool) -> Destination {
        let req = &x.req;
        let p = &req.pkt;
        let ciaddr =
            if req.mt == Some(MessageType::Discover) || p.requested_ip().ok().flatten().is_some() {
                Ipv4Addr::UNSPECIFIED
            } else {
                p.ciaddr()
            };
        addressing::destination(&AddressingInput {
            arrival_port: x.rx.port,
            src: x.rx.src,
            ciaddr,
            giaddr: p.giaddr(),
            broadcast_flag: p.flags().contains(pxe_dhcp::Flags::BROADCAST),
            htype: p.htype(),
            hlen: p.hlen(),
            inform: req.mt == Some(MessageType::Inform),
            yiaddr,
            hw: req.hw,
            force_broadcast,
        })
    }

    /// The server's built-in options 1, 28, 3, 15 and 12, unless a
    /// configured line replaces them (3, 15 and 12 only when asked for).
    fn builtins(&self, b: &mut Builder<'_>, x: &Exchange<'_>) -> Result<(), pxe_dhcp::Error> {
        let (d, rx, req) = (x.d, x.rx, &x.req);
        let range = d.range();
        let prl = req.pkt.parameter_request_list().ok().flatten();
        let wants = |c: u8| prl.as_ref().is_none_or(|l| l.contains(c));
        let mask = range.and_then(|r| r.netmask).unwrap_or(rx.netmask);
        if !d.overrides_builtin(1) {
            b.ipv4_option(code::SUBNET_MASK, mask)?;
        }
        if !d.overrides_builtin(28) {
            let bc = range
                .and_then(|r| r.broadcast)
                .unwrap_or_else(|| Ipv4Addr::from(u32::from(rx.local) | !u32::from(mask)));
            b.ipv4_option(code::BROADCAST, bc)?;
        }
        if !d.overrides_builtin(3) && wants(3) {
            let gw = if req.pkt.giaddr().is_unspecified() {
                rx.local
            } else {
                req.pkt.giaddr()
            };
            b.ipv4_option(code::ROUTER, gw)?;
        }
        if !d.overrides_builtin(15)
            && wants(15)
            && let Some(dom) = &self.config.settings.domain
        {
            b.option(code::DOMAIN_NAME, dom.as_bytes())?;
        }
        if !d.overrides_builtin(12)
            && wants(12)
            && let Some(n) = d.host().and_then(|h| h.name.as_deref())
        {
            b.option(code::HOST_NAME, n.as_bytes())?;
        }
        Ok(())
    }

    /// PXE boot-server ACK to a request with 43 sub-option 71: `yiaddr =
    /// ciaddr`, `ciaddr = 0`, the service's boot file, back to the sender.
    pub(super) fn boot_server<'x>(&self, x: &Exchange<'x>, out: &mut [u8]) -> Sent<'x> {
        let (req, d, rx) = (&x.req, x.d, x.rx);
        let ciaddr = req.pkt.ciaddr();
        let next_server = self.next_server(d);
        let siaddr = next_server.addr;
        let r = (|| {
            let mut b = Builder::reply_to(&req.pkt, &mut *out)?;
            b.yiaddr(ciaddr)
                .ciaddr(Ipv4Addr::UNSPECIFIED)
                .siaddr(siaddr);
            boot_fields(&mut b, d)?;
            b.message_type(MessageType::Ack)?;
            b.server_id(rx.local)?;
            for (c, v) in d.options() {
                b.option(c, v)?;
            }
            b.finish()
        })();
        Sent {
            built: r,
            kind: ReplyKind::BootServerAck,
            yiaddr: ciaddr,
            next_server,
            dest: self.addressing(x, ciaddr, false),
        }
    }

    /// ProxyDHCP reply: OFFER to a DISCOVER, ACK to a REQUEST on 4011;
    /// never an address (`yiaddr` 0), broadcast flag set when `ciaddr` is 0.
    pub(super) fn proxy<'x>(&self, x: &Exchange<'x>, out: &mut [u8]) -> Sent<'x> {
        let (req, d, rx) = (&x.req, x.d, x.rx);
        let discover = req.mt == Some(MessageType::Discover);
        let ciaddr = if discover {
            Ipv4Addr::UNSPECIFIED
        } else {
            req.pkt.ciaddr()
        };
        // Deviation (see the module docs): a boot file without a server
        // gets our own address as next-server, so iPXE accepts the offer.
        let mut next_server = self.next_server(d);
        if next_server.addr.is_unspecified() && d.siaddr_host().is_none() && d.file().is_some() {
            next_server.addr = rx.local;
        }
        let siaddr = next_server.addr;
        let r = (|| {
            let mut b = Builder::reply_to(&req.pkt, &mut *out)?;
            b.ciaddr(ciaddr).siaddr(siaddr);
            if ciaddr.is_unspecified() {
                b.flags(req.pkt.flags() | pxe_dhcp::Flags::BROADCAST);
            }
            boot_fields(&mut b, d)?;
            b.message_type(if discover {
                MessageType::Offer
            } else {
                MessageType::Ack
            })?;
            b.server_id(rx.local)?;
            for (c, v) in d.options() {
                b.option(c, v)?;
            }
            b.copy_option(&req.pkt, code::RELAY_AGENT_INFO)?;
            b.finish()
        })();
        Sent {
            built: r,
            kind: if discover {
                ReplyKind::ProxyOffer
            } else {
                ReplyKind::ProxyAck
            },
            yiaddr: Ipv4Addr::UNSPECIFIED,
            next_server,
            dest: self.addressing(x, Ipv4Addr::UNSPECIFIED, ciaddr.is_unspecified()),
        }
    }

    /// Full DHCP OFFER or ACK of `addr`.
    pub(super) fn reply_full<'x>(
        &self,
        x: &Exchange<'x>,
        out: &mut [u8],
        mt: MessageType,
        addr: Ipv4Addr,
    ) -> Sent<'x> {
        let (req, d, rx) = (&x.req, x.d, x.rx);
        let times = self.times(x);
        let next_server = self.next_server(d);
        let siaddr = next_server.addr;
        let r = (|| {
            let mut b = Builder::reply_to(&req.pkt, &mut *out)?;
            b.yiaddr(addr).siaddr(siaddr);
            boot_fields(&mut b, d)?;
            b.message_type(mt)?;
            b.server_id(rx.local)?;
            if mt == MessageType::Ack && req.mt == Some(MessageType::Discover) {
                // Only a rapid commit ACKs a DISCOVER (RFC 4039 §4).
                b.option(RAPID_COMMIT, &[])?;
            }
            b.lease_time(times.lease)?;
            for (c, v) in d.boot_options() {
                b.option(c, v)?;
            }
            if let (Some(t1), Some(t2)) = (times.t1, times.t2) {
                b.u32_option(code::RENEWAL_TIME, t1)?;
                b.u32_option(code::REBINDING_TIME, t2)?;
            }
            self.builtins(&mut b, x)?;
            for (c, v) in d.options() {
                b.option(c, v)?;
            }
            b.copy_option(&req.pkt, code::RELAY_AGENT_INFO)?;
            b.finish()
        })();
        Sent {
            built: r,
            kind: if mt == MessageType::Offer {
                ReplyKind::Offer
            } else {
                ReplyKind::Ack
            },
            yiaddr: addr,
            next_server,
            dest: self.addressing(x, addr, d.broadcast()),
        }
    }

    /// DHCPACK answering an INFORM: options, no lease.
    pub(super) fn reply_inform<'x>(&self, x: &Exchange<'x>, out: &mut [u8]) -> Sent<'x> {
        let (req, d, rx) = (&x.req, x.d, x.rx);
        let next_server = self.next_server(d);
        let siaddr = next_server.addr;
        let ciaddr = req.pkt.ciaddr();
        let r = (|| {
            let mut b = Builder::reply_to(&req.pkt, &mut *out)?;
            b.ciaddr(ciaddr).siaddr(siaddr);
            boot_fields(&mut b, d)?;
            b.message_type(MessageType::Ack)?;
            b.server_id(rx.local)?;
            for (c, v) in d.boot_options() {
                b.option(c, v)?;
            }
            self.builtins(&mut b, x)?;
            for (c, v) in d.options() {
                b.option(c, v)?;
            }
            b.copy_option(&req.pkt, code::RELAY_AGENT_INFO)?;
            b.finish()
        })();
        Sent {
            built: r,
            kind: ReplyKind::InformAck,
            yiaddr: ciaddr,
            next_server,
            dest: self.addressing(x, Ipv4Addr::UNSPECIFIED, false),
        }
    }

    /// BOOTP reply with the client's `dhcp-host` address.
    pub(super) fn reply_bootp<'x>(
        &self,
        x: &Exchange<'x>,
        out: &mut [u8],
        addr: Ipv4Addr,
    ) -> Sent<'x> {
        let (req, d, rx) = (&x.req, x.d, x.rx);
        let next_server = self.next_server(d);
        let siaddr = next_server.addr;
        let r = (|| {
            let mut b = Builder::reply_to(&req.pkt, &mut *out)?;
            b.yiaddr(addr).siaddr(siaddr);
            if let Some(f) = d.file() {
                b.file(f)?;
            }
            b.ipv4_option(code::SUBNET_MASK, rx.netmask)?;
            b.finish()
        })();
        Sent {
            built: r,
            kind: ReplyKind::Bootp,
            yiaddr: addr,
            next_server,
            dest: self.addressing(x, addr, false),
        }
    }

    /// DHCPNAK with `reason` in option 56; broadcast unless relayed.
    pub(super) fn nak<'x>(&self, x: &Exchange<'x>, reason: NakReason, out: &mut [u8]) -> Sent<'x> {
        let (req, rx) = (&x.req, x.rx);
        let r = (|| {
            let mut b = Builder::reply_to(&req.pkt, &mut *out)?;
            if !req.pkt.giaddr().is_unspecified() {
                b.flags(req.pkt.flags() | pxe_dhcp::Flags::BROADCAST);
            }
            b.message_type(MessageType::Nak)?;
            b.server_id(rx.local)?;
            b.option(code::MESSAGE, reason.message().as_bytes())?;
            b.finish()
        })();
        let dest = if req.pkt.giaddr().is_unspecified() {
            Destination::Broadcast
        } else {
            Destination::Unicast(SocketAddrV4::new(req.pkt.giaddr(), addressing::SERVER_PORT))
        };
        Sent {
            built: r,
            kind: ReplyKind::Nak(reason),
            yiaddr: Ipv4Addr::UNSPECIFIED,
            next_server: NextServer {
                addr: Ipv4Addr::UNSPECIFIED,
                unresolved: None,
            },
            dest,
        }
    }
}
