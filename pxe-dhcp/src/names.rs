//! Names of DHCP options and of the sub-options of option 43 (PXE) and 82
//! (relay agent information), as [`Packet`](crate::Packet)'s `Display`
//! and `Debug` print them. iPXE's option 175 names are
//! [`ipxe::sub_name`](crate::ipxe::sub_name), re-exported here as
//! [`ipxe_sub_name`].
//!
//! Names are lower-case words joined by `-`, after the IANA "BOOTP Vendor
//! Extensions and DHCP Options" registry (RFC 2132 and later), shortened
//! where the registry's name is a sentence. They are for reading, not
//! parsing: dnsmasq's `option:NAME` spellings belong to its configuration
//! dialect (`pxe-rules`), which differ in places (dnsmasq says
//! `client-machine-id` for 97, `vendor-encap` for 43).
//!
//! ```
//! use pxe_dhcp::{code, names};
//!
//! assert_eq!(names::option_name(code::MESSAGE_TYPE), Some("message-type"));
//! assert_eq!(names::option_name(code::CLIENT_UUID), Some("client-uuid"));
//! assert_eq!(names::pxe_sub_name(pxe_dhcp::pxe::sub::BOOT_MENU), Some("boot-menu"));
//! assert_eq!(names::option_name(224), None); // site-specific
//! ```

use crate::{pxe, relay};

pub use crate::ipxe::sub_name as ipxe_sub_name;

/// The name of DHCP option `code`, or `None` for codes with no assigned
/// meaning (and the site-specific range 224–254, except 252).
#[inline]
pub fn option_name(code: u8) -> Option<&'static str> {
    OPTION_NAMES
        .binary_search_by_key(&code, |&(c, _)| c)
        .ok()
        .and_then(|i| OPTION_NAMES.get(i))
        .map(|&(_, name)| name)
}

/// The name of PXE sub-option `code` inside option 43 (PXE 2.1 table 2-1).
#[inline]
pub fn pxe_sub_name(code: u8) -> Option<&'static str> {
    use pxe::sub;
    Some(match code {
        sub::MTFTP_IP => "mtftp-ip",
        sub::MTFTP_CPORT => "mtftp-client-port",
        sub::MTFTP_SPORT => "mtftp-server-port",
        sub::MTFTP_TMOUT => "mtftp-timeout",
        sub::MTFTP_DELAY => "mtftp-delay",
        sub::DISCOVERY_CONTROL => "discovery-control",
        sub::DISCOVERY_MCAST_ADDR => "discovery-mcast-addr",
        sub::BOOT_SERVERS => "boot-servers",
        sub::BOOT_MENU => "boot-menu",
        sub::MENU_PROMPT => "menu-prompt",
        sub::MCAST_ADDRS_ALLOC => "mcast-addrs-alloc",
        sub::CREDENTIAL_TYPES => "credential-types",
        sub::BOOT_ITEM => "boot-item",
        _ => return None,
    })
}

/// The name of relay agent sub-option `code` inside option 82.
#[inline]
pub fn relay_sub_name(code: u8) -> Option<&'static str> {
    use relay::sub;
    Some(match code {
        sub::CIRCUIT_ID => "circuit-id",
        sub::REMOTE_ID => "remote-id",
        sub::LINK_SELECTION => "link-selection",
        sub::SUBSCRIBER_ID => "subscriber-id",
        sub::SERVER_ID_OVERRIDE => "server-id-override",
        sub::VIRTUAL_SUBNET_SELECTION => "virtual-subnet-selection",
        _ => return None,
    })
}

/// `(code, name)`, sorted by code (checked by a unit test).
static OPTION_NAMES: &[(u8, &str)] = &[
    (0, "pad"),
    (1, "subnet-mask"),
    (2, "time-offset"),
    (3, "router"),
    (4, "time-server"),
    (5, "name-server"),
    (6, "dns-server"),
    (7, "log-server"),
    (8, "cookie-server"),
    (9, "lpr-server"),
    (10, "impress-server"),
    (11, "resource-location-server"),
    (12, "host-name"),
    (13, "boot-file-size"),
    (14, "merit-dump-file"),
    (15, "domain-name"),
    (16, "swap-server"),
    (17, "root-path"),
    (18, "extensions-path"),
    (19, "ip-forwarding"),
    (20, "non-local-source-routing"),
    (21, "policy-filter"),
    (22, "max-datagram-reassembly"),
    (23, "default-ip-ttl"),
    (24, "path-mtu-aging-timeout"),
    (25, "path-mtu-plateau-table"),
    (26, "interface-mtu"),
    (27, "all-subnets-local"),
    (28, "broadcast-address"),
    (29, "perform-mask-discovery"),
    (30, "mask-supplier"),
    (31, "router-discovery"),
    (32, "router-solicitation-address"),
    (33, "static-route"),
    (34, "trailer-encapsulation"),
    (35, "arp-cache-timeout"),
    (36, "ethernet-encapsulation"),
    (37, "tcp-default-ttl"),
    (38, "tcp-keepalive-interval"),
    (39, "tcp-keepalive-garbage"),
    (40, "nis-domain"),
    (41, "nis-server"),
    (42, "ntp-server"),
    (43, "vendor-encapsulated"),
    (44, "netbios-name-server"),
    (45, "netbios-dd-server"),
    (46, "netbios-node-type"),
    (47, "netbios-scope"),
    (48, "x-font-server"),
    (49, "x-display-manager"),
    (50, "requested-address"),
    (51, "lease-time"),
    (52, "overload"),
    (53, "message-type"),
    (54, "server-id"),
    (55, "parameter-request-list"),
    (56, "message"),
    (57, "max-message-size"),
    (58, "renewal-time"),
    (59, "rebinding-time"),
    (60, "vendor-class"),
    (61, "client-id"),
    (62, "netware-ip-domain"),
    (63, "netware-ip-option"),
    (64, "nisplus-domain"),
    (65, "nisplus-server"),
    (66, "tftp-server-name"),
    (67, "bootfile-name"),
    (68, "mobile-ip-home-agent"),
    (69, "smtp-server"),
    (70, "pop3-server"),
    (71, "nntp-server"),
    (72, "www-server"),
    (73, "finger-server"),
    (74, "irc-server"),
    (75, "streettalk-server"),
    (76, "stda-server"),
    (77, "user-class"),
    (78, "slp-directory-agent"),
    (79, "slp-service-scope"),
    (80, "rapid-commit"),
    (81, "client-fqdn"),
    (82, "relay-agent-info"),
    (83, "isns"),
    (85, "nds-server"),
    (86, "nds-tree-name"),
    (87, "nds-context"),
    (88, "bcmcs-domain-list"),
    (89, "bcmcs-address-list"),
    (90, "authentication"),
    (91, "client-last-transaction-time"),
    (92, "associated-ip"),
    (93, "client-arch"),
    (94, "client-ndi"),
    (95, "ldap"),
    (97, "client-uuid"),
    (98, "user-auth"),
    (99, "geoconf-civic"),
    (100, "posix-timezone"),
    (101, "tzdb-timezone"),
    (108, "ipv6-only-preferred"),
    (112, "netinfo-address"),
    (113, "netinfo-tag"),
    (114, "captive-portal"),
    (116, "auto-config"),
    (117, "name-service-search"),
    (118, "subnet-selection"),
    (119, "domain-search"),
    (120, "sip-server"),
    (121, "classless-static-route"),
    (122, "cablelabs-client-config"),
    (123, "geoconf"),
    (124, "vendor-identifying-class"),
    (125, "vendor-identifying-info"),
    (136, "pana-agent"),
    (137, "v4-lost"),
    (138, "capwap-ac"),
    (139, "mos-address"),
    (140, "mos-fqdn"),
    (141, "sip-ua-domains"),
    (142, "andsf-address"),
    (143, "sztp-redirect"),
    (144, "geoloc"),
    (145, "forcerenew-nonce"),
    (146, "rdnss-selection"),
    (147, "dots-ri"),
    (148, "dots-address"),
    (150, "tftp-server-address"),
    (151, "bulk-lease-query-status-code"),
    (152, "bulk-lease-query-base-time"),
    (153, "bulk-lease-query-start-time"),
    (154, "bulk-lease-query-query-start"),
    (155, "bulk-lease-query-query-end"),
    (156, "dhcp-state"),
    (157, "data-source"),
    (158, "pcp-server"),
    (159, "v4-portparams"),
    (161, "mud-url"),
    (162, "v4-dnr"),
    (175, "ipxe"),
    (177, "packetcable-cablehome"),
    (201, "iscsi-primary-target"),
    (202, "iscsi-secondary-target"),
    (203, "iscsi-initiator-iqn"),
    (208, "pxelinux-magic"),
    (209, "pxelinux-configfile"),
    (210, "pxelinux-pathprefix"),
    (211, "pxelinux-reboottime"),
    (212, "6rd"),
    (213, "v4-access-domain"),
    (220, "subnet-allocation"),
    (221, "virtual-subnet-selection"),
    (252, "wpad"),
    (255, "end"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code;

    #[test]
    fn table_is_sorted_so_binary_search_finds_every_entry() {
        assert!(OPTION_NAMES.windows(2).all(|w| w[0].0 < w[1].0));
        for &(c, name) in OPTION_NAMES {
            assert_eq!(option_name(c), Some(name));
        }
    }

    #[test]
    fn every_named_code_constant_has_a_name() {
        for c in [
            code::SUBNET_MASK,
            code::ROUTER,
            code::DNS_SERVERS,
            code::HOST_NAME,
            code::VENDOR_SPECIFIC,
            code::OVERLOAD,
            code::MESSAGE_TYPE,
            code::PARAMETER_REQUEST_LIST,
            code::VENDOR_CLASS,
            code::CLIENT_ID,
            code::BOOTFILE_NAME,
            code::USER_CLASS,
            code::RELAY_AGENT_INFO,
            code::CLIENT_ARCH,
            code::CLIENT_NDI,
            code::CLIENT_UUID,
            code::CLASSLESS_ROUTES,
            code::IPXE_ENCAP,
            code::ISCSI_INITIATOR_IQN,
            code::PXELINUX_REBOOTTIME,
        ] {
            assert!(option_name(c).is_some(), "option {c}");
        }
        assert_eq!(option_name(96), None);
        assert_eq!(option_name(230), None);
        assert_eq!(pxe_sub_name(13), None);
        assert_eq!(relay_sub_name(3), None);
    }
}
