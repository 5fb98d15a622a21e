/*
 * fault_clients.c - the client-side limits of issue 9 that exist today,
 * measured under load:
 *   conn_burst      5,000 connection attempts at once against
 *                   limits.max_client_connections = 1000: the excess get
 *                   ERR 1040 quickly, the admitted ones log in and run a
 *                   query while the burst runs, and the sessions that were
 *                   already working see no error;
 *   slow_handshake  500 clients that never finish the handshake (half send
 *                   nothing, half dribble one byte a second) are cut at the
 *                   proxy's login timeout while other clients keep working;
 *   idle_timeout    timeouts.client_idle_ms closes an idle session, not a
 *                   busy one;
 *   idle_memory     2,000 idle logged-in clients cost the proxy under 10 KB
 *                   of RSS each (issue 8: idle sessions hold no buffers),
 *                   and every one of them still answers SELECT 1. The RSS
 *                   bound is skipped when the proxy is an ASan build
 *                   (scripts/test runs this case of the gcc build too).
 * The burst and the slow clients use fault_raw (non-blocking sockets, one
 * thread, epoll); the sessions that must keep working are a fault_load.
 *
 * One case per run: `fault_clients <case>` (CTest: faults.<case>).
 * Skipped in direct mode (GTIDPROXY_IT_DIRECT=1).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fault_cluster.h"
#include "fault_load.h"
#include "fault_raw.h"
#include "fault_rss.h"
#include "proxy_env.h"

#define BURST_ATTEMPTS  5000
#define BURST_MAX_CONNS 1000
/* Sessions working before and during the burst (they hold 4 of the 1000). */
#define BURST_LOAD_THREADS 4
/* How long the whole burst may take to resolve (every attempt refused or
 * logged in and answered). */
#define BURST_DEADLINE_MS 60000
/*
 * "Quickly" for a refusal, from connect() to the ERR 1040 read: the proxy
 * answers from its accept callback, without a backend, so what a rejected
 * client waits for is the kernel and the scheduler: 5,000 attempts in flight
 * overflow the listen backlogs (1024 per worker) and dropped SYNs are
 * retransmitted after 1 s and 3 s. Measured: p50 150-300 ms, max 0.2-1.3 s
 * on 2 cores at load ~10; p50 4.4 s, max 8.2 s when the load average was
 * over 20 and issuing the 5,000 connect() calls alone took 7.9 s. The
 * bounds catch a proxy that makes the excess wait for something (a backend,
 * a timeout): median 2 s, slowest 10 s (a client's usual connect timeout),
 * each plus the longest stall of the whole machine seen meanwhile.
 */
#define REFUSE_P50_CAP_MS 2000.0
#define REFUSE_MAX_CAP_MS 10000.0
/* File descriptors: 5,000 sockets here, up to as many in the proxy (which
 * inherits the limit) plus its backend connections. */
#define NOFILE_WANT 16384
#define NOFILE_NEED 12000

#define SLOW_CLIENTS 500
/* timeouts.login_ms for this case: a login must finish within 4 s of the
 * accept. */
#define LOGIN_TIMEOUT_MS 4000.0
/* When a slow client is cut, from its connect(): measured 9.9-10.0 s. The
 * proxy's timer counts from libuv's loop time, cached when the loop
 * iteration that accepted began: when accepting and greeting a few hundred
 * clients takes one iteration ~1 s (ASan, a loaded machine), the cut comes
 * that much early (9.07 s measured). Late: 12.4-16.1 s (proxy log and
 * client alike) while the shared test machine stalled every process for
 * seconds (load average over 20 on 2 cores). The bounds tell "cut at the
 * timeout" from "cut at once" and from "never cut" (still open at the
 * deadline). */
#define CUT_EARLIEST_MS  (LOGIN_TIMEOUT_MS - 2000.0)
#define CUT_LATEST_MS    (LOGIN_TIMEOUT_MS + 10000.0)
#define SLOW_DEADLINE_MS 30000.0

#define IDLE_MS 1000

#define IDLE_CLIENTS 2000
/* Issue 8's bound: RSS growth per idle client (the session's struct and
 * handles, libuv's per-descriptor slot, allocator overhead: 3.6 KB measured
 * here, 15.5 KB when each session kept its 16 KiB read buffer). */
#define IDLE_KB_PER_CLIENT 10.0
/* Each session's SELECT 1 opens a replica connection that stays with it:
 * the clients query in waves this size and quit, so the servers
 * (max_connections 1000) never see more than this many at once. */
#define IDLE_QUERY_WAVE  250
#define IDLE_DEADLINE_MS 60000.0
/* Same bounds as fault_backends.c: RSS growth of the proxy during a case. */
#define RSS_CAP_KB (64L * 1024)
/* The burst leaves 1000 sessions logged in, each with a replica connection:
 * up to 128 KB each under ASan (redzones included; ~90 KB measured), so
 * 128 MB. The 4,000 refused attempts must cost nothing that stays. */
#define BURST_RSS_CAP_KB (128L * 1024)
#define RECOVERY_CAP_MS  5000L

static struct cluster_env env;
static struct proxy_proc proxy;
static struct fault_load *load;
static struct raw_conn *conns;
static int n_conns;
static int ep = -1;

static void skip_direct(void)
{
    if (proxy_is_direct())
        skip();
}

static void close_conns(void)
{
    for (int i = 0; i < n_conns; i++)
        raw_close(&conns[i]);
    free(conns);
    conns = NULL;
    n_conns = 0;
    if (ep >= 0)
        close(ep);
    ep = -1;
}

static int case_setup(void **state)
{
    (void)state;
    if (proxy_is_direct())
        return 0;
    if (fault_cluster_restore(&env) != 0)
        fail_msg("the cluster could not be repaired before the case (see above)");
    fault_load_prepare(&env);
    return 0;
}

static int case_teardown(void **state)
{
    (void)state;
    close_conns();
    fault_load_stop(load, NULL);
    load = NULL;
    proxy_stop(&proxy);
    return 0;
}

static void start_load(int threads)
{
    struct fault_load_opts o = {.proxy = &proxy, .threads = threads, .pause_ms = 2};
    load = fault_load_start(&o);
    if (!fault_load_wait_ok(load, 5, 15000))
        fail_msg("the load did not get going");
}

/* need: descriptors the case needs (here, and in the proxy, which inherits
 * the limit). */
static void raise_nofile(int need)
{
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rlim_t want =
        rl.rlim_max == RLIM_INFINITY || rl.rlim_max > NOFILE_WANT ? NOFILE_WANT : rl.rlim_max;
    if (want < (rlim_t)need)
        fail_msg("RLIMIT_NOFILE hard limit %llu is under the %d descriptors the case needs",
                 (unsigned long long)rl.rlim_max, need);
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *sorted, int n, double p)
{
    if (n == 0)
        return 0;
    int i = (int)(p * (n - 1) + 0.5);
    return sorted[i];
}

static void watch(int i, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)i};
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev), 0);
}

static void rewatch(int i, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)i};
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_MOD, conns[i].fd, &ev), 0);
}

static void unwatch(int i)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, conns[i].fd, NULL);
}

/* The burst's bookkeeping, advanced by burst_pump(). */
struct burst {
    struct raw_login login;
    int open, refused, admitted, answered, other;
    char first_other[256];
};

/* Handles what epoll reports within timeout_ms: refusals are counted and
 * closed, admitted connections log in, run SELECT 1 and then stay open
 * (holding their slot) until the case ends. */
static void burst_pump(struct burst *b, int timeout_ms)
{
    struct epoll_event evs[256];
    int n = epoll_wait(ep, evs, 256, timeout_ms);
    if (n < 0 && errno == EINTR)
        return;
    assert_true(n >= 0);
    for (int k = 0; k < n; k++) {
        int i = (int)evs[k].data.u32;
        struct raw_conn *c = &conns[i];
        double now = fault_now_ms();
        enum raw_state before = c->state;
        if (c->state == RAW_CONNECTING) {
            raw_connected(c, now);
            if (c->state == RAW_GREETING)
                rewatch(i, EPOLLIN);
        }
        if (c->state != RAW_FAILED && (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            raw_step(c, &b->login, now);
        bool was_waiting = before == RAW_GREETING || before == RAW_CONNECTING;
        if (was_waiting && c->state == RAW_AUTH)
            b->admitted++;
        if (c->state == RAW_IDLE && before != RAW_IDLE) {
            if (!c->reply_started) {
                /* logged in: now the query, while the burst goes on */
                if (raw_query(c, "SELECT 1", now) != 0)
                    fail_msg("admitted connection %d: %s", i, c->why);
            } else {
                b->answered++;
                unwatch(i); /* stays open, holding its slot */
                b->open--;
            }
        } else if (c->state == RAW_REFUSED && before != RAW_REFUSED) {
            if (c->err_code == 1040 && was_waiting) {
                b->refused++;
            } else {
                b->other++;
                if (!b->first_other[0])
                    snprintf(b->first_other, sizeof b->first_other, "attempt %d in state %s: %s", i,
                             raw_state_name(before), c->why);
            }
            unwatch(i);
            raw_close(c);
            b->open--;
        } else if ((c->state == RAW_CLOSED || c->state == RAW_FAILED) && before != c->state) {
            b->other++;
            if (!b->first_other[0])
                snprintf(b->first_other, sizeof b->first_other, "attempt %d: %s (%s)", i,
                         raw_state_name(c->state), c->why);
            unwatch(i);
            raw_close(c);
            b->open--;
        }
    }
}

/* ---- conn_burst ---- */

static void test_conn_burst(void **state)
{
    (void)state;
    skip_direct();
    raise_nofile(NOFILE_NEED);
    /* connect_ms 10 s: each admitted session opens its own replica
     * connection (no pooling yet), so ~1000 backend logins start at once;
     * on 2 shared cores MariaDB can take over the default 2 s for some of
     * them, which would be the test machine's limit, not the proxy's. */
    char ov[160];
    snprintf(ov, sizeof ov,
             "{\"limits\": {\"max_client_connections\": %d}, \"timeouts\": {\"connect_ms\": "
             "10000}}",
             BURST_MAX_CONNS);
    proxy_start(&proxy, &env, ov);
    assert_true(proxy_wait_replica_reads(&proxy, 10000));
    start_load(BURST_LOAD_THREADS);
    proxy_sleep_ms(300); /* the readiness probes' sessions are gone */
    fault_load_mark_fault(load);

    conns = calloc(BURST_ATTEMPTS, sizeof *conns);
    assert_non_null(conns);
    ep = epoll_create1(EPOLL_CLOEXEC);
    assert_true(ep >= 0);
    struct burst b = {.login = {env.app_user, env.app_password, true}};
    double t0 = fault_now_ms();
    for (n_conns = 0; n_conns < BURST_ATTEMPTS; n_conns++) {
        struct raw_conn *c = &conns[n_conns];
        int rc = raw_connect(c, env.host, proxy.port, fault_now_ms());
        if (rc != 0)
            fail_msg("attempt %d: connect: %s", n_conns, strerror(-rc));
        watch(n_conns, EPOLLOUT | EPOLLIN);
        b.open++;
        /* Replies are read while the burst goes on, so that each is timed
         * when it arrives, not when the last connect() was issued. */
        if (n_conns % 64 == 63)
            burst_pump(&b, 0);
    }
    double t_issued = fault_now_ms();
    while (b.open > 0 && fault_now_ms() - t0 < BURST_DEADLINE_MS)
        burst_pump(&b, 200);
    int open = b.open, refused = b.refused, admitted = b.admitted, answered = b.answered,
        other = b.other;
    const char *first_other = b.first_other;
    double t_done = fault_now_ms();
    /* Refusal latencies, connect() to ERR. */
    double *lat = calloc(BURST_ATTEMPTS, sizeof *lat);
    double *alat = calloc(BURST_ATTEMPTS, sizeof *alat);
    assert_non_null(lat);
    assert_non_null(alat);
    int nl = 0, na = 0;
    for (int i = 0; i < n_conns; i++) {
        if (conns[i].state == RAW_REFUSED && conns[i].err_code == 1040)
            lat[nl++] = conns[i].t_first - conns[i].t_start;
        if (conns[i].state == RAW_IDLE)
            alat[na++] = conns[i].t_changed - conns[i].t_start;
    }
    qsort(lat, (size_t)nl, sizeof *lat, cmp_double);
    qsort(alat, (size_t)na, sizeof *alat, cmp_double);
    double p50 = pct(lat, nl, 0.5), p99 = pct(lat, nl, 0.99), lmax = nl ? lat[nl - 1] : 0;
    double amax = na ? alat[na - 1] : 0;
    /* The admitted sessions hold their slots: one more login is refused;
     * after they close, a login succeeds again. */
    unsigned err = 0;
    char msg[256];
    MYSQL *extra =
        proxy_try_connect(&proxy, env.app_user, env.app_password, NULL, &err, msg, sizeof msg);
    bool extra_refused = !extra && err == 1040;
    if (extra)
        mysql_close(extra);
    close_conns();
    MYSQL *after = NULL;
    for (int i = 0; i < 100 && !after; i++) {
        after =
            proxy_try_connect(&proxy, env.app_user, env.app_password, NULL, &err, msg, sizeof msg);
        if (!after)
            proxy_sleep_ms(50);
    }
    bool after_ok = after != NULL;
    if (after)
        mysql_close(after);
    struct fault_report r;
    fault_load_stop(load, &r);
    load = NULL;
    printf("fault conn_burst: %d attempts issued in %.0f ms, resolved in %.0f ms: admitted %d "
           "(logged in and answered %d, slowest %.0f ms), refused with 1040 %d (connect to ERR "
           "p50 %.0f ms, p99 %.0f ms, max %.0f ms), other %d%s%s; load errors %lu, rss +%ld KB\n",
           BURST_ATTEMPTS, t_issued - t0, t_done - t0, admitted, answered, amax, refused, p50, p99,
           lmax, other, first_other[0] ? ": " : "", first_other, r.errors, r.rss_growth_kb);
    fault_report_print("conn_burst", &r);
    fflush(stdout);
    free(lat);
    free(alat);

    if (open > 0)
        fail_msg("%d attempts still unresolved after %d ms", open, BURST_DEADLINE_MS);
    if (other)
        fail_msg("%d attempts ended neither refused with 1040 nor answered; first: %s", other,
                 first_other);
    /* Every slot the load does not hold went to the burst, no more. */
    assert_int_equal(admitted, BURST_MAX_CONNS - BURST_LOAD_THREADS);
    assert_int_equal(answered, admitted);
    assert_int_equal(refused, BURST_ATTEMPTS - admitted);
    /* A stall of the whole machine (the sampler's oversleep) delays every
     * reply by as much, whatever the proxy does: the bounds allow it. */
    double lag = (double)r.sched_lag_ms;
    if (p50 > REFUSE_P50_CAP_MS + lag || lmax > REFUSE_MAX_CAP_MS + lag)
        fail_msg("refusals too slow: p50 %.0f ms (bound %.0f), max %.0f ms (bound %.0f), the "
                 "machine stalled up to %.0f ms",
                 p50, REFUSE_P50_CAP_MS + lag, lmax, REFUSE_MAX_CAP_MS + lag, lag);
    if (!extra_refused)
        fail_msg("with every slot taken a further login got %u %s, not 1040", err, msg);
    if (!after_ok)
        fail_msg("after the burst's sessions closed a login still fails: %u %s", err, msg);
    /* The sessions that were working see no error during the burst. */
    fault_report_check(&r, RECOVERY_CAP_MS, BURST_RSS_CAP_KB, 0);
}

/* ---- slow_handshake ---- */

static void test_slow_handshake(void **state)
{
    (void)state;
    skip_direct();
    raise_nofile(NOFILE_NEED);
    proxy_start(&proxy, &env, "{\"timeouts\": {\"login_ms\": 4000}}");
    assert_true(proxy_wait_replica_reads(&proxy, 10000));
    start_load(2);
    fault_load_mark_fault(load);

    conns = calloc(SLOW_CLIENTS, sizeof *conns);
    assert_non_null(conns);
    ep = epoll_create1(EPOLL_CLOEXEC);
    assert_true(ep >= 0);
    struct raw_login no_login = {env.app_user, env.app_password, false};
    for (n_conns = 0; n_conns < SLOW_CLIENTS; n_conns++) {
        int rc = raw_connect(&conns[n_conns], env.host, proxy.port, fault_now_ms());
        if (rc != 0)
            fail_msg("slow client %d: connect: %s", n_conns, strerror(-rc));
        watch(n_conns, EPOLLOUT | EPOLLIN);
    }
    /* The dribblers' login packet: a header announcing 64 bytes, then one
     * byte a second (what a slowloris does to defeat inactivity timers). */
    static const uint8_t header[4] = {64, 0, 0, 1};
    int open = SLOW_CLIENTS, greeted = 0, bad = 0;
    char first_bad[256] = "";
    double t0 = fault_now_ms(), next_drip = t0 + 1000, login_probe_ms = -1;
    bool probed = false;
    struct epoll_event evs[256];
    while (open > 0 && fault_now_ms() - t0 < SLOW_DEADLINE_MS) {
        int n = epoll_wait(ep, evs, 256, 100);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n >= 0);
        for (int k = 0; k < n; k++) {
            int i = (int)evs[k].data.u32;
            struct raw_conn *c = &conns[i];
            double now = fault_now_ms();
            enum raw_state before = c->state;
            if (c->state == RAW_CONNECTING) {
                raw_connected(c, now);
                if (c->state == RAW_GREETING)
                    rewatch(i, EPOLLIN);
            }
            if (c->state != RAW_FAILED && (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                raw_step(c, &no_login, now);
            if (c->state == RAW_GREETED && before != RAW_GREETED) {
                greeted++;
                if (i % 2 == 1 && raw_write(c, header, sizeof header) != 0) {
                    bad++;
                    snprintf(first_bad, sizeof first_bad, "slow client %d: write failed", i);
                }
            } else if (c->state != before && c->state != RAW_GREETING) {
                /* closed (or an ERR, then closed): the cut; failed: not */
                bool was_cut =
                    before == RAW_GREETED && (c->state == RAW_CLOSED || c->state == RAW_REFUSED);
                if (!was_cut) {
                    bad++;
                    if (!first_bad[0])
                        snprintf(first_bad, sizeof first_bad, "slow client %d: %s after %s: %s", i,
                                 raw_state_name(c->state), raw_state_name(before), c->why);
                }
                unwatch(i);
                open--;
            }
        }
        double now = fault_now_ms();
        if (now >= next_drip) {
            for (int i = 1; i < n_conns; i += 2)
                if (conns[i].state == RAW_GREETED)
                    (void)raw_write(&conns[i], "x", 1); /* fails once cut: seen as EOF */
            next_drip += 1000;
        }
        /* Half-way through the timeout: the slow clients hold 500 slots,
         * a normal client still gets in at once. */
        if (!probed && now - t0 > LOGIN_TIMEOUT_MS / 2) {
            probed = true;
            unsigned err;
            char msg[256];
            double t = fault_now_ms();
            MYSQL *m = proxy_try_connect(&proxy, env.app_user, env.app_password, NULL, &err, msg,
                                         sizeof msg);
            if (!m)
                fail_msg("a normal login while the slow clients wait: %u %s", err, msg);
            login_probe_ms = fault_now_ms() - t;
            mysql_close(m);
        }
    }
    double cut_min = 1e18, cut_max = 0;
    int cut = 0;
    unsigned farewell = 0; /* the ERR code sent before the cut, if any */
    for (int i = 0; i < n_conns; i++) {
        if (conns[i].state == RAW_REFUSED)
            farewell = conns[i].err_code;
        if (conns[i].state != RAW_CLOSED && conns[i].state != RAW_REFUSED)
            continue;
        double d = conns[i].t_changed - conns[i].t_start;
        cut++;
        if (d < cut_min)
            cut_min = d;
        if (d > cut_max)
            cut_max = d;
    }
    close_conns();
    struct fault_report r;
    fault_load_stop(load, &r);
    load = NULL;
    char how[48] = "closed without an ERR";
    if (farewell)
        snprintf(how, sizeof how, "ERR %u, then closed", farewell);
    printf("fault slow_handshake: %d slow clients greeted %d, cut %d after %.0f..%.0f ms (%s; "
           "login timeout %.0f ms, fixed in proxy/session.c), still open %d, other %d%s%s; a "
           "normal login meanwhile took %.0f ms; load errors %lu, rss +%ld KB\n",
           SLOW_CLIENTS, greeted, cut, cut ? cut_min : 0, cut_max, how, LOGIN_TIMEOUT_MS, open, bad,
           first_bad[0] ? ": " : "", first_bad, login_probe_ms, r.errors, r.rss_growth_kb);
    fault_report_print("slow_handshake", &r);
    fflush(stdout);
    assert_int_equal(greeted, SLOW_CLIENTS);
    if (open > 0)
        fail_msg("%d slow clients were still connected after %.0f ms", open, SLOW_DEADLINE_MS);
    if (bad)
        fail_msg("%d slow clients ended otherwise than cut after the greeting; first: %s", bad,
                 first_bad);
    if (cut_min < CUT_EARLIEST_MS || cut_max > CUT_LATEST_MS)
        fail_msg("slow clients cut after %.0f..%.0f ms, outside %.0f..%.0f ms", cut_min, cut_max,
                 CUT_EARLIEST_MS, CUT_LATEST_MS);
    /* The working sessions see no error while the slow clients wait. */
    fault_report_check(&r, RECOVERY_CAP_MS, RSS_CAP_KB, 0);
}

/* ---- idle_timeout ---- */

static void test_idle_timeout(void **state)
{
    (void)state;
    skip_direct();
    char ov[128];
    snprintf(ov, sizeof ov, "{\"timeouts\": {\"client_idle_ms\": %d}}", IDLE_MS);
    proxy_start(&proxy, &env, ov);
    /* The idle one: a raw session that logs in and then waits. */
    conns = calloc(1, sizeof *conns);
    assert_non_null(conns);
    n_conns = 1;
    struct raw_conn *c = &conns[0];
    struct raw_login login = {env.app_user, env.app_password, true};
    assert_int_equal(raw_connect(c, env.host, proxy.port, fault_now_ms()), 0);
    ep = epoll_create1(EPOLL_CLOEXEC);
    assert_true(ep >= 0);
    watch(0, EPOLLIN | EPOLLOUT);
    /* The busy one: a query every IDLE_MS / 3. */
    MYSQL *busy = proxy_connect(&proxy, NULL, 0);
    double t_idle = -1, t_closed = -1, t0 = fault_now_ms(), next_query = t0;
    int queries = 0;
    /* Until the idle one is cut and the busy one has lived 3 timeouts. */
    while (fault_now_ms() - t0 < 4 * IDLE_MS &&
           (t_closed < 0 || fault_now_ms() - t0 < 3 * IDLE_MS)) {
        struct epoll_event ev;
        int n = epoll_wait(ep, &ev, 1, 20);
        double now = fault_now_ms();
        if (n == 1) {
            if (c->state == RAW_CONNECTING) {
                raw_connected(c, now);
                rewatch(0, EPOLLIN);
            } else if (c->state != RAW_CLOSED) {
                enum raw_state before = c->state;
                raw_step(c, &login, now);
                if (c->state == RAW_IDLE && before != RAW_IDLE)
                    t_idle = now;
                else if (c->state == RAW_CLOSED) {
                    t_closed = now;
                    unwatch(0);
                } else if (c->state != RAW_AUTH && c->state != RAW_IDLE)
                    fail_msg("idle session: %s: %s", raw_state_name(c->state), c->why);
            }
        }
        if (now >= next_query) {
            cluster_exec(busy, "DO 1"); /* fails the test if the busy one was cut */
            queries++;
            next_query = now + IDLE_MS / 3.0;
        }
    }
    cluster_exec(busy, "DO 1");
    mysql_close(busy);
    printf("fault idle_timeout: idle session cut %.0f ms after its login (client_idle_ms %d); "
           "busy session ran %d statements over %.0f ms unharmed\n",
           t_closed >= 0 && t_idle >= 0 ? t_closed - t_idle : -1.0, IDLE_MS, queries,
           fault_now_ms() - t0);
    assert_true(t_idle >= 0);
    if (t_closed < 0)
        fail_msg("the idle session was not closed within %d ms", 4 * IDLE_MS);
    double d = t_closed - t_idle;
    if (d < IDLE_MS - 100 || d > IDLE_MS + 1000)
        fail_msg("the idle session was closed after %.0f ms, not about %d ms", d, IDLE_MS);
    assert_true(proxy_log_wait(&proxy, 0, "(timeouts.client_idle_ms)", 2000));
}

/* ---- idle_memory ---- */

/* Advances every watched raw connection for up to timeout_ms. */
static void pump(const struct raw_login *login, int timeout_ms)
{
    struct epoll_event evs[256];
    int n = epoll_wait(ep, evs, 256, timeout_ms);
    if (n < 0 && errno == EINTR)
        return;
    assert_true(n >= 0);
    for (int k = 0; k < n; k++) {
        int i = (int)evs[k].data.u32;
        struct raw_conn *c = &conns[i];
        double now = fault_now_ms();
        if (c->state == RAW_CONNECTING) {
            raw_connected(c, now);
            if (c->state == RAW_GREETING)
                rewatch(i, EPOLLIN);
        }
        if (c->state != RAW_FAILED && (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            raw_step(c, login, now);
        if (c->state == RAW_REFUSED || c->state == RAW_CLOSED || c->state == RAW_FAILED)
            fail_msg("idle client %d: %s: %s", i, raw_state_name(c->state), c->why);
    }
}

/* Whether the proxy this case runs (proxy_binary(), which
 * GTIDPROXY_IT_BINARY may point elsewhere than this build's) was built with
 * AddressSanitizer: its runtime's strings are in the file. Decided from the
 * proxy, not from this test binary: CI runs the ASan tests' binaries, and a
 * gcc build's case runs a gcc proxy whose bound must be checked. */
static bool proxy_sanitized(void)
{
    const char *bin = proxy_binary();
    int fd = open(bin, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0)
        fail_msg("%s: %s", bin, strerror(errno));
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        fail_msg("mmap %s: %s", bin, strerror(errno));
    static const char mark[] = "AddressSanitizer";
    bool found = memmem(map, (size_t)st.st_size, mark, sizeof mark - 1) != NULL;
    munmap(map, (size_t)st.st_size);
    return found;
}

static void test_idle_memory(void **state)
{
    (void)state;
    skip_direct();
    raise_nofile(IDLE_CLIENTS + 1000);
    char ov[160];
    snprintf(ov, sizeof ov,
             "{\"limits\": {\"max_client_connections\": %d}, \"logging\": {\"level\": \"info\"}}",
             IDLE_CLIENTS + 100);
    proxy_start(&proxy, &env, ov);
    assert_true(proxy_wait_replica_reads(&proxy, 10000));
    /* Warm-up: a few sessions log in, query and leave (the workers' pools
     * and the allocator's arenas get their first blocks). */
    for (int i = 0; i < 4; i++) {
        MYSQL *m = proxy_connect(&proxy, NULL, 0);
        free(cluster_query_value(m, "SELECT 1"));
        mysql_close(m);
    }
    proxy_sleep_ms(500);
    long base_kb = fault_rss_read_kb(proxy.pid);
    assert_true(base_kb > 0);

    conns = calloc(IDLE_CLIENTS, sizeof *conns);
    assert_non_null(conns);
    ep = epoll_create1(EPOLL_CLOEXEC);
    assert_true(ep >= 0);
    struct raw_login login = {env.app_user, env.app_password, true};
    double t0 = fault_now_ms();
    for (n_conns = 0; n_conns < IDLE_CLIENTS; n_conns++) {
        int rc = raw_connect(&conns[n_conns], env.host, proxy.port, fault_now_ms());
        if (rc != 0)
            fail_msg("idle client %d: connect: %s", n_conns, strerror(-rc));
        watch(n_conns, EPOLLOUT | EPOLLIN);
        if (n_conns % 64 == 63)
            pump(&login, 0);
    }
    int idle = 0;
    while (idle < IDLE_CLIENTS && fault_now_ms() - t0 < IDLE_DEADLINE_MS) {
        pump(&login, 100);
        idle = 0;
        for (int i = 0; i < n_conns; i++)
            idle += conns[i].state == RAW_IDLE;
    }
    double t_login = fault_now_ms() - t0;
    if (idle < IDLE_CLIENTS)
        fail_msg("only %d of %d clients logged in within %.0f ms", idle, IDLE_CLIENTS,
                 IDLE_DEADLINE_MS);
    /* Longer than the idle check's period (1 s): whatever an idle session
     * might still hold has been given back. */
    proxy_sleep_ms(1500);
    long idle_kb = fault_rss_read_kb(proxy.pid);
    double per_client = (double)(idle_kb - base_kb) / IDLE_CLIENTS;

    /* Every client still works: SELECT 1 in waves, then quits. */
    int answered = 0;
    for (int w0 = 0; w0 < n_conns; w0 += IDLE_QUERY_WAVE) {
        int w1 = w0 + IDLE_QUERY_WAVE < n_conns ? w0 + IDLE_QUERY_WAVE : n_conns;
        for (int i = w0; i < w1; i++)
            if (raw_query(&conns[i], "SELECT 1", fault_now_ms()) != 0)
                fail_msg("idle client %d: %s", i, conns[i].why);
        int done = 0;
        double tw = fault_now_ms();
        while (done < w1 - w0 && fault_now_ms() - tw < IDLE_DEADLINE_MS) {
            pump(&login, 100);
            done = 0;
            for (int i = w0; i < w1; i++)
                done += conns[i].state == RAW_IDLE;
        }
        if (done < w1 - w0)
            fail_msg("clients %d..%d: %d of %d answered SELECT 1 within %.0f ms", w0, w1 - 1, done,
                     w1 - w0, IDLE_DEADLINE_MS);
        answered += done;
        for (int i = w0; i < w1; i++) {
            unwatch(i);
            raw_close(&conns[i]);
        }
    }
    printf("fault idle_memory: %d clients logged in within %.0f ms; proxy VmRSS %ld kB -> %ld kB "
           "with them idle: %.2f kB per client (bound %.1f); %d answered SELECT 1 afterwards\n",
           IDLE_CLIENTS, t_login, base_kb, idle_kb, per_client, IDLE_KB_PER_CLIENT, answered);
    fflush(stdout);
    assert_int_equal(answered, IDLE_CLIENTS);
    if (proxy_sanitized()) {
        printf("fault idle_memory: RSS bound not checked: AddressSanitizer build (its allocator "
               "adds redzones and metadata to every block, and a quarantine: see "
               "fault_rss_bound_sanitizer)\n");
        return;
    }
    if (per_client >= IDLE_KB_PER_CLIENT)
        fail_msg("each idle client costs the proxy %.2f kB of RSS, over the %.1f kB bound",
                 per_client, IDLE_KB_PER_CLIENT);
}

/* ---- main ---- */

static int group_setup(void **state)
{
    (void)state;
    cluster_env_load(&env);
    fault_rss_bound_sanitizer();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    close_conns();
    fault_load_stop(load, NULL);
    load = NULL;
    proxy_stop(&proxy);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest all[] = {
        cmocka_unit_test_setup_teardown(test_conn_burst, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_slow_handshake, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_idle_memory, case_setup, case_teardown),
    };
    const size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; argc == 2 && i < n; i++) {
        if (strcmp(all[i].name + strlen("test_"), argv[1]) == 0) {
            const struct CMUnitTest one[] = {all[i]};
            return proxy_run_tests(argv[1], one, 1, group_setup, group_teardown);
        }
    }
    fprintf(stderr, "usage: %s CASE (one of:", argv[0]);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %s", all[i].name + strlen("test_"));
    fprintf(stderr, ")\n");
    return 2;
}
