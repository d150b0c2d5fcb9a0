//! TFTP service: safe path resolution under `tftp-root` and the transfer
//! table driving `pxe-tftp`'s sans-IO server sessions.

#[cfg(feature = "std")]
pub mod client_dir;
#[cfg(feature = "tokio")]
mod link;
#[cfg(feature = "std")]
pub mod path;
#[cfg(feature = "tokio")]
pub mod service;
