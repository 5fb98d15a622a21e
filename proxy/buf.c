/*
 * buf.c - growable byte buffers and their block pools (buf.h).
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

/* First allocation of a buffer without a pool: a typical OK / small result
 * fits; larger replies grow the buffer by doubling. */
#define BUF_MIN_CAP 4096

/* A free block's first bytes link it to the next one. */
struct free_block {
    struct free_block *next;
};

void buf_pool_init(struct buf_pool *p, size_t block, unsigned max)
{
    *p = (struct buf_pool){
        .block = block < sizeof(struct free_block) ? sizeof(struct free_block) : block, .max = max};
}

void buf_pool_free(struct buf_pool *p)
{
    struct free_block *f = p->head;
    while (f) {
        struct free_block *next = f->next;
        free(f);
        f = next;
    }
    p->head = NULL;
    p->n = 0;
}

static uint8_t *pool_take(struct buf_pool *p)
{
    p->takes++;
    struct free_block *f = p->head;
    if (f) {
        p->head = f->next;
        p->n--;
        return (uint8_t *)f;
    }
    p->allocs++;
    return malloc(p->block);
}

/* Storage of cap bytes goes back: into p's list when it is one of p's
 * blocks and the list has room, else to free(). */
static void give_back(struct buf_pool *p, uint8_t *data, size_t cap)
{
    if (!data)
        return;
    if (p && cap == p->block && p->n < p->max) {
        struct free_block *f = (struct free_block *)(void *)data;
        f->next = p->head;
        p->head = f;
        p->n++;
        p->puts++;
        return;
    }
    if (p)
        p->frees++;
    free(data);
}

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
    if (want > SIZE_MAX - pending)
        return -1;
    size_t need = pending + want;
    struct buf_pool *p = b->pool;
    uint8_t *d;
    size_t cap;
    if (p && need <= p->block) {
        cap = p->block;
        d = pool_take(p);
    } else {
        size_t base = p ? p->block : BUF_MIN_CAP;
        cap = b->cap > base ? b->cap : base;
        while (cap < need) {
            if (cap > SIZE_MAX / 2)
                return -1;
            cap *= 2;
        }
        d = malloc(cap);
    }
    if (!d)
        return -1;
    if (pending)
        memcpy(d, b->data + b->off, pending);
    give_back(p, b->data, b->cap);
    b->data = d;
    b->off = 0;
    b->len = pending;
    b->cap = cap;
    return 0;
}

int buf_reserve_read(struct buf *b, size_t size)
{
    size_t pending = buf_pending(b);
    return buf_reserve(b, pending < size / 2 ? size - pending : size);
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

void buf_free(struct buf *b)
{
    give_back(b->pool, b->data, b->cap);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}
