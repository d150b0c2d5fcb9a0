//! The dialect parser: errors with file/line/column/hint, ignored
//! directives, includes, typed settings, and print → parse round trips.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;
use common::*;

use proptest::prelude::*;
use pxe_rules::config::{
    LeaseTime, MatchSource, OptSpace, RangeMode, Rule, ServerRef, ServiceTarget,
};
use pxe_rules::{Config, LoadError, LoadErrorKind, Loader, ParseErrorKind};
use std::collections::HashMap;

fn err(text: &str) -> pxe_rules::ParseError {
    match Config::parse_str(text, "e.conf") {
        Ok(c) => panic!("{text:?} parsed: {c}"),
        Err(e) => e,
    }
}

#[test]
fn errors_name_file_line_column_and_hint() {
    let e = err("# c\n\ndhcp-boot=tag:ipxe\n");
    assert_eq!((e.file.as_str(), e.line, e.column), ("e.conf", 3, 11));
    assert_eq!(
        e.hint,
        "dhcp-boot expects [tag:T,...]FILENAME[,SERVERNAME[,ADDRESS]]"
    );
    assert!(
        e.to_string().starts_with("e.conf:3:11: bad `dhcp-boot`"),
        "{e}"
    );

    let e = err("enable-tftp\n  dhcp-bot=x\n");
    assert_eq!((e.line, e.column), (2, 3));
    assert_eq!(e.kind, ParseErrorKind::UnknownDirective("dhcp-bot".into()));

    let e = err("pxe-service=x86PC,\"unterminated\n");
    assert_eq!(
        (e.line, e.column, e.kind),
        (1, 19, ParseErrorKind::MissingQuote)
    );

    let e = err("dhcp-range=192.168.2.100,foo\n");
    assert_eq!(e.column, 26);
    assert!(e.hint.starts_with("dhcp-range expects"));

    let e = err("pxe-service=Amiga,menu,file\n");
    assert_eq!(e.column, 13);

    let e = err("dhcp-option=224,1,2\n");
    assert!(e.to_string().contains("bad IPv4 address"), "{e}");
    let e = err("dhcp-option=option:router,abc\n");
    assert!(e.to_string().contains("bad IP address"), "{e}");
    let e = err("dhcp-option=option:lease-time,10\n");
    assert!(e.to_string().contains("set by the server"), "{e}");
    let e = err("dhcp-match=a,b,175\n");
    assert!(e.to_string().contains("illegal dhcp-match"), "{e}");
    let e = err("dhcp-match=set:x,encap:175,1\n");
    assert!(e.to_string().contains("inappropriate encap:"), "{e}");
    let e = err("dhcp-option=vendor:PXEClient,encap:175,1,2\n");
    assert!(e.to_string().contains("inappropriate encap:"), "{e}");
    let e = err("tag-if=tag:a\n");
    assert!(e.to_string().contains("set:TAG"), "{e}");
    let e = err("dhcp-range=set:a,set:b,10.0.0.1,10.0.0.9\n");
    assert!(e.to_string().contains("only one tag allowed"), "{e}");
    let e = err("bind-interfaces=yes\n");
    assert_eq!(e.kind, ParseErrorKind::UnexpectedValue("bind-interfaces"));
    let e = err("dhcp-boot\n");
    assert_eq!(e.kind, ParseErrorKind::MissingValue("dhcp-boot"));
    let e = err("http-port=0\n");
    assert!(e.hint.contains("1-65535"));
    let e = err("status-page=10.0.0.300:9090\n");
    assert!(e.to_string().contains("not an IPv4 address"), "{e}");
    let e = err("status-page=0\n");
    assert!(e.to_string().contains("1-65535"), "{e}");
    let e = err("journey-max=0\n");
    assert!(e.to_string().contains("1-1048576"), "{e}");
    let e = err(&format!("dhcp-option=224,\"{}\"\n", "x".repeat(256)));
    assert!(e.to_string().contains("too long"), "{e}");
    let e = err("domain=,x\n");
    assert!(e.to_string().contains("empty domain"), "{e}");
    let e = err("conf-file=/etc/other.conf\n");
    assert!(
        matches!(&e.kind, ParseErrorKind::Include { error, .. } if error.kind == LoadErrorKind::NoLoader),
        "{e}"
    );
    assert!(e.to_string().contains("no file loader"), "{e}");
}

#[test]
fn dns_and_unrelated_directives_are_ignored_and_reported() {
    let c = Config::parse_str(
        "log-queries\ndomain-needed\nbogus-priv\nserver=8.8.8.8\nno-resolv\npid-file=/run/dnsmasq.pid\nenable-ra\ndhcp-range=::1,::400,constructor:eth0\ndhcp-option=option6:dns-server,[::]\n",
        "x.conf",
    )
    .unwrap();
    let names: Vec<&str> = c.ignored.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "log-queries",
            "domain-needed",
            "bogus-priv",
            "server",
            "no-resolv",
            "pid-file",
        ]
    );
    assert_eq!(c.ignored[3].loc.line, 4);
    // The DHCPv6 lines are rules (pxe-server's DHCPv6 service), not ignored.
    assert!(c.settings.enable_ra);
    assert_eq!(c.items.len(), 2);
    assert!(c.to_string().contains("# ignored: log-queries"));
}

#[test]
fn user_group_and_log_facility_are_settings() {
    use pxe_rules::config::{LogFacility, SyslogFacility};
    let c = Config::parse_str("user=pxe\ngroup=netboot\nlog-facility=LOCAL5\n", "u.conf").unwrap();
    let s = &c.settings;
    assert_eq!(s.user.as_deref(), Some("pxe"));
    assert_eq!(s.group.as_deref(), Some("netboot"));
    let Some(LogFacility::Syslog(f)) = s.log_facility else {
        panic!("{:?}", s.log_facility);
    };
    assert_eq!((f.name(), f.code()), ("local5", 21));
    assert!(c.ignored.is_empty());
    let text = c.to_string();
    assert!(
        text.contains("user=pxe\ngroup=netboot\nlog-facility=local5\n"),
        "{text}"
    );
    let file = Config::parse_str("log-facility=/var/log/pxe.log\n", "u.conf").unwrap();
    assert_eq!(
        file.settings.log_facility,
        Some(LogFacility::File("/var/log/pxe.log".to_string()))
    );
    let err = Config::parse_str("log-facility=-\n", "u.conf").unwrap();
    assert_eq!(err.settings.log_facility, Some(LogFacility::Stderr));
    assert_eq!(
        SyslogFacility::from_name("daemon"),
        Some(SyslogFacility::DAEMON)
    );
}

#[test]
fn an_unknown_log_facility_is_an_error_at_its_value() {
    let e = Config::parse_str("\nlog-facility=daemons\n", "u.conf").unwrap_err();
    assert_eq!((e.line, e.column), (2, 14), "{e}");
    assert!(
        e.to_string().contains("`daemons` is not a syslog facility"),
        "{e}"
    );
    let e = Config::parse_str("user=\n", "u.conf").unwrap_err();
    assert_eq!(e.line, 1, "{e}");
}

#[test]
fn settings_are_typed() {
    let c = Config::parse_str(
        "interface=eth0,eth1
bind-interfaces
dhcp-range=set:lab,10.0.0.10,10.0.0.50,255.255.255.0,10.0.0.255,12h
dhcp-range=10.1.0.0,proxy,255.255.0.0
dhcp-range=10.2.0.1,static,infinite
enable-tftp=eth0
tftp-root=/srv/tftp,eth0
tftp-unique-root=mac
tftp-secure
tftp-no-blocksize
tftp-max=100
tftp-mtu=1400
tftp-port-range=7000,7100
dhcp-leasefile=/var/lib/pxe/leases
dhcp-authoritative
log-dhcp
port=0
dhcp-lease-max=500
dhcp-host=52:54:00:12:34:56,id:01:52:54:00:12:34:56,set:a,10.0.0.20,node1,1h
dhcp-host=id:*,52:54:00:*:*:*,tag:lab,ignore
http-port=8080
http-port=80
http-root=/srv/http
ipxe-script=/etc/pxe/boot.ipxe.tmpl
ipxe-script-dir=/etc/pxe/hosts
status-page=10.0.0.1:9090
journey-max=4096
",
        "s.conf",
    )
    .unwrap();
    let s = &c.settings;
    assert_eq!(s.interfaces, ["eth0", "eth1"]);
    assert!(
        s.bind_interfaces && s.tftp_secure && s.tftp_no_blocksize && s.authoritative && s.log_dhcp
    );
    assert_eq!(s.enable_tftp, Some(vec!["eth0".to_string()]));
    assert_eq!(
        s.tftp_roots,
        [("/srv/tftp".to_string(), Some("eth0".to_string()))]
    );
    assert_eq!(
        (s.tftp_max, s.tftp_mtu, s.tftp_port_range),
        (Some(100), Some(1400), Some((7000, 7100)))
    );
    assert_eq!(s.lease_file.as_deref(), Some("/var/lib/pxe/leases"));
    assert_eq!((s.dns_port, s.lease_max), (Some(0), Some(500)));
    assert_eq!(s.extensions.http_ports, [8080, 80]);
    assert_eq!(s.extensions.http_root.as_deref(), Some("/srv/http"));
    assert_eq!(
        s.extensions.ipxe_script.as_deref(),
        Some("/etc/pxe/boot.ipxe.tmpl")
    );
    assert_eq!(
        s.extensions.ipxe_script_dir.as_deref(),
        Some("/etc/pxe/hosts")
    );
    assert_eq!(
        s.extensions.status_page,
        Some(pxe_rules::config::StatusPage {
            addr: Some(std::net::Ipv4Addr::new(10, 0, 0, 1)),
            port: 9090
        })
    );
    assert_eq!(s.extensions.journey_max, Some(4096));
    let ranges: Vec<_> = c.ranges().map(|(_, r)| r.clone()).collect();
    assert_eq!(ranges[0].lease, Some(LeaseTime::Secs(43200)));
    assert_eq!(
        ranges[0].netmask.map(|m| m.to_string()).as_deref(),
        Some("255.255.255.0")
    );
    assert_eq!(ranges[1].mode, RangeMode::Proxy);
    assert_eq!(ranges[2].mode, RangeMode::Static);
    assert_eq!(ranges[2].lease, Some(LeaseTime::Infinite));
    let hosts: Vec<_> = c.hosts().map(|(_, h)| h.clone()).collect();
    assert_eq!(
        hosts[0].addr.map(|a| a.to_string()).as_deref(),
        Some("10.0.0.20")
    );
    assert_eq!(hosts[0].name.as_deref(), Some("node1"));
    assert_eq!(hosts[0].lease, Some(LeaseTime::Secs(3600)));
    assert_eq!(
        hosts[0].client_ids,
        [vec![1, 0x52, 0x54, 0, 0x12, 0x34, 0x56]]
    );
    assert!(hosts[1].ignore && hosts[1].ignore_client_id && hosts[1].macs[0].has_wildcard());
}

#[test]
fn legacy_net_prefix_per_directive() {
    let c = Config::parse_str(
        "dhcp-match=net:a,175\ndhcp-range=net:lab,10.0.0.1,10.0.0.9\ndhcp-host=52:54:00:12:34:56,net:h\ndhcp-vendorclass=net:v,PXE\ndhcp-boot=net:#a,f\ndhcp-option=set:x,3,1.2.3.4\n",
        "l.conf",
    )
    .unwrap();
    let txt = c.to_string();
    // dhcp-match: net: sets. dhcp-range: net: is a condition. dhcp-host:
    // net: sets. dhcp-vendorclass: only set: is stripped. dhcp-boot: #
    // negates. dhcp-option: even set: is a condition.
    for want in [
        "dhcp-match=set:a,175",
        "dhcp-range=tag:lab,10.0.0.1,10.0.0.9",
        "dhcp-host=52:54:00:12:34:56,set:h",
        "dhcp-vendorclass=set:net:v,PXE",
        "dhcp-boot=tag:!a,f",
        "dhcp-option=tag:x,3,1.2.3.4",
    ] {
        assert!(txt.contains(want), "{want} in\n{txt}");
    }
}

#[test]
fn typed_rules() {
    let c = Config::parse_str(
        "dhcp-match=set:efi,option:client-arch,7\ndhcp-match=set:v,vi-encap:3561,abc\npxe-service=tag:x,X86-64_EFI,\"EFI\",snponly,boot.example\npxe-service=11,arm,7\ndhcp-boot=f,,10.0.0.1\ndhcp-boot=g,name,tftp.example\ndhcp-option=vendor:,1,2\n",
        "t.conf",
    )
    .unwrap();
    let rules: Vec<&Rule> = c.items.iter().map(|i| &i.rule).collect();
    assert!(
        matches!(rules[0], Rule::Match(m) if m.source == MatchSource::Option(93) && m.value.as_ref().unwrap().bytes == [0, 7])
    );
    assert!(matches!(rules[1], Rule::Match(m) if m.source == MatchSource::ViEncap(3561)));
    assert!(
        matches!(rules[2], Rule::Service(s) if s.csa == 7 && s.ty == 0x8000
        && s.target == ServiceTarget::Basename("snponly".into()) && s.server == Some(ServerRef::Name("boot.example".into())))
    );
    assert!(
        matches!(rules[3], Rule::Service(s) if s.csa == 11 && s.ty == 7 && s.target == ServiceTarget::Type(7))
    );
    assert!(
        matches!(rules[4], Rule::Boot(b) if b.server_name.is_none() && b.server == Some(ServerRef::Addr([10, 0, 0, 1].into())))
    );
    assert!(
        matches!(rules[5], Rule::Boot(b) if b.server_name.as_deref() == Some("name") && b.server == Some(ServerRef::Name("tftp.example".into())))
    );
    assert!(
        matches!(rules[6], Rule::Option(o) if o.space == OptSpace::Vendor(String::new()) && o.value.bytes == [2])
    );
}

struct MapLoader(HashMap<String, String>);
impl Loader for MapLoader {
    fn read(&mut self, path: &str) -> Result<String, LoadError> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| LoadError::new(LoadErrorKind::NotFound, "No such file or directory"))
    }
    fn list_dir(&mut self, dir: &str) -> Result<Vec<String>, LoadError> {
        let p = format!("{dir}/");
        let v: Vec<String> = self
            .0
            .keys()
            .filter_map(|k| k.strip_prefix(&p).map(str::to_string))
            .collect();
        if v.is_empty() {
            Err(LoadError::new(
                LoadErrorKind::NotFound,
                "No such file or directory",
            ))
        } else {
            Ok(v)
        }
    }
}

#[test]
fn includes() {
    let mut l = MapLoader(HashMap::from([
        ("/etc/d/b.conf".to_string(), "dhcp-boot=b\n".to_string()),
        ("/etc/d/a.conf".to_string(), "dhcp-boot=a\n".to_string()),
        ("/etc/d/c.bak".to_string(), "dhcp-boot=bak\n".to_string()),
        (
            "/etc/d/.hidden".to_string(),
            "dhcp-boot=hidden\n".to_string(),
        ),
        (
            "/etc/d/x.conf~".to_string(),
            "dhcp-boot=tilde\n".to_string(),
        ),
        (
            "/etc/one.conf".to_string(),
            "dhcp-boot=one\nbroken line here\n".to_string(),
        ),
        (
            "/etc/loop.conf".to_string(),
            "conf-file=/etc/loop.conf\n".to_string(),
        ),
    ]));
    let c = Config::parse_with_loader("conf-dir=/etc/d,.bak\ndhcp-boot=main\n", "m.conf", &mut l)
        .unwrap();
    let files: Vec<String> = c
        .items
        .iter()
        .filter_map(|i| match &i.rule {
            Rule::Boot(b) => b.file.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(files, ["a", "b", "main"]);
    assert_eq!(c.items[0].loc.file, "/etc/d/a.conf");
    let c = Config::parse_with_loader("conf-dir=/etc/d,*.conf\n", "m.conf", &mut l).unwrap();
    assert_eq!(c.items.len(), 2);
    // An error inside an included file names that file.
    let e = Config::parse_with_loader("conf-file=/etc/one.conf\n", "m.conf", &mut l).unwrap_err();
    assert_eq!((e.file.as_str(), e.line, e.column), ("/etc/one.conf", 2, 1));
    let e =
        Config::parse_with_loader("conf-file=/etc/missing.conf\n", "m.conf", &mut l).unwrap_err();
    assert_eq!((e.file.as_str(), e.line, e.column), ("m.conf", 1, 11));
    assert!(e.to_string().contains("No such file"), "{e}");
    assert!(
        matches!(&e.kind, ParseErrorKind::Include { path, error }
            if path == "/etc/missing.conf" && error.kind == LoadErrorKind::NotFound),
        "{e:?}"
    );
    let e = Config::parse_with_loader("conf-file=/etc/loop.conf\n", "m.conf", &mut l).unwrap_err();
    assert_eq!(
        e.kind,
        ParseErrorKind::IncludeDepth(pxe_rules::MAX_INCLUDE_DEPTH)
    );
}

#[test]
fn load_from_the_file_system() {
    let dir = std::env::temp_dir().join(format!("pxe-rules-load-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("d")).unwrap();
    std::fs::write(dir.join("d/10-x.conf"), "dhcp-boot=x\n").unwrap();
    let main = dir.join("main.conf");
    std::fs::write(
        &main,
        format!("{SEED_PROXY}conf-dir={}\n", dir.join("d").display()),
    )
    .unwrap();
    let c = Config::load(main.to_str().unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
    let c = c.unwrap();
    assert_eq!(c.items.len(), 4);
}

/// Found by the rules_parse fuzz target: values must compare equal
/// whatever column they were read from, and a bare range tag round-trips.
#[test]
fn fuzz_regression_round_trip() {
    let text = "dhcp-range=ets:lan,10.0.0.10,10.0.0.50,255.255.255.0,12h\ndhcp-host=52:54:00:*:*:*,id:*,set:vm,tag:lan,09.0.0.5,nodeinterfac080\ndhcp-match=x,60,\"a b\"\ndhcp-option=y,224,1.2.3.4\n";
    let a = Config::parse_str(text, "a.conf").unwrap();
    let b = Config::parse_str(&a.to_string(), "b.conf").unwrap();
    assert_eq!(a, b, "{a}");
    // Tag names and texts with commas, spaces or '#' are quoted on print.
    let text = "dhcp-match=set:\"a,b\",175\ndhcp-boot=tag:\"a,b\",tag:!\"c #d\",f\ndhcp-range=set:\"x y\",10.0.0.1,10.0.0.9\ntag-if=set:\"e,f\",tag:\"a,\"*\ndhcp-name-match=set:n,\"h #1\"*\ndhcp-option=vendor:\"P C\",1,2\ndhcp-host=,\n";
    let a = Config::parse_str(text, "a.conf").unwrap();
    let b = Config::parse_str(&a.to_string(), "b.conf").unwrap_or_else(|e| panic!("{e}\n{a}"));
    assert_eq!(a, b, "{a}");
    assert!(a.tag("a,b").is_some() && a.tag("c #d").is_some() && a.tag("x y").is_some());
    let text =
        "enable-tftp=net:#ixp,ex43PC, \"splashtop by ricudh.c#ixp\"\ntftp-root=\"/a b\",\"e #1\"\n";
    let a = Config::parse_str(text, "a.conf").unwrap();
    assert_eq!(
        a,
        Config::parse_str(&a.to_string(), "b.conf").unwrap(),
        "{a}"
    );
    // Range conditions and set tag in either order.
    let text = "dhcp-range=set:lan,net:.0.10,10.0.0.50,255.255.255.1,12h\ndhcp-host=52:54,175\n";
    let a = Config::parse_str(text, "a.conf").unwrap();
    assert_eq!(
        a,
        Config::parse_str(&a.to_string(), "b.conf").unwrap(),
        "{a}"
    );
    // A one-octet hardware address stays a hardware address.
    let text = "dhcp-host=52:,infiEClient,6,2b\ndhcp-mac=set:x,*:\n";
    let a = Config::parse_str(text, "a.conf").unwrap();
    assert_eq!(
        a,
        Config::parse_str(&a.to_string(), "b.conf").unwrap(),
        "{a}"
    );
    // Positional text that looks like a condition stays quoted.
    let text = "dhcp-boot=\"tag:x\"\npxe-prompt=tag:a,\"net:b\",3\ndhcp-vendorclass=set:v,\"enterprise:5\"\n";
    let a = Config::parse_str(text, "a.conf").unwrap();
    assert_eq!(
        a,
        Config::parse_str(&a.to_string(), "b.conf").unwrap(),
        "{a}"
    );
    // Long text client ids and NULs in names survive printing.
    let text = format!(
        "interface=eth05\0\0d-ivterf,12h\ndhcp-host=52:54:00:*:*:*,id:c\u{8}\0{}\n",
        "o".repeat(400)
    );
    let a = Config::parse_str(&text, "a.conf").unwrap();
    assert_eq!(
        a,
        Config::parse_str(&a.to_string(), "b.conf").unwrap(),
        "{a}"
    );
    // DHCPv6 lines are rules that print back; a broken one is an error.
    for text in [
        "dhcp-range=set:v6,tag:x,::1,::400,constructor:eth0,ra-names,64,12h\n",
        "dhcp-option=tag:y,option6:dns-server,[::]\n",
        "dhcp-range=tag:x,set:v6,fd00:77::100,fd00:77::1ff,static,64,infinite\ndhcp-host=id:00:04:1e:00,[fd00:77::50],pc1\n",
        "dhcp-vendorclass=set:h,enterprise:343,HTTPClient\ndhcp-match=set:e,option6:61,7\n",
        "enable-ra\nra-param=eth0,mtu:1400,high,60,1200\n",
    ] {
        let a = Config::parse_str(text, "a.conf").unwrap_or_else(|e| panic!("{e}: {text}"));
        let b = Config::parse_str(&a.to_string(), "b.conf").unwrap_or_else(|e| panic!("{e}\n{a}"));
        assert_eq!(a, b, "{a}");
        assert_eq!(a.to_string(), b.to_string());
        assert!(a.ignored.is_empty(), "{text}");
    }
    let e = Config::parse_str(
        "dhcp-match=ipxe,17cp-rnage=set:lan,10.0.0.10,10.0.0.5dhc0,option6:255.255.25dhcp-p-m",
        "a.conf",
    )
    .unwrap_err();
    assert!(e.to_string().contains("unknown DHCPv6 option name"), "{e}");
}

#[test]
fn seeds_print_and_parse_back() {
    for text in [
        SEED_REAL,
        SEED_PROXY,
        SEED_PROXY_PHP,
        SEED_PROXY_PHP_NEXTSERVER,
        SEED_LOGGING,
    ] {
        let a = Config::parse_str(text, "a.conf").unwrap();
        let printed = a.to_string();
        let b = Config::parse_str(&printed, "b.conf").unwrap_or_else(|e| panic!("{e}\n{printed}"));
        assert_eq!(a, b, "{printed}");
        assert_eq!(rules_only(&printed), rules_only(&b.to_string()));
    }
    let p = Config::parse_str(SEED_PROXY, "a.conf").unwrap().to_string();
    assert!(
        p.contains("pxe-service=tag:!ipxe,x86PC,\"splashtop by richud.com\",undionly.kkpxe"),
        "{p}"
    );
}

/// The printed text without comment lines (ignored directives are listed
/// as comments and do not survive a round trip, by design).
fn rules_only(s: &str) -> String {
    s.lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- property tests ----

fn tag() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("ipxe"),
        Just("efi"),
        Just("bios"),
        Just("lan"),
        Just("known"),
        Just("a-1"),
        Just("x_y"),
        Just("\"a, #b\"")
    ]
    .prop_map(str::to_string)
}

fn cond() -> impl Strategy<Value = String> {
    prop::collection::vec((tag(), any::<bool>(), 0u8..3), 0..3).prop_map(|v| {
        v.into_iter()
            .map(|(t, neg, form)| match (form, neg) {
                (0, true) => format!("tag:!{t},"),
                (0, false) => format!("tag:{t},"),
                (1, true) => format!("net:#{t},"),
                _ => format!("net:{t},"),
            })
            .collect()
    })
}

/// dhcp-option conditions may also be bare names (and even `set:`).
fn cond_opt() -> impl Strategy<Value = String> {
    prop::collection::vec((tag(), any::<bool>(), 0u8..3), 0..3).prop_map(|v| {
        v.into_iter()
            .map(|(t, neg, form)| match (form, neg) {
                (0, true) => format!("!{t},"),
                (0, false) => format!("{t},"),
                (1, _) => format!("set:{t},"),
                (_, true) => format!("tag:!{t},"),
                _ => format!("net:{t},"),
            })
            .collect()
    })
}

fn word() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9._/-]{0,12}"
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..100_000).prop_map(|n| n.to_string()),
        (0u32..300, prop_oneof![Just("b"), Just("s"), Just("i")])
            .prop_map(|(n, s)| format!("{n}{s}")),
        prop::collection::vec(any::<u8>(), 1..6).prop_map(|v| v
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")),
        (any::<[u8; 4]>(), any::<[u8; 4]>()).prop_map(|(a, b)| format!(
            "{}.{}.{}.{},{}.{}.{}.{}",
            a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]
        )),
        word(),
        "[ -~&&[^\"\\\\]]{0,20}".prop_map(|s| format!("\"{s}\"")),
        Just("http://192.168.2.1:81/".to_string()),
    ]
}

/// Option codes whose known type accepts every generated value (address
/// options would reject text, which the error branch covers anyway).
fn code() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(17u8),
        Just(60),
        Just(66),
        Just(67),
        Just(77),
        Just(93),
        Just(97),
        Just(175),
        128u8..136,
        200u8..254
    ]
}

fn ip() -> impl Strategy<Value = String> {
    any::<[u8; 4]>().prop_map(|a| format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]))
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        (tag(), code(), prop::option::of(value())).prop_map(|(t, c, v)| match v {
            Some(v) => format!("dhcp-match={t},{c},{v}"),
            None => format!("dhcp-match={t},{c}"),
        }),
        (cond_opt(), any::<bool>(), code(), value(), 0u8..4).prop_map(|(c, f, code, v, sp)| {
            let space = match sp {
                0 => String::new(),
                1 => "encap:175,".into(),
                2 => "vendor:PXEClient,".into(),
                _ => "vi-encap:3561,".into(),
            };
            format!(
                "dhcp-option{}={c}{space}{code},{v}",
                if f { "-force" } else { "" }
            )
        }),
        (
            cond(),
            word(),
            prop::option::of((prop::option::of(word()), prop::option::of(ip())))
        )
            .prop_map(|(c, f, more)| match more {
                None => format!("dhcp-boot={c}{f}"),
                Some((s, None)) => format!("dhcp-boot={c}{f},{}", s.unwrap_or_default()),
                Some((s, Some(a))) => format!("dhcp-boot={c}{f},{},{a}", s.unwrap_or_default()),
            }),
        (
            cond(),
            prop_oneof![
                Just("x86PC"),
                Just("X86-64_EFI"),
                Just("ARM64_EFI"),
                Just("16")
            ],
            "[A-Za-z ]{1,20}",
            prop::option::of((
                prop_oneof![word(), (0u16..100).prop_map(|n| n.to_string())],
                prop::option::of(ip())
            ))
        )
            .prop_map(|(c, csa, menu, t)| match t {
                None => format!("pxe-service={c}{csa},\"{menu}\""),
                Some((b, None)) => format!("pxe-service={c}{csa},\"{menu}\",{b}"),
                Some((b, Some(a))) => format!("pxe-service={c}{csa},\"{menu}\",{b},{a}"),
            }),
        (cond(), "[A-Za-z0-9 ]{1,20}", any::<u8>())
            .prop_map(|(c, t, n)| format!("pxe-prompt={c}\"{t}\",{n}")),
        (
            prop::collection::vec(tag(), 1..3),
            prop::collection::vec((tag(), any::<bool>(), any::<bool>()), 0..3)
        )
            .prop_map(|(s, t)| {
                let mut parts: Vec<String> = s.iter().map(|s| format!("set:{s}")).collect();
                parts.extend(t.iter().map(|(t, n, w)| {
                    format!(
                        "tag:{}{t}{}",
                        if *n { "!" } else { "" },
                        if *w { "*" } else { "" }
                    )
                }));
                format!("tag-if={}", parts.join(","))
            }),
        (cond(), prop::option::of(tag()), 0u8..255, 0u8..255, 0u8..3).prop_map(
            |(c, s, a, b, mode)| {
                let set = s.map(|s| format!("set:{s},")).unwrap_or_default();
                match mode {
                    0 => format!("dhcp-range={c}{set}10.{a}.{b}.10,10.{a}.{b}.20,1h"),
                    1 => format!("dhcp-range={c}{set}10.{a}.{b}.0,proxy"),
                    _ => format!("dhcp-range={c}{set}10.{a}.{b}.0,static,255.255.255.0,infinite"),
                }
            }
        ),
        (
            any::<[u8; 6]>(),
            prop::option::of(tag()),
            prop::option::of(ip()),
            prop::option::of("[a-z][a-z0-9-]{0,8}")
        )
            .prop_map(|(m, t, a, n)| {
                let mut s = format!(
                    "dhcp-host={:02x}:{:02x}:{:02x}:{:02x}:*:{:02x}",
                    m[0], m[1], m[2], m[3], m[5]
                );
                if let Some(t) = t {
                    s += &format!(",set:{t}");
                }
                if let Some(a) = a {
                    s += &format!(",{a}");
                }
                if let Some(n) = n {
                    s += &format!(",{n}");
                }
                s
            }),
        (tag(), any::<[u8; 3]>()).prop_map(|(t, m)| format!(
            "dhcp-mac=set:{t},{:02x}:{:02x}:*:*:*:{:02x}",
            m[0], m[1], m[2]
        )),
        (tag(), "[A-Za-z0-9:]{1,12}").prop_map(|(t, s)| format!("dhcp-vendorclass=set:{t},{s}")),
        (tag(), "[A-Za-z0-9]{1,12}").prop_map(|(t, s)| format!("dhcp-userclass=set:{t},{s}")),
        (cond(), 0u32..10).prop_map(|(c, n)| format!("dhcp-reply-delay={c}{n}")),
        cond()
            .prop_filter("needs a tag", |c| !c.is_empty())
            .prop_map(|c| format!("dhcp-ignore={}", c.trim_end_matches(','))),
        word().prop_map(|w| format!("tftp-root=/{w}")),
        (1u16..65535).prop_map(|p| format!("http-port={p}")),
        Just("enable-tftp".to_string()),
        Just("log-queries".to_string()),
        word().prop_map(|w| format!("user={w}")),
        word().prop_map(|w| format!("group={w}")),
        prop_oneof![
            Just("log-facility=-".to_string()),
            Just("log-facility=local3".to_string()),
            word().prop_map(|w| format!("log-facility=/var/log/{w}")),
        ],
        Just("# a comment".to_string()),
        Just(String::new()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    /// Configuration text parses, prints, and parses back to the same
    /// rules; printing is a fixed point.
    #[test]
    fn print_parse_round_trip(lines in prop::collection::vec(line(), 0..25)) {
        let text = lines.join("\n");
        match Config::parse_str(&text, "p.conf") {
            Ok(a) => {
                let printed = a.to_string();
                let b = Config::parse_str(&printed, "q.conf");
                prop_assert!(b.is_ok(), "{:?}\n--- original\n{}\n--- printed\n{}", b.err(), text, printed);
                let b = b.unwrap();
                prop_assert_eq!(&a, &b, "\n--- original\n{}\n--- printed\n{}", text, printed);
                prop_assert_eq!(rules_only(&printed), rules_only(&b.to_string()));
            }
            // Generated values may be legitimately invalid (e.g. a number
            // for an address option); such text must fail with a position.
            Err(e) => {
                prop_assert!(e.line >= 1 && e.column >= 1, "{}", e);
                prop_assert!(false, "generated text must parse: {}\n{}", e, text);
            }
        }
    }

    /// Arbitrary text never panics the parser.
    #[test]
    fn parser_never_panics(text in "(\\PC|[=,:\"#!\\n\\\\])*") {
        let _ = Config::parse_str(&text, "r.conf");
    }
}
