/*
 * config_json.c - a loaded config back to JSON (config_json.h), and the
 * structural diff of two JSON documents that reloads report.
 *
 * The builders mirror config.c's loaders section by section, in the example
 * file's key order (jansson keeps insertion order when dumping). Every
 * builder returns a new value or NULL when out of memory; the chains of
 * set() below are joined with || so that they run in order (key order) and
 * stop at the first failure.
 */
#include "config_json.h"
#include "query_rules.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Adds v under key; nonzero when v is NULL or the insert failed (jansson
 * drops v then, so nothing leaks). */
static int set(json_t *o, const char *key, json_t *v)
{
    return json_object_set_new(o, key, v) != 0;
}

static int append(json_t *arr, json_t *v)
{
    return json_array_append_new(arr, v) != 0;
}

/* o when the whole build succeeded, else NULL (o released). */
static json_t *done(json_t *o, int bad)
{
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *str(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *secret(const char *s, bool redact)
{
    return str(s && redact ? CONFIG_JSON_REDACTED : s);
}

static json_t *uint_(unsigned long long v)
{
    return json_integer((json_int_t)v);
}

static json_t *listeners_json(const struct config *cfg)
{
    json_t *arr = json_array();
    int bad = !arr;
    for (size_t i = 0; !bad && i < cfg->n_listeners; i++) {
        const struct config_listener *l = &cfg->listeners[i];
        json_t *o = json_object();
        bad = !o || set(o, "name", str(l->name)) || set(o, "address", str(l->address)) ||
              set(o, "port", uint_(l->port)) ||
              set(o, "consistency", str(consistency_level_name(l->consistency)));
        bad = append(arr, done(o, bad)) || bad;
    }
    return done(arr, bad);
}

static json_t *admin_json(const struct config *cfg, bool redact)
{
    if (!cfg->admin_enabled)
        return json_null();
    json_t *o = json_object();
    int bad = !o || set(o, "address", str(cfg->admin_address)) ||
              set(o, "port", uint_(cfg->admin_port)) ||
              set(o, "token", secret(cfg->admin_token, redact)) ||
              set(o, "max_connections", uint_(cfg->admin_max_connections)) ||
              set(o, "max_body_bytes", uint_(cfg->admin_max_body));
    return done(o, bad);
}

static json_t *backends_json(const struct config *cfg)
{
    json_t *arr = json_array();
    int bad = !arr;
    for (size_t i = 0; !bad && i < cfg->n_backends; i++) {
        const struct config_backend *b = &cfg->backends[i];
        json_t *o = json_object();
        bad = !o || set(o, "name", str(b->name)) || set(o, "host", str(b->host)) ||
              set(o, "port", uint_(b->port)) || set(o, "role", str(backend_role_name(b->role))) ||
              set(o, "weight", uint_(b->weight));
        bad = append(arr, done(o, bad)) || bad;
    }
    return done(arr, bad);
}

/* -1: the user takes the listener's level; the file leaves it out. */
static json_t *user_level(const struct config_user *u)
{
    return u->consistency < 0 ? json_null()
                              : str(consistency_level_name((enum consistency_level)u->consistency));
}

static json_t *users_json(const struct config *cfg, bool redact)
{
    json_t *arr = json_array();
    int bad = !arr;
    for (size_t i = 0; !bad && i < cfg->n_users; i++) {
        const struct config_user *u = &cfg->users[i];
        json_t *o = json_object();
        bad = !o || set(o, "name", str(u->name)) ||
              set(o, "password", secret(u->password, redact)) ||
              set(o, "password_hash", secret(u->password_hash, redact)) ||
              set(o, "consistency", user_level(u));
        bad = append(arr, done(o, bad)) || bad;
    }
    return done(arr, bad);
}

static json_t *credentials_json(const struct config *cfg, bool redact)
{
    json_t *o = json_object();
    int bad = !o || set(o, "user", str(cfg->backend_user)) ||
              set(o, "password", secret(cfg->backend_password, redact));
    return done(o, bad);
}

static json_t *monitor_json(const struct config *cfg, bool redact)
{
    json_t *o = json_object();
    int bad = !o || set(o, "user", str(cfg->monitor_user)) ||
              set(o, "password", secret(cfg->monitor_password, redact)) ||
              set(o, "interval_ms", uint_(cfg->monitor_interval_ms)) ||
              set(o, "gtid_poll_interval_ms", uint_(cfg->gtid_poll_interval_ms)) ||
              set(o, "fall_checks", uint_(cfg->monitor_fall_checks)) ||
              set(o, "rise_checks", uint_(cfg->monitor_rise_checks));
    return done(o, bad);
}

static json_t *topology_json(const struct config *cfg)
{
    json_t *o = json_object();
    int bad = !o || set(o, "follow", json_boolean(cfg->topology_follow)) ||
              set(o, "confirm_ms", uint_(cfg->topology_confirm_ms));
    return done(o, bad);
}

static json_t *fallback_json(const struct config *cfg)
{
    json_t *chain = json_array();
    int bad = !chain;
    for (size_t i = 0; !bad && i < cfg->n_fallback && i < CONFIG_MAX_FALLBACK; i++)
        bad = append(chain, str(fallback_step_name(cfg->fallback[i])));
    return done(chain, bad);
}

static json_t *consistency_json(const struct config *cfg)
{
    json_t *o = json_object();
    int bad = !o || set(o, "default_level", str(consistency_level_name(cfg->default_level))) ||
              set(o, "wait_timeout_ms", uint_(cfg->wait_timeout_ms)) ||
              set(o, "fallback", fallback_json(cfg)) ||
              set(o, "max_replica_lag_ms", uint_(cfg->max_replica_lag_ms));
    return done(o, bad);
}

static json_t *limits_json(const struct config *cfg)
{
    json_t *o = json_object();
    int bad = !o || set(o, "max_client_connections", uint_(cfg->max_client_connections)) ||
              set(o, "max_packet_size", uint_(cfg->max_packet_size)) ||
              set(o, "buffer_high_water", uint_(cfg->buffer_high_water)) ||
              set(o, "max_buffered_bytes", uint_(cfg->max_buffered_bytes));
    return done(o, bad);
}

static json_t *timeouts_json(const struct config *cfg)
{
    json_t *o = json_object();
    int bad = !o || set(o, "connect_ms", uint_(cfg->connect_timeout_ms)) ||
              set(o, "login_ms", uint_(cfg->login_timeout_ms)) ||
              set(o, "client_idle_ms", uint_(cfg->client_idle_timeout_ms)) ||
              set(o, "backend_query_ms", uint_(cfg->backend_query_timeout_ms));
    return done(o, bad);
}

static json_t *logging_json(const struct config *cfg)
{
    json_t *o = json_object();
    int bad = !o || set(o, "level", str(log_level_name(cfg->log_level)));
    return done(o, bad);
}

static json_t *cache_json(const struct config *cfg)
{
    json_t *o = json_object();
    int bad = !o || set(o, "max_bytes", json_integer((json_int_t)cfg->cache_max_bytes)) ||
              set(o, "max_entry_bytes", uint_(cfg->cache_max_entry_bytes)) ||
              set(o, "ttl_ms", uint_(cfg->cache_ttl_ms)) ||
              set(o, "max_stale_ms", uint_(cfg->cache_max_stale_ms));
    return done(o, bad);
}

json_t *config_to_json(const struct config *cfg, bool redact)
{
    json_t *root = json_object();
    int bad = !root || set(root, "listeners", listeners_json(cfg)) ||
              set(root, "admin", admin_json(cfg, redact)) ||
              set(root, "backends", backends_json(cfg)) ||
              set(root, "users", users_json(cfg, redact)) ||
              set(root, "backend_credentials", credentials_json(cfg, redact)) ||
              set(root, "monitor", monitor_json(cfg, redact)) ||
              set(root, "topology", topology_json(cfg)) ||
              set(root, "consistency", consistency_json(cfg)) ||
              set(root, "workers", uint_(cfg->workers)) || set(root, "limits", limits_json(cfg)) ||
              set(root, "timeouts", timeouts_json(cfg)) || set(root, "logging", logging_json(cfg)) ||
              set(root, "cache", cache_json(cfg)) ||
              set(root, "query_rules", query_rules_json(cfg->query_rules));
    return done(root, bad);
}

/* ---- diff ------------------------------------------------------------- */

/* The path being walked, grown as needed and cut back after each child. */
struct walk {
    struct buf path;
    json_t *out;
    bool oom;
};

static bool path_push(struct walk *w, const char *piece, size_t n)
{
    if (buf_append(&w->path, piece, n) != 0) {
        w->oom = true;
        return false;
    }
    return true;
}

static void emit(struct walk *w)
{
    const char *p = w->path.data ? (const char *)buf_head(&w->path) : "";
    if (append(w->out, json_stringn(p, buf_pending(&w->path))) != 0)
        w->oom = true;
}

static int cmp_keys(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void walk_value(struct walk *w, const json_t *a, const json_t *b);

static void walk_member(struct walk *w, const char *key, const json_t *a, const json_t *b)
{
    size_t mark = w->path.len;
    if ((mark == 0 || path_push(w, ".", 1)) && path_push(w, key, strlen(key))) {
        if (!a || !b)
            emit(w); /* on one side only */
        else
            walk_value(w, a, b);
    }
    w->path.len = mark;
}

/* Members of a and b in byte order of their keys, each key once. */
static void walk_object(struct walk *w, const json_t *a, const json_t *b)
{
    size_t n = json_object_size(a) + json_object_size(b);
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    if (!keys) {
        w->oom = true;
        return;
    }
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)a, key, v)
    {
        keys[k++] = key;
    }
    json_object_foreach((json_t *)b, key, v)
    {
        if (!json_object_get(a, key))
            keys[k++] = key;
    }
    qsort(keys, k, sizeof *keys, cmp_keys);
    for (size_t i = 0; i < k && !w->oom; i++)
        walk_member(w, keys[i], json_object_get(a, keys[i]), json_object_get(b, keys[i]));
    free(keys);
}

static void walk_array(struct walk *w, const json_t *a, const json_t *b)
{
    for (size_t i = 0; i < json_array_size(a) && !w->oom; i++) {
        char idx[32];
        int n = snprintf(idx, sizeof idx, "[%zu]", i);
        size_t mark = w->path.len;
        if (path_push(w, idx, (size_t)n))
            walk_value(w, json_array_get(a, i), json_array_get(b, i));
        w->path.len = mark;
    }
}

static void walk_value(struct walk *w, const json_t *a, const json_t *b)
{
    if (json_typeof(a) != json_typeof(b))
        emit(w);
    else if (json_is_object(a))
        walk_object(w, a, b);
    else if (json_is_array(a) && json_array_size(a) != json_array_size(b))
        emit(w);
    else if (json_is_array(a))
        walk_array(w, a, b);
    else if (!json_equal((json_t *)a, (json_t *)b))
        emit(w);
}

json_t *config_json_diff(const json_t *a, const json_t *b)
{
    if (!a || !b)
        return NULL;
    struct walk w = {.out = json_array()};
    if (!w.out || !path_push(&w, "", 0)) {
        json_decref(w.out);
        buf_free(&w.path);
        return NULL;
    }
    walk_value(&w, a, b);
    buf_free(&w.path);
    if (w.oom) {
        json_decref(w.out);
        return NULL;
    }
    return w.out;
}
