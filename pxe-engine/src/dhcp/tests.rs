//! Engine tests without sockets: the seed's configurations, RFC 2131
//! states, proxy mode, the boot server, malformed input.

use super::*;
use alloc::string::{String, ToString};
use alloc::vec;
use pxe_dhcp::{Builder, Flags};
use pxe_rules::Config;

use crate::lease::LeaseChange;

const LOCAL: Ipv4Addr = Ipv4Addr::new(192, 168, 2, 1);
const NOW: u64 = 1_700_000_000;

fn rx(port: u16) -> RxInfo<'static> {
    RxInfo {
        port,
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        iface: "eth0",
        local: LOCAL,
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        mtu: 1500,
        broadcast: true,
    }
}

/// An engine with what a driver keeps of each exchange: the lease changes
/// of the last one (as the writer gets them) and its log lines (the
/// events' `Display`, one per line, the rule trace included).
struct Harness {
    e: Engine,
    changes: Vec<LeaseChange>,
    log: String,
    /// Pass no sink at all ([`NoEvents`]).
    quiet: bool,
}

/// Collects the events' log lines; wants the rule trace.
struct Lines(Vec<String>);

impl EventSink for Lines {
    fn event(&mut self, e: &Event<'_>) {
        self.0.push(e.to_string());
    }
    fn wants_trace(&self) -> bool {
        true
    }
}

impl Harness {
    fn handle(&mut self, now: u64, rx: &RxInfo<'_>, m: &[u8], out: &mut [u8]) -> Outcome {
        let mut lines = Lines(Vec::new());
        let sink: &mut dyn EventSink = if self.quiet {
            &mut NoEvents
        } else {
            &mut lines
        };
        let output = self.e.handle(now, rx, m, out, sink);
        self.changes.clear();
        let outcome = match output {
            Output::Ready(o) => o,
            Output::Persist(p) => p.hand_over(&mut self.changes),
        };
        self.log = lines.0.join("\n");
        outcome
    }
    fn take_changes(&mut self) -> alloc::vec::Drain<'_, LeaseChange> {
        self.changes.drain(..)
    }
    fn log_line(&self) -> &str {
        &self.log
    }
}

impl core::ops::Deref for Harness {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        &self.e
    }
}

impl core::ops::DerefMut for Harness {
    fn deref_mut(&mut self) -> &mut Engine {
        &mut self.e
    }
}

fn engine(conf: &str) -> Harness {
    Harness {
        e: Engine::new(Arc::new(Config::parse_str(conf, "test.conf").unwrap())),
        changes: Vec::new(),
        log: String::new(),
        quiet: false,
    }
}

struct C {
    mac: [u8; 6],
    xid: u32,
    ciaddr: Ipv4Addr,
    opts: Vec<(u8, Vec<u8>)>,
}

impl C {
    fn new(n: u8) -> C {
        C {
            mac: [0x52, 0x54, 0, 0, 0, n],
            xid: 0x1000 + u32::from(n),
            ciaddr: Ipv4Addr::UNSPECIFIED,
            opts: vec![(
                55,
                vec![
                    1, 3, 6, 12, 15, 28, 43, 51, 54, 58, 59, 60, 66, 67, 97, 175, 209, 210,
                ],
            )],
        }
    }
    fn pxe_rom(n: u8) -> C {
        let mut c = C::new(n);
        c.opts
            .push((60, b"PXEClient:Arch:00000:UNDI:002001".to_vec()));
        c.opts.push((93, vec![0, 0]));
        c.opts.push((94, vec![1, 2, 1]));
        c.opts.push((97, vec![0; 17]));
        c
    }
    fn ipxe(n: u8) -> C {
        let mut c = C::pxe_rom(n);
        c.opts.push((175, vec![0x13, 1, 1]));
        c.opts.push((77, b"iPXE".to_vec()));
        c
    }
    fn msg(&self, t: MessageType, extra: &[(u8, &[u8])]) -> Vec<u8> {
        let mut buf = [0u8; 1500];
        let mut b = Builder::new(&mut buf).unwrap();
        b.xid(self.xid).ciaddr(self.ciaddr).flags(Flags::BROADCAST);
        b.chaddr(1, &self.mac).unwrap();
        b.message_type(t).unwrap();
        for (c, v) in &self.opts {
            b.option(*c, v).unwrap();
        }
        for (c, v) in extra {
            b.option(*c, v).unwrap();
        }
        let n = b.finish().unwrap();
        buf[..n].to_vec()
    }
}

fn reply(e: &mut Harness, r: &RxInfo<'_>, m: &[u8]) -> Option<(Vec<u8>, Destination)> {
    let mut out = [0u8; 1500];
    match e.handle(NOW, r, m, &mut out) {
        Outcome::Reply(Reply { len, dest, .. }) => Some((out[..len].to_vec(), dest)),
        _ => None,
    }
}

fn p(b: &[u8]) -> Packet<&[u8]> {
    Packet::new_checked(b).unwrap()
}

const REAL: &str = include_str!("../../../conf/seed-real.conf");
const PROXY: &str = include_str!("../../../conf/seed-proxy.conf");
const PROXY_PHP: &str = include_str!("../../../conf/seed-proxy-php.conf");

#[test]
fn seed_real_dora_and_chain() {
    let mut e = engine(REAL);
    let c = C::pxe_rom(1);
    let (o, dest) = reply(&mut e, &rx(67), &c.msg(MessageType::Discover, &[])).unwrap();
    let op = p(&o);
    assert_eq!(op.message_type().unwrap(), Some(MessageType::Offer));
    assert_eq!(dest, Destination::Broadcast);
    let yi = op.yiaddr();
    assert!(yi >= Ipv4Addr::new(192, 168, 2, 100) && yi <= Ipv4Addr::new(192, 168, 2, 200));
    assert_eq!(op.server_id().unwrap(), Some(LOCAL));
    assert_eq!(op.siaddr(), LOCAL);
    assert_eq!(op.option(67), Some(&b"undionly.kkpxe.0\0"[..]));
    assert_eq!(op.option(209), Some(&b"pxelinux.cfg/default"[..]));
    assert_eq!(op.lease_time().unwrap(), Some(3600));
    assert_eq!(op.renewal_time().unwrap(), Some(1800));
    assert_eq!(op.rebinding_time().unwrap(), Some(3150));
    assert!(
        e.take_changes().next().is_none(),
        "an OFFER persists nothing"
    );
    let yo = yi.octets();
    let so = LOCAL.octets();
    let (a, _) = reply(
        &mut e,
        &rx(67),
        &c.msg(MessageType::Request, &[(50, &yo), (54, &so)]),
    )
    .unwrap();
    let ap = p(&a);
    assert_eq!(ap.message_type().unwrap(), Some(MessageType::Ack));
    assert_eq!(ap.yiaddr(), yi);
    let ch: Vec<_> = e.take_changes().collect();
    assert!(matches!(&ch[..], [LeaseChange::Grant(l)] if l.addr == yi && l.expires == NOW + 3600));
    // iPXE on the same MAC gets the same address and pxelinux.0.
    let c2 = C {
        mac: c.mac,
        ..C::ipxe(1)
    };
    let (o2, _) = reply(&mut e, &rx(67), &c2.msg(MessageType::Discover, &[])).unwrap();
    assert_eq!(p(&o2).yiaddr(), yi);
    assert_eq!(p(&o2).option(67), Some(&b"pxelinux.0\0"[..]));
    assert!(e.log_line().contains("DHCPOFFER"), "{}", e.log_line());
    let mut e2 = engine(&std::format!("{REAL}log-dhcp\n"));
    let _ = reply(&mut e2, &rx(67), &c2.msg(MessageType::Discover, &[]));
    let l = e2.log_line();
    assert!(
        l.contains("\n  why:\n    tag ipxe set by test.conf:"),
        "{l}"
    );
    assert!(l.contains("dhcp-boot=pxelinux.0 -> CHOSEN"), "{l}");
    assert!(e.log_line().contains("ipxe"), "{}", e.log_line());
}

#[test]
fn two_hundred_clients_distinct_then_exhausted() {
    let mut e = engine("dhcp-range=192.168.2.10,192.168.2.209\n");
    let mut seen = alloc::collections::BTreeSet::new();
    for n in 0..200u32 {
        let mut c = C::new(0);
        c.mac = [2, 0, 0, 0, (n >> 8) as u8, n as u8];
        c.xid = n;
        let (o, _) = reply(&mut e, &rx(67), &c.msg(MessageType::Discover, &[])).unwrap();
        let yi = p(&o).yiaddr();
        let (a, _) = reply(
            &mut e,
            &rx(67),
            &c.msg(
                MessageType::Request,
                &[(50, &yi.octets()), (54, &LOCAL.octets())],
            ),
        )
        .unwrap();
        assert_eq!(p(&a).message_type().unwrap(), Some(MessageType::Ack));
        assert!(seen.insert(yi), "address {yi} granted twice");
    }
    let mut c = C::new(0);
    c.mac = [3, 0, 0, 0, 0, 1];
    assert!(reply(&mut e, &rx(67), &c.msg(MessageType::Discover, &[])).is_none());
    assert!(e.log_line().contains("no leases left"), "{}", e.log_line());
}

#[test]
fn request_states_and_naks() {
    let mut e = engine("dhcp-range=192.168.2.100,192.168.2.110\n");
    let c = C::new(1);
    let (o, _) = reply(&mut e, &rx(67), &c.msg(MessageType::Discover, &[])).unwrap();
    let yi = p(&o).yiaddr();
    reply(
        &mut e,
        &rx(67),
        &c.msg(
            MessageType::Request,
            &[(50, &yi.octets()), (54, &LOCAL.octets())],
        ),
    )
    .unwrap();
    e.take_changes().for_each(drop);
    // RENEWING: unicast, ciaddr set, no 50/54.
    let mut r = C::new(1);
    r.ciaddr = yi;
    let mut urx = rx(67);
    urx.broadcast = false;
    urx.src = SocketAddrV4::new(yi, 68);
    let (a, dest) = reply(&mut e, &urx, &r.msg(MessageType::Request, &[])).unwrap();
    assert_eq!(p(&a).message_type().unwrap(), Some(MessageType::Ack));
    assert_eq!(dest, Destination::Unicast(SocketAddrV4::new(yi, 68)));
    assert_eq!(
        e.take_changes().count(),
        1,
        "renewal extends the lease on disk"
    );
    // INIT-REBOOT with a wrong address: NAK.
    let bad = Ipv4Addr::new(192, 168, 2, 109);
    let (n, dest) = reply(
        &mut e,
        &rx(67),
        &c.msg(MessageType::Request, &[(50, &bad.octets())]),
    )
    .unwrap();
    assert_eq!(p(&n).message_type().unwrap(), Some(MessageType::Nak));
    assert_eq!(p(&n).option(56), Some(&b"wrong address"[..]));
    assert_eq!(dest, Destination::Broadcast);
    // Another client asking for the leased address while selecting us: NAK.
    let c2 = C::new(2);
    let (n2, _) = reply(
        &mut e,
        &rx(67),
        &c2.msg(
            MessageType::Request,
            &[(50, &yi.octets()), (54, &LOCAL.octets())],
        ),
    )
    .unwrap();
    assert_eq!(p(&n2).option(56), Some(&b"address in use"[..]));
    // A request for another server: silence.
    let other = Ipv4Addr::new(192, 168, 2, 254).octets();
    assert!(
        reply(
            &mut e,
            &rx(67),
            &c2.msg(MessageType::Request, &[(50, &yi.octets()), (54, &other)])
        )
        .is_none()
    );
    // Unknown client INIT-REBOOT, not authoritative: silence.
    let c3 = C::new(3);
    assert!(
        reply(
            &mut e,
            &rx(67),
            &c3.msg(MessageType::Request, &[(50, &[192, 168, 2, 105])])
        )
        .is_none()
    );
    // RELEASE frees it, DECLINE keeps it out.
    let mut rel = C::new(1);
    rel.ciaddr = yi;
    assert!(
        reply(
            &mut e,
            &urx,
            &rel.msg(MessageType::Release, &[(54, &LOCAL.octets())])
        )
        .is_none()
    );
    assert_eq!(
        e.take_changes().collect::<Vec<_>>(),
        vec![LeaseChange::Remove(yi)]
    );
    assert!(e.leases().get(yi).is_none());
    // c3 takes the freed address...
    let (o3, _) = reply(
        &mut e,
        &rx(67),
        &c3.msg(MessageType::Discover, &[(50, &yi.octets())]),
    )
    .unwrap();
    assert_eq!(p(&o3).yiaddr(), yi, "the requested free address is offered");
    let selecting = [(50, &yi.octets()[..]), (54, &LOCAL.octets()[..])];
    let (a3, _) = reply(&mut e, &rx(67), &c3.msg(MessageType::Request, &selecting)).unwrap();
    assert_eq!(p(&a3).message_type().unwrap(), Some(MessageType::Ack));
    e.take_changes().for_each(drop);
    // ...a DECLINE from anyone else changes nothing (no one can take
    // another client's address out of use)...
    let decline = |c: &C| c.msg(MessageType::Decline, &selecting);
    assert!(reply(&mut e, &rx(67), &decline(&c2)).is_none());
    assert_eq!(e.take_changes().count(), 0);
    assert!(e.leases().get(yi).is_some());
    assert_eq!(e.metrics().declines, 0);
    assert!(e.log_line().contains("ignored"), "{}", e.log_line());
    // ...its holder's DECLINE drops the lease and keeps the address out.
    assert!(reply(&mut e, &rx(67), &decline(&c3)).is_none());
    assert_eq!(
        e.take_changes().collect::<Vec<_>>(),
        vec![LeaseChange::Remove(yi)]
    );
    assert_eq!(e.metrics().declines, 1);
    let c4 = C::new(4);
    let (o4, _) = reply(
        &mut e,
        &rx(67),
        &c4.msg(MessageType::Discover, &[(50, &yi.octets())]),
    )
    .unwrap();
    assert_ne!(p(&o4).yiaddr(), yi, "declined address not offered");
}

#[test]
fn authoritative_naks_unknown_and_inform_acks() {
    let mut e = engine("dhcp-range=192.168.2.100,192.168.2.110\ndhcp-authoritative\n");
    let c = C::new(9);
    let (n, _) = reply(
        &mut e,
        &rx(67),
        &c.msg(MessageType::Request, &[(50, &[10, 0, 0, 5])]),
    )
    .unwrap();
    assert_eq!(p(&n).option(56), Some(&b"wrong network"[..]));
    let mut i = C::new(9);
    i.ciaddr = Ipv4Addr::new(192, 168, 2, 50);
    let mut urx = rx(67);
    urx.src = SocketAddrV4::new(i.ciaddr, 68);
    let (a, dest) = reply(&mut e, &urx, &i.msg(MessageType::Inform, &[])).unwrap();
    let ap = p(&a);
    assert_eq!(ap.message_type().unwrap(), Some(MessageType::Ack));
    assert_eq!(ap.lease_time().unwrap(), None);
    assert_eq!(ap.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(dest, Destination::Unicast(urx.src));
}

#[test]
fn seed_proxy_menu_and_boot_server() {
    let mut e = engine(PROXY);
    let c = C::pxe_rom(1);
    let (o, dest) = reply(&mut e, &rx(67), &c.msg(MessageType::Discover, &[])).unwrap();
    let op = p(&o);
    assert_eq!(op.message_type().unwrap(), Some(MessageType::Offer));
    assert_eq!(op.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(
        op.siaddr(),
        Ipv4Addr::UNSPECIFIED,
        "no boot file: siaddr as dnsmasq"
    );
    assert_eq!(dest, Destination::Broadcast);
    assert_eq!(op.option(60), Some(&b"PXEClient"[..]));
    assert!(op.option(43).is_some());
    for c in [1u8, 3, 6, 51, 58, 59, 66, 67] {
        assert!(
            op.option(c).is_none(),
            "proxy reply must not carry option {c}"
        );
    }
    assert!(o.len() >= 300);
    // Boot-server request on 4011 with 43.71.
    let mut r = C::pxe_rom(1);
    r.ciaddr = Ipv4Addr::new(192, 168, 2, 57);
    let mut prx = rx(4011);
    prx.src = SocketAddrV4::new(r.ciaddr, 4011);
    prx.broadcast = false;
    let (a, dest) = reply(
        &mut e,
        &prx,
        &r.msg(MessageType::Request, &[(43, &[71, 4, 0x80, 0, 0, 0, 255])]),
    )
    .unwrap();
    let ap = p(&a);
    assert_eq!(ap.message_type().unwrap(), Some(MessageType::Ack));
    assert_eq!(ap.yiaddr(), r.ciaddr);
    assert_eq!(ap.siaddr(), LOCAL);
    assert_eq!(
        ap.file(),
        Some(&b"undionly.kkpxe"[..]),
        "basename with a dot: no .layer (spec §5.3)"
    );
    assert_eq!(ap.option(43), Some(&[71, 4, 0x80, 0, 0, 0, 255][..]));
    assert_eq!(dest, Destination::Unicast(prx.src));
    // A plain (non-PXE) client is ignored by a proxy.
    assert!(reply(&mut e, &rx(67), &C::new(5).msg(MessageType::Discover, &[])).is_none());
    // REQUEST on 67 in proxy mode: ignored.
    assert!(
        reply(
            &mut e,
            &rx(67),
            &c.msg(
                MessageType::Request,
                &[(50, &[192, 168, 2, 57]), (54, &[192, 168, 2, 254])]
            )
        )
        .is_none()
    );
}

#[test]
fn seed_proxy_php_sets_next_server_deviation() {
    let mut e = engine(PROXY_PHP);
    let c = C::ipxe(1);
    let (o, _) = reply(&mut e, &rx(67), &c.msg(MessageType::Discover, &[])).unwrap();
    let op = p(&o);
    assert_eq!(
        op.file(),
        Some(&b"http://192.168.2.1/ipxe.php?mac=${mac}&uuid=${uuid}"[..])
    );
    assert_eq!(op.siaddr(), LOCAL, "documented deviation: next-server set");
    assert_eq!(op.option(60), Some(&b"PXEClient"[..]));
}

#[test]
fn malformed_is_dropped_and_counted() {
    let mut e = engine(REAL);
    let mut out = [0u8; 1500];
    assert_eq!(
        e.handle(NOW, &rx(67), &[1, 2, 3], &mut out),
        Outcome::Dropped(DropReason::TooShort)
    );
    let mut m = C::new(1).msg(MessageType::Discover, &[]);
    m[0] = 2;
    assert_eq!(
        e.handle(NOW, &rx(67), &m, &mut out),
        Outcome::Dropped(DropReason::NotRequest)
    );
    let mut m = C::new(1).msg(MessageType::Discover, &[]);
    m[2] = 17;
    assert_eq!(
        e.handle(NOW, &rx(67), &m, &mut out),
        Outcome::Dropped(DropReason::BadHardwareAddress)
    );
    let mut m = C::new(1).msg(MessageType::Discover, &[]);
    m[241] = 200; // option 53's length runs past the packet
    assert_eq!(
        e.handle(NOW, &rx(67), &m, &mut out),
        Outcome::Dropped(DropReason::BadOptions)
    );
    let m = C::new(1).msg(MessageType::Other(42), &[]);
    assert_eq!(
        e.handle(NOW, &rx(67), &m, &mut out),
        Outcome::Dropped(DropReason::UnknownMessageType)
    );
    assert_eq!(e.metrics().malformed(), 5);
    assert!(e.log_line().contains("unknown DHCP message type"));
}

proptest::proptest! {
    #[test]
    fn prop_random_input_never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..700)) {
        let mut e = engine(REAL);
        let mut out = [0u8; 1500];
        let _ = e.handle(NOW, &rx(67), &data, &mut out);
        let _ = e.handle(NOW, &rx(4011), &data, &mut out);
    }

    #[test]
    fn prop_mutated_requests_never_panic(pos in 0usize..400, val in proptest::prelude::any::<u8>(), pos2 in 0usize..400) {
        let mut e = engine(PROXY);
        let mut m = C::pxe_rom(1).msg(MessageType::Discover, &[(43, &[71, 4, 0x80, 0, 0, 0, 255])]);
        if pos < m.len() { m[pos] = val; }
        if pos2 < m.len() { m.truncate(pos2.max(1)); }
        let mut out = [0u8; 1500];
        let _ = e.handle(NOW, &rx(67), &m, &mut out);
        let _ = e.handle(NOW, &rx(4011), &m, &mut out);
    }
}

/// The reply's not-before time for `m` (the outcome must be a reply).
fn not_before(e: &mut Harness, r: &RxInfo<'_>, m: &[u8]) -> u64 {
    let mut out = [0u8; 1500];
    match e.handle(NOW, r, m, &mut out) {
        Outcome::Reply(reply) => reply.not_before,
        o => panic!("{o:?}: {}", e.log_line()),
    }
}

#[test]
fn reply_delay_holds_back_offers_and_proxy_replies_only() {
    let mut e = engine("dhcp-range=192.168.2.100,192.168.2.110\ndhcp-reply-delay=2\n");
    assert!(e.delays_replies());
    let c = C::new(1);
    let (o, _) = reply(&mut e, &rx(67), &c.msg(MessageType::Discover, &[])).unwrap();
    assert_eq!(
        not_before(&mut e, &rx(67), &c.msg(MessageType::Discover, &[])),
        NOW + 2,
        "DHCPOFFER is delayed"
    );
    // The ACK of a REQUEST is not (dnsmasq: "DHCPOFFER and PROXYDHCP
    // replies"), nor is a NAK.
    let yi = p(&o).yiaddr().octets();
    let sel = [(50, &yi[..]), (54, &LOCAL.octets()[..])];
    assert_eq!(
        not_before(&mut e, &rx(67), &c.msg(MessageType::Request, &sel)),
        NOW
    );
    let wrong = [(50, &[192, 168, 2, 109][..])];
    assert_eq!(
        not_before(&mut e, &rx(67), &c.msg(MessageType::Request, &wrong)),
        NOW,
        "{}",
        e.log_line()
    );
    assert!(
        e.log_line().contains("DHCPNAK wrong address"),
        "{}",
        e.log_line()
    );
    // A rapid-commit ACK answers a DISCOVER: delayed like the OFFER.
    let mut e =
        engine("dhcp-range=192.168.2.100,192.168.2.110\ndhcp-reply-delay=2\ndhcp-rapid-commit\n");
    let rapid = C::new(2).msg(MessageType::Discover, &[(80, &[])]);
    assert_eq!(not_before(&mut e, &rx(67), &rapid), NOW + 2);
    // A proxyDHCP OFFER is delayed too (dnsmasq's PXE branch applies it).
    let mut e = engine(
        "dhcp-range=192.168.2.0,proxy\npxe-service=x86PC,\"Boot\",pxelinux\ndhcp-reply-delay=2\n",
    );
    let pxe = [
        (60, &b"PXEClient:Arch:00000:UNDI:002001"[..]),
        (93, &[0, 0][..]),
    ];
    assert_eq!(
        not_before(&mut e, &rx(67), &C::new(3).msg(MessageType::Discover, &pxe)),
        NOW + 2,
        "proxy OFFER is delayed"
    );
    // Which kinds the delay holds back.
    let rc = Some(MessageType::Request);
    let dc = Some(MessageType::Discover);
    assert!(delayed(ReplyKind::Offer, dc));
    assert!(delayed(ReplyKind::ProxyOffer, dc));
    assert!(delayed(ReplyKind::ProxyAck, rc));
    assert!(delayed(ReplyKind::Ack, dc), "rapid commit");
    assert!(!delayed(ReplyKind::Ack, rc));
    assert!(!delayed(ReplyKind::Nak(event::NakReason::WrongAddress), rc));
    assert!(!delayed(ReplyKind::InformAck, Some(MessageType::Inform)));
    assert!(!delayed(ReplyKind::Bootp, None));
    assert!(!delayed(ReplyKind::BootServerAck, rc));
    // A tagged delay applies only to its tag; none configured: no delay.
    let mut e = engine(
        "dhcp-range=192.168.2.100,192.168.2.110\ndhcp-mac=set:slow,52:54:00:00:00:01\ndhcp-reply-delay=tag:slow,4\n",
    );
    assert_eq!(
        not_before(&mut e, &rx(67), &C::new(1).msg(MessageType::Discover, &[])),
        NOW + 4
    );
    assert_eq!(
        not_before(&mut e, &rx(67), &C::new(2).msg(MessageType::Discover, &[])),
        NOW
    );
    let mut e = engine("dhcp-range=192.168.2.100,192.168.2.110\n");
    assert!(!e.delays_replies());
    assert_eq!(
        not_before(&mut e, &rx(67), &C::new(1).msg(MessageType::Discover, &[])),
        NOW
    );
}

#[test]
fn lease_max_is_enforced_for_new_clients_only() {
    let mut e = engine("dhcp-range=192.168.2.100,192.168.2.110\ndhcp-lease-max=1\n");
    let c = C::new(1);
    let (o, _) = reply(&mut e, &rx(67), &c.msg(MessageType::Discover, &[])).unwrap();
    let yi = p(&o).yiaddr().octets();
    let sel = [(50, &yi[..]), (54, &LOCAL.octets()[..])];
    let (a, _) = reply(&mut e, &rx(67), &c.msg(MessageType::Request, &sel)).unwrap();
    assert_eq!(p(&a).message_type().unwrap(), Some(MessageType::Ack));
    // The same client renews; a second client gets nothing.
    let (a, _) = reply(&mut e, &rx(67), &c.msg(MessageType::Request, &sel)).unwrap();
    assert_eq!(p(&a).message_type().unwrap(), Some(MessageType::Ack));
    assert!(reply(&mut e, &rx(67), &C::new(2).msg(MessageType::Discover, &[])).is_none());
    assert!(e.log_line().contains("dhcp-lease-max"), "{}", e.log_line());
}

#[test]
fn rapid_commit_acks_a_discover_that_asks_for_it() {
    const RANGE: &str = "dhcp-range=192.168.2.100,192.168.2.110\n";
    let rapid = [(80u8, &[][..])];
    // Enabled, and asked for: an ACK carrying option 80, the lease committed.
    let mut e = engine(&alloc::format!("{RANGE}dhcp-rapid-commit\n"));
    let c = C::new(1);
    let (a, _) = reply(&mut e, &rx(67), &c.msg(MessageType::Discover, &rapid)).unwrap();
    let a = p(&a);
    assert_eq!(a.message_type().unwrap(), Some(MessageType::Ack));
    assert_eq!(a.option(80), Some(&[][..]));
    assert!(a.lease_time().unwrap().is_some());
    assert_eq!(
        e.take_changes().collect::<Vec<_>>().len(),
        1,
        "lease on its way to disk before the ACK leaves"
    );
    assert!(e.leases().get(a.yiaddr()).is_some());
    // Enabled, not asked for: the usual OFFER, no option 80.
    let (o, _) = reply(&mut e, &rx(67), &C::new(2).msg(MessageType::Discover, &[])).unwrap();
    assert_eq!(p(&o).message_type().unwrap(), Some(MessageType::Offer));
    assert_eq!(p(&o).option(80), None);
    // Asked for, not enabled (RFC 4039: only a server configured for it).
    let mut e = engine(RANGE);
    let (o, _) = reply(&mut e, &rx(67), &c.msg(MessageType::Discover, &rapid)).unwrap();
    assert_eq!(p(&o).message_type().unwrap(), Some(MessageType::Offer));
    assert_eq!(p(&o).option(80), None);
    assert_eq!(e.take_changes().count(), 0);
}

#[test]
fn sequential_ip_hands_out_the_lowest_free_address() {
    let mut e = engine("dhcp-range=192.168.2.100,192.168.2.200\ndhcp-sequential-ip\n");
    for n in 1..4u8 {
        let (o, _) = reply(&mut e, &rx(67), &C::new(n).msg(MessageType::Discover, &[])).unwrap();
        let yi = p(&o).yiaddr();
        assert_eq!(yi, Ipv4Addr::new(192, 168, 2, 99 + n), "client {n}");
        let sel = [(50, &yi.octets()[..]), (54, &LOCAL.octets()[..])];
        reply(&mut e, &rx(67), &C::new(n).msg(MessageType::Request, &sel)).unwrap();
    }
}

#[test]
fn next_server_by_name_comes_from_the_hosts_file() {
    let conf = "dhcp-range=192.168.2.100,192.168.2.110\ndhcp-boot=pxelinux.0,,boothost\n";
    let c = C::new(1);
    let mut e = engine(conf);
    let (o, _) = reply(&mut e, &rx(67), &c.msg(MessageType::Discover, &[])).unwrap();
    assert_eq!(p(&o).siaddr(), Ipv4Addr::UNSPECIFIED, "unresolved: 0.0.0.0");
    assert!(
        e.log_line().contains("not in the hosts file"),
        "{}",
        e.log_line()
    );
    e.set_hosts(crate::hosts::Hosts::parse(
        "192.168.2.9 boothost.lab boothost\n",
    ));
    let (o, _) = reply(&mut e, &rx(67), &c.msg(MessageType::Discover, &[])).unwrap();
    assert_eq!(p(&o).siaddr(), Ipv4Addr::new(192, 168, 2, 9));
    // pxe-service's server name, on the 4011 boot server too.
    let mut e =
        engine("dhcp-range=192.168.2.0,proxy\npxe-service=x86PC,\"Boot\",pxelinux,boothost\n");
    e.set_hosts(crate::hosts::Hosts::parse("192.168.2.9 boothost\n"));
    let mut c = C::pxe_rom(2);
    c.ciaddr = Ipv4Addr::new(192, 168, 2, 57);
    let mut prx = rx(4011);
    prx.src = SocketAddrV4::new(c.ciaddr, 4011);
    prx.broadcast = false;
    let req = c.msg(
        MessageType::Request,
        &[(43, &[71, 4, 0x80, 0, 0, 0, 255][..])],
    );
    let (a, _) = reply(&mut e, &prx, &req).unwrap();
    assert_eq!(p(&a).siaddr(), Ipv4Addr::new(192, 168, 2, 9));
}

#[test]
fn clock_at_the_end_of_time_does_not_overflow() {
    // Lease expiry, offer hold and decline hold all add to `now`: a clock
    // at the end of the u64 range saturates instead of panicking.
    let mut e = engine(REAL);
    let now = u64::MAX - 5;
    let c = C::pxe_rom(7);
    let mut out = [0u8; 1500];
    let Outcome::Reply(Reply { len, .. }) =
        e.handle(now, &rx(67), &c.msg(MessageType::Discover, &[]), &mut out)
    else {
        panic!("no offer: {}", e.log_line());
    };
    let yo = p(&out[..len]).yiaddr().octets();
    let so = LOCAL.octets();
    let req = c.msg(MessageType::Request, &[(50, &yo), (54, &so)]);
    assert!(matches!(
        e.handle(now, &rx(67), &req, &mut out),
        Outcome::Reply(_)
    ));
    let ch: Vec<_> = e.take_changes().collect();
    assert!(
        matches!(&ch[..], [LeaseChange::Grant(l)] if l.expires == u64::MAX),
        "{ch:?}"
    );
    let dec = c.msg(MessageType::Decline, &[(50, &yo), (54, &so)]);
    assert_eq!(e.handle(now, &rx(67), &dec, &mut out), Outcome::NoReply);
}

#[test]
fn replies_are_built_the_same_with_logging_off() {
    let c = C::pxe_rom(8);
    let m = c.msg(MessageType::Discover, &[]);
    let mut on = engine(REAL);
    let mut off = engine(REAL);
    off.quiet = true;
    let a = reply(&mut on, &rx(67), &m).unwrap();
    let b = reply(&mut off, &rx(67), &m).unwrap();
    assert_eq!(a, b);
    assert!(
        on.log_line().contains("bootfile=undionly.kkpxe.0"),
        "{}",
        on.log_line()
    );
    assert_eq!(off.log_line(), "");
    // With log-dhcp, a sink that does not ask for the rule trace does not
    // get it (it costs a second evaluation and allocations).
    let mut e = Engine::new(Arc::new(
        Config::parse_str(&alloc::format!("{REAL}log-dhcp\n"), "t.conf").unwrap(),
    ));
    let mut traces = 0;
    let mut events = 0;
    let mut sink = |ev: &Event<'_>| {
        events += 1;
        if matches!(ev, Event::Trace { .. }) {
            traces += 1;
        }
    };
    let mut out = [0u8; 1500];
    assert!(matches!(
        e.handle(NOW, &rx(67), &m, &mut out, &mut sink),
        Output::Ready(Outcome::Reply(_))
    ));
    assert_eq!((events, traces), (1, 0));
}

/// Runs `m` through a bare engine and keeps the events (as lines) and
/// what a driver would see of the output.
fn exchange(
    e: &mut Engine,
    r: &RxInfo<'_>,
    m: &[u8],
    out: &mut [u8],
) -> (Vec<LeaseChange>, Outcome, Vec<String>) {
    let mut lines = Vec::new();
    let mut sink = |ev: &Event<'_>| lines.push(ev.to_string());
    let (changes, outcome) = match e.handle(NOW, r, m, out, &mut sink) {
        Output::Ready(o) => (Vec::new(), o),
        Output::Persist(p) => (p.changes().to_vec(), p.persisted()),
    };
    (changes, outcome, lines)
}

#[test]
fn lease_changes_come_before_the_reply_in_the_output() {
    let mut e = Engine::new(Arc::new(
        Config::parse_str("dhcp-range=192.168.2.100,192.168.2.110\n", "t.conf").unwrap(),
    ));
    let c = C::new(1);
    let mut out = [0u8; 1500];
    // OFFER: ready at once, nothing to persist.
    let offer = c.msg(MessageType::Discover, &[]);
    let o = e.handle(NOW, &rx(67), &offer, &mut out, &mut NoEvents);
    assert!(o.changes().is_empty());
    let Output::Ready(Outcome::Reply(r)) = o else {
        panic!("{o:?}")
    };
    let yi = p(&out[..r.len]).yiaddr();
    // ACK: the grant must be persisted; the reply is behind it.
    let sel = [(50, &yi.octets()[..]), (54, &LOCAL.octets()[..])];
    let req = c.msg(MessageType::Request, &sel);
    let Output::Persist(persist) = e.handle(NOW, &rx(67), &req, &mut out, &mut NoEvents) else {
        panic!("an ACK without its lease change")
    };
    assert!(matches!(persist.changes(), [LeaseChange::Grant(l)] if l.addr == yi));
    let mut queue = Vec::new();
    let Outcome::Reply(ack) = persist.hand_over(&mut queue) else {
        panic!("no ACK")
    };
    assert_eq!(queue.len(), 1, "the changes moved to the writer's queue");
    assert_eq!(
        p(&out[..ack.len]).message_type().unwrap(),
        Some(MessageType::Ack)
    );
    // A reply too big for the buffer is dropped, but the lease it would
    // have announced is in the table already: it still must be persisted.
    let mut small = [0u8; 250];
    let o = e.handle(NOW, &rx(67), &req, &mut small, &mut NoEvents);
    let Output::Persist(persist) = o else {
        panic!("{o:?}")
    };
    assert!(!persist.changes().is_empty());
    assert_eq!(
        persist.persisted(),
        Outcome::Dropped(DropReason::ReplyTooBig)
    );
    // RELEASE: a change to persist, no reply.
    let mut rel = C::new(1);
    rel.ciaddr = yi;
    let m = rel.msg(MessageType::Release, &[(54, &LOCAL.octets())]);
    let (changes, outcome, lines) = exchange(&mut e, &rx(67), &m, &mut out);
    assert_eq!(changes, vec![LeaseChange::Remove(yi)]);
    assert_eq!(outcome, Outcome::NoReply);
    assert_eq!(
        lines,
        [alloc::format!(
            "DHCPRELEASE(eth0) 52:54:00:00:00:01 tags: none -> released {yi}"
        )]
    );
    assert_eq!(e.metrics().releases, 1);
}

#[test]
fn events_are_keyed_by_client_and_carry_the_decision() {
    let mut e = Engine::new(Arc::new(Config::parse_str(REAL, "test.conf").unwrap()));
    let mut c = C::ipxe(3);
    // A UUID in option 97 (type 0 + 16 bytes).
    let uuid: Vec<u8> = (0..17u8).collect();
    c.opts.retain(|(code, _)| *code != 97);
    c.opts.push((97, uuid.clone()));
    let m = c.msg(MessageType::Discover, &[]);
    let mut seen = Vec::new();
    let mut out = [0u8; 1500];
    let mut sink = |ev: &Event<'_>| {
        let Event::Reply {
            request,
            kind,
            yiaddr,
            next_server,
            not_before,
            ..
        } = ev
        else {
            panic!("{ev}")
        };
        let d = request.decision;
        seen.push((
            request.client,
            *kind,
            *yiaddr,
            next_server.addr,
            *not_before,
            d.tag_names().any(|t| t == "ipxe"),
            d.boot().and_then(|b| b.file.clone()),
            d.boot_options()
                .find(|(c, _)| *c == 67)
                .map(|(_, v)| v.to_vec()),
            ev.client().copied(),
        ));
    };
    let o = e.handle(NOW, &rx(67), &m, &mut out, &mut sink);
    let Output::Ready(Outcome::Reply(offer)) = o else {
        panic!("no offer")
    };
    let wire_67 = p(&out[..offer.len]).option(67).map(<[u8]>::to_vec);
    let [(client, kind, yiaddr, next, nb, ipxe, boot, file, key)] = &seen[..] else {
        panic!("one event per reply: {}", seen.len())
    };
    assert_eq!(client.hw, HwAddr::ethernet(c.mac));
    assert_eq!(
        client.uuid.map(|u| u.bytes.to_vec()),
        Some(uuid[1..].to_vec())
    );
    assert_eq!(client.ip, None, "no ciaddr, no option 50");
    assert_eq!(*key, Some(*client));
    assert_eq!(*kind, ReplyKind::Offer);
    assert!(*yiaddr >= Ipv4Addr::new(192, 168, 2, 100));
    assert_eq!(*next, LOCAL);
    assert_eq!(*nb, NOW);
    assert!(*ipxe, "tags are the rules' decision");
    assert_eq!(
        boot.as_deref(),
        Some("pxelinux.0"),
        "the dhcp-boot line that fired"
    );
    assert_eq!(
        file.as_deref(),
        Some(&b"pxelinux.0"[..]),
        "asked for in option 67"
    );
    assert_eq!(
        wire_67.as_deref(),
        Some(&b"pxelinux.0\0"[..]),
        "and written NUL-terminated"
    );
    // The requested address is the client's IP while it has no ciaddr.
    let sel = [(50, &yiaddr.octets()[..]), (54, &LOCAL.octets()[..])];
    let mut ip = None;
    let mut sink = |ev: &Event<'_>| ip = ev.client().and_then(|c| c.ip);
    let _ = e.handle(
        NOW,
        &rx(67),
        &c.msg(MessageType::Request, &sel),
        &mut out,
        &mut sink,
    );
    assert_eq!(ip, Some(*yiaddr));
}

#[test]
fn log_lines_read_as_before() {
    let mut e = Engine::new(Arc::new(
        Config::parse_str(
            "dhcp-range=192.168.2.100,192.168.2.110\ndhcp-boot=pxelinux.0\n",
            "t.conf",
        )
        .unwrap(),
    ));
    // A client like udhcpc, which does not ask for option 67: the boot
    // file goes in the header.
    let mut c = C::new(1);
    c.opts = vec![(55, vec![1, 3, 6, 12, 15, 28, 51, 54])];
    let mut out = [0u8; 1500];
    let (_, o, lines) = exchange(
        &mut e,
        &rx(67),
        &c.msg(MessageType::Discover, &[]),
        &mut out,
    );
    let Outcome::Reply(r) = o else {
        panic!("{o:?}")
    };
    let yi = p(&out[..r.len]).yiaddr();
    assert_eq!(
        lines,
        [alloc::format!(
            "DHCPDISCOVER(eth0) 52:54:00:00:00:01 tags: none -> DHCPOFFER {yi} file=pxelinux.0 next-server=192.168.2.1 (broadcast)"
        )]
    );
    let sel = [(50, &yi.octets()[..]), (54, &LOCAL.octets()[..])];
    let _ = exchange(
        &mut e,
        &rx(67),
        &c.msg(MessageType::Request, &sel),
        &mut out,
    );
    // The renewal line pxe-server's real-client test waits for.
    let mut r = C { ciaddr: yi, ..c };
    r.opts = vec![(55, vec![1, 3, 6])];
    let mut urx = rx(67);
    urx.broadcast = false;
    urx.src = SocketAddrV4::new(yi, 68);
    let (changes, _, lines) = exchange(&mut e, &urx, &r.msg(MessageType::Request, &[]), &mut out);
    assert_eq!(changes.len(), 1);
    assert_eq!(
        lines,
        [alloc::format!(
            "DHCPREQUEST(eth0) 52:54:00:00:00:01 tags: none -> DHCPACK {yi} file=pxelinux.0 next-server=192.168.2.1 (unicast {yi}:68)"
        )]
    );
    // A NAK names its reason; a drop its source, reason and count.
    let (_, _, lines) = exchange(
        &mut e,
        &rx(67),
        &C::new(2).msg(MessageType::Request, &sel),
        &mut out,
    );
    assert_eq!(
        lines,
        ["DHCPREQUEST(eth0) 52:54:00:00:00:02 tags: none -> DHCPNAK address in use (broadcast)"]
    );
    let (_, o, lines) = exchange(&mut e, &rx(67), &[0; 10], &mut out);
    assert_eq!(o, Outcome::Dropped(DropReason::TooShort));
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0]
            .starts_with("dropped packet from 0.0.0.0:68 on eth0: shorter than a BOOTP header: ")
            && lines[0].ends_with(" (1 so far)"),
        "{lines:?}"
    );
}

#[test]
fn drops_are_reported_once_then_at_powers_of_two() {
    let mut e = Engine::new(Arc::new(Config::parse_str(REAL, "t.conf").unwrap()));
    let mut counts = Vec::new();
    let mut out = [0u8; 1500];
    for _ in 0..20 {
        let mut sink = |ev: &Event<'_>| {
            if let Event::Dropped { reason, count, .. } = ev {
                assert_eq!(*reason, DropReason::TooShort);
                counts.push(*count);
            }
        };
        let o = e.handle(NOW, &rx(67), &[1, 2, 3], &mut out, &mut sink);
        assert_eq!(o, Output::Ready(Outcome::Dropped(DropReason::TooShort)));
    }
    assert_eq!(counts, [1, 2, 3, 5, 9, 17]);
    assert_eq!(e.metrics().drops(DropReason::TooShort), 20);
}

#[test]
fn reconfigure_answers_by_the_new_rules_and_keeps_leases_and_counters() {
    let mut e = engine("dhcp-range=192.168.2.100,192.168.2.110\ndhcp-boot=old.0\n");
    let c = C::new(1);
    let (o, _) = reply(&mut e, &rx(67), &c.msg(MessageType::Discover, &[])).unwrap();
    let yi = p(&o).yiaddr();
    assert_eq!(p(&o).boot_file_name(), Some(&b"old.0"[..]));
    let sel = [(50, &yi.octets()[..]), (54, &LOCAL.octets()[..])];
    reply(&mut e, &rx(67), &c.msg(MessageType::Request, &sel)).unwrap();
    let received = e.metrics().received;
    assert_eq!(e.leases().len(), 1);

    let new = Config::parse_str(
        "dhcp-range=192.168.2.150,192.168.2.160\ndhcp-boot=new.0\ndhcp-host=52:54:00:00:00:03,192.168.2.170\n",
        "new.conf",
    )
    .unwrap();
    e.reconfigure(Arc::new(new));
    assert_eq!(e.config().items[0].loc.file, "new.conf");
    // The lease, the counters and the old client's address stay.
    assert_eq!(e.leases().len(), 1);
    assert_eq!(
        e.leases().get(yi).map(|l| l.hw),
        Some(HwAddr::ethernet(c.mac))
    );
    assert_eq!(e.metrics().received, received);
    // A new client gets an address of the new range and the new file.
    let (o, _) = reply(&mut e, &rx(67), &C::new(2).msg(MessageType::Discover, &[])).unwrap();
    let got = p(&o).yiaddr();
    assert!(
        (Ipv4Addr::new(192, 168, 2, 150)..=Ipv4Addr::new(192, 168, 2, 160)).contains(&got),
        "{got}"
    );
    assert_eq!(p(&o).boot_file_name(), Some(&b"new.0"[..]));
    // The new reservation holds; the old range's pool is gone.
    let (o, _) = reply(&mut e, &rx(67), &C::new(3).msg(MessageType::Discover, &[])).unwrap();
    assert_eq!(p(&o).yiaddr(), Ipv4Addr::new(192, 168, 2, 170));
    assert_eq!(e.leases().pools().len(), 1);
    assert_eq!(e.leases().pools()[0].start, Ipv4Addr::new(192, 168, 2, 150));
}

#[test]
fn a_shared_store_claims_offers_and_a_refusal_moves_the_client_elsewhere() {
    use crate::lease::{Conflict, HwAddr, Lease, Owner};
    let conf = "dhcp-range=192.168.2.100,192.168.2.110\n";
    let mut e = Engine::new(Arc::new(Config::parse_str(conf, "t.conf").unwrap()));
    e.set_shared_store(true);
    let c = C::new(1);
    let mut out = [0u8; 1500];
    // The OFFER waits for its claim, made for this client.
    let m = c.msg(MessageType::Discover, &[(61, &[1, 9, 9][..])]);
    let Output::Persist(persist) = e.handle(NOW, &rx(67), &m, &mut out, &mut NoEvents) else {
        panic!("a shared store's OFFER is claimed first")
    };
    let hw = HwAddr::ethernet(c.mac);
    assert_eq!(
        persist.owner(),
        Owner {
            hw,
            client_id: Some(&[1, 9, 9][..])
        }
    );
    let [LeaseChange::Offer(claim)] = persist.changes() else {
        panic!("{:?}", persist.changes())
    };
    let first = claim.addr;
    assert_eq!(claim.expires, NOW + crate::lease::table::OFFER_HOLD_SECS);
    assert_eq!(claim.client_id.as_deref(), Some(&[1, 9, 9][..]));
    let Outcome::Reply(r) = persist.persisted() else {
        panic!("no OFFER")
    };
    assert_eq!(p(&out[..r.len]).yiaddr(), first);
    // Another server's client holds that address in the store: the table
    // takes the store's word, and the retry is offered another address.
    let other = Lease {
        addr: first,
        hw: HwAddr::ethernet([2, 0, 0, 0, 0, 7]),
        client_id: None,
        hostname: None,
        expires: NOW + 3600,
    };
    e.store_refused(&Conflict {
        addr: first,
        holder: Some(other.clone()),
        offer: false,
    });
    assert_eq!(e.leases().get(first), Some(&other));
    assert_eq!(e.metrics().store_refusals, 1);
    let (changes, outcome, _) = exchange(&mut e, &rx(67), &m, &mut out);
    let Outcome::Reply(r) = outcome else {
        panic!("no OFFER on the retry")
    };
    let second = p(&out[..r.len]).yiaddr();
    assert_ne!(second, first);
    assert!(matches!(&changes[..], [LeaseChange::Offer(l)] if l.addr == second));
    // An offer held elsewhere keeps the address from this client too.
    e.store_refused(&Conflict {
        addr: second,
        holder: Some(Lease {
            addr: second,
            expires: NOW + 60,
            ..other.clone()
        }),
        offer: true,
    });
    assert!(e.leases().get(second).is_none());
    assert!(
        e.leases()
            .check_free(second, Some(&[1, 9, 9][..]), &hw, NOW)
            .is_err()
    );
    let (_, outcome, _) = exchange(&mut e, &rx(67), &m, &mut out);
    let Outcome::Reply(r) = outcome else {
        panic!("no OFFER on the second retry")
    };
    let third = p(&out[..r.len]).yiaddr();
    assert!(
        third != first && third != second,
        "{first} {second} {third}"
    );
}

#[test]
fn the_embedded_store_keeps_offers_in_memory_only() {
    let mut e = engine("dhcp-range=192.168.2.100,192.168.2.110\n");
    let c = C::new(1);
    let mut out = [0u8; 1500];
    let m = c.msg(MessageType::Discover, &[]);
    let o = e.e.handle(NOW, &rx(67), &m, &mut out, &mut NoEvents);
    assert!(matches!(o, Output::Ready(Outcome::Reply(_))), "{o:?}");
}

#[test]
fn load_balanced_servers_answer_their_own_clients_and_step_in_after_waiting() {
    let conf = "dhcp-range=192.168.2.100,192.168.2.200\nload-balance-wait=4\n";
    let mut servers: Vec<Harness> = (0..3).map(|_| engine(conf)).collect();
    for (i, s) in servers.iter_mut().enumerate() {
        s.e.set_share(i as u16, 3);
        assert_eq!(s.share().wait_secs, 4);
    }
    for n in 0..60u8 {
        let c = C::new(n);
        let mut m = c.msg(MessageType::Discover, &[]);
        let answering = servers
            .iter_mut()
            .map(|s| reply(s, &rx(67), &m).is_some())
            .filter(|answered| *answered)
            .count();
        assert_eq!(answering, 1, "client {n}: one server answers");
        // secs (bytes 8-9): the client has waited 4 s, everyone answers.
        m[8..10].copy_from_slice(&4u16.to_be_bytes());
        let answering = servers
            .iter_mut()
            .map(|s| reply(s, &rx(67), &m).is_some())
            .filter(|answered| *answered)
            .count();
        assert_eq!(answering, 3, "client {n} after waiting");
    }
    // The silent ones say why.
    let c = C::new(1);
    let m = c.msg(MessageType::Discover, &[]);
    let silent = servers
        .iter_mut()
        .find_map(|s| {
            reply(s, &rx(67), &m)
                .is_none()
                .then(|| s.log_line().to_string())
        })
        .unwrap();
    assert!(
        silent.contains("another server's client (load balancing)"),
        "{silent}"
    );
    // Alone again (the others' heartbeats stopped): every client.
    servers[1].e.set_share(0, 1);
    let quiet = C::new(200);
    let m = quiet.msg(MessageType::Discover, &[]);
    assert!(reply(&mut servers[1], &rx(67), &m).is_some());
}

#[test]
fn without_the_store_only_known_leases_are_renewed_for_the_time_they_have_left() {
    let mut e = engine("dhcp-range=192.168.2.100,192.168.2.110,1h\n");
    e.e.set_shared_store(true);
    let c = C::new(1);
    let mut out = [0u8; 1500];
    let (o, _) = reply(&mut e, &rx(67), &c.msg(MessageType::Discover, &[])).unwrap();
    let yi = p(&o).yiaddr();
    let sel = [(50, &yi.octets()[..]), (54, &LOCAL.octets()[..])];
    reply(&mut e, &rx(67), &c.msg(MessageType::Request, &sel)).unwrap();
    assert!(matches!(
        e.take_changes().next(),
        Some(LeaseChange::Grant(_))
    ));

    e.e.set_store_reachable(false);
    assert!(!e.store_reachable());
    // A new client gets nothing, and is counted.
    let stranger = C::new(2);
    assert!(reply(&mut e, &rx(67), &stranger.msg(MessageType::Discover, &[])).is_none());
    assert_eq!(e.metrics().store_down_refusals, 1);
    assert!(
        e.log_line().contains("lease store unreachable"),
        "{}",
        e.log_line()
    );
    // The known client renews 20 minutes on: ACKed at once (nothing to
    // write), for the 40 minutes its lease has left in the store.
    let mut r = C::new(1);
    r.ciaddr = yi;
    let mut urx = rx(67);
    urx.broadcast = false;
    urx.src = SocketAddrV4::new(yi, 68);
    let later = NOW + 1200;
    let m = r.msg(MessageType::Request, &[]);
    let Output::Ready(Outcome::Reply(ack)) = e.e.handle(later, &urx, &m, &mut out, &mut NoEvents)
    else {
        panic!("no ACK from the cache")
    };
    let ack = p(&out[..ack.len]);
    assert_eq!(ack.message_type().unwrap(), Some(MessageType::Ack));
    assert_eq!(ack.lease_time().unwrap(), Some(2400));
    assert_eq!(e.metrics().acks_from_cache, 1);
    assert_eq!(
        e.leases().get(yi).unwrap().expires,
        NOW + 3600,
        "nothing changed"
    );
    // Less than two minutes left: not promised any more.
    let o = e.e.handle(NOW + 3550, &urx, &m, &mut out, &mut NoEvents);
    assert!(
        matches!(o, Output::Ready(Outcome::NoReply | Outcome::Dropped(_))),
        "{o:?}"
    );
    // The store is back: renewals are granted (and written) again.
    e.e.set_store_reachable(true);
    let o = e.e.handle(later, &urx, &m, &mut out, &mut NoEvents);
    assert!(matches!(o, Output::Persist(_)), "{o:?}");
}

#[test]
fn nak_is_broadcast_with_the_broadcast_flag_or_relayed() {
    let mut e = engine("dhcp-range=192.168.2.100,192.168.2.110\ndhcp-authoritative\n");
    let mut c = C::new(9);
    // The client did not set the broadcast flag: the NAK sets it.
    let unflagged = |m: Vec<u8>| {
        let mut m = m;
        m[10] = 0;
        m
    };
    let (n, dest) = reply(
        &mut e,
        &rx(67),
        &unflagged(c.msg(MessageType::Request, &[(50, &[10, 0, 0, 5])])),
    )
    .unwrap();
    assert_eq!(p(&n).message_type().unwrap(), Some(MessageType::Nak));
    assert!(p(&n).flags().contains(Flags::BROADCAST), "RFC 2131 §4.3.2");
    assert_eq!(p(&n).ciaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(dest, Destination::Broadcast);
    // Relayed: to the relay's port 67, the flag set too (as dnsmasq).
    let mut m = unflagged(c.msg(MessageType::Request, &[(50, &[10, 0, 0, 5])]));
    m[24..28].copy_from_slice(&[192, 168, 2, 254]);
    let (n, dest) = reply(&mut e, &rx(67), &m).unwrap();
    assert!(p(&n).flags().contains(Flags::BROADCAST));
    assert_eq!(
        dest,
        Destination::Unicast(SocketAddrV4::new(Ipv4Addr::new(192, 168, 2, 254), 67))
    );
    // Unicast renewal of an address in use by another client, from this
    // network: still broadcast.
    c.ciaddr = Ipv4Addr::new(192, 168, 2, 50);
    let mut urx = rx(67);
    urx.broadcast = false;
    urx.src = SocketAddrV4::new(c.ciaddr, 68);
    let (n, dest) = reply(&mut e, &urx, &unflagged(c.msg(MessageType::Request, &[]))).unwrap();
    assert_eq!(p(&n).message_type().unwrap(), Some(MessageType::Nak));
    assert_eq!(dest, Destination::Broadcast);
}

#[test]
fn nak_unicast_only_to_a_client_on_another_network_without_relay() {
    use super::reply::nak_broadcast;
    use event::NakReason::{AddressInUse, LeaseNotFound, WrongNetwork};
    let (local, mask) = (LOCAL, Ipv4Addr::new(255, 255, 255, 0));
    let (any, far) = (Ipv4Addr::UNSPECIFIED, Ipv4Addr::new(10, 9, 9, 9));
    let near = Ipv4Addr::new(192, 168, 2, 77);
    assert!(nak_broadcast(AddressInUse, true, any, far, local, mask));
    assert!(!nak_broadcast(AddressInUse, false, any, far, local, mask));
    assert!(nak_broadcast(AddressInUse, false, any, near, local, mask));
    assert!(nak_broadcast(AddressInUse, false, any, any, local, mask));
    assert!(nak_broadcast(AddressInUse, false, near, far, local, mask));
    assert!(nak_broadcast(LeaseNotFound, false, any, far, local, mask));
    assert!(nak_broadcast(WrongNetwork, false, any, far, local, mask));
}

/// RENEWING, REBINDING and INIT-REBOOT of an address this server holds no
/// lease for (after a RELEASE, a lost lease file, a server replacement),
/// authoritative or not, as dnsmasq's `rfc2131.c` answers them.
#[test]
fn renewal_without_a_lease_as_dnsmasq() {
    let yi = Ipv4Addr::new(192, 168, 2, 104);
    let renew = |ciaddr: Ipv4Addr, extra: &[(u8, &[u8])]| {
        let mut c = C::new(7);
        c.ciaddr = ciaddr;
        c.msg(MessageType::Request, extra)
    };
    let mut urx = rx(67);
    urx.broadcast = false;
    urx.src = SocketAddrV4::new(yi, 68);
    let kind = |r: &Option<(Vec<u8>, Destination)>| {
        r.as_ref().map(|(b, _)| {
            let pk = p(b);
            (
                pk.message_type().unwrap(),
                pk.option(56).map(<[u8]>::to_vec),
                pk.yiaddr(),
            )
        })
    };
    let nak = |m: &str| {
        Some((
            Some(MessageType::Nak),
            Some(m.as_bytes().to_vec()),
            Ipv4Addr::UNSPECIFIED,
        ))
    };
    let ack = |a: Ipv4Addr| Some((Some(MessageType::Ack), None, a));

    // Not authoritative: a unicast renewal is NAKed ("lease not found"),
    // a broadcast rebind and an INIT-REBOOT are left to the server that
    // may hold the lease. A server id in the renewal changes nothing.
    let mut e = engine("dhcp-range=192.168.2.100,192.168.2.110\n");
    assert_eq!(
        kind(&reply(&mut e, &urx, &renew(yi, &[]))),
        nak("lease not found")
    );
    let sid = LOCAL.octets();
    assert_eq!(
        kind(&reply(&mut e, &urx, &renew(yi, &[(54, &sid)]))),
        nak("lease not found")
    );
    assert_eq!(kind(&reply(&mut e, &rx(67), &renew(yi, &[]))), None);
    let reboot = C::new(7).msg(MessageType::Request, &[(50, &yi.octets())]);
    assert_eq!(kind(&reply(&mut e, &rx(67), &reboot)), None);
    // Neither 50 nor ciaddr: silent when broadcast, NAK saying so when not.
    let none = renew(Ipv4Addr::UNSPECIFIED, &[]);
    assert_eq!(kind(&reply(&mut e, &rx(67), &none)), None);
    assert_eq!(
        kind(&reply(&mut e, &urx, &none)),
        nak("no address requested")
    );

    // Authoritative: the free address in a range is ACKed (and leased),
    // renewed, rebound or rebooted; an address on another network is
    // NAKed "wrong network", one in use by another client "address in
    // use".
    let mut e = engine("dhcp-range=192.168.2.100,192.168.2.110\ndhcp-authoritative\n");
    assert_eq!(kind(&reply(&mut e, &urx, &renew(yi, &[]))), ack(yi));
    assert!(
        matches!(&e.take_changes().collect::<Vec<_>>()[..], [LeaseChange::Grant(l)] if l.addr == yi)
    );
    let mut other = C::new(8);
    other.ciaddr = Ipv4Addr::new(192, 168, 2, 105);
    let rebind = other.msg(MessageType::Request, &[]);
    assert_eq!(kind(&reply(&mut e, &rx(67), &rebind)), ack(other.ciaddr));
    let reboot9 = C::new(9).msg(MessageType::Request, &[(50, &[192, 168, 2, 106])]);
    assert_eq!(
        kind(&reply(&mut e, &rx(67), &reboot9)),
        ack(Ipv4Addr::new(192, 168, 2, 106))
    );
    let foreign = C::new(10).msg(MessageType::Request, &[(50, &[10, 1, 2, 3])]);
    assert_eq!(
        kind(&reply(&mut e, &rx(67), &foreign)),
        nak("wrong network")
    );
    let thief = C::new(11).msg(MessageType::Request, &[(50, &yi.octets())]);
    assert_eq!(kind(&reply(&mut e, &rx(67), &thief)), nak("address in use"));
    // Renewing an address other than its own lease: "lease not found".
    assert_eq!(
        kind(&reply(
            &mut e,
            &urx,
            &renew(Ipv4Addr::new(192, 168, 2, 107), &[])
        )),
        nak("lease not found")
    );
    // Renew → release → renew: the released lease is granted again.
    let mut rel = C::new(7);
    rel.ciaddr = yi;
    assert!(reply(&mut e, &urx, &rel.msg(MessageType::Release, &[(54, &sid)])).is_none());
    assert!(e.leases().get(yi).is_none());
    assert_eq!(kind(&reply(&mut e, &urx, &renew(yi, &[]))), ack(yi));
}

/// Option 12 in OFFER, ACK and INFORM as dnsmasq: the `dhcp-host` name,
/// or the client's own (first label) in the ACK; option 81 answered.
#[test]
fn host_names_in_replies_as_dnsmasq() {
    let conf = "dhcp-range=192.168.2.100,192.168.2.110\n\
                dhcp-host=52:54:00:00:00:01,pc1.lab.example\n\
                domain=lab.example\n";
    let mut e = engine(conf);
    let h12 = |b: &[u8]| p(b).option(12).map(<[u8]>::to_vec);
    let dora = |e: &mut Harness, c: &C, extra: &[(u8, &[u8])]| {
        let (o, _) = reply(e, &rx(67), &c.msg(MessageType::Discover, extra)).unwrap();
        let yi = p(&o).yiaddr().octets();
        let mut req: Vec<(u8, &[u8])> = vec![(50, &yi), (54, &[192, 168, 2, 1])];
        req.extend_from_slice(extra);
        let (a, _) = reply(e, &rx(67), &c.msg(MessageType::Request, &req)).unwrap();
        (o, a)
    };
    // dhcp-host name (its first label), in both; the domain in 15.
    let (o, a) = dora(&mut e, &C::new(1), &[]);
    assert_eq!(h12(&o), Some(b"pc1".to_vec()));
    assert_eq!(h12(&a), Some(b"pc1".to_vec()));
    assert_eq!(p(&a).option(15), Some(&b"lab.example"[..]));
    // The client's own name: only in the ACK (dnsmasq offers no name it
    // has not confirmed), cut at the first dot; stored with the lease.
    let (o, a) = dora(&mut e, &C::new(2), &[(12, b"web2.elsewhere")]);
    assert_eq!(h12(&o), None);
    assert_eq!(h12(&a), Some(b"web2".to_vec()));
    let yi = p(&a).yiaddr();
    assert_eq!(
        e.leases().get(yi).unwrap().hostname.as_deref(),
        Some("web2")
    );
    // A client name other than its dhcp-host name: not in the OFFER.
    let (o, a) = dora(&mut e, &C::new(1), &[(12, b"other")]);
    assert_eq!(h12(&o), None);
    assert_eq!(h12(&a), Some(b"pc1".to_vec()));
    // A NUL-terminated option 12 (Windows) gets NUL-terminated strings.
    let (_, a) = dora(&mut e, &C::new(3), &[(12, b"win3\0")]);
    assert_eq!(h12(&a), Some(b"win3\0".to_vec()));
    assert_eq!(p(&a).option(15), Some(&b"lab.example\0"[..]));
    // An illegal name is no name.
    let (_, a) = dora(&mut e, &C::new(4), &[(12, b"-x")]);
    assert_eq!(h12(&a), None);
    // Option 81 (text): offered and acknowledged, answered with flags
    // S|O, RCODEs 255 and the FQDN under the configured domain.
    let (o, a) = dora(&mut e, &C::new(5), &[(81, b"\x00\x00\x00pc5")]);
    assert_eq!(h12(&o), Some(b"pc5".to_vec()));
    assert_eq!(p(&a).option(81), Some(&b"\x03\xff\xffpc5.lab.example"[..]));
    // Wire format (E bit).
    let (_, a) = dora(&mut e, &C::new(6), &[(81, b"\x05\x00\x00\x03pc6\x00")]);
    assert_eq!(
        p(&a).option(81),
        Some(&b"\x05\xff\xff\x03pc6\x03lab\x07example\x00"[..])
    );
    // INFORM: the name stored with the lease of ciaddr.
    let mut i = C::new(7);
    i.ciaddr = yi;
    let mut urx = rx(67);
    urx.src = SocketAddrV4::new(yi, 68);
    let (ia, _) = reply(&mut e, &urx, &i.msg(MessageType::Inform, &[])).unwrap();
    assert_eq!(h12(&ia), Some(b"web2".to_vec()));
    // Not asked for (option 55 without 12): not sent.
    let mut c = C::new(8);
    c.opts = vec![(55, vec![1, 3])];
    let (_, a) = dora(&mut e, &c, &[(12, b"quiet8")]);
    assert_eq!(h12(&a), None);
}

#[test]
fn ignore_and_generate_names() {
    let mut e =
        engine("dhcp-range=192.168.2.100,192.168.2.110\ndhcp-ignore-names\ndhcp-generate-names\n");
    let c = C::new(0x21);
    let (o, _) = reply(
        &mut e,
        &rx(67),
        &c.msg(MessageType::Discover, &[(12, b"mine")]),
    )
    .unwrap();
    let yi = p(&o).yiaddr().octets();
    let (a, _) = reply(
        &mut e,
        &rx(67),
        &c.msg(
            MessageType::Request,
            &[(50, &yi), (54, &LOCAL.octets()), (12, b"mine")],
        ),
    )
    .unwrap();
    assert_eq!(p(&a).option(12), Some(&b"52-54-00-00-00-21"[..]));
}

/// A boot-server request broadcast to 67 by a client with an address is
/// answered as dnsmasq answers it: the ACK's `ciaddr` is 0 and `yiaddr`
/// the client's address, so it is broadcast when the flag is set and
/// otherwise unicast to that address at the client's MAC.
#[test]
fn boot_server_request_on_67_is_addressed_like_dnsmasq() {
    let mut e = engine(PROXY);
    let mut c = C::pxe_rom(3);
    c.ciaddr = Ipv4Addr::new(192, 168, 2, 77);
    let boot_item: &[u8] = &[71, 4, 0x80, 0, 0, 0, 255];
    let mut from = rx(67);
    from.src = SocketAddrV4::new(c.ciaddr, 68);
    let (a, dest) = reply(
        &mut e,
        &from,
        &c.msg(MessageType::Request, &[(43, boot_item)]),
    )
    .unwrap();
    assert_eq!(p(&a).yiaddr(), c.ciaddr);
    assert_eq!(
        dest,
        Destination::Broadcast,
        "C::msg sets the broadcast flag"
    );
    let mut m = c.msg(MessageType::Request, &[(43, boot_item)]);
    m[10] = 0;
    let (_, dest) = reply(&mut e, &from, &m).unwrap();
    assert_eq!(
        dest,
        Destination::UnicastHw {
            addr: c.ciaddr,
            hw: HwAddr::ethernet(c.mac)
        }
    );
}
