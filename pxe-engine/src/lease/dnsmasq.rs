//! dnsmasq's lease-file format (`dhcp-leasefile=`), both ways.
//!
//! One lease per line: `expiry mac ip hostname clientid`, where `expiry`
//! is Unix seconds (`0` = infinite), `mac` is colon-separated hex prefixed
//! by `<htype>-` when the hardware type is not Ethernet, `hostname` and
//! `clientid` are `*` when absent, and `clientid` is colon-separated hex.
//! Lines of other kinds (dnsmasq's IPv6 `duid` line and IPv6 leases) are
//! skipped.
//!
//! ```
//! use pxe_engine::lease::dnsmasq;
//! let text = "1700000000 52:54:00:12:34:56 192.168.2.150 pc1 01:52:54:00:12:34:56\n";
//! let leases: Vec<_> = dnsmasq::parse(text).collect::<Result<_, _>>().unwrap();
//! assert_eq!(leases[0].hostname.as_deref(), Some("pc1"));
//! assert_eq!(dnsmasq::format(leases.iter()), text);
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::net::Ipv4Addr;

use super::{HwAddr, Lease};

/// A malformed lease-file line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub what: &'static str,
}

/// Longest host name or client id a lease can carry (one length byte in
/// the lease log's records).
const MAX_FIELD: usize = 255;

fn parse_hex_list(s: &str) -> Option<Vec<u8>> {
    s.split(':')
        .map(|p| {
            if p.is_empty() || p.len() > 2 {
                None
            } else {
                u8::from_str_radix(p, 16).ok()
            }
        })
        .collect()
}

fn parse_line(line: &str) -> Result<Option<Lease>, &'static str> {
    let mut f = line.split_ascii_whitespace();
    let Some(exp) = f.next() else {
        return Ok(None);
    };
    if exp == "duid" {
        return Ok(None);
    }
    let expires: u64 = exp.parse().map_err(|_| "expiry is not a number")?;
    let mac = f.next().ok_or("missing hardware address")?;
    let ip = f.next().ok_or("missing IP address")?;
    if ip.contains(':') {
        return Ok(None); // IPv6 lease
    }
    let addr: Ipv4Addr = ip.parse().map_err(|_| "bad IPv4 address")?;
    let (htype, hex) = match mac.split_once('-') {
        Some((t, rest)) => (
            u8::from_str_radix(t, 16).map_err(|_| "bad hardware type")?,
            rest,
        ),
        None => (HwAddr::ETHERNET, mac),
    };
    let bytes = if hex.is_empty() || hex == "*" {
        Vec::new()
    } else {
        parse_hex_list(hex).ok_or("bad hardware address")?
    };
    let hw = HwAddr::new(htype, &bytes).ok_or("hardware address over 16 bytes")?;
    // The lease log stores both with a one-byte length: longer ones would
    // be read here and then fail every compaction of the log.
    let hostname = match f.next() {
        None | Some("*") => None,
        Some(h) if h.len() > MAX_FIELD => return Err("host name over 255 bytes"),
        Some(h) => Some(String::from(h)),
    };
    let client_id = match f.next() {
        None | Some("*") => None,
        Some(c) => {
            let c = parse_hex_list(c).ok_or("bad client id")?;
            if c.len() > MAX_FIELD {
                return Err("client id over 255 bytes");
            }
            Some(c)
        }
    };
    Ok(Some(Lease {
        addr,
        hw,
        client_id,
        hostname,
        expires,
    }))
}

/// Parse a dnsmasq lease file; yields one item per IPv4 lease line.
pub fn parse(text: &str) -> impl Iterator<Item = Result<Lease, ParseError>> + '_ {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| match parse_line(l) {
            Ok(Some(x)) => Some(Ok(x)),
            Ok(None) => None,
            Err(what) => Some(Err(ParseError { line: i + 1, what })),
        })
}

fn push_hex(out: &mut String, b: &[u8]) {
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{x:02x}");
    }
}

/// Format leases as dnsmasq writes its lease file.
pub fn format<'a>(leases: impl Iterator<Item = &'a Lease>) -> String {
    let mut out = String::new();
    for l in leases {
        let _ = write!(out, "{} ", l.expires);
        let hw = l.hw.as_bytes();
        if (l.hw.htype() != HwAddr::ETHERNET || hw.is_empty()) && l.hw.htype() != 0 {
            let _ = write!(out, "{:02x}-", l.hw.htype());
        }
        if hw.is_empty() {
            // Keep the field non-empty so the line still has five fields.
            out.push('*');
        }
        push_hex(&mut out, hw);
        let _ = write!(out, " {} ", l.addr);
        // Whitespace in a name would break the format; dnsmasq only stores
        // valid DNS labels, so replace anything else.
        match &l.hostname {
            Some(h) if !h.is_empty() => {
                for c in h.chars() {
                    out.push(if c.is_ascii_graphic() { c } else { '_' });
                }
            }
            _ => out.push('*'),
        }
        out.push(' ');
        match &l.client_id {
            Some(c) if !c.is_empty() => push_hex(&mut out, c),
            _ => out.push('*'),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_real_dnsmasq_lines() {
        let text = "1732480000 52:54:00:aa:bb:cc 192.168.2.157 * 01:52:54:00:aa:bb:cc\n\
                    0 06-00:11:22:33:44:55 192.168.2.158 host-b *\n\
                    duid 00:01:00:01:2c:5e:00:00:52:54:00:aa:bb:cc\n\
                    1732480000 1234 fd00::5 * 00:01\n";
        let l: Vec<_> = parse(text).collect::<Result<_, _>>().unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(
            l[0].client_id.as_deref(),
            Some(&[1, 0x52, 0x54, 0, 0xaa, 0xbb, 0xcc][..])
        );
        assert_eq!(l[1].hw.htype(), 6);
        assert_eq!(l[1].expires, 0);
        let back = format(l.iter());
        assert_eq!(back.lines().count(), 2);
        assert!(back.contains("0 06-00:11:22:33:44:55 192.168.2.158 host-b *"));
    }

    #[test]
    fn reports_bad_lines() {
        let e = parse("x 52:54:00:aa:bb:cc 1.2.3.4 * *\n")
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(
            e,
            ParseError {
                line: 1,
                what: "expiry is not a number"
            }
        );
        let e = parse("\n1 zz 1.2.3.4 * *\n").next().unwrap().unwrap_err();
        assert_eq!(e.line, 2);
        // Fields the lease log cannot store are refused at the line, not
        // left to fail every later compaction.
        let cid = ["01"; 256].join(":");
        let e = parse(&alloc::format!("1 52:54:00:aa:bb:cc 1.2.3.4 * {cid}\n"))
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(e.what, "client id over 255 bytes");
        let name = "h".repeat(256);
        let e = parse(&alloc::format!("1 52:54:00:aa:bb:cc 1.2.3.4 {name} *\n"))
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(e.what, "host name over 255 bytes");
        let cid = ["01"; 255].join(":");
        let name = "h".repeat(255);
        let l = parse(&alloc::format!(
            "1 52:54:00:aa:bb:cc 1.2.3.4 {name} {cid}\n"
        ))
        .next()
        .unwrap()
        .unwrap();
        let mut buf = [0u8; super::super::record::MAX_RECORD];
        assert!(
            super::super::record::encode(&super::super::LeaseChange::Grant(l), &mut buf).is_ok()
        );
    }
}
