//! pxe-engine's lease log records and dnsmasq lease-file lines: decoding
//! arbitrary bytes never panics, whatever decodes re-encodes to the same
//! bytes, and every lease a dnsmasq file yields fits a log record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pxe_engine::lease::{dnsmasq, record};

fuzz_target!(|data: &[u8]| {
    let mut off = 0;
    while off < data.len() {
        match record::decode(&data[off..]) {
            Ok((change, n)) => {
                let mut buf = [0u8; record::MAX_RECORD];
                let m = record::encode(&change, &mut buf).expect("decoded record re-encodes");
                assert_eq!(&buf[..m], &data[off..off + n]);
                off += n;
            }
            Err(_) => break,
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let leases: Vec<_> = dnsmasq::parse(text).filter_map(Result::ok).collect();
        // An imported lease must fit the log, or the compaction right after
        // an import fails and the server does not start.
        for l in &leases {
            let mut buf = [0u8; record::MAX_RECORD];
            record::encode(&pxe_engine::lease::LeaseChange::Grant(l.clone()), &mut buf)
                .expect("an imported lease encodes as a log record");
        }
        let again = dnsmasq::format(leases.iter());
        let back: Vec<_> = dnsmasq::parse(&again)
            .map(|r| r.expect("own output parses"))
            .collect();
        assert_eq!(back.len(), leases.len());
    }
});
