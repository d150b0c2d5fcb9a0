//! Every view, typed option and rendering of `pxe_dhcp::v6` on arbitrary
//! bytes: nothing may panic, the constructors agree with the iterator, and
//! lookups agree with a plain walk.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pxe_dhcp::v6::*;

/// Every typed view of `o` and of what it encapsulates.
fn touch_option(o: RawOption<'_>, depth: usize) {
    let _ = format!("{o:?}");
    if let Ok(d) = Duid::parse(o) {
        let _ = (
            d.fields(),
            d.uuid(),
            d.mac(),
            d.link_layer_address(),
            d.to_string(),
        );
        assert!(d.as_bytes().len() <= 2 + MAX_DUID_LEN);
    }
    if let Ok(ia) = IaNa::parse(o) {
        assert!(
            ia.options().all(|n| n.is_ok()),
            "IaNa::parse checks the framing"
        );
        let _ = (ia.iaid(), ia.t1(), ia.t2(), ia.status(), ia.to_string());
        for a in ia.addresses().flatten() {
            assert!(a.options().all(|n| n.is_ok()));
            let _ = (
                a.address(),
                a.preferred(),
                a.valid(),
                a.status(),
                a.to_string(),
            );
        }
        if depth < 4 {
            ia.options()
                .flatten()
                .for_each(|n| touch_option(n, depth + 1));
        }
    }
    if let Ok(a) = IaAddr::parse(o)
        && depth < 4
    {
        a.options()
            .flatten()
            .for_each(|n| touch_option(n, depth + 1));
    }
    if let Ok(s) = StatusCode::parse(o) {
        let _ = (s.message_str(), s.status.name(), s.to_string());
    }
    if let Ok(x) = Oro::parse(o) {
        assert_eq!(x.iter().count(), x.len());
        let _ = x.to_string();
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
        assert!(v.options().all(|n| n.is_ok()));
        let _ = (v.enterprise(), v.get(1), v.to_string());
    }
    if let Ok(l) = Ipv6List::parse(o) {
        assert_eq!(l.iter().count(), l.len());
        let _ = l.to_string();
    }
    if let Ok(l) = DomainList::parse(o) {
        for n in l.iter() {
            assert!(n.is_fully_qualified(), "a parsed list holds complete names");
            assert!(n.as_bytes().len() <= MAX_NAME_LEN);
            assert!(
                n.labels()
                    .all(|l| !l.is_empty() && l.len() <= MAX_LABEL_LEN)
            );
            let _ = n.to_string();
        }
        assert_eq!(
            l.iter().map(|n| n.as_bytes().len()).sum::<usize>(),
            o.data.len()
        );
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

/// The walk of `options`, the error it ended with, and lookups checked
/// against it through `first` (the view's indexed lookup).
fn check_lookups<'a>(
    options: Options<'a>,
    first: impl Fn(u16) -> Option<RawOption<'a>>,
) -> (Vec<RawOption<'a>>, Option<Error>) {
    let mut walked = Vec::new();
    let mut err = None;
    for o in options.clone() {
        match o {
            Ok(o) => walked.push(o),
            Err(e) => err = Some(e),
        }
    }
    let codes = walked
        .iter()
        .map(|o| o.code)
        .chain([0, 1, 3, 9, 62, 63, 64, 79, 65535]);
    for c in codes {
        let want = walked.iter().find(|o| o.code == c).copied();
        assert_eq!(first(c), want, "option({c})");
        assert_eq!(
            options.matching(c).count(),
            walked.iter().filter(|o| o.code == c).count()
        );
    }
    (walked, err)
}

fn touch_message(m: &Message<&[u8]>) {
    let (walked, err) = check_lookups(m.options(), |c| m.option(c));
    assert_eq!(err, m.options_error());
    for o in &walked {
        assert!(o.offset >= m.offset() + MESSAGE_HEADER_LEN);
        touch_option(*o, 0);
    }
    let _ = (
        m.msg_type(),
        m.transaction_id(),
        m.to_string(),
        format!("{m:?}"),
    );
    assert!(!m.msg_type().is_relay());
    assert!(m.transaction_id().get() < 1 << 24);
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

fuzz_target!(|data: &[u8]| {
    let checked = Packet::new_checked(data);
    let Ok(p) = Packet::new_lenient(data) else {
        assert!(checked.is_err());
        return;
    };
    assert_eq!(checked.is_ok(), p.options_error().is_none());
    let _ = (p.msg_type(), p.to_string(), format!("{p:?}"));
    match p {
        Packet::Message(m) => touch_message(&m),
        Packet::Relay(r) => {
            let (walked, err) = check_lookups(r.options(), |c| r.option(c));
            assert_eq!(err, r.options_error());
            walked.iter().for_each(|o| touch_option(*o, 0));
            let _ = (r.header(), r.to_string(), format!("{r:?}"));
            let _ = (r.interface_id(), r.subscriber_id(), r.remote_id());
            let _ = r.client_link_layer_address();
            match r.relay_message() {
                Ok(Packet::Message(m)) => touch_message(&m),
                Ok(Packet::Relay(inner)) => {
                    assert!(inner.offset() > r.offset());
                    let _ = inner.to_string();
                }
                Err(_) => {}
            }
            if let Ok(end) = r.innermost() {
                touch_message(&end.message);
                assert!(end.relay.msg_type().is_relay());
            }
        }
    }
});
