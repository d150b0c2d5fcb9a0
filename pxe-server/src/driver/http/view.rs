//! Journeys as the status page and its JSON API show them: plain values
//! (strings, numbers) built from a [`Journey`], one description per step,
//! shared by the HTML page and the JSON.

use std::fmt::Write as _;

use pxe_dhcp::{ClientArch, MessageType};
use pxe_engine::dhcp::addressing::PXE_PORT;
use pxe_engine::journey::{
    Answer, Diagnosis, HttpStep, Journey, Stage, Step, StepKind, TftpRefusal, TftpStep,
};
use pxe_engine::script::Uuid;
use pxe_rules::Config;
use serde::Serialize;

/// One machine, as `/api/machines` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct MachineView {
    /// Hardware address, `52:54:00:12:34:56`.
    pub mac: String,
    /// UUID from option 97, if sent.
    pub uuid: Option<String>,
    /// IP address, once known.
    pub ip: Option<String>,
    /// Architecture number (option 93), if sent.
    pub arch: Option<u16>,
    /// Its name (`x64 UEFI`).
    pub arch_name: Option<String>,
    /// What sent the last DHCP request: `firmware`, `http_boot`, `ipxe`, `os`.
    pub class: &'static str,
    /// Furthest stage of the current boot.
    pub stage: &'static str,
    /// `active`, `idle`, `failed` or `done`.
    pub state: &'static str,
    /// Boots seen.
    pub boots: u32,
    /// First seen, Unix milliseconds.
    pub first_seen_ms: u64,
    /// Last seen, Unix milliseconds.
    pub last_seen_ms: u64,
    /// Start of the current boot, Unix milliseconds.
    pub boot_started_ms: u64,
    /// The stages reached in the current boot, in stage order.
    pub stages: Vec<StageView>,
    /// The most serious diagnosis of the current boot.
    pub diagnosis: Option<DiagnosisView>,
    /// Every diagnosis kept (latest of each kind).
    pub diagnoses: Vec<DiagnosisView>,
    /// DHCP requests, TFTP transfers and HTTP requests of the current boot.
    pub counts: CountsView,
}

/// A stage reached.
#[derive(Debug, Clone, Serialize)]
pub struct StageView {
    /// Its name.
    pub stage: &'static str,
    /// When, Unix milliseconds.
    pub at_ms: u64,
    /// Milliseconds after the boot started.
    pub after_ms: u64,
}

/// A diagnosis.
#[derive(Debug, Clone, Serialize)]
pub struct DiagnosisView {
    /// Its name (`chainload_loop`, ...).
    pub kind: &'static str,
    /// `info`, `warning` or `error`.
    pub severity: &'static str,
    /// One line saying what is wrong and what to do.
    pub explanation: String,
    /// The configuration line concerned, `file:line: text`.
    pub line: Option<String>,
    /// The file concerned.
    pub file: Option<String>,
    /// How often it was seen.
    pub count: u32,
    /// When last, Unix milliseconds.
    pub at_ms: u64,
}

/// Counts of the current boot.
#[derive(Debug, Clone, Serialize)]
pub struct CountsView {
    /// DHCP requests.
    pub dhcp: u32,
    /// TFTP transfers.
    pub tftp: u32,
    /// HTTP requests.
    pub http: u32,
    /// Bytes sent by TFTP and HTTP.
    pub bytes: u64,
}

/// One step of a journey, as `/api/machines/{mac}` lists them.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    /// When, Unix milliseconds.
    pub at_ms: u64,
    /// Milliseconds after the boot started (negative: an earlier boot).
    pub after_ms: i64,
    /// `dhcp`, `tftp`, `http` or `callback`.
    pub proto: &'static str,
    /// What happened, in one line.
    pub summary: String,
    /// The file concerned, if any.
    pub file: Option<String>,
}

/// One machine with its steps, as `/api/machines/{mac}` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct JourneyView {
    /// The machine.
    #[serde(flatten)]
    pub machine: MachineView,
    /// Its steps, oldest first.
    pub steps: Vec<StepView>,
    /// Older steps no longer kept.
    pub steps_dropped: u64,
}

/// The list `/api/machines` returns.
#[derive(Debug, Clone, Serialize)]
pub struct MachinesView {
    /// The server's clock, Unix milliseconds.
    pub now_ms: u64,
    /// How many journeys are kept at most (`journey-max=`).
    pub capacity: usize,
    /// Journeys dropped to make room.
    pub evicted: u64,
    /// The machines, most recently seen first.
    pub machines: Vec<MachineView>,
}

fn mac_text(j: &Journey) -> String {
    j.hw().to_string()
}

fn diagnosis_view(d: &Diagnosis, config: &Config) -> DiagnosisView {
    DiagnosisView {
        kind: d.kind.name(),
        severity: d.severity().name(),
        explanation: d.explanation().to_string(),
        line: d
            .rule
            .and_then(|r| r.describe(config))
            .map(|l| l.to_string()),
        file: (!d.file.is_empty()).then(|| d.file.to_string()),
        count: d.count,
        at_ms: d.at,
    }
}

impl MachineView {
    /// The view of `j` at `now`; rule references are read in `config`.
    pub fn of(j: &Journey, now: u64, config: &Config) -> MachineView {
        let started = j.boot_started();
        let stages = Stage::ALL
            .iter()
            .filter_map(|s| {
                j.reached(*s).map(|at| StageView {
                    stage: s.name(),
                    at_ms: at,
                    after_ms: at.saturating_sub(started),
                })
            })
            .collect();
        let mut diagnoses: Vec<DiagnosisView> = j
            .diagnoses(now)
            .map(|d| diagnosis_view(&d, config))
            .collect();
        diagnoses.sort_by_key(|d| std::cmp::Reverse(d.at_ms));
        let c = j.counts();
        MachineView {
            mac: mac_text(j),
            uuid: j.uuid().map(|u| Uuid(u.bytes).to_string()),
            ip: j.ip().map(|a| a.to_string()),
            arch: j.arch(),
            arch_name: j.arch().map(|a| ClientArch(a).description().to_string()),
            class: j.class().name(),
            stage: j.stage().name(),
            state: j.state(now).name(),
            boots: j.boots(),
            first_seen_ms: j.first_seen(),
            last_seen_ms: j.last_seen(),
            boot_started_ms: started,
            stages,
            diagnosis: j.worst(now).map(|d| diagnosis_view(&d, config)),
            diagnoses,
            counts: CountsView {
                dhcp: c.dhcp,
                tftp: c.tftp,
                http: c.http,
                bytes: c.bytes,
            },
        }
    }
}

impl JourneyView {
    /// The view of `j` with its steps.
    pub fn of(j: &Journey, now: u64, config: &Config) -> JourneyView {
        let started = j.boot_started();
        JourneyView {
            machine: MachineView::of(j, now, config),
            steps: j
                .steps()
                .map(|s| StepView {
                    at_ms: s.at,
                    after_ms: i64::try_from(s.at).unwrap_or(i64::MAX)
                        - i64::try_from(started).unwrap_or(i64::MAX),
                    proto: proto(s),
                    summary: summary(s, config),
                    file: (!s.name.is_empty()).then(|| s.name.to_string()),
                })
                .collect(),
            steps_dropped: j.steps_dropped(),
        }
    }
}

fn proto(s: &Step) -> &'static str {
    match s.what {
        StepKind::Dhcp(_) => "dhcp",
        StepKind::Tftp(_) => "tftp",
        StepKind::Http(_) => "http",
        StepKind::Done => "callback",
    }
}

fn message_name(m: Option<MessageType>) -> String {
    match m {
        None => "BOOTP".to_string(),
        Some(t) => format!("DHCP{t}"),
    }
}

/// One line for a step.
pub(super) fn summary(s: &Step, config: &Config) -> String {
    let mut out = String::new();
    match &s.what {
        StepKind::Dhcp(d) => {
            if let Answer::Dropped(r) = d.answer {
                let _ = write!(out, "datagram dropped: {r}");
                return out;
            }
            let _ = write!(out, "{} from {}", message_name(d.message), d.class.name());
            if d.port == PXE_PORT {
                out.push_str(" on port 4011");
            }
            if !d.tags.is_empty() {
                let _ = write!(out, " (tags: {})", d.tags.names(config));
            }
            out.push_str(" → ");
            match d.answer {
                Answer::Reply {
                    kind,
                    yiaddr,
                    next_server,
                    ..
                } => {
                    out.push_str(kind.name());
                    if !yiaddr.is_unspecified() {
                        let _ = write!(out, " {yiaddr}");
                    }
                    if !s.name.is_empty() {
                        let _ = write!(out, " file {}", s.name);
                    }
                    if !next_server.is_unspecified() {
                        let _ = write!(out, " next-server {next_server}");
                    }
                }
                Answer::Ignored(r) => {
                    let _ = write!(out, "ignored ({r:?})");
                }
                Answer::Silent(w) => {
                    let _ = write!(out, "no reply: {w}");
                }
                Answer::Lease(l) => {
                    let _ = write!(out, "{l}");
                }
                Answer::Dropped(_) => {}
            }
            if let Some(line) = d.rule.and_then(|r| r.loc(config)) {
                let _ = write!(out, " [{line}]");
            }
        }
        StepKind::Tftp(t) => {
            let _ = match t {
                TftpStep::Started {
                    blksize,
                    windowsize,
                    tsize,
                } => write!(
                    out,
                    "TFTP {} started (blksize {blksize}, windowsize {windowsize}{})",
                    s.name,
                    if *tsize { ", tsize" } else { "" }
                ),
                TftpStep::SizeProbe => {
                    write!(out, "TFTP {}: size probe, ended by the client", s.name)
                }
                TftpStep::Finished(t) => write!(
                    out,
                    "TFTP {} done: {} bytes in {:.2} s (blksize {}, windowsize {}, {} retransmits)",
                    s.name,
                    t.bytes,
                    t.micros as f64 / 1e6,
                    t.blksize,
                    t.windowsize,
                    t.retransmits
                ),
                TftpStep::Failed {
                    totals,
                    block,
                    timed_out,
                } => write!(
                    out,
                    "TFTP {} failed at block {block} after {} bytes ({}, {} retransmits)",
                    s.name,
                    totals.bytes,
                    if *timed_out {
                        "timed out"
                    } else {
                        "client error"
                    },
                    totals.retransmits
                ),
                TftpStep::Refused(r) => write!(
                    out,
                    "TFTP {} refused: {}",
                    s.name,
                    match r {
                        TftpRefusal::NotFound => "not found",
                        TftpRefusal::Denied => "access denied",
                        TftpRefusal::Other => "bad request",
                    }
                ),
            };
        }
        StepKind::Http(HttpStep {
            status,
            bytes,
            range,
            script,
        }) => {
            let _ = write!(
                out,
                "HTTP GET {}{} → {status}, {bytes} bytes{}",
                s.name,
                if *range { " (Range)" } else { "" },
                if *script {
                    ", iPXE script rendered"
                } else {
                    ""
                }
            );
        }
        StepKind::Done => out.push_str("the OS called back (/done)"),
    }
    out
}
