/*
 * fuzz_frame.c - libFuzzer target for the incremental framer (proto_frame.h).
 *
 * Input: byte 0 = configuration (bits 0-2: piece size index, bit 3: check
 * sequence ids, bits 4-5: size limit index), byte 1 = first expected
 * sequence id, the rest = a byte stream of packets.
 *
 * Invariants (abort() on violation):
 *  - the streaming reader fed in pieces sees exactly the chunks a stateless
 *    proto_frame_peek() walk over the whole buffer sees, and stops with the
 *    same error at the same place;
 *  - DATA views lie inside the piece just fed and tile each chunk in order;
 *  - every complete logical packet, re-encoded with proto_frame_write_packet
 *    from its payload and first sequence id, gives back exactly the input
 *    bytes (framing is canonical), and wire_size() agrees;
 *  - the size limit is enforced before any payload of an oversized chunk.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static const size_t pieces[8] = {1, 2, 3, 4, 5, 7, 64, SIZE_MAX};
static const uint64_t limits[4] = {UINT64_MAX, 0, 10, 300};

/* Reference: walk the chunks with the stateless peek. Returns the number of
 * complete chunks and the final status (OK at a clean end, NEED_MORE on a
 * partial chunk, ESEQ/ETOOBIG as the reader must report). */
struct ref_chunk {
    size_t off; /* of the header */
    uint32_t len;
    uint8_t seq;
};

static int reference(const uint8_t *p, size_t n, bool check_seq, uint8_t seq, uint64_t max_len,
                     struct ref_chunk *chunks, size_t *count)
{
    size_t off = 0;
    uint64_t total = 0;
    bool in_packet = false;
    *count = 0;
    while (off < n) {
        struct proto_frame_hdr h;
        const uint8_t *pl;
        if (proto_frame_hdr_parse(p + off, n - off, &h) != PROTO_OK)
            return PROTO_NEED_MORE;
        if (check_seq && h.seq != seq)
            return PROTO_ESEQ;
        uint64_t before = in_packet ? total : 0;
        if (h.len > max_len - before)
            return PROTO_ETOOBIG;
        chunks[*count] = (struct ref_chunk){off, h.len, h.seq};
        if (proto_frame_peek(p + off, n - off, &h, &pl) != PROTO_OK)
            return PROTO_NEED_MORE; /* header seen, payload partial */
        (*count)++;
        seq = (uint8_t)(h.seq + 1);
        total = before + h.len;
        in_packet = proto_frame_continues(h.len);
        off += PROTO_FRAME_HDR_LEN + h.len;
    }
    return in_packet ? PROTO_NEED_MORE : PROTO_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t cfg = data[0], seq0 = data[1];
    const uint8_t *p = data + 2;
    size_t n = size - 2;
    size_t piece = pieces[cfg & 7];
    bool check_seq = (cfg & 8) != 0;
    uint64_t max_len = limits[(cfg >> 4) & 3];

    struct ref_chunk *ref = malloc((n / PROTO_FRAME_HDR_LEN + 1) * sizeof *ref);
    uint8_t *payload = malloc(n + 1); /* current logical packet */
    uint8_t *reenc = malloc(2 * n + 16);
    CHECK(ref && payload && reenc);
    size_t nref = 0;
    int ref_rc = reference(p, n, check_seq, seq0, max_len, ref, &nref);

    struct proto_frame_rd r;
    proto_frame_rd_init(&r, max_len);
    r.check_seq = check_seq;
    proto_frame_rd_expect_seq(&r, seq0);

    size_t off = 0, chunks = 0, plen = 0, pkt_start = 0;
    uint8_t pkt_seq = 0;
    uint32_t chunk_seen = 0;
    int rc = PROTO_OK;
    while (off < n) {
        size_t len = n - off < piece ? n - off : piece;
        const uint8_t *q = p + off;
        size_t left = len;
        while (left > 0) {
            struct proto_frame_ev ev;
            size_t used;
            rc = proto_frame_next(&r, q, left, &used, &ev);
            CHECK(used <= left);
            if (rc < 0) {
                CHECK(used == 0);
                goto out;
            }
            q += used;
            left -= used;
            if (rc == PROTO_NEED_MORE) {
                CHECK(left == 0);
                break;
            }
            if (ev.kind == PROTO_FRAME_EV_HEADER) {
                /* The header just read is the reference's next chunk. */
                CHECK(chunks <= nref);
                size_t hdr_end = (size_t)(q - p);
                if (chunks < nref) {
                    CHECK(ref[chunks].off + PROTO_FRAME_HDR_LEN == hdr_end);
                    CHECK(ref[chunks].len == ev.hdr.len && ref[chunks].seq == ev.hdr.seq);
                }
                CHECK(ev.total <= max_len);
                if (ev.first) {
                    plen = 0;
                    pkt_start = hdr_end - PROTO_FRAME_HDR_LEN;
                    pkt_seq = ev.hdr.seq;
                }
                chunk_seen = 0;
                chunks++;
            } else {
                CHECK(ev.kind == PROTO_FRAME_EV_DATA);
                CHECK(ev.data >= p + off && ev.data + ev.len <= p + off + len);
                CHECK(ev.len > 0 && ev.chunk_off == chunk_seen && ev.pkt_off == plen);
                memcpy(payload + plen, ev.data, ev.len);
                plen += ev.len;
                chunk_seen += (uint32_t)ev.len;
                CHECK(chunk_seen <= ev.hdr.len);
                CHECK(ev.chunk_end == (chunk_seen == ev.hdr.len));
            }
            if (ev.packet_end) {
                CHECK(ev.total == plen && !ev.continued);
                /* Canonical framing: re-encoding gives the input back. */
                struct proto_wr w;
                proto_wr_init(&w, reenc, 2 * n + 16);
                uint8_t s = pkt_seq;
                proto_frame_write_packet(&w, payload, plen, &s);
                CHECK(proto_wr_finish(&w) == PROTO_OK);
                size_t end = (size_t)(q - p);
                CHECK(w.len == end - pkt_start);
                CHECK(w.len == proto_frame_wire_size(plen));
                CHECK(memcmp(reenc, p + pkt_start, w.len) == 0);
                CHECK(s == (uint8_t)(ev.hdr.seq + 1));
                CHECK(proto_frame_rd_at_boundary(&r));
            }
        }
        off += len;
    }
out:
    if (rc < 0) {
        CHECK(rc == ref_rc);
    } else {
        /* Clean end, or mid-packet / mid-chunk (NEED_MORE). */
        CHECK(ref_rc == PROTO_OK || ref_rc == PROTO_NEED_MORE);
        CHECK(proto_frame_rd_at_boundary(&r) == (ref_rc == PROTO_OK));
        CHECK(chunks == nref || chunks == nref + 1);
    }
    free(ref);
    free(payload);
    free(reenc);
    return 0;
}
