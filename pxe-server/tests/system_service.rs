//! `pxe-server` as a system service: the systemd notification protocol as
//! a service manager sees it (a datagram socket named by `NOTIFY_SOCKET`),
//! and the server switched to an unprivileged user (`user=nobody`) still
//! serving DHCP to busybox udhcpc and TFTP to curl, in network namespaces
//! the tests create.
//!
//! Needs root and: ip, ss, busybox, curl.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// A service manager's end of the notification protocol.
struct Manager {
    sock: UnixDatagram,
    path: PathBuf,
}

impl Manager {
    fn new(dir: &Path) -> Manager {
        let path = dir.join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        // The server may have switched to another user by the time it
        // writes (as systemd's own socket, it is writable by all).
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
        Manager { sock, path }
    }

    /// The next message, or panic after `t`.
    fn next(&self, t: Duration) -> String {
        self.sock.set_read_timeout(Some(t)).unwrap();
        let mut buf = [0u8; 4096];
        let n = self
            .sock
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("no notification within {t:?}: {e}"));
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    /// The next message that is not a bare `WATCHDOG=1`.
    fn next_state(&self, t: Duration) -> String {
        let start = Instant::now();
        loop {
            let m = self.next(
                t.saturating_sub(start.elapsed())
                    .max(Duration::from_millis(1)),
            );
            if m != "WATCHDOG=1\n" {
                return m;
            }
        }
    }
}

fn lines(msg: &str) -> Vec<&str> {
    msg.lines().collect()
}

/// The UDP and TCP ports bound in `ns`.
fn bound_ports(ns: &Netns) -> Vec<u16> {
    let mut ports = ns.bound_ports(true);
    ports.extend(ns.bound_ports(false));
    ports.sort_unstable();
    ports.dedup();
    ports
}

fn signal(server: &ChildGuard, sig: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(server.0.as_ref().unwrap().id() as i32);
    nix::sys::signal::kill(pid, sig).unwrap();
}

/// A directory others may enter (temporary directories are 0700), so a
/// server running as `nobody` can reach what is inside.
fn open_dir(p: &Path, mode: u32) {
    std::fs::create_dir_all(p).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn notify_ready_after_every_socket_watchdog_reload_and_stopping() {
    need_tool("ss");
    let dir = tempfile::tempdir().unwrap();
    open_dir(dir.path(), 0o755);
    let tftp = dir.path().join("tftp");
    open_dir(&tftp, 0o755);
    let conf = dir.path().join("pxe.conf");
    let body = format!(
        "dhcp-range=10.81.0.100,10.81.0.150\npxe-service=x86PC,\"boot\",pxelinux\nenable-tftp\ntftp-root={}\nhttp-port=8081\ndhcp-leasefile={}\n",
        tftp.display(),
        dir.path().join("leases").display()
    );
    std::fs::write(&conf, &body).unwrap();
    let ns = Netns::new("nt");
    let manager = Manager::new(dir.path());
    let log = dir.path().join("server.log");
    let logf = std::fs::File::create(&log).unwrap();
    let server = ChildGuard(Some(
        ns.cmd(&[
            env!("CARGO_BIN_EXE_pxe-server"),
            "--conf",
            conf.to_str().unwrap(),
        ])
        .env("NOTIFY_SOCKET", &manager.path)
        .env("WATCHDOG_USEC", "300000")
        .stdout(Stdio::from(logf.try_clone().unwrap()))
        .stderr(Stdio::from(logf))
        .spawn()
        .unwrap(),
    ));
    let mut server = server;

    // READY=1 comes first, with the summary, and only once DHCP (67), the
    // PXE boot server (4011), TFTP (69) and HTTP (8081) are bound.
    let ready = manager.next(Duration::from_secs(15));
    let ports = bound_ports(&ns);
    let l = lines(&ready);
    assert_eq!(l.first(), Some(&"READY=1"), "{ready}");
    let status = l
        .iter()
        .find_map(|x| x.strip_prefix("STATUS="))
        .unwrap_or_else(|| panic!("no STATUS= in {ready:?}"));
    assert_eq!(
        status,
        format!(
            "DHCP 10.81.0.100-10.81.0.150; PXE 4011; TFTP {}; HTTP 8081; 0 leases",
            tftp.display()
        )
    );
    for p in [67, 69, 4011, 8081] {
        assert!(
            ports.contains(&p),
            "port {p} not bound at READY=1: {ports:?}"
        );
    }

    // WATCHDOG_USEC=300000: a keep-alive every 150 ms.
    let start = Instant::now();
    for _ in 0..3 {
        assert_eq!(manager.next(Duration::from_secs(2)), "WATCHDOG=1\n");
    }
    assert!(start.elapsed() < Duration::from_secs(2));

    // SIGHUP: RELOADING=1 (with MONOTONIC_USEC=), then READY=1 with the
    // new configuration's summary.
    std::fs::write(&conf, body.replace("10.81.0.150", "10.81.0.160")).unwrap();
    signal(&server, nix::sys::signal::Signal::SIGHUP);
    let reloading = manager.next_state(Duration::from_secs(10));
    let l = lines(&reloading);
    assert_eq!(l.first(), Some(&"RELOADING=1"), "{reloading}");
    assert!(
        l.iter().any(|x| x.starts_with("MONOTONIC_USEC=")),
        "{reloading}"
    );
    let ready = manager.next_state(Duration::from_secs(10));
    let l = lines(&ready);
    assert_eq!(l.first(), Some(&"READY=1"), "{ready}");
    assert!(
        l.iter()
            .any(|x| x.starts_with("STATUS=DHCP 10.81.0.100-10.81.0.160;")),
        "{ready}"
    );

    // A broken file: RELOADING=1, then READY=1 saying the old one serves.
    std::fs::write(&conf, format!("{body}dhcp-bootx=nothing\n")).unwrap();
    signal(&server, nix::sys::signal::Signal::SIGHUP);
    let reloading = manager.next_state(Duration::from_secs(10));
    assert_eq!(
        lines(&reloading).first(),
        Some(&"RELOADING=1"),
        "{reloading}"
    );
    let ready = manager.next_state(Duration::from_secs(10));
    let l = lines(&ready);
    assert_eq!(l.first(), Some(&"READY=1"), "{ready}");
    let status = l.iter().find_map(|x| x.strip_prefix("STATUS=")).unwrap();
    assert!(
        status.starts_with("reload failed (1 so far), previous configuration serving: ")
            && status.contains(&format!("{}:7:1:", conf.display())),
        "{status}"
    );

    // SIGTERM: STOPPING=1, then a clean exit.
    signal(&server, nix::sys::signal::Signal::SIGTERM);
    let stopping = manager.next_state(Duration::from_secs(10));
    assert_eq!(lines(&stopping).first(), Some(&"STOPPING=1"), "{stopping}");
    let st = server.terminate(Duration::from_secs(10));
    assert!(st.is_some_and(|s| s.success()), "{st:?}");
}

/// `CAP_NET_BIND_SERVICE` (10), `CAP_NET_ADMIN` (12) and `CAP_NET_RAW` (13).
const KEPT_CAPS: u64 = (1 << 10) | (1 << 12) | (1 << 13);

/// The `Uid:`, `Gid:` and capability lines of `/proc/PID/status`.
fn proc_status(pid: u32) -> (String, String, u64, u64, u64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {s}"))
            .trim()
            .to_string()
    };
    let caps = |name: &str| u64::from_str_radix(&field(name), 16).unwrap();
    (
        field("Uid:"),
        field("Gid:"),
        caps("CapEff:"),
        caps("CapPrm:"),
        caps("CapBnd:"),
    )
}

#[test]
fn as_nobody_with_three_capabilities_it_serves_dhcp_and_tftp() {
    need_tool("busybox");
    need_tool("curl");
    let dir = tempfile::tempdir().unwrap();
    open_dir(dir.path(), 0o755);
    let tftp = dir.path().join("tftp");
    open_dir(&tftp, 0o755);
    let boot: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    std::fs::write(tftp.join("boot.bin"), &boot).unwrap();
    // A file only root may read: as nobody the server cannot serve it.
    std::fs::write(tftp.join("private.bin"), b"root only").unwrap();
    std::fs::set_permissions(
        tftp.join("private.bin"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    // The lease state directory belongs to the user, as systemd's
    // StateDirectory= makes it.
    let state = dir.path().join("state");
    open_dir(&state, 0o755);
    nix::unistd::chown(
        &state,
        Some(nix::unistd::Uid::from_raw(65534)),
        Some(nix::unistd::Gid::from_raw(65534)),
    )
    .unwrap();
    let conf = dir.path().join("pxe.conf");
    std::fs::write(
        &conf,
        format!(
            "user=nobody\ndhcp-range=10.82.0.100,10.82.0.150,10m\ndhcp-boot=boot.bin\nenable-tftp\ntftp-root={}\ndhcp-leasefile={}\n",
            tftp.display(),
            state.join("pxe.leases").display()
        ),
    )
    .unwrap();
    let lab = Lab::new(&["10.82.0.1/24", ""]);
    let log = dir.path().join("server.log");
    let mut server = start_server(&lab.members[0], &conf, &[], &log);
    wait_log(&log, "serving: ", Duration::from_secs(15));
    let pid = server.0.as_ref().unwrap().id();
    let (uid, gid, eff, prm, bnd) = proc_status(pid);
    assert_eq!(uid, "65534\t65534\t65534\t65534");
    assert_eq!(gid, "65534\t65534\t65534\t65534");
    assert_eq!((eff, prm, bnd), (KEPT_CAPS, KEPT_CAPS, KEPT_CAPS));
    let s = std::fs::read_to_string(&log).unwrap();
    assert!(s.contains("running as user nobody (uid 65534)"), "{s}");

    // DHCP: udhcpc gets an address, and the lease is durable in files
    // the server created as nobody.
    let script = dir.path().join("udhcpc.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\ncase \"$1\" in bound|renew) ip addr replace \"$ip/24\" dev \"$interface\" ;; esac\nexit 0\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = lab.members[1]
        .cmd(&[
            "busybox",
            "udhcpc",
            "-q",
            "-n",
            "-f",
            "-i",
            "eth0",
            "-t",
            "5",
            "-T",
            "1",
            "-s",
            script.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "udhcpc: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&log).unwrap()
    );
    wait_log(&log, "DHCPACK 10.82.0.", Duration::from_secs(10));
    let ip = lab.members[1].run(&["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
    assert!(
        String::from_utf8_lossy(&ip.stdout).contains("inet 10.82.0."),
        "{}",
        String::from_utf8_lossy(&ip.stdout)
    );
    let log_file = state.join("pxe.leases.log");
    let meta = std::fs::metadata(&log_file).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), 65534);

    // TFTP: the boot file byte for byte; the root-only file is refused.
    let got = dir.path().join("got.bin");
    let r = lab.members[1]
        .cmd(&["timeout", "30", "curl", "-sS", "-o", got.to_str().unwrap()])
        .arg("tftp://10.82.0.1/boot.bin")
        .output()
        .unwrap();
    assert!(
        r.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(std::fs::read(&got).unwrap() == boot, "download differs");
    let r = lab.members[1]
        .cmd(&["timeout", "30", "curl", "-sS", "-o", "/dev/null"])
        .arg("tftp://10.82.0.1/private.bin")
        .output()
        .unwrap();
    assert!(!r.status.success(), "a file nobody cannot read was served");

    let st = server.terminate(Duration::from_secs(10));
    assert!(st.is_some_and(|s| s.success()), "{st:?}");
    let leases = std::fs::read_to_string(state.join("pxe.leases")).unwrap();
    assert!(leases.contains("10.82.0."), "{leases}");
}

/// `user=` naming no user stops the server before it serves anything.
#[test]
fn an_unknown_user_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("pxe.conf");
    std::fs::write(
        &conf,
        format!(
            "user=no-such-pxe-user\ndhcp-leasefile={}\n",
            dir.path().join("l").display()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pxe-server"))
        .args(["--conf", conf.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("user=no-such-pxe-user: no such user"), "{err}");
    assert!(
        !dir.path().join("l.log").exists(),
        "the lease log was opened"
    );
}
