//! Per-machine iPXE scripts: what an `ipxe.php?mac=${mac}&uuid=${uuid}`
//! page serves in the usual dnsmasq + iPXE setup, without PHP and without
//! its holes.
//!
//! A request such as `/ipxe.php?mac=52%3A54%3A00%3A12%3A34%3A56&uuid=…`
//! (iPXE URL-encodes `${mac}`) is parsed by [`parse_query`] into typed
//! values, then a [`Template`] is rendered with them. Every value has a
//! closed alphabet (see [`value`]), so a request can neither add a line to
//! the script nor start an iPXE `${…}` expansion; anything that does not
//! parse as its type is refused (the HTTP layer answers 400).
//!
//! ```
//! use pxe_engine::script::{parse_query, ScriptVars, Template};
//!
//! let q = parse_query("mac=52%3a54%3a00%3a12%3a34%3a56&uuid=0017001e-8c00-00ad-5087-90e6ba2f3423")?;
//! let vars = ScriptVars { mac: q.mac, uuid: q.uuid, ..ScriptVars::default() };
//! let t = Template::parse("#!ipxe\nchain http://10.0.0.1/boot/{{mac_hyphen}}/{{uuid}}\n")?;
//! assert_eq!(
//!     t.render(&vars)?,
//!     "#!ipxe\nchain http://10.0.0.1/boot/52-54-00-12-34-56/0017001e-8c00-00ad-5087-90e6ba2f3423\n"
//! );
//!
//! // A newline smuggled into a value is refused, not rendered.
//! assert!(parse_query("mac=52:54:00:12:34:56%0Ashell").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod template;
pub mod value;

use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

pub use template::{
    DEFAULT_TEMPLATE, MAX_TEMPLATE_LEN, RenderError, ScriptVars, Template, TemplateError,
    TemplateErrorKind, Var,
};
pub use value::{Arch, Hostname, MacAddr, Tag, Uuid, ValueError};

/// Longest query string accepted, in bytes.
pub const MAX_QUERY_LEN: usize = 1024;
/// Longest single (still encoded) parameter value accepted, in bytes.
pub const MAX_VALUE_LEN: usize = 256;

/// The parameters a script request may carry. All optional; each at most
/// once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptQuery {
    /// `mac=`: iPXE `${mac}` (also `${net0/mac}`), URL-encoded or not.
    pub mac: Option<MacAddr>,
    /// `uuid=`: iPXE `${uuid}`.
    pub uuid: Option<Uuid>,
    /// `arch=`: option 93 number or iPXE `${buildarch}` / `${platform}`.
    pub arch: Option<Arch>,
    /// `ip=`: iPXE `${ip}`.
    pub ip: Option<Ipv4Addr>,
    /// `hostname=`: iPXE `${hostname}`.
    pub hostname: Option<Hostname>,
}

/// Why a script request's query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The query is longer than [`MAX_QUERY_LEN`].
    #[error("query is {0} bytes, more than the limit of 1024")]
    TooLong(usize),
    /// A value is longer than [`MAX_VALUE_LEN`].
    #[error("value of `{0}` is longer than 256 bytes")]
    ValueTooLong(&'static str),
    /// A `%` not followed by two hex digits, or bytes that are not UTF-8
    /// after decoding.
    #[error("bad percent-encoding in `{0}`")]
    BadEncoding(String),
    /// A parameter name that is not one of mac, uuid, arch, ip, hostname.
    #[error("unknown parameter `{0}` (known: mac, uuid, arch, ip, hostname)")]
    UnknownParameter(String),
    /// The same parameter twice.
    #[error("parameter `{0}` given more than once")]
    Duplicate(&'static str),
    /// A parameter without `=`.
    #[error("parameter `{0}` has no `=value`")]
    NoValue(String),
    /// A value that is not of its parameter's type.
    #[error("parameter `{name}`: {error}")]
    Invalid {
        /// The parameter.
        name: &'static str,
        /// What was wrong with its value.
        error: ValueError,
    },
}

/// Percent-decodes `s` strictly: `%` must be followed by two hex digits,
/// `+` stays `+`, and the result must be UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = b.get(i + 1).and_then(|c| (*c as char).to_digit(16))?;
            let lo = b.get(i + 2).and_then(|c| (*c as char).to_digit(16))?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn set<T>(
    slot: &mut Option<T>,
    seen: &mut u8,
    bit: u8,
    name: &'static str,
    value: &str,
    parse: impl FnOnce(&str) -> Result<T, ValueError>,
) -> Result<(), QueryError> {
    if *seen & bit != 0 {
        return Err(QueryError::Duplicate(name));
    }
    *seen |= bit;
    if value.len() > MAX_VALUE_LEN {
        return Err(QueryError::ValueTooLong(name));
    }
    let decoded = percent_decode(value).ok_or(QueryError::BadEncoding(String::from(name)))?;
    // iPXE expands an unset setting to nothing: `uuid=` means "no UUID".
    if !decoded.is_empty() {
        *slot = Some(parse(&decoded).map_err(|error| QueryError::Invalid { name, error })?);
    }
    Ok(())
}

/// Parses a script request's query string (without the `?`).
///
/// Known parameters are `mac`, `uuid`, `arch`, `ip` and `hostname`; each
/// value is percent-decoded and then parsed as its type. Unknown or
/// repeated parameters, bad encodings, over-long input and values of the
/// wrong type are errors. An empty value counts as absent.
pub fn parse_query(query: &str) -> Result<ScriptQuery, QueryError> {
    if query.len() > MAX_QUERY_LEN {
        return Err(QueryError::TooLong(query.len()));
    }
    let mut q = ScriptQuery::default();
    let mut seen = 0u8;
    for pair in query.split('&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| QueryError::NoValue(String::from(pair.get(..64).unwrap_or(pair))))?;
        match name {
            "mac" => set(&mut q.mac, &mut seen, 1, "mac", value, str::parse)?,
            "uuid" => set(&mut q.uuid, &mut seen, 2, "uuid", value, str::parse)?,
            "arch" => set(&mut q.arch, &mut seen, 4, "arch", value, str::parse)?,
            "ip" => set(&mut q.ip, &mut seen, 8, "ip", value, value::parse_ipv4)?,
            "hostname" => set(
                &mut q.hostname,
                &mut seen,
                16,
                "hostname",
                value,
                str::parse,
            )?,
            other => {
                let shown = percent_decode(other)
                    .filter(|s| s.len() <= 64 && s.chars().all(|c| !c.is_control()))
                    .unwrap_or_else(|| String::from("(unprintable)"));
                return Err(QueryError::UnknownParameter(shown));
            }
        }
    }
    Ok(q)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    const MAC: &str = "52:54:00:12:34:56";
    const UUID: &str = "0017001e-8c00-00ad-5087-90e6ba2f3423";

    #[test]
    fn accepts_what_ipxe_sends() {
        let q = parse_query(
            "mac=52%3A54%3A00%3A12%3A34%3A56&uuid=0017001E-8C00-00AD-5087-90E6BA2F3423",
        );
        assert_eq!(
            q.as_ref().map(|q| q.mac.map(|m| m.to_string())),
            Ok(Some(MAC.to_string()))
        );
        assert_eq!(
            q.map(|q| q.uuid.map(|u| u.to_string())),
            Ok(Some(UUID.to_string()))
        );
        let q = parse_query("mac=52:54:00:12:34:56&uuid=&arch=x86_64&ip=10.0.0.5&hostname=n1&");
        assert!(
            q.as_ref().is_ok_and(|q| q.uuid.is_none() && q.ip.is_some()),
            "{q:?}"
        );
        assert_eq!(parse_query(""), Ok(ScriptQuery::default()));
    }

    #[test]
    fn injection_attempts_are_refused() {
        let invalid = |name| move |r: Result<ScriptQuery, QueryError>| matches!(r, Err(QueryError::Invalid { name: n, .. }) if n == name);
        for q in [
            "mac=52:54:00:12:34:56%0Ashell",
            "mac=52:54:00:12:34:56%0D%0Achain%20http://evil/",
            "mac=52:54:00:12:34:5%0A",
            "mac=${mac}",
            "mac=%24%7Bmac%7D",
            "mac=52:54:00:12:34:56%00",
            "mac=52:54:00:12:34:56+",
            "mac=52%3A54%3A00%3A12%3A34%3A56%20",
        ] {
            assert!(invalid("mac")(parse_query(q)), "{q}");
        }
        for q in [
            "uuid=0017001e-8c00-00ad-5087-90e6ba2f3423%0Ashell",
            "uuid=${uuid}",
            "uuid=../../etc/passwd",
        ] {
            assert!(invalid("uuid")(parse_query(q)), "{q}");
        }
        assert!(invalid("hostname")(parse_query("hostname=a%0Ab")));
        assert!(invalid("hostname")(parse_query("hostname=${x}")));
        assert!(invalid("arch")(parse_query("arch=x86%0A")));
        assert!(invalid("ip")(parse_query("ip=10.0.0.1%0A")));

        for q in [
            "mac=%",
            "mac=%4",
            "mac=%zz:54:00:12:34:56",
            "mac=%FF%FE",
            "uuid=%C3%28",
        ] {
            assert!(
                matches!(parse_query(q), Err(QueryError::BadEncoding(_))),
                "{q}"
            );
        }
        assert_eq!(
            parse_query(&alloc::format!("mac={MAC}&mac={MAC}")),
            Err(QueryError::Duplicate("mac"))
        );
        assert_eq!(
            parse_query(&alloc::format!("uuid=&uuid={UUID}")),
            Err(QueryError::Duplicate("uuid"))
        );
        assert_eq!(
            parse_query("mac=52:54:00:12:34:56&x=1"),
            Err(QueryError::UnknownParameter("x".to_string()))
        );
        assert_eq!(
            parse_query("k=1&k%0A=2"),
            Err(QueryError::UnknownParameter("k".to_string()))
        );
        assert!(
            matches!(parse_query("k%0A=2"), Err(QueryError::UnknownParameter(s)) if s == "(unprintable)")
        );
        assert_eq!(
            parse_query("mac"),
            Err(QueryError::NoValue("mac".to_string()))
        );
        let long = "a".repeat(MAX_VALUE_LEN + 1);
        assert_eq!(
            parse_query(&alloc::format!("hostname={long}")),
            Err(QueryError::ValueTooLong("hostname"))
        );
        let huge = "&".repeat(MAX_QUERY_LEN + 1);
        assert_eq!(
            parse_query(&huge),
            Err(QueryError::TooLong(MAX_QUERY_LEN + 1))
        );
    }

    #[test]
    fn rendered_scripts_keep_their_lines() {
        // Whatever parses renders into exactly the template's lines.
        let t = Template::parse("#!ipxe\necho {{mac}} {{uuid}} {{hostname}} {{arch}} {{ip}}\n");
        let Ok(t) = t else { panic!("{t:?}") };
        let q = parse_query(&alloc::format!(
            "mac={MAC}&uuid={UUID}&hostname=a-b.c&arch=efi&ip=1.2.3.4"
        ));
        let Ok(q) = q else { panic!("{q:?}") };
        let vars = ScriptVars {
            mac: q.mac,
            uuid: q.uuid,
            arch: q.arch,
            ip: q.ip,
            hostname: q.hostname,
            ..ScriptVars::default()
        };
        let out = t.render(&vars).unwrap_or_default();
        assert_eq!(out.lines().count(), 2);
        assert!(out.starts_with("#!ipxe\n"));
        assert!(!out[7..].contains('$'));
    }

    fn arb_value() -> impl proptest::strategy::Strategy<Value = (String, String)> {
        use proptest::prelude::*;
        let valid = prop::sample::select(alloc::vec![
            ("mac", "52:54:00:12:34:56"),
            ("mac", "52%3A54%3A00%3A12%3A34%3A56"),
            ("mac", "52-54-00-ab-CD-ef"),
            ("uuid", "0017001E-8C00-00AD-5087-90E6BA2F3423"),
            ("arch", "x86_64"),
            ("arch", "7"),
            ("ip", "10.0.0.1"),
            ("hostname", "node-1.lan"),
        ]);
        // Junk around a valid value: often empty, else anything that might
        // break out of a line or start an expansion, raw or encoded.
        let junk = || {
            prop::string::string_regex(
                "(%0[aAdD]|%24|%7[bBdD]|%25|%|\\$|\\{|\\}| |\\n|\\r|\\t|&|=|\\+|[0-9a-z:.-]){0,3}",
            )
            .unwrap()
        };
        (valid, junk(), junk())
            .prop_map(|((k, v), a, b)| (String::from(k), alloc::format!("{a}{v}{b}")))
    }

    proptest::proptest! {
        /// Whatever a client sends, a script is either refused or has
        /// exactly the template's lines, and nothing from the request
        /// brings `$`, braces, spaces or control characters.
        #[test]
        fn no_query_changes_the_script_shape(raw in proptest::collection::vec(arb_value(), 0..4)) {
            let query: String = raw.iter().map(|(k, v)| alloc::format!("{k}={v}&")).collect();
            if let Ok(q) = parse_query(&query) {
                let vars = ScriptVars {
                    mac: q.mac, uuid: q.uuid, arch: q.arch, ip: q.ip, hostname: q.hostname,
                    ..ScriptVars::default()
                };
                for var in Var::ALL {
                    let t = Template::parse(&alloc::format!("#!ipxe\n[{{{{{}}}}}]\n", var.name())).unwrap();
                    if let Ok(out) = t.render(&vars) {
                        proptest::prop_assert!(out.starts_with("#!ipxe\n["));
                        proptest::prop_assert!(out.ends_with("]\n"));
                        proptest::prop_assert_eq!(out.matches('\n').count(), 2);
                        let body = &out[8..out.len() - 2];
                        proptest::prop_assert!(
                            body.chars().all(|c| c.is_ascii_alphanumeric() || ":.-_".contains(c)),
                            "{:?} from {:?}", body, query
                        );
                    }
                }
            }
        }
    }
}
