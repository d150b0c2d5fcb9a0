//! Facts about one request: what the rules may look at.
//!
//! [`Facts`] reads a borrowed [`pxe_dhcp::Packet`]: the packet's single
//! validating pass has already indexed the options, so facts cost a few
//! header reads and every option lookup is the packet's own. Options are
//! looked up as dnsmasq looks them up (`rfc2131.c: option_find`,
//! [`Packet::option_at_least`]): the first occurrence, in the options
//! field and then in `file` and `sname` when option 52 says so, that is
//! long enough for its use. RFC 3396 fragments are never joined, because
//! dnsmasq does not join them. Nothing is allocated.

use core::net::Ipv4Addr;

use pxe_dhcp::pxe::BootItem;
use pxe_dhcp::{Packet, SubOptions, code};

/// Why a packet cannot be evaluated as a BOOTP/DHCP request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FactsError {
    /// `hlen` above 16 (`dhcp.c: dhcp_packet` drops such packets).
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

/// Where the options come from.
#[derive(Clone, Copy)]
enum Opts<'p> {
    /// A request on the wire, through the codec's index.
    Packet(&'p Packet<&'p [u8]>),
    /// Options given directly (tests, synthetic requests), in wire order.
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
    /// The request's `file` field up to its first NUL (a BOOTP tag
    /// source); empty when option 52 says it holds options.
    pub file: &'p [u8],
    opts: Opts<'p>,
    /// Option 53 and the first architecture of 93, read once: every phase
    /// of an evaluation asks for them.
    message_type: Option<u8>,
    arch: Option<u16>,
    /// Options 60 and 77, read once: every `dhcp-vendorclass` and
    /// `dhcp-userclass` line searches one of them.
    vendor_class: Option<&'p [u8]>,
    user_class: Option<&'p [u8]>,
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

impl<'p> Facts<'p> {
    /// The facts of a request the codec has read. Refuses `hlen` above 16
    /// as `dhcp.c: dhcp_packet` does; the caller checks `op` (evaluation
    /// ignores anything but a request).
    ///
    /// From a `Packet::new_lenient` view, options after the first framing
    /// error are absent. dnsmasq's scan also stops at a length that runs
    /// past its area, but reads on past an invalid option 52, which the
    /// codec counts as a framing error; a server that drops badly framed
    /// requests (as pxe-engine does) never sees the difference.
    pub fn new(packet: &'p Packet<&'p [u8]>) -> Result<Self, FactsError> {
        if packet.hlen() > 16 {
            return Err(FactsError::BadHlen(packet.hlen()));
        }
        Ok(Self {
            op: u8::from(packet.op()),
            htype: packet.htype(),
            chaddr: packet.chaddr(),
            ciaddr: packet.ciaddr(),
            giaddr: packet.giaddr(),
            file: packet.file().unwrap_or(&[]),
            opts: Opts::Packet(packet),
            message_type: None,
            arch: None,
            vendor_class: None,
            user_class: None,
        }
        .with_cached())
    }

    /// Facts built directly from header values and a list of options in
    /// wire order. For tests and synthetic requests.
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
            message_type: None,
            arch: None,
            vendor_class: None,
            user_class: None,
        }
        .with_cached()
    }

    /// Reads the options every evaluation asks for more than once.
    fn with_cached(mut self) -> Self {
        self.message_type = self
            .option_at_least(code::MESSAGE_TYPE, 1)
            .and_then(|v| v.first().copied());
        self.arch = self.arch_list().next();
        self.vendor_class = self.option_at_least(code::VENDOR_CLASS, 1);
        self.user_class = self.option_at_least(code::USER_CLASS, 1);
        self
    }

    /// The request packet, when the facts were read from one.
    pub fn packet(&self) -> Option<&'p Packet<&'p [u8]>> {
        match self.opts {
            Opts::Packet(p) => Some(p),
            Opts::List(_) => None,
        }
    }

    /// The first occurrence of option `code`, whatever its length.
    #[inline]
    pub fn option(&self, code: u8) -> Option<&'p [u8]> {
        self.option_at_least(code, 0)
    }

    /// The first occurrence of option `code` at least `min_len` bytes long
    /// (dnsmasq's `option_find`: shorter occurrences are skipped).
    ///
    /// Inlined: an evaluation makes dozens of these lookups (every
    /// `dhcp-match` and class line makes one), and through the packet's
    /// index each is a table read and a length check, less than a call.
    #[inline(always)]
    pub fn option_at_least(&self, code: u8, min_len: usize) -> Option<&'p [u8]> {
        match self.opts {
            Opts::Packet(p) => p.option_at_least(code, min_len),
            Opts::List(l) => list_option_at_least(l, code, min_len),
        }
    }

    /// Whether option 53 is present (DHCP rather than BOOTP).
    pub fn is_dhcp(&self) -> bool {
        self.message_type().is_some()
    }

    /// Option 53.
    pub fn message_type(&self) -> Option<u8> {
        self.message_type
    }

    /// Option 55, the parameter request list.
    pub fn parameter_request_list(&self) -> Option<&'p [u8]> {
        self.option(code::PARAMETER_REQUEST_LIST)
    }

    /// Whether the client asked for option `code`, or sent no option 55
    /// ("send everything", `rfc2131.c: in_list`).
    ///
    /// Every non-forced option of the configuration asks this, so the list
    /// is searched eight codes at a time: `<[u8]>::contains` is a `memchr`
    /// call that cost 115 instructions per question on iPXE's 23-code list.
    pub fn requested(&self, code: u8) -> bool {
        self.parameter_request_list()
            .is_none_or(|list| crate::swar::has_byte(list, code))
    }

    /// Option 61, the client identifier.
    pub fn client_id(&self) -> Option<&'p [u8]> {
        self.option_at_least(code::CLIENT_ID, 1)
    }

    /// Option 60, the vendor class.
    #[inline]
    pub fn vendor_class(&self) -> Option<&'p [u8]> {
        self.vendor_class
    }

    /// Option 77, the user class.
    #[inline]
    pub fn user_class(&self) -> Option<&'p [u8]> {
        self.user_class
    }

    /// Option 93 read as a list of 16-bit architectures.
    pub fn arch_list(&self) -> impl Iterator<Item = u16> + 'p {
        self.option_at_least(code::CLIENT_ARCH, 2)
            .unwrap_or(&[])
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
    }

    /// The first architecture in option 93 (at least 2 bytes), as dnsmasq
    /// uses it for PXE decisions.
    pub fn arch(&self) -> Option<u16> {
        self.arch
    }

    /// Option 97 when it is at least 17 bytes (the 17 bytes dnsmasq echoes).
    pub fn uuid(&self) -> Option<&'p [u8]> {
        self.option_at_least(code::CLIENT_UUID, 17)
            .and_then(|v| v.get(..17))
    }

    /// Whether the request comes from iPXE: option 175 present, or user
    /// class `iPXE`.
    pub fn is_ipxe(&self) -> bool {
        self.option(code::IPXE_ENCAP).is_some() || self.user_class() == Some(b"iPXE".as_slice())
    }

    /// Option 82, the relay agent information.
    pub fn relay_agent(&self) -> Option<&'p [u8]> {
        self.option_at_least(code::RELAY_AGENT_INFO, 1)
    }

    /// A sub-option of option 82 (1 circuit id, 2 remote id, 6 subscriber
    /// id), read as dnsmasq reads it (pad and end codes honoured).
    pub fn relay_sub(&self, sub: u8) -> Option<&'p [u8]> {
        SubOptions::new(code::RELAY_AGENT_INFO, self.relay_agent()?, true).find_at_least(sub, 1)
    }

    /// The client's host name (option 12).
    pub fn hostname(&self) -> Option<&'p [u8]> {
        self.option_at_least(code::HOST_NAME, 1)
    }

    /// The domain part of option 81 (client FQDN: flags and two RCODE
    /// bytes first).
    pub fn fqdn_name(&self) -> Option<&'p [u8]> {
        self.option_at_least(81, 3).and_then(|o| o.get(3..))
    }

    /// The PXE boot item (43 sub-option 71, at least 4 bytes) of a
    /// boot-server request.
    pub fn pxe_boot_item(&self) -> Option<BootItem> {
        let v43 = self.option_at_least(code::VENDOR_SPECIFIC, 1)?;
        let v = SubOptions::new(code::VENDOR_SPECIFIC, v43, true)
            .find_at_least(pxe_dhcp::pxe::sub::BOOT_ITEM, 4)?;
        BootItem::parse(v.get(..4)?).ok()
    }

    /// `ciaddr` as dnsmasq uses it: zeroed when option 50 is present or
    /// the message is a DISCOVER.
    pub fn effective_ciaddr(&self) -> Ipv4Addr {
        if self.option_at_least(code::REQUESTED_IP, 4).is_some() || self.message_type() == Some(1) {
            Ipv4Addr::UNSPECIFIED
        } else {
            self.ciaddr
        }
    }
}

/// [`Facts::option_at_least`] over a list of options (not the hot path).
#[inline(never)]
fn list_option_at_least<'p>(
    list: &'p [(u8, &'p [u8])],
    code: u8,
    min_len: usize,
) -> Option<&'p [u8]> {
    list.iter()
        .find(|(c, v)| *c == code && v.len() >= min_len)
        .map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOKIE: [u8; 4] = [99, 130, 83, 99];

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

    fn view(b: &[u8]) -> Packet<&[u8]> {
        Packet::new_lenient(b).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn first_instance_wins() {
        let p = packet(&[53, 1, 1, 0, 93, 2, 0, 7, 93, 2, 0, 9, 255]);
        let v = view(&p);
        let f = Facts::new(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.message_type(), Some(1));
        assert_eq!(f.arch(), Some(7));
        assert_eq!(f.chaddr, [0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert!(f.requested(67), "no 55 means everything");
        assert!(!f.is_ipxe());
    }

    #[test]
    fn an_occurrence_too_short_for_its_use_is_skipped() {
        // dnsmasq's option_find(…, OPTION_ARCH, 2): the 1-byte 93 is passed over.
        let p = packet(&[53, 1, 1, 93, 1, 7, 93, 2, 0, 9, 255]);
        let v = view(&p);
        let f = Facts::new(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.arch(), Some(9));
        assert_eq!(f.option(93), Some(&[7u8][..]));
    }

    #[test]
    fn overload_and_bad_lengths() {
        let mut p = packet(&[53, 1, 3, 52, 1, 1, 255]);
        p[108..112].copy_from_slice(&[67, 2, b'x', b'y']);
        p[112] = 255;
        let v = view(&p);
        let f = Facts::new(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.option(67), Some(b"xy".as_slice()));
        assert!(f.file.is_empty());
        let p = packet(&[53, 1, 3, 60, 200]);
        let v = view(&p[..250]);
        let f = Facts::new(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            f.message_type(),
            Some(3),
            "what precedes the bad option stays"
        );
        assert_eq!(f.option(60), None);
        assert!(
            Packet::new_lenient(&p[..100]).is_err(),
            "shorter than a header"
        );
    }

    #[test]
    fn hlen_above_16_is_refused() {
        let mut p = packet(&[255]);
        p[2] = 17;
        let v = view(&p);
        assert_eq!(Facts::new(&v).err(), Some(FactsError::BadHlen(17)));
        let v = view(&p[..236]);
        assert_eq!(Facts::new(&v).err(), Some(FactsError::BadHlen(17)));
        p[2] = 16;
        let v = view(&p[..236]);
        let f = Facts::new(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.chaddr.len(), 16);
        assert_eq!(f.option(53), None, "no cookie, no options");
    }

    #[test]
    fn boot_item() {
        let p = packet(&[53, 1, 3, 43, 11, 71, 2, 0, 0, 71, 4, 0x80, 0, 0, 1, 255]);
        let v = view(&p);
        let f = Facts::new(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            f.pxe_boot_item(),
            Some(BootItem {
                kind: 0x8000,
                layer: 1
            }),
            "the 2-byte 71 is too short for dnsmasq and skipped"
        );
    }
}
