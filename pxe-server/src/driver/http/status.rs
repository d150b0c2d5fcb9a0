//! The status routes of the HTTP service: the page (`/`,
//! `/machines/{mac}`), its JSON API (`/api/machines`,
//! `/api/machines/{mac}`), Prometheus `/metrics`, and the OS callback
//! `/done?mac=…` that ends a journey.
//!
//! The page, API and metrics are answered on the `status-page=` listener
//! only; `/done` on every listener of a service that records journeys
//! (the installed OS calls the boot-file port it knows).

use std::net::SocketAddr;

use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use pxe_engine::lease::HwAddr;

use super::body::HttpBody;
use super::page;
use super::view::{JourneyView, MachineView, MachinesView};
use crate::driver::journeys::{Journeys, now_ms};
use crate::driver::metrics::Format;

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<HttpBody> {
    let len = body.len() as u64;
    let mut r = Response::new(HttpBody::bytes(Bytes::from(body)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";

/// A MAC address in a path or query: `52:54:00:12:34:56`,
/// `52-54-00-12-34-56` or with `%3A` for the colons.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let s = s.replace("%3A", ":").replace("%3a", ":");
    s.parse::<pxe_engine::script::MacAddr>().ok().map(|m| m.0)
}

/// The `mac=` of a query string.
pub fn query_mac(query: Option<&str>) -> Option<[u8; 6]> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("mac="))
        .and_then(parse_mac)
}

/// Answers a status route, or `None` if `path` is not one; `accept` is
/// the request's `Accept` header (it picks the metrics format).
pub(super) fn answer(
    journeys: &Journeys,
    path: &str,
    accept: Option<&str>,
) -> Option<Response<HttpBody>> {
    let now = now_ms();
    let config = &*journeys.config();
    let json = |v: &dyn erased::Json| match v.to_json() {
        Ok(s) => respond(StatusCode::OK, JSON, s),
        Err(e) => respond(StatusCode::INTERNAL_SERVER_ERROR, TEXT, format!("{e}\n")),
    };
    let machines = || {
        let store = journeys.lock();
        let mut list: Vec<MachineView> = store
            .iter()
            .map(|j| MachineView::of(j, now, config))
            .collect();
        list.sort_by_key(|m| std::cmp::Reverse(m.last_seen_ms));
        MachinesView {
            now_ms: now,
            capacity: store.capacity(),
            evicted: store.evicted(),
            machines: list,
        }
    };
    let one = |mac: &str| {
        let mac = parse_mac(mac)?;
        let store = journeys.lock();
        store
            .get(&HwAddr::ethernet(mac))
            .map(|j| JourneyView::of(j, now, config))
    };
    let unknown = || {
        respond(
            StatusCode::NOT_FOUND,
            TEXT,
            "no journey for this machine\n".into(),
        )
    };
    Some(match path {
        "/" | "/machines" | "/machines/" => {
            respond(StatusCode::OK, HTML, page::machines(&machines()))
        }
        "/api/machines" | "/api/machines/" => json(&machines()),
        "/metrics" => {
            let format = Format::from_accept(accept);
            let text = journeys.metrics().render(format);
            respond(StatusCode::OK, format.content_type(), text)
        }
        p => {
            if let Some(mac) = p.strip_prefix("/api/machines/") {
                match one(mac) {
                    Some(v) => json(&v),
                    None => unknown(),
                }
            } else if let Some(mac) = p.strip_prefix("/machines/") {
                match one(mac) {
                    Some(v) => respond(StatusCode::OK, HTML, page::journey(&v, now)),
                    None => unknown(),
                }
            } else {
                return None;
            }
        }
    })
}

/// `GET /done[?mac=…]`: the installed OS says it booted.
pub(super) fn done(
    journeys: &Journeys,
    query: Option<&str>,
    peer: SocketAddr,
) -> Response<HttpBody> {
    if journeys.done(peer.ip(), query_mac(query)) {
        respond(StatusCode::OK, TEXT, "recorded\n".into())
    } else {
        respond(
            StatusCode::NOT_FOUND,
            TEXT,
            "no journey for this client (give ?mac=)\n".into(),
        )
    }
}

/// JSON encoding behind a trait object, so `answer` has one responder.
mod erased {
    pub(super) trait Json {
        fn to_json(&self) -> serde_json::Result<String>;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> serde_json::Result<String> {
            serde_json::to_string_pretty(self)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_read_in_every_spelling() {
        let m = Some([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert_eq!(parse_mac("52:54:00:12:34:56"), m);
        assert_eq!(parse_mac("52-54-00-12-34-56"), m);
        assert_eq!(parse_mac("52%3A54%3A00%3A12%3A34%3A56"), m);
        assert_eq!(parse_mac("52:54:00:12:34"), None);
        assert_eq!(query_mac(Some("uuid=x&mac=52%3a54%3a00%3a12%3a34%3a56")), m);
        assert_eq!(query_mac(None), None);
    }
}
