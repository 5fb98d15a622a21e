#!/usr/bin/env bash
# sysbench_rw.sh - sysbench oltp_read_write through the proxy: 8 threads, 20 s.
#
# The tables (2 x 10k rows) are prepared directly on the primary, and the
# replicas are waited for, so the run measures only the proxy. Asserted:
# sysbench exits 0 with zero errors and zero reconnects, and the reads spread
# over the replicas: `Com_select` on each replica rises by at least 1000 during
# the run. In direct mode (GTIDPROXY_IT_DIRECT=1: every query on the primary)
# the primary's Com_select must rise instead, which shows that the counter
# sees sysbench's reads (prepared statements count as Com_select).
#
# --skip_trx=on: sysbench otherwise wraps every event in BEGIN..COMMIT, and a
# transaction runs entirely on the primary, so no read could reach a replica.
# --delete_inserts=0: without a transaction, two threads that pick the same id
# race between DELETE and INSERT and one gets a duplicate-key error, a failure
# of the workload rather than of the proxy. Point selects, the four range
# selects, and index and non-index updates remain.
#
# Environment: GTIDPROXY_PROXY_HOST/_PORT (with_proxy.sh) and the cluster's
# (GTIDPROXY_HOST, GTIDPROXY_PRIMARY_PORT, GTIDPROXY_REPLICA_PORTS, app user).
# GTIDPROXY_SYSBENCH_SECONDS changes the run time (default 20).
set -euo pipefail

NAME=sysbench_rw.sh
SECONDS_RUN=${GTIDPROXY_SYSBENCH_SECONDS:-20}
MIN_SELECTS=1000
for var in GTIDPROXY_PROXY_HOST GTIDPROXY_PROXY_PORT GTIDPROXY_HOST GTIDPROXY_PRIMARY_PORT \
           GTIDPROXY_REPLICA_PORTS GTIDPROXY_APP_USER GTIDPROXY_APP_PASSWORD; do
  [ -n "${!var:-}" ] || { echo "$NAME: $var is not set: run this through tests/drivers/with_proxy.sh" >&2; exit 1; }
done
command -v sysbench >/dev/null || { echo "$NAME: sysbench not found (apt-get install sysbench)" >&2; exit 1; }

fail() { echo "$NAME: FAIL: $*" >&2; exit 1; }
direct() { [ "${GTIDPROXY_IT_DIRECT:-}" = 1 ]; }

# server_sql PORT SQL: one statement on one server, directly, as the app user.
server_sql() {
  mariadb --no-defaults --protocol=tcp -h "$GTIDPROXY_HOST" -P "$1" -u "$GTIDPROXY_APP_USER" \
    --password="$GTIDPROXY_APP_PASSWORD" -N -B -e "$2"
}
com_select() { server_sql "$1" "SHOW GLOBAL STATUS LIKE 'Com_select'" | cut -f2; }

# sb HOST PORT COMMAND [ARG...]
sb() {
  local host=$1 port=$2
  shift 2
  sysbench oltp_read_write --db-driver=mysql --mysql-host="$host" --mysql-port="$port" \
    --mysql-user="$GTIDPROXY_APP_USER" --mysql-password="$GTIDPROXY_APP_PASSWORD" \
    --mysql-db=gtidproxy_test --tables=2 --table-size=10000 "$@"
}

IFS=, read -ra replicas <<<"$GTIDPROXY_REPLICA_PORTS"
work=$(mktemp -d "${TMPDIR:-/tmp}/gtidproxy-sysbench.XXXXXX")
cleanup() {
  sb "$GTIDPROXY_HOST" "$GTIDPROXY_PRIMARY_PORT" cleanup >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

sb "$GTIDPROXY_HOST" "$GTIDPROXY_PRIMARY_PORT" cleanup >/dev/null
sb "$GTIDPROXY_HOST" "$GTIDPROXY_PRIMARY_PORT" prepare >"$work/prepare.log" 2>&1 ||
  { cat "$work/prepare.log" >&2; fail "sysbench prepare on the primary failed"; }
pos=$(server_sql "$GTIDPROXY_PRIMARY_PORT" 'SELECT @@gtid_binlog_pos')
for port in "${replicas[@]}"; do
  [ "$(server_sql "$port" "SELECT MASTER_GTID_WAIT('$pos', 30)")" = 0 ] ||
    fail "replica on port $port did not apply the prepared tables ($pos) within 30 s"
done

if direct; then watch=("$GTIDPROXY_PRIMARY_PORT"); else watch=("${replicas[@]}"); fi
declare -A before
for port in "${watch[@]}"; do before[$port]=$(com_select "$port"); done

rc=0
sb "$GTIDPROXY_PROXY_HOST" "$GTIDPROXY_PROXY_PORT" run --threads=8 --time="$SECONDS_RUN" \
  --skip_trx=on --delete_inserts=0 >"$work/run.log" 2>&1 || rc=$?
cat "$work/run.log"
[ $rc = 0 ] || fail "sysbench run exited with status $rc"

# counter LABEL: N from sysbench's line "    LABEL:   N  (x per sec.)". Any error
# other than those --mysql-ignore-errors lists (deadlocks, lock wait timeouts)
# is fatal and makes the exit status non-zero; the listed ones are counted as
# "ignored errors" (sysbench 1.0; "errors" in other versions).
counter() { sed -n "s/^ *$1: *\([0-9][0-9]*\).*/\1/p" "$work/run.log" | head -n 1; }
for what in "ignored errors" reconnects; do
  n=$(counter "$what")
  [ -n "$n" ] || [ "$what" != "ignored errors" ] || { what=errors; n=$(counter "$what"); }
  [ -n "$n" ] || fail "no '$what:' line in sysbench's output"
  [ "$n" = 0 ] || fail "sysbench counted $n $what"
done
queries=$(counter queries)
[ "${queries:-0}" -gt 0 ] || fail "sysbench ran no queries"

for port in "${watch[@]}"; do
  delta=$(($(com_select "$port") - before[$port]))
  echo "$NAME: Com_select on port $port rose by $delta"
  ((delta >= MIN_SELECTS)) || {
    if direct; then fail "the primary (port $port) counted only $delta SELECTs (< $MIN_SELECTS)"
    else fail "replica on port $port served only $delta SELECTs (< $MIN_SELECTS): reads did not spread"; fi
  }
done
echo "$NAME: ok"
