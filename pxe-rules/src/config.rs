//! The typed, compiled configuration: rules with interned tags, server
//! settings, and the pxe-server extensions.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::lex::Ch;
use crate::tags::{TagId, TagSet, TagTest};
use crate::value::{Encoded, MacPattern};

pub use crate::config6::{
    Option6Rule, RaParam, RaPriority, Range6, Range6Modes, Value6Kind, option6_name,
};

/// Where a directive came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    /// The file name as given (or `<string>` for text parsed directly).
    pub file: String,
    /// 1-based line number.
    pub line: u32,
}

impl core::fmt::Display for Loc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// An AND list of tag tests; empty means "untagged".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cond(pub Vec<TagTest>);

impl Cond {
    /// Whether the condition has no items (an untagged line).
    pub fn is_untagged(&self) -> bool {
        self.0.is_empty()
    }
}

/// Which option area a `dhcp-match` searches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchSource {
    /// A top-level option, by number.
    Option(u8),
    /// Option 124 blocks of this enterprise number (`vi-encap:E`).
    ViEncap(u32),
    /// A DHCPv6 option, by code (`option6:N`); only DHCPv6 requests are
    /// matched against it.
    Option6(u16),
}

/// `dhcp-match=set:TAG,<option>[,<value>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchRule {
    /// The tag set when the rule matches.
    pub set: TagId,
    /// What is searched.
    pub source: MatchSource,
    /// `option:NAME` as written, for printing.
    pub option_name: Option<String>,
    /// The value to look for (`None`: presence).
    pub value: Option<Encoded>,
    pub(crate) value_src: Vec<Ch>,
}

/// `dhcp-mac=set:TAG,PATTERN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacRule {
    /// The tag set.
    pub set: TagId,
    /// The hardware address pattern.
    pub pattern: MacPattern,
}

/// Which class option a [`ClassRule`] searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassKind {
    /// `dhcp-vendorclass` (option 60).
    Vendor,
    /// `dhcp-userclass` (option 77).
    User,
}

/// `dhcp-vendorclass` / `dhcp-userclass`: substring match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRule {
    /// The tag set.
    pub set: TagId,
    /// Which option.
    pub kind: ClassKind,
    /// The substring searched for.
    pub text: String,
    /// `enterprise:N` (DHCPv6 only: option 16 must carry this enterprise
    /// number; `None` is dnsmasq's 0).
    pub enterprise: Option<u32>,
}

/// Which relay-agent sub-option a [`RelayRule`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayKind {
    /// `dhcp-circuitid` (82.1).
    CircuitId,
    /// `dhcp-remoteid` (82.2).
    RemoteId,
    /// `dhcp-subscrid` (82.6).
    SubscriberId,
}

/// `dhcp-circuitid` / `dhcp-remoteid` / `dhcp-subscrid`: exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayRule {
    /// The tag set.
    pub set: TagId,
    /// Which sub-option.
    pub kind: RelayKind,
    /// The bytes compared.
    pub bytes: Vec<u8>,
    pub(crate) src: String,
}

/// `dhcp-name-match=set:TAG,NAME[*]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameMatchRule {
    /// The tag set.
    pub set: TagId,
    /// The name (without `*`).
    pub name: String,
    /// Trailing `*`: prefix match.
    pub prefix: bool,
}

/// One `tag:` item of a `tag-if` line (wildcards allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WildTest {
    /// The name as written, without `!` and without the trailing `*`.
    pub name: String,
    /// `tag:!x`.
    pub negated: bool,
    /// Trailing `*`.
    pub wildcard: bool,
    /// The exact tag (when not a wildcard).
    pub tag: Option<TagId>,
    /// For wildcards: every interned tag with this prefix.
    pub(crate) mask: Option<Box<TagSet>>,
}

/// `tag-if=set:A[,set:B][,tag:X...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagIfRule {
    /// Tags set when the condition holds.
    pub set: Vec<TagId>,
    /// The condition (may be empty: unconditional).
    pub cond: Vec<WildTest>,
}

/// Lease time of a range or host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseTime {
    /// Seconds (already raised to dnsmasq's 120 s minimum).
    Secs(u32),
    /// `infinite`.
    Infinite,
}

impl LeaseTime {
    /// The value of option 51 (`infinite` is `0xffffffff`).
    pub fn as_secs(self) -> u32 {
        match self {
            LeaseTime::Secs(s) => s,
            LeaseTime::Infinite => u32::MAX,
        }
    }
}

/// What kind of addresses a range serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeMode {
    /// Dynamic leases from `start` to `end`.
    Dynamic,
    /// `static`: only `dhcp-host` addresses on this network.
    Static,
    /// `proxy`: proxyDHCP on this network; never hands out addresses.
    Proxy,
}

/// `dhcp-range=[tag:..][set:T,]START,END|static|proxy[,MASK[,BCAST]][,LEASE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// Condition (`tag:`/`net:` items).
    pub cond: Cond,
    /// The tag set when this range is used.
    pub set: Option<TagId>,
    /// First address (any address of the subnet for `proxy`).
    pub start: Ipv4Addr,
    /// Last address.
    pub end: Ipv4Addr,
    /// Dynamic, static or proxy.
    pub mode: RangeMode,
    /// Explicit netmask.
    pub netmask: Option<Ipv4Addr>,
    /// Explicit broadcast address.
    pub broadcast: Option<Ipv4Addr>,
    /// Lease time (`None`: the default, 3600 s).
    pub lease: Option<LeaseTime>,
}

impl Range {
    /// Whether `addr` is on this range's network, given the interface
    /// netmask to use when the range has none.
    pub fn same_net(&self, addr: Ipv4Addr, iface_mask: Ipv4Addr) -> bool {
        let m = u32::from(self.netmask.unwrap_or(iface_mask));
        u32::from(addr) & m == u32::from(self.start) & m
    }
}

/// `dhcp-host=...`: a known host, optionally with a reserved address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Host {
    /// `tag:` filter: the entry applies only when these hold.
    pub cond: Cond,
    /// `set:`/`net:` tags added when this entry is the one selected.
    pub set: Vec<TagId>,
    /// Hardware addresses (wildcards allowed).
    pub macs: Vec<MacPattern>,
    /// Client identifiers (`id:`).
    pub client_ids: Vec<Vec<u8>>,
    /// `id:*`: ignore the client id for this host.
    pub ignore_client_id: bool,
    /// Host name.
    pub name: Option<String>,
    /// Reserved IPv4 address.
    pub addr: Option<Ipv4Addr>,
    /// Reserved IPv6 addresses (`[fd00::5]`; with a `constructor:` range
    /// only the host part counts).
    pub addrs6: Vec<Ipv6Addr>,
    /// Lease time.
    pub lease: Option<LeaseTime>,
    /// `ignore`: never answer this host.
    pub ignore: bool,
}

/// A server given by address or by a name resolved from the hosts file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerRef {
    /// A dotted IPv4 address.
    Addr(Ipv4Addr),
    /// A host name (resolved by the server at reply time).
    Name(String),
}

/// `dhcp-boot=[tag:..]FILE[,SERVERNAME[,ADDRESS|NAME]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boot {
    /// Condition.
    pub cond: Cond,
    /// Boot file name (`None` when empty).
    pub file: Option<String>,
    /// Server name (`None` when empty or absent).
    pub server_name: Option<String>,
    /// Next server.
    pub server: Option<ServerRef>,
}

/// What a `pxe-service` offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceTarget {
    /// A boot file basename; the service type is automatic (0x8000 + n).
    Basename(String),
    /// An explicit boot-server type (0 = local boot), no file.
    Type(u16),
    /// No third field: local boot (type 0).
    LocalBoot,
}

/// `pxe-service=[tag:..]CSA,MENU[,BASENAME|TYPE][,SERVER]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PxeService {
    /// Condition.
    pub cond: Cond,
    /// Client system architecture (option 93 value).
    pub csa: u16,
    /// CSA as written (name or number), for printing.
    pub csa_src: String,
    /// Menu text.
    pub menu: String,
    /// File or type.
    pub target: ServiceTarget,
    /// The boot-server type this service answers.
    pub ty: u16,
    /// Boot/TFTP server.
    pub server: Option<ServerRef>,
}

impl PxeService {
    /// The basename, if the service has one.
    pub fn basename(&self) -> Option<&str> {
        match &self.target {
            ServiceTarget::Basename(b) => Some(b),
            _ => None,
        }
    }
}

/// The option space a `dhcp-option` line writes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptSpace {
    /// A top-level option.
    Plain,
    /// `encap:N`: a sub-option of option N.
    Encap(u8),
    /// `vendor:CLASS`: a sub-option of 43 for clients whose option 60
    /// contains CLASS (empty: any client that sent 60).
    Vendor(String),
    /// `pxe-prompt` (and its vendor match against the PXE vendor strings).
    VendorPxe,
    /// `vi-encap:E`: a sub-option in option 125 under enterprise E.
    ViEncap(u32),
}

/// `dhcp-option` / `dhcp-option-force` (and `pxe-prompt`, stored as
/// vendor sub-option 10 as dnsmasq does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionRule {
    /// Condition.
    pub cond: Cond,
    /// `dhcp-option-force`.
    pub force: bool,
    /// Option space.
    pub space: OptSpace,
    /// Option (or sub-option) number.
    pub code: u8,
    /// `option:NAME` as written.
    pub name: Option<String>,
    /// Encoded value.
    pub value: Encoded,
    /// Text value: 66/67 and string options carry a NUL when needed.
    pub(crate) text: bool,
    /// The bytes plus a trailing NUL (for 66/67 and `borken_opt`).
    pub(crate) with_nul: Vec<u8>,
    pub(crate) value_src: Vec<Ch>,
    /// `pxe-prompt` timeout (only for prompts).
    pub(crate) prompt: Option<(String, u8)>,
}

/// `dhcp-reply-delay=[tag:..]SECONDS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyDelay {
    /// Condition.
    pub cond: Cond,
    /// Seconds.
    pub secs: u32,
}

/// `tftp-unique-root` variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueRoot {
    /// Per client IP address.
    Ip,
    /// Per client MAC address.
    Mac,
}

/// Where the log goes: dnsmasq's `log-facility=` (a syslog facility, a
/// file when the value contains `/`, standard error for `-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFacility {
    /// `log-facility=-`: standard error.
    Stderr,
    /// `log-facility=/path/file`: appended to this file.
    File(String),
    /// `log-facility=daemon` (or `local0` … `local7`, `user`, …): the
    /// local syslog socket, with this facility.
    Syslog(SyslogFacility),
}

/// A syslog facility by its RFC 5424 code (`daemon` = 3, `local0` = 16 …
/// `local7` = 23).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyslogFacility(u8);

impl SyslogFacility {
    /// The names syslog(3) knows, with their codes (as dnsmasq's
    /// `facilitynames` table).
    pub const NAMES: [(&'static str, u8); 20] = [
        ("kern", 0),
        ("user", 1),
        ("mail", 2),
        ("daemon", 3),
        ("auth", 4),
        ("syslog", 5),
        ("lpr", 6),
        ("news", 7),
        ("uucp", 8),
        ("cron", 9),
        ("authpriv", 10),
        ("ftp", 11),
        ("local0", 16),
        ("local1", 17),
        ("local2", 18),
        ("local3", 19),
        ("local4", 20),
        ("local5", 21),
        ("local6", 22),
        ("local7", 23),
    ];

    /// `daemon`, dnsmasq's default facility.
    pub const DAEMON: SyslogFacility = SyslogFacility(3);

    /// The facility of a name (case-insensitive, as syslog.conf), if it
    /// is one.
    pub fn from_name(name: &str) -> Option<SyslogFacility> {
        Self::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, c)| SyslogFacility(*c))
    }

    /// The facility's name.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, c)| *c == self.0)
            .map_or("daemon", |(n, _)| n)
    }

    /// The facility's code (the `PRI` field is `code * 8 + severity`).
    pub fn code(self) -> u8 {
        self.0
    }
}

/// A list-of-conditions directive (`dhcp-ignore`, `dhcp-broadcast`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CondListKind {
    /// `dhcp-ignore`.
    Ignore,
    /// `dhcp-ignore-names`.
    IgnoreNames,
    /// `dhcp-broadcast`.
    Broadcast,
    /// `bootp-dynamic`.
    BootpDynamic,
    /// `dhcp-generate-names`.
    GenerateNames,
}

/// Every rule directive, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// `dhcp-match`.
    Match(MatchRule),
    /// `dhcp-mac`.
    Mac(MacRule),
    /// `dhcp-vendorclass` / `dhcp-userclass`.
    Class(ClassRule),
    /// `dhcp-circuitid` / `dhcp-remoteid` / `dhcp-subscrid`.
    Relay(RelayRule),
    /// `dhcp-name-match`.
    NameMatch(NameMatchRule),
    /// `tag-if`.
    TagIf(TagIfRule),
    /// `dhcp-host`.
    Host(Host),
    /// `dhcp-range`.
    Range(Range),
    /// `dhcp-boot`.
    Boot(Boot),
    /// `pxe-service`.
    Service(PxeService),
    /// `dhcp-option`, `dhcp-option-force`, `pxe-prompt`.
    Option(OptionRule),
    /// `dhcp-ignore`, `dhcp-broadcast`, ...
    CondList(CondListKind, Cond),
    /// `dhcp-reply-delay`.
    Delay(ReplyDelay),
    /// `dhcp-range` with IPv6 addresses.
    Range6(Range6),
    /// `dhcp-option[-force]=…option6:…`.
    Option6(Option6Rule),
}

/// One rule with where it came from.
#[derive(Debug, Clone)]
pub struct Item {
    /// Source location.
    pub loc: Loc,
    /// The rule.
    pub rule: Rule,
}

/// The pxe-server extensions (not dnsmasq directives).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Extensions {
    /// `http-port=PORT` (repeatable).
    pub http_ports: Vec<u16>,
    /// `http-root=DIR`.
    pub http_root: Option<String>,
    /// `ipxe-script=PATH`: the iPXE script template.
    pub ipxe_script: Option<String>,
    /// `ipxe-script-dir=DIR`: per-MAC/UUID script overrides.
    pub ipxe_script_dir: Option<String>,
    /// `status-page=[ADDRESS:]PORT`: the live web page of boot journeys,
    /// its JSON API and Prometheus `/metrics` on their own HTTP listener
    /// (no address: every address the HTTP service listens on).
    pub status_page: Option<StatusPage>,
    /// `journey-max=N`: how many machines' boot journeys are kept.
    pub journey_max: Option<u32>,
    /// `load-balance-wait=SECS`: with several servers sharing one lease
    /// database, a client of another server is answered once its `secs`
    /// reaches this (0: never).
    pub load_balance_wait: Option<u16>,
}

/// Where the status page listens (`status-page=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusPage {
    /// The address, if one was given.
    pub addr: Option<Ipv4Addr>,
    /// The TCP port.
    pub port: u16,
}

/// Server settings read from the same file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// `interface=` (repeatable, comma lists allowed).
    pub interfaces: Vec<String>,
    /// `except-interface=`.
    pub except_interfaces: Vec<String>,
    /// `no-dhcp-interface=`.
    pub no_dhcp_interfaces: Vec<String>,
    /// `listen-address=`.
    pub listen_addresses: Vec<Ipv4Addr>,
    /// `bind-interfaces`.
    pub bind_interfaces: bool,
    /// `bind-dynamic`.
    pub bind_dynamic: bool,
    /// `enable-tftp[=if,...]`: `Some(empty)` = on the DHCP interfaces.
    pub enable_tftp: Option<Vec<String>>,
    /// `tftp-root=DIR[,IFACE]`.
    pub tftp_roots: Vec<(String, Option<String>)>,
    /// `tftp-unique-root[=ip|mac]`.
    pub tftp_unique_root: Option<UniqueRoot>,
    /// `tftp-secure`.
    pub tftp_secure: bool,
    /// `tftp-lowercase`.
    pub tftp_lowercase: bool,
    /// `tftp-no-blocksize`.
    pub tftp_no_blocksize: bool,
    /// `tftp-max=N`.
    pub tftp_max: Option<u32>,
    /// `tftp-mtu=N`.
    pub tftp_mtu: Option<u32>,
    /// `tftp-port-range=A,B`.
    pub tftp_port_range: Option<(u16, u16)>,
    /// `tftp-single-port`.
    pub tftp_single_port: bool,
    /// `tftp-no-fail`.
    pub tftp_no_fail: bool,
    /// `dhcp-leasefile=PATH`.
    pub lease_file: Option<String>,
    /// `leasefile-ro`.
    pub leasefile_ro: bool,
    /// `dhcp-authoritative`.
    pub authoritative: bool,
    /// `log-dhcp`.
    pub log_dhcp: bool,
    /// `port=N` (DNS port; 0 disables DNS and the built-in option 6).
    pub dns_port: Option<u16>,
    /// `dhcp-lease-max=N`.
    pub lease_max: Option<u32>,
    /// `no-ping`.
    pub no_ping: bool,
    /// `dhcp-sequential-ip`.
    pub sequential_ip: bool,
    /// `dhcp-no-override`.
    pub no_override: bool,
    /// `dhcp-ignore-clid`.
    pub ignore_client_id: bool,
    /// `dhcp-pxe-vendor=` (replaces the default `PXEClient`).
    pub pxe_vendors: Vec<String>,
    /// `domain=` (option 15 built-in).
    pub domain: Option<String>,
    /// `dhcp-rapid-commit`.
    pub rapid_commit: bool,
    /// `user=`: the user to run as once the sockets are bound.
    pub user: Option<String>,
    /// `group=`: the group to run as once the sockets are bound.
    pub group: Option<String>,
    /// `log-facility=`: where the log goes (`None`: the server's default).
    pub log_facility: Option<LogFacility>,
    /// `enable-ra`: send router advertisements for the IPv6 ranges.
    pub enable_ra: bool,
    /// `ra-param=` lines.
    pub ra_params: Vec<RaParam>,
    /// The pxe-server extensions.
    pub extensions: Extensions,
}

/// A directive accepted but not acted upon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// Where.
    pub loc: Loc,
    /// The directive name.
    pub name: String,
    /// Why it has no effect here.
    pub reason: &'static str,
}

/// Per-kind evaluation indexes, in the order dnsmasq walks each list.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    /// Tag sources, config order.
    pub(crate) relay: Vec<u32>,
    pub(crate) mac: Vec<u32>,
    pub(crate) matches: Vec<u32>,
    pub(crate) class: Vec<u32>,
    pub(crate) name_match: Vec<u32>,
    /// Config order.
    pub(crate) tag_if: Vec<u32>,
    /// List order (reverse config).
    pub(crate) hosts: Vec<u32>,
    pub(crate) ranges: Vec<u32>,
    pub(crate) boots: Vec<u32>,
    /// Config order.
    pub(crate) services: Vec<u32>,
    /// `dhcp-option` lines and prompts, list order (reverse config).
    pub(crate) options: Vec<u32>,
    pub(crate) ignores: Vec<u32>,
    pub(crate) broadcasts: Vec<u32>,
    pub(crate) ignore_names: Vec<u32>,
    pub(crate) generate_names: Vec<u32>,
    pub(crate) delays: Vec<u32>,
    /// Plain `dhcp-option` lines grouped by option number, list order.
    pub(crate) opt_codes: Vec<(u8, Vec<u32>)>,
    /// Tag ids sorted by name (binary search for interface names).
    pub(crate) tags_sorted: Vec<u16>,
    /// Some `pxe-service` or `pxe-prompt` exists.
    pub(crate) pxe_enabled: bool,
    /// `bootp-dynamic` lines.
    pub(crate) bootp_dynamic: Vec<u32>,
    /// Some `dhcp-host` has a `tag:` filter.
    pub(crate) tagged_hosts: bool,
    /// IPv6 `dhcp-range` lines, list order (reverse config).
    pub(crate) ranges6: Vec<u32>,
    /// `option6:` lines grouped by option code, list order.
    pub(crate) opt6_codes: Vec<(u16, Vec<u32>)>,
    /// `dhcp-match=…,option6:…` lines, list order.
    pub(crate) matches6: Vec<u32>,
}

/// A parsed and compiled configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Server settings.
    pub settings: Settings,
    /// Rules in configuration order.
    pub items: Vec<Item>,
    /// Directives accepted but ignored.
    pub ignored: Vec<Ignored>,
    pub(crate) tags: Vec<String>,
    pub(crate) index: Index,
    /// Well-known tags.
    pub(crate) known: TagId,
    pub(crate) known_othernet: TagId,
    pub(crate) bootp: TagId,
}

impl PartialEq for Config {
    /// Two configurations are equal when their settings and rules (in
    /// order) are: rules compare by their canonical text, with tags by
    /// name (not by interned id), and by their encoded values. Source
    /// locations and ignored lines do not count.
    fn eq(&self, other: &Self) -> bool {
        use alloc::string::ToString;
        self.settings == other.settings
            && self.items.len() == other.items.len()
            && self.items.iter().zip(other.items.iter()).all(|(a, b)| {
                let values_eq = match (&a.rule, &b.rule) {
                    (Rule::Option(x), Rule::Option(y)) => x.value == y.value && x.space == y.space,
                    (Rule::Match(x), Rule::Match(y)) => x.value == y.value && x.source == y.source,
                    (Rule::Service(x), Rule::Service(y)) => x.ty == y.ty && x.csa == y.csa,
                    (Rule::Option6(x), Rule::Option6(y)) => x.bytes == y.bytes && x.code == y.code,
                    _ => true,
                };
                values_eq
                    && self.rule_display(&a.rule).to_string()
                        == other.rule_display(&b.rule).to_string()
            })
    }
}

impl Config {
    /// The name of an interned tag.
    pub fn tag_name(&self, tag: TagId) -> &str {
        self.tags
            .get(usize::from(tag.0))
            .map_or("?", |s| s.as_str())
    }

    /// Looks up a tag by name (binary search, no allocation; called per
    /// request for the interface name and a BOOTP `file`).
    pub fn tag(&self, name: &str) -> Option<TagId> {
        let ids = &self.index.tags_sorted;
        ids.binary_search_by(|&i| {
            self.tags
                .get(usize::from(i))
                .map_or("", |t| t.as_str())
                .cmp(name)
        })
        .ok()
        .and_then(|k| ids.get(k))
        .map(|&i| TagId(i))
    }

    /// Number of distinct tag names.
    pub fn tag_count(&self) -> usize {
        self.tags.len()
    }

    /// `dhcp-range` lines, in configuration order.
    pub fn ranges(&self) -> impl Iterator<Item = (&Loc, &Range)> {
        self.items.iter().filter_map(|i| match &i.rule {
            Rule::Range(r) => Some((&i.loc, r)),
            _ => None,
        })
    }

    /// `dhcp-host` lines, in configuration order.
    pub fn hosts(&self) -> impl Iterator<Item = (&Loc, &Host)> {
        self.items.iter().filter_map(|i| match &i.rule {
            Rule::Host(h) => Some((&i.loc, h)),
            _ => None,
        })
    }

    /// Whether PXE handling is on (some `pxe-service` or `pxe-prompt`).
    pub fn pxe_enabled(&self) -> bool {
        self.index.pxe_enabled
    }

    /// IPv6 `dhcp-range` lines, in configuration order.
    pub fn ranges6(&self) -> impl Iterator<Item = (&Loc, &Range6)> {
        self.items.iter().filter_map(|i| match &i.rule {
            Rule::Range6(r) => Some((&i.loc, r)),
            _ => None,
        })
    }

    /// Whether the DHCPv6 service has anything to serve (an IPv6 range).
    pub fn dhcp6_enabled(&self) -> bool {
        !self.index.ranges6.is_empty()
    }

    /// Whether some range is a proxy range.
    pub fn has_proxy_range(&self) -> bool {
        self.ranges().any(|(_, r)| r.mode == RangeMode::Proxy)
    }

    /// The PXE vendor strings (`dhcp-pxe-vendor`, default `PXEClient`).
    pub fn pxe_vendors(&self) -> impl Iterator<Item = &str> {
        let default: &[&str] = if self.settings.pxe_vendors.is_empty() {
            &["PXEClient"]
        } else {
            &[]
        };
        default
            .iter()
            .copied()
            .chain(self.settings.pxe_vendors.iter().map(|s| s.as_str()))
    }

    pub(crate) fn rule(&self, idx: u32) -> Option<&Rule> {
        self.items.get(idx as usize).map(|i| &i.rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_lookup_finds_every_name_and_nothing_else() {
        let c = Config::parse_str(
            "dhcp-vendorclass=set:zeta,PXE\ndhcp-userclass=set:alpha,x\n\
             tag-if=set:mid,tag:eth0\npxe-prompt=\"go\",3\n",
            "t.conf",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            c.tag_count() >= 7,
            "zeta alpha mid eth0 known known-othernet bootp"
        );
        for name in [
            "zeta",
            "alpha",
            "mid",
            "eth0",
            "known",
            "known-othernet",
            "bootp",
        ] {
            let t = c.tag(name).unwrap_or_else(|| panic!("{name} not found"));
            assert_eq!(c.tag_name(t), name);
        }
        assert_eq!(c.tag("eth1"), None);
        assert_eq!(c.tag(""), None);
        assert_eq!(c.tag("zzz"), None);
        assert!(c.pxe_enabled(), "a pxe-prompt turns PXE on");
        let off = Config::parse_str("dhcp-range=10.0.0.2,10.0.0.9\n", "t.conf")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!off.pxe_enabled());
    }
}
