/*
 * worker.c - worker threads, their loops and listeners (worker.h).
 *
 * Listeners: each worker opens its own socket per configured listener with
 * SO_REUSEPORT and the kernel balances new connections between them (libuv
 * 1.44 has no UV_TCP_REUSEPORT, so the socket is made here and handed to
 * uv_tcp_open). Draining (SIGTERM): listeners close at once, idle sessions
 * close, busy ones close when their reply ends, and a timer bounds the wait.
 */
#include "worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "session.h"

/* How long in-flight statements may run after SIGTERM before their
 * sessions are closed anyway. */
#define DRAIN_BOUND_MS 10000

/* reuseport: share the port with the other workers' sockets. Without it,
 * bind fails when anything listens there already: worker 0 checks that
 * first, so a second gtidproxy on the same port fails to start instead of
 * silently taking half the connections (SO_REUSEPORT would let it). */
static int listen_socket(const char *address, uint16_t port, bool reuseport, char *err,
                         size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    int family;
    if (strchr(address, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET6, address, &a6->sin6_addr) != 1)
            goto bad;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        family = AF_INET6;
        sl = sizeof *a6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        if (inet_pton(AF_INET, address, &a4->sin_addr) != 1)
            goto bad;
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        family = AF_INET;
        sl = sizeof *a4;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
        bind(fd, (struct sockaddr *)&ss, sl) != 0) {
        snprintf(err, errlen, "listen on %s:%u: %s", address, port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
bad:
    snprintf(err, errlen, "listen address '%s' is not an IP address", address);
    return -1;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct worker *w = server->loop->data;
    if (status < 0) {
        log_warn("w%u accept: %s", w->idx, uv_strerror(status));
        return;
    }
    size_t li = (size_t)(uintptr_t)server->data;
    session_accept(w, server, li);
}

static void on_call(uv_async_t *a);

int worker_init(struct worker *w, unsigned idx, struct proxy *px)
{
    memset(w, 0, sizeof *w);
    w->idx = idx;
    w->px = px;
    buf_pool_init(&w->pool, WORKER_POOL_BLOCK, WORKER_POOL_BLOCKS);
    buf_pool_init(&w->pool_read, WORKER_POOL_READ_BLOCK, WORKER_POOL_READ_BLOCKS);
    if (uv_loop_init(&w->loop) != 0) {
        snprintf(w->err, sizeof w->err, "uv_loop_init failed");
        return -1;
    }
    w->loop.data = w;
    if (query_match_init(&w->qmatch) != 0 || query_memo_init(&w->qmemo, WORKER_RULE_MEMO) != 0) {
        snprintf(w->err, sizeof w->err, "out of memory (query rules)");
        return -1;
    }
    uv_mutex_init(&w->calls_lock);
    uv_cond_init(&w->calls_cond);
    /* Here, not in worker_start: the admin port may call before the
     * thread runs (the call then waits for the loop). */
    uv_async_init(&w->loop, &w->call, on_call);
    w->call.data = w;
    uv_unref((uv_handle_t *)&w->call);
    const struct config *cfg = proxy_snap(px)->cfg;
    w->listeners = calloc(cfg->n_listeners, sizeof *w->listeners);
    if (!w->listeners) {
        snprintf(w->err, sizeof w->err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        const struct config_listener *l = &cfg->listeners[i];
        if (idx == 0) {
            int probe = listen_socket(l->address, l->port, false, w->err, sizeof w->err);
            if (probe < 0)
                return -1;
            close(probe);
        }
        int fd = listen_socket(l->address, l->port, true, w->err, sizeof w->err);
        if (fd < 0)
            return -1;
        uv_tcp_init(&w->loop, &w->listeners[i]);
        w->n_listeners++;
        w->listeners[i].data = (void *)(uintptr_t)i;
        int rc = uv_tcp_open(&w->listeners[i], fd);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)&w->listeners[i], 1024, on_connection);
        if (rc != 0) {
            snprintf(w->err, sizeof w->err, "listen on %s:%u: %s", l->address, l->port,
                     uv_strerror(rc));
            return -1;
        }
    }
    return 0;
}

const char *wroute_name(enum wroute r)
{
    switch (r) {
#define WROUTE_CASE(name, text)                                                                    \
    case name:                                                                                     \
        return text;
        WROUTE_LIST(WROUTE_CASE)
#undef WROUTE_CASE
    case WROUTE_N:
        break;
    }
    return "?";
}

static void on_drain_timeout(uv_timer_t *t)
{
    struct worker *w = t->data;
    if (w->n_sessions)
        log_warn("w%u shutdown: closing %u session(s) still busy after %d ms", w->idx,
                 w->n_sessions, DRAIN_BOUND_MS);
    for (struct session *s = w->sessions; s;) {
        struct session *next = session_next(s);
        session_close(s, false, "proxy shutting down");
        s = next;
    }
    uv_close((uv_handle_t *)t, NULL);
}

static void begin_drain(struct worker *w)
{
    if (w->draining)
        return;
    w->draining = true;
    for (size_t i = 0; i < w->n_listeners; i++)
        uv_close((uv_handle_t *)&w->listeners[i], NULL);
    uv_close((uv_handle_t *)&w->wake, NULL);
    for (struct session *s = w->sessions; s;) {
        struct session *next = session_next(s);
        session_drain(s);
        s = next;
    }
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    uv_timer_start(&w->drain_timer, on_drain_timeout, DRAIN_BOUND_MS, 0);
    uv_unref((uv_handle_t *)&w->drain_timer); /* the loop ends when sessions are gone */
}

uint64_t worker_idle_period_ms(unsigned timeout_ms)
{
    uint64_t p = timeout_ms ? timeout_ms / 10u : 1000u;
    if (p > 1000u)
        p = 1000u;
    if (p < 10u)
        p = 10u;
    return p;
}

/* Every idle_period_ms: sessions idle past their timeout close (and any
 * buffer an idle session still holds goes back). The period follows the
 * configuration in force (a reload that changes client_idle_ms takes
 * effect at the next check). */
static void on_idle_check(uv_timer_t *t)
{
    struct worker *w = t->data;
    uint64_t now = uv_now(&w->loop);
    for (struct session *s = w->sessions, *next; s; s = next) {
        next = session_next(s);
        session_idle_check(s, now);
    }
    uint64_t p = worker_idle_period_ms(proxy_snap(w->px)->cfg->client_idle_timeout_ms);
    if (p != w->idle_period_ms) {
        w->idle_period_ms = p;
        uv_timer_start(t, on_idle_check, p, p);
    }
}

static void on_wake(uv_async_t *a)
{
    struct worker *w = a->data;
    if (atomic_load(&w->px->draining))
        begin_drain(w);
    /* Strong look-ups answered: sessions waiting for one go on. The list is
     * walked only on a wake (rare next to queries). */
    for (struct session *s = w->sessions, *next; s; s = next) {
        next = session_next(s);
        session_strong_ready(s);
    }
}

/* Runs the queued calls, or refuses them once the loop has ended. */
static void finish_calls(struct worker *w, bool run)
{
    uv_mutex_lock(&w->calls_lock);
    struct worker_call *c = w->calls;
    w->calls = NULL;
    if (!run)
        w->stopped = true;
    uv_mutex_unlock(&w->calls_lock);
    while (c) {
        struct worker_call *next = c->next; /* c is the caller's: gone once done */
        if (run)
            c->fn(w, c->arg);
        uv_mutex_lock(&w->calls_lock);
        c->rc = run ? 0 : -1;
        c->done = true;
        uv_cond_broadcast(&w->calls_cond);
        uv_mutex_unlock(&w->calls_lock);
        c = next;
    }
}

static void on_call(uv_async_t *a)
{
    finish_calls(a->data, true);
}

int worker_call(struct worker *w, void (*fn)(struct worker *w, void *arg), void *arg)
{
    struct worker_call c = {.fn = fn, .arg = arg};
    uv_mutex_lock(&w->calls_lock);
    if (w->stopped) {
        uv_mutex_unlock(&w->calls_lock);
        return -1;
    }
    c.next = w->calls;
    w->calls = &c;
    /* Sent under the lock: while `stopped` is false the thread has not
     * ended, so worker_join() has not closed the handle yet. */
    uv_async_send(&w->call);
    while (!c.done)
        uv_cond_wait(&w->calls_cond, &w->calls_lock);
    uv_mutex_unlock(&w->calls_lock);
    return c.rc;
}

static void worker_main(void *arg)
{
    struct worker *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    finish_calls(w, false);
}

int worker_start(struct worker *w)
{
    uv_async_init(&w->loop, &w->wake, on_wake);
    w->wake.data = w;
    uv_timer_init(&w->loop, &w->idle_timer);
    w->idle_timer.data = w;
    w->idle_period_ms = worker_idle_period_ms(proxy_snap(w->px)->cfg->client_idle_timeout_ms);
    uv_timer_start(&w->idle_timer, on_idle_check, w->idle_period_ms, w->idle_period_ms);
    uv_unref((uv_handle_t *)&w->idle_timer); /* never keeps the loop alive */

    if (uv_thread_create(&w->thread, worker_main, w) != 0) {
        snprintf(w->err, sizeof w->err, "cannot start thread");
        return -1;
    }
    return 0;
}

void worker_wake(struct worker *w)
{
    uv_async_send(&w->wake);
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void worker_join(struct worker *w)
{
    uv_thread_join(&w->thread);
    /* Handles left only when start-up failed half-way. */
    uv_walk(&w->loop, close_any, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&w->loop) != 0)
        log_warn("w%u: loop closed with handles open", w->idx);
    free(w->listeners);
    buf_pool_free(&w->pool);
    buf_pool_free(&w->pool_read);
    query_memo_free(&w->qmemo);
    query_match_free(&w->qmatch);
    uv_cond_destroy(&w->calls_cond);
    uv_mutex_destroy(&w->calls_lock);
}

void worker__session_add(struct worker *w, struct session *s)
{
    session__link(s, &w->sessions);
    w->n_sessions++;
}

void worker__session_remove(struct worker *w, struct session *s)
{
    session__unlink(s, &w->sessions);
    w->n_sessions--;
}
