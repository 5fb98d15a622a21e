/*
 * cache_store.c - the result cache's sharded store (cache_store.h): SipHash
 * keyed buckets with chaining, one LRU list and one mutex per shard,
 * refcounted immutable entries, exact byte accounting.
 *
 *   put:  build entry (malloc, copy key/value/tag)      -- no lock
 *         lock shard: unlink same key, evict LRU tail until it fits,
 *                     grow buckets if load would pass 1, link at LRU head
 *         unlock; drop the table's reference of what was unlinked
 *   get:  hash -- no lock; lock shard: find, move to LRU head, ref++; unlock
 *   release: ref--; the last reference of an unlinked entry frees it
 *
 * Reference counting: an entry in the table holds one reference for the
 * table, plus one per reader. Readers only gain references under the shard
 * lock while the entry is linked, so once it is unlinked its count only
 * falls; whoever takes it to 0 frees it. Entries are immutable after they
 * are linked (the links themselves change only under the lock and readers
 * never follow them), and the mutex hand-over makes their bytes visible to
 * readers.
 */
#include "cache_store.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct cache_entry {
    /* Owned by the shard lock while linked. */
    struct cache_entry *hnext; /* bucket chain; the drop list once unlinked */
    struct cache_entry *lru_prev, *lru_next;
    /* Immutable once linked. */
    uint64_t hash;
    size_t cost, klen, vlen;
    uint64_t stored_at_ms;
    unsigned server;
    atomic_uint refs;
    struct gtid_set tag;
    uint8_t data[]; /* key bytes, then value bytes */
};

/*
 * A shard on its own cache line(s), so two threads working in different
 * shards never bounce each other's mutex or counters. The plain fields are
 * the truth under the lock; the atomics publish them to cache_stats().
 */
struct cache_shard {
    _Alignas(64) pthread_mutex_t lock;
    struct cache_entry **bucket; /* nbuckets heads; NULL while nbuckets == 0 */
    size_t nbuckets;             /* 0 or a power of two >= CACHE_MIN_BUCKETS */
    size_t count;                /* entries linked */
    size_t bytes;                /* sum of their costs + nbuckets pointers */
    struct cache_entry *lru_head, *lru_tail;

    _Atomic uint64_t pub_entries, pub_bytes, pub_table_bytes;
    _Atomic uint64_t stores, replaced, evictions, refused;
};

/* The first bucket array of a shard: small, so an idle shard costs little;
 * 8 pointers = 64 bytes, one cache line. */
#define CACHE_MIN_BUCKETS     8u
#define CACHE_MIN_TABLE_BYTES (CACHE_MIN_BUCKETS * sizeof(struct cache_entry *))
/* Shard index from the hash's top bits (buckets use the low bits, so the two
 * choices are independent); 10 bits cover CACHE_SHARDS_MAX. */
#define CACHE_SHARD_BITS 10u

_Static_assert((1u << CACHE_SHARD_BITS) == CACHE_SHARDS_MAX, "shard bits cover the maximum");

const char *cache_status_str(int status)
{
    switch (status) {
#define CACHE_STATUS_CASE(name, value, text)                                                       \
    case name:                                                                                     \
        return text;
        CACHE_STATUS_LIST(CACHE_STATUS_CASE)
#undef CACHE_STATUS_CASE
    }
    return "unknown cache status";
}

/* ---- SipHash-1-3 (Aumasson & Bernstein, "SipHash: a fast short-input
 * PRF", 2012; c = 1 compression round per word, d = 3 finalization rounds) */

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)proto_le32(p) | ((uint64_t)proto_le32(p + 4) << 32);
}

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static inline void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl64(v[1], 13);
    v[1] ^= v[0];
    v[0] = rotl64(v[0], 32);
    v[2] += v[3];
    v[3] = rotl64(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = rotl64(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = rotl64(v[1], 17);
    v[1] ^= v[2];
    v[2] = rotl64(v[2], 32);
}

static uint64_t sip13(uint64_t k0, uint64_t k1, const uint8_t *m, size_t n)
{
    /* "somepseudorandomlygeneratedbytes", the paper's initialization. */
    uint64_t v[4] = {k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
                     k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull};
    size_t whole = n & ~(size_t)7;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t w = le64(m + i);
        v[3] ^= w;
        sip_round(v);
        v[0] ^= w;
    }
    /* Last word: the 0..7 remaining bytes, little-endian, length mod 256 in
     * the top byte. */
    uint64_t b = (uint64_t)(n & 0xff) << 56;
    for (size_t i = 0; i < (n & 7); i++)
        b |= (uint64_t)m[whole + i] << (8 * i);
    v[3] ^= b;
    sip_round(v);
    v[0] ^= b;
    v[2] ^= 0xff;
    sip_round(v);
    sip_round(v);
    sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint64_t cache_siphash13(const uint8_t k[16], const void *p, size_t n)
{
    return sip13(le64(k), le64(k + 8), (const uint8_t *)p, n);
}

/* ---- accounting helpers ---- */

size_t cache_gtid_heap_bytes(const struct gtid_set *s)
{
    if (s->flavor == GTID_FLAVOR_MYSQL) {
        const struct gtid_mysql_set *my = &s->u.my;
        /* gtid_set frees the interval arrays of all `cap` runs, so runs past
         * n may hold some too: count by capacity. */
        size_t b = (size_t)my->cap * sizeof *my->run;
        for (uint32_t i = 0; i < my->cap; i++)
            b += (size_t)my->run[i].cap * sizeof *my->run[i].iv;
        return b;
    }
    return (size_t)s->u.mdb.cap * sizeof *s->u.mdb.pos;
}

size_t cache_entry_overhead(void)
{
    return sizeof(struct cache_entry);
}

static void publish(struct cache_shard *sh)
{
    atomic_store_explicit(&sh->pub_entries, sh->count, memory_order_relaxed);
    atomic_store_explicit(&sh->pub_bytes, sh->bytes, memory_order_relaxed);
    atomic_store_explicit(&sh->pub_table_bytes, sh->nbuckets * sizeof *sh->bucket,
                          memory_order_relaxed);
}

static void bump(_Atomic uint64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* ---- entries ---- */

static void entry_free(struct cache_entry *e)
{
    gtid_set_free(&e->tag);
    free(e);
}

/*
 * Drops the table's reference of an entry just unlinked (called without
 * the shard lock). No reader can gain a reference any more, so a count of 1
 * means nobody else holds it; otherwise it becomes detached and its last
 * cache_release() frees it. detached_bytes is raised before the decrement
 * so a racing last release never takes it below zero.
 */
static void table_drop(struct cache_store *cs, struct cache_entry *e)
{
    if (atomic_load_explicit(&e->refs, memory_order_acquire) == 1) {
        entry_free(e);
        return;
    }
    atomic_fetch_add_explicit(&cs->detached_bytes, e->cost, memory_order_relaxed);
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1) {
        atomic_fetch_sub_explicit(&cs->detached_bytes, e->cost, memory_order_relaxed);
        entry_free(e);
    }
}

static void drop_list(struct cache_store *cs, struct cache_entry *e)
{
    while (e) {
        struct cache_entry *next = e->hnext;
        table_drop(cs, e);
        e = next;
    }
}

void cache_release(struct cache_store *cs, const struct cache_entry *ce)
{
    if (!ce)
        return;
    /* The const was for the reader; the count is the store's to change. */
    struct cache_entry *e = (struct cache_entry *)ce;
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1) {
        /* Last reference: the table's is gone, so it was detached. */
        atomic_fetch_sub_explicit(&cs->detached_bytes, e->cost, memory_order_relaxed);
        entry_free(e);
    }
}

/* ---- one shard's table and LRU list (all under sh->lock) ---- */

static struct cache_shard *shard_of(const struct cache_store *cs, uint64_t h)
{
    return &cs->shard[(h >> (64 - CACHE_SHARD_BITS)) & cs->shard_mask];
}

static struct cache_entry **bucket_of(struct cache_shard *sh, uint64_t h)
{
    return &sh->bucket[h & (sh->nbuckets - 1)];
}

static struct cache_entry *find(struct cache_shard *sh, uint64_t h, const void *key, size_t klen)
{
    if (sh->nbuckets == 0)
        return NULL;
    for (struct cache_entry *e = *bucket_of(sh, h); e; e = e->hnext)
        if (e->hash == h && e->klen == klen && (klen == 0 || memcmp(e->data, key, klen) == 0))
            return e;
    return NULL;
}

static void lru_unlink(struct cache_shard *sh, struct cache_entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        sh->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        sh->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_head(struct cache_shard *sh, struct cache_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = sh->lru_head;
    if (sh->lru_head)
        sh->lru_head->lru_prev = e;
    else
        sh->lru_tail = e;
    sh->lru_head = e;
}

static void link_entry(struct cache_shard *sh, struct cache_entry *e)
{
    struct cache_entry **b = bucket_of(sh, e->hash);
    e->hnext = *b;
    *b = e;
    lru_push_head(sh, e);
    sh->count++;
    sh->bytes += e->cost;
}

/* Unlinks e from its chain and the LRU list and pushes it on *drop. */
static void unlink_entry(struct cache_shard *sh, struct cache_entry *e, struct cache_entry **drop)
{
    struct cache_entry **pp = bucket_of(sh, e->hash);
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(sh, e);
    sh->count--;
    sh->bytes -= e->cost;
    e->hnext = *drop;
    *drop = e;
}

/* Bytes the bucket array would grow by if one more entry were linked
 * (keeping load = count / nbuckets <= 1). */
static size_t grow_extra(const struct cache_shard *sh)
{
    if (sh->count + 1 <= sh->nbuckets)
        return 0;
    return (sh->nbuckets ? sh->nbuckets : CACHE_MIN_BUCKETS) * sizeof *sh->bucket;
}

/* Doubles the bucket array (or allocates the first). On allocation failure
 * the old array stays (chains just get longer) and -1 is returned. */
static int table_grow(struct cache_shard *sh)
{
    size_t n = sh->nbuckets ? sh->nbuckets * 2 : CACHE_MIN_BUCKETS;
    struct cache_entry **nb = calloc(n, sizeof *nb);
    if (!nb)
        return -1;
    for (size_t i = 0; i < sh->nbuckets; i++) {
        struct cache_entry *e = sh->bucket[i];
        while (e) {
            struct cache_entry *next = e->hnext;
            struct cache_entry **b = &nb[e->hash & (n - 1)];
            e->hnext = *b;
            *b = e;
            e = next;
        }
    }
    free(sh->bucket);
    sh->bytes += (n - sh->nbuckets) * sizeof *nb;
    sh->bucket = nb;
    sh->nbuckets = n;
    return 0;
}

/* Frees the bucket array of an empty shard. */
static void table_release(struct cache_shard *sh)
{
    free(sh->bucket);
    sh->bytes -= sh->nbuckets * sizeof *sh->bucket;
    sh->bucket = NULL;
    sh->nbuckets = 0;
}

/* ---- the store ---- */

static int random_key(struct cache_store *cs)
{
    uint8_t k[16];
    size_t got = 0;
    while (got < sizeof k) {
        /* Blocks only until the kernel's pool is first initialised. */
        ssize_t r = getrandom(k + got, sizeof k - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return CACHE_E_RANDOM;
        }
        got += (size_t)r;
    }
    cs->sip_k0 = le64(k);
    cs->sip_k1 = le64(k + 8);
    return CACHE_OK;
}

int cache_store_init(struct cache_store *cs, size_t max_bytes, size_t max_entry_bytes,
                     unsigned shards)
{
    memset(cs, 0, sizeof *cs);
    if (shards == 0)
        shards = CACHE_SHARDS_DEFAULT;
    /* A shard that cannot hold even an empty entry and its first bucket
     * array would refuse every put: a configuration mistake. */
    if (shards > CACHE_SHARDS_MAX || (shards & (shards - 1)) != 0 ||
        max_bytes / shards < sizeof(struct cache_entry) + CACHE_MIN_TABLE_BYTES)
        return CACHE_E_INVAL;
    int rc = random_key(cs);
    if (rc != CACHE_OK)
        return rc;
    /* sizeof is a multiple of the 64-byte alignment, as aligned_alloc wants. */
    struct cache_shard *sh = aligned_alloc(_Alignof(struct cache_shard), shards * sizeof *sh);
    if (!sh)
        return CACHE_E_NOMEM;
    memset(sh, 0, shards * sizeof *sh);
    for (unsigned i = 0; i < shards; i++) {
        if (pthread_mutex_init(&sh[i].lock, NULL) != 0) {
            while (i--)
                pthread_mutex_destroy(&sh[i].lock);
            free(sh);
            return CACHE_E_NOMEM;
        }
    }
    cs->shard = sh;
    cs->nshards = shards;
    cs->shard_mask = shards - 1;
    cs->max_bytes = max_bytes;
    cs->shard_cap = max_bytes / shards;
    cs->max_entry_bytes = max_entry_bytes;
    atomic_init(&cs->detached_bytes, 0);
    return CACHE_OK;
}

void cache_store_free(struct cache_store *cs)
{
    if (!cs->shard)
        return;
    cache_clear(cs);
    for (unsigned i = 0; i < cs->nshards; i++)
        pthread_mutex_destroy(&cs->shard[i].lock);
    free(cs->shard);
    cs->shard = NULL;
    cs->nshards = 0;
}

static uint64_t key_hash(const struct cache_store *cs, const void *key, size_t klen)
{
    return sip13(cs->sip_k0, cs->sip_k1, (const uint8_t *)key, klen);
}

int cache_put(struct cache_store *cs, const void *key, size_t klen, const void *val, size_t vlen,
              const struct gtid_set *tag, unsigned server, uint64_t now_ms)
{
    uint64_t h = key_hash(cs, key, klen);
    struct cache_shard *sh = shard_of(cs, h);
    size_t cap = cs->shard_cap;

    /* Refuse what cannot fit before allocating it: the value limit, then
     * the part of the cost known without the tag. */
    size_t fixed = sizeof(struct cache_entry) + CACHE_MIN_TABLE_BYTES;
    if (vlen > cs->max_entry_bytes || fixed > cap || klen > cap - fixed ||
        vlen > cap - fixed - klen) {
        bump(&sh->refused);
        return CACHE_E_TOO_BIG;
    }

    struct cache_entry *e = malloc(sizeof *e + klen + vlen);
    if (!e)
        return CACHE_E_NOMEM;
    e->hnext = e->lru_prev = e->lru_next = NULL;
    e->hash = h;
    e->klen = klen;
    e->vlen = vlen;
    e->stored_at_ms = now_ms;
    e->server = server;
    atomic_init(&e->refs, 1); /* the table's */
    if (klen)
        memcpy(e->data, key, klen);
    if (vlen)
        memcpy(e->data + klen, val, vlen);
    gtid_set_init(&e->tag, tag->flavor);
    if (gtid_set_copy(&e->tag, tag) != PROTO_OK) {
        entry_free(e);
        return CACHE_E_NOMEM;
    }
    size_t tag_bytes = cache_gtid_heap_bytes(&e->tag);
    e->cost = sizeof *e + klen + vlen + tag_bytes;
    /* With the tag: cost + a first bucket array must fit an empty shard. */
    if (tag_bytes > cap - fixed - klen - vlen) {
        entry_free(e);
        bump(&sh->refused);
        return CACHE_E_TOO_BIG;
    }

    struct cache_entry *drop = NULL;
    pthread_mutex_lock(&sh->lock);
    struct cache_entry *old = find(sh, h, key, klen);
    if (old) {
        unlink_entry(sh, old, &drop);
        bump(&sh->replaced);
    }
    /* Invariant sh->bytes <= cap, so cap - bytes cannot wrap. */
    while (e->cost + grow_extra(sh) > cap - sh->bytes) {
        if (!sh->lru_tail) {
            /* Empty, but an array grown for many entries is still too big
             * to leave room: start over with a first-size one, which the
             * check above guarantees fits. */
            table_release(sh);
            break;
        }
        unlink_entry(sh, sh->lru_tail, &drop);
        bump(&sh->evictions);
    }
    if (sh->count + 1 > sh->nbuckets && table_grow(sh) != 0 && sh->nbuckets == 0) {
        publish(sh);
        pthread_mutex_unlock(&sh->lock);
        drop_list(cs, drop);
        entry_free(e);
        return CACHE_E_NOMEM;
    }
    link_entry(sh, e);
    bump(&sh->stores);
    publish(sh);
    pthread_mutex_unlock(&sh->lock);
    drop_list(cs, drop);
    return CACHE_OK;
}

const struct cache_entry *cache_get(struct cache_store *cs, const void *key, size_t klen)
{
    uint64_t h = key_hash(cs, key, klen);
    struct cache_shard *sh = shard_of(cs, h);
    pthread_mutex_lock(&sh->lock);
    struct cache_entry *e = find(sh, h, key, klen);
    if (e) {
        if (sh->lru_head != e) {
            lru_unlink(sh, e);
            lru_push_head(sh, e);
        }
        /* Relaxed suffices: the table's reference keeps the count >= 1 while
         * we hold the lock, and the unlock orders it before any release. */
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&sh->lock);
    return e;
}

void cache_clear(struct cache_store *cs)
{
    for (unsigned i = 0; i < cs->nshards; i++) {
        struct cache_shard *sh = &cs->shard[i];
        pthread_mutex_lock(&sh->lock);
        struct cache_entry *list = sh->lru_head;
        sh->lru_head = sh->lru_tail = NULL;
        for (struct cache_entry *e = list; e; e = e->lru_next)
            sh->bytes -= e->cost;
        sh->count = 0;
        table_release(sh);
        publish(sh);
        pthread_mutex_unlock(&sh->lock);
        /* Unreachable now: walk the old LRU order, dropping each. */
        while (list) {
            struct cache_entry *next = list->lru_next;
            table_drop(cs, list);
            list = next;
        }
    }
}

void cache_stats(const struct cache_store *cs, struct cache_stats *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i < cs->nshards; i++) {
        struct cache_shard *sh = &cs->shard[i];
        out->entries += atomic_load_explicit(&sh->pub_entries, memory_order_relaxed);
        out->bytes += atomic_load_explicit(&sh->pub_bytes, memory_order_relaxed);
        out->table_bytes += atomic_load_explicit(&sh->pub_table_bytes, memory_order_relaxed);
        out->stores += atomic_load_explicit(&sh->stores, memory_order_relaxed);
        out->replaced += atomic_load_explicit(&sh->replaced, memory_order_relaxed);
        out->evictions += atomic_load_explicit(&sh->evictions, memory_order_relaxed);
        out->refused_too_big += atomic_load_explicit(&sh->refused, memory_order_relaxed);
    }
    out->detached_bytes = atomic_load_explicit(&cs->detached_bytes, memory_order_relaxed);
}

/* ---- entry accessors ---- */

const uint8_t *cache_entry_key(const struct cache_entry *e, size_t *len)
{
    *len = e->klen;
    return e->data;
}

const uint8_t *cache_entry_value(const struct cache_entry *e, size_t *len)
{
    *len = e->vlen;
    return e->data + e->klen;
}

const struct gtid_set *cache_entry_tag(const struct cache_entry *e)
{
    return &e->tag;
}

unsigned cache_entry_server(const struct cache_entry *e)
{
    return e->server;
}

uint64_t cache_entry_stored_at_ms(const struct cache_entry *e)
{
    return e->stored_at_ms;
}

uint64_t cache_entry_age_ms(const struct cache_entry *e, uint64_t now_ms)
{
    return now_ms > e->stored_at_ms ? now_ms - e->stored_at_ms : 0;
}

size_t cache_entry_cost(const struct cache_entry *e)
{
    return e->cost;
}

/* ---- self-check ---- */

static bool verify_shard(const struct cache_store *cs, struct cache_shard *sh, size_t *n)
{
    size_t lru = 0, sum = 0;
    const struct cache_entry *prev = NULL;
    for (struct cache_entry *e = sh->lru_head; e; e = e->lru_next) {
        if (e->lru_prev != prev || shard_of(cs, e->hash) != sh ||
            find(sh, e->hash, e->data, e->klen) != e)
            return false;
        if (atomic_load_explicit(&e->refs, memory_order_relaxed) < 1)
            return false;
        if (e->cost != sizeof *e + e->klen + e->vlen + cache_gtid_heap_bytes(&e->tag))
            return false;
        sum += e->cost;
        lru++;
        prev = e;
    }
    if (prev != sh->lru_tail)
        return false;
    size_t chained = 0;
    for (size_t i = 0; i < sh->nbuckets; i++)
        for (struct cache_entry *e = sh->bucket[i]; e; e = e->hnext) {
            if ((e->hash & (sh->nbuckets - 1)) != i)
                return false;
            chained++;
        }
    /* (count <= nbuckets too, unless a bucket array failed to grow.) */
    if (lru != sh->count || chained != sh->count)
        return false;
    if (sh->bytes != sum + sh->nbuckets * sizeof *sh->bucket || sh->bytes > cs->shard_cap)
        return false;
    if (atomic_load_explicit(&sh->pub_entries, memory_order_relaxed) != sh->count ||
        atomic_load_explicit(&sh->pub_bytes, memory_order_relaxed) != sh->bytes)
        return false;
    *n = lru;
    return true;
}

long cache_store_verify(struct cache_store *cs)
{
    long total = 0;
    for (unsigned i = 0; i < cs->nshards; i++) {
        struct cache_shard *sh = &cs->shard[i];
        size_t n = 0;
        pthread_mutex_lock(&sh->lock);
        bool ok = verify_shard(cs, sh, &n);
        pthread_mutex_unlock(&sh->lock);
        if (!ok)
            return -1;
        total += (long)n;
    }
    return total;
}
