/*
 * session.h - one client connection: login, then a loop of commands, each
 * routed to a backend connection whose reply streams back.
 *
 *   LOGIN ──▶ IDLE ──command──▶ WAIT_BACKEND ──(backend ready, synced)──▶ RUNNING
 *              ▲                                                          │
 *              └─────────────── reply done (status flags noted) ◀─────────┘
 *   RUNNING + LOCAL INFILE: client packets flow to the backend until the
 *   empty packet; then the reply continues.
 *   Any side may fail: session_close() with the reason, once.
 */
#ifndef GTIDPROXY_SESSION_H
#define GTIDPROXY_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "backend.h"
#include "buf.h"
#include "client_auth.h"
#include "gate.h"
#include "gtidproxy/gtid_set.h"
#include "gtidproxy/proto_tracker.h"
#include "router.h"
#include "sess_vars.h"
#include "stmt.h"
#include "wq.h"

#define SESS_STATE_LIST(X)                                                                         \
    X(SESS_LOGIN, "LOGIN")                                                                         \
    X(SESS_LOGIN_DB, "LOGIN_DB") /* checking the login's database on the primary */                \
    X(SESS_IDLE, "IDLE")                                                                           \
    X(SESS_GATE, "GATE") /* a read waits for the primary's executed set (strong) */                \
    X(SESS_WAIT_BACKEND, "WAIT_BACKEND")                                                           \
    X(SESS_RUNNING, "RUNNING")                                                                     \
    X(SESS_CLOSING, "CLOSING")

enum sess_state {
#define SESS_STATE_ENUM(name, text) name,
    SESS_STATE_LIST(SESS_STATE_ENUM)
#undef SESS_STATE_ENUM
};
const char *sess_state_name(enum sess_state s);

struct worker;
struct proxy_snapshot;

#define GATE_PHASE_LIST(X)                                                                         \
    X(GPH_NONE, "none")         /* not a gated read, or its backend is chosen for good */          \
    X(GPH_STRONG, "strong")     /* waiting for the primary's executed set */                       \
    X(GPH_WAIT, "wait")         /* a catch-up wait goes first on wait_idx */                       \
    X(GPH_WAIT_SENT, "wait sent") /* ... and was sent; its answer decides */

enum gate_phase {
#define GATE_PHASE_ENUM(name, text) name,
    GATE_PHASE_LIST(GATE_PHASE_ENUM)
#undef GATE_PHASE_ENUM
};

/* The consistency gate's state for the read being routed (session_gate.c). */
struct sess_gate {
    bool active;              /* this command is a gated read */
    enum gate_phase phase;
    enum gate_level level;
    uint64_t deadline_ms;     /* the read's budget ends */
    unsigned budget_ms;
    uint64_t wait_started_us;
    size_t wait_idx;          /* the replica waited on */
    size_t prefer;            /* a prepared statement's home replica, or SIZE_MAX */
    uint64_t strong_ticket;
    enum fallback_step chain[CONFIG_MAX_FALLBACK];
    unsigned n_chain, next_step;
    char why[256];            /* why the replicas did not serve (for ERR 9005) */
    bool why_later;           /* why is "no replica usable", not yet written */
};

/* The result cache's state for the current command (session_cache.c). */
struct sess_cache {
    bool on;          /* may be served from the cache, and stored in it */
    bool capture;     /* the reply is being copied into `reply` */
    unsigned ttl_ms;  /* consistent hits up to this age (0: none) */
    unsigned max_stale_ms; /* the fallback step `cache` up to this age (0: none) */
    size_t server;    /* the backend the captured reply comes from */
    struct buf key;   /* user, schema, session variables, caps, text */
    struct buf reply; /* the reply as the client gets it */
    struct gtid_set tag; /* known applied there before the read was sent */
};

struct session {
    struct session *prev, *next; /* the worker's list */
    /* What the worker's idle check reads of every session, together at the
     * start (one or two cache lines per session for its walk). */
    enum sess_state state;
    bool cmd_held;           /* cmd may hold storage (trim_buffers() gives it back) */
    uint64_t last_active_ms; /* a command arrived or ended: the idle clock (client_idle_ms) */
    struct proxy_snapshot *snap;
    struct worker *w;
    uint32_t id;
    char peer[64];
    uv_tcp_t tcp;
    uv_timer_t timer; /* login timeout, the gate's budgets (idle: session_idle_check) */
    int open_handles;
    bool counted; /* holds a slot of max_client_connections */
    struct cauth auth;
    uint64_t caps; /* negotiated with the client */
    /* in, cmd, out: storage from the worker's pool, held only while bytes
     * are pending or a command is in flight (see trim_buffers in session.c). */
    struct buf in;
    struct wq out;
    bool read_paused;
    bool close_after_write;
    bool draining;
    /* Backends, indexed like proxy.backends; opened lazily. */
    struct bconn **be;
    size_t n_be;
    struct bconn *cur;  /* runs the current command */
    struct bconn *last; /* ran the previous command */
    struct bconn *trx;  /* holds the open transaction */
    /* The command being routed: one whole logical packet, framed. */
    struct buf cmd;
    size_t cmd_wire; /* its bytes on the wire (headers included) */
    bool cmd_whole;  /* one chunk (under 16 MB): header + payload */
    uint8_t cmd_com;
    uint8_t cmd_last_seq;
    bool cmd_is_read;  /* may be retried elsewhere before any reply byte */
    const struct query_rule *cmd_rule; /* the query rule the command matched, or NULL */
    size_t cmd_target; /* backend index */
    uint64_t tried;    /* backends the command failed on (bit per index) */
    struct route_state route;
    struct pstmt_map stmts; /* prepared statements (binary protocol) */
    struct pstmt *cmd_stmt; /* the statement the current command names */
    bool cmd_prepare_read;  /* COM_STMT_PREPARE of a proven read */
    uint32_t last_prepared; /* id of the last successful PREPARE (EXECUTE id -1) */
    uint64_t next_serial;   /* numbers backend connections (stmt.h) */
    const char *trx_lost;   /* the backend that held the open transaction died */
    bool infile;            /* LOCAL INFILE: client packets go to cur */
    bool post_sync;         /* the proxy's own statement after a reply (collation) */
    bool dispatching;       /* inside dispatch(): answers need no process_input() */
    struct buf pending_ok;  /* login OK held back while the database is checked */
    struct sess_vars want;
    uint8_t charset; /* the handshake's collation id */
    size_t listener; /* index in the config's listeners */
    /* Consistency (session_gate.c). */
    enum consistency_level level_cfg; /* the user's, the listener's or the default */
    int level_set;                    /* SET gtidproxy_consistency (-1: not set) */
    struct gtid_set writes;           /* every GTID this session wrote */
    struct gtid_set token;            /* handed in by SET gtidproxy_token */
    struct gtid_set need;             /* the current read's need */
    struct gtid_set scratch;
    struct sess_gate g;
    struct sess_cache cache;
    /* For the admin API (GET /sessions). Times are the worker loop's
     * (uv_now: no clock read per command). */
    uint64_t connected_ms;   /* at accept */
    uint64_t last_cmd_ms;    /* the last command arrived */
    uint64_t queries;        /* commands */
    uint64_t bytes_in;       /* from the client (bytes out: out.sent) */
    bool cmd_read;           /* the current command was routed as a read */
    bool cmd_counted;        /* ... and counted in the worker's queries by route */
};

/* Accepts a connection from listener li (called by the worker). */
void session_accept(struct worker *w, uv_stream_t *server, size_t li);
/* Closes the session; with send_err an ERR (GP_ER_*) was queued before. */
void session_close(struct session *s, bool flush, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* SIGTERM: close now if idle, else after the current reply. */
void session_drain(struct session *s);
/* The worker's periodic check (now_ms: its loop time): an idle session
 * past timeouts.client_idle_ms closes, and an idle one gives back any
 * buffer it still holds. */
void session_idle_check(struct session *s, uint64_t now_ms);
struct session *session_next(struct session *s);
/* The monitor answered a strong look-up: sessions waiting for one go on. */
void session_strong_ready(struct session *s);

/* From backend.c. */
struct buf *session_client_out(struct session *s);
uint64_t session_client_caps(const struct session *s);
void session_flush(struct session *s);
bool session_client_full(const struct session *s);
void session_backend_ready(struct session *s, struct bconn *b);
void session_backend_failed(struct session *s, struct bconn *b, int gp_err, const char *why);
/* Bytes of the current reply as queued for the client (backend.c): the
 * result cache keeps a copy of a reply it may store. */
void session_cache_reply(struct session *s, const uint8_t *p, size_t n);
void session_reply_packet(struct session *s, struct bconn *b, const struct proto_trk_pkt *pkt);
/* A catch-up wait on b ended: reached, or not (why: the server's ERR). */
void session_wait_done(struct session *s, struct bconn *b, bool reached, const char *why);
void session_reply_done(struct session *s, struct bconn *b, const struct proto_trk_result *res);
void session_backend_closed(struct session *s, struct bconn *b);
void session_backend_drained(struct session *s, struct bconn *b);
/* A PREPARE_OK for the client's COM_STMT_PREPARE: returns the id the client
 * gets (0: out of memory; the session is closing). */
uint32_t session_prepared(struct session *s, struct bconn *b, uint32_t srv_id, uint16_t num_params);

/* For worker.c's list. */
void session__link(struct session *s, struct session **head);
void session__unlink(struct session *s, struct session **head);

#endif
