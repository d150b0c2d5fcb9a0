//! The seed's configurations × client classes, and a replay of the real
//! dnsmasq 2.90 captures: every reply dnsmasq sent to a seed configuration
//! must be what our decision describes (boot fields and every option that
//! comes from the rules, in dnsmasq's order).

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;
use common::*;

use pxe_rules::{Config, Context, Explanation, Facts, IgnoreReason, Port, Verdict};
use std::net::Ipv4Addr;

fn conf(text: &str) -> Config {
    Config::parse_str(text, "seed.conf").unwrap_or_else(|e| panic!("seed config must parse: {e}"))
}

fn ctx(port: Port) -> Context<'static> {
    Context::new(LOCAL, MASK)
        .with_interface("eth0")
        .with_port(port)
}

/// Options the server itself writes (not decided by the rules).
const SERVER_OWNED: &[u8] = &[53, 54, 51, 58, 59, 1, 28, 3, 6, 12, 15, 82];

fn replay(capture: &str, text: &str) -> usize {
    let config = conf(text);
    let msgs = dhcp(capture);
    let mut checked = 0;
    for (i, reply) in msgs.iter().enumerate() {
        if reply.src != LOCAL || reply.payload[0] != 2 {
            continue;
        }
        // The request this answers: the latest client message with this
        // xid sent to the port the reply comes from.
        let Some(req) = msgs[..i].iter().rev().find(|m| {
            m.payload[0] == 1 && xid(&m.payload) == xid(&reply.payload) && m.dport == reply.sport
        }) else {
            continue;
        };
        let port = if req.dport == 4011 {
            Port::Pxe
        } else {
            Port::Dhcp
        };
        let pkt = packet(&req.payload);
        let facts = Facts::new(&pkt).unwrap_or_else(|e| panic!("{capture}: request #{i}: {e}"));
        let mut ex = Explanation::default();
        let d = config.evaluate_traced(&facts, &ctx(port), &mut ex);
        let why = format!("{capture} reply #{i}\n{}\n{d:?}", ex.display(&config));
        let r = &reply.payload;
        let yiaddr = Ipv4Addr::new(r[16], r[17], r[18], r[19]);
        let siaddr = Ipv4Addr::new(r[20], r[21], r[22], r[23]);
        match d.verdict() {
            Verdict::Proxy => assert!(yiaddr.is_unspecified(), "{why}"),
            Verdict::BootServer { .. } => {
                assert_eq!(&r[16..20], &req.payload[12..16], "yiaddr=ciaddr: {why}")
            }
            Verdict::Full => assert!(!yiaddr.is_unspecified(), "{why}"),
            Verdict::Ignore(reason) => panic!("dnsmasq answered but we ignore ({reason:?}): {why}"),
        }
        assert_eq!(d.siaddr(), siaddr, "siaddr: {why}");
        assert_eq!(
            d.file().map(<[u8]>::to_vec).unwrap_or_default(),
            cstr(&r[108..236]),
            "file: {why}"
        );
        assert_eq!(
            d.sname().map(<[u8]>::to_vec).unwrap_or_default(),
            cstr(&r[44..108]),
            "sname: {why}"
        );
        let want: Vec<(u8, Vec<u8>)> = options(r)
            .into_iter()
            .filter(|(c, _)| !SERVER_OWNED.contains(c))
            .collect();
        assert_eq!(rule_options(&d), want, "options: {why}");
        checked += 1;
    }
    assert!(checked > 0, "{capture}: no reply checked");
    checked
}

#[test]
fn replay_plain_rom_captures() {
    assert!(replay("plain-rom_real.dhcp.pcap", SEED_REAL) >= 4);
    assert!(replay("plain-rom_proxy.dhcp.pcap", SEED_PROXY) >= 2);
    assert!(replay("plain-rom_proxy-php.dhcp.pcap", SEED_PROXY_PHP) >= 2);
    assert!(
        replay(
            "plain-rom_proxy-php-nextserver.dhcp.pcap",
            SEED_PROXY_PHP_NEXTSERVER
        ) >= 2
    );
}

#[test]
fn replay_stock_rom_captures() {
    assert!(replay("stock-rom_real.dhcp.pcap", SEED_REAL) >= 2);
    assert!(replay("stock-rom_proxy.dhcp.pcap", SEED_PROXY) >= 1);
    assert!(replay("stock-rom_proxy-php.dhcp.pcap", SEED_PROXY_PHP) >= 1);
    assert!(
        replay(
            "stock-rom_proxy-php-nextserver.dhcp.pcap",
            SEED_PROXY_PHP_NEXTSERVER
        ) >= 1
    );
}

/// What one evaluation produced, in a comparable form.
#[derive(Debug, PartialEq)]
struct Got {
    verdict: Verdict,
    siaddr: Ipv4Addr,
    file: Vec<u8>,
    sname: Vec<u8>,
    options: Vec<(u8, Vec<u8>)>,
}

fn eval(config: &Config, req: &[u8], port: Port) -> Got {
    let pkt = packet(req);
    let facts = Facts::new(&pkt).unwrap_or_else(|e| panic!("{e}"));
    let d = config.evaluate(&facts, &ctx(port));
    Got {
        verdict: d.verdict(),
        siaddr: d.siaddr(),
        file: d.file().map(<[u8]>::to_vec).unwrap_or_default(),
        sname: d.sname().map(<[u8]>::to_vec).unwrap_or_default(),
        options: rule_options(&d),
    }
}

fn o(code: u8, v: &[u8]) -> (u8, Vec<u8>) {
    (code, v.to_vec())
}

const Z: Ipv4Addr = Ipv4Addr::UNSPECIFIED;

fn full(file_opt: &[u8], pxelinux: bool) -> Vec<(u8, Vec<u8>)> {
    let mut v = vec![o(67, file_opt)];
    if pxelinux {
        v.push(o(210, b"http://192.168.2.1:81/"));
        v.push(o(209, b"pxelinux.cfg/default"));
    }
    v
}

#[test]
fn matrix_seed_real() {
    let c = conf(SEED_REAL);
    for cl in ALL_CLIENTS {
        for msg in [1u8, 3] {
            let g = eval(&c, &client(cl, msg), Port::Dhcp);
            assert_eq!(g.verdict, Verdict::Full, "{cl:?}");
            assert_eq!(g.siaddr, LOCAL, "{cl:?}");
            let ipxe = matches!(
                cl,
                Client::IpxeBios | Client::IpxeEfiArch7 | Client::IpxeEfiArch9
            );
            let name: &[u8] = if ipxe {
                b"pxelinux.0"
            } else {
                b"undionly.kkpxe.0"
            };
            match cl {
                // The Linux client does not request 67: the file goes into
                // the header; 209/210 are forced.
                Client::Linux => {
                    assert_eq!(g.file, name, "{cl:?}");
                    assert_eq!(g.options, full(b"", true)[1..].to_vec(), "{cl:?}");
                }
                _ => {
                    let mut nul = name.to_vec();
                    nul.push(0);
                    assert_eq!(g.file, b"", "{cl:?}");
                    assert_eq!(g.options, full(&nul, true), "{cl:?}");
                }
            }
        }
    }
    // Port 4011 in full mode without a pxe-service: ignored.
    let g = eval(&c, &client(Client::BiosRom, 3), Port::Pxe);
    assert_eq!(
        g.verdict,
        Verdict::Ignore(IgnoreReason::PxePortWithoutProxy)
    );
}

const MENU_43: &[u8] = &[
    6, 1, 3, 10, 4, 0, b'P', b'X', b'E', 8, 7, 0x80, 0, 1, 192, 168, 2, 1, 9, 26, 0x80, 0, 23,
    b's', b'p', b'l', b'a', b's', b'h', b't', b'o', b'p', b' ', b'b', b'y', b' ', b'r', b'i', b'c',
    b'h', b'u', b'd', b'.', b'c', b'o', b'm', 255,
];
const DC8_43: &[u8] = &[6, 1, 8, 10, 4, 0, b'P', b'X', b'E', 255];

fn pxe_opts(vendor43: Option<&[u8]>) -> Vec<(u8, Vec<u8>)> {
    let mut v = vec![o(60, b"PXEClient"), o(97, &UUID97)];
    if let Some(b) = vendor43 {
        v.push(o(43, b));
    }
    v
}

fn boot_request(ciaddr: Ipv4Addr, ty: u16, layer: u16) -> Vec<u8> {
    let t = ty.to_be_bytes();
    let l = layer.to_be_bytes();
    Req::new([0x52, 0x54, 0, 0xb0, 7, 1], 3)
        .ciaddr(ciaddr)
        .opt(93, &[0, 0])
        .opt(60, b"PXEClient:Arch:00000:UNDI:002001")
        .opt(97, &UUID97)
        .opt(43, &[71, 4, t[0], t[1], l[0], l[1], 255])
        .done()
}

fn proxy_matrix(text: &str, php: Option<&[u8]>) {
    let c = conf(text);
    let bios = eval(&c, &client(Client::BiosRom, 1), Port::Dhcp);
    assert_eq!(
        bios,
        Got {
            verdict: Verdict::Proxy,
            siaddr: Z,
            file: vec![],
            sname: vec![],
            options: pxe_opts(Some(MENU_43))
        }
    );
    // iPXE: the pxe-service's tag:!ipxe fails: no menu, discovery control 8,
    // and (proxy-php) the dhcp-boot URL in the file field.
    let ipxe = eval(&c, &client(Client::IpxeBios, 1), Port::Dhcp);
    assert_eq!(
        ipxe,
        Got {
            verdict: Verdict::Proxy,
            siaddr: Z,
            file: php.map(<[u8]>::to_vec).unwrap_or_default(),
            sname: vec![],
            options: pxe_opts(Some(DC8_43))
        }
    );
    // UEFI firmware (arch 7, 11): redirected to 4011: siaddr=local, no 43.
    for cl in [Client::UefiX64, Client::Arm64Uefi] {
        let g = eval(&c, &client(cl, 1), Port::Dhcp);
        assert_eq!(
            g,
            Got {
                verdict: Verdict::Proxy,
                siaddr: LOCAL,
                file: vec![],
                sname: vec![],
                options: pxe_opts(None)
            },
            "{cl:?}"
        );
        // Its 4011 follow-up (no 71): no service for the arch: DC 8 menu.
        let g = eval(&c, &client(cl, 3), Port::Pxe);
        assert_eq!(g.options, pxe_opts(Some(DC8_43)), "{cl:?}");
    }
    // iPXE EFI (arch 9 or 7): proxy-php serves the URL to it.
    for cl in [Client::IpxeEfiArch9, Client::IpxeEfiArch7] {
        let g = eval(&c, &client(cl, 1), Port::Dhcp);
        assert_eq!(
            g,
            Got {
                verdict: Verdict::Proxy,
                siaddr: LOCAL,
                file: php.map(<[u8]>::to_vec).unwrap_or_default(),
                sname: vec![],
                options: pxe_opts(None)
            },
            "{cl:?}"
        );
    }
    // Not PXE clients: a proxy never answers them.
    for cl in [Client::HttpBoot, Client::Linux] {
        assert_eq!(
            eval(&c, &client(cl, 1), Port::Dhcp).verdict,
            Verdict::Ignore(IgnoreReason::ProxyNotApplicable)
        );
    }
    // REQUEST on 67 in proxy mode: ignored.
    assert_eq!(
        eval(&c, &client(Client::BiosRom, 3), Port::Dhcp).verdict,
        Verdict::Ignore(IgnoreReason::ProxyNotApplicable)
    );
    // The boot-server request on 4011 (sub-option 71 = 80 00 00 00).
    let g = eval(
        &c,
        &boot_request(Ipv4Addr::new(192, 168, 2, 50), 0x8000, 0),
        Port::Pxe,
    );
    assert_eq!(
        g,
        Got {
            verdict: Verdict::BootServer {
                ty: 0x8000,
                layer: 0
            },
            siaddr: LOCAL,
            file: b"undionly.kkpxe".to_vec(),
            sname: vec![],
            options: pxe_opts(Some(&[71, 4, 0x80, 0, 0, 0, 255]))
        }
    );
    // Unknown type, or a client outside the network: dropped.
    let g = eval(
        &c,
        &boot_request(Ipv4Addr::new(192, 168, 2, 50), 0x8001, 0),
        Port::Pxe,
    );
    assert_eq!(g.verdict, Verdict::Ignore(IgnoreReason::NoBootService));
    let g = eval(
        &c,
        &boot_request(Ipv4Addr::new(10, 0, 0, 5), 0x8000, 0),
        Port::Pxe,
    );
    assert_eq!(g.verdict, Verdict::Ignore(IgnoreReason::NoBootService));
    let g = eval(
        &c,
        &boot_request(Ipv4Addr::new(192, 168, 2, 50), 0x8000, 0x8000),
        Port::Pxe,
    );
    assert_eq!(g.verdict, Verdict::Ignore(IgnoreReason::PxeBisUnsupported));
}

#[test]
fn matrix_seed_proxy() {
    proxy_matrix(SEED_PROXY, None);
}

#[test]
fn matrix_seed_proxy_php() {
    proxy_matrix(
        SEED_PROXY_PHP,
        Some(b"http://192.168.2.1/ipxe.php?mac=${mac}&uuid=${uuid}"),
    );
}

#[test]
fn seed_logging_snippet() {
    let c = conf(SEED_LOGGING);
    assert!(c.settings.log_dhcp);
    assert_eq!(c.ignored.len(), 1);
    assert_eq!(c.ignored[0].name, "log-queries");
    assert!(c.items.is_empty());
}

#[test]
fn seed_settings_are_typed() {
    let c = conf(SEED_REAL);
    assert_eq!(c.settings.enable_tftp, Some(vec![]));
    assert_eq!(
        c.settings.tftp_roots,
        vec![("/tmp/memstick/host0_part1/".to_string(), None)]
    );
    let ranges: Vec<_> = c.ranges().map(|(_, r)| r.clone()).collect();
    assert_eq!(ranges.len(), 1);
    assert_eq!(ranges[0].start, Ipv4Addr::new(192, 168, 2, 100));
    assert_eq!(ranges[0].end, Ipv4Addr::new(192, 168, 2, 200));
    let p = conf(SEED_PROXY);
    assert_eq!(
        p.ranges().next().map(|(_, r)| r.mode),
        Some(pxe_rules::config::RangeMode::Proxy)
    );
    assert!(p.pxe_enabled());
}

/// Every request in the UEFI/ARM captures is read, and the seed configs
/// give each a decision without panicking; the firmware's arch is seen.
#[test]
fn uefi_capture_requests_evaluate() {
    for (cap, arch) in [
        ("uefi-pxe-full-dnsmasq.pcap", 7u16),
        ("uefi-pxe-proxy-dnsmasq.pcap", 7),
        ("uefi-pxe-proxy-menu-dnsmasq.pcap", 7),
        ("uefi-http-boot-dnsmasq.pcap", 16),
        ("arm64-uefi-pxe-dnsmasq.pcap", 11),
    ] {
        let reqs: Vec<_> = dhcp(cap)
            .into_iter()
            .filter(|m| m.payload[0] == 1)
            .collect();
        assert!(!reqs.is_empty(), "{cap}");
        assert!(
            reqs.iter().any(|m| {
                let pkt = packet(&m.payload);
                Facts::new(&pkt).ok().and_then(|f| f.arch()) == Some(arch)
            }),
            "{cap}: arch {arch} seen"
        );
        for text in [SEED_REAL, SEED_PROXY, SEED_PROXY_PHP] {
            let c = conf(text);
            for m in &reqs {
                let pkt = packet(&m.payload);
                let f = Facts::new(&pkt).unwrap_or_else(|e| panic!("{cap}: {e}"));
                let port = if m.dport == 4011 {
                    Port::Pxe
                } else {
                    Port::Dhcp
                };
                let _ = c.evaluate(&f, &ctx(port));
            }
        }
    }
}
