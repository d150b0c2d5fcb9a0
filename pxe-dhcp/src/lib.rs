//! Zero-copy, `no_std` DHCPv4/BOOTP and DHCPv6 codec for network booting.
//!
//! - [`Packet`] is a smoltcp-style view over a received message: header
//!   accessors, an allocation-free option iterator that follows option 52
//!   overload into `file` and `sname`, RFC 3396 split options, and typed,
//!   borrowed views of what netboot needs (53, 55, 57, 60, 61, 77, 93, 94,
//!   97, 43 PXE sub-options, 175 iPXE, 208–211 PXELINUX, 82, ...).
//! - [`Builder`] writes a message (typically a reply) into a caller's
//!   `&mut [u8]`, with nested encapsulated options, RFC 3396 splitting and
//!   option-overload layout for the client's maximum message size.
//! - [`v6`] does the same for DHCPv6 (RFC 8415, RFC 5970): message and
//!   relay views, typed options (DUIDs, IA_NA, vendor class, boot file
//!   URL, ...) and builders for replies and relay replies.
//!
//! - `Display` and `Debug` of a [`Packet`] show the header and every
//!   option by name and decoded value (`53 message-type: DISCOVER`,
//!   `93 client-arch: x86 BIOS (0)`, `43 vendor-encapsulated: [...]`),
//!   without allocating; [`names`] has the names.
//!
//! Neither parsing nor building allocates; bad input is an [`Error`] that
//! names the option and offset, never a panic.
//!
//! ```
//! use core::net::Ipv4Addr;
//! use pxe_dhcp::{Builder, ClientArch, MessageType, Packet, code, pxe::DiscoveryControl};
//!
//! // A BIOS PXE ROM's DISCOVER, as a client would build it.
//! let mut req = [0u8; 576];
//! let mut b = Builder::new(&mut req)?;
//! b.xid(0x6aa0e84b).chaddr(1, &[0x52, 0x54, 0, 0xb0, 7, 1])?;
//! b.message_type(MessageType::Discover)?
//!     .u16_option(code::MAX_MESSAGE_SIZE, 1472)?
//!     .option(code::CLIENT_ARCH, &[0, 0])?
//!     .option(code::VENDOR_CLASS, b"PXEClient:Arch:00000:UNDI:002001")?;
//! let n = b.finish()?;
//!
//! // Server side: view the request without copying it.
//! let request = Packet::new_checked(&req[..n])?;
//! assert_eq!(request.message_type()?, Some(MessageType::Discover));
//! let vendor = request.vendor_class()?.expect("option 60").parse();
//! assert_eq!(vendor.arch, Some(0));
//! assert_eq!(vendor.undi, Some((2, 1)));
//! assert!(request.client_arch()?.expect("option 93").contains(ClientArch::X86_BIOS));
//!
//! // Write a proxyDHCP offer into a buffer of our own.
//! let mut out = [0u8; 1500];
//! let mut reply = Builder::reply_to(&request, &mut out)?;
//! reply
//!     .message_type(MessageType::Offer)?
//!     .server_id(Ipv4Addr::new(192, 168, 2, 1))?
//!     .option(code::VENDOR_CLASS, b"PXEClient")?
//!     .pxe_options(|sub| {
//!         sub.discovery_control(DiscoveryControl::SKIP_DISCOVERY)?
//!             .menu_prompt(0, b"PXE")?;
//!         Ok(())
//!     })?;
//! let len = reply.finish()?;
//!
//! let offer = Packet::new_checked(&out[..len])?;
//! assert_eq!(offer.xid(), 0x6aa0e84b);
//! println!("{offer}"); // BOOTREPLY xid=0x6aa0e84b ... 53 message-type: OFFER ...
//! let pxe = offer.pxe_options()?.expect("option 43");
//! assert_eq!(pxe.discovery_control()?, Some(DiscoveryControl::SKIP_DISCOVERY));
//! assert_eq!(pxe.as_bytes(), &[6, 1, 8, 10, 4, 0, b'P', b'X', b'E', 255]);
//! # Ok::<(), pxe_dhcp::Error>(())
//! ```
//!
//! # Notes for users
//!
//! - **Validation.** [`Packet::new_checked`] walks every option once
//!   (options field, then `file` and `sname` when option 52 says so) and
//!   rejects a truncated or overrunning option with its code and offset.
//!   [`Packet::new_lenient`] keeps what precedes such an error readable
//!   (useful to log or answer firmware that gets the last option wrong).
//!   The same pass fills a small index, so [`Packet::option`] is O(1) for
//!   the codes netboot reads.
//! - **Split options (RFC 3396).** An option that occurs several times is
//!   one value made of its fragments in wire order. [`Packet::fragments`]
//!   iterates them, [`Packet::option_concat`] joins them into a caller's
//!   buffer, [`Packet::option_vec`] (feature `alloc`) into a `Vec`.
//!   Fixed-size typed getters (53, 54, 57, 97, ...) join small fragments on
//!   the stack; borrowed views (60, 43, 175, ...) return [`Error::Split`]
//!   rather than a silently partial value.
//! - **dnsmasq's lookups.** [`Packet::option_at_least`] (and
//!   [`SubOptions::find_at_least`] inside 43, 82, ...) return the first
//!   occurrence long enough for its use and never join fragments, as
//!   dnsmasq's `option_find` does; a server that must decide exactly as
//!   dnsmasq reads requests through them.
//! - **Option 77** is read as RFC 3004 when its length prefixes cover it
//!   exactly and as iPXE's bare string otherwise, as dnsmasq does.
//! - **Option 93**: IANA (RFC 4578 errata 4624) has 7 = x64 UEFI and 9 =
//!   EBC; firmware sends both for x64, see [`ClientArch::is_x64_uefi`].
//! - **Option 97**: bytes are kept in wire order; see [`ClientUuid`] for
//!   the wire versus SMBIOS/GUID text forms.
//! - **Building.** [`Builder`] never panics on a short buffer (it returns
//!   [`Error::BufferTooSmall`]), splits long values per RFC 3396, and lays
//!   options out for the client's maximum message size at
//!   [`Builder::finish`], using `file`/`sname` with option 52 when needed.
//!   Sub-option lists (43, 175, dnsmasq's `encap:`) written with
//!   [`Builder::encap_options`] are split between sub-options, never
//!   inside one; option 125 has its own enterprise-block builder
//!   ([`Builder::vendor_identifying`]).
//! - **Replies as dnsmasq writes them.** [`Builder::reply_to`] copies what
//!   every reply copies. dnsmasq also keeps the request's `secs` and
//!   `hops`, sets [`Flags::BROADCAST`] when the client has no address yet
//!   (`ciaddr` 0), and echoes a relay's option 82 ([`Builder::copy_option`]).
//!   In its proxy replies `siaddr` (next server) is `0.0.0.0` for a BIOS
//!   client unless the chosen `dhcp-boot` line names a server, and the
//!   proxy's own address for UEFI clients (architecture 6 and above, sent
//!   on to port 4011).
//!   `examples/proxy_dhcp` is a proxyDHCP and boot server built from this
//!   crate and `pxe-rules` (`Decision::write_reply` holds these rules)
//!   whose replies match dnsmasq's byte for byte, except that a proxy
//!   reply carrying a boot file but no server names the proxy as next
//!   server (dnsmasq's `0.0.0.0` makes iPXE ignore the offer).
//!
//! Features: `std` (default) and `alloc` add only [`Packet::option_vec`];
//! `bytes` adds `Builder::finish_into` for any `bytes::BufMut`.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod builder;
mod display;
mod error;
pub mod ipxe;
mod lookup;
pub mod names;
mod options;
mod packet;
pub mod pxe;
pub mod pxelinux;
pub mod relay;
mod types;
pub mod v6;

pub use builder::{BOOTP_MIN_LEN, Builder, SubBuilder, ViBuilder};
pub use error::{Area, Error};
pub use options::{Fragments, Options, RawOption, SubOptions, code};
pub use packet::{
    Flags, HEADER_LEN, IP_UDP_HEADER_LEN, MAGIC_COOKIE, MIN_MAX_MESSAGE_SIZE, Op, Packet, c_string,
    field,
};
pub use types::{
    ClientArch, ClientArchList, ClientId, ClientNdi, ClientUuid, Ipv4List, MessageType,
    ParameterRequestList, UserClass, UserClasses, UuidText, VendorClass, VendorInfo, VendorKind,
    VendorQuirks,
};
