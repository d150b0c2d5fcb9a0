//! The example's main loop: `pxe_smoltcp::Server` on a Linux TAP device.
//! Shared with `tests/tap.rs`, which runs it inside a network namespace.

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pxe_smoltcp::{MemoryFiles, Server, Settings, Stats, VolatileLeases};
use smoltcp::iface::{Config as IfaceConfig, Interface, SocketSet};
use smoltcp::phy::{Device, Medium, TunTapInterface, wait as phy_wait};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Cidr};

/// What to run.
pub(crate) struct TapOptions {
    /// TAP device to open (created if missing).
    pub(crate) tap: String,
    /// The server's address and prefix on the link.
    pub(crate) addr: Ipv4Cidr,
    /// The server's MAC address.
    pub(crate) mac: [u8; 6],
    /// The compiled configuration.
    pub(crate) config: pxe_rules::Config,
    /// Files served over TFTP: `(name, contents)`.
    pub(crate) files: Vec<(String, Vec<u8>)>,
    /// Print log lines to stderr.
    pub(crate) verbose: bool,
}

/// Open the TAP device, start the server and serve until `stop` turns
/// true (then return the counters). `ready` is set once the device is open.
pub(crate) fn run(
    opts: TapOptions,
    ready: &AtomicBool,
    stop: &AtomicBool,
) -> Result<Stats, String> {
    let mut device = TunTapInterface::new(&opts.tap, Medium::Ethernet)
        .map_err(|e| format!("cannot open TAP device {}: {e}", opts.tap))?;
    let fd = device.as_raw_fd();
    let mtu = device.capabilities().max_transmission_unit;
    let mut iface_conf = IfaceConfig::new(HardwareAddress::Ethernet(EthernetAddress(opts.mac)));
    iface_conf.random_seed = u64::from(std::process::id());
    let mut iface = Interface::new(iface_conf, &mut device, Instant::now());
    iface.update_ip_addrs(|a| {
        let _ = a.push(IpCidr::Ipv4(opts.addr));
    });
    let table: Vec<(&str, &[u8])> = opts
        .files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let mut settings = Settings::from_config(&opts.config);
    settings.iface_name = opts.tap.clone();
    settings.unix_offset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .saturating_sub(u64::try_from(Instant::now().total_millis() / 1000).unwrap_or(0));
    // The device MTU counts the Ethernet header.
    settings.mtu = settings
        .mtu
        .min(u16::try_from(mtu.saturating_sub(14)).unwrap_or(1500));
    let mut sockets = SocketSet::new(Vec::new());
    let mut server = Server::new(
        Arc::new(opts.config),
        settings,
        MemoryFiles::new(&table),
        VolatileLeases,
        &mut sockets,
    )
    .map_err(|e| format!("cannot start: {e}"))?;
    if opts.verbose {
        eprintln!(
            "serving on {} as {} ({} file(s)); the host side is the kernel's {}: `ip link set {} up`",
            opts.tap,
            opts.addr,
            table.len(),
            opts.tap,
            opts.tap
        );
    }
    ready.store(true, Ordering::SeqCst);
    let verbose = opts.verbose;
    let mut log = |a: std::fmt::Arguments<'_>| {
        if verbose {
            eprintln!("{a}");
        }
    };
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        iface.poll(now, &mut device, &mut sockets);
        if server.poll_logged(now, &iface, &mut sockets, &mut log) {
            // Send what was just queued without waiting.
            iface.poll(now, &mut device, &mut sockets);
        }
        let cap = Duration::from_millis(100);
        let delay = [iface.poll_delay(now, &sockets), server.poll_delay(now)]
            .into_iter()
            .flatten()
            .fold(cap, |a, b| a.min(b));
        phy_wait(fd, Some(delay)).map_err(|e| format!("wait on {}: {e}", opts.tap))?;
    }
    Ok(server.stats())
}
