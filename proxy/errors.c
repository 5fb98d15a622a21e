/*
 * errors.c - the proxy's own ERR/OK packets (errors.h).
 */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_reply.h"

static const uint16_t codes[] = {
#define GP_ERROR_CODE(name, code, state) code,
    GP_ERROR_LIST(GP_ERROR_CODE)
#undef GP_ERROR_CODE
};

static const char *const states[] = {
#define GP_ERROR_STATE(name, code, state) state,
    GP_ERROR_LIST(GP_ERROR_STATE)
#undef GP_ERROR_STATE
};

uint16_t gp_error_code(enum gp_error e)
{
    return codes[e];
}

const char *gp_error_sqlstate(enum gp_error e)
{
    return states[e];
}

int gp_packet_begin(struct buf *out, size_t max_payload, struct proto_wr *w)
{
    if (buf_reserve(out, PROTO_FRAME_HDR_LEN + max_payload) != 0)
        return -1;
    proto_wr_init(w, out->data + out->len + PROTO_FRAME_HDR_LEN, max_payload);
    return 0;
}

int gp_packet_end(struct buf *out, const struct proto_wr *w, uint8_t seq)
{
    if (proto_wr_finish(w) != PROTO_OK || w->len >= PROTO_MAX_PAYLOAD)
        return -1;
    struct proto_wr hw;
    proto_wr_init(&hw, out->data + out->len, PROTO_FRAME_HDR_LEN);
    proto_frame_write_hdr(&hw, (uint32_t)w->len, seq);
    out->len += PROTO_FRAME_HDR_LEN + w->len;
    return 0;
}

int gp_err_append_raw(struct buf *out, uint64_t caps, uint8_t seq, uint16_t code,
                      const char *sqlstate, const char *msg, size_t msg_len)
{
    struct proto_wr w;
    if (gp_packet_begin(out, 16 + PROTO_ERR_MSG_MAX, &w) != 0 ||
        proto_err_build(&w, caps, code, sqlstate, msg, msg_len) != PROTO_OK)
        return -1;
    return gp_packet_end(out, &w, seq);
}

int gp_err_append(struct buf *out, uint64_t caps, uint8_t seq, enum gp_error e, const char *fmt,
                  ...)
{
    char msg[PROTO_ERR_MSG_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    size_t len = (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
    return gp_err_append_raw(out, caps, seq, gp_error_code(e), gp_error_sqlstate(e), msg, len);
}

int gp_ok_append(struct buf *out, uint64_t caps, uint8_t seq, uint16_t status)
{
    struct proto_ok ok;
    memset(&ok, 0, sizeof ok);
    ok.status = status;
    struct proto_wr w;
    if (gp_packet_begin(out, 32, &w) != 0 || proto_ok_build(&w, caps, &ok) != PROTO_OK)
        return -1;
    return gp_packet_end(out, &w, seq);
}
