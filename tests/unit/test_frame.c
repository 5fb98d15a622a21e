/* test_frame.c - packet framing: every split point of a multi-packet stream,
 * 0xFFFFFF continuation + empty terminator, seq wrap, seq mismatch, size
 * limit enforced from the header, writer layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_frame.h"
#include "testsupport.h"

/* What a reader run saw: payloads re-assembled from DATA events, and the
 * header/packet bookkeeping, so two runs over different splits compare. */
#define MAXPKT 16
struct seen {
    size_t npkts;
    size_t nheaders;
    size_t len[MAXPKT];
    uint8_t first_seq[MAXPKT];
    uint8_t buf[MAXPKT][512];
};

/* Feeds one piece; appends what it yields to *s. Returns the first error. */
static int feed(struct proto_frame_rd *r, const uint8_t *p, size_t n, struct seen *s)
{
    while (n > 0) {
        struct proto_frame_ev ev;
        size_t used = 0;
        int rc = proto_frame_next(r, p, n, &used, &ev);
        assert_true(used <= n);
        p += used;
        n -= used;
        if (rc == PROTO_NEED_MORE) {
            assert_int_equal(n, 0);
            break;
        }
        if (rc != PROTO_OK)
            return rc;
        if (ev.kind == PROTO_FRAME_EV_HEADER) {
            s->nheaders++;
            if (ev.first)
                s->first_seq[s->npkts] = ev.hdr.seq;
        } else {
            assert_int_equal(ev.kind, PROTO_FRAME_EV_DATA);
            assert_true(ev.len > 0);
            assert_true(ev.pkt_off == s->len[s->npkts]);
            assert_true(ev.pkt_off + ev.len <= sizeof s->buf[0]);
            memcpy(s->buf[s->npkts] + ev.pkt_off, ev.data, ev.len);
            s->len[s->npkts] += ev.len;
        }
        if (ev.packet_end) {
            assert_true(ev.total == s->len[s->npkts]);
            s->npkts++;
            assert_true(s->npkts < MAXPKT);
        }
    }
    return PROTO_OK;
}

/* Payload sizes chosen to cover empty packets, 1 byte, lenenc boundaries. */
static const size_t stream_sizes[] = {0, 1, 5, 251, 0, 300, 2};

static size_t build_stream(uint8_t *out, size_t cap, uint8_t first_seq)
{
    struct proto_wr w;
    proto_wr_init(&w, out, cap);
    uint8_t seq = first_seq;
    for (size_t i = 0; i < sizeof stream_sizes / sizeof stream_sizes[0]; i++) {
        uint8_t payload[512];
        for (size_t j = 0; j < stream_sizes[i]; j++)
            payload[j] = (uint8_t)(i * 31 + j);
        proto_frame_write_packet(&w, payload, stream_sizes[i], &seq);
    }
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    return w.len;
}

static void check_seen(const struct seen *s, uint8_t first_seq)
{
    size_t np = sizeof stream_sizes / sizeof stream_sizes[0];
    assert_int_equal(s->npkts, np);
    assert_int_equal(s->nheaders, np);
    for (size_t i = 0; i < np; i++) {
        assert_int_equal(s->len[i], stream_sizes[i]);
        assert_int_equal(s->first_seq[i], (uint8_t)(first_seq + i));
        for (size_t j = 0; j < stream_sizes[i]; j++)
            assert_int_equal(s->buf[i][j], (uint8_t)(i * 31 + j));
    }
}

static void test_every_split_point(void **state)
{
    (void)state;
    static uint8_t wire[2048];
    size_t n = build_stream(wire, sizeof wire, 0);
    size_t want = 0;
    for (size_t i = 0; i < sizeof stream_sizes / sizeof stream_sizes[0]; i++)
        want += proto_frame_wire_size(stream_sizes[i]);
    assert_int_equal(n, want);

    /* Two pieces, split at every offset (including inside each header). */
    for (size_t cut = 0; cut <= n; cut++) {
        struct proto_frame_rd r;
        static struct seen s;
        memset(&s, 0, sizeof s);
        proto_frame_rd_init(&r, 1024);
        assert_int_equal(feed(&r, wire, cut, &s), PROTO_OK);
        assert_int_equal(feed(&r, wire + cut, n - cut, &s), PROTO_OK);
        check_seen(&s, 0);
        assert_true(proto_frame_rd_at_boundary(&r));
    }
    /* Byte by byte: the worst case for header reassembly. */
    struct proto_frame_rd r;
    static struct seen s;
    memset(&s, 0, sizeof s);
    proto_frame_rd_init(&r, 1024);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(feed(&r, wire + i, 1, &s), PROTO_OK);
        if (i == 1)
            assert_false(proto_frame_rd_at_boundary(&r)); /* half a header */
    }
    check_seen(&s, 0);
    assert_true(proto_frame_rd_at_boundary(&r));
}

static void test_seq_wrap(void **state)
{
    (void)state;
    static uint8_t wire[2048];
    /* Starts at 254: ids 254, 255, 0, 1, ... must all be accepted. */
    size_t n = build_stream(wire, sizeof wire, 254);
    assert_int_equal(wire[3], 254);
    struct proto_frame_rd r;
    static struct seen s;
    memset(&s, 0, sizeof s);
    proto_frame_rd_init(&r, 1024);
    proto_frame_rd_expect_seq(&r, 254);
    assert_int_equal(feed(&r, wire, n, &s), PROTO_OK);
    check_seen(&s, 254);
    assert_int_equal(r.next_seq, (uint8_t)(254 + 7));
}

static void test_seq_mismatch(void **state)
{
    (void)state;
    uint8_t wire[64];
    /* ok packet seq 1, then a packet claiming seq 3 (2 expected). */
    size_t n = tu_hex("01000001 aa  02000003 bbcc", wire, sizeof wire);
    struct proto_frame_rd r;
    static struct seen s;
    memset(&s, 0, sizeof s);
    proto_frame_rd_init(&r, 1024);
    proto_frame_rd_expect_seq(&r, 1);
    assert_int_equal(feed(&r, wire, n, &s), PROTO_ESEQ);
    assert_int_equal(s.npkts, 1);
    /* Sticky: nothing more is consumed. */
    struct proto_frame_ev ev;
    size_t used = 99;
    assert_int_equal(proto_frame_next(&r, wire + 9, 2, &used, &ev), PROTO_ESEQ);
    assert_int_equal(used, 0);
    assert_false(proto_frame_rd_at_boundary(&r));

    /* The very first packet can mismatch too; with checking off it passes. */
    proto_frame_rd_init(&r, 1024);
    assert_int_equal(proto_frame_next(&r, wire, 4, &used, &ev), PROTO_ESEQ);
    proto_frame_rd_init(&r, 1024);
    r.check_seq = false;
    assert_int_equal(proto_frame_next(&r, wire, 4, &used, &ev), PROTO_OK);
    assert_int_equal(ev.kind, PROTO_FRAME_EV_HEADER);
    assert_int_equal(ev.hdr.seq, 1);
    assert_int_equal(ev.hdr.len, 1);
}

static void test_oversize_from_header(void **state)
{
    (void)state;
    uint8_t wire[8];
    /* Header only: 101-byte payload against a 100-byte limit. The error comes
     * from the 4 header bytes alone, before any payload exists. */
    size_t n = tu_hex("65000000", wire, sizeof wire);
    struct proto_frame_rd r;
    struct proto_frame_ev ev;
    size_t used;
    proto_frame_rd_init(&r, 100);
    assert_int_equal(proto_frame_next(&r, wire, 3, &used, &ev), PROTO_NEED_MORE);
    assert_int_equal(used, 3);
    assert_int_equal(proto_frame_next(&r, wire + 3, n - 3, &used, &ev), PROTO_ETOOBIG);
    assert_int_equal(used, 0);

    /* Exactly at the limit is fine. */
    n = tu_hex("64000000", wire, sizeof wire);
    proto_frame_rd_init(&r, 100);
    assert_int_equal(proto_frame_next(&r, wire, n, &used, &ev), PROTO_OK);
    assert_int_equal(ev.total, 100);
    assert_false(ev.packet_end);
}

/* A 0xFFFFFF chunk continued by a short one, and an exact multiple ended by
 * the empty terminator, built in memory (16 MiB). */
static void test_continuation(void **state)
{
    (void)state;
    const size_t big = PROTO_MAX_PAYLOAD;
    for (int extra = 0; extra <= 10; extra += 10) {
        size_t plen = big + (size_t)extra;
        size_t wlen = (size_t)proto_frame_wire_size(plen);
        assert_int_equal(wlen, plen + 8); /* two headers either way */
        assert_int_equal(proto_frame_chunk_count(plen), 2);
        uint8_t *payload = malloc(plen);
        uint8_t *wire = malloc(wlen);
        assert_non_null(payload);
        assert_non_null(wire);
        for (size_t i = 0; i < plen; i++)
            payload[i] = (uint8_t)(i * 7);
        struct proto_wr w;
        proto_wr_init(&w, wire, wlen);
        uint8_t seq = 255;
        proto_frame_write_packet(&w, payload, plen, &seq);
        assert_int_equal(proto_wr_finish(&w), PROTO_OK);
        assert_int_equal(w.len, wlen);
        assert_int_equal(seq, 1); /* 255, 0 used */
        /* Header layout, byte-exact. */
        assert_memory_equal(wire, "\xff\xff\xff\xff", 4);
        assert_int_equal(proto_le24(wire + 4 + big), (uint32_t)extra);
        assert_int_equal(wire[4 + big + 3], 0);

        /* Read it back in pieces of 1 MiB + 3 (so headers straddle pieces). */
        struct proto_frame_rd r;
        proto_frame_rd_init(&r, plen);
        proto_frame_rd_expect_seq(&r, 255);
        size_t off = 0, got = 0, headers = 0, ends = 0;
        while (off < wlen) {
            size_t piece = wlen - off < (1u << 20) + 3 ? wlen - off : (1u << 20) + 3;
            const uint8_t *p = wire + off;
            size_t left = piece;
            while (left > 0) {
                struct proto_frame_ev ev;
                size_t used;
                int rc = proto_frame_next(&r, p, left, &used, &ev);
                p += used;
                left -= used;
                if (rc == PROTO_NEED_MORE)
                    break;
                assert_int_equal(rc, PROTO_OK);
                if (ev.kind == PROTO_FRAME_EV_HEADER) {
                    headers++;
                    if (headers == 1) {
                        assert_true(ev.first);
                        assert_true(ev.continued);
                        assert_true(ev.total == big);
                        assert_int_equal(ev.hdr.seq, 255);
                    } else {
                        assert_false(ev.first);
                        assert_false(ev.continued);
                        assert_true(ev.total == plen);
                        assert_int_equal(ev.hdr.seq, 0);
                        assert_int_equal(ev.hdr.len, (uint32_t)extra);
                    }
                } else {
                    assert_true(ev.pkt_off == got);
                    assert_memory_equal(ev.data, payload + got, ev.len);
                    got += ev.len;
                    /* The first chunk ends without ending the packet. */
                    if (ev.chunk_end && headers == 1)
                        assert_false(ev.packet_end);
                }
                if (ev.packet_end) {
                    ends++;
                    assert_true(got == plen);
                }
            }
            off += piece;
        }
        assert_int_equal(headers, 2);
        assert_int_equal(ends, 1);
        assert_true(proto_frame_rd_at_boundary(&r));

        /* One byte under the size: the second header is refused before its
         * payload is delivered (for extra == 0, the empty terminator fits). */
        proto_frame_rd_init(&r, plen - 1);
        proto_frame_rd_expect_seq(&r, 255);
        const uint8_t *p = wire;
        size_t left = wlen;
        int rc;
        for (;;) {
            struct proto_frame_ev ev;
            size_t used;
            rc = proto_frame_next(&r, p, left, &used, &ev);
            if (rc != PROTO_OK)
                break;
            p += used;
            left -= used;
        }
        if (extra == 0) {
            /* 0xFFFFFF itself exceeds 0xFFFFFE: refused at the first header. */
            assert_int_equal(rc, PROTO_ETOOBIG);
            assert_ptr_equal(p, wire);
        } else {
            assert_int_equal(rc, PROTO_ETOOBIG);
            assert_ptr_equal(p, wire + 4 + big);
        }
        free(payload);
        free(wire);
    }
}

static void test_peek_and_writer(void **state)
{
    (void)state;
    uint8_t wire[16];
    size_t n = tu_hex("03000007 010203 ff", wire, sizeof wire);
    struct proto_frame_hdr h;
    const uint8_t *pl = NULL;
    for (size_t cut = 0; cut < 7; cut++)
        assert_int_equal(proto_frame_peek(wire, cut, &h, &pl), PROTO_NEED_MORE);
    assert_int_equal(proto_frame_peek(wire, n, &h, &pl), PROTO_OK);
    assert_int_equal(h.len, 3);
    assert_int_equal(h.seq, 7);
    assert_ptr_equal(pl, wire + 4);

    uint8_t out[16], want[16];
    struct proto_wr w;
    proto_wr_init(&w, out, sizeof out);
    uint8_t seq = 7;
    proto_frame_write_packet(&w, "\x01\x02\x03", 3, &seq);
    proto_frame_write_packet(&w, "", 0, &seq);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    size_t wn = tu_hex("03000007 010203  00000008", want, sizeof want);
    assert_int_equal(w.len, wn);
    assert_memory_equal(out, want, wn);
    assert_int_equal(seq, 9);

    /* A header longer than a chunk can be is refused, stickily. */
    proto_wr_init(&w, out, sizeof out);
    proto_frame_write_hdr(&w, PROTO_MAX_PAYLOAD + 1, 0);
    proto_frame_write_hdr(&w, 1, 0);
    assert_int_equal(proto_wr_finish(&w), PROTO_EBAD);
    assert_int_equal(w.len, 0);

    /* Too small an output buffer. */
    proto_wr_init(&w, out, 5);
    seq = 0;
    proto_frame_write_packet(&w, "\x01\x02", 2, &seq);
    assert_int_equal(proto_wr_finish(&w), PROTO_ENOSPACE);

    assert_int_equal(proto_frame_split_at(10, 0), 10);
    assert_int_equal(proto_frame_split_at(PROTO_MAX_PAYLOAD, 0), PROTO_MAX_PAYLOAD);
    assert_int_equal(proto_frame_split_at(PROTO_MAX_PAYLOAD, PROTO_MAX_PAYLOAD), 0);
    assert_int_equal(proto_frame_split_at(2ull * PROTO_MAX_PAYLOAD + 5, PROTO_MAX_PAYLOAD),
                     PROTO_MAX_PAYLOAD);
    assert_int_equal(proto_frame_wire_size(0), 4);
    assert_true(proto_frame_wire_size(2ull * PROTO_MAX_PAYLOAD) == 2ull * PROTO_MAX_PAYLOAD + 12);
    assert_string_equal(proto_frame_ev_name(PROTO_FRAME_EV_DATA), "DATA");
    assert_string_equal(proto_frame_ev_name((enum proto_frame_ev_kind)99), "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_split_point), cmocka_unit_test(test_seq_wrap),
        cmocka_unit_test(test_seq_mismatch),      cmocka_unit_test(test_oversize_from_header),
        cmocka_unit_test(test_continuation),      cmocka_unit_test(test_peek_and_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
