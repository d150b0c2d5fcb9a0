//! Printing a configuration back in the dnsmasq dialect, in canonical form
//! (`set:`/`tag:` prefixes, `tag:!x` for legacy `net:#x`), so that the
//! printed text parses to the same rules (`pxe-server check`).

use alloc::string::String;
use core::fmt::{self, Display, Write};

use crate::config::*;
use crate::lex;
use crate::tags::TagTest;

/// Quotes a positional field that would otherwise read as a leading
/// `tag:`/`net:` condition (or a `enterprise:` field).
fn q_field(s: &str) -> String {
    if ["tag:", "net:", "enterprise:"]
        .iter()
        .any(|p| s.starts_with(p))
    {
        let mut o = String::new();
        lex::quote(s, &mut o);
        o
    } else {
        q(s)
    }
}

/// Quotes a tag name only when it must be (an empty name stays empty).
fn q_tag(s: &str) -> String {
    if s.is_empty() { String::new() } else { q(s) }
}

/// A rule printed against its configuration's tag names.
pub struct RuleDisplay<'a> {
    config: &'a Config,
    rule: &'a Rule,
}

impl Config {
    /// Prints one rule in canonical dialect form.
    pub fn rule_display<'a>(&'a self, rule: &'a Rule) -> RuleDisplay<'a> {
        RuleDisplay { config: self, rule }
    }
}

fn q(s: &str) -> String {
    let mut o = String::new();
    lex::quote_if_needed(s, &mut o);
    o
}

impl RuleDisplay<'_> {
    /// A tag name, quoted when it holds characters with meaning.
    fn t(&self, tag: crate::tags::TagId) -> String {
        q_tag(self.config.tag_name(tag))
    }

    fn cond(&self, f: &mut fmt::Formatter<'_>, c: &[TagTest]) -> fmt::Result {
        for t in c {
            write!(
                f,
                "tag:{}{},",
                if t.negated { "!" } else { "" },
                self.t(t.tag)
            )?;
        }
        Ok(())
    }
}

fn server(s: &ServerRef) -> String {
    match s {
        ServerRef::Addr(a) => alloc::format!("{a}"),
        ServerRef::Name(n) => q(n),
    }
}

fn lease(l: LeaseTime) -> String {
    match l {
        LeaseTime::Infinite => String::from("infinite"),
        LeaseTime::Secs(s) => alloc::format!("{s}s"),
    }
}

impl Display for RuleDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rule {
            Rule::Match(m) => {
                write!(f, "dhcp-match=set:{},", self.t(m.set))?;
                match (&m.source, &m.option_name) {
                    (MatchSource::ViEncap(e), _) => write!(f, "vi-encap:{e}")?,
                    (MatchSource::Option6(_), Some(n)) => write!(f, "option6:{n}")?,
                    (MatchSource::Option6(n), None) => write!(f, "option6:{n}")?,
                    (MatchSource::Option(_), Some(n)) => write!(f, "option:{n}")?,
                    (MatchSource::Option(n), None) => write!(f, "{n}")?,
                }
                if !m.value_src.is_empty() {
                    let mut s = String::from(",");
                    lex::unlex(&m.value_src, &mut s);
                    f.write_str(&s)?;
                }
                Ok(())
            }
            Rule::Mac(m) => write!(f, "dhcp-mac=set:{},{}", self.t(m.set), m.pattern),
            Rule::Class(k) => {
                let name = match k.kind {
                    ClassKind::Vendor => "dhcp-vendorclass",
                    ClassKind::User => "dhcp-userclass",
                };
                write!(f, "{name}=set:{},", self.t(k.set))?;
                if let Some(e) = k.enterprise {
                    write!(f, "enterprise:{e},")?;
                }
                f.write_str(&q_field(&k.text))
            }
            Rule::Relay(r) => {
                let name = match r.kind {
                    RelayKind::CircuitId => "dhcp-circuitid",
                    RelayKind::RemoteId => "dhcp-remoteid",
                    RelayKind::SubscriberId => "dhcp-subscrid",
                };
                write!(f, "{name}=set:{},{}", self.t(r.set), q(&r.src))
            }
            Rule::NameMatch(n) => {
                write!(
                    f,
                    "dhcp-name-match=set:{},{}{}",
                    self.t(n.set),
                    q(&n.name),
                    if n.prefix { "*" } else { "" }
                )
            }
            Rule::TagIf(t) => {
                f.write_str("tag-if=")?;
                let mut first = true;
                for s in &t.set {
                    write!(f, "{}set:{}", if first { "" } else { "," }, self.t(*s))?;
                    first = false;
                }
                for w in &t.cond {
                    write!(
                        f,
                        ",tag:{}{}{}",
                        if w.negated { "!" } else { "" },
                        q_tag(&w.name),
                        if w.wildcard { "*" } else { "" }
                    )?;
                }
                Ok(())
            }
            Rule::Host(h) => {
                f.write_str("dhcp-host=")?;
                let mut parts: alloc::vec::Vec<String> = alloc::vec::Vec::new();
                for m in &h.macs {
                    parts.push(alloc::format!("{m}"));
                }
                if h.ignore_client_id {
                    parts.push(String::from("id:*"));
                }
                for id in &h.client_ids {
                    let mut s = String::from("id:");
                    for (i, b) in id.iter().enumerate() {
                        if i > 0 {
                            s.push(':');
                        }
                        let _ = write!(s, "{b:02x}");
                    }
                    if id.len() == 1 {
                        s.push(':');
                    }
                    parts.push(s);
                }
                for t in &h.set {
                    parts.push(alloc::format!("set:{}", self.t(*t)));
                }
                for t in &h.cond.0 {
                    parts.push(alloc::format!(
                        "tag:{}{}",
                        if t.negated { "!" } else { "" },
                        self.t(t.tag)
                    ));
                }
                if let Some(a) = h.addr {
                    parts.push(alloc::format!("{a}"));
                }
                for a in &h.addrs6 {
                    parts.push(alloc::format!("[{a}]"));
                }
                if let Some(n) = &h.name {
                    parts.push(n.clone());
                }
                if let Some(l) = h.lease {
                    parts.push(lease(l));
                }
                if h.ignore {
                    parts.push(String::from("ignore"));
                }
                if parts.is_empty() {
                    // An entry with no fields still needs a value.
                    return f.write_str(",");
                }
                f.write_str(&parts.join(","))
            }
            Rule::Range(r) => {
                f.write_str("dhcp-range=")?;
                self.cond(f, &r.cond.0)?;
                if let Some(t) = r.set {
                    write!(f, "set:{},", self.t(t))?;
                }
                write!(f, "{}", r.start)?;
                match r.mode {
                    RangeMode::Proxy => f.write_str(",proxy")?,
                    RangeMode::Static => f.write_str(",static")?,
                    RangeMode::Dynamic => write!(f, ",{}", r.end)?,
                }
                if let Some(m) = r.netmask {
                    write!(f, ",{m}")?;
                    if let Some(b) = r.broadcast {
                        write!(f, ",{b}")?;
                    }
                }
                if let Some(l) = r.lease {
                    write!(f, ",{}", lease(l))?;
                }
                Ok(())
            }
            Rule::Boot(b) => {
                f.write_str("dhcp-boot=")?;
                self.cond(f, &b.cond.0)?;
                f.write_str(&b.file.as_deref().map(q_field).unwrap_or_default())?;
                if b.server_name.is_some() || b.server.is_some() {
                    write!(
                        f,
                        ",{}",
                        b.server_name.as_deref().map(q).unwrap_or_default()
                    )?;
                    if let Some(s) = &b.server {
                        write!(f, ",{}", server(s))?;
                    }
                } else if b.file.is_none() {
                    f.write_str(",")?;
                }
                Ok(())
            }
            Rule::Service(s) => {
                f.write_str("pxe-service=")?;
                self.cond(f, &s.cond.0)?;
                write!(f, "{},{}", s.csa_src, q(&s.menu))?;
                match &s.target {
                    ServiceTarget::LocalBoot => {}
                    ServiceTarget::Type(t) => write!(f, ",{t}")?,
                    ServiceTarget::Basename(b) => write!(f, ",{}", q(b))?,
                }
                if let Some(srv) = &s.server {
                    write!(f, ",{}", server(srv))?;
                }
                Ok(())
            }
            Rule::Option(o) => {
                if let Some((text, timeout)) = &o.prompt {
                    f.write_str("pxe-prompt=")?;
                    self.cond(f, &o.cond.0)?;
                    return write!(f, "{},{}", q_field(text), timeout);
                }
                f.write_str(if o.force {
                    "dhcp-option-force="
                } else {
                    "dhcp-option="
                })?;
                self.cond(f, &o.cond.0)?;
                match &o.space {
                    OptSpace::Plain | OptSpace::VendorPxe => {}
                    OptSpace::Encap(n) => write!(f, "encap:{n},")?,
                    OptSpace::Vendor(cls) => write!(f, "vendor:{},", q_tag(cls))?,
                    OptSpace::ViEncap(e) => write!(f, "vi-encap:{e},")?,
                }
                match &o.name {
                    Some(n) => write!(f, "option:{n}")?,
                    None => write!(f, "{}", o.code)?,
                }
                if !o.value_src.is_empty() {
                    let mut s = String::from(",");
                    lex::unlex(&o.value_src, &mut s);
                    f.write_str(&s)?;
                }
                Ok(())
            }
            Rule::CondList(k, cond) => {
                let name = match k {
                    CondListKind::Ignore => "dhcp-ignore",
                    CondListKind::IgnoreNames => "dhcp-ignore-names",
                    CondListKind::Broadcast => "dhcp-broadcast",
                    CondListKind::BootpDynamic => "bootp-dynamic",
                    CondListKind::GenerateNames => "dhcp-generate-names",
                };
                f.write_str(name)?;
                for (i, t) in cond.0.iter().enumerate() {
                    write!(
                        f,
                        "{}tag:{}{}",
                        if i == 0 { "=" } else { "," },
                        if t.negated { "!" } else { "" },
                        self.t(t.tag)
                    )?;
                }
                Ok(())
            }
            Rule::Delay(d) => {
                f.write_str("dhcp-reply-delay=")?;
                self.cond(f, &d.cond.0)?;
                write!(f, "{}", d.secs)
            }
            Rule::Range6(r) => self.range6(f, r),
            Rule::Option6(o) => {
                f.write_str(if o.force {
                    "dhcp-option-force="
                } else {
                    "dhcp-option="
                })?;
                self.cond(f, &o.cond.0)?;
                match &o.name {
                    Some(n) => write!(f, "option6:{n}")?,
                    None => write!(f, "option6:{}", o.code)?,
                }
                if !o.value_src.is_empty() {
                    let mut s = String::from(",");
                    lex::unlex(&o.value_src, &mut s);
                    f.write_str(&s)?;
                }
                Ok(())
            }
        }
    }
}

impl RuleDisplay<'_> {
    fn range6(&self, f: &mut fmt::Formatter<'_>, r: &Range6) -> fmt::Result {
        f.write_str("dhcp-range=")?;
        self.cond(f, &r.cond.0)?;
        if let Some(t) = r.set {
            write!(f, "set:{},", self.t(t))?;
        }
        write!(f, "{}", r.start)?;
        if r.end_given {
            write!(f, ",{}", r.end)?;
        }
        if let Some(c) = &r.constructor {
            write!(f, ",constructor:{}", q(c))?;
        }
        let m = &r.modes;
        let modes = [
            (m.static_only, "static"),
            (m.ra_only && !m.slaac, "ra-only"),
            (m.slaac, "slaac"),
            (m.ra_names, "ra-names"),
            (m.ra_stateless, "ra-stateless"),
            (m.ra_advrouter, "ra-advrouter"),
            (m.off_link, "off-link"),
        ];
        for (on, name) in modes {
            if on {
                write!(f, ",{name}")?;
            }
        }
        if r.prefix_given {
            write!(f, ",{}", r.prefix_len)?;
        }
        if r.deprecated {
            f.write_str(",deprecated")?;
        } else if let Some(l) = r.lease {
            write!(f, ",{}", lease(l))?;
        }
        Ok(())
    }
}

fn ra_param(f: &mut fmt::Formatter<'_>, p: &RaParam) -> fmt::Result {
    write!(f, "ra-param={}", q(&p.interface))?;
    match p.mtu {
        Some(0) => f.write_str(",mtu:off")?,
        Some(n) => write!(f, ",mtu:{n}")?,
        None => {}
    }
    match p.priority {
        Some(RaPriority::High) => f.write_str(",high")?,
        Some(RaPriority::Low) => f.write_str(",low")?,
        None => {}
    }
    if let Some(i) = p.interval {
        write!(f, ",{i}")?;
    }
    if let Some(l) = p.lifetime {
        write!(f, ",{l}")?;
    }
    writeln!(f)
}

fn list(f: &mut fmt::Formatter<'_>, name: &str, items: &[String]) -> fmt::Result {
    for i in items {
        writeln!(f, "{name}={}", q(i))?;
    }
    Ok(())
}

impl Display for Config {
    /// The understood configuration: settings first, then every rule in
    /// configuration order, then the ignored directives as comments.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        list(f, "interface", &s.interfaces)?;
        list(f, "except-interface", &s.except_interfaces)?;
        list(f, "no-dhcp-interface", &s.no_dhcp_interfaces)?;
        for a in &s.listen_addresses {
            writeln!(f, "listen-address={a}")?;
        }
        let flags = [
            (s.bind_interfaces, "bind-interfaces"),
            (s.bind_dynamic, "bind-dynamic"),
            (s.tftp_secure, "tftp-secure"),
            (s.tftp_lowercase, "tftp-lowercase"),
            (s.tftp_no_blocksize, "tftp-no-blocksize"),
            (s.tftp_single_port, "tftp-single-port"),
            (s.tftp_no_fail, "tftp-no-fail"),
            (s.leasefile_ro, "leasefile-ro"),
            (s.authoritative, "dhcp-authoritative"),
            (s.log_dhcp, "log-dhcp"),
            (s.no_ping, "no-ping"),
            (s.sequential_ip, "dhcp-sequential-ip"),
            (s.no_override, "dhcp-no-override"),
            (s.ignore_client_id, "dhcp-ignore-clid"),
            (s.rapid_commit, "dhcp-rapid-commit"),
            (s.enable_ra, "enable-ra"),
        ];
        for (on, name) in flags {
            if on {
                writeln!(f, "{name}")?;
            }
        }
        for p in &s.ra_params {
            ra_param(f, p)?;
        }
        if let Some(t) = &s.enable_tftp {
            if t.is_empty() {
                writeln!(f, "enable-tftp")?;
            } else {
                writeln!(
                    f,
                    "enable-tftp={}",
                    t.iter()
                        .map(|i| q(i))
                        .collect::<alloc::vec::Vec<_>>()
                        .join(",")
                )?;
            }
        }
        for (dir, iface) in &s.tftp_roots {
            match iface {
                Some(i) => writeln!(f, "tftp-root={},{}", q(dir), q(i))?,
                None => writeln!(f, "tftp-root={}", q(dir))?,
            }
        }
        match s.tftp_unique_root {
            Some(UniqueRoot::Ip) => writeln!(f, "tftp-unique-root=ip")?,
            Some(UniqueRoot::Mac) => writeln!(f, "tftp-unique-root=mac")?,
            None => {}
        }
        if let Some(n) = s.tftp_max {
            writeln!(f, "tftp-max={n}")?;
        }
        if let Some(n) = s.tftp_mtu {
            writeln!(f, "tftp-mtu={n}")?;
        }
        if let Some((a, b)) = s.tftp_port_range {
            writeln!(f, "tftp-port-range={a},{b}")?;
        }
        if let Some(l) = &s.lease_file {
            writeln!(f, "dhcp-leasefile={}", q(l))?;
        }
        if let Some(p) = s.dns_port {
            writeln!(f, "port={p}")?;
        }
        if let Some(n) = s.lease_max {
            writeln!(f, "dhcp-lease-max={n}")?;
        }
        if !s.pxe_vendors.is_empty() {
            writeln!(
                f,
                "dhcp-pxe-vendor={}",
                s.pxe_vendors
                    .iter()
                    .map(|v| q(v))
                    .collect::<alloc::vec::Vec<_>>()
                    .join(",")
            )?;
        }
        if let Some(d) = &s.domain {
            writeln!(f, "domain={}", q(d))?;
        }
        if let Some(u) = &s.user {
            writeln!(f, "user={}", q(u))?;
        }
        if let Some(g) = &s.group {
            writeln!(f, "group={}", q(g))?;
        }
        match &s.log_facility {
            Some(LogFacility::Stderr) => writeln!(f, "log-facility=-")?,
            Some(LogFacility::File(p)) => writeln!(f, "log-facility={}", q(p))?,
            Some(LogFacility::Syslog(fac)) => writeln!(f, "log-facility={}", fac.name())?,
            None => {}
        }
        let e = &s.extensions;
        if !e.http_ports.is_empty()
            || e.http_root.is_some()
            || e.ipxe_script.is_some()
            || e.ipxe_script_dir.is_some()
            || e.status_page.is_some()
            || e.journey_max.is_some()
            || e.load_balance_wait.is_some()
        {
            writeln!(f, "# pxe-server extensions")?;
        }
        for p in &e.http_ports {
            writeln!(f, "http-port={p}")?;
        }
        if let Some(r) = &e.http_root {
            writeln!(f, "http-root={}", q(r))?;
        }
        if let Some(r) = &e.ipxe_script {
            writeln!(f, "ipxe-script={}", q(r))?;
        }
        if let Some(r) = &e.ipxe_script_dir {
            writeln!(f, "ipxe-script-dir={}", q(r))?;
        }
        match e.status_page {
            Some(crate::config::StatusPage {
                addr: Some(a),
                port,
            }) => writeln!(f, "status-page={a}:{port}")?,
            Some(crate::config::StatusPage { addr: None, port }) => {
                writeln!(f, "status-page={port}")?
            }
            None => {}
        }
        if let Some(n) = e.journey_max {
            writeln!(f, "journey-max={n}")?;
        }
        if let Some(n) = e.load_balance_wait {
            writeln!(f, "load-balance-wait={n}")?;
        }
        for item in &self.items {
            writeln!(f, "{}", self.rule_display(&item.rule))?;
        }
        for ig in &self.ignored {
            writeln!(f, "# ignored: {} ({}) at {}", ig.name, ig.reason, ig.loc)?;
        }
        Ok(())
    }
}
