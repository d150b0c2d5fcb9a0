//! DHCPv6 property tests: build -> parse round trips for every typed
//! option, for arbitrary option lists and for relay chains; arbitrary
//! bytes never panic.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::Ipv6Addr;

use proptest::prelude::*;
use pxe_dhcp::v6::{
    Builder, Duid, DuidFields, Error, FqdnFlags, Message, MessageType, Options, Packet, RawOption,
    RelayBuilder, RelayHeader, RelayMessage, Status, TransactionId, code,
};
use pxe_dhcp::{ClientArch, ClientNdi};

/// Reads `o` with every typed view (and the views of what it
/// encapsulates); must never panic.
fn touch_option(o: RawOption<'_>) {
    use pxe_dhcp::v6::*;
    let _ = format!("{o:?}");
    if let Ok(d) = Duid::parse(o) {
        let _ = (d.fields(), d.uuid(), d.mac(), d.kind(), d.to_string());
    }
    if let Ok(ia) = IaNa::parse(o) {
        let _ = (ia.iaid(), ia.t1(), ia.t2(), ia.status(), ia.to_string());
        for a in ia.addresses().flatten() {
            let _ = (
                a.address(),
                a.preferred(),
                a.valid(),
                a.status(),
                a.to_string(),
            );
            a.options().for_each(|n| {
                let _ = n.map(touch_option);
            });
        }
        ia.options().for_each(|n| {
            let _ = n.map(touch_option);
        });
    }
    if let Ok(s) = StatusCode::parse(o) {
        let _ = (s.message_str(), s.to_string());
    }
    if let Ok(x) = Oro::parse(o) {
        let _ = (x.iter().count(), x.contains(59), x.to_string());
    }
    if let Ok(t) = ElapsedTime::parse(o) {
        let _ = (t.as_duration(), t.to_string());
    }
    if let Ok(u) = UserClass::parse(o) {
        let _ = (
            u.items().into_iter().count(),
            u.contains(b"iPXE"),
            u.to_string(),
        );
    }
    if let Ok(v) = VendorClass::parse(o) {
        let _ = (
            v.is_http_client(),
            v.is_pxe_client(),
            v.info(),
            v.to_string(),
        );
    }
    if let Ok(v) = VendorOpts::parse(o) {
        let _ = (v.enterprise(), v.get(1), v.to_string());
        v.options().for_each(|n| {
            let _ = n.map(touch_option);
        });
    }
    if let Ok(l) = Ipv6List::parse(o) {
        let _ = (l.iter().count(), l.to_string());
    }
    if let Ok(l) = DomainList::parse(o) {
        for n in l.iter() {
            let _ = (n.labels().count(), n.is_fully_qualified(), n.to_string());
        }
    }
    if let Ok(f) = Fqdn::parse(o) {
        let _ = (f.name.labels().count(), f.to_string());
    }
    if let Ok(u) = BootFileUrl::parse(o) {
        let _ = (u.as_str(), u.scheme(), u.to_string());
    }
    if let Ok(p) = BootFileParams::parse(o) {
        let _ = (p.params().into_iter().count(), p.to_string());
    }
    if let Ok(r) = RemoteId::parse(o) {
        let _ = r.to_string();
    }
    if let Ok(l) = LinkLayerAddress::parse(o) {
        let _ = (l.mac(), l.to_string());
    }
}

fn touch_message(m: &Message<&[u8]>) {
    let _ = (
        m.msg_type(),
        m.transaction_id(),
        m.to_string(),
        format!("{m:?}"),
    );
    for o in m.options().flatten() {
        assert_eq!(m.option(o.code).map(|f| f.code), Some(o.code));
        touch_option(o);
    }
    let _ = (
        m.client_id(),
        m.server_id(),
        m.ia_na(),
        m.oro(),
        m.preference(),
    );
    let _ = (
        m.elapsed_time(),
        m.rapid_commit(),
        m.status_code(),
        m.user_class(),
    );
    let _ = (m.vendor_class(), m.dns_servers(), m.domain_list(), m.fqdn());
    let _ = (
        m.boot_file_url(),
        m.boot_file_params(),
        m.client_arch(),
        m.nii(),
    );
    let _ = (
        m.ia_nas().count(),
        m.vendor_classes().count(),
        m.vendor_opts().count(),
    );
}

fn touch_everything(bytes: &[u8]) {
    let _ = Packet::new_checked(bytes);
    let Ok(p) = Packet::new_lenient(bytes) else {
        return;
    };
    let _ = (p.msg_type(), p.to_string(), format!("{p:?}"));
    match p {
        Packet::Message(m) => touch_message(&m),
        Packet::Relay(r) => {
            let _ = (
                r.header(),
                r.to_string(),
                r.interface_id(),
                r.subscriber_id(),
            );
            let _ = (r.remote_id(), r.client_link_layer_address());
            for o in r.options().flatten() {
                touch_option(o);
            }
            if let Ok(end) = r.innermost() {
                touch_message(&end.message);
            }
            if let Ok(Packet::Message(m)) = r.relay_message() {
                touch_message(&m);
            }
        }
    }
}

/// `code`, 16-bit length and `value`.
fn tlv(code: u16, value: &[u8]) -> Vec<u8> {
    let mut v = code.to_be_bytes().to_vec();
    v.extend_from_slice(&(value.len() as u16).to_be_bytes());
    v.extend_from_slice(value);
    v
}

fn xid() -> TransactionId {
    TransactionId::new(0xabcdef).unwrap()
}

/// Codes worth aiming random bodies at: every typed one, and nested ones.
fn typed_code() -> impl Strategy<Value = u16> {
    prop::sample::select(vec![
        1u16, 2, 3, 5, 6, 7, 8, 9, 13, 14, 15, 16, 17, 18, 23, 24, 37, 39, 59, 60, 61, 62, 79,
    ])
}

fn label() -> impl Strategy<Value = String> {
    "[a-z0-9-]{1,20}"
}

fn domain() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 1..4).prop_map(|l| l.join("."))
}

fn items() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..4)
}

fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(Vec::as_slice).collect()
}

#[derive(Debug, Clone)]
struct Addr {
    addr: u128,
    preferred: u32,
    valid: u32,
    status: Option<(u16, String)>,
}

fn addr() -> impl Strategy<Value = Addr> {
    (
        any::<u128>(),
        any::<u32>(),
        any::<u32>(),
        prop::option::of((0u16..10, "[ -~]{0,30}")),
    )
        .prop_map(|(addr, preferred, valid, status)| Addr {
            addr,
            preferred,
            valid,
            status,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        touch_everything(&bytes);
    }

    #[test]
    fn arbitrary_typed_bodies_never_panic(
        kind in prop::sample::select(vec![1u8, 2, 7, 12, 13]),
        opts in prop::collection::vec((typed_code(), prop::collection::vec(any::<u8>(), 0..60)), 0..6),
        nested in prop::collection::vec((typed_code(), prop::collection::vec(any::<u8>(), 0..40)), 0..4),
    ) {
        // Well-framed options with random values, one of them carrying
        // well-framed random options after 12 or 24 fixed bytes.
        let mut inner = Vec::new();
        for (c, v) in &nested {
            inner.extend(tlv(*c, v));
        }
        let mut msg = if kind >= 12 { vec![kind; 34] } else { vec![kind, 1, 2, 3] };
        for (c, v) in &opts {
            msg.extend(tlv(*c, v));
        }
        for skip in [0, 4, 12, 24] {
            let mut body = vec![0u8; skip];
            body.extend_from_slice(&inner);
            for c in [3u16, 5, 17, 9] {
                let mut m = msg.clone();
                m.extend(tlv(c, &body));
                touch_everything(&m);
            }
        }
    }

    #[test]
    fn option_lists_roundtrip(list in prop::collection::vec((any::<u16>(), prop::collection::vec(any::<u8>(), 0..300)), 0..10)) {
        let mut buf = vec![0u8; 8192];
        let mut b = Builder::new(&mut buf, MessageType::Reply, xid()).unwrap();
        for (c, v) in &list {
            b.option(*c, v).unwrap();
        }
        let n = b.finish().unwrap();
        let m = Message::new_checked(&buf[..n]).unwrap();
        let got: Vec<(u16, Vec<u8>)> = m.options().map(|o| o.unwrap()).map(|o| (o.code, o.data.to_vec())).collect();
        prop_assert_eq!(&got, &list);
        // Lookups agree with a plain walk, present or absent, whatever the
        // presence bits the codes share.
        for c in list.iter().map(|(c, _)| *c).chain([0, 1, 62, 63, 64, 79, 65535]) {
            let first = list.iter().find(|(k, _)| *k == c).map(|(_, v)| &v[..]);
            prop_assert_eq!(m.option(c).map(|o| o.data), first, "option({})", c);
            prop_assert_eq!(m.options_with(c).count(), list.iter().filter(|(k, _)| *k == c).count());
        }
    }

    #[test]
    fn typed_options_roundtrip(
        time in any::<u32>(), mac in any::<[u8; 6]>(), uuid in any::<[u8; 16]>(),
        ias in prop::collection::vec((any::<u32>(), any::<u32>(), any::<u32>(), prop::collection::vec(addr(), 0..3), prop::option::of((any::<u16>(), "[ -~]{0,20}"))), 0..3),
        oro in prop::collection::vec(any::<u16>(), 0..8),
        pref in any::<u8>(), elapsed in any::<u16>(), rapid in any::<bool>(),
        user in items(), enterprise in any::<u32>(), vendor in items(),
        vopts in prop::collection::vec((any::<u16>(), prop::collection::vec(any::<u8>(), 0..20)), 0..4),
        dns in prop::collection::vec(any::<u128>(), 1..4),
        domains in prop::collection::vec(domain(), 0..3),
        fqdn in domain(), fqdn_flags in 0u8..8, partial in any::<bool>(),
        url in prop::collection::vec(any::<u8>(), 1..100), params in items(),
        archs in prop::collection::vec(any::<u16>(), 1..4), nii in any::<[u8; 3]>(),
        status in (any::<u16>(), "[ -~]{0,40}"),
    ) {
        let mut buf = vec![0u8; 8192];
        let mut b = Builder::new(&mut buf, MessageType::Advertise, xid()).unwrap();
        b.client_id(&Duid::from_uuid(uuid)).unwrap();
        b.server_id(&Duid::llt_ethernet(time, mac)).unwrap();
        for (iaid, t1, t2, addrs, st) in &ias {
            b.ia_na(*iaid, *t1, *t2, |ia| {
                for a in addrs {
                    ia.ia_addr_with(Ipv6Addr::from(a.addr), a.preferred, a.valid, |x| {
                        if let Some((c, m)) = &a.status {
                            x.status_code(Status::from(*c), m)?;
                        }
                        Ok(())
                    })?;
                }
                if let Some((c, m)) = st {
                    ia.status_code(Status::from(*c), m)?;
                }
                Ok(())
            }).unwrap();
        }
        b.oro(&oro).unwrap().preference(pref).unwrap().elapsed_time(elapsed).unwrap();
        if rapid {
            b.rapid_commit().unwrap();
        }
        b.status_code(Status::from(status.0), &status.1).unwrap();
        b.user_class(&refs(&user)).unwrap();
        b.vendor_class(enterprise, &refs(&vendor)).unwrap();
        b.vendor_opts(enterprise, |v| {
            for (c, d) in &vopts {
                v.option(*c, d)?;
            }
            Ok(())
        }).unwrap();
        let dns: Vec<Ipv6Addr> = dns.into_iter().map(Ipv6Addr::from).collect();
        b.dns_servers(&dns).unwrap();
        let names: Vec<&str> = domains.iter().map(String::as_str).collect();
        b.domain_list(&names).unwrap();
        let flags = FqdnFlags::from_bits_retain(fqdn_flags);
        if partial {
            b.fqdn_partial(flags, &fqdn).unwrap();
        } else {
            b.fqdn(flags, &fqdn).unwrap();
        }
        b.boot_file_url(&url).unwrap().boot_file_params(&refs(&params)).unwrap();
        let archs: Vec<ClientArch> = archs.into_iter().map(ClientArch).collect();
        b.client_arch(&archs).unwrap();
        b.nii(ClientNdi { kind: nii[0], major: nii[1], minor: nii[2] }).unwrap();
        let n = b.finish().unwrap();

        let m = Message::new_checked(&buf[..n]).unwrap();
        prop_assert_eq!((m.msg_type(), m.transaction_id()), (MessageType::Advertise, xid()));
        prop_assert_eq!(m.client_id().unwrap().unwrap().uuid().unwrap().bytes, uuid);
        let sid = m.server_id().unwrap().unwrap();
        prop_assert_eq!(sid.fields(), DuidFields::Llt { hardware_type: 1, time, link_layer_address: &mac[..] });
        let got_ias: Vec<_> = m.ia_nas().map(|i| i.unwrap()).collect();
        prop_assert_eq!(got_ias.len(), ias.len());
        for (ia, (iaid, t1, t2, addrs, st)) in got_ias.iter().zip(&ias) {
            prop_assert_eq!((ia.iaid(), ia.t1(), ia.t2()), (*iaid, *t1, *t2));
            let got: Vec<_> = ia.addresses().map(|a| a.unwrap()).collect();
            prop_assert_eq!(got.len(), addrs.len());
            for (g, a) in got.iter().zip(addrs) {
                prop_assert_eq!((g.address(), g.preferred(), g.valid()), (Ipv6Addr::from(a.addr), a.preferred, a.valid));
                let s = g.status().unwrap().map(|s| (u16::from(s.status), s.message_str().unwrap().to_string()));
                prop_assert_eq!(&s, &a.status);
            }
            let s = ia.status().unwrap().map(|s| (u16::from(s.status), s.message_str().unwrap().to_string()));
            prop_assert_eq!(&s, st);
        }
        prop_assert_eq!(m.oro().unwrap().unwrap().iter().collect::<Vec<_>>(), oro);
        prop_assert_eq!(m.preference().unwrap(), Some(pref));
        prop_assert_eq!(m.elapsed_time().unwrap().unwrap().hundredths(), elapsed);
        prop_assert_eq!(m.rapid_commit().unwrap(), rapid);
        let s = m.status_code().unwrap().unwrap();
        prop_assert_eq!((u16::from(s.status), s.message_str()), (status.0, Some(status.1.as_str())));
        prop_assert_eq!(m.user_class().unwrap().unwrap().items().into_iter().collect::<Vec<_>>(), refs(&user));
        let v = m.vendor_class().unwrap().unwrap();
        prop_assert_eq!(v.enterprise(), enterprise);
        prop_assert_eq!(v.items().into_iter().collect::<Vec<_>>(), refs(&vendor));
        let vo = m.vendor_opts().next().unwrap().unwrap();
        prop_assert_eq!(vo.enterprise(), enterprise);
        let got: Vec<(u16, Vec<u8>)> = vo.options().map(|o| o.unwrap()).map(|o| (o.code, o.data.to_vec())).collect();
        prop_assert_eq!(got, vopts);
        prop_assert_eq!(m.dns_servers().unwrap().unwrap().iter().collect::<Vec<_>>(), dns);
        if domains.is_empty() {
            // An empty list is an empty option.
            prop_assert_eq!(m.option(code::DOMAIN_LIST).unwrap().data, &[][..]);
        }
        let got: Vec<String> = m.domain_list().unwrap().unwrap().iter().map(|d| d.to_string()).collect();
        prop_assert_eq!(got, domains);
        let f = m.fqdn().unwrap().unwrap();
        prop_assert_eq!(f.flags, flags);
        prop_assert_eq!(f.name.to_string(), fqdn);
        prop_assert_eq!(f.name.is_fully_qualified(), !partial);
        prop_assert_eq!(m.boot_file_url().unwrap().unwrap().as_bytes(), &url[..]);
        prop_assert_eq!(m.boot_file_params().unwrap().unwrap().params().into_iter().collect::<Vec<_>>(), refs(&params));
        prop_assert_eq!(m.client_arch().unwrap().unwrap().iter().collect::<Vec<_>>(), archs);
        prop_assert_eq!(m.nii().unwrap().unwrap().to_bytes(), nii);
        touch_message(&m);
    }

    #[test]
    fn relay_replies_mirror_any_chain(
        chain in prop::collection::vec((any::<u8>(), any::<u128>(), any::<u128>(), prop::option::of(prop::collection::vec(any::<u8>(), 0..20))), 1..6),
        client_duid in prop::collection::vec(any::<u8>(), 2..40),
        x in 0u32..(1 << 24),
    ) {
        // The client's message and a RELAY-FORW chain around it, outermost first.
        let mut client = vec![0u8; 256];
        let mut c = Builder::new(&mut client, MessageType::Request, TransactionId::new(x).unwrap()).unwrap();
        c.client_id(&client_duid).unwrap().elapsed_time(1).unwrap();
        let cn = c.finish().unwrap();
        let headers: Vec<RelayHeader> = chain.iter().map(|(h, l, p, _)| RelayHeader {
            hop_count: *h,
            link_address: Ipv6Addr::from(*l),
            peer_address: Ipv6Addr::from(*p),
        }).collect();
        let mut forw = vec![0u8; 2048];
        let mut r = RelayBuilder::new(&mut forw, MessageType::RelayForw, headers[0]).unwrap();
        for (i, (_, _, _, id)) in chain.iter().enumerate() {
            if let Some(id) = id {
                r.interface_id(id).unwrap();
            }
            r.remote_id(311, b"agent").unwrap();
            if let Some(h) = headers.get(i + 1) {
                r = r.relay(MessageType::RelayForw, *h).unwrap();
            }
        }
        let fnn = r.relay_message(&client[..cn]).unwrap();
        let forw = RelayMessage::new_checked(&forw[..fnn]).unwrap();

        let mut out = vec![0u8; 2048];
        let mut b = Builder::relay_reply_to(&forw, MessageType::Reply, &mut out).unwrap();
        b.preference(7).unwrap();
        let n = b.finish().unwrap();
        let mut layer = RelayMessage::new_checked(&out[..n]).unwrap();
        for (i, h) in headers.iter().enumerate() {
            prop_assert_eq!(layer.msg_type(), MessageType::RelayRepl);
            prop_assert_eq!(layer.header(), *h);
            prop_assert_eq!(layer.interface_id(), chain[i].3.as_deref());
            prop_assert!(layer.remote_id().unwrap().is_none());
            match layer.relay_message_ref().unwrap() {
                Packet::Relay(inner) => layer = inner,
                Packet::Message(m) => {
                    prop_assert_eq!(i + 1, headers.len());
                    prop_assert_eq!(m.msg_type(), MessageType::Reply);
                    prop_assert_eq!(m.transaction_id().get(), x);
                    prop_assert_eq!(m.option(1).unwrap().data, &client_duid[..]);
                    prop_assert_eq!(m.preference().unwrap(), Some(7));
                    // Offsets count from the outermost datagram.
                    let o = m.option(code::PREFERENCE).unwrap();
                    prop_assert_eq!(out[o.offset..o.offset + 2].to_vec(), vec![0u8, 7]);
                }
            }
        }
    }

    #[test]
    fn small_buffers_fail_cleanly(len in 0usize..160, addrs in 0usize..4) {
        let mut buf = vec![0u8; len];
        let Ok(mut b) = Builder::new(&mut buf, MessageType::Reply, xid()) else {
            prop_assert!(len < 4);
            return Ok(());
        };
        let mut wrote = Vec::new();
        let mut errors = Vec::new();
        let mut note = |code, r: Result<(), Error>| match r {
            Ok(()) => wrote.push(code),
            Err(e) => errors.push(e),
        };
        note(code::IA_NA, b.ia_na(1, 2, 3, |ia| {
            for i in 0..addrs {
                ia.ia_addr(Ipv6Addr::from(i as u128), 1, 2)?;
            }
            Ok(())
        }).map(|_| ()));
        note(code::BOOTFILE_URL, b.boot_file_url(b"http://[fd00::1]/x").map(|_| ()));
        note(code::VENDOR_CLASS, b.vendor_class(343, &[b"HTTPClient"]).map(|_| ()));
        for e in &errors {
            prop_assert!(matches!(e, Error::BufferTooSmall { .. }), "{e}");
        }
        let n = b.finish().unwrap();
        prop_assert!(n <= len);
        let m = Message::new_checked(&buf[..n]).unwrap();
        let codes: Vec<u16> = m.options().map(|o| o.unwrap().code).collect();
        prop_assert_eq!(codes, wrote, "failed options leave nothing behind");
    }
}

#[test]
fn options_iterate_bare_lists() {
    let mut v = tlv(23, &[0; 16]);
    v.extend(tlv(7, &[9]));
    let got: Vec<u16> = Options::new(&v).map(|o| o.unwrap().code).collect();
    assert_eq!(got, [23, 7]);
}
