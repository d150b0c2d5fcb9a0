//! pxe-rules: the dnsmasq dialect parser on arbitrary text. Whatever
//! parses must print to text that parses back to the same rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pxe_rules::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(a) = Config::parse_str(text, "fuzz.conf") {
        let printed = a.to_string();
        match Config::parse_str(&printed, "printed.conf") {
            Ok(b) => assert!(
                a == b,
                "round trip changed the rules:\n{text:?}\n---\n{printed}"
            ),
            Err(e) => panic!("printed config does not parse: {e}\n{text:?}\n---\n{printed}"),
        }
    }
});
