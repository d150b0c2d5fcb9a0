//! Option values as dnsmasq's `log-dhcp` prints them (`option.c:
//! option_string`), typed by dnsmasq's option table.

use crate::value::{OptType, by_code};

/// An option's value as dnsmasq's `log-dhcp` prints it (`option.c:
/// option_string`): addresses joined by `", "`, printable text, a number,
/// a time (`1h`, `52m30s`, `infinite`), else hex bytes joined by `:`,
/// cut after 14 with `...`. Formatting allocates nothing.
///
/// ```
/// use pxe_rules::option_text;
///
/// assert_eq!(option_text(54, &[192, 168, 77, 1]).to_string(), "192.168.77.1");
/// assert_eq!(option_text(59, &3150u32.to_be_bytes()).to_string(), "52m30s");
/// assert_eq!(option_text(67, b"undionly.kpxe\0").to_string(), "undionly.kpxe");
/// assert_eq!(option_text(53, &[2]).to_string(), "2");
/// assert_eq!(option_text(60, b"PXEClient").to_string(), "50:58:45:43:6c:69:65:6e:74");
/// ```
pub fn option_text(code: u8, value: &[u8]) -> OptionText<'_> {
    OptionText {
        ty: by_code(code).map(|e| e.ty),
        value,
    }
}

/// See [`option_text`].
#[derive(Debug, Clone, Copy)]
pub struct OptionText<'a> {
    ty: Option<OptType>,
    value: &'a [u8],
}

impl core::fmt::Display for OptionText<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let v = self.value;
        match self.ty {
            Some(OptType::AddrList) => {
                for (i, a) in v.chunks_exact(4).enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}.{}.{}.{}", a[0], a[1], a[2], a[3])?;
                }
                Ok(())
            }
            Some(OptType::Name) => {
                for &c in v.iter().filter(|c| c.is_ascii_graphic() || **c == b' ') {
                    write!(f, "{}", char::from(c))?;
                }
                Ok(())
            }
            Some(OptType::Time) if !v.is_empty() => pretty_time(f, be_uint(v)),
            Some(OptType::Int(_)) if !v.is_empty() => write!(f, "{}", be_uint(v)),
            _ => hex_cut(f, v),
        }
    }
}

/// The big-endian number in `v` (dnsmasq folds any length into 32 bits).
fn be_uint(v: &[u8]) -> u32 {
    v.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b))
}

/// dnsmasq's `prettyprint_time`: `1d2h3m4s`, parts that are zero left out.
fn pretty_time(f: &mut core::fmt::Formatter<'_>, t: u32) -> core::fmt::Result {
    if t == u32::MAX {
        return f.write_str("infinite");
    }
    for (n, unit) in [
        (t / 86400, 'd'),
        ((t / 3600) % 24, 'h'),
        ((t / 60) % 60, 'm'),
        (t % 60, 's'),
    ] {
        if n != 0 {
            write!(f, "{n}{unit}")?;
        }
    }
    Ok(())
}

/// Hex bytes joined by `:`, the first 14 only, then `...`.
fn hex_cut(f: &mut core::fmt::Formatter<'_>, v: &[u8]) -> core::fmt::Result {
    for (i, b) in v.iter().take(14).enumerate() {
        if i > 0 {
            f.write_str(":")?;
        }
        write!(f, "{b:02x}")?;
    }
    if v.len() > 14 {
        f.write_str("...")?;
    }
    Ok(())
}
