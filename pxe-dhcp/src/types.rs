//! Typed, borrowed views of the options a netboot server reads.

use core::fmt;
use core::net::Ipv4Addr;

use crate::error::Error;
use crate::options::code;

/// Option 53, the DHCP message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// 1
    Discover,
    /// 2
    Offer,
    /// 3
    Request,
    /// 4
    Decline,
    /// 5
    Ack,
    /// 6
    Nak,
    /// 7
    Release,
    /// 8
    Inform,
    /// Any other value (e.g. RFC 3203/4388 types).
    Other(u8),
}

impl From<u8> for MessageType {
    #[inline]
    fn from(v: u8) -> Self {
        match v {
            1 => Self::Discover,
            2 => Self::Offer,
            3 => Self::Request,
            4 => Self::Decline,
            5 => Self::Ack,
            6 => Self::Nak,
            7 => Self::Release,
            8 => Self::Inform,
            v => Self::Other(v),
        }
    }
}

impl From<MessageType> for u8 {
    #[inline]
    fn from(t: MessageType) -> u8 {
        match t {
            MessageType::Discover => 1,
            MessageType::Offer => 2,
            MessageType::Request => 3,
            MessageType::Decline => 4,
            MessageType::Ack => 5,
            MessageType::Nak => 6,
            MessageType::Release => 7,
            MessageType::Inform => 8,
            MessageType::Other(v) => v,
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageType::Discover => f.write_str("DISCOVER"),
            MessageType::Offer => f.write_str("OFFER"),
            MessageType::Request => f.write_str("REQUEST"),
            MessageType::Decline => f.write_str("DECLINE"),
            MessageType::Ack => f.write_str("ACK"),
            MessageType::Nak => f.write_str("NAK"),
            MessageType::Release => f.write_str("RELEASE"),
            MessageType::Inform => f.write_str("INFORM"),
            MessageType::Other(v) => write!(f, "TYPE{v}"),
        }
    }
}

/// Option 55, the codes the client asks for, in its order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParameterRequestList<'a>(pub &'a [u8]);

impl<'a> ParameterRequestList<'a> {
    /// The requested codes.
    #[inline]
    pub fn codes(&self) -> &'a [u8] {
        self.0
    }
    /// Whether the client asked for `code`.
    #[inline]
    pub fn contains(&self, code: u8) -> bool {
        self.0.contains(&code)
    }
}

/// A list of IPv4 addresses (options 3, 6, 42, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4List<'a>(&'a [u8]);

impl<'a> Ipv4List<'a> {
    /// Checks that `data` (the value of option `code`) is a non-empty
    /// multiple of 4 bytes.
    #[inline]
    pub fn parse(code: u8, data: &'a [u8]) -> Result<Self, Error> {
        if data.is_empty() || !data.len().is_multiple_of(4) {
            return Err(Error::BadLength {
                code,
                len: data.len(),
                expected: "a non-zero multiple of 4",
            });
        }
        Ok(Ipv4List(data))
    }
    /// The addresses.
    #[inline]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Ipv4Addr> + use<'a> {
        self.0
            .chunks_exact(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
    }
    /// The first address.
    #[inline]
    pub fn first(&self) -> Ipv4Addr {
        self.iter().next().unwrap_or(Ipv4Addr::UNSPECIFIED)
    }
    /// Number of addresses.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }
    /// Always false: an empty list does not parse.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Option 61, the client identifier: a type byte and the identifier.
///
/// Type 1 (Ethernet) followed by the MAC is what PXE ROMs and iPXE send;
/// type 0 means an opaque identifier (e.g. RFC 4361 IAID/DUID is type 255).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientId<'a> {
    /// The whole value, type byte included (what dnsmasq compares).
    pub raw: &'a [u8],
}

impl<'a> ClientId<'a> {
    /// Parses option 61 (at least 2 bytes, RFC 2132).
    #[inline]
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        if data.len() < 2 {
            return Err(Error::BadLength {
                code: code::CLIENT_ID,
                len: data.len(),
                expected: "at least 2",
            });
        }
        Ok(ClientId { raw: data })
    }
    /// The type byte (hardware type, 0 or 255).
    #[inline]
    pub fn kind(&self) -> u8 {
        self.raw[0]
    }
    /// The identifier after the type byte.
    #[inline]
    pub fn id(&self) -> &'a [u8] {
        &self.raw[1..]
    }
    /// The MAC address when the type is 1 (Ethernet) and 6 bytes follow.
    #[inline]
    pub fn mac(&self) -> Option<[u8; 6]> {
        match self.raw {
            [1, a, b, c, d, e, f] => Some([*a, *b, *c, *d, *e, *f]),
            _ => None,
        }
    }
}

/// Which family a vendor class identifier belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VendorKind {
    /// `PXEClient` (PXE ROMs, UEFI PXE, iPXE).
    Pxe,
    /// `HTTPClient` (UEFI HTTP Boot).
    Http,
    /// Anything else (`HW-Client`, `MSFT 5.0`, `udhcp 1.36`, ...).
    Other,
}

bitflags::bitflags! {
    /// Deviations from `PXEClient:Arch:xxxxx:UNDI:yyyzzz` that
    /// [`VendorClass::parse`] tolerated.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct VendorQuirks: u8 {
        /// The architecture was printed in hexadecimal (e.g. `0000B`).
        const ARCH_HEX = 1;
        /// The architecture field is not exactly 5 digits.
        const ARCH_WIDTH = 2;
        /// The UNDI field is present but not 6 decimal digits.
        const BAD_UNDI = 4;
        /// Field names or the vendor prefix differ in letter case.
        const CASE = 8;
        /// Fields other than `Arch` and `UNDI` follow, or fields are missing.
        const EXTRA_FIELDS = 16;
        /// The architecture field could not be read at all.
        const BAD_ARCH = 32;
    }
}

/// Option 60, the vendor class identifier, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VendorClass<'a>(pub &'a [u8]);

/// What [`VendorClass::parse`] found in `PXEClient:Arch:xxxxx:UNDI:yyyzzz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VendorInfo<'a> {
    /// The family, from the text before the first `:`.
    pub kind: VendorKind,
    /// The text before the first `:` (the whole value if there is none).
    pub vendor: &'a [u8],
    /// The architecture number from `Arch:`, if one could be read.
    pub arch: Option<u16>,
    /// UNDI major and minor version from `UNDI:yyyzzz`.
    pub undi: Option<(u16, u16)>,
    /// Tolerated deviations.
    pub quirks: VendorQuirks,
}

#[inline]
fn decimal(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')))
}

#[inline]
fn hex(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 8 {
        return None;
    }
    s.iter().try_fold(0u32, |n, &d| {
        let v = (d as char).to_digit(16)?;
        Some(n * 16 + v)
    })
}

impl<'a> VendorClass<'a> {
    /// Wraps the raw value.
    #[inline]
    pub fn new(data: &'a [u8]) -> Self {
        VendorClass(data)
    }
    /// The raw bytes.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
    /// Whether it starts with `PXEClient` (what dnsmasq tests, case sensitive).
    #[inline]
    pub fn is_pxe_client(&self) -> bool {
        self.0.starts_with(b"PXEClient")
    }
    /// Whether it starts with `HTTPClient` (UEFI HTTP Boot).
    #[inline]
    pub fn is_http_client(&self) -> bool {
        self.0.starts_with(b"HTTPClient")
    }
    /// Parses `Vendor:Arch:xxxxx:UNDI:yyyzzz`, tolerating real firmware
    /// quirks: architecture in hex (only when it is not valid decimal),
    /// wrong field widths, letter case, missing or extra fields. Never fails:
    /// what could not be read is `None` and flagged in `quirks`.
    #[inline]
    pub fn parse(&self) -> VendorInfo<'a> {
        let mut fields = self.0.split(|&c| c == b':');
        let vendor = fields.next().unwrap_or_default();
        let mut quirks = VendorQuirks::empty();
        let kind = if vendor == b"PXEClient" {
            VendorKind::Pxe
        } else if vendor == b"HTTPClient" {
            VendorKind::Http
        } else if vendor.eq_ignore_ascii_case(b"PXEClient") {
            quirks |= VendorQuirks::CASE;
            VendorKind::Pxe
        } else if vendor.eq_ignore_ascii_case(b"HTTPClient") {
            quirks |= VendorQuirks::CASE;
            VendorKind::Http
        } else {
            VendorKind::Other
        };
        let mut arch = None;
        let mut undi = None;
        let mut seen = 0;
        if kind != VendorKind::Other {
            while let Some(key) = fields.next() {
                let value = fields.next();
                let known = if key.eq_ignore_ascii_case(b"Arch") {
                    if key != b"Arch" {
                        quirks |= VendorQuirks::CASE;
                    }
                    let v = value.unwrap_or_default();
                    if v.len() != 5 {
                        quirks |= VendorQuirks::ARCH_WIDTH;
                    }
                    arch = match decimal(v) {
                        Some(n) => u16::try_from(n).ok(),
                        None => {
                            let h = hex(v).and_then(|n| u16::try_from(n).ok());
                            if h.is_some() {
                                quirks |= VendorQuirks::ARCH_HEX;
                            }
                            h
                        }
                    };
                    if arch.is_none() {
                        quirks |= VendorQuirks::BAD_ARCH;
                    }
                    true
                } else if key.eq_ignore_ascii_case(b"UNDI") {
                    if key != b"UNDI" {
                        quirks |= VendorQuirks::CASE;
                    }
                    let v = value.unwrap_or_default();
                    undi = match (v.len(), decimal(v)) {
                        (6, Some(n)) => Some(((n / 1000) as u16, (n % 1000) as u16)),
                        _ => {
                            quirks |= VendorQuirks::BAD_UNDI;
                            None
                        }
                    };
                    true
                } else {
                    false
                };
                if known {
                    seen += 1;
                } else {
                    quirks |= VendorQuirks::EXTRA_FIELDS;
                }
            }
            // A bare "PXEClient" (ROM at port 4011, iPXE, servers) is normal;
            // only a partial field list is a quirk.
            if seen == 1 {
                quirks |= VendorQuirks::EXTRA_FIELDS;
            }
        }
        VendorInfo {
            kind,
            vendor,
            arch,
            undi,
            quirks,
        }
    }
}

/// Option 77, the user class.
///
/// RFC 3004 encodes a list of length-prefixed classes; iPXE sends the bare
/// string `iPXE`. Like dnsmasq, the value is taken as RFC 3004 when the
/// length prefixes exactly cover it, and as one bare class otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserClass<'a> {
    raw: &'a [u8],
    rfc3004: bool,
}

impl<'a> UserClass<'a> {
    /// Parses option 77 (at least one byte).
    #[inline]
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        if data.is_empty() {
            return Err(Error::BadLength {
                code: code::USER_CLASS,
                len: 0,
                expected: "at least 1",
            });
        }
        let mut i = 0;
        while i < data.len() {
            i += usize::from(data[i]) + 1;
        }
        Ok(UserClass {
            raw: data,
            rfc3004: i == data.len(),
        })
    }
    /// The raw value.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }
    /// Whether the value is in RFC 3004 (length-prefixed) form.
    #[inline]
    pub fn is_rfc3004(&self) -> bool {
        self.rfc3004
    }
    /// The classes: each RFC 3004 entry, or the bare string as one class.
    #[inline]
    pub fn classes(&self) -> UserClasses<'a> {
        UserClasses {
            rest: self.raw,
            rfc3004: self.rfc3004,
        }
    }
    /// Whether one of the classes equals `class` (e.g. `b"iPXE"`).
    #[inline]
    pub fn contains(&self, class: &[u8]) -> bool {
        self.classes().any(|c| c == class)
    }
}

/// Iterator over the classes of a [`UserClass`].
#[derive(Debug, Clone)]
pub struct UserClasses<'a> {
    rest: &'a [u8],
    rfc3004: bool,
}

impl<'a> Iterator for UserClasses<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        if !self.rfc3004 {
            return Some(core::mem::take(&mut self.rest));
        }
        let (&len, tail) = self.rest.split_first()?;
        let len = usize::from(len).min(tail.len());
        let (class, rest) = tail.split_at(len);
        self.rest = rest;
        Some(class)
    }
}

/// A client system architecture number (option 93, IANA "Processor
/// Architecture Types").
///
/// RFC 4578 printed 7 = EFI BC and 9 = EFI x86-64; Errata 4624 swapped them
/// and IANA follows the errata: **7 is x64 UEFI, 9 is EBC**. Firmware in the
/// wild sends both 7 and 9 for x86-64, so treat both as x64 UEFI when
/// choosing a boot file ([`ClientArch::is_x64_uefi`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientArch(pub u16);

impl ClientArch {
    /// 0: x86 BIOS (dnsmasq `x86PC`).
    pub const X86_BIOS: Self = Self(0);
    /// 1: NEC/PC98 (deprecated).
    pub const PC98: Self = Self(1);
    /// 2: Itanium.
    pub const ITANIUM: Self = Self(2);
    /// 3: DEC Alpha (deprecated).
    pub const ALPHA: Self = Self(3);
    /// 4: Arc x86 (deprecated).
    pub const ARC_X86: Self = Self(4);
    /// 5: Intel Lean Client (deprecated).
    pub const INTEL_LEAN_CLIENT: Self = Self(5);
    /// 6: x86 (IA32) UEFI.
    pub const IA32_UEFI: Self = Self(6);
    /// 7: x64 UEFI (IANA, RFC 4578 errata 4624; RFC 4578 printed EFI BC).
    pub const X64_UEFI: Self = Self(7);
    /// 8: EFI Xscale (deprecated).
    pub const XSCALE_UEFI: Self = Self(8);
    /// 9: EFI byte code (IANA); some firmware sends it for x64 UEFI.
    pub const EBC: Self = Self(9);
    /// 10: ARM 32-bit UEFI.
    pub const ARM32_UEFI: Self = Self(10);
    /// 11: ARM 64-bit UEFI.
    pub const ARM64_UEFI: Self = Self(11);
    /// 12: PowerPC Open Firmware.
    pub const PPC_OPEN_FIRMWARE: Self = Self(12);
    /// 13: PowerPC ePAPR.
    pub const PPC_EPAPR: Self = Self(13);
    /// 14: POWER OPAL v3.
    pub const POWER_OPAL_V3: Self = Self(14);
    /// 15: x86 UEFI HTTP boot.
    pub const X86_UEFI_HTTP: Self = Self(15);
    /// 16: x64 UEFI HTTP boot.
    pub const X64_UEFI_HTTP: Self = Self(16);
    /// 17: EBC HTTP boot.
    pub const EBC_HTTP: Self = Self(17);
    /// 18: ARM 32-bit UEFI HTTP boot.
    pub const ARM32_UEFI_HTTP: Self = Self(18);
    /// 19: ARM 64-bit UEFI HTTP boot.
    pub const ARM64_UEFI_HTTP: Self = Self(19);
    /// 20: PC/AT BIOS HTTP boot.
    pub const X86_BIOS_HTTP: Self = Self(20);
    /// 21: ARM 32-bit U-Boot.
    pub const ARM32_UBOOT: Self = Self(21);
    /// 22: ARM 64-bit U-Boot.
    pub const ARM64_UBOOT: Self = Self(22);
    /// 23: ARM 32-bit U-Boot HTTP boot.
    pub const ARM32_UBOOT_HTTP: Self = Self(23);
    /// 24: ARM 64-bit U-Boot HTTP boot.
    pub const ARM64_UBOOT_HTTP: Self = Self(24);
    /// 25: RISC-V 32-bit UEFI.
    pub const RISCV32_UEFI: Self = Self(25);
    /// 26: RISC-V 32-bit UEFI HTTP boot.
    pub const RISCV32_UEFI_HTTP: Self = Self(26);
    /// 27: RISC-V 64-bit UEFI.
    pub const RISCV64_UEFI: Self = Self(27);
    /// 28: RISC-V 64-bit UEFI HTTP boot.
    pub const RISCV64_UEFI_HTTP: Self = Self(28);
    /// 29: RISC-V 128-bit UEFI.
    pub const RISCV128_UEFI: Self = Self(29);
    /// 30: RISC-V 128-bit UEFI HTTP boot.
    pub const RISCV128_UEFI_HTTP: Self = Self(30);
    /// 31: s390 basic.
    pub const S390_BASIC: Self = Self(31);
    /// 32: s390 extended.
    pub const S390_EXTENDED: Self = Self(32);
    /// 33: MIPS 32-bit UEFI.
    pub const MIPS32_UEFI: Self = Self(33);
    /// 34: MIPS 64-bit UEFI.
    pub const MIPS64_UEFI: Self = Self(34);
    /// 35: Sunway 32-bit UEFI.
    pub const SUNWAY32_UEFI: Self = Self(35);
    /// 36: Sunway 64-bit UEFI.
    pub const SUNWAY64_UEFI: Self = Self(36);
    /// 37: LoongArch 32-bit UEFI.
    pub const LOONGARCH32_UEFI: Self = Self(37);
    /// 38: LoongArch 32-bit UEFI HTTP boot.
    pub const LOONGARCH32_UEFI_HTTP: Self = Self(38);
    /// 39: LoongArch 64-bit UEFI.
    pub const LOONGARCH64_UEFI: Self = Self(39);
    /// 40: LoongArch 64-bit UEFI HTTP boot.
    pub const LOONGARCH64_UEFI_HTTP: Self = Self(40);
    /// 41: ARM rpiboot.
    pub const ARM_RPIBOOT: Self = Self(41);

    /// The dnsmasq `dhcp-match`/`pxe-service` CSA name (`x86PC`,
    /// `x86-64_EFI`, `BC_EFI`, ...) for codes dnsmasq names.
    #[inline]
    pub fn dnsmasq_name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "x86PC",
            1 => "PC98",
            2 => "IA64_EFI",
            3 => "Alpha",
            4 => "Arc_x86",
            5 => "Intel_Lean_Client",
            6 => "IA32_EFI",
            7 => "x86-64_EFI",
            8 => "Xscale_EFI",
            9 => "BC_EFI",
            10 => "ARM32_EFI",
            11 => "ARM64_EFI",
            _ => return None,
        })
    }

    /// A short human description from the IANA registry.
    #[inline]
    pub fn description(self) -> &'static str {
        const NAMES: [&str; 42] = [
            "x86 BIOS",
            "NEC/PC98",
            "Itanium",
            "DEC Alpha",
            "Arc x86",
            "Intel Lean Client",
            "x86 UEFI",
            "x64 UEFI",
            "EFI Xscale",
            "EBC",
            "ARM 32-bit UEFI",
            "ARM 64-bit UEFI",
            "PowerPC Open Firmware",
            "PowerPC ePAPR",
            "POWER OPAL v3",
            "x86 UEFI HTTP",
            "x64 UEFI HTTP",
            "EBC HTTP",
            "ARM 32-bit UEFI HTTP",
            "ARM 64-bit UEFI HTTP",
            "PC/AT BIOS HTTP",
            "ARM 32-bit U-Boot",
            "ARM 64-bit U-Boot",
            "ARM 32-bit U-Boot HTTP",
            "ARM 64-bit U-Boot HTTP",
            "RISC-V 32-bit UEFI",
            "RISC-V 32-bit UEFI HTTP",
            "RISC-V 64-bit UEFI",
            "RISC-V 64-bit UEFI HTTP",
            "RISC-V 128-bit UEFI",
            "RISC-V 128-bit UEFI HTTP",
            "s390 basic",
            "s390 extended",
            "MIPS 32-bit UEFI",
            "MIPS 64-bit UEFI",
            "Sunway 32-bit UEFI",
            "Sunway 64-bit UEFI",
            "LoongArch 32-bit UEFI",
            "LoongArch 32-bit UEFI HTTP",
            "LoongArch 64-bit UEFI",
            "LoongArch 64-bit UEFI HTTP",
            "ARM rpiboot",
        ];
        NAMES
            .get(usize::from(self.0))
            .copied()
            .unwrap_or("unassigned")
    }

    /// Whether the client is x64 UEFI: 7 per IANA, or 9 as sent by
    /// firmware following RFC 4578's original (erroneous) table.
    #[inline]
    pub fn is_x64_uefi(self) -> bool {
        self == Self::X64_UEFI || self == Self::EBC
    }

    /// Whether the code is one of the UEFI HTTP Boot architectures.
    #[inline]
    pub fn is_http_boot(self) -> bool {
        matches!(self.0, 15..=20 | 23 | 24 | 26 | 28 | 30 | 38 | 40)
    }

    /// Whether the client runs a legacy BIOS PXE ROM (code 0).
    #[inline]
    pub fn is_bios(self) -> bool {
        self == Self::X86_BIOS
    }
}

impl From<u16> for ClientArch {
    #[inline]
    fn from(v: u16) -> Self {
        ClientArch(v)
    }
}

/// The description, then the number: `x86 BIOS (0)`, `x64 UEFI (7)`.
impl fmt::Display for ClientArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.description(), self.0)
    }
}

/// Option 93, a list of architectures (usually one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientArchList<'a>(&'a [u8]);

impl<'a> ClientArchList<'a> {
    /// Checks that `data` is a non-empty multiple of 2 bytes.
    #[inline]
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        if data.is_empty() || !data.len().is_multiple_of(2) {
            return Err(Error::BadLength {
                code: code::CLIENT_ARCH,
                len: data.len(),
                expected: "a non-zero multiple of 2",
            });
        }
        Ok(ClientArchList(data))
    }
    /// The architectures in the order sent.
    #[inline]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ClientArch> + use<'a> {
        self.0
            .chunks_exact(2)
            .map(|c| ClientArch(u16::from_be_bytes([c[0], c[1]])))
    }
    /// The first (normally only) architecture.
    #[inline]
    pub fn first(&self) -> ClientArch {
        self.iter().next().unwrap_or(ClientArch::X86_BIOS)
    }
    /// Whether any element equals `arch` (dnsmasq's `dhcp-match` semantics).
    #[inline]
    pub fn contains(&self, arch: ClientArch) -> bool {
        self.iter().any(|a| a == arch)
    }
    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len() / 2
    }
    /// Always false: an empty list does not parse.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The raw bytes.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

/// Option 94, the client network device interface: type 1 = UNDI and its
/// version (e.g. 2.1 for a BIOS PXE ROM, 3.0 for EDK2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientNdi {
    /// Interface type (1 = UNDI).
    pub kind: u8,
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
}

impl ClientNdi {
    /// Parses the 3-byte value.
    #[inline]
    pub fn parse(data: &[u8]) -> Result<Self, Error> {
        match data {
            [kind, major, minor] => Ok(ClientNdi {
                kind: *kind,
                major: *major,
                minor: *minor,
            }),
            _ => Err(Error::BadLength {
                code: code::CLIENT_NDI,
                len: data.len(),
                expected: "3 (type, major, minor)",
            }),
        }
    }
    /// The wire form.
    #[inline]
    pub fn to_bytes(self) -> [u8; 3] {
        [self.kind, self.major, self.minor]
    }
}

/// Option 97, the client machine identifier: type 0 and a 16-byte UUID.
///
/// **Byte order.** The 16 bytes are kept exactly as sent. RFC 4578 does not
/// fix a byte order; PXE clients (EDK2, iPXE) send the SMBIOS system UUID
/// as SMBIOS 2.6+ stores it, first three fields little-endian. So
/// [`ClientUuid::guid_text`] (first three fields byte-swapped), which is
/// also this type's `Display`, is what `dmidecode -s system-uuid` and
/// iPXE's `${uuid}` print for that machine: wire bytes
/// `1e 00 17 00 00 8c ad 00 ...` read `0017001e-8c00-00ad-...`, while
/// [`ClientUuid::wire_text`] reads them big-endian (`1e001700-008c-ad00-...`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientUuid {
    /// The type byte (0 = UUID/GUID; other values are not defined).
    pub kind: u8,
    /// The 16 UUID bytes in wire order.
    pub bytes: [u8; 16],
}

/// A UUID rendered as 36 ASCII characters without allocating.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct UuidText([u8; 36]);

impl UuidText {
    /// The text, e.g. `0017001e-8c00-00ad-5087-90e6ba2f3423`.
    #[inline]
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for UuidText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for UuidText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl ClientUuid {
    /// Parses the 17-byte value. Type bytes other than 0 are accepted (the
    /// type is kept) but the length must be 17, as PXE requires.
    #[inline]
    pub fn parse(data: &[u8]) -> Result<Self, Error> {
        match data {
            [kind, rest @ ..] if rest.len() == 16 => {
                let mut bytes = [0; 16];
                bytes.copy_from_slice(rest);
                Ok(ClientUuid { kind: *kind, bytes })
            }
            _ => Err(Error::BadLength {
                code: code::CLIENT_UUID,
                len: data.len(),
                expected: "17 (type 0 + 16-byte UUID)",
            }),
        }
    }
    /// The wire form (type byte + 16 bytes).
    #[inline]
    pub fn to_bytes(&self) -> [u8; 17] {
        let mut out = [0; 17];
        out[0] = self.kind;
        out[1..].copy_from_slice(&self.bytes);
        out
    }
    /// The bytes with the first three fields swapped (wire <-> SMBIOS/GUID order).
    #[inline]
    pub fn swapped(&self) -> [u8; 16] {
        let b = self.bytes;
        let mut o = b;
        o[0..4].copy_from_slice(&[b[3], b[2], b[1], b[0]]);
        o[4..6].copy_from_slice(&[b[5], b[4]]);
        o[6..8].copy_from_slice(&[b[7], b[6]]);
        o
    }
    /// The wire bytes read as a big-endian RFC 4122 UUID.
    #[inline]
    pub fn wire_text(&self) -> UuidText {
        uuid_text(&self.bytes)
    }
    /// The SMBIOS/GUID reading (first three fields little-endian): what
    /// `dmidecode`, EDK2 and iPXE's `${uuid}` print.
    #[inline]
    pub fn guid_text(&self) -> UuidText {
        uuid_text(&self.swapped())
    }
}

#[inline]
fn uuid_text(b: &[u8; 16]) -> UuidText {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'-'; 36];
    let mut j = 0;
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            j += 1;
        }
        out[j] = HEX[usize::from(byte >> 4)];
        out[j + 1] = HEX[usize::from(byte & 15)];
        j += 2;
    }
    UuidText(out)
}
