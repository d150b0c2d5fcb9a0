# Lock-step TFTP on an idle and on a busy machine (issue 17): the clients
# real firmware resembles (pxelinux, grub and EDK2 without windowsize ask
# one block at a time), pxe-server beside dnsmasq, first with nothing else
# running, then with one CPU hog per core beside them, in the same run.
# Besides the rate (median of TFTP_REPEAT), the server's CPU seconds per
# transfer, from /proc/PID/stat (all threads). Sourced by run.sh; uses
# tftp.sh's servers and cells.
#
# TFTP_BUSY_SERVERS: servers to compare (default "dnsmasq pxe-server");
# PXE_SERVER_BASE_BIN: another pxe-server binary (e.g. main's) measured
# as "pxe-server-base" in the same run. TFTP_BUSY_CELLS: CLIENT:BLKSIZE
# (lock-step) or CLIENT:BLKSIZE:WINDOWSIZE (atftp asks RFC 7440's
# windowsize; dnsmasq 2.90 ignores the option and answers lock-step).
# TFTP_BUSY_LOADS: the machine states to run, of "idle busy" (the default).
# TFTP_BUSY_PIN: "same" or "apart" pins the server (all its threads) to
# CPU 0 and the client to CPU 0 or 1, hog i to CPU i: where the two ends of
# a lock-step round run, which the scheduler otherwise decides per run.
# TFTP_BUSY_PCAP=DIR: one more pass per server and machine state with
# dumpcap on the server's veth, summarised by tftp_pcap.py (retransmissions,
# duplicate ACKs, turnarounds on both sides).

TFTP_BUSY_SERVERS="${TFTP_BUSY_SERVERS:-dnsmasq pxe-server}"
TFTP_BUSY_CELLS="${TFTP_BUSY_CELLS:-atftp:1024 atftp:1468 curl:1024 curl:1468 atftp:1468:4 atftp:1024:16}"
TFTP_HOGS="${TFTP_HOGS:-$(nproc)}"
TFTP_BUSY_LOADS="${TFTP_BUSY_LOADS:-idle busy}"

declare -A BUSY_RES=()
HOG_PIDS=()

# One busy loop per core, at normal priority, outside the namespaces (the
# CPU is shared anyway); each bounded by timeout in case we are killed.
hogs_start() {
  local i
  HOG_PIDS=()
  for ((i = 0; i < TFTP_HOGS; i++)); do
    if [[ -n "${TFTP_BUSY_PIN:-}" ]]; then
      taskset -c "$i" timeout 3600 bash -c 'while :; do :; done' &
    else
      timeout 3600 bash -c 'while :; do :; done' &
    fi
    HOG_PIDS+=($!)
  done
}
hogs_stop() {
  local p
  for p in "${HOG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${HOG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  HOG_PIDS=()
}

busy_cleanup() { hogs_stop; tftp_cleanup; }

# start a server of TFTP_BUSY_SERVERS (pxe-server-base: PXE_SERVER_BASE_BIN)
busy_start() { # SERVER DIR
  if [[ "$1" == pxe-server-base ]]; then
    PXE_SERVER_BIN="$PXE_SERVER_BASE_BIN" tftp_start pxe-server "$2"
  else
    tftp_start "$1" "$2"
  fi
}

# TFTP_BUSY_PIN: the server's threads (a transfer thread inherits its
# creator's CPUs) to CPU 0, the client's CPU for tftp_cell
busy_pin() {
  case "${TFTP_BUSY_PIN:-}" in
    "") return ;;
    same) TFTP_CLIENT_CPU=0 ;;
    apart) TFTP_CLIENT_CPU=1 ;;
    *) die "TFTP_BUSY_PIN is same or apart, not $TFTP_BUSY_PIN" ;;
  esac
  (($(nproc) >= 2)) || die "TFTP_BUSY_PIN needs two CPUs"
  taskset -a -p -c 0 "$TFTP_PID" >/dev/null
}

# a cell is CLIENT:BLKSIZE or CLIENT:BLKSIZE:WINDOWSIZE
busy_window() { local w; w=$(cut -s -d: -f3 <<<"$1"); echo "${w:-1}"; }
busy_cell() { # CELL -> MB/s or FAIL(...)
  tftp_cell "$(cut -d: -f1 <<<"$1")" "$(cut -d: -f2 <<<"$1")" "$(busy_window "$1")" | tr ' ' '_'
}
# median of the runs given; any failed run makes the cell FAIL k/n
busy_median() {
  local v ok=() fails=0 why=""
  for v in "$@"; do
    if [[ "$v" == FAIL* ]]; then fails=$((fails + 1)); why=$v; else ok+=("$v"); fi
  done
  if ((fails)); then echo "${why//_/ } $fails/$#"; return; fi
  ((${#ok[@]})) || { echo "-"; return; }
  printf '%s\n' "${ok[@]}" | sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'
}

# one more pass of every cell per server with dumpcap on the server's
# veth (not counted in the medians: capturing costs CPU), summarised by
# tftp_pcap.py into BUSY_RES[SERVER,LOAD,CELL,pcap]
busy_capture() { # LOAD SERVER...
  local load=$1 s cell dir cap pid i=0
  shift
  need_tool dumpcap tshark
  mkdir -p "$TFTP_BUSY_PCAP"
  for s in "$@"; do
    dir="$LOAD_OUT/tftp-busy-$s-$load"
    busy_start "$s" "$dir" || continue
    cap="$TFTP_BUSY_PCAP/tftp-busy-$s-$load.pcapng"
    rm -f "$cap"
    # not through a function: $! must be dumpcap itself (ip netns exec
    # execs it), and TERM, not INT (a background job ignores SIGINT)
    ip netns exec "$NS_SRV" dumpcap -q -i "$IF_SRV" -f udp -s 128 -w "$cap" >/dev/null 2>&1 &
    pid=$!
    sleep 1
    log "tftp-busy: $s, $load machine, captured to $cap"
    for cell in $TFTP_BUSY_CELLS; do busy_cell "$cell" >/dev/null; done
    sleep 0.5
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    stop_pid "$TFTP_PID"; TFTP_PID=""
    i=0
    local cells=($TFTP_BUSY_CELLS)
    while IFS= read -r line; do
      [[ -n "$line" ]] || continue
      BUSY_RES[$s,$load,${cells[$i]},pcap]="$line"
      i=$((i + 1))
    done < <(python3 "$HERE/tftp_pcap.py" --tsv "$cap" 2>/dev/null)
  done
}

tftp_busy_run() {
  need_tool atftp curl dnsmasq cmp
  [[ -n "${TFTP_SHM:-}" ]] || tftp_prepare
  CLEANUP_HOOK=busy_cleanup
  local servers=() s load cell c b dir t0 t1 hz v
  hz=$(getconf CLK_TCK)
  for s in $TFTP_BUSY_SERVERS; do
    if [[ "$s" == pxe-server && -z "${PXE_SERVER_BIN:-}" ]]; then
      log "tftp-busy: pxe-server not built, skipped"; continue
    fi
    servers+=("$s")
  done
  [[ -n "${PXE_SERVER_BASE_BIN:-}" ]] && servers+=(pxe-server-base)
  # first answers: files of the installer's sizes (pxelinux.0-sized
  # config, grubx64.efi, linux, initrd.gz), each cold once, then warm
  local f fa_files=()
  for f in 800 3843520 8222656 40810276; do
    head -c "$f" /dev/urandom >"$TFTP_ROOT/fa-$f.bin"; chmod 644 "$TFTP_ROOT/fa-$f.bin"
    fa_files+=("fa-$f.bin")
  done
  for s in "${servers[@]}"; do
    dir="$LOAD_OUT/tftp-first-$s"; mkdir -p "$dir"
    busy_start "$s" "$dir" || continue
    log "tftp-busy: $s, first answers"
    in_cli python3 "$HERE/tftp_first_answer.py" "$SRV_IP" "${fa_files[@]}" >"$dir/first.txt" || true
    while read -r f cold warm; do
      BUSY_RES[$s,first,$f]="$cold / $warm"
    done <"$dir/first.txt"
    stop_pid "$TFTP_PID"; TFTP_PID=""
  done
  for load in $TFTP_BUSY_LOADS; do
    [[ $load == busy ]] && hogs_start
    # repetitions interleave the servers (and alternate which goes first),
    # so that the machine's load, which drifts over minutes, weighs on all
    # of them alike
    local r order
    for ((r = 0; r < TFTP_REPEAT; r++)); do
      order=("${servers[@]}")
      ((r % 2)) && order=($(printf '%s\n' "${servers[@]}" | tac))
      for s in "${order[@]}"; do
        dir="$LOAD_OUT/tftp-busy-$s-$load"
        mkdir -p "$dir"
        if ! busy_start "$s" "$dir"; then
          BUSY_RES[$s,$load,start]=fail; continue
        fi
        log "tftp-busy: $s, $load machine, run $((r + 1)) of $TFTP_REPEAT"
        busy_pin
        for cell in $TFTP_BUSY_CELLS; do
          t0=$(cpu_ticks "$TFTP_PID")
          v=$(busy_cell "$cell")
          t1=$(cpu_ticks "$TFTP_PID")
          log "tftp-busy:   $cell: $v"
          BUSY_RES[$s,$load,$cell,runs]+="$v "
          BUSY_RES[$s,$load,$cell,ticks]=$((${BUSY_RES[$s,$load,$cell,ticks]:-0} + t1 - t0))
        done
        stop_pid "$TFTP_PID"; TFTP_PID=""
      done
    done
    for s in "${servers[@]}"; do
      for cell in $TFTP_BUSY_CELLS; do
        BUSY_RES[$s,$load,$cell]=$(busy_median ${BUSY_RES[$s,$load,$cell,runs]:-})
        BUSY_RES[$s,$load,$cell,cpu]=$(awk -v d="${BUSY_RES[$s,$load,$cell,ticks]:-0}" \
          -v n="$TFTP_REPEAT" -v hz="$hz" 'BEGIN{printf "%.2f", d / hz / n}')
      done
    done
    [[ -n "${TFTP_BUSY_PCAP:-}" ]] && busy_capture "$load" "${servers[@]}"
    [[ $load == busy ]] && hogs_stop
  done

  local hdr sep
  echo
  echo "### TFTP, ${TFTP_FILE_MIB} MiB, veth MTU ${VETH_MTU}: MB/s (median of ${TFTP_REPEAT}, servers interleaved) and server CPU s per transfer; busy = ${TFTP_HOGS} busy loops beside the run"
  echo
  hdr="| client | blksize | windowsize | machine |"; sep="|---|---:|---:|---|"
  for s in "${servers[@]}"; do hdr+=" $s MB/s | $s CPU s |"; sep+="---:|---:|"; done
  echo "$hdr"; echo "$sep"
  for cell in $TFTP_BUSY_CELLS; do
    for load in $TFTP_BUSY_LOADS; do
      local row
      row="| $(cut -d: -f1 <<<"$cell") | $(cut -d: -f2 <<<"$cell") | $(busy_window "$cell") | $load |"
      for s in "${servers[@]}"; do
        if [[ "${BUSY_RES[$s,$load,start]:-}" == fail ]]; then row+=" no start | |"
        else row+=" ${BUSY_RES[$s,$load,$cell]:--} | ${BUSY_RES[$s,$load,$cell,cpu]:--} |"; fi
      done
      echo "$row"
    done
  done
  if [[ -n "${TFTP_BUSY_PCAP:-}" ]]; then
    echo
    echo "### The same cells captured once more on the server's veth (tftp_pcap.py): resent blocks, duplicate ACKs, and p50 / p99 turnarounds in µs"
    echo
    echo "| client | blksize | windowsize | machine | server | MB/s | DATA resent | duplicate ACKs | client DATA→ACK p50 / p99 | server ACK→DATA p50 / p99 |"
    echo "|---|---:|---:|---|---|---:|---:|---:|---:|---:|"
    for cell in $TFTP_BUSY_CELLS; do
      for load in $TFTP_BUSY_LOADS; do
        for s in "${servers[@]}"; do
          local f
          f="${BUSY_RES[$s,$load,$cell,pcap]:-}"
          [[ -n "$f" ]] || continue
          IFS=$'\t' read -r _ bytes secs _ resent _ dup _ _ d50 d99 a50 a99 _ _ <<<"$f"
          echo "| $(cut -d: -f1 <<<"$cell") | $(cut -d: -f2 <<<"$cell") | $(busy_window "$cell") | $load | $s | $(awk -v b="$bytes" -v t="$secs" 'BEGIN{printf "%.1f", b / 1e6 / t}') | $resent | $dup | $d50 / $d99 | $a50 / $a99 |"
        done
      done
    done
  fi
  echo
  echo "### TFTP first answer (RRQ with blksize + tsize → OACK), ms from the client: first request after the server started / median of the next ${FIRST_ANSWER_REPEAT:-5}"
  echo
  hdr="| file size |"; sep="|---:|"
  for s in "${servers[@]}"; do hdr+=" $s |"; sep+="---:|"; done
  echo "$hdr"; echo "$sep"
  for f in "${fa_files[@]}"; do
    local row="| $(stat -c %s "$TFTP_ROOT/$f") B |"
    for s in "${servers[@]}"; do row+=" ${BUSY_RES[$s,first,$f]:--} |"; done
    echo "$row"
  done
}
