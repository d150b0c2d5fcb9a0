//! Options 208–211: PXELINUX (RFC 5071).
//!
//! dnsmasq has no names for these, so they are set by number and usually
//! forced (`dhcp-option-force`), because PXELINUX does not always list them
//! in option 55.

use crate::error::Error;
use crate::options::code;
use crate::packet::Packet;

/// The value of option 208 (deprecated by RFC 5071 but still sent).
pub const MAGIC: [u8; 4] = [0xf1, 0x00, 0x74, 0x7e];

/// The PXELINUX options of a packet, each `None` when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Pxelinux<'a> {
    /// Option 208 present with the correct magic.
    pub magic: bool,
    /// Option 209, the configuration file (relative to the path prefix).
    pub config_file: Option<&'a [u8]>,
    /// Option 210, the path prefix (may be a URL such as `http://host/`).
    pub path_prefix: Option<&'a [u8]>,
    /// Option 211, seconds before rebooting when no configuration is found.
    pub reboot_time: Option<u32>,
}

impl<'a> Pxelinux<'a> {
    /// Reads options 208–211 from `packet`.
    pub fn from_packet<T: AsRef<[u8]>>(packet: &'a Packet<T>) -> Result<Self, Error> {
        let magic = match packet.single_value(code::PXELINUX_MAGIC)? {
            None => false,
            Some(m) if m == MAGIC => true,
            Some(_) => {
                return Err(Error::Malformed {
                    code: code::PXELINUX_MAGIC,
                    reason: "PXELINUX magic is not F1:00:74:7E",
                });
            }
        };
        Ok(Pxelinux {
            magic,
            config_file: packet.single_value(code::PXELINUX_CONFIGFILE)?,
            path_prefix: packet.single_value(code::PXELINUX_PATHPREFIX)?,
            reboot_time: packet
                .fixed_value::<4>(code::PXELINUX_REBOOTTIME, "4 (seconds)")?
                .map(u32::from_be_bytes),
        })
    }
}
