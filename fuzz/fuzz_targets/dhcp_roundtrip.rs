//! parse -> build -> parse: a packet rebuilt with `Builder` from what
//! `Packet` read equals the original (header fields and option list, each
//! value written whole or in two parts); dnsmasq-style lookups agree with
//! a walk; an option-43 sub-option list rewritten with `encap_options`
//! keeps its sub-options and splits only between them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pxe_dhcp::{Builder, Op, Packet, SubOptions, code};

fn options(p: &Packet<&[u8]>) -> Vec<(u8, Vec<u8>)> {
    p.options()
        .map(|o| o.expect("checked packet"))
        .filter(|o| o.code != code::OVERLOAD)
        .map(|o| (o.code, o.data.to_vec()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(p) = Packet::new_checked(data) else {
        return;
    };
    if p.hlen() > 16 {
        return; // not representable by the builder (chaddr is 16 bytes)
    }
    let mut buf = vec![0u8; 4096];
    let mut b = Builder::new(&mut buf).expect("large buffer");
    b.op(Op::from(u8::from(p.op())))
        .xid(p.xid())
        .secs(p.secs())
        .flags(p.flags())
        .hops(p.hops())
        .ciaddr(p.ciaddr())
        .yiaddr(p.yiaddr())
        .siaddr(p.siaddr())
        .giaddr(p.giaddr());
    b.chaddr(p.htype(), p.chaddr()).expect("hlen <= 16");
    if p.overload() & 2 == 0 {
        b.sname(p.sname_raw()).expect("64 bytes fit");
    }
    if p.overload() & 1 == 0 {
        b.file(p.file_raw()).expect("128 bytes fit");
    }
    let opts = options(&p);
    for (k, (c, v)) in opts.iter().enumerate() {
        if k % 2 == 0 {
            b.option(*c, v).expect("each fragment is at most 255 bytes");
        } else {
            // The same value given in two parts writes the same bytes.
            let (x, y) = v.split_at(v.len() / 2);
            b.option_parts(*c, [x, y]).expect("at most 255 bytes");
        }
    }
    let n = b.finish().expect("no size limit but the buffer");
    let q = Packet::new_checked(&buf[..n]).expect("builder output parses");
    assert_eq!(u8::from(q.op()), u8::from(p.op()));
    assert_eq!(
        (q.htype(), q.hlen(), q.chaddr()),
        (p.htype(), p.hlen(), p.chaddr())
    );
    assert_eq!(
        (q.xid(), q.secs(), q.flags(), q.hops()),
        (p.xid(), p.secs(), p.flags(), p.hops())
    );
    assert_eq!(
        [q.ciaddr(), q.yiaddr(), q.siaddr(), q.giaddr()],
        [p.ciaddr(), p.yiaddr(), p.siaddr(), p.giaddr()]
    );
    if p.overload() & 2 == 0 {
        assert_eq!(q.sname_raw(), p.sname_raw());
    }
    if p.overload() & 1 == 0 {
        assert_eq!(q.file_raw(), p.file_raw());
    }
    assert_eq!(q.overload(), 0);
    assert_eq!(options(&q), opts);
    // dnsmasq's lookup: the first occurrence long enough, never a join.
    for (c, _) in &opts {
        for min in [0, 1, 2, 4, 17] {
            assert_eq!(
                q.option_at_least(*c, min),
                q.fragments(*c).find(|v| v.len() >= min)
            );
        }
    }
    encap_roundtrip(&p);
    // Typed views agree too.
    assert_eq!(q.message_type(), p.message_type());
    assert_eq!(q.client_uuid(), p.client_uuid());
    assert_eq!(
        q.vendor_class().map(|v| v.map(|v| v.parse())),
        p.vendor_class().map(|v| v.map(|v| v.parse()))
    );
});

/// Option 43 read as a sub-option list and written back with
/// `encap_options`: the same sub-options in order, each RFC 3396 fragment
/// a whole list unless a sub-option is too long for one.
fn encap_roundtrip(p: &Packet<&[u8]>) {
    let Some(v43) = p.option(code::VENDOR_SPECIFIC) else {
        return;
    };
    let subs: Vec<(u8, &[u8])> = SubOptions::new(code::VENDOR_SPECIFIC, v43, true)
        .map_while(Result::ok)
        .map(|o| (o.code, o.data))
        .collect();
    let mut buf = vec![0u8; 4096];
    let mut b = Builder::new(&mut buf).expect("large buffer");
    b.encap_options(code::VENDOR_SPECIFIC, |s| {
        for (c, d) in &subs {
            s.option(*c, d)?;
        }
        s.end()?;
        Ok(())
    })
    .expect("fits");
    let n = b.finish().expect("fits");
    let q = Packet::new_checked(&buf[..n]).expect("parses");
    let whole = subs.iter().all(|(_, d)| d.len() <= 253);
    let mut joined = Vec::new();
    for frag in q.fragments(code::VENDOR_SPECIFIC) {
        assert!(frag.len() <= 255);
        if whole {
            SubOptions::new(code::VENDOR_SPECIFIC, frag, true)
                .validate()
                .expect("each fragment is a whole list");
        }
        joined.extend_from_slice(frag);
    }
    let again: Vec<(u8, &[u8])> = SubOptions::new(code::VENDOR_SPECIFIC, &joined, true)
        .map(|o| o.expect("the joined list parses"))
        .map(|o| (o.code, o.data))
        .collect();
    assert_eq!(again, subs);
}
