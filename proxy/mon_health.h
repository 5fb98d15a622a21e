/*
 * mon_health.h - a backend's health as the monitor judges it: a pure state
 * machine with hysteresis, fed one result per check (a health check, a
 * replica's GTID poll or a strong look-up: whatever query the monitor sent
 * and whether it answered). No clock, no locks, no I/O: the monitor owns
 * the state and calls these under its own lock.
 *
 *              good                      fall-th failure in a row
 *   unknown ─────────▶ up ─1st failure─▶ suspect ─────────────────▶ down
 *      │               ▲ ◀──── good ─────┘                           │
 *      │               └──── rise-th good check in a row ────────────┘
 *      └──────── fall-th failure in a row (never answered) ─────────▶ down
 *
 * With fall = 1 up goes straight to down at the first failure, and with
 * rise = 1 down comes back up at the first good check: the behaviour before
 * hysteresis. In between, a down backend that answers stays down and says
 * "recovering k/M"; any failure starts its count again.
 */
#ifndef GTIDPROXY_MON_HEALTH_H
#define GTIDPROXY_MON_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MON_HEALTH_LIST(X)                                                                         \
    X(MON_UNKNOWN, "unknown") /* no check answered yet */                                          \
    X(MON_UP, "up")                                                                                \
    X(MON_SUSPECT, "suspect") /* failed lately, fewer than fall checks in a row */                 \
    X(MON_DOWN, "down")       /* fall failures in a row; rise good checks to come back */

enum mon_health {
#define MON_HEALTH_ENUM(name, text) name,
    MON_HEALTH_LIST(MON_HEALTH_ENUM)
#undef MON_HEALTH_ENUM
        MON_HEALTH_N
};
const char *mon_health_name(enum mon_health h);

/* Limits of monitor.fall_checks and monitor.rise_checks (config.c). */
#define MON_HEALTH_CHECKS_MIN 1u
#define MON_HEALTH_CHECKS_MAX 100u

struct mon_health_state {
    enum mon_health state;
    unsigned fails;       /* consecutive failed checks (0 after a good one) */
    unsigned oks;         /* consecutive good checks (0 after a failed one) */
    uint64_t since_ms;    /* when `state` was entered, on the caller's clock */
    uint64_t transitions; /* state changes since init */
};

/* unknown since now_ms, no check counted. */
void mon_health_init(struct mon_health_state *h, uint64_t now_ms);

/*
 * Counts one check (ok: it answered) with the current thresholds (fall,
 * rise: 1..MON_HEALTH_CHECKS_MAX; 0 counts as 1). Returns true when the
 * state changed (then since_ms = now_ms and transitions grew by one); the
 * old state is the caller's to remember. Thresholds may change between
 * calls (a reload): counts already made are compared with the new ones.
 */
bool mon_health_step(struct mon_health_state *h, bool ok, unsigned fall, unsigned rise,
                     uint64_t now_ms);

/* Down but answering: rise not reached yet (the "recovering k/M" case). */
bool mon_health_recovering(const struct mon_health_state *h);

/* The run of checks that led to the current state, for logs: good checks
 * for up and recovering, failed ones otherwise (0 for unknown unchecked). */
unsigned mon_health_count(const struct mon_health_state *h);

/*
 * Why the backend is in its state, for the admin API and reasons given to
 * readers (err: the last failure's text, "" when none):
 *   up                       ""
 *   unknown, nothing failed  "not checked yet"
 *   unknown / suspect        "<err> (failed k/fall)"
 *   down                     "<err>"    ("not reachable" when err is "")
 *   down, answering again    "recovering k/rise"
 * Writes at most len bytes (NUL included, truncated); returns buf.
 */
const char *mon_health_reason(const struct mon_health_state *h, unsigned fall, unsigned rise,
                              const char *err, char *buf, size_t len);

#endif
