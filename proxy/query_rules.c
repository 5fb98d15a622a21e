/*
 * query_rules.c - loads, prints and matches the query rules, and the
 * per-worker decision memo (query_rules.h).
 *
 * The loader follows config.c's conventions: every reader takes the key path
 * of what it reads, unknown keys are errors, and messages read
 * "<key path>: <problem>" in config.c's words (the caller prefixes the file).
 * JSON null means "unset" everywhere inside a rule, which is what
 * query_rules_json() prints for unset keys.
 */
#include "query_rules.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cache_store.h"
#include "json_check.h"
#include "log.h"

#define NAME_TEXT(name, text) text,
static const char *const route_names[] = {QUERY_ROUTE_LIST(NAME_TEXT)};
static const char *const level_names[] = {CONSISTENCY_LEVEL_LIST(NAME_TEXT) NULL};
static const char *const fallback_names[] = {FALLBACK_STEP_LIST(NAME_TEXT) NULL};
#undef NAME_TEXT

/* What a rule's "route" may say: every route but QUERY_ROUTE_ANY (unset),
 * which is how null reads. Index i is enum value i + 1. */
static const char *const route_choices[] = {"primary", "replica", NULL};

const char *query_route_name(enum query_route route)
{
    return (size_t)route < sizeof route_names / sizeof route_names[0] ? route_names[route] : "?";
}

/* Distinguishes rule sets that a reload places at a freed set's address. */
static _Atomic uint64_t rules_gen;

/* ---- loading ---------------------------------------------------------- */

/* As in config.c: configuration is loaded before anything serves. */
static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        abort();
    return p;
}

/* A NUL-terminated copy of s[0..n) (s may hold NULs of its own). */
static char *xmemdup(const char *s, size_t n)
{
    char *p = xcalloc(n + 1, 1);
    memcpy(p, s, n);
    return p;
}

/* The value under key, or NULL when absent or null (unset). */
static const json_t *get(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_null(v) ? NULL : v;
}

/* A non-empty string under key (unset: *out stays NULL). nul_ok: the string
 * may hold NULs (statement text and patterns are byte strings; a name is
 * not). */
static int get_text(struct jcheck *c, const json_t *o, const char *path, const char *key, bool nul_ok,
                    char **out, size_t *len)
{
    const json_t *v = get(o, key);
    if (!v)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        (!nul_ok && strlen(json_string_value(v)) != json_string_length(v))) {
        char p[JCHECK_PATH_MAX], got[64];
        jcheck_child(p, path, key);
        jcheck_shown(v, got, sizeof got);
        return jcheck_fail(c, p, "must be a non-empty string, got %s", got);
    }
    *len = json_string_length(v);
    *out = xmemdup(json_string_value(v), *len);
    return 0;
}

/* Milliseconds 0..QUERY_RULES_MAX_MS under key (unset: 0). */
static int get_ms(struct jcheck *c, const json_t *o, const char *path, const char *key, uint32_t *out)
{
    const json_t *v = get(o, key);
    *out = 0;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > (json_int_t)QUERY_RULES_MAX_MS) {
        char p[JCHECK_PATH_MAX], got[64];
        jcheck_child(p, path, key);
        jcheck_shown(v, got, sizeof got);
        return jcheck_fail(c, p, "must be 0-%u, got %s", QUERY_RULES_MAX_MS, got);
    }
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* Enumerated string under key (unset: *out = -1). */
static int get_enum(struct jcheck *c, const json_t *o, const char *path, const char *key,
                    const char *const names[], int *out)
{
    const json_t *v = get(o, key);
    char p[JCHECK_PATH_MAX];
    *out = -1;
    if (!v)
        return 0;
    jcheck_child(p, path, key);
    return jcheck_pick(c, v, p, names, out);
}

/* Same checks and words as config.c's consistency.fallback. */
static int get_fallback(struct jcheck *c, const json_t *o, const char *path, struct query_rule *q)
{
    const json_t *chain = get(o, "fallback");
    char p[JCHECK_PATH_MAX];
    q->n_fallback = 0;
    if (!chain)
        return 0;
    jcheck_child(p, path, "fallback");
    if (!json_is_array(chain) || json_array_size(chain) == 0 ||
        json_array_size(chain) > CONFIG_MAX_FALLBACK) {
        char got[64];
        jcheck_shown(chain, got, sizeof got);
        return jcheck_fail(c, p, "must be an array of 1-%d steps, got %s", CONFIG_MAX_FALLBACK, got);
    }
    for (size_t i = 0; i < json_array_size(chain); i++) {
        char ep[JCHECK_PATH_MAX + 24];
        int step;
        snprintf(ep, sizeof ep, "%s[%zu]", p, i);
        if (jcheck_pick(c, json_array_get(chain, i), ep, fallback_names, &step) != 0)
            return -1;
        for (size_t j = 0; j < i; j++) {
            if (q->fallback[j] == (enum fallback_step)step)
                return jcheck_fail(c, ep, "\"%s\" appears twice", fallback_names[step]);
        }
        q->fallback[i] = (enum fallback_step)step;
    }
    q->n_fallback = json_array_size(chain);
    return 0;
}

/* Names starting with '#' are what unnamed rules get; a given one must be
 * this rule's own, so that names stay unique and printed configs load. */
static int load_name(struct jcheck *c, const json_t *o, const char *path, size_t i,
                     const struct query_rules *out, struct query_rule *q)
{
    char own[32], p[JCHECK_PATH_MAX];
    size_t len = 0;
    snprintf(own, sizeof own, "#%zu", i);
    jcheck_child(p, path, "name");
    if (get_text(c, o, path, "name", false, &q->name, &len) != 0)
        return -1;
    if (!q->name) {
        q->name = xmemdup(own, strlen(own));
        return 0;
    }
    if (q->name[0] == '#' && strcmp(q->name, own) != 0)
        return jcheck_fail(c, p,
                    "names starting with \"#\" are reserved for unnamed rules "
                    "(this one's would be \"%s\"), got \"%s\"",
                    own, q->name);
    for (size_t j = 0; j < i; j++) {
        if (strcmp(out->v[j].name, q->name) == 0)
            return jcheck_fail(c, p, "\"%s\" is also the name of query_rules[%zu]", q->name, j);
    }
    return 0;
}

static int compile_regex(struct jcheck *c, const char *path, struct query_rule *q)
{
    int code = 0;
    PCRE2_SIZE offset = 0;
    /* Bytes, never UTF (see query_rules.h): NEVER_UTF also refuses a
     * pattern that would switch UTF on itself with (*UTF). */
    q->code =
        pcre2_compile((PCRE2_SPTR)q->regex, q->regex_len, PCRE2_NEVER_UTF, &code, &offset, NULL);
    if (!q->code) {
        char p[JCHECK_PATH_MAX];
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "PCRE2 error %d", code);
        jcheck_child(p, path, "regex");
        return jcheck_fail(c, p, "does not compile: %s at offset %zu", (const char *)msg, (size_t)offset);
    }
    /* Without JIT support (or memory for it) the interpreter runs the
     * pattern under the same limits: slower, not wrong. */
    q->jit = pcre2_jit_compile(q->code, PCRE2_JIT_COMPLETE) == 0;
    return 0;
}

static int load_rule(struct jcheck *c, const json_t *o, size_t i, struct query_rules *out)
{
    static const char *const keys[] = {"name",         "match",        "regex",
                                       "cache_ttl_ms", "max_stale_ms", "consistency",
                                       "fallback",     "route",        NULL};
    struct query_rule *q = &out->v[i];
    char p[JCHECK_PATH_MAX];
    int route;
    snprintf(p, sizeof p, "query_rules[%zu]", i);
    q->consistency = -1;
    if (jcheck_object(c, o, p, keys) != 0 || load_name(c, o, p, i, out, q) != 0)
        return -1;
    if (!get(o, "match") == !get(o, "regex"))
        return jcheck_fail(c, p, "needs exactly one of \"match\" or \"regex\"");
    if (get_text(c, o, p, "match", true, &q->match, &q->match_len) != 0 ||
        get_text(c, o, p, "regex", true, &q->regex, &q->regex_len) != 0 ||
        (q->regex && compile_regex(c, p, q) != 0) ||
        get_ms(c, o, p, "cache_ttl_ms", &q->cache_ttl_ms) != 0 ||
        get_ms(c, o, p, "max_stale_ms", &q->max_stale_ms) != 0 ||
        get_enum(c, o, p, "consistency", level_names, &q->consistency) != 0 ||
        get_fallback(c, o, p, q) != 0 || get_enum(c, o, p, "route", route_choices, &route) != 0)
        return -1;
    q->route = (enum query_route)(route + 1); /* -1 (unset) is QUERY_ROUTE_ANY */
    return 0;
}

int query_rules_load(const json_t *arr, struct query_rules *out, char *err, size_t errlen)
{
    struct jcheck c = {NULL, err, errlen};
    *out = (struct query_rules){0};
    if (!arr || json_is_null(arr))
        goto ok;
    if (!json_is_array(arr)) {
        char got[64];
        jcheck_shown(arr, got, sizeof got);
        return jcheck_fail(&c, "query_rules", "must be an array, got %s", got);
    }
    size_t n = json_array_size(arr);
    if (n > QUERY_RULES_MAX)
        return jcheck_fail(&c, "query_rules", "at most %d rules, has %zu", QUERY_RULES_MAX, n);
    if (n) {
        out->v = xcalloc(n, sizeof *out->v);
        /* n counts every slot that may hold something to free. */
        out->n = n;
    }
    for (size_t i = 0; i < n; i++) {
        if (load_rule(&c, json_array_get(arr, i), i, out) != 0) {
            query_rules_free(out);
            return -1;
        }
    }
ok:
    out->gen = atomic_fetch_add_explicit(&rules_gen, 1, memory_order_relaxed) + 1;
    return 0;
}

void query_rules_free(struct query_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->v && i < r->n; i++) {
        struct query_rule *q = &r->v[i];
        free(q->name);
        free(q->match);
        free(q->regex);
        pcre2_code_free(q->code);
    }
    free(r->v);
    *r = (struct query_rules){0};
}

/* ---- printing --------------------------------------------------------- */

static int set(json_t *o, const char *key, json_t *v)
{
    return json_object_set_new(o, key, v) != 0;
}

static json_t *bytes_or_null(const char *s, size_t n)
{
    return s ? json_stringn(s, n) : json_null();
}

static json_t *fallback_json(const struct query_rule *q)
{
    if (q->n_fallback == 0)
        return json_null();
    json_t *chain = json_array();
    for (size_t i = 0; chain && i < q->n_fallback && i < CONFIG_MAX_FALLBACK; i++) {
        if (json_array_append_new(chain, json_string(fallback_step_name(q->fallback[i]))) != 0) {
            json_decref(chain);
            return NULL;
        }
    }
    return chain;
}

static json_t *rule_json(const struct query_rule *q)
{
    json_t *o = json_object();
    const char *level =
        q->consistency < 0 ? NULL : consistency_level_name((enum consistency_level)q->consistency);
    /* || stops at the first failure; set() releases what it was given. */
    if (!o || set(o, "name", json_string(q->name)) ||
        set(o, "match", bytes_or_null(q->match, q->match_len)) ||
        set(o, "regex", bytes_or_null(q->regex, q->regex_len)) ||
        set(o, "cache_ttl_ms", json_integer(q->cache_ttl_ms)) ||
        set(o, "max_stale_ms", json_integer(q->max_stale_ms)) ||
        set(o, "consistency", level ? json_string(level) : json_null()) ||
        set(o, "fallback", fallback_json(q)) ||
        set(o, "route",
            q->route == QUERY_ROUTE_ANY ? json_null() : json_string(query_route_name(q->route)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *query_rules_json(const struct query_rules *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && r && i < r->n; i++) {
        if (json_array_append_new(arr, rule_json(&r->v[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* ---- matching --------------------------------------------------------- */

int query_match_init(struct query_match *m)
{
    uint32_t has_jit = 0;
    *m = (struct query_match){0};
    /* One pair of offsets: whether it matched is all a rule needs. */
    m->md = pcre2_match_data_create(1, NULL);
    m->mctx = pcre2_match_context_create(NULL);
    if (!m->md || !m->mctx)
        goto fail;
    pcre2_set_match_limit(m->mctx, QUERY_MATCH_LIMIT);
    pcre2_set_depth_limit(m->mctx, QUERY_MATCH_DEPTH_LIMIT);
    pcre2_set_heap_limit(m->mctx, QUERY_MATCH_HEAP_KIB);
    if (pcre2_config(PCRE2_CONFIG_JIT, &has_jit) >= 0 && has_jit) {
        m->jit_stack = pcre2_jit_stack_create(QUERY_MATCH_JIT_MIN, QUERY_MATCH_JIT_MAX, NULL);
        if (!m->jit_stack)
            goto fail;
        pcre2_jit_stack_assign(m->mctx, NULL, m->jit_stack);
    }
    return 0;
fail:
    query_match_free(m);
    return -1;
}

void query_match_free(struct query_match *m)
{
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mctx);
    pcre2_jit_stack_free(m->jit_stack);
    m->md = NULL;
    m->mctx = NULL;
    m->jit_stack = NULL;
}

static uint64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void bump(_Atomic uint64_t *counter)
{
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* A regex evaluation that ended in an error rather than match / no match:
 * counted always, logged at most once a minute per thread. */
static void match_failed(struct query_match *m, const struct query_rule *q, int rc, size_t n)
{
    bool limit = rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
                 rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT;
    bump(limit ? &m->limit_hits : &m->errors);
    m->unlogged++;
    uint64_t now = monotonic_ms();
    if (m->last_log_ms != 0 && now - m->last_log_ms < 60000)
        return;
    PCRE2_UCHAR msg[120];
    if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
        snprintf((char *)msg, sizeof msg, "PCRE2 error %d", rc);
    log_warn("query rule \"%s\": regex not evaluated on a %zu-byte statement (%s); counted as no "
             "match (%llu such in this thread since the last report)",
             q->name, n, (const char *)msg, (unsigned long long)m->unlogged);
    m->last_log_ms = now ? now : 1;
    m->unlogged = 0;
}

/* The first matching rule's index or -1. *unstable: some rule could not be
 * evaluated for want of memory, so another try may decide otherwise. */
static int evaluate(const struct query_rules *r, const uint8_t *text, size_t n,
                    struct query_match *m, bool *unstable)
{
    static const uint8_t empty[1];
    if (!text)
        text = empty;
    for (size_t i = 0; r && i < r->n; i++) {
        const struct query_rule *q = &r->v[i];
        if (!q->code) {
            if (q->match_len == n && memcmp(q->match, text, n) == 0)
                return (int)i;
            continue;
        }
        int rc = pcre2_match(q->code, text, n, 0, 0, m->md, m->mctx);
        if (rc >= 0)
            return (int)i;
        if (rc == PCRE2_ERROR_NOMATCH)
            continue;
        *unstable |= rc == PCRE2_ERROR_NOMEMORY;
        match_failed(m, q, rc, n);
    }
    return -1;
}

int query_rules_match(const struct query_rules *r, const uint8_t *text, size_t n,
                      struct query_match *m)
{
    bool unstable = false;
    return evaluate(r, text, n, m, &unstable);
}

/* ---- the memo --------------------------------------------------------- */

struct query_memo_slot {
    uint64_t hash;
    uint8_t *text; /* malloc'd copy, len bytes (a 1-byte block when len is 0) */
    uint32_t len;
    uint32_t next; /* next slot in the bucket's chain + 1; 0: end */
    int32_t rule;  /* the decision */
    uint8_t ref;   /* CLOCK bit: hit since the hand last passed */
};

size_t query_memo_entry_bytes(void)
{
    /* buckets < 2 * cap: at most two heads per slot. */
    return sizeof(struct query_memo_slot) + 2 * sizeof(uint32_t);
}

int query_memo_init(struct query_memo *memo, uint32_t cap)
{
    *memo = (struct query_memo){0};
    if (cap > QUERY_MEMO_MAX_CAP)
        return -1;
    memo->cap = cap;
    size_t got = 0;
    while (got < sizeof memo->key) {
        /* Blocks only until the kernel's pool is first initialised. */
        ssize_t rc = getrandom(memo->key + got, sizeof memo->key - got, 0);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)rc;
    }
    return 0;
}

static void forget(struct query_memo *memo)
{
    for (uint32_t i = 0; i < memo->used; i++)
        free(memo->slot[i].text);
    if (memo->bucket)
        memset(memo->bucket, 0, ((size_t)memo->bucket_mask + 1) * sizeof *memo->bucket);
    memo->used = 0;
    memo->hand = 0;
}

void query_memo_free(struct query_memo *memo)
{
    forget(memo);
    free(memo->slot);
    free(memo->bucket);
    memo->slot = NULL;
    memo->bucket = NULL;
    memo->rules = NULL;
}

/* The arrays, at the first store. */
static int memo_alloc(struct query_memo *memo)
{
    uint32_t nb = 1;
    while (nb < memo->cap)
        nb <<= 1;
    memo->slot = calloc(memo->cap, sizeof *memo->slot);
    memo->bucket = calloc(nb, sizeof *memo->bucket);
    if (!memo->slot || !memo->bucket) {
        free(memo->slot);
        free(memo->bucket);
        memo->slot = NULL;
        memo->bucket = NULL;
        return -1;
    }
    memo->bucket_mask = nb - 1;
    return 0;
}

static void unlink_slot(struct query_memo *memo, uint32_t i)
{
    uint32_t *link = &memo->bucket[memo->slot[i].hash & memo->bucket_mask];
    while (*link != i + 1)
        link = &memo->slot[*link - 1].next;
    *link = memo->slot[i].next;
}

/* A free slot, or the one CLOCK gives up (unlinked, its text freed). */
static uint32_t take_slot(struct query_memo *memo)
{
    if (memo->used < memo->cap)
        return memo->used++;
    while (memo->slot[memo->hand].ref) {
        memo->slot[memo->hand].ref = 0;
        memo->hand = memo->hand + 1 == memo->cap ? 0 : memo->hand + 1;
    }
    uint32_t i = memo->hand;
    memo->hand = memo->hand + 1 == memo->cap ? 0 : memo->hand + 1;
    unlink_slot(memo, i);
    free(memo->slot[i].text);
    memo->slot[i].text = NULL;
    bump(&memo->evictions);
    return i;
}

static int store(struct query_memo *memo, uint64_t h, const uint8_t *text, size_t n, int rule)
{
    if (!memo->slot && memo_alloc(memo) != 0)
        return -1;
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        return -1;
    memcpy(copy, text, n);
    uint32_t i = take_slot(memo);
    uint32_t *head = &memo->bucket[h & memo->bucket_mask];
    memo->slot[i] = (struct query_memo_slot){
        .hash = h, .text = copy, .len = (uint32_t)n, .next = *head, .rule = rule, .ref = 0};
    *head = i + 1;
    return 0;
}

int query_memo_decide(struct query_memo *memo, const struct query_rules *r, const uint8_t *text,
                      size_t n, struct query_match *m)
{
    static const uint8_t empty[1];
    if (!r || r->n == 0)
        return -1;
    if (!text)
        text = empty;
    if (memo->rules != r || memo->gen != r->gen) {
        if (memo->rules)
            bump(&memo->invalidations);
        forget(memo);
        memo->rules = r;
        memo->gen = r->gen;
    }
    if (n > QUERY_MEMO_MAX_TEXT || memo->cap == 0) {
        bump(&memo->misses);
        bump(&memo->not_stored);
        return query_rules_match(r, text, n, m);
    }
    uint64_t h = cache_siphash13(memo->key, text, n);
    if (memo->bucket) {
        for (uint32_t k = memo->bucket[h & memo->bucket_mask]; k; k = memo->slot[k - 1].next) {
            struct query_memo_slot *s = &memo->slot[k - 1];
            if (s->hash == h && s->len == n && memcmp(s->text, text, n) == 0) {
                s->ref = 1;
                bump(&memo->hits);
                return s->rule;
            }
        }
    }
    bump(&memo->misses);
    bool unstable = false;
    int rule = evaluate(r, text, n, m, &unstable);
    if (unstable || store(memo, h, text, n, rule) != 0)
        bump(&memo->not_stored);
    return rule;
}
