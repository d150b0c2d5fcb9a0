#!/usr/bin/env bash
# Load scripts: pxe-server side by side with peer servers, same machine, same run.
#   bash benches/load/run.sh [dhcp|tftp|tftp-busy|all]
# Installs what it needs (apt), builds pxe-server in release, runs every cell
# bounded in time inside network namespaces it creates (torn down on exit),
# and prints markdown tables on stdout. Raw outputs stay in $LOAD_OUT.
# Knobs (environment): VETH_MTU (1500), DHCP_SERVERS DHCP_RATES DHCP_SECONDS DHCP_CLIENTS,
# TFTP_SERVERS TFTP_CLIENTS TFTP_BLKSIZES TFTP_WINDOWS TFTP_STORMS,
# TFTP_BUSY_SERVERS TFTP_BUSY_CELLS TFTP_BUSY_LOADS TFTP_HOGS PXE_SERVER_BASE_BIN (tftp-busy),
# PXE_SERVER_BIN (skip the build), CARGO_TARGET_DIR (default /work/target-load
# if /work exists, else target/load).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WHAT="${1:-all}"
case "$WHAT" in dhcp|tftp|tftp-busy|all) ;; *) echo "usage: $0 [dhcp|tftp|tftp-busy|all]" >&2; exit 2 ;; esac

source "$HERE/lib.sh"
source "$HERE/dhcp.sh"
source "$HERE/tftp.sh"
source "$HERE/tftp_busy.sh"
need_root

LOAD_OUT="${LOAD_OUT:-$(mktemp -d /tmp/pxe-load.XXXXXX)}"
mkdir -p "$LOAD_OUT"

cleanup() {
  local rc=$?
  # a server still running means we were interrupted mid-cell
  stop_pid "${DHCP_PID:-}"
  stop_pid "${TFTP_PID:-}"
  [[ -n "${CLEANUP_HOOK:-}" ]] && $CLEANUP_HOOK || true
  ns_down
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

install_packages() {
  local want=(iproute2 procps) missing=() p
  [[ "$WHAT" != tftp* ]] && want+=(kea-admin kea-dhcp4-server dnsmasq postgresql postgresql-client)
  [[ "$WHAT" != dhcp ]] && want+=(dnsmasq atftp tftp-hpa curl libwrap0)
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # packaged services must not hold ports (they run outside our namespaces anyway)
  for p in dnsmasq kea-dhcp4-server postgresql; do service "$p" stop >/dev/null 2>&1 || true; done
}

build_pxe_server() {
  if [[ -n "${PXE_SERVER_BIN:-}" ]]; then return 0; fi
  local tdir="${CARGO_TARGET_DIR:-}"
  if [[ -z "$tdir" ]]; then
    if [[ -d /work ]]; then tdir=/work/target-load; else tdir="$ROOT/target/load"; fi
  fi
  if [[ ! -f "$ROOT/pxe-server/src/main.rs" ]]; then
    log "pxe-server has no binary yet: measuring the peers only"
    return 0
  fi
  log "building pxe-server (release, CARGO_TARGET_DIR=$tdir)"
  if (cd "$ROOT" && CARGO_TARGET_DIR="$tdir" cargo build --release -q -p pxe-server --bin pxe-server) >"$LOAD_OUT/build.log" 2>&1; then
    PXE_SERVER_BIN="$tdir/release/pxe-server"
  else
    log "pxe-server failed to build (see $LOAD_OUT/build.log): measuring the peers only"
  fi
}

install_packages
build_pxe_server
log "raw outputs in $LOAD_OUT"
ns_up

echo "## Load run $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Versions: dnsmasq $(dnsmasq --version | awk 'NR==1{print $3}'), kea-dhcp4 $(kea-dhcp4 -V 2>/dev/null | head -1), perfdhcp $(perfdhcp -v 2>&1 | awk '{print $2}')${PXE_SERVER_BIN:+, pxe-server at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)}"
[[ "$WHAT" == dhcp || "$WHAT" == all ]] && dhcp_run
[[ "$WHAT" == tftp || "$WHAT" == all ]] && tftp_run
[[ "$WHAT" == tftp-busy || "$WHAT" == all ]] && tftp_busy_run
exit 0
