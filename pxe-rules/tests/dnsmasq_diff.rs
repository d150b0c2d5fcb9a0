//! Differential test against the real dnsmasq 2.90: the same configuration
//! and the same request bytes go to dnsmasq (in a pair of network
//! namespaces this test creates and removes) and to our evaluator; the
//! reply dnsmasq sends must be what our decision describes (boot fields
//! and every option decided by the rules, in dnsmasq's order).
//!
//! Needs root, `ip` (iproute2), `dnsmasq` and `python3` (the client side);
//! fails with a clear message when one is missing.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;
use common::*;

use pxe_rules::{Config, Context, Facts, Port, Verdict};
use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

const SRV: Ipv4Addr = Ipv4Addr::new(192, 168, 77, 1);
const CLI: Ipv4Addr = Ipv4Addr::new(192, 168, 77, 50);

fn need(tool: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success());
    assert!(
        ok.unwrap_or(false),
        "this test needs `{tool}` (Debian: iproute2, dnsmasq, python3) and root"
    );
}

fn sh(cmd: &str) {
    let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    assert!(
        out.status.success(),
        "`{cmd}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two namespaces joined by a veth pair; dnsmasq runs in the server one.
struct Lab {
    srv: String,
    cli: String,
    dir: std::path::PathBuf,
    dnsmasq: Option<Child>,
}

impl Lab {
    fn new(conf: &str) -> Lab {
        for t in ["ip", "dnsmasq", "python3"] {
            need(t);
        }
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let id = format!("{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(format!("pxe-rules-diff-{id}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut lab = Lab {
            srv: format!("pxrs-{id}"),
            cli: format!("pxrc-{id}"),
            dir,
            dnsmasq: None,
        };
        let (s, c) = (&lab.srv, &lab.cli);
        sh(&format!("ip netns add {s} && ip netns add {c}"));
        sh(&format!(
            "ip link add vs-{id} netns {s} type veth peer name vc-{id} netns {c}"
        ));
        sh(&format!(
            "ip -n {s} addr add {SRV}/24 dev vs-{id} && ip -n {s} link set vs-{id} up && ip -n {s} link set lo up"
        ));
        sh(&format!(
            "ip -n {c} addr add {CLI}/24 dev vc-{id} && ip -n {c} link set vc-{id} up && ip -n {c} link set lo up"
        ));
        let conf_path = lab.dir.join("dnsmasq.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                s,
                "dnsmasq",
                "--no-daemon",
                "--port=0",
                "--no-ping",
                "--no-resolv",
                "--no-hosts",
            ])
            .arg(format!("--conf-file={}", conf_path.display()))
            .arg(format!("--interface=vs-{id}"))
            .arg("--bind-interfaces")
            .arg("--tftp-no-fail")
            .arg(format!(
                "--dhcp-leasefile={}",
                lab.dir.join("leases").display()
            ))
            .arg(format!("--pid-file={}", lab.dir.join("pid").display()))
            .arg("--user=root")
            .arg("--log-dhcp")
            .arg(format!("--log-facility={}", lab.dir.join("log").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        lab.dnsmasq = Some(child);
        // Ready once it listens on 67 (and 4011 when PXE is on).
        let pxe = conf.contains("pxe-service") || conf.contains("pxe-prompt");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let out = Command::new("ip")
                .args(["netns", "exec", &lab.srv, "ss", "-Hlun"])
                .output()
                .unwrap();
            let t = String::from_utf8_lossy(&out.stdout);
            if t.contains(":67 ") && (!pxe || t.contains(":4011 ")) {
                break;
            }
            if let Some(c) = lab.dnsmasq.as_mut()
                && let Ok(Some(st)) = c.try_wait()
            {
                panic!("dnsmasq exited ({st}) on this configuration:\n{conf}");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "dnsmasq did not start listening"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        lab
    }

    /// Sends each request from the client namespace (port 68, broadcast to
    /// 67, or unicast to the server's 4011) and returns dnsmasq's reply to
    /// each, if one came.
    fn exchange(&self, reqs: &[(Vec<u8>, Port)]) -> Vec<Option<Vec<u8>>> {
        let iface = format!("vc-{}", &self.cli[5..]);
        let script = format!(
            r#"
import socket, sys, select, time
out = []
for line in sys.stdin.read().split():
    port, hexreq = line.split(':')
    req = bytes.fromhex(hexreq)
    xid = req[4:8]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"{iface}")
    if port == '67':
        s.bind(('0.0.0.0', 68)); s.sendto(req, ('255.255.255.255', 67))
    else:
        s.bind(('{CLI}', 4011)); s.sendto(req, ('{SRV}', 4011))
    got = '-'
    end = time.time() + 0.6
    while time.time() < end:
        r, _, _ = select.select([s], [], [], max(0, end - time.time()))
        if not r: break
        data, src = s.recvfrom(4096)
        if len(data) >= 240 and data[0] == 2 and data[4:8] == xid:
            got = data.hex(); break
    s.close()
    out.append(got)
print(' '.join(out))
"#
        );
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.cli, "python3", "-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let input: String = reqs
            .iter()
            .map(|(r, p)| {
                format!(
                    "{}:{} ",
                    if *p == Port::Pxe { 4011 } else { 67 },
                    r.iter().map(|b| format!("{b:02x}")).collect::<String>()
                )
            })
            .collect();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "client failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .map(|h| {
                if h == "-" {
                    None
                } else {
                    Some(
                        (0..h.len())
                            .step_by(2)
                            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                            .collect(),
                    )
                }
            })
            .collect()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut c) = self.dnsmasq.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.srv])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.cli])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const SERVER_OWNED: &[u8] = &[53, 54, 51, 58, 59, 1, 28, 3, 6, 12, 15, 82];

/// Gives every request its own MAC and xid.
fn personalise(mut r: Vec<u8>, k: u8) -> Vec<u8> {
    r[4..8].copy_from_slice(&[0xd1, 0xff, 0, k]);
    // Broadcast flag: the client namespace cannot receive a unicast to an
    // address it does not have.
    r[10] = 0x80;
    r[33] = k;
    // Keep option 61 (client id) consistent with the MAC.
    let mut i = 240;
    while i + 1 < r.len() && r[i] != 255 {
        if r[i] == 0 {
            i += 1;
            continue;
        }
        let l = usize::from(r[i + 1]);
        if r[i] == 61 && l == 7 {
            r[i + 2 + 6] = k;
        }
        i += 2 + l;
    }
    r
}

fn compare(name: &str, text: &str, reqs: &[(Vec<u8>, Port)]) -> (usize, usize) {
    let config = Config::parse_str(text, name).unwrap();
    let lab = Lab::new(text);
    let replies = lab.exchange(reqs);
    assert_eq!(
        replies.len(),
        reqs.len(),
        "{name}: one answer slot per request"
    );
    let (mut answered, mut silent) = (0, 0);
    for ((req, port), reply) in reqs.iter().zip(&replies) {
        let pkt = packet(req);
        let facts = Facts::new(&pkt).unwrap();
        let ctx = Context::new(SRV, MASK).with_port(*port);
        let mut ex = pxe_rules::Explanation::default();
        let d = config.evaluate_traced(&facts, &ctx, &mut ex);
        let log = || std::fs::read_to_string(lab.dir.join("log")).unwrap_or_default();
        let why = || {
            format!(
                "{name}, request {:?} on {port:?}\n{}\n{d:?}\n--- dnsmasq log\n{}",
                &req[240..req.len().min(300)],
                ex.display(&config),
                log()
            )
        };
        let Some(r) = reply else {
            assert!(
                matches!(d.verdict(), Verdict::Ignore(_)),
                "dnsmasq was silent, we answer: {}",
                why()
            );
            silent += 1;
            continue;
        };
        assert!(
            !matches!(d.verdict(), Verdict::Ignore(_)),
            "dnsmasq answered, we ignore: {}",
            why()
        );
        let siaddr = Ipv4Addr::new(r[20], r[21], r[22], r[23]);
        assert_eq!(d.siaddr(), siaddr, "siaddr: {}", why());
        assert_eq!(
            d.file().map(<[u8]>::to_vec).unwrap_or_default(),
            cstr(&r[108..236]),
            "file: {}",
            why()
        );
        assert_eq!(
            d.sname().map(<[u8]>::to_vec).unwrap_or_default(),
            cstr(&r[44..108]),
            "sname: {}",
            why()
        );
        let want: Vec<(u8, Vec<u8>)> = options(r)
            .into_iter()
            .filter(|(c, _)| !SERVER_OWNED.contains(c))
            .collect();
        let got = rule_options(&d);
        assert_eq!(got, want, "options: {}", why());
        answered += 1;
    }
    (answered, silent)
}

fn boot_req(ty: u16, layer: u16, arch: u16) -> Vec<u8> {
    let t = ty.to_be_bytes();
    let l = layer.to_be_bytes();
    Req::new([0x52, 0x54, 0, 0xb0, 7, 1], 3)
        .ciaddr(CLI)
        .opt(93, &arch.to_be_bytes())
        .opt(
            60,
            format!("PXEClient:Arch:{arch:05}:UNDI:002001").as_bytes(),
        )
        .opt(97, &UUID97)
        .opt(43, &[71, 4, t[0], t[1], l[0], l[1], 255])
        .done()
}

fn matrix(extra: &[(Vec<u8>, Port)]) -> Vec<(Vec<u8>, Port)> {
    let mut v = Vec::new();
    let mut k = 1u8;
    for c in ALL_CLIENTS {
        v.push((personalise(client(c, 1), k), Port::Dhcp));
        k += 1;
        // A ProxyDHCP REQUEST on 4011 (no 71) from the client's address.
        let mut r = client(c, 3);
        r[12..16].copy_from_slice(&CLI.octets());
        v.push((personalise(r, k), Port::Pxe));
        k += 1;
    }
    for (r, p) in extra {
        v.push((personalise(r.clone(), k), *p));
        k += 1;
    }
    v
}

fn local77(s: &str) -> String {
    s.replace("192.168.2.", "192.168.77.")
}

const RICH: &str = "dhcp-match=set:ipxe,175
dhcp-match=set:efi,option:client-arch,7
dhcp-match=set:efi9,93,9
dhcp-match=set:hexm,60,50:58:45:*
dhcp-userclass=set:ipxeuc,iPXE
dhcp-vendorclass=set:arch11,Arch:00011
dhcp-mac=set:qemu,52:54:00:*:*:*
tag-if=set:uefi,tag:efi
tag-if=set:uefi,tag:efi9
tag-if=set:armtag,tag:arch1*
dhcp-range=set:lan,192.168.77.100,192.168.77.200,1h
dhcp-boot=tag:!ipxe,undionly.kpxe
dhcp-boot=tag:uefi,tag:!ipxe,snponly.efi,bootsrv,192.168.77.9
dhcp-boot=tag:armtag,grubaa64.efi
dhcp-boot=tag:ipxe,http://192.168.77.1/boot.ipxe
dhcp-option=42,192.168.77.43
dhcp-option=tag:!ipxe,42,192.168.77.42
dhcp-option=tag:lan,17,/export/root
dhcp-option=17,/other
dhcp-option=option:mtu,1500
dhcp-option=224,300
dhcp-option=225,\"1.2.3.4\"
dhcp-option=226,12:34:56
dhcp-option-force=208,f1:00:74:7e
dhcp-option-force=209,pxelinux.cfg/default
dhcp-option-force=211,30i
dhcp-option=encap:175,176,1b
dhcp-option=tag:ipxe,encap:175,190,user
dhcp-option=vendor:PXEClient,1,0.0.0.0
dhcp-option=option:domain-search,a.example.com,b.example.com
dhcp-option=121,10.0.0.0/8,192.168.77.1
dhcp-option-force=option:sip-server,sip1.example.com,sip2.example.com
pxe-prompt=\"Press F8 for boot menu\",5
pxe-service=x86PC,\"Boot from local disk\"
pxe-service=tag:!ipxe,x86PC,\"Install Linux\",pxelinux
pxe-service=x86PC,\"Remote\",menu.c32,192.168.77.9
pxe-service=x86PC,\"Type 13 discover\",13
pxe-service=x86-64_EFI,\"EFI one\",snponly
pxe-service=BC_EFI,\"EFI a\",ipxe.efi
pxe-service=BC_EFI,\"EFI b\",grubx64.efi
";

const RICH_PROXY: &str = "dhcp-match=set:ipxe,175
dhcp-userclass=set:ipxeuc,iPXE
dhcp-range=set:pr,192.168.77.0,proxy
dhcp-boot=tag:ipxe,http://192.168.77.1/boot.ipxe,,192.168.77.1
dhcp-option=vendor:PXEClient,6,2b
pxe-prompt=tag:!ipxe,\"Choose\",10
pxe-service=tag:!ipxe,x86PC,\"Install Linux\",pxelinux
pxe-service=tag:!ipxe,x86PC,\"Remote\",menu.c32,192.168.77.9
pxe-service=x86PC,\"Local\",0
pxe-service=tag:!ipxe,x86-64_EFI,\"EFI\",ipxe.efi
pxe-service=ARM64_EFI,\"ARM a\",grubaa64.efi
pxe-service=ARM64_EFI,\"ARM b\",shim
pxe-service=16,\"HTTP\",bootx64.efi
";

const HOSTS: &str = "dhcp-range=set:lan,192.168.77.100,192.168.77.200
dhcp-host=52:54:00:b0:07:03,set:host3,192.168.77.150
dhcp-host=52:54:00:b0:07:*,set:wild
dhcp-mac=set:m5,52:54:00:b0:07:05
dhcp-mac=set:m7,52:54:00:b0:07:07
tag-if=set:five-or-seven,tag:m5
tag-if=set:five-or-seven,tag:m7
dhcp-option=tag:lan,42,192.168.77.6
dhcp-option=tag:host3,42,192.168.77.7
dhcp-option=tag:known,44,192.168.77.44
dhcp-option=tag:!wild,45,1.1.1.1
dhcp-option=45,2.2.2.2
dhcp-option-force=120,192.168.77.5,192.168.77.6
dhcp-option=tag:five-or-seven,vendor:PXEClient,1,1.2.3.4
dhcp-option-force=tag:m7,vendor:,2,5
dhcp-boot=tag:known,known.file
dhcp-boot=tag:host3,host3.file,,192.168.77.9
dhcp-boot=tag:five-or-seven,fs.file,fsname
dhcp-ignore=tag:m5,tag:!host3
";

#[test]
fn seed_configs_against_dnsmasq() {
    let boot = vec![
        (boot_req(0x8000, 0, 0), Port::Pxe),
        (boot_req(0x8001, 0, 0), Port::Pxe),
    ];
    let mut total = (0, 0);
    for (name, text) in [
        ("real", SEED_REAL),
        ("proxy", SEED_PROXY),
        ("proxy-php", SEED_PROXY_PHP),
    ] {
        let (a, s) = compare(name, &local77(text), &matrix(&boot));
        total = (total.0 + a, total.1 + s);
    }
    assert!(total.0 >= 20, "answered {total:?}");
}

#[test]
fn rich_configs_against_dnsmasq() {
    let boot = vec![
        (boot_req(0x8000, 0, 0), Port::Pxe),
        (boot_req(0x8000, 1, 0), Port::Pxe),
        (boot_req(0x8001, 0, 0), Port::Pxe),
        (boot_req(0x8002, 3, 7), Port::Pxe),
        (boot_req(13, 0, 0), Port::Pxe),
    ];
    let (a, _) = compare("rich", RICH, &matrix(&boot));
    let (b, _) = compare("rich-proxy", RICH_PROXY, &matrix(&boot));
    let (c, s) = compare("hosts", HOSTS, &matrix(&[]));
    assert!(
        a >= 8 && b >= 6 && c >= 6 && s >= 1,
        "answered {a} / {b} / {c}, silent {s}"
    );
}
