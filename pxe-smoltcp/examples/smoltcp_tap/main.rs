//! Run the no-OS netboot server on a Linux TAP device, as a board would run
//! it on its Ethernet MAC: smoltcp's interface, files in memory, leases in
//! RAM.
//!
//! ```text
//! # as root: the example creates tap0; give the kernel side an address
//! cargo run -p pxe-smoltcp --example smoltcp_tap -- --tap tap0 --addr 10.9.0.1/24 \
//!     -o dhcp-range=10.9.0.100,10.9.0.150 -o dhcp-boot=boot.bin -o enable-tftp \
//!     --file boot.bin=/usr/lib/PXELINUX/pxelinux.0 &
//! ip link set tap0 up && ip addr add 10.9.0.2/24 dev tap0
//! curl -o /tmp/x tftp://10.9.0.1/boot.bin
//! ```
//!
//! Flags: `--tap NAME` (default tap0), `--addr A.B.C.D/N` (required),
//! `--mac aa:bb:cc:dd:ee:ff`, `--conf FILE` (dnsmasq dialect) and/or
//! `-o LINE` (one configuration line, repeatable), `--file NAME=PATH`
//! (loaded into memory, repeatable), `-q` (no log lines).

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use smoltcp::wire::Ipv4Cidr;

mod tap;

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

fn parse_args(args: &[String]) -> Result<tap::TapOptions, String> {
    let mut tap_name = String::from("tap0");
    let mut addr = None;
    let mut mac = [0x02, 0x00, 0x00, 0x5e, 0x00, 0x01];
    let mut text = String::new();
    let mut files = Vec::new();
    let mut verbose = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = |what: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs {what}"))
        };
        match a.as_str() {
            "--tap" => tap_name = val("a device name")?,
            "--addr" => {
                let v = val("an address like 10.9.0.1/24")?;
                addr = Some(
                    v.parse::<Ipv4Cidr>()
                        .map_err(|()| format!("--addr {v}: expected A.B.C.D/N"))?,
                );
            }
            "--mac" => {
                let v = val("a MAC address")?;
                mac = parse_mac(&v)
                    .ok_or_else(|| format!("--mac {v}: expected aa:bb:cc:dd:ee:ff"))?;
            }
            "--conf" => {
                let p = val("a file")?;
                let t = std::fs::read_to_string(&p).map_err(|e| format!("--conf {p}: {e}"))?;
                text.push_str(&t);
                text.push('\n');
            }
            "-o" => {
                text.push_str(&val("a configuration line")?);
                text.push('\n');
            }
            "--file" => {
                let v = val("NAME=PATH")?;
                let (name, path) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--file {v}: expected NAME=PATH"))?;
                let data = std::fs::read(path).map_err(|e| format!("--file {path}: {e}"))?;
                files.push((name.to_string(), data));
            }
            "-q" => verbose = false,
            "-h" | "--help" => {
                return Err(String::from(
                    "usage: smoltcp_tap --addr A.B.C.D/N [--tap NAME] [--mac MAC] [--conf FILE] [-o LINE]... [--file NAME=PATH]... [-q]",
                ));
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    let addr = addr.ok_or("--addr A.B.C.D/N is required")?;
    let config = pxe_rules::Config::parse_str(&text, "command line")
        .map_err(|e| format!("configuration: {e}"))?;
    Ok(tap::TapOptions {
        tap: tap_name,
        addr,
        mac,
        config,
        files,
        verbose,
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse_args(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("smoltcp_tap: {e}");
            return ExitCode::from(2);
        }
    };
    let ready = AtomicBool::new(false);
    let stop = AtomicBool::new(false);
    match tap::run(opts, &ready, &stop) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smoltcp_tap: {e}");
            ExitCode::FAILURE
        }
    }
}
