//! The storage side of a transfer: where a sender's bytes come from and a
//! receiver's bytes go. Files, memory and flash all fit behind these traits.

use core::convert::Infallible;
use core::fmt;

/// A readable, randomly addressable byte source (the file being served).
///
/// Contract: `read_at` fills as much of `buf` as it can from `offset` and
/// returns the count; `Ok(0)` means end of file. Short reads before the end
/// are allowed (the engine loops). The engine reads sequentially, re-reading
/// earlier offsets only when the peer asks for a window again.
pub trait DataSource {
    /// The source's read error.
    type Error: fmt::Debug + fmt::Display;

    /// Reads bytes at `offset` into `buf`; 0 only at end of file.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Self::Error>;

    /// The size in bytes, if known; used for `tsize` and to bound reads (a
    /// source that is shorter than its declared size fails the transfer).
    fn size(&mut self) -> Option<u64>;
}

/// A byte sink written sequentially (the file being received).
pub trait DataSink {
    /// The sink's write error (reported to the peer as ERROR 3, disk full).
    type Error: fmt::Debug + fmt::Display;

    /// Writes `data` at `offset`. Offsets arrive in order without gaps.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), Self::Error>;
}

impl DataSource for &[u8] {
    type Error = Infallible;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Infallible> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
    fn size(&mut self) -> Option<u64> {
        Some(self.len() as u64)
    }
}

impl<T: DataSource + ?Sized> DataSource for &mut T {
    type Error = T::Error;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, T::Error> {
        (**self).read_at(offset, buf)
    }
    fn size(&mut self) -> Option<u64> {
        (**self).size()
    }
}

impl<T: DataSink + ?Sized> DataSink for &mut T {
    type Error = T::Error;
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), T::Error> {
        (**self).write_at(offset, data)
    }
}

/// The sink of a fixed buffer was full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("receive buffer of {capacity} bytes is full")]
pub struct SinkFull {
    /// The buffer's capacity.
    pub capacity: usize,
}

/// A sink writing into a borrowed buffer (no allocation, no_std).
#[derive(Debug)]
pub struct SliceSink<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SliceSink<'a> {
    /// A sink filling `buf` from the start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        SliceSink { buf, len: 0 }
    }
    /// The bytes received so far.
    pub fn filled(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl DataSink for SliceSink<'_> {
    type Error = SinkFull;
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), SinkFull> {
        let capacity = self.buf.len();
        let start = usize::try_from(offset).map_err(|_| SinkFull { capacity })?;
        let end = start
            .checked_add(data.len())
            .filter(|&e| e <= capacity)
            .ok_or(SinkFull { capacity })?;
        self.buf[start..end].copy_from_slice(data);
        self.len = self.len.max(end);
        Ok(())
    }
}

#[cfg(feature = "alloc")]
impl DataSink for alloc::vec::Vec<u8> {
    type Error = Infallible;
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), Infallible> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let overlap = (self.len() - start).min(data.len());
        self[start..start + overlap].copy_from_slice(&data[..overlap]);
        self.extend_from_slice(&data[overlap..]);
        Ok(())
    }
}

#[cfg(all(feature = "std", unix))]
impl DataSource for std::fs::File {
    type Error = std::io::Error;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, std::io::Error> {
        use std::os::unix::fs::FileExt;
        loop {
            match FileExt::read_at(self, buf, offset) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => return r,
            }
        }
    }
    fn size(&mut self) -> Option<u64> {
        self.metadata().ok().map(|m| m.len())
    }
}

#[cfg(all(feature = "std", unix))]
impl DataSink for std::fs::File {
    type Error = std::io::Error;
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        std::os::unix::fs::FileExt::write_all_at(self, data, offset)
    }
}
