/* test_admin_view.c - GET /status, /backends, /consistency and /cache (admin_view.c)
 * over a real struct proxy built from a config (no network: backends on
 * 127.0.0.1 are only resolved), a monitor table filled by hand (no
 * threads) and two workers whose counters are set directly. Each test
 * asserts the exact JSON values an operator or a script reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "admin.h"
#include "admin_snapshot.h"

#define CONF                                                                                       \
    "{\"listeners\": [{\"name\": \"app\", \"port\": 6033}],"                                       \
    " \"backends\": ["                                                                             \
    "  {\"name\": \"primary\", \"host\": \"127.0.0.1\", \"port\": 13306, \"role\": \"primary\"},"  \
    "  {\"name\": \"replica1\", \"host\": \"127.0.0.1\", \"port\": 13307, \"role\": \"replica\"}," \
    "  {\"name\": \"replica2\", \"host\": \"127.0.0.1\", \"port\": 13308, \"role\": \"replica\","  \
    "   \"weight\": 3}],"                                                                          \
    " \"users\": [{\"name\": \"app\", \"password\": \"pw\"}],"                                     \
    " \"backend_credentials\": {\"user\": \"app\", \"password\": \"pw\"},"                         \
    " \"monitor\": {\"user\": \"mon\", \"password\": \"mpw\"},"                                    \
    " \"consistency\": {\"max_replica_lag_ms\": 10000}}"

#define PRIMARY  0
#define REPLICA1 1
#define REPLICA2 2

/* 2026-11-27T10:00:00.123Z */
#define FIXED_UNIX_MS INT64_C(1795773600123)

struct fx {
    struct proxy px;
    struct worker *w;
    struct admin_ctx a;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    char err[256] = "";
    struct config *cfg = config_parse(CONF, "t.json", err, sizeof err);
    if (!cfg)
        fail_msg("config: %s", err);
    assert_int_equal(proxy_init(&f->px, cfg, err, sizeof err), 0);
    assert_int_equal(monitor_init(&f->px.mon, &f->px, GTID_FLAVOR_MARIADB, err, sizeof err), 0);
    f->w = calloc(2, sizeof *f->w);
    assert_non_null(f->w);
    f->a = (struct admin_ctx){.px = &f->px, .workers = f->w, .n_workers = 2};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    monitor_free(&f->px.mon);
    proxy_destroy(&f->px);
    free(f->w);
    free(f);
    return 0;
}

/* ---- helpers ---- */

/* o.a.b[2].c: a dotted path, numbers index arrays. NULL when missing. */
static const json_t *at(const json_t *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); o && k; k = strtok_r(NULL, ".", &save)) {
        if (json_is_array(o))
            o = json_array_get(o, strtoul(k, NULL, 10));
        else
            o = json_object_get(o, k);
    }
    return o;
}

static void want_str(const json_t *o, const char *path, const char *want)
{
    const json_t *v = at(o, path);
    if (!json_is_string(v))
        fail_msg("%s: not a string (want \"%s\")", path, want);
    if (strcmp(json_string_value(v), want) != 0)
        fail_msg("%s: \"%s\", want \"%s\"", path, json_string_value(v), want);
}

static void want_int(const json_t *o, const char *path, json_int_t want)
{
    const json_t *v = at(o, path);
    if (!json_is_integer(v))
        fail_msg("%s: not an integer (want %lld)", path, (long long)want);
    if (json_integer_value(v) != want)
        fail_msg("%s: %lld, want %lld", path, (long long)json_integer_value(v), (long long)want);
}

static void want_real(const json_t *o, const char *path, double want)
{
    const json_t *v = at(o, path);
    if (!json_is_number(v))
        fail_msg("%s: not a number (want %g)", path, want);
    double got = json_number_value(v);
    if (got < want - 1e-9 || got > want + 1e-9)
        fail_msg("%s: %.17g, want %.17g", path, got, want);
}

static void want_bool(const json_t *o, const char *path, bool want)
{
    const json_t *v = at(o, path);
    if (!json_is_boolean(v) || json_is_true(v) != want)
        fail_msg("%s: want %s", path, want ? "true" : "false");
}

/* Present and null (never omitted). */
static void want_null(const json_t *o, const char *path)
{
    const json_t *v = at(o, path);
    if (!json_is_null(v))
        fail_msg("%s: %s, want null", path, v ? "not null" : "missing");
}

/* Exactly these keys (NULL-terminated). */
static void want_keys(const json_t *o, const char *path, const char *const *keys)
{
    const json_t *v = *path ? at(o, path) : o;
    assert_true(json_is_object(v));
    size_t n = 0;
    for (; keys[n]; n++)
        if (!json_object_get(v, keys[n]))
            fail_msg("%s: key \"%s\" missing", path, keys[n]);
    if (json_object_size(v) != n)
        fail_msg("%s: %zu keys, want %zu", path, json_object_size(v), n);
}

static void iso(int64_t unix_ms, char *buf, size_t len)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03dZ", (int)(unix_ms % 1000));
}

static void set_known(struct fx *f, size_t idx, enum gtid_flavor fl, const char *text,
                      uint64_t at_ms)
{
    struct mon_backend *b = &f->px.mon.be[idx];
    gtid_set_free(&b->known);
    gtid_set_init(&b->known, fl);
    assert_int_equal(gtid_set_parse(&b->known, text, strlen(text), NULL), 0);
    b->known_at_ms = at_ms;
}

/* A backend whose health checks succeed: up, replicating, no lag. */
static void mon_up(struct fx *f, size_t idx)
{
    struct mon_backend *b = &f->px.mon.be[idx];
    atomic_store(&b->health, MON_UP);
    atomic_store(&b->checked_ms, proxy_now_ms() - 300);
    atomic_store(&b->checks, 40);
    atomic_store(&b->check_failures, 2);
    b->flavor_known = true;
    b->flavor = GTID_FLAVOR_MARIADB;
    snprintf(b->version, sizeof b->version, "10.11.6-MariaDB-0+deb12u1");
    bool replica = idx != PRIMARY;
    atomic_store(&b->read_only, replica);
    atomic_store(&b->applying, replica);
    atomic_store(&b->receiving, replica);
    atomic_store(&b->replicating, replica);
    atomic_store(&b->lag_ms, replica ? 0 : -1);
}

static void all_up(struct fx *f)
{
    uint64_t now = proxy_now_ms();
    for (size_t i = 0; i < f->px.n_backends; i++) {
        mon_up(f, i);
        set_known(f, i, GTID_FLAVOR_MARIADB, "0-1-50", now - 12);
    }
}

/* The backends view; *b = the idx-th entry. Caller decrefs the view. */
static json_t *backend(struct fx *f, size_t idx, const json_t **b)
{
    json_t *v = admin_view_backends(&f->a);
    assert_non_null(v);
    want_keys(v, "", (const char *const[]){"backends", NULL});
    assert_int_equal(json_array_size(json_object_get(v, "backends")), f->px.n_backends);
    *b = json_array_get(json_object_get(v, "backends"), idx);
    assert_non_null(*b);
    return v;
}

static void want_state(struct fx *f, size_t idx, const char *state, const char *why)
{
    const json_t *b;
    json_t *v = backend(f, idx, &b);
    want_str(b, "state", state);
    if (why)
        want_str(b, "why", why);
    else
        want_null(b, "why");
    json_decref(v);
}

/* ---- /status ---- */

static void test_status(void **state)
{
    struct fx *f = *state;
    f->px.started_unix_ms = FIXED_UNIX_MS;
    proxy_snap(&f->px)->loaded_unix_ms = FIXED_UNIX_MS + 1000;
    atomic_store(&f->px.clients, 3);
    atomic_store(&f->px.clients_total, 10);
    atomic_store(&f->px.clients_rejected, 1);
    atomic_store(&f->px.reloads, 2);
    atomic_store(&f->px.reload_failures, 1);
    atomic_store(&f->w[0].qmemo.hits, 3);
    atomic_store(&f->w[1].qmemo.hits, 4);
    atomic_store(&f->w[1].qmatch.limit_hits, 2);
    atomic_store(&f->w[0].st.queries[WROUTE_PRIMARY], 10);
    atomic_store(&f->w[1].st.queries[WROUTE_PRIMARY], 5);
    atomic_store(&f->w[0].st.queries[WROUTE_REPLICA], 20);
    atomic_store(&f->w[1].st.queries[WROUTE_PROXY], 1);
    atomic_store(&f->w[0].st.bytes_in, 60);
    atomic_store(&f->w[1].st.bytes_in, 40);
    atomic_store(&f->w[0].st.bytes_out, 1500);
    atomic_store(&f->w[1].st.bytes_out, 500);
    struct gtid_set g;
    gtid_set_init(&g, GTID_FLAVOR_MARIADB);
    assert_int_equal(gtid_set_parse(&g, "1-2-3,0-1-42", 12, NULL), 0);
    proxy_writes_add(&f->px, &g);
    gtid_set_free(&g);

    json_t *s = admin_view_status(&f->a);
    assert_non_null(s);
    want_keys(s, "",
              (const char *const[]){"version", "started_at", "uptime_ms", "workers", "draining",
                                    "flavor", "clients", "queries", "client_bytes",
                                    "client_buffered_bytes", "writes_gtid", "topology",
                                    "query_rules", "config", NULL});
    want_str(s, "version", GTIDPROXY_VERSION);
    want_str(s, "started_at", "2026-11-27T10:00:00.123Z");
    assert_true(json_integer_value(at(s, "uptime_ms")) >= 0);
    want_int(s, "workers", 2);
    want_bool(s, "draining", false);
    want_str(s, "flavor", "mariadb");
    want_keys(s, "clients", (const char *const[]){"current", "total", "rejected", NULL});
    want_int(s, "clients.current", 3);
    want_int(s, "clients.total", 10);
    want_int(s, "clients.rejected", 1);
    want_keys(s, "queries", (const char *const[]){"primary", "replica", "proxy", NULL});
    want_int(s, "queries.primary", 15);
    want_int(s, "queries.replica", 20);
    want_int(s, "queries.proxy", 1);
    want_int(s, "client_bytes.in", 100);
    want_int(s, "client_bytes.out", 2000);
    want_int(s, "client_buffered_bytes", 0);
    want_str(s, "writes_gtid", "0-1-42,1-2-3");
    want_keys(s, "config",
              (const char *const[]){"file", "loaded_at", "reloads", "reload_failures", NULL});
    want_str(s, "config.file", "t.json");
    want_str(s, "config.loaded_at", "2026-11-27T10:00:01.123Z");
    want_int(s, "config.reloads", 2);
    want_int(s, "config.reload_failures", 1);
    want_keys(s, "query_rules",
              (const char *const[]){"memo_hits", "memo_misses", "memo_evictions", "limit_hits",
                                    "errors", NULL});
    want_int(s, "query_rules.memo_hits", 7);
    want_int(s, "query_rules.limit_hits", 2);
    want_int(s, "query_rules.errors", 0);
    want_keys(s, "topology",
              (const char *const[]){"primary", "state", "reason", "since", "primaries_followed",
                                    NULL});
    want_str(s, "topology.primary", "primary");
    want_str(s, "topology.state", "stable");
    want_null(s, "topology.since");
    want_int(s, "topology.primaries_followed", 0);
    json_decref(s);

    /* After a promotion was followed and while two backends are writable. */
    struct monitor *m = &f->px.mon;
    m->topo.primary = REPLICA1;
    m->topo.changes = 1;
    m->topo.state = TOPO_SPLIT;
    m->topo.state_since = proxy_now_ms();
    snprintf(m->topo_why, sizeof m->topo_why, "more than one backend is writable");
    atomic_store(&f->px.primary_idx, REPLICA1);
    s = admin_view_status(&f->a);
    want_str(s, "topology.primary", "replica1");
    want_str(s, "topology.state", "split");
    want_str(s, "topology.reason", "more than one backend is writable");
    assert_true(json_is_string(at(s, "topology.since")));
    want_int(s, "topology.primaries_followed", 1);
    json_decref(s);
    json_t *b = admin_view_backends(&f->a);
    want_str(b, "backends.0.role", "replica");
    want_str(b, "backends.1.role", "primary");
    json_decref(b);
    atomic_store(&f->px.primary_idx, PRIMARY);

    /* Draining, and nothing written yet is "" (not null). */
    atomic_store(&f->px.draining, true);
    gtid_set_clear(&f->px.writes);
    s = admin_view_status(&f->a);
    want_bool(s, "draining", true);
    want_str(s, "writes_gtid", "");
    json_decref(s);
}

/* ---- /backends ---- */

static void test_backend_up_and_caught_up(void **state)
{
    struct fx *f = *state;
    all_up(f);
    struct backend_info *r1 = &f->px.backends[REPLICA1];
    atomic_store(&r1->open, 3);
    atomic_store(&r1->connects, 10);
    atomic_store(&r1->connect_failures, 1);
    atomic_store(&r1->commands, 100);
    atomic_store(&r1->reads, 50);
    atomic_store(&r1->waits, 4);
    atomic_store(&r1->wait_timeouts, 1);
    atomic_store(&r1->wait_us, 10000);

    const json_t *b;
    json_t *v = backend(f, REPLICA1, &b);
    want_keys(b, "",
              (const char *const[]){"name",
                                    "host",
                                    "port",
                                    "role",
                                    "flavor",
                                    "version",
                                    "state",
                                    "why",
                                    "admin_state",
                                    "health",
                                    "health_reason",
                                    "health_since",
                                    "health_transitions",
                                    "read_only",
                                    "weight",
                                    "replication",
                                    "lag",
                                    "known_gtid",
                                    "known_age_ms",
                                    "connections",
                                    "commands",
                                    "reads",
                                    "waits",
                                    "checks",
                                    "last_error",
                                    NULL});
    want_str(b, "name", "replica1");
    want_str(b, "host", "127.0.0.1");
    want_int(b, "port", 13307);
    want_str(b, "role", "replica");
    want_str(b, "flavor", "mariadb");
    want_str(b, "version", "10.11.6-MariaDB-0+deb12u1");
    want_str(b, "state", "up");
    want_null(b, "why");
    want_str(b, "admin_state", "online");
    want_str(b, "health", "up");
    want_null(b, "health_reason");
    assert_true(json_is_string(at(b, "health_since"))); /* since monitor_init */
    want_int(b, "health_transitions", 0);
    want_bool(b, "read_only", true);
    want_int(b, "weight", 1);
    want_keys(b, "replication", (const char *const[]){"io_running", "sql_running", NULL});
    want_bool(b, "replication.io_running", true);
    want_bool(b, "replication.sql_running", true);
    want_keys(b, "lag", (const char *const[]){"seconds", "transactions", NULL});
    want_real(b, "lag.seconds", 0);
    want_int(b, "lag.transactions", 0);
    want_str(b, "known_gtid", "0-1-50");
    json_int_t age = json_integer_value(at(b, "known_age_ms"));
    assert_true(age >= 12 && age < 12 + 5000);
    want_keys(b, "connections", (const char *const[]){"open", "opened", "connect_failures", NULL});
    want_int(b, "connections.open", 3);
    want_int(b, "connections.opened", 10);
    want_int(b, "connections.connect_failures", 1);
    want_int(b, "commands", 100);
    want_int(b, "reads", 50);
    want_keys(b, "waits", (const char *const[]){"count", "timeouts", "total_ms", "avg_ms", NULL});
    want_int(b, "waits.count", 4);
    want_int(b, "waits.timeouts", 1);
    want_real(b, "waits.total_ms", 10.0);
    want_real(b, "waits.avg_ms", 2.5);
    want_keys(b, "checks", (const char *const[]){"count", "failures", "last_ok_age_ms", NULL});
    want_int(b, "checks.count", 40);
    want_int(b, "checks.failures", 2);
    json_int_t ok_age = json_integer_value(at(b, "checks.last_ok_age_ms"));
    assert_true(ok_age >= 300 && ok_age < 300 + 5000);
    want_null(b, "last_error");
    json_decref(v);

    /* The primary: no replication, no lag; weight and order from the config. */
    v = backend(f, PRIMARY, &b);
    want_str(b, "name", "primary");
    want_str(b, "role", "primary");
    want_str(b, "state", "up");
    want_bool(b, "read_only", false);
    want_null(b, "replication");
    want_null(b, "lag.seconds");
    want_null(b, "lag.transactions");
    want_null(b, "waits.avg_ms"); /* no waits: no average */
    want_real(b, "waits.total_ms", 0);
    json_decref(v);
    v = backend(f, REPLICA2, &b);
    want_str(b, "name", "replica2");
    want_int(b, "weight", 3);
    json_decref(v);
}

static void test_replica_not_usable_is_lagging(void **state)
{
    struct fx *f = *state;
    all_up(f);
    atomic_store(&f->px.mon.be[REPLICA2].applying, false);
    atomic_store(&f->px.mon.be[REPLICA2].replicating, false);
    want_state(f, REPLICA2, "lagging", "SQL thread stopped");
    want_state(f, REPLICA1, "up", NULL);
    const json_t *b;
    json_t *v = backend(f, REPLICA2, &b);
    want_bool(b, "replication.sql_running", false);
    want_bool(b, "replication.io_running", true);
    json_decref(v);

    atomic_store(&f->px.mon.be[REPLICA2].applying, true);
    atomic_store(&f->px.mon.be[REPLICA2].receiving, false);
    want_state(f, REPLICA2, "lagging", "IO thread stopped");

    atomic_store(&f->px.mon.be[REPLICA2].receiving, true);
    atomic_store(&f->px.mon.be[REPLICA2].replicating, true);
    atomic_store(&f->px.mon.be[REPLICA2].lag_ms, 10001);
    want_state(f, REPLICA2, "lagging", "lagging");
    v = backend(f, REPLICA2, &b);
    want_real(b, "lag.seconds", 10.001);
    json_decref(v);

    atomic_store(&f->px.mon.be[REPLICA2].lag_ms, 10000); /* at the limit: fine */
    want_state(f, REPLICA2, "up", NULL);
}

static void test_admin_states_beat_health(void **state)
{
    struct fx *f = *state;
    all_up(f);
    struct mon_backend *m1 = &f->px.mon.be[REPLICA1];
    atomic_store(&m1->health, MON_DOWN);
    snprintf(m1->last_error, sizeof m1->last_error, "connect: Connection refused (2002)");
    m1->last_error_ms = proxy_now_ms();
    atomic_store(&f->px.backends[REPLICA1].admin, BACKEND_OFFLINE);
    want_state(f, REPLICA1, "offline", "taken offline by the admin API");
    const json_t *b;
    json_t *v = backend(f, REPLICA1, &b);
    want_str(b, "admin_state", "offline");
    want_str(b, "health", "down");
    json_decref(v);

    atomic_store(&f->px.backends[REPLICA1].admin, BACKEND_DRAINING);
    want_state(f, REPLICA1, "draining", "draining: no new sessions read here");

    /* An offline replica that is also lagging is still "offline". */
    atomic_store(&m1->health, MON_UP);
    atomic_store(&m1->applying, false);
    atomic_store(&f->px.backends[REPLICA1].admin, BACKEND_OFFLINE);
    want_state(f, REPLICA1, "offline", "taken offline by the admin API");
}

static void test_down_says_why(void **state)
{
    struct fx *f = *state;
    all_up(f);
    struct mon_backend *m1 = &f->px.mon.be[REPLICA1];
    atomic_store(&m1->health, MON_DOWN);
    want_state(f, REPLICA1, "down", "not reachable"); /* no error recorded */
    const json_t *b;
    json_t *v = backend(f, REPLICA1, &b);
    want_str(b, "health_reason", "not reachable"); /* the monitor stored no reason */
    json_decref(v);

    snprintf(m1->last_error, sizeof m1->last_error,
             "connect: Can't connect to server on '127.0.0.1' (111) (2002)");
    m1->last_error_ms = proxy_now_ms();
    want_state(f, REPLICA1, "down", "connect: Can't connect to server on '127.0.0.1' (111) (2002)");
    v = backend(f, REPLICA1, &b);
    want_str(b, "health", "down");
    want_keys(b, "last_error", (const char *const[]){"message", "at", "source", NULL});
    want_str(b, "last_error.message",
             "connect: Can't connect to server on '127.0.0.1' (111) (2002)");
    want_str(b, "last_error.source", "monitor");
    json_decref(v);

    /* The primary down is "down" too (no lag rule for it). */
    atomic_store(&f->px.mon.be[PRIMARY].health, MON_DOWN);
    want_state(f, PRIMARY, "down", "not reachable");
}

/* One check counted as the monitor's thread counts it (monitor.c
 * mt_health): the state machine, its reason, then the atomics. */
static void mon_check(struct fx *f, size_t idx, bool ok, const char *err)
{
    struct mon_backend *b = &f->px.mon.be[idx];
    const struct config *cfg = proxy_snap(&f->px)->cfg;
    if (!ok) {
        snprintf(b->last_error, sizeof b->last_error, "%s", err);
        b->last_error_ms = proxy_now_ms();
    }
    mon_health_step(&b->hs, ok, cfg->monitor_fall_checks, cfg->monitor_rise_checks,
                    proxy_now_ms());
    mon_health_reason(&b->hs, cfg->monitor_fall_checks, cfg->monitor_rise_checks, b->last_error,
                      b->health_reason, sizeof b->health_reason);
    atomic_store(&b->health_fails, b->hs.fails);
    atomic_store(&b->health, (int)b->hs.state);
}

/* health_since is now, give or take the two clocks' truncation. */
static void want_since_now(const json_t *b, int64_t unix_before, int64_t unix_after)
{
    char lo[64], hi[64];
    iso(unix_before - 50, lo, sizeof lo);
    iso(unix_after + 50, hi, sizeof hi);
    const char *got = json_string_value(at(b, "health_since"));
    assert_non_null(got);
    if (strcmp(got, lo) < 0 || strcmp(got, hi) > 0)
        fail_msg("health_since %s not in [%s, %s]", got, lo, hi);
}

/* The monitor's health with hysteresis (defaults: fall 3, rise 2) as
 * /backends shows it, and what readers are told. */
static void test_health_hysteresis(void **state)
{
    struct fx *f = *state;
    all_up(f);
    static const char err[] = "SELECT @@read_only: Lost connection to server during query (2013)";
    struct monitor *m = &f->px.mon;
    for (size_t i = 0; i < m->n; i++) {
        mon_health_init(&m->be[i].hs, proxy_now_ms());
        mon_check(f, i, true, NULL);
    }
    const json_t *b;
    json_t *v = backend(f, REPLICA1, &b);
    want_str(b, "health", "up");
    want_null(b, "health_reason");
    want_int(b, "health_transitions", 1);
    json_decref(v);

    /* One failure: suspect, no new reads (shown as lagging), still
     * reachable for stale reads. */
    int64_t before = proxy_unix_ms();
    mon_check(f, REPLICA1, false, err);
    int64_t after = proxy_unix_ms();
    v = backend(f, REPLICA1, &b);
    want_str(b, "state", "lagging");
    want_str(b, "why", "suspect: SELECT @@read_only: Lost connection to server during query "
                       "(2013) (failed 1/3)");
    want_str(b, "health", "suspect");
    want_str(b, "health_reason",
             "SELECT @@read_only: Lost connection to server during query (2013) (failed 1/3)");
    want_int(b, "health_transitions", 2);
    want_since_now(b, before, after);
    json_decref(v);
    assert_false(monitor_replica_usable(m, REPLICA1, 10000));
    assert_true(monitor_reachable(m, REPLICA1));
    assert_true(monitor_replica_usable(m, REPLICA2, 10000));

    mon_check(f, REPLICA1, false, err);
    want_state(f, REPLICA1, "lagging",
               "suspect: SELECT @@read_only: Lost connection to server during query (2013) "
               "(failed 2/3)");
    /* The third in a row: down, unreachable. */
    mon_check(f, REPLICA1, false, err);
    want_state(f, REPLICA1, "down", err);
    v = backend(f, REPLICA1, &b);
    want_str(b, "health", "down");
    want_str(b, "health_reason", err);
    want_int(b, "health_transitions", 3);
    json_decref(v);
    assert_false(monitor_reachable(m, REPLICA1));
    assert_string_equal(monitor_unusable_why(m, REPLICA1, 10000), "down: " "SELECT @@read_only: "
                        "Lost connection to server during query (2013)");

    /* Answering again: down until the second good check in a row. */
    mon_check(f, REPLICA1, true, NULL);
    want_state(f, REPLICA1, "down", "recovering 1/2");
    v = backend(f, REPLICA1, &b);
    want_str(b, "health_reason", "recovering 1/2");
    want_int(b, "health_transitions", 3);
    json_decref(v);
    assert_false(monitor_reachable(m, REPLICA1));
    assert_string_equal(monitor_unusable_why(m, REPLICA1, 10000), "down: recovering 1/2");
    mon_check(f, REPLICA1, true, NULL);
    want_state(f, REPLICA1, "up", NULL);
    v = backend(f, REPLICA1, &b);
    want_str(b, "health", "up");
    want_null(b, "health_reason");
    want_int(b, "health_transitions", 4);
    json_decref(v);
    assert_true(monitor_replica_usable(m, REPLICA1, 10000));

    /* A suspect primary still takes every write: "up", its health says. */
    mon_check(f, PRIMARY, false, err);
    v = backend(f, PRIMARY, &b);
    want_str(b, "state", "up");
    want_null(b, "why");
    want_str(b, "health", "suspect");
    want_str(b, "health_reason",
             "SELECT @@read_only: Lost connection to server during query (2013) (failed 1/3)");
    json_decref(v);
    /* ... and the replicas' IO threads stopping then is no reason to
     * avoid them (nothing newer to fetch from a primary not up). */
    atomic_store(&m->be[REPLICA2].replicating, false);
    atomic_store(&m->be[REPLICA2].receiving, false);
    assert_true(monitor_replica_usable(m, REPLICA2, 10000));
}

/* A backend that has failed checks and never answered gets no reads. */
static void test_unknown_failing_is_not_usable(void **state)
{
    struct fx *f = *state;
    struct monitor *m = &f->px.mon;
    mon_health_init(&m->be[REPLICA2].hs, proxy_now_ms());
    assert_true(monitor_replica_usable(m, REPLICA2, 10000)); /* not checked yet */
    mon_check(f, REPLICA2, false, "connect: timeout (2002)");
    assert_false(monitor_replica_usable(m, REPLICA2, 10000));
    assert_string_equal(monitor_unusable_why(m, REPLICA2, 10000),
                        "unknown: connect: timeout (2002) (failed 1/3)");
    assert_true(monitor_reachable(m, REPLICA2));
    const json_t *b;
    json_t *v = backend(f, REPLICA2, &b);
    want_str(b, "state", "unknown");
    want_str(b, "why", "connect: timeout (2002) (failed 1/3)");
    want_str(b, "health", "unknown");
    want_str(b, "health_reason", "connect: timeout (2002) (failed 1/3)");
    want_int(b, "health_transitions", 0);
    assert_true(json_is_string(at(b, "health_since"))); /* since the monitor started */
    json_decref(v);
    mon_check(f, REPLICA2, false, "connect: timeout (2002)");
    mon_check(f, REPLICA2, false, "connect: timeout (2002)");
    want_state(f, REPLICA2, "down", "connect: timeout (2002)");
}

static void test_unknown_before_checks(void **state)
{
    struct fx *f = *state;
    const json_t *b;
    json_t *v = backend(f, REPLICA1, &b);
    want_str(b, "state", "unknown");
    want_str(b, "why", "not checked yet");
    want_str(b, "health", "unknown");
    want_str(b, "health_reason", "not checked yet");
    assert_true(json_is_string(at(b, "health_since"))); /* since monitor_init */
    want_int(b, "health_transitions", 0);
    want_null(b, "flavor");
    want_null(b, "version");
    want_null(b, "read_only");
    want_null(b, "replication.io_running");
    want_null(b, "replication.sql_running");
    want_null(b, "lag.seconds");
    want_null(b, "lag.transactions");
    want_str(b, "known_gtid", "");
    want_null(b, "known_age_ms"); /* never read */
    want_int(b, "checks.count", 0);
    want_null(b, "checks.last_ok_age_ms");
    want_null(b, "last_error");
    json_decref(v);

    /* No monitor table at all (the monitor not started yet): same. */
    struct mon_backend *saved = f->px.mon.be;
    f->px.mon.be = NULL;
    v = backend(f, PRIMARY, &b);
    want_str(b, "state", "unknown");
    want_null(b, "known_age_ms");
    json_decref(v);
    f->px.mon.be = saved;
}

static void test_newer_last_error_wins(void **state)
{
    struct fx *f = *state;
    all_up(f);
    struct mon_backend *m2 = &f->px.mon.be[REPLICA2];
    struct backend_info *b2 = &f->px.backends[REPLICA2];
    const json_t *b;
    char want[64];

    /* Only the data plane's: its own wall time, exactly. */
    snprintf(b2->last_error, sizeof b2->last_error, "lost connection mid-command");
    b2->last_error_unix_ms = FIXED_UNIX_MS;
    json_t *v = backend(f, REPLICA2, &b);
    want_str(b, "last_error.message", "lost connection mid-command");
    want_str(b, "last_error.at", "2026-11-27T10:00:00.123Z");
    want_str(b, "last_error.source", "proxy");
    json_decref(v);

    /* Monitor's 5 s ago, data plane's 1 s ago: the data plane's. */
    uint64_t now = proxy_now_ms();
    snprintf(m2->last_error, sizeof m2->last_error, "SELECT @@read_only: timeout (2013)");
    m2->last_error_ms = now > 5000 ? now - 5000 : 0;
    int64_t proxy_at = proxy_unix_ms() - 1000;
    b2->last_error_unix_ms = proxy_at;
    v = backend(f, REPLICA2, &b);
    want_str(b, "last_error.source", "proxy");
    iso(proxy_at, want, sizeof want);
    want_str(b, "last_error.at", want);
    json_decref(v);

    /* Monitor's 1 s ago, data plane's 5 s ago: the monitor's, at wall time
     * now - 1 s (converted from the monotonic clock). */
    int64_t unix_before = proxy_unix_ms();
    m2->last_error_ms = proxy_now_ms() - 1000;
    b2->last_error_unix_ms = proxy_unix_ms() - 5000;
    v = backend(f, REPLICA2, &b);
    int64_t unix_after = proxy_unix_ms();
    want_str(b, "last_error.message", "SELECT @@read_only: timeout (2013)");
    want_str(b, "last_error.source", "monitor");
    /* Two clocks, each truncated to ms: a few ms of slack either way. */
    char lo[64], hi[64];
    iso(unix_before - 1000 - 50, lo, sizeof lo);
    iso(unix_after - 1000 + 50, hi, sizeof hi);
    const char *got = json_string_value(at(b, "last_error.at"));
    assert_non_null(got);
    if (strcmp(got, lo) < 0 || strcmp(got, hi) > 0)
        fail_msg("last_error.at %s not in [%s, %s]", got, lo, hi);
    json_decref(v);
}

static void test_lag_transactions(void **state)
{
    struct fx *f = *state;
    all_up(f);
    uint64_t now = proxy_now_ms();
    set_known(f, PRIMARY, GTID_FLAVOR_MARIADB, "0-1-50", now);
    set_known(f, REPLICA2, GTID_FLAVOR_MARIADB, "0-1-42", now);
    const json_t *b;
    json_t *v = backend(f, REPLICA2, &b);
    want_int(b, "lag.transactions", 8);
    want_str(b, "known_gtid", "0-1-42");
    json_decref(v);

    /* Every domain counts; a domain the replica lacks counts whole. */
    set_known(f, PRIMARY, GTID_FLAVOR_MARIADB, "0-1-50,1-2-10", now);
    v = backend(f, REPLICA2, &b);
    want_int(b, "lag.transactions", 18);
    json_decref(v);

    /* A replica ahead of the primary's last read lacks nothing. */
    set_known(f, REPLICA2, GTID_FLAVOR_MARIADB, "0-1-60,1-2-10", now);
    v = backend(f, REPLICA2, &b);
    want_int(b, "lag.transactions", 0);
    json_decref(v);

    /* Never read from the replica: unknown, not 0. */
    f->px.mon.be[REPLICA2].known_at_ms = 0;
    v = backend(f, REPLICA2, &b);
    want_null(b, "lag.transactions");
    want_null(b, "known_age_ms");
    json_decref(v);

    /* Never read from the primary: unknown. */
    f->px.mon.be[REPLICA2].known_at_ms = now;
    f->px.mon.be[PRIMARY].known_at_ms = 0;
    v = backend(f, REPLICA2, &b);
    want_null(b, "lag.transactions");
    json_decref(v);

    /* Sets of two flavors cannot be compared. */
    f->px.mon.be[PRIMARY].known_at_ms = now;
    set_known(f, REPLICA2, GTID_FLAVOR_MYSQL, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", now);
    v = backend(f, REPLICA2, &b);
    want_null(b, "lag.transactions");
    want_str(b, "known_gtid", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5");
    json_decref(v);
}

/* ---- /consistency ---- */

static void test_consistency_sums_workers(void **state)
{
    struct fx *f = *state;
    struct gate_counters *g0 = &f->w[0].gate, *g1 = &f->w[1].gate;
    for (int i = 0; i < 3; i++)
        gate_count(g0, GATE_SESSION, GATE_DIRECT);
    for (int i = 0; i < 2; i++)
        gate_count(g1, GATE_SESSION, GATE_DIRECT);
    gate_count(g1, GATE_GLOBAL, GATE_WAITED);
    gate_count(g0, GATE_TOKEN, GATE_FB_STALE);
    gate_count(g1, GATE_STRONG, GATE_FB_PRIMARY);
    gate_count_wait(g0, 1500, true);      /* (1 ms, 2 ms] */
    gate_count_wait(g1, 900, true);       /* <= 1 ms */
    gate_count_wait(g1, 10000000, false); /* > 5 s: +Inf */

    json_t *c = admin_view_consistency(&f->a);
    assert_non_null(c);
    want_keys(c, "", (const char *const[]){"levels", "outcomes", "reads", "waits", NULL});
    want_keys(c, "levels",
              (const char *const[]){"eventual", "session", "global", "strong", "token", NULL});
    static const char *const level_keys[] = {
        "reads",          "direct",         "waited",         "fallback_primary",
        "fallback_cache", "fallback_error", "fallback_stale", NULL};
    static const char *const levels[] = {"eventual", "session", "global", "strong", "token"};
    for (size_t l = 0; l < 5; l++) {
        char path[64];
        snprintf(path, sizeof path, "levels.%s", levels[l]);
        want_keys(c, path, level_keys);
    }
    want_int(c, "levels.session.reads", 5);
    want_int(c, "levels.session.direct", 5);
    want_int(c, "levels.session.waited", 0);
    want_int(c, "levels.global.reads", 1);
    want_int(c, "levels.global.waited", 1);
    want_int(c, "levels.strong.fallback_primary", 1);
    want_int(c, "levels.token.fallback_stale", 1);
    want_int(c, "levels.eventual.reads", 0);
    want_int(c, "levels.eventual.direct", 0);
    want_keys(c, "outcomes", level_keys + 1);
    want_int(c, "outcomes.direct", 5);
    want_int(c, "outcomes.waited", 1);
    want_int(c, "outcomes.fallback_primary", 1);
    want_int(c, "outcomes.fallback_cache", 0);
    want_int(c, "outcomes.fallback_error", 0);
    want_int(c, "outcomes.fallback_stale", 1);
    want_int(c, "reads", 8);

    want_keys(c, "waits",
              (const char *const[]){"count", "reached", "timeouts", "total_ms", "avg_ms",
                                    "histogram", NULL});
    want_int(c, "waits.count", 3);
    want_int(c, "waits.reached", 2);
    want_int(c, "waits.timeouts", 1);
    want_real(c, "waits.total_ms", 10002.4);
    want_real(c, "waits.avg_ms", 10002.4 / 3);
    const json_t *h = at(c, "waits.histogram");
    assert_int_equal(json_array_size(h), GATE_HIST_N);
    want_keys(h, "0", (const char *const[]){"le_ms", "count", NULL});
    want_real(h, "0.le_ms", 1);
    want_int(h, "0.count", 1);
    want_real(h, "1.le_ms", 2);
    want_int(h, "1.count", 1);
    want_real(h, "2.le_ms", 5);
    want_int(h, "2.count", 0);
    want_real(h, "11.le_ms", 5000);
    want_int(h, "11.count", 0);
    want_null(h, "12.le_ms");
    want_int(h, "12.count", 1);
    json_decref(c);

    /* No waits: the average is null, not 0 or NaN. */
    memset(g0, 0, sizeof *g0);
    memset(g1, 0, sizeof *g1);
    c = admin_view_consistency(&f->a);
    want_int(c, "waits.count", 0);
    want_null(c, "waits.avg_ms");
    want_int(c, "reads", 0);
    json_decref(c);
}

/* ---- /cache ---- */

static const char *const cache_keys[] = {
    "enabled",        "max_bytes", "max_entry_bytes", "entries",  "bytes",
    "table_bytes",    "detached_bytes", "hits",       "stale_serves", "misses",
    "bypasses",       "stores",    "replaced",        "evictions", "refused_too_big", NULL};

/* Off: enabled false and every number 0, so scripts need no special case. */
static void test_cache_off(void **state)
{
    struct fx *f = *state;
    struct cache_store *saved = f->px.cache;
    f->px.cache = NULL;
    atomic_store(&f->w[0].cache.hits, 5); /* counted by nobody when off; not shown */
    json_t *c = admin_view_cache(&f->a);
    assert_non_null(c);
    want_keys(c, "", cache_keys);
    want_bool(c, "enabled", false);
    for (size_t i = 1; cache_keys[i]; i++)
        want_int(c, cache_keys[i], 0);
    json_decref(c);
    f->px.cache = saved;
}

/* On: the store's own numbers (cache_stats) and the workers' lookups summed. */
static void test_cache_on(void **state)
{
    struct fx *f = *state;
    struct cache_store cs;
    assert_int_equal(cache_store_init(&cs, 1 << 20, 4096, 1), CACHE_OK);
    struct gtid_set tag;
    gtid_set_init(&tag, GTID_FLAVOR_MARIADB);
    static const char val[5000] = {0};
    assert_int_equal(cache_put(&cs, "k1", 2, val, 100, &tag, 1, 1), CACHE_OK);
    assert_int_equal(cache_put(&cs, "k2", 2, val, 200, &tag, 1, 1), CACHE_OK);
    assert_int_equal(cache_put(&cs, "k1", 2, val, 300, &tag, 1, 1), CACHE_OK); /* replaces */
    assert_int_equal(cache_put(&cs, "k3", 2, val, 5000, &tag, 1, 1), CACHE_E_TOO_BIG);
    const struct cache_entry *held = cache_get(&cs, "k2", 2);
    assert_non_null(held);
    assert_int_equal(cache_put(&cs, "k2", 2, val, 50, &tag, 1, 1), CACHE_OK); /* k2 detached */
    gtid_set_free(&tag);
    struct cache_stats st;
    cache_stats(&cs, &st);
    assert_int_equal(st.entries, 2);
    assert_true(st.detached_bytes > 0);

    atomic_store(&f->w[0].cache.hits, 3);
    atomic_store(&f->w[1].cache.hits, 2);
    atomic_store(&f->w[0].cache.stale_serves, 1);
    atomic_store(&f->w[1].cache.misses, 7);
    atomic_store(&f->w[0].cache.bypasses, 4);
    atomic_store(&f->w[1].cache.bypasses, 1);
    struct cache_store *saved = f->px.cache;
    f->px.cache = &cs;
    json_t *c = admin_view_cache(&f->a);
    f->px.cache = saved;
    assert_non_null(c);
    want_keys(c, "", cache_keys);
    want_bool(c, "enabled", true);
    want_int(c, "max_bytes", 1 << 20);
    want_int(c, "max_entry_bytes", 4096);
    want_int(c, "entries", 2);
    want_int(c, "bytes", (json_int_t)st.bytes);
    want_int(c, "table_bytes", (json_int_t)st.table_bytes);
    want_int(c, "detached_bytes", (json_int_t)st.detached_bytes);
    want_int(c, "hits", 5);
    want_int(c, "stale_serves", 1);
    want_int(c, "misses", 7);
    want_int(c, "bypasses", 5);
    want_int(c, "stores", 4);
    want_int(c, "replaced", 2);
    want_int(c, "evictions", 0);
    want_int(c, "refused_too_big", 1);
    json_decref(c);
    cache_release(&cs, held);
    cache_store_free(&cs);
}

/* A snapshot filled by hand: the exact document, field order included. */
static void test_cache_json_exact(void **state)
{
    (void)state;
    struct admin_snapshot *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->cache = (struct admin_snap_cache){
        .enabled = true, .max_bytes = 67108864, .max_entry_bytes = 1048576,
        .st = {.entries = 12, .bytes = 40960, .table_bytes = 1024, .detached_bytes = 512,
               .stores = 20, .replaced = 3, .evictions = 5, .refused_too_big = 2},
        .hits = 30, .stale_serves = 4, .misses = 21, .bypasses = UINT64_MAX};
    json_t *c = admin_cache_json(s);
    assert_non_null(c);
    char *text = json_dumps(c, JSON_COMPACT);
    assert_string_equal(
        text, "{\"enabled\":true,\"max_bytes\":67108864,\"max_entry_bytes\":1048576,"
              "\"entries\":12,\"bytes\":40960,\"table_bytes\":1024,\"detached_bytes\":512,"
              "\"hits\":30,\"stale_serves\":4,\"misses\":21,"
              "\"bypasses\":9223372036854775807,\"stores\":20,\"replaced\":3,"
              "\"evictions\":5,\"refused_too_big\":2}");
    free(text);
    json_decref(c);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backend_up_and_caught_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replica_not_usable_is_lagging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admin_states_beat_health, setup, teardown),
        cmocka_unit_test_setup_teardown(test_down_says_why, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_hysteresis, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_failing_is_not_usable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_before_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_last_error_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lag_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consistency_sums_workers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_on, setup, teardown),
        cmocka_unit_test(test_cache_json_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
