/*
 * buf.h - a growable byte buffer with a consumed prefix: the unit of every
 * connection's input and output queue.
 *
 *   data: [ consumed | pending: off .. len | free: len .. cap ]
 *
 * Memory is allocated lazily (an idle connection holds none) and given back
 * by buf_trim() when a buffer is empty, so thousands of idle sessions cost
 * only their structs. Growth is bounded by the caller (limits in config).
 */
#ifndef GTIDPROXY_BUF_H
#define GTIDPROXY_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
    uint8_t *data;
    size_t off; /* first pending byte */
    size_t len; /* end of pending bytes */
    size_t cap;
};

static inline size_t buf_pending(const struct buf *b)
{
    return b->len - b->off;
}

/* The first pending byte (NULL for a buffer that never held any). */
static inline const uint8_t *buf_head(const struct buf *b)
{
    return b->data ? b->data + b->off : NULL;
}

/* Makes room for `want` more bytes after len (moving pending bytes to the
 * front first when that suffices). Returns 0, or -1 on allocation failure. */
int buf_reserve(struct buf *b, size_t want) __attribute__((warn_unused_result));

/* Appends n bytes. Returns 0 or -1 (out of memory). */
int buf_append(struct buf *b, const void *p, size_t n) __attribute__((warn_unused_result));

/* Marks n pending bytes consumed; an emptied buffer restarts at 0. */
void buf_consume(struct buf *b, size_t n);

/* Frees the memory of an empty buffer whose capacity exceeds keep bytes
 * (keep 0: any). */
void buf_trim(struct buf *b, size_t keep);

void buf_free(struct buf *b);

#endif
