/*
 * tracker_stream.c - framing + reply tracking over a raw server byte stream
 * (proto_tracker_stream.h). Owns only the glue; the framer (frame.c) and the
 * tracker (tracker*.c) do the work.
 *
 *   piece ─▶ frame events ─▶ first chunk's DATA ─▶ tracker (zero-copy)
 *                                   │ NEED_MORE
 *                                   └─▶ scratch buffer ─▶ tracker
 */
#include "gtidproxy/proto_tracker_stream.h"

#include <string.h>

void proto_tracker_stream_init(struct proto_tracker_stream *s, void *buf, size_t cap,
                               uint64_t max_packet)
{
    memset(s, 0, sizeof *s);
    proto_frame_rd_init(&s->fr, max_packet);
    proto_tracker_init(&s->trk);
    s->buf = buf;
    s->cap = cap;
}

int proto_tracker_stream_start(struct proto_tracker_stream *s, uint64_t caps, uint8_t com)
{
    if (s->err != PROTO_OK)
        return s->err;
    if (!proto_frame_rd_at_boundary(&s->fr))
        return s->err = PROTO_EBAD;
    int rc = proto_tracker_start(&s->trk, caps, com);
    if (rc != PROTO_OK)
        return rc;
    proto_frame_rd_expect_seq(&s->fr, 1);
    s->have = 0;
    s->taken = true; /* nothing pending until the first header */
    return PROTO_OK;
}

int proto_tracker_stream_client_packet(struct proto_tracker_stream *s, uint8_t seq, uint64_t len)
{
    if (s->err != PROTO_OK)
        return s->err;
    if (!proto_frame_rd_at_boundary(&s->fr))
        return s->err = PROTO_EBAD;
    int rc = proto_tracker_client_packet(&s->trk, len);
    if (rc != PROTO_OK)
        return s->err = rc;
    proto_frame_rd_expect_seq(&s->fr, (uint8_t)(seq + 1));
    return PROTO_OK;
}

/* Offers the current packet's bytes to the tracker. */
static int offer(struct proto_tracker_stream *s, const uint8_t *p, size_t avail,
                 struct proto_trk_pkt *pkt)
{
    int rc = proto_tracker_feed(&s->trk, p, avail, s->len, pkt);
    if (rc == PROTO_OK)
        s->taken = true;
    return rc;
}

/* Records a sticky error and what was consumed. */
static int stop(struct proto_tracker_stream *s, size_t *used, size_t off, int rc)
{
    *used = off;
    if (rc < 0)
        s->err = rc;
    return rc;
}

int proto_tracker_stream_feed(struct proto_tracker_stream *s, const uint8_t *p, size_t n,
                              size_t *used, struct proto_trk_pkt *pkt)
{
    size_t off = 0;
    int rc;
    if (s->err != PROTO_OK) {
        *used = 0;
        return s->err;
    }
    while (off < n) {
        struct proto_frame_ev ev;
        size_t u;
        rc = proto_frame_next(&s->fr, p + off, n - off, &u, &ev);
        off += u;
        if (rc == PROTO_NEED_MORE)
            break;
        if (rc != PROTO_OK)
            return stop(s, used, off, rc);
        if (!ev.first)
            continue; /* continuation chunks: the tracker saw the first one */
        if (ev.kind == PROTO_FRAME_EV_HEADER) {
            s->len = ev.hdr.len;
            s->have = 0;
            s->taken = false;
            if (ev.hdr.len == 0) /* the tracker refuses empty server packets */
                return stop(s, used, off, offer(s, p + off, 0, pkt));
            continue;
        }
        if (s->taken)
            continue;
        if (s->have == 0) {
            /* Zero-copy: the packet's first bytes are in this piece. */
            rc = offer(s, ev.data, ev.len, pkt);
            if (rc != PROTO_NEED_MORE)
                return stop(s, used, off, rc);
        }
        /* The tracker needs the whole payload (need == len), so the copy is
         * bounded by the packet length, which must fit the scratch. */
        if (s->len > s->cap)
            return stop(s, used, off, PROTO_ETOOBIG);
        bool tried = s->have == 0;
        memcpy(s->buf + s->have, ev.data, ev.len);
        s->have += ev.len;
        if (tried && s->have == ev.len)
            continue; /* these exact bytes were just offered */
        rc = offer(s, s->buf, s->have, pkt);
        if (rc != PROTO_NEED_MORE)
            return stop(s, used, off, rc);
    }
    *used = n;
    return PROTO_NEED_MORE;
}
