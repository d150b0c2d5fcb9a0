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
# as "pxe-server-base" in the same run.

TFTP_BUSY_SERVERS="${TFTP_BUSY_SERVERS:-dnsmasq pxe-server}"
TFTP_BUSY_CELLS="${TFTP_BUSY_CELLS:-atftp:1024 atftp:1468 curl:1024 curl:1468}"
TFTP_HOGS="${TFTP_HOGS:-$(nproc)}"

declare -A BUSY_RES=()
HOG_PIDS=()

# One busy loop per core, at normal priority, outside the namespaces (the
# CPU is shared anyway); each bounded by timeout in case we are killed.
hogs_start() {
  local i
  HOG_PIDS=()
  for ((i = 0; i < TFTP_HOGS; i++)); do
    timeout 3600 bash -c 'while :; do :; done' &
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

tftp_busy_run() {
  need_tool atftp curl dnsmasq cmp
  [[ -n "${TFTP_SHM:-}" ]] || tftp_prepare
  CLEANUP_HOOK=busy_cleanup
  local servers=() s load cell c b dir t0 t1 hz
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
  for load in idle busy; do
    [[ $load == busy ]] && hogs_start
    for s in "${servers[@]}"; do
      dir="$LOAD_OUT/tftp-busy-$s-$load"
      mkdir -p "$dir"
      if ! busy_start "$s" "$dir"; then
        BUSY_RES[$s,$load,start]=fail; continue
      fi
      log "tftp-busy: $s, $load machine"
      for cell in $TFTP_BUSY_CELLS; do
        c=${cell%%:*}; b=${cell##*:}
        t0=$(cpu_ticks "$TFTP_PID")
        BUSY_RES[$s,$load,$cell]=$(tftp_cell_median "$c" "$b" 1)
        t1=$(cpu_ticks "$TFTP_PID")
        BUSY_RES[$s,$load,$cell,cpu]=$(awk -v d=$((t1 - t0)) -v n="$TFTP_REPEAT" -v hz="$hz" \
          'BEGIN{printf "%.2f", d / hz / n}')
      done
      stop_pid "$TFTP_PID"; TFTP_PID=""
    done
    [[ $load == busy ]] && hogs_stop
  done

  echo
  echo "### TFTP lock-step (no windowsize), ${TFTP_FILE_MIB} MiB, veth MTU ${VETH_MTU}: MB/s (median of ${TFTP_REPEAT}) and server CPU s per transfer; busy = ${TFTP_HOGS} busy loops beside the run"
  echo
  local hdr="| client | blksize | machine |" sep="|---|---:|---|"
  for s in "${servers[@]}"; do hdr+=" $s MB/s | $s CPU s |"; sep+="---:|---:|"; done
  echo "$hdr"; echo "$sep"
  for cell in $TFTP_BUSY_CELLS; do
    for load in idle busy; do
      local row="| ${cell%%:*} | ${cell##*:} | $load |"
      for s in "${servers[@]}"; do
        if [[ "${BUSY_RES[$s,$load,start]:-}" == fail ]]; then row+=" no start | |"
        else row+=" ${BUSY_RES[$s,$load,$cell]:--} | ${BUSY_RES[$s,$load,$cell,cpu]:--} |"; fi
      done
      echo "$row"
    done
  done
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
