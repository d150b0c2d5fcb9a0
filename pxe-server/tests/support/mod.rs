//! Shared helpers for the real-client tests: network namespaces joined by a
//! bridge (all torn down by Drop guards), the server process, and a
//! scripted DHCP client built on `pxe-dhcp`.
#![allow(dead_code, clippy::unwrap_used, clippy::panic, unreachable_pub)]

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pxe_dhcp::{Builder, MessageType, Packet, code};

pub mod netns;
pub use netns::*;

/// Namespaces joined by a bridge; each member has `eth0`.
pub struct Lab {
    pub switch: Netns,
    pub members: Vec<Netns>,
}

impl Lab {
    /// `addrs[i]` is the CIDR address of member i's eth0 (or "" for none).
    pub fn new(addrs: &[&str]) -> Lab {
        let switch = Netns::new("sw");
        sh(&[
            "ip",
            "-n",
            &switch.name,
            "link",
            "add",
            "br0",
            "type",
            "bridge",
        ]);
        sh(&["ip", "-n", &switch.name, "link", "set", "br0", "up"]);
        let mut members = Vec::new();
        for (i, a) in addrs.iter().enumerate() {
            let ns = Netns::new(&format!("m{i}"));
            let va = unique("va");
            let vb = unique("vb");
            sh(&[
                "ip", "link", "add", &va, "type", "veth", "peer", "name", &vb,
            ]);
            sh(&["ip", "link", "set", &va, "netns", &ns.name]);
            sh(&["ip", "link", "set", &vb, "netns", &switch.name]);
            sh(&["ip", "-n", &ns.name, "link", "set", &va, "name", "eth0"]);
            sh(&["ip", "-n", &ns.name, "link", "set", "eth0", "up"]);
            sh(&[
                "ip",
                "-n",
                &switch.name,
                "link",
                "set",
                &vb,
                "master",
                "br0",
            ]);
            sh(&["ip", "-n", &switch.name, "link", "set", &vb, "up"]);
            if !a.is_empty() {
                sh(&["ip", "-n", &ns.name, "addr", "add", a, "dev", "eth0"]);
            }
            members.push(ns);
        }
        Lab { switch, members }
    }
}

/// A child process killed (SIGKILL) and reaped on drop.
pub struct ChildGuard(pub Option<Child>);

impl ChildGuard {
    /// Send SIGTERM and wait up to `t` for it to exit; returns its status.
    pub fn terminate(&mut self, t: Duration) -> Option<std::process::ExitStatus> {
        let c = self.0.as_mut()?;
        let pid = nix::unistd::Pid::from_raw(c.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < t {
            if let Ok(Some(s)) = c.try_wait() {
                self.0 = None;
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// SIGKILL now.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Start `pxe-server --conf conf` inside `ns`, logging to `log`.
pub fn start_server(ns: &Netns, conf: &Path, extra: &[&str], log: &Path) -> ChildGuard {
    let bin = env!("CARGO_BIN_EXE_pxe-server");
    let logf = std::fs::File::create(log).unwrap();
    let mut c = ns.cmd(&[bin, "--conf", conf.to_str().unwrap()]);
    c.args(extra)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::from(logf.try_clone().unwrap()))
        .stderr(Stdio::from(logf));
    let child = c.spawn().unwrap();
    ChildGuard(Some(child))
}

/// Wait until `log` contains `needle` (or panic after `t`).
pub fn wait_log(log: &Path, needle: &str, t: Duration) -> String {
    let start = Instant::now();
    loop {
        let s = std::fs::read_to_string(log).unwrap_or_default();
        if s.contains(needle) {
            return s;
        }
        assert!(
            start.elapsed() < t,
            "timed out waiting for {needle:?} in the server log:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A UDP socket for a scripted client: bound to 0.0.0.0:`port` on eth0 with
/// SO_BROADCAST. Call inside [`Netns::enter`].
pub fn client_socket(port: u16) -> UdpSocket {
    let s = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
    .unwrap();
    s.set_reuse_address(true).unwrap();
    s.set_broadcast(true).unwrap();
    s.bind_device(Some(b"eth0")).unwrap();
    s.bind(&std::net::SocketAddr::from(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)).into())
        .unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    s.into()
}

/// Build a client message.
pub struct Msg<'a> {
    pub ty: MessageType,
    pub xid: u32,
    pub mac: [u8; 6],
    pub ciaddr: Ipv4Addr,
    pub broadcast: bool,
    pub options: Vec<(u8, &'a [u8])>,
}

impl Msg<'_> {
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = [0u8; 1500];
        let mut b = Builder::new(&mut buf).unwrap();
        b.xid(self.xid).ciaddr(self.ciaddr);
        b.chaddr(1, &self.mac).unwrap();
        if self.broadcast {
            b.flags(pxe_dhcp::Flags::BROADCAST);
        }
        b.message_type(self.ty).unwrap();
        for (c, v) in &self.options {
            b.option(*c, v).unwrap();
        }
        let n = b.finish().unwrap();
        buf[..n].to_vec()
    }
}

/// Receive replies on `s` until one with `xid` arrives (or `t` passes).
pub fn recv_xid(s: &UdpSocket, xid: u32, t: Duration) -> Option<(Vec<u8>, std::net::SocketAddr)> {
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    while start.elapsed() < t {
        if let Ok((n, from)) = s.recv_from(&mut buf)
            && let Ok(p) = Packet::new_checked(&buf[..n])
            && p.xid() == xid
            && p.op() == pxe_dhcp::Op::Reply
        {
            return Some((buf[..n].to_vec(), from));
        }
    }
    None
}

/// The message type of a reply.
pub fn msg_type(bytes: &[u8]) -> Option<MessageType> {
    Packet::new_checked(bytes).ok()?.message_type().ok()?
}

/// Option `c` of a reply.
pub fn opt(bytes: &[u8], c: u8) -> Option<Vec<u8>> {
    Packet::new_checked(bytes)
        .ok()?
        .option(c)
        .map(<[u8]>::to_vec)
}

/// One DORA exchange: returns the ACKed address.
pub fn dora(s: &UdpSocket, mac: [u8; 6], xid: u32, extra: &[(u8, &[u8])]) -> Option<Ipv4Addr> {
    dora_tries(s, mac, xid, extra, 5)
}

/// [`dora`] with `tries` attempts per step.
pub fn dora_tries(
    s: &UdpSocket,
    mac: [u8; 6],
    xid: u32,
    extra: &[(u8, &[u8])],
    tries: u32,
) -> Option<Ipv4Addr> {
    let bcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, 67);
    let mut d = Msg {
        ty: MessageType::Discover,
        xid,
        mac,
        ciaddr: Ipv4Addr::UNSPECIFIED,
        broadcast: true,
        options: extra.to_vec(),
    };
    let mut offer = None;
    for _ in 0..tries {
        s.send_to(&d.encode(), bcast).ok()?;
        if let Some((r, _)) = recv_xid(s, xid, Duration::from_millis(600)) {
            offer = Some(r);
            break;
        }
    }
    let offer = offer?;
    let p = Packet::new_checked(&offer[..]).unwrap();
    assert_eq!(p.message_type().unwrap(), Some(MessageType::Offer));
    let yi = p.yiaddr();
    let sid = p.server_id().unwrap().unwrap();
    let yo = yi.octets();
    let so = sid.octets();
    d.ty = MessageType::Request;
    d.options.push((code::REQUESTED_IP, &yo));
    d.options.push((code::SERVER_ID, &so));
    for _ in 0..tries {
        s.send_to(&d.encode(), bcast).unwrap();
        if let Some((r, _)) = recv_xid(s, xid, Duration::from_millis(600)) {
            let p = Packet::new_checked(&r[..]).unwrap();
            return match p.message_type().unwrap() {
                Some(MessageType::Ack) => Some(p.yiaddr()),
                _ => None,
            };
        }
    }
    None
}

/// dumpcap on `ns`'s eth0 for the lifetime of the guard.
pub struct Capture {
    child: ChildGuard,
    file: PathBuf,
}

impl Capture {
    pub fn start(ns: &Netns, dir: &Path, filter: &str) -> Capture {
        need_tool("dumpcap");
        let file = dir.join("cap.pcapng");
        let child = ns
            .cmd(&[
                "dumpcap",
                "-q",
                "-i",
                "eth0",
                "-f",
                filter,
                "-w",
                file.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let c = Capture {
            child: ChildGuard(Some(child)),
            file,
        };
        // dumpcap needs a moment before it captures.
        let start = std::time::Instant::now();
        while !c.file.exists() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        c
    }

    /// Stop the capture and check every packet from the server with tshark.
    /// Returns the number of server packets checked.
    pub fn check_server_replies(mut self, server: Ipv4Addr) -> usize {
        need_tool("tshark");
        std::thread::sleep(Duration::from_millis(300));
        self.child.terminate(Duration::from_secs(5));
        let f = self.file.to_str().unwrap();
        let from = format!("ip.src == {server}");
        let count = Command::new("tshark")
            .args(["-r", f, "-Y", &from, "-T", "fields", "-e", "frame.number"])
            .output()
            .unwrap();
        let n = String::from_utf8_lossy(&count.stdout).lines().count();
        let bad_filter =
            format!("({from}) && (_ws.malformed || _ws.expert.severity >= \"warning\")");
        let bad = Command::new("tshark")
            .args(["-r", f, "-Y", &bad_filter, "-V"])
            .output()
            .unwrap();
        assert!(
            bad.status.success(),
            "tshark failed: {}",
            String::from_utf8_lossy(&bad.stderr)
        );
        let text = String::from_utf8_lossy(&bad.stdout);
        assert!(
            text.trim().is_empty(),
            "tshark flags replies of the server:\n{text}"
        );
        n
    }
}
