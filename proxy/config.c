/*
 * config.c - loads and validates the JSON configuration (config.h).
 *
 * Every reader below takes the key path of the value it reads, so that any
 * error names it ("backends[1].port"). Objects are checked against the list of
 * keys they may hold: an unknown key is an error (a typo must not silently
 * fall back to a default).
 */
#include "config.h"
#include "cache_store.h"
#include "json_check.h"
#include "mon_health.h"
#include "query_rules.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_FN(prefix, type, LIST)                                                                \
    const char *prefix##_name(type v)                                                              \
    {                                                                                              \
        static const char *const names[] = {LIST(NAME_TEXT)};                                      \
        return (size_t)v < sizeof names / sizeof names[0] ? names[v] : "?";                        \
    }
#define NAME_TEXT(name, text) text,
NAME_FN(consistency_level, enum consistency_level, CONSISTENCY_LEVEL_LIST)
NAME_FN(fallback_step, enum fallback_step, FALLBACK_STEP_LIST)
NAME_FN(backend_role, enum backend_role, BACKEND_ROLE_LIST)
NAME_FN(log_level, enum log_level, LOG_LEVEL_LIST)

static const char *const level_names[] = {CONSISTENCY_LEVEL_LIST(NAME_TEXT) NULL};
static const char *const fallback_names[] = {FALLBACK_STEP_LIST(NAME_TEXT) NULL};
static const char *const role_names[] = {BACKEND_ROLE_LIST(NAME_TEXT) NULL};
static const char *const log_names[] = {LOG_LEVEL_LIST(NAME_TEXT) NULL};
#undef NAME_TEXT

/* Configuration is loaded before anything serves: running out of memory
 * there has no better answer than stopping. */
static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        abort();
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        abort();
    return p;
}

/* Integer key in [min, max]; missing: *out = def, or an error when required. */
static int get_uint(struct jcheck *c, const json_t *obj, const char *path, const char *key,
                    bool required, unsigned long long min, unsigned long long max,
                    unsigned long long def, unsigned long long *out)
{
    char p[JCHECK_PATH_MAX];
    jcheck_child(p, path, key);
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return jcheck_fail(c, p, "missing (required)");
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (unsigned long long)json_integer_value(v) < min ||
        (unsigned long long)json_integer_value(v) > max) {
        char got[64];
        jcheck_shown(v, got, sizeof got);
        return jcheck_fail(c, p, "must be %llu-%llu, got %s", min, max, got);
    }
    *out = (unsigned long long)json_integer_value(v);
    return 0;
}

static int get_u32(struct jcheck *c, const json_t *obj, const char *path, const char *key,
                   bool required, unsigned long long min, unsigned long long max,
                   unsigned long long def, unsigned *out)
{
    unsigned long long v = 0;
    if (get_uint(c, obj, path, key, required, min, max, def, &v) != 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* Non-empty string key; missing: a copy of def (NULL stays NULL), or an error
 * when required. The caller frees *out. */
static int get_str(struct jcheck *c, const json_t *obj, const char *path, const char *key,
                   bool required, const char *def, char **out)
{
    char p[JCHECK_PATH_MAX];
    jcheck_child(p, path, key);
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return jcheck_fail(c, p, "missing (required)");
        *out = def ? xstrdup(def) : NULL;
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        char got[64];
        jcheck_shown(v, got, sizeof got);
        return jcheck_fail(c, p, "must be a non-empty string, got %s", got);
    }
    *out = xstrdup(json_string_value(v));
    return 0;
}

/* Enumerated string key; missing: def. */
static int get_enum(struct jcheck *c, const json_t *obj, const char *path, const char *key,
                    const char *const names[], int def, int *out)
{
    char p[JCHECK_PATH_MAX];
    jcheck_child(p, path, key);
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        *out = def;
        return 0;
    }
    return jcheck_pick(c, v, p, names, out);
}

/* A non-empty array under key; *n = its length. */
static int get_array(struct jcheck *c, const json_t *obj, const char *key, const json_t **arr,
                     size_t *n)
{
    *arr = json_object_get(obj, key);
    if (!*arr)
        return jcheck_fail(c, key, "missing (required)");
    if (!json_is_array(*arr) || json_array_size(*arr) == 0) {
        char got[64];
        jcheck_shown(*arr, got, sizeof got);
        return jcheck_fail(c, key, "must be a non-empty array, got %s", got);
    }
    *n = json_array_size(*arr);
    return 0;
}

static int load_listeners(struct jcheck *c, const json_t *root, struct config *cfg)
{
    static const char *const keys[] = {"name", "address", "port", "consistency", NULL};
    const json_t *arr;
    if (get_array(c, root, "listeners", &arr, &cfg->n_listeners) != 0)
        return -1;
    cfg->listeners = xcalloc(cfg->n_listeners, sizeof *cfg->listeners);
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        struct config_listener *l = &cfg->listeners[i];
        const json_t *o = json_array_get(arr, i);
        char p[JCHECK_PATH_MAX];
        unsigned port;
        int level;
        snprintf(p, sizeof p, "listeners[%zu]", i);
        if (jcheck_object(c, o, p, keys) != 0 ||
            get_str(c, o, p, "name", true, NULL, &l->name) != 0 ||
            get_str(c, o, p, "address", false, "127.0.0.1", &l->address) != 0 ||
            get_u32(c, o, p, "port", true, 1, 65535, 0, &port) != 0 ||
            get_enum(c, o, p, "consistency", level_names, (int)cfg->default_level, &level) != 0)
            return -1;
        l->port = (uint16_t)port;
        l->consistency = (enum consistency_level)level;
    }
    return 0;
}

static int load_backends(struct jcheck *c, const json_t *root, struct config *cfg)
{
    static const char *const keys[] = {"name", "host", "port", "role", "weight", NULL};
    const json_t *arr;
    size_t primaries = 0;
    if (get_array(c, root, "backends", &arr, &cfg->n_backends) != 0)
        return -1;
    if (cfg->n_backends > CONFIG_MAX_BACKENDS)
        return jcheck_fail(c, "backends", "at most %d backends, has %zu", CONFIG_MAX_BACKENDS,
                    cfg->n_backends);
    cfg->backends = xcalloc(cfg->n_backends, sizeof *cfg->backends);
    for (size_t i = 0; i < cfg->n_backends; i++) {
        struct config_backend *b = &cfg->backends[i];
        const json_t *o = json_array_get(arr, i);
        char p[JCHECK_PATH_MAX], rp[JCHECK_PATH_MAX];
        unsigned port;
        int role = -1;
        snprintf(p, sizeof p, "backends[%zu]", i);
        jcheck_child(rp, p, "role");
        if (jcheck_object(c, o, p, keys) != 0 ||
            get_str(c, o, p, "name", true, NULL, &b->name) != 0 ||
            get_str(c, o, p, "host", true, NULL, &b->host) != 0 ||
            get_u32(c, o, p, "port", true, 1, 65535, 0, &port) != 0 ||
            get_u32(c, o, p, "weight", false, 1, 1000, 1, &b->weight) != 0)
            return -1;
        if (!json_object_get(o, "role"))
            return jcheck_fail(c, rp, "missing (required)");
        if (jcheck_pick(c, json_object_get(o, "role"), rp, role_names, &role) != 0)
            return -1;
        b->port = (uint16_t)port;
        b->role = (enum backend_role)role;
        primaries += b->role == BACKEND_ROLE_PRIMARY;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->backends[j].name, b->name) == 0) {
                char np[JCHECK_PATH_MAX];
                jcheck_child(np, p, "name");
                return jcheck_fail(c, np, "\"%s\" is also the name of backends[%zu]", b->name, j);
            }
        }
    }
    if (primaries != 1)
        return jcheck_fail(c, "backends", "must hold exactly one backend with role \"primary\", has %zu",
                    primaries);
    return 0;
}

static bool is_native_hash(const char *s)
{
    if (strlen(s) != 41 || s[0] != '*')
        return false;
    for (int i = 1; i < 41; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F') || (ch >= 'a' && ch <= 'f')))
            return false;
    }
    return true;
}

static int load_users(struct jcheck *c, const json_t *root, struct config *cfg)
{
    static const char *const keys[] = {"name", "password", "password_hash", "consistency", NULL};
    const json_t *arr;
    if (get_array(c, root, "users", &arr, &cfg->n_users) != 0)
        return -1;
    cfg->users = xcalloc(cfg->n_users, sizeof *cfg->users);
    for (size_t i = 0; i < cfg->n_users; i++) {
        struct config_user *u = &cfg->users[i];
        const json_t *o = json_array_get(arr, i);
        char p[JCHECK_PATH_MAX], hp[JCHECK_PATH_MAX];
        snprintf(p, sizeof p, "users[%zu]", i);
        jcheck_child(hp, p, "password_hash");
        if (jcheck_object(c, o, p, keys) != 0 || get_str(c, o, p, "name", true, NULL, &u->name) != 0)
            return -1;
        /* An empty password is legal in MySQL: accept "" for password. */
        const json_t *pw = json_object_get(o, "password");
        if (pw && !json_is_string(pw)) {
            char pp[JCHECK_PATH_MAX], got[64];
            jcheck_child(pp, p, "password");
            jcheck_shown(pw, got, sizeof got);
            return jcheck_fail(c, pp, "must be a string, got %s", got);
        }
        if (pw)
            u->password = xstrdup(json_string_value(pw));
        if (get_str(c, o, p, "password_hash", false, NULL, &u->password_hash) != 0 ||
            get_enum(c, o, p, "consistency", level_names, -1, &u->consistency) != 0)
            return -1;
        if (!u->password == !u->password_hash)
            return jcheck_fail(c, p, "needs exactly one of \"password\" or \"password_hash\"");
        if (u->password_hash && !is_native_hash(u->password_hash))
            return jcheck_fail(c, hp,
                        "must be \"*\" followed by 40 hex digits "
                        "(SELECT PASSWORD('...') prints one)");
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->users[j].name, u->name) == 0)
                return jcheck_fail(c, p, "user \"%s\" is also users[%zu]", u->name, j);
        }
    }
    return 0;
}

static int load_credentials(struct jcheck *c, const json_t *root, const char *key, char **user,
                            char **password)
{
    static const char *const keys[] = {"user", "password", NULL};
    const json_t *o = json_object_get(root, key);
    if (!o)
        return jcheck_fail(c, key, "missing (required)");
    return jcheck_object(c, o, key, keys) != 0 ||
                   get_str(c, o, key, "user", true, NULL, user) != 0 ||
                   get_str(c, o, key, "password", true, NULL, password) != 0
               ? -1
               : 0;
}

static int load_monitor(struct jcheck *c, const json_t *root, struct config *cfg)
{
    static const char *const keys[] = {
        "user",        "password",    "interval_ms", "gtid_poll_interval_ms",
        "fall_checks", "rise_checks", NULL};
    const json_t *o = json_object_get(root, "monitor");
    if (!o)
        return jcheck_fail(c, "monitor", "missing (required)");
    return jcheck_object(c, o, "monitor", keys) != 0 ||
                   get_str(c, o, "monitor", "user", true, NULL, &cfg->monitor_user) != 0 ||
                   get_str(c, o, "monitor", "password", true, NULL, &cfg->monitor_password) != 0 ||
                   get_u32(c, o, "monitor", "interval_ms", false, 10, 60000, 1000,
                           &cfg->monitor_interval_ms) != 0 ||
                   get_u32(c, o, "monitor", "gtid_poll_interval_ms", false, 1, 60000, 50,
                           &cfg->gtid_poll_interval_ms) != 0 ||
                   get_u32(c, o, "monitor", "fall_checks", false, MON_HEALTH_CHECKS_MIN,
                           MON_HEALTH_CHECKS_MAX, 3, &cfg->monitor_fall_checks) != 0 ||
                   get_u32(c, o, "monitor", "rise_checks", false, MON_HEALTH_CHECKS_MIN,
                           MON_HEALTH_CHECKS_MAX, 2, &cfg->monitor_rise_checks) != 0
               ? -1
               : 0;
}

/* A JSON true/false under obj.key, or dflt when absent. */
static int get_bool(struct jcheck *c, const json_t *obj, const char *path, const char *key,
                    bool dflt, bool *out)
{
    const json_t *v = json_object_get(obj, key);
    *out = dflt;
    if (!v)
        return 0;
    char p[256], got[64];
    jcheck_child(p, path, key);
    if (!json_is_boolean(v)) {
        jcheck_shown(v, got, sizeof got);
        return jcheck_fail(c, p, "must be true or false, got %s", got);
    }
    *out = json_is_true(v);
    return 0;
}

/*
 * An optional section: its object (checked against keys), or NULL when it
 * is absent, which the get_* readers take as "every key missing" (jansson
 * looks nothing up in NULL), so each default is written once, in its
 * reader's call. Returns -1 when present but not a valid object.
 */
static int optional_section(struct jcheck *c, const json_t *root, const char *key,
                            const char *const *keys, const json_t **out)
{
    *out = json_object_get(root, key);
    return *out ? jcheck_object(c, *out, key, keys) : 0;
}

/* topology: following a promoted replica (topology.h). */
static int load_topology(struct jcheck *c, const json_t *root, struct config *cfg)
{
    static const char *const keys[] = {"follow", "confirm_ms", NULL};
    const json_t *o;
    return optional_section(c, root, "topology", keys, &o) != 0 ||
                   get_bool(c, o, "topology", "follow", true, &cfg->topology_follow) != 0 ||
                   get_u32(c, o, "topology", "confirm_ms", false, 0, 600000, 3000,
                           &cfg->topology_confirm_ms) != 0
               ? -1
               : 0;
}

static int load_consistency(struct jcheck *c, const json_t *root, struct config *cfg)
{
    static const char *const keys[] = {"default_level", "wait_timeout_ms", "fallback",
                                       "max_replica_lag_ms", NULL};
    const char *path = "consistency";
    const json_t *o;
    int level;
    cfg->fallback[0] = FALLBACK_PRIMARY;
    cfg->n_fallback = 1;
    if (optional_section(c, root, path, keys, &o) != 0 ||
        get_enum(c, o, path, "default_level", level_names, CONSISTENCY_SESSION, &level) != 0 ||
        get_u32(c, o, path, "wait_timeout_ms", false, 1, 600000, 200, &cfg->wait_timeout_ms) != 0 ||
        get_u32(c, o, path, "max_replica_lag_ms", false, 0, 86400000, 10000,
                &cfg->max_replica_lag_ms) != 0)
        return -1;
    cfg->default_level = (enum consistency_level)level;
    const json_t *chain = json_object_get(o, "fallback");
    if (!chain)
        return 0;
    if (!json_is_array(chain) || json_array_size(chain) == 0 ||
        json_array_size(chain) > CONFIG_MAX_FALLBACK) {
        char got[64];
        jcheck_shown(chain, got, sizeof got);
        return jcheck_fail(c, "consistency.fallback", "must be an array of 1-%d steps, got %s",
                    CONFIG_MAX_FALLBACK, got);
    }
    cfg->n_fallback = json_array_size(chain);
    for (size_t i = 0; i < cfg->n_fallback; i++) {
        char p[JCHECK_PATH_MAX];
        int step;
        snprintf(p, sizeof p, "consistency.fallback[%zu]", i);
        if (jcheck_pick(c, json_array_get(chain, i), p, fallback_names, &step) != 0)
            return -1;
        for (size_t j = 0; j < i; j++) {
            if (cfg->fallback[j] == (enum fallback_step)step)
                return jcheck_fail(c, p, "\"%s\" appears twice", fallback_names[step]);
        }
        cfg->fallback[i] = (enum fallback_step)step;
    }
    return 0;
}

/* Optional sections of plain numbers/enums with defaults. */
static int load_tunables(struct jcheck *c, const json_t *root, struct config *cfg)
{
    static const char *const admin_keys[] = {"address",         "port",           "token",
                                             "max_connections", "max_body_bytes", NULL};
    static const char *const limit_keys[] = {"max_client_connections", "max_packet_size",
                                             "buffer_high_water", "max_buffered_bytes", NULL};
    static const char *const timeout_keys[] = {"connect_ms", "login_ms", "client_idle_ms",
                                               "backend_query_ms", NULL};
    static const char *const log_keys[] = {"level", NULL};
    static const char *const cache_keys[] = {"max_bytes", "max_entry_bytes", "ttl_ms",
                                             "max_stale_ms", NULL};
    const json_t *admin = json_object_get(root, "admin");
    const json_t *limits, *timeouts, *logging, *cache;
    unsigned long long cache_max, buffered_max;
    unsigned port, mps, hw;
    int level;

    if (admin) {
        if (jcheck_object(c, admin, "admin", admin_keys) != 0 ||
            get_str(c, admin, "admin", "address", false, "127.0.0.1", &cfg->admin_address) != 0 ||
            get_u32(c, admin, "admin", "port", true, 1, 65535, 0, &port) != 0 ||
            get_str(c, admin, "admin", "token", false, NULL, &cfg->admin_token) != 0 ||
            get_u32(c, admin, "admin", "max_connections", false, 1, 10000, 64,
                    &cfg->admin_max_connections) != 0 ||
            get_u32(c, admin, "admin", "max_body_bytes", false, 0, 16777216, 65536,
                    &cfg->admin_max_body) != 0)
            return -1;
        cfg->admin_enabled = true;
        cfg->admin_port = (uint16_t)port;
    }
    /* max_packet_size: the server's own max_allowed_packet ceiling is 1 GiB. */
    if (get_u32(c, root, "", "workers", false, 0, 256, 0, &cfg->workers) != 0 ||
        optional_section(c, root, "limits", limit_keys, &limits) != 0 ||
        get_u32(c, limits, "limits", "max_client_connections", false, 1, 1000000, 10000,
                &cfg->max_client_connections) != 0 ||
        get_u32(c, limits, "limits", "max_packet_size", false, 1024, 1073741824, 67108864, &mps) !=
            0 ||
        get_u32(c, limits, "limits", "buffer_high_water", false, 16384, 1073741824, 1048576, &hw) !=
            0 ||
        get_uint(c, limits, "limits", "max_buffered_bytes", false, 0, 1ULL << 40, 256ULL << 20,
                 &buffered_max) != 0 ||
        optional_section(c, root, "timeouts", timeout_keys, &timeouts) != 0 ||
        get_u32(c, timeouts, "timeouts", "connect_ms", false, 1, 600000, 2000,
                &cfg->connect_timeout_ms) != 0 ||
        get_u32(c, timeouts, "timeouts", "login_ms", false, 100, 600000, 10000,
                &cfg->login_timeout_ms) != 0 ||
        get_u32(c, timeouts, "timeouts", "client_idle_ms", false, 0, 604800000, 28800000,
                &cfg->client_idle_timeout_ms) != 0 ||
        get_u32(c, timeouts, "timeouts", "backend_query_ms", false, 0, 86400000, 0,
                &cfg->backend_query_timeout_ms) != 0 ||
        optional_section(c, root, "logging", log_keys, &logging) != 0 ||
        get_enum(c, logging, "logging", "level", log_names, LOG_INFO, &level) != 0 ||
        optional_section(c, root, "cache", cache_keys, &cache) != 0 ||
        get_uint(c, cache, "cache", "max_bytes", false, 0, 1ULL << 40, 64ULL << 20, &cache_max) !=
            0 ||
        get_u32(c, cache, "cache", "max_entry_bytes", false, 1024, 1073741824, 1048576,
                &cfg->cache_max_entry_bytes) != 0 ||
        get_u32(c, cache, "cache", "ttl_ms", false, 0, 86400000, 1000, &cfg->cache_ttl_ms) != 0 ||
        get_u32(c, cache, "cache", "max_stale_ms", false, 0, 86400000, 60000,
                &cfg->cache_max_stale_ms) != 0)
        return -1;
    /* The store splits its cap over its shards; each must hold an entry. */
    if (cache_max != 0 && cache_max < CACHE_SHARDS_DEFAULT * 2ULL * cfg->cache_max_entry_bytes)
        return jcheck_fail(c, "cache.max_bytes",
                           "must be 0 (no cache) or at least %u x cache.max_entry_bytes (%llu), "
                           "got %llu",
                           2 * CACHE_SHARDS_DEFAULT,
                           2ULL * CACHE_SHARDS_DEFAULT * cfg->cache_max_entry_bytes, cache_max);
    cfg->cache_max_bytes = cache_max;
    cfg->max_packet_size = mps;
    cfg->buffer_high_water = hw;
    cfg->max_buffered_bytes = buffered_max;
    cfg->log_level = (enum log_level)level;
    return 0;
}

static int load_query_rules(struct jcheck *c, const json_t *root, struct config *cfg)
{
    char msg[512];
    cfg->query_rules = xcalloc(1, sizeof *cfg->query_rules);
    if (query_rules_load(json_object_get(root, "query_rules"), cfg->query_rules, msg, sizeof msg) ==
        0)
        return 0;
    snprintf(c->err, c->errlen, "%s: %s", c->file, msg);
    return -1;
}

static struct config *load_root(json_t *root, const char *name, char *err, size_t errlen)
{
    static const char *const keys[] = {
        "listeners", "admin",       "backends",    "users",  "backend_credentials",
        "monitor",   "consistency", "workers",     "limits", "timeouts",
        "logging",   "cache",       "query_rules", "topology", NULL};
    struct jcheck c = {name, err, errlen};
    struct config *cfg = xcalloc(1, sizeof *cfg);
    cfg->file = xstrdup(name);
    /* consistency first: listeners default to its default_level. */
    if (jcheck_object(&c, root, "", keys) != 0 || load_consistency(&c, root, cfg) != 0 ||
        load_listeners(&c, root, cfg) != 0 || load_backends(&c, root, cfg) != 0 ||
        load_users(&c, root, cfg) != 0 ||
        load_credentials(&c, root, "backend_credentials", &cfg->backend_user,
                         &cfg->backend_password) != 0 ||
        load_monitor(&c, root, cfg) != 0 || load_topology(&c, root, cfg) != 0 ||
        load_tunables(&c, root, cfg) != 0 ||
        load_query_rules(&c, root, cfg) != 0) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

struct config *config_parse(const char *json, const char *name, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "%s: line %d column %d: %s", name, jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    struct config *cfg = load_root(root, name, err, errlen);
    json_decref(root);
    return cfg;
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (jerr.line < 1)
            snprintf(err, errlen, "%s: %s", path, jerr.text);
        else
            snprintf(err, errlen, "%s: line %d column %d: %s", path, jerr.line, jerr.column,
                     jerr.text);
        return NULL;
    }
    struct config *cfg = load_root(root, path, err, errlen);
    json_decref(root);
    return cfg;
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    if (cfg->query_rules) {
        query_rules_free(cfg->query_rules);
        free(cfg->query_rules);
    }
    for (size_t i = 0; cfg->listeners && i < cfg->n_listeners; i++) {
        free(cfg->listeners[i].name);
        free(cfg->listeners[i].address);
    }
    for (size_t i = 0; cfg->backends && i < cfg->n_backends; i++) {
        free(cfg->backends[i].name);
        free(cfg->backends[i].host);
    }
    for (size_t i = 0; cfg->users && i < cfg->n_users; i++) {
        free(cfg->users[i].name);
        free(cfg->users[i].password);
        free(cfg->users[i].password_hash);
    }
    free(cfg->listeners);
    free(cfg->backends);
    free(cfg->users);
    free(cfg->file);
    free(cfg->admin_address);
    free(cfg->admin_token);
    free(cfg->backend_user);
    free(cfg->backend_password);
    free(cfg->monitor_user);
    free(cfg->monitor_password);
    free(cfg);
}
