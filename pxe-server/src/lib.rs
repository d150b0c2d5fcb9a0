//! The `pxe-server` netboot server: the tokio driver of [`pxe_engine`] and
//! [`pxe_tftp`], HTTP boot files and iPXE scripts, and the binary that
//! reads dnsmasq's configuration lines.
//!
//! Every decision — what a DHCP client gets, where the reply goes, which
//! lease must be durable first, which transfer a TFTP datagram belongs
//! to — is made by the sans-IO crates below; this crate moves bytes
//! between them and real sockets, files and clocks.
//!
//! ```
//! use pxe_server::driver::options::RunOptions;
//! use pxe_server::service;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let leases = dir.path().join("pxe.leases");
//! // What `pxe-server --conf FILE` reads (here: no service configured).
//! let text = format!("dhcp-leasefile={}\n", leases.display());
//! let config = pxe_rules::Config::parse_str(&text, "example.conf")?;
//! let rt = tokio::runtime::Runtime::new()?;
//! // Starts every configured service, stops them when the future resolves
//! // (at once here; `service::shutdown_signal()` waits for SIGTERM/SIGINT).
//! rt.block_on(service::run(config, RunOptions::default(), async {}))?;
//! assert!(leases.with_extension("leases.log").exists());
//! # Ok(()) }
//! ```
//!
//! # Modules
//!
//! The binary's concerns sit on top, the drivers below them. Each module
//! uses only modules listed below it, so the graph has no cycle; no driver
//! uses `config`, `service`, `leases`, `tftp_settings`, `logging`,
//! `notify` or `privileges` (`tests/module_graph.rs` checks that).
//!
//! ```text
//! layer    module                uses (inside the crate)
//! binary   main.rs (the CLI)     config, service, explain, logging, notify,
//!                                privileges, driver::options, driver::http
//!          explain               (pxe-engine only: the simulated clients)
//!          service (+ reload)    config, tftp_settings, leases, notify, driver::*
//!          logging, privileges   nothing
//!          notify                nothing
//!          tftp_settings         leases, driver::{tftp, options}
//!          leases                driver::{tftp::client_dir, http, engine, clock}
//!          config                driver::net
//! drivers  driver::dhcp          driver::{lease_writer, net, engine, clock, options, journeys}
//!          driver::lease_writer  driver::{net, engine, clock}
//!          driver::http          driver::{net, journeys, metrics}
//!          driver::tftp          driver::{net, journeys}
//!          driver::journeys      driver::{engine, metrics}
//!          driver::metrics       driver::{engine, clock, journeys (its clock)}
//!          driver::{net, engine, clock, options}   nothing
//! ```
//!
//! * [`config`]: the file read and parsed, command-line [`config::Overrides`],
//!   `listen-address=` resolved, and [`config::describe`] for
//!   `pxe-server check`.
//! * [`explain`]: `pxe-server explain` and the client classes of
//!   `pxe-server check`, simulated through the engine.
//! * [`service`]: [`service::run_with`] starts each service, tells the
//!   service manager when every socket is bound, reloads the configuration
//!   on SIGHUP ([`service::reload`]: checked completely, then swapped in
//!   atomically), waits for shutdown, stops the services and collects
//!   their results ([`service::RunError`]).
//! * [`notify`]: the systemd notification protocol (`READY=1`, `STATUS=`,
//!   `RELOADING=1`, `WATCHDOG=1`).
//! * [`privileges`]: `user=`/`group=`, keeping only the capabilities
//!   still used.
//! * [`logging`]: `--log-format text|json` and `log-facility=` (standard
//!   error, a file, syslog).
//! * [`leases`]: the lease queries other services make
//!   ([`leases::LeaseQuery`]: HTTP script host names, TFTP per-client roots).
//! * [`tftp_settings`]: the TFTP service's settings from the configuration.
//! * [`driver`]: the DHCP worker, the group-commit lease writer, sockets
//!   ([`driver::net`]: `IP_PKTINFO`, `SO_BINDTODEVICE`, interfaces), the
//!   HTTP service ([`driver::http`]: boot files, per-machine iPXE scripts,
//!   the status page of boot journeys with its JSON API and `/metrics`),
//!   the TFTP service ([`driver::tftp`]: the endpoint's request loop,
//!   transfer threads, files with safe path resolution under `tftp-root`),
//!   the journeys every service records ([`driver::journeys`]) and the
//!   Prometheus metrics ([`driver::metrics`]).
//!
//! The driver broadcasts replies that RFC 2131 would unicast to a client
//! without an address (it cannot add the ARP entry without privileged
//! ioctls); clients accept both.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::panic))]

pub mod config;
pub mod driver;
pub mod explain;
pub mod leases;
pub mod logging;
pub mod notify;
pub mod privileges;
pub mod service;
pub mod tftp_settings;
