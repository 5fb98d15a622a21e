/*
 * it_consistency_chaos.c - the consistency gate under load on the real
 * cluster (issue 5 "Done when"):
 *   - read-your-writes under chaos: 4 sessions x 500 write->read cycles
 *     (each reads back the row it just inserted, or the counter it just
 *     updated, at the default level session with no hint) while a chaos
 *     thread stops and starts replica1's and replica2's SQL threads at
 *     random 10-300 ms intervals: zero stale reads. The sessions cover both
 *     wait paths: text reads from a client with CLIENT_MULTI_STATEMENTS (the
 *     wait prefixed to the read) and without it (a wait statement first),
 *     and prepared statements (writes and reads through mysql_stmt_*);
 *   - caught up: with a steady write every 5 ms, sessions that write, think
 *     and read back run >= 95% of their reads on replicas, >= 90% of those
 *     with no wait (the monitor already knew).
 * Both print the outcome split from the proxy's counters (SIGUSR1).
 *
 *   chaos thread ──admin──▶ replica1, replica2: STOP/START SLAVE SQL_THREAD
 *   worker k ──proxy──▶ INSERT/UPDATE (primary) ─▶ SELECT back (gate)
 *
 * cmocka's assertions run on the test's thread only: workers record what
 * they saw and the test asserts after joining them. Teardown restarts
 * replication even when the test failed. Skipped in direct mode.
 */
#include <pthread.h>
#include <setjmp.h>
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

#define DB "gtidproxy_test"

#define CHAOS_WORKERS 4
#define CHAOS_CYCLES  500
/* Chaos: the gap between two toggles of a replica's SQL thread. */
#define CHAOS_MIN_MS 10
#define CHAOS_MAX_MS 300
/* A bound on the whole run: a cycle costs a few ms, or at most the
 * budget (200 ms) plus a primary read when both replicas are stopped;
 * 500 of those in a row would still fit. CTest's limit is 300 s for the
 * whole program. */
#define CHAOS_DEADLINE_MS 150000.0
/* Workers give up after this many errors (the proxy is broken then). */
#define MAX_ERRORS 20

#define STEADY_READERS    3
#define STEADY_CYCLES     100
#define STEADY_WRITE_MS   5
#define STEADY_THINK_MS   20 /* + 0..39 ms */

static struct cluster_env env;
static struct proxy_proc px;

static void skip_direct(void)
{
    if (proxy_is_direct())
        skip();
}

/* ---- one session's write->read cycles ---- */

struct worker {
    int tid;              /* its rows: cons_chaos (tid, seq), cons_ctr tid */
    bool prepared;        /* mysql_stmt_* for writes and reads */
    bool multi;           /* CLIENT_MULTI_STATEMENTS */
    int cycles;           /* to do */
    unsigned think_ms;    /* 0, or think time base between write and read */
    double deadline;      /* cu_now_ms() value to give up at */
    uint64_t rng;
    /* results */
    int done, stale, errors;
    unsigned served[8]; /* reads by @@server_id */
    char first_problem[512];
    bool started;
    pthread_t thread;
};

/* Static, like every thread's state here: a test that fails while they
 * run leaves by longjmp; the teardown joins them (threads_join). */
static struct worker workers[CHAOS_WORKERS];
_Static_assert(STEADY_READERS <= CHAOS_WORKERS, "the readers are workers[]");
static void threads_join(void);

static const char *worker_mode(const struct worker *w)
{
    if (w->prepared)
        return w->multi ? "prepared, multi-statements" : "prepared, no multi-statements";
    return w->multi ? "text, multi-statements" : "text, no multi-statements";
}

static void note_problem(struct worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note_problem(struct worker *w, const char *fmt, ...)
{
    if (w->first_problem[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->first_problem, sizeof w->first_problem, fmt, ap);
    va_end(ap);
}

/* Text protocol. Cycle seq, even: insert (tid, seq, val), read it back;
 * odd: set the counter to seq, read it back. 0, or an error code. */
static unsigned text_cycle(struct worker *w, MYSQL *m, int seq, long long val, char *got,
                           size_t gotlen, unsigned *server, char *msg, size_t msglen)
{
    char sql[256];
    if (seq % 2 == 0)
        snprintf(sql, sizeof sql, "INSERT INTO cons_chaos VALUES (%d, %d, %lld)", w->tid, seq,
                 val);
    else
        snprintf(sql, sizeof sql, "UPDATE cons_ctr SET n = %d WHERE tid = %d", seq, w->tid);
    unsigned rc = cu_exec_try(m, sql);
    if (rc) {
        snprintf(msg, msglen, "write: %s", mysql_error(m));
        return rc;
    }
    if (w->think_ms)
        proxy_sleep_ms(w->think_ms + (unsigned)(cu_rand(&w->rng) % 40));
    if (seq % 2 == 0)
        snprintf(sql, sizeof sql,
                 "SELECT (SELECT v FROM cons_chaos WHERE tid = %d AND seq = %d), @@server_id",
                 w->tid, seq);
    else
        snprintf(sql, sizeof sql, "SELECT (SELECT n FROM cons_ctr WHERE tid = %d), @@server_id",
                 w->tid);
    bool is_null;
    rc = cu_read_try(m, sql, got, gotlen, &is_null, server, msg, msglen);
    if (!rc && is_null)
        snprintf(got, gotlen, "NULL");
    return rc;
}

/* The prepared statements of one worker. */
struct stmts {
    MYSQL_STMT *ins, *upd, *read_row, *read_ctr;
};

static const char *const stmt_sql[4] = {
    "INSERT INTO cons_chaos VALUES (?, ?, ?)",
    "UPDATE cons_ctr SET n = ? WHERE tid = ?",
    "SELECT (SELECT v FROM cons_chaos WHERE tid = ? AND seq = ?), @@server_id",
    "SELECT (SELECT n FROM cons_ctr WHERE tid = ?), @@server_id",
};

static unsigned stmts_prepare(MYSQL *m, struct stmts *s, char *msg, size_t msglen)
{
    MYSQL_STMT **all[4] = {&s->ins, &s->upd, &s->read_row, &s->read_ctr};
    for (int i = 0; i < 4; i++) {
        *all[i] = mysql_stmt_init(m);
        if (!*all[i] || mysql_stmt_prepare(*all[i], stmt_sql[i], strlen(stmt_sql[i]))) {
            snprintf(msg, msglen, "prepare '%s': %s", stmt_sql[i],
                     *all[i] ? mysql_stmt_error(*all[i]) : "out of memory");
            return *all[i] ? mysql_stmt_errno(*all[i]) : 1;
        }
    }
    return 0;
}

static void stmts_close(struct stmts *s)
{
    MYSQL_STMT *all[4] = {s->ins, s->upd, s->read_row, s->read_ctr};
    for (int i = 0; i < 4; i++)
        if (all[i])
            mysql_stmt_close(all[i]);
}

/* Binds n BIGINT parameters and executes. */
static unsigned stmt_run(MYSQL_STMT *st, long long *args, int n, char *msg, size_t msglen)
{
    MYSQL_BIND in[3];
    memset(in, 0, sizeof in);
    for (int i = 0; i < n; i++) {
        in[i].buffer_type = MYSQL_TYPE_LONGLONG;
        in[i].buffer = &args[i];
    }
    if (mysql_stmt_bind_param(st, in) || mysql_stmt_execute(st)) {
        snprintf(msg, msglen, "%s", mysql_stmt_error(st));
        return mysql_stmt_errno(st) ? mysql_stmt_errno(st) : 1;
    }
    return 0;
}

/* The same cycle with prepared statements. */
static unsigned stmt_cycle(struct worker *w, struct stmts *s, int seq, long long val, char *got,
                           size_t gotlen, unsigned *server, char *msg, size_t msglen)
{
    long long args[3];
    unsigned rc;
    if (seq % 2 == 0) {
        args[0] = w->tid, args[1] = seq, args[2] = val;
        rc = stmt_run(s->ins, args, 3, msg, msglen);
    } else {
        args[0] = seq, args[1] = w->tid;
        rc = stmt_run(s->upd, args, 2, msg, msglen);
    }
    if (rc)
        return rc;
    if (w->think_ms)
        proxy_sleep_ms(w->think_ms + (unsigned)(cu_rand(&w->rng) % 40));
    MYSQL_STMT *rd = seq % 2 == 0 ? s->read_row : s->read_ctr;
    args[0] = w->tid, args[1] = seq;
    rc = stmt_run(rd, args, seq % 2 == 0 ? 2 : 1, msg, msglen);
    if (rc)
        return rc;
    long long v = 0, srv = 0;
    my_bool v_null = 0;
    MYSQL_BIND out[2];
    memset(out, 0, sizeof out);
    out[0].buffer_type = MYSQL_TYPE_LONGLONG;
    out[0].buffer = &v;
    out[0].is_null = &v_null;
    out[1].buffer_type = MYSQL_TYPE_LONGLONG;
    out[1].buffer = &srv;
    if (mysql_stmt_bind_result(rd, out) || mysql_stmt_store_result(rd)) {
        snprintf(msg, msglen, "result: %s", mysql_stmt_error(rd));
        return mysql_stmt_errno(rd) ? mysql_stmt_errno(rd) : 1;
    }
    int f1 = mysql_stmt_fetch(rd), f2 = mysql_stmt_fetch(rd);
    mysql_stmt_free_result(rd);
    if (f1 != 0 || f2 != MYSQL_NO_DATA) {
        snprintf(msg, msglen, "fetch returned %d then %d", f1, f2);
        return 1;
    }
    if (v_null)
        snprintf(got, gotlen, "NULL");
    else
        snprintf(got, gotlen, "%lld", v);
    *server = (unsigned)srv;
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char msg[512];
    MYSQL *m = cu_proxy_connect_try(&px, DB, w->multi ? CLIENT_MULTI_STATEMENTS : 0);
    if (!m) {
        w->errors++;
        note_problem(w, "cannot connect through the proxy");
        return NULL;
    }
    struct stmts s = {0};
    if (w->prepared) {
        unsigned rc = stmts_prepare(m, &s, msg, sizeof msg);
        if (rc) {
            w->errors++;
            note_problem(w, "%u %s", rc, msg);
            stmts_close(&s);
            mysql_close(m);
            return NULL;
        }
    }
    for (int seq = 0; seq < w->cycles && w->errors < MAX_ERRORS; seq++) {
        if (cu_now_ms() > w->deadline) {
            note_problem(w, "deadline passed after %d cycles", w->done);
            break;
        }
        long long val = (long long)(cu_rand(&w->rng) >> 2);
        char want[32], got[64];
        unsigned server = 0;
        if (seq % 2 == 0)
            snprintf(want, sizeof want, "%lld", val);
        else
            snprintf(want, sizeof want, "%d", seq);
        unsigned rc = w->prepared
                          ? stmt_cycle(w, &s, seq, val, got, sizeof got, &server, msg, sizeof msg)
                          : text_cycle(w, m, seq, val, got, sizeof got, &server, msg, sizeof msg);
        if (rc) {
            w->errors++;
            note_problem(w, "cycle %d: %u %s", seq, rc, msg);
            continue;
        }
        w->done++;
        w->served[server < 8 ? server : 0]++;
        if (strcmp(got, want) != 0) {
            w->stale++;
            note_problem(w, "cycle %d: wrote %s, read %s from server %u", seq, want, got, server);
        }
    }
    stmts_close(&s);
    mysql_close(m);
    return NULL;
}

static void workers_run(struct worker *w, int n)
{
    for (int i = 0; i < n; i++) {
        assert_int_equal(pthread_create(&w[i].thread, NULL, worker_main, &w[i]), 0);
        w[i].started = true;
    }
}

static void workers_join(struct worker *w, int n)
{
    for (int i = 0; i < n; i++) {
        if (w[i].started)
            pthread_join(w[i].thread, NULL);
        w[i].started = false;
    }
}

/* Prints each worker; returns the totals. */
static void workers_report(const struct worker *w, int n, int *done, int *stale, int *errors,
                           unsigned served[8])
{
    *done = *stale = *errors = 0;
    memset(served, 0, 8 * sizeof served[0]);
    for (int i = 0; i < n; i++) {
        printf("  session %d (%s): cycles=%d stale=%d errors=%d primary=%u replica1=%u "
               "replica2=%u%s%s\n",
               w[i].tid, worker_mode(&w[i]), w[i].done, w[i].stale, w[i].errors, w[i].served[1],
               w[i].served[2], w[i].served[3], w[i].first_problem[0] ? "; first problem: " : "",
               w[i].first_problem);
        *done += w[i].done;
        *stale += w[i].stale;
        *errors += w[i].errors;
        for (int k = 0; k < 8; k++)
            served[k] += w[i].served[k];
    }
    fflush(stdout);
}

/* Every read reached the gate exactly once (a COM_STMT_PREPARE is not a
 * read: it only chooses the statement's home replica). */
static void expect_reads_counted(uint64_t counted, int done)
{
    if (counted != (uint64_t)done)
        fail_msg("the proxy counted %" PRIu64 " session reads for %d reads", counted, done);
}

/* ---- the chaos thread ---- */

static struct chaos {
    const struct cluster_env *env;
    atomic_bool stop;
    uint64_t rng;
    unsigned toggles, errors;
    unsigned stops[2];
    char first_error[256];
    bool started;
    pthread_t thread;
} chaos;

static void *chaos_main(void *arg)
{
    struct chaos *c = arg;
    MYSQL *conn[2] = {cu_node_connect(c->env, 1), cu_node_connect(c->env, 2)};
    bool running[2] = {true, true};
    if (!conn[0] || !conn[1]) {
        c->errors++;
        snprintf(c->first_error, sizeof c->first_error, "cannot connect to the replicas");
    }
    while (!c->errors && !atomic_load(&c->stop)) {
        proxy_sleep_ms(CHAOS_MIN_MS +
                    (unsigned)(cu_rand(&c->rng) % (CHAOS_MAX_MS - CHAOS_MIN_MS + 1)));
        int r = (int)(cu_rand(&c->rng) % 2);
        unsigned rc = cu_sql_thread_try(conn[r], !running[r]);
        if (rc) {
            c->errors++;
            snprintf(c->first_error, sizeof c->first_error, "replica%d: %u %s", r + 1, rc,
                     mysql_error(conn[r]));
            break;
        }
        if (running[r])
            c->stops[r]++;
        running[r] = !running[r];
        c->toggles++;
    }
    for (int r = 0; r < 2; r++) {
        if (conn[r]) {
            if (!running[r] && cu_sql_thread_try(conn[r], true))
                c->errors++;
            mysql_close(conn[r]);
        }
    }
    return NULL;
}

/* ---- tests ---- */

static void test_read_your_writes_under_chaos(void **state)
{
    (void)state;
    skip_direct();
    char ov[512];
    /* The base config's consistency section: session, 200 ms, ["primary"]. */
    cu_overrides(ov, sizeof ov, CU_MONITOR_MS, NULL, NULL);
    proxy_start(&px, &env, ov);
    assert_true(proxy_wait_replica_reads(&px, 5000));
    struct cu_stats before = {0}, after, d;
    cu_stats_take(&px, &before);

    struct worker *w = workers;
    memset(workers, 0, sizeof workers);
    double t0 = cu_now_ms();
    for (int i = 0; i < CHAOS_WORKERS; i++) {
        w[i].tid = i + 1;
        w[i].prepared = i >= 2;
        w[i].multi = i % 2 == 0;
        w[i].cycles = CHAOS_CYCLES;
        w[i].deadline = t0 + CHAOS_DEADLINE_MS;
        w[i].rng = 0x1234567ull * (uint64_t)(i + 1);
    }
    struct chaos *c = &chaos;
    memset(c, 0, sizeof *c);
    c->env = &env;
    c->rng = 0xC0FFEEull;
    atomic_init(&c->stop, false);
    assert_int_equal(pthread_create(&c->thread, NULL, chaos_main, c), 0);
    c->started = true;
    workers_run(w, CHAOS_WORKERS);
    threads_join();
    double ms = cu_now_ms() - t0;

    int done, stale, errors;
    unsigned served[8];
    printf("read-your-writes under chaos: %.1f s, %u SQL-thread toggles (replica1 stopped %u "
           "times, replica2 %u times)%s%s\n",
           ms / 1000, c->toggles, c->stops[0], c->stops[1], c->errors ? "; chaos error: " : "",
           c->first_error);
    workers_report(w, CHAOS_WORKERS, &done, &stale, &errors, served);
    printf("  total: cycles=%d stale=%d errors=%d; reads served by primary %u, replica1 %u, "
           "replica2 %u\n",
           done, stale, errors, served[1], served[2], served[3]);
    fflush(stdout);
    assert_int_equal(stale, 0);
    assert_int_equal(errors, 0);
    assert_int_equal(done, CHAOS_WORKERS * CHAOS_CYCLES);
    assert_int_equal(c->errors, 0);
    assert_true(c->stops[0] > 0 && c->stops[1] > 0);

    cu_stats_take(&px, &after);
    cu_stats_delta(&after, &before, &d);
    cu_stats_print("  outcome split (proxy counters):", &d);
    printf("%s", after.lines);
    expect_reads_counted(d.reads[CU_SESSION], done);
    /* Every read was counted under one outcome, and none was stale. */
    uint64_t sum = 0;
    for (int o = 0; o < CU_OUTCOMES; o++)
        sum += d.out[CU_SESSION][o];
    assert_int_equal(sum, d.reads[CU_SESSION]);
    assert_int_equal(d.out[CU_SESSION][CU_FB_STALE], 0);
    assert_int_equal(d.out[CU_SESSION][CU_FB_ERROR], 0);
}

/* Writes through the proxy every STEADY_WRITE_MS until told to stop. */
static struct steady_writer {
    atomic_bool stop;
    unsigned writes, errors;
    char first_error[256];
    bool started;
    pthread_t thread;
} steady;

static void *steady_writer_main(void *arg)
{
    struct steady_writer *sw = arg;
    MYSQL *m = cu_proxy_connect_try(&px, DB, 0);
    if (!m) {
        sw->errors++;
        return NULL;
    }
    while (!atomic_load(&sw->stop)) {
        if (cu_exec_try(m, "UPDATE cons_tick SET n = n + 1 WHERE id = 1")) {
            if (!sw->errors++)
                snprintf(sw->first_error, sizeof sw->first_error, "%s", mysql_error(m));
            if (sw->errors >= MAX_ERRORS)
                break;
        } else {
            sw->writes++;
        }
        proxy_sleep_ms(STEADY_WRITE_MS);
    }
    mysql_close(m);
    return NULL;
}

static void test_caught_up_reads_stay_on_replicas(void **state)
{
    (void)state;
    skip_direct();
    char ov[512];
    cu_overrides(ov, sizeof ov, CU_MONITOR_MS, NULL, NULL);
    proxy_start(&px, &env, ov);
    assert_true(proxy_wait_replica_reads(&px, 5000));
    struct cu_stats before = {0}, after, d;
    cu_stats_take(&px, &before);

    struct steady_writer *sw = &steady;
    memset(sw, 0, sizeof *sw);
    atomic_init(&sw->stop, false);
    assert_int_equal(pthread_create(&sw->thread, NULL, steady_writer_main, sw), 0);
    sw->started = true;
    struct worker *w = workers;
    memset(workers, 0, sizeof workers);
    double t0 = cu_now_ms();
    for (int i = 0; i < STEADY_READERS; i++) {
        w[i].tid = 101 + i;
        w[i].prepared = i == STEADY_READERS - 1;
        w[i].multi = i == 0;
        w[i].cycles = STEADY_CYCLES;
        w[i].think_ms = STEADY_THINK_MS;
        w[i].deadline = t0 + CHAOS_DEADLINE_MS;
        w[i].rng = 0xABCDEFull * (uint64_t)(i + 1);
    }
    workers_run(w, STEADY_READERS);
    threads_join();
    double ms = cu_now_ms() - t0;

    int done, stale, errors;
    unsigned served[8];
    printf("caught up: %.1f s, steady writer %u writes (%u errors%s%s)\n", ms / 1000, sw->writes,
           sw->errors, sw->errors ? ": " : "", sw->first_error);
    workers_report(w, STEADY_READERS, &done, &stale, &errors, served);
    unsigned on_replicas = served[2] + served[3];
    printf("  reads on replicas (by @@server_id): %u of %d\n", on_replicas, done);
    assert_int_equal(stale, 0);
    assert_int_equal(errors, 0);
    assert_int_equal(sw->errors, 0);
    assert_int_equal(done, STEADY_READERS * STEADY_CYCLES);
    assert_true(on_replicas * 100 >= (unsigned)done * 95);

    cu_stats_take(&px, &after);
    cu_stats_delta(&after, &before, &d);
    cu_stats_print("  outcome split (proxy counters):", &d);
    uint64_t reads = d.reads[CU_SESSION], direct = d.out[CU_SESSION][CU_DIRECT],
             waited = d.out[CU_SESSION][CU_WAITED];
    printf("  session reads on replicas %.1f%%, of those direct %.1f%%\n",
           reads ? 100.0 * (double)(direct + waited) / (double)reads : 0.0,
           direct + waited ? 100.0 * (double)direct / (double)(direct + waited) : 0.0);
    expect_reads_counted(reads, done);
    assert_true((direct + waited) * 100 >= reads * 95);
    assert_true(direct * 100 >= (direct + waited) * 90);
}

/* ---- the group ---- */

/* Workers first (they end on their own), then the threads that run until
 * told to stop. Safe when none runs. */
static void threads_join(void)
{
    workers_join(workers, CHAOS_WORKERS);
    if (chaos.started) {
        atomic_store(&chaos.stop, true);
        pthread_join(chaos.thread, NULL);
        chaos.started = false;
    }
    if (steady.started) {
        atomic_store(&steady.stop, true);
        pthread_join(steady.thread, NULL);
        steady.started = false;
    }
}

static int test_teardown(void **state)
{
    (void)state;
    threads_join();
    if (!proxy_is_direct())
        cu_teardown(&env, &px);
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
    cluster_exec(p, "CREATE TABLE IF NOT EXISTS " DB ".cons_chaos"
                    " (tid INT, seq INT, v BIGINT NOT NULL, PRIMARY KEY (tid, seq))");
    cluster_exec(p, "DELETE FROM " DB ".cons_chaos");
    cluster_exec(p, "CREATE TABLE IF NOT EXISTS " DB ".cons_ctr (tid INT PRIMARY KEY, n INT)");
    cluster_exec(p, "DELETE FROM " DB ".cons_ctr");
    for (int tid = 1; tid <= CHAOS_WORKERS; tid++) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO " DB ".cons_ctr VALUES (%d, -1)", tid);
        cluster_exec(p, sql);
        snprintf(sql, sizeof sql, "INSERT INTO " DB ".cons_ctr VALUES (%d, -1)", 100 + tid);
        cluster_exec(p, sql);
    }
    cluster_exec(p, "CREATE TABLE IF NOT EXISTS " DB ".cons_tick (id INT PRIMARY KEY, n INT)");
    cluster_exec(p, "REPLACE INTO " DB ".cons_tick VALUES (1, 0)");
    mysql_close(p);
    cu_sync_replicas(&env);
    return 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* findings interleave with cmocka's stderr */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_read_your_writes_under_chaos, test_teardown),
        cmocka_unit_test_teardown(test_caught_up_reads_stay_on_replicas, test_teardown),
    };
    return proxy_run_group_tests(tests, group_setup, NULL);
}
