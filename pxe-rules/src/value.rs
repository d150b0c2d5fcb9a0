//! Option names (`dhcp-common.c: opttab`) and value typing (whether a
//! value is addresses, a number, hex bytes or text, decided from the
//! characters it contains), as `option.c: parse_dhcp_opt` decides them, and
//! MAC/hex patterns (`util.c: parse_hex`).

use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use crate::lex::Ch;

/// Type flags of a known option (`dhcp-common.c: opttab`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OptType {
    /// A list of IPv4 addresses.
    AddrList,
    /// Text (no NUL on the wire).
    Name,
    /// RFC 1035 encoded names (119; 15 is plain text in dnsmasq's table).
    Rfc1035,
    /// SIP servers (120, RFC 3361): an encoding byte, then addresses (1)
    /// or RFC 1035 names (0).
    SipServers,
    /// Seconds, 4 bytes, with s/m/h/d/w suffixes.
    Time,
    /// A fixed-size integer of this many bytes.
    Int(u8),
    /// No particular type.
    Raw,
}

/// One entry of dnsmasq's option table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OptInfo {
    pub(crate) code: u8,
    pub(crate) name: &'static str,
    pub(crate) ty: OptType,
    /// Refused by `dhcp-option`, accepted by `dhcp-match`.
    pub(crate) internal: bool,
}

const fn o(code: u8, name: &'static str, ty: OptType) -> OptInfo {
    OptInfo {
        code,
        name,
        ty,
        internal: false,
    }
}
const fn i(code: u8, name: &'static str, ty: OptType) -> OptInfo {
    OptInfo {
        code,
        name,
        ty,
        internal: true,
    }
}

use OptType::{AddrList as A, Int, Name as N, Raw as R, Rfc1035, SipServers, Time as T};

/// dnsmasq 2.90's IPv4 option table.
pub(crate) static OPTTAB: &[OptInfo] = &[
    i(1, "netmask", A),
    o(2, "time-offset", Int(4)),
    o(3, "router", A),
    o(6, "dns-server", A),
    o(7, "log-server", A),
    o(9, "lpr-server", A),
    i(12, "hostname", N),
    o(13, "boot-file-size", Int(2)),
    o(15, "domain-name", N),
    o(16, "swap-server", A),
    o(17, "root-path", N),
    o(18, "extension-path", N),
    o(19, "ip-forward-enable", Int(1)),
    o(20, "non-local-source-routing", Int(1)),
    o(21, "policy-filter", A),
    o(22, "max-datagram-reassembly", Int(2)),
    o(23, "default-ttl", Int(1)),
    o(26, "mtu", Int(2)),
    o(27, "all-subnets-local", Int(1)),
    i(28, "broadcast", A),
    o(31, "router-discovery", Int(1)),
    o(32, "router-solicitation", A),
    o(33, "static-route", A),
    o(34, "trailer-encapsulation", Int(1)),
    o(35, "arp-timeout", Int(4)),
    o(36, "ethernet-encap", Int(1)),
    o(37, "tcp-ttl", Int(1)),
    o(38, "tcp-keepalive", Int(4)),
    o(40, "nis-domain", N),
    o(41, "nis-server", A),
    o(42, "ntp-server", A),
    i(43, "vendor-encap", R),
    o(44, "netbios-ns", A),
    o(45, "netbios-dd", A),
    o(46, "netbios-nodetype", Int(1)),
    o(47, "netbios-scope", R),
    o(48, "x-windows-fs", A),
    o(49, "x-windows-dm", A),
    i(50, "requested-address", A),
    i(51, "lease-time", T),
    i(52, "option-overload", R),
    i(53, "message-type", Int(1)),
    i(54, "server-identifier", A),
    i(55, "parameter-request", R),
    i(56, "message", R),
    i(57, "max-message-size", R),
    o(58, "T1", T),
    o(59, "T2", T),
    o(60, "vendor-class", R),
    i(61, "client-id", R),
    o(64, "nis+-domain", N),
    o(65, "nis+-server", A),
    o(66, "tftp-server", N),
    o(67, "bootfile-name", N),
    o(68, "mobile-ip-home", A),
    o(69, "smtp-server", A),
    o(70, "pop3-server", A),
    o(71, "nntp-server", A),
    o(74, "irc-server", A),
    o(77, "user-class", R),
    o(80, "rapid-commit", R),
    i(81, "FQDN", R),
    i(82, "agent-id", R),
    o(93, "client-arch", Int(2)),
    o(94, "client-interface-id", R),
    o(97, "client-machine-id", R),
    o(100, "posix-timezone", N),
    o(101, "tzdb-timezone", N),
    o(108, "ipv6-only", Int(4)),
    i(118, "subnet-select", R),
    o(119, "domain-search", Rfc1035),
    o(120, "sip-server", SipServers),
    o(121, "classless-static-route", R),
    o(125, "vendor-id-encap", R),
    o(150, "tftp-server-address", A),
    o(255, "server-ip-address", A),
];

/// Looks up an option by number.
pub(crate) fn by_code(code: u8) -> Option<&'static OptInfo> {
    OPTTAB.iter().find(|e| e.code == code)
}

/// Looks up an option by name (case-insensitive).
pub(crate) fn by_name(name: &str) -> Option<&'static OptInfo> {
    OPTTAB.iter().find(|e| e.name.eq_ignore_ascii_case(name))
}

/// The name dnsmasq prints for an option number, if it has one.
pub fn option_name(code: u8) -> Option<&'static str> {
    by_code(code).map(|e| e.name)
}

/// PXE Client System Architecture names (`option.c` CSA table).
pub(crate) static CSA: &[(&str, u16)] = &[
    ("x86PC", 0),
    ("PC98", 1),
    ("IA64_EFI", 2),
    ("Alpha", 3),
    ("Arc_x86", 4),
    ("Intel_Lean_Client", 5),
    ("IA32_EFI", 6),
    ("x86-64_EFI", 7),
    ("Xscale_EFI", 8),
    ("BC_EFI", 9),
    ("ARM32_EFI", 10),
    ("ARM64_EFI", 11),
];

/// dnsmasq's name for a client system architecture, if it has one.
pub fn csa_name(arch: u16) -> Option<&'static str> {
    CSA.iter().find(|(_, v)| *v == arch).map(|(n, _)| *n)
}

/// How a value was typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// No value: a zero-length option (or "present" for `dhcp-match`).
    Empty,
    /// Colon-separated hex bytes.
    Hex,
    /// A big-endian integer.
    Int,
    /// IPv4 addresses (and RFC 3442 `a.b.c.d/n` descriptors).
    Addr,
    /// Text bytes.
    Text,
    /// RFC 1035 encoded domain names (option 119).
    Names,
    /// Seconds (T1/T2, lease time).
    Time,
}

/// A typed, wire-encoded option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The bytes on the wire.
    pub bytes: Vec<u8>,
    /// How the text was classified.
    pub kind: ValueKind,
    /// Per-byte "wildcard" flags (only `dhcp-match` hex patterns with `*`).
    pub wildcard: Vec<bool>,
    /// Byte offsets of `0.0.0.0` addresses that mean "the server's address".
    pub local_at: Vec<u16>,
}

/// Value typing failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ValueError {
    BadIp,
    BadIpv4,
    BadHex,
    TooLong(usize),
    BadName,
}

/// Context for value typing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TypeCtx {
    /// The option's known type, when dnsmasq consults its table.
    pub(crate) known: Option<OptType>,
    /// `dhcp-match`: `*` allowed in hex.
    pub(crate) for_match: bool,
    /// `encap:`/`vendor:`/`vi-encap:` line: no `0.0.0.0` substitution.
    pub(crate) encapsulated: bool,
    /// Maximum encoded length.
    pub(crate) max_len: usize,
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

/// Types and encodes an option value (`parse_dhcp_opt`, after the code).
pub(crate) fn encode(value: &[Ch], cx: TypeCtx) -> Result<Encoded, ValueError> {
    let mut out = Encoded {
        bytes: Vec::new(),
        kind: ValueKind::Empty,
        wildcard: Vec::new(),
        local_at: Vec::new(),
    };
    if value.is_empty() {
        return Ok(out);
    }
    let (mut is_addr, mut is_hex, mut is_dec) = (true, true, true);
    let mut found_dig = false;
    let mut digs = 1usize;
    let mut dots = 0usize;
    let mut lenchar: Option<char> = None;
    let n = value.len();
    for (idx, ch) in value.iter().enumerate() {
        let c = if ch.hidden { '\u{1}' } else { ch.c };
        match c {
            ',' => {
                is_dec = false;
                is_hex = false;
            }
            ':' => {
                digs += 1;
                is_dec = false;
                is_addr = false;
            }
            '/' => {
                is_dec = false;
                is_hex = false;
                if idx == 0 {
                    is_addr = false;
                }
            }
            '.' => {
                is_dec = false;
                is_hex = false;
                dots += 1;
            }
            '-' => {
                is_hex = false;
                is_addr = false;
            }
            ' ' => {
                is_dec = false;
                is_hex = false;
            }
            c if is_digit(c) => found_dig = true,
            c => {
                is_addr = false;
                if idx + 1 == n && is_dec && matches!(c, 'b' | 's' | 'i') {
                    lenchar = Some(c);
                } else {
                    is_dec = false;
                }
                if !(c.is_ascii_hexdigit() || (c == '*' && cx.for_match)) {
                    is_hex = false;
                }
            }
        }
    }
    if !found_dig {
        is_dec = false;
        is_addr = false;
    }
    let mut is_string = true;
    match cx.known {
        Some(OptType::AddrList) => {
            is_string = false;
            is_dec = false;
            is_hex = false;
            if !is_addr || dots == 0 {
                return Err(ValueError::BadIp);
            }
        }
        Some(OptType::Name) | Some(OptType::Rfc1035) => {
            is_addr = false;
            is_dec = false;
            is_hex = false;
        }
        _ => {}
    }
    let txt: String = value.iter().map(|c| c.c).collect();
    if found_dig && cx.known == Some(OptType::Time) {
        out.kind = ValueKind::Time;
        let t = parse_time(&txt);
        out.bytes.extend_from_slice(&t.to_be_bytes());
    } else if is_hex && digs > 1 {
        out.kind = ValueKind::Hex;
        parse_hex_into(&txt, digs, &mut out.bytes, Some(&mut out.wildcard))
            .ok_or(ValueError::BadHex)?;
        if !out.wildcard.iter().any(|w| *w) {
            out.wildcard.clear();
        }
    } else if is_dec {
        out.kind = ValueKind::Int;
        let digits: String = txt.chars().take_while(|c| is_digit(*c)).collect();
        let val = atoi(&digits);
        let mut len = match cx.known {
            Some(OptType::Int(w)) => usize::from(w),
            _ if val & 0xffff_0000 != 0 => 4,
            _ if val & 0xff00 != 0 => 2,
            _ => 1,
        };
        match lenchar {
            Some('b') => len = 1,
            Some('s') => len = 2,
            Some('i') => len = 4,
            _ => {}
        }
        for k in 0..len {
            let shift = (len - k - 1) * 8;
            out.bytes
                .push(if shift >= 32 { 0 } else { (val >> shift) as u8 });
        }
    } else if is_addr {
        out.kind = ValueKind::Addr;
        // RFC 3361 (as dnsmasq: top level only): encoding byte 1, and the
        // addresses are taken as written (no `0.0.0.0` = local).
        let sip = cx.known == Some(OptType::SipServers) && !cx.encapsulated;
        if sip {
            out.bytes.push(1);
        }
        for part in txt.split(',') {
            let part = part.trim_matches(' ');
            let (addr, slash) = match part.split_once('/') {
                Some((a, s)) => (a, Some(s)),
                None => (part, None),
            };
            let ip: Ipv4Addr = addr.parse().map_err(|_| ValueError::BadIpv4)?;
            match slash {
                None => {
                    if ip.is_unspecified() && !cx.encapsulated && !sip {
                        out.local_at.push(out.bytes.len() as u16);
                    }
                    out.bytes.extend_from_slice(&ip.octets());
                }
                Some(s) => {
                    let netsize = atoi(s.trim()) as usize;
                    out.bytes.push(netsize as u8);
                    let take = netsize.div_ceil(8);
                    out.bytes.extend(ip.octets().iter().take(take.min(4)));
                }
            }
        }
    } else if is_string {
        if cx.known == Some(OptType::Rfc1035) {
            out.kind = ValueKind::Names;
            encode_names(&txt, &mut out.bytes)?;
        } else if cx.known == Some(OptType::SipServers) && !cx.encapsulated {
            // RFC 3361: encoding byte 0, then the names; compression
            // pointers count from the first name, not the encoding byte.
            out.kind = ValueKind::Names;
            let mut names = Vec::new();
            encode_names(&txt, &mut names)?;
            out.bytes.push(0);
            out.bytes.extend_from_slice(&names);
        } else {
            out.kind = ValueKind::Text;
            out.bytes.extend_from_slice(txt.as_bytes());
        }
    }
    if out.bytes.len() > cx.max_len {
        return Err(ValueError::TooLong(out.bytes.len()));
    }
    Ok(out)
}

/// `atoi` as glibc does it for the values dnsmasq reads: `strtol` clamps
/// to the 64-bit range, then the result is truncated to 32 bits.
pub(crate) fn atoi(s: &str) -> u32 {
    let mut v: u64 = 0;
    for c in s.chars().take_while(|c| c.is_ascii_digit()) {
        v = v
            .saturating_mul(10)
            .saturating_add(u64::from(c as u8 - b'0'));
    }
    let v = v.min(i64::MAX as u64);
    v as u32
}

/// Seconds with an optional s/m/h/d/w suffix (case-insensitive).
fn parse_time(s: &str) -> u32 {
    let n = atoi(s);
    let mult = match s.chars().last().map(|c| c.to_ascii_lowercase()) {
        Some('m') => 60,
        Some('h') => 3600,
        Some('d') => 86400,
        Some('w') => 604_800,
        _ => 1,
    };
    n.wrapping_mul(mult)
}

/// `util.c: parse_hex`: groups separated by `:` (or `-`/space), each group
/// two hex digits per byte, `*` a whole wildcard octet. At most `maxlen`
/// bytes. `None` on a bad digit or a `*` mixed with digits.
pub(crate) fn parse_hex_into(
    s: &str,
    maxlen: usize,
    out: &mut Vec<u8>,
    mut wildcard: Option<&mut Vec<bool>>,
) -> Option<()> {
    for group in s.split([':', '-', ' ']) {
        if out.len() >= maxlen {
            break;
        }
        if group.is_empty() {
            continue;
        }
        if group == "*" {
            wildcard.as_mut()?.push(true);
            out.push(0);
            continue;
        }
        if !group.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let b = group.as_bytes();
        let nbytes = b.len().div_ceil(2);
        for j in 0..nbytes {
            let chunk = &b[j * 2..(j * 2 + 2).min(b.len())];
            let v = u8::from_str_radix(core::str::from_utf8(chunk).ok()?, 16).ok()?;
            out.push(v);
            if let Some(w) = wildcard.as_mut() {
                w.push(false);
            }
            if out.len() >= maxlen {
                break;
            }
        }
    }
    Some(())
}

/// RFC 1035 name list with suffix compression (option 119, RFC 3397).
fn encode_names(s: &str, out: &mut Vec<u8>) -> Result<(), ValueError> {
    // (offset of a name suffix in `out`, the suffix text)
    let mut seen: Vec<(usize, String)> = Vec::new();
    for name in s.split(',') {
        let name = name.trim_matches(' ').trim_end_matches('.');
        let labels: Vec<&str> = if name.is_empty() {
            Vec::new()
        } else {
            name.split('.').collect()
        };
        let mut k = 0;
        loop {
            if k == labels.len() {
                out.push(0);
                break;
            }
            let suffix = labels[k..].join(".").to_ascii_lowercase();
            if let Some((off, _)) = seen.iter().find(|(_, t)| *t == suffix)
                && *off < 0x4000
            {
                out.push(0xc0 | (*off >> 8) as u8);
                out.push(*off as u8);
                break;
            }
            let label = labels[k];
            if label.is_empty() || label.len() > 63 {
                return Err(ValueError::BadName);
            }
            seen.push((out.len(), suffix));
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
            k += 1;
        }
    }
    Ok(())
}

/// A hardware address pattern `[TT-]HH:HH:...` with `*` wildcard octets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacPattern {
    /// ARP hardware type, 0 = any.
    pub htype: u8,
    /// Octets (wildcards are stored as 0).
    pub bytes: Vec<u8>,
    /// Per-octet wildcard flags.
    pub wildcard: Vec<bool>,
}

impl MacPattern {
    /// Parses a pattern as `dhcp-mac`/`dhcp-host` write it.
    pub fn parse(s: &str) -> Option<Self> {
        let (htype, rest) = match s.split_once('-') {
            // A type prefix only when it comes before the first colon.
            Some((t, r)) if !t.contains(':') && !t.is_empty() && t.len() <= 2 => {
                (u8::from_str_radix(t, 16).ok()?, r)
            }
            _ => (0, s),
        };
        let mut bytes = Vec::new();
        let mut wildcard = Vec::new();
        parse_hex_into(rest, 16, &mut bytes, Some(&mut wildcard))?;
        if bytes.is_empty() {
            return None;
        }
        Some(Self {
            htype,
            bytes,
            wildcard,
        })
    }

    /// Whether a request's `htype`/`chaddr` match (`memcmp_masked`).
    pub fn matches(&self, htype: u8, chaddr: &[u8]) -> bool {
        chaddr.len() == self.bytes.len()
            && (self.htype == 0 || self.htype == htype)
            && self
                .bytes
                .iter()
                .zip(chaddr)
                .zip(self.wildcard.iter())
                .all(|((p, c), w)| *w || p == c)
    }

    /// Number of literal (non-wildcard) octets.
    pub fn literal_octets(&self) -> usize {
        self.wildcard.iter().filter(|w| !**w).count()
    }

    /// Whether the pattern has wildcards.
    pub fn has_wildcard(&self) -> bool {
        self.wildcard.iter().any(|w| *w)
    }
}

impl core::fmt::Display for MacPattern {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.htype != 0 {
            write!(f, "{:02x}-", self.htype)?;
        }
        for (k, (b, w)) in self.bytes.iter().zip(self.wildcard.iter()).enumerate() {
            if k > 0 {
                f.write_str(":")?;
            }
            if *w {
                f.write_str("*")?;
            } else {
                write!(f, "{b:02x}")?;
            }
        }
        if self.bytes.len() == 1 {
            // A one-octet pattern keeps a colon so it still reads as hex.
            f.write_str(":")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lex::lex_line;

    fn enc(
        v: &str,
        known: Option<OptType>,
        for_match: bool,
        encapsulated: bool,
    ) -> Result<Encoded, ValueError> {
        let line = lex_line(&alloc::format!("x={v}")).ok().flatten();
        let chs = line.and_then(|l| l.value).unwrap_or_default();
        encode(
            &chs,
            TypeCtx {
                known,
                for_match,
                encapsulated,
                max_len: 255,
            },
        )
    }
    fn bytes(v: &str, code: u8) -> Vec<u8> {
        enc(v, by_code(code).map(|e| e.ty), false, false)
            .map(|e| e.bytes)
            .unwrap_or_else(|e| panic!("{v}: {e:?}"))
    }

    #[test]
    fn spec_table_3_2() {
        assert_eq!(bytes("pxelinux.cfg/default", 209), b"pxelinux.cfg/default");
        assert_eq!(
            bytes("http://192.168.2.1:81/", 210),
            b"http://192.168.2.1:81/"
        );
        assert_eq!(bytes("f1:00:74:7e", 208), [0xf1, 0, 0x74, 0x7e]);
        assert_eq!(bytes("30i", 211), [0, 0, 0, 30]);
        assert_eq!(bytes("30", 211), [30]);
        assert_eq!(bytes("1.2.3.4", 66), b"1.2.3.4");
        assert_eq!(bytes("1.2.3.4", 224), [1, 2, 3, 4]);
        assert_eq!(bytes("\"1.2.3.4\"", 224), b"1.2.3.4");
        assert_eq!(bytes("abcd", 224), b"abcd");
        assert_eq!(bytes("12:34", 224), [0x12, 0x34]);
        assert_eq!(bytes("300", 224), [1, 0x2c]);
        assert_eq!(bytes("1500", 26), [5, 0xdc]);
        assert_eq!(bytes("10m", 58), [0, 0, 2, 0x58]);
        assert_eq!(bytes("ff", 224), b"ff");
        assert_eq!(bytes("a0", 224), b"a0");
        assert_eq!(bytes("1.2.3.a", 224), b"1.2.3.a");
        assert_eq!(bytes("10.0.0.0/8,10.0.0.1", 121), [8, 10, 10, 0, 0, 1]);
        assert_eq!(bytes("70000", 224), [0, 1, 0x11, 0x70]);
        assert_eq!(enc("1,2", None, false, false), Err(ValueError::BadIpv4));
        assert_eq!(
            enc("abc", Some(OptType::AddrList), false, false),
            Err(ValueError::BadIp)
        );
    }

    #[test]
    fn local_placeholder_only_top_level() {
        let e = enc("0.0.0.0,1.2.3.4", Some(OptType::AddrList), false, false)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(e.local_at, [0]);
        let e = enc("0.0.0.0", None, false, true).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(e.local_at.is_empty());
    }

    #[test]
    fn match_wildcards() {
        let e = enc("50:58:45:*", None, true, false).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(e.bytes, [0x50, 0x58, 0x45, 0]);
        assert_eq!(e.wildcard, [false, false, false, true]);
        assert_eq!(
            enc("50:58:*", None, false, false).map(|e| e.kind),
            Ok(ValueKind::Text)
        );
    }

    #[test]
    fn names_compress() {
        let b = bytes("a.example.com,b.example.com", 119);
        assert_eq!(
            b,
            [
                1, b'a', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 1,
                b'b', 0xc0, 2
            ]
        );
    }

    #[test]
    fn sip_servers_rfc3361() {
        assert_eq!(
            bytes("10.0.0.5,10.0.0.6", 120),
            [1, 10, 0, 0, 5, 10, 0, 0, 6]
        );
        let e = enc("0.0.0.0", Some(OptType::SipServers), false, false)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (e.bytes.as_slice(), e.local_at.len()),
            (&[1, 0, 0, 0, 0][..], 0)
        );
        assert_eq!(
            bytes("a.lab,b.lab", 120),
            [0, 1, b'a', 3, b'l', b'a', b'b', 0, 1, b'b', 0xc0, 2]
        );
        // Encapsulated: no encoding byte (dnsmasq's DHOPT_ENCAPSULATE).
        let e = enc("10.0.0.5", Some(OptType::SipServers), false, true)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(e.bytes, [10, 0, 0, 5]);
    }

    #[test]
    fn mac_patterns() {
        let p = MacPattern::parse("52:54:00:*:*:*").unwrap_or_else(|| panic!("parse"));
        assert!(p.matches(1, &[0x52, 0x54, 0, 0x12, 0x34, 0x56]));
        assert!(!p.matches(1, &[0x52, 0x54, 1, 0, 0, 1]));
        assert!(!p.matches(1, &[0x52, 0x54, 0, 0x12, 0x34]));
        assert_eq!(p.literal_octets(), 3);
        let t = MacPattern::parse("01-52:54:00:12:34:56").unwrap_or_else(|| panic!("parse"));
        assert_eq!(t.htype, 1);
        assert!(!t.matches(6, &[0x52, 0x54, 0, 0x12, 0x34, 0x56]));
        assert_eq!(alloc::format!("{t}"), "01-52:54:00:12:34:56");
        assert!(MacPattern::parse("5*:00").is_none());
    }
}
