//! Full-mode and proxy-mode DHCP against real clients (busybox udhcpc,
//! ISC dhclient, busybox udhcpd as the competing server) and a scripted
//! client, each test in network namespaces it creates and removes. Every
//! reply on the wire is captured with dumpcap and must decode in tshark
//! without a malformed-packet or error-level expert warning.
//!
//! Needs root and: ip, busybox, dhclient, dumpcap, tshark.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use pxe_dhcp::{MessageType, Packet, code};
use support::*;

const SRV: &str = "10.77.0.1/24";
const SRV_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);

fn write_conf(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("pxe.conf");
    let text = format!("{body}\ndhcp-leasefile={}\n", dir.join("leases").display());
    std::fs::write(&p, text).unwrap();
    p
}

const UDHCPC_SCRIPT: &str = "#!/bin/sh\ncase \"$1\" in bound|renew) ip addr replace \"$ip/24\" dev \"$interface\" ;; deconfig) ip addr flush dev \"$interface\" ;; esac\nexit 0\n";

fn make_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn shutdown_and_log(mut server: ChildGuard, log: &Path) -> String {
    let st = server.terminate(Duration::from_secs(10));
    assert!(
        st.is_some_and(|s| s.success()),
        "server did not stop cleanly on SIGTERM"
    );
    std::fs::read_to_string(log).unwrap()
}

#[test]
fn udhcpc_obtain_renew_release() {
    udhcpc_obtain_renew_release_with(false);
}

/// `udhcpc -B` sets the broadcast flag: the OFFER and ACK are broadcast.
#[test]
fn udhcpc_with_broadcast_flag_obtain_renew_release() {
    udhcpc_obtain_renew_release_with(true);
}

/// udhcpc (raw socket until bound) without the broadcast flag gets the
/// OFFER and ACK unicast to the offered address at its MAC; with it
/// (`-B`), broadcast. Renewal is unicast either way, release frees.
fn udhcpc_obtain_renew_release_with(broadcast_flag: bool) {
    need_tool("busybox");
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::new(&[SRV, ""]);
    let conf = write_conf(
        dir.path(),
        "dhcp-range=10.77.0.100,10.77.0.150,10m\ndhcp-boot=pxelinux.0",
    );
    let log = dir.path().join("server.log");
    let server = start_server(&lab.members[0], &conf, &[], &log);
    wait_log(&log, "DHCP listening on UDP 67", Duration::from_secs(10));
    let cap = Capture::start(&lab.members[0], dir.path(), "udp port 67 or udp port 68");
    let script = make_script(dir.path(), "udhcpc.sh", UDHCPC_SCRIPT);
    let mut client = ChildGuard(Some(
        lab.members[1]
            .cmd(&[
                "busybox",
                "udhcpc",
                "-f",
                "-i",
                "eth0",
                "-R",
                "-t",
                "5",
                "-T",
                "1",
                "-s",
                script.to_str().unwrap(),
            ])
            .args(broadcast_flag.then_some("-B"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    wait_log(&log, "DHCPACK", Duration::from_secs(15));
    // The address is configured by the script.
    let mut ip = None;
    for _ in 0..50 {
        let out = lab.members[1].run(&["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
        let s = String::from_utf8_lossy(&out.stdout).into_owned();
        if let Some(w) = s.split_whitespace().skip_while(|w| *w != "inet").nth(1) {
            ip = Some(w.split('/').next().unwrap().to_string());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let ip = ip.expect("udhcpc configured no address");
    assert!(ip.starts_with("10.77.0."), "{ip}");
    let first_ack = wait_log(&log, "DHCPACK", Duration::from_secs(1));
    let first_ack = first_ack.lines().find(|l| l.contains("DHCPACK")).unwrap();
    let delivery = if broadcast_flag {
        "(broadcast)".to_string()
    } else {
        format!("(unicast {ip} (")
    };
    assert!(first_ack.contains(&delivery), "{first_ack}");
    // Renew: SIGUSR1 makes udhcpc send a unicast RENEWING request.
    let pid = nix::unistd::Pid::from_raw(client.0.as_ref().unwrap().id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGUSR1).unwrap();
    let s = wait_log(
        &log,
        &format!("DHCPACK {ip} file=pxelinux.0 next-server=10.77.0.1 (unicast {ip}:68)"),
        Duration::from_secs(10),
    );
    assert!(s.matches("DHCPACK").count() >= 2);
    // Release on exit (-R).
    client
        .terminate(Duration::from_secs(5))
        .expect("udhcpc did not exit");
    wait_log(&log, &format!("released {ip}"), Duration::from_secs(10));
    let n = cap.check_server_replies(SRV_IP);
    assert!(n >= 3, "expected OFFER, ACK, ACK on the wire, saw {n}");
    let s = shutdown_and_log(server, &log);
    assert!(s.contains("releases=1"), "{s}");
    let leases = std::fs::read_to_string(dir.path().join("leases")).unwrap();
    assert!(
        !leases.contains(&ip),
        "released lease still in the lease file: {leases}"
    );
}

#[test]
fn dhclient_obtain_renew_release() {
    let dhclient = need_tool("dhclient");
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::new(&[SRV, ""]);
    let conf = write_conf(
        dir.path(),
        "dhcp-range=10.77.0.100,10.77.0.150\ndhcp-option=option:router,10.77.0.1",
    );
    let log = dir.path().join("server.log");
    let server = start_server(&lab.members[0], &conf, &[], &log);
    wait_log(&log, "DHCP listening on UDP 67", Duration::from_secs(10));
    let cap = Capture::start(&lab.members[0], dir.path(), "udp port 67 or udp port 68");
    let script = make_script(
        dir.path(),
        "dhclient.sh",
        "#!/bin/sh\ncase \"$reason\" in BOUND|RENEW|REBIND|REBOOT) ip addr replace \"$new_ip_address/24\" dev \"$interface\" ;; RELEASE|EXPIRE|STOP) ip addr flush dev \"$interface\" ;; esac\nexit 0\n",
    );
    let lf = dir.path().join("dhclient.leases");
    let pf = dir.path().join("dhclient.pid");
    let base = |extra: &[&str]| {
        let mut v: Vec<String> = vec![
            dhclient.to_str().unwrap().into(),
            "-4".into(),
            "-v".into(),
            "-lf".into(),
            lf.to_str().unwrap().into(),
            "-pf".into(),
            pf.to_str().unwrap().into(),
            "-sf".into(),
            script.to_str().unwrap().into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v.push("eth0".into());
        v
    };
    let run = |args: Vec<String>| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = lab.members[1]
            .cmd(&["timeout", "30"])
            .args(&a)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "dhclient failed:\n{text}");
        text
    };
    // Obtain (-1: try once, then exit after binding... -d keeps foreground).
    let t = run(base(&["-1", "-d", "--no-pid"])
        .into_iter()
        .filter(|a| a != "-d")
        .collect());
    assert!(t.contains("bound to 10.77.0."), "{t}");
    let leased = std::fs::read_to_string(&lf).unwrap();
    assert!(leased.contains("option routers 10.77.0.1"), "{leased}");
    // Renew: a second run reuses the recorded lease (INIT-REBOOT request).
    let t2 = run(base(&["-1", "--no-pid"]));
    assert!(t2.contains("DHCPACK"), "{t2}");
    let ip = t
        .split("bound to ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(
        t2.contains(&format!("bound to {ip}")),
        "renewal changed the address:\n{t2}"
    );
    // Release.
    run(base(&["-r", "--no-pid"]));
    wait_log(&log, &format!("released {ip}"), Duration::from_secs(10));
    let n = cap.check_server_replies(SRV_IP);
    assert!(n >= 3, "expected OFFER, ACK, ACK on the wire, saw {n}");
    let s = shutdown_and_log(server, &log);
    assert!(s.contains("releases=1"), "{s}");
}

/// Scripted clients: `n` DORAs from distinct MACs, in parallel threads
/// inside the client namespace.
fn many_doras(ns: &str, first: u32, n: u32, threads: u32) -> BTreeMap<[u8; 6], Ipv4Addr> {
    enter_ns(ns, move || {
        let mut hs = Vec::new();
        for t in 0..threads {
            hs.push(std::thread::spawn(move || {
                let s = client_socket(68);
                let mut got = Vec::new();
                for i in (first + t..first + n).step_by(threads as usize) {
                    let mac = [2, 0x77, (i >> 16) as u8, (i >> 8) as u8, i as u8, t as u8];
                    if let Some(ip) = dora(&s, mac, 0x5000_0000 + i, &[]) {
                        got.push((mac, ip));
                    }
                }
                got
            }));
        }
        hs.into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect::<BTreeMap<_, _>>()
    })
}

#[test]
fn two_hundred_scripted_clients_get_distinct_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::new(&[SRV, "10.77.0.2/24"]);
    let conf = write_conf(dir.path(), "dhcp-range=10.77.0.10,10.77.0.250");
    let log = dir.path().join("server.log");
    let server = start_server(&lab.members[0], &conf, &[], &log);
    wait_log(&log, "DHCP listening on UDP 67", Duration::from_secs(10));
    let cap = Capture::start(&lab.members[0], dir.path(), "udp port 67 or udp port 68");
    let got = many_doras(&lab.members[1].name, 0, 200, 4);
    assert_eq!(got.len(), 200, "not every client got an address");
    let n = cap.check_server_replies(SRV_IP);
    assert!(
        n >= 400,
        "expected 200 OFFERs and 200 ACKs on the wire, saw {n}"
    );
    let distinct: BTreeSet<_> = got.values().collect();
    assert_eq!(distinct.len(), 200, "an address was granted twice");
    shutdown_and_log(server, &log);
    let text = std::fs::read_to_string(dir.path().join("leases")).unwrap();
    let leases: Vec<_> = pxe_engine::lease::dnsmasq::parse(&text)
        .map(Result::unwrap)
        .collect();
    assert_eq!(leases.len(), 200);
    for l in &leases {
        let mac: [u8; 6] = l.hw.as_bytes().try_into().unwrap();
        assert_eq!(got.get(&mac), Some(&l.addr));
    }
}

#[test]
fn kill_9_under_load_loses_no_acknowledged_lease() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::new(&["10.77.0.1/16", "10.77.0.2/16"]);
    let conf = write_conf(dir.path(), "dhcp-range=10.77.1.0,10.77.200.255");
    let log = dir.path().join("server.log");
    let mut server = start_server(&lab.members[0], &conf, &[], &log);
    wait_log(&log, "DHCP listening on UDP 67", Duration::from_secs(10));
    // Load in the background; kill -9 in the middle of it.
    // Each of 4 threads runs DORAs back to back until the server dies.
    let ns = lab.members[1].name.clone();
    let progress = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let prog = progress.clone();
    let load = std::thread::spawn(move || {
        enter_ns(&ns, move || {
            let hs: Vec<_> = (0..4u32)
                .map(|t| {
                    let prog = prog.clone();
                    std::thread::spawn(move || {
                        let s = client_socket(68);
                        let mut got = Vec::new();
                        for i in 0..10_000u32 {
                            let mac = [2, 0x99, t as u8, (i >> 8) as u8, i as u8, 0];
                            match dora_tries(&s, mac, 0x6000_0000 + (t << 16) + i, &[], 1) {
                                Some(ip) => {
                                    got.push((mac, ip));
                                    prog.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                }
                                None => break,
                            }
                        }
                        got
                    })
                })
                .collect();
            hs.into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect::<BTreeMap<_, _>>()
        })
    });
    // Kill once the load is well under way (however slow the machine is).
    let t0 = std::time::Instant::now();
    while progress.load(std::sync::atomic::Ordering::Relaxed) < 200
        && t0.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill9();
    let acked = load.join().unwrap();
    assert!(!acked.is_empty(), "no client got an ACK before the kill");
    assert!(acked.len() < 40_000, "the load ended before the kill");
    // Restart: every acknowledged lease must be known, and new clients
    // must never receive an acknowledged address.
    let log2 = dir.path().join("server2.log");
    let server2 = start_server(&lab.members[0], &conf, &[], &log2);
    let s = wait_log(&log2, "DHCP listening on UDP 67", Duration::from_secs(10));
    assert!(s.contains("leases: "), "{s}");
    let fresh = many_doras(&lab.members[1].name, 5000, 60, 2);
    let acked_addrs: BTreeSet<_> = acked.values().copied().collect();
    for (mac, ip) in &fresh {
        assert!(
            !acked_addrs.contains(ip),
            "{ip} given to {mac:?} but acknowledged to another client before the crash"
        );
    }
    shutdown_and_log(server2, &log2);
    let text = std::fs::read_to_string(dir.path().join("leases")).unwrap();
    let on_disk: BTreeMap<[u8; 6], Ipv4Addr> = pxe_engine::lease::dnsmasq::parse(&text)
        .map(Result::unwrap)
        .map(|l| (l.hw.as_bytes().try_into().unwrap(), l.addr))
        .collect();
    for (mac, ip) in &acked {
        assert_eq!(
            on_disk.get(mac),
            Some(ip),
            "acknowledged lease of {mac:?} lost"
        );
    }
    let all: Vec<_> = on_disk.values().collect();
    let uniq: BTreeSet<_> = all.iter().collect();
    assert_eq!(all.len(), uniq.len(), "double allocation on disk");
    eprintln!(
        "{} leases acknowledged before kill -9, all recovered",
        acked.len()
    );
}

#[test]
fn malformed_flood_leaves_server_answering() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::new(&[SRV, "10.77.0.2/24"]);
    let conf = write_conf(dir.path(), "dhcp-range=10.77.0.10,10.77.0.250");
    let log = dir.path().join("server.log");
    let server = start_server(&lab.members[0], &conf, &[], &log);
    wait_log(&log, "DHCP listening on UDP 67", Duration::from_secs(10));
    let sent = lab.members[1].enter(|| {
        let s = std::net::UdpSocket::bind("10.77.0.2:0").unwrap();
        let to = SocketAddrV4::new(SRV_IP, 67);
        let valid = Msg {
            ty: MessageType::Discover,
            xid: 1,
            mac: [2, 1, 2, 3, 4, 5],
            ciaddr: Ipv4Addr::UNSPECIFIED,
            broadcast: true,
            options: vec![
                (55, &[1, 3, 6][..]),
                (60, &b"PXEClient:Arch:00000:UNDI:002001"[..]),
            ],
        }
        .encode();
        let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut sent = 0u32;
        for i in 0..4000u32 {
            let pkt: Vec<u8> = match i % 5 {
                0 => (0..(next() % 600) as usize).map(|_| next() as u8).collect(),
                1 => valid[..(next() as usize % valid.len())].to_vec(),
                2 => {
                    let mut v = valid.clone();
                    let k = 240 + next() as usize % (v.len() - 240);
                    v[k] = next() as u8;
                    v[241] = 0xff; // option 53's length runs off the end
                    v
                }
                3 => {
                    let mut v = valid.clone();
                    v[0] = 2; // a BOOTREPLY
                    v
                }
                _ => {
                    let mut v = valid.clone();
                    v[2] = 200; // hlen
                    v
                }
            };
            if s.send_to(&pkt, to).is_ok() {
                sent += 1;
            }
            if i % 200 == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        sent
    });
    assert_eq!(sent, 4000);
    // Valid clients are still served.
    let got = many_doras(&lab.members[1].name, 100, 20, 2);
    assert_eq!(got.len(), 20, "valid clients not served after the flood");
    let s = shutdown_and_log(server, &log);
    let line = s
        .lines()
        .find(|l| l.contains("DHCP counters"))
        .expect("no counters line");
    let malformed: u64 = line
        .split("malformed=")
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    // Random bytes can form a valid-looking request now and then; the
    // crafted ones (3 of 5) are always malformed.
    assert!(
        malformed >= 2400,
        "only {malformed} malformed drops counted: {line}"
    );
}

#[test]
fn proxy_beside_udhcpd_offer_and_4011() {
    need_tool("busybox");
    let dir = tempfile::tempdir().unwrap();
    // Our server, the LAN's DHCP server (udhcpd) and a PXE client.
    let lab = Lab::new(&[SRV, "10.77.0.2/24", ""]);
    let tftp = dir.path().join("tftp");
    std::fs::create_dir_all(&tftp).unwrap();
    let seed = include_str!("../../conf/seed-proxy.conf")
        .replace("192.168.2.0", "10.77.0.0")
        .replace("tftp-root=/pxe/", &format!("tftp-root={}", tftp.display()));
    let conf = write_conf(dir.path(), &seed);
    let log = dir.path().join("server.log");
    let server = start_server(&lab.members[0], &conf, &[], &log);
    wait_log(&log, "DHCP listening on UDP 4011", Duration::from_secs(10));
    let uconf = dir.path().join("udhcpd.conf");
    std::fs::write(
        &uconf,
        format!(
            "start 10.77.0.100\nend 10.77.0.120\ninterface eth0\nlease_file {}\npidfile {}\noption subnet 255.255.255.0\n",
            dir.path().join("udhcpd.leases").display(),
            dir.path().join("udhcpd.pid").display()
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("udhcpd.leases"), b"").unwrap();
    let _udhcpd = ChildGuard(Some(
        lab.members[1]
            .cmd(&["busybox", "udhcpd", "-f", uconf.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    std::thread::sleep(Duration::from_millis(500));
    let cap = Capture::start(&lab.members[0], dir.path(), "udp");
    let (offers, ack) = lab.members[2].enter(|| {
        let s = client_socket(68);
        let mac = [0x52, 0x54, 0, 0xaa, 0xbb, 0x01];
        let uuid = [0u8; 17];
        let d = Msg {
            ty: MessageType::Discover,
            xid: 0xabc,
            mac,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            broadcast: true,
            options: vec![
                (55, &[1, 3, 43, 60, 66, 67, 97][..]),
                (60, &b"PXEClient:Arch:00000:UNDI:002001"[..]),
                (93, &[0, 0][..]),
                (94, &[1, 2, 1][..]),
                (97, &uuid[..]),
            ],
        };
        let mut offers = Vec::new();
        for _ in 0..3 {
            s.send_to(&d.encode(), SocketAddrV4::new(Ipv4Addr::BROADCAST, 67))
                .unwrap();
            let start = std::time::Instant::now();
            while start.elapsed() < Duration::from_millis(1500) {
                if let Some((r, from)) = recv_xid(&s, 0xabc, Duration::from_millis(200)) {
                    offers.push((r, from));
                }
            }
            if offers.len() >= 2 {
                break;
            }
        }
        // Take the plain server's address, then ask our boot server on 4011.
        let real = offers
            .iter()
            .map(|(r, _)| Packet::new_checked(&r[..]).unwrap())
            .find(|p| !p.yiaddr().is_unspecified())
            .map(|p| p.yiaddr());
        let ack = real.map(|ip| {
            let out = Command::new("ip")
                .args(["addr", "add", &format!("{ip}/24"), "dev", "eth0"])
                .output()
                .unwrap();
            assert!(out.status.success());
            std::thread::sleep(Duration::from_millis(300));
            let s4 = std::net::UdpSocket::bind(SocketAddrV4::new(ip, 0)).unwrap();
            s4.set_read_timeout(Some(Duration::from_millis(300)))
                .unwrap();
            let r = Msg {
                ty: MessageType::Request,
                xid: 0xabd,
                mac,
                ciaddr: ip,
                broadcast: false,
                options: vec![
                    (60, &b"PXEClient:Arch:00000:UNDI:002001"[..]),
                    (93, &[0, 0][..]),
                    (97, &uuid[..]),
                    (43, &[71, 4, 0x80, 0, 0, 0, 255][..]),
                ],
            };
            for _ in 0..5 {
                s4.send_to(&r.encode(), SocketAddrV4::new(SRV_IP, 4011))
                    .unwrap();
                if let Some(x) = recv_xid(&s4, 0xabd, Duration::from_millis(600)) {
                    return Some(x);
                }
            }
            None
        });
        (offers, ack.flatten())
    });
    let proxy = offers
        .iter()
        .map(|(r, f)| (Packet::new_checked(&r[..]).unwrap(), f))
        .find(|(p, _)| p.yiaddr().is_unspecified())
        .map(|(p, f)| {
            (
                p.option(code::VENDOR_CLASS).map(<[u8]>::to_vec),
                p.option(43).is_some(),
                *f,
            )
        })
        .expect("no proxy offer from pxe-server");
    assert_eq!(proxy.0.as_deref(), Some(&b"PXEClient"[..]));
    assert!(proxy.1, "proxy offer without the PXE menu (43)");
    assert!(
        offers.iter().any(|(r, _)| !Packet::new_checked(&r[..])
            .unwrap()
            .yiaddr()
            .is_unspecified()),
        "udhcpd did not offer an address"
    );
    let (ack, from) = ack.expect("no answer from the boot server on 4011");
    let p = Packet::new_checked(&ack[..]).unwrap();
    assert_eq!(p.message_type().unwrap(), Some(MessageType::Ack));
    assert_eq!(p.file(), Some(&b"undionly.kkpxe"[..]));
    assert_eq!(p.siaddr(), SRV_IP);
    assert_eq!(from.port(), 4011);
    let n = cap.check_server_replies(SRV_IP);
    assert!(
        n >= 2,
        "expected the proxy OFFER and the 4011 ACK on the wire, saw {n}"
    );
    let s = shutdown_and_log(server, &log);
    assert!(!s.contains("proxy=0") && s.contains("boot-server=1"), "{s}");
    // The proxy never gave an address: no lease here.
    let leases = std::fs::read_to_string(dir.path().join("leases")).unwrap();
    assert!(leases.is_empty(), "{leases}");
}

#[test]
fn several_interfaces_bound_by_name() {
    several_interfaces(true);
}

/// No `interface=`: one wildcard socket; IP_PKTINFO tells the arrival
/// interface, and broadcasts go back out of it.
#[test]
fn several_interfaces_on_one_wildcard_socket() {
    several_interfaces(false);
}

fn several_interfaces(bound: bool) {
    // The server namespace has three links, each to its own client
    // namespace; `interface=` names two of them.
    let dir = tempfile::tempdir().unwrap();
    let srv = Netns::new("s");
    let clients: Vec<Netns> = (0..3).map(|i| Netns::new(&format!("c{i}"))).collect();
    for (i, c) in clients.iter().enumerate() {
        let va = unique("va");
        let vb = unique("vb");
        sh(&[
            "ip", "link", "add", &va, "type", "veth", "peer", "name", &vb,
        ]);
        sh(&["ip", "link", "set", &va, "netns", &srv.name]);
        sh(&["ip", "link", "set", &vb, "netns", &c.name]);
        let ifn = format!("eth{i}");
        sh(&["ip", "-n", &srv.name, "link", "set", &va, "name", &ifn]);
        sh(&[
            "ip",
            "-n",
            &srv.name,
            "addr",
            "add",
            &format!("10.8{i}.0.1/24"),
            "dev",
            &ifn,
        ]);
        sh(&["ip", "-n", &srv.name, "link", "set", &ifn, "up"]);
        sh(&["ip", "-n", &c.name, "link", "set", &vb, "name", "eth0"]);
        sh(&["ip", "-n", &c.name, "link", "set", "eth0", "up"]);
    }
    let ifs = if bound {
        "interface=eth0\ninterface=eth1\n"
    } else {
        ""
    };
    let conf = write_conf(
        dir.path(),
        &format!(
            "{ifs}dhcp-range=10.80.0.100,10.80.0.150\ndhcp-range=10.81.0.100,10.81.0.150\ndhcp-range=10.82.0.100,10.82.0.150"
        ),
    );
    let log = dir.path().join("server.log");
    let server = start_server(&srv, &conf, &[], &log);
    wait_log(
        &log,
        if bound {
            "DHCP listening on UDP 67 on eth0, eth1"
        } else {
            "DHCP listening on UDP 67"
        },
        Duration::from_secs(10),
    );
    for (i, c) in clients.iter().enumerate() {
        let served = i < 2 || !bound;
        let got = many_doras(&c.name, 100 * i as u32, if served { 3 } else { 1 }, 1);
        if served {
            assert_eq!(got.len(), 3, "clients on eth{i} not served");
            for ip in got.values() {
                assert_eq!(
                    ip.octets()[..3],
                    [10, 80 + i as u8, 0],
                    "eth{i} client got {ip}"
                );
            }
        } else {
            assert!(
                got.is_empty(),
                "eth2 is not in interface=, yet served: {got:?}"
            );
        }
    }
    let s = shutdown_and_log(server, &log);
    assert!(
        s.contains("DHCPACK 10.80.0.") && s.contains("DHCPACK 10.81.0."),
        "{s}"
    );
}

/// Exchange one DISCOVER from the client namespace, returning the replies
/// (from every server) within 1.5 s.
fn discover_all(ns: &str, mac: [u8; 6], xid: u32, opts: Vec<(u8, Vec<u8>)>) -> Vec<Vec<u8>> {
    enter_ns(ns, move || {
        let s = client_socket(68);
        let m = Msg {
            ty: MessageType::Discover,
            xid,
            mac,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            broadcast: true,
            options: opts.iter().map(|(c, v)| (*c, &v[..])).collect(),
        };
        let mut got = Vec::new();
        for _ in 0..3 {
            s.send_to(&m.encode(), SocketAddrV4::new(Ipv4Addr::BROADCAST, 67))
                .unwrap();
            while let Some((r, _)) = recv_xid(&s, xid, Duration::from_millis(500)) {
                got.push(r);
            }
            if !got.is_empty() {
                break;
            }
        }
        got
    })
}

fn pxe_rom_opts(ipxe: bool) -> Vec<(u8, Vec<u8>)> {
    let mut v = vec![
        (55, vec![1, 3, 43, 60, 66, 67]),
        (60, b"PXEClient:Arch:00000:UNDI:002001".to_vec()),
        (93, vec![0, 0]),
        (94, vec![1, 2, 1]),
        (97, vec![0; 17]),
    ];
    if ipxe {
        v.push((175, vec![0x13, 1, 1]));
        v.push((77, b"iPXE".to_vec()));
    }
    v
}

#[test]
fn seed_configurations_run_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let tftp = dir.path().join("tftp");
    std::fs::create_dir_all(&tftp).unwrap();
    let conf_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../conf/");
    let lab = Lab::new(&["192.168.2.1/24", ""]);
    let leases = dir.path().join("leases");
    let run = |file: &str, log: &Path| {
        start_server(
            &lab.members[0],
            Path::new(&format!("{conf_dir}{file}")),
            &[
                "--tftp-root",
                tftp.to_str().unwrap(),
                "--dhcp-leasefile",
                leases.to_str().unwrap(),
            ],
            log,
        )
    };
    // Real DHCP: the PXE ROM gets undionly.kkpxe.0, iPXE gets pxelinux.0 and 209/210.
    let log = dir.path().join("real.log");
    let server = run("seed-real.conf", &log);
    wait_log(&log, "DHCP listening on UDP 67", Duration::from_secs(10));
    let mac = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
    let r = discover_all(&lab.members[1].name, mac, 1, pxe_rom_opts(false));
    let p = Packet::new_checked(&r[0][..]).unwrap();
    assert_eq!(p.option(67), Some(&b"undionly.kkpxe.0\0"[..]));
    assert_eq!(p.siaddr(), Ipv4Addr::new(192, 168, 2, 1));
    let r = discover_all(&lab.members[1].name, mac, 2, pxe_rom_opts(true));
    let p = Packet::new_checked(&r[0][..]).unwrap();
    assert_eq!(p.option(67), Some(&b"pxelinux.0\0"[..]));
    assert_eq!(p.option(210), Some(&b"http://192.168.2.1:81/"[..]));
    shutdown_and_log(server, &log);
    // Proxy + PHP: the ROM gets the menu, iPXE gets the script URL with a
    // next-server it accepts (the documented deviation from dnsmasq).
    let log = dir.path().join("php.log");
    let server = run("seed-proxy-php.conf", &log);
    wait_log(&log, "DHCP listening on UDP 4011", Duration::from_secs(10));
    let r = discover_all(&lab.members[1].name, mac, 3, pxe_rom_opts(false));
    let p = Packet::new_checked(&r[0][..]).unwrap();
    assert!(p.option(43).is_some());
    assert_eq!(p.yiaddr(), Ipv4Addr::UNSPECIFIED);
    let r = discover_all(&lab.members[1].name, mac, 4, pxe_rom_opts(true));
    let p = Packet::new_checked(&r[0][..]).unwrap();
    assert_eq!(
        p.file(),
        Some(&b"http://192.168.2.1/ipxe.php?mac=${mac}&uuid=${uuid}"[..])
    );
    assert_eq!(p.siaddr(), Ipv4Addr::new(192, 168, 2, 1));
    shutdown_and_log(server, &log);
}

#[test]
fn range_on_a_secondary_address_is_served_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::new(&["10.90.0.1/24", ""]);
    sh(&[
        "ip",
        "-n",
        &lab.members[0].name,
        "addr",
        "add",
        "10.91.0.1/24",
        "dev",
        "eth0",
    ]);
    let conf = write_conf(dir.path(), "dhcp-range=10.91.0.100,10.91.0.150");
    let log = dir.path().join("server.log");
    let server = start_server(&lab.members[0], &conf, &[], &log);
    wait_log(&log, "DHCP listening on UDP 67", Duration::from_secs(10));
    let r = discover_all(&lab.members[1].name, [2, 0, 0, 0, 9, 1], 77, vec![]);
    let p = Packet::new_checked(&r[0][..]).unwrap();
    assert_eq!(p.yiaddr().octets()[..3], [10, 91, 0]);
    assert_eq!(p.server_id().unwrap(), Some(Ipv4Addr::new(10, 91, 0, 1)));
    shutdown_and_log(server, &log);
}

#[test]
fn reply_delay_holds_back_the_offer_and_the_rapid_commit_ack() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::new(&[SRV, ""]);
    let conf = write_conf(
        dir.path(),
        "dhcp-range=10.77.0.100,10.77.0.150\ndhcp-reply-delay=2\ndhcp-rapid-commit",
    );
    let log = dir.path().join("server.log");
    let server = start_server(&lab.members[0], &conf, &[], &log);
    wait_log(&log, "DHCP listening on UDP 67", Duration::from_secs(10));
    // One DISCOVER each (no retransmission), timed from send to reply: the
    // OFFER (nothing to persist) and the rapid-commit ACK (through the
    // lease writer) both wait for dhcp-reply-delay.
    let waits = enter_ns(&lab.members[1].name, || {
        let s = client_socket(68);
        let mut waits = Vec::new();
        for (xid, rapid) in [(0x5151_u32, false), (0x5152, true)] {
            let mut options: Vec<(u8, &[u8])> = Vec::new();
            if rapid {
                options.push((80, &[]));
            }
            let m = Msg {
                ty: MessageType::Discover,
                xid,
                mac: [2, 0, 0, 0, 0x51, xid as u8],
                ciaddr: Ipv4Addr::UNSPECIFIED,
                broadcast: true,
                options,
            };
            let sent = std::time::Instant::now();
            s.send_to(&m.encode(), SocketAddrV4::new(Ipv4Addr::BROADCAST, 67))
                .unwrap();
            let (r, _) = recv_xid(&s, xid, Duration::from_secs(5)).expect("no reply within 5 s");
            let ty = Packet::new_checked(&r[..]).unwrap().message_type().unwrap();
            waits.push((ty, sent.elapsed()));
        }
        waits
    });
    assert_eq!(waits[0].0, Some(MessageType::Offer));
    assert_eq!(waits[1].0, Some(MessageType::Ack));
    for (ty, waited) in &waits {
        assert!(
            *waited >= Duration::from_millis(1900),
            "{ty:?} after {waited:?}, before dhcp-reply-delay"
        );
    }
    let s = shutdown_and_log(server, &log);
    assert!(s.contains("offers=1 acks=1"), "{s}");
}
