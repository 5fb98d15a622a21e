/*
 * buf.h - a growable byte buffer with a consumed prefix: the unit of every
 * connection's input and output queue; and buf_pool, a small bounded free
 * list of fixed-size blocks that a worker's connection buffers draw from.
 *
 *   data: [ consumed | pending: off .. len | free: len .. cap ]
 *
 * Memory is allocated lazily (an idle connection holds none) and given back
 * by buf_release() when a buffer is empty, so thousands of idle
 * sessions cost only their structs. Growth is bounded by the caller (limits
 * in config).
 *
 * A buffer with a pool (b->pool set by its owner) takes one of the pool's
 * blocks whenever what it needs fits one, and its storage goes back to the
 * pool (when it is exactly one block and the pool has room) instead of to
 * free(): a busy worker recycles the same blocks, with no malloc per
 * query. Storage larger than a block (a big statement or reply) is plain
 * malloc'd memory and is freed when given back, never kept. A pool and its
 * buffers belong to one thread (the worker's loop): no locking.
 */
#ifndef GTIDPROXY_BUF_H
#define GTIDPROXY_BUF_H

#include <stddef.h>
#include <stdint.h>

/* Bounded free list of blocks of `block` bytes, linked through their first
 * bytes. Counters: what a test or the benchmark reads to see that steady
 * state allocates nothing (`allocs` stops growing). */
struct buf_pool {
    size_t block;    /* bytes per block */
    unsigned max;    /* blocks kept at most */
    unsigned n;      /* blocks kept now */
    void *head;      /* the free blocks */
    uint64_t takes;  /* blocks handed out */
    uint64_t allocs; /* ... of which malloc'd (the list was empty) */
    uint64_t puts;   /* blocks taken back into the list */
    uint64_t frees;  /* storage given back but freed (list full, or not one block) */
};

struct buf {
    uint8_t *data;
    size_t off; /* first pending byte */
    size_t len; /* end of pending bytes */
    size_t cap;
    struct buf_pool *pool; /* where storage comes from and returns to, or NULL */
};

/* block: bytes per block (at least a pointer's size); max: blocks kept. */
void buf_pool_init(struct buf_pool *p, size_t block, unsigned max);
/* Frees the kept blocks (buffers still holding blocks free them
 * themselves: buf_free). */
void buf_pool_free(struct buf_pool *p);

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

/* Makes room for a read of up to `size` bytes: at least `size` - pending
 * bytes when the pending bytes (a partial packet) are under half of size,
 * so that reads of `size` keep fitting one pool block of that size; else
 * `size` (the buffer grows for a big packet). The room may be larger. */
int buf_reserve_read(struct buf *b, size_t size) __attribute__((warn_unused_result));

/* Appends n bytes. Returns 0 or -1 (out of memory). */
int buf_append(struct buf *b, const void *p, size_t n) __attribute__((warn_unused_result));

/* Marks n pending bytes consumed; an emptied buffer restarts at 0. */
void buf_consume(struct buf *b, size_t n);

/* Gives the storage back whatever it holds. */
void buf_free(struct buf *b);

/* Gives the storage of an empty buffer back (to its pool, or free()); a
 * buffer with pending bytes keeps it. No pointer into the old storage may
 * be used afterwards: call it only when nothing refers to it. Inline: it
 * runs several times per query, mostly on buffers that hold nothing. */
static inline void buf_release(struct buf *b)
{
    if (b->data && b->off == b->len)
        buf_free(b);
}

#endif
