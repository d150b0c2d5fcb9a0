//! DHCPv6 option codes (IANA "DHCPv6 Option Codes") and their names.

use core::fmt;

/// Client Identifier, a DUID (RFC 8415 section 21.2).
pub const CLIENT_ID: u16 = 1;
/// Server Identifier, a DUID (RFC 8415 section 21.3).
pub const SERVER_ID: u16 = 2;
/// Identity Association for Non-temporary Addresses (RFC 8415 section 21.4).
pub const IA_NA: u16 = 3;
/// Identity Association for Temporary Addresses (RFC 8415 section 21.5).
pub const IA_TA: u16 = 4;
/// IA Address, inside IA_NA or IA_TA (RFC 8415 section 21.6).
pub const IA_ADDR: u16 = 5;
/// Option Request Option: the codes a client asks for (RFC 8415 section 21.7).
pub const ORO: u16 = 6;
/// Server preference, 0 to 255 (RFC 8415 section 21.8).
pub const PREFERENCE: u16 = 7;
/// Elapsed time since the client began, in hundredths of a second (RFC 8415 section 21.9).
pub const ELAPSED_TIME: u16 = 8;
/// Relay Message: the message a relay forwards or delivers (RFC 8415 section 21.10).
pub const RELAY_MESSAGE: u16 = 9;
/// Authentication (RFC 8415 section 21.11).
pub const AUTH: u16 = 11;
/// Server unicast address (RFC 8415 section 21.12).
pub const UNICAST: u16 = 12;
/// Status code and message (RFC 8415 section 21.13).
pub const STATUS_CODE: u16 = 13;
/// Rapid Commit, empty (RFC 8415 section 21.14).
pub const RAPID_COMMIT: u16 = 14;
/// User Class: length-prefixed class items (RFC 8415 section 21.15).
pub const USER_CLASS: u16 = 15;
/// Vendor Class: enterprise number and class items (RFC 8415 section 21.16).
pub const VENDOR_CLASS: u16 = 16;
/// Vendor-specific Information: enterprise number and sub-options (RFC 8415 section 21.17).
pub const VENDOR_OPTS: u16 = 17;
/// Interface-Id, set by a relay agent (RFC 8415 section 21.18).
pub const INTERFACE_ID: u16 = 18;
/// Reconfigure Message (RFC 8415 section 21.19).
pub const RECONFIGURE_MESSAGE: u16 = 19;
/// Reconfigure Accept (RFC 8415 section 21.20).
pub const RECONFIGURE_ACCEPT: u16 = 20;
/// SIP server domain names (RFC 3319).
pub const SIP_SERVER_DOMAINS: u16 = 21;
/// SIP server IPv6 addresses (RFC 3319).
pub const SIP_SERVER_ADDRESSES: u16 = 22;
/// Recursive DNS servers, a list of IPv6 addresses (RFC 3646 section 3).
pub const DNS_SERVERS: u16 = 23;
/// Domain search list, DNS wire-format names (RFC 3646 section 4).
pub const DOMAIN_LIST: u16 = 24;
/// Identity Association for Prefix Delegation (RFC 8415 section 21.21).
pub const IA_PD: u16 = 25;
/// IA Prefix, inside IA_PD (RFC 8415 section 21.22).
pub const IA_PREFIX: u16 = 26;
/// SNTP servers (RFC 4075).
pub const SNTP_SERVERS: u16 = 31;
/// Information refresh time (RFC 8415 section 21.23).
pub const INFORMATION_REFRESH_TIME: u16 = 32;
/// Relay agent Remote-ID: enterprise number and identifier (RFC 4649).
pub const REMOTE_ID: u16 = 37;
/// Relay agent Subscriber-ID (RFC 4580).
pub const SUBSCRIBER_ID: u16 = 38;
/// Client FQDN: flags and a DNS name (RFC 4704).
pub const CLIENT_FQDN: u16 = 39;
/// NTP server (RFC 5908).
pub const NTP_SERVER: u16 = 56;
/// Boot File URL (RFC 5970 section 3.1).
pub const BOOTFILE_URL: u16 = 59;
/// Boot File Parameters, length-prefixed strings (RFC 5970 section 3.2).
pub const BOOTFILE_PARAM: u16 = 60;
/// Client System Architecture Type, a list of 16-bit types (RFC 5970 section 3.3).
pub const CLIENT_ARCH_TYPE: u16 = 61;
/// Client Network Interface Identifier: type, major, minor (RFC 5970 section 3.4).
pub const NII: u16 = 62;
/// Client link-layer address, inserted by relay agents (RFC 6939).
pub const CLIENT_LINKLAYER_ADDR: u16 = 79;
/// SOL_MAX_RT override (RFC 8415 section 21.24).
pub const SOL_MAX_RT: u16 = 82;
/// INF_MAX_RT override (RFC 8415 section 21.25).
pub const INF_MAX_RT: u16 = 83;

/// The short lower-case name of option `code` (`"ia-na"`, `"bootfile-url"`,
/// ...), or `None` for codes this crate does not name.
#[inline]
pub fn name(code: u16) -> Option<&'static str> {
    Some(match code {
        CLIENT_ID => "client-id",
        SERVER_ID => "server-id",
        IA_NA => "ia-na",
        IA_TA => "ia-ta",
        IA_ADDR => "iaaddr",
        ORO => "oro",
        PREFERENCE => "preference",
        ELAPSED_TIME => "elapsed-time",
        RELAY_MESSAGE => "relay-msg",
        AUTH => "auth",
        UNICAST => "unicast",
        STATUS_CODE => "status-code",
        RAPID_COMMIT => "rapid-commit",
        USER_CLASS => "user-class",
        VENDOR_CLASS => "vendor-class",
        VENDOR_OPTS => "vendor-opts",
        INTERFACE_ID => "interface-id",
        RECONFIGURE_MESSAGE => "reconf-msg",
        RECONFIGURE_ACCEPT => "reconf-accept",
        SIP_SERVER_DOMAINS => "sip-server-domains",
        SIP_SERVER_ADDRESSES => "sip-server-addresses",
        DNS_SERVERS => "dns-servers",
        DOMAIN_LIST => "domain-list",
        IA_PD => "ia-pd",
        IA_PREFIX => "iaprefix",
        SNTP_SERVERS => "sntp-servers",
        INFORMATION_REFRESH_TIME => "information-refresh-time",
        REMOTE_ID => "remote-id",
        SUBSCRIBER_ID => "subscriber-id",
        CLIENT_FQDN => "client-fqdn",
        NTP_SERVER => "ntp-server",
        BOOTFILE_URL => "bootfile-url",
        BOOTFILE_PARAM => "bootfile-param",
        CLIENT_ARCH_TYPE => "client-arch-type",
        NII => "nii",
        CLIENT_LINKLAYER_ADDR => "client-linklayer-addr",
        SOL_MAX_RT => "sol-max-rt",
        INF_MAX_RT => "inf-max-rt",
        _ => return None,
    })
}

/// Displays an option code with its name when it has one: `3 (ia-na)`,
/// or just `1234` (`Debug` prints the same).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Named(pub u16);

impl fmt::Debug for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match name(self.0) {
            Some(n) => write!(f, "{} ({n})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn names_read_well() {
        assert_eq!(name(IA_NA), Some("ia-na"));
        assert_eq!(name(BOOTFILE_URL), Some("bootfile-url"));
        assert_eq!(name(10), None);
        assert_eq!(format!("{} {}", Named(3), Named(4711)), "3 (ia-na) 4711");
    }
}
