//! TFTP service: safe path resolution under `tftp-root` and the transfer
//! table driving `pxe-tftp`'s sans-IO server sessions.

pub mod client_dir;
mod link;
pub mod path;
pub mod service;
