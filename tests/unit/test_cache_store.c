/* test_cache_store.c - the result cache's store (proxy/cache_store.c):
 * SipHash-1-3 vectors, put/get/replace, exact byte accounting after every
 * kind of change, LRU order, a load of 10x the cap, size refusals, readers
 * holding entries across eviction and clear, and 4 threads at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "cache_store.h"
#include "gtidproxy/gtid_set.h"

/* ---- helpers ---- */

static void tag_parse(struct gtid_set *s, enum gtid_flavor f, const char *text)
{
    gtid_set_init(s, f);
    assert_int_equal(gtid_set_parse(s, text, strlen(text), NULL), PROTO_OK);
}

/* The tag part of the documented cost, computed here from the set's fields. */
static size_t tag_heap(const struct gtid_set *s)
{
    if (s->flavor == GTID_FLAVOR_MARIADB)
        return s->u.mdb.cap * sizeof(struct gtid_mariadb_gtid);
    size_t b = s->u.my.cap * sizeof(struct gtid_mysql_run);
    for (uint32_t i = 0; i < s->u.my.cap; i++)
        b += s->u.my.run[i].cap * sizeof(struct gtid_interval);
    return b;
}

static size_t documented_cost(const struct cache_entry *e)
{
    size_t kl, vl;
    (void)cache_entry_key(e, &kl);
    (void)cache_entry_value(e, &vl);
    return cache_entry_overhead() + kl + vl + tag_heap(cache_entry_tag(e));
}

static int key_of(char *buf, size_t cap, unsigned id)
{
    return snprintf(buf, cap, "app|shop|utf8mb4|0x81fff7fe|SELECT * FROM t WHERE id=%u", id);
}

/* Checks bytes == sum of the documented cost of the live entries among keys
 * 0..nkeys-1 + table_bytes, and that the store's own walk agrees. Returns
 * the number of live entries. (The gets reorder the LRU; harmless here.) */
static size_t check_accounting(struct cache_store *cs, unsigned nkeys)
{
    size_t sum = 0, live = 0;
    for (unsigned id = 0; id < nkeys; id++) {
        char k[128];
        int kl = key_of(k, sizeof k, id);
        const struct cache_entry *e = cache_get(cs, k, (size_t)kl);
        if (!e)
            continue;
        assert_int_equal(cache_entry_cost(e), documented_cost(e));
        sum += cache_entry_cost(e);
        live++;
        cache_release(cs, e);
    }
    struct cache_stats st;
    cache_stats(cs, &st);
    assert_int_equal(st.entries, live);
    assert_int_equal(st.bytes, sum + st.table_bytes);
    assert_true(st.bytes <= cs->max_bytes);
    assert_int_equal(cache_store_verify(cs), (long)live);
    return live;
}

static void fill_value(uint8_t *v, size_t n, unsigned id)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (uint8_t)(id * 31u + i + n);
}

static bool value_ok(const struct cache_entry *e, unsigned id)
{
    size_t n;
    const uint8_t *v = cache_entry_value(e, &n);
    for (size_t i = 0; i < n; i++)
        if (v[i] != (uint8_t)(id * 31u + i + n))
            return false;
    return true;
}

static int put_id(struct cache_store *cs, unsigned id, size_t vlen, const struct gtid_set *tag,
                  uint64_t now)
{
    char k[128];
    int kl = key_of(k, sizeof k, id);
    uint8_t *v = malloc(vlen ? vlen : 1);
    assert_non_null(v);
    fill_value(v, vlen, id);
    int rc = cache_put(cs, k, (size_t)kl, v, vlen, tag, id % 3, now);
    free(v);
    return rc;
}

static const struct cache_entry *get_id(struct cache_store *cs, unsigned id)
{
    char k[128];
    int kl = key_of(k, sizeof k, id);
    return cache_get(cs, k, (size_t)kl);
}

static bool has_id(struct cache_store *cs, unsigned id)
{
    const struct cache_entry *e = get_id(cs, id);
    cache_release(cs, e);
    return e != NULL;
}

/* ---- SipHash-1-3 ---- */

/*
 * Vectors from CPython 3.11, whose hash(bytes) is SipHash-1-3 (sys.hash_info
 * .algorithm == 'siphash13') keyed by _Py_HashSecret: all zero under
 * PYTHONHASHSEED=0; under PYTHONHASHSEED=1 the 16 bytes its lcg_urandom(1)
 * gives (x = x * 214013 + 2531011; byte = x >> 16). E.g.
 *   PYTHONHASHSEED=1 python3 -c 'print(hex(hash(b"siphash") & (2**64-1)))'
 * The empty message (Python hashes b"" as 0) is from the digest-sip_hash
 * crate's tests and agrees with the round structure checked by the others.
 */
static void test_siphash13_vectors(void **state)
{
    (void)state;
    static const uint8_t zero[16] = {0};
    assert_true(cache_siphash13(zero, "", 0) == 0xd1fba762150c532cull);
    assert_true(cache_siphash13(zero, "siphash", 7) == 0x8264ceeccb16bcbeull);
    assert_true(cache_siphash13(zero, "abcdefgh", 8) == 0x3f7b849c0b8e35eaull);

    static const uint8_t k1[16] = {0x29, 0x23, 0xbe, 0x84, 0xe1, 0x6c, 0xd6, 0xae,
                                   0x52, 0x90, 0x49, 0xf1, 0xf1, 0xbb, 0xe9, 0xeb};
    uint8_t seq[64];
    for (int i = 0; i < 64; i++)
        seq[i] = (uint8_t)i;
    assert_true(cache_siphash13(k1, "a", 1) == 0xd6300bc9f7cc0e73ull);
    assert_true(cache_siphash13(k1, "siphash", 7) == 0xe5e41b985c646673ull);
    assert_true(cache_siphash13(k1, "abcdefgh", 8) == 0xfd3011ff3947e7f4ull);
    assert_true(cache_siphash13(k1, "SELECT id, name FROM t1 WHERE id=1", 34) ==
                0x5ee4fe92e5e9109bull);
    assert_true(cache_siphash13(k1, seq, 15) == 0xfa87985f39e97a53ull);
    assert_true(cache_siphash13(k1, seq, 16) == 0x12e9d283f9f37002ull);
    assert_true(cache_siphash13(k1, seq, 64) == 0x7e644b6edc375dc8ull);
}

/* ---- configuration ---- */

static void test_init_arguments(void **state)
{
    (void)state;
    struct cache_store cs;
    assert_int_equal(cache_store_init(&cs, 1 << 20, 1 << 16, 3), CACHE_E_INVAL);
    assert_int_equal(cache_store_init(&cs, 1 << 20, 1 << 16, 2048), CACHE_E_INVAL);
    /* Each shard must hold an empty entry plus its first bucket array. */
    size_t least = cache_entry_overhead() + 8 * sizeof(void *);
    assert_int_equal(cache_store_init(&cs, 16 * least - 1, 1 << 16, 16), CACHE_E_INVAL);
    assert_int_equal(cache_store_init(&cs, 16 * least, 1 << 16, 16), CACHE_OK);
    cache_store_free(&cs);
    assert_int_equal(cache_store_init(&cs, 1 << 20, 1 << 16, 0), CACHE_OK);
    assert_int_equal(cs.nshards, CACHE_SHARDS_DEFAULT);
    assert_int_equal(cs.shard_cap, (1 << 20) / 16);
    struct cache_stats st;
    cache_stats(&cs, &st);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.entries, 0);
    assert_int_equal(cache_store_verify(&cs), 0);
    cache_store_free(&cs);
    assert_string_equal(cache_status_str(CACHE_E_TOO_BIG),
                        "entry exceeds the per-entry size cap or a shard's share of the cap");
    assert_string_equal(cache_status_str(42), "unknown cache status");
}

/* ---- behaviour ---- */

static void test_put_get_replace(void **state)
{
    (void)state;
    struct cache_store cs;
    assert_int_equal(cache_store_init(&cs, 1 << 20, 1 << 16, 4), CACHE_OK);
    struct gtid_set tag, tag2;
    tag_parse(&tag, GTID_FLAVOR_MARIADB, "0-1-5,1-2-7");
    tag_parse(&tag2, GTID_FLAVOR_MARIADB, "0-1-9");

    static const char k[] = "app|db|SELECT 1";
    static const uint8_t v1[] = {0x01, 0x00, 0x00, 0x01, 0x01},
                         v2[] = {0x02, 0x00, 0x00, 0x01, 0x07, 0x08};
    assert_null(cache_get(&cs, k, sizeof k - 1));
    assert_int_equal(cache_put(&cs, k, sizeof k - 1, v1, sizeof v1, &tag, 2, 1000), CACHE_OK);
    /* A prefix of the key is another key. */
    assert_null(cache_get(&cs, k, sizeof k - 2));

    const struct cache_entry *e1 = cache_get(&cs, k, sizeof k - 1);
    assert_non_null(e1);
    size_t n;
    const uint8_t *p = cache_entry_value(e1, &n);
    assert_int_equal(n, sizeof v1);
    assert_memory_equal(p, v1, n);
    p = cache_entry_key(e1, &n);
    assert_int_equal(n, sizeof k - 1);
    assert_memory_equal(p, k, n);
    assert_true(gtid_set_equal(cache_entry_tag(e1), &tag));
    assert_true(cache_entry_tag(e1) != &tag); /* a copy */
    assert_int_equal(cache_entry_server(e1), 2);
    assert_int_equal(cache_entry_stored_at_ms(e1), 1000);
    assert_int_equal(cache_entry_age_ms(e1, 1500), 500);
    assert_int_equal(cache_entry_age_ms(e1, 900), 0);

    /* Replace while e1 is held: the new entry serves, e1 stays readable. */
    assert_int_equal(cache_put(&cs, k, sizeof k - 1, v2, sizeof v2, &tag2, 0, 2000), CACHE_OK);
    struct cache_stats st;
    cache_stats(&cs, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.stores, 2);
    assert_int_equal(st.replaced, 1);
    assert_int_equal(st.evictions, 0);
    assert_int_equal(st.detached_bytes, cache_entry_cost(e1));
    assert_int_equal(st.bytes, cache_entry_cost(e1) - sizeof v1 + sizeof v2 + st.table_bytes);

    const struct cache_entry *e2 = cache_get(&cs, k, sizeof k - 1);
    assert_non_null(e2);
    assert_true(e2 != e1);
    p = cache_entry_value(e2, &n);
    assert_memory_equal(p, v2, sizeof v2);
    assert_true(gtid_set_equal(cache_entry_tag(e2), &tag2));
    assert_int_equal(cache_entry_stored_at_ms(e2), 2000);
    p = cache_entry_value(e1, &n);
    assert_memory_equal(p, v1, sizeof v1);
    assert_true(gtid_set_equal(cache_entry_tag(e1), &tag));

    cache_release(&cs, e1);
    cache_stats(&cs, &st);
    assert_int_equal(st.detached_bytes, 0);
    cache_release(&cs, e2);
    cache_release(&cs, NULL);
    assert_int_equal(cache_store_verify(&cs), 1);
    gtid_set_free(&tag);
    gtid_set_free(&tag2);
    cache_store_free(&cs);
}

/* bytes == sum of documented costs + bucket arrays, after every change. */
static void test_accounting_exact(void **state)
{
    (void)state;
    struct cache_store cs;
    assert_int_equal(cache_store_init(&cs, 1 << 20, 1 << 16, 1), CACHE_OK);
    struct gtid_set empty, mdb, my;
    gtid_set_init(&empty, GTID_FLAVOR_MARIADB);
    tag_parse(&mdb, GTID_FLAVOR_MARIADB, "0-1-100,1-1-5,2-3-9,7-1-1,9-2-2");
    tag_parse(&my, GTID_FLAVOR_MYSQL,
              "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9:11,"
              "4e11fa47-71ca-11e1-9e33-c80aa9429562:1,"
              "5e11fa47-71ca-11e1-9e33-c80aa9429562:tag_a:1-3");

    assert_int_equal(check_accounting(&cs, 20), 0);
    struct cache_stats st;
    cache_stats(&cs, &st);
    assert_int_equal(st.table_bytes, 0); /* allocated with the first entry */

    assert_int_equal(put_id(&cs, 0, 100, &empty, 1), CACHE_OK);
    assert_int_equal(check_accounting(&cs, 20), 1);
    cache_stats(&cs, &st);
    assert_int_equal(st.table_bytes, 8 * sizeof(void *));
    assert_int_equal(st.bytes,
                     cache_entry_overhead() +
                         strlen("app|shop|utf8mb4|0x81fff7fe|SELECT * FROM t WHERE id=0") + 100 +
                         8 * sizeof(void *));

    assert_int_equal(put_id(&cs, 1, 0, &mdb, 1), CACHE_OK);
    assert_int_equal(put_id(&cs, 2, 3000, &my, 1), CACHE_OK);
    assert_int_equal(check_accounting(&cs, 20), 3);
    /* The tags' heap shows in the cost. */
    const struct cache_entry *e = get_id(&cs, 2);
    size_t kl;
    (void)cache_entry_key(e, &kl);
    assert_true(cache_entry_cost(e) > cache_entry_overhead() + kl + 3000);
    assert_int_equal(cache_gtid_heap_bytes(cache_entry_tag(e)), tag_heap(cache_entry_tag(e)));
    cache_release(&cs, e);

    /* Nine entries: the bucket array doubled to 16. */
    for (unsigned id = 3; id < 9; id++)
        assert_int_equal(put_id(&cs, id, id * 10, id & 1 ? &mdb : &empty, 2), CACHE_OK);
    assert_int_equal(check_accounting(&cs, 20), 9);
    cache_stats(&cs, &st);
    assert_int_equal(st.table_bytes, 16 * sizeof(void *));

    /* Replace with a different size and tag flavor. */
    assert_int_equal(put_id(&cs, 2, 10, &empty, 3), CACHE_OK);
    assert_int_equal(put_id(&cs, 1, 5000, &my, 3), CACHE_OK);
    assert_int_equal(check_accounting(&cs, 20), 9);
    cache_stats(&cs, &st);
    assert_int_equal(st.replaced, 2);

    cache_clear(&cs);
    assert_int_equal(check_accounting(&cs, 20), 0);
    cache_stats(&cs, &st);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.table_bytes, 0);
    assert_int_equal(st.evictions, 0);
    assert_int_equal(put_id(&cs, 4, 10, &my, 4), CACHE_OK);
    assert_int_equal(check_accounting(&cs, 20), 1);

    gtid_set_free(&empty);
    gtid_set_free(&mdb);
    gtid_set_free(&my);
    cache_store_free(&cs);
}

/* One shard sized for exactly three equal entries: the least recently used
 * goes first, and a get makes an entry recent. Eviction accounting exact. */
static void test_lru_order(void **state)
{
    (void)state;
    struct gtid_set empty;
    gtid_set_init(&empty, GTID_FLAVOR_MARIADB);
    char k[128];
    size_t cost = cache_entry_overhead() + (size_t)key_of(k, sizeof k, 1) + 200;
    size_t cap = 8 * sizeof(void *) + 3 * cost;
    struct cache_store cs;
    assert_int_equal(cache_store_init(&cs, cap, 1 << 16, 1), CACHE_OK);

    enum { A = 1, B, C, D, E };
    assert_int_equal(put_id(&cs, A, 200, &empty, 0), CACHE_OK);
    assert_int_equal(put_id(&cs, B, 200, &empty, 0), CACHE_OK);
    assert_int_equal(put_id(&cs, C, 200, &empty, 0), CACHE_OK);
    struct cache_stats st;
    cache_stats(&cs, &st);
    assert_int_equal(st.bytes, cap); /* full to the byte */
    assert_int_equal(st.evictions, 0);

    assert_true(has_id(&cs, A));                                /* order: A C B */
    assert_int_equal(put_id(&cs, D, 200, &empty, 0), CACHE_OK); /* evicts B: D A C */
    assert_false(has_id(&cs, B));
    assert_int_equal(put_id(&cs, E, 200, &empty, 0), CACHE_OK); /* evicts C: E D A */
    assert_false(has_id(&cs, C));
    assert_true(has_id(&cs, A));
    assert_true(has_id(&cs, D));
    assert_true(has_id(&cs, E));
    cache_stats(&cs, &st);
    assert_int_equal(st.evictions, 2);
    assert_int_equal(st.entries, 3);
    assert_int_equal(st.bytes, cap);
    assert_int_equal(check_accounting(&cs, 8), 3);

    /* A bigger entry takes the room of two: order now E D A -> evicts A, D. */
    assert_true(has_id(&cs, D));
    assert_true(has_id(&cs, E)); /* E D A */
    assert_int_equal(put_id(&cs, 6, 200 + cost, &empty, 0), CACHE_OK);
    assert_false(has_id(&cs, A));
    assert_false(has_id(&cs, D));
    assert_true(has_id(&cs, E));
    cache_stats(&cs, &st);
    assert_int_equal(st.evictions, 4);
    assert_int_equal(check_accounting(&cs, 8), 2);

    gtid_set_free(&empty);
    cache_store_free(&cs);
}

/* Inserting 10x the cap in distinct keys: bytes never pass the cap, every
 * store is either still there or counted as evicted. */
static void test_load_ten_times_cap(void **state)
{
    (void)state;
    const size_t max_bytes = 256 * 1024;
    struct cache_store cs;
    assert_int_equal(cache_store_init(&cs, max_bytes, 8192, 16), CACHE_OK);
    struct gtid_set tag;
    tag_parse(&tag, GTID_FLAVOR_MARIADB, "0-1-100,1-1-5");

    uint64_t rnd = 0x9e3779b97f4a7c15ull;
    size_t inserted = 0;
    unsigned id = 0;
    struct cache_stats st;
    while (inserted < 10 * max_bytes) {
        rnd ^= rnd << 13;
        rnd ^= rnd >> 7;
        rnd ^= rnd << 17;
        size_t vlen = 100 + rnd % 3000;
        assert_int_equal(put_id(&cs, id, vlen, &tag, id), CACHE_OK);
        id++;
        inserted += vlen;
        cache_stats(&cs, &st);
        assert_true(st.bytes <= max_bytes);
    }
    cache_stats(&cs, &st);
    assert_true(st.evictions > 0);
    assert_int_equal(st.stores, id);
    assert_int_equal(st.stores, st.entries + st.evictions);
    assert_int_equal(st.replaced, 0);
    assert_int_equal(st.refused_too_big, 0);
    /* Most of the cap is in use (each shard evicts only what it must). */
    assert_true(st.bytes > max_bytes / 2);
    size_t live = check_accounting(&cs, id);
    assert_int_equal(live, st.entries);

    /* What survived is intact. */
    for (unsigned i = 0; i < id; i++) {
        const struct cache_entry *e = get_id(&cs, i);
        if (e)
            assert_true(value_ok(e, i));
        cache_release(&cs, e);
    }
    gtid_set_free(&tag);
    cache_store_free(&cs);
}

static void test_too_big_refused(void **state)
{
    (void)state;
    struct cache_store cs;
    /* 16 shards of 4096 bytes; values up to 1000 bytes. */
    assert_int_equal(cache_store_init(&cs, 16 * 4096, 1000, 16), CACHE_OK);
    struct gtid_set tag;
    gtid_set_init(&tag, GTID_FLAVOR_MARIADB);

    assert_int_equal(put_id(&cs, 1, 1001, &tag, 0), CACHE_E_TOO_BIG);
    assert_int_equal(put_id(&cs, 1, 1000, &tag, 0), CACHE_OK);
    /* Too big again for the same key: the stored one stays. */
    assert_int_equal(put_id(&cs, 1, 5000, &tag, 0), CACHE_E_TOO_BIG);
    const struct cache_entry *e = get_id(&cs, 1);
    assert_non_null(e);
    size_t n;
    (void)cache_entry_value(e, &n);
    assert_int_equal(n, 1000);
    cache_release(&cs, e);
    struct cache_stats st;
    cache_stats(&cs, &st);
    assert_int_equal(st.refused_too_big, 2);
    assert_int_equal(st.stores, 1);
    assert_int_equal(st.entries, 1);
    cache_store_free(&cs);

    /* Within the entry cap but over a shard's share of the total cap. */
    assert_int_equal(cache_store_init(&cs, 16 * 2048, 1 << 20, 16), CACHE_OK);
    assert_int_equal(put_id(&cs, 2, 4000, &tag, 0), CACHE_E_TOO_BIG);
    /* A key alone can be too big as well. */
    static char bigkey[4096];
    memset(bigkey, 'k', sizeof bigkey);
    assert_int_equal(cache_put(&cs, bigkey, sizeof bigkey, "v", 1, &tag, 0, 0), CACHE_E_TOO_BIG);
    /* The largest entry that fits: cost + a first bucket array == shard cap. */
    char k[128];
    size_t kl = (size_t)key_of(k, sizeof k, 3);
    size_t fit = 2048 - 8 * sizeof(void *) - cache_entry_overhead() - kl;
    assert_int_equal(put_id(&cs, 3, fit + 1, &tag, 0), CACHE_E_TOO_BIG);
    assert_int_equal(put_id(&cs, 3, fit, &tag, 0), CACHE_OK);
    cache_stats(&cs, &st);
    assert_int_equal(st.refused_too_big, 3);
    assert_int_equal(st.bytes, 2048);
    assert_int_equal(check_accounting(&cs, 4), 1);
    gtid_set_free(&tag);
    cache_store_free(&cs);
}

/* Small entries grow a shard's bucket array; one entry that needs the whole
 * shard evicts them all, and the grown array makes way for a first-size one. */
static void test_emptied_shard_restarts_table(void **state)
{
    (void)state;
    const size_t cap = 8192;
    struct cache_store cs;
    assert_int_equal(cache_store_init(&cs, cap, cap, 1), CACHE_OK);
    struct gtid_set tag;
    gtid_set_init(&tag, GTID_FLAVOR_MARIADB);
    for (unsigned id = 0; id < 20; id++)
        assert_int_equal(put_id(&cs, id, 1, &tag, 0), CACHE_OK);
    struct cache_stats st;
    cache_stats(&cs, &st);
    assert_int_equal(st.table_bytes, 32 * sizeof(void *));

    char k[128];
    size_t kl = (size_t)key_of(k, sizeof k, 100);
    size_t fit = cap - 8 * sizeof(void *) - cache_entry_overhead() - kl;
    assert_int_equal(put_id(&cs, 100, fit, &tag, 0), CACHE_OK);
    cache_stats(&cs, &st);
    assert_int_equal(st.evictions, 20);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.table_bytes, 8 * sizeof(void *));
    assert_int_equal(st.bytes, cap);
    assert_int_equal(check_accounting(&cs, 101), 1);
    gtid_set_free(&tag);
    cache_store_free(&cs);
}

/* An entry a reader holds outlives its eviction and a clear; its bytes are
 * out of `bytes` at once and in detached_bytes until the release. */
static void test_reader_survives_eviction_and_clear(void **state)
{
    (void)state;
    struct gtid_set tag;
    tag_parse(&tag, GTID_FLAVOR_MARIADB, "0-1-7");
    struct cache_store cs;
    assert_int_equal(cache_store_init(&cs, 4096, 4096, 1), CACHE_OK);

    assert_int_equal(put_id(&cs, 1, 1000, &tag, 10), CACHE_OK);
    const struct cache_entry *held = get_id(&cs, 1);
    assert_non_null(held);
    size_t cost = cache_entry_cost(held);
    for (unsigned id = 2; id < 40; id++)
        assert_int_equal(put_id(&cs, id, 1000, &tag, 10), CACHE_OK);
    assert_false(has_id(&cs, 1));
    struct cache_stats st;
    cache_stats(&cs, &st);
    assert_true(st.evictions >= 1);
    assert_int_equal(st.detached_bytes, cost);
    check_accounting(&cs, 40); /* the held entry is not in bytes */
    /* Still whole (ASan would flag a freed entry here). */
    assert_true(value_ok(held, 1));
    assert_int_equal(cache_entry_stored_at_ms(held), 10);
    assert_true(gtid_set_equal(cache_entry_tag(held), &tag));
    cache_release(&cs, held);
    cache_stats(&cs, &st);
    assert_int_equal(st.detached_bytes, 0);

    held = get_id(&cs, 39);
    assert_non_null(held);
    cache_clear(&cs);
    cache_stats(&cs, &st);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.detached_bytes, cache_entry_cost(held));
    assert_true(value_ok(held, 39));
    cache_release(&cs, held);
    cache_stats(&cs, &st);
    assert_int_equal(st.detached_bytes, 0);
    gtid_set_free(&tag);
    cache_store_free(&cs);
}

/* ---- threads ---- */

#define CT_THREADS 4
#define CT_KEYS    300
#define CT_OPS     150000
#define CT_HOLD    4

struct ct_arg {
    struct cache_store *cs;
    unsigned seed;
    unsigned bad;      /* values that failed their check */
    unsigned detached; /* samples that saw a held entry out of the table */
};

static void *ct_worker(void *p)
{
    struct ct_arg *a = p;
    uint64_t r = 0x2545f4914f6cdd1dull * (a->seed + 1);
    struct gtid_set tags[3];
    tag_parse(&tags[0], GTID_FLAVOR_MARIADB, "");
    tag_parse(&tags[1], GTID_FLAVOR_MARIADB, "0-1-5");
    tag_parse(&tags[2], GTID_FLAVOR_MARIADB, "0-1-5,1-2-6,2-1-7,3-1-8,4-1-9");
    const struct cache_entry *held[CT_HOLD] = {0};
    unsigned held_id[CT_HOLD] = {0};
    uint8_t v[2048];
    for (unsigned op = 0; op < CT_OPS; op++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        unsigned id = (unsigned)(r % CT_KEYS);
        unsigned what = (unsigned)((r >> 20) % 100);
        if (op % 1000 == 0) {
            struct cache_stats st;
            cache_stats(a->cs, &st);
            a->detached += st.detached_bytes > 0;
        }
        char k[128];
        int kl = key_of(k, sizeof k, id);
        if (what < 40) {
            size_t vlen = (size_t)((r >> 32) % sizeof v);
            fill_value(v, vlen, id);
            int rc = cache_put(a->cs, k, (size_t)kl, v, vlen, &tags[(r >> 40) % 3], id, op);
            if (rc != CACHE_OK)
                a->bad++;
        } else if (what == 99 && (r >> 40) % 50 == 0) {
            cache_clear(a->cs);
        } else {
            const struct cache_entry *e = cache_get(a->cs, k, (size_t)kl);
            if (!e)
                continue;
            if (!value_ok(e, id) || cache_entry_server(e) != id)
                a->bad++;
            if (what < 70) {
                cache_release(a->cs, e);
                continue;
            }
            /* Keep it a while: it may be replaced or evicted meanwhile. */
            unsigned slot = op % CT_HOLD;
            if (held[slot]) {
                if (!value_ok(held[slot], held_id[slot]))
                    a->bad++;
                cache_release(a->cs, held[slot]);
            }
            held[slot] = e;
            held_id[slot] = id;
        }
    }
    for (unsigned i = 0; i < CT_HOLD; i++) {
        if (held[i] && !value_ok(held[i], held_id[i]))
            a->bad++;
        cache_release(a->cs, held[i]);
    }
    for (int i = 0; i < 3; i++)
        gtid_set_free(&tags[i]);
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    struct cache_store cs;
    /* 64 KiB over 4 shards: ~40 of the ~1 KiB entries, so most puts evict. */
    assert_int_equal(cache_store_init(&cs, 64 * 1024, 4096, 4), CACHE_OK);
    pthread_t t[CT_THREADS];
    struct ct_arg args[CT_THREADS];
    for (unsigned i = 0; i < CT_THREADS; i++) {
        args[i] = (struct ct_arg){&cs, i, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, ct_worker, &args[i]), 0);
    }
    unsigned detached = 0;
    for (unsigned i = 0; i < CT_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(args[i].bad, 0);
        detached += args[i].detached;
    }
    /* Readers did hold entries that left the table meanwhile. */
    assert_true(detached > 0);
    struct cache_stats st;
    cache_stats(&cs, &st);
    print_message("stores %llu replaced %llu evictions %llu entries %llu bytes %llu\n",
                  (unsigned long long)st.stores, (unsigned long long)st.replaced,
                  (unsigned long long)st.evictions, (unsigned long long)st.entries,
                  (unsigned long long)st.bytes);
    assert_true(st.stores > 0);
    assert_true(st.evictions > 0);
    assert_true(st.replaced > 0);
    assert_int_equal(st.detached_bytes, 0);
    check_accounting(&cs, CT_KEYS);
    cache_store_free(&cs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash13_vectors),
        cmocka_unit_test(test_init_arguments),
        cmocka_unit_test(test_put_get_replace),
        cmocka_unit_test(test_accounting_exact),
        cmocka_unit_test(test_lru_order),
        cmocka_unit_test(test_load_ten_times_cap),
        cmocka_unit_test(test_too_big_refused),
        cmocka_unit_test(test_emptied_shard_restarts_table),
        cmocka_unit_test(test_reader_survives_eviction_and_clear),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
