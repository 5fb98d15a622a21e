/*
 * consistency_util.h - what the consistency suites (it_consistency.c,
 * it_consistency_chaos.c) share: replication control on the replicas, reads
 * that report the row they saw and the server that served them, and the
 * gate's counters as the proxy logs them on SIGUSR1.
 *
 * Header-only (static inline): the build links each it_*.c with
 * cluster_env.c and proxy_env.c only. Functions named cu_*_try or marked
 * "thread-safe" never call cmocka (its assertions longjmp to the test's
 * frame and must not run on another thread); they return 0 or a server
 * error code instead. The others fail the test.
 *
 *   test ─┬─ proxy_connect ──▶ gtidproxy ──▶ primary, replica1, replica2
 *         ├─ cu_node_connect (admin) ─────▶ replica r: STOP/START SLAVE SQL_THREAD
 *         └─ cu_stats_take: SIGUSR1 ──▶ gtidproxy.log "consistency[...]" lines
 *
 * For the lead: cu_stats_take() (and the proxy_log reading under it) belongs
 * in proxy_env.{h,c} once more suites read the stats lines.
 */
#ifndef GTIDPROXY_CONSISTENCY_UTIL_H
#define GTIDPROXY_CONSISTENCY_UTIL_H

#include <errno.h>
#include <inttypes.h>
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

#include <cmocka.h>

#include "proxy_env.h"

/* README "Error codes": a read whose consistency could not be met and
 * whose fallback chain ended in `error`. */
#define CU_ER_CONSISTENCY        9005
#define CU_ER_CONSISTENCY_PREFIX "gtidproxy: consistency"

/* The cluster's server ids (tests/cluster/cluster.sh): primary 1, replica
 * i is 1 + i. */
#define CU_PRIMARY_ID 1u

/* Monitor settings of the suites' proxies (gatespec.md): health, role and
 * lag every 100 ms, the replicas' applied sets every 10 ms. */
#define CU_MONITOR_MS   100u
#define CU_GTID_POLL_MS 10u
/* "The monitor knows": three health rounds, so one that was in flight
 * when replication changed has finished and a whole one followed. */
#define CU_MONITOR_SETTLE_MS (3 * CU_MONITOR_MS + 50)
/* A monitor that does not see a replica stop replicating: its health round
 * runs at start and then once a minute (the config's maximum), while the
 * GTID poll stays at 10 ms. Tests that must make the gate decide from GTID
 * sets alone (a replica that is replicating, just behind: the race every
 * real monitor has between two rounds) use it; tests of the exclusion of
 * stopped replicas use CU_MONITOR_MS. */
#define CU_MONITOR_BLIND_MS 60000u
/* After start, the blind monitor's first round must have finished before
 * a test stops replication, or that round would see it. */
#define CU_FIRST_ROUND_MS 300u

/* Monotonic milliseconds (the wall clock on these machines is not to be
 * trusted; durations only). */
static inline double cu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* xorshift64*: per-thread random numbers without rand()'s shared state. */
static inline uint64_t cu_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static inline void cu_set_timeouts(MYSQL *m)
{
    unsigned connect_s = 10, io_s = 60;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &io_s);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &io_s);
}

/* Thread-safe. A direct connection to cluster node `node` (0 primary, r
 * replica r) as the cluster's admin user (STOP SLAVE needs its privileges);
 * NULL on failure, the reason printed. */
static inline MYSQL *cu_node_connect(const struct cluster_env *env, int node)
{
    MYSQL *m = mysql_init(NULL);
    if (!m)
        return NULL;
    cu_set_timeouts(m);
    unsigned port = node == 0 ? env->primary_port : env->replica_ports[node - 1];
    if (!mysql_real_connect(m, env->host, env->admin_user, env->admin_password, NULL, port, NULL,
                            0)) {
        fprintf(stderr, "connect to node %d (port %u) as %s: %s\n", node, port, env->admin_user,
                mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

/* Thread-safe. A connection through the proxy as the app user with client
 * flags (e.g. CLIENT_MULTI_STATEMENTS) and db; NULL on failure. */
static inline MYSQL *cu_proxy_connect_try(const struct proxy_proc *p, const char *db,
                                          unsigned long flags)
{
    MYSQL *m = mysql_init(NULL);
    if (!m)
        return NULL;
    cu_set_timeouts(m);
    if (!mysql_real_connect(m, p->env->host, p->env->app_user, p->env->app_password, db, p->port,
                            NULL, flags)) {
        fprintf(stderr, "connect through the proxy (port %u): %u %s\n", p->port, mysql_errno(m),
                mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

/* Thread-safe. Runs a statement that returns no rows (or discards them);
 * 0 or the error code. */
static inline unsigned cu_exec_try(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql) != 0)
        return mysql_errno(m);
    MYSQL_RES *res = mysql_store_result(m);
    if (res)
        mysql_free_result(res);
    return mysql_field_count(m) && !res ? mysql_errno(m) : 0;
}

/* Thread-safe. Starts or stops replica r's SQL thread over conn (an admin
 * connection to that replica). START on a running thread is a no-op note. */
static inline unsigned cu_sql_thread_try(MYSQL *conn, bool run)
{
    return cu_exec_try(conn, run ? "START SLAVE SQL_THREAD" : "STOP SLAVE SQL_THREAD");
}

/* The same on a fresh admin connection; fails the test on error. */
static inline void cu_sql_thread(const struct cluster_env *env, int r, bool run)
{
    MYSQL *m = cu_node_connect(env, r);
    assert_non_null(m);
    unsigned rc = cu_sql_thread_try(m, run);
    if (rc)
        fail_msg("%s SLAVE SQL_THREAD on replica%d: %u %s", run ? "START" : "STOP", r, rc,
                 mysql_error(m));
    mysql_close(m);
}

/* Thread-safe. One row of `sql` as text: the first column into val (NULL
 * column: *is_null, val ""), the second, when there is one, parsed as a
 * server id into *server. 0, the query's error code, or 1 for a reply of
 * another shape (no row, two rows); msg gets the error text. */
static inline unsigned cu_read_try(MYSQL *m, const char *sql, char *val, size_t vallen,
                                   bool *is_null, unsigned *server, char *msg, size_t msglen)
{
    if (msglen)
        msg[0] = '\0';
    val[0] = '\0';
    *is_null = false;
    if (server)
        *server = 0;
    if (mysql_query(m, sql) != 0) {
        snprintf(msg, msglen, "%s", mysql_error(m));
        return mysql_errno(m);
    }
    MYSQL_RES *res = mysql_store_result(m);
    if (!res) {
        snprintf(msg, msglen, "no result set: %s", mysql_error(m));
        return mysql_errno(m) ? mysql_errno(m) : 1;
    }
    MYSQL_ROW row = mysql_fetch_row(res);
    unsigned rc = 0;
    if (!row || mysql_num_rows(res) != 1) {
        snprintf(msg, msglen, "%llu rows", (unsigned long long)mysql_num_rows(res));
        rc = 1;
    } else {
        *is_null = row[0] == NULL;
        snprintf(val, vallen, "%s", row[0] ? row[0] : "");
        if (server && mysql_num_fields(res) > 1 && row[1])
            *server = (unsigned)strtoul(row[1], NULL, 10);
    }
    mysql_free_result(res);
    return rc;
}

/* Fails the test unless `sql` answers one row; returns its first column
 * ("NULL" for SQL NULL) and the second as the server id. */
static inline void cu_read(MYSQL *m, const char *sql, char *val, size_t vallen, unsigned *server)
{
    char msg[512];
    bool is_null;
    unsigned rc = cu_read_try(m, sql, val, vallen, &is_null, server, msg, sizeof msg);
    if (rc)
        fail_msg("'%s': %u %s", sql, rc, msg);
    if (is_null)
        snprintf(val, vallen, "NULL");
}

/* Runs sql expecting an error: returns its code (fails the test if sql
 * succeeded), message into msg. Drains a result set if there was one. */
static inline unsigned cu_expect_error(MYSQL *m, const char *sql, char *msg, size_t msglen)
{
    if (mysql_query(m, sql) == 0) {
        MYSQL_RES *res = mysql_store_result(m);
        if (res)
            mysql_free_result(res);
        fail_msg("'%s' succeeded; an error was expected", sql);
    }
    snprintf(msg, msglen, "%s", mysql_error(m));
    return mysql_errno(m);
}

/* Waits until every replica applied the primary's binlog (10 s at most):
 * leaves the cluster as the next test expects it. */
static inline void cu_sync_replicas(const struct cluster_env *env)
{
    struct proxy_proc p = {.env = env};
    proxy_sync_replicas(&p);
}

/* Thread-safe. Replica r back to plain replication: no MASTER_DELAY, both
 * threads running. Returns 0 or the failing statement's error code. */
static inline unsigned cu_restore_replica_try(const struct cluster_env *env, int r)
{
    MYSQL *m = cu_node_connect(env, r);
    if (!m)
        return 1;
    unsigned rc = 0;
    if (mysql_query(m, "SHOW SLAVE STATUS") == 0) {
        MYSQL_RES *res = mysql_store_result(m);
        MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
        bool delayed = false;
        for (unsigned i = 0; row && i < mysql_num_fields(res); i++) {
            MYSQL_FIELD *f = mysql_fetch_field_direct(res, i);
            if (strcmp(f->name, "SQL_Delay") == 0 && row[i] && strcmp(row[i], "0") != 0)
                delayed = true;
        }
        if (res)
            mysql_free_result(res);
        if (delayed) {
            rc = cu_exec_try(m, "STOP SLAVE");
            if (!rc)
                rc = cu_exec_try(m, "CHANGE MASTER TO MASTER_DELAY=0");
        }
    }
    if (!rc)
        rc = cu_exec_try(m, "START SLAVE");
    if (rc)
        fprintf(stderr, "restoring replica%d: %u %s\n", r, rc, mysql_error(m));
    mysql_close(m);
    return rc;
}

/* Every replica replicating without delay and caught up; fails the test
 * otherwise. For teardowns: runs whatever the test left behind. */
static inline void cu_restore_replication(const struct cluster_env *env)
{
    unsigned bad = 0;
    for (int r = 1; r <= env->replicas; r++)
        bad |= cu_restore_replica_try(env, r);
    assert_int_equal(bad, 0);
    cu_sync_replicas(env);
}

/* A test's teardown: replication restored on every replica (tried even if
 * the proxy misbehaved), the test's proxy stopped, the replicas caught up;
 * fails the test after doing all of it when any step failed. */
static inline void cu_teardown(const struct cluster_env *env, struct proxy_proc *p)
{
    unsigned bad = 0;
    for (int r = 1; r <= env->replicas; r++)
        bad |= cu_restore_replica_try(env, r);
    proxy_stop(p);
    assert_int_equal(bad, 0);
    cu_sync_replicas(env);
}

/* Thread-safe. Seconds_Behind_Master of the replica on conn: -1 for NULL
 * (a thread stopped), -2 when it cannot be read. */
static inline long cu_replica_lag_s(MYSQL *conn)
{
    if (mysql_query(conn, "SHOW SLAVE STATUS") != 0)
        return -2;
    MYSQL_RES *res = mysql_store_result(conn);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    long lag = -2;
    for (unsigned i = 0; row && i < mysql_num_fields(res); i++) {
        MYSQL_FIELD *f = mysql_fetch_field_direct(res, i);
        if (strcmp(f->name, "Seconds_Behind_Master") == 0)
            lag = row[i] ? strtol(row[i], NULL, 10) : -1;
    }
    if (res)
        mysql_free_result(res);
    return lag;
}

/* Proxy config overrides: the suites' monitor settings (monitor_ms for the
 * health/role/lag round) and `consistency` (a JSON object's text, e.g.
 * "{\"wait_timeout_ms\": 100, \"fallback\": [\"error\"]}"), plus `extra`
 * top-level members ("" or e.g. "\"users\": [...]"). */
static inline void cu_overrides(char *out, size_t len, unsigned monitor_ms,
                                const char *consistency, const char *extra)
{
    snprintf(out, len,
             "{\"monitor\": {\"interval_ms\": %u, \"gtid_poll_interval_ms\": %u},"
             " \"consistency\": %s%s%s}",
             monitor_ms, CU_GTID_POLL_MS, consistency && *consistency ? consistency : "{}",
             extra && *extra ? ", " : "", extra ? extra : "");
}

/* ---- the gate's counters (gatespec.md "Counters") ---- */

#define CU_LEVELS   5 /* eventual session global strong token */
#define CU_OUTCOMES 6 /* direct waited fallback_primary _cache _error _stale */

static const char *const cu_level_names[CU_LEVELS] = {"eventual", "session", "global", "strong",
                                                      "token"};
static const char *const cu_outcome_names[CU_OUTCOMES] = {
    "direct", "waited", "fallback_primary", "fallback_cache", "fallback_error", "fallback_stale"};
enum { CU_DIRECT, CU_WAITED, CU_FB_PRIMARY, CU_FB_CACHE, CU_FB_ERROR, CU_FB_STALE };
enum { CU_EVENTUAL, CU_SESSION, CU_GLOBAL, CU_STRONG, CU_TOKEN };

struct cu_stats {
    uint64_t reads[CU_LEVELS];
    uint64_t out[CU_LEVELS][CU_OUTCOMES];
    uint64_t waits, reached, timeouts;
    char lines[2048]; /* the lines as logged, for printing */
};

/* The value of `key=` in line (up to its end), or false. */
static inline bool cu_field(const char *line, const char *end, const char *key, uint64_t *out)
{
    size_t kl = strlen(key);
    for (const char *p = line; p + kl + 1 < end; p++) {
        if ((p == line || p[-1] == ' ') && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            *out = strtoull(p + kl + 1, NULL, 10);
            return true;
        }
    }
    return false;
}

/* Parses the stats lines found in text; false without a waits line. */
static inline bool cu_stats_parse(const char *text, struct cu_stats *s)
{
    memset(s, 0, sizeof *s);
    bool waits_seen = false;
    size_t used = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        const char *at;
        bool keep = false;
        if ((at = strstr(line, "consistency[")) && at < end) {
            const char *name = at + strlen("consistency[");
            for (int l = 0; l < CU_LEVELS; l++) {
                size_t nl = strlen(cu_level_names[l]);
                if (strncmp(name, cu_level_names[l], nl) == 0 &&
                    strncmp(name + nl, "]: reads=", 9) == 0) {
                    cu_field(name, end, "reads", &s->reads[l]);
                    for (int o = 0; o < CU_OUTCOMES; o++)
                        cu_field(name, end, cu_outcome_names[o], &s->out[l][o]);
                    keep = true;
                }
            }
        } else if ((at = strstr(line, "consistency waits:")) && at < end) {
            cu_field(at, end, "count", &s->waits);
            cu_field(at, end, "reached", &s->reached);
            cu_field(at, end, "timeouts", &s->timeouts);
            waits_seen = keep = true;
        }
        if (keep && at) {
            int n = snprintf(s->lines + used, sizeof s->lines - used, "  %.*s\n",
                             (int)(end - at), at);
            if (n > 0 && (size_t)n < sizeof s->lines - used)
                used += (size_t)n;
        }
        line = *end ? end + 1 : end;
    }
    return waits_seen;
}

/* SIGUSR1, then the counters the proxy logged for it (cumulative since it
 * started). Fails the test when they do not appear within 3 s. */
static inline void cu_stats_take(struct proxy_proc *p, struct cu_stats *s)
{
    size_t mark = proxy_log_mark(p);
    proxy_signal(p, SIGUSR1);
    if (!proxy_log_wait(p, mark, "consistency waits:", 3000))
        fail_msg("no \"consistency waits:\" line in %s within 3 s of SIGUSR1", p->log);
    /* The waits line comes last (gatespec.md): the level lines are in. */
    size_t len;
    char *text = proxy_log_read(p, mark, &len);
    assert_non_null(text);
    bool ok = cu_stats_parse(text, s);
    free(text);
    assert_true(ok);
}

/* after - before, field by field (the lines are after's). */
static inline void cu_stats_delta(const struct cu_stats *after, const struct cu_stats *before,
                                  struct cu_stats *d)
{
    *d = *after;
    for (int l = 0; l < CU_LEVELS; l++) {
        d->reads[l] -= before->reads[l];
        for (int o = 0; o < CU_OUTCOMES; o++)
            d->out[l][o] -= before->out[l][o];
    }
    d->waits -= before->waits;
    d->reached -= before->reached;
    d->timeouts -= before->timeouts;
}

/* One line per level with reads, then the waits: the outcome split. */
static inline void cu_stats_print(const char *title, const struct cu_stats *d)
{
    printf("%s\n", title);
    for (int l = 0; l < CU_LEVELS; l++) {
        if (!d->reads[l])
            continue;
        printf("  %-8s reads=%" PRIu64, cu_level_names[l], d->reads[l]);
        for (int o = 0; o < CU_OUTCOMES; o++)
            printf(" %s=%" PRIu64, cu_outcome_names[o], d->out[l][o]);
        printf("\n");
    }
    printf("  waits=%" PRIu64 " reached=%" PRIu64 " timeouts=%" PRIu64 "\n", d->waits, d->reached,
           d->timeouts);
    fflush(stdout);
}

#endif
