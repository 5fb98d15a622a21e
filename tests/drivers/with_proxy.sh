#!/usr/bin/env bash
# with_proxy.sh - runs one command against a gtidproxy in front of the test cluster.
#
#   with_proxy.sh GTIDPROXY_BINARY CMD [ARG...]
#
# Writes a proxy config for the running cluster (a listener on a free loopback
# port, the primary and every replica as backends, the app user, backend and
# monitor credentials), starts `GTIDPROXY_BINARY -c FILE` with its output in a
# log, waits until the listener accepts, runs CMD with
#   GTIDPROXY_PROXY_HOST, GTIDPROXY_PROXY_PORT   where to connect
#   GTIDPROXY_PROXY_LOG                          the proxy's log (empty in direct mode)
# exported, then sends SIGTERM and requires the proxy to exit 0 within 10 s.
# Exits with CMD's status when CMD failed, 1 when the proxy failed, else 0; on
# any failure prints the tail of the proxy's log and keeps its scratch dir.
#
# Environment: the cluster's, from `tests/cluster/cluster.sh env` (GTIDPROXY_HOST,
# GTIDPROXY_PRIMARY_PORT, GTIDPROXY_REPLICA_PORTS, GTIDPROXY_APP_USER/_PASSWORD,
# GTIDPROXY_MONITOR_USER/_PASSWORD). GTIDPROXY_IT_DIRECT=1 starts no proxy and
# points CMD at the primary itself: it proves a test's own expectations against
# a real server. GTIDPROXY_DRV_LOG_LEVEL sets the proxy's log level (default info).
set -euo pipefail

die() { echo "with_proxy.sh: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: with_proxy.sh GTIDPROXY_BINARY CMD [ARG...]"
binary=$1
shift
for var in GTIDPROXY_HOST GTIDPROXY_PRIMARY_PORT GTIDPROXY_APP_USER GTIDPROXY_APP_PASSWORD; do
  [ -n "${!var:-}" ] ||
    die "$var is not set: start a cluster and eval \"\$(tests/cluster/cluster.sh env)\""
done

if [ "${GTIDPROXY_IT_DIRECT:-}" = 1 ]; then
  export GTIDPROXY_PROXY_HOST=$GTIDPROXY_HOST GTIDPROXY_PROXY_PORT=$GTIDPROXY_PRIMARY_PORT
  export GTIDPROXY_PROXY_LOG=
  exec "$@"
fi

[ -x "$binary" ] || die "not an executable: $binary"
for var in GTIDPROXY_REPLICA_PORTS GTIDPROXY_MONITOR_USER GTIDPROXY_MONITOR_PASSWORD; do
  [ -n "${!var:-}" ] || die "$var is not set (tests/cluster/cluster.sh env)"
done

# A JSON string literal: the values come from the environment.
json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

# A port nobody listens on now: the kernel's choice for a socket bound to port 0.
# (Another process could take it before the proxy binds; the start then fails
# loudly rather than testing the wrong thing.)
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/gtidproxy-drv.XXXXXX")
conf=$dir/gtidproxy.json
log=$dir/gtidproxy.log
port=$(free_port)

backends="    { \"name\": \"primary\", \"host\": $(json_str "$GTIDPROXY_HOST"), \"port\": $GTIDPROXY_PRIMARY_PORT, \"role\": \"primary\" }"
i=0
IFS=, read -ra replica_ports <<<"$GTIDPROXY_REPLICA_PORTS"
for rport in "${replica_ports[@]}"; do
  i=$((i + 1))
  backends+=",
    { \"name\": \"replica$i\", \"host\": $(json_str "$GTIDPROXY_HOST"), \"port\": $rport, \"role\": \"replica\", \"weight\": 1 }"
done

# Keys as in conf/gtidproxy.json. The GTID poll runs every 200 ms rather than
# the example's 50: it adds SELECTs to the replicas' Com_select, which
# sysbench_rw.sh reads to see where reads went (about 100 per replica per 20 s).
cat >"$conf" <<EOF
{
  "listeners": [
    { "name": "app", "address": "127.0.0.1", "port": $port, "consistency": "session" }
  ],
  "backends": [
$backends
  ],
  "users": [
    { "name": $(json_str "$GTIDPROXY_APP_USER"), "password": $(json_str "$GTIDPROXY_APP_PASSWORD") }
  ],
  "backend_credentials": { "user": $(json_str "$GTIDPROXY_APP_USER"),
                           "password": $(json_str "$GTIDPROXY_APP_PASSWORD") },
  "monitor": { "user": $(json_str "$GTIDPROXY_MONITOR_USER"),
               "password": $(json_str "$GTIDPROXY_MONITOR_PASSWORD"),
               "interval_ms": 1000, "gtid_poll_interval_ms": 200 },
  "consistency": { "default_level": "session", "wait_timeout_ms": 200,
                   "fallback": ["primary"], "max_replica_lag_ms": 10000 },
  "workers": 0,
  "timeouts": { "connect_ms": 2000, "client_idle_ms": 0, "backend_query_ms": 0 },
  "logging": { "level": "${GTIDPROXY_DRV_LOG_LEVEL:-info}" }
}
EOF

failed=0
fail() {
  echo "with_proxy.sh: $*" >&2
  failed=1
}
pid=
# Never leave a proxy behind, whatever ends this script.
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

"$binary" -c "$conf" >"$log" 2>&1 &
pid=$!

# Up to 10 s for the listener (a sanitizer build starts slower).
listening=0
for ((tries = 0; tries < 200; tries++)); do
  if ! kill -0 "$pid" 2>/dev/null; then
    rc=0
    wait "$pid" || rc=$?
    pid=
    fail "the proxy exited with status $rc before it listened on 127.0.0.1:$port"
    break
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    listening=1
    break
  fi
  sleep 0.05
done
[ $listening = 1 ] || [ $failed = 1 ] || fail "the proxy did not listen on 127.0.0.1:$port within 10 s"

cmd_rc=0
if [ $listening = 1 ]; then
  export GTIDPROXY_PROXY_HOST=127.0.0.1 GTIDPROXY_PROXY_PORT=$port GTIDPROXY_PROXY_LOG=$log
  "$@" || cmd_rc=$?
  [ $cmd_rc = 0 ] || fail "'$*' failed with status $cmd_rc"
fi

if [ -n "$pid" ]; then
  kill -TERM "$pid" 2>/dev/null || true
  for ((tries = 0; tries < 200; tries++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    fail "the proxy did not exit within 10 s of SIGTERM (killed)"
  else
    rc=0
    wait "$pid" || rc=$?
    [ $rc = 0 ] || fail "the proxy exited with status $rc after SIGTERM"
  fi
  pid=
fi

if [ $failed = 1 ]; then
  echo "---- last 40 lines of $log (config: $conf)" >&2
  tail -n 40 "$log" >&2 || true
  echo "----" >&2
  [ $cmd_rc = 0 ] || exit $cmd_rc
  exit 1
fi
rm -rf "$dir"
