//! Boot journeys: every machine's way through the netboot chain — DHCP
//! (full, proxy, port 4011), TFTP, HTTP, iPXE scripts, the OS's callback —
//! in one place, with the stage it reached, how it is doing and what went
//! wrong, named ([`Diagnosis`]).
//!
//! The [`JourneyStore`] is fed the engine's own [`Event`]s (through
//! [`JourneySink`], an [`EventSink`]) and what the TFTP and HTTP services
//! observed ([`TftpObservation`], [`HttpObservation`], keyed by the
//! client's IP address, which the DHCP side learnt). Time is passed in
//! (milliseconds, any clock); nothing here does I/O.
//!
//! Memory is fixed when the store is made: at most `capacity` journeys of
//! a fixed size each ([`Journey`] keeps the last [`STEPS`] steps and names
//! of at most [`NAME_MAX`] bytes), a hash index keyed by a seed the
//! driver picks (a flood of chosen MAC addresses cannot degrade it), and
//! nothing allocated per event. When the store is full the least recently
//! seen journey goes — first among machines that never got past an offer
//! (a flood of fake MACs only churns those), then among the rest.
//!
//! ```
//! use std::sync::Arc;
//! use core::net::{Ipv4Addr, SocketAddrV4};
//! use pxe_dhcp::{Builder, MessageType};
//! use pxe_engine::journey::{DiagnosisKind, JourneyStore, Stage};
//! use pxe_engine::lease::HwAddr;
//! use pxe_engine::{Engine, RxInfo};
//!
//! // The seed's proxy line *without* `net:#ipxe`: iPXE gets itself again.
//! let conf = Arc::new(pxe_rules::Config::parse_str(
//!     "dhcp-match=ipxe,175\n\
//!      dhcp-range=192.168.2.0,proxy\n\
//!      pxe-service=x86PC, \"splashtop\", undionly.kkpxe\n",
//!     "loop.conf",
//! )?);
//! let mut engine = Engine::new(conf.clone());
//! let mut journeys = JourneyStore::new(64, 0x5eed);
//! let rx = |port| RxInfo {
//!     port,
//!     src: SocketAddrV4::new(Ipv4Addr::new(192, 168, 2, 50), 68),
//!     iface: "eth0",
//!     local: Ipv4Addr::new(192, 168, 2, 1),
//!     netmask: Ipv4Addr::new(255, 255, 255, 0),
//!     mtu: 1500,
//!     broadcast: port == 67,
//! };
//! let mac = [0x52, 0x54, 0, 0, 0, 1];
//! // The PXE ROM, then iPXE (option 175): each asks the boot server on 4011.
//! for (t, ipxe) in [(1_000, false), (5_000, true)] {
//!     let mut req = [0u8; 600];
//!     let mut b = Builder::new(&mut req)?;
//!     b.xid(1).chaddr(1, &mac)?.ciaddr(Ipv4Addr::new(192, 168, 2, 50));
//!     b.message_type(MessageType::Request)?;
//!     b.option(60, b"PXEClient:Arch:00000:UNDI:002001")?.option(93, &[0, 0])?;
//!     b.option(43, &[71, 4, 0x80, 0x00, 0, 0, 255])?; // boot item 0x8000, layer 0
//!     if ipxe {
//!         b.option(175, &[1, 1, 1])?;
//!     }
//!     let n = b.finish()?;
//!     let mut out = [0u8; 1500];
//!     let mut sink = journeys.sink(t, &conf);
//!     let _ = engine.handle(t / 1000, &rx(4011), &req[..n], &mut out, &mut sink);
//! }
//! let j = journeys.get(&HwAddr::ethernet(mac)).expect("journey");
//! assert_eq!(j.stage(), Stage::Ipxe);
//! let d = j.worst(6_000).expect("diagnosed");
//! assert_eq!(d.kind, DiagnosisKind::ChainloadLoop);
//! // A basename with a dot is sent as it is (dnsmasq adds no `.0`).
//! assert_eq!(d.file.as_bytes(), b"undionly.kkpxe");
//! let line = d.rule.and_then(|r| r.describe(&conf)).expect("the line");
//! assert!(line.to_string().starts_with("loop.conf:3: pxe-service="), "{line}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use pxe_rules::{Config, IgnoreReason};

use crate::dhcp::event::{Event, EventSink, Request};
use crate::lease::HwAddr;

mod diagnosis;
mod index;
mod machine;
mod name;
mod rule;
mod stage;
mod step;

pub use diagnosis::{Detail, Diagnosis, DiagnosisKind, Explanation, OFFER_WAIT_MS, Severity};
pub use machine::{Counts, Journey, STEPS};
pub use name::{NAME_MAX, Name};
pub use rule::RuleRef;
pub use stage::{IDLE_MS, Stage, State};
pub use step::{
    Answer, DhcpStep, HttpObservation, HttpStep, Step, StepKind, StepTags, TagNames,
    TftpObservation, TftpRefusal, TftpStep, TftpTotals,
};

use index::HwIndex;

/// No slot.
const NIL: u32 = u32::MAX;

/// Recency links of one slot, and the index hash of its address (an
/// evicted slot's entry is removed by it: the journey itself, the coldest
/// in cache, is not read for that).
#[derive(Clone, Copy, Debug)]
struct Link {
    prev: u32,
    next: u32,
    hash: u32,
    segment: Segment,
}

/// Which recency list a journey is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Segment {
    /// Never got past an offer: evicted first.
    Probation,
    /// Got an address or boot file, or downloaded something.
    Protected,
}

#[derive(Clone, Copy, Debug)]
struct List {
    head: u32,
    tail: u32,
    len: usize,
}

const EMPTY_LIST: List = List {
    head: NIL,
    tail: NIL,
    len: 0,
};

/// The journeys of the last machines seen (see the [module docs](self)).
#[derive(Debug)]
pub struct JourneyStore {
    journeys: Vec<Journey>,
    links: Vec<Link>,
    lists: [List; 2],
    index: HwIndex,
    capacity: usize,
    evicted: u64,
    unmatched: u64,
    /// The slot last recorded into: a client's requests come in runs
    /// (DISCOVER then REQUEST, a PXE ROM then iPXE), and the next event of
    /// the same machine is found without the index.
    last: u32,
}

/// Counts over the store at one time, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Journeys by current stage ([`Stage::index`]).
    pub by_stage: [u64; Stage::COUNT],
    /// Journeys by state (in the order of [`State::ALL`]).
    pub by_state: [u64; 4],
    /// Journeys with a diagnosis of each kind in their current boot
    /// ([`DiagnosisKind::index`]).
    pub by_diagnosis: [u64; DiagnosisKind::COUNT],
}

impl JourneyStore {
    /// The capacity `pxe-server` uses unless told otherwise
    /// (`journey-max=`).
    pub const DEFAULT_CAPACITY: usize = 1024;

    /// Most journeys a store may keep (the index is a `u32`).
    pub const MAX_CAPACITY: usize = 1 << 20;

    /// A store for the journeys of the last `capacity` machines (at least
    /// 1, at most [`JourneyStore::MAX_CAPACITY`]); `seed` keys its hash
    /// index (pick it at random).
    pub fn new(capacity: usize, seed: u64) -> Self {
        let capacity = capacity.clamp(1, Self::MAX_CAPACITY);
        JourneyStore {
            journeys: Vec::with_capacity(capacity),
            links: Vec::with_capacity(capacity),
            lists: [EMPTY_LIST; 2],
            index: HwIndex::new(capacity, seed),
            capacity,
            evicted: 0,
            unmatched: 0,
            last: NIL,
        }
    }

    /// Drops the configuration-line references of every journey (after a
    /// configuration reload: the new file has other lines at their
    /// indices; a reference shown with the wrong line is worse than none).
    pub fn forget_rules(&mut self) {
        for j in &mut self.journeys {
            j.forget_rules();
        }
    }

    /// How many journeys it keeps at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many it holds.
    pub fn len(&self) -> usize {
        self.journeys.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.journeys.is_empty()
    }

    /// Journeys dropped to make room.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// TFTP and HTTP observations whose client no journey knew.
    pub fn unmatched(&self) -> u64 {
        self.unmatched
    }

    /// Heap bytes the store holds: all of it is reserved at
    /// [`JourneyStore::new`] and never grows.
    pub fn heap_bytes(&self) -> usize {
        self.journeys.capacity() * core::mem::size_of::<Journey>()
            + self.links.capacity() * core::mem::size_of::<Link>()
            + self.index.heap_bytes()
    }

    /// The journey of `hw`.
    pub fn get(&self, hw: &HwAddr) -> Option<&Journey> {
        let slot = self.find(hw)?;
        self.journeys.get(slot as usize)
    }

    /// Every journey, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Journey> + '_ {
        self.journeys.iter()
    }

    /// Counts by stage, state and diagnosis at `now`.
    pub fn summary(&self, now: u64) -> Summary {
        let mut s = Summary::default();
        for j in &self.journeys {
            if let Some(c) = s.by_stage.get_mut(j.stage().index()) {
                *c += 1;
            }
            let state = j.state(now);
            if let Some(i) = State::ALL.iter().position(|x| *x == state) {
                s.by_state[i] += 1;
            }
            for d in j.diagnoses(now).filter(|d| d.at >= j.boot_started()) {
                s.by_diagnosis[d.kind.index()] += 1;
            }
        }
        s
    }

    /// An [`EventSink`] that records the engine's events at `now` (they
    /// refer to `config`, the engine's configuration); hand them on to a
    /// logger too with [`JourneySink::forward_to`].
    pub fn sink<'s>(&'s mut self, now: u64, config: &'s Config) -> JourneySink<'s> {
        JourneySink {
            store: self,
            config,
            now,
            next: None,
        }
    }

    /// Records one engine event at `now`; `config` is the engine's.
    pub fn record(&mut self, now: u64, config: &Config, event: &Event<'_>) {
        let (request, answer) = match *event {
            Event::Reply {
                ref request,
                kind,
                yiaddr,
                next_server,
                ..
            } => (
                request,
                Answer::Reply {
                    kind,
                    yiaddr,
                    next_server: next_server.addr,
                    unresolved_server: next_server.unresolved.is_some(),
                },
            ),
            Event::Ignored {
                ref request,
                reason,
            } => (request, Answer::Ignored(reason)),
            Event::Silent { ref request, why } => (request, Answer::Silent(why)),
            Event::Lease { ref request, what } => (request, Answer::Lease(what)),
            Event::Dropped {
                reason,
                client: Some(c),
                ..
            } => {
                if let Some(slot) = self.find(&c.hw) {
                    self.touch(slot);
                    if let Some(j) = self.journeys.get_mut(slot as usize) {
                        j.on_drop(now, reason);
                    }
                }
                return;
            }
            _ => return,
        };
        self.exchange(now, config, request, answer);
    }

    fn exchange(&mut self, now: u64, config: &Config, request: &Request<'_>, answer: Answer) {
        let hw = request.client.hw;
        // Journeys begin with netboot clients and replies; other
        // requests (an OS on a proxy's LAN, other networks) only update
        // machines already followed.
        let starts = !matches!(answer, Answer::Ignored(IgnoreReason::NoRange))
            && (request.client.class.netboots() || matches!(answer, Answer::Reply { .. }));
        let slot = match self.find_last(&hw) {
            Some(s) => s,
            None => {
                // Hashed once, for the lookup and the insert after it.
                let h = self.index.hash(&hw);
                let journeys = &self.journeys;
                match self.index.get(h, &hw, |s| key_of(journeys, s)) {
                    Some(s) => s,
                    None if starts => self.insert(hw, h, now),
                    None => return,
                }
            }
        };
        if let Some(j) = self.journeys.get_mut(slot as usize) {
            j.on_exchange(now, config, request, answer);
        }
        self.touch(slot);
    }

    /// Records what the TFTP service saw of the client at `client`; false
    /// if no journey has that address.
    pub fn record_tftp(&mut self, now: u64, client: Ipv4Addr, o: &TftpObservation<'_>) -> bool {
        let Some(slot) = self.find_ip(client) else {
            self.unmatched = self.unmatched.saturating_add(1);
            return false;
        };
        if let Some(j) = self.journeys.get_mut(slot as usize) {
            j.on_tftp(now, o);
        }
        self.touch(slot);
        true
    }

    /// Records an HTTP request of `client`, of machine `mac` when the
    /// request names it (`?mac=`); false if no journey matches.
    pub fn record_http(
        &mut self,
        now: u64,
        client: Ipv4Addr,
        mac: Option<HwAddr>,
        o: &HttpObservation<'_>,
    ) -> bool {
        let Some(slot) = self.find_client(client, mac) else {
            self.unmatched = self.unmatched.saturating_add(1);
            return false;
        };
        if let Some(j) = self.journeys.get_mut(slot as usize) {
            j.on_http(now, o);
        }
        self.touch(slot);
        true
    }

    /// Records the OS's callback (`/done`) from `client`, for `mac` when
    /// given; false if no journey matches.
    pub fn record_done(&mut self, now: u64, client: Ipv4Addr, mac: Option<HwAddr>) -> bool {
        let Some(slot) = self.find_client(client, mac) else {
            self.unmatched = self.unmatched.saturating_add(1);
            return false;
        };
        if let Some(j) = self.journeys.get_mut(slot as usize) {
            j.on_done(now);
        }
        self.touch(slot);
        true
    }

    fn find(&self, hw: &HwAddr) -> Option<u32> {
        self.find_last(hw).or_else(|| {
            let journeys = &self.journeys;
            self.index
                .get(self.index.hash(hw), hw, |s| key_of(journeys, s))
        })
    }

    /// The slot last recorded into, if it is `hw`'s.
    fn find_last(&self, hw: &HwAddr) -> Option<u32> {
        self.journeys
            .get(self.last as usize)
            .is_some_and(|j| j.hw() == *hw)
            .then_some(self.last)
    }

    /// The journey of `mac` if given and known, else the one last seen
    /// with address `ip`.
    fn find_client(&self, ip: Ipv4Addr, mac: Option<HwAddr>) -> Option<u32> {
        mac.and_then(|m| self.find(&m)).or_else(|| self.find_ip(ip))
    }

    /// The journey last seen with address `ip` (a scan: TFTP and HTTP
    /// report once per transfer or request, not per datagram).
    fn find_ip(&self, ip: Ipv4Addr) -> Option<u32> {
        self.journeys
            .iter()
            .enumerate()
            .filter(|(_, j)| j.ip() == Some(ip))
            .max_by_key(|(_, j)| j.last_seen())
            .and_then(|(i, _)| u32::try_from(i).ok())
    }

    /// A slot for a new journey of `hw` (whose index hash is `h`): a free
    /// one, else the least recently seen on probation, else the least
    /// recently seen of all.
    fn insert(&mut self, hw: HwAddr, h: u32, now: u64) -> u32 {
        let slot = if self.journeys.len() < self.capacity {
            let s = self.journeys.len() as u32;
            self.journeys.push(Journey::new(hw, now));
            self.links.push(Link {
                prev: NIL,
                next: NIL,
                hash: h,
                segment: Segment::Probation,
            });
            s
        } else {
            let victim = match self.lists[0].tail {
                NIL => self.lists[1].tail,
                t => t,
            };
            self.unlink(victim);
            if let Some(l) = self.links.get_mut(victim as usize) {
                self.index.remove(l.hash, victim);
                l.hash = h;
                l.segment = Segment::Probation;
            }
            if let Some(j) = self.journeys.get_mut(victim as usize) {
                j.reset(hw, now);
            }
            self.evicted = self.evicted.saturating_add(1);
            victim
        };
        self.index.insert(h, slot);
        self.push_front(slot);
        slot
    }

    /// Moves `slot` to the front of its list, promoting it once it got an
    /// address or boot file (demoting the protected list's last when that
    /// list would hold more than three quarters of the store).
    fn touch(&mut self, slot: u32) {
        self.last = slot;
        let protect = self
            .journeys
            .get(slot as usize)
            .is_some_and(|j| j.stage() >= stage::Stage::Ack);
        let li = self.list_of(slot);
        if self.lists[li].head == slot && (li == 1 || !protect) {
            // Already the most recent of its list, and staying there.
            return;
        }
        self.unlink(slot);
        if protect && let Some(l) = self.links.get_mut(slot as usize) {
            l.segment = Segment::Protected;
        }
        self.push_front(slot);
        let max_protected = (self.capacity * 3 / 4).max(1);
        if self.lists[1].len > max_protected {
            let t = self.lists[1].tail;
            self.unlink(t);
            if let Some(l) = self.links.get_mut(t as usize) {
                l.segment = Segment::Probation;
            }
            self.push_front(t);
        }
    }

    fn list_of(&self, slot: u32) -> usize {
        match self.links.get(slot as usize).map(|l| l.segment) {
            Some(Segment::Protected) => 1,
            _ => 0,
        }
    }

    fn unlink(&mut self, slot: u32) {
        let Some(&Link { prev, next, .. }) = self.links.get(slot as usize) else {
            return;
        };
        let li = self.list_of(slot);
        let in_list = prev != NIL || next != NIL || self.lists[li].head == slot;
        if !in_list {
            return;
        }
        match self.links.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => self.lists[li].head = next,
        }
        match self.links.get_mut(next as usize) {
            Some(n) => n.prev = prev,
            None => self.lists[li].tail = prev,
        }
        if let Some(l) = self.links.get_mut(slot as usize) {
            l.prev = NIL;
            l.next = NIL;
        }
        self.lists[li].len = self.lists[li].len.saturating_sub(1);
    }

    fn push_front(&mut self, slot: u32) {
        let li = self.list_of(slot);
        let old = self.lists[li].head;
        if let Some(l) = self.links.get_mut(slot as usize) {
            l.prev = NIL;
            l.next = old;
        }
        match self.links.get_mut(old as usize) {
            Some(o) => o.prev = slot,
            None => self.lists[li].tail = slot,
        }
        self.lists[li].head = slot;
        self.lists[li].len += 1;
    }
}

/// The address of the journey in `slot` (a slot the index holds).
fn key_of(journeys: &[Journey], slot: u32) -> HwAddr {
    journeys
        .get(slot as usize)
        .map_or(HwAddr::ethernet([0; 6]), Journey::hw)
}

/// The [`EventSink`] of [`JourneyStore::sink`]: records each event, then
/// passes it on to the sink given to [`JourneySink::forward_to`], if any.
pub struct JourneySink<'s> {
    store: &'s mut JourneyStore,
    config: &'s Config,
    now: u64,
    next: Option<&'s mut dyn EventSink>,
}

impl<'s> JourneySink<'s> {
    /// Passes every event on to `next` after recording it (and asks
    /// `next` whether to compute the rule trace).
    pub fn forward_to(self, next: &'s mut dyn EventSink) -> JourneySink<'s> {
        JourneySink {
            next: Some(next),
            ..self
        }
    }
}

impl EventSink for JourneySink<'_> {
    fn event(&mut self, event: &Event<'_>) {
        self.store.record(self.now, self.config, event);
        if let Some(n) = self.next.as_deref_mut() {
            n.event(event);
        }
    }

    fn wants_trace(&self) -> bool {
        self.next.as_deref().is_some_and(|n| n.wants_trace())
    }
}

#[cfg(test)]
mod tests;
