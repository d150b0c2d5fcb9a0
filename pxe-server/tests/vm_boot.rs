//! End-to-end boots of real firmware in qemu through the seed's three
//! dnsmasq configurations (and a UEFI one), each stage asserted.
//!
//! Each scenario runs against the `pxe-server` binary (`*_pxe_server`
//! tests). The harness was first built against the reference, Debian's
//! dnsmasq 2.90 for DHCP/TFTP plus this crate's HTTP service in-process;
//! one such run is kept (`vm_proxy_php_dnsmasq`) as the reference for the
//! one place where the seed's lines need a change under dnsmasq (see
//! [`iaddr_for_ipxe`]). Every scenario can be run against dnsmasq by
//! calling it with [`Backend::Dnsmasq`].
//!
//! Needs root and the Debian packages qemu-system-x86, ipxe-qemu, ipxe,
//! pxelinux, syslinux-common, busybox (udhcpd), ovmf, dnsmasq. Boots run
//! one at a time under TCG (set `PXE_VM_ACCEL=kvm` to try KVM).
//!
//! The TFTP root and the HTTP root are different directories, so a file
//! that can only come from one of them proves which protocol fetched it:
//! the PXELINUX configuration files (with the marker) exist only in the
//! HTTP root.

#![allow(clippy::unwrap_used, clippy::panic)]

mod vm_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pxe_server::driver::http::HttpConfig;
use vm_support::*;

const BOOT_TIMEOUT: Duration = Duration::from_secs(90);

/// The boot files for every scenario.
struct Roots {
    dir: tempfile::TempDir,
    tftp: PathBuf,
    http: PathBuf,
    scripts: PathBuf,
}

fn roots(token: &str) -> Roots {
    let mut dir = tempfile::Builder::new()
        .prefix("pxe-vm-")
        .tempdir()
        .unwrap();
    // PXE_VM_KEEP=1 keeps logs, consoles and configurations for a look.
    if std::env::var_os("PXE_VM_KEEP").is_some() {
        dir.disable_cleanup(true);
        eprintln!("keeping {}", dir.path().display());
    }
    // dnsmasq drops privileges for TFTP unless told otherwise; keep the
    // tree world-readable anyway.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let tftp = dir.path().join("tftp");
    let http = dir.path().join("http");
    let scripts = dir.path().join("scripts");
    let lpxelinux = require_file("/usr/lib/PXELINUX/lpxelinux.0", "pxelinux");
    let modules = Path::new("/usr/lib/syslinux/modules/bios");
    require_file(
        "/usr/lib/syslinux/modules/bios/poweroff.c32",
        "syslinux-common",
    );
    let ipxe_efi = require_file("/usr/lib/ipxe/ipxe.efi", "ipxe");
    // TFTP: first stages only.
    copy(&lpxelinux, &tftp.join("pxelinux.0"));
    copy(&ipxe_efi, &tftp.join("ipxe.efi"));
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../conf/seed-embedded.ipxe"),
        &tftp.join("seed-embedded.ipxe"),
    );
    // HTTP: everything PXELINUX loads after itself, and PXELINUX itself for
    // the script scenario's `chain ${210:string}pxelinux.0`.
    copy(&lpxelinux, &http.join("pxelinux.0"));
    for m in ["ldlinux.c32", "libcom32.c32", "libutil.c32", "poweroff.c32"] {
        copy(&modules.join(m), &http.join(m));
    }
    fs::create_dir_all(http.join("pxelinux.cfg")).unwrap();
    fs::write(
        http.join("pxelinux.cfg/default"),
        pxelinux_cfg(&format!("PXE-TEST-MARKER default {token}")),
    )
    .unwrap();
    fs::create_dir_all(&scripts).unwrap();
    Roots {
        dir,
        tftp,
        http,
        scripts,
    }
}

/// Which DHCP/TFTP server the scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    /// Debian's dnsmasq with the unchanged configuration, plus this crate's
    /// HTTP service in-process.
    Dnsmasq,
    /// The `pxe-server` binary with the same configuration plus the
    /// `http-port=`/`http-root=`/`ipxe-script-dir=` extension lines.
    PxeServer,
}

struct Servers {
    _udhcpd: Option<Proc>,
    main: Proc,
    http: Option<HttpInNs>,
}

impl Servers {
    /// Paths requested over HTTP with their status, as `PORT TARGET STATUS`.
    fn http_log(&self) -> Vec<String> {
        match &self.http {
            Some(h) => h
                .requests
                .all()
                .iter()
                .map(|r| format!("{} {} {}", r.local.port(), r.target, r.status))
                .collect(),
            // pxe-server logs one line per request:
            // `... http request peer=.. local=IP:PORT method=GET target_uri=/x status=200 length=..`
            None => self
                .main
                .output()
                .lines()
                .filter(|l| l.contains("http request"))
                .filter_map(|l| {
                    let field = |name: &str| {
                        l.split(' ')
                            .find_map(|w| w.strip_prefix(name))
                            .map(str::to_string)
                    };
                    let port = field("local=")?.rsplit(':').next()?.to_string();
                    Some(format!(
                        "{port} {} {}",
                        field("target_uri=")?,
                        field("status=")?
                    ))
                })
                .collect(),
        }
    }

    /// Server log tail for failure messages.
    fn context(&self) -> String {
        format!(
            "{} log tail:\n{}",
            self.main.name,
            tail(&self.main.output(), 3000)
        )
    }

    /// For `pxe-server`: some log line contains all of `needles`.
    fn assert_log(&self, backend: Backend, needles: &[&str], what: &str, vm: &VmOutcome) {
        if backend != Backend::PxeServer {
            return;
        }
        let out = self.main.output();
        assert!(
            out.lines().any(|l| needles.iter().all(|n| l.contains(n))),
            "stage failed: {what}: no pxe-server log line with all of {needles:?}\n{}\nconsole tail:\n{}",
            self.context(),
            tail(&vm.serial, 2000)
        );
    }

    fn assert_http(&self, entry: &str, what: &str, vm: &VmOutcome) {
        let log = self.http_log();
        assert!(
            log.iter().any(|l| l == entry),
            "stage failed: {what}: no HTTP request `{entry}`; requests seen: {log:#?}\nserver log tail:\n{}\nconsole tail:\n{}",
            tail(&self.main.output(), 2000),
            tail(&vm.serial, 2000)
        );
    }
}

fn start(lan: &Lan, roots: &Roots, backend: Backend, conf: &str, udhcpd: bool) -> Servers {
    start_checked(lan, roots, backend, conf, udhcpd, true)
}

/// [`start`], with `pxe-server check` run first on the configuration when
/// `check` is set.
fn start_checked(
    lan: &Lan,
    roots: &Roots,
    backend: Backend,
    conf: &str,
    udhcpd: bool,
    check: bool,
) -> Servers {
    let dir = roots.dir.path();
    let udhcpd = udhcpd.then(|| {
        let bin = require_tool("busybox", "busybox");
        let conf = dir.join("udhcpd.conf");
        fs::write(
            &conf,
            format!(
                "start 192.168.2.50\nend 192.168.2.99\ninterface eth0\nlease_file {}\npidfile {}\noption subnet 255.255.255.0\noption router 192.168.2.2\noption lease 600\n",
                dir.join("udhcpd.leases").display(),
                dir.join("udhcpd.pid").display()
            ),
        )
        .unwrap();
        fs::write(dir.join("udhcpd.leases"), "").unwrap();
        Proc::spawn_in(
            &lan.dhcp,
            "udhcpd",
            &[bin.to_str().unwrap(), "udhcpd", "-f", conf.to_str().unwrap()],
            dir.join("udhcpd.log"),
        )
    });
    match backend {
        Backend::Dnsmasq => {
            let bin = require_tool("dnsmasq", "dnsmasq");
            let path = dir.join("dnsmasq.conf");
            fs::write(&path, conf).unwrap();
            let main = Proc::spawn_in(
                &lan.srv,
                "dnsmasq",
                &[
                    bin.to_str().unwrap(),
                    &format!("--conf-file={}", path.display()),
                    "--port=0",
                    "--no-daemon",
                    "--log-dhcp",
                    "--log-facility=-",
                    "--user=root",
                    &format!("--dhcp-leasefile={}", dir.join("dnsmasq.leases").display()),
                    &format!("--pid-file={}", dir.join("dnsmasq.pid").display()),
                ],
                dir.join("dnsmasq.log"),
            );
            let http = HttpInNs::start(
                &lan.srv,
                HttpConfig {
                    root: Some(roots.http.clone()),
                    script: None,
                    script_dir: Some(roots.scripts.clone()),
                },
            );
            let mut s = Servers {
                _udhcpd: udhcpd,
                main,
                http: Some(http),
            };
            std::thread::sleep(Duration::from_millis(300));
            s.main.assert_running();
            s
        }
        Backend::PxeServer => {
            let bin = env!("CARGO_BIN_EXE_pxe-server");
            let path = dir.join("pxe-server.conf");
            let conf = format!(
                "{conf}# pxe-server extensions\nhttp-port=80\nhttp-port=81\nhttp-root={}\nipxe-script-dir={}\n",
                roots.http.display(),
                roots.scripts.display()
            );
            fs::write(&path, &conf).unwrap();
            let checked = std::process::Command::new(bin)
                .args(["check", "--conf", path.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(
                !check || checked.status.success(),
                "pxe-server check refused the configuration:\n{conf}\n{}{}",
                String::from_utf8_lossy(&checked.stdout),
                String::from_utf8_lossy(&checked.stderr)
            );
            let leases = dir.join("pxe-server.leases");
            let mut main = Proc::spawn_in(
                &lan.srv,
                "pxe-server",
                &[
                    bin,
                    "--conf",
                    path.to_str().unwrap(),
                    "--dhcp-leasefile",
                    leases.to_str().unwrap(),
                    "--log-dhcp",
                ],
                dir.join("pxe-server.log"),
            );
            // Ready when both HTTP listeners are up (they start last).
            let t0 = std::time::Instant::now();
            while !main.output().contains("HTTP on 0.0.0.0:81") {
                main.assert_running();
                assert!(
                    t0.elapsed() < Duration::from_secs(10),
                    "pxe-server did not start its HTTP service within 10 s; log:\n{}",
                    tail(&main.output(), 3000)
                );
                std::thread::sleep(Duration::from_millis(100));
            }
            Servers {
                _udhcpd: udhcpd,
                main,
                http: None,
            }
        }
    }
}

/// iPXE ignores a ProxyDHCP offer whose `siaddr` is 0 (`dhcp_has_pxeopts`
/// wants a next-server with the boot file), and dnsmasq 2.90 leaves
/// `siaddr` 0 in proxy replies to BIOS clients unless the `dhcp-boot` line
/// names a server: so against dnsmasq the seed's proxy lines need
/// `,,192.168.2.1` appended (observed: "Nothing to boot" otherwise).
/// `pxe-server` must boot the seed's lines unchanged.
fn iaddr_for_ipxe(backend: Backend, conf: String) -> String {
    match backend {
        Backend::Dnsmasq => conf
            .lines()
            .map(|l| {
                if l.starts_with("dhcp-boot=net:ipxe,") {
                    format!("{l},,{SERVER}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect(),
        Backend::PxeServer => conf,
    }
}

fn token() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}", t & 0xffff_ffff)
}

/// Stages common to the BIOS scenarios up to PXELINUX.
fn assert_pxelinux_started(vm: &VmOutcome, gateway: &str) {
    vm.assert_serial("iPXE", "firmware: qemu's iPXE NIC ROM runs");
    vm.assert_serial(
        &format!("/255.255.255.0 gw {gateway}"),
        "DHCP: the VM got its address from the expected server (its router option)",
    );
    vm.assert_serial("PXELINUX 6.04", "PXELINUX (Debian lpxelinux.0) started");
}

/// (a) The seed's "real DHCP server": iPXE (option 175 set) gets
/// `pxelinux.0` by TFTP; options 209/210 make PXELINUX fetch
/// `pxelinux.cfg/default` from `http://192.168.2.1:81/`.
fn real_dhcp(backend: Backend) {
    let _g = vm_lock();
    let lan = Lan::new();
    let tok = token();
    let r = roots(&tok);
    let conf = seed_conf("seed-real.conf", &r.tftp);
    let servers = start(&lan, &r, backend, &conf, false);
    let mut vm = boot(
        &lan,
        r.dir.path(),
        &VmSpec {
            firmware: Firmware::Bios,
            mac: "52:54:00:00:0a:01",
            uuid: "0017001e-8c00-00ad-5087-90e6ba2f0a01",
            end: End::PowerOff {
                marker: format!("PXE-TEST-MARKER default {tok}"),
            },
            timeout: BOOT_TIMEOUT,
        },
    );
    vm.context = servers.context();
    assert_pxelinux_started(&vm, "192.168.2.1");
    vm.assert_serial(
        "Filename: pxelinux.0",
        "DHCP: boot file from dhcp-boot (the tag:ipxe branch is not taken by iPXE)",
    );
    vm.assert_serial(
        "tftp://192.168.2.1/pxelinux.0... ok",
        "TFTP: pxelinux.0 fetched",
    );
    let mac = "52:54:00:00:0a:01";
    servers.assert_log(
        backend,
        &["DHCPACK", mac, "bootfile=pxelinux.0"],
        "server: DHCPACK with pxelinux.0",
        &vm,
    );
    servers.assert_log(
        backend,
        &["TFTP sent", "/pxelinux.0 to 192.168.2."],
        "server: TFTP of pxelinux.0",
        &vm,
    );
    servers.assert_http(
        "81 /ldlinux.c32 200",
        "HTTP: PXELINUX loaded ldlinux.c32 via option 210",
        &vm,
    );
    servers.assert_http(
        "81 /pxelinux.cfg/default 200",
        "HTTP: PXELINUX fetched option 209's config",
        &vm,
    );
    vm.assert_serial(
        &format!("PXE-TEST-MARKER default {tok}"),
        "PXELINUX ran the served config",
    );
    assert!(
        vm.ended_ok,
        "VM did not power off via poweroff.c32 within {BOOT_TIMEOUT:?}"
    );
}

/// (b) The seed's "proxy DHCP server": udhcpd gives the address, the proxy
/// the boot file. qemu's ROM is already iPXE (option 175), so the seed's
/// `pxe-service=net:#ipxe,...undionly.kkpxe` does not apply to it; in the
/// seed, undionly.kkpxe then runs its *embedded* script. Here the ROM gets
/// that same script (`conf/seed-embedded.ipxe`) from the proxy by one added
/// line, and the rest of the chain is the seed's.
fn proxy_dhcp(backend: Backend) {
    let _g = vm_lock();
    let lan = Lan::new();
    let tok = token();
    let r = roots(&tok);
    let mut conf = seed_conf("seed-proxy.conf", &r.tftp);
    conf.push_str("# Test: iPXE gets the seed's embedded script by TFTP.\ndhcp-boot=net:ipxe,tftp://192.168.2.1/seed-embedded.ipxe\n");
    let conf = iaddr_for_ipxe(backend, conf);
    let servers = start(&lan, &r, backend, &conf, true);
    let mut vm = boot(
        &lan,
        r.dir.path(),
        &VmSpec {
            firmware: Firmware::Bios,
            mac: "52:54:00:00:0b:01",
            uuid: "0017001e-8c00-00ad-5087-90e6ba2f0b01",
            end: End::PowerOff {
                marker: format!("PXE-TEST-MARKER default {tok}"),
            },
            timeout: BOOT_TIMEOUT,
        },
    );
    vm.context = servers.context();
    assert_pxelinux_started(&vm, "192.168.2.2");
    vm.assert_serial(
        "Filename: tftp://192.168.2.1/seed-embedded.ipxe",
        "proxy DHCP: boot file from the proxy offer",
    );
    vm.assert_serial("seed-embedded.ipxe... ok", "TFTP: script fetched");
    let mac = "52:54:00:00:0b:01";
    servers.assert_log(
        backend,
        &[
            "proxy OFFER",
            mac,
            "file=tftp://192.168.2.1/seed-embedded.ipxe",
        ],
        "server: proxy offer with the script",
        &vm,
    );
    servers.assert_log(
        backend,
        &["TFTP sent", "/seed-embedded.ipxe to"],
        "server: TFTP of the script",
        &vm,
    );
    servers.assert_log(
        backend,
        &["TFTP sent", "/pxelinux.0 to"],
        "server: TFTP of pxelinux.0",
        &vm,
    );
    vm.assert_serial(
        "pxelinux.0... ok",
        "TFTP: pxelinux.0 fetched by the script's `boot pxelinux.0`",
    );
    servers.assert_http(
        "81 /pxelinux.cfg/default 200",
        "HTTP: PXELINUX fetched the config set by the script's 209/210",
        &vm,
    );
    vm.assert_serial(
        &format!("PXE-TEST-MARKER default {tok}"),
        "PXELINUX ran the served config",
    );
    assert!(
        vm.ended_ok,
        "VM did not power off via poweroff.c32 within {BOOT_TIMEOUT:?}"
    );
}

/// (c) The seed's "proxy DHCP and PHP": the proxy offer carries
/// `http://192.168.2.1/ipxe.php?mac=${mac}&uuid=${uuid}`; the rendered
/// script (the built-in seed template) sets 209 to
/// `pxelinux.cfg/<uuid>.cfg` and 210 to `http://192.168.2.1:81/` and
/// chains `pxelinux.0` from there.
fn proxy_php(backend: Backend) {
    let _g = vm_lock();
    let lan = Lan::new();
    let tok = token();
    let r = roots(&tok);
    let mac = "52:54:00:00:0c:01";
    let uuid = "0017001e-8c00-00ad-5087-90e6ba2f0c01";
    fs::write(
        r.http.join(format!("pxelinux.cfg/{uuid}.cfg")),
        pxelinux_cfg(&format!("PXE-TEST-MARKER uuid {uuid} {tok}")),
    )
    .unwrap();
    let conf = iaddr_for_ipxe(backend, seed_conf("seed-proxy-php.conf", &r.tftp));
    let servers = start(&lan, &r, backend, &conf, true);
    let mut vm = boot(
        &lan,
        r.dir.path(),
        &VmSpec {
            firmware: Firmware::Bios,
            mac,
            uuid,
            end: End::PowerOff {
                marker: format!("PXE-TEST-MARKER uuid {uuid} {tok}"),
            },
            timeout: BOOT_TIMEOUT,
        },
    );
    vm.context = servers.context();
    vm.assert_serial("iPXE", "firmware: qemu's iPXE NIC ROM runs");
    vm.assert_serial("/255.255.255.0 gw 192.168.2.2", "DHCP: address from udhcpd");
    servers.assert_log(
        backend,
        &[
            "proxy OFFER",
            mac,
            "file=http://192.168.2.1/ipxe.php?mac=${mac}&uuid=${uuid}",
        ],
        "server: proxy offer with the seed's script URL",
        &vm,
    );
    vm.assert_serial(
        &format!("Filename: http://192.168.2.1/ipxe.php?mac={mac}&uuid={uuid}"),
        "proxy DHCP: iPXE got the seed's script URL and expanded ${mac}/${uuid}",
    );
    servers.assert_http(
        &format!(
            "80 /ipxe.php?mac={}&uuid={uuid} 200",
            mac.replace(':', "%3A")
        ),
        "HTTP: script rendered for the real MAC and UUID",
        &vm,
    );
    servers.assert_http(
        "81 /pxelinux.0 200",
        "HTTP: the script's `chain ${210:string}pxelinux.0` reached the server",
        &vm,
    );
    servers.assert_http(
        &format!("81 /pxelinux.cfg/{uuid}.cfg 200"),
        "HTTP: PXELINUX fetched the per-UUID config named by the script",
        &vm,
    );
    vm.assert_serial(
        &format!("PXE-TEST-MARKER uuid {uuid} {tok}"),
        "PXELINUX ran the per-UUID config",
    );
    assert!(
        vm.ended_ok,
        "VM did not power off via poweroff.c32 within {BOOT_TIMEOUT:?}"
    );
}

/// UEFI: OVMF's EDK2 PXE client (arch 7, no iPXE ROM) gets `ipxe.efi` by
/// TFTP; iPXE (option 175) then gets a script URL and fetches a per-MAC
/// script over HTTP, which prints the marker.
fn uefi_pxe(backend: Backend) {
    let _g = vm_lock();
    let lan = Lan::new();
    let tok = token();
    let r = roots(&tok);
    let mac = "52:54:00:00:0d:01";
    let uuid = "0017001e-8c00-00ad-5087-90e6ba2f0d01";
    fs::write(
        r.scripts.join("52-54-00-00-0d-01.ipxe"),
        format!("#!ipxe\necho PXE-TEST-MARKER efi {tok} mac={{{{mac}}}} uuid={{{{uuid}}}} ip={{{{ip}}}} server={{{{server}}}}\n"),
    )
    .unwrap();
    let conf = format!(
        "dhcp-match=set:ipxe,175\n\
         dhcp-match=set:efi64,option:client-arch,7\n\
         dhcp-range=192.168.2.100,192.168.2.200\n\
         enable-tftp\n\
         tftp-root={}/\n\
         dhcp-boot=tag:efi64,ipxe.efi\n\
         dhcp-boot=tag:ipxe,http://192.168.2.1/boot.ipxe?mac=${{mac}}&uuid=${{uuid}}\n",
        r.tftp.display()
    );
    let servers = start(&lan, &r, backend, &conf, false);
    let marker = format!("PXE-TEST-MARKER efi {tok} mac={mac} uuid={uuid} ip=192.168.2.");
    let mut vm = boot(
        &lan,
        r.dir.path(),
        &VmSpec {
            firmware: Firmware::Uefi,
            mac,
            uuid,
            end: End::Marker(marker.clone()),
            timeout: BOOT_TIMEOUT,
        },
    );
    vm.context = servers.context();
    vm.assert_serial("Start PXE over IPv4", "firmware: EDK2 PXE client runs");
    vm.assert_serial("NBP filename is ipxe.efi", "DHCP: arch 7 got ipxe.efi");
    vm.assert_serial("NBP file downloaded successfully", "TFTP: ipxe.efi fetched");
    servers.assert_log(
        backend,
        &["DHCPACK", mac, "tags: efi64", "bootfile=ipxe.efi"],
        "server: arch 7 ACK",
        &vm,
    );
    servers.assert_log(
        backend,
        &["TFTP sent", "/ipxe.efi to"],
        "server: TFTP of ipxe.efi",
        &vm,
    );
    servers.assert_log(
        backend,
        &[
            "DHCPACK",
            mac,
            "ipxe",
            "bootfile=http://192.168.2.1/boot.ipxe?mac=${mac}&uuid=${uuid}",
        ],
        "server: iPXE ACK with the script URL",
        &vm,
    );
    vm.assert_serial(
        &format!("Filename: http://192.168.2.1/boot.ipxe?mac={mac}&uuid={uuid}"),
        "DHCP: iPXE got the script URL",
    );
    servers.assert_http(
        &format!(
            "80 /boot.ipxe?mac={}&uuid={uuid} 200",
            mac.replace(':', "%3A")
        ),
        "HTTP: per-MAC script served",
        &vm,
    );
    vm.assert_serial(&marker, "iPXE ran the rendered script");
    vm.assert_serial(
        "server=192.168.2.1",
        "script rendered with the server's address",
    );
    assert!(vm.ended_ok);
}

/// UEFI HTTP Boot: OVMF tries PXEv4 first (made to fail at once: its boot
/// file does not exist), then PXEv6 (a DHCPv6 server without boot data on
/// the LAN makes that fail at once too; Debian's OVMF 2022.11 has no fw_cfg
/// switch to skip it, and without an answer it waits about 80 s), then HTTP
/// Boot over IPv4: `HTTPClient:Arch:00016` gets option 60 `HTTPClient` and
/// a URL, downloads `ipxe.efi` from the HTTP service (HEAD, then GET), and
/// iPXE fetches its per-MAC script as in [`uefi_pxe`].
fn uefi_http_boot(backend: Backend) {
    let _g = vm_lock();
    let lan = Lan::new();
    let tok = token();
    let r = roots(&tok);
    copy(
        Path::new("/usr/lib/ipxe/ipxe.efi"),
        &r.http.join("ipxe.efi"),
    );
    let mac = "52:54:00:00:0e:01";
    let uuid = "0017001e-8c00-00ad-5087-90e6ba2f0e01";
    fs::write(
        r.scripts.join("52-54-00-00-0e-01.ipxe"),
        format!("#!ipxe\necho PXE-TEST-MARKER httpboot {tok} mac={{{{mac}}}} uuid={{{{uuid}}}}\n"),
    )
    .unwrap();
    let conf = format!(
        "dhcp-range=192.168.2.100,192.168.2.200\n\
         enable-tftp\n\
         tftp-root={}/\n\
         dhcp-vendorclass=set:httpboot,HTTPClient\n\
         dhcp-match=set:ipxe,175\n\
         dhcp-boot=tag:!httpboot,tag:!ipxe,no-such-file.efi\n\
         dhcp-option-force=tag:httpboot,60,HTTPClient\n\
         dhcp-boot=tag:httpboot,http://192.168.2.1/ipxe.efi\n\
         dhcp-boot=tag:ipxe,http://192.168.2.1/boot.ipxe?mac=${{mac}}&uuid=${{uuid}}\n",
        r.tftp.display()
    );
    // A DHCPv6 server elsewhere on the LAN (no boot data) so that OVMF's
    // PXEv6 attempt ends quickly instead of waiting out its Solicit timeout.
    run_cmd(
        "ip",
        &[
            "-n",
            &lan.dhcp,
            "addr",
            "add",
            "2001:db8::2/64",
            "dev",
            "eth0",
            "nodad",
        ],
    );
    let dnsmasq = require_tool("dnsmasq", "dnsmasq");
    let _v6 = Proc::spawn_in(
        &lan.dhcp,
        "dnsmasq (DHCPv6 only)",
        &[
            dnsmasq.to_str().unwrap(),
            "--conf-file=/dev/null",
            "--port=0",
            "--no-daemon",
            "--log-dhcp",
            "--log-facility=-",
            "--user=root",
            "--enable-ra",
            "--dhcp-range=2001:db8::100,2001:db8::1ff,64,600",
            &format!(
                "--dhcp-leasefile={}",
                r.dir.path().join("v6.leases").display()
            ),
            &format!("--pid-file={}", r.dir.path().join("v6.pid").display()),
        ],
        r.dir.path().join("dnsmasq-v6.log"),
    );
    let servers = start(&lan, &r, backend, &conf, false);
    let marker = format!("PXE-TEST-MARKER httpboot {tok} mac={mac} uuid={uuid}");
    let mut vm = boot(
        &lan,
        r.dir.path(),
        &VmSpec {
            firmware: Firmware::Uefi,
            mac,
            uuid,
            end: End::Marker(marker.clone()),
            timeout: Duration::from_secs(240),
        },
    );
    vm.context = servers.context();
    vm.assert_serial(
        "Start HTTP Boot over IPv4",
        "firmware: EDK2 HTTP Boot runs after PXE",
    );
    vm.assert_serial(
        "URI: http://192.168.2.1/ipxe.efi",
        "DHCP: HTTPClient got the URL",
    );
    servers.assert_log(
        backend,
        &[
            "DHCPACK",
            mac,
            "httpboot",
            "bootfile=http://192.168.2.1/ipxe.efi",
        ],
        "server: HTTPClient ACK with the URL",
        &vm,
    );
    servers.assert_http(
        "80 /ipxe.efi 200",
        "HTTP: firmware downloaded ipxe.efi",
        &vm,
    );
    servers.assert_http(
        &format!(
            "80 /boot.ipxe?mac={}&uuid={uuid} 200",
            mac.replace(':', "%3A")
        ),
        "HTTP: iPXE fetched its per-MAC script",
        &vm,
    );
    vm.assert_serial(&marker, "iPXE ran the rendered script");
    assert!(vm.ended_ok);
}

/// UEFI beside another DHCP server: udhcpd gives the address, the proxy
/// answers OVMF's EDK2 PXE (arch 7) with one `pxe-service` for
/// `x86-64_EFI` (dnsmasq's single-service UEFI path: no menu, the file
/// comes from the 4011 exchange), and iPXE then gets its script URL from
/// the proxy (`dhcp-boot=tag:ipxe`).
fn uefi_proxy(backend: Backend) {
    let _g = vm_lock();
    let lan = Lan::new();
    let tok = token();
    let r = roots(&tok);
    let mac = "52:54:00:00:0f:01";
    let uuid = "0017001e-8c00-00ad-5087-90e6ba2f0f01";
    fs::write(
        r.scripts.join("52-54-00-00-0f-01.ipxe"),
        format!("#!ipxe\necho PXE-TEST-MARKER efiproxy {tok} mac={{{{mac}}}} uuid={{{{uuid}}}}\n"),
    )
    .unwrap();
    let conf = iaddr_for_ipxe(
        backend,
        format!(
            "dhcp-match=set:ipxe,175\n\
             dhcp-range=192.168.2.0,proxy\n\
             enable-tftp\n\
             tftp-root={}/\n\
             pxe-service=tag:!ipxe,x86-64_EFI,\"iPXE for UEFI\",ipxe.efi\n\
             dhcp-boot=net:ipxe,http://192.168.2.1/boot.ipxe?mac=${{mac}}&uuid=${{uuid}}\n",
            r.tftp.display()
        ),
    );
    let servers = start(&lan, &r, backend, &conf, true);
    let marker = format!("PXE-TEST-MARKER efiproxy {tok} mac={mac} uuid={uuid}");
    let mut vm = boot(
        &lan,
        r.dir.path(),
        &VmSpec {
            firmware: Firmware::Uefi,
            mac,
            uuid,
            end: End::Marker(marker.clone()),
            timeout: BOOT_TIMEOUT,
        },
    );
    vm.context = servers.context();
    vm.assert_serial("Start PXE over IPv4", "firmware: EDK2 PXE client runs");
    vm.assert_serial(
        "NBP filename is ipxe.efi",
        "proxy DHCP: arch 7 got ipxe.efi",
    );
    vm.assert_serial("NBP file downloaded successfully", "TFTP: ipxe.efi fetched");
    vm.assert_serial("gw 192.168.2.2", "DHCP: iPXE's address from udhcpd");
    servers.assert_log(
        backend,
        &["TFTP sent", "/ipxe.efi to"],
        "server: TFTP of ipxe.efi",
        &vm,
    );
    servers.assert_http(
        &format!(
            "80 /boot.ipxe?mac={}&uuid={uuid} 200",
            mac.replace(':', "%3A")
        ),
        "HTTP: iPXE fetched its per-MAC script",
        &vm,
    );
    vm.assert_serial(&marker, "iPXE ran the rendered script");
    assert!(vm.ended_ok);
}

/// Where `debian-installer-12-netboot-amd64` puts its netboot tree.
const DEBIAN_NETBOOT: &str = "/usr/lib/debian-installer/images/12/amd64/text";

/// The kernel's line when it hands over to the initramfs.
const INITRAMFS_STARTS: &str = "Run /init as init process";

/// Copies the tree `src` into `dst`, following symlinks (a TFTP root must
/// not link outside itself), leaving out the `pxelinux.cfg` directories
/// (the test writes its own).
fn copy_tree(src: &Path, dst: &Path) {
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let (from, to) = (e.path(), dst.join(e.file_name()));
        if e.file_name() == "pxelinux.cfg" {
            continue;
        }
        if fs::metadata(&from).unwrap().is_dir() {
            copy_tree(&from, &to);
        } else {
            copy(&from, &to);
        }
    }
}

/// Debian 12's real installer over the network, as an admin sets it up:
/// the netboot tree as TFTP root, DHCP pointing BIOS clients at
/// `pxelinux.0` and x64 UEFI ones at the signed shim (`bootnetx64.efi`),
/// which loads the signed grub (whose configuration is under
/// `debian-installer/amd64/grub/`); both fetch the 8 MiB kernel and the 40 MiB
/// `initrd.gz` over TFTP, lock-step (neither asks a windowsize). The
/// menus are replaced by one entry that boots at once with a serial
/// console. Passes when the kernel starts the initramfs; prints the time
/// to it and the time from the loader's marker to the kernel's first line
/// (kernel and initrd over TFTP), which benches/load/installer.sh compares
/// with dnsmasq's.
fn debian_installer(backend: Backend, firmware: Firmware) {
    let tree = require_file(
        &format!("{DEBIAN_NETBOOT}/pxelinux.0"),
        "debian-installer-12-netboot-amd64",
    );
    let tree = tree.parent().unwrap();
    let _g = vm_lock();
    let lan = Lan::new();
    let r = roots(&token());
    copy_tree(tree, &r.tftp);
    // shim asks for grubx64.efi in the directory of the DHCP header's file
    // field, which dnsmasq (and pxe-server) leave empty when the client
    // asks for option 67, as EDK2 does: so both live at the root, as
    // Debian's netboot instructions link them.
    for f in ["bootnetx64.efi", "grubx64.efi"] {
        copy(
            &tree.join("debian-installer/amd64").join(f),
            &r.tftp.join(f),
        );
    }
    // no_timer_check: under TCG on a loaded host the kernel's IO-APIC
    // timer check can fail and panic (seen here at a load average of 16).
    let kernel_args = "console=ttyS0,115200 no_timer_check ---";
    fs::create_dir_all(r.tftp.join("pxelinux.cfg")).unwrap();
    fs::write(
        r.tftp.join("pxelinux.cfg/default"),
        format!(
            "SERIAL 0 115200\nDEFAULT install\nPROMPT 0\nTIMEOUT 0\nLABEL install\n  SAY PXE-INSTALLER pxelinux\n  KERNEL debian-installer/amd64/linux\n  APPEND initrd=debian-installer/amd64/initrd.gz {kernel_args}\n"
        ),
    )
    .unwrap();
    fs::write(
        r.tftp.join("debian-installer/amd64/grub/grub.cfg"),
        format!(
            "set timeout=0\nset default=0\nmenuentry 'Install' {{\n  echo PXE-INSTALLER grub\n  linux /debian-installer/amd64/linux {kernel_args}\n  initrd /debian-installer/amd64/initrd.gz\n}}\n"
        ),
    )
    .unwrap();
    let conf = format!(
        "dhcp-range=192.168.2.100,192.168.2.200\n\
         dhcp-match=set:efi64,option:client-arch,7\n\
         dhcp-boot=tag:efi64,bootnetx64.efi\n\
         dhcp-boot=tag:!efi64,pxelinux.0\n\
         enable-tftp\n\
         tftp-root={}/\n",
        r.tftp.display()
    );
    // Not checked: `pxe-server check` assumes every first stage chains to
    // iPXE and calls the iPXE ROM's pxelinux.0 (and EDK2's shim) a
    // chainload loop; neither is iPXE, so nothing loops.
    let servers = start_checked(&lan, &r, backend, &conf, false, false);
    let capture_name = format!("installer-{firmware:?}-{backend:?}-{}", token());
    let capture = lan.capture(&capture_name);
    let (mac, uuid) = match firmware {
        Firmware::Bios => ("52:54:00:00:17:01", "0017001e-8c00-00ad-5087-90e6ba2f1701"),
        _ => ("52:54:00:00:17:02", "0017001e-8c00-00ad-5087-90e6ba2f1702"),
    };
    // The loader's marker comes just before it fetches the kernel and the
    // initrd; the kernel's first line just after both are in.
    let (loader, kernel) = match firmware {
        Firmware::Bios => ("PXE-INSTALLER pxelinux", "Probing EDD"),
        _ => ("PXE-INSTALLER grub", "EFI stub: "),
    };
    let mut vm = boot_watching(
        &lan,
        r.dir.path(),
        &VmSpec {
            firmware,
            mac,
            uuid,
            end: End::Marker(INITRAMFS_STARTS.to_string()),
            timeout: Duration::from_secs(300),
        },
        &[loader, kernel],
    );
    vm.context = servers.context();
    match firmware {
        Firmware::Bios => vm.assert_serial("PXE-INSTALLER pxelinux", "iPXE ROM ran pxelinux.0"),
        _ => {
            vm.assert_serial("PXE-INSTALLER grub", "OVMF ran shim, shim ran grub");
            vm.assert_serial("Secure boot enabled", "the kernel booted under Secure Boot");
        }
    }
    vm.assert_serial(
        INITRAMFS_STARTS,
        "the kernel started the installer's initramfs",
    );
    servers.assert_log(
        backend,
        &[
            "TFTP sent",
            "/debian-installer/amd64/initrd.gz to",
            "(40810276 bytes)",
        ],
        "server: TFTP of initrd.gz",
        &vm,
    );
    if backend == Backend::PxeServer {
        let log = servers.main.output();
        let failed: Vec<&str> = log.lines().filter(|l| l.contains("TFTP failed")).collect();
        assert!(failed.is_empty(), "failed TFTP transfers: {failed:#?}");
    }
    let at = |w: &str| {
        vm.seen
            .iter()
            .find(|(s, _)| s == w)
            .map(|(_, t)| t.as_secs_f64())
    };
    let fetch = at(loader).zip(at(kernel)).map(|(a, b)| b - a);
    eprintln!(
        "installer boot: {backend:?} {firmware:?}: initramfs after {:.1} s, kernel + initrd {} s, server CPU {} s",
        vm.elapsed.as_secs_f64(),
        fetch.map_or_else(|| "?".to_string(), |f| format!("{f:.1}")),
        servers
            .main
            .cpu_seconds()
            .map_or_else(|| "?".to_string(), |c| format!("{c:.2}"))
    );
    drop(capture);
    if let Some(dir) = std::env::var_os("PXE_VM_PCAP") {
        let log = Path::new(&dir).join(format!("{capture_name}.log"));
        let _ = fs::write(log, servers.main.output());
    }
    assert!(vm.ended_ok);
}

#[test]
fn vm_debian_installer_bios_pxe_server() {
    debian_installer(Backend::PxeServer, Firmware::Bios);
}

#[test]
fn vm_debian_installer_uefi_secure_boot_pxe_server() {
    debian_installer(Backend::PxeServer, Firmware::UefiSecureBoot);
}

#[test]
#[ignore = "the reference for benches/load/installer.sh"]
fn vm_debian_installer_bios_dnsmasq() {
    debian_installer(Backend::Dnsmasq, Firmware::Bios);
}

#[test]
#[ignore = "the reference for benches/load/installer.sh"]
fn vm_debian_installer_uefi_secure_boot_dnsmasq() {
    debian_installer(Backend::Dnsmasq, Firmware::UefiSecureBoot);
}

#[test]
fn vm_uefi_proxy_pxe_server() {
    uefi_proxy(Backend::PxeServer);
}

#[test]
fn vm_uefi_http_boot_pxe_server() {
    uefi_http_boot(Backend::PxeServer);
}

#[test]
fn vm_real_dhcp_pxe_server() {
    real_dhcp(Backend::PxeServer);
}

#[test]
fn vm_proxy_dhcp_pxe_server() {
    proxy_dhcp(Backend::PxeServer);
}

#[test]
fn vm_proxy_php_pxe_server() {
    proxy_php(Backend::PxeServer);
}

#[test]
fn vm_uefi_pxe_pxe_server() {
    uefi_pxe(Backend::PxeServer);
}

#[test]
fn vm_proxy_php_dnsmasq() {
    proxy_php(Backend::Dnsmasq);
}

/// `pxe-server check` (which every VM scenario runs on its configuration
/// first) refuses a broken template or override file with file, line and
/// column, and exits non-zero.
#[test]
fn pxe_server_check_rejects_bad_scripts() {
    let bin = env!("CARGO_BIN_EXE_pxe-server");
    let dir = tempfile::tempdir().unwrap();
    let scripts = dir.path().join("scripts");
    fs::create_dir(&scripts).unwrap();
    fs::write(
        dir.path().join("t.ipxe"),
        "#!ipxe\nchain http://{{server}}/{{macaddr}}\n",
    )
    .unwrap();
    fs::write(scripts.join("52-54-00-00-00-01.ipxe"), "chain http://x/\n").unwrap();
    let conf = dir.path().join("c.conf");
    let check = |text: String| {
        fs::write(&conf, text).unwrap();
        let out = std::process::Command::new(bin)
            .args(["check", "--conf", conf.to_str().unwrap()])
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = check(format!(
        "http-port=80\nhttp-root={}\nipxe-script={}\nipxe-script-dir={}\n",
        dir.path().display(),
        dir.path().join("t.ipxe").display(),
        scripts.display()
    ));
    assert!(!ok, "check accepted broken scripts");
    assert!(
        err.contains("t.ipxe: line 2, column 25: unknown variable `macaddr`"),
        "{err}"
    );
    assert!(
        err.contains("52-54-00-00-00-01.ipxe: line 1, column 1"),
        "{err}"
    );
    fs::write(
        dir.path().join("t.ipxe"),
        "#!ipxe\nchain http://{{server}}/{{mac}}\n",
    )
    .unwrap();
    fs::remove_file(scripts.join("52-54-00-00-00-01.ipxe")).unwrap();
    let (ok, err) = check(format!(
        "http-port=80\nhttp-root={}\nipxe-script={}\nipxe-script-dir={}\n",
        dir.path().display(),
        dir.path().join("t.ipxe").display(),
        scripts.display()
    ));
    assert!(ok, "check refused good scripts: {err}");
}

/// Runs headless Chromium inside `ns` (as root: no sandbox; without the
/// background-networking flags it tries to reach the Internet and its
/// connections are refused on this closed network) with `args` added.
fn chromium(ns: &str, profile: &Path, args: &[&str]) -> std::process::Output {
    let bin = require_tool("chromium", "chromium");
    let profile = format!("--user-data-dir={}", profile.display());
    let mut cmd = std::process::Command::new("ip");
    cmd.args(["netns", "exec", ns])
        .arg(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            profile.as_str(),
        ])
        .args(args);
    cmd.output().unwrap()
}

/// The status page in a real browser during a real boot: SeaBIOS's iPXE
/// ROM gets a script URL, the per-MAC script fetches a file over TFTP and
/// calls `/done`, and headless Chromium loads the machine's page from the
/// `status-page=` listener and sees every stage with its timing (the TFTP
/// transfer's among them, with its bytes and options), the journey done.
/// The screenshot is kept under `target/tmp/` (its path is printed).
#[test]
fn vm_status_page_in_chromium() {
    let _g = vm_lock();
    let lan = Lan::new();
    let tok = token();
    let r = roots(&tok);
    let mac = "52:54:00:00:10:01";
    let uuid = "0017001e-8c00-00ad-5087-90e6ba2f1001";
    let marker = format!("PXE-TEST-MARKER page {tok}");
    fs::write(
        r.scripts.join("52-54-00-00-10-01.ipxe"),
        format!(
            "#!ipxe\nimgfetch tftp://{{{{server}}}}/pxelinux.0 ||\n\
             imgfetch http://{{{{server}}}}/done?mac={{{{mac}}}} ||\necho {marker}\n"
        ),
    )
    .unwrap();
    let conf = format!(
        "dhcp-match=set:ipxe,175\n\
         dhcp-range=192.168.2.100,192.168.2.200\n\
         dhcp-boot=tag:ipxe,http://192.168.2.1/boot.ipxe?mac=${{mac}}&uuid=${{uuid}}\n\
         enable-tftp\ntftp-root={}/\n\
         status-page=8080\n",
        r.tftp.display()
    );
    let servers = start(&lan, &r, Backend::PxeServer, &conf, false);
    let mut vm = boot(
        &lan,
        r.dir.path(),
        &VmSpec {
            firmware: Firmware::Bios,
            mac,
            uuid,
            end: End::Marker(marker.clone()),
            timeout: BOOT_TIMEOUT,
        },
    );
    vm.context = servers.context();
    vm.assert_serial(&marker, "iPXE ran the per-MAC script after calling /done");
    servers.assert_http(
        &format!("80 /done?mac={} 200", mac.replace(':', "%3A")),
        "HTTP: the script's callback reached the server",
        &vm,
    );

    // The JSON API: every stage of the boot, with its time.
    let api = std::process::Command::new("ip")
        .args(["netns", "exec", &lan.srv, "curl", "-sf"])
        .arg(format!("http://192.168.2.1:8080/api/machines/{mac}"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&api.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&api.stdout),
            servers.context()
        )
    });
    assert_eq!(
        (&v["stage"], &v["state"]),
        (&"done".into(), &"done".into()),
        "{v:#}"
    );
    let stages: Vec<&str> = v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "discover", "offer", "ack", "ipxe", "script", "loading", "done"
        ],
        "{v:#}"
    );
    assert!(v["diagnosis"].is_null(), "{v:#}");
    // The TFTP transfer the script made, from the TFTP service's report.
    let pxelinux = fs::metadata(r.tftp.join("pxelinux.0")).unwrap().len();
    let tftp_done = format!("TFTP pxelinux.0 done: {pxelinux} bytes in ");
    assert!(
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["proto"] == "tftp"
                && s["summary"].as_str().unwrap().starts_with(&tftp_done)),
        "{v:#}"
    );

    // The page, in Chromium.
    let profile = tempfile::tempdir().unwrap();
    let url = "http://192.168.2.1:8080/machines/52-54-00-00-10-01";
    let dom = chromium(&lan.srv, profile.path(), &["--dump-dom", url]);
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom_text.contains("id=\"machine\" data-stage=\"done\" data-state=\"done\""),
        "Chromium did not see the journey done:\n{dom_text}\n{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    for stage in stages {
        assert!(
            dom_text.contains(&format!("<tr data-stage=\"{stage}\"><td>{stage}</td><td>")),
            "no timing for {stage} on the page:\n{dom_text}"
        );
    }
    assert!(dom_text.contains("<svg"), "no timeline:\n{dom_text}");
    assert!(
        dom_text.contains(&tftp_done),
        "no TFTP transfer on the page:\n{dom_text}"
    );
    let list = chromium(
        &lan.srv,
        profile.path(),
        &["--dump-dom", "http://192.168.2.1:8080/"],
    );
    assert!(
        String::from_utf8_lossy(&list.stdout)
            .contains(&format!("data-mac=\"{mac}\" data-stage=\"done\"")),
        "{}",
        String::from_utf8_lossy(&list.stdout)
    );
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vm_status_page.png");
    let _ = fs::remove_file(&shot);
    let out = chromium(
        &lan.srv,
        profile.path(),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,900",
            url,
        ],
    );
    assert!(
        shot.exists() && fs::metadata(&shot).unwrap().len() > 1000,
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("screenshot of the status page: {}", shot.display());
}
