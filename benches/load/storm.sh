#!/usr/bin/env bash
# Boot storms: N machines power on together and boot the whole chain
# (firmware DHCP -> first stage over TFTP -> iPXE's DHCP -> script, kernel
# and initrd over HTTP), against pxe-server doing everything and against
# dnsmasq (DHCP + TFTP) + nginx (HTTP, sendfile) with the same configuration,
# one after the other in the same run, fresh servers and lease files per cell.
#   sudo bash benches/load/storm.sh
# The clients are benches/src/bin/storm.rs (see its docs for what each
# machine does and its timers). Everything runs in two network namespaces
# joined by a veth pair (MTU $VETH_MTU, 10.213.0.0/16) that this script
# creates and removes on exit; the DHCP pool is put on the client's side so
# each machine talks TFTP and HTTP from its own leased address.
# Knobs (environment): STORM_NS ("50 200 500"), STORM_CONTESTANTS
# ("pxe-server dnsmasq+nginx"), STORM_TIMEOUT (300 s per cell; a machine not
# done by then is failed), STORM_SPREAD_MS (1000: power-on times spread over
# this), STORM_BIOS_EVERY (4: every 4th machine is a BIOS PXE ROM, the others
# EDK2), STORM_THREADS (1: the driver's tokio threads), STORM_UNTIL (all; or
# dhcp | tftp | ipxe-dhcp | script: each machine stops after that stage), PXE_SERVER_BIN and
# STORM_BIN (skip the builds), CARGO_TARGET_DIR, VETH_MTU (1500), LOAD_OUT,
# STORM_PERF (set: `perf record -g` of the server processes per cell, to $LOAD_OUT/CELL/perf.data).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
source "$HERE/lib.sh"
need_root

STORM_NS="${STORM_NS:-50 200 500}"
STORM_CONTESTANTS="${STORM_CONTESTANTS:-pxe-server dnsmasq+nginx}"
STORM_TIMEOUT="${STORM_TIMEOUT:-300}"
STORM_SPREAD_MS="${STORM_SPREAD_MS:-1000}"
STORM_BIOS_EVERY="${STORM_BIOS_EVERY:-4}"
STORM_THREADS="${STORM_THREADS:-1}"
STORM_UNTIL="${STORM_UNTIL:-all}"
D_I=/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64
LOAD_OUT="${LOAD_OUT:-$(mktemp -d /tmp/pxe-storm.XXXXXX)}"
mkdir -p "$LOAD_OUT"
TCK=$(getconf CLK_TCK)

SRV_PIDS=()
cleanup() {
  local rc=$? p
  for p in "${SRV_PIDS[@]}"; do stop_pid "$p"; done
  ns_down
  [[ -n "${STORM_SHM:-}" ]] && rm -rf "$STORM_SHM"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_tool dnsmasq nginx ip ss awk
[[ -f "$D_I/linux" && -f "$D_I/initrd.gz" ]] || die "debian-installer-12-netboot-amd64 is not installed"
[[ -f /usr/lib/ipxe/snponly.efi && -f /usr/lib/ipxe/undionly.kpxe ]] || die "ipxe is not installed"
service nginx stop >/dev/null 2>&1 || true
service dnsmasq stop >/dev/null 2>&1 || true

TDIR="${CARGO_TARGET_DIR:-/work/target-load}"
if [[ -z "${PXE_SERVER_BIN:-}" || -z "${STORM_BIN:-}" ]]; then
  log "building pxe-server and the storm driver (release, CARGO_TARGET_DIR=$TDIR)"
  (cd "$ROOT" && CARGO_TARGET_DIR="$TDIR" cargo build --release -q -p pxe-server --bin pxe-server \
    -p pxe-benches --bin storm) >"$LOAD_OUT/build.log" 2>&1 || die "build failed, see $LOAD_OUT/build.log"
fi
PXE_SERVER_BIN="${PXE_SERVER_BIN:-$TDIR/release/pxe-server}"
STORM_BIN="${STORM_BIN:-$TDIR/release/storm}"
need_tool "$PXE_SERVER_BIN" "$STORM_BIN"
[[ -z "${STORM_PERF:-}" ]] || need_tool perf  # Debian linux-perf, only for STORM_PERF

# ---- the tree both contestants serve (tmpfs: the same page-cache-resident bytes for both)
STORM_SHM="$(mktemp -d /dev/shm/pxe-storm.XXXXXX)"
mkdir -p "$STORM_SHM/tftp" "$STORM_SHM/http" "$STORM_SHM/nginx"
cp /usr/lib/ipxe/snponly.efi /usr/lib/ipxe/undionly.kpxe "$STORM_SHM/tftp/"
cp "$D_I/linux" "$D_I/initrd.gz" "$STORM_SHM/http/"
# pxe-server renders this template; nginx serves it rendered (static file)
cat >"$STORM_SHM/boot.ipxe" <<'IPXE'
#!ipxe
kernel http://{{server}}/linux initrd=initrd.gz auto=true priority=critical
initrd http://{{server}}/initrd.gz
boot
IPXE
sed "s/{{server}}/$SRV_IP/g" "$STORM_SHM/boot.ipxe" >"$STORM_SHM/nginx/boot.ipxe"
chmod -R a+rX "$STORM_SHM"
chmod 755 "$STORM_SHM"

# ---- the pool: on the client's interface too (each machine sends from its lease)
max_n=0
for n in $STORM_NS; do ((n > max_n)) && max_n=$n; done
# firmware and iPXE may get different leases (iPXE sends a client id)
blocks=$(((2 * max_n + 64 + 255) / 256))
POOL_FIRST=10.213.16.1
POOL_LAST="10.213.$((16 + blocks - 1)).254"

ns_up
{
  for ((b = 16; b < 16 + blocks; b++)); do
    for ((h = 0; h <= 255; h++)); do echo "addr add 10.213.$b.$h/32 dev $IF_CLI"; done
  done
} | ip -n "$NS_CLI" -batch -

common_conf() { # FILE N LEASEFILE
  cat >"$1" <<CONF
port=0
interface=$IF_SRV
bind-interfaces
dhcp-range=$POOL_FIRST,$POOL_LAST,255.255.0.0,1h
dhcp-authoritative
dhcp-lease-max=$((4 * $2 + 1000))
dhcp-leasefile=$3
no-ping
quiet-dhcp
dhcp-match=set:ipxe,175
dhcp-userclass=set:ipxe,iPXE
dhcp-match=set:efi64,option:client-arch,7
dhcp-boot=tag:!ipxe,tag:efi64,snponly.efi
dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe
dhcp-boot=tag:ipxe,http://$SRV_IP/ipxe.php?mac=\${mac}&uuid=\${uuid}
enable-tftp
tftp-root=$STORM_SHM/tftp
tftp-max=$(($2 + 64))
quiet-tftp
CONF
}

wait_tcp_port() { # NS PORT
  local i
  for i in $(seq 50); do
    ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

# start_contestant NAME N DIR -> SRV_PIDS (the top processes)
start_contestant() {
  local name=$1 n=$2 dir=$3
  SRV_PIDS=()
  case "$name" in
    pxe-server)
      common_conf "$dir/pxe.conf" "$n" "$dir/leases"
      cat >>"$dir/pxe.conf" <<CONF
http-port=80
http-root=$STORM_SHM/http
ipxe-script=$STORM_SHM/boot.ipxe
CONF
      ip netns exec "$NS_SRV" env RUST_LOG=warn "$PXE_SERVER_BIN" --conf "$dir/pxe.conf" \
        >"$dir/server.log" 2>&1 &
      SRV_PIDS+=($!)
      ;;
    dnsmasq+nginx)
      common_conf "$dir/dnsmasq.conf" "$n" "$dir/leases"
      : >"$dir/leases"
      ip netns exec "$NS_SRV" dnsmasq -k -C "$dir/dnsmasq.conf" --pid-file="$dir/dnsmasq.pid" \
        --log-facility="$dir/dnsmasq.log" >"$dir/server.log" 2>&1 &
      SRV_PIDS+=($!)
      mkdir -p "$dir/nginx-tmp"
      cat >"$dir/nginx.conf" <<CONF
user www-data;
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000;
    default_type application/octet-stream;
    client_body_temp_path $dir/nginx-tmp/body;
    proxy_temp_path $dir/nginx-tmp/proxy;
    fastcgi_temp_path $dir/nginx-tmp/fastcgi;
    uwsgi_temp_path $dir/nginx-tmp/uwsgi;
    scgi_temp_path $dir/nginx-tmp/scgi;
    server {
        listen $SRV_IP:80 backlog=4096;
        root $STORM_SHM/http;
        location = /ipxe.php { root $STORM_SHM/nginx; try_files /boot.ipxe =404; }
    }
}
CONF
      ip netns exec "$NS_SRV" nginx -c "$dir/nginx.conf" -p "$dir" -g 'daemon off;' \
        >>"$dir/server.log" 2>&1 &
      SRV_PIDS+=($!)
      ;;
    *) die "unknown contestant $name" ;;
  esac
  wait_udp_port "$NS_SRV" 67 && wait_udp_port "$NS_SRV" 69 && wait_tcp_port "$NS_SRV" 80 || {
    log "$name did not come up:"; tail -n 20 "$dir"/*.log >&2; return 1; }
  sleep 0.5 # nginx workers
}

# all server processes: the top ones and their children (nginx workers)
server_pids() {
  local p
  for p in "${SRV_PIDS[@]}"; do
    echo "$p"
    ps -o pid= --ppid "$p" 2>/dev/null || true
  done
}

# CPU ticks (utime + stime + cutime + cstime) summed over server_pids
server_ticks() {
  local p s t=0
  for p in $(server_pids); do
    s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    s=${s##*) }
    t=$((t + $(awk '{print $12 + $13 + $14 + $15}' <<<"$s")))
  done
  echo "$t"
}

# VmHWM summed over server_pids, KiB
server_hwm() {
  local p t=0 k
  for p in $(server_pids); do
    k=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null) || true
    t=$((t + ${k:-0}))
  done
  echo "$t"
}

veth_bytes() {
  in_srv cat "/sys/class/net/$IF_SRV/statistics/rx_bytes" "/sys/class/net/$IF_SRV/statistics/tx_bytes" |
    awk '{s += $1} END {printf "%.0f\n", s}'
}

# UDP datagrams dropped for a full receive buffer in a namespace (kernel counter)
udp_rcvbuf_errors() { ip netns exec "$1" nstat -az UdpRcvbufErrors 2>/dev/null | awk '$1 == "UdpRcvbufErrors" {print $2; exit}'; }

# busy ticks of the whole machine (all CPUs): user nice system irq softirq steal
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
softirq_ticks() { awk '/^cpu / {print $8; exit}' /proc/stat; }

declare -A R=()
cell() { # NAME N
  local name=$1 n=$2 dir="$LOAD_OUT/$1-$2"
  rm -rf "$dir"; mkdir -p "$dir"
  start_contestant "$name" "$n" "$dir" || { R[$name,$n]=nostart; return 0; }
  local la t0 m0 q0 b0 t1 m1 q1 b1 hwm out
  la=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(server_ticks); m0=$(machine_ticks); q0=$(softirq_ticks); b0=$(veth_bytes)
  local us0 uc0 us1 uc1
  us0=$(udp_rcvbuf_errors "$NS_SRV"); uc0=$(udp_rcvbuf_errors "$NS_CLI")
  log "storm: $name, $n machines"
  local perf_pid=""
  if [[ -n "${STORM_PERF:-}" ]]; then
    perf record -q -F 999 -g -o "$dir/perf.data" -p "$(server_pids | paste -sd, -)" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  in_cli "$STORM_BIN" --server "$SRV_IP" --iface "$IF_CLI" --machines "$n" \
    --bios-every "$STORM_BIOS_EVERY" --timeout "$STORM_TIMEOUT" --spread-ms "$STORM_SPREAD_MS" \
    --threads "$STORM_THREADS" --until "$STORM_UNTIL" --out "$dir/machines.csv" >"$dir/storm.txt" 2>"$dir/storm.err" ||
    log "storm driver exited $? (see $dir/storm.err)"
  t1=$(server_ticks); m1=$(machine_ticks); q1=$(softirq_ticks); b1=$(veth_bytes)
  us1=$(udp_rcvbuf_errors "$NS_SRV"); uc1=$(udp_rcvbuf_errors "$NS_CLI")
  R[$name,$n,udpdrop]="$((${us1:-0} - ${us0:-0})) / $((${uc1:-0} - ${uc0:-0}))"
  if [[ -n "$perf_pid" ]]; then kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" 2>/dev/null || true; fi
  hwm=$(server_hwm)
  for p in "${SRV_PIDS[@]}"; do stop_pid "$p"; done
  SRV_PIDS=()
  out=$(cat "$dir/storm.txt")
  get() { sed -n "s/^$1=//p" <<<"$out" | head -1; }
  R[$name,$n]=ok
  R[$name,$n,last]=$(get last_done_s)
  R[$name,$n,p50]=$(get p50_s)
  R[$name,$n,p95]=$(get p95_s)
  R[$name,$n,failed]=$(get failed)
  R[$name,$n,dretx]=$(get dhcp_retx)
  R[$name,$n,tretx]=$(get tftp_retx)
  R[$name,$n,gaps]=$(get tftp_gap_acks)
  R[$name,$n,client]=$(awk -v t="$(get client_cpu_ticks)" -v k="$TCK" 'BEGIN{printf "%.1f", t / k}')
  R[$name,$n,cpu]=$(awk -v t=$((t1 - t0)) -v k="$TCK" 'BEGIN{printf "%.1f", t / k}')
  R[$name,$n,machine]=$(awk -v t=$((m1 - m0)) -v k="$TCK" 'BEGIN{printf "%.1f", t / k}')
  R[$name,$n,softirq]=$(awk -v t=$((q1 - q0)) -v k="$TCK" 'BEGIN{printf "%.1f", t / k}')
  R[$name,$n,rss]=$(awk -v k="$hwm" 'BEGIN{printf "%.1f", k / 1024}')
  R[$name,$n,wire]=$(awk -v b=$((b1 - b0)) 'BEGIN{printf "%.0f", b / 1e6}')
  R[$name,$n,la]=$la
  local s
  for s in dhcp tftp ipxe_dhcp script kernel initrd; do R[$name,$n,st_$s]=$(get "stage_${s}_p50_s"); done
  R[$name,$n,why]=$(sed -n 's/^failure=//p' <<<"$out" | paste -sd ';' -)
}

echo "## Boot storm $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), pxe-server at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)"
echo
echo "dnsmasq $(dnsmasq --version | awk 'NR==1{print $3}'), $(nginx -v 2>&1 | sed 's/.*: //'); first stage $(stat -c %s "$STORM_SHM/tftp/snponly.efi") B (EFI) / $(stat -c %s "$STORM_SHM/tftp/undionly.kpxe") B (BIOS), kernel $(stat -c %s "$STORM_SHM/http/linux") B, initrd $(stat -c %s "$STORM_SHM/http/initrd.gz") B; veth MTU $VETH_MTU; every ${STORM_BIOS_EVERY}th machine BIOS; power-on spread ${STORM_SPREAD_MS} ms; timeout ${STORM_TIMEOUT} s; stages until: ${STORM_UNTIL}"
for n in $STORM_NS; do
  for c in $STORM_CONTESTANTS; do cell "$c" "$n"; done
done

echo
echo "| N | servers | last machine done s | p50 s | p95 s | failed | retries DHCP + TFTP | server CPU s | peak RSS MiB | wire MB | client CPU s | machine busy s (softirq) | load avg before |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $STORM_NS; do
  for c in $STORM_CONTESTANTS; do
    if [[ "${R[$c,$n]:-}" != ok ]]; then echo "| $n | $c | did not start | | | | | | | | | | |"; continue; fi
    echo "| $n | $c | ${R[$c,$n,last]} | ${R[$c,$n,p50]} | ${R[$c,$n,p95]} | ${R[$c,$n,failed]} | ${R[$c,$n,dretx]} + ${R[$c,$n,tretx]} | ${R[$c,$n,cpu]} | ${R[$c,$n,rss]} | ${R[$c,$n,wire]} | ${R[$c,$n,client]} | ${R[$c,$n,machine]} (${R[$c,$n,softirq]}) | ${R[$c,$n,la]} |"
  done
done
echo
echo "Median seconds per stage (from the previous stage's end), machines that finished:"
echo
echo "| N | servers | DHCP | TFTP first stage | iPXE DHCP | script | kernel | initrd | TFTP gap ACKs | UDP rcvbuf drops server / client | failures |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for n in $STORM_NS; do
  for c in $STORM_CONTESTANTS; do
    [[ "${R[$c,$n]:-}" == ok ]] || continue
    echo "| $n | $c | ${R[$c,$n,st_dhcp]} | ${R[$c,$n,st_tftp]} | ${R[$c,$n,st_ipxe_dhcp]} | ${R[$c,$n,st_script]} | ${R[$c,$n,st_kernel]} | ${R[$c,$n,st_initrd]} | ${R[$c,$n,gaps]} | ${R[$c,$n,udpdrop]} | ${R[$c,$n,why]:-none} |"
  done
done
echo
echo "raw outputs in $LOAD_OUT" >&2
