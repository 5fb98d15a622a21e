/* test_admin_metrics.c - GET /metrics (admin_metrics.c): the Prometheus
 * text rendered from a hand-filled struct admin_snapshot, line by line for
 * the families that carry labels, escaping, the histogram and the cache;
 * byte for byte against the JSON-based renderer it replaced (kept below
 * as the oracle, fed the JSON views of the same snapshot), on a fixture
 * and on random snapshots; and the whole output checked by `promtool
 * check metrics` (Debian package prometheus; the test fails when promtool
 * is missing: CI must run it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>

#include "admin_metrics.h"

/* ==== the oracle: the renderer as it was before the snapshot (commit
 * 91c730e proxy/admin_metrics.c), from the three JSON views. Kept verbatim
 * but for its name and the two health families added since (marked); the
 * new renderer must write the same bytes, then the cache families. ==== */

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
    {"gtidproxy_client_buffered_bytes", "gauge",
     "Bytes queued for clients that have not read them yet (all sessions).",
     {"client_buffered_bytes"}, 1},
};
/* clang-format on */

/* clang-format off */
static const struct simple_family topology_families[] = {
    {"gtidproxy_topology_primary_changes_total", "counter",
     "Times writes moved to a promoted backend.", {"topology", "primaries_followed"}, 1},
};
/* clang-format on */

/* clang-format off */
static const struct simple_family rule_families[] = {
    {"gtidproxy_query_rule_memo_hits_total", "counter",
     "Statements whose query rule was known from the memo.", {"query_rules", "memo_hits"}, 1},
    {"gtidproxy_query_rule_memo_misses_total", "counter",
     "Statements matched against the query rules.", {"query_rules", "memo_misses"}, 1},
    {"gtidproxy_query_rule_memo_evictions_total", "counter",
     "Memo entries given up to make room.", {"query_rules", "memo_evictions"}, 1},
    {"gtidproxy_query_rule_limit_hits_total", "counter",
     "Regex evaluations stopped by a match limit (counted as no match).",
     {"query_rules", "limit_hits"}, 1},
    {"gtidproxy_query_rule_errors_total", "counter",
     "Regex evaluations that failed otherwise (counted as no match).", {"query_rules", "errors"},
     1},
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
    simple_families(f, st, topology_families, 1);
    family(f, "gtidproxy_topology_writes_refused", "gauge",
           "1 while more than one backend is writable and statements for the primary are "
           "refused (9011).");
    const char *state = st ? json_string_value(jpath(st, (const char *const[]){"topology", "state", NULL}))
                           : NULL;
    if (state)
        sample_num(f, "gtidproxy_topology_writes_refused", NULL, 0, strcmp(state, "split") == 0);
    simple_families(f, st, rule_families, sizeof rule_families / sizeof rule_families[0]);
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

    /* Added with the monitor's health states (issue 9): from "health" and
     * "health_transitions". */
    static const char *const health_states[] = {"unknown", "up", "suspect", "down"};
    family(f, "gtidproxy_backend_health", "gauge",
           "1 for the monitor's health of the backend (unknown, up, suspect, down), 0 for the "
           "others.");
    for (size_t i = 0; i < n; i++) {
        const json_t *b = json_array_get(list, i);
        for (size_t h = 0; h < sizeof health_states / sizeof health_states[0]; h++) {
            const char *labels[] = {"backend", jstr(b, "name"), "state", health_states[h]};
            sample_num(f, "gtidproxy_backend_health", labels, 2,
                       strcmp(jstr(b, "health"), health_states[h]) == 0);
        }
    }
    family(f, "gtidproxy_backend_health_transitions_total", "counter",
           "Changes of the monitor's health of the backend.");
    for (size_t i = 0; i < n; i++) {
        const json_t *b = json_array_get(list, i);
        const char *labels[] = {"backend", jstr(b, "name")};
        sample_json(f, "gtidproxy_backend_health_transitions_total", labels, 1,
                    json_object_get(b, "health_transitions"), 1);
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

static char *oracle_render(const json_t *status, const json_t *backends, const json_t *consistency,
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

/* ==== fixtures ==== */

/* A primary (no lag), a replica with a quote and a backslash in its name,
 * lagging, and a replica down whose lag and age are unknown. Status,
 * consistency and cache numbers as an operator would see them. */
static void fill_fixture(struct admin_snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->parts = ADMIN_SNAP_METRICS;
    struct admin_snap_status *st = &s->status;
    st->version = "0.1.0";
    st->started_unix_ms = INT64_C(1795773600123);
    st->uptime_ms = 12345;
    st->workers = 2;
    st->flavor = GTID_FLAVOR_MARIADB;
    st->clients_current = 3;
    st->clients_total = 10;
    st->clients_rejected = 1;
    st->queries[WROUTE_PRIMARY] = 15;
    st->queries[WROUTE_REPLICA] = 20;
    st->queries[WROUTE_PROXY] = 1;
    st->bytes_in = 100;
    st->bytes_out = 2000;
    st->config_file = "/etc/gtidproxy.json";
    st->config_loaded_unix_ms = INT64_C(1795773600123);
    st->reloads = 2;
    st->reload_failures = 1;

    s->n_backends = 3;
    struct admin_snap_backend *p = &s->backends[0], *r1 = &s->backends[1], *r2 = &s->backends[2];
    *p = (struct admin_snap_backend){
        .name = "primary", .host = "10.0.0.1", .port = 3306, .role = BACKEND_ROLE_PRIMARY,
        .flavor_known = true, .state = ADMIN_BSTATE_UP, .health = MON_SUSPECT,
        .has_health_reason = true, .health_since_known = true,
        .health_since_unix_ms = INT64_C(1795773600123), .health_transitions = 2, .checked = true,
        .weight = 1, .known_age_known = true, .known_age_ms = 250, .conn_open = 2,
        .conn_opened = 5, .commands = 70, .reads = 3, .checks = 40, .last_ok_known = true,
        .last_ok_age_ms = 300};
    snprintf(p->version, sizeof p->version, "10.11.6-MariaDB");
    snprintf(p->health_reason, sizeof p->health_reason, "SELECT @@read_only: timeout (failed 1/3)");
    *r1 = (struct admin_snap_backend){
        .name = "re\"pl\\ica", .host = "10.0.0.2", .port = 3306, .role = BACKEND_ROLE_REPLICA,
        .flavor_known = true, .state = ADMIN_BSTATE_LAGGING, .has_why = true, .health = MON_UP,
        .health_transitions = 1,
        .checked = true, .read_only = true, .io_running = true, .weight = 1, .lag_known = true,
        .lag_ms = 1500, .lag_tx_known = true, .lag_tx = 8, .known_age_known = true,
        .known_age_ms = 12, .conn_open = 3, .conn_opened = 10, .connect_failures = 1,
        .commands = 100, .reads = 50, .waits = 4, .wait_timeouts = 1, .wait_us = 12500,
        .checks = 41, .check_failures = 2, .last_ok_known = true, .last_ok_age_ms = 100};
    snprintf(r1->why, sizeof r1->why, "SQL thread stopped");
    *r2 = (struct admin_snap_backend){
        .name = "replica2", .host = "10.0.0.3", .port = 3306, .role = BACKEND_ROLE_REPLICA,
        .state = ADMIN_BSTATE_DOWN, .has_why = true, .health = MON_DOWN, .has_health_reason = true,
        .health_transitions = 7, .weight = 1,
        .connect_failures = 7, .checks = 9, .check_failures = 9};
    snprintf(r2->why, sizeof r2->why, "not reachable");
    snprintf(r2->health_reason, sizeof r2->health_reason, "not reachable");
    r2->last_error = (struct admin_snap_error){.present = true, .from_monitor = true,
                                               .at_unix_ms = INT64_C(1795773600123)};
    snprintf(r2->last_error.message, sizeof r2->last_error.message, "connect: refused");

    struct admin_snap_consistency *c = &s->consistency;
    c->reads[GATE_SESSION][GATE_DIRECT] = 5;
    c->reads[GATE_SESSION][GATE_WAITED] = 2;
    c->waits = 3;
    c->wait_timeouts = 1;
    c->wait_us_sum = 10002400;
    c->wait_hist[0] = 1;               /* <= 1 ms */
    c->wait_hist[1] = 1;               /* <= 2 ms */
    c->wait_hist[GATE_HIST_N - 1] = 1; /* +Inf */

    struct admin_snap_cache *k = &s->cache;
    k->enabled = true;
    k->max_bytes = 67108864;
    k->max_entry_bytes = 1048576;
    k->st = (struct cache_stats){.entries = 12, .bytes = 40960, .table_bytes = 1024,
                                 .detached_bytes = 512, .stores = 20, .replaced = 3,
                                 .evictions = 5, .refused_too_big = 2};
    k->hits = 30;
    k->stale_serves = 4;
    k->misses = 21;
    k->bypasses = 1;
}

static char *render(const struct admin_snapshot *s, size_t *len)
{
    char *text = admin_metrics_render(s, len);
    assert_non_null(text);
    assert_int_equal(strlen(text), *len);
    return text;
}

static char *render_fixture(size_t *len)
{
    struct admin_snapshot *s = malloc(sizeof *s);
    assert_non_null(s);
    fill_fixture(s);
    char *text = render(s, len);
    free(s);
    return text;
}

/* The whole line `line` is in text. */
static void want_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return;
    fail_msg("line not found: %s\n--- output:\n%s", line, text);
}

/* No line starts with prefix. */
static void want_no_line_starting(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
        if (strncmp(p, prefix, n) == 0)
            fail_msg("unexpected line: %.*s", (int)(strchr(p, '\n') - p), p);
        if (!strchr(p, '\n'))
            break;
    }
}

/* Runs promtool check metrics on text; its exit status (0: valid). */
static int promtool_check(const char *text, size_t len)
{
    FILE *p = popen("promtool check metrics", "w");
    assert_non_null(p);
    size_t wrote = fwrite(text, 1, len, p);
    int st = pclose(p);
    assert_int_equal(wrote, len);
    if (!WIFEXITED(st))
        fail_msg("promtool did not exit normally");
    if (WEXITSTATUS(st) == 127)
        fail_msg("promtool not found (Debian package prometheus; scripts/test installs it)");
    return WEXITSTATUS(st);
}

/* The cache families, exactly, as the fixture's cache renders them. */
static const char cache_text[] =
    "# HELP gtidproxy_cache_entries Replies held in the result cache.\n"
    "# TYPE gtidproxy_cache_entries gauge\n"
    "gtidproxy_cache_entries 12\n"
    "# HELP gtidproxy_cache_bytes Memory the result cache accounts for its entries and tables"
    " (at most gtidproxy_cache_max_bytes).\n"
    "# TYPE gtidproxy_cache_bytes gauge\n"
    "gtidproxy_cache_bytes 40960\n"
    "# HELP gtidproxy_cache_max_bytes The result cache's memory cap (cache.max_bytes; 0: the"
    " cache is off).\n"
    "# TYPE gtidproxy_cache_max_bytes gauge\n"
    "gtidproxy_cache_max_bytes 67108864\n"
    "# HELP gtidproxy_cache_lookups_total Result cache lookups by outcome: hit (consistent, no"
    " backend), stale (served by the fallback step cache), miss, bypass (a hint turned the cache"
    " off).\n"
    "# TYPE gtidproxy_cache_lookups_total counter\n"
    "gtidproxy_cache_lookups_total{outcome=\"hit\"} 30\n"
    "gtidproxy_cache_lookups_total{outcome=\"stale\"} 4\n"
    "gtidproxy_cache_lookups_total{outcome=\"miss\"} 21\n"
    "gtidproxy_cache_lookups_total{outcome=\"bypass\"} 1\n"
    "# HELP gtidproxy_cache_stores_total Replies stored in the result cache.\n"
    "# TYPE gtidproxy_cache_stores_total counter\n"
    "gtidproxy_cache_stores_total 20\n"
    "# HELP gtidproxy_cache_evictions_total Result cache entries evicted (least recently used)"
    " to stay under the cap.\n"
    "# TYPE gtidproxy_cache_evictions_total counter\n"
    "gtidproxy_cache_evictions_total 5\n"
    "# HELP gtidproxy_cache_refused_total Replies not cached: larger than"
    " cache.max_entry_bytes or a shard's share of the cap.\n"
    "# TYPE gtidproxy_cache_refused_total counter\n"
    "gtidproxy_cache_refused_total 2\n";

/* text == the oracle's text for s's JSON views, then the cache families
 * (their HELP/TYPE lines at least; with samples when s has the cache). */
static void want_same_as_oracle(const struct admin_snapshot *s, const char *text, size_t len)
{
    json_t *st = admin_status_json(s), *be = admin_backends_json(s),
           *co = admin_consistency_json(s);
    assert_true(st && be && co);
    size_t olen = 0;
    char *old = oracle_render((s->parts & ADMIN_SNAP_STATUS) ? st : NULL,
                              (s->parts & ADMIN_SNAP_BACKENDS) ? be : NULL,
                              (s->parts & ADMIN_SNAP_CONSISTENCY) ? co : NULL, &olen);
    json_decref(st);
    json_decref(be);
    json_decref(co);
    assert_non_null(old);
    if (len < olen || memcmp(text, old, olen) != 0) {
        size_t i = 0;
        while (i < olen && i < len && text[i] == old[i])
            i++;
        size_t from = i > 200 ? i - 200 : 0;
        fail_msg("differs from the oracle at byte %zu:\n--- new:\n%.*s\n--- oracle:\n%.*s", i,
                 (int)(len - from < 400 ? len - from : 400), text + from,
                 (int)(olen - from < 400 ? olen - from : 400), old + from);
    }
    /* What follows is the cache families and nothing else. */
    const char *rest = text + olen;
    assert_true(strncmp(rest, "# HELP gtidproxy_cache_entries ", 31) == 0);
    for (const char *p = rest; *p; p = strchr(p, '\n') + 1) {
        if (strncmp(p, "# HELP gtidproxy_cache_", 23) != 0 &&
            strncmp(p, "# TYPE gtidproxy_cache_", 23) != 0 &&
            strncmp(p, "gtidproxy_cache_", 16) != 0)
            fail_msg("not a cache line after the old families: %.*s", (int)strcspn(p, "\n"), p);
    }
    free(old);
}

/* ==== tests ==== */

static const struct {
    const char *name, *type;
} families[] = {
    {"gtidproxy_info", "gauge"},
    {"gtidproxy_uptime_seconds", "gauge"},
    {"gtidproxy_workers", "gauge"},
    {"gtidproxy_client_connections", "gauge"},
    {"gtidproxy_client_connections_total", "counter"},
    {"gtidproxy_client_connections_rejected_total", "counter"},
    {"gtidproxy_client_bytes_received_total", "counter"},
    {"gtidproxy_client_bytes_sent_total", "counter"},
    {"gtidproxy_client_buffered_bytes", "gauge"},
    {"gtidproxy_queries_total", "counter"},
    {"gtidproxy_topology_primary_changes_total", "counter"},
    {"gtidproxy_topology_writes_refused", "gauge"},
    {"gtidproxy_query_rule_memo_hits_total", "counter"},
    {"gtidproxy_query_rule_memo_misses_total", "counter"},
    {"gtidproxy_query_rule_memo_evictions_total", "counter"},
    {"gtidproxy_query_rule_limit_hits_total", "counter"},
    {"gtidproxy_query_rule_errors_total", "counter"},
    {"gtidproxy_config_reloads_total", "counter"},
    {"gtidproxy_config_reload_failures_total", "counter"},
    {"gtidproxy_backend_up", "gauge"},
    {"gtidproxy_backend_state", "gauge"},
    {"gtidproxy_backend_health", "gauge"},
    {"gtidproxy_backend_health_transitions_total", "counter"},
    {"gtidproxy_backend_lag_seconds", "gauge"},
    {"gtidproxy_backend_lag_transactions", "gauge"},
    {"gtidproxy_backend_known_age_seconds", "gauge"},
    {"gtidproxy_backend_connections", "gauge"},
    {"gtidproxy_backend_connects_total", "counter"},
    {"gtidproxy_backend_connect_failures_total", "counter"},
    {"gtidproxy_backend_commands_total", "counter"},
    {"gtidproxy_backend_reads_total", "counter"},
    {"gtidproxy_backend_waits_total", "counter"},
    {"gtidproxy_backend_wait_timeouts_total", "counter"},
    {"gtidproxy_backend_wait_seconds_total", "counter"},
    {"gtidproxy_backend_checks_total", "counter"},
    {"gtidproxy_backend_check_failures_total", "counter"},
    {"gtidproxy_reads_total", "counter"},
    {"gtidproxy_wait_duration_seconds", "histogram"},
    {"gtidproxy_wait_timeouts_total", "counter"},
    {"gtidproxy_cache_entries", "gauge"},
    {"gtidproxy_cache_bytes", "gauge"},
    {"gtidproxy_cache_max_bytes", "gauge"},
    {"gtidproxy_cache_lookups_total", "counter"},
    {"gtidproxy_cache_stores_total", "counter"},
    {"gtidproxy_cache_evictions_total", "counter"},
    {"gtidproxy_cache_refused_total", "counter"},
};

/* Every family, HELP then TYPE, in this order, whatever the snapshot holds. */
static void want_families(const char *text)
{
    const char *at = text;
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        char help[160], type[160];
        snprintf(help, sizeof help, "# HELP %s ", families[i].name);
        snprintf(type, sizeof type, "\n# TYPE %s %s\n", families[i].name, families[i].type);
        const char *h = strstr(at, help);
        if (!h || (h != text && h[-1] != '\n'))
            fail_msg("no HELP for %s (or out of order)", families[i].name);
        const char *t = strstr(h, type);
        if (!t || memchr(h, '\n', (size_t)(t - h)) != NULL)
            fail_msg("no TYPE right after the HELP of %s", families[i].name);
        at = t + 1;
    }
}

static void test_every_family_has_help_and_type(void **state)
{
    (void)state;
    size_t len;
    char *text = render_fixture(&len);
    want_families(text);
    free(text);

    /* A snapshot that took nothing: every family, no sample at all. */
    struct admin_snapshot *s = calloc(1, sizeof *s);
    assert_non_null(s);
    text = render(s, &len);
    want_families(text);
    for (const char *p = text; *p; p = strchr(p, '\n') + 1)
        if (*p != '#')
            fail_msg("a sample from an empty snapshot: %.*s", (int)strcspn(p, "\n"), p);
    free(text);
    free(s);
}

static void test_status_lines(void **state)
{
    (void)state;
    size_t len;
    char *text = render_fixture(&len);
    want_line(text, "gtidproxy_info{version=\"0.1.0\",flavor=\"mariadb\"} 1");
    want_line(text, "gtidproxy_uptime_seconds 12.345");
    want_line(text, "gtidproxy_workers 2");
    want_line(text, "gtidproxy_client_connections 3");
    want_line(text, "gtidproxy_client_connections_total 10");
    want_line(text, "gtidproxy_client_connections_rejected_total 1");
    want_line(text, "gtidproxy_client_bytes_received_total 100");
    want_line(text, "gtidproxy_client_bytes_sent_total 2000");
    want_line(text, "gtidproxy_queries_total{route=\"primary\"} 15");
    want_line(text, "gtidproxy_queries_total{route=\"replica\"} 20");
    want_line(text, "gtidproxy_queries_total{route=\"proxy\"} 1");
    want_line(text, "gtidproxy_config_reloads_total 2");
    want_line(text, "gtidproxy_config_reload_failures_total 1");
    free(text);
}

static void test_backend_lines_and_escaping(void **state)
{
    (void)state;
    size_t len;
    char *text = render_fixture(&len);
    /* re"pl\ica: quote and backslash escaped in every label value. */
    want_line(text, "gtidproxy_backend_up{backend=\"re\\\"pl\\\\ica\",role=\"replica\"} 0");
    want_line(text, "gtidproxy_backend_up{backend=\"primary\",role=\"primary\"} 1");
    want_line(text, "gtidproxy_backend_state{backend=\"re\\\"pl\\\\ica\",state=\"lagging\"} 1");
    want_line(text, "gtidproxy_backend_state{backend=\"re\\\"pl\\\\ica\",state=\"up\"} 0");
    want_line(text, "gtidproxy_backend_state{backend=\"replica2\",state=\"down\"} 1");
    static const char *const states[] = {"offline", "draining", "down", "unknown", "lagging"};
    for (size_t i = 0; i < 5; i++) { /* one series per state, 0 but the current one */
        char line[128];
        snprintf(line, sizeof line, "gtidproxy_backend_state{backend=\"primary\",state=\"%s\"} 0",
                 states[i]);
        want_line(text, line);
    }
    want_line(text, "gtidproxy_backend_state{backend=\"primary\",state=\"up\"} 1");
    /* The monitor's health: one series per health state, 1 for the current
     * one; a suspect primary is still "up" in gtidproxy_backend_state. */
    static const char *const health[] = {"unknown", "up", "suspect", "down"};
    static const char *const bnames[] = {"primary", "re\\\"pl\\\\ica", "replica2"};
    static const int current[] = {2, 1, 3};
    for (size_t b = 0; b < 3; b++)
        for (size_t h = 0; h < 4; h++) {
            char line[160];
            snprintf(line, sizeof line, "gtidproxy_backend_health{backend=\"%s\",state=\"%s\"} %d",
                     bnames[b], health[h], (int)h == current[b]);
            want_line(text, line);
        }
    want_line(text, "gtidproxy_backend_health_transitions_total{backend=\"primary\"} 2");
    want_line(text, "gtidproxy_backend_health_transitions_total{backend=\"re\\\"pl\\\\ica\"} 1");
    want_line(text, "gtidproxy_backend_health_transitions_total{backend=\"replica2\"} 7");
    want_line(text, "gtidproxy_backend_lag_seconds{backend=\"re\\\"pl\\\\ica\"} 1.5");
    want_line(text, "gtidproxy_backend_lag_transactions{backend=\"re\\\"pl\\\\ica\"} 8");
    want_line(text, "gtidproxy_backend_known_age_seconds{backend=\"primary\"} 0.25");
    want_line(text, "gtidproxy_backend_known_age_seconds{backend=\"re\\\"pl\\\\ica\"} 0.012");
    want_line(text, "gtidproxy_backend_connections{backend=\"re\\\"pl\\\\ica\"} 3");
    want_line(text, "gtidproxy_backend_connects_total{backend=\"re\\\"pl\\\\ica\"} 10");
    want_line(text, "gtidproxy_backend_connect_failures_total{backend=\"replica2\"} 7");
    want_line(text, "gtidproxy_backend_commands_total{backend=\"primary\"} 70");
    want_line(text, "gtidproxy_backend_reads_total{backend=\"re\\\"pl\\\\ica\"} 50");
    want_line(text, "gtidproxy_backend_waits_total{backend=\"re\\\"pl\\\\ica\"} 4");
    want_line(text, "gtidproxy_backend_wait_timeouts_total{backend=\"re\\\"pl\\\\ica\"} 1");
    want_line(text, "gtidproxy_backend_wait_seconds_total{backend=\"re\\\"pl\\\\ica\"} 0.0125");
    want_line(text, "gtidproxy_backend_wait_seconds_total{backend=\"primary\"} 0");
    want_line(text, "gtidproxy_backend_checks_total{backend=\"replica2\"} 9");
    want_line(text, "gtidproxy_backend_check_failures_total{backend=\"replica2\"} 9");
    /* Unknown values are left out, not written as 0. */
    want_no_line_starting(text, "gtidproxy_backend_lag_seconds{backend=\"primary\"}");
    want_no_line_starting(text, "gtidproxy_backend_lag_seconds{backend=\"replica2\"}");
    want_no_line_starting(text, "gtidproxy_backend_lag_transactions{backend=\"replica2\"}");
    want_no_line_starting(text, "gtidproxy_backend_known_age_seconds{backend=\"replica2\"}");
    free(text);
}

static void test_newline_in_label_escaped(void **state)
{
    (void)state;
    struct admin_snapshot *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->parts = ADMIN_SNAP_BACKENDS;
    s->n_backends = 1;
    s->backends[0] = (struct admin_snap_backend){
        .name = "a\nb", .host = "h", .role = BACKEND_ROLE_REPLICA, .state = ADMIN_BSTATE_UP};
    size_t len;
    char *text = render(s, &len);
    want_line(text, "gtidproxy_backend_up{backend=\"a\\nb\",role=\"replica\"} 1");
    want_same_as_oracle(s, text, len);
    free(text);
    free(s);
}

static void test_reads_and_histogram(void **state)
{
    (void)state;
    size_t len;
    char *text = render_fixture(&len);
    want_line(text, "gtidproxy_reads_total{level=\"session\",outcome=\"direct\"} 5");
    want_line(text, "gtidproxy_reads_total{level=\"session\",outcome=\"waited\"} 2");
    want_line(text, "gtidproxy_reads_total{level=\"token\",outcome=\"fallback_stale\"} 0");
    want_no_line_starting(text, "gtidproxy_reads_total{level=\"session\",outcome=\"reads\"}");
    size_t series = 0;
    for (const char *p = text; (p = strstr(p, "\ngtidproxy_reads_total{")) != NULL; p++)
        series++;
    assert_int_equal(series, 5 * 6);

    /* Cumulative, le in seconds, +Inf last; then _sum (s) and _count. */
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"0.001\"} 1");
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"0.002\"} 2");
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"0.005\"} 2");
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"5\"} 2");
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"+Inf\"} 3");
    want_line(text, "gtidproxy_wait_duration_seconds_sum 10.0024");
    want_line(text, "gtidproxy_wait_duration_seconds_count 3");
    want_line(text, "gtidproxy_wait_timeouts_total 1");
    const char *inf = strstr(text, "le=\"+Inf\"");
    const char *sum = strstr(text, "gtidproxy_wait_duration_seconds_sum");
    assert_true(inf && sum && inf < sum);
    free(text);
}

/* The cache families, exactly, last; when the cache is off every sample
 * is there with 0 (scripts and alerts need no special case). */
static void test_cache_families(void **state)
{
    (void)state;
    size_t len;
    char *text = render_fixture(&len);
    size_t n = sizeof cache_text - 1;
    assert_true(len >= n);
    if (strcmp(text + len - n, cache_text) != 0)
        fail_msg("cache families:\n%s\n--- want:\n%s", text + len - n, cache_text);
    free(text);

    struct admin_snapshot *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->parts = ADMIN_SNAP_CACHE; /* taken, cache off: enabled false, all 0 */
    text = render(s, &len);
    static const char *const zero[] = {
        "gtidproxy_cache_entries 0",
        "gtidproxy_cache_bytes 0",
        "gtidproxy_cache_max_bytes 0",
        "gtidproxy_cache_lookups_total{outcome=\"hit\"} 0",
        "gtidproxy_cache_lookups_total{outcome=\"stale\"} 0",
        "gtidproxy_cache_lookups_total{outcome=\"miss\"} 0",
        "gtidproxy_cache_lookups_total{outcome=\"bypass\"} 0",
        "gtidproxy_cache_stores_total 0",
        "gtidproxy_cache_evictions_total 0",
        "gtidproxy_cache_refused_total 0",
    };
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        want_line(text, zero[i]);
    free(text);
    free(s);
}

/* The fixture: byte for byte the old renderer's text of the same views. */
static void test_fixture_same_as_oracle(void **state)
{
    (void)state;
    struct admin_snapshot *s = malloc(sizeof *s);
    assert_non_null(s);
    fill_fixture(s);
    size_t len;
    char *text = render(s, &len);
    want_same_as_oracle(s, text, len);
    free(text);

    /* Parts not taken: the oracle saw a NULL view there. */
    s->parts = ADMIN_SNAP_BACKENDS | ADMIN_SNAP_CACHE;
    text = render(s, &len);
    want_same_as_oracle(s, text, len);
    free(text);
    free(s);
}

/* ---- random snapshots ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
    /* xorshift64*: reproducible, no libc state */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

/* A value of a random magnitude: all digit counts, 0, and (when wide)
 * values past INT64_MAX (the views saturate them). */
static uint64_t rnd_mag(unsigned max_bits)
{
    unsigned bits = (unsigned)(rnd() % (max_bits + 1));
    uint64_t v = bits == 0 ? 0 : bits >= 64 ? rnd() : rnd() & ((UINT64_C(1) << bits) - 1);
    switch (rnd() % 8) {
    case 0:
        return v - v % 1000; /* whole seconds of ms */
    case 1:
        return v - v % 1000000; /* whole seconds of us */
    case 2:
        return v % 1000; /* below one second */
    default:
        return v;
    }
}

static const char *const names[] = {"primary", "r1", "re\"pl\\ica", "a\nb", "ünï-côdé", "",
                                    "x\\\\\"\n\""};

static void fill_random(struct admin_snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->parts = (unsigned)(rnd() % 16);
    if (rnd() % 2)
        s->parts = ADMIN_SNAP_METRICS;
    struct admin_snap_status *st = &s->status;
    st->version = names[rnd() % 7];
    st->uptime_ms = rnd_mag(64);
    st->workers = (unsigned)rnd_mag(32);
    st->flavor = rnd() % 2 ? GTID_FLAVOR_MYSQL : GTID_FLAVOR_MARIADB;
    st->clients_current = rnd_mag(32);
    st->clients_total = rnd_mag(64);
    st->clients_rejected = rnd_mag(64);
    for (size_t r = 0; r < WROUTE_N; r++)
        st->queries[r] = rnd_mag(64);
    st->bytes_in = rnd_mag(64);
    st->bytes_out = rnd_mag(64);
    st->client_buffered = (int64_t)rnd_mag(62);
    st->reloads = rnd_mag(64);
    st->reload_failures = rnd_mag(64);
    st->rule_memo_hits = rnd_mag(64);
    st->rule_memo_misses = rnd_mag(64);
    st->rule_memo_evictions = rnd_mag(64);
    st->rule_limit_hits = rnd_mag(64);
    st->rule_errors = rnd_mag(64);
    st->topology.changes = rnd_mag(64);
    st->topology.state = (enum topo_state)(rnd() % 3);

    s->n_backends = (size_t)(rnd() % 5);
    for (size_t i = 0; i < s->n_backends; i++) {
        struct admin_snap_backend *b = &s->backends[i];
        b->name = names[rnd() % 7];
        b->host = "h";
        b->role = rnd() % 2 ? BACKEND_ROLE_REPLICA : BACKEND_ROLE_PRIMARY;
        b->state = (enum admin_bstate)(rnd() % ADMIN_BSTATE_N);
        b->health = (enum mon_health)(rnd() % MON_HEALTH_N);
        b->health_transitions = rnd_mag(64);
        b->lag_known = rnd() % 2;
        b->lag_ms = (int64_t)(rnd_mag(63) & (uint64_t)INT64_MAX);
        b->lag_tx_known = rnd() % 2;
        b->lag_tx = rnd_mag(64);
        b->known_age_known = rnd() % 2;
        b->known_age_ms = rnd_mag(64);
        b->conn_open = rnd_mag(64);
        b->conn_opened = rnd_mag(64);
        b->connect_failures = rnd_mag(64);
        b->commands = rnd_mag(64);
        b->reads = rnd_mag(64);
        b->waits = rnd_mag(64);
        b->wait_timeouts = rnd_mag(64);
        b->wait_us = rnd_mag(64);
        b->checks = rnd_mag(64);
        b->check_failures = rnd_mag(64);
        b->last_ok_known = rnd() % 2;
        b->last_ok_age_ms = rnd_mag(64);
    }
    struct admin_snap_consistency *c = &s->consistency;
    for (size_t l = 0; l < GATE_LEVEL_N; l++)
        for (size_t o = 0; o < GATE_OUTCOME_N; o++)
            c->reads[l][o] = rnd_mag(58); /* the view sums them: no wrap */
    c->waits = rnd_mag(64);
    c->wait_timeouts = rnd_mag(64);
    c->wait_us_sum = rnd_mag(64);
    for (size_t i = 0; i < GATE_HIST_N; i++)
        c->wait_hist[i] = rnd_mag(58); /* the oracle sums them in a signed int64 */
    struct admin_snap_cache *k = &s->cache;
    k->enabled = rnd() % 2;
    k->max_bytes = rnd_mag(64);
    k->st.entries = rnd_mag(64);
    k->st.bytes = rnd_mag(64);
    k->st.stores = rnd_mag(64);
    k->st.evictions = rnd_mag(64);
    k->st.refused_too_big = rnd_mag(64);
    k->hits = rnd_mag(64);
    k->stale_serves = rnd_mag(64);
    k->misses = rnd_mag(64);
    k->bypasses = rnd_mag(64);
}

/* Random values of every magnitude (the decimal fast paths against
 * "%.15g", saturation past INT64_MAX, escaping, parts not taken): the
 * same bytes as the oracle, every time. */
static void test_random_same_as_oracle(void **state)
{
    (void)state;
    struct admin_snapshot *s = malloc(sizeof *s);
    assert_non_null(s);
    for (int i = 0; i < 3000; i++) {
        fill_random(s);
        size_t len;
        char *text = render(s, &len);
        want_same_as_oracle(s, text, len);
        free(text);
    }
    free(s);
}

static void test_promtool_accepts_fixture(void **state)
{
    (void)state;
    size_t len;
    char *text = render_fixture(&len);
    int rc = promtool_check(text, len);
    if (rc != 0)
        fail_msg("promtool check metrics exited %d on:\n%s", rc, text);
    free(text);
}

/* promtool is a real check: it rejects what the format forbids. */
static void test_promtool_rejects_broken_text(void **state)
{
    (void)state;
    static const char bad[] = "# TYPE x_total counter\nx_total{a=\"b} 1\n";
    assert_int_not_equal(promtool_check(bad, sizeof bad - 1), 0);
}

/* The real snapshot of a proxy whose monitor has not started: every
 * backend "unknown", no lag samples; cache off; still valid text. */
static void test_admin_metrics_from_a_proxy(void **state)
{
    (void)state;
    static const char conf[] =
        "{\"listeners\": [{\"name\": \"app\", \"port\": 6033}],"
        " \"backends\": [{\"name\": \"primary\", \"host\": \"127.0.0.1\", \"port\": 13306,"
        " \"role\": \"primary\"}, {\"name\": \"replica1\", \"host\": \"127.0.0.1\","
        " \"port\": 13307, \"role\": \"replica\"}],"
        " \"users\": [{\"name\": \"app\", \"password\": \"pw\"}],"
        " \"backend_credentials\": {\"user\": \"app\", \"password\": \"pw\"},"
        " \"monitor\": {\"user\": \"mon\", \"password\": \"mpw\"}}";
    char err[256] = "";
    struct config *cfg = config_parse(conf, "t.json", err, sizeof err);
    if (!cfg)
        fail_msg("config: %s", err);
    struct proxy px;
    assert_int_equal(proxy_init(&px, cfg, err, sizeof err), 0);
    struct worker *w = calloc(1, sizeof *w);
    assert_non_null(w);
    gate_count(&w->gate, GATE_SESSION, GATE_DIRECT);
    gate_count_wait(&w->gate, 3000, true);
    atomic_store(&w->st.queries[WROUTE_REPLICA], 4);
    struct admin_ctx a = {.px = &px, .workers = w, .n_workers = 1};
    struct cache_store *saved_cache = px.cache;
    px.cache = NULL; /* whatever the config's default: off here */

    size_t len;
    char *text = admin_metrics(&a, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    want_line(text, "gtidproxy_info{version=\"" GTIDPROXY_VERSION "\",flavor=\"mariadb\"} 1");
    want_line(text, "gtidproxy_workers 1");
    want_line(text, "gtidproxy_queries_total{route=\"replica\"} 4");
    want_line(text, "gtidproxy_backend_state{backend=\"replica1\",state=\"unknown\"} 1");
    want_line(text, "gtidproxy_backend_up{backend=\"replica1\",role=\"replica\"} 0");
    want_line(text, "gtidproxy_backend_health{backend=\"replica1\",state=\"unknown\"} 1");
    want_line(text, "gtidproxy_backend_health_transitions_total{backend=\"replica1\"} 0");
    want_line(text, "gtidproxy_reads_total{level=\"session\",outcome=\"direct\"} 1");
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"0.002\"} 0");
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"0.005\"} 1");
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"+Inf\"} 1");
    want_line(text, "gtidproxy_wait_duration_seconds_sum 0.003");
    want_line(text, "gtidproxy_wait_duration_seconds_count 1");
    want_line(text, "gtidproxy_cache_max_bytes 0");
    want_line(text, "gtidproxy_cache_lookups_total{outcome=\"hit\"} 0");
    want_no_line_starting(text, "gtidproxy_backend_lag_seconds{");
    want_no_line_starting(text, "gtidproxy_backend_known_age_seconds{");
    int rc = promtool_check(text, len);
    if (rc != 0)
        fail_msg("promtool check metrics exited %d on:\n%s", rc, text);
    free(text);

    /* One real snapshot: the new text is the oracle's for its views. */
    struct admin_snapshot *s = malloc(sizeof *s);
    assert_non_null(s);
    assert_int_equal(admin_snapshot_take(&a, s, ADMIN_SNAP_METRICS | ADMIN_SNAP_GTID_TEXT), 0);
    text = render(s, &len);
    want_same_as_oracle(s, text, len);
    free(text);
    admin_snapshot_release(s);
    free(s);

    px.cache = saved_cache;
    free(w);
    proxy_destroy(&px);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_family_has_help_and_type),
        cmocka_unit_test(test_status_lines),
        cmocka_unit_test(test_backend_lines_and_escaping),
        cmocka_unit_test(test_newline_in_label_escaped),
        cmocka_unit_test(test_reads_and_histogram),
        cmocka_unit_test(test_cache_families),
        cmocka_unit_test(test_fixture_same_as_oracle),
        cmocka_unit_test(test_random_same_as_oracle),
        cmocka_unit_test(test_promtool_accepts_fixture),
        cmocka_unit_test(test_promtool_rejects_broken_text),
        cmocka_unit_test(test_admin_metrics_from_a_proxy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
