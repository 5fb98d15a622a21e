/*
 * it_proxy_crud.c - plain SQL through the proxy with libmariadb, the way an
 * application uses it: inserts, updates and deletes with their affected-row
 * counts; transactions that commit and that roll back (checked afterwards
 * from a new connection); autocommit=0; START TRANSACTION READ ONLY; and
 * where statements run (@@server_id: primary 1, replica i is 1 + i):
 *  - plain reads outside a transaction go to replicas, and over 20 of them
 *    both replicas serve some;
 *  - inside a transaction (BEGIN, or autocommit=0 after a write) everything
 *    runs on the primary; after COMMIT reads go back to replicas;
 *  - locking reads, GET_LOCK/RELEASE_LOCK and LAST_INSERT_ID() run on the
 *    primary (their values prove it even in direct mode).
 * The writing session reads its own writes through the consistency gate
 * (level session); a new session that must see them waits for the replicas
 * first (proxy_sync_replicas). Routing probes run at level eventual: they ask
 * where reads go, not whether a replica caught up (it_consistency does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy_env.h"

/* MariaDB: "Cannot execute statement in a READ ONLY transaction" */
#define ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION 1792
#define ER_OPTION_PREVENTS_STATEMENT 1290 /* read_only */

static struct cluster_env env;
static struct proxy_proc proxy;

static void execf(MYSQL *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void execf(MYSQL *m, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    cluster_exec(m, sql);
}

static MYSQL *connect_db(void)
{
    return proxy_connect(&proxy, "gtidproxy_test", 0);
}

static void fresh_table(MYSQL *m, const char *name, const char *columns)
{
    execf(m, "DROP TABLE IF EXISTS gtidproxy_test.%s", name);
    execf(m, "CREATE TABLE gtidproxy_test.%s (%s)", name, columns);
    /* Reads routed to replicas must find the table. */
    proxy_sync_replicas(&proxy);
}

/* Every row of a (id, name, n) table as "id:name:n,..." in id order. */
static char *table_rows(MYSQL *m, const char *table)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT IFNULL(GROUP_CONCAT(CONCAT_WS(':', id, name, IFNULL(n, 'NULL')) "
             "ORDER BY id SEPARATOR ','), '') FROM gtidproxy_test.%s",
             table);
    return cluster_query_value(m, sql);
}

/* What a new session sees once the replicas applied every write so far. */
static void expect_rows_from_new_session(const char *table, const char *want)
{
    proxy_sync_replicas(&proxy);
    MYSQL *m = connect_db();
    char *got = table_rows(m, table);
    assert_string_equal(got, want);
    free(got);
    mysql_close(m);
}

static void expect_sql(MYSQL *m, const char *sql, const char *want)
{
    char *got = cluster_query_value(m, sql);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "'%s' returned '%s', expected '%s'\n", sql, got, want);
    assert_string_equal(got, want);
    free(got);
}

/* The statement ran on a replica (skipped in direct mode: there is none). */
static void expect_on_replica(MYSQL *m)
{
    if (proxy_is_direct())
        return;
    char *v = cluster_query_value(m, "SELECT /*gtidproxy: consistency=eventual*/ @@server_id");
    unsigned id = (unsigned)strtoul(v, NULL, 10);
    free(v);
    assert_in_range(id, 2, 1 + (unsigned)env.replicas);
}

static void expect_on_primary(MYSQL *m)
{
    assert_int_equal(proxy_server_id(m), 1);
}

static void test_insert_update_delete(void **state)
{
    (void)state;
    MYSQL *m = connect_db();
    /* The greeting: the primary's version, marked (README "Running"). */
    const char *version = mysql_get_server_info(m);
    if (!proxy_is_direct() &&
        (strlen(version) < 10 || strcmp(version + strlen(version) - 10, "-gtidproxy") != 0))
        fail_msg("server version '%s' does not end with -gtidproxy", version);
    fresh_table(m, "crud_rows",
                "id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(32) NOT NULL, n INT");

    cluster_exec(m, "INSERT INTO crud_rows (name, n) VALUES ('alpha', 1), ('beta', 2), "
                    "('gamma', NULL)");
    assert_int_equal(mysql_affected_rows(m), 3);
    assert_int_equal(mysql_insert_id(m), 1); /* the first id of a multi-row insert */

    cluster_exec(m, "UPDATE crud_rows SET n = n + 10 WHERE name IN ('alpha', 'beta')");
    assert_int_equal(mysql_affected_rows(m), 2);
    cluster_exec(m, "UPDATE crud_rows SET n = 0 WHERE name = 'nobody'");
    assert_int_equal(mysql_affected_rows(m), 0);
    cluster_exec(m, "DELETE FROM crud_rows WHERE name = 'beta'");
    assert_int_equal(mysql_affected_rows(m), 1);
    cluster_exec(m, "INSERT INTO crud_rows (name) VALUES ('delta')");
    assert_int_equal(mysql_insert_id(m), 4);
    assert_int_equal(mysql_warning_count(m), 0);

    /* The writing session reads its own rows at once (level session). */
    char *rows = table_rows(m, "crud_rows");
    assert_string_equal(rows, "1:alpha:11,3:gamma:NULL,4:delta:NULL");
    free(rows);
    mysql_close(m);

    expect_rows_from_new_session("crud_rows", "1:alpha:11,3:gamma:NULL,4:delta:NULL");
}

static void test_transaction_commit(void **state)
{
    (void)state;
    MYSQL *m = connect_db();
    fresh_table(m, "crud_commit", "id INT PRIMARY KEY, name VARCHAR(32), n INT");

    cluster_exec(m, "BEGIN");
    cluster_exec(m, "INSERT INTO crud_commit VALUES (1, 'one', 10), (2, 'two', 20)");
    cluster_exec(m, "UPDATE crud_commit SET n = n + 1 WHERE id = 2");
    /* Inside the transaction the session sees its uncommitted rows. */
    expect_sql(m, "SELECT COUNT(*) FROM crud_commit", "2");

    /* Nobody else does before COMMIT. */
    MYSQL *other = connect_db();
    char *rows = table_rows(other, "crud_commit");
    assert_string_equal(rows, "");
    free(rows);
    mysql_close(other);

    cluster_exec(m, "COMMIT");
    mysql_close(m);
    expect_rows_from_new_session("crud_commit", "1:one:10,2:two:21");
}

static void test_transaction_rollback(void **state)
{
    (void)state;
    MYSQL *m = connect_db();
    fresh_table(m, "crud_rollback", "id INT PRIMARY KEY, name VARCHAR(32), n INT");
    cluster_exec(m, "INSERT INTO crud_rollback VALUES (1, 'kept', 1)");

    cluster_exec(m, "START TRANSACTION");
    cluster_exec(m, "INSERT INTO crud_rollback VALUES (2, 'discarded', 2)");
    cluster_exec(m, "DELETE FROM crud_rollback WHERE id = 1");
    expect_sql(m, "SELECT GROUP_CONCAT(id) FROM crud_rollback", "2");
    cluster_exec(m, "ROLLBACK");

    char *rows = table_rows(m, "crud_rollback");
    assert_string_equal(rows, "1:kept:1");
    free(rows);
    mysql_close(m);
    expect_rows_from_new_session("crud_rollback", "1:kept:1");
}

static void test_autocommit_off(void **state)
{
    (void)state;
    MYSQL *m = connect_db();
    fresh_table(m, "crud_autocommit", "id INT PRIMARY KEY, name VARCHAR(32), n INT");

    cluster_exec(m, "SET autocommit = 0");
    expect_sql(m, "SELECT @@autocommit", "0");
    cluster_exec(m, "INSERT INTO crud_autocommit VALUES (1, 'a', 1)");
    cluster_exec(m, "INSERT INTO crud_autocommit VALUES (2, 'b', 2)");
    /* The implicit transaction is open: it and its reads stay on the
     * primary, and no other session sees the rows yet. */
    expect_on_primary(m);
    expect_sql(m, "SELECT COUNT(*) FROM crud_autocommit", "2");
    MYSQL *other = connect_db();
    expect_sql(other, "SELECT COUNT(*) FROM crud_autocommit", "0");
    mysql_close(other);

    cluster_exec(m, "COMMIT");
    expect_rows_from_new_session("crud_autocommit", "1:a:1,2:b:2");

    /* autocommit stays off after COMMIT: the next write opens a new
     * transaction that ROLLBACK discards. */
    cluster_exec(m, "INSERT INTO crud_autocommit VALUES (3, 'c', 3)");
    cluster_exec(m, "ROLLBACK");
    expect_sql(m, "SELECT @@autocommit", "0");
    mysql_close(m);
    expect_rows_from_new_session("crud_autocommit", "1:a:1,2:b:2");
}

static void test_read_only_transaction(void **state)
{
    (void)state;
    MYSQL *m = connect_db();
    fresh_table(m, "crud_read_only", "id INT PRIMARY KEY, name VARCHAR(32), n INT");
    cluster_exec(m, "INSERT INTO crud_read_only VALUES (1, 'x', 1), (2, 'y', 2)");

    cluster_exec(m, "START TRANSACTION READ ONLY");
    expect_sql(m, "SELECT SUM(n) FROM crud_read_only", "3");
    assert_int_not_equal(mysql_query(m, "INSERT INTO crud_read_only VALUES (3, 'z', 3)"), 0);
    /* On the primary the transaction refuses it (1792); on a read_only
     * replica the server's read_only check comes first (1290). */
    unsigned err = mysql_errno(m);
    if (err != ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION && err != ER_OPTION_PREVENTS_STATEMENT)
        fail_msg("write in a READ ONLY transaction: error %u %s", err, mysql_error(m));
    /* The failed write does not end the transaction or the session. */
    expect_sql(m, "SELECT COUNT(*) FROM crud_read_only", "2");
    cluster_exec(m, "COMMIT");
    mysql_close(m);
    expect_rows_from_new_session("crud_read_only", "1:x:1,2:y:2");
}

static void test_plain_reads_spread_over_replicas(void **state)
{
    (void)state;
    if (proxy_is_direct())
        skip();
    /* One read per new session: holds whether the proxy balances per
     * statement or per session. With equal weights the chance that 20
     * choices all hit one of two replicas is 2^-19. */
    unsigned seen[9] = {0};
    for (int i = 0; i < 20; i++) {
        MYSQL *m = connect_db();
        unsigned id = proxy_server_id(m);
        assert_in_range(id, 2, 1 + (unsigned)env.replicas);
        seen[id]++;
        mysql_close(m);
    }
    for (int r = 1; r <= env.replicas; r++) {
        if (seen[1 + r] == 0)
            fprintf(stderr, "replica%d (server_id %d) served none of 20 reads\n", r, 1 + r);
        assert_true(seen[1 + r] > 0);
    }
}

static void test_transaction_runs_on_primary(void **state)
{
    (void)state;
    MYSQL *m = connect_db();
    fresh_table(m, "crud_routing", "id INT PRIMARY KEY, name VARCHAR(32), n INT");
    cluster_exec(m, "INSERT INTO crud_routing VALUES (1, 'w', 1)");
    expect_on_replica(m); /* a write does not pin the session */

    cluster_exec(m, "BEGIN");
    expect_on_primary(m);
    cluster_exec(m, "INSERT INTO crud_routing VALUES (2, 'w', 2)");
    expect_on_primary(m);
    expect_sql(m, "SELECT COUNT(*) FROM crud_routing", "2");
    cluster_exec(m, "COMMIT");
    expect_on_replica(m);

    /* A read-only transaction may run on a replica; the gate lets it start
     * only where this session's writes are. */
    cluster_exec(m, "START TRANSACTION READ ONLY");
    expect_sql(m, "SELECT COUNT(*) FROM crud_routing", "2");
    cluster_exec(m, "COMMIT");
    mysql_close(m);
}

static void test_locking_reads_on_primary(void **state)
{
    (void)state;
    MYSQL *m = connect_db();
    fresh_table(m, "crud_locking", "id INT PRIMARY KEY, name VARCHAR(32), n INT");
    cluster_exec(m, "INSERT INTO crud_locking VALUES (1, 'l', 1)");

    expect_sql(m, "SELECT CONCAT(n, ':', @@server_id) FROM crud_locking WHERE id = 1 FOR UPDATE",
               "1:1");
    expect_sql(m,
               "SELECT CONCAT(n, ':', @@server_id) FROM crud_locking WHERE id = 1 "
               "LOCK IN SHARE MODE",
               "1:1");
    /* Both halves of an advisory lock must meet on one server: RELEASE_LOCK
     * returns NULL where the lock was never taken. */
    expect_sql(m, "SELECT CONCAT(GET_LOCK('it_crud_lock', 0), ':', @@server_id)", "1:1");
    expect_sql(m,
               "SELECT CONCAT(IS_USED_LOCK('it_crud_lock') = CONNECTION_ID(), ':', "
               "@@server_id)",
               "1:1");
    expect_sql(m, "SELECT CONCAT(RELEASE_LOCK('it_crud_lock'), ':', @@server_id)", "1:1");
    mysql_close(m);
}

static void test_last_insert_id_on_primary(void **state)
{
    (void)state;
    MYSQL *m = connect_db();
    fresh_table(m, "crud_last_id", "id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(32), n INT");
    cluster_exec(m, "INSERT INTO crud_last_id (name) VALUES ('a'), ('b')");
    cluster_exec(m, "INSERT INTO crud_last_id (name) VALUES ('c')");
    assert_int_equal(mysql_insert_id(m), 3);
    /* LAST_INSERT_ID() is per connection: only the primary session that
     * inserted knows 3. */
    expect_sql(m, "SELECT CONCAT(LAST_INSERT_ID(), ':', @@server_id)", "3:1");
    mysql_close(m);
}

static int group_setup(void **state)
{
    (void)state;
    cluster_env_load(&env);
    assert_true(env.replicas >= 2);
    proxy_start(&proxy, &env, NULL);
    if (!proxy_wait_replica_reads(&proxy, 5000))
        fprintf(stderr, "no read reached a replica within 5 s of the proxy's start\n");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    proxy_stop(&proxy);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_update_delete),
        cmocka_unit_test(test_transaction_commit),
        cmocka_unit_test(test_transaction_rollback),
        cmocka_unit_test(test_autocommit_off),
        cmocka_unit_test(test_read_only_transaction),
        cmocka_unit_test(test_plain_reads_spread_over_replicas),
        cmocka_unit_test(test_transaction_runs_on_primary),
        cmocka_unit_test(test_locking_reads_on_primary),
        cmocka_unit_test(test_last_insert_id_on_primary),
    };
    return proxy_run_group_tests(tests, group_setup, group_teardown);
}
