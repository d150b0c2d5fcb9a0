//! `Range: bytes=…` (RFC 9110 §14), single ranges only.

/// What to send for a `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOutcome {
    /// The whole file with `200`: no usable single range (malformed, not
    /// `bytes`, or several ranges, which a server may answer in full).
    Full,
    /// Bytes `start..=end` with `206`.
    Partial {
        /// First byte.
        start: u64,
        /// Last byte (inclusive, `< len`).
        end: u64,
    },
    /// `416`: a well-formed single range that selects nothing of a file of
    /// this length.
    Unsatisfiable,
}

fn num(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Interprets a `Range` header value for a file of `len` bytes.
///
/// ```
/// use pxe_server::driver::http::{parse_range, RangeOutcome};
/// assert_eq!(parse_range("bytes=0-99", 1000), RangeOutcome::Partial { start: 0, end: 99 });
/// assert_eq!(parse_range("bytes=-100", 1000), RangeOutcome::Partial { start: 900, end: 999 });
/// assert_eq!(parse_range("bytes=1000-", 1000), RangeOutcome::Unsatisfiable);
/// assert_eq!(parse_range("bytes=0-1,5-6", 1000), RangeOutcome::Full);
/// ```
pub fn parse_range(header: &str, len: u64) -> RangeOutcome {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeOutcome::Full;
    };
    let spec = spec.trim();
    if spec.contains(',') {
        return RangeOutcome::Full;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeOutcome::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // Suffix range: the last N bytes.
        let Some(n) = num(b) else {
            return RangeOutcome::Full;
        };
        if n == 0 || len == 0 {
            return RangeOutcome::Unsatisfiable;
        }
        return RangeOutcome::Partial {
            start: len.saturating_sub(n),
            end: len - 1,
        };
    }
    let Some(start) = num(a) else {
        return RangeOutcome::Full;
    };
    let end = if b.is_empty() {
        None
    } else {
        match num(b) {
            Some(e) if e >= start => Some(e),
            // Last byte before the first: syntactically invalid, ignored.
            _ => return RangeOutcome::Full,
        }
    };
    if start >= len {
        return RangeOutcome::Unsatisfiable;
    }
    let last = len - 1;
    RangeOutcome::Partial {
        start,
        end: end.map_or(last, |e| e.min(last)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeOutcome::*;
        let p = |start, end| Partial { start, end };
        assert_eq!(parse_range("bytes=0-0", 10), p(0, 0));
        assert_eq!(parse_range("bytes=2-", 10), p(2, 9));
        assert_eq!(parse_range("bytes=2-100", 10), p(2, 9));
        assert_eq!(parse_range("bytes=9-9", 10), p(9, 9));
        assert_eq!(parse_range("bytes=-3", 10), p(7, 9));
        assert_eq!(parse_range("bytes=-30", 10), p(0, 9));
        assert_eq!(parse_range("bytes=10-", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=10-20", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=-5", 0), Unsatisfiable);
        for ignored in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=a-b",
            "bytes=5-2",
            "items=0-1",
            "bytes=0-1,2-3",
            "bytes=+1-2",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(parse_range(ignored, 10), Full, "{ignored}");
        }
    }
}
