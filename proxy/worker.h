/*
 * worker.h - one worker thread: a libuv loop that owns its listeners' share
 * of the accepted connections, their sessions and those sessions' backend
 * connections. Nothing of a worker is touched by another thread except
 * through worker_wake() (an uv_async_t).
 *
 *   main thread ── start ──▶ worker 0..N-1 (each: listeners with SO_REUSEPORT,
 *        │                        the kernel spreads new connections)
 *        └── SIGTERM/SIGHUP ──▶ worker_wake(): drain / apply new snapshot
 */
#ifndef GTIDPROXY_WORKER_H
#define GTIDPROXY_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "gate.h"
#include "proxy.h"

struct session;

struct worker {
    unsigned idx;
    struct proxy *px;
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t wake;
    uv_tcp_t *listeners;
    size_t n_listeners;
    uv_timer_t drain_timer;
    bool draining;
    struct session *sessions; /* doubly linked list of live sessions */
    unsigned n_sessions;
    unsigned rr;   /* round-robin position for replica choice */
    struct gate_counters gate; /* reads by level and outcome, waits */
    char err[256]; /* start-up error, for the main thread */
};

/* Creates the loop and binds the listeners (SO_REUSEPORT, so every worker
 * binds the same addresses). Returns 0, or -1 with w->err set. */
int worker_init(struct worker *w, unsigned idx, struct proxy *px)
    __attribute__((warn_unused_result));
/* Starts the thread; it runs until the loop has nothing left after a drain. */
int worker_start(struct worker *w) __attribute__((warn_unused_result));
/* Asks the worker (from any thread) to look at px->draining and at the
 * sessions waiting for a strong look-up. */
void worker_wake(struct worker *w);
/* Joins the thread and frees the loop. */
void worker_join(struct worker *w);

/* For sessions: link/unlink in the worker's list. */
void worker__session_add(struct worker *w, struct session *s);
void worker__session_remove(struct worker *w, struct session *s);

#endif
