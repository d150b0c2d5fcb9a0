//! Writing replies into the caller's buffer: the PXE boot-server ACK, the
//! proxyDHCP reply, full DHCP's OFFER/ACK, the INFORM answer, the BOOTP
//! reply and the NAK, with the destination. Every reply but the NAK goes
//! through one writer, [`Engine::write`], parameterised by the reply kind:
//! it fills the server's part ([`ServerPart`]: its address, the message
//! type, the lease address and times, the built-in values, the resolved
//! next server) and leaves the header rules and the order of options to
//! the writer the engine and crate users share,
//! [`Decision::write_reply`]. Each writer returns what it wrote
//! ([`Sent`]); counting and reporting happen in one place,
//! `Engine::account`.

use core::net::Ipv4Addr;

use pxe_dhcp::{Builder, MessageType, code};
use pxe_rules::{Builtins, Config, Decision, LeaseTimes, ReplyError, ServerPart};

use super::addressing::{self, AddressingInput, Destination};
use super::event::{NakReason, NextServer, ReplyKind};
use super::hostname::{self, NameFor};
use super::{Engine, Exchange};

/// A reply written into the output buffer: its length (or why it did not
/// fit) and what the event about it says.
pub(super) struct Sent<'a> {
    pub(super) built: Result<usize, ReplyError>,
    pub(super) kind: ReplyKind,
    pub(super) yiaddr: Ipv4Addr,
    pub(super) next_server: NextServer<'a>,
    pub(super) dest: Destination,
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

    /// The destination of a reply with `ciaddr` and `yiaddr` (dnsmasq
    /// addresses the reply it built, not the request).
    fn addressing(
        &self,
        x: &Exchange<'_>,
        ciaddr: Ipv4Addr,
        yiaddr: Ipv4Addr,
        force_broadcast: bool,
    ) -> Destination {
        let req = &x.req;
        let p = &req.pkt;
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

    /// Writes the reply of `kind` (which gives `yiaddr`, the address it
    /// leases or names) into `out`: the server's part, then
    /// [`Decision::write_reply`].
    fn write<'x>(
        &self,
        kind: ReplyKind,
        yiaddr: Ipv4Addr,
        x: &Exchange<'x>,
        out: &mut [u8],
    ) -> Sent<'x> {
        let (req, d) = (&x.req, x.d);
        let next_server = self.next_server(d);
        let config = self.config.clone();
        let mut generated = [0u8; hostname::GENERATED_MAX];
        let name = self.reply_name(kind, x, &mut generated);
        let server = ServerPart {
            next_server: Some(next_server.addr),
            ..self.server_part(kind, yiaddr, x, &config, name)
        };
        let built = d
            .write_reply(req.pkt, &server, out)
            .and_then(|b| Ok(b.finish()?));
        let (dest_yiaddr, force_broadcast) = match kind {
            ReplyKind::ProxyOffer | ReplyKind::ProxyAck => (
                Ipv4Addr::UNSPECIFIED,
                kind == ReplyKind::ProxyOffer || req.pkt.ciaddr().is_unspecified(),
            ),
            ReplyKind::InformAck => (Ipv4Addr::UNSPECIFIED, false),
            ReplyKind::Offer | ReplyKind::Ack => (yiaddr, d.broadcast()),
            _ => (yiaddr, false),
        };
        // A boot-server ACK moves the client's address from `ciaddr` to
        // `yiaddr`: on 67 it goes out as to a client without an address
        // (broadcast with the flag, else to `yiaddr` at its MAC), as
        // dnsmasq's does.
        let reply_ciaddr = if kind == ReplyKind::BootServerAck {
            Ipv4Addr::UNSPECIFIED
        } else {
            request_ciaddr(x)
        };
        Sent {
            built,
            kind,
            yiaddr,
            next_server: NextServer {
                addr: d.next_server(&server),
                ..next_server
            },
            dest: self.addressing(x, reply_ciaddr, dest_yiaddr, force_broadcast),
        }
    }

    /// The host name a reply of `kind` gives the client ([`hostname`]);
    /// a generated one is written into `buf`.
    pub(super) fn reply_name<'a>(
        &'a self,
        kind: ReplyKind,
        x: &'a Exchange<'a>,
        buf: &'a mut [u8; hostname::GENERATED_MAX],
    ) -> Option<&'a [u8]> {
        let purpose = match kind {
            ReplyKind::Offer => NameFor::Offer,
            ReplyKind::Ack => NameFor::Ack,
            ReplyKind::InformAck => NameFor::Inform,
            _ => return None,
        };
        let req = &x.req;
        let lease_name =
            if purpose == NameFor::Inform && self.leases.find(req.client_id, &req.hw).is_none() {
                self.leases
                    .get(req.pkt.ciaddr())
                    .and_then(|l| l.hostname.as_deref())
                    .map(str::as_bytes)
            } else {
                None
            };
        let client = hostname::client_name(req.pkt);
        hostname::reply_name(purpose, x.d, client, lease_name, &req.hw, buf)
    }

    /// What the server adds to a reply of `kind` (the next server aside),
    /// with the host name it gives the client.
    fn server_part<'c>(
        &self,
        kind: ReplyKind,
        yiaddr: Ipv4Addr,
        x: &Exchange<'c>,
        config: &'c Config,
        name: Option<&'c [u8]>,
    ) -> ServerPart<'c> {
        let (req, rx) = (&x.req, x.rx);
        let base = ServerPart::new(rx.local, None);
        match kind {
            ReplyKind::Offer | ReplyKind::Ack => {
                let times = self.times(x);
                let mt = if kind == ReplyKind::Offer {
                    MessageType::Offer
                } else {
                    MessageType::Ack
                };
                ServerPart {
                    message_type: Some(mt),
                    yiaddr,
                    // Only a rapid commit ACKs a DISCOVER (RFC 4039 §4).
                    rapid_commit: mt == MessageType::Ack && req.mt == Some(MessageType::Discover),
                    lease: Some(LeaseTimes {
                        lease: times.lease,
                        renewal: times.t1.zip(times.t2),
                    }),
                    builtins: builtins(x, config, name),
                    ..base
                }
            }
            ReplyKind::InformAck => ServerPart {
                message_type: Some(MessageType::Ack),
                builtins: builtins(x, config, name),
                ..base
            },
            ReplyKind::Bootp => ServerPart {
                yiaddr,
                builtins: Builtins {
                    subnet_mask: Some(rx.netmask),
                    ..Builtins::default()
                },
                ..base
            },
            ReplyKind::BootServerAck
            | ReplyKind::ProxyOffer
            | ReplyKind::ProxyAck
            | ReplyKind::Nak(_) => base,
        }
    }

    /// PXE boot-server ACK to a request with 43 sub-option 71: `yiaddr =
    /// ciaddr`, `ciaddr = 0`, the service's boot file, back to the sender.
    pub(super) fn boot_server<'x>(&self, x: &Exchange<'x>, out: &mut [u8]) -> Sent<'x> {
        self.write(ReplyKind::BootServerAck, x.req.pkt.ciaddr(), x, out)
    }

    /// ProxyDHCP reply: OFFER to a DISCOVER, ACK to a REQUEST on 4011;
    /// never an address (`yiaddr` 0), broadcast flag set when `ciaddr` is 0.
    pub(super) fn proxy<'x>(&self, x: &Exchange<'x>, out: &mut [u8]) -> Sent<'x> {
        let kind = if x.req.mt == Some(MessageType::Discover) {
            ReplyKind::ProxyOffer
        } else {
            ReplyKind::ProxyAck
        };
        self.write(kind, Ipv4Addr::UNSPECIFIED, x, out)
    }

    /// Full DHCP OFFER or ACK of `addr`.
    pub(super) fn reply_full<'x>(
        &self,
        x: &Exchange<'x>,
        out: &mut [u8],
        mt: MessageType,
        addr: Ipv4Addr,
    ) -> Sent<'x> {
        let kind = if mt == MessageType::Offer {
            ReplyKind::Offer
        } else {
            ReplyKind::Ack
        };
        self.write(kind, addr, x, out)
    }

    /// DHCPACK answering an INFORM: options, no lease.
    pub(super) fn reply_inform<'x>(&self, x: &Exchange<'x>, out: &mut [u8]) -> Sent<'x> {
        self.write(ReplyKind::InformAck, x.req.pkt.ciaddr(), x, out)
    }

    /// BOOTP reply with the client's `dhcp-host` address.
    pub(super) fn reply_bootp<'x>(
        &self,
        x: &Exchange<'x>,
        out: &mut [u8],
        addr: Ipv4Addr,
    ) -> Sent<'x> {
        self.write(ReplyKind::Bootp, addr, x, out)
    }

    /// DHCPNAK with `reason` in option 56, addressed as dnsmasq does it
    /// ([`nak_broadcast`]): broadcast with the broadcast flag set
    /// (RFC 2131 §4.3.2) — to the relay when there is one — except to a
    /// client that unicast its request from another network without a
    /// relay, which only a unicast to `ciaddr` reaches.
    pub(super) fn nak<'x>(&self, x: &Exchange<'x>, reason: NakReason, out: &mut [u8]) -> Sent<'x> {
        let (req, rx) = (&x.req, x.rx);
        let giaddr = req.pkt.giaddr();
        let ciaddr = request_ciaddr(x);
        let mask = x.d.range().and_then(|r| r.netmask).unwrap_or(rx.netmask);
        let broadcast = nak_broadcast(reason, rx.broadcast, giaddr, ciaddr, rx.local, mask);
        let (flags, reply_ciaddr) = if broadcast {
            (
                req.pkt.flags() | pxe_dhcp::Flags::BROADCAST,
                Ipv4Addr::UNSPECIFIED,
            )
        } else {
            (req.pkt.flags(), ciaddr)
        };
        let r = (|| {
            let mut b = Builder::reply_to(req.pkt, &mut *out)?;
            b.flags(flags).ciaddr(reply_ciaddr);
            b.message_type(MessageType::Nak)?;
            b.server_id(rx.local)?;
            b.option(code::MESSAGE, reason.message().as_bytes())?;
            b.finish()
        })()
        .map_err(ReplyError::from);
        let dest = addressing::destination(&AddressingInput {
            arrival_port: rx.port,
            src: rx.src,
            ciaddr: reply_ciaddr,
            giaddr,
            broadcast_flag: flags.contains(pxe_dhcp::Flags::BROADCAST),
            htype: req.pkt.htype(),
            hlen: req.pkt.hlen(),
            inform: false,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            hw: req.hw,
            force_broadcast: true,
        });
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

/// The request's `ciaddr` as dnsmasq reads it: 0 in a DISCOVER or when
/// option 50 names the address ("some buggy clients set ciaddr when they
/// shouldn't", `rfc2131.c`).
fn request_ciaddr(x: &Exchange<'_>) -> Ipv4Addr {
    let p = &x.req.pkt;
    if x.req.mt == Some(MessageType::Discover) || p.requested_ip().ok().flatten().is_some() {
        Ipv4Addr::UNSPECIFIED
    } else {
        p.ciaddr()
    }
}

/// Whether a NAK is broadcast with the broadcast flag set and `ciaddr` 0
/// (dnsmasq's rule, `rfc2131.c`): always, unless the request was unicast
/// (`arrived_broadcast` false) by a client with an address on another
/// network than `local`/`mask`, without a relay — a broadcast would never
/// reach it. "lease not found" and "wrong network" answer a client whose
/// address is not what it thinks, so they are broadcast even then.
pub(super) fn nak_broadcast(
    reason: NakReason,
    arrived_broadcast: bool,
    giaddr: Ipv4Addr,
    ciaddr: Ipv4Addr,
    local: Ipv4Addr,
    mask: Ipv4Addr,
) -> bool {
    let unicast_dest =
        !arrived_broadcast && !matches!(reason, NakReason::LeaseNotFound | NakReason::WrongNetwork);
    let same_net = u32::from(local) & u32::from(mask) == u32::from(ciaddr) & u32::from(mask);
    !unicast_dest || !giaddr.is_unspecified() || ciaddr.is_unspecified() || same_net
}

/// The values of the server's built-in options 1, 28, 3, 15, 12 and 81 (the
/// shared writer leaves out what a configured line replaces, and 3, 15
/// and 12 when the client did not ask for them).
fn builtins<'c>(x: &Exchange<'c>, config: &'c Config, name: Option<&'c [u8]>) -> Builtins<'c> {
    let (d, rx, req) = (x.d, x.rx, &x.req);
    let range = d.range();
    let mask = range.and_then(|r| r.netmask).unwrap_or(rx.netmask);
    let broadcast = range
        .and_then(|r| r.broadcast)
        .unwrap_or_else(|| Ipv4Addr::from(u32::from(rx.local) | !u32::from(mask)));
    let router = if req.pkt.giaddr().is_unspecified() {
        rx.local
    } else {
        req.pkt.giaddr()
    };
    Builtins {
        subnet_mask: Some(mask),
        broadcast: Some(broadcast),
        router: Some(router),
        dns_server: None,
        domain: config.settings.domain.as_deref().map(str::as_bytes),
        hostname: name,
        fqdn_flags: req
            .pkt
            .option_ref(hostname::CLIENT_FQDN)
            .filter(|o| o.len() >= 3)
            .map(|o| hostname::fqdn_reply_flags(o[0])),
    }
}
