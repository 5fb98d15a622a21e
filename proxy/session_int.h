/*
 * session_int.h - what session.c and session_stmt.c share; not for other
 * modules (they use session.h).
 *
 *   session.c       login, command loop, routing, replies, failures
 *   session_stmt.c  prepared statements: where each command runs, and
 *                   fitting it to that backend (server ids, parameter types)
 *   session_gate.c  the consistency gate: write tracking, levels, catch-up
 *                   waits, fallbacks, the gtidproxy_ statements
 */
#ifndef GTIDPROXY_SESSION_INT_H
#define GTIDPROXY_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "gtidproxy/classify.h"
#include "gtidproxy/proto_reply.h"
#include "router.h"
#include "session.h"

/* Queues an ERR / OK answering the current command (seq = command's + 1). */
void session__reply_error(struct session *s, enum gp_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void session__reply_ok(struct session *s);


/* Backends the current command failed on (one bit per index). */
void session__mark_tried(struct session *s, size_t idx);
bool session__was_tried(const struct session *s, size_t idx);
/* Starts (or continues) the current command on backend idx. */
void session__run_on(struct session *s, size_t idx);
/* Counts the current command once in the worker's queries by route: on
 * backend b's role, or answered by the proxy (b NULL); a read also in
 * b's reads. Called when its first byte goes out (or its answer does). */
void session__count_route(struct session *s, const struct bconn *b);
/* Sends the command to b, which is ready (synced, statement prepared). */
void session__proceed(struct session *s, struct bconn *b);
/* The command was answered by the proxy from outside dispatch(): the
 * session is idle again and takes the next command. */
void session__command_answered(struct session *s);
/* Closes b and forgets it (the command on it is abandoned). */
void session__drop_backend(struct session *s, struct bconn *b);
/* Status flags for the proxy's own OK/EOF (transaction, autocommit). */
uint16_t session__status(const struct session *s);
void session__on_timer(uv_timer_t *t);

/* session_gate.c */
void session__gate_init(struct session *s, enum gtid_flavor f);
void session__gate_free(struct session *s);
void session__gate_login(struct session *s);
void session__track_write(struct session *s, struct bconn *b, const struct proto_ok *ok);
/* A read: level, need, replica, wait, fallback. prefer: a replica to use
 * when it is caught up (a prepared statement's home), or SIZE_MAX. */
void session__gate_begin(struct session *s, const struct hint_set *hint, size_t prefer);
void session__gate_retry(struct session *s);
/* A replica by weighted round robin, SIZE_MAX when none qualifies: fresh =
 * one the gate may use (monitor: up, applying, within lag; also for
 * COM_STMT_PREPARE), else any reachable one (stale reads). Never one
 * the current command failed on, one with weight 0, or one that refused a
 * connection in the last 2 s. */
size_t session__pick_replica(struct session *s, bool fresh);
void session__gate_timer(struct session *s);
void session__gate_strong_ready(struct session *s);
int session__gate_before_send(struct session *s, struct bconn *b);
bool session__proxy_stmt(struct session *s, const struct classify_result *cr, const uint8_t *text,
                         size_t n);

/* session_cache.c (cache.h): the current command's cache state. */
void session__cache_init(struct session *s, enum gtid_flavor f);
void session__cache_free(struct session *s);
/* A COM_QUERY read the gate will route: decides whether the cache is
 * looked up and the reply stored (rule: the matching query rule, or NULL),
 * and builds the key. */
void session__cache_select(struct session *s, const struct classify_result *cr,
                           const uint8_t *text, size_t n, const struct query_rule *rule);
/* Once the read's need is known: serves a consistent hit and answers the
 * command (true), or counts a miss and arms the capture (false). */
bool session__cache_serve_consistent(struct session *s);
/* The fallback step `cache`: queues an entry no older than max_stale_ms
 * (true; the caller counts it, flushes and finishes the command), else
 * false. */
bool session__cache_serve_stale(struct session *s);
/* The read is about to be sent to b: takes the tag, restarts the capture. */
void session__cache_sending(struct session *s, const struct bconn *b);
/* The reply ended: stores it when it may be served again. */
void session__cache_done(struct session *s, const struct proto_trk_result *res);
/* The command ended without a reply from a server (an error, a fallback
 * refused): the key built for it goes back. */
void session__cache_drop(struct session *s);

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
