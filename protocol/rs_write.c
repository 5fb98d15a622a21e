/*
 * rs_write.c - writes the proxy's own one-row text result set (the answer
 * to SELECT @@gtidproxy_x), framed, as a MariaDB/MySQL server would send it.
 *
 *   [count (+ metadata_follows)] [coldef] x ncols [EOF] [row] [EOF | OK 0xFE]
 *    seq s                        s+1..             ...         last id
 *
 * Layouts: shared/PROTOCOL.md section 4.2 (result set), 3.1 (OK/EOF).
 * The column definition is what MariaDB 10.11 sends for a string system
 * variable (SELECT @@session.time_zone, captured in tests/unit/
 * test_rs_write.c): catalog "def", empty schema, table, org_table and
 * org_name, type VAR_STRING (0xFD), flags 0, decimals 39 (0x27, the
 * server's NOT_FIXED_DEC for strings), length = 4 x the value's byte length
 * (the server's is mbmaxlen(charset) x characters: equal for ASCII values
 * under utf8mb4; larger than the server's under utf8mb3 or latin1, where
 * it writes 3x or 1x). A NULL value gets length 0 and the same type, as
 * the server writes a NULL string variable (SELECT @@global.init_file).
 *
 * Each packet is written behind a 4-byte hole that is filled in once the
 * payload is known, so nothing is copied and nothing allocated. A payload
 * must fit one packet (< 0xFFFFFF bytes): the values this writer serves
 * are a consistency level and a GTID set, far below that.
 */
#include "gtidproxy/proto_pcmd.h"

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_reply.h"

#define RS_MAX_COLS 64

/* Column definition constants (MariaDB include/mysql_com.h enum
 * enum_field_types, NOT_FIXED_DEC; confirmed by the captures). */
#define FIELD_TYPE_VAR_STRING 0xFD
#define COLDEF_DECIMALS_STR   0x27 /* 39: NOT_FIXED_DEC */
#define COLDEF_FIXED_LEN      0x0C /* length of the fixed-size fields that follow */

/* Opens a packet: reserves its header. Returns where the header goes. */
static size_t pkt_open(struct proto_wr *w)
{
    size_t at = w->len;
    proto_wr_zeros(w, PROTO_FRAME_HDR_LEN);
    return at;
}

/* Closes the packet opened at `at`: fills in its header with the payload
 * length and *seq, advances *seq. Returns PROTO_OK, the writer's error, or
 * PROTO_ETOOBIG when the payload would need continuation packets. */
static int pkt_close(struct proto_wr *w, size_t at, uint8_t *seq)
{
    if (w->err != PROTO_OK)
        return w->err;
    size_t plen = w->len - at - PROTO_FRAME_HDR_LEN;
    if (plen >= PROTO_MAX_PAYLOAD)
        return PROTO_ETOOBIG;
    struct proto_wr hw;
    proto_wr_init(&hw, w->p + at, PROTO_FRAME_HDR_LEN);
    proto_frame_write_hdr(&hw, (uint32_t)plen, *seq);
    *seq = (uint8_t)(*seq + 1);
    return proto_wr_finish(&hw);
}

static void write_coldef(struct proto_wr *w, uint64_t caps, uint16_t charset, struct proto_str name,
                         struct proto_str value)
{
    uint64_t length = value.p == NULL ? 0 : 4 * (uint64_t)value.len;
    if (length > UINT32_MAX)
        length = UINT32_MAX;
    proto_wr_lenenc_str(w, "def", 3); /* catalog */
    proto_wr_lenenc(w, 0);            /* schema */
    proto_wr_lenenc(w, 0);            /* table */
    proto_wr_lenenc(w, 0);            /* org_table */
    proto_wr_lenenc_str(w, name.p, name.len);
    proto_wr_lenenc(w, 0); /* org_name */
    if (caps & PROTO_CAP(MARIADB_CLIENT_EXTENDED_METADATA))
        proto_wr_lenenc(w, 0); /* extended type info: none */
    proto_wr_lenenc(w, COLDEF_FIXED_LEN);
    proto_wr_u16(w, charset);
    proto_wr_u32(w, (uint32_t)length);
    proto_wr_u8(w, FIELD_TYPE_VAR_STRING);
    proto_wr_u16(w, 0); /* flags */
    proto_wr_u8(w, COLDEF_DECIMALS_STR);
    proto_wr_u16(w, 0); /* filler */
}

int proto_rs_write_row(struct proto_wr *w, uint64_t caps, uint8_t seq, uint16_t status,
                       uint16_t charset, size_t ncols, const struct proto_str *names,
                       const struct proto_str *values)
{
    if (ncols == 0 || ncols > RS_MAX_COLS)
        return PROTO_EBAD;
    /* ColumnDefinition320 (pre-4.1 clients) is not written: every client
     * the proxy accepts speaks 4.1. */
    if (!(caps & PROTO_CAP(CLIENT_PROTOCOL_41)))
        return PROTO_EUNSUPPORTED;
    if (w->err != PROTO_OK)
        return w->err;
    /* There is no session state to report. */
    status &= (uint16_t)~PROTO_SERVER_SESSION_STATE_CHANGED;
    int rc;
    size_t at;

    at = pkt_open(w);
    proto_wr_lenenc(w, ncols);
    if (caps & PROTO_CAP(MARIADB_CLIENT_CACHE_METADATA))
        proto_wr_u8(w, 1); /* metadata follows */
    if ((rc = pkt_close(w, at, &seq)) != PROTO_OK)
        return rc;

    for (size_t i = 0; i < ncols; i++) {
        at = pkt_open(w);
        write_coldef(w, caps, charset, names[i], values[i]);
        if ((rc = pkt_close(w, at, &seq)) != PROTO_OK)
            return rc;
    }

    if (!(caps & PROTO_CAP(CLIENT_DEPRECATE_EOF))) {
        at = pkt_open(w);
        if ((rc = proto_eof_build(w, caps, 0, status)) != PROTO_OK)
            return rc;
        if ((rc = pkt_close(w, at, &seq)) != PROTO_OK)
            return rc;
    }

    at = pkt_open(w);
    for (size_t i = 0; i < ncols; i++) {
        if (values[i].p == NULL)
            proto_wr_u8(w, 0xFB); /* SQL NULL */
        else
            proto_wr_lenenc_str(w, values[i].p, values[i].len);
    }
    if ((rc = pkt_close(w, at, &seq)) != PROTO_OK)
        return rc;

    at = pkt_open(w);
    if (caps & PROTO_CAP(CLIENT_DEPRECATE_EOF)) {
        struct proto_ok ok = {.header = PROTO_EOF_HEADER, .status = status};
        rc = proto_ok_build(w, caps, &ok);
    } else {
        rc = proto_eof_build(w, caps, 0, status);
    }
    if (rc != PROTO_OK)
        return rc;
    if ((rc = pkt_close(w, at, &seq)) != PROTO_OK)
        return rc;
    return seq;
}
