/*
 * tracker.c - the reply tracker (proto_tracker.h): lifecycle, state names,
 * and the packet handlers shared by all command families (OK, ERR,
 * progress, terminators). Result sets live in tracker_resultset.c, the other
 * command families in tracker_cmd.c; the three files share tracker_int.h.
 *
 *   start(com) ──▶ FIRST ──count──▶ COLDEFS ──▶ [COLDEFS_EOF] ──▶ ROWS ─┐
 *                    │ ▲ OK/ERR                                         │
 *                    │ └──────── terminator with MORE_RESULTS ◀─────────┘
 *                    └─0xFB──▶ INFILE_CLIENT ──client len 0──▶ INFILE_RESULT
 *   every path ends in DONE (reply complete) or FAILED (close the link).
 */
#include "tracker_int.h"

#include <string.h>

#include "gtidproxy/proto_consts.h"

const char *proto_tracker_state_name(enum proto_trk_state s)
{
    switch (s) {
#define PROTO_TRK_STATE_CASE(name, text)                                                           \
    case name:                                                                                     \
        return text;
        PROTO_TRK_STATE_LIST(PROTO_TRK_STATE_CASE)
#undef PROTO_TRK_STATE_CASE
    }
    return "UNKNOWN";
}

const char *proto_trk_pkt_name(enum proto_trk_pkt_kind k)
{
    switch (k) {
#define PROTO_TRK_PKT_CASE(name, text)                                                             \
    case name:                                                                                     \
        return text;
        PROTO_TRK_PKT_LIST(PROTO_TRK_PKT_CASE)
#undef PROTO_TRK_PKT_CASE
    }
    return "UNKNOWN";
}

void proto_tracker_init(struct proto_tracker *t)
{
    memset(t, 0, sizeof *t);
    t->state = PROTO_TRK_IDLE;
}

int proto_trk__fail(struct proto_tracker *t, int rc)
{
    t->state = PROTO_TRK_FAILED;
    return rc < 0 ? rc : PROTO_EBAD;
}

int proto_trk__whole(struct proto_tracker *t, size_t avail, uint64_t len)
{
    /* Packets the tracker decodes (OK, ERR, EOF, counts, PREPARE_OK) never
     * span chunks: an OK may not exceed 0xFFFFFF bytes (MY:pc
     * ER_NET_OK_PACKET_TOO_LARGE) and the others are tiny. */
    if (len >= PROTO_MAX_PAYLOAD)
        return proto_trk__fail(t, PROTO_EBAD);
    if (avail < len) {
        t->need = (size_t)len;
        return PROTO_NEED_MORE;
    }
    return PROTO_OK;
}

int proto_trk__ok(struct proto_tracker *t, const uint8_t *p, size_t len, struct proto_trk_pkt *out)
{
    int rc = proto_ok_parse(p, len, t->caps, &out->ok);
    if (rc != PROTO_OK)
        return proto_trk__fail(t, rc);
    struct proto_trk_result *r = &t->res;
    out->kind = out->ok.header == PROTO_EOF_HEADER ? PROTO_TRK_PKT_OK_EOF : PROTO_TRK_PKT_OK;
    r->status_valid = true;
    r->status = out->ok.status;
    r->warnings = out->ok.warnings;
    if (out->ok.has_session_state)
        r->session_states++;
    if (out->kind == PROTO_TRK_PKT_OK) {
        /* An OK-as-EOF ends rows; its counters are not a statement's. */
        r->oks++;
        r->affected_rows = out->ok.affected_rows;
        r->affected_total += out->ok.affected_rows;
        r->last_insert_id = out->ok.last_insert_id;
    }
    return PROTO_OK;
}

int proto_trk__eof(struct proto_tracker *t, const uint8_t *p, size_t len, struct proto_trk_pkt *out)
{
    struct proto_eof eof;
    int rc = proto_eof_parse(p, len, t->caps, &eof);
    if (rc != PROTO_OK)
        return proto_trk__fail(t, rc);
    out->kind = PROTO_TRK_PKT_EOF;
    t->res.status_valid = true;
    t->res.status = eof.status;
    t->res.warnings = eof.warnings;
    return PROTO_OK;
}

int proto_trk__terminator(struct proto_tracker *t, enum proto_reply_kind kind, const uint8_t *p,
                          size_t len, struct proto_trk_pkt *out, bool *ended)
{
    *ended = false;
    switch (kind) {
    case PROTO_REPLY_ERR:
    case PROTO_REPLY_PROGRESS:
        return proto_trk__err(t, p, len, out);
    case PROTO_REPLY_OK_EOF:
        *ended = true;
        return proto_trk__ok(t, p, len, out);
    case PROTO_REPLY_EOF:
        *ended = true;
        return proto_trk__eof(t, p, len, out);
    default:
        return proto_trk__fail(t, PROTO_EBAD);
    }
}

int proto_trk__err(struct proto_tracker *t, const uint8_t *p, size_t len, struct proto_trk_pkt *out)
{
    if (proto_err_is_progress(p, len)) {
        /* Only a client that negotiated MARIADB_CLIENT_PROGRESS gets these
         * (seen during LOAD DATA LOCAL: "End bulk insert"); the real reply
         * still follows, so the state does not move. */
        struct proto_progress pr;
        if (!(t->caps & PROTO_CAP(MARIADB_CLIENT_PROGRESS)))
            return proto_trk__fail(t, PROTO_EBAD);
        int rc = proto_progress_parse(p, len, &pr);
        if (rc != PROTO_OK)
            return proto_trk__fail(t, rc);
        out->kind = PROTO_TRK_PKT_PROGRESS;
        return PROTO_OK;
    }
    int rc = proto_err_parse(p, len, t->caps, &out->err);
    if (rc != PROTO_OK)
        return proto_trk__fail(t, rc);
    struct proto_trk_result *r = &t->res;
    out->kind = PROTO_TRK_PKT_ERR;
    r->is_error = true;
    r->err_code = out->err.code;
    memset(r->sqlstate, 0, sizeof r->sqlstate);
    if (out->err.has_sqlstate && out->err.sqlstate.len == 5)
        memcpy(r->sqlstate, out->err.sqlstate.p, 5);
    /* An ERR ends the whole reply: the server clears MORE_RESULTS_EXISTS
     * when it sends one (MY:pc net_send_error). */
    proto_trk__set_done(t);
    return PROTO_OK;
}

void proto_trk__set_done(struct proto_tracker *t)
{
    t->state = PROTO_TRK_DONE;
    if (t->binary && t->res.status_valid)
        t->res.cursor_open = (t->res.status & PROTO_SERVER_STATUS_CURSOR_EXISTS) != 0;
}

void proto_trk__end_result(struct proto_tracker *t)
{
    /* MORE_RESULTS_EXISTS continues COM_QUERY (multi-statements, CALL) and
     * COM_STMT_EXECUTE (CALL with PS_MULTI_RESULTS); every other command's
     * reply ends here whatever the flag says. */
    bool multi = t->com == PROTO_COM_QUERY || t->com == PROTO_COM_STMT_EXECUTE;
    if (multi && (t->res.status & PROTO_SERVER_MORE_RESULTS_EXISTS))
        t->state = PROTO_TRK_FIRST;
    else
        proto_trk__set_done(t);
}

int proto_tracker_start(struct proto_tracker *t, uint64_t caps, uint8_t com)
{
    if (t->state != PROTO_TRK_IDLE && t->state != PROTO_TRK_DONE)
        return proto_trk__fail(t, PROTO_EBAD);
    /* MySQL's optional metadata changes the count packet and PREPARE_OK; we
     * never advertise it (PROTOCOL.md 4.2), so a link that has it is not one
     * of ours. */
    if (caps & PROTO_CAP(CLIENT_OPTIONAL_RESULTSET_METADATA))
        return PROTO_EUNSUPPORTED;

    enum proto_trk_state next;
    bool binary = false;
    switch (com) {
    case PROTO_COM_QUERY:
        next = PROTO_TRK_FIRST;
        break;
    case PROTO_COM_STMT_EXECUTE:
        next = PROTO_TRK_FIRST;
        binary = true;
        break;
    case PROTO_COM_STMT_FETCH:
        /* Rows of the open cursor, then EOF/OK (CURSOR_EXISTS or
         * LAST_ROW_SENT), or ERR. No count, no metadata. */
        next = PROTO_TRK_ROWS;
        binary = true;
        break;
    case PROTO_COM_STMT_PREPARE:
        next = PROTO_TRK_PREP_FIRST;
        break;
    case PROTO_COM_FIELD_LIST:
        next = PROTO_TRK_FIELDS;
        break;
    case PROTO_COM_PING:
    case PROTO_COM_INIT_DB:
    case PROTO_COM_RESET_CONNECTION:
    case PROTO_COM_STMT_RESET:
    case PROTO_COM_REFRESH:
    case PROTO_COM_PROCESS_KILL:
        next = PROTO_TRK_SIMPLE;
        break;
    case PROTO_COM_SET_OPTION:
        next = PROTO_TRK_EOF_ONLY;
        break;
    case PROTO_COM_STATISTICS:
        next = PROTO_TRK_STRING;
        break;
    case PROTO_COM_CHANGE_USER:
        next = PROTO_TRK_AUTH;
        break;
    case PROTO_COM_STMT_CLOSE:
    case PROTO_COM_STMT_SEND_LONG_DATA:
    case PROTO_COM_QUIT:
        /* No reply at all (COM_QUIT: the server just closes). */
        next = PROTO_TRK_DONE;
        break;
    default:
        return PROTO_EUNSUPPORTED;
    }
    memset(&t->res, 0, sizeof t->res);
    t->caps = caps;
    t->com = com;
    t->binary = binary;
    t->left = 0;
    t->need = 0;
    t->state = next;
    return PROTO_OK;
}

/* States in which the server is the one to talk. */
static bool accepts_server_packet(enum proto_trk_state s)
{
    switch (s) {
    case PROTO_TRK_IDLE:
    case PROTO_TRK_DONE:
    case PROTO_TRK_FAILED:
    case PROTO_TRK_INFILE_CLIENT:
    case PROTO_TRK_AUTH_CLIENT:
        return false;
    default:
        return true;
    }
}

int proto_tracker_feed(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                       struct proto_trk_pkt *out)
{
    /* Only kind and done are always set; ok/err are filled for their kinds
     * (clearing ~150 bytes per row would cost more than tracking it). */
    out->kind = PROTO_TRK_PKT_ROW;
    out->done = false;
    if (t->state == PROTO_TRK_FAILED)
        return PROTO_EBAD;
    if (avail > len)
        avail = (size_t)len;
    /* Every server packet in a reply has at least its first byte; the only
     * empty packets of the protocol are client ones (LOCAL INFILE end). */
    if (len == 0)
        return proto_trk__fail(t, PROTO_EBAD);
    if (avail == 0) {
        if (!accepts_server_packet(t->state))
            return proto_trk__fail(t, PROTO_EBAD);
        t->need = 1;
        return PROTO_NEED_MORE;
    }

    int rc;
    switch (t->state) {
    case PROTO_TRK_FIRST:
    case PROTO_TRK_COLDEFS:
    case PROTO_TRK_COLDEFS_EOF:
    case PROTO_TRK_ROWS:
    case PROTO_TRK_INFILE_RESULT:
        rc = proto_trk__feed_resultset(t, p, avail, len, out);
        break;
    case PROTO_TRK_PREP_FIRST:
    case PROTO_TRK_PREP_PARAMS:
    case PROTO_TRK_PREP_PARAMS_EOF:
    case PROTO_TRK_PREP_COLS:
    case PROTO_TRK_PREP_COLS_EOF:
    case PROTO_TRK_FIELDS:
    case PROTO_TRK_SIMPLE:
    case PROTO_TRK_EOF_ONLY:
    case PROTO_TRK_STRING:
    case PROTO_TRK_AUTH:
    case PROTO_TRK_AUTH_MORE:
        rc = proto_trk__feed_cmd(t, p, avail, len, out);
        break;
    case PROTO_TRK_FAILED:
        return PROTO_EBAD;
    case PROTO_TRK_IDLE:
    case PROTO_TRK_DONE:
    case PROTO_TRK_INFILE_CLIENT:
    case PROTO_TRK_AUTH_CLIENT:
    default:
        /* A server packet nobody asked for, or one while the server should
         * be waiting for the client. */
        return proto_trk__fail(t, PROTO_EBAD);
    }
    if (rc == PROTO_OK)
        out->done = t->state == PROTO_TRK_DONE;
    return rc;
}

int proto_tracker_client_packet(struct proto_tracker *t, uint64_t len)
{
    switch (t->state) {
    case PROTO_TRK_INFILE_CLIENT:
        /* File contents in any number of packets; the empty one ends it. */
        if (len == 0)
            t->state = PROTO_TRK_INFILE_RESULT;
        return PROTO_OK;
    case PROTO_TRK_AUTH_CLIENT:
    case PROTO_TRK_AUTH_MORE:
        t->state = PROTO_TRK_AUTH;
        return PROTO_OK;
    default:
        return proto_trk__fail(t, PROTO_EBAD);
    }
}
