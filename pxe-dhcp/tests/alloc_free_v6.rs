//! DHCPv6 parsing, building and `Display` allocate nothing: proven with a
//! counting allocator over every captured DHCPv6 packet. (One test only in
//! this binary, so no other thread allocates meanwhile.)
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write;
use std::hint::black_box;
use std::net::Ipv6Addr;
use std::sync::atomic::{AtomicUsize, Ordering};

use pxe_dhcp::v6::{
    Builder, Duid, ENTERPRISE_INTEL, Message, MessageType, Packet, RelayBuilder, RelayHeader,
    RelayMessage, Status,
};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// Needed to observe allocations: GlobalAlloc is an unsafe trait. The impl
// only counts and forwards to the system allocator unchanged.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr was allocated by System with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A `fmt::Write` into a fixed buffer that counts what was written.
struct Sink {
    buf: [u8; 1024],
    len: usize,
}

impl Write for Sink {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = (self.len + s.len()).min(self.buf.len());
        self.buf[self.len..end].copy_from_slice(&s.as_bytes()[..end - self.len]);
        self.len = end;
        Ok(())
    }
}

/// Every accessor, typed view and `Display`, results folded so nothing is
/// optimised away.
fn read_everything(m: &Message<&[u8]>, sink: &mut Sink) -> usize {
    sink.len = 0;
    write!(sink, "{m} {m:?}").unwrap();
    let mut n = m.transaction_id().get() as usize + m.options().count();
    if let Some(d) = m.client_id().unwrap() {
        write!(sink, "{d}").unwrap();
        n += d.as_bytes().len() + d.uuid().map_or(0, |u| u.guid_text().as_str().len());
    }
    if let Some(d) = m.server_id().unwrap() {
        write!(sink, "{d}").unwrap();
        n += d.mac().map_or(0, |m| usize::from(m[5]));
    }
    for ia in m.ia_nas() {
        let ia = ia.unwrap();
        write!(sink, "{ia}").unwrap();
        n += ia.iaid() as usize + ia.t1() as usize;
        for a in ia.addresses() {
            let a = a.unwrap();
            n += usize::from(a.address().segments()[7]) + a.valid() as usize;
        }
        n += ia.status().unwrap().map_or(0, |s| s.message.len());
    }
    if let Some(o) = m.oro().unwrap() {
        write!(sink, "{o}").unwrap();
        n += o.iter().map(usize::from).sum::<usize>();
    }
    n += m.preference().unwrap().map_or(0, usize::from);
    if let Some(t) = m.elapsed_time().unwrap() {
        write!(sink, "{t}").unwrap();
        n += usize::from(t.hundredths());
    }
    n += usize::from(m.rapid_commit().unwrap());
    if let Some(s) = m.status_code().unwrap() {
        write!(sink, "{s}").unwrap();
        n += s.message_str().map_or(0, str::len);
    }
    if let Some(u) = m.user_class().unwrap() {
        write!(sink, "{u}").unwrap();
        n += u.items().into_iter().count();
    }
    for v in m.vendor_classes() {
        let v = v.unwrap();
        write!(sink, "{v}").unwrap();
        n += v.enterprise() as usize + v.info().and_then(|i| i.arch).map_or(0, usize::from);
    }
    n += m.vendor_opts().count();
    if let Some(u) = m.boot_file_url().unwrap() {
        write!(sink, "{u}").unwrap();
        n += u.as_bytes().len() + u.scheme().map_or(0, <[u8]>::len);
    }
    n += m
        .client_arch()
        .unwrap()
        .map_or(0, |a| usize::from(a.first().0));
    n += m.nii().unwrap().map_or(0, |x| usize::from(x.minor));
    n += m.dns_servers().unwrap().map_or(0, |d| d.len());
    n += m.domain_list().unwrap().map_or(0, |d| d.iter().count());
    n + sink.len
}

fn advertise(request: &Message<&[u8]>, b: &mut Builder<'_>) {
    let iaid = request.ia_na().unwrap().map_or(1, |ia| ia.iaid());
    b.server_id(&Duid::llt_ethernet(849_507_942, [2, 0, 0, 0x77, 0, 1]))
        .unwrap();
    b.ia_na(iaid, 1800, 3150, |ia| {
        ia.ia_addr_with("fd00:77::113".parse().unwrap(), 3600, 3600, |a| {
            a.status_code(Status::Success, "assigned")?;
            Ok(())
        })?;
        Ok(())
    })
    .unwrap();
    b.status_code(Status::Success, "success").unwrap();
    b.preference(255).unwrap();
    b.boot_file_url(b"http://[fd00:77::1]/ipxe.efi").unwrap();
    b.vendor_class(ENTERPRISE_INTEL, &[b"HTTPClient"]).unwrap();
    b.vendor_opts(ENTERPRISE_INTEL, |v| {
        v.option(1, b"x")?;
        Ok(())
    })
    .unwrap();
    b.dns_servers(&[Ipv6Addr::LOCALHOST]).unwrap();
    b.domain_list(&["lab.example.com"]).unwrap();
    b.boot_file_params(&[b"quiet"]).unwrap();
}

#[test]
fn dhcpv6_parse_build_and_display_allocate_nothing() {
    // Load the inputs before counting: every captured DHCPv6 payload, and
    // each client message wrapped in a RELAY-FORW.
    let mut packets = Vec::new();
    for f in std::fs::read_dir(common::ipv6_captures_dir()).unwrap() {
        let path = f.unwrap().path();
        if path.extension().is_some_and(|e| e == "pcap") {
            let bytes = std::fs::read(&path).unwrap();
            packets.extend(
                common::read_pcap_udp(&bytes)
                    .into_iter()
                    .filter(common::is_dhcp6)
                    .map(|u| u.payload),
            );
        }
    }
    assert_eq!(packets.len(), 38);
    let header = RelayHeader {
        hop_count: 0,
        link_address: "fd00:77::1".parse().unwrap(),
        peer_address: "fe80::5054:ff:feef:601".parse().unwrap(),
    };
    let relayed: Vec<Vec<u8>> = packets
        .iter()
        .map(|p| {
            let mut buf = vec![0u8; 1024];
            let mut r = RelayBuilder::new(&mut buf, MessageType::RelayForw, header).unwrap();
            r.interface_id(b"eth0").unwrap();
            r.client_link_layer_address(1, &[0x52, 0x54, 0, 0xef, 6, 1])
                .unwrap();
            let n = r.relay_message(p).unwrap();
            buf.truncate(n);
            buf
        })
        .collect();
    let mut out = [0u8; 1232];
    let mut sink = Sink {
        buf: [0; 1024],
        len: 0,
    };

    let before = ALLOCS.load(Ordering::SeqCst);
    let mut acc = 0usize;
    for (p, r) in packets.iter().zip(&relayed) {
        let Packet::Message(m) = Packet::new_checked(black_box(&p[..])).unwrap() else {
            panic!("no relays captured")
        };
        acc = acc.wrapping_add(read_everything(&m, &mut sink));
        let mut b = Builder::reply_to(&m, MessageType::Advertise, &mut out).unwrap();
        advertise(&m, &mut b);
        let n = b.finish().unwrap();
        acc = acc.wrapping_add(read_everything(
            &Message::new_checked(&out[..n]).unwrap(),
            &mut sink,
        ));

        let forw = RelayMessage::new_checked(black_box(&r[..])).unwrap();
        sink.len = 0;
        write!(sink, "{forw} {forw:?}").unwrap();
        acc = acc.wrapping_add(sink.len);
        let end = forw.innermost().unwrap();
        acc = acc.wrapping_add(read_everything(&end.message, &mut sink));
        acc = acc.wrapping_add(end.relay.interface_id().map_or(0, <[u8]>::len));
        acc = acc.wrapping_add(
            forw.client_link_layer_address()
                .unwrap()
                .map_or(0, |l| l.address.len()),
        );
        let mut b = Builder::relay_reply_to(&forw, MessageType::Reply, &mut out).unwrap();
        advertise(&end.message, &mut b);
        let n = b.finish().unwrap();
        let repl = RelayMessage::new_checked(&out[..n]).unwrap();
        acc = acc.wrapping_add(read_everything(
            &repl.innermost().unwrap().message,
            &mut sink,
        ));
    }
    let after = ALLOCS.load(Ordering::SeqCst);
    black_box(acc);
    assert_eq!(
        after - before,
        0,
        "DHCPv6 parse/build/display allocated {} times",
        after - before
    );
}
