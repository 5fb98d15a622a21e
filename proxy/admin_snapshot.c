/*
 * admin_snapshot.c - reads the shared state into a struct admin_snapshot
 * (admin_snapshot.h), on the admin thread. Locks are held only to copy a
 * few fixed-size fields, a GTID set (the write set for /status, a known set
 * for the JSON views) and to compare a replica's known set with the
 * primary's; everything else is relaxed atomic loads. A worker that needs
 * one of those locks meanwhile waits for that copy or comparison.
 */
#include "admin_snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "admin.h"

_Static_assert(sizeof((struct backend_info *)0)->last_error <= ADMIN_SNAP_TEXT,
               "the data plane's last error fits the snapshot");
_Static_assert(sizeof((struct mon_backend *)0)->last_error <= ADMIN_SNAP_TEXT,
               "the monitor's last error fits the snapshot");
_Static_assert(sizeof((struct mon_backend *)0)->health_reason <= ADMIN_SNAP_TEXT,
               "the monitor's health reason fits the snapshot");

const char *admin_bstate_name(enum admin_bstate s)
{
    switch (s) {
#define ADMIN_BSTATE_CASE(name, text)                                                              \
    case name:                                                                                     \
        return text;
        ADMIN_BSTATE_LIST(ADMIN_BSTATE_CASE)
#undef ADMIN_BSTATE_CASE
    case ADMIN_BSTATE_N:
        break;
    }
    return "?";
}

static uint64_t ld(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* Copies a NUL-terminated string into a fixed array, truncating. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The set's canonical text, malloc'd ("" when empty); NULL on OOM. */
static char *gtid_text(const struct gtid_set *s)
{
    return gtid_set_text(s, NULL);
}

/* ---- status ---- */

static int take_status(const struct admin_ctx *a, struct admin_snap_status *s, bool texts)
{
    struct proxy *px = a->px;
    struct proxy_snapshot *snap = proxy_snap(px);
    uint64_t now = proxy_now_ms();

    s->version = GTIDPROXY_VERSION;
    s->started_unix_ms = px->started_unix_ms;
    s->uptime_ms = now > px->started_ms ? now - px->started_ms : 0;
    s->workers = a->n_workers;
    s->draining = atomic_load(&px->draining);
    s->flavor = proxy_flavor(px);
    s->clients_current = atomic_load(&px->clients);
    s->clients_total = ld(&px->clients_total);
    s->clients_rejected = ld(&px->clients_rejected);
    for (unsigned i = 0; i < a->n_workers; i++) {
        const struct worker *w = &a->workers[i];
        for (size_t r = 0; r < WROUTE_N; r++)
            s->queries[r] += ld(&w->st.queries[r]);
        s->bytes_in += ld(&w->st.bytes_in);
        s->bytes_out += ld(&w->st.bytes_out);
        s->rule_memo_hits += ld(&w->qmemo.hits);
        s->rule_memo_misses += ld(&w->qmemo.misses);
        s->rule_memo_evictions += ld(&w->qmemo.evictions);
        s->rule_limit_hits += ld(&w->qmatch.limit_hits);
        s->rule_errors += ld(&w->qmatch.errors);
    }
    s->client_buffered = atomic_load_explicit(&px->client_queued, memory_order_relaxed);
    s->config_file = snap->cfg->file;
    s->config_loaded_unix_ms = snap->loaded_unix_ms;
    s->reloads = ld(&px->reloads);
    s->reload_failures = ld(&px->reload_failures);
    monitor_topology(&px->mon, &s->topology);
    s->primary = px->backends[s->topology.primary].name;
    if (s->topology.since_ms)
        s->topology_since_unix_ms = proxy_unix_ms() - (int64_t)(now - s->topology.since_ms);

    if (!texts)
        return 0;
    struct gtid_set writes;
    gtid_set_init(&writes, proxy_flavor(px));
    int rc = proxy_writes_copy(px, &writes);
    if (rc == 0)
        s->writes_gtid = gtid_text(&writes);
    gtid_set_free(&writes);
    return rc == 0 && s->writes_gtid ? 0 : -1;
}

/* ---- backends ---- */

/* What the monitor's lock guards, read in one critical section. */
struct mon_read {
    bool monitored;       /* the monitor's table has this backend */
    uint64_t known_at_ms; /* 0: never read from the server */
    char last_error[ADMIN_SNAP_TEXT];
    uint64_t last_error_ms;
    struct mon_health_state hs; /* the state machine, and its reason: */
    char health_reason[ADMIN_SNAP_TEXT];
};

/*
 * Under be[idx].lock (and, for a replica whose distance can be computed,
 * the primary's first): version, flavor, last error, known_at, the
 * distance to the primary's executed set and, when known_copy is given, a
 * copy of the known set for its text. 0, or a gtid_set error code.
 */
static int mon_read(struct proxy *px, size_t idx, size_t primary, struct admin_snap_backend *o,
                    struct mon_read *r, struct gtid_set *known_copy)
{
    struct monitor *m = &px->mon;
    memset(r, 0, sizeof *r);
    if (!m->be || idx >= m->n)
        return 0;
    r->monitored = true;
    struct mon_backend *b = &m->be[idx];
    /* `primary` was loaded once for the whole take: loaded again here it
     * could name idx itself after a promotion, and its lock be taken twice. */
    struct mon_backend *p = primary < m->n && primary != idx ? &m->be[primary] : NULL;

    if (p)
        pthread_mutex_lock(&p->lock);
    pthread_mutex_lock(&b->lock);
    /* Distance: what this replica lacks of the primary's executed set,
     * when both were read and speak one flavor. */
    if (p && p->known_at_ms != 0 && b->known_at_ms != 0 && p->known.flavor == b->known.flavor) {
        o->lag_tx_known = true;
        o->lag_tx = gtid_set_missing(&b->known, &p->known);
    }
    if (p)
        pthread_mutex_unlock(&p->lock);
    int rc = known_copy ? gtid_set_copy(known_copy, &b->known) : 0;
    r->known_at_ms = b->known_at_ms;
    o->flavor_known = b->flavor_known;
    o->flavor = b->flavor;
    memcpy(o->version, b->version, sizeof o->version);
    memcpy(r->last_error, b->last_error, sizeof b->last_error);
    r->last_error_ms = b->last_error_ms;
    r->hs = b->hs;
    memcpy(r->health_reason, b->health_reason, sizeof b->health_reason);
    pthread_mutex_unlock(&b->lock);
    o->version[sizeof o->version - 1] = '\0';
    r->last_error[sizeof b->last_error - 1] = '\0';
    r->health_reason[sizeof b->health_reason - 1] = '\0';
    return rc;
}

/*
 * The monitor's health, its reason and since when. `health` is the atomic
 * workers read; the reason the monitor stored with it is used when it was
 * made for that state (the atomic is published just after the lock is
 * released), else one is derived from the last error.
 */
static void backend_health(const struct mon_read *r, enum mon_health health, uint64_t now_ms,
                           int64_t unix_now, struct admin_snap_backend *o)
{
    o->health = health;
    o->has_health_reason = health != MON_UP;
    if (!o->has_health_reason)
        o->health_reason[0] = '\0';
    else if (r->hs.state == health && r->health_reason[0])
        copy_text(o->health_reason, sizeof o->health_reason, r->health_reason);
    else if (health == MON_UNKNOWN)
        copy_text(o->health_reason, sizeof o->health_reason, "not checked yet");
    else
        copy_text(o->health_reason, sizeof o->health_reason,
                  r->last_error[0] ? r->last_error : "not reachable");
    o->health_since_known = r->hs.since_ms != 0;
    if (o->health_since_known) {
        uint64_t age = now_ms > r->hs.since_ms ? now_ms - r->hs.since_ms : 0;
        o->health_since_unix_ms = unix_now - (int64_t)age;
    }
    o->health_transitions = r->hs.transitions;
}

/* The backend's state and why (README: first match wins). A suspect
 * replica gets no reads: "lagging", why "suspect: <reason>"; a suspect
 * primary still takes every write: "up". */
static void backend_state(struct proxy *px, size_t idx, unsigned max_lag_ms,
                          struct admin_snap_backend *o)
{
    const char *why;
    enum admin_bstate st;
    if (o->admin == BACKEND_OFFLINE) {
        st = ADMIN_BSTATE_OFFLINE;
        why = "taken offline by the admin API";
    } else if (o->admin == BACKEND_DRAINING) {
        st = ADMIN_BSTATE_DRAINING;
        why = "draining: no new sessions read here";
    } else if (o->health == MON_DOWN) {
        st = ADMIN_BSTATE_DOWN;
        why = o->health_reason;
    } else if (o->health == MON_UNKNOWN) {
        st = ADMIN_BSTATE_UNKNOWN;
        why = o->health_reason;
    } else {
        st = ADMIN_BSTATE_UP;
        why = NULL;
        if (o->role == BACKEND_ROLE_REPLICA) {
            const char *u = monitor_unusable_why(&px->mon, idx, max_lag_ms);
            /* The monitor may have marked it down since health was read. */
            if (u && strncmp(u, "down: ", 6) == 0) {
                st = ADMIN_BSTATE_DOWN;
                why = u + 6;
            } else if (u) {
                st = ADMIN_BSTATE_LAGGING;
                why = u;
            }
        }
    }
    o->state = st;
    o->has_why = why != NULL;
    if (why)
        copy_text(o->why, sizeof o->why, why);
    else
        o->why[0] = '\0';
}

/* The newer of the monitor's and the data plane's last error. */
static void last_error(struct backend_info *b, const struct mon_read *r, uint64_t now_ms,
                       int64_t unix_now, struct admin_snap_error *e)
{
    char proxy_msg[sizeof b->last_error];
    pthread_mutex_lock(&b->err_lock);
    memcpy(proxy_msg, b->last_error, sizeof proxy_msg);
    int64_t proxy_at = b->last_error_unix_ms;
    pthread_mutex_unlock(&b->err_lock);
    proxy_msg[sizeof proxy_msg - 1] = '\0';

    /* The monitor stamps proxy_now_ms() (monotonic): its age on that clock,
     * subtracted from the wall clock, gives its wall time. */
    bool mon_has = r->last_error[0] != '\0';
    int64_t mon_at = 0;
    if (mon_has) {
        uint64_t age = now_ms > r->last_error_ms ? now_ms - r->last_error_ms : 0;
        mon_at = unix_now - (int64_t)age;
    }
    bool proxy_has = proxy_at != 0;
    e->present = mon_has || proxy_has;
    if (!e->present) {
        e->message[0] = '\0';
        return;
    }
    e->from_monitor = mon_has && (!proxy_has || mon_at >= proxy_at);
    e->at_unix_ms = e->from_monitor ? mon_at : proxy_at;
    copy_text(e->message, sizeof e->message, e->from_monitor ? r->last_error : proxy_msg);
}

static int take_backend(struct proxy *px, size_t idx, size_t primary, unsigned max_lag_ms,
                        uint64_t now_ms, int64_t unix_now, struct admin_snap_backend *o,
                        struct gtid_set *scratch)
{
    struct backend_info *b = &px->backends[idx];
    memset(o, 0, sizeof *o);
    o->name = b->name;
    o->host = b->host;
    o->port = b->port;
    o->role = idx == primary ? BACKEND_ROLE_PRIMARY : BACKEND_ROLE_REPLICA;

    struct mon_read r;
    if (scratch)
        gtid_set_clear(scratch); /* a backend the monitor lacks shows "" */
    int rc = mon_read(px, idx, primary, o, &r, scratch);
    if (rc == 0 && scratch) {
        o->known_gtid = gtid_text(scratch);
        rc = o->known_gtid ? 0 : -1;
    }
    struct mon_backend *mb = r.monitored ? &px->mon.be[idx] : NULL;

    backend_health(&r, mb ? (enum mon_health)atomic_load(&mb->health) : MON_UNKNOWN, now_ms,
                   unix_now, o);
    o->admin = (enum backend_admin)atomic_load(&b->admin);
    backend_state(px, idx, max_lag_ms, o);

    /* Read-only and the replication threads are known once a health
     * check succeeded (checked_ms set with them). */
    uint64_t checked = mb ? atomic_load(&mb->checked_ms) : 0;
    o->checked = checked != 0;
    if (o->checked) {
        o->read_only = atomic_load(&mb->read_only);
        o->io_running = atomic_load(&mb->receiving);
        o->sql_running = atomic_load(&mb->applying);
    }
    o->weight = atomic_load(&b->weight);

    int64_t lag_ms = mb ? atomic_load(&mb->lag_ms) : -1;
    o->lag_known = o->role == BACKEND_ROLE_REPLICA && lag_ms >= 0;
    o->lag_ms = o->lag_known ? lag_ms : 0;
    o->known_age_known = r.known_at_ms != 0;
    o->known_age_ms = now_ms > r.known_at_ms ? now_ms - r.known_at_ms : 0;
    if (!o->known_age_known)
        o->known_age_ms = 0;

    o->conn_open = ld(&b->open);
    o->conn_opened = ld(&b->connects);
    o->connect_failures = ld(&b->connect_failures);
    o->commands = ld(&b->commands);
    o->reads = ld(&b->reads);
    o->waits = ld(&b->waits);
    o->wait_timeouts = ld(&b->wait_timeouts);
    o->wait_us = ld(&b->wait_us);
    o->checks = mb ? ld(&mb->checks) : 0;
    o->check_failures = mb ? ld(&mb->check_failures) : 0;
    o->last_ok_known = checked != 0;
    o->last_ok_age_ms = o->last_ok_known && now_ms > checked ? now_ms - checked : 0;

    last_error(b, &r, now_ms, unix_now, &o->last_error);
    return rc;
}

static int take_backends(const struct admin_ctx *a, struct admin_snapshot *s, bool texts)
{
    struct proxy *px = a->px;
    unsigned max_lag_ms = proxy_snap(px)->cfg->max_replica_lag_ms;
    uint64_t now_ms = proxy_now_ms();
    int64_t unix_now = proxy_unix_ms();
    size_t n = px->n_backends < CONFIG_MAX_BACKENDS ? px->n_backends : CONFIG_MAX_BACKENDS;

    /* One scratch set for every backend's text: copies reuse its arrays. */
    struct gtid_set scratch;
    gtid_set_init(&scratch, GTID_FLAVOR_MARIADB);
    int rc = 0;
    size_t primary = proxy_primary(px); /* one view of the roles per take */
    for (size_t i = 0; i < n; i++) {
        s->n_backends = i + 1; /* what release must look at, even on failure */
        rc = take_backend(px, i, primary, max_lag_ms, now_ms, unix_now, &s->backends[i],
                          texts ? &scratch : NULL);
        if (rc != 0)
            break;
    }
    gtid_set_free(&scratch);
    return rc == 0 ? 0 : -1;
}

/* ---- consistency ---- */

static void take_consistency(const struct admin_ctx *a, struct admin_snap_consistency *c)
{
    /* Summed into a local: gate_counters_add loads each field once. */
    struct gate_counters sum;
    memset(&sum, 0, sizeof sum);
    for (unsigned i = 0; i < a->n_workers; i++)
        gate_counters_add(&sum, &a->workers[i].gate);
    for (size_t l = 0; l < GATE_LEVEL_N; l++)
        for (size_t o = 0; o < GATE_OUTCOME_N; o++)
            c->reads[l][o] = ld(&sum.reads[l][o]);
    c->waits = ld(&sum.waits);
    c->wait_timeouts = ld(&sum.wait_timeouts);
    c->wait_us_sum = ld(&sum.wait_us_sum);
    for (size_t b = 0; b < GATE_HIST_N; b++)
        c->wait_hist[b] = ld(&sum.wait_hist[b]);
}

/* ---- cache ---- */

static void take_cache(const struct admin_ctx *a, struct admin_snap_cache *c)
{
    const struct cache_store *cs = a->px->cache;
    if (!cs)
        return; /* off: enabled false, every number 0 */
    c->enabled = true;
    c->max_bytes = cs->max_bytes;
    c->max_entry_bytes = cs->max_entry_bytes;
    cache_stats(cs, &c->st);
    for (unsigned i = 0; i < a->n_workers; i++) {
        const struct cache_counters *w = &a->workers[i].cache;
        c->hits += ld(&w->hits);
        c->stale_serves += ld(&w->stale_serves);
        c->misses += ld(&w->misses);
        c->bypasses += ld(&w->bypasses);
    }
}

int admin_snapshot_take(const struct admin_ctx *a, struct admin_snapshot *out, unsigned what)
{
    /* Everything but the backend array (up to 64 entries; each one taken
     * is cleared first). */
    memset(out, 0, offsetof(struct admin_snapshot, backends));
    out->parts = what;
    bool texts = (what & ADMIN_SNAP_GTID_TEXT) != 0;
    int rc = 0;
    if (what & ADMIN_SNAP_STATUS)
        rc |= take_status(a, &out->status, texts);
    if (rc == 0 && (what & ADMIN_SNAP_BACKENDS))
        rc |= take_backends(a, out, texts);
    if (what & ADMIN_SNAP_CONSISTENCY)
        take_consistency(a, &out->consistency);
    if (what & ADMIN_SNAP_CACHE)
        take_cache(a, &out->cache);
    if (rc != 0) {
        admin_snapshot_release(out);
        return -1;
    }
    return 0;
}

void admin_snapshot_release(struct admin_snapshot *s)
{
    free(s->status.writes_gtid);
    s->status.writes_gtid = NULL;
    for (size_t i = 0; i < s->n_backends && i < CONFIG_MAX_BACKENDS; i++) {
        free(s->backends[i].known_gtid);
        s->backends[i].known_gtid = NULL;
    }
}
