#!/usr/bin/env bash
# cluster.sh - a real MariaDB GTID replication cluster on loopback, for tests,
# benchmarks and the sandbox: one primary and N replicas (default 2).
#
#   cluster.sh up [N]            start primary + N replicas; returns when replication runs
#   cluster.sh down              stop every node, remove the data directory
#   cluster.sh status            node, port, pid, role, replication state, GTID position
#   cluster.sh env               export lines: ports, app/admin/monitor users and passwords
#   cluster.sh sql NODE SQL      run SQL on a node as the admin user (prints tab-separated rows)
#   cluster.sh lag R on|off      stop / start replica R's SQL thread (R = 1..N)
#   cluster.sh delay R SECONDS   CHANGE MASTER TO MASTER_DELAY=SECONDS on replica R
#   cluster.sh kill NODE         SIGKILL a node (NODE = primary | replicaR | 0..N)
#   cluster.sh start NODE        start a killed node again with the same settings;
#                                returns once the replicas' IO threads reconnected
#
# Environment (all optional):
#   GTIDPROXY_CLUSTER_DIR    data directory (default /tmp/gtidproxy-cluster); one cluster
#                            per directory, so two runs with different directories never meet
#   GTIDPROXY_CLUSTER_PORT   primary's port; replica R listens on PORT+R. Default: the first
#                            free block of N+1 ports from 13306 upwards, in steps of 10
#   GTIDPROXY_APP_USER / _PASSWORD       application user   (default app / app_pw)
#   GTIDPROXY_ADMIN_USER / _PASSWORD     admin user, all privileges (default admin / admin_pw)
#   GTIDPROXY_MONITOR_USER / _PASSWORD   monitor user (default monitor / monitor_pw)
# Facts this relies on: shared/DESIGN.md section 6.
set -euo pipefail

DIR=${GTIDPROXY_CLUSTER_DIR:-/tmp/gtidproxy-cluster}
APP_USER=${GTIDPROXY_APP_USER:-app}
APP_PASSWORD=${GTIDPROXY_APP_PASSWORD:-app_pw}
ADMIN_USER=${GTIDPROXY_ADMIN_USER:-admin}
ADMIN_PASSWORD=${GTIDPROXY_ADMIN_PASSWORD:-admin_pw}
MONITOR_USER=${GTIDPROXY_MONITOR_USER:-monitor}
MONITOR_PASSWORD=${GTIDPROXY_MONITOR_PASSWORD:-monitor_pw}
REPL_USER=repl
REPL_PASSWORD=repl_pw
UP_TIMEOUT=${GTIDPROXY_CLUSTER_TIMEOUT:-60}

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { echo "cluster.sh: $*" >&2; }

# State written by `up` and read by every other command.
state_file() { echo "$DIR/cluster.env"; }
load_state() {
  [ -f "$(state_file)" ] || die "no cluster in $DIR (run: $0 up)"
  # shellcheck disable=SC1090
  . "$(state_file)"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_base_port() {
  local n=$1 base p ok
  if [ -n "${GTIDPROXY_CLUSTER_PORT:-}" ]; then
    echo "$GTIDPROXY_CLUSTER_PORT"; return
  fi
  for ((base = 13306; base < 14306; base += 10)); do
    ok=1
    for ((p = base; p <= base + n; p++)); do port_free "$p" || { ok=0; break; }; done
    [ $ok = 1 ] && { echo "$base"; return; }
  done
  die "no free block of $((n + 1)) ports between 13306 and 14306"
}

# node_index primary|replicaR|R -> 0..N
node_index() {
  case "$1" in
    primary|0) echo 0 ;;
    replica[0-9]*) echo "${1#replica}" ;;
    [0-9]*) echo "$1" ;;
    *) die "unknown node '$1' (primary, replica1.., or 0..N)" ;;
  esac
}
node_name() { if [ "$1" = 0 ]; then echo primary; else echo "replica$1"; fi; }
node_port() { echo $((BASE_PORT + $1)); }
node_dir() { echo "$DIR/node$1"; }
node_pid() { cat "$(node_dir "$1")/mariadbd.pid" 2>/dev/null || true; }
node_alive() { local pid; pid=$(node_pid "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

# Root over the node's Unix socket (unix_socket auth as OS root), no column names.
node_sql() {
  mariadb --no-defaults -uroot -S "$(node_dir "$1")/mariadbd.sock" -N -B -e "$2"
}

start_node() {
  local i=$1 d
  d=$(node_dir "$i")
  local args=(--no-defaults --datadir="$d/data" --user=root
    --port="$(node_port "$i")" --socket="$d/mariadbd.sock" --pid-file="$d/mariadbd.pid"
    --log-error="$d/error.log" --bind-address=127.0.0.1 --skip-name-resolve
    --server-id=$((i + 1)) --log-bin="$d/binlog" --log-slave-updates=1
    --binlog-format=ROW --gtid-strict-mode=1 --max-connections=1000
    --innodb-buffer-pool-size=64M --innodb-log-file-size=32M --max-allowed-packet=64M
    --skip-slave-start)
  [ "$i" = 0 ] || args+=(--read-only=1)
  nohup mariadbd "${args[@]}" >>"$d/error.log" 2>&1 &
}

wait_node_up() {
  local i=$1 deadline=$((SECONDS + UP_TIMEOUT))
  until node_sql "$i" 'SELECT 1' >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      tail -20 "$(node_dir "$i")/error.log" >&2 || true
      die "$(node_name "$i") did not start within ${UP_TIMEOUT}s (log above)"
    fi
    sleep 0.1
  done
}

replica_running() {
  local row
  row=$(mariadb --no-defaults -uroot -S "$(node_dir "$1")/mariadbd.sock" -E \
    -e 'SHOW SLAVE STATUS' 2>/dev/null) || return 1
  grep -q 'Slave_IO_Running: Yes' <<<"$row" && grep -q 'Slave_SQL_Running: Yes' <<<"$row"
}

wait_io_running() {
  local deadline=$((SECONDS + UP_TIMEOUT))
  until mariadb --no-defaults -uroot -S "$(node_dir "$1")/mariadbd.sock" -E \
          -e 'SHOW SLAVE STATUS' 2>/dev/null | grep -q 'Slave_IO_Running: Yes'; do
    if ((SECONDS > deadline)); then
      node_sql "$1" 'SHOW SLAVE STATUS' >&2 || true
      die "$(node_name "$1")'s IO thread did not reconnect within ${UP_TIMEOUT}s"
    fi
    sleep 0.1
  done
}

# A replica is caught up when its gtid_slave_pos holds the primary's binlog position.
wait_caught_up() {
  local i=$1 want deadline=$((SECONDS + UP_TIMEOUT))
  want=$(node_sql 0 'SELECT @@gtid_binlog_pos')
  until [ "$(node_sql "$i" "SELECT MASTER_GTID_WAIT('$want', 1)" 2>/dev/null)" = 0 ] &&
        replica_running "$i"; do
    if ((SECONDS > deadline)); then
      node_sql "$i" 'SHOW SLAVE STATUS' >&2 || true
      die "$(node_name "$i") did not replicate within ${UP_TIMEOUT}s"
    fi
    sleep 0.1
  done
}

cmd_up() {
  local n=${1:-2}
  [[ "$n" =~ ^[0-9]+$ ]] || die "up: replica count must be a number, got '$n'"
  if [ -f "$(state_file)" ]; then
    load_state
    node_alive 0 && die "a cluster already runs in $DIR (run: $0 down)"
    rm -rf "$DIR"
  fi
  command -v mariadbd >/dev/null || die "mariadbd not found (apt-get install mariadb-server)"
  BASE_PORT=$(pick_base_port "$n")
  REPLICAS=$n
  local i
  for ((i = 0; i <= n; i++)); do
    port_free "$(node_port "$i")" || die "port $(node_port "$i") is in use (set GTIDPROXY_CLUSTER_PORT)"
  done
  mkdir -p "$DIR"
  cat >"$(state_file)" <<EOF
BASE_PORT=$BASE_PORT
REPLICAS=$REPLICAS
EOF
  local sock
  sock="$(node_dir "$n")/mariadbd.sock"
  [ ${#sock} -lt 100 ] || die "data directory path too long for a Unix socket: $DIR"

  # One system database, copied to every node: install-db is the slow part.
  mariadb-install-db --no-defaults --datadir="$DIR/template" --user=root \
    --auth-root-authentication-method=socket --skip-test-db >"$DIR/install.log" 2>&1 ||
    { cat "$DIR/install.log" >&2; die "mariadb-install-db failed"; }
  for ((i = 0; i <= n; i++)); do
    mkdir -p "$(node_dir "$i")"
    cp -a "$DIR/template" "$(node_dir "$i")/data"
    start_node "$i"
  done
  rm -rf "$DIR/template"
  for ((i = 0; i <= n; i++)); do wait_node_up "$i"; done

  # Users are created on the primary only; replication carries them to the replicas.
  node_sql 0 "
    CREATE USER '$REPL_USER'@'127.0.0.1' IDENTIFIED BY '$REPL_PASSWORD';
    GRANT REPLICATION SLAVE ON *.* TO '$REPL_USER'@'127.0.0.1';
    CREATE USER '$ADMIN_USER'@'%' IDENTIFIED BY '$ADMIN_PASSWORD';
    GRANT ALL ON *.* TO '$ADMIN_USER'@'%' WITH GRANT OPTION;
    CREATE USER '$APP_USER'@'%' IDENTIFIED BY '$APP_PASSWORD';
    GRANT ALL ON *.* TO '$APP_USER'@'%';
    -- read_only=1 must stop a write the proxy sent to a replica by mistake
    -- (GRANT ALL includes READ_ONLY ADMIN, which would let it through and break
    -- replication under gtid-strict-mode).
    REVOKE READ_ONLY ADMIN ON *.* FROM '$APP_USER'@'%';
    CREATE USER '$MONITOR_USER'@'%' IDENTIFIED BY '$MONITOR_PASSWORD';
    GRANT SLAVE MONITOR, BINLOG MONITOR, PROCESS ON *.* TO '$MONITOR_USER'@'%';
    CREATE DATABASE gtidproxy_test;"
  for ((i = 1; i <= n; i++)); do
    node_sql "$i" "
      CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$BASE_PORT,
        MASTER_USER='$REPL_USER', MASTER_PASSWORD='$REPL_PASSWORD',
        MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;
      START SLAVE;"
  done
  for ((i = 1; i <= n; i++)); do wait_caught_up "$i"; done
  log "up: primary on 127.0.0.1:$BASE_PORT, $n replica(s) on $((BASE_PORT + 1))..$((BASE_PORT + n)) ($DIR)"
}

cmd_down() {
  [ -f "$(state_file)" ] || { rm -rf "$DIR"; return 0; }
  load_state
  local i pid pids=()
  for ((i = 0; i <= REPLICAS; i++)); do
    pid=$(node_pid "$i")
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  local deadline=$((SECONDS + 30))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS > deadline)); then kill -KILL "$pid" 2>/dev/null || true; fi
      sleep 0.1
    done
  done
  rm -rf "$DIR"
}

cmd_status() {
  load_state
  local i role repl pos
  printf '%-9s %-6s %-8s %-8s %-12s %s\n' NODE PORT PID ROLE REPLICATION GTID
  for ((i = 0; i <= REPLICAS; i++)); do
    if ! node_alive "$i"; then
      printf '%-9s %-6s %-8s %-8s %-12s %s\n' "$(node_name "$i")" "$(node_port "$i")" - down - -
      continue
    fi
    if [ "$i" = 0 ]; then
      role=primary repl=-
      pos=$(node_sql 0 'SELECT @@gtid_binlog_pos' 2>/dev/null || echo '?')
    else
      role=replica
      if replica_running "$i"; then repl=running; else repl=stopped; fi
      pos=$(node_sql "$i" 'SELECT @@gtid_slave_pos' 2>/dev/null || echo '?')
    fi
    printf '%-9s %-6s %-8s %-8s %-12s %s\n' "$(node_name "$i")" "$(node_port "$i")" \
      "$(node_pid "$i")" "$role" "$repl" "${pos:-(empty)}"
  done
}

cmd_env() {
  load_state
  local i ports=""
  echo "export GTIDPROXY_CLUSTER_DIR=$DIR"
  echo "export GTIDPROXY_HOST=127.0.0.1"
  echo "export GTIDPROXY_PRIMARY_PORT=$BASE_PORT"
  for ((i = 1; i <= REPLICAS; i++)); do
    echo "export GTIDPROXY_REPLICA${i}_PORT=$(node_port "$i")"
    ports="$ports${ports:+,}$(node_port "$i")"
  done
  echo "export GTIDPROXY_REPLICA_PORTS=$ports"
  echo "export GTIDPROXY_APP_USER=$APP_USER"
  echo "export GTIDPROXY_APP_PASSWORD=$APP_PASSWORD"
  echo "export GTIDPROXY_ADMIN_USER=$ADMIN_USER"
  echo "export GTIDPROXY_ADMIN_PASSWORD=$ADMIN_PASSWORD"
  echo "export GTIDPROXY_MONITOR_USER=$MONITOR_USER"
  echo "export GTIDPROXY_MONITOR_PASSWORD=$MONITOR_PASSWORD"
}

replica_arg() {
  load_state
  [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= REPLICAS)) ||
    die "replica must be 1..$REPLICAS, got '$1'"
}

cmd_lag() {
  replica_arg "${1:-}"
  case "${2:-}" in
    on) node_sql "$1" 'STOP SLAVE SQL_THREAD' ;;
    off) node_sql "$1" 'START SLAVE SQL_THREAD' ;;
    *) die "lag: say on or off" ;;
  esac
}

cmd_delay() {
  replica_arg "${1:-}"
  [[ "${2:-}" =~ ^[0-9]+$ ]] || die "delay: seconds must be a number, got '${2:-}'"
  node_sql "$1" "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=$2; START SLAVE"
}

cmd_kill() {
  load_state
  local i pid
  i=$(node_index "${1:-}")
  pid=$(node_pid "$i")
  node_alive "$i" || die "$(node_name "$i") is not running"
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

cmd_start() {
  load_state
  local i
  i=$(node_index "${1:-}")
  ((i <= REPLICAS)) || die "no node $1"
  node_alive "$i" && die "$(node_name "$i") already runs"
  start_node "$i"
  wait_node_up "$i"
  [ "$i" = 0 ] || node_sql "$i" 'START SLAVE'
  # Back only once replication reconnected: a replica's IO thread retries
  # every MASTER_CONNECT_RETRY (1 s), and a proxy's monitor rightly keeps
  # reads off a replica whose IO thread is down while the primary is up.
  local r
  for ((r = 1; r <= REPLICAS; r++)); do
    if [ "$i" = 0 ] || [ "$i" = "$r" ]; then
      node_alive "$r" && wait_io_running "$r"
    fi
  done
  return 0
}

cmd_sql() {
  load_state
  local i
  i=$(node_index "${1:-}")
  node_sql "$i" "${2:?sql: give the SQL text}"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  sql) shift; cmd_sql "$@" ;;
  lag) shift; cmd_lag "$@" ;;
  delay) shift; cmd_delay "$@" ;;
  kill) shift; cmd_kill "$@" ;;
  start) shift; cmd_start "$@" ;;
  *) sed -n '2,16p' "$0" >&2; exit 2 ;;
esac
