//! Router advertisements where `enable-ra` asks for them (RFC 4861), as
//! dnsmasq sends them: the managed flag for stateful DHCPv6 ranges (iPXE
//! sends no SOLICIT without it; EDK2 waits for a route after its REPLY),
//! the other-configuration flag, a prefix option per IPv6 range of the
//! link (autonomous only for `ra-only`/`slaac`/`ra-names`/`ra-stateless`),
//! the link MTU and the source link-layer address. The engine writes the
//! ICMPv6 message; the driver sends it from a raw ICMPv6 socket with hop
//! limit 255 (the kernel fills in the checksum).

use core::net::Ipv6Addr;

use pxe_rules::config::{RaPriority, Range6};

use super::super::Engine;

/// The all-nodes group unsolicited advertisements go to.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// dnsmasq's default interval between unsolicited advertisements.
const DEFAULT_INTERVAL: u32 = 600;
/// dnsmasq's default router lifetime.
const DEFAULT_LIFETIME: u16 = 1800;

/// What the advertisement for one interface says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouterAdvert {
    /// Managed address configuration (stateful DHCPv6).
    pub managed: bool,
    /// Other configuration (options by DHCPv6).
    pub other: bool,
    /// Router lifetime in seconds.
    pub lifetime: u16,
    /// Seconds between unsolicited advertisements.
    pub interval: u32,
    /// The MTU option's value (`None`: no MTU option).
    pub mtu: Option<u32>,
    /// Router preference.
    pub priority: Option<RaPriority>,
}

fn iface_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(p) => name.starts_with(p),
        None => pattern == name,
    }
}

impl Engine {
    /// The IPv6 ranges on the link of `local` (`constructor:` ranges
    /// through the interface name), in configuration order.
    fn ranges_on_link<'c>(
        &'c self,
        iface: &'c str,
        local: Ipv6Addr,
    ) -> impl Iterator<Item = &'c Range6> + 'c {
        self.config.ranges6().map(|(_, r)| r).filter(move |r| {
            r.on_network(local).is_some()
                && r.constructor
                    .as_deref()
                    .is_none_or(|c| iface_matches(c, iface))
        })
    }

    /// What to advertise on `iface` (whose address on the link is `local`
    /// and MTU `mtu`), or `None` without `enable-ra` or a range there.
    pub fn router_advert_plan(
        &self,
        iface: &str,
        local: Ipv6Addr,
        mtu: u32,
    ) -> Option<RouterAdvert> {
        let s = &self.config.settings;
        if !s.enable_ra {
            return None;
        }
        let mut ranges = self.ranges_on_link(iface, local).peekable();
        ranges.peek()?;
        let mut managed = false;
        for r in ranges {
            managed |= r.modes.stateful();
        }
        let param = s
            .ra_params
            .iter()
            .find(|p| iface_matches(&p.interface, iface));
        Some(RouterAdvert {
            managed,
            other: true,
            lifetime: param
                .and_then(|p| p.lifetime)
                .map_or(DEFAULT_LIFETIME, |l| l.min(u32::from(u16::MAX)) as u16),
            interval: param
                .and_then(|p| p.interval)
                .filter(|i| *i > 0)
                .unwrap_or(DEFAULT_INTERVAL),
            mtu: match param.and_then(|p| p.mtu) {
                Some(0) => None,
                Some(m) => Some(m),
                None => Some(mtu),
            },
            priority: param.and_then(|p| p.priority),
        })
    }

    /// Writes the router advertisement for `iface` into `out` (the ICMPv6
    /// message, checksum 0 for the kernel to fill in); `None` when there
    /// is nothing to advertise or `out` is too small.
    pub fn router_advert(
        &self,
        iface: &str,
        local: Ipv6Addr,
        mac: Option<[u8; 6]>,
        mtu: u32,
        out: &mut [u8],
    ) -> Option<usize> {
        let plan = self.router_advert_plan(iface, local, mtu)?;
        let mut w = 0usize;
        let mut put = |bytes: &[u8]| -> Option<()> {
            out.get_mut(w..w + bytes.len())?.copy_from_slice(bytes);
            w += bytes.len();
            Some(())
        };
        let prf = match plan.priority {
            Some(RaPriority::High) => 0b01 << 3,
            Some(RaPriority::Low) => 0b11 << 3,
            None => 0,
        };
        let flags = (u8::from(plan.managed) << 7) | (u8::from(plan.other) << 6) | prf;
        put(&[134, 0, 0, 0, 64, flags])?;
        put(&plan.lifetime.to_be_bytes())?;
        put(&[0; 8])?; // reachable time, retrans timer: unspecified
        if let Some(m) = mac {
            put(&[1, 1])?;
            put(&m)?;
        }
        if let Some(m) = plan.mtu {
            put(&[5, 1, 0, 0])?;
            put(&m.to_be_bytes())?;
        }
        for r in self.ranges_on_link(iface, local) {
            let Some((start, _)) = r.on_network(local) else {
                continue;
            };
            let mask = if r.prefix_len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(r.prefix_len.min(128)))
            };
            let prefix = Ipv6Addr::from(u128::from(start) & mask);
            let lifetime = r.lease.map_or(3600, |l| l.as_secs());
            let pflags = (u8::from(!r.modes.off_link) << 7) | (u8::from(r.modes.slaac()) << 6);
            put(&[3, 4, r.prefix_len, pflags])?;
            put(&lifetime.to_be_bytes())?;
            put(&(if r.deprecated { 0 } else { lifetime }).to_be_bytes())?;
            put(&[0; 4])?;
            put(&prefix.octets())?;
        }
        Some(w)
    }
}
