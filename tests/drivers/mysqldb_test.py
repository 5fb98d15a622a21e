#!/usr/bin/python3
"""mysqldb_test.py - Python's MySQLdb (Debian python3-mysqldb, on libmariadb) through the proxy.

MySQLdb wraps the C client library; it escapes parameters into the text (no
server-side prepared statements), so the flow is dbapi_flow.run(): parameters,
types, commit, rollback. Run it through with_proxy.sh, with /usr/bin/python3.
"""
import os
import sys

sys.dont_write_bytecode = True  # never write __pycache__ into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import MySQLdb  # noqa: E402

import dbapi_flow  # noqa: E402


def connect(host, port, user, password, database):
    conn = MySQLdb.connect(host=host, port=port, user=user, passwd=password, db=database,
                           charset="utf8mb4")
    conn.autocommit(True)
    return conn


if __name__ == "__main__":
    dbapi_flow.main("mysqldb_test.py", connect, "drv_mysqldb")
