/*
 * test_buf_pool.c - connection buffers' block pool (buf.h) and the write
 * queue's giving back (wq.h): what issue 8 relies on for "idle connections
 * hold no buffers" and "no heap allocation per query in steady state".
 *
 *   - a pooled buffer takes a block when it first needs room and gives it
 *     back when emptied; the next buffer reuses it (no malloc);
 *   - the list is bounded, and storage other than one block is freed;
 *   - a buffer with pending bytes keeps its storage;
 *   - a read after a cut packet stays within one block (buf_reserve_read);
 *   - a query's cycle (read, move to cmd, reply queued and written) reaches
 *     a steady state where the pool mallocs nothing;
 *   - a write queue's storage goes back once the kernel took the bytes,
 *     also when the write had to wait (uv_write), and not before;
 *   - the idle check's period (worker_idle_period_ms).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "buf.h"
#include "worker.h"
#include "wq.h"

#define BLOCK 1024u

static void test_take_and_give_back(void **state)
{
    (void)state;
    struct buf_pool p;
    buf_pool_init(&p, BLOCK, 4);
    struct buf a = {.pool = &p};
    assert_int_equal(buf_append(&a, "hello", 5), 0);
    assert_int_equal(a.cap, BLOCK); /* one block, whatever the first need */
    assert_int_equal(p.takes, 1);
    assert_int_equal(p.allocs, 1);
    uint8_t *block = a.data;

    buf_release(&a); /* pending bytes: kept */
    assert_ptr_equal(a.data, block);
    assert_int_equal(p.n, 0);

    buf_consume(&a, 5);
    buf_release(&a);
    assert_null(a.data);
    assert_int_equal(a.cap, 0);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.puts, 1);

    struct buf b = {.pool = &p};
    assert_int_equal(buf_reserve(&b, 10), 0);
    assert_ptr_equal(b.data, block); /* the same block, not a new one */
    assert_int_equal(p.allocs, 1);
    assert_int_equal(p.takes, 2);
    assert_int_equal(p.n, 0);
    buf_free(&b); /* buf_free gives back too */
    assert_int_equal(p.n, 1);
    buf_release(&b); /* nothing held: nothing happens */
    assert_int_equal(p.puts, 2);
    buf_pool_free(&p);
    assert_int_equal(p.n, 0);
    assert_null(p.head);
}

static void test_bounded(void **state)
{
    (void)state;
    struct buf_pool p;
    buf_pool_init(&p, BLOCK, 2);
    struct buf v[3];
    for (int i = 0; i < 3; i++) {
        v[i] = (struct buf){.pool = &p};
        assert_int_equal(buf_reserve(&v[i], 1), 0);
    }
    assert_int_equal(p.allocs, 3);
    for (int i = 0; i < 3; i++)
        buf_release(&v[i]);
    assert_int_equal(p.n, 2); /* the bound */
    assert_int_equal(p.puts, 2);
    assert_int_equal(p.frees, 1);
    buf_pool_free(&p);
}

static void test_big_storage_is_freed(void **state)
{
    (void)state;
    struct buf_pool p;
    buf_pool_init(&p, BLOCK, 4);
    struct buf a = {.pool = &p};
    uint8_t big[3 * BLOCK];
    memset(big, 'x', sizeof big);
    assert_int_equal(buf_append(&a, big, 100), 0);
    assert_int_equal(a.cap, BLOCK);
    /* Growing past a block: plain malloc, the block goes back at once. */
    assert_int_equal(buf_append(&a, big, sizeof big), 0);
    assert_int_equal(a.cap, 4 * BLOCK);
    assert_int_equal(buf_pending(&a), 100 + sizeof big);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.puts, 1);
    buf_consume(&a, buf_pending(&a));
    buf_release(&a);
    assert_null(a.data);
    assert_int_equal(p.n, 1); /* not kept */
    assert_int_equal(p.frees, 1);
    /* A big first need never takes a block either. */
    assert_int_equal(buf_reserve(&a, 2 * BLOCK), 0);
    assert_int_equal(a.cap, 2 * BLOCK);
    assert_int_equal(p.n, 1);
    buf_free(&a);
    assert_int_equal(p.frees, 2);
    buf_pool_free(&p);
}

static void test_unpooled_as_before(void **state)
{
    (void)state;
    struct buf a = {0};
    assert_int_equal(buf_append(&a, "x", 1), 0);
    assert_int_equal(a.cap, 4096);
    buf_consume(&a, 1);
    buf_release(&a);
    assert_null(a.data);
}

static void test_read_after_cut_packet(void **state)
{
    (void)state;
    struct buf_pool p;
    buf_pool_init(&p, BLOCK, 4);
    struct buf in = {.pool = &p};
    assert_int_equal(buf_reserve_read(&in, BLOCK), 0);
    assert_int_equal(in.cap - in.len, BLOCK);
    /* A read filled the block; all but a cut packet's 100 bytes used. */
    memset(in.data, 'a', BLOCK);
    in.len = BLOCK;
    buf_consume(&in, BLOCK - 100);
    uint8_t *block = in.data;
    assert_int_equal(buf_reserve_read(&in, BLOCK), 0);
    assert_ptr_equal(in.data, block); /* moved to the front, same block */
    assert_int_equal(in.off, 0);
    assert_int_equal(buf_pending(&in), 100);
    assert_int_equal(in.data[99], 'a');
    assert_int_equal(in.cap - in.len, BLOCK - 100);
    assert_int_equal(p.allocs, 1);
    /* Over half a block pending (a big packet): the buffer grows. */
    in.len = BLOCK - 10;
    assert_int_equal(buf_reserve_read(&in, BLOCK), 0);
    assert_true(in.cap - in.len >= BLOCK);
    assert_int_equal(buf_pending(&in), BLOCK - 10);
    buf_free(&in);
    buf_pool_free(&p);
}

/* One query as session.c and backend.c handle it: the client's read, the
 * command moved to cmd, the backend's output and read, the reply queued
 * for the client; each buffer given back when done. */
static void one_query(struct buf_pool *p, struct buf_pool *pr, struct buf *in, struct buf *cmd,
                      struct buf *bout, struct buf *bin, struct buf *out)
{
    static const uint8_t q[] = {0x0b, 0,   0,   0,   0x03, 'S', 'E', 'L',
                                'E',  'C', 'T', ' ', '1',  ';', 0};
    assert_int_equal(buf_reserve_read(in, p->block), 0);
    memcpy(in->data + in->len, q, sizeof q);
    in->len += sizeof q;
    assert_int_equal(buf_append(cmd, buf_head(in), buf_pending(in)), 0);
    buf_consume(in, buf_pending(in));
    buf_release(in);
    assert_int_equal(buf_append(bout, buf_head(cmd), buf_pending(cmd)), 0);
    buf_consume(bout, buf_pending(bout)); /* written */
    buf_release(bout);
    assert_int_equal(buf_reserve_read(bin, pr->block), 0);
    memset(bin->data, 1, 300);
    bin->len += 300;
    assert_int_equal(buf_append(out, buf_head(bin), 300), 0);
    buf_consume(bin, 300);
    buf_release(bin);
    buf_consume(out, buf_pending(out)); /* written */
    buf_release(out);
    buf_consume(cmd, buf_pending(cmd)); /* the reply ended */
    buf_release(cmd);
}

static void test_steady_state_allocates_nothing(void **state)
{
    (void)state;
    struct buf_pool p, pr;
    buf_pool_init(&p, WORKER_POOL_BLOCK, WORKER_POOL_BLOCKS);
    buf_pool_init(&pr, WORKER_POOL_READ_BLOCK, WORKER_POOL_READ_BLOCKS);
    enum { SESSIONS = 8 };
    struct buf in[SESSIONS], cmd[SESSIONS], bout[SESSIONS], bin[SESSIONS], out[SESSIONS];
    for (int i = 0; i < SESSIONS; i++) {
        in[i] = cmd[i] = bout[i] = out[i] = (struct buf){.pool = &p};
        bin[i] = (struct buf){.pool = &pr};
    }
    for (int i = 0; i < SESSIONS; i++)
        one_query(&p, &pr, &in[i], &cmd[i], &bout[i], &bin[i], &out[i]);
    uint64_t allocs = p.allocs, allocs_read = pr.allocs, takes = p.takes;
    for (int round = 0; round < 1000; round++)
        for (int i = 0; i < SESSIONS; i++)
            one_query(&p, &pr, &in[i], &cmd[i], &bout[i], &bin[i], &out[i]);
    assert_int_equal(p.allocs, allocs);
    assert_int_equal(pr.allocs, allocs_read);
    assert_true(p.takes >= takes + 1000u * SESSIONS * 4u);
    assert_int_equal(p.frees, 0);
    /* Between queries nothing is held. */
    for (int i = 0; i < SESSIONS; i++) {
        assert_null(in[i].data);
        assert_null(cmd[i].data);
        assert_null(bout[i].data);
        assert_null(bin[i].data);
        assert_null(out[i].data);
    }
    buf_pool_free(&p);
    buf_pool_free(&pr);
}

/* ---- the write queue ---- */

struct wq_fixture {
    uv_loop_t loop;
    uv_pipe_t pipe;
    int peer; /* the other end of the socket pair */
    struct buf_pool pool;
    struct wq q;
    int done, status;
};

static void on_done(struct wq *q, int status)
{
    struct wq_fixture *f = q->data;
    f->done++;
    f->status = status;
}

static void fixture_open(struct wq_fixture *f)
{
    memset(f, 0, sizeof *f);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    f->peer = sv[1];
    int small = 4096; /* fills quickly: the uv_write path */
    assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(uv_pipe_init(&f->loop, &f->pipe, 0), 0);
    assert_int_equal(uv_pipe_open(&f->pipe, sv[0]), 0);
    buf_pool_init(&f->pool, BLOCK * 4, 4);
    wq_init(&f->q, (uv_stream_t *)&f->pipe, &f->pool, on_done, f);
}

static void fixture_close(struct wq_fixture *f)
{
    uv_close((uv_handle_t *)&f->pipe, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    wq_free(&f->q);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    close(f->peer);
    buf_pool_free(&f->pool);
}

static size_t drain_peer(int fd)
{
    uint8_t sink[65536];
    size_t total = 0;
    for (;;) {
        ssize_t n = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n <= 0)
            return total;
        total += (size_t)n;
    }
}

static void test_wq_gives_back_after_write(void **state)
{
    (void)state;
    struct wq_fixture f;
    fixture_open(&f);
    assert_int_equal(buf_append(wq_buf(&f.q), "reply", 5), 0);
    assert_non_null(f.q.queued.data);
    assert_int_equal(wq_flush(&f.q), 0); /* the socket takes it at once */
    assert_int_equal(wq_size(&f.q), 0);
    assert_null(f.q.queued.data);
    assert_null(f.q.busy.data);
    assert_int_equal(f.pool.n, 1);
    assert_int_equal(f.q.sent, 5);
    assert_int_equal(drain_peer(f.peer), 5);
    /* The next reply reuses the block. */
    assert_int_equal(buf_append(wq_buf(&f.q), "again", 5), 0);
    assert_int_equal(f.pool.allocs, 1);
    assert_int_equal(wq_flush(&f.q), 0);
    assert_null(f.q.queued.data);
    /* Reserved room but nothing queued: wq_trim gives it back. */
    assert_int_equal(buf_reserve(wq_buf(&f.q), 10), 0);
    wq_trim(&f.q);
    assert_null(f.q.queued.data);
    drain_peer(f.peer);
    fixture_close(&f);
}

static void test_wq_keeps_until_written(void **state)
{
    (void)state;
    struct wq_fixture f;
    fixture_open(&f);
    /* More than the socket takes: the rest waits in `busy` for uv_write. */
    uint8_t chunk[BLOCK * 4];
    memset(chunk, 'r', sizeof chunk);
    size_t queued = 0;
    for (int i = 0; i < 64 && !f.q.writing; i++) {
        assert_int_equal(buf_append(wq_buf(&f.q), chunk, sizeof chunk), 0);
        queued += sizeof chunk;
        assert_int_equal(wq_flush(&f.q), 0);
    }
    assert_true(f.q.writing);
    assert_non_null(f.q.busy.data); /* libuv points into it */
    assert_true(wq_size(&f.q) > 0);
    wq_trim(&f.q); /* nothing queued behind the write: no effect on busy */
    assert_non_null(f.q.busy.data);
    /* The peer reads; the write completes and its storage goes back. */
    size_t got = 0;
    while (f.done == 0) {
        got += drain_peer(f.peer);
        uv_run(&f.loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(f.status, 0);
    assert_false(f.q.writing);
    assert_int_equal(wq_size(&f.q), 0);
    assert_null(f.q.busy.data);
    assert_null(f.q.queued.data);
    got += drain_peer(f.peer);
    assert_int_equal(got, queued);
    assert_int_equal(f.q.sent, queued);
    fixture_close(&f);
}

static void test_idle_period(void **state)
{
    (void)state;
    assert_int_equal(worker_idle_period_ms(1000), 100);
    assert_int_equal(worker_idle_period_ms(28800000), 1000); /* the default: 1 s */
    assert_int_equal(worker_idle_period_ms(10000), 1000);
    assert_int_equal(worker_idle_period_ms(50), 10);
    assert_int_equal(worker_idle_period_ms(0), 1000); /* no timeout: the buffer check only */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_and_give_back),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_big_storage_is_freed),
        cmocka_unit_test(test_unpooled_as_before),
        cmocka_unit_test(test_read_after_cut_packet),
        cmocka_unit_test(test_steady_state_allocates_nothing),
        cmocka_unit_test(test_wq_gives_back_after_write),
        cmocka_unit_test(test_wq_keeps_until_written),
        cmocka_unit_test(test_idle_period),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
