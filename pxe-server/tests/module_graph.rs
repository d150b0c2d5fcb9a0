//! The crate's module graph stays a DAG with the drivers at the bottom:
//! no driver module names a binary-level module (`config`, `service`,
//! `leases`, `tftp_settings`), which would close an import cycle through
//! the orchestration (as `config → run → config` once did).

use std::fs;
use std::path::{Path, PathBuf};

/// The binary-level modules of `src/` (see the crate docs' module table).
const BINARY_MODULES: [&str; 7] = [
    "config",
    "service",
    "leases",
    "tftp_settings",
    "logging",
    "notify",
    "privileges",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("source directory is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The first segment of every `crate::` path on a line, including each
/// name of a `crate::{a, b::c}` group.
fn crate_paths(line: &str) -> impl Iterator<Item = &str> {
    line.split("crate::").skip(1).flat_map(|rest| {
        let group = rest
            .strip_prefix('{')
            .map(|g| g.split('}').next().unwrap_or(g));
        let heads: Vec<&str> = match group {
            Some(g) => g.split(',').map(str::trim).collect(),
            None => vec![rest],
        };
        heads.into_iter().map(|h| {
            h.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("")
        })
    })
}

#[test]
fn crate_paths_finds_plain_and_grouped_imports() {
    let found: Vec<&str> =
        crate_paths("use crate::{config::X, driver::net}; let _ = crate::service::run;").collect();
    assert_eq!(found, ["config", "driver", "service"]);
}

#[test]
fn drivers_never_use_binary_level_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join("driver"), &mut files);
    assert!(files.len() > 5, "driver sources found: {files:?}");
    let mut offences = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("source file is readable");
        for (n, line) in text.lines().enumerate() {
            if crate_paths(line).any(|first| BINARY_MODULES.contains(&first)) {
                offences.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "drivers use binary-level modules:\n{}",
        offences.join("\n")
    );
}
