#!/usr/bin/env bash
# Time to the initramfs of Debian 12's real installer booted over the network
# in qemu (TCG), pxe-server beside dnsmasq serving the same tree with the
# same configuration: BIOS (iPXE ROM -> pxelinux.0 -> linux + initrd.gz over
# TFTP) and UEFI Secure Boot (OVMF secboot + MS keys -> shim -> grub -> linux
# + initrd.gz over TFTP). Runs the vm_boot tests `vm_debian_installer_*`
# (release build), alternating servers, INSTALLER_RUNS times each, and
# prints a markdown table of the seconds from VM start to the kernel's
# "Run /init as init process", and from the boot loader's marker to the
# kernel's first console line (the kernel and initrd transfer).
#   sudo bash benches/load/installer.sh
# Needs what pxe-server/tests/vm_boot.rs needs plus
# debian-installer-12-netboot-amd64 and tshark (.ci/setup installs them).
# Each boot's UDP is captured on the server's link (PXE_VM_PCAP) and the
# initrd's transfer summarised from it by tftp_pcap.py: its packet counts
# do not depend on the machine's load, its times do.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RUNS="${INSTALLER_RUNS:-2}"
# the firmware to boot, in this order (bios, uefi_secure_boot)
FIRMWARE="${INSTALLER_FIRMWARE:-bios uefi_secure_boot}"
OUT="${LOAD_OUT:-$(mktemp -d /tmp/pxe-installer.XXXXXX)}"
mkdir -p "$OUT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-load}"
# every boot's UDP on the server's link, for tftp_pcap.py (INSTALLER_PCAP=0: none)
if [[ "${INSTALLER_PCAP:-1}" != 0 ]]; then
  export PXE_VM_PCAP="$OUT/pcap"
  mkdir -p "$PXE_VM_PCAP"
fi

echo "building the vm_boot tests (release)" >&2
# the test binary runs directly: cargo would hold the target directory's
# lock for the whole boot
BIN=$(cd "$ROOT" && cargo test --release -p pxe-server --test vm_boot --no-run 2>&1 |
  tee "$OUT/build.log" | sed -n 's/.*Executable .*(\(.*\))$/\1/p' | tail -1)
[[ -x "$BIN" ]] || { echo "build failed, see $OUT/build.log" >&2; exit 1; }

declare -A T=() F=() C=()
ROWS=()
for ((i = 1; i <= RUNS; i++)); do
  for fw in $FIRMWARE; do
    # which server boots first alternates from run to run
    order="pxe_server dnsmasq"
    ((i % 2 == 0)) && order="dnsmasq pxe_server"
    for server in $order; do
      name="vm_debian_installer_${fw}_${server}"
      log="$OUT/$name-$i.log"
      echo "run $i: $name" >&2
      timeout 600 "$BIN" "$name" --exact --include-ignored --nocapture >"$log" 2>&1 || true
      s=$(sed -n 's/.*initramfs after \([0-9.]*\) s.*/\1/p' "$log" | tail -1)
      f=$(sed -n 's/.*kernel + initrd \([0-9.?]*\) s.*/\1/p' "$log" | tail -1)
      c=$(sed -n 's/.*server CPU \([0-9.?]*\) s.*/\1/p' "$log" | tail -1)
      T[$fw,$server]+="${s:-FAIL} "
      F[$fw,$server]+="${f:-FAIL} "
      C[$fw,$server]+="${c:-?} "
      # the initrd's transfer as the capture saw it
      cap=$(sed -n 's/^capturing to \(.*\)$/\1/p' "$log" | tail -1)
      if [[ -n "$cap" && -f "$cap" ]]; then
        line=$(python3 "$HERE/tftp_pcap.py" --tsv "$cap" 2>/dev/null | grep initrd.gz | tail -1) || true
        if [[ -n "$line" ]]; then
          IFS=$'\t' read -r _ _ secs data resent _ dup after _ d50 d99 a50 a99 gaps gsum dsum asum <<<"$line"
          ROWS+=("| $fw | ${server/_/-} | $i | $secs | $data | $resent | $dup ($after) | $gaps | $d50 / $d99 ($dsum) | $a50 / $a99 ($asum) | ${c:-?} |")
        fi
      fi
    done
  done
done

echo "## Installer boot $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), pxe-server at $(cd "$ROOT" && git rev-parse --short HEAD)"
echo
echo "Seconds from VM start to the initramfs, and from the loader's marker to the kernel's first"
echo "console line (kernel + initrd.gz over TFTP, to the console poll's 0.25 s); TCG, $RUNS runs each, in run order"
echo
v=$(dnsmasq --version | awk 'NR==1{print $3}')
echo "| firmware | pxe-server to initramfs | dnsmasq $v to initramfs | pxe-server kernel + initrd | dnsmasq kernel + initrd |"
echo "|---|---:|---:|---:|---:|"
for fw in $FIRMWARE; do
  echo "| $fw | ${T[$fw,pxe_server]% } | ${T[$fw,dnsmasq]% } | ${F[$fw,pxe_server]% } | ${F[$fw,dnsmasq]% } |"
done
if ((${#ROWS[@]})); then
  echo
  echo "The initrd.gz transfer in each boot's capture (benches/load/tftp_pcap.py): seconds, DATA"
  echo "datagrams, blocks sent again, duplicate ACKs (blocks resent within 50 ms after one), gaps > 100 ms,"
  echo "the client's DATA → ACK and the server's ACK → DATA turnarounds p50 / p99 in µs (their sum in s),"
  echo "and the server's CPU seconds for the whole boot (/proc, all threads)"
  echo
  echo "| firmware | server | run | initrd s | DATA | resent | duplicate ACKs | gaps | client DATA→ACK | server ACK→DATA | server CPU s |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
fi
echo
echo "raw logs in $OUT" >&2
