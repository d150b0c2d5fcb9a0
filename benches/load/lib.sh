# Shared helpers for the load scripts (sourced, not run).
# Everything happens inside two network namespaces this script creates:
#   $NS_SRV (server under test, 10.213.0.1/16 on $IF_SRV)
#   $NS_CLI (load generator,   10.213.0.2/16 on $IF_CLI)
# joined by one veth pair. Nothing is sent outside them.

LOAD_ID="${LOAD_ID:-$$}"
NS_SRV="pxl-srv-$LOAD_ID"
NS_CLI="pxl-cli-$LOAD_ID"
IF_SRV="pxls$LOAD_ID"
IF_CLI="pxlc$LOAD_ID"
SRV_IP=10.213.0.1
CLI_IP=10.213.0.2
NET_PREFIX=16
VETH_MTU="${VETH_MTU:-1500}"

log() { printf '[load %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_root() { [[ $EUID -eq 0 ]] || die "must run as root (creates network namespaces)"; }

need_tool() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || [[ -x "$t" ]] || die "missing tool: $t"
  done
}

# ns_up: create both namespaces and the veth pair between them.
ns_up() {
  ip netns add "$NS_SRV"
  ip netns add "$NS_CLI"
  ip link add "$IF_SRV" mtu "$VETH_MTU" type veth peer name "$IF_CLI" mtu "$VETH_MTU"
  ip link set "$IF_SRV" netns "$NS_SRV"
  ip link set "$IF_CLI" netns "$NS_CLI"
  ip -n "$NS_SRV" addr add "$SRV_IP/$NET_PREFIX" dev "$IF_SRV"
  ip -n "$NS_CLI" addr add "$CLI_IP/$NET_PREFIX" dev "$IF_CLI"
  ip -n "$NS_SRV" link set lo up
  ip -n "$NS_CLI" link set lo up
  ip -n "$NS_SRV" link set "$IF_SRV" up
  ip -n "$NS_CLI" link set "$IF_CLI" up
  # socket buffer limits stay at the kernel's defaults for a new namespace:
  # no server gets tuning that a default install would not have
}

ns_down() {
  ip netns del "$NS_SRV" 2>/dev/null || true
  ip netns del "$NS_CLI" 2>/dev/null || true
}

in_srv() { ip netns exec "$NS_SRV" "$@"; }
in_cli() { ip netns exec "$NS_CLI" "$@"; }

# peak RSS (VmHWM) of a pid, in MiB with one decimal, or "-" if gone
peak_rss_mib() {
  local kb
  kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null) || true
  if [[ -n "$kb" ]]; then awk -v k="$kb" 'BEGIN{printf "%.1f", k/1024}'; else echo "-"; fi
}

# CPU time (user + system, all threads) a pid has used so far, in clock
# ticks, or empty if gone. The comm field may hold spaces: count from its
# closing parenthesis.
cpu_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  awk '{print $12 + $13}' <<<"$stat"
}

# stop_pid PID: TERM, wait up to 3 s, then KILL. Only for processes we started.
stop_pid() {
  local pid=$1 i
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 30); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# wait_udp_port NS PORT: wait up to 5 s until something listens on UDP PORT in NS
wait_udp_port() {
  local ns=$1 port=$2 i
  for i in $(seq 50); do
    ip netns exec "$ns" ss -Hlun "sport = :$port" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  return 1
}
