//! The DHCPv6 and router-advertisement part of the typed configuration:
//! `dhcp-range` with IPv6 addresses, `dhcp-option=option6:…` and
//! `ra-param` (dnsmasq 2.90, `option.c: one_opt` for `LOPT_DHCP_RANGE`
//! with `CONTEXT_V6`, `parse_dhcp_opt` with `DHOPT_V6`, `LOPT_RA_PARAM`).

use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv6Addr;

use crate::config::{Cond, LeaseTime};
use crate::lex::Ch;
use crate::tags::TagId;

/// The mode keywords of an IPv6 `dhcp-range` (dnsmasq's `CONTEXT_*`
/// flags; several may be given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Range6Modes {
    /// `static`: only `dhcp-host` addresses.
    pub static_only: bool,
    /// `ra-only` (or `slaac`): router advertisements, no DHCPv6 addresses.
    pub ra_only: bool,
    /// `ra-names`.
    pub ra_names: bool,
    /// `ra-stateless`: SLAAC plus stateless DHCPv6 (no addresses).
    pub ra_stateless: bool,
    /// `ra-advrouter`.
    pub ra_advrouter: bool,
    /// `off-link`.
    pub off_link: bool,
    /// `slaac` written as such (printed back as written).
    pub slaac: bool,
}

impl Range6Modes {
    /// Whether the range hands out addresses by DHCPv6 (dynamic or static).
    pub fn stateful(&self) -> bool {
        !self.ra_only && !self.ra_stateless
    }

    /// Whether router advertisements for this prefix ask for SLAAC.
    pub fn slaac(&self) -> bool {
        self.ra_only || self.ra_stateless || self.ra_names || self.slaac
    }
}

/// `dhcp-range=[tag:..][set:T,]START[,END|constructor:IF][,MODE…][,PREFIXLEN][,LEASE]`
/// with IPv6 addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range6 {
    /// Condition (`tag:`/`net:` items).
    pub cond: Cond,
    /// The tag set when this range is used.
    pub set: Option<TagId>,
    /// First address (with `constructor:`, only the host part counts).
    pub start: Ipv6Addr,
    /// Last address.
    pub end: Ipv6Addr,
    /// Whether an end address was written.
    pub end_given: bool,
    /// `constructor:IFACE`: the network part comes from the interface's
    /// addresses (`*` wildcards allowed in the name).
    pub constructor: Option<String>,
    /// Mode keywords.
    pub modes: Range6Modes,
    /// Prefix length (64 unless written).
    pub prefix_len: u8,
    /// Whether the prefix length was written.
    pub prefix_given: bool,
    /// Lease time (`None`: the default, 3600 s).
    pub lease: Option<LeaseTime>,
    /// `deprecated`: preferred lifetime 0.
    pub deprecated: bool,
}

impl Range6 {
    /// The host-part mask of the range's prefix.
    fn host_mask(&self) -> u128 {
        match self.prefix_len {
            0 => u128::MAX,
            n if n >= 128 => 0,
            n => u128::MAX >> n,
        }
    }

    /// The range made concrete on a network: with `constructor:`, the
    /// network part of `net` and the host parts of start and end; else
    /// the range itself. `None` when the range is not on `net`'s prefix.
    pub fn on_network(&self, net: Ipv6Addr) -> Option<(Ipv6Addr, Ipv6Addr)> {
        let m = self.host_mask();
        let n = u128::from(net) & !m;
        if self.constructor.is_some() {
            let s = n | (u128::from(self.start) & m);
            let e = n | (u128::from(self.end) & m);
            return Some((Ipv6Addr::from(s), Ipv6Addr::from(e)));
        }
        (u128::from(self.start) & !m == n).then_some((self.start, self.end))
    }

    /// Whether `addr` lies in the range as made concrete on `net`.
    pub fn contains(&self, net: Ipv6Addr, addr: Ipv6Addr) -> bool {
        self.on_network(net).is_some_and(|(s, e)| {
            let a = u128::from(addr);
            u128::from(s) <= a && a <= u128::from(e)
        })
    }
}

/// How an `option6:` value was typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value6Kind {
    /// No value.
    Empty,
    /// Colon hex bytes.
    Hex,
    /// A big-endian integer.
    Int,
    /// IPv6 addresses (`[…]`, `[::]` = the server's own address).
    Addr6,
    /// Text.
    Text,
    /// RFC 3315 counted strings (`bootfile-param`, user/vendor class).
    CountedStrings,
    /// RFC 1035 names (`domain-search`).
    Names,
}

/// `dhcp-option[-force]=[tag:..]option6:NAME|NUMBER[,VALUE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Option6Rule {
    /// Condition.
    pub cond: Cond,
    /// `dhcp-option-force`: sent even when the client's ORO omits it.
    pub force: bool,
    /// The DHCPv6 option code.
    pub code: u16,
    /// `option6:NAME` as written.
    pub name: Option<String>,
    /// The bytes on the wire (unspecified addresses still in place).
    pub bytes: Vec<u8>,
    /// How the value was typed.
    pub kind: Value6Kind,
    /// Byte offsets of `[::]` addresses that mean "the server's address".
    pub local_at: Vec<u16>,
    pub(crate) value_src: Vec<Ch>,
}

/// `ra-param=IFACE,[mtu:N|off,][high|low,]INTERVAL[,LIFETIME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaParam {
    /// The interface (wildcards allowed).
    pub interface: String,
    /// `mtu:N` (`Some(0)`: `mtu:off`, no MTU option).
    pub mtu: Option<u32>,
    /// `high` / `low` router preference (`None`: medium).
    pub priority: Option<RaPriority>,
    /// Seconds between unsolicited advertisements (dnsmasq's default 600).
    pub interval: Option<u32>,
    /// Router lifetime in seconds (dnsmasq's default 1800).
    pub lifetime: Option<u32>,
}

/// Router preference (RFC 4191).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaPriority {
    /// `high`.
    High,
    /// `low`.
    Low,
}

/// One DHCPv6 option by name (dnsmasq's `opttab6`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opt6Info {
    pub(crate) code: u16,
    pub(crate) name: &'static str,
    pub(crate) ty: Opt6Type,
    /// Set by the server; `dhcp-option` may not give it.
    pub(crate) internal: bool,
}

/// The value type dnsmasq's table gives an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opt6Type {
    Generic,
    AddrList,
    Name,
    CString,
    Rfc1035,
    Time,
    Dec,
}

const fn o6(code: u16, name: &'static str, ty: Opt6Type, internal: bool) -> Opt6Info {
    Opt6Info {
        code,
        name,
        ty,
        internal,
    }
}

/// dnsmasq 2.90's `opttab6`.
pub(crate) static OPTTAB6: &[Opt6Info] = &[
    o6(1, "client-id", Opt6Type::Generic, true),
    o6(2, "server-id", Opt6Type::Generic, true),
    o6(3, "ia-na", Opt6Type::Generic, true),
    o6(4, "ia-ta", Opt6Type::Generic, true),
    o6(5, "iaaddr", Opt6Type::Generic, true),
    o6(6, "oro", Opt6Type::Generic, true),
    o6(7, "preference", Opt6Type::Dec, true),
    o6(12, "unicast", Opt6Type::Generic, true),
    o6(13, "status", Opt6Type::Generic, true),
    o6(14, "rapid-commit", Opt6Type::Generic, true),
    o6(15, "user-class", Opt6Type::CString, true),
    o6(16, "vendor-class", Opt6Type::CString, true),
    o6(17, "vendor-opts", Opt6Type::Generic, true),
    o6(21, "sip-server-domain", Opt6Type::Rfc1035, false),
    o6(22, "sip-server", Opt6Type::AddrList, false),
    o6(23, "dns-server", Opt6Type::AddrList, false),
    o6(24, "domain-search", Opt6Type::Rfc1035, false),
    o6(27, "nis-server", Opt6Type::AddrList, false),
    o6(28, "nis+-server", Opt6Type::AddrList, false),
    o6(29, "nis-domain", Opt6Type::Rfc1035, false),
    o6(30, "nis+-domain", Opt6Type::Rfc1035, false),
    o6(31, "sntp-server", Opt6Type::AddrList, false),
    o6(32, "information-refresh-time", Opt6Type::Time, false),
    o6(39, "FQDN", Opt6Type::Rfc1035, true),
    o6(56, "ntp-server", Opt6Type::Generic, false),
    o6(59, "bootfile-url", Opt6Type::Name, false),
    o6(60, "bootfile-param", Opt6Type::CString, false),
];

pub(crate) fn by_name6(name: &str) -> Option<&'static Opt6Info> {
    OPTTAB6.iter().find(|e| e.name.eq_ignore_ascii_case(name))
}

pub(crate) fn by_code6(code: u16) -> Option<&'static Opt6Info> {
    OPTTAB6.iter().find(|e| e.code == code)
}

/// The dnsmasq name of a DHCPv6 option, if it has one.
pub fn option6_name(code: u16) -> Option<&'static str> {
    by_code6(code).map(|e| e.name)
}
