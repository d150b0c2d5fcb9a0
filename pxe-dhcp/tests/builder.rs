//! Builder behaviour: replies, encapsulation, RFC 3396 splitting, overload.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::Ipv4Addr;

use pxe_dhcp::pxe::{BootItem, DiscoveryControl};
use pxe_dhcp::{
    Area, Builder, Error, Flags, MessageType, Op, Packet, RawOption, code, field, ipxe,
};

fn request(max_size: Option<u16>) -> Vec<u8> {
    let mut buf = vec![0u8; 1500];
    let mut b = Builder::new(&mut buf).unwrap();
    b.xid(0xdead_beef)
        .flags(Flags::BROADCAST)
        .giaddr(Ipv4Addr::new(10, 0, 0, 1))
        .chaddr(1, &[0x52, 0x54, 0, 1, 2, 3])
        .unwrap();
    b.message_type(MessageType::Discover).unwrap();
    if let Some(m) = max_size {
        b.u16_option(code::MAX_MESSAGE_SIZE, m).unwrap();
    }
    b.option(code::CLIENT_ARCH, &[0, 7]).unwrap();
    let n = b.finish().unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn reply_copies_request_fields() {
    let req = request(None);
    let req = Packet::new_checked(&req[..]).unwrap();
    let mut out = [0u8; 1500];
    let mut b = Builder::reply_to(&req, &mut out).unwrap();
    b.message_type(MessageType::Offer)
        .unwrap()
        .yiaddr(Ipv4Addr::new(10, 0, 0, 5))
        .siaddr(Ipv4Addr::new(10, 0, 0, 2));
    b.server_id(Ipv4Addr::new(10, 0, 0, 2)).unwrap();
    b.file(b"ipxe.efi").unwrap();
    let n = b.finish().unwrap();
    assert_eq!(n, 300, "padded to the BOOTP minimum");
    let p = Packet::new_checked(&out[..n]).unwrap();
    assert_eq!(p.op(), Op::Reply);
    assert_eq!(p.xid(), 0xdead_beef);
    assert_eq!(p.flags(), Flags::BROADCAST);
    assert_eq!(p.giaddr(), Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(p.chaddr(), &[0x52, 0x54, 0, 1, 2, 3]);
    assert_eq!(p.yiaddr(), Ipv4Addr::new(10, 0, 0, 5));
    assert_eq!(p.file(), Some(&b"ipxe.efi"[..]));
    assert_eq!(p.message_type().unwrap(), Some(MessageType::Offer));
    assert_eq!(p.server_id().unwrap(), Some(Ipv4Addr::new(10, 0, 0, 2)));
    // Padding after the end option is zero.
    assert!(out[..n].ends_with(&[0; 8]));
}

#[test]
fn pxe_and_ipxe_encapsulation_roundtrip() {
    let mut out = [0u8; 1500];
    let mut b = Builder::new(&mut out).unwrap();
    b.op(Op::Reply);
    b.pxe_options(|s| {
        s.discovery_control(DiscoveryControl::NO_BROADCAST | DiscoveryControl::NO_MULTICAST)?
            .boot_servers(&[(0x8000, &[Ipv4Addr::new(192, 168, 2, 1)])])?
            .boot_menu(&[(0x8000, b"one"), (0x8001, b"two")])?
            .menu_prompt(2, b"menu")?
            .boot_item(BootItem {
                kind: 0x8000,
                layer: 0,
            })?;
        Ok(())
    })
    .unwrap();
    b.encapsulated(code::IPXE_ENCAP, |s| {
        s.u8(ipxe::sub::FEATURE_HTTP, 1)?
            .option(ipxe::sub::VERSION, &[1, 21, 1])?
            .option(ipxe::sub::BUS_ID, &[1, 0x80, 0x86, 0x10, 0x0e])?;
        Ok(())
    })
    .unwrap();
    let n = b.finish().unwrap();
    let p = Packet::new_checked(&out[..n]).unwrap();
    let pxe = p.pxe_options().unwrap().unwrap();
    assert_eq!(pxe.discovery_control().unwrap().unwrap().bits(), 3);
    let servers: Vec<_> = pxe
        .boot_servers()
        .unwrap()
        .unwrap()
        .iter()
        .map(|s| (s.kind, s.addresses().collect::<Vec<_>>()))
        .collect();
    assert_eq!(servers, vec![(0x8000, vec![Ipv4Addr::new(192, 168, 2, 1)])]);
    let menu: Vec<_> = pxe
        .boot_menu()
        .unwrap()
        .unwrap()
        .iter()
        .map(|m| (m.kind, m.description))
        .collect();
    assert_eq!(menu, vec![(0x8000, &b"one"[..]), (0x8001, &b"two"[..])]);
    let prompt = pxe.menu_prompt().unwrap().unwrap();
    assert_eq!((prompt.timeout, prompt.prompt), (2, &b"menu"[..]));
    assert_eq!(pxe.boot_item().unwrap().unwrap().kind, 0x8000);
    assert_eq!(
        *pxe.as_bytes().last().unwrap(),
        255,
        "43 ends with the end sub-option"
    );
    let ip = p.ipxe_options().unwrap().unwrap();
    assert_eq!(ip.version().unwrap(), Some((1, 21, 1)));
    assert!(ip.has_feature(ipxe::sub::FEATURE_HTTP));
    let bus = ip.bus_id().unwrap().unwrap();
    assert_eq!((bus.bus_type, bus.vendor, bus.device), (1, 0x8086, 0x100e));
}

#[test]
fn long_values_are_split_per_rfc3396() {
    let value: Vec<u8> = (0..600u32).map(|i| i as u8).collect();
    let mut out = [0u8; 1500];
    let mut b = Builder::new(&mut out).unwrap();
    b.option(code::BOOTFILE_NAME, &value).unwrap();
    b.encapsulated(code::VENDOR_SPECIFIC, |s| {
        for i in 0..3u8 {
            s.option(128 + i, &[i; 200])?;
        }
        Ok(())
    })
    .unwrap();
    let n = b.finish().unwrap();
    let p = Packet::new_checked(&out[..n]).unwrap();
    let frags: Vec<usize> = p.fragments(code::BOOTFILE_NAME).map(<[u8]>::len).collect();
    assert_eq!(frags, vec![255, 255, 90]);
    assert!(p.is_split(code::BOOTFILE_NAME));
    let mut scratch = [0u8; 1024];
    assert_eq!(
        p.option_concat(code::BOOTFILE_NAME, &mut scratch)
            .unwrap()
            .unwrap(),
        &value[..]
    );
    assert_eq!(p.option_vec(code::BOOTFILE_NAME).unwrap(), value);
    // A borrowed typed view of a split option says so instead of lying.
    assert!(matches!(
        p.pxe_options(),
        Err(Error::Split { code: 43, parts: 3 })
    ));
    let mut scratch = [0u8; 1024];
    let joined = p
        .option_concat(code::VENDOR_SPECIFIC, &mut scratch)
        .unwrap()
        .unwrap();
    assert_eq!(joined.len(), 3 * 202);
    let pxe = pxe_dhcp::pxe::PxeOptions::parse(joined).unwrap();
    assert_eq!(pxe.get(130), Some(&[2u8; 200][..]));
    // Too small a scratch buffer is an error, not a panic.
    let mut small = [0u8; 10];
    assert!(matches!(
        p.option_concat(code::BOOTFILE_NAME, &mut small),
        Err(Error::BufferTooSmall {
            needed: 600,
            available: 10
        })
    ));
}

#[test]
fn overflow_moves_options_into_file_then_sname() {
    let req = request(None); // no option 57: 576 - 28 = 548 bytes
    let req = Packet::new_checked(&req[..]).unwrap();
    let mut out = [0u8; 1500];
    let mut b = Builder::reply_to(&req, &mut out).unwrap();
    b.message_type(MessageType::Offer).unwrap();
    let mut want = vec![(code::MESSAGE_TYPE, vec![2u8])];
    // 4 fit the options field, 2 go to file, 1 to sname.
    for i in 0..7u8 {
        let v = vec![i; 60];
        b.option(200 + i, &v).unwrap();
        want.push((200 + i, v));
    }
    let n = b.finish().unwrap();
    assert!(n <= 548, "{n}");
    let p = Packet::new_checked(&out[..n]).unwrap();
    assert_eq!(p.overload(), 3);
    let got: Vec<(u8, Vec<u8>)> = p
        .options()
        .map(|o| o.unwrap())
        .filter(|o| o.code != code::OVERLOAD)
        .map(|o| (o.code, o.data.to_vec()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(p.file(), None, "file carries options");
    // With a large option 57 everything stays in the options field.
    let req = request(Some(1472));
    let req = Packet::new_checked(&req[..]).unwrap();
    let mut b = Builder::reply_to(&req, &mut out).unwrap();
    for i in 0..6u8 {
        b.option(200 + i, &[i; 60]).unwrap();
    }
    let n = b.finish().unwrap();
    assert_eq!(Packet::new_checked(&out[..n]).unwrap().overload(), 0);
}

#[test]
fn overflow_with_file_in_use_uses_sname_or_fails() {
    let req = request(None);
    let req = Packet::new_checked(&req[..]).unwrap();
    let mut out = [0u8; 1500];
    let mut b = Builder::reply_to(&req, &mut out).unwrap();
    b.file(b"pxelinux.0").unwrap();
    for i in 0..5u8 {
        b.option(200 + i, &[i; 60]).unwrap();
    }
    let n = b.finish().unwrap();
    let p = Packet::new_checked(&out[..n]).unwrap();
    assert_eq!(p.overload(), 2);
    assert_eq!(p.file(), Some(&b"pxelinux.0"[..]));
    assert_eq!(p.options().filter(|o| o.unwrap().code >= 200).count(), 5);

    let mut b = Builder::reply_to(&req, &mut out).unwrap();
    b.file(b"pxelinux.0").unwrap().sname(b"server").unwrap();
    for i in 0..10u8 {
        b.option(200 + i, &[i; 60]).unwrap();
    }
    assert!(matches!(b.finish(), Err(Error::TooBig { .. })));
}

#[test]
fn small_buffers_are_errors_not_panics() {
    for len in 0..400 {
        let mut buf = vec![0u8; len];
        let r = Builder::new(&mut buf).and_then(|mut b| {
            b.message_type(MessageType::Ack)?;
            b.option(code::VENDOR_CLASS, b"PXEClient")?;
            b.encapsulated(code::VENDOR_SPECIFIC, |s| {
                s.option(6, &[8])?.option(10, &[0; 40])?;
                Ok(())
            })?;
            b.option(code::BOOTFILE_NAME, &[b'x'; 300])?;
            b.finish()
        });
        match r {
            Ok(n) => assert!(n <= len),
            Err(Error::BufferTooSmall { needed, available }) => {
                assert_eq!(available, len);
                assert!(needed > len);
            }
            Err(Error::TooBig { .. }) => {}
            Err(e) => panic!("{len}: {e}"),
        }
    }
}

#[test]
fn reserved_codes_are_refused() {
    let mut buf = [0u8; 600];
    let mut b = Builder::new(&mut buf).unwrap();
    for c in [0u8, 52, 255] {
        assert_eq!(
            b.option(c, b"x").unwrap_err(),
            Error::ReservedCode { code: c }
        );
    }
    assert!(b.chaddr(1, &[0; 17]).is_err());
    assert!(b.sname(&[b'a'; 65]).is_err());
    assert!(b.file(&[b'a'; 129]).is_err());
}

#[test]
fn failed_encapsulation_leaves_nothing_behind() {
    let mut buf = [0u8; 600];
    let mut b = Builder::new(&mut buf).unwrap();
    b.message_type(MessageType::Offer).unwrap();
    let before = b.options_len();
    let r = b.encapsulated(43, |s| {
        s.option(6, &[8])?;
        s.option(9, &[0; 300])?;
        Ok(())
    });
    assert!(matches!(r, Err(Error::ValueTooLong { .. })));
    assert_eq!(b.options_len(), before);
}

#[test]
fn parse_errors_name_code_and_offset() {
    let mut buf = [0u8; 600];
    let mut b = Builder::new(&mut buf).unwrap();
    b.message_type(MessageType::Discover).unwrap();
    let n = b.finish().unwrap();
    // Replace the end option with a truncated option 60 of claimed length 200.
    let mut pkt = buf[..n].to_vec();
    pkt[field::OPTIONS + 3] = 60;
    pkt[field::OPTIONS + 4] = 200;
    let err = Packet::new_checked(&pkt[..]).unwrap_err();
    assert_eq!(
        err,
        Error::Overrun {
            code: 60,
            offset: field::OPTIONS + 3,
            area: Area::Options,
            len: 200,
            available: n - field::OPTIONS - 5,
        }
    );
    assert!(err.to_string().contains("option 60 at offset 243"), "{err}");
    // Lenient parsing keeps what came before.
    let p = Packet::new_lenient(&pkt[..]).unwrap();
    assert_eq!(p.options_error(), Some(err));
    assert_eq!(p.message_type().unwrap(), Some(MessageType::Discover));
    let got: Vec<_> = p.options().collect();
    assert_eq!(
        got,
        vec![
            Ok(RawOption {
                code: 53,
                data: &[1][..]
            }),
            Err(err)
        ]
    );
    // Missing length byte at the very end.
    let mut pkt2 = buf[..field::OPTIONS + 4].to_vec();
    pkt2[field::OPTIONS + 3] = 61;
    assert!(matches!(
        Packet::new_checked(&pkt2[..]),
        Err(Error::MissingLength { code: 61, .. })
    ));
    // Header too short.
    assert_eq!(
        Packet::new_checked(&buf[..235]).unwrap_err(),
        Error::TooShort { len: 235 }
    );
    // Plain BOOTP (no cookie): readable, no options.
    let mut bootp = buf[..300].to_vec();
    bootp[field::COOKIE].fill(0);
    let p = Packet::new_checked(&bootp[..]).unwrap();
    assert!(!p.has_cookie());
    assert_eq!(p.options().count(), 0);
    assert_eq!(p.message_type().unwrap(), None);
}

#[cfg(feature = "bytes")]
#[test]
fn finish_into_bufmut() {
    let mut buf = [0u8; 600];
    let mut b = Builder::new(&mut buf).unwrap();
    b.message_type(MessageType::Inform).unwrap();
    let mut out = bytes::BytesMut::new();
    let n = b.finish_into(&mut out).unwrap();
    assert_eq!(out.len(), n);
    assert_eq!(
        Packet::new_checked(&out[..])
            .unwrap()
            .message_type()
            .unwrap(),
        Some(MessageType::Inform)
    );
}

#[test]
fn overload_is_found_after_an_option_that_once_shared_its_index_slot() {
    // 94 and 52 shared a slot of an earlier hashed index; 94 comes first.
    let mut pkt = vec![0u8; 300];
    pkt[field::COOKIE].copy_from_slice(&pxe_dhcp::MAGIC_COOKIE);
    let opts = [94, 3, 1, 3, 0, 52, 1, 1, 255];
    pkt[field::OPTIONS..field::OPTIONS + opts.len()].copy_from_slice(&opts);
    pkt[field::FILE.start..field::FILE.start + 6].copy_from_slice(&[67, 3, b'a', b'.', b'b', 255]);
    let p = Packet::new_checked(&pkt[..]).unwrap();
    assert_eq!(p.overload(), 1);
    assert_eq!(p.option(code::OVERLOAD), Some(&[1u8][..]));
    assert_eq!(p.bootfile_name().unwrap(), Some(&b"a.b"[..]));
    assert_eq!(p.file(), None);
    let codes: Vec<u8> = p.options().map(|o| o.unwrap().code).collect();
    assert_eq!(codes, vec![94, 52, 67]);
}

#[test]
fn options_beyond_the_index_offsets_are_found_by_a_walk() {
    // A jumbo datagram: the index holds offsets below 32 KiB, so these
    // options are found by walking, with the same answers.
    let mut pkt = vec![0u8; 33_000];
    pkt[field::COOKIE].copy_from_slice(&pxe_dhcp::MAGIC_COOKIE);
    let at = 32_900;
    let opts = [53, 1, 1, 60, 1, b'x', 60, 2, b'y', b'z', 255];
    pkt[at..at + opts.len()].copy_from_slice(&opts);
    let p = Packet::new_checked(&pkt[..]).unwrap();
    assert_eq!(p.message_type().unwrap(), Some(MessageType::Discover));
    assert_eq!(p.option(60), Some(&b"x"[..]));
    assert!(p.is_split(60));
    assert!(!p.is_split(53));
    assert_eq!(p.option_at_least(60, 2), Some(&b"yz"[..]));
    assert_eq!(p.option_vec(60).unwrap(), b"xyz");
    assert_eq!(p.option(61), None);
}

/// Options of a finished message in wire order, fragments separately.
fn wire_options(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    Packet::new_checked(bytes)
        .unwrap()
        .options()
        .map(|o| o.unwrap())
        .map(|o| (o.code, o.data.to_vec()))
        .collect()
}

#[test]
fn sub_option_lists_split_between_sub_options() {
    let mut out = [0u8; 1500];
    let mut b = Builder::new(&mut out).unwrap();
    b.encap_options(code::IPXE_ENCAP, |s| {
        for i in 0..3u8 {
            s.option(128 + i, &[i; 200])?;
        }
        s.end()?;
        Ok(())
    })
    .unwrap();
    let n = b.finish().unwrap();
    let opts = wire_options(&out[..n]);
    let lens: Vec<usize> = opts.iter().map(|(_, v)| v.len()).collect();
    assert_eq!(
        lens,
        [202, 202, 203],
        "whole sub-options, the end with the last"
    );
    for (i, (c, v)) in opts.iter().enumerate() {
        assert_eq!(*c, code::IPXE_ENCAP);
        assert_eq!(
            v[..2],
            [128 + i as u8, 200],
            "fragment {i} starts a sub-option"
        );
    }
    assert_eq!(opts[2].1.last(), Some(&255));
    // Short lists are one option, exactly as written.
    let mut out = [0u8; 600];
    let mut b = Builder::new(&mut out).unwrap();
    b.encap_options(code::IPXE_ENCAP, |s| {
        s.u8(176, 1)?.end()?;
        Ok(())
    })
    .unwrap();
    let n = b.finish().unwrap();
    assert_eq!(wire_options(&out[..n]), [(175, vec![176, 1, 1, 255])]);
}

#[test]
fn a_sub_option_too_long_for_one_fragment_is_cut() {
    let mut out = [0u8; 1500];
    let mut b = Builder::new(&mut out).unwrap();
    b.encap_options(code::VENDOR_SPECIFIC, |s| {
        s.option(1, &[7; 2])?.option(2, &[9; 255])?.end()?;
        Ok(())
    })
    .unwrap();
    let n = b.finish().unwrap();
    let opts = wire_options(&out[..n]);
    let lens: Vec<usize> = opts.iter().map(|(_, v)| v.len()).collect();
    assert_eq!(lens, [4, 255, 3]);
    let joined: Vec<u8> = opts.iter().flat_map(|(_, v)| v.clone()).collect();
    let mut want = vec![1, 2, 7, 7, 2, 255];
    want.extend_from_slice(&[9; 255]);
    want.push(255);
    assert_eq!(joined, want, "RFC 3396: the fragments join to the list");
}

#[test]
fn option_parts_join_and_split() {
    let mut out = [0u8; 1500];
    let mut b = Builder::new(&mut out).unwrap();
    b.option_parts(code::BOOTFILE_NAME, [&b"pxelinux.0"[..], &[0]])
        .unwrap();
    b.option_parts(code::ROUTER, [&[10u8, 0][..], &[0, 1], &[]])
        .unwrap();
    let long = [b'x'; 300];
    b.option_parts(code::ROOT_PATH, [&long[..200], &long[200..]])
        .unwrap();
    let n = b.finish().unwrap();
    let opts = wire_options(&out[..n]);
    assert_eq!(opts[0], (67, b"pxelinux.0\0".to_vec()));
    assert_eq!(opts[1], (3, vec![10, 0, 0, 1]));
    assert_eq!((opts[2].0, opts[2].1.len()), (17, 255));
    assert_eq!((opts[3].0, opts[3].1.len()), (17, 45));
    // Too small a buffer: an error, and nothing of the option stays.
    let mut small = [0u8; 260];
    let mut b = Builder::new(&mut small).unwrap();
    let before = b.options_len();
    assert!(b.option_parts(17, [&long[..10], &long[10..]]).is_err());
    assert_eq!(b.options_len(), before);
}

#[test]
fn vendor_identifying_blocks() {
    let mut out = [0u8; 1500];
    let mut b = Builder::new(&mut out).unwrap();
    b.vendor_identifying(|vi| {
        vi.enterprise(3561, |s| {
            s.option(1, b"abc")?;
            Ok(())
        })?
        .enterprise(9, |_| Ok(()))?;
        Ok(())
    })
    .unwrap();
    let before = b.options_len();
    let r = b.vendor_identifying(|vi| {
        vi.enterprise(1, |s| {
            s.option(1, &[0; 200])?.option(2, &[0; 100])?;
            Ok(())
        })?;
        Ok(())
    });
    assert!(matches!(r, Err(Error::ValueTooLong { .. })), "{r:?}");
    assert_eq!(b.options_len(), before, "a refused block leaves nothing");
    let n = b.finish().unwrap();
    assert_eq!(
        wire_options(&out[..n]),
        [(
            125,
            vec![0, 0, 0x0d, 0xe9, 5, 1, 3, b'a', b'b', b'c', 0, 0, 0, 9, 0]
        )]
    );
}

#[test]
fn menu_and_server_entries_from_iterators() {
    let servers = [
        (0x8000u16, Ipv4Addr::new(10, 0, 0, 1)),
        (0x8001, Ipv4Addr::new(10, 0, 0, 2)),
    ];
    let menu = [(0x8000u16, "one".to_string()), (0x8001, "two".to_string())];
    let build = |iterators: bool| {
        let mut out = [0u8; 600];
        let mut b = Builder::new(&mut out).unwrap();
        b.pxe_options(|s| {
            if iterators {
                s.boot_server_entries(servers.iter().map(|(k, a)| (*k, [*a])))?
                    .boot_menu_entries(menu.iter().map(|(k, d)| (*k, d.as_bytes())))?;
            } else {
                s.boot_servers(&[
                    (0x8000, &[Ipv4Addr::new(10, 0, 0, 1)]),
                    (0x8001, &[Ipv4Addr::new(10, 0, 0, 2)]),
                ])?
                .boot_menu(&[(0x8000, b"one"), (0x8001, b"two")])?;
            }
            Ok(())
        })
        .unwrap();
        let n = b.finish().unwrap();
        out[..n].to_vec()
    };
    assert_eq!(build(true), build(false));
}
