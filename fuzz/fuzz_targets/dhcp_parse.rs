//! Every accessor and typed view of `pxe_dhcp::Packet` on arbitrary bytes:
//! nothing may panic, and the lookup index must agree with a plain walk.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pxe_dhcp::Packet;

fuzz_target!(|data: &[u8]| {
    let checked = Packet::new_checked(data);
    let Ok(p) = Packet::new_lenient(data) else {
        assert!(data.len() < pxe_dhcp::HEADER_LEN);
        assert!(checked.is_err());
        return;
    };
    assert_eq!(checked.is_ok(), p.options_error().is_none());
    let _ = (
        p.op(),
        p.htype(),
        p.hlen(),
        p.hops(),
        p.xid(),
        p.secs(),
        p.flags(),
    );
    let _ = (p.ciaddr(), p.yiaddr(), p.siaddr(), p.giaddr(), p.mac());
    assert!(p.chaddr().len() <= 16);
    let _ = (p.sname(), p.file(), p.boot_file_name(), p.has_cookie());

    // The iterator ends with at most one error, which is the constructor's.
    let mut walked: Vec<(u8, &[u8])> = Vec::new();
    let mut err = None;
    for o in p.options() {
        match o {
            Ok(o) => walked.push((o.code, o.data)),
            Err(e) => err = Some(e),
        }
    }
    assert_eq!(err, p.options_error());
    for c in 1..=254u8 {
        let frags: Vec<&[u8]> = walked
            .iter()
            .filter(|(k, _)| *k == c)
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(p.option(c), frags.first().copied(), "option({c})");
        assert_eq!(p.has_option(c), !frags.is_empty());
        assert_eq!(p.is_split(c), frags.len() > 1);
        assert_eq!(p.fragments(c).collect::<Vec<_>>(), frags);
        if !frags.is_empty() {
            let joined: Vec<u8> = frags.concat();
            let mut scratch = [0u8; 2048];
            assert_eq!(
                p.option_concat(c, &mut scratch).ok().flatten(),
                Some(&joined[..])
            );
            assert_eq!(p.option_vec(c).as_deref(), Some(&joined[..]));
        }
    }

    let _ = p.message_type();
    let _ = p
        .parameter_request_list()
        .map(|l| l.map(|l| l.contains(43)));
    let _ = (p.max_message_size(), p.max_message_size_effective());
    assert!(p.max_message_size_effective() >= 576);
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
        .map(|a| a.map(|a| (a.first().description(), a.iter().count())));
    let _ = p.client_ndi();
    let _ = p
        .client_uuid()
        .map(|u| u.map(|u| (u.wire_text(), u.guid_text())));
    if let Ok(Some(x)) = p.pxe_options() {
        assert!(x.iter().all(|o| o.is_ok()));
        let _ = x.discovery_control();
        let _ = x
            .boot_servers()
            .map(|s| s.map(|s| s.iter().map(|e| e.addresses().count()).sum::<usize>()));
        let _ = x.boot_menu().map(|m| m.map(|m| m.iter().count()));
        let _ = (x.menu_prompt(), x.boot_item(), x.mtftp_ip());
    }
    if let Ok(Some(x)) = p.ipxe_options() {
        assert!(x.iter().all(|o| o.is_ok()));
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
            x.password(),
        );
    }
    let _ = p.pxelinux();
    if let Ok(Some(r)) = p.relay_agent_info() {
        let _ = (r.circuit_id(), r.remote_id(), r.subscriber_id());
        let _ = (r.link_selection(), r.server_id_override());
    }
});
