//! Live reload under load: while a scripted client runs DHCP exchanges
//! without pause and curl downloads a large file over TFTP, the
//! configuration changes and the server gets SIGHUP. Every exchange is
//! answered (no retry allowed), every reply parses (and tshark flags none
//! on the wire), the replies switch from the old rules to the new once
//! and for good and never mix them, the download started before the
//! reload completes byte for byte, new TFTP requests come from the new
//! root, leases survive; then a broken file is refused and the last good
//! configuration keeps serving.
//!
//! Needs root and: ip, curl, dumpcap, tshark.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod support;

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pxe_dhcp::{MessageType, Packet, code};
use support::*;

const SRV_IP: Ipv4Addr = Ipv4Addr::new(10, 83, 0, 1);
/// Distinct clients the load cycles through (fewer than the range holds).
const CLIENTS: u8 = 20;

/// One configuration generation: boot file and option 209 say which.
fn conf_text(dir: &Path, generation: &str, root: &Path) -> String {
    format!(
        "dhcp-range=10.83.0.100,10.83.0.200,10m\n\
         dhcp-boot={generation}.0\n\
         dhcp-option-force=209,{generation}.cfg\n\
         enable-tftp\n\
         tftp-root={}\n\
         dhcp-leasefile={}\n",
        root.display(),
        dir.join("leases").display()
    )
}

/// What one DHCP reply said.
#[derive(Debug)]
struct Answer {
    sent: Instant,
    received: Instant,
    file: String,
    cfg: String,
}

/// What went wrong with an exchange (read through `Debug`, in the
/// failure message).
#[derive(Debug)]
#[allow(dead_code)]
enum Fault {
    Lost(&'static str, u32),
    Malformed(u32, String),
    WrongType(u32, Option<MessageType>),
}

/// Waits for the reply to `xid`; anything from the server that does not
/// parse is a fault, not skipped.
fn reply(s: &UdpSocket, xid: u32, want: MessageType) -> Result<Vec<u8>, Fault> {
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    while start.elapsed() < Duration::from_secs(2) {
        let Ok((n, _)) = s.recv_from(&mut buf) else {
            continue;
        };
        let p = match Packet::new_checked(&buf[..n]) {
            Ok(p) => p,
            Err(e) => return Err(Fault::Malformed(xid, e.to_string())),
        };
        if p.xid() != xid || p.op() != pxe_dhcp::Op::Reply {
            continue;
        }
        let t = p
            .message_type()
            .map_err(|e| Fault::Malformed(xid, e.to_string()))?;
        if t != Some(want) {
            return Err(Fault::WrongType(xid, t));
        }
        return Ok(buf[..n].to_vec());
    }
    Err(Fault::Lost(
        if want == MessageType::Offer {
            "OFFER"
        } else {
            "ACK"
        },
        xid,
    ))
}

fn text_of(bytes: &[u8], c: Option<u8>) -> String {
    let p = Packet::new_checked(bytes).unwrap();
    let raw = match c {
        Some(c) => p.option(c).map(<[u8]>::to_vec),
        None => p.boot_file_name().map(<[u8]>::to_vec),
    };
    String::from_utf8_lossy(&raw.unwrap_or_default()).into_owned()
}

/// DORA exchanges, one after the other, until `stop`: the OFFER and the
/// ACK of each recorded.
fn load(stop: Arc<AtomicBool>) -> (Vec<Answer>, Vec<Fault>) {
    let s = client_socket(68);
    let bcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, 67);
    let prl: Vec<u8> = vec![1, 3, 6, 43, 60, 66, 67, 209];
    let (mut answers, mut faults) = (Vec::new(), Vec::new());
    let mut xid = 0x5000_0000u32;
    while !stop.load(Ordering::Relaxed) && faults.is_empty() {
        xid += 1;
        let mac = [0x52, 0x54, 0, 0x83, 0, (xid % u32::from(CLIENTS)) as u8];
        let mut m = Msg {
            ty: MessageType::Discover,
            xid,
            mac,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            broadcast: true,
            options: vec![(code::PARAMETER_REQUEST_LIST, &prl[..])],
        };
        let sent = Instant::now();
        s.send_to(&m.encode(), bcast).unwrap();
        let offer = match reply(&s, xid, MessageType::Offer) {
            Ok(o) => o,
            Err(f) => {
                faults.push(f);
                break;
            }
        };
        answers.push(Answer {
            sent,
            received: Instant::now(),
            file: text_of(&offer, None),
            cfg: text_of(&offer, Some(209)),
        });
        let p = Packet::new_checked(&offer[..]).unwrap();
        let yi = p.yiaddr().octets();
        let sid = p.server_id().unwrap().unwrap().octets();
        m.ty = MessageType::Request;
        m.options.push((code::REQUESTED_IP, &yi));
        m.options.push((code::SERVER_ID, &sid));
        let sent = Instant::now();
        s.send_to(&m.encode(), bcast).unwrap();
        match reply(&s, xid, MessageType::Ack) {
            Ok(ack) => answers.push(Answer {
                sent,
                received: Instant::now(),
                file: text_of(&ack, None),
                cfg: text_of(&ack, Some(209)),
            }),
            Err(f) => faults.push(f),
        }
    }
    (answers, faults)
}

fn signal(server: &ChildGuard, sig: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(server.0.as_ref().unwrap().id() as i32);
    nix::sys::signal::kill(pid, sig).unwrap();
}

/// Occurrences of `needle` in the server log.
fn count_in_log(log: &Path, needle: &str) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .matches(needle)
        .count()
}

/// A TFTP download with curl from the client namespace.
fn fetch(ns: &Netns, name: &str, to: &Path) -> std::process::Output {
    ns.cmd(&["timeout", "120", "curl", "-sS", "-o", to.to_str().unwrap()])
        .arg(format!("tftp://{SRV_IP}/{name}"))
        .output()
        .unwrap()
}

#[test]
fn reload_under_dhcp_and_tftp_load_loses_nothing_and_switches_at_once() {
    need_tool("curl");
    let dir = tempfile::tempdir().unwrap();
    let (root1, root2) = (dir.path().join("root1"), dir.path().join("root2"));
    std::fs::create_dir_all(&root1).unwrap();
    std::fs::create_dir_all(&root2).unwrap();
    // 32 MiB in 512-byte lock-step blocks (curl's --limit-rate does not
    // apply to TFTP): seconds of transfer, so the reload comes mid-way
    // however fast or loaded the machine.
    let big: Vec<u8> = (0..32u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    std::fs::write(root1.join("big.bin"), &big).unwrap();
    std::fs::write(root1.join("which.txt"), b"root1\n").unwrap();
    std::fs::write(root2.join("which.txt"), b"root2\n").unwrap();
    let conf = dir.path().join("pxe.conf");
    std::fs::write(&conf, conf_text(dir.path(), "old", &root1)).unwrap();

    let lab = Lab::new(&["10.83.0.1/24", "10.83.0.2/24"]);
    let log = dir.path().join("server.log");
    let mut server = start_server(&lab.members[0], &conf, &[], &log);
    wait_log(&log, "serving: ", Duration::from_secs(15));
    let cap = Capture::start(&lab.members[0], dir.path(), "udp port 67 or udp port 68");

    // The download, started before the reload.
    let got = dir.path().join("got.bin");
    let download = {
        let ns = lab.members[1].name.clone();
        let got = got.clone();
        std::thread::spawn(move || {
            std::process::Command::new("ip")
                .args(["netns", "exec", &ns, "timeout", "120", "curl", "-sS"])
                .args(["--tftp-blksize", "512", "-o"])
                .arg(&got)
                .arg(format!("tftp://{SRV_IP}/big.bin"))
                .output()
                .unwrap()
        })
    };
    let started = Instant::now();
    while std::fs::metadata(&got).map_or(0, |m| m.len()) < 64 * 1024 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the download did not start"
        );
        std::thread::sleep(Duration::from_millis(5));
    }

    // DHCP load through the reload.
    let stop = Arc::new(AtomicBool::new(false));
    let load_thread = {
        let stop = stop.clone();
        lab.members[1].spawn(move || load(stop))
    };
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&conf, conf_text(dir.path(), "new", &root2)).unwrap();
    let hup = Instant::now();
    signal(&server, nix::sys::signal::Signal::SIGHUP);
    let at_reload = std::fs::metadata(&got).map_or(0, |m| m.len());
    wait_log(&log, "reloaded ", Duration::from_secs(10));
    let reloaded = Instant::now();
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let (answers, faults) = load_thread.join().unwrap();

    // Nothing lost or malformed, and enough traffic on both sides.
    assert!(faults.is_empty(), "faults during the reload: {faults:?}");
    let before = answers.iter().filter(|a| a.sent < hup).count();
    let after = answers.iter().filter(|a| a.sent > reloaded).count();
    assert!(
        before >= 20 && after >= 20,
        "too little load around the reload: {before} before, {after} after"
    );
    // Each reply wholly old or wholly new; old ones only before the
    // switch, new ones from the first packet after it.
    for a in &answers {
        assert!(
            (a.file == "old.0" && a.cfg == "old.cfg") || (a.file == "new.0" && a.cfg == "new.cfg"),
            "a reply mixing configurations: {a:?}"
        );
    }
    let first_new = answers
        .iter()
        .position(|a| a.file == "new.0")
        .expect("no reply by the new configuration");
    assert!(
        answers[first_new..].iter().all(|a| a.file == "new.0"),
        "an old reply after a new one"
    );
    assert!(answers[..first_new].iter().all(|a| a.sent < reloaded));
    // Answered before the signal went out: by the old rules. (A request
    // merely sent before it may still sit in the socket when the new rules
    // take over, and is rightly answered by them.)
    assert!(
        answers
            .iter()
            .filter(|a| a.received < hup)
            .all(|a| a.file == "old.0"),
        "a reply received before SIGHUP by the new rules"
    );
    assert!(
        answers
            .iter()
            .filter(|a| a.sent > reloaded)
            .all(|a| a.file == "new.0"),
        "a packet after the reload answered by the old rules"
    );

    // The download that was running finishes byte for byte.
    assert!(
        (at_reload as usize) < big.len(),
        "the download had ended before the reload; the test proves nothing"
    );
    let out = download.join().unwrap();
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read(&got).unwrap() == big, "the download differs");
    // New requests come from the new root.
    let which = dir.path().join("which.txt");
    let out = fetch(&lab.members[1], "which.txt", &which);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&which).unwrap(), "root2\n");

    // A broken file: refused with its position, the last good one serves.
    std::fs::write(
        &conf,
        format!(
            "{}dhcp-bootx=broken.0\n",
            conf_text(dir.path(), "broken", &root1)
        ),
    )
    .unwrap();
    signal(&server, nix::sys::signal::Signal::SIGHUP);
    let s = wait_log(&log, "reload failed", Duration::from_secs(10));
    assert!(
        s.contains(&format!("{}:7:1:", conf.display())) && s.contains("(1 so far)"),
        "{s}"
    );
    let answers = lab.members[1].enter({
        let stop = Arc::new(AtomicBool::new(false));
        move || {
            let t = stop.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                t.store(true, Ordering::Relaxed);
            });
            load(stop)
        }
    });
    assert!(answers.1.is_empty(), "{:?}", answers.1);
    assert!(!answers.0.is_empty());
    assert!(
        answers
            .0
            .iter()
            .all(|a| a.file == "new.0" && a.cfg == "new.cfg"),
        "the broken file changed what is served"
    );
    let out = fetch(&lab.members[1], "which.txt", &which);
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&which).unwrap(), "root2\n");
    assert_eq!(count_in_log(&log, "reloaded "), 1);

    let n = cap.check_server_replies(SRV_IP);
    assert!(n >= 80, "only {n} server replies captured");
    let st = server.terminate(Duration::from_secs(10));
    assert!(st.is_some_and(|s| s.success()), "{st:?}");
    // Leases survived the reload: every client holds one.
    let leases = std::fs::read_to_string(dir.path().join("leases")).unwrap();
    assert_eq!(
        leases.lines().count(),
        usize::from(CLIENTS),
        "leases after the reload:\n{leases}"
    );
}
