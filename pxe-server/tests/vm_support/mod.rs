//! Harness for booting real firmware (SeaBIOS + iPXE NIC ROM, OVMF) in qemu
//! against a netboot server, inside network namespaces the test creates.
//!
//! Topology (names carry the process id and a counter):
//!
//! ```text
//!   lan ns:  br0 ── tap0 (qemu)
//!             ├── s0 ─veth─ eth0 in srv ns   192.168.2.1/24  (pxe-server or dnsmasq, HTTP :80 :81)
//!             └── d0 ─veth─ eth0 in dhcp ns  192.168.2.2/24  (busybox udhcpd for proxy scenarios)
//! ```
//!
//! Every process and namespace is owned by a guard that removes it on
//! drop, also when a test fails.

#![allow(dead_code, clippy::unwrap_used, clippy::panic, unreachable_pub)]

use std::fmt::Write as _;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pxe_server::driver::http::{AccessObserver, AccessRecord, HttpConfig, HttpService};

mod console;
pub use console::*;

/// The server's address on the test LAN (the address the seed's
/// configurations in `conf/` use).
pub const SERVER: &str = "192.168.2.1";

static COUNTER: AtomicU32 = AtomicU32::new(0);
static VM_SLOTS: (Mutex<usize>, std::sync::Condvar) = (Mutex::new(0), std::sync::Condvar::new());

/// A running VM's slot; frees it on drop.
pub struct VmSlot;

impl Drop for VmSlot {
    fn drop(&mut self) {
        let mut n = VM_SLOTS.0.lock().unwrap_or_else(|e| e.into_inner());
        *n -= 1;
        VM_SLOTS.1.notify_one();
    }
}

/// Limits how many VMs boot at once inside one test binary: TCG is CPU
/// bound and CI has two cores. `PXE_VM_PARALLEL` (default 2) sets the
/// number.
pub fn vm_lock() -> VmSlot {
    let max = std::env::var("PXE_VM_PARALLEL")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(2);
    let mut n = VM_SLOTS.0.lock().unwrap_or_else(|e| e.into_inner());
    while *n >= max {
        n = VM_SLOTS.1.wait(n).unwrap_or_else(|e| e.into_inner());
    }
    *n += 1;
    VmSlot
}

/// Fails the test with a clear message if `tool` is not installed.
pub fn require_tool(tool: &str, package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(tool);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "`{tool}` is not installed: this test needs the Debian package `{package}` (CI installs it)"
    );
}

/// Fails the test with a clear message if `path` does not exist.
pub fn require_file(path: &str, package: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.exists(),
        "{path} is missing: this test needs the Debian package `{package}` (CI installs it)"
    );
    p
}

/// Runs a command to completion; fails the test with its stderr if it fails.
pub fn run_cmd(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    assert!(
        out.status.success(),
        "`{cmd} {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Three network namespaces wired as in the module docs, removed on drop.
pub struct Lan {
    /// Namespace with the bridge and the VM's tap.
    pub lan: String,
    /// Namespace of the netboot server (192.168.2.1).
    pub srv: String,
    /// Namespace of the plain DHCP server (192.168.2.2).
    pub dhcp: String,
}

impl Lan {
    /// Creates the namespaces and links.
    pub fn new() -> Lan {
        require_tool("ip", "iproute2");
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}_{n}", std::process::id());
        let lan = Lan {
            lan: format!("pxvl{id}"),
            srv: format!("pxvs{id}"),
            dhcp: format!("pxvd{id}"),
        };
        for ns in [&lan.lan, &lan.srv, &lan.dhcp] {
            run_cmd("ip", &["netns", "add", ns]);
            run_cmd("ip", &["-n", ns, "link", "set", "lo", "up"]);
        }
        let l = lan.lan.as_str();
        run_cmd("ip", &["-n", l, "link", "add", "br0", "type", "bridge"]);
        run_cmd("ip", &["-n", l, "link", "set", "br0", "up"]);
        run_cmd(
            "ip",
            &["-n", l, "tuntap", "add", "dev", "tap0", "mode", "tap"],
        );
        run_cmd(
            "ip",
            &["-n", l, "link", "set", "tap0", "master", "br0", "up"],
        );
        for (port, peer_ns, addr) in [
            ("s0", &lan.srv, "192.168.2.1/24"),
            ("d0", &lan.dhcp, "192.168.2.2/24"),
        ] {
            run_cmd(
                "ip",
                &[
                    "-n", l, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns",
                    peer_ns,
                ],
            );
            run_cmd("ip", &["-n", l, "link", "set", port, "master", "br0", "up"]);
            run_cmd("ip", &["-n", peer_ns, "addr", "add", addr, "dev", "eth0"]);
            run_cmd("ip", &["-n", peer_ns, "link", "set", "eth0", "up"]);
        }
        lan
    }
}

/// A packet capture of the server's side of the test LAN, stopped (and
/// its file closed) on drop.
pub struct Capture(Option<Child>);

impl Lan {
    /// With `PXE_VM_PCAP` set to a directory, captures the UDP traffic on
    /// the server's link (headers and the first bytes of each datagram:
    /// enough for TFTP opcodes, block numbers and options) into
    /// `DIR/NAME.pcapng` with `dumpcap` (tshark's), for comparing
    /// transfers packet by packet (benches/README.md, issue 17). Without
    /// it, nothing.
    pub fn capture(&self, name: &str) -> Capture {
        let Some(dir) = std::env::var_os("PXE_VM_PCAP") else {
            return Capture(None);
        };
        let file = Path::new(&dir).join(format!("{name}.pcapng"));
        let child = Command::new("ip")
            .args(["netns", "exec", &self.srv, "dumpcap", "-q", "-i", "eth0"])
            .args(["-f", "udp", "-s", "200", "-w"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run dumpcap (package tshark): {e}"));
        // dumpcap needs a moment before it sees the first packet.
        std::thread::sleep(Duration::from_millis(500));
        eprintln!("capturing to {}", file.display());
        Capture(Some(child))
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = Command::new("kill")
                .args(["-INT", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for ns in [&self.lan, &self.srv, &self.dhcp] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// A child process killed (by its own pid) and reaped on drop; its stdout
/// and stderr go to `log`.
pub struct Proc {
    child: Child,
    /// Name for messages.
    pub name: String,
    /// Where its output goes.
    pub log: PathBuf,
}

impl Proc {
    /// Runs `argv` inside namespace `ns` (`ip netns exec` execs, so the pid
    /// is the program's own).
    pub fn spawn_in(ns: &str, name: &str, argv: &[&str], log: PathBuf) -> Proc {
        let out = fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(argv)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            child,
            name: name.to_string(),
            log,
        }
    }

    /// Whether it is still running; panics with its log if it died.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited early ({status}); its log:\n{}",
                self.name,
                tail(&read_lossy(&self.log), 4000)
            );
        }
    }

    /// Its output so far.
    pub fn output(&self) -> String {
        read_lossy(&self.log)
    }

    /// The CPU seconds (user + system, all threads) it has used so far,
    /// from `/proc/PID/stat` (`ip netns exec` runs the program in its own
    /// process); `None` once it is gone.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // the command name may hold spaces: count from its closing parenthesis
        let rest = &stat[stat.rfind(')')? + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
        // USER_HZ is 100 on every Linux architecture qemu runs here
        Some(ticks / 100.0)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Requests seen by the in-process HTTP service.
#[derive(Default)]
pub struct Requests(Mutex<Vec<AccessRecord>>);

impl AccessObserver for Requests {
    fn record(&self, r: &AccessRecord) {
        if let Ok(mut v) = self.0.lock() {
            v.push(r.clone());
        }
    }
}

impl Requests {
    /// A copy of what was seen.
    pub fn all(&self) -> Vec<AccessRecord> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// The library's HTTP service running on ports 80 and 81 inside a network
/// namespace (a thread that `setns`es, then runs a tokio runtime). Stops on
/// drop.
pub struct HttpInNs {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// What it served.
    pub requests: Arc<Requests>,
}

impl HttpInNs {
    /// Starts the service in `ns` with `config`.
    pub fn start(ns: &str, config: HttpConfig) -> HttpInNs {
        let requests = Arc::new(Requests::default());
        let service = HttpService::new(&config, None)
            .unwrap_or_else(|e| panic!("HTTP service setup: {e}"))
            .with_observer(requests.clone());
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let ns_path = format!("/var/run/netns/{ns}");
        let thread = std::thread::spawn(move || {
            let setup = || -> Result<tokio::runtime::Runtime, String> {
                let f = fs::File::open(&ns_path).map_err(|e| format!("{ns_path}: {e}"))?;
                nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWNET)
                    .map_err(|e| format!("setns: {e}"))?;
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())
            };
            let rt = match setup() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            rt.block_on(async move {
                let addrs: Vec<SocketAddr> = ["0.0.0.0:80", "0.0.0.0:81"]
                    .iter()
                    .filter_map(|a| a.parse().ok())
                    .collect();
                match pxe_server::driver::http::bind_all(&addrs).await {
                    Ok(listeners) => {
                        let tasks = pxe_server::driver::http::spawn_all(&service, listeners);
                        let _ = ready_tx.send(Ok(()));
                        // Wait for the stop signal without blocking the runtime.
                        while stop_rx.try_recv() == Err(std::sync::mpsc::TryRecvError::Empty) {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        for t in tasks {
                            t.abort();
                        }
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("bind: {e}")));
                    }
                }
            });
        });
        match ready_rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("HTTP service in {ns}: {e}"),
            Err(e) => panic!("HTTP service in {ns} did not start: {e}"),
        }
        HttpInNs {
            stop: Some(stop_tx),
            thread: Some(thread),
            requests,
        }
    }
}

impl Drop for HttpInNs {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Which firmware boots the VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    /// SeaBIOS with qemu's iPXE NIC ROM (Debian `ipxe-qemu`).
    Bios,
    /// OVMF with EDK2's own virtio-net driver and PXE client (no option
    /// ROM).
    Uefi,
    /// As [`Firmware::Uefi`], with Secure Boot enforced: the SMM build of
    /// OVMF on q35 and the variable store with Microsoft's keys enrolled
    /// (`OVMF_VARS_4M.ms.fd`), so only signed loaders (shim) start.
    UefiSecureBoot,
    /// The same with EDK2's IPv4 PXE client off (fw_cfg
    /// `opt/org.tianocore/IPv4PXESupport=n`), so it boots by PXE over
    /// IPv6 at once instead of after the IPv4 client's timeouts.
    UefiIpv6,
    /// OVMF with both PXE clients off, so it goes straight to HTTP Boot
    /// (IPv4, then IPv6).
    UefiHttp,
}

/// How a boot ends successfully.
#[derive(Debug, Clone)]
pub enum End {
    /// The guest powers itself off (qemu exits 0) and `marker` is on the
    /// serial console.
    PowerOff {
        /// Text that must be on the console.
        marker: String,
    },
    /// `marker` appears on the serial console; the VM is then stopped.
    Marker(String),
}

/// One VM boot.
pub struct VmSpec {
    /// Firmware.
    pub firmware: Firmware,
    /// NIC MAC.
    pub mac: &'static str,
    /// SMBIOS UUID.
    pub uuid: &'static str,
    /// Success condition.
    pub end: End,
    /// Give up after this long.
    pub timeout: Duration,
}

/// What a boot did.
pub struct VmOutcome {
    /// Console text, ANSI escapes removed.
    pub serial: String,
    /// qemu exited by itself (power off) with this success flag.
    pub exited: Option<bool>,
    /// Success condition met.
    pub ended_ok: bool,
    /// Wall time.
    pub elapsed: Duration,
    /// Shown with every failed stage (e.g. the server's log tail).
    pub context: String,
    /// When each text [`boot_watching`] watched for first appeared on the
    /// console (to the console poll's 250 ms), in the order given.
    pub seen: Vec<(String, Duration)>,
}

impl VmOutcome {
    /// Panics with `what` and the console tail unless the console contains
    /// `needle`.
    pub fn assert_serial(&self, needle: &str, what: &str) {
        // The consoles wrap at 80 columns.
        let unwrapped = self.serial.replace('\n', "");
        assert!(
            self.serial.contains(needle) || unwrapped.contains(needle),
            "stage failed: {what}: `{needle}` not on the serial console after {:.1?}; console tail:\n{}\n{}",
            self.elapsed,
            tail(&self.serial, 3000),
            self.context
        );
    }
}

/// Console lines after which nothing more will happen: SeaBIOS out of
/// boot devices, OVMF falling back to its shell or boot manager, a Linux
/// guest's panic.
const GAVE_UP: [&str; 4] = [
    "No bootable device.",
    "Shell>",
    "Boot Manager Menu",
    "Kernel panic - not syncing",
];

/// The accelerator: TCG unless `PXE_VM_ACCEL` says otherwise (KVM is often
/// present but unusable under nested virtualization, where it hangs).
fn accel() -> String {
    std::env::var("PXE_VM_ACCEL").unwrap_or_else(|_| "tcg".to_string())
}

/// Boots a VM on `lan`'s tap and waits for `spec.end` or the timeout.
pub fn boot(lan: &Lan, dir: &Path, spec: &VmSpec) -> VmOutcome {
    boot_watching(lan, dir, spec, &[])
}

/// [`boot`], noting when each of `watch` first appears on the console
/// ([`VmOutcome::seen`]).
pub fn boot_watching(lan: &Lan, dir: &Path, spec: &VmSpec, watch: &[&str]) -> VmOutcome {
    let qemu = require_tool("qemu-system-x86_64", "qemu-system-x86");
    let serial = dir.join(format!("serial-{}.log", spec.mac.replace(':', "")));
    let _ = fs::remove_file(&serial);
    let serial_arg = format!("file:{}", serial.display());
    let netdev = "tap,id=n0,ifname=tap0,script=no,downscript=no".to_string();
    let mut args: Vec<String> = vec![
        qemu.display().to_string(),
        "-accel".into(),
        accel(),
        "-m".into(),
        "512".into(),
        "-nographic".into(),
        "-no-reboot".into(),
        "-monitor".into(),
        "none".into(),
        "-serial".into(),
        serial_arg,
        "-uuid".into(),
        spec.uuid.into(),
        "-netdev".into(),
        netdev,
    ];
    match spec.firmware {
        Firmware::Bios => {
            require_file("/usr/lib/ipxe/qemu/pxe-virtio.rom", "ipxe-qemu");
            args.extend([
                "-device".into(),
                format!("virtio-net-pci,netdev=n0,mac={}", spec.mac),
                "-boot".into(),
                "n".into(),
            ]);
        }
        Firmware::Uefi | Firmware::UefiSecureBoot | Firmware::UefiIpv6 | Firmware::UefiHttp => {
            if matches!(spec.firmware, Firmware::UefiIpv6 | Firmware::UefiHttp) {
                args.extend([
                    "-fw_cfg".into(),
                    "name=opt/org.tianocore/IPv4PXESupport,string=n".into(),
                ]);
            }
            if spec.firmware == Firmware::UefiHttp {
                args.extend([
                    "-fw_cfg".into(),
                    "name=opt/org.tianocore/IPv6PXESupport,string=n".into(),
                ]);
            }
            let secure = spec.firmware == Firmware::UefiSecureBoot;
            let (code, vars) = if secure {
                ("OVMF_CODE_4M.secboot.fd", "OVMF_VARS_4M.ms.fd")
            } else {
                ("OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd")
            };
            let code = require_file(&format!("/usr/share/OVMF/{code}"), "ovmf");
            let vars_src = require_file(&format!("/usr/share/OVMF/{vars}"), "ovmf");
            let vars = dir.join("OVMF_VARS.fd");
            fs::copy(&vars_src, &vars).unwrap();
            if secure {
                // The secboot build keeps its variables behind SMM: q35
                // with SMM, and flash writable only from SMM.
                args.extend([
                    "-machine".into(),
                    "q35,smm=on".into(),
                    "-global".into(),
                    "driver=cfi.pflash01,property=secure,value=on".into(),
                ]);
            }
            args.extend([
                "-drive".into(),
                format!(
                    "if=pflash,format=raw,unit=0,readonly=on,file={}",
                    code.display()
                ),
                "-drive".into(),
                format!("if=pflash,format=raw,unit=1,file={}", vars.display()),
                "-device".into(),
                // romfile= : no iPXE ROM, so EDK2's own PXE client boots.
                format!(
                    "virtio-net-pci,netdev=n0,mac={},romfile=,bootindex=1",
                    spec.mac
                ),
            ]);
        }
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let start = Instant::now();
    let mut vm = Proc::spawn_in(&lan.lan, "qemu", &argv, dir.join("qemu.out"));
    let mut exited = None;
    let mut ended_ok = false;
    let mut seen: Vec<(String, Duration)> = Vec::new();
    while start.elapsed() < spec.timeout {
        std::thread::sleep(Duration::from_millis(250));
        if let Ok(Some(status)) = vm.child.try_wait() {
            exited = Some(status.success());
            break;
        }
        let text = strip_ansi(&read_lossy(&serial));
        for w in watch {
            if !seen.iter().any(|(s, _)| s == w) && text.contains(w) {
                seen.push((w.to_string(), start.elapsed()));
            }
        }
        if let End::Marker(m) = &spec.end
            && text.contains(m.as_str())
        {
            ended_ok = true;
            break;
        }
        // The firmware gave up: no point in waiting for the timeout.
        if GAVE_UP.iter().any(|g| text.contains(g)) {
            break;
        }
    }
    let text = strip_ansi(&read_lossy(&serial));
    if let End::PowerOff { marker } = &spec.end {
        ended_ok = exited == Some(true) && text.contains(marker.as_str());
    }
    let qemu_out = vm.output();
    drop(vm);
    let elapsed = start.elapsed();
    let outcome = VmOutcome {
        serial: text,
        exited,
        ended_ok,
        elapsed,
        context: String::new(),
        seen,
    };
    if exited == Some(false) {
        panic!(
            "qemu failed: {}\nconsole tail:\n{}",
            tail(&qemu_out, 2000),
            tail(&outcome.serial, 3000)
        );
    }
    outcome
}

/// Copies `src` to `dst`, creating directories.
pub fn copy(src: &Path, dst: &Path) {
    if let Some(p) = dst.parent() {
        fs::create_dir_all(p).unwrap();
    }
    fs::copy(src, dst)
        .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", src.display(), dst.display()));
}

/// A PXELINUX configuration that prints `marker` on the serial console and
/// powers the VM off.
pub fn pxelinux_cfg(marker: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "SERIAL 0 115200\nSAY {marker}\nDEFAULT off\nPROMPT 0\nTIMEOUT 1\nLABEL off\n  COM32 poweroff.c32\n"
    );
    s
}

/// The seed's configuration `name` from the repository's `conf/`, with its
/// `tftp-root=` pointed at `tftp_root`.
pub fn seed_conf(name: &str, tftp_root: &Path) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../conf")
        .join(name);
    let text = fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("tftp-root=") {
            let _ = writeln!(out, "tftp-root={}/", tftp_root.display());
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(out.contains("tftp-root="), "{name} has no tftp-root line");
    out
}
