//! The systemd readiness protocol (`sd_notify(3)`): `READY=1` once every
//! socket is bound, `STATUS=` with a one-line summary, `RELOADING=1` then
//! `READY=1` around a reload, `STOPPING=1` at shutdown, and `WATCHDOG=1`
//! keep-alives when the unit sets `WatchdogSec=`.
//!
//! Outside systemd (`NOTIFY_SOCKET` unset) every call does nothing, so the
//! server runs the same from a shell.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sd_notify::NotifyState;

/// Sends state changes to the service manager named by `NOTIFY_SOCKET`.
///
/// A message that cannot be sent is logged and otherwise ignored: the
/// server keeps serving whether or not systemd hears about it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Notifier {
    _private: (),
}

impl Notifier {
    /// A notifier for this process (reads `NOTIFY_SOCKET` at each message,
    /// so a test can point it at its own socket).
    pub fn new() -> Notifier {
        Notifier { _private: () }
    }

    /// `READY=1` with `STATUS=status`: every socket is bound and the
    /// configuration in force is `status`.
    pub fn ready(&self, status: &str) {
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    /// `RELOADING=1` (with `MONOTONIC_USEC=`, which `Type=notify-reload`
    /// requires) and `STATUS=status`: a reload has begun; [`Self::ready`]
    /// follows when it ended, whether it succeeded or not.
    pub fn reloading(&self, status: &str) {
        let mut states = vec![NotifyState::Reloading, NotifyState::Status(status)];
        if let Ok(now) = NotifyState::monotonic_usec_now() {
            states.push(now);
        }
        self.send(&states);
    }

    /// `STATUS=status` alone.
    pub fn status(&self, status: &str) {
        self.send(&[NotifyState::Status(status)]);
    }

    /// `STOPPING=1`: the server is shutting down.
    pub fn stopping(&self) {
        self.send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
    }

    /// `WATCHDOG=1`: the server is alive.
    pub fn watchdog(&self) {
        self.send(&[NotifyState::Watchdog]);
    }

    /// How often to send [`Self::watchdog`]: half of `WATCHDOG_USEC` (as
    /// `sd_watchdog_enabled(3)` advises), or `None` when the unit sets no
    /// `WatchdogSec=` (or set it for another process, `WATCHDOG_PID`).
    pub fn watchdog_interval(&self) -> Option<Duration> {
        sd_notify::watchdog_enabled()
            .filter(|d| !d.is_zero())
            .map(|d| d / 2)
    }

    fn send(&self, states: &[NotifyState<'_>]) {
        // Said once: the watchdog would repeat it every few seconds.
        static WARNED: AtomicBool = AtomicBool::new(false);
        if let Err(e) = sd_notify::notify(states)
            && !WARNED.swap(true, Ordering::Relaxed)
        {
            tracing::warn!("cannot notify the service manager (NOTIFY_SOCKET): {e}");
        }
    }
}
