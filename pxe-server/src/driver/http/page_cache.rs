//! Keeping disk reads off the async workers: `sendfile(2)` reads the file
//! on the thread that calls it, so a range not in the page cache (a file's
//! first boot after the server machine started, or after memory pressure
//! evicted it) would stall a tokio worker, and every connection queued on
//! it, for the disk read. Before each chunk is sent, [`holds`] asks the
//! kernel whether it would have to read the disk — a one-byte
//! `preadv2(RWF_NOWAIT)` at both ends of the chunk, which fails with
//! `EAGAIN` instead of waiting — and [`warm`] reads a cold chunk into the
//! page cache on tokio's blocking pool first; `sendfile` then finds it
//! there. (nginx without `aio threads` blocks its worker instead.)

use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;
use std::vec;

/// Bytes read per call while warming a chunk.
const WARM_READ: usize = 256 * 1024;

/// Whether the page cache holds the first and the last byte of
/// `offset..offset + len`, so that `sendfile` will not read the disk (a
/// chunk is read ahead as a whole, so its ends stand for it). A file system
/// that cannot answer without waiting (`EOPNOTSUPP`), or any other error,
/// counts as cached: `sendfile` then behaves as it always did and reports
/// what is wrong itself.
pub(super) fn holds(file: &impl AsFd, offset: u64, len: usize) -> bool {
    if len == 0 {
        return true;
    }
    let last = offset.saturating_add(len as u64 - 1);
    byte_cached(file, offset) && (last == offset || byte_cached(file, last))
}

fn byte_cached(file: &impl AsFd, at: u64) -> bool {
    let mut byte = [0u8; 1];
    let mut bufs = [io::IoSliceMut::new(&mut byte)];
    !matches!(
        rustix::io::preadv2(file, &mut bufs, at, rustix::io::ReadWriteFlags::NOWAIT),
        Err(rustix::io::Errno::AGAIN)
    )
}

/// Reads `offset..offset + len` of `file` (up to its end) on the blocking
/// pool, which leaves it in the page cache.
pub(super) async fn warm(file: &impl AsFd, offset: u64, len: usize) -> io::Result<()> {
    let file = std::fs::File::from(file.as_fd().try_clone_to_owned()?);
    tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; WARM_READ.min(len)];
        let (mut at, end) = (offset, offset.saturating_add(len as u64));
        while at < end {
            let want = usize::try_from(end - at).map_or(buf.len(), |n| n.min(buf.len()));
            match file.read_at(&mut buf[..want], at) {
                Ok(0) => break,
                Ok(n) => at += n as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    })
    .await
    .map_err(io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A file on the disk the tests run from (not tmpfs, whose pages are
    /// always "cached"), written, synced and dropped from the page cache.
    fn cold_file(len: usize) -> (tempfile::TempDir, std::fs::File) {
        let dir = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).expect("tempdir");
        let path = dir.path().join("cold.bin");
        let mut f = std::fs::File::create(&path).expect("create");
        let data: std::vec::Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        f.write_all(&data).expect("write");
        f.sync_all().expect("sync");
        drop(f);
        let f = std::fs::File::open(&path).expect("open");
        nix::fcntl::posix_fadvise(
            &f,
            0,
            0,
            nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED,
        )
        .expect("fadvise");
        (dir, f)
    }

    #[tokio::test]
    async fn a_dropped_chunk_is_cold_until_warmed_and_a_read_one_is_cached() {
        let mib = 1024 * 1024;
        let len = 32 * mib;
        let (_dir, f) = cold_file(len);
        let chunk = 2 * mib;
        assert!(
            !holds(&f, 0, chunk),
            "the file system of {} answers RWF_NOWAIT reads: a file just dropped from the page cache must be cold",
            env!("CARGO_MANIFEST_DIR")
        );
        warm(&f, 0, chunk).await.expect("warm");
        assert!(holds(&f, 0, chunk));
        // The rest of the file was not read (readahead may go a little past
        // the chunk, not to the end of the file).
        assert!(!holds(&f, len as u64 - 1, 1));
        // Warming past the end stops at the end.
        let tail = (len - mib) as u64;
        warm(&f, tail, chunk).await.expect("warm the tail");
        assert!(holds(&f, tail, mib));
        // Empty ranges and ranges past the end need nothing.
        assert!(holds(&f, 0, 0));
        assert!(holds(&f, len as u64 + 10, 5));
    }
}
