/*
 * reply.c - OK / ERR / EOF / progress packets: parsing, building, rewriting
 * an OK for a client with other capabilities, and classifying a packet as a
 * terminator or a row. See include/gtidproxy/proto_reply.h for contracts
 * and shared/PROTOCOL.md 3.1 / 3.3 for the layouts.
 *
 *   backend OK (caps B) --proto_ok_parse--> struct proto_ok (views into p)
 *                        --proto_ok_build(caps C)--> client OK
 *
 * Pure: no allocation, no globals; every string is a view into the input.
 */
#include "gtidproxy/proto_reply.h"

#include <string.h>

#include "gtidproxy/proto_consts.h"

const char *proto_reply_kind_name(enum proto_reply_kind k)
{
    switch (k) {
#define PROTO_REPLY_KIND_CASE(name, text)                                      \
    case name:                                                                 \
        return text;
        PROTO_REPLY_KIND_LIST(PROTO_REPLY_KIND_CASE)
#undef PROTO_REPLY_KIND_CASE
    }
    return "UNKNOWN";
}

/* ---------------------------------------------------------------- OK --- */

/* The info field of an OK sent to a client without SESSION_TRACK. Servers
 * write it as a lenenc string (MySQL and MariaDB net_send_ok); the MySQL
 * docs call it string<EOF>. Accept both: a rest that is exactly one lenenc
 * string yields its content, anything else the raw rest. */
static void ok_info_untracked(struct proto_rd *r, struct proto_ok *out)
{
    struct proto_rd probe = *r;
    struct proto_str s;

    out->info_present = proto_rd_left(r) > 0;
    if (proto_rd_lenenc_str(&probe, &s) == PROTO_OK &&
        proto_rd_left(&probe) == 0) {
        out->info = s;
        r->pos = probe.pos;
        return;
    }
    proto_rd_rest(r, &out->info);
}

int proto_ok_parse(const uint8_t *p, size_t n, uint64_t caps,
                   struct proto_ok *out)
{
    struct proto_rd r;
    int rc;

    memset(out, 0, sizeof *out);
    out->info.p = p;
    out->session_state.p = p;
    proto_rd_init(&r, p, n);
    if ((rc = proto_rd_u8(&r, &out->header)) != PROTO_OK)
        return rc;
    if (out->header != PROTO_OK_HEADER && out->header != PROTO_EOF_HEADER)
        return PROTO_EBAD;
    if ((rc = proto_rd_lenenc(&r, &out->affected_rows, NULL)) != PROTO_OK)
        return rc;
    if ((rc = proto_rd_lenenc(&r, &out->last_insert_id, NULL)) != PROTO_OK)
        return rc;
    if (caps & PROTO_CAP(CLIENT_PROTOCOL_41)) {
        if ((rc = proto_rd_u16(&r, &out->status)) != PROTO_OK)
            return rc;
        if ((rc = proto_rd_u16(&r, &out->warnings)) != PROTO_OK)
            return rc;
    } else if (caps & PROTO_CAP(CLIENT_TRANSACTIONS)) {
        if ((rc = proto_rd_u16(&r, &out->status)) != PROTO_OK)
            return rc;
    }

    if (!(caps & PROTO_CAP(CLIENT_SESSION_TRACK))) {
        ok_info_untracked(&r, out);
        return PROTO_OK;
    }

    /* With SESSION_TRACK the server omits info when it is empty and no
     * state follows, so "nothing left" is a complete OK -- unless the
     * status promises a session state. */
    if (proto_rd_left(&r) == 0)
        return (out->status & PROTO_SERVER_SESSION_STATE_CHANGED)
                   ? PROTO_ETRUNC
                   : PROTO_OK;
    if ((rc = proto_rd_lenenc_str(&r, &out->info)) != PROTO_OK)
        return rc;
    out->info_present = true;
    if (out->status & PROTO_SERVER_SESSION_STATE_CHANGED) {
        if ((rc = proto_rd_lenenc_str(&r, &out->session_state)) != PROTO_OK)
            return rc;
        out->has_session_state = true;
    }
    /* No server writes anything after the state: fail closed. */
    return proto_rd_left(&r) == 0 ? PROTO_OK : PROTO_EBAD;
}

int proto_ok_build(struct proto_wr *w, uint64_t caps,
                   const struct proto_ok *ok)
{
    bool track = (caps & PROTO_CAP(CLIENT_SESSION_TRACK)) != 0;
    uint16_t status = ok->status;

    if (!track)
        status &= (uint16_t)~PROTO_SERVER_SESSION_STATE_CHANGED;
    proto_wr_u8(w, ok->header);
    proto_wr_lenenc(w, ok->affected_rows);
    proto_wr_lenenc(w, ok->last_insert_id);
    if (caps & PROTO_CAP(CLIENT_PROTOCOL_41)) {
        proto_wr_u16(w, status);
        proto_wr_u16(w, ok->warnings);
    } else if (caps & PROTO_CAP(CLIENT_TRANSACTIONS)) {
        proto_wr_u16(w, status);
    }
    if (track) {
        bool changed = (status & PROTO_SERVER_SESSION_STATE_CHANGED) != 0;
        if (changed || ok->info.len > 0)
            proto_wr_lenenc_str(w, ok->info.p, ok->info.len);
        if (changed)
            proto_wr_lenenc_str(w, ok->session_state.p,
                                ok->session_state.len);
    } else if (ok->info.len > 0) {
        proto_wr_lenenc_str(w, ok->info.p, ok->info.len);
    }
    return proto_wr_finish(w);
}

int proto_ok_rewrite(const uint8_t *p, size_t n, uint64_t from_caps,
                     uint64_t to_caps, struct proto_wr *w)
{
    struct proto_ok ok;
    int rc = proto_ok_parse(p, n, from_caps, &ok);
    if (rc != PROTO_OK)
        return rc;
    if (ok.header == PROTO_EOF_HEADER &&
        !(to_caps & PROTO_CAP(CLIENT_DEPRECATE_EOF))) {
        uint16_t status = ok.status;
        /* MySQL computes the flag in net_send_ok only, so its EOFs never
         * carry it; MariaDB was seen leaving it set in EOFs to untracked
         * clients (fixtures README). Clearing it is what MySQL sends and
         * what any untracked client ignores. */
        if (!(to_caps & PROTO_CAP(CLIENT_SESSION_TRACK)))
            status &= (uint16_t)~PROTO_SERVER_SESSION_STATE_CHANGED;
        return proto_eof_build(w, to_caps, ok.warnings, status);
    }
    return proto_ok_build(w, to_caps, &ok);
}

/* --------------------------------------------------------------- ERR --- */

int proto_err_parse(const uint8_t *p, size_t n, uint64_t caps,
                    struct proto_err *out)
{
    struct proto_rd r;
    uint8_t header;
    int rc;

    memset(out, 0, sizeof *out);
    out->sqlstate.p = p;
    proto_rd_init(&r, p, n);
    if ((rc = proto_rd_u8(&r, &header)) != PROTO_OK)
        return rc;
    if (header != PROTO_ERR_HEADER)
        return PROTO_EBAD;
    if ((rc = proto_rd_u16(&r, &out->code)) != PROTO_OK)
        return rc;
    /* The '#' marker, not the flag alone, decides: servers omit the
     * SQLSTATE in some pre-4.1 paths even to 4.1 clients (libmariadb also
     * tests for '#'). */
    if ((caps & PROTO_CAP(CLIENT_PROTOCOL_41)) && proto_rd_left(&r) > 0 &&
        r.p[r.pos] == '#') {
        r.pos++;
        if ((rc = proto_rd_bytes(&r, 5, &out->sqlstate)) != PROTO_OK)
            return rc;
        out->has_sqlstate = true;
    }
    proto_rd_rest(&r, &out->message);
    return PROTO_OK;
}

int proto_err_build(struct proto_wr *w, uint64_t caps, uint16_t code,
                    const char *sqlstate, const void *msg, size_t msg_len)
{
    if (!sqlstate)
        sqlstate = "HY000";
    if (strlen(sqlstate) != 5)
        return PROTO_EBAD;
    if (msg_len > PROTO_ERR_MSG_MAX)
        msg_len = PROTO_ERR_MSG_MAX;
    proto_wr_u8(w, PROTO_ERR_HEADER);
    proto_wr_u16(w, code);
    if (caps & PROTO_CAP(CLIENT_PROTOCOL_41)) {
        proto_wr_u8(w, '#');
        proto_wr_bytes(w, sqlstate, 5);
    }
    proto_wr_bytes(w, msg, msg_len);
    return proto_wr_finish(w);
}

/* ---------------------------------------------------------- progress --- */

bool proto_err_is_progress(const uint8_t *p, size_t n)
{
    return n >= 3 && p[0] == PROTO_ERR_HEADER &&
           proto_le16(p + 1) == PROTO_ERR_CODE_PROGRESS;
}

int proto_progress_parse(const uint8_t *p, size_t n,
                         struct proto_progress *out)
{
    struct proto_rd r;
    uint8_t nstrings;
    int rc;

    memset(out, 0, sizeof *out);
    out->stage_name.p = p;
    if (!proto_err_is_progress(p, n))
        return n < 3 ? PROTO_ETRUNC : PROTO_EBAD;
    proto_rd_init(&r, p + 3, n - 3);
    if ((rc = proto_rd_u8(&r, &nstrings)) != PROTO_OK ||
        (rc = proto_rd_u8(&r, &out->stage)) != PROTO_OK ||
        (rc = proto_rd_u8(&r, &out->max_stage)) != PROTO_OK ||
        (rc = proto_rd_u24(&r, &out->progress_x1000)) != PROTO_OK ||
        (rc = proto_rd_lenenc_str(&r, &out->stage_name)) != PROTO_OK)
        return rc;
    return PROTO_OK;
}

/* --------------------------------------------------------------- EOF --- */

/* A classic EOF is shorter than 9 bytes (MY:pc); 9+ is a row or an OK. */
#define EOF_MAX_LEN 8

int proto_eof_parse(const uint8_t *p, size_t n, uint64_t caps,
                    struct proto_eof *out)
{
    struct proto_rd r;
    uint8_t header;
    int rc;

    memset(out, 0, sizeof *out);
    proto_rd_init(&r, p, n);
    if ((rc = proto_rd_u8(&r, &header)) != PROTO_OK)
        return rc;
    if (header != PROTO_EOF_HEADER || n > EOF_MAX_LEN)
        return PROTO_EBAD;
    if (caps & PROTO_CAP(CLIENT_PROTOCOL_41)) {
        if ((rc = proto_rd_u16(&r, &out->warnings)) != PROTO_OK ||
            (rc = proto_rd_u16(&r, &out->status)) != PROTO_OK)
            return rc;
    }
    return PROTO_OK;
}

int proto_eof_build(struct proto_wr *w, uint64_t caps, uint16_t warnings,
                    uint16_t status)
{
    proto_wr_u8(w, PROTO_EOF_HEADER);
    if (caps & PROTO_CAP(CLIENT_PROTOCOL_41)) {
        proto_wr_u16(w, warnings);
        proto_wr_u16(w, status);
    }
    return proto_wr_finish(w);
}

/* ---------------------------------------------------- classification --- */

/* Shortest OK under caps: header + two 1-byte lenencs + status/warnings. A
 * 0xFE packet shorter than this cannot be an OK-as-EOF even under
 * DEPRECATE_EOF: it is a classic EOF, which MySQL still sends there at the
 * end of a binlog dump (MY:pc Protocol_classic::send_eof). */
static size_t ok_min_len(uint64_t caps)
{
    if (caps & PROTO_CAP(CLIENT_PROTOCOL_41))
        return 7;
    if (caps & PROTO_CAP(CLIENT_TRANSACTIONS))
        return 5;
    return 3;
}

enum proto_reply_kind proto_reply_first_kind(const uint8_t *p, size_t n,
                                             uint64_t caps)
{
    if (n == 0)
        return PROTO_REPLY_EMPTY;
    switch (p[0]) {
    case PROTO_OK_HEADER:
        return PROTO_REPLY_OK;
    case PROTO_ERR_HEADER:
        return proto_err_is_progress(p, n) ? PROTO_REPLY_PROGRESS
                                           : PROTO_REPLY_ERR;
    case PROTO_LOCAL_INFILE_HEADER:
        return PROTO_REPLY_LOCAL_INFILE;
    case PROTO_EOF_HEADER:
        if ((caps & PROTO_CAP(CLIENT_DEPRECATE_EOF)) && n >= ok_min_len(caps))
            return PROTO_REPLY_OK_EOF;
        return PROTO_REPLY_EOF;
    default:
        return PROTO_REPLY_RESULTSET;
    }
}

enum proto_reply_kind proto_reply_row_kind(const uint8_t *p, size_t n,
                                           uint64_t caps)
{
    if (n == 0)
        return PROTO_REPLY_EMPTY;
    switch (p[0]) {
    case PROTO_ERR_HEADER:
        return proto_err_is_progress(p, n) ? PROTO_REPLY_PROGRESS
                                           : PROTO_REPLY_ERR;
    case PROTO_EOF_HEADER:
        if ((caps & PROTO_CAP(CLIENT_DEPRECATE_EOF)) &&
            n >= ok_min_len(caps) && n < PROTO_MAX_PAYLOAD)
            return PROTO_REPLY_OK_EOF;
        if (n <= EOF_MAX_LEN)
            return PROTO_REPLY_EOF;
        return PROTO_REPLY_ROW;
    default:
        return PROTO_REPLY_ROW;
    }
}
