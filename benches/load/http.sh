#!/usr/bin/env bash
# HTTP boot files: N parallel downloads of one file, pxe-server beside nginx
# (sendfile on), one server at a time, same root, same veth pair.
#   sudo bash benches/load/http.sh
# The server runs in $NS_SRV, N curl clients in $NS_CLI (lib.sh's two
# namespaces, veth MTU $VETH_MTU). Files: a random HTTP_BIG_MIB (512) MiB file
# and Debian 12's installer initrd.gz (40 MiB), copied into a root on tmpfs
# (page cache, as a boot server's files are after the first boot). Each cell
# starts N curl downloads at once and waits for all; throughput = bytes of
# complete, correctly sized downloads / wall time; server CPU = user + system
# time from /proc of the server (pxe-server: all threads; nginx: master and
# workers) over the cell, per GiB delivered; the curl clients' CPU (user +
# system of all of them, bash's `times`) beside it, as the load generator
# shares the 2 cores. Cells alternate servers and
# repeat HTTP_REPEAT times; the table gives, per cell, the run with the median
# throughput (all columns from that run).
# Knobs: HTTP_SERVERS ("pxe-server nginx"), HTTP_CLIENTS ("50 200"),
# HTTP_FILES ("big initrd"), HTTP_BIG_MIB (512), HTTP_REPEAT (3),
# HTTP_TIMEOUT (600 s per cell), PXE_SERVER_BIN (else built in release),
# PXE_SERVER_BASE_BIN (an older build, measured as "pxe-server-base" when
# HTTP_SERVERS names it),
# CARGO_TARGET_DIR (default /work/target-load), VETH_MTU (1500).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
source "$HERE/lib.sh"
need_root

HTTP_SERVERS="${HTTP_SERVERS:-pxe-server nginx}"
HTTP_CLIENTS="${HTTP_CLIENTS:-50 200}"
HTTP_FILES="${HTTP_FILES:-big initrd}"
HTTP_BIG_MIB="${HTTP_BIG_MIB:-512}"
HTTP_REPEAT="${HTTP_REPEAT:-3}"
HTTP_TIMEOUT="${HTTP_TIMEOUT:-600}"
HTTP_PORT=8080
INITRD=/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/initrd.gz

need_tool curl nginx ip awk
[[ -f "$INITRD" ]] || die "missing $INITRD (package debian-installer-12-netboot-amd64)"
LOAD_OUT="${LOAD_OUT:-$(mktemp -d /tmp/pxe-http.XXXXXX)}"
mkdir -p "$LOAD_OUT"
TICK=$(getconf CLK_TCK)

SRV_PID=""
HTTP_SHM=""
cleanup() {
  local rc=$?
  stop_pid "$SRV_PID"
  [[ -n "$HTTP_SHM" ]] && rm -rf "$HTTP_SHM"
  ns_down
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z "${PXE_SERVER_BIN:-}" ]]; then
  tdir="${CARGO_TARGET_DIR:-/work/target-load}"
  log "building pxe-server (release, CARGO_TARGET_DIR=$tdir)"
  (cd "$ROOT" && CARGO_TARGET_DIR="$tdir" cargo build --release -q -p pxe-server --bin pxe-server) \
    >"$LOAD_OUT/build.log" 2>&1 || die "build failed, see $LOAD_OUT/build.log"
  PXE_SERVER_BIN="$tdir/release/pxe-server"
fi

HTTP_SHM="$(mktemp -d /dev/shm/pxe-http.XXXXXX)"
WEBROOT="$HTTP_SHM/root"
mkdir -p "$WEBROOT"
head -c $((HTTP_BIG_MIB * 1048576)) /dev/urandom >"$WEBROOT/big.bin"
cp "$INITRD" "$WEBROOT/initrd.gz"
chmod 755 "$HTTP_SHM" "$WEBROOT"
chmod 644 "$WEBROOT"/*
declare -A FILE_PATH=([big]=big.bin [initrd]=initrd.gz)
declare -A FILE_BYTES=([big]=$(stat -c %s "$WEBROOT/big.bin") [initrd]=$(stat -c %s "$WEBROOT/initrd.gz"))

ns_up

# CPU ticks of a server: the process and its children (nginx's workers)
server_ticks() {
  local pid=$1 sum=0 p t
  for p in "$pid" $(ps -o pid= --ppid "$pid" 2>/dev/null); do
    t=$(cpu_ticks "$p"); sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}

# peak RSS (VmHWM) of the server and its children, MiB
server_rss() {
  local pid=$1 p kb=0 k
  for p in "$pid" $(ps -o pid= --ppid "$pid" 2>/dev/null); do
    k=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null) || true
    kb=$((kb + ${k:-0}))
  done
  awk -v k="$kb" 'BEGIN{printf "%.1f", k/1024}'
}

wait_tcp_port() { # NS PORT
  local i
  for i in $(seq 50); do
    ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

server_start() { # SERVER DIR -> SRV_PID
  local server=$1 dir=$2
  mkdir -p "$dir"
  case "$server" in
    pxe-server|pxe-server-base)
      local bin=$PXE_SERVER_BIN
      [[ "$server" == pxe-server-base ]] && bin=${PXE_SERVER_BASE_BIN:?pxe-server-base needs PXE_SERVER_BASE_BIN}
      cat >"$dir/http.conf" <<CONF
port=0
http-port=$HTTP_PORT
http-root=$WEBROOT
CONF
      ip netns exec "$NS_SRV" env RUST_LOG=warn "$bin" --conf "$dir/http.conf" \
        >"$dir/stdout.log" 2>&1 &
      ;;
    nginx)
      mkdir -p "$dir/tmp"
      # no system configuration: its own file, prefix and temp paths; as many
      # workers as cores (nginx's `auto`), sendfile on as netboot.xyz runs it
      cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  sendfile on;
  tcp_nopush on;
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  default_type application/octet-stream;
  server {
    listen $HTTP_PORT;
    root $WEBROOT;
  }
}
CONF
      ip netns exec "$NS_SRV" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
        >"$dir/stdout.log" 2>&1 &
      ;;
    *) die "unknown HTTP server: $server" ;;
  esac
  SRV_PID=$!
  if ! wait_tcp_port "$NS_SRV" "$HTTP_PORT"; then
    log "$server did not listen on TCP $HTTP_PORT; its output:"
    tail -n 20 "$dir"/*.log >&2 || true
    stop_pid "$SRV_PID"; SRV_PID=""
    return 1
  fi
}

# N parallel downloads; prints "MB/s|failures|wall s|CPU s|CPU s per GiB"
http_cell() { # N FILE DIR
  local n=$1 f=$2 dir=$3 t0 t1 c0 c1
  rm -rf "$dir"; mkdir -p "$dir"
  c0=$(server_ticks "$SRV_PID")
  t0=$(date +%s%N)
  in_cli bash -c '
    n=$1; dir=$2; url=$3; to=$4
    for i in $(seq "$n"); do
      ( rc=0
        r=$(timeout "$to" curl -sS -o /dev/null -w "%{http_code} %{size_download}" "$url" \
             2>>"$dir/errors.txt") || rc=$?
        echo "$rc ${r:-000 0}" >"$dir/$i.txt" ) &
    done
    wait
    times >"$dir/client-times"' _ "$n" "$dir" "http://$SRV_IP:$HTTP_PORT/${FILE_PATH[$f]}" "$HTTP_TIMEOUT"
  t1=$(date +%s%N)
  c1=$(server_ticks "$SRV_PID")
  cat "$dir"/[0-9]*.txt >"$dir.txt"; rm -f "$dir"/[0-9]*.txt
  # the clients' CPU: bash's `times` for its waited-for children (every curl),
  # "0m1.234s 0m5.678s" user and system
  local client
  client=$(awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] }
                  printf "%.2f", s }' "$dir/client-times")
  awk -v want="${FILE_BYTES[$f]}" -v n="$n" -v ns=$((t1 - t0)) -v ticks=$((c1 - c0)) -v hz="$TICK" \
      -v client="$client" '
    { if ($1 == 0 && $2 == 200 && $3 == want) { ok++; bytes += $3 } else fail++ }
    END { fail += n - NR; cpu = ticks / hz
          printf "%.0f|%d|%.1f|%.2f|%.3f|%.2f", bytes / 1e6 / (ns / 1e9), fail, ns / 1e9, cpu,
                 bytes ? cpu / (bytes / 1073741824) : 0, client }' "$dir.txt"
}

median() { sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }

declare -A RES=() RSS=()
for ((r = 1; r <= HTTP_REPEAT; r++)); do
  for s in $HTTP_SERVERS; do
    dir="$LOAD_OUT/$s-$r"
    server_start "$s" "$dir" || { RES[$s,start]=fail; continue; }
    for f in $HTTP_FILES; do
      for n in $HTTP_CLIENTS; do
        log "http: run $r, $s, $n x $f"
        cell=$(http_cell "$n" "$f" "$dir/$f-$n")
        echo "run $r $s $f $n $cell" >>"$LOAD_OUT/cells.txt"
        RES[$s,$f,$n]+="$cell "
      done
    done
    rss=$(server_rss "$SRV_PID")
    RSS[$s]+="$rss "
    stop_pid "$SRV_PID"; SRV_PID=""
  done
done

echo "## HTTP load run $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), curl $(curl -V | awk 'NR==1{print $2}'), pxe-server at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null); veth MTU $VETH_MTU; per cell the run of median throughput of $HTTP_REPEAT"
echo
echo "| file | clients | server | MB/s (10^6 B/s) | failed | wall s | server CPU s | CPU s per GiB | CPU/GiB vs nginx | curl clients' CPU s | peak RSS MiB |"
echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for f in $HTTP_FILES; do
  for n in $HTTP_CLIENTS; do
    declare -A MED=()
    for s in $HTTP_SERVERS; do
      [[ "${RES[$s,start]:-}" == fail ]] && continue
      # the run with the median throughput, all its columns (lower middle
      # for an even count)
      row=$(tr ' ' '\n' <<<"${RES[$s,$f,$n]}" | grep . | sort -t'|' -k1,1n |
            awk '{v[NR]=$0} END{print v[int((NR+1)/2)]}')
      for k in 1 2 3 4 5 6; do
        MED[$s,$k]=$(cut -d'|' -f$k <<<"$row")
      done
    done
    for s in $HTTP_SERVERS; do
      if [[ "${RES[$s,start]:-}" == fail ]]; then echo "| $f | $n | $s | no start | | | | | | | |"; continue; fi
      ratio=$(awk -v a="${MED[$s,5]}" -v b="${MED[nginx,5]:-0}" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "-" }')
      echo "| ${FILE_PATH[$f]} ($(awk -v b="${FILE_BYTES[$f]}" 'BEGIN{printf "%.1f", b/1048576}') MiB) | $n | $s | ${MED[$s,1]} | ${MED[$s,2]} / $n | ${MED[$s,3]} | ${MED[$s,4]} | ${MED[$s,5]} | $ratio | ${MED[$s,6]} | $(tr ' ' '\n' <<<"${RSS[$s]}" | grep . | median) |"
    done
    unset MED
  done
done
echo
echo "raw: $LOAD_OUT (cells.txt: every run as MB/s|failed|wall s|CPU s|CPU s per GiB|client CPU s; <server>-<run>/<file>-<n>.txt: curl exit, status, bytes per client)"
