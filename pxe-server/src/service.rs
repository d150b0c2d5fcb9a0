//! Service orchestration: opens the lease log, starts each configured
//! service (DHCP and the PXE boot server, TFTP, HTTP), waits for the
//! shutdown signal, stops them and collects their results.
//!
//! Services are started in one place, [`run`], each from the same
//! [`ServiceContext`] (configuration, lease queries, shutdown signal).

use std::io;
use std::path::PathBuf;
use std::string::ToString;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::vec::Vec;

use pxe_engine::dhcp::Engine;
use pxe_engine::lease::log::{LeaseLog, LogError};
use pxe_rules::Config;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{self, ConfigError, DEFAULT_LEASE_FILE};
use crate::driver::clock::unix_now;
use crate::driver::dhcp::{DhcpError, bind_dhcp, dhcp_loop};
use crate::driver::engine::{SharedEngine, lock};
use crate::driver::http::{self, ClientLookup, HttpSetupError};
use crate::driver::journeys::{Journeys, capacity_of};
use crate::driver::net::interfaces;
use crate::driver::options::RunOptions;
use crate::driver::tftp::service::{self, TftpMetrics};
use crate::leases::LeaseQuery;
use crate::tftp_settings::{TftpSetupError, tftp_settings};

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration does not fit this machine (a `listen-address=`
    /// no interface holds).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The lease log could not be opened.
    #[error(transparent)]
    Lease(#[from] LogError),
    /// The DHCP service could not start, or its lease writer failed.
    #[error(transparent)]
    Dhcp(#[from] DhcpError),
    /// The TFTP part of the configuration cannot be used.
    #[error(transparent)]
    TftpSetup(#[from] TftpSetupError),
    /// The TFTP service stopped on a socket error.
    #[error("TFTP: {0}")]
    Tftp(#[source] io::Error),
    /// The HTTP service could not be set up.
    #[error(transparent)]
    Http(#[from] HttpSetupError),
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

/// A started service; it ends when [`ServiceContext::shutdown`] turns
/// `true`.
type Task = JoinHandle<Result<(), RunError>>;

/// How long a service may take to stop before it is left behind.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Run every configured service until `shutdown` resolves, then flush the
/// leases and stop.
pub async fn run(
    config: Config,
    opts: RunOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), RunError> {
    let mut config = config;
    config::listen_on_addresses(&mut config.settings, &interfaces().unwrap_or_default())?;
    config::note_unimplemented(&config.settings);
    let config = Arc::new(config);
    let (engine, log) = open_engine(&config)?;
    let journeys = journeys_for(&config, &engine);
    let (stop_tx, stop_rx) = watch::channel(false);
    let ctx = ServiceContext {
        config,
        leases: LeaseQuery::new(engine.clone()),
        shutdown: stop_rx,
    };
    let mut tasks = Vec::new();
    tasks.extend(start_dhcp(&ctx, &opts, engine, log, journeys.clone())?);
    tasks.extend(start_tftp(&ctx, &opts)?);
    tasks.extend(start_http(&ctx, journeys).await?);

    shutdown.await;
    let _ = stop_tx.send(true);
    collect(tasks).await
}

/// The engine with the leases of the durable log (and of a dnsmasq lease
/// file found beside it), and the log to append to.
fn open_engine(config: &Arc<Config>) -> Result<(SharedEngine, LeaseLog), RunError> {
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
    let (log, rec) = LeaseLog::open(&lease_path, engine.leases_mut(), unix_now())?;
    tracing::info!(
        "leases: {} from {} ({} records, {} torn bytes dropped, {} imported from dnsmasq format)",
        engine.leases().len(),
        log.path().display(),
        rec.records,
        rec.discarded_bytes,
        rec.imported
    );
    Ok((Arc::new(Mutex::new(engine)), log))
}

/// Boot journeys and metrics, when `status-page=` asks for the page.
fn journeys_for(config: &Arc<Config>, engine: &SharedEngine) -> Option<Arc<Journeys>> {
    config.settings.extensions.status_page?;
    let capacity = capacity_of(config);
    Some(Arc::new(Journeys::new(
        config.clone(),
        capacity,
        Some(engine.clone()),
    )))
}

/// DHCP (full, proxy) and the PXE boot server, when a `dhcp-range` exists;
/// the lease log goes to its writer (or is closed when DHCP is off).
fn start_dhcp(
    ctx: &ServiceContext,
    opts: &RunOptions,
    engine: SharedEngine,
    log: LeaseLog,
    journeys: Option<Arc<Journeys>>,
) -> Result<Option<Task>, RunError> {
    // Which sockets to bind is the engine's rule.
    let sockets = lock(&engine).sockets();
    if !sockets.dhcp {
        tracing::info!("no dhcp-range: DHCP is off");
        drop(log);
        return Ok(None);
    }
    let socks = bind_dhcp(&ctx.config, opts, sockets)?;
    let stop = ctx.shutdown.clone();
    Ok(Some(tokio::spawn(async move {
        Ok(dhcp_loop(engine, log, socks, stop, journeys).await?)
    })))
}

/// TFTP, when `enable-tftp` is given.
fn start_tftp(ctx: &ServiceContext, opts: &RunOptions) -> Result<Option<Task>, RunError> {
    let Some(t) = tftp_settings(&ctx.config, opts, &ctx.leases)? else {
        return Ok(None);
    };
    let metrics = Arc::new(TftpMetrics::default());
    let rx = ctx.shutdown.clone();
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
    Ok(Some(tokio::spawn(async move {
        service::serve(t, metrics, rx).await.map_err(RunError::Tftp)
    })))
}

/// HTTP boot files and per-machine iPXE scripts, one task per listener
/// (none without `http-port=`), and the status page's listener.
async fn start_http(
    ctx: &ServiceContext,
    journeys: Option<Arc<Journeys>>,
) -> Result<Vec<Task>, RunError> {
    let lookup: Arc<dyn ClientLookup> = Arc::new(ctx.leases.clone());
    let listeners = http::start(&ctx.config, Some(lookup), journeys, ctx.shutdown.clone()).await?;
    Ok(listeners
        .into_iter()
        .map(|t| {
            tokio::spawn(async move {
                let _ = t.await;
                Ok(())
            })
        })
        .collect())
}

/// Waits for every service to stop (each at most [`STOP_TIMEOUT`]); the
/// result is the last error a service returned.
async fn collect(tasks: Vec<Task>) -> Result<(), RunError> {
    let mut result = Ok(());
    for t in tasks {
        match tokio::time::timeout(STOP_TIMEOUT, t).await {
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

    fn configured(text: &str) -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().unwrap();
        let text = std::format!(
            "dhcp-leasefile={}\n{text}",
            dir.path().join("t.leases").display()
        );
        let config = Config::parse_str(&text, "t.conf").unwrap();
        (dir, config)
    }

    #[tokio::test]
    async fn nothing_configured_opens_the_log_and_stops_when_asked() {
        let (dir, config) = configured("");
        run(config, RunOptions::default(), async {}).await.unwrap();
        assert!(dir.path().join("t.leases.log").exists());
    }

    #[tokio::test]
    async fn a_service_that_cannot_start_stops_the_server_with_its_error() {
        let (_dir, config) = configured("enable-tftp\n");
        let e = run(config, RunOptions::default(), async {})
            .await
            .expect_err("no tftp-root");
        assert!(
            matches!(e, RunError::TftpSetup(TftpSetupError::NoRoot)),
            "{e:?}"
        );
        let (_dir, config) = configured("listen-address=192.0.2.77\n");
        let e = run(config, RunOptions::default(), async {})
            .await
            .expect_err("no interface holds it");
        assert!(
            matches!(e, RunError::Config(ConfigError::ListenAddress(_))),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "listen-address=192.0.2.77: no interface has this address"
        );
    }
}
