/*
 * it_monitor.c - the backend monitor (proxy/monitor.h) against the real
 * cluster, in-process: a struct proxy built from a config that points at the
 * cluster, monitor_start() with small intervals (health every 100 ms,
 * replicas' sets every 20 ms), then the cluster is changed under it:
 *   - all three backends come up within ~2 s, flavor MariaDB, roles right;
 *   - a write on the primary reaches known(replica) within a few polls;
 *   - a replica's SQL thread stopped: not usable within a few checks, its
 *     known set stops while the other's moves on; started: usable, caught up;
 *   - a replica killed: suspect at the first failed check, MON_DOWN after
 *     three (monitor.fall_checks' default), one log line per transition
 *     however many rounds fail; started again: MON_UP after two good
 *     checks (rise_checks' default), one log line;
 *   - strong: a look-up answers with a set holding the latest write,
 *     requests made while the primary cannot answer share one look-up, and
 *     a dead primary makes the look-up fail with a reason (and counts as a
 *     failed check);
 *   - monitor_stop returns promptly and twice; the table stays readable
 *     until monitor_free.
 * The monitor needs no proxy process, so this also runs in direct mode.
 * Every cluster change is undone before its test ends.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster_env.h"
#include "config.h"
#include "log.h"
#include "monitor.h"
#include "proxy.h"
#include "proxy_env.h"

#define INTERVAL_MS 100
#define POLL_MS     20
#define PRIMARY     0
#define REPLICA1    1
#define REPLICA2    2

static struct cluster_env env;
static struct proxy px;
static struct monitor mon;
static MYSQL *primary_conn; /* app user on the primary: the test's writes */
static atomic_uint strong_calls;

static void on_strong(void *arg)
{
    atomic_fetch_add((atomic_uint *)arg, 1);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    usleep(ms * 1000u);
}

/* ---- predicates on the table, and a wait for them ---- */

static struct gtid_set need; /* what known_has_need looks for */

static bool is_up(size_t i)
{
    return atomic_load(&mon.be[i].health) == MON_UP;
}
static bool is_down(size_t i)
{
    return atomic_load(&mon.be[i].health) == MON_DOWN;
}

static bool replicating(size_t i)
{
    return is_up(i) && atomic_load(&mon.be[i].replicating);
}
static bool not_usable(size_t i)
{
    return !monitor_replica_usable(&mon, i, 10000);
}
static bool usable_and_checked(size_t i)
{
    return is_up(i) && monitor_replica_usable(&mon, i, 10000);
}
static bool known_has_need(size_t i)
{
    return monitor_known_contains(&mon, i, &need);
}

/* Polls pred every 5 ms for up to timeout_ms; returns the ms it took, or
 * -1 if it never held. */
static long wait_for(bool (*pred)(size_t), size_t idx, unsigned timeout_ms)
{
    uint64_t start = now_ms();
    for (;;) {
        if (pred(idx))
            return (long)(now_ms() - start);
        if (now_ms() - start > timeout_ms)
            return -1;
        sleep_ms(5);
    }
}

#define ASSERT_WITHIN(pred, idx, timeout_ms)                                                       \
    do {                                                                                           \
        long took_ = wait_for((pred), (idx), (timeout_ms));                                        \
        if (took_ < 0)                                                                             \
            fail_msg("%s(backend %d) did not hold within %u ms", #pred, (int)(idx),                \
                     (unsigned)(timeout_ms));                                                      \
    } while (0)

/* ---- the cluster side ---- */

/* One autocommitted write on the primary; need := @@gtid_binlog_pos after it
 * (its own GTID included: same connection). */
static void write_on_primary(void)
{
    cluster_exec(primary_conn, "INSERT INTO gtidproxy_test.monitor_w VALUES ()");
    char *pos = cluster_query_value(primary_conn, "SELECT @@gtid_binlog_pos");
    assert_int_equal(gtid_set_parse(&need, pos, strlen(pos), NULL), 0);
    assert_false(gtid_set_is_empty(&need));
    free(pos);
}

/* ---- group ---- */

static int group_setup(void **state)
{
    (void)state;
    cluster_env_load(&env);
    assert_true(env.replicas >= 2);
    const char *mu = getenv("GTIDPROXY_MONITOR_USER");
    const char *mp = getenv("GTIDPROXY_MONITOR_PASSWORD");
    char json[2048];
    snprintf(json, sizeof json,
             "{\"listeners\": [{\"name\": \"it\", \"address\": \"127.0.0.1\", \"port\": 1}],"
             " \"backends\": ["
             "  {\"name\": \"primary\", \"host\": \"%s\", \"port\": %u, \"role\": \"primary\"},"
             "  {\"name\": \"replica1\", \"host\": \"%s\", \"port\": %u, \"role\": \"replica\"},"
             "  {\"name\": \"replica2\", \"host\": \"%s\", \"port\": %u, \"role\": \"replica\"}],"
             " \"users\": [{\"name\": \"%s\", \"password\": \"%s\"}],"
             " \"backend_credentials\": {\"user\": \"%s\", \"password\": \"%s\"},"
             " \"monitor\": {\"user\": \"%s\", \"password\": \"%s\", \"interval_ms\": %d,"
             "              \"gtid_poll_interval_ms\": %d},"
             /* 3 s: the strong test stops the primary for 150 ms mid-query. */
             " \"timeouts\": {\"connect_ms\": 3000},"
             " \"logging\": {\"level\": \"info\"}}",
             env.host, env.primary_port, env.host, env.replica_ports[0], env.host,
             env.replica_ports[1], env.app_user, env.app_password, env.app_user, env.app_password,
             mu && *mu ? mu : "monitor", mp && *mp ? mp : "monitor_pw", INTERVAL_MS, POLL_MS);
    char err[512];
    struct config *cfg = config_parse(json, "it_monitor.json", err, sizeof err);
    if (!cfg)
        fail_msg("config: %s", err);
    log_set_level(cfg->log_level);
    if (proxy_init(&px, cfg, err, sizeof err) != 0)
        fail_msg("proxy_init: %s", err);
    assert_int_equal(proxy_primary(&px), PRIMARY);

    primary_conn = cluster_connect(&env, 0);
    cluster_exec(primary_conn, "CREATE TABLE IF NOT EXISTS gtidproxy_test.monitor_w "
                               "(id INT AUTO_INCREMENT PRIMARY KEY)");
    gtid_set_init(&need, GTID_FLAVOR_MARIADB);

    mon.on_strong = on_strong;
    mon.on_strong_arg = &strong_calls;
    if (monitor_start(&mon, &px, GTID_FLAVOR_MARIADB, err, sizeof err) != 0)
        fail_msg("monitor_start: %s", err);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    monitor_free(&mon); /* a no-op when the last test freed it */
    gtid_set_free(&need);
    if (primary_conn)
        mysql_close(primary_conn);
    proxy_destroy(&px);
    return 0;
}

/* ---- tests ---- */

static void test_all_up_with_flavor(void **state)
{
    (void)state;
    assert_int_equal(mon.n, 3);
    for (size_t i = 0; i < mon.n; i++) {
        /* From start: the first check runs at once, so ~2 s is generous. */
        ASSERT_WITHIN(is_up, i, 2000);
        enum gtid_flavor f;
        assert_true(monitor_flavor(&mon, i, &f));
        assert_int_equal(f, GTID_FLAVOR_MARIADB);
        pthread_mutex_lock(&mon.be[i].lock);
        bool mariadb = strstr(mon.be[i].version, "MariaDB") != NULL;
        pthread_mutex_unlock(&mon.be[i].lock);
        assert_true(mariadb);
        assert_true(monitor_reachable(&mon, i));
        assert_true(atomic_load(&mon.be[i].checks) >= 1);
    }
    /* The cluster's roles as the servers report them. */
    assert_false(atomic_load(&mon.be[PRIMARY].read_only));
    assert_false(atomic_load(&mon.be[PRIMARY].replicating)); /* no slave status rows */
    for (size_t i = REPLICA1; i <= REPLICA2; i++) {
        assert_true(atomic_load(&mon.be[i].read_only));
        assert_true(atomic_load(&mon.be[i].replicating));
        assert_true(atomic_load(&mon.be[i].lag_ms) >= 0);
        assert_true(monitor_replica_usable(&mon, i, 10000));
    }
    /* Out of range: nothing. */
    assert_false(monitor_reachable(&mon, 3));
    assert_false(monitor_replica_usable(&mon, 3, 10000));
}

static void test_write_reaches_known(void **state)
{
    (void)state;
    write_on_primary();
    uint64_t polls = atomic_load(&mon.be[REPLICA1].polls);
    /* Replication plus a few 20 ms polls. */
    ASSERT_WITHIN(known_has_need, REPLICA1, 1000);
    ASSERT_WITHIN(known_has_need, REPLICA2, 1000);
    assert_true(atomic_load(&mon.be[REPLICA1].polls) > polls);
    assert_int_equal(monitor_known_missing(&mon, REPLICA1, &need), 0);

    /* A copy is the same set, in the server's own text. */
    struct gtid_set copy;
    gtid_set_init(&copy, GTID_FLAVOR_MARIADB);
    assert_int_equal(monitor_known_copy(&mon, REPLICA1, &copy), 0);
    assert_true(gtid_set_contains(&copy, &need));
    gtid_set_free(&copy);

    /* Sets of the other flavor are never contained (fail closed). */
    struct gtid_set my;
    gtid_set_init(&my, GTID_FLAVOR_MYSQL);
    const char *t = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5";
    assert_int_equal(gtid_set_parse(&my, t, strlen(t), NULL), 0);
    assert_false(monitor_known_contains(&mon, REPLICA1, &my));
    /* ... and raising with one leaves known as it was. */
    monitor_known_raise(&mon, REPLICA1, &my);
    assert_true(monitor_known_contains(&mon, REPLICA1, &need));
    gtid_set_free(&my);
}

static void test_stopped_sql_thread(void **state)
{
    (void)state;
    /* Caught up first, so the gap below is exactly this test's writes. */
    write_on_primary();
    ASSERT_WITHIN(known_has_need, REPLICA1, 1000);
    cluster_run("lag 1 on");
    long took = wait_for(not_usable, REPLICA1, 5 * INTERVAL_MS);
    if (took < 0)
        fail_msg("replica1 still usable %d ms after STOP SLAVE SQL_THREAD", 5 * INTERVAL_MS);
    printf("replica1 not usable %ld ms after STOP SLAVE SQL_THREAD returned\n", took);
    assert_false(atomic_load(&mon.be[REPLICA1].replicating));
    assert_int_equal(atomic_load(&mon.be[REPLICA1].lag_ms), -1); /* Seconds_Behind NULL */
    assert_true(monitor_reachable(&mon, REPLICA1));              /* stale reads still may go */
    assert_true(monitor_replica_usable(&mon, REPLICA2, 10000));

    struct gtid_set before;
    gtid_set_init(&before, GTID_FLAVOR_MARIADB);
    assert_int_equal(monitor_known_copy(&mon, REPLICA1, &before), 0);
    for (int i = 0; i < 3; i++)
        write_on_primary();
    ASSERT_WITHIN(known_has_need, REPLICA2, 1000);
    sleep_ms(5 * POLL_MS); /* replica1 was polled several times meanwhile */
    assert_false(known_has_need(REPLICA1));
    assert_int_equal(monitor_known_missing(&mon, REPLICA1, &need), 3);
    struct gtid_set after;
    gtid_set_init(&after, GTID_FLAVOR_MARIADB);
    assert_int_equal(monitor_known_copy(&mon, REPLICA1, &after), 0);
    assert_true(gtid_set_equal(&before, &after));

    /* A wait that succeeded raises known at once, ahead of any poll. */
    monitor_known_raise(&mon, REPLICA1, &need);
    assert_true(known_has_need(REPLICA1));

    cluster_run("lag 1 off");
    ASSERT_WITHIN(usable_and_checked, REPLICA1, 2000);
    /* A write past what was raised: only polling can show it. */
    write_on_primary();
    ASSERT_WITHIN(known_has_need, REPLICA1, 2000);
    assert_true(atomic_load(&mon.be[REPLICA1].replicating));
    assert_true(atomic_load(&mon.be[REPLICA1].lag_ms) >= 0);
    gtid_set_free(&before);
    gtid_set_free(&after);
}

static void test_killed_replica(void **state)
{
    (void)state;
    /* The monitor logs to stderr: catch this test's lines in a file. */
    char path[] = "/tmp/it_monitor_log_XXXXXX";
    /* Close-on-exec: cluster.sh starts a server that must not inherit the
     * test's real stderr (ctest waits for every holder of its pipe). */
    int fd = mkostemp(path, O_CLOEXEC);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
    assert_true(saved >= 0);
    dup2(fd, 2);

    uint64_t failures = atomic_load(&mon.be[REPLICA2].check_failures);
    cluster_run("kill replica2");
    /* Suspect at the first failed check, down at the third: both may be
     * over by the time `kill` returns (it waits for the process to go);
     * the log below shows the order. */
    long down = wait_for(is_down, REPLICA2, 2000);
    /* Several rounds fail while it is down. */
    sleep_ms(5 * INTERVAL_MS);
    bool unreachable = !monitor_reachable(&mon, REPLICA2) && not_usable(REPLICA2);
    uint64_t failed_rounds = atomic_load(&mon.be[REPLICA2].check_failures) - failures;
    bool others_up = is_up(PRIMARY) && replicating(REPLICA1);
    cluster_run("start replica2");
    long up = wait_for(is_up, REPLICA2, 2000);
    long repl = wait_for(replicating, REPLICA2, 5000);

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    /* Read what was logged and count its transition lines (the capture
     * file read as a proxy log), then assert: cmocka reports on stderr. */
    static char text[65536];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    close(fd);
    text[n > 0 ? n : 0] = '\0';
    fputs(text, stderr);
    struct proxy_proc captured = {0};
    snprintf(captured.log, sizeof captured.log, "%s", path);
    char suspect[160], down_line[160], up_line[160];
    snprintf(suspect, sizeof suspect,
             "monitor: replica2 %s:%u up -> suspect after 1 failed check: ", env.host,
             env.replica_ports[1]);
    snprintf(down_line, sizeof down_line,
             "monitor: replica2 %s:%u suspect -> down after 3 failed checks: ", env.host,
             env.replica_ports[1]);
    snprintf(up_line, sizeof up_line, "monitor: replica2 %s:%u down -> up after 2 good checks (",
             env.host, env.replica_ports[1]);
    size_t n_suspect = proxy_log_count(&captured, 0, suspect);
    size_t n_down = proxy_log_count(&captured, 0, down_line);
    size_t n_up = proxy_log_count(&captured, 0, up_line);
    size_t n_checks = proxy_log_count(&captured, 0, " failed check") +
                      proxy_log_count(&captured, 0, " good check");
    size_t n_primary = proxy_log_count(&captured, 0, "monitor: primary");
    unlink(path);

    assert_true(down >= 0);
    printf("replica2 down after %ld ms, up %ld ms after restart, %llu failed checks\n", down, up,
           (unsigned long long)failed_rounds);
    assert_true(unreachable);
    assert_true(failed_rounds >= 2);
    assert_true(others_up);
    assert_true(up >= 0);
    assert_true(repl >= 0);
    pthread_mutex_lock(&mon.be[REPLICA2].lock);
    bool has_error = mon.be[REPLICA2].last_error[0] != '\0';
    pthread_mutex_unlock(&mon.be[REPLICA2].lock);
    assert_true(has_error);

    /* One line per transition, not one per failed round. */
    assert_int_equal(n_suspect, 1);
    assert_int_equal(n_down, 1);
    assert_true(strstr(text, suspect) < strstr(text, down_line));
    assert_int_equal(n_up, 1);
    /* ... and no other transition of any backend meanwhile. */
    assert_int_equal(n_checks, 3);
    assert_int_equal(n_primary, 0);

    /* Back in business: it follows the primary again. */
    write_on_primary();
    ASSERT_WITHIN(known_has_need, REPLICA2, 2000);
}

static int strong_wait(uint64_t ticket, struct gtid_set *out, unsigned timeout_ms)
{
    char why[256] = "";
    uint64_t start = now_ms();
    int rc;
    while ((rc = monitor_strong_result(&mon, ticket, out, why, sizeof why)) == 0 &&
           now_ms() - start < timeout_ms)
        sleep_ms(1);
    if (rc < 0)
        fail_msg("strong look-up failed: %s", why);
    return rc;
}

static void test_strong_lookup(void **state)
{
    (void)state;
    write_on_primary(); /* directly on the primary, not through any proxy */
    unsigned calls = atomic_load(&strong_calls);
    uint64_t lookups = atomic_load(&mon.be[PRIMARY].polls);
    uint64_t t = monitor_strong_request(&mon);
    struct gtid_set got;
    gtid_set_init(&got, GTID_FLAVOR_MARIADB);
    assert_int_equal(strong_wait(t, &got, 2000), 1);
    assert_true(gtid_set_contains(&got, &need));
    assert_true(atomic_load(&strong_calls) > calls);
    assert_int_equal(atomic_load(&mon.be[PRIMARY].polls) - lookups, 1);
    /* The primary's known set is its executed set. */
    assert_true(known_has_need(PRIMARY));
    /* Old tickets stay answered. */
    assert_int_equal(strong_wait(t, &got, 0), 1);
    gtid_set_free(&got);
}

/*
 * Coalescing. The primary is stopped (SIGSTOP) so no look-up can answer;
 * t1 is requested, and 100 ms later t2 and t3. By then the thread has sent
 * a look-up for t1 (or is stuck in a health check sent before t1), so t2
 * and t3 were both requested before the look-up that answers them was
 * sent: after SIGCONT at most two look-ups answer all three (one per
 * request would be three).
 */
static void test_strong_requests_share_a_lookup(void **state)
{
    (void)state;
    write_on_primary();
    pid_t pid = cluster_node_pid(0);
    uint64_t lookups = atomic_load(&mon.be[PRIMARY].polls);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    uint64_t t1 = monitor_strong_request(&mon);
    sleep_ms(100);
    uint64_t t2 = monitor_strong_request(&mon);
    uint64_t t3 = monitor_strong_request(&mon);
    struct gtid_set got;
    gtid_set_init(&got, GTID_FLAVOR_MARIADB);
    int early = monitor_strong_result(&mon, t3, &got, NULL, 0);
    sleep_ms(50);
    assert_int_equal(kill(pid, SIGCONT), 0);

    assert_int_equal(early, 0); /* nothing can answer while the primary is stopped */
    assert_int_equal(strong_wait(t3, &got, 2000), 1);
    assert_true(gtid_set_contains(&got, &need));
    assert_int_equal(strong_wait(t1, &got, 0), 1);
    assert_int_equal(strong_wait(t2, &got, 0), 1);
    uint64_t n = atomic_load(&mon.be[PRIMARY].polls) - lookups;
    printf("3 strong requests answered by %llu look-up(s)\n", (unsigned long long)n);
    assert_true(n >= 1 && n <= 2);
    assert_true(is_up(PRIMARY) || wait_for(is_up, PRIMARY, 1000) >= 0);
    gtid_set_free(&got);
}

/* A look-up the primary cannot answer fails, with the reason, and counts
 * as a failed check (the primary is no longer up); once it is back a new
 * request is answered and it comes up again (after rise_checks good ones). */
static void test_strong_lookup_fails_while_primary_down(void **state)
{
    (void)state;
    mysql_close(primary_conn);
    primary_conn = NULL;
    cluster_run("kill primary");
    unsigned calls = atomic_load(&strong_calls);
    uint64_t t = monitor_strong_request(&mon);
    struct gtid_set got;
    gtid_set_init(&got, GTID_FLAVOR_MARIADB);
    char why[256] = "";
    uint64_t start = now_ms();
    int rc;
    while ((rc = monitor_strong_result(&mon, t, &got, why, sizeof why)) == 0 &&
           now_ms() - start < 5000)
        sleep_ms(1);
    bool not_up = !is_up(PRIMARY);
    cluster_run("start primary");

    assert_int_equal(rc, -1);
    printf("strong look-up failed: %s\n", why);
    assert_true(why[0] != '\0');
    assert_true(not_up);
    assert_true(atomic_load(&strong_calls) > calls); /* failures are announced too */

    primary_conn = cluster_connect(&env, 0);
    write_on_primary();
    t = monitor_strong_request(&mon);
    assert_int_equal(strong_wait(t, &got, 2000), 1);
    assert_true(gtid_set_contains(&got, &need));
    ASSERT_WITHIN(is_up, PRIMARY, 2000);
    gtid_set_free(&got);
    /* The replicas reconnect to it on their own (MASTER_CONNECT_RETRY=1). */
    ASSERT_WITHIN(known_has_need, REPLICA1, 10000);
    ASSERT_WITHIN(known_has_need, REPLICA2, 10000);
    ASSERT_WITHIN(replicating, REPLICA1, 5000);
    ASSERT_WITHIN(replicating, REPLICA2, 5000);
}

/* Runs last: it stops the monitor. */
static void test_stop_is_prompt(void **state)
{
    (void)state;
    uint64_t start = now_ms();
    monitor_stop(&mon);
    uint64_t took = now_ms() - start;
    printf("monitor_stop took %llu ms\n", (unsigned long long)took);
    assert_true(took < 1000); /* threads sleep on wake_cond, not in a query */
    assert_int_equal(mon.n_threads, 0);
    monitor_stop(&mon); /* idempotent */
    /* The table stays readable after the threads stopped (workers may
     * still ask while they drain). */
    assert_true(monitor_reachable(&mon, 0));
    monitor_free(&mon);
    assert_null(mon.be);
    monitor_free(&mon); /* idempotent */
    assert_false(monitor_reachable(&mon, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_up_with_flavor),
        cmocka_unit_test(test_write_reaches_known),
        cmocka_unit_test(test_stopped_sql_thread),
        cmocka_unit_test(test_killed_replica),
        cmocka_unit_test(test_strong_lookup),
        cmocka_unit_test(test_strong_requests_share_a_lookup),
        cmocka_unit_test(test_strong_lookup_fails_while_primary_down),
        cmocka_unit_test(test_stop_is_prompt),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
