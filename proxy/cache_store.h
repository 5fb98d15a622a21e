/*
 * cache_store.h - the result cache's store (issue 6): complete replies kept
 * under an opaque key, tagged with where and when they were read, shared by
 * all worker threads, bounded by a global memory cap with LRU eviction.
 *
 *            key (opaque bytes) --SipHash-1-3--> 64-bit hash
 *                                  top bits | low bits
 *                                     v          v
 *   shard[0..N)  { mutex | buckets[] -> entry -> entry (chains) |
 *                  LRU: head (recent) <-> ... <-> tail (evicted first) }
 *
 * What the store does NOT decide: what is cacheable, how the key is built
 * (the caller concatenates user, schema, charset, capability bits and the
 * statement text, unambiguously), whether an entry is fresh or consistent
 * enough to serve (the caller compares the tag and the age). It only keeps,
 * finds, evicts and accounts.
 *
 * Threads: every function but init/free may be called from any thread at
 * any time. A put or get locks one shard (chosen by the key's hash) for a
 * few pointer moves; copying, hashing and freeing entries happen outside it
 * (only a shard's occasional bucket-array doubling allocates under it).
 *
 * Entries and references: cache_get() returns an entry with a reference
 * taken; the caller reads it without any lock, for as long as it likes, and
 * then calls cache_release() exactly once. An entry never changes after it
 * was stored: a put of the same key links a new entry and unlinks the old
 * one. An entry that is replaced, evicted or cleared while a reader holds it
 * leaves the table (and the `bytes` accounting) at once and is freed by its
 * last cache_release(); until then its memory is extra to the cap (counted
 * in detached_bytes). The value is shared: copy it before proto_reseq().
 *
 * Memory accounting (exact, in bytes of our own requests to malloc; the
 * allocator's per-block overhead is not counted):
 *   cost(entry) = cache_entry_overhead() + key length + value length
 *               + the heap bytes of its GTID tag (arrays by capacity:
 *                 MariaDB pos cap * 16; MySQL run cap * sizeof run +
 *                 each run's interval cap * 16)
 *   bytes       = sum of cost over entries in the table
 *               + table_bytes (every shard's bucket array, a pointer a bucket)
 * The bucket arrays are counted as a whole rather than split into a share
 * per entry (a share would not be a whole number of bytes): a shard's array
 * has a power-of-two size of at least 8 buckets and at most 2x the most
 * entries the shard has held (it doubles when load would pass 1 and does not
 * shrink on eviction); it is allocated with the first entry and freed by
 * cache_clear(), or when a put has emptied the shard and still needs room.
 * Each shard keeps its part of `bytes` <= max_bytes / shards, so the total
 * never exceeds max_bytes.
 *
 * Hash: SipHash-1-3 keyed with 128 random bits from getrandom() per store.
 * Keys carry client-chosen statement text; with an unkeyed hash (FNV-1a and
 * the like) a client can craft texts that all land in one bucket and turn
 * each lookup under a shard lock into a long list walk (hash flooding).
 * SipHash is the keyed PRF Python, Rust and Redis use against exactly that;
 * 1-3 rounds (Python's and Rust's choice for hash tables) cost about a cycle
 * per byte, small next to reading the statement off a socket.
 */
#ifndef GTIDPROXY_CACHE_STORE_H
#define GTIDPROXY_CACHE_STORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/gtid_set.h"

#define CACHE_STATUS_LIST(X)                                                                       \
    X(CACHE_OK, 0, "ok")                                                                           \
    X(CACHE_E_TOO_BIG, -1, "entry exceeds the per-entry size cap or a shard's share of the cap")   \
    X(CACHE_E_NOMEM, -2, "out of memory")                                                          \
    X(CACHE_E_INVAL, -3, "invalid cache configuration")                                            \
    X(CACHE_E_RANDOM, -4, "no random hash key (getrandom failed)")

enum cache_status {
#define CACHE_STATUS_ENUM(name, value, text) name = (value),
    CACHE_STATUS_LIST(CACHE_STATUS_ENUM)
#undef CACHE_STATUS_ENUM
};

/* Text for a cache status code. Never NULL. */
const char *cache_status_str(int status);

#define CACHE_SHARDS_DEFAULT 16u
#define CACHE_SHARDS_MAX     1024u

/* A snapshot of the counters. Each shard's numbers are read atomically but
 * not all together, so under load the sums may mix moments (bytes and
 * entries of different instants); quiescent, they are exact. */
struct cache_stats {
    uint64_t entries;         /* in the table now */
    uint64_t bytes;           /* accounted bytes now, see above; <= max_bytes */
    uint64_t table_bytes;     /* the bucket arrays' part of bytes */
    uint64_t detached_bytes;  /* cost of entries out of the table, still read */
    uint64_t stores;          /* puts that linked an entry (incl. replacing) */
    uint64_t replaced;        /* entries unlinked because a put had the same key */
    uint64_t evictions;       /* entries unlinked to make room (LRU) */
    uint64_t refused_too_big; /* puts refused with CACHE_E_TOO_BIG */
};

struct cache_shard; /* private to cache_store.c */
struct cache_entry; /* opaque; read through the accessors below */

struct cache_store {
    struct cache_shard *shard; /* nshards of them, each on its own cache line */
    unsigned nshards;
    unsigned shard_mask;    /* nshards - 1; applied to the hash's top bits */
    size_t max_bytes;       /* global cap */
    size_t shard_cap;       /* max_bytes / nshards */
    size_t max_entry_bytes; /* largest value accepted */
    uint64_t sip_k0, sip_k1;
    _Atomic uint64_t detached_bytes;
};

/*
 * An empty store. shards: a power of two in 1..CACHE_SHARDS_MAX (0 means
 * CACHE_SHARDS_DEFAULT). max_bytes / shards must hold at least an empty
 * entry and a first bucket array (cache_entry_overhead() + 8 pointers).
 * Errors: CACHE_E_INVAL (bad shards / max_bytes), CACHE_E_NOMEM,
 * CACHE_E_RANDOM; on error nothing is allocated and cs must not be used.
 */
int cache_store_init(struct cache_store *cs, size_t max_bytes, size_t max_entry_bytes,
                     unsigned shards) __attribute__((warn_unused_result));

/* Frees every entry and the shards. Only once no thread uses the store and
 * every reference from cache_get() was released (workers joined). */
void cache_store_free(struct cache_store *cs);

/*
 * Stores a copy of key[0..klen), val[0..vlen) and *tag (required; copied,
 * the caller keeps its set) under key, replacing an entry with the same key, evicting
 * least recently used entries of the key's shard until the new one fits.
 *   CACHE_OK         stored (stats: stores, and replaced when it replaced)
 *   CACHE_E_TOO_BIG  vlen > max_entry_bytes, or the entry's cost plus a
 *                    minimal bucket array exceeds the shard's cap; nothing
 *                    changed (an older entry with the key stays)
 *   CACHE_E_NOMEM    not stored. Copying fails before anything changes;
 *                    only a failed first bucket array of a shard comes
 *                    after the old entry and evicted ones were unlinked
 *                    (they were leaving anyway)
 * now_ms is the caller's clock (the monotonic ms of its loop); the store
 * only keeps it.
 */
int cache_put(struct cache_store *cs, const void *key, size_t klen, const void *val, size_t vlen,
              const struct gtid_set *tag, unsigned server, uint64_t now_ms)
    __attribute__((warn_unused_result));

/* The entry stored under key, with a reference the caller must give back
 * with cache_release(); marks it most recently used. NULL when absent. */
const struct cache_entry *cache_get(struct cache_store *cs, const void *key, size_t klen)
    __attribute__((warn_unused_result));

/* Gives back a reference from cache_get(); e must not be used afterwards.
 * NULL is ignored. */
void cache_release(struct cache_store *cs, const struct cache_entry *e);

/* Unlinks every entry (not counted as evictions) and frees the bucket
 * arrays: bytes and entries drop to 0. Entries still held are freed on
 * their release. */
void cache_clear(struct cache_store *cs);

void cache_stats(const struct cache_store *cs, struct cache_stats *out);

/* ---- reading an entry (any thread holding a reference; no lock) ---- */

const uint8_t *cache_entry_key(const struct cache_entry *e, size_t *len);
/* The reply as stored: whole framed packets, ids as the server sent them. */
const uint8_t *cache_entry_value(const struct cache_entry *e, size_t *len);
/* The GTID set known applied on the server when the read ran. */
const struct gtid_set *cache_entry_tag(const struct cache_entry *e);
unsigned cache_entry_server(const struct cache_entry *e);
uint64_t cache_entry_stored_at_ms(const struct cache_entry *e);
/* now_ms - stored_at, 0 when the clock is behind the store time. */
uint64_t cache_entry_age_ms(const struct cache_entry *e, uint64_t now_ms);
/* cost(e) as defined above; constant for the entry's life. */
size_t cache_entry_cost(const struct cache_entry *e);
/* The fixed part of every entry's cost (its header struct). */
size_t cache_entry_overhead(void);

/* Heap bytes of a GTID set's arrays, by capacity (the tag part of cost). */
size_t cache_gtid_heap_bytes(const struct gtid_set *s);

/* SipHash-1-3 of p[0..n) under the 128-bit key k (two LE 64-bit words, as
 * in the reference). Exposed for its test vectors. */
uint64_t cache_siphash13(const uint8_t k[16], const void *p, size_t n);

/*
 * Walks every shard under its lock and checks the structure: each chain
 * entry is in its right shard and bucket, the LRU list and the chains hold
 * the same entries, counts and bytes match the sums of costs. Returns the
 * number of entries, or -1 on the first inconsistency. For tests: O(entries).
 */
long cache_store_verify(struct cache_store *cs);

#endif
