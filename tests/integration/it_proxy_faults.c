/*
 * it_proxy_faults.c - the proxy keeps serving through backend failures and
 * process signals, on the real cluster:
 *   - a replica killed: reads keep working (other replica, then primary);
 *   - the primary killed: a write gets error 9001 naming the backend, the
 *     session stays usable and writes work again once the primary is back
 *     (its connection is reopened lazily), no write is replayed;
 *   - the primary hung (SIGSTOP) under a write: timeouts.backend_query_ms
 *     answers 9002 (outcome unknown) in time, nothing is replayed;
 *   - SIGHUP: a user added to the file can log in; a file that does not
 *     validate is refused and the running config stays;
 *   - SIGTERM: a statement in flight still gets its whole result, then the
 *     proxy exits 0 (proxy_stop checks the status).
 * Skipped in direct mode: there is no proxy to fault.
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
#include <unistd.h>

#include <cmocka.h>

#include "consistency_util.h"
#include "proxy_env.h"

#define GP_ER_BACKEND_CONNECT 9001
#define GP_ER_BACKEND_LOST    9002

static struct cluster_env env;
static struct proxy_proc proxy;

static void skip_direct(void)
{
    if (proxy_is_direct())
        skip();
}

static void test_reads_survive_a_dead_replica(void **state)
{
    (void)state;
    skip_direct();
    MYSQL *m = proxy_connect(&proxy, NULL, 0);
    cluster_run("kill replica2");
    unsigned seen[8] = {0};
    for (int i = 0; i < 20; i++) {
        unsigned id = proxy_server_id(m); /* fails the test on any error */
        assert_true(id >= 1 && id < 8);
        seen[id]++;
    }
    assert_int_equal(seen[3], 0); /* replica2 is server_id 3 */
    assert_true(seen[2] + seen[1] == 20);
    mysql_close(m);
    cluster_run("start replica2");
}

static void test_write_while_primary_down(void **state)
{
    (void)state;
    skip_direct();
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", 0);
    cluster_exec(m, "CREATE TABLE IF NOT EXISTS faults_w (id INT PRIMARY KEY)");
    cluster_exec(m, "DELETE FROM faults_w");
    cluster_run("kill primary");
    assert_int_not_equal(mysql_query(m, "INSERT INTO faults_w VALUES (1)"), 0);
    assert_int_equal(mysql_errno(m), GP_ER_BACKEND_CONNECT);
    assert_non_null(strstr(mysql_error(m), "primary"));
    /* The session itself is fine: a read still runs on a replica. */
    unsigned id = proxy_server_id(m);
    assert_int_not_equal(id, 1);
    cluster_run("start primary");
    /* The primary refused connections a moment ago: the proxy tries it
     * again for writes at once (only reads avoid a refusing backend). */
    cluster_exec(m, "INSERT INTO faults_w VALUES (2)");
    MYSQL *p = cluster_connect(&env, 0);
    char *rows = cluster_query_value(p, "SELECT GROUP_CONCAT(id) FROM gtidproxy_test.faults_w");
    assert_string_equal(rows, "2"); /* the failed write was not replayed */
    free(rows);
    mysql_close(p);
    mysql_close(m);
}

/* Sends SIGCONT to a stopped node after 5 s unless told it is done first:
 * a proxy that never answers must fail the test, not keep the primary
 * stopped for the rest of the suite. */
struct resumer {
    pid_t pid;
    atomic_bool done;
};

static void *resume_later(void *arg)
{
    struct resumer *r = arg;
    for (int i = 0; i < 100 && !atomic_load(&r->done); i++)
        proxy_sleep_ms(50);
    kill(r->pid, SIGCONT);
    return NULL;
}

/* timeouts.backend_query_ms in that test's proxy, and what the answer may
 * take beyond it: the proxy's timer check, the reply, a loaded machine. */
#define HUNG_QUERY_MS 500
#define HUNG_SLACK_MS 1500

/* A primary that hangs (SIGSTOP) under a write: timeouts.backend_query_ms
 * answers the client with 9002 (outcome unknown) instead of waiting with
 * it; once the primary runs again the session writes normally. */
static void test_hung_primary_bounded_by_backend_query_ms(void **state)
{
    (void)state;
    skip_direct();
    struct proxy_proc p2 = {0};
    char ov[64];
    snprintf(ov, sizeof ov, "{\"timeouts\": {\"backend_query_ms\": %d}}", HUNG_QUERY_MS);
    proxy_start(&p2, &env, ov);
    MYSQL *m = proxy_connect(&p2, "gtidproxy_test", 0);
    /* No key: a second execution of the INSERT would add a second row
     * instead of failing on a duplicate, so the count below sees it. */
    cluster_exec(m, "DROP TABLE IF EXISTS faults_h");
    cluster_exec(m, "CREATE TABLE faults_h (id INT)");
    struct resumer r = {.pid = cluster_node_pid(0)};
    assert_true(r.pid > 0);
    assert_int_equal(kill(r.pid, SIGSTOP), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, resume_later, &r), 0);
    double t0 = cu_now_ms();
    int rc = mysql_query(m, "INSERT INTO faults_h VALUES (1)");
    double took = cu_now_ms() - t0;
    unsigned err = mysql_errno(m);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", mysql_error(m));
    atomic_store(&r.done, true);
    pthread_join(t, NULL);
    fprintf(stderr, "hung primary: answered after %.0f ms: %u %s\n", took, err, msg);
    assert_int_not_equal(rc, 0);
    assert_int_equal(err, GP_ER_BACKEND_LOST);
    assert_non_null(strstr(msg, "timeouts.backend_query_ms"));
    assert_non_null(strstr(msg, "outcome unknown"));
    if (took > HUNG_QUERY_MS + HUNG_SLACK_MS)
        fail_msg("9002 came %.0f ms after the INSERT, over backend_query_ms %d + %d ms", took,
                 HUNG_QUERY_MS, HUNG_SLACK_MS);
    /* The next write works; it reopens the primary connection, which is
     * where a proxy that resent the unanswered INSERT would do so. */
    cluster_exec(m, "INSERT INTO faults_h VALUES (2)");
    mysql_close(m);
    proxy_stop(&p2);
    /* Not replayed: the server may have run the client's one INSERT when it
     * resumed (its bytes were in the socket), so row 1 is there 0 or 1
     * times; a resend by the proxy would make it 2 (the table has no key to
     * refuse it). */
    MYSQL *primary = cluster_connect(&env, 0);
    char *n1 = cluster_query_value(primary, "SELECT COUNT(*) FROM gtidproxy_test.faults_h "
                                            "WHERE id = 1");
    char *n2 = cluster_query_value(primary, "SELECT COUNT(*) FROM gtidproxy_test.faults_h "
                                            "WHERE id = 2");
    mysql_close(primary);
    if (strtol(n1, NULL, 10) > 1)
        fail_msg("the INSERT answered with 9002 is on the primary %s times: the proxy resent it",
                 n1);
    assert_string_equal(n2, "1");
    free(n1);
    free(n2);
}

/* A catch-up wait longer than timeouts.backend_query_ms is not cut by it:
 * the wait's silence is the gate's to bound (its budget). Replicas that
 * apply 1 s late; a read after a write waits there and is served there. */
static void test_wait_longer_than_backend_query_ms(void **state)
{
    (void)state;
    skip_direct();
    struct proxy_proc p2 = {0};
    proxy_start(&p2, &env,
                "{\"timeouts\": {\"backend_query_ms\": 300},"
                " \"consistency\": {\"wait_timeout_ms\": 5000, \"fallback\": [\"error\"]}}");
    assert_true(proxy_wait_replica_reads(&p2, 10000));
    MYSQL *m = proxy_connect(&p2, "gtidproxy_test", 0);
    cluster_exec(m, "CREATE TABLE IF NOT EXISTS faults_d (id INT PRIMARY KEY, v INT)");
    cluster_exec(m, "REPLACE INTO faults_d VALUES (1, 1)");
    proxy_sync_replicas(&p2);
    cluster_run("delay 1 1");
    cluster_run("delay 2 1");
    cluster_exec(m, "REPLACE INTO faults_d VALUES (1, 2)");
    double t0 = cu_now_ms();
    char v[32];
    unsigned server;
    unsigned rc = 0;
    bool is_null;
    char msg[256];
    rc = cu_read_try(m, "SELECT v, @@server_id FROM faults_d WHERE id = 1", v, sizeof v, &is_null,
                     &server, msg, sizeof msg);
    double took = cu_now_ms() - t0;
    cluster_run("delay 1 0");
    cluster_run("delay 2 0");
    fprintf(stderr,
            "read after write on 1 s late replicas: %u %s, '%s' from server %u after %.0f ms\n", rc,
            msg, v, server, took);
    assert_int_equal(rc, 0);
    assert_string_equal(v, "2");
    assert_int_not_equal(server, 1); /* waited on a replica, not abandoned */
    mysql_close(m);
    proxy_stop(&p2);
}

static void rewrite_config(const char *from, const char *to)
{
    FILE *f = fopen(proxy.conf, "r");
    assert_non_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *at = strstr(text, from);
    assert_non_null(at);
    static char out[65536 + 512];
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    f = fopen(proxy.conf, "w");
    assert_non_null(f);
    fputs(out, f);
    fclose(f);
}

static void test_sighup_reload(void **state)
{
    (void)state;
    skip_direct();
    unsigned err;
    char msg[256];
    MYSQL *m = proxy_try_connect(&proxy, "newcomer", "n_pw", NULL, &err, msg, sizeof msg);
    assert_null(m);
    assert_int_equal(err, 1045);

    size_t mark = proxy_log_mark(&proxy);
    rewrite_config("\"users\": [",
                   "\"users\": [{\"name\": \"newcomer\", \"password\": \"n_pw\"}, ");
    proxy_signal(&proxy, SIGHUP);
    assert_true(proxy_log_wait(&proxy, mark, "reloaded", 3000));
    m = proxy_try_connect(&proxy, "newcomer", "n_pw", NULL, &err, msg, sizeof msg);
    if (!m)
        fail_msg("newcomer after reload: %u %s", err, msg);
    mysql_close(m);

    /* A broken file: refused, named, and the running config stays. */
    mark = proxy_log_mark(&proxy);
    rewrite_config("\"users\": [", "\"users\": 7, \"old_users\": [");
    proxy_signal(&proxy, SIGHUP);
    assert_true(proxy_log_wait(&proxy, mark, "reload failed, keeping the running config", 3000));
    m = proxy_try_connect(&proxy, "newcomer", "n_pw", NULL, &err, msg, sizeof msg);
    assert_non_null(m);
    mysql_close(m);
    rewrite_config("\"users\": 7, \"old_users\": [", "\"users\": [");

    /* What cannot change while running is named (keys are sorted in the
     * file, so the first address is the admin listener's). */
    mark = proxy_log_mark(&proxy);
    rewrite_config("\"address\": \"127.0.0.1\"", "\"address\": \"127.0.0.2\"");
    proxy_signal(&proxy, SIGHUP);
    assert_true(proxy_log_wait(&proxy, mark, "not applied: admin (restart to apply)", 3000));
    rewrite_config("\"address\": \"127.0.0.2\"", "\"address\": \"127.0.0.1\"");
}

/* A proxy whose primary was never reachable starts, and refuses clients
 * with 9009 instead of greeting them with made-up capabilities. */
static void test_primary_never_reached(void **state)
{
    (void)state;
    skip_direct();
    char overrides[512];
    snprintf(overrides, sizeof overrides,
             "{\"backends\": [{\"name\": \"primary\", \"host\": \"127.0.0.1\", \"port\": 1,"
             " \"role\": \"primary\"}]}");
    struct proxy_proc lonely;
    proxy_start(&lonely, &env, overrides);
    unsigned err;
    char msg[256];
    assert_null(
        proxy_try_connect(&lonely, env.app_user, env.app_password, NULL, &err, msg, sizeof msg));
    assert_int_equal(err, 9009);
    assert_non_null(strstr(msg, "primary"));
    proxy_stop(&lonely);
}

static void test_too_many_connections(void **state)
{
    (void)state;
    skip_direct();
    struct proxy_proc small;
    proxy_start(&small, &env, "{\"limits\": {\"max_client_connections\": 2}}");
    unsigned err;
    char msg[256];
    /* proxy_start's readiness probe was a client too: its slot is free
     * once the proxy saw it close, which a loaded machine may delay. */
    MYSQL *a = NULL, *b = NULL;
    for (int i = 0; i < 100 && !(a && b); i++) {
        if (!a)
            a = proxy_try_connect(&small, env.app_user, env.app_password, NULL, &err, msg,
                                  sizeof msg);
        if (a && !b)
            b = proxy_try_connect(&small, env.app_user, env.app_password, NULL, &err, msg,
                                  sizeof msg);
        if (!(a && b))
            usleep(20 * 1000);
    }
    assert_non_null(a);
    assert_non_null(b);
    MYSQL *c =
        proxy_try_connect(&small, env.app_user, env.app_password, NULL, &err, msg, sizeof msg);
    assert_null(c);
    assert_int_equal(err, 1040);
    assert_string_equal(msg, "Too many connections");
    mysql_close(a);
    /* The slot is free once the proxy saw the close. */
    for (int i = 0; i < 50 && !c; i++) {
        c = proxy_try_connect(&small, env.app_user, env.app_password, NULL, &err, msg, sizeof msg);
        if (!c)
            usleep(20 * 1000);
    }
    assert_non_null(c);
    mysql_close(b);
    mysql_close(c);
    proxy_stop(&small);
}

/* Weighted round-robin: with weights 1 and 3, one session's 40 reads go
 * 10 to replica1 and 30 to replica2 (README "Routing"). */
static void test_replica_weights(void **state)
{
    (void)state;
    skip_direct();
    char overrides[1024];
    snprintf(overrides, sizeof overrides,
             "{\"backends\": ["
             "{\"name\": \"primary\", \"host\": \"%s\", \"port\": %u, \"role\": \"primary\"},"
             "{\"name\": \"replica1\", \"host\": \"%s\", \"port\": %u, \"role\": \"replica\","
             " \"weight\": 1},"
             "{\"name\": \"replica2\", \"host\": \"%s\", \"port\": %u, \"role\": \"replica\","
             " \"weight\": 3}]}",
             env.host, env.primary_port, env.host, env.replica_ports[0], env.host,
             env.replica_ports[1]);
    struct proxy_proc weighted;
    proxy_start(&weighted, &env, overrides);
    MYSQL *m = proxy_connect(&weighted, NULL, 0);
    unsigned seen[8] = {0};
    for (int i = 0; i < 40; i++)
        seen[proxy_server_id(m)]++;
    assert_int_equal(seen[2], 10);
    assert_int_equal(seen[3], 30);
    mysql_close(m);
    proxy_stop(&weighted);
}

struct slow_read {
    MYSQL *m;
    int rc;
    char value[32];
};

static void *run_slow_read(void *arg)
{
    struct slow_read *r = arg;
    r->rc = mysql_query(r->m, "SELECT SLEEP(1), 'complete'");
    if (r->rc == 0) {
        MYSQL_RES *res = mysql_store_result(r->m);
        MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
        if (row)
            snprintf(r->value, sizeof r->value, "%s", row[1]);
        if (res)
            mysql_free_result(res);
    }
    return NULL;
}

/* Runs last: it stops the proxy. */
static void test_sigterm_finishes_in_flight_statements(void **state)
{
    (void)state;
    skip_direct();
    struct slow_read r = {.m = proxy_connect(&proxy, NULL, 0)};
    MYSQL *idle = proxy_connect(&proxy, NULL, 0);
    pthread_t t;
    size_t mark = proxy_log_mark(&proxy);
    assert_int_equal(pthread_create(&t, NULL, run_slow_read, &r), 0);
    usleep(300 * 1000); /* the SLEEP is running on a backend */
    proxy_signal(&proxy, SIGTERM);
    assert_true(proxy_log_wait(&proxy, mark, "SIGTERM: stopping", 3000));
    pthread_join(t, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.value, "complete");
    /* The idle session was closed; new connections are refused. */
    assert_int_not_equal(mysql_query(idle, "SELECT 1"), 0);
    mysql_close(idle);
    unsigned err;
    char msg[256];
    assert_null(
        proxy_try_connect(&proxy, env.app_user, env.app_password, NULL, &err, msg, sizeof msg));
    mysql_close(r.m);
    assert_true(proxy_log_wait(&proxy, mark, "] info  stopped", 5000));
    proxy_stop(&proxy); /* exit status 0 */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_survive_a_dead_replica),
        cmocka_unit_test(test_write_while_primary_down),
        cmocka_unit_test(test_hung_primary_bounded_by_backend_query_ms),
        cmocka_unit_test(test_wait_longer_than_backend_query_ms),
        cmocka_unit_test(test_sighup_reload),
        cmocka_unit_test(test_too_many_connections),
        cmocka_unit_test(test_replica_weights),
        cmocka_unit_test(test_primary_never_reached),
        cmocka_unit_test(test_sigterm_finishes_in_flight_statements),
    };
    return proxy_run_group_tests(tests, group_setup, group_teardown);
}
