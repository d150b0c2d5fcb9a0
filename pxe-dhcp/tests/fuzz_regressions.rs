//! Inputs the fuzz targets once failed on: the lookup index, the iterator
//! and the constructor must agree on them.
#![allow(clippy::unwrap_used, clippy::panic)]

use pxe_dhcp::{Error, Packet};

fn check(bytes: &[u8]) -> Packet<&[u8]> {
    let p = Packet::new_lenient(bytes).unwrap();
    let mut walked = Vec::new();
    let mut err = None;
    for o in p.options() {
        match o {
            Ok(o) => walked.push((o.code, o.data)),
            Err(e) => err = Some(e),
        }
    }
    assert_eq!(err, p.options_error());
    assert_eq!(Packet::new_checked(bytes).err(), err);
    for c in 1..=254u8 {
        let first = walked.iter().find(|(k, _)| *k == c).map(|(_, v)| *v);
        assert_eq!(p.option(c), first, "option({c})");
    }
    p
}

#[test]
fn invalid_overload_is_not_indexed() {
    let bytes = include_bytes!("fuzz-regressions/overload-invalid-then-indexed.bin");
    let p = check(bytes);
    assert!(matches!(
        p.options_error(),
        Some(Error::BadOverload { value: 5, .. })
    ));
    assert_eq!(p.option(52), None);
}

#[test]
fn every_overload_option_is_validated() {
    let bytes = include_bytes!("fuzz-regressions/second-overload-invalid.bin");
    let p = check(bytes);
    assert!(matches!(
        p.options_error(),
        Some(Error::BadOverload { len: 27, .. })
    ));
}

#[test]
fn collided_lookup_stops_at_a_framing_error() {
    // An option overruns the options field; option 8 sits in the overloaded
    // file field behind it and must stay unreachable, as for the iterator.
    let bytes = include_bytes!("fuzz-regressions/collision-lookup-past-framing-error.bin");
    let p = check(bytes);
    assert!(matches!(
        p.options_error(),
        Some(Error::Overrun {
            code: 192,
            offset: 288,
            ..
        })
    ));
    assert_eq!(p.option(8), None);
}

#[test]
fn collided_lookup_of_an_invalid_overload() {
    // Found when 94 and 52 shared a slot of an earlier hashed index; the
    // 52 that follows is invalid.
    let bytes = include_bytes!("fuzz-regressions/collision-with-invalid-overload.bin");
    let p = check(bytes);
    assert!(matches!(
        p.options_error(),
        Some(Error::BadOverload { len: 23, .. })
    ));
    assert_eq!(p.option(52), None);
}
