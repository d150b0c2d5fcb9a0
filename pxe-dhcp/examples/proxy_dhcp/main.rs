//! A proxyDHCP and PXE boot server (UDP 67 and 4011) to run beside the
//! network's own DHCP server, configured with dnsmasq lines, on
//! `std::net::UdpSocket`: `pxe-rules` decides what each client gets,
//! `pxe-dhcp` reads the requests and writes the replies ([`reply`]).
//!
//! ```text
//! # as root, on the host that is 192.168.2.1/24 on the PXE clients' network
//! cargo run -p pxe-dhcp --example proxy_dhcp -- --addr 192.168.2.1/24 --conf conf/seed-proxy.conf
//! cargo run -p pxe-dhcp --example proxy_dhcp -- --addr 192.168.2.1/24 -v \
//!     -o dhcp-range=192.168.2.0,proxy -o 'pxe-service=x86PC,"Network boot",undionly'
//! ```
//!
//! * `--addr A.B.C.D/N` (required): this server's address, named in every
//!   reply (server identifier, boot server), and its network.
//! * `--conf FILE` and/or `-o LINE` (repeatable): dnsmasq configuration
//!   (`dhcp-range=...,proxy`, `pxe-service`, `pxe-prompt`, `dhcp-boot`,
//!   `dhcp-match`, ...). Only proxy and boot-server replies are sent.
//! * `-v`: print every request answered and its reply, option by option.
//!
//! Boot files are not served: run a TFTP server (or `dnsmasq
//! --enable-tftp --port=0`) beside it. Replies to a client without an
//! address go to `255.255.255.255:68`, and std cannot pick the interface
//! for that, so the kernel's route for it decides: a host whose default
//! route is on the PXE network needs nothing, any other needs
//! `ip route add 255.255.255.255/32 dev IFACE`.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pxe_dhcp::Packet;
use pxe_rules::{Config, Context, FsLoader, Port};

mod reply;

const USAGE: &str = "usage: proxy_dhcp --addr A.B.C.D/N [--conf FILE] [-o LINE]... [-v]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match parse_args(&args).and_then(|(config, ctx, verbose)| {
        serve(&config, ctx, verbose, &AtomicBool::new(false)).map_err(|e| format!("{e}"))
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("proxy_dhcp: {e}\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

/// The configuration, this server's address and netmask, and `-v`.
fn parse_args(args: &[String]) -> Result<(Config, Context<'static>, bool), String> {
    let (mut text, mut addr, mut verbose) = (String::new(), None, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--addr" => addr = Some(parse_cidr(value()?)?),
            // Read through `conf-file=` so errors name the file and its line.
            "--conf" => text += &format!("conf-file={}\n", value()?),
            "-o" => text += &format!("{}\n", value()?),
            "-v" => verbose = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let (local, netmask) = addr.ok_or("--addr A.B.C.D/N is required")?;
    let config = Config::parse_with_loader(&text, "command line", &mut FsLoader)
        .map_err(|e| e.to_string())?;
    Ok((config, Context::new(local, netmask), verbose))
}

/// `192.168.2.1/24` as the address and its netmask.
fn parse_cidr(s: &str) -> Result<(Ipv4Addr, Ipv4Addr), String> {
    let bad = || format!("--addr {s}: expected A.B.C.D/N");
    let (a, n) = s.split_once('/').ok_or_else(bad)?;
    let n: u32 = n.parse().ok().filter(|n| *n <= 32).ok_or_else(bad)?;
    let mask = u32::MAX.checked_shl(32 - n).unwrap_or(0);
    Ok((a.parse().map_err(|_| bad())?, Ipv4Addr::from(mask)))
}

/// Answers on UDP 67 and 4011 (one thread each) until `stop` is set.
pub(crate) fn serve(
    config: &Config,
    ctx: Context<'_>,
    verbose: bool,
    stop: &AtomicBool,
) -> io::Result<()> {
    let dhcp = bind(67)?;
    let pxe = bind(4011)?;
    // Whichever loop fails first stops the other.
    let run = |socket: &UdpSocket, port| {
        let result = answer_on(socket, config, ctx.with_port(port), verbose, stop);
        stop.store(true, Ordering::SeqCst);
        result
    };
    std::thread::scope(|s| {
        let boot_server = s.spawn(|| run(&pxe, Port::Pxe));
        let proxy = run(&dhcp, Port::Dhcp);
        let boot_server = boot_server
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("4011 thread panicked")));
        proxy.and(boot_server)
    })
}

/// A socket on `0.0.0.0:port` that sends broadcasts and wakes every 200 ms.
fn bind(port: u16) -> io::Result<UdpSocket> {
    let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port))?;
    s.set_broadcast(true)?;
    s.set_read_timeout(Some(Duration::from_millis(200)))?;
    Ok(s)
}

fn answer_on(
    socket: &UdpSocket,
    config: &Config,
    ctx: Context<'_>,
    verbose: bool,
    stop: &AtomicBool,
) -> io::Result<()> {
    // The two buffers are reused for every datagram.
    let (mut request, mut reply) = ([0u8; 1500], [0u8; 1500]);
    while !stop.load(Ordering::SeqCst) {
        let (n, from) = match socket.recv_from(&mut request) {
            Ok((n, SocketAddr::V4(from))) => (n, from),
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        let Some((len, to)) = reply::answer(config, &ctx, &request[..n], from, &mut reply) else {
            continue;
        };
        // A failed send concerns this client only: say so and go on.
        if let Err(e) = socket.send_to(&reply[..len], to) {
            eprintln!("proxy_dhcp: reply to {to}: {e}");
            continue;
        }
        let (Ok(q), Ok(r)) = (
            Packet::new_checked(&request[..n]),
            Packet::new_checked(&reply[..len]),
        ) else {
            continue;
        };
        if verbose {
            println!("from {from}:\n{q}\nto {to}:\n{r}\n");
        } else if let Ok(Some(t)) = r.message_type() {
            println!("{t} to {to} for {from}, xid {:#010x}", q.xid());
        }
    }
    Ok(())
}
