#!/usr/bin/python3
"""pymysql_test.py - Python's pymysql (Debian python3-pymysql) through the proxy.

pymysql is pure Python and speaks the protocol itself; it has no server-side
prepared statements (parameters are escaped into the text), so the flow is
dbapi_flow.run(): parameters, types, commit, rollback. Run it through
with_proxy.sh, with /usr/bin/python3 (Debian's modules import there).
"""
import os
import sys

sys.dont_write_bytecode = True  # never write __pycache__ into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pymysql  # noqa: E402

import dbapi_flow  # noqa: E402


def connect(**kw):
    return pymysql.connect(charset="utf8mb4", autocommit=True, **kw)


if __name__ == "__main__":
    dbapi_flow.main("pymysql_test.py", connect, "drv_pymysql")
