/*
 * it_cache.c - the result cache on the real cluster (issue 6), read
 * through libmariadb and a raw client, counted through GET /cache:
 *   - degrading: both replicas' SQL threads stopped, fallback chain
 *     ["cache", "primary"]: a read cached before is answered from the
 *     cache with its old value (a stale serve) within the budget; a read
 *     never cached goes to the primary and sees the new value;
 *   - consistent hits: an entry stored before the session's write is not
 *     served to that session; the read goes to a replica that applied the
 *     write, repopulates the entry, and the next read is a hit;
 *   - the key: the same text under another time_zone is another entry;
 *   - never stored: NOW(), user variables, errors, warnings, transactions,
 *     replies over max_entry_bytes; a hint cache=off bypasses it;
 *   - the memory cap under a load of 10x the cap (bytes, evictions, RSS);
 *     TTL expiry;
 *   - query rules: a rule with cache limits caches without a hint; a rule's
 *     route=primary and consistency level apply to the reads it matches;
 *   - a cached reply is byte-identical to the server's (the same query on
 *     the replica directly) for clients with and without
 *     CLIENT_DEPRECATE_EOF.
 * Skipped in direct mode: the cache is the proxy's.
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
#include <jansson.h>

#include "admin_util.h"
#include "consistency_util.h"
#include "gtidproxy/proto_consts.h"
#include "proxy_env.h"
#include "raw_client.h"

#define BUDGET_MS   300     /* consistency.wait_timeout_ms */
#define CAP_BYTES   2097152 /* cache.max_bytes */
#define ENTRY_BYTES 16384   /* cache.max_entry_bytes */
#define ON          "/* gtidproxy: cache=on */ "

static struct cluster_env env;
static struct proxy_proc proxy;

/* GET /cache's numbers. */
struct cstat {
    uint64_t hits, stale, misses, bypasses, stores, evictions, entries, bytes;
};

/* m (may be NULL): the connection that ran the reads being counted. A
 * reply is stored once it ended, which may be just after the client got
 * it; the proxy answers m's COM_PING only after that. */
static void cstat(const struct proxy_proc *p, MYSQL *m, struct cstat *c)
{
    if (m)
        assert_int_equal(mysql_ping(m), 0);
    json_t *doc = au_get(p->admin_port, "/cache");
    if (getenv("IT_CACHE_DEBUG")) {
        char *t = json_dumps(doc, JSON_COMPACT);
        fprintf(stderr, "/cache: %s\n", t);
        free(t);
    }
    assert_true(json_is_true(au_expect(doc, "enabled", AU_BOOL)));
    c->hits = au_count(doc, "hits");
    c->stale = au_count(doc, "stale_serves");
    c->misses = au_count(doc, "misses");
    c->bypasses = au_count(doc, "bypasses");
    c->stores = au_count(doc, "stores");
    c->evictions = au_count(doc, "evictions");
    c->entries = au_count(doc, "entries");
    c->bytes = au_count(doc, "bytes");
    json_decref(doc);
}

/* A counter moved by exactly want between two GET /cache snapshots. */
#define EXPECT_DELTA(after, before, field, want)                                                   \
    do {                                                                                           \
        uint64_t d_ = (after).field - (before).field;                                              \
        if (d_ != (uint64_t)(want))                                                                \
            fail_msg("/cache %s moved by %llu, expected %llu", #field, (unsigned long long)d_,     \
                     (unsigned long long)(want));                                                  \
    } while (0)

/* The first column of sql's one row. */
static void read1(MYSQL *m, const char *sql, char *val, size_t len)
{
    cu_read(m, sql, val, len, NULL);
}

static void expect_read(MYSQL *m, const char *sql, const char *want)
{
    char got[256];
    read1(m, sql, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("'%s' returned '%s', expected '%s'", sql, got, want);
}

static void set_row(MYSQL *m, int k, const char *v)
{
    char sql[256];
    snprintf(sql, sizeof sql, "REPLACE INTO cache_t VALUES (%d, '%s')", k, v);
    cluster_exec(m, sql);
}

static uint64_t rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    uint64_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtoull(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

static void skip_direct(void)
{
    if (proxy_is_direct())
        skip();
}

/* ------------------------------------------------------------- tests --- */

static void test_stale_fallback_when_replicas_stop(void **state)
{
    (void)state;
    skip_direct();
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", 0);
    static const char q[] = "SELECT " ON "v FROM cache_t WHERE k = 1";
    set_row(m, 1, "old");
    expect_read(m, q, "old"); /* read on a replica (after a wait), stored */
    for (int r = 1; r <= env.replicas; r++)
        cu_sql_thread(&env, r, false);
    set_row(m, 1, "new");
    set_row(m, 2, "fresh");
    struct cstat a, b;
    cstat(&proxy, m, &a);
    double t0 = cu_now_ms();
    expect_read(m, q, "old"); /* no replica has "new": the cache answers */
    double took = cu_now_ms() - t0;
    cstat(&proxy, m, &b);
    EXPECT_DELTA(b, a, stale, 1);
    EXPECT_DELTA(b, a, hits, 0);
    if (took > BUDGET_MS + 1000)
        fail_msg("the stale serve took %.0f ms with a budget of %d ms", took, BUDGET_MS);
    /* Never cached: the primary answers, with the new value. */
    expect_read(m, "SELECT " ON "v FROM cache_t WHERE k = 2", "fresh");
    struct cstat c;
    cstat(&proxy, m, &c);
    EXPECT_DELTA(c, b, stale, 0);
    mysql_close(m);
}

static void test_consistent_hits_follow_the_session_writes(void **state)
{
    (void)state;
    skip_direct();
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", 0);
    /* Only the primary as fallback: a replica slower than the budget must
     * not turn the read after the write into a stale serve. */
    static const char q[] =
        "SELECT /* gtidproxy: cache=on fallback=primary */ v FROM cache_t WHERE k = 3";
    struct cstat a, b, c, d;
    set_row(m, 3, "x1");
    expect_read(m, q, "x1"); /* miss: stored */
    cstat(&proxy, m, &a);
    expect_read(m, q, "x1"); /* the entry has the session's write: a hit */
    cstat(&proxy, m, &b);
    EXPECT_DELTA(b, a, hits, 1);
    set_row(m, 3, "x2");
    expect_read(m, q, "x2"); /* the entry predates the write: not a hit */
    cstat(&proxy, m, &c);
    EXPECT_DELTA(c, b, hits, 0);
    EXPECT_DELTA(c, b, misses, 1);
    EXPECT_DELTA(c, b, stores, 1);
    expect_read(m, q, "x2"); /* repopulated by a replica that applied it */
    cstat(&proxy, m, &d);
    EXPECT_DELTA(d, c, hits, 1);
    mysql_close(m);
}

/* The values alone would also come out right with no cache at all: the
 * counters show a's second read was served from a's entry and b's read,
 * the same text under another time_zone, was not. */
static void test_session_variables_are_part_of_the_key(void **state)
{
    (void)state;
    skip_direct();
    static const char q[] = "SELECT " ON "FROM_UNIXTIME(0)";
    MYSQL *a = proxy_connect(&proxy, "gtidproxy_test", 0);
    MYSQL *b = proxy_connect(&proxy, "gtidproxy_test", 0);
    cluster_exec(a, "SET time_zone = '+00:00'");
    cluster_exec(b, "SET time_zone = '+05:00'");
    struct cstat s0, s1, s2, s3;
    cstat(&proxy, NULL, &s0);
    expect_read(a, q, "1970-01-01 00:00:00");
    cstat(&proxy, a, &s1);
    EXPECT_DELTA(s1, s0, misses, 1);
    EXPECT_DELTA(s1, s0, stores, 1);
    expect_read(a, q, "1970-01-01 00:00:00");
    cstat(&proxy, a, &s2);
    EXPECT_DELTA(s2, s1, hits, 1);
    EXPECT_DELTA(s2, s1, misses, 0);
    expect_read(b, q, "1970-01-01 05:00:00");
    cstat(&proxy, b, &s3);
    EXPECT_DELTA(s3, s2, hits, 0);
    EXPECT_DELTA(s3, s2, misses, 1);
    EXPECT_DELTA(s3, s2, stores, 1);
    mysql_close(a);
    mysql_close(b);
}

static void test_what_is_never_stored(void **state)
{
    (void)state;
    skip_direct();
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", 0);
    char v[ENTRY_BYTES + 64], msg[256];
    struct cstat a, b;
    set_row(m, 4, "t");
    read1(m, "SELECT " ON "v FROM cache_t WHERE k = 4", v, sizeof v); /* catch up first */
    cstat(&proxy, m, &a);
    read1(m, "SELECT " ON "NOW(6)", v, sizeof v);
    cluster_exec(m, "SET @u = 7");
    read1(m, "SELECT " ON "@u", v, sizeof v);
    assert_int_equal(cu_expect_error(m, "SELECT " ON "nope FROM cache_t", msg, sizeof msg), 1054);
    read1(m, "SELECT " ON "CAST('1x' AS SIGNED)", v, sizeof v); /* a warning */
    assert_int_equal(mysql_warning_count(m), 1);
    cluster_exec(m, "START TRANSACTION");
    read1(m, "SELECT " ON "v FROM cache_t WHERE k = 4", v, sizeof v);
    cluster_exec(m, "COMMIT");
    char big[128];
    snprintf(big, sizeof big, "SELECT " ON "REPEAT('y', %d)", ENTRY_BYTES + 1);
    read1(m, big, v, sizeof v);
    assert_int_equal(strlen(v), ENTRY_BYTES + 1); /* served whole, not kept */
    read1(m, "SELECT /* gtidproxy: cache=off */ v FROM cache_t WHERE k = 4", v, sizeof v);
    cstat(&proxy, m, &b);
    EXPECT_DELTA(b, a, stores, 0);
    EXPECT_DELTA(b, a, hits, 0);
    EXPECT_DELTA(b, a, bypasses, 1);
    mysql_close(m);
}

static void test_memory_cap_under_ten_times_the_cap(void **state)
{
    (void)state;
    skip_direct();
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", 0);
    enum { VALUE = 10000, N = 10 * CAP_BYTES / VALUE };
    struct cstat a, b;
    char sql[160], v[VALUE + 64];
    /* Warm-up: buffers and pools reach their working size first. */
    for (int i = 0; i < 50; i++) {
        snprintf(sql, sizeof sql, "SELECT " ON "REPEAT('w', %d), %d", VALUE, i);
        read1(m, sql, v, sizeof v);
    }
    cstat(&proxy, m, &a);
    uint64_t rss0 = rss_kb(proxy.pid);
    for (int i = 0; i < N; i++) {
        snprintf(sql, sizeof sql, "SELECT " ON "REPEAT('z', %d), %d", VALUE, i);
        read1(m, sql, v, sizeof v);
    }
    uint64_t rss1 = rss_kb(proxy.pid);
    cstat(&proxy, m, &b);
    fprintf(stderr,
            "cap test: %d x %d-byte replies: stores %llu, evictions %llu, entries %llu, "
            "bytes %llu (cap %d), RSS %llu -> %llu KB\n",
            N, VALUE, (unsigned long long)(b.stores - a.stores),
            (unsigned long long)(b.evictions - a.evictions), (unsigned long long)b.entries,
            (unsigned long long)b.bytes, CAP_BYTES, (unsigned long long)rss0,
            (unsigned long long)rss1);
    EXPECT_DELTA(b, a, stores, N);
    assert_true(b.bytes <= CAP_BYTES);
    assert_true(b.entries * VALUE <= CAP_BYTES);
    assert_true(b.evictions - a.evictions >= N - CAP_BYTES / VALUE);
    /* Without the cap the load would keep 20 MB; allow the cap plus slack. */
    assert_true(rss1 <= rss0 + 2 * CAP_BYTES / 1024 + 4096);
    mysql_close(m);
}

static void test_entries_expire_after_ttl(void **state)
{
    (void)state;
    skip_direct();
    struct proxy_proc p2 = {0};
    proxy_start(&p2, &env,
                "{\"cache\": {\"max_bytes\": 2097152, \"max_entry_bytes\": 16384,"
                " \"ttl_ms\": 2000, \"max_stale_ms\": 0}}");
    au_wait_admin(p2.admin_port, 5000);
    MYSQL *m = proxy_connect(&p2, "gtidproxy_test", 0);
    static const char q[] = "SELECT " ON "COUNT(*) FROM cache_t";
    char v[64];
    struct cstat a, b, c;
    read1(m, q, v, sizeof v);
    read1(m, q, v, sizeof v);
    cstat(&p2, m, &a);
    if (a.hits != 1)
        fail_msg("two reads within the TTL: %llu hits, %llu misses, %llu stores",
                 (unsigned long long)a.hits, (unsigned long long)a.misses,
                 (unsigned long long)a.stores);
    proxy_sleep_ms(2500);
    read1(m, q, v, sizeof v); /* expired: a miss, stored again */
    cstat(&p2, m, &b);
    assert_int_equal(b.hits, 1);
    EXPECT_DELTA(b, a, misses, 1);
    read1(m, q, v, sizeof v);
    cstat(&p2, m, &c);
    assert_int_equal(c.hits, 2);
    mysql_close(m);
    proxy_stop(&p2);
}

/* gtidproxy_reads_total for one level and outcome. */
static double reads_metric(const char *level, const char *outcome)
{
    char series[160];
    snprintf(series, sizeof series, "gtidproxy_reads_total{level=\"%s\",outcome=\"%s\"}", level,
             outcome);
    struct au_resp r;
    au_http(proxy.admin_port, "GET", "/metrics", NULL, NULL, 0, &r);
    double v = au_metric(r.body, series);
    au_resp_free(&r);
    return v;
}

static void test_query_rules_apply(void **state)
{
    (void)state;
    skip_direct();
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", 0);
    struct cstat a, b;
    char v[64];
    unsigned server;
    /* Rule "counted": cache limits, no hint needed. */
    cstat(&proxy, m, &a);
    read1(m, "SELECT COUNT(*) FROM cache_t WHERE k > 100", v, sizeof v);
    read1(m, "SELECT COUNT(*) FROM cache_t WHERE k > 100", v, sizeof v);
    cstat(&proxy, m, &b);
    EXPECT_DELTA(b, a, stores, 1);
    EXPECT_DELTA(b, a, hits, 1);
    /* Rule "on-primary": route=primary. */
    set_row(m, 7, "p");
    set_row(m, 8, "e");
    cu_sync_replicas(&env); /* k = 8 is on every replica: any may answer */
    cu_read(m, "SELECT v, @@server_id FROM cache_t WHERE k = 7", v, sizeof v, &server);
    assert_string_equal(v, "p");
    assert_int_equal(server, 1);
    /* Rule "relaxed": level eventual (the session's default is session). */
    double before = reads_metric("eventual", "direct");
    cu_read(m, "SELECT v, @@server_id FROM cache_t WHERE k = 8", v, sizeof v, &server);
    assert_true(server != 1);
    assert_true(reads_metric("eventual", "direct") == before + 1);
    mysql_close(m);
}

/* The reply to sql over a raw connection with caps to port (db
 * gtidproxy_test). */
static uint8_t *raw_reply(unsigned port, uint64_t caps, const char *sql, size_t *len)
{
    uint64_t neg;
    int fd =
        raw_login(env.host, port, env.app_user, env.app_password, "gtidproxy_test", caps, &neg);
    uint8_t *r = raw_query(fd, neg, sql, len);
    close(fd);
    return r;
}

static void hexdump_diff(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    size_t i = 0;
    while (i < na && i < nb && a[i] == b[i])
        i++;
    fprintf(stderr, "replies differ at byte %zu (lengths %zu, %zu)\n", i, na, nb);
}

static void expect_same(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    if (na != nb || memcmp(a, b, na) != 0) {
        hexdump_diff(a, na, b, nb);
        fail();
    }
}

static void test_cached_reply_is_byte_identical(void **state)
{
    (void)state;
    skip_direct();
    static const uint64_t variants[] = {
        RAW_CAPS_BASIC,
        RAW_CAPS_BASIC | PROTO_CAP(CLIENT_DEPRECATE_EOF),
    };
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", 0);
    set_row(m, 5, "bytes");
    mysql_close(m);
    cu_sync_replicas(&env);
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "SELECT " ON "k, v, 1.5 AS d, NULL AS n FROM cache_t WHERE k <= 5 ORDER BY k"
                 " /* variant %zu */",
                 i);
        size_t n_direct, n_miss, n_hit;
        uint8_t *direct = raw_reply(env.replica_ports[0], variants[i], sql, &n_direct);
        struct cstat a, b;
        cstat(&proxy, NULL, &a);
        uint8_t *miss = raw_reply(proxy.port, variants[i], sql, &n_miss);
        /* The reply is stored once it ended, which may be just after this
         * client got it and closed: wait for the store before asking again. */
        struct cstat now = a;
        for (int t = 0; t < 200 && now.stores == a.stores; t++) {
            proxy_sleep_ms(10);
            cstat(&proxy, NULL, &now);
        }
        uint8_t *hit = raw_reply(proxy.port, variants[i], sql, &n_hit);
        cstat(&proxy, NULL, &b);
        EXPECT_DELTA(b, a, stores, 1);
        EXPECT_DELTA(b, a, hits, 1);
        expect_same(direct, n_direct, miss, n_miss);
        expect_same(direct, n_direct, hit, n_hit);
        free(direct);
        free(miss);
        free(hit);
    }
}

/* ------------------------------------------------------------- setup --- */

static int group_setup(void **state)
{
    (void)state;
    cluster_env_load(&env);
    MYSQL *m = cu_node_connect(&env, 0);
    assert_non_null(m);
    cluster_exec(m, "CREATE TABLE IF NOT EXISTS gtidproxy_test.cache_t "
                    "(k INT PRIMARY KEY, v VARCHAR(64))");
    cluster_exec(m, "DELETE FROM gtidproxy_test.cache_t");
    mysql_close(m);
    cu_sync_replicas(&env);
    char over[2048];
    snprintf(over, sizeof over,
             "{\"monitor\": {\"interval_ms\": 200, \"gtid_poll_interval_ms\": 20},"
             " \"consistency\": {\"wait_timeout_ms\": %d, \"fallback\": [\"cache\", \"primary\"]},"
             " \"cache\": {\"max_bytes\": %d, \"max_entry_bytes\": %d, \"ttl_ms\": 60000,"
             " \"max_stale_ms\": 60000},"
             " \"query_rules\": ["
             "  {\"name\": \"counted\", \"match\": \"SELECT COUNT(*) FROM cache_t WHERE k > 100\","
             "   \"cache_ttl_ms\": 60000},"
             "  {\"name\": \"on-primary\", \"regex\": \"WHERE k = 7$\", \"route\": \"primary\"},"
             "  {\"name\": \"relaxed\", \"regex\": \"(?i)^select v, @@server_id .* k = 8$\","
             "   \"consistency\": \"eventual\"}]}",
             BUDGET_MS, CAP_BYTES, ENTRY_BYTES);
    proxy_start(&proxy, &env, over);
    if (!proxy_is_direct()) {
        au_wait_admin(proxy.admin_port, 5000);
        assert_true(proxy_wait_replica_reads(&proxy, 10000));
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    proxy_stop(&proxy);
    return 0;
}

/* Replication running again, and the proxy's monitor has seen it (the
 * next test must not meet replicas it still thinks are stopped). */
static int restore(void **state)
{
    (void)state;
    cu_restore_replication(&env);
    assert_true(proxy_wait_replica_reads(&proxy, 10000));
    return 0;
}

int main(void)
{
    /* The RSS check must see the cache's memory, not ASan's quarantine of
     * freed blocks (256 MB by default). */
    const char *asan = getenv("ASAN_OPTIONS");
    char opts[512];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=1", asan ? asan : "",
             asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_stale_fallback_when_replicas_stop, restore),
        cmocka_unit_test(test_consistent_hits_follow_the_session_writes),
        cmocka_unit_test(test_session_variables_are_part_of_the_key),
        cmocka_unit_test(test_what_is_never_stored),
        cmocka_unit_test(test_cached_reply_is_byte_identical),
        cmocka_unit_test(test_query_rules_apply),
        cmocka_unit_test(test_memory_cap_under_ten_times_the_cap),
        cmocka_unit_test(test_entries_expire_after_ttl),
    };
    return proxy_run_tests("it_cache", tests, sizeof tests / sizeof tests[0], group_setup,
                           group_teardown);
}
