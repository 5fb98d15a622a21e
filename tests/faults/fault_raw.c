/*
 * fault_raw.c - the bare non-blocking MySQL client of the client-limit
 * cases (fault_raw.h). Framing, HandshakeV10, HandshakeResponse41, OK/ERR/
 * EOF and the native password reply all come from protocol/.
 */
#include "fault_raw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gtidproxy/auth.h"
#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_handshake.h"
#include "gtidproxy/proto_reply.h"
#include "gtidproxy/proto_rw.h"

/* What this client asks for: the 4.1 protocol with plugin auth, classic
 * EOF packets (no DEPRECATE_EOF: a result set then ends with its second
 * EOF), no session tracking, no TLS, no compression. */
#define RAW_CLIENT_CAPS                                                                            \
    (PROTO_CAP(CLIENT_LONG_PASSWORD) | PROTO_CAP(CLIENT_PROTOCOL_41) |                             \
     PROTO_CAP(CLIENT_SECURE_CONNECTION) | PROTO_CAP(CLIENT_PLUGIN_AUTH) |                         \
     PROTO_CAP(CLIENT_TRANSACTIONS) | PROTO_CAP(CLIENT_MULTI_RESULTS))

#define RAW_CHARSET_UTF8MB4 45
#define RAW_MAX_PACKET      (16u * 1024 * 1024)

static const char *const state_names[] = {
#define RAW_STATE_NAME(name, text) text,
    RAW_STATE_LIST(RAW_STATE_NAME)
#undef RAW_STATE_NAME
};

const char *raw_state_name(enum raw_state s)
{
    return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "?";
}

static void set_state(struct raw_conn *c, enum raw_state s, double now)
{
    c->state = s;
    c->t_changed = now;
}

static void failed(struct raw_conn *c, double now, const char *why)
{
    snprintf(c->why, sizeof c->why, "%s", why);
    set_state(c, RAW_FAILED, now);
}

int raw_connect(struct raw_conn *c, const char *host, unsigned port, double now)
{
    memset(c, 0, sizeof *c);
    c->t_start = c->t_changed = now;
    c->state = RAW_CONNECTING;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        int e = errno;
        failed(c, now, strerror(e));
        return -e;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        int e = errno;
        failed(c, now, strerror(e));
        return -e;
    }
    return 0;
}

void raw_connected(struct raw_conn *c, double now)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err) {
        char why[128];
        snprintf(why, sizeof why, "connect: %s", strerror(err));
        failed(c, now, why);
        return;
    }
    set_state(c, RAW_GREETING, now);
}

int raw_write(struct raw_conn *c, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            /* Small packets into an empty socket buffer: EAGAIN means the
             * peer stopped reading, which these cases treat as a failure. */
            return -errno;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Frames payload as packet `seq` and sends it. */
static int send_packet(struct raw_conn *c, const uint8_t *payload, size_t n, uint8_t seq)
{
    uint8_t out[1024];
    struct proto_wr w;
    proto_wr_init(&w, out, sizeof out);
    proto_frame_write_packet(&w, payload, n, &seq);
    if (proto_wr_finish(&w) != PROTO_OK)
        return -ENOSPC;
    return raw_write(c, out, w.len);
}

static int send_login(struct raw_conn *c, const struct proto_handshake_v10 *hs,
                      const struct raw_login *login)
{
    if (!proto_str_eq(hs->auth_plugin, "mysql_native_password") ||
        hs->scramble_len < AUTH_NONCE_LEN)
        return -1;
    uint8_t reply[AUTH_NATIVE_LEN];
    int rn = auth_native_reply(hs->scramble, login->password, strlen(login->password), reply);
    if (rn < 0)
        return -1;
    struct proto_handshake_response r = {
        .caps = RAW_CLIENT_CAPS & hs->caps,
        .max_packet = RAW_MAX_PACKET,
        .charset = RAW_CHARSET_UTF8MB4,
        .user = {(const uint8_t *)login->user, strlen(login->user)},
        .auth = {reply, (size_t)rn},
        .plugin = {(const uint8_t *)"mysql_native_password", strlen("mysql_native_password")},
    };
    c->caps = r.caps;
    uint8_t payload[512];
    struct proto_wr w;
    proto_wr_init(&w, payload, sizeof payload);
    if (proto_handshake_response_build(&w, &r) != PROTO_OK)
        return -1;
    return send_packet(c, payload, w.len, 1);
}

int raw_query(struct raw_conn *c, const char *sql, double now)
{
    size_t n = strlen(sql);
    uint8_t payload[512];
    if (n + 1 > sizeof payload) {
        failed(c, now, "query too long for raw_query");
        return -1;
    }
    payload[0] = PROTO_COM_QUERY;
    memcpy(payload + 1, sql, n);
    c->eofs = 0;
    c->reply_started = false;
    if (send_packet(c, payload, n + 1, 0) != 0) {
        failed(c, now, "sending the query failed");
        return -1;
    }
    set_state(c, RAW_QUERY, now);
    return 0;
}

static void refused(struct raw_conn *c, const uint8_t *p, size_t n, double now)
{
    struct proto_err e;
    if (proto_err_parse(p, n, c->caps, &e) != PROTO_OK) {
        failed(c, now, "malformed ERR packet");
        return;
    }
    c->err_code = e.code;
    snprintf(c->why, sizeof c->why, "%u %.*s", e.code, (int)e.message.len,
             (const char *)e.message.p);
    set_state(c, RAW_REFUSED, now);
}

/* One whole packet (payload p, n bytes) in the current state. */
static void on_packet(struct raw_conn *c, const uint8_t *p, size_t n, const struct raw_login *login,
                      double now)
{
    switch (c->state) {
    case RAW_GREETING: {
        c->t_first = now;
        struct proto_handshake_v10 hs;
        int rc = proto_handshake_v10_parse(p, n, &hs);
        if (rc == PROTO_EHANDSHAKE_ERR) {
            c->err_code = hs.err.code;
            snprintf(c->why, sizeof c->why, "%u %.*s", hs.err.code, (int)hs.err.message.len,
                     (const char *)hs.err.message.p);
            set_state(c, RAW_REFUSED, now);
            return;
        }
        if (rc != PROTO_OK) {
            failed(c, now, "malformed greeting");
            return;
        }
        if (!login->send_login) {
            set_state(c, RAW_GREETED, now);
            return;
        }
        if (send_login(c, &hs, login) != 0) {
            failed(c, now, "cannot answer the greeting (plugin or send)");
            return;
        }
        set_state(c, RAW_AUTH, now);
        return;
    }
    case RAW_AUTH:
        if (n > 0 && p[0] == PROTO_OK_HEADER)
            set_state(c, RAW_IDLE, now);
        else if (n > 0 && p[0] == PROTO_ERR_HEADER)
            refused(c, p, n, now);
        else
            failed(c, now, "login answered with neither OK nor ERR (auth switch?)");
        return;
    case RAW_QUERY: {
        enum proto_reply_kind k = c->reply_started ? proto_reply_row_kind(p, n, c->caps)
                                                   : proto_reply_first_kind(p, n, c->caps);
        c->reply_started = true;
        if (k == PROTO_REPLY_ERR) {
            refused(c, p, n, now);
        } else if (k == PROTO_REPLY_OK) {
            set_state(c, RAW_IDLE, now);
        } else if (k == PROTO_REPLY_EOF && ++c->eofs == 2) {
            set_state(c, RAW_IDLE, now);
        } else if (k == PROTO_REPLY_LOCAL_INFILE) {
            failed(c, now, "unexpected LOCAL INFILE request");
        }
        return;
    }
    default:
        failed(c, now, "a packet where none was expected");
        return;
    }
}

enum raw_state raw_step(struct raw_conn *c, const struct raw_login *login, double now)
{
    bool eof = false;
    int eof_errno = 0;
    while (!eof) {
        if (c->in_cap - c->in_len < 4096) {
            size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
            uint8_t *b = realloc(c->in, cap);
            if (!b) {
                failed(c, now, "out of memory");
                return c->state;
            }
            c->in = b;
            c->in_cap = cap;
        }
        ssize_t r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (r > 0) {
            c->in_len += (size_t)r;
        } else if (r == 0) {
            eof = true;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else {
            eof = true;
            eof_errno = errno;
        }
    }
    /* What arrived before the close counts first (an ERR, then FIN). */
    size_t off = 0;
    while (c->state != RAW_FAILED && c->state != RAW_CLOSED) {
        struct proto_frame_hdr h;
        const uint8_t *payload;
        if (proto_frame_peek(c->in + off, c->in_len - off, &h, &payload) != PROTO_OK)
            break;
        if (proto_frame_continues(h.len)) {
            failed(c, now, "a packet of 16 MB or more");
            break;
        }
        off += PROTO_FRAME_HDR_LEN + h.len;
        if (c->state == RAW_GREETED && h.len > 0 && payload[0] == PROTO_ERR_HEADER) {
            /* a server-style ERR before closing a client that never logged in */
            refused(c, payload, h.len, now);
            continue;
        }
        if (c->state == RAW_REFUSED || c->state == RAW_GREETED || c->state == RAW_IDLE) {
            failed(c, now, "a packet where none was expected");
            break;
        }
        on_packet(c, payload, h.len, login, now);
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    if (eof && c->state != RAW_REFUSED && c->state != RAW_FAILED && c->state != RAW_CLOSED) {
        snprintf(c->why, sizeof c->why, "closed by the peer in state %s%s%s%s",
                 raw_state_name(c->state), c->in_len ? " inside a packet" : "",
                 eof_errno ? ": " : "", eof_errno ? strerror(eof_errno) : "");
        set_state(c, RAW_CLOSED, now);
    }
    return c->state;
}

void raw_close(struct raw_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->in);
    c->in = NULL;
    c->in_len = c->in_cap = 0;
}
