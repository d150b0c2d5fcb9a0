//! Property tests of the codec: whatever is built parses back to the same
//! fields, and arbitrary bytes never panic the parser or `accept`.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::panic)]

use proptest::prelude::*;
use pxe_tftp::server::{ServerPolicy, accept};
use pxe_tftp::wire::{
    ErrorCode, OptionWriter, Packet, RequestKind, write_ack, write_data, write_error,
};

fn nonul(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(1u8..=255, 0..max)
}

proptest! {
    #[test]
    fn request_round_trip(
        write in any::<bool>(),
        name in nonul(100),
        mode in nonul(10),
        opts in prop::collection::vec((nonul(12).prop_filter("name", |n| !n.is_empty()), nonul(12)), 0..6),
    ) {
        let kind = if write { RequestKind::Write } else { RequestKind::Read };
        let mut buf = vec![0u8; 2048];
        let mut w = OptionWriter::request(&mut buf, kind, &name, &mode).unwrap();
        for (n, v) in &opts {
            w.option(n, v).unwrap();
        }
        let len = w.finish();
        match Packet::parse(&buf[..len]).unwrap() {
            Packet::Request(r) => {
                prop_assert_eq!(r.kind, kind);
                prop_assert_eq!(r.filename, &name[..]);
                prop_assert_eq!(r.mode, &mode[..]);
                let got: Vec<(Vec<u8>, Vec<u8>)> =
                    r.options.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
                prop_assert_eq!(got, opts);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn data_ack_error_round_trip(block in any::<u16>(), data in prop::collection::vec(any::<u8>(), 0..600), code in any::<u16>(), msg in nonul(80)) {
        let mut buf = vec![0u8; 700];
        let n = write_data(&mut buf, block, &data).unwrap();
        prop_assert_eq!(Packet::parse(&buf[..n]).unwrap(), Packet::Data { block, data: &data });
        let n = write_ack(&mut buf, block).unwrap();
        prop_assert_eq!(Packet::parse(&buf[..n]).unwrap(), Packet::Ack { block });
        let n = write_error(&mut buf, ErrorCode(code), &msg).unwrap();
        prop_assert_eq!(Packet::parse(&buf[..n]).unwrap(), Packet::Error { code: ErrorCode(code), message: &msg });
    }

    #[test]
    fn garbage_never_panics(data in prop::collection::vec(any::<u8>(), 0..200), writes in any::<bool>()) {
        let _ = Packet::parse(&data);
        let policy = ServerPolicy { allow_writes: writes, ..ServerPolicy::default() };
        if let Err(rej) = accept(&data, &policy) {
            let mut out = [0u8; 128];
            if let Some(n) = rej.write_reply(&mut out) {
                let is_error = matches!(Packet::parse(&out[..n]), Ok(Packet::Error { .. }));
                prop_assert!(is_error);
            }
        }
    }
}
