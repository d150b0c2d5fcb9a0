//! Namespaces, the example's loop on a TAP device inside one, and tool
//! checks, shared by the TAP and VM tests. Everything is torn down by Drop
//! guards, also when a test fails.
#![allow(dead_code, clippy::unwrap_used, clippy::panic, unreachable_pub)]

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pxe_smoltcp::Stats;
use smoltcp::wire::Ipv4Cidr;

#[path = "../../examples/smoltcp_tap/tap.rs"]
#[allow(dead_code)]
pub mod tap;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A short name unique to this process and call (fits IFNAMSIZ).
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}{}x{n}", std::process::id() % 100_000)
}

pub fn sh(args: &[&str]) -> Output {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn need_tool(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("required tool `{name}` is not installed (CI installs it via .ci/setup)");
}

/// A network namespace, deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Netns {
        let name = unique("pxsm");
        sh(&["ip", "netns", "add", &name]);
        sh(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        Netns { name }
    }

    pub fn exec(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(args)
            .output()
            .unwrap()
    }

    /// Run `f` on a thread inside the namespace.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let ns = std::fs::File::open(&path).unwrap();
            nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            f()
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// The example's loop on a TAP device inside `ns`; stopped and joined on
/// drop (declare it after the namespace so it goes first).
pub struct ServerGuard {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<Stats, String>>>,
}

impl ServerGuard {
    pub fn start(
        ns: &Netns,
        tap_name: &str,
        server: &str,
        conf: &str,
        files: Vec<(String, Vec<u8>)>,
    ) -> ServerGuard {
        let config = pxe_rules::Config::parse_str(conf, "test.conf").unwrap();
        let opts = tap::TapOptions {
            tap: tap_name.to_string(),
            addr: server.parse::<Ipv4Cidr>().unwrap(),
            mac: [0x02, 0, 0, 0x5e, 0, 0x01],
            config,
            files,
            verbose: true,
        };
        let ready = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (ready.clone(), stop.clone());
        let thread = ns.spawn(move || {
            let out = tap::run(opts, &r, &s);
            // Unblock the waiter if opening failed.
            r.store(true, Ordering::SeqCst);
            out
        });
        let mut g = ServerGuard {
            stop,
            thread: Some(thread),
        };
        let start = Instant::now();
        while !ready.load(Ordering::SeqCst) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        if g.thread.as_ref().unwrap().is_finished() {
            let r = g.thread.take().unwrap().join().unwrap();
            panic!("server stopped at once: {r:?}");
        }
        g
    }

    pub fn stop(mut self) -> Stats {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap().unwrap()
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Bring the kernel side of the TAP up with `addr`.
pub fn kernel_side(ns: &Netns, tap_name: &str, addr: &str) {
    sh(&["ip", "-n", &ns.name, "link", "set", tap_name, "up"]);
    sh(&["ip", "-n", &ns.name, "addr", "add", addr, "dev", tap_name]);
}
