//! Heap footprint of the smoltcp build serving one DHCP exchange and one
//! TFTP transfer, measured with a counting global allocator that counts
//! only the server's side (see `common`). Prints the figures quoted in the
//! crate docs; fails if the peak leaves a 256 KiB microcontroller less than
//! half its RAM, or if the TFTP transfer allocates at all.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::net::Ipv4Addr;

use common::{Bench, CLIENT, SERVER, content, heap, tftp_get};
use pxe_dhcp::{Builder, MessageType, Packet, code};
use pxe_smoltcp::{MemoryFiles, Server, VolatileLeases};

fn dhcp(ty: MessageType, xid: u32, opts: &[(u8, &[u8])]) -> Vec<u8> {
    let mut buf = [0u8; 600];
    let mut b = Builder::new(&mut buf).unwrap();
    b.xid(xid).chaddr(1, &[2, 0, 0, 0, 0, 2]).unwrap();
    b.message_type(ty).unwrap();
    for (c, v) in opts {
        b.option(*c, v).unwrap();
    }
    let n = b.finish().unwrap();
    buf[..n].to_vec()
}

/// Serve one exchange and one transfer with the given settings; returns
/// (static heap, peak heap) and prints the breakdown.
fn measure(label: &str, adjust: impl FnOnce(&mut pxe_smoltcp::Settings)) -> (usize, usize) {
    let file: &'static [u8] = Box::leak(content(64 * 1024).into_boxed_slice());
    let table: &'static [(&'static str, &'static [u8])] =
        Box::leak(vec![("boot.bin", file)].into_boxed_slice());
    let conf = "dhcp-range=10.0.0.100,10.0.0.150,255.255.255.0\ndhcp-boot=boot.bin\nenable-tftp\n";
    common::reset_peak();
    let base = heap();
    let mut b = Bench::new(conf, adjust, MemoryFiles::new(table), VolatileLeases);
    let (static_heap, _, static_allocs) = heap();
    let static_heap = static_heap - base.0;
    let static_allocs = static_allocs - base.2;
    let config_heap = b.setup[0] - base.0;
    let iface_heap = b.setup[1] - b.setup[0];
    let server_heap = b.setup[2] - b.setup[1];
    let s = b.server.settings().clone();
    println!(
        "--- {label}: {} transfer slot(s), windowsize <= {}, MTU {}",
        s.max_transfers, s.max_windowsize, s.mtu
    );
    println!("  config {config_heap} + interface {iface_heap} + Server::new {server_heap} bytes");

    // One DHCP exchange: DISCOVER/OFFER, REQUEST/ACK.
    let c68 = b.client_socket(68);
    b.send(c68, ([255; 4], 67), &dhcp(MessageType::Discover, 1, &[]));
    let offer = b.wait_recv(c68, 10);
    assert_eq!(offer.len(), 1, "{:?}", b.log);
    let p = Packet::new_checked(&offer[0].0[..]).unwrap();
    assert_eq!(p.message_type().unwrap(), Some(MessageType::Offer));
    let yiaddr = p.yiaddr();
    assert!(yiaddr >= Ipv4Addr::new(10, 0, 0, 100));
    b.send(
        c68,
        ([255; 4], 67),
        &dhcp(
            MessageType::Request,
            2,
            &[
                (code::REQUESTED_IP, &yiaddr.octets()),
                (code::SERVER_ID, &SERVER),
            ],
        ),
    );
    let ack = b.wait_recv(c68, 10);
    assert_eq!(ack.len(), 1, "{:?}", b.log);
    let p = Packet::new_checked(&ack[0].0[..]).unwrap();
    assert_eq!(p.message_type().unwrap(), Some(MessageType::Ack));
    assert_eq!(b.server.engine().leases().len(), 1);
    let (after_dhcp, _, dhcp_allocs) = heap();
    let (after_dhcp, dhcp_allocs) = (after_dhcp - base.0, dhcp_allocs - base.2);

    // One TFTP transfer of 64 KiB (128 blocks of 512).
    let ct = b.client_socket(40000);
    let (got, _) = tftp_get(&mut b, ct, "boot.bin").unwrap();
    assert_eq!(got, file);
    b.steps(5);
    assert_eq!(b.server.stats().tftp_completed, 1, "{:?}", b.log);
    let (after_tftp, peak, tftp_allocs) = heap();
    let (after_tftp, peak, tftp_allocs) =
        (after_tftp - base.0, peak - base.0, tftp_allocs - base.2);

    let server_size = std::mem::size_of::<Server<MemoryFiles<'static>, VolatileLeases>>();
    let iface_size = std::mem::size_of::<smoltcp::iface::Interface>();
    println!(
        "  static heap after Server::new (config, engine, sockets, slots): {static_heap} bytes in {static_allocs} allocations"
    );
    println!(
        "  after one DHCP exchange: {after_dhcp} bytes (+{} in {} allocations: the lease)",
        after_dhcp as isize - static_heap as isize,
        dhcp_allocs - static_allocs
    );
    println!(
        "  after one TFTP transfer: {after_tftp} bytes ({} allocations during the transfer)",
        tftp_allocs - dhcp_allocs
    );
    println!("  peak heap: {peak} bytes");
    println!(
        "  size_of Server: {server_size} bytes, size_of smoltcp Interface: {iface_size} bytes"
    );
    let _ = CLIENT;
    assert_eq!(tftp_allocs, dhcp_allocs, "the TFTP transfer allocated");
    assert!(
        dhcp_allocs - static_allocs <= 16,
        "a DHCP exchange made {} allocations",
        dhcp_allocs - static_allocs
    );
    assert!(
        peak + server_size + iface_size < 128 * 1024,
        "peak {peak} bytes"
    );
    (static_heap, peak)
}

// One test: the counters are global, so the two measurements run one after
// the other (the peak of the second is taken relative to its own start).
#[test]
fn footprint_of_one_dhcp_exchange_and_one_tftp_transfer() {
    let (_, default_peak) = measure("defaults", |_| {});
    let (_, small_peak) = measure("one slot, no windowsize", |s| {
        s.max_transfers = 1;
        s.max_windowsize = 1;
    });
    assert!(small_peak < default_peak);
    decline_flood_does_not_grow_the_heap();
}

/// DECLINEs naming addresses outside every pool must not leave state
/// behind (the engine remembers declined addresses for 10 minutes).
fn decline_flood_does_not_grow_the_heap() {
    let table: &'static [(&'static str, &'static [u8])] = Box::leak(Vec::new().into_boxed_slice());
    let conf = "dhcp-range=10.0.0.100,10.0.0.150,255.255.255.0\n";
    let mut b = Bench::new(conf, |_| {}, MemoryFiles::new(table), VolatileLeases);
    let c68 = b.client_socket(68);
    // Warm up the engine's log line and buffers.
    b.send(c68, ([255; 4], 67), &dhcp(MessageType::Discover, 1, &[]));
    b.steps(5);
    let before = heap().0;
    for i in 0..300u32 {
        let addr = Ipv4Addr::from(0x0a01_0000 + i);
        b.send(
            c68,
            ([255; 4], 67),
            &dhcp(
                MessageType::Decline,
                100 + i,
                &[
                    (code::REQUESTED_IP, &addr.octets()),
                    (code::SERVER_ID, &SERVER),
                ],
            ),
        );
        b.step();
    }
    b.steps(5);
    let grown = heap().0.saturating_sub(before);
    println!("  300 DECLINEs of foreign addresses: heap grew by {grown} bytes");
    assert!(grown < 1024, "heap grew by {grown} bytes");
    assert_eq!(
        b.server.stats().foreign_declines,
        300,
        "{:?}",
        b.server.stats()
    );
    // A DECLINE of a pool address still reaches the engine.
    b.send(
        c68,
        ([255; 4], 67),
        &dhcp(
            MessageType::Decline,
            999,
            &[
                (code::REQUESTED_IP, &[10, 0, 0, 120]),
                (code::SERVER_ID, &SERVER),
            ],
        ),
    );
    b.steps(3);
    assert_eq!(b.server.stats().foreign_declines, 300);
    assert_eq!(b.server.stats().dhcp_received, 302);
}
