//! Parses arbitrary datagrams as TFTP packets and requests; whatever parses
//! must survive a rebuild-and-reparse round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pxe_tftp::options::{RequestedOptions, ServerLimits};
use pxe_tftp::server::{ServerPolicy, accept};
use pxe_tftp::wire::{OptionWriter, Packet, write_ack, write_data, write_error};

fuzz_target!(|data: &[u8]| {
    let mut buf = vec![0u8; data.len() + 64];
    if let Ok(pkt) = Packet::parse(data) {
        let n = match pkt {
            Packet::Request(r) => {
                let mut w = OptionWriter::request(&mut buf, r.kind, r.filename, r.mode)
                    .expect("parsed strings have no NUL and fit");
                for (name, value) in r.options.iter() {
                    w.option(name, value).expect("fits");
                }
                w.finish()
            }
            Packet::Data { block, data } => write_data(&mut buf, block, data).expect("fits"),
            Packet::Ack { block } => write_ack(&mut buf, block).expect("fits"),
            Packet::Error { code, message } => write_error(&mut buf, code, message).expect("fits"),
            Packet::Oack(list) => {
                let mut w = OptionWriter::oack(&mut buf).expect("fits");
                for (name, value) in list.iter() {
                    w.option(name, value).expect("fits");
                }
                w.finish()
            }
        };
        let again = Packet::parse(&buf[..n]).expect("a rebuilt packet parses");
        assert_eq!(again, pkt);
        if let Packet::Oack(list) | Packet::Request(pxe_tftp::wire::Request { options: list, .. }) =
            pkt
        {
            if let Ok(o) = RequestedOptions::from_list(&list) {
                if let Some(b) = o.blksize {
                    assert!((8..=65464).contains(&b));
                }
                assert_ne!(o.windowsize, Some(0));
                let g = ServerLimits::default().negotiate(&o, Some(1));
                assert!(g.blksize.unwrap_or(8) <= 1468);
                assert!(g.windowsize.unwrap_or(1) <= 64);
            }
        }
    }
    let policy = ServerPolicy {
        allow_writes: data.first().is_some_and(|b| b & 1 == 1),
        ..ServerPolicy::default()
    };
    match accept(data, &policy) {
        Ok(acc) => assert!(!acc.filename.is_empty()),
        Err(rej) => {
            let mut out = [0u8; 128];
            if let Some(n) = rej.write_reply(&mut out) {
                assert!(matches!(Packet::parse(&out[..n]), Ok(Packet::Error { .. })));
            }
        }
    }
});
