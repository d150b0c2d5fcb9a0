//! Network namespaces for tests (alone, or several joined by a bridge),
//! torn down by Drop guards, and the small process helpers around them.
//! Shared by the tests of `pxe-server`, `pxe-smoltcp` and `pxe-dhcp` (the
//! latter two include this file by path).
#![allow(dead_code, clippy::unwrap_used, clippy::panic, unreachable_pub)]

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A short name unique to this process and call.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}{}x{n}", std::process::id() % 100_000)
}

/// Run a command, panicking with its output on failure.
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

/// Fail clearly when a tool is missing.
pub fn need_tool(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("required tool `{name}` is not installed (CI installs it via .ci/setup)");
}

/// One network namespace, deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        let name = unique(&format!("pxs{tag}"));
        sh(&["ip", "netns", "add", &name]);
        sh(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        Netns { name }
    }

    /// `ip netns exec NS args...` as a command to adjust and run.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).args(args);
        c
    }

    /// Run a command inside, returning its output (no status check).
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// The ports sockets in the namespace are bound to, read with `ss`
    /// (`-Hlun`: UDP; `-Hltn`: listening TCP). Read, never probed with a
    /// bind of our own, which would hold the port for an instant and could
    /// make the server's own bind fail.
    pub fn bound_ports(&self, udp: bool) -> Vec<u16> {
        let out = self.run(&["ss", if udp { "-Hlun" } else { "-Hltn" }]);
        let mut ports: Vec<u16> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| line.split_whitespace().nth(3))
            .filter_map(|local| local.rsplit(':').next()?.parse().ok())
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    /// Waits until UDP sockets in the namespace are bound to every port of
    /// `ports`; whether they were within `timeout`.
    pub fn wait_udp_bound(&self, ports: &[u16], timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let bound = self.bound_ports(true);
            if ports.iter().all(|p| bound.contains(p)) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Run `f` on a thread that has entered this namespace (sockets it
    /// creates live there).
    pub fn enter<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        enter_ns(&self.name, f)
    }

    /// Start `f` on a thread inside the namespace.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        spawn_in_ns(&self.name, f)
    }
}

/// Run `f` on a thread inside the namespace called `name`.
pub fn enter_ns<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    spawn_in_ns(name, f).join().unwrap()
}

/// Start `f` on a thread inside the namespace called `name`.
pub fn spawn_in_ns<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    let path = format!("/var/run/netns/{name}");
    std::thread::spawn(move || {
        let f_ns = std::fs::File::open(&path).unwrap();
        nix::sched::setns(f_ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        f()
    })
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

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
