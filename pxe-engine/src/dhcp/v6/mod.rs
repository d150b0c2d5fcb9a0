//! The DHCPv6 server (RFC 8415, with RFC 5970 netboot options), in the
//! same [`Engine`] as DHCPv4: one lease table, one log, one lock.
//!
//! [`Engine::handle6`] answers SOLICIT (ADVERTISE, or REPLY with rapid
//! commit), REQUEST, RENEW, REBIND, RELEASE, DECLINE, CONFIRM and
//! INFORMATION-REQUEST, directly or through relays (RELAY-FORW in,
//! RELAY-REPL out, the relay's link-address choosing the range). The rules
//! come from [`pxe_rules::Config::evaluate6`]: the tags, the IPv6
//! `dhcp-range` of the link, the `option6:` lines (boot-file-url per
//! architecture and tag). Replies are laid out as dnsmasq 2.90 lays them
//! out (client-id, server-id, IA_NA, status, preference, options), which
//! is what the firmware of `shared/spec/captures/ipv6/` accepted.
//!
//! What the firmware needs, and where it comes from:
//!
//! - option 59 in the ADVERTISE and again in the REPLY: the options are
//!   written into both (when the client's ORO asks for them);
//! - preference 255 (EDK2 then REQUESTs at once): sent, as by dnsmasq,
//!   with `dhcp-authoritative` (0 otherwise);
//! - no option 16 "PXEClient" to a PXEv6 client: none is added;
//! - "HTTPClient" in option 16 for UEFI HTTP Boot: **a deviation from
//!   dnsmasq** (which sends only what the configuration says): a client
//!   whose vendor class is `HTTPClient…` and that gets a boot-file-url but
//!   no configured option 16 gets option 16 `HTTPClient` (enterprise 343)
//!   in the same message, without which EDK2 ignores the offer.
//!
//! Lease changes come back through [`Output::Persist`] exactly as for
//! DHCPv4: a REPLY that grants an address is reachable only past them.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::{Ipv6Addr, SocketAddrV6};

use pxe_dhcp::v6::{
    Builder, Duid, ENTERPRISE_INTEL, Error as CodecError, Message, MessageType, Packet,
    RelayMessage, Status, code,
};
use pxe_rules::config::LeaseTime;
use pxe_rules::{Context6, Decision6, Facts6, IgnoreReason, Verdict6, mac_from_eui64};

use super::Engine;
use super::output::{Output, Persist};
use crate::lease::{Lease6, NEVER};

mod ra;

pub use ra::{ALL_NODES, RouterAdvert};

/// UDP port of DHCPv6 servers and relays.
pub const SERVER_PORT: u16 = 547;
/// The All_DHCP_Relay_Agents_and_Servers group a server joins on each
/// interface (RFC 8415 section 7.1).
pub const ALL_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);
/// The most IA_NAs of one message the server answers.
pub const MAX_IAS: usize = 8;

/// Where a DHCPv6 datagram came from.
#[derive(Clone, Copy, Debug)]
pub struct RxInfo6<'a> {
    /// Its source address and port (a client's link-local address and
    /// 546, or a relay's address and 547), with the interface's scope id.
    pub src: SocketAddrV6,
    /// Name of the arrival interface.
    pub iface: &'a str,
    /// The server's global or ULA address on that interface: it selects
    /// the link's range and is the address `[::]` stands for.
    pub local: Ipv6Addr,
}

/// A reply to send: the first `len` bytes of the output buffer, to `dest`
/// (always the request's source: the client, or the relay).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply6 {
    /// Reply length.
    pub len: usize,
    /// Where it goes.
    pub dest: SocketAddrV6,
}

/// Why a DHCPv6 datagram got no reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drop6 {
    /// Not a well-formed DHCPv6 message (header, option framing, relay).
    Malformed,
    /// A message only servers send (ADVERTISE, REPLY, RECONFIGURE,
    /// RELAY-REPL) or an unknown type.
    NotAClientMessage,
    /// No client identifier where RFC 8415 requires one.
    NoClientId,
    /// A server identifier that is not ours (for another server), or one
    /// where none is allowed.
    ServerId,
    /// The rules give no reply (`dhcp-ignore`, no range on the link, …).
    Ignored(IgnoreReason),
    /// The range of the link hands out no addresses by DHCPv6
    /// (`ra-only`, `ra-stateless`) and the request wants some.
    Stateless,
    /// A CONFIRM without addresses, which RFC 8415 says to ignore.
    NothingToConfirm,
    /// The reply did not fit the output buffer.
    ReplyTooBig,
}

impl Drop6 {
    fn name(self) -> &'static str {
        match self {
            Drop6::Malformed => "malformed",
            Drop6::NotAClientMessage => "not a client message",
            Drop6::NoClientId => "no client id",
            Drop6::ServerId => "server id not ours",
            Drop6::Ignored(IgnoreReason::NoRange) => "no range for the link",
            Drop6::Ignored(_) => "ignored by the rules",
            Drop6::Stateless => "stateless range",
            Drop6::NothingToConfirm => "nothing to confirm",
            Drop6::ReplyTooBig => "reply too big",
        }
    }
}

/// What became of a DHCPv6 datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a reply must be sent"]
pub enum Outcome6 {
    /// Send this reply.
    Reply(Reply6),
    /// Dropped and counted.
    Dropped(Drop6),
}

impl Outcome6 {
    /// The reply, if there is one.
    pub fn reply(&self) -> Option<&Reply6> {
        match self {
            Outcome6::Reply(r) => Some(r),
            Outcome6::Dropped(_) => None,
        }
    }
}

/// DHCPv6 counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metrics6 {
    /// Datagrams handled.
    pub received: u64,
    /// Replies built (ADVERTISE and REPLY).
    pub replies: u64,
    /// ADVERTISEs among them.
    pub advertises: u64,
    /// Addresses granted or extended.
    pub grants: u64,
    /// Addresses released.
    pub releases: u64,
    /// Addresses declined.
    pub declines: u64,
    /// Datagrams dropped.
    pub dropped: u64,
}

/// One IA_NA's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IaAnswer {
    /// The IAID.
    pub iaid: u32,
    /// The address with its preferred and valid lifetimes (both 0 for an
    /// address the client must stop using), or `None`.
    pub addr: Option<(Ipv6Addr, u32, u32)>,
    /// The IA's status when it is not success.
    pub status: Option<Status>,
}

/// What happened, for logs.
#[derive(Clone, Copy, Debug)]
pub enum Event6<'a> {
    /// A request was answered.
    Reply {
        /// The arrival interface.
        iface: &'a str,
        /// The request's type.
        request: MessageType,
        /// The client's DUID.
        duid: &'a [u8],
        /// The client's MAC, when known.
        mac: Option<[u8; 6]>,
        /// The reply's type.
        reply: MessageType,
        /// The IA_NAs answered.
        ias: &'a [IaAnswer],
        /// The decision (tags, range, options).
        decision: Option<&'a Decision6<'a>>,
    },
    /// A datagram was dropped.
    Dropped {
        /// The arrival interface.
        iface: &'a str,
        /// Its source.
        src: SocketAddrV6,
        /// The request's type, when readable.
        request: Option<MessageType>,
        /// Why.
        reason: Drop6,
    },
}

fn msg_name(t: MessageType) -> &'static str {
    t.name().unwrap_or("UNKNOWN")
}

/// dnsmasq-like log lines: `DHCPSOLICIT(eth0) 00:04:… -> DHCPADVERTISE
/// fd00:77::19e tags: efi64 bootfile-url=tftp://[fd00:77::1]/ipxe.efi`.
impl fmt::Display for Event6<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event6::Reply {
                iface,
                request,
                duid,
                mac,
                reply,
                ias,
                decision,
            } => {
                write!(f, "DHCP{}({iface}) ", msg_name(*request))?;
                for (i, b) in duid.iter().enumerate() {
                    write!(f, "{}{b:02x}", if i > 0 { ":" } else { "" })?;
                }
                if let Some(m) = mac {
                    write!(
                        f,
                        " ({:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x})",
                        m[0], m[1], m[2], m[3], m[4], m[5]
                    )?;
                }
                write!(f, " -> DHCP{}", msg_name(*reply))?;
                for ia in ias.iter() {
                    match (ia.addr, ia.status) {
                        (Some((a, _, v)), _) if v > 0 => write!(f, " {a}")?,
                        (Some((a, _, _)), _) => write!(f, " {a} (withdrawn)")?,
                        (None, Some(s)) => {
                            write!(f, " IA {:#x}: {}", ia.iaid, s.name().unwrap_or("?"))?
                        }
                        (None, None) => {}
                    }
                }
                if let Some(d) = decision {
                    f.write_str(" tags:")?;
                    let mut any = false;
                    for t in d.tag_names() {
                        write!(f, " {t}")?;
                        any = true;
                    }
                    if !any {
                        f.write_str(" none")?;
                    }
                    if let Some(u) = d.boot_file_url() {
                        write!(
                            f,
                            " bootfile-url={}",
                            core::str::from_utf8(u).unwrap_or("?")
                        )?;
                    }
                }
                Ok(())
            }
            Event6::Dropped {
                iface,
                src,
                request,
                reason,
            } => {
                write!(f, "DHCPv6({iface}) from {src}")?;
                if let Some(t) = request {
                    write!(f, " {}", msg_name(*t))?;
                }
                write!(f, " dropped: {}", reason.name())
            }
        }
    }
}

/// Receives [`Event6`]s.
pub trait Event6Sink {
    /// One event; it borrows from the exchange.
    fn event6(&mut self, e: &Event6<'_>);
}

impl<F: FnMut(&Event6<'_>)> Event6Sink for F {
    fn event6(&mut self, e: &Event6<'_>) {
        self(e)
    }
}

/// The request as the engine reads it: the client's message, the relay
/// around it (if relayed), the link it belongs to, the client's MAC.
struct Req6<'p> {
    msg: Message<&'p [u8]>,
    relay: Option<RelayMessage<&'p [u8]>>,
    link: Ipv6Addr,
    mac: Option<[u8; 6]>,
}

impl<'p> Req6<'p> {
    fn parse(datagram: &'p [u8], rx: &RxInfo6<'_>) -> Result<Self, (Drop6, Option<MessageType>)> {
        let pkt = Packet::new_checked(datagram).map_err(|_| (Drop6::Malformed, None))?;
        let outer = match pkt {
            Packet::Message(msg) => {
                return Ok(Req6 {
                    msg,
                    relay: None,
                    link: rx.local,
                    mac: mac_from_eui64(*rx.src.ip()),
                });
            }
            Packet::Relay(r) if r.msg_type() == MessageType::RelayForw => r,
            Packet::Relay(r) => return Err((Drop6::NotAClientMessage, Some(r.msg_type()))),
        };
        // Walk down to the client's message; the relay directly around it
        // (the first agent) describes the client's link.
        let mut first_agent = outer.clone();
        let mut msg = None;
        for _ in 0..pxe_dhcp::v6::MAX_RELAY_DEPTH {
            match first_agent.relay_message_ref() {
                Ok(Packet::Message(m)) => {
                    msg = Some(m);
                    break;
                }
                Ok(Packet::Relay(r)) if r.msg_type() == MessageType::RelayForw => first_agent = r,
                _ => return Err((Drop6::Malformed, None)),
            }
        }
        let msg = msg.ok_or((Drop6::Malformed, None))?;
        let link = match first_agent.link_address() {
            a if a.is_unspecified() => rx.local,
            a => a,
        };
        let mac = first_agent
            .client_link_layer_address()
            .ok()
            .flatten()
            .and_then(|l| l.mac())
            .or_else(|| mac_from_eui64(first_agent.peer_address()));
        Ok(Req6 {
            msg,
            relay: Some(outer),
            link,
            mac,
        })
    }
}

/// The answers to the IA_NAs of one message.
#[derive(Default)]
struct Ias {
    list: [Option<IaAnswer>; MAX_IAS],
    n: usize,
}

impl Ias {
    fn push(&mut self, a: IaAnswer) {
        if let Some(slot) = self.list.get_mut(self.n) {
            *slot = Some(a);
            self.n += 1;
        }
    }

    fn answers(&self) -> impl Iterator<Item = IaAnswer> + '_ {
        self.list[..self.n].iter().flatten().copied()
    }

    fn any_address(&self) -> bool {
        self.answers()
            .any(|a| a.addr.is_some_and(|(_, _, v)| v > 0))
    }

    fn to_array(&self) -> ([IaAnswer; MAX_IAS], usize) {
        let blank = IaAnswer {
            iaid: 0,
            addr: None,
            status: None,
        };
        let mut out = [blank; MAX_IAS];
        for (o, a) in out.iter_mut().zip(self.answers()) {
            *o = a;
        }
        (out, self.n)
    }
}

/// Lifetimes and expiry of a lease time.
fn lifetimes(lease: LeaseTime, now: u64, deprecated: bool) -> (u32, u32, u64) {
    match lease {
        LeaseTime::Infinite => (if deprecated { 0 } else { u32::MAX }, u32::MAX, NEVER),
        LeaseTime::Secs(s) => (
            if deprecated { 0 } else { s },
            s,
            now.saturating_add(u64::from(s)),
        ),
    }
}

/// T1 and T2 as dnsmasq sets them (`rfc3315.c: end_ia`): half and
/// seven eighths of the lease, less `fuzz` halved until it is at most a
/// sixteenth of the lease (RENEW and REBIND answers, so that clients
/// spread their renewals). dnsmasq draws the fuzz at random; the engine
/// has no random source and takes it from the request (its transaction
/// id), which spreads clients the same way.
fn t1_t2(lease: LeaseTime, fuzz: Option<u32>) -> (u32, u32) {
    match lease {
        LeaseTime::Infinite => (u32::MAX, u32::MAX),
        LeaseTime::Secs(s) => {
            let mut f = fuzz.unwrap_or(0) & 0xffff;
            while f > s / 16 {
                f /= 2;
            }
            (s / 2 - f, (s / 8) * 7 - f)
        }
    }
}

/// What one message asks of the lease table.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IaOp {
    /// SOLICIT without rapid commit: choose, do not bind.
    Offer,
    /// SOLICIT with rapid commit, REQUEST: bind.
    Bind,
    /// RENEW: extend the client's bindings only.
    Renew,
    /// REBIND: extend, or bind an appropriate free address.
    Rebind,
    /// RELEASE.
    Release,
    /// DECLINE.
    Decline,
}

impl Engine {
    /// The server's DUID (option 2). Give it with
    /// [`Engine::set_server_duid`] (dnsmasq uses a DUID-LLT of the first
    /// interface's MAC; any stable DUID will do).
    pub fn server_duid(&self) -> &[u8] {
        &self.server_duid
    }

    /// Sets the server's DUID.
    pub fn set_server_duid(&mut self, duid: &[u8]) {
        self.server_duid.clear();
        self.server_duid.extend_from_slice(duid);
    }

    /// The DHCPv6 counters.
    pub fn metrics6(&self) -> &Metrics6 {
        &self.metrics6
    }

    /// Handles one DHCPv6 datagram received on UDP 547 at `now` (Unix
    /// seconds); the reply, if any, is written into `out` (1232 bytes or
    /// more). Lease changes come back as for DHCPv4.
    pub fn handle6<'e>(
        &'e mut self,
        now: u64,
        rx: &RxInfo6<'_>,
        datagram: &[u8],
        out: &mut [u8],
        events: &mut dyn Event6Sink,
    ) -> Output<'e, Outcome6> {
        self.changes.clear();
        self.metrics6.received += 1;
        let outcome = match self.answer6(now, rx, datagram, out, events) {
            Ok(r) => Outcome6::Reply(r),
            Err((why, request)) => {
                self.metrics6.dropped += 1;
                if !matches!(why, Drop6::Ignored(IgnoreReason::NoRange))
                    || self.config.settings.log_dhcp
                {
                    events.event6(&Event6::Dropped {
                        iface: rx.iface,
                        src: rx.src,
                        request,
                        reason: why,
                    });
                }
                Outcome6::Dropped(why)
            }
        };
        if self.changes.is_empty() {
            Output::Ready(outcome)
        } else {
            // DHCPv6 changes name their DUID and IAID themselves; the
            // owner (a DHCPv4 notion) carries no client.
            let owner = crate::lease::Owner {
                hw: crate::lease::HwAddr::new(0, &[])
                    .unwrap_or(crate::lease::HwAddr::ethernet([0; 6])),
                client_id: None,
            };
            Output::Persist(Persist::new(&mut self.changes, outcome, owner))
        }
    }

    fn answer6(
        &mut self,
        now: u64,
        rx: &RxInfo6<'_>,
        datagram: &[u8],
        out: &mut [u8],
        events: &mut dyn Event6Sink,
    ) -> Result<Reply6, (Drop6, Option<MessageType>)> {
        let req = Req6::parse(datagram, rx)?;
        let mt = req.msg.msg_type();
        let fail = |d: Drop6| (d, Some(mt));
        self.check_ids(&req.msg).map_err(fail)?;
        let config = self.config.clone();
        let facts = Facts6::new(&req.msg).with_mac(req.mac);
        let ctx = Context6::new(rx.local)
            .with_interface(rx.iface)
            .with_link(req.link);
        let d = config.evaluate6(&facts, &ctx);
        if let Verdict6::Ignore(r) = d.verdict() {
            return Err(fail(Drop6::Ignored(r)));
        }
        let duid = facts.client_id().unwrap_or_default();
        let mut ias = Ias::default();
        let (reply_type, status) = match mt {
            MessageType::Solicit => {
                let rapid = req.msg.rapid_commit().unwrap_or(false);
                let op = if rapid { IaOp::Bind } else { IaOp::Offer };
                self.stateful(&d).map_err(fail)?;
                self.answer_ias(now, &req.msg, &d, duid, op, &mut ias);
                let kind = if rapid {
                    MessageType::Reply
                } else {
                    MessageType::Advertise
                };
                (kind, Some(address_status(&ias)))
            }
            MessageType::Request => {
                self.stateful(&d).map_err(fail)?;
                self.answer_ias(now, &req.msg, &d, duid, IaOp::Bind, &mut ias);
                (MessageType::Reply, Some(address_status(&ias)))
            }
            MessageType::Renew | MessageType::Rebind => {
                let op = if mt == MessageType::Renew {
                    IaOp::Renew
                } else {
                    IaOp::Rebind
                };
                self.answer_ias(now, &req.msg, &d, duid, op, &mut ias);
                (MessageType::Reply, None)
            }
            MessageType::Release => {
                self.answer_ias(now, &req.msg, &d, duid, IaOp::Release, &mut ias);
                (
                    MessageType::Reply,
                    Some((Status::Success, "release received")),
                )
            }
            MessageType::Decline => {
                self.answer_ias(now, &req.msg, &d, duid, IaOp::Decline, &mut ias);
                (
                    MessageType::Reply,
                    Some((Status::Success, "decline received")),
                )
            }
            MessageType::Confirm => (
                MessageType::Reply,
                Some(self.confirm(&req.msg, &d).map_err(fail)?),
            ),
            MessageType::InformationRequest => (MessageType::Reply, None),
            _ => return Err(fail(Drop6::NotAClientMessage)),
        };
        // dnsmasq answers RELEASE, DECLINE and CONFIRM with a status only.
        let with_options = !matches!(
            mt,
            MessageType::Release | MessageType::Decline | MessageType::Confirm
        );
        let built = self.build6(
            &req,
            &facts,
            &d,
            reply_type,
            &ias,
            status,
            with_options,
            out,
        );
        let len = built.map_err(|_| fail(Drop6::ReplyTooBig))?;
        self.metrics6.replies += 1;
        if reply_type == MessageType::Advertise {
            self.metrics6.advertises += 1;
        }
        let (arr, n) = ias.to_array();
        events.event6(&Event6::Reply {
            iface: rx.iface,
            request: mt,
            duid,
            mac: req.mac,
            reply: reply_type,
            ias: &arr[..n],
            decision: Some(&d),
        });
        Ok(Reply6 { len, dest: rx.src })
    }

    /// RFC 8415 section 16: which messages need a client id, must carry
    /// our server id, or must carry none.
    fn check_ids(&self, msg: &Message<&[u8]>) -> Result<(), Drop6> {
        let mt = msg.msg_type();
        let client = msg
            .option(code::CLIENT_ID)
            .is_some_and(|o| !o.data.is_empty());
        let server = msg.option(code::SERVER_ID).map(|o| o.data);
        let ours = server.is_some_and(|s| s == self.server_duid.as_slice());
        match mt {
            MessageType::Solicit | MessageType::Confirm | MessageType::Rebind => {
                if !client {
                    return Err(Drop6::NoClientId);
                }
                if server.is_some() {
                    return Err(Drop6::ServerId);
                }
            }
            MessageType::Request
            | MessageType::Renew
            | MessageType::Release
            | MessageType::Decline => {
                if !client {
                    return Err(Drop6::NoClientId);
                }
                if !ours {
                    return Err(Drop6::ServerId);
                }
            }
            MessageType::InformationRequest => {
                if server.is_some() && !ours {
                    return Err(Drop6::ServerId);
                }
            }
            _ => return Err(Drop6::NotAClientMessage),
        }
        Ok(())
    }

    /// A SOLICIT or REQUEST needs a range that hands out addresses.
    fn stateful(&self, d: &Decision6<'_>) -> Result<(), Drop6> {
        match d.range() {
            Some(r) if r.modes.stateful() => Ok(()),
            _ => Err(Drop6::Stateless),
        }
    }

    /// Each IA_NA of the message, answered as `op` says.
    fn answer_ias(
        &mut self,
        now: u64,
        msg: &Message<&[u8]>,
        d: &Decision6<'_>,
        duid: &[u8],
        op: IaOp,
        ias: &mut Ias,
    ) {
        let Some(range) = d.range() else { return };
        let Some((start, end)) = range.on_network(d.link()) else {
            return;
        };
        let lease = d.lease_time();
        let (pref, valid, expires) = lifetimes(lease, now, range.deprecated);
        let hostname = d.host().and_then(|h| h.name.as_deref());
        // A lease is written (and its DUID and name copied) only when one
        // is granted; an ADVERTISE allocates nothing.
        let new_lease = |addr: Ipv6Addr, iaid: u32| Lease6 {
            addr,
            iaid,
            duid: duid.to_vec(),
            hostname: hostname.map(String::from),
            expires,
        };
        let local = d.local();
        let config = self.config.clone();
        let mine = d.reserved_address();
        // Another host's reservation or the server's own address is never
        // given to this client.
        let taken = |a: Ipv6Addr| {
            a == local || (Some(a) != mine && config.hosts().any(|(_, h)| h.addrs6.contains(&a)))
        };
        let in_range = |a: Ipv6Addr| {
            let x = u128::from(a);
            u128::from(start) <= x && x <= u128::from(end)
        };
        for ia in msg.ia_nas().flatten().take(MAX_IAS) {
            let iaid = ia.iaid();
            let asked = ia.address().ok().flatten().map(|a| a.address());
            let table = self.leases.v6_mut();
            let answer = match op {
                IaOp::Offer | IaOp::Bind => {
                    let requested = asked.filter(|&a| {
                        op == IaOp::Bind
                            && (in_range(a) || Some(a) == mine)
                            && !taken(a)
                            && table.is_free_for(a, duid, iaid, now)
                    });
                    let existing = table.find(duid, iaid, start, end, now).map(|l| l.addr);
                    let reserved = mine.filter(|&a| table.is_free_for(a, duid, iaid, now));
                    let chosen = requested.or(existing).or(reserved).or_else(|| {
                        if range.modes.static_only {
                            None
                        } else {
                            table.choose(duid, iaid, start, end, now, taken)
                        }
                    });
                    match chosen {
                        Some(a) => {
                            if op == IaOp::Bind {
                                self.changes
                                    .extend(table.grant(new_lease(a, iaid), start, end));
                                self.metrics6.grants += 1;
                            }
                            IaAnswer {
                                iaid,
                                addr: Some((a, pref, valid)),
                                status: None,
                            }
                        }
                        None => IaAnswer {
                            iaid,
                            addr: None,
                            status: Some(Status::NoAddrsAvail),
                        },
                    }
                }
                IaOp::Renew | IaOp::Rebind => {
                    let Some(a) = asked else {
                        ias.push(IaAnswer {
                            iaid,
                            addr: None,
                            status: Some(Status::NoBinding),
                        });
                        continue;
                    };
                    let bound = table.get(a).is_some_and(|l| l.belongs_to(duid, iaid));
                    let appropriate = (in_range(a) || Some(a) == mine) && !taken(a);
                    if appropriate
                        && (bound || (op == IaOp::Rebind && table.is_free_for(a, duid, iaid, now)))
                    {
                        self.changes
                            .extend(table.grant(new_lease(a, iaid), start, end));
                        self.metrics6.grants += 1;
                        IaAnswer {
                            iaid,
                            addr: Some((a, pref, valid)),
                            status: None,
                        }
                    } else if !appropriate || op == IaOp::Rebind {
                        // Not for this link (or not ours to give): the
                        // client must stop using it.
                        IaAnswer {
                            iaid,
                            addr: Some((a, 0, 0)),
                            status: None,
                        }
                    } else {
                        IaAnswer {
                            iaid,
                            addr: None,
                            status: Some(Status::NoBinding),
                        }
                    }
                }
                IaOp::Release | IaOp::Decline => {
                    for a in ia.addresses().flatten() {
                        let change = if op == IaOp::Release {
                            table.release(a.address(), duid, iaid)
                        } else {
                            let until = now.saturating_add(u64::from(lease.as_secs().min(86_400)));
                            table.decline(a.address(), duid, iaid, until)
                        };
                        if let Some(c) = change {
                            match op {
                                IaOp::Release => self.metrics6.releases += 1,
                                _ => self.metrics6.declines += 1,
                            }
                            self.changes.push(c);
                        }
                    }
                    continue;
                }
            };
            ias.push(answer);
        }
    }

    /// CONFIRM: are all the client's addresses on this link?
    fn confirm(
        &self,
        msg: &Message<&[u8]>,
        d: &Decision6<'_>,
    ) -> Result<(Status, &'static str), Drop6> {
        let mut any = false;
        let mut all_on_link = true;
        for ia in msg.ia_nas().flatten() {
            for a in ia.addresses().flatten() {
                any = true;
                let on = d.range().is_some_and(|r| r.contains(d.link(), a.address()))
                    || d.reserved_address() == Some(a.address());
                all_on_link &= on;
            }
        }
        if !any {
            return Err(Drop6::NothingToConfirm);
        }
        Ok(if all_on_link {
            (Status::Success, "all addresses still on link")
        } else {
            (Status::NotOnLink, "confirm failed")
        })
    }

    /// Writes the reply, laid out as dnsmasq's.
    #[allow(clippy::too_many_arguments)]
    fn build6(
        &self,
        req: &Req6<'_>,
        facts: &Facts6<'_>,
        d: &Decision6<'_>,
        kind: MessageType,
        ias: &Ias,
        status: Option<(Status, &str)>,
        with_options: bool,
        out: &mut [u8],
    ) -> Result<usize, CodecError> {
        let mut b = match &req.relay {
            Some(r) => Builder::relay_reply_to(r, kind, out)?,
            None => Builder::reply_to(&req.msg, kind, out)?,
        };
        b.server_id(&self.server_duid)?;
        if req.msg.msg_type() == MessageType::Solicit && kind == MessageType::Reply {
            b.rapid_commit()?;
        }
        let lease = d.lease_time();
        let fuzz = matches!(req.msg.msg_type(), MessageType::Renew | MessageType::Rebind)
            .then(|| req.msg.transaction_id().get());
        let (t1, t2) = t1_t2(lease, fuzz);
        for ia in ias.answers() {
            let (t1, t2) = match ia.addr {
                Some((_, _, v)) if v > 0 => (t1, t2),
                _ => (0, 0),
            };
            b.ia_na(ia.iaid, t1, t2, |n| {
                if let Some((a, p, v)) = ia.addr {
                    n.ia_addr(a, p, v)?;
                }
                if let Some(s) = ia.status {
                    n.status_code(s, status_text(s))?;
                }
                Ok(())
            })?;
        }
        if let Some((s, text)) = status {
            b.status_code(s, text)?;
        }
        if req.msg.msg_type() == MessageType::Solicit {
            let authoritative = self.config.settings.authoritative;
            b.preference(if authoritative { 255 } else { 0 })?;
        }
        if with_options {
            d.write_options(&mut b)?;
            if facts.is_http_client()
                && d.boot_file_url().is_some()
                && !d.has_option(code::VENDOR_CLASS)
            {
                b.vendor_class(ENTERPRISE_INTEL, &[b"HTTPClient"])?;
            }
            // dnsmasq tells a stateless client when to ask again: the
            // lease time, unless a line gives option 32.
            if req.msg.msg_type() == MessageType::InformationRequest
                && !d.has_option(code::INFORMATION_REFRESH_TIME)
            {
                b.option(
                    code::INFORMATION_REFRESH_TIME,
                    &lease.as_secs().to_be_bytes(),
                )?;
            }
        }
        b.finish()
    }
}

/// The top-level status of an answer that hands out addresses.
fn address_status(ias: &Ias) -> (Status, &'static str) {
    if ias.any_address() {
        (Status::Success, "success")
    } else {
        (Status::NoAddrsAvail, "no addresses available")
    }
}

fn status_text(s: Status) -> &'static str {
    match s {
        Status::NoAddrsAvail => "address unavailable",
        Status::NoBinding => "no binding found",
        Status::NotOnLink => "not on link",
        _ => "",
    }
}

/// A DUID-LL for the server from an interface's MAC address.
pub fn server_duid_for(mac: [u8; 6]) -> Vec<u8> {
    Duid::ll_ethernet(mac).to_vec()
}

#[cfg(test)]
mod tests;
