/*
 * session_stmt.c - a session's prepared statements (binary protocol): where
 * each statement command runs, and fitting the command to that backend.
 *
 *   COM_STMT_PREPARE  a proven read on a replica, else the primary; the
 *                     PREPARE_OK's id becomes the session's (stmt.h)
 *   EXECUTE           of a read outside a transaction: through the
 *                     consistency gate (its home replica when caught up);
 *                     else the transaction's server or the primary;
 *                     prepared there first when needed
 *   LONG_DATA         where the next EXECUTE runs (a read's: the primary)
 *   FETCH / RESET     where the statement last ran (the cursor)
 *   CLOSE             every backend that prepared it; no reply
 */
#include <string.h>

#include "gtidproxy/classify.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_stmt.h"
#include "log.h"
#include "proxy.h"
#include "session_int.h"
#include "worker.h"

static struct proxy *px_of(struct session *s)
{
    return s->w->px;
}

/*
 * Makes the current statement command fit backend b: prepares the statement
 * there first if needed (returns 1: wait for it), then writes b's server id
 * into the command, and the parameter types when this server has not seen
 * them (libmariadb sends them only with the first EXECUTE after a bind).
 * Returns 0 to send, -1 after answering the client with an error.
 */
int session__stmt_on_backend(struct session *s, struct bconn *b)
{
    struct pstmt *p = s->cmd_stmt;
    uint32_t srv = pstmt_srv_id(p, b->idx, b->serial);
    if (!srv) {
        if (s->cmd_com == PROTO_COM_STMT_FETCH || !p->sql) {
            session__reply_error(s, GP_ER_UNKNOWN_STMT_HANDLER,
                                 "Unknown prepared statement handler (%u) given to %s (its backend "
                                 "connection was lost)",
                                 p->id, proto_com_name(s->cmd_com));
            return -1;
        }
        if (bconn_send_internal(b, PROTO_COM_STMT_PREPARE, p->sql, p->sql_len) != 0) {
            session__reply_error(s, GP_ER_OUT_OF_MEMORY, "out of memory");
            return -1;
        }
        return 1;
    }
    uint8_t *payload = s->cmd.data + s->cmd.off + PROTO_FRAME_HDR_LEN;
    size_t n = s->cmd_wire - PROTO_FRAME_HDR_LEN;
    bool whole = s->cmd_whole;
    if (proto_stmt_set_id(payload, n, srv) != PROTO_OK) {
        session__reply_error(s, GP_ER_UNSUPPORTED, "gtidproxy: malformed %s",
                             proto_com_name(s->cmd_com));
        return -1;
    }
    if (s->cmd_com != PROTO_COM_STMT_EXECUTE || p->num_params == 0)
        return 0;
    struct pstmt_srv *sv = &p->srv[b->idx];
    struct proto_stmt_exec ex;
    if (!whole || proto_stmt_execute_parse(payload, n, p->num_params, &ex) != PROTO_OK) {
        if (whole) {
            session__reply_error(s, GP_ER_UNSUPPORTED, "gtidproxy: malformed COM_STMT_EXECUTE");
            return -1;
        }
        sv->types_sent = true; /* over 16 MB: relayed as sent */
        return 0;
    }
    if (ex.types_bound) { /* the statement took them when it was routed (note_types) */
        sv->types_sent = true;
        return 0;
    }
    if (sv->types_sent)
        return 0;
    if (!p->types) {
        session__reply_error(s, GP_ER_UNSUPPORTED,
                             "gtidproxy: COM_STMT_EXECUTE without parameter types for a statement "
                             "never executed with them");
        return -1;
    }
    /* Rebuild the command with the types, in place of the client's. */
    struct buf re = {.pool = s->cmd.pool}; /* it becomes cmd */
    struct proto_wr w;
    struct proto_str types = {p->types, 2u * p->num_params};
    if (gp_packet_begin(&re, n + types.len + 1, &w) != 0 ||
        proto_stmt_execute_with_types(&w, payload, n, p->num_params, types, srv) != PROTO_OK ||
        gp_packet_end(&re, &w, 0) != 0) {
        buf_free(&re);
        session__reply_error(s, GP_ER_UNSUPPORTED, "gtidproxy: cannot resend parameter types");
        return -1;
    }
    buf_free(&s->cmd);
    s->cmd = re;
    s->cmd_wire = re.len;
    sv->types_sent = true;
    return 0;
}

uint32_t session_prepared(struct session *s, struct bconn *b, uint32_t srv_id, uint16_t num_params)
{
    const uint8_t *payload = buf_head(&s->cmd) + PROTO_FRAME_HDR_LEN;
    size_t n = s->cmd_wire - PROTO_FRAME_HDR_LEN;
    bool whole = s->cmd_whole;
    struct pstmt *p = pstmt_add(&s->stmts, whole ? (const char *)payload + 1 : NULL,
                                whole ? n - 1 : 0, s->cmd_prepare_read, num_params, b->idx);
    if (!p) {
        session_close(s, false, "out of memory");
        return 0;
    }
    pstmt_set_srv(p, b->idx, b->serial, srv_id);
    s->last_prepared = p->id;
    return p->id;
}

/* COM_STMT_PREPARE: a proven read is prepared on a replica (its EXECUTEs
 * run there), anything else on the primary; in a transaction, where it runs. */
struct route_decision session__prepare_route(struct session *s, const uint8_t *payload, size_t len,
                                             bool whole)
{
    s->cmd_prepare_read = false;
    s->last_prepared = 0; /* until this PREPARE succeeds */
    if (whole) {
        struct classify_result cr;
        (void)classify_query(payload + 1, len - 1, 0, &cr);
        /* A read of user variables or of the previous statement's state
         * is left to the primary: its EXECUTEs may come after any later
         * SET @a or write (the text path decides per statement). */
        s->cmd_prepare_read = cr.kind == CLASSIFY_READ &&
                              !(cr.flags & (CLASSIFY_F_USES_USER_VAR | CLASSIFY_F_PREV_STMT_STATE));
        /* Before routing it: a prepared SET @a = ? or CREATE TEMPORARY
         * TABLE must keep later reads of them on the primary. */
        router_note_effects(&cr, &s->route, false);
    }
    if (s->route.in_trx)
        return (struct route_decision){ROUTE_TRX, "in transaction"};
    if (s->cmd_prepare_read && !s->route.pins && !s->route.autocommit_off)
        return (struct route_decision){ROUTE_REPLICA, "prepared read"};
    return (struct route_decision){ROUTE_PRIMARY, "prepared statement"};
}

/* Sends a 9-byte COM_STMT_CLOSE for p to every backend that prepared it. */
static void close_statement(struct session *s, struct pstmt *p)
{
    for (size_t i = 0; i < s->n_be; i++) {
        struct bconn *b = s->be[i];
        uint32_t srv = b ? pstmt_srv_id(p, i, b->serial) : 0;
        if (!srv || b->state != BCONN_IDLE)
            continue;
        uint8_t pkt[9];
        struct proto_wr w;
        proto_wr_init(&w, pkt, sizeof pkt);
        proto_frame_write_hdr(&w, 5, 0);
        proto_wr_u8(&w, PROTO_COM_STMT_CLOSE);
        proto_wr_u32(&w, srv);
        if (bconn_send_command(b, pkt, sizeof pkt, PROTO_COM_STMT_CLOSE, 0) < 0)
            log_warn("C#%u could not close statement %u on %s", s->id, p->id,
                     px_of(s)->backends[i].name);
    }
    pstmt_remove(&s->stmts, p->id);
}

/*
 * An EXECUTE that binds parameter types: the statement keeps them, before
 * anything may answer the command without a backend (libmariadb sends
 * types only with the first EXECUTE after a bind, so the next one relies
 * on them even when this one was refused). Malformed or over 16 MB: left
 * to session__stmt_on_backend.
 */
static int note_types(struct pstmt *p, const uint8_t *payload, size_t n, bool whole)
{
    struct proto_stmt_exec ex;
    if (!whole || p->num_params == 0 ||
        proto_stmt_execute_parse(payload, n, p->num_params, &ex) != PROTO_OK || !ex.types_bound)
        return 0;
    return pstmt_set_types(p, ex.types.p, ex.types.len);
}

/*
 * Chooses the backend for a command that names a prepared statement.
 * Returns true with *idx set, or false when the command was answered (or
 * needs no answer) here. Cursors (FETCH) and RESET go where the statement
 * last ran, long data where the next EXECUTE will run; an EXECUTE of a read
 * outside a transaction sets cmd_is_read and *idx to its home replica: the
 * caller passes it through the consistency gate.
 */
bool session__stmt_route(struct session *s, size_t *idx)
{
    struct proxy *px = px_of(s);
    const uint8_t *payload = buf_head(&s->cmd) + PROTO_FRAME_HDR_LEN;
    size_t first = s->cmd_whole ? s->cmd_wire - PROTO_FRAME_HDR_LEN : PROTO_MAX_PAYLOAD;
    uint8_t com = s->cmd_com;
    uint32_t id;
    if (proto_stmt_id(payload, first, &id) != PROTO_OK) {
        session__reply_error(s, GP_ER_UNSUPPORTED, "gtidproxy: malformed %s", proto_com_name(com));
        return false;
    }
    /* MariaDB's "the statement just prepared" (mariadb_stmt_execute_direct
     * pipelines PREPARE and EXECUTE with this id). */
    if (id == UINT32_MAX)
        id = s->last_prepared;
    struct pstmt *p = pstmt_find(&s->stmts, id);
    if (!p) {
        /* A server answers neither CLOSE nor SEND_LONG_DATA. */
        if (com != PROTO_COM_STMT_CLOSE && com != PROTO_COM_STMT_SEND_LONG_DATA)
            session__reply_error(s, GP_ER_UNKNOWN_STMT_HANDLER,
                                 "Unknown prepared statement handler (%u) given to %s", id,
                                 proto_com_name(com));
        return false;
    }
    if (com == PROTO_COM_STMT_CLOSE) {
        close_statement(s, p);
        return false;
    }
    if (com == PROTO_COM_STMT_EXECUTE &&
        note_types(p, payload, s->cmd_wire - PROTO_FRAME_HDR_LEN, s->cmd_whole) != 0) {
        session__reply_error(s, GP_ER_OUT_OF_MEMORY, "out of memory");
        return false;
    }
    /* Its parameter data was dropped (two writable backends): running it
     * now would bind what remains. RESET starts the parameters afresh. */
    if (p->long_data_lost && com != PROTO_COM_STMT_SEND_LONG_DATA) {
        p->long_data_lost = false;
        if (com != PROTO_COM_STMT_RESET) {
            p->long_data_be = PSTMT_NONE;
            session__reply_error(s, GP_ER_TWO_PRIMARIES,
                                 "gtidproxy: refused: this statement's long data was refused "
                                 "earlier (more than one backend was writable); send it again");
            return false;
        }
    }
    s->cmd_stmt = p;
    s->tried = 0;
    s->cmd_is_read = false;
    if (com == PROTO_COM_STMT_FETCH) {
        *idx = p->last_be;
    } else if (com == PROTO_COM_STMT_RESET) {
        *idx = p->long_data_be != PSTMT_NONE ? p->long_data_be : p->last_be;
        p->long_data_be = PSTMT_NONE;
        struct bconn *b = s->be[*idx];
        if (!b || !pstmt_srv_id(p, *idx, b->serial)) {
            session__reply_ok(s); /* nothing of it on any server: already reset */
            return false;
        }
    } else if (p->long_data_be != PSTMT_NONE) {
        *idx = p->long_data_be;
    } else if (s->route.in_trx) {
        *idx = s->trx ? s->trx->idx : proxy_primary(px);
    } else if (!p->read || s->route.pins || s->route.autocommit_off ||
               com == PROTO_COM_STMT_SEND_LONG_DATA) {
        /* A read's long data goes to the primary and its EXECUTE follows:
         * the gate could not move data already sent to a replica. */
        *idx = proxy_primary(px);
    } else {
        *idx = p->home; /* the gate prefers it when it is caught up */
        s->cmd_is_read = true;
    }
    if (com == PROTO_COM_STMT_SEND_LONG_DATA)
        p->long_data_be = *idx;
    return true;
}
