/* test_query_rules.c - the query rules (proxy/query_rules.c): every load
 * error with its exact message, defaults, the printed rules loading back
 * equal, exact and regex matching, first match wins, statements that are not
 * UTF-8, a catastrophic pattern stopped by the match limit, and the decision
 * memo (same answers as a fresh match, bounded size, CLOCK keeping hit
 * entries, forgetting on a new rule set, long texts not stored). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "query_rules.h"

/* ---- helpers ---- */

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!j)
        fprintf(stderr, "bad test JSON, line %d: %s\n", jerr.line, jerr.text);
    assert_non_null(j);
    return j;
}

/* Loads text; fails the test unless it loads. */
static void load_ok(const char *text, struct query_rules *r)
{
    char err[512] = "";
    json_t *j = parse(text);
    int rc = query_rules_load(j, r, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    json_decref(j);
}

/* Loads text, which must fail with exactly `want`; the set stays empty. */
static void load_fails(const char *text, const char *want)
{
    char err[512] = "";
    struct query_rules r = {(void *)1, 7, 7};
    json_t *j = parse(text);
    assert_int_equal(query_rules_load(j, &r, err, sizeof err), -1);
    assert_string_equal(err, want);
    assert_null(r.v);
    assert_int_equal(r.n, 0);
    json_decref(j);
}

static int match_str(const struct query_rules *r, const char *text, struct query_match *m)
{
    return query_rules_match(r, (const uint8_t *)text, strlen(text), m);
}

static int decide_str(struct query_memo *memo, const struct query_rules *r, const char *text,
                      struct query_match *m)
{
    return query_memo_decide(memo, r, (const uint8_t *)text, strlen(text), m);
}

static bool same_bytes(const char *a, size_t al, const char *b, size_t bl)
{
    if (!a || !b)
        return !a && !b;
    return al == bl && memcmp(a, b, al) == 0;
}

static void assert_rules_equal(const struct query_rules *a, const struct query_rules *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct query_rule *x = &a->v[i], *y = &b->v[i];
        assert_string_equal(x->name, y->name);
        assert_true(same_bytes(x->match, x->match_len, y->match, y->match_len));
        assert_true(same_bytes(x->regex, x->regex_len, y->regex, y->regex_len));
        assert_true(!x->code == !y->code);
        assert_int_equal(x->cache_ttl_ms, y->cache_ttl_ms);
        assert_int_equal(x->max_stale_ms, y->max_stale_ms);
        assert_int_equal(x->consistency, y->consistency);
        assert_int_equal(x->n_fallback, y->n_fallback);
        for (size_t k = 0; k < x->n_fallback; k++)
            assert_int_equal(x->fallback[k], y->fallback[k]);
        assert_int_equal(x->route, y->route);
    }
}

/* ---- loading ---- */

static void test_load_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json, *err;
    } cases[] = {
        {"{\"match\": \"x\"}", "query_rules: must be an array, got {\"match\":\"x\"}"},
        {"\"SELECT 1\"", "query_rules: must be an array, got \"SELECT 1\""},
        {"[5]", "query_rules[0]: must be an object, got 5"},
        {"[{\"match\": \"x\"}, null]", "query_rules[1]: must be an object, got null"},
        {"[{\"match\": \"x\", \"ttl_ms\": 1}]", "query_rules[0].ttl_ms: unknown key"},
        {"[{\"name\": 5, \"match\": \"x\"}]",
         "query_rules[0].name: must be a non-empty string, got 5"},
        {"[{\"name\": \"\", \"match\": \"x\"}]",
         "query_rules[0].name: must be a non-empty string, got \"\""},
        {"[{\"name\": \"a\\u0000b\", \"match\": \"x\"}]",
         "query_rules[0].name: must be a non-empty string, got \"a\\u0000b\""},
        {"[{\"match\": \"x\"}, {\"name\": \"#0\", \"match\": \"y\"}]",
         "query_rules[1].name: names starting with \"#\" are reserved for unnamed rules (this "
         "one's would be \"#1\"), got \"#0\""},
        {"[{\"name\": \"a\", \"match\": \"x\"}, {\"match\": \"y\"}, {\"name\": \"a\", \"regex\": "
         "\"z\"}]",
         "query_rules[2].name: \"a\" is also the name of query_rules[0]"},
        {"[{\"match\": \"x\", \"regex\": \"x\"}]",
         "query_rules[0]: needs exactly one of \"match\" or \"regex\""},
        {"[{\"cache_ttl_ms\": 5}]", "query_rules[0]: needs exactly one of \"match\" or \"regex\""},
        {"[{\"match\": null, \"regex\": null}]",
         "query_rules[0]: needs exactly one of \"match\" or \"regex\""},
        {"[{\"match\": \"\"}]", "query_rules[0].match: must be a non-empty string, got \"\""},
        {"[{\"match\": 1}]", "query_rules[0].match: must be a non-empty string, got 1"},
        {"[{\"regex\": [\"a\"]}]", "query_rules[0].regex: must be a non-empty string, got [\"a\"]"},
        {"[{\"match\": \"x\"}, {\"regex\": \"^SELECT (a FROM\"}]",
         "query_rules[1].regex: does not compile: missing closing parenthesis at offset 15"},
        {"[{\"regex\": \"(*UTF)^SELECT\"}]",
         "query_rules[0].regex: does not compile: using UTF is disabled by the application at "
         "offset 6"},
        {"[{\"regex\": \"a{2,1}\"}]",
         "query_rules[0].regex: does not compile: numbers out of order in {} quantifier at "
         "offset 5"},
        {"[{\"match\": \"x\", \"cache_ttl_ms\": -1}]",
         "query_rules[0].cache_ttl_ms: must be 0-86400000, got -1"},
        {"[{\"match\": \"x\", \"cache_ttl_ms\": 86400001}]",
         "query_rules[0].cache_ttl_ms: must be 0-86400000, got 86400001"},
        {"[{\"match\": \"x\", \"cache_ttl_ms\": \"5\"}]",
         "query_rules[0].cache_ttl_ms: must be 0-86400000, got \"5\""},
        {"[{\"match\": \"x\", \"max_stale_ms\": 1.5}]",
         "query_rules[0].max_stale_ms: must be 0-86400000, got 1.5"},
        {"[{\"match\": \"x\", \"max_stale_ms\": 100000000000}]",
         "query_rules[0].max_stale_ms: must be 0-86400000, got 100000000000"},
        {"[{\"match\": \"x\", \"consistency\": \"weak\"}]",
         "query_rules[0].consistency: must be one of \"eventual\", \"session\", \"global\", "
         "\"strong\", got \"weak\""},
        {"[{\"match\": \"x\", \"consistency\": \"token\"}]",
         "query_rules[0].consistency: must be one of \"eventual\", \"session\", \"global\", "
         "\"strong\", got \"token\""},
        {"[{\"match\": \"x\", \"fallback\": []}]",
         "query_rules[0].fallback: must be an array of 1-4 steps, got []"},
        {"[{\"match\": \"x\", \"fallback\": \"cache\"}]",
         "query_rules[0].fallback: must be an array of 1-4 steps, got \"cache\""},
        {"[{\"match\": \"x\", \"fallback\": [\"cache\", \"primary\", \"error\", \"replica\", "
         "\"cache\"]}]",
         "query_rules[0].fallback: must be an array of 1-4 steps, got "
         "[\"cache\",\"primary\",\"error\",\"replica\",\"cache\"]"},
        {"[{\"match\": \"x\", \"fallback\": [\"cache\", \"stale\"]}]",
         "query_rules[0].fallback[1]: must be one of \"cache\", \"primary\", \"error\", "
         "\"replica\", got \"stale\""},
        {"[{\"match\": \"x\", \"fallback\": [\"cache\", \"primary\", \"cache\"]}]",
         "query_rules[0].fallback[2]: \"cache\" appears twice"},
        {"[{\"match\": \"x\", \"route\": \"any\"}]",
         "query_rules[0].route: must be one of \"primary\", \"replica\", got \"any\""},
        {"[{\"match\": \"x\"}, {\"match\": \"y\", \"route\": 5}]",
         "query_rules[1].route: must be one of \"primary\", \"replica\", got 5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        load_fails(cases[i].json, cases[i].err);
}

static void test_rule_count_limit(void **state)
{
    (void)state;
    json_t *arr = json_array();
    for (int i = 0; i < QUERY_RULES_MAX; i++) {
        char text[32];
        snprintf(text, sizeof text, "SELECT %d", i);
        assert_int_equal(json_array_append_new(arr, json_pack("{s:s}", "match", text)), 0);
    }
    struct query_rules r;
    char err[256] = "";
    assert_int_equal(query_rules_load(arr, &r, err, sizeof err), 0);
    assert_int_equal(r.n, QUERY_RULES_MAX);
    assert_string_equal(r.v[999].name, "#999");
    query_rules_free(&r);

    assert_int_equal(json_array_append_new(arr, json_pack("{s:s}", "match", "x")), 0);
    assert_int_equal(query_rules_load(arr, &r, err, sizeof err), -1);
    assert_string_equal(err, "query_rules: at most 1000 rules, has 1001");
    json_decref(arr);
}

static void test_defaults_and_values(void **state)
{
    (void)state;
    struct query_rules r;
    char err[256] = "";

    /* No rules: absent, null, or an empty array. */
    assert_int_equal(query_rules_load(NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.n, 0);
    assert_null(r.v);
    json_t *null = json_null();
    assert_int_equal(query_rules_load(null, &r, err, sizeof err), 0);
    assert_int_equal(r.n, 0);
    json_decref(null);
    load_ok("[]", &r);
    assert_int_equal(r.n, 0);
    query_rules_free(&r);

    load_ok("[{\"match\": \"SELECT 1\"},"
            " {\"name\": \"catalog\", \"regex\": \"^SELECT .* FROM products\\\\b\","
            "  \"cache_ttl_ms\": 86400000, \"max_stale_ms\": 60000, \"consistency\": \"eventual\","
            "  \"fallback\": [\"cache\", \"primary\"], \"route\": \"replica\"},"
            " {\"name\": \"#2\", \"match\": \"SELECT 2\", \"max_stale_ms\": 1,"
            "  \"route\": \"primary\", \"consistency\": \"strong\"},"
            " {\"name\": null, \"match\": \"SELECT 3\", \"regex\": null, \"cache_ttl_ms\": null,"
            "  \"max_stale_ms\": null, \"consistency\": null, \"fallback\": null,"
            "  \"route\": null}]",
            &r);
    assert_int_equal(r.n, 4);
    assert_true(r.gen != 0);

    const struct query_rule *q = &r.v[0];
    assert_string_equal(q->name, "#0");
    assert_string_equal(q->match, "SELECT 1");
    assert_int_equal(q->match_len, 8);
    assert_null(q->regex);
    assert_null(q->code);
    assert_int_equal(q->cache_ttl_ms, 0);
    assert_int_equal(q->max_stale_ms, 0);
    assert_int_equal(q->consistency, -1);
    assert_int_equal(q->n_fallback, 0);
    assert_int_equal(q->route, QUERY_ROUTE_ANY);
    assert_false(query_rule_stores(q));

    q = &r.v[1];
    assert_string_equal(q->name, "catalog");
    assert_null(q->match);
    assert_string_equal(q->regex, "^SELECT .* FROM products\\b");
    assert_non_null(q->code);
    assert_int_equal(q->cache_ttl_ms, 86400000);
    assert_int_equal(q->max_stale_ms, 60000);
    assert_int_equal(q->consistency, CONSISTENCY_EVENTUAL);
    assert_int_equal(q->n_fallback, 2);
    assert_int_equal(q->fallback[0], FALLBACK_CACHE);
    assert_int_equal(q->fallback[1], FALLBACK_PRIMARY);
    assert_int_equal(q->route, QUERY_ROUTE_REPLICA);
    assert_true(query_rule_stores(q));

    q = &r.v[2]; /* its own default name, given explicitly, is accepted */
    assert_string_equal(q->name, "#2");
    assert_int_equal(q->consistency, CONSISTENCY_STRONG);
    assert_int_equal(q->route, QUERY_ROUTE_PRIMARY);
    assert_true(query_rule_stores(q)); /* max_stale_ms alone is enough */

    q = &r.v[3]; /* every null reads as unset */
    assert_string_equal(q->name, "#3");
    assert_string_equal(q->match, "SELECT 3");
    assert_int_equal(q->cache_ttl_ms, 0);
    assert_int_equal(q->consistency, -1);
    assert_int_equal(q->n_fallback, 0);
    assert_int_equal(q->route, QUERY_ROUTE_ANY);

    assert_string_equal(query_route_name(QUERY_ROUTE_ANY), "any");
    assert_string_equal(query_route_name(QUERY_ROUTE_REPLICA), "replica");

    /* Each load gets its own generation. */
    struct query_rules r2;
    load_ok("[{\"match\": \"SELECT 1\"}]", &r2);
    assert_true(r2.gen != r.gen);
    query_rules_free(&r2);
    query_rules_free(&r);
    assert_null(r.v);
    assert_int_equal(r.n, 0);
    query_rules_free(&r); /* twice is harmless */
}

static void test_json_round_trip(void **state)
{
    (void)state;
    struct query_rules a, b;
    load_ok("[{\"name\": \"order-counts\", \"match\": \"SELECT COUNT(*) FROM orders\","
            "  \"cache_ttl_ms\": 5000, \"max_stale_ms\": 60000},"
            " {\"name\": \"catalog\", \"regex\": \"(?i)^SELECT .* FROM products\\\\b\","
            "  \"consistency\": \"eventual\", \"fallback\": [\"cache\", \"primary\"],"
            "  \"route\": \"replica\"},"
            " {\"match\": \"SELECT 'a\\u0000b'\", \"fallback\": [\"replica\", \"cache\", \"error\","
            "  \"primary\"], \"consistency\": \"global\", \"route\": \"primary\"},"
            " {\"regex\": \"caf\\u00e9\\u0000\"}]",
            &a);
    assert_int_equal(a.v[2].match_len, strlen("SELECT 'a") + 1 + strlen("b'"));

    json_t *out = query_rules_json(&a);
    assert_non_null(out);
    assert_int_equal(json_array_size(out), 4);

    /* Every key on every rule, unset ones null, in the documented order. */
    static const char *const keys[] = {"name",         "match",       "regex",    "cache_ttl_ms",
                                       "max_stale_ms", "consistency", "fallback", "route"};
    for (size_t i = 0; i < 4; i++) {
        json_t *o = json_array_get(out, i);
        size_t k = 0;
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v)
        {
            assert_true(k < 8);
            assert_string_equal(key, keys[k]);
            k++;
        }
        assert_int_equal(k, 8);
    }
    json_t *first = json_array_get(out, 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "order-counts");
    assert_true(json_is_null(json_object_get(first, "regex")));
    assert_true(json_is_null(json_object_get(first, "consistency")));
    assert_true(json_is_null(json_object_get(first, "fallback")));
    assert_true(json_is_null(json_object_get(first, "route")));
    assert_int_equal(json_integer_value(json_object_get(first, "cache_ttl_ms")), 5000);
    json_t *fourth = json_array_get(out, 3);
    assert_string_equal(json_string_value(json_object_get(fourth, "name")), "#3");
    assert_int_equal(json_integer_value(json_object_get(fourth, "max_stale_ms")), 0);

    /* Through text, as GET /config sends it, and back. */
    char *text = json_dumps(out, JSON_COMPACT);
    assert_non_null(text);
    load_ok(text, &b);
    assert_rules_equal(&a, &b);
    json_t *again = query_rules_json(&b);
    assert_true(json_equal(out, again));

    /* The regex still works after the trip (NUL and all). */
    struct query_match m;
    assert_int_equal(query_match_init(&m), 0);
    const uint8_t cafe[] = {'c', 'a', 'f', 0xc3, 0xa9, 0};
    assert_int_equal(query_rules_match(&b, cafe, sizeof cafe, &m), 3);
    assert_int_equal(query_rules_match(&b, cafe, sizeof cafe - 1, &m), -1);
    query_match_free(&m);

    /* No rules print as an empty array. */
    struct query_rules none = {0};
    json_t *empty = query_rules_json(&none);
    assert_true(json_is_array(empty) && json_array_size(empty) == 0);

    json_decref(empty);
    json_decref(again);
    free(text);
    json_decref(out);
    query_rules_free(&a);
    query_rules_free(&b);
}

/* ---- matching ---- */

static void test_exact_and_regex(void **state)
{
    (void)state;
    struct query_rules r;
    struct query_match m;
    assert_int_equal(query_match_init(&m), 0);
    load_ok("[{\"match\": \"SELECT COUNT(*) FROM orders\"},"
            " {\"regex\": \"FROM products\\\\b\"},"
            " {\"regex\": \"(?i)^select \\\\d+$\"},"
            " {\"regex\": \"^$\"}]",
            &r);

    /* Exact: byte for byte, the whole text. */
    assert_int_equal(match_str(&r, "SELECT COUNT(*) FROM orders", &m), 0);
    assert_int_equal(match_str(&r, "SELECT COUNT(*) FROM orders ", &m), -1);
    assert_int_equal(match_str(&r, "select count(*) from orders", &m), -1);
    assert_int_equal(match_str(&r, "SELECT COUNT(*) FROM order", &m), -1);
    /* Regex: unanchored unless anchored; case as the pattern says. */
    assert_int_equal(match_str(&r, "SELECT name FROM products WHERE id = 1", &m), 1);
    assert_int_equal(match_str(&r, "SELECT name FROM products_old", &m), -1);
    assert_int_equal(match_str(&r, "select name from products", &m), -1);
    assert_int_equal(match_str(&r, "SeLeCt 42", &m), 2);
    assert_int_equal(match_str(&r, "SELECT 42 ", &m), -1);
    assert_int_equal(match_str(&r, "  SELECT 42", &m), -1);
    /* The empty statement, also as a NULL pointer. */
    assert_int_equal(match_str(&r, "", &m), 3);
    assert_int_equal(query_rules_match(&r, NULL, 0, &m), 3);
    assert_int_equal(m.limit_hits, 0);
    assert_int_equal(m.errors, 0);

    query_rules_free(&r);
    query_match_free(&m);
}

static void test_first_match_wins(void **state)
{
    (void)state;
    struct query_rules r;
    struct query_match m;
    assert_int_equal(query_match_init(&m), 0);
    load_ok("[{\"regex\": \"^UPDATE\"}, {\"match\": \"SELECT 1\"}, {\"regex\": \"^SELECT\"},"
            " {\"match\": \"SELECT 2\"}]",
            &r);
    assert_int_equal(match_str(&r, "SELECT 1", &m), 1);
    assert_int_equal(match_str(&r, "SELECT 2", &m), 2); /* never 3: rule 2 is first */
    assert_int_equal(match_str(&r, "UPDATE t SET a = 1", &m), 0);
    assert_int_equal(match_str(&r, "DELETE FROM t", &m), -1);
    query_rules_free(&r);
    query_match_free(&m);
}

static void test_invalid_utf8_statement(void **state)
{
    (void)state;
    struct query_rules r;
    struct query_match m;
    assert_int_equal(query_match_init(&m), 0);
    load_ok("[{\"regex\": \"^SELECT .* FROM products\\\\b\"}, {\"regex\": \"FROM products\\\\b\"},"
            " {\"regex\": \"caf\\u00e9\"}]",
            &r);
    /* Latin-1 literals (0xE9), a lone continuation byte, a truncated
     * sequence at the very end: none is an error. */
    const char *latin1 = "SELECT '\xe9t\xe9' FROM products WHERE x = '\x80' AND y = '\xc3";
    /* Byte mode: '.' crosses any byte, so the first pattern matches. */
    assert_int_equal(match_str(&r, latin1, &m), 0);
    assert_int_equal(match_str(&r, "SELECT a FROM products WHERE b = '\xff\xfe'", &m), 0);
    /* A non-ASCII pattern character matches its UTF-8 bytes only. */
    assert_int_equal(match_str(&r, "SELECT 'caf\xe9'", &m), -1);
    assert_int_equal(match_str(&r, "SELECT 'caf\xc3\xa9'", &m), 2);
    assert_int_equal(m.errors, 0);
    assert_int_equal(m.limit_hits, 0);
    query_rules_free(&r);
    query_match_free(&m);
}

static void test_catastrophic_pattern_is_bounded(void **state)
{
    (void)state;
    struct query_rules r;
    struct query_match m;
    assert_int_equal(query_match_init(&m), 0);
    load_ok("[{\"name\": \"evil\", \"regex\": \"^(a+)+$\"}, {\"regex\": \"b$\"}]", &r);
    char text[40];
    memset(text, 'a', 30);
    memcpy(text + 30, "b", 2);
    /* 2^30 ways to split the a's: only the limit ends it. The next rule is
     * still tried. */
    assert_int_equal(match_str(&r, text, &m), 1);
    assert_int_equal(m.limit_hits, 1);
    assert_int_equal(m.errors, 0);
    text[30] = 'c';
    assert_int_equal(match_str(&r, text, &m), -1);
    assert_int_equal(m.limit_hits, 2);
    /* Logged once (the first); the second waits for the next minute. */
    assert_int_equal(m.unlogged, 1);
    /* 2^20 splits: PCRE2's default limit (10 million) would let it run to
     * the end; ours stops it. */
    memset(text, 'a', 20);
    memcpy(text + 20, "c", 2);
    assert_int_equal(match_str(&r, text, &m), -1);
    assert_int_equal(m.limit_hits, 3);
    memset(text, 'a', 30);
    memcpy(text + 30, "c", 2);
    /* The same pattern on text it can decide quickly matches normally. */
    assert_int_equal(match_str(&r, "aaaa", &m), 0);
    assert_int_equal(m.limit_hits, 3);

    /* Through the memo: counted once, then remembered as no match. */
    struct query_memo memo;
    assert_int_equal(query_memo_init(&memo, 16), 0);
    assert_int_equal(decide_str(&memo, &r, text, &m), -1);
    assert_int_equal(m.limit_hits, 4);
    assert_int_equal(decide_str(&memo, &r, text, &m), -1);
    assert_int_equal(m.limit_hits, 4);
    assert_int_equal(memo.hits, 1);
    query_memo_free(&memo);
    query_rules_free(&r);
    query_match_free(&m);
}

/* Every kind of limit counts as no match for that rule, and the next rule
 * is still tried: the interpreter's match and depth limits ((*NO_JIT) keeps
 * a pattern off the JIT) and the JIT's stack. */
static void test_every_limit_is_no_match(void **state)
{
    (void)state;
    struct query_rules r;
    struct query_match m;
    assert_int_equal(query_match_init(&m), 0);
    load_ok("[{\"regex\": \"(*NO_JIT)^(a+)+$\"}, {\"regex\": \"(*NO_JIT)^(?:a|b)*$\"},"
            " {\"regex\": \"^(?:[^'c]|'[^']*')*$\"}, {\"regex\": \"^a\"}]",
            &r);
    char small[40];
    memset(small, 'a', 30);
    memcpy(small + 30, "c", 2);
    assert_int_equal(match_str(&r, small, &m), 3); /* rule 0: match limit */
    assert_int_equal(m.limit_hits, 1);

    /* 100000 characters: rule 0 hits the match limit again; the interpreter
     * nests a frame per repetition of rule 1's group (depth limit), the JIT a
     * stack frame per repetition of rule 2's (its stack; a PCRE2 without JIT
     * hits the depth limit there instead). */
    size_t n = 100000;
    char *big = malloc(n + 1); /* a...ac: no rule but the last can match */
    assert_non_null(big);
    memset(big, 'a', n - 1);
    memcpy(big + n - 1, "c", 2);
    assert_int_equal(match_str(&r, big, &m), 3);
    assert_int_equal(m.limit_hits, 4);
    assert_int_equal(m.errors, 0);
    free(big);
    query_rules_free(&r);
    query_match_free(&m);
}

/* ---- the memo ---- */

static void test_memo_hits_equal_fresh_matches(void **state)
{
    (void)state;
    struct query_rules r;
    struct query_match m;
    struct query_memo memo;
    assert_int_equal(query_match_init(&m), 0);
    assert_int_equal(query_memo_init(&memo, 64), 0);
    load_ok("[{\"match\": \"SELECT 1\"}, {\"regex\": \"^SELECT .* FROM products\\\\b\"},"
            " {\"regex\": \"orders\"}]",
            &r);
    static const char *const texts[] = {"SELECT 1",
                                        "SELECT 2",
                                        "SELECT a FROM products",
                                        "SELECT * FROM orders",
                                        "UPDATE orders SET x = 1",
                                        "",
                                        "SELECT 1 ",
                                        "SELECT a FROM productsx",
                                        "SELECT \xff FROM products"};
    size_t nt = sizeof texts / sizeof texts[0];
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < nt; i++) {
            int fresh = match_str(&r, texts[i], &m);
            assert_int_equal(decide_str(&memo, &r, texts[i], &m), fresh);
        }
    }
    assert_int_equal(memo.misses, nt);
    assert_int_equal(memo.hits, 2 * nt);
    assert_int_equal(memo.not_stored, 0);
    assert_int_equal(query_memo_size(&memo), nt);
    /* A text that is a prefix of a remembered one is its own entry. */
    assert_int_equal(query_memo_decide(&memo, &r, (const uint8_t *)"SELECT 1", 7, &m), -1);
    assert_true(query_memo_entry_bytes() >= 32);
    query_memo_free(&memo);
    query_rules_free(&r);
    query_match_free(&m);
}

static void test_memo_eviction_keeps_cap(void **state)
{
    (void)state;
    struct query_rules r;
    struct query_match m;
    struct query_memo memo;
    assert_int_equal(query_match_init(&m), 0);
    assert_int_equal(query_memo_init(&memo, 8), 0);
    load_ok("[{\"regex\": \"id = [0-9]*7$\"}]", &r);
    for (unsigned i = 0; i < 1000; i++) {
        char text[64];
        snprintf(text, sizeof text, "SELECT * FROM t WHERE id = %u", i);
        assert_int_equal(decide_str(&memo, &r, text, &m), i % 10 == 7 ? 0 : -1);
        assert_true(query_memo_size(&memo) <= 8);
    }
    assert_int_equal(query_memo_size(&memo), 8);
    assert_int_equal(memo.evictions, 1000 - 8);
    /* With no hits, CLOCK gives up the oldest: the last 8 are there. */
    for (unsigned i = 992; i < 1000; i++) {
        char text[64];
        snprintf(text, sizeof text, "SELECT * FROM t WHERE id = %u", i);
        assert_int_equal(decide_str(&memo, &r, text, &m), i % 10 == 7 ? 0 : -1);
    }
    assert_int_equal(memo.hits, 8);
    /* An evicted text is decided again, and still right. */
    assert_int_equal(decide_str(&memo, &r, "SELECT * FROM t WHERE id = 17", &m), 0);
    assert_int_equal(memo.hits, 8);
    assert_int_equal(query_memo_size(&memo), 8);
    query_memo_free(&memo);
    query_rules_free(&r);
    query_match_free(&m);
}

static void test_memo_clock_spares_hit_entries(void **state)
{
    (void)state;
    struct query_rules r;
    struct query_match m;
    struct query_memo memo;
    assert_int_equal(query_match_init(&m), 0);
    assert_int_equal(query_memo_init(&memo, 4), 0);
    load_ok("[{\"match\": \"hot\"}]", &r);
    decide_str(&memo, &r, "hot", &m);
    decide_str(&memo, &r, "b", &m);
    decide_str(&memo, &r, "c", &m);
    decide_str(&memo, &r, "d", &m);
    assert_int_equal(decide_str(&memo, &r, "hot", &m), 0); /* hit: its bit is set */
    assert_int_equal(memo.hits, 1);
    /* Full: a new text evicts "b" (the hand passes "hot", clearing its bit). */
    decide_str(&memo, &r, "e", &m);
    assert_int_equal(memo.evictions, 1);
    assert_int_equal(decide_str(&memo, &r, "hot", &m), 0);
    assert_int_equal(memo.hits, 2);
    uint64_t misses = memo.misses;
    decide_str(&memo, &r, "b", &m); /* gone: evaluated again */
    assert_int_equal(memo.misses, misses + 1);
    query_memo_free(&memo);
    query_rules_free(&r);
    query_match_free(&m);
}

static void test_memo_forgets_on_new_rules(void **state)
{
    (void)state;
    struct query_rules r1, r2;
    struct query_match m;
    struct query_memo memo;
    assert_int_equal(query_match_init(&m), 0);
    assert_int_equal(query_memo_init(&memo, 16), 0);
    load_ok("[{\"match\": \"SELECT 1\"}]", &r1);
    load_ok("[{\"match\": \"SELECT 2\"}, {\"match\": \"SELECT 1\"}]", &r2);

    assert_int_equal(decide_str(&memo, &r1, "SELECT 1", &m), 0);
    assert_int_equal(decide_str(&memo, &r1, "SELECT 2", &m), -1);
    assert_int_equal(query_memo_size(&memo), 2);
    /* Another set: everything forgotten, decided afresh. */
    assert_int_equal(decide_str(&memo, &r2, "SELECT 1", &m), 1);
    assert_int_equal(memo.invalidations, 1);
    assert_int_equal(query_memo_size(&memo), 1);
    assert_int_equal(decide_str(&memo, &r2, "SELECT 2", &m), 0);
    assert_int_equal(memo.hits, 0);

    /* A reload that lands at the same address (here: the same variable):
     * told apart by the generation. */
    query_rules_free(&r2);
    load_ok("[{\"match\": \"SELECT 1\"}]", &r2);
    assert_int_equal(decide_str(&memo, &r2, "SELECT 2", &m), -1);
    assert_int_equal(decide_str(&memo, &r2, "SELECT 1", &m), 0);
    assert_int_equal(memo.invalidations, 2);
    assert_int_equal(memo.hits, 0);
    assert_int_equal(decide_str(&memo, &r2, "SELECT 1", &m), 0);
    assert_int_equal(memo.hits, 1);

    query_memo_free(&memo);
    query_rules_free(&r1);
    query_rules_free(&r2);
    query_match_free(&m);
}

static void test_memo_long_texts_not_stored(void **state)
{
    (void)state;
    struct query_rules r;
    struct query_match m;
    struct query_memo memo;
    assert_int_equal(query_match_init(&m), 0);
    assert_int_equal(query_memo_init(&memo, 16), 0);
    load_ok("[{\"regex\": \"^SELECT\"}]", &r);
    size_t n = QUERY_MEMO_MAX_TEXT + 1;
    uint8_t *text = malloc(n);
    assert_non_null(text);
    memcpy(text, "SELECT ", 7);
    memset(text + 7, 'x', n - 7);

    assert_int_equal(query_memo_decide(&memo, &r, text, n, &m), 0);
    assert_int_equal(query_memo_decide(&memo, &r, text, n, &m), 0);
    assert_int_equal(query_memo_size(&memo), 0);
    assert_int_equal(memo.not_stored, 2);
    assert_int_equal(memo.hits, 0);
    /* The longest text kept. */
    assert_int_equal(query_memo_decide(&memo, &r, text, n - 1, &m), 0);
    assert_int_equal(query_memo_decide(&memo, &r, text, n - 1, &m), 0);
    assert_int_equal(query_memo_size(&memo), 1);
    assert_int_equal(memo.hits, 1);
    free(text);
    query_memo_free(&memo);
    query_rules_free(&r);
    query_match_free(&m);
}

static void test_memo_without_rules_or_cap(void **state)
{
    (void)state;
    struct query_rules none = {0}, r;
    struct query_match m;
    struct query_memo memo;
    assert_int_equal(query_match_init(&m), 0);
    assert_int_equal(query_memo_init(&memo, 16), 0);
    assert_int_equal(decide_str(&memo, &none, "SELECT 1", &m), -1);
    assert_int_equal(query_memo_decide(&memo, NULL, (const uint8_t *)"x", 1, &m), -1);
    /* Nothing allocated, nothing counted, no set remembered. */
    assert_null(memo.slot);
    assert_null(memo.bucket);
    assert_null(memo.rules);
    assert_int_equal(memo.hits + memo.misses, 0);
    query_memo_free(&memo);

    /* cap 0: answers, remembers nothing. */
    load_ok("[{\"match\": \"SELECT 1\"}]", &r);
    assert_int_equal(query_memo_init(&memo, 0), 0);
    assert_int_equal(decide_str(&memo, &r, "SELECT 1", &m), 0);
    assert_int_equal(decide_str(&memo, &r, "SELECT 1", &m), 0);
    assert_int_equal(memo.hits, 0);
    assert_int_equal(memo.not_stored, 2);
    assert_null(memo.slot);
    query_memo_free(&memo);
    /* Too large a cap is refused. */
    assert_int_equal(query_memo_init(&memo, QUERY_MEMO_MAX_CAP + 1), -1);
    query_rules_free(&r);
    query_match_free(&m);
}

/* The rules in the shipped example load and say what README says. */
static void test_shipped_example_rules(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *file = json_load_file(GTIDPROXY_SOURCE_DIR "/conf/gtidproxy.json", 0, &jerr);
    assert_non_null(file);
    struct query_rules r;
    char err[256] = "";
    int rc = query_rules_load(json_object_get(file, "query_rules"), &r, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(r.n, 2);
    struct query_match m;
    assert_int_equal(query_match_init(&m), 0);
    assert_int_equal(match_str(&r, "SELECT COUNT(*) FROM orders", &m), 0);
    assert_int_equal(match_str(&r, "SELECT id, name FROM products WHERE id = 7", &m), 1);
    assert_int_equal(match_str(&r, "UPDATE products SET name = 'x'", &m), -1);
    query_match_free(&m);
    query_rules_free(&r);
    json_decref(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_rule_count_limit),
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_exact_and_regex),
        cmocka_unit_test(test_first_match_wins),
        cmocka_unit_test(test_invalid_utf8_statement),
        cmocka_unit_test(test_catastrophic_pattern_is_bounded),
        cmocka_unit_test(test_every_limit_is_no_match),
        cmocka_unit_test(test_memo_hits_equal_fresh_matches),
        cmocka_unit_test(test_memo_eviction_keeps_cap),
        cmocka_unit_test(test_memo_clock_spares_hit_entries),
        cmocka_unit_test(test_memo_forgets_on_new_rules),
        cmocka_unit_test(test_memo_long_texts_not_stored),
        cmocka_unit_test(test_memo_without_rules_or_cap),
        cmocka_unit_test(test_shipped_example_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
