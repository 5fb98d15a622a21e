/*
 * tracker_resultset.c - the reply tracker's result-set states, shared by
 * COM_QUERY (text rows), COM_STMT_EXECUTE and COM_STMT_FETCH (binary rows),
 * plus the LOCAL INFILE detour of COM_QUERY (PROTOCOL.md 4.2, 4.4):
 *
 *   FIRST:   00 OK | FF ERR/progress | FB filename (LOCAL INFILE) |
 *            column count [+ metadata_follows with MariaDB CACHE_METADATA]
 *   COLDEFS: count column definitions (skipped when metadata_follows = 0)
 *   COLDEFS_EOF: classic EOF, absent with CLIENT_DEPRECATE_EOF. For
 *            EXECUTE, CURSOR_EXISTS here means: no rows until COM_STMT_FETCH.
 *   ROWS:    rows (text: lenenc/0xFB cells; binary: 0x00 + bitmap), then
 *            EOF or OK-with-0xFE (DEPRECATE_EOF) or ERR.
 * A final OK/EOF with SERVER_MORE_RESULTS_EXISTS goes back to FIRST.
 * Rows and definitions are accounted from their first byte alone.
 */
#include <string.h>

#include "gtidproxy/proto_consts.h"
#include "tracker_int.h"

static bool has_cap(const struct proto_tracker *t, uint64_t cap)
{
    return (t->caps & cap) != 0;
}

/* After the last column definition (or none, when metadata was skipped). */
static void after_coldefs(struct proto_tracker *t)
{
    t->state = has_cap(t, PROTO_CAP(CLIENT_DEPRECATE_EOF)) ? PROTO_TRK_ROWS : PROTO_TRK_COLDEFS_EOF;
}

/* Column count packet: lenenc count (>= 1) [+ int<1> metadata_follows when
 * MariaDB CACHE_METADATA is negotiated, on the text protocol too -- observed
 * as "02 01" on 10.11]. Nothing may follow. */
static int column_count(struct proto_tracker *t, const uint8_t *p, size_t len,
                        struct proto_trk_pkt *out)
{
    struct proto_rd r;
    uint64_t count;
    uint8_t follows = 1;
    proto_rd_init(&r, p, len);
    int rc = proto_rd_lenenc(&r, &count, NULL);
    if (rc != PROTO_OK)
        return proto_trk__fail(t, rc);
    if (has_cap(t, PROTO_CAP(MARIADB_CLIENT_CACHE_METADATA))) {
        rc = proto_rd_u8(&r, &follows);
        if (rc != PROTO_OK)
            return proto_trk__fail(t, rc);
        if (follows > 1)
            return proto_trk__fail(t, PROTO_EBAD);
    }
    if (count == 0 || proto_rd_left(&r) != 0)
        return proto_trk__fail(t, PROTO_EBAD);

    out->kind = PROTO_TRK_PKT_COLUMN_COUNT;
    t->res.result_sets++;
    t->left = count;
    if (follows)
        t->state = PROTO_TRK_COLDEFS;
    else
        after_coldefs(t); /* re-execution with cached metadata */
    return PROTO_OK;
}

/* An OK ends this result (another may follow: MORE_RESULTS), an ERR ends
 * the reply; anything else is malformed. */
static int result_ok_or_err(struct proto_tracker *t, const uint8_t *p, size_t len,
                            struct proto_trk_pkt *out)
{
    if (p[0] == PROTO_ERR_HEADER)
        return proto_trk__err(t, p, len, out);
    if (p[0] != PROTO_OK_HEADER)
        return proto_trk__fail(t, PROTO_EBAD);
    int rc = proto_trk__ok(t, p, len, out);
    if (rc == PROTO_OK)
        proto_trk__end_result(t);
    return rc;
}

static int first(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                 struct proto_trk_pkt *out)
{
    int rc = proto_trk__whole(t, avail, len);
    if (rc != PROTO_OK)
        return rc;
    switch (p[0]) {
    case PROTO_OK_HEADER:
    case PROTO_ERR_HEADER:
        return result_ok_or_err(t, p, (size_t)len, out);
    case PROTO_LOCAL_INFILE_HEADER:
        /* Only COM_QUERY on a link with CLIENT_LOCAL_FILES; for EXECUTE 0xFB
         * would be a NULL column count, which is malformed anyway. */
        if (t->com != PROTO_COM_QUERY || !has_cap(t, PROTO_CAP(CLIENT_LOCAL_FILES)))
            return proto_trk__fail(t, PROTO_EBAD);
        out->kind = PROTO_TRK_PKT_LOCAL_INFILE;
        t->res.local_infile = true;
        t->state = PROTO_TRK_INFILE_CLIENT;
        return PROTO_OK;
    case PROTO_EOF_HEADER:
        return proto_trk__fail(t, PROTO_EBAD);
    default:
        return column_count(t, p, (size_t)len, out);
    }
}

static int coldef(struct proto_tracker *t, const uint8_t *p, struct proto_trk_pkt *out)
{
    if (p[0] != PROTO_TRK_DEF_FIRST_BYTE)
        return proto_trk__fail(t, PROTO_EBAD);
    out->kind = PROTO_TRK_PKT_COLUMN_DEF;
    if (--t->left == 0)
        after_coldefs(t);
    return PROTO_OK;
}

static int coldefs_eof(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                       struct proto_trk_pkt *out)
{
    int rc = proto_trk__whole(t, avail, len);
    if (rc != PROTO_OK)
        return rc;
    if (p[0] != PROTO_EOF_HEADER)
        return proto_trk__fail(t, PROTO_EBAD);
    if ((rc = proto_trk__eof(t, p, (size_t)len, out)) != PROTO_OK)
        return rc;
    uint16_t st = t->res.status;
    if (st & PROTO_SERVER_PS_OUT_PARAMS)
        t->res.out_params = true;
    /* EXECUTE that opened a cursor: the metadata EOF carries CURSOR_EXISTS
     * and the rows wait for COM_STMT_FETCH (MY sql_cursor.cc
     * Materialized_cursor::open; observed "fe 00 00 42 00"). */
    if (t->com == PROTO_COM_STMT_EXECUTE && (st & PROTO_SERVER_STATUS_CURSOR_EXISTS) &&
        !(st & PROTO_SERVER_MORE_RESULTS_EXISTS)) {
        proto_trk__set_done(t);
        return PROTO_OK;
    }
    t->state = PROTO_TRK_ROWS;
    return PROTO_OK;
}

static int rows(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                struct proto_trk_pkt *out)
{
    int rc;
    uint8_t h = p[0];
    /* 0xFF is always ERR/progress; 0xFE is a terminator unless the packet
     * fills a whole chunk (a text row whose first cell is >= 2^24 bytes). */
    bool terminal = h == PROTO_ERR_HEADER || (h == PROTO_EOF_HEADER && len < PROTO_MAX_PAYLOAD);
    if (!terminal) {
        /* Binary rows start with 0x00 (MY:pc binary resultset row). */
        if (t->binary && h != 0x00)
            return proto_trk__fail(t, PROTO_EBAD);
        out->kind = PROTO_TRK_PKT_ROW;
        t->res.rows++;
        return PROTO_OK;
    }
    if ((rc = proto_trk__whole(t, avail, len)) != PROTO_OK)
        return rc;
    /* A 0xFE of 9..0xFFFFFE bytes in classic EOF mode is neither: it fails. */
    bool ended;
    rc = proto_trk__terminator(t, proto_reply_row_kind(p, (size_t)len, t->caps), p, (size_t)len,
                               out, &ended);
    if (rc != PROTO_OK || !ended)
        return rc;
    if (t->res.status & PROTO_SERVER_PS_OUT_PARAMS)
        t->res.out_params = true;
    proto_trk__end_result(t);
    return PROTO_OK;
}

static int infile_result(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                         struct proto_trk_pkt *out)
{
    int rc = proto_trk__whole(t, avail, len);
    return rc == PROTO_OK ? result_ok_or_err(t, p, (size_t)len, out) : rc;
}

int proto_trk__feed_resultset(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                              struct proto_trk_pkt *out)
{
    switch (t->state) {
    case PROTO_TRK_FIRST:
        return first(t, p, avail, len, out);
    case PROTO_TRK_COLDEFS:
        return coldef(t, p, out);
    case PROTO_TRK_COLDEFS_EOF:
        return coldefs_eof(t, p, avail, len, out);
    case PROTO_TRK_ROWS:
        return rows(t, p, avail, len, out);
    case PROTO_TRK_INFILE_RESULT:
        return infile_result(t, p, avail, len, out);
    default:
        return proto_trk__fail(t, PROTO_EBAD);
    }
}
