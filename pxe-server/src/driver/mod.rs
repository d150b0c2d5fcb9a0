//! The drivers: the code that moves bytes between the sans-IO engine and
//! endpoint crates and real sockets, files and threads. Nothing here reads
//! the configuration file or knows about the command line.

pub(crate) mod clock;
pub(crate) mod dhcp;
pub mod dhcp6;
pub(crate) mod engine;
pub mod http;
pub mod journeys;
pub(crate) mod lease_writer;
pub mod metrics;
pub mod neigh;
pub mod net;
pub mod options;
pub(crate) mod store;
pub mod tftp;
