//! Facts about one request: what the rules may look at.
//!
//! [`Facts`] borrows the request's bytes. Building it from a packet walks
//! the options once (main area, then `file` and `sname` when option 52 says
//! so, first instance wins, as `rfc2131.c: option_find` does) and records
//! where each option starts, so every later lookup is O(1) and nothing is
//! allocated.

use core::net::Ipv4Addr;

/// Why bytes could not be read as a BOOTP/DHCP request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FactsError {
    /// Shorter than the 236-byte fixed header.
    #[error("packet is {0} bytes, shorter than the 236-byte BOOTP header")]
    TooShort(usize),
    /// `hlen` above 16.
    #[error("hardware address length {0} is above 16")]
    BadHlen(u8),
}

/// Which socket the request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// UDP 67 (DHCP server port).
    Dhcp,
    /// UDP 4011 (PXE boot server / proxyDHCP port).
    Pxe,
}

/// Where the request was received, as the server knows it.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Receiving interface name (becomes a tag when a rule names it).
    pub interface: Option<&'a str>,
    /// The server's own address on the arrival network (`local`).
    pub local: Ipv4Addr,
    /// The netmask of the arrival network.
    pub netmask: Ipv4Addr,
    /// Which port received the request.
    pub port: Port,
    /// The address the server intends to give, when it already knows it
    /// (selects the `dhcp-range` containing it).
    pub address: Option<Ipv4Addr>,
}

impl<'a> Context<'a> {
    /// A context for a request received on port 67 of `local`/`netmask`.
    pub fn new(local: Ipv4Addr, netmask: Ipv4Addr) -> Self {
        Self {
            interface: None,
            local,
            netmask,
            port: Port::Dhcp,
            address: None,
        }
    }

    /// Sets the interface name.
    pub fn with_interface(mut self, name: &'a str) -> Self {
        self.interface = Some(name);
        self
    }

    /// Sets the receiving port.
    pub fn with_port(mut self, port: Port) -> Self {
        self.port = port;
        self
    }
}

#[derive(Clone, Copy)]
#[allow(clippy::large_enum_variant)] // the packet index is the normal case; no boxing (no_std, no alloc)
enum Opts<'p> {
    /// Offsets of each option's code byte in `bytes` (0 = absent).
    Packet { bytes: &'p [u8], at: [u16; 256] },
    /// Options given directly (tests, synthetic requests).
    List(&'p [(u8, &'p [u8])]),
}

/// Facts extracted from one request.
#[derive(Clone, Copy)]
pub struct Facts<'p> {
    /// BOOTP `op` (1 = request).
    pub op: u8,
    /// Hardware type.
    pub htype: u8,
    /// Client hardware address (`hlen` bytes of `chaddr`).
    pub chaddr: &'p [u8],
    /// `ciaddr` as sent.
    pub ciaddr: Ipv4Addr,
    /// Relay address.
    pub giaddr: Ipv4Addr,
    /// The request's `file` field up to its first NUL (a BOOTP tag source).
    pub file: &'p [u8],
    opts: Opts<'p>,
}

impl core::fmt::Debug for Facts<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Facts")
            .field("htype", &self.htype)
            .field("chaddr", &self.chaddr)
            .field("message_type", &self.message_type())
            .field("arch", &self.arch())
            .finish_non_exhaustive()
    }
}

const COOKIE: [u8; 4] = [99, 130, 83, 99];

fn ip(b: &[u8]) -> Ipv4Addr {
    match b {
        [a, b, c, d, ..] => Ipv4Addr::new(*a, *b, *c, *d),
        _ => Ipv4Addr::UNSPECIFIED,
    }
}

fn until_nul(b: &[u8]) -> &[u8] {
    match b.iter().position(|x| *x == 0) {
        Some(p) => &b[..p],
        None => b,
    }
}

/// The acceptance rules of `dhcp.c: dhcp_packet` for length and `hlen`.
fn check_header(bytes: &[u8]) -> Result<(), FactsError> {
    if bytes.len() < 236 {
        return Err(FactsError::TooShort(bytes.len()));
    }
    match bytes[2] {
        hlen @ 17.. => Err(FactsError::BadHlen(hlen)),
        _ => Ok(()),
    }
}

/// Walks one option area, recording first instances.
fn walk(bytes: &[u8], start: usize, end: usize, at: &mut [u16; 256]) {
    let mut i = start;
    while i < end {
        let code = bytes[i];
        match code {
            0 => i += 1,
            255 => break,
            _ => {
                let Some(&len) = bytes.get(i + 1) else { break };
                let next = i + 2 + usize::from(len);
                if i + 1 >= end || next > end {
                    break; // malformed length stops the scan
                }
                if at[usize::from(code)] == 0 && i <= usize::from(u16::MAX) {
                    at[usize::from(code)] = i as u16;
                }
                i = next;
            }
        }
    }
}

impl<'p> Facts<'p> {
    /// Reads a BOOTP/DHCP request (`dhcp.c: dhcp_packet` acceptance rules
    /// for length and `hlen`; the caller checks `op`).
    pub fn parse(bytes: &'p [u8]) -> Result<Self, FactsError> {
        check_header(bytes)?;
        let mut at = [0u16; 256];
        if bytes.len() >= 240 && bytes[236..240] == COOKIE {
            let end = bytes.len().min(usize::from(u16::MAX));
            walk(bytes, 240, end, &mut at);
            let ov = at[52];
            if ov != 0 && bytes.get(usize::from(ov) + 1).is_some_and(|l| *l >= 1) {
                let flags = bytes.get(usize::from(ov) + 2).copied().unwrap_or(0);
                if flags & 1 != 0 {
                    walk(bytes, 108, 236, &mut at);
                }
                if flags & 2 != 0 {
                    walk(bytes, 44, 108, &mut at);
                }
            }
        }
        let overloaded_file = at[52] != 0
            && bytes
                .get(usize::from(at[52]) + 2)
                .is_some_and(|f| f & 1 != 0);
        Ok(Self::indexed(bytes, at, overloaded_file))
    }

    /// Facts from a [`pxe_dhcp::Packet`] (already checked by the codec).
    /// Options are indexed through the codec's iterator (which follows
    /// option 52 into `file` and `sname`); the first instance of each code
    /// wins, and a framing error ends the index as dnsmasq's scan does.
    pub fn from_packet<T: AsRef<[u8]>>(
        packet: &'p pxe_dhcp::Packet<T>,
    ) -> Result<Self, FactsError> {
        let bytes = packet.as_bytes();
        check_header(bytes)?;
        let mut at = [0u16; 256];
        let base = bytes.as_ptr() as usize;
        for opt in packet.options() {
            let Ok(o) = opt else { break };
            let off = (o.data.as_ptr() as usize)
                .wrapping_sub(base)
                .wrapping_sub(2);
            let slot = &mut at[usize::from(o.code)];
            if *slot == 0 && off < bytes.len() && off <= usize::from(u16::MAX) {
                *slot = off as u16;
            }
        }
        Ok(Self::indexed(bytes, at, packet.overload() & 1 != 0))
    }

    /// Header fields of bytes that passed [`check_header`] (at least 236
    /// bytes, `hlen` at most 16, so the fixed ranges below are in bounds),
    /// with their option index; `file` is empty when option 52 says it
    /// holds options.
    fn indexed(bytes: &'p [u8], at: [u16; 256], overloaded_file: bool) -> Self {
        Self {
            op: bytes[0],
            htype: bytes[1],
            chaddr: &bytes[28..28 + usize::from(bytes[2])],
            ciaddr: ip(&bytes[12..16]),
            giaddr: ip(&bytes[24..28]),
            file: if overloaded_file {
                &[]
            } else {
                until_nul(&bytes[108..236])
            },
            opts: Opts::Packet { bytes, at },
        }
    }

    /// Facts built directly from header values and a list of options
    /// (first instance of a code wins). For tests and synthetic requests.
    pub fn from_options(
        htype: u8,
        chaddr: &'p [u8],
        ciaddr: Ipv4Addr,
        options: &'p [(u8, &'p [u8])],
    ) -> Self {
        Self {
            op: 1,
            htype,
            chaddr,
            ciaddr,
            giaddr: Ipv4Addr::UNSPECIFIED,
            file: &[],
            opts: Opts::List(options),
        }
    }

    /// The first instance of option `code`.
    #[inline]
    pub fn option(&self, code: u8) -> Option<&'p [u8]> {
        match &self.opts {
            Opts::Packet { bytes, at } => {
                let off = usize::from(at[usize::from(code)]);
                if off == 0 {
                    return None;
                }
                let len = usize::from(*bytes.get(off + 1)?);
                bytes.get(off + 2..off + 2 + len)
            }
            Opts::List(l) => l.iter().find(|(c, _)| *c == code).map(|(_, v)| *v),
        }
    }

    /// Whether option 53 is present (DHCP rather than BOOTP).
    pub fn is_dhcp(&self) -> bool {
        self.message_type().is_some()
    }

    /// Option 53.
    pub fn message_type(&self) -> Option<u8> {
        self.option(53).and_then(|v| v.first().copied())
    }

    /// Option 55, the parameter request list.
    pub fn parameter_request_list(&self) -> Option<&'p [u8]> {
        self.option(55)
    }

    /// Whether the client asked for option `code`, or sent no option 55
    /// ("send everything", `rfc2131.c: in_list`).
    pub fn requested(&self, code: u8) -> bool {
        self.option(55).is_none_or(|l| l.contains(&code))
    }

    /// Option 61, the client identifier.
    pub fn client_id(&self) -> Option<&'p [u8]> {
        self.option(61)
    }

    /// Option 60, the vendor class.
    pub fn vendor_class(&self) -> Option<&'p [u8]> {
        self.option(60)
    }

    /// Option 77, the user class.
    pub fn user_class(&self) -> Option<&'p [u8]> {
        self.option(77)
    }

    /// Option 93 read as a list of 16-bit architectures.
    pub fn arch_list(&self) -> impl Iterator<Item = u16> + 'p {
        self.option(93)
            .unwrap_or(&[])
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
    }

    /// The first architecture in option 93 (needs ≥ 2 bytes), as dnsmasq
    /// uses it for PXE decisions.
    pub fn arch(&self) -> Option<u16> {
        self.option(93)
            .filter(|v| v.len() >= 2)
            .map(|v| u16::from_be_bytes([v[0], v[1]]))
    }

    /// Option 97 when it is at least 17 bytes (the 17 bytes dnsmasq echoes).
    pub fn uuid(&self) -> Option<&'p [u8]> {
        self.option(97).filter(|v| v.len() >= 17).map(|v| &v[..17])
    }

    /// Whether the request comes from iPXE: option 175 present, or user
    /// class `iPXE`.
    pub fn is_ipxe(&self) -> bool {
        self.option(175).is_some() || self.user_class() == Some(b"iPXE".as_slice())
    }

    /// Option 82, the relay agent information.
    pub fn relay_agent(&self) -> Option<&'p [u8]> {
        self.option(82)
    }

    /// A sub-option of option 82 (1 circuit id, 2 remote id, 6 subscriber id).
    pub fn relay_sub(&self, sub: u8) -> Option<&'p [u8]> {
        find_sub(self.option(82)?, sub)
    }

    /// The client's host name (option 12).
    pub fn hostname(&self) -> Option<&'p [u8]> {
        self.option(12)
    }

    /// The PXE boot item (43 sub-option 71, `type`, `layer`) of a
    /// boot-server request.
    pub fn pxe_boot_item(&self) -> Option<(u16, u16)> {
        let v = find_sub(self.option(43)?, 71)?;
        if v.len() < 4 {
            return None;
        }
        Some((
            u16::from_be_bytes([v[0], v[1]]),
            u16::from_be_bytes([v[2], v[3]]),
        ))
    }

    /// The raw bytes of sub-option 71 (4 bytes), for echoing.
    pub fn pxe_boot_item_raw(&self) -> Option<&'p [u8]> {
        find_sub(self.option(43)?, 71)
            .filter(|v| v.len() >= 4)
            .map(|v| &v[..4])
    }

    /// `ciaddr` as dnsmasq uses it: zeroed when option 50 is present or
    /// the message is a DISCOVER.
    pub fn effective_ciaddr(&self) -> Ipv4Addr {
        if self.option(50).is_some() || self.message_type() == Some(1) {
            Ipv4Addr::UNSPECIFIED
        } else {
            self.ciaddr
        }
    }
}

/// Finds a sub-option in an encapsulated TLV list (`option_find1`).
pub(crate) fn find_sub(mut b: &[u8], code: u8) -> Option<&[u8]> {
    while let Some((&c, rest)) = b.split_first() {
        match c {
            0 => b = rest,
            255 => return None,
            _ => {
                let (&len, rest) = rest.split_first()?;
                let len = usize::from(len);
                if rest.len() < len {
                    return None;
                }
                if c == code {
                    return Some(&rest[..len]);
                }
                b = &rest[len..];
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(opts: &[u8]) -> [u8; 400] {
        let mut p = [0u8; 400];
        p[0] = 1;
        p[1] = 1;
        p[2] = 6;
        p[28..34].copy_from_slice(&[0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        p[236..240].copy_from_slice(&COOKIE);
        p[240..240 + opts.len()].copy_from_slice(opts);
        p
    }

    #[test]
    fn walks_options_first_instance_wins() {
        let p = packet(&[53, 1, 1, 0, 93, 2, 0, 7, 93, 2, 0, 9, 255]);
        let f = Facts::parse(&p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.message_type(), Some(1));
        assert_eq!(f.arch(), Some(7));
        assert_eq!(f.chaddr, [0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert!(f.requested(67), "no 55 means everything");
        assert!(!f.is_ipxe());
    }

    #[test]
    fn overload_and_bad_lengths() {
        let mut p = packet(&[53, 1, 3, 52, 1, 1, 255]);
        p[108..112].copy_from_slice(&[67, 2, b'x', b'y']);
        p[112] = 255;
        let f = Facts::parse(&p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.option(67), Some(b"xy".as_slice()));
        assert!(f.file.is_empty());
        let p = packet(&[53, 1, 3, 60, 200]);
        let f = Facts::parse(&p[..250]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.option(60), None);
        assert_eq!(
            Facts::parse(&p[..100]).err(),
            Some(FactsError::TooShort(100))
        );
    }

    #[test]
    fn header_checks_length_before_hlen() {
        let mut p = packet(&[255]);
        p[2] = 17;
        assert_eq!(Facts::parse(&p).err(), Some(FactsError::BadHlen(17)));
        assert_eq!(Facts::parse(&p[..236]).err(), Some(FactsError::BadHlen(17)));
        assert_eq!(
            Facts::parse(&p[..235]).err(),
            Some(FactsError::TooShort(235))
        );
        p[2] = 16;
        let f = Facts::parse(&p[..236]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.chaddr.len(), 16);
        assert_eq!(f.option(53), None, "no cookie, no options");
    }

    #[test]
    fn boot_item() {
        let p = packet(&[53, 1, 3, 43, 7, 71, 4, 0x80, 0, 0, 1, 255]);
        let f = Facts::parse(&p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.pxe_boot_item(), Some((0x8000, 1)));
    }
}
