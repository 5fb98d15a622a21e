/*
 * wq.c - write queues (wq.h).
 */
#include "wq.h"

void wq_init(struct wq *q, uv_stream_t *stream, struct buf_pool *pool, wq_done_cb on_done,
             void *data)
{
    *q = (struct wq){.stream = stream, .on_done = on_done, .data = data};
    q->queued.pool = q->busy.pool = pool;
}

void wq_trim(struct wq *q)
{
    buf_release(&q->queued);
}

static void count_sent(struct wq *q, size_t n)
{
    q->sent += n;
    if (q->sent_stat)
        atomic_store_explicit(q->sent_stat,
                              atomic_load_explicit(q->sent_stat, memory_order_relaxed) + n,
                              memory_order_relaxed);
}

/* Brings this queue's share of *queued_stat up to date. A queue that
 * never holds bytes back (the usual case) never touches the shared atomic. */
static void account(struct wq *q)
{
    size_t now = wq_size(q);
    if (now == q->accounted || !q->queued_stat)
        return;
    atomic_fetch_add_explicit(q->queued_stat, (int64_t)now - (int64_t)q->accounted,
                              memory_order_relaxed);
    q->accounted = now;
}

static int flush_now(struct wq *q);

static void on_write(uv_write_t *req, int status)
{
    struct wq *q = req->data;
    q->writing = false;
    if (status == 0)
        count_sent(q, buf_pending(&q->busy));
    buf_consume(&q->busy, buf_pending(&q->busy));
    buf_release(&q->busy); /* libuv is done with its bytes */
    if (status == 0)
        status = flush_now(q);
    account(q);
    q->on_done(q, status);
}

int wq_flush(struct wq *q)
{
    int rc = flush_now(q);
    account(q);
    return rc;
}

static int flush_now(struct wq *q)
{
    if (q->writing || buf_pending(&q->queued) == 0)
        return 0;
    uv_buf_t b = uv_buf_init((char *)buf_head(&q->queued), (unsigned)buf_pending(&q->queued));
    int n = uv_try_write(q->stream, &b, 1);
    if (n > 0) {
        count_sent(q, (size_t)n);
        buf_consume(&q->queued, (size_t)n);
        if (buf_pending(&q->queued) == 0) {
            buf_release(&q->queued);
            return 0;
        }
    } else if (n != UV_EAGAIN) {
        return n;
    }
    /* The rest goes through uv_write from the other buffer, so appends can
     * continue into `queued` meanwhile; `busy` stays untouched until
     * on_write (libuv points into it). */
    struct buf t = q->busy;
    q->busy = q->queued;
    q->queued = t;
    b = uv_buf_init((char *)buf_head(&q->busy), (unsigned)buf_pending(&q->busy));
    q->req.data = q;
    int rc = uv_write(&q->req, q->stream, &b, 1, on_write);
    if (rc == 0)
        q->writing = true;
    return rc;
}

void wq_free(struct wq *q)
{
    if (q->queued_stat && q->accounted)
        atomic_fetch_sub_explicit(q->queued_stat, (int64_t)q->accounted, memory_order_relaxed);
    q->accounted = 0;
    buf_free(&q->queued);
    buf_free(&q->busy);
}
