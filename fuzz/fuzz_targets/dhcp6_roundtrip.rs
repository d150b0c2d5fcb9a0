//! parse -> build -> parse for DHCPv6: a message rebuilt with the builders
//! from what the views read is the same bytes, and typed options rebuilt
//! with the typed builder methods are the same options.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pxe_dhcp::ClientArch;
use pxe_dhcp::v6::*;

/// Rebuilds each typed option of `m` with its typed builder method and
/// checks it comes out byte for byte.
fn typed_roundtrip(m: &Message<&[u8]>) {
    for o in m.options().map(|o| o.expect("checked message")) {
        let mut buf = vec![0u8; o.data.len() + 64];
        let mut b = Builder::new(&mut buf, MessageType::Reply, TransactionId::new(0).unwrap())
            .expect("large buffer");
        let rebuilt = match o.code {
            code::IA_NA => IaNa::parse(o).ok().map(|ia| {
                b.ia_na(ia.iaid(), ia.t1(), ia.t2(), |ib| {
                    for n in ia.options().map(|n| n.expect("checked IA_NA")) {
                        ib.option(n.code, n.data)?;
                    }
                    Ok(())
                })
            }),
            code::STATUS_CODE => StatusCode::parse(o)
                .ok()
                .and_then(|s| s.message_str().map(|t| b.status_code(s.status, t))),
            code::ORO => Oro::parse(o)
                .ok()
                .map(|x| b.oro(&x.iter().collect::<Vec<_>>())),
            code::ELAPSED_TIME => ElapsedTime::parse(o).ok().map(|t| b.elapsed_time(t.0)),
            code::USER_CLASS => UserClass::parse(o)
                .ok()
                .map(|u| b.user_class(&u.items().into_iter().collect::<Vec<_>>())),
            code::VENDOR_CLASS => VendorClass::parse(o).ok().map(|v| {
                b.vendor_class(v.enterprise(), &v.items().into_iter().collect::<Vec<_>>())
            }),
            code::VENDOR_OPTS => VendorOpts::parse(o).ok().map(|v| {
                b.vendor_opts(v.enterprise(), |vb| {
                    for n in v.options().map(|n| n.expect("checked")) {
                        vb.option(n.code, n.data)?;
                    }
                    Ok(())
                })
            }),
            code::DNS_SERVERS => Ipv6List::parse(o)
                .ok()
                .map(|l| b.dns_servers(&l.iter().collect::<Vec<_>>())),
            code::BOOTFILE_PARAM => BootFileParams::parse(o)
                .ok()
                .map(|p| b.boot_file_params(&p.params().into_iter().collect::<Vec<_>>())),
            code::CLIENT_ARCH_TYPE => m
                .client_arch()
                .ok()
                .flatten()
                .filter(|_| m.option(code::CLIENT_ARCH_TYPE) == Some(o))
                .map(|a| b.client_arch(&a.iter().collect::<Vec<ClientArch>>())),
            code::NII => m
                .nii()
                .ok()
                .flatten()
                .filter(|_| m.option(code::NII) == Some(o))
                .map(|n| b.nii(n)),
            code::DOMAIN_LIST => DomainList::parse(o).ok().and_then(|l| {
                // Only names whose text form is plain dotted labels.
                let names: Vec<String> = l.iter().map(|n| n.to_string()).collect();
                let plain = names.iter().all(|n| {
                    !n.is_empty()
                        && n.bytes()
                            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
                });
                plain.then(|| b.domain_list(&names.iter().map(String::as_str).collect::<Vec<_>>()))
            }),
            _ => None,
        };
        let Some(res) = rebuilt else { continue };
        res.expect("a parsed option rebuilds");
        let n = b.finish().expect("fits");
        let again = Message::new_checked(&buf[..n]).expect("builder output parses");
        let got = again.options().next().unwrap().unwrap();
        assert_eq!(
            (got.code, got.data),
            (o.code, o.data),
            "typed rebuild of {}",
            o.code
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(p) = Packet::new_checked(data) else {
        return;
    };
    let mut buf = vec![0u8; data.len() + 64];
    match &p {
        Packet::Message(m) => {
            let mut b =
                Builder::new(&mut buf, m.msg_type(), m.transaction_id()).expect("not a relay type");
            for o in m.options().map(|o| o.expect("checked message")) {
                b.option(o.code, o.data).expect("fits");
            }
            let n = b.finish().expect("fits");
            assert_eq!(&buf[..n], data, "raw rebuild is the same bytes");
            typed_roundtrip(m);
        }
        Packet::Relay(r) => {
            // The builder writes option 9 last; the other options keep their order.
            let Some(relayed) = r.option(code::RELAY_MESSAGE) else {
                return;
            };
            let mut b =
                RelayBuilder::new(&mut buf, r.msg_type(), r.header()).expect("a relay type");
            let mut want = Vec::new();
            for o in r.options().map(|o| o.expect("checked message")) {
                if o.offset != relayed.offset {
                    b.option(o.code, o.data).expect("fits");
                    want.push((o.code, o.data));
                }
            }
            want.push((relayed.code, relayed.data));
            let n = b.relay_message(relayed.data).expect("fits");
            let q = RelayMessage::new_checked(&buf[..n]).expect("builder output parses");
            assert_eq!(q.header(), r.header());
            assert_eq!(q.msg_type(), r.msg_type());
            let got: Vec<(u16, &[u8])> = q
                .options()
                .map(|o| o.expect("built"))
                .map(|o| (o.code, o.data))
                .collect();
            assert_eq!(got, want);
            if r.options().last().is_some_and(|o| o.ok() == Some(relayed)) {
                assert_eq!(&buf[..n], data, "option 9 last: the same bytes");
            }
            // A relay reply to a RELAY-FORW chain mirrors the chain.
            if let Ok(end) = r.innermost() {
                let mut all_forw = r.msg_type() == MessageType::RelayForw;
                let mut layer = r.borrowed();
                while let Ok(Packet::Relay(inner)) = layer.relay_message_ref() {
                    all_forw &= inner.msg_type() == MessageType::RelayForw;
                    layer = inner;
                }
                let mut out = vec![0u8; data.len() + 256];
                let built = Builder::relay_reply_to(r, MessageType::Reply, &mut out);
                assert_eq!(built.is_ok(), all_forw, "{:?}", built.err());
                if let Ok(reply) = built {
                    let n = reply.finish().expect("fits");
                    let repl = RelayMessage::new_checked(&out[..n]).expect("parses");
                    assert_eq!(repl.header(), r.header());
                    assert_eq!(repl.interface_id(), r.interface_id());
                    let m = repl.innermost().expect("same depth").message;
                    assert_eq!(m.transaction_id(), end.message.transaction_id());
                    assert_eq!(
                        m.option(code::CLIENT_ID).map(|o| o.data),
                        end.message.option(code::CLIENT_ID).map(|o| o.data)
                    );
                }
                typed_roundtrip(&end.message);
            }
        }
    }
});
