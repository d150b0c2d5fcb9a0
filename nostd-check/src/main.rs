//! A freestanding program that uses the library crates with `std` off and
//! `alloc` on. If any of them (or their dependencies) links `std`, this fails
//! to build with "duplicate lang item `panic_impl`", because `std` brings its
//! own panic handler. The parse and build paths are exercised without the
//! allocator ever being called.
#![no_std]
#![no_main]

extern crate alloc;
extern crate pxe_dhcp;
extern crate pxe_engine;
extern crate pxe_rules;
extern crate pxe_tftp;

use alloc::sync::Arc;
use alloc::vec::Vec;

use core::alloc::{GlobalAlloc, Layout};
use core::panic::PanicInfo;

/// An allocator that refuses every request: linking `alloc` needs one, and
/// a board would supply its own.
struct NoHeap;

// SAFETY argument: returning null is always a valid GlobalAlloc answer
// ("allocation failed"); dealloc is never reached because nothing is ever
// handed out.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for NoHeap {
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        core::ptr::null_mut()
    }
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static HEAP: NoHeap = NoHeap;

#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    loop {}
}

/// The smoltcp driver as a board would use it: compiled rules, files in
/// memory, leases in RAM, one poll of the interface and the server.
fn netboot_on_smoltcp() -> Option<usize> {
    use pxe_smoltcp::smoltcp::iface::{Config, Interface, SocketSet};
    use pxe_smoltcp::smoltcp::phy::{Loopback, Medium};
    use pxe_smoltcp::smoltcp::time::Instant;
    use pxe_smoltcp::smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Cidr};
    use pxe_smoltcp::{MemoryFiles, Server, Settings, VolatileLeases};

    static FILES: [(&str, &[u8]); 1] = [("boot.bin", b"firmware")];
    let conf = pxe_rules::Config::parse_str(
        "dhcp-range=10.0.0.100,10.0.0.110\ndhcp-boot=boot.bin\nenable-tftp\n",
        "board",
    )
    .ok()?;
    let settings = Settings::from_config(&conf);
    let mut device = Loopback::new(Medium::Ethernet);
    let hw = HardwareAddress::Ethernet(EthernetAddress([2, 0, 0, 0, 0, 1]));
    let mut iface = Interface::new(Config::new(hw), &mut device, Instant::from_millis(0));
    iface.update_ip_addrs(|a| {
        let _ = a.push(IpCidr::Ipv4(Ipv4Cidr::new(
            core::net::Ipv4Addr::new(10, 0, 0, 1),
            24,
        )));
    });
    let mut sockets = SocketSet::new(Vec::new());
    let mut server = Server::new(
        Arc::new(conf),
        settings,
        MemoryFiles::new(&FILES),
        VolatileLeases,
        &mut sockets,
    )
    .ok()?;
    let now = Instant::from_millis(1);
    iface.poll(now, &mut device, &mut sockets);
    server.poll(now, &iface, &mut sockets);
    Some(server.stats().tftp_active)
}

/// The DHCPv6 codec without `std` or a heap: view a SOLICIT, answer it
/// with an ADVERTISE, and wrap that in a RELAY-REPL.
fn dhcpv6_parse_and_build(datagram: &[u8], out: &mut [u8]) -> Option<usize> {
    use pxe_dhcp::v6::{
        Builder, Duid, ENTERPRISE_INTEL, Message, MessageType, Packet, RelayBuilder, RelayHeader,
        Status,
    };
    let Packet::Message(request) = Packet::new_checked(datagram).ok()? else {
        return None;
    };
    let iaid = request.ia_na().ok()??.iaid();
    let http = request
        .vendor_class()
        .ok()?
        .is_some_and(|v| v.is_http_client());
    let (reply, relay) = out.split_at_mut(out.len() / 2);
    let mut b = Builder::reply_to(&request, MessageType::Advertise, reply).ok()?;
    b.server_id(&Duid::ll_ethernet([2, 0, 0, 0, 0, 1]))
        .ok()?
        .ia_na(iaid, 1800, 3150, |ia| {
            ia.ia_addr(core::net::Ipv6Addr::LOCALHOST, 3600, 3600)?;
            Ok(())
        })
        .ok()?
        .status_code(Status::Success, "success")
        .ok()?
        .boot_file_url(b"http://[::1]/boot.efi")
        .ok()?;
    if http {
        b.vendor_class(ENTERPRISE_INTEL, &[b"HTTPClient"]).ok()?;
    }
    let n = b.finish().ok()?;
    let header = RelayHeader {
        hop_count: 0,
        link_address: core::net::Ipv6Addr::UNSPECIFIED,
        peer_address: core::net::Ipv6Addr::LOCALHOST,
    };
    let mut r = RelayBuilder::new(relay, MessageType::RelayRepl, header).ok()?;
    r.interface_id(b"eth0").ok()?;
    let len = r.relay_message(reply.get(..n)?).ok()?;
    Message::new_checked(reply.get(..n)?).ok()?;
    Some(len)
}

/// Entry point; linked, never run. `black_box` keeps the driver code in the
/// binary (the linker would drop an unreachable function).
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    if core::hint::black_box(false) {
        let _ = core::hint::black_box(netboot_on_smoltcp());
        let mut out = [0u8; 1024];
        let datagram = core::hint::black_box(&[1u8, 0, 0, 1][..]);
        let _ = core::hint::black_box(dhcpv6_parse_and_build(datagram, &mut out));
    }
    loop {}
}

// The C memory primitives. A hosted target takes them from libc and a
// bare-metal target from compiler_builtins' `mem` feature; this binary has
// neither, and needs them as soon as real code (the smoltcp driver) is
// linked. Byte loops through volatile accesses, so that LLVM cannot turn
// them back into calls to themselves.

/// `memcpy(3)`.
///
/// # Safety
/// As C's: `n` bytes valid at both pointers, not overlapping.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract.
    unsafe { memmove(dst, src, n) }
}

/// `memmove(3)`.
///
/// # Safety
/// As C's: `n` bytes valid at both pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: in bounds by the caller's contract; the copy direction
    // handles overlap.
    unsafe {
        if (dst as usize) < (src as usize) {
            for i in 0..n {
                dst.add(i).write_volatile(src.add(i).read_volatile());
            }
        } else {
            for i in (0..n).rev() {
                dst.add(i).write_volatile(src.add(i).read_volatile());
            }
        }
    }
    dst
}

/// `memset(3)`.
///
/// # Safety
/// As C's: `n` bytes valid at `dst`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: in bounds by the caller's contract.
        unsafe { dst.add(i).write_volatile(c as u8) };
    }
    dst
}

/// `memcmp(3)`.
///
/// # Safety
/// As C's: `n` bytes valid at both pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: in bounds by the caller's contract.
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// `bcmp(3)`: equality only.
///
/// # Safety
/// As C's: `n` bytes valid at both pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { memcmp(a, b, n) }
}

/// The prebuilt `alloc` is compiled with unwinding and names this symbol;
/// with `panic = "abort"` it is never called, so an empty one links.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

/// Named by the landing pads of the prebuilt `alloc` (built with
/// unwinding); with `panic = "abort"` nothing ever unwinds, so it is never
/// called.
#[unsafe(no_mangle)]
pub extern "C" fn _Unwind_Resume() -> ! {
    loop {}
}
