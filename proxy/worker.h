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

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "cache.h"
#include "gate.h"
#include "proxy.h"
#include "query_rules.h"

struct session;
struct worker;

/* Where a client command ran, for the admin API's "queries by route". */
#define WROUTE_LIST(X)                                                                             \
    X(WROUTE_PRIMARY, "primary")                                                                   \
    X(WROUTE_REPLICA, "replica")                                                                   \
    X(WROUTE_PROXY, "proxy") /* answered by the proxy itself (its statements, refusals) */

enum wroute {
#define WROUTE_ENUM(name, text) name,
    WROUTE_LIST(WROUTE_ENUM)
#undef WROUTE_ENUM
    WROUTE_N
};
const char *wroute_name(enum wroute r);

/* Per worker, one writer (relaxed load + store); other threads load. */
struct worker_stats {
    _Atomic uint64_t queries[WROUTE_N];
    _Atomic uint64_t bytes_in, bytes_out; /* client side */
};

static inline void worker_stat_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* A function another thread asks the worker to run on its loop. */
struct worker_call {
    void (*fn)(struct worker *w, void *arg);
    void *arg;
    int rc; /* 0 ran, -1 refused (the loop ended) */
    bool done;
    struct worker_call *next;
};

struct worker {
    unsigned idx;
    struct proxy *px;
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t wake;
    uv_async_t call; /* worker_call(); unreferenced: never keeps the loop alive */
    uv_tcp_t *listeners;
    size_t n_listeners;
    uv_timer_t drain_timer;
    bool draining;
    /* Idle sessions: one periodic check instead of a timer restarted per
     * command (worker_idle_period_ms()). Unreferenced. */
    uv_timer_t idle_timer;
    uint64_t idle_period_ms;
    /* Connection buffers' blocks (buf.h): `pool` for the clients' input,
     * commands and output and the backends' output, `pool_read` for the
     * backends' reads. Only this thread touches them. */
    struct buf_pool pool;
    struct buf_pool pool_read;
    struct session *sessions; /* doubly linked list of live sessions */
    unsigned n_sessions;
    unsigned rr;   /* round-robin position for replica choice */
    struct gate_counters gate; /* reads by level and outcome, waits */
    struct cache_counters cache; /* result cache lookups */
    struct query_match qmatch;   /* query rules: this thread's PCRE2 state */
    struct query_memo qmemo;     /* ... and its decisions per statement text */
    struct worker_stats st;
    uv_mutex_t calls_lock; /* + calls_cond: worker_call() */
    uv_cond_t calls_cond;
    struct worker_call *calls;
    bool stopped; /* the loop ended: calls are refused */
    char err[256]; /* start-up error, for the main thread */
};

/* The pools' block sizes and bounds: a block is kept only while the list
 * is under its bound (at most WORKER_POOL_BLOCKS x 16 KiB +
 * WORKER_POOL_READ_BLOCKS x 64 KiB = 4 MiB per worker stay allocated after
 * a burst); beyond it, blocks are freed as they come back. A block is held
 * across loop turns only by a command in flight (`cmd`), a partial packet,
 * or a reply the peer has not taken yet, so the bounds cover that many
 * busy sessions per worker without a malloc. */
#define WORKER_POOL_BLOCK       (16u * 1024u)
#define WORKER_POOL_BLOCKS      128u
#define WORKER_POOL_READ_BLOCK  (64u * 1024u)
#define WORKER_POOL_READ_BLOCKS 32u

/* The idle check's period for a client idle timeout of timeout_ms (0: none):
 * a tenth of it, at most 1 s, at least 10 ms. A session idle for longer
 * than its timeout is closed at the next check: at most one period late
 * (plus however long the loop was busy). */
uint64_t worker_idle_period_ms(unsigned timeout_ms);

/* Statement texts whose query-rule decision each worker remembers. */
#define WORKER_RULE_MEMO 4096

/* Creates the loop and binds the listeners (SO_REUSEPORT, so every worker
 * binds the same addresses). Returns 0, or -1 with w->err set. */
int worker_init(struct worker *w, unsigned idx, struct proxy *px)
    __attribute__((warn_unused_result));
/* Starts the thread; it runs until the loop has nothing left after a drain. */
int worker_start(struct worker *w) __attribute__((warn_unused_result));
/* Asks the worker (from any thread) to look at px->draining and at the
 * sessions waiting for a strong look-up. */
void worker_wake(struct worker *w);
/* Runs fn(w, arg) on the worker's thread and returns when it did: 0, or
 * -1 when the worker's loop has ended (fn not run). Never call it from a
 * worker thread, nor after worker_join() began (stop the caller first). */
int worker_call(struct worker *w, void (*fn)(struct worker *w, void *arg), void *arg);
/* Joins the thread and frees the loop. */
void worker_join(struct worker *w);

/* For sessions: link/unlink in the worker's list. */
void worker__session_add(struct worker *w, struct session *s);
void worker__session_remove(struct worker *w, struct session *s);

#endif
