/*
 * proto_frame.h - MySQL packet framing: the 4-byte header, sequence ids,
 * 0xFFFFFF continuation chunks (shared/PROTOCOL.md section 2).
 *
 *   wire:  [len:3 LE][seq:1][payload: len bytes] [len:3][seq:1][...] ...
 *
 * A payload of 0xFFFFFF bytes or more travels as several chunks: every chunk
 * but the last is exactly 0xFFFFFF bytes long, and a payload that is an exact
 * multiple of 0xFFFFFF ends with an empty chunk. The chunks together are one
 * "logical packet"; each chunk has its own header and sequence id.
 *
 * Two ways to read:
 *  - proto_frame_peek(): stateless, for a caller that holds the bytes of a
 *    whole chunk contiguously (tests, small control packets).
 *  - struct proto_frame_rd: an incremental reader for a byte stream that
 *    arrives in arbitrary pieces (split anywhere, even inside a header). It
 *    buffers at most the 3 bytes of an incomplete header and hands payload
 *    back as views into the caller's input, so a proxy can forward a 1 GB row
 *    as it streams without holding it. Size limits and sequence ids are
 *    checked on each header, before any of its payload is delivered.
 *
 * Nothing here allocates or keeps pointers into caller memory between calls.
 */
#ifndef GTIDPROXY_PROTO_FRAME_H
#define GTIDPROXY_PROTO_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/proto_rw.h"

#define PROTO_FRAME_HDR_LEN 4u

struct proto_frame_hdr {
    uint32_t len; /* payload length of this chunk, 0..0xFFFFFF */
    uint8_t seq;  /* sequence id */
};

/* Reads one header from p. PROTO_NEED_MORE when n < 4; never fails otherwise
 * (every 24-bit length is valid). */
int proto_frame_hdr_parse(const uint8_t *p, size_t n, struct proto_frame_hdr *h);

/* Finds one complete chunk at the start of p[0..n): fills *h and points
 * *payload at its payload (inside p). PROTO_NEED_MORE when the header or the
 * payload is not all there yet. Does not join continuation chunks: a caller
 * that sees h->len == PROTO_MAX_PAYLOAD knows another chunk follows. */
int proto_frame_peek(const uint8_t *p, size_t n, struct proto_frame_hdr *h, const uint8_t **payload)
    __attribute__((warn_unused_result));

/* True when a chunk of this length is continued by another chunk. */
static inline bool proto_frame_continues(uint32_t chunk_len)
{
    return chunk_len == 0xFFFFFFu;
}

/* ---- writing ---- */

/* Writes a 4-byte header. len must be <= 0xFFFFFF (else w->err = EBAD). */
void proto_frame_write_hdr(struct proto_wr *w, uint32_t len, uint8_t seq);

/* Bytes on the wire for a logical packet of payload_len bytes: the payload
 * plus one header per chunk, including the empty terminator chunk when
 * payload_len is a multiple of 0xFFFFFF (0 counts: one empty packet). */
uint64_t proto_frame_wire_size(uint64_t payload_len);

/* Number of chunks (headers) a logical packet of payload_len bytes takes. */
uint64_t proto_frame_chunk_count(uint64_t payload_len);

/* Writes payload as a logical packet: chunks of 0xFFFFFF bytes with headers,
 * and the empty terminator when needed. *seq is the id of the first chunk on
 * entry and the id the next packet must use on return (wraps 255 -> 0). Errors
 * are sticky in w (PROTO_ENOSPACE), as for every proto_wr writer. */
void proto_frame_write_packet(struct proto_wr *w, const void *payload, size_t n, uint8_t *seq);

/* For a payload the caller streams instead of holding it in one piece:
 * returns the payload length of the chunk that starts at payload offset off
 * (off <= total, on a chunk boundary). Use as:
 *   off = 0;
 *   do { clen = proto_frame_split_at(total, off);
 *        write header(clen, seq++); send clen payload bytes; off += clen;
 *   } while (proto_frame_continues(clen));
 * which also emits the empty terminator for exact multiples of 0xFFFFFF. */
uint32_t proto_frame_split_at(uint64_t total, uint64_t off);

/* ---- incremental reading ---- */

#define PROTO_FRAME_EV_LIST(X)                                                                     \
    X(PROTO_FRAME_EV_HEADER, "HEADER") /* a chunk header was read */                               \
    X(PROTO_FRAME_EV_DATA, "DATA")     /* payload bytes of the current chunk */

enum proto_frame_ev_kind {
#define PROTO_FRAME_EV_ENUM(name, text) name,
    PROTO_FRAME_EV_LIST(PROTO_FRAME_EV_ENUM)
#undef PROTO_FRAME_EV_ENUM
};

const char *proto_frame_ev_name(enum proto_frame_ev_kind k);

struct proto_frame_ev {
    enum proto_frame_ev_kind kind;
    struct proto_frame_hdr hdr; /* the current chunk's header (both kinds) */
    bool first;                 /* the current chunk starts a logical packet */
    bool continued;             /* the current chunk is 0xFFFFFF: another chunk follows */
    uint64_t total;             /* logical packet length so far, incl. this whole chunk */
    /* DATA only: a view into the caller's input. */
    const uint8_t *data;
    size_t len;
    uint32_t chunk_off; /* offset of data within the chunk's payload */
    uint64_t pkt_off;   /* offset of data within the logical packet */
    /* After this event the chunk / the logical packet is complete. A chunk
     * of length 0 completes with its HEADER event. */
    bool chunk_end;
    bool packet_end;
};

struct proto_frame_rd {
    /* Configuration; set by proto_frame_rd_init, may be changed between
     * packets. */
    uint64_t max_len; /* largest logical packet accepted (PROTO_ETOOBIG) */
    bool check_seq;   /* compare each header's seq with next_seq */
    uint8_t next_seq; /* the sequence id the next header must carry */

    /* Private state. */
    uint8_t hdr[PROTO_FRAME_HDR_LEN];
    uint8_t hdr_have; /* header bytes buffered so far */
    bool in_chunk;    /* a header was read, its payload is not done */
    bool in_packet;   /* a logical packet started and is not done */
    bool first;       /* the current chunk is the first of its packet */
    struct proto_frame_hdr cur;
    uint32_t chunk_done; /* payload bytes of cur delivered */
    uint64_t total;      /* logical packet length so far */
    uint64_t pkt_done;   /* payload bytes of the logical packet delivered */
    int err;             /* sticky error, PROTO_OK while healthy */
};

/* Starts a reader at a packet boundary expecting sequence id 0, checking
 * sequence ids, accepting logical packets up to max_len bytes. */
void proto_frame_rd_init(struct proto_frame_rd *r, uint64_t max_len);

/* Tells the reader which sequence id comes next (e.g. 1 after the proxy sent a
 * command with id 0, or k+1 after the client's LOCAL INFILE packet k). */
static inline void proto_frame_rd_expect_seq(struct proto_frame_rd *r, uint8_t seq)
{
    r->next_seq = seq;
}

/* True between packets (no partial header or payload pending). */
bool proto_frame_rd_at_boundary(const struct proto_frame_rd *r);

/*
 * Consumes bytes from p[0..n) up to the next event.
 *   PROTO_OK        *ev is filled, *used bytes were consumed (ev->data points
 *                   into them); call again with the rest.
 *   PROTO_NEED_MORE all n bytes were consumed (*used = n) without completing
 *                   an event (e.g. a partial header); feed more later.
 *   PROTO_ESEQ      a header's sequence id != next_seq.
 *   PROTO_ETOOBIG   a header takes the logical packet past max_len; reported
 *                   before any byte of that chunk's payload.
 * Errors are sticky: the stream is unusable afterwards (*used = 0).
 * The reader never looks at payload bytes; it only counts them.
 */
int proto_frame_next(struct proto_frame_rd *r, const uint8_t *p, size_t n, size_t *used,
                     struct proto_frame_ev *ev) __attribute__((warn_unused_result));

#endif
