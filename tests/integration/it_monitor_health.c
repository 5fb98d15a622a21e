/*
 * it_monitor_health.c - backend health with hysteresis (issue 9 item 1)
 * through a real gtidproxy process on the real cluster: monitor.interval_ms
 * 200, fall_checks 3, rise_checks 2, and replica2 SIGSTOPped:
 *   - /backends shows it suspect (state "lagging", why "suspect: ..."),
 *     then down (state "down"), with the reason, since when and the count of
 *     transitions, and /metrics says the same;
 *   - no read goes to it from the first failed check on (every read of
 *     fresh sessions is served by the other replica, promptly);
 *   - SIGCONT: it stays down for one good check ("recovering 1/2"), then it
 *     is up and takes reads again;
 *   - the proxy log holds exactly one line per transition (up -> suspect,
 *     suspect -> down, down -> up), none for the other backends;
 *   - GET /config shows the two keys.
 * A stopped server makes each monitor call wait for its timeout:
 * timeouts.connect_ms is 1000 (the monitor's connect, read and write
 * timeouts, in whole seconds), so down comes about 3 s after the stop.
 * gtid_poll_interval_ms is 60000 so that the only checks during the test are
 * the 200 ms health rounds (a poll answered counts as a good check too and
 * would make the recovering state last 20 ms instead of a round).
 * The replica is always SIGCONTed in the test's teardown. Skipped in direct
 * mode (no proxy, no admin port).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "admin_util.h"
#include "proxy_env.h"

#define DB           "gtidproxy_test"
#define STOPPED_NODE 2 /* replica2 */
#define STOPPED_NAME "replica2"
#define STOPPED_ID   3 /* cluster.sh: replica i is server_id 1 + i */
#define OTHER_ID     2
#define READS        20

#define OVERRIDES                                                                                  \
    "{\"monitor\": {\"interval_ms\": 200, \"gtid_poll_interval_ms\": 60000,"                       \
    " \"fall_checks\": 3, \"rise_checks\": 2},"                                                    \
    " \"timeouts\": {\"connect_ms\": 1000}}"

static struct cluster_env env;
static struct proxy_proc px;
static pid_t stopped_pid; /* SIGSTOPped by the test, not yet SIGCONTed: 0 when none */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void skip_direct(void)
{
    if (proxy_is_direct())
        skip();
}

/* /backends' entry for STOPPED_NAME, as a path prefix ("backends[2]"). */
static void backend_path(json_t *doc, const char *name, char *out, size_t len)
{
    json_t *list = au_expect(doc, "backends", AU_ARR);
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *n = json_string_value(json_object_get(json_array_get(list, i), "name"));
        if (n && strcmp(n, name) == 0) {
            snprintf(out, len, "backends[%zu]", i);
            return;
        }
    }
    fail_msg("/backends has no backend \"%s\"", name);
}

/* One field of a backend in doc ("health", "checks.count"). */
static json_t *field(json_t *doc, const char *name, const char *f)
{
    char base[64], path[128];
    backend_path(doc, name, base, sizeof base);
    snprintf(path, sizeof path, "%s.%s", base, f);
    return au_at(doc, path);
}

static const char *field_str(json_t *doc, const char *name, const char *f)
{
    json_t *v = field(doc, name, f);
    if (!json_is_string(v))
        fail_msg("%s.%s: not a string", name, f);
    return json_string_value(v);
}

static json_int_t field_int(json_t *doc, const char *name, const char *f)
{
    json_t *v = field(doc, name, f);
    if (!json_is_integer(v))
        fail_msg("%s.%s: not an integer", name, f);
    return json_integer_value(v);
}

/* Polls /backends every 10 ms (up to timeout_ms) until name's health is
 * `want`; returns that document (caller decrefs). Calls seen() with every
 * document read on the way, when given. */
static json_t *wait_health(const char *name, const char *want, unsigned timeout_ms,
                           void (*seen)(json_t *doc))
{
    uint64_t start = now_ms();
    for (;;) {
        json_t *doc = au_get(px.admin_port, "/backends");
        if (seen)
            seen(doc);
        if (strcmp(field_str(doc, name, "health"), want) == 0)
            return doc;
        if (now_ms() - start > timeout_ms)
            fail_msg("%s: health \"%s\" after %u ms, want \"%s\"", name,
                     field_str(doc, name, "health"), timeout_ms, want);
        json_decref(doc);
        proxy_sleep_ms(10);
    }
}

/* The sample's value in a fresh /metrics. */
static double metric(const char *series)
{
    struct au_resp r;
    au_http(px.admin_port, "GET", "/metrics", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    double v = au_metric(r.body, series);
    au_resp_free(&r);
    return v;
}

/* READS reads, each on a fresh session: none may reach the stopped replica
 * (a read sent there would hang: no backend query timeout is set). */
static void reads_avoid_stopped(const char *when)
{
    for (int i = 0; i < READS; i++) {
        uint64_t t0 = now_ms();
        MYSQL *m = proxy_connect(&px, DB, 0);
        unsigned id = proxy_server_id(m);
        mysql_close(m);
        if (id == STOPPED_ID)
            fail_msg("%s: read %d went to the stopped replica", when, i + 1);
        if (now_ms() - t0 > 500)
            fail_msg("%s: read %d took %llu ms", when, i + 1, (unsigned long long)(now_ms() - t0));
    }
}

/* ---- group ---- */

static int group_setup(void **state)
{
    (void)state;
    cluster_env_load(&env);
    if (proxy_is_direct())
        return 0;
    proxy_start(&px, &env, OVERRIDES);
    au_wait_admin(px.admin_port, 5000);
    json_t *doc = wait_health(STOPPED_NAME, "up", 5000, NULL);
    json_decref(doc);
    if (!proxy_wait_replica_reads(&px, 5000))
        fail_msg("no read reached a replica within 5 s of start");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (stopped_pid)
        kill(stopped_pid, SIGCONT);
    stopped_pid = 0;
    proxy_stop(&px);
    return 0;
}

/* Whatever a test did, the replica runs again. */
static int test_teardown(void **state)
{
    (void)state;
    if (stopped_pid) {
        kill(stopped_pid, SIGCONT);
        stopped_pid = 0;
    }
    return 0;
}

/* ---- tests ---- */

static void test_config_shows_the_keys(void **state)
{
    (void)state;
    skip_direct();
    json_t *cfg = au_get(px.admin_port, "/config");
    assert_int_equal(au_count(cfg, "monitor.fall_checks"), 3);
    assert_int_equal(au_count(cfg, "monitor.rise_checks"), 2);
    assert_int_equal(au_count(cfg, "monitor.interval_ms"), 200);
    json_decref(cfg);
}

static bool saw_recovering;

static void note_recovering(json_t *doc)
{
    if (strcmp(field_str(doc, STOPPED_NAME, "health"), "down") == 0 &&
        strcmp(field_str(doc, STOPPED_NAME, "health_reason"), "recovering 1/2") == 0) {
        saw_recovering = true;
        assert_string_equal(field_str(doc, STOPPED_NAME, "state"), "down");
        assert_string_equal(field_str(doc, STOPPED_NAME, "why"), "recovering 1/2");
    }
}

static void test_sigstop_suspect_down_recover(void **state)
{
    (void)state;
    skip_direct();
    json_t *doc = wait_health(STOPPED_NAME, "up", 5000, NULL);
    json_int_t t0 = field_int(doc, STOPPED_NAME, "health_transitions");
    assert_true(json_is_null(field(doc, STOPPED_NAME, "health_reason")));
    json_decref(doc);
    size_t mark = proxy_log_mark(&px);

    /* Stop it: the next round's query hangs until its 1 s timeout. */
    pid_t pid = cluster_node_pid(STOPPED_NODE);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    stopped_pid = pid;
    uint64_t stopped_at = now_ms();

    /* The first failed check: suspect, no new reads. */
    doc = wait_health(STOPPED_NAME, "suspect", 10000, NULL);
    uint64_t suspect_ms = now_ms() - stopped_at;
    assert_string_equal(field_str(doc, STOPPED_NAME, "state"), "lagging");
    const char *why = field_str(doc, STOPPED_NAME, "why");
    const char *reason = field_str(doc, STOPPED_NAME, "health_reason");
    printf("suspect after %llu ms: %s\n", (unsigned long long)suspect_ms, why);
    if (strncmp(why, "suspect: ", 9) != 0 || strcmp(why + 9, reason) != 0)
        fail_msg("why \"%s\" is not \"suspect: \" + health_reason \"%s\"", why, reason);
    if (!strstr(reason, " (failed 1/3)"))
        fail_msg("health_reason \"%s\" does not count 1 of 3 failures", reason);
    char since[64];
    backend_path(doc, STOPPED_NAME, since, sizeof since - 16);
    strcat(since, ".health_since");
    au_expect_time(doc, since);
    assert_int_equal(field_int(doc, STOPPED_NAME, "health_transitions"), t0 + 1);
    assert_string_equal(field_str(doc, "replica1", "health"), "up");
    json_decref(doc);
    reads_avoid_stopped("suspect");
    if (metric("gtidproxy_backend_health{backend=\"" STOPPED_NAME "\",state=\"suspect\"}") != 1 &&
        metric("gtidproxy_backend_health{backend=\"" STOPPED_NAME "\",state=\"down\"}") != 1)
        fail_msg("/metrics: replica2 neither suspect nor down while /backends said suspect");

    /* Three failures in a row: down. */
    doc = wait_health(STOPPED_NAME, "down", 15000, NULL);
    printf("down after %llu ms\n", (unsigned long long)(now_ms() - stopped_at));
    assert_string_equal(field_str(doc, STOPPED_NAME, "state"), "down");
    assert_string_equal(field_str(doc, STOPPED_NAME, "why"),
                        field_str(doc, STOPPED_NAME, "health_reason"));
    assert_null(strstr(field_str(doc, STOPPED_NAME, "health_reason"), "failed"));
    assert_int_equal(field_int(doc, STOPPED_NAME, "health_transitions"), t0 + 2);
    assert_true(field_int(doc, STOPPED_NAME, "checks.failures") >= 3);
    json_decref(doc);
    assert_int_equal(
        metric("gtidproxy_backend_health{backend=\"" STOPPED_NAME "\",state=\"down\"}"), 1);
    assert_int_equal(
        metric("gtidproxy_backend_health_transitions_total{backend=\"" STOPPED_NAME "\"}"),
        (double)(t0 + 2));
    reads_avoid_stopped("down");

    /* Back: down for one good check, then up. */
    assert_int_equal(kill(pid, SIGCONT), 0);
    stopped_pid = 0;
    uint64_t cont_at = now_ms();
    saw_recovering = false;
    doc = wait_health(STOPPED_NAME, "up", 10000, note_recovering);
    printf("up %llu ms after SIGCONT (recovering seen: %d)\n",
           (unsigned long long)(now_ms() - cont_at), (int)saw_recovering);
    assert_true(saw_recovering);
    assert_string_equal(field_str(doc, STOPPED_NAME, "state"), "up");
    assert_true(json_is_null(field(doc, STOPPED_NAME, "health_reason")));
    assert_int_equal(field_int(doc, STOPPED_NAME, "health_transitions"), t0 + 3);
    json_decref(doc);

    /* It takes reads again. */
    bool served = false;
    for (int i = 0; i < 50 && !served; i++) {
        MYSQL *m = proxy_connect(&px, DB, 0);
        served = proxy_server_id(m) == STOPPED_ID;
        mysql_close(m);
    }
    assert_true(served);

    /* One log line per transition, none for the other backends. */
    size_t len;
    char *log = proxy_log_read(&px, mark, &len);
    assert_non_null(log);
    char needle[160];
    snprintf(needle, sizeof needle, "monitor: %s %s:%u ", STOPPED_NAME, env.host,
             env.replica_ports[STOPPED_NODE - 1]);
    size_t nl = strlen(needle);
    static const char *const lines[] = {"up -> suspect after 1 failed check: ",
                                        "suspect -> down after 3 failed checks: ",
                                        "down -> up after 2 good checks ("};
    const char *prev = log;
    for (size_t i = 0; i < 3; i++) {
        snprintf(needle + nl, sizeof needle - nl, "%s", lines[i]);
        size_t n = proxy_log_count(&px, mark, needle);
        const char *at = strstr(log, needle);
        if (n != 1 || at < prev)
            fail_msg("log: \"%s\" %zu times (want 1, after the previous transition)", needle, n);
        prev = at;
    }
    assert_int_equal(proxy_log_count(&px, mark, " failed check") +
                         proxy_log_count(&px, mark, " good check"),
                     3);
    free(log);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_shows_the_keys),
        cmocka_unit_test_teardown(test_sigstop_suspect_down_recover, test_teardown),
    };
    return proxy_run_group_tests(tests, group_setup, group_teardown);
}
