//! The drivers: the code that moves bytes between the sans-IO engine and
//! endpoint crates and real sockets, files and threads. Nothing here reads
//! the configuration file or knows about the command line.

pub mod http;
pub mod net;
