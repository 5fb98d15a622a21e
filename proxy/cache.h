/*
 * cache.h - the result cache as the data plane uses it (issue 6): which
 * reads are looked up and stored, the counters of what happened to them.
 * The store itself (memory, LRU, shards) is cache_store.h; the rules that
 * say which statements are cached and for how long are query_rules.h.
 *
 *   read through the gate ─▶ rule: cache_ttl_ms > 0? ─▶ consistent hit: tag ⊇ need,
 *                                                        age ≤ cache_ttl_ms ─▶ served
 *                            miss ─▶ gate ─▶ reply captured ─▶ stored (tag = known(r))
 *                            fallback step `cache` ─▶ entry age ≤ max_stale_ms ─▶ stale serve
 */
#ifndef GTIDPROXY_CACHE_H
#define GTIDPROXY_CACHE_H

#include <stdatomic.h>
#include <stdint.h>

/* Per worker; one writer (the worker: worker_stat_add), others load
 * relaxed and sum. The store's own counters (entries, bytes, stores,
 * evictions) are in struct cache_stats. */
struct cache_counters {
    _Atomic uint64_t hits;         /* consistent hits served without a backend */
    _Atomic uint64_t stale_serves; /* served by the fallback step `cache` */
    _Atomic uint64_t misses;       /* looked up (cacheable, cache on), nothing servable */
    _Atomic uint64_t bypasses;     /* a hint said cache=off */
};

#endif
