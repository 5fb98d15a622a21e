/* test_reseq.c - re-sequencing stored replies (protocol/reseq.c): real
 * MariaDB result sets re-sequenced from 1, 3 and across the 255 -> 0 wrap,
 * 0xFFFFFF continuation chunks each taking an id, and every non-whole run
 * rejected with the buffer untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_reseq.h"
#include "testsupport.h"

/*
 * The server's side of a tracker fixture (tests/fixtures/tracker/README.md:
 * each packet is a direction byte, 'C' or 'S', then the packet as framed on
 * the wire), concatenated: exactly the reply bytes a cache would store.
 */
static uint8_t *server_reply(const char *rel, size_t *n)
{
    size_t len;
    uint8_t *raw = tu_fixture(rel, &len);
    uint8_t *out = malloc(len);
    assert_non_null(out);
    size_t off = 0;
    *n = 0;
    while (off < len) {
        uint8_t dir = raw[off++];
        struct proto_frame_hdr h;
        const uint8_t *payload;
        assert_int_equal(proto_frame_peek(raw + off, len - off, &h, &payload), PROTO_OK);
        size_t wire = PROTO_FRAME_HDR_LEN + h.len;
        assert_true(dir == 'C' || dir == 'S');
        if (dir == 'S') {
            memcpy(out + *n, raw + off, wire);
            *n += wire;
        }
        off += wire;
    }
    free(raw);
    return out;
}

/* SELECT id, name, note FROM t1 ORDER BY id to libmariadb (classic EOFs):
 * count, 3 column definitions, EOF, 3 rows, EOF; as received, ids 1..9.
 * The same bytes re-sequenced from 3, and from 0xfe across the wrap. */
static const char rows_from_3[] =
    "02000003 0301"
    "20000004 036465660174027431027431026964026964000c3f000b000000030342000000"
    "24000005 036465660174027431027431046e616d65046e616d65000c2d0080000000fd0000000000"
    "24000006 036465660174027431027431046e6f7465046e6f7465000c2d00fcff0300fc1000000000"
    "05000007 fe00002200"
    "09000008 013105616c706861fb"
    "09000009 013204626574610162"
    "0c00000a 01330567616d6d6103676767"
    "0500000b fe00002200";

static const char rows_from_fe[] =
    "020000fe 0301"
    "200000ff 036465660174027431027431026964026964000c3f000b000000030342000000"
    "24000000 036465660174027431027431046e616d65046e616d65000c2d0080000000fd0000000000"
    "24000001 036465660174027431027431046e6f7465046e6f7465000c2d00fcff0300fc1000000000"
    "05000002 fe00002200"
    "09000003 013105616c706861fb"
    "09000004 013204626574610162"
    "0c000005 01330567616d6d6103676767"
    "05000006 fe00002200";

static void test_capture_from_1_is_identity(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = server_reply("tracker/query_select_rows.hex", &n);
    uint8_t *orig = malloc(n);
    assert_non_null(orig);
    memcpy(orig, p, n);

    size_t packets = 0;
    assert_int_equal(proto_reseq_check(p, n, &packets), PROTO_OK);
    assert_int_equal(packets, 9);
    /* The server numbered its reply 1.. after the command's 0. */
    assert_int_equal(proto_reseq(p, n, 1), PROTO_OK);
    assert_memory_equal(p, orig, n);
    free(orig);
    free(p);
}

static void test_capture_from_3_and_wrap(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = server_reply("tracker/query_select_rows.hex", &n);
    uint8_t want[512];

    size_t wn = tu_hex(rows_from_3, want, sizeof want);
    assert_int_equal(wn, n);
    assert_int_equal(proto_reseq(p, n, 3), PROTO_OK);
    assert_memory_equal(p, want, n);

    wn = tu_hex(rows_from_fe, want, sizeof want);
    assert_int_equal(wn, n);
    assert_int_equal(proto_reseq(p, n, 0xfe), PROTO_OK);
    assert_memory_equal(p, want, n);

    /* And back: the served copy re-sequenced from 1 is the capture again. */
    size_t on;
    uint8_t *orig = server_reply("tracker/query_select_rows.hex", &on);
    assert_int_equal(proto_reseq(p, n, 1), PROTO_OK);
    assert_memory_equal(p, orig, n);
    free(orig);
    free(p);
}

/* Under CLIENT_DEPRECATE_EOF (no EOF after the definitions, OK-as-EOF at the
 * end): 8 packets; only the id bytes change. */
static void test_capture_deprecate_eof(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = server_reply("tracker/deof_query_select_rows.hex", &n);
    uint8_t *orig = malloc(n);
    assert_non_null(orig);
    memcpy(orig, p, n);
    size_t packets = 0;
    assert_int_equal(proto_reseq_check(p, n, &packets), PROTO_OK);
    assert_int_equal(packets, 8);
    assert_int_equal(proto_reseq(p, n, 250), PROTO_OK);

    size_t off = 0, k = 0;
    while (off < n) {
        struct proto_frame_hdr h, oh;
        const uint8_t *pl, *opl;
        assert_int_equal(proto_frame_peek(p + off, n - off, &h, &pl), PROTO_OK);
        assert_int_equal(proto_frame_peek(orig + off, n - off, &oh, &opl), PROTO_OK);
        assert_int_equal(oh.seq, k + 1);
        assert_int_equal(h.seq, (uint8_t)(250 + k));
        assert_int_equal(h.len, oh.len);
        assert_memory_equal(pl, opl, h.len);
        off += PROTO_FRAME_HDR_LEN + h.len;
        k++;
    }
    assert_int_equal(k, 8);
    free(orig);
    free(p);
}

/* Every prefix of a whole run: on a packet boundary it is itself whole
 * (with fewer packets); anywhere else it is truncated and left untouched. */
static void test_every_prefix(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = server_reply("tracker/query_select_rows.hex", &n);
    uint8_t *copy = malloc(n);
    assert_non_null(copy);

    /* Packet boundaries of the capture; bounds[nb] = n. */
    size_t bounds[16], nb = 0;
    for (size_t off = 0; off < n; off += PROTO_FRAME_HDR_LEN + proto_le24(p + off))
        bounds[nb++] = off;
    bounds[nb] = n;
    size_t bi = 1;
    for (size_t cut = 0; cut <= n; cut++) {
        memcpy(copy, p, n);
        size_t packets = 12345;
        int rc = proto_reseq_check(copy, cut, &packets);
        int rrc = proto_reseq(copy, cut, 77);
        assert_int_equal(rrc, rc);
        if (cut == 0) {
            assert_int_equal(rc, PROTO_EBAD);
            assert_int_equal(packets, 12345);
            assert_memory_equal(copy, p, n);
        } else if (bi <= nb && cut == bounds[bi]) {
            assert_int_equal(rc, PROTO_OK);
            assert_int_equal(packets, bi);
            /* The rewritten prefix got 77.., the rest is untouched. */
            assert_int_equal(copy[3], 77);
            assert_int_equal(copy[bounds[bi - 1] + 3], (uint8_t)(77 + bi - 1));
            assert_memory_equal(copy + cut, p + cut, n - cut);
            bi++;
        } else {
            assert_int_equal(rc, PROTO_ETRUNC);
            assert_int_equal(packets, 12345);
            assert_memory_equal(copy, p, n);
        }
    }
    assert_int_equal(bi, nb + 1);
    free(copy);
    free(p);
}

/* A logical packet of exactly 0xFFFFFF bytes is two chunks (the second
 * empty); with an EOF after it the run has 3 headers and the ids go
 * 0xff, 0x00, 0x01. Cut after the first chunk, the run promises a
 * continuation: truncated, untouched. */
static void test_continuation_chunks(void **state)
{
    (void)state;
    size_t plen = PROTO_MAX_PAYLOAD;
    size_t cap = (size_t)proto_frame_wire_size(plen) + 16;
    uint8_t *payload = calloc(1, plen);
    uint8_t *p = malloc(cap);
    assert_non_null(payload);
    assert_non_null(p);
    payload[0] = 0x01;
    payload[plen - 1] = 0xfb;
    struct proto_wr w;
    proto_wr_init(&w, p, cap);
    uint8_t seq = 5;
    proto_frame_write_packet(&w, payload, plen, &seq);
    uint8_t eof[] = {0xfe, 0x00, 0x00, 0x02, 0x00};
    proto_frame_write_packet(&w, eof, sizeof eof, &seq);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    size_t n = w.len;
    assert_int_equal(n, 4 + plen + 4 + 4 + sizeof eof);

    size_t packets = 0;
    assert_int_equal(proto_reseq_check(p, n, &packets), PROTO_OK);
    assert_int_equal(packets, 3);
    assert_int_equal(proto_reseq(p, n, 0xff), PROTO_OK);
    static const uint8_t h1[] = {0xff, 0xff, 0xff, 0xff};
    static const uint8_t h2[] = {0x00, 0x00, 0x00, 0x00};
    static const uint8_t h3[] = {0x05, 0x00, 0x00, 0x01};
    assert_memory_equal(p, h1, 4);
    assert_memory_equal(p + 4 + plen, h2, 4);
    assert_memory_equal(p + 4 + plen + 4, h3, 4);
    assert_memory_equal(p + 4, payload, plen);
    assert_memory_equal(p + n - sizeof eof, eof, sizeof eof);

    /* Ends on the full chunk: the terminator is missing. */
    assert_int_equal(proto_reseq_check(p, 4 + plen, &packets), PROTO_ETRUNC);
    assert_int_equal(proto_reseq(p, 4 + plen, 9), PROTO_ETRUNC);
    assert_memory_equal(p, h1, 4);
    free(payload);
    free(p);
}

static void test_null_count_and_single_empty_packet(void **state)
{
    (void)state;
    /* One empty packet is whole (a 0-length chunk ends its logical packet). */
    uint8_t p[] = {0x00, 0x00, 0x00, 0x09};
    assert_int_equal(proto_reseq_check(p, sizeof p, NULL), PROTO_OK);
    assert_int_equal(proto_reseq(p, sizeof p, 0), PROTO_OK);
    static const uint8_t want[] = {0x00, 0x00, 0x00, 0x00};
    assert_memory_equal(p, want, sizeof p);
    /* A length that runs past the end. */
    uint8_t q[] = {0x05, 0x00, 0x00, 0x01, 0xfe, 0x00};
    uint8_t q0[sizeof q];
    memcpy(q0, q, sizeof q);
    assert_int_equal(proto_reseq(q, sizeof q, 3), PROTO_ETRUNC);
    assert_memory_equal(q, q0, sizeof q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_from_1_is_identity),
        cmocka_unit_test(test_capture_from_3_and_wrap),
        cmocka_unit_test(test_capture_deprecate_eof),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_continuation_chunks),
        cmocka_unit_test(test_null_count_and_single_empty_packet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
