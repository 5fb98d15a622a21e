/*
 * proto_reseq.h - re-sequencing a stored reply: rewrite the sequence ids of a
 * run of framed packets so it can be sent again in another exchange.
 *
 *   stored:  [len][07][payload] [len][08][payload] ... [len][0e][payload]
 *   served:  [len][01][payload] [len][02][payload] ... [len][08][payload]
 *
 * The result cache keeps a reply as the server framed it (shared/PROTOCOL.md
 * section 2: 3-byte LE length, 1-byte sequence id, payload). A client expects
 * the reply's ids to continue from its own command's id, +1 per packet,
 * wrapping 255 -> 0. Every chunk of a multi-chunk (0xFFFFFF) logical packet
 * has its own header and takes its own id, so "packet" below means a wire
 * packet (one header), not a logical packet.
 *
 * A run is "whole" when it is one or more complete chunks and does not end on
 * a 0xFFFFFF chunk (which promises a continuation that is not there). Nothing
 * here allocates or looks at payload bytes.
 */
#ifndef GTIDPROXY_PROTO_RESEQ_H
#define GTIDPROXY_PROTO_RESEQ_H

#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/proto_rw.h"

/*
 * Checks that p[0..n) is a whole run of packets.
 *   PROTO_OK     whole; *packets (if not NULL) = number of headers, so the
 *                id after the last packet is first_seq + *packets (mod 256).
 *   PROTO_EBAD   n == 0 (a reply is at least one packet; serving nothing
 *                would leave the client waiting).
 *   PROTO_ETRUNC the bytes end inside a header or a payload, or right after
 *                a 0xFFFFFF chunk.
 * On error *packets is left as it was.
 */
int proto_reseq_check(const uint8_t *p, size_t n, size_t *packets)
    __attribute__((warn_unused_result));

/*
 * Rewrites the sequence ids of p[0..n) in place: the first header gets
 * first_seq, each next one the previous + 1 mod 256. Lengths and payloads are
 * untouched. Checks the whole run first and writes only when
 * proto_reseq_check() would return PROTO_OK; on any error p is unchanged and
 * the status is the one proto_reseq_check() returns.
 */
int proto_reseq(uint8_t *p, size_t n, uint8_t first_seq) __attribute__((warn_unused_result));

#endif
