/*
 * topology.h - which backend is the primary, decided from what the monitor
 * sees (issue 9 item 3; DESIGN.md section 3, "Topology").
 *
 * A backend CLAIMS the primary role when its last health check succeeded,
 * it runs with read_only=0, and neither of its replication threads runs
 * (a replica with read_only=0 that still replicates is a misconfigured
 * replica, not a second primary: it is warned about, not followed).
 *
 *   claimants          state     what the proxy does
 *   none, or only      stable    writes go to the current primary (if it is
 *   the current one                read_only the server answers 1290 itself)
 *   another backend    pending   the same, until it has claimed for
 *                                topology.confirm_ms AND every other backend
 *                                was seen not claiming after it began; then
 *                                it becomes the primary (followed)
 *   two at once        split     every statement bound for the primary is
 *                                refused (9011) until one of them stops
 *                                claiming: never two primaries at once
 *
 * When a split ends, the claims left over are confirmed afresh: one failed
 * check of the old primary (a timeout, a dropped connection) must not hand
 * writes to the other writable server at once.
 *
 * Observations come from different threads at different times, so "at
 * once" means overlapping as observed: each was seen claiming after the
 * other began to. In an orderly promotion the old primary goes read_only
 * first; its last observation (writable) predates the new one's claim, so
 * that is no split -- its next check settles it either way, and the
 * newcomer cannot be followed before that check.
 *
 * Pure logic: no threads, no clock, no I/O. The monitor feeds it one
 * observation per check (under its own lock) and publishes the result.
 */
#ifndef GTIDPROXY_TOPOLOGY_H
#define GTIDPROXY_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOPO_STATE_LIST(X)                                                                         \
    X(TOPO_STABLE, "stable")                                                                       \
    X(TOPO_PENDING, "pending") /* another backend claims; confirming */                            \
    X(TOPO_SPLIT, "split")     /* two or more claim: writes refused */

enum topo_state {
#define TOPO_STATE_ENUM(name, text) name,
    TOPO_STATE_LIST(TOPO_STATE_ENUM)
#undef TOPO_STATE_ENUM
};
const char *topo_state_name(enum topo_state s);

struct topo_seen {
    bool claims;          /* its last observation */
    uint64_t seen_at;     /* when that was (0: never) */
    uint64_t claim_since; /* claims: the first observation of this claim */
};

struct topology {
    size_t n;
    struct topo_seen *seen; /* per backend */
    size_t primary;         /* the backend writes go to */
    enum topo_state state;
    size_t candidate;     /* pending: the claimant being confirmed */
    uint64_t state_since; /* when state (or primary) last changed */
    uint64_t changes;     /* primaries followed since start */
};

/* n backends, writes to `primary` at first. 0, or -1 out of memory. */
int topology_init(struct topology *t, size_t n, size_t primary) __attribute__((warn_unused_result));
void topology_free(struct topology *t);

/*
 * Backend idx's latest check showed `claims` at now_ms; decide again.
 * follow=false keeps the primary where it is (a split is still a split).
 * Returns true when the state or the primary changed (log it: one line per
 * transition), false otherwise.
 */
bool topology_observe(struct topology *t, size_t idx, bool claims, uint64_t now_ms,
                      uint64_t confirm_ms, bool follow);

/* What the current state means, for logs, the admin API and ERR text:
 * names come from names[] (indexed like the backends). */
void topology_describe(const struct topology *t, const char *const *names, char *out, size_t len);

#endif
