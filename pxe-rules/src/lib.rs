//! dnsmasq's tag logic as a reusable evaluator, and its configuration dialect.
//!
//! Work in progress: see issue 4. Nothing here is usable yet.
#![no_std]
