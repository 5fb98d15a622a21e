/*
 * it_consistency.c - the consistency gate (issue 5, DESIGN.md section 3,
 * gatespec.md) on the real cluster, one proxy per test with the config the
 * test needs:
 *   - the statements the proxy answers itself (SET/SELECT gtidproxy_consistency
 *     and gtidproxy_token, users[].consistency) and their errors (9008, and
 *     9006 for a bad hint), after which the session goes on;
 *   - timeouts: both replicas' SQL threads stopped, a session writes, its
 *     read with wait_timeout_ms=100 falls back by the chain: primary (fresh,
 *     within 100 ms + 500 ms), error (ERR 9005 naming the GTID and a
 *     replica), replica (the old row, counted as stale). Each once with the
 *     monitor knowing replication stopped (no usable replica: no wait) and
 *     once before it knows (a wait on a replica times out);
 *   - global, strong and token levels, each next to a control read that
 *     does see stale data without the level (so each test can fail);
 *   - hints: wait_ms and fallback override the config for one read;
 *   - the waited path: a replica that catches up within the budget serves
 *     the read (fallback "error", so nothing else could have served it);
 *   - the same guarantees for prepared-statement reads and START
 *     TRANSACTION READ ONLY;
 *   - replicas that stopped replicating, or lag over max_replica_lag_ms,
 *     get no eventual reads.
 *
 * Replication state is set on the replicas directly (an admin connection:
 * STOP/START SLAVE SQL_THREAD, MASTER_DELAY). Every test's teardown
 * restores it even when the test failed. "Blind" tests run the monitor's
 * health round once a minute (CU_MONITOR_BLIND_MS): the gate then sees a
 * stopped replica as replicating but behind, and has to decide from GTID
 * sets alone. Skipped in direct mode: there is no gate.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consistency_util.h"
#include "proxy_env.h"

#define DB  "gtidproxy_test"
#define TBL "cons_t"

/* README "Error codes" (as the lead's gate documents them). */
#define ER_HINT       9006 /* an invalid gtidproxy: hint */
#define ER_PROXY_STMT 9008 /* a bad gtidproxy_ statement or token */

/* A read's budget in the timeout tests, and what "returned in time" means:
 * the budget plus one round trip, with room for a loaded CI machine; a
 * read that hung would take seconds. */
#define TIMEOUT_BUDGET_MS 100
#define TIMEOUT_SLACK_MS  500
/* The budget of the waited tests: far more than a restart needs. */
#define WAIT_BUDGET_MS 3000
/* When the waited tests restart replica1's SQL thread. */
#define RESTART_AFTER_MS 50

static struct cluster_env env;
static struct proxy_proc px;
static int next_id = 1;

static void skip_direct(void)
{
    if (proxy_is_direct())
        skip();
}

static int fresh_id(void)
{
    return next_id++;
}

/* Starts the test's proxy; waits until reads reach a replica, and with a
 * blind monitor until its first round is over. */
static void start_proxy(unsigned monitor_ms, const char *consistency, const char *extra)
{
    char ov[2048];
    cu_overrides(ov, sizeof ov, monitor_ms, consistency, extra);
    proxy_start(&px, &env, ov);
    assert_true(proxy_wait_replica_reads(&px, 5000));
    if (monitor_ms == CU_MONITOR_BLIND_MS)
        proxy_sleep_ms(CU_FIRST_ROUND_MS);
}

static MYSQL *session(unsigned long flags)
{
    return proxy_connect(&px, DB, flags);
}

static void put_row(MYSQL *m, int id, const char *v)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO " TBL " (id, v) VALUES (%d, '%s') ON DUPLICATE KEY UPDATE v = VALUES(v)",
             id, v);
    cluster_exec(m, sql);
}

/* The read every test makes: one row whatever the data, so a missing row
 * shows as NULL and the server that served it is always reported. */
static void read_sql(char *sql, size_t len, const char *hint, int id)
{
    snprintf(sql, len, "SELECT %s%s%s(SELECT v FROM " TBL " WHERE id = %d), @@server_id",
             hint && *hint ? "/*gtidproxy: " : "", hint && *hint ? hint : "",
             hint && *hint ? "*/ " : "", id);
}

/* Row id's value as m sees it ("NULL" if absent) and who served it. */
static void read_row(MYSQL *m, const char *hint, int id, char *val, size_t len, unsigned *server)
{
    char sql[256];
    read_sql(sql, sizeof sql, hint, id);
    cu_read(m, sql, val, len, server);
}

static void expect_row(MYSQL *m, const char *hint, int id, const char *want, unsigned *server)
{
    char val[64];
    unsigned srv;
    read_row(m, hint, id, val, sizeof val, &srv);
    if (strcmp(val, want) != 0)
        fail_msg("row %d read%s%s: '%s' from server %u, expected '%s'", id, hint ? " with " : "",
                 hint ? hint : "", val, srv, want);
    if (server)
        *server = srv;
}

/* The primary's binlog position: right after a test's only write, that
 * write's GTID (the monitor reads, nobody else writes). */
static void primary_pos(char *out, size_t len)
{
    MYSQL *p = cluster_connect(&env, 0);
    char *pos = cluster_query_value(p, "SELECT @@gtid_binlog_pos");
    snprintf(out, len, "%s", pos);
    free(pos);
    mysql_close(p);
}

static void expect_query(MYSQL *m, const char *sql, const char *want)
{
    char *got = cluster_query_value(m, sql);
    if (strcmp(got, want) != 0)
        fail_msg("'%s' returned '%s', expected '%s'", sql, got, want);
    free(got);
}

/* Waits (10 s at most, else fails) until replica r applied everything the
 * primary binlogged so far, then long enough for the proxy to poll it. */
static void replica_catch_up(int r)
{
    char pos[128], sql[256];
    primary_pos(pos, sizeof pos);
    MYSQL *c = cu_node_connect(&env, r);
    assert_non_null(c);
    snprintf(sql, sizeof sql, "SELECT MASTER_GTID_WAIT('%s', 10)", pos);
    expect_query(c, sql, "0");
    mysql_close(c);
    proxy_sleep_ms(5 * CU_GTID_POLL_MS);
}

/* Stops both replicas' SQL threads; with `settle`, waits until the monitor
 * (CU_MONITOR_MS) has seen it. */
static void stop_both(bool settle)
{
    cu_sql_thread(&env, 1, false);
    cu_sql_thread(&env, 2, false);
    if (settle)
        proxy_sleep_ms(CU_MONITOR_SETTLE_MS);
}

/* The proxy's session must go on after whatever a read got. On the
 * primary: a read the gate routes would meet the same stopped replicas. */
static void expect_usable(MYSQL *m)
{
    expect_query(m, "SELECT /*gtidproxy: route=primary*/ 'still here'", "still here");
}

/* ---- replica1 restarted from another thread ---- */

/* One at a time, static: a test that fails while the thread runs leaves
 * by longjmp, and the teardown joins the thread (restarter_join). */
static struct restarter {
    bool started;
    MYSQL *conn; /* admin connection to the replica, opened beforehand */
    unsigned delay_ms;
    unsigned rc;
    pthread_t thread;
} restarter;

static void *restarter_main(void *arg)
{
    struct restarter *r = arg;
    proxy_sleep_ms(r->delay_ms);
    r->rc = cu_sql_thread_try(r->conn, true);
    return NULL;
}

static void restarter_start(int replica, unsigned delay_ms)
{
    struct restarter *r = &restarter;
    assert_false(r->started);
    memset(r, 0, sizeof *r);
    r->conn = cu_node_connect(&env, replica);
    assert_non_null(r->conn);
    r->delay_ms = delay_ms;
    assert_int_equal(pthread_create(&r->thread, NULL, restarter_main, r), 0);
    r->started = true;
}

/* Joins the thread if one runs; 0 or its START SLAVE's error code. */
static unsigned restarter_join(void)
{
    struct restarter *r = &restarter;
    if (!r->started)
        return 0;
    pthread_join(r->thread, NULL);
    r->started = false;
    if (r->rc)
        fprintf(stderr, "START SLAVE SQL_THREAD: %u %s\n", r->rc, mysql_error(r->conn));
    mysql_close(r->conn);
    return r->rc;
}

/*
 * The waited path's starting point (blind monitor): replica2 stopped first
 * and left 5 transactions behind, replica1 stopped just before the
 * session's write, so replica1 misses 1 transaction of the read's need and
 * replica2 6: the gate waits on replica1 (the one expected to get there
 * first), whose SQL thread a thread restarts RESTART_AFTER_MS later.
 */
static void waited_setup(MYSQL *m, int id)
{
    cu_sql_thread(&env, 2, false);
    MYSQL *p = cluster_connect(&env, 0);
    for (int i = 0; i < 5; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO " DB "." TBL " VALUES (%d, 'filler')", fresh_id());
        cluster_exec(p, sql);
    }
    mysql_close(p);
    replica_catch_up(1);
    cu_sql_thread(&env, 1, false);
    put_row(m, id, "new");
    restarter_start(1, RESTART_AFTER_MS);
}

/* ---- proxy statements ---- */

/* sql must get error `code` from the proxy itself (README "Error codes":
 * 9008 a bad gtidproxy_ statement or token, 9006 an invalid hint); with
 * `bad` (the offending value), the message must name it. */
static void expect_proxy_error(MYSQL *m, const char *sql, unsigned code, const char *bad)
{
    char msg[512];
    unsigned got = cu_expect_error(m, sql, msg, sizeof msg);
    printf("  '%s' -> %u %s\n", sql, got, msg);
    /* A server would have said 1193 "Unknown system variable". */
    if (got != code)
        fail_msg("'%s': error %u (%s), expected %u", sql, got, msg, code);
    if (strncmp(msg, "gtidproxy: ", 11) != 0)
        fail_msg("'%s': '%s' does not start with 'gtidproxy: '", sql, msg);
    if (bad && !strstr(msg, bad))
        fail_msg("'%s': '%s' does not name '%s'", sql, msg, bad);
    expect_usable(m);
}

static void test_proxy_statements(void **state)
{
    (void)state;
    skip_direct();
    char users[512];
    snprintf(users, sizeof users,
             "\"users\": [{\"name\": \"%s\", \"password\": \"%s\"},"
             " {\"name\": \"%s\", \"password\": \"%s\", \"consistency\": \"eventual\"}]",
             env.app_user, env.app_password, env.admin_user, env.admin_password);
    start_proxy(CU_MONITOR_MS, "{\"default_level\": \"global\"}", users);
    MYSQL *m = session(0);

    /* The level: configured, set, set back; the column is named as
     * written, like a server's. */
    cluster_exec(m, "SELECT @@gtidproxy_consistency");
    MYSQL_RES *res = mysql_store_result(m);
    assert_non_null(res);
    assert_int_equal(mysql_num_fields(res), 1);
    assert_string_equal(mysql_fetch_field_direct(res, 0)->name, "@@gtidproxy_consistency");
    MYSQL_ROW row = mysql_fetch_row(res);
    assert_non_null(row);
    assert_string_equal(row[0], "global");
    assert_null(mysql_fetch_row(res));
    mysql_free_result(res);
    cluster_exec(m, "SET gtidproxy_consistency = 'strong'");
    expect_query(m, "SELECT @@gtidproxy_consistency", "strong");
    cluster_exec(m, "SET SESSION gtidproxy_consistency = eventual");
    expect_query(m, "select @@session.gtidproxy_consistency", "eventual");
    cluster_exec(m, "SET @@gtidproxy_consistency = \"default\";");
    expect_query(m, "SELECT @@gtidproxy_consistency", "global");

    /* users[].consistency overrides the default for that user. */
    unsigned err;
    char msg[256];
    MYSQL *admin =
        proxy_try_connect(&px, env.admin_user, env.admin_password, DB, &err, msg, sizeof msg);
    if (!admin)
        fail_msg("admin through the proxy: %u %s", err, msg);
    expect_query(admin, "SELECT @@gtidproxy_consistency", "eventual");
    mysql_close(admin);

    /* The token: empty, then what this session wrote. */
    expect_query(m, "SELECT @@gtidproxy_token", "");
    put_row(m, fresh_id(), "token");
    char pos[128];
    primary_pos(pos, sizeof pos);
    expect_query(m, "SELECT @@gtidproxy_token", pos);
    /* Handed in, and forgotten again. */
    MYSQL *b = session(0);
    cluster_exec(b, "SET gtidproxy_token = '0-1-1'");
    expect_query(b, "SELECT @@gtidproxy_token", "0-1-1");
    cluster_exec(b, "SET gtidproxy_token = ''");
    expect_query(b, "SELECT @@gtidproxy_token", "");
    mysql_close(b);

    /* Errors, each answered by the proxy; the session goes on. */
    printf("proxy statement errors:\n");
    expect_proxy_error(m, "SET gtidproxy_consistency = 'bogus'", ER_PROXY_STMT, "bogus");
    expect_proxy_error(m, "SET GLOBAL gtidproxy_consistency = 'eventual'", ER_PROXY_STMT, NULL);
    expect_proxy_error(m, "SELECT @@gtidproxy_nosuch", ER_PROXY_STMT, NULL);
    expect_proxy_error(m, "SELECT @@gtidproxy_token, 1", ER_PROXY_STMT, NULL);
    expect_proxy_error(m, "SET gtidproxy_token = 'not a gtid set'", ER_PROXY_STMT, "not a gtid set");
    expect_proxy_error(m, "SELECT /*gtidproxy: consistency=bogus*/ 1", ER_HINT, NULL);
    expect_proxy_error(m, "SELECT /*gtidproxy: token=zz-top*/ 1", ER_PROXY_STMT, "zz-top");
    /* SET with autocommit: the classifier calls it a transaction statement,
     * not a plain SET; it names our variable all the same. */
    expect_proxy_error(m, "SET gtidproxy_consistency = 'session', autocommit = 1", ER_PROXY_STMT,
                       NULL);
    /* Nothing above changed the level. */
    expect_query(m, "SELECT @@gtidproxy_consistency", "global");
    mysql_close(m);
}

/* ---- timeouts and the fallback chain ---- */

struct outcome {
    unsigned rc;        /* 0 or the read's error code */
    char val[64];       /* the row's value ("NULL" if absent) */
    char msg[512];      /* the error message */
    char sqlstate[8];   /* the error's SQLSTATE */
    unsigned server;    /* @@server_id of the read's server */
    double ms;          /* how long the read took */
    char gtid[128];     /* the session's write */
    struct cu_stats d;  /* counters moved by the read */
};

/*
 * Row id is 'old' on every server; both SQL threads stop (the monitor
 * sees it when monitor_ms is CU_MONITOR_MS, not when blind); the session
 * updates the row to 'new' and reads it back with no hint, under
 * wait_timeout_ms=100 and fallback `chain` (JSON array members).
 */
static void timeout_scenario(unsigned monitor_ms, const char *chain, struct outcome *o)
{
    char cons[256];
    snprintf(cons, sizeof cons, "{\"wait_timeout_ms\": %d, \"fallback\": [%s]}",
             TIMEOUT_BUDGET_MS, chain);
    start_proxy(monitor_ms, cons, NULL);
    MYSQL *m = session(0);
    int id = fresh_id();
    put_row(m, id, "old");
    cu_sync_replicas(&env);
    proxy_sleep_ms(5 * CU_GTID_POLL_MS);
    stop_both(monitor_ms == CU_MONITOR_MS);

    struct cu_stats before, after;
    cu_stats_take(&px, &before);
    put_row(m, id, "new");
    primary_pos(o->gtid, sizeof o->gtid);
    char sql[256];
    read_sql(sql, sizeof sql, NULL, id);
    bool is_null;
    double t0 = cu_now_ms();
    o->rc = cu_read_try(m, sql, o->val, sizeof o->val, &is_null, &o->server, o->msg,
                        sizeof o->msg);
    o->ms = cu_now_ms() - t0;
    if (is_null)
        snprintf(o->val, sizeof o->val, "NULL");
    snprintf(o->sqlstate, sizeof o->sqlstate, "%s", mysql_sqlstate(m));
    printf("fallback [%s], monitor %s, need %s: %s%s%s '%s' from server %u after %.1f ms\n",
           chain, monitor_ms == CU_MONITOR_MS ? "knows" : "blind", o->gtid,
           o->rc ? "error: " : "", o->rc ? o->msg : "", o->rc ? "" : "row", o->val, o->server,
           o->ms);
    cu_stats_take(&px, &after);
    cu_stats_delta(&after, &before, &o->d);
    cu_stats_print("  counters moved:", &o->d);
    expect_usable(m);
    mysql_close(m);
    assert_true(o->ms < TIMEOUT_BUDGET_MS + TIMEOUT_SLACK_MS);
    assert_int_equal(o->d.reads[CU_SESSION], 1);
}

static void test_timeout_primary_after_wait(void **state)
{
    (void)state;
    skip_direct();
    struct outcome o;
    timeout_scenario(CU_MONITOR_BLIND_MS, "\"primary\"", &o);
    assert_int_equal(o.rc, 0);
    assert_string_equal(o.val, "new");
    assert_int_equal(o.server, CU_PRIMARY_ID);
    assert_int_equal(o.d.out[CU_SESSION][CU_FB_PRIMARY], 1);
    assert_true(o.d.timeouts >= 1);
}

static void test_timeout_primary_no_usable_replica(void **state)
{
    (void)state;
    skip_direct();
    struct outcome o;
    timeout_scenario(CU_MONITOR_MS, "\"primary\"", &o);
    assert_int_equal(o.rc, 0);
    assert_string_equal(o.val, "new");
    assert_int_equal(o.server, CU_PRIMARY_ID);
    assert_int_equal(o.d.out[CU_SESSION][CU_FB_PRIMARY], 1);
}

static void expect_consistency_error(const struct outcome *o)
{
    assert_int_equal(o->rc, CU_ER_CONSISTENCY);
    assert_string_equal(o->sqlstate, "HY000");
    if (strncmp(o->msg, CU_ER_CONSISTENCY_PREFIX, strlen(CU_ER_CONSISTENCY_PREFIX)) != 0)
        fail_msg("message '%s' does not start with '%s'", o->msg, CU_ER_CONSISTENCY_PREFIX);
    assert_int_equal(o->d.out[CU_SESSION][CU_FB_ERROR], 1);
}

static void test_timeout_error_after_wait(void **state)
{
    (void)state;
    skip_direct();
    struct outcome o;
    timeout_scenario(CU_MONITOR_BLIND_MS, "\"error\"", &o);
    expect_consistency_error(&o);
    /* A replica was waited on: the message names it and the GTID set. */
    if (!strstr(o.msg, "replica1") && !strstr(o.msg, "replica2"))
        fail_msg("message '%s' names no replica", o.msg);
    if (!strstr(o.msg, o.gtid))
        fail_msg("message '%s' does not name the GTID %s", o.msg, o.gtid);
    assert_true(o.d.timeouts >= 1);
}

static void test_timeout_error_no_usable_replica(void **state)
{
    (void)state;
    skip_direct();
    struct outcome o;
    timeout_scenario(CU_MONITOR_MS, "\"error\"", &o);
    expect_consistency_error(&o);
    /* No replica was waited on: the message says why, replica by replica
     * (written only when a log line or this ERR needs it: why_text in
     * session_gate.c). */
    if (!strstr(o.msg, "no replica usable:") || !strstr(o.msg, "replica1") ||
        !strstr(o.msg, "replica2"))
        fail_msg("message '%s' does not say why each replica was not usable", o.msg);
}

static void test_timeout_stale_replica(void **state)
{
    (void)state;
    skip_direct();
    struct outcome o;
    timeout_scenario(CU_MONITOR_MS, "\"replica\"", &o);
    assert_int_equal(o.rc, 0);
    assert_string_equal(o.val, "old");
    assert_int_not_equal(o.server, CU_PRIMARY_ID);
    assert_int_equal(o.d.out[CU_SESSION][CU_FB_STALE], 1);
}

static void test_timeout_stale_after_wait(void **state)
{
    (void)state;
    skip_direct();
    struct outcome o;
    timeout_scenario(CU_MONITOR_BLIND_MS, "\"replica\"", &o);
    assert_int_equal(o.rc, 0);
    assert_string_equal(o.val, "old");
    assert_int_not_equal(o.server, CU_PRIMARY_ID);
    assert_int_equal(o.d.out[CU_SESSION][CU_FB_STALE], 1);
    assert_true(o.d.timeouts >= 1);
}

/* A hint's wait_ms and fallback replace the config's for one read, and
 * consistency=eventual reads the (stale) replica with no wait. */
static void test_hint_overrides_budget_and_chain(void **state)
{
    (void)state;
    skip_direct();
    start_proxy(CU_MONITOR_BLIND_MS, "{\"wait_timeout_ms\": 3000, \"fallback\": [\"primary\"]}",
                NULL);
    MYSQL *m = session(0);
    int id = fresh_id();
    stop_both(false);
    put_row(m, id, "new");
    char sql[256], val[64], msg[512];
    bool is_null;
    unsigned server = 0;
    read_sql(sql, sizeof sql, "wait_ms=100 fallback=error", id);
    double t0 = cu_now_ms();
    unsigned rc = cu_read_try(m, sql, val, sizeof val, &is_null, &server, msg, sizeof msg);
    double ms = cu_now_ms() - t0;
    printf("hint wait_ms=100 fallback=error: %u %s after %.1f ms\n", rc, msg, ms);
    assert_int_equal(rc, CU_ER_CONSISTENCY);
    assert_true(ms < TIMEOUT_BUDGET_MS + TIMEOUT_SLACK_MS);

    t0 = cu_now_ms();
    expect_row(m, "consistency=eventual", id, "NULL", &server);
    ms = cu_now_ms() - t0;
    printf("hint consistency=eventual: stale row from server %u after %.1f ms\n", server, ms);
    assert_int_not_equal(server, CU_PRIMARY_ID);
    assert_true(ms < TIMEOUT_BUDGET_MS);
    mysql_close(m);
}

/* ---- levels: global, strong, token ---- */

#define LEVEL_CONS "{\"wait_timeout_ms\": 100, \"fallback\": [\"primary\"]}"

/* A's write, B's read: stale at level session (B wrote nothing), fresh at
 * global; and once replica1 runs again, fresh from replica1. */
static void test_global(void **state)
{
    (void)state;
    skip_direct();
    start_proxy(CU_MONITOR_BLIND_MS, LEVEL_CONS, NULL);
    MYSQL *a = session(0), *b = session(0);
    int id = fresh_id();
    stop_both(false);
    put_row(a, id, "from A");

    unsigned server;
    expect_row(b, NULL, id, "NULL", &server); /* the control: stale */
    assert_int_not_equal(server, CU_PRIMARY_ID);

    struct cu_stats before, after, d;
    cu_stats_take(&px, &before);
    cluster_exec(b, "SET gtidproxy_consistency = 'global'");
    expect_row(b, NULL, id, "from A", &server);
    printf("global read after A's write: server %u\n", server);

    /* replica1 has A's write and the proxy polled it: it serves B. */
    cu_sql_thread(&env, 1, true);
    replica_catch_up(1);
    expect_row(b, NULL, id, "from A", &server);
    printf("global read with replica1 replicating again: server %u\n", server);
    assert_int_equal(server, 2);
    cu_stats_take(&px, &after);
    cu_stats_delta(&after, &before, &d);
    cu_stats_print("  counters moved:", &d);
    assert_int_equal(d.reads[CU_GLOBAL], 2);
    mysql_close(a);
    mysql_close(b);
}

/* A write made on the primary behind the proxy's back: a strong read sees
 * it, a session read of a session that wrote nothing does not. With
 * replication running again, strong reads run on replicas. */
static void test_strong(void **state)
{
    (void)state;
    skip_direct();
    start_proxy(CU_MONITOR_BLIND_MS, LEVEL_CONS, NULL);
    MYSQL *m = session(0);
    int id = fresh_id();
    stop_both(false);
    MYSQL *p = cluster_connect(&env, 0);
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO " DB "." TBL " VALUES (%d, 'direct')", id);
    cluster_exec(p, sql);
    mysql_close(p);

    unsigned server;
    expect_row(m, NULL, id, "NULL", &server); /* the control: stale */
    assert_int_not_equal(server, CU_PRIMARY_ID);
    expect_row(m, "consistency=strong", id, "direct", &server);
    printf("strong read, replicas stopped: server %u\n", server);

    cu_sql_thread(&env, 1, true);
    cu_sql_thread(&env, 2, true);
    cu_sync_replicas(&env);
    proxy_sleep_ms(5 * CU_GTID_POLL_MS);
    struct cu_stats before, after, d;
    cu_stats_take(&px, &before);
    for (int i = 0; i < 4; i++) {
        expect_row(m, "consistency=strong", id, "direct", &server);
        assert_int_not_equal(server, CU_PRIMARY_ID);
    }
    cu_stats_take(&px, &after);
    cu_stats_delta(&after, &before, &d);
    cu_stats_print("strong reads, replicas caught up:", &d);
    assert_int_equal(d.reads[CU_STRONG], 4);
    assert_int_equal(d.out[CU_STRONG][CU_DIRECT] + d.out[CU_STRONG][CU_WAITED], 4);
    mysql_close(m);
}

/* A's token makes B's and C's reads see A's write (statement and hint);
 * without it, and after forgetting it, B reads stale data. */
static void test_token(void **state)
{
    (void)state;
    skip_direct();
    start_proxy(CU_MONITOR_BLIND_MS, LEVEL_CONS, NULL);
    MYSQL *a = session(0);
    int id = fresh_id();
    stop_both(false);
    put_row(a, id, "tokened");
    char token[128], pos[128];
    primary_pos(pos, sizeof pos);
    char *t = cluster_query_value(a, "SELECT @@gtidproxy_token");
    snprintf(token, sizeof token, "%s", t);
    free(t);
    printf("A's token: '%s' (primary at %s)\n", token, pos);
    assert_string_equal(token, pos);
    mysql_close(a);

    MYSQL *b = session(0);
    unsigned server;
    expect_row(b, NULL, id, "NULL", &server); /* the control: stale */
    assert_int_not_equal(server, CU_PRIMARY_ID);
    char sql[256];
    snprintf(sql, sizeof sql, "SET gtidproxy_token = '%s'", token);
    cluster_exec(b, sql);
    expect_row(b, NULL, id, "tokened", &server);
    printf("B with the token (session level): server %u\n", server);
    cluster_exec(b, "SET gtidproxy_token = ''");
    expect_row(b, NULL, id, "NULL", &server); /* forgotten */

    MYSQL *c = session(0);
    char hint[160];
    snprintf(hint, sizeof hint, "token=%s", token);
    expect_row(c, hint, id, "tokened", &server);
    printf("C with the token as a hint: server %u\n", server);

    printf("bad tokens:\n");
    expect_proxy_error(b, "SET gtidproxy_token = 'not-a-gtid'", ER_PROXY_STMT, "not-a-gtid");
    expect_proxy_error(c, "SELECT /*gtidproxy: token=zz-top*/ 1", ER_PROXY_STMT, "zz-top");
    mysql_close(b);
    mysql_close(c);
}

/* ---- the waited path ---- */

static void test_waited(void **state)
{
    (void)state;
    skip_direct();
    start_proxy(CU_MONITOR_BLIND_MS, "{\"wait_timeout_ms\": 3000, \"fallback\": [\"error\"]}",
                NULL);
    MYSQL *m = session(0);
    struct cu_stats before, after, d;
    cu_stats_take(&px, &before);
    int id = fresh_id();
    waited_setup(m, id);
    double t0 = cu_now_ms();
    char val[64];
    unsigned server;
    char sql[256];
    read_sql(sql, sizeof sql, NULL, id);
    char msg[512];
    bool is_null;
    unsigned rc = cu_read_try(m, sql, val, sizeof val, &is_null, &server, msg, sizeof msg);
    double ms = cu_now_ms() - t0;
    assert_int_equal(restarter_join(), 0);
    printf("waited read: %u %s '%s' from server %u after %.1f ms (restart at %u ms)\n", rc, msg,
           val, server, ms, RESTART_AFTER_MS);
    assert_int_equal(rc, 0);
    assert_string_equal(val, "new");
    assert_int_equal(server, 2);
    assert_true(ms < WAIT_BUDGET_MS);
    cu_stats_take(&px, &after);
    cu_stats_delta(&after, &before, &d);
    cu_stats_print("  counters moved:", &d);
    assert_int_equal(d.out[CU_SESSION][CU_WAITED], 1);
    assert_true(d.reached >= 1);
    mysql_close(m);
}

/* ---- prepared statements ---- */

static MYSQL_STMT *prepare(MYSQL *m, const char *sql)
{
    MYSQL_STMT *st = mysql_stmt_init(m);
    assert_non_null(st);
    if (mysql_stmt_prepare(st, sql, strlen(sql)))
        fail_msg("prepare '%s': %s", sql, mysql_stmt_error(st));
    return st;
}

#define STMT_READ  "SELECT (SELECT v FROM " TBL " WHERE id = ?), @@server_id"
#define STMT_WRITE "INSERT INTO " TBL " (id, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)"

/* The prepared write: GTIDs come from COM_STMT_EXECUTE's OK too. */
static void stmt_put(MYSQL_STMT *st, int id, const char *v)
{
    MYSQL_BIND in[2];
    memset(in, 0, sizeof in);
    in[0].buffer_type = MYSQL_TYPE_LONG;
    in[0].buffer = &id;
    unsigned long vlen = strlen(v);
    in[1].buffer_type = MYSQL_TYPE_STRING;
    in[1].buffer = (char *)v;
    in[1].buffer_length = vlen;
    in[1].length = &vlen;
    if (mysql_stmt_bind_param(st, in) || mysql_stmt_execute(st))
        fail_msg("prepared write: %s", mysql_stmt_error(st));
}

/* Executes STMT_READ for id: 0 (val, server set; val "NULL" if no row) or
 * the error code (msg). */
static unsigned stmt_read(MYSQL_STMT *st, int id, char *val, size_t len, unsigned *server,
                          char *msg, size_t msglen)
{
    MYSQL_BIND in[1], out[2];
    memset(in, 0, sizeof in);
    in[0].buffer_type = MYSQL_TYPE_LONG;
    in[0].buffer = &id;
    if (mysql_stmt_bind_param(st, in))
        fail_msg("bind: %s", mysql_stmt_error(st));
    if (mysql_stmt_execute(st)) {
        snprintf(msg, msglen, "%s", mysql_stmt_error(st));
        return mysql_stmt_errno(st);
    }
    char buf[64] = "";
    unsigned long blen = 0;
    my_bool null0 = 0;
    long long srv = 0;
    memset(out, 0, sizeof out);
    out[0].buffer_type = MYSQL_TYPE_STRING;
    out[0].buffer = buf;
    out[0].buffer_length = sizeof buf - 1;
    out[0].length = &blen;
    out[0].is_null = &null0;
    out[1].buffer_type = MYSQL_TYPE_LONGLONG;
    out[1].buffer = &srv;
    if (mysql_stmt_bind_result(st, out) || mysql_stmt_store_result(st))
        fail_msg("result: %s", mysql_stmt_error(st));
    assert_int_equal(mysql_stmt_fetch(st), 0);
    assert_int_equal(mysql_stmt_fetch(st), MYSQL_NO_DATA);
    mysql_stmt_free_result(st);
    snprintf(val, len, "%s", null0 ? "NULL" : buf);
    *server = (unsigned)srv;
    return 0;
}

/* Prepared write and read, both replicas stopped, blind monitor: the read
 * waits, times out and falls back by `chain`. */
static void prepared_timeout(const char *chain, unsigned *rc, char *val, size_t len,
                             unsigned *server, char *msg, size_t msglen, double *ms)
{
    char cons[256];
    snprintf(cons, sizeof cons, "{\"wait_timeout_ms\": %d, \"fallback\": [%s]}",
             TIMEOUT_BUDGET_MS, chain);
    start_proxy(CU_MONITOR_BLIND_MS, cons, NULL);
    MYSQL *m = session(0);
    MYSQL_STMT *w = prepare(m, STMT_WRITE), *r = prepare(m, STMT_READ);
    int id = fresh_id();
    stop_both(false);
    stmt_put(w, id, "new");
    double t0 = cu_now_ms();
    *rc = stmt_read(r, id, val, len, server, msg, msglen);
    *ms = cu_now_ms() - t0;
    printf("prepared read, fallback [%s]: %u %s '%s' from server %u after %.1f ms\n", chain, *rc,
           *rc ? msg : "", *rc ? "" : val, *server, *ms);
    mysql_stmt_close(w);
    mysql_stmt_close(r);
    expect_usable(m);
    mysql_close(m);
    assert_true(*ms < TIMEOUT_BUDGET_MS + TIMEOUT_SLACK_MS);
}

static void test_prepared_timeout_primary(void **state)
{
    (void)state;
    skip_direct();
    unsigned rc, server = 0;
    char val[64] = "", msg[512] = "";
    double ms;
    prepared_timeout("\"primary\"", &rc, val, sizeof val, &server, msg, sizeof msg, &ms);
    assert_int_equal(rc, 0);
    assert_string_equal(val, "new");
    assert_int_equal(server, CU_PRIMARY_ID);
}

static void test_prepared_timeout_error(void **state)
{
    (void)state;
    skip_direct();
    unsigned rc, server = 0;
    char val[64] = "", msg[512] = "";
    double ms;
    prepared_timeout("\"error\"", &rc, val, sizeof val, &server, msg, sizeof msg, &ms);
    assert_int_equal(rc, CU_ER_CONSISTENCY);
    assert_int_equal(strncmp(msg, CU_ER_CONSISTENCY_PREFIX, strlen(CU_ER_CONSISTENCY_PREFIX)), 0);
}

static void test_prepared_waited(void **state)
{
    (void)state;
    skip_direct();
    start_proxy(CU_MONITOR_BLIND_MS, "{\"wait_timeout_ms\": 3000, \"fallback\": [\"error\"]}",
                NULL);
    MYSQL *m = session(0);
    MYSQL_STMT *r = prepare(m, STMT_READ);
    int id = fresh_id();
    waited_setup(m, id);
    char val[64], msg[512];
    unsigned server = 0;
    double t0 = cu_now_ms();
    unsigned rc = stmt_read(r, id, val, sizeof val, &server, msg, sizeof msg);
    double ms = cu_now_ms() - t0;
    assert_int_equal(restarter_join(), 0);
    printf("prepared waited read: %u %s '%s' from server %u after %.1f ms\n", rc, rc ? msg : "",
           rc ? "" : val, server, ms);
    assert_int_equal(rc, 0);
    assert_string_equal(val, "new");
    assert_int_equal(server, 2);
    mysql_stmt_close(r);
    mysql_close(m);
}

/* ---- START TRANSACTION READ ONLY (gated at its start) ---- */

static void test_read_only_trx_timeout_primary(void **state)
{
    (void)state;
    skip_direct();
    start_proxy(CU_MONITOR_BLIND_MS, LEVEL_CONS, NULL);
    MYSQL *m = session(0);
    int id = fresh_id();
    stop_both(false);
    put_row(m, id, "new");
    double t0 = cu_now_ms();
    cluster_exec(m, "START TRANSACTION READ ONLY");
    double ms = cu_now_ms() - t0;
    unsigned server;
    expect_row(m, NULL, id, "new", &server);
    cluster_exec(m, "COMMIT");
    printf("read-only transaction, fallback [primary]: server %u, START took %.1f ms\n", server,
           ms);
    assert_int_equal(server, CU_PRIMARY_ID);
    assert_true(ms < TIMEOUT_BUDGET_MS + TIMEOUT_SLACK_MS);
    mysql_close(m);
}

static void test_read_only_trx_timeout_error(void **state)
{
    (void)state;
    skip_direct();
    start_proxy(CU_MONITOR_BLIND_MS, "{\"wait_timeout_ms\": 100, \"fallback\": [\"error\"]}",
                NULL);
    MYSQL *m = session(0);
    int id = fresh_id();
    stop_both(false);
    put_row(m, id, "new");
    char msg[512];
    unsigned code = cu_expect_error(m, "START TRANSACTION READ ONLY", msg, sizeof msg);
    printf("read-only transaction, fallback [error]: %u %s\n", code, msg);
    assert_int_equal(code, CU_ER_CONSISTENCY);
    assert_int_equal(strncmp(msg, CU_ER_CONSISTENCY_PREFIX, strlen(CU_ER_CONSISTENCY_PREFIX)), 0);
    /* No transaction was opened: a write commits on its own. */
    put_row(m, id, "newer");
    MYSQL *p = cluster_connect(&env, 0);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT v FROM " DB "." TBL " WHERE id = %d", id);
    expect_query(p, sql, "newer");
    mysql_close(p);
    mysql_close(m);
}

static void test_read_only_trx_waited(void **state)
{
    (void)state;
    skip_direct();
    start_proxy(CU_MONITOR_BLIND_MS, "{\"wait_timeout_ms\": 3000, \"fallback\": [\"error\"]}",
                NULL);
    MYSQL *m = session(0);
    int id = fresh_id();
    waited_setup(m, id);
    double t0 = cu_now_ms();
    unsigned rc = cu_exec_try(m, "START TRANSACTION READ ONLY");
    double ms = cu_now_ms() - t0;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", rc ? mysql_error(m) : "");
    assert_int_equal(restarter_join(), 0);
    printf("read-only transaction, waited: START %u %s after %.1f ms\n", rc, msg, ms);
    assert_int_equal(rc, 0);
    unsigned server;
    expect_row(m, NULL, id, "new", &server);
    cluster_exec(m, "COMMIT");
    assert_int_equal(server, 2);
    mysql_close(m);
}

/* ---- replicas that take no eventual reads ---- */

#define EVENTUAL_READ "SELECT /*gtidproxy: consistency=eventual*/ @@server_id"

/* n eventual reads on m; per server id. */
/* Both replicas frozen (SIGSTOP) while the monitor has not noticed: the
 * gate waits on one that never answers; at the end of the budget (plus
 * the proxy's 100 ms grace) it abandons that connection and the read runs
 * on the primary, fresh, instead of hanging. */
static void test_silent_replica_is_abandoned(void **state)
{
    (void)state;
    skip_direct();
    char cons[128];
    snprintf(cons, sizeof cons, "{\"wait_timeout_ms\": %d, \"fallback\": [\"primary\"]}",
             TIMEOUT_BUDGET_MS);
    start_proxy(CU_MONITOR_BLIND_MS, cons, NULL);
    MYSQL *m = session(0);
    int id = fresh_id();
    put_row(m, id, "old");
    cu_sync_replicas(&env);
    pid_t r1 = cluster_node_pid(1), r2 = cluster_node_pid(2);
    size_t mark = proxy_log_mark(&px);
    assert_int_equal(kill(r1, SIGSTOP), 0);
    assert_int_equal(kill(r2, SIGSTOP), 0);
    put_row(m, id, "new");
    char sql[256], val[64], msg[512];
    read_sql(sql, sizeof sql, NULL, id);
    bool is_null;
    unsigned server;
    double t0 = cu_now_ms();
    unsigned rc = cu_read_try(m, sql, val, sizeof val, &is_null, &server, msg, sizeof msg);
    double ms = cu_now_ms() - t0;
    kill(r1, SIGCONT); /* before any assertion: later tests need them */
    kill(r2, SIGCONT);
    printf("frozen replicas: '%s' from server %u after %.1f ms (%s)\n", val, server, ms,
           rc ? msg : "ok");
    assert_int_equal(rc, 0);
    assert_string_equal(val, "new");
    assert_int_equal(server, 1);
    assert_true(ms >= TIMEOUT_BUDGET_MS);
    assert_true(ms < TIMEOUT_BUDGET_MS + 100 + TIMEOUT_SLACK_MS);
    assert_true(proxy_log_wait(&px, mark, "did not answer within", 2000));
    mysql_close(m);
}

static void eventual_reads(MYSQL *m, int n, unsigned seen[8])
{
    memset(seen, 0, 8 * sizeof seen[0]);
    for (int i = 0; i < n; i++) {
        char *v = cluster_query_value(m, EVENTUAL_READ);
        unsigned id = (unsigned)strtoul(v, NULL, 10);
        free(v);
        assert_true(id >= 1 && id < 8);
        seen[id]++;
    }
}

static void print_seen(const char *what, const unsigned seen[8])
{
    printf("%s: primary %u, replica1 %u, replica2 %u\n", what, seen[1], seen[2], seen[3]);
}

static void test_stopped_replica_gets_no_eventual_reads(void **state)
{
    (void)state;
    skip_direct();
    start_proxy(CU_MONITOR_MS, NULL, NULL);
    MYSQL *m = session(0);
    unsigned seen[8];
    /* Both replicas take eventual reads: the check below can fail. */
    eventual_reads(m, 40, seen);
    print_seen("40 eventual reads, replication running", seen);
    assert_true(seen[2] > 0 && seen[3] > 0);

    cu_sql_thread(&env, 1, false);
    proxy_sleep_ms(CU_MONITOR_SETTLE_MS);
    eventual_reads(m, 200, seen);
    print_seen("200 eventual reads, replica1's SQL thread stopped", seen);
    assert_int_equal(seen[3], 200);

    cu_sql_thread(&env, 1, true);
    proxy_sleep_ms(CU_MONITOR_SETTLE_MS);
    eventual_reads(m, 40, seen);
    print_seen("40 eventual reads, replica1 replicating again", seen);
    assert_true(seen[2] > 0);
    mysql_close(m);
}

/* Writes on the primary every 50 ms until told to stop: MASTER_DELAY only
 * shows as lag while events keep arriving. */
static struct ticker {
    bool started;
    MYSQL *conn;
    atomic_bool stop;
    unsigned writes, errors;
    pthread_t thread;
} ticker;

static void *ticker_main(void *arg)
{
    struct ticker *t = arg;
    while (!atomic_load(&t->stop)) {
        if (cu_exec_try(t->conn, "UPDATE " DB ".cons_tick SET n = n + 1 WHERE id = 1"))
            t->errors++;
        else
            t->writes++;
        proxy_sleep_ms(50);
    }
    return NULL;
}

static void ticker_start(void)
{
    assert_false(ticker.started);
    memset(&ticker, 0, sizeof ticker);
    ticker.conn = cu_node_connect(&env, 0);
    assert_non_null(ticker.conn);
    atomic_init(&ticker.stop, false);
    assert_int_equal(pthread_create(&ticker.thread, NULL, ticker_main, &ticker), 0);
    ticker.started = true;
}

static void ticker_stop(void)
{
    if (!ticker.started)
        return;
    atomic_store(&ticker.stop, true);
    pthread_join(ticker.thread, NULL);
    ticker.started = false;
    mysql_close(ticker.conn);
}

static void test_lagging_replica_gets_no_eventual_reads(void **state)
{
    (void)state;
    skip_direct();
    start_proxy(CU_MONITOR_MS, "{\"max_replica_lag_ms\": 1000}", NULL);
    MYSQL *m = session(0);
    unsigned seen[8];
    eventual_reads(m, 40, seen);
    print_seen("40 eventual reads, no lag", seen);
    assert_true(seen[2] > 0 && seen[3] > 0);

    MYSQL *r1 = cu_node_connect(&env, 1);
    assert_non_null(r1);
    cluster_exec(r1, "STOP SLAVE");
    cluster_exec(r1, "CHANGE MASTER TO MASTER_DELAY = 5");
    cluster_exec(r1, "START SLAVE");
    ticker_start();
    long lag = -2;
    for (int i = 0; i < 100 && lag < 2; i++) {
        proxy_sleep_ms(100);
        lag = cu_replica_lag_s(r1);
    }
    printf("replica1 at MASTER_DELAY=5: Seconds_Behind_Master %ld\n", lag);
    long lag_after = -2;
    if (lag >= 2) {
        proxy_sleep_ms(CU_MONITOR_SETTLE_MS);
        eventual_reads(m, 200, seen);
        lag_after = cu_replica_lag_s(r1);
    }
    ticker_stop();
    mysql_close(r1);
    assert_true(lag >= 2);
    print_seen("200 eventual reads, replica1 over max_replica_lag_ms", seen);
    printf("  Seconds_Behind_Master after them: %ld; ticker writes %u, errors %u\n", lag_after,
           ticker.writes, ticker.errors);
    assert_true(lag_after >= 2); /* the lag held while the reads ran */
    assert_int_equal(ticker.errors, 0);
    assert_int_equal(seen[3], 200);
    mysql_close(m);
}

/* ---- the group ---- */

static int test_teardown(void **state)
{
    (void)state;
    /* Threads a failed test left running first: they use replicas. */
    unsigned restart_rc = restarter_join();
    ticker_stop();
    if (!proxy_is_direct())
        cu_teardown(&env, &px);
    assert_int_equal(restart_rc, 0);
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    cluster_env_load(&env);
    if (proxy_is_direct())
        return 0;
    assert_true(env.replicas >= 2);
    cu_restore_replication(&env); /* whatever an earlier run left behind */
    MYSQL *p = cluster_connect(&env, 0);
    cluster_exec(p, "CREATE TABLE IF NOT EXISTS " DB "." TBL
                    " (id INT PRIMARY KEY, v VARCHAR(64) NOT NULL)");
    cluster_exec(p, "DELETE FROM " DB "." TBL);
    cluster_exec(p, "CREATE TABLE IF NOT EXISTS " DB ".cons_tick (id INT PRIMARY KEY, n INT)");
    cluster_exec(p, "REPLACE INTO " DB ".cons_tick VALUES (1, 0)");
    mysql_close(p);
    cu_sync_replicas(&env);
    return 0;
}

#define T(f) cmocka_unit_test_teardown(f, test_teardown)

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* findings interleave with cmocka's stderr */
    const struct CMUnitTest tests[] = {
        T(test_proxy_statements),
        T(test_timeout_primary_after_wait),
        T(test_timeout_primary_no_usable_replica),
        T(test_timeout_error_after_wait),
        T(test_timeout_error_no_usable_replica),
        T(test_timeout_stale_replica),
        T(test_timeout_stale_after_wait),
        T(test_silent_replica_is_abandoned),
        T(test_hint_overrides_budget_and_chain),
        T(test_global),
        T(test_strong),
        T(test_token),
        T(test_waited),
        T(test_prepared_timeout_primary),
        T(test_prepared_timeout_error),
        T(test_prepared_waited),
        T(test_read_only_trx_timeout_primary),
        T(test_read_only_trx_timeout_error),
        T(test_read_only_trx_waited),
        T(test_stopped_replica_gets_no_eventual_reads),
        T(test_lagging_replica_gets_no_eventual_reads),
    };
    return proxy_run_group_tests(tests, group_setup, NULL);
}
