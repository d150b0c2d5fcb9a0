//! The `pxe-server` netboot server: the tokio driver of [`pxe_engine`] and
//! [`pxe_tftp`], HTTP boot files and iPXE scripts, and the binary that
//! reads dnsmasq's configuration lines.
//!
//! Every decision — what a DHCP client gets, where the reply goes, which
//! lease must be durable first, which transfer a TFTP datagram belongs
//! to — is made by the sans-IO crates below; this crate moves bytes
//! between them and real sockets, files and clocks.
//!
//! * [`driver::net`]: UDP sockets with `IP_PKTINFO`, `SO_BINDTODEVICE`, interface
//!   discovery.
//! * `run`: configuration overrides, the DHCP worker and the group-commit
//!   lease writer, service start-up and shutdown.
//! * [`tftp`]: safe path resolution under `tftp-root` and the TFTP service
//!   on sockets.
//! * [`driver::http`]: boot files over HTTP and the per-machine iPXE scripts.
//!
//! The driver broadcasts replies that RFC 2131 would unicast to a client
//! without an address (it cannot add the ARP entry without privileged
//! ioctls); clients accept both.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::panic))]

pub mod config;
pub mod driver;
pub mod leases;
pub mod service;
pub mod tftp;
mod tftp_settings;

// `src/tftp/` (moving to `driver/tftp/` on its own branch) still names the
// socket module `crate::net`; this alias keeps that path until it does.
use driver::net;
