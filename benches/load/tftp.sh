# TFTP load: a single-client matrix and boot storms, clients in $NS_CLI,
# one server at a time in $NS_SRV, over the veth pair (MTU $VETH_MTU, 1500 by
# default as on a LAN: blocks above 1468 bytes travel as IP fragments, and
# dnsmasq and pxe-server cap blksize at the MTU). Sourced by run.sh.
#
# tftpd-hpa and atftpd conflict as Debian packages, so both are unpacked
# (apt-get download + dpkg-deb -x) into a private directory and run from
# there: no package scripts, no auto-started services, both in the same run.

TFTP_SERVERS="${TFTP_SERVERS:-tftpd-hpa atftpd dnsmasq pxe-server}"
TFTP_CLIENTS="${TFTP_CLIENTS:-atftp curl tftp-hpa}"
TFTP_BLKSIZES="${TFTP_BLKSIZES:-512 1468 8192 65464}"
TFTP_WINDOWS="${TFTP_WINDOWS:-1 4 16 64}"
TFTP_STORMS="${TFTP_STORMS:-50 200}"
TFTP_FILE_MIB="${TFTP_FILE_MIB:-16}"
TFTP_CELL_TIMEOUT="${TFTP_CELL_TIMEOUT:-30}"
TFTP_REPEAT="${TFTP_REPEAT:-3}"
TFTP_STORM_TIMEOUT="${TFTP_STORM_TIMEOUT:-180}"
TFTP_STORM_BLKSIZE="${TFTP_STORM_BLKSIZE:-1468}"
TFTP_PEERS_DIR="${TFTP_PEERS_DIR:-/var/cache/pxe-load-peers}"

declare -A TFTP_RES=()

tftp_fetch_peers() {
  local pkg
  mkdir -p "$TFTP_PEERS_DIR"
  for pkg in tftpd-hpa atftpd; do
    if ! ls "$TFTP_PEERS_DIR/${pkg}"_*.deb >/dev/null 2>&1; then
      log "downloading $pkg (unpacked privately, not installed)"
      (cd "$TFTP_PEERS_DIR" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
        { apt-get update -qq && (cd "$TFTP_PEERS_DIR" && apt-get download -q "$pkg" >/dev/null); } ||
        die "apt-get download $pkg failed"
    fi
  done
  rm -rf "$TFTP_PEERS_DIR/root"
  local deb
  for deb in "$TFTP_PEERS_DIR"/*.deb; do dpkg-deb -x "$deb" "$TFTP_PEERS_DIR/root"; done
  TFTPD_HPA_BIN="$TFTP_PEERS_DIR/root/usr/sbin/in.tftpd"
  ATFTPD_BIN="$TFTP_PEERS_DIR/root/usr/sbin/atftpd"
  need_tool "$TFTPD_HPA_BIN" "$ATFTPD_BIN"
  TFTPD_HPA_VERSION=$(basename "$TFTP_PEERS_DIR"/tftpd-hpa_*.deb .deb | cut -d_ -f2)
  ATFTPD_VERSION=$(basename "$TFTP_PEERS_DIR"/atftpd_*.deb .deb | cut -d_ -f2)
}

tftp_prepare() {
  TFTP_SHM="$(mktemp -d /dev/shm/pxe-load.XXXXXX)"
  TFTP_ROOT="$TFTP_SHM/root"
  mkdir -p "$TFTP_ROOT" "$TFTP_SHM/out"
  head -c $((TFTP_FILE_MIB * 1048576)) /dev/urandom >"$TFTP_ROOT/big.bin"
  chmod 755 "$TFTP_SHM" "$TFTP_ROOT"
  chmod 644 "$TFTP_ROOT/big.bin"
  TFTP_BYTES=$((TFTP_FILE_MIB * 1048576))
}

tftp_cleanup() { [[ -n "${TFTP_SHM:-}" ]] && rm -rf "$TFTP_SHM"; }

# tftp_start SERVER DIR -> TFTP_PID
tftp_start() {
  local server=$1 dir=$2
  case "$server" in
    tftpd-hpa)
      # -L: stay in the foreground and fork one child per transfer
      ip netns exec "$NS_SRV" "$TFTPD_HPA_BIN" -L -s "$TFTP_ROOT" -a "$SRV_IP:69" \
        >"$dir/stdout.log" 2>&1 &
      ;;
    atftpd)
      ip netns exec "$NS_SRV" "$ATFTPD_BIN" --daemon --no-fork --port 69 \
        --bind-address "$SRV_IP" --maxthread 1000 --logfile "$dir/server.log" \
        "$TFTP_ROOT" >"$dir/stdout.log" 2>&1 &
      ;;
    dnsmasq)
      cat >"$dir/tftp.conf" <<CONF
port=0
interface=$IF_SRV
bind-interfaces
enable-tftp
tftp-root=$TFTP_ROOT
tftp-max=1000
CONF
      ip netns exec "$NS_SRV" dnsmasq -k -C "$dir/tftp.conf" --pid-file="$dir/pid" \
        --log-facility="$dir/server.log" >"$dir/stdout.log" 2>&1 &
      ;;
    pxe-server)
      cat >"$dir/tftp.conf" <<CONF
port=0
interface=$IF_SRV
bind-interfaces
enable-tftp
tftp-root=$TFTP_ROOT
tftp-max=1000
CONF
      ip netns exec "$NS_SRV" env RUST_LOG=warn "$PXE_SERVER_BIN" --conf "$dir/tftp.conf" \
        >"$dir/stdout.log" 2>&1 &
      ;;
    *) die "unknown TFTP server: $server" ;;
  esac
  TFTP_PID=$!
  if ! wait_udp_port "$NS_SRV" 69; then
    log "$server did not bind UDP 69; its output:"
    tail -n 20 "$dir/stdout.log" "$dir/server.log" 2>/dev/null >&2
    stop_pid "$TFTP_PID"; TFTP_PID=""
    return 1
  fi
}

# the command line of one client fetch (run inside $NS_CLI); "" if unsupported
tftp_client_cmd() { # CLIENT BLKSIZE WINDOW OUTFILE
  local c=$1 b=$2 w=$3 out=$4
  case "$c" in
    atftp)
      local opts=(--option "blksize $b")
      ((w > 1)) && opts+=(--option "windowsize $w")
      printf '%q ' atftp --get -r big.bin -l "$out" "${opts[@]}" "$SRV_IP" 69
      ;;
    curl)
      ((w > 1)) && return 0 # curl has no windowsize option
      printf '%q ' curl -sS -o "$out" --tftp-blksize "$b" "tftp://$SRV_IP/big.bin"
      ;;
    tftp-hpa)
      ((b != 512 || w > 1)) && return 0 # the tftp-hpa client sends no options
      printf '%q ' tftp "$SRV_IP" -m binary -c get big.bin "$out"
      ;;
  esac
}

# one single-client transfer; prints "MB/s" or "FAIL(reason)"
tftp_cell() { # CLIENT BLKSIZE WINDOW
  local cmd out="$TFTP_SHM/out/cell.bin" rc=0
  cmd=$(tftp_client_cmd "$1" "$2" "$3" "$out")
  local ns
  rm -f "$out"
  # the clock runs inside the namespace, around the client process only
  local pin=()
  [[ -n "${TFTP_CLIENT_CPU:-}" ]] && pin=(taskset -c "$TFTP_CLIENT_CPU")
  ns=$(in_cli "${pin[@]}" bash -c 't0=$(date +%s%N); timeout "$1" bash -c "$2" >"$3" 2>&1; rc=$?
                       t1=$(date +%s%N); echo "$rc $((t1 - t0))"' \
         _ "$TFTP_CELL_TIMEOUT" "$cmd" "$TFTP_SHM/out/cell.log")
  rc=${ns%% *}; ns=${ns##* }
  if ((rc == 124)); then echo "FAIL(timeout ${TFTP_CELL_TIMEOUT}s)"; return; fi
  if ((rc != 0)); then echo "FAIL(exit $rc)"; return; fi
  if ! cmp -s "$out" "$TFTP_ROOT/big.bin"; then
    echo "FAIL(bad data: $(stat -c %s "$out" 2>/dev/null || echo 0) B)"; return
  fi
  awk -v b="$TFTP_BYTES" -v ns="$ns" 'BEGIN{printf "%.1f", b / 1e6 / (ns / 1e9)}'
}

# median of TFTP_REPEAT runs of one cell; any failed run makes the cell FAIL
tftp_cell_median() { # CLIENT BLKSIZE WINDOW
  local i r vals=() fails=0 why=""
  for ((i = 0; i < TFTP_REPEAT; i++)); do
    r=$(tftp_cell "$@")
    if [[ "$r" == FAIL* ]]; then
      fails=$((fails + 1)); why=$r
      cp "$TFTP_SHM/out/cell.log" "$TFTP_SHM/out/fail.log"
    else vals+=("$r"); fi
  done
  if ((fails)); then echo "$why $fails/$TFTP_REPEAT"; return; fi
  printf '%s\n' "${vals[@]}" | sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'
}

# background sampler of the server's memory: proportional set size (PSS, so
# pages shared between a forking server's children count once) of the server
# plus its children, in KiB, every 0.2 s; the maximum goes to FILE
rss_sampler_start() { # PID FILE
  local pid=$1 file=$2
  (
    max=0
    while kill -0 "$pid" 2>/dev/null; do
      files=("/proc/$pid/smaps_rollup")
      for p in $(ps -o pid= --ppid "$pid" 2>/dev/null); do files+=("/proc/$p/smaps_rollup"); done
      cur=$(awk '/^Pss:/ {s += $2} END {print s + 0}' "${files[@]}" 2>/dev/null) || true
      cur=${cur:-0}
      ((cur > max)) && max=$cur && echo "$max" >"$file"
      sleep 0.2
    done
  ) &
  RSS_SAMPLER=$!
}
rss_sampler_stop() { # FILE -> MiB
  kill "$RSS_SAMPLER" 2>/dev/null || true
  wait "$RSS_SAMPLER" 2>/dev/null || true
  awk '{printf "%.1f", $1/1024}' "$1" 2>/dev/null || echo "-"
}

# N concurrent curl clients; prints "agg MB/s|failures|wall s"
tftp_storm() { # N DIR
  local n=$1 t0 t1 dir="$2/storm-$1"
  rm -rf "$dir"; mkdir -p "$dir"
  t0=$(date +%s%N)
  in_cli bash -c '
    n=$1; dir=$2; ip=$3; bs=$4; to=$5
    for i in $(seq "$n"); do
      ( rc=0
        sz=$(timeout "$to" curl -sS -o /dev/null -w "%{size_download}" --tftp-blksize "$bs" \
             "tftp://$ip/big.bin" 2>>"$dir/errors.txt") || rc=$?
        echo "$rc ${sz:-0}" >"$dir/$i.txt" ) &
    done
    wait' _ "$n" "$dir" "$SRV_IP" "$TFTP_STORM_BLKSIZE" "$TFTP_STORM_TIMEOUT"
  t1=$(date +%s%N)
  cat "$dir"/[0-9]*.txt >"$dir.txt"; rm -f "$dir"/[0-9]*.txt
  awk -v want="$TFTP_BYTES" -v n="$n" -v ns=$((t1 - t0)) '
    { if ($1 == 0 && $2 == want) { ok++; bytes += $2 } else fail++ }
    END { fail += n - NR
          printf "%.1f|%d|%.1f", bytes / 1e6 / (ns / 1e9), fail, ns / 1e9 }' "$dir.txt"
}

tftp_run() {
  need_tool atftp curl tftp dnsmasq ps cmp
  tftp_fetch_peers
  tftp_prepare
  CLEANUP_HOOK=tftp_cleanup
  local servers=() s c b w n dir res
  for s in $TFTP_SERVERS; do
    if [[ "$s" == pxe-server && -z "${PXE_SERVER_BIN:-}" ]]; then
      log "tftp: pxe-server not built, skipped"
      continue
    fi
    servers+=("$s")
  done
  for s in "${servers[@]}"; do
    dir="$LOAD_OUT/tftp-$s"
    mkdir -p "$dir"
    if ! tftp_start "$s" "$dir"; then
      TFTP_RES[$s,start]=fail
      continue
    fi
    log "tftp: $s single-client matrix"
    for c in $TFTP_CLIENTS; do
      for b in $TFTP_BLKSIZES; do
        for w in $TFTP_WINDOWS; do
          [[ -n "$(tftp_client_cmd "$c" "$b" "$w" x)" ]] || continue
          res=$(tftp_cell_median "$c" "$b" "$w")
          TFTP_RES[$s,$c,$b,$w]=$res
          [[ "$res" == FAIL* ]] && cp "$TFTP_SHM/out/fail.log" "$dir/fail-$c-$b-$w.log"
        done
      done
    done
    for n in $TFTP_STORMS; do
      log "tftp: $s storm of $n clients"
      rss_sampler_start "$TFTP_PID" "$dir/rss-$n"
      TFTP_RES[$s,storm,$n]=$(tftp_storm "$n" "$dir")
      TFTP_RES[$s,rss,$n]=$(rss_sampler_stop "$dir/rss-$n")
    done
    stop_pid "$TFTP_PID"; TFTP_PID=""
  done

  echo
  echo "TFTP peers: tftpd-hpa $TFTPD_HPA_VERSION, atftpd $ATFTPD_VERSION, dnsmasq $(dnsmasq --version | awk 'NR==1{print $3}'); clients: atftp $(dpkg-query -W -f='${Version}' atftp), curl $(curl -V | awk 'NR==1{print $2}'), tftp-hpa $(dpkg-query -W -f='${Version}' tftp-hpa)"
  echo
  echo "### TFTP single client, ${TFTP_FILE_MIB} MiB file, veth MTU ${VETH_MTU}, MB/s (10^6 B/s), median of ${TFTP_REPEAT} (FAIL = error, timeout or wrong bytes in k of ${TFTP_REPEAT} runs)"
  echo
  local hdr="| client | blksize | windowsize |" sep="|---|---:|---:|"
  for s in "${servers[@]}"; do
    hdr+=" $s |"; sep+="---:|"
  done
  echo "$hdr"; echo "$sep"
  for c in $TFTP_CLIENTS; do
    for b in $TFTP_BLKSIZES; do
      for w in $TFTP_WINDOWS; do
        [[ -n "$(tftp_client_cmd "$c" "$b" "$w" x)" ]] || continue
        local row="| $c | $b | $w |"
        for s in "${servers[@]}"; do
          if [[ "${TFTP_RES[$s,start]:-}" == fail ]]; then row+=" no start |"; else row+=" ${TFTP_RES[$s,$c,$b,$w]:--} |"; fi
        done
        echo "$row"
      done
    done
  done
  echo
  echo "### TFTP boot storm: N concurrent curl clients, ${TFTP_FILE_MIB} MiB each, blksize ${TFTP_STORM_BLKSIZE}, veth MTU ${VETH_MTU}"
  echo
  echo "| server | clients | aggregate MB/s | failures | wall s | peak PSS MiB (server + children, sampled) |"
  echo "|---|---:|---:|---:|---:|---:|"
  for s in "${servers[@]}"; do
    for n in $TFTP_STORMS; do
      if [[ "${TFTP_RES[$s,start]:-}" == fail ]]; then echo "| $s | $n | no start | | | |"; continue; fi
      IFS='|' read -r agg fails wall <<<"${TFTP_RES[$s,storm,$n]}"
      echo "| $s | $n | $agg | $fails / $n | $wall | ${TFTP_RES[$s,rss,$n]} |"
    done
  done
}
