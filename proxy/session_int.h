/*
 * session_int.h - what session.c and session_stmt.c share; not for other
 * modules (they use session.h).
 *
 *   session.c       login, command loop, routing, replies, failures
 *   session_stmt.c  prepared statements: where each command runs, and
 *                   fitting it to that backend (server ids, parameter types)
 */
#ifndef GTIDPROXY_SESSION_INT_H
#define GTIDPROXY_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "router.h"
#include "session.h"

/* Queues an ERR / OK answering the current command (seq = command's + 1). */
void session__reply_error(struct session *s, enum gp_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void session__reply_ok(struct session *s);

/* A replica that may take reads now (up, weight > 0, not tried yet for this
 * command); weighted round-robin over them, the primary when there is none. */
bool session__replica_usable(struct session *s, size_t idx, uint64_t now);
size_t session__pick_replica(struct session *s);

/* session_stmt.c */
struct route_decision session__prepare_route(struct session *s, const uint8_t *payload, size_t len,
                                             bool whole);
/* EXECUTE/SEND_LONG_DATA/FETCH/RESET/CLOSE: true with *idx to run on, or
 * false when answered (or nothing to answer) here. */
bool session__stmt_route(struct session *s, size_t *idx);
/* 0: send the command to b; 1: wait (the statement is being prepared on b);
 * -1: the client was answered with an error. */
int session__stmt_on_backend(struct session *s, struct bconn *b);

#endif
