/*
 * fuzz_tracker.c - libFuzzer target for the reply tracker (proto_tracker.h).
 *
 * Input: byte 0 picks the capability set (bit 0 DEPRECATE_EOF, 1 MariaDB
 * CACHE_METADATA, 2 MariaDB PROGRESS, 3 LOCAL_FILES, 4 SESSION_TRACK, 5 no
 * PROTOCOL_41, 6 OPTIONAL_RESULTSET_METADATA), byte 1 is the command byte,
 * then records as in tests/fixtures/tracker (a direction byte 'C' for a
 * client packet, anything else for a server packet, then a framed packet).
 *
 * Three trackers run side by side: A gets every server packet whole; B gets
 * each packet first as exact-size copies of its 0..len-1 byte prefixes (so
 * ASan catches any read past what was offered); C is a proto_tracker_stream
 * fed the framed bytes in small pieces. Invariants (abort()):
 *  - NEED_MORE leaves the state alone and asks for more than was offered,
 *    never more than the packet;
 *  - B takes a packet early only for kinds that need one byte (rows,
 *    definitions, auth switch/more, the statistics string);
 *  - A, B and C agree on every status, state and result after every packet;
 *  - out.done == (state == DONE); counters never go down;
 *  - after FAILED or DONE every server packet is refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_tracker.h"
#include "gtidproxy/proto_tracker_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static uint64_t pick_caps(uint8_t b)
{
    uint64_t caps = PROTO_CAP(CLIENT_PROTOCOL_41) | PROTO_CAP(CLIENT_TRANSACTIONS) |
                    PROTO_CAP(CLIENT_SECURE_CONNECTION) | PROTO_CAP(CLIENT_MULTI_RESULTS) |
                    PROTO_CAP(CLIENT_PS_MULTI_RESULTS) | PROTO_CAP(CLIENT_PLUGIN_AUTH) |
                    PROTO_CAP(CLIENT_MULTI_STATEMENTS);
    if (b & 0x01)
        caps |= PROTO_CAP(CLIENT_DEPRECATE_EOF);
    if (b & 0x02)
        caps |=
            PROTO_CAP(MARIADB_CLIENT_CACHE_METADATA) | PROTO_CAP(MARIADB_CLIENT_EXTENDED_METADATA);
    if (b & 0x04)
        caps |= PROTO_CAP(MARIADB_CLIENT_PROGRESS);
    if (b & 0x08)
        caps |= PROTO_CAP(CLIENT_LOCAL_FILES);
    if (b & 0x10)
        caps |= PROTO_CAP(CLIENT_SESSION_TRACK);
    if (b & 0x20)
        caps &= ~PROTO_CAP(CLIENT_PROTOCOL_41);
    if (b & 0x40)
        caps |= PROTO_CAP(CLIENT_OPTIONAL_RESULTSET_METADATA);
    return caps;
}

static bool first_byte_kind(enum proto_trk_pkt_kind k)
{
    return k == PROTO_TRK_PKT_ROW || k == PROTO_TRK_PKT_COLUMN_DEF ||
           k == PROTO_TRK_PKT_PARAM_DEF || k == PROTO_TRK_PKT_STRING ||
           k == PROTO_TRK_PKT_AUTH_SWITCH || k == PROTO_TRK_PKT_AUTH_MORE;
}

static bool same(const struct proto_tracker *a, const struct proto_tracker *b)
{
    return a->state == b->state && a->left == b->left &&
           memcmp(&a->res, &b->res, sizeof a->res) == 0;
}

static void monotonic(const struct proto_trk_result *before, const struct proto_trk_result *after)
{
    CHECK(after->rows >= before->rows);
    CHECK(after->result_sets >= before->result_sets);
    CHECK(after->oks >= before->oks);
    CHECK(after->affected_total >= before->affected_total || after->oks > before->oks);
    CHECK(after->session_states >= before->session_states);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint64_t caps = pick_caps(data[0]);
    uint8_t com = data[1];
    struct proto_tracker a, b;
    proto_tracker_init(&a);
    proto_tracker_init(&b);
    int sa = proto_tracker_start(&a, caps, com);
    int sb = proto_tracker_start(&b, caps, com);
    CHECK(sa == sb && same(&a, &b));
    if (sa != PROTO_OK) {
        CHECK(sa == PROTO_EUNSUPPORTED && a.state == PROTO_TRK_IDLE);
        return 0;
    }
    /* C: scratch as large as the input, so "does not fit" never differs. */
    uint8_t *scratch = malloc(size);
    CHECK(scratch);
    struct proto_tracker_stream c;
    proto_tracker_stream_init(&c, scratch, size, UINT64_MAX);
    CHECK(proto_tracker_stream_start(&c, caps, com) == PROTO_OK);
    c.fr.check_seq = false; /* fuzzed sequence ids are arbitrary */
    size_t piece = 1 + size % 13;

    size_t off = 2;
    while (off < size) {
        bool client = data[off] == 'C';
        off++;
        struct proto_frame_hdr h;
        const uint8_t *payload;
        if (proto_frame_peek(data + off, size - off, &h, &payload) != PROTO_OK)
            break;
        const uint8_t *wire = data + off;
        off += PROTO_FRAME_HDR_LEN + h.len;

        /* After a failure the stream repeats its first error code while the
         * bare tracker says EBAD; both must refuse. */
        bool failed = a.state == PROTO_TRK_FAILED;
        if (client) {
            int ra = proto_tracker_client_packet(&a, h.len);
            int rb = proto_tracker_client_packet(&b, h.len);
            int rc = proto_tracker_stream_client_packet(&c, h.seq, h.len);
            CHECK(ra == rb && same(&a, &b));
            CHECK((failed ? rc < 0 : rc == ra) && same(&a, &c.trk));
            CHECK(ra == PROTO_OK || (ra == PROTO_EBAD && a.state == PROTO_TRK_FAILED));
            continue;
        }

        bool closed =
            a.state == PROTO_TRK_DONE || a.state == PROTO_TRK_FAILED || a.state == PROTO_TRK_IDLE;
        struct proto_trk_result before = a.res;

        /* B: prefixes first, as exact-size heap copies. */
        struct proto_trk_pkt pb;
        int rb = PROTO_NEED_MORE;
        for (size_t k = 0; k < h.len; k++) {
            uint8_t *cut = malloc(k ? k : 1);
            CHECK(cut);
            memcpy(cut, payload, k);
            enum proto_trk_state st = b.state;
            rb = proto_tracker_feed(&b, k ? cut : NULL, k, h.len, &pb);
            free(cut);
            if (rb == PROTO_NEED_MORE) {
                CHECK(b.state == st);
                CHECK(b.need > k && b.need <= h.len);
                continue;
            }
            if (rb == PROTO_OK)
                CHECK(k >= 1 && first_byte_kind(pb.kind));
            break;
        }
        if (rb == PROTO_NEED_MORE) {
            uint8_t *whole = malloc(h.len ? h.len : 1);
            CHECK(whole);
            memcpy(whole, payload, h.len);
            rb = proto_tracker_feed(&b, whole, h.len, h.len, &pb);
            free(whole);
        }

        /* A: the whole packet at once. */
        struct proto_trk_pkt pa;
        uint8_t *whole = malloc(h.len ? h.len : 1);
        CHECK(whole);
        memcpy(whole, payload, h.len);
        int ra = proto_tracker_feed(&a, whole, h.len, h.len, &pa);
        free(whole);

        /* C: the framed bytes in pieces. */
        int rc = PROTO_OK;
        size_t wn = PROTO_FRAME_HDR_LEN + h.len, tracked = 0;
        for (size_t woff = 0; woff < wn && rc >= 0; woff += piece) {
            const uint8_t *q = wire + woff;
            size_t left = wn - woff < piece ? wn - woff : piece;
            while (left > 0) {
                struct proto_trk_pkt pc;
                size_t used;
                int r = proto_tracker_stream_feed(&c, q, left, &used, &pc);
                CHECK(used <= left);
                q += used;
                left -= used;
                if (r < 0) {
                    rc = r;
                    break;
                }
                if (r == PROTO_OK) {
                    tracked++;
                    CHECK(pc.done == (c.trk.state == PROTO_TRK_DONE));
                }
            }
        }

        CHECK(ra != PROTO_NEED_MORE && rb != PROTO_NEED_MORE);
        CHECK(ra == rb && same(&a, &b));
        CHECK((failed ? rc < 0 : rc == (ra < 0 ? ra : PROTO_OK)) && same(&a, &c.trk));
        CHECK(tracked == (ra == PROTO_OK ? 1u : 0u));
        if (closed)
            CHECK(ra == PROTO_EBAD);
        if (ra == PROTO_OK) {
            CHECK(pa.kind == pb.kind && pa.done == pb.done);
            CHECK(pa.done == (a.state == PROTO_TRK_DONE));
            monotonic(&before, &a.res);
            if (pa.kind == PROTO_TRK_PKT_ERR)
                CHECK(a.res.is_error && pa.done);
        } else {
            CHECK(ra < 0 && a.state == PROTO_TRK_FAILED);
        }
    }
    /* A finished tracker can take the next command; a failed one cannot. */
    if (a.state == PROTO_TRK_DONE)
        CHECK(proto_tracker_start(&a, caps & ~PROTO_CAP(CLIENT_OPTIONAL_RESULTSET_METADATA),
                                  PROTO_COM_PING) == PROTO_OK);
    if (a.state == PROTO_TRK_FAILED)
        CHECK(proto_tracker_start(&a, caps, PROTO_COM_PING) == PROTO_EBAD);
    free(scratch);
    return 0;
}
