/*
 * admin_metrics.c - GET /metrics (admin_metrics.h): the Prometheus text
 * exposition format 0.0.4 rendered from a struct admin_snapshot straight
 * into one growing char buffer (no JSON, no stdio).
 *
 *   admin_snapshot_take(ADMIN_SNAP_METRICS) ──▶ admin_metrics_render ──▶ text
 *   (the JSON views are built from the same snapshot: admin_view.c)
 *
 * Format rules followed (Prometheus "Exposition formats", text 0.0.4):
 * every family has "# HELP" and "# TYPE" before its samples, and all its
 * samples are contiguous; label values escape backslash, double quote and
 * newline; counters end in _total; a histogram has cumulative _bucket
 * series with le in seconds ending in le="+Inf", then _sum and _count.
 *
 * Numbers are the views' numbers, written as the JSON-based renderer this
 * replaced wrote them (byte for byte; test_admin_metrics keeps that
 * renderer as its oracle): integers saturate at INT64_MAX like JSON's;
 * other values are the same double expression printed like "%.15g", with
 * whole values as integers. Millisecond and microsecond values converted
 * to seconds take an exact decimal fast path, which prints what "%.15g"
 * would: for n < 10^15 the double is within 2.5e-16 (relative) of the
 * decimal n/10^k, less than half a unit in the 15th digit, so "%.15g"
 * rounds back to that decimal; values below 1e-4 (which "%.15g" writes
 * with an exponent) go through snprintf.
 */
#include "admin_metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the text buffer ---- */

struct out {
    char *p;
    size_t len, cap;
    bool oom; /* sticky: a failed grow; the render returns NULL */
};

/* Room for n more bytes and the final NUL. */
static bool grow(struct out *o, size_t n)
{
    if (o->oom)
        return false;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap - o->len <= n)
        cap *= 2;
    char *p = realloc(o->p, cap);
    if (!p) {
        o->oom = true;
        return false;
    }
    o->p = p;
    o->cap = cap;
    return true;
}

/* Where the next n bytes go (the caller writes at most n and advances
 * o->len); NULL after a failed grow. One check per line, not per piece. */
static inline char *reserve(struct out *o, size_t n)
{
    if (o->cap - o->len <= n && !grow(o, n))
        return NULL;
    return o->p + o->len;
}

static inline void put_mem(struct out *o, const char *s, size_t n)
{
    char *p = reserve(o, n);
    if (!p)
        return;
    memcpy(p, s, n);
    o->len += n;
}

static void put(struct out *o, const char *s)
{
    put_mem(o, s, strlen(s));
}

/* A string literal, its length known at compile time. */
#define PUT_LIT(o, lit) put_mem((o), "" lit, sizeof(lit) - 1)
/* A literal as (pointer, length) arguments. */
#define LIT(lit) "" lit, sizeof(lit) - 1

/* ---- numbers ---- */

/* JSON integers are signed 64-bit: the views saturate there, so do we. */
static uint64_t sat(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : v;
}

/* Decimal digits of u written at p (20 at most); returns the end. */
static char *u64_at(char *p, uint64_t u)
{
    char b[20], *e = b + sizeof b, *d = e;
    do
        *--d = (char)('0' + u % 10);
    while (u /= 10);
    memcpy(p, d, (size_t)(e - d));
    return p + (e - d);
}

static void put_u64(struct out *o, uint64_t u)
{
    char *p = reserve(o, 20);
    if (p)
        o->len += (size_t)(u64_at(p, u) - p);
}

static void put_i64(struct out *o, int64_t v)
{
    char *p = reserve(o, 21);
    if (!p)
        return;
    char *e = p;
    if (v < 0)
        *e++ = '-';
    e = u64_at(e, v < 0 ? 0ULL - (uint64_t)v : (uint64_t)v);
    o->len += (size_t)(e - p);
}

/* Go's ParseFloat reads these; %.15g keeps ms/1000 values short and
 * exact enough (0.0125, not 0.012500000000000001). Whole numbers skip
 * printf. */
static void number(struct out *o, double v)
{
    if (isnan(v)) {
        PUT_LIT(o, "NaN");
    } else if (isinf(v)) {
        put(o, v > 0 ? "+Inf" : "-Inf");
    } else if (v == (double)(long long)v && fabs(v) < 9007199254740992.0) {
        put_i64(o, (long long)v);
    } else {
        char b[32];
        int n = snprintf(b, sizeof b, "%.15g", v);
        if (n > 0)
            put_mem(o, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
    }
}

#define DEC_FAST_MAX UINT64_C(1000000000000000) /* 10^15: at most 15 digits */

/* n / 10^k (k = 3 or 6) as "%.15g" writes v, the double the views compute
 * for it (see the file comment); min: the smallest n whose value "%.15g"
 * writes without an exponent (>= 1e-4). */
static void put_scaled(struct out *o, uint64_t n, unsigned k, uint64_t min, double v)
{
    if (n != 0 && (n < min || n >= DEC_FAST_MAX)) {
        number(o, v);
        return;
    }
    uint64_t div = k == 3 ? 1000 : 1000000;
    put_u64(o, n / div);
    uint64_t frac = n % div;
    if (!frac)
        return;
    char b[8];
    unsigned digits = k;
    while (frac % 10 == 0) { /* "%g" drops trailing zeros */
        frac /= 10;
        digits--;
    }
    b[0] = '.';
    for (unsigned i = digits; i > 0; i--) {
        b[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    put_mem(o, b, digits + 1);
}

/* Milliseconds held as a JSON integer, times 0.001 (the views' uptime_ms,
 * known_age_ms). */
static void put_ms_int(struct out *o, uint64_t ms)
{
    ms = sat(ms);
    put_scaled(o, ms, 3, 1, (double)ms * 0.001);
}

/* Microseconds shown as JSON real milliseconds, times 0.001 (waits' total_ms). */
static void put_us_real(struct out *o, uint64_t us)
{
    put_scaled(o, us, 6, 100, (double)us / 1000.0 * 0.001);
}

/* ---- text pieces ---- */

static void family(struct out *o, const char *name, const char *type, const char *help)
{
    size_t nn = strlen(name), tn = strlen(type), hn = strlen(help);
    char *p = reserve(o, 2 * nn + tn + hn + 32);
    if (!p)
        return;
    char *e = p;
    memcpy(e, "# HELP ", 7);
    e += 7;
    memcpy(e, name, nn);
    e += nn;
    *e++ = ' ';
    memcpy(e, help, hn);
    e += hn;
    memcpy(e, "\n# TYPE ", 8);
    e += 8;
    memcpy(e, name, nn);
    e += nn;
    *e++ = ' ';
    memcpy(e, type, tn);
    e += tn;
    *e++ = '\n';
    o->len += (size_t)(e - p);
}

/* One label: key="value". plain: the value needs no escaping (checked
 * once per render for backend names; enum names always are). */
struct lbl {
    const char *k, *v;
    size_t kn, vn;
    bool plain;
};

/* A label whose value is one of our own names (no character to escape). */
static struct lbl own(const char *k, const char *v)
{
    return (struct lbl){k, v, strlen(k), strlen(v), true};
}

/* A label whose value comes from configuration or a server. */
static struct lbl any(const char *k, const char *v)
{
    size_t vn = strlen(v);
    return (struct lbl){k, v, strlen(k), vn, strcspn(v, "\\\"\n") == vn};
}

/* v[0..n) with backslash, double quote and newline escaped (at most 2n
 * bytes) at p; returns the end. */
static char *escape_at(char *p, const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '\\' || c == '"' || c == '\n') {
            *p++ = '\\';
            c = c == '\n' ? 'n' : c;
        }
        *p++ = c;
    }
    return p;
}

/* name{k="v",...} and the space before the value. */
static void series(struct out *o, const char *name, size_t nn, const struct lbl *l, size_t n)
{
    size_t need = nn + 4;
    for (size_t i = 0; i < n; i++)
        need += l[i].kn + 2 * l[i].vn + 4;
    char *p = reserve(o, need);
    if (!p)
        return;
    char *e = p;
    memcpy(e, name, nn);
    e += nn;
    if (n) {
        *e++ = '{';
        for (size_t i = 0; i < n; i++) {
            if (i)
                *e++ = ',';
            memcpy(e, l[i].k, l[i].kn);
            e += l[i].kn;
            *e++ = '=';
            *e++ = '"';
            if (l[i].plain) {
                memcpy(e, l[i].v, l[i].vn);
                e += l[i].vn;
            } else {
                e = escape_at(e, l[i].v, l[i].vn);
            }
            *e++ = '"';
        }
        *e++ = '}';
    }
    *e++ = ' ';
    o->len += (size_t)(e - p);
}

/* An integer sample and its newline. */
static void sample_u64(struct out *o, const char *name, size_t nn, const struct lbl *l, size_t n,
                       uint64_t v)
{
    series(o, name, nn, l, n);
    char *p = reserve(o, 21);
    if (!p)
        return;
    char *e = u64_at(p, sat(v));
    *e++ = '\n';
    o->len += (size_t)(e - p);
}

/* A family with one unlabelled integer sample (when `has`). */
static void simple_u64(struct out *o, const char *name, const char *type, const char *help,
                       bool has, uint64_t v)
{
    family(o, name, type, help);
    if (has)
        sample_u64(o, name, strlen(name), NULL, 0, v);
}

/* ---- /status ---- */

static void render_status(struct out *o, const struct admin_snapshot *snap)
{
    const struct admin_snap_status *s = &snap->status;
    bool has = (snap->parts & ADMIN_SNAP_STATUS) != 0;

    family(o, "gtidproxy_info", "gauge", "Version and GTID flavor of this proxy (always 1).");
    if (has) {
        const struct lbl l[] = {any("version", s->version ? s->version : ""),
                                own("flavor", gtid_flavor_name(s->flavor))};
        sample_u64(o, LIT("gtidproxy_info"), l, 2, 1);
    }
    family(o, "gtidproxy_uptime_seconds", "gauge", "Seconds since the proxy started.");
    if (has) {
        PUT_LIT(o, "gtidproxy_uptime_seconds ");
        put_ms_int(o, s->uptime_ms);
        PUT_LIT(o, "\n");
    }
    simple_u64(o, "gtidproxy_workers", "gauge", "Worker threads.", has, s->workers);
    simple_u64(o, "gtidproxy_client_connections", "gauge", "Client connections open now.", has,
               s->clients_current);
    simple_u64(o, "gtidproxy_client_connections_total", "counter", "Client connections accepted.",
               has, s->clients_total);
    simple_u64(o, "gtidproxy_client_connections_rejected_total", "counter",
               "Client connections refused (over limits.max_client_connections).", has,
               s->clients_rejected);
    simple_u64(o, "gtidproxy_client_bytes_received_total", "counter",
               "Bytes received from clients.", has, s->bytes_in);
    simple_u64(o, "gtidproxy_client_bytes_sent_total", "counter", "Bytes sent to clients.", has,
               s->bytes_out);
    simple_u64(o, "gtidproxy_client_buffered_bytes", "gauge",
               "Bytes queued for clients that have not read them yet (all sessions).", has,
               s->client_buffered > 0 ? (uint64_t)s->client_buffered : 0);

    family(o, "gtidproxy_queries_total", "counter",
           "Client commands by where they ran (primary, replica, or the proxy itself).");
    for (size_t r = 0; has && r < WROUTE_N; r++) {
        const struct lbl l = own("route", wroute_name((enum wroute)r));
        sample_u64(o, LIT("gtidproxy_queries_total"), &l, 1, s->queries[r]);
    }
    simple_u64(o, "gtidproxy_topology_primary_changes_total", "counter",
               "Times writes moved to a promoted backend.", has, s->topology.changes);
    simple_u64(o, "gtidproxy_topology_writes_refused", "gauge",
               "1 while more than one backend is writable and statements for the primary are "
               "refused (9011).",
               has, s->topology.state == TOPO_SPLIT);
    simple_u64(o, "gtidproxy_query_rule_memo_hits_total", "counter",
               "Statements whose query rule was known from the memo.", has, s->rule_memo_hits);
    simple_u64(o, "gtidproxy_query_rule_memo_misses_total", "counter",
               "Statements matched against the query rules.", has, s->rule_memo_misses);
    simple_u64(o, "gtidproxy_query_rule_memo_evictions_total", "counter",
               "Memo entries given up to make room.", has, s->rule_memo_evictions);
    simple_u64(o, "gtidproxy_query_rule_limit_hits_total", "counter",
               "Regex evaluations stopped by a match limit (counted as no match).", has,
               s->rule_limit_hits);
    simple_u64(o, "gtidproxy_query_rule_errors_total", "counter",
               "Regex evaluations that failed otherwise (counted as no match).", has,
               s->rule_errors);
    simple_u64(o, "gtidproxy_config_reloads_total", "counter", "Configuration reloads applied.",
               has, s->reloads);
    simple_u64(o, "gtidproxy_config_reload_failures_total", "counter",
               "Configuration reloads refused (the file did not validate).", has,
               s->reload_failures);
}

/* ---- /backends ---- */

/* One per-backend family: its value for a backend, or no sample. */
enum bval {
    BV_LAG_SECONDS,
    BV_LAG_TX,
    BV_KNOWN_AGE,
    BV_CONN_OPEN,
    BV_CONN_OPENED,
    BV_CONNECT_FAILURES,
    BV_COMMANDS,
    BV_READS,
    BV_WAITS,
    BV_WAIT_TIMEOUTS,
    BV_WAIT_SECONDS,
    BV_CHECKS,
    BV_CHECK_FAILURES,
};

struct backend_family {
    const char *name, *type, *help;
    enum bval v;
};

/* clang-format off */
static const struct backend_family backend_families[] = {
    {"gtidproxy_backend_lag_seconds", "gauge",
     "Replication lag the replica reports (Seconds_Behind_Master); replicas with a known lag.",
     BV_LAG_SECONDS},
    {"gtidproxy_backend_lag_transactions", "gauge",
     "Transactions of the primary's executed GTID set the replica has not applied.", BV_LAG_TX},
    {"gtidproxy_backend_known_age_seconds", "gauge",
     "Age of the GTID set last read from the backend.", BV_KNOWN_AGE},
    {"gtidproxy_backend_connections", "gauge", "Data-plane connections open to the backend.",
     BV_CONN_OPEN},
    {"gtidproxy_backend_connects_total", "counter", "Data-plane connections opened.",
     BV_CONN_OPENED},
    {"gtidproxy_backend_connect_failures_total", "counter", "Data-plane connects that failed.",
     BV_CONNECT_FAILURES},
    {"gtidproxy_backend_commands_total", "counter", "Commands sent to the backend.", BV_COMMANDS},
    {"gtidproxy_backend_reads_total", "counter", "Reads routed to the backend (any level).",
     BV_READS},
    {"gtidproxy_backend_waits_total", "counter", "GTID catch-up waits sent to the backend.",
     BV_WAITS},
    {"gtidproxy_backend_wait_timeouts_total", "counter",
     "GTID catch-up waits on the backend that timed out.", BV_WAIT_TIMEOUTS},
    {"gtidproxy_backend_wait_seconds_total", "counter",
     "Time spent in GTID catch-up waits on the backend.", BV_WAIT_SECONDS},
    {"gtidproxy_backend_checks_total", "counter", "Monitor health checks.", BV_CHECKS},
    {"gtidproxy_backend_check_failures_total", "counter", "Monitor health checks that failed.",
     BV_CHECK_FAILURES},
};
/* clang-format on */

/* Writes the value of family v for backend b (and the newline); false:
 * the views show null there, no sample. Called twice per sample: first
 * with o NULL to ask whether there is one. */
static bool backend_value(struct out *o, const struct admin_snap_backend *b, enum bval v)
{
    uint64_t u;
    switch (v) {
    case BV_LAG_SECONDS:
        if (!b->lag_known)
            return false;
        if (o)
            put_scaled(o, (uint64_t)b->lag_ms, 3, 1, (double)b->lag_ms / 1000.0);
        goto done;
    case BV_LAG_TX:
        if (!b->lag_tx_known)
            return false;
        u = b->lag_tx;
        break;
    case BV_KNOWN_AGE:
        if (!b->known_age_known)
            return false;
        if (o)
            put_ms_int(o, b->known_age_ms);
        goto done;
    case BV_WAIT_SECONDS:
        if (o)
            put_us_real(o, b->wait_us);
        goto done;
    case BV_CONN_OPEN:
        u = b->conn_open;
        break;
    case BV_CONN_OPENED:
        u = b->conn_opened;
        break;
    case BV_CONNECT_FAILURES:
        u = b->connect_failures;
        break;
    case BV_COMMANDS:
        u = b->commands;
        break;
    case BV_READS:
        u = b->reads;
        break;
    case BV_WAITS:
        u = b->waits;
        break;
    case BV_WAIT_TIMEOUTS:
        u = b->wait_timeouts;
        break;
    case BV_CHECKS:
        u = b->checks;
        break;
    case BV_CHECK_FAILURES:
        u = b->check_failures;
        break;
    default:
        return false;
    }
    if (o)
        put_u64(o, sat(u));
done:
    if (o)
        PUT_LIT(o, "\n");
    return true;
}

static void render_backends(struct out *o, const struct admin_snapshot *s)
{
    size_t n = (s->parts & ADMIN_SNAP_BACKENDS) ? s->n_backends : 0;
    if (n > CONFIG_MAX_BACKENDS)
        n = CONFIG_MAX_BACKENDS;
    /* Each backend's label, measured and checked for escapes once. */
    struct lbl name[CONFIG_MAX_BACKENDS];
    for (size_t i = 0; i < n; i++)
        name[i] = any("backend", s->backends[i].name);

    family(o, "gtidproxy_backend_up", "gauge", "1 when the backend's state is \"up\", else 0.");
    for (size_t i = 0; i < n; i++) {
        const struct admin_snap_backend *b = &s->backends[i];
        const struct lbl l[] = {name[i], own("role", backend_role_name(b->role))};
        sample_u64(o, LIT("gtidproxy_backend_up"), l, 2, b->state == ADMIN_BSTATE_UP);
    }

    family(o, "gtidproxy_backend_state", "gauge",
           "1 for the backend's current state, 0 for the others.");
    for (size_t i = 0; i < n; i++) {
        const struct admin_snap_backend *b = &s->backends[i];
        for (size_t st = 0; st < ADMIN_BSTATE_N; st++) {
            const struct lbl l[] = {name[i],
                                    own("state", admin_bstate_name((enum admin_bstate)st))};
            sample_u64(o, LIT("gtidproxy_backend_state"), l, 2, b->state == st);
        }
    }

    family(o, "gtidproxy_backend_health", "gauge",
           "1 for the monitor's health of the backend (unknown, up, suspect, down), 0 for the "
           "others.");
    for (size_t i = 0; i < n; i++) {
        const struct admin_snap_backend *b = &s->backends[i];
        for (size_t h = 0; h < MON_HEALTH_N; h++) {
            const struct lbl l[] = {name[i], own("state", mon_health_name((enum mon_health)h))};
            sample_u64(o, LIT("gtidproxy_backend_health"), l, 2, b->health == h);
        }
    }
    family(o, "gtidproxy_backend_health_transitions_total", "counter",
           "Changes of the monitor's health of the backend.");
    for (size_t i = 0; i < n; i++)
        sample_u64(o, LIT("gtidproxy_backend_health_transitions_total"), &name[i], 1,
                   s->backends[i].health_transitions);

    for (size_t k = 0; k < sizeof backend_families / sizeof backend_families[0]; k++) {
        const struct backend_family *t = &backend_families[k];
        family(o, t->name, t->type, t->help);
        size_t nn = strlen(t->name);
        for (size_t i = 0; i < n; i++) {
            const struct admin_snap_backend *b = &s->backends[i];
            if (!backend_value(NULL, b, t->v))
                continue;
            series(o, t->name, nn, &name[i], 1);
            backend_value(o, b, t->v);
        }
    }
}

/* ---- /consistency ---- */

/* The histogram's le values in seconds, as the views' le_ms / 1000 with
 * "%.15g": constants, formatted once. */
static char le_text[GATE_HIST_N][32];
static pthread_once_t le_once = PTHREAD_ONCE_INIT;

static void le_init(void)
{
    for (size_t i = 0; i < GATE_HIST_N; i++) {
        if (i + 1 < GATE_HIST_N)
            snprintf(le_text[i], sizeof le_text[i], "%.15g",
                     (double)gate_hist_bound_us[i] / 1000.0 / 1000.0);
        else
            snprintf(le_text[i], sizeof le_text[i], "+Inf");
    }
}

static void render_consistency(struct out *o, const struct admin_snapshot *s)
{
    const struct admin_snap_consistency *c = &s->consistency;
    bool has = (s->parts & ADMIN_SNAP_CONSISTENCY) != 0;

    family(o, "gtidproxy_reads_total", "counter",
           "Reads that reached the consistency gate, by level and outcome.");
    for (size_t l = 0; has && l < GATE_LEVEL_N; l++)
        for (size_t oc = 0; oc < GATE_OUTCOME_N; oc++) {
            const struct lbl lb[] = {own("level", gate_level_name((enum gate_level)l)),
                                     own("outcome", gate_outcome_name((enum gate_outcome)oc))};
            sample_u64(o, LIT("gtidproxy_reads_total"), lb, 2, c->reads[l][oc]);
        }

    family(o, "gtidproxy_wait_duration_seconds", "histogram",
           "Duration of GTID catch-up waits on replicas.");
    if (has) {
        /* Cumulative buckets, le in seconds, the last one +Inf. */
        pthread_once(&le_once, le_init);
        uint64_t cum = 0;
        for (size_t i = 0; i < GATE_HIST_N; i++) {
            cum += sat(c->wait_hist[i]);
            const struct lbl l = own("le", le_text[i]);
            sample_u64(o, LIT("gtidproxy_wait_duration_seconds_bucket"), &l, 1, cum);
        }
        PUT_LIT(o, "gtidproxy_wait_duration_seconds_sum ");
        put_us_real(o, c->wait_us_sum);
        PUT_LIT(o, "\n");
        sample_u64(o, LIT("gtidproxy_wait_duration_seconds_count"), NULL, 0, c->waits);
    }

    simple_u64(o, "gtidproxy_wait_timeouts_total", "counter",
               "GTID catch-up waits that did not reach the needed set in time.", has,
               c->wait_timeouts);
}

/* ---- /cache ---- */

static void render_cache(struct out *o, const struct admin_snapshot *s)
{
    const struct admin_snap_cache *c = &s->cache;
    bool has = (s->parts & ADMIN_SNAP_CACHE) != 0;

    simple_u64(o, "gtidproxy_cache_entries", "gauge", "Replies held in the result cache.", has,
               c->st.entries);
    simple_u64(o, "gtidproxy_cache_bytes", "gauge",
               "Memory the result cache accounts for its entries and tables (at most "
               "gtidproxy_cache_max_bytes).",
               has, c->st.bytes);
    simple_u64(o, "gtidproxy_cache_max_bytes", "gauge",
               "The result cache's memory cap (cache.max_bytes; 0: the cache is off).", has,
               c->max_bytes);

    family(o, "gtidproxy_cache_lookups_total", "counter",
           "Result cache lookups by outcome: hit (consistent, no backend), stale (served by the "
           "fallback step cache), miss, bypass (a hint turned the cache off).");
    if (has) {
        const struct {
            const char *outcome;
            uint64_t v;
        } rows[] = {{"hit", c->hits},
                    {"stale", c->stale_serves},
                    {"miss", c->misses},
                    {"bypass", c->bypasses}};
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            const struct lbl l = own("outcome", rows[i].outcome);
            sample_u64(o, LIT("gtidproxy_cache_lookups_total"), &l, 1, rows[i].v);
        }
    }
    simple_u64(o, "gtidproxy_cache_stores_total", "counter", "Replies stored in the result cache.",
               has, c->st.stores);
    simple_u64(o, "gtidproxy_cache_evictions_total", "counter",
               "Result cache entries evicted (least recently used) to stay under the cap.", has,
               c->st.evictions);
    simple_u64(o, "gtidproxy_cache_refused_total", "counter",
               "Replies not cached: larger than cache.max_entry_bytes or a shard's share of the "
               "cap.",
               has, c->st.refused_too_big);
}

/* The previous scrape's length: the next buffer starts that large (plus
 * slack), so a scrape normally never reallocates. Only a hint. */
static _Atomic size_t last_len;

char *admin_metrics_render(const struct admin_snapshot *s, size_t *len)
{
    struct out o = {0};
    size_t hint = atomic_load_explicit(&last_len, memory_order_relaxed);
    if (!grow(&o, hint ? hint + hint / 8 : 8192))
        return NULL;
    render_status(&o, s);
    render_backends(&o, s);
    render_consistency(&o, s);
    render_cache(&o, s);
    if (o.oom) {
        free(o.p);
        return NULL;
    }
    o.p[o.len] = '\0'; /* grow() always leaves room for it */
    atomic_store_explicit(&last_len, o.len, memory_order_relaxed);
    *len = o.len;
    return o.p;
}

char *admin_metrics(const struct admin_ctx *a, size_t *len)
{
    /* On the stack (~50 KiB): a scrape allocates only its text. */
    struct admin_snapshot s;
    if (admin_snapshot_take(a, &s, ADMIN_SNAP_METRICS) != 0)
        return NULL;
    char *text = admin_metrics_render(&s, len);
    admin_snapshot_release(&s);
    return text;
}
