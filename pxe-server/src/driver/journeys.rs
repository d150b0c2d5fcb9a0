//! The boot journeys as the services share them: one
//! [`JourneyStore`] behind a mutex, fed by the DHCP worker (through the
//! engine's events), the HTTP service and the TFTP service, and read by
//! the status page, its JSON API and `/metrics`.
//!
//! Lock order: a DHCP worker holds the engine's lock, then this one;
//! nothing takes the engine's lock while holding this one.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use pxe_engine::journey::{HttpObservation, JourneyStore, Stage, TftpObservation};
use pxe_engine::lease::HwAddr;
use pxe_rules::Config;

use crate::driver::engine::SharedEngine;
use crate::driver::metrics::ServerMetrics;

/// Milliseconds since the Unix epoch: the clock journeys are kept in.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What the services report about boots, and the metrics beside them.
#[derive(Debug)]
pub struct Journeys {
    store: Arc<Mutex<JourneyStore>>,
    /// The engine's configuration: a reload swaps it together with the
    /// engine's, so rule references recorded from then on resolve against
    /// the lines they came from.
    config: arc_swap::ArcSwap<Config>,
    metrics: ServerMetrics,
}

/// A random seed for the store's hash index (std's per-process random
/// hasher keys; no other source of randomness is needed).
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(now_ms());
    h.finish()
}

impl Journeys {
    /// Journeys of the last `capacity` machines, recorded against `config`
    /// (the engine's configuration), with metrics over `engine`'s counters
    /// and leases when there is a DHCP engine.
    pub(crate) fn new(config: Arc<Config>, capacity: usize, engine: Option<SharedEngine>) -> Self {
        let store = Arc::new(Mutex::new(JourneyStore::new(capacity, random_seed())));
        let metrics = ServerMetrics::new(engine, store.clone());
        Journeys {
            store,
            config: arc_swap::ArcSwap::new(config),
            metrics,
        }
    }

    /// Journeys for `config` with its `journey-max=` (default
    /// [`JourneyStore::DEFAULT_CAPACITY`]) and no DHCP engine: HTTP and
    /// TFTP observations only (the server adds its engine itself).
    pub fn for_config(config: Arc<Config>) -> Self {
        let capacity = capacity_of(&config);
        Self::new(config, capacity, None)
    }

    /// The store, locked.
    pub fn lock(&self) -> MutexGuard<'_, JourneyStore> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The configuration the journeys' rule references point into.
    pub fn config(&self) -> Arc<Config> {
        self.config.load_full()
    }

    /// Takes up a reloaded configuration (call it under the engine lock,
    /// with the engine's own `reconfigure`, so events and the lines they
    /// name stay in step). Journeys recorded before keep indices into the
    /// old file: their diagnoses are cleared of line references rather
    /// than shown with the wrong line.
    pub fn reconfigure(&self, config: Arc<Config>) {
        let mut store = self.lock();
        store.forget_rules();
        self.config.store(config);
    }

    /// The metrics.
    pub fn metrics(&self) -> &ServerMetrics {
        &self.metrics
    }

    /// An HTTP request answered to `peer` (for machine `mac` when its query
    /// named one).
    pub fn http(&self, peer: IpAddr, mac: Option<[u8; 6]>, o: &HttpObservation<'_>) {
        let Some(ip) = v4(peer) else {
            return;
        };
        let now = now_ms();
        let _ = self
            .lock()
            .record_http(now, ip, mac.map(HwAddr::ethernet), o);
    }

    /// The OS's callback (`GET /done`) from `peer`, for `mac` when given.
    /// Returns whether a journey matched; a boot that reaches its end here
    /// is timed into the boot-duration histogram.
    pub fn done(&self, peer: IpAddr, mac: Option<[u8; 6]>) -> bool {
        let Some(ip) = v4(peer) else {
            return false;
        };
        let now = now_ms();
        let mac = mac.map(HwAddr::ethernet);
        let mut store = self.lock();
        let matched = store.record_done(now, ip, mac);
        let finished = mac
            .and_then(|m| store.get(&m))
            .or_else(|| {
                store
                    .iter()
                    .filter(|j| j.ip() == Some(ip))
                    .max_by_key(|j| j.last_seen())
            })
            .filter(|j| j.reached(Stage::Done) == Some(now))
            .map(|j| now.saturating_sub(j.boot_started()));
        drop(store);
        if let Some(ms) = finished {
            self.metrics.boot_finished(ms);
        }
        matched
    }

    /// A TFTP transfer event of the client at `peer`.
    pub fn tftp(&self, peer: Ipv4Addr, o: &TftpObservation<'_>) {
        let now = now_ms();
        let _ = self.lock().record_tftp(now, peer, o);
        self.metrics.tftp(o);
    }
}

/// `journey-max=`, or the default.
pub(crate) fn capacity_of(config: &Config) -> usize {
    config
        .settings
        .extensions
        .journey_max
        .map_or(JourneyStore::DEFAULT_CAPACITY, |n| n as usize)
}

fn v4(ip: IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(a) => a.to_ipv4_mapped(),
    }
}
