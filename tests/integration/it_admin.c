/*
 * it_admin.c - the admin API (issue 7, adminspec.md) on the real cluster:
 *   - shape: every GET endpoint answers with the documented fields and
 *     JSON types (exact key sets), /cache on or off, and the cluster as it
 *     is (three backends up, replication running, no GTID distance);
 *   - counters move exactly: one eventual read on a fresh session moves
 *     queries.replica, its replica's reads/commands and levels.eventual's
 *     reads/direct by one and nothing else; one INSERT moves
 *     queries.primary, the primary's commands and writes_gtid;
 *   - /metrics passes `promtool check metrics` and says what the JSON says;
 *   - offline / online / drain take a replica out of (and back into)
 *     rotation at once; the primary cannot be taken out (409); unknown
 *     names 404; a GET on a POST path 405 + Allow;
 *   - bad requests (malformed HTTP on a raw socket, an unknown path, a
 *     missing or wrong bearer token, 1 MB bodies) get a clean 4xx while a
 *     client load runs through the proxy without a single error;
 *   - /sessions shows the test's own sessions (user, write GTID,
 *     transaction) and pages; /config is redacted; POST /config/reload and
 *     SIGHUP report and count; `gtidproxy status` prints the tables.
 *
 * One proxy (px, default config of proxy_env: level session, 2 workers)
 * serves the group; the token and reload tests start their own. Nothing
 * else talks to px while a test runs, so counters are compared exactly.
 * In direct mode (GTIDPROXY_IT_DIRECT=1) every test is skipped: there is no
 * admin port without the proxy.
 */
#include <inttypes.h>
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
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>

#include "admin_util.h"
#include "consistency_util.h"
#include "proxy_env.h"

#define DB    "gtidproxy_test"
#define TOKEN "s3cret"
/* How long a test waits for the monitor to see what the cluster already
 * is (interval_ms 200, gtid_poll_interval_ms 20 in proxy_env's config). */
#define SETTLE_MS 5000
/* Reads that must all avoid a backend taken out of rotation, and the new
 * sessions allowed to find it again once it is back (adminspec/task). */
#define AVOID_READS  20
#define RETURN_READS 50
/* 1 MB: the "1 MB request body", far over admin.max_body_bytes. */
#define BIG_BODY (1024u * 1024u)

static struct cluster_env env;
static struct proxy_proc px;     /* the group's proxy */
static struct proxy_proc tok_px; /* started with admin.token */
static struct proxy_proc rel_px; /* the reload test's own */

static const char *const backend_names[] = {"primary", "replica1", "replica2"};
#define N_BACKENDS 3

static void skip_direct(void)
{
    if (proxy_is_direct())
        skip();
}

/* The backend a server id belongs to (cluster.sh: primary 1, replica i 1+i). */
static const char *backend_of(unsigned server_id)
{
    if (server_id < 1 || server_id > N_BACKENDS)
        fail_msg("server_id %u is none of the cluster's", server_id);
    return backend_names[server_id - 1];
}

/* Sessions through px, remembered so that a test that fails with some
 * open does not leave them to the next one (which counts sessions): the
 * teardown closes what is left. */
#define MAX_SESSIONS 8
static MYSQL *open_sessions[MAX_SESSIONS];

/* proxy_start(), then until its admin port answers too. */
static void start_proxy(struct proxy_proc *p, const char *overrides)
{
    proxy_start(p, &env, overrides);
    au_wait_admin(p->admin_port, SETTLE_MS);
}

static MYSQL *session(void)
{
    MYSQL *m = proxy_connect(&px, DB, 0);
    for (size_t i = 0; i < MAX_SESSIONS; i++) {
        if (!open_sessions[i]) {
            open_sessions[i] = m;
            return m;
        }
    }
    fail_msg("more than %d sessions open at once", MAX_SESSIONS);
    return NULL;
}

static void session_close(MYSQL *m)
{
    for (size_t i = 0; i < MAX_SESSIONS; i++) {
        if (open_sessions[i] == m)
            open_sessions[i] = NULL;
    }
    mysql_close(m);
}

/* /backends' entry for name (its index in the array). */
static size_t backend_index(json_t *doc, const char *name)
{
    json_t *list = au_expect(doc, "backends", AU_ARR);
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *n = json_string_value(json_object_get(json_array_get(list, i), "name"));
        if (n && strcmp(n, name) == 0)
            return i;
    }
    fail_msg("/backends has no backend \"%s\"", name);
    return 0;
}

static json_t *backend_field(json_t *doc, const char *name, const char *field)
{
    char path[128];
    snprintf(path, sizeof path, "backends[%zu].%s", backend_index(doc, name), field);
    return au_at(doc, path);
}

/* after - before at path (both integers). */
static int64_t delta(json_t *after, json_t *before, const char *path)
{
    return (int64_t)au_count(after, path) - (int64_t)au_count(before, path);
}

static void expect_delta(json_t *after, json_t *before, const char *path, int64_t want)
{
    int64_t got = delta(after, before, path);
    if (got != want)
        fail_msg("%s moved by %" PRId64 ", expected %" PRId64 " (%" PRIu64 " -> %" PRIu64 ")", path,
                 got, want, au_count(before, path), au_count(after, path));
}

/* Waits until /backends shows every backend "up" and both replicas with
 * no GTID distance to the primary; returns that document. */
static json_t *backends_settled(unsigned port)
{
    json_t *doc = NULL;
    for (unsigned waited = 0;; waited += 50) {
        doc = au_get(port, "/backends");
        bool ok = json_array_size(json_object_get(doc, "backends")) == N_BACKENDS;
        for (size_t i = 0; ok && i < N_BACKENDS; i++) {
            json_t *b = json_array_get(json_object_get(doc, "backends"), i);
            const char *state = json_string_value(json_object_get(b, "state"));
            ok = state && strcmp(state, "up") == 0;
            if (ok && i > 0) {
                json_t *tx = au_at(b, "lag.transactions");
                ok = json_is_integer(tx) && json_integer_value(tx) == 0;
            }
        }
        if (ok)
            return doc;
        if (waited >= SETTLE_MS) {
            char *text = json_dumps(doc, JSON_INDENT(1));
            fail_msg("/backends not all up with lag.transactions 0 after %u ms: %s", waited, text);
        }
        json_decref(doc);
        proxy_sleep_ms(50);
    }
}

/* POST path on port; the JSON answer with status want. */
static json_t *post(unsigned port, const char *path, long want)
{
    return au_json(port, "POST", path, NULL, want);
}

static void set_admin(const char *name, const char *action, const char *previous)
{
    char path[128];
    snprintf(path, sizeof path, "/backends/%s/%s", name, action);
    json_t *r = post(px.admin_port, path, 200);
    static const struct au_field f[] = {
        {"backend", AU_STR}, {"admin_state", AU_STR}, {"previous", AU_STR}};
    AU_FIELDS(r, "", f);
    au_expect_str(r, "backend", name);
    au_expect_str(r, "admin_state", strcmp(action, "drain") == 0 ? "draining" : action);
    if (previous)
        au_expect_str(r, "previous", previous);
    json_decref(r);
}

/* Waits (3 s at most) until the proxy has no client session: the ones an
 * earlier test closed are gone a moment after their client saw them go,
 * and must not move counters between two snapshots. */
static void wait_no_clients(void)
{
    for (unsigned waited = 0;; waited += 20) {
        json_t *st = au_get(px.admin_port, "/status");
        uint64_t cur = au_count(st, "clients.current");
        json_decref(st);
        if (cur == 0)
            return;
        if (waited >= 3000)
            fail_msg("%" PRIu64 " client sessions still open after 3 s", cur);
        proxy_sleep_ms(20);
    }
}

/* The local "127.0.0.1:port" of m's connection: /sessions' "client". */
static void client_addr(MYSQL *m, char *out, size_t len)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname((int)mysql_get_socket(m), (struct sockaddr *)&sa, &sl), 0);
    snprintf(out, len, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
}

/* ---- 1. shape ---- */

static const struct au_field status_fields[] = {
    {"version", AU_STR},      {"started_at", AU_STR},
    {"uptime_ms", AU_INT},    {"workers", AU_INT},
    {"draining", AU_BOOL},    {"flavor", AU_STR},
    {"clients", AU_OBJ},      {"queries", AU_OBJ},
    {"client_bytes", AU_OBJ}, {"client_buffered_bytes", AU_INT},
    {"writes_gtid", AU_STR},  {"topology", AU_OBJ},
    {"query_rules", AU_OBJ},  {"config", AU_OBJ},
};
static const struct au_field query_rules_fields[] = {{"memo_hits", AU_INT},
                                                     {"memo_misses", AU_INT},
                                                     {"memo_evictions", AU_INT},
                                                     {"limit_hits", AU_INT},
                                                     {"errors", AU_INT}};
static const struct au_field topology_fields[] = {{"primary", AU_STR},
                                                  {"state", AU_STR},
                                                  {"reason", AU_STR},
                                                  {"since", AU_STR | AU_NULL},
                                                  {"primaries_followed", AU_INT}};
static const struct au_field clients_fields[] = {
    {"current", AU_INT}, {"total", AU_INT}, {"rejected", AU_INT}};
static const struct au_field queries_fields[] = {
    {"primary", AU_INT}, {"replica", AU_INT}, {"proxy", AU_INT}};
static const struct au_field bytes_fields[] = {{"in", AU_INT}, {"out", AU_INT}};
static const struct au_field status_config_fields[] = {{"file", AU_STR | AU_NULL},
                                                       {"loaded_at", AU_STR},
                                                       {"reloads", AU_INT},
                                                       {"reload_failures", AU_INT}};

static const struct au_field backend_fields[] = {
    {"name", AU_STR},
    {"host", AU_STR},
    {"port", AU_INT},
    {"role", AU_STR},
    {"flavor", AU_STR | AU_NULL},
    {"version", AU_STR | AU_NULL},
    {"state", AU_STR},
    {"why", AU_STR | AU_NULL},
    {"admin_state", AU_STR},
    {"health", AU_STR},
    {"health_reason", AU_STR | AU_NULL},
    {"health_since", AU_STR | AU_NULL},
    {"health_transitions", AU_INT},
    {"read_only", AU_BOOL | AU_NULL},
    {"weight", AU_INT},
    {"replication", AU_OBJ | AU_NULL},
    {"lag", AU_OBJ},
    {"known_gtid", AU_STR},
    {"known_age_ms", AU_INT | AU_NULL},
    {"connections", AU_OBJ},
    {"commands", AU_INT},
    {"reads", AU_INT},
    {"waits", AU_OBJ},
    {"checks", AU_OBJ},
    {"last_error", AU_OBJ | AU_NULL},
};
static const struct au_field replication_fields[] = {{"io_running", AU_BOOL | AU_NULL},
                                                     {"sql_running", AU_BOOL | AU_NULL}};
static const struct au_field lag_fields[] = {{"seconds", AU_NUM | AU_NULL},
                                             {"transactions", AU_INT | AU_NULL}};
static const struct au_field connections_fields[] = {
    {"open", AU_INT}, {"opened", AU_INT}, {"connect_failures", AU_INT}};
static const struct au_field backend_waits_fields[] = {
    {"count", AU_INT}, {"timeouts", AU_INT}, {"total_ms", AU_NUM}, {"avg_ms", AU_NUM | AU_NULL}};
static const struct au_field checks_fields[] = {
    {"count", AU_INT}, {"failures", AU_INT}, {"last_ok_age_ms", AU_INT | AU_NULL}};
static const struct au_field last_error_fields[] = {
    {"message", AU_STR}, {"at", AU_STR}, {"source", AU_STR}};

static const struct au_field consistency_fields[] = {
    {"levels", AU_OBJ}, {"outcomes", AU_OBJ}, {"reads", AU_INT}, {"waits", AU_OBJ}};
static const struct au_field level_fields[] = {
    {"reads", AU_INT},          {"direct", AU_INT},
    {"waited", AU_INT},         {"fallback_primary", AU_INT},
    {"fallback_cache", AU_INT}, {"fallback_error", AU_INT},
    {"fallback_stale", AU_INT},
};
static const struct au_field outcome_fields[] = {
    {"direct", AU_INT},         {"waited", AU_INT},         {"fallback_primary", AU_INT},
    {"fallback_cache", AU_INT}, {"fallback_error", AU_INT}, {"fallback_stale", AU_INT},
};
static const struct au_field cons_waits_fields[] = {
    {"count", AU_INT},    {"reached", AU_INT},          {"timeouts", AU_INT},
    {"total_ms", AU_NUM}, {"avg_ms", AU_NUM | AU_NULL}, {"histogram", AU_ARR},
};
static const struct au_field bucket_fields[] = {{"le_ms", AU_NUM | AU_NULL}, {"count", AU_INT}};

static const struct au_field sessions_fields[] = {
    {"total", AU_INT}, {"offset", AU_INT}, {"limit", AU_INT}, {"sessions", AU_ARR}};
static const struct au_field session_fields[] = {
    {"id", AU_INT},
    {"worker", AU_INT},
    {"user", AU_STR | AU_NULL},
    {"client", AU_STR},
    {"schema", AU_STR | AU_NULL},
    {"state", AU_STR},
    {"in_transaction", AU_BOOL},
    {"transaction_backend", AU_STR | AU_NULL},
    {"pinned", AU_STR | AU_NULL},
    {"consistency", AU_STR},
    {"write_gtid", AU_STR},
    {"token_gtid", AU_STR},
    {"backend", AU_STR | AU_NULL},
    {"backends_open", AU_ARR},
    {"connected_ms", AU_INT},
    {"idle_ms", AU_INT},
    {"queries", AU_INT},
    {"bytes_in", AU_INT},
    {"bytes_out", AU_INT},
};

static void check_status_shape(json_t *st, const struct proxy_proc *p)
{
    AU_FIELDS(st, "", status_fields);
    AU_FIELDS(st, "clients", clients_fields);
    AU_FIELDS(st, "queries", queries_fields);
    AU_FIELDS(st, "client_bytes", bytes_fields);
    AU_FIELDS(st, "config", status_config_fields);
    AU_FIELDS(st, "topology", topology_fields);
    AU_FIELDS(st, "query_rules", query_rules_fields);
    au_expect_str(st, "topology.primary", "primary");
    au_expect_str(st, "topology.state", "stable");
    au_expect_str(st, "version", GTIDPROXY_VERSION);
    au_expect_time(st, "started_at");
    au_expect_time(st, "config.loaded_at");
    assert_int_equal(au_count(st, "workers"), 2);
    assert_false(json_is_true(au_at(st, "draining")));
    au_expect_str(st, "flavor", "mariadb");
    au_expect_str(st, "config.file", p->conf);
}

static void check_backend_shape(json_t *doc, size_t i)
{
    char path[64], sub[96];
    snprintf(path, sizeof path, "backends[%zu]", i);
    AU_FIELDS(doc, path, backend_fields);
#define SUB(field) (snprintf(sub, sizeof sub, "%s.%s", path, field), sub)
    if (json_is_object(au_at(doc, SUB("replication"))))
        AU_FIELDS(doc, SUB("replication"), replication_fields);
    AU_FIELDS(doc, SUB("lag"), lag_fields);
    AU_FIELDS(doc, SUB("connections"), connections_fields);
    AU_FIELDS(doc, SUB("waits"), backend_waits_fields);
    AU_FIELDS(doc, SUB("checks"), checks_fields);
    if (json_is_object(au_at(doc, SUB("last_error")))) {
        AU_FIELDS(doc, SUB("last_error"), last_error_fields);
        au_expect_time(doc, SUB("last_error.at"));
        const char *src = au_str(doc, SUB("last_error.source"));
        assert_true(strcmp(src, "monitor") == 0 || strcmp(src, "proxy") == 0);
    }
    /* avg_ms is null exactly when nothing waited. */
    uint64_t waits = au_count(doc, SUB("waits.count"));
    assert_int_equal(json_is_null(au_at(doc, SUB("waits.avg_ms"))), waits == 0);
#undef SUB
}

static const struct au_field cache_fields[] = {
    {"enabled", AU_BOOL},       {"max_bytes", AU_INT},      {"max_entry_bytes", AU_INT},
    {"entries", AU_INT},        {"bytes", AU_INT},          {"table_bytes", AU_INT},
    {"detached_bytes", AU_INT}, {"hits", AU_INT},           {"stale_serves", AU_INT},
    {"misses", AU_INT},         {"bypasses", AU_INT},       {"stores", AU_INT},
    {"replaced", AU_INT},       {"evictions", AU_INT},      {"refused_too_big", AU_INT},
};

/* GET /cache: every field, and when the cache is off every number 0 (so
 * scripts need no special case); when on, within its cap. px's config
 * says nothing about the cache, so this checks whichever the default is. */
static void check_cache_shape(json_t *c)
{
    AU_FIELDS(c, "", cache_fields);
    if (!json_is_true(au_at(c, "enabled"))) {
        for (size_t i = 1; i < sizeof cache_fields / sizeof cache_fields[0]; i++)
            assert_int_equal(au_count(c, cache_fields[i].key), 0);
        return;
    }
    assert_true(au_count(c, "max_bytes") > 0);
    assert_true(au_count(c, "bytes") <= au_count(c, "max_bytes"));
    assert_true(au_count(c, "table_bytes") <= au_count(c, "bytes"));
}

static void check_consistency_shape(json_t *c)
{
    AU_FIELDS(c, "", consistency_fields);
    AU_FIELDS(c, "outcomes", outcome_fields);
    AU_FIELDS(c, "waits", cons_waits_fields);
    assert_int_equal(json_object_size(au_at(c, "levels")), CU_LEVELS);
    uint64_t total = 0;
    for (int l = 0; l < CU_LEVELS; l++) {
        char path[64], p2[96];
        snprintf(path, sizeof path, "levels.%s", cu_level_names[l]);
        AU_FIELDS(c, path, level_fields);
        uint64_t sum = 0;
        for (int o = 0; o < CU_OUTCOMES; o++) {
            snprintf(p2, sizeof p2, "%s.%s", path, cu_outcome_names[o]);
            sum += au_count(c, p2);
        }
        snprintf(p2, sizeof p2, "%s.reads", path);
        assert_int_equal(au_count(c, p2), sum);
        total += sum;
    }
    uint64_t by_outcome = 0;
    for (int o = 0; o < CU_OUTCOMES; o++) {
        char path[64];
        snprintf(path, sizeof path, "outcomes.%s", cu_outcome_names[o]);
        by_outcome += au_count(c, path);
    }
    assert_int_equal(au_count(c, "reads"), total);
    assert_int_equal(by_outcome, total);
    assert_int_equal(au_count(c, "waits.count"),
                     au_count(c, "waits.reached") + au_count(c, "waits.timeouts"));
    json_t *hist = au_at(c, "waits.histogram");
    size_t n = json_array_size(hist);
    assert_true(n >= 2);
    double last = 0;
    uint64_t in_buckets = 0;
    for (size_t i = 0; i < n; i++) {
        char path[64], p2[96];
        snprintf(path, sizeof path, "waits.histogram[%zu]", i);
        AU_FIELDS(c, path, bucket_fields);
        snprintf(p2, sizeof p2, "%s.le_ms", path);
        if (i + 1 == n) {
            au_expect_null(c, p2); /* +Inf */
        } else {
            double le = au_num(c, p2);
            assert_true(le > last);
            last = le;
        }
        snprintf(p2, sizeof p2, "%s.count", path);
        in_buckets += au_count(c, p2);
    }
    /* Non-cumulative buckets: together they count every wait. */
    assert_int_equal(in_buckets, au_count(c, "waits.count"));
}

static void test_shapes(void **state)
{
    (void)state;
    skip_direct();
    proxy_sync_replicas(&px);
    MYSQL *m = session();
    char client[64];
    client_addr(m, client, sizeof client);

    json_t *st = au_get(px.admin_port, "/status");
    check_status_shape(st, &px);
    assert_true(au_count(st, "clients.current") >= 1);
    json_decref(st);

    /* Backends: config order, addresses, and the cluster as it is. */
    json_t *be = backends_settled(px.admin_port);
    AU_FIELDS(be, "", ((const struct au_field[]){{"backends", AU_ARR}}));
    for (size_t i = 0; i < N_BACKENDS; i++) {
        char path[96];
        check_backend_shape(be, i);
        bool replica = i > 0;
#define P(field) (snprintf(path, sizeof path, "backends[%zu].%s", i, field), path)
        au_expect_str(be, P("name"), backend_names[i]);
        au_expect_str(be, P("host"), env.host);
        assert_int_equal(au_count(be, P("port")),
                         replica ? env.replica_ports[i - 1] : env.primary_port);
        au_expect_str(be, P("role"), replica ? "replica" : "primary");
        au_expect_str(be, P("flavor"), "mariadb");
        assert_non_null(strstr(au_str(be, P("version")), "MariaDB"));
        au_expect_null(be, P("why"));
        au_expect_str(be, P("admin_state"), "online");
        au_expect_str(be, P("health"), "up");
        assert_int_equal(json_is_true(au_expect(be, P("read_only"), AU_BOOL)), replica);
        assert_int_equal(au_count(be, P("weight")), 1);
        au_expect(be, P("known_age_ms"), AU_INT);
        au_expect(be, P("checks.last_ok_age_ms"), AU_INT);
        assert_true(au_count(be, P("checks.count")) > 0);
        const char *known = au_str(be, P("known_gtid"));
        assert_true(known[0] != '\0'); /* the group setup wrote */
        if (!replica) {
            au_expect_null(be, P("replication"));
            au_expect_null(be, P("lag.seconds"));
            au_expect_null(be, P("lag.transactions"));
        } else {
            assert_true(json_is_true(au_expect(be, P("replication.io_running"), AU_BOOL)));
            assert_true(json_is_true(au_expect(be, P("replication.sql_running"), AU_BOOL)));
            assert_true(au_num(be, P("lag.seconds")) >= 0);
            assert_int_equal(au_count(be, P("lag.transactions")), 0);
        }
#undef P
    }
    json_decref(be);

    json_t *c = au_get(px.admin_port, "/consistency");
    check_consistency_shape(c);
    json_decref(c);

    json_t *cache = au_get(px.admin_port, "/cache");
    check_cache_shape(cache);
    json_decref(cache);

    json_t *cfg = au_get(px.admin_port, "/config");
    assert_true(json_is_object(cfg));
    json_decref(cfg);

    json_t *ss = au_get(px.admin_port, "/sessions");
    AU_FIELDS(ss, "", sessions_fields);
    assert_int_equal(au_count(ss, "offset"), 0);
    assert_int_equal(au_count(ss, "limit"), 100);
    size_t n = json_array_size(au_at(ss, "sessions"));
    assert_int_equal(au_count(ss, "total"), n);
    bool mine = false;
    for (size_t i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "sessions[%zu]", i);
        AU_FIELDS(ss, path, session_fields);
        snprintf(path, sizeof path, "sessions[%zu].client", i);
        mine |= strcmp(au_str(ss, path), client) == 0;
    }
    assert_true(mine);
    json_decref(ss);

    struct au_resp r;
    au_http(px.admin_port, "GET", "/metrics", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
    assert_non_null(strstr(r.body, "# TYPE gtidproxy_info gauge"));
    au_resp_free(&r);
    session_close(m);
}

/* ---- 2. counters move exactly ---- */

struct snap {
    json_t *status, *backends, *cons;
};

static void snap_take(struct snap *s)
{
    s->status = au_get(px.admin_port, "/status");
    s->backends = au_get(px.admin_port, "/backends");
    s->cons = au_get(px.admin_port, "/consistency");
}

static void snap_free(struct snap *s)
{
    json_decref(s->status);
    json_decref(s->backends);
    json_decref(s->cons);
    memset(s, 0, sizeof *s);
}

/* Every level x (reads + outcome) and every outcome moved by 0, except
 * level `lvl`'s reads and outcome `out` by 1 (lvl < 0: none moved). */
static void expect_gate_delta(struct snap *a, struct snap *b, int lvl, int out)
{
    char path[96];
    for (int l = 0; l < CU_LEVELS; l++) {
        snprintf(path, sizeof path, "levels.%s.reads", cu_level_names[l]);
        expect_delta(a->cons, b->cons, path, l == lvl);
        for (int o = 0; o < CU_OUTCOMES; o++) {
            snprintf(path, sizeof path, "levels.%s.%s", cu_level_names[l], cu_outcome_names[o]);
            expect_delta(a->cons, b->cons, path, l == lvl && o == out);
        }
    }
    for (int o = 0; o < CU_OUTCOMES; o++) {
        snprintf(path, sizeof path, "outcomes.%s", cu_outcome_names[o]);
        expect_delta(a->cons, b->cons, path, lvl >= 0 && o == out);
    }
    expect_delta(a->cons, b->cons, "reads", lvl >= 0);
    expect_delta(a->cons, b->cons, "waits.count", 0);
}

/* Each backend's reads and commands moved by the given amounts. */
static void expect_backend_delta(struct snap *a, struct snap *b, const char *name, int reads,
                                 int commands)
{
    for (size_t i = 0; i < N_BACKENDS; i++) {
        char path[96];
        bool it = strcmp(backend_names[i], name) == 0;
        size_t ia = backend_index(a->backends, backend_names[i]);
        assert_int_equal(ia, backend_index(b->backends, backend_names[i]));
        snprintf(path, sizeof path, "backends[%zu].reads", ia);
        expect_delta(a->backends, b->backends, path, it ? reads : 0);
        snprintf(path, sizeof path, "backends[%zu].commands", ia);
        expect_delta(a->backends, b->backends, path, it ? commands : 0);
    }
}

static void test_counters_move_exactly(void **state)
{
    (void)state;
    skip_direct();
    wait_no_clients();
    struct snap before, after;
    snap_take(&before);

    /* One read on a fresh session at level eventual. The SET is answered
     * by the proxy itself: queries.proxy +1. */
    MYSQL *m = session();
    cluster_exec(m, "SET gtidproxy_consistency = 'eventual'");
    unsigned id = proxy_server_id(m);
    const char *served = backend_of(id);
    printf("the eventual read was served by %s\n", served);
    assert_int_not_equal(id, CU_PRIMARY_ID);
    snap_take(&after);

    expect_delta(after.status, before.status, "queries.replica", 1);
    expect_delta(after.status, before.status, "queries.primary", 0);
    expect_delta(after.status, before.status, "queries.proxy", 1);
    expect_delta(after.status, before.status, "clients.total", 1);
    expect_delta(after.status, before.status, "clients.current", 1);
    assert_true(delta(after.status, before.status, "client_bytes.in") > 0);
    assert_true(delta(after.status, before.status, "client_bytes.out") > 0);
    expect_backend_delta(&after, &before, served, 1, 1);
    expect_gate_delta(&after, &before, CU_EVENTUAL, CU_DIRECT);
    snap_free(&before);
    snap_free(&after);

    /* One write: the primary, and the proxy-wide write set moves to the
     * primary's newest GTID (nothing else writes meanwhile). */
    snap_take(&before);
    cluster_exec(m, "INSERT INTO " DB ".adm_t (v) VALUES ('counters')");
    snap_take(&after);
    expect_delta(after.status, before.status, "queries.primary", 1);
    expect_delta(after.status, before.status, "queries.replica", 0);
    expect_delta(after.status, before.status, "queries.proxy", 0);
    expect_backend_delta(&after, &before, "primary", 0, 1);
    expect_gate_delta(&after, &before, -1, 0);
    const char *w_before = au_str(before.status, "writes_gtid");
    const char *w_after = au_str(after.status, "writes_gtid");
    assert_string_not_equal(w_before, w_after);
    MYSQL *p = cluster_connect(&env, 0);
    char *pos = cluster_query_value(p, "SELECT @@gtid_binlog_pos");
    mysql_close(p);
    printf("writes_gtid %s -> %s (primary at %s)\n", w_before, w_after, pos);
    assert_string_equal(w_after, pos);
    free(pos);
    snap_free(&before);
    snap_free(&after);
    session_close(m);
}

/* ---- 3. /metrics ---- */

/* Runs `promtool check metrics` on text; fails the test with its output
 * unless it exits 0. */
static void promtool_check(const char *text, size_t len)
{
    char file[] = "/tmp/gtidproxy-it-metrics-XXXXXX";
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    char cmd[256], out[4096];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1", file);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    unlink(file);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("promtool check metrics: status 0x%x:\n%s", (unsigned)st, out);
}

static void test_metrics(void **state)
{
    (void)state;
    skip_direct();
    /* Some reads first, so the compared counters are not all zero. */
    MYSQL *m = session();
    cluster_exec(m, "SET gtidproxy_consistency = 'eventual'");
    for (int i = 0; i < 5; i++)
        (void)proxy_server_id(m);
    session_close(m);

    struct au_resp r;
    au_http(px.admin_port, "GET", "/metrics", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    json_t *cons = au_get(px.admin_port, "/consistency");
    json_t *st = au_get(px.admin_port, "/status");
    promtool_check(r.body, r.len);

    char series[160];
    /* The gate's counters, all 5 x 6 of them, as /consistency has them. */
    assert_int_equal(au_metric_lines(r.body, "gtidproxy_reads_total{"), CU_LEVELS * CU_OUTCOMES);
    for (int l = 0; l < CU_LEVELS; l++) {
        for (int o = 0; o < CU_OUTCOMES; o++) {
            char path[96];
            snprintf(series, sizeof series, "gtidproxy_reads_total{level=\"%s\",outcome=\"%s\"}",
                     cu_level_names[l], cu_outcome_names[o]);
            snprintf(path, sizeof path, "levels.%s.%s", cu_level_names[l], cu_outcome_names[o]);
            assert_true(au_metric(r.body, series) == (double)au_count(cons, path));
        }
    }
    assert_true(au_metric(r.body, "gtidproxy_reads_total{level=\"eventual\",outcome=\"direct\"}") >=
                5);
    static const char *const routes[] = {"primary", "replica", "proxy"};
    for (size_t i = 0; i < 3; i++) {
        char path[64];
        snprintf(series, sizeof series, "gtidproxy_queries_total{route=\"%s\"}", routes[i]);
        snprintf(path, sizeof path, "queries.%s", routes[i]);
        assert_true(au_metric(r.body, series) == (double)au_count(st, path));
    }
    snprintf(series, sizeof series, "gtidproxy_info{version=\"%s\",flavor=\"mariadb\"}",
             GTIDPROXY_VERSION);
    assert_true(au_metric(r.body, series) == 1);
    /* A backend label per backend: up, and one state series per state with
     * exactly one of them 1. */
    static const char *const states[] = {"offline", "draining", "down", "unknown", "lagging", "up"};
    for (size_t i = 0; i < N_BACKENDS; i++) {
        snprintf(series, sizeof series, "gtidproxy_backend_up{backend=\"%s\",role=\"%s\"}",
                 backend_names[i], i ? "replica" : "primary");
        assert_true(au_metric(r.body, series) == 1);
        double ones = 0;
        for (size_t s = 0; s < sizeof states / sizeof states[0]; s++) {
            snprintf(series, sizeof series, "gtidproxy_backend_state{backend=\"%s\",state=\"%s\"}",
                     backend_names[i], states[s]);
            ones += au_metric(r.body, series);
        }
        assert_true(ones == 1);
        snprintf(series, sizeof series, "gtidproxy_backend_reads_total{backend=\"%s\"}",
                 backend_names[i]);
        (void)au_metric(r.body, series);
    }
    assert_int_equal(au_metric_lines(r.body, "gtidproxy_backend_up{"), N_BACKENDS);
    /* The cache families are there whether the cache is on or off, with
     * /cache's numbers (nothing reads through the cache meanwhile). */
    json_t *cache = au_get(px.admin_port, "/cache");
    assert_true(au_metric(r.body, "gtidproxy_cache_max_bytes") ==
                (double)au_count(cache, "max_bytes"));
    assert_true(au_metric(r.body, "gtidproxy_cache_refused_total") ==
                (double)au_count(cache, "refused_too_big"));
    static const char *const outcomes[][2] = {
        {"hit", "hits"}, {"stale", "stale_serves"}, {"miss", "misses"}, {"bypass", "bypasses"}};
    for (size_t i = 0; i < 4; i++) {
        snprintf(series, sizeof series, "gtidproxy_cache_lookups_total{outcome=\"%s\"}",
                 outcomes[i][0]);
        assert_true(au_metric(r.body, series) == (double)au_count(cache, outcomes[i][1]));
    }
    json_decref(cache);
    json_decref(cons);
    json_decref(st);
    au_resp_free(&r);
}

/* ---- 4. offline / online / drain ---- */

/* One read on a new session: the server id that served it. */
static unsigned new_session_read(void)
{
    MYSQL *m = session();
    unsigned id = proxy_server_id(m);
    session_close(m);
    return id;
}

static void expect_backend_state(const char *name, const char *state, const char *admin,
                                 const char *why)
{
    json_t *be = au_get(px.admin_port, "/backends");
    json_t *s = backend_field(be, name, "state");
    json_t *a = backend_field(be, name, "admin_state");
    json_t *w = backend_field(be, name, "why");
    if (!json_is_string(s) || strcmp(json_string_value(s), state) != 0 || !json_is_string(a) ||
        strcmp(json_string_value(a), admin) != 0)
        fail_msg("%s: state %s admin_state %s, expected %s / %s", name,
                 json_is_string(s) ? json_string_value(s) : "?",
                 json_is_string(a) ? json_string_value(a) : "?", state, admin);
    if (why)
        assert_string_equal(json_string_value(w), why);
    else
        assert_true(json_is_null(w));
    json_decref(be);
}

static void test_offline_online(void **state)
{
    (void)state;
    skip_direct();
    MYSQL *m = session();
    unsigned x = proxy_server_id(m);
    assert_int_not_equal(x, CU_PRIMARY_ID);
    const char *name = backend_of(x);
    printf("the session read from %s; taking it offline\n", name);

    set_admin(name, "offline", "online");
    for (int i = 0; i < AVOID_READS; i++) {
        unsigned id = proxy_server_id(m);
        if (id == x)
            fail_msg("read %d of the session after offline went to %s", i + 1, name);
    }
    for (int i = 0; i < AVOID_READS; i++) {
        unsigned id = new_session_read();
        if (id == x)
            fail_msg("new session %d after offline read from %s", i + 1, name);
    }
    expect_backend_state(name, "offline", "offline", "taken offline by the admin API");

    set_admin(name, "online", "offline");
    int found = 0;
    for (int i = 0; i < RETURN_READS && !found; i++)
        found = new_session_read() == x ? i + 1 : 0;
    printf("back online: new session %d read from %s\n", found, name);
    assert_true(found > 0);
    expect_backend_state(name, "up", "online", NULL);
    session_close(m);
}

static void test_drain(void **state)
{
    (void)state;
    skip_direct();
    const char *name = "replica1";
    unsigned x = 2;
    /* A session that holds a connection to replica1: it read there. */
    MYSQL *d = NULL;
    for (int i = 0; i < RETURN_READS && !d; i++) {
        MYSQL *m = session();
        if (proxy_server_id(m) == x)
            d = m;
        else
            session_close(m);
    }
    assert_non_null(d);

    set_admin(name, "drain", "online");
    unsigned there = 0;
    for (int i = 0; i < AVOID_READS; i++)
        there += proxy_server_id(d) == x; /* may still read there; must not fail */
    printf("draining %s: the old session read there %u of %d times\n", name, there, AVOID_READS);
    for (int i = 0; i < AVOID_READS; i++) {
        if (new_session_read() == x)
            fail_msg("new session %d read from draining %s", i + 1, name);
    }
    expect_backend_state(name, "draining", "draining", "draining: no new sessions read here");
    set_admin(name, "online", "draining");
    expect_backend_state(name, "up", "online", NULL);
    session_close(d);
}

static void expect_error(unsigned port, const char *method, const char *path, long status,
                         const char *allow, const char *needle)
{
    struct au_resp r;
    au_http(port, method, path, NULL, NULL, 0, &r);
    if (r.status != status || !r.json)
        fail_msg("%s %s: %ld %s, expected %ld with a JSON error", method, path, r.status, r.body,
                 status);
    assert_string_equal(r.ctype, "application/json");
    const char *err = json_string_value(json_object_get(r.json, "error"));
    assert_non_null(err);
    assert_int_equal(json_integer_value(json_object_get(r.json, "status")), status);
    if (needle && !strstr(err, needle))
        fail_msg("%s %s: error \"%s\" does not mention \"%s\"", method, path, err, needle);
    if (allow)
        assert_string_equal(r.allow, allow);
    printf("%s %s -> %ld %s\n", method, path, r.status, err);
    au_resp_free(&r);
}

static void test_control_errors(void **state)
{
    (void)state;
    skip_direct();
    unsigned a = px.admin_port;
    expect_error(a, "POST", "/backends/primary/offline", 409, NULL, "primary");
    expect_error(a, "POST", "/backends/primary/drain", 409, NULL, "primary");
    set_admin("primary", "online", "online"); /* always allowed */
    expect_error(a, "POST", "/backends/nosuch/offline", 404, NULL, "nosuch");
    expect_error(a, "GET", "/backends/replica1/offline", 405, "POST", NULL);
    expect_error(a, "GET", "/config/reload", 405, "POST", NULL);
    expect_error(a, "POST", "/status", 405, "GET", NULL);
    expect_backend_state("primary", "up", "online", NULL);
    expect_backend_state("replica1", "up", "online", NULL);
}

/* ---- 5. bad requests under a client load ---- */

static struct load {
    bool started;
    const struct proxy_proc *p;
    atomic_bool stop;
    unsigned ops, errors;
    char first_err[256];
    pthread_t thread;
} load;

static void load_error(struct load *l, const char *what, MYSQL *m)
{
    if (l->errors++ == 0)
        snprintf(l->first_err, sizeof l->first_err, "%s: %u %s", what, m ? mysql_errno(m) : 0,
                 m ? mysql_error(m) : "no connection");
}

/* A client through the proxy: a write and a read of it, again and again. */
static void *load_main(void *arg)
{
    struct load *l = arg;
    MYSQL *m = cu_proxy_connect_try(l->p, DB, 0);
    if (!m) {
        load_error(l, "connect", NULL);
        return NULL;
    }
    for (unsigned i = 0; !atomic_load(&l->stop); i++) {
        char sql[128], val[64], msg[256];
        bool is_null;
        snprintf(sql, sizeof sql, "INSERT INTO adm_load (v) VALUES (%u)", i);
        if (cu_exec_try(m, sql) != 0) {
            load_error(l, "insert", m);
            continue;
        }
        if (cu_read_try(m, "SELECT COUNT(*), @@server_id FROM adm_load", val, sizeof val, &is_null,
                        NULL, msg, sizeof msg) != 0) {
            load_error(l, "select", m);
            continue;
        }
        l->ops++;
        proxy_sleep_ms(2);
    }
    /* Not session_close(): session() never registered this connection, and
     * open_sessions[] belongs to the main thread. */
    mysql_close(m);
    return NULL;
}

static void load_start(const struct proxy_proc *p)
{
    assert_false(load.started);
    memset(&load, 0, sizeof load);
    load.p = p;
    atomic_init(&load.stop, false);
    assert_int_equal(pthread_create(&load.thread, NULL, load_main, &load), 0);
    load.started = true;
}

static void load_stop(void)
{
    if (!load.started)
        return;
    atomic_store(&load.stop, true);
    pthread_join(load.thread, NULL);
    load.started = false;
}

static void expect_raw(const char *what, const char *req, const char *status_line)
{
    struct au_raw r;
    au_raw_request(px.admin_port, req, strlen(req), 3000, &r);
    printf("%s -> %s%.*s\n", what, r.len ? "" : "(nothing) ", (int)strcspn(r.data, "\r\n"), r.data);
    if (status_line) {
        if (strncmp(r.data, status_line, strlen(status_line)) != 0)
            fail_msg("%s: answered \"%.80s\", expected \"%s\"", what, r.data, status_line);
    } else if (r.len != 0) {
        fail_msg("%s: answered \"%.80s\", expected no answer", what, r.data);
    }
    /* libmicrohttpd closes the connection after a request it rejects. */
    if (!r.closed)
        fail_msg("%s: the connection is still open after %s", what,
                 r.timed_out ? "3 s" : "the answer");
}

static void test_bad_requests_under_load(void **state)
{
    (void)state;
    skip_direct();
    unsigned a = px.admin_port;
    json_t *st0 = au_get(a, "/status");
    load_start(&px);
    proxy_sleep_ms(200);

    /* Malformed HTTP: libmicrohttpd answers (its own HTML body) or closes. */
    expect_raw("a header line without a colon",
               "GET /status HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", "HTTP/1.1 400 ");
    expect_raw("a malformed HTTP version", "GET /status HTTP/1\r\nHost: x\r\n\r\n",
               "HTTP/1.1 400 ");
    expect_raw("an unknown HTTP version", "GET /status HTTP/9.9\r\nHost: x\r\n\r\n",
               "HTTP/1.1 505 ");
    expect_raw("a request line without a path", "GET\r\n\r\n", NULL);

    /* A client that sent garbage and waits does not hold up the others. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    static const char garbage[] = "\0\x01garbage\r\n\r\n";
    assert_int_equal(send(fd, garbage, sizeof garbage - 1, MSG_NOSIGNAL), sizeof garbage - 1);
    json_decref(au_get(a, "/status"));
    close(fd);

    expect_error(a, "GET", "/no/such/path", 404, NULL, "/no/such/path");

    /* 1 MB bodies: announced (Content-Length: refused before reading) and
     * chunked (refused once past the limit). Neither reaches the handler. */
    char *big = malloc(BIG_BODY);
    assert_non_null(big);
    memset(big, 'x', BIG_BODY);
    for (int chunked = 0; chunked <= 1; chunked++) {
        struct au_resp r;
        if (au_http_try(a, "POST", "/config/reload", NULL, big, BIG_BODY, chunked, &r) != 0)
            fail_msg("1 MB POST (%s): %s", chunked ? "chunked" : "Content-Length", r.err);
        printf("1 MB POST /config/reload (%s) -> %ld %s", chunked ? "chunked" : "Content-Length",
               r.status, r.body);
        assert_int_equal(r.status, 413);
        assert_non_null(r.json);
        assert_true(json_is_string(json_object_get(r.json, "error")));
        assert_int_equal(json_integer_value(json_object_get(r.json, "status")), 413);
        au_resp_free(&r);
    }
    free(big);

    /* A proxy with a token: every path needs it. */
    start_proxy(&tok_px, "{\"admin\": {\"token\": \"" TOKEN "\"}}");
    static const struct {
        const char *method, *path, *token;
    } denied[] = {
        {"GET", "/status", NULL},
        {"GET", "/status", "wrong"},
        {"GET", "/status", (TOKEN "x")},
        {"GET", "/metrics", NULL},
        {"GET", "/no/such/path", NULL},
        {"POST", "/backends/replica1/offline", NULL},
        {"POST", "/config/reload", "s3cre"},
    };
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        struct au_resp r;
        au_http(tok_px.admin_port, denied[i].method, denied[i].path, denied[i].token, NULL, 0, &r);
        printf("%s %s token %s -> %ld\n", denied[i].method, denied[i].path,
               denied[i].token ? denied[i].token : "(none)", r.status);
        assert_int_equal(r.status, 401);
        assert_string_equal(r.ctype, "application/json");
        assert_non_null(r.json);
        assert_true(json_is_string(json_object_get(r.json, "error")));
        assert_int_equal(json_integer_value(json_object_get(r.json, "status")), 401);
        assert_int_equal(strncmp(r.www_auth, "Bearer", 6), 0);
        au_resp_free(&r);
    }
    json_t *ok = au_json(tok_px.admin_port, "GET", "/backends", TOKEN, 200);
    au_expect_str(ok, "backends[1].admin_state", "online"); /* the 401 POST did nothing */
    json_decref(ok);
    proxy_stop(&tok_px);

    /* Nothing of it reached the handlers or hurt the data plane. */
    json_t *st1 = au_get(a, "/status");
    expect_delta(st1, st0, "config.reloads", 0);
    expect_delta(st1, st0, "config.reload_failures", 0);
    json_decref(st0);
    json_decref(st1);
    load_stop();
    printf("client load: %u write+read rounds, %u errors%s%s\n", load.ops, load.errors,
           load.errors ? "; first: " : "", load.first_err);
    assert_int_equal(load.errors, 0);
    assert_true(load.ops > 0);
    MYSQL *m = session();
    char *one = cluster_query_value(m, "SELECT 1");
    assert_string_equal(one, "1");
    free(one);
    session_close(m);
}

/* ---- 6. /sessions ---- */

/* /sessions once it lists exactly `want` sessions (closed ones go a moment
 * after their client saw them closed). */
static json_t *sessions_when(unsigned want, const char *query)
{
    char path[128];
    snprintf(path, sizeof path, "/sessions%s", query);
    for (unsigned waited = 0;; waited += 20) {
        json_t *doc = au_get(px.admin_port, path);
        if (au_count(doc, "total") == want)
            return doc;
        if (waited >= 3000)
            fail_msg("/sessions: total %" PRIu64 ", expected %u", au_count(doc, "total"), want);
        json_decref(doc);
        proxy_sleep_ms(20);
    }
}

/* The entry of the session whose client address is client. */
static json_t *session_entry(json_t *doc, const char *client)
{
    json_t *list = au_expect(doc, "sessions", AU_ARR);
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *s = json_array_get(list, i);
        const char *c = json_string_value(json_object_get(s, "client"));
        if (c && strcmp(c, client) == 0)
            return s;
    }
    fail_msg("/sessions has no session from %s", client);
    return NULL;
}

static json_t *my_session(MYSQL *m, json_t **doc_out)
{
    char client[64];
    client_addr(m, client, sizeof client);
    *doc_out = sessions_when(3, "");
    return session_entry(*doc_out, client);
}

static void test_sessions(void **state)
{
    (void)state;
    skip_direct();
    MYSQL *ms[3];
    for (int i = 0; i < 3; i++)
        ms[i] = session();
    MYSQL *m = ms[0];

    json_t *doc;
    json_t *s = my_session(m, &doc);
    au_expect_str(s, "user", env.app_user);
    au_expect_str(s, "schema", DB);
    au_expect_str(s, "state", "IDLE");
    au_expect_str(s, "consistency", "session");
    au_expect_str(s, "write_gtid", "");
    assert_false(json_is_true(au_at(s, "in_transaction")));
    assert_true(au_count(s, "worker") < 2);
    json_decref(doc);

    cluster_exec(m, "INSERT INTO adm_t (v) VALUES ('sessions')");
    char *token = cluster_query_value(m, "SELECT @@gtidproxy_token");
    s = my_session(m, &doc);
    printf("after the INSERT: write_gtid \"%s\", @@gtidproxy_token \"%s\"\n",
           au_str(s, "write_gtid"), token);
    assert_true(token[0] != '\0');
    au_expect_str(s, "write_gtid", token);
    json_decref(doc);
    json_t *st = au_get(px.admin_port, "/status");
    au_expect_str(st, "writes_gtid", token);
    json_decref(st);
    free(token);

    cluster_exec(m, "BEGIN");
    s = my_session(m, &doc);
    assert_true(json_is_true(au_expect(s, "in_transaction", AU_BOOL)));
    au_expect_str(s, "transaction_backend", "primary");
    json_decref(doc);
    cluster_exec(m, "COMMIT");
    s = my_session(m, &doc);
    assert_false(json_is_true(au_expect(s, "in_transaction", AU_BOOL)));
    au_expect_null(s, "transaction_backend");
    json_decref(doc);

    /* Paging: 3 sessions, limit 2 -> 2 + 1, ordered by id, all of them. */
    json_t *p1 = sessions_when(3, "?limit=2");
    json_t *p2 = sessions_when(3, "?offset=2&limit=2");
    assert_int_equal(au_count(p1, "limit"), 2);
    assert_int_equal(au_count(p2, "offset"), 2);
    assert_int_equal(json_array_size(au_at(p1, "sessions")), 2);
    assert_int_equal(json_array_size(au_at(p2, "sessions")), 1);
    uint64_t ids[3] = {au_count(p1, "sessions[0].id"), au_count(p1, "sessions[1].id"),
                       au_count(p2, "sessions[0].id")};
    assert_true(ids[0] < ids[1] && ids[1] < ids[2]);
    const char *listed[3] = {au_str(p1, "sessions[0].client"), au_str(p1, "sessions[1].client"),
                             au_str(p2, "sessions[0].client")};
    for (int i = 0; i < 3; i++) {
        char client[64];
        client_addr(ms[i], client, sizeof client);
        bool seen = false;
        for (int k = 0; k < 3; k++)
            seen |= strcmp(listed[k], client) == 0;
        if (!seen)
            fail_msg("session %d (%s) is on neither page", i, client);
    }
    json_decref(p1);
    json_decref(p2);

    expect_error(px.admin_port, "GET", "/sessions?limit=abc", 400, NULL, "limit");
    expect_error(px.admin_port, "GET", "/sessions?offset=-1", 400, NULL, "offset");
    expect_error(px.admin_port, "GET", "/sessions?limit=1001", 400, NULL, "limit");
    for (int i = 0; i < 3; i++)
        session_close(ms[i]);
}

/* ---- 7. /config ---- */

static void test_config_redacted(void **state)
{
    (void)state;
    skip_direct();
    struct au_resp r;
    au_http(px.admin_port, "GET", "/config", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(r.json);
    static const struct au_field top[] = {
        {"listeners", AU_ARR},
        {"admin", AU_OBJ},
        {"backends", AU_ARR},
        {"users", AU_ARR},
        {"backend_credentials", AU_OBJ},
        {"monitor", AU_OBJ},
        {"topology", AU_OBJ},
        {"consistency", AU_OBJ},
        {"workers", AU_INT},
        {"limits", AU_OBJ},
        {"timeouts", AU_OBJ},
        {"logging", AU_OBJ},
        {"cache", AU_OBJ},
        {"query_rules", AU_ARR},
    };
    AU_FIELDS(r.json, "", top);
    au_expect_str(r.json, "users[0].name", env.app_user);
    au_expect_str(r.json, "users[0].password", "<redacted>");
    au_expect_str(r.json, "users[1].password", "<redacted>");
    au_expect_str(r.json, "backend_credentials.password", "<redacted>");
    au_expect_str(r.json, "monitor.password", "<redacted>");
    au_expect_null(r.json, "admin.token"); /* not set: null, not "<redacted>" */
    const char *secrets[] = {env.app_password, env.admin_password, "monitor_pw",
                             getenv("GTIDPROXY_MONITOR_PASSWORD")};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        if (secrets[i] && *secrets[i] && strstr(r.body, secrets[i]))
            fail_msg("/config shows the password \"%s\"", secrets[i]);
    }
    /* The running value: what proxy_env wrote into the file. */
    json_t *file = json_load_file(px.conf, 0, NULL);
    assert_non_null(file);
    assert_int_equal(au_count(r.json, "consistency.wait_timeout_ms"),
                     au_count(file, "consistency.wait_timeout_ms"));
    assert_int_equal(au_count(r.json, "admin.port"), px.admin_port);
    json_decref(file);
    au_resp_free(&r);
}

/* ---- 8. POST /config/reload, SIGHUP ---- */

static void write_conf(const struct proxy_proc *p, json_t *cfg)
{
    assert_int_equal(json_dump_file(cfg, p->conf, JSON_INDENT(2) | JSON_SORT_KEYS), 0);
}

static void expect_changed(json_t *rep, const char *path)
{
    assert_true(json_is_true(au_expect(rep, "reloaded", AU_BOOL)));
    json_t *changed = au_expect(rep, "changed", AU_ARR);
    au_expect(rep, "not_applied", AU_ARR);
    if (json_array_size(changed) != 1 || strcmp(au_str(rep, "changed[0]"), path) != 0) {
        char *text = json_dumps(changed, 0);
        fail_msg("changed: %s, expected [\"%s\"]", text, path);
    }
    assert_int_equal(json_array_size(au_at(rep, "not_applied")), 0);
}

static void test_config_reload(void **state)
{
    (void)state;
    skip_direct();
    start_proxy(&rel_px, NULL);
    unsigned a = rel_px.admin_port;
    json_t *cfg = json_load_file(rel_px.conf, 0, NULL);
    assert_non_null(cfg);
    json_t *st0 = au_get(a, "/status");
    assert_int_equal(au_count(st0, "config.reloads"), 0);

    /* One key changed. */
    uint64_t old_wait = au_count(cfg, "consistency.wait_timeout_ms");
    uint64_t new_wait = old_wait + 121;
    json_object_set_new(au_at(cfg, "consistency"), "wait_timeout_ms",
                        json_integer((json_int_t)new_wait));
    write_conf(&rel_px, cfg);
    json_t *rep = post(a, "/config/reload", 200);
    expect_changed(rep, "consistency.wait_timeout_ms");
    json_decref(rep);
    json_t *c = au_get(a, "/config");
    assert_int_equal(au_count(c, "consistency.wait_timeout_ms"), new_wait);
    json_decref(c);

    /* A secret changed: its path is reported, its value never shown. */
    static const char new_pw[] = "n3w-s3cret-pw";
    json_object_set_new(au_at(cfg, "users[1]"), "password", json_string(new_pw));
    write_conf(&rel_px, cfg);
    struct au_resp r;
    au_http(a, "POST", "/config/reload", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    expect_changed(r.json, "users[1].password");
    assert_null(strstr(r.body, new_pw));
    au_resp_free(&r);
    au_http(a, "GET", "/config", NULL, NULL, 0, &r);
    assert_null(strstr(r.body, new_pw));
    au_resp_free(&r);

    /* A file that does not parse: 422 naming the file, the running config
     * stays and the proxy serves on. */
    FILE *f = fopen(rel_px.conf, "w");
    assert_non_null(f);
    fputs("{ \"consistency\": this is not JSON\n", f);
    fclose(f);
    au_http(a, "POST", "/config/reload", NULL, NULL, 0, &r);
    printf("invalid file -> %ld %s", r.status, r.body);
    assert_int_equal(r.status, 422);
    assert_non_null(r.json);
    assert_false(json_is_true(au_expect(r.json, "reloaded", AU_BOOL)));
    assert_int_equal(au_count(r.json, "status"), 422);
    assert_non_null(strstr(au_str(r.json, "error"), rel_px.conf));
    au_resp_free(&r);
    json_t *st1 = au_get(a, "/status");
    expect_delta(st1, st0, "config.reloads", 2);
    expect_delta(st1, st0, "config.reload_failures", 1);
    c = au_get(a, "/config");
    assert_int_equal(au_count(c, "consistency.wait_timeout_ms"), new_wait);
    json_decref(c);
    MYSQL *m = proxy_connect(&rel_px, DB, 0);
    char *one = cluster_query_value(m, "SELECT 1");
    assert_string_equal(one, "1");
    free(one);
    mysql_close(m);

    /* SIGHUP reloads the same way and is counted in /status. */
    write_conf(&rel_px, cfg);
    proxy_signal(&rel_px, SIGHUP);
    json_t *st2 = NULL;
    for (unsigned waited = 0;; waited += 20) {
        st2 = au_get(a, "/status");
        if (delta(st2, st1, "config.reloads") == 1 || waited >= 3000)
            break;
        json_decref(st2);
        proxy_sleep_ms(20);
    }
    expect_delta(st2, st1, "config.reloads", 1);
    expect_delta(st2, st1, "config.reload_failures", 0);

    /* A session that logged in before a reload follows it from its next
     * statement: a smaller limits.max_packet_size refuses a statement that
     * fitted before (1153, and the connection closes, as from a server). */
    MYSQL *old = proxy_connect(&rel_px, DB, 0);
    char big[6000];
    snprintf(big, sizeof big, "SELECT '%*s'", 5900, "x");
    assert_int_equal(mysql_query(old, big), 0);
    mysql_free_result(mysql_store_result(old));
    json_object_set_new(au_at(cfg, "limits"), "max_packet_size", json_integer(4096));
    write_conf(&rel_px, cfg);
    rep = post(a, "/config/reload", 200);
    expect_changed(rep, "limits.max_packet_size");
    json_decref(rep);
    assert_int_not_equal(mysql_query(old, big), 0);
    assert_int_equal(mysql_errno(old), 1153);
    mysql_close(old);
    json_decref(st0);
    json_decref(st1);
    json_decref(st2);
    json_decref(cfg);
    proxy_stop(&rel_px);
}

/* ---- 9. gtidproxy status ---- */

/* Runs cmd; its stdout+stderr into out, its exit status returned (-1: it
 * did not exit normally). */
static int run(const char *cmd, char *out, size_t len)
{
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, len - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void **state)
{
    (void)state;
    skip_direct();
    char cmd[1024], out[16384];
    /* The token from the environment would be used when --token is not. */
    snprintf(cmd, sizeof cmd,
             "env -u GTIDPROXY_ADMIN_TOKEN '%s' status --admin http://127.0.0.1:%u 2>&1",
             proxy_binary(), px.admin_port);
    int rc = run(cmd, out, sizeof out);
    printf("$ gtidproxy status --admin ... (exit %d)\n%s", rc, out);
    assert_int_equal(rc, 0);
    static const char *const want[] = {("gtidproxy " GTIDPROXY_VERSION),
                                       "primary",
                                       "replica1",
                                       "replica2",
                                       "STATE",
                                       "LEVEL",
                                       "DIRECT",
                                       "FB-PRIMARY",
                                       "session",
                                       "waits:"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(out, want[i]))
            fail_msg("gtidproxy status does not print \"%s\"", want[i]);
    }

    start_proxy(&tok_px, "{\"admin\": {\"token\": \"" TOKEN "\"}}");
    snprintf(cmd, sizeof cmd,
             "env -u GTIDPROXY_ADMIN_TOKEN '%s' status --admin http://127.0.0.1:%u 2>&1",
             proxy_binary(), tok_px.admin_port);
    rc = run(cmd, out, sizeof out);
    printf("$ gtidproxy status (token proxy, no --token) (exit %d)\n%s", rc, out);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "401"));
    snprintf(cmd, sizeof cmd,
             "env -u GTIDPROXY_ADMIN_TOKEN '%s' status --admin http://127.0.0.1:%u --token %s "
             ">/dev/null 2>&1",
             proxy_binary(), tok_px.admin_port, TOKEN);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    proxy_stop(&tok_px);
}

/* ---- the group ---- */

static int test_teardown(void **state)
{
    (void)state;
    load_stop();
    for (size_t i = 0; i < MAX_SESSIONS; i++) {
        if (open_sessions[i])
            mysql_close(open_sessions[i]);
        open_sessions[i] = NULL;
    }
    if (proxy_is_direct())
        return 0;
    proxy_stop(&tok_px);
    proxy_stop(&rel_px);
    /* Whatever a failed test left out of rotation comes back. */
    for (size_t i = 1; i < N_BACKENDS; i++) {
        char path[96];
        struct au_resp r;
        snprintf(path, sizeof path, "/backends/%s/online", backend_names[i]);
        if (au_http_try(px.admin_port, "POST", path, NULL, NULL, 0, false, &r) == 0)
            au_resp_free(&r);
    }
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
    cluster_env_load(&env);
    if (proxy_is_direct())
        return 0;
    assert_true(env.replicas >= 2);
    cu_restore_replication(&env); /* whatever an earlier suite left behind */
    MYSQL *p = cluster_connect(&env, 0);
    cluster_exec(p, "CREATE TABLE IF NOT EXISTS " DB ".adm_t"
                    " (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64) NOT NULL)");
    cluster_exec(p, "CREATE TABLE IF NOT EXISTS " DB ".adm_load"
                    " (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)");
    cluster_exec(p, "DELETE FROM " DB ".adm_load");
    mysql_close(p);
    cu_sync_replicas(&env);
    printf("proxy binary: %s\n", proxy_binary());
    start_proxy(&px, NULL);
    assert_true(proxy_wait_replica_reads(&px, SETTLE_MS));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (!proxy_is_direct())
        proxy_stop(&px);
    curl_global_cleanup();
    return 0;
}

#define T(f) cmocka_unit_test_teardown(f, test_teardown)

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* findings interleave with cmocka's stderr */
    const struct CMUnitTest tests[] = {
        T(test_shapes),
        T(test_counters_move_exactly),
        T(test_metrics),
        T(test_offline_online),
        T(test_drain),
        T(test_control_errors),
        T(test_bad_requests_under_load),
        T(test_sessions),
        T(test_config_redacted),
        T(test_config_reload),
        T(test_cli),
    };
    return proxy_run_group_tests(tests, group_setup, group_teardown);
}
