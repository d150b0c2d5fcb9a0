//! Option 43 for `PXEClient`: the PXE 2.1 vendor sub-options.

use core::net::Ipv4Addr;

use crate::error::Error;
use crate::options::{SubOptions, code};

/// PXE sub-option codes inside option 43.
pub mod sub {
    /// Multicast TFTP IP address.
    pub const MTFTP_IP: u8 = 1;
    /// Multicast TFTP client port.
    pub const MTFTP_CPORT: u8 = 2;
    /// Multicast TFTP server port.
    pub const MTFTP_SPORT: u8 = 3;
    /// Multicast TFTP timeout.
    pub const MTFTP_TMOUT: u8 = 4;
    /// Multicast TFTP delay.
    pub const MTFTP_DELAY: u8 = 5;
    /// Discovery control bits.
    pub const DISCOVERY_CONTROL: u8 = 6;
    /// Discovery multicast address.
    pub const DISCOVERY_MCAST_ADDR: u8 = 7;
    /// Boot servers list.
    pub const BOOT_SERVERS: u8 = 8;
    /// Boot menu.
    pub const BOOT_MENU: u8 = 9;
    /// Menu prompt.
    pub const MENU_PROMPT: u8 = 10;
    /// Multicast address allocation.
    pub const MCAST_ADDRS_ALLOC: u8 = 11;
    /// Credential types.
    pub const CREDENTIAL_TYPES: u8 = 12;
    /// Boot item (type, layer), in requests and replies on port 4011.
    pub const BOOT_ITEM: u8 = 71;
    /// End of sub-options.
    pub const END: u8 = 255;
}

bitflags::bitflags! {
    /// PXE sub-option 6, discovery control.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct DiscoveryControl: u8 {
        /// Do not use broadcast discovery.
        const NO_BROADCAST = 1;
        /// Do not use multicast discovery.
        const NO_MULTICAST = 2;
        /// Only use (and accept) servers listed in sub-option 8.
        const ONLY_LISTED = 4;
        /// Skip discovery: download `file` from `siaddr` now.
        const SKIP_DISCOVERY = 8;
        // Other bits are reserved; keep them.
        const _ = !0;
    }
}

/// Option 43 as a list of PXE sub-options (pad 0 and end 255 handled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PxeOptions<'a>(&'a [u8]);

impl<'a> PxeOptions<'a> {
    /// Checks the framing of every sub-option in `data`.
    #[inline]
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        SubOptions::new(code::VENDOR_SPECIFIC, data, true).validate()?;
        Ok(PxeOptions(data))
    }
    /// The raw value.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
    /// Every sub-option, borrowed.
    #[inline]
    pub fn iter(&self) -> SubOptions<'a> {
        SubOptions::new(code::VENDOR_SPECIFIC, self.0, true)
    }
    /// The first sub-option `code`, raw.
    #[inline]
    pub fn get(&self, code: u8) -> Option<&'a [u8]> {
        self.iter().find(code)
    }
    /// Sub-option 6, discovery control.
    #[inline]
    pub fn discovery_control(&self) -> Result<Option<DiscoveryControl>, Error> {
        self.get(sub::DISCOVERY_CONTROL)
            .map(|d| match d {
                [v] => Ok(DiscoveryControl::from_bits_retain(*v)),
                _ => Err(Error::bad_length(sub::DISCOVERY_CONTROL, d.len(), "1")),
            })
            .transpose()
    }
    /// Sub-option 8, the boot servers.
    #[inline]
    pub fn boot_servers(&self) -> Result<Option<BootServers<'a>>, Error> {
        self.get(sub::BOOT_SERVERS)
            .map(BootServers::parse)
            .transpose()
    }
    /// Sub-option 9, the boot menu.
    #[inline]
    pub fn boot_menu(&self) -> Result<Option<BootMenu<'a>>, Error> {
        self.get(sub::BOOT_MENU).map(BootMenu::parse).transpose()
    }
    /// Sub-option 10, the menu prompt.
    #[inline]
    pub fn menu_prompt(&self) -> Result<Option<MenuPrompt<'a>>, Error> {
        self.get(sub::MENU_PROMPT)
            .map(MenuPrompt::parse)
            .transpose()
    }
    /// Sub-option 71, the boot item.
    #[inline]
    pub fn boot_item(&self) -> Result<Option<BootItem>, Error> {
        self.get(sub::BOOT_ITEM).map(BootItem::parse).transpose()
    }
    /// Sub-option 1, the multicast TFTP address.
    #[inline]
    pub fn mtftp_ip(&self) -> Result<Option<Ipv4Addr>, Error> {
        self.get(sub::MTFTP_IP)
            .map(|d| match d {
                [a, b, c, e] => Ok(Ipv4Addr::new(*a, *b, *c, *e)),
                _ => Err(Error::bad_length(sub::MTFTP_IP, d.len(), "4")),
            })
            .transpose()
    }
}

/// PXE sub-option 71: the boot server type and layer a client asks a
/// port-4011 boot server for (and the server echoes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BootItem {
    /// Boot server type (0 = PXE bootstrap server, 0x8000+ vendor types).
    pub kind: u16,
    /// Layer (bit 15 = credentials requested).
    pub layer: u16,
}

impl BootItem {
    /// Parses the 4-byte value.
    #[inline]
    pub fn parse(d: &[u8]) -> Result<Self, Error> {
        match d {
            [a, b, c, e] => Ok(BootItem {
                kind: u16::from_be_bytes([*a, *b]),
                layer: u16::from_be_bytes([*c, *e]),
            }),
            _ => Err(Error::bad_length(
                sub::BOOT_ITEM,
                d.len(),
                "4 (type u16, layer u16)",
            )),
        }
    }
    /// The wire form.
    #[inline]
    pub fn to_bytes(self) -> [u8; 4] {
        let [a, b] = self.kind.to_be_bytes();
        let [c, d] = self.layer.to_be_bytes();
        [a, b, c, d]
    }
}

/// PXE sub-option 10: timeout and prompt text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MenuPrompt<'a> {
    /// Seconds (0 = boot the first item now, 255 = wait for a choice).
    pub timeout: u8,
    /// Prompt text.
    pub prompt: &'a [u8],
}

impl<'a> MenuPrompt<'a> {
    /// Parses the value (at least the timeout byte).
    #[inline]
    pub fn parse(d: &'a [u8]) -> Result<Self, Error> {
        match d.split_first() {
            Some((&timeout, prompt)) => Ok(MenuPrompt { timeout, prompt }),
            None => Err(Error::bad_length(
                sub::MENU_PROMPT,
                0,
                "at least 1 (timeout)",
            )),
        }
    }
}

/// PXE sub-option 9: repeated `{type u16, len u8, description}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BootMenu<'a>(&'a [u8]);

/// One entry of a [`BootMenu`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MenuItem<'a> {
    /// Boot server type this item selects.
    pub kind: u16,
    /// Description shown to the user.
    pub description: &'a [u8],
}

impl<'a> BootMenu<'a> {
    /// Checks that the entries exactly cover `d`.
    #[inline]
    pub fn parse(d: &'a [u8]) -> Result<Self, Error> {
        check_entries(
            d,
            1,
            sub::BOOT_MENU,
            "boot menu entry header truncated",
            "boot menu description runs past the sub-option",
        )?;
        Ok(BootMenu(d))
    }
    /// The entries.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = MenuItem<'a>> + use<'a> {
        entries(self.0, 1).map(|(kind, description)| MenuItem { kind, description })
    }
}

/// PXE sub-option 8: repeated `{type u16, count u8, IPv4 × count}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BootServers<'a>(&'a [u8]);

/// One entry of [`BootServers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BootServer<'a> {
    /// Boot server type.
    pub kind: u16,
    addrs: &'a [u8],
}

impl<'a> BootServer<'a> {
    /// The server addresses for this type.
    #[inline]
    pub fn addresses(&self) -> impl ExactSizeIterator<Item = Ipv4Addr> + use<'a> {
        self.addrs
            .chunks_exact(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
    }
}

impl<'a> BootServers<'a> {
    /// Checks that the entries exactly cover `d`.
    #[inline]
    pub fn parse(d: &'a [u8]) -> Result<Self, Error> {
        check_entries(
            d,
            4,
            sub::BOOT_SERVERS,
            "boot server entry header truncated",
            "boot server address list runs past the sub-option",
        )?;
        Ok(BootServers(d))
    }
    /// The entries.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = BootServer<'a>> + use<'a> {
        entries(self.0, 4).map(|(kind, addrs)| BootServer { kind, addrs })
    }
}

/// Checks that the `{type u16, count u8, count × unit bytes}` entries of
/// sub-option `code` (8 and 9) exactly cover `d`.
#[inline]
fn check_entries(
    d: &[u8],
    unit: usize,
    code: u8,
    truncated: &'static str,
    overrun: &'static str,
) -> Result<(), Error> {
    let mut i = 0;
    while i < d.len() {
        let Some(&n) = d.get(i + 2) else {
            return Err(Error::Malformed {
                code,
                reason: truncated,
            });
        };
        i += 3 + unit * usize::from(n);
    }
    if i != d.len() {
        return Err(Error::Malformed {
            code,
            reason: overrun,
        });
    }
    Ok(())
}

/// The `(type, body)` entries of a list checked by [`check_entries`]; a
/// body is cut short rather than read past the end.
#[inline]
fn entries(d: &[u8], unit: usize) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = d;
    core::iter::from_fn(move || {
        let [a, b, n, tail @ ..] = rest else {
            return None;
        };
        let len = (unit * usize::from(*n)).min(tail.len());
        let (body, r) = tail.split_at(len);
        rest = r;
        Some((u16::from_be_bytes([*a, *b]), body))
    })
}
