/*
 * it_proxy_multi.c - replies of more than one part through the proxy:
 *  - multi-statements (CLIENT_MULTI_STATEMENTS): result sets and an INSERT's
 *    OK in one reply, walked with mysql_next_result;
 *  - CALL of a procedure that returns two result sets, then its final OK;
 *  - LOAD DATA LOCAL INFILE of 10,000 rows (the server asks the client for
 *    the file in the middle of the reply).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy_env.h"

static struct cluster_env env;
static struct proxy_proc proxy;

/* The current result of m: a result set of `rows` rows whose first column
 * of the first row is `first` (NULL: do not check). */
static void expect_result_set(MYSQL *m, unsigned long long rows, const char *first)
{
    assert_int_not_equal(mysql_field_count(m), 0);
    MYSQL_RES *res = mysql_store_result(m);
    assert_non_null(res);
    assert_int_equal(mysql_num_rows(res), rows);
    if (first) {
        MYSQL_ROW row = mysql_fetch_row(res);
        assert_non_null(row);
        assert_string_equal(row[0], first);
    }
    mysql_free_result(res);
}

/* Moves to the next result: 0 there is one, -1 the reply ended. */
static int next_result(MYSQL *m)
{
    int rc = mysql_next_result(m);
    if (rc > 0) {
        fprintf(stderr, "mysql_next_result: %u %s\n", mysql_errno(m), mysql_error(m));
        fail();
    }
    return rc;
}

static void test_multi_statements(void **state)
{
    (void)state;
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", CLIENT_MULTI_STATEMENTS);
    cluster_exec(m, "DROP TABLE IF EXISTS multi_mix");
    cluster_exec(m, "CREATE TABLE multi_mix (id INT PRIMARY KEY, v VARCHAR(8))");

    cluster_exec(m, "SELECT 1 AS a UNION ALL SELECT 2;"
                    " INSERT INTO multi_mix VALUES (1, 'x'), (2, 'y'), (3, 'z');"
                    " SELECT COUNT(*) FROM multi_mix;"
                    " SELECT 'last', 'row'");
    expect_result_set(m, 2, "1");
    assert_true(mysql_more_results(m));

    assert_int_equal(next_result(m), 0);
    assert_int_equal(mysql_field_count(m), 0); /* the INSERT's OK */
    assert_int_equal(mysql_affected_rows(m), 3);

    /* One batch runs on one server: the count sees the insert before it. */
    assert_int_equal(next_result(m), 0);
    expect_result_set(m, 1, "3");

    assert_int_equal(next_result(m), 0);
    assert_int_equal(mysql_field_count(m), 2);
    expect_result_set(m, 1, "last");
    assert_false(mysql_more_results(m));
    assert_int_equal(next_result(m), -1);

    /* A statement that fails ends the batch (the third never runs); the
     * session stays usable. */
    assert_int_equal(mysql_query(m, "SELECT 1; SELECT * FROM multi_no_such_table; SELECT 3"), 0);
    expect_result_set(m, 1, "1");
    assert_true(mysql_next_result(m) > 0);
    assert_int_equal(mysql_errno(m), 1146); /* ER_NO_SUCH_TABLE */
    assert_false(mysql_more_results(m));
    char *v = cluster_query_value(m, "SELECT 42");
    assert_string_equal(v, "42");
    free(v);
    mysql_close(m);
}

static void test_call_returns_two_result_sets(void **state)
{
    (void)state;
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", 0);
    cluster_exec(m, "DROP PROCEDURE IF EXISTS multi_two_results");
    cluster_exec(m, "CREATE PROCEDURE multi_two_results(IN k INT) BEGIN"
                    "  SELECT k AS first;"
                    "  SELECT 'two' AS t, k + 1 AS n UNION ALL SELECT 'three', k + 2;"
                    " END");

    cluster_exec(m, "CALL multi_two_results(40)");
    expect_result_set(m, 1, "40");
    assert_int_equal(next_result(m), 0);
    expect_result_set(m, 2, "two");
    /* The CALL's own OK ends the reply. */
    assert_int_equal(next_result(m), 0);
    assert_int_equal(mysql_field_count(m), 0);
    assert_false(mysql_more_results(m));
    assert_int_equal(next_result(m), -1);

    /* The session takes the next statement normally. */
    char *v = cluster_query_value(m, "SELECT 'after call'");
    assert_string_equal(v, "after call");
    free(v);
    mysql_close(m);
}

static void test_load_data_local_infile(void **state)
{
    (void)state;
    enum { ROWS = 10000 };
    char path[] = "/tmp/gtidproxy-it-infile-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    for (int i = 1; i <= ROWS; i++)
        fprintf(f, "%d\tname %d\n", i, i);
    assert_int_equal(fclose(f), 0);

    MYSQL *m = proxy_mysql_init();
    unsigned local_infile = 1;
    mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &local_infile);
    proxy_connect_with(&proxy, m, "gtidproxy_test", 0);
    cluster_exec(m, "DROP TABLE IF EXISTS multi_load");
    cluster_exec(m, "CREATE TABLE multi_load (id INT PRIMARY KEY, name VARCHAR(32))");

    char sql[256];
    snprintf(sql, sizeof sql,
             "LOAD DATA LOCAL INFILE '%s' INTO TABLE multi_load FIELDS TERMINATED BY '\\t'", path);
    int rc = mysql_query(m, sql);
    unlink(path);
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", sql, mysql_error(m));
    assert_int_equal(rc, 0);
    assert_int_equal(mysql_affected_rows(m), ROWS);
    assert_int_equal(mysql_warning_count(m), 0);

    proxy_sync_replicas(&proxy);
    char *v = cluster_query_value(m, "SELECT CONCAT(COUNT(*), ':', SUM(id), ':', MAX(name)) FROM "
                                     "multi_load");
    /* 10000 rows, 1 + ... + 10000, and "name 9999" sorts last as a string */
    assert_string_equal(v, "10000:50005000:name 9999");
    free(v);
    mysql_close(m);
}

static int group_setup(void **state)
{
    (void)state;
    cluster_env_load(&env);
    proxy_start(&proxy, &env, NULL);
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
        cmocka_unit_test(test_multi_statements),
        cmocka_unit_test(test_call_returns_two_result_sets),
        cmocka_unit_test(test_load_data_local_infile),
    };
    return proxy_run_group_tests(tests, group_setup, group_teardown);
}
