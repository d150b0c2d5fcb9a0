//! Zero-copy, `no_std` DHCPv6 codec for network booting (RFC 8415, with
//! RFC 5970 netboot options).
//!
//! - [`Packet`] tells the two message formats apart; [`Message`] views a
//!   client/server message (type, transaction id, options) and
//!   [`RelayMessage`] a RELAY-FORW or RELAY-REPL (hop count, link and
//!   peer addresses, options, the relayed message in option 9).
//! - [`Options`] walks options with errors that name the code, the offset
//!   in the datagram and the enclosing option; typed views read what
//!   netboot needs: [`Duid`] (1, 2), [`IaNa`]/[`IaAddr`] (3, 5),
//!   [`StatusCode`] (13), [`Oro`] (6), preference (7), [`ElapsedTime`]
//!   (8), rapid commit (14), [`UserClass`] (15), [`VendorClass`] (16),
//!   [`VendorOpts`] (17), interface-id (18), [`Ipv6List`] (23),
//!   [`DomainList`] (24), [`RemoteId`] (37), [`Fqdn`] (39),
//!   [`BootFileUrl`] (59), [`BootFileParams`] (60), architectures (61)
//!   and NII (62) as the DHCPv4 [`ClientArchList`](crate::ClientArchList)
//!   and [`ClientNdi`](crate::ClientNdi), [`LinkLayerAddress`] (79).
//! - [`Builder`] writes a message into a caller's `&mut [u8]`, with nested
//!   options whose lengths are back-patched; [`Builder::reply_to`] and
//!   [`Builder::relay_reply_to`] start an answer (transaction id, client
//!   id, and the RELAY-REPL chain for a relayed request); [`RelayBuilder`]
//!   writes relay messages.
//!
//! Neither parsing nor building allocates, and no input makes either panic.
//!
//! ```
//! use pxe_dhcp::ClientArch;
//! use pxe_dhcp::v6::{
//!     Builder, Duid, ENTERPRISE_INTEL, Message, MessageType, Packet, Status, TransactionId, code,
//! };
//!
//! // EDK2's HTTP Boot SOLICIT (from tests/captures/ipv6), as the firmware builds it.
//! let uuid = [0x1e, 0, 0x17, 0, 0, 0x8c, 0xad, 0, 0x50, 0x87, 0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23];
//! let mut req = [0u8; 256];
//! let mut b = Builder::new(&mut req, MessageType::Solicit, TransactionId::new(0x8222e1).unwrap())?;
//! b.client_id(&Duid::from_uuid(uuid))?
//!     .elapsed_time(0)?
//!     .ia_na(0xeab96c74, u32::MAX, u32::MAX, |_| Ok(()))?
//!     .oro(&[code::BOOTFILE_URL, code::BOOTFILE_PARAM, code::DNS_SERVERS, code::VENDOR_CLASS])?
//!     .client_arch(&[ClientArch::X64_UEFI_HTTP])?
//!     .vendor_class(ENTERPRISE_INTEL, &[b"HTTPClient:Arch:00016:UNDI:003000"])?;
//! let n = b.finish()?;
//!
//! // Server side: view the datagram without copying it.
//! let Packet::Message(solicit) = Packet::new_checked(&req[..n])? else { unreachable!() };
//! assert_eq!(solicit.msg_type(), MessageType::Solicit);
//! let vendor = solicit.vendor_class()?.expect("option 16");
//! assert!(vendor.is_http_client());
//! assert_eq!(vendor.info().and_then(|i| i.arch), Some(16));
//! assert!(solicit.oro()?.expect("option 6").contains(code::BOOTFILE_URL));
//! let iaid = solicit.ia_na()?.expect("option 3").iaid();
//!
//! // The ADVERTISE EDK2 HTTP Boot accepts: an address, the URL and
//! // "HTTPClient" in the same message.
//! let mut out = [0u8; 1232];
//! let mut adv = Builder::reply_to(&solicit, MessageType::Advertise, &mut out)?;
//! adv.server_id(&Duid::llt_ethernet(849_507_942, [2, 0, 0, 0x77, 0, 1]))?
//!     .ia_na(iaid, 1800, 3150, |ia| {
//!         ia.ia_addr("fd00:77::113".parse().unwrap(), 3600, 3600)?;
//!         Ok(())
//!     })?
//!     .status_code(Status::Success, "success")?
//!     .preference(255)?
//!     .boot_file_url(b"http://[fd00:77::1]/ipxe.efi")?
//!     .vendor_class(ENTERPRISE_INTEL, &[b"HTTPClient"])?;
//! let len = adv.finish()?;
//!
//! let advertise = Message::new_checked(&out[..len])?;
//! assert_eq!(advertise.transaction_id(), solicit.transaction_id());
//! assert_eq!(advertise.client_id()?.unwrap().uuid().unwrap().bytes, uuid);
//! let addr = advertise.ia_na()?.unwrap().address()?.unwrap();
//! assert_eq!(addr.address().to_string(), "fd00:77::113");
//! assert_eq!(
//!     advertise.boot_file_url()?.unwrap().as_str(),
//!     Some("http://[fd00:77::1]/ipxe.efi")
//! );
//! assert_eq!(
//!     advertise.to_string(),
//!     "ADVERTISE xid 8222e1 [client-id, server-id, ia-na, status-code, preference, bootfile-url, vendor-class]"
//! );
//! # Ok::<(), pxe_dhcp::v6::Error>(())
//! ```
//!
//! # Notes for users
//!
//! - **Validation.** Constructors check the header and the framing of
//!   the top-level options once; a typed getter checks its option (and
//!   the framing of the options it encapsulates) when called. `new_lenient`
//!   keeps what precedes a framing error readable.
//! - **Repeated options.** DHCPv6 has no RFC 3396 concatenation: an
//!   option that occurs several times is several values. Getters of
//!   options the RFC allows once read the first; [`Message::ia_nas`],
//!   [`Message::vendor_classes`] and [`Message::vendor_opts`] iterate all.
//! - **Offsets** in [`Error`] count from the start of the datagram, also
//!   for options inside IA_NAs and inside relayed messages.
//! - **DUID-UUID** bytes are kept in wire order; EDK2 and iPXE send the
//!   same machine's UUID in different byte orders (see [`DuidFields::Uuid`]).
//! - **Relays.** [`RelayMessage::innermost`] and the builders handle at
//!   most [`MAX_RELAY_DEPTH`] nested relay messages, iteratively.

use core::net::Ipv6Addr;

mod boot;
mod builder;
mod class;
pub mod code;
mod dns;
mod duid;
mod error;
mod exchange;
mod ia;
mod message;
mod options;
mod packet;
mod relay;
mod text;

pub use boot::{BootFileParams, BootFileUrl};
pub use builder::{Builder, RelayBuilder};
pub use class::{ENTERPRISE_INTEL, ItemIter, Items, UserClass, VendorClass, VendorOpts};
pub use dns::{
    DomainList, DomainName, DomainNames, Fqdn, FqdnFlags, Ipv6List, Labels, MAX_LABEL_LEN,
    MAX_NAME_LEN,
};
pub use duid::{
    DUID_EN, DUID_EPOCH_UNIX, DUID_LL, DUID_LLT, DUID_UUID, Duid, DuidFields, HARDWARE_ETHERNET,
    MAX_DUID_LEN,
};
pub use error::{Error, Scope};
pub use exchange::{ElapsedTime, Oro};
pub use ia::{IA_ADDR_FIXED_LEN, IA_NA_FIXED_LEN, INFINITY, IaAddr, IaNa, Status, StatusCode};
pub use message::{MESSAGE_HEADER_LEN, Message, MessageType, TransactionId};
pub use options::{Matching, OPTION_HEADER_LEN, Options, RawOption, Typed};
pub use packet::Packet;
pub use relay::{
    Innermost, LinkLayerAddress, MAX_RELAY_DEPTH, RELAY_HEADER_LEN, RelayHeader, RelayMessage,
    RemoteId,
};

/// UDP port clients listen on (RFC 8415 section 7.2).
pub const CLIENT_PORT: u16 = 546;
/// UDP port servers and relay agents listen on (RFC 8415 section 7.2).
pub const SERVER_PORT: u16 = 547;
/// `ff02::1:2`, All_DHCP_Relay_Agents_and_Servers: where clients send
/// (RFC 8415 section 7.1).
pub const ALL_DHCP_RELAY_AGENTS_AND_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);
/// `ff05::1:3`, All_DHCP_Servers: where relay agents may send (RFC 8415
/// section 7.1).
pub const ALL_DHCP_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff05, 0, 0, 0, 0, 0, 1, 3);
