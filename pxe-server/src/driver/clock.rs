//! The wall clock lease times are kept in.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (lease times are wall-clock).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
