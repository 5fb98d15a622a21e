/*
 * wq.h - a connection's write queue: bytes appended by the relay go out in
 * one write per batch (never one per packet), straight away when the socket
 * takes them (uv_try_write), else with one uv_write in flight while the next
 * batch collects behind it.
 *
 *   wq_buf() ──append──▶ [queued] ──wq_flush()──▶ try_write ─▶ kernel
 *                                              └─▶ [busy] ── uv_write ─▶ on_done()
 */
#ifndef GTIDPROXY_WQ_H
#define GTIDPROXY_WQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"

struct wq;
/* Called after a uv_write completed (status 0 or a UV_E* error); not
 * called for bytes uv_try_write took at once. */
typedef void (*wq_done_cb)(struct wq *q, int status);

struct wq {
    struct buf queued;
    struct buf busy;
    uv_write_t req;
    bool writing;
    uv_stream_t *stream;
    wq_done_cb on_done;
    void *data;
    uint64_t sent;               /* bytes the kernel took */
    _Atomic uint64_t *sent_stat; /* also added here (one writer), or NULL */
    /* Bytes waiting for the kernel are added here (shared by many queues:
     * only changes are added, at each flush and write completion), or
     * NULL. `accounted` is this queue's share in it now. */
    _Atomic int64_t *queued_stat;
    size_t accounted;
};

/* The queue's storage comes from pool (NULL: malloc) and goes back as soon
 * as the queue is drained (an idle connection's queue holds no memory). */
void wq_init(struct wq *q, uv_stream_t *stream, struct buf_pool *pool, wq_done_cb on_done,
             void *data);

static inline struct buf *wq_buf(struct wq *q)
{
    return &q->queued;
}

/* Bytes not yet taken by the kernel. */
static inline size_t wq_size(const struct wq *q)
{
    return buf_pending(&q->queued) + buf_pending(&q->busy);
}

/* Gives the queued buffer's storage back when nothing is queued (after
 * appending nothing, say); wq_flush() does it itself. */
void wq_trim(struct wq *q);

/* Starts writing what is queued, unless a write is in flight (its
 * completion continues). Returns 0 or a UV_E* error (the connection is
 * broken: close it). */
int wq_flush(struct wq *q) __attribute__((warn_unused_result));

void wq_free(struct wq *q);

#endif
