/*
 * admin_metrics.c - GET /metrics (admin_metrics.h): the Prometheus text
 * exposition format 0.0.4 rendered from the /status, /backends and
 * /consistency views.
 *
 *   admin_view_status ──────┐
 *   admin_view_backends ────┼──▶ admin_metrics_render ──▶ open_memstream text
 *   admin_view_consistency ─┘      (one source of truth: the JSON views)
 *
 * Format rules followed (Prometheus "Exposition formats", text 0.0.4):
 * every family has "# HELP" and "# TYPE" before its samples, and all its
 * samples are contiguous; label values escape backslash, double quote and
 * newline; counters end in _total; a histogram has cumulative _bucket
 * series with le in seconds ending in le="+Inf", then _sum and _count.
 */
#include "admin_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON access ---- */

/* o[k1][k2]... (NULL-terminated keys); NULL when any step is missing. */
static const json_t *jpath(const json_t *o, const char *const *keys)
{
    for (; o && *keys; keys++)
        o = json_is_object(o) ? json_object_get(o, *keys) : NULL;
    return o;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* ---- text ---- */

/* The renderer runs with the stream locked once (admin_metrics_render)
 * and writes with the _unlocked calls: a scrape writes thousands of small
 * pieces, and a lock per piece was a visible share of its cost. */
static void put(FILE *f, const char *s)
{
    fputs_unlocked(s, f);
}

static void put_int(FILE *f, long long v)
{
    char b[24], *p = b + sizeof b;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    fwrite_unlocked(p, 1, (size_t)(b + sizeof b - p), f);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    put(f, "# HELP ");
    put(f, name);
    fputc_unlocked(' ', f);
    put(f, help);
    put(f, "\n# TYPE ");
    put(f, name);
    fputc_unlocked(' ', f);
    put(f, type);
    fputc_unlocked('\n', f);
}

static void label_value(FILE *f, const char *v)
{
    while (*v) {
        size_t run = strcspn(v, "\\\"\n");
        fwrite_unlocked(v, 1, run, f);
        v += run;
        if (!*v)
            break;
        put(f, *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : "\\n");
        v++;
    }
}

/* Go's ParseFloat reads these; %.15g keeps ms/1000 values short and
 * exact enough (0.0125, not 0.012500000000000001). Whole numbers (most
 * samples) skip printf. */
static void number(FILE *f, double v)
{
    if (isnan(v))
        put(f, "NaN");
    else if (isinf(v))
        put(f, v > 0 ? "+Inf" : "-Inf");
    else if (v == (double)(long long)v && fabs(v) < 9007199254740992.0)
        put_int(f, (long long)v);
    else
        fprintf(f, "%.15g", v);
}

/* name{k="v",...} labels: n pairs (key, value). */
static void series(FILE *f, const char *name, const char *const *labels, size_t n)
{
    put(f, name);
    if (n) {
        fputc_unlocked('{', f);
        for (size_t i = 0; i < n; i++) {
            if (i)
                fputc_unlocked(',', f);
            put(f, labels[2 * i]);
            put(f, "=\"");
            label_value(f, labels[2 * i + 1]);
            fputc_unlocked('"', f);
        }
        fputc_unlocked('}', f);
    }
}

static void sample_num(FILE *f, const char *name, const char *const *labels, size_t n, double v)
{
    series(f, name, labels, n);
    fputc_unlocked(' ', f);
    number(f, v);
    fputc_unlocked('\n', f);
}

static void sample_int(FILE *f, const char *name, const char *const *labels, size_t n, json_int_t v)
{
    series(f, name, labels, n);
    fputc_unlocked(' ', f);
    put_int(f, (long long)v);
    fputc_unlocked('\n', f);
}

/* One sample from a JSON value times scale (integers stay exact at scale
 * 1; booleans are 1/0). Missing, null or non-numeric: no sample. */
static void sample_json(FILE *f, const char *name, const char *const *labels, size_t n,
                        const json_t *v, double scale)
{
    if (json_is_integer(v) && scale == 1.0)
        sample_int(f, name, labels, n, json_integer_value(v));
    else if (json_is_number(v))
        sample_num(f, name, labels, n, json_number_value(v) * scale);
    else if (json_is_boolean(v))
        sample_num(f, name, labels, n, json_is_true(v) ? 1 : 0);
}

/* A family with one unlabelled sample at a path of the view. */
struct simple_family {
    const char *name, *type, *help;
    const char *path[3];
    double scale;
};

static void simple_families(FILE *f, const json_t *view, const struct simple_family *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        family(f, t[i].name, t[i].type, t[i].help);
        sample_json(f, t[i].name, NULL, 0, jpath(view, t[i].path), t[i].scale);
    }
}

/* ---- /status ---- */

/* clang-format off */
static const struct simple_family status_families[] = {
    {"gtidproxy_uptime_seconds", "gauge", "Seconds since the proxy started.", {"uptime_ms"}, 0.001},
    {"gtidproxy_workers", "gauge", "Worker threads.", {"workers"}, 1},
    {"gtidproxy_client_connections", "gauge", "Client connections open now.",
     {"clients", "current"}, 1},
    {"gtidproxy_client_connections_total", "counter", "Client connections accepted.",
     {"clients", "total"}, 1},
    {"gtidproxy_client_connections_rejected_total", "counter",
     "Client connections refused (over limits.max_client_connections).", {"clients", "rejected"}, 1},
    {"gtidproxy_client_bytes_received_total", "counter", "Bytes received from clients.",
     {"client_bytes", "in"}, 1},
    {"gtidproxy_client_bytes_sent_total", "counter", "Bytes sent to clients.",
     {"client_bytes", "out"}, 1},
};
/* clang-format on */

/* clang-format off */
static const struct simple_family reload_families[] = {
    {"gtidproxy_config_reloads_total", "counter", "Configuration reloads applied.",
     {"config", "reloads"}, 1},
    {"gtidproxy_config_reload_failures_total", "counter",
     "Configuration reloads refused (the file did not validate).", {"config", "reload_failures"},
     1},
};
/* clang-format on */

static void render_status(FILE *f, const json_t *st)
{
    family(f, "gtidproxy_info", "gauge", "Version and GTID flavor of this proxy (always 1).");
    if (st) {
        const char *labels[] = {"version", jstr(st, "version"), "flavor", jstr(st, "flavor")};
        sample_num(f, "gtidproxy_info", labels, 2, 1);
    }
    simple_families(f, st, status_families, sizeof status_families / sizeof status_families[0]);

    family(f, "gtidproxy_queries_total", "counter",
           "Client commands by where they ran (primary, replica, or the proxy itself).");
    const char *route;
    const json_t *v;
    json_object_foreach((json_t *)json_object_get(st, "queries"), route, v)
    {
        const char *labels[] = {"route", route};
        sample_json(f, "gtidproxy_queries_total", labels, 1, v, 1);
    }
    simple_families(f, st, reload_families, sizeof reload_families / sizeof reload_families[0]);
}

/* ---- /backends ---- */

/* The state names of /backends, in the order of its rules. */
static const char *const backend_states[] = {"offline", "draining", "down",
                                             "unknown", "lagging",  "up"};

/* clang-format off */
static const struct simple_family backend_families[] = {
    {"gtidproxy_backend_lag_seconds", "gauge",
     "Replication lag the replica reports (Seconds_Behind_Master); replicas with a known lag.",
     {"lag", "seconds"}, 1},
    {"gtidproxy_backend_lag_transactions", "gauge",
     "Transactions of the primary's executed GTID set the replica has not applied.",
     {"lag", "transactions"}, 1},
    {"gtidproxy_backend_known_age_seconds", "gauge",
     "Age of the GTID set last read from the backend.", {"known_age_ms"}, 0.001},
    {"gtidproxy_backend_connections", "gauge", "Data-plane connections open to the backend.",
     {"connections", "open"}, 1},
    {"gtidproxy_backend_connects_total", "counter", "Data-plane connections opened.",
     {"connections", "opened"}, 1},
    {"gtidproxy_backend_connect_failures_total", "counter", "Data-plane connects that failed.",
     {"connections", "connect_failures"}, 1},
    {"gtidproxy_backend_commands_total", "counter", "Commands sent to the backend.",
     {"commands"}, 1},
    {"gtidproxy_backend_reads_total", "counter", "Reads routed to the backend (any level).",
     {"reads"}, 1},
    {"gtidproxy_backend_waits_total", "counter", "GTID catch-up waits sent to the backend.",
     {"waits", "count"}, 1},
    {"gtidproxy_backend_wait_timeouts_total", "counter",
     "GTID catch-up waits on the backend that timed out.", {"waits", "timeouts"}, 1},
    {"gtidproxy_backend_wait_seconds_total", "counter",
     "Time spent in GTID catch-up waits on the backend.", {"waits", "total_ms"}, 0.001},
    {"gtidproxy_backend_checks_total", "counter", "Monitor health checks.", {"checks", "count"},
     1},
    {"gtidproxy_backend_check_failures_total", "counter", "Monitor health checks that failed.",
     {"checks", "failures"}, 1},
};
/* clang-format on */

static void render_backends(FILE *f, const json_t *view)
{
    const json_t *list = json_object_get(view, "backends");
    size_t n = json_array_size(list);

    family(f, "gtidproxy_backend_up", "gauge", "1 when the backend's state is \"up\", else 0.");
    for (size_t i = 0; i < n; i++) {
        const json_t *b = json_array_get(list, i);
        const char *labels[] = {"backend", jstr(b, "name"), "role", jstr(b, "role")};
        sample_num(f, "gtidproxy_backend_up", labels, 2, strcmp(jstr(b, "state"), "up") == 0);
    }

    family(f, "gtidproxy_backend_state", "gauge",
           "1 for the backend's current state, 0 for the others.");
    for (size_t i = 0; i < n; i++) {
        const json_t *b = json_array_get(list, i);
        const char *state = jstr(b, "state");
        for (size_t s = 0; s < sizeof backend_states / sizeof backend_states[0]; s++) {
            const char *labels[] = {"backend", jstr(b, "name"), "state", backend_states[s]};
            sample_num(f, "gtidproxy_backend_state", labels, 2,
                       strcmp(state, backend_states[s]) == 0);
        }
    }

    for (size_t k = 0; k < sizeof backend_families / sizeof backend_families[0]; k++) {
        const struct simple_family *t = &backend_families[k];
        family(f, t->name, t->type, t->help);
        for (size_t i = 0; i < n; i++) {
            const json_t *b = json_array_get(list, i);
            const char *labels[] = {"backend", jstr(b, "name")};
            sample_json(f, t->name, labels, 1, jpath(b, t->path), t->scale);
        }
    }
}

/* ---- /consistency ---- */

static void render_consistency(FILE *f, const json_t *c)
{
    family(f, "gtidproxy_reads_total", "counter",
           "Reads that reached the consistency gate, by level and outcome.");
    const char *level;
    const json_t *lv;
    json_object_foreach((json_t *)json_object_get(c, "levels"), level, lv)
    {
        const char *outcome;
        const json_t *v;
        json_object_foreach((json_t *)lv, outcome, v)
        {
            if (strcmp(outcome, "reads") == 0) /* the level's total, not an outcome */
                continue;
            const char *labels[] = {"level", level, "outcome", outcome};
            sample_json(f, "gtidproxy_reads_total", labels, 2, v, 1);
        }
    }

    const json_t *waits = json_object_get(c, "waits");
    const char *h = "gtidproxy_wait_duration_seconds";
    family(f, h, "histogram", "Duration of GTID catch-up waits on replicas.");
    if (waits) {
        /* The view's buckets are non-cumulative, le in ms, the last one
         * le_ms null (+Inf); Prometheus wants them cumulative, in seconds. */
        const json_t *hist = json_object_get(waits, "histogram");
        json_int_t cum = 0;
        bool inf = false;
        for (size_t i = 0; i < json_array_size(hist); i++) {
            const json_t *b = json_array_get(hist, i);
            const json_t *le = json_object_get(b, "le_ms");
            cum += json_integer_value(json_object_get(b, "count"));
            char le_text[32] = "+Inf";
            if (json_is_number(le))
                snprintf(le_text, sizeof le_text, "%.15g", json_number_value(le) / 1000.0);
            else
                inf = true;
            const char *labels[] = {"le", le_text};
            sample_int(f, "gtidproxy_wait_duration_seconds_bucket", labels, 1, cum);
        }
        if (!inf) { /* the format requires the +Inf bucket */
            const char *labels[] = {"le", "+Inf"};
            sample_int(f, "gtidproxy_wait_duration_seconds_bucket", labels, 1, cum);
        }
        sample_json(f, "gtidproxy_wait_duration_seconds_sum", NULL, 0,
                    json_object_get(waits, "total_ms"), 0.001);
        sample_json(f, "gtidproxy_wait_duration_seconds_count", NULL, 0,
                    json_object_get(waits, "count"), 1);
    }

    family(f, "gtidproxy_wait_timeouts_total", "counter",
           "GTID catch-up waits that did not reach the needed set in time.");
    sample_json(f, "gtidproxy_wait_timeouts_total", NULL, 0, json_object_get(waits, "timeouts"), 1);
}

char *admin_metrics_render(const json_t *status, const json_t *backends, const json_t *consistency,
                           size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    flockfile(f);
    render_status(f, status);
    render_backends(f, backends);
    render_consistency(f, consistency);
    bool failed = ferror_unlocked(f) != 0;
    funlockfile(f);
    if (fclose(f) != 0 || failed) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

char *admin_metrics(const struct admin_ctx *a, size_t *len)
{
    json_t *st = admin_view_status(a);
    json_t *be = admin_view_backends(a);
    json_t *co = admin_view_consistency(a);
    char *text = st && be && co ? admin_metrics_render(st, be, co, len) : NULL;
    json_decref(st);
    json_decref(be);
    json_decref(co);
    return text;
}
