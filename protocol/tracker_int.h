/*
 * tracker_int.h - helpers shared by tracker.c, tracker_resultset.c and
 * tracker_cmd.c (the reply tracker split by command family). Not a public
 * header: names carry the proto_trk__ prefix of internal cross-file helpers.
 */
#ifndef GTIDPROXY_TRACKER_INT_H
#define GTIDPROXY_TRACKER_INT_H

#include "gtidproxy/proto_tracker.h"

/* Parks t in FAILED; returns rc when it is an error code, else PROTO_EBAD. */
int proto_trk__fail(struct proto_tracker *t, int rc);

/* PROTO_OK when the whole payload is available; PROTO_NEED_MORE (t->need =
 * len) when not; FAILED for a length no decodable packet can have. */
int proto_trk__whole(struct proto_tracker *t, size_t avail, uint64_t len);

/* Decoders for complete payloads. Each updates t->res, fills *out and
 * returns PROTO_OK, or fails the tracker. _err also handles MariaDB progress
 * reports (state unchanged) and moves a real error to DONE. */
int proto_trk__ok(struct proto_tracker *t, const uint8_t *p, size_t len, struct proto_trk_pkt *out);
int proto_trk__eof(struct proto_tracker *t, const uint8_t *p, size_t len,
                   struct proto_trk_pkt *out);
int proto_trk__err(struct proto_tracker *t, const uint8_t *p, size_t len,
                   struct proto_trk_pkt *out);

/* Decodes a packet that ends a result set or a one-packet reply, as
 * proto_reply_first_kind()/proto_reply_row_kind() classified it: ERR and
 * progress go to proto_trk__err() (*ended = false: they move the state
 * themselves), OK-as-EOF and EOF are decoded and set *ended = true so the
 * caller moves on; any other kind fails the tracker (PROTO_EBAD). */
int proto_trk__terminator(struct proto_tracker *t, enum proto_reply_kind kind, const uint8_t *p,
                          size_t len, struct proto_trk_pkt *out, bool *ended);

/* DONE, recording whether an EXECUTE/FETCH left a cursor open. */
void proto_trk__set_done(struct proto_tracker *t);
/* After a statement's final OK/EOF: FIRST again when more results follow
 * (COM_QUERY, COM_STMT_EXECUTE), else DONE. Reads t->res.status. */
void proto_trk__end_result(struct proto_tracker *t);

/* First byte of every column/parameter definition: the lenenc length of its
 * catalog, which is always "def" (MY:pc Protocol::ColumnDefinition41). A
 * definition that starts otherwise means the tracker lost count. */
#define PROTO_TRK_DEF_FIRST_BYTE 0x03

/* Per-family handlers; avail >= 1, avail <= len, len >= 1. */
int proto_trk__feed_resultset(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                              struct proto_trk_pkt *out);
int proto_trk__feed_cmd(struct proto_tracker *t, const uint8_t *p, size_t avail, uint64_t len,
                        struct proto_trk_pkt *out);

#endif
