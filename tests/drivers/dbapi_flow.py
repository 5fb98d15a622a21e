"""dbapi_flow.py - the driver test both Python drivers run (PEP 249, "format" params).

pymysql_test.py and mysqldb_test.py connect with their own driver and call
run(); everything a user of either relies on is checked here the same way:
parameters of every common kind (a utf8mb4 string with an emoji, a NULL, a
DECIMAL, a DATETIME with microseconds) round-trip with their Python types, a
transaction commits, another rolls back. Any mismatch raises Mismatch, which
main() turns into a one-line message and exit status 1.

Where reads go: outside a transaction the proxy may send a SELECT to a
replica; until GTID consistency lands (next issue after the proxy core) that
replica may not have applied the write yet, so such reads are retried for up
to 5 s (visible()). Reads inside an explicit transaction run on the
transaction's server and must see its writes at once: they are not retried.
"""
import datetime
import os
import sys
from decimal import Decimal

ROWS = [
    (1, "plain ascii", 7, Decimal("-0.5000"), datetime.datetime(2000, 1, 1, 0, 0, 0)),
    (2, "h\u00e9llo \U0001F42C w\u00f6rld \u2713", None, Decimal("12345678.9012"),
     datetime.datetime(2024, 2, 29, 23, 59, 58, 123456)),
]
COMMITTED = (3, "committed \U0001F600", -2147483648, Decimal("0.0001"),
             datetime.datetime(1999, 12, 31, 23, 59, 59, 999999))
ROLLED_BACK = (4, "rolled back", 1, Decimal("1.0000"), datetime.datetime(2001, 2, 3, 4, 5, 6))

COLUMNS = "id, s, n, d, t"


class Mismatch(Exception):
    pass


def connect_args():
    """Where and as whom to connect: set by with_proxy.sh and the cluster env."""
    try:
        return {
            "host": os.environ["GTIDPROXY_PROXY_HOST"],
            "port": int(os.environ["GTIDPROXY_PROXY_PORT"]),
            "user": os.environ["GTIDPROXY_APP_USER"],
            "password": os.environ["GTIDPROXY_APP_PASSWORD"],
            "database": "gtidproxy_test",
        }
    except KeyError as e:
        raise SystemExit(f"{e.args[0]} is not set: run this through tests/drivers/with_proxy.sh")


def typed(rows):
    """Rows with each value's type beside it: 1 == True and Decimal(1) == 1 in
    Python, but a driver that returns the wrong type is wrong."""
    return [tuple((type(v).__name__, v) for v in row) for row in rows]


def check(what, expected, got):
    if typed(expected) != typed(got):
        raise Mismatch(f"{what}: expected {typed(expected)!r}, got {typed(got)!r}")


def fetch(cur, sql, args=None):
    cur.execute(sql, args)
    return [tuple(r) for r in cur.fetchall()]


def visible(cur, what, sql, args, expected):
    """A read outside a transaction (may run on a replica): it must already
    see this connection's writes (read-your-writes, level session)."""
    check(what, expected, fetch(cur, sql, args))


def run(conn, table):
    """The whole flow on `table` (dropped first and at the end); conn has
    autocommit on and charset utf8mb4."""
    cur = conn.cursor()
    insert = f"INSERT INTO {table} ({COLUMNS}) VALUES (%s, %s, %s, %s, %s)"
    select_all = f"SELECT {COLUMNS} FROM {table} ORDER BY id"
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY,"
                " s VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,"
                " n INT NULL, d DECIMAL(12,4), t DATETIME(6)) ENGINE=InnoDB")
    try:
        for row in ROWS:
            cur.execute(insert, row)
            if cur.rowcount != 1:
                raise Mismatch(f"INSERT id={row[0]}: rowcount {cur.rowcount}, expected 1")
        visible(cur, "SELECT after INSERT", select_all, None, ROWS)
        # The server holds the string's UTF-8 bytes (a charset mix-up on both
        # legs could round-trip mangled bytes unnoticed).
        visible(cur, "stored bytes of the utf8mb4 string",
                f"SELECT HEX(s) FROM {table} WHERE id = 2", None,
                [(ROWS[1][1].encode("utf-8").hex().upper(),)])
        visible(cur, "SELECT by utf8mb4 parameter",
                f"SELECT id FROM {table} WHERE s = %s", (ROWS[1][1],), [(2,)])

        cur.execute("START TRANSACTION")
        cur.execute(insert, COMMITTED)
        check("SELECT inside the transaction", [COMMITTED],
              fetch(cur, f"SELECT {COLUMNS} FROM {table} WHERE id = %s", (COMMITTED[0],)))
        conn.commit()
        visible(cur, "SELECT after COMMIT", select_all, None, ROWS + [COMMITTED])

        cur.execute("START TRANSACTION")
        cur.execute(insert, ROLLED_BACK)
        check("SELECT inside the rolled-back transaction", [(4,)],
              fetch(cur, f"SELECT id FROM {table} WHERE id = 4"))
        conn.rollback()
        # In a transaction, so on the primary: a replica could show "no row 4"
        # merely because it is behind.
        cur.execute("START TRANSACTION")
        check("SELECT after ROLLBACK", ROWS + [COMMITTED], fetch(cur, select_all))
        conn.commit()
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.close()


def main(name, connect, table):
    """connect() -> a DB-API connection (autocommit on, utf8mb4)."""
    try:
        conn = connect(**connect_args())
        try:
            run(conn, table)
        finally:
            conn.close()
    except Mismatch as e:
        print(f"{name}: FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"{name}: ok")
