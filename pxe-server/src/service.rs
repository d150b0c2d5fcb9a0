//! Service orchestration: opens the lease log, starts each configured
//! service (DHCP and the PXE boot server, TFTP, HTTP), waits for the
//! shutdown signal, stops them and collects their results.
//!
//! Services are spawned in one place, [`run`], each with a
//! [`ServiceContext`] (configuration, lease queries, shutdown signal).

use std::format;
use std::path::PathBuf;
use std::string::{String, ToString};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::vec::Vec;

use pxe_engine::dhcp::Engine;
use pxe_engine::lease::log::{LeaseLog, LogError};
use pxe_rules::Config;
use tokio::sync::watch;

use crate::config::DEFAULT_LEASE_FILE;
use crate::driver::clock::unix_now;
use crate::driver::dhcp::{bind_dhcp, dhcp_loop};
use crate::driver::engine::SharedEngine;
use crate::driver::net::{IfaceInfo, interfaces};
use crate::driver::options::RunOptions;
use crate::leases::LeaseQuery;
use crate::tftp::service::{self, TftpMetrics};
use crate::tftp_settings::tftp_settings;

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is invalid (file:line:column inside).
    #[error("{0}")]
    Config(String),
    /// The lease log could not be opened or written.
    #[error(transparent)]
    Lease(#[from] LogError),
    /// A socket could not be opened.
    #[error("{what}: {source}")]
    Socket {
        /// Which socket.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// `listen-address=`: as in dnsmasq, the interfaces that hold these
/// addresses are served, beside those named by `interface=` (and then
/// only these). An address no interface holds is an error, as dnsmasq
/// fails to bind it.
fn listen_on_addresses(
    s: &mut pxe_rules::config::Settings,
    ifaces: &[IfaceInfo],
) -> Result<(), RunError> {
    for a in &s.listen_addresses {
        let Some(i) = ifaces.iter().find(|i| i.addr == *a) else {
            return Err(RunError::Config(format!(
                "listen-address={a}: no interface has this address"
            )));
        };
        if !s.interfaces.contains(&i.name) {
            s.interfaces.push(i.name.clone());
        }
    }
    Ok(())
}

/// Says which of the file's dnsmasq settings change nothing here, so no
/// one believes they took effect.
fn note_unimplemented(s: &pxe_rules::config::Settings) {
    if s.leasefile_ro {
        tracing::warn!(
            "leasefile-ro: not supported; leases are still written (pxe-server keeps no lease only in memory)"
        );
    }
    if s.bind_interfaces || s.bind_dynamic {
        tracing::info!(
            "bind-interfaces/bind-dynamic: pxe-server always binds per interface (SO_BINDTODEVICE) when interface= is given"
        );
    }
    if !s.no_ping {
        tracing::info!(
            "pxe-server does not ping an address before offering it (as dnsmasq's no-ping); a client that finds it in use sends DHCPDECLINE"
        );
    }
}

/// Resolves when SIGTERM or SIGINT arrives.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = int.recv() => tracing::info!("SIGINT: shutting down"),
    }
}

/// What every service gets.
#[derive(Clone, Debug)]
pub struct ServiceContext {
    /// The configuration (after command-line overrides).
    pub config: Arc<Config>,
    /// Lease lookups.
    pub leases: LeaseQuery,
    /// Turns `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
}

/// Run every configured service until `shutdown` resolves, then flush the
/// leases and stop.
pub async fn run(
    config: Config,
    opts: RunOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), RunError> {
    let mut config = config;
    listen_on_addresses(&mut config.settings, &interfaces().unwrap_or_default())?;
    note_unimplemented(&config.settings);
    let config = Arc::new(config);
    let now = unix_now();
    let lease_path = PathBuf::from(
        config
            .settings
            .lease_file
            .clone()
            .unwrap_or_else(|| DEFAULT_LEASE_FILE.to_string()),
    );
    let mut engine = Engine::new(config.clone());
    // Next servers given by name are looked up here (dnsmasq: hosts file
    // only); read once at start.
    engine.set_hosts(pxe_engine::hosts::Hosts::parse(
        &std::fs::read_to_string("/etc/hosts").unwrap_or_default(),
    ));
    let (log, rec) = LeaseLog::open(&lease_path, engine.leases_mut(), now)?;
    tracing::info!(
        "leases: {} from {} ({} records, {} torn bytes dropped, {} imported from dnsmasq format)",
        engine.leases().len(),
        log.path().display(),
        rec.records,
        rec.discarded_bytes,
        rec.imported
    );
    let engine: SharedEngine = Arc::new(Mutex::new(engine));
    let (stop_tx, stop_rx) = watch::channel(false);
    let ctx = ServiceContext {
        config: config.clone(),
        leases: LeaseQuery {
            engine: engine.clone(),
        },
        shutdown: stop_rx.clone(),
    };

    let mut tasks: Vec<tokio::task::JoinHandle<Result<(), RunError>>> = Vec::new();

    // DHCP (full, proxy) and the PXE boot server.
    let dhcp_needed = config.ranges().next().is_some();
    if dhcp_needed {
        let socks = bind_dhcp(&config, &opts)?;
        tasks.push(tokio::spawn(dhcp_loop(
            engine.clone(),
            log,
            socks,
            stop_rx.clone(),
        )));
    } else {
        tracing::info!("no dhcp-range: DHCP is off");
        drop(log);
    }

    // TFTP.
    if let Some(t) = tftp_settings(&config, &opts, &ctx.leases)? {
        let metrics = Arc::new(TftpMetrics::default());
        let rx = stop_rx.clone();
        tracing::info!(
            "TFTP on port {} (root {}), at most {} transfers",
            t.port,
            t.roots
                .iter()
                .map(|(_, r)| r.root().display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            t.max_transfers
        );
        let t = Arc::new(t);
        tasks.push(tokio::spawn(async move {
            service::serve(t, metrics, rx)
                .await
                .map_err(|source| RunError::Socket {
                    what: String::from("TFTP"),
                    source,
                })
        }));
    }

    // HTTP boot files and per-machine iPXE scripts (issue 6).
    let lookup: Arc<dyn crate::driver::http::ClientLookup> = Arc::new(ctx.leases.clone());
    let http = crate::driver::http::start(&config, Some(lookup), stop_rx.clone())
        .await
        .map_err(|e| RunError::Config(e.to_string()))?;
    for t in http {
        tasks.push(tokio::spawn(async move {
            let _ = t.await;
            Ok(())
        }));
    }

    shutdown.await;
    let _ = stop_tx.send(true);
    let mut result = Ok(());
    for t in tasks {
        match tokio::time::timeout(Duration::from_secs(10), t).await {
            Ok(Ok(Err(e))) => result = Err(e),
            Ok(Err(e)) => tracing::warn!("service task ended abnormally: {e}"),
            _ => {}
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn iface(index: u32, name: &str, addr: [u8; 4]) -> IfaceInfo {
        IfaceInfo {
            index,
            name: String::from(name),
            addr: Ipv4Addr::from(addr),
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            mtu: 1500,
        }
    }

    #[test]
    fn listen_address_adds_the_interface_holding_it() {
        let ifaces = [
            iface(1, "lo", [127, 0, 0, 1]),
            iface(2, "eth1", [10, 1, 0, 1]),
        ];
        let mut c = Config::parse_str("interface=eth0\nlisten-address=10.1.0.1\n", "t.conf")
            .expect("parses");
        listen_on_addresses(&mut c.settings, &ifaces).expect("eth1 holds it");
        assert_eq!(c.settings.interfaces, ["eth0", "eth1"]);
        let mut c = Config::parse_str("listen-address=10.9.9.9\n", "t.conf").expect("parses");
        let e = listen_on_addresses(&mut c.settings, &ifaces).expect_err("nobody holds it");
        assert!(e.to_string().contains("listen-address=10.9.9.9"), "{e}");
    }
}
