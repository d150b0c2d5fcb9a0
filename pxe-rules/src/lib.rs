//! dnsmasq's tag logic as a reusable evaluator, and its configuration
//! dialect.
//!
//! Parse a dnsmasq configuration, read a request with
//! [`pxe_dhcp::Packet`] and make [`Facts`] of it, and get a [`Decision`]:
//! the boot fields, the options in dnsmasq's order, the PXE menu, as
//! structure borrowed from the configuration and the request, and (with a
//! [`Tracer`]) why each rule did or did not apply.
//! [`Decision::write_reply`] writes the reply with `pxe_dhcp`'s builder,
//! header rules included, as dnsmasq 2.90 would send it.
//!
//! ```
//! use core::net::Ipv4Addr;
//! use pxe_dhcp::{Builder, MessageType, Packet, code};
//! use pxe_rules::{Config, Context, Facts, ServerPart, Verdict};
//!
//! // Full DHCP that breaks the PXE ROM -> iPXE chain-loading loop: a ROM
//! // gets iPXE (undionly), iPXE (option 175) gets PXELINUX.
//! let conf = Config::parse_str(
//!     "dhcp-match=ipxe,175\n\
//!      dhcp-range=192.168.2.100,192.168.2.200\n\
//!      dhcp-boot=net:#ipxe,undionly.kkpxe.0\n\
//!      dhcp-boot=pxelinux.0\n\
//!      dhcp-option-force=209,pxelinux.cfg/default\n",
//!     "dnsmasq.conf",
//! )?;
//! let local = Ipv4Addr::new(192, 168, 2, 1);
//! let ctx = Context::new(local, Ipv4Addr::new(255, 255, 255, 0));
//!
//! // A PXE ROM's DISCOVER (no option 175), as the codec reads it.
//! let mut buf = [0u8; 600];
//! let mut b = Builder::new(&mut buf)?;
//! b.xid(7).chaddr(1, &[0x52, 0x54, 0, 0x12, 0x34, 0x56])?;
//! b.message_type(MessageType::Discover)?
//!     .option(code::PARAMETER_REQUEST_LIST, &[1, 3, 66, 67])?;
//! let n = b.finish()?;
//! let request = Packet::new_checked(&buf[..n])?;
//! let d = conf.evaluate(&Facts::new(&request)?, &ctx);
//! assert_eq!(d.verdict(), Verdict::Full);
//! assert_eq!(d.boot_options().collect::<Vec<_>>(), [(67, &b"undionly.kkpxe.0"[..])]);
//!
//! // The reply: the server adds its part (53, 54, the address, a lease),
//! // the writer the header rules and dnsmasq's option order.
//! let server = ServerPart {
//!     yiaddr: Ipv4Addr::new(192, 168, 2, 150),
//!     ..ServerPart::new(local, Some(MessageType::Offer))
//! };
//! let mut out = [0u8; 1500];
//! let len = d.write_reply(&request, &server, &mut out)?.finish()?;
//! let offer = Packet::new_checked(&out[..len])?;
//! assert_eq!((offer.xid(), offer.siaddr()), (7, local));
//! assert_eq!(offer.option(code::BOOTFILE_NAME), Some(&b"undionly.kkpxe.0\0"[..]));
//! assert_eq!(offer.option(209), Some(&b"pxelinux.cfg/default"[..]));
//!
//! // iPXE sends option 175: the untagged line wins, the loop is broken.
//! let ipxe = [(53, &[1u8][..]), (55, &[1, 3, 66, 67][..]), (175, &[0x13, 1, 1][..])];
//! let mac = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
//! let d = conf.evaluate(&Facts::from_options(1, &mac, Ipv4Addr::UNSPECIFIED, &ipxe), &ctx);
//! assert_eq!(d.boot_options().collect::<Vec<_>>(), [(67, &b"pxelinux.0"[..])]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Turning a [`Decision`] into a reply
//!
//! [`Decision::write_reply`] does it; [`reply`] documents every rule it
//! applies. A server answering many requests evaluates with
//! [`Config::evaluate_then`], which hands the decision to a closure where
//! it was built: [`Config::evaluate`] returns it, a copy of a few KiB per
//! request. What the rules decide:
//!
//! - [`Decision::verdict`]: [`Verdict::Full`] (OFFER/ACK as the message
//!   type requires; the server allocates from [`Decision::range`] or the
//!   [`Decision::host`] reservation), [`Verdict::Proxy`] (OFFER for
//!   DISCOVER, ACK for REQUEST, `yiaddr` 0), [`Verdict::BootServer`] (ACK,
//!   `yiaddr = ciaddr`, back to the sender) or [`Verdict::Ignore`].
//! - Header: [`Decision::siaddr`] (or [`Decision::siaddr_host`], which the
//!   server resolves), [`Decision::file`], [`Decision::sname`].
//! - Options: [`Decision::boot_options`] (66/67, after the server's 51)
//!   and [`Decision::options`] ([`RuleOption`]s: configured values,
//!   `encap:` groups, 125 blocks, PXE 60/97, 43 with the [`PxeMenu`],
//!   echoed 60), [`Decision::overrides_builtin`] and
//!   [`Decision::configured_t1_t2`] for the server's own options.
//! - [`Decision::tag_names`] is `log-dhcp`'s `tags:` line; an
//!   [`Explanation`] passed to [`Config::evaluate_traced`] says why.
//!
//! What the server adds is a [`ServerPart`]: its address (54), the
//! message type of a full reply, the lease address and times, the
//! resolved next server, and the values of its built-in options.
//!
//! ## Not implemented
//!
//! Names in `dhcp-boot`/`pxe-service` server fields are returned for the
//! server to resolve ([`Decision::siaddr_host`]); a configured option 60
//! does not re-run the `vendor:` matching.
//!
//! ## DHCPv6
//!
//! The same configuration answers DHCPv6: [`Facts6`] reads a
//! [`pxe_dhcp::v6::Message`], [`Config::evaluate6`] runs the DHCPv6 tag
//! sources (interface, `dhcp-mac`, vendor class with its `enterprise:`
//! number, user class, `dhcp-match=…,option6:N`, `dhcp-host` by DUID or
//! MAC, `tag-if`), picks the IPv6 `dhcp-range` of the link and the
//! `option6:` lines, and [`Decision6::write_options`] writes them.
//!
//! The semantics follow dnsmasq 2.90: its manual page
//! (<https://thekelleys.org.uk/dnsmasq/docs/dnsmasq-man.html>) and, where the
//! manual is silent, its source; each module names the dnsmasq functions it
//! mirrors. Evaluating a request allocates nothing: tags are interned to
//! bit positions when the configuration is compiled, and the decision
//! keeps what it chose (configuration lines, request fields) in fixed
//! lists.
#![no_std]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::panic, clippy::unwrap_used))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod facts;
pub mod facts6;
mod swar;
pub mod tags;
pub mod trace;

#[cfg(feature = "alloc")]
pub mod config;
#[cfg(feature = "alloc")]
mod config6;
#[cfg(feature = "alloc")]
pub mod decision;
#[cfg(feature = "alloc")]
pub mod decision6;
#[cfg(feature = "alloc")]
mod display;
#[cfg(feature = "alloc")]
mod error;
#[cfg(feature = "alloc")]
mod eval;
#[cfg(feature = "alloc")]
mod lex;
#[cfg(feature = "alloc")]
mod load;
#[cfg(feature = "alloc")]
pub mod option_text;
#[cfg(feature = "alloc")]
pub mod options;
#[cfg(feature = "alloc")]
mod parse;
#[cfg(feature = "alloc")]
pub mod reply;
#[cfg(feature = "alloc")]
pub mod value;

pub use facts::{Context, Facts, FactsError, Port};
pub use facts6::{Context6, Facts6, mac_from_eui64};
pub use tags::{CondFailure, TagId, TagSet, TagTest, check};
pub use trace::{Event, NoTrace, Outcome, TagSource, Tracer};

#[cfg(feature = "alloc")]
pub use config::Config;
#[cfg(feature = "alloc")]
pub use decision::{Decision, IgnoreReason, RuleIndices, Verdict};
#[cfg(feature = "alloc")]
pub use decision6::{Decision6, Verdict6};
#[cfg(feature = "alloc")]
pub use display::RuleDisplay;
#[cfg(feature = "alloc")]
pub use error::{ParseError, ParseErrorKind};
#[cfg(feature = "std")]
pub use load::FsLoader;
#[cfg(feature = "alloc")]
pub use load::{LoadError, LoadErrorKind, Loader};
#[cfg(feature = "alloc")]
pub use option_text::{OptionText, option_text};
#[cfg(feature = "alloc")]
pub use options::{OptionValue, PxeMenu, PxeVendor, RuleOption, SubOptionList, VendorOption};
#[cfg(feature = "alloc")]
pub use parse::MAX_INCLUDE_DEPTH;
#[cfg(feature = "alloc")]
pub use reply::{Builtins, LeaseTimes, ReplyError, ServerPart};
#[cfg(feature = "alloc")]
pub use trace::Explanation;

#[cfg(feature = "alloc")]
impl Config {
    /// Parses configuration text. `file` names it in errors and traces.
    /// `conf-file=`/`conf-dir=` need a loader: see
    /// [`Config::parse_with_loader`] or [`Config::load`].
    pub fn parse_str(text: &str, file: &str) -> Result<Config, ParseError> {
        let mut b = parse::Builder::new(None);
        b.parse_text(text, file)?;
        Ok(b.finish())
    }

    /// Parses configuration text, reading includes through `loader`.
    pub fn parse_with_loader(
        text: &str,
        file: &str,
        loader: &mut dyn Loader,
    ) -> Result<Config, ParseError> {
        let mut b = parse::Builder::new(Some(loader));
        b.parse_text(text, file)?;
        Ok(b.finish())
    }
}

#[cfg(feature = "std")]
impl Config {
    /// Reads and parses a configuration file, following `conf-file=` and
    /// `conf-dir=` on the file system.
    pub fn load(path: &str) -> Result<Config, ParseError> {
        let text = std::fs::read_to_string(path).map_err(|e| ParseError {
            file: alloc::string::String::from(path),
            line: 0,
            column: 0,
            kind: ParseErrorKind::Include {
                path: alloc::string::String::from(path),
                error: LoadError::from(e),
            },
            hint: "",
        })?;
        Config::parse_with_loader(&text, path, &mut FsLoader)
    }
}
