//! Allocation-free text renderings shared by the `Display` impls.

use core::fmt;

/// Bytes as lower-case hex without separators (`00041e00...`).
pub(crate) struct Hex<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// A link-layer address as colon-separated hex (`02:00:00:77:00:01`).
pub(crate) struct Colons<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Colons<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Text from the wire, printable ASCII kept and everything else (and `'`
/// and `\`) escaped as `\xNN`, so a hostile value cannot forge log lines.
pub(crate) struct Escaped<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.0 {
            if (0x20..0x7f).contains(&b) && b != b'\'' && b != b'\\' {
                fmt::Write::write_char(f, char::from(b))?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// `'text'`, escaped as [`Escaped`].
pub(crate) struct Quoted<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}'", Escaped(self.0))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn renderings() {
        assert_eq!(format!("{}", Hex(&[0, 0xab, 7])), "00ab07");
        assert_eq!(format!("{}", Colons(&[2, 0, 0xff])), "02:00:ff");
        assert_eq!(format!("{}", Quoted(b"a'b\n\\")), "'a\\x27b\\x0a\\x5c'");
        assert_eq!(format!("{}", Colons(&[])), "");
    }
}
