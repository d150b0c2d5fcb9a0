//! Prometheus metrics (OpenMetrics text, `prometheus-client`), all under
//! the prefix `pxe_`, with bounded labels only (message type, reason,
//! range, stage, state, diagnosis, outcome, kind, status class; never a
//! MAC address or a file name).
//!
//! The DHCP figures cost the DHCP path nothing: the engine counts them
//! anyway ([`pxe_engine::dhcp::metrics::Metrics`]) and they are read at
//! scrape time, like the lease counts and the journeys by stage, state
//! and diagnosis. HTTP and TFTP are counted as they happen
//! (once per request or transfer, not per datagram).

use std::sync::{Arc, Mutex};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use pxe_dhcp::MessageType;
use pxe_engine::dhcp::event::{NakReason, ReplyKind};
use pxe_engine::dhcp::metrics::DropReason;
use pxe_engine::journey::{DiagnosisKind, JourneyStore, Stage, State, TftpObservation};

use crate::driver::clock::unix_now;
use crate::driver::engine::{SharedEngine, lock};
use crate::driver::journeys::now_ms;

/// The two text formats `/metrics` speaks: OpenMetrics to a scraper that
/// asks for it (`Accept: application/openmetrics-text`, as Prometheus
/// does), the Prometheus text format 0.0.4 to everyone else (`curl`,
/// `promtool check metrics`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics 1.0 text (ends with `# EOF`).
    OpenMetrics,
    /// Prometheus text 0.0.4.
    Prometheus,
}

impl Format {
    /// The format an `Accept` header asks for.
    pub fn from_accept(accept: Option<&str>) -> Format {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Prometheus,
        }
    }

    /// Its content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// One label.
type Label = [(&'static str, &'static str); 1];
/// Two labels.
type Labels2 = [(&'static str, &'static str); 2];

/// The server's metrics registry.
#[derive(Debug)]
pub struct ServerMetrics {
    registry: Registry,
    http_requests: Family<Labels2, Counter>,
    http_bytes: Family<Label, Counter>,
    http_seconds: Histogram,
    tftp_transfers: Family<Label, Counter>,
    tftp_bytes: Counter,
    tftp_seconds: Histogram,
    boot_seconds: Histogram,
}

/// What an HTTP request was, for [`ServerMetrics::http`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpKind {
    /// A boot file.
    File,
    /// A rendered iPXE script.
    Script,
    /// The OS callback `/done`.
    Done,
    /// The status page, its API or `/metrics`.
    Status,
}

impl HttpKind {
    fn name(self) -> &'static str {
        match self {
            HttpKind::File => "file",
            HttpKind::Script => "script",
            HttpKind::Done => "done",
            HttpKind::Status => "status",
        }
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

impl ServerMetrics {
    /// The registry, with scrape-time figures from `engine` (when DHCP
    /// runs) and `store`.
    pub(crate) fn new(engine: Option<SharedEngine>, store: Arc<Mutex<JourneyStore>>) -> Self {
        let mut registry = Registry::with_prefix("pxe");
        let http_requests = Family::<Labels2, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by kind (file, script, done, status) and status class",
            http_requests.clone(),
        );
        let http_bytes = Family::<Label, Counter>::default();
        registry.register_with_unit(
            "http_sent",
            "HTTP body bytes announced (Content-Length), by kind",
            Unit::Bytes,
            http_bytes.clone(),
        );
        let http_seconds = Histogram::new(exponential_buckets(0.0005, 4.0, 8));
        registry.register_with_unit(
            "http_response",
            "Time from a request to its response head",
            Unit::Seconds,
            http_seconds.clone(),
        );
        let tftp_transfers = Family::<Label, Counter>::default();
        registry.register(
            "tftp_transfers",
            "TFTP transfers by outcome (completed, failed, refused, not_found, size_probe)",
            tftp_transfers.clone(),
        );
        let tftp_bytes = Counter::default();
        registry.register_with_unit(
            "tftp_sent",
            "TFTP file bytes sent by transfers that ended",
            Unit::Bytes,
            tftp_bytes.clone(),
        );
        let tftp_seconds = Histogram::new(exponential_buckets(0.01, 3.0, 9));
        registry.register_with_unit(
            "tftp_transfer_duration",
            "Duration of TFTP transfers that ended (completed or failed)",
            Unit::Seconds,
            tftp_seconds.clone(),
        );
        let boot_seconds = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        registry.register_with_unit(
            "journey_boot_duration",
            "Time from a machine's first DHCP request to its /done callback",
            Unit::Seconds,
            boot_seconds.clone(),
        );
        registry.register_collector(Box::new(Figures { engine, store }));
        ServerMetrics {
            registry,
            http_requests,
            http_bytes,
            http_seconds,
            tftp_transfers,
            tftp_bytes,
            tftp_seconds,
            boot_seconds,
        }
    }

    /// Every metric as text in `format`.
    pub fn render(&self, format: Format) -> String {
        let mut out = String::new();
        // Writing into a String does not fail.
        let _ = match format {
            Format::OpenMetrics => {
                prometheus_client::encoding::text::encode(&mut out, &self.registry)
            }
            Format::Prometheus => {
                prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
            }
        };
        out
    }

    /// Counts an HTTP request.
    pub fn http(&self, kind: HttpKind, status: u16, bytes: u64, seconds: f64) {
        self.http_requests
            .get_or_create(&[("kind", kind.name()), ("code", status_class(status))])
            .inc();
        self.http_bytes
            .get_or_create(&[("kind", kind.name())])
            .inc_by(bytes);
        self.http_seconds.observe(seconds);
    }

    /// Counts a TFTP transfer event.
    pub fn tftp(&self, o: &TftpObservation<'_>) {
        let (outcome, totals) = match o {
            TftpObservation::Started { .. } => return,
            TftpObservation::SizeProbe { .. } => ("size_probe", None),
            TftpObservation::Finished { totals, .. } => ("completed", Some(totals)),
            TftpObservation::Failed { totals, .. } => ("failed", Some(totals)),
            TftpObservation::Refused {
                reason: pxe_engine::journey::TftpRefusal::NotFound,
                ..
            } => ("not_found", None),
            TftpObservation::Refused { .. } => ("refused", None),
        };
        self.tftp_transfers
            .get_or_create(&[("outcome", outcome)])
            .inc();
        if let Some(t) = totals {
            self.tftp_bytes.inc_by(t.bytes);
            self.tftp_seconds.observe(t.micros as f64 / 1e6);
        }
    }

    /// A boot reached its end `ms` milliseconds after it began.
    pub fn boot_finished(&self, ms: u64) {
        self.boot_seconds.observe(ms as f64 / 1e3);
    }
}

/// Figures read at scrape time: the engine's DHCP counters and leases,
/// the journeys.
#[derive(Debug)]
struct Figures {
    engine: Option<SharedEngine>,
    store: Arc<Mutex<JourneyStore>>,
}

/// Request message types, with their label values.
const REQUEST_TYPES: [(Option<MessageType>, &str); 10] = [
    (None, "bootp"),
    (Some(MessageType::Discover), "discover"),
    (Some(MessageType::Offer), "offer"),
    (Some(MessageType::Request), "request"),
    (Some(MessageType::Decline), "decline"),
    (Some(MessageType::Ack), "ack"),
    (Some(MessageType::Nak), "nak"),
    (Some(MessageType::Release), "release"),
    (Some(MessageType::Inform), "inform"),
    (Some(MessageType::Other(0)), "other"),
];

/// Reply kinds, with their label values.
const REPLY_KINDS: [(ReplyKind, &str); 8] = [
    (ReplyKind::Offer, "offer"),
    (ReplyKind::Ack, "ack"),
    (ReplyKind::InformAck, "inform_ack"),
    (ReplyKind::Nak(NakReason::WrongServerId), "nak"),
    (ReplyKind::Bootp, "bootp"),
    (ReplyKind::ProxyOffer, "proxy_offer"),
    (ReplyKind::ProxyAck, "proxy_ack"),
    (ReplyKind::BootServerAck, "boot_server_ack"),
];

fn drop_label(r: DropReason) -> &'static str {
    match r {
        DropReason::TooShort => "too_short",
        DropReason::NotRequest => "not_request",
        DropReason::BadHardwareAddress => "bad_hardware_address",
        DropReason::BadOptions => "bad_options",
        DropReason::UnknownMessageType => "unknown_message_type",
        DropReason::ServerMessage => "server_message",
        DropReason::NoRange => "no_range",
        DropReason::OtherServer => "other_server",
        DropReason::Ignored => "ignored",
        DropReason::NotOurs => "not_ours",
        DropReason::ReplyTooBig => "reply_too_big",
    }
}

/// Writes one metric family of constant values.
fn family<M: EncodeMetric, L: prometheus_client::encoding::EncodeLabelSet>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    values: impl IntoIterator<Item = (L, M)>,
    kind: prometheus_client::metrics::MetricType,
) -> Result<(), std::fmt::Error> {
    let mut m = encoder.encode_descriptor(name, help, unit, kind)?;
    for (labels, v) in values {
        v.encode(m.encode_family(&labels)?)?;
    }
    Ok(())
}

/// Writes one metric without labels.
fn single<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: M,
) -> Result<(), std::fmt::Error> {
    let m = encoder.encode_descriptor(name, help, None, value.metric_type())?;
    value.encode(m)
}

impl Collector for Figures {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        use prometheus_client::metrics::MetricType::{Counter as C, Gauge as G};
        if let Some(engine) = &self.engine {
            // Copy out under the lock, encode after it.
            let (m, ranges) = {
                let e = lock(engine);
                let now = unix_now();
                let ranges: Vec<(String, i64, i64)> = e
                    .leases()
                    .pools()
                    .iter()
                    .map(|p| {
                        let used = e
                            .leases()
                            .active(now)
                            .filter(|l| p.contains(l.addr))
                            .count();
                        (
                            format!("{}-{}", p.start, p.end),
                            i64::try_from(used).unwrap_or(i64::MAX),
                            i64::from(p.size()),
                        )
                    })
                    .collect();
                (e.metrics().clone(), ranges)
            };
            family(
                &mut encoder,
                "dhcp_requests",
                "DHCP requests read, by message type",
                None,
                REQUEST_TYPES
                    .iter()
                    .map(|(t, n)| ([("message_type", *n)], ConstCounter::new(m.received_as(*t)))),
                C,
            )?;
            family(
                &mut encoder,
                "dhcp_replies",
                "DHCP replies sent, by message type",
                None,
                REPLY_KINDS
                    .iter()
                    .map(|(k, n)| ([("message_type", *n)], ConstCounter::new(m.sent_as(*k)))),
                C,
            )?;
            family(
                &mut encoder,
                "dhcp_dropped",
                "DHCP datagrams dropped without an answer, by reason",
                None,
                DropReason::ALL
                    .iter()
                    .map(|r| ([("reason", drop_label(*r))], ConstCounter::new(m.drops(*r)))),
                C,
            )?;
            family(
                &mut encoder,
                "dhcp_lease_store",
                "Lease store outcomes with a shared store: claims another server won, allocations refused while it was unreachable, renewals answered from the cache",
                None,
                [
                    ("refused_conflict", m.store_refusals),
                    ("refused_store_down", m.store_down_refusals),
                    ("acked_from_cache", m.acks_from_cache),
                ]
                .into_iter()
                .map(|(o, n)| ([("outcome", o)], ConstCounter::new(n))),
                C,
            )?;
            family(
                &mut encoder,
                "dhcp_leases",
                "Leases in use, by dhcp-range",
                None,
                ranges
                    .iter()
                    .map(|(r, used, _)| ([("range", r.as_str())], ConstGauge::new(*used))),
                G,
            )?;
            family(
                &mut encoder,
                "dhcp_pool_size",
                "Addresses in each dhcp-range's pool",
                None,
                ranges
                    .iter()
                    .map(|(r, _, size)| ([("range", r.as_str())], ConstGauge::new(*size))),
                G,
            )?;
        }
        let (summary, evicted, unmatched) = {
            let s = self.store.lock().unwrap_or_else(|p| p.into_inner());
            (s.summary(now_ms()), s.evicted(), s.unmatched())
        };
        let as_gauge = |n: u64| ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX));
        family(
            &mut encoder,
            "journeys",
            "Machines' boot journeys kept, by the stage of their current boot",
            None,
            Stage::ALL
                .iter()
                .map(|s| ([("stage", s.name())], as_gauge(summary.by_stage[s.index()]))),
            G,
        )?;
        family(
            &mut encoder,
            "journeys_by_state",
            "Boot journeys kept, by state (active, idle, failed, done)",
            None,
            State::ALL
                .iter()
                .zip(summary.by_state)
                .map(|(s, n)| ([("state", s.name())], as_gauge(n))),
            G,
        )?;
        family(
            &mut encoder,
            "journeys_diagnosed",
            "Boot journeys whose current boot has a diagnosis, by diagnosis",
            None,
            DiagnosisKind::ALL.iter().map(|d| {
                (
                    [("diagnosis", d.name())],
                    as_gauge(summary.by_diagnosis[d.index()]),
                )
            }),
            G,
        )?;
        single(
            &mut encoder,
            "journeys_evicted",
            "Journeys dropped to make room for newer machines",
            ConstCounter::new(evicted),
        )?;
        single(
            &mut encoder,
            "journeys_unmatched",
            "TFTP and HTTP events from clients no journey knew",
            ConstCounter::new(unmatched),
        )?;
        Ok(())
    }
}
