//! Which UDP sockets a configuration needs: the one rule both drivers
//! bind by.

use pxe_rules::Config;

use super::addressing::{PXE_PORT, SERVER_PORT};

/// The UDP sockets the engine needs, as dnsmasq opens them.
///
/// * Port 67 whenever DHCP is configured: some `dhcp-range`, full, static
///   or proxy. Without one nothing is answered at all.
/// * Port 4011 (the PXE boot server, and proxyDHCP REQUESTs) when PXE
///   handling is on as well: some `pxe-service` or `pxe-prompt` line.
///   dnsmasq opens it exactly then; a proxy range without either answers
///   nothing (not even on 67), and a boot-server request needs a service,
///   so 4011 would serve no one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sockets {
    /// UDP 67 (DHCP, proxyDHCP DISCOVERs).
    pub dhcp: bool,
    /// UDP 4011 (PXE boot server, proxyDHCP REQUESTs).
    pub pxe: bool,
    /// UDP 547 (DHCPv6), joined to ff02::1:2: some IPv6 `dhcp-range`
    /// (and router advertisements with `enable-ra`).
    pub dhcp6: bool,
}

impl Sockets {
    /// The sockets `config` needs.
    pub fn for_config(config: &Config) -> Self {
        let dhcp = config.ranges().next().is_some();
        Sockets {
            dhcp,
            pxe: dhcp && config.pxe_enabled(),
            dhcp6: config.dhcp6_enabled(),
        }
    }

    /// Whether any DHCP service runs (DHCPv4 or DHCPv6).
    pub fn any(self) -> bool {
        self.dhcp || self.dhcp6
    }

    /// Their well-known ports, 67 first.
    pub fn ports(self) -> impl Iterator<Item = u16> {
        [(self.dhcp, SERVER_PORT), (self.pxe, PXE_PORT)]
            .into_iter()
            .filter_map(|(on, port)| on.then_some(port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn sockets(conf: &str) -> Sockets {
        match Config::parse_str(conf, "t.conf") {
            Ok(c) => Sockets::for_config(&c),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn ports_follow_ranges_and_pxe_handling() {
        let none = sockets("enable-tftp\n");
        assert_eq!(none.ports().count(), 0, "no dhcp-range: DHCP is off");
        let full = sockets("dhcp-range=10.0.0.10,10.0.0.20\n");
        assert_eq!(full.ports().collect::<Vec<_>>(), [67]);
        let full_pxe =
            sockets("dhcp-range=10.0.0.10,10.0.0.20\npxe-service=x86PC,\"x\",pxelinux\n");
        assert_eq!(full_pxe.ports().collect::<Vec<_>>(), [67, 4011]);
        let prompt = sockets("dhcp-range=10.0.0.0,proxy\npxe-prompt=\"boot\",5\n");
        assert_eq!(prompt.ports().collect::<Vec<_>>(), [67, 4011]);
        // A proxy range without pxe-service/pxe-prompt answers nothing
        // (dnsmasq, spec §6.1): no 4011.
        let bare_proxy = sockets("dhcp-range=10.0.0.0,proxy\ndhcp-boot=pxelinux.0\n");
        assert_eq!(bare_proxy.ports().collect::<Vec<_>>(), [67]);
        // A service without any range serves no one.
        let no_range = sockets("pxe-service=x86PC,\"x\",pxelinux\n");
        assert_eq!(no_range.ports().count(), 0);
        // DHCPv6 on its own socket; the IPv4 ports stay as they were.
        let v6 = sockets("dhcp-range=fd00::10,fd00::20\n");
        assert!(v6.dhcp6 && v6.any() && v6.ports().count() == 0);
        assert!(!full.dhcp6);
    }
}
