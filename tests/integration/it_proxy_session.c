/*
 * it_proxy_session.c - session state through the proxy. What a client sets
 * on its session holds wherever its next statement runs: each check reads
 * on a replica (@@server_id != 1, not checked in direct mode) after the
 * session changed
 *  - the schema (USE, COM_INIT_DB, CLIENT_CONNECT_WITH_DB),
 *  - the character set and collation (SET NAMES ... COLLATE),
 *  - sql_mode and time_zone;
 * and the commands that reset a session: COM_CHANGE_USER (same user, and the
 * admin user the proxy config lists) and COM_RESET_CONNECTION. Logins that
 * must fail get the server's ERR 1045 text ("Access denied for user
 * 'app'@...") or 1049 for an unknown database.
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

#define ER_ACCESS_DENIED_ERROR 1045
#define ER_BAD_DB_ERROR        1049

#define OTHER_DB "it_session_other"

static struct cluster_env env;
static struct proxy_proc proxy;

static void expect_sql(MYSQL *m, const char *sql, const char *want)
{
    char *got = cluster_query_value(m, sql);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "'%s' returned '%s', expected '%s'\n", sql, got, want);
    assert_string_equal(got, want);
    free(got);
}

/* Runs `SELECT CONCAT_WS('|', <exprs>), @@server_id` and checks the first
 * column against want and that a replica served it (when there is a proxy). */
static void expect_on_replica(MYSQL *m, const char *exprs, const char *want)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT CONCAT_WS('|', %s), @@server_id", exprs);
    cluster_exec(m, sql);
    MYSQL_RES *res = mysql_store_result(m);
    assert_non_null(res);
    MYSQL_ROW row = mysql_fetch_row(res);
    assert_non_null(row);
    if (strcmp(row[0] ? row[0] : "NULL", want) != 0)
        fprintf(stderr, "'%s' returned '%s', expected '%s'\n", sql, row[0] ? row[0] : "NULL", want);
    assert_string_equal(row[0] ? row[0] : "NULL", want);
    if (!proxy_is_direct())
        assert_int_not_equal(atoi(row[1]), 1);
    mysql_free_result(res);
}

static void test_use_and_set_names_hold_on_replica(void **state)
{
    (void)state;
    MYSQL *m = proxy_connect(&proxy, NULL, 0);
    expect_on_replica(m, "IFNULL(DATABASE(), 'none')", "none");
    cluster_exec(m, "USE " OTHER_DB);
    cluster_exec(m, "SET NAMES utf8mb4 COLLATE utf8mb4_bin");
    expect_on_replica(m,
                      "DATABASE(), @@character_set_client, @@character_set_connection, "
                      "@@character_set_results, @@collation_connection",
                      OTHER_DB "|utf8mb4|utf8mb4|utf8mb4|utf8mb4_bin");
    /* The collation is in force, not just reported: utf8mb4_bin tells case. */
    expect_on_replica(m, "'a' = 'A'", "0");
    /* Unqualified names resolve in the new schema. */
    expect_on_replica(m, "(SELECT v FROM marker)", OTHER_DB);
    mysql_close(m);
}

static void test_sql_mode_and_time_zone_hold_on_replica(void **state)
{
    (void)state;
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", 0);
    cluster_exec(m, "SET SESSION sql_mode = 'ANSI_QUOTES,NO_ENGINE_SUBSTITUTION'");
    cluster_exec(m, "SET time_zone = '+05:30'");
    expect_on_replica(m, "@@SESSION.sql_mode, @@SESSION.time_zone, FROM_UNIXTIME(0)",
                      "ANSI_QUOTES,NO_ENGINE_SUBSTITUTION|+05:30|1970-01-01 05:30:00");
    /* ANSI_QUOTES makes "..." an identifier: the column, not a string. */
    expect_on_replica(m, "(SELECT \"v\" FROM " OTHER_DB ".marker)", OTHER_DB);
    mysql_close(m);
}

static void test_init_db(void **state)
{
    (void)state;
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", 0);
    assert_int_equal(mysql_select_db(m, OTHER_DB), 0);
    expect_on_replica(m, "DATABASE()", OTHER_DB);
    expect_on_replica(m, "(SELECT v FROM marker)", OTHER_DB);

    /* An unknown schema is refused and the current one stays. */
    assert_int_not_equal(mysql_select_db(m, "it_session_no_such_db"), 0);
    assert_int_equal(mysql_errno(m), ER_BAD_DB_ERROR);
    expect_on_replica(m, "DATABASE()", OTHER_DB);
    mysql_close(m);
}

static void test_connect_with_db(void **state)
{
    (void)state;
    MYSQL *m = proxy_connect(&proxy, OTHER_DB, 0);
    expect_on_replica(m, "DATABASE(), (SELECT v FROM marker)", OTHER_DB "|" OTHER_DB);
    mysql_close(m);

    unsigned err = 0;
    char msg[256];
    m = proxy_try_connect(&proxy, env.app_user, env.app_password, "it_session_no_such_db", &err,
                          msg, sizeof msg);
    assert_null(m);
    assert_int_equal(err, ER_BAD_DB_ERROR);
    assert_string_equal(msg, "Unknown database 'it_session_no_such_db'");
}

static void test_change_user(void **state)
{
    (void)state;
    MYSQL *m = proxy_connect(&proxy, OTHER_DB, 0);
    cluster_exec(m, "SET @it_var = 'before'");
    cluster_exec(m, "SET SESSION sql_mode = 'ANSI_QUOTES'");
    expect_sql(m, "SELECT @it_var", "before");

    /* Same user, another schema: a fresh session state. */
    assert_int_equal(mysql_change_user(m, env.app_user, env.app_password, "gtidproxy_test"), 0);
    expect_on_replica(
        m, "DATABASE(), IFNULL(@it_var, 'unset'), @@SESSION.sql_mode = @@GLOBAL.sql_mode",
        "gtidproxy_test|unset|1");

    /* Another user the proxy knows. */
    assert_int_equal(mysql_change_user(m, env.admin_user, env.admin_password, NULL), 0);
    expect_on_replica(m, "IFNULL(DATABASE(), 'none'), 1 + 1", "none|2");
    if (proxy_is_direct()) {
        /* Through the proxy the backends see its backend_credentials user. */
        char want[128];
        snprintf(want, sizeof want, "%s@%%", env.admin_user);
        expect_sql(m, "SELECT CURRENT_USER()", want);
    }

    /* And back, so the session is usable for the app user again. */
    assert_int_equal(mysql_change_user(m, env.app_user, env.app_password, OTHER_DB), 0);
    expect_on_replica(m, "DATABASE()", OTHER_DB);

    /* A wrong password is refused like a login. */
    assert_int_not_equal(mysql_change_user(m, env.app_user, "wrong-password", NULL), 0);
    assert_int_equal(mysql_errno(m), ER_ACCESS_DENIED_ERROR);
    mysql_close(m);
}

static void test_reset_connection(void **state)
{
    (void)state;
    MYSQL *m = proxy_connect(&proxy, OTHER_DB, 0);
    cluster_exec(m, "SET @it_var = 42");
    cluster_exec(m, "SET SESSION sql_mode = 'ANSI_QUOTES'");
    cluster_exec(m, "SET time_zone = '+01:00'");
    expect_sql(m, "SELECT @it_var", "42");

    assert_int_equal(mysql_reset_connection(m), 0);
    /* User variables and session variables are back to their defaults;
     * the schema stays. */
    expect_on_replica(m,
                      "IFNULL(@it_var, 'unset'), @@SESSION.sql_mode = @@GLOBAL.sql_mode, "
                      "@@SESSION.time_zone = @@GLOBAL.time_zone, DATABASE()",
                      "unset|1|1|" OTHER_DB);
    mysql_close(m);
}

static void expect_refused(const char *user, const char *password, const char *msg_prefix,
                           const char *msg_suffix)
{
    unsigned err = 0;
    char msg[256] = "";
    MYSQL *m = proxy_try_connect(&proxy, user, password, NULL, &err, msg, sizeof msg);
    assert_null(m);
    assert_int_equal(err, ER_ACCESS_DENIED_ERROR);
    /* "Access denied for user 'app'@'127.0.0.1' (using password: YES)" */
    if (strncmp(msg, msg_prefix, strlen(msg_prefix)) != 0 || strlen(msg) < strlen(msg_suffix) ||
        strcmp(msg + strlen(msg) - strlen(msg_suffix), msg_suffix) != 0)
        fprintf(stderr, "message '%s', expected '%s...%s'\n", msg, msg_prefix, msg_suffix);
    assert_memory_equal(msg, msg_prefix, strlen(msg_prefix));
    assert_true(strlen(msg) >= strlen(msg_suffix));
    assert_string_equal(msg + strlen(msg) - strlen(msg_suffix), msg_suffix);
}

static void test_wrong_password(void **state)
{
    (void)state;
    expect_refused("app", "not-the-password", "Access denied for user 'app'@",
                   "(using password: YES)");
    expect_refused("app", "", "Access denied for user 'app'@", "(using password: NO)");
}

static void test_unknown_user(void **state)
{
    (void)state;
    expect_refused("it_session_nobody", "whatever", "Access denied for user 'it_session_nobody'@",
                   "(using password: YES)");
}

static int group_setup(void **state)
{
    (void)state;
    cluster_env_load(&env);
    /* A second schema with a marker table whose only row names it. */
    MYSQL *primary = cluster_connect(&env, 0);
    cluster_exec(primary, "CREATE DATABASE IF NOT EXISTS " OTHER_DB);
    cluster_exec(primary, "DROP TABLE IF EXISTS " OTHER_DB ".marker");
    cluster_exec(primary, "CREATE TABLE " OTHER_DB ".marker (v VARCHAR(32))");
    cluster_exec(primary, "INSERT INTO " OTHER_DB ".marker VALUES ('" OTHER_DB "')");
    mysql_close(primary);
    proxy_start(&proxy, &env, NULL);
    if (!proxy_wait_replica_reads(&proxy, 5000))
        fprintf(stderr, "no read reached a replica within 5 s of the proxy's start\n");
    proxy_sync_replicas(&proxy);
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
        cmocka_unit_test(test_use_and_set_names_hold_on_replica),
        cmocka_unit_test(test_sql_mode_and_time_zone_hold_on_replica),
        cmocka_unit_test(test_init_db),
        cmocka_unit_test(test_connect_with_db),
        cmocka_unit_test(test_change_user),
        cmocka_unit_test(test_reset_connection),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_unknown_user),
    };
    return proxy_run_group_tests(tests, group_setup, group_teardown);
}
