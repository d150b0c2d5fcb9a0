//! parse -> build -> parse: a packet rebuilt with `Builder` from what
//! `Packet` read equals the original (header fields and option list).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pxe_dhcp::{Builder, Op, Packet, code};

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
    for (c, v) in &opts {
        b.option(*c, v).expect("each fragment is at most 255 bytes");
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
    // Typed views agree too.
    assert_eq!(q.message_type(), p.message_type());
    assert_eq!(q.client_uuid(), p.client_uuid());
    assert_eq!(
        q.vendor_class().map(|v| v.map(|v| v.parse())),
        p.vendor_class().map(|v| v.map(|v| v.parse()))
    );
});
