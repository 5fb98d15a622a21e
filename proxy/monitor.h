/*
 * monitor.h - what the proxy knows about each backend beyond its own
 * connections: health, flavor, role, replication state, lag, and the GTID
 * set each replica is known to have applied (DESIGN.md section 3, known(r)).
 *
 *   monitor thread per backend (libmariadb, blocking calls with timeouts)
 *     every monitor.interval_ms:          health, version/flavor, @@read_only,
 *                                          SHOW SLAVE|REPLICA STATUS (threads, lag)
 *     every monitor.gtid_poll_interval_ms: replicas' applied set
 *                                          (MariaDB @@gtid_slave_pos, the set
 *                                          MASTER_GTID_WAIT compares with;
 *                                          MySQL @@GLOBAL.gtid_executed)
 *     on demand (primary only):            the primary's executed set for
 *                                          `strong` reads, one look-up shared
 *                                          by every read that asked before it
 *                                          was sent
 *   workers read the table (mutex per backend, held for a set compare) and
 *   raise known(r) after a wait on r succeeded.
 *
 * One thread per backend, not one for all: a backend that hangs (SIGSTOP,
 * a dead network) blocks only its own checks, so the others' known sets
 * keep moving. Each thread keeps one connection and reconnects after a
 * failure; every call is bounded by connect/read/write timeouts.
 *
 * known(r) is a lower bound of what r applied: a value read from r stays a
 * lower bound forever (the set only grows while r is the same server), so a
 * poll result simply replaces the table's value, and a successful wait
 * raises it by union in between.
 */
#ifndef GTIDPROXY_MONITOR_H
#define GTIDPROXY_MONITOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/gtid_set.h"
#include "mon_health.h"
#include "topology.h"

/* One backend as the monitor sees it. Atomics are read without the lock;
 * the lock guards known, version, last_error and the health state machine
 * with its reason. The primary's known set
 * is its executed set, read at every health check and strong look-up (the
 * admin API measures replicas' distance in transactions against it). */
struct mon_backend {
    pthread_mutex_t lock;
    struct gtid_set known;   /* replicas: applied set; primary: executed set */
    uint64_t known_at_ms;    /* when `known` was last read from the server */
    bool flavor_known;       /* a check succeeded once: flavor/version valid */
    enum gtid_flavor flavor; /* from the server's version string */
    char version[64];        /* e.g. "10.11.6-MariaDB-0+deb12u1" */
    char last_error[256];    /* the last failed round's reason, "" if none yet
                                (kept after recovery: health says whether it holds) */
    uint64_t last_error_ms;
    /* Every query the monitor sends counts as one check (mon_health.h);
     * only the backend's own thread steps it. */
    struct mon_health_state hs;
    char health_reason[256]; /* mon_health_reason() of hs, "" when up */

    _Atomic int health;            /* hs.state, for readers without the lock */
    _Atomic unsigned health_fails; /* hs.fails, likewise */
    atomic_bool read_only;       /* @@read_only */
    atomic_bool replicating;     /* replicas: IO and SQL threads both running */
    atomic_bool applying;        /* replicas: the SQL (applier) thread runs */
    atomic_bool receiving;       /* replicas: the IO (receiver) thread runs */
    _Atomic int64_t lag_ms;      /* replicas: Seconds_Behind_Master * 1000; -1 unknown/NULL */
    _Atomic uint64_t checked_ms; /* last successful health check */
    _Atomic uint64_t checks, check_failures; /* health checks */
    _Atomic uint64_t polls; /* queries for `known` sent (primary: strong look-ups) */
};

struct proxy;

struct monitor {
    struct proxy *px;
    struct mon_backend *be; /* indexed like proxy.backends */
    size_t n;
    pthread_t *threads;
    size_t n_threads; /* started */
    atomic_bool stop;
    pthread_mutex_t wake_lock; /* + wake_cond: stop, strong requests */
    pthread_cond_t wake_cond;

    /* Strong look-ups (primary's executed set). A read takes a ticket; the
     * primary's thread sends a look-up covering every ticket issued before
     * it was sent, then publishes the set with that coverage. */
    _Atomic uint64_t strong_tickets; /* last ticket issued */
    uint64_t strong_covered;         /* tickets <= this are answered (lock) */
    bool strong_failed;              /* the last look-up failed (lock) */
    char strong_error[256];          /* why (lock) */
    struct gtid_set strong_set;      /* its answer (lock) */
    pthread_mutex_t strong_lock;

    /* Called from a monitor thread after each strong look-up (answered or
     * failed); the proxy wakes its workers from it. May be NULL. Set both
     * before monitor_start (which keeps them and resets everything else). */
    void (*on_strong)(void *arg);
    void *on_strong_arg;

    /* Which backend is the primary (topology.h): every thread feeds its
     * checks in; the decision is published to px->primary_idx and
     * px->writes_refused. */
    pthread_mutex_t topo_lock;
    struct topology topo;
    const char **names; /* the backends' names, for topology_describe */
    char topo_why[256]; /* topology_describe() of the current state */
};

/* The topology decision as the admin API and ERR 9011 show it. */
struct mon_topology {
    enum topo_state state;
    size_t primary, candidate; /* candidate: SIZE_MAX unless pending */
    uint64_t since_ms;         /* proxy_now_ms() of the last change */
    uint64_t changes;          /* primaries followed */
    char why[256];
};
void monitor_topology(struct monitor *m, struct mon_topology *out);

/* Sets up the table for px's backends (flavor of the empty sets: flavor)
 * and starts one thread per backend. m is zeroed or holds only on_strong
 * and on_strong_arg. A set read from a backend has that backend's flavor.
 * Credentials, intervals and timeouts are read from proxy_snap(px)->cfg on
 * every round (credentials at the next connect), so a reload applies.
 * Returns 0, or -1 with the reason in err (nothing left running). */
int monitor_start(struct monitor *m, struct proxy *px, enum gtid_flavor flavor, char *err,
                  size_t errlen) __attribute__((warn_unused_result));
/* monitor_start without the threads: the table as start-up leaves it
 * (every backend unknown, "not checked yet"), for tests that fill it by
 * hand. Free it with monitor_free(). */
int monitor_init(struct monitor *m, struct proxy *px, enum gtid_flavor flavor, char *err,
                 size_t errlen) __attribute__((warn_unused_result));
/* Stops and joins the threads (a hung backend delays this by up to one
 * timeout). The table stays readable, known sets as they were: workers
 * may still ask until monitor_free(). Idempotent. */
void monitor_stop(struct monitor *m);
/* Stops if needed and frees the table. Idempotent. */
void monitor_free(struct monitor *m);

/* May backend idx take reads that need replication to be current?
 * Up, its applier (SQL thread) running, its IO thread running too unless
 * the primary is not up (then there is nothing newer to fetch, and the
 * replicas are the freshest copies there are), and its lag within
 * max_lag_ms (an unknown lag, NULL while the IO thread is disconnected,
 * counts as within). Suspect and down backends take no new reads. Unknown
 * health counts as usable until a check fails (the first check has not
 * finished: the gate still waits for what it needs); a backend that has
 * failed checks and never answered is not usable until it does. */
bool monitor_replica_usable(struct monitor *m, size_t idx, unsigned max_lag_ms);
/* The same as a code, from atomics only (no lock, no text): what every
 * read asks of every replica. */
enum mon_unusable {
    MON_USABLE,
    MON_UNUSABLE_HEALTH, /* suspect, down, or unknown after failed checks */
    MON_UNUSABLE_SQL,    /* the SQL thread stopped */
    MON_UNUSABLE_IO,     /* the IO thread stopped while the primary is up */
    MON_UNUSABLE_LAG,    /* over max_lag_ms */
    MON_UNUSABLE_UNMONITORED,
};
enum mon_unusable monitor_unusable(struct monitor *m, size_t idx, unsigned max_lag_ms);
/* Why not, as text for logs and errors (the health reason is read under
 * the backend's lock), or NULL when usable: "suspect: <reason>", "down: <reason>",
 * "unknown: <reason>" (reason: mon_health_reason()), or static text ("SQL
 * thread stopped", "IO thread stopped", "lagging", "not monitored"). The
 * health texts live in a buffer of the calling thread, valid until its next
 * call: use or copy the text before asking again. */
const char *monitor_unusable_why(struct monitor *m, size_t idx, unsigned max_lag_ms);
/* Is backend idx reachable at all (not MON_DOWN; suspect still is)? For
 * stale reads. */
bool monitor_reachable(struct monitor *m, size_t idx);

/* known(idx) ⊇ need? (false for sets of different flavors) */
bool monitor_known_contains(struct monitor *m, size_t idx, const struct gtid_set *need);
/* How many transactions of need known(idx) lacks (gtid_set_missing). */
uint64_t monitor_known_missing(struct monitor *m, size_t idx, const struct gtid_set *need);
/* A wait for `reached` on idx succeeded: known(idx) := known(idx) ∪ reached.
 * Out of memory leaves known as it was (it stays a lower bound). */
void monitor_known_raise(struct monitor *m, size_t idx, const struct gtid_set *reached);
/* Copies known(idx) into out (text for logs and the admin API). */
int monitor_known_copy(struct monitor *m, size_t idx, struct gtid_set *out)
    __attribute__((warn_unused_result));
/* The flavor backend idx speaks; false until a check succeeded. */
bool monitor_flavor(struct monitor *m, size_t idx, enum gtid_flavor *out);

/* A `strong` read arrived: returns its ticket and makes sure a look-up
 * covering it will be sent. */
uint64_t monitor_strong_request(struct monitor *m);
/* 1: the look-up covering `ticket` answered, its set copied into out;
 * 0: not yet; -1: that look-up failed (its reason copied into why). */
int monitor_strong_result(struct monitor *m, uint64_t ticket, struct gtid_set *out, char *why,
                          size_t whylen);

#endif
