/*
 * admin.c - the admin port's endpoints (admin.h): routing by method and
 * path, query arguments, the control actions. HTTP itself (listening,
 * limits, auth, bodies) is admin_http.c's; the documents are the views'
 * (admin_view.c) and the metrics renderer's (admin_metrics.c).
 */
#include "admin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admin_http.h"
#include "admin_metrics.h"
#include "config_json.h"
#include "log.h"

#define SESSIONS_LIMIT_DEFAULT 100
#define SESSIONS_LIMIT_MAX 1000
/* Idle keep-alive connections are closed after this. */
#define ADMIN_IDLE_TIMEOUT_S 30

static const char *const endpoints[] = {
    "GET /status",         "GET /backends",
    "GET /consistency",    "GET /sessions?offset=N&limit=N",
    "GET /cache",          "GET /config",
    "GET /metrics",        "POST /backends/{name}/offline|online|drain",
    "POST /config/reload", NULL,
};

static bool is(const struct admin_req *rq, const char *path)
{
    return strcmp(rq->path, path) == 0;
}

/* A known path asked with another method: 405 naming the one it takes. */
static bool method_ok(const struct admin_req *rq, struct admin_resp *rs, const char *method)
{
    if (strcmp(rq->method, method) == 0)
        return true;
    rs->allow = method;
    admin_resp_error(rs, 405, "%s %s: method not allowed (use %s)", rq->method, rq->path, method);
    return false;
}

/* A query argument as a count; def when absent. false: not a number (400 queued). */
static bool count_arg(const struct admin_req *rq, struct admin_resp *rs, const char *key,
                      size_t def, size_t max, size_t *out)
{
    const char *v = admin_req_arg(rq, key);
    if (!v) {
        *out = def;
        return true;
    }
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-' || n > max) {
        admin_resp_error(rs, 400, "%s: must be a whole number 0-%zu, got \"%.32s\"", key, max, v);
        return false;
    }
    *out = (size_t)n;
    return true;
}

static void get_sessions(struct admin_ctx *a, const struct admin_req *rq, struct admin_resp *rs)
{
    size_t offset, limit;
    if (!count_arg(rq, rs, "offset", 0, SIZE_MAX / 2, &offset) ||
        !count_arg(rq, rs, "limit", SESSIONS_LIMIT_DEFAULT, SESSIONS_LIMIT_MAX, &limit))
        return;
    admin_resp_json(rs, 200, admin_view_sessions(a, offset, limit));
}

static void get_metrics(struct admin_ctx *a, struct admin_resp *rs)
{
    size_t len;
    char *text = admin_metrics(a, &len);
    if (!text) {
        admin_resp_error(rs, 500, "out of memory");
        return;
    }
    rs->status = 200;
    rs->content_type = ADMIN_METRICS_CONTENT_TYPE;
    rs->body = text;
    rs->len = len;
}

/* POST /backends/{name}/{offline|online|drain} */
static void backend_action(struct admin_ctx *a, const struct admin_req *rq, struct admin_resp *rs)
{
    const char *name = rq->path + strlen("/backends/");
    const char *slash = strrchr(name, '/');
    size_t nlen = slash ? (size_t)(slash - name) : 0;
    const char *action = slash ? slash + 1 : "";
    enum backend_admin to;
    if (strcmp(action, "offline") == 0)
        to = BACKEND_OFFLINE;
    else if (strcmp(action, "online") == 0)
        to = BACKEND_ONLINE;
    else if (strcmp(action, "drain") == 0)
        to = BACKEND_DRAINING;
    else {
        admin_resp_error(rs, 404, "no such endpoint: %s %s", rq->method, rq->path);
        return;
    }
    if (!method_ok(rq, rs, "POST"))
        return;
    struct proxy *px = a->px;
    for (size_t i = 0; i < px->n_backends; i++) {
        struct backend_info *b = &px->backends[i];
        if (strlen(b->name) != nlen || memcmp(b->name, name, nlen) != 0)
            continue;
        if (proxy_role(px, i) == BACKEND_ROLE_PRIMARY && to != BACKEND_ONLINE) {
            admin_resp_error(rs, 409,
                             "backend %s is the primary: it takes every write, so it cannot be "
                             "%s (only replicas can)",
                             b->name, to == BACKEND_OFFLINE ? "taken offline" : "drained");
            return;
        }
        enum backend_admin was = (enum backend_admin)atomic_exchange(&b->admin, (int)to);
        if (was != to)
            log_info("admin: backend %s %s -> %s", b->name, backend_admin_name(was),
                     backend_admin_name(to));
        admin_resp_json(rs, 200,
                        json_pack("{ss ss ss}", "backend", b->name, "admin_state",
                                  backend_admin_name(to), "previous", backend_admin_name(was)));
        return;
    }
    admin_resp_error(rs, 404, "no backend named \"%.*s\"", (int)(nlen < 64 ? nlen : 64), name);
}

static void config_reload(struct admin_ctx *a, struct admin_resp *rs)
{
    json_t *rep = a->reload(a->reload_arg);
    bool ok = rep && json_is_true(json_object_get(rep, "reloaded"));
    if (rep && !ok)
        json_object_set_new(rep, "status", json_integer(422));
    admin_resp_json(rs, ok ? 200 : 422, rep);
}

static void handle(void *arg, const struct admin_req *rq, struct admin_resp *rs)
{
    struct admin_ctx *a = arg;
    if (is(rq, "/")) {
        if (!method_ok(rq, rs, "GET"))
            return;
        json_t *list = json_array();
        for (size_t i = 0; list && endpoints[i]; i++)
            json_array_append_new(list, json_string(endpoints[i]));
        admin_resp_json(rs, 200, json_pack("{so}", "endpoints", list));
    } else if (is(rq, "/status")) {
        if (method_ok(rq, rs, "GET"))
            admin_resp_json(rs, 200, admin_view_status(a));
    } else if (is(rq, "/backends")) {
        if (method_ok(rq, rs, "GET"))
            admin_resp_json(rs, 200, admin_view_backends(a));
    } else if (is(rq, "/consistency")) {
        if (method_ok(rq, rs, "GET"))
            admin_resp_json(rs, 200, admin_view_consistency(a));
    } else if (is(rq, "/sessions")) {
        if (method_ok(rq, rs, "GET"))
            get_sessions(a, rq, rs);
    } else if (is(rq, "/cache")) {
        if (method_ok(rq, rs, "GET"))
            admin_resp_json(rs, 200, admin_view_cache(a));
    } else if (is(rq, "/config")) {
        if (method_ok(rq, rs, "GET"))
            admin_resp_json(rs, 200, config_to_json(proxy_snap(a->px)->cfg, true));
    } else if (is(rq, "/metrics")) {
        if (method_ok(rq, rs, "GET"))
            get_metrics(a, rs);
    } else if (is(rq, "/config/reload")) {
        if (method_ok(rq, rs, "POST"))
            config_reload(a, rs);
    } else if (strncmp(rq->path, "/backends/", 10) == 0) {
        backend_action(a, rq, rs);
    } else {
        admin_resp_error(rs, 404, "no such endpoint: %s %s (GET / lists them)", rq->method,
                         rq->path);
    }
}

int admin_start(struct admin_ctx *a, char *err, size_t errlen)
{
    const struct config *cfg = proxy_snap(a->px)->cfg;
    if (!cfg->admin_enabled)
        return 0;
    struct admin_http_opts o = {
        .address = cfg->admin_address,
        .port = cfg->admin_port,
        .token = cfg->admin_token,
        .max_connections = cfg->admin_max_connections,
        .max_body = cfg->admin_max_body,
        .idle_timeout_s = ADMIN_IDLE_TIMEOUT_S,
    };
    if (admin_http_start(&a->http, &o, handle, a, err, errlen) != 0)
        return -1;
    log_info("admin API on http://%s:%u/%s", cfg->admin_address, admin_http_port(a->http),
             cfg->admin_token ? " (bearer token required)" : "");
    return 0;
}

void admin_stop(struct admin_ctx *a)
{
    admin_http_stop(a->http);
    a->http = NULL;
}
