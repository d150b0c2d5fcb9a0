//! The engine's notion of time: a caller-supplied monotonic instant.

use core::ops::Add;
use core::time::Duration;

/// A point in time, in microseconds since an arbitrary epoch chosen by the caller.
///
/// The engines never read a clock: every call that depends on time takes an
/// `Instant`. A std caller can map `std::time::Instant` to it by measuring
/// the elapsed time since a fixed start, a smoltcp caller can use
/// `smoltcp::time::Instant::total_micros()`, and a simulation can count
/// virtual microseconds. Only differences between instants matter, so the
/// epoch may be anything as long as it is the same for one engine.
///
/// ```
/// use core::time::Duration;
/// use pxe_tftp::Instant;
/// let t0 = Instant::from_micros(5);
/// let t1 = t0 + Duration::from_millis(2);
/// assert_eq!(t1.as_micros(), 2005);
/// assert_eq!(t1.saturating_duration_since(t0), Duration::from_millis(2));
/// assert_eq!(t0.saturating_duration_since(t1), Duration::ZERO);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The epoch itself.
    pub const ZERO: Instant = Instant(0);

    /// An instant `micros` microseconds after the epoch.
    pub const fn from_micros(micros: u64) -> Self {
        Instant(micros)
    }

    /// An instant `millis` milliseconds after the epoch (saturating).
    pub const fn from_millis(millis: u64) -> Self {
        Instant(millis.saturating_mul(1000))
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// The time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating at the largest representable instant.
    pub fn saturating_add(self, d: Duration) -> Instant {
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(micros))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Saturating addition (never panics).
    fn add(self, rhs: Duration) -> Instant {
        self.saturating_add(rhs)
    }
}
