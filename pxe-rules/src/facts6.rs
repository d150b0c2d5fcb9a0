//! Facts about one DHCPv6 request: what the rules may look at, read from
//! a borrowed [`pxe_dhcp::v6::Message`] (the client's message, relayed or
//! not) without copying or allocating.

use core::net::Ipv6Addr;

use pxe_dhcp::v6::{Message, MessageType, Oro, code};

/// Where a DHCPv6 request was received, as the server knows it.
#[derive(Debug, Clone, Copy)]
pub struct Context6<'a> {
    /// Receiving interface name (becomes a tag when a rule names it).
    pub interface: Option<&'a str>,
    /// An address on the client's link: the server's own global or ULA
    /// address on the arrival interface, or a relay's link-address. It
    /// selects the `dhcp-range` lines of the link (and gives the network
    /// part of `constructor:` ranges).
    pub link: Ipv6Addr,
    /// The server's own address for `[::]` in option values (and the
    /// built-in DNS server).
    pub local: Ipv6Addr,
}

impl<'a> Context6<'a> {
    /// A context for a request on the link of `local`, received directly.
    pub fn new(local: Ipv6Addr) -> Self {
        Self {
            interface: None,
            link: local,
            local,
        }
    }

    /// Sets the interface name.
    pub fn with_interface(mut self, name: &'a str) -> Self {
        self.interface = Some(name);
        self
    }

    /// Sets the link address (a relay's link-address).
    pub fn with_link(mut self, link: Ipv6Addr) -> Self {
        self.link = link;
        self
    }
}

/// Facts extracted from one DHCPv6 client message.
#[derive(Clone, Copy)]
pub struct Facts6<'p> {
    msg: &'p Message<&'p [u8]>,
    /// The client's hardware type and address, when known: from a
    /// relay's option 79, the client's DUID-LL/LLT, or the EUI-64 of its
    /// link-local source address (given by the caller).
    pub mac: Option<(u16, [u8; 6])>,
}

impl core::fmt::Debug for Facts6<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Facts6")
            .field("msg_type", &self.msg_type())
            .field("arch", &self.arch())
            .field("mac", &self.mac)
            .finish_non_exhaustive()
    }
}

impl<'p> Facts6<'p> {
    /// The facts of a client message; the MAC is taken from a DUID-LL or
    /// DUID-LLT with an Ethernet address, if the client sent one.
    pub fn new(msg: &'p Message<&'p [u8]>) -> Self {
        let mac = msg
            .client_id()
            .ok()
            .flatten()
            .and_then(|d| d.mac())
            .map(|m| (1, m));
        Self { msg, mac }
    }

    /// Sets the client's Ethernet address (option 79, or the EUI-64 of
    /// its link-local address) when the DUID did not give one.
    pub fn with_mac(mut self, mac: Option<[u8; 6]>) -> Self {
        if let Some(m) = mac {
            self.mac = Some((1, m));
        }
        self
    }

    /// The message viewed.
    pub fn message(&self) -> &'p Message<&'p [u8]> {
        self.msg
    }

    /// The message type.
    pub fn msg_type(&self) -> MessageType {
        self.msg.msg_type()
    }

    /// The value of the first occurrence of `code`.
    pub fn option(&self, code: u16) -> Option<&'p [u8]> {
        self.msg.option(code).map(|o| o.data)
    }

    /// The client DUID's bytes (option 1).
    pub fn client_id(&self) -> Option<&'p [u8]> {
        self.option(code::CLIENT_ID).filter(|d| !d.is_empty())
    }

    /// The first architecture of option 61.
    pub fn arch(&self) -> Option<u16> {
        self.option(code::CLIENT_ARCH_TYPE)
            .and_then(|v| v.first_chunk::<2>())
            .map(|b| u16::from_be_bytes(*b))
    }

    /// Option 16: the enterprise number and the raw class items.
    pub fn vendor_class(&self) -> Option<(u32, &'p [u8])> {
        let v = self.option(code::VENDOR_CLASS)?;
        let (e, items) = v.split_first_chunk::<4>()?;
        Some((u32::from_be_bytes(*e), items))
    }

    /// Whether the client says it is a UEFI HTTP Boot client (option 16's
    /// first item starts with `HTTPClient`).
    pub fn is_http_client(&self) -> bool {
        self.vendor_class()
            .and_then(|(_, items)| counted_items(items).next())
            .is_some_and(|i| i.starts_with(b"HTTPClient"))
    }

    /// Option 15's raw items.
    pub fn user_class(&self) -> Option<&'p [u8]> {
        self.option(code::USER_CLASS)
    }

    /// Option 6, if sent and well-formed.
    pub fn oro(&self) -> Option<Oro<'p>> {
        self.msg.oro().ok().flatten()
    }

    /// Whether the client asked for `code` in its ORO (`true` without an
    /// ORO, as dnsmasq sends every option then).
    pub fn requested(&self, code: u16) -> bool {
        self.oro().is_none_or(|o| o.contains(code))
    }
}

/// The 2-byte-counted items of a user or vendor class (stops at a
/// truncated item).
pub(crate) fn counted_items(mut v: &[u8]) -> impl Iterator<Item = &[u8]> {
    core::iter::from_fn(move || {
        let (len, rest) = v.split_first_chunk::<2>()?;
        let n = usize::from(u16::from_be_bytes(*len));
        let item = rest.get(..n)?;
        v = &rest[n..];
        Some(item)
    })
}

/// The Ethernet address in a modified EUI-64 interface identifier (a
/// link-local address made by SLAAC from a MAC), if it is one.
pub fn mac_from_eui64(addr: Ipv6Addr) -> Option<[u8; 6]> {
    let o = addr.octets();
    if o[11] != 0xff || o[12] != 0xfe {
        return None;
    }
    Some([o[8] ^ 0x02, o[9], o[10], o[13], o[14], o[15]])
}
