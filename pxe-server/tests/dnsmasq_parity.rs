//! Live differential of the whole server against the real dnsmasq 2.90:
//! the same configuration, the same request frames, the same order, sent
//! once to dnsmasq and once to `pxe-server`, each in a fresh pair of
//! network namespaces. For every request the replies seen on the client's
//! wire are compared: whether there is one, its delivery (Ethernet
//! destination: broadcast, the client's MAC or another; IP destination;
//! UDP port), its header (flags, ciaddr, yiaddr, siaddr, file, sname) and
//! its options in order. The few differences that remain are deliberate
//! and listed in the README ("Where pxe-server differs from dnsmasq");
//! [`deviation`] names each one, and anything else fails the test.
//!
//! Flows: DORA without the broadcast flag (PXE ROM, iPXE, a named
//! client), renew → release → renew, rebinding after the release,
//! INIT-REBOOT for an unknown lease and for a foreign network, INFORM
//! broadcast and unicast, a boot-server request broadcast to 67 by a
//! client with an address (with and without the flag), ProxyDHCP on 67
//! and 4011. Configurations: not authoritative and authoritative (both
//! with `tag:!`/`net:#` negation, vendor- and user-class matches, a PXE
//! menu on 67, options 209/210, `dhcp-host` names, `domain=`), and a
//! proxy one.
//!
//! Needs root and: ip, dnsmasq, python3.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod support;

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use pxe_dhcp::{Builder, Flags, MessageType, Packet};
use support::*;

const SRV: Ipv4Addr = Ipv4Addr::new(192, 168, 77, 1);
/// Addresses the client namespace owns (so the servers' unicasts to them
/// resolve by ARP, as they would to a running machine).
const OWNED: [Ipv4Addr; 3] = [
    Ipv4Addr::new(192, 168, 77, 150),
    Ipv4Addr::new(192, 168, 77, 152),
    Ipv4Addr::new(192, 168, 77, 170),
];
const ANY: Ipv4Addr = Ipv4Addr::UNSPECIFIED;
const BCAST: Ipv4Addr = Ipv4Addr::BROADCAST;
/// How long each request waits for its reply: both servers write the
/// lease to disk before an ACK leaves, which on a loaded machine can take
/// a while; a reply later than this would count as none.
const WINDOW: &str = "2.0";

const COMMON: &str = "dhcp-range=192.168.77.100,192.168.77.200,1h
dhcp-vendorclass=set:pxe,PXEClient
dhcp-userclass=set:ipxe,iPXE
dhcp-match=set:ipxe175,175
dhcp-boot=tag:pxe,tag:!ipxe,undionly.kpxe
dhcp-boot=tag:ipxe,http://192.168.77.1/boot.ipxe
dhcp-option=net:#ipxe175,209,pxelinux.cfg/default
dhcp-option-force=210,/tftp/
dhcp-option=tag:!pxe,42,192.168.77.42
dhcp-host=52:54:00:77:00:09,pc9
domain=lab.example
pxe-prompt=\"Boot from network\",3
pxe-service=x86PC,\"Install Linux\",pxelinux
pxe-service=x86PC,\"Local disk\",0
";

const PROXY: &str = "dhcp-range=192.168.77.0,proxy
dhcp-userclass=set:ipxe,iPXE
dhcp-boot=tag:ipxe,http://192.168.77.1/boot.ipxe,,192.168.77.1
pxe-prompt=tag:!ipxe,\"Choose\",5
pxe-service=tag:!ipxe,x86PC,\"Install Linux\",pxelinux
pxe-service=tag:!ipxe,x86-64_EFI,\"EFI\",ipxe.efi
";

/// One request frame: source and destination address and port, payload.
#[derive(Clone)]
struct Send {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    what: &'static str,
    bytes: Vec<u8>,
}

/// A DHCP request under construction.
struct Req {
    mac: [u8; 6],
    xid: u32,
    ciaddr: Ipv4Addr,
    flag: bool,
    opts: Vec<(u8, Vec<u8>)>,
}

fn mac(n: u8) -> [u8; 6] {
    [0x52, 0x54, 0, 0x77, 0, n]
}

const PRL: &[u8] = &[
    1, 3, 6, 12, 15, 28, 42, 43, 51, 54, 58, 59, 60, 66, 67, 97, 209, 210,
];

impl Req {
    fn new(n: u8, xid: u32, mt: MessageType) -> Req {
        let mut r = Req {
            mac: mac(n),
            xid,
            ciaddr: ANY,
            flag: false,
            opts: vec![],
        };
        r.opts.push((53, vec![mt_code(mt)]));
        r
    }
    fn pxe_rom(mut self) -> Req {
        self.opts.push((55, PRL.to_vec()));
        self.opts
            .push((60, b"PXEClient:Arch:00000:UNDI:002001".to_vec()));
        self.opts.push((93, vec![0, 0]));
        self.opts.push((94, vec![1, 2, 1]));
        let mut uuid = vec![0u8];
        uuid.extend_from_slice(&[0x11; 16]);
        self.opts.push((97, uuid));
        self
    }
    fn ipxe(mut self) -> Req {
        self = self.pxe_rom();
        self.opts.push((77, b"iPXE".to_vec()));
        self.opts.push((175, vec![0x13, 1, 1]));
        self
    }
    fn plain(mut self) -> Req {
        self.opts.push((55, PRL.to_vec()));
        self
    }
    fn opt(mut self, c: u8, v: &[u8]) -> Req {
        self.opts.push((c, v.to_vec()));
        self
    }
    fn ciaddr(mut self, a: Ipv4Addr) -> Req {
        self.ciaddr = a;
        self
    }
    fn flag(mut self) -> Req {
        self.flag = true;
        self
    }
    fn bytes(&self) -> Vec<u8> {
        let mut buf = [0u8; 1500];
        let mut b = Builder::new(&mut buf).unwrap();
        b.xid(self.xid).ciaddr(self.ciaddr);
        b.chaddr(1, &self.mac).unwrap();
        if self.flag {
            b.flags(Flags::BROADCAST);
        }
        for (c, v) in &self.opts {
            b.option(*c, v).unwrap();
        }
        let n = b.finish().unwrap();
        buf[..n].to_vec()
    }
    /// Broadcast from 0.0.0.0 (a client without an address).
    fn unaddressed(self, what: &'static str) -> Send {
        Send {
            src: ANY,
            dst: BCAST,
            sport: 68,
            dport: 67,
            what,
            bytes: self.bytes(),
        }
    }
    /// From `ciaddr`, broadcast.
    fn broadcast_from_ciaddr(self, what: &'static str) -> Send {
        Send {
            src: self.ciaddr,
            dst: BCAST,
            sport: 68,
            dport: 67,
            what,
            bytes: self.bytes(),
        }
    }
    /// From `ciaddr`, unicast to the server's `port`.
    fn unicast(self, port: u16, what: &'static str) -> Send {
        Send {
            src: self.ciaddr,
            dst: SRV,
            sport: if port == 4011 { 4011 } else { 68 },
            dport: port,
            what,
            bytes: self.bytes(),
        }
    }
}

fn mt_code(mt: MessageType) -> u8 {
    match mt {
        MessageType::Discover => 1,
        MessageType::Request => 3,
        MessageType::Release => 7,
        MessageType::Inform => 8,
        _ => unreachable!(),
    }
}

/// The flows of a full-DHCP configuration, in order.
fn full_flows() -> Vec<Send> {
    use MessageType::{Discover, Inform, Release, Request};
    let (a150, a160) = (OWNED[0], Ipv4Addr::new(192, 168, 77, 160));
    let sid = SRV.octets();
    let r50 = |a: Ipv4Addr| a.octets().to_vec();
    vec![
        // DORA without the broadcast flag: a PXE ROM asking for .150.
        Req::new(1, 0x7701, Discover)
            .pxe_rom()
            .opt(50, &r50(a150))
            .unaddressed("PXE ROM DISCOVER, no broadcast flag"),
        Req::new(1, 0x7701, Request)
            .pxe_rom()
            .opt(50, &r50(a150))
            .opt(54, &sid)
            .unaddressed("PXE ROM REQUEST (SELECTING), no broadcast flag"),
        // The same machine's iPXE, with the broadcast flag.
        Req::new(1, 0x7702, Discover)
            .ipxe()
            .flag()
            .unaddressed("iPXE DISCOVER, broadcast flag"),
        // A named client (option 12), no option 55: everything is sent.
        Req::new(2, 0x7703, Discover)
            .opt(12, b"web2.elsewhere")
            .opt(50, &r50(OWNED[1]))
            .unaddressed("named DISCOVER"),
        Req::new(2, 0x7703, Request)
            .opt(12, b"web2.elsewhere")
            .opt(50, &r50(OWNED[1]))
            .opt(54, &sid)
            .unaddressed("named REQUEST"),
        // The dhcp-host name.
        Req::new(9, 0x7704, Discover)
            .plain()
            .opt(50, &r50(Ipv4Addr::new(192, 168, 77, 159)))
            .unaddressed("dhcp-host DISCOVER"),
        // Renew → release → renew, then rebind.
        Req::new(1, 0x7705, Request)
            .pxe_rom()
            .ciaddr(a150)
            .unicast(67, "RENEWING"),
        Req::new(1, 0x7706, Release)
            .ciaddr(a150)
            .opt(54, &sid)
            .unicast(67, "RELEASE"),
        Req::new(1, 0x7707, Request)
            .pxe_rom()
            .ciaddr(a150)
            .unicast(67, "RENEWING after RELEASE"),
        Req::new(1, 0x7708, Request)
            .pxe_rom()
            .ciaddr(a150)
            .broadcast_from_ciaddr("REBINDING after RELEASE"),
        // INIT-REBOOT: a lease this server does not know, and a foreign
        // network.
        Req::new(3, 0x7709, Request)
            .plain()
            .opt(50, &r50(a160))
            .unaddressed("INIT-REBOOT, unknown lease"),
        Req::new(4, 0x770a, Request)
            .plain()
            .opt(50, &[10, 1, 2, 3])
            .unaddressed("INIT-REBOOT, foreign network"),
        // A renewal carrying a server id (a renewal all the same), and a
        // REQUEST naming no address at all, broadcast and unicast.
        Req::new(2, 0x7710, Request)
            .plain()
            .ciaddr(OWNED[1])
            .opt(54, &sid)
            .broadcast_from_ciaddr("REBINDING with a server id"),
        Req::new(7, 0x7711, Request)
            .plain()
            .unaddressed("REQUEST naming no address, broadcast"),
        Req::new(7, 0x7712, Request)
            .plain()
            .ciaddr(ANY)
            .unicast(67, "REQUEST naming no address, unicast"),
        // SELECTING another server.
        Req::new(8, 0x7713, Request)
            .plain()
            .opt(50, &r50(Ipv4Addr::new(192, 168, 77, 158)))
            .opt(54, &[192, 168, 77, 254])
            .unaddressed("SELECTING another server"),
        // INFORM, broadcast and unicast.
        Req::new(5, 0x770b, Inform)
            .plain()
            .ciaddr(OWNED[2])
            .broadcast_from_ciaddr("INFORM broadcast"),
        Req::new(5, 0x770c, Inform)
            .plain()
            .ciaddr(OWNED[2])
            .unicast(67, "INFORM unicast"),
        // A PXE boot-server request broadcast to 67 by a client that has
        // an address, without and with the broadcast flag.
        Req::new(6, 0x770d, Request)
            .pxe_rom()
            .ciaddr(OWNED[2])
            .opt(43, &[71, 4, 0x80, 0x00, 0, 0, 255])
            .broadcast_from_ciaddr("boot-server request on 67"),
        Req::new(6, 0x770e, Request)
            .pxe_rom()
            .ciaddr(OWNED[2])
            .flag()
            .opt(43, &[71, 4, 0x80, 0x00, 0, 0, 255])
            .broadcast_from_ciaddr("boot-server request on 67, broadcast flag"),
    ]
}

/// The flows of the proxy configuration.
fn proxy_flows() -> Vec<Send> {
    use MessageType::{Discover, Request};
    vec![
        Req::new(1, 0x7801, Discover)
            .pxe_rom()
            .unaddressed("proxy DISCOVER (PXE ROM)"),
        Req::new(1, 0x7802, Discover)
            .ipxe()
            .unaddressed("proxy DISCOVER (iPXE)"),
        Req::new(1, 0x7803, Request)
            .pxe_rom()
            .ciaddr(OWNED[2])
            .unicast(4011, "proxy REQUEST on 4011"),
        Req::new(1, 0x7804, Request)
            .pxe_rom()
            .ciaddr(OWNED[2])
            .opt(43, &[71, 4, 0x80, 0x00, 0, 0, 255])
            .unicast(4011, "boot-server request on 4011"),
    ]
}

/// The server under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Server {
    Dnsmasq,
    Ours,
}

/// One reply as the client's wire saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    eth: String,
    ip: String,
    port: u16,
    flags: u16,
    ciaddr: Ipv4Addr,
    yiaddr: Ipv4Addr,
    siaddr: Ipv4Addr,
    file: String,
    sname: String,
    options: Vec<(u8, Vec<u8>)>,
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn decode(line: &str) -> Seen {
    let f: Vec<&str> = line.split(',').collect();
    let bytes: Vec<u8> = (0..f[3].len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&f[3][i..i + 2], 16).unwrap())
        .collect();
    let p = Packet::new_checked(&bytes[..]).unwrap();
    let chaddr: String = p.chaddr()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    let eth = match f[0] {
        "ff:ff:ff:ff:ff:ff" => "broadcast".to_string(),
        e if e == chaddr => "chaddr".to_string(),
        e => format!("unicast {e}"),
    };
    let mut options = Vec::new();
    let mut i = 240;
    while i + 1 < bytes.len() && bytes[i] != 255 {
        if bytes[i] == 0 {
            i += 1;
            continue;
        }
        let l = usize::from(bytes[i + 1]);
        options.push((bytes[i], bytes[i + 2..i + 2 + l].to_vec()));
        i += 2 + l;
    }
    Seen {
        eth,
        ip: f[1].to_string(),
        port: f[2].parse().unwrap(),
        flags: p.flags().bits(),
        ciaddr: p.ciaddr(),
        yiaddr: p.yiaddr(),
        siaddr: p.siaddr(),
        file: cstr(&bytes[108..236]),
        sname: cstr(&bytes[44..108]),
        options,
    }
}

/// Runs `flows` against `server` on `conf` in fresh namespaces; one entry
/// per request: the replies seen (usually none or one).
fn run(server: Server, conf: &str, flows: &[Send], dir: &Path) -> Vec<Vec<Seen>> {
    let lab = Lab::new(&["192.168.77.1/24", "192.168.77.150/24"]);
    let (srv, cli) = (&lab.members[0], &lab.members[1]);
    for a in &OWNED[1..] {
        let cidr = format!("{a}/24");
        sh(&["ip", "-n", &cli.name, "addr", "add", &cidr, "dev", "eth0"]);
    }
    let work = dir.join(format!("{server:?}"));
    std::fs::create_dir_all(&work).unwrap();
    let conf_path = work.join("server.conf");
    let log = work.join("log");
    let leases = work.join("leases");
    let _guard = match server {
        Server::Dnsmasq => {
            std::fs::write(&conf_path, conf).unwrap();
            let child = srv
                .cmd(&[
                    "dnsmasq",
                    "--no-daemon",
                    "--port=0",
                    "--no-ping",
                    "--no-resolv",
                ])
                .args([
                    "--no-hosts",
                    "--interface=eth0",
                    "--bind-interfaces",
                    "--user=root",
                ])
                .arg(format!("--conf-file={}", conf_path.display()))
                .arg(format!("--dhcp-leasefile={}", leases.display()))
                .arg(format!("--pid-file={}", work.join("pid").display()))
                .arg("--log-dhcp")
                .arg(format!("--log-facility={}", log.display()))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let guard = ChildGuard(Some(child));
            wait_listening(srv, conf.contains("pxe-service"));
            guard
        }
        Server::Ours => {
            std::fs::write(
                &conf_path,
                format!("{conf}dhcp-leasefile={}\n", leases.display()),
            )
            .unwrap();
            let guard = start_server(srv, &conf_path, &[], &log);
            wait_log(&log, "DHCP listening on UDP 67", Duration::from_secs(10));
            wait_listening(srv, conf.contains("pxe-service"));
            guard
        }
    };
    let server_mac = String::from_utf8(srv.run(&["cat", "/sys/class/net/eth0/address"]).stdout)
        .unwrap()
        .trim()
        .to_string();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/parity/client.py");
    let mut child = cli
        .cmd(&["python3", script, "eth0", &server_mac, WINDOW])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for s in flows {
        let hex: String = s.bytes.iter().map(|b| format!("{b:02x}")).collect();
        writeln!(input, "{} {} {} {} {hex}", s.src, s.dst, s.sport, s.dport).unwrap();
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The client namespace's own MAC differs from lab to lab.
    let own = String::from_utf8(cli.run(&["cat", "/sys/class/net/eth0/address"]).stdout).unwrap();
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace(own.trim(), "client-interface");
    let _ = std::fs::copy(
        &log,
        format!("/tmp/parity-debug-{server:?}-{}.log", conf.len()),
    );
    let seen: Vec<Vec<Seen>> = text
        .lines()
        .map(|l| {
            if l == "-" {
                vec![]
            } else {
                l.split(' ').map(decode).collect()
            }
        })
        .collect();
    assert_eq!(seen.len(), flows.len(), "{server:?}: one line per request");
    seen
}

/// Waits until the server in `ns` listens on 67 (and 4011).
fn wait_listening(ns: &Netns, pxe: bool) {
    let ports: &[u16] = if pxe { &[67, 4011] } else { &[67] };
    assert!(
        ns.wait_udp_bound(ports, Duration::from_secs(10)),
        "server not listening"
    );
}

/// A documented difference between dnsmasq's reply `d` and ours `o` to
/// the request `what`, or `None` if there is none left once the
/// deliberate deviations (README) are set aside.
fn deviation(what: &str, d: &Seen, o: &Seen) -> Option<String> {
    let mut d = d.clone();
    let mut o = o.clone();
    // A unicast to the `ciaddr` of a client that has its address is
    // framed by the kernel's ARP: to the chaddr of an entry a server wrote
    // earlier, or to whoever answers ARP for it (the client namespace);
    // which one depends on entry ageing, not on the server.
    for s in [&mut d, &mut o] {
        if !s.ciaddr.is_unspecified() && s.ip == s.ciaddr.to_string() && s.eth != "broadcast" {
            s.eth = String::from("the client's (ARP)");
        }
    }
    // T1/T2 of a renewal are fuzzed by dnsmasq (a random amount less than
    // T1/8 is taken off, "to desynchronise renewals"); ours are exact.
    if what.starts_with("RENEWING") || what.starts_with("REBINDING") {
        for s in [&mut d, &mut o] {
            s.options.retain(|(c, _)| *c != 58 && *c != 59);
        }
    }
    // Deviation 1 (README): a proxy reply with a boot file and no server
    // gets our address as next server (dnsmasq sends 0.0.0.0, iPXE then
    // ignores the offer).
    if d.siaddr.is_unspecified() && o.siaddr == SRV && !o.file.is_empty() {
        o.siaddr = d.siaddr;
    }
    // Deviation 3 (README): a REQUEST naming no address is NAKed saying
    // so.
    let no_address = (56u8, b"no address requested".to_vec());
    if o.options.contains(&no_address) {
        for (c, v) in &mut d.options {
            if *c == 56 && (v == b"lease not found" || v == b"wrong network") {
                v.clone_from(&no_address.1);
            }
        }
    }
    (d != o).then(|| format!("dnsmasq: {}\nours:    {}", show(&d), show(&o)))
}

/// One line per reply: delivery, header, options as `code=hex`.
fn show(s: &Seen) -> String {
    let opts: Vec<String> = s
        .options
        .iter()
        .map(|(c, v)| {
            let text = v.iter().all(|b| b.is_ascii_graphic() || *b == b' ');
            if text && v.len() > 2 {
                format!("{c}={:?}", String::from_utf8_lossy(v))
            } else {
                format!(
                    "{c}={}",
                    v.iter().map(|b| format!("{b:02x}")).collect::<String>()
                )
            }
        })
        .collect();
    format!(
        "{} {}:{} flags={:04x} ci={} yi={} si={} file={:?} sname={:?} [{}]",
        s.eth,
        s.ip,
        s.port,
        s.flags,
        s.ciaddr,
        s.yiaddr,
        s.siaddr,
        s.file,
        s.sname,
        opts.join(" ")
    )
}

fn differential(name: &str, conf: &str, flows: &[Send]) -> usize {
    need_tool("dnsmasq");
    need_tool("python3");
    let dir = tempfile::tempdir().unwrap();
    let theirs = run(Server::Dnsmasq, conf, flows, dir.path());
    let ours = run(Server::Ours, conf, flows, dir.path());
    let mut failures = String::new();
    let mut answered = 0;
    for ((s, d), o) in flows.iter().zip(&theirs).zip(&ours) {
        match (d.as_slice(), o.as_slice()) {
            ([], []) => {}
            ([d], [o]) => {
                answered += 1;
                if let Some(diff) = deviation(s.what, d, o) {
                    writeln!(failures, "--- {name}: {}\n{diff}", s.what).unwrap();
                }
            }
            _ => writeln!(
                failures,
                "--- {name}: {}: dnsmasq sent {} replies, we sent {}\ndnsmasq: {:?}\nours:    {:?}",
                s.what,
                d.len(),
                o.len(),
                d.iter().map(show).collect::<Vec<_>>(),
                o.iter().map(show).collect::<Vec<_>>(),
            )
            .unwrap(),
        }
    }
    assert!(failures.is_empty(), "{failures}");
    answered
}

#[test]
fn full_dhcp_flows_match_dnsmasq() {
    let n = differential("not authoritative", COMMON, &full_flows());
    assert!(n >= 10, "answered {n}");
}

#[test]
fn authoritative_flows_match_dnsmasq() {
    let conf = format!("{COMMON}dhcp-authoritative\n");
    let n = differential("authoritative", &conf, &full_flows());
    assert!(n >= 12, "answered {n}");
}

#[test]
fn proxy_flows_match_dnsmasq() {
    let n = differential("proxy", PROXY, &proxy_flows());
    assert!(n >= 3, "answered {n}");
}

/// The seed's configurations (their DHCP and PXE lines; TFTP is not
/// compared here), on this lab's network.
fn seed(file: &str) -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../conf")
            .join(file),
    )
    .unwrap();
    text.lines()
        .filter(|l| !l.starts_with("enable-tftp") && !l.starts_with("tftp-root"))
        .map(|l| l.replace("192.168.2.", "192.168.77."))
        .fold(String::new(), |acc, l| acc + &l + "\n")
}

#[test]
fn seed_configurations_match_dnsmasq() {
    let n = differential("seed-real", &seed("seed-real.conf"), &full_flows());
    assert!(n >= 10, "answered {n}");
    for f in ["seed-proxy.conf", "seed-proxy-php.conf"] {
        let n = differential(f, &seed(f), &proxy_flows());
        assert!(n >= 2, "{f}: answered {n}");
    }
}
