//! iPXE script templates and script-request queries (pxe-engine's
//! `/ipxe.php` / `/boot.ipxe`): parsing never panics, and nothing a query
//! carries can change a rendered script's lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pxe_engine::script::{ScriptVars, Template, Var, parse_query};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    // The input as a query string.
    let vars = match parse_query(text) {
        Ok(q) => ScriptVars {
            mac: q.mac,
            uuid: q.uuid,
            arch: q.arch,
            ip: q.ip,
            hostname: q.hostname,
            ..ScriptVars::default()
        },
        Err(_) => ScriptVars::default(),
    };
    for var in Var::ALL {
        let Ok(t) = Template::parse(&format!("#!ipxe\n[{{{{{}}}}}]\n", var.name())) else {
            panic!("built-in test template refused");
        };
        if let Ok(out) = t.render(&vars) {
            let body = &out[8..out.len() - 2];
            assert!(
                body.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ":.-_[] ".contains(c)),
                "{var:?} rendered {body:?}"
            );
            assert_eq!(out.matches('\n').count(), 2);
        }
    }
    // The input as a template.
    if let Ok(t) = Template::parse(text) {
        assert!(text.starts_with("#!ipxe"));
        if let Ok(out) = t.render(&vars) {
            assert!(out.starts_with("#!ipxe"));
            assert_eq!(out.matches('\n').count(), text.matches('\n').count());
        }
    }
});
