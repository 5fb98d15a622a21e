/*
 * frame.c - MySQL packet framing (proto_frame.h): 4-byte headers, sequence
 * ids, 0xFFFFFF continuation chunks; a stateless peek, a writer, and an
 * incremental reader that never copies payload.
 *
 *   input pieces:  |..h|dr payload pay|load hdr payload|...
 *   events:        HEADER  DATA    DATA      HEADER DATA
 *
 * The reader holds at most one partial header (3 bytes); payload is returned
 * as views into whatever piece the caller just passed in.
 */
#include "gtidproxy/proto_frame.h"

#include <string.h>

#include "gtidproxy/proto_consts.h"

const char *proto_frame_ev_name(enum proto_frame_ev_kind k)
{
    switch (k) {
#define PROTO_FRAME_EV_CASE(name, text)                                                            \
    case name:                                                                                     \
        return text;
        PROTO_FRAME_EV_LIST(PROTO_FRAME_EV_CASE)
#undef PROTO_FRAME_EV_CASE
    }
    return "UNKNOWN";
}

int proto_frame_hdr_parse(const uint8_t *p, size_t n, struct proto_frame_hdr *h)
{
    if (n < PROTO_FRAME_HDR_LEN)
        return PROTO_NEED_MORE;
    h->len = proto_le24(p);
    h->seq = p[3];
    return PROTO_OK;
}

int proto_frame_peek(const uint8_t *p, size_t n, struct proto_frame_hdr *h, const uint8_t **payload)
{
    int rc = proto_frame_hdr_parse(p, n, h);
    if (rc != PROTO_OK)
        return rc;
    if (n - PROTO_FRAME_HDR_LEN < h->len)
        return PROTO_NEED_MORE;
    *payload = p + PROTO_FRAME_HDR_LEN;
    return PROTO_OK;
}

void proto_frame_write_hdr(struct proto_wr *w, uint32_t len, uint8_t seq)
{
    if (len > PROTO_MAX_PAYLOAD) {
        if (w->err == PROTO_OK)
            w->err = PROTO_EBAD;
        return;
    }
    proto_wr_u24(w, len);
    proto_wr_u8(w, seq);
}

uint64_t proto_frame_chunk_count(uint64_t payload_len)
{
    /* Full chunks, plus the last (short or empty) one that ends the packet. */
    return payload_len / PROTO_MAX_PAYLOAD + 1;
}

uint64_t proto_frame_wire_size(uint64_t payload_len)
{
    return payload_len + PROTO_FRAME_HDR_LEN * proto_frame_chunk_count(payload_len);
}

uint32_t proto_frame_split_at(uint64_t total, uint64_t off)
{
    uint64_t left = off < total ? total - off : 0;
    return left >= PROTO_MAX_PAYLOAD ? PROTO_MAX_PAYLOAD : (uint32_t)left;
}

void proto_frame_write_packet(struct proto_wr *w, const void *payload, size_t n, uint8_t *seq)
{
    const uint8_t *src = payload;
    size_t off = 0;
    uint32_t clen;
    do {
        clen = proto_frame_split_at(n, off);
        proto_frame_write_hdr(w, clen, *seq);
        proto_wr_bytes(w, src + off, clen);
        *seq = (uint8_t)(*seq + 1);
        off += clen;
    } while (proto_frame_continues(clen));
}

void proto_frame_rd_init(struct proto_frame_rd *r, uint64_t max_len)
{
    *r = (struct proto_frame_rd){
        .max_len = max_len,
        .check_seq = true,
        .next_seq = 0,
    };
}

bool proto_frame_rd_at_boundary(const struct proto_frame_rd *r)
{
    return r->err == PROTO_OK && r->hdr_have == 0 && !r->in_chunk && !r->in_packet;
}

static void fill_common(const struct proto_frame_rd *r, struct proto_frame_ev *ev)
{
    ev->hdr = r->cur;
    ev->first = r->first;
    ev->continued = proto_frame_continues(r->cur.len);
    ev->total = r->total;
}

/* A complete header is in r->hdr: validate it and open the chunk. */
static int open_chunk(struct proto_frame_rd *r, struct proto_frame_ev *ev)
{
    struct proto_frame_hdr h;
    (void)proto_frame_hdr_parse(r->hdr, sizeof r->hdr, &h);
    r->hdr_have = 0;
    if (r->check_seq && h.seq != r->next_seq)
        return r->err = PROTO_ESEQ;
    /* The limit applies to the whole logical packet, checked before a byte of
     * this chunk's payload is handed out. total <= max_len holds here, so the
     * subtraction cannot wrap. */
    uint64_t before = r->in_packet ? r->total : 0;
    if (h.len > r->max_len - before)
        return r->err = PROTO_ETOOBIG;

    r->first = !r->in_packet;
    r->in_packet = true;
    r->in_chunk = true;
    r->cur = h;
    r->chunk_done = 0;
    r->total = before + h.len;
    if (r->first)
        r->pkt_done = 0;
    r->next_seq = (uint8_t)(h.seq + 1);

    *ev = (struct proto_frame_ev){.kind = PROTO_FRAME_EV_HEADER};
    fill_common(r, ev);
    if (h.len == 0) {
        /* Empty chunk: a whole packet of 0 bytes, or the terminator of a
         * payload that was an exact multiple of 0xFFFFFF. */
        r->in_chunk = false;
        r->in_packet = false;
        ev->chunk_end = true;
        ev->packet_end = true;
    }
    return PROTO_OK;
}

int proto_frame_next(struct proto_frame_rd *r, const uint8_t *p, size_t n, size_t *used,
                     struct proto_frame_ev *ev)
{
    *used = 0;
    if (r->err != PROTO_OK)
        return r->err;

    if (!r->in_chunk) {
        /* Collect the header, possibly across calls. */
        /* hdr_have < 4 here; the clamp tells the optimizer so (gcc -O2
         * -Wstringop-overflow cannot prove it). */
        size_t have = r->hdr_have < PROTO_FRAME_HDR_LEN ? r->hdr_have : PROTO_FRAME_HDR_LEN;
        size_t take = PROTO_FRAME_HDR_LEN - have;
        if (take > n)
            take = n;
        if (take)
            memcpy(r->hdr + have, p, take);
        r->hdr_have = (uint8_t)(r->hdr_have + take);
        *used = take;
        if (r->hdr_have < PROTO_FRAME_HDR_LEN)
            return PROTO_NEED_MORE;
        int rc = open_chunk(r, ev);
        if (rc != PROTO_OK)
            *used = 0;
        return rc;
    }

    if (n == 0)
        return PROTO_NEED_MORE;
    uint32_t left = r->cur.len - r->chunk_done;
    size_t take = n < left ? n : left;

    *ev = (struct proto_frame_ev){.kind = PROTO_FRAME_EV_DATA};
    fill_common(r, ev);
    ev->data = p;
    ev->len = take;
    ev->chunk_off = r->chunk_done;
    ev->pkt_off = r->pkt_done;
    r->chunk_done += (uint32_t)take;
    r->pkt_done += take;
    *used = take;
    if (r->chunk_done == r->cur.len) {
        r->in_chunk = false;
        ev->chunk_end = true;
        if (!proto_frame_continues(r->cur.len)) {
            r->in_packet = false;
            ev->packet_end = true;
        }
    }
    return PROTO_OK;
}
