pub mod tftp;
