//! The example's loop on a real link: a TAP device inside a network
//! namespace this test creates, smoltcp on one side, the kernel and real
//! clients on the other (busybox `udhcpc`, `curl` over TFTP, a scripted PXE
//! client built on `pxe-dhcp`). Needs root, `ip`, busybox and curl.
#![allow(clippy::unwrap_used, clippy::panic, unreachable_pub)]

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use pxe_dhcp::{Builder, MessageType, Packet};

mod ns;

use ns::{Netns, ServerGuard, kernel_side, need_tool, unique};

/// Deterministic test content.
fn content(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

/// FNV-1a 64, as the checksum reported on mismatch.
fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[test]
fn full_mode_udhcpc_and_curl_over_tftp() {
    need_tool("busybox");
    need_tool("curl");
    let ns = Netns::new("sm");
    let tap_name = unique("smt");
    let file = content(300_000);
    let conf =
        "dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0\ndhcp-boot=boot.bin\nenable-tftp\n";
    let server = ServerGuard::start(
        &ns,
        &tap_name,
        "10.77.0.1/24",
        conf,
        vec![("boot.bin".into(), file.clone())],
    );
    kernel_side(&ns, &tap_name, "10.77.0.2/24");

    // busybox udhcpc: DISCOVER from 0.0.0.0 to 255.255.255.255 over a raw
    // socket, replies broadcast by smoltcp.
    let out = ns.run(&[
        "busybox",
        "udhcpc",
        "-i",
        &tap_name,
        "-n",
        "-q",
        "-t",
        "5",
        "-T",
        "1",
        "-s",
        "/bin/true",
    ]);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "udhcpc failed:\n{log}");
    let leased: Ipv4Addr = log
        .split("lease of ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no lease in udhcpc output:\n{log}"));
    assert!(
        (Ipv4Addr::new(10, 77, 0, 100)..=Ipv4Addr::new(10, 77, 0, 150)).contains(&leased),
        "{leased} outside the range:\n{log}"
    );
    assert!(log.contains("obtained from 10.77.0.1"), "{log}");

    // curl over TFTP: default block size and the largest the MTU allows.
    let dir = std::env::temp_dir().join(unique("pxe-smoltcp-"));
    std::fs::create_dir_all(&dir).unwrap();
    for extra in [&[][..], &["--tftp-blksize", "1468"][..]] {
        let dest = dir.join("got.bin");
        let _ = std::fs::remove_file(&dest);
        let mut args = vec![
            "curl",
            "-sS",
            "--max-time",
            "30",
            "-o",
            dest.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        args.push("tftp://10.77.0.1/boot.bin");
        let out = ns.run(&args);
        assert!(
            out.status.success(),
            "curl {extra:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = std::fs::read(&dest).unwrap();
        assert_eq!(
            (got.len(), fnv(&got)),
            (file.len(), fnv(&file)),
            "checksum mismatch with {extra:?}"
        );
    }
    // A missing file is answered with TFTP error 1 (curl exit 68).
    let out = ns.run(&[
        "curl",
        "-sS",
        "--max-time",
        "10",
        "-o",
        dir.join("none").to_str().unwrap(),
        "tftp://10.77.0.1/missing.bin",
    ]);
    assert_eq!(
        out.status.code(),
        Some(68),
        "expected curl's 'TFTP file not found': {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);

    let stats = server.stop();
    assert_eq!(stats.tftp_completed, 2, "{stats:?}");
    assert_eq!(stats.tftp_refused, 1, "{stats:?}");
    assert_eq!(stats.tftp_active, 0, "{stats:?}");
    assert!(stats.dhcp_replies >= 2, "{stats:?}");
}

fn encode(
    ty: MessageType,
    xid: u32,
    mac: [u8; 6],
    ciaddr: Ipv4Addr,
    options: &[(u8, &[u8])],
) -> Vec<u8> {
    let mut buf = [0u8; 1500];
    let mut b = Builder::new(&mut buf).unwrap();
    b.xid(xid).ciaddr(ciaddr);
    b.chaddr(1, &mac).unwrap();
    if ciaddr.is_unspecified() {
        b.flags(pxe_dhcp::Flags::BROADCAST);
    }
    b.message_type(ty).unwrap();
    for (c, v) in options {
        b.option(*c, v).unwrap();
    }
    let n = b.finish().unwrap();
    buf[..n].to_vec()
}

/// Send `msg` to `to` until a reply with `xid` arrives (5 tries).
fn exchange(
    s: &UdpSocket,
    msg: &[u8],
    to: SocketAddrV4,
    xid: u32,
) -> Option<(Vec<u8>, std::net::SocketAddr)> {
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 2048];
    for _ in 0..5 {
        s.send_to(msg, to).unwrap();
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(900) {
            if let Ok((n, from)) = s.recv_from(&mut buf)
                && let Ok(p) = Packet::new_checked(&buf[..n])
                && p.xid() == xid
                && p.op() == pxe_dhcp::Op::Reply
            {
                return Some((buf[..n].to_vec(), from));
            }
        }
    }
    None
}

#[test]
fn proxy_offer_and_4011_answer_to_a_scripted_pxe_client() {
    let ns = Netns::new("sm");
    let tap_name = unique("smp");
    // The seed's "proxy DHCP" configuration.
    let conf = "dhcp-match=ipxe,175\nenable-tftp\ndhcp-range=10.78.0.0,proxy\npxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe\n";
    let server = ServerGuard::start(&ns, &tap_name, "10.78.0.1/24", conf, Vec::new());
    kernel_side(&ns, &tap_name, "10.78.0.2/24");
    let dev = tap_name.clone();
    let (offer, ack) = ns
        .spawn(move || {
            let mac = [0x52, 0x54, 0, 0xaa, 0xbb, 0x01];
            let uuid = [0u8; 17];
            let arch = b"PXEClient:Arch:00000:UNDI:002001";
            let s = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68)).unwrap();
            s.set_broadcast(true).unwrap();
            nix::sys::socket::setsockopt(
                &s,
                nix::sys::socket::sockopt::BindToDevice,
                &std::ffi::OsString::from(&dev),
            )
            .unwrap();
            let discover = encode(
                MessageType::Discover,
                0xabc,
                mac,
                Ipv4Addr::UNSPECIFIED,
                &[
                    (55, &[1, 3, 43, 60, 66, 67, 97]),
                    (60, arch),
                    (93, &[0, 0]),
                    (94, &[1, 2, 1]),
                    (97, &uuid),
                ],
            );
            let offer = exchange(
                &s,
                &discover,
                SocketAddrV4::new(Ipv4Addr::BROADCAST, 67),
                0xabc,
            );
            let s4 = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::new(10, 78, 0, 2), 0)).unwrap();
            let request = encode(
                MessageType::Request,
                0xabd,
                mac,
                Ipv4Addr::new(10, 78, 0, 2),
                &[
                    (60, arch),
                    (93, &[0, 0]),
                    (97, &uuid),
                    (43, &[71, 4, 0x80, 0, 0, 0, 255]),
                ],
            );
            let ack = exchange(
                &s4,
                &request,
                SocketAddrV4::new(Ipv4Addr::new(10, 78, 0, 1), 4011),
                0xabd,
            );
            (offer, ack)
        })
        .join()
        .unwrap();
    let (offer, from) = offer.expect("no proxy offer from the smoltcp server");
    let p = Packet::new_checked(&offer[..]).unwrap();
    assert_eq!(p.message_type().unwrap(), Some(MessageType::Offer));
    assert!(
        p.yiaddr().is_unspecified(),
        "a proxy offer gives no address"
    );
    assert_eq!(p.option(60), Some(&b"PXEClient"[..]));
    assert!(
        p.option(43).is_some(),
        "proxy offer without the PXE menu (43)"
    );
    assert_eq!(from.port(), 67);
    let (ack, from) = ack.expect("no answer from the boot server on 4011");
    let p = Packet::new_checked(&ack[..]).unwrap();
    assert_eq!(p.message_type().unwrap(), Some(MessageType::Ack));
    assert_eq!(p.file(), Some(&b"undionly.kkpxe"[..]));
    assert_eq!(p.siaddr(), Ipv4Addr::new(10, 78, 0, 1));
    assert_eq!(
        from,
        SocketAddrV4::new(Ipv4Addr::new(10, 78, 0, 1), 4011).into()
    );
    let stats = server.stop();
    assert!(stats.dhcp_replies >= 2, "{stats:?}");
}
