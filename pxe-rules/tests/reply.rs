//! `Decision::write_reply`, the one place the reply's header rules and
//! option order live, reproduces dnsmasq 2.90's captured replies byte for
//! byte from the captured requests: the proxy OFFERs and ACKs, the PXE
//! boot-server ACKs on port 4011, and (given the lease and built-in
//! values dnsmasq chose, which are the server's part) the full-DHCP
//! OFFERs and ACKs.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;
use common::*;

use pxe_dhcp::{MessageType, Packet};
use pxe_rules::{
    Builtins, Config, Context, Facts, LeaseTimes, Port, ReplyError, ServerPart, Verdict,
};
use std::net::Ipv4Addr;

/// What the server added to a captured full reply: the lease address and
/// times and the built-in values, read back from dnsmasq's reply.
fn server_part_of<'r>(reply: &'r Packet<&'r [u8]>) -> ServerPart<'r> {
    let lease = reply.lease_time().unwrap().map(|lease| LeaseTimes {
        lease,
        renewal: reply
            .renewal_time()
            .unwrap()
            .zip(reply.rebinding_time().unwrap()),
    });
    ServerPart {
        yiaddr: reply.yiaddr(),
        lease,
        builtins: Builtins {
            subnet_mask: reply.subnet_mask().unwrap(),
            broadcast: reply.broadcast_address().unwrap(),
            router: reply.routers().unwrap().and_then(|r| r.iter().next()),
            dns_server: reply.dns_servers().unwrap().and_then(|r| r.iter().next()),
            domain: reply.domain_name().unwrap(),
            hostname: reply.host_name().unwrap(),
            fqdn_flags: reply.option(81).map(|o| o[0]),
        },
        ..ServerPart::new(LOCAL, reply.message_type().unwrap())
    }
}

/// Replays every reply dnsmasq (at `LOCAL`) sent in `capture`; returns
/// how many were compared and how many needed pxe-server's next-server
/// deviation.
fn replay(capture: &str, text: &str) -> (usize, usize) {
    let config = Config::parse_str(text, "seed.conf").unwrap();
    let msgs = dhcp(capture);
    let (mut checked, mut deviations) = (0, 0);
    for (i, reply) in msgs.iter().enumerate() {
        if reply.src != LOCAL || reply.payload[0] != 2 {
            continue;
        }
        // The request this answers: the latest client message with this
        // xid, sent to the port the reply comes from, with the `secs` the
        // reply echoes (dnsmasq answers two retransmitted DISCOVERs late,
        // after its ping check, in one go).
        let Some(req) = msgs[..i].iter().rev().find(|m| {
            m.payload[0] == 1
                && xid(&m.payload) == xid(&reply.payload)
                && m.dport == reply.sport
                && m.payload[8..10] == reply.payload[8..10]
        }) else {
            panic!("{capture} reply #{i}: no request it answers");
        };
        let port = if req.dport == 4011 {
            Port::Pxe
        } else {
            Port::Dhcp
        };
        let request = Packet::new_checked(&req.payload[..]).unwrap();
        let facts = Facts::new(&request).unwrap();
        let ctx = Context::new(LOCAL, MASK)
            .with_interface("eth0")
            .with_port(port);
        let d = config.evaluate(&facts, &ctx);
        let captured = Packet::new_checked(&reply.payload[..]).unwrap();
        let server = match d.verdict() {
            Verdict::Full => server_part_of(&captured),
            _ => ServerPart::new(LOCAL, None),
        };
        let mut out = [0u8; 1500];
        let len = d
            .write_reply(&request, &server, &mut out)
            .unwrap_or_else(|e| panic!("{capture} reply #{i}: {e}"))
            .finish()
            .unwrap();
        let mut want = reply.payload.clone();
        // pxe-server's documented deviation: a proxy reply with a boot
        // file and no server names the server itself as next-server.
        if d.verdict() == Verdict::Proxy && d.file().is_some() && captured.siaddr().is_unspecified()
        {
            want[20..24].copy_from_slice(&LOCAL.octets());
            deviations += 1;
        }
        assert_eq!(
            hex(&out[..len]),
            hex(&want),
            "{capture} reply #{i} ({:?}): {d:?}",
            d.verdict()
        );
        checked += 1;
    }
    (checked, deviations)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn proxy_offer_and_boot_server_ack_are_dnsmasqs() {
    for cap in ["plain-rom_proxy.dhcp.pcap", "stock-rom_proxy.dhcp.pcap"] {
        let (n, dev) = replay(cap, SEED_PROXY);
        assert!(n >= 3 && dev == 0, "{cap}: {n} replies, {dev} deviations");
    }
    // The 4011 boot-server ACK is among them: check it is really there.
    let msgs = dhcp("plain-rom_proxy.dhcp.pcap");
    assert!(
        msgs.iter().any(|m| m.src == LOCAL
            && m.sport == 4011
            && m.payload[108..122] == *b"undionly.kkpxe")
    );
    for cap in [
        "plain-rom_proxy-php-nextserver.dhcp.pcap",
        "stock-rom_proxy-php-nextserver.dhcp.pcap",
    ] {
        let (n, dev) = replay(cap, SEED_PROXY_PHP_NEXTSERVER);
        assert!(n >= 1 && dev == 0, "{cap}: {n} replies, {dev} deviations");
    }
}

#[test]
fn proxy_php_differs_from_dnsmasq_only_in_the_next_server() {
    for cap in [
        "plain-rom_proxy-php.dhcp.pcap",
        "stock-rom_proxy-php.dhcp.pcap",
    ] {
        let (n, dev) = replay(cap, SEED_PROXY_PHP);
        assert!(n >= 1 && dev >= 1, "{cap}: {n} replies, {dev} deviations");
    }
}

#[test]
fn full_offers_and_acks_are_dnsmasqs() {
    for cap in ["plain-rom_real.dhcp.pcap", "stock-rom_real.dhcp.pcap"] {
        let (n, _) = replay(cap, SEED_REAL);
        assert!(n >= 2, "{cap}: {n} replies");
    }
}

/// The header rules one by one, on a request whose fields are all set.
#[test]
fn header_rules_by_verdict() {
    let conf = Config::parse_str(
        "dhcp-range=192.168.2.100,192.168.2.200\ndhcp-range=192.168.2.0,proxy\n\
         pxe-service=x86PC,\"boot\",undionly.kpxe\n",
        "t.conf",
    )
    .unwrap();
    let ci = Ipv4Addr::new(192, 168, 2, 50);
    let mut req = Req::new([0x52, 0x54, 0, 1, 2, 3], 3)
        .ciaddr(ci)
        .opt(93, &[0, 0])
        .opt(60, b"PXEClient:Arch:00000:UNDI:002001")
        .opt(82, &[1, 2, b'c', b'1'])
        .done();
    req[3] = 2; // hops
    req[8..10].copy_from_slice(&[0, 9]); // secs
    let write = |req: &[u8], port: Port| {
        let request = Packet::new_checked(req).unwrap();
        let facts = Facts::new(&request).unwrap();
        let ctx = Context::new(LOCAL, MASK).with_port(port);
        let d = conf.evaluate(&facts, &ctx);
        let server = ServerPart {
            yiaddr: Ipv4Addr::new(192, 168, 2, 150),
            ..ServerPart::new(LOCAL, Some(MessageType::Ack))
        };
        let mut out = [0u8; 1500];
        let len = d
            .write_reply(&request, &server, &mut out)
            .unwrap()
            .finish()
            .unwrap();
        (d.verdict(), out[..len].to_vec())
    };
    let opts = |b: &[u8]| -> Vec<u8> { options(b).into_iter().map(|(c, _)| c).collect() };
    // Proxy REQUEST on 4011: ciaddr kept, flags as sent, secs and hops echoed.
    let (v, r) = write(&req, Port::Pxe);
    let p = Packet::new_checked(&r[..]).unwrap();
    assert_eq!(v, Verdict::Proxy);
    assert_eq!(
        (p.ciaddr(), p.yiaddr(), p.secs(), p.hops()),
        (ci, Ipv4Addr::UNSPECIFIED, 9, 2)
    );
    assert!(!p.flags().contains(pxe_dhcp::Flags::BROADCAST));
    assert_eq!(p.message_type().unwrap(), Some(MessageType::Ack));
    assert_eq!(opts(&r), [53, 54, 60, 43, 82], "82 last");
    assert_eq!(p.option(82), Some(&[1u8, 2, b'c', b'1'][..]));
    // The same without ciaddr: BROADCAST is added.
    let mut no_ci = req.clone();
    no_ci[12..16].fill(0);
    let (_, r) = write(&no_ci, Port::Pxe);
    let p = Packet::new_checked(&r[..]).unwrap();
    assert!(p.flags().contains(pxe_dhcp::Flags::BROADCAST));
    // Full REQUEST on 67 (renewing: ciaddr, no option 50): the server's
    // yiaddr, ciaddr kept (as dnsmasq, observed in
    // pxe-server/tests/dnsmasq_parity.rs), lease-less ACK.
    let mut full = req.clone();
    let at60 = full.windows(2).position(|w| w == [60, 32]).unwrap();
    full[at60 + 2] = b'X'; // not a PXE client: no proxy
    let (v, r) = write(&full, Port::Dhcp);
    let p = Packet::new_checked(&r[..]).unwrap();
    assert_eq!(v, Verdict::Full);
    assert_eq!(
        (p.yiaddr(), p.ciaddr(), p.siaddr()),
        (Ipv4Addr::new(192, 168, 2, 150), ci, LOCAL)
    );
    assert_eq!(opts(&r), [53, 54, 82]);
    // With option 50 the request's ciaddr is ignored and the reply's is 0.
    let mut with50 = full.clone();
    let end = with50.iter().rposition(|b| *b == 255).unwrap();
    with50.splice(end..end, [50, 4, 192, 168, 2, 150]);
    let (_, r) = write(&with50, Port::Dhcp);
    assert_eq!(
        Packet::new_checked(&r[..]).unwrap().ciaddr(),
        Ipv4Addr::UNSPECIFIED
    );
    // Boot-server REQUEST: yiaddr = ciaddr, ciaddr 0, file from the service.
    let boot = Req::new([0x52, 0x54, 0, 1, 2, 3], 3)
        .ciaddr(ci)
        .opt(60, b"PXEClient")
        .opt(43, &[71, 4, 0x80, 0, 0, 0, 255])
        .done();
    let (v, r) = write(&boot, Port::Pxe);
    let p = Packet::new_checked(&r[..]).unwrap();
    assert!(matches!(v, Verdict::BootServer { .. }));
    assert_eq!((p.yiaddr(), p.ciaddr()), (ci, Ipv4Addr::UNSPECIFIED));
    assert_eq!(p.file(), Some(&b"undionly.kpxe"[..]));
    assert_eq!(
        p.pxe_options().unwrap().unwrap().as_bytes(),
        [71, 4, 0x80, 0, 0, 0, 255]
    );
    // An ignored request has no reply to write.
    let other_net = Context::new(Ipv4Addr::new(10, 0, 0, 1), MASK);
    let request = Packet::new_checked(&full[..]).unwrap();
    let facts = Facts::new(&request).unwrap();
    let d = conf.evaluate(&facts, &other_net);
    let mut out = [0u8; 1500];
    assert!(matches!(
        d.write_reply(&request, &ServerPart::new(LOCAL, None), &mut out),
        Err(ReplyError::Ignored(_))
    ));
}

/// The built-ins: 1 and 28 always, 3/6/15/12 only when requested, and a
/// configured line replaces them; BOOTP replies carry only the server's
/// part.
#[test]
fn builtins_follow_the_request_list_and_the_configuration() {
    let conf = Config::parse_str(
        "dhcp-range=192.168.2.100,192.168.2.200\ndhcp-option=3,192.168.2.9\ndhcp-option=42,192.168.2.42\n",
        "t.conf",
    )
    .unwrap();
    let builtins = Builtins {
        subnet_mask: Some(MASK),
        broadcast: Some(Ipv4Addr::new(192, 168, 2, 255)),
        router: Some(LOCAL),
        dns_server: Some(LOCAL),
        domain: Some(b"lan"),
        hostname: Some(b"node1"),
        fqdn_flags: None,
    };
    let write = |req: &[u8], mt: Option<MessageType>| {
        let request = Packet::new_checked(req).unwrap();
        let facts = Facts::new(&request).unwrap();
        let d = conf.evaluate(&facts, &Context::new(LOCAL, MASK));
        let server = ServerPart {
            yiaddr: Ipv4Addr::new(192, 168, 2, 150),
            lease: Some(LeaseTimes {
                lease: 3600,
                renewal: Some((1800, 3150)),
            }),
            builtins,
            ..ServerPart::new(LOCAL, mt)
        };
        let mut out = [0u8; 1500];
        let len = d
            .write_reply(&request, &server, &mut out)
            .unwrap()
            .finish()
            .unwrap();
        options(&out[..len])
            .into_iter()
            .map(|(c, _)| c)
            .collect::<Vec<u8>>()
    };
    let asks = Req::new([0x52, 0x54, 0, 1, 2, 3], 1)
        .opt(55, &[3, 12, 42])
        .done();
    assert_eq!(
        write(&asks, Some(MessageType::Offer)),
        [53, 54, 51, 58, 59, 1, 28, 12, 42, 3],
        "3 is configured (after the built-ins, in the rules' place); 6 and 15 not asked for"
    );
    let everything = Req::new([0x52, 0x54, 0, 1, 2, 3], 1).done();
    assert_eq!(
        write(&everything, Some(MessageType::Offer)),
        [53, 54, 51, 58, 59, 1, 28, 6, 15, 12, 42, 3]
    );
    // BOOTP: no 53/54, no lease, no rule options.
    let mut bootp = Req::new([0x52, 0x54, 0, 1, 2, 3], 1).done();
    bootp.truncate(236);
    bootp.resize(300, 0);
    let conf_bootp = Config::parse_str(
        "dhcp-range=192.168.2.100,192.168.2.200\ndhcp-host=52:54:00:01:02:03,192.168.2.150\ndhcp-boot=pxelinux.0\n",
        "t.conf",
    )
    .unwrap();
    let request = Packet::new_checked(&bootp[..]).unwrap();
    let facts = Facts::new(&request).unwrap();
    let d = conf_bootp.evaluate(&facts, &Context::new(LOCAL, MASK));
    assert_eq!(d.verdict(), Verdict::Full);
    let server = ServerPart {
        yiaddr: Ipv4Addr::new(192, 168, 2, 150),
        builtins: Builtins {
            subnet_mask: Some(MASK),
            ..Builtins::default()
        },
        ..ServerPart::new(LOCAL, None)
    };
    let mut out = [0u8; 1500];
    let len = d
        .write_reply(&request, &server, &mut out)
        .unwrap()
        .finish()
        .unwrap();
    let p = Packet::new_checked(&out[..len]).unwrap();
    assert_eq!(p.file(), Some(&b"pxelinux.0"[..]));
    assert_eq!(options(&out[..len]), [(1, MASK.octets().to_vec())]);
}
