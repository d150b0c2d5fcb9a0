//! Netboot with no operating system: the `pxe-engine` server engine driven over a
//! [`smoltcp`] interface.
//!
//! [`Server`] owns the sans-IO DHCP engine of `pxe-engine` (full DHCP,
//! proxyDHCP and the PXE boot server on port 4011) and a bounded pool of
//! `pxe-tftp` read transfers. It adds its UDP sockets to the caller's
//! [`SocketSet`]; the caller polls the [`Interface`] and then
//! [`Server::poll`], with time taken from smoltcp's [`Instant`]. It needs
//! `alloc` but not `std`: the configuration is a compiled
//! [`pxe_rules::Config`], files come from a [`Files`] implementation (for
//! example [`MemoryFiles`]), and lease changes go through a [`LeaseStore`] before the
//! reply that announces them is sent.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use smoltcp::iface::SocketSet;
//! use smoltcp::time::Instant;
//! use pxe_smoltcp::{MemoryFiles, Server, Settings, VolatileLeases};
//!
//! let conf = pxe_rules::Config::parse_str(
//!     "dhcp-range=10.0.0.100,10.0.0.150\ndhcp-boot=boot.bin\nenable-tftp\n",
//!     "board.conf",
//! )?;
//! let settings = Settings::from_config(&conf);
//! static FILES: [(&str, &[u8]); 1] = [("boot.bin", b"hello, firmware")];
//! let mut sockets = SocketSet::new(Vec::new());
//! let mut server = Server::new(
//!     Arc::new(conf),
//!     settings,
//!     MemoryFiles::new(&FILES),
//!     VolatileLeases,
//!     &mut sockets,
//! )?;
//! // The main loop of a board (see examples/smoltcp_tap for a real one):
//! //   iface.poll(now, &mut device, &mut sockets);
//! //   server.poll(now, &iface, &mut sockets);
//! //   sleep until iface.poll_delay(..) / server.poll_delay(now)
//! assert_eq!(server.poll_delay(Instant::from_millis(0)), None);
//! assert_eq!(server.stats().tftp_active, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Addressing on a link without ARP help
//!
//! smoltcp delivers datagrams sent to `255.255.255.255` (also from source
//! `0.0.0.0`) to a socket bound to port 67 with no address, and tells which
//! address they were sent to ([`UdpMetadata::local_address`]). It sends to
//! `255.255.255.255` as an Ethernet broadcast frame. It cannot be told a
//! neighbour's hardware address, so when the engine asks for a unicast to a
//! client that has no address yet ([`Destination::UnicastHw`]) this driver
//! broadcasts instead, as dnsmasq does when it cannot inject an ARP entry
//! (RFC 2131 §4.1 allows it; clients accept both). Unicast replies to
//! clients that own their address (4011 answers, renewals) go through
//! smoltcp's ARP; the datagram waits in the socket until the neighbour is
//! resolved.
//!
//! # What is served, and how it is proven
//!
//! * DHCP on port 67 in full mode (leases) and proxy mode, the PXE boot
//!   server on 4011, all decided by the same engine as the `pxe-server`
//!   binary, which also says which of the two ports to open and how long
//!   `dhcp-reply-delay` holds a reply back (held replies wait in the
//!   server; [`Server::poll_delay`] reports when they are due).
//! * TFTP reads (RFC 1350 with blksize, tsize, timeout and windowsize
//!   negotiation; blksize capped by the MTU), one UDP socket per transfer
//!   from a pool of [`Settings::max_transfers`] (`tftp-max`), all decided
//!   by the same [`pxe_tftp::server::Endpoint`] as the `pxe-server`
//!   binary: every datagram goes through it, so admission, `tftp-max`
//!   (requests beyond it are dropped and the client retransmits), the
//!   ports of transfers, ERROR 5 for strangers, the repeated-request rule
//!   and the counting of UEFI's tsize probes are the endpoint's. Writes
//!   are refused with ERROR 4.
//! * Leases: the engine's table, bounded because [`Server::new`] refuses
//!   more pool and `dhcp-host` addresses than [`Settings::max_leases`]
//!   (`dhcp-lease-max`), and DECLINEs of addresses outside the pools are
//!   dropped by the driver.
//!
//! `tests/tap.rs` runs the example's loop on a TAP device in a private
//! network namespace against busybox `udhcpc` (full mode), `curl` over
//! TFTP and a scripted PXE client (proxy offer, 4011 ACK); `tests/vm.rs`
//! boots SeaBIOS with the iPXE NIC ROM into PXELINUX and OVMF's EDK2 PXE
//! client into `ipxe.efi` in qemu from it; `tests/driver.rs` covers the
//! slot pool, retransmission, foreign TIDs and the persistence hook on an
//! in-memory link.
//!
//! # Memory
//!
//! All packet memory is allocated once, by [`Server::new`]: the socket
//! buffers, two 1500-byte scratch buffers and, only when a
//! `dhcp-reply-delay` is configured, [`HELD_REPLIES`] 1500-byte slots for
//! replies waiting for their time. Polling allocates only when the engine
//! creates or changes a lease (and, with `log-dhcp`, for the rule trace
//! of each exchange); a TFTP transfer allocates nothing. Measured by `tests/memory.rs` (counting global allocator,
//! server side only; x86-64, so pointer-heavy parts are smaller on a
//! 32-bit microcontroller) serving one DHCP DISCOVER/OFFER/REQUEST/ACK
//! exchange and one 64 KiB TFTP transfer, with a 51-address pool:
//!
//! | settings | heap after `Server::new` | peak heap |
//! |---|---|---|
//! | [`Settings::from_config`] defaults: 4 transfer slots, windowsize ≤ 4, MTU 1500 | 59 038 B | 61 566 B |
//! | 1 slot, windowsize 1 | 22 046 B | 24 574 B |
//!
//! Not on the heap: `Server` itself is 1 024 B and smoltcp's `Interface`
//! 392 B; the served files are wherever the [`Files`] implementation keeps them
//! (flash, for [`MemoryFiles`] over a `static`). The parsed configuration
//! takes 1.3 KiB; the first lease 2.4 KiB (the engine's B-tree nodes,
//! shared by the next leases).
//!
//! What dominates is the transmit buffers of the transfer slots: each holds
//! `windowsize + 2` full DATA datagrams (8.8 KiB with blksize 1468 and
//! windowsize 4), so the 4 default slots take about 39 KiB; the DHCP socket
//! on port 67 takes 6 KiB, port 4011 (when PXE is configured) 3 KiB and
//! the TFTP request socket 3 KiB. Fewer slots ([`Settings::max_transfers`],
//! `tftp-max`), a smaller [`Settings::max_windowsize`] or a smaller MTU
//! (`tftp-mtu`) shrink it linearly.
//!
//! Code: the freestanding `nostd-check` binary, which links this driver,
//! the engine, the configuration parser and smoltcp, has 152 KiB of text in
//! an x86-64 release build (`size` on
//! `nostd-check/target/x86_64-unknown-linux-gnu/release/pxe-nostd-check`).
#![no_std]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::panic))]

extern crate alloc;

pub mod store;
mod tftp;

pub use pxe_tftp::server::{FileRefusal as FileError, FileRequest, Files, Opened};
pub use tftp::MemoryFiles;

/// The smoltcp this crate is built against (name its types through this
/// re-export to avoid a version mismatch).
pub use smoltcp;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::convert::Infallible;
use core::fmt;
use core::net::{Ipv4Addr, SocketAddrV4};

use pxe_engine::dhcp::addressing::{CLIENT_PORT, Destination, PXE_PORT, SERVER_PORT};
use pxe_engine::dhcp::{Event, EventSink, Outcome, Output, Sockets};
use pxe_engine::lease::LeaseChange;
use pxe_engine::{Engine, RxInfo};
use pxe_rules::Config;
use pxe_tftp::ServerLimits;
use smoltcp::iface::{Interface, SocketHandle, SocketSet};
use smoltcp::phy::PacketMeta;
use smoltcp::socket::udp::{self, PacketBuffer, PacketMetadata, UdpMetadata};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{IpAddress, IpCidr, IpEndpoint};

/// The TFTP request port.
pub const TFTP_PORT: u16 = 69;

/// Largest DHCP datagram handled or sent (a full Ethernet MTU).
const DHCP_MAX: usize = 1500;

/// DHCP replies that can wait for their `dhcp-reply-delay` at once (each
/// slot holds one reply; room is allocated only when a delay is
/// configured). More OFFERs within one delay are dropped and counted; the
/// clients retransmit.
pub const HELD_REPLIES: usize = 4;

/// Settings of the driver that the dnsmasq configuration does not carry,
/// or that a small board wants tighter than dnsmasq's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Interface name used in the engine's decisions and log lines.
    pub iface_name: String,
    /// Unix time (seconds) at smoltcp's `Instant` zero: leases expire in
    /// wall-clock time. A board without a clock can leave it 0; leases it
    /// persists then only make sense until the next reboot.
    pub unix_offset: u64,
    /// IP MTU of the link: caps the TFTP block size and the DHCP reply.
    pub mtu: u16,
    /// Listen for DHCP on port 67 ([`Settings::from_config`]: the engine's
    /// [`Sockets`] rule, when the configuration has a `dhcp-range`, full
    /// or proxy).
    pub dhcp: bool,
    /// Answer PXE boot-server requests on port 4011
    /// ([`Settings::from_config`]: the engine's [`Sockets`] rule, when a
    /// `pxe-service` or `pxe-prompt` is configured as well).
    pub pxe_port: bool,
    /// Serve TFTP on port 69 ([`Settings::from_config`]: `enable-tftp`).
    pub tftp: bool,
    /// Transfer slots (`tftp-max`): each has its own UDP socket with
    /// preallocated buffers. Requests beyond this are dropped (the client
    /// retransmits).
    pub max_transfers: usize,
    /// Largest TFTP `windowsize` granted (RFC 7440).
    pub max_windowsize: u16,
    /// Acknowledge the `blksize` option (`tftp-no-blocksize` turns it off).
    pub blksize: bool,
    /// Most leases the table may ever hold: [`Server::new`] refuses a
    /// configuration whose pools and `dhcp-host` addresses exceed it, so the
    /// engine's table is bounded by it.
    pub max_leases: usize,
    /// First UDP port of the range transfer sockets (TIDs) are bound to.
    pub tid_port_base: u16,
    /// Number of ports in that range.
    pub tid_port_count: u16,
}

/// Default number of transfer slots when the configuration has no
/// `tftp-max` (dnsmasq's 50 would reserve ~440 KiB of socket buffers).
pub const DEFAULT_MAX_TRANSFERS: usize = 4;
/// Default lease capacity when the configuration has no `dhcp-lease-max`.
pub const DEFAULT_MAX_LEASES: usize = 256;

impl Settings {
    /// Settings derived from a configuration: `dhcp-range` (port 67),
    /// `pxe-service`/`pxe-prompt` (port 4011), `enable-tftp`, `tftp-max`,
    /// `dhcp-lease-max`, `tftp-mtu` and `tftp-no-blocksize`. The rest are
    /// defaults to adjust: interface name `eth0`, no wall clock
    /// (`unix_offset` 0), windowsize up to 4, TIDs from port 49152.
    pub fn from_config(config: &Config) -> Self {
        let s = &config.settings;
        let mtu = s
            .tftp_mtu
            .map_or(1500, |m| u16::try_from(m.min(1500)).unwrap_or(1500));
        let sockets = Sockets::for_config(config);
        Settings {
            iface_name: String::from("eth0"),
            unix_offset: 0,
            mtu,
            dhcp: sockets.dhcp,
            pxe_port: sockets.pxe,
            tftp: s.enable_tftp.is_some(),
            max_transfers: s.tftp_max.map_or(DEFAULT_MAX_TRANSFERS, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            }),
            max_windowsize: 4,
            blksize: !s.tftp_no_blocksize,
            max_leases: s.lease_max.map_or(DEFAULT_MAX_LEASES, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            }),
            tid_port_base: 49152,
            tid_port_count: 16384,
        }
    }

    fn limits(&self) -> ServerLimits {
        ServerLimits {
            max_blksize: ServerLimits::blksize_for_mtu(u32::from(self.mtu), false),
            max_windowsize: self.max_windowsize.max(1),
            blksize: self.blksize,
            ..ServerLimits::default()
        }
    }
}

/// The persistence hook for leases.
///
/// [`Server::poll`] calls [`LeaseStore::persist`] with the lease changes a
/// DHCP reply announces (a grant before its ACK, the removal of a client's
/// older lease, a RELEASE or DECLINE) **before** it queues that reply. Make
/// them durable there (flash, FRAM, a host over a serial line). If it
/// returns an error the reply is not sent: the client retries, and the
/// engine, whose in-memory table already holds the change, asks again.
/// At start-up, replay what was stored with
/// [`Server::engine_mut`]`().leases_mut().apply(..)`.
///
/// [`store::RecordLog`] is a ready implementation: checksummed records
/// appended to flash (or anything [`store::Append`]), replayed with
/// [`store::replay`] and compacted with [`store::compact`].
pub trait LeaseStore {
    /// What went wrong while persisting.
    type Error: fmt::Display;
    /// Persist `changes`, in order, before the reply goes out.
    fn persist(&mut self, changes: &[LeaseChange]) -> Result<(), Self::Error>;
}

/// Leases kept in RAM only (lost on reset): persists nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct VolatileLeases;

impl LeaseStore for VolatileLeases {
    type Error = Infallible;
    fn persist(&mut self, _changes: &[LeaseChange]) -> Result<(), Infallible> {
        Ok(())
    }
}

/// Why [`Server::new`] refused to start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// The pools and `dhcp-host` addresses could need more leases than
    /// [`Settings::max_leases`].
    #[error(
        "the dhcp-range pools and dhcp-host addresses can hold {addresses} leases, more than the lease capacity of {max} (shrink the ranges or raise dhcp-lease-max)"
    )]
    TooManyAddresses {
        /// Addresses the configuration can lease.
        addresses: u64,
        /// [`Settings::max_leases`].
        max: usize,
    },
    /// A well-known port could not be bound.
    #[error("cannot bind UDP port {0}")]
    Bind(u16),
    /// `tid_port_count` is smaller than `max_transfers` or the range
    /// leaves the 16-bit port space.
    #[error(
        "the TID port range {base}+{count} cannot hold {slots} transfers (or leaves 1..=65535)"
    )]
    TidRange {
        /// [`Settings::tid_port_base`].
        base: u16,
        /// [`Settings::tid_port_count`].
        count: u16,
        /// [`Settings::max_transfers`].
        slots: usize,
    },
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// DHCP datagrams received on 67 and 4011.
    pub dhcp_received: u64,
    /// DHCP replies queued.
    pub dhcp_replies: u64,
    /// DHCP datagrams dropped by the engine.
    pub dhcp_dropped: u64,
    /// Replies not sent because [`LeaseStore::persist`] failed.
    pub persist_failures: u64,
    /// Replies held back for `dhcp-reply-delay` (queued when their time
    /// came, and then counted in `dhcp_replies` too).
    pub dhcp_held: u64,
    /// Replies dropped because [`HELD_REPLIES`] were already waiting.
    pub dhcp_held_dropped: u64,
    /// DHCPDECLINEs dropped because they named an address outside every
    /// pool (also counted in `dhcp_dropped`).
    pub foreign_declines: u64,
    /// Datagrams dropped because they were larger than the MTU buffers.
    pub oversized: u64,
    /// Datagrams smoltcp refused to queue (buffer full).
    pub send_failures: u64,
    /// Datagrams received on the TFTP request port.
    pub tftp_requests: u64,
    /// Requests answered with a TFTP ERROR.
    pub tftp_refused: u64,
    /// Requests dropped because every slot was busy.
    pub tftp_busy: u64,
    /// Transfers completed.
    pub tftp_completed: u64,
    /// Transfers the client ended after the OACK to learn the size (UEFI
    /// firmware asks with `tsize`, then aborts and asks again).
    pub tftp_size_probes: u64,
    /// Transfers failed (timeout, peer error, storage error).
    pub tftp_failed: u64,
    /// Transfers running now.
    pub tftp_active: usize,
}

/// A DHCP reply waiting for its not-before time.
struct HeldReply {
    at: Instant,
    socket: SocketHandle,
    meta: UdpMetadata,
    len: usize,
}

/// Room for one held reply; the buffer is allocated by [`Server::new`].
struct HeldSlot {
    buf: Vec<u8>,
    reply: Option<HeldReply>,
}

/// The engine's events as log lines, handed to the driver's callback.
struct LogLines<'l, 'f> {
    log: &'l mut (dyn FnMut(fmt::Arguments<'_>) + 'f),
}

impl EventSink for LogLines<'_, '_> {
    fn event(&mut self, e: &Event<'_>) {
        (self.log)(format_args!("{e}"));
    }
    fn wants_trace(&self) -> bool {
        true
    }
}

/// The netboot server on a smoltcp interface.
pub struct Server<F: Files, S: LeaseStore> {
    engine: Engine,
    store: S,
    settings: Settings,
    dhcp: Option<SocketHandle>,
    pxe: Option<SocketHandle>,
    /// The TFTP endpoint, its request socket and transfer sockets.
    tftp: tftp::Tftp<F>,
    /// Received datagram (copied out of the socket so the reply can be
    /// queued on the same socket).
    rx: Vec<u8>,
    /// Reply being built.
    tx: Vec<u8>,
    /// DHCP replies waiting for `dhcp-reply-delay`.
    held: Vec<HeldSlot>,
    stats: Stats,
}

impl<F: Files, S: LeaseStore> fmt::Debug for Server<F, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("settings", &self.settings)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn udp_socket(
    rx_packets: usize,
    rx_bytes: usize,
    tx_packets: usize,
    tx_bytes: usize,
) -> udp::Socket<'static> {
    udp::Socket::new(
        PacketBuffer::new(vec![PacketMetadata::EMPTY; rx_packets], vec![0u8; rx_bytes]),
        PacketBuffer::new(vec![PacketMetadata::EMPTY; tx_packets], vec![0u8; tx_bytes]),
    )
}

fn v4(a: IpAddress) -> Option<Ipv4Addr> {
    #[allow(irrefutable_let_patterns, unreachable_patterns)]
    match a {
        IpAddress::Ipv4(a) => Some(a),
        _ => None,
    }
}

/// The interface's IPv4 address and netmask that `local` belongs to
/// (`local` itself, or a broadcast address on its subnet), else the first.
fn local_cidr(iface: &Interface, local: Option<Ipv4Addr>) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let mut first = None;
    for c in iface.ip_addrs() {
        #[allow(irrefutable_let_patterns, unreachable_patterns)]
        let IpCidr::Ipv4(c) = c else {
            continue;
        };
        let pair = (c.address(), c.netmask());
        if first.is_none() {
            first = Some(pair);
        }
        if let Some(l) = local
            && (l == c.address() || Some(l) == c.broadcast())
        {
            return Some(pair);
        }
    }
    first
}

fn smol_instant(t: pxe_tftp::Instant) -> Instant {
    Instant::from_micros(i64::try_from(t.as_micros()).unwrap_or(i64::MAX))
}

impl<F: Files, S: LeaseStore> Server<F, S> {
    /// A server for `config`, adding its sockets (with preallocated
    /// buffers: all the memory it will use for packets) to `sockets`.
    pub fn new(
        config: Arc<Config>,
        settings: Settings,
        files: F,
        store: S,
        sockets: &mut SocketSet<'_>,
    ) -> Result<Self, StartError> {
        let engine = Engine::new(config);
        let mut addresses: u64 = engine
            .leases()
            .pools()
            .iter()
            .map(|p| u64::from(p.size()))
            .sum();
        addresses += engine
            .config()
            .hosts()
            .filter(|(_, h)| h.addr.is_some())
            .count() as u64;
        if addresses > settings.max_leases as u64 {
            return Err(StartError::TooManyAddresses {
                addresses,
                max: settings.max_leases,
            });
        }
        tftp::Tftp::<F>::check_tid_range(&settings)?;
        let mut bind = |port: u16, s: udp::Socket<'static>| -> Result<SocketHandle, StartError> {
            let mut s = s;
            s.bind(port).map_err(|_| StartError::Bind(port))?;
            Ok(sockets.add(s))
        };
        let dhcp = if settings.dhcp {
            Some(bind(
                SERVER_PORT,
                udp_socket(4, 2 * DHCP_MAX, 4, 2 * DHCP_MAX),
            )?)
        } else {
            None
        };
        let pxe = if settings.pxe_port {
            Some(bind(PXE_PORT, udp_socket(2, DHCP_MAX, 2, DHCP_MAX))?)
        } else {
            None
        };
        let tftp = tftp::Tftp::new(&settings, files, sockets)?;
        // Held replies need room only when a delay can hold one back.
        let held_n = if (settings.dhcp || settings.pxe_port) && engine.delays_replies() {
            HELD_REPLIES
        } else {
            0
        };
        let held = (0..held_n)
            .map(|_| HeldSlot {
                buf: vec![0u8; DHCP_MAX],
                reply: None,
            })
            .collect();
        let max_dgram = tftp::max_datagram(&settings);
        Ok(Server {
            engine,
            store,
            dhcp,
            pxe,
            tftp,
            rx: vec![0u8; DHCP_MAX.max(max_dgram)],
            tx: vec![0u8; DHCP_MAX.max(max_dgram)],
            held,
            stats: Stats::default(),
            settings,
        })
    }

    /// The DHCP engine (leases, metrics, configuration).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The DHCP engine, mutably (replay stored leases at start-up).
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// The lease store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The counters (the TFTP ones copied from the endpoint's, see
    /// [`Server::tftp_counters`]).
    pub fn stats(&self) -> Stats {
        let mut s = self.stats;
        let c = self.tftp.counters();
        s.tftp_requests = c.requests;
        s.tftp_refused = c.refused;
        s.tftp_busy = c.busy;
        s.tftp_completed = c.completed;
        s.tftp_size_probes = c.probes;
        s.tftp_failed = c.failed.total();
        s.tftp_active = self.tftp.active();
        s
    }

    /// The TFTP endpoint's counters: requests, duplicates, refusals,
    /// transfers started, completed, probes, failures by reason, foreign
    /// TIDs, bytes.
    pub fn tftp_counters(&self) -> pxe_tftp::server::Counters {
        self.tftp.counters()
    }

    /// Handle everything the interface received and queue the replies;
    /// call it after `Interface::poll` (and poll the interface again, or
    /// before sleeping, to send what was queued). Returns whether anything
    /// was received or queued.
    pub fn poll(&mut self, now: Instant, iface: &Interface, sockets: &mut SocketSet<'_>) -> bool {
        self.poll_logged(now, iface, sockets, &mut |_| {})
    }

    /// [`Server::poll`], handing each log line (DHCP decisions in
    /// dnsmasq's `log-dhcp` spirit, TFTP refusals and completions) to `log`.
    pub fn poll_logged(
        &mut self,
        now: Instant,
        iface: &Interface,
        sockets: &mut SocketSet<'_>,
        log: &mut dyn FnMut(fmt::Arguments<'_>),
    ) -> bool {
        let mut busy = false;
        // Sockets whose last datagrams have left are free for this round's
        // requests.
        self.tftp.release_drained(sockets);
        busy |= self.send_held(now, sockets, log);
        if let Some(h) = self.dhcp {
            busy |= self.serve_dhcp(now, iface, sockets, h, SERVER_PORT, log);
        }
        if let Some(h) = self.pxe {
            busy |= self.serve_dhcp(now, iface, sockets, h, PXE_PORT, log);
        }
        busy |= self.tftp.poll(
            now,
            iface,
            sockets,
            (&mut self.rx, &mut self.tx),
            &mut self.stats,
            log,
        );
        busy
    }

    /// When [`Server::poll`] must run again at the latest (a TFTP
    /// retransmission, a DHCP reply held for `dhcp-reply-delay`), relative
    /// to `now`; `None` when only incoming packets can make it do
    /// anything.
    pub fn poll_delay(&self, now: Instant) -> Option<Duration> {
        let held = self.held.iter().filter_map(|s| Some(s.reply.as_ref()?.at));
        self.tftp
            .poll_timeout()
            .map(smol_instant)
            .into_iter()
            .chain(held)
            .min()
            .map(|t| if t > now { t - now } else { Duration::ZERO })
    }

    /// Queues the held DHCP replies whose time has come.
    fn send_held(
        &mut self,
        now: Instant,
        sockets: &mut SocketSet<'_>,
        log: &mut dyn FnMut(fmt::Arguments<'_>),
    ) -> bool {
        let mut busy = false;
        for slot in &mut self.held {
            let Some(r) = slot.reply.take_if(|r| r.at <= now) else {
                continue;
            };
            busy = true;
            let sock = sockets.get_mut::<udp::Socket>(r.socket);
            let data = slot.buf.get(..r.len).unwrap_or_default();
            match sock.send_slice(data, r.meta) {
                Ok(()) => self.stats.dhcp_replies += 1,
                Err(e) => {
                    self.stats.send_failures += 1;
                    log(format_args!(
                        "cannot queue DHCP reply to {}: {e}",
                        r.meta.endpoint
                    ));
                }
            }
        }
        busy
    }

    /// Keeps the reply in `self.tx[..len]` until `at`; `false` if every
    /// slot is taken.
    fn hold(&mut self, at: Instant, socket: SocketHandle, meta: UdpMetadata, len: usize) -> bool {
        let Some(slot) = self.held.iter_mut().find(|s| s.reply.is_none()) else {
            return false;
        };
        let (Some(dst), Some(src)) = (slot.buf.get_mut(..len), self.tx.get(..len)) else {
            return false;
        };
        dst.copy_from_slice(src);
        slot.reply = Some(HeldReply {
            at,
            socket,
            meta,
            len,
        });
        true
    }

    fn serve_dhcp(
        &mut self,
        now: Instant,
        iface: &Interface,
        sockets: &mut SocketSet<'_>,
        h: SocketHandle,
        port: u16,
        log: &mut dyn FnMut(fmt::Arguments<'_>),
    ) -> bool {
        let unix = self
            .settings
            .unix_offset
            .saturating_add(u64::try_from(now.total_millis() / 1000).unwrap_or(0));
        let sock = sockets.get_mut::<udp::Socket>(h);
        let mut busy = false;
        while let Some(r) = next_datagram(sock, &mut self.rx) {
            busy = true;
            let Some((n, meta)) = r else {
                self.stats.oversized += 1;
                continue;
            };
            self.stats.dhcp_received += 1;
            let Some(src_ip) = v4(meta.endpoint.addr) else {
                continue;
            };
            let to = meta.local_address.and_then(v4);
            let Some((local, netmask)) = local_cidr(iface, to) else {
                // No IPv4 address on the interface yet: nothing to answer with.
                self.stats.dhcp_dropped += 1;
                continue;
            };
            let broadcast = to.is_some_and(|t| t != local);
            let rx = RxInfo {
                port,
                src: SocketAddrV4::new(src_ip, meta.endpoint.port),
                iface: &self.settings.iface_name,
                local,
                netmask,
                mtu: self.settings.mtu,
                broadcast,
            };
            if declines_foreign_address(&self.engine, &self.rx[..n]) {
                self.stats.dhcp_dropped += 1;
                self.stats.foreign_declines += 1;
                if self.stats.foreign_declines.is_power_of_two() {
                    log(format_args!(
                        "dropped DHCPDECLINE from {} for an address outside every pool ({} so far)",
                        rx.src, self.stats.foreign_declines
                    ));
                }
                continue;
            }
            // The UDP payload an IP datagram of `mtu` bytes can carry.
            let out_len = usize::from(self.settings.mtu)
                .saturating_sub(28)
                .clamp(548, DHCP_MAX - 28);
            let mut events = LogLines { log: &mut *log };
            let output = self.engine.handle(
                unix,
                &rx,
                &self.rx[..n],
                &mut self.tx[..out_len],
                &mut events,
            );
            // Lease changes reach the store before the reply that
            // announces them is queued (or held).
            let outcome = match output {
                Output::Ready(o) => o,
                Output::Persist(p) => match self.store.persist(p.changes()) {
                    Ok(()) => p.persisted(),
                    Err(e) => {
                        self.stats.persist_failures += 1;
                        log(format_args!("lease store failed, reply not sent: {e}"));
                        continue;
                    }
                },
            };
            match outcome {
                Outcome::Reply(reply) => {
                    let endpoint = match reply.dest {
                        Destination::Unicast(a) => {
                            IpEndpoint::new(IpAddress::Ipv4(*a.ip()), a.port())
                        }
                        // smoltcp cannot be handed a neighbour entry:
                        // broadcast, as dnsmasq does without ARP injection.
                        Destination::Broadcast | Destination::UnicastHw { .. } => {
                            IpEndpoint::new(IpAddress::Ipv4(Ipv4Addr::BROADCAST), CLIENT_PORT)
                        }
                    };
                    let meta = UdpMetadata {
                        endpoint,
                        local_address: Some(IpAddress::Ipv4(local)),
                        meta: PacketMeta::default(),
                    };
                    let len = reply.len;
                    let wait = reply.not_before.saturating_sub(unix);
                    if wait > 0 {
                        // `dhcp-reply-delay`: measured from now on the
                        // interface's clock (the Unix seconds only say how
                        // many whole seconds).
                        let wait_us =
                            i64::try_from(wait.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
                        let at = Instant::from_micros(now.total_micros().saturating_add(wait_us));
                        if self.hold(at, h, meta, len) {
                            self.stats.dhcp_held += 1;
                        } else {
                            self.stats.dhcp_held_dropped += 1;
                            log(format_args!(
                                "{HELD_REPLIES} DHCP replies already wait for dhcp-reply-delay: reply to {endpoint} dropped"
                            ));
                        }
                        continue;
                    }
                    match sock.send_slice(&self.tx[..len], meta) {
                        Ok(()) => self.stats.dhcp_replies += 1,
                        Err(e) => {
                            self.stats.send_failures += 1;
                            log(format_args!("cannot queue DHCP reply to {endpoint}: {e}"));
                        }
                    }
                }
                Outcome::NoReply => {}
                Outcome::Dropped(_) => self.stats.dhcp_dropped += 1,
            }
        }
        busy
    }
}

/// Whether `datagram` is a DHCPDECLINE naming an address outside every
/// pool and `dhcp-host` address. The engine itself only takes a DECLINE
/// from the address's lease holder, so such a DECLINE changes nothing
/// there either; the driver drops it before the engine and counts it
/// (`Stats::foreign_declines`) so a board's operator sees the attempt.
fn declines_foreign_address(engine: &Engine, datagram: &[u8]) -> bool {
    let Ok(p) = pxe_dhcp::Packet::new_lenient(datagram) else {
        return false;
    };
    if !matches!(p.message_type(), Ok(Some(pxe_dhcp::MessageType::Decline))) {
        return false;
    }
    let Ok(Some(addr)) = p.requested_ip() else {
        // No option 50: the engine drops it as malformed.
        return false;
    };
    let in_pool = engine.leases().pools().iter().any(|p| p.contains(addr));
    let reserved = || engine.config().hosts().any(|(_, h)| h.addr == Some(addr));
    !in_pool && !reserved()
}

/// The next datagram of `sock` copied into `buf`: `None` when there is
/// none, `Some(None)` when one larger than `buf` was dropped.
fn next_datagram(
    sock: &mut udp::Socket<'_>,
    buf: &mut [u8],
) -> Option<Option<(usize, UdpMetadata)>> {
    match sock.recv_slice(buf) {
        Ok(r) => Some(Some(r)),
        Err(udp::RecvError::Truncated) => Some(None),
        Err(udp::RecvError::Exhausted) => None,
    }
}
