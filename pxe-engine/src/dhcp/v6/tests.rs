//! The DHCPv6 server against the exchanges of the captures
//! (`shared/spec/captures/ipv6/`): the same addresses, option layout and
//! lifetimes as dnsmasq 2.90, then the lease life cycle, relays, rapid
//! commit, CONFIRM, INFORMATION-REQUEST, the drops RFC 8415 asks for, and
//! router advertisements.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::net::{Ipv6Addr, SocketAddrV6};

use pxe_dhcp::ClientArch;
use pxe_dhcp::v6::{
    Builder, Duid, ENTERPRISE_INTEL, Message, MessageType, Packet, RelayBuilder, RelayHeader,
    Status, TransactionId,
};

use super::*;
use crate::lease::LeaseChange;

const CONF: &str = "\
port=0
dhcp-authoritative
enable-ra
dhcp-range=fd00:77::100,fd00:77::1ff,64,1h
dhcp-match=set:efi64,option6:61,7
dhcp-userclass=set:ipxe,iPXE
dhcp-vendorclass=set:http,enterprise:343,HTTPClient
dhcp-option=tag:efi64,tag:!ipxe,option6:bootfile-url,tftp://[fd00:77::1]/ipxe.efi
dhcp-option=tag:http,option6:bootfile-url,http://[fd00:77::1]/ipxe.efi
dhcp-option=tag:ipxe,option6:bootfile-url,http://[fd00:77::1]/boot.ipxe
";

const UUID: [u8; 16] = [
    0x1e, 0, 0x17, 0, 0, 0x8c, 0xad, 0, 0x50, 0x87, 0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23,
];
const SERVER_MAC: [u8; 6] = [2, 0, 0, 0x77, 0, 1];

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn engine(conf: &str) -> Engine {
    let mut e = Engine::new(Arc::new(
        pxe_rules::Config::parse_str(conf, "v6.conf").unwrap(),
    ));
    e.set_server_duid(&server_duid_for(SERVER_MAC));
    e
}

fn rx() -> RxInfo6<'static> {
    RxInfo6 {
        src: SocketAddrV6::new(a("fe80::5054:ff:feef:601"), 546, 0, 2),
        iface: "eth0",
        local: a("fd00:77::1"),
    }
}

/// What a client sends.
#[derive(Clone)]
struct Client {
    duid: Vec<u8>,
    iaid: u32,
    oro: Vec<u16>,
    arch: Option<ClientArch>,
    vendor: Option<&'static [u8]>,
    user: Option<&'static [u8]>,
    rapid: bool,
}

fn edk2_pxe() -> Client {
    Client {
        duid: Duid::from_uuid(UUID).to_vec(),
        iaid: 0xef9afdf7,
        oro: vec![59, 60, 23, 16],
        arch: Some(ClientArch::X64_UEFI),
        vendor: Some(b"PXEClient:Arch:00007:UNDI:003000"),
        user: None,
        rapid: false,
    }
}

fn msg(
    c: &Client,
    mt: MessageType,
    server: Option<&[u8]>,
    addr: Option<Ipv6Addr>,
    buf: &mut [u8],
) -> usize {
    let mut b = Builder::new(buf, mt, TransactionId::new(0x799fd4).unwrap()).unwrap();
    b.client_id(&c.duid).unwrap().elapsed_time(0).unwrap();
    if let Some(s) = server {
        b.server_id(s).unwrap();
    }
    if mt != MessageType::InformationRequest {
        b.ia_na(c.iaid, 0, 0, |ia| {
            if let Some(x) = addr {
                ia.ia_addr(x, 0, 0)?;
            }
            Ok(())
        })
        .unwrap();
    }
    if !c.oro.is_empty() {
        b.oro(&c.oro).unwrap();
    }
    if c.rapid {
        b.rapid_commit().unwrap();
    }
    if let Some(x) = c.arch {
        b.client_arch(&[x]).unwrap();
    }
    if let Some(v) = c.vendor {
        b.vendor_class(ENTERPRISE_INTEL, &[v]).unwrap();
    }
    if let Some(u) = c.user {
        b.user_class(&[u]).unwrap();
    }
    b.finish().unwrap()
}

/// The engine's answer: outcome, the changes it asked to persist, and the
/// reply bytes.
fn run(e: &mut Engine, rx: &RxInfo6<'_>, req: &[u8]) -> (Outcome6, Vec<LeaseChange>, Vec<u8>) {
    let mut out = [0u8; 1500];
    let mut log = Vec::new();
    let mut sink = |ev: &Event6<'_>| log.push(ev.to_string());
    let (outcome, changes) = match e.handle6(1_000, rx, req, &mut out, &mut sink) {
        Output::Ready(o) => (o, Vec::new()),
        Output::Persist(p) => {
            let ch = p.changes().to_vec();
            (p.persisted(), ch)
        }
    };
    let bytes = outcome
        .reply()
        .map(|r| out[..r.len].to_vec())
        .unwrap_or_default();
    (outcome, changes, bytes)
}

fn codes(m: &Message<&[u8]>) -> Vec<u16> {
    m.options().flatten().map(|o| o.code).collect()
}

fn url(m: &Message<&[u8]>) -> Option<String> {
    m.boot_file_url()
        .unwrap()
        .map(|u| u.as_str().unwrap().to_string())
}

#[test]
fn edk2_pxe_exchange_matches_dnsmasq() {
    let mut e = engine(CONF);
    let c = edk2_pxe();
    let mut req = [0u8; 512];
    let n = msg(&c, MessageType::Solicit, None, None, &mut req);
    let (o, changes, adv) = run(&mut e, &rx(), &req[..n]);
    let Outcome6::Reply(r) = o else {
        panic!("{o:?}")
    };
    assert_eq!(r.dest, rx().src, "back to the client's link-local address");
    assert!(changes.is_empty(), "an ADVERTISE binds nothing");
    let m = Message::new_checked(&adv[..]).unwrap();
    assert_eq!(m.msg_type(), MessageType::Advertise);
    assert_eq!(m.transaction_id().get(), 0x799fd4);
    // The capture's layout: client-id, server-id, ia-na, status,
    // preference, bootfile-url.
    assert_eq!(codes(&m), [1, 2, 3, 13, 7, 59]);
    let ia = m.ia_na().unwrap().unwrap();
    assert_eq!((ia.iaid(), ia.t1(), ia.t2()), (0xef9afdf7, 1800, 3150));
    let addr = ia.address().unwrap().unwrap();
    assert_eq!(
        addr.address(),
        a("fd00:77::116"),
        "dnsmasq's address for this IA"
    );
    assert_eq!((addr.preferred(), addr.valid()), (3600, 3600));
    assert_eq!(m.preference().unwrap(), Some(255));
    let st = m.status_code().unwrap().unwrap();
    assert_eq!(
        (st.status, st.message_str()),
        (Status::Success, Some("success"))
    );
    assert_eq!(url(&m).as_deref(), Some("tftp://[fd00:77::1]/ipxe.efi"));
    assert!(
        m.vendor_class().unwrap().is_none(),
        "no PXEClient option 16"
    );
    assert_eq!(m.server_id().unwrap().unwrap().as_bytes(), e.server_duid());

    // REQUEST: the lease is made durable, then the REPLY with option 59.
    let sid = e.server_duid().to_vec();
    let n = msg(
        &c,
        MessageType::Request,
        Some(&sid),
        Some(addr.address()),
        &mut req,
    );
    let (o, changes, rep) = run(&mut e, &rx(), &req[..n]);
    assert!(o.reply().is_some());
    let [LeaseChange::Grant6(l)] = &changes[..] else {
        panic!("{changes:?}")
    };
    assert_eq!(
        (l.addr, l.iaid, l.expires),
        (addr.address(), c.iaid, 1_000 + 3600)
    );
    let m = Message::new_checked(&rep[..]).unwrap();
    assert_eq!(m.msg_type(), MessageType::Reply);
    assert_eq!(codes(&m), [1, 2, 3, 13, 59]);
    assert_eq!(url(&m).as_deref(), Some("tftp://[fd00:77::1]/ipxe.efi"));
    assert_eq!(e.leases().v6().len(), 1);

    // RENEW extends; RELEASE removes and says "release received".
    let n = msg(
        &c,
        MessageType::Renew,
        Some(&sid),
        Some(addr.address()),
        &mut req,
    );
    let (_, changes, rep) = run(&mut e, &rx(), &req[..n]);
    assert!(matches!(&changes[..], [LeaseChange::Grant6(l)] if l.addr == addr.address()));
    // dnsmasq's fuzz on T1/T2 of a RENEW: the same amount off both, at
    // most a sixteenth of the lease (here from the xid).
    let renewed = Message::new_checked(&rep[..]).unwrap();
    let ia = renewed.ia_na().unwrap().unwrap();
    let f = 1800 - ia.t1();
    assert!(
        f <= 3600 / 16 && 3150 - ia.t2() == f,
        "{} {}",
        ia.t1(),
        ia.t2()
    );
    let n = msg(
        &c,
        MessageType::Release,
        Some(&sid),
        Some(addr.address()),
        &mut req,
    );
    let (_, changes, rep) = run(&mut e, &rx(), &req[..n]);
    assert_eq!(changes, [LeaseChange::Remove6(addr.address())]);
    let m = Message::new_checked(&rep[..]).unwrap();
    assert_eq!(codes(&m), [1, 2, 13]);
    assert_eq!(
        m.status_code().unwrap().unwrap().message_str(),
        Some("release received")
    );
    assert!(e.leases().v6().is_empty());
    // RENEW of a released binding: NoBinding in the IA.
    let n = msg(
        &c,
        MessageType::Renew,
        Some(&sid),
        Some(addr.address()),
        &mut req,
    );
    let (_, changes, rep) = run(&mut e, &rx(), &req[..n]);
    assert!(changes.is_empty());
    let m = Message::new_checked(&rep[..]).unwrap();
    let ia = m.ia_na().unwrap().unwrap();
    assert_eq!(ia.status().unwrap().unwrap().status, Status::NoBinding);
}

#[test]
fn http_boot_gets_http_client_and_ipxe_its_script() {
    let mut e = engine(CONF);
    let http = Client {
        iaid: 0xeab96c74,
        arch: Some(ClientArch::X64_UEFI_HTTP),
        vendor: Some(b"HTTPClient:Arch:00016:UNDI:003000"),
        ..edk2_pxe()
    };
    let mut req = [0u8; 512];
    let n = msg(&http, MessageType::Solicit, None, None, &mut req);
    let (_, _, adv) = run(&mut e, &rx(), &req[..n]);
    let m = Message::new_checked(&adv[..]).unwrap();
    assert_eq!(url(&m).as_deref(), Some("http://[fd00:77::1]/ipxe.efi"));
    let vc = m.vendor_class().unwrap().unwrap();
    assert!(vc.is_http_client() && vc.enterprise() == ENTERPRISE_INTEL);
    let addr = m.ia_na().unwrap().unwrap().address().unwrap().unwrap();
    assert_eq!(
        addr.address(),
        a("fd00:77::113"),
        "an address in the same ADVERTISE"
    );

    // iPXE with rapid commit: a REPLY with option 14 and a durable lease.
    let mut uuid = [0u8; 16];
    uuid.copy_from_slice(&[
        0, 0x17, 0, 0x1e, 0x8c, 0, 0, 0xad, 0x50, 0x87, 0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23,
    ]);
    let ipxe = Client {
        duid: Duid::from_uuid(uuid).to_vec(),
        iaid: 0x0f36c07a,
        oro: vec![23, 24, 59, 60],
        user: Some(b"iPXE"),
        vendor: Some(b"PXEClient:Arch:00007:UNDI:003010"),
        rapid: true,
        ..edk2_pxe()
    };
    let n = msg(&ipxe, MessageType::Solicit, None, None, &mut req);
    let (_, changes, rep) = run(&mut e, &rx(), &req[..n]);
    assert!(matches!(&changes[..], [LeaseChange::Grant6(l)] if l.addr == a("fd00:77::1c5")));
    let m = Message::new_checked(&rep[..]).unwrap();
    assert_eq!(m.msg_type(), MessageType::Reply);
    assert!(m.rapid_commit().unwrap());
    assert_eq!(url(&m).as_deref(), Some("http://[fd00:77::1]/boot.ipxe"));
}

#[test]
fn relayed_requests_are_answered_through_the_relay() {
    let mut e = engine(CONF);
    let mut inner = [0u8; 512];
    let n = msg(&edk2_pxe(), MessageType::Solicit, None, None, &mut inner);
    let mut fwd = [0u8; 700];
    let header = RelayHeader {
        hop_count: 0,
        link_address: a("fd00:77::ff00"),
        peer_address: a("fe80::5054:ff:feef:601"),
    };
    let mut rb = RelayBuilder::new(&mut fwd, MessageType::RelayForw, header).unwrap();
    rb.interface_id(b"port7").unwrap();
    let len = rb.relay_message(&inner[..n]).unwrap();
    // The relay sits on another link: the server's own address is not in
    // the range, the relay's link-address is.
    let relay_rx = RxInfo6 {
        src: SocketAddrV6::new(a("fd00:99::2"), 547, 0, 0),
        iface: "eth1",
        local: a("fd00:99::1"),
    };
    let (o, _, out) = run(&mut e, &relay_rx, &fwd[..len]);
    assert_eq!(o.reply().unwrap().dest, relay_rx.src);
    let Packet::Relay(repl) = Packet::new_checked(&out[..]).unwrap() else {
        panic!()
    };
    assert_eq!(repl.msg_type(), MessageType::RelayRepl);
    assert_eq!(repl.interface_id(), Some(&b"port7"[..]));
    assert_eq!(repl.peer_address(), header.peer_address);
    let inner = repl.innermost().unwrap().message;
    assert_eq!(inner.msg_type(), MessageType::Advertise);
    let addr = inner.ia_na().unwrap().unwrap().address().unwrap().unwrap();
    assert_eq!(addr.address(), a("fd00:77::116"));
    // Without a relay, a request from that link has no range.
    let mut req = [0u8; 512];
    let n = msg(&edk2_pxe(), MessageType::Solicit, None, None, &mut req);
    let (o, _, _) = run(&mut e, &relay_rx, &req[..n]);
    assert_eq!(o, Outcome6::Dropped(Drop6::Ignored(IgnoreReason::NoRange)));
}

#[test]
fn rfc_8415_drops_and_the_other_messages() {
    let mut e = engine(CONF);
    let c = edk2_pxe();
    let mut req = [0u8; 512];
    // REQUEST for another server; SOLICIT with a server id; garbage.
    let n = msg(
        &c,
        MessageType::Request,
        Some(b"\x00\x03\x00\x01other!"),
        None,
        &mut req,
    );
    assert_eq!(
        run(&mut e, &rx(), &req[..n]).0,
        Outcome6::Dropped(Drop6::ServerId)
    );
    let n = msg(
        &c,
        MessageType::Solicit,
        Some(b"\x00\x03\x00\x01x"),
        None,
        &mut req,
    );
    assert_eq!(
        run(&mut e, &rx(), &req[..n]).0,
        Outcome6::Dropped(Drop6::ServerId)
    );
    assert_eq!(
        run(&mut e, &rx(), &[1, 2]).0,
        Outcome6::Dropped(Drop6::Malformed)
    );
    let n = msg(&c, MessageType::Advertise, None, None, &mut req);
    assert_eq!(
        run(&mut e, &rx(), &req[..n]).0,
        Outcome6::Dropped(Drop6::NotAClientMessage)
    );
    let no_id = Client {
        duid: vec![],
        ..c.clone()
    };
    let n = msg(&no_id, MessageType::Solicit, None, None, &mut req);
    assert_eq!(
        run(&mut e, &rx(), &req[..n]).0,
        Outcome6::Dropped(Drop6::NoClientId)
    );

    // CONFIRM: on the link, off the link, nothing to confirm.
    let n = msg(
        &c,
        MessageType::Confirm,
        None,
        Some(a("fd00:77::150")),
        &mut req,
    );
    let (_, _, rep) = run(&mut e, &rx(), &req[..n]);
    let m = Message::new_checked(&rep[..]).unwrap();
    assert_eq!(m.status_code().unwrap().unwrap().status, Status::Success);
    let n = msg(
        &c,
        MessageType::Confirm,
        None,
        Some(a("fd00:1::150")),
        &mut req,
    );
    let (_, _, rep) = run(&mut e, &rx(), &req[..n]);
    let m = Message::new_checked(&rep[..]).unwrap();
    assert_eq!(m.status_code().unwrap().unwrap().status, Status::NotOnLink);
    let n = msg(&c, MessageType::Confirm, None, None, &mut req);
    assert_eq!(
        run(&mut e, &rx(), &req[..n]).0,
        Outcome6::Dropped(Drop6::NothingToConfirm)
    );

    // INFORMATION-REQUEST: options, no IA, no lease.
    let n = msg(&c, MessageType::InformationRequest, None, None, &mut req);
    let (_, changes, rep) = run(&mut e, &rx(), &req[..n]);
    assert!(changes.is_empty());
    let m = Message::new_checked(&rep[..]).unwrap();
    assert_eq!(codes(&m), [1, 2, 59, 32]);

    // DECLINE: the address is held back from the next client.
    let sid = e.server_duid().to_vec();
    let n = msg(&c, MessageType::Request, Some(&sid), None, &mut req);
    let (_, changes, _) = run(&mut e, &rx(), &req[..n]);
    let [LeaseChange::Grant6(l)] = &changes[..] else {
        panic!()
    };
    let got = l.addr;
    let n = msg(&c, MessageType::Decline, Some(&sid), Some(got), &mut req);
    let (_, changes, _) = run(&mut e, &rx(), &req[..n]);
    assert!(matches!(&changes[..], [LeaseChange::Grant6(l)] if l.duid.is_empty()));
    let n = msg(&c, MessageType::Solicit, None, None, &mut req);
    let (_, _, adv) = run(&mut e, &rx(), &req[..n]);
    let m = Message::new_checked(&adv[..]).unwrap();
    let again = m
        .ia_na()
        .unwrap()
        .unwrap()
        .address()
        .unwrap()
        .unwrap()
        .address();
    assert_ne!(again, got, "a declined address is not offered again");
    assert_eq!(e.metrics6().declines, 1);
}

#[test]
fn reservations_static_ranges_and_exhaustion() {
    let conf = "dhcp-range=fd00:77::100,fd00:77::101\n\
                dhcp-host=id:00:04:1e:00:17:00:00:8c:ad:00:50:87:90:e6:ba:2f:34:23,[fd00:77::101],pxe1\n";
    let mut e = engine(conf);
    let mut req = [0u8; 512];
    let n = msg(&edk2_pxe(), MessageType::Solicit, None, None, &mut req);
    let (_, _, adv) = run(&mut e, &rx(), &req[..n]);
    let m = Message::new_checked(&adv[..]).unwrap();
    assert_eq!(m.preference().unwrap(), Some(0), "not authoritative");
    let got = m
        .ia_na()
        .unwrap()
        .unwrap()
        .address()
        .unwrap()
        .unwrap()
        .address();
    assert_eq!(got, a("fd00:77::101"), "the reservation");
    // Two other clients: one gets ::100, the next nothing (::101 is reserved).
    let sid = e.server_duid().to_vec();
    for (i, want) in [(1u8, Some(a("fd00:77::100"))), (2, None)] {
        let other = Client {
            duid: vec![0, 3, 0, 1, 2, 0, 0, 0, 0, i],
            ..edk2_pxe()
        };
        let n = msg(&other, MessageType::Request, Some(&sid), None, &mut req);
        let (_, _, rep) = run(&mut e, &rx(), &req[..n]);
        let m = Message::new_checked(&rep[..]).unwrap();
        let ia = m.ia_na().unwrap().unwrap();
        assert_eq!(ia.address().unwrap().map(|x| x.address()), want);
        if want.is_none() {
            assert_eq!(
                m.status_code().unwrap().unwrap().status,
                Status::NoAddrsAvail
            );
            assert_eq!(ia.status().unwrap().unwrap().status, Status::NoAddrsAvail);
        }
    }
    // A stateless range answers no SOLICIT.
    let mut e = engine("dhcp-range=fd00:77::,ra-stateless\n");
    let n = msg(&edk2_pxe(), MessageType::Solicit, None, None, &mut req);
    assert_eq!(
        run(&mut e, &rx(), &req[..n]).0,
        Outcome6::Dropped(Drop6::Stateless)
    );
    let n = msg(
        &edk2_pxe(),
        MessageType::InformationRequest,
        None,
        None,
        &mut req,
    );
    assert!(run(&mut e, &rx(), &req[..n]).0.reply().is_some());
}

#[test]
fn router_advertisements_where_enable_ra_asks() {
    let e = engine(CONF);
    let mut out = [0u8; 256];
    let n = e
        .router_advert("eth0", a("fd00:77::1"), Some(SERVER_MAC), 1500, &mut out)
        .unwrap();
    let ra = &out[..n];
    assert_eq!((ra[0], ra[4]), (134, 64), "type, hop limit");
    assert_eq!(ra[5] & 0xc0, 0xc0, "managed and other flags");
    assert_eq!(u16::from_be_bytes([ra[6], ra[7]]), 1800);
    // Source link-layer address, MTU, one prefix.
    assert_eq!(&ra[16..24], &[1, 1, 2, 0, 0, 0x77, 0, 1]);
    assert_eq!(&ra[24..32], &[5, 1, 0, 0, 0, 0, 0x05, 0xdc]);
    let p = &ra[32..64];
    assert_eq!(
        (p[0], p[1], p[2], p[3]),
        (3, 4, 64, 0x80),
        "on-link, not autonomous"
    );
    assert_eq!(u32::from_be_bytes([p[4], p[5], p[6], p[7]]), 3600);
    assert_eq!(&p[16..], &a("fd00:77::").octets());
    // No enable-ra, or no range on the link: nothing.
    let quiet = engine("dhcp-range=fd00:77::100,fd00:77::1ff\n");
    assert!(
        quiet
            .router_advert("eth0", a("fd00:77::1"), None, 1500, &mut out)
            .is_none()
    );
    assert!(
        e.router_advert("eth1", a("fd00:99::1"), None, 1500, &mut out)
            .is_none()
    );
    // ra-param: lifetime, interval, MTU off, SLAAC prefix.
    let e = engine(
        "enable-ra\nra-param=eth*,mtu:off,high,30,600\ndhcp-range=::,constructor:eth0,ra-only\n",
    );
    let plan = e.router_advert_plan("eth0", a("fd00:77::1"), 1500).unwrap();
    assert_eq!(
        (plan.managed, plan.lifetime, plan.interval, plan.mtu),
        (false, 600, 30, None)
    );
    let n = e
        .router_advert("eth0", a("fd00:77::1"), None, 1500, &mut out)
        .unwrap();
    assert_eq!(out[5], 0x40 | 0x08, "other, high preference");
    assert_eq!(out[16 + 3], 0xc0, "on-link and autonomous");
    assert_eq!(n, 16 + 32);
}
