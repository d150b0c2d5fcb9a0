# DHCP DORA load: perfdhcp in $NS_CLI against one server at a time in $NS_SRV.
# Sourced by run.sh (needs lib.sh). Prints a markdown table on stdout.
#
# Same configuration on every side: one /16 subnet, pool 10.213.1.0-10.213.255.254
# (65 279 addresses), 1 h leases, boot file pxelinux.0, leases kept on disk,
# no per-packet logging. dnsmasq and pxe-server read the very same file.
# kea-pg and pxe-server-pg keep the leases in one PostgreSQL instead (Debian's
# server, started here with initdb/pg_ctl as postgres on a unix socket, a fresh
# database per cell, fsync and synchronous_commit on as installed).

DHCP_SERVERS="${DHCP_SERVERS:-dnsmasq kea pxe-server kea-pg pxe-server-pg}"
DHCP_RATES="${DHCP_RATES:-1000 5000 20000}"
DHCP_SECONDS="${DHCP_SECONDS:-10}"
DHCP_CLIENTS="${DHCP_CLIENTS:-50000}"

# dnsmasq-dialect configuration shared by dnsmasq and pxe-server
dhcp_write_dnsmasq_conf() { # DIR
  cat >"$1/dhcp.conf" <<CONF
# load test configuration (benches/load/dhcp.sh)
port=0
interface=$IF_SRV
bind-interfaces
dhcp-range=10.213.1.0,10.213.255.254,255.255.0.0,1h
dhcp-boot=pxelinux.0
dhcp-authoritative
dhcp-lease-max=100000
dhcp-leasefile=$1/leases
no-ping
quiet-dhcp
CONF
}

dhcp_write_kea_conf() { # DIR
  cat >"$1/kea.json" <<CONF
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "$IF_SRV" ], "dhcp-socket-type": "udp" },
  "lease-database": { "type": "memfile", "persist": true, "name": "$1/leases.csv", "lfc-interval": 0 },
  "multi-threading": { "enable-multi-threading": false },
  "valid-lifetime": 3600,
  "authoritative": true,
  "next-server": "$SRV_IP",
  "boot-file-name": "pxelinux.0",
  "subnet4": [ { "subnet": "10.213.0.0/16",
                 "pools": [ { "pool": "10.213.1.0 - 10.213.255.254" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "severity": "WARN",
                 "output_options": [ { "output": "$1/kea.log" } ] } ]
} }
CONF
}

# PostgreSQL for the -pg cells: one cluster for the run, a database per cell.
PG_DIR=""
PG_PORT=5499
pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }
pg_up() {
  [[ -n "$PG_DIR" ]] && return 0
  PG_DIR=$(mktemp -d /tmp/pxe-load-pg.XXXXXX)
  chmod 755 "$PG_DIR"; mkdir -p "$PG_DIR/data" "$PG_DIR/sock"; chown -R postgres:postgres "$PG_DIR"
  runuser -u postgres -- "$(pg_bin)/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-instructions >"$PG_DIR/initdb.log" 2>&1 \
    || die "initdb failed (see $PG_DIR/initdb.log)"
  runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" \
    -o "-c listen_addresses='' -k $PG_DIR/sock -p $PG_PORT" -w -t 60 start >/dev/null || die "PostgreSQL did not start"
  CLEANUP_HOOK=pg_down
}
pg_down() {
  [[ -n "$PG_DIR" ]] || return 0
  runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"; PG_DIR=""
}
pg_psql() { psql -X -q -h "$PG_DIR/sock" -p "$PG_PORT" -U postgres "$@"; }
pg_fresh_db() { # NAME
  pg_psql -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
}

dhcp_write_kea_pg_conf() { # DIR DB
  dhcp_write_kea_conf "$1"
  sed -i "s|\"lease-database\": {[^}]*}|\"lease-database\": { \"type\": \"postgresql\", \"name\": \"$2\", \"host\": \"$PG_DIR/sock\", \"port\": $PG_PORT, \"user\": \"postgres\" }|" "$1/kea.json"
}

# dhcp_start SERVER DIR -> sets DHCP_PID (the server's own pid, not a wrapper)
dhcp_start() {
  local server=$1 dir=$2
  case "$server" in
    dnsmasq)
      dhcp_write_dnsmasq_conf "$dir"
      ip netns exec "$NS_SRV" dnsmasq -k -C "$dir/dhcp.conf" --pid-file="$dir/pid" \
        --log-facility="$dir/server.log" >"$dir/stdout.log" 2>&1 &
      ;;
    kea)
      dhcp_write_kea_conf "$dir"
      ip netns exec "$NS_SRV" env KEA_PIDFILE_DIR="$dir" KEA_LOCKFILE_DIR="$dir" \
        kea-dhcp4 -c "$dir/kea.json" >"$dir/stdout.log" 2>&1 &
      ;;
    pxe-server)
      dhcp_write_dnsmasq_conf "$dir"
      ip netns exec "$NS_SRV" env RUST_LOG=warn "$PXE_SERVER_BIN" --conf "$dir/dhcp.conf" \
        >"$dir/stdout.log" 2>&1 &
      ;;
    kea-pg)
      pg_up; pg_fresh_db kea_load
      kea-admin db-init pgsql -h "$PG_DIR/sock" -P "$PG_PORT" -u postgres -n kea_load >"$dir/kea-admin.log" 2>&1 \
        || { log "kea-admin db-init failed (see $dir/kea-admin.log)"; return 1; }
      dhcp_write_kea_pg_conf "$dir" kea_load
      ip netns exec "$NS_SRV" env KEA_PIDFILE_DIR="$dir" KEA_LOCKFILE_DIR="$dir" \
        kea-dhcp4 -c "$dir/kea.json" >"$dir/stdout.log" 2>&1 &
      ;;
    pxe-server-pg)
      pg_up; pg_fresh_db pxe_load
      dhcp_write_dnsmasq_conf "$dir"
      local host; host=$(sed 's|/|%2F|g' <<<"$PG_DIR/sock")
      sed -i "s|^dhcp-leasefile=.*|dhcp-leasefile=postgresql://postgres@$host:$PG_PORT/pxe_load|" "$dir/dhcp.conf"
      ip netns exec "$NS_SRV" env RUST_LOG=warn "$PXE_SERVER_BIN" --conf "$dir/dhcp.conf" \
        >"$dir/stdout.log" 2>&1 &
      ;;
    *) die "unknown DHCP server: $server" ;;
  esac
  DHCP_PID=$!   # ip netns exec execs the command: this is the server itself
  if ! wait_udp_port "$NS_SRV" 67; then
    log "$server did not bind UDP 67; its output:"
    tail -n 20 "$dir/stdout.log" "$dir/server.log" 2>/dev/null >&2
    stop_pid "$DHCP_PID"; DHCP_PID=""
    return 1
  fi
}

# value of "KEY: number" in the Nth (1-based) statistics block of a perfdhcp report
pd_stat() { # FILE BLOCK KEY
  awk -v blk="$2" -v key="$3" '
    /^\*\*\*Statistics for:/ { n++ }
    n == blk && index($0, key ":") == 1 {
      split(substr($0, length(key) + 2), w, " "); print w[1]; exit }' "$1"
}

dhcp_one() { # SERVER RATE -> one table row
  local server=$1 rate=$2 dir
  dir="$LOAD_OUT/dhcp-$server-$rate"
  mkdir -p "$dir"
  if ! dhcp_start "$server" "$dir"; then
    printf '| %s | %s | failed to start | | | | | |\n' "$server" "$rate"
    return 0
  fi
  # relayed mode: perfdhcp sends from $CLI_IP:67 with giaddr=$CLI_IP to the server,
  # which answers by unicast; -R distinct MACs from the -b base; -W lets late
  # answers arrive before the final count.
  local cpu0; cpu0=$(cpu_ticks "$DHCP_PID")
  in_cli timeout $((DHCP_SECONDS + 20)) perfdhcp -4 -r "$rate" -p "$DHCP_SECONDS" \
    -R "$DHCP_CLIENTS" -b mac=00:0c:01:00:00:00 -W 1000000 \
    -l "$IF_CLI" "$SRV_IP" >"$dir/perfdhcp.txt" 2>&1 || true
  local rss; rss=$(peak_rss_mib "$DHCP_PID")
  local cpu1; cpu1=$(cpu_ticks "$DHCP_PID")
  stop_pid "$DHCP_PID"; DHCP_PID=""
  local f="$dir/perfdhcp.txt"
  local d_sent a_recv do_avg do_max ra_avg ra_max
  d_sent=$(pd_stat "$f" 1 "sent packets")
  a_recv=$(pd_stat "$f" 2 "received packets")
  do_avg=$(pd_stat "$f" 1 "avg delay"); do_max=$(pd_stat "$f" 1 "max delay")
  ra_avg=$(pd_stat "$f" 2 "avg delay"); ra_max=$(pd_stat "$f" 2 "max delay")
  if [[ -z "$d_sent" || -z "$a_recv" ]]; then
    printf '| %s | %s | perfdhcp failed (see %s) | | | | | |\n' "$server" "$rate" "$f"
    return 0
  fi
  awk -v s="$server" -v r="$rate" -v secs="$DHCP_SECONDS" -v ds="$d_sent" -v ar="$a_recv" \
      -v da="$do_avg" -v dm="$do_max" -v ra="$ra_avg" -v rm="$ra_max" -v rss="$rss" \
      -v c0="${cpu0:-}" -v c1="${cpu1:-}" -v hz="$(getconf CLK_TCK)" '
    function ms(x) { return (x ~ /^[0-9.]+$/) ? sprintf("%.3f", x) : "-" }
    BEGIN {
      lost = ds - ar; pct = ds > 0 ? 100 * lost / ds : 0
      cpu = (c0 != "" && c1 != "" && ar > 0) ? sprintf("%.1f", (c1 - c0) * 1e6 / hz / ar) : "-"
      printf "| %s | %d | %.0f | %d / %d (%.1f %%) | %s / %s | %s / %s | %s | %s |\n",
        s, r, ar / secs, lost, ds, pct, ms(da), ms(ra), ms(dm), ms(rm), cpu, rss }'
}

dhcp_run() {
  need_tool perfdhcp dnsmasq kea-dhcp4
  local s r
  echo
  echo "### DHCP DORA (perfdhcp $(perfdhcp -v 2>&1 | awk '{print $2}'), ${DHCP_SECONDS} s per cell, ${DHCP_CLIENTS} distinct MACs)"
  echo
  echo "| server | offered/s | completed DORA/s | incomplete / DISCOVERs sent | avg latency ms (D-O / R-A) | max latency ms (D-O / R-A) | server CPU µs per DORA | peak RSS MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for s in $DHCP_SERVERS; do
    if [[ "$s" == pxe-server* && -z "${PXE_SERVER_BIN:-}" ]]; then
      echo "| $s | - | not built | | | | | |"
      continue
    fi
    for r in $DHCP_RATES; do
      log "dhcp: $s at $r/s for ${DHCP_SECONDS}s"
      dhcp_one "$s" "$r"
    done
  done
}
