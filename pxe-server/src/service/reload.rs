//! Live reload: the configuration file is read again (on SIGHUP), parsed
//! and checked completely, and only then put in force.
//!
//! * Checked first: the file and its includes parse, `listen-address=`
//!   names an address of this machine, the TFTP roots open, the HTTP root
//!   and template load, and every socket the new file needs that is not
//!   bound yet binds. Any error leaves everything as it was; the error
//!   (file:line:column for the file) is logged and counted.
//! * Put in force at once: the DHCP engine swaps its configuration under
//!   its lock, so each datagram is answered wholly by the old or wholly by
//!   the new rules ([`pxe_engine::dhcp::Engine::reconfigure`]); leases,
//!   offers and counters stay. TFTP requests and HTTP connections read the
//!   settings current when they arrive (an `ArcSwap`); transfers and
//!   downloads in flight finish with what they started.
//! * Rebound only where the file changes them: DHCP sockets when the
//!   ports (67, 4011) or `interface=` change, TFTP when its port,
//!   interfaces or `tftp-single-port` change (the old service's transfers
//!   are then ended, as at shutdown), HTTP listeners when the listen
//!   addresses change (open connections finish).
//! * Read afresh too: `/etc/hosts`, the iPXE template (`ipxe-script=`).
//!   The per-machine files of `ipxe-script-dir=` are read at each request
//!   anyway.
//! * Kept until a restart (a change is logged): `dhcp-leasefile=`,
//!   `user=`, `group=`, `log-facility=` — the process has already given
//!   up the rights to reopen them elsewhere.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use pxe_rules::Config;

use std::net::SocketAddr;
use std::vec::Vec;

use super::{
    ConfigSource, DhcpBinding, HttpRunning, RunError, Services, TftpBinding, TftpRunning, collect,
    hosts, open_store, resolve, start_http, start_tftp,
};
use crate::config::{self, ConfigError};
use crate::driver::dhcp::{DhcpError, bind_dhcp};
use crate::driver::engine::lock;
use crate::driver::http::{self, HttpService, HttpSetupError};
use crate::driver::store::StoreError;
use crate::driver::tftp::service::TftpSettings;
use crate::tftp_settings::{TftpSetupError, tftp_settings};

/// Why a reload was refused (the running configuration stays), or what
/// went wrong while it was put in force.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The file cannot be read or parsed (file:line:column), or names a
    /// `listen-address=` no interface holds.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The TFTP part cannot be used (a root does not open).
    #[error(transparent)]
    TftpSetup(#[from] TftpSetupError),
    /// The TFTP service's new sockets could not be bound.
    #[error("TFTP: {0}")]
    Tftp(#[source] std::io::Error),
    /// The HTTP part cannot be used (root, template, listen address).
    #[error(transparent)]
    Http(#[from] HttpSetupError),
    /// The DHCP service's new sockets could not be bound.
    #[error(transparent)]
    Dhcp(#[from] DhcpError),
    /// The lease log could not be reopened for the rebound DHCP service:
    /// the new configuration is in force, but DHCP is stopped.
    #[error("the new configuration is in force, but DHCP stopped: {0}")]
    Lease(#[from] StoreError),
}

impl From<RunError> for ReloadError {
    fn from(e: RunError) -> ReloadError {
        match e {
            RunError::Config(e) => ReloadError::Config(e),
            RunError::Lease(e) => ReloadError::Lease(e),
            RunError::Dhcp(e) => ReloadError::Dhcp(e),
            RunError::TftpSetup(e) => ReloadError::TftpSetup(e),
            RunError::Tftp(e) => ReloadError::Tftp(e),
            RunError::Http(e) => ReloadError::Http(e),
        }
    }
}

/// How many reloads succeeded and failed since the start.
#[derive(Debug, Default)]
pub struct ReloadCounters {
    succeeded: AtomicU64,
    failed: AtomicU64,
}

impl ReloadCounters {
    /// Counts a reload that took effect; returns the new count.
    pub fn succeeded(&self) -> u64 {
        self.succeeded.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Counts a refused reload; returns the new count.
    pub fn failed(&self) -> u64 {
        self.failed.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// `(succeeded, failed)` so far.
    pub fn get(&self) -> (u64, u64) {
        (
            self.succeeded.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

/// Names the settings that changed but take effect only at a restart.
fn warn_fixed(old: &Config, new: &Config) {
    let (o, n) = (&old.settings, &new.settings);
    for (name, changed) in [
        ("dhcp-leasefile", o.lease_file != n.lease_file),
        ("user", o.user != n.user),
        ("group", o.group != n.group),
        ("log-facility", o.log_facility != n.log_facility),
    ] {
        if changed {
            tracing::warn!("{name}= changed: it takes effect when the server restarts");
        }
    }
}

impl Services {
    /// Re-reads the configuration from `source` and puts it in force (see
    /// the module documentation); on an error before anything changed,
    /// everything stays as it was.
    pub(super) async fn reload(&mut self, source: &ConfigSource) -> Result<(), ReloadError> {
        // Read and check everything, binding what is new; nothing that
        // runs is touched yet, and what was prepared is dropped (closed)
        // on an error.
        let config = resolve(config::load_config(&source.path, &source.overrides)?)?;
        warn_fixed(&self.config, &config);
        let tftp = match (
            tftp_settings(&config, &self.opts, &self.leases, self.journeys.as_ref())?,
            &self.tftp,
        ) {
            (None, _) => TftpPlan::Off,
            (Some(t), Some(running)) if TftpBinding::of(&t) == running.binding => TftpPlan::Swap(t),
            (Some(t), _) => TftpPlan::Restart(t),
        };
        let http = match http::service_for(&config, Some(self.lookup()), self.journeys.as_ref())? {
            None => HttpPlan::Off,
            Some(service) => {
                let addrs = http::listen_addrs(&config)?;
                match &self.http {
                    Some(h) if h.addrs == addrs => HttpPlan::Swap(service),
                    _ => {
                        let listeners = http::bind_listeners(&addrs).await?;
                        HttpPlan::Rebind(service, addrs, listeners)
                    }
                }
            }
        };
        let dhcp_binding = DhcpBinding::of(&config);
        let dhcp_socks = match &self.dhcp {
            Some(d) if d.binding == dhcp_binding => None,
            _ if dhcp_binding.sockets.any() => {
                Some(bind_dhcp(&config, &self.opts, dhcp_binding.sockets)?)
            }
            _ => None,
        };
        // The last step that can fail: a new TFTP service binds its
        // request sockets.
        let tftp = match tftp {
            TftpPlan::Restart(t) => TftpPlan::Started(start_tftp(t).await?),
            other => other,
        };

        // Put in force: the engine first (the next datagram sees all of
        // the new rules), then the other services.
        {
            let mut e = lock(&self.engine);
            e.reconfigure(config.clone());
            if let Some(j) = &self.journeys {
                j.reconfigure(config.clone());
            }
            e.set_hosts(hosts());
        }
        match tftp {
            TftpPlan::Swap(t) => {
                if let Some(running) = &self.tftp {
                    running.settings.store(Arc::new(t));
                }
            }
            TftpPlan::Started(started) => {
                let old = self.tftp.replace(started);
                self.retired.extend(old.map(|o| o.run.stop()));
            }
            TftpPlan::Off | TftpPlan::Restart(_) => {
                let old = self.tftp.take();
                self.retired.extend(old.map(|o| o.run.stop()));
            }
        }
        match http {
            HttpPlan::Swap(service) => {
                if let Some(running) = &self.http {
                    let previous = running.service.load_full();
                    running
                        .service
                        .store(Arc::new(service.sharing_connections_of(&previous)));
                }
            }
            HttpPlan::Rebind(service, addrs, listeners) => {
                let old = self.http.take();
                let service = match &old {
                    Some(o) => service.sharing_connections_of(&o.service.load_full()),
                    None => service,
                };
                self.http = Some(start_http(&config, service, addrs, listeners));
                stop_listeners(old);
            }
            HttpPlan::Off => stop_listeners(self.http.take()),
        }
        self.config = config;
        self.restart_dhcp(dhcp_binding, dhcp_socks).await
    }

    /// Stops the DHCP service when the new configuration has none, or
    /// restarts it on `socks` when they were bound anew; the lease writer
    /// flushes before the new one reopens the log.
    async fn restart_dhcp(
        &mut self,
        binding: DhcpBinding,
        socks: Option<crate::driver::dhcp::DhcpSockets>,
    ) -> Result<(), ReloadError> {
        if !binding.sockets.any() {
            if let Some(old) = self.dhcp.take() {
                tracing::info!("no dhcp-range any more: DHCP is off");
                let _ = collect(std::vec![old.run.stop()]).await;
            }
            return Ok(());
        }
        let Some(socks) = socks else {
            return Ok(());
        };
        if let Some(old) = self.dhcp.take() {
            let _ = collect(std::vec![old.run.stop()]).await;
        }
        let log = open_store(&self.lease_path, &mut lock(&self.engine))?;
        self.dhcp = Some(self.spawn_dhcp(binding, socks, log));
        Ok(())
    }
}

/// What a reload does with the TFTP service.
enum TftpPlan {
    /// No TFTP in the new file: stop it.
    Off,
    /// Same sockets: new settings for the next request.
    Swap(TftpSettings),
    /// New sockets: a new service (not started yet).
    Restart(TftpSettings),
    /// New sockets: the new service, bound and running.
    Started(TftpRunning),
}

/// What a reload does with the HTTP service.
enum HttpPlan {
    /// No `http-port=` in the new file: stop accepting.
    Off,
    /// Same addresses: the new service for the next connection.
    Swap(HttpService),
    /// New addresses: the new service on these bound listeners.
    Rebind(HttpService, Vec<SocketAddr>, Vec<tokio::net::TcpListener>),
}

/// Stops accepting on the listeners of `old`; its open connections run
/// on until they end.
fn stop_listeners(old: Option<HttpRunning>) {
    for l in old.into_iter().flat_map(|o| o.listeners) {
        l.abort();
    }
}
