/*
 * router.h - where a statement runs: the routing rules of DESIGN.md section 3
 * as a pure function of the classifier's verdict and the session's routing
 * state. No I/O; the session applies the decision (and its side effects on
 * the routing state) and picks the concrete replica.
 *
 * Rules, first match wins:
 *   1. an invalid gtidproxy hint            -> error (never ignored)
 *   2. inside a transaction                 -> the transaction's backend
 *   3. session pinned (temporary table, LOCK TABLES) or autocommit=0 -> primary
 *   4. hint route=primary / route=replica   -> as asked (replica only for reads)
 *   5. READ: SHOW WARNINGS & co             -> the previous statement's backend
 *            reads a user variable the session set -> primary (it lives there)
 *            otherwise                      -> a replica
 *   6. START TRANSACTION READ ONLY          -> a replica
 *   7. everything else (writes, DDL, locking reads, SET/USE/PREPARE, other
 *      transaction control, anything not proven read-only) -> primary
 */
#ifndef GTIDPROXY_ROUTER_H
#define GTIDPROXY_ROUTER_H

#include <stdbool.h>

#include "gtidproxy/classify.h"

#define ROUTE_TARGET_LIST(X)                                                                       \
    X(ROUTE_PRIMARY, "primary")                                                                    \
    X(ROUTE_REPLICA, "replica")                                                                    \
    X(ROUTE_TRX, "transaction") /* the backend the open transaction runs on */                     \
    X(ROUTE_LAST, "last")       /* the backend that ran the previous statement */                  \
    X(ROUTE_ERROR, "error")     /* answer with an ERR: decision.why */

enum route_target {
#define ROUTE_TARGET_ENUM(name, text) name,
    ROUTE_TARGET_LIST(ROUTE_TARGET_ENUM)
#undef ROUTE_TARGET_ENUM
};
const char *route_target_name(enum route_target t);

/* Why a session is pinned to the primary: each reason is set and cleared
 * on its own (UNLOCK TABLES must not drop a temporary table's pin). */
#define ROUTE_PIN_LIST(X)                                                                          \
    X(ROUTE_PIN_TEMP_TABLE, "temporary table")                                                     \
    X(ROUTE_PIN_LOCK, "LOCK TABLES")                                                               \
    X(ROUTE_PIN_SET_OPTION, "COM_SET_OPTION")                                                      \
    X(ROUTE_PIN_BAD_GTID, "unreadable GTID")

enum route_pin {
#define ROUTE_PIN_ENUM(name, text) name,
    ROUTE_PIN_LIST(ROUTE_PIN_ENUM)
#undef ROUTE_PIN_ENUM
};
#define ROUTE_PIN_BIT(p) (1u << (p))

/* What routing remembers about a session between statements. */
struct route_state {
    bool in_trx;         /* the last reply had SERVER_STATUS_IN_TRANS */
    bool autocommit_off; /* the last reply lacked SERVER_STATUS_AUTOCOMMIT */
    unsigned pins;       /* ROUTE_PIN_BIT()s: why the session is pinned to the primary */
    bool user_vars;      /* the session assigned user variables (on the primary) */
};

/* Notes the pins and user variables the statement leaves on the primary
 * (router_decide does it for text statements). A prepared statement's are
 * noted when it is prepared, since it may run any time after, and never
 * its releases (may_release false): an UNLOCK TABLES prepared early must
 * not drop a pin its EXECUTE has not dropped yet. */
void router_note_effects(const struct classify_result *cr, struct route_state *st,
                         bool may_release);

/* The first reason of pins (for logs, errors and the admin API), or NULL. */
const char *route_pin_why(unsigned pins);

struct route_decision {
    enum route_target target;
    const char *why; /* short, for logs and the error message */
};

/* Decides, and updates st for what the statement will leave behind once it
 * ran (pins, user variables). in_trx/autocommit_off are the caller's to
 * update from each reply's status flags. */
void router_decide(const struct classify_result *cr, struct route_state *st,
                   struct route_decision *out);

#endif
