//! Option 175: iPXE's encapsulated (Etherboot) options.
//!
//! Not a string: a list of sub-options. iPXE puts its feature markers
//! (`0x10`–`0x4f`, value = a one-byte version) and its version (235) in every
//! request, so a server detects iPXE by the presence of 175 (or of 77 =
//! `iPXE`). Codes follow `ipxe/ipxe:src/include/ipxe/dhcp.h`.

use crate::error::Error;
use crate::options::{SubOptions, code};

/// iPXE sub-option codes inside option 175.
pub mod sub {
    /// Priority of this settings block (int8).
    pub const PRIORITY: u8 = 1;
    /// Keep SAN device after boot (uint8 bool).
    pub const KEEP_SAN: u8 = 8;
    /// Skip booting from SAN (uint8 bool).
    pub const SKIP_SAN_BOOT: u8 = 9;
    /// First feature marker code.
    pub const FEATURE_FIRST: u8 = 0x10;
    /// Last feature marker code.
    pub const FEATURE_LAST: u8 = 0x4f;
    /// Feature: PXE API extensions.
    pub const FEATURE_PXE_EXT: u8 = 0x10;
    /// Feature: iSCSI.
    pub const FEATURE_ISCSI: u8 = 0x11;
    /// Feature: AoE.
    pub const FEATURE_AOE: u8 = 0x12;
    /// Feature: HTTP.
    pub const FEATURE_HTTP: u8 = 0x13;
    /// Feature: HTTPS.
    pub const FEATURE_HTTPS: u8 = 0x14;
    /// Feature: TFTP.
    pub const FEATURE_TFTP: u8 = 0x15;
    /// Feature: FTP.
    pub const FEATURE_FTP: u8 = 0x16;
    /// Feature: DNS.
    pub const FEATURE_DNS: u8 = 0x17;
    /// Feature: bzImage.
    pub const FEATURE_BZIMAGE: u8 = 0x18;
    /// Feature: Multiboot.
    pub const FEATURE_MULTIBOOT: u8 = 0x19;
    /// Feature: SLAM.
    pub const FEATURE_SLAM: u8 = 0x1a;
    /// Feature: SRP.
    pub const FEATURE_SRP: u8 = 0x1b;
    /// Feature: NBI.
    pub const FEATURE_NBI: u8 = 0x20;
    /// Feature: PXE image.
    pub const FEATURE_PXE: u8 = 0x21;
    /// Feature: ELF.
    pub const FEATURE_ELF: u8 = 0x22;
    /// Feature: COMBOOT.
    pub const FEATURE_COMBOOT: u8 = 0x23;
    /// Feature: EFI image.
    pub const FEATURE_EFI: u8 = 0x24;
    /// Feature: FCoE.
    pub const FEATURE_FCOE: u8 = 0x25;
    /// Feature: VLAN.
    pub const FEATURE_VLAN: u8 = 0x26;
    /// Feature: menu.
    pub const FEATURE_MENU: u8 = 0x27;
    /// Feature: SDI.
    pub const FEATURE_SDI: u8 = 0x28;
    /// Feature: NFS.
    pub const FEATURE_NFS: u8 = 0x29;
    /// Scriptlet run instead of autoboot (string).
    pub const SCRIPTLET: u8 = 0x51;
    /// Encrypted syslog server (string).
    pub const SYSLOGS: u8 = 0x55;
    /// Trusted root certificate fingerprints.
    pub const TRUST: u8 = 0x5a;
    /// Client certificate source.
    pub const CERT: u8 = 0x5b;
    /// Client private key source.
    pub const PRIVKEY: u8 = 0x5c;
    /// Cross-signed certificate source.
    pub const CROSSCERT: u8 = 0x5d;
    /// Do not wait for ProxyDHCP (uint8).
    pub const NO_PXEDHCP: u8 = 0xb0;
    /// Bus id: bus type, vendor id, device id.
    pub const BUS_ID: u8 = 0xb1;
    /// Obsolete "use cached" flag.
    pub const USE_CACHED: u8 = 0xb2;
    /// SAN retry count (uint8).
    pub const SAN_RETRY: u8 = 0xbb;
    /// SAN filename (string).
    pub const SAN_FILENAME: u8 = 0xbc;
    /// SAN drive number (uint8, 0x80 = first disk).
    pub const SAN_DRIVE: u8 = 0xbd;
    /// Username (string).
    pub const USERNAME: u8 = 0xbe;
    /// Password (string).
    pub const PASSWORD: u8 = 0xbf;
    /// Reverse username (string).
    pub const REVERSE_USERNAME: u8 = 0xc0;
    /// Reverse password (string).
    pub const REVERSE_PASSWORD: u8 = 0xc1;
    /// NFS AUTH_SYS uid (uint32).
    pub const UID: u8 = 0xc2;
    /// NFS AUTH_SYS gid (uint32).
    pub const GID: u8 = 0xc3;
    /// iPXE version: major, minor, patch.
    pub const VERSION: u8 = 0xeb;
}

/// The bus an iPXE network device sits on (sub-option 177).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BusId {
    /// Bus type (1 = PCI, 2 = ISAPnP, 3 = EISA, 4 = MCA, 5 = ISA, ...).
    pub bus_type: u8,
    /// Vendor id.
    pub vendor: u16,
    /// Device id.
    pub device: u16,
}

/// Option 175 as a list of iPXE sub-options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpxeOptions<'a>(&'a [u8]);

impl<'a> IpxeOptions<'a> {
    /// Checks the framing of every sub-option in `data`.
    #[inline]
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        SubOptions::new(code::IPXE_ENCAP, data, true).validate()?;
        Ok(IpxeOptions(data))
    }
    /// The raw value.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
    /// Every sub-option, borrowed.
    #[inline]
    pub fn iter(&self) -> SubOptions<'a> {
        SubOptions::new(code::IPXE_ENCAP, self.0, true)
    }
    /// The first sub-option `code`, raw.
    #[inline]
    pub fn get(&self, code: u8) -> Option<&'a [u8]> {
        self.iter().find(code)
    }
    /// The feature markers as `(code, version)` pairs, in wire order.
    #[inline]
    pub fn features(&self) -> impl Iterator<Item = (u8, u8)> + use<'a> {
        self.iter()
            .map_while(Result::ok)
            .filter_map(|o| match (o.code, o.data) {
                (sub::FEATURE_FIRST..=sub::FEATURE_LAST, [v, ..]) => Some((o.code, *v)),
                _ => None,
            })
    }
    /// Whether the feature marker `code` (e.g. [`sub::FEATURE_HTTP`]) is present.
    #[inline]
    pub fn has_feature(&self, code: u8) -> bool {
        self.features().any(|(c, _)| c == code)
    }
    /// Sub-option 235, the iPXE version (major, minor, patch).
    #[inline]
    pub fn version(&self) -> Result<Option<(u8, u8, u8)>, Error> {
        self.get(sub::VERSION)
            .map(|d| match d {
                [a, b, c] => Ok((*a, *b, *c)),
                _ => Err(Error::bad_length(
                    sub::VERSION,
                    d.len(),
                    "3 (major, minor, patch)",
                )),
            })
            .transpose()
    }
    /// Sub-option 177, the bus id.
    #[inline]
    pub fn bus_id(&self) -> Result<Option<BusId>, Error> {
        self.get(sub::BUS_ID)
            .map(|d| match d {
                [t, a, b, c, e] => Ok(BusId {
                    bus_type: *t,
                    vendor: u16::from_be_bytes([*a, *b]),
                    device: u16::from_be_bytes([*c, *e]),
                }),
                _ => Err(Error::bad_length(
                    sub::BUS_ID,
                    d.len(),
                    "5 (bus type, vendor, device)",
                )),
            })
            .transpose()
    }
    /// Sub-option 1, the priority (signed).
    #[inline]
    pub fn priority(&self) -> Result<Option<i8>, Error> {
        self.byte(sub::PRIORITY).map(|o| o.map(|v| v as i8))
    }
    /// Sub-option 176, `no-pxedhcp`.
    #[inline]
    pub fn no_pxedhcp(&self) -> Result<Option<bool>, Error> {
        self.byte(sub::NO_PXEDHCP).map(|o| o.map(|v| v != 0))
    }
    /// Sub-option 8, `keep-san`.
    #[inline]
    pub fn keep_san(&self) -> Result<Option<bool>, Error> {
        self.byte(sub::KEEP_SAN).map(|o| o.map(|v| v != 0))
    }
    /// Sub-option 9, `skip-san-boot`.
    #[inline]
    pub fn skip_san_boot(&self) -> Result<Option<bool>, Error> {
        self.byte(sub::SKIP_SAN_BOOT).map(|o| o.map(|v| v != 0))
    }
    /// Sub-option 189, the SAN drive number.
    #[inline]
    pub fn san_drive(&self) -> Result<Option<u8>, Error> {
        self.byte(sub::SAN_DRIVE)
    }
    /// Sub-option 81, the scriptlet (text).
    #[inline]
    pub fn scriptlet(&self) -> Option<&'a [u8]> {
        self.get(sub::SCRIPTLET)
    }
    /// Sub-option 188, the SAN filename (text).
    #[inline]
    pub fn san_filename(&self) -> Option<&'a [u8]> {
        self.get(sub::SAN_FILENAME)
    }
    /// Sub-option 190, the username (text).
    #[inline]
    pub fn username(&self) -> Option<&'a [u8]> {
        self.get(sub::USERNAME)
    }
    /// Sub-option 191, the password (text).
    #[inline]
    pub fn password(&self) -> Option<&'a [u8]> {
        self.get(sub::PASSWORD)
    }

    #[inline]
    fn byte(&self, code: u8) -> Result<Option<u8>, Error> {
        self.get(code)
            .map(|d| match d {
                [v] => Ok(*v),
                _ => Err(Error::bad_length(code, d.len(), "1")),
            })
            .transpose()
    }
}

/// A short name for a feature or setting code (after the setting names of
/// iPXE's `dhcp.h`), as [`Packet`](crate::Packet)'s `Display` prints it.
#[inline]
pub fn sub_name(code: u8) -> Option<&'static str> {
    Some(match code {
        sub::PRIORITY => "priority",
        sub::KEEP_SAN => "keep-san",
        sub::SKIP_SAN_BOOT => "skip-san-boot",
        sub::FEATURE_PXE_EXT => "pxe-ext",
        sub::FEATURE_ISCSI => "iscsi",
        sub::FEATURE_AOE => "aoe",
        sub::FEATURE_HTTP => "http",
        sub::FEATURE_HTTPS => "https",
        sub::FEATURE_TFTP => "tftp",
        sub::FEATURE_FTP => "ftp",
        sub::FEATURE_DNS => "dns",
        sub::FEATURE_BZIMAGE => "bzimage",
        sub::FEATURE_MULTIBOOT => "multiboot",
        sub::FEATURE_SLAM => "slam",
        sub::FEATURE_SRP => "srp",
        sub::FEATURE_NBI => "nbi",
        sub::FEATURE_PXE => "pxe",
        sub::FEATURE_ELF => "elf",
        sub::FEATURE_COMBOOT => "comboot",
        sub::FEATURE_EFI => "efi",
        sub::FEATURE_FCOE => "fcoe",
        sub::FEATURE_VLAN => "vlan",
        sub::FEATURE_MENU => "menu",
        sub::FEATURE_SDI => "sdi",
        sub::FEATURE_NFS => "nfs",
        sub::SCRIPTLET => "scriptlet",
        sub::SYSLOGS => "syslogs",
        sub::TRUST => "trust",
        sub::CERT => "cert",
        sub::PRIVKEY => "privkey",
        sub::CROSSCERT => "crosscert",
        sub::NO_PXEDHCP => "no-pxedhcp",
        sub::BUS_ID => "bus-id",
        sub::USE_CACHED => "use-cached",
        sub::SAN_RETRY => "san-retry",
        sub::SAN_FILENAME => "san-filename",
        sub::SAN_DRIVE => "san-drive",
        sub::USERNAME => "username",
        sub::PASSWORD => "password",
        sub::REVERSE_USERNAME => "reverse-username",
        sub::REVERSE_PASSWORD => "reverse-password",
        sub::UID => "uid",
        sub::GID => "gid",
        sub::VERSION => "version",
        _ => return None,
    })
}
