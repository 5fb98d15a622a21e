#!/usr/bin/env bash
# mariadb_cli.sh - the `mariadb` command-line client through the proxy.
#
# The client has no placeholders of its own; parameters go through SQL
# PREPARE/EXECUTE ... USING @vars (server-side prepared statements of the text
# protocol). Checked: a multi-statement -e (the client sends its statements one
# by one on one connection), one COM_QUERY holding two statements (DELIMITER
# keeps the client from splitting it: two result sets come back), a utf8mb4
# string with an emoji, NULL, DECIMAL and DATETIME(6) round-trip exactly, a
# transaction commits and another rolls back. Output is compared as the
# client prints it in batch mode (-N -B: tab-separated, NULL as "NULL").
#
# Every read must see what was written before it, at once and without retries:
# each `sql` call is a new client session, so reads outside a transaction run
# at level global (every write through this proxy), which the proxy's
# consistency gate guarantees on a replica or, failing that, the primary.
set -euo pipefail

NAME=mariadb_cli.sh
T=drv_mariadb_cli
for var in GTIDPROXY_PROXY_HOST GTIDPROXY_PROXY_PORT GTIDPROXY_APP_USER GTIDPROXY_APP_PASSWORD; do
  [ -n "${!var:-}" ] || { echo "$NAME: $var is not set: run this through tests/drivers/with_proxy.sh" >&2; exit 1; }
done

fail() { echo "$NAME: FAIL: $*" >&2; exit 1; }

# One client session; SQL from -e "$1", or from stdin when $1 is -.
sql() {
  local args=(--no-defaults --protocol=tcp -h "$GTIDPROXY_PROXY_HOST" -P "$GTIDPROXY_PROXY_PORT"
    -u "$GTIDPROXY_APP_USER" --password="$GTIDPROXY_APP_PASSWORD"
    --default-character-set=utf8mb4 -N -B gtidproxy_test)
  if [ "$1" = - ]; then mariadb "${args[@]}"; else mariadb "${args[@]}" -e "$1"; fi
}

# check WHAT EXPECTED SQL: the session's output must be EXPECTED exactly.
check() {
  local got
  got=$(sql "$3") || fail "$1: the client failed"
  [ "$got" = "$2" ] || fail "$1: expected"$'\n'"$2"$'\n'"got"$'\n'"$got"
}

# Against the primary directly (GTIDPROXY_IT_DIRECT=1) there is no level to set.
GLOBAL="SET gtidproxy_consistency='global';"
[ "${GTIDPROXY_IT_DIRECT:-0}" != 1 ] || GLOBAL=""

# visible WHAT EXPECTED SQL|-: a read outside a transaction, in a new session
# at level global: it must see every earlier session's writes the first time.
visible() {
  local what=$1 expected=$2 text=$3 got
  [ "$text" != - ] || text=$(cat)
  got=$(sql - <<<"$GLOBAL"$'\n'"$text") || fail "$what: the client failed"
  [ "$got" = "$expected" ] || fail "$what: expected"$'\n'"$expected"$'\n'"got"$'\n'"$got"
}

# Literal UTF-8 (bash's $'\u...' depends on the locale: ctest may run in C).
EMOJI='héllo 🐬 wörld ✓'
SMILE='😀'
TAB=$'\t'
ROW1="1${TAB}plain ascii${TAB}7${TAB}-0.5000${TAB}2000-01-01 00:00:00.000000"
ROW2="2${TAB}${EMOJI}${TAB}NULL${TAB}12345678.9012${TAB}2024-02-29 23:59:58.123456"
ROW3="3${TAB}committed $SMILE${TAB}-2147483648${TAB}0.0001${TAB}1999-12-31 23:59:59.999999"

sql "DROP TABLE IF EXISTS $T;
     CREATE TABLE $T (id INT PRIMARY KEY,
       s VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
       n INT NULL, d DECIMAL(12,4), t DATETIME(6)) ENGINE=InnoDB" ||
  fail "CREATE TABLE: the client failed"
trap 'sql "DROP TABLE IF EXISTS $T" || true' EXIT

# Multi-statement -e: a literal INSERT, then the parameters of the second row
# bound through a prepared INSERT (the emoji, a NULL, a DECIMAL, a DATETIME).
check "INSERT, multi-statement -e" "" "
  INSERT INTO $T VALUES (1, 'plain ascii', 7, -0.5, '2000-01-01 00:00:00');
  SET @id = 2, @s = '$EMOJI', @n = NULL, @d = 12345678.9012, @t = '2024-02-29 23:59:58.123456';
  PREPARE ins FROM 'INSERT INTO $T (id, s, n, d, t) VALUES (?, ?, ?, ?, ?)';
  EXECUTE ins USING @id, @s, @n, @d, @t;
  DEALLOCATE PREPARE ins"
visible "SELECT after INSERT" "$ROW1"$'\n'"$ROW2" "SELECT id, s, n, d, t FROM $T ORDER BY id"
# The server holds the string's UTF-8 bytes, not a double-encoded copy.
visible "stored bytes of the utf8mb4 string" \
  "$(printf '%s' "$EMOJI" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" \
  "SELECT HEX(s) FROM $T WHERE id = 2"
visible "prepared SELECT with a utf8mb4 parameter" "2${TAB}NULL" "
  SET @s = '$EMOJI';
  PREPARE sel FROM 'SELECT id, n FROM $T WHERE s = ?';
  EXECUTE sel USING @s;
  DEALLOCATE PREPARE sel"
# Two statements in one COM_QUERY: the client splits on the delimiter only.
visible "two statements in one query" "2"$'\n'"$EMOJI" - <<EOF
DELIMITER //
SELECT COUNT(*) FROM $T; SELECT s FROM $T WHERE id = 2//
EOF

check "transaction that commits" "$ROW3" "
  START TRANSACTION;
  INSERT INTO $T VALUES (3, 'committed $SMILE', -2147483648, 0.0001, '1999-12-31 23:59:59.999999');
  SELECT id, s, n, d, t FROM $T WHERE id = 3;
  COMMIT"
visible "SELECT after COMMIT" "$ROW1"$'\n'"$ROW2"$'\n'"$ROW3" \
  "SELECT id, s, n, d, t FROM $T ORDER BY id"
check "transaction that rolls back" "4"$'\n'"1"$'\n'"2"$'\n'"3" "
  START TRANSACTION;
  INSERT INTO $T VALUES (4, 'rolled back', 1, 1, '2001-02-03 04:05:06');
  SELECT id FROM $T WHERE id = 4;
  ROLLBACK;
  START TRANSACTION;
  SELECT id FROM $T ORDER BY id;
  COMMIT"

echo "$NAME: ok"
