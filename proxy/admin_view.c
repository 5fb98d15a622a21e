/*
 * admin_view.c - GET /status, /backends and /consistency (admin.h): JSON
 * snapshots of the shared state, read on the admin thread.
 *
 *   atomics (proxy, backend_info, mon_backend, worker stats, gate counters)
 *        ── relaxed loads ──────────────────────────┐
 *   mon_backend.lock:  known set, version, flavor,  ├──▶ locals ──▶ json_t
 *                      last_error (copied)          │
 *   backend_info.err_lock: last_error (copied)      │
 *   px->writes: proxy_writes_copy ──────────────────┘
 *
 * Locks are held only to copy; JSON is built outside them, so a view
 * never makes a worker or a monitor thread wait on an allocation.
 * Counters summed over workers are not one atomic snapshot: a read in
 * flight may show in one counter and not yet in another.
 *
 * Field names are the README's (adminspec "Endpoints"): unknown values are
 * JSON null, never omitted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "gate.h"
#include "log.h"
#include "monitor.h"

/* ---- small helpers ---- */

static uint64_t ld(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* JSON integers are signed 64-bit: a counter past that (never in
 * practice) saturates instead of turning negative. */
static json_t *jcount(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v);
}

static json_t *jreal_or_null(bool known, double v)
{
    return known ? json_real(v) : json_null();
}

static json_t *jcount_or_null(bool known, uint64_t v)
{
    return known ? jcount(v) : json_null();
}

static json_t *jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* "2026-11-21T10:00:00.123Z" from milliseconds since the epoch. */
static json_t *jiso(int64_t unix_ms)
{
    char buf[LOG_TIME_LEN + 1];
    return log_time(buf, sizeof buf, unix_ms) ? json_string(buf) : json_null();
}

/* The set's canonical text (gtid_set.h), "" when empty; NULL on OOM. */
static json_t *jgtid(const struct gtid_set *s)
{
    size_t len;
    char *text = gtid_set_text(s, &len);
    json_t *j = text ? json_stringn(text, len) : NULL;
    free(text);
    return j;
}

/* Sets o[k] = v, stealing v. Any failure (o or v NULL from an earlier
 * out-of-memory, or the set itself) returns -1; callers OR the results
 * and drop the whole object at the end. */
static int put(json_t *o, const char *k, json_t *v)
{
    if (!o) {
        json_decref(v);
        return -1;
    }
    return json_object_set_new(o, k, v); /* decrefs v on failure, -1 on NULL v */
}

static json_t *finish(json_t *o, int rc)
{
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- GET /status ---- */

json_t *admin_view_status(const struct admin_ctx *a)
{
    struct proxy *px = a->px;
    struct proxy_snapshot *snap = proxy_snap(px);

    uint64_t queries[WROUTE_N] = {0}, bytes_in = 0, bytes_out = 0;
    for (unsigned i = 0; i < a->n_workers; i++) {
        const struct worker *w = &a->workers[i];
        for (size_t r = 0; r < WROUTE_N; r++)
            queries[r] += ld(&w->st.queries[r]);
        bytes_in += ld(&w->st.bytes_in);
        bytes_out += ld(&w->st.bytes_out);
    }

    struct gtid_set writes;
    gtid_set_init(&writes, proxy_flavor(px));
    if (proxy_writes_copy(px, &writes) != 0) {
        gtid_set_free(&writes);
        return NULL;
    }
    json_t *writes_text = jgtid(&writes);
    gtid_set_free(&writes);

    uint64_t now = proxy_now_ms();
    json_t *o = json_object();
    int rc = put(o, "version", json_string(GTIDPROXY_VERSION));
    rc |= put(o, "started_at", jiso(px->started_unix_ms));
    rc |= put(o, "uptime_ms", jcount(now > px->started_ms ? now - px->started_ms : 0));
    rc |= put(o, "workers", jcount(a->n_workers));
    rc |= put(o, "draining", json_boolean(atomic_load(&px->draining)));
    rc |= put(o, "flavor", json_string(gtid_flavor_name(proxy_flavor(px))));

    json_t *clients = json_object();
    rc |= put(clients, "current", jcount(atomic_load(&px->clients)));
    rc |= put(clients, "total", jcount(ld(&px->clients_total)));
    rc |= put(clients, "rejected", jcount(ld(&px->clients_rejected)));
    rc |= put(o, "clients", clients);

    json_t *q = json_object();
    for (size_t r = 0; r < WROUTE_N; r++)
        rc |= put(q, wroute_name((enum wroute)r), jcount(queries[r]));
    rc |= put(o, "queries", q);

    json_t *bytes = json_object();
    rc |= put(bytes, "in", jcount(bytes_in));
    rc |= put(bytes, "out", jcount(bytes_out));
    rc |= put(o, "client_bytes", bytes);

    rc |= put(o, "writes_gtid", writes_text);

    json_t *conf = json_object();
    rc |= put(conf, "file", jstr_or_null(snap->cfg->file));
    rc |= put(conf, "loaded_at", jiso(snap->loaded_unix_ms));
    rc |= put(conf, "reloads", jcount(ld(&px->reloads)));
    rc |= put(conf, "reload_failures", jcount(ld(&px->reload_failures)));
    rc |= put(o, "config", conf);
    return finish(o, rc);
}

/* ---- GET /backends ---- */

/* What the monitor's lock guards, copied out (plus its atomics' health). */
struct mon_copy {
    bool monitored; /* the monitor's table has this backend */
    int health;     /* enum mon_health */
    struct gtid_set known;
    uint64_t known_at_ms; /* 0: never read from the server */
    bool flavor_known;
    enum gtid_flavor flavor;
    char version[sizeof((struct mon_backend *)0)->version];
    char last_error[sizeof((struct mon_backend *)0)->last_error];
    uint64_t last_error_ms;
};

/* 0, or a gtid_set error code (out of memory copying the known set). */
static int mon_copy(struct monitor *m, size_t idx, struct mon_copy *c)
{
    memset(c, 0, sizeof *c);
    c->health = MON_UNKNOWN;
    gtid_set_init(&c->known, GTID_FLAVOR_MARIADB);
    if (!m->be || idx >= m->n)
        return 0;
    struct mon_backend *b = &m->be[idx];
    c->monitored = true;
    c->health = atomic_load(&b->health);
    pthread_mutex_lock(&b->lock);
    int rc = gtid_set_copy(&c->known, &b->known);
    c->known_at_ms = b->known_at_ms;
    c->flavor_known = b->flavor_known;
    c->flavor = b->flavor;
    memcpy(c->version, b->version, sizeof c->version);
    memcpy(c->last_error, b->last_error, sizeof c->last_error);
    c->last_error_ms = b->last_error_ms;
    pthread_mutex_unlock(&b->lock);
    c->version[sizeof c->version - 1] = '\0';
    c->last_error[sizeof c->last_error - 1] = '\0';
    return rc;
}

/* The backend's state and why (adminspec: first match wins). why may
 * point into mc; NULL when the state needs no explanation ("up"). */
static const char *backend_state(struct proxy *px, size_t idx, const struct mon_copy *mc,
                                 unsigned max_lag_ms, const char **why)
{
    const struct backend_info *b = &px->backends[idx];
    int admin = atomic_load(&b->admin);
    if (admin == BACKEND_OFFLINE) {
        *why = "taken offline by the admin API";
        return "offline";
    }
    if (admin == BACKEND_DRAINING) {
        *why = "draining: no new sessions read here";
        return "draining";
    }
    if (mc->health == MON_DOWN) {
        *why = mc->last_error[0] ? mc->last_error : "not reachable";
        return "down";
    }
    if (mc->health == MON_UNKNOWN) {
        *why = "not checked yet";
        return "unknown";
    }
    if (b->role == BACKEND_ROLE_REPLICA) {
        const char *u = monitor_unusable_why(&px->mon, idx, max_lag_ms);
        /* The monitor may have marked it down since we read its health. */
        if (u && strcmp(u, "down") == 0) {
            *why = mc->last_error[0] ? mc->last_error : "not reachable";
            return "down";
        }
        if (u) {
            *why = u;
            return "lagging";
        }
    }
    *why = NULL;
    return "up";
}

/* The newer of the monitor's and the data plane's last error, or null. */
static json_t *last_error_json(struct backend_info *b, const struct mon_copy *mc, uint64_t now_ms,
                               int64_t unix_now)
{
    char proxy_msg[sizeof b->last_error];
    pthread_mutex_lock(&b->err_lock);
    memcpy(proxy_msg, b->last_error, sizeof proxy_msg);
    int64_t proxy_at = b->last_error_unix_ms;
    pthread_mutex_unlock(&b->err_lock);
    proxy_msg[sizeof proxy_msg - 1] = '\0';

    /* The monitor stamps proxy_now_ms() (monotonic): its age on that clock,
     * subtracted from the wall clock, gives its wall time. */
    bool mon_has = mc->last_error[0] != '\0';
    int64_t mon_at = 0;
    if (mon_has) {
        uint64_t age = now_ms > mc->last_error_ms ? now_ms - mc->last_error_ms : 0;
        mon_at = unix_now - (int64_t)age;
    }
    bool proxy_has = proxy_at != 0;
    if (!mon_has && !proxy_has)
        return json_null();
    bool use_mon = mon_has && (!proxy_has || mon_at >= proxy_at);
    json_t *o = json_object();
    int rc = put(o, "message", json_string(use_mon ? mc->last_error : proxy_msg));
    rc |= put(o, "at", jiso(use_mon ? mon_at : proxy_at));
    rc |= put(o, "source", json_string(use_mon ? "monitor" : "proxy"));
    return finish(o, rc);
}

static json_t *backend_json(struct proxy *px, size_t idx, const struct mon_copy *mc,
                            const struct mon_copy *primary, unsigned max_lag_ms, uint64_t now_ms,
                            int64_t unix_now)
{
    struct backend_info *b = &px->backends[idx];
    struct mon_backend *mb = mc->monitored ? &px->mon.be[idx] : NULL;
    bool replica = b->role == BACKEND_ROLE_REPLICA;
    uint64_t checked = mb ? atomic_load(&mb->checked_ms) : 0;

    json_t *o = json_object();
    int rc = put(o, "name", json_string(b->name));
    rc |= put(o, "host", json_string(b->host));
    rc |= put(o, "port", jcount(b->port));
    rc |= put(o, "role", json_string(backend_role_name(b->role)));
    rc |= put(o, "flavor",
              mc->flavor_known ? json_string(gtid_flavor_name(mc->flavor)) : json_null());
    rc |= put(o, "version", mc->flavor_known ? json_string(mc->version) : json_null());

    const char *why;
    const char *state = backend_state(px, idx, mc, max_lag_ms, &why);
    rc |= put(o, "state", json_string(state));
    rc |= put(o, "why", jstr_or_null(why));
    rc |= put(o, "admin_state",
              json_string(backend_admin_name((enum backend_admin)atomic_load(&b->admin))));
    rc |= put(o, "health", json_string(mon_health_name((enum mon_health)mc->health)));
    /* Read-only and the replication threads are known once a health
     * check succeeded (checked_ms set with them). */
    rc |= put(o, "read_only", checked ? json_boolean(atomic_load(&mb->read_only)) : json_null());
    rc |= put(o, "weight", jcount(atomic_load(&b->weight)));

    if (replica) {
        json_t *repl = json_object();
        rc |= put(repl, "io_running",
                  checked ? json_boolean(atomic_load(&mb->receiving)) : json_null());
        rc |= put(repl, "sql_running",
                  checked ? json_boolean(atomic_load(&mb->applying)) : json_null());
        rc |= put(o, "replication", repl);
    } else {
        rc |= put(o, "replication", json_null());
    }

    /* lag: replicas only. Transactions: what this replica lacks of the
     * primary's executed set, when both were read and speak one flavor. */
    int64_t lag_ms = mb ? atomic_load(&mb->lag_ms) : -1;
    bool tx_known = replica && primary && primary->known_at_ms != 0 && mc->known_at_ms != 0 &&
                    primary->known.flavor == mc->known.flavor;
    json_t *lag = json_object();
    rc |= put(lag, "seconds", jreal_or_null(replica && lag_ms >= 0, (double)lag_ms / 1000.0));
    rc |=
        put(lag, "transactions",
            jcount_or_null(tx_known, tx_known ? gtid_set_missing(&mc->known, &primary->known) : 0));
    rc |= put(o, "lag", lag);

    rc |= put(o, "known_gtid", jgtid(&mc->known));
    rc |= put(o, "known_age_ms",
              jcount_or_null(mc->known_at_ms != 0,
                             now_ms > mc->known_at_ms ? now_ms - mc->known_at_ms : 0));

    json_t *conns = json_object();
    rc |= put(conns, "open", jcount(ld(&b->open)));
    rc |= put(conns, "opened", jcount(ld(&b->connects)));
    rc |= put(conns, "connect_failures", jcount(ld(&b->connect_failures)));
    rc |= put(o, "connections", conns);
    rc |= put(o, "commands", jcount(ld(&b->commands)));
    rc |= put(o, "reads", jcount(ld(&b->reads)));

    uint64_t waits = ld(&b->waits);
    double total_ms = (double)ld(&b->wait_us) / 1000.0;
    json_t *w = json_object();
    rc |= put(w, "count", jcount(waits));
    rc |= put(w, "timeouts", jcount(ld(&b->wait_timeouts)));
    rc |= put(w, "total_ms", json_real(total_ms));
    rc |= put(w, "avg_ms", jreal_or_null(waits > 0, waits ? total_ms / (double)waits : 0));
    rc |= put(o, "waits", w);

    json_t *checks = json_object();
    rc |= put(checks, "count", jcount(mb ? ld(&mb->checks) : 0));
    rc |= put(checks, "failures", jcount(mb ? ld(&mb->check_failures) : 0));
    rc |= put(checks, "last_ok_age_ms",
              jcount_or_null(checked != 0, now_ms > checked ? now_ms - checked : 0));
    rc |= put(o, "checks", checks);

    rc |= put(o, "last_error", last_error_json(b, mc, now_ms, unix_now));
    return finish(o, rc);
}

json_t *admin_view_backends(const struct admin_ctx *a)
{
    struct proxy *px = a->px;
    unsigned max_lag_ms = proxy_snap(px)->cfg->max_replica_lag_ms;
    uint64_t now_ms = proxy_now_ms();
    int64_t unix_now = proxy_unix_ms();

    /* The primary's executed set, once, for every replica's distance. */
    struct mon_copy primary;
    int rc = mon_copy(&px->mon, px->primary, &primary);

    json_t *list = json_array();
    for (size_t i = 0; rc == 0 && i < px->n_backends; i++) {
        struct mon_copy mc;
        rc = mon_copy(&px->mon, i, &mc);
        if (rc == 0)
            rc = json_array_append_new(
                list, backend_json(px, i, &mc, px->primary < px->n_backends ? &primary : NULL,
                                   max_lag_ms, now_ms, unix_now));
        gtid_set_free(&mc.known);
    }
    gtid_set_free(&primary.known);
    if (rc != 0 || !list) {
        json_decref(list);
        return NULL;
    }
    json_t *o = json_object();
    return finish(o, put(o, "backends", list));
}

/* ---- GET /consistency ---- */

static json_t *outcomes_json(const uint64_t *counts, bool with_reads)
{
    json_t *o = json_object();
    int rc = 0;
    if (with_reads) {
        uint64_t reads = 0;
        for (size_t i = 0; i < GATE_OUTCOME_N; i++)
            reads += counts[i];
        rc |= put(o, "reads", jcount(reads));
    }
    for (size_t i = 0; i < GATE_OUTCOME_N; i++)
        rc |= put(o, gate_outcome_name((enum gate_outcome)i), jcount(counts[i]));
    return finish(o, rc);
}

json_t *admin_view_consistency(const struct admin_ctx *a)
{
    /* Summed into a local: gate_counters_add loads each field once. */
    struct gate_counters sum;
    memset(&sum, 0, sizeof sum);
    for (unsigned i = 0; i < a->n_workers; i++)
        gate_counters_add(&sum, &a->workers[i].gate);

    uint64_t by_outcome[GATE_OUTCOME_N] = {0}, reads = 0;
    json_t *o = json_object();
    json_t *levels = json_object();
    int rc = 0;
    for (size_t l = 0; l < GATE_LEVEL_N; l++) {
        uint64_t counts[GATE_OUTCOME_N];
        for (size_t oc = 0; oc < GATE_OUTCOME_N; oc++) {
            counts[oc] = ld(&sum.reads[l][oc]);
            by_outcome[oc] += counts[oc];
            reads += counts[oc];
        }
        rc |= put(levels, gate_level_name((enum gate_level)l), outcomes_json(counts, true));
    }
    rc |= put(o, "levels", levels);
    rc |= put(o, "outcomes", outcomes_json(by_outcome, false));
    rc |= put(o, "reads", jcount(reads));

    uint64_t waits = ld(&sum.waits), timeouts = ld(&sum.wait_timeouts);
    double total_ms = (double)ld(&sum.wait_us_sum) / 1000.0;
    json_t *w = json_object();
    rc |= put(w, "count", jcount(waits));
    rc |= put(w, "reached", jcount(waits > timeouts ? waits - timeouts : 0));
    rc |= put(w, "timeouts", jcount(timeouts));
    rc |= put(w, "total_ms", json_real(total_ms));
    rc |= put(w, "avg_ms", jreal_or_null(waits > 0, waits ? total_ms / (double)waits : 0));
    json_t *hist = json_array();
    for (size_t b = 0; b < GATE_HIST_N; b++) {
        json_t *bucket = json_object();
        int brc = put(bucket, "le_ms",
                      b + 1 < GATE_HIST_N ? json_real((double)gate_hist_bound_us[b] / 1000.0)
                                          : json_null());
        brc |= put(bucket, "count", jcount(ld(&sum.wait_hist[b])));
        bucket = finish(bucket, brc);
        rc |= hist ? json_array_append_new(hist, bucket) : (json_decref(bucket), -1);
    }
    rc |= put(w, "histogram", hist);
    rc |= put(o, "waits", w);
    return finish(o, rc);
}
