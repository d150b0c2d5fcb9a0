//! Shared helpers for the real-client tests: network namespaces joined by a
//! bridge and child processes (`netns.rs`, all torn down by Drop guards),
//! the server process, a capture checked by tshark, and a scripted DHCP
//! client built on `pxe-dhcp` (`client.rs`).
#![allow(dead_code, clippy::unwrap_used, clippy::panic, unreachable_pub)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub mod client;
pub mod netns;
pub mod postgres;
// Not every test uses every helper.
#[allow(unused_imports)]
pub use client::*;
pub use netns::*;

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
