//! The reference netboot server: engine, drivers and binary.
//!
//! Work in progress: see issue 5. Nothing here is usable yet.
#![no_std]
