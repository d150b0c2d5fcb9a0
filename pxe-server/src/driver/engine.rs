//! The engine as the drivers share it: one [`Engine`] behind a mutex,
//! used by the DHCP workers, the lease writer and the lease queries.

use std::sync::{Arc, Mutex, MutexGuard};

use pxe_engine::dhcp::Engine;

/// The engine shared between the DHCP loop and queries from other services.
pub(crate) type SharedEngine = Arc<Mutex<Engine>>;

pub(crate) fn lock(e: &SharedEngine) -> MutexGuard<'_, Engine> {
    e.lock().unwrap_or_else(|p| p.into_inner())
}
