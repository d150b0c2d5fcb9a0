#!/usr/bin/env bash
# Builds the Debian package of pxe-server: the release binary once, the
# man page and shell completions generated from its clap definition, then
# `cargo deb --no-build` (which reads [package.metadata.deb]).
# Usage: pxe-server/debian/build-deb.sh   (prints the .deb's path last)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -p pxe-server
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$target/release/pxe-server"
assets="$target/release/assets"
rm -rf "$assets"
mkdir -p "$assets"
"$bin" man | gzip -9n >"$assets/pxe-server.8.gz"
"$bin" completions bash >"$assets/pxe-server.bash"
"$bin" completions zsh >"$assets/_pxe-server"
"$bin" completions fish >"$assets/pxe-server.fish"
cargo deb -p pxe-server --no-build --locked
