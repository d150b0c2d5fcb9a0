//! Real firmware over IPv6: OVMF's EDK2 PXE client on a ULA-only link
//! (fd00:77::/64, no IPv4 service) gets `tftp://[fd00:77::1]/ipxe.efi`
//! from pxe-server's DHCPv6 (after its router advertisement), fetches it
//! over TFTP/IPv6, and the iPXE it loads gets a per-machine script URL by
//! DHCPv6 (user class iPXE) and fetches it over HTTP/IPv6; qemu's iPXE ROM
//! does the same from SeaBIOS.
//!
//! Needs root and the Debian packages qemu-system-x86, ovmf, ipxe.
//! Runs under TCG, one VM at a time.

#![allow(clippy::unwrap_used, clippy::panic)]

mod vm_support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use vm_support::*;

/// A lab whose server end has only the ULA address fd00:77::1/64, and a
/// directory for its files that the unprivileged server can read.
fn ula_lan() -> (Lan, tempfile::TempDir) {
    let lan = Lan::new();
    run_cmd(
        "ip",
        &[
            "-n",
            &lan.srv,
            "addr",
            "add",
            "fd00:77::1/64",
            "dev",
            "eth0",
            "nodad",
        ],
    );
    let dir = tempfile::Builder::new()
        .prefix("pxe-vm6-")
        .tempdir()
        .unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    (lan, dir)
}

#[test]
fn uefi_pxe_over_ipv6_pxe_server() {
    let _g = vm_lock();
    let (lan, dir) = ula_lan();
    let (tftp, http) = (dir.path().join("tftp"), dir.path().join("http"));
    copy(
        &require_file("/usr/lib/ipxe/ipxe.efi", "ipxe"),
        &tftp.join("ipxe.efi"),
    );
    let mac = "52:54:00:ef:06:01";
    let marker = format!("PXE-TEST-MARKER ipv6 {}", std::process::id());
    fs::create_dir_all(http.join("m")).unwrap();
    fs::write(
        http.join("m/52-54-00-ef-06-01.ipxe"),
        format!("#!ipxe\necho {marker} ${{net0/ip6}}\n"),
    )
    .unwrap();
    for f in [tftp.join("ipxe.efi"), http.join("m/52-54-00-ef-06-01.ipxe")] {
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
    }
    let conf = dir.path().join("pxe.conf");
    fs::write(
        &conf,
        format!(
            "port=0\n\
             dhcp-authoritative\n\
             enable-ra\n\
             dhcp-range=fd00:77::100,fd00:77::1ff,64,1h\n\
             dhcp-userclass=set:ipxe,iPXE\n\
             dhcp-match=set:efi64,option6:61,7\n\
             dhcp-option=tag:efi64,tag:!ipxe,option6:bootfile-url,tftp://[fd00:77::1]/ipxe.efi\n\
             dhcp-option=tag:ipxe,option6:bootfile-url,http://[fd00:77::1]/m/${{mac:hexhyp}}.ipxe\n\
             enable-tftp\n\
             tftp-root={}\n\
             http-port=80\n\
             http-root={}\n\
             log-dhcp\n\
             dhcp-leasefile={}\n",
            tftp.display(),
            http.display(),
            dir.path().join("leases").display()
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_pxe-server");
    let mut server = Proc::spawn_in(
        &lan.srv,
        "pxe-server",
        &[bin, "--conf", conf.to_str().unwrap()],
        dir.path().join("server.log"),
    );
    std::thread::sleep(Duration::from_millis(500));
    server.assert_running();
    let mut vm = boot(
        &lan,
        dir.path(),
        &VmSpec {
            firmware: Firmware::UefiIpv6,
            mac,
            uuid: "0017001e-8c00-00ad-5087-90e6ba2f3423",
            end: End::Marker(marker.clone()),
            timeout: Duration::from_secs(240),
        },
    );
    vm.context = tail(&server.output(), 6000);
    vm.assert_serial(
        "Start PXE over IPv6",
        "firmware: EDK2 PXE client over IPv6 runs",
    );
    vm.assert_serial("ipxe.efi", "DHCPv6: the boot-file-url");
    vm.assert_serial(
        "NBP file downloaded successfully",
        "TFTP/IPv6: ipxe.efi fetched",
    );
    let log = server.output();
    assert!(
        log.contains("DHCPADVERTISE") && log.contains("tags: efi64"),
        "{}",
        vm.context
    );
    assert!(
        log.contains("TFTP sent") && log.contains("ipxe.efi to [fd00:77::"),
        "{}",
        vm.context
    );
    vm.assert_serial(
        &marker,
        "iPXE fetched its per-machine script over HTTP/IPv6",
    );
    let log = server.output();
    assert!(
        log.contains("bootfile-url=http://[fd00:77::1]/m/${mac:hexhyp}.ipxe"),
        "iPXE's DHCPv6 answer with the script URL:\n{log}"
    );
}

/// qemu's iPXE ROM (SeaBIOS) on the same ULA-only link: router
/// solicitation, DHCPv6 with user class iPXE, and the per-machine script
/// `http://[fd00:77::1]/m/${mac:hexhyp}.ipxe` over HTTP/IPv6.
#[test]
fn ipxe_rom_over_ipv6_pxe_server() {
    let _g = vm_lock();
    let (lan, dir) = ula_lan();
    let http = dir.path().join("http");
    let marker = format!("PXE-TEST-MARKER ipxe6 {}", std::process::id());
    fs::create_dir_all(http.join("m")).unwrap();
    let script = http.join("m/52-54-00-ef-06-02.ipxe");
    fs::write(&script, format!("#!ipxe\necho {marker} ${{net0/ip6}}\n")).unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o644)).unwrap();
    let conf = dir.path().join("pxe.conf");
    fs::write(
        &conf,
        format!(
            "port=0\n\
             dhcp-authoritative\n\
             enable-ra\n\
             dhcp-range=fd00:77::100,fd00:77::1ff,64,1h\n\
             dhcp-userclass=set:ipxe,iPXE\n\
             dhcp-option=tag:ipxe,option6:bootfile-url,http://[fd00:77::1]/m/${{mac:hexhyp}}.ipxe\n\
             http-port=80\n\
             http-root={}\n\
             dhcp-leasefile={}\n",
            http.display(),
            dir.path().join("leases").display()
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_pxe-server");
    let mut server = Proc::spawn_in(
        &lan.srv,
        "pxe-server",
        &[bin, "--conf", conf.to_str().unwrap()],
        dir.path().join("server.log"),
    );
    std::thread::sleep(Duration::from_millis(500));
    server.assert_running();
    let mut vm = boot(
        &lan,
        dir.path(),
        &VmSpec {
            firmware: Firmware::Bios,
            mac: "52:54:00:ef:06:02",
            uuid: "0017001e-8c00-00ad-5087-90e6ba2f3424",
            end: End::Marker(marker.clone()),
            timeout: Duration::from_secs(180),
        },
    );
    vm.context = tail(&server.output(), 6000);
    vm.assert_serial(&marker, "iPXE ROM fetched its script over HTTP/IPv6");
    let log = server.output();
    assert!(
        log.contains("DHCPREPLY fd00:77::") && log.contains("ipxe"),
        "{log}"
    );
}

/// OVMF's HTTP Boot over IPv6: vendor class HTTPClient gets
/// `http://[fd00:77::1]/ipxe.efi` with option 16 "HTTPClient" in the same
/// ADVERTISE, fetches it over HTTP/IPv6, and iPXE then its script. A plain
/// DHCPv4 server (busybox udhcpd, no boot data) ends the firmware's HTTP
/// Boot over IPv4 attempt quickly.
#[test]
fn uefi_http_boot_over_ipv6_pxe_server() {
    let _g = vm_lock();
    let (lan, dir) = ula_lan();
    let http = dir.path().join("http");
    copy(
        &require_file("/usr/lib/ipxe/ipxe.efi", "ipxe"),
        &http.join("ipxe.efi"),
    );
    let marker = format!("PXE-TEST-MARKER http6 {}", std::process::id());
    fs::create_dir_all(http.join("m")).unwrap();
    let script = http.join("m/52-54-00-ef-06-03.ipxe");
    fs::write(&script, format!("#!ipxe\necho {marker} ${{net0/ip6}}\n")).unwrap();
    for f in [script.clone(), http.join("ipxe.efi")] {
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
    }
    let udhcpd_conf = dir.path().join("udhcpd.conf");
    fs::write(
        &udhcpd_conf,
        format!(
            "start 192.168.2.50\nend 192.168.2.99\ninterface eth0\nlease_file {}\npidfile {}\noption subnet 255.255.255.0\noption lease 600\n",
            dir.path().join("udhcpd.leases").display(),
            dir.path().join("udhcpd.pid").display()
        ),
    )
    .unwrap();
    fs::write(dir.path().join("udhcpd.leases"), "").unwrap();
    let busybox = require_tool("busybox", "busybox");
    let _udhcpd = Proc::spawn_in(
        &lan.dhcp,
        "udhcpd",
        &[
            busybox.to_str().unwrap(),
            "udhcpd",
            "-f",
            udhcpd_conf.to_str().unwrap(),
        ],
        dir.path().join("udhcpd.log"),
    );
    let conf = dir.path().join("pxe.conf");
    fs::write(
        &conf,
        format!(
            "port=0\n\
             dhcp-authoritative\n\
             enable-ra\n\
             dhcp-range=fd00:77::100,fd00:77::1ff,64,1h\n\
             dhcp-userclass=set:ipxe,iPXE\n\
             dhcp-vendorclass=set:http,enterprise:343,HTTPClient\n\
             dhcp-option=tag:http,tag:!ipxe,option6:bootfile-url,http://[fd00:77::1]/ipxe.efi\n\
             dhcp-option=tag:ipxe,option6:bootfile-url,http://[fd00:77::1]/m/${{mac:hexhyp}}.ipxe\n\
             http-port=80\n\
             http-root={}\n\
             dhcp-leasefile={}\n",
            http.display(),
            dir.path().join("leases").display()
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_pxe-server");
    let mut server = Proc::spawn_in(
        &lan.srv,
        "pxe-server",
        &[bin, "--conf", conf.to_str().unwrap()],
        dir.path().join("server.log"),
    );
    std::thread::sleep(Duration::from_millis(500));
    server.assert_running();
    let mut vm = boot(
        &lan,
        dir.path(),
        &VmSpec {
            firmware: Firmware::UefiHttp,
            mac: "52:54:00:ef:06:03",
            uuid: "0017001e-8c00-00ad-5087-90e6ba2f3425",
            end: End::Marker(marker.clone()),
            timeout: Duration::from_secs(300),
        },
    );
    vm.context = tail(&server.output(), 6000);
    vm.assert_serial(
        "Start HTTP Boot over IPv6",
        "firmware: EDK2 HTTP Boot over IPv6 runs",
    );
    vm.assert_serial(
        "http://[fd00:77::1]/ipxe.efi",
        "DHCPv6: HTTPClient got the URL",
    );
    vm.assert_serial(&marker, "iPXE fetched its script over HTTP/IPv6");
    let log = server.output();
    assert!(
        log.contains("bootfile-url=http://[fd00:77::1]/ipxe.efi"),
        "{log}"
    );
}
