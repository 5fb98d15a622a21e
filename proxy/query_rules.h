/*
 * query_rules.h - the result cache's query rules (issue 6, item 2): an
 * ordered list loaded from the config key `query_rules`, each rule naming the
 * statements it applies to (exact text or a PCRE2 regex) and what applies to
 * them; the first matching rule wins. Also the per-worker decision memo that
 * evaluates the rules once per statement text.
 *
 *   statement text --memo (SipHash-1-3, keyed)--> hit: rule index (or -1)
 *                    \--miss--> rules in order: exact (memcmp) | regex (PCRE2)
 *                               --> first match's index, or -1; remembered
 *
 * Config shape (README "Query rules"):
 *   "query_rules": [
 *     { "name": "order-counts", "match": "SELECT COUNT(*) FROM orders",
 *       "cache_ttl_ms": 5000, "max_stale_ms": 60000 },
 *     { "name": "catalog", "regex": "^SELECT .* FROM products\\b",
 *       "consistency": "eventual", "fallback": ["cache", "primary"], "route": "replica" } ]
 *
 * What each field means to the caller (the session applies them; this module
 * only loads, matches and remembers):
 *   cache_ttl_ms  a cached entry of a matching read may serve a consistent hit
 *                 up to this age (0: never)
 *   max_stale_ms  the fallback step `cache` serves entries up to this age
 *                 (0: never). A read is stored when either is > 0.
 *   consistency   the read's level, instead of user/listener/default (a hint
 *                 in the statement still overrides it)
 *   fallback      the chain instead of consistency.fallback
 *   route         QUERY_ROUTE_PRIMARY sends matching reads to the primary (a
 *                 route hint in the statement wins); QUERY_ROUTE_REPLICA is
 *                 where reads go anyway and changes nothing. A rule never
 *                 sends a write or a locking read to a replica, nor moves a
 *                 statement out of a transaction or a session pinned to the
 *                 primary (router.h rules 2-3 come first; session.c applies it).
 *
 * Regexes: compiled in byte mode (no PCRE2_UTF): a statement is bytes in
 * whatever character set the client uses, so '.' matches any byte (but a
 * newline) and a statement is never invalid input; a non-ASCII character in
 * a pattern matches its UTF-8 bytes only (utf8mb4 clients). Unanchored
 * unless the pattern anchors (^, \A); case-sensitive unless the pattern says
 * (?i); JIT-compiled when the library can. Matching is bounded (QUERY_MATCH_* below): a
 * statement that drives a pattern into a limit counts as matching no rule for
 * that pattern (counted in struct query_match, logged at most once a minute
 * per thread). Write patterns that decide on the statement's head
 * (`^SELECT .* FROM products\b` is fine; a group repeated once per character
 * over a 100 KB statement is not).
 */
#ifndef GTIDPROXY_QUERY_RULES_H
#define GTIDPROXY_QUERY_RULES_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <jansson.h>
#include <pcre2.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* The most rules a config may hold. Every statement text the memo has not
 * seen walks the list, so the bound is also a bound on that walk. */
#define QUERY_RULES_MAX 1000

/* The largest cache_ttl_ms / max_stale_ms: one day. */
#define QUERY_RULES_MAX_MS 86400000u

#define QUERY_ROUTE_LIST(X)                                                                        \
    X(QUERY_ROUTE_ANY, "any") /* unset: the router decides */                                      \
    X(QUERY_ROUTE_PRIMARY, "primary")                                                              \
    X(QUERY_ROUTE_REPLICA, "replica")

enum query_route {
#define QUERY_ROUTE_ENUM(name, text) name,
    QUERY_ROUTE_LIST(QUERY_ROUTE_ENUM)
#undef QUERY_ROUTE_ENUM
};
const char *query_route_name(enum query_route route);

struct query_rule {
    char *name; /* as given, or "#<index>" (0-based, as in "query_rules[<index>]") */
    /* Exactly one of match (the exact statement text) or regex (the
     * pattern's source; code is its compiled form) is non-NULL. Both are
     * NUL-terminated copies and may hold NULs of their own: use the lengths. */
    char *match;
    size_t match_len;
    char *regex;
    size_t regex_len;
    pcre2_code *code;      /* NULL for exact rules */
    bool jit;              /* code is JIT-compiled (else the interpreter runs it) */
    uint32_t cache_ttl_ms; /* 0: no consistent hits */
    uint32_t max_stale_ms; /* 0: the `cache` fallback step serves nothing */
    int consistency;       /* enum consistency_level, or -1: unset */
    enum fallback_step fallback[CONFIG_MAX_FALLBACK];
    size_t n_fallback;      /* 0: unset (consistency.fallback applies) */
    enum query_route route; /* QUERY_ROUTE_ANY: unset */
};

/* Replies of reads this rule matches go into the cache. */
static inline bool query_rule_stores(const struct query_rule *r)
{
    return r->cache_ttl_ms > 0 || r->max_stale_ms > 0;
}

struct query_rules {
    struct query_rule *v; /* n of them, in config order; NULL when n == 0 */
    size_t n;
    /* Unique per successful load in this process (never 0 after a load):
     * the memo tells two rule sets at the same address apart by it. */
    uint64_t gen;
};

/*
 * Loads the `query_rules` array. arr NULL or JSON null: no rules. On success
 * returns 0 and fills *out (free with query_rules_free()); on failure returns
 * -1, leaves *out empty ({0}) and writes one line into err,
 * "query_rules[<i>].<key>: <problem>" (the caller prefixes the file name as
 * config.c does). JSON null stands for "unset" for every key of a rule (so
 * query_rules_json()'s output loads back). Allocation failures abort, as in
 * config.c (configuration is loaded before anything serves).
 */
int query_rules_load(const json_t *arr, struct query_rules *out, char *err, size_t errlen);

/* Frees every rule; *r becomes empty. NULL and empty sets are fine. */
void query_rules_free(struct query_rules *r);

/* The effective rules for GET /config: an array with one object per rule
 * holding every key (name, match, regex, cache_ttl_ms, max_stale_ms,
 * consistency, fallback, route), unset ones as null. query_rules_load() of
 * the result gives equal rules. NULL when out of memory. */
json_t *query_rules_json(const struct query_rules *r);

/* ---- matching (one struct query_match per thread) ---- */

/*
 * Limits on one regex evaluation (pcre2_match of one rule on one text):
 *   match limit 100000  PCRE2's count of backtracking steps (per start
 *                       position). Measured: a catastrophic pattern burns
 *                       about 0.15 ms to reach it with JIT, 1.5 ms in the
 *                       interpreter - a worker serves other sessions in the
 *                       meantime, so the bound is kept near a LAN round trip.
 *                       Sane patterns on statements of ordinary size never
 *                       come near it.
 *   depth limit 10000   nesting of backtracking frames (interpreter only;
 *                       bounds the frame vector it keeps per thread)
 *   heap limit 4 MiB    that frame vector's size (interpreter only)
 *   JIT stack 32 KiB..1 MiB per thread (reserved address space; pages are
 *                       touched only when a match needs them). PCRE2's
 *                       default 32 KiB on the machine stack fails patterns
 *                       like ^SELECT (?:[^']|'[^']*')*$ at about 5 KB of text.
 */
#define QUERY_MATCH_LIMIT       100000u
#define QUERY_MATCH_DEPTH_LIMIT 10000u
#define QUERY_MATCH_HEAP_KIB    4096u
#define QUERY_MATCH_JIT_MIN     (32u * 1024u)
#define QUERY_MATCH_JIT_MAX     (1024u * 1024u)

/* A thread's matching state. Counters: one writer (the owning thread:
 * relaxed load + store); other threads may read them (relaxed). */
struct query_match {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit_stack;  /* NULL when the library has no JIT */
    _Atomic uint64_t limit_hits; /* evaluations stopped by a limit: no match */
    _Atomic uint64_t errors;     /* other match failures (out of memory): no match */
    uint64_t last_log_ms;        /* CLOCK_MONOTONIC ms of the last limit log line */
    uint64_t unlogged;           /* limit hits since that line */
};

/* 0, or -1 when out of memory (nothing to free then). */
int query_match_init(struct query_match *m) __attribute__((warn_unused_result));
void query_match_free(struct query_match *m);

/* Index of the first rule matching text[0..n) (n may be 0; text may be
 * NULL then), or -1 when none does. Evaluates every rule up to the first
 * match: use query_memo_decide() on the statement path. */
int query_rules_match(const struct query_rules *r, const uint8_t *text, size_t n,
                      struct query_match *m);

/* ---- the decision memo (one per worker thread; no locks) ---- */

/*
 * Remembers, per statement text, the index query_rules_match() returned
 * (including -1, "no rule"), so repeated statements skip the regexes.
 *
 * Bounds: at most cap entries; texts longer than QUERY_MEMO_MAX_TEXT bytes
 * are evaluated every time and not stored (most statements an application
 * repeats are far shorter; long ones are mostly bulk writes with literals).
 * Memory per entry: query_memo_entry_bytes() (its slot + at most two
 * bucket heads) + the text's length (one malloc block each, plus the
 * allocator's overhead). Worst case per worker:
 * cap * (query_memo_entry_bytes() + QUERY_MEMO_MAX_TEXT + malloc overhead).
 * Nothing is allocated until the first text is stored.
 *
 * Replacement: CLOCK (second chance). A hit only sets the entry's bit (no
 * list to relink, unlike LRU); a new entry starts with the bit clear, so a
 * stream of one-off texts (statements with literals in them) evicts other
 * one-off texts before anything that was hit since the hand last passed.
 *
 * Hash: SipHash-1-3 under a random 128-bit key per memo: clients choose the
 * texts, and with an unkeyed hash they could make every text collide into
 * one chain. A hit also compares the whole text, so a collision can never
 * return another text's decision.
 *
 * Rule sets: the memo belongs to one struct query_rules at a time. A call
 * with another one (a different pointer, or the same address with another
 * gen: a reload can reuse a freed address) forgets every entry first. The
 * memo never dereferences a rule set other than the one it is called with,
 * so the old one may be freed while the memo still remembers its address.
 *
 * A regex that hit a limit is remembered as not matching (the same text
 * would hit it again); a failure to allocate is not remembered.
 */
#define QUERY_MEMO_MAX_TEXT 2048u
#define QUERY_MEMO_MAX_CAP  (1u << 24)

struct query_memo_slot; /* private to query_rules.c */

struct query_memo {
    struct query_memo_slot *slot; /* cap slots, allocated at the first store */
    uint32_t *bucket;             /* chain heads: slot index + 1, 0 = empty */
    uint32_t cap;
    uint32_t used;                   /* slots in use: 0..cap */
    uint32_t bucket_mask;            /* buckets - 1 (a power of two >= cap) */
    uint32_t hand;                   /* CLOCK hand: next slot to consider for eviction */
    uint8_t key[16];                 /* SipHash key */
    const struct query_rules *rules; /* the set entries belong to (compared only) */
    uint64_t gen;
    /* One writer (the worker); others may read them (relaxed). */
    _Atomic uint64_t hits;          /* answered from the memo */
    _Atomic uint64_t misses;        /* evaluated (hits + misses: calls with rules) */
    _Atomic uint64_t not_stored;    /* misses not remembered: too long, cap 0, no memory */
    _Atomic uint64_t evictions;     /* entries given up by CLOCK */
    _Atomic uint64_t invalidations; /* forgot everything: a new rule set */
};

/* Fixed bytes per entry (see above): 40 on LP64. */
size_t query_memo_entry_bytes(void);

/* An empty memo holding at most cap entries (0: remember nothing; at most
 * QUERY_MEMO_MAX_CAP). -1 when cap is too large or no random key
 * (getrandom failed); nothing to free then. */
int query_memo_init(struct query_memo *memo, uint32_t cap) __attribute__((warn_unused_result));
void query_memo_free(struct query_memo *memo);

/* Index of the rule that applies to text[0..n) (same as
 * query_rules_match()), or -1: from the memo when it has the text, else
 * evaluated and remembered. With no rules (r NULL or empty) returns -1 at
 * once without touching the memo. */
int query_memo_decide(struct query_memo *memo, const struct query_rules *r, const uint8_t *text,
                      size_t n, struct query_match *m);

/* Entries held now (for tests and the admin API; the owning thread only). */
static inline uint32_t query_memo_size(const struct query_memo *memo)
{
    return memo->used;
}

#endif
