/*
 * proxy.h - what all workers share: the current configuration snapshot, the
 * backends and their health, the primary's greeting (the proxy greets
 * clients with its version and capabilities), and the global counters.
 *
 * Sharing rules (DESIGN.md section 5): a config snapshot is immutable and is
 * never freed while the process runs (a reload publishes a new one; old ones
 * are freed at exit), so a worker may keep the pointer it loaded. Health
 * and counters are atomics. The greeting profile changes rarely and is read
 * under a mutex once per client login.
 */
#ifndef GTIDPROXY_PROXY_H
#define GTIDPROXY_PROXY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "backend_auth.h"
#include "client_auth.h"
#include "cache_store.h"
#include "config.h"
#include "gtidproxy/gtid_set.h"
#include "monitor.h"

/* A configuration and what is derived from it. */
struct proxy_snapshot {
    struct config *cfg;
    struct cauth_users users;
    int64_t loaded_unix_ms; /* wall clock when it was loaded (admin API) */
    struct proxy_snapshot *older; /* kept until exit */
};

/* What the operator said about a backend (admin API, POST /backends/..). */
#define BACKEND_ADMIN_LIST(X)                                                                      \
    X(BACKEND_ONLINE, "online")     /* takes reads as usual */                                     \
    X(BACKEND_OFFLINE, "offline")   /* no reads from the next statement on */                      \
    X(BACKEND_DRAINING, "draining") /* only sessions holding a connection to it read there */

enum backend_admin {
#define BACKEND_ADMIN_ENUM(name, text) name,
    BACKEND_ADMIN_LIST(BACKEND_ADMIN_ENUM)
#undef BACKEND_ADMIN_ENUM
};
const char *backend_admin_name(enum backend_admin a);

/* One configured backend, shared by all workers. */
struct backend_info {
    char *name;
    char *host;
    uint16_t port;
    struct sockaddr_storage addr; /* resolved at start-up */
    bool resolved;
    _Atomic unsigned weight;
    _Atomic uint64_t down_until_ms; /* after a failed connect: skipped for reads until then */
    _Atomic uint64_t connects, connect_failures, commands;
    _Atomic int admin;              /* enum backend_admin */
    _Atomic uint64_t open;          /* data-plane connections open now */
    _Atomic uint64_t reads;         /* reads routed here (any level) */
    _Atomic uint64_t waits, wait_timeouts, wait_us; /* catch-up waits sent here */
    /* The data plane's last failure with it (connect or mid-command);
     * the monitor keeps its own (mon_backend.last_error). */
    pthread_mutex_t err_lock;
    char last_error[256];
    int64_t last_error_unix_ms; /* 0: none */
};

struct proxy {
    _Atomic(struct proxy_snapshot *) snap;
    struct backend_info *backends;
    size_t n_backends;
    /* Where writes go: the configured primary at first, then whichever
     * backend the monitor's topology decision followed (topology.h). */
    _Atomic size_t primary_idx;
    /* Two backends claim the primary role: statements bound for the
     * primary are refused (ERR 9011) until that is resolved. */
    atomic_bool writes_refused;

    pthread_mutex_t profile_lock;
    bool have_profile;
    struct bauth_server profile; /* the primary's greeting */

    atomic_uint clients; /* connected now */
    _Atomic uint64_t clients_total, clients_rejected;
    _Atomic uint32_t next_session_id;
    atomic_bool draining; /* SIGTERM: no new sessions */
    int64_t started_unix_ms;
    uint64_t started_ms; /* proxy_now_ms() at start: uptime */
    _Atomic uint64_t reloads, reload_failures;
    pthread_mutex_t reload_lock; /* SIGHUP and POST /config/reload */

    /* Bytes queued for clients by every session (wq.c keeps it): over
     * limits.max_buffered_bytes, sessions holding any stop reading from
     * their backend until their client took them. */
    _Atomic int64_t client_queued;

    /* Every GTID written through this proxy (level `global`). */
    pthread_mutex_t writes_lock;
    struct gtid_set writes;

    struct monitor mon; /* started by main after the primary's probe */

    /* The result cache (cache.h); NULL when cache.max_bytes is 0. */
    struct cache_store *cache;
};

/* Builds the runtime from a loaded config (taking ownership of it). */
int proxy_init(struct proxy *px, struct config *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void proxy_destroy(struct proxy *px);

static inline struct proxy_snapshot *proxy_snap(struct proxy *px)
{
    return atomic_load_explicit(&px->snap, memory_order_acquire);
}

/* The backend writes go to now. */
static inline size_t proxy_primary(struct proxy *px)
{
    return atomic_load_explicit(&px->primary_idx, memory_order_acquire);
}

/* Backend idx's role now: the primary, or a replica (every other backend,
 * whatever the config called it). */
static inline enum backend_role proxy_role(struct proxy *px, size_t idx)
{
    return idx == proxy_primary(px) ? BACKEND_ROLE_PRIMARY : BACKEND_ROLE_REPLICA;
}

/*
 * Applies a newly loaded config: what can change safely (users, limits,
 * timeouts, consistency, logging, backend weights) takes effect for new
 * statements at once; what cannot (listeners, workers, the backend list
 * and addresses, admin) is reported in `not_applied` (a "; "-joined list,
 * "" when everything applied). Takes ownership of cfg on success.
 */
int proxy_reload(struct proxy *px, struct config *cfg, char *not_applied, size_t len, char *err,
                 size_t errlen) __attribute__((warn_unused_result));

/* Probes the primary's greeting (blocking, connect timeout of the config)
 * and stores it. Returns 0, or -1 with the reason in err. */
int proxy_probe_primary(struct proxy *px, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Copies the greeting profile; false when the primary was never reached. */
bool proxy_profile(struct proxy *px, struct bauth_server *out);

uint64_t proxy_now_ms(void);
uint64_t proxy_now_us(void);
/* Wall clock, milliseconds since the epoch (for the admin API's times). */
int64_t proxy_unix_ms(void);

/* Records the data plane's last error with backend idx (printf format). */
void proxy_backend_error(struct proxy *px, size_t idx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The GTID flavor clients' sessions use: the primary's, MariaDB until the
 * primary was reached (no session exists before that). */
enum gtid_flavor proxy_flavor(struct proxy *px);

/* px->writes := px->writes ∪ g (a set of another flavor replaces it).
 * Out of memory is logged; the set stays a subset of what was written,
 * which only weakens `global` for that write (logged). */
void proxy_writes_add(struct proxy *px, const struct gtid_set *g);
/* out := px->writes. 0 or a gtid_set error code. */
int proxy_writes_copy(struct proxy *px, struct gtid_set *out) __attribute__((warn_unused_result));

/* Resolves b->host (blocking getaddrinfo: start-up, or a retry when the name
 * did not resolve then). Returns 0 or -1 with the reason in err. */
int proxy_resolve(struct backend_info *b, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
