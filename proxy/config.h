/*
 * config.h - the proxy's configuration: one JSON file (conf/gtidproxy.json is
 * the complete example; README "Configuration" documents every key).
 *
 * config_load() validates everything before anything runs: unknown keys,
 * wrong types and out-of-range values are errors that name the file, the key
 * path and the problem, e.g.
 *     gtidproxy.json: backends[1].port: must be 1-65535, got "abc"
 * A loaded config is immutable; the process swaps whole configs on reload.
 */
#ifndef GTIDPROXY_CONFIG_H
#define GTIDPROXY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSISTENCY_LEVEL_LIST(X)                                                                  \
    X(CONSISTENCY_EVENTUAL, "eventual")                                                            \
    X(CONSISTENCY_SESSION, "session")                                                              \
    X(CONSISTENCY_GLOBAL, "global")                                                                \
    X(CONSISTENCY_STRONG, "strong")

enum consistency_level {
#define CONSISTENCY_ENUM(name, text) name,
    CONSISTENCY_LEVEL_LIST(CONSISTENCY_ENUM)
#undef CONSISTENCY_ENUM
};
const char *consistency_level_name(enum consistency_level level);

/* Steps of the fallback chain a read walks when no replica caught up in time. */
#define FALLBACK_STEP_LIST(X)                                                                      \
    X(FALLBACK_CACHE, "cache")                                                                     \
    X(FALLBACK_PRIMARY, "primary")                                                                 \
    X(FALLBACK_ERROR, "error")                                                                     \
    X(FALLBACK_REPLICA, "replica")

enum fallback_step {
#define FALLBACK_ENUM(name, text) name,
    FALLBACK_STEP_LIST(FALLBACK_ENUM)
#undef FALLBACK_ENUM
};
const char *fallback_step_name(enum fallback_step step);

#define BACKEND_ROLE_LIST(X)                                                                       \
    X(BACKEND_ROLE_PRIMARY, "primary")                                                             \
    X(BACKEND_ROLE_REPLICA, "replica")

enum backend_role {
#define BACKEND_ROLE_ENUM(name, text) name,
    BACKEND_ROLE_LIST(BACKEND_ROLE_ENUM)
#undef BACKEND_ROLE_ENUM
};
const char *backend_role_name(enum backend_role role);

#define LOG_LEVEL_LIST(X)                                                                          \
    X(LOG_ERROR, "error")                                                                          \
    X(LOG_WARN, "warn")                                                                            \
    X(LOG_INFO, "info")                                                                            \
    X(LOG_DEBUG, "debug")

enum log_level {
#define LOG_LEVEL_ENUM(name, text) name,
    LOG_LEVEL_LIST(LOG_LEVEL_ENUM)
#undef LOG_LEVEL_ENUM
};
const char *log_level_name(enum log_level level);

/* Backends per proxy: a session keeps one bit per backend (tried, ...). */
#define CONFIG_MAX_BACKENDS 64

/* The longest fallback chain: each step at most once. */
#define CONFIG_MAX_FALLBACK 4

struct query_rules; /* query_rules.h */

struct config_listener {
    char *name;
    char *address;
    uint16_t port;
    enum consistency_level consistency;
};

struct config_backend {
    char *name;
    char *host;
    uint16_t port;
    enum backend_role role;
    unsigned weight;
};

/* A proxy user: exactly one of password (plaintext) or password_hash
 * (mysql_native_password's "*" + 40 hex digits, as in mysql.user). */
struct config_user {
    char *name;
    char *password;
    char *password_hash;
    int consistency; /* enum consistency_level, or -1: the listener's */
};

struct config {
    char *file; /* path it was loaded from */
    struct config_listener *listeners;
    size_t n_listeners;
    bool admin_enabled; /* "admin" present */
    char *admin_address;
    uint16_t admin_port;
    char *admin_token;              /* bearer token every request must carry, or NULL */
    unsigned admin_max_connections; /* open HTTP connections at once */
    unsigned admin_max_body;        /* request body bytes accepted */
    struct config_backend *backends;
    size_t n_backends;
    struct config_user *users;
    size_t n_users;
    char *backend_user, *backend_password;
    char *monitor_user, *monitor_password;
    unsigned monitor_interval_ms;
    unsigned gtid_poll_interval_ms;
    bool topology_follow;         /* move writes to a promoted replica */
    unsigned topology_confirm_ms; /* how long it must claim the role first */
    /* Health hysteresis (mon_health.h): failed checks in a row before a
     * backend is down, good ones in a row before a down one is up. */
    unsigned monitor_fall_checks, monitor_rise_checks;
    enum consistency_level default_level;
    unsigned wait_timeout_ms;
    enum fallback_step fallback[CONFIG_MAX_FALLBACK];
    size_t n_fallback;
    unsigned max_replica_lag_ms;
    unsigned workers; /* 0: one per core */
    unsigned max_client_connections;
    uint32_t max_packet_size;
    uint32_t buffer_high_water;
    uint64_t max_buffered_bytes; /* all sessions' bytes queued for clients; 0: no cap */
    unsigned connect_timeout_ms;
    unsigned login_timeout_ms;         /* a client's login must finish within this */
    unsigned client_idle_timeout_ms;   /* 0: never */
    unsigned backend_query_timeout_ms; /* 0: never */
    enum log_level log_level;
    /* The result cache (cache.h). cache_max_bytes 0: no cache. */
    uint64_t cache_max_bytes;
    unsigned cache_max_entry_bytes;
    unsigned cache_ttl_ms;       /* consistent hits: for statements no rule gives one */
    unsigned cache_max_stale_ms; /* fallback step `cache`: likewise */
    struct query_rules *query_rules; /* never NULL; empty when the key is absent */
};

/* Loads and validates path. On success returns a config the caller frees with
 * config_free(); on failure returns NULL and writes one line into err:
 * "<file>: <key path>: <problem>". */
struct config *config_load(const char *path, char *err, size_t errlen);

/* Same, from JSON text; `name` stands for the file in messages. */
struct config *config_parse(const char *json, const char *name, char *err, size_t errlen);

void config_free(struct config *cfg);

#endif
