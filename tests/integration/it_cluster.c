/*
 * it_cluster.c - the test cluster behaves as the consistency gate assumes
 * (DESIGN.md section 6), checked through libmariadb against real servers:
 *  - the primary reports each write's GTID in the OK packet (last_gtid
 *    session tracking) and it equals @@last_gtid;
 *  - a replica whose SQL thread is stopped does not see a write, and
 *    MASTER_GTID_WAIT times out there (-1) while another replica has it (0);
 *  - once the SQL thread runs again the lagging replica catches up;
 *  - a replica killed and started again catches up with writes made while down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster_env.h"

static struct cluster_env env;

/* Writes one row on the primary and returns the GTID of that commit, as the
 * OK packet's session state reported it. Caller frees. */
static char *write_row(MYSQL *primary, int id, const char *value)
{
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO gtidproxy_test.probe VALUES (%d, '%s')", id, value);
    cluster_exec(primary, sql);

    const char *data = NULL;
    size_t len = 0;
    char *tracked = NULL;
    /* Entries come as name, value pairs: find the value after "last_gtid". */
    if (mysql_session_track_get_first(primary, SESSION_TRACK_SYSTEM_VARIABLES, &data, &len) ==
        0) {
        do {
            if (len == strlen("last_gtid") && memcmp(data, "last_gtid", len) == 0 &&
                mysql_session_track_get_next(primary, SESSION_TRACK_SYSTEM_VARIABLES, &data,
                                             &len) == 0) {
                tracked = strndup(data, len);
                break;
            }
        } while (mysql_session_track_get_next(primary, SESSION_TRACK_SYSTEM_VARIABLES, &data,
                                              &len) == 0);
    }
    assert_non_null(tracked); /* the OK packet carried the GTID */

    char *selected = cluster_query_value(primary, "SELECT @@last_gtid");
    assert_string_equal(tracked, selected);
    free(selected);
    return tracked;
}

/* MASTER_GTID_WAIT(gtid, seconds) on m: 0 reached, -1 timed out. */
static int gtid_wait(MYSQL *m, const char *gtid, const char *seconds)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT MASTER_GTID_WAIT('%s', %s)", gtid, seconds);
    char *v = cluster_query_value(m, sql);
    int rc = atoi(v);
    free(v);
    return rc;
}

static int row_count(MYSQL *m, int id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM gtidproxy_test.probe WHERE id = %d", id);
    char *v = cluster_query_value(m, sql);
    int n = atoi(v);
    free(v);
    return n;
}

static int setup(void **state)
{
    (void)state;
    cluster_env_load(&env);
    assert_true(env.replicas >= 2);
    MYSQL *primary = cluster_connect(&env, 0);
    cluster_exec(primary, "SET SESSION session_track_system_variables = 'last_gtid'");
    cluster_exec(primary, "DROP TABLE IF EXISTS gtidproxy_test.probe");
    cluster_exec(primary,
                 "CREATE TABLE gtidproxy_test.probe (id INT PRIMARY KEY, v VARCHAR(32))");
    *state = primary;
    return 0;
}

static int teardown(void **state)
{
    /* Leave the cluster as we found it even when an assertion failed midway. */
    (void)system(GTIDPROXY_CLUSTER_SH " lag 1 off >/dev/null 2>&1");
    mysql_close(*state);
    return 0;
}

static void test_lagging_replica_misses_write_until_resumed(void **state)
{
    MYSQL *primary = *state;
    MYSQL *lagging = cluster_connect(&env, 1);
    MYSQL *current = cluster_connect(&env, 2);

    cluster_run("lag 1 on");
    char *gtid = write_row(primary, 1, "written-while-lagging");

    assert_int_equal(gtid_wait(current, gtid, "10"), 0);
    assert_int_equal(row_count(current, 1), 1);

    assert_int_equal(gtid_wait(lagging, gtid, "0.5"), -1);
    assert_int_equal(row_count(lagging, 1), 0);

    cluster_run("lag 1 off");
    assert_int_equal(gtid_wait(lagging, gtid, "10"), 0);
    assert_int_equal(row_count(lagging, 1), 1);

    free(gtid);
    mysql_close(lagging);
    mysql_close(current);
}

static void test_killed_replica_catches_up_after_start(void **state)
{
    MYSQL *primary = *state;
    cluster_run("kill replica2");
    char *gtid = write_row(primary, 2, "written-while-down");
    cluster_run("start replica2");

    MYSQL *restarted = cluster_connect(&env, 2);
    assert_int_equal(gtid_wait(restarted, gtid, "10"), 0);
    assert_int_equal(row_count(restarted, 2), 1);
    free(gtid);
    mysql_close(restarted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lagging_replica_misses_write_until_resumed),
        cmocka_unit_test(test_killed_replica_catches_up_after_start),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
