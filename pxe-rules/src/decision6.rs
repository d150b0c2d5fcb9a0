//! The outcome of evaluating one DHCPv6 request: a [`Decision6`] naming
//! the configuration lines chosen (host, range, `option6:` lines), which
//! [`Decision6::write_options`] writes into a reply being built.

use core::net::Ipv6Addr;

use pxe_dhcp::v6::{Builder, Error as CodecError};

use crate::config::{Config, Host, LeaseTime, Option6Rule, Range6, Rule};
use crate::decision::IgnoreReason;
use crate::tags::TagSet;

/// Most `option6:` lines one decision can choose.
pub const MAX_OPTIONS6: usize = 32;

/// What the server should do with a DHCPv6 request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict6 {
    /// Answer it: addresses from [`Decision6::range`] (or the host's
    /// reservation) and the chosen options.
    Serve,
    /// No reply.
    Ignore(IgnoreReason),
}

/// The rules' answer to one DHCPv6 request.
#[derive(Debug, Clone)]
pub struct Decision6<'a> {
    pub(crate) config: &'a Config,
    pub(crate) verdict: Verdict6,
    pub(crate) tags: TagSet,
    pub(crate) host: Option<u32>,
    pub(crate) range: Option<u32>,
    pub(crate) options: [u32; MAX_OPTIONS6],
    pub(crate) n_options: usize,
    pub(crate) dns_builtin: bool,
    pub(crate) local: Ipv6Addr,
    pub(crate) link: Ipv6Addr,
}

impl<'a> Decision6<'a> {
    pub(crate) fn new(config: &'a Config, local: Ipv6Addr, link: Ipv6Addr) -> Self {
        Self {
            config,
            verdict: Verdict6::Ignore(IgnoreReason::NoRange),
            tags: TagSet::new(),
            host: None,
            range: None,
            options: [u32::MAX; MAX_OPTIONS6],
            n_options: 0,
            dns_builtin: false,
            local,
            link,
        }
    }

    /// The server's address `[::]` stands for.
    pub fn local(&self) -> Ipv6Addr {
        self.local
    }

    /// The address that chose the client's link (ours, or a relay's).
    pub fn link(&self) -> Ipv6Addr {
        self.link
    }

    /// Serve or ignore.
    pub fn verdict(&self) -> Verdict6 {
        self.verdict
    }

    /// The final tag set.
    pub fn tags(&self) -> &TagSet {
        &self.tags
    }

    /// The names of the final tags (`log-dhcp`'s `tags:` line).
    pub fn tag_names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.tags.iter().map(|t| self.config.tag_name(t))
    }

    /// The matching `dhcp-host`, if any.
    pub fn host(&self) -> Option<&'a Host> {
        match self.config.rule(self.host?) {
            Some(Rule::Host(h)) => Some(h),
            _ => None,
        }
    }

    /// The `dhcp-host` line's item index.
    pub fn host_item(&self) -> Option<u32> {
        self.host
    }

    /// The IPv6 range serving the client's link.
    pub fn range(&self) -> Option<&'a Range6> {
        match self.config.rule(self.range?) {
            Some(Rule::Range6(r)) => Some(r),
            _ => None,
        }
    }

    /// The range line's item index.
    pub fn range_item(&self) -> Option<u32> {
        self.range
    }

    /// The chosen `option6:` lines, in the order they are sent.
    pub fn options(&self) -> impl Iterator<Item = &'a Option6Rule> + '_ {
        self.options[..self.n_options]
            .iter()
            .filter_map(|&i| match self.config.rule(i) {
                Some(Rule::Option6(o)) => Some(o),
                _ => None,
            })
    }

    /// The chosen option 59 (boot-file-url), if any.
    pub fn boot_file_url(&self) -> Option<&'a [u8]> {
        self.options()
            .find(|o| o.code == pxe_dhcp::v6::code::BOOTFILE_URL)
            .map(|o| o.bytes.as_slice())
    }

    /// Whether a configured line gives option `code`.
    pub fn has_option(&self, code: u16) -> bool {
        self.options().any(|o| o.code == code)
    }

    /// The lease time: the host's, else the range's, else 3600 s.
    pub fn lease_time(&self) -> LeaseTime {
        self.host()
            .and_then(|h| h.lease)
            .or_else(|| self.range().and_then(|r| r.lease))
            .unwrap_or(LeaseTime::Secs(3600))
    }

    /// The host's reserved address on the client's link: a full address
    /// in the range's prefix, or (with `constructor:`) the host part on
    /// the link's prefix.
    pub fn reserved_address(&self) -> Option<Ipv6Addr> {
        let h = self.host()?;
        let r = self.range()?;
        h.addrs6.iter().find_map(|&a| {
            let host_bits = u128::MAX >> r.prefix_len.min(127);
            let (s, _) = r.on_network(self.link)?;
            let net = u128::from(s) & !host_bits;
            if u128::from(a) & !host_bits == net {
                Some(a)
            } else if u128::from(a) & !host_bits == 0 {
                Some(Ipv6Addr::from(net | (u128::from(a) & host_bits)))
            } else {
                None
            }
        })
    }

    /// Writes the chosen options (then the built-in DNS server when no
    /// line gives option 23), `[::]` replaced by the server's address.
    pub fn write_options(&self, b: &mut Builder<'_>) -> Result<(), CodecError> {
        let local = self.local.octets();
        for o in self.options() {
            if o.local_at.is_empty() {
                b.option(o.code, &o.bytes)?;
                continue;
            }
            b.nested(o.code, |n| {
                let mut at = 0usize;
                for &off in &o.local_at {
                    let off = usize::from(off);
                    n.raw(o.bytes.get(at..off).unwrap_or_default())?;
                    n.raw(&local)?;
                    at = off + 16;
                }
                n.raw(o.bytes.get(at..).unwrap_or_default())?;
                Ok(())
            })?;
        }
        if self.dns_builtin {
            b.dns_servers(&[self.local])?;
        }
        Ok(())
    }
}
