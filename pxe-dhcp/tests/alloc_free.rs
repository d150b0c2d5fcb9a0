//! Parsing and building allocate nothing: proven with a counting allocator.
//! (One test only in this binary, so no other thread allocates meanwhile.)
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};

use pxe_dhcp::pxe::DiscoveryControl;
use pxe_dhcp::{Builder, MessageType, Packet, code};

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

/// Every accessor and typed view, results folded so nothing is optimised away.
fn read_everything(bytes: &[u8]) -> usize {
    let p = Packet::new_checked(bytes).unwrap();
    let mut n = p.xid() as usize + p.chaddr().len() + usize::from(p.flags().bits());
    n += p.options().count();
    n += usize::from(p.message_type().unwrap().map(u8::from).unwrap_or(0));
    n += p
        .parameter_request_list()
        .unwrap()
        .map_or(0, |l| l.codes().len());
    n += usize::from(p.max_message_size_effective());
    if let Some(v) = p.vendor_class().unwrap() {
        let info = v.parse();
        n += usize::from(info.arch.unwrap_or(0)) + info.vendor.len();
    }
    if let Some(a) = p.client_arch().unwrap() {
        n += a.iter().map(|x| usize::from(x.0)).sum::<usize>();
    }
    if let Some(u) = p.client_uuid().unwrap() {
        n += u.guid_text().as_str().len() + u.wire_text().as_str().len();
    }
    n += p.client_ndi().unwrap().map_or(0, |x| usize::from(x.major));
    n += p.client_id().unwrap().map_or(0, |x| x.id().len());
    n += p.user_class().unwrap().map_or(0, |u| u.classes().count());
    if let Some(pxe) = p.pxe_options().unwrap() {
        n += pxe.iter().count();
        n += pxe.boot_menu().unwrap().map_or(0, |m| m.iter().count());
        n += pxe.boot_servers().unwrap().map_or(0, |m| m.iter().count());
        n += pxe.menu_prompt().unwrap().map_or(0, |m| m.prompt.len());
        n += pxe.boot_item().unwrap().map_or(0, |m| usize::from(m.kind));
    }
    if let Some(ipxe) = p.ipxe_options().unwrap() {
        n += ipxe.features().count();
        n += ipxe.version().unwrap().map_or(0, |v| usize::from(v.0));
    }
    let l = p.pxelinux().unwrap();
    n += l.config_file.map_or(0, <[u8]>::len);
    n += p
        .server_id()
        .unwrap()
        .map_or(0, |a| usize::from(a.octets()[3]));
    n += p.routers().unwrap().map_or(0, |r| r.len());
    n += p.boot_file_name().map_or(0, <[u8]>::len);
    let mut scratch = [0u8; 64];
    n += p
        .option_concat(code::VENDOR_CLASS, &mut scratch)
        .unwrap()
        .map_or(0, <[u8]>::len);
    n
}

fn build_offer(req: &[u8], out: &mut [u8], mms: Option<u16>) -> usize {
    let req = Packet::new_checked(req).unwrap();
    let mut b = Builder::reply_to(&req, out).unwrap();
    if let Some(m) = mms {
        b.max_message_size(m);
    }
    b.message_type(MessageType::Offer).unwrap();
    b.server_id(Ipv4Addr::new(192, 168, 2, 1)).unwrap();
    b.option(code::VENDOR_CLASS, b"PXEClient").unwrap();
    b.copy_option(&req, code::CLIENT_UUID).unwrap();
    b.pxe_options(|s| {
        s.discovery_control(DiscoveryControl::SKIP_DISCOVERY)?
            .menu_prompt(0, b"PXE")?;
        Ok(())
    })
    .unwrap();
    b.encapsulated(code::IPXE_ENCAP, |s| {
        s.u8(0xb0, 1)?;
        Ok(())
    })
    .unwrap();
    b.option(code::PXELINUX_CONFIGFILE, b"pxelinux.cfg/default")
        .unwrap();
    b.option(code::PXELINUX_PATHPREFIX, b"http://192.168.2.1/")
        .unwrap();
    b.option(code::BOOTFILE_NAME, &[b'a'; 300]).unwrap(); // RFC 3396 split
    b.finish().unwrap()
}

#[test]
fn parse_and_build_allocate_nothing() {
    // Load the inputs before counting.
    let mut packets = Vec::new();
    for f in std::fs::read_dir(common::captures_dir()).unwrap() {
        let path = f.unwrap().path();
        if path.extension().is_some_and(|e| e == "pcap") {
            let bytes = std::fs::read(&path).unwrap();
            packets.extend(
                common::read_pcap_udp(&bytes)
                    .into_iter()
                    .filter(common::is_dhcp)
                    .map(|u| u.payload),
            );
        }
    }
    assert!(packets.len() > 100);
    let mut out = [0u8; 1500];

    let before = ALLOCS.load(Ordering::SeqCst);
    let mut acc = 0usize;
    for p in &packets {
        acc = acc.wrapping_add(read_everything(black_box(p)));
        acc = acc.wrapping_add(build_offer(black_box(p), &mut out, None));
        // The minimum message size forces option overload into file/sname.
        let n = build_offer(black_box(p), &mut out, Some(576));
        assert!(n <= 548);
        let p = Packet::new_checked(&out[..n]).unwrap();
        assert_ne!(p.overload(), 0);
        assert_eq!(
            p.fragments(code::BOOTFILE_NAME)
                .map(<[u8]>::len)
                .sum::<usize>(),
            300
        );
        acc = acc.wrapping_add(n);
    }
    let after = ALLOCS.load(Ordering::SeqCst);
    black_box(acc);
    assert_eq!(
        after - before,
        0,
        "parse/build allocated {} times",
        after - before
    );
}
