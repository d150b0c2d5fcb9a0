//! The sans-IO netboot server: DHCP (full or proxy), the PXE boot server on
//! UDP 4011, leases and iPXE scripts — everything a netboot server decides,
//! with no socket, clock or thread inside.
//!
//! A driver (the tokio one in `pxe-server`, the smoltcp one in
//! `pxe-smoltcp`, or your own) binds the sockets [`Engine::sockets`] names,
//! receives a datagram, hands it to [`Engine::handle`] with the time, where
//! it came from and an [`EventSink`] for what happened, and acts on the one
//! [`Output`] that comes back: make its lease changes durable, then send
//! its reply no earlier than the reply's not-before time. The engine is
//! `no_std` with `alloc`; the `std` feature adds the durable lease log on a
//! file system ([`lease::log`]).
//!
//! ```
//! use std::sync::Arc;
//! use core::net::{Ipv4Addr, SocketAddrV4};
//! use pxe_dhcp::{Builder, MessageType, Packet};
//! use pxe_engine::{Engine, NoEvents, Outcome, Output, RxInfo};
//! use pxe_engine::dhcp::addressing::Destination;
//!
//! // A proxyDHCP configuration: PXE boot data next to another DHCP server.
//! let conf = pxe_rules::Config::parse_str(
//!     "dhcp-match=ipxe,175\n\
//!      dhcp-range=192.168.2.0,proxy\n\
//!      pxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe\n",
//!     "proxy.conf",
//! )?;
//! let mut engine = Engine::new(Arc::new(conf));
//! // Proxy DHCP on 67, the PXE boot server on 4011.
//! assert_eq!(engine.sockets().ports().collect::<Vec<_>>(), [67, 4011]);
//! let rx = RxInfo {
//!     port: 67,
//!     src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
//!     iface: "eth0",
//!     local: Ipv4Addr::new(192, 168, 2, 1),
//!     netmask: Ipv4Addr::new(255, 255, 255, 0),
//!     mtu: 1500,
//!     broadcast: true,
//! };
//! // A PXE ROM's DISCOVER (vendor class PXEClient, arch 0).
//! let mut req = [0u8; 600];
//! let mut b = Builder::new(&mut req)?;
//! b.xid(1).chaddr(1, &[0x52, 0x54, 0, 0x12, 0x34, 0x56])?;
//! b.message_type(MessageType::Discover)?;
//! b.option(60, b"PXEClient:Arch:00000:UNDI:002001")?.option(93, &[0, 0])?;
//! let n = b.finish()?;
//!
//! let mut out = [0u8; 1500];
//! let now = 1_700_000_000;
//! // Nothing to persist for a proxy reply: the output is ready at once.
//! let Output::Ready(Outcome::Reply(reply)) =
//!     engine.handle(now, &rx, &req[..n], &mut out, &mut NoEvents)
//! else {
//!     panic!("a PXE client gets a proxy offer");
//! };
//! let offer = Packet::new_checked(&out[..reply.len])?;
//! assert_eq!(offer.yiaddr(), Ipv4Addr::UNSPECIFIED); // proxy: never an address
//! assert_eq!(offer.option(60), Some(&b"PXEClient"[..]));
//! assert!(offer.option(43).is_some()); // the PXE menu
//! assert_eq!(reply.dest, Destination::Broadcast);
//! assert_eq!(reply.not_before, now); // no dhcp-reply-delay
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Layout:
//!
//! * [`dhcp`]: the DHCP responder — full DHCP per RFC 2131 with dnsmasq's
//!   rules, proxyDHCP, the PXE boot server on 4011, the output and events
//!   of an exchange, the sockets to bind, reply addressing, lease timing,
//!   counters. Rules (tags, boot files, options, menus) come
//!   from `pxe-rules`; packet views and the reply builder from `pxe-dhcp`.
//! * [`lease`]: pools, reservations, the lease table, the checksummed
//!   record format, the append-only log (`std`) and dnsmasq's lease-file
//!   format.
//! * [`script`]: per-machine iPXE scripts rendered from typed, validated
//!   request values.
//! * [`hosts`]: the hosts-file lookup for next servers given by name.
//! * [`journey`]: every machine's boot journey (DHCP, TFTP, HTTP, script,
//!   callback) with its stage, state and named diagnoses, in a store of
//!   fixed size.
#![no_std]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::panic))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod dhcp;
pub mod hosts;
pub mod journey;
pub mod lease;
pub mod script;

pub use dhcp::{Engine, Event, EventSink, NoEvents, Outcome, Output, RxInfo};
