/*
 * admin_view.c - GET /status, /backends, /consistency and /cache (admin.h):
 * JSON built from a struct admin_snapshot (admin_snapshot.c reads the
 * shared state; this file only shapes it). /metrics renders the same
 * snapshot (admin_metrics.c), so the two cannot disagree.
 *
 * Field names are the README's (adminspec "Endpoints"): unknown values are
 * JSON null, never omitted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admin_snapshot.h"
#include "log.h"

/* ---- small helpers ---- */

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

static json_t *jbool_or_null(bool known, bool v)
{
    return known ? json_boolean(v) : json_null();
}

/* "2026-11-21T10:00:00.123Z" from milliseconds since the epoch. */
static json_t *jiso(int64_t unix_ms)
{
    char buf[LOG_TIME_LEN + 1];
    return log_time(buf, sizeof buf, unix_ms) ? json_string(buf) : json_null();
}

/* A GTID text of the snapshot; "" when it was not taken (never in a view:
 * the views take their texts). */
static json_t *jgtid(const char *text)
{
    return json_string(text ? text : "");
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

/* Takes the parts, builds with fn, releases. */
static json_t *view(const struct admin_ctx *a, unsigned what,
                    json_t *(*fn)(const struct admin_snapshot *s))
{
    struct admin_snapshot *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    json_t *o = NULL;
    if (admin_snapshot_take(a, s, what) == 0) {
        o = fn(s);
        admin_snapshot_release(s);
    }
    free(s);
    return o;
}

/* ---- GET /status ---- */

json_t *admin_status_json(const struct admin_snapshot *snap)
{
    const struct admin_snap_status *s = &snap->status;
    json_t *o = json_object();
    int rc = put(o, "version", json_string(s->version ? s->version : ""));
    rc |= put(o, "started_at", jiso(s->started_unix_ms));
    rc |= put(o, "uptime_ms", jcount(s->uptime_ms));
    rc |= put(o, "workers", jcount(s->workers));
    rc |= put(o, "draining", json_boolean(s->draining));
    rc |= put(o, "flavor", json_string(gtid_flavor_name(s->flavor)));

    json_t *clients = json_object();
    rc |= put(clients, "current", jcount(s->clients_current));
    rc |= put(clients, "total", jcount(s->clients_total));
    rc |= put(clients, "rejected", jcount(s->clients_rejected));
    rc |= put(o, "clients", clients);

    json_t *q = json_object();
    for (size_t r = 0; r < WROUTE_N; r++)
        rc |= put(q, wroute_name((enum wroute)r), jcount(s->queries[r]));
    rc |= put(o, "queries", q);

    json_t *bytes = json_object();
    rc |= put(bytes, "in", jcount(s->bytes_in));
    rc |= put(bytes, "out", jcount(s->bytes_out));
    rc |= put(o, "client_bytes", bytes);
    uint64_t buffered = s->client_buffered > 0 ? (uint64_t)s->client_buffered : 0;
    rc |= put(o, "client_buffered_bytes", jcount(buffered));

    rc |= put(o, "writes_gtid", jgtid(s->writes_gtid));

    json_t *topo = json_object();
    rc |= put(topo, "primary", json_string(s->primary ? s->primary : ""));
    rc |= put(topo, "state", json_string(topo_state_name(s->topology.state)));
    rc |= put(topo, "reason", json_string(s->topology.why));
    int64_t since = s->topology_since_unix_ms;
    rc |= put(topo, "since", since ? jiso(since) : json_null());
    rc |= put(topo, "primaries_followed", jcount(s->topology.changes));
    rc |= put(o, "topology", topo);

    json_t *rules = json_object();
    rc |= put(rules, "memo_hits", jcount(s->rule_memo_hits));
    rc |= put(rules, "memo_misses", jcount(s->rule_memo_misses));
    rc |= put(rules, "memo_evictions", jcount(s->rule_memo_evictions));
    rc |= put(rules, "limit_hits", jcount(s->rule_limit_hits));
    rc |= put(rules, "errors", jcount(s->rule_errors));
    rc |= put(o, "query_rules", rules);

    json_t *conf = json_object();
    rc |= put(conf, "file", jstr_or_null(s->config_file));
    rc |= put(conf, "loaded_at", jiso(s->config_loaded_unix_ms));
    rc |= put(conf, "reloads", jcount(s->reloads));
    rc |= put(conf, "reload_failures", jcount(s->reload_failures));
    rc |= put(o, "config", conf);
    return finish(o, rc);
}

json_t *admin_view_status(const struct admin_ctx *a)
{
    return view(a, ADMIN_SNAP_STATUS | ADMIN_SNAP_GTID_TEXT, admin_status_json);
}

/* ---- GET /backends ---- */

static json_t *last_error_json(const struct admin_snap_error *e)
{
    if (!e->present)
        return json_null();
    json_t *o = json_object();
    int rc = put(o, "message", json_string(e->message));
    rc |= put(o, "at", jiso(e->at_unix_ms));
    rc |= put(o, "source", json_string(e->from_monitor ? "monitor" : "proxy"));
    return finish(o, rc);
}

static json_t *backend_json(const struct admin_snap_backend *b)
{
    bool replica = b->role == BACKEND_ROLE_REPLICA;
    json_t *o = json_object();
    int rc = put(o, "name", json_string(b->name));
    rc |= put(o, "host", json_string(b->host));
    rc |= put(o, "port", jcount(b->port));
    rc |= put(o, "role", json_string(backend_role_name(b->role)));
    rc |= put(o, "flavor", b->flavor_known ? json_string(gtid_flavor_name(b->flavor)) : json_null());
    rc |= put(o, "version", b->flavor_known ? json_string(b->version) : json_null());
    rc |= put(o, "state", json_string(admin_bstate_name(b->state)));
    rc |= put(o, "why", b->has_why ? json_string(b->why) : json_null());
    rc |= put(o, "admin_state", json_string(backend_admin_name(b->admin)));
    rc |= put(o, "health", json_string(mon_health_name(b->health)));
    rc |=
        put(o, "health_reason", b->has_health_reason ? json_string(b->health_reason) : json_null());
    rc |=
        put(o, "health_since", b->health_since_known ? jiso(b->health_since_unix_ms) : json_null());
    rc |= put(o, "health_transitions", jcount(b->health_transitions));
    rc |= put(o, "read_only", jbool_or_null(b->checked, b->read_only));
    rc |= put(o, "weight", jcount(b->weight));

    if (replica) {
        json_t *repl = json_object();
        rc |= put(repl, "io_running", jbool_or_null(b->checked, b->io_running));
        rc |= put(repl, "sql_running", jbool_or_null(b->checked, b->sql_running));
        rc |= put(o, "replication", repl);
    } else {
        rc |= put(o, "replication", json_null());
    }

    json_t *lag = json_object();
    rc |= put(lag, "seconds", jreal_or_null(b->lag_known, (double)b->lag_ms / 1000.0));
    rc |= put(lag, "transactions", jcount_or_null(b->lag_tx_known, b->lag_tx));
    rc |= put(o, "lag", lag);

    rc |= put(o, "known_gtid", jgtid(b->known_gtid));
    rc |= put(o, "known_age_ms", jcount_or_null(b->known_age_known, b->known_age_ms));

    json_t *conns = json_object();
    rc |= put(conns, "open", jcount(b->conn_open));
    rc |= put(conns, "opened", jcount(b->conn_opened));
    rc |= put(conns, "connect_failures", jcount(b->connect_failures));
    rc |= put(o, "connections", conns);
    rc |= put(o, "commands", jcount(b->commands));
    rc |= put(o, "reads", jcount(b->reads));

    double total_ms = (double)b->wait_us / 1000.0;
    json_t *w = json_object();
    rc |= put(w, "count", jcount(b->waits));
    rc |= put(w, "timeouts", jcount(b->wait_timeouts));
    rc |= put(w, "total_ms", json_real(total_ms));
    rc |= put(w, "avg_ms", jreal_or_null(b->waits > 0, b->waits ? total_ms / (double)b->waits : 0));
    rc |= put(o, "waits", w);

    json_t *checks = json_object();
    rc |= put(checks, "count", jcount(b->checks));
    rc |= put(checks, "failures", jcount(b->check_failures));
    rc |= put(checks, "last_ok_age_ms", jcount_or_null(b->last_ok_known, b->last_ok_age_ms));
    rc |= put(o, "checks", checks);

    rc |= put(o, "last_error", last_error_json(&b->last_error));
    return finish(o, rc);
}

json_t *admin_backends_json(const struct admin_snapshot *s)
{
    json_t *list = json_array();
    int rc = list ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < s->n_backends; i++)
        rc = json_array_append_new(list, backend_json(&s->backends[i]));
    if (rc != 0) {
        json_decref(list);
        return NULL;
    }
    json_t *o = json_object();
    return finish(o, put(o, "backends", list));
}

json_t *admin_view_backends(const struct admin_ctx *a)
{
    return view(a, ADMIN_SNAP_BACKENDS | ADMIN_SNAP_GTID_TEXT, admin_backends_json);
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

json_t *admin_consistency_json(const struct admin_snapshot *s)
{
    const struct admin_snap_consistency *c = &s->consistency;
    uint64_t by_outcome[GATE_OUTCOME_N] = {0}, reads = 0;
    json_t *o = json_object();
    json_t *levels = json_object();
    int rc = 0;
    for (size_t l = 0; l < GATE_LEVEL_N; l++) {
        for (size_t oc = 0; oc < GATE_OUTCOME_N; oc++) {
            by_outcome[oc] += c->reads[l][oc];
            reads += c->reads[l][oc];
        }
        rc |= put(levels, gate_level_name((enum gate_level)l), outcomes_json(c->reads[l], true));
    }
    rc |= put(o, "levels", levels);
    rc |= put(o, "outcomes", outcomes_json(by_outcome, false));
    rc |= put(o, "reads", jcount(reads));

    uint64_t waits = c->waits, timeouts = c->wait_timeouts;
    double total_ms = (double)c->wait_us_sum / 1000.0;
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
        brc |= put(bucket, "count", jcount(c->wait_hist[b]));
        bucket = finish(bucket, brc);
        rc |= hist ? json_array_append_new(hist, bucket) : (json_decref(bucket), -1);
    }
    rc |= put(w, "histogram", hist);
    rc |= put(o, "waits", w);
    return finish(o, rc);
}

json_t *admin_view_consistency(const struct admin_ctx *a)
{
    return view(a, ADMIN_SNAP_CONSISTENCY, admin_consistency_json);
}

/* ---- GET /cache ---- */

json_t *admin_cache_json(const struct admin_snapshot *s)
{
    const struct admin_snap_cache *c = &s->cache;
    json_t *o = json_object();
    int rc = put(o, "enabled", json_boolean(c->enabled));
    rc |= put(o, "max_bytes", jcount(c->max_bytes));
    rc |= put(o, "max_entry_bytes", jcount(c->max_entry_bytes));
    rc |= put(o, "entries", jcount(c->st.entries));
    rc |= put(o, "bytes", jcount(c->st.bytes));
    rc |= put(o, "table_bytes", jcount(c->st.table_bytes));
    rc |= put(o, "detached_bytes", jcount(c->st.detached_bytes));
    rc |= put(o, "hits", jcount(c->hits));
    rc |= put(o, "stale_serves", jcount(c->stale_serves));
    rc |= put(o, "misses", jcount(c->misses));
    rc |= put(o, "bypasses", jcount(c->bypasses));
    rc |= put(o, "stores", jcount(c->st.stores));
    rc |= put(o, "replaced", jcount(c->st.replaced));
    rc |= put(o, "evictions", jcount(c->st.evictions));
    rc |= put(o, "refused_too_big", jcount(c->st.refused_too_big));
    return finish(o, rc);
}

json_t *admin_view_cache(const struct admin_ctx *a)
{
    return view(a, ADMIN_SNAP_CACHE, admin_cache_json);
}
