/*
 * test_rs_write.c - proto_rs_write_row, the proxy's one-row result set,
 * byte for byte against what MariaDB 10.11 sends, and through the reply
 * tracker.
 *
 * Captures (MariaDB 10.11.19-MariaDB-0+deb12u1, tests/cluster primary,
 * user app, db gtidproxy_test; reply packets as framed on the wire, the
 * COM_QUERY itself had seq 0):
 *   - PLAIN, DEOF, MDB: a throw-away raw-socket Python client that sends a
 *     HandshakeResponse41 with client flags 0x00bea28c (what libmariadb
 *     3.3.20 sends), 0x01bea28c (the same plus CLIENT_DEPRECATE_EOF, which
 *     libmariadb cannot ask for), and 0x00bea28c with MariaDB extended caps
 *     0x1d (PROGRESS, STMT_BULK_OPERATIONS, EXTENDED_METADATA,
 *     CACHE_METADATA: exactly libmariadb's); collation 45
 *     (utf8mb4_general_ci) unless said otherwise. The server offered
 *     0x81fff7fe / ext 0x1d, so each set is also the negotiated one.
 *   - CLI: the mariadb command-line client (libmariadb 3.3.20, charset
 *     utf8mb3 = collation 33) through tests/fixtures/capture.py.
 *
 * The writer models a string system variable (SELECT @@session.time_zone):
 * those captures must match exactly. For the literal SELECTs the task
 * names ('x' AS a; 'ab' AS c1, NULL AS c2) the server's column definitions
 * differ in documented fields only (rs_write.c): a literal is NOT_NULL
 * (flags 0x0001, ours 0), a NULL literal is type NULL / binary / flags
 * BINARY / decimals 0 (ours VAR_STRING / the charset / 0 / 39), and under a
 * charset whose mbmaxlen is not 4 the server's length is mbmaxlen x chars
 * (ours 4 x bytes). patch_coldef() writes exactly those fields into the
 * captured bytes, and the rest must be equal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_pcmd.h"
#include "gtidproxy/proto_reply.h"
#include "gtidproxy/proto_tracker.h"
#include "testsupport.h"

#define CAPS_PLAIN 0x00bea28cull
#define CAPS_DEOF  0x01bea28cull
#define CAPS_MDB   (0x00bea28cull | (0x1dull << 32))
#define CAPS_CLI   (0x00bfa28cull | (0x1dull << 32))

#define UTF8MB4 45
#define UTF8MB3 33
#define LATIN1  8

#define ST_AUTOCOMMIT 0x0002

#define S(lit)   ((struct proto_str){(const uint8_t *)(lit), sizeof(lit) - 1})
#define SQL_NULL ((struct proto_str){NULL, 0})

/* ------------------------------------------------------- captures --- */

/* SELECT @@session.time_zone */
static const char tz_plain[] =
    "01000001 01\n"
    "29000002 03646566 00 00 00 13404073657373696f6e2e74696d655f7a6f6e65 00"
    "         0c 2d00 18000000 fd 0000 27 0000\n"
    "05000003 fe 0000 0200\n"
    "07000004 0653595354454d\n"
    "05000005 fe 0000 0200\n";

/* SELECT @@session.time_zone AS z, @@global.init_file AS n (NULL) */
static const char zn_plain[] =
    "01000001 02\n"
    "17000002 03646566 00 00 00 017a 00 0c 2d00 18000000 fd 0000 27 0000\n"
    "17000003 03646566 00 00 00 016e 00 0c 2d00 00000000 fd 0000 27 0000\n"
    "05000004 fe 0000 0200\n"
    "08000005 0653595354454d fb\n"
    "05000006 fe 0000 0200\n";

static const char zn_deof[] =
    "01000001 02\n"
    "17000002 03646566 00 00 00 017a 00 0c 2d00 18000000 fd 0000 27 0000\n"
    "17000003 03646566 00 00 00 016e 00 0c 2d00 00000000 fd 0000 27 0000\n"
    "08000004 0653595354454d fb\n"
    "07000005 fe 00 00 0200 0000\n"; /* OK-as-EOF: rows 0, id 0, status, warnings */

static const char zn_mdb[] =
    "02000001 02 01\n" /* count, metadata_follows */
    "18000002 03646566 00 00 00 017a 00 00 0c 2d00 18000000 fd 0000 27 0000\n"
    "18000003 03646566 00 00 00 016e 00 00 0c 2d00 00000000 fd 0000 27 0000\n"
    "05000004 fe 0000 0200\n"
    "08000005 0653595354454d fb\n"
    "05000006 fe 0000 0200\n";

/* mariadb CLI, utf8mb3: the server's length is 3 x 6 = 0x12. */
static const char zn_cli[] =
    "02000001 02 01\n"
    "18000002 03646566 00 00 00 017a 00 00 0c 2100 12000000 fd 0000 27 0000\n"
    "18000003 03646566 00 00 00 016e 00 00 0c 2100 00000000 fd 0000 27 0000\n"
    "05000004 fe 0000 0200\n"
    "08000005 0653595354454d fb\n"
    "05000006 fe 0000 0200\n";

/* SELECT @@session.time_zone under latin1: length 1 x 6. */
static const char tz_latin1[] =
    "01000001 01\n"
    "29000002 03646566 00 00 00 13404073657373696f6e2e74696d655f7a6f6e65 00"
    "         0c 0800 06000000 fd 0000 27 0000\n"
    "05000003 fe 0000 0200\n"
    "07000004 0653595354454d\n"
    "05000005 fe 0000 0200\n";

/* SELECT 'x' AS a */
static const char x_plain[] =
    "01000001 01\n"
    "17000002 03646566 00 00 00 0161 00 0c 2d00 04000000 fd 0100 27 0000\n"
    "05000003 fe 0000 0200\n"
    "02000004 0178\n"
    "05000005 fe 0000 0200\n";
static const char x_deof[] = "01000001 01\n"
                             "17000002 03646566 00 00 00 0161 00 0c 2d00 04000000 fd 0100 27 0000\n"
                             "02000003 0178\n"
                             "07000004 fe 00 00 0200 0000\n";
static const char x_mdb[] =
    "02000001 01 01\n"
    "18000002 03646566 00 00 00 0161 00 00 0c 2d00 04000000 fd 0100 27 0000\n"
    "05000003 fe 0000 0200\n"
    "02000004 0178\n"
    "05000005 fe 0000 0200\n";

/* SELECT 'ab' AS c1, NULL AS c2 */
static const char ab_plain[] =
    "01000001 02\n"
    "18000002 03646566 00 00 00 026331 00 0c 2d00 08000000 fd 0100 27 0000\n"
    "18000003 03646566 00 00 00 026332 00 0c 3f00 00000000 06 8000 00 0000\n"
    "05000004 fe 0000 0200\n"
    "04000005 026162 fb\n"
    "05000006 fe 0000 0200\n";
static const char ab_deof[] =
    "01000001 02\n"
    "18000002 03646566 00 00 00 026331 00 0c 2d00 08000000 fd 0100 27 0000\n"
    "18000003 03646566 00 00 00 026332 00 0c 3f00 00000000 06 8000 00 0000\n"
    "04000004 026162 fb\n"
    "07000005 fe 00 00 0200 0000\n";
static const char ab_mdb[] =
    "02000001 02 01\n"
    "19000002 03646566 00 00 00 026331 00 00 0c 2d00 08000000 fd 0100 27 0000\n"
    "19000003 03646566 00 00 00 026332 00 00 0c 3f00 00000000 06 8000 00 0000\n"
    "05000004 fe 0000 0200\n"
    "04000005 026162 fb\n"
    "05000006 fe 0000 0200\n";

/* ------------------------------------------------------- helpers --- */

#define BUF 512

/* Documented fields of one column definition that the writer sets its own
 * way; -1 leaves the captured value. */
struct coldef_patch {
    int type, charset, flags, decimals;
    long long length;
};
#define KEEP                                                                                       \
    {                                                                                              \
        -1, -1, -1, -1, -1                                                                         \
    }

/* Overwrites the fixed fields of column definition `col` (0-based; the
 * packet after the count) in the framed bytes buf with p's values. */
static void patch_coldef(uint8_t *buf, size_t n, uint64_t caps, size_t col, struct coldef_patch p)
{
    size_t off = 0;
    for (size_t i = 0; i <= col + 1; i++) {
        struct proto_frame_hdr h;
        const uint8_t *payload;
        assert_int_equal(proto_frame_peek(buf + off, n - off, &h, &payload), PROTO_OK);
        if (i == col + 1) {
            struct proto_rd r;
            struct proto_str s;
            proto_rd_init(&r, payload, h.len);
            int strs = (caps & PROTO_CAP(MARIADB_CLIENT_EXTENDED_METADATA)) ? 7 : 6;
            for (int k = 0; k < strs; k++)
                assert_int_equal(proto_rd_lenenc_str(&r, &s), PROTO_OK);
            assert_int_equal(payload[r.pos], 0x0c);
            uint8_t *f = buf + off + PROTO_FRAME_HDR_LEN + r.pos + 1;
            /* charset 2, length 4, type 1, flags 2, decimals 1 */
            if (p.charset >= 0) {
                f[0] = (uint8_t)p.charset;
                f[1] = (uint8_t)(p.charset >> 8);
            }
            if (p.length >= 0)
                for (int b = 0; b < 4; b++)
                    f[2 + b] = (uint8_t)(p.length >> (8 * b));
            if (p.type >= 0)
                f[6] = (uint8_t)p.type;
            if (p.flags >= 0) {
                f[7] = (uint8_t)p.flags;
                f[8] = (uint8_t)(p.flags >> 8);
            }
            if (p.decimals >= 0)
                f[9] = (uint8_t)p.decimals;
            return;
        }
        off += PROTO_FRAME_HDR_LEN + h.len;
    }
}

static void assert_bytes(const uint8_t *got, size_t got_n, const uint8_t *want, size_t want_n)
{
    size_t i = 0;
    while (i < got_n && i < want_n && got[i] == want[i])
        i++;
    if (i == got_n && i == want_n)
        return;
    fail_msg("bytes differ at offset %zu (got %zu bytes, want %zu): got %02x want %02x", i, got_n,
             want_n, i < got_n ? got[i] : 0, i < want_n ? want[i] : 0);
}

struct cmp {
    const char *hex; /* the server's bytes */
    uint64_t caps;
    uint16_t charset;
    size_t ncols;
    struct proto_str names[2], values[2];
    struct coldef_patch patch[2]; /* documented differences per column */
};

static void check_cmp(const struct cmp *c)
{
    uint8_t want[BUF], got[BUF];
    size_t want_n = tu_hex(c->hex, want, sizeof want);
    for (size_t i = 0; i < c->ncols; i++)
        patch_coldef(want, want_n, c->caps, i, c->patch[i]);
    struct proto_wr w;
    proto_wr_init(&w, got, sizeof got);
    int next = proto_rs_write_row(&w, c->caps, 1, ST_AUTOCOMMIT, c->charset, c->ncols, c->names,
                                  c->values);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    assert_bytes(got, w.len, want, want_n);
    /* the next id follows the last packet's */
    size_t last = 0, off = 0;
    while (off < w.len) {
        last = off;
        off += PROTO_FRAME_HDR_LEN + proto_le24(got + off);
    }
    assert_int_equal(next, (got[last + 3] + 1) & 0xFF);
}

#define TZ                                                                                         \
    {S("@@session.time_zone")},                                                                    \
    {                                                                                              \
        S("SYSTEM")                                                                                \
    }
#define ZN                                                                                         \
    {S("z"), S("n")},                                                                              \
    {                                                                                              \
        S("SYSTEM"), SQL_NULL                                                                      \
    }

/* A string system variable: exactly the server's bytes. */
static void test_sysvar_exact(void **state)
{
    (void)state;
    const struct cmp cases[] = {
        {tz_plain, CAPS_PLAIN, UTF8MB4, 1, TZ, {KEEP}},
        {zn_plain, CAPS_PLAIN, UTF8MB4, 2, ZN, {KEEP, KEEP}},
        {zn_deof, CAPS_DEOF, UTF8MB4, 2, ZN, {KEEP, KEEP}},
        {zn_mdb, CAPS_MDB, UTF8MB4, 2, ZN, {KEEP, KEEP}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_cmp(&cases[i]);
}

/* Other charsets: only the length differs (ours 4 x 6 = 24). */
static void test_length_under_other_charsets(void **state)
{
    (void)state;
    const struct coldef_patch len24 = {-1, -1, -1, -1, 24};
    const struct cmp cases[] = {
        {zn_cli, CAPS_CLI, UTF8MB3, 2, ZN, {len24, KEEP}},
        {tz_latin1, CAPS_PLAIN, LATIN1, 1, TZ, {len24}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_cmp(&cases[i]);
}

/* Literal SELECTs: equal but for the documented column fields. */
static void test_literals(void **state)
{
    (void)state;
    const struct coldef_patch ours_null = {0xFD, UTF8MB4, 0, 0x27, -1};
    const struct coldef_patch ours_str = {-1, -1, 0, -1, -1};
    const struct cmp cases[] = {
        {x_plain, CAPS_PLAIN, UTF8MB4, 1, {S("a")}, {S("x")}, {ours_str}},
        {x_deof, CAPS_DEOF, UTF8MB4, 1, {S("a")}, {S("x")}, {ours_str}},
        {x_mdb, CAPS_MDB, UTF8MB4, 1, {S("a")}, {S("x")}, {ours_str}},
        {ab_plain,
         CAPS_PLAIN,
         UTF8MB4,
         2,
         {S("c1"), S("c2")},
         {S("ab"), SQL_NULL},
         {ours_str, ours_null}},
        {ab_deof,
         CAPS_DEOF,
         UTF8MB4,
         2,
         {S("c1"), S("c2")},
         {S("ab"), SQL_NULL},
         {ours_str, ours_null}},
        {ab_mdb,
         CAPS_MDB,
         UTF8MB4,
         2,
         {S("c1"), S("c2")},
         {S("ab"), SQL_NULL},
         {ours_str, ours_null}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_cmp(&cases[i]);

    /* The patches really are the server's values: unpatched, they differ. */
    uint8_t want[BUF], got[BUF];
    size_t want_n = tu_hex(x_plain, want, sizeof want);
    struct proto_wr w;
    proto_wr_init(&w, got, sizeof got);
    struct proto_str name = S("a"), value = S("x");
    assert_int_equal(
        proto_rs_write_row(&w, CAPS_PLAIN, 1, ST_AUTOCOMMIT, UTF8MB4, 1, &name, &value), 6);
    assert_int_equal(w.len, want_n);
    assert_memory_not_equal(got, want, want_n);
}

/* Feeds framed bytes to a tracker started for COM_QUERY with caps; checks
 * the reply is one complete result set of one row ending with status. */
static void track(const uint8_t *p, size_t n, uint64_t caps, size_t ncols, uint16_t status)
{
    struct proto_tracker t;
    proto_tracker_init(&t);
    assert_int_equal(proto_tracker_start(&t, caps, PROTO_COM_QUERY), PROTO_OK);
    size_t off = 0, pkts = 0;
    enum proto_trk_pkt_kind want[2 + 64 + 2];
    size_t nwant = 0;
    want[nwant++] = PROTO_TRK_PKT_COLUMN_COUNT;
    for (size_t i = 0; i < ncols; i++)
        want[nwant++] = PROTO_TRK_PKT_COLUMN_DEF;
    if (!(caps & PROTO_CAP(CLIENT_DEPRECATE_EOF)))
        want[nwant++] = PROTO_TRK_PKT_EOF;
    want[nwant++] = PROTO_TRK_PKT_ROW;
    want[nwant++] =
        (caps & PROTO_CAP(CLIENT_DEPRECATE_EOF)) ? PROTO_TRK_PKT_OK_EOF : PROTO_TRK_PKT_EOF;
    uint8_t seq = 1;
    while (off < n) {
        struct proto_frame_hdr h;
        const uint8_t *payload;
        assert_int_equal(proto_frame_peek(p + off, n - off, &h, &payload), PROTO_OK);
        assert_int_equal(h.seq, seq);
        seq++;
        assert_false(proto_tracker_done(&t));
        struct proto_trk_pkt pkt;
        assert_int_equal(proto_tracker_feed(&t, payload, h.len, h.len, &pkt), PROTO_OK);
        assert_true(pkts < nwant);
        if (pkt.kind != want[pkts])
            fail_msg("packet %zu is %s, want %s", pkts, proto_trk_pkt_name(pkt.kind),
                     proto_trk_pkt_name(want[pkts]));
        pkts++;
        off += PROTO_FRAME_HDR_LEN + h.len;
    }
    assert_int_equal(pkts, nwant);
    assert_true(proto_tracker_done(&t));
    assert_true(t.res.status_valid);
    assert_int_equal(t.res.status, status);
    assert_int_equal(t.res.warnings, 0);
    assert_false(t.res.is_error);
    assert_int_equal(t.res.result_sets, 1);
    assert_int_equal(t.res.rows, 1);
    assert_int_equal(t.res.session_states, 0);
}

static void test_tracker_reads_it(void **state)
{
    (void)state;
    static const uint64_t caps[] = {CAPS_PLAIN,
                                    CAPS_DEOF,
                                    CAPS_MDB,
                                    CAPS_CLI,
                                    CAPS_DEOF | (0x1dull << 32),
                                    PROTO_CAP(CLIENT_PROTOCOL_41)};
    static const uint16_t statuses[] = {0x0002, 0x0003, 0x0001 | 0x2000, 0x0000};
    const struct proto_str names[3] = {S("@@gtidproxy_token"), S("b"), S("c")};
    const struct proto_str values[3] = {S("0-1-5,1-2-9"), SQL_NULL, S("")};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++)
        for (size_t s = 0; s < sizeof statuses / sizeof statuses[0]; s++)
            for (size_t ncols = 1; ncols <= 3; ncols++) {
                uint8_t buf[BUF];
                struct proto_wr w;
                proto_wr_init(&w, buf, sizeof buf);
                int next =
                    proto_rs_write_row(&w, caps[c], 1, statuses[s], UTF8MB4, ncols, names, values);
                assert_true(next > 0);
                track(buf, w.len, caps[c], ncols, statuses[s]);
            }
}

/* SERVER_SESSION_STATE_CHANGED is cleared: no session state follows, and
 * a client with SESSION_TRACK would otherwise look for one. */
static void test_session_state_flag_cleared(void **state)
{
    (void)state;
    const struct proto_str name = S("@@gtidproxy_consistency"), value = S("strong");
    static const uint64_t caps[] = {CAPS_PLAIN, CAPS_DEOF};
    for (size_t c = 0; c < 2; c++) {
        uint8_t buf[BUF];
        struct proto_wr w;
        proto_wr_init(&w, buf, sizeof buf);
        assert_true(proto_rs_write_row(&w, caps[c], 1, 0x4002, UTF8MB4, 1, &name, &value) > 0);
        track(buf, w.len, caps[c], 1, 0x0002);
    }
}

static void test_sequence_ids(void **state)
{
    (void)state;
    const struct proto_str name = S("a"), value = S("x");
    uint8_t buf[BUF];
    struct proto_wr w;
    /* count, def, EOF, row, EOF: 5 packets from 254 wrap to 255, 0, 1, 2 */
    proto_wr_init(&w, buf, sizeof buf);
    assert_int_equal(proto_rs_write_row(&w, CAPS_PLAIN, 254, 2, UTF8MB4, 1, &name, &value), 3);
    static const uint8_t ids[] = {254, 255, 0, 1, 2};
    size_t off = 0;
    for (size_t i = 0; i < sizeof ids; i++) {
        assert_true(off < w.len);
        assert_int_equal(buf[off + 3], ids[i]);
        off += PROTO_FRAME_HDR_LEN + proto_le24(buf + off);
    }
    assert_int_equal(off, w.len);
    /* DEPRECATE_EOF: 4 packets */
    proto_wr_init(&w, buf, sizeof buf);
    assert_int_equal(proto_rs_write_row(&w, CAPS_DEOF, 1, 2, UTF8MB4, 1, &name, &value), 5);
    /* 64 columns: count + 64 + EOF + row + EOF = 68 packets */
    struct proto_str names[64], values[64];
    for (size_t i = 0; i < 64; i++) {
        names[i] = name;
        values[i] = value;
    }
    uint8_t big[4096];
    proto_wr_init(&w, big, sizeof big);
    assert_int_equal(proto_rs_write_row(&w, CAPS_PLAIN, 1, 2, UTF8MB4, 64, names, values), 69);
    track(big, w.len, CAPS_PLAIN, 64, 2);
}

/* Too small a buffer: a negative PROTO_ENOSPACE for every size short of
 * the whole, never a write past cap (exact-size heap buffers for ASan). */
static void test_no_space(void **state)
{
    (void)state;
    const struct proto_str names[2] = {S("z"), S("n")};
    const struct proto_str values[2] = {S("SYSTEM"), SQL_NULL};
    static const uint64_t caps[] = {CAPS_PLAIN, CAPS_DEOF, CAPS_MDB};
    for (size_t c = 0; c < 3; c++) {
        uint8_t full[BUF];
        struct proto_wr w;
        proto_wr_init(&w, full, sizeof full);
        assert_true(proto_rs_write_row(&w, caps[c], 1, 2, UTF8MB4, 2, names, values) > 0);
        size_t need = w.len;
        for (size_t cap = 0; cap < need; cap++) {
            uint8_t *buf = malloc(cap ? cap : 1);
            assert_non_null(buf);
            proto_wr_init(&w, buf, cap);
            assert_int_equal(proto_rs_write_row(&w, caps[c], 1, 2, UTF8MB4, 2, names, values),
                             PROTO_ENOSPACE);
            assert_int_equal(proto_wr_finish(&w), PROTO_ENOSPACE);
            free(buf);
        }
        /* A writer that already failed stays failed. */
        proto_wr_init(&w, full, 0);
        proto_wr_u8(&w, 1);
        assert_int_equal(proto_rs_write_row(&w, caps[c], 1, 2, UTF8MB4, 2, names, values),
                         PROTO_ENOSPACE);
    }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    uint8_t buf[BUF];
    struct proto_wr w;
    struct proto_str v[65];
    for (size_t i = 0; i < 65; i++)
        v[i] = S("x");
    proto_wr_init(&w, buf, sizeof buf);
    assert_int_equal(proto_rs_write_row(&w, CAPS_PLAIN, 1, 2, UTF8MB4, 0, v, v), PROTO_EBAD);
    assert_int_equal(proto_rs_write_row(&w, CAPS_PLAIN, 1, 2, UTF8MB4, 65, v, v), PROTO_EBAD);
    assert_int_equal(
        proto_rs_write_row(&w, CAPS_PLAIN & ~PROTO_CAP(CLIENT_PROTOCOL_41), 1, 2, UTF8MB4, 1, v, v),
        PROTO_EUNSUPPORTED);
    assert_int_equal(w.len, 0);
}

/* A value that would need a continuation packet is refused, not framed
 * with a wrong header. 0xFFFFFF - 4 bytes: lenenc prefix 4 -> payload
 * exactly 0xFFFFFF. */
static void test_too_big(void **state)
{
    (void)state;
    size_t vlen = PROTO_MAX_PAYLOAD - 4;
    uint8_t *val = malloc(vlen);
    size_t cap = PROTO_MAX_PAYLOAD + 1024;
    uint8_t *buf = malloc(cap);
    assert_non_null(val);
    assert_non_null(buf);
    memset(val, 'g', vlen);
    const struct proto_str name = S("@@gtidproxy_token");
    struct proto_str value = {val, vlen};
    struct proto_wr w;
    proto_wr_init(&w, buf, cap);
    assert_int_equal(proto_rs_write_row(&w, CAPS_PLAIN, 1, 2, UTF8MB4, 1, &name, &value),
                     PROTO_ETOOBIG);
    /* One byte less fits in one packet. */
    value.len--;
    proto_wr_init(&w, buf, cap);
    assert_int_equal(proto_rs_write_row(&w, CAPS_PLAIN, 1, 2, UTF8MB4, 1, &name, &value), 6);
    track(buf, w.len, CAPS_PLAIN, 1, 2);
    free(val);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sysvar_exact),
        cmocka_unit_test(test_length_under_other_charsets),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_tracker_reads_it),
        cmocka_unit_test(test_session_state_flag_cleared),
        cmocka_unit_test(test_sequence_ids),
        cmocka_unit_test(test_no_space),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
