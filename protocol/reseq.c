/*
 * reseq.c - re-sequencing stored replies (proto_reseq.h): walk the chunk
 * headers with proto_frame_peek(), then rewrite each header's id byte.
 *
 * Check first, write second: a run that is not whole is rejected before any
 * byte changes, so a caller holding a shared copy never serves half-rewritten
 * ids. The walk is O(number of packets); payload bytes are skipped, not read.
 */
#include "gtidproxy/proto_reseq.h"

#include <stdbool.h>

#include "gtidproxy/proto_frame.h"

int proto_reseq_check(const uint8_t *p, size_t n, size_t *packets)
{
    if (n == 0)
        return PROTO_EBAD;
    size_t off = 0, count = 0;
    bool continued = false;
    while (off < n) {
        struct proto_frame_hdr h;
        const uint8_t *payload;
        /* NEED_MORE here means the run ends inside this chunk. */
        if (proto_frame_peek(p + off, n - off, &h, &payload) != PROTO_OK)
            return PROTO_ETRUNC;
        off += PROTO_FRAME_HDR_LEN + h.len;
        count++;
        continued = proto_frame_continues(h.len);
    }
    if (continued)
        return PROTO_ETRUNC;
    if (packets)
        *packets = count;
    return PROTO_OK;
}

int proto_reseq(uint8_t *p, size_t n, uint8_t first_seq)
{
    int rc = proto_reseq_check(p, n, NULL);
    if (rc != PROTO_OK)
        return rc;
    /* The check proved every header and payload lies inside p[0..n), so
     * the header rewrite below always fits its 4 bytes. */
    uint8_t seq = first_seq;
    size_t off = 0;
    while (off < n) {
        struct proto_frame_hdr h;
        (void)proto_frame_hdr_parse(p + off, n - off, &h);
        struct proto_wr w;
        proto_wr_init(&w, p + off, PROTO_FRAME_HDR_LEN);
        proto_frame_write_hdr(&w, h.len, seq++);
        off += PROTO_FRAME_HDR_LEN + h.len;
    }
    return PROTO_OK;
}
