//! The DHCPv6 lines of the dialect: `dhcp-range` with IPv6 addresses,
//! `dhcp-option=option6:…`, `dhcp-match=…,option6:…` and `ra-param`
//! (dnsmasq 2.90 `option.c`).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::Ipv6Addr;

use super::{At, Builder, OptMode, digits_u32, lease_secs};
use crate::config::{Cond, LeaseTime, MatchRule, MatchSource, Rule};
use crate::config6::{
    Opt6Type, Option6Rule, RaParam, RaPriority, Range6, Range6Modes, Value6Kind, by_code6, by_name6,
};
use crate::error::ParseError;
use crate::lex::{self, Ch};
use crate::tags::TagTest;
use crate::value::{self, TypeCtx, ValueError, ValueKind};

/// The longest DHCPv6 option value a line may give.
const MAX_OPTION6_LEN: usize = 2048;

/// `[addr]` or a bare address.
fn ipv6_field(t: &str) -> Option<Ipv6Addr> {
    let inner = t
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(t);
    inner.parse().ok()
}

impl Builder<'_> {
    /// An IPv6 `dhcp-range` (the caller saw a `:` in the first address).
    pub(super) fn range6(&mut self, v: &[Ch], at: &At<'_>, col0: u32) -> Result<Rule, ParseError> {
        // Leading fields that are not addresses are conditions or the one
        // tag to set, in any order (as for IPv4 ranges).
        let mut cond = Vec::new();
        let mut set = None;
        let mut rest = v;
        loop {
            let (f, next) = lex::split(rest);
            match next {
                Some(n) if !addr_like(f) => {
                    let t = lex::text(f);
                    let c = lex::col(f, col0);
                    if let Some(name) = t.strip_prefix("tag:").or_else(|| t.strip_prefix("net:")) {
                        cond.push(self.cond_item(name, at, c)?);
                    } else {
                        if set.is_some() {
                            return Err(at.bad(c, "only one tag allowed"));
                        }
                        let name = t.strip_prefix("set:").unwrap_or(&t);
                        set = Some(self.intern(name, at, c)?);
                    }
                    rest = n;
                }
                _ => break,
            }
        }
        let cond = Cond(cond);
        let fields = lex::split_all(rest);
        let fc = |k: usize| fields.get(k).map_or(col0, |f| lex::col(f, col0));
        let a0 = lex::text(fields[0]);
        let start: Ipv6Addr = a0
            .parse()
            .map_err(|_| at.bad(fc(0), format!("`{a0}` is not an IPv6 address")))?;
        let mut r = Range6 {
            cond,
            set,
            start,
            end: start,
            end_given: false,
            constructor: None,
            modes: Range6Modes::default(),
            prefix_len: 64,
            prefix_given: false,
            lease: None,
            deprecated: false,
        };
        let mut pos = 1;
        while let Some(f) = fields.get(pos) {
            let t = lex::text(f);
            let m = &mut r.modes;
            match t.as_str() {
                "static" => m.static_only = true,
                "ra-only" => m.ra_only = true,
                "slaac" => {
                    m.ra_only = true;
                    m.slaac = true;
                }
                "ra-names" => m.ra_names = true,
                "ra-stateless" => m.ra_stateless = true,
                "ra-advrouter" => m.ra_advrouter = true,
                "off-link" => m.off_link = true,
                _ if pos == 1 && t.contains(':') && !t.starts_with("constructor:") => {
                    r.end = t
                        .parse()
                        .map_err(|_| at.bad(fc(1), format!("`{t}` is not an IPv6 address")))?;
                    r.end_given = true;
                }
                _ => match t.strip_prefix("constructor:") {
                    Some("") => return Err(at.bad(fc(pos), "constructor: needs an interface")),
                    Some(ifn) => r.constructor = Some(ifn.to_string()),
                    None => break,
                },
            }
            pos += 1;
        }
        if let Some(f) = fields.get(pos) {
            let t = lex::text(f);
            if let Some(n) = digits_u32(&t).filter(|n| *n <= 128) {
                r.prefix_len = n as u8;
                r.prefix_given = true;
                pos += 1;
            }
        }
        self.check_range6(&mut r, at, fc(0))?;
        if let Some(f) = fields.get(pos) {
            let t = lex::text(f);
            match t.as_str() {
                "infinite" => r.lease = Some(LeaseTime::Infinite),
                "deprecated" => r.deprecated = true,
                _ => match lease_secs(&t) {
                    Some(s) => r.lease = Some(LeaseTime::Secs(s.max(120))),
                    None => {
                        return Err(at.bad(fc(pos), format!("`{t}` is not a lease time")));
                    }
                },
            }
            pos += 1;
        }
        if pos < fields.len() {
            return Err(at.bad(fc(pos), "unexpected field after the lease time"));
        }
        Ok(Rule::Range6(r))
    }

    /// dnsmasq's consistency checks of an IPv6 range.
    fn check_range6(&self, r: &mut Range6, at: &At<'_>, col: u32) -> Result<(), ParseError> {
        let ra = r.modes.ra_only || r.modes.ra_names || r.modes.ra_stateless;
        if r.prefix_len > 64 && ra {
            return Err(at.bad(col, "prefix length must be exactly 64 for RA subnets"));
        }
        if r.prefix_len > 64 && r.constructor.is_some() {
            return Err(at.bad(
                col,
                "prefix length must be exactly 64 for subnet constructors",
            ));
        }
        if r.prefix_len < 64 {
            return Err(at.bad(col, "prefix length must be at least 64"));
        }
        let host = u128::MAX >> r.prefix_len;
        let (s, e) = (u128::from(r.start), u128::from(r.end));
        if s & !host != e & !host {
            return Err(at.bad(col, "inconsistent DHCPv6 range"));
        }
        if r.constructor.is_some() && s & !host != 0 {
            return Err(at.bad(col, "prefix must be zero with \"constructor:\" argument"));
        }
        if s > e {
            core::mem::swap(&mut r.start, &mut r.end);
        }
        Ok(())
    }

    /// `dhcp-option[-force]` / `dhcp-match` with an `option6:` field.
    pub(super) fn parse_opt6(
        &mut self,
        v: &[Ch],
        at: &At<'_>,
        col0: u32,
        mode: OptMode,
    ) -> Result<Rule, ParseError> {
        let mut cond = Vec::new();
        let mut rest = Some(v);
        let mut found: Option<(u16, Option<String>, Opt6Type, u32)> = None;
        let mut value: &[Ch] = &[];
        while let Some(r) = rest {
            let (f, next) = lex::split(r);
            let t = lex::text(f);
            let c = lex::col(f, col0);
            if let Some(o) = t.strip_prefix("option6:") {
                found = Some(self.option6_code(o, at, c, mode)?);
                value = next.unwrap_or(&[]);
                break;
            }
            if t.starts_with("vendor:") || t.starts_with("encap:") || t.starts_with("vi-encap:") {
                return Err(at.bad(c, "encapsulated DHCPv6 options are not supported"));
            }
            let n = t
                .strip_prefix("tag:")
                .or_else(|| t.strip_prefix("net:"))
                .or_else(|| t.strip_prefix("set:"))
                .unwrap_or(&t);
            if mode == OptMode::Match {
                cond.push(TagTest {
                    tag: self.intern(n, at, c)?,
                    negated: false,
                });
            } else {
                cond.push(self.cond_item(n, at, c)?);
            }
            rest = next;
        }
        let Some((code, name, ty, code_col)) = found else {
            return Err(at.bad(col0, "no option6:NUMBER or option6:NAME found"));
        };
        let vcol = lex::col(value, code_col);
        if mode == OptMode::Match {
            if cond.len() != 1 {
                return Err(at.bad(col0, "illegal dhcp-match: exactly one tag to set is needed"));
            }
            // Matched as dnsmasq does for DHCPv6: the value is typed as a
            // generic value (numbers one byte unless larger).
            let enc = value::encode(
                value,
                TypeCtx {
                    known: None,
                    for_match: true,
                    encapsulated: true,
                    max_len: MAX_OPTION6_LEN,
                },
            )
            .map_err(|e| at.bad(vcol, value_error(e)))?;
            return Ok(Rule::Match(MatchRule {
                set: cond[0].tag,
                source: MatchSource::Option6(code),
                option_name: name,
                value: (!value.is_empty()).then_some(enc),
                value_src: value.to_vec(),
            }));
        }
        let (bytes, kind, local_at) = encode6(value, ty).map_err(|w| at.bad(vcol, w))?;
        if bytes.len() > MAX_OPTION6_LEN {
            return Err(at.bad(
                vcol,
                format!(
                    "dhcp-option too long ({} bytes, at most {MAX_OPTION6_LEN})",
                    bytes.len()
                ),
            ));
        }
        Ok(Rule::Option6(Option6Rule {
            cond: Cond(cond),
            force: mode == OptMode::Force,
            code,
            name,
            bytes,
            kind,
            local_at,
            value_src: value.to_vec(),
        }))
    }

    /// The code of `option6:NAME|NUMBER`.
    fn option6_code(
        &self,
        o: &str,
        at: &At<'_>,
        c: u32,
        mode: OptMode,
    ) -> Result<(u16, Option<String>, Opt6Type, u32), ParseError> {
        if let Some(n) = digits_u32(o) {
            let code = u16::try_from(n)
                .map_err(|_| at.bad(c, format!("option6:{n} is not a DHCPv6 option (0-65535)")))?;
            let ty = by_code6(code).map_or(Opt6Type::Generic, |e| e.ty);
            return Ok((code, None, ty, c));
        }
        let Some(e) = by_name6(o) else {
            return Err(at.bad(c, format!("unknown DHCPv6 option name `{o}`")));
        };
        if e.internal && mode != OptMode::Match {
            return Err(at.bad(
                c,
                format!("option6 `{o}` is set by the server, not by dhcp-option"),
            ));
        }
        Ok((e.code, Some(o.to_string()), e.ty, c))
    }

    /// `ra-param=IFACE,[mtu:N|off,][high|low,]INTERVAL[,LIFETIME]`.
    pub(super) fn ra_param(&mut self, v: &[Ch], at: &At<'_>, vcol: u32) -> Result<(), ParseError> {
        let fields = lex::split_all(v);
        let fc = |k: usize| fields.get(k).map_or(vcol, |f| lex::col(f, vcol));
        let interface = lex::text(fields[0]);
        if interface.is_empty() || fields.len() < 2 {
            return Err(at.bad(fc(0), "an interface and an interval are needed"));
        }
        let mut p = RaParam {
            interface,
            mtu: None,
            priority: None,
            interval: None,
            lifetime: None,
        };
        let mut k = 1;
        if let Some(m) = fields.get(k).map(|f| lex::text(f))
            && let Some(m) = m.strip_prefix("mtu:")
        {
            p.mtu = Some(match m {
                "off" => 0,
                _ => digits_u32(m)
                    .filter(|n| *n >= 1280)
                    .ok_or_else(|| at.bad(fc(k), format!("`{m}` is not an MTU (1280 or more)")))?,
            });
            k += 1;
        }
        match fields.get(k).map(|f| lex::text(f)).as_deref() {
            Some("high") => {
                p.priority = Some(RaPriority::High);
                k += 1;
            }
            Some("low") => {
                p.priority = Some(RaPriority::Low);
                k += 1;
            }
            _ => {}
        }
        let secs = |k: usize| -> Result<Option<u32>, ParseError> {
            match fields.get(k) {
                None => Ok(None),
                Some(f) => {
                    let t = lex::text(f);
                    lease_secs(&t)
                        .map(Some)
                        .ok_or_else(|| at.bad(fc(k), format!("`{t}` is not a time")))
                }
            }
        };
        p.interval = secs(k)?;
        p.lifetime = secs(k + 1)?;
        if p.interval.is_none() {
            return Err(at.bad(fc(k), "an interval is needed"));
        }
        if k + 2 < fields.len() {
            return Err(at.bad(fc(k + 2), "unexpected field after the router lifetime"));
        }
        self.settings.ra_params.push(p);
        Ok(())
    }
}

/// Whether a field reads as an address (hex digits, dots, colons).
fn addr_like(f: &[Ch]) -> bool {
    f.iter()
        .all(|c| !c.hidden && (c.c == ' ' || c.c == '.' || c.c == ':' || c.c.is_ascii_hexdigit()))
}

/// Whether a `dhcp-range` value's first address field (after the
/// leading tag fields) is an IPv6 address.
pub(super) fn is_range6(v: &[Ch]) -> bool {
    let mut rest = v;
    loop {
        let (f, next) = lex::split(rest);
        match next {
            Some(n) if !addr_like(f) => rest = n,
            _ => return addr_like(f) && f.iter().any(|c| c.c == ':'),
        }
    }
}

/// Whether a `dhcp-option`/`dhcp-match` value names an `option6:`
/// before any DHCPv4 option code.
pub(super) fn is_option6(v: &[Ch]) -> bool {
    for f in lex::split_all(v) {
        let t = lex::text(f);
        if t.starts_with("option6:") {
            return true;
        }
        if t.starts_with("option:") || (!t.is_empty() && t.chars().all(|c| c.is_ascii_digit())) {
            return false;
        }
    }
    false
}

fn value_error(e: ValueError) -> String {
    match e {
        ValueError::BadIp | ValueError::BadIpv4 => "bad IP address".to_string(),
        ValueError::BadHex => "bad hex constant".to_string(),
        ValueError::TooLong(n) => format!("value too long ({n} bytes)"),
        ValueError::BadName => "bad domain name in option value".to_string(),
    }
}

/// Whether dnsmasq's generic classifier reads the value as hex or a
/// number (which then wins over the counted-string encoding).
fn generic_is_number(value: &[Ch]) -> bool {
    value::encode(
        value,
        TypeCtx {
            known: None,
            for_match: false,
            encapsulated: true,
            max_len: MAX_OPTION6_LEN,
        },
    )
    .is_ok_and(|e| matches!(e.kind, ValueKind::Hex | ValueKind::Int))
}

type Encoded6 = (Vec<u8>, Value6Kind, Vec<u16>);

/// Types and encodes an `option6:` value (`parse_dhcp_opt` with
/// `DHOPT_V6`): addresses in brackets, counted strings, names, text, or
/// dnsmasq's generic hex/decimal/text classification.
fn encode6(value: &[Ch], ty: Opt6Type) -> Result<Encoded6, String> {
    let mut out = Vec::new();
    if value.is_empty() {
        return Ok((out, Value6Kind::Empty, Vec::new()));
    }
    let txt = lex::text(value);
    let starts_bracket = value.first().is_some_and(|c| c.c == '[' && !c.hidden);
    match ty {
        Opt6Type::AddrList => return addr6_list(value),
        Opt6Type::Generic if starts_bracket => return addr6_list(value),
        Opt6Type::Name => {
            out.extend_from_slice(txt.as_bytes());
            return Ok((out, Value6Kind::Text, Vec::new()));
        }
        Opt6Type::CString if !generic_is_number(value) => {
            for f in lex::split_all(value) {
                let s = lex::text(f);
                let n = u16::try_from(s.len()).map_err(|_| "string too long".to_string())?;
                out.extend_from_slice(&n.to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            return Ok((out, Value6Kind::CountedStrings, Vec::new()));
        }
        Opt6Type::Rfc1035 => {
            for f in lex::split_all(value) {
                let s = lex::text(f);
                for label in s.trim_end_matches('.').split('.').filter(|l| !l.is_empty()) {
                    if label.len() > 63 {
                        return Err(format!("label `{label}` is longer than 63"));
                    }
                    out.push(label.len() as u8);
                    out.extend_from_slice(label.as_bytes());
                }
                out.push(0);
            }
            return Ok((out, Value6Kind::Names, Vec::new()));
        }
        Opt6Type::Time => {
            let secs = lease_secs(&txt).ok_or_else(|| format!("`{txt}` is not a time"))?;
            out.extend_from_slice(&secs.to_be_bytes());
            return Ok((out, Value6Kind::Int, Vec::new()));
        }
        Opt6Type::CString | Opt6Type::Dec | Opt6Type::Generic => {}
    }
    let enc = value::encode(
        value,
        TypeCtx {
            known: None,
            for_match: false,
            encapsulated: true,
            max_len: MAX_OPTION6_LEN,
        },
    )
    .map_err(value_error)?;
    let kind = match enc.kind {
        ValueKind::Empty => Value6Kind::Empty,
        ValueKind::Hex => Value6Kind::Hex,
        ValueKind::Int | ValueKind::Time => Value6Kind::Int,
        ValueKind::Text | ValueKind::Names => Value6Kind::Text,
        ValueKind::Addr => {
            return Err(
                "an IPv4 address in a DHCPv6 option (write IPv6 addresses as [addr])".into(),
            );
        }
    };
    Ok((enc.bytes, kind, Vec::new()))
}

/// `[a],[b],…`: IPv6 addresses; `[::]` is the server's own address.
fn addr6_list(value: &[Ch]) -> Result<Encoded6, String> {
    let mut out = Vec::new();
    let mut local_at = Vec::new();
    for f in lex::split_all(value) {
        let t = lex::text(f);
        let a = ipv6_field(&t).ok_or_else(|| format!("`{t}` is not an IPv6 address"))?;
        if a.is_unspecified() {
            local_at.push(out.len() as u16);
        }
        out.extend_from_slice(&a.octets());
    }
    Ok((out, Value6Kind::Addr6, local_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chs(s: &str) -> Vec<Ch> {
        s.chars()
            .enumerate()
            .map(|(i, c)| Ch {
                c,
                hidden: false,
                col: i as u32 + 1,
            })
            .collect()
    }

    #[test]
    fn values_are_typed_by_the_option_table() {
        let (b, k, l) = encode6(&chs("[::],[fd00::1]"), Opt6Type::AddrList).unwrap();
        assert_eq!((b.len(), k, l), (32, Value6Kind::Addr6, alloc::vec![0]));
        let (b, k, _) = encode6(&chs("a,bc"), Opt6Type::CString).unwrap();
        assert_eq!(
            (b, k),
            (
                alloc::vec![0, 1, b'a', 0, 2, b'b', b'c'],
                Value6Kind::CountedStrings
            )
        );
        let (b, _, _) = encode6(&chs("tftp://[fd00::1]/x"), Opt6Type::Name).unwrap();
        assert_eq!(b, b"tftp://[fd00::1]/x");
        let (b, k, _) = encode6(&chs("01:02"), Opt6Type::Generic).unwrap();
        assert_eq!((b, k), (alloc::vec![1, 2], Value6Kind::Hex));
        assert!(encode6(&chs("10.0.0.1"), Opt6Type::Generic).is_err());
        assert!(encode6(&chs("[fd00::zz]"), Opt6Type::AddrList).is_err());
        let (b, _, _) = encode6(&chs("example.com"), Opt6Type::Rfc1035).unwrap();
        assert_eq!(b, b"\x07example\x03com\x00");
    }
}
