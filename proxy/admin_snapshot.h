/*
 * admin_snapshot.h - everything GET /status, /backends, /consistency, /cache
 * and /metrics show, read once from the shared state into plain C structs.
 * The JSON views (admin_view.c) and the Prometheus text (admin_metrics.c)
 * are both built from a snapshot, so the two can never disagree; neither
 * reads shared state itself.
 *
 *   atomics (proxy, backend_info, mon_backend, workers' counters) ─ relaxed loads ─┐
 *   mon_backend.lock: version, flavor, last_error, health state and reason,      │
 *                     known (distance; text)                                     ├─▶ struct
 *   backend_info.err_lock: the data plane's last error                           │   admin_snapshot
 *   cache_stats() + workers' cache counters; px->writes (text only)             ─┘
 *
 * Cost: without ADMIN_SNAP_GTID_TEXT a take allocates nothing (the
 * /metrics path): a replica's distance to the primary is computed under
 * both monitor locks instead of from copies of the sets. The admin thread
 * is the only one that ever holds two mon_backend locks, and it takes the
 * primary's first, so this cannot deadlock.
 *
 * Counters summed over workers are not one atomic snapshot: a read in
 * flight may show in one counter and not yet in another.
 */
#ifndef GTIDPROXY_ADMIN_SNAPSHOT_H
#define GTIDPROXY_ADMIN_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache_store.h"
#include "config.h"
#include "gate.h"
#include "monitor.h"
#include "proxy.h"
#include "worker.h"

struct admin_ctx;

/* The parts a take reads (bit mask). */
enum admin_snap_part {
    ADMIN_SNAP_STATUS = 1u << 0,      /* proxy counters, workers' routes and bytes, config */
    ADMIN_SNAP_BACKENDS = 1u << 1,    /* backend_info and the monitor's table */
    ADMIN_SNAP_CONSISTENCY = 1u << 2, /* gate counters summed over workers */
    ADMIN_SNAP_CACHE = 1u << 3,       /* cache_stats() and workers' cache counters */
    /* The GTID set texts of the parts taken (status: writes_gtid;
     * backends: known_gtid). The only part that allocates. */
    ADMIN_SNAP_GTID_TEXT = 1u << 4,
};

/* What /metrics prints: everything but the GTID texts. */
#define ADMIN_SNAP_METRICS                                                                         \
    (ADMIN_SNAP_STATUS | ADMIN_SNAP_BACKENDS | ADMIN_SNAP_CONSISTENCY | ADMIN_SNAP_CACHE)

/* A backend's state in /backends, in the order of its rules (first match
 * wins): what the admin said, then health, then the replica rules. */
#define ADMIN_BSTATE_LIST(X)                                                                       \
    X(ADMIN_BSTATE_OFFLINE, "offline")                                                             \
    X(ADMIN_BSTATE_DRAINING, "draining")                                                           \
    X(ADMIN_BSTATE_DOWN, "down")                                                                   \
    X(ADMIN_BSTATE_UNKNOWN, "unknown")                                                             \
    X(ADMIN_BSTATE_LAGGING, "lagging")                                                             \
    X(ADMIN_BSTATE_UP, "up")

enum admin_bstate {
#define ADMIN_BSTATE_ENUM(name, text) name,
    ADMIN_BSTATE_LIST(ADMIN_BSTATE_ENUM)
#undef ADMIN_BSTATE_ENUM
    ADMIN_BSTATE_N
};
const char *admin_bstate_name(enum admin_bstate s);

/* Texts copied from under a lock keep the source's size (truncated there). */
#define ADMIN_SNAP_TEXT 256

struct admin_snap_status {
    const char *version; /* GTIDPROXY_VERSION */
    int64_t started_unix_ms;
    uint64_t uptime_ms;
    unsigned workers;
    bool draining;
    enum gtid_flavor flavor;
    uint64_t clients_current, clients_total, clients_rejected;
    uint64_t queries[WROUTE_N];
    uint64_t bytes_in, bytes_out;
    int64_t client_buffered; /* bytes queued for clients now (all sessions) */
    char *writes_gtid; /* malloc'd canonical text ("" empty); NULL unless GTID_TEXT */
    /* The config snapshot's own string (snapshots live until exit); NULL: none. */
    const char *config_file;
    int64_t config_loaded_unix_ms;
    uint64_t reloads, reload_failures;
    /* Query rules, summed over workers: memo lookups (hits answered from
     * the memo, misses evaluated), memo evictions, and regex evaluations
     * stopped by a limit or failing otherwise (both count as no match). */
    uint64_t rule_memo_hits, rule_memo_misses, rule_memo_evictions, rule_limit_hits, rule_errors;
    /* Which backend is the primary, and why (topology.h). */
    const char *primary; /* px->backends' name */
    struct mon_topology topology;
    int64_t topology_since_unix_ms; /* 0: unchanged since start */
};

/* The newer of the monitor's and the data plane's last error. */
struct admin_snap_error {
    bool present;
    bool from_monitor; /* else the data plane's ("proxy") */
    int64_t at_unix_ms;
    char message[ADMIN_SNAP_TEXT];
};

struct admin_snap_backend {
    const char *name, *host; /* px->backends' own: fixed for the process's life */
    uint16_t port;
    enum backend_role role;
    bool flavor_known; /* a health check succeeded once: flavor and version */
    enum gtid_flavor flavor;
    char version[sizeof((struct mon_backend *)0)->version];
    enum admin_bstate state;
    bool has_why; /* false only for "up" */
    char why[ADMIN_SNAP_TEXT];
    enum backend_admin admin;
    enum mon_health health; /* the monitor's (mon_health.h) */
    bool has_health_reason; /* false only for health "up" */
    char health_reason[ADMIN_SNAP_TEXT];
    bool health_since_known; /* the monitor started: it says since when */
    int64_t health_since_unix_ms;
    uint64_t health_transitions;
    bool checked; /* a health check succeeded: read_only and io/sql_running hold */
    bool read_only, io_running, sql_running;
    unsigned weight;
    bool lag_known; /* replicas whose server reports a lag */
    int64_t lag_ms;
    bool lag_tx_known; /* replicas: both sets read, one flavor */
    uint64_t lag_tx;   /* transactions of the primary's executed set not applied here */
    char *known_gtid;  /* malloc'd canonical text; NULL unless GTID_TEXT */
    bool known_age_known;
    uint64_t known_age_ms;
    uint64_t conn_open, conn_opened, connect_failures;
    uint64_t commands, reads;
    uint64_t waits, wait_timeouts, wait_us;
    uint64_t checks, check_failures;
    bool last_ok_known;
    uint64_t last_ok_age_ms;
    struct admin_snap_error last_error;
};

struct admin_snap_consistency {
    uint64_t reads[GATE_LEVEL_N][GATE_OUTCOME_N];
    uint64_t waits, wait_timeouts, wait_us_sum;
    uint64_t wait_hist[GATE_HIST_N]; /* non-cumulative, gate_hist_bound_us; last: +Inf */
};

struct admin_snap_cache {
    bool enabled; /* false: every number is 0 */
    uint64_t max_bytes, max_entry_bytes;
    struct cache_stats st;
    uint64_t hits, stale_serves, misses, bypasses; /* summed over workers */
};

struct admin_snapshot {
    unsigned parts; /* what the take read (enum admin_snap_part) */
    struct admin_snap_status status;
    struct admin_snap_consistency consistency;
    struct admin_snap_cache cache;
    size_t n_backends;
    struct admin_snap_backend backends[CONFIG_MAX_BACKENDS];
};

/*
 * Fills the parts of *out named by `what` (parts not asked for are zero;
 * out->parts says which were read). Returns 0, or -1 when out of memory
 * building a GTID text (only with ADMIN_SNAP_GTID_TEXT; nothing is then
 * left allocated). Call admin_snapshot_release() after a successful take
 * that asked for GTID texts (harmless otherwise).
 */
int admin_snapshot_take(const struct admin_ctx *a, struct admin_snapshot *out, unsigned what)
    __attribute__((warn_unused_result));

/* Frees the GTID texts; the snapshot may be taken into again. */
void admin_snapshot_release(struct admin_snapshot *s);

#endif
