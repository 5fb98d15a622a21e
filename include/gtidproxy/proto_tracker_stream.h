/*
 * proto_tracker_stream.h - framing + reply tracking over the raw byte stream
 * a backend sends, in whatever pieces the socket delivers it: the glue
 * between proto_frame_rd and proto_tracker that every user would otherwise
 * write.
 *
 *   socket read ──▶ proto_tracker_stream_feed() ──▶ (packet kind, OK view,
 *        │               frames, tracks              done?) per packet
 *        └──── the same bytes, forwarded unchanged to the client
 *
 * It only observes: the caller forwards every byte it passes in. Payload is
 * handed to the tracker straight from the caller's piece when a packet's
 * needed bytes are contiguous there; only a packet the tracker must decode
 * (OK/ERR/EOF/count/PREPARE_OK) that straddles two reads is copied, into a
 * caller-provided scratch buffer. Rows are never copied, whatever their size.
 *
 * Client packets that belong to the exchange (LOCAL INFILE contents, auth
 * responses) go through proto_tracker_stream_client_packet(), which also
 * moves the expected server sequence id past them.
 */
#ifndef GTIDPROXY_PROTO_TRACKER_STREAM_H
#define GTIDPROXY_PROTO_TRACKER_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_tracker.h"

struct proto_tracker_stream {
    struct proto_frame_rd fr;
    struct proto_tracker trk;
    /* Private. */
    uint8_t *buf; /* caller-owned scratch */
    size_t cap;
    size_t have;  /* bytes of the current packet in buf */
    uint64_t len; /* the current packet's first-chunk length */
    bool taken;   /* the tracker took the current packet */
    int err;      /* sticky error */
};

/*
 * buf/cap: scratch for decoded packets that straddle reads; its size bounds
 * the largest OK/ERR/EOF the stream accepts (PROTO_ETOOBIG beyond). OK
 * packets with session state are small; 64 KiB is generous. The buffer must
 * outlive the stream. max_packet: the framer's logical packet limit.
 */
void proto_tracker_stream_init(struct proto_tracker_stream *s, void *buf, size_t cap,
                               uint64_t max_packet);

/* Starts a command: the tracker as proto_tracker_start(), the framer at a
 * packet boundary expecting sequence id 1 (the command itself was 0). */
int proto_tracker_stream_start(struct proto_tracker_stream *s, uint64_t caps, uint8_t com)
    __attribute__((warn_unused_result));

/*
 * Consumes server bytes p[0..n) up to the next tracked packet.
 *   PROTO_OK        *used bytes were consumed and one packet was tracked:
 *                   *pkt says what it was (views into p or the scratch
 *                   buffer, valid until the next call). Call again with the
 *                   rest.
 *   PROTO_NEED_MORE all n bytes were consumed (*used = n); nothing to report.
 *   < 0             framing (PROTO_ESEQ, PROTO_ETOOBIG) or tracking
 *                   (PROTO_EBAD, PROTO_ETRUNC) failure, or PROTO_ETOOBIG for
 *                   a decoded packet larger than the scratch buffer. Sticky;
 *                   close the connection.
 * Continuation chunks of large packets are consumed silently.
 */
int proto_tracker_stream_feed(struct proto_tracker_stream *s, const uint8_t *p, size_t n,
                              size_t *used, struct proto_trk_pkt *pkt)
    __attribute__((warn_unused_result));

/* Reports a complete client packet (sequence id seq, logical length len)
 * sent during the reply; the next server packet must carry seq + 1. The
 * framer must be at a packet boundary (the server is waiting). */
int proto_tracker_stream_client_packet(struct proto_tracker_stream *s, uint8_t seq, uint64_t len)
    __attribute__((warn_unused_result));

#endif
