//! A VM's serial console as text. Shared by the pxe-server and pxe-smoltcp
//! VM tests (the latter include this file by path).
//!
//! SeaBIOS, iPXE and OVMF colour the console and move the cursor with ANSI
//! escapes; SeaBIOS mirrors the BIOS screen onto the serial port, so when
//! the screen scrolls it can put cursor moves in the middle of what a boot
//! loader prints on the same port (`SMOLTCP-\x1b[25;08H\x1b[25;09HPXELINUX-…`).
//! Match on [`strip_ansi`]'s result, never on the raw bytes.

#![allow(dead_code, unreachable_pub)]

use std::fs;
use std::io::Read;
use std::path::Path;

/// Reads a file as text, lossily; empty if missing.
pub fn read_lossy(p: &Path) -> String {
    let mut v = Vec::new();
    if let Ok(mut f) = fs::File::open(p) {
        let _ = f.read_to_end(&mut v);
    }
    String::from_utf8_lossy(&v).into_owned()
}

/// The last `n` bytes of `s` (at a char boundary), with ANSI escapes
/// removed, for failure messages.
pub fn tail(s: &str, n: usize) -> String {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    strip_ansi(&s[start..])
}

/// Removes ANSI escape sequences (SeaBIOS, iPXE and OVMF colour the
/// console).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            if it.peek() == Some(&'[') {
                it.next();
                while let Some(&d) = it.peek() {
                    it.next();
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else if c != '\r' {
            out.push(c);
        }
    }
    out
}
