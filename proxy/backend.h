/*
 * backend.h - one connection from a session to one backend server: connect,
 * log in (backend_auth), arm session tracking, apply the session's state,
 * run the client's commands and relay their replies.
 *
 *   CONNECTING ─▶ LOGIN ─▶ INIT (SET session_track_*) ─▶ IDLE ◀──────────┐
 *                                                       │  ├─▶ SYNC ─────┤ (proxy's own SET /
 * COM_INIT_DB) │  └─▶ BUSY ─────┘ (the client's command) any failure ─▶ CLOSED (the session is told
 * once, with the reason)
 *
 * Reply relay (backend -> client), per read:
 *   bytes ─▶ whole small packets ─▶ tracker ─▶ OK rewritten for the client's caps
 *        │                                   └▶ everything else copied as is
 *        └▶ a large packet (rows, blobs) streams through chunk by chunk
 * A small packet cut by a read boundary stays in the read buffer until it
 * is complete, so every OK/ERR/EOF is seen whole (and can be rewritten) and
 * the tracker's scratch buffer is never needed; only packets over
 * BCONN_HOLD_MAX are streamed in pieces, and a server never sends an OK that
 * large.
 */
#ifndef GTIDPROXY_BACKEND_H
#define GTIDPROXY_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "backend_auth.h"
#include "buf.h"
#include "gtidproxy/proto_tracker_stream.h"
#include "sess_vars.h"
#include "wq.h"

/* Packets up to this size are relayed whole (held across reads). */
#define BCONN_HOLD_MAX (64u * 1024u)

#define BCONN_STATE_LIST(X)                                                                        \
    X(BCONN_CONNECTING, "CONNECTING")                                                              \
    X(BCONN_LOGIN, "LOGIN")                                                                        \
    X(BCONN_INIT, "INIT")                                                                          \
    X(BCONN_IDLE, "IDLE")                                                                          \
    X(BCONN_SYNC, "SYNC")                                                                          \
    X(BCONN_BUSY, "BUSY")                                                                          \
    X(BCONN_CLOSED, "CLOSED")

enum bconn_state {
#define BCONN_STATE_ENUM(name, text) name,
    BCONN_STATE_LIST(BCONN_STATE_ENUM)
#undef BCONN_STATE_ENUM
};
const char *bconn_state_name(enum bconn_state s);

struct session;

struct bconn {
    struct session *s;
    size_t idx;           /* backend index in struct proxy */
    struct backend_info *info; /* its shared counters (outlive the session) */
    uint64_t serial;      /* unique within the session (stmt.h) */
    uint32_t prepared_id; /* server id of the proxy's own last COM_STMT_PREPARE */
    enum bconn_state state;
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_timer_t timer; /* connect + login timeout, then timeouts.backend_query_ms */
    int open_handles; /* tcp, timer: freed when both closed */
    struct bauth auth;
    uint64_t caps; /* negotiated with the backend */
    bool mariadb;
    struct buf in;
    struct wq out;
    bool read_paused; /* RD_PAUSED_CLIENT_FULL: the client's queue is over high water */
    struct proto_tracker_stream ts;
    uint64_t chunk_left;   /* bytes of a streamed large chunk still to come */
    bool forward;          /* the reply in flight goes to the client (else the proxy's own) */
    bool to_primary;       /* the client command in flight went to the primary of its time */
    uint8_t internal_com;  /* the proxy's own command in flight (INIT/SYNC) */
    uint64_t forwarded;    /* reply bytes sent to the client for the current command */
    struct sess_vars have; /* session state in force on this connection */
    uint64_t synced_gen;   /* the session's svars gen `have` matches */
    char err[256];         /* the proxy's own command's ERR text (SYNC/INIT) */
    uint16_t err_code;     /* ... and the server's error number (0: none) */
    /* A catch-up wait (session_gate.c) in front of the client's query: */
    bool wait_prefix;      /* the reply's first result is the wait's: consume it */
    bool wait_failed;      /* ... and it was an ERR: the reply ended there */
    uint8_t seq_shift;     /* forwarded packets' sequence ids are lowered by this */
    bool internal_wait;    /* the proxy's own statement in flight is a wait */
    bool deferred_fail;    /* connect failed synchronously: report from the timer */
};

/* Starts connecting to backend idx for session s (the session owns the
 * struct). Failures are reported later through session_backend_failed(),
 * never from inside this call. */
struct bconn *bconn_open(struct session *s, size_t idx);

/* Sends a client command (framed bytes; the logical packet's last sequence
 * id last_seq) and relays its reply. State must be IDLE. */
int bconn_send_command(struct bconn *b, const uint8_t *p, size_t n, uint8_t com, uint8_t last_seq)
    __attribute__((warn_unused_result));

/* Sends the proxy's own COM_QUERY (sql) or COM_INIT_DB (schema); the reply
 * is consumed, and session_backend_ready() / _failed() follow. */
int bconn_send_internal(struct bconn *b, uint8_t com, const char *text, size_t len)
    __attribute__((warn_unused_result));

/* Sends a catch-up wait and the client's COM_QUERY text as one
 * multi-statement ("wait;text"; the connection must have
 * CLIENT_MULTI_STATEMENTS). The wait's reply is consumed here and reported
 * through session_wait_done(); the rest is relayed as the reply to the
 * client's query, sequence ids lowered to what a reply to the query alone
 * carries. */
int bconn_send_query_waited(struct bconn *b, const char *wait, size_t wait_len,
                            const uint8_t *text, size_t len) __attribute__((warn_unused_result));

/* Sends a catch-up wait alone (the proxy's own statement); its outcome
 * comes through session_wait_done(), the connection stays open. */
int bconn_send_wait(struct bconn *b, const char *sql, size_t len)
    __attribute__((warn_unused_result));

/* Forwards client packets that belong to the running exchange (LOCAL
 * INFILE data): framed bytes, the packet's seq and logical length. */
int bconn_forward_client(struct bconn *b, const uint8_t *p, size_t n, uint8_t seq, uint64_t len)
    __attribute__((warn_unused_result));

/* Resumes reading a paused backend (the client's queue drained). */
void bconn_resume(struct bconn *b);

/* Closes the connection (idempotent); the struct is freed after libuv's
 * close callbacks. The session is not told. */
void bconn_close(struct bconn *b);

#endif
