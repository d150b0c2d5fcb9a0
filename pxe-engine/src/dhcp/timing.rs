//! Lease time, T1 and T2 as dnsmasq's `calc_time` computes them: at least
//! 120 s, a client may ask for less than configured but not more, T1 half
//! the lease and T2 seven eighths unless configured.

/// The infinite lease time value.
pub const INFINITE: u32 = u32::MAX;
/// Shortest lease dnsmasq grants.
pub const MIN_LEASE: u32 = 120;

/// Lease time, T1 and T2 to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Times {
    /// Option 51.
    pub lease: u32,
    /// Option 58 (None for an infinite lease).
    pub t1: Option<u32>,
    /// Option 59 (None for an infinite lease).
    pub t2: Option<u32>,
}

/// Compute the times for a configured lease `configured`, the client's
/// requested time (option 51) and `dhcp-option=58/59` overrides.
/// `fuzz` (0 on first grant) is subtracted from T1 and T2 on renewals.
pub fn times(
    configured: u32,
    requested: Option<u32>,
    t1_opt: Option<u32>,
    t2_opt: Option<u32>,
    fuzz: u32,
) -> Times {
    let mut lease = configured.max(MIN_LEASE);
    if let Some(r) = requested {
        let r = r.max(MIN_LEASE);
        if configured == INFINITE || r < lease {
            lease = r;
        }
    }
    if lease == INFINITE {
        return Times {
            lease,
            t1: None,
            t2: None,
        };
    }
    let ok = |v: u32| v > 2 && v < lease;
    let mut t1 = t1_opt.filter(|v| ok(*v)).unwrap_or(lease / 2);
    let t2 = t2_opt
        .filter(|v| ok(*v))
        .unwrap_or(((u64::from(lease) * 7) / 8) as u32);
    if t2 <= t1 {
        t1 = t2.saturating_sub(1);
    }
    let mut f = fuzz;
    while f > t1 / 8 && f > 0 {
        f /= 2;
    }
    Times {
        lease,
        t1: Some(t1 - f),
        t2: Some(t2 - f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_values() {
        assert_eq!(
            times(600, None, None, None, 0),
            Times {
                lease: 600,
                t1: Some(300),
                t2: Some(525)
            }
        );
        assert_eq!(times(3600, None, None, None, 0).t2, Some(3150));
        assert_eq!(times(3600, Some(80), None, None, 0).lease, 120);
        assert_eq!(times(3600, Some(7200), None, None, 0).lease, 3600);
        assert_eq!(times(INFINITE, Some(7200), None, None, 0).lease, 7200);
        assert_eq!(times(INFINITE, None, None, None, 0).t1, None);
        let t = times(3600, None, None, None, 1000);
        assert!(t.t1.unwrap() < 1800 && t.t1.unwrap() >= 1800 - 225);
    }
}
