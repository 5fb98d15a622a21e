/*
 * it_proxy_stmt.c - where prepared statements (binary protocol) run through
 * the proxy, with libmariadb as the client:
 *   - a prepared read executes on a replica, a prepared write on the primary;
 *   - inside a transaction the same read executes on the transaction's
 *     server, where the proxy prepares it first and re-sends the parameter
 *     types libmariadb sends only with the first execution;
 *   - mariadb_stmt_execute_direct (PREPARE and EXECUTE id -1 pipelined);
 *   - COM_STMT_CLOSE reaches every server that prepared the statement, so a
 *     client that prepares and closes in a loop leaves nothing behind;
 *   - a prepared write after the transaction's server connection died gets
 *     the "transaction was lost" error instead of committing on its own;
 *   - what a prepared statement leaves on the primary (a user variable, a
 *     temporary table) is read there afterwards, by text and prepared reads;
 *   - long data sent to a server the proxy must first reconnect to (and
 *     prepare the statement on again) is followed by the EXECUTE libmariadb
 *     pipelines behind it: the EXECUTE must not wait for the client's next
 *     bytes, which never come.
 * Routing checks skip in direct mode (GTIDPROXY_IT_DIRECT=1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy_env.h"

static struct cluster_env env;
static struct proxy_proc proxy;

/* Executes st (one BIGINT parameter bound to *arg) and returns the two
 * BIGINT columns of its single row: the value and @@server_id. */
static void exec_pair(MYSQL_STMT *st, long long *arg, long long *val, long long *server)
{
    MYSQL_BIND in[1], out[2];
    memset(in, 0, sizeof in);
    in[0].buffer_type = MYSQL_TYPE_LONGLONG;
    in[0].buffer = arg;
    if (mysql_stmt_bind_param(st, in))
        fail_msg("bind_param: %s", mysql_stmt_error(st));
    if (mysql_stmt_execute(st))
        fail_msg("execute: %s", mysql_stmt_error(st));
    memset(out, 0, sizeof out);
    out[0].buffer_type = MYSQL_TYPE_LONGLONG;
    out[0].buffer = val;
    out[1].buffer_type = MYSQL_TYPE_LONGLONG;
    out[1].buffer = server;
    if (mysql_stmt_bind_result(st, out) || mysql_stmt_store_result(st))
        fail_msg("result: %s", mysql_stmt_error(st));
    assert_int_equal(mysql_stmt_fetch(st), 0);
    assert_int_equal(mysql_stmt_fetch(st), MYSQL_NO_DATA);
    mysql_stmt_free_result(st);
}

static MYSQL_STMT *prepare(MYSQL *m, const char *sql)
{
    MYSQL_STMT *st = mysql_stmt_init(m);
    assert_non_null(st);
    if (mysql_stmt_prepare(st, sql, strlen(sql)))
        fail_msg("prepare '%s': %s", sql, mysql_stmt_error(st));
    return st;
}

static void test_prepared_read_runs_on_replica_and_follows_transactions(void **state)
{
    (void)state;
    MYSQL *m = proxy_connect(&proxy, NULL, 0);
    MYSQL_STMT *st = prepare(m, "SELECT ? + 1, @@server_id");
    long long arg = 41, val = 0, server = 0;
    exec_pair(st, &arg, &val, &server);
    assert_int_equal(val, 42);
    if (!proxy_is_direct())
        assert_int_not_equal(server, 1);

    /* Inside a read-write transaction: the primary. libmariadb sends no
     * parameter types with this second execution; the proxy must. */
    cluster_exec(m, "BEGIN");
    arg = 99;
    exec_pair(st, &arg, &val, &server);
    assert_int_equal(val, 100);
    if (!proxy_is_direct())
        assert_int_equal(server, 1);
    cluster_exec(m, "COMMIT");

    /* And back on a replica, new value, still no types from the client. */
    arg = 6;
    exec_pair(st, &arg, &val, &server);
    assert_int_equal(val, 7);
    if (!proxy_is_direct())
        assert_int_not_equal(server, 1);
    mysql_stmt_close(st);
    mysql_close(m);
}

static void test_prepared_write_runs_on_primary(void **state)
{
    (void)state;
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", 0);
    cluster_exec(m, "DROP TABLE IF EXISTS stmt_w");
    cluster_exec(m, "CREATE TABLE stmt_w (id INT PRIMARY KEY, sid INT)");
    MYSQL_STMT *st = prepare(m, "INSERT INTO stmt_w VALUES (?, @@server_id)");
    for (int i = 1; i <= 3; i++) {
        MYSQL_BIND in[1];
        memset(in, 0, sizeof in);
        in[0].buffer_type = MYSQL_TYPE_LONG;
        in[0].buffer = &i;
        if (mysql_stmt_bind_param(st, in) || mysql_stmt_execute(st))
            fail_msg("insert %d: %s", i, mysql_stmt_error(st));
        assert_int_equal(mysql_stmt_affected_rows(st), 1);
    }
    mysql_stmt_close(st);
    MYSQL *primary = cluster_connect(&env, 0);
    char *v = cluster_query_value(primary,
                                  "SELECT CONCAT(COUNT(*), ':', MIN(sid), ':', MAX(sid)) "
                                  "FROM gtidproxy_test.stmt_w");
    assert_string_equal(v, "3:1:1");
    free(v);
    mysql_close(primary);
    mysql_close(m);
}

static void test_execute_direct(void **state)
{
    (void)state;
    MYSQL *m = proxy_connect(&proxy, NULL, 0);
    MYSQL_STMT *st = mysql_stmt_init(m);
    long long arg = 9, val = 0, server = 0;
    MYSQL_BIND in[1], out[2];
    memset(in, 0, sizeof in);
    in[0].buffer_type = MYSQL_TYPE_LONGLONG;
    in[0].buffer = &arg;
    unsigned int count = 1;
    mysql_stmt_attr_set(st, STMT_ATTR_PREBIND_PARAMS, &count);
    assert_int_equal(mysql_stmt_bind_param(st, in), 0);
    const char *sql = "SELECT ? * 2, @@server_id";
    if (mariadb_stmt_execute_direct(st, sql, strlen(sql)))
        fail_msg("execute_direct: %s", mysql_stmt_error(st));
    memset(out, 0, sizeof out);
    out[0].buffer_type = MYSQL_TYPE_LONGLONG;
    out[0].buffer = &val;
    out[1].buffer_type = MYSQL_TYPE_LONGLONG;
    out[1].buffer = &server;
    assert_int_equal(mysql_stmt_bind_result(st, out), 0);
    assert_int_equal(mysql_stmt_store_result(st), 0);
    assert_int_equal(mysql_stmt_fetch(st), 0);
    assert_int_equal(val, 18);
    mysql_stmt_close(st);
    /* The session is fine afterwards. */
    char *one = cluster_query_value(m, "SELECT 1");
    assert_string_equal(one, "1");
    free(one);
    mysql_close(m);
}

/* Prepared statements open on all servers (a global status counter). */
static long total_prepared(void)
{
    long total = 0;
    for (int node = 0; node <= env.replicas; node++) {
        MYSQL *c = cluster_connect(&env, node);
        cluster_exec(c, "SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'");
        MYSQL_RES *r = mysql_store_result(c);
        MYSQL_ROW row = mysql_fetch_row(r);
        total += atol(row[1]);
        mysql_free_result(r);
        mysql_close(c);
    }
    return total;
}

static void test_many_statements_prepare_and_close(void **state)
{
    (void)state;
    long before = total_prepared();
    MYSQL *m = proxy_connect(&proxy, NULL, 0);
    for (int i = 0; i < 100; i++) {
        MYSQL_STMT *st = prepare(m, "SELECT ? + 1, @@server_id");
        long long arg = i, val = 0, server = 0;
        exec_pair(st, &arg, &val, &server);
        assert_int_equal(val, i + 1);
        if (i % 10 == 0) { /* sometimes also on the primary */
            cluster_exec(m, "BEGIN");
            cluster_exec(m, "DO 1");
            exec_pair(st, &arg, &val, &server);
            cluster_exec(m, "COMMIT");
        }
        mysql_stmt_close(st);
    }
    /* The session is still open, so anything it left would still count. */
    long after = total_prepared();
    if (after > before)
        fail_msg("%ld prepared statements left open on the servers", after - before);
    mysql_close(m);
}

static void exec_insert(MYSQL_STMT *st, int id, bool expect_ok)
{
    MYSQL_BIND in[1];
    memset(in, 0, sizeof in);
    in[0].buffer_type = MYSQL_TYPE_LONG;
    in[0].buffer = &id;
    if (mysql_stmt_bind_param(st, in))
        fail_msg("bind_param: %s", mysql_stmt_error(st));
    int rc = mysql_stmt_execute(st);
    if (expect_ok && rc)
        fail_msg("insert %d: %s", id, mysql_stmt_error(st));
    if (!expect_ok && !rc)
        fail_msg("insert %d succeeded after its transaction was lost", id);
}

static long long primary_count(const char *sql)
{
    MYSQL *primary = cluster_connect(&env, 0);
    char *v = cluster_query_value(primary, sql);
    long long n = atoll(v);
    free(v);
    mysql_close(primary);
    return n;
}

static void expect_sql_value(MYSQL *m, const char *sql, const char *want)
{
    char *v = cluster_query_value(m, sql);
    if (!v || strcmp(v, want) != 0)
        fail_msg("%s: expected %s, got %s", sql, want, v ? v : "NULL");
    free(v);
}

/* KILLs the primary connection conn_id (a session's backend connection,
 * from SELECT CONNECTION_ID() inside a transaction) from a connection of
 * the test's own, then gives the proxy 300 ms to see it close. */
static void kill_backend_conn(const char *conn_id)
{
    MYSQL *primary = cluster_connect(&env, 0);
    char kill[64];
    snprintf(kill, sizeof kill, "KILL %s", conn_id);
    cluster_exec(primary, kill);
    mysql_close(primary);
    proxy_sleep_ms(300);
}

static void test_lost_transaction_fails_prepared_execute(void **state)
{
    (void)state;
    if (proxy_is_direct())
        skip(); /* killing the transaction's connection kills the client's */
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", 0);
    cluster_exec(m, "DROP TABLE IF EXISTS stmt_lost");
    cluster_exec(m, "CREATE TABLE stmt_lost (id INT PRIMARY KEY)");
    MYSQL_STMT *st = prepare(m, "INSERT INTO stmt_lost VALUES (?)");
    cluster_exec(m, "BEGIN");
    exec_insert(st, 1, true);
    char *conn = cluster_query_value(m, "SELECT CONNECTION_ID()"); /* the transaction's */
    kill_backend_conn(conn);
    free(conn);

    exec_insert(st, 2, false);
    assert_int_equal(mysql_stmt_errno(st), 9002);
    assert_non_null(strstr(mysql_stmt_error(st), "transaction was lost"));
    assert_int_equal(primary_count("SELECT COUNT(*) FROM gtidproxy_test.stmt_lost"), 0);

    /* The session goes on, outside any transaction. */
    exec_insert(st, 3, true);
    assert_int_equal(primary_count("SELECT COUNT(*) FROM gtidproxy_test.stmt_lost"), 1);
    mysql_stmt_close(st);
    mysql_close(m);
}

static void test_prepared_effects_stay_on_primary(void **state)
{
    (void)state;
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", 0);
    MYSQL_STMT *set = prepare(m, "SET @stmt_a = ?");
    long long v = 42;
    MYSQL_BIND in[1];
    memset(in, 0, sizeof in);
    in[0].buffer_type = MYSQL_TYPE_LONGLONG;
    in[0].buffer = &v;
    if (mysql_stmt_bind_param(set, in) || mysql_stmt_execute(set))
        fail_msg("SET @stmt_a = ?: %s", mysql_stmt_error(set));
    mysql_stmt_close(set);
    expect_sql_value(m, "SELECT @stmt_a", "42"); /* a replica would say NULL */

    MYSQL_STMT *read = prepare(m, "SELECT @stmt_a + ?, @@server_id");
    long long arg = 1, val = 0, server = 0;
    exec_pair(read, &arg, &val, &server);
    assert_int_equal(val, 43);
    mysql_stmt_close(read);

    MYSQL_STMT *tmp = prepare(m, "CREATE TEMPORARY TABLE stmt_tt (a INT)");
    if (mysql_stmt_execute(tmp))
        fail_msg("CREATE TEMPORARY TABLE: %s", mysql_stmt_error(tmp));
    mysql_stmt_close(tmp);
    cluster_exec(m, "INSERT INTO stmt_tt VALUES (7)");
    expect_sql_value(m, "SELECT a FROM stmt_tt", "7"); /* a replica has no such table */
    mysql_close(m);
}

static int group_setup(void **state)
{
    (void)state;
    cluster_env_load(&env);
    proxy_start(&proxy, &env, NULL);
    if (!proxy_is_direct())
        assert_true(proxy_wait_replica_reads(&proxy, 5000));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    proxy_stop(&proxy);
    return 0;
}

static void test_long_data_then_execute_after_reconnect(void **state)
{
    (void)state;
    if (proxy_is_direct())
        skip(); /* killing the proxy's connection would kill the client's */
    MYSQL *m = proxy_mysql_init();
    unsigned timeout_s = 10; /* a stalled EXECUTE fails instead of hanging */
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout_s);
    assert_non_null(proxy_connect_with(&proxy, m, "gtidproxy_test", 0));
    cluster_exec(m, "DROP TABLE IF EXISTS stmt_long");
    cluster_exec(m, "CREATE TABLE stmt_long (id INT PRIMARY KEY, v BLOB)");
    MYSQL_STMT *st = prepare(m, "INSERT INTO stmt_long VALUES (?, ?)");
    /* The session's primary connection, found through a transaction. */
    cluster_exec(m, "BEGIN");
    char *conn = cluster_query_value(m, "SELECT CONNECTION_ID()");
    cluster_exec(m, "COMMIT");
    kill_backend_conn(conn);
    free(conn);

    int id = 7;
    MYSQL_BIND in[2];
    memset(in, 0, sizeof in);
    in[0].buffer_type = MYSQL_TYPE_LONG;
    in[0].buffer = &id;
    in[1].buffer_type = MYSQL_TYPE_BLOB;
    if (mysql_stmt_bind_param(st, in))
        fail_msg("bind_param: %s", mysql_stmt_error(st));
    /* Long data makes the proxy reconnect and prepare again before it can
     * send it; the EXECUTE arrives meanwhile. */
    assert_int_equal(mysql_stmt_send_long_data(st, 1, "long data", 9), 0);
    if (mysql_stmt_execute(st))
        fail_msg("execute after long data: %u %s", mysql_stmt_errno(st), mysql_stmt_error(st));
    MYSQL *p = cluster_connect(&env, 0);
    char *v = cluster_query_value(p, "SELECT v FROM gtidproxy_test.stmt_long WHERE id = 7");
    assert_string_equal(v, "long data");
    free(v);
    mysql_close(p);
    mysql_stmt_close(st);
    mysql_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepared_read_runs_on_replica_and_follows_transactions),
        cmocka_unit_test(test_prepared_write_runs_on_primary),
        cmocka_unit_test(test_execute_direct),
        cmocka_unit_test(test_many_statements_prepare_and_close),
        cmocka_unit_test(test_lost_transaction_fails_prepared_execute),
        cmocka_unit_test(test_prepared_effects_stay_on_primary),
        cmocka_unit_test(test_long_data_then_execute_after_reconnect),
    };
    return proxy_run_group_tests(tests, group_setup, group_teardown);
}
