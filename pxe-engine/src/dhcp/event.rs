//! What the engine tells its driver about each exchange, as structured
//! events through an [`EventSink`]: replies, silences, lease changes,
//! drops and (with `log-dhcp`) the rule trace.
//!
//! Events borrow from the request, the decision and the configuration;
//! building one allocates nothing, and a sink that ignores them
//! ([`NoEvents`]) costs an empty call. Every event is keyed by its client
//! ([`Client`]: hardware address, UUID from option 97, IP when known) and
//! carries what the rules decided ([`Request::decision`]: tags, the
//! `dhcp-boot` line or `pxe-service` that fired, file, next server), so a
//! consumer can follow one machine's boot or count outcomes. `Display`
//! prints each event as the server's log line, in the spirit of dnsmasq's
//! `log-dhcp` (formatting allocates nothing either).
//!
//! A sink that counts what each machine was sent, keyed by its hardware
//! address, and keeps the log lines:
//!
//! ```
//! use std::collections::BTreeMap;
//! use pxe_engine::dhcp::event::{Event, EventSink, ReplyKind};
//! use pxe_engine::lease::HwAddr;
//!
//! #[derive(Default)]
//! struct Journeys {
//!     replies: BTreeMap<HwAddr, Vec<ReplyKind>>,
//!     log: Vec<String>,
//! }
//!
//! impl EventSink for Journeys {
//!     fn event(&mut self, e: &Event<'_>) {
//!         if let Event::Reply { request, kind, .. } = e {
//!             self.replies.entry(request.client.hw).or_default().push(*kind);
//!         }
//!         self.log.push(e.to_string());
//!     }
//!     // With `log-dhcp` in the configuration, also explain each decision.
//!     fn wants_trace(&self) -> bool {
//!         true
//!     }
//! }
//! # let _ = Journeys::default();
//! ```

use core::fmt;
use core::net::{Ipv4Addr, SocketAddrV4};

use pxe_dhcp::{ClientUuid, MessageType, Packet};
use pxe_rules::{Config, Decision, Explanation, FactsError, IgnoreReason};

use super::addressing::{Destination, PXE_PORT};
use super::metrics::DropReason;
use crate::lease::{AllocError, HwAddr};

/// Receives the engine's events (see the [module docs](self)).
pub trait EventSink {
    /// One event; it borrows from the exchange, so copy out what you keep.
    fn event(&mut self, event: &Event<'_>);

    /// Whether to compute the rule trace ([`Event::Trace`]) when the
    /// configuration has `log-dhcp`. Computing it evaluates the rules a
    /// second time and allocates, so it is off unless a sink asks.
    fn wants_trace(&self) -> bool {
        false
    }
}

/// The sink that ignores everything (benchmarks, drivers that log nothing).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEvents;

impl EventSink for NoEvents {
    #[inline(always)]
    fn event(&mut self, _: &Event<'_>) {}
}

/// Any `FnMut(&Event)` is a sink (without the rule trace).
impl<F: FnMut(&Event<'_>)> EventSink for F {
    fn event(&mut self, event: &Event<'_>) {
        self(event)
    }
}

/// Who sent a request: the key a consumer follows a machine by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Client {
    /// Hardware address (`htype`, `chaddr`).
    pub hw: HwAddr,
    /// The machine UUID of option 97, when the client sent one.
    pub uuid: Option<ClientUuid>,
    /// The client's IP address when the request names one: `ciaddr`, else
    /// the requested address (option 50).
    pub ip: Option<Ipv4Addr>,
    /// The first architecture of option 93, when sent.
    pub arch: Option<u16>,
    /// What kind of software sent the request (firmware, iPXE, an OS).
    pub class: ClientClass,
}

/// What kind of software sent a request, told from the options netboot
/// clients send: the step of the boot chain a machine is at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientClass {
    /// A PXE ROM or UEFI PXE client (vendor class `PXEClient`, no iPXE
    /// option): the firmware's own network boot.
    Firmware,
    /// UEFI HTTP Boot (vendor class `HTTPClient`).
    HttpBoot,
    /// iPXE (option 175, or user class `iPXE`), the usual second stage.
    Ipxe,
    /// Anything else: an installed operating system's DHCP client.
    Plain,
}

impl ClientClass {
    /// The class of `packet`'s sender.
    pub fn of<T: AsRef<[u8]>>(packet: &pxe_dhcp::Packet<T>) -> ClientClass {
        let ipxe_user_class = packet
            .option(pxe_dhcp::code::USER_CLASS)
            .is_some_and(|u| u == b"iPXE" || u.get(1..) == Some(&b"iPXE"[..]));
        if packet.option(pxe_dhcp::code::IPXE_ENCAP).is_some() || ipxe_user_class {
            return ClientClass::Ipxe;
        }
        match packet.option(pxe_dhcp::code::VENDOR_CLASS) {
            Some(v) if v.starts_with(b"PXEClient") => ClientClass::Firmware,
            Some(v) if v.starts_with(b"HTTPClient") => ClientClass::HttpBoot,
            _ => ClientClass::Plain,
        }
    }

    /// A short name (`firmware`, `http_boot`, `ipxe`, `os`).
    pub fn name(self) -> &'static str {
        match self {
            ClientClass::Firmware => "firmware",
            ClientClass::HttpBoot => "http_boot",
            ClientClass::Ipxe => "ipxe",
            ClientClass::Plain => "os",
        }
    }

    /// Whether the sender is a network boot loader (firmware, HTTP Boot or
    /// iPXE) that needs a boot file from the reply.
    pub fn netboots(self) -> bool {
        self != ClientClass::Plain
    }
}

/// The request an event is about, and what the rules decided for it.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// Its DHCP message type (`None`: plain BOOTP).
    pub message: Option<MessageType>,
    /// Its transaction id.
    pub xid: u32,
    /// The interface it arrived on.
    pub iface: &'a str,
    /// The local port it arrived on (67 or 4011).
    pub port: u16,
    /// Who sent it.
    pub client: Client,
    /// The request as the codec read it.
    pub packet: &'a Packet<&'a [u8]>,
    /// The server's address on the arrival interface.
    pub local: Ipv4Addr,
    /// That interface's netmask.
    pub netmask: Ipv4Addr,
    /// What the rules decided: tags ([`Decision::tag_names`]), the range,
    /// host, `dhcp-boot` line and `pxe-service` that applied, file, next
    /// server, options.
    pub decision: &'a Decision<'a>,
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("message", &self.message)
            .field("xid", &self.xid)
            .field("iface", &self.iface)
            .field("port", &self.port)
            .field("client", &self.client)
            .field("decision", self.decision)
            .finish()
    }
}

/// Which reply was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyKind {
    /// DHCPOFFER (full DHCP).
    Offer,
    /// DHCPACK granting a lease (also a rapid-commit answer to a DISCOVER).
    Ack,
    /// DHCPACK answering a DHCPINFORM (no lease).
    InformAck,
    /// DHCPNAK.
    Nak(NakReason),
    /// BOOTP reply (a `dhcp-host` address).
    Bootp,
    /// proxyDHCP OFFER.
    ProxyOffer,
    /// proxyDHCP ACK (REQUEST on 4011).
    ProxyAck,
    /// PXE boot-server ACK (43 sub-option 71).
    BootServerAck,
}

impl ReplyKind {
    /// The name used in log lines (`DHCPOFFER`, `proxy ACK`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            ReplyKind::Offer => "DHCPOFFER",
            ReplyKind::Ack => "DHCPACK",
            ReplyKind::InformAck => "DHCPACK (INFORM)",
            ReplyKind::Nak(_) => "DHCPNAK",
            ReplyKind::Bootp => "BOOTP reply",
            ReplyKind::ProxyOffer => "proxy OFFER",
            ReplyKind::ProxyAck => "proxy ACK",
            ReplyKind::BootServerAck => "PXE boot-server ACK",
        }
    }
}

/// Why a request was answered with DHCPNAK; [`NakReason::message`] is the
/// text sent in option 56.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NakReason {
    /// SELECTING another server while this one is authoritative.
    WrongServerId,
    /// Neither option 50 nor `ciaddr` names an address (dnsmasq says
    /// "lease not found" or "wrong network" here).
    NoAddressRequested,
    /// INIT-REBOOT for an address other than the client's lease.
    WrongAddress,
    /// RENEWING (unicast) an address this server has no lease of for the
    /// client, while not authoritative or while it holds another one.
    LeaseNotFound,
    /// The address is not on the network the request arrived from.
    WrongNetwork,
    /// The client has a `dhcp-host` address and asked for another.
    StaticLeaseAvailable,
    /// The address is in no pool of the range.
    AddressNotAvailable,
    /// The address is reserved for another client.
    AddressReserved,
    /// Another client holds the address.
    AddressInUse,
    /// `dhcp-lease-max` is reached.
    NoLeasesLeft,
    /// The lease table refused to commit the grant.
    Commit(AllocError),
}

impl NakReason {
    /// The text of option 56, as dnsmasq words it.
    pub fn message(&self) -> &'static str {
        match self {
            NakReason::WrongServerId => "wrong server-ID",
            NakReason::NoAddressRequested => "no address requested",
            NakReason::WrongAddress => "wrong address",
            NakReason::LeaseNotFound => "lease not found",
            NakReason::WrongNetwork => "wrong network",
            NakReason::StaticLeaseAvailable => "static lease available",
            NakReason::AddressNotAvailable | NakReason::Commit(AllocError::Declined(_)) => {
                "address not available"
            }
            NakReason::AddressReserved | NakReason::Commit(AllocError::Reserved(_)) => {
                "address reserved"
            }
            NakReason::AddressInUse | NakReason::Commit(_) => "address in use",
            NakReason::NoLeasesLeft => "no leases left",
        }
    }
}

/// Why a full-DHCP request got no answer although the rules serve it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Silence {
    /// DISCOVER from a new client with `dhcp-lease-max` reached.
    LeaseMax,
    /// DISCOVER on a static-only range from a client without a `dhcp-host`
    /// address.
    NoDynamicAddress,
    /// DISCOVER, and the pool has no address for the client.
    NoAddress(AllocError),
    /// REQUEST (SELECTING) for the offer of another server.
    ChoseOtherServer(Ipv4Addr),
    /// INIT-REBOOT for an address this non-authoritative server has no
    /// lease for.
    InitRebootUnknown(Ipv4Addr),
    /// REBINDING (broadcast) a lease this non-authoritative server does not
    /// know: another server may.
    RebindingUnknown(Ipv4Addr),
    /// DECLINE or RELEASE addressed to another server (option 54).
    OtherServer,
    /// DISCOVER from a client another live server answers (RFC 3074
    /// load balancing), which has not waited long enough for this one to
    /// step in.
    OtherServersClient,
    /// The request needs the shared lease store, which cannot be reached
    /// (degraded mode): a new allocation, or a lease the table does not
    /// hold.
    StoreUnavailable,
}

impl fmt::Display for Silence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Silence::LeaseMax => f.write_str("no address: dhcp-lease-max reached"),
            Silence::NoDynamicAddress => {
                f.write_str("no address: static range and no dhcp-host address")
            }
            Silence::NoAddress(e) => write!(f, "no address: {e}"),
            Silence::ChoseOtherServer(s) => write!(f, "client chose server {s}"),
            Silence::InitRebootUnknown(a) => {
                write!(f, "INIT-REBOOT for {a}: no lease here, not authoritative")
            }
            Silence::RebindingUnknown(a) => write!(f, "REBINDING {a}: lease not found here"),
            Silence::OtherServer => f.write_str("addressed to another server"),
            Silence::OtherServersClient => f.write_str("another server's client (load balancing)"),
            Silence::StoreUnavailable => {
                f.write_str("lease store unreachable: only known leases are renewed")
            }
        }
    }
}

/// A RELEASE or DECLINE, applied or refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseEvent {
    /// The client released its lease on this address.
    Released(Ipv4Addr),
    /// RELEASE of an address the client holds no lease on.
    ReleaseUnknown(Ipv4Addr),
    /// The client declined this address: its lease is gone and the address
    /// is kept out of use for a while.
    Declined(Ipv4Addr),
    /// DECLINE of an address the client holds no lease on: ignored (only
    /// the holder may take an address out of use).
    DeclineRefused(Ipv4Addr),
}

impl fmt::Display for LeaseEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeaseEvent::Released(a) => write!(f, "released {a}"),
            LeaseEvent::ReleaseUnknown(a) => write!(f, "RELEASE of {a}: unknown lease"),
            LeaseEvent::Declined(a) => write!(f, "address {a} declined, kept out of use"),
            LeaseEvent::DeclineRefused(a) => {
                write!(f, "DECLINE of {a} ignored: not this client's lease")
            }
        }
    }
}

/// What exactly was wrong with a dropped datagram, beyond its
/// [`DropReason`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropDetail {
    /// Nothing more to say.
    None,
    /// The DHCP codec's error.
    Packet(pxe_dhcp::Error),
    /// The rules' fact extraction refused it.
    Facts(FactsError),
    /// The reply of this kind did not fit the buffer.
    Reply(ReplyKind),
    /// BOOTP from a client without a `dhcp-host` address.
    BootpWithoutReservation,
    /// DECLINE without option 50.
    DeclineWithoutAddress,
    /// INFORM with `ciaddr` 0.0.0.0.
    InformWithoutCiaddr,
}

impl fmt::Display for DropDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropDetail::None => Ok(()),
            DropDetail::Packet(e) => write!(f, "{e}"),
            DropDetail::Facts(e) => write!(f, "{e}"),
            DropDetail::Reply(ReplyKind::Nak(_)) => f.write_str("NAK"),
            DropDetail::Reply(k) => f.write_str(k.name()),
            DropDetail::BootpWithoutReservation => f.write_str("BOOTP without a reserved address"),
            DropDetail::DeclineWithoutAddress => f.write_str("DECLINE without option 50"),
            DropDetail::InformWithoutCiaddr => f.write_str("INFORM without ciaddr"),
        }
    }
}

/// The next server (`siaddr`) of a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextServer<'a> {
    /// The address sent (`0.0.0.0`: none).
    pub addr: Ipv4Addr,
    /// A server name the configuration gave that the hosts file does not
    /// know (the reply then carries `0.0.0.0`, as dnsmasq's would).
    pub unresolved: Option<&'a str>,
}

/// The rule trace of one exchange (`log-dhcp`): every tag set and every
/// rule considered, with why it matched or not.
#[derive(Clone, Copy)]
pub struct Trace<'a> {
    /// The events of the evaluation.
    pub explanation: &'a Explanation,
    /// The configuration they refer to (names, file:line).
    pub config: &'a Config,
}

impl fmt::Debug for Trace<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trace")
            .field("explanation", self.explanation)
            .finish_non_exhaustive()
    }
}

/// One thing the engine did or decided.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A reply was built into the caller's buffer (NAKs included).
    Reply {
        /// The request answered.
        request: Request<'a>,
        /// Which reply.
        kind: ReplyKind,
        /// `yiaddr` for leases and boot-server ACKs, `ciaddr` for INFORM
        /// answers, `0.0.0.0` for proxy replies and NAKs.
        yiaddr: Ipv4Addr,
        /// `siaddr`.
        next_server: NextServer<'a>,
        /// Where it goes.
        dest: Destination,
        /// Not to be sent before this time (`dhcp-reply-delay`), in the
        /// clock of `now`.
        not_before: u64,
        /// The reply as written (BOOTP message, options and all).
        reply: &'a [u8],
    },
    /// The rules give this request no reply (`dhcp-ignore`, no range, not
    /// a PXE request for a proxy, ...).
    Ignored {
        /// The request.
        request: Request<'a>,
        /// Why.
        reason: IgnoreReason,
    },
    /// A full-DHCP request that gets no answer from this server's state.
    Silent {
        /// The request.
        request: Request<'a>,
        /// Why.
        why: Silence,
    },
    /// A RELEASE or DECLINE (no reply is sent for either).
    Lease {
        /// The request.
        request: Request<'a>,
        /// What happened to the lease.
        what: LeaseEvent,
    },
    /// A datagram was dropped. Reported for the first drop of each reason,
    /// then at powers of two (a flood must not flood the log); `count`
    /// says how many there were.
    Dropped {
        /// Why.
        reason: DropReason,
        /// What exactly.
        detail: DropDetail,
        /// Its source address.
        src: SocketAddrV4,
        /// The interface it arrived on.
        iface: &'a str,
        /// Its sender, when the header was readable.
        client: Option<Client>,
        /// Drops of this reason so far, this one included.
        count: u64,
    },
    /// The rule trace of the exchange just reported (`log-dhcp`, when the
    /// sink [wants it](EventSink::wants_trace)).
    Trace {
        /// The client.
        client: Client,
        /// The trace.
        trace: Trace<'a>,
    },
}

impl Event<'_> {
    /// The client the event is about, when known.
    pub fn client(&self) -> Option<&Client> {
        match self {
            Event::Reply { request, .. }
            | Event::Ignored { request, .. }
            | Event::Silent { request, .. }
            | Event::Lease { request, .. } => Some(&request.client),
            Event::Dropped { client, .. } => client.as_ref(),
            Event::Trace { client, .. } => Some(client),
        }
    }
}

fn message_name(m: Option<MessageType>) -> &'static str {
    match m {
        None => "BOOTP",
        Some(MessageType::Discover) => "DHCPDISCOVER",
        Some(MessageType::Offer) => "DHCPOFFER",
        Some(MessageType::Request) => "DHCPREQUEST",
        Some(MessageType::Decline) => "DHCPDECLINE",
        Some(MessageType::Ack) => "DHCPACK",
        Some(MessageType::Nak) => "DHCPNAK",
        Some(MessageType::Release) => "DHCPRELEASE",
        Some(MessageType::Inform) => "DHCPINFORM",
        Some(MessageType::Other(_)) => "DHCP?",
    }
}

/// The final tag names, comma-separated, or `none`.
struct Tags<'a>(&'a Decision<'a>);

impl fmt::Display for Tags<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for t in self.0.tag_names() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            f.write_str(t)?;
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// Bytes as text, invalid UTF-8 shown as U+FFFD (as
/// `String::from_utf8_lossy`, without allocating).
struct Lossy<'a>(&'a [u8]);

impl fmt::Display for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{FFFD}")?;
            }
        }
        Ok(())
    }
}

/// `DHCPDISCOVER(eth0) 52:54:00:12:34:56[ on 4011] tags: a, b -> `: the
/// start of every line about a request the rules served.
struct Prefix<'r, 'a>(&'r Request<'a>);

impl fmt::Display for Prefix<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        write!(
            f,
            "{}({}) {}",
            message_name(r.message),
            r.iface,
            r.client.hw
        )?;
        if r.port == PXE_PORT {
            f.write_str(" on 4011")?;
        }
        write!(f, " tags: {} -> ", Tags(r.decision))
    }
}

/// Writes through to `f`, starting every line of the text with
/// `"\n    "` (the layout of the `why:` block).
struct Indented<'f, 'g> {
    f: &'f mut fmt::Formatter<'g>,
    in_line: bool,
}

impl fmt::Write for Indented<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while !rest.is_empty() {
            let (piece, newline) = match rest.split_once('\n') {
                Some((p, r)) => {
                    rest = r;
                    (p, true)
                }
                None => {
                    let p = rest;
                    rest = "";
                    (p, false)
                }
            };
            if !self.in_line && (!piece.is_empty() || newline) {
                self.f.write_str("\n    ")?;
                self.in_line = true;
            }
            self.f.write_str(piece)?;
            if newline {
                self.in_line = false;
            }
        }
        Ok(())
    }
}

/// The tail of a reply's line: what was sent, to where.
struct ReplyTail<'r, 'a> {
    request: &'r Request<'a>,
    kind: ReplyKind,
    yiaddr: Ipv4Addr,
    next_server: NextServer<'a>,
    dest: Destination,
}

impl fmt::Display for ReplyTail<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dest = self.dest;
        if let ReplyKind::Nak(reason) = self.kind {
            if let NakReason::Commit(e) = reason {
                write!(f, "({e}) ")?;
            }
            return write!(f, "DHCPNAK {} ({dest})", reason.message());
        }
        if let Some(name) = self.next_server.unresolved {
            write!(f, "(next server {name:?} not in the hosts file) ")?;
        }
        write!(f, "{} {}", self.kind.name(), self.yiaddr)?;
        let d = self.request.decision;
        if let Some(file) = d.file() {
            write!(f, " file={}", Lossy(file))?;
        }
        for (c, v) in d.boot_options() {
            if c == pxe_dhcp::code::BOOTFILE_NAME {
                write!(f, " bootfile={}", Lossy(v))?;
            }
        }
        if !self.next_server.addr.is_unspecified() {
            write!(f, " next-server={}", self.next_server.addr)?;
        }
        write!(f, " ({dest})")
    }
}

impl fmt::Display for Event<'_> {
    /// The log line of the event.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Reply {
                request,
                kind,
                yiaddr,
                next_server,
                dest,
                not_before: _,
                reply: _,
            } => {
                let tail = ReplyTail {
                    request,
                    kind: *kind,
                    yiaddr: *yiaddr,
                    next_server: *next_server,
                    dest: *dest,
                };
                write!(f, "{}{tail}", Prefix(request))
            }
            Event::Ignored { request, reason } => write!(
                f,
                "{}({}) {} ignored: {reason:?}; tags: {}",
                message_name(request.message),
                request.iface,
                request.client.hw,
                Tags(request.decision)
            ),
            Event::Silent { request, why } => write!(f, "{}{why}", Prefix(request)),
            Event::Lease { request, what } => write!(f, "{}{what}", Prefix(request)),
            Event::Dropped {
                reason,
                detail,
                src,
                iface,
                client: _,
                count,
            } => {
                write!(f, "dropped packet from {src} on {iface}: {reason}")?;
                if *detail != DropDetail::None {
                    write!(f, ": {detail}")?;
                }
                write!(f, " ({count} so far)")
            }
            Event::Trace { trace, .. } => {
                f.write_str("  why:")?;
                let mut w = Indented { f, in_line: false };
                fmt::Write::write_fmt(
                    &mut w,
                    format_args!("{}", trace.explanation.display(trace.config)),
                )
            }
        }
    }
}
