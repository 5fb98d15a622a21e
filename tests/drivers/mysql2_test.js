#!/usr/bin/env node
// mysql2_test.js - Node.js mysql2 (npm; tests/drivers/node/package.json) through the proxy.
//
// The same flow twice: with query() (placeholders escaped into COM_QUERY text)
// and with execute() (server-side prepared statements: COM_STMT_PREPARE/EXECUTE,
// results in the binary protocol). Each pass: parameters of every common kind
// (utf8mb4 string with an emoji, NULL, DECIMAL, DATETIME(6)) round-trip with
// their JavaScript types, a transaction commits, another rolls back. Exits 1
// with a one-line message on the first mismatch.
//
// mysql2 is not installed in the source tree: scripts/test runs `npm ci` in
// <build>/tests/drivers/node and CTest sets NODE_PATH to its node_modules.
//
// Reads outside a transaction may run on a replica; at level session
// (with_proxy.sh) they must see this connection's writes the first time, so
// none is retried. Reads inside a transaction run on its server.
'use strict';

const NAME = 'mysql2_test.js';

let mysql;
try {
  mysql = require('mysql2/promise');
} catch (e) {
  console.error(`${NAME}: FAIL: cannot load mysql2 (${e.code || e.message}): run \`npm ci\` in ` +
                '<build>/tests/drivers/node (scripts/test does) and set NODE_PATH to its node_modules');
  process.exit(1);
}

for (const v of ['GTIDPROXY_PROXY_HOST', 'GTIDPROXY_PROXY_PORT', 'GTIDPROXY_APP_USER',
                 'GTIDPROXY_APP_PASSWORD']) {
  if (!process.env[v]) {
    console.error(`${NAME}: ${v} is not set: run this through tests/drivers/with_proxy.sh`);
    process.exit(1);
  }
}

class Mismatch extends Error {}

// DECIMAL arrives as a string (exact), DATETIME as a string (dateStrings: a
// Date would drop the microseconds and depend on the time zone), NULL as null.
const ROWS = [
  [1, 'plain ascii', 7, '-0.5000', '2000-01-01 00:00:00.000000'],
  [2, 'h\u00e9llo \u{1F42C} w\u00f6rld \u2713', null, '12345678.9012',
   '2024-02-29 23:59:58.123456'],
];
const COMMITTED = [3, 'committed \u{1F600}', -2147483648, '0.0001', '1999-12-31 23:59:59.999999'];
const ROLLED_BACK = [4, 'rolled back', 1, '1.0000', '2001-02-03 04:05:06.000000'];
const COLUMNS = 'id, s, n, d, t';

// Values with their types: a driver that returns 7 as '7' is wrong too.
const typed = (rows) => JSON.stringify(rows.map((r) => r.map((v) => [v === null ? 'null' : typeof v, v])));

function check(what, expected, got) {
  if (typed(expected) !== typed(got)) {
    throw new Mismatch(`${what}: expected ${typed(expected)}, got ${typed(got)}`);
  }
}


// In the binary protocol the server sends a DATETIME whose microseconds are 0
// without them (length 7, not 11), and mysql2 then prints no fraction.
const binaryRows = (rows) => rows.map((r) => r.map((v) => (typeof v === 'string' ? v.replace(/ (\d\d:\d\d:\d\d)\.000000$/, ' $1') : v)));

async function runFlow(label, method, table) {
  const expect = method === 'execute' ? binaryRows : (rows) => rows;
  const conn = await mysql.createConnection({
    host: process.env.GTIDPROXY_PROXY_HOST,
    port: Number(process.env.GTIDPROXY_PROXY_PORT),
    user: process.env.GTIDPROXY_APP_USER,
    password: process.env.GTIDPROXY_APP_PASSWORD,
    database: 'gtidproxy_test',
    charset: 'UTF8MB4_GENERAL_CI',
    dateStrings: true,
  });
  // Every statement with parameters goes through `method`: query or execute.
  const run = async (sql, params) => (await conn[method]({ sql, rowsAsArray: true }, params))[0];
  const visible = async (what, expected, sql, params) =>
    check(`${label}: ${what}`, expected, await run(sql, params));
  const insert = `INSERT INTO ${table} (${COLUMNS}) VALUES (?, ?, ?, ?, ?)`;
  const selectAll = `SELECT ${COLUMNS} FROM ${table} ORDER BY id`;
  try {
    await conn.query(`DROP TABLE IF EXISTS ${table}`);
    await conn.query(`CREATE TABLE ${table} (id INT PRIMARY KEY,` +
                     ' s VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,' +
                     ' n INT NULL, d DECIMAL(12,4), t DATETIME(6)) ENGINE=InnoDB');
    for (const row of ROWS) {
      const res = await run(insert, row);
      if (res.affectedRows !== 1) {
        throw new Mismatch(`${label}: INSERT id=${row[0]} affected ${res.affectedRows} rows, expected 1`);
      }
    }
    await visible('SELECT after INSERT', expect(ROWS), selectAll, []);
    // The server holds the string's UTF-8 bytes, not a double-encoded copy.
    await visible('stored bytes of the utf8mb4 string',
                  [[Buffer.from(ROWS[1][1], 'utf8').toString('hex').toUpperCase()]],
                  `SELECT HEX(s) FROM ${table} WHERE id = ?`, [2]);
    await visible('SELECT by utf8mb4 parameter', [[2]], `SELECT id FROM ${table} WHERE s = ?`,
                  [ROWS[1][1]]);

    await conn.beginTransaction();
    await run(insert, COMMITTED);
    check(`${label}: SELECT inside the transaction`, expect([COMMITTED]),
          await run(`SELECT ${COLUMNS} FROM ${table} WHERE id = ?`, [COMMITTED[0]]));
    await conn.commit();
    await visible('SELECT after COMMIT', expect([...ROWS, COMMITTED]), selectAll, []);

    await conn.beginTransaction();
    await run(insert, ROLLED_BACK);
    check(`${label}: SELECT inside the rolled-back transaction`, [[4]],
          await run(`SELECT id FROM ${table} WHERE id = ?`, [4]));
    await conn.rollback();
    // In a transaction, so on the primary: a replica could lack row 4 merely
    // because it is behind.
    await conn.beginTransaction();
    check(`${label}: SELECT after ROLLBACK`, expect([...ROWS, COMMITTED]), await run(selectAll, []));
    await conn.commit();
    await conn.query(`DROP TABLE ${table}`);
  } finally {
    await conn.end();
  }
}

(async () => {
  try {
    await runFlow('query()', 'query', 'drv_mysql2');
    await runFlow('execute()', 'execute', 'drv_mysql2_ps');
  } catch (e) {
    console.error(`${NAME}: FAIL: ${e instanceof Mismatch ? e.message : e.stack || e}`);
    process.exit(1);
  }
  console.log(`${NAME}: ok`);
})();
