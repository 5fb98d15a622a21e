/*
 * proto_rw.h - bounds-checked primitives of the MySQL wire format.
 *
 * Every parser in protocol/ reads through a struct proto_rd (a cursor over a
 * caller-owned byte range) and every builder writes through a struct
 * proto_wr (a cursor over a caller-owned buffer). Nothing here allocates.
 *
 * Reader contract: a read that would pass the end of the range fails with
 * PROTO_ETRUNC and leaves the cursor where it was, so a caller never sees a
 * half-consumed value. Strings come back as views into the caller's buffer.
 *
 * Writer contract: errors are sticky. A write that does not fit sets
 * w->err = PROTO_ENOSPACE and every later write is a no-op; check
 * proto_wr_finish() once at the end instead of after every call.
 */
#ifndef GTIDPROXY_PROTO_RW_H
#define GTIDPROXY_PROTO_RW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Status codes shared by all of protocol/: 0 ok, 1 need more input, <0 error. */
#define PROTO_STATUS_LIST(X)                                                                       \
    X(PROTO_OK, 0, "ok")                                                                           \
    X(PROTO_NEED_MORE, 1, "need more input")                                                       \
    X(PROTO_EBAD, -1, "malformed input")                                                           \
    X(PROTO_ETRUNC, -2, "value runs past the end of its packet")                                   \
    X(PROTO_ETOOBIG, -3, "packet exceeds the configured size limit")                               \
    X(PROTO_ESEQ, -4, "unexpected packet sequence id")                                             \
    X(PROTO_ENOSPACE, -5, "output buffer too small")                                               \
    X(PROTO_EUNSUPPORTED, -6, "unsupported protocol feature")

enum proto_status {
#define PROTO_STATUS_ENUM(name, value, text) name = (value),
    PROTO_STATUS_LIST(PROTO_STATUS_ENUM)
#undef PROTO_STATUS_ENUM
};

/* Human-readable text for a status code ("malformed input"). Never NULL. */
const char *proto_status_str(int status);

/* A view into someone else's bytes; not NUL-terminated. */
struct proto_str {
    const uint8_t *p;
    size_t len;
};

/* True when the view holds exactly the C string s. */
bool proto_str_eq(struct proto_str s, const char *cstr);

/* ASCII case-insensitive equality of p[0..n) with the lower-case C string
 * lc (keywords, variable names, hint keys). */
bool proto_ieq(const uint8_t *p, size_t n, const char *lc);

struct proto_rd {
    const uint8_t *p;
    size_t len;
    size_t pos;
};

static inline void proto_rd_init(struct proto_rd *r, const void *p, size_t len)
{
    r->p = (const uint8_t *)p;
    r->len = len;
    r->pos = 0;
}

static inline size_t proto_rd_left(const struct proto_rd *r)
{
    return r->len - r->pos;
}

int proto_rd_u8(struct proto_rd *r, uint8_t *v);
int proto_rd_u16(struct proto_rd *r, uint16_t *v);
int proto_rd_u24(struct proto_rd *r, uint32_t *v);
int proto_rd_u32(struct proto_rd *r, uint32_t *v);
int proto_rd_u64(struct proto_rd *r, uint64_t *v);
/* Length-encoded integer. 0xFB (NULL in rows) sets *is_null and *v = 0;
 * pass is_null == NULL where NULL is not allowed (it is then PROTO_EBAD).
 * 0xFF never starts a length-encoded integer: PROTO_EBAD. */
int proto_rd_lenenc(struct proto_rd *r, uint64_t *v, bool *is_null);
/* Length-encoded string; a length larger than what is left is PROTO_ETRUNC. */
int proto_rd_lenenc_str(struct proto_rd *r, struct proto_str *s);
/* NUL-terminated string (the NUL is consumed, not included). No NUL before
 * the end of the range is PROTO_ETRUNC. */
int proto_rd_nul_str(struct proto_rd *r, struct proto_str *s);
/* Exactly n bytes. */
int proto_rd_bytes(struct proto_rd *r, size_t n, struct proto_str *s);
/* Everything left (string<EOF>); never fails. */
void proto_rd_rest(struct proto_rd *r, struct proto_str *s);
int proto_rd_skip(struct proto_rd *r, size_t n);

/* Value of one hex digit (either case), or -1. */
static inline int proto_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Little-endian loads without a cursor, for callers that checked lengths. */
static inline uint16_t proto_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t proto_le24(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
}
static inline uint32_t proto_le32(const uint8_t *p)
{
    return proto_le24(p) | ((uint32_t)p[3] << 24);
}

struct proto_wr {
    uint8_t *p;
    size_t cap;
    size_t len;
    int err;
};

static inline void proto_wr_init(struct proto_wr *w, void *buf, size_t cap)
{
    w->p = (uint8_t *)buf;
    w->cap = cap;
    w->len = 0;
    w->err = PROTO_OK;
}

/* PROTO_OK, or the first error any write hit. */
static inline int proto_wr_finish(const struct proto_wr *w)
{
    return w->err;
}

void proto_wr_u8(struct proto_wr *w, uint8_t v);
void proto_wr_u16(struct proto_wr *w, uint16_t v);
void proto_wr_u24(struct proto_wr *w, uint32_t v);
void proto_wr_u32(struct proto_wr *w, uint32_t v);
void proto_wr_u64(struct proto_wr *w, uint64_t v);
void proto_wr_lenenc(struct proto_wr *w, uint64_t v);
void proto_wr_lenenc_str(struct proto_wr *w, const void *p, size_t n);
/* Writes n bytes then a NUL; s must not contain a NUL. */
void proto_wr_nul_str(struct proto_wr *w, const void *s, size_t n);
void proto_wr_bytes(struct proto_wr *w, const void *p, size_t n);
void proto_wr_zeros(struct proto_wr *w, size_t n);

/* Bytes a length-encoded integer of value v takes on the wire (1, 3, 4, 9). */
size_t proto_lenenc_size(uint64_t v);

#endif
