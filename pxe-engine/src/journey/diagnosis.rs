//! Named diagnoses: what went wrong (or looks wrong and is not) in a boot,
//! each with a one-line explanation and the configuration line it
//! concerns.

use core::fmt;
use core::net::Ipv4Addr;

use pxe_dhcp::ClientArch;

use super::name::Name;
use super::rule::RuleRef;

/// The kinds of diagnosis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DiagnosisKind {
    /// iPXE was handed (or fetched again) the first-stage file it was
    /// loaded from: it will load itself forever.
    ChainloadLoop,
    /// A reply the client cannot boot from: no boot file, or a TFTP file
    /// without a next server.
    NothingToBoot,
    /// The firmware's architecture gets no boot file from any line.
    NoBootFileForArch,
    /// An offer was not followed by a REQUEST: the client took another
    /// server's offer.
    OfferNotTaken,
    /// EDK2 asked for the file size and ended the transfer before the
    /// real one: normal.
    SizeProbe,
    /// A transfer stopped at one block: large blocks are being lost.
    TransferStalled,
    /// A file the client asked for does not exist.
    FileNotFound,
}

/// How serious a diagnosis is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing, not a fault.
    Info,
    /// Probably a fault, possibly of another machine.
    Warning,
    /// The boot fails.
    Error,
}

impl Severity {
    /// `info`, `warning`, `error`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl DiagnosisKind {
    /// Number of kinds (at most 8: a journey keeps a set of them in a
    /// byte).
    pub const COUNT: usize = 7;

    /// Its bit in a set of kinds (`1 << index`).
    pub(super) fn bit(self) -> u8 {
        1u8 << self.index()
    }

    /// Every kind.
    pub const ALL: [DiagnosisKind; DiagnosisKind::COUNT] = [
        DiagnosisKind::ChainloadLoop,
        DiagnosisKind::NothingToBoot,
        DiagnosisKind::NoBootFileForArch,
        DiagnosisKind::OfferNotTaken,
        DiagnosisKind::SizeProbe,
        DiagnosisKind::TransferStalled,
        DiagnosisKind::FileNotFound,
    ];

    /// Its position in [`DiagnosisKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// A short name for APIs and metric labels (`chainload_loop`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DiagnosisKind::ChainloadLoop => "chainload_loop",
            DiagnosisKind::NothingToBoot => "nothing_to_boot",
            DiagnosisKind::NoBootFileForArch => "no_boot_file_for_arch",
            DiagnosisKind::OfferNotTaken => "offer_not_taken",
            DiagnosisKind::SizeProbe => "size_probe",
            DiagnosisKind::TransferStalled => "transfer_stalled",
            DiagnosisKind::FileNotFound => "file_not_found",
        }
    }
}

impl fmt::Display for DiagnosisKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a diagnosis found out, beyond its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Nothing more.
    None,
    /// The reply had no boot file.
    NoFile,
    /// iPXE got a reply without a boot file (fine when its binary carries
    /// an embedded script, as the seed's `undionly.kkpxe` does).
    IpxeNoFile,
    /// The reply's TFTP file has no next server (`siaddr` 0.0.0.0).
    NoNextServer,
    /// The next server was given by a name the hosts file does not know.
    UnresolvedServer,
    /// The architecture that got nothing.
    Arch(u16),
    /// The server whose offer the client requested instead.
    ChoseServer(Ipv4Addr),
    /// No REQUEST followed the offer within [`OFFER_WAIT_MS`].
    NoRequest,
    /// The block the transfer stopped at, and its block size.
    Block {
        /// Last block sent and not acknowledged.
        block: u16,
        /// Block size in use.
        blksize: u16,
    },
    /// The missing file is the boot file a DHCP reply named.
    BootFile,
    /// The missing file was not named by DHCP (iPXE and PXELINUX probe for
    /// optional files).
    Optional,
}

/// An offer not followed by a REQUEST (or a 4011 request, or a download)
/// within this long is diagnosed as not taken.
pub const OFFER_WAIT_MS: u64 = 15_000;

/// One diagnosis of a journey.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    /// What.
    pub kind: DiagnosisKind,
    /// When it was last seen (milliseconds).
    pub at: u64,
    /// How many times it was seen.
    pub count: u32,
    /// The file concerned, if any.
    pub file: Name,
    /// The configuration line concerned, if one is.
    pub rule: Option<RuleRef>,
    /// More.
    pub detail: Detail,
}

impl Diagnosis {
    /// How serious it is.
    pub fn severity(&self) -> Severity {
        match (self.kind, self.detail) {
            (DiagnosisKind::SizeProbe, _) => Severity::Info,
            (DiagnosisKind::FileNotFound, Detail::Optional) => Severity::Info,
            (DiagnosisKind::OfferNotTaken, _) => Severity::Warning,
            (DiagnosisKind::NothingToBoot, Detail::IpxeNoFile) => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// The one-line explanation.
    pub fn explanation(&self) -> Explanation<'_> {
        Explanation(self)
    }
}

/// [`Diagnosis::explanation`]: one line of text, without the rule (the
/// caller has the configuration to print it with, [`RuleRef::describe`]).
pub struct Explanation<'d>(&'d Diagnosis);

impl fmt::Display for Explanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        let file = &d.file;
        match (d.kind, d.detail) {
            (DiagnosisKind::ChainloadLoop, _) => write!(
                f,
                "iPXE was handed {file}, the first-stage file it was loaded from: it will \
                 load itself again and again; give that line a tag:!ipxe condition \
                 (net:#ipxe) and iPXE a line of its own"
            ),
            (DiagnosisKind::NothingToBoot, Detail::NoNextServer) => write!(
                f,
                "the reply names {file} but no next server (siaddr 0.0.0.0): iPXE and EDK2 \
                 ignore it (\"Nothing to boot\"); name the TFTP server on the line"
            ),
            (DiagnosisKind::NothingToBoot, Detail::UnresolvedServer) => write!(
                f,
                "the reply names {file} but its next server is a name the hosts file does \
                 not know, so siaddr is 0.0.0.0: the client has nothing to boot"
            ),
            (DiagnosisKind::NothingToBoot, Detail::IpxeNoFile) => f.write_str(
                "iPXE got a reply without a boot file: it has nothing to boot unless its \
                 binary carries an embedded script (no dhcp-boot line matched its tags)",
            ),
            (DiagnosisKind::NothingToBoot, _) => f.write_str(
                "a network-boot client got a reply without a boot file or menu: it has \
                 nothing to boot (no dhcp-boot or pxe-service line matched its tags)",
            ),
            (DiagnosisKind::NoBootFileForArch, Detail::Arch(a)) => write!(
                f,
                "no pxe-service or dhcp-boot line gives a boot file to architecture {}",
                ClientArch(a)
            ),
            (DiagnosisKind::NoBootFileForArch, _) => {
                f.write_str("no line gives a boot file to this client's architecture")
            }
            (DiagnosisKind::OfferNotTaken, Detail::ChoseServer(s)) => write!(
                f,
                "the client accepted the offer of server {s}, not this one's (another DHCP \
                 server answers on this network)"
            ),
            (DiagnosisKind::OfferNotTaken, _) => f.write_str(
                "the offer was not followed by a request within 15 s: the client took \
                 another server's offer, or ignored this one",
            ),
            (DiagnosisKind::SizeProbe, _) => write!(
                f,
                "the client asked the size of {file} and ended the transfer, then fetched \
                 it: EDK2 does this, it is not an error"
            ),
            (DiagnosisKind::TransferStalled, Detail::Block { block, blksize }) => write!(
                f,
                "the transfer of {file} stopped at block {block} (blksize {blksize}): large \
                 datagrams are being lost (fragmentation or MTU); try tftp-mtu= or \
                 tftp-no-blocksize"
            ),
            (DiagnosisKind::TransferStalled, _) => {
                write!(f, "the transfer of {file} stopped and timed out")
            }
            (DiagnosisKind::FileNotFound, Detail::BootFile) => write!(
                f,
                "{file} does not exist, and it is the boot file the DHCP reply named"
            ),
            (DiagnosisKind::FileNotFound, _) => write!(
                f,
                "{file} does not exist (fine if the client was probing for an optional file)"
            ),
        }
    }
}
