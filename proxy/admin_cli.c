/*
 * admin_cli.c - `gtidproxy status`: asks a running proxy's admin port for
 * GET /status, /backends and /consistency and prints them as aligned tables
 * (or, with --json, as one JSON object for scripts).
 *
 *   args ─▶ base URL + token ─▶ fetch /status, /backends, /consistency
 *                               (one curl handle: one keep-alive connection)
 *                          ─▶ admin_cli_format() ─▶ out      (errors ─▶ err)
 *
 * The formatter is pure, documents in and text out, and reads only the
 * fields README "Admin API" documents. When a proxy of another version
 * answers with another shape it prints "?" where a field is missing and the
 * command names the first such field.
 */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cli.h"
#include "buf.h"
#include "config.h"

#define PROG "gtidproxy status"

/* Seconds matter to an operator at a terminal: an admin port that does not
 * accept within 2 s is down or firewalled, and a view costs the proxy a few
 * loads, so 5 s for a whole answer is generous. */
#define CONNECT_TIMEOUT_MS 2000L
#define TOTAL_TIMEOUT_MS   5000L

/* The largest answer read. /backends grows by ~1 KiB per backend, so 16 MiB
 * is far beyond any real proxy, yet bounds a wrong URL that streams. */
#define MAX_ANSWER (16u << 20)

/* ---- formatting ----------------------------------------------------- */

enum doc { DOC_STATUS, DOC_BACKENDS, DOC_CONSISTENCY, DOC_N };
static const char *const doc_path[DOC_N] = {"/status", "/backends", "/consistency"};

struct fmt {
    FILE *out;
    int rc;            /* -1 once a needed field was missing or mistyped */
    enum doc miss_doc; /* the first such field: its document ... */
    char miss[160];    /* ... and its path there, "backends[2].waits.avg_ms" */
};

/* Records a missing field (the first one is the one reported). */
static void miss(struct fmt *f, enum doc d, const char *where, const char *path)
{
    if (f->rc == 0) {
        f->miss_doc = d;
        snprintf(f->miss, sizeof f->miss, "%s%s%s", where, *where && *path ? "." : "", path);
    }
    f->rc = -1;
}

/* The value at a dotted path under obj ("waits.avg_ms"); NULL when a step
 * is absent or not an object. A null on the way reads as a null leaf: a
 * parent the proxy cannot fill ("lag": null) has unknown children. */
static const json_t *lookup(const json_t *obj, const char *path)
{
    char key[64];
    while (json_is_object(obj)) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        obj = json_object_get(obj, key);
        if (!dot)
            return obj;
        path = dot + 1;
    }
    return json_is_null(obj) ? obj : NULL;
}

/* A real with at most two decimals, trailing zeros dropped: 0, 0.25, 12.5. */
static void fmt_real(char *buf, size_t n, double v)
{
    snprintf(buf, n, "%.2f", v);
    char *e = buf + strlen(buf);
    if (strchr(buf, '.')) {
        while (e > buf && e[-1] == '0')
            *--e = '\0';
        if (e > buf && e[-1] == '.')
            *--e = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        strcpy(buf, "0");
}

/* A duration in ms as a person reads it, two units at most: 850ms, 1.2s,
 * 42s, 5m03s, 3h25m, 2d04h. Truncated, never rounded up. Clamped to
 * [0, 1e15 ms] first (31,000 years: the cast stays defined). */
static void fmt_dur(char *buf, size_t n, double ms_real)
{
    long long ms = ms_real > 0 ? (long long)(ms_real < 1e15 ? ms_real : 1e15) : 0;
    long long s = ms / 1000;
    if (ms < 1000)
        snprintf(buf, n, "%lldms", ms);
    else if (ms < 10000)
        snprintf(buf, n, "%lld.%llds", s, ms % 1000 / 100);
    else if (s < 60)
        snprintf(buf, n, "%llds", s);
    else if (s < 3600)
        snprintf(buf, n, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, n, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, n, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

enum kind {
    K_STR, /* string */
    K_INT, /* integer count */
    K_NUM, /* number, up to two decimals */
    K_DUR, /* milliseconds shown as a duration */
    K_MS,  /* milliseconds shown as "2.5ms" */
};

/* The text of value v found at where.path: "-" for null, "?" (and
 * recorded) when absent or of the wrong type, else the value. Returns a
 * JSON string, a literal or buf. */
static const char *text(struct fmt *f, enum doc d, const char *where, const char *path,
                        const json_t *v, enum kind k, char *buf, size_t n)
{
    if (json_is_null(v))
        return "-";
    if (k == K_STR ? !json_is_string(v) : !json_is_number(v)) {
        miss(f, d, where, path);
        return "?";
    }
    switch (k) {
    case K_STR:
        return json_string_value(v);
    case K_INT:
        if (json_is_integer(v)) {
            snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            return buf;
        }
        fmt_real(buf, n, json_number_value(v));
        return buf;
    case K_NUM:
        fmt_real(buf, n, json_number_value(v));
        return buf;
    case K_DUR:
        fmt_dur(buf, n, json_number_value(v));
        return buf;
    case K_MS:
        fmt_real(buf, n - 2, json_number_value(v));
        strcat(buf, "ms");
        return buf;
    }
    return "?";
}

/* The same for the field at a dotted path under obj. */
static const char *cell(struct fmt *f, enum doc d, const char *where, const json_t *obj,
                        const char *path, enum kind k, char *buf, size_t n)
{
    return text(f, d, where, path, lookup(obj, path), k, buf, n);
}

/* ---- aligned tables ----

 * A table is printed in two passes over the same rows: the first measures
 * the columns, the second prints. Cells point into the documents or into
 * the row's own buffers, so nothing is allocated. Text columns align left,
 * numbers right; two spaces apart; the last column is never padded (no
 * trailing blanks). */

#define MAX_COLS 16
#define CELL_BUF 48

struct column {
    const char *head;
    bool right;
};

struct row {
    const char *cell[MAX_COLS];
    char buf[MAX_COLS][CELL_BUF];
};

/* Display width: UTF-8 continuation bytes take no column. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void measure(size_t *w, const char *const *cells, size_t ncols)
{
    for (size_t i = 0; i < ncols; i++) {
        size_t cw = text_width(cells[i]);
        if (cw > w[i])
            w[i] = cw;
    }
}

static void print_row(FILE *out, const struct column *cols, size_t ncols, const size_t *w,
                      const char *const *cells)
{
    for (size_t i = 0; i < ncols; i++) {
        size_t pad = w[i] - text_width(cells[i]);
        bool last = i + 1 == ncols;
        if (i > 0)
            fputs("  ", out);
        if (cols[i].right)
            fprintf(out, "%*s%s", (int)pad, "", cells[i]);
        else
            fprintf(out, "%s%*s", cells[i], last ? 0 : (int)pad, "");
    }
    fputc('\n', out);
}

static void print_head(FILE *out, const struct column *cols, size_t ncols, const size_t *w)
{
    const char *heads[MAX_COLS];
    for (size_t i = 0; i < ncols; i++)
        heads[i] = cols[i].head;
    print_row(out, cols, ncols, w, heads);
}

/* ---- the three parts ---- */

/* gtidproxy 0.1.0 (mariadb), up 3h25m, 2 workers | clients 3 now, 10 total,
 * 0 rejected | queries primary 10, replica 20, proxy 1 | writes 0-1-42 */
static void format_header(struct fmt *f, const json_t *st)
{
    char b[8][CELL_BUF];
    const char *w = "";
    const char *version = cell(f, DOC_STATUS, w, st, "version", K_STR, b[0], CELL_BUF);
    const char *flavor = cell(f, DOC_STATUS, w, st, "flavor", K_STR, b[1], CELL_BUF);
    const char *uptime = cell(f, DOC_STATUS, w, st, "uptime_ms", K_DUR, b[2], CELL_BUF);
    const char *workers = cell(f, DOC_STATUS, w, st, "workers", K_INT, b[3], CELL_BUF);
    const char *cur = cell(f, DOC_STATUS, w, st, "clients.current", K_INT, b[4], CELL_BUF);
    const char *total = cell(f, DOC_STATUS, w, st, "clients.total", K_INT, b[5], CELL_BUF);
    const char *rej = cell(f, DOC_STATUS, w, st, "clients.rejected", K_INT, b[6], CELL_BUF);
    const char *writes = cell(f, DOC_STATUS, w, st, "writes_gtid", K_STR, b[7], CELL_BUF);

    /* Routes in the document's order (jansson keeps it): whatever routes
     * the proxy has, the line shows. */
    char queries[256] = "";
    size_t ql = 0;
    const json_t *q = json_object_get(st, "queries");
    if (!json_is_object(q)) {
        miss(f, DOC_STATUS, w, "queries");
        strcpy(queries, "?");
    } else {
        /* json_object_iter wants a mutable object; it is only read. */
        for (void *it = json_object_iter((json_t *)q); it && ql < sizeof queries;
             it = json_object_iter_next((json_t *)q, it)) {
            char nb[CELL_BUF];
            const char *key = json_object_iter_key(it);
            const char *v = text(f, DOC_STATUS, "queries", key, json_object_iter_value(it), K_INT,
                                 nb, sizeof nb);
            int m = snprintf(queries + ql, sizeof queries - ql, "%s%s %s", ql ? ", " : "", key, v);
            if (m < 0)
                break;
            ql += (size_t)m;
        }
    }
    const json_t *draining = json_object_get(st, "draining");
    fprintf(f->out,
            "gtidproxy %s (%s), up %s, %s workers%s | clients %s now, %s total, %s rejected"
            " | queries %s | writes %s\n",
            version, flavor, uptime, workers, json_is_true(draining) ? ", DRAINING" : "", cur,
            total, rej, queries, *writes ? writes : "(none)");
    /* Only when writes are not simply going to the primary: a promotion
     * being confirmed, or two writable backends (writes refused). Older
     * proxies have no topology: nothing to say. */
    const json_t *topo = json_object_get(st, "topology");
    const char *state = json_string_value(json_object_get(topo, "state"));
    const char *reason = json_string_value(json_object_get(topo, "reason"));
    if (state && strcmp(state, "stable") != 0)
        fprintf(f->out, "topology %s%s: %s\n", state,
                strcmp(state, "split") == 0 ? " (WRITES REFUSED)" : "", reason ? reason : "?");
}

/* STATE is the combined state (admin, health, replication); HEALTH the
 * monitor's own, which tells a suspect or recovering primary apart. */
static const struct column backend_cols[] = {
    {"NAME", false},    {"ROLE", false},  {"STATE", false},      {"HEALTH", false},
    {"ADMIN", false},   {"LAG(s)", true}, {"BEHIND(trx)", true}, {"KNOWN-AGE", true},
    {"CONN", true},     {"READS", true},  {"WAITS", true},       {"AVG-WAIT", true},
    {"TIMEOUTS", true}, {"WHY", false},
};
#define BACKEND_NCOLS (sizeof backend_cols / sizeof backend_cols[0])

/* One backend's cells, in backend_cols' order. */
static void backend_row(struct fmt *f, const json_t *be, size_t idx, struct row *r)
{
    static const struct {
        const char *path;
        enum kind kind;
    } fields[BACKEND_NCOLS] = {
        {"name", K_STR},
        {"role", K_STR},
        {"state", K_STR},
        {"health", K_STR},
        {"admin_state", K_STR},
        {"lag.seconds", K_NUM},
        {"lag.transactions", K_INT},
        {"known_age_ms", K_DUR},
        {"connections.open", K_INT},
        {"reads", K_INT},
        {"waits.count", K_INT},
        {"waits.avg_ms", K_MS},
        {"waits.timeouts", K_INT},
        {"why", K_STR},
    };
    char where[48];
    snprintf(where, sizeof where, "backends[%zu]", idx);
    for (size_t i = 0; i < BACKEND_NCOLS; i++)
        r->cell[i] =
            cell(f, DOC_BACKENDS, where, be, fields[i].path, fields[i].kind, r->buf[i], CELL_BUF);
}

static void format_backends(struct fmt *f, const json_t *doc)
{
    size_t w[MAX_COLS] = {0};
    const json_t *list = json_object_get(doc, "backends");
    struct row r;

    if (!json_is_array(list)) {
        miss(f, DOC_BACKENDS, "", "backends");
        list = NULL; /* the header alone: there are no rows to show */
    }
    for (size_t i = 0; i < BACKEND_NCOLS; i++)
        w[i] = text_width(backend_cols[i].head);
    for (size_t i = 0; i < json_array_size(list); i++) {
        backend_row(f, json_array_get(list, i), i, &r);
        measure(w, r.cell, BACKEND_NCOLS);
    }
    print_head(f->out, backend_cols, BACKEND_NCOLS, w);
    for (size_t i = 0; i < json_array_size(list); i++) {
        backend_row(f, json_array_get(list, i), i, &r);
        print_row(f->out, backend_cols, BACKEND_NCOLS, w, r.cell);
    }
}

static const struct column level_cols[] = {
    {"LEVEL", false},     {"READS", true},    {"DIRECT", true},   {"WAITED", true},
    {"FB-PRIMARY", true}, {"FB-CACHE", true}, {"FB-ERROR", true}, {"STALE", true},
};
#define LEVEL_NCOLS (sizeof level_cols / sizeof level_cols[0])

/* One level's cells, in level_cols' order. */
static void level_row(struct fmt *f, const char *name, const json_t *lv, struct row *r)
{
    static const char *const paths[LEVEL_NCOLS] = {NULL,
                                                   "reads",
                                                   "direct",
                                                   "waited",
                                                   "fallback_primary",
                                                   "fallback_cache",
                                                   "fallback_error",
                                                   "fallback_stale"};
    char where[80];
    snprintf(where, sizeof where, "levels.%s", name);
    r->cell[0] = name;
    for (size_t i = 1; i < LEVEL_NCOLS; i++)
        r->cell[i] = cell(f, DOC_CONSISTENCY, where, lv, paths[i], K_INT, r->buf[i], CELL_BUF);
}

/* Levels that served reads; all of them when none has (a fresh proxy shows
 * the whole table rather than nothing). A level whose count cannot be read
 * is shown, so its "?" is seen. */
static bool level_shown(const json_t *lv, bool any_reads)
{
    const json_t *reads = json_object_get(lv, "reads");
    return !any_reads || !json_is_integer(reads) || json_integer_value(reads) > 0;
}

static void format_consistency(struct fmt *f, const json_t *doc)
{
    size_t w[MAX_COLS] = {0};
    json_t *levels = json_object_get(doc, "levels");
    struct row r;
    bool any_reads = false;
    const char *name;
    json_t *lv;

    if (!json_is_object(levels)) {
        miss(f, DOC_CONSISTENCY, "", "levels");
        levels = NULL;
    }
    json_object_foreach(levels, name, lv)
    {
        const json_t *reads = json_object_get(lv, "reads");
        if (json_is_integer(reads) && json_integer_value(reads) > 0)
            any_reads = true;
    }
    for (size_t i = 0; i < LEVEL_NCOLS; i++)
        w[i] = text_width(level_cols[i].head);
    json_object_foreach(levels, name, lv)
    {
        if (!level_shown(lv, any_reads))
            continue;
        level_row(f, name, lv, &r);
        measure(w, r.cell, LEVEL_NCOLS);
    }
    print_head(f->out, level_cols, LEVEL_NCOLS, w);
    json_object_foreach(levels, name, lv)
    {
        if (!level_shown(lv, any_reads))
            continue;
        level_row(f, name, lv, &r);
        print_row(f->out, level_cols, LEVEL_NCOLS, w, r.cell);
    }

    char b[4][CELL_BUF];
    const char *wh = "";
    fprintf(f->out, "waits: %s (%s reached, %s timed out), avg %s\n",
            cell(f, DOC_CONSISTENCY, wh, doc, "waits.count", K_INT, b[0], CELL_BUF),
            cell(f, DOC_CONSISTENCY, wh, doc, "waits.reached", K_INT, b[1], CELL_BUF),
            cell(f, DOC_CONSISTENCY, wh, doc, "waits.timeouts", K_INT, b[2], CELL_BUF),
            cell(f, DOC_CONSISTENCY, wh, doc, "waits.avg_ms", K_MS, b[3], CELL_BUF));
}

/* The table, recording the first missing field in f. Sections are apart by
 * one blank line. */
static int format_docs(struct fmt *f, const json_t *status, const json_t *backends,
                       const json_t *consistency)
{
    const json_t *docs[DOC_N] = {status, backends, consistency};
    for (int d = 0; d < DOC_N; d++) {
        if (!json_is_object(docs[d]))
            miss(f, (enum doc)d, "", ""); /* "" : the document itself */
    }
    if (status)
        format_header(f, status);
    if (backends) {
        fputc('\n', f->out);
        format_backends(f, backends);
    }
    if (consistency) {
        fputc('\n', f->out);
        format_consistency(f, consistency);
    }
    return f->rc;
}

int admin_cli_format(FILE *out, const json_t *status, const json_t *backends,
                     const json_t *consistency)
{
    struct fmt f = {.out = out};
    return format_docs(&f, status, backends, consistency);
}

/* ---- fetching ----------------------------------------------------------- */

struct answer {
    struct buf body;
    bool too_big;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct answer *a = arg;
    size_t n = size * nmemb;
    if (n > MAX_ANSWER - a->body.len) {
        a->too_big = true;
        return 0; /* anything but n makes curl stop with CURLE_WRITE_ERROR */
    }
    return buf_append(&a->body, p, n) == 0 ? n : 0;
}

/* The curl handle all three requests share (so they share one connection).
 * NULL when out of memory. */
static CURL *client_new(struct curl_slist *headers, const char *noproxy)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    if (curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, TOTAL_TIMEOUT_MS) != CURLE_OK ||
        /* No SIGALRM for name look-ups: the caller may have threads. */
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOPROXY, noproxy) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK) {
        curl_easy_cleanup(h);
        return NULL;
    }
    return h;
}

/* GETs url and returns its JSON object, or NULL after one line on err that
 * names url and the cause. had_token shapes the hint after a 401. */
static json_t *fetch(CURL *h, const char *url, bool had_token, FILE *err)
{
    struct answer a = {0};
    long code = 0;
    json_error_t jerr;
    json_t *doc = NULL;

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        if (a.too_big)
            fprintf(err, PROG ": %s: the answer is larger than %u MiB\n", url, MAX_ANSWER >> 20);
        else
            fprintf(err, PROG ": %s: %s\n", url, curl_easy_strerror(rc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    const char *body = a.body.data ? (const char *)buf_head(&a.body) : "";
    doc = json_loadb(body, buf_pending(&a.body), 0, &jerr);
    if (code < 200 || code > 299) {
        const json_t *e = json_object_get(doc, "error");
        if (json_is_string(e))
            fprintf(err, PROG ": %s: %ld: %s", url, code, json_string_value(e));
        else if (code == 401)
            fprintf(err, PROG ": %s: 401: missing or wrong bearer token", url);
        else
            fprintf(err, PROG ": %s: %ld%s", url, code, doc ? "" : ": the answer is not JSON");
        if (code == 401 && !had_token)
            fputs(" (give it with --token or GTIDPROXY_ADMIN_TOKEN)", err);
        fputc('\n', err);
        json_decref(doc);
        doc = NULL;
    } else if (!doc) {
        fprintf(err, PROG ": %s: %ld: the answer is not JSON (%s)\n", url, code, jerr.text);
    } else if (!json_is_object(doc)) {
        fprintf(err, PROG ": %s: %ld: the answer is not a JSON object\n", url, code);
        json_decref(doc);
        doc = NULL;
    }
out:
    buf_free(&a.body);
    return doc;
}

/* ---- the command -------------------------------------------------------- */

struct opts {
    const char *file, *url, *token;
    bool json, help;
};

static void usage(FILE *out)
{
    fputs("usage: gtidproxy status [-c FILE] [--admin URL] [--token TOKEN] [--json]\n"
          "  -c FILE        take the admin port's address, port and token from FILE\n"
          "  --admin URL    the admin API (default " ADMIN_CLI_DEFAULT_URL ")\n"
          "  --token TOKEN  bearer token (default: env GTIDPROXY_ADMIN_TOKEN, else FILE's)\n"
          "  --json         print /status, /backends and /consistency as one JSON object\n",
          out);
}

/* Matches argv[*i] against an option that takes a value ("--admin URL",
 * "--admin=URL", "-c FILE"). Returns 1 matched (value in *val, *i advanced
 * past it), 0 not this option, -1 matched but the value is missing. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=' && name[1] == '-') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *val = argv[++*i];
    return 1;
}

/* Returns 0, or -1 after one line on err. */
static int parse_args(int argc, char **argv, struct opts *o, FILE *err)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int m;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = true;
            continue;
        }
        if ((m = opt_value(argc, argv, &i, "-c", &o->file)) == 0 &&
            (m = opt_value(argc, argv, &i, "--config", &o->file)) == 0 &&
            (m = opt_value(argc, argv, &i, "--admin", &o->url)) == 0)
            m = opt_value(argc, argv, &i, "--token", &o->token);
        if (m < 0) {
            fprintf(err, PROG ": %s needs a value\n", a);
            return -1;
        }
        if (m == 0) {
            fprintf(err, PROG ": unknown argument \"%s\"\n", a);
            return -1;
        }
    }
    return 0;
}

/* The base URL of the admin port FILE configures: a wildcard address is
 * reached on loopback; an IPv6 literal goes in brackets. Malloc'd. */
static char *url_from_config(const struct config *cfg)
{
    const char *host = cfg->admin_address;
    char *url = NULL;
    if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0)
        host = "::1";
    if (asprintf(&url, strchr(host, ':') ? "http://[%s]:%u" : "http://%s:%u", host,
                 (unsigned)cfg->admin_port) < 0)
        return NULL;
    return url;
}

/* base + path, with a scheme when base has none and no doubled slash. */
static char *endpoint(const char *base, const char *path)
{
    char *url = NULL;
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    if (asprintf(&url, "%s%.*s%s", strstr(base, "://") ? "" : "http://", (int)n, base, path) < 0)
        return NULL;
    return url;
}

/* A token goes into a header line: a control character would end it. */
static bool token_ok(const char *t)
{
    for (; *t; t++) {
        if ((unsigned char)*t < 0x20 || *t == 0x7f)
            return false;
    }
    return true;
}

int admin_cli_main(int argc, char **argv, FILE *out, FILE *err)
{
    struct opts o = {0};
    struct config *cfg = NULL;
    char *base = NULL, *auth = NULL, *noproxy = NULL, *urls[DOC_N] = {NULL};
    json_t *docs[DOC_N] = {NULL};
    struct curl_slist *headers = NULL;
    const char *np;
    CURL *h = NULL;
    int rc = 2;

    if (parse_args(argc, argv, &o, err) != 0) {
        usage(err);
        return 2;
    }
    if (o.help) {
        usage(out);
        return 0;
    }
    if (!o.token || !*o.token)
        o.token = getenv("GTIDPROXY_ADMIN_TOKEN");
    if (o.file) {
        char cerr[512];
        cfg = config_load(o.file, cerr, sizeof cerr);
        if (!cfg) {
            fprintf(err, PROG ": %s\n", cerr);
            return 2;
        }
        if (!o.url && !cfg->admin_enabled) {
            fprintf(err, PROG ": %s: no \"admin\" section: the admin port is off\n", o.file);
            goto out;
        }
        if ((!o.token || !*o.token) && cfg->admin_token)
            o.token = cfg->admin_token;
    }
    if (o.token && !*o.token)
        o.token = NULL;
    if (o.token && !token_ok(o.token)) {
        fprintf(err, PROG ": the token holds a control character\n");
        goto out;
    }

    rc = 1;
    base = o.url ? strdup(o.url) : cfg ? url_from_config(cfg) : strdup(ADMIN_CLI_DEFAULT_URL);
    /* Loopback never goes through an HTTP proxy from the environment; the
     * operator's own no_proxy list still applies to other hosts. */
    np = getenv("no_proxy");
    if (!np || !*np)
        np = getenv("NO_PROXY");
    if (!base || asprintf(&noproxy, "localhost,127.0.0.1,::1%s%s", np && *np ? "," : "",
                          np && *np ? np : "") < 0) {
        noproxy = NULL;
        goto oom;
    }
    if (o.token && asprintf(&auth, "Authorization: Bearer %s", o.token) < 0) {
        auth = NULL;
        goto oom;
    }
    headers = curl_slist_append(NULL, "Accept: application/json");
    if (!headers || (auth && !curl_slist_append(headers, auth)))
        goto oom;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        goto oom;
    h = client_new(headers, noproxy);
    if (!h) {
        curl_global_cleanup();
        goto oom;
    }
    for (int d = 0; d < DOC_N; d++) {
        if (!(urls[d] = endpoint(base, doc_path[d])))
            goto oom_curl;
        if (!(docs[d] = fetch(h, urls[d], o.token != NULL, err)))
            goto done;
    }

    if (o.json) {
        json_t *all = json_pack("{sOsOsO}", "status", docs[DOC_STATUS], "backends",
                                docs[DOC_BACKENDS], "consistency", docs[DOC_CONSISTENCY]);
        if (!all || json_dumpf(all, out, JSON_INDENT(2)) != 0) {
            json_decref(all);
            fprintf(err, PROG ": writing the JSON failed\n");
            goto done;
        }
        json_decref(all);
        fputc('\n', out);
        rc = 0;
    } else {
        struct fmt f = {.out = out};
        if (format_docs(&f, docs[DOC_STATUS], docs[DOC_BACKENDS], docs[DOC_CONSISTENCY]) == 0)
            rc = 0;
        else
            fprintf(err,
                    PROG ": %s: the answer lacks a usable \"%s\" (a proxy of another version?)\n",
                    urls[f.miss_doc], f.miss);
    }
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(err, PROG ": writing the output failed\n");
        rc = 1;
    }
    goto done;

oom_curl:
    fprintf(err, PROG ": out of memory\n");
done:
    curl_easy_cleanup(h);
    curl_global_cleanup();
    goto out;
oom:
    fprintf(err, PROG ": out of memory\n");
out:
    curl_slist_free_all(headers);
    for (int d = 0; d < DOC_N; d++) {
        json_decref(docs[d]);
        free(urls[d]);
    }
    free(auth);
    free(noproxy);
    free(base);
    config_free(cfg);
    return rc;
}
