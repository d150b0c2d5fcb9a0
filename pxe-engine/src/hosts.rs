//! The hosts file (`/etc/hosts` format), where a next-server given by name
//! in `dhcp-boot` or `pxe-service` is looked up, as dnsmasq does (hosts
//! file only, never DNS: a boot reply must not wait on a resolver).

use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

/// Names and their IPv4 addresses, in file order (the first entry for a
/// name wins, as in the C library).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hosts {
    entries: Vec<(String, Ipv4Addr)>,
}

impl Hosts {
    /// Reads hosts-file text: `ADDRESS NAME [ALIAS...]` per line, `#`
    /// comments; IPv6 and malformed lines are skipped.
    pub fn parse(text: &str) -> Self {
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut fields = line.split_whitespace();
            let Some(Ok(addr)) = fields.next().map(str::parse::<Ipv4Addr>) else {
                continue;
            };
            for name in fields {
                entries.push((name.to_ascii_lowercase(), addr));
            }
        }
        Hosts { entries }
    }

    /// The address of `name` (case-insensitive), if listed.
    pub fn lookup(&self, name: &str) -> Option<Ipv4Addr> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, a)| *a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_the_c_library() {
        let h = Hosts::parse(
            "127.0.0.1 localhost\n\
             # a comment\n\
             192.168.2.5\tBootHost boot  # trailing comment\n\
             ::1 ip6-localhost\n\
             192.168.2.6 boothost\n\
             garbage line\n",
        );
        assert_eq!(h.lookup("boothost"), Some(Ipv4Addr::new(192, 168, 2, 5)));
        assert_eq!(h.lookup("BOOT"), Some(Ipv4Addr::new(192, 168, 2, 5)));
        assert_eq!(h.lookup("ip6-localhost"), None);
        assert_eq!(h.lookup("garbage"), None);
        assert_eq!(h.lookup("line"), None);
    }
}
