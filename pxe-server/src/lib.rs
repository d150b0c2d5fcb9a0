//! The `pxe-server` netboot server: the tokio driver of [`pxe_engine`] and
//! [`pxe_tftp`], HTTP boot files and iPXE scripts, and the binary that
//! reads dnsmasq's configuration lines.
//!
//! Every decision — what a DHCP client gets, where the reply goes, which
//! lease must be durable first, which transfer a TFTP datagram belongs
//! to — is made by the sans-IO crates below; this crate moves bytes
//! between them and real sockets, files and clocks.
//!
//! * `net`: UDP sockets with `IP_PKTINFO`, `SO_BINDTODEVICE`, interface
//!   discovery.
//! * `run`: configuration overrides, the DHCP worker and the group-commit
//!   lease writer, service start-up and shutdown.
//! * [`driver`]: the drivers of the sans-IO crates on sockets —
//!   [`driver::tftp`], the TFTP endpoint's request loop, transfer threads
//!   and files (safe path resolution under `tftp-root`).
//! * [`http`]: boot files over HTTP and the per-machine iPXE scripts.
//!
//! The driver broadcasts replies that RFC 2131 would unicast to a client
//! without an address (it cannot add the ARP entry without privileged
//! ioctls); clients accept both.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::panic))]

pub mod config;
/// The drivers that move bytes between the sans-IO crates and sockets.
pub mod driver;
pub mod http;
pub mod net;
pub mod run;
