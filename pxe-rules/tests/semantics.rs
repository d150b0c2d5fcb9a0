//! dnsmasq semantics from the spec, one rule at a time, with the spec's
//! worked and observed examples.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;
use common::*;

use pxe_rules::{Config, Context, Decision, Explanation, Facts, IgnoreReason, Port, Verdict};
use std::net::Ipv4Addr;

fn conf(text: &str) -> Config {
    Config::parse_str(text, "t.conf").unwrap_or_else(|e| panic!("{e}"))
}

fn ctx() -> Context<'static> {
    Context::new(Ipv4Addr::new(192, 168, 77, 1), MASK).with_interface("eth0")
}

fn with<R>(c: &Config, req: &[u8], port: Port, f: impl FnOnce(&Decision<'_>) -> R) -> R {
    let pkt = packet(req);
    let facts = Facts::new(&pkt).unwrap();
    let d = c.evaluate(&facts, &ctx().with_port(port));
    f(&d)
}

fn opts(d: &Decision<'_>) -> Vec<(u8, Vec<u8>)> {
    rule_options(d)
}

fn tags(d: &Decision<'_>) -> Vec<String> {
    let mut v: Vec<String> = d.tag_names().map(str::to_string).collect();
    v.sort();
    v
}

const MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];

fn rom() -> Req {
    Req::new(MAC, 1)
        .opt(93, &[0, 0])
        .opt(60, b"PXEClient:Arch:00000:UNDI:002001")
        .opt(55, &[1, 3, 6, 17, 42, 43, 60, 66, 67])
}

fn ipxe() -> Req {
    rom().opt(175, IPXE_175).opt(77, b"iPXE")
}

const RANGE: &str = "dhcp-range=set:lan,192.168.77.100,192.168.77.200\n";

#[test]
fn last_matching_tagged_boot_line_wins() {
    // §2.7 observed: no specificity, the later tagged line wins.
    let c = conf(&format!(
        "{RANGE}dhcp-match=set:bios,93,0\ndhcp-boot=tag:bios,bios.file\ndhcp-boot=tag:bios,bios2.file,myserver,192.168.77.5\ndhcp-boot=untagged.file\n"
    ));
    with(&c, &rom().done(), Port::Dhcp, |d| {
        assert_eq!(d.siaddr(), Ipv4Addr::new(192, 168, 77, 5));
        assert_eq!(d.file(), None);
        assert_eq!(d.sname(), None);
        // §4.3 observed: 66 and 67 as NUL-terminated options.
        assert_eq!(
            opts(d)[..2],
            [(66, b"myserver\0".to_vec()), (67, b"bios2.file\0".to_vec())]
        );
    });
    // A negated-only condition is tagged and beats the later untagged line.
    let c = conf(&format!(
        "{RANGE}dhcp-match=set:ipxe,175\ndhcp-boot=tag:!ipxe,a\ndhcp-boot=b\n"
    ));
    with(&c, &rom().done(), Port::Dhcp, |d| {
        assert_eq!(d.boot().and_then(|b| b.file.as_deref()), Some("a"))
    });
    with(&c, &ipxe().done(), Port::Dhcp, |d| {
        assert_eq!(d.boot().and_then(|b| b.file.as_deref()), Some("b"))
    });
}

#[test]
fn option_precedence_3_4() {
    // §3.4 observed example.
    let c = conf(&format!(
        "{RANGE}dhcp-match=set:ipxe,175
dhcp-option=3,192.168.77.2
dhcp-option=3,192.168.77.3
dhcp-option=tag:lan,6,192.168.77.6
dhcp-option=tag:ipxe,6,192.168.77.7
dhcp-option=tag:!ipxe,42,192.168.77.42
dhcp-option=42,192.168.77.43
dhcp-option=tag:lan,17,/export/root
dhcp-option=17,/other
"
    ));
    with(&c, &rom().done(), Port::Dhcp, |d| {
        // List order = reverse config order.
        assert_eq!(
            opts(d),
            vec![
                (17, b"/export/root".to_vec()),
                (42, vec![192, 168, 77, 42]),
                (6, vec![192, 168, 77, 6]),
                (3, vec![192, 168, 77, 3]),
            ]
        );
        assert!(d.overrides_builtin(3) && d.overrides_builtin(6) && !d.overrides_builtin(1));
    });
    with(&c, &ipxe().done(), Port::Dhcp, |d| {
        let o = opts(d);
        assert!(o.contains(&(6, vec![192, 168, 77, 7])), "{o:?}");
        assert!(o.contains(&(42, vec![192, 168, 77, 43])), "{o:?}");
    });
}

#[test]
fn unforced_options_need_the_request_list() {
    let c = conf(&format!(
        "{RANGE}dhcp-option=209,cfg\ndhcp-option-force=210,http://x/\ndhcp-option=1,255.255.0.0\n"
    ));
    // 55 without 209: only the forced line (and 1, always sent).
    with(&c, &rom().done(), Port::Dhcp, |d| {
        assert_eq!(
            opts(d),
            vec![(1, vec![255, 255, 0, 0]), (210, b"http://x/".to_vec())]
        );
    });
    // No 55 at all: everything.
    with(&c, &Req::new(MAC, 1).done(), Port::Dhcp, |d| {
        assert_eq!(opts(d).len(), 3);
    });
}

#[test]
fn unrequested_67_goes_into_the_file_field() {
    // §3.5: without dhcp-boot, an unforced 67/66 the client did not
    // request goes into the header.
    let c = conf(&format!(
        "{RANGE}dhcp-option=67,pxelinux.0\ndhcp-option=66,1.2.3.4\n"
    ));
    with(&c, &Req::new(MAC, 1).done(), Port::Dhcp, |d| {
        assert_eq!(d.file(), Some(&b"pxelinux.0"[..]));
        assert_eq!(d.sname(), Some(&b"1.2.3.4"[..]));
        assert!(opts(d).is_empty());
    });
    with(&c, &rom().done(), Port::Dhcp, |d| {
        // Both NUL-terminated, in list order (the later line first).
        assert_eq!(
            opts(d),
            vec![(66, b"1.2.3.4\0".to_vec()), (67, b"pxelinux.0\0".to_vec())]
        );
    });
}

#[test]
fn encap_vendor_and_local_placeholder() {
    let c = conf(&format!(
        "{RANGE}dhcp-option=encap:175,176,1b\ndhcp-option=vendor:PXEClient,1,0.0.0.0\ndhcp-option=3,0.0.0.0\n"
    ));
    let req = Req::new(MAC, 1)
        .opt(60, b"PXEClient:Arch:00000")
        .opt(55, &[3, 43, 175])
        .done();
    with(&c, &req, Port::Dhcp, |d| {
        assert_eq!(
            opts(d),
            vec![
                (3, vec![192, 168, 77, 1]),
                // §3.2 observed bytes.
                (175, vec![0xb0, 1, 1, 0xff]),
                (43, vec![1, 4, 0, 0, 0, 0, 0xff]),
                // 43 sent to a non-PXE client (no pxe-service): option 60 echoed.
                (60, b"PXEClient:Arch:00000".to_vec()),
            ]
        );
    });
}

#[test]
fn dhcp_match_forms() {
    let c = conf(&format!(
        "{RANGE}dhcp-match=set:efi,option:client-arch,7
dhcp-match=set:bios,93,0
dhcp-match=set:hexm,60,50:58:45:*
dhcp-match=set:x,60,PXEClient:Arch:00007
dhcp-match=set:http,175,19
dhcp-match=set:nomatch,60,50:58:46
dhcp-vendorclass=set:arch7,Arch:00007
dhcp-userclass=set:ipxeuc,iPXE
dhcp-mac=set:qemu,52:54:00:*:*:*
dhcp-mac=set:other,52:54:01:*:*:*
tag-if=set:combo,tag:qemu,tag:ipx*
tag-if=set:never,tag:!qemu
"
    ));
    let efi = Req::new(MAC, 1)
        .opt(93, &[0, 7])
        .opt(60, b"PXEClient:Arch:00007:UNDI:003016")
        .opt(77, b"iPXE")
        .opt(175, IPXE_175)
        .done();
    with(&c, &efi, Port::Dhcp, |d| {
        assert_eq!(
            tags(d),
            [
                "arch7", "combo", "efi", "hexm", "http", "ipxeuc", "lan", "qemu", "x"
            ]
        );
    });
    let bios = Req::new([0x52, 0x54, 1, 0, 0, 1], 1)
        .opt(93, &[0, 0])
        .done();
    with(&c, &bios, Port::Dhcp, |d| {
        assert_eq!(tags(d), ["bios", "lan", "never", "other"])
    });
}

#[test]
fn interface_tag_and_host_tags() {
    let c = conf(&format!(
        "interface=eth0\n{RANGE}dhcp-host=52:54:00:12:34:56,set:host1,net:host2,192.168.77.50\ndhcp-host=52:54:00:*:*:*,set:wild\ndhcp-boot=tag:eth0,tag:known,tag:host1,ok\n"
    ));
    with(&c, &rom().done(), Port::Dhcp, |d| {
        assert_eq!(tags(d), ["eth0", "host1", "host2", "known", "lan"]);
        assert_eq!(
            d.host().and_then(|h| h.addr),
            Some(Ipv4Addr::new(192, 168, 77, 50))
        );
        assert_eq!(d.boot().and_then(|b| b.file.as_deref()), Some("ok"));
    });
    // The wildcard entry for other QEMU MACs; the best wildcard wins.
    let other = Req::new([0x52, 0x54, 0, 9, 9, 9], 1).done();
    with(&c, &other, Port::Dhcp, |d| {
        assert_eq!(tags(d), ["eth0", "known", "lan", "wild"])
    });
    // Host on another network: known-othernet.
    let c2 = conf(&format!("{RANGE}dhcp-host=52:54:00:12:34:56,10.0.0.5\n"));
    with(&c2, &rom().done(), Port::Dhcp, |d| {
        assert_eq!(tags(d), ["known-othernet", "lan"])
    });
}

#[test]
fn ignore_rules() {
    let c = conf(&format!(
        "{RANGE}dhcp-ignore=tag:!known\ndhcp-host=52:54:00:12:34:56,ignore\n"
    ));
    with(
        &c,
        &Req::new([1, 2, 3, 4, 5, 6], 1).done(),
        Port::Dhcp,
        |d| assert_eq!(d.verdict(), Verdict::Ignore(IgnoreReason::DhcpIgnore)),
    );
    with(&c, &rom().done(), Port::Dhcp, |d| {
        assert_eq!(d.verdict(), Verdict::Ignore(IgnoreReason::HostIgnore))
    });
    // A range condition that fails: no range.
    let c = conf("dhcp-range=net:lab,192.168.77.10,192.168.77.50\n");
    with(&c, &rom().done(), Port::Dhcp, |d| {
        assert_eq!(d.verdict(), Verdict::Ignore(IgnoreReason::NoRange))
    });
}

#[test]
fn pxe_menu_with_prompt_and_types() {
    // §5.5 second observed example (proxy mode, BIOS client).
    let c = conf(
        "dhcp-range=192.168.77.0,proxy
pxe-prompt=\"Press F8 for boot menu\",5
pxe-service=x86PC,\"Boot from local disk\"
pxe-service=x86PC,\"Install Linux\",pxelinux
pxe-service=x86PC,\"Remote\",menu.c32,192.168.77.9
pxe-service=x86PC,\"Type 13 discover\",13
",
    );
    let mut want = vec![
        6, 1, 2, 8, 14, 0x80, 0, 1, 192, 168, 77, 1, 0x80, 1, 1, 192, 168, 77, 1, 9, 0x43,
    ];
    for (t, s) in [
        (0u16, "Boot from local disk"),
        (0x8000, "Install Linux"),
        (0x8001, "Remote"),
        (13, "Type 13 discover"),
    ] {
        want.extend_from_slice(&t.to_be_bytes());
        want.push(s.len() as u8);
        want.extend_from_slice(s.as_bytes());
    }
    want.extend_from_slice(&[10, 23, 5]);
    want.extend_from_slice(b"Press F8 for boot menu");
    want.push(255);
    with(&c, &rom().opt(97, &UUID97).done(), Port::Dhcp, |d| {
        assert_eq!(d.verdict(), Verdict::Proxy);
        assert_eq!(
            opts(d),
            vec![
                (60, b"PXEClient".to_vec()),
                (97, UUID97.to_vec()),
                (43, want.clone())
            ]
        );
    });
    // Boot-server request for pxelinux at layer 1: dot-free basename gets ".1".
    let bs = Req::new(MAC, 3)
        .ciaddr(Ipv4Addr::new(192, 168, 77, 50))
        .opt(60, b"PXEClient:Arch:00000:UNDI:002001")
        .opt(43, &[71, 4, 0x80, 0, 0, 1, 255])
        .done();
    with(&c, &bs, Port::Pxe, |d| {
        assert_eq!(d.file(), Some(&b"pxelinux.1"[..]));
        // Matching pxe-prompt lines follow 71 in the boot-server reply.
        let mut w = vec![71, 4, 0x80, 0, 0, 1, 10, 23, 5];
        w.extend_from_slice(b"Press F8 for boot menu");
        w.push(255);
        assert_eq!(opts(d), vec![(60, b"PXEClient".to_vec()), (43, w)]);
    });
    // "Remote" with a server address: siaddr is that server.
    let bs2 = Req::new(MAC, 3)
        .ciaddr(Ipv4Addr::new(192, 168, 77, 50))
        .opt(60, b"PXEClient")
        .opt(43, &[71, 4, 0x80, 1, 0, 0, 255])
        .done();
    with(&c, &bs2, Port::Pxe, |d| {
        assert_eq!(d.siaddr(), Ipv4Addr::new(192, 168, 77, 9));
        assert_eq!(d.file(), Some(&b"menu.c32"[..]));
    });
}

#[test]
fn uefi_single_service_workaround() {
    // §5.7 observed (full mode): the arch-7 client gets the dhcp-boot file,
    // 60 and 97, and no 43.
    let full = conf(&format!(
        "{RANGE}pxe-service=x86PC,\"bios\",pxelinux\npxe-service=x86-64_EFI,\"efi\",snponly.efi\ndhcp-boot=undionly.kpxe\n"
    ));
    let efi = Req::new(MAC, 1)
        .opt(93, &[0, 7])
        .opt(60, b"PXEClient:Arch:00007:UNDI:003016")
        .opt(55, &[43, 60, 66, 67])
        .opt(97, &UUID97)
        .done();
    with(&full, &efi, Port::Dhcp, |d| {
        assert!(d.uefi_workaround());
        assert_eq!(
            opts(d),
            vec![
                (67, b"undionly.kpxe\0".to_vec()),
                (60, b"PXEClient".to_vec()),
                (97, UUID97.to_vec())
            ]
        );
    });
    // Proxy: DISCOVER → siaddr=local, no file, no 43; 4011 → snponly.0.
    let proxy = conf("dhcp-range=192.168.77.0,proxy\npxe-service=x86-64_EFI,\"efi\",snponly\n");
    with(&proxy, &efi, Port::Dhcp, |d| {
        assert_eq!(d.siaddr(), Ipv4Addr::new(192, 168, 77, 1));
        assert_eq!(d.file(), None);
        assert_eq!(
            opts(d),
            vec![(60, b"PXEClient".to_vec()), (97, UUID97.to_vec())]
        );
    });
    let efi_req = Req::new(MAC, 3)
        .ciaddr(Ipv4Addr::new(192, 168, 77, 50))
        .opt(93, &[0, 7])
        .opt(60, b"PXEClient:Arch:00007:UNDI:003016")
        .done();
    with(&proxy, &efi_req, Port::Pxe, |d| {
        assert_eq!(d.verdict(), Verdict::Proxy);
        assert_eq!(d.file(), Some(&b"snponly.0"[..]));
        assert_eq!(d.sname(), Some(&b"192.168.77.1"[..]));
        assert_eq!(opts(d), vec![(60, b"PXEClient".to_vec())]);
    });
}

#[test]
fn proxy_needs_pxe_service_and_arch() {
    // §6.1 observed: proxy + dhcp-boot alone answers nothing.
    let c = conf("dhcp-range=192.168.77.0,proxy\ndhcp-boot=x,,192.168.77.1\n");
    with(&c, &rom().done(), Port::Dhcp, |d| {
        assert_eq!(
            d.verdict(),
            Verdict::Ignore(IgnoreReason::ProxyNotApplicable)
        )
    });
    // A dummy service makes it answer with DC 8 and the dhcp-boot file.
    let c =
        conf("dhcp-range=192.168.77.0,proxy\ndhcp-boot=x,,192.168.77.1\npxe-service=254,dummy\n");
    with(&c, &rom().done(), Port::Dhcp, |d| {
        assert_eq!(d.verdict(), Verdict::Proxy);
        assert_eq!(d.file(), Some(&b"x"[..]));
        assert_eq!(d.siaddr(), Ipv4Addr::new(192, 168, 77, 1));
        assert_eq!(
            opts(d),
            vec![
                (60, b"PXEClient".to_vec()),
                (43, vec![6, 1, 8, 10, 4, 0, b'P', b'X', b'E', 255])
            ]
        );
    });
    // No option 93: silence.
    let no93 = Req::new(MAC, 1).opt(60, b"PXEClient:Arch:00000").done();
    with(&c, &no93, Port::Dhcp, |d| {
        assert!(matches!(d.verdict(), Verdict::Ignore(_)))
    });
    // dhcp-option-force never reaches a proxy reply.
    let c = conf("dhcp-range=192.168.77.0,proxy\npxe-service=x86PC,m,f\ndhcp-option-force=209,x\n");
    with(&c, &rom().done(), Port::Dhcp, |d| {
        assert!(opts(d).iter().all(|(c, _)| *c != 209))
    });
}

#[test]
fn dhcp_pxe_vendor_replaces_the_default() {
    let c = conf(
        "dhcp-range=192.168.77.0,proxy\ndhcp-pxe-vendor=PXEClient,HW-Client\npxe-service=x86PC,m,f\n",
    );
    let hw = Req::new(MAC, 1)
        .opt(93, &[0, 0])
        .opt(60, b"HW-Client:Arch:00000")
        .done();
    with(&c, &hw, Port::Dhcp, |d| {
        assert_eq!(d.verdict(), Verdict::Proxy);
        assert_eq!(opts(d)[0], (60, b"HW-Client".to_vec()));
    });
}

#[test]
fn trace_explains_the_choice() {
    let c = conf(SEED_REAL);
    let facts_bytes = client(Client::IpxeBios, 1);
    let pkt = packet(&facts_bytes);
    let facts = Facts::new(&pkt).unwrap();
    let mut ex = Explanation::default();
    let _ = c.evaluate_traced(&facts, &Context::new(LOCAL, MASK), &mut ex);
    let text = ex.display(&c).to_string();
    assert!(
        text.contains("tag ipxe set by seed") || text.contains("tag ipxe set by t.conf:2"),
        "{text}"
    );
    assert!(
        text.contains("dhcp-boot=tag:!ipxe,undionly.kkpxe.0 -> skipped: tag ipxe is set (negated)"),
        "{text}"
    );
    assert!(text.contains("dhcp-boot=pxelinux.0 -> CHOSEN"), "{text}");
}

#[test]
fn cpewan_id_tags_tr069_devices() {
    // §2.3 item 2: option 125 with a Broadband Forum (3561) block holding
    // both the OUI (4) and the serial number (5).
    let c = conf(&format!(
        "{RANGE}dhcp-boot=tag:cpewan-id,acs.bin\ndhcp-boot=tag:!cpewan-id,other.bin\n"
    ));
    let block = |subs: &[u8]| {
        let mut v = vec![0, 0, 0x0d, 0xe9, subs.len() as u8];
        v.extend_from_slice(subs);
        v
    };
    let both = block(&[4, 3, b'0', b'0', b'1', 5, 2, b'4', b'2', 6, 1, b'x']);
    // Another enterprise's block first, then the Broadband Forum's.
    let mut two = vec![0, 0, 0, 9, 2, 1, 0];
    two.extend_from_slice(&both);
    let file = |v: &[u8]| {
        with(&c, &rom().opt(125, v).done(), Port::Dhcp, |d| {
            (boot_file(d), tags(d))
        })
    };
    let (f, t) = file(&both);
    assert_eq!(f.as_deref(), Some(&b"acs.bin"[..]));
    assert!(t.contains(&"cpewan-id".to_string()), "{t:?}");
    assert_eq!(file(&two).0.as_deref(), Some(&b"acs.bin"[..]));
    for no in [
        block(&[4, 3, b'0', b'0', b'1']),
        block(&[5, 2, b'4', b'2']),
        vec![0, 0, 0, 9, 6, 4, 1, b'a', 5, 1, b'b'],
        vec![0, 0, 0x0d, 0xe9, 40, 4, 1, b'a'],
    ] {
        assert_eq!(file(&no).0.as_deref(), Some(&b"other.bin"[..]), "{no:?}");
    }
    let f = with(&c, &rom().done(), Port::Dhcp, boot_file);
    assert_eq!(f.as_deref(), Some(&b"other.bin"[..]));
}

/// The boot file, from the `file` field or option 67 (NUL dropped).
fn boot_file(d: &Decision<'_>) -> Option<Vec<u8>> {
    d.file().map(<[u8]>::to_vec).or_else(|| {
        opts(d)
            .into_iter()
            .find(|(c, _)| *c == 67)
            .map(|(_, v)| v.strip_suffix(&[0]).unwrap_or(&v).to_vec())
    })
}
