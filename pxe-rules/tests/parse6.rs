//! The DHCPv6 dialect: IPv6 ranges (constructor, modes, prefix length,
//! lease), `option6:` values by name and number, `dhcp-match` on
//! `option6:`, vendor classes with an enterprise number, `dhcp-host` with
//! `[IPv6]` addresses, `enable-ra` / `ra-param`; errors at
//! file:line:column.

#![allow(clippy::panic, clippy::unwrap_used)]

use pxe_rules::Config;
use pxe_rules::config::{ClassKind, LeaseTime, MatchSource, RaPriority, Range6, Rule, Value6Kind};

fn parse(text: &str) -> Config {
    Config::parse_str(text, "v6.conf").unwrap_or_else(|e| panic!("{e}"))
}

fn range6(c: &Config) -> &Range6 {
    c.ranges6().next().map(|(_, r)| r).expect("a v6 range")
}

#[test]
fn ranges_with_addresses_constructor_modes_prefix_and_lease() {
    let c = parse("dhcp-range=fd00:77::100,fd00:77::1ff,64,1h\n");
    let r = range6(&c);
    assert_eq!(
        r.start,
        "fd00:77::100".parse::<std::net::Ipv6Addr>().unwrap()
    );
    assert_eq!(r.end, "fd00:77::1ff".parse::<std::net::Ipv6Addr>().unwrap());
    assert_eq!((r.prefix_len, r.lease), (64, Some(LeaseTime::Secs(3600))));
    assert!(r.modes.stateful() && r.constructor.is_none());
    assert!(c.dhcp6_enabled());
    assert_eq!(c.ranges().count(), 0, "no IPv4 range");

    let c = parse("dhcp-range=tag:lab,set:v6,::1,::400,constructor:eth*,ra-names,slaac,64,12h\n");
    let r = range6(&c);
    assert_eq!(r.constructor.as_deref(), Some("eth*"));
    assert!(r.modes.ra_names && r.modes.ra_only && r.modes.slaac());
    assert_eq!(c.tag_name(r.set.unwrap()), "v6");
    assert_eq!(c.tag_name(r.cond.0[0].tag), "lab");
    let net: std::net::Ipv6Addr = "fd00:77::9".parse().unwrap();
    let (s, e) = r.on_network(net).unwrap();
    assert_eq!(
        (s.to_string(), e.to_string()),
        ("fd00:77::1".into(), "fd00:77::400".into())
    );
    assert!(r.contains(net, "fd00:77::3ff".parse().unwrap()));
    assert!(!r.contains(net, "fd00:77::401".parse().unwrap()));

    // Reversed ends are swapped; a lone start is a one-address range;
    // short lease times are raised to 120 s as dnsmasq does.
    let r = parse("dhcp-range=fd00::9,fd00::2,30s\n");
    assert_eq!(
        range6(&r).start,
        "fd00::2".parse::<std::net::Ipv6Addr>().unwrap()
    );
    assert_eq!(range6(&r).lease, Some(LeaseTime::Secs(120)));
    let r = parse("dhcp-range=fd00::5,static\n");
    assert!(range6(&r).modes.static_only);
}

#[test]
fn range_errors_name_the_column() {
    for (text, col, what) in [
        (
            "dhcp-range=fd00::1,fe80::9\n",
            12,
            "inconsistent DHCPv6 range",
        ),
        ("dhcp-range=fd00::1,fd00::9,48\n", 12, "at least 64"),
        (
            "dhcp-range=fd00::1,fd00::400,constructor:eth0\n",
            12,
            "prefix must be zero",
        ),
        (
            "dhcp-range=fd00::1,fd00::9,64,1h,x\n",
            34,
            "unexpected field",
        ),
        ("dhcp-range=fd00::1,fd00::9,soon\n", 28, "not a lease time"),
        (
            "dhcp-range=fd00::1,fd00::9,ra-only,96\n",
            12,
            "exactly 64 for RA",
        ),
        ("dhcp-range=fd00:::1,fd00::9\n", 12, "not an IPv6 address"),
    ] {
        let e = Config::parse_str(text, "v6.conf").unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.line, e.column),
            ("v6.conf", 1, col),
            "{e}"
        );
        assert!(e.to_string().contains(what), "{e}");
    }
}

#[test]
fn option6_values_by_name_and_number() {
    let c = parse(
        "dhcp-option=option6:bootfile-url,tftp://[fd00:77::1]/ipxe.efi\n\
         dhcp-option=tag:efi,option6:59,http://[fd00:77::1]/boot.ipxe\n\
         dhcp-option=option6:bootfile-param,a,bc\n\
         dhcp-option=option6:dns-server,[::],[fd00::53]\n\
         dhcp-option-force=option6:16,00:00:01:57:00:0a:48:54:54:50:43:6c:69:65:6e:74\n\
         dhcp-option=option6:information-refresh-time,1h\n",
    );
    let opts: Vec<_> = c
        .items
        .iter()
        .filter_map(|i| match &i.rule {
            Rule::Option6(o) => Some(o),
            _ => None,
        })
        .collect();
    assert_eq!(opts.len(), 6);
    assert_eq!((opts[0].code, opts[0].kind), (59, Value6Kind::Text));
    assert_eq!(opts[0].bytes, b"tftp://[fd00:77::1]/ipxe.efi");
    assert_eq!(c.tag_name(opts[1].cond.0[0].tag), "efi");
    assert_eq!(opts[2].bytes, [0, 1, b'a', 0, 2, b'b', b'c']);
    assert_eq!(
        (opts[3].bytes.len(), opts[3].local_at.as_slice()),
        (32, &[0u16][..])
    );
    assert!(opts[4].force, "{:?}", opts[4]);
    assert_eq!(
        (opts[4].kind, opts[4].bytes.len()),
        (Value6Kind::Hex, 16),
        "{:?}",
        opts[4]
    );
    assert_eq!(opts[5].bytes, 3600u32.to_be_bytes());

    for (text, col, what) in [
        (
            "dhcp-option=option6:bootfile-uri,x\n",
            13,
            "unknown DHCPv6 option name",
        ),
        ("dhcp-option=option6:ia-na,1\n", 13, "set by the server"),
        (
            "dhcp-option=option6:dns-server,10.0.0.1\n",
            32,
            "not an IPv6 address",
        ),
        ("dhcp-option=option6:70000,1\n", 13, "0-65535"),
        (
            "dhcp-option=option6:99,10.0.0.1\n",
            24,
            "IPv4 address in a DHCPv6 option",
        ),
        (
            "\ndhcp-option=encap:17,option6:1,2\n",
            13,
            "encapsulated DHCPv6",
        ),
    ] {
        let e = Config::parse_str(text, "v6.conf").unwrap_err();
        assert_eq!((e.column, e.to_string().contains(what)), (col, true), "{e}");
    }
}

#[test]
fn matches_classes_hosts_and_router_advertisements() {
    let c = parse(
        "dhcp-match=set:efi64,option6:61,7\n\
         dhcp-match=set:ipxe6,option6:user-class,iPXE\n\
         dhcp-vendorclass=set:http,enterprise:343,HTTPClient\n\
         dhcp-userclass=set:ipxe,iPXE\n\
         dhcp-host=52:54:00:ef:06:02,[fd00:77::50],pc2\n\
         dhcp-host=id:00:04:1e:00:17:00,[fd00:77::51]\n\
         enable-ra\n\
         ra-param=eth0,mtu:1400,low,30,600\n\
         ra-param=*,0\n",
    );
    let rules: Vec<&Rule> = c.items.iter().map(|i| &i.rule).collect();
    let Rule::Match(m) = rules[0] else { panic!() };
    assert_eq!(m.source, MatchSource::Option6(61));
    assert_eq!(m.value.as_ref().unwrap().bytes, [7]);
    let Rule::Match(m) = rules[1] else { panic!() };
    assert_eq!(m.source, MatchSource::Option6(15));
    let Rule::Class(k) = rules[2] else { panic!() };
    assert_eq!(
        (k.kind, k.enterprise, k.text.as_str()),
        (ClassKind::Vendor, Some(343), "HTTPClient")
    );
    let Rule::Host(h) = rules[4] else { panic!() };
    assert_eq!(
        h.addrs6,
        ["fd00:77::50".parse::<std::net::Ipv6Addr>().unwrap()]
    );
    assert_eq!(h.name.as_deref(), Some("pc2"));
    let Rule::Host(h) = rules[5] else { panic!() };
    assert_eq!(h.client_ids, [vec![0, 4, 0x1e, 0, 0x17, 0]]);
    let s = &c.settings;
    assert!(s.enable_ra);
    assert_eq!(s.ra_params.len(), 2);
    let p = &s.ra_params[0];
    assert_eq!(
        (
            p.interface.as_str(),
            p.mtu,
            p.priority,
            p.interval,
            p.lifetime
        ),
        (
            "eth0",
            Some(1400),
            Some(RaPriority::Low),
            Some(30),
            Some(600)
        )
    );

    for (text, col, what) in [
        (
            "dhcp-host=52:54:00:ef:06:02,[fd00::zz]\n",
            29,
            "not an IPv6 address",
        ),
        (
            "dhcp-vendorclass=set:h,enterprise:x,HTTPClient\n",
            24,
            "not an enterprise number",
        ),
        ("ra-param=eth0,mtu:1000,60\n", 15, "not an MTU"),
        ("ra-param=eth0\n", 10, "an interval"),
        ("ra-param=eth0,high,1,2,3\n", 24, "unexpected field"),
    ] {
        let e = Config::parse_str(text, "v6.conf").unwrap_err();
        assert_eq!((e.column, e.to_string().contains(what)), (col, true), "{e}");
    }
}
