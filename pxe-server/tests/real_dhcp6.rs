//! DHCPv6 live: the same configuration served by dnsmasq 2.90 and by
//! pxe-server on a ULA-only link (fd00:77::/64) between two network
//! namespaces, and the same client messages (the captured firmware's:
//! EDK2 PXEv6, EDK2 HTTPv6, iPXE with rapid commit, then REQUEST,
//! RENEW, CONFIRM, INFORMATION-REQUEST, RELEASE) sent to each: the
//! replies must agree option by option (server identifiers aside, and the
//! one argued deviation: option 16 "HTTPClient" for HTTP Boot). Then the
//! router advertisement installs the client's default route, and the
//! lease survives a restart of pxe-server.
//!
//! Needs root, `ip`, `dnsmasq`.

#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pxe_dhcp::ClientArch;
use pxe_dhcp::v6::{Builder, Duid, ENTERPRISE_INTEL, Message, MessageType, TransactionId, code};
use socket2::{Domain, Protocol, Socket, Type};
use support::*;

const SERVER: &str = "fd00:77::1";

const CONF: &str = "\
port=0
dhcp-authoritative
enable-ra
dhcp-range=fd00:77::100,fd00:77::1ff,64,1h
dhcp-match=set:efi64,option6:61,7
dhcp-userclass=set:ipxe,iPXE
dhcp-vendorclass=set:http,enterprise:343,HTTPClient
dhcp-option=tag:efi64,tag:!ipxe,option6:bootfile-url,tftp://[fd00:77::1]/ipxe.efi
dhcp-option=tag:http,option6:bootfile-url,http://[fd00:77::1]/ipxe.efi
dhcp-option=tag:ipxe,option6:bootfile-url,http://[fd00:77::1]/m/${mac:hexhyp}.ipxe
dhcp-option=option6:dns-server,[::],[fd00:77::53]
dhcp-option=option6:bootfile-param,a,bc
";

const UUID: [u8; 16] = [
    0x1e, 0, 0x17, 0, 0, 0x8c, 0xad, 0, 0x50, 0x87, 0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23,
];

/// One client message of a scenario.
#[derive(Clone, Debug)]
struct Client {
    duid: Vec<u8>,
    iaid: u32,
    oro: Vec<u16>,
    arch: Option<ClientArch>,
    vendor: Option<&'static [u8]>,
    user: Option<&'static [u8]>,
    rapid: bool,
}

fn edk2(arch: ClientArch, vendor: &'static [u8], iaid: u32) -> Client {
    Client {
        duid: Duid::from_uuid(UUID).to_vec(),
        iaid,
        oro: vec![59, 60, 23, 16],
        arch: Some(arch),
        vendor: Some(vendor),
        user: None,
        rapid: false,
    }
}

fn build(
    c: &Client,
    mt: MessageType,
    xid: u32,
    server: Option<&[u8]>,
    addr: Option<Ipv6Addr>,
) -> Vec<u8> {
    let mut buf = [0u8; 600];
    let mut b = Builder::new(&mut buf, mt, TransactionId::new(xid).unwrap()).unwrap();
    b.client_id(&c.duid).unwrap().elapsed_time(0).unwrap();
    if let Some(s) = server {
        b.server_id(s).unwrap();
    }
    if mt != MessageType::InformationRequest {
        b.ia_na(c.iaid, 0, 0, |ia| {
            if let Some(a) = addr {
                ia.ia_addr(a, 0, 0)?;
            }
            Ok(())
        })
        .unwrap();
    }
    if !c.oro.is_empty() {
        b.oro(&c.oro).unwrap();
    }
    if c.rapid {
        b.rapid_commit().unwrap();
    }
    if let Some(a) = c.arch {
        b.client_arch(&[a]).unwrap();
    }
    if let Some(v) = c.vendor {
        b.vendor_class(ENTERPRISE_INTEL, &[v]).unwrap();
    }
    if let Some(u) = c.user {
        b.user_class(&[u]).unwrap();
    }
    let n = b.finish().unwrap();
    buf[..n].to_vec()
}

/// A reply reduced to what both servers must agree on.
type Summary = Vec<(u16, String)>;

fn summarize(bytes: &[u8]) -> (MessageType, Summary) {
    let m = Message::new_checked(bytes).unwrap();
    let mut out = Vec::new();
    for o in m.options().flatten() {
        let v = match o.code {
            code::SERVER_ID => String::from("(server's DUID)"),
            code::IA_NA => {
                let ia = pxe_dhcp::v6::IaNa::parse(o).unwrap();
                // RENEW/REBIND answers fuzz T1 and T2 by one amount of at
                // most a sixteenth of the lease (dnsmasq at random).
                let times = if ia.t1() < 1800 && ia.t1() > 0 {
                    let f = 1800 - ia.t1();
                    assert!(
                        f <= 3600 / 16 && 3150 - ia.t2() == f,
                        "T1/T2 {} {}",
                        ia.t1(),
                        ia.t2()
                    );
                    String::from("t1/t2 fuzzed")
                } else {
                    format!("t1 {} t2 {}", ia.t1(), ia.t2())
                };
                let mut s = format!("iaid {:#x} {times}", ia.iaid());
                for a in ia.addresses().flatten() {
                    s += &format!(" [{} {} {}]", a.address(), a.preferred(), a.valid());
                }
                if let Some(st) = ia.status().unwrap() {
                    s += &format!(" status {st}");
                }
                s
            }
            _ => format!("{:02x?}", o.data),
        };
        out.push((o.code, v));
    }
    (m.msg_type(), out)
}

/// Sends `req` to ff02::1:2 on eth0 and waits for the reply with its xid.
fn ask(sock: &UdpSocket, ifindex: u32, req: &[u8]) -> Option<Vec<u8>> {
    let dest = SocketAddrV6::new("ff02::1:2".parse().unwrap(), 547, 0, ifindex);
    let xid = &req[1..4];
    let mut buf = [0u8; 1500];
    for _ in 0..3 {
        sock.send_to(req, dest).unwrap();
        let until = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < until {
            match sock.recv_from(&mut buf) {
                Ok((n, _)) if n >= 4 && &buf[1..4] == xid => return Some(buf[..n].to_vec()),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    None
}

/// Every case, in order, against whichever server answers on the link;
/// run inside the client's namespace.
fn scenario() -> Vec<(&'static str, Option<(MessageType, Summary)>)> {
    let ifindex = nix::net::if_::if_nametoindex("eth0").unwrap();
    let s = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    s.set_only_v6(true).unwrap();
    s.set_reuse_address(true).unwrap();
    s.bind(&SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, 546, 0, 0)).into())
        .unwrap();
    s.set_multicast_if_v6(ifindex).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let sock: UdpSocket = s.into();
    let mut out = Vec::new();
    let mut run = |name, req: Vec<u8>| -> Option<Vec<u8>> {
        let r = ask(&sock, ifindex, &req);
        out.push((name, r.as_deref().map(summarize)));
        r
    };
    let pxe_first = Client {
        oro: vec![23],
        arch: None,
        vendor: None,
        ..edk2(ClientArch::X64_UEFI, b"", 0xef81f57f)
    };
    run(
        "EDK2 first SOLICIT (ORO 23)",
        build(&pxe_first, MessageType::Solicit, 0x779fd4, None, None),
    );
    let pxe = edk2(
        ClientArch::X64_UEFI,
        b"PXEClient:Arch:00007:UNDI:003000",
        0xef9afdf7,
    );
    let adv = run(
        "EDK2 PXEv6 SOLICIT",
        build(&pxe, MessageType::Solicit, 0x799fd4, None, None),
    );
    let adv = adv.map(|b| {
        let m = Message::new_checked(&b[..]).unwrap();
        let sid = m.server_id().unwrap().unwrap().as_bytes().to_vec();
        let addr = m
            .ia_na()
            .unwrap()
            .unwrap()
            .address()
            .unwrap()
            .unwrap()
            .address();
        (sid, addr)
    });
    if let Some((sid, addr)) = &adv {
        run(
            "EDK2 PXEv6 REQUEST",
            build(&pxe, MessageType::Request, 0x7a9fd4, Some(sid), Some(*addr)),
        );
        run(
            "EDK2 PXEv6 RENEW",
            build(&pxe, MessageType::Renew, 0x7a9fd5, Some(sid), Some(*addr)),
        );
        run(
            "CONFIRM on link",
            build(&pxe, MessageType::Confirm, 0x7a9fd6, None, Some(*addr)),
        );
    }
    let http = edk2(
        ClientArch::X64_UEFI_HTTP,
        b"HTTPClient:Arch:00016:UNDI:003000",
        0xeab96c74,
    );
    run(
        "EDK2 HTTPv6 SOLICIT",
        build(&http, MessageType::Solicit, 0x8222e1, None, None),
    );
    let mut smbios = UUID;
    smbios[..8].copy_from_slice(&[0, 0x17, 0, 0x1e, 0x8c, 0, 0, 0xad]);
    let ipxe = Client {
        duid: Duid::from_uuid(smbios).to_vec(),
        iaid: 0x0f36c07a,
        oro: vec![23, 24, 59, 60],
        user: Some(b"iPXE"),
        vendor: Some(b"PXEClient:Arch:00007:UNDI:003010"),
        rapid: true,
        ..pxe.clone()
    };
    run(
        "iPXE rapid-commit SOLICIT",
        build(&ipxe, MessageType::Solicit, 0xf90459, None, None),
    );
    run(
        "INFORMATION-REQUEST",
        build(&pxe, MessageType::InformationRequest, 0x123456, None, None),
    );
    if let Some((sid, addr)) = &adv {
        run(
            "EDK2 PXEv6 RELEASE",
            build(&pxe, MessageType::Release, 0x7b9fd4, Some(sid), Some(*addr)),
        );
    }
    out
}

/// The link: server and client namespaces, no DAD (addresses usable at once).
fn link(lab: &Lab) {
    for ns in &lab.members {
        sh(&[
            "ip",
            "netns",
            "exec",
            &ns.name,
            "sysctl",
            "-qw",
            "net.ipv6.conf.all.accept_dad=0",
        ]);
        sh(&[
            "ip",
            "netns",
            "exec",
            &ns.name,
            "sysctl",
            "-qw",
            "net.ipv6.conf.eth0.accept_dad=0",
        ]);
        sh(&["ip", "-n", &ns.name, "link", "set", "eth0", "down"]);
        sh(&["ip", "-n", &ns.name, "link", "set", "eth0", "up"]);
    }
    sh(&[
        "ip",
        "-n",
        &lab.members[0].name,
        "addr",
        "add",
        &format!("{SERVER}/64"),
        "dev",
        "eth0",
        "nodad",
    ]);
    std::thread::sleep(Duration::from_millis(300));
}

fn wait_udp_547(ns: &Netns) {
    assert!(
        ns.wait_udp_bound(&[547], Duration::from_secs(10)),
        "nothing listens on UDP 547:\n{}",
        String::from_utf8_lossy(&ns.run(&["ss", "-Hlun"]).stdout)
    );
}

fn start_dnsmasq(ns: &Netns, dir: &Path) -> ChildGuard {
    need_tool("dnsmasq");
    let conf = dir.join("dnsmasq.conf");
    std::fs::write(&conf, CONF).unwrap();
    let child = ns
        .cmd(&[
            "dnsmasq",
            "--no-daemon",
            "--no-resolv",
            "--no-hosts",
            "--interface=eth0",
            "--bind-interfaces",
        ])
        .arg(format!("--conf-file={}", conf.display()))
        .arg(format!(
            "--dhcp-leasefile={}",
            dir.join("dnsmasq.leases").display()
        ))
        .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()))
        .arg("--user=root")
        .arg("--log-dhcp")
        .arg(format!(
            "--log-facility={}",
            dir.join("dnsmasq.log").display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    ChildGuard(Some(child))
}

fn default_route(ns: &Netns) -> String {
    String::from_utf8_lossy(&ns.run(&["ip", "-6", "route", "show", "default"]).stdout).to_string()
}

#[test]
fn dhcpv6_agrees_with_dnsmasq_and_serves_a_ula_link() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::new(&["", ""]);
    link(&lab);
    let (srv, cli) = (&lab.members[0], &lab.members[1]);

    // dnsmasq first.
    let mut dnsmasq = start_dnsmasq(srv, dir.path());
    wait_udp_547(srv);
    let theirs = cli.enter(scenario);
    dnsmasq.terminate(Duration::from_secs(5));
    let dlog = std::fs::read_to_string(dir.path().join("dnsmasq.log")).unwrap_or_default();

    // Then pxe-server on the same link, with the same lines.
    Command::new("ip")
        .args(["-n", &cli.name, "-6", "route", "flush", "proto", "ra"])
        .output()
        .unwrap();
    let conf = dir.path().join("pxe.conf");
    let leases = dir.path().join("pxe.leases");
    std::fs::write(
        &conf,
        format!("{CONF}dhcp-leasefile={}\n", leases.display()),
    )
    .unwrap();
    let log = dir.path().join("server.log");
    let mut server = start_server(srv, &conf, &[], &log);
    wait_log(&log, "DHCPv6 listening on UDP 547", Duration::from_secs(10));
    let ours = cli.enter(scenario);
    let slog = std::fs::read_to_string(&log).unwrap();

    assert_eq!(theirs.len(), ours.len(), "dnsmasq:\n{dlog}\nours:\n{slog}");
    let mut deviations = Vec::new();
    for ((name, t), (_, o)) in theirs.iter().zip(&ours) {
        let t = t
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: dnsmasq did not answer\n{dlog}"));
        let o = o
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: pxe-server did not answer\n{slog}"));
        if name.starts_with("EDK2 HTTPv6") {
            // The argued deviation: option 16 "HTTPClient" (enterprise
            // 343) added for HTTP Boot, which EDK2 needs in the same
            // ADVERTISE and dnsmasq sends only when configured.
            let extra: Vec<_> = o.1.iter().filter(|x| !t.1.contains(x)).collect();
            assert_eq!(extra.len(), 1, "{name}: {o:?} vs {t:?}");
            assert_eq!(extra[0].0, code::VENDOR_CLASS);
            let without: Summary =
                o.1.iter()
                    .filter(|x| x.0 != code::VENDOR_CLASS)
                    .cloned()
                    .collect();
            assert_eq!((o.0, &without), (t.0, &t.1), "{name}");
            deviations.push(*name);
            continue;
        }
        assert_eq!(
            o, t,
            "{name}: ours (left) and dnsmasq's (right) differ\n--- dnsmasq log\n{dlog}"
        );
    }
    assert_eq!(deviations, ["EDK2 HTTPv6 SOLICIT"]);

    // The router advertisement installs the client's default route.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !default_route(cli).contains("via fe80::") {
        assert!(
            Instant::now() < deadline,
            "no default route from our RA:\n{}\n{slog}",
            default_route(cli)
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // A lease in the log survives a restart: the client's RENEW after it
    // is answered with the same address.
    let pxe = edk2(
        ClientArch::X64_UEFI,
        b"PXEClient:Arch:00007:UNDI:003000",
        0x1234,
    );
    let (sid, addr) = cli.enter(move || {
        let ifindex = nix::net::if_::if_nametoindex("eth0").unwrap();
        let s = UdpSocket::bind("[::]:546").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let sock2 = socket2::SockRef::from(&s);
        sock2.set_multicast_if_v6(ifindex).unwrap();
        let rep = ask(
            &s,
            ifindex,
            &build(&pxe, MessageType::Solicit, 0x55, None, None),
        )
        .unwrap();
        let m = Message::new_checked(&rep[..]).unwrap();
        let sid = m.server_id().unwrap().unwrap().as_bytes().to_vec();
        let addr = m
            .ia_na()
            .unwrap()
            .unwrap()
            .address()
            .unwrap()
            .unwrap()
            .address();
        ask(
            &s,
            ifindex,
            &build(&pxe, MessageType::Request, 0x56, Some(&sid), Some(addr)),
        )
        .unwrap();
        (sid, addr)
    });
    server.terminate(Duration::from_secs(5));
    let mut server = start_server(srv, &conf, &[], &log);
    wait_log(&log, "DHCPv6 listening on UDP 547", Duration::from_secs(10));
    let pxe = edk2(
        ClientArch::X64_UEFI,
        b"PXEClient:Arch:00007:UNDI:003000",
        0x1234,
    );
    let renewed = cli.enter(move || {
        let ifindex = nix::net::if_::if_nametoindex("eth0").unwrap();
        let s = UdpSocket::bind("[::]:546").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        socket2::SockRef::from(&s)
            .set_multicast_if_v6(ifindex)
            .unwrap();
        let other = Client {
            duid: vec![0, 3, 0, 1, 2, 0, 0, 0, 0, 9],
            ..pxe.clone()
        };
        // Another client first: it must not get the leased address.
        let rep = ask(
            &s,
            ifindex,
            &build(&other, MessageType::Solicit, 0x57, None, None),
        )
        .unwrap();
        let m = Message::new_checked(&rep[..]).unwrap();
        let other_addr = m
            .ia_na()
            .unwrap()
            .unwrap()
            .address()
            .unwrap()
            .map(|a| a.address());
        let rep = ask(
            &s,
            ifindex,
            &build(&pxe, MessageType::Renew, 0x58, Some(&sid), Some(addr)),
        )
        .unwrap();
        let m = Message::new_checked(&rep[..]).unwrap();
        let a = m.ia_na().unwrap().unwrap().address().unwrap().unwrap();
        (other_addr, a.address(), a.valid())
    });
    assert_ne!(
        renewed.0,
        Some(addr),
        "a leased address went to another client"
    );
    assert_eq!((renewed.1, renewed.2), (addr, 3600), "RENEW after restart");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("DHCPRENEW(eth0)"), "{text}");
    server.terminate(Duration::from_secs(5));
}

/// TFTP and HTTP on a ULA-only link: `tftp://[fd00:77::1]/…` with EDK2's
/// blksize 1228 and `http://[fd00:77::1]:port/…` from curl; the same HTTP
/// port still serves IPv4 (one dual-stack listener), its clients logged
/// by their IPv4 address.
#[test]
fn tftp_and_http_over_ipv6() {
    need_tool("curl");
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::new(&["10.77.6.1/24", "10.77.6.2/24"]);
    link(&lab);
    let (srv, cli) = (&lab.members[0], &lab.members[1]);
    // The address a DHCPv6 REPLY would have given the client.
    sh(&[
        "ip",
        "-n",
        &cli.name,
        "addr",
        "add",
        "fd00:77::150/64",
        "dev",
        "eth0",
        "nodad",
    ]);
    let (tftp, http) = (dir.path().join("tftp"), dir.path().join("http"));
    std::fs::create_dir_all(&tftp).unwrap();
    std::fs::create_dir_all(&http).unwrap();
    let efi: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    std::fs::write(tftp.join("ipxe.efi"), &efi).unwrap();
    std::fs::write(http.join("hello.txt"), "#!ipxe\necho over IPv6\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    for p in [tftp.join("ipxe.efi"), http.join("hello.txt")] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let conf = dir.path().join("pxe.conf");
    std::fs::write(
        &conf,
        format!(
            "enable-tftp\ntftp-root={}\nhttp-port=8081\nhttp-root={}\ndhcp-leasefile={}\n",
            tftp.display(),
            http.display(),
            dir.path().join("leases").display()
        ),
    )
    .unwrap();
    let log = dir.path().join("server.log");
    let _server = start_server(srv, &conf, &[], &log);
    wait_log(&log, "HTTP on 0.0.0.0:8081", Duration::from_secs(10));
    let curl = |args: &[&str]| {
        let out = cli
            .cmd(&["timeout", "20", "curl", "-gsS"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "curl {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        out.stdout
    };
    let got = curl(&["--tftp-blksize", "1228", "tftp://[fd00:77::1]/ipxe.efi"]);
    assert!(
        got == efi,
        "TFTP over IPv6: {} bytes, want {}",
        got.len(),
        efi.len()
    );
    let got = curl(&["http://[fd00:77::1]:8081/hello.txt"]);
    assert_eq!(got, b"#!ipxe\necho over IPv6\n");
    let got = curl(&["http://10.77.6.1:8081/hello.txt"]);
    assert_eq!(got, b"#!ipxe\necho over IPv6\n");
    let got = curl(&["tftp://10.77.6.1/ipxe.efi"]);
    assert!(got == efi, "TFTP over IPv4");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("TFTP sent") && text.contains("[fd00:77::"),
        "{text}"
    );
    assert!(
        !text.contains("::ffff:10.77.6.2"),
        "an IPv4 client logged as mapped:\n{text}"
    );
    assert!(text.contains("10.77.6.2"), "{text}");
}
