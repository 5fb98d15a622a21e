/*
 * backend.c - a session's connection to one backend (backend.h): connect,
 * login, tracking set-up, the proxy's own statements, and the reply relay.
 */
#include "backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_reply.h"
#include "log.h"
#include "proxy.h"
#include "session.h"
#include "worker.h"

/* Each read asks for this much room: large results stream in 64 KiB steps
 * (one read, one write per step). The read buffer is one block of the
 * worker's pool_read, taken for a read and given back as soon as its bytes
 * are relayed (only a cut packet keeps it): a connection that waits holds
 * none. Every pointer into it (relay(), login_packets()) lives within one
 * on_read. */
#define BCONN_READ_SIZE WORKER_POOL_READ_BLOCK

/* What every backend connection turns on after login (DESIGN.md section 4):
 * all changed system variables (so the proxy can replay the client's SETs
 * elsewhere, and MariaDB's last_gtid), the schema, and transaction state. */
#define TRACKING_SQL                                                                               \
    "SET session_track_system_variables='*', session_track_schema=ON, "                            \
    "session_track_state_change=ON, session_track_transaction_info='CHARACTERISTICS'"
#define TRACKING_SQL_MYSQL ", session_track_gtids='OWN_GTID'"

const char *bconn_state_name(enum bconn_state s)
{
    static const char *const names[] = {
#define BCONN_STATE_NAME(name, text) text,
        BCONN_STATE_LIST(BCONN_STATE_NAME)
#undef BCONN_STATE_NAME
    };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static struct proxy *proxy_of(struct bconn *b)
{
    return b->s->w->px;
}

static const char *name_of(struct bconn *b)
{
    return proxy_of(b)->backends[b->idx].name;
}

static void on_handle_closed(uv_handle_t *h)
{
    struct bconn *b = h->data;
    if (--b->open_handles > 0)
        return;
    atomic_fetch_sub_explicit(&b->info->open, 1, memory_order_relaxed);
    buf_free(&b->in);
    wq_free(&b->out);
    svars_free(&b->have);
    free(b);
}

void bconn_close(struct bconn *b)
{
    if (b->state == BCONN_CLOSED)
        return;
    b->state = BCONN_CLOSED;
    uv_close((uv_handle_t *)&b->timer, on_handle_closed);
    uv_close((uv_handle_t *)&b->tcp, on_handle_closed);
}

/* One failure path: log, close, tell the session once. */
static void fail(struct bconn *b, int gp_err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct bconn *b, int gp_err, const char *fmt, ...)
{
    if (b->state == BCONN_CLOSED)
        return;
    char why[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    log_info("C#%u backend %s [%s]: %s", b->s->id, name_of(b), bconn_state_name(b->state), why);
    proxy_backend_error(proxy_of(b), b->idx, "%s", why);
    struct session *s = b->s;
    bconn_close(b);
    session_backend_failed(s, b, gp_err, why);
}

static void on_write_done(struct wq *q, int status)
{
    struct bconn *b = q->data;
    if (b->state == BCONN_CLOSED)
        return;
    if (status < 0)
        fail(b, b->state == BCONN_BUSY ? GP_ER_BACKEND_LOST : GP_ER_BACKEND_CONNECT, "write: %s",
             uv_strerror(status));
    else
        session_backend_drained(b->s, b);
}

static int send_queued(struct bconn *b)
{
    int rc = wq_flush(&b->out);
    if (rc < 0) {
        fail(b, b->state == BCONN_BUSY ? GP_ER_BACKEND_LOST : GP_ER_BACKEND_CONNECT, "write: %s",
             uv_strerror(rc));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ login --- */

static void start_init(struct bconn *b);

static void login_packets(struct bconn *b)
{
    while (b->state == BCONN_LOGIN) {
        struct proto_frame_hdr h;
        const uint8_t *payload;
        if (proto_frame_peek(buf_head(&b->in), buf_pending(&b->in), &h, &payload) != PROTO_OK)
            return;
        uint8_t out[8192];
        struct proto_wr w;
        proto_wr_init(&w, out, sizeof out);
        enum bauth_result r = bauth_feed(&b->auth, h.seq, payload, h.len, &w);
        buf_consume(&b->in, PROTO_FRAME_HDR_LEN + h.len);
        switch (r) {
        case BAUTH_SEND:
            if (buf_append(wq_buf(&b->out), out, w.len) != 0) {
                fail(b, GP_ER_OUT_OF_MEMORY, "out of memory");
                return;
            }
            if (send_queued(b) != 0)
                return;
            break;
        case BAUTH_WAIT:
            break;
        case BAUTH_OK:
            b->caps = b->auth.caps;
            b->mariadb = b->auth.server.mariadb;
            start_init(b);
            return;
        case BAUTH_DENIED:
            fail(b, GP_ER_BACKEND_CONNECT, "login refused: %u %s", b->auth.err_code,
                 b->auth.err_message);
            return;
        case BAUTH_FAILED:
            fail(b, GP_ER_BACKEND_CONNECT, "login failed: %s", b->auth.why);
            return;
        }
    }
}

/* ------------------------------------------------------------ relay --- */

static bool needs_ok_rewrite(struct bconn *b)
{
    const uint64_t st = PROTO_CAP(CLIENT_SESSION_TRACK);
    return (b->caps & st) && !(session_client_caps(b->s) & st);
}

/* Writes an OK received under the backend's caps in the client's form. */
static int rewrite_ok(struct bconn *b, struct buf *co, const uint8_t *pkt, size_t n)
{
    size_t payload = n - PROTO_FRAME_HDR_LEN;
    struct proto_wr w; /* + 8: see proto_ok_rewrite() */
    if (gp_packet_begin(co, payload + 8, &w) != 0 ||
        proto_ok_rewrite(pkt + PROTO_FRAME_HDR_LEN, payload, b->caps, session_client_caps(b->s),
                         &w) != PROTO_OK)
        return -1;
    return gp_packet_end(co, &w, pkt[3]);
}

/* Keeps a server ERR to the proxy's own statement: its number, and text
 * for logs and the client's error. */
static void note_err(struct bconn *b, const struct proto_err *e)
{
    b->err_code = e->code;
    snprintf(b->err, sizeof b->err, "%u (%.5s) %.*s", e->code,
             e->has_sqlstate ? (const char *)e->sqlstate.p : "HY000", (int)e->message.len,
             (const char *)e->message.p);
}

/* The wait in front of the query answered with pkt (a whole packet p, its
 * sequence id p[3]): consumed here. Returns 0, or -1 after a failure. */
static int wait_prefix_answered(struct bconn *b, const uint8_t *p, const struct proto_trk_pkt *pkt)
{
    b->wait_prefix = false;
    if (pkt->kind == PROTO_TRK_PKT_ERR) {
        /* An ERR ends a multi-statement: the query did not run. */
        b->wait_failed = true;
        note_err(b, &pkt->err);
        return 0;
    }
    if (pkt->kind != PROTO_TRK_PKT_OK || !(pkt->ok.status & PROTO_SERVER_MORE_RESULTS_EXISTS)) {
        fail(b, GP_ER_BACKEND_PROTOCOL, "the catch-up wait's reply is not an OK with more results");
        return -1;
    }
    /* The client never sees the wait's OK: the result describes only the
     * query's reply from here on (the result cache stores just that). */
    b->ts.trk.res.oks = 0;
    b->ts.trk.res.session_states = 0;
    /* The query's reply continues the sequence after the wait's OK; the
     * client expects it to start right after its command. */
    b->seq_shift = p[3];
    proto_frame_rd_expect_seq(&b->ts.fr, 1);
    session_wait_done(b->s, b, true, NULL);
    return b->state == BCONN_CLOSED ? -1 : 0;
}

/* Tracks (and forwards, or consumes) p[0..n): one whole packet (whole) or a
 * piece of a streamed one. Returns 1 when the reply ended, 0 to go on, -1
 * after a failure (b is closed). */
static int relay_piece(struct bconn *b, uint8_t *p, size_t n, bool whole)
{
    /* The wait's reply in front (one small OK or ERR, so always whole) is
     * consumed, not forwarded. */
    bool consumed = b->wait_prefix;
    if (consumed && !whole) {
        fail(b, GP_ER_BACKEND_PROTOCOL, "the catch-up wait's reply is not a small OK or ERR");
        return -1;
    }
    struct buf *co = b->forward && !consumed ? session_client_out(b->s) : NULL;
    /* Where this piece starts in the client's queue, counted from its
     * head: stays right if an append moves or compacts the storage. */
    size_t co_start = co ? buf_pending(co) : 0;
    bool rewritten = false, done = false;
    size_t off = 0;
    while (off < n) {
        struct proto_trk_pkt pkt;
        size_t used;
        int rc = proto_tracker_stream_feed(&b->ts, p + off, n - off, &used, &pkt);
        if (rc == PROTO_NEED_MORE)
            break;
        if (rc < 0) {
            fail(b, b->forwarded ? GP_ER_BACKEND_LOST : GP_ER_BACKEND_PROTOCOL,
                 "malformed reply (%s) in state %s", proto_status_str(rc),
                 proto_tracker_state_name(b->ts.trk.state));
            return -1;
        }
        off += used;
        if (consumed) {
            if (wait_prefix_answered(b, p, &pkt) != 0)
                return -1;
            done = pkt.done;
            continue;
        }
        if (b->forward) {
            if (whole && (pkt.kind == PROTO_TRK_PKT_OK || pkt.kind == PROTO_TRK_PKT_OK_EOF) &&
                needs_ok_rewrite(b)) {
                if (rewrite_ok(b, co, p, n) != 0) {
                    fail(b, GP_ER_BACKEND_PROTOCOL, "cannot rewrite an OK for the client");
                    return -1;
                }
                rewritten = true;
            }
            if (whole && pkt.kind == PROTO_TRK_PKT_PREPARE_OK) {
                /* The client gets the session's id for the statement. */
                uint32_t id =
                    session_prepared(b->s, b, b->ts.trk.res.stmt_id, b->ts.trk.res.num_params);
                if (id == 0)
                    return -1;
                struct proto_wr w;
                proto_wr_init(&w, p + PROTO_FRAME_HDR_LEN + 1, 4);
                proto_wr_u32(&w, id);
            }
        }
        session_reply_packet(b->s, b, &pkt);
        if (!b->forward && pkt.kind == PROTO_TRK_PKT_ERR) {
            note_err(b, &pkt.err);
        }
        if (pkt.done)
            done = true;
    }
    if (consumed)
        return done ? 1 : 0;
    if (b->forward && !rewritten) {
        if (buf_append(co, p, n) != 0) {
            fail(b, GP_ER_OUT_OF_MEMORY, "out of memory relaying a reply");
            return -1;
        }
    }
    if (co)
        session_cache_reply(b->s, buf_head(co) + co_start, buf_pending(co) - co_start);
    b->forwarded += n;
    return done ? 1 : 0;
}

/* Walks the read buffer packet by packet (see the picture in backend.h).
 * Returns 1 when the reply ended, 0 when more bytes are needed, -1 failed. */
static int relay(struct bconn *b)
{
    for (;;) {
        size_t n = buf_pending(&b->in);
        if (n == 0)
            return 0; /* (the buffer may have been given back: data NULL) */
        uint8_t *p = b->in.data + b->in.off;
        size_t take;
        bool whole = false;
        if (b->chunk_left) {
            take = n < b->chunk_left ? n : (size_t)b->chunk_left;
            b->chunk_left -= take;
        } else {
            struct proto_frame_hdr h;
            if (proto_frame_hdr_parse(p, n, &h) != PROTO_OK)
                return 0; /* the header is cut: hold it */
            uint64_t total = PROTO_FRAME_HDR_LEN + (uint64_t)h.len;
            if (total <= n) {
                take = (size_t)total;
                whole = true;
            } else if (total <= BCONN_HOLD_MAX) {
                if (buf_reserve(&b->in, (size_t)total - n) == 0)
                    return 0;
                fail(b, GP_ER_OUT_OF_MEMORY, "out of memory holding a packet");
                return -1;
            } else {
                take = n;
                b->chunk_left = total - n;
            }
            p[3] = (uint8_t)(p[3] - b->seq_shift); /* taken: rewritten once */
        }
        if (take == 0)
            return 0;
        int rc = relay_piece(b, p, take, whole);
        if (rc < 0)
            return -1;
        buf_consume(&b->in, take);
        if (rc == 1)
            return 1;
    }
}

/* The proxy's own statement (INIT or SYNC) ended: record what it applied.
 * The session then checks again what still differs. */
static void internal_done(struct bconn *b)
{
    const struct proto_trk_result *res = &b->ts.trk.res;
    if (b->internal_wait) {
        b->internal_wait = false;
        b->state = BCONN_IDLE;
        session_wait_done(b->s, b, !res->is_error, res->is_error ? b->err : NULL);
        return;
    }
    if (res->is_error) {
        fail(b, GP_ER_SESSION_SYNC, "%s", b->err);
        return;
    }
    int rc = 0;
    if (b->internal_com == PROTO_COM_STMT_PREPARE) {
        b->prepared_id = res->stmt_id;
    } else if (b->internal_com == PROTO_COM_INIT_DB) {
        struct proto_str sc = {(const uint8_t *)b->s->want.schema, strlen(b->s->want.schema)};
        rc = svars_set_schema(&b->have, sc);
    } else {
        rc = svars_copy_vars(&b->have, &b->s->want);
    }
    if (rc != 0) {
        fail(b, GP_ER_OUT_OF_MEMORY, "out of memory");
        return;
    }
    b->state = BCONN_IDLE;
    uv_timer_stop(&b->timer);
    session_backend_ready(b->s, b);
}

static void watch_silence(struct bconn *b);

static void after_reads(struct bconn *b)
{
    while (b->state == BCONN_BUSY || b->state == BCONN_SYNC || b->state == BCONN_INIT) {
        bool forward = b->forward;
        int rc = relay(b);
        if (forward)
            session_flush(b->s);
        if (rc <= 0)
            break;
        if (forward && b->wait_failed) {
            b->state = BCONN_IDLE;
            b->wait_failed = false;
            session_wait_done(b->s, b, false, b->err);
        } else if (forward) {
            b->state = BCONN_IDLE;
            session_reply_done(b->s, b, &b->ts.trk.res);
        } else {
            internal_done(b);
        }
        if (buf_pending(&b->in) == 0)
            break;
    }
    if (b->state != BCONN_CLOSED && b->forward && session_client_full(b->s) && !b->read_paused) {
        uv_read_stop((uv_stream_t *)&b->tcp);
        b->read_paused = true;
    }
    if (b->state != BCONN_CLOSED && b->state != BCONN_INIT && b->state != BCONN_LOGIN)
        watch_silence(b);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    (void)suggested;
    struct bconn *b = h->data;
    /* A cut packet waiting for its rest has its room already (relay()
     * reserved it, or only the header is cut): the block is compacted, not
     * grown, so a reply's packets keep fitting one pool block. */
    size_t pending = buf_pending(&b->in);
    int rc = pending && b->in.cap > pending ? buf_reserve(&b->in, b->in.cap - pending)
                                            : buf_reserve_read(&b->in, BCONN_READ_SIZE);
    if (rc != 0) {
        *out = uv_buf_init(NULL, 0);
        return;
    }
    *out = uv_buf_init((char *)b->in.data + b->in.len, (unsigned)(b->in.cap - b->in.len));
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *ub)
{
    (void)ub;
    struct bconn *b = st->data;
    if (b->state == BCONN_CLOSED)
        return;
    if (nread == 0) { /* EAGAIN: the room on_alloc took was not used */
        buf_release(&b->in);
        return;
    }
    if (nread < 0) {
        const char *why =
            nread == UV_EOF ? "server closed the connection" : uv_strerror((int)nread);
        if (b->state == BCONN_IDLE) {
            log_debug("C#%u backend %s: %s while idle", b->s->id, name_of(b), why);
            struct session *s = b->s;
            bconn_close(b);
            session_backend_closed(s, b);
        } else {
            fail(b, b->state == BCONN_BUSY ? GP_ER_BACKEND_LOST : GP_ER_BACKEND_CONNECT, "%s", why);
        }
        buf_free(&b->in); /* closed: the read's block goes back now */
        return;
    }
    b->in.len += (size_t)nread;
    if (b->state == BCONN_LOGIN)
        login_packets(b);
    else if (b->state == BCONN_IDLE && buf_pending(&b->in))
        fail(b, GP_ER_BACKEND_PROTOCOL, "unexpected bytes from an idle server");
    else
        after_reads(b);
    buf_release(&b->in); /* unless a cut packet waits for its rest */
}

/* ------------------------------------------------------- lifecycle --- */

static int start_reading(struct bconn *b)
{
    return uv_read_start((uv_stream_t *)&b->tcp, on_alloc, on_read);
}

void bconn_resume(struct bconn *b)
{
    if (b->state == BCONN_CLOSED || !b->read_paused)
        return;
    b->read_paused = false;
    after_reads(b); /* bytes may already wait in the buffer (re-arms the silence timer) */
    buf_release(&b->in);
    if (b->state != BCONN_CLOSED && !b->read_paused) {
        int rc = start_reading(b);
        if (rc < 0)
            fail(b, GP_ER_BACKEND_LOST, "read: %s", uv_strerror(rc));
    }
}

static void on_timer(uv_timer_t *t)
{
    struct bconn *b = t->data;
    if (b->deferred_fail) {
        fail(b, GP_ER_BACKEND_CONNECT, "%s", b->err);
        return;
    }
    fail(b, GP_ER_BACKEND_CONNECT, "no answer within %u ms (connect_ms)",
         b->s->snap->cfg->connect_timeout_ms);
}

/* timeouts.backend_query_ms: the longest a server may stay silent while
 * the proxy waits for its reply (a statement of the client's or the proxy's
 * own SYNC). Measured from the command or the reply's last bytes, not while
 * the proxy itself holds the reply back (the client reads slowly) or the
 * server waits for the client (LOCAL INFILE data). */
static void on_silence(uv_timer_t *t)
{
    struct bconn *b = t->data;
    unsigned ms = b->s->snap->cfg->backend_query_timeout_ms;
    fail(b, b->state == BCONN_SYNC ? GP_ER_SESSION_SYNC : GP_ER_BACKEND_LOST,
         "no reply for %u ms (timeouts.backend_query_ms)", ms);
}

static void watch_silence(struct bconn *b)
{
    unsigned ms = b->s->snap->cfg->backend_query_timeout_ms;
    if (ms == 0)
        return;
    /* A catch-up wait (alone or in front of the query) may be silent for
     * its whole budget: the gate's own timer bounds it (session_gate.c). */
    if ((b->state == BCONN_BUSY || b->state == BCONN_SYNC) && !b->read_paused &&
        !proto_tracker_awaits_client(&b->ts.trk) && !b->wait_prefix && !b->internal_wait)
        uv_timer_start(&b->timer, on_silence, ms, 0);
    else
        uv_timer_stop(&b->timer);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct bconn *b = req->data;
    if (b->state == BCONN_CLOSED)
        return;
    if (status < 0) {
        fail(b, GP_ER_BACKEND_CONNECT, "connect: %s", uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&b->tcp, 1);
    b->state = BCONN_LOGIN;
    int rc = start_reading(b);
    if (rc < 0)
        fail(b, GP_ER_BACKEND_CONNECT, "read: %s", uv_strerror(rc));
}

static void start_init(struct bconn *b)
{
    struct buf sql = {0};
    int rc = buf_append(&sql, TRACKING_SQL, sizeof TRACKING_SQL - 1);
    if (rc == 0 && !b->mariadb)
        rc = buf_append(&sql, TRACKING_SQL_MYSQL, sizeof TRACKING_SQL_MYSQL - 1);
    /* The session's variables ride along in the same SET. */
    if (rc != 0 || svars_sync_sql(&b->s->want, &b->have, ", ", &sql) < 0) {
        buf_free(&sql);
        fail(b, GP_ER_OUT_OF_MEMORY, "out of memory");
        return;
    }
    rc = bconn_send_internal(b, PROTO_COM_QUERY, (const char *)buf_head(&sql), buf_pending(&sql));
    buf_free(&sql);
    if (rc == 0)
        b->state = BCONN_INIT;
}

struct bconn *bconn_open(struct session *s, size_t idx)
{
    struct bconn *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    struct proxy *px = s->w->px;
    struct backend_info *bi = &px->backends[idx];
    const struct config *cfg = s->snap->cfg;
    b->s = s;
    b->idx = idx;
    b->serial = ++s->next_serial;
    b->state = BCONN_CONNECTING;
    svars_init(&b->have);
    uv_tcp_init(&s->w->loop, &b->tcp);
    uv_timer_init(&s->w->loop, &b->timer);
    b->tcp.data = b->timer.data = b;
    b->open_handles = 2;
    b->info = bi;
    atomic_fetch_add_explicit(&bi->open, 1, memory_order_relaxed);
    wq_init(&b->out, (uv_stream_t *)&b->tcp, &s->w->pool, on_write_done, b);
    b->in.pool = &s->w->pool_read;
    proto_tracker_stream_init(&b->ts, NULL, 0, cfg->max_packet_size);
    /* The login database: the session's schema, so no USE is needed. */
    const char *db = s->want.has_schema && *s->want.schema ? s->want.schema : NULL;
    if (db) {
        struct proto_str sc = {(const uint8_t *)db, strlen(db)};
        if (svars_set_schema(&b->have, sc) != 0) {
            bconn_close(b);
            return NULL;
        }
    }
    struct bauth_params prm = {
        .user = cfg->backend_user,
        .password = cfg->backend_password,
        .database = db,
        .client_caps = s->caps,
        .charset = s->charset,
        .max_packet = cfg->max_packet_size,
        /* The client's connection attributes (program name, driver, ...),
         * so the servers' processlist and performance_schema show them. */
        .attrs = s->auth.login.attrs,
        .attrs_len = s->auth.login.attrs_len,
    };
    bauth_init(&b->auth, &prm);
    atomic_fetch_add(&bi->connects, 1);
    uv_timer_start(&b->timer, on_timer, cfg->connect_timeout_ms, 0);
    int rc = bi->resolved ? uv_tcp_connect(&b->connect_req, &b->tcp,
                                           (const struct sockaddr *)&bi->addr, on_connect)
                          : UV_EAI_NONAME;
    b->connect_req.data = b;
    if (rc < 0) {
        /* Reported from the next loop turn, never from inside this call. */
        snprintf(b->err, sizeof b->err, "connect to %s:%u: %s", bi->host, bi->port,
                 uv_strerror(rc));
        b->deferred_fail = true;
        uv_timer_start(&b->timer, on_timer, 0, 0);
    }
    return b;
}

int bconn_send_internal(struct bconn *b, uint8_t com, const char *text, size_t len)
{
    struct buf *o = wq_buf(&b->out);
    struct proto_wr w;
    if (gp_packet_begin(o, len + 1, &w) != 0)
        return -1;
    proto_wr_u8(&w, com);
    proto_wr_bytes(&w, text, len);
    if (gp_packet_end(o, &w, 0) != 0)
        return -1;
    if (proto_tracker_stream_start(&b->ts, b->caps, com) != PROTO_OK)
        return -1;
    b->forward = false;
    b->seq_shift = 0;
    b->internal_com = com;
    b->err[0] = '\0';
    b->err_code = 0;
    b->state = b->state == BCONN_LOGIN ? BCONN_INIT : BCONN_SYNC;
    if (b->state == BCONN_SYNC) /* INIT: the login's connect_ms covers it */
        watch_silence(b);
    return send_queued(b);
}

int bconn_send_command(struct bconn *b, const uint8_t *p, size_t n, uint8_t com, uint8_t last_seq)
{
    if (b->state != BCONN_IDLE)
        return -1;
    if (proto_tracker_stream_start(&b->ts, b->caps, com) != PROTO_OK)
        return -1;
    proto_frame_rd_expect_seq(&b->ts.fr, (uint8_t)(last_seq + 1));
    if (buf_append(wq_buf(&b->out), p, n) != 0)
        return -1;
    b->forward = true;
    b->forwarded = 0;
    b->chunk_left = 0;
    b->seq_shift = 0;
    b->wait_prefix = b->wait_failed = false;
    atomic_fetch_add(&proxy_of(b)->backends[b->idx].commands, 1);
    if (proto_tracker_done(&b->ts.trk)) { /* COM_STMT_CLOSE & co: no reply */
        if (send_queued(b) != 0)
            return -1;
        return 1;
    }
    b->state = BCONN_BUSY;
    watch_silence(b);
    return send_queued(b) == 0 ? 0 : -1;
}

int bconn_forward_client(struct bconn *b, const uint8_t *p, size_t n, uint8_t seq, uint64_t len)
{
    if (proto_tracker_stream_client_packet(&b->ts, seq, len) != PROTO_OK)
        return -1;
    if (buf_append(wq_buf(&b->out), p, n) != 0)
        return -1;
    watch_silence(b); /* the server may answer once the file ended */
    return send_queued(b);
}

int bconn_send_query_waited(struct bconn *b, const char *wait, size_t wait_len, const uint8_t *text,
                            size_t len)
{
    if (b->state != BCONN_IDLE)
        return -1;
    struct buf *o = wq_buf(&b->out);
    struct proto_wr w;
    if (gp_packet_begin(o, 1 + wait_len + 1 + len, &w) != 0)
        return -1;
    proto_wr_u8(&w, PROTO_COM_QUERY);
    proto_wr_bytes(&w, wait, wait_len);
    proto_wr_u8(&w, ';');
    proto_wr_bytes(&w, text, len);
    if (gp_packet_end(o, &w, 0) != 0 ||
        proto_tracker_stream_start(&b->ts, b->caps, PROTO_COM_QUERY) != PROTO_OK)
        return -1;
    b->forward = true;
    b->forwarded = 0;
    b->chunk_left = 0;
    b->seq_shift = 0;
    b->wait_prefix = true;
    b->wait_failed = false;
    b->state = BCONN_BUSY;
    atomic_fetch_add(&proxy_of(b)->backends[b->idx].commands, 1);
    watch_silence(b);
    return send_queued(b) == 0 ? 0 : -1;
}

int bconn_send_wait(struct bconn *b, const char *sql, size_t len)
{
    if (b->state != BCONN_IDLE || bconn_send_internal(b, PROTO_COM_QUERY, sql, len) != 0)
        return -1;
    b->internal_wait = true;
    watch_silence(b);
    return 0;
}
