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
/// writes and what reusing the slot resets comes first, in three cache
/// lines (checked by a test); the remembered names and diagnoses after;
/// the ring of steps last. A flood of new MACs reuses the least recently
/// seen (so coldest) slot once per DISCOVER, and each cache line it has to
/// fetch costs more than the instructions: a reset writes only those three
/// lines (the names, diagnoses and stage times behind are marked unset by
/// bits in the first, not cleared), and each step is written in place.
#[derive(Clone, Debug)]
#[repr(C)]
pub struct Journey {
    // Line 0: the key, the flags, the times.
    hw: HwAddr,
    class: ClientClass,
    stage: Stage,
    /// Which of `findings` hold a diagnosis (bit [`DiagnosisKind::index`]).
    found: u8,
    /// Which of `names` are set (bit [`Kept`] as `u8`).
    kept: u8,
    /// Which stages of `reached_at` the current boot reached (bit
    /// [`Stage::index`]).
    reached: u8,
    /// TFTP transfers started and not yet ended: a size probe whose end is
    /// reported after the real transfer began (the probe's ERROR and the
    /// next request arrive together) is still a probe.
    tftp_open: u8,
    ipxe_since_download: bool,
    first_seen: u64,
    last_seen: u64,
    boot_started: u64,
    /// Steps recorded (at most [`STEPS`] are kept).
    recorded: u64,
    // Line 1: what the requests said, and the counts.
    /// Where the next step goes in `steps`.
    head: u32,
    boots: u32,
    counts: Counts,
    ip: Option<Ipv4Addr>,
    arch: Option<u16>,
    uuid: Option<ClientUuid>,
    // Line 2: the pending offer, the last hand-off and download, and the
    // first stages' times.
    /// An offer not yet followed by a request: since when, and its range.
    offer_since: Option<u64>,
    offer_range: Option<RuleRef>,
    handed_rule: Option<RuleRef>,
    last_download_at: u64,
    /// When the current boot first reached each stage, where `reached`
    /// says so.
    reached_at: [u64; Stage::COUNT],
    /// What the journey remembers by name, where `kept` says so: the boot
    /// file last handed to the firmware (PXE or HTTP Boot) and to anyone
    /// (the line that gave it: `handed_rule`), the last download started
    /// (when: `last_download_at`; and whether iPXE asked DHCP since), a
    /// size probe not yet followed by the real transfer.
    names: [Name; Kept::COUNT],
    /// The latest diagnosis of each kind, where `found` says so.
    findings: [Diagnosis; DiagnosisKind::COUNT],
    steps: [Step; STEPS],
}

/// The names a [`Journey`] remembers (indices of its `names`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kept {
    FirmwareFile,
    Handed,
    LastDownload,
    Probe,
}

impl Kept {
    const COUNT: usize = 4;

    fn bit(self) -> u8 {
        1 << self as u8
    }
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
        let mut j = Journey {
            hw,
            class: ClientClass::Plain,
            stage: Stage::Discover,
            found: 0,
            kept: 0,
            reached: 0,
            tftp_open: 0,
            ipxe_since_download: false,
            first_seen: now,
            last_seen: now,
            boot_started: now,
            recorded: 0,
            head: 0,
            boots: 1,
            counts: Counts::default(),
            ip: None,
            arch: None,
            uuid: None,
            offer_since: None,
            offer_range: None,
            handed_rule: None,
            last_download_at: 0,
            reached_at: [0; Stage::COUNT],
            names: [Name::EMPTY; Kept::COUNT],
            findings: [NO_DIAGNOSIS; DiagnosisKind::COUNT],
            steps: [BLANK; STEPS],
        };
        j.reset(hw, now);
        j
    }

    /// Makes this the new journey of `hw` in place (a slot reused for
    /// another machine): everything as [`Journey::new`] has it, writing
    /// only the first three cache lines — the names, diagnoses, stage
    /// times and steps behind are left as they are and marked unset
    /// (`kept`, `found`, `reached`, `recorded` 0). A flood of new MACs
    /// evicts one journey per DISCOVER, and the rest is most of a
    /// journey's 5 KiB.
    pub(super) fn reset(&mut self, hw: HwAddr, now: u64) {
        // Exhaustive on purpose: a new field must be reset here too.
        let Journey {
            hw: key,
            class,
            stage,
            found,
            kept,
            reached,
            tftp_open,
            ipxe_since_download,
            first_seen,
            last_seen,
            boot_started,
            recorded,
            head,
            boots,
            counts,
            ip,
            arch,
            uuid,
            offer_since,
            offer_range,
            handed_rule,
            last_download_at,
            reached_at: _,
            names: _,
            findings: _,
            steps: _,
        } = self;
        *key = hw;
        *class = ClientClass::Plain;
        *stage = Stage::Discover;
        *found = 0;
        *kept = 0;
        *reached = 0;
        *tftp_open = 0;
        *ipxe_since_download = false;
        *first_seen = now;
        *last_seen = now;
        *boot_started = now;
        *recorded = 0;
        *head = 0;
        *boots = 1;
        *counts = Counts::default();
        *ip = None;
        *arch = None;
        *uuid = None;
        *offer_since = None;
        *offer_range = None;
        *handed_rule = None;
        *last_download_at = 0;
    }

    /// The name remembered as `k`, or the empty name.
    fn kept(&self, k: Kept) -> &Name {
        match self.names.get(k as usize) {
            Some(n) if self.kept & k.bit() != 0 => n,
            _ => &Name::EMPTY,
        }
    }

    /// Remembers `name` as `k` (the empty name: forgets it).
    fn keep(&mut self, k: Kept, name: &Name) {
        if name.is_empty() {
            self.kept &= !k.bit();
        } else if let Some(n) = self.names.get_mut(k as usize) {
            *n = *name;
            self.kept |= k.bit();
        }
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
        let bit = 1u8 << stage.index();
        (self.reached & bit != 0)
            .then(|| self.reached_at.get(stage.index()).copied())
            .flatten()
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
        let start = (self.head as usize + STEPS - kept) % STEPS;
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

    /// Records a step, written in place into the ring (a new journey's
    /// first steps land in cache lines nothing else touched).
    fn push(&mut self, at: u64, what: StepKind, name: &[u8]) {
        let head = self.head as usize;
        if let Some(s) = self.steps.get_mut(head) {
            s.at = at;
            s.what = what;
            s.name.set(name);
        }
        self.head = if head + 1 >= STEPS {
            0
        } else {
            head as u32 + 1
        };
        self.recorded = self.recorded.saturating_add(1);
        self.last_seen = self.last_seen.max(at);
    }

    /// The name of the step last pushed.
    fn last_name(&self) -> Name {
        let last = (self.head as usize + STEPS - 1) % STEPS;
        self.steps.get(last).map_or(Name::EMPTY, |s| s.name)
    }

    fn reach(&mut self, stage: Stage, now: u64) {
        let bit = 1u8 << stage.index();
        if self.reached & bit == 0
            && let Some(r) = self.reached_at.get_mut(stage.index())
        {
            *r = now;
            self.reached |= bit;
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
        self.reached = 0;
        self.counts = Counts::default();
        self.kept = 0;
        self.handed_rule = None;
        self.ipxe_since_download = false;
        self.offer_since = None;
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
        let rule = RuleRef::boot_source(d);
        let range = RuleRef::range(d);
        self.push(
            now,
            StepKind::Dhcp(DhcpStep {
                message: request.message,
                port: request.port,
                class: c.class,
                tags: StepTags::of(d.tags(), config.tag_count()),
                answer,
                rule,
                range,
            }),
            boot_file(d).unwrap_or(&[]),
        );
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
                        file: self.last_name(),
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
        if class == ClientClass::Ipxe && !self.kept(Kept::LastDownload).is_empty() {
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
        if class == ClientClass::Ipxe && same_path(&r.file, self.kept(Kept::FirmwareFile)) {
            self.diagnose(
                DiagnosisKind::ChainloadLoop,
                now,
                r.file,
                r.rule,
                Detail::None,
            );
        }
        if class != ClientClass::Ipxe {
            self.keep(Kept::FirmwareFile, &r.file);
        }
        self.keep(Kept::Handed, &r.file);
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
        self.push(
            now,
            StepKind::Dhcp(DhcpStep {
                message: None,
                port: 0,
                class: self.class,
                tags: StepTags::NONE,
                answer: Answer::Dropped(reason),
                rule: None,
                range: None,
            }),
            &[],
        );
    }

    /// A download (TFTP transfer started, HTTP file served) began.
    fn on_download(&mut self, now: u64, name: Name) {
        self.offer_since = None;
        let again = same_path(&name, self.kept(Kept::LastDownload))
            && self.ipxe_since_download
            && now.saturating_sub(self.last_download_at) < LOOP_WINDOW_MS;
        if again {
            let rule = same_path(&name, self.kept(Kept::Handed))
                .then_some(self.handed_rule)
                .flatten();
            self.diagnose(DiagnosisKind::ChainloadLoop, now, name, rule, Detail::None);
        }
        if same_path(&name, self.kept(Kept::Probe)) {
            self.diagnose(DiagnosisKind::SizeProbe, now, name, None, Detail::None);
            self.keep(Kept::Probe, &Name::EMPTY);
        }
        let stage = if self.stage < Stage::Ipxe {
            Stage::BootFile
        } else {
            Stage::Loading
        };
        self.reach(stage, now);
        self.keep(Kept::LastDownload, &name);
        self.last_download_at = now;
        self.ipxe_since_download = false;
    }

    fn not_found(&mut self, now: u64, name: Name) {
        let (detail, rule) = if same_path(&name, self.kept(Kept::Handed)) {
            (Detail::BootFile, self.handed_rule)
        } else {
            (Detail::Optional, None)
        };
        self.diagnose(DiagnosisKind::FileNotFound, now, name, rule, detail);
    }

    /// A TFTP transfer event.
    pub(super) fn on_tftp(&mut self, now: u64, o: &TftpObservation<'_>) {
        self.push(now, StepKind::Tftp(o.step()), o.file());
        let name = self.last_name();
        match *o {
            TftpObservation::Started { .. } => {
                self.counts.tftp = self.counts.tftp.saturating_add(1);
                self.tftp_open = self.tftp_open.saturating_add(1);
                self.on_download(now, name);
            }
            TftpObservation::SizeProbe { .. } => {
                self.tftp_open = self.tftp_open.saturating_sub(1);
                self.offer_since = None;
                if self.tftp_open > 0 && same_path(&name, self.kept(Kept::LastDownload)) {
                    // The real transfer is already under way.
                    self.diagnose(DiagnosisKind::SizeProbe, now, name, None, Detail::None);
                } else {
                    self.keep(Kept::Probe, &name);
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
        self.push(
            now,
            StepKind::Http(HttpStep {
                status: o.status,
                bytes: o.bytes,
                range: o.range,
                script: o.script,
            }),
            o.path,
        );
        let name = self.last_name();
        self.counts.http = self.counts.http.saturating_add(1);
        self.counts.bytes = self.counts.bytes.saturating_add(o.bytes);
        match o.status {
            200..=299 if o.script => {
                self.offer_since = None;
                self.reach(Stage::Script, now);
            }
            // 304: the client holds the current file, as good as fetched.
            200..=299 | 304 => self.on_download(now, name),
            404 => self.not_found(now, name),
            _ => {}
        }
    }

    /// The OS called back.
    pub(super) fn on_done(&mut self, now: u64) {
        self.push(now, StepKind::Done, &[]);
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

    /// What a reset and a DHCP exchange of a new machine write lies in
    /// the journey's first three cache lines (a flood of new MACs reuses
    /// the coldest journey once per DISCOVER: every line is a miss).
    #[test]
    fn the_fields_a_new_journey_writes_are_in_its_first_three_lines() {
        use core::mem::offset_of;
        const LINES: usize = 3 * 64;
        let end_of = |offset: usize, size: usize| offset + size;
        let hot = [
            end_of(offset_of!(Journey, recorded), 8),
            end_of(
                offset_of!(Journey, uuid),
                core::mem::size_of::<Option<ClientUuid>>(),
            ),
            end_of(offset_of!(Journey, last_download_at), 8),
            // Discover, Offer and Ack.
            end_of(offset_of!(Journey, reached_at), 3 * 8),
        ];
        for end in hot {
            assert!(end <= LINES, "{end} > {LINES}");
        }
        assert!(offset_of!(Journey, names) >= offset_of!(Journey, reached_at));
        assert!(offset_of!(Journey, steps) > offset_of!(Journey, findings));
    }

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
