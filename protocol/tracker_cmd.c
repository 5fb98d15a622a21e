/*
 * tracker_cmd.c - the reply tracker for commands without a text/binary
 * result set (PROTOCOL.md 1.4, 4.1, 4.3):
 *
 *   COM_STMT_PREPARE  ERR | PREPARE_OK, num_params defs [EOF],
 *                     num_columns defs [EOF]   ([EOF] absent w/ DEPRECATE_EOF)
 *   COM_FIELD_LIST    column defs (no count) then EOF / OK-0xFE, or ERR
 *   COM_PING, COM_INIT_DB, COM_RESET_CONNECTION, COM_STMT_RESET, ...
 *                     one OK or ERR
 *   COM_SET_OPTION    EOF (OK-0xFE with DEPRECATE_EOF) or ERR
 *   COM_STATISTICS    one packet of text (no OK), or ERR
 *   COM_CHANGE_USER   { AuthSwitch 0xFE -> client reply |
 *                       AuthMoreData 0x01 -> [client reply] }* then OK/ERR
 */
#include "gtidproxy/proto_consts.h"
#include "tracker_int.h"

/* COM_STMT_PREPARE_OK: 00, int<4> stmt_id, int<2> num_columns, int<2>
 * num_params, int<1> filler, int<2> warnings -- 12 bytes (MY:pc,
 * MDB:doc com_stmt_prepare.md). Pre-4.1-style servers stop after the filler
 * (10 bytes); accepted too. */
static int prepare_ok(struct proto_tracker *t, const uint8_t *p, size_t len,
                      struct proto_trk_pkt *out)
{
    struct proto_rd r;
    uint8_t hdr, filler;
    uint16_t warnings = 0;
    struct proto_trk_result *res = &t->res;
    proto_rd_init(&r, p, len);
    int rc;
    if ((rc = proto_rd_u8(&r, &hdr)) != PROTO_OK ||
        (rc = proto_rd_u32(&r, &res->stmt_id)) != PROTO_OK ||
        (rc = proto_rd_u16(&r, &res->num_columns)) != PROTO_OK ||
        (rc = proto_rd_u16(&r, &res->num_params)) != PROTO_OK ||
        (rc = proto_rd_u8(&r, &filler)) != PROTO_OK)
        return proto_trk__fail(t, rc);
    if (proto_rd_left(&r) != 0 && (rc = proto_rd_u16(&r, &warnings)) != PROTO_OK)
        return proto_trk__fail(t, rc);
    if (hdr != PROTO_OK_HEADER || proto_rd_left(&r) != 0)
        return proto_trk__fail(t, PROTO_EBAD);
    res->prepare_warnings = warnings;
    out->kind = PROTO_TRK_PKT_PREPARE_OK;
    return PROTO_OK;
}

/* After PREPARE_OK: the parameter definitions, if any. */
/* After the parameter section: the column definitions, or DONE. */
static void prep_enter_cols(struct proto_tracker *t)
{
    if (t->res.num_columns > 0) {
        t->left = t->res.num_columns;
        t->state = PROTO_TRK_PREP_COLS;
    } else {
        proto_trk__set_done(t);
    }
}

static void prep_enter_params(struct proto_tracker *t)
{
    if (t->res.num_params > 0) {
        t->left = t->res.num_params;
        t->state = PROTO_TRK_PREP_PARAMS;
    } else {
        prep_enter_cols(t);
    }
}

/* The end of one section: its last definition under DEPRECATE_EOF, or its
 * EOF otherwise. */
static void prep_section_done(struct proto_tracker *t, bool params)
{
    if (params)
        prep_enter_cols(t);
    else
        proto_trk__set_done(t);
}

/* One definition in PREP_PARAMS / PREP_COLS. */
static int prep_def(struct proto_tracker *t, const uint8_t *p, struct proto_trk_pkt *out)
{
    if (p[0] != PROTO_TRK_DEF_FIRST_BYTE)
        return proto_trk__fail(t, PROTO_EBAD);
    bool params = t->state == PROTO_TRK_PREP_PARAMS;
    out->kind = params ? PROTO_TRK_PKT_PARAM_DEF : PROTO_TRK_PKT_COLUMN_DEF;
    if (--t->left > 0)
        return PROTO_OK;
    if (!(t->caps & PROTO_CAP(CLIENT_DEPRECATE_EOF)))
        t->state = params ? PROTO_TRK_PREP_PARAMS_EOF : PROTO_TRK_PREP_COLS_EOF;
    else
        prep_section_done(t, params);
    return PROTO_OK;
}

static int prepare(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                   struct proto_trk_pkt *out)
{
    int rc;
    switch (t->state) {
    case PROTO_TRK_PREP_FIRST:
        if ((rc = proto_trk__whole(t, avail, len)) != PROTO_OK)
            return rc;
        if (p[0] == PROTO_ERR_HEADER)
            return proto_trk__err(t, p, (size_t)len, out);
        if ((rc = prepare_ok(t, p, (size_t)len, out)) != PROTO_OK)
            return rc;
        prep_enter_params(t);
        return PROTO_OK;
    case PROTO_TRK_PREP_PARAMS:
    case PROTO_TRK_PREP_COLS:
        return prep_def(t, p, out);
    case PROTO_TRK_PREP_PARAMS_EOF:
    case PROTO_TRK_PREP_COLS_EOF: {
        bool params = t->state == PROTO_TRK_PREP_PARAMS_EOF;
        if ((rc = proto_trk__whole(t, avail, len)) != PROTO_OK)
            return rc;
        if (p[0] != PROTO_EOF_HEADER)
            return proto_trk__fail(t, PROTO_EBAD);
        if ((rc = proto_trk__eof(t, p, (size_t)len, out)) != PROTO_OK)
            return rc;
        prep_section_done(t, params);
        return PROTO_OK;
    }
    default:
        return proto_trk__fail(t, PROTO_EBAD);
    }
}

/* COM_FIELD_LIST: definitions (each with a trailing default value) until a
 * terminator; counted in res.num_columns. */
static int field_list(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                      struct proto_trk_pkt *out)
{
    int rc;
    if (p[0] != PROTO_ERR_HEADER && p[0] != PROTO_EOF_HEADER) {
        if (p[0] != PROTO_TRK_DEF_FIRST_BYTE)
            return proto_trk__fail(t, PROTO_EBAD);
        out->kind = PROTO_TRK_PKT_COLUMN_DEF;
        if (t->res.num_columns < UINT16_MAX)
            t->res.num_columns++;
        return PROTO_OK;
    }
    if ((rc = proto_trk__whole(t, avail, len)) != PROTO_OK)
        return rc;
    bool ended;
    rc = proto_trk__terminator(t, proto_reply_row_kind(p, (size_t)len, t->caps), p, (size_t)len,
                               out, &ended);
    if (rc == PROTO_OK && ended)
        proto_trk__set_done(t);
    return rc;
}

/* One OK or ERR (COM_PING, COM_INIT_DB, COM_RESET_CONNECTION, ...). */
static int simple(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                  struct proto_trk_pkt *out)
{
    int rc = proto_trk__whole(t, avail, len);
    if (rc != PROTO_OK)
        return rc;
    if (p[0] == PROTO_ERR_HEADER)
        return proto_trk__err(t, p, (size_t)len, out);
    if (p[0] != PROTO_OK_HEADER)
        return proto_trk__fail(t, PROTO_EBAD);
    if ((rc = proto_trk__ok(t, p, (size_t)len, out)) == PROTO_OK)
        proto_trk__set_done(t);
    return rc;
}

/* COM_SET_OPTION answers with send_eof(): a classic EOF, or under
 * DEPRECATE_EOF an OK with the 0xFE header (PROTOCOL.md 4.1). */
static int eof_only(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                    struct proto_trk_pkt *out)
{
    int rc = proto_trk__whole(t, avail, len);
    if (rc != PROTO_OK)
        return rc;
    /* proto_reply_first_kind() decides OK-as-EOF vs classic EOF from caps
     * and length (a 0xFE shorter than any OK is an EOF either way). */
    bool ended;
    rc = proto_trk__terminator(t, proto_reply_first_kind(p, (size_t)len, t->caps), p,
                               (size_t)len, out, &ended);
    if (rc == PROTO_OK && ended)
        proto_trk__set_done(t);
    return rc;
}

/* COM_STATISTICS: a bare string ("Uptime: ..."), no OK; ERR possible. */
static int statistics(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                      struct proto_trk_pkt *out)
{
    if (p[0] == PROTO_ERR_HEADER) {
        int rc = proto_trk__whole(t, avail, len);
        if (rc != PROTO_OK)
            return rc;
        return proto_trk__err(t, p, (size_t)len, out);
    }
    out->kind = PROTO_TRK_PKT_STRING;
    proto_trk__set_done(t);
    return PROTO_OK;
}

/* COM_CHANGE_USER: the auth exchange of PROTOCOL.md 1.4 in the command
 * phase. During auth 0xFE is an AuthSwitchRequest, never an EOF. */
static int auth(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                struct proto_trk_pkt *out)
{
    int rc;
    switch (p[0]) {
    case PROTO_EOF_HEADER:
        /* The client must answer before the server says anything else. */
        out->kind = PROTO_TRK_PKT_AUTH_SWITCH;
        t->state = PROTO_TRK_AUTH_CLIENT;
        return PROTO_OK;
    case PROTO_AUTH_MORE_HEADER:
        /* Plugin-specific: the client may answer (RSA key, full auth) or the
         * server may go on (caching_sha2 fast-auth success then OK). */
        out->kind = PROTO_TRK_PKT_AUTH_MORE;
        t->state = PROTO_TRK_AUTH_MORE;
        return PROTO_OK;
    case PROTO_ERR_HEADER:
        if ((rc = proto_trk__whole(t, avail, len)) != PROTO_OK)
            return rc;
        return proto_trk__err(t, p, (size_t)len, out);
    case PROTO_OK_HEADER:
        if ((rc = proto_trk__whole(t, avail, len)) != PROTO_OK)
            return rc;
        if ((rc = proto_trk__ok(t, p, (size_t)len, out)) == PROTO_OK)
            proto_trk__set_done(t);
        return rc;
    default:
        return proto_trk__fail(t, PROTO_EBAD);
    }
}

int proto_trk__feed_cmd(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                        struct proto_trk_pkt *out)
{
    switch (t->state) {
    case PROTO_TRK_PREP_FIRST:
    case PROTO_TRK_PREP_PARAMS:
    case PROTO_TRK_PREP_PARAMS_EOF:
    case PROTO_TRK_PREP_COLS:
    case PROTO_TRK_PREP_COLS_EOF:
        return prepare(t, p, avail, len, out);
    case PROTO_TRK_FIELDS:
        return field_list(t, p, avail, len, out);
    case PROTO_TRK_SIMPLE:
        return simple(t, p, avail, len, out);
    case PROTO_TRK_EOF_ONLY:
        return eof_only(t, p, avail, len, out);
    case PROTO_TRK_STRING:
        return statistics(t, p, avail, len, out);
    case PROTO_TRK_AUTH:
    case PROTO_TRK_AUTH_MORE:
        return auth(t, p, avail, len, out);
    default:
        return proto_trk__fail(t, PROTO_EBAD);
    }
}
