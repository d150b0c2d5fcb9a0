//! DHCP Unique Identifiers, the values of options 1 and 2 (RFC 8415
//! section 11, RFC 6355 for DUID-UUID).

use core::fmt;

use super::error::Error;
use super::options::RawOption;
use super::text::{Colons, Hex};
use crate::ClientUuid;

/// DUID type 1, link-layer address plus time (RFC 8415 section 11.2).
pub const DUID_LLT: u16 = 1;
/// DUID type 2, enterprise number and identifier (RFC 8415 section 11.3).
pub const DUID_EN: u16 = 2;
/// DUID type 3, link-layer address (RFC 8415 section 11.4).
pub const DUID_LL: u16 = 3;
/// DUID type 4, a UUID (RFC 6355).
pub const DUID_UUID: u16 = 4;
/// The most bytes a DUID may have after its type (RFC 8415 section 11.1).
pub const MAX_DUID_LEN: usize = 128;
/// Seconds from the Unix epoch to the DUID-LLT epoch, midnight UTC,
/// January 1, 2000 (RFC 8415 section 11.2).
pub const DUID_EPOCH_UNIX: u64 = 946_684_800;
/// Hardware type 1, Ethernet (IANA ARP "Hardware Types").
pub const HARDWARE_ETHERNET: u16 = 1;

/// A DUID, borrowed: what a client or server is known by.
///
/// The bytes are what a server compares (a DUID is opaque for identity,
/// RFC 8415 section 11); [`Duid::fields`] reads the known types. Parsing
/// checks the length each known type requires.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Duid<'a>(&'a [u8]);

/// The fields of a [`Duid`] by type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DuidFields<'a> {
    /// Type 1: hardware type, time (seconds since 2000-01-01 UTC) and a
    /// link-layer address.
    Llt {
        /// Hardware type (1 = Ethernet).
        hardware_type: u16,
        /// Seconds since [`DUID_EPOCH_UNIX`], modulo 2^32.
        time: u32,
        /// The link-layer address.
        link_layer_address: &'a [u8],
    },
    /// Type 2: an IANA enterprise number and an identifier it assigns.
    En {
        /// Private Enterprise Number.
        enterprise: u32,
        /// The identifier.
        identifier: &'a [u8],
    },
    /// Type 3: hardware type and a link-layer address.
    Ll {
        /// Hardware type (1 = Ethernet).
        hardware_type: u16,
        /// The link-layer address.
        link_layer_address: &'a [u8],
    },
    /// Type 4: a 16-byte UUID, in wire order (see [`ClientUuid`] for the
    /// two text readings; EDK2 sends the SMBIOS UUID in GUID byte order,
    /// iPXE in SMBIOS order, so one machine has two DUIDs).
    Uuid(ClientUuid),
    /// Any other type.
    Other {
        /// The DUID type.
        kind: u16,
        /// The bytes after the type.
        data: &'a [u8],
    },
}

impl<'a> Duid<'a> {
    /// Reads option 1 or 2 as a DUID: a type and at most 128 bytes, with
    /// the minimum length of known types (LLT 8, EN 6, LL 4) and exactly
    /// 18 bytes for DUID-UUID.
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        let d = opt.data;
        let Some([t0, t1]) = d.first_chunk::<2>() else {
            return Err(Error::bad_length(&opt, "at least 2 (the DUID type)"));
        };
        if d.len() > 2 + MAX_DUID_LEN {
            return Err(Error::bad_length(&opt, "at most 130 (type + 128)"));
        }
        let (min, exact, expected) = match u16::from_be_bytes([*t0, *t1]) {
            DUID_LLT => (8, false, "at least 8 (DUID-LLT: type, hardware, time)"),
            DUID_EN => (6, false, "at least 6 (DUID-EN: type, enterprise)"),
            DUID_LL => (4, false, "at least 4 (DUID-LL: type, hardware)"),
            DUID_UUID => (18, true, "18 (DUID-UUID: type + 16-byte UUID)"),
            _ => (2, false, ""),
        };
        if d.len() < min || (exact && d.len() != min) {
            return Err(Error::bad_length(&opt, expected));
        }
        Ok(Duid(d))
    }

    /// The whole DUID, type included (what a server compares and echoes).
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The DUID type (1 LLT, 2 EN, 3 LL, 4 UUID, ...).
    #[inline]
    pub fn kind(&self) -> u16 {
        self.0
            .first_chunk::<2>()
            .map_or(0, |t| u16::from_be_bytes(*t))
    }

    /// The fields of the DUID's type.
    #[inline]
    pub fn fields(&self) -> DuidFields<'a> {
        let d = self.0;
        let u16_at = |at: usize| {
            d.get(at..at + 2)
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
        };
        let u32_at = |at: usize| {
            d.get(at..at + 4)
                .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let tail = |at: usize| d.get(at..).unwrap_or_default();
        match self.kind() {
            DUID_LLT => DuidFields::Llt {
                hardware_type: u16_at(2),
                time: u32_at(4),
                link_layer_address: tail(8),
            },
            DUID_EN => DuidFields::En {
                enterprise: u32_at(2),
                identifier: tail(6),
            },
            DUID_LL => DuidFields::Ll {
                hardware_type: u16_at(2),
                link_layer_address: tail(4),
            },
            DUID_UUID if d.len() == 18 => {
                let mut bytes = [0; 16];
                bytes.copy_from_slice(tail(2));
                DuidFields::Uuid(ClientUuid { kind: 0, bytes })
            }
            kind => DuidFields::Other {
                kind,
                data: tail(2),
            },
        }
    }

    /// The UUID of a DUID-UUID.
    #[inline]
    pub fn uuid(&self) -> Option<ClientUuid> {
        match self.fields() {
            DuidFields::Uuid(u) => Some(u),
            _ => None,
        }
    }

    /// Hardware type and link-layer address of a DUID-LLT or DUID-LL.
    #[inline]
    pub fn link_layer_address(&self) -> Option<(u16, &'a [u8])> {
        match self.fields() {
            DuidFields::Llt {
                hardware_type,
                link_layer_address,
                ..
            }
            | DuidFields::Ll {
                hardware_type,
                link_layer_address,
            } => Some((hardware_type, link_layer_address)),
            _ => None,
        }
    }

    /// The Ethernet MAC of a DUID-LLT or DUID-LL with hardware type 1.
    #[inline]
    pub fn mac(&self) -> Option<[u8; 6]> {
        match self.link_layer_address()? {
            (HARDWARE_ETHERNET, addr) => addr.try_into().ok(),
            _ => None,
        }
    }

    /// The 14-byte DUID-LLT of an Ethernet interface, for a server's own
    /// identifier (`time`: seconds since [`DUID_EPOCH_UNIX`]).
    #[inline]
    pub fn llt_ethernet(time: u32, mac: [u8; 6]) -> [u8; 14] {
        let mut out = [0; 14];
        out[..2].copy_from_slice(&DUID_LLT.to_be_bytes());
        out[2..4].copy_from_slice(&HARDWARE_ETHERNET.to_be_bytes());
        out[4..8].copy_from_slice(&time.to_be_bytes());
        out[8..].copy_from_slice(&mac);
        out
    }

    /// The 10-byte DUID-LL of an Ethernet interface.
    #[inline]
    pub fn ll_ethernet(mac: [u8; 6]) -> [u8; 10] {
        let mut out = [0; 10];
        out[..2].copy_from_slice(&DUID_LL.to_be_bytes());
        out[2..4].copy_from_slice(&HARDWARE_ETHERNET.to_be_bytes());
        out[4..].copy_from_slice(&mac);
        out
    }

    /// The 18-byte DUID-UUID of `uuid` (bytes in wire order).
    #[inline]
    pub fn from_uuid(uuid: [u8; 16]) -> [u8; 18] {
        let mut out = [0; 18];
        out[..2].copy_from_slice(&DUID_UUID.to_be_bytes());
        out[2..].copy_from_slice(&uuid);
        out
    }
}

/// `DUID-UUID 1e001700-008c-ad00-5087-90e6ba2f3423` (the wire reading),
/// `DUID-LLT hw 1 time 849507782 02:00:00:77:00:01`, `DUID-EN enterprise
/// 343 id 0102`, `DUID-LL hw 1 02:00:00:77:00:01`, `DUID type 9 0102`.
impl fmt::Display for Duid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fields() {
            DuidFields::Llt {
                hardware_type,
                time,
                link_layer_address,
            } => write!(
                f,
                "DUID-LLT hw {hardware_type} time {time} {}",
                Colons(link_layer_address)
            ),
            DuidFields::En {
                enterprise,
                identifier,
            } => write!(f, "DUID-EN enterprise {enterprise} id {}", Hex(identifier)),
            DuidFields::Ll {
                hardware_type,
                link_layer_address,
            } => write!(
                f,
                "DUID-LL hw {hardware_type} {}",
                Colons(link_layer_address)
            ),
            DuidFields::Uuid(u) => write!(f, "DUID-UUID {}", u.wire_text()),
            DuidFields::Other { kind, data } => write!(f, "DUID type {kind} {}", Hex(data)),
        }
    }
}

impl fmt::Debug for Duid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Duid({self})")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    fn opt(data: &[u8]) -> RawOption<'_> {
        RawOption {
            code: 1,
            data,
            offset: 4,
        }
    }

    #[test]
    fn known_types() {
        let llt = Duid::llt_ethernet(849_507_782, [2, 0, 0, 0x77, 0, 1]);
        let d = Duid::parse(opt(&llt)).unwrap();
        assert_eq!(d.kind(), DUID_LLT);
        assert_eq!(d.mac(), Some([2, 0, 0, 0x77, 0, 1]));
        assert_eq!(
            format!("{d}"),
            "DUID-LLT hw 1 time 849507782 02:00:00:77:00:01"
        );
        let uuid = Duid::from_uuid([
            0x1e, 0, 0x17, 0, 0, 0x8c, 0xad, 0, 0x50, 0x87, 0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23,
        ]);
        let d = Duid::parse(opt(&uuid)).unwrap();
        assert_eq!(
            format!("{d}"),
            "DUID-UUID 1e001700-008c-ad00-5087-90e6ba2f3423"
        );
        assert_eq!(
            d.uuid().unwrap().guid_text().as_str(),
            "0017001e-8c00-00ad-5087-90e6ba2f3423"
        );
        assert_eq!(d.mac(), None);
        let ll = Duid::ll_ethernet([1, 2, 3, 4, 5, 6]);
        assert_eq!(
            Duid::parse(opt(&ll)).unwrap().link_layer_address(),
            Some((1, &[1, 2, 3, 4, 5, 6][..]))
        );
        let en = [0, 2, 0, 0, 1, 0x57, 9];
        assert_eq!(
            Duid::parse(opt(&en)).unwrap().fields(),
            DuidFields::En {
                enterprise: 343,
                identifier: &[9]
            }
        );
        let other = [0, 9, 1];
        assert_eq!(
            format!("{}", Duid::parse(opt(&other)).unwrap()),
            "DUID type 9 01"
        );
    }

    #[test]
    fn lengths_are_checked() {
        for bad in [
            &[][..],
            &[0],
            &[0, 1, 0, 1, 0, 0, 0],
            &[0, 4, 1, 2],
            &[0, 3, 0],
        ] {
            assert!(
                matches!(
                    Duid::parse(opt(bad)),
                    Err(Error::BadLength {
                        code: 1,
                        offset: 4,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        let mut uuid = [0u8; 19];
        uuid[1] = 4;
        assert!(
            Duid::parse(opt(&uuid)).is_err(),
            "DUID-UUID is exactly 18 bytes"
        );
        let long = [0u8; 131];
        assert!(Duid::parse(opt(&long)).is_err());
        assert!(Duid::parse(opt(&long[..130])).is_ok());
    }
}
