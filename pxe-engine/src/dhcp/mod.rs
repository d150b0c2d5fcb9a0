//! The sans-IO DHCP engine: full DHCP (RFC 2131), proxyDHCP, and the PXE
//! boot server on port 4011.
//!
//! The engine gets a datagram, where it came from ([`RxInfo`]) and the
//! wall-clock time; it writes the reply into the caller's buffer and
//! returns one value, [`Output`], that carries everything the driver must
//! do: the lease changes to make durable first, then the reply
//! ([`Reply`]: length, [`Destination`], not-before time). The reply is
//! reachable only through the changes ([`Persist`]) when there are any, so
//! a driver cannot send an ACK whose lease is not on disk. What happened
//! and why leaves as structured events through the [`EventSink`] the
//! driver passes in ([`event`]); which sockets to bind comes from
//! [`Sockets`]. Nothing here does I/O, reads a clock or allocates per
//! packet except when a lease is created or changed (and for the rule
//! trace, when a sink asks for it).
//!
//! The rules (tags, which `dhcp-boot` line, which options, the PXE menu)
//! come from `pxe-rules`; packet views and the reply builder from
//! `pxe-dhcp`. The engine owns what is left: message handling per RFC
//! 2131 and dnsmasq (one handler per message type, REQUEST by its RFC 2131
//! §4.3.2 state), leases, the server's own options (53, 54, 51, 58, 59 and
//! the built-ins 1, 28, 3, 15, 12), and reply addressing.
//!
//! ## Deviation from dnsmasq: next-server in proxy replies
//!
//! When a proxy range's `dhcp-boot` line names a boot file but no server
//! (`dhcp-boot=tag:ipxe,http://192.168.2.1/ipxe.php?mac=${mac}`), dnsmasq
//! 2.90 answers iPXE's DISCOVER with a proxy OFFER whose `file` is that URL
//! but whose `siaddr` is `0.0.0.0`.
//! iPXE ignores such a proxy offer and reports "Nothing to boot". This
//! engine sets `siaddr` (next-server) to its own address on the receiving
//! interface whenever a proxy reply carries a boot file and no server was
//! configured, so such a configuration boots unchanged. The rule lives with
//! the other header rules in `pxe_rules::Decision::next_server`, which
//! the shared reply writer applies.
//!
//! ## Example
//!
//! A full DORA exchange, with the lease persisted before the ACK leaves and
//! the log lines collected from the events:
//!
//! ```
//! use std::sync::Arc;
//! use core::net::{Ipv4Addr, SocketAddrV4};
//! use pxe_dhcp::{Builder, MessageType, Packet};
//! use pxe_engine::dhcp::{Event, Outcome, Output};
//! use pxe_engine::lease::LeaseChange;
//! use pxe_engine::{Engine, RxInfo};
//!
//! let conf = pxe_rules::Config::parse_str(
//!     "dhcp-range=10.0.0.100,10.0.0.200\ndhcp-boot=pxelinux.0\n",
//!     "example.conf",
//! )?;
//! let mut engine = Engine::new(Arc::new(conf));
//! assert_eq!(engine.sockets().ports().collect::<Vec<_>>(), [67]);
//! let rx = RxInfo {
//!     port: 67,
//!     src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
//!     iface: "eth0",
//!     local: Ipv4Addr::new(10, 0, 0, 1),
//!     netmask: Ipv4Addr::new(255, 255, 255, 0),
//!     mtu: 1500,
//!     broadcast: true,
//! };
//! let mut log = Vec::new();
//! let mut events = |e: &Event<'_>| log.push(e.to_string());
//! let mut req = [0u8; 600];
//! let mut out = [0u8; 1500];
//!
//! // DISCOVER -> OFFER: nothing to persist.
//! let mut b = Builder::new(&mut req)?;
//! b.xid(7).chaddr(1, &[2, 0, 0, 0, 0, 1])?.message_type(MessageType::Discover)?;
//! let n = b.finish()?;
//! let Output::Ready(Outcome::Reply(offer)) =
//!     engine.handle(1_700_000_000, &rx, &req[..n], &mut out, &mut events)
//! else {
//!     panic!("no offer");
//! };
//! let p = Packet::new_checked(&out[..offer.len])?;
//! assert_eq!(p.message_type()?, Some(MessageType::Offer));
//! assert_eq!(p.file(), Some(&b"pxelinux.0"[..]));
//! let yiaddr = p.yiaddr();
//!
//! // REQUEST -> ACK: the lease first, then the reply.
//! let mut b = Builder::new(&mut req)?;
//! b.xid(7).chaddr(1, &[2, 0, 0, 0, 0, 1])?.message_type(MessageType::Request)?;
//! b.option(50, &yiaddr.octets())?.option(54, &[10, 0, 0, 1])?;
//! let n = b.finish()?;
//! let Output::Persist(persist) =
//!     engine.handle(1_700_000_000, &rx, &req[..n], &mut out, &mut events)
//! else {
//!     panic!("an ACK grants a lease");
//! };
//! assert!(matches!(&persist.changes()[..], [LeaseChange::Grant(l)] if l.addr == yiaddr));
//! // ... write persist.changes() to stable storage here, then:
//! let Outcome::Reply(ack) = persist.persisted() else { panic!("no ACK") };
//! assert_eq!(Packet::new_checked(&out[..ack.len])?.message_type()?, Some(MessageType::Ack));
//! drop(events);
//! assert_eq!(
//!     log[1],
//!     format!(
//!         "DHCPREQUEST(eth0) 02:00:00:00:00:01 tags: none -> DHCPACK {yiaddr} \
//!          file=pxelinux.0 next-server=10.0.0.1 (unicast {yiaddr} (02:00:00:00:00:01))"
//!     )
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};

use pxe_dhcp::{MessageType, Op, Packet, code};
use pxe_rules::config::{RangeMode, Rule};
use pxe_rules::{Config, Context, Decision, Explanation, Facts, IgnoreReason, Port, Verdict};

use crate::hosts::Hosts;
use crate::lease::{Conflict, HwAddr, LeaseChange, LeaseTable, Owner, Pool, Reservation};
use addressing::PXE_PORT;
use event::{Client, DropDetail, LeaseEvent, ReplyKind, Request, Silence, Trace};
use metrics::{DropReason, Metrics};
use reply::Sent;

pub mod addressing;
pub mod balance;
pub mod event;
mod full;
mod hostname;
pub mod log_dhcp;
pub mod metrics;
pub mod output;
mod reply;
pub mod sockets;
pub mod timing;
pub mod v6;

pub use addressing::Destination;
pub use event::{Event, EventSink, NoEvents};
pub use output::{Outcome, Output, Persist, Reply};
pub use sockets::Sockets;

/// Default lease time (dnsmasq: one hour).
pub const DEFAULT_LEASE: u32 = 3600;

/// DHCP option 80, Rapid Commit (RFC 4039): empty.
const RAPID_COMMIT: u8 = 80;

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

/// The DHCP engine.
#[derive(Debug)]
pub struct Engine {
    config: Arc<Config>,
    leases: LeaseTable,
    pool_of_range: Vec<(Ipv4Addr, Ipv4Addr, usize)>,
    metrics: Metrics,
    /// The lease changes of the exchange being handled; [`Output`] lends
    /// them to the driver.
    changes: Vec<LeaseChange>,
    /// The client of the exchange being handled (whom the changes are
    /// for): hardware address and client id, kept in a reused buffer.
    owner_hw: HwAddr,
    owner_cid: Vec<u8>,
    owner_has_cid: bool,
    /// The lease store is shared with other servers: offers are claimed
    /// in it too ([`LeaseChange::Offer`]).
    shared_store: bool,
    /// Which clients this server answers when several are live.
    share: balance::Share,
    /// The shared store cannot be reached (degraded mode).
    store_down: bool,
    /// While an ACK is written from the cache in degraded mode: the lease
    /// time left in the store, which the ACK may not exceed.
    lease_cap: Option<u32>,
    hosts: Hosts,
    /// The DHCPv6 server identifier.
    server_duid: Vec<u8>,
    metrics6: v6::Metrics6,
}

/// The request fields the engine reads besides the rules' facts.
struct Req<'p> {
    pkt: &'p Packet<&'p [u8]>,
    mt: Option<MessageType>,
    hw: HwAddr,
    client_id: Option<&'p [u8]>,
    client: Client,
}

/// A drop: the reason it is counted under, and what exactly.
#[derive(Clone, Copy, Debug)]
struct Discard {
    reason: DropReason,
    detail: DropDetail,
}

impl Discard {
    fn new(reason: DropReason) -> Self {
        Discard {
            reason,
            detail: DropDetail::None,
        }
    }

    fn with(reason: DropReason, detail: DropDetail) -> Self {
        Discard { reason, detail }
    }
}

impl<'p> Req<'p> {
    /// The request's header and message type checked, its client read;
    /// anything a server must not answer is a [`Discard`].
    ///
    /// The view stays where the caller built it: it is mostly its 512-byte
    /// option index, and moved into the request and out of the result it
    /// was copied twice per message.
    fn check(pkt: &'p Packet<&'p [u8]>, ignore_client_id: bool) -> Result<Self, Discard> {
        let malformed = |e| Discard::with(DropReason::BadOptions, DropDetail::Packet(e));
        if pkt.op() != Op::Request {
            return Err(Discard::new(DropReason::NotRequest));
        }
        let (htype, hlen) = (pkt.htype(), pkt.hlen());
        if hlen > 16 || (htype == 0 && hlen != 0) {
            return Err(Discard::new(DropReason::BadHardwareAddress));
        }
        if let Some(e) = pkt.options_error() {
            return Err(malformed(e));
        }
        let mt = pkt.message_type().map_err(malformed)?;
        match mt {
            Some(MessageType::Offer | MessageType::Ack | MessageType::Nak) => {
                return Err(Discard::new(DropReason::ServerMessage));
            }
            Some(MessageType::Other(_)) => {
                return Err(Discard::new(DropReason::UnknownMessageType));
            }
            _ => {}
        }
        let hw =
            HwAddr::new(htype, pkt.chaddr()).ok_or(Discard::new(DropReason::BadHardwareAddress))?;
        let client_id = if ignore_client_id {
            None
        } else {
            pkt.option_ref(code::CLIENT_ID).filter(|c| c.len() >= 2)
        };
        let ciaddr = pkt.ciaddr();
        let client = Client {
            hw,
            uuid: pkt.client_uuid().ok().flatten(),
            ip: if ciaddr.is_unspecified() {
                pkt.requested_ip().ok().flatten()
            } else {
                Some(ciaddr)
            },
            arch: pkt.client_arch().ok().flatten().map(|a| a.first().0),
            class: event::ClientClass::of(pkt),
        };
        Ok(Req {
            pkt,
            mt,
            hw,
            client_id,
            client,
        })
    }
}

/// One request being answered: when, where from, what it says, and what
/// the rules decided.
struct Exchange<'x> {
    now: u64,
    rx: &'x RxInfo<'x>,
    req: &'x Req<'x>,
    d: &'x Decision<'x>,
}

impl<'x> Exchange<'x> {
    /// The request as events describe it.
    fn request(&self) -> Request<'x> {
        Request {
            message: self.req.mt,
            xid: self.req.pkt.xid(),
            iface: self.rx.iface,
            port: self.rx.port,
            client: self.req.client,
            packet: self.req.pkt,
            local: self.rx.local,
            netmask: self.rx.netmask,
            decision: self.d,
        }
    }
}

/// What an exchange came to, before it is counted and reported (in one
/// place, [`Engine::account`]).
enum Step<'x> {
    /// A reply was written into the output buffer (or did not fit).
    Reply(Sent<'x>),
    /// The rules give no reply.
    Ignored(IgnoreReason),
    /// The full-DHCP state gives no reply.
    Silent(Silence),
    /// A RELEASE or DECLINE (its change, if any, is queued).
    Lease(LeaseEvent),
    /// Dropped.
    Drop(Discard),
}

/// What a configuration makes of the lease table: the dynamic ranges
/// pools (and which range each serves) and the `dhcp-host` reservations.
struct Policy {
    pools: Vec<Pool>,
    pool_of_range: Vec<(Ipv4Addr, Ipv4Addr, usize)>,
    reservations: Vec<Reservation>,
}

impl Policy {
    fn of(config: &Config) -> Self {
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
        let mut reservations = Vec::new();
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
            reservations.push(Reservation {
                hw,
                client_id,
                hostname: h.name.clone(),
                addr: Some(addr),
                lease_time: h.lease.map(|l| l.as_secs()),
                ignore: h.ignore,
            });
        }
        Policy {
            pools,
            pool_of_range,
            reservations,
        }
    }
}

impl Engine {
    /// An engine for `config`, with an empty lease table (fill it with
    /// [`Engine::leases_mut`], e.g. from the lease log).
    pub fn new(config: Arc<Config>) -> Self {
        let policy = Policy::of(&config);
        let mut leases = LeaseTable::new(Vec::new());
        leases.set_policy(policy.pools, policy.reservations);
        leases.set_sequential(config.settings.sequential_ip);
        Engine {
            config,
            leases,
            pool_of_range: policy.pool_of_range,
            metrics: Metrics::default(),
            changes: Vec::new(),
            owner_hw: HwAddr::ethernet([0; 6]),
            owner_cid: Vec::new(),
            owner_has_cid: false,
            shared_store: false,
            share: balance::Share::ALONE,
            store_down: false,
            lease_cap: None,
            hosts: Hosts::default(),
            server_duid: v6::server_duid_for([0; 6]),
            metrics6: v6::Metrics6::default(),
        }
    }

    /// Whether the lease store is shared with other servers (off by
    /// default: the embedded log of one server). When on, an OFFER is
    /// also a change to persist ([`LeaseChange::Offer`]): the store claims
    /// the address for the client before the OFFER leaves, so no two
    /// servers offer one address to two clients.
    pub fn set_shared_store(&mut self, shared: bool) {
        self.shared_store = shared;
    }

    /// Serve as number `index` of `servers` live servers sharing one lease
    /// store (RFC 3074 load balancing, see [`balance`]): a DISCOVER from a
    /// client whose hash bucket belongs to another server is left to it,
    /// unless the client's `secs` has reached `load-balance-wait=` (3 s by
    /// default). Renewals and REQUESTs are answered by whoever receives
    /// them. `servers` of 1 (the default) answers every client.
    pub fn set_share(&mut self, index: u16, servers: u16) {
        self.share = balance::Share {
            index,
            servers: servers.max(1),
            wait_secs: self.load_balance_wait(),
        };
    }

    /// This server's share of the clients.
    pub fn share(&self) -> balance::Share {
        self.share
    }

    /// Whether the shared lease store can be reached (the driver says so
    /// after each attempt). While it cannot (degraded mode), the engine
    /// makes no change that would need it: a new client's DISCOVER is not
    /// answered (counted in [`Metrics::store_down_refusals`]), and a
    /// REQUEST is ACKed only for the client's lease the table already
    /// holds, for no longer than that lease has left (the store has it,
    /// so nothing needs to be written), else not answered either. The
    /// table must then hold only leases the store has: a driver whose
    /// commit failed withdraws that batch's grants
    /// ([`lease::LeaseTable::withdraw`](crate::lease::LeaseTable::withdraw)).
    pub fn set_store_reachable(&mut self, reachable: bool) {
        self.store_down = !reachable;
    }

    /// Whether the engine takes the shared store to be reachable.
    pub fn store_reachable(&self) -> bool {
        !self.store_down
    }

    fn load_balance_wait(&self) -> u16 {
        self.config
            .settings
            .extensions
            .load_balance_wait
            .unwrap_or(balance::DEFAULT_WAIT_SECS)
    }

    /// The store refused an exchange's claim ([`crate::lease::Verdict::Refused`]):
    /// its reply was withheld. The table takes what the store holds on the
    /// address — another client's lease or offer, or nothing for this
    /// client — so the client's retry is answered with another address.
    pub fn store_refused(&mut self, conflict: &Conflict) {
        self.metrics.store_refusals += 1;
        self.leases.withdraw(conflict.addr);
        match &conflict.holder {
            Some(l) if conflict.offer => self.leases.note_offer(l),
            Some(l) => self.leases.apply(&LeaseChange::Grant(l.clone())),
            None => {}
        }
    }

    /// Answer by `config` from the next datagram on (a reload): its pools,
    /// reservations and rules replace the old ones at once, while the
    /// leases, offers held, counters and hosts file stay. A lease outside
    /// the new pools is kept until it expires; its client's next REQUEST
    /// is answered as the new configuration says.
    pub fn reconfigure(&mut self, config: Arc<Config>) {
        let policy = Policy::of(&config);
        self.leases.set_policy(policy.pools, policy.reservations);
        self.leases.set_sequential(config.settings.sequential_ip);
        self.pool_of_range = policy.pool_of_range;
        self.config = config;
        self.share.wait_secs = self.load_balance_wait();
    }

    /// The hosts file where a next-server given by name (`dhcp-boot`,
    /// `pxe-service`) is looked up. Empty by default: such names then give
    /// `0.0.0.0` and a note in the reply's event, as an unresolved name
    /// does in dnsmasq.
    pub fn set_hosts(&mut self, hosts: Hosts) {
        self.hosts = hosts;
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The UDP sockets this configuration needs (see [`Sockets`]).
    pub fn sockets(&self) -> Sockets {
        Sockets::for_config(&self.config)
    }

    /// Whether `dhcp-reply-delay` can hold a reply back (some line with a
    /// delay over 0 s): a driver that queues held replies needs room for
    /// them only then.
    pub fn delays_replies(&self) -> bool {
        self.config
            .items
            .iter()
            .any(|i| matches!(&i.rule, Rule::Delay(d) if d.secs > 0))
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

    /// Handle one datagram received at `now` (Unix seconds); the reply, if
    /// any, is written into `out` (give it 1500 bytes or more). What
    /// happened is reported to `events`.
    pub fn handle<'e>(
        &'e mut self,
        now: u64,
        rx: &RxInfo<'_>,
        datagram: &[u8],
        out: &mut [u8],
        events: &mut dyn EventSink,
    ) -> Output<'e> {
        self.changes.clear();
        self.metrics.received += 1;
        let outcome = self.answer(now, rx, datagram, out, events);
        if self.changes.is_empty() {
            Output::Ready(outcome)
        } else {
            let owner = Owner {
                hw: self.owner_hw,
                client_id: self.owner_has_cid.then_some(&self.owner_cid[..]),
            };
            Output::Persist(Persist::new(&mut self.changes, outcome, owner))
        }
    }

    /// Parse, evaluate the rules, dispatch by verdict, account.
    fn answer(
        &mut self,
        now: u64,
        rx: &RxInfo<'_>,
        datagram: &[u8],
        out: &mut [u8],
        events: &mut dyn EventSink,
    ) -> Outcome {
        let pkt = match Packet::new_lenient(datagram) {
            Ok(p) => p,
            Err(e) => {
                let why = Discard::with(DropReason::TooShort, DropDetail::Packet(e));
                return self.dropped(rx, None, why, events);
            }
        };
        let req = match Req::check(&pkt, self.config.settings.ignore_client_id) {
            Ok(r) => r,
            Err(why) => return self.dropped(rx, None, why, events),
        };
        self.metrics.count_received(req.mt);
        self.owner_hw = req.hw;
        self.owner_cid.clear();
        self.owner_cid
            .extend_from_slice(req.client_id.unwrap_or_default());
        self.owner_has_cid = req.client_id.is_some();
        // The rules read the packet the codec already parsed.
        let facts = match Facts::new(req.pkt) {
            Ok(f) => f,
            Err(e) => {
                let why = Discard::with(DropReason::BadOptions, DropDetail::Facts(e));
                return self.dropped(rx, Some(req.client), why, events);
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
        let client = req.client;
        let outcome = config.evaluate_then(&facts, &ctx, |d| {
            let x = Exchange {
                now,
                rx,
                req: &req,
                d,
            };
            let step = self.dispatch(&x, out);
            self.account(&x, step, out, events)
        });
        if config.settings.log_dhcp && events.wants_trace() {
            let mut explanation = Explanation::default();
            let _ = config.evaluate_traced(&facts, &ctx, &mut explanation);
            let trace = Trace {
                explanation: &explanation,
                config: &config,
            };
            events.event(&Event::Trace { client, trace });
        }
        outcome
    }

    /// What the verdict of the rules leads to.
    fn dispatch<'x>(&mut self, x: &Exchange<'x>, out: &mut [u8]) -> Step<'x> {
        match x.d.verdict() {
            Verdict::Ignore(reason) => Step::Ignored(reason),
            Verdict::BootServer { .. } => Step::Reply(self.boot_server(x, out)),
            Verdict::Proxy => Step::Reply(self.proxy(x, out)),
            Verdict::Full => self.full(x, out),
        }
    }

    /// The one place an exchange is counted and reported.
    fn account(
        &mut self,
        x: &Exchange<'_>,
        step: Step<'_>,
        out: &[u8],
        events: &mut dyn EventSink,
    ) -> Outcome {
        let request = x.request();
        match step {
            Step::Reply(sent) => self.sent(x, sent, out, events),
            Step::Ignored(reason) => {
                let r = match reason {
                    IgnoreReason::NoRange => DropReason::NoRange,
                    IgnoreReason::NotARequest => DropReason::NotRequest,
                    _ => DropReason::Ignored,
                };
                self.metrics.drop(r);
                // Requests from networks without a range are everyday
                // traffic on a multi-homed host: reported only with
                // log-dhcp.
                if self.config.settings.log_dhcp || reason != IgnoreReason::NoRange {
                    events.event(&Event::Ignored { request, reason });
                }
                Outcome::Dropped(r)
            }
            Step::Silent(why) => {
                events.event(&Event::Silent { request, why });
                match counted_as(why) {
                    Some(r) => {
                        self.metrics.drop(r);
                        Outcome::Dropped(r)
                    }
                    None => Outcome::NoReply,
                }
            }
            Step::Lease(what) => {
                match what {
                    LeaseEvent::Released(_) => self.metrics.releases += 1,
                    LeaseEvent::Declined(_) => self.metrics.declines += 1,
                    LeaseEvent::ReleaseUnknown(_) | LeaseEvent::DeclineRefused(_) => {}
                }
                events.event(&Event::Lease { request, what });
                Outcome::NoReply
            }
            Step::Drop(why) => self.dropped(x.rx, Some(x.req.client), why, events),
        }
    }

    /// A reply built into the output buffer: counted and reported when it
    /// fit, else dropped as too big.
    fn sent(
        &mut self,
        x: &Exchange<'_>,
        sent: Sent<'_>,
        out: &[u8],
        events: &mut dyn EventSink,
    ) -> Outcome {
        let Ok(len) = sent.built else {
            let why = Discard::with(DropReason::ReplyTooBig, DropDetail::Reply(sent.kind));
            return self.dropped(x.rx, Some(x.req.client), why, events);
        };
        let m = &mut self.metrics;
        match sent.kind {
            ReplyKind::Offer => m.offers += 1,
            ReplyKind::Ack | ReplyKind::InformAck => m.acks += 1,
            ReplyKind::Nak(_) => m.naks += 1,
            ReplyKind::ProxyOffer | ReplyKind::ProxyAck => m.proxy_replies += 1,
            ReplyKind::BootServerAck => m.boot_server_replies += 1,
            ReplyKind::Bootp => {}
        }
        m.replies += 1;
        m.count_sent(sent.kind);
        let not_before = if delayed(sent.kind, x.req.mt) {
            x.now.saturating_add(u64::from(x.d.reply_delay()))
        } else {
            x.now
        };
        events.event(&Event::Reply {
            request: x.request(),
            kind: sent.kind,
            yiaddr: sent.yiaddr,
            next_server: sent.next_server,
            dest: sent.dest,
            not_before,
            reply: out.get(..len).unwrap_or_default(),
        });
        Outcome::Reply(Reply {
            len,
            dest: sent.dest,
            not_before,
        })
    }

    /// Counts a drop; reports the first of each reason, then those at
    /// powers of two (a flood must not flood the log).
    fn dropped(
        &mut self,
        rx: &RxInfo<'_>,
        client: Option<Client>,
        why: Discard,
        events: &mut dyn EventSink,
    ) -> Outcome {
        let before = self.metrics.drop(why.reason);
        if before == 0 || before.is_power_of_two() {
            events.event(&Event::Dropped {
                reason: why.reason,
                detail: why.detail,
                src: rx.src,
                iface: rx.iface,
                client,
                count: before.saturating_add(1),
            });
        }
        Outcome::Dropped(why.reason)
    }
}

/// The counter a silence is a drop under; `None` for a request that is
/// simply not for this server (the client chose another offer).
fn counted_as(why: Silence) -> Option<DropReason> {
    match why {
        Silence::LeaseMax | Silence::NoDynamicAddress | Silence::NoAddress(_) => {
            Some(DropReason::Ignored)
        }
        Silence::InitRebootUnknown(_) | Silence::RebindingUnknown(_) => Some(DropReason::NotOurs),
        Silence::OtherServer => Some(DropReason::OtherServer),
        Silence::ChoseOtherServer(_) | Silence::OtherServersClient | Silence::StoreUnavailable => {
            None
        }
    }
}

/// Whether `dhcp-reply-delay` holds this reply back. dnsmasq delays
/// "DHCPOFFER and PROXYDHCP replies" (its man page; `apply_delay` in the
/// DISCOVER and proxy paths of `rfc2131.c`): every answer to a DISCOVER,
/// the rapid-commit ACK included, and proxy replies on 67 and 4011 — not
/// the ACK or NAK of a REQUEST, INFORM answers, BOOTP or boot-server ACKs.
fn delayed(kind: ReplyKind, mt: Option<MessageType>) -> bool {
    match kind {
        ReplyKind::Offer | ReplyKind::ProxyOffer | ReplyKind::ProxyAck => true,
        ReplyKind::Ack => mt == Some(MessageType::Discover),
        ReplyKind::InformAck | ReplyKind::Nak(_) | ReplyKind::Bootp | ReplyKind::BootServerAck => {
            false
        }
    }
}

#[cfg(test)]
mod tests;
