//! Zero-copy DHCPv4 views and builders for network booting.
//!
//! Work in progress: see issue 2. Nothing here is usable yet.
#![no_std]
