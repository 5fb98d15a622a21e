/*
 * fault_load.c - the fault suite's client load and its end check
 * (fault_load.h).
 *
 * What the client is told, and what must hold
 * -------------------------------------------
 * Every INSERT uses an id no statement of this run used before:
 * id = (thread + 1) * 10^9 + seq, seq counting attempts (successful or
 * not) of that thread; the table has PRIMARY KEY (id) and is created empty
 * for each case. So no client statement can legitimately collide, and each
 * attempt ends in one of three states for the client:
 *
 *   acknowledged  OK packet. The row must be on the primary at the end,
 *                 once, with the value written ("lost" otherwise), and the
 *                 SELECT that follows on the same session must see it: the
 *                 session level promises read-your-writes, so a SELECT that
 *                 succeeds without the row (or with another value) is a
 *                 STALE read. A SELECT that fails is an error, not stale.
 *   not run       an ERR that says the statement did not take effect: the
 *                 proxy's 9001 ("could not be reached ... the statement did
 *                 not run"), 9004-9009, 9011, 1040, and any server error (an
 *                 autocommit INSERT that gets an ERR is rolled back). The
 *                 row must NOT be there at the end.
 *   unknown       9002 (died while running: outcome unknown), 9003, 9010,
 *                 1927 (the server killed the connection), and every
 *                 client-library error (2000-2999, 5000+: the connection to
 *                 the proxy broke mid-statement). Either is fine.
 *
 * Replays. The proxy must never send a write twice. If it did:
 *   - the second execution meets the first's row and fails with 1062
 *     (duplicate key) on the server; a client that sees 1062 for a fresh id
 *     was given the replay's answer -> counted as a replay;
 *   - if the first execution had not applied (say the primary died before
 *     committing) the resend succeeds and the client sees OK: the row is
 *     there once and the data is right, but if the proxy had told the client
 *     "not run" (9001) for an attempt whose row exists, the proxy ran
 *     something it said it did not -> counted as a replay;
 *   - a row whose id the client never attempted (seq beyond the last one)
 *     can only come from a statement sent by someone else -> a replay.
 * A resend the proxy hides completely (first execution lost, resend
 * acknowledged) leaves the same data as one clean execution and cannot be
 * told apart from the table; the PRIMARY KEY guarantees no row exists twice
 * whatever happens, so "exactly once" reduces to "exists" for acknowledged
 * writes and to the two checks above.
 *
 * Readers (sessions that only read FAULT_SEED, written and replicated
 * before the proxy started) must get each row's seeded value; anything else
 * is counted as stale too.
 *
 * Error codes outside README "Error codes" (9001-9011, and the server codes
 * the proxy reuses: 1040 1043 1045 1047 1153 1156 1243, all inside the
 * server's range) and outside the server's own ranges (1000-1999,
 * 3000-4999) are "undocumented" and fail the case: in practice these are the
 * client library's 2006/2013 (the proxy closed a session) and codes the
 * proxy invented. After a client-library error the thread opens a new
 * session (a reconnect).
 *
 * Recovery: with ref = the restore mark when there is one, else the fault
 * mark, and last = the latest error at or after the fault mark, recovery is
 * (end of the first successful cycle that started after max(ref, last)) -
 * ref. Without errors it is the first cycle that started after ref: about one
 * cycle's latency.
 */
#include "fault_load.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
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

#include "fault_rss.h"

#define ID_BASE 1000000000ull

/* Bounded waits so that a proxy that stops answering ends a cycle with an
 * error (counted) instead of hanging the case until the CTest timeout. */
#define CONNECT_TIMEOUT_S 10u
#define IO_TIMEOUT_S      30u
/* After an error, before the next attempt: a client retrying in a tight
 * loop while the primary is down would measure the loop, not the proxy. */
#define RETRY_PAUSE_MS 20u

#define OUT_NONE    0
#define OUT_OK      1
#define OUT_NOT_RUN 2
#define OUT_UNKNOWN 3

struct ev {
    double start, end; /* ms, fault_now_ms() */
    bool ok;
};

struct fl_thread {
    struct fault_load *l;
    int idx;
    bool reader;
    pthread_t th;
    bool started;
    atomic_ulong ok_cycles;
    /* Owned by the thread until joined. */
    uint8_t *outcome; /* per seq */
    size_t n_out, cap_out;
    struct ev *ev;
    size_t n_ev, cap_ev;
    struct fault_report r; /* counters, codes, first_* messages */
    char expected_tag[32];
};

struct fault_load {
    struct fault_load_opts o;
    atomic_bool stop;
    struct fl_thread t[FAULT_LOAD_MAX_THREADS];
    struct fault_rss rss;
    double t_started;
    /* 0: not marked. Written by the main thread while the load threads
     * read t_fault (a stale read's message says how long after the fault
     * it came): atomic. */
    _Atomic double t_fault, t_restored;
    unsigned nonce;
};

/* Writers and readers. */
static int n_threads(const struct fault_load *l)
{
    return l->o.threads + l->o.readers;
}

double fault_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Milliseconds since the fault mark, 0 before it. Any thread. */
static double since_fault(struct fault_load *l)
{
    double t = atomic_load(&l->t_fault);
    return t > 0 ? fault_now_ms() - t : 0.0;
}

/* README "Error codes" plus the server's own ranges. The server codes the
 * proxy reuses (1040 1043 1045 1047 1153 1156 1243) are inside 1000-1999,
 * so only the proxy's own 9001-9011 need listing. */
static bool fault_code_documented(unsigned code)
{
    if (code >= 9001 && code <= 9011)
        return true;
    return (code >= 1000 && code < 2000) || (code >= 3000 && code < 5000);
}

/* libmariadb's own codes: CR_* 2000-2999 and CER_* 5000-5999. */
static bool client_library_error(unsigned code)
{
    return (code >= 2000 && code < 3000) || (code >= 5000 && code < 6000);
}

static int outcome_of_error(unsigned code)
{
    if (code == 9002 || code == 9003 || code == 9010 || code == 1927 || code == 1062 ||
        client_library_error(code) || !fault_code_documented(code))
        return OUT_UNKNOWN;
    return OUT_NOT_RUN;
}

static void count_code(struct fault_report *r, unsigned code, unsigned long n)
{
    for (int i = 0; i < r->n_codes; i++) {
        if (r->codes[i].code == code) {
            r->codes[i].n += n;
            return;
        }
    }
    if (r->n_codes < FAULT_MAX_CODES) {
        r->codes[r->n_codes].code = code;
        r->codes[r->n_codes].n = n;
        r->n_codes++;
    }
}

static void note_first(char *dst, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note_first(char *dst, size_t len, const char *fmt, ...)
{
    if (dst[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, len, fmt, ap);
    va_end(ap);
}

static void push_ev(struct fl_thread *t, double start, double end, bool ok)
{
    if (t->n_ev == t->cap_ev) {
        size_t cap = t->cap_ev ? t->cap_ev * 2 : 1024;
        struct ev *e = realloc(t->ev, cap * sizeof *e);
        if (!e)
            abort(); /* a test process out of memory: nothing sensible left */
        t->ev = e;
        t->cap_ev = cap;
    }
    t->ev[t->n_ev++] = (struct ev){start, end, ok};
}

static void set_outcome(struct fl_thread *t, size_t seq, int out)
{
    while (seq >= t->cap_out) {
        size_t cap = t->cap_out ? t->cap_out * 2 : 4096;
        uint8_t *o = realloc(t->outcome, cap);
        if (!o)
            abort();
        memset(o + t->cap_out, OUT_NONE, cap - t->cap_out);
        t->outcome = o;
        t->cap_out = cap;
    }
    t->outcome[seq] = (uint8_t)out;
    if (seq >= t->n_out)
        t->n_out = seq + 1;
}

static void value_of(const struct fl_thread *t, size_t seq, char *out, size_t len)
{
    snprintf(out, len, "%s-%zu", t->expected_tag, seq);
}

static MYSQL *open_session(const struct fault_load *l, unsigned *err, char *msg, size_t msglen)
{
    const struct proxy_proc *p = l->o.proxy;
    MYSQL *m = mysql_init(NULL);
    if (!m) {
        *err = 2008; /* CR_OUT_OF_MEMORY */
        snprintf(msg, msglen, "mysql_init failed");
        return NULL;
    }
    unsigned ct = CONNECT_TIMEOUT_S, io = IO_TIMEOUT_S;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &io);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &io);
    if (!mysql_real_connect(m, p->env->host, p->env->app_user, p->env->app_password, FAULT_DB,
                            p->port, NULL, 0)) {
        *err = mysql_errno(m);
        snprintf(msg, msglen, "%s", mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

/* One error seen by a thread: counted by code, checked against the
 * documented set. */
static void record_error(struct fl_thread *t, const char *what, unsigned code, const char *msg)
{
    struct fault_report *r = &t->r;
    r->errors++;
    count_code(r, code, 1);
    if (!fault_code_documented(code)) {
        r->undocumented++;
        note_first(r->first_undocumented, sizeof r->first_undocumented, "thread %d %s: %u %s",
                   t->idx, what, code, msg);
    }
}

/* A reader's cycle: one seeded row, checked. Returns false on error
 * (recorded; *drop set when the session must be reopened). */
static bool read_seed(struct fl_thread *t, MYSQL *m, uint64_t *rnd, bool *drop)
{
    struct fault_report *r = &t->r;
    uint64_t x = *rnd;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *rnd = x;
    unsigned k = (unsigned)(x % FAULT_SEED_ROWS) + 1;
    char sql[128], want[32], msg[512];
    snprintf(sql, sizeof sql, "SELECT val FROM " FAULT_SEED " WHERE id = %u", k);
    snprintf(want, sizeof want, "seed-%u", k);
    MYSQL_RES *res = NULL;
    if (mysql_query(m, sql) != 0 || !(res = mysql_store_result(m))) {
        unsigned code = mysql_errno(m);
        snprintf(msg, sizeof msg, "%s", mysql_error(m));
        record_error(t, "reader SELECT", code, msg);
        *drop = client_library_error(code);
        return false;
    }
    MYSQL_ROW row = mysql_fetch_row(res);
    bool ok = row && row[0] && strcmp(row[0], want) == 0;
    if (!ok) {
        r->stale++;
        note_first(r->first_stale, sizeof r->first_stale, "reader %d: seeded row %u read as %s",
                   t->idx, k, row ? (row[0] ? row[0] : "NULL") : "no row");
    }
    mysql_free_result(res);
    return ok;
}

/* The end of a cycle that failed with `code` (already recorded): its
 * event, the session dropped when the client library gave up on it (the
 * next cycle reconnects), the pause before a retry. */
static void failed_cycle(struct fl_thread *t, double start, unsigned code, MYSQL **m)
{
    push_ev(t, start, fault_now_ms(), false);
    if (*m && client_library_error(code)) {
        mysql_close(*m);
        *m = NULL;
    }
    sleep_ms(RETRY_PAUSE_MS);
}

static void *run_thread(void *arg)
{
    struct fl_thread *t = arg;
    struct fault_load *l = t->l;
    struct fault_report *r = &t->r;
    MYSQL *m = NULL;
    bool had_session = false;
    size_t seq = 0;
    char sql[256], val[64], msg[512];
    uint64_t rnd = 0x9E3779B97F4A7C15ull * (uint64_t)(t->idx + 1);
    mysql_thread_init();
    while (!atomic_load(&l->stop)) {
        double start = fault_now_ms();
        if (!m) {
            unsigned err = 0;
            m = open_session(l, &err, msg, sizeof msg);
            if (!m) {
                record_error(t, "connect", err, msg);
                failed_cycle(t, start, err, &m);
                continue;
            }
            if (had_session)
                r->reconnects++;
            had_session = true;
        }
        if (t->reader) {
            bool drop = false;
            bool ok = read_seed(t, m, &rnd, &drop);
            push_ev(t, start, fault_now_ms(), ok);
            if (ok) {
                r->cycles_ok++;
                r->reads_ok++;
                atomic_fetch_add(&t->ok_cycles, 1);
            }
            if (drop) {
                mysql_close(m);
                m = NULL;
            }
            if (!ok)
                sleep_ms(RETRY_PAUSE_MS);
            else if (l->o.pause_ms)
                sleep_ms(l->o.pause_ms);
            continue;
        }
        size_t s = seq++;
        unsigned long long id = (unsigned long long)(t->idx + 1) * ID_BASE + s;
        value_of(t, s, val, sizeof val);
        snprintf(sql, sizeof sql, "INSERT INTO " FAULT_TABLE " (id, val) VALUES (%llu, '%s')", id,
                 val);
        if (mysql_query(m, sql) != 0) {
            unsigned code = mysql_errno(m);
            snprintf(msg, sizeof msg, "%s", mysql_error(m));
            record_error(t, "INSERT", code, msg);
            int out = outcome_of_error(code);
            set_outcome(t, s, out);
            if (out == OUT_UNKNOWN)
                r->writes_unknown++;
            else
                r->writes_not_run++;
            if (code == 1062) {
                r->replays++;
                note_first(r->first_replay, sizeof r->first_replay,
                           "thread %d: INSERT of fresh id %llu got 1062 %s", t->idx, id, msg);
            }
            failed_cycle(t, start, code, &m);
            continue;
        }
        set_outcome(t, s, OUT_OK);
        r->writes_ok++;
        snprintf(sql, sizeof sql, "SELECT val FROM " FAULT_TABLE " WHERE id = %llu", id);
        MYSQL_RES *res = NULL;
        if (mysql_query(m, sql) != 0 || !(res = mysql_store_result(m))) {
            unsigned code = mysql_errno(m);
            snprintf(msg, sizeof msg, "%s", mysql_error(m));
            record_error(t, "SELECT", code, msg);
            failed_cycle(t, start, code, &m);
            continue;
        }
        MYSQL_ROW row = mysql_fetch_row(res);
        bool seen = row && row[0] && strcmp(row[0], val) == 0;
        if (!seen) {
            r->stale++;
            note_first(r->first_stale, sizeof r->first_stale,
                       "thread %d: SELECT after acknowledged INSERT of id %llu saw %s "
                       "(%.0f ms after the fault mark)",
                       t->idx, id, row ? (row[0] ? row[0] : "NULL") : "no row", since_fault(l));
        }
        mysql_free_result(res);
        push_ev(t, start, fault_now_ms(), seen);
        if (seen) {
            r->cycles_ok++;
            atomic_fetch_add(&t->ok_cycles, 1);
        }
        if (l->o.pause_ms)
            sleep_ms(l->o.pause_ms);
    }
    if (m)
        mysql_close(m);
    mysql_thread_end();
    return NULL;
}

void fault_load_prepare(const struct cluster_env *env)
{
    MYSQL *p = cluster_connect(env, 0);
    cluster_exec(p, "CREATE DATABASE IF NOT EXISTS " FAULT_DB);
    cluster_exec(p, "DROP TABLE IF EXISTS " FAULT_DB "." FAULT_TABLE);
    cluster_exec(p, "CREATE TABLE " FAULT_DB "." FAULT_TABLE
                    " (id BIGINT UNSIGNED PRIMARY KEY, val VARCHAR(64) NOT NULL) ENGINE=InnoDB");
    cluster_exec(p, "DROP TABLE IF EXISTS " FAULT_DB "." FAULT_SEED);
    cluster_exec(p, "CREATE TABLE " FAULT_DB "." FAULT_SEED
                    " (id INT PRIMARY KEY, val VARCHAR(32) NOT NULL) ENGINE=InnoDB");
    char seed[128];
    snprintf(seed, sizeof seed,
             "INSERT INTO " FAULT_DB "." FAULT_SEED
             " SELECT seq, CONCAT('seed-', seq) FROM " FAULT_DB ".seq_1_to_%d",
             FAULT_SEED_ROWS);
    cluster_exec(p, seed);
    char *pos = cluster_query_value(p, "SELECT @@gtid_binlog_pos");
    mysql_close(p);
    for (int i = 1; i <= env->replicas; i++) {
        MYSQL *r = cluster_connect(env, i);
        char sql[512];
        snprintf(sql, sizeof sql, "SELECT MASTER_GTID_WAIT('%s', 30)", pos);
        char *rc = cluster_query_value(r, sql);
        if (strcmp(rc, "0") != 0)
            fail_msg("replica %d did not apply %s within 30 s (%s)", i, pos, rc);
        free(rc);
        mysql_close(r);
    }
    free(pos);
}

struct fault_load *fault_load_start(const struct fault_load_opts *o)
{
    assert_true(o->threads >= 1 && o->readers >= 0 &&
                o->threads + o->readers <= FAULT_LOAD_MAX_THREADS);
    struct fault_load *l = calloc(1, sizeof *l);
    assert_non_null(l);
    l->o = *o;
    l->nonce = (unsigned)getpid() ^ (unsigned)fault_now_ms();
    l->t_started = fault_now_ms();
    mysql_library_init(0, NULL, NULL);
    if (o->proxy->pid > 0)
        assert_int_equal(fault_rss_start(&l->rss, o->proxy->pid), 0);
    for (int i = 0; i < o->threads + o->readers; i++) {
        struct fl_thread *t = &l->t[i];
        t->l = l;
        t->idx = i;
        t->reader = i >= o->threads;
        snprintf(t->expected_tag, sizeof t->expected_tag, "%x-t%d", l->nonce, i);
        if (pthread_create(&t->th, NULL, run_thread, t) != 0) {
            atomic_store(&l->stop, true);
            fault_load_stop(l, NULL);
            fail_msg("cannot start load thread %d", i);
        }
        t->started = true;
    }
    return l;
}

void fault_load_mark_fault(struct fault_load *l)
{
    if (l->rss.running)
        fault_rss_rebase(&l->rss);
    atomic_store(&l->t_fault, fault_now_ms());
}

void fault_load_mark_restored(struct fault_load *l)
{
    atomic_store(&l->t_restored, fault_now_ms());
}

bool fault_load_wait_ok(struct fault_load *l, unsigned cycles, unsigned timeout_ms)
{
    unsigned long want[FAULT_LOAD_MAX_THREADS];
    for (int i = 0; i < n_threads(l); i++)
        want[i] = atomic_load(&l->t[i].ok_cycles) + cycles;
    double deadline = fault_now_ms() + timeout_ms;
    for (;;) {
        int behind = 0;
        for (int i = 0; i < n_threads(l); i++)
            if (atomic_load(&l->t[i].ok_cycles) < want[i])
                behind++;
        if (!behind)
            return true;
        if (fault_now_ms() > deadline) {
            fprintf(stderr, "fault_load: %d of %d sessions did not complete %u cycles in %u ms\n",
                    behind, n_threads(l), cycles, timeout_ms);
            return false;
        }
        sleep_ms(20);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Recovery, the longest cycle and the longest stall from every thread's
 * events (see the header comment). */
static void timing(struct fault_load *l, struct fault_report *r, double t_stop)
{
    double t_fault = atomic_load(&l->t_fault), t_restored = atomic_load(&l->t_restored);
    if (t_fault <= 0)
        t_fault = l->t_started;
    double ref = t_restored > 0 ? t_restored : t_fault;
    double last_err = 0;
    size_t n_ok = 0;
    r->max_cycle_ms = 0;
    for (int i = 0; i < n_threads(l); i++) {
        const struct fl_thread *t = &l->t[i];
        for (size_t k = 0; k < t->n_ev; k++) {
            const struct ev *e = &t->ev[k];
            if (e->end < t_fault)
                continue;
            if (!e->ok && e->end > last_err)
                last_err = e->end;
            if (e->ok)
                n_ok++;
            if (e->start >= t_fault && e->end - e->start > r->max_cycle_ms) {
                r->max_cycle_ms = (long)(e->end - e->start);
                snprintf(r->max_cycle_who, sizeof r->max_cycle_who,
                         "%s %d, %s, started %.0f ms after the fault mark",
                         t->reader ? "reader" : "writer", t->idx, e->ok ? "ok" : "error",
                         e->start - t_fault);
            }
        }
    }
    double from = last_err > ref ? last_err : ref;
    double first_ok = -1;
    double *ends = n_ok ? malloc(n_ok * sizeof *ends) : NULL;
    size_t n = 0;
    for (int i = 0; i < n_threads(l); i++) {
        const struct fl_thread *t = &l->t[i];
        for (size_t k = 0; k < t->n_ev; k++) {
            const struct ev *e = &t->ev[k];
            if (!e->ok || e->end < t_fault)
                continue;
            if (ends)
                ends[n++] = e->end;
            if (e->start >= from && (first_ok < 0 || e->end < first_ok))
                first_ok = e->end;
        }
    }
    r->recovery_ms = first_ok < 0 ? -1 : (long)(first_ok - ref);
    double prev = t_fault, gap = 0;
    if (ends) {
        qsort(ends, n, sizeof *ends, cmp_double);
        for (size_t k = 0; k < n; k++) {
            if (ends[k] - prev > gap)
                gap = ends[k] - prev;
            prev = ends[k];
        }
    }
    if (t_stop - prev > gap)
        gap = t_stop - prev;
    r->stall_ms = (long)gap;
    free(ends);
}

/* The end check: every row on the primary against what clients were told. */
static void verify(struct fault_load *l, struct fault_report *r)
{
    const struct cluster_env *env = l->o.proxy->env;
    MYSQL *m = mysql_init(NULL);
    unsigned ct = CONNECT_TIMEOUT_S, io = IO_TIMEOUT_S;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &io);
    if (!mysql_real_connect(m, env->host, env->app_user, env->app_password, FAULT_DB,
                            env->primary_port, NULL, 0) ||
        mysql_query(m, "SELECT id, val FROM " FAULT_TABLE) != 0) {
        snprintf(r->verify_error, sizeof r->verify_error, "primary: %u %s", mysql_errno(m),
                 mysql_error(m));
        mysql_close(m);
        return;
    }
    MYSQL_RES *res = mysql_use_result(m);
    if (!res) {
        snprintf(r->verify_error, sizeof r->verify_error, "primary: %u %s", mysql_errno(m),
                 mysql_error(m));
        mysql_close(m);
        return;
    }
    uint8_t *found[FAULT_LOAD_MAX_THREADS] = {0};
    for (int i = 0; i < n_threads(l); i++) {
        found[i] = calloc(l->t[i].n_out + 1, 1);
        assert_non_null(found[i]);
    }
    MYSQL_ROW row;
    char want[64];
    while ((row = mysql_fetch_row(res))) {
        unsigned long long id = strtoull(row[0], NULL, 10);
        unsigned long long ti = id / ID_BASE, seq = id % ID_BASE;
        struct fl_thread *t =
            ti >= 1 && ti <= (unsigned long long)n_threads(l) ? &l->t[ti - 1] : NULL;
        int out = t && seq < t->n_out ? t->outcome[seq] : OUT_NONE;
        if (out == OUT_NONE || out == OUT_NOT_RUN || found[ti - 1][seq]) {
            r->replays++;
            note_first(r->first_replay, sizeof r->first_replay,
                       "row id %llu (%s) is on the primary but the client %s", id, row[1],
                       out == OUT_NONE      ? "never sent it"
                       : out == OUT_NOT_RUN ? "was told it did not run"
                                            : "saw it twice");
            if (out == OUT_NONE)
                continue;
        }
        found[ti - 1][seq] = 1;
        if (out == OUT_UNKNOWN)
            r->unknown_applied++;
        value_of(t, (size_t)seq, want, sizeof want);
        if (out == OUT_OK && strcmp(row[1], want) != 0) {
            r->lost++;
            note_first(r->first_lost, sizeof r->first_lost, "row id %llu holds '%s', wrote '%s'",
                       id, row[1], want);
        }
    }
    bool fetch_failed = mysql_errno(m) != 0;
    if (fetch_failed)
        snprintf(r->verify_error, sizeof r->verify_error, "reading rows: %u %s", mysql_errno(m),
                 mysql_error(m));
    mysql_free_result(res);
    mysql_close(m);
    for (int i = 0; i < n_threads(l); i++) {
        const struct fl_thread *t = &l->t[i];
        for (size_t s = 0; s < t->n_out; s++) {
            if (t->outcome[s] == OUT_OK && !found[i][s]) {
                r->lost++;
                note_first(r->first_lost, sizeof r->first_lost,
                           "acknowledged row id %llu is not on the primary",
                           (unsigned long long)(i + 1) * ID_BASE + s);
            }
        }
        free(found[i]);
    }
    r->verified = !fetch_failed;
}

static void merge(struct fault_report *r, const struct fault_report *x)
{
    r->cycles_ok += x->cycles_ok;
    r->reads_ok += x->reads_ok;
    r->writes_ok += x->writes_ok;
    r->writes_not_run += x->writes_not_run;
    r->writes_unknown += x->writes_unknown;
    r->errors += x->errors;
    r->undocumented += x->undocumented;
    r->stale += x->stale;
    r->replays += x->replays;
    r->reconnects += x->reconnects;
    for (int i = 0; i < x->n_codes; i++)
        count_code(r, x->codes[i].code, x->codes[i].n);
    note_first(r->first_stale, sizeof r->first_stale, "%s", x->first_stale);
    note_first(r->first_undocumented, sizeof r->first_undocumented, "%s", x->first_undocumented);
    note_first(r->first_replay, sizeof r->first_replay, "%s", x->first_replay);
}

void fault_load_stop(struct fault_load *l, struct fault_report *r)
{
    if (!l)
        return;
    atomic_store(&l->stop, true);
    for (int i = 0; i < n_threads(l); i++)
        if (l->t[i].started)
            pthread_join(l->t[i].th, NULL);
    double t_stop = fault_now_ms();
    fault_rss_stop(&l->rss);
    if (r) {
        memset(r, 0, sizeof *r);
        for (int i = 0; i < n_threads(l); i++)
            merge(r, &l->t[i].r);
        timing(l, r, t_stop);
        r->rss_base_kb = atomic_load(&l->rss.base_kb);
        r->rss_max_kb = atomic_load(&l->rss.max_kb);
        r->rss_growth_kb = fault_rss_growth_kb(&l->rss);
        r->sched_lag_ms = atomic_load(&l->rss.max_lag_ms);
        if (l->o.before_end_check && !l->o.before_end_check())
            snprintf(r->verify_error, sizeof r->verify_error,
                     "not run: the case's before_end_check failed (see stderr)");
        else
            verify(l, r);
    }
    for (int i = 0; i < n_threads(l); i++) {
        free(l->t[i].outcome);
        free(l->t[i].ev);
    }
    free(l);
}

void fault_report_print(const char *name, const struct fault_report *r)
{
    char codes[512] = "";
    size_t off = 0;
    for (int i = 0; i < r->n_codes && off < sizeof codes; i++)
        off += (size_t)snprintf(codes + off, sizeof codes - off, "%s%u:%lu", i ? " " : "",
                                r->codes[i].code, r->codes[i].n);
    printf("fault %s: recovered in %ld ms, errors %lu (codes %s), stale %lu, replays %lu, "
           "rss +%ld KB\n",
           name, r->recovery_ms, r->errors, r->n_codes ? codes : "none", r->stale, r->replays,
           r->rss_growth_kb);
    printf("fault %s: details: cycles ok %lu (reader reads %lu); writes ok %lu, not run %lu, "
           "unknown %lu (applied "
           "%lu); lost %lu; undocumented %lu; reconnects %lu; longest cycle %ld ms (%s); "
           "longest stall %ld ms; rss %ld -> max %ld KB; test machine stalled up to %ld ms%s%s\n",
           name, r->cycles_ok, r->reads_ok, r->writes_ok, r->writes_not_run, r->writes_unknown,
           r->unknown_applied, r->lost, r->undocumented, r->reconnects, r->max_cycle_ms,
           r->max_cycle_who, r->stall_ms, r->rss_base_kb, r->rss_max_kb, r->sched_lag_ms,
           r->verified ? "" : "; END CHECK FAILED: ", r->verified ? "" : r->verify_error);
    const char *firsts[][2] = {{"first stale read", r->first_stale},
                               {"first undocumented error", r->first_undocumented},
                               {"first replay", r->first_replay},
                               {"first lost write", r->first_lost}};
    for (size_t i = 0; i < sizeof firsts / sizeof firsts[0]; i++)
        if (firsts[i][1][0])
            printf("fault %s: %s: %s\n", name, firsts[i][0], firsts[i][1]);
    fflush(stdout);
}

void fault_report_check(const struct fault_report *r, long recovery_cap_ms, long rss_cap_kb,
                        unsigned long max_errors)
{
    if (!r->verified)
        fail_msg("the end check did not run: %s", r->verify_error);
    if (r->stale)
        fail_msg("%lu stale read(s); first: %s", r->stale, r->first_stale);
    if (r->replays)
        fail_msg("%lu replayed write(s); first: %s", r->replays, r->first_replay);
    if (r->lost)
        fail_msg("%lu acknowledged write(s) lost; first: %s", r->lost, r->first_lost);
    if (r->undocumented)
        fail_msg("%lu error(s) outside README's codes and the server's; first: %s", r->undocumented,
                 r->first_undocumented);
    if (r->errors > max_errors) {
        char codes[256] = "";
        size_t off = 0;
        for (int i = 0; i < r->n_codes && off < sizeof codes; i++)
            off += (size_t)snprintf(codes + off, sizeof codes - off, " %u:%lu", r->codes[i].code,
                                    r->codes[i].n);
        fail_msg("%lu error(s) (codes%s), over the bound of %lu", r->errors, codes, max_errors);
    }
    if (r->cycles_ok == 0)
        fail_msg("no cycle succeeded");
    if (r->recovery_ms < 0)
        fail_msg("no successful cycle after the last error: not recovered");
    if (r->recovery_ms > recovery_cap_ms)
        fail_msg("recovered in %ld ms, over the bound of %ld ms", r->recovery_ms, recovery_cap_ms);
    if (r->rss_growth_kb > rss_cap_kb)
        fail_msg("proxy RSS grew by %ld KB (from %ld to %ld), over the bound of %ld KB",
                 r->rss_growth_kb, r->rss_base_kb, r->rss_max_kb, rss_cap_kb);
}
