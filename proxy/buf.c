/*
 * buf.c - growable byte buffers (buf.h).
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

/* First allocation: a typical OK / small result fits; larger replies grow
 * the buffer by doubling. */
#define BUF_MIN_CAP 4096

int buf_reserve(struct buf *b, size_t want)
{
    if (b->cap - b->len >= want)
        return 0;
    size_t pending = buf_pending(b);
    if (b->off > 0 && b->cap - pending >= want) {
        memmove(b->data, b->data + b->off, pending);
        b->off = 0;
        b->len = pending;
        return 0;
    }
    size_t cap = b->cap ? b->cap : BUF_MIN_CAP;
    while (cap - pending < want) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    uint8_t *d = malloc(cap);
    if (!d)
        return -1;
    if (pending)
        memcpy(d, b->data + b->off, pending);
    free(b->data);
    b->data = d;
    b->off = 0;
    b->len = pending;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (buf_reserve(b, n) != 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void buf_consume(struct buf *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len)
        b->off = b->len = 0;
}

void buf_trim(struct buf *b, size_t keep)
{
    if (buf_pending(b) == 0 && b->cap > keep) {
        free(b->data);
        b->data = NULL;
        b->off = b->len = b->cap = 0;
    }
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}
