/*
 * rw.c - bounds-checked readers and sticky-error writers for the MySQL wire
 * primitives: fixed little-endian integers, length-encoded integers and
 * strings, NUL-terminated strings. See include/gtidproxy/proto_rw.h.
 */
#include "gtidproxy/proto_rw.h"

#include <string.h>

const char *proto_status_str(int status)
{
    switch (status) {
#define PROTO_STATUS_CASE(name, value, text)                                                       \
    case value:                                                                                    \
        return text;
        PROTO_STATUS_LIST(PROTO_STATUS_CASE)
#undef PROTO_STATUS_CASE
    }
    return "unknown status";
}

bool proto_str_eq(struct proto_str s, const char *cstr)
{
    size_t n = strlen(cstr);
    return s.len == n && (n == 0 || memcmp(s.p, cstr, n) == 0);
}

bool proto_ieq(const uint8_t *p, size_t n, const char *lc)
{
    if (strlen(lc) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]) != (uint8_t)lc[i])
            return false;
    return true;
}

/* Reads n (<= 8) little-endian bytes; the cursor moves only on success. */
static int rd_le(struct proto_rd *r, size_t n, uint64_t *v)
{
    if (proto_rd_left(r) < n)
        return PROTO_ETRUNC;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)r->p[r->pos + i] << (8 * i);
    r->pos += n;
    *v = x;
    return PROTO_OK;
}

int proto_rd_u8(struct proto_rd *r, uint8_t *v)
{
    uint64_t x;
    int rc = rd_le(r, 1, &x);
    if (rc == PROTO_OK)
        *v = (uint8_t)x;
    return rc;
}

int proto_rd_u16(struct proto_rd *r, uint16_t *v)
{
    uint64_t x;
    int rc = rd_le(r, 2, &x);
    if (rc == PROTO_OK)
        *v = (uint16_t)x;
    return rc;
}

int proto_rd_u24(struct proto_rd *r, uint32_t *v)
{
    uint64_t x;
    int rc = rd_le(r, 3, &x);
    if (rc == PROTO_OK)
        *v = (uint32_t)x;
    return rc;
}

int proto_rd_u32(struct proto_rd *r, uint32_t *v)
{
    uint64_t x;
    int rc = rd_le(r, 4, &x);
    if (rc == PROTO_OK)
        *v = (uint32_t)x;
    return rc;
}

int proto_rd_u64(struct proto_rd *r, uint64_t *v)
{
    return rd_le(r, 8, v);
}

int proto_rd_lenenc(struct proto_rd *r, uint64_t *v, bool *is_null)
{
    if (proto_rd_left(r) < 1)
        return PROTO_ETRUNC;
    uint8_t first = r->p[r->pos];
    size_t width;
    if (first < 0xFB) {
        r->pos++;
        *v = first;
        if (is_null)
            *is_null = false;
        return PROTO_OK;
    }
    switch (first) {
    case 0xFB:
        if (!is_null)
            return PROTO_EBAD;
        r->pos++;
        *v = 0;
        *is_null = true;
        return PROTO_OK;
    case 0xFC:
        width = 2;
        break;
    case 0xFD:
        width = 3;
        break;
    case 0xFE:
        width = 8;
        break;
    default: /* 0xFF is the ERR marker, never a length */
        return PROTO_EBAD;
    }
    if (proto_rd_left(r) < 1 + width)
        return PROTO_ETRUNC;
    r->pos++;
    (void)rd_le(r, width, v);
    if (is_null)
        *is_null = false;
    return PROTO_OK;
}

int proto_rd_bytes(struct proto_rd *r, size_t n, struct proto_str *s)
{
    if (proto_rd_left(r) < n)
        return PROTO_ETRUNC;
    s->p = r->p + r->pos;
    s->len = n;
    r->pos += n;
    return PROTO_OK;
}

int proto_rd_lenenc_str(struct proto_rd *r, struct proto_str *s)
{
    size_t start = r->pos;
    uint64_t n = 0;
    int rc = proto_rd_lenenc(r, &n, NULL);
    if (rc != PROTO_OK)
        return rc;
    if (n > proto_rd_left(r)) {
        r->pos = start;
        return PROTO_ETRUNC;
    }
    return proto_rd_bytes(r, (size_t)n, s);
}

int proto_rd_nul_str(struct proto_rd *r, struct proto_str *s)
{
    const uint8_t *start = r->p + r->pos;
    const uint8_t *nul = memchr(start, 0, proto_rd_left(r));
    if (!nul)
        return PROTO_ETRUNC;
    s->p = start;
    s->len = (size_t)(nul - start);
    r->pos += s->len + 1;
    return PROTO_OK;
}

void proto_rd_rest(struct proto_rd *r, struct proto_str *s)
{
    s->p = r->p + r->pos;
    s->len = proto_rd_left(r);
    r->pos = r->len;
}

int proto_rd_skip(struct proto_rd *r, size_t n)
{
    if (proto_rd_left(r) < n)
        return PROTO_ETRUNC;
    r->pos += n;
    return PROTO_OK;
}

/* Reserves n bytes; NULL (and a sticky error) when they do not fit. */
static uint8_t *wr_reserve(struct proto_wr *w, size_t n)
{
    if (w->err != PROTO_OK)
        return NULL;
    if (w->cap - w->len < n) {
        w->err = PROTO_ENOSPACE;
        return NULL;
    }
    uint8_t *at = w->p + w->len;
    w->len += n;
    return at;
}

static void wr_le(struct proto_wr *w, uint64_t v, size_t n)
{
    uint8_t *at = wr_reserve(w, n);
    if (!at)
        return;
    for (size_t i = 0; i < n; i++)
        at[i] = (uint8_t)(v >> (8 * i));
}

void proto_wr_u8(struct proto_wr *w, uint8_t v)
{
    wr_le(w, v, 1);
}

void proto_wr_u16(struct proto_wr *w, uint16_t v)
{
    wr_le(w, v, 2);
}

void proto_wr_u24(struct proto_wr *w, uint32_t v)
{
    wr_le(w, v, 3);
}

void proto_wr_u32(struct proto_wr *w, uint32_t v)
{
    wr_le(w, v, 4);
}

void proto_wr_u64(struct proto_wr *w, uint64_t v)
{
    wr_le(w, v, 8);
}

size_t proto_lenenc_size(uint64_t v)
{
    if (v < 0xFB)
        return 1;
    if (v <= 0xFFFF)
        return 3;
    if (v <= 0xFFFFFF)
        return 4;
    return 9;
}

void proto_wr_lenenc(struct proto_wr *w, uint64_t v)
{
    switch (proto_lenenc_size(v)) {
    case 1:
        wr_le(w, v, 1);
        break;
    case 3:
        wr_le(w, 0xFC, 1);
        wr_le(w, v, 2);
        break;
    case 4:
        wr_le(w, 0xFD, 1);
        wr_le(w, v, 3);
        break;
    default:
        wr_le(w, 0xFE, 1);
        wr_le(w, v, 8);
        break;
    }
}

void proto_wr_bytes(struct proto_wr *w, const void *p, size_t n)
{
    uint8_t *at = wr_reserve(w, n);
    if (at && n)
        memcpy(at, p, n);
}

void proto_wr_lenenc_str(struct proto_wr *w, const void *p, size_t n)
{
    proto_wr_lenenc(w, n);
    proto_wr_bytes(w, p, n);
}

void proto_wr_nul_str(struct proto_wr *w, const void *s, size_t n)
{
    proto_wr_bytes(w, s, n);
    proto_wr_u8(w, 0);
}

void proto_wr_zeros(struct proto_wr *w, size_t n)
{
    uint8_t *at = wr_reserve(w, n);
    if (at && n)
        memset(at, 0, n);
}
