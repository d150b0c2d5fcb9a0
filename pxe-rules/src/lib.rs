//! dnsmasq's tag logic as a reusable evaluator, and its configuration
//! dialect.
//!
//! Parse a dnsmasq configuration, build [`Facts`] from a request, and get a
//! [`Decision`]: the boot fields, the options in dnsmasq's order, the PXE
//! menu, and (with a [`Tracer`]) why each rule did or did not apply.
//!
//! ```
//! use core::net::Ipv4Addr;
//! use pxe_rules::{Config, Context, Facts, Verdict};
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
//! let ctx = Context::new(Ipv4Addr::new(192, 168, 2, 1), Ipv4Addr::new(255, 255, 255, 0));
//! let mac = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
//!
//! // A PXE ROM: no option 175.
//! let rom = [(53, &[1u8][..]), (55, &[1, 3, 66, 67][..])];
//! let d = conf.evaluate(&Facts::from_options(1, &mac, Ipv4Addr::UNSPECIFIED, &rom), &ctx);
//! assert_eq!(d.verdict(), Verdict::Full);
//! assert_eq!(d.boot_options().find(|(c, _)| *c == 67).map(|(_, v)| v), Some(&b"undionly.kkpxe.0\0"[..]));
//!
//! // iPXE sends option 175: the untagged line wins, the loop is broken.
//! let ipxe = [(53, &[1u8][..]), (55, &[1, 3, 66, 67][..]), (175, &[0x13, 1, 1][..])];
//! let d = conf.evaluate(&Facts::from_options(1, &mac, Ipv4Addr::UNSPECIFIED, &ipxe), &ctx);
//! assert_eq!(d.boot_options().find(|(c, _)| *c == 67).map(|(_, v)| v), Some(&b"pxelinux.0\0"[..]));
//! assert!(d.options().any(|(c, v)| c == 209 && v == b"pxelinux.cfg/default"));
//! # Ok::<(), pxe_rules::ParseError>(())
//! ```
//!
//! ## Turning a [`Decision`] into a reply
//!
//! - [`Decision::verdict`]: [`Verdict::Full`] (OFFER/ACK as the message
//!   type requires; the server allocates from [`Decision::range`] or the
//!   [`Decision::host`] reservation), [`Verdict::Proxy`] (OFFER for
//!   DISCOVER, ACK for REQUEST, `yiaddr` 0), [`Verdict::BootServer`] (ACK,
//!   `yiaddr = ciaddr`, back to the sender) or [`Verdict::Ignore`].
//! - Header: [`Decision::siaddr`] (or resolve [`Decision::siaddr_host`]),
//!   [`Decision::file`], [`Decision::sname`].
//! - Options, in dnsmasq's order: the server writes 53, 54 and (full mode)
//!   51, then [`Decision::boot_options`], then 58/59 (see
//!   [`Decision::configured_t1_t2`]), then its built-ins 1, 28, 3, 6, 15, 12
//!   unless [`Decision::overrides_builtin`], then [`Decision::options`]
//!   (configured options, `encap:` outers, 125, PXE 60/97, 43, echoed 60),
//!   then the relay's 82.
//! - [`Decision::tag_names`] is `log-dhcp`'s `tags:` line; an
//!   [`Explanation`] passed to [`Config::evaluate_traced`] says why.
//!
//! ## Not implemented
//!
//! Names in `dhcp-boot`/`pxe-service` server fields are returned for the
//! server to resolve ([`Decision::siaddr_host`]); a configured option 60
//! does not re-run the `vendor:` matching; DHCPv6 lines are accepted and
//! listed as ignored.
//!
//! The semantics follow dnsmasq 2.90: its manual page
//! (<https://thekelleys.org.uk/dnsmasq/docs/dnsmasq-man.html>) and, where the
//! manual is silent, its source; each module names the dnsmasq functions it
//! mirrors. Evaluating a request allocates nothing: tags are interned to
//! bit positions when the configuration is compiled, and the decision keeps
//! composed options (option 43, `encap:` outers, ...) in a fixed buffer.
#![no_std]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::panic, clippy::unwrap_used))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod facts;
pub mod tags;
pub mod trace;

#[cfg(feature = "alloc")]
pub mod config;
#[cfg(feature = "alloc")]
mod display;
#[cfg(feature = "alloc")]
mod error;
#[cfg(feature = "alloc")]
pub mod eval;
#[cfg(feature = "alloc")]
mod lex;
#[cfg(feature = "alloc")]
mod load;
#[cfg(feature = "alloc")]
mod parse;
#[cfg(feature = "alloc")]
pub mod value;

pub use facts::{Context, Facts, FactsError, Port};
pub use tags::{CondFailure, TagId, TagSet, TagTest, check};
pub use trace::{Event, NoTrace, Outcome, TagSource, Tracer};

#[cfg(feature = "alloc")]
pub use config::Config;
#[cfg(feature = "alloc")]
pub use display::RuleDisplay;
#[cfg(feature = "alloc")]
pub use error::{ParseError, ParseErrorKind};
#[cfg(feature = "alloc")]
pub use eval::{Decision, IgnoreReason, Verdict};
#[cfg(feature = "std")]
pub use load::FsLoader;
#[cfg(feature = "alloc")]
pub use load::{LoadError, LoadErrorKind, Loader};
#[cfg(feature = "alloc")]
pub use parse::MAX_INCLUDE_DEPTH;
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
