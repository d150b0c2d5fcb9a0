//! A sans-IO TFTP engine (RFC 1350, 2347, 2348, 2349, 7440).
//!
//! Work in progress: see issue 3. Nothing here is usable yet.
#![no_std]
