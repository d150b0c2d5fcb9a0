//! The reference netboot server: engine, drivers and binary.
//!
//! Work in progress: see issue 5.
#![no_std]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::panic))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "tokio")]
pub mod config;
#[cfg(feature = "alloc")]
pub mod engine;
#[cfg(feature = "tokio")]
pub mod http;
#[cfg(feature = "alloc")]
pub mod lease;
#[cfg(feature = "tokio")]
pub mod net;
#[cfg(feature = "tokio")]
pub mod run;
#[cfg(feature = "alloc")]
pub mod script;
pub mod tftp;
