//! Real firmware netboots from the smoltcp server: the example's loop on a
//! TAP device and a qemu VM on another, bridged inside a namespace the test
//! creates. SeaBIOS with qemu's iPXE NIC ROM boots PXELINUX over TFTP and
//! powers off; OVMF's own EDK2 PXE client fetches `ipxe.efi`, which asks
//! again (option 175) and runs a script fetched over TFTP.
//!
//! Needs root and the Debian packages qemu-system-x86, ipxe-qemu, ipxe,
//! pxelinux, syslinux-common and ovmf. Runs under TCG (`PXE_VM_ACCEL=kvm`
//! to try KVM); the two boots run one after the other.
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "../../pxe-server/tests/vm_support/console.rs"]
mod console;
mod ns;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use console::{read_lossy, strip_ansi, tail};
use ns::{Netns, ServerGuard, need_tool, sh, unique};

static ONE_VM: Mutex<()> = Mutex::new(());

fn need_file(path: &str, package: &str) -> Vec<u8> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{path} is missing ({e}): install the Debian package {package}"))
}

/// qemu, killed and reaped on drop.
struct Vm(Child);

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A bridge in `ns` with a tap for qemu; the server's TAP joins it later.
fn lan(ns: &Netns, vm_tap: &str) {
    sh(&["ip", "-n", &ns.name, "link", "add", "br0", "type", "bridge"]);
    sh(&["ip", "-n", &ns.name, "link", "set", "br0", "up"]);
    sh(&[
        "ip", "-n", &ns.name, "tuntap", "add", "dev", vm_tap, "mode", "tap",
    ]);
    sh(&[
        "ip", "-n", &ns.name, "link", "set", vm_tap, "master", "br0", "up",
    ]);
}

fn join_bridge(ns: &Netns, tap: &str) {
    sh(&[
        "ip", "-n", &ns.name, "link", "set", tap, "master", "br0", "up",
    ]);
}

/// Boot qemu in `ns` on `vm_tap` and wait until it powers off, `marker`
/// appears on the serial console, or `timeout`; returns (console without
/// ANSI escapes, exited by itself successfully).
fn boot(
    ns: &Netns,
    vm_tap: &str,
    firmware: &[&str],
    marker: &str,
    timeout: Duration,
) -> (String, bool) {
    let qemu = need_tool("qemu-system-x86_64");
    let serial = std::env::temp_dir().join(format!("{}.serial", unique("pxe-smoltcp-vm")));
    let accel = std::env::var("PXE_VM_ACCEL").unwrap_or_else(|_| "tcg".into());
    let netdev = format!("tap,id=n0,ifname={vm_tap},script=no,downscript=no");
    let serial_arg = format!("file:{}", serial.display());
    let mut args = vec![
        "netns",
        "exec",
        &ns.name,
        qemu.to_str().unwrap(),
        "-accel",
        &accel,
        "-m",
        "512",
        "-nographic",
        "-no-reboot",
        "-monitor",
        "none",
        "-serial",
        &serial_arg,
        "-netdev",
        &netdev,
    ];
    args.extend_from_slice(firmware);
    let mut vm = Vm(Command::new("ip")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap());
    let start = Instant::now();
    let mut exited_ok = false;
    while start.elapsed() < timeout {
        std::thread::sleep(Duration::from_millis(250));
        if let Ok(Some(status)) = vm.0.try_wait() {
            exited_ok = status.success();
            break;
        }
        if strip_ansi(&read_lossy(&serial)).contains(marker) {
            break;
        }
    }
    drop(vm);
    let text = strip_ansi(&read_lossy(&serial));
    let _ = std::fs::remove_file(&serial);
    (text, exited_ok)
}

/// The console of a boot that failed this test once although PXELINUX
/// had printed the marker: SeaBIOS, mirroring the scrolled BIOS screen,
/// put two cursor moves inside it.
#[test]
fn a_marker_split_by_seabios_cursor_moves_is_found() {
    let raw = "PXELINUX 6.04 PXE 20200816 Copyright (C) 1994-2015 H. Peter Anvin et al\r\n\
               SMOLTCP-\u{1b}[25;08H\u{1b}[25;09HPXELINUX-tok10459x0\r\n";
    assert!(!raw.contains("SMOLTCP-PXELINUX-tok10459x0"));
    assert!(strip_ansi(raw).contains("SMOLTCP-PXELINUX-tok10459x0\n"));
}

#[test]
fn bios_ipxe_rom_boots_pxelinux_from_the_smoltcp_server() {
    let _one = ONE_VM.lock().unwrap_or_else(|e| e.into_inner());
    need_file("/usr/lib/ipxe/qemu/pxe-virtio.rom", "ipxe-qemu");
    let m = Path::new("/usr/lib/syslinux/modules/bios");
    let mut files = vec![(
        "pxelinux.0".to_string(),
        need_file("/usr/lib/PXELINUX/pxelinux.0", "pxelinux"),
    )];
    for f in ["ldlinux.c32", "libcom32.c32", "libutil.c32", "poweroff.c32"] {
        files.push((
            f.to_string(),
            need_file(m.join(f).to_str().unwrap(), "syslinux-common"),
        ));
    }
    let token = unique("tok");
    let marker = format!("SMOLTCP-PXELINUX-{token}");
    files.push((
        "pxelinux.cfg/default".into(),
        format!("SERIAL 0 115200\nSAY {marker}\nDEFAULT off\nPROMPT 0\nTIMEOUT 1\nLABEL off\n  COM32 poweroff.c32\n")
            .into_bytes(),
    ));
    let ns = Netns::new("sm");
    let vm_tap = unique("vmt");
    lan(&ns, &vm_tap);
    let tap = unique("smv");
    let conf = "dhcp-range=192.168.50.100,192.168.50.150,255.255.255.0\ndhcp-boot=pxelinux.0\nenable-tftp\n";
    let server = ServerGuard::start(&ns, &tap, "192.168.50.1/24", conf, files);
    join_bridge(&ns, &tap);
    let (console, powered_off) = boot(
        &ns,
        &vm_tap,
        &[
            "-device",
            "virtio-net-pci,netdev=n0,mac=52:54:00:5a:00:01",
            "-boot",
            "n",
        ],
        "\u{0}never",
        Duration::from_secs(120),
    );
    assert!(
        console.contains(&marker) && powered_off,
        "PXELINUX did not print the marker and power off; console tail:\n{}",
        tail(&console, 3000)
    );
    let stats = server.stop();
    // pxelinux.0, ldlinux.c32, the configuration and poweroff.c32; the
    // probes for per-machine configurations are refused. poweroff.c32 runs
    // the moment it has arrived, so the machine may be off before the
    // server handles its last ACK: that transfer may still count as active
    // (the power-off above proves it arrived).
    assert!(stats.tftp_completed >= 3, "{stats:?}");
    assert!(
        stats.tftp_completed + stats.tftp_active as u64 >= 4,
        "{stats:?}"
    );
    assert!(stats.tftp_refused >= 1, "{stats:?}");
    assert_eq!(stats.tftp_failed, 0, "{stats:?}");
    assert!(stats.dhcp_replies >= 2, "{stats:?}");
}

#[test]
fn uefi_pxe_client_boots_ipxe_efi_which_runs_a_script() {
    let _one = ONE_VM.lock().unwrap_or_else(|e| e.into_inner());
    let code = "/usr/share/OVMF/OVMF_CODE_4M.fd";
    need_file(code, "ovmf");
    let vars = need_file("/usr/share/OVMF/OVMF_VARS_4M.fd", "ovmf");
    let ipxe = need_file("/usr/lib/ipxe/ipxe.efi", "ipxe");
    let token = unique("tok");
    let marker = format!("SMOLTCP-EFI-{token}");
    let files = vec![
        ("ipxe.efi".to_string(), ipxe),
        (
            "boot.ipxe".to_string(),
            format!("#!ipxe\necho {marker} ip=${{net0/ip}}\n").into_bytes(),
        ),
    ];
    let vars_path = std::env::temp_dir().join(format!("{}.fd", unique("pxe-smoltcp-vars")));
    std::fs::write(&vars_path, vars).unwrap();
    let ns = Netns::new("sm");
    let vm_tap = unique("vmt");
    lan(&ns, &vm_tap);
    let tap = unique("smu");
    let conf = "dhcp-match=set:ipxe,175\n\
                dhcp-match=set:efi64,option:client-arch,7\n\
                dhcp-range=192.168.50.100,192.168.50.150,255.255.255.0\n\
                enable-tftp\n\
                dhcp-boot=tag:efi64,ipxe.efi\n\
                dhcp-boot=tag:ipxe,boot.ipxe\n";
    let server = ServerGuard::start(&ns, &tap, "192.168.50.1/24", conf, files);
    join_bridge(&ns, &tap);
    let pflash_code = format!("if=pflash,format=raw,unit=0,readonly=on,file={code}");
    let pflash_vars = format!("if=pflash,format=raw,unit=1,file={}", vars_path.display());
    let full_marker = format!("{marker} ip=192.168.50.1");
    let (console, _) = boot(
        &ns,
        &vm_tap,
        &[
            "-drive",
            &pflash_code,
            "-drive",
            &pflash_vars,
            "-device",
            "virtio-net-pci,netdev=n0,mac=52:54:00:5a:00:02,romfile=,bootindex=1",
        ],
        &full_marker,
        Duration::from_secs(180),
    );
    let _ = std::fs::remove_file(&vars_path);
    let stats = server.stop();
    for (needle, what) in [
        (
            "NBP file downloaded successfully",
            "EDK2 fetched ipxe.efi over TFTP",
        ),
        (
            full_marker.as_str(),
            "iPXE got an address and ran boot.ipxe",
        ),
    ] {
        assert!(
            console.contains(needle),
            "{what}: `{needle}` not on the console ({stats:?}); tail:\n{}",
            tail(&console, 3000)
        );
    }
    assert!(stats.tftp_completed >= 2, "{stats:?}");
    assert_eq!(stats.tftp_failed, 0, "{stats:?}");
    eprintln!("{stats:?}");
}
