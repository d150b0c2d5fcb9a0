//! The ports the services bind (changeable, for tests).

use pxe_engine::dhcp::addressing::{PXE_PORT, SERVER_PORT};

/// Knobs of the driver (ports can be changed for tests).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// DHCP server port (67).
    pub dhcp_port: u16,
    /// PXE boot server port (4011).
    pub pxe_port: u16,
    /// TFTP port (69).
    pub tftp_port: u16,
    /// DHCPv6 server port (547).
    pub dhcp6_port: u16,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            dhcp_port: SERVER_PORT,
            pxe_port: PXE_PORT,
            tftp_port: 69,
            dhcp6_port: pxe_engine::dhcp::v6::SERVER_PORT,
        }
    }
}
