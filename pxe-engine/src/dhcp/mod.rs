//! The sans-IO DHCP engine: full DHCP (RFC 2131), proxyDHCP, and the PXE
//! boot server on port 4011.
//!
//! The engine gets a datagram, where it came from ([`RxInfo`]) and the
//! wall-clock time; it writes the reply into the caller's buffer and
//! returns where to send it ([`Handled::Reply`]). Lease changes that the
//! reply announces are queued and handed over by [`Engine::take_changes`]:
//! the driver must persist them before sending the reply ("persist these,
//! then send these"). Nothing here does I/O, reads a clock or allocates
//! per packet except when a lease is created or changed.
//!
//! The rules (tags, which `dhcp-boot` line, which options, the PXE menu)
//! come from `pxe-rules`; packet views and the reply builder from
//! `pxe-dhcp`. The engine owns what is left: message handling per RFC
//! 2131 and dnsmasq (spec §8), leases, the server's own options (53, 54,
//! 51, 58, 59 and the built-ins 1, 28, 3, 15, 12), and reply addressing.
//!
//! ## Deviation from dnsmasq: next-server in proxy replies
//!
//! With the seed's "proxy DHCP and PHP" configuration, dnsmasq 2.90 answers
//! iPXE's DISCOVER with a proxy OFFER whose `file` is the script URL but
//! whose `siaddr` is `0.0.0.0` (the `dhcp-boot` line names no server).
//! iPXE ignores such a proxy offer and reports "Nothing to boot". This
//! engine sets `siaddr` (next-server) to its own address on the receiving
//! interface whenever a proxy reply carries a boot file and no server was
//! configured, so that configuration boots unchanged.
//!
//! ## Example
//!
//! ```
//! use std::sync::Arc;
//! use core::net::{Ipv4Addr, SocketAddrV4};
//! use pxe_dhcp::{Builder, MessageType, Packet};
//! use pxe_engine::{Engine, Handled, RxInfo};
//!
//! let conf = pxe_rules::Config::parse_str(
//!     "dhcp-range=10.0.0.100,10.0.0.200\ndhcp-boot=pxelinux.0\n",
//!     "example.conf",
//! )?;
//! let mut engine = Engine::new(Arc::new(conf));
//! let rx = RxInfo {
//!     port: 67,
//!     src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
//!     iface: "eth0",
//!     local: Ipv4Addr::new(10, 0, 0, 1),
//!     netmask: Ipv4Addr::new(255, 255, 255, 0),
//!     mtu: 1500,
//!     broadcast: true,
//! };
//! // A DISCOVER from a client.
//! let mut req = [0u8; 600];
//! let mut b = Builder::new(&mut req)?;
//! b.xid(7).chaddr(1, &[2, 0, 0, 0, 0, 1])?.message_type(MessageType::Discover)?;
//! let n = b.finish()?;
//! let mut out = [0u8; 1500];
//! let Handled::Reply { len, .. } = engine.handle(1_700_000_000, &rx, &req[..n], &mut out) else {
//!     panic!("no reply");
//! };
//! let offer = Packet::new_checked(&out[..len])?;
//! assert_eq!(offer.message_type()?, Some(MessageType::Offer));
//! assert_eq!(offer.file(), Some(&b"pxelinux.0"[..]));
//! assert!(offer.yiaddr() >= Ipv4Addr::new(10, 0, 0, 100));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;
use core::net::{Ipv4Addr, SocketAddrV4};

use pxe_dhcp::{Builder, MessageType, Op, Packet, code};
use pxe_rules::config::{Host, Range, RangeMode};
use pxe_rules::{Config, Context, Decision, Facts, IgnoreReason, Port, Verdict};

use crate::hosts::Hosts;
use crate::lease::{HwAddr, Lease, LeaseChange, LeaseTable, NEVER, Pool, Reservation};
use addressing::{AddressingInput, Destination, PXE_PORT};
use metrics::{DropReason, Metrics};

pub mod addressing;
pub mod metrics;
pub mod timing;

/// Default lease time (dnsmasq: one hour).
pub const DEFAULT_LEASE: u32 = 3600;

/// Where a datagram came from.
#[derive(Clone, Copy, Debug)]
pub struct RxInfo<'a> {
    /// The local UDP port it arrived on (67 or 4011).
    pub port: u16,
    /// Its source address and port.
    pub src: SocketAddrV4,
    /// Name of the arrival interface.
    pub iface: &'a str,
    /// The server's address on that interface (`local`).
    pub local: Ipv4Addr,
    /// The interface's netmask.
    pub netmask: Ipv4Addr,
    /// The interface's MTU.
    pub mtu: u16,
    /// The datagram was sent to a broadcast address.
    pub broadcast: bool,
}

/// What the engine did with a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// Send the first `len` bytes of the output buffer to `dest` (after
    /// persisting [`Engine::take_changes`]).
    Reply {
        /// Reply length.
        len: usize,
        /// Destination.
        dest: Destination,
    },
    /// Handled, nothing to send (RELEASE, DECLINE, a REQUEST for another
    /// server).
    NoReply,
    /// Dropped and counted.
    Dropped(DropReason),
}

/// The DHCP engine.
#[derive(Debug)]
pub struct Engine {
    config: Arc<Config>,
    leases: LeaseTable,
    pool_of_range: Vec<(Ipv4Addr, Ipv4Addr, usize)>,
    metrics: Metrics,
    changes: Vec<LeaseChange>,
    log: LogBuf,
    delay: u32,
    hosts: Hosts,
}

/// The log-line buffer: formatting is skipped entirely when logging is off.
#[derive(Debug, Default)]
struct LogBuf {
    s: String,
    on: bool,
}

impl LogBuf {
    fn write_fmt(&mut self, args: core::fmt::Arguments<'_>) -> core::fmt::Result {
        if self.on {
            self.s.write_fmt(args)
        } else {
            Ok(())
        }
    }
    fn push_str(&mut self, t: &str) {
        if self.on {
            self.s.push_str(t);
        }
    }
    fn clear(&mut self) {
        self.s.clear();
    }
    fn len(&self) -> usize {
        self.s.len()
    }
    fn truncate(&mut self, n: usize) {
        self.s.truncate(n);
    }
}

fn fmt_tags(d: &Decision<'_>, out: &mut LogBuf) {
    if !out.on {
        return;
    }
    let mut first = true;
    for t in d.tag_names() {
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push_str(t);
    }
    if first {
        out.push_str("none");
    }
}

fn msg_name(t: MessageType) -> &'static str {
    match t {
        MessageType::Discover => "DHCPDISCOVER",
        MessageType::Offer => "DHCPOFFER",
        MessageType::Request => "DHCPREQUEST",
        MessageType::Decline => "DHCPDECLINE",
        MessageType::Ack => "DHCPACK",
        MessageType::Nak => "DHCPNAK",
        MessageType::Release => "DHCPRELEASE",
        MessageType::Inform => "DHCPINFORM",
        MessageType::Other(_) => "DHCP?",
    }
}

fn sanitize_hostname(h: &[u8]) -> Option<String> {
    let h = match h.iter().position(|b| *b == 0) {
        Some(p) => &h[..p],
        None => h,
    };
    let s: String = h
        .iter()
        .take(63)
        .filter(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
        .map(|b| *b as char)
        .collect();
    (!s.is_empty()).then_some(s)
}

/// Facts of the request that the engine needs besides the decision.
struct Req<'p> {
    pkt: Packet<&'p [u8]>,
    mt: Option<MessageType>,
    hw: HwAddr,
    client_id: Option<&'p [u8]>,
}

impl Engine {
    /// An engine for `config`, with an empty lease table (fill it with
    /// [`Engine::leases_mut`], e.g. from the lease log).
    pub fn new(config: Arc<Config>) -> Self {
        let mut pools = Vec::new();
        let mut pool_of_range = Vec::new();
        for (_, r) in config.ranges() {
            if r.mode == RangeMode::Dynamic {
                pool_of_range.push((r.start, r.end, pools.len()));
                pools.push(Pool {
                    start: r.start,
                    end: r.end,
                    netmask: r.netmask,
                    lease_time: r.lease.map_or(DEFAULT_LEASE, |l| l.as_secs()),
                });
            }
        }
        let mut leases = LeaseTable::new(pools);
        leases.set_sequential(config.settings.sequential_ip);
        for (_, h) in config.hosts() {
            let Some(addr) = h.addr else { continue };
            let hw = h
                .macs
                .iter()
                .find(|m| !m.has_wildcard())
                .and_then(|m| HwAddr::new(if m.htype == 0 { 1 } else { m.htype }, &m.bytes));
            let client_id = h.client_ids.first().cloned();
            if hw.is_none() && client_id.is_none() {
                continue;
            }
            leases.add_reservation(Reservation {
                hw,
                client_id,
                hostname: h.name.clone(),
                addr: Some(addr),
                lease_time: h.lease.map(|l| l.as_secs()),
                ignore: h.ignore,
            });
        }
        Engine {
            config,
            leases,
            pool_of_range,
            metrics: Metrics::default(),
            changes: Vec::new(),
            log: LogBuf {
                s: String::new(),
                on: true,
            },
            delay: 0,
            hosts: Hosts::default(),
        }
    }

    /// The hosts file where a next-server given by name (`dhcp-boot`,
    /// `pxe-service`) is looked up. Empty by default: such names then give
    /// `0.0.0.0` and a note in the log line, as an unresolved name does
    /// in dnsmasq.
    pub fn set_hosts(&mut self, hosts: Hosts) {
        self.hosts = hosts;
    }

    /// `siaddr` for a reply: the decision's address, or its server name
    /// looked up in the hosts file.
    fn next_server(&mut self, d: &Decision<'_>) -> Ipv4Addr {
        let Some(name) = d.siaddr_host() else {
            return d.siaddr();
        };
        self.hosts.lookup(name).unwrap_or_else(|| {
            let _ = write!(self.log, "(next server {name:?} not in the hosts file) ");
            Ipv4Addr::UNSPECIFIED
        })
    }

    /// Turn the per-exchange log line on or off (off saves formatting it
    /// when nobody reads it). On by default.
    pub fn set_logging(&mut self, on: bool) {
        self.log.on = on;
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The lease table.
    pub fn leases(&self) -> &LeaseTable {
        &self.leases
    }

    /// The lease table, mutably (log replay at start-up).
    pub fn leases_mut(&mut self) -> &mut LeaseTable {
        &mut self.leases
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The lease changes of the last [`Engine::handle`] call, to persist
    /// before sending its reply.
    pub fn take_changes(&mut self) -> alloc::vec::Drain<'_, LeaseChange> {
        self.changes.drain(..)
    }

    /// `dhcp-reply-delay` seconds that apply to the reply of the last
    /// [`Engine::handle`] call (0: send at once).
    pub fn reply_delay(&self) -> u32 {
        self.delay
    }

    /// The log line describing the last exchange (empty if none), in the
    /// spirit of dnsmasq's `log-dhcp`: interface, message, MAC, tags, what
    /// was sent and why.
    pub fn log_line(&self) -> &str {
        &self.log.s
    }

    fn dropped(&mut self, r: DropReason, rx: &RxInfo<'_>, why: &dyn core::fmt::Display) -> Handled {
        let before = self.metrics.drop(r);
        self.log.clear();
        // Logged once per reason, then at powers of two (a flood must not
        // flood the log).
        if before == 0 || before.is_power_of_two() {
            let _ = write!(
                self.log,
                "dropped packet from {} on {}: {r}",
                rx.src, rx.iface
            );
            let mark = self.log.len();
            let _ = write!(self.log, ": {why}");
            if self.log.len() == mark + 2 {
                self.log.truncate(mark);
            }
            let _ = write!(self.log, " ({} so far)", before + 1);
        }
        Handled::Dropped(r)
    }

    /// Handle one datagram received at `now` (Unix seconds); the reply, if
    /// any, is written into `out` (give it 1500 bytes or more).
    pub fn handle(
        &mut self,
        now: u64,
        rx: &RxInfo<'_>,
        datagram: &[u8],
        out: &mut [u8],
    ) -> Handled {
        self.log.clear();
        self.changes.clear();
        self.delay = 0;
        self.metrics.received += 1;
        let pkt = match Packet::new_lenient(datagram) {
            Ok(p) => p,
            Err(e) => {
                return self.dropped(DropReason::TooShort, rx, &e);
            }
        };
        if pkt.op() != Op::Request {
            return self.dropped(DropReason::NotRequest, rx, &"");
        }
        let (htype, hlen) = (pkt.htype(), pkt.hlen());
        if hlen > 16 || (htype == 0 && hlen != 0) {
            return self.dropped(DropReason::BadHardwareAddress, rx, &"");
        }
        if let Some(e) = pkt.options_error() {
            return self.dropped(DropReason::BadOptions, rx, &e);
        }
        let mt = match pkt.message_type() {
            Ok(m) => m,
            Err(e) => {
                return self.dropped(DropReason::BadOptions, rx, &e);
            }
        };
        match mt {
            Some(MessageType::Offer | MessageType::Ack | MessageType::Nak) => {
                return self.dropped(DropReason::ServerMessage, rx, &"");
            }
            Some(MessageType::Other(_)) => {
                return self.dropped(DropReason::UnknownMessageType, rx, &"");
            }
            _ => {}
        }
        let Some(hw) = HwAddr::new(htype, pkt.chaddr()) else {
            return self.dropped(DropReason::BadHardwareAddress, rx, &"");
        };
        let client_id = if self.config.settings.ignore_client_id {
            None
        } else {
            pkt.option_ref(code::CLIENT_ID).filter(|c| c.len() >= 2)
        };
        let facts = match Facts::parse(datagram) {
            Ok(f) => f,
            Err(e) => {
                return self.dropped(DropReason::BadOptions, rx, &e);
            }
        };
        let ctx = Context::new(rx.local, rx.netmask)
            .with_interface(rx.iface)
            .with_port(if rx.port == PXE_PORT {
                Port::Pxe
            } else {
                Port::Dhcp
            });
        let config = self.config.clone();
        let d = config.evaluate(&facts, &ctx);
        self.delay = d.reply_delay();
        let req = Req {
            pkt,
            mt,
            hw,
            client_id,
        };
        let h = match d.verdict() {
            Verdict::Ignore(reason) => {
                let r = match reason {
                    IgnoreReason::NoRange => DropReason::NoRange,
                    IgnoreReason::NotARequest => DropReason::NotRequest,
                    _ => DropReason::Ignored,
                };
                self.metrics.drop(r);
                if config.settings.log_dhcp || !matches!(reason, IgnoreReason::NoRange) {
                    let _ = write!(
                        self.log,
                        "{}({}) {} ignored: {reason:?}; tags: ",
                        req.mt.map_or("BOOTP", msg_name),
                        rx.iface,
                        hw
                    );
                    fmt_tags(&d, &mut self.log);
                }
                return Handled::Dropped(r);
            }
            Verdict::BootServer { .. } => self.boot_server(&req, &d, rx, out),
            Verdict::Proxy => self.proxy(&req, &d, rx, out),
            Verdict::Full => self.full(now, &req, &d, rx, out),
        };
        if config.settings.log_dhcp && self.log.on {
            self.explain(&facts, &ctx);
        }
        h
    }

    fn explain(&mut self, facts: &Facts<'_>, ctx: &Context<'_>) {
        let config = self.config.clone();
        let mut ex = pxe_rules::Explanation::default();
        let _ = config.evaluate_traced(facts, ctx, &mut ex);
        self.log.push_str("\n  why:");
        let mut text = String::new();
        let _ = write!(text, "{}", ex.display(&config));
        for line in text.lines() {
            self.log.push_str("\n    ");
            self.log.push_str(line);
        }
    }

    fn start_log(&mut self, req: &Req<'_>, d: &Decision<'_>, rx: &RxInfo<'_>) {
        let _ = write!(
            self.log,
            "{}({}) {}",
            req.mt.map_or("BOOTP", msg_name),
            rx.iface,
            req.hw
        );
        if rx.port == PXE_PORT {
            self.log.push_str(" on 4011");
        }
        self.log.push_str(" tags: ");
        fmt_tags(d, &mut self.log);
        self.log.push_str(" -> ");
    }

    /// Accounts for a reply built into the caller's buffer: counted in
    /// `counter` and logged when it fit, else dropped as too big.
    fn sent(
        &mut self,
        built: Result<usize, pxe_dhcp::Error>,
        counter: Option<fn(&mut Metrics) -> &mut u64>,
        reply: Sent<'_>,
        d: &Decision<'_>,
        rx: &RxInfo<'_>,
    ) -> Handled {
        let Ok(len) = built else {
            return self.dropped(DropReason::ReplyTooBig, rx, &reply.what);
        };
        if let Some(counter) = counter {
            *counter(&mut self.metrics) += 1;
        }
        self.metrics.replies += 1;
        self.log_sent(&reply, d);
        Handled::Reply {
            len,
            dest: reply.dest,
        }
    }

    fn log_sent(&mut self, reply: &Sent<'_>, d: &Decision<'_>) {
        // `write!` skips formatting when logging is off, but its arguments
        // (a lossy UTF-8 copy of the file names, the walk over the boot
        // options) would still be evaluated per reply.
        if !self.log.on {
            return;
        }
        let Sent {
            what,
            yiaddr,
            siaddr,
            dest,
        } = reply;
        let _ = write!(self.log, "{what} {yiaddr}");
        if let Some(f) = d.file() {
            let _ = write!(self.log, " file={}", String::from_utf8_lossy(f));
        }
        for (c, v) in d.boot_options() {
            if c == 67 {
                let v = v.strip_suffix(&[0]).unwrap_or(v);
                let _ = write!(self.log, " bootfile={}", String::from_utf8_lossy(v));
            }
        }
        if !siaddr.is_unspecified() {
            let _ = write!(self.log, " next-server={siaddr}");
        }
        let _ = write!(self.log, " ({dest})");
    }

    fn addressing(
        &self,
        req: &Req<'_>,
        rx: &RxInfo<'_>,
        yiaddr: Ipv4Addr,
        force_broadcast: bool,
    ) -> Destination {
        let p = &req.pkt;
        let ciaddr =
            if req.mt == Some(MessageType::Discover) || p.requested_ip().ok().flatten().is_some() {
                Ipv4Addr::UNSPECIFIED
            } else {
                p.ciaddr()
            };
        addressing::destination(&AddressingInput {
            arrival_port: rx.port,
            src: rx.src,
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

    /// PXE boot-server ACK (43 sub-option 71), spec §5.8.
    fn boot_server(
        &mut self,
        req: &Req<'_>,
        d: &Decision<'_>,
        rx: &RxInfo<'_>,
        out: &mut [u8],
    ) -> Handled {
        self.start_log(req, d, rx);
        let ciaddr = req.pkt.ciaddr();
        let siaddr = self.next_server(d);
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
        let reply = Sent {
            what: "PXE boot-server ACK",
            yiaddr: ciaddr,
            siaddr,
            dest: self.addressing(req, rx, ciaddr, false),
        };
        self.sent(r, Some(|m| &mut m.boot_server_replies), reply, d, rx)
    }

    /// ProxyDHCP reply, spec §6.2.
    fn proxy(
        &mut self,
        req: &Req<'_>,
        d: &Decision<'_>,
        rx: &RxInfo<'_>,
        out: &mut [u8],
    ) -> Handled {
        self.start_log(req, d, rx);
        let discover = req.mt == Some(MessageType::Discover);
        let ciaddr = if discover {
            Ipv4Addr::UNSPECIFIED
        } else {
            req.pkt.ciaddr()
        };
        // Deviation (see the module docs): a boot file without a server
        // gets our own address as next-server, so iPXE accepts the offer.
        let mut siaddr = self.next_server(d);
        if siaddr.is_unspecified() && d.siaddr_host().is_none() && d.file().is_some() {
            siaddr = rx.local;
        }
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
        let reply = Sent {
            what: if discover { "proxy OFFER" } else { "proxy ACK" },
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr,
            dest: self.addressing(req, rx, Ipv4Addr::UNSPECIFIED, ciaddr.is_unspecified()),
        };
        self.sent(r, Some(|m| &mut m.proxy_replies), reply, d, rx)
    }

    fn pool_for(&self, r: &Range) -> Option<usize> {
        self.pool_of_range
            .iter()
            .find(|(s, e, _)| *s == r.start && *e == r.end)
            .map(|(_, _, i)| *i)
    }

    fn nak(&mut self, req: &Req<'_>, rx: &RxInfo<'_>, reason: &str, out: &mut [u8]) -> Handled {
        let r = (|| {
            let mut b = Builder::reply_to(&req.pkt, &mut *out)?;
            if !req.pkt.giaddr().is_unspecified() {
                b.flags(req.pkt.flags() | pxe_dhcp::Flags::BROADCAST);
            }
            b.message_type(MessageType::Nak)?;
            b.server_id(rx.local)?;
            b.option(code::MESSAGE, reason.as_bytes())?;
            b.finish()
        })();
        let dest = if req.pkt.giaddr().is_unspecified() {
            Destination::Broadcast
        } else {
            Destination::Unicast(SocketAddrV4::new(req.pkt.giaddr(), addressing::SERVER_PORT))
        };
        match r {
            Ok(len) => {
                self.metrics.naks += 1;
                self.metrics.replies += 1;
                let _ = write!(self.log, "DHCPNAK {reason} ({dest})");
                Handled::Reply { len, dest }
            }
            Err(_) => self.dropped(DropReason::ReplyTooBig, rx, &"NAK"),
        }
    }

    /// Full DHCP, spec §8.5.
    fn full(
        &mut self,
        now: u64,
        req: &Req<'_>,
        d: &Decision<'_>,
        rx: &RxInfo<'_>,
        out: &mut [u8],
    ) -> Handled {
        self.start_log(req, d, rx);
        let Some(range) = d.range() else {
            return self.dropped(DropReason::NoRange, rx, &"");
        };
        let host = d.host();
        let static_addr = host
            .and_then(|h| h.addr)
            .filter(|a| range.same_net(*a, rx.netmask));
        let pool = self.pool_for(range);
        let p = &req.pkt;
        let cid = req.client_id;
        let hw = req.hw;
        let requested = p.requested_ip().ok().flatten();
        let server_id = p.server_id().ok().flatten();
        let authoritative = self.config.settings.authoritative;
        match req.mt {
            None => {
                // BOOTP: only for dhcp-host addresses (pxe-rules checked).
                let Some(addr) = static_addr else {
                    return self.dropped(
                        DropReason::Ignored,
                        rx,
                        &"BOOTP without a reserved address",
                    );
                };
                self.ack_like(now, req, d, rx, out, addr, None, true)
            }
            Some(MessageType::Discover) => {
                if self.over_lease_max(cid, &hw, now) {
                    let _ = write!(self.log, "no address: dhcp-lease-max reached");
                    return self.dropped_quiet(DropReason::Ignored);
                }
                let addr = match static_addr {
                    Some(a) => a,
                    None => {
                        let Some(pi) = pool else {
                            let _ = write!(
                                self.log,
                                "no address: static range and no dhcp-host address"
                            );
                            return self.dropped_quiet(DropReason::Ignored);
                        };
                        match self.leases.choose(pi, cid, &hw, requested, now) {
                            Ok(a) => a,
                            Err(e) => {
                                let _ = write!(self.log, "no address: {e}");
                                return self.dropped_quiet(DropReason::Ignored);
                            }
                        }
                    }
                };
                if self.config.settings.rapid_commit && req.pkt.option(RAPID_COMMIT).is_some() {
                    // RFC 4039: commit at once and answer with the ACK.
                    return self.ack_like(now, req, d, rx, out, addr, host, false);
                }
                self.leases.hold_offer(addr, cid, &hw, now);
                self.reply_full(req, d, rx, out, MessageType::Offer, addr)
            }
            Some(MessageType::Request) => {
                let lease_addr = self
                    .leases
                    .find(cid, &hw)
                    .filter(|l| l.is_active(now))
                    .map(|l| l.addr);
                let addr = if let Some(sid) = server_id {
                    // SELECTING.
                    if sid != rx.local {
                        if authoritative {
                            return self.nak(req, rx, "wrong server-ID", out);
                        }
                        let _ = write!(self.log, "client chose server {sid}");
                        return Handled::NoReply;
                    }
                    let Some(r) = requested else {
                        return self.nak(req, rx, "no address requested", out);
                    };
                    r
                } else if let Some(r) = requested {
                    // INIT-REBOOT.
                    match lease_addr {
                        None if !authoritative && static_addr != Some(r) => {
                            let _ = write!(
                                self.log,
                                "INIT-REBOOT for {r}: no lease here, not authoritative"
                            );
                            return self.dropped_quiet(DropReason::NotOurs);
                        }
                        Some(l) if l != r => return self.nak(req, rx, "wrong address", out),
                        _ => r,
                    }
                } else {
                    // RENEWING / REBINDING.
                    let c = p.ciaddr();
                    if c.is_unspecified() {
                        return self.nak(req, rx, "no address requested", out);
                    }
                    if lease_addr != Some(c) && static_addr != Some(c) && !authoritative {
                        if rx.broadcast {
                            let _ = write!(self.log, "REBINDING {c}: lease not found here");
                            return self.dropped_quiet(DropReason::NotOurs);
                        }
                        return self.nak(req, rx, "lease not found", out);
                    }
                    c
                };
                if !range.same_net(addr, rx.netmask) {
                    return self.nak(req, rx, "wrong network", out);
                }
                match static_addr {
                    Some(s) if s != addr => {
                        return self.nak(req, rx, "static lease available", out);
                    }
                    Some(_) => {}
                    None => {
                        let in_pool = pool.is_some_and(|pi| {
                            self.leases
                                .pools()
                                .get(pi)
                                .is_some_and(|pl| pl.contains(addr))
                        });
                        if !in_pool {
                            return self.nak(req, rx, "address not available", out);
                        }
                    }
                }
                if let Err(e) = self.leases.check_free(addr, cid, &hw, now) {
                    let why = match e {
                        crate::lease::AllocError::Reserved(_) => "address reserved",
                        crate::lease::AllocError::InUse(_) => "address in use",
                        _ => "address not available",
                    };
                    return self.nak(req, rx, why, out);
                }
                if self.over_lease_max(cid, &hw, now) {
                    return self.nak(req, rx, "no leases left", out);
                }
                self.ack_like(now, req, d, rx, out, addr, host, false)
            }
            Some(MessageType::Decline) => {
                if server_id != Some(rx.local) {
                    return self.dropped_quiet(DropReason::OtherServer);
                }
                let Some(a) = requested else {
                    return self.dropped(DropReason::BadOptions, rx, &"DECLINE without option 50");
                };
                match self.leases.decline(a, cid, &hw, now) {
                    Some(c) => {
                        self.changes.push(c);
                        self.metrics.declines += 1;
                        let _ = write!(self.log, "address {a} declined, kept out of use");
                    }
                    None => {
                        // Only the holder may decline: a stranger's DECLINE
                        // would otherwise take any address out of use.
                        let _ = write!(self.log, "DECLINE of {a} ignored: not this client's lease");
                    }
                }
                Handled::NoReply
            }
            Some(MessageType::Release) => {
                if server_id != Some(rx.local) {
                    return self.dropped_quiet(DropReason::OtherServer);
                }
                let a = p.ciaddr();
                match self.leases.release(a, cid, &hw) {
                    Some(c) => {
                        self.changes.push(c);
                        self.metrics.releases += 1;
                        let _ = write!(self.log, "released {a}");
                    }
                    None => {
                        let _ = write!(self.log, "RELEASE of {a}: unknown lease");
                    }
                }
                Handled::NoReply
            }
            Some(MessageType::Inform) => {
                if p.ciaddr().is_unspecified() {
                    return self.dropped(DropReason::BadOptions, rx, &"INFORM without ciaddr");
                }
                self.reply_inform(req, d, rx, out)
            }
            Some(_) => self.dropped(DropReason::UnknownMessageType, rx, &""),
        }
    }

    /// `dhcp-lease-max`: a new client would exceed the configured number of
    /// active leases.
    fn over_lease_max(&self, cid: Option<&[u8]>, hw: &HwAddr, now: u64) -> bool {
        let Some(max) = self.config.settings.lease_max else {
            return false;
        };
        if self.leases.find(cid, hw).is_some_and(|l| l.is_active(now)) {
            return false;
        }
        // len() counts expired leases too: cheap, and only when it reaches
        // the limit are the active ones counted.
        self.leases.len() >= max as usize && self.leases.active(now).count() >= max as usize
    }

    fn dropped_quiet(&mut self, r: DropReason) -> Handled {
        self.metrics.drop(r);
        Handled::Dropped(r)
    }

    #[allow(clippy::too_many_arguments)]
    fn ack_like(
        &mut self,
        now: u64,
        req: &Req<'_>,
        d: &Decision<'_>,
        rx: &RxInfo<'_>,
        out: &mut [u8],
        addr: Ipv4Addr,
        host: Option<&Host>,
        bootp: bool,
    ) -> Handled {
        let secs = if bootp {
            timing::INFINITE
        } else {
            let t = self.times(req, d);
            t.lease
        };
        let hostname = host.and_then(|h| h.name.clone()).or_else(|| {
            req.pkt
                .host_name()
                .ok()
                .flatten()
                .and_then(sanitize_hostname)
        });
        let lease = Lease {
            addr,
            hw: req.hw,
            client_id: req.client_id.map(<[u8]>::to_vec),
            hostname,
            expires: if secs == timing::INFINITE {
                NEVER
            } else {
                now.saturating_add(u64::from(secs))
            },
        };
        match self.leases.commit(lease, now) {
            Ok(ch) => self.changes.extend(ch),
            Err(e) => {
                let _ = write!(self.log, "({e}) ");
                let why = match e {
                    crate::lease::AllocError::Reserved(_) => "address reserved",
                    crate::lease::AllocError::Declined(_) => "address not available",
                    _ => "address in use",
                };
                return self.nak(req, rx, why, out);
            }
        }
        if bootp {
            return self.reply_bootp(req, d, rx, out, addr);
        }
        self.reply_full(req, d, rx, out, MessageType::Ack, addr)
    }

    fn times(&self, req: &Req<'_>, d: &Decision<'_>) -> timing::Times {
        let configured = d.lease_time().map_or(DEFAULT_LEASE, |l| l.as_secs());
        let requested = req.pkt.lease_time().ok().flatten();
        let (t1, t2) = d.configured_t1_t2();
        let be = |v: Option<&[u8]>| {
            v.and_then(|b| b.get(..4))
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        timing::times(configured, requested, be(t1), be(t2), 0)
    }

    fn builtins(
        b: &mut Builder<'_>,
        d: &Decision<'_>,
        rx: &RxInfo<'_>,
        range: Option<&Range>,
        req: &Req<'_>,
        config: &Config,
    ) -> Result<(), pxe_dhcp::Error> {
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
            && let Some(dom) = &config.settings.domain
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

    fn reply_full(
        &mut self,
        req: &Req<'_>,
        d: &Decision<'_>,
        rx: &RxInfo<'_>,
        out: &mut [u8],
        mt: MessageType,
        addr: Ipv4Addr,
    ) -> Handled {
        let times = self.times(req, d);
        let siaddr = self.next_server(d);
        let config = self.config.clone();
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
            Self::builtins(&mut b, d, rx, d.range(), req, &config)?;
            for (c, v) in d.options() {
                b.option(c, v)?;
            }
            b.copy_option(&req.pkt, code::RELAY_AGENT_INFO)?;
            b.finish()
        })();
        let reply = Sent {
            what: msg_name(mt),
            yiaddr: addr,
            siaddr,
            dest: self.addressing(req, rx, addr, d.broadcast()),
        };
        let counter: fn(&mut Metrics) -> &mut u64 = if mt == MessageType::Offer {
            |m| &mut m.offers
        } else {
            |m| &mut m.acks
        };
        self.sent(r, Some(counter), reply, d, rx)
    }

    fn reply_inform(
        &mut self,
        req: &Req<'_>,
        d: &Decision<'_>,
        rx: &RxInfo<'_>,
        out: &mut [u8],
    ) -> Handled {
        let siaddr = self.next_server(d);
        let config = self.config.clone();
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
            Self::builtins(&mut b, d, rx, d.range(), req, &config)?;
            for (c, v) in d.options() {
                b.option(c, v)?;
            }
            b.copy_option(&req.pkt, code::RELAY_AGENT_INFO)?;
            b.finish()
        })();
        let reply = Sent {
            what: "DHCPACK (INFORM)",
            yiaddr: ciaddr,
            siaddr,
            dest: self.addressing(req, rx, Ipv4Addr::UNSPECIFIED, false),
        };
        self.sent(r, Some(|m| &mut m.acks), reply, d, rx)
    }

    fn reply_bootp(
        &mut self,
        req: &Req<'_>,
        d: &Decision<'_>,
        rx: &RxInfo<'_>,
        out: &mut [u8],
        addr: Ipv4Addr,
    ) -> Handled {
        let siaddr = self.next_server(d);
        let r = (|| {
            let mut b = Builder::reply_to(&req.pkt, &mut *out)?;
            b.yiaddr(addr).siaddr(siaddr);
            if let Some(f) = d.file() {
                b.file(f)?;
            }
            b.ipv4_option(code::SUBNET_MASK, rx.netmask)?;
            b.finish()
        })();
        let reply = Sent {
            what: "BOOTP reply",
            yiaddr: addr,
            siaddr,
            dest: self.addressing(req, rx, addr, false),
        };
        self.sent(r, None, reply, d, rx)
    }
}

/// DHCP option 80, Rapid Commit (RFC 4039): empty.
const RAPID_COMMIT: u8 = 80;

/// What a reply says, for its log line.
struct Sent<'a> {
    what: &'a str,
    yiaddr: Ipv4Addr,
    siaddr: Ipv4Addr,
    dest: Destination,
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

#[cfg(test)]
mod tests;
