/*
 * proto_tracker.h - the reply tracker: one state machine per backend
 * connection that follows the server's reply to one command, packet by
 * packet, and says when the reply is complete and how it ended (status
 * flags, warnings, error, affected rows, result sets, prepared-statement
 * ids, the OK packets' session state for GTID tracking).
 *
 * Reply shapes: shared/PROTOCOL.md sections 3 and 4.
 *
 *   proxy ──cmd──▶ backend                 tracker
 *         start(caps, com) ─────────────▶  FIRST / PREP_FIRST / AUTH / ...
 *         ◀── packet ── backend ── feed() ▶ ... ─▶ DONE
 *         client LOCAL INFILE / auth ──── client_packet() ─▶ (state change)
 *
 * Feeding contract. The caller frames the stream (proto_frame.h) and feeds
 * each LOGICAL server packet once, as soon as it likes:
 *     proto_tracker_feed(t, p, avail, len, &pkt)
 * p points at the first avail bytes of the payload, len is the payload
 * length from the first chunk's header: len >= 0xFFFFFF means the packet
 * continues in further chunks (pass 0xFFFFFF; do not feed continuation
 * chunks). The tracker decodes whole payloads only where it must (OK, ERR,
 * EOF, column count, PREPARE_OK); for those it returns PROTO_NEED_MORE until
 * avail == len, and t->need says how many bytes it wants. Rows and column
 * definitions need only their first byte, so a proxy can forward a huge row
 * while it streams. Everything in *pkt that points into p (OK info and
 * session state, ERR message) is valid only as long as the caller's buffer;
 * copy what you need (e.g. the GTID) before reusing it.
 *
 * proto_tracker_stream.h packages exactly this loop (framer + tracker +
 * a scratch buffer for decoded packets that straddle two reads).
 *
 * Client packets that are part of the same exchange (LOCAL INFILE file
 * contents and its empty end packet, auth responses during COM_CHANGE_USER)
 * are reported with proto_tracker_client_packet().
 *
 * Failure is closed: a packet that cannot occur in the current state (or
 * bytes that do not parse) returns PROTO_EBAD and parks the tracker in
 * FAILED; the connection must be closed. Nothing allocates.
 */
#ifndef GTIDPROXY_PROTO_TRACKER_H
#define GTIDPROXY_PROTO_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/proto_reply.h"
#include "gtidproxy/proto_rw.h"

/* States. Printable with proto_tracker_state_name(). */
#define PROTO_TRK_STATE_LIST(X)                                                                    \
    X(PROTO_TRK_IDLE, "IDLE")                   /* no command started */                           \
    X(PROTO_TRK_FIRST, "FIRST")                 /* OK/ERR/0xFB/column count */                     \
    X(PROTO_TRK_COLDEFS, "COLDEFS")             /* column definitions left */                      \
    X(PROTO_TRK_COLDEFS_EOF, "COLDEFS_EOF")     /* EOF after the definitions */                    \
    X(PROTO_TRK_ROWS, "ROWS")                   /* rows, then EOF/OK/ERR */                        \
    X(PROTO_TRK_INFILE_CLIENT, "INFILE_CLIENT") /* client sends the file */                        \
    X(PROTO_TRK_INFILE_RESULT, "INFILE_RESULT") /* OK/ERR after the file */                        \
    X(PROTO_TRK_PREP_FIRST, "PREP_FIRST")       /* PREPARE_OK or ERR */                            \
    X(PROTO_TRK_PREP_PARAMS, "PREP_PARAMS")     /* parameter definitions */                        \
    X(PROTO_TRK_PREP_PARAMS_EOF, "PREP_PARAMS_EOF")                                                \
    X(PROTO_TRK_PREP_COLS, "PREP_COLS") /* result column definitions */                            \
    X(PROTO_TRK_PREP_COLS_EOF, "PREP_COLS_EOF")                                                    \
    X(PROTO_TRK_FIELDS, "FIELDS")           /* COM_FIELD_LIST definitions */                       \
    X(PROTO_TRK_SIMPLE, "SIMPLE")           /* exactly one OK or ERR */                            \
    X(PROTO_TRK_EOF_ONLY, "EOF_ONLY")       /* COM_SET_OPTION: EOF or ERR */                       \
    X(PROTO_TRK_STRING, "STRING")           /* COM_STATISTICS: one string */                       \
    X(PROTO_TRK_AUTH, "AUTH")               /* AuthSwitch/MoreData/OK/ERR */                       \
    X(PROTO_TRK_AUTH_CLIENT, "AUTH_CLIENT") /* client's auth reply is due */                       \
    X(PROTO_TRK_AUTH_MORE, "AUTH_MORE")     /* after AuthMoreData: either */                       \
    X(PROTO_TRK_DONE, "DONE")               /* reply complete */                                   \
    X(PROTO_TRK_FAILED, "FAILED")           /* protocol violation */

enum proto_trk_state {
#define PROTO_TRK_STATE_ENUM(name, text) name,
    PROTO_TRK_STATE_LIST(PROTO_TRK_STATE_ENUM)
#undef PROTO_TRK_STATE_ENUM
};

const char *proto_tracker_state_name(enum proto_trk_state s);

/* What one fed packet was. Printable with proto_trk_pkt_name(). */
#define PROTO_TRK_PKT_LIST(X)                                                                      \
    X(PROTO_TRK_PKT_OK, "OK")                                                                      \
    X(PROTO_TRK_PKT_ERR, "ERR")                                                                    \
    X(PROTO_TRK_PKT_EOF, "EOF")           /* classic 0xFE EOF */                                   \
    X(PROTO_TRK_PKT_OK_EOF, "OK_EOF")     /* 0xFE OK (DEPRECATE_EOF) */                            \
    X(PROTO_TRK_PKT_PROGRESS, "PROGRESS") /* MariaDB progress report */                            \
    X(PROTO_TRK_PKT_LOCAL_INFILE, "LOCAL_INFILE")                                                  \
    X(PROTO_TRK_PKT_COLUMN_COUNT, "COLUMN_COUNT")                                                  \
    X(PROTO_TRK_PKT_COLUMN_DEF, "COLUMN_DEF")                                                      \
    X(PROTO_TRK_PKT_ROW, "ROW")                                                                    \
    X(PROTO_TRK_PKT_PREPARE_OK, "PREPARE_OK")                                                      \
    X(PROTO_TRK_PKT_PARAM_DEF, "PARAM_DEF")                                                        \
    X(PROTO_TRK_PKT_AUTH_SWITCH, "AUTH_SWITCH")                                                    \
    X(PROTO_TRK_PKT_AUTH_MORE, "AUTH_MORE")                                                        \
    X(PROTO_TRK_PKT_STRING, "STRING") /* COM_STATISTICS text */

enum proto_trk_pkt_kind {
#define PROTO_TRK_PKT_ENUM(name, text) name,
    PROTO_TRK_PKT_LIST(PROTO_TRK_PKT_ENUM)
#undef PROTO_TRK_PKT_ENUM
};

const char *proto_trk_pkt_name(enum proto_trk_pkt_kind k);

/* Per-packet output of proto_tracker_feed(); meaningful after PROTO_OK. */
struct proto_trk_pkt {
    enum proto_trk_pkt_kind kind;
    struct proto_ok ok;   /* OK / OK_EOF only: views into the fed payload */
    struct proto_err err; /* ERR only: views into the fed payload */
    bool done;            /* the reply is complete after this packet */
};

/* The reply so far; final once the state is DONE. The status answers "in a
 * transaction?" (PROTO_SERVER_STATUS_IN_TRANS), autocommit, etc. for the
 * session after the reply; the GTID of a commit is in the session state of
 * the OK packet that reported it (struct proto_trk_pkt, at feed time). */
struct proto_trk_result {
    bool status_valid; /* an OK/EOF was seen (an ERR carries none) */
    uint16_t status;   /* SERVER_* flags of the last OK/EOF */
    uint16_t warnings; /* warnings of the last OK/EOF */
    bool is_error;     /* the reply ended with an ERR (an ERR always ends it) */
    uint16_t err_code;
    char sqlstate[6];        /* NUL-terminated; "" when the ERR had none */
    uint32_t result_sets;    /* column-count packets seen */
    uint32_t oks;            /* OK packets (not OK-as-EOF) seen */
    uint64_t affected_rows;  /* of the last OK */
    uint64_t affected_total; /* summed over all OKs (multi-statement) */
    uint64_t last_insert_id; /* of the last OK */
    uint64_t rows;           /* rows over all result sets */
    uint32_t session_states; /* OK/OK_EOF packets that carried session state */
    bool out_params;         /* a result set flagged SERVER_PS_OUT_PARAMS */
    bool cursor_open;        /* EXECUTE/FETCH left an open cursor */
    bool local_infile;       /* the server asked for a LOCAL INFILE */
    /* COM_STMT_PREPARE (num_columns also counts COM_FIELD_LIST definitions) */
    uint32_t stmt_id;
    uint16_t num_params;
    uint16_t num_columns;
    uint16_t prepare_warnings;
};

struct proto_tracker {
    enum proto_trk_state state;
    uint64_t caps; /* negotiated capabilities (MariaDB ext in bits 32..) */
    uint8_t com;   /* command being answered */
    bool binary;   /* rows are binary-protocol rows (EXECUTE/FETCH) */
    uint64_t left; /* definitions left in COLDEFS/PREP_* states */
    size_t need;   /* after PROTO_NEED_MORE: payload bytes wanted */
    struct proto_trk_result res;
};

/* Sets IDLE. */
void proto_tracker_init(struct proto_tracker *t);

/*
 * Starts tracking the reply to command byte com (PROTO_COM_*) on a
 * connection that negotiated caps. Commands without a reply
 * (COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA, COM_QUIT) go straight to DONE.
 * Returns PROTO_OK; PROTO_EUNSUPPORTED for commands this tracker does not
 * follow (binlog dump, COM_STMT_BULK_EXECUTE, ...) or for caps with
 * CLIENT_OPTIONAL_RESULTSET_METADATA (never advertised; its reply shapes
 * are not handled); PROTO_EBAD (and FAILED) when the previous reply was not
 * finished or the tracker had failed. Resets the result.
 */
int proto_tracker_start(struct proto_tracker *t, uint64_t caps, uint8_t com)
    __attribute__((warn_unused_result));

/*
 * Feeds one server packet (see the contract at the top). Returns PROTO_OK
 * (the packet was taken; *out says what it was), PROTO_NEED_MORE (offer the
 * same packet again with at least t->need bytes; nothing changed), or
 * PROTO_EBAD / PROTO_ETRUNC (malformed or unexpected: state FAILED, sticky).
 */
int proto_tracker_feed(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                       struct proto_trk_pkt *out) __attribute__((warn_unused_result));

/*
 * Reports one client packet (logical, total length len) sent while the
 * reply is in flight. Valid in INFILE_CLIENT (file contents; len 0 ends the
 * file and the server's OK/ERR is next), AUTH_CLIENT and AUTH_MORE (an auth
 * response). Anywhere else: PROTO_EBAD and FAILED.
 */
int proto_tracker_client_packet(struct proto_tracker *t, uint64_t len)
    __attribute__((warn_unused_result));

static inline bool proto_tracker_done(const struct proto_tracker *t)
{
    return t->state == PROTO_TRK_DONE;
}

/* True while the server is waiting for the client (LOCAL INFILE contents, an
 * auth response): the proxy must forward client packets, not a command. */
static inline bool proto_tracker_awaits_client(const struct proto_tracker *t)
{
    return t->state == PROTO_TRK_INFILE_CLIENT || t->state == PROTO_TRK_AUTH_CLIENT;
}

#endif
