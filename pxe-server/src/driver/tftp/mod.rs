//! The TFTP service of the tokio driver: the request loop feeding
//! `pxe-tftp`'s server [`Endpoint`](pxe_tftp::server::Endpoint), the
//! threads and sockets of per-port transfers, and the files — safe path
//! resolution under `tftp-root` and the per-client directories of
//! `tftp-unique-root` — and what it tells the boot journeys.

pub mod client_dir;
pub mod files;
mod observe;
pub mod path;
pub mod service;
mod socket;
mod transfer;
