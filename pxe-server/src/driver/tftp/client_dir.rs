//! `tftp-unique-root[=ip|mac]`: each client reads from a directory of its
//! own below the TFTP root, named after its IP address (`192.168.2.50`) or
//! its MAC address (`52-54-00-12-34-56`, lower-case, as dnsmasq), and only
//! if that directory exists; otherwise the root itself serves it.
//!
//! The MAC address of a TFTP client is not in its packets: it comes from
//! the client's DHCP lease, else from the kernel's ARP table (a client on
//! the link has just resolved our address, so the kernel knows its MAC).

use core::fmt::Write;
use std::net::Ipv4Addr;
use std::string::{String, ToString};
use std::vec::Vec;

use pxe_rules::config::UniqueRoot;

/// Finds the hardware address of a client by its IP address.
pub trait MacLookup: Send + Sync + core::fmt::Debug {
    /// The hardware address of the client at `ip`, if known.
    fn mac_of(&self, ip: Ipv4Addr) -> Option<Vec<u8>>;
}

/// Where MAC addresses come from: an optional lease lookup, then the
/// kernel's ARP table.
#[derive(Debug, Default)]
pub struct MacSources {
    /// DHCP leases (the server's own).
    pub leases: Option<std::sync::Arc<dyn MacLookup>>,
}

impl MacSources {
    /// The MAC of the client at `ip`: its lease, else `/proc/net/arp`.
    pub fn mac_of(&self, ip: Ipv4Addr) -> Option<Vec<u8>> {
        if let Some(mac) = self.leases.as_ref().and_then(|l| l.mac_of(ip)) {
            return Some(mac);
        }
        let table = std::fs::read_to_string("/proc/net/arp").ok()?;
        arp_entry(&table, ip).map(|m| m.to_vec())
    }
}

/// The directory name for the client at `ip` (with hardware address
/// `mac`, when known), or `None` when the kind needs a MAC nobody knows.
pub fn dir_name(kind: UniqueRoot, ip: Ipv4Addr, mac: Option<&[u8]>) -> Option<String> {
    match kind {
        UniqueRoot::Ip => Some(ip.to_string()),
        UniqueRoot::Mac => {
            let mac = mac.filter(|m| !m.is_empty())?;
            let mut s = String::with_capacity(mac.len() * 3);
            for (i, b) in mac.iter().enumerate() {
                if i > 0 {
                    s.push('-');
                }
                let _ = write!(s, "{b:02x}");
            }
            Some(s)
        }
    }
}

/// The complete entry for `ip` in the text of `/proc/net/arp`
/// (`IP address  HW type  Flags  HW address  Mask  Device`).
pub fn arp_entry(table: &str, ip: Ipv4Addr) -> Option<[u8; 6]> {
    const ATF_COM: u32 = 0x2;
    table.lines().skip(1).find_map(|line| {
        let mut f = line.split_whitespace();
        let addr: Ipv4Addr = f.next()?.parse().ok()?;
        let _hw_type = f.next()?;
        let flags = u32::from_str_radix(f.next()?.trim_start_matches("0x"), 16).ok()?;
        let hw = f.next()?;
        if addr != ip || flags & ATF_COM == 0 {
            return None;
        }
        let mut mac = [0u8; 6];
        let mut parts = hw.split(':');
        for b in &mut mac {
            *b = u8::from_str_radix(parts.next()?, 16).ok()?;
        }
        (parts.next().is_none() && mac != [0; 6]).then_some(mac)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARP: &str = "\
IP address       HW type     Flags       HW address            Mask     Device
10.0.0.7         0x1         0x2         52:54:00:12:34:5a     *        veth0
10.0.0.8         0x1         0x0         00:00:00:00:00:00     *        veth0
10.0.0.9         0x1         0x2         zz:54:00:12:34:5a     *        veth0
";

    #[test]
    fn names_as_dnsmasq() {
        let ip = Ipv4Addr::new(10, 0, 0, 7);
        assert_eq!(dir_name(UniqueRoot::Ip, ip, None).unwrap(), "10.0.0.7");
        let mac = [0x52, 0x54, 0, 0x12, 0x34, 0x5a];
        assert_eq!(
            dir_name(UniqueRoot::Mac, ip, Some(&mac)).unwrap(),
            "52-54-00-12-34-5a"
        );
        assert_eq!(dir_name(UniqueRoot::Mac, ip, None), None);
    }

    #[test]
    fn arp_table() {
        assert_eq!(
            arp_entry(ARP, Ipv4Addr::new(10, 0, 0, 7)),
            Some([0x52, 0x54, 0, 0x12, 0x34, 0x5a])
        );
        assert_eq!(
            arp_entry(ARP, Ipv4Addr::new(10, 0, 0, 8)),
            None,
            "incomplete"
        );
        assert_eq!(arp_entry(ARP, Ipv4Addr::new(10, 0, 0, 9)), None, "garbled");
        assert_eq!(arp_entry(ARP, Ipv4Addr::new(10, 0, 0, 1)), None);
        assert_eq!(arp_entry("", Ipv4Addr::new(10, 0, 0, 7)), None);
    }
}
