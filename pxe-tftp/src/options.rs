//! Option negotiation: blksize (RFC 2348), tsize and timeout (RFC 2349),
//! windowsize (RFC 7440), under the framework of RFC 2347.
//!
//! Rules this crate follows (server side):
//!
//! * Option names are matched ASCII case-insensitively; unknown options are
//!   ignored and never echoed. If an option appears twice, the first wins.
//! * A value that is not a decimal number, `blksize` below 8 and
//!   `windowsize` 0 are malformed: the request is refused with ERROR 8.
//! * `blksize` above the server's limit (at most 65464) and `windowsize`
//!   above the server's limit are granted at the limit, as RFC 2348 and
//!   RFC 7440 allow.
//! * `timeout` outside 1..=255 is not acknowledged (RFC 2349 forbids
//!   answering with a different value), so the server's own retransmission
//!   timeout applies.
//! * `tsize` in an RRQ is answered with the file size when the size is
//!   known (for netascii: the encoded size), whatever value the client sent
//!   (RFC 2349 says 0; atftp 0.8 sends the word `enable`); in a WRQ it must
//!   be a number and is echoed.
//! * No OACK is sent when no option was granted: DATA 1 (read) or ACK 0
//!   (write) follows the request directly.

use core::time::Duration;

use crate::wire::{BuildError, OptionList, OptionWriter, Text};

/// Smallest blksize RFC 2348 allows.
pub const MIN_BLKSIZE: u16 = 8;
/// Largest blksize RFC 2348 allows.
pub const MAX_BLKSIZE: u16 = 65464;
/// The blksize of plain RFC 1350 TFTP.
pub const DEFAULT_BLKSIZE: u16 = 512;

/// The options a request (or an OACK) carried, checked and decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestedOptions {
    /// `blksize`, already clamped to at most 65464.
    pub blksize: Option<u16>,
    /// `tsize` as sent (0 in an RRQ, the file size in a WRQ or an OACK).
    pub tsize: Option<u64>,
    /// `timeout` in seconds, only when within 1..=255.
    pub timeout: Option<u8>,
    /// `windowsize`, clamped to at most 65535.
    pub windowsize: Option<u16>,
}

/// A known option name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionName {
    /// `blksize`
    Blksize,
    /// `tsize`
    Tsize,
    /// `timeout`
    Timeout,
    /// `windowsize`
    Windowsize,
}

impl OptionName {
    /// Wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            OptionName::Blksize => "blksize",
            OptionName::Tsize => "tsize",
            OptionName::Timeout => "timeout",
            OptionName::Windowsize => "windowsize",
        }
    }

    fn from_bytes(name: &[u8]) -> Option<OptionName> {
        [
            OptionName::Blksize,
            OptionName::Tsize,
            OptionName::Timeout,
            OptionName::Windowsize,
        ]
        .into_iter()
        .find(|o| name.eq_ignore_ascii_case(o.as_str().as_bytes()))
    }
}

impl core::fmt::Display for OptionName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A malformed option value (answered with ERROR 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// The value is not a decimal number (or does not fit in 64 bits).
    #[error("option {option} has a value that is not a decimal number")]
    NotANumber {
        /// Which option.
        option: OptionName,
    },
    /// `blksize` below 8.
    #[error("blksize {0} is below the minimum of 8")]
    BlksizeTooSmall(u64),
    /// `windowsize` 0.
    #[error("windowsize 0 is not allowed")]
    WindowsizeZero,
}

/// Parses a decimal option value. Empty strings, signs, spaces and overflow
/// are refused.
pub fn parse_decimal(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in value {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

impl RequestedOptions {
    /// Decodes the known options of an RRQ or WRQ (see the module rules):
    /// like [`from_list`](Self::from_list), except that an RRQ's `tsize`
    /// value is not looked at (it is only a request for the size).
    pub fn from_request(
        list: &OptionList<'_>,
        kind: crate::wire::RequestKind,
    ) -> Result<Self, OptionError> {
        Self::decode(list, kind == crate::wire::RequestKind::Read)
    }

    /// Decodes the known options of a list (an OACK, or a request read
    /// strictly): every known option's value must be a decimal number.
    pub fn from_list(list: &OptionList<'_>) -> Result<Self, OptionError> {
        Self::decode(list, false)
    }

    fn decode(list: &OptionList<'_>, any_tsize: bool) -> Result<Self, OptionError> {
        let mut out = RequestedOptions::default();
        let mut seen = [false; 4];
        for (name, value) in list.iter() {
            let Some(opt) = OptionName::from_bytes(name) else {
                continue;
            };
            let idx = opt as usize;
            if seen[idx] {
                continue;
            }
            seen[idx] = true;
            if opt == OptionName::Tsize && any_tsize {
                out.tsize = Some(parse_decimal(value).unwrap_or(0));
                continue;
            }
            let n = parse_decimal(value).ok_or(OptionError::NotANumber { option: opt })?;
            match opt {
                OptionName::Blksize => {
                    if n < u64::from(MIN_BLKSIZE) {
                        return Err(OptionError::BlksizeTooSmall(n));
                    }
                    out.blksize = Some(n.min(u64::from(MAX_BLKSIZE)) as u16);
                }
                OptionName::Tsize => out.tsize = Some(n),
                OptionName::Timeout => {
                    if (1..=255).contains(&n) {
                        out.timeout = Some(n as u8);
                    }
                }
                OptionName::Windowsize => {
                    if n == 0 {
                        return Err(OptionError::WindowsizeZero);
                    }
                    out.windowsize = Some(n.min(65535) as u16);
                }
            }
        }
        Ok(out)
    }

    /// True when no known option was present.
    pub fn is_empty(&self) -> bool {
        *self == RequestedOptions::default()
    }
}

/// A set of option values: what a client asks for, or what a server grants
/// (the options of its OACK). `None` means the option is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransferOptions {
    /// blksize.
    pub blksize: Option<u16>,
    /// tsize.
    pub tsize: Option<u64>,
    /// timeout, seconds.
    pub timeout: Option<u8>,
    /// windowsize.
    pub windowsize: Option<u16>,
}

impl TransferOptions {
    /// True when nothing was granted, i.e. no OACK is sent.
    pub fn is_empty(&self) -> bool {
        *self == TransferOptions::default()
    }

    /// The blksize in force for the transfer.
    pub fn effective_blksize(&self) -> u16 {
        self.blksize.unwrap_or(DEFAULT_BLKSIZE)
    }

    /// The windowsize in force for the transfer.
    pub fn effective_windowsize(&self) -> u16 {
        self.windowsize.unwrap_or(1)
    }

    /// Writes an OACK with the granted options, in the order blksize, tsize,
    /// timeout, windowsize.
    pub fn write_oack(&self, buf: &mut [u8]) -> Result<usize, BuildError> {
        let mut w = OptionWriter::oack(buf)?;
        self.write_into(&mut w)?;
        Ok(w.finish())
    }

    /// Writes the options into a request being built (client side).
    pub fn write_into(&self, w: &mut OptionWriter<'_>) -> Result<(), BuildError> {
        if let Some(b) = self.blksize {
            w.option_u64(b"blksize", u64::from(b))?;
        }
        if let Some(t) = self.tsize {
            w.option_u64(b"tsize", t)?;
        }
        if let Some(t) = self.timeout {
            w.option_u64(b"timeout", u64::from(t))?;
        }
        if let Some(ws) = self.windowsize {
            w.option_u64(b"windowsize", u64::from(ws))?;
        }
        Ok(())
    }
}

/// Server-side limits and switches for option negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Largest blksize granted (8..=65464). Derive it from the path MTU with
    /// [`ServerLimits::blksize_for_mtu`].
    pub max_blksize: u16,
    /// Largest windowsize granted (1..=65535).
    pub max_windowsize: u16,
    /// Acknowledge `blksize` at all (dnsmasq's `tftp-no-blocksize` turns it off).
    pub blksize: bool,
    /// Acknowledge `tsize`.
    pub tsize: bool,
    /// Acknowledge `timeout`.
    pub timeout: bool,
    /// Acknowledge `windowsize`.
    pub windowsize: bool,
}

impl Default for ServerLimits {
    /// blksize up to 1468 (a 1500-byte IPv4 MTU), windowsize up to 64 (tftp-hpa
    /// clients fail above it), all four options on.
    fn default() -> Self {
        ServerLimits {
            max_blksize: 1468,
            max_windowsize: 64,
            blksize: true,
            tsize: true,
            timeout: true,
            windowsize: true,
        }
    }
}

impl ServerLimits {
    /// The largest blksize whose DATA packets fit an MTU: MTU minus the IP
    /// header (20 for IPv4, 40 for IPv6), UDP (8) and TFTP (4) headers,
    /// clamped to 8..=65464. 1500 gives 1468 for IPv4, as dnsmasq does.
    pub fn blksize_for_mtu(mtu: u32, ipv6: bool) -> u16 {
        let overhead = if ipv6 { 52 } else { 32 };
        mtu.saturating_sub(overhead)
            .clamp(u32::from(MIN_BLKSIZE), u32::from(MAX_BLKSIZE)) as u16
    }

    /// Decides what to grant for `req`. `tsize` is the size to announce
    /// (computed by the caller for the mode; `None` when unknown).
    pub fn negotiate(&self, req: &RequestedOptions, tsize: Option<u64>) -> TransferOptions {
        let max_blk = self.max_blksize.clamp(MIN_BLKSIZE, MAX_BLKSIZE);
        let max_win = self.max_windowsize.max(1);
        TransferOptions {
            blksize: req.blksize.filter(|_| self.blksize).map(|b| b.min(max_blk)),
            tsize: if self.tsize && req.tsize.is_some() {
                tsize
            } else {
                None
            },
            timeout: req.timeout.filter(|_| self.timeout),
            windowsize: req
                .windowsize
                .filter(|_| self.windowsize)
                .map(|w| w.min(max_win)),
        }
    }
}

/// Why a client refuses a server's OACK (it then sends ERROR 8 and stops).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OackError {
    /// A value in the OACK is malformed.
    #[error("malformed OACK: {0}")]
    Malformed(#[from] OptionError),
    /// The OACK grants an option the client never asked for.
    #[error("OACK contains option {0} that was not requested")]
    NotRequested(OptionName),
    /// The OACK grants a larger blksize or windowsize than requested, or a
    /// different timeout.
    #[error("OACK grants {option} {granted}, but {requested} was requested")]
    MoreThanAsked {
        /// Which option.
        option: OptionName,
        /// Value granted.
        granted: u64,
        /// Value requested.
        requested: u64,
    },
}

/// Client side: checks an OACK against what was asked, per RFC 2347/2348/
/// 2349/7440, and returns what is in force. Unknown options in the OACK are
/// ignored (they cannot be acted on), and so is a timeout outside 1..=255.
pub fn check_oack(
    asked: &TransferOptions,
    oack: &OptionList<'_>,
) -> Result<TransferOptions, OackError> {
    let got = RequestedOptions::from_list(oack)?;
    let blksize = at_most(OptionName::Blksize, got.blksize, asked.blksize)?;
    if got.tsize.is_some() && asked.tsize.is_none() {
        return Err(OackError::NotRequested(OptionName::Tsize));
    }
    if let Some(t) = got.timeout {
        let a = asked
            .timeout
            .ok_or(OackError::NotRequested(OptionName::Timeout))?;
        if t != a {
            return Err(OackError::MoreThanAsked {
                option: OptionName::Timeout,
                granted: t.into(),
                requested: a.into(),
            });
        }
    }
    Ok(TransferOptions {
        blksize,
        tsize: got.tsize,
        timeout: got.timeout,
        windowsize: at_most(OptionName::Windowsize, got.windowsize, asked.windowsize)?,
    })
}

/// A granted value that may be at most the one asked for (blksize,
/// windowsize): absent if not granted, an error if not asked for or larger.
fn at_most(
    option: OptionName,
    granted: Option<u16>,
    asked: Option<u16>,
) -> Result<Option<u16>, OackError> {
    let Some(g) = granted else {
        return Ok(None);
    };
    let a = asked.ok_or(OackError::NotRequested(option))?;
    if g > a {
        return Err(OackError::MoreThanAsked {
            option,
            granted: g.into(),
            requested: a.into(),
        });
    }
    Ok(Some(g))
}

/// The retransmission timeout in force: the negotiated `timeout` option if
/// any, else the configured default.
pub(crate) fn effective_timeout(granted: &TransferOptions, default: Duration) -> Duration {
    granted
        .timeout
        .map(|s| Duration::from_secs(u64::from(s)))
        .unwrap_or(default)
}

/// For log lines: displays an option list.
pub fn display_options<'a>(list: &'a OptionList<'a>) -> impl core::fmt::Display + 'a {
    struct D<'a>(&'a OptionList<'a>);
    impl core::fmt::Display for D<'_> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            for (i, (n, v)) in self.0.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{}={}", Text(n), Text(v))?;
            }
            Ok(())
        }
    }
    D(list)
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn list(bytes: &[u8]) -> OptionList<'_> {
        OptionList::parse(bytes, 0).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The MTU cap: IPv4 loses 32 bytes of headers, IPv6 52, so the
    /// IPv6 minimum MTU 1280 gives EDK2's 1228 (the 1232-byte UDP payload
    /// every IPv6 link carries).
    #[test]
    fn blksize_for_mtu_by_family() {
        assert_eq!(ServerLimits::blksize_for_mtu(1500, false), 1468);
        assert_eq!(ServerLimits::blksize_for_mtu(1500, true), 1448);
        assert_eq!(ServerLimits::blksize_for_mtu(1280, true), 1228);
        assert_eq!(ServerLimits::blksize_for_mtu(9000, true), 8948);
        assert_eq!(ServerLimits::blksize_for_mtu(40, true), MIN_BLKSIZE);
    }

    #[test]
    fn decode_and_clamp() {
        let l = list(b"BlkSize\x0070000\x00tsize\x000\x00timeout\x00300\x00windowsize\x0099999\x00x\x00y\x00");
        let r = RequestedOptions::from_list(&l);
        assert_eq!(
            r,
            Ok(RequestedOptions {
                blksize: Some(65464),
                tsize: Some(0),
                timeout: None,
                windowsize: Some(65535)
            })
        );
    }

    #[test]
    fn malformed_values() {
        assert_eq!(
            RequestedOptions::from_list(&list(b"blksize\x00abc\x00")),
            Err(OptionError::NotANumber {
                option: OptionName::Blksize
            })
        );
        assert_eq!(
            RequestedOptions::from_list(&list(b"blksize\x007\x00")),
            Err(OptionError::BlksizeTooSmall(7))
        );
        assert_eq!(
            RequestedOptions::from_list(&list(b"windowsize\x000\x00")),
            Err(OptionError::WindowsizeZero)
        );
        assert_eq!(
            RequestedOptions::from_list(&list(b"tsize\x00-1\x00")),
            Err(OptionError::NotANumber {
                option: OptionName::Tsize
            })
        );
        // duplicates: first wins, later malformed copy not even looked at
        assert_eq!(
            RequestedOptions::from_list(&list(b"blksize\x001024\x00blksize\x00zz\x00"))
                .map(|r| r.blksize),
            Ok(Some(1024))
        );
    }

    #[test]
    fn negotiate_against_limits() {
        let lim = ServerLimits {
            max_blksize: ServerLimits::blksize_for_mtu(1500, false),
            ..ServerLimits::default()
        };
        assert_eq!(lim.max_blksize, 1468);
        let req = RequestedOptions {
            blksize: Some(9000),
            tsize: Some(0),
            timeout: Some(3),
            windowsize: Some(128),
        };
        let g = lim.negotiate(&req, Some(1234));
        assert_eq!(
            g,
            TransferOptions {
                blksize: Some(1468),
                tsize: Some(1234),
                timeout: Some(3),
                windowsize: Some(64)
            }
        );
        let none = lim.negotiate(&RequestedOptions::default(), Some(5));
        assert!(none.is_empty());
        let off = ServerLimits {
            blksize: false,
            windowsize: false,
            ..lim
        };
        let g = off.negotiate(&req, None);
        assert_eq!(g.blksize, None);
        assert_eq!(g.tsize, None);
        assert_eq!(g.windowsize, None);
        let mut buf = [0u8; 64];
        let n = g.write_oack(&mut buf).unwrap_or(0);
        assert_eq!(&buf[..n], b"\x00\x06timeout\x003\x00");
    }

    #[test]
    fn client_checks_oack() {
        let asked = TransferOptions {
            blksize: Some(1468),
            tsize: Some(0),
            timeout: None,
            windowsize: Some(8),
        };
        assert_eq!(
            check_oack(&asked, &list(b"blksize\x001024\x00tsize\x0099\x00")),
            Ok(TransferOptions {
                blksize: Some(1024),
                tsize: Some(99),
                ..TransferOptions::default()
            })
        );
        assert_eq!(
            check_oack(&asked, &list(b"blksize\x002048\x00")),
            Err(OackError::MoreThanAsked {
                option: OptionName::Blksize,
                granted: 2048,
                requested: 1468
            })
        );
        assert_eq!(
            check_oack(&asked, &list(b"timeout\x002\x00")),
            Err(OackError::NotRequested(OptionName::Timeout))
        );
    }

    #[test]
    fn decimal() {
        assert_eq!(parse_decimal(b"0"), Some(0));
        assert_eq!(parse_decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal(b"18446744073709551616"), None);
        assert_eq!(parse_decimal(b""), None);
        assert_eq!(parse_decimal(b" 1"), None);
    }
}
