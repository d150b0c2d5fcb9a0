//! One machine's journey: who it is, how far its current boot got, the
//! last [`STEPS`] things that happened to it, and what was diagnosed.
//! Everything is inline (no heap), so a journey has a fixed size.

use core::net::Ipv4Addr;

use pxe_dhcp::{ClientUuid, MessageType};
use pxe_rules::{Config, Decision, IgnoreReason};

use super::diagnosis::{Detail, Diagnosis, DiagnosisKind, OFFER_WAIT_MS, Severity};
use super::name::Name;
use super::rule::RuleRef;
use super::stage::{IDLE_MS, Stage, State};
use super::step::{
    Answer, DhcpStep, HttpObservation, HttpStep, Step, StepKind, StepTags, TftpObservation,
    TftpRefusal,
};
use crate::dhcp::addressing::PXE_PORT;
use crate::dhcp::event::{ClientClass, ReplyKind, Request};
use crate::lease::HwAddr;

/// Steps kept per journey (the oldest are dropped first).
pub const STEPS: usize = 24;

/// A first-stage file fetched again this soon after iPXE asked DHCP is a
/// chain-load loop, not a reboot a person asked for.
const LOOP_WINDOW_MS: u64 = 300_000;

/// Counts of what a journey saw in its current boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// DHCP requests.
    pub dhcp: u32,
    /// TFTP transfers started or refused.
    pub tftp: u32,
    /// HTTP requests.
    pub http: u32,
    /// File bytes sent by TFTP and HTTP.
    pub bytes: u64,
}

/// One machine's boot, as far as this server saw it.
///
/// Laid out in the order written (`repr(C)`): what every event reads or
/// writes and what reusing the slot resets first, in few cache lines; the
/// names and diagnoses after; the ring of steps last. A flood of new MACs
/// reuses the least recently seen (so coldest) slot once per DISCOVER, and
/// each cache line it has to fetch costs more than the instructions.
#[derive(Clone, Debug)]
#[repr(C)]
pub struct Journey {
    first_seen: u64,
    last_seen: u64,
    boot_started: u64,
    /// Steps recorded (at most [`STEPS`] are kept).
    recorded: u64,
    /// Where the next step goes in `steps`.
    head: usize,
    last_download_at: u64,
    /// An offer not yet followed by a request: since when, and its range.
    offer_since: Option<u64>,
    offer_range: Option<RuleRef>,
    handed_rule: Option<RuleRef>,
    counts: Counts,
    hw: HwAddr,
    uuid: Option<ClientUuid>,
    ip: Option<Ipv4Addr>,
    arch: Option<u16>,
    boots: u32,
    class: ClientClass,
    stage: Stage,
    ipxe_since_download: bool,
    /// TFTP transfers started and not yet ended: a size probe whose end is
    /// reported after the real transfer began (the probe's ERROR and the
    /// next request arrive together) is still a probe.
    tftp_open: u8,
    /// Which of `findings` hold a diagnosis (bit [`DiagnosisKind::index`]).
    found: u8,
    reached: [Option<u64>; Stage::COUNT],
    /// The boot file last handed to the firmware (PXE or HTTP Boot).
    firmware_file: Name,
    /// The boot file last handed to anyone (and, above, the line that
    /// gave it).
    handed: Name,
    /// The last download started (when: above), and whether iPXE asked
    /// DHCP since.
    last_download: Name,
    /// A size probe not yet followed by the real transfer.
    probe: Name,
    /// The latest diagnosis of each kind, where `found` says so.
    findings: [Diagnosis; DiagnosisKind::COUNT],
    steps: [Step; STEPS],
}

/// What an empty entry of `findings` holds (never shown: `found` says
/// which entries count).
const NO_DIAGNOSIS: Diagnosis = Diagnosis {
    kind: DiagnosisKind::ChainloadLoop,
    at: 0,
    count: 0,
    file: Name::EMPTY,
    rule: None,
    detail: Detail::None,
};

const BLANK: Step = Step {
    at: 0,
    what: StepKind::Done,
    name: Name::EMPTY,
};

impl Journey {
    pub(super) fn new(hw: HwAddr, now: u64) -> Journey {
        Journey {
            hw,
            uuid: None,
            ip: None,
            arch: None,
            class: ClientClass::Plain,
            first_seen: now,
            last_seen: now,
            boot_started: now,
            boots: 1,
            stage: Stage::Discover,
            reached: [None; Stage::COUNT],
            steps: [BLANK; STEPS],
            head: 0,
            recorded: 0,
            found: 0,
            findings: [NO_DIAGNOSIS; DiagnosisKind::COUNT],
            counts: Counts::default(),
            firmware_file: Name::EMPTY,
            handed: Name::EMPTY,
            handed_rule: None,
            last_download: Name::EMPTY,
            last_download_at: 0,
            ipxe_since_download: false,
            offer_since: None,
            offer_range: None,
            probe: Name::EMPTY,
            tftp_open: 0,
        }
    }

    /// Makes this the new journey of `hw` in place (a slot reused for
    /// another machine): everything as [`Journey::new`] has it, except that
    /// the steps are left as they are and forgotten (`recorded` 0), so
    /// reusing a slot does not write its whole ring — a flood of new MACs
    /// evicts one journey per DISCOVER, and the 24 steps are most of a
    /// journey's 6 KiB.
    pub(super) fn reset(&mut self, hw: HwAddr, now: u64) {
        // Exhaustive on purpose: a new field must be reset here too.
        let Journey {
            hw: key,
            uuid,
            ip,
            arch,
            class,
            first_seen,
            last_seen,
            boot_started,
            boots,
            stage,
            reached,
            steps: _,
            head,
            recorded,
            findings: _,
            found,
            counts,
            firmware_file,
            handed,
            handed_rule,
            last_download,
            last_download_at,
            ipxe_since_download,
            offer_since,
            offer_range,
            probe,
            tftp_open,
        } = self;
        *key = hw;
        *uuid = None;
        *ip = None;
        *arch = None;
        *class = ClientClass::Plain;
        *first_seen = now;
        *last_seen = now;
        *boot_started = now;
        *boots = 1;
        *stage = Stage::Discover;
        *reached = [None; Stage::COUNT];
        *head = 0;
        *recorded = 0;
        *found = 0;
        *counts = Counts::default();
        firmware_file.clear();
        handed.clear();
        *handed_rule = None;
        last_download.clear();
        *last_download_at = 0;
        *ipxe_since_download = false;
        *offer_since = None;
        *offer_range = None;
        probe.clear();
        *tftp_open = 0;
    }

    /// The hardware address, the journey's key.
    pub fn hw(&self) -> HwAddr {
        self.hw
    }

    /// The machine UUID (option 97), once sent.
    pub fn uuid(&self) -> Option<ClientUuid> {
        self.uuid
    }

    /// The machine's IP address, once known (leased, or named in a
    /// request).
    pub fn ip(&self) -> Option<Ipv4Addr> {
        self.ip
    }

    /// The architecture (option 93), once sent.
    pub fn arch(&self) -> Option<u16> {
        self.arch
    }

    /// What sent its latest DHCP request (firmware, iPXE, an OS).
    pub fn class(&self) -> ClientClass {
        self.class
    }

    /// When it was first seen.
    pub fn first_seen(&self) -> u64 {
        self.first_seen
    }

    /// When it was last seen.
    pub fn last_seen(&self) -> u64 {
        self.last_seen
    }

    /// When its current boot started (its firmware's first request).
    pub fn boot_started(&self) -> u64 {
        self.boot_started
    }

    /// Boots seen (a firmware request after a boot had got past the boot
    /// file starts a new one).
    pub fn boots(&self) -> u32 {
        self.boots
    }

    /// The furthest stage of the current boot.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// When the current boot first reached `stage`.
    pub fn reached(&self, stage: Stage) -> Option<u64> {
        self.reached.get(stage.index()).copied().flatten()
    }

    /// Counts of the current boot.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Drops every configuration-line reference the journey holds (in
    /// steps, diagnoses and what it remembers of the last hand-off) and
    /// the steps' tags: a reloaded configuration has other lines at those
    /// indices and other tags at those ids.
    pub fn forget_rules(&mut self) {
        for step in &mut self.steps {
            if let StepKind::Dhcp(d) = &mut step.what {
                d.rule = None;
                d.range = None;
                d.tags = StepTags::NONE;
            }
        }
        for d in &mut self.findings {
            d.rule = None;
        }
        self.handed_rule = None;
        self.offer_range = None;
    }

    /// The steps kept, oldest first.
    pub fn steps(&self) -> impl DoubleEndedIterator<Item = &Step> + '_ {
        let kept = usize::try_from(self.recorded).map_or(STEPS, |r| r.min(STEPS));
        let start = (self.head + STEPS - kept) % STEPS;
        (0..kept).filter_map(move |i| self.steps.get((start + i) % STEPS))
    }

    /// Steps recorded but no longer kept.
    pub fn steps_dropped(&self) -> u64 {
        self.recorded.saturating_sub(STEPS as u64)
    }

    /// The diagnoses at time `now`, one per kind (its latest occurrence):
    /// those recorded, and an offer left unanswered for
    /// [`OFFER_WAIT_MS`].
    pub fn diagnoses(&self, now: u64) -> impl Iterator<Item = Diagnosis> + '_ {
        let pending = self.offer_since.and_then(|since| {
            let stale = now.saturating_sub(since) >= OFFER_WAIT_MS;
            let recorded = self
                .finding(DiagnosisKind::OfferNotTaken)
                .is_some_and(|d| d.at >= since);
            (stale && !recorded).then_some(Diagnosis {
                kind: DiagnosisKind::OfferNotTaken,
                at: since,
                count: 1,
                file: Name::EMPTY,
                rule: self.offer_range,
                detail: Detail::NoRequest,
            })
        });
        let found = self.found;
        self.findings
            .iter()
            .enumerate()
            .filter(move |(i, _)| found & (1 << i) != 0)
            .map(|(_, d)| *d)
            .chain(pending)
    }

    /// The latest diagnosis of `kind`, if recorded.
    pub fn finding(&self, kind: DiagnosisKind) -> Option<&Diagnosis> {
        (self.found & kind.bit() != 0)
            .then(|| self.findings.get(kind.index()))
            .flatten()
    }

    /// The most serious diagnosis of the current boot at `now` (the latest
    /// of equal severity).
    pub fn worst(&self, now: u64) -> Option<Diagnosis> {
        self.diagnoses(now)
            .filter(|d| d.at >= self.boot_started)
            .max_by_key(|d| (d.severity(), d.at))
    }

    /// How the journey is doing at `now`.
    pub fn state(&self, now: u64) -> State {
        if self.stage == Stage::Done {
            return State::Done;
        }
        let progress = self.reached(self.stage).unwrap_or(self.boot_started);
        let failed = self
            .diagnoses(now)
            .any(|d| d.severity() == Severity::Error && d.at >= progress);
        if failed {
            State::Failed
        } else if now.saturating_sub(self.last_seen) >= IDLE_MS {
            State::Idle
        } else {
            State::Active
        }
    }

    fn push(&mut self, step: Step) {
        if let Some(s) = self.steps.get_mut(self.head) {
            *s = step;
        }
        self.head = (self.head + 1) % STEPS;
        self.recorded = self.recorded.saturating_add(1);
        self.last_seen = self.last_seen.max(step.at);
    }

    fn reach(&mut self, stage: Stage, now: u64) {
        if let Some(r) = self.reached.get_mut(stage.index())
            && r.is_none()
        {
            *r = Some(now);
        }
        self.stage = self.stage.max(stage);
    }

    fn diagnose(
        &mut self,
        kind: DiagnosisKind,
        now: u64,
        file: Name,
        rule: Option<RuleRef>,
        detail: Detail,
    ) {
        let seen = self.found & kind.bit() != 0;
        let Some(slot) = self.findings.get_mut(kind.index()) else {
            return;
        };
        let count = if seen { slot.count } else { 0 }.saturating_add(1);
        self.found |= kind.bit();
        *slot = Diagnosis {
            kind,
            at: now,
            count,
            file,
            rule,
            detail,
        };
    }

    fn new_boot(&mut self, now: u64) {
        self.boots = self.boots.saturating_add(1);
        self.boot_started = now;
        self.stage = Stage::Discover;
        self.reached = [None; Stage::COUNT];
        self.counts = Counts::default();
        self.firmware_file = Name::EMPTY;
        self.handed = Name::EMPTY;
        self.handed_rule = None;
        self.last_download = Name::EMPTY;
        self.ipxe_since_download = false;
        self.offer_since = None;
        self.probe = Name::EMPTY;
    }

    /// A DHCP exchange: the request, what the rules decided, and what was
    /// done.
    pub(super) fn on_exchange(
        &mut self,
        now: u64,
        config: &Config,
        request: &Request<'_>,
        answer: Answer,
    ) {
        let c = &request.client;
        let firmware = matches!(c.class, ClientClass::Firmware | ClientClass::HttpBoot);
        let discover = request.message == Some(MessageType::Discover) && request.port != PXE_PORT;
        if firmware && discover && self.stage >= Stage::BootFile {
            self.new_boot(now);
        }
        self.uuid = c.uuid.or(self.uuid);
        self.ip = c.ip.or(self.ip);
        self.arch = c.arch.or(self.arch);
        self.class = c.class;
        self.counts.dhcp = self.counts.dhcp.saturating_add(1);
        let d = request.decision;
        let file = Name::new(boot_file(d).unwrap_or(&[]));
        let rule = RuleRef::boot_source(d);
        let range = RuleRef::range(d);
        self.push(Step {
            at: now,
            what: StepKind::Dhcp(DhcpStep {
                message: request.message,
                port: request.port,
                class: c.class,
                tags: StepTags::of(d.tags()),
                answer,
                rule,
                range,
            }),
            name: file,
        });
        self.reach(Stage::Discover, now);
        match c.class {
            ClientClass::Ipxe => self.reach(Stage::Ipxe, now),
            ClientClass::Plain if self.stage >= Stage::BootFile => self.reach(Stage::Done, now),
            _ => {}
        }
        if request.message == Some(MessageType::Request) || request.port == PXE_PORT {
            self.offer_since = None;
        }
        match answer {
            Answer::Reply {
                kind,
                yiaddr,
                next_server,
                unresolved_server,
            } => {
                if !yiaddr.is_unspecified()
                    && matches!(
                        kind,
                        ReplyKind::Ack | ReplyKind::Bootp | ReplyKind::BootServerAck
                    )
                {
                    self.ip = Some(yiaddr);
                }
                let gives_boot = match kind {
                    ReplyKind::Offer | ReplyKind::ProxyOffer => {
                        self.reach(Stage::Offer, now);
                        if self.offer_since.is_none() {
                            self.offer_since = Some(now);
                            self.offer_range = range;
                        }
                        true
                    }
                    ReplyKind::Ack
                    | ReplyKind::Bootp
                    | ReplyKind::ProxyAck
                    | ReplyKind::BootServerAck => {
                        self.reach(Stage::Ack, now);
                        true
                    }
                    ReplyKind::InformAck | ReplyKind::Nak(_) => false,
                };
                if gives_boot && c.class.netboots() {
                    let boot = Reply {
                        kind,
                        file,
                        rule,
                        range,
                        next_server,
                        unresolved_server,
                    };
                    self.judge_reply(now, c.class, c.arch, d, &boot);
                }
            }
            Answer::Ignored(IgnoreReason::NoBootService) if firmware => {
                let rule = c.arch.and_then(|a| RuleRef::first_service(config, a));
                self.nothing_for_arch(now, c.arch, rule.or(range));
            }
            Answer::Silent(crate::dhcp::event::Silence::ChoseOtherServer(server)) => {
                self.offer_since = None;
                self.diagnose(
                    DiagnosisKind::OfferNotTaken,
                    now,
                    Name::EMPTY,
                    range,
                    Detail::ChoseServer(server),
                );
            }
            _ => {}
        }
    }

    /// What a reply that should let a netboot client go on is worth.
    fn judge_reply(
        &mut self,
        now: u64,
        class: ClientClass,
        arch: Option<u16>,
        d: &Decision<'_>,
        r: &Reply,
    ) {
        if class == ClientClass::Ipxe && !self.last_download.is_empty() {
            self.ipxe_since_download = true;
        }
        if r.file.is_empty() {
            // A PXE menu sends the client to a boot server; a proxy offer
            // to UEFI without one redirects it to port 4011.
            let redirect = r.kind == ReplyKind::ProxyOffer && arch.is_some_and(|a| a >= 6);
            if !offers_menu(d) && !redirect {
                if class == ClientClass::Ipxe || arch.is_none() {
                    let detail = if class == ClientClass::Ipxe {
                        Detail::IpxeNoFile
                    } else {
                        Detail::NoFile
                    };
                    self.diagnose(
                        DiagnosisKind::NothingToBoot,
                        now,
                        Name::EMPTY,
                        r.range,
                        detail,
                    );
                } else {
                    self.nothing_for_arch(now, arch, r.range);
                }
            }
            return;
        }
        if class == ClientClass::Ipxe && same_path(&r.file, &self.firmware_file) {
            self.diagnose(
                DiagnosisKind::ChainloadLoop,
                now,
                r.file,
                r.rule,
                Detail::None,
            );
        }
        if class != ClientClass::Ipxe {
            self.firmware_file = r.file;
        }
        self.handed = r.file;
        self.handed_rule = r.rule;
        if !is_url(r.file.as_bytes()) && r.next_server.is_unspecified() {
            let detail = if r.unresolved_server {
                Detail::UnresolvedServer
            } else {
                Detail::NoNextServer
            };
            self.diagnose(DiagnosisKind::NothingToBoot, now, r.file, r.rule, detail);
        }
    }

    fn nothing_for_arch(&mut self, now: u64, arch: Option<u16>, rule: Option<RuleRef>) {
        let detail = arch.map_or(Detail::None, Detail::Arch);
        self.diagnose(
            DiagnosisKind::NoBootFileForArch,
            now,
            Name::EMPTY,
            rule,
            detail,
        );
    }

    /// A datagram of this machine was dropped.
    pub(super) fn on_drop(&mut self, now: u64, reason: crate::dhcp::metrics::DropReason) {
        self.push(Step {
            at: now,
            what: StepKind::Dhcp(DhcpStep {
                message: None,
                port: 0,
                class: self.class,
                tags: StepTags::NONE,
                answer: Answer::Dropped(reason),
                rule: None,
                range: None,
            }),
            name: Name::EMPTY,
        });
    }

    /// A download (TFTP transfer started, HTTP file served) began.
    fn on_download(&mut self, now: u64, name: Name) {
        self.offer_since = None;
        let again = same_path(&name, &self.last_download)
            && self.ipxe_since_download
            && now.saturating_sub(self.last_download_at) < LOOP_WINDOW_MS;
        if again {
            let rule = same_path(&name, &self.handed)
                .then_some(self.handed_rule)
                .flatten();
            self.diagnose(DiagnosisKind::ChainloadLoop, now, name, rule, Detail::None);
        }
        if same_path(&name, &self.probe) {
            self.diagnose(DiagnosisKind::SizeProbe, now, name, None, Detail::None);
            self.probe = Name::EMPTY;
        }
        let stage = if self.stage < Stage::Ipxe {
            Stage::BootFile
        } else {
            Stage::Loading
        };
        self.reach(stage, now);
        self.last_download = name;
        self.last_download_at = now;
        self.ipxe_since_download = false;
    }

    fn not_found(&mut self, now: u64, name: Name) {
        let (detail, rule) = if same_path(&name, &self.handed) {
            (Detail::BootFile, self.handed_rule)
        } else {
            (Detail::Optional, None)
        };
        self.diagnose(DiagnosisKind::FileNotFound, now, name, rule, detail);
    }

    /// A TFTP transfer event.
    pub(super) fn on_tftp(&mut self, now: u64, o: &TftpObservation<'_>) {
        let name = Name::new(o.file());
        self.push(Step {
            at: now,
            what: StepKind::Tftp(o.step()),
            name,
        });
        match *o {
            TftpObservation::Started { .. } => {
                self.counts.tftp = self.counts.tftp.saturating_add(1);
                self.tftp_open = self.tftp_open.saturating_add(1);
                self.on_download(now, name);
            }
            TftpObservation::SizeProbe { .. } => {
                self.tftp_open = self.tftp_open.saturating_sub(1);
                self.offer_since = None;
                if self.tftp_open > 0 && same_path(&name, &self.last_download) {
                    // The real transfer is already under way.
                    self.diagnose(DiagnosisKind::SizeProbe, now, name, None, Detail::None);
                } else {
                    self.probe = name;
                }
            }
            TftpObservation::Finished { totals, .. } => {
                self.tftp_open = self.tftp_open.saturating_sub(1);
                self.counts.bytes = self.counts.bytes.saturating_add(totals.bytes);
            }
            TftpObservation::Failed {
                totals,
                block,
                timed_out,
                ..
            } => {
                self.tftp_open = self.tftp_open.saturating_sub(1);
                self.counts.bytes = self.counts.bytes.saturating_add(totals.bytes);
                if timed_out {
                    let detail = Detail::Block {
                        block,
                        blksize: totals.blksize,
                    };
                    self.diagnose(DiagnosisKind::TransferStalled, now, name, None, detail);
                }
            }
            TftpObservation::Refused { reason, .. } => {
                self.counts.tftp = self.counts.tftp.saturating_add(1);
                if reason == TftpRefusal::NotFound {
                    self.not_found(now, name);
                }
            }
        }
    }

    /// An HTTP request answered.
    pub(super) fn on_http(&mut self, now: u64, o: &HttpObservation<'_>) {
        let name = Name::new(o.path);
        self.push(Step {
            at: now,
            what: StepKind::Http(HttpStep {
                status: o.status,
                bytes: o.bytes,
                range: o.range,
                script: o.script,
            }),
            name,
        });
        self.counts.http = self.counts.http.saturating_add(1);
        self.counts.bytes = self.counts.bytes.saturating_add(o.bytes);
        match o.status {
            200..=299 if o.script => {
                self.offer_since = None;
                self.reach(Stage::Script, now);
            }
            200..=299 => self.on_download(now, name),
            404 => self.not_found(now, name),
            _ => {}
        }
    }

    /// The OS called back.
    pub(super) fn on_done(&mut self, now: u64) {
        self.push(Step {
            at: now,
            what: StepKind::Done,
            name: Name::EMPTY,
        });
        self.reach(Stage::Done, now);
    }
}

/// A reply that hands out boot data, as [`Journey::judge_reply`] sees it.
struct Reply {
    kind: ReplyKind,
    file: Name,
    rule: Option<RuleRef>,
    range: Option<RuleRef>,
    next_server: Ipv4Addr,
    unresolved_server: bool,
}

/// The boot file a decision sends: the `file` field, else option 67.
fn boot_file<'d>(d: &'d Decision<'_>) -> Option<&'d [u8]> {
    d.file().or_else(|| {
        d.boot_options()
            .find(|(c, _)| *c == pxe_dhcp::code::BOOTFILE_NAME)
            .map(|(_, v)| v.strip_suffix(&[0]).unwrap_or(v))
    })
}

/// Whether the decision carries a PXE boot menu with an item (option 43
/// sub-option 9), which sends the client to a boot server instead of a
/// file.
fn offers_menu(d: &Decision<'_>) -> bool {
    d.pxe_menu().is_some_and(|m| m.items().next().is_some())
}

/// Whether a boot file is a URL (it then needs no next server).
fn is_url(file: &[u8]) -> bool {
    file.windows(3)
        .position(|w| w == b"://")
        .is_some_and(|p| p > 0)
}

/// The path of a boot file as a client would fetch it: without
/// `scheme://host`, query and leading slashes (`tftp://10.0.0.1/a.efi`,
/// `/a.efi` and `a.efi` are one file).
fn boot_path(file: &[u8]) -> &[u8] {
    let mut p = file;
    if let Some(i) = p.windows(3).position(|w| w == b"://") {
        let rest = p.get(i + 3..).unwrap_or(&[]);
        p = rest
            .iter()
            .position(|b| *b == b'/')
            .and_then(|s| rest.get(s..))
            .unwrap_or(&[]);
    }
    if let Some(q) = p.iter().position(|b| *b == b'?') {
        p = p.get(..q).unwrap_or(p);
    }
    while let [b'/', rest @ ..] = p {
        p = rest;
    }
    p
}

/// Whether two names are the same file to fetch (empty names never are).
fn same_path(a: &Name, b: &Name) -> bool {
    let (pa, pb) = (boot_path(a.as_bytes()), boot_path(b.as_bytes()));
    !pa.is_empty() && pa == pb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_paths_ignore_scheme_host_query_and_slashes() {
        assert_eq!(boot_path(b"tftp://10.0.0.1/ipxe.efi"), b"ipxe.efi");
        assert_eq!(boot_path(b"/ipxe.efi"), b"ipxe.efi");
        assert_eq!(
            boot_path(b"http://192.168.2.1/boot.ipxe?mac=${mac}"),
            b"boot.ipxe"
        );
        assert_eq!(boot_path(b"http://host"), b"");
        assert_eq!(boot_path(b"undionly.kkpxe.0"), b"undionly.kkpxe.0");
        assert!(is_url(b"http://x/y"));
        assert!(!is_url(b"pxelinux.0"));
        assert!(!same_path(&Name::EMPTY, &Name::EMPTY));
    }
}
