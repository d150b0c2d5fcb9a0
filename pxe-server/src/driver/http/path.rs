//! Mapping a request path onto a file under the HTTP root, safely.

use std::path::{Component, Path, PathBuf};

use pxe_engine::script::percent_decode;

/// Why a request path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A `%` not followed by two hex digits, or non-UTF-8 after decoding.
    #[error("bad percent-encoding in path")]
    BadEncoding,
    /// A NUL or other control character (after decoding).
    #[error("control character in path")]
    ControlCharacter,
    /// A backslash (after decoding); refused rather than guessed at.
    #[error("backslash in path")]
    Backslash,
    /// A `..` segment (after decoding).
    #[error("`..` in path")]
    DotDot,
    /// The path names no file (empty, or a directory).
    #[error("no such file")]
    NotFound,
    /// The path resolves (through a symbolic link) outside the root.
    #[error("path leaves the HTTP root")]
    OutsideRoot,
}

/// Checks a request path (as on the request line, percent-encoded, without
/// query) and returns the relative path it names.
///
/// Decoding comes first, so `%2e%2e` is a `..`; empty and `.` segments are
/// skipped (`//a` is `a`, no redirect); `..`, control characters and
/// backslashes are refused.
pub fn relative_path(target: &str) -> Result<PathBuf, PathError> {
    let decoded = percent_decode(target).ok_or(PathError::BadEncoding)?;
    if decoded.chars().any(char::is_control) {
        return Err(PathError::ControlCharacter);
    }
    if decoded.contains('\\') {
        return Err(PathError::Backslash);
    }
    let mut rel = PathBuf::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err(PathError::DotDot),
            s => rel.push(s),
        }
    }
    // Belt and braces: what was pushed must be plain names only.
    if rel.as_os_str().is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(PathError::NotFound);
    }
    Ok(rel)
}

/// Resolves a request path to a regular file inside `root` (which must be
/// canonical, see [`std::fs::canonicalize`]), following symbolic links only
/// as long as they stay inside `root`.
pub async fn resolve(root: &Path, target: &str) -> Result<PathBuf, PathError> {
    let rel = relative_path(target)?;
    let joined = root.join(rel);
    let real = tokio::fs::canonicalize(&joined)
        .await
        .map_err(|_| PathError::NotFound)?;
    if !real.starts_with(root) {
        return Err(PathError::OutsideRoot);
    }
    match tokio::fs::metadata(&real).await {
        Ok(m) if m.is_file() => Ok(real),
        _ => Err(PathError::NotFound),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path("/pxelinux.0"),
            Ok(PathBuf::from("pxelinux.0"))
        );
        assert_eq!(
            relative_path("//pxelinux.cfg/./default"),
            Ok(PathBuf::from("pxelinux.cfg/default"))
        );
        assert_eq!(relative_path("/a%20b"), Ok(PathBuf::from("a b")));
        assert_eq!(relative_path("/"), Err(PathError::NotFound));
        assert_eq!(relative_path(""), Err(PathError::NotFound));
        for bad in [
            "/../etc/passwd",
            "/a/../../b",
            "/%2e%2e/x",
            "/%2E%2E%2fx",
            "/a/%2e%2e",
        ] {
            assert_eq!(relative_path(bad), Err(PathError::DotDot), "{bad}");
        }
        assert_eq!(relative_path("/a%00b"), Err(PathError::ControlCharacter));
        assert_eq!(relative_path("/a%0ab"), Err(PathError::ControlCharacter));
        assert_eq!(relative_path("/a%5c..%5cb"), Err(PathError::Backslash));
        assert_eq!(relative_path("/a%zz"), Err(PathError::BadEncoding));
        assert_eq!(relative_path("/a%ff"), Err(PathError::BadEncoding));
        // An absolute path after decoding is still relative to the root.
        assert_eq!(
            relative_path("/%2fetc%2fpasswd"),
            Ok(PathBuf::from("etc/passwd"))
        );
    }
}
