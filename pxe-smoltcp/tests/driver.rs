//! Behaviour of the driver on an in-memory link (see `common`): the slot
//! pool, the persistence hook, foreign TIDs, retransmission and give-up,
//! windowed transfers, refusals and start-up checks.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use common::{Bench, SERVER, ack, content, rrq, tftp_get};
use pxe_dhcp::{Builder, MessageType, Packet, code};
use pxe_engine::lease::LeaseChange;
use pxe_smoltcp::{LeaseStore, MemoryFiles, Server, Settings, StartError, VolatileLeases};
use smoltcp::iface::SocketSet;
use smoltcp::time::Duration;

const CONF: &str =
    "dhcp-range=10.0.0.100,10.0.0.150,255.255.255.0\ndhcp-boot=boot.bin\nenable-tftp\n";

fn files(len: usize) -> MemoryFiles<'static> {
    let file: &'static [u8] = Box::leak(content(len).into_boxed_slice());
    MemoryFiles::new(Box::leak(vec![("boot.bin", file)].into_boxed_slice()))
}

fn bench(
    adjust: impl FnOnce(&mut Settings),
    len: usize,
) -> Bench<MemoryFiles<'static>, VolatileLeases> {
    Bench::new(CONF, adjust, files(len), VolatileLeases)
}

fn opcode(d: &[u8]) -> u16 {
    u16::from_be_bytes([d[0], d[1]])
}

fn block(d: &[u8]) -> u16 {
    u16::from_be_bytes([d[2], d[3]])
}

#[test]
fn serves_a_file_and_strips_leading_slashes() {
    let mut b = bench(|_| {}, 2000);
    let h = b.client_socket(40000);
    let (got, tid) = tftp_get(&mut b, h, "//boot.bin").unwrap();
    assert_eq!(got, content(2000));
    assert!(
        tid.port >= 49152,
        "transfer from a fresh TID, not 69: {tid}"
    );
    assert_eq!(b.server.stats().tftp_completed, 1);
    assert_eq!(b.server.stats().tftp_active, 0);
}

#[test]
fn missing_file_and_write_request_are_answered_with_errors() {
    let mut b = bench(|_| {}, 10);
    let h = b.client_socket(40000);
    assert_eq!(
        tftp_get(&mut b, h, "nope.bin").unwrap_err(),
        "ERROR 1: file not found"
    );
    let mut wrq = rrq("up.bin", &[]);
    wrq[1] = 2;
    b.send(h, (SERVER, 69), &wrq);
    let r = b.wait_recv(h, 10);
    assert_eq!(r.len(), 1);
    assert_eq!(opcode(&r[0].0), 5, "WRQ must be refused with an ERROR");
    // Not a request at all: an ACK on port 69.
    b.send(h, (SERVER, 69), &ack(1));
    b.steps(5);
    let r = b.recv_all(h);
    assert!(r.iter().all(|(d, _)| opcode(d) == 5), "{r:?}");
    assert_eq!(b.server.stats().tftp_refused, 3, "{:?}", b.server.stats());
    assert_eq!(b.server.stats().tftp_active, 0);
}

#[test]
fn requests_beyond_tftp_max_are_dropped_until_a_slot_frees() {
    let mut b = bench(|s| s.max_transfers = 1, 5000);
    let a = b.client_socket(40000);
    let c = b.client_socket(40001);
    b.send(a, (SERVER, 69), &rrq("boot.bin", &[]));
    let first = b.wait_recv(a, 10);
    assert_eq!(opcode(&first[0].0), 3);
    b.send(c, (SERVER, 69), &rrq("boot.bin", &[]));
    b.steps(5);
    assert!(
        b.recv_all(c).is_empty(),
        "second transfer started beyond tftp-max"
    );
    assert_eq!(b.server.stats().tftp_busy, 1);
    // Finish the first transfer (10 blocks), then the retransmitted
    // request of the second is served.
    let tid = first[0].1;
    let mut last = 1;
    b.send(a, (SERVER, tid.port), &ack(1));
    while last < 10 {
        for (d, _) in b.wait_recv(a, 10) {
            last = block(&d);
            b.send(a, (SERVER, tid.port), &ack(last));
        }
    }
    b.steps(5);
    assert_eq!(b.server.stats().tftp_completed, 1);
    let (got, _) = tftp_get(&mut b, c, "boot.bin").unwrap();
    assert_eq!(got, content(5000));
}

#[test]
fn a_stranger_on_the_tid_gets_error_5_and_the_transfer_goes_on() {
    let mut b = bench(|_| {}, 1000);
    let a = b.client_socket(40000);
    let stranger = b.client_socket(40002);
    b.send(a, (SERVER, 69), &rrq("boot.bin", &[]));
    let d1 = b.wait_recv(a, 10);
    let tid = d1[0].1;
    b.send(stranger, (SERVER, tid.port), &ack(1));
    let e = b.wait_recv(stranger, 10);
    assert_eq!(opcode(&e[0].0), 5);
    assert_eq!(block(&e[0].0), 5, "unknown transfer ID");
    b.send(a, (SERVER, tid.port), &ack(1));
    let d2 = b.wait_recv(a, 10);
    assert_eq!((opcode(&d2[0].0), block(&d2[0].0)), (3, 2));
    b.send(a, (SERVER, tid.port), &ack(2));
    b.steps(5);
    assert_eq!(b.server.stats().tftp_completed, 1);
}

#[test]
fn retransmits_on_timeout_then_gives_up_and_frees_the_slot() {
    let mut b = bench(|s| s.max_transfers = 1, 1000);
    let a = b.client_socket(40000);
    b.send(a, (SERVER, 69), &rrq("boot.bin", &[]));
    assert_eq!(b.wait_recv(a, 10).len(), 1);
    let delay = b
        .server
        .poll_delay(b.now)
        .expect("a running transfer has a deadline");
    assert!(
        delay > Duration::from_millis(500) && delay <= Duration::from_secs(1),
        "{delay}"
    );
    // No ACK: DATA 1 again after each timeout.
    b.advance(delay);
    let again = b.wait_recv(a, 3);
    assert_eq!((opcode(&again[0].0), block(&again[0].0)), (3, 1));
    for _ in 0..10 {
        b.advance(Duration::from_secs(1));
        b.steps(2);
    }
    let s = b.server.stats();
    assert_eq!((s.tftp_failed, s.tftp_active), (1, 0), "{s:?}");
    assert_eq!(b.server.poll_delay(b.now), None);
    // The slot is free again (drop the stale retransmissions first).
    let stale = b.recv_all(a);
    assert!(
        (4..=7).contains(&stale.len()),
        "{} retransmissions",
        stale.len()
    );
    let (got, _) = tftp_get(&mut b, a, "boot.bin").unwrap();
    assert_eq!(got, content(1000));
}

#[test]
fn windowed_transfer_with_large_blocks() {
    let mut b = bench(|_| {}, 100_000);
    let a = b.client_socket(40000);
    b.send(
        a,
        (SERVER, 69),
        &rrq(
            "boot.bin",
            &[("blksize", "1468"), ("windowsize", "8"), ("tsize", "0")],
        ),
    );
    let oack = b.wait_recv(a, 10);
    let (d, tid) = &oack[0];
    assert_eq!(opcode(d), 6, "OACK expected");
    let text = String::from_utf8_lossy(&d[2..]).replace('\0', " ");
    assert!(text.contains("blksize 1468"), "{text}");
    assert!(text.contains("windowsize 4"), "window capped at 4: {text}");
    assert!(text.contains("tsize 100000"), "{text}");
    let tid = tid.port;
    b.send(a, (SERVER, tid), &ack(0));
    let mut file = Vec::new();
    let mut expect = 1u16;
    let mut max_burst = 0;
    'outer: for _ in 0..200 {
        let got = b.wait_recv(a, 10);
        assert!(!got.is_empty(), "stalled at block {expect}");
        max_burst = max_burst.max(got.len());
        for (d, _) in got {
            assert_eq!(opcode(&d), 3);
            if block(&d) == expect {
                file.extend_from_slice(&d[4..]);
                expect += 1;
                if d.len() < 4 + 1468 {
                    b.send(a, (SERVER, tid), &ack(expect - 1));
                    break 'outer;
                }
            }
        }
        b.send(a, (SERVER, tid), &ack(expect - 1));
    }
    b.steps(5);
    assert_eq!(file, content(100_000));
    assert_eq!(max_burst, 4, "a whole window per round");
    assert_eq!(b.server.stats().tftp_completed, 1);
}

/// Records what it persisted; fails while `fail` is set.
#[derive(Clone, Default)]
struct Recorder {
    seen: Rc<RefCell<Vec<LeaseChange>>>,
    fail: Rc<RefCell<bool>>,
}

impl LeaseStore for Recorder {
    type Error = &'static str;
    fn persist(&mut self, changes: &[LeaseChange]) -> Result<(), &'static str> {
        if *self.fail.borrow() {
            return Err("flash busy");
        }
        self.seen.borrow_mut().extend_from_slice(changes);
        Ok(())
    }
}

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

#[test]
fn the_ack_waits_for_the_lease_store() {
    let store = Recorder::default();
    let mut b = Bench::new(CONF, |_| {}, files(10), store.clone());
    let c = b.client_socket(68);
    b.send(c, ([255; 4], 67), &dhcp(MessageType::Discover, 1, &[]));
    let offer = b.wait_recv(c, 10);
    let yiaddr = Packet::new_checked(&offer[0].0[..]).unwrap().yiaddr();
    assert!(store.seen.borrow().is_empty(), "an OFFER persists nothing");
    let request = dhcp(
        MessageType::Request,
        2,
        &[
            (code::REQUESTED_IP, &yiaddr.octets()),
            (code::SERVER_ID, &SERVER),
        ],
    );
    *store.fail.borrow_mut() = true;
    b.send(c, ([255; 4], 67), &request);
    b.steps(10);
    assert!(
        b.recv_all(c).is_empty(),
        "ACK sent although the lease was not stored"
    );
    assert_eq!(b.server.stats().persist_failures, 1);
    assert!(
        b.log.iter().any(|l| l.contains("flash busy")),
        "{:?}",
        b.log
    );
    // The client retries; now the store works.
    *store.fail.borrow_mut() = false;
    b.send(c, ([255; 4], 67), &request);
    let ack = b.wait_recv(c, 10);
    let p = Packet::new_checked(&ack[0].0[..]).unwrap();
    assert_eq!(p.message_type().unwrap(), Some(MessageType::Ack));
    assert_eq!(p.yiaddr(), yiaddr);
    let seen = store.seen.borrow();
    assert!(
        seen.iter()
            .any(|c| matches!(c, LeaseChange::Grant(l) if l.addr == yiaddr)),
        "{seen:?}"
    );
    assert_eq!(ack[0].1.addr, smoltcp::wire::IpAddress::Ipv4(SERVER.into()));
}

#[test]
fn start_refuses_more_addresses_than_the_lease_capacity() {
    let conf =
        pxe_rules::Config::parse_str("dhcp-range=10.0.0.1,10.0.255.254\n", "big.conf").unwrap();
    let settings = Settings::from_config(&conf);
    let mut sockets = SocketSet::new(Vec::new());
    let err = Server::new(
        Arc::new(conf.clone()),
        settings.clone(),
        files(1),
        VolatileLeases,
        &mut sockets,
    )
    .unwrap_err();
    assert_eq!(
        err,
        StartError::TooManyAddresses {
            addresses: 65534,
            max: 256
        }
    );
    assert!(err.to_string().contains("dhcp-lease-max"), "{err}");
    let conf = pxe_rules::Config::parse_str(
        "dhcp-range=10.0.0.1,10.0.255.254\ndhcp-lease-max=70000\n",
        "big.conf",
    )
    .unwrap();
    let settings = Settings::from_config(&conf);
    assert_eq!(settings.max_leases, 70000);
    assert!(
        Server::new(
            Arc::new(conf),
            settings,
            files(1),
            VolatileLeases,
            &mut sockets
        )
        .is_ok()
    );
}

#[test]
fn start_refuses_a_tid_range_smaller_than_the_pool() {
    let conf = pxe_rules::Config::parse_str("enable-tftp\n", "t.conf").unwrap();
    let mut settings = Settings::from_config(&conf);
    settings.tid_port_base = 65535;
    settings.tid_port_count = 2;
    let mut sockets = SocketSet::new(Vec::new());
    let err = Server::new(
        Arc::new(conf),
        settings,
        files(1),
        VolatileLeases,
        &mut sockets,
    )
    .unwrap_err();
    assert!(matches!(err, StartError::TidRange { .. }), "{err}");
}

#[test]
fn a_uefi_size_probe_is_not_a_failure() {
    let mut b = bench(|s| s.max_transfers = 1, 3000);
    let a = b.client_socket(1545);
    b.send(
        a,
        (SERVER, 69),
        &rrq("boot.bin", &[("tsize", "0"), ("blksize", "1468")]),
    );
    let oack = b.wait_recv(a, 10);
    assert_eq!(opcode(&oack[0].0), 6);
    // EDK2: ERROR 8 instead of ACK 0, then the real request.
    let mut err = vec![0, 5, 0, 8];
    err.extend_from_slice(b"User aborted the transfer\0");
    b.send(a, (SERVER, oack[0].1.port), &err);
    b.steps(3);
    let s = b.server.stats();
    assert_eq!(
        (s.tftp_size_probes, s.tftp_failed, s.tftp_active),
        (1, 0, 0),
        "{s:?}"
    );
    // The one slot is free again at once.
    let (got, _) = tftp_get(&mut b, a, "boot.bin").unwrap();
    assert_eq!(got, content(3000));
}

#[test]
fn leases_survive_a_reset_through_the_record_log() {
    use pxe_smoltcp::store::{RecordLog, compact, replay};
    let mut b = Bench::new(CONF, |_| {}, files(10), RecordLog::new(Vec::new()));
    let c = b.client_socket(68);
    b.send(c, ([255; 4], 67), &dhcp(MessageType::Discover, 1, &[]));
    let offer = b.wait_recv(c, 10);
    let yiaddr = Packet::new_checked(&offer[0].0[..]).unwrap().yiaddr();
    b.send(
        c,
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
    assert_eq!(b.wait_recv(c, 10).len(), 1);
    assert!(b.server.store().records() >= 1);
    // "Reset": a new server replays the region (with a torn last record
    // and erased flash behind it).
    let mut region = b.server.store().get_ref().clone();
    let good = region.len();
    region.extend_from_within(..good / 2);
    region.extend_from_slice(&[0xFF; 64]);
    let conf = pxe_rules::Config::parse_str(CONF, "c").unwrap();
    let mut sockets = SocketSet::new(Vec::new());
    let mut again = Server::new(
        Arc::new(conf),
        Settings::from_config(&pxe_rules::Config::parse_str(CONF, "c").unwrap()),
        files(10),
        VolatileLeases,
        &mut sockets,
    )
    .unwrap();
    let (n, used) = replay(&region, again.engine_mut());
    assert_eq!(used, good);
    assert!(n >= 1);
    let lease = again.engine().leases().get(yiaddr).expect("lease replayed");
    assert_eq!(lease.hw.as_bytes(), &[2, 0, 0, 0, 0, 2]);
    // Compaction keeps the active lease only.
    let mut fresh = Vec::new();
    assert_eq!(compact(again.engine(), 0, &mut fresh).unwrap(), 1);
    let mut third =
        pxe_engine::dhcp::Engine::new(Arc::new(pxe_rules::Config::parse_str(CONF, "c").unwrap()));
    assert_eq!(replay(&fresh, &mut third), (1, fresh.len()));
    assert!(third.leases().get(yiaddr).is_some());
}

#[test]
fn settings_follow_the_configuration() {
    let parse = |t: &str| pxe_rules::Config::parse_str(t, "c").unwrap();
    let s = Settings::from_config(&parse(
        "enable-tftp\ntftp-max=2\ntftp-mtu=1000\ntftp-no-blocksize\n",
    ));
    assert_eq!((s.dhcp, s.pxe_port, s.tftp), (false, false, true));
    assert_eq!((s.max_transfers, s.mtu, s.blksize), (2, 1000, false));
    let s = Settings::from_config(&parse(
        "dhcp-range=10.0.0.0,proxy\npxe-service=x86PC,\"Boot\",pxelinux\n",
    ));
    assert_eq!((s.dhcp, s.pxe_port, s.tftp), (true, true, false));
    assert_eq!(s.max_transfers, pxe_smoltcp::DEFAULT_MAX_TRANSFERS);
    assert_eq!(s.max_leases, pxe_smoltcp::DEFAULT_MAX_LEASES);
    // No TFTP: no slots, no request socket; only 67 and 4011.
    let mut sockets = SocketSet::new(Vec::new());
    let conf = parse("dhcp-range=10.0.0.0,proxy\npxe-service=x86PC,\"Boot\",pxelinux\n");
    let settings = Settings::from_config(&conf);
    Server::new(
        Arc::new(conf),
        settings,
        files(1),
        VolatileLeases,
        &mut sockets,
    )
    .unwrap();
    assert_eq!(sockets.iter().count(), 2);
}

#[test]
fn a_transfer_survives_loss_of_every_third_datagram() {
    let mut b = bench(|_| {}, 20_000);
    let mut n = 0u32;
    b.link.borrow_mut().drop_to_client = Some(Box::new(move |frame: &[u8]| {
        // IPv4 only (ARP must get through for the unicast DATA).
        if frame.get(12..14) != Some(&[0x08, 0x00]) {
            return false;
        }
        n += 1;
        n.is_multiple_of(3)
    }));
    let a = b.client_socket(40000);
    let mut tid = None;
    let mut file = Vec::new();
    let mut expect = 1u16;
    let mut rounds = 0;
    b.send(a, (SERVER, 69), &rrq("boot.bin", &[]));
    loop {
        rounds += 1;
        assert!(rounds < 500, "no progress at block {expect}");
        let got = b.wait_recv(a, 5);
        if got.is_empty() {
            match tid {
                // Lost request answer: ask again; lost DATA: the server
                // retransmits after its timeout.
                None => b.send(a, (SERVER, 69), &rrq("boot.bin", &[])),
                Some(_) => b.advance(Duration::from_secs(1)),
            }
            continue;
        }
        let mut done = false;
        for (d, from) in got {
            assert_eq!(opcode(&d), 3, "{d:?}");
            tid.get_or_insert(from.port);
            if block(&d) == expect {
                file.extend_from_slice(&d[4..]);
                expect += 1;
                done = d.len() < 516;
            }
            // ACK what we have (also re-ACKs duplicates, as clients do).
            b.send(a, (SERVER, tid.unwrap()), &ack(expect - 1));
        }
        if done {
            break;
        }
    }
    // Loss is server to client only: the final ACK arrives.
    b.steps(5);
    assert_eq!(file, content(20_000));
    assert_eq!(b.server.stats().tftp_completed, 1, "{:?}", b.server.stats());
}

#[test]
fn garbage_on_every_port_is_dropped_and_service_goes_on() {
    let conf = "dhcp-range=10.0.0.100,10.0.0.150,255.255.255.0\ndhcp-boot=boot.bin\nenable-tftp\npxe-service=x86PC,\"Boot\",pxelinux\n";
    let mut b = Bench::new(conf, |_| {}, files(3000), VolatileLeases);
    let a = b.client_socket(40000);
    let mut x: u32 = 7;
    let mut rnd = move || {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        x >> 8
    };
    for i in 0..1500usize {
        let len = (rnd() % 700) as usize;
        let mut d: Vec<u8> = (0..len).map(|_| rnd() as u8).collect();
        // Some look like the real thing at the start.
        if i.is_multiple_of(3) && len > 240 {
            d[0] = 1;
            d[236..240].copy_from_slice(&[99, 130, 83, 99]);
        }
        if i.is_multiple_of(5) && len > 2 {
            d[0] = 0;
            d[1] = (rnd() % 7) as u8;
        }
        let port = [67, 4011, 69][i % 3];
        b.send(a, (SERVER, port), &d);
        b.step();
    }
    b.steps(10);
    let _ = b.recv_all(a);
    // Nothing stuck: a real transfer still works.
    let (got, _) = tftp_get(&mut b, a, "boot.bin").unwrap();
    assert_eq!(got, content(3000));
    let s = b.server.stats();
    assert!(s.dhcp_dropped > 0 && s.tftp_refused > 0, "{s:?}");
}

#[test]
fn dhcp_reply_delay_holds_the_offer_back() {
    let conf = "dhcp-range=10.0.0.100,10.0.0.150,255.255.255.0\ndhcp-reply-delay=2\n";
    let mut b = Bench::new(conf, |_| {}, files(10), VolatileLeases);
    let c = b.client_socket(68);
    assert_eq!(b.server.poll_delay(b.now), None, "nothing held yet");
    b.send(c, ([255; 4], 67), &dhcp(MessageType::Discover, 1, &[]));
    b.steps(10);
    assert!(b.recv_all(c).is_empty(), "the OFFER left before its delay");
    assert_eq!(b.server.stats().dhcp_held, 1);
    // The server asks to be polled when the OFFER is due, ~2 s after the
    // DISCOVER arrived.
    let wait = b
        .server
        .poll_delay(b.now)
        .expect("a held reply needs a timer");
    assert!(
        wait > Duration::from_millis(1900) && wait <= Duration::from_secs(2),
        "{wait}"
    );
    b.advance(wait - Duration::from_millis(20));
    b.steps(5);
    assert!(b.recv_all(c).is_empty(), "the OFFER left 15 ms early");
    b.advance(Duration::from_millis(20));
    let offer = b.wait_recv(c, 5);
    assert_eq!(offer.len(), 1, "{:?}", b.log);
    let p = Packet::new_checked(&offer[0].0[..]).unwrap();
    assert_eq!(p.message_type().unwrap(), Some(MessageType::Offer));
    assert_eq!(b.server.poll_delay(b.now), None);
    // The ACK of the REQUEST is not delayed (dnsmasq delays OFFERs and
    // proxy replies only).
    let request = dhcp(
        MessageType::Request,
        2,
        &[
            (code::REQUESTED_IP, &p.yiaddr().octets()),
            (code::SERVER_ID, &SERVER),
        ],
    );
    b.send(c, ([255; 4], 67), &request);
    let ack = b.wait_recv(c, 5);
    assert_eq!(ack.len(), 1, "{:?}", b.log);
    let p = Packet::new_checked(&ack[0].0[..]).unwrap();
    assert_eq!(p.message_type().unwrap(), Some(MessageType::Ack));
    // More OFFERs than the held-reply slots within one delay: the rest are
    // dropped and counted (the clients retransmit).
    for xid in 10..10 + pxe_smoltcp::HELD_REPLIES as u32 + 1 {
        b.send(c, ([255; 4], 67), &dhcp(MessageType::Discover, xid, &[]));
        b.steps(2);
    }
    let s = b.server.stats();
    assert_eq!(s.dhcp_held, 1 + pxe_smoltcp::HELD_REPLIES as u64);
    assert_eq!(s.dhcp_held_dropped, 1);
    b.advance(Duration::from_secs(2));
    b.steps(3);
    assert_eq!(b.recv_all(c).len(), pxe_smoltcp::HELD_REPLIES);
}

#[test]
fn a_tiny_tftp_mtu_still_leaves_room_for_the_oack() {
    // tftp-mtu 40: blksize 8, but the OACK is longer than a DATA
    // datagram, and must still fit the transfer's buffers.
    let mut b = bench(|s| s.mtu = 40, 1000);
    let a = b.client_socket(40000);
    b.send(
        a,
        (SERVER, 69),
        &rrq(
            "boot.bin",
            &[
                ("blksize", "1468"),
                ("tsize", "0"),
                ("timeout", "1"),
                ("windowsize", "4"),
            ],
        ),
    );
    let oack = b.wait_recv(a, 10);
    let (d, tid) = &oack[0];
    assert_eq!(opcode(d), 6, "OACK expected, got {d:?}");
    let text = String::from_utf8_lossy(&d[2..]).replace('\0', " ");
    assert!(
        text.contains("blksize 8 ") && text.contains("tsize 1000"),
        "{text}"
    );
    let tid = tid.port;
    b.send(a, (SERVER, tid), &ack(0));
    let mut file = Vec::new();
    let mut expect = 1u16;
    'outer: for _ in 0..400 {
        let got = b.wait_recv(a, 10);
        assert!(!got.is_empty(), "stalled at block {expect}");
        for (d, _) in got {
            if opcode(&d) == 3 && block(&d) == expect {
                file.extend_from_slice(&d[4..]);
                expect += 1;
                if d.len() < 4 + 8 {
                    b.send(a, (SERVER, tid), &ack(expect - 1));
                    break 'outer;
                }
            }
        }
        b.send(a, (SERVER, tid), &ack(expect - 1));
    }
    b.steps(5);
    assert_eq!(file, content(1000));
    assert_eq!(b.server.stats().tftp_completed, 1, "{:?}", b.server.stats());
}
