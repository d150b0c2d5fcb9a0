//! Service orchestration: opens the lease log, starts each configured
//! service (DHCP and the PXE boot server, TFTP, HTTP), tells the service
//! manager once every socket is bound, re-reads the configuration when
//! asked ([`reload`]), and at shutdown stops the services and collects
//! their results.
//!
//! Each running service has a stop signal of its own, so a reload can
//! restart one (new sockets) while the others keep serving. With
//! `WatchdogSec=` a keep-alive is sent while the DHCP engine can still be
//! locked.

pub mod reload;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;
use std::vec::Vec;

use arc_swap::ArcSwap;
use pxe_engine::dhcp::{Engine, Sockets};
use pxe_engine::lease::log::{LeaseLog, LogError};

use crate::driver::store::{PgStore, Store, StoreError, postgres::is_postgres_url};
use pxe_rules::Config;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::{self, ConfigError, DEFAULT_LEASE_FILE, Overrides};
use crate::driver::clock::unix_now;
use crate::driver::dhcp::{DhcpError, DhcpSockets, bind_dhcp, dhcp_loop};
use crate::driver::engine::{SharedEngine, lock};
use crate::driver::http::{self, ClientLookup, HttpService, HttpSetupError, ServiceHandle};
use crate::driver::journeys::{Journeys, capacity_of};
use crate::driver::net::interfaces;
use crate::driver::options::RunOptions;
use crate::driver::tftp::service::{
    self as tftp_service, SettingsHandle, TftpMetrics, TftpSettings,
};
use crate::leases::LeaseQuery;
use crate::notify::Notifier;
use crate::tftp_settings::{TftpSetupError, tftp_settings};

use reload::ReloadCounters;

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration does not fit this machine (a `listen-address=`
    /// no interface holds).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The lease store (log or database) could not be opened.
    #[error(transparent)]
    Lease(#[from] StoreError),
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

/// Reload requests, one per SIGHUP. Call it inside the runtime, before
/// anything could send SIGHUP: from then on the signal no longer ends the
/// process.
pub fn sighup_requests() -> io::Result<mpsc::Receiver<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup())?;
    // One pending request is enough: a reload reads the file as it is then.
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the configuration");
            if let Err(mpsc::error::TrySendError::Closed(())) = tx.try_send(()) {
                break;
            }
        }
    });
    Ok(rx)
}

/// A started service task.
type Task = JoinHandle<Result<(), RunError>>;

/// How long a service may take to stop before it is left behind.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the configuration was read from, to read it again on reload.
#[derive(Clone, Debug)]
pub struct ConfigSource {
    /// The file given with `--conf`.
    pub path: PathBuf,
    /// The command line's values that replace the file's.
    pub overrides: Overrides,
}

/// How a running server is driven from outside: when it stops, where its
/// configuration is re-read from and when, whom it tells about its state.
#[derive(Debug)]
pub struct Lifecycle<F> {
    /// Resolves when the server should stop ([`shutdown_signal`]).
    pub shutdown: F,
    /// Where the configuration came from (`None`: built in memory, so
    /// nothing to reload).
    pub source: Option<ConfigSource>,
    /// Each message asks for a reload from `source` ([`sighup_requests`]).
    pub reload: Option<mpsc::Receiver<()>>,
    /// The service manager's notification socket.
    pub notifier: Notifier,
}

/// Run every configured service until `shutdown` resolves, then flush the
/// leases and stop.
pub async fn run(
    config: Config,
    opts: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), RunError> {
    let lifecycle = Lifecycle {
        shutdown,
        source: None,
        reload: None,
        notifier: Notifier::new(),
    };
    run_with(config, opts, lifecycle).await
}

/// Run every configured service as `lifecycle` says: tell the service
/// manager once every socket is bound, keep its watchdog fed, reload on
/// each request, stop when `lifecycle.shutdown` resolves, then flush the
/// leases.
pub async fn run_with(
    config: Config,
    opts: RunOptions,
    lifecycle: Lifecycle<impl Future<Output = ()>>,
) -> Result<(), RunError> {
    let Lifecycle {
        shutdown,
        source,
        mut reload,
        notifier,
    } = lifecycle;
    let config = resolve(config)?;
    config::note_unimplemented(&config.settings);
    let (engine, log) = open_engine(&config)?;
    let journeys = journeys_for(&config, &engine);
    let mut services = Services {
        journeys,
        status: Vec::new(),
        leases: LeaseQuery::new(engine.clone()),
        engine: engine.clone(),
        lease_path: lease_path(&config),
        config,
        opts,
        dhcp: None,
        tftp: None,
        http: None,
        counters: Arc::new(ReloadCounters::default()),
        retired: Vec::new(),
    };
    services.start(log).await?;
    let status = services.summary();
    tracing::info!("serving: {status}");
    notifier.ready(&status);
    let watchdog = notifier
        .watchdog_interval()
        .map(|every| tokio::spawn(feed_watchdog(notifier, every, engine.clone())));

    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let asked = async {
            match reload.as_mut() {
                Some(r) => r.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = &mut shutdown => break,
            r = asked => match (r, &source) {
                (Some(()), Some(source)) => services.reload_and_tell(source, &notifier).await,
                (Some(()), None) => tracing::warn!("reload asked, but the configuration came from no file"),
                (None, _) => reload = None,
            },
        }
    }
    notifier.stopping();
    if let Some(w) = watchdog {
        w.abort();
    }
    services.stop_all().await
}

/// `listen-address=` resolved against the interfaces of this machine.
fn resolve(mut config: Config) -> Result<Arc<Config>, ConfigError> {
    config::listen_on_addresses(&mut config.settings, &interfaces().unwrap_or_default())?;
    Ok(Arc::new(config))
}

/// A service task with the stop signal only it listens to.
#[derive(Debug)]
struct Stoppable {
    stop: watch::Sender<bool>,
    task: Task,
}

impl Stoppable {
    /// Spawns `service(stop)`.
    fn spawn<F>(service: impl FnOnce(watch::Receiver<bool>) -> F) -> Stoppable
    where
        F: Future<Output = Result<(), RunError>> + Send + 'static,
    {
        let (stop, rx) = watch::channel(false);
        Stoppable {
            stop,
            task: tokio::spawn(service(rx)),
        }
    }

    /// Asks the task to stop; it may still be finishing.
    fn stop(self) -> Task {
        let _ = self.stop.send(true);
        self.task
    }
}

/// What the DHCP sockets are bound to: a change means new sockets.
#[derive(Clone, Debug, PartialEq, Eq)]
struct DhcpBinding {
    sockets: Sockets,
    interfaces: Vec<String>,
}

impl DhcpBinding {
    fn of(config: &Config) -> DhcpBinding {
        DhcpBinding {
            sockets: Sockets::for_config(config),
            interfaces: config.settings.interfaces.clone(),
        }
    }
}

/// What the TFTP request sockets are bound to: a change means a new
/// service.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TftpBinding {
    port: u16,
    interfaces: Vec<String>,
    single_port: bool,
}

impl TftpBinding {
    fn of(t: &TftpSettings) -> TftpBinding {
        TftpBinding {
            port: t.port,
            interfaces: t.interfaces.clone(),
            single_port: t.single_port,
        }
    }
}

/// The running DHCP service.
#[derive(Debug)]
struct DhcpRunning {
    binding: DhcpBinding,
    run: Stoppable,
}

/// The running TFTP service: the settings it reads per request.
#[derive(Debug)]
struct TftpRunning {
    binding: TftpBinding,
    settings: SettingsHandle,
    run: Stoppable,
}

/// The running HTTP service: the service its listeners hand out.
#[derive(Debug)]
struct HttpRunning {
    addrs: Vec<SocketAddr>,
    service: ServiceHandle,
    listeners: Vec<JoinHandle<()>>,
}

/// Everything running, with the configuration in force.
#[derive(Debug)]
struct Services {
    opts: RunOptions,
    engine: SharedEngine,
    leases: LeaseQuery,
    config: Arc<Config>,
    dhcp: Option<DhcpRunning>,
    tftp: Option<TftpRunning>,
    http: Option<HttpRunning>,
    /// Boot journeys and metrics, when `status-page=` asked for the page
    /// at start.
    journeys: Option<Arc<Journeys>>,
    /// The status page's listeners (bound at start, kept across reloads).
    status: Vec<JoinHandle<()>>,
    counters: Arc<ReloadCounters>,
    /// The lease file opened at start (a reload keeps it).
    lease_path: PathBuf,
    /// Services a reload replaced, finishing what they had started.
    retired: Vec<Task>,
}

impl Services {
    /// Starts every configured service; returns once each has bound its
    /// sockets (a bind error is a start-up error).
    async fn start(&mut self, log: Store) -> Result<(), RunError> {
        let binding = DhcpBinding::of(&self.config);
        if binding.sockets.any() {
            let socks = bind_dhcp(&self.config, &self.opts, binding.sockets)?;
            self.dhcp = Some(self.spawn_dhcp(binding, socks, log));
        } else {
            tracing::info!("no dhcp-range: DHCP is off");
            drop(log);
        }
        if let Some(t) = tftp_settings(
            &self.config,
            &self.opts,
            &self.leases,
            self.journeys.as_ref(),
        )? {
            self.tftp = Some(start_tftp(t).await?);
        }
        if let Some(service) =
            http::service_for(&self.config, Some(self.lookup()), self.journeys.as_ref())?
        {
            let addrs = http::listen_addrs(&self.config)?;
            let listeners = http::bind_listeners(&addrs).await?;
            self.http = Some(start_http(&self.config, service, addrs, listeners));
        }
        if let Some(j) = &self.journeys {
            let addrs = http::status_addrs(&self.config)?;
            let listeners = http::bind_listeners(&addrs).await?;
            for addr in &addrs {
                tracing::info!(
                    "status page on http://{addr}/ (API /api/machines, metrics /metrics)"
                );
            }
            let page: ServiceHandle =
                Arc::new(ArcSwap::from_pointee(HttpService::status_page(j.clone())));
            self.status = spawn_listeners(&page, listeners);
        }
        Ok(())
    }

    fn lookup(&self) -> Arc<dyn ClientLookup> {
        Arc::new(self.leases.clone())
    }

    fn spawn_dhcp(&self, binding: DhcpBinding, socks: DhcpSockets, log: Store) -> DhcpRunning {
        let engine = self.engine.clone();
        let journeys = self.journeys.clone();
        DhcpRunning {
            binding,
            run: Stoppable::spawn(move |stop| async move {
                Ok(dhcp_loop(engine, log, socks, stop, journeys).await?)
            }),
        }
    }

    /// Reloads from `source`, telling the service manager before and
    /// after; a failure is logged with its position and counted.
    async fn reload_and_tell(&mut self, source: &ConfigSource, notifier: &Notifier) {
        notifier.reloading(&std::format!("reloading {}", source.path.display()));
        match self.reload(source).await {
            Ok(()) => {
                self.counters.succeeded();
                let status = self.summary();
                tracing::info!("reloaded {}: {status}", source.path.display());
                notifier.ready(&status);
            }
            Err(e) => {
                let failed = self.counters.failed();
                tracing::error!(
                    "reload failed ({failed} so far), the previous configuration stays: {e}"
                );
                notifier.ready(&std::format!(
                    "reload failed ({failed} so far), previous configuration serving: {e}"
                ));
            }
        }
    }

    /// The one-line `STATUS=`: which services run where, and how many
    /// leases.
    fn summary(&self) -> String {
        use pxe_rules::config::RangeMode;
        let config = &self.config;
        let mut parts: Vec<String> = Vec::new();
        if let Some(d) = &self.dhcp {
            let ranges: Vec<String> = config
                .ranges()
                .map(|(_, r)| match r.mode {
                    RangeMode::Dynamic => std::format!("{}-{}", r.start, r.end),
                    RangeMode::Static => std::format!("{} static", r.start),
                    RangeMode::Proxy => std::format!("proxy {}", r.start),
                })
                .collect();
            parts.push(std::format!("DHCP {}", ranges.join(", ")));
            if d.binding.sockets.pxe {
                parts.push(String::from("PXE 4011"));
            }
        }
        if let Some(t) = &self.tftp {
            let settings = t.settings.load();
            let roots: Vec<String> = settings
                .roots
                .iter()
                .map(|(_, r)| r.root().display().to_string())
                .collect();
            parts.push(std::format!("TFTP {}", roots.join(", ")));
        }
        if self.http.is_some() {
            let ports: Vec<String> = config
                .settings
                .extensions
                .http_ports
                .iter()
                .map(ToString::to_string)
                .collect();
            parts.push(std::format!("HTTP {}", ports.join(", ")));
        }
        if parts.is_empty() {
            parts.push(String::from("no service configured"));
        }
        let leases = lock(&self.engine).leases().len();
        std::format!("{}; {leases} leases", parts.join("; "))
    }

    /// Stops every service (current and retired) and waits for each at
    /// most [`STOP_TIMEOUT`]; the result is the last error one returned.
    async fn stop_all(self) -> Result<(), RunError> {
        let mut tasks = self.retired;
        if let Some(h) = self.http {
            for l in h.listeners {
                l.abort();
            }
        }
        for l in self.status {
            l.abort();
        }
        tasks.extend(self.tftp.map(|t| t.run.stop()));
        tasks.extend(self.dhcp.map(|d| d.run.stop()));
        collect(tasks).await
    }
}

/// The lease file the configuration names.
fn lease_path(config: &Config) -> PathBuf {
    PathBuf::from(
        config
            .settings
            .lease_file
            .clone()
            .unwrap_or_else(|| DEFAULT_LEASE_FILE.to_string()),
    )
}

/// The hosts file next servers given by name are looked up in (dnsmasq:
/// the hosts file only); read at start and at every reload.
fn hosts() -> pxe_engine::hosts::Hosts {
    pxe_engine::hosts::Hosts::parse(&std::fs::read_to_string("/etc/hosts").unwrap_or_default())
}

/// The engine with the leases of the durable log (and of a dnsmasq lease
/// file found beside it), and the log to append to.
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

fn open_engine(config: &Arc<Config>) -> Result<(SharedEngine, Store), RunError> {
    let mut engine = Engine::new(config.clone());
    engine.set_hosts(hosts());
    if config.dhcp6_enabled() {
        engine.set_server_duid(&crate::driver::dhcp6::server_duid(config));
    }
    let store = open_store(&lease_path(config), &mut engine)?;
    Ok((Arc::new(Mutex::new(engine)), store))
}

/// Opens the lease store `dhcp-leasefile=` names: a PostgreSQL database
/// (`postgres://…`) or the log beside a dnsmasq-format file.
fn open_store(path: &Path, engine: &mut Engine) -> Result<Store, StoreError> {
    match path.to_str() {
        Some(url) if is_postgres_url(url) => {
            Ok(Store::Postgres(Box::new(open_postgres(url, engine)?)))
        }
        _ => Ok(Store::Log(crate::driver::store::LogStore::new(open_log(
            path, engine,
        )?))),
    }
}

/// Connects to the PostgreSQL lease store at `url` (schema created or
/// migrated) and loads its leases into the engine, which from then on
/// claims offers in it too. The store has its own runtime, so it is
/// opened on a thread of its own.
fn open_postgres(url: &str, engine: &mut Engine) -> Result<PgStore, StoreError> {
    let now = unix_now();
    let store = std::thread::scope(|s| {
        s.spawn(|| PgStore::open(url, engine.leases_mut(), now))
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })?;
    engine.set_shared_store(true);
    tracing::info!(
        "leases: {} from {} (shared with other servers)",
        engine.leases().len(),
        store.describe()
    );
    Ok(store)
}

/// Opens the lease log at `path`, replaying it into the engine's table.
fn open_log(path: &Path, engine: &mut Engine) -> Result<LeaseLog, LogError> {
    let (log, rec) = LeaseLog::open(path, engine.leases_mut(), unix_now())?;
    tracing::info!(
        "leases: {} from {} ({} records, {} torn bytes dropped, {} imported from dnsmasq format)",
        engine.leases().len(),
        log.path().display(),
        rec.records,
        rec.discarded_bytes,
        rec.imported
    );
    Ok(log)
}

/// TFTP with settings `t`; returns once its request sockets are bound (a
/// bind error is returned).
async fn start_tftp(t: TftpSettings) -> Result<TftpRunning, RunError> {
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
    let binding = TftpBinding::of(&t);
    let settings: SettingsHandle = Arc::new(ArcSwap::from_pointee(t));
    let metrics = Arc::new(TftpMetrics::default());
    let (stop, rx) = watch::channel(false);
    let mut serving = Box::pin(tftp_service::serve_reloadable(
        settings.clone(),
        metrics,
        rx,
    ));
    // `serve_reloadable` binds its request sockets before its first await,
    // so one poll here binds them (or fails) before READY=1 is sent.
    let first = std::future::poll_fn(|cx| Poll::Ready(serving.as_mut().poll(cx))).await;
    let task: Task = match first {
        Poll::Ready(done) => {
            done.map_err(RunError::Tftp)?;
            tokio::spawn(async { Ok(()) })
        }
        Poll::Pending => tokio::spawn(async move { serving.await.map_err(RunError::Tftp) }),
    };
    Ok(TftpRunning {
        binding,
        settings,
        run: Stoppable { stop, task },
    })
}

/// HTTP boot files and per-machine iPXE scripts on bound `listeners`.
fn start_http(
    config: &Config,
    service: HttpService,
    addrs: Vec<SocketAddr>,
    listeners: Vec<tokio::net::TcpListener>,
) -> HttpRunning {
    let handle: ServiceHandle = Arc::new(ArcSwap::from_pointee(service));
    for addr in &addrs {
        tracing::info!(
            "HTTP on {addr} (script {})",
            config
                .settings
                .extensions
                .ipxe_script
                .as_deref()
                .unwrap_or("built-in seed template")
        );
    }
    HttpRunning {
        addrs,
        listeners: spawn_listeners(&handle, listeners),
        service: handle,
    }
}

fn spawn_listeners(
    handle: &ServiceHandle,
    listeners: Vec<tokio::net::TcpListener>,
) -> Vec<JoinHandle<()>> {
    listeners
        .into_iter()
        .map(|l| tokio::spawn(http::serve_current(handle.clone(), l)))
        .collect()
}

/// `WATCHDOG=1` every `every` for as long as the DHCP engine can be
/// locked: a deadlocked or stalled server stops feeding, and systemd
/// restarts it.
async fn feed_watchdog(notifier: Notifier, every: Duration, engine: SharedEngine) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        drop(lock(&engine));
        notifier.watchdog();
    }
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
