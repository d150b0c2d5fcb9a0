//! Property tests: build -> parse round trips for every typed option and
//! for arbitrary option lists; arbitrary bytes never panic.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::Ipv4Addr;

use proptest::prelude::*;
use pxe_dhcp::pxe::{BootItem, DiscoveryControl};
use pxe_dhcp::{
    Builder, ClientArch, ClientUuid, Flags, MessageType, Packet, VendorKind, code, field, ipxe,
    relay,
};

/// Calls every accessor and typed view; must never panic.
fn touch_everything(bytes: &[u8]) {
    let Ok(p) = Packet::new_lenient(bytes) else {
        assert!(bytes.len() < 236);
        return;
    };
    let _ = Packet::new_checked(bytes);
    let _ = (
        p.op(),
        p.htype(),
        p.hlen(),
        p.hops(),
        p.xid(),
        p.secs(),
        p.flags(),
    );
    let _ = (
        p.ciaddr(),
        p.yiaddr(),
        p.siaddr(),
        p.giaddr(),
        p.chaddr(),
        p.mac(),
    );
    let _ = (
        p.sname(),
        p.file(),
        p.boot_file_name(),
        p.overload(),
        p.has_cookie(),
    );
    for o in p.options().flatten() {
        {
            let _ = p.option(o.code);
            let _ = p.fragments(o.code).count();
            let mut scratch = [0u8; 64];
            let _ = p.option_concat(o.code, &mut scratch);
            let _ = p.option_vec(o.code);
        }
    }
    let _ = p.message_type();
    let _ = p.parameter_request_list().map(|l| l.map(|l| l.contains(1)));
    let _ = (p.max_message_size(), p.max_message_size_effective());
    let _ = p
        .client_id()
        .map(|c| c.map(|c| (c.kind(), c.id(), c.mac())));
    let _ = (
        p.server_id(),
        p.requested_ip(),
        p.lease_time(),
        p.renewal_time(),
    );
    let _ = (p.rebinding_time(), p.subnet_mask(), p.broadcast_address());
    let _ = p.routers().map(|r| r.map(|r| r.iter().count()));
    let _ = p.dns_servers().map(|r| r.map(|r| r.first()));
    let _ = (
        p.host_name(),
        p.domain_name(),
        p.tftp_server_name(),
        p.bootfile_name(),
    );
    let _ = p.vendor_class().map(|v| v.map(|v| v.parse()));
    let _ = p.user_class().map(|u| u.map(|u| u.classes().count()));
    let _ = p
        .client_arch()
        .map(|a| a.map(|a| (a.first(), a.iter().count())));
    let _ = p.client_ndi();
    let _ = p
        .client_uuid()
        .map(|u| u.map(|u| (u.wire_text(), u.guid_text())));
    if let Ok(Some(x)) = p.pxe_options() {
        let _ = x.iter().count();
        let _ = x.discovery_control();
        let _ = x
            .boot_servers()
            .map(|s| s.map(|s| s.iter().map(|e| e.addresses().count()).sum::<usize>()));
        let _ = x.boot_menu().map(|m| m.map(|m| m.iter().count()));
        let _ = (x.menu_prompt(), x.boot_item(), x.mtftp_ip());
    }
    if let Ok(Some(x)) = p.ipxe_options() {
        let _ = x.features().count();
        let _ = (
            x.version(),
            x.bus_id(),
            x.priority(),
            x.no_pxedhcp(),
            x.keep_san(),
        );
        let _ = (
            x.skip_san_boot(),
            x.san_drive(),
            x.scriptlet(),
            x.username(),
        );
    }
    let _ = p.pxelinux();
    if let Ok(Some(r)) = p.relay_agent_info() {
        let _ = (
            r.circuit_id(),
            r.remote_id(),
            r.link_selection(),
            r.server_id_override(),
        );
    }
}

fn header_then(options: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8; field::OPTIONS];
    v[field::HLEN] = 6;
    v[field::COOKIE].copy_from_slice(&pxe_dhcp::MAGIC_COOKIE);
    v.extend_from_slice(options);
    v
}

fn built(f: impl FnOnce(&mut Builder<'_>) -> Result<(), pxe_dhcp::Error>) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let mut b = Builder::new(&mut buf).unwrap();
    f(&mut b).unwrap();
    let n = b.finish().unwrap();
    buf.truncate(n);
    buf
}

fn code_strategy() -> impl Strategy<Value = u8> {
    (1u8..=254).prop_filter("52 is managed by the builder", |c| *c != code::OVERLOAD)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..700)) {
        touch_everything(&bytes);
    }

    #[test]
    fn arbitrary_options_never_panic(opts in prop::collection::vec(any::<u8>(), 0..500), overload in 0u8..4) {
        let mut v = header_then(&[52, 1, overload]);
        v.extend_from_slice(&opts);
        // Random file and sname too, for the overload areas.
        for (i, b) in opts.iter().take(192).enumerate() {
            v[field::SNAME.start + i] = *b;
        }
        touch_everything(&v);
        touch_everything(&header_then(&opts));
    }

    #[test]
    fn option_lists_roundtrip(list in prop::collection::vec((code_strategy(), prop::collection::vec(any::<u8>(), 0..400)), 0..8)) {
        let buf = built(|b| {
            for (c, v) in &list {
                b.option(*c, v)?;
            }
            Ok(())
        });
        let p = Packet::new_checked(&buf[..]).unwrap();
        let mut want = Vec::new();
        for (c, v) in &list {
            if v.is_empty() {
                want.push((*c, Vec::new()));
            }
            for chunk in v.chunks(255) {
                want.push((*c, chunk.to_vec()));
            }
        }
        let got: Vec<(u8, Vec<u8>)> = p.options().map(|o| o.unwrap()).map(|o| (o.code, o.data.to_vec())).collect();
        // The lookup index agrees with a plain walk for every code, whatever
        // the hash collisions between the codes present.
        for c in 1..=254u8 {
            let frags: Vec<&[u8]> = want.iter().filter(|(k, _)| *k == c).map(|(_, v)| &v[..]).collect();
            prop_assert_eq!(p.option(c), frags.first().copied(), "option({})", c);
            prop_assert_eq!(p.has_option(c), !frags.is_empty());
            prop_assert_eq!(p.is_split(c), frags.len() > 1, "is_split({})", c);
        }
        prop_assert_eq!(got, want);
    }

    #[test]
    fn overloaded_option_lists_keep_rfc3396_values(
        list in prop::collection::vec((code_strategy(), prop::collection::vec(any::<u8>(), 1..300)), 1..6),
        file_used in any::<bool>(),
    ) {
        let mut buf = vec![0u8; 4096];
        let mut b = Builder::new(&mut buf).unwrap();
        b.max_message_size(576);
        if file_used {
            b.file(b"boot.efi").unwrap();
        }
        for (c, v) in &list {
            b.option(*c, v).unwrap();
        }
        let total: usize = list.iter().map(|(_, v)| v.len() + 2 * v.len().div_ceil(255)).sum();
        match b.finish() {
            Ok(n) => {
                prop_assert!(n <= 548);
                let p = Packet::new_checked(&buf[..n]).unwrap();
                if total + 1 > 548 - 240 {
                    prop_assert_ne!(p.overload(), 0);
                }
                if file_used {
                    prop_assert_eq!(p.file(), Some(&b"boot.efi"[..]));
                }
                // Every code's concatenated value (RFC 3396) is preserved.
                for (c, _) in &list {
                    let want: Vec<u8> = list.iter().filter(|(k, _)| k == c).flat_map(|(_, v)| v.clone()).collect();
                    prop_assert_eq!(p.option_vec(*c).unwrap(), want);
                }
            }
            Err(pxe_dhcp::Error::TooBig { needed, limit }) => {
                // Greedy, order-keeping packing: it may give up slightly
                // below the summed capacity, never when no overflow is needed.
                prop_assert_eq!(needed, total + 1);
                prop_assert!(limit <= 548 - 244 + 127 + 64);
                prop_assert!(total + 1 > 548 - 240);
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn header_roundtrip(xid in any::<u32>(), secs in any::<u16>(), flags in any::<u16>(), addrs in any::<[u32; 4]>(), mac in prop::collection::vec(any::<u8>(), 0..=16), hops in any::<u8>()) {
        let buf = built(|b| {
            b.xid(xid).secs(secs).flags(Flags::from_bits_retain(flags)).hops(hops)
                .ciaddr(Ipv4Addr::from(addrs[0])).yiaddr(Ipv4Addr::from(addrs[1]))
                .siaddr(Ipv4Addr::from(addrs[2])).giaddr(Ipv4Addr::from(addrs[3]))
                .chaddr(6, &mac)?;
            Ok(())
        });
        let p = Packet::new_checked(&buf[..]).unwrap();
        prop_assert_eq!((p.xid(), p.secs(), p.flags().bits(), p.hops()), (xid, secs, flags, hops));
        prop_assert_eq!([p.ciaddr(), p.yiaddr(), p.siaddr(), p.giaddr()].map(u32::from), addrs);
        prop_assert_eq!(p.chaddr(), &mac[..]);
        prop_assert_eq!(p.htype(), 6);
    }

    #[test]
    fn scalar_options_roundtrip(t in any::<u8>(), mms in any::<u16>(), lease in any::<u32>(), t1 in any::<u32>(), t2 in any::<u32>(), ips in any::<[u32; 4]>(), ndi in any::<[u8; 3]>(), uuid in any::<[u8; 16]>(), uuid_kind in any::<u8>()) {
        let buf = built(|b| {
            b.message_type(MessageType::from(t))?
                .u16_option(code::MAX_MESSAGE_SIZE, mms)?
                .lease_time(lease)?
                .u32_option(code::RENEWAL_TIME, t1)?
                .u32_option(code::REBINDING_TIME, t2)?
                .server_id(Ipv4Addr::from(ips[0]))?
                .ipv4_option(code::REQUESTED_IP, Ipv4Addr::from(ips[1]))?
                .ipv4_option(code::SUBNET_MASK, Ipv4Addr::from(ips[2]))?
                .ipv4_option(code::BROADCAST, Ipv4Addr::from(ips[3]))?
                .option(code::CLIENT_NDI, &ndi)?
                .client_uuid(&ClientUuid { kind: uuid_kind, bytes: uuid })?;
            Ok(())
        });
        let p = Packet::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(u8::from(p.message_type().unwrap().unwrap()), t);
        prop_assert_eq!(p.max_message_size().unwrap(), Some(mms));
        prop_assert_eq!(p.max_message_size_effective(), mms.max(576));
        prop_assert_eq!((p.lease_time().unwrap(), p.renewal_time().unwrap(), p.rebinding_time().unwrap()), (Some(lease), Some(t1), Some(t2)));
        prop_assert_eq!(p.server_id().unwrap(), Some(Ipv4Addr::from(ips[0])));
        prop_assert_eq!(p.requested_ip().unwrap(), Some(Ipv4Addr::from(ips[1])));
        prop_assert_eq!(p.subnet_mask().unwrap(), Some(Ipv4Addr::from(ips[2])));
        prop_assert_eq!(p.broadcast_address().unwrap(), Some(Ipv4Addr::from(ips[3])));
        prop_assert_eq!(p.client_ndi().unwrap().unwrap().to_bytes(), ndi);
        let u = p.client_uuid().unwrap().unwrap();
        prop_assert_eq!((u.kind, u.bytes), (uuid_kind, uuid));
        // Swapping twice is the identity; the two texts agree after a swap.
        let swapped = ClientUuid { kind: 0, bytes: u.swapped() };
        prop_assert_eq!(swapped.swapped(), uuid);
        prop_assert_eq!(swapped.wire_text(), u.guid_text());
    }

    #[test]
    fn list_options_roundtrip(archs in prop::collection::vec(any::<u16>(), 1..8), routers in prop::collection::vec(any::<u32>(), 1..8), prl in prop::collection::vec(any::<u8>(), 0..60), id in prop::collection::vec(any::<u8>(), 2..40)) {
        let arch_bytes: Vec<u8> = archs.iter().flat_map(|a| a.to_be_bytes()).collect();
        let router_ips: Vec<Ipv4Addr> = routers.iter().map(|r| Ipv4Addr::from(*r)).collect();
        let buf = built(|b| {
            b.option(code::CLIENT_ARCH, &arch_bytes)?
                .ipv4_list_option(code::ROUTER, &router_ips)?
                .option(code::PARAMETER_REQUEST_LIST, &prl)?
                .option(code::CLIENT_ID, &id)?;
            Ok(())
        });
        let p = Packet::new_checked(&buf[..]).unwrap();
        let got: Vec<u16> = p.client_arch().unwrap().unwrap().iter().map(|a| a.0).collect();
        prop_assert_eq!(&got, &archs);
        prop_assert!(p.client_arch().unwrap().unwrap().contains(ClientArch(archs[0])));
        prop_assert_eq!(p.routers().unwrap().unwrap().iter().collect::<Vec<_>>(), router_ips);
        prop_assert_eq!(p.parameter_request_list().unwrap().unwrap().codes(), &prl[..]);
        let cid = p.client_id().unwrap().unwrap();
        prop_assert_eq!((cid.kind(), cid.id()), (id[0], &id[1..]));
    }

    #[test]
    fn text_and_dns_options_roundtrip(
        names in prop::collection::vec(prop::collection::vec(1u8..=255, 1..60), 4),
        dns in prop::collection::vec(any::<u32>(), 1..6),
    ) {
        let dns_ips: Vec<Ipv4Addr> = dns.iter().map(|d| Ipv4Addr::from(*d)).collect();
        let buf = built(|b| {
            b.option(code::HOST_NAME, &names[0])?
                .option(code::DOMAIN_NAME, &names[1])?
                .option(code::TFTP_SERVER_NAME, &names[2])?
                .option(code::BOOTFILE_NAME, &names[3])?
                .ipv4_list_option(code::DNS_SERVERS, &dns_ips)?;
            Ok(())
        });
        let p = Packet::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(p.host_name().unwrap(), Some(&names[0][..]));
        prop_assert_eq!(p.domain_name().unwrap(), Some(&names[1][..]));
        prop_assert_eq!(p.tftp_server_name().unwrap(), Some(&names[2][..]));
        prop_assert_eq!(p.bootfile_name().unwrap(), Some(&names[3][..]));
        prop_assert_eq!(p.boot_file_name(), Some(&names[3][..]));
        prop_assert_eq!(p.dns_servers().unwrap().unwrap().iter().collect::<Vec<_>>(), dns_ips);
    }

    #[test]
    fn vendor_class_roundtrip(arch in any::<u16>(), major in 0u16..1000, minor in 0u16..1000, http in any::<bool>(), hex in any::<bool>()) {
        let vendor = if http { "HTTPClient" } else { "PXEClient" };
        let arch_text = if hex { format!("{arch:05X}") } else { format!("{arch:05}") };
        let text = format!("{vendor}:Arch:{arch_text}:UNDI:{major:03}{minor:03}");
        let buf = built(|b| { b.option(code::VENDOR_CLASS, text.as_bytes())?; Ok(()) });
        let p = Packet::new_checked(&buf[..]).unwrap();
        let info = p.vendor_class().unwrap().unwrap().parse();
        prop_assert_eq!(info.kind, if http { VendorKind::Http } else { VendorKind::Pxe });
        prop_assert_eq!(info.undi, Some((major, minor)));
        // Hex is recognised only when it is not valid decimal.
        let ambiguous = hex && arch_text.bytes().all(|c| c.is_ascii_digit());
        if !ambiguous {
            prop_assert_eq!(info.arch, Some(arch));
            prop_assert_eq!(info.quirks.contains(pxe_dhcp::VendorQuirks::ARCH_HEX), hex);
        }
    }

    #[test]
    fn user_class_roundtrip(classes in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..20), 1..5)) {
        let mut raw = Vec::new();
        for c in &classes {
            raw.push(c.len() as u8);
            raw.extend_from_slice(c);
        }
        let buf = built(|b| { b.option(code::USER_CLASS, &raw)?; Ok(()) });
        let p = Packet::new_checked(&buf[..]).unwrap();
        let uc = p.user_class().unwrap().unwrap();
        prop_assert!(uc.is_rfc3004());
        prop_assert_eq!(uc.classes().map(<[u8]>::to_vec).collect::<Vec<_>>(), classes.clone());
        prop_assert!(uc.contains(&classes[0]));
    }

    #[test]
    fn pxe_suboptions_roundtrip(
        dc in any::<u8>(),
        servers in prop::collection::vec((any::<u16>(), prop::collection::vec(any::<u32>(), 0..4)), 1..4),
        menu in prop::collection::vec((any::<u16>(), prop::collection::vec(any::<u8>(), 0..30)), 1..4),
        timeout in any::<u8>(), prompt in prop::collection::vec(any::<u8>(), 0..40),
        item in any::<(u16, u16)>(),
    ) {
        let servers: Vec<(u16, Vec<Ipv4Addr>)> = servers.into_iter().map(|(k, a)| (k, a.into_iter().map(Ipv4Addr::from).collect())).collect();
        let buf = built(|b| {
            b.pxe_options(|s| {
                let sv: Vec<(u16, &[Ipv4Addr])> = servers.iter().map(|(k, a)| (*k, &a[..])).collect();
                let mv: Vec<(u16, &[u8])> = menu.iter().map(|(k, d)| (*k, &d[..])).collect();
                s.discovery_control(DiscoveryControl::from_bits_retain(dc))?
                    .boot_servers(&sv)?
                    .boot_menu(&mv)?
                    .menu_prompt(timeout, &prompt)?
                    .boot_item(BootItem { kind: item.0, layer: item.1 })?;
                Ok(())
            })?;
            Ok(())
        });
        let p = Packet::new_checked(&buf[..]).unwrap();
        let pxe = p.pxe_options().unwrap().unwrap();
        prop_assert_eq!(pxe.discovery_control().unwrap().unwrap().bits(), dc);
        let got: Vec<(u16, Vec<Ipv4Addr>)> = pxe.boot_servers().unwrap().unwrap().iter().map(|s| (s.kind, s.addresses().collect())).collect();
        prop_assert_eq!(got, servers);
        let got: Vec<(u16, Vec<u8>)> = pxe.boot_menu().unwrap().unwrap().iter().map(|m| (m.kind, m.description.to_vec())).collect();
        prop_assert_eq!(got, menu);
        let mp = pxe.menu_prompt().unwrap().unwrap();
        prop_assert_eq!((mp.timeout, mp.prompt), (timeout, &prompt[..]));
        let bi = pxe.boot_item().unwrap().unwrap();
        prop_assert_eq!((bi.kind, bi.layer), item);
    }

    #[test]
    fn ipxe_pxelinux_relay_roundtrip(
        features in prop::collection::vec((0x10u8..=0x4f, 1u8..=255), 0..10),
        version in any::<[u8; 3]>(), bus in any::<[u8; 5]>(), prio in any::<i8>(),
        config in prop::collection::vec(any::<u8>(), 1..100), prefix in prop::collection::vec(any::<u8>(), 1..100), reboot in any::<u32>(),
        circuit in prop::collection::vec(any::<u8>(), 0..20), remote in prop::collection::vec(any::<u8>(), 0..20), link in any::<u32>(),
    ) {
        let buf = built(|b| {
            b.encapsulated(code::IPXE_ENCAP, |s| {
                s.u8(ipxe::sub::PRIORITY, prio as u8)?.option(ipxe::sub::VERSION, &version)?.option(ipxe::sub::BUS_ID, &bus)?;
                for (c, v) in &features {
                    s.u8(*c, *v)?;
                }
                Ok(())
            })?;
            b.option(code::PXELINUX_MAGIC, &pxe_dhcp::pxelinux::MAGIC)?
                .option(code::PXELINUX_CONFIGFILE, &config)?
                .option(code::PXELINUX_PATHPREFIX, &prefix)?
                .u32_option(code::PXELINUX_REBOOTTIME, reboot)?;
            b.encapsulated(code::RELAY_AGENT_INFO, |s| {
                s.option(relay::sub::CIRCUIT_ID, &circuit)?.option(relay::sub::REMOTE_ID, &remote)?.u32(relay::sub::LINK_SELECTION, link)?;
                Ok(())
            })?;
            Ok(())
        });
        let p = Packet::new_checked(&buf[..]).unwrap();
        let x = p.ipxe_options().unwrap().unwrap();
        prop_assert_eq!(x.version().unwrap(), Some((version[0], version[1], version[2])));
        let bid = x.bus_id().unwrap().unwrap();
        prop_assert_eq!((bid.bus_type, bid.vendor.to_be_bytes(), bid.device.to_be_bytes()), (bus[0], [bus[1], bus[2]], [bus[3], bus[4]]));
        prop_assert_eq!(x.priority().unwrap(), Some(prio));
        prop_assert_eq!(x.features().collect::<Vec<_>>(), features);
        let l = p.pxelinux().unwrap();
        prop_assert!(l.magic);
        prop_assert_eq!(l.config_file, Some(&config[..]));
        prop_assert_eq!(l.path_prefix, Some(&prefix[..]));
        prop_assert_eq!(l.reboot_time, Some(reboot));
        let r = p.relay_agent_info().unwrap().unwrap();
        prop_assert_eq!(r.circuit_id(), Some(&circuit[..]));
        prop_assert_eq!(r.remote_id(), Some(&remote[..]));
        prop_assert_eq!(r.link_selection().unwrap(), Some(Ipv4Addr::from(link)));
    }
}

#[test]
fn vendor_class_quirks() {
    use pxe_dhcp::{VendorClass, VendorQuirks};
    let v = VendorClass(b"PXEClient:Arch:0000B:UNDI:003016").parse();
    assert_eq!((v.arch, v.undi), (Some(11), Some((3, 16))));
    assert_eq!(v.quirks, VendorQuirks::ARCH_HEX);
    let v = VendorClass(b"PXEClient:Arch:00011:UNDI:003016").parse();
    assert_eq!(v.arch, Some(11));
    assert!(v.quirks.is_empty());
    let v = VendorClass(b"PXEClient").parse();
    assert_eq!(
        (v.kind, v.arch, v.undi, v.quirks),
        (VendorKind::Pxe, None, None, VendorQuirks::empty())
    );
    let v = VendorClass(b"pxeclient:arch:7:undi:3").parse();
    assert_eq!(v.arch, Some(7));
    assert!(
        v.quirks
            .contains(VendorQuirks::CASE | VendorQuirks::ARCH_WIDTH | VendorQuirks::BAD_UNDI)
    );
    let v = VendorClass(b"PXEClient:Arch:00007").parse();
    assert_eq!(v.arch, Some(7));
    assert!(v.quirks.contains(VendorQuirks::EXTRA_FIELDS));
    let v = VendorClass(b"HTTPClient:Arch:00016:UNDI:003000").parse();
    assert_eq!((v.kind, v.arch), (VendorKind::Http, Some(16)));
    let v = VendorClass(b"PXEClient:Arch:zzzzz:UNDI:003000:extra:1").parse();
    assert_eq!(v.arch, None);
    assert!(
        v.quirks
            .contains(VendorQuirks::BAD_ARCH | VendorQuirks::EXTRA_FIELDS)
    );
    let v = VendorClass(b"MSFT 5.0").parse();
    assert_eq!((v.kind, v.vendor), (VendorKind::Other, &b"MSFT 5.0"[..]));
}

#[test]
fn arch_constants_follow_iana_and_the_errata() {
    assert_eq!(ClientArch::X64_UEFI.0, 7);
    assert_eq!(ClientArch::EBC.0, 9);
    assert!(ClientArch(7).is_x64_uefi() && ClientArch(9).is_x64_uefi());
    assert_eq!(ClientArch(7).dnsmasq_name(), Some("x86-64_EFI"));
    assert_eq!(ClientArch(9).dnsmasq_name(), Some("BC_EFI"));
    assert_eq!(ClientArch::ARM64_UEFI.0, 11);
    assert_eq!(ClientArch::X64_UEFI_HTTP.0, 16);
    assert_eq!(ClientArch::ARM_RPIBOOT.0, 41);
    assert_eq!(ClientArch(41).description(), "ARM rpiboot");
    assert_eq!(ClientArch(42).description(), "unassigned");
    assert!(ClientArch(16).is_http_boot() && !ClientArch(7).is_http_boot());
}

#[test]
fn user_class_bare_and_rfc3004() {
    use pxe_dhcp::UserClass;
    let u = UserClass::parse(b"iPXE").unwrap();
    assert!(!u.is_rfc3004());
    assert!(u.contains(b"iPXE"));
    let u = UserClass::parse(b"\x04iPXE\x03foo").unwrap();
    assert!(u.is_rfc3004());
    assert_eq!(
        u.classes().collect::<Vec<_>>(),
        vec![&b"iPXE"[..], &b"foo"[..]]
    );
    assert!(UserClass::parse(b"").is_err());
}

#[test]
fn uuid_text_forms() {
    let u = ClientUuid::parse(&[
        0, 0x1e, 0, 0x17, 0, 0, 0x8c, 0xad, 0, 0x50, 0x87, 0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23,
    ])
    .unwrap();
    assert_eq!(
        u.wire_text().as_str(),
        "1e001700-008c-ad00-5087-90e6ba2f3423"
    );
    assert_eq!(
        u.guid_text().as_str(),
        "0017001e-8c00-00ad-5087-90e6ba2f3423"
    );
    assert!(ClientUuid::parse(&[0; 16]).is_err());
}
