/*
 * session.c - client connections (session.h): login, command dispatch,
 * routing, and the client half of the relay.
 *
 *   client ──bytes──▶ in ──whole packet──▶ dispatch ──▶ router ──▶ bconn (lazy open,
 *      ▲                                                          sync schema/vars,
 *      └──────────── out (wq) ◀──── reply relayed by backend.c ◀── send command)
 *
 * A command is taken from `in` only when it is complete (all its chunks),
 * so the classifier sees the whole text and a retry can resend it; commands
 * a client pipelines stay in `in` until the current reply is done.
 *
 * Buffers (issue 8: an idle session holds none): `in`, `cmd` and `out` take
 * blocks from the worker's pool (buf.h) when bytes arrive or leave, and
 * give them back as soon as nothing refers to them (trim_buffers()):
 *   in   a read's block, kept only while it holds a partial packet or
 *        pipelined commands; every use of a pointer into it (login packet,
 *        command copy, LOCAL INFILE forwarding) ends before the bytes are
 *        consumed, and on_alloc hands libuv room that on_read fills at once;
 *   cmd  the command in flight, read again while it is routed, waits at the
 *        gate, is re-prepared, retried or answered (PREPARE_OK): kept until
 *        the session is IDLE again and dispatch() has returned;
 *   out  given back by wq.c when a write drained it (libuv is done with
 *        the bytes); the proxy's own answers build into it synchronously.
 * pending_ok (the login OK held while the database is checked) and the
 * result cache's key/reply buffers are not pooled.
 */
#include "session.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "gtidproxy/classify.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_handshake.h"
#include "gtidproxy/proto_stmt.h"
#include "log.h"
#include "proxy.h"
#include "session_int.h"
#include "worker.h"

/* A backend that refused a connection gets no reads for this long. */
#define BACKEND_RETRY_AFTER_MS 2000
/* Each read asks for this much room: one block of the worker's pool. */
#define SESS_READ_SIZE WORKER_POOL_BLOCK

const char *sess_state_name(enum sess_state s)
{
    static const char *const names[] = {
#define SESS_STATE_NAME(name, text) text,
        SESS_STATE_LIST(SESS_STATE_NAME)
#undef SESS_STATE_NAME
    };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static struct proxy *px_of(struct session *s)
{
    return s->w->px;
}

static const struct config *cfg_of(struct session *s)
{
    return s->snap->cfg;
}

static void process_input(struct session *s);

/* ------------------------------------------------------------ list --- */

void session__link(struct session *s, struct session **head)
{
    s->prev = NULL;
    s->next = *head;
    if (*head)
        (*head)->prev = s;
    *head = s;
}

void session__unlink(struct session *s, struct session **head)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        *head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

struct session *session_next(struct session *s)
{
    return s->next;
}

/* ----------------------------------------------------------- close --- */

static void on_handle_closed(uv_handle_t *h)
{
    struct session *s = h->data;
    if (--s->open_handles > 0)
        return;
    if (s->counted)
        atomic_fetch_sub(&px_of(s)->clients, 1);
    worker__session_remove(s->w, s);
    cauth_release(&s->auth);
    buf_free(&s->in);
    buf_free(&s->cmd);
    buf_free(&s->pending_ok);
    wq_free(&s->out);
    svars_free(&s->want);
    pstmt_map_free(&s->stmts);
    session__gate_free(s);
    session__cache_free(s);
    free(s->be);
    free(s);
}

static void close_backends(struct session *s)
{
    for (size_t i = 0; i < s->n_be; i++)
        if (s->be[i]) {
            bconn_close(s->be[i]);
            s->be[i] = NULL;
        }
    s->cur = s->last = s->trx = NULL;
}

static void close_handles(struct session *s)
{
    uv_close((uv_handle_t *)&s->timer, on_handle_closed);
    uv_close((uv_handle_t *)&s->tcp, on_handle_closed);
}

void session_close(struct session *s, bool flush, const char *fmt, ...)
{
    if (s->state == SESS_CLOSING)
        return;
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    log_info("C#%u %s@%s [%s] closed: %s", s->id, s->auth.login.user[0] ? s->auth.login.user : "-",
             s->peer, sess_state_name(s->state), why);
    s->state = SESS_CLOSING;
    close_backends(s);
    uv_read_stop((uv_stream_t *)&s->tcp);
    uv_timer_stop(&s->timer);
    if (flush && wq_size(&s->out) > 0 && wq_flush(&s->out) == 0 && wq_size(&s->out) > 0) {
        s->close_after_write = true; /* the ERR goes out first */
        return;
    }
    close_handles(s);
}

void session_drain(struct session *s)
{
    s->draining = true;
    if (s->state == SESS_IDLE || s->state == SESS_LOGIN)
        session_close(s, false, "proxy shutting down");
}

/* ---------------------------------------------------------- output --- */

struct buf *session_client_out(struct session *s)
{
    return wq_buf(&s->out);
}

uint64_t session_client_caps(const struct session *s)
{
    return s->caps;
}

/* Over its own high water, or holding bytes while all sessions together
 * hold more than limits.max_buffered_bytes. A session whose client has
 * taken everything is never held back, so every session whose client
 * reads makes progress and the total shrinks. */
bool session_client_full(const struct session *s)
{
    const struct config *cfg = s->snap->cfg;
    size_t queued = wq_size(&s->out);
    if (queued >= cfg->buffer_high_water)
        return true;
    return queued > 0 && cfg->max_buffered_bytes > 0 &&
           atomic_load_explicit(&s->w->px->client_queued, memory_order_relaxed) >
               (int64_t)cfg->max_buffered_bytes;
}

/* Closes after a socket error; a peer that went away is said so plainly. */
static void client_io_failed(struct session *s, const char *op, int rc)
{
    if (rc == UV_ECONNRESET || rc == UV_EPIPE)
        session_close(s, false, "client disconnected (%s)", uv_strerror(rc));
    else
        session_close(s, false, "%s client: %s", op, uv_strerror(rc));
}

void session_flush(struct session *s)
{
    if (s->state == SESS_CLOSING)
        return;
    int rc = wq_flush(&s->out);
    if (rc < 0)
        client_io_failed(s, "write to", rc);
}

static void on_client_written(struct wq *q, int status)
{
    struct session *s = q->data;
    if (s->close_after_write) {
        if (status < 0 || wq_size(&s->out) == 0) {
            s->close_after_write = false;
            close_handles(s);
        }
        return;
    }
    if (s->state == SESS_CLOSING)
        return;
    if (status < 0) {
        client_io_failed(s, "write to", status);
        return;
    }
    if (s->cur && s->cur->read_paused && !session_client_full(s))
        bconn_resume(s->cur);
}

/* Queues an ERR for the current command (sequence id = command's + 1). */
void session__reply_error(struct session *s, enum gp_error e, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_debug("C#%u error %u: %s", s->id, gp_error_code(e), msg);
    if (gp_err_append(wq_buf(&s->out), s->caps, (uint8_t)(s->cmd_last_seq + 1), e, "%s", msg) !=
        0) {
        session_close(s, false, "out of memory");
        return;
    }
    session_flush(s);
}

/* ----------------------------------------------------------- input --- */

static void idle_from_now(struct session *s);

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    (void)suggested;
    struct session *s = h->data;
    if (buf_reserve_read(&s->in, SESS_READ_SIZE) != 0) {
        *out = uv_buf_init(NULL, 0);
        return;
    }
    *out = uv_buf_init((char *)s->in.data + s->in.len, (unsigned)(s->in.cap - s->in.len));
}

static void pause_reading(struct session *s)
{
    if (!s->read_paused) {
        uv_read_stop((uv_stream_t *)&s->tcp);
        s->read_paused = true;
    }
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *ub);

static void resume_reading(struct session *s)
{
    if (s->read_paused && s->state != SESS_CLOSING) {
        s->read_paused = false;
        int rc = uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
        if (rc < 0)
            session_close(s, false, "read from client: %s", uv_strerror(rc));
    }
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *ub)
{
    (void)ub;
    struct session *s = st->data;
    if (s->state == SESS_CLOSING)
        return;
    if (nread == 0) { /* EAGAIN: the room on_alloc took was not used */
        buf_release(&s->in);
        return;
    }
    if (nread < 0) {
        if (nread != UV_EOF)
            client_io_failed(s, "read from", (int)nread);
        else if (buf_pending(&s->in))
            session_close(s, false, "client disconnected mid-packet (%zu bytes of it sent)",
                          buf_pending(&s->in));
        else if (s->state == SESS_LOGIN || s->state == SESS_LOGIN_DB)
            session_close(s, false, "client disconnected during login");
        else
            session_close(s, false, "client disconnected");
        /* Closing: nothing reads `in` again. Given back now, not when the
         * handles have closed, so that clients leaving together do not
         * each hold the block their last read took. */
        buf_free(&s->in);
        return;
    }
    s->in.len += (size_t)nread;
    s->bytes_in += (uint64_t)nread;
    worker_stat_add(&s->w->st.bytes_in, (uint64_t)nread);
    process_input(s);
}

/*
 * Finds one whole logical packet at the head of `in`. Returns 1 (wire
 * bytes, payload length, first and last sequence ids set), 0 (more bytes
 * needed), or -1 after closing the session (too large / out of order).
 * `expect` is the sequence id the first chunk must carry, or -1 for any.
 */
static int whole_packet(struct session *s, int expect, size_t *wire, uint64_t *len,
                        uint8_t *first_seq, uint8_t *last_seq)
{
    const uint8_t *p = buf_head(&s->in);
    size_t n = buf_pending(&s->in), off = 0;
    uint64_t total = 0;
    uint32_t max = cfg_of(s)->max_packet_size;
    for (int chunk = 0;; chunk++) {
        if (n - off < PROTO_FRAME_HDR_LEN)
            return 0;
        struct proto_frame_hdr h;
        (void)proto_frame_hdr_parse(p + off, n - off, &h);
        uint8_t want = chunk == 0 ? (uint8_t)expect : (uint8_t)(*last_seq + 1);
        if ((chunk > 0 || expect >= 0) && h.seq != want) {
            /* What a server says, then the connection closes. */
            if (gp_err_append(wq_buf(&s->out), s->caps, (uint8_t)(h.seq + 1),
                              GP_ER_NET_PACKETS_OUT_OF_ORDER, "Got packets out of order") != 0)
                session_close(s, false, "out of memory");
            else
                session_close(s, true, "packet out of order: sequence id %u, expected %u", h.seq,
                              want);
            return -1;
        }
        if (chunk == 0)
            *first_seq = h.seq;
        *last_seq = h.seq;
        total += h.len;
        if (total > max) {
            if (gp_err_append(wq_buf(&s->out), s->caps, (uint8_t)(h.seq + 1),
                              GP_ER_NET_PACKET_TOO_LARGE,
                              "Got a packet bigger than 'max_allowed_packet' bytes") != 0)
                session_close(s, false, "out of memory");
            else
                session_close(s, true, "packet of %llu+ bytes exceeds max_packet_size (%u bytes)",
                              (unsigned long long)total, max);
            return -1;
        }
        if (n - off - PROTO_FRAME_HDR_LEN < h.len)
            return 0;
        off += PROTO_FRAME_HDR_LEN + h.len;
        if (!proto_frame_continues(h.len))
            break;
    }
    *wire = off;
    *len = total;
    return 1;
}

/* ----------------------------------------------------------- login --- */

static void login_done(struct session *s)
{
    if (buf_append(wq_buf(&s->out), buf_head(&s->pending_ok), buf_pending(&s->pending_ok)) != 0) {
        session_close(s, false, "out of memory");
        return;
    }
    buf_consume(&s->pending_ok, buf_pending(&s->pending_ok));
    buf_release(&s->pending_ok);
    s->state = SESS_IDLE;
    log_debug("C#%u %s@%s logged in (db '%s', caps 0x%llx)", s->id, s->auth.login.user, s->peer,
              s->auth.login.database, (unsigned long long)s->caps);
    session_flush(s);
    idle_from_now(s);
}

/* A login (or COM_CHANGE_USER) succeeded: adopt its user, schema and
 * charset; a named database is checked on the primary before the OK goes
 * out, so a missing one fails the login as a server would fail it. */
static void login_ok(struct session *s, const uint8_t *ok, size_t n)
{
    const struct cauth_login *l = &s->auth.login;
    s->caps = l->caps;
    s->charset = l->charset;
    close_backends(s);
    svars_reset(&s->want, false);
    pstmt_map_clear(&s->stmts);
    s->route = (struct route_state){0};
    session__gate_login(s);
    if (buf_append(&s->pending_ok, ok, n) != 0) {
        session_close(s, false, "out of memory");
        return;
    }
    if (!l->database[0]) {
        login_done(s);
        return;
    }
    struct proto_str db = {(const uint8_t *)l->database, strlen(l->database)};
    if (svars_set_schema(&s->want, db) != 0) {
        session_close(s, false, "out of memory");
        return;
    }
    s->state = SESS_LOGIN_DB;
    s->cmd_target = proxy_primary(px_of(s));
    s->be[s->cmd_target] = bconn_open(s, s->cmd_target);
    if (!s->be[s->cmd_target])
        session_close(s, false, "out of memory");
}

static void login_packet(struct session *s)
{
    size_t wire;
    uint64_t len;
    uint8_t first, last;
    int rc = whole_packet(s, s->auth.next_seq, &wire, &len, &first, &last);
    if (rc <= 0)
        return;
    if (wire != len + PROTO_FRAME_HDR_LEN) {
        session_close(s, false, "bad handshake: a login packet over 16 MB");
        return;
    }
    uint8_t out[1024];
    struct proto_wr w;
    proto_wr_init(&w, out, sizeof out);
    enum cauth_result r =
        cauth_feed(&s->auth, first, buf_head(&s->in) + PROTO_FRAME_HDR_LEN, (size_t)len, &w);
    buf_consume(&s->in, wire);
    switch (r) {
    case CAUTH_SEND:
        if (buf_append(wq_buf(&s->out), out, w.len) != 0)
            session_close(s, false, "out of memory");
        else
            session_flush(s);
        return;
    case CAUTH_OK:
        login_ok(s, out, w.len);
        return;
    case CAUTH_DENIED:
    case CAUTH_BAD:
        if (buf_append(wq_buf(&s->out), out, w.len) != 0) {
            session_close(s, false, "out of memory");
            return;
        }
        if (r == CAUTH_BAD)
            session_close(s, true, "bad handshake: %s", s->auth.why);
        else
            session_close(s, true, "%s", s->auth.why);
        return;
    }
}

/* ---------------------------------------------------------- routing --- */

/* Backends the current command already failed on (CONFIG_MAX_BACKENDS
 * bits). */
bool session__was_tried(const struct session *s, size_t idx)
{
    return (s->tried >> idx) & 1u;
}

void session__mark_tried(struct session *s, size_t idx)
{
    s->tried |= UINT64_C(1) << idx;
}

/* Sends the command to its backend once that connection is ready and has
 * the session's schema and variables. */
void session__proceed(struct session *s, struct bconn *b)
{
    if (b->synced_gen != s->want.gen) {
        if (svars_schema_differs(&s->want, &b->have)) {
            if (bconn_send_internal(b, PROTO_COM_INIT_DB, s->want.schema, strlen(s->want.schema)) !=
                0) {
                session__reply_error(s, GP_ER_OUT_OF_MEMORY, "out of memory");
                session__command_answered(s);
            }
            return;
        }
        struct buf sql = {0};
        int nvars = svars_sync_sql(&s->want, &b->have, "SET ", &sql);
        if (nvars > 0) {
            log_debug("C#%u sync %s: %.*s", s->id, px_of(s)->backends[b->idx].name,
                      (int)buf_pending(&sql), (const char *)buf_head(&sql));
            int rc = bconn_send_internal(b, PROTO_COM_QUERY, (const char *)buf_head(&sql),
                                         buf_pending(&sql));
            buf_free(&sql);
            if (rc != 0) {
                session__reply_error(s, GP_ER_OUT_OF_MEMORY, "out of memory");
                session__command_answered(s);
            }
            return;
        }
        buf_free(&sql);
        b->synced_gen = s->want.gen;
    }
    if (s->cmd_stmt) {
        int st = session__stmt_on_backend(s, b);
        if (st != 0) {
            if (st < 0)
                session__command_answered(s);
            return;
        }
    }
    session__cache_sending(s, b);
    int gw = session__gate_before_send(s, b);
    if (gw != 0) {
        if (gw < 0) {
            s->g.active = false;
            s->g.phase = GPH_NONE;
            session__command_answered(s);
        }
        return;
    }
    /* Decided at send time: a promotion followed meanwhile must not drop
     * the GTID this server commits (session__track_write). */
    b->to_primary = b->idx == proxy_primary(px_of(s));
    int rc = bconn_send_command(b, buf_head(&s->cmd), s->cmd_wire, s->cmd_com, s->cmd_last_seq);
    if (rc < 0) {
        session__reply_error(s, GP_ER_UNSUPPORTED, "gtidproxy: %s is not supported",
                             proto_com_name(s->cmd_com));
        session__command_answered(s);
        return;
    }
    session__count_route(s, b);
    if (rc == 1) { /* no reply expected: the next pipelined command may go */
        session__command_answered(s);
        return;
    }
    s->cur = b;
    s->state = SESS_RUNNING;
}

void session__count_route(struct session *s, const struct bconn *b)
{
    if (s->cmd_counted)
        return;
    s->cmd_counted = true;
    struct worker *w = s->w;
    if (!b) {
        worker_stat_add(&w->st.queries[WROUTE_PROXY], 1);
        return;
    }
    struct backend_info *bi = &px_of(s)->backends[b->idx];
    worker_stat_add(
        &w->st.queries[b->idx == proxy_primary(px_of(s)) ? WROUTE_PRIMARY : WROUTE_REPLICA], 1);
    if (s->cmd_read)
        atomic_fetch_add_explicit(&bi->reads, 1, memory_order_relaxed);
}

/* Starts (or continues) the current command on backend idx. */
void session__run_on(struct session *s, size_t idx)
{
    struct proxy *px = px_of(s);
    if (atomic_load_explicit(&px->writes_refused, memory_order_acquire) &&
        idx == proxy_primary(px)) {
        /* Not sent anywhere: the statement did not run (a gate that fell
         * back to the primary ends here too). */
        struct mon_topology t;
        monitor_topology(&px->mon, &t);
        s->g.active = false;
        s->g.phase = GPH_NONE;
        session__count_route(s, NULL);
        s->state = SESS_IDLE;
        /* A server answers no COM_STMT_SEND_LONG_DATA, not even with an
         * error: the EXECUTE that follows goes to the same backend and is
         * refused instead. */
        if (s->cmd_com != PROTO_COM_STMT_SEND_LONG_DATA)
            session__reply_error(s, GP_ER_TWO_PRIMARIES, "gtidproxy: refused: %s", t.why);
        else if (s->cmd_stmt)
            s->cmd_stmt->long_data_lost = true;
        session__command_answered(s);
        return;
    }
    s->cmd_target = idx;
    s->state = SESS_WAIT_BACKEND;
    struct bconn *b = s->be[idx];
    if (!b) {
        b = s->be[idx] = bconn_open(s, idx);
        if (!b) {
            session__reply_error(s, GP_ER_OUT_OF_MEMORY, "out of memory");
            session__command_answered(s);
            return;
        }
    }
    if (b->state == BCONN_IDLE)
        session__proceed(s, b);
}

void session_backend_ready(struct session *s, struct bconn *b)
{
    if (s->post_sync && s->state == SESS_WAIT_BACKEND && s->cmd_target == b->idx) {
        s->post_sync = false;
        s->state = SESS_IDLE;
        idle_from_now(s);
        process_input(s);
        return;
    }
    if (s->state == SESS_LOGIN_DB) {
        login_done(s);
        process_input(s);
        return;
    }
    if (s->state == SESS_WAIT_BACKEND && s->be[s->cmd_target] == b) {
        if (s->cmd_stmt && b->internal_com == PROTO_COM_STMT_PREPARE) {
            pstmt_set_srv(s->cmd_stmt, b->idx, b->serial, b->prepared_id);
            b->internal_com = 0;
        }
        session__proceed(s, b);
    }
}

static void forget_backend(struct session *s, struct bconn *b)
{
    if (s->be[b->idx] == b)
        s->be[b->idx] = NULL;
    if (s->last == b)
        s->last = NULL;
    if (s->cur == b)
        s->cur = NULL;
    if (s->trx == b) {
        s->trx = NULL;
        if (s->route.in_trx)
            s->trx_lost = px_of(s)->backends[b->idx].name;
    }
}

void session_backend_closed(struct session *s, struct bconn *b)
{
    forget_backend(s, b);
}

void session__drop_backend(struct session *s, struct bconn *b)
{
    forget_backend(s, b);
    bconn_close(b);
}

void session__command_answered(struct session *s)
{
    if (s->state == SESS_CLOSING)
        return;
    session__cache_drop(s);
    s->state = SESS_IDLE;
    if (s->dispatching)
        return; /* next_command() goes on with the next one */
    if (s->draining) {
        session_close(s, true, "proxy shutting down");
        return;
    }
    idle_from_now(s);
    process_input(s);
}

void session_strong_ready(struct session *s)
{
    session__gate_strong_ready(s);
}

void session_backend_failed(struct session *s, struct bconn *b, int gp_err, const char *why)
{
    struct proxy *px = px_of(s);
    const char *name = px->backends[b->idx].name;
    bool current = (s->state == SESS_WAIT_BACKEND && s->cmd_target == b->idx) ||
                   (s->state == SESS_RUNNING && s->cur == b) ||
                   (s->state == SESS_LOGIN_DB && s->cmd_target == b->idx);
    uint64_t forwarded = b->forwarded;
    bool was_busy = s->state == SESS_RUNNING && s->cur == b;
    forget_backend(s, b);
    if (s->post_sync && current) {
        /* The statement was answered; only the collation refresh failed. */
        s->post_sync = false;
        s->state = SESS_IDLE;
        process_input(s);
        return;
    }
    if (gp_err == GP_ER_BACKEND_CONNECT) {
        atomic_store(&px->backends[b->idx].down_until_ms, proxy_now_ms() + BACKEND_RETRY_AFTER_MS);
        atomic_fetch_add(&px->backends[b->idx].connect_failures, 1);
    }
    if (!current || s->state == SESS_CLOSING)
        return;
    if (s->state == SESS_LOGIN_DB) {
        /* The ERR takes the place of the login's OK (same sequence id). */
        const struct bauth *a = &b->auth;
        uint8_t seq = buf_pending(&s->pending_ok) >= 4 ? buf_head(&s->pending_ok)[3] : 2;
        int rc = a->err_code /* the server's own answer, e.g. 1049 Unknown database */
                     ? gp_err_append_raw(wq_buf(&s->out), s->caps, seq, a->err_code,
                                         a->err_sqlstate, a->err_message, strlen(a->err_message))
                     : gp_err_append(wq_buf(&s->out), s->caps, seq, GP_ER_BACKEND_CONNECT,
                                     "gtidproxy: cannot reach backend %s: %s", name, why);
        session_close(s, rc == 0, "login database check: %s", why);
        return;
    }
    if (was_busy && forwarded > 0) {
        /* Part of the reply reached the client: nothing sane can follow. */
        session_close(s, true, "backend %s lost mid-reply: %s", name, why);
        return;
    }
    /* Nothing reached the client. A read may run elsewhere (the command is
     * still whole in `cmd`); a command that may write is never resent. */
    if (s->cmd_is_read && s->g.active) {
        session__mark_tried(s, b->idx);
        log_info("C#%u read routed again: %s failed: %s", s->id, name, why);
        session__gate_retry(s);
        return;
    }
    if (s->cmd_is_read) {
        session__mark_tried(s, b->idx);
        size_t next = session__pick_replica(s, false);
        if (next == SIZE_MAX)
            next = proxy_primary(px);
        if (!session__was_tried(s, next)) {
            log_info("C#%u read moved to %s: %s failed: %s", s->id, px->backends[next].name, name,
                     why);
            session__run_on(s, next);
            return;
        }
    }
    s->state = SESS_IDLE;
    if (gp_err == GP_ER_BACKEND_LOST)
        session__reply_error(
            s, GP_ER_BACKEND_LOST,
            "gtidproxy: lost backend %s while it ran the statement (outcome unknown): %s", name,
            why);
    else if (gp_err == GP_ER_SESSION_SYNC)
        session__reply_error(s, GP_ER_SESSION_SYNC,
                             "gtidproxy: could not apply the session's state on backend %s: %s",
                             name, why);
    else
        session__reply_error(s, (enum gp_error)gp_err, "gtidproxy: backend %s: %s", name, why);
    /* Not process_input() directly: this may run inside dispatch() (a send
     * that failed at once), where next_command() goes on by itself. */
    session__command_answered(s);
}

void session_reply_packet(struct session *s, struct bconn *b, const struct proto_trk_pkt *pkt)
{
    if (pkt->kind == PROTO_TRK_PKT_LOCAL_INFILE) {
        s->infile = b->forward;
        return;
    }
    if ((pkt->kind != PROTO_TRK_PKT_OK && pkt->kind != PROTO_TRK_PKT_OK_EOF) ||
        !pkt->ok.has_session_state)
        return;
    session__track_write(s, b, &pkt->ok);
    bool synced = b->synced_gen == s->want.gen;
    if (svars_apply_block(&s->want, pkt->ok.session_state) != 0 ||
        svars_apply_block(&b->have, pkt->ok.session_state) != 0)
        log_warn("C#%u backend %s: unreadable session state ignored", s->id,
                 px_of(s)->backends[b->idx].name);
    if (synced)
        b->synced_gen = s->want.gen;
}

void session_reply_done(struct session *s, struct bconn *b, const struct proto_trk_result *res)
{
    if (s->cmd_stmt && s->cmd_com == PROTO_COM_STMT_EXECUTE) {
        s->cmd_stmt->last_be = b->idx;
        s->cmd_stmt->long_data_be = PSTMT_NONE;
    }
    s->cur = NULL;
    s->last = b;
    s->infile = false;
    s->g.active = false;
    session__cache_done(s, res);
    if (res->status_valid) {
        s->route.in_trx = (res->status & PROTO_SERVER_STATUS_IN_TRANS) != 0;
        s->route.autocommit_off = (res->status & PROTO_SERVER_STATUS_AUTOCOMMIT) == 0;
        s->trx = s->route.in_trx ? b : NULL;
    }
    s->state = SESS_IDLE;
    if (s->draining) {
        session_close(s, true, "proxy shutting down");
        return;
    }
    if (s->want.charset_touched) {
        /* A no-op SET makes the server report the collation (sess_vars.h). */
        static const char sql[] =
            "SET @@SESSION.collation_connection = @@SESSION.collation_connection";
        s->want.charset_touched = false;
        if (bconn_send_internal(b, PROTO_COM_QUERY, sql, sizeof sql - 1) == 0) {
            s->post_sync = true;
            s->cmd_target = b->idx;
            s->state = SESS_WAIT_BACKEND;
            return;
        }
    }
    idle_from_now(s);
    process_input(s);
}

void session_backend_drained(struct session *s, struct bconn *b)
{
    if (s->cur == b && s->infile && wq_size(&b->out) < cfg_of(s)->buffer_high_water)
        resume_reading(s);
}

/* ---------------------------------------------------------- commands --- */

uint16_t session__status(const struct session *s)
{
    uint16_t st = 0;
    if (s->route.in_trx)
        st |= PROTO_SERVER_STATUS_IN_TRANS;
    if (!s->route.autocommit_off)
        st |= PROTO_SERVER_STATUS_AUTOCOMMIT;
    return st;
}

void session__reply_ok(struct session *s)
{
    if (gp_ok_append(wq_buf(&s->out), s->caps, (uint8_t)(s->cmd_last_seq + 1),
                     session__status(s)) != 0) {
        session_close(s, false, "out of memory");
        return;
    }
    session_flush(s);
}

static void change_user(struct session *s, const uint8_t *payload, size_t len)
{
    uint8_t out[1024];
    struct proto_wr w;
    proto_wr_init(&w, out, sizeof out);
    enum cauth_result r = cauth_change_user(&s->auth, s->cmd_last_seq, payload, len, &w);
    if (r == CAUTH_OK) { /* not expected: the proxy always switches first */
        login_ok(s, out, w.len);
        return;
    }
    if (buf_append(wq_buf(&s->out), out, w.len) != 0) {
        session_close(s, false, "out of memory");
        return;
    }
    switch (r) {
    case CAUTH_SEND:
        s->state = SESS_LOGIN;
        uv_timer_start(&s->timer, session__on_timer, cfg_of(s)->login_timeout_ms, 0);
        session_flush(s);
        return;
    case CAUTH_OK:
        return;
    case CAUTH_DENIED:
        session_close(s, true, "change user: %s", s->auth.why);
        return;
    case CAUTH_BAD:
        session_close(s, true, "bad COM_CHANGE_USER: %s", s->auth.why);
        return;
    }
}

static void reset_connection(struct session *s)
{
    close_backends(s);
    svars_reset(&s->want, true);
    pstmt_map_clear(&s->stmts);
    s->route = (struct route_state){0};
    s->trx_lost = NULL;
    session__reply_ok(s);
}

/* Routes a COM_QUERY by its text (cr: the classifier's verdict, with the
 * hint the gate reads). Returns false when it was answered. */
static bool route_query(struct session *s, const uint8_t *text, size_t n, bool whole,
                        struct classify_result *cr, struct route_decision *d)
{
    if (!whole) {
        /* Over 16 MB: never classified; the primary is always correct. */
        *d = (struct route_decision){ROUTE_PRIMARY, "statement over 16 MB"};
        return true;
    }
    (void)classify_query(text, n, 0, cr);
    if (session__proxy_stmt(s, cr, text, n))
        return false;
    router_decide(cr, &s->route, d);
    s->cmd_rule = NULL;
    if (d->target == ROUTE_REPLICA) {
        /* Rules shape only reads bound for a replica (level, fallback,
         * cache, route=primary): writes never pay for the matching. The
         * latest rules, also for sessions older than a reload (their
         * snapshot stays valid until exit; one rule set keeps the memo
         * warm). */
        const struct query_rules *rules = proxy_snap(px_of(s))->cfg->query_rules;
        int ri = query_memo_decide(&s->w->qmemo, rules, text, n, &s->w->qmatch);
        s->cmd_rule = ri >= 0 ? &rules->v[ri] : NULL;
    }
    /* A rule's route=primary, after transactions and pins and below a
     * hint's route (route=replica adds nothing: reads go there anyway). */
    if (s->cmd_rule && s->cmd_rule->route == QUERY_ROUTE_PRIMARY &&
        !(cr->hint.present && cr->hint.route != HINT_ROUTE_UNSET))
        *d = (struct route_decision){ROUTE_PRIMARY, "query rule route=primary"};
    if (d->target == ROUTE_ERROR) {
        session__reply_error(s, GP_ER_HINT, "gtidproxy: %s", d->why);
        return false;
    }
    return true;
}

static void dispatch(struct session *s, const uint8_t *payload, size_t len, bool whole)
{
    struct proxy *px = px_of(s);
    uint8_t com = s->cmd_com;
    s->cmd_stmt = NULL;
    struct route_decision d = {ROUTE_PRIMARY, proto_com_name(com)};
    struct classify_result cr;
    cr.hint.present = false;
    s->cache.on = s->cache.capture = false;
    s->cmd_rule = NULL;
    /* The open transaction's backend went away: the next command that
     * expects an answer gets the error, whichever protocol it speaks (a
     * prepared INSERT must not commit alone on a fresh connection). */
    if (s->trx_lost && com != PROTO_COM_QUIT && com != PROTO_COM_PING &&
        com != PROTO_COM_CHANGE_USER && com != PROTO_COM_RESET_CONNECTION &&
        com != PROTO_COM_STMT_CLOSE && com != PROTO_COM_STMT_SEND_LONG_DATA) {
        const char *name = s->trx_lost;
        s->trx_lost = NULL;
        s->route.in_trx = false;
        session__reply_error(
            s, GP_ER_BACKEND_LOST,
            "gtidproxy: the transaction was lost: backend %s closed the connection", name);
        return;
    }
    switch (com) {
    case PROTO_COM_QUIT:
        session_close(s, false, "client quit");
        return;
    case PROTO_COM_PING:
        session__reply_ok(s);
        return;
    case PROTO_COM_CHANGE_USER:
        change_user(s, payload, len);
        return;
    case PROTO_COM_RESET_CONNECTION:
        reset_connection(s);
        return;
    case PROTO_COM_QUERY:
        if (!route_query(s, payload + 1, len - 1, whole, &cr, &d)) {
            return;
        }
        break;
    case PROTO_COM_SET_OPTION:
        /* Turns multi-statements on or off for one server connection; the
         * session stays where it was turned. */
        s->route.pins |= ROUTE_PIN_BIT(ROUTE_PIN_SET_OPTION);
        break;
    case PROTO_COM_STMT_PREPARE:
        d = session__prepare_route(s, payload, len, whole);
        break;
    case PROTO_COM_STMT_EXECUTE:
    case PROTO_COM_STMT_FETCH:
    case PROTO_COM_STMT_RESET:
    case PROTO_COM_STMT_CLOSE:
    case PROTO_COM_STMT_SEND_LONG_DATA: {
        size_t idx;
        s->g.active = false;
        if (session__stmt_route(s, &idx)) {
            if (s->cmd_is_read) { /* an EXECUTE of a prepared read */
                s->cmd_read = true;
                session__gate_begin(s, NULL, idx);
                return;
            }
            log_debug("C#%u %s -> %s (statement %u)", s->id, proto_com_name(com),
                      px->backends[idx].name, s->cmd_stmt->id);
            session__run_on(s, idx);
        }
        return;
    }
    case PROTO_COM_INIT_DB:
    case PROTO_COM_FIELD_LIST:
    case PROTO_COM_STATISTICS:
    case PROTO_COM_CREATE_DB:
    case PROTO_COM_DROP_DB:
    case PROTO_COM_REFRESH:
    case PROTO_COM_PROCESS_KILL:
        if (s->route.in_trx)
            d = (struct route_decision){ROUTE_TRX, "in transaction"};
        break;
    default:
        session__reply_error(s, GP_ER_UNKNOWN_COM, "Unknown command");
        return;
    }
    s->cmd_is_read = s->cmd_read = d.target == ROUTE_REPLICA;
    s->tried = 0;
    s->g.active = false;
    if (d.target == ROUTE_REPLICA && com == PROTO_COM_STMT_PREPARE) {
        size_t idx = session__pick_replica(s, true);
        if (idx == SIZE_MAX)
            idx = proxy_primary(px);
        log_debug("C#%u %s -> %s (%s)", s->id, proto_com_name(com), px->backends[idx].name, d.why);
        session__run_on(s, idx);
        return;
    }
    if (d.target == ROUTE_REPLICA) {
        log_debug("C#%u %s -> gate (%s)", s->id, proto_com_name(com), d.why);
        if (com == PROTO_COM_QUERY)
            session__cache_select(s, &cr, payload + 1, len - 1, s->cmd_rule);
        session__gate_begin(s, &cr.hint, SIZE_MAX);
        return;
    }
    size_t idx = proxy_primary(px);
    switch (d.target) {
    case ROUTE_TRX:
        idx = s->trx ? s->trx->idx : proxy_primary(px);
        break;
    case ROUTE_LAST:
        idx = s->last ? s->last->idx : proxy_primary(px);
        break;
    default:
        break;
    }
    log_debug("C#%u %s -> %s (%s)", s->id, proto_com_name(com), px->backends[idx].name, d.why);
    session__run_on(s, idx);
}

/* Takes the next whole command from `in` and runs it. */
static void next_command(struct session *s)
{
    size_t wire;
    uint64_t len;
    uint8_t first, last;
    /* A reload applies from the session's next command on (snapshots are
     * never freed, so what a command in flight holds stays valid). */
    s->snap = proxy_snap(px_of(s));
    int rc = whole_packet(s, 0, &wire, &len, &first, &last);
    if (rc <= 0)
        return;
    if (len == 0) {
        session_close(s, false, "bad packet: empty command");
        return;
    }
    /* The command moves out of `in` (which may already hold the next one):
     * it stays whole in `cmd` for a retry elsewhere. When it is all `in`
     * holds, the block itself moves (no copy). */
    buf_consume(&s->cmd, buf_pending(&s->cmd));
    buf_release(&s->cmd); /* cmd now holds no storage */
    if (s->in.off == 0 && s->in.len == wire) {
        struct buf t = s->cmd; /* both draw on the worker's pool */
        s->cmd = s->in;
        s->in = t;
    } else {
        if (buf_append(&s->cmd, buf_head(&s->in), wire) != 0) {
            session_close(s, false, "out of memory");
            return;
        }
        buf_consume(&s->in, wire);
    }
    s->cmd_held = true;
    const uint8_t *payload = buf_head(&s->cmd) + PROTO_FRAME_HDR_LEN;
    s->cmd_wire = wire;
    s->cmd_com = payload[0];
    s->cmd_last_seq = last;
    s->cmd_whole = wire == len + PROTO_FRAME_HDR_LEN;
    s->queries++;
    s->last_cmd_ms = s->last_active_ms = uv_now(&s->w->loop);
    s->cmd_read = s->cmd_counted = false;
    s->dispatching = true;
    dispatch(s, payload, s->cmd_whole ? (size_t)len : 0, s->cmd_whole);
    s->dispatching = false;
    if (s->state == SESS_CLOSING) { /* COM_QUIT & co: nothing reads cmd again */
        buf_free(&s->cmd);
        return;
    }
    if (s->state == SESS_IDLE) { /* answered by the proxy itself */
        session__count_route(s, NULL);
        idle_from_now(s);
    }
}

/* Forwards LOCAL INFILE packets while the server waits for the file. */
static void infile_packets(struct session *s)
{
    while (s->state == SESS_RUNNING && s->infile && s->cur) {
        size_t wire;
        uint64_t len;
        uint8_t first, last;
        if (whole_packet(s, -1, &wire, &len, &first, &last) <= 0)
            return;
        if (bconn_forward_client(s->cur, buf_head(&s->in), wire, last, len) != 0) {
            session_close(s, false, "LOCAL INFILE data the server did not ask for");
            return;
        }
        buf_consume(&s->in, wire);
        if (len == 0)
            s->infile = false;
        if (s->cur && wq_size(&s->cur->out) >= cfg_of(s)->buffer_high_water) {
            pause_reading(s);
            return;
        }
    }
}

/* Gives back the storage of in, cmd and out that nothing refers to (the
 * contract at the top of this file): every path that ends a command or
 * consumes input passes process_input(), and session_idle_check() catches
 * the rest. */
static void trim_buffers(struct session *s)
{
    buf_release(&s->in);
    if (s->state == SESS_IDLE && !s->dispatching && s->cmd_held) {
        buf_consume(&s->cmd, buf_pending(&s->cmd));
        buf_release(&s->cmd);
        s->cmd_held = false;
    }
    wq_trim(&s->out);
}

static void process_input(struct session *s)
{
    for (;;) {
        enum sess_state before = s->state;
        size_t pending = buf_pending(&s->in);
        switch (s->state) {
        case SESS_LOGIN:
            login_packet(s);
            break;
        case SESS_IDLE:
            next_command(s);
            break;
        case SESS_RUNNING:
            if (s->infile)
                infile_packets(s);
            break;
        default:
            break;
        }
        if (s->state == SESS_CLOSING)
            return;
        if (s->state == before && buf_pending(&s->in) == pending)
            break;
    }
    /* Pipelined commands wait in `in`; do not let it grow without bound. */
    if (s->state != SESS_IDLE && s->state != SESS_LOGIN && !s->infile &&
        buf_pending(&s->in) > cfg_of(s)->buffer_high_water)
        pause_reading(s);
    else if (s->read_paused &&
             (s->state == SESS_IDLE ||
              (s->infile && s->cur && wq_size(&s->cur->out) < cfg_of(s)->buffer_high_water)))
        resume_reading(s);
    if (s->state != SESS_CLOSING)
        trim_buffers(s);
}

/* ---------------------------------------------------------- timers --- */

/* The session's own timer: login_ms while logging in, the gate's budgets
 * while a read waits. Idleness is not timed here (session_idle_check). */
void session__on_timer(uv_timer_t *t)
{
    struct session *s = t->data;
    if (s->g.active && s->g.phase != GPH_NONE)
        session__gate_timer(s);
    else if (s->state == SESS_LOGIN || s->state == SESS_LOGIN_DB)
        session_close(s, false, "login not finished within %u ms (timeouts.login_ms)",
                      cfg_of(s)->login_timeout_ms);
}

/* The session is idle from now: the idle clock restarts (a timestamp; the
 * worker's periodic check compares it, instead of a timer restarted per
 * command), and a login or gate timer has nothing left to time. */
static void idle_from_now(struct session *s)
{
    uv_timer_stop(&s->timer);
    s->last_active_ms = uv_now(&s->w->loop);
}

void session_idle_check(struct session *s, uint64_t now_ms)
{
    if (s->state != SESS_IDLE)
        return;
    /* The fields read here sit in the struct's first cache line: the walk
     * over thousands of idle sessions touches little else. */
    if (s->cmd_held) /* became idle on a path that did not pass process_input() */
        trim_buffers(s);
    unsigned ms = cfg_of(s)->client_idle_timeout_ms;
    if (ms && now_ms >= s->last_active_ms + ms)
        session_close(s, false, "idle for %u ms (timeouts.client_idle_ms)", ms);
}

/* ---------------------------------------------------------- accept --- */

static void peer_name(struct session *s, char *host, size_t hostlen)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    snprintf(host, hostlen, "?");
    snprintf(s->peer, sizeof s->peer, "?");
    if (uv_tcp_getpeername(&s->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    int port = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        uv_ip4_name(a, host, hostlen);
        port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        uv_ip6_name(a, host, hostlen);
        port = ntohs(a->sin6_port);
    }
    snprintf(s->peer, sizeof s->peer, "%s:%d", host, port);
}

/* Refuses a connection before login with a server-style ERR (seq 0). */
static void refuse(struct session *s, enum gp_error e, const char *msg)
{
    if (gp_err_append(wq_buf(&s->out), 0, 0, e, "%s", msg) == 0)
        session_close(s, true, "refused: %s", msg);
    else
        session_close(s, false, "refused: %s", msg);
}

static void greet(struct session *s, const char *host)
{
    struct proxy *px = px_of(s);
    struct bauth_server prof;
    if (!proxy_profile(px, &prof)) {
        refuse(s, GP_ER_NOT_READY, "gtidproxy: the primary has not been reached yet");
        return;
    }
    uint64_t adv;
    if (proto_caps_advertise(prof.caps, PROTO_CAPS_SUPPORTED_DEFAULT, 0, &adv) != PROTO_OK) {
        refuse(s, GP_ER_NOT_READY, "gtidproxy: the primary lacks protocol 4.1 capabilities");
        return;
    }
    char version[BAUTH_VERSION_MAX + 16];
    snprintf(version, sizeof version, "%s-gtidproxy", prof.version);
    struct cauth_greeting g = {
        .server_version = version,
        .thread_id = s->id,
        .caps = adv,
        .charset = prof.charset,
        .plugin =
            strcmp(prof.plugin, CAUTH_PLUGIN_SHA2) == 0 ? CAUTH_PLUGIN_SHA2 : CAUTH_PLUGIN_NATIVE,
        .client_host = host,
    };
    uint8_t out[512];
    struct proto_wr w;
    proto_wr_init(&w, out, sizeof out);
    if (cauth_start(&s->auth, &s->snap->users, &g, &w) != 0 ||
        buf_append(wq_buf(&s->out), out, w.len) != 0) {
        session_close(s, false, "cannot build the greeting");
        return;
    }
    session_flush(s);
}

void session_accept(struct worker *w, uv_stream_t *server, size_t li)
{
    struct proxy *px = w->px;
    struct session *s = calloc(1, sizeof *s);
    size_t nb = px->n_backends;
    struct bconn **be = calloc(nb, sizeof *be);
    if (!s || !be) {
        free(s);
        free(be);
        log_error("w%u accept: out of memory", w->idx);
        return;
    }
    s->w = w;
    s->snap = proxy_snap(px);
    s->be = be;
    s->n_be = nb;
    s->id = atomic_fetch_add(&px->next_session_id, 1) + 1;
    s->state = SESS_LOGIN;
    s->listener = li;
    svars_init(&s->want);
    pstmt_map_init(&s->stmts, nb);
    session__gate_init(s, proxy_flavor(px));
    session__cache_init(s, proxy_flavor(px));
    uv_tcp_init(&w->loop, &s->tcp);
    uv_timer_init(&w->loop, &s->timer);
    s->tcp.data = s->timer.data = s;
    s->open_handles = 2;
    wq_init(&s->out, (uv_stream_t *)&s->tcp, &w->pool, on_client_written, s);
    s->in.pool = s->cmd.pool = &w->pool;
    s->out.sent_stat = &w->st.bytes_out;
    s->out.queued_stat = &px->client_queued;
    s->connected_ms = s->last_cmd_ms = s->last_active_ms = uv_now(&w->loop);
    worker__session_add(w, s);
    if (uv_accept(server, (uv_stream_t *)&s->tcp) != 0) {
        session_close(s, false, "accept failed");
        return;
    }
    uv_tcp_nodelay(&s->tcp, 1);
    char host[INET6_ADDRSTRLEN];
    peer_name(s, host, sizeof host);
    atomic_fetch_add(&px->clients_total, 1);
    unsigned now = atomic_fetch_add(&px->clients, 1) + 1;
    s->counted = true;
    if (now > cfg_of(s)->max_client_connections) {
        atomic_fetch_add(&px->clients_rejected, 1);
        refuse(s, GP_ER_TOO_MANY_CONNECTIONS, "Too many connections");
        return;
    }
    uv_timer_start(&s->timer, session__on_timer, cfg_of(s)->login_timeout_ms, 0);
    int rc = uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
    if (rc < 0) {
        session_close(s, false, "read from client: %s", uv_strerror(rc));
        return;
    }
    log_debug("C#%u connection from %s on w%u", s->id, s->peer, w->idx);
    greet(s, host);
}
