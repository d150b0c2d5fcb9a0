//! Conditional requests (RFC 9110 §13): a file's validators — a strong
//! `ETag` made of its modification time and size, as nginx makes it, and
//! `Last-Modified` — and the preconditions a `GET`/`HEAD` carries,
//! evaluated in the RFC's order (§13.2.2).
//!
//! Boot firmware does not send these; browsers, `curl -z`/`--etag-compare`,
//! mirrors and caches in front of the server do, and a download resumed
//! with `If-Range` must not splice two versions of a file together.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::header::{self, HeaderMap};

/// What identifies the version of a file being served. Both header values
/// are formatted once, on the stack: this is built for every file answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// `"<mtime seconds, hex>-<size, hex>"`, quotes included.
    etag: [u8; ETAG_MAX],
    etag_len: usize,
    /// The modification time, whole seconds (HTTP dates have no more).
    modified: Option<SystemTime>,
    /// `modified` as an IMF-fixdate.
    date: [u8; IMF_FIXDATE_LEN],
}

/// Two quotes, a dash and two 64-bit numbers in hex.
const ETAG_MAX: usize = 3 + 2 * 16;
/// `Thu, 03 Dec 2026 10:00:00 GMT`.
const IMF_FIXDATE_LEN: usize = 29;
/// The first second an HTTP date cannot write (year 10000): `httpdate`
/// panics from there on, so such a modification time is not announced.
const FIRST_UNWRITABLE_SECOND: u64 = 253_402_300_800;

/// `args` written into a stack buffer; what does not fit is cut.
fn on_stack<const N: usize>(args: std::fmt::Arguments<'_>) -> ([u8; N], usize) {
    let mut bytes = [0u8; N];
    let mut rest = &mut bytes[..];
    let _ = std::io::Write::write_fmt(&mut rest, args);
    let left = rest.len();
    (bytes, N - left)
}

/// What the preconditions of a request let the server do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Answer normally; `range`: a `Range` header may be honoured (no
    /// `If-Range`, or one that names this version).
    Serve {
        /// Whether `Range` applies.
        range: bool,
    },
    /// `304 Not Modified`: the client's copy is this version.
    NotModified,
    /// `412 Precondition Failed` (`If-Match`, `If-Unmodified-Since`).
    Failed,
}

impl Validators {
    /// The validators of a file modified at `modified` (when the file
    /// system tells) that is `len` bytes long.
    pub fn of(modified: Option<SystemTime>, len: u64) -> Self {
        let secs = modified
            .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs());
        let (etag, etag_len) = on_stack(format_args!("\"{:x}-{len:x}\"", secs.unwrap_or(0)));
        let modified = secs
            .filter(|&s| s < FIRST_UNWRITABLE_SECOND)
            .map(|s| UNIX_EPOCH + Duration::from_secs(s));
        let date = match modified {
            Some(m) => on_stack(format_args!("{}", httpdate::HttpDate::from(m))).0,
            None => [0; IMF_FIXDATE_LEN],
        };
        Validators {
            etag,
            etag_len,
            modified,
            date,
        }
    }

    /// The `ETag` header value.
    pub fn etag(&self) -> &str {
        std::str::from_utf8(&self.etag[..self.etag_len]).unwrap_or_default()
    }

    /// The `Last-Modified` header value (an IMF-fixdate), when the file
    /// system gave a modification time an HTTP date can write.
    pub fn last_modified(&self) -> Option<&str> {
        self.modified?;
        std::str::from_utf8(&self.date).ok()
    }

    /// Evaluates the preconditions in `headers` for a `GET` or `HEAD` of
    /// this version. Invalid dates are ignored, as the RFC asks; a
    /// malformed entity-tag list matches nothing.
    pub fn evaluate(&self, headers: &HeaderMap) -> Precondition {
        // 1. If-Match (strong comparison), else 2. If-Unmodified-Since.
        if headers.contains_key(header::IF_MATCH) {
            if !self.any_value(headers, &header::IF_MATCH, |v| self.listed(v, true)) {
                return Precondition::Failed;
            }
        } else if let Some(since) = date(headers, &header::IF_UNMODIFIED_SINCE)
            && self.modified.is_none_or(|m| m > since)
        {
            return Precondition::Failed;
        }
        // 3. If-None-Match (weak comparison), else 4. If-Modified-Since.
        if headers.contains_key(header::IF_NONE_MATCH) {
            if self.any_value(headers, &header::IF_NONE_MATCH, |v| self.listed(v, false)) {
                return Precondition::NotModified;
            }
        } else if let Some(since) = date(headers, &header::IF_MODIFIED_SINCE)
            && self.modified.is_some_and(|m| m <= since)
        {
            return Precondition::NotModified;
        }
        // 5. If-Range: a strong entity-tag equal to ours, or our exact date.
        let range = match headers.get(header::IF_RANGE).map(|v| v.to_str()) {
            None => true,
            Some(Ok(v)) => self.if_range_holds(v.trim()),
            Some(Err(_)) => false,
        };
        Precondition::Serve { range }
    }

    /// Whether any of the header's field lines satisfies `holds`.
    fn any_value(
        &self,
        headers: &HeaderMap,
        name: &header::HeaderName,
        holds: impl Fn(&str) -> bool,
    ) -> bool {
        headers
            .get_all(name)
            .iter()
            .any(|v| v.to_str().is_ok_and(&holds))
    }

    /// Whether `list` (`*` or entity-tags separated by commas) names this
    /// version; `strong`: a weak tag on either side never matches.
    fn listed(&self, list: &str, strong: bool) -> bool {
        if list.trim() == "*" {
            return true;
        }
        EntityTags(list).any(|(weak, tag)| tag == self.etag() && !(strong && weak))
    }

    fn if_range_holds(&self, value: &str) -> bool {
        if value.starts_with('"') || value.starts_with("W/") {
            // A weak tag never validates a range; ours are strong.
            return self.listed(value, true);
        }
        match (httpdate::parse_http_date(value), self.modified) {
            (Ok(d), Some(m)) => d == m,
            _ => false,
        }
    }
}

/// The date in header `name`, if present and valid.
fn date(headers: &HeaderMap, name: &header::HeaderName) -> Option<SystemTime> {
    let v = headers.get(name)?.to_str().ok()?;
    httpdate::parse_http_date(v.trim()).ok()
}

/// The entity-tags of a list (`W/"a", "b,c"`): whether each is weak, and
/// the tag with its quotes. A tag may hold commas, so the list is scanned
/// quote to quote; anything malformed ends it.
struct EntityTags<'a>(&'a str);

impl<'a> Iterator for EntityTags<'a> {
    type Item = (bool, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.0.trim_start_matches([' ', '\t', ',']);
        let (weak, rest) = match rest.strip_prefix("W/") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let body = rest.strip_prefix('"')?;
        let Some(end) = body.find('"') else {
            self.0 = "";
            return None;
        };
        let tag = &rest[..end + 2];
        self.0 = &body[end + 1..];
        Some((weak, tag))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;
    use std::vec::Vec;

    fn version() -> Validators {
        // 2026-12-03 10:00:00 UTC, 300000 bytes.
        Validators::of(
            Some(UNIX_EPOCH + Duration::from_secs(1_796_292_000)),
            300_000,
        )
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn validators_are_nginx_shaped() {
        let v = version();
        assert_eq!(v.etag(), "\"6b113da0-493e0\"");
        assert_eq!(v.last_modified().unwrap(), "Thu, 03 Dec 2026 10:00:00 GMT");
        // Sub-second times are cut to the second an HTTP date can say.
        let fine = Validators::of(
            Some(UNIX_EPOCH + Duration::from_millis(1_796_292_000_750)),
            300_000,
        );
        assert_eq!(fine, v);
        assert_eq!(Validators::of(None, 16).etag(), "\"0-10\"");
        assert_eq!(Validators::of(None, 16).last_modified(), None);
        // The largest values fit; a time past year 9999 (httpdate would
        // panic) gets a tag but no date, and no date ever matches it.
        let far = UNIX_EPOCH + Duration::from_secs(FIRST_UNWRITABLE_SECOND);
        let v = Validators::of(Some(far), u64::MAX);
        assert_eq!(v.etag(), "\"3afff44180-ffffffffffffffff\"");
        assert_eq!(v.last_modified(), None);
        let last = UNIX_EPOCH + Duration::from_secs(FIRST_UNWRITABLE_SECOND - 1);
        assert_eq!(
            Validators::of(Some(last), 0).last_modified(),
            Some("Fri, 31 Dec 9999 23:59:59 GMT")
        );
        let since = headers(&[(header::IF_MODIFIED_SINCE, "Fri, 31 Dec 9999 23:59:59 GMT")]);
        assert_eq!(v.evaluate(&since), Precondition::Serve { range: true });
        let before_epoch = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(Validators::of(Some(before_epoch), 1).last_modified(), None);
    }

    #[test]
    fn entity_tag_lists_are_scanned_quote_to_quote() {
        let tags: Vec<_> = EntityTags(" W/\"a\", \"b,c\" ,\"\"").collect();
        assert_eq!(tags, [(true, "\"a\""), (false, "\"b,c\""), (false, "\"\"")]);
        assert_eq!(EntityTags("\"unterminated").count(), 0);
        assert_eq!(EntityTags("bare").count(), 0);
    }

    #[test]
    fn preconditions_in_the_rfc_order() {
        use Precondition::*;
        let v = version();
        let tag = v.etag().to_string();
        let date = v.last_modified().unwrap();
        let before = "Thu, 03 Dec 2026 09:59:59 GMT";
        let after = "Thu, 03 Dec 2026 10:00:01 GMT";
        let cases: &[(&[(header::HeaderName, &str)], Precondition)] = &[
            (&[], Serve { range: true }),
            (&[(header::IF_NONE_MATCH, &tag)], NotModified),
            (
                &[(header::IF_NONE_MATCH, &std::format!("W/{tag}"))],
                NotModified,
            ),
            (
                &[(header::IF_NONE_MATCH, "\"other\", *")],
                Serve { range: true },
            ),
            (&[(header::IF_NONE_MATCH, "*")], NotModified),
            (
                &[(header::IF_NONE_MATCH, "\"other\"")],
                Serve { range: true },
            ),
            (&[(header::IF_MODIFIED_SINCE, date)], NotModified),
            (&[(header::IF_MODIFIED_SINCE, after)], NotModified),
            (
                &[(header::IF_MODIFIED_SINCE, before)],
                Serve { range: true },
            ),
            (
                &[(header::IF_MODIFIED_SINCE, "yesterday")],
                Serve { range: true },
            ),
            // If-None-Match decides; If-Modified-Since is then ignored.
            (
                &[
                    (header::IF_NONE_MATCH, "\"other\""),
                    (header::IF_MODIFIED_SINCE, after),
                ],
                Serve { range: true },
            ),
            (&[(header::IF_MATCH, &tag)], Serve { range: true }),
            (&[(header::IF_MATCH, "*")], Serve { range: true }),
            (&[(header::IF_MATCH, &std::format!("W/{tag}"))], Failed),
            (&[(header::IF_MATCH, "\"other\"")], Failed),
            (
                &[(header::IF_UNMODIFIED_SINCE, date)],
                Serve { range: true },
            ),
            (&[(header::IF_UNMODIFIED_SINCE, before)], Failed),
            // A failed If-Match wins over a matching If-None-Match.
            (
                &[
                    (header::IF_MATCH, "\"other\""),
                    (header::IF_NONE_MATCH, &tag),
                ],
                Failed,
            ),
            (&[(header::IF_RANGE, &tag)], Serve { range: true }),
            (
                &[(header::IF_RANGE, &std::format!("W/{tag}"))],
                Serve { range: false },
            ),
            (&[(header::IF_RANGE, "\"other\"")], Serve { range: false }),
            (&[(header::IF_RANGE, date)], Serve { range: true }),
            (&[(header::IF_RANGE, after)], Serve { range: false }),
            (&[(header::IF_RANGE, "garbage")], Serve { range: false }),
        ];
        for (h, want) in cases {
            assert_eq!(v.evaluate(&headers(h)), *want, "{h:?}");
        }
        // A tag in a second field line counts too.
        let h = headers(&[
            (header::IF_NONE_MATCH, "\"x\""),
            (header::IF_NONE_MATCH, &tag),
        ]);
        assert_eq!(v.evaluate(&h), NotModified);
        // A file without a modification time: dates never match.
        let undated = Validators::of(None, 300_000);
        assert_eq!(
            undated.evaluate(&headers(&[(header::IF_MODIFIED_SINCE, after)])),
            Serve { range: true }
        );
        assert_eq!(
            undated.evaluate(&headers(&[(header::IF_UNMODIFIED_SINCE, after)])),
            Failed
        );
    }
}
