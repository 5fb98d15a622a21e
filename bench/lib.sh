# bench/lib.sh - what the four bench/ harnesses (bench/run, bench/consistency,
# bench/admin_scrape, bench/cache_reads) share: messages, ports, child
# processes, the release build, the test cluster and SQL on its servers,
# starting gtidproxy and its benchmark config, a process's CPU time,
# sysbench's output, medians, the lines that describe the machine and the
# build, and writing the report.
#
# Sourced from the source root (the scripts cd there first), after setting
#   BENCH_NAME   the prefix of every message ("run: ...")
# The cluster, config and proxy helpers read the script's globals CLUSTER
# (path of tests/cluster/cluster.sh), RUN_DIR (logs, configs) and PROXY_BIN;
# the SQL helpers the cluster's env (bench_cluster_up exports it).
# shellcheck shell=bash

. scripts/lib/packages.sh

say() { echo "${BENCH_NAME:-bench}: $*" >&2; }
die() { say "$*"; exit 1; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # PORT PID LOG: until PORT accepts; fails if PID exits first (10 s)
  for _ in $(seq 100); do
    port_free "$1" || return 0
    kill -0 "$2" 2>/dev/null || { tail -20 "$3" >&2; die "process $2 exited (log above: $3)"; }
    sleep 0.1
  done
  die "nothing listens on $1 after 10 s (log: $3)"
}

stop_pid() { # PID: SIGTERM, up to 10 s, then SIGKILL
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

bench_cpu_ticks() { # PID: utime + stime of the process (all its threads), clock ticks; dies when it is gone
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || die "process $1 is gone (logs: $RUN_DIR)"
  # The fields after "pid (comm) " (comm may hold spaces and parentheses:
  # cut at the last ")"): state is the first, utime the 12th, stime the 13th.
  stat=${stat##*) }
  awk '{ print $12 + $13 }' <<<"$stat"
}

kv() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1"; } # LINE KEY: the value of KEY=... in LINE

# ---- build, cluster, SQL on its servers, the proxy ----------------------------

bench_build() { # DIR TARGET...: configure DIR as a release tree (reused as it is) and build TARGETs
  local dir=$1
  shift
  say "building a release $* in $dir"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DGTIDPROXY_INTEGRATION=OFF >/dev/null
  cmake --build "$dir" -j"${BENCH_JOBS:-$(nproc)}" --target "$@" >/dev/null
}

# A fresh RUN_DIR and a cluster of a primary and 2 replicas in
# $GTIDPROXY_CLUSTER_DIR; exports the cluster's env (ports, users). A cluster
# left in that directory by an interrupted run is ours to remove. Sets
# CLUSTER_UP=1 before starting, so the script's cleanup takes it down.
bench_cluster_up() {
  [ ! -f "$GTIDPROXY_CLUSTER_DIR/cluster.env" ] || $CLUSTER down
  rm -rf "$RUN_DIR"
  mkdir -p "$RUN_DIR"
  # shellcheck disable=SC2034 # read by the sourcing script
  CLUSTER_UP=1
  $CLUSTER up 2
  eval "$($CLUSTER env)"
}

bench_server_sql() { # PORT SQL: SQL on the cluster's server at PORT as the app user (-N -B output)
  mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$1" -u "$GTIDPROXY_APP_USER" \
    --password="$GTIDPROXY_APP_PASSWORD" -N -B -e "$2"
}

# Until every replica has applied the primary's current position (60 s
# each): a benchmark then starts from replicas that hold what it prepared
# and are not behind. Dies when one does not.
bench_replicas_caught_up() {
  local pos port ports
  pos=$(bench_server_sql "$GTIDPROXY_PRIMARY_PORT" 'SELECT @@gtid_binlog_pos')
  IFS=, read -ra ports <<<"$GTIDPROXY_REPLICA_PORTS"
  for port in "${ports[@]}"; do
    [ "$(bench_server_sql "$port" "SELECT MASTER_GTID_WAIT('$pos', 60)")" = 0 ] ||
      die "replica on port $port did not apply the primary's position $pos within 60 s"
  done
}

# VAR CONFIG PORT LOG: $PROXY_BIN with CONFIG in the background (stderr to
# LOG); VAR (a variable name, also 'ARRAY[key]') gets its pid before the
# wait, so the script's cleanup stops it whatever happens next. Returns
# once PORT accepts; dies when the proxy exits first or after 10 s.
bench_start_proxy() {
  (exec "$PROXY_BIN" -c "$2" 2>"$4") & # exec: $! is the proxy itself, which stop_pid reaches
  printf -v "$1" %s "$!"
  wait_port "$3" "$!" "$4"
}

# FILE PORT ADMIN_PORT [MEMBERS [primary-only]]: gtidproxy's config for the
# cluster (one listener, the admin port, the three backends or with
# primary-only the primary alone, the app user); MEMBERS is more top-level
# JSON members, each line ending in a comma (consistency, workers, limits).
# Checked with --check-config.
bench_proxy_config() {
  local file=$1 port=$2 admin=$3 members=${4:-} replicas=""
  [ "${5:-}" = primary-only ] || replicas=",
    { \"name\": \"replica1\", \"host\": \"127.0.0.1\", \"port\": $GTIDPROXY_REPLICA1_PORT, \"role\": \"replica\" },
    { \"name\": \"replica2\", \"host\": \"127.0.0.1\", \"port\": $GTIDPROXY_REPLICA2_PORT, \"role\": \"replica\" }"
  cat >"$file" <<JSON
{
  "listeners": [ { "name": "app", "address": "127.0.0.1", "port": $port } ],
  "admin": { "address": "127.0.0.1", "port": $admin },
  "backends": [
    { "name": "primary", "host": "127.0.0.1", "port": $GTIDPROXY_PRIMARY_PORT, "role": "primary" }$replicas
  ],
  "users": [ { "name": "$GTIDPROXY_APP_USER", "password": "$GTIDPROXY_APP_PASSWORD" } ],
  "backend_credentials": { "user": "$GTIDPROXY_APP_USER", "password": "$GTIDPROXY_APP_PASSWORD" },
  "monitor": { "user": "$GTIDPROXY_MONITOR_USER", "password": "$GTIDPROXY_MONITOR_PASSWORD" },
${members:+$members
}  "logging": { "level": "info" }
}
JSON
  "$PROXY_BIN" --check-config -c "$file" >/dev/null 2>"$RUN_DIR/check.log" ||
    { cat "$RUN_DIR/check.log" >&2; die "gtidproxy rejects the benchmark's config ($file)"; }
}

# ---- sysbench's output, statistics --------------------------------------------

# value LOG LABEL: the number after "LABEL:" in sysbench's output ("queries:
# N (X per sec.)" gives N; per_sec gives X).
sb_value() { sed -n "s/^ *$2: *\([0-9.][0-9.]*\).*/\1/p" "$1" | head -n 1; }
sb_per_sec() { sed -n "s/^ *$2: .*(\([0-9.][0-9.]*\) per sec.).*/\1/p" "$1" | head -n 1; }

bench_sb_no_errors() { # LOG: dies unless sysbench's LOG counts 0 ignored errors and 0 reconnects
  local what n
  for what in "ignored errors" reconnects; do
    n=$(sb_value "$1" "$what")
    [ "${n:-x}" = 0 ] || die "sysbench counted ${n:-no} $what (log: $1)"
  done
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { # VALUES...: (max - min) / median, in percent
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %%", (v[NR] - v[1]) * 100 / m }'
}

# ---- the machine and the build ---------------------------------------------------

bench_cpu_model() { awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo; }
bench_mariadb_version() { mariadbd --version 2>/dev/null | sed 's/^.*Ver /MariaDB /; s/ for .*//'; }
# The commit the source tree is at, as git describe --always --dirty: ends
# in "-dirty" when tracked files differ from it (uncommitted code measured).
# The scripts take it when they start, before they build what they measure.
bench_commit() { git describe --always --dirty 2>/dev/null || echo unknown; }
# The load average over 1, 5 and 15 minutes ("0.52 0.61 0.70"): a report
# gives it at its start and end, so a reader sees how busy the machine was.
bench_loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
bench_load_line() { # START: the report's sentence on the load, START the value at the start
  echo "Load average (1/5/15 min) at the start: $1; at the end: $(bench_loadavg)."
}

# ---- the report ------------------------------------------------------------------

bench_write_report() { # REPORT OUT: REPORT on stdout and, unless OUT is -, into the file OUT
  echo "$1"
  [ "$2" != - ] || return 0
  mkdir -p "$(dirname "$2")"
  echo "$1" >"$2"
  say "written to $2"
}
