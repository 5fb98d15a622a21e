/*
 * monitor.c - the backend monitor (monitor.h): one thread per backend that
 * keeps the table of health, flavor, replication state, lag and known sets,
 * and answers `strong` look-ups of the primary's executed set.
 *
 *   monitor_start ──▶ mt_main, one per backend ──libmariadb (blocking)──▶ backend
 *     each turn, the first that applies:
 *       strong ticket not yet covered (primary) ─▶ look-up, publish, on_strong()
 *       health check due (interval_ms)          ─▶ connect if needed, @@read_only,
 *                                                  SHOW SLAVE|REPLICA STATUS
 *       poll due (replica, connected,           ─▶ applied set replaces known
 *                 gtid_poll_interval_ms)
 *       otherwise sleep on wake_cond until the next due time (monitor_stop and
 *       monitor_strong_request broadcast it)
 *
 * Failure handling: any failed connect or query closes the connection and
 * counts as a failed check with the reason; the next health check (not the
 * next poll: a dead server is not worth 50 connects a second) connects again.
 * A strong look-up connects at once when it must, since a read waits on it.
 * Every answered health check, poll and strong look-up counts as a good
 * check. Health follows the checks with hysteresis (mon_health.h: up,
 * suspect after one failure, down after monitor.fall_checks in a row, up
 * again after monitor.rise_checks good ones in a row, both read from the
 * config snapshot at each check). One log line per change of health (old
 * and new state, the run of checks, the reason) or replication state,
 * never one per check.
 *
 * Every libmariadb call is bounded by the connect/read/write timeouts, so a
 * hung backend delays monitor_stop by at most one of them (whole seconds:
 * libmariadb takes no finer unit).
 */
#include "monitor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>

#include "log.h"
#include "monitor_parse.h"
#include "proxy.h"

/* One backend's thread: its connection and scratch space. Owned by the
 * thread, which frees it when it ends. */
struct mon_thread {
    struct monitor *m;
    struct mon_backend *be;
    const struct backend_info *info;
    size_t idx;
    bool primary;            /* this backend is the primary (set each turn) */
    int ro_logged;           /* replicas: read_only as last warned about, -1 never */
    MYSQL *my;               /* NULL: not connected */
    enum gtid_flavor flavor; /* of the server my is connected to */
    struct gtid_set scratch; /* the last set read, in that flavor */
    int repl_logged;         /* replicating as last logged: -1 never */
    uint64_t strong_sent;    /* tickets covered by this thread's last look-up */
    char err[256];           /* why the current round failed */
};

/* ---- the thread's rounds ---- */

/* Counts one check (ok: the backend answered; else t->err says why) and
 * logs the transition it caused, if any. */
static void mt_health(struct mon_thread *t, bool ok)
{
    const struct config *cfg = proxy_snap(t->m->px)->cfg;
    unsigned fall = cfg->monitor_fall_checks, rise = cfg->monitor_rise_checks;
    struct mon_backend *be = t->be;
    char version[sizeof be->version];

    pthread_mutex_lock(&be->lock);
    enum mon_health old = be->hs.state;
    bool changed = mon_health_step(&be->hs, ok, fall, rise, proxy_now_ms());
    struct mon_health_state hs = be->hs;
    mon_health_reason(&hs, fall, rise, be->last_error, be->health_reason, sizeof be->health_reason);
    memcpy(version, be->version, sizeof version);
    pthread_mutex_unlock(&be->lock);
    atomic_store(&be->health_fails, hs.fails);
    atomic_store(&be->health, (int)hs.state);
    if (!changed)
        return;

    const struct backend_info *b = t->info;
    unsigned n = mon_health_count(&hs);
    if (hs.state == MON_UP)
        log_info("monitor: %s %s:%u %s -> up after %u good check%s (%s, read_only=%d)", b->name,
                 b->host, b->port, mon_health_name(old), n, n == 1 ? "" : "s", version,
                 (int)atomic_load(&be->read_only));
    else
        log_warn("monitor: %s %s:%u %s -> %s after %u failed check%s: %s", b->name, b->host,
                 b->port, mon_health_name(old), mon_health_name(hs.state), n, n == 1 ? "" : "s",
                 t->err);
}

/*
 * Feeds this backend's latest observation to the topology decision and
 * publishes the result. One log line per change of state or primary.
 */
static void mt_topology(struct mon_thread *t, bool claims)
{
    struct monitor *m = t->m;
    struct proxy *px = m->px;
    const struct config *cfg = proxy_snap(px)->cfg;
    pthread_mutex_lock(&m->topo_lock);
    size_t was = m->topo.primary;
    bool changed = topology_observe(&m->topo, t->idx, claims, proxy_now_ms(),
                                    cfg->topology_confirm_ms, cfg->topology_follow);
    if (changed) {
        const char *const *names = (const char *const *)m->names;
        topology_describe(&m->topo, names, m->topo_why, sizeof m->topo_why);
        atomic_store(&px->primary_idx, m->topo.primary);
        atomic_store(&px->writes_refused, m->topo.state == TOPO_SPLIT);
        if (m->topo.primary != was)
            log_warn("topology: writes now go to %s (was %s): it claimed the primary role for "
                     "%u ms",
                     names[m->topo.primary], names[was], cfg->topology_confirm_ms);
        else if (m->topo.state == TOPO_SPLIT)
            log_error("topology: %s; statements for the primary are refused until one of them "
                      "is read_only or replicates",
                      m->topo_why);
        else
            log_warn("topology: %s: %s", topo_state_name(m->topo.state), m->topo_why);
    }
    pthread_mutex_unlock(&m->topo_lock);
}

/* The round failed for the reason in t->err: drop the connection (the next
 * health check reconnects), remember why, count a failed check. */
static void mt_failed(struct mon_thread *t)
{
    if (t->my) {
        mysql_close(t->my);
        t->my = NULL;
    }
    pthread_mutex_lock(&t->be->lock);
    snprintf(t->be->last_error, sizeof t->be->last_error, "%s", t->err);
    t->be->last_error_ms = proxy_now_ms();
    pthread_mutex_unlock(&t->be->lock);
    log_debug("monitor: %s: %s", t->info->name, t->err);
    mt_health(t, false);
    /* A backend is taken to have stopped claiming the primary role only
     * once it is down (monitor.fall_checks failures): one failed check
     * must neither end a split nor let another claim be followed. */
    if (atomic_load(&t->be->health) == MON_DOWN)
        mt_topology(t, false);
}

/* libmariadb takes whole seconds: round up, at least 1 (0 means "no limit"). */
static unsigned timeout_s(unsigned ms)
{
    unsigned s = ms / 1000u + (ms % 1000u != 0);
    return s ? s : 1;
}

static int mt_connect(struct mon_thread *t, const struct config *cfg)
{
    MYSQL *my = mysql_init(NULL);
    if (!my) {
        snprintf(t->err, sizeof t->err, "connect: out of memory");
        return -1;
    }
    unsigned secs = timeout_s(cfg->connect_timeout_ms);
    /* TCP even for "localhost" (libmariadb would take the Unix socket):
     * the data plane connects over TCP, and so must what checks it. */
    unsigned proto = MYSQL_PROTOCOL_TCP;
    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
    mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &secs);
    mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &secs);
    mysql_options(my, MYSQL_OPT_PROTOCOL, &proto);
    if (!mysql_real_connect(my, t->info->host, cfg->monitor_user, cfg->monitor_password, NULL,
                            t->info->port, NULL, 0)) {
        snprintf(t->err, sizeof t->err, "connect: %s (%u)", mysql_error(my), mysql_errno(my));
        mysql_close(my);
        return -1;
    }
    const char *version = mysql_get_server_info(my);
    t->flavor = mon_flavor_of_version(version);
    if (t->scratch.flavor != t->flavor) {
        gtid_set_free(&t->scratch);
        gtid_set_init(&t->scratch, t->flavor);
    }
    pthread_mutex_lock(&t->be->lock);
    snprintf(t->be->version, sizeof t->be->version, "%s", version ? version : "");
    t->be->flavor = t->flavor;
    t->be->flavor_known = true;
    pthread_mutex_unlock(&t->be->lock);
    t->my = my;
    return 0;
}

/* Runs sql and returns its stored result, or NULL with t->err set. */
static MYSQL_RES *mt_query(struct mon_thread *t, const char *sql)
{
    if (mysql_real_query(t->my, sql, strlen(sql)) != 0) {
        snprintf(t->err, sizeof t->err, "%s: %s (%u)", sql, mysql_error(t->my), mysql_errno(t->my));
        return NULL;
    }
    MYSQL_RES *res = mysql_store_result(t->my);
    if (!res) {
        if (mysql_errno(t->my))
            snprintf(t->err, sizeof t->err, "%s: %s (%u)", sql, mysql_error(t->my),
                     mysql_errno(t->my));
        else
            snprintf(t->err, sizeof t->err, "%s: no result set", sql);
    }
    return res;
}

/* The first row's first value of sql; the result stays in *res for the
 * caller to free. NULL value: *val = NULL. Returns 0 or -1 (t->err set). */
static int mt_query_value(struct mon_thread *t, const char *sql, MYSQL_RES **res, const char **val,
                          size_t *len)
{
    *res = mt_query(t, sql);
    if (!*res)
        return -1;
    MYSQL_ROW row = mysql_num_fields(*res) >= 1 ? mysql_fetch_row(*res) : NULL;
    unsigned long *lengths = row ? mysql_fetch_lengths(*res) : NULL;
    if (!row || !lengths) {
        snprintf(t->err, sizeof t->err, "%s: no row", sql);
        mysql_free_result(*res);
        *res = NULL;
        return -1;
    }
    *val = row[0];
    *len = row[0] ? lengths[0] : 0;
    return 0;
}

/* Reads the set sql returns into t->scratch. */
static int mt_read_set(struct mon_thread *t, const char *sql)
{
    MYSQL_RES *res;
    const char *val;
    size_t len;
    if (mt_query_value(t, sql, &res, &val, &len) != 0)
        return -1;
    /* Neither variable is ever NULL; if one were, the empty set is the
     * safe reading (a lower bound of anything). */
    size_t off = 0;
    int rc = gtid_set_parse(&t->scratch, val ? val : "", len, &off);
    if (rc != 0)
        snprintf(t->err, sizeof t->err, "%s: %s at offset %zu of \"%.*s\"", sql,
                 gtid_status_str(rc), off, (int)(len < 64 ? len : 64), val ? val : "");
    mysql_free_result(res);
    return rc == 0 ? 0 : -1;
}

static void mt_publish_known(struct mon_thread *t)
{
    pthread_mutex_lock(&t->be->lock);
    /* Out of memory leaves the old value: still a lower bound. */
    if (gtid_set_copy(&t->be->known, &t->scratch) == 0)
        t->be->known_at_ms = proxy_now_ms();
    pthread_mutex_unlock(&t->be->lock);
}

static int mt_read_only(struct mon_thread *t, bool *ro)
{
    MYSQL_RES *res;
    const char *val;
    size_t len;
    if (mt_query_value(t, "SELECT @@read_only", &res, &val, &len) != 0)
        return -1;
    *ro = val && strcmp(val, "0") != 0;
    mysql_free_result(res);
    return 0;
}

static int mt_repl_status(struct mon_thread *t, struct mon_repl_status *st)
{
    MYSQL_RES *res = mt_query(t, mon_sql_repl_status(t->flavor));
    if (!res)
        return -1;
    struct mon_repl_cols cols;
    mon_repl_cols_init(&cols);
    unsigned nf = mysql_num_fields(res);
    MYSQL_FIELD *fields = mysql_fetch_fields(res);
    for (unsigned i = 0; fields && i < nf; i++)
        mon_repl_cols_note(&cols, (int)i, fields[i].name);
    mon_repl_status_init(st);
    for (MYSQL_ROW row; (row = mysql_fetch_row(res)) != NULL;)
        mon_repl_status_add(st, &cols, (const char *const *)row, nf);
    mysql_free_result(res);
    return 0;
}

/* Health check: reachable, flavor, @@read_only, replication threads, lag. */
static void mt_check(struct mon_thread *t, const struct config *cfg)
{
    struct mon_backend *be = t->be;
    atomic_fetch_add(&be->checks, 1);
    bool ro;
    struct mon_repl_status st;
    /* The primary's executed set too: replicas' distance is measured
     * against it (admin API); strong reads still look it up afresh. */
    if ((!t->my && mt_connect(t, cfg) != 0) || mt_read_only(t, &ro) != 0 ||
        mt_repl_status(t, &st) != 0 ||
        (t->primary && mt_read_set(t, mon_sql_applied(t->flavor, true)) != 0)) {
        atomic_fetch_add(&be->check_failures, 1);
        mt_failed(t);
        return;
    }
    if (t->primary)
        mt_publish_known(t);
    atomic_store(&be->read_only, ro);
    atomic_store(&be->replicating, st.replicating);
    atomic_store(&be->applying, st.applying);
    atomic_store(&be->receiving, st.receiving);
    atomic_store(&be->lag_ms, st.lag_ms);
    atomic_store(&be->checked_ms, proxy_now_ms());
    if (!t->primary && t->repl_logged != (int)st.replicating) {
        if (st.replicating)
            log_info("monitor: %s is replicating", t->info->name);
        else
            log_warn("monitor: %s is not replicating (%s)", t->info->name,
                     st.rows ? "replication threads not both running" : "no replication set up");
        t->repl_logged = st.replicating;
    }
    mt_health(t, true);
    /* A writable server that replicates is a misconfigured replica, not a
     * primary: warned about once, not followed (topology.h). */
    bool claims = !ro && !st.applying && !st.receiving;
    if (!t->primary && !claims && t->ro_logged != (int)ro) {
        if (!ro)
            log_warn("monitor: %s replicates with read_only=0: writes that bypass the proxy "
                     "could diverge it, and it would count as a second primary if its "
                     "replication stopped",
                     t->info->name);
        t->ro_logged = ro;
    }
    mt_topology(t, claims);
}

/* A replica's applied set replaces its known set. */
static void mt_poll(struct mon_thread *t)
{
    atomic_fetch_add(&t->be->polls, 1);
    if (mt_read_set(t, mon_sql_applied(t->flavor, false)) != 0) {
        mt_failed(t);
        return;
    }
    mt_publish_known(t);
    mt_health(t, true);
}

static bool mt_strong_pending(const struct mon_thread *t)
{
    return t->primary && atomic_load(&t->m->strong_tickets) > t->strong_sent;
}

/*
 * One look-up of the primary's executed set for every ticket issued before
 * its query is sent. A ticket issued after that may belong to a read that
 * arrived after a commit the answer does not show, so it waits for the
 * next look-up. A failed connect answers (with the failure) the tickets
 * issued before it was tried.
 */
static void mt_strong(struct mon_thread *t, const struct config *cfg)
{
    struct monitor *m = t->m;
    uint64_t covered = atomic_load(&m->strong_tickets);
    bool ok = false;
    if (t->my || mt_connect(t, cfg) == 0) {
        covered = atomic_load(&m->strong_tickets);
        atomic_fetch_add(&t->be->polls, 1);
        ok = mt_read_set(t, mon_sql_applied(t->flavor, true)) == 0;
    }
    if (ok) {
        mt_publish_known(t);
        /* It answered a query: a good check (the rest of the health check
         * follows when it is due). */
        mt_health(t, true);
    } else {
        mt_failed(t); /* before on_strong: workers then see the primary's new health */
    }

    pthread_mutex_lock(&m->strong_lock);
    if (ok && gtid_set_copy(&m->strong_set, &t->scratch) != 0) {
        ok = false;
        snprintf(t->err, sizeof t->err, "out of memory");
    }
    m->strong_covered = covered;
    m->strong_failed = !ok;
    if (ok)
        m->strong_error[0] = '\0';
    else
        snprintf(m->strong_error, sizeof m->strong_error, "%s", t->err);
    pthread_mutex_unlock(&m->strong_lock);
    t->strong_sent = covered;
    if (m->on_strong)
        m->on_strong(m->on_strong_arg);
}

/* Sleeps until due_ms (proxy_now_ms clock), a stop, or (primary) a strong
 * ticket this thread has not covered yet. Checked under wake_lock, which
 * requesters take before broadcasting, so no wake-up is lost. */
static void mt_sleep_until(struct mon_thread *t, uint64_t due_ms)
{
    struct monitor *m = t->m;
    struct timespec ts = {.tv_sec = (time_t)(due_ms / 1000u),
                          .tv_nsec = (long)(due_ms % 1000u) * 1000000L};
    pthread_mutex_lock(&m->wake_lock);
    while (!atomic_load(&m->stop) && !mt_strong_pending(t) && proxy_now_ms() < due_ms)
        if (pthread_cond_timedwait(&m->wake_cond, &m->wake_lock, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&m->wake_lock);
}

static void *mt_main(void *arg)
{
    struct mon_thread *t = arg;
    struct monitor *m = t->m;
    mysql_thread_init();
    uint64_t next_check = 0, next_poll = 0; /* both due at once */
    while (!atomic_load(&m->stop)) {
        /* Loaded every turn: a reload's intervals, timeouts and (at the
         * next connect) credentials apply without a restart. */
        const struct config *cfg = proxy_snap(m->px)->cfg;
        t->primary = t->idx == proxy_primary(m->px);
        /* Strong look-ups first: a read waits on each, a check does not;
         * but a check overdue by a whole interval goes first, so a steady
         * stream of strong reads cannot starve it. */
        uint64_t now = proxy_now_ms();
        if (mt_strong_pending(t) && now < next_check + cfg->monitor_interval_ms) {
            mt_strong(t, cfg);
            continue;
        }
        if (now >= next_check) {
            mt_check(t, cfg);
            next_check = proxy_now_ms() + cfg->monitor_interval_ms;
            continue;
        }
        bool polling = !t->primary && t->my;
        if (polling && now >= next_poll) {
            mt_poll(t);
            next_poll = proxy_now_ms() + cfg->gtid_poll_interval_ms;
            continue;
        }
        mt_sleep_until(t, polling && next_poll < next_check ? next_poll : next_check);
    }
    if (t->my)
        mysql_close(t->my);
    gtid_set_free(&t->scratch);
    free(t);
    mysql_thread_end();
    return NULL;
}

/* ---- start / stop ---- */

int monitor_init(struct monitor *m, struct proxy *px, enum gtid_flavor flavor, char *err,
                 size_t errlen)
{
    /* on_strong is the caller's, set before the threads exist. */
    void (*on_strong)(void *) = m->on_strong;
    void *on_strong_arg = m->on_strong_arg;
    memset(m, 0, sizeof *m);
    m->on_strong = on_strong;
    m->on_strong_arg = on_strong_arg;
    m->px = px;
    m->be = calloc(px->n_backends ? px->n_backends : 1, sizeof *m->be);
    m->threads = calloc(px->n_backends ? px->n_backends : 1, sizeof *m->threads);
    m->names = calloc(px->n_backends ? px->n_backends : 1, sizeof *m->names);
    bool topo = topology_init(&m->topo, px->n_backends, proxy_primary(px)) == 0;
    if (!m->be || !m->threads || !m->names || !topo) {
        if (topo)
            topology_free(&m->topo);
        free(m->be);
        free(m->threads);
        free(m->names);
        m->be = NULL;
        m->threads = NULL;
        m->names = NULL;
        snprintf(err, errlen, "monitor: out of memory");
        return -1;
    }
    m->n = px->n_backends;
    for (size_t i = 0; i < m->n; i++)
        m->names[i] = px->backends[i].name;
    for (size_t i = 0; i < m->n; i++) {
        struct mon_backend *b = &m->be[i];
        pthread_mutex_init(&b->lock, NULL);
        gtid_set_init(&b->known, flavor);
        b->flavor = flavor;
        mon_health_init(&b->hs, proxy_now_ms());
        snprintf(b->health_reason, sizeof b->health_reason, "not checked yet");
        atomic_init(&b->health, MON_UNKNOWN);
        atomic_init(&b->health_fails, 0);
        atomic_init(&b->lag_ms, -1);
    }
    pthread_mutex_init(&m->topo_lock, NULL);
    snprintf(m->topo_why, sizeof m->topo_why, "%s is the primary",
             px->backends[proxy_primary(px)].name);
    atomic_init(&m->stop, false);
    atomic_init(&m->strong_tickets, 0);
    gtid_set_init(&m->strong_set, flavor);
    pthread_mutex_init(&m->strong_lock, NULL);
    pthread_mutex_init(&m->wake_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* proxy_now_ms's clock */
    pthread_cond_init(&m->wake_cond, &ca);
    pthread_condattr_destroy(&ca);
    return 0;
}

int monitor_start(struct monitor *m, struct proxy *px, enum gtid_flavor flavor, char *err,
                  size_t errlen)
{
    /* Not thread-safe in libmariadb, and mysql_init() would call it from
     * every thread at once otherwise. */
    if (mysql_library_init(0, NULL, NULL) != 0) {
        snprintf(err, errlen, "monitor: cannot initialise libmariadb");
        return -1;
    }
    if (monitor_init(m, px, flavor, err, errlen) != 0)
        return -1;

    /* The threads take no signals: the main loop handles them, and a
     * signal landing in a blocking libmariadb call would only cut it short. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = 0;
    for (size_t i = 0; i < m->n && rc == 0; i++) {
        struct mon_thread *t = calloc(1, sizeof *t);
        if (!t) {
            rc = ENOMEM;
            break;
        }
        t->m = m;
        t->be = &m->be[i];
        t->info = &px->backends[i];
        t->idx = i;
        t->primary = i == proxy_primary(px);
        t->ro_logged = -1;
        t->flavor = flavor;
        gtid_set_init(&t->scratch, flavor);
        t->repl_logged = -1;
        rc = pthread_create(&m->threads[i], NULL, mt_main, t);
        if (rc != 0)
            free(t);
        else
            m->n_threads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "monitor: cannot start a thread: %s", strerror(rc));
        monitor_free(m);
        return -1;
    }
    return 0;
}

void monitor_stop(struct monitor *m)
{
    if (!m->be || m->n_threads == 0)
        return;
    atomic_store(&m->stop, true);
    pthread_mutex_lock(&m->wake_lock);
    pthread_cond_broadcast(&m->wake_cond);
    pthread_mutex_unlock(&m->wake_lock);
    for (size_t i = 0; i < m->n_threads; i++)
        pthread_join(m->threads[i], NULL);
    m->n_threads = 0;
}

void monitor_free(struct monitor *m)
{
    if (!m->be)
        return;
    monitor_stop(m);
    for (size_t i = 0; i < m->n; i++) {
        gtid_set_free(&m->be[i].known);
        pthread_mutex_destroy(&m->be[i].lock);
    }
    gtid_set_free(&m->strong_set);
    pthread_mutex_destroy(&m->strong_lock);
    topology_free(&m->topo);
    pthread_mutex_destroy(&m->topo_lock);
    pthread_mutex_destroy(&m->wake_lock);
    pthread_cond_destroy(&m->wake_cond);
    free(m->be);
    free(m->threads);
    free(m->names);
    m->be = NULL;
    m->threads = NULL;
    m->names = NULL;
    m->n = m->n_threads = 0;
}

/* ---- what workers ask ---- */

/* "suspect: <reason>" and the like: long enough for any reason. */
static _Thread_local char why_buf[sizeof((struct mon_backend *)0)->health_reason + 16];

/* "<state>: <health reason>" in this thread's why_buf. The reason stored
 * is the one made for hs.state, which may already be ahead of h (the atomic
 * is published after the lock is released): then the last error says it. */
static const char *health_why(struct mon_backend *b, int h)
{
    pthread_mutex_lock(&b->lock);
    const char *reason = b->health_reason;
    if ((int)b->hs.state != h || !reason[0])
        reason = b->last_error[0] ? b->last_error : "not reachable";
    snprintf(why_buf, sizeof why_buf, "%s: %s", mon_health_name((enum mon_health)h), reason);
    pthread_mutex_unlock(&b->lock);
    return why_buf;
}

enum mon_unusable monitor_unusable(struct monitor *m, size_t idx, unsigned max_lag_ms)
{
    if (idx >= m->n)
        return MON_UNUSABLE_UNMONITORED;
    struct mon_backend *b = &m->be[idx];
    int h = atomic_load(&b->health);
    if (h == MON_UNKNOWN ? atomic_load(&b->health_fails) != 0 : h != MON_UP)
        return MON_UNUSABLE_HEALTH;
    if (h == MON_UNKNOWN)
        return MON_USABLE;
    if (!atomic_load(&b->applying))
        return MON_UNUSABLE_SQL;
    size_t p = proxy_primary(m->px);
    if (!atomic_load(&b->replicating) && p < m->n && atomic_load(&m->be[p].health) == MON_UP)
        return MON_UNUSABLE_IO;
    int64_t lag = atomic_load(&b->lag_ms);
    if (lag >= 0 && (uint64_t)lag > max_lag_ms)
        return MON_UNUSABLE_LAG;
    return MON_USABLE;
}

const char *monitor_unusable_why(struct monitor *m, size_t idx, unsigned max_lag_ms)
{
    switch (monitor_unusable(m, idx, max_lag_ms)) {
    case MON_USABLE:
        return NULL;
    case MON_UNUSABLE_HEALTH:
        return health_why(&m->be[idx], atomic_load(&m->be[idx].health));
    case MON_UNUSABLE_SQL:
        return "SQL thread stopped";
    case MON_UNUSABLE_IO:
        return "IO thread stopped";
    case MON_UNUSABLE_LAG:
        return "lagging";
    case MON_UNUSABLE_UNMONITORED:
        break;
    }
    return "not monitored";
}

bool monitor_replica_usable(struct monitor *m, size_t idx, unsigned max_lag_ms)
{
    return monitor_unusable(m, idx, max_lag_ms) == MON_USABLE;
}

bool monitor_reachable(struct monitor *m, size_t idx)
{
    return idx < m->n && atomic_load(&m->be[idx].health) != MON_DOWN;
}

bool monitor_known_contains(struct monitor *m, size_t idx, const struct gtid_set *need)
{
    if (idx >= m->n)
        return false;
    pthread_mutex_lock(&m->be[idx].lock);
    bool yes = gtid_set_contains(&m->be[idx].known, need);
    pthread_mutex_unlock(&m->be[idx].lock);
    return yes;
}

uint64_t monitor_known_missing(struct monitor *m, size_t idx, const struct gtid_set *need)
{
    if (idx >= m->n)
        return UINT64_MAX;
    pthread_mutex_lock(&m->be[idx].lock);
    uint64_t missing = gtid_set_missing(&m->be[idx].known, need);
    pthread_mutex_unlock(&m->be[idx].lock);
    return missing;
}

void monitor_known_raise(struct monitor *m, size_t idx, const struct gtid_set *reached)
{
    if (idx >= m->n)
        return;
    pthread_mutex_lock(&m->be[idx].lock);
    /* Atomic: on failure (memory, another flavor) known stays as it was,
     * which is still a lower bound; nothing else to do. */
    if (gtid_set_union(&m->be[idx].known, reached) != 0)
        log_debug("monitor: %s: known set not raised (out of memory or another flavor)",
                  m->px->backends[idx].name);
    pthread_mutex_unlock(&m->be[idx].lock);
}

int monitor_known_copy(struct monitor *m, size_t idx, struct gtid_set *out)
{
    if (idx >= m->n)
        return PROTO_EBAD;
    pthread_mutex_lock(&m->be[idx].lock);
    int rc = gtid_set_copy(out, &m->be[idx].known);
    pthread_mutex_unlock(&m->be[idx].lock);
    return rc;
}

bool monitor_flavor(struct monitor *m, size_t idx, enum gtid_flavor *out)
{
    if (idx >= m->n)
        return false;
    pthread_mutex_lock(&m->be[idx].lock);
    bool known = m->be[idx].flavor_known;
    if (known)
        *out = m->be[idx].flavor;
    pthread_mutex_unlock(&m->be[idx].lock);
    return known;
}

uint64_t monitor_strong_request(struct monitor *m)
{
    uint64_t ticket = atomic_fetch_add(&m->strong_tickets, 1) + 1;
    /* Under wake_lock: the primary's thread checks for new tickets under it
     * before it sleeps, so this broadcast cannot fall between the two. */
    pthread_mutex_lock(&m->wake_lock);
    pthread_cond_broadcast(&m->wake_cond);
    pthread_mutex_unlock(&m->wake_lock);
    return ticket;
}

int monitor_strong_result(struct monitor *m, uint64_t ticket, struct gtid_set *out, char *why,
                          size_t whylen)
{
    int rc;
    pthread_mutex_lock(&m->strong_lock);
    if (m->strong_covered < ticket) {
        rc = 0;
    } else if (m->strong_failed) {
        rc = -1;
        if (why && whylen)
            snprintf(why, whylen, "%s", m->strong_error);
    } else if (gtid_set_copy(out, &m->strong_set) != 0) {
        rc = -1;
        if (why && whylen)
            snprintf(why, whylen, "out of memory");
    } else {
        rc = 1;
    }
    pthread_mutex_unlock(&m->strong_lock);
    return rc;
}

void monitor_topology(struct monitor *m, struct mon_topology *out)
{
    memset(out, 0, sizeof *out);
    out->candidate = SIZE_MAX;
    if (!m->be) {
        out->primary = m->px ? proxy_primary(m->px) : 0;
        return;
    }
    pthread_mutex_lock(&m->topo_lock);
    out->state = m->topo.state;
    out->primary = m->topo.primary;
    out->candidate = m->topo.candidate;
    out->since_ms = m->topo.state_since;
    out->changes = m->topo.changes;
    memcpy(out->why, m->topo_why, sizeof out->why);
    pthread_mutex_unlock(&m->topo_lock);
}
