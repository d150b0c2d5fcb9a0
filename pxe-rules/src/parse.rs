//! The dnsmasq configuration dialect (`option.c: read_file`, `one_opt`,
//! `parse_dhcp_opt`), directive by directive.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use crate::config::*;
use crate::error::{ParseError, ParseErrorKind};
use crate::lex::{self, Ch, LexError};
use crate::load::{LoadError, Loader};
use crate::tags::{MAX_TAGS, TagId, TagSet, TagTest};
use crate::value::{self, MacPattern, OptType, TypeCtx, ValueError};

mod v6;

/// Include nesting limit.
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// Syntax hints, per directive.
pub(crate) fn hint(name: &str) -> &'static str {
    match name {
        "dhcp-boot" => "dhcp-boot expects [tag:T,...]FILENAME[,SERVERNAME[,ADDRESS]]",
        "dhcp-match" => "dhcp-match expects set:TAG,<number>|option:NAME|vi-encap:N[,VALUE]",
        "dhcp-option" | "dhcp-option-force" => {
            "dhcp-option expects [tag:T,...][encap:N,|vi-encap:N,|vendor:CLASS,]<number>|option:NAME[,VALUE]"
        }
        "dhcp-range" => {
            "dhcp-range expects [tag:T,...][set:T,]START,END|static|proxy[,NETMASK[,BROADCAST]][,LEASETIME] or, for IPv6, START[,END|constructor:IF][,MODE...][,PREFIX-LEN][,LEASETIME]"
        }
        "ra-param" => {
            "ra-param expects INTERFACE,[mtu:N|off,][high|low,]INTERVAL[,ROUTER-LIFETIME]"
        }
        "dhcp-host" => {
            "dhcp-host expects [MAC][,id:CLIENTID|*][,set:TAG][,tag:TAG][,IPADDR][,HOSTNAME][,LEASETIME][,ignore]"
        }
        "pxe-service" => {
            "pxe-service expects [tag:T,...]CSA,MENU-TEXT[,BASENAME|TYPE][,SERVER-ADDRESS|SERVER-NAME]"
        }
        "pxe-prompt" => "pxe-prompt expects [tag:T,...]PROMPT[,TIMEOUT]",
        "dhcp-mac" => "dhcp-mac expects set:TAG,[TYPE-]MAC (octets may be *)",
        "dhcp-vendorclass" => "dhcp-vendorclass expects set:TAG,[enterprise:N,]VENDOR-CLASS",
        "dhcp-userclass" => "dhcp-userclass expects set:TAG,USER-CLASS",
        "dhcp-circuitid" | "dhcp-remoteid" | "dhcp-subscrid" => {
            "expects set:TAG,VALUE (colon hex or text)"
        }
        "dhcp-name-match" => "dhcp-name-match expects set:TAG,NAME[*]",
        "tag-if" => "tag-if expects set:TAG[,set:TAG...][,tag:TAG[,tag:!TAG...]]",
        "dhcp-reply-delay" => "dhcp-reply-delay expects [tag:T,]SECONDS",
        "dhcp-pxe-vendor" => "dhcp-pxe-vendor expects VENDOR[,VENDOR...]",
        "tftp-root" => "tftp-root expects DIR[,INTERFACE]",
        "tftp-port-range" => "tftp-port-range expects START,END",
        "tftp-unique-root" => "tftp-unique-root expects nothing, ip or mac",
        "port" | "tftp-max" | "tftp-mtu" | "dhcp-lease-max" => "expects a decimal number",
        "http-port" => "http-port expects a port number 1-65535",
        "status-page" => "status-page expects [ADDRESS:]PORT (port 1-65535)",
        "journey-max" => "journey-max expects a number 1-1048576",
        "load-balance-wait" => "load-balance-wait expects seconds 0-65535",
        "listen-address" => "listen-address expects IPv4 addresses",
        "conf-dir" => "conf-dir expects DIR[,.EXT...|,*.EXT...]",
        "user" => "user expects a user name",
        "group" => "group expects a group name",
        "log-facility" => {
            "log-facility expects a syslog facility (daemon, local0..local7, ...), a /path/file, or -"
        }
        _ => "",
    }
}

enum Kind {
    Flag(fn(&mut Settings)),
    Rule,
    Setting,
    Ignored(&'static str),
}

const DNS: &str = "DNS-only directive; pxe-server has no DNS service";
const UNSUPPORTED: &str = "not supported by pxe-server";
const V6: &str = "IPv6 directive not used by pxe-server";

fn kind_of(name: &str) -> Option<Kind> {
    use Kind::*;
    Some(match name {
        "bind-interfaces" => Flag(|s| s.bind_interfaces = true),
        "bind-dynamic" => Flag(|s| s.bind_dynamic = true),
        "tftp-secure" => Flag(|s| s.tftp_secure = true),
        "tftp-lowercase" => Flag(|s| s.tftp_lowercase = true),
        "tftp-no-blocksize" => Flag(|s| s.tftp_no_blocksize = true),
        "tftp-single-port" => Flag(|s| s.tftp_single_port = true),
        "tftp-no-fail" => Flag(|s| s.tftp_no_fail = true),
        "leasefile-ro" => Flag(|s| s.leasefile_ro = true),
        "dhcp-authoritative" => Flag(|s| s.authoritative = true),
        "log-dhcp" => Flag(|s| s.log_dhcp = true),
        "no-ping" => Flag(|s| s.no_ping = true),
        "dhcp-sequential-ip" => Flag(|s| s.sequential_ip = true),
        "dhcp-no-override" => Flag(|s| s.no_override = true),
        "dhcp-ignore-clid" => Flag(|s| s.ignore_client_id = true),
        "enable-ra" => Flag(|s| s.enable_ra = true),
        "dhcp-match"
        | "dhcp-mac"
        | "dhcp-vendorclass"
        | "dhcp-userclass"
        | "dhcp-circuitid"
        | "dhcp-remoteid"
        | "dhcp-subscrid"
        | "dhcp-name-match"
        | "tag-if"
        | "dhcp-host"
        | "dhcp-range"
        | "dhcp-boot"
        | "pxe-service"
        | "pxe-prompt"
        | "dhcp-option"
        | "dhcp-option-force"
        | "dhcp-ignore"
        | "dhcp-ignore-names"
        | "dhcp-broadcast"
        | "bootp-dynamic"
        | "dhcp-generate-names"
        | "dhcp-reply-delay" => Rule,
        "interface" | "except-interface" | "no-dhcp-interface" | "listen-address"
        | "enable-tftp" | "tftp-root" | "tftp-unique-root" | "tftp-max" | "tftp-mtu"
        | "tftp-port-range" | "dhcp-leasefile" | "dhcp-lease-file" | "port" | "dhcp-lease-max"
        | "dhcp-pxe-vendor" | "domain" | "dhcp-rapid-commit" | "http-port" | "http-root"
        | "ipxe-script" | "ipxe-script-dir" | "status-page" | "journey-max"
        | "load-balance-wait" | "conf-file" | "conf-dir" | "user" | "group" | "log-facility"
        | "ra-param" => Setting,
        "log-queries"
        | "domain-needed"
        | "bogus-priv"
        | "no-resolv"
        | "no-poll"
        | "server"
        | "local"
        | "address"
        | "no-hosts"
        | "addn-hosts"
        | "expand-hosts"
        | "cache-size"
        | "strict-order"
        | "all-servers"
        | "resolv-file"
        | "filterwin2k"
        | "stop-dns-rebind"
        | "rebind-localhost-ok"
        | "rebind-domain-ok"
        | "dnssec"
        | "dnssec-check-unsigned"
        | "trust-anchor"
        | "dns-forward-max"
        | "neg-ttl"
        | "local-ttl"
        | "max-ttl"
        | "max-cache-ttl"
        | "min-cache-ttl"
        | "auth-ttl"
        | "min-port"
        | "max-port"
        | "cname"
        | "mx-host"
        | "mx-target"
        | "srv-host"
        | "txt-record"
        | "ptr-record"
        | "naptr-record"
        | "caa-record"
        | "host-record"
        | "dynamic-host"
        | "interface-name"
        | "no-negcache"
        | "clear-on-reload"
        | "localise-queries"
        | "edns-packet-max"
        | "query-port"
        | "auth-server"
        | "auth-zone"
        | "auth-soa"
        | "auth-sec-servers"
        | "auth-peer"
        | "ipset"
        | "nftset"
        | "connmark-allowlist"
        | "connmark-allowlist-enable"
        | "conntrack"
        | "selfmx"
        | "localmx"
        | "bogus-nxdomain"
        | "ignore-address"
        | "alias"
        | "rev-server"
        | "server-file"
        | "servers-file"
        | "log-async"
        | "add-mac"
        | "add-cpe-id"
        | "add-subnet"
        | "strip-mac"
        | "strip-subnet"
        | "umbrella"
        | "dns-loop-detect"
        | "dnssec-timestamp"
        | "dnssec-no-timecheck"
        | "proxy-dnssec"
        | "dns-rr"
        | "synth-domain"
        | "local-service"
        | "hostsdir"
        | "domain-suffix"
        | "fast-dns-retry"
        | "use-stale-cache"
        | "no-round-robin"
        | "no-ident"
        | "filter-A"
        | "filter-AAAA"
        | "filter-rr"
        | "cache-rr"
        | "quiet-tftp" => Ignored(DNS),
        "quiet-ra" | "quiet-dhcp6" | "dhcp-duid" | "dhcp-luascript" => Ignored(V6),
        "no-daemon"
        | "keep-in-foreground"
        | "pid-file"
        | "enable-dbus"
        | "enable-ubus"
        | "quiet-dhcp"
        | "dhcp-script"
        | "dhcp-scriptuser"
        | "script-arp"
        | "script-on-renewal"
        | "dhcp-hostsfile"
        | "dhcp-optsfile"
        | "dhcp-hostsdir"
        | "dhcp-optsdir"
        | "read-ethers"
        | "dhcp-relay"
        | "dhcp-proxy"
        | "dhcp-fqdn"
        | "dhcp-client-update"
        | "dhcp-alternate-port"
        | "bridge-interface"
        | "shared-network"
        | "dhcp-split-relay"
        | "dhcp-option-pxe"
        | "dhcp-ttl"
        | "dhcp-lease-script"
        | "cpewan-id"
        | "leasequery"
        | "log-debug"
        | "tftp-no-fail-on-missing" => Ignored(UNSUPPORTED),
        _ => return None,
    })
}

/// Static name for a directive (for error kinds).
fn static_name(name: &str) -> &'static str {
    const NAMES: &[&str] = &[
        "dhcp-match",
        "dhcp-mac",
        "dhcp-vendorclass",
        "dhcp-userclass",
        "dhcp-circuitid",
        "dhcp-remoteid",
        "dhcp-subscrid",
        "dhcp-name-match",
        "tag-if",
        "dhcp-host",
        "dhcp-range",
        "dhcp-boot",
        "pxe-service",
        "pxe-prompt",
        "dhcp-option",
        "dhcp-option-force",
        "dhcp-ignore",
        "dhcp-ignore-names",
        "dhcp-broadcast",
        "bootp-dynamic",
        "dhcp-generate-names",
        "dhcp-reply-delay",
        "interface",
        "except-interface",
        "no-dhcp-interface",
        "listen-address",
        "enable-tftp",
        "tftp-root",
        "tftp-unique-root",
        "tftp-max",
        "tftp-mtu",
        "tftp-port-range",
        "dhcp-leasefile",
        "dhcp-lease-file",
        "port",
        "dhcp-lease-max",
        "dhcp-pxe-vendor",
        "domain",
        "dhcp-rapid-commit",
        "http-port",
        "http-root",
        "ipxe-script",
        "ipxe-script-dir",
        "status-page",
        "journey-max",
        "load-balance-wait",
        "conf-file",
        "conf-dir",
        "user",
        "group",
        "log-facility",
        "bind-interfaces",
        "bind-dynamic",
        "tftp-secure",
        "tftp-lowercase",
        "tftp-no-blocksize",
        "tftp-single-port",
        "tftp-no-fail",
        "leasefile-ro",
        "dhcp-authoritative",
        "log-dhcp",
        "no-ping",
        "dhcp-sequential-ip",
        "dhcp-no-override",
        "dhcp-ignore-clid",
        "enable-ra",
        "ra-param",
    ];
    NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("directive")
}

pub(crate) struct Builder<'l> {
    pub(crate) settings: Settings,
    pub(crate) items: Vec<Item>,
    pub(crate) ignored: Vec<Ignored>,
    pub(crate) tags: Vec<String>,
    boottype: u16,
    loader: Option<&'l mut dyn Loader>,
    depth: usize,
}

/// Error context for one line.
pub(super) struct At<'a> {
    file: &'a str,
    line: u32,
    name: &'static str,
}

impl At<'_> {
    fn err(&self, col: u32, kind: ParseErrorKind) -> ParseError {
        ParseError {
            file: self.file.to_string(),
            line: self.line,
            column: col,
            kind,
            hint: hint(self.name),
        }
    }
    fn bad(&self, col: u32, what: impl Into<String>) -> ParseError {
        self.err(
            col,
            ParseErrorKind::Malformed {
                directive: self.name,
                what: what.into(),
            },
        )
    }
}

impl<'l> Builder<'l> {
    pub(crate) fn new(loader: Option<&'l mut dyn Loader>) -> Self {
        Self {
            settings: Settings::default(),
            items: Vec::new(),
            ignored: Vec::new(),
            tags: Vec::new(),
            boottype: 0x8000,
            loader,
            depth: 0,
        }
    }

    fn intern(&mut self, name: &str, at: &At<'_>, col: u32) -> Result<TagId, ParseError> {
        if let Some(i) = self.tags.iter().position(|t| t == name) {
            return Ok(TagId(i as u16));
        }
        if self.tags.len() >= MAX_TAGS {
            return Err(at.err(col, ParseErrorKind::TooManyTags(MAX_TAGS)));
        }
        self.tags.push(name.to_string());
        Ok(TagId((self.tags.len() - 1) as u16))
    }

    /// A condition item (`x`, `!x`, `#x`) to a tag test.
    fn cond_item(&mut self, name: &str, at: &At<'_>, col: u32) -> Result<TagTest, ParseError> {
        let (negated, n) = match name.strip_prefix(['!', '#']) {
            Some(rest) => (true, rest),
            None => (false, name),
        };
        Ok(TagTest {
            tag: self.intern(n, at, col)?,
            negated,
        })
    }

    pub(crate) fn parse_text(&mut self, text: &str, file: &str) -> Result<(), ParseError> {
        for (n, raw) in text.lines().enumerate() {
            let line_no = n as u32 + 1;
            let line = match lex::lex_line(raw) {
                Ok(Some(l)) => l,
                Ok(None) => continue,
                Err(LexError::MissingQuote(col)) => {
                    return Err(ParseError {
                        file: file.to_string(),
                        line: line_no,
                        column: col,
                        kind: ParseErrorKind::MissingQuote,
                        hint: "",
                    });
                }
            };
            self.directive(&line, file, line_no)?;
        }
        Ok(())
    }

    fn directive(&mut self, line: &lex::Line, file: &str, line_no: u32) -> Result<(), ParseError> {
        let name = line.name.as_str();
        let Some(kind) = kind_of(name) else {
            return Err(ParseError {
                file: file.to_string(),
                line: line_no,
                column: line.name_col,
                kind: ParseErrorKind::UnknownDirective(line.name.clone()),
                hint: "",
            });
        };
        let at = At {
            file,
            line: line_no,
            name: static_name(name),
        };
        let loc = Loc {
            file: file.to_string(),
            line: line_no,
        };
        match kind {
            Kind::Ignored(reason) => {
                self.ignored.push(Ignored {
                    loc,
                    name: line.name.clone(),
                    reason,
                });
                Ok(())
            }
            Kind::Flag(f) => {
                if let Some(v) = &line.value
                    && !v.is_empty()
                {
                    return Err(at.err(
                        lex::col(v, line.value_col),
                        ParseErrorKind::UnexpectedValue(at.name),
                    ));
                }
                f(&mut self.settings);
                Ok(())
            }
            Kind::Setting => self.setting(line, &at),
            Kind::Rule => {
                let value = match &line.value {
                    Some(v) if !v.is_empty() => v.as_slice(),
                    _ if matches!(
                        name,
                        "dhcp-broadcast"
                            | "bootp-dynamic"
                            | "dhcp-generate-names"
                            | "dhcp-ignore-names"
                    ) =>
                    {
                        &[]
                    }
                    _ => return Err(at.err(line.value_col, ParseErrorKind::MissingValue(at.name))),
                };
                let rule = self.rule(name, value, &at, line.value_col)?;
                if let Some(rule) = rule {
                    self.items.push(Item { loc, rule });
                } else {
                    self.ignored.push(Ignored {
                        loc,
                        name: line.name.clone(),
                        reason: V6,
                    });
                }
                Ok(())
            }
        }
    }

    fn setting(&mut self, line: &lex::Line, at: &At<'_>) -> Result<(), ParseError> {
        let name = line.name.as_str();
        let v: &[Ch] = line.value.as_deref().unwrap_or(&[]);
        let vcol = lex::col(v, line.value_col);
        let need = |v: &[Ch]| -> Result<(), ParseError> {
            if v.is_empty() {
                Err(at.err(line.value_col, ParseErrorKind::MissingValue(at.name)))
            } else {
                Ok(())
            }
        };
        let num = |f: &[Ch]| -> Result<u32, ParseError> {
            let t = lex::text(f);
            if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) || t.len() > 10 {
                return Err(at.bad(lex::col(f, vcol), format!("`{t}` is not a decimal number")));
            }
            t.parse::<u32>()
                .map_err(|_| at.bad(lex::col(f, vcol), format!("`{t}` is out of range")))
        };
        let s = &mut self.settings;
        match name {
            "interface" | "except-interface" | "no-dhcp-interface" => {
                need(v)?;
                let list = match name {
                    "interface" => &mut s.interfaces,
                    "except-interface" => &mut s.except_interfaces,
                    _ => &mut s.no_dhcp_interfaces,
                };
                for f in lex::split_all(v) {
                    if f.is_empty() {
                        return Err(at.bad(lex::col(f, vcol), "empty interface name"));
                    }
                    list.push(lex::text(f));
                }
            }
            "listen-address" => {
                need(v)?;
                for f in lex::split_all(v) {
                    let t = lex::text(f);
                    match t.parse::<Ipv4Addr>() {
                        Ok(a) => s.listen_addresses.push(a),
                        Err(_) if t.contains(':') => {}
                        Err(_) => {
                            return Err(
                                at.bad(lex::col(f, vcol), format!("`{t}` is not an address"))
                            );
                        }
                    }
                }
            }
            "enable-tftp" => {
                let list = s.enable_tftp.get_or_insert_with(Vec::new);
                if !v.is_empty() {
                    for f in lex::split_all(v) {
                        list.push(lex::text(f));
                    }
                }
            }
            "tftp-root" => {
                need(v)?;
                let (dir, iface) = lex::split(v);
                s.tftp_roots.push((lex::text(dir), iface.map(lex::text)));
            }
            "tftp-unique-root" => {
                s.tftp_unique_root = Some(match lex::text(v).as_str() {
                    "" | "ip" => UniqueRoot::Ip,
                    "mac" => UniqueRoot::Mac,
                    other => return Err(at.bad(vcol, format!("`{other}` is neither ip nor mac"))),
                });
            }
            "tftp-max" => {
                need(v)?;
                s.tftp_max = Some(num(v)?);
            }
            "tftp-mtu" => {
                need(v)?;
                s.tftp_mtu = Some(num(v)?);
            }
            "dhcp-lease-max" => {
                need(v)?;
                s.lease_max = Some(num(v)?);
            }
            "tftp-port-range" => {
                need(v)?;
                let (a, b) = lex::split(v);
                let Some(b) = b else {
                    return Err(at.bad(vcol, "two ports needed"));
                };
                let (pa, pb) = (num(a)?, num(b)?);
                if pa > 65535 || pb > 65535 || pa > pb {
                    return Err(at.bad(vcol, "ports must be 0-65535 and START <= END"));
                }
                s.tftp_port_range = Some((pa as u16, pb as u16));
            }
            "dhcp-leasefile" | "dhcp-lease-file" => {
                need(v)?;
                s.lease_file = Some(lex::text(v));
            }
            "port" => {
                need(v)?;
                let p = num(v)?;
                if p > 65535 {
                    return Err(at.bad(vcol, "port out of range"));
                }
                s.dns_port = Some(p as u16);
            }
            "dhcp-pxe-vendor" => {
                need(v)?;
                for f in lex::split_all(v) {
                    s.pxe_vendors.push(lex::text(f));
                }
            }
            "domain" => {
                need(v)?;
                let d = lex::split(v).0;
                if d.is_empty() {
                    return Err(at.bad(vcol, "an empty domain name"));
                }
                s.domain = Some(lex::text(d));
            }
            "dhcp-rapid-commit" => s.rapid_commit = true,
            "http-port" => {
                need(v)?;
                let p = num(v)?;
                if p == 0 || p > 65535 {
                    return Err(at.bad(vcol, "port must be 1-65535"));
                }
                s.extensions.http_ports.push(p as u16);
            }
            "http-root" => {
                need(v)?;
                s.extensions.http_root = Some(lex::text(v));
            }
            "ipxe-script" => {
                need(v)?;
                s.extensions.ipxe_script = Some(lex::text(v));
            }
            "ipxe-script-dir" => {
                need(v)?;
                s.extensions.ipxe_script_dir = Some(lex::text(v));
            }
            "user" => {
                need(v)?;
                s.user = Some(lex::text(v));
            }
            "group" => {
                need(v)?;
                s.group = Some(lex::text(v));
            }
            "log-facility" => {
                need(v)?;
                let t = lex::text(v);
                s.log_facility = Some(if t == "-" {
                    LogFacility::Stderr
                } else if t.contains('/') {
                    LogFacility::File(t)
                } else if let Some(f) = SyslogFacility::from_name(&t) {
                    LogFacility::Syslog(f)
                } else {
                    return Err(at.bad(vcol, format!("`{t}` is not a syslog facility")));
                });
            }
            "status-page" => {
                need(v)?;
                let t = lex::text(v);
                let (addr, port) = match t.rsplit_once(':') {
                    Some((a, p)) => {
                        let a = a
                            .parse::<Ipv4Addr>()
                            .map_err(|_| at.bad(vcol, format!("`{a}` is not an IPv4 address")))?;
                        (Some(a), p)
                    }
                    None => (None, t.as_str()),
                };
                let port = match port.parse::<u16>() {
                    Ok(p) if p > 0 => p,
                    _ => return Err(at.bad(vcol, "port must be 1-65535")),
                };
                s.extensions.status_page = Some(crate::config::StatusPage { addr, port });
            }
            "journey-max" => {
                need(v)?;
                let n = num(v)?;
                if n == 0 || n > 1 << 20 {
                    return Err(at.bad(vcol, "journey-max must be 1-1048576"));
                }
                s.extensions.journey_max = Some(n);
            }
            "load-balance-wait" => {
                need(v)?;
                let n = u16::try_from(num(v)?)
                    .map_err(|_| at.bad(vcol, "load-balance-wait must be 0-65535 seconds"))?;
                s.extensions.load_balance_wait = Some(n);
            }
            "ra-param" => {
                need(v)?;
                self.ra_param(v, at, vcol)?;
            }
            "conf-file" => {
                need(v)?;
                let path = lex::text(v);
                self.include_file(&path, at, vcol)?;
            }
            "conf-dir" => {
                need(v)?;
                let fields = lex::split_all(v);
                let dir = lex::text(fields[0]);
                let filters: Vec<String> = fields[1..].iter().map(|f| lex::text(f)).collect();
                self.include_dir(&dir, &filters, at, vcol)?;
            }
            _ => {
                return Err(at.err(
                    line.name_col,
                    ParseErrorKind::UnknownDirective(line.name.clone()),
                ));
            }
        }
        Ok(())
    }

    fn loader_err(&self, at: &At<'_>, col: u32, path: &str, e: LoadError) -> ParseError {
        at.err(
            col,
            ParseErrorKind::Include {
                path: path.to_string(),
                error: e,
            },
        )
    }

    fn include_file(&mut self, path: &str, at: &At<'_>, col: u32) -> Result<(), ParseError> {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(at.err(col, ParseErrorKind::IncludeDepth(MAX_INCLUDE_DEPTH)));
        }
        let text = match self.loader.as_mut() {
            Some(l) => l.read(path),
            None => Err(LoadError::no_loader()),
        }
        .map_err(|e| self.loader_err(at, col, path, e))?;
        self.depth += 1;
        let r = self.parse_text(&text, path);
        self.depth -= 1;
        r
    }

    fn include_dir(
        &mut self,
        dir: &str,
        filters: &[String],
        at: &At<'_>,
        col: u32,
    ) -> Result<(), ParseError> {
        let mut names = match self.loader.as_mut() {
            Some(l) => l.list_dir(dir),
            None => Err(LoadError::no_loader()),
        }
        .map_err(|e| self.loader_err(at, col, dir, e))?;
        names.sort();
        let includes: Vec<&str> = filters.iter().filter_map(|f| f.strip_prefix('*')).collect();
        for name in names {
            // dnsmasq skips editor and hidden files.
            if name.starts_with('.')
                || name.ends_with('~')
                || (name.starts_with('#') && name.ends_with('#'))
            {
                continue;
            }
            if !includes.is_empty() {
                if !includes.iter().any(|s| name.ends_with(s)) {
                    continue;
                }
            } else if filters.iter().any(|s| name.ends_with(s.as_str())) {
                continue;
            }
            let path = format!("{}/{}", dir.trim_end_matches('/'), name);
            self.include_file(&path, at, col)?;
        }
        Ok(())
    }

    /// Parses a rule directive. `Ok(None)`: an IPv6 line, accepted and ignored.
    fn rule(
        &mut self,
        name: &str,
        v: &[Ch],
        at: &At<'_>,
        vcol: u32,
    ) -> Result<Option<Rule>, ParseError> {
        let col0 = lex::col(v, vcol);
        Ok(Some(match name {
            "dhcp-match" => match self.parse_opt(v, at, col0, OptMode::Match)? {
                Some(r) => r,
                None => return Ok(None),
            },
            "dhcp-option" => match self.parse_opt(v, at, col0, OptMode::Option)? {
                Some(r) => r,
                None => return Ok(None),
            },
            "dhcp-option-force" => match self.parse_opt(v, at, col0, OptMode::Force)? {
                Some(r) => r,
                None => return Ok(None),
            },
            "dhcp-mac" => {
                let (t, rest) = lex::split(v);
                let Some(rest) = rest else {
                    return Err(at.bad(col0, "a tag and a MAC pattern are needed"));
                };
                let set = self.set_tag(t, at, col0)?;
                let txt = lex::text(rest);
                let pattern = MacPattern::parse(&txt).ok_or_else(|| {
                    at.bad(
                        lex::col(rest, col0),
                        format!("`{txt}` is not a MAC pattern"),
                    )
                })?;
                Rule::Mac(MacRule { set, pattern })
            }
            "dhcp-vendorclass" | "dhcp-userclass" => {
                let (t, rest) = lex::split(v);
                let Some(mut rest) = rest else {
                    return Err(at.bad(col0, "a tag and a class string are needed"));
                };
                let set = self.set_tag(t, at, col0)?;
                let mut enterprise = None;
                if name == "dhcp-vendorclass" && lex::starts_with(rest, "enterprise:") {
                    // DHCPv6 only: option 16's enterprise number must match;
                    // unused for IPv4 (spec §2.6).
                    let (e, r2) = lex::split(rest);
                    let t = lex::text(&e[11..]);
                    enterprise = Some(digits_u32(&t).ok_or_else(|| {
                        at.bad(
                            lex::col(e, col0),
                            format!("`{t}` is not an enterprise number"),
                        )
                    })?);
                    rest = r2.unwrap_or(&[]);
                }
                let kind = if name == "dhcp-vendorclass" {
                    ClassKind::Vendor
                } else {
                    ClassKind::User
                };
                Rule::Class(ClassRule {
                    set,
                    kind,
                    text: lex::text(rest),
                    enterprise,
                })
            }
            "dhcp-circuitid" | "dhcp-remoteid" | "dhcp-subscrid" => {
                let (t, rest) = lex::split(v);
                let Some(rest) = rest else {
                    return Err(at.bad(col0, "a tag and a value are needed"));
                };
                let set = self.set_tag(t, at, col0)?;
                let src = lex::text(rest);
                let is_hex =
                    src.contains(':') && src.chars().all(|c| c == ':' || c.is_ascii_hexdigit());
                let mut bytes = Vec::new();
                if is_hex {
                    value::parse_hex_into(&src, 255, &mut bytes, None)
                        .ok_or_else(|| at.bad(lex::col(rest, col0), "bad hex"))?;
                } else {
                    bytes.extend_from_slice(src.as_bytes());
                }
                let kind = match name {
                    "dhcp-circuitid" => RelayKind::CircuitId,
                    "dhcp-remoteid" => RelayKind::RemoteId,
                    _ => RelayKind::SubscriberId,
                };
                Rule::Relay(RelayRule {
                    set,
                    kind,
                    bytes,
                    src,
                })
            }
            "dhcp-name-match" => {
                let (t, rest) = lex::split(v);
                let Some(rest) = rest else {
                    return Err(at.bad(col0, "a tag and a name are needed"));
                };
                let set = self.set_tag(t, at, col0)?;
                let n = lex::text(rest);
                let (name, prefix) = match n.strip_suffix('*') {
                    Some(p) => (p.to_string(), true),
                    None => (n, false),
                };
                Rule::NameMatch(NameMatchRule { set, name, prefix })
            }
            "tag-if" => self.tag_if(v, at, col0)?,
            "dhcp-host" => self.host(v, at, col0)?,
            "dhcp-range" if v6::is_range6(v) => self.range6(v, at, col0)?,
            "dhcp-range" => match self.range(v, at, col0)? {
                Some(r) => r,
                None => return Ok(None),
            },
            "dhcp-boot" => self.boot(v, at, col0)?,
            "pxe-service" => self.service(v, at, col0)?,
            "pxe-prompt" => self.prompt(v, at, col0)?,
            "dhcp-ignore"
            | "dhcp-ignore-names"
            | "dhcp-broadcast"
            | "bootp-dynamic"
            | "dhcp-generate-names" => {
                let kind = match name {
                    "dhcp-ignore" => CondListKind::Ignore,
                    "dhcp-ignore-names" => CondListKind::IgnoreNames,
                    "dhcp-broadcast" => CondListKind::Broadcast,
                    "bootp-dynamic" => CondListKind::BootpDynamic,
                    _ => CondListKind::GenerateNames,
                };
                let mut cond = Vec::new();
                if !v.is_empty() {
                    for f in lex::split_all(v) {
                        let t = lex::text(f);
                        let n = t
                            .strip_prefix("tag:")
                            .or_else(|| t.strip_prefix("net:"))
                            .unwrap_or(&t);
                        cond.push(self.cond_item(n, at, lex::col(f, col0))?);
                    }
                }
                Rule::CondList(kind, Cond(cond))
            }
            "dhcp-reply-delay" => {
                let (cond, rest) = self.leading_tags(v, at, col0)?;
                let Some(rest) = rest else {
                    return Err(at.bad(col0, "a delay is needed"));
                };
                let t = lex::text(rest);
                if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) {
                    return Err(at.bad(
                        lex::col(rest, col0),
                        format!("`{t}` is not a number of seconds"),
                    ));
                }
                Rule::Delay(ReplyDelay {
                    cond,
                    secs: value::atoi(&t),
                })
            }
            _ => return Err(at.err(col0, ParseErrorKind::UnknownDirective(name.to_string()))),
        }))
    }

    /// `set:X` or bare `X` (only `set:` is stripped).
    fn set_tag(&mut self, f: &[Ch], at: &At<'_>, col0: u32) -> Result<TagId, ParseError> {
        let t = lex::text(f);
        let n = t.strip_prefix("set:").unwrap_or(&t);
        self.intern(n, at, lex::col(f, col0))
    }

    /// Leading `tag:`/`net:` fields (`dhcp_tags`).
    fn leading_tags<'v>(
        &mut self,
        v: &'v [Ch],
        at: &At<'_>,
        col0: u32,
    ) -> Result<(Cond, Option<&'v [Ch]>), ParseError> {
        let mut cond = Vec::new();
        let mut rest = Some(v);
        while let Some(r) = rest {
            if !(is_tag_prefix(r)) {
                break;
            }
            let (f, next) = lex::split(r);
            let t = lex::text(&f[4..]);
            cond.push(self.cond_item(&t, at, lex::col(f, col0))?);
            rest = next;
        }
        Ok((Cond(cond), rest))
    }

    fn tag_if(&mut self, v: &[Ch], at: &At<'_>, col0: u32) -> Result<Rule, ParseError> {
        let mut set = Vec::new();
        let mut cond = Vec::new();
        for f in lex::split_all(v) {
            let t = lex::text(f);
            let c = lex::col(f, col0);
            if t.len() < 5 {
                return Err(at.bad(c, format!("`{t}` is not set:TAG or tag:TAG")));
            }
            if let Some(n) = t.strip_prefix("set:") {
                set.push(self.intern(n, at, c)?);
            } else if let Some(n) = t.strip_prefix("tag:") {
                let (negated, n) = match n.strip_prefix(['!', '#']) {
                    Some(r) => (true, r),
                    None => (false, n),
                };
                let (wildcard, base) = match n.strip_suffix('*') {
                    Some(b) => (true, b),
                    None => (false, n),
                };
                let tag = if wildcard {
                    None
                } else {
                    Some(self.intern(base, at, c)?)
                };
                cond.push(WildTest {
                    name: base.to_string(),
                    negated,
                    wildcard,
                    tag,
                    mask: None,
                });
            } else {
                return Err(at.bad(c, format!("`{t}` is not set:TAG or tag:TAG")));
            }
        }
        if set.is_empty() {
            return Err(at.bad(col0, "at least one set:TAG is needed"));
        }
        Ok(Rule::TagIf(TagIfRule { set, cond }))
    }

    fn host(&mut self, v: &[Ch], at: &At<'_>, col0: u32) -> Result<Rule, ParseError> {
        let mut h = Host::default();
        for f in lex::split_all(v) {
            let t = lex::text(f);
            let c = lex::col(f, col0);
            if t.is_empty() {
                continue;
            }
            if t.contains(':') {
                let lower3 = t
                    .get(..3)
                    .map(|p| p.eq_ignore_ascii_case("id:"))
                    .unwrap_or(false);
                if lower3 {
                    let id = &t[3..];
                    if id.starts_with('*') {
                        h.ignore_client_id = true;
                    } else if id.contains(':') {
                        let mut b = Vec::new();
                        value::parse_hex_into(id, usize::MAX, &mut b, None)
                            .ok_or_else(|| at.bad(c, format!("`{id}` is not a hex client id")))?;
                        h.client_ids.push(b);
                    } else {
                        h.client_ids.push(id.as_bytes().to_vec());
                    }
                } else if let Some(n) = t.strip_prefix("tag:") {
                    let item = self.cond_item(n, at, c)?;
                    h.cond.0.push(item);
                } else if let Some(n) = t.strip_prefix("set:").or_else(|| t.strip_prefix("net:")) {
                    let id = self.intern(n, at, c)?;
                    h.set.push(id);
                } else if let Some(a6) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                    let a6 = a6.parse().map_err(|_| {
                        at.bad(c, format!("`{t}` is not an IPv6 address in brackets"))
                    })?;
                    h.addrs6.push(a6);
                } else {
                    let p = MacPattern::parse(&t)
                        .ok_or_else(|| at.bad(c, format!("bad hex constant `{t}`")))?;
                    h.macs.push(p);
                }
            } else if t.contains('.')
                && let Ok(a) = t.parse::<Ipv4Addr>()
            {
                h.addr = Some(a);
            } else if t == "infinite" {
                h.lease = Some(LeaseTime::Infinite);
            } else if t == "ignore" {
                h.ignore = true;
            } else if let Some(secs) = lease_secs(&t) {
                h.lease = Some(LeaseTime::Secs(secs.max(120)));
            } else if legal_hostname(&t) {
                h.name = Some(t);
            } else {
                return Err(at.bad(c, format!("bad DHCP host name `{t}`")));
            }
        }
        Ok(Rule::Host(h))
    }

    fn range(&mut self, v: &[Ch], at: &At<'_>, col0: u32) -> Result<Option<Rule>, ParseError> {
        // Tags are interned only once the line is known to be IPv4.
        let mut pending: Vec<(String, u32, bool)> = Vec::new();
        let mut rest = v;
        loop {
            let addr_like = rest.iter().take_while(|c| c.c != ',' || c.hidden).all(|c| {
                !c.hidden && (c.c == ' ' || c.c == '.' || c.c == ':' || c.c.is_ascii_hexdigit())
            });
            let (f, next) = lex::split(rest);
            match next {
                Some(n) if !addr_like => {
                    let t = lex::text(f);
                    let c = lex::col(f, col0);
                    if let Some(name) = t.strip_prefix("tag:").or_else(|| t.strip_prefix("net:")) {
                        if !name.is_empty() {
                            pending.push((name.to_string(), c, true));
                        }
                    } else {
                        if pending.iter().any(|(_, _, is_cond)| !is_cond) {
                            return Err(at.bad(c, "only one tag allowed"));
                        }
                        let n2 = t.strip_prefix("set:").unwrap_or(&t);
                        pending.push((n2.to_string(), c, false));
                    }
                    rest = n;
                }
                _ => break,
            }
        }
        let fields = lex::split_all(rest);
        let fc = |k: usize| fields.get(k).map_or(col0, |f| lex::col(f, col0));
        if fields.len() < 2 {
            return Err(at.bad(fc(0), "an address range (or proxy/static) is needed"));
        }
        let a0 = lex::text(fields[0]);
        let Ok(start) = a0.parse::<Ipv4Addr>() else {
            return Err(at.bad(fc(0), format!("`{a0}` is not an IPv4 address")));
        };
        let a1 = lex::text(fields[1]);
        let (mut mode, mut end) = (RangeMode::Dynamic, start);
        match a1.as_str() {
            "static" => mode = RangeMode::Static,
            "proxy" => mode = RangeMode::Proxy,
            _ => {
                end = a1
                    .parse()
                    .map_err(|_| at.bad(fc(1), format!("`{a1}` is not an IPv4 address")))?
            }
        }
        let (start, end) = if u32::from(start) > u32::from(end) {
            (end, start)
        } else {
            (start, end)
        };
        let mut cond = Vec::new();
        let mut set = None;
        for (name, c, is_cond) in pending {
            if is_cond {
                cond.push(self.cond_item(&name, at, c)?);
            } else {
                set = Some(self.intern(&name, at, c)?);
            }
        }
        let mut r = Range {
            cond: Cond(cond),
            set,
            start,
            end,
            mode,
            netmask: None,
            broadcast: None,
            lease: None,
        };
        let mut pos = 2;
        if let Some(f) = fields.get(2) {
            let t = lex::text(f);
            if t.contains('.')
                && let Ok(m) = t.parse::<Ipv4Addr>()
            {
                let mu = u32::from(m);
                if u32::from(start) & mu != u32::from(end) & mu {
                    return Err(at.bad(fc(2), "inconsistent DHCP range"));
                }
                r.netmask = Some(m);
                pos = 3;
                if let Some(f3) = fields.get(3) {
                    let t3 = lex::text(f3);
                    if t3.contains('.')
                        && let Ok(b) = t3.parse::<Ipv4Addr>()
                    {
                        r.broadcast = Some(b);
                        pos = 4;
                    }
                }
            }
        }
        if pos < fields.len() {
            if pos != fields.len() - 1 {
                return Err(at.bad(fc(pos + 1), "unexpected field after the lease time"));
            }
            let t = lex::text(fields[pos]);
            if t == "infinite" {
                r.lease = Some(LeaseTime::Infinite);
            } else if t == "deprecated" {
                // IPv6 only.
            } else if let Some(s) = lease_secs(&t) {
                r.lease = Some(LeaseTime::Secs(s.max(120)));
            } else {
                return Err(at.bad(fc(pos), format!("`{t}` is not a lease time")));
            }
        }
        Ok(Some(Rule::Range(r)))
    }

    fn boot(&mut self, v: &[Ch], at: &At<'_>, col0: u32) -> Result<Rule, ParseError> {
        let (cond, rest) = self.leading_tags(v, at, col0)?;
        let Some(rest) = rest else {
            return Err(at.bad(col0, "a file name is needed after the tags"));
        };
        let (f, more) = lex::split(rest);
        let file = non_empty(lex::text(f));
        let (mut server_name, mut server) = (None, None);
        if let Some(more) = more {
            let (s, more2) = lex::split(more);
            server_name = non_empty(lex::text(s));
            if let Some(addr) = more2 {
                let t = lex::text(addr);
                server = Some(match t.parse::<Ipv4Addr>() {
                    Ok(a) => ServerRef::Addr(a),
                    Err(_) if !t.is_empty() => ServerRef::Name(t),
                    Err(_) => return Err(at.bad(lex::col(addr, col0), "empty server address")),
                });
            }
        }
        Ok(Rule::Boot(Boot {
            cond,
            file,
            server_name,
            server,
        }))
    }

    fn service(&mut self, v: &[Ch], at: &At<'_>, col0: u32) -> Result<Rule, ParseError> {
        let (cond, rest) = self.leading_tags(v, at, col0)?;
        let Some(rest) = rest else {
            return Err(at.bad(col0, "CSA and menu text are needed"));
        };
        let (csa_f, more) = lex::split(rest);
        let Some(more) = more else {
            return Err(at.bad(lex::col(csa_f, col0), "menu text is needed after the CSA"));
        };
        let csa_src = lex::text(csa_f);
        let csa = match value::CSA
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&csa_src))
        {
            Some((_, v)) => *v,
            None => digits_u32(&csa_src)
                .filter(|n| *n <= u32::from(u16::MAX))
                .map(|n| n as u16)
                .ok_or_else(|| {
                    at.bad(
                        lex::col(csa_f, col0),
                        format!("`{csa_src}` is not a CSA name (x86PC, x86-64_EFI, ...) or number"),
                    )
                })?,
        };
        let (menu_f, more) = lex::split(more);
        let menu = lex::text(menu_f);
        let mut target = ServiceTarget::LocalBoot;
        let mut ty = 0;
        let mut server = None;
        if let Some(more) = more {
            let (t_f, srv) = lex::split(more);
            let t = lex::text(t_f);
            if let Some(n) = digits_u32(&t) {
                ty = n as u16;
                target = ServiceTarget::Type(ty);
            } else {
                ty = self.boottype;
                self.boottype = self.boottype.wrapping_add(1);
                target = ServiceTarget::Basename(t);
            }
            if let Some(srv) = srv {
                let s = lex::text(srv);
                server = match s.parse::<Ipv4Addr>() {
                    Ok(a) => Some(ServerRef::Addr(a)),
                    Err(_) if s.is_empty() => None,
                    Err(_) => Some(ServerRef::Name(s)),
                };
            }
        }
        Ok(Rule::Service(PxeService {
            cond,
            csa,
            csa_src,
            menu,
            target,
            ty,
            server,
        }))
    }

    fn prompt(&mut self, v: &[Ch], at: &At<'_>, col0: u32) -> Result<Rule, ParseError> {
        let (cond, rest) = self.leading_tags(v, at, col0)?;
        let Some(rest) = rest else {
            return Err(at.bad(col0, "prompt text is needed"));
        };
        let (p, t) = lex::split(rest);
        let text = lex::text(p);
        let timeout = t
            .and_then(|t| digits_u32(&lex::text(t)))
            .map_or(255, |n| n as u8);
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.push(timeout);
        bytes.extend_from_slice(text.as_bytes());
        if bytes.len() > 253 {
            return Err(at.bad(col0, "prompt too long"));
        }
        let with_nul = nul(&bytes);
        Ok(Rule::Option(OptionRule {
            cond,
            force: false,
            space: OptSpace::VendorPxe,
            code: 10,
            name: None,
            value: value::Encoded {
                bytes,
                kind: value::ValueKind::Text,
                wildcard: Vec::new(),
                local_at: Vec::new(),
            },
            text: false,
            with_nul,
            value_src: Vec::new(),
            prompt: Some((text, timeout)),
        }))
    }

    /// `parse_dhcp_opt` for dhcp-option, dhcp-option-force and dhcp-match.
    fn parse_opt(
        &mut self,
        v: &[Ch],
        at: &At<'_>,
        col0: u32,
        mode: OptMode,
    ) -> Result<Option<Rule>, ParseError> {
        let mut cond = Vec::new();
        let mut space = OptSpace::Plain;
        let mut code: Option<u8> = None;
        let mut vi_match: Option<u32> = None;
        let mut name: Option<String> = None;
        let mut known: Option<OptType> = None;
        if v6::is_option6(v) {
            return self.parse_opt6(v, at, col0, mode).map(Some);
        }
        let mut rest = Some(v);
        let mut value: &[Ch] = &[];
        let mut code_col = col0;
        while let Some(r) = rest {
            let (f, next) = lex::split(r);
            let t = lex::text(f);
            let c = lex::col(f, col0);
            code_col = c;
            if !t.is_empty()
                && t.chars().all(|ch| ch.is_ascii_digit())
                && f.iter().all(|ch| !ch.hidden)
            {
                let n = value::atoi(&t);
                if n > 255 {
                    return Err(at.bad(c, format!("option {n} is not a DHCPv4 option (0-255)")));
                }
                code = Some(n as u8);
                if space == OptSpace::Plain {
                    known = value::by_code(n as u8).map(|e| e.ty);
                }
                value = next.unwrap_or(&[]);
                break;
            } else if let Some(nm) = t.strip_prefix("option:") {
                let Some(e) = value::by_name(nm) else {
                    return Err(at.bad(c, format!("unknown option name `{nm}`")));
                };
                if e.internal && mode != OptMode::Match {
                    return Err(at.bad(
                        c,
                        format!("option `{nm}` is set by the server, not by dhcp-option"),
                    ));
                }
                code = Some(e.code);
                known = Some(e.ty);
                name = Some(nm.to_string());
                value = next.unwrap_or(&[]);
                break;
            } else if t.starts_with("option6:") {
                return Err(at.bad(c, "option6: after a DHCPv4 option number"));
            } else if let Some(cls) = t.strip_prefix("vendor:") {
                if mode == OptMode::Match || matches!(space, OptSpace::Encap(_)) {
                    return Err(at.bad(c, "inappropriate vendor:"));
                }
                space = OptSpace::Vendor(cls.to_string());
            } else if let Some(n) = t.strip_prefix("encap:") {
                if mode == OptMode::Match || matches!(space, OptSpace::Vendor(_)) {
                    return Err(at.bad(c, "inappropriate encap:"));
                }
                let n = value::atoi(n);
                if n > 255 {
                    return Err(at.bad(c, "encap: needs an option number 0-255"));
                }
                space = OptSpace::Encap(n as u8);
            } else if let Some(n) = t.strip_prefix("vi-encap:") {
                let e = value::atoi(n);
                if mode == OptMode::Match {
                    vi_match = Some(e);
                    value = next.unwrap_or(&[]);
                    break;
                }
                space = OptSpace::ViEncap(e);
            } else {
                let n = t
                    .strip_prefix("tag:")
                    .or_else(|| t.strip_prefix("net:"))
                    .or_else(|| t.strip_prefix("set:"))
                    .unwrap_or(&t);
                if mode == OptMode::Match {
                    let id = self.intern(n, at, c)?;
                    cond.push(TagTest {
                        tag: id,
                        negated: false,
                    });
                } else {
                    let item = self.cond_item(n, at, c)?;
                    cond.push(item);
                }
            }
            rest = next;
        }
        if code.is_none() && vi_match.is_none() {
            return Err(at.bad(code_col, "no option number or option:NAME found"));
        }
        let max_len = match space {
            OptSpace::Plain => 255,
            OptSpace::ViEncap(_) => 250,
            _ => 253,
        };
        let encapsulated = space != OptSpace::Plain;
        let cx = TypeCtx {
            known,
            for_match: mode == OptMode::Match,
            encapsulated,
            max_len,
        };
        let vcol = lex::col(value, code_col);
        let enc = value::encode(value, cx).map_err(|e| {
            at.bad(
                vcol,
                match e {
                    ValueError::BadIp => "bad IP address".to_string(),
                    ValueError::BadIpv4 => "bad IPv4 address (a comma list of numbers is read as addresses: use colon hex)".to_string(),
                    ValueError::BadHex => "bad hex constant".to_string(),
                    ValueError::TooLong(n) => format!("dhcp-option too long ({n} bytes, at most {max_len})"),
                    ValueError::BadName => "bad domain name in option value".to_string(),
                },
            )
        })?;
        if mode == OptMode::Match {
            if cond.len() != 1 {
                return Err(at.bad(col0, "illegal dhcp-match: exactly one tag to set is needed"));
            }
            let source = match (vi_match, code) {
                (Some(e), _) => MatchSource::ViEncap(e),
                (None, Some(c)) => MatchSource::Option(c),
                (None, None) => {
                    return Err(at.bad(code_col, "no option number or option:NAME found"));
                }
            };
            let value_src = value.to_vec();
            let value = if value.is_empty() { None } else { Some(enc) };
            return Ok(Some(Rule::Match(MatchRule {
                set: cond[0].tag,
                source,
                option_name: name,
                value,
                value_src,
            })));
        }
        let code = code.unwrap_or(0);
        let text = enc.kind == value::ValueKind::Text
            || matches!(code, 66 | 67) && space == OptSpace::Plain;
        let with_nul = nul(&enc.bytes);
        Ok(Some(Rule::Option(OptionRule {
            cond: Cond(cond),
            force: mode == OptMode::Force,
            space,
            code,
            name,
            value: enc,
            text,
            with_nul,
            value_src: value.to_vec(),
            prompt: None,
        })))
    }

    /// Resolves wildcard masks and builds the evaluation indexes.
    pub(crate) fn finish(self) -> Config {
        let Builder {
            settings,
            mut items,
            ignored,
            mut tags,
            ..
        } = self;
        let mut intern_fixed = |n: &str| -> TagId {
            if let Some(i) = tags.iter().position(|t| t == n) {
                TagId(i as u16)
            } else if tags.len() < MAX_TAGS {
                tags.push(n.to_string());
                TagId((tags.len() - 1) as u16)
            } else {
                // The table is full; these well-known tags then alias the
                // last slot, which only matters for configurations at the
                // limit that also never test them.
                TagId((MAX_TAGS - 1) as u16)
            }
        };
        let known = intern_fixed("known");
        let known_othernet = intern_fixed("known-othernet");
        let bootp = intern_fixed("bootp");
        for item in items.iter_mut() {
            if let Rule::TagIf(t) = &mut item.rule {
                for w in t.cond.iter_mut().filter(|w| w.wildcard) {
                    let mut m = TagSet::new();
                    for (i, name) in tags.iter().enumerate() {
                        if name.starts_with(w.name.as_str()) {
                            m.insert(TagId(i as u16));
                        }
                    }
                    w.mask = Some(Box::new(m));
                }
            }
        }
        let mut ix = Index::default();
        for (i, item) in items.iter().enumerate() {
            let i = i as u32;
            match &item.rule {
                Rule::Match(m) if matches!(m.source, MatchSource::Option6(_)) => {
                    ix.matches6.push(i)
                }
                Rule::Match(_) => ix.matches.push(i),
                Rule::Range6(_) => ix.ranges6.push(i),
                Rule::Option6(_) => {}
                Rule::Mac(_) => ix.mac.push(i),
                Rule::Class(_) => ix.class.push(i),
                Rule::Relay(_) => ix.relay.push(i),
                Rule::NameMatch(_) => ix.name_match.push(i),
                Rule::TagIf(_) => ix.tag_if.push(i),
                Rule::Host(h) => {
                    ix.hosts.push(i);
                    ix.tagged_hosts |= !h.cond.is_untagged();
                }
                Rule::Range(_) => ix.ranges.push(i),
                Rule::Boot(_) => ix.boots.push(i),
                Rule::Service(_) => ix.services.push(i),
                Rule::Option(_) => ix.options.push(i),
                Rule::CondList(CondListKind::Ignore, _) => ix.ignores.push(i),
                Rule::CondList(CondListKind::Broadcast, _) => ix.broadcasts.push(i),
                Rule::CondList(CondListKind::BootpDynamic, _) => ix.bootp_dynamic.push(i),
                Rule::CondList(CondListKind::IgnoreNames, _) => ix.ignore_names.push(i),
                Rule::CondList(CondListKind::GenerateNames, _) => ix.generate_names.push(i),
                Rule::Delay(_) => ix.delays.push(i),
            }
        }
        // Prepended lists: list order is reverse config order.
        ix.hosts.reverse();
        ix.ranges.reverse();
        ix.boots.reverse();
        ix.options.reverse();
        ix.delays.reverse();
        ix.mac.reverse();
        ix.matches.reverse();
        ix.class.reverse();
        ix.ranges6.reverse();
        ix.matches6.reverse();
        for (i, item) in items.iter().enumerate().rev() {
            if let Rule::Option6(o) = &item.rule {
                match ix.opt6_codes.iter_mut().find(|(c, _)| *c == o.code) {
                    Some((_, v)) => v.push(i as u32),
                    None => ix.opt6_codes.push((o.code, alloc::vec![i as u32])),
                }
            }
        }
        for &i in &ix.options {
            if let Some(Item {
                rule: Rule::Option(o),
                ..
            }) = items.get(i as usize)
            {
                if o.prompt.is_some() {
                    ix.pxe_enabled = true;
                }
                if o.space == OptSpace::Plain {
                    match ix.opt_codes.iter_mut().find(|(c, _)| *c == o.code) {
                        Some((_, v)) => v.push(i),
                        None => ix.opt_codes.push((o.code, alloc::vec![i])),
                    }
                }
            }
        }
        ix.pxe_enabled |= !ix.services.is_empty();
        ix.tags_sorted = (0..tags.len() as u16).collect();
        ix.tags_sorted
            .sort_by(|a, b| tags[usize::from(*a)].cmp(&tags[usize::from(*b)]));
        Config {
            settings,
            items,
            ignored,
            tags,
            index: ix,
            known,
            known_othernet,
            bootp,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptMode {
    Option,
    Force,
    Match,
}

fn is_tag_prefix(r: &[Ch]) -> bool {
    r.len() >= 4
        && (lex::eq(&r[..4], "tag:") || lex::eq(&r[..4], "net:"))
        && r[..4].iter().all(|c| !c.hidden)
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() { None } else { Some(s) }
}

fn nul(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(b.len() + 1);
    v.extend_from_slice(b);
    v.push(0);
    v
}

fn digits_u32(s: &str) -> Option<u32> {
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(value::atoi(s))
}

/// Lease time `N[s|m|h|d|w]` (dnsmasq `dhcp-range`/`dhcp-host`).
fn lease_secs(t: &str) -> Option<u32> {
    let (num, fac) = match t.chars().last()? {
        'w' | 'W' => (&t[..t.len() - 1], 7 * 24 * 3600),
        'd' | 'D' => (&t[..t.len() - 1], 24 * 3600),
        'h' | 'H' => (&t[..t.len() - 1], 3600),
        'm' | 'M' => (&t[..t.len() - 1], 60),
        's' | 'S' => (&t[..t.len() - 1], 1),
        _ => (t, 1u32),
    };
    digits_u32(num).map(|n| n.wrapping_mul(fac))
}

fn legal_hostname(t: &str) -> bool {
    !t.is_empty()
        && !t.starts_with('-')
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}
