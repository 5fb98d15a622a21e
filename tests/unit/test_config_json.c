/* test_config_json.c - GET /config's JSON (every key the loader accepts,
 * defaults filled in, secrets redacted, the example file's key order) and the
 * path diff reloads report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "config_json.h"

#define EXAMPLE_FILE GTIDPROXY_SOURCE_DIR "/conf/gtidproxy.json"

/* Every key the loader accepts, none at its default; secrets are marked
 * SECRET so that a leak is one strstr away. */
static const char full_json[] =
    "{\"listeners\": ["
    "  {\"name\": \"app\", \"address\": \"0.0.0.0\", \"port\": 6033, \"consistency\": \"global\"},"
    "  {\"name\": \"ro\", \"address\": \"127.0.0.2\", \"port\": 6034,"
    "   \"consistency\": \"eventual\"}],"
    " \"admin\": {\"address\": \"127.0.0.3\", \"port\": 6081, \"token\": \"tok-SECRET-4\","
    "  \"max_connections\": 7, \"max_body_bytes\": 1000},"
    " \"backends\": ["
    "  {\"name\": \"primary\", \"host\": \"db1.example\", \"port\": 3306, \"role\": \"primary\","
    "   \"weight\": 3},"
    "  {\"name\": \"replica1\", \"host\": \"db2.example\", \"port\": 3307, \"role\": \"replica\","
    "   \"weight\": 5},"
    "  {\"name\": \"replica2\", \"host\": \"db3.example\", \"port\": 3308, \"role\": \"replica\","
    "   \"weight\": 1000}],"
    " \"users\": ["
    "  {\"name\": \"app\", \"password\": \"pw-SECRET-1\", \"consistency\": \"strong\"},"
    "  {\"name\": \"ops\", \"password_hash\": \"*0123456789ABCDEF0123456789ABCDEF01234567\","
    "   \"consistency\": \"eventual\"},"
    "  {\"name\": \"anon\", \"password\": \"\"}],"
    " \"backend_credentials\": {\"user\": \"proxy\", \"password\": \"pw-SECRET-2\"},"
    " \"monitor\": {\"user\": \"mon\", \"password\": \"pw-SECRET-3\", \"interval_ms\": 250,"
    "  \"gtid_poll_interval_ms\": 5, \"fall_checks\": 100, \"rise_checks\": 1},"
    " \"topology\": {\"follow\": false, \"confirm_ms\": 0},"
    " \"consistency\": {\"default_level\": \"strong\", \"wait_timeout_ms\": 1234,"
    "  \"fallback\": [\"replica\", \"cache\", \"error\", \"primary\"], \"max_replica_lag_ms\": 0},"
    " \"workers\": 3,"
    " \"limits\": {\"max_client_connections\": 77, \"max_packet_size\": 2048,"
    "  \"buffer_high_water\": 16384, \"max_buffered_bytes\": 0},"
    " \"timeouts\": {\"connect_ms\": 9, \"login_ms\": 500, \"client_idle_ms\": 0, \"backend_query_ms\": 60000},"
    " \"logging\": {\"level\": \"debug\"},"
    " \"cache\": {\"max_bytes\": 8589934592, \"max_entry_bytes\": 2048, \"ttl_ms\": 0,"
    "  \"max_stale_ms\": 86400000},"
    " \"query_rules\": [{\"name\": \"r1\", \"regex\": \"^SELECT\","
    "  \"cache_ttl_ms\": 5, \"max_stale_ms\": 6, \"consistency\": \"global\","
    "  \"fallback\": [\"cache\", \"error\"], \"route\": \"replica\"}]}";

#define HASH_DIGITS "0123456789ABCDEF0123456789ABCDEF01234567"

/* Only the required keys. */
static const char minimal_json[] =
    "{\"listeners\": [{\"name\": \"app\", \"port\": 6033}],"
    " \"backends\": [{\"name\": \"p\", \"host\": \"h1\", \"port\": 3306, \"role\": \"primary\"},"
    "  {\"name\": \"r1\", \"host\": \"h2\", \"port\": 3307, \"role\": \"replica\"}],"
    " \"users\": [{\"name\": \"app\", \"password\": \"pw\"}],"
    " \"backend_credentials\": {\"user\": \"app\", \"password\": \"pw\"},"
    " \"monitor\": {\"user\": \"mon\", \"password\": \"mpw\"}}";

/* What minimal_json shows: README "Configuration"'s defaults. */
static const char minimal_expected[] =
    "{\"listeners\": [{\"name\": \"app\", \"address\": \"127.0.0.1\", \"port\": 6033,"
    "  \"consistency\": \"session\"}],"
    " \"admin\": null,"
    " \"backends\": [{\"name\": \"p\", \"host\": \"h1\", \"port\": 3306, \"role\": \"primary\","
    "  \"weight\": 1},"
    "  {\"name\": \"r1\", \"host\": \"h2\", \"port\": 3307, \"role\": \"replica\", \"weight\": 1}],"
    " \"users\": [{\"name\": \"app\", \"password\": \"pw\", \"password_hash\": null,"
    "  \"consistency\": null}],"
    " \"backend_credentials\": {\"user\": \"app\", \"password\": \"pw\"},"
    " \"monitor\": {\"user\": \"mon\", \"password\": \"mpw\", \"interval_ms\": 1000,"
    "  \"gtid_poll_interval_ms\": 50, \"fall_checks\": 3, \"rise_checks\": 2},"
    " \"topology\": {\"follow\": true, \"confirm_ms\": 3000},"
    " \"consistency\": {\"default_level\": \"session\", \"wait_timeout_ms\": 200,"
    "  \"fallback\": [\"primary\"], \"max_replica_lag_ms\": 10000},"
    " \"workers\": 0,"
    " \"limits\": {\"max_client_connections\": 10000, \"max_packet_size\": 67108864,"
    "  \"buffer_high_water\": 1048576, \"max_buffered_bytes\": 268435456},"
    " \"timeouts\": {\"connect_ms\": 2000, \"login_ms\": 10000, \"client_idle_ms\": 28800000, \"backend_query_ms\": 0},"
    " \"logging\": {\"level\": \"info\"},"
    " \"cache\": {\"max_bytes\": 67108864, \"max_entry_bytes\": 1048576, \"ttl_ms\": 1000,"
    "  \"max_stale_ms\": 60000},"
    " \"query_rules\": []}";

static struct config *parse(const char *text)
{
    char err[512] = "";
    struct config *cfg = config_parse(text, "t.json", err, sizeof err);
    if (!cfg)
        fprintf(stderr, "%s\n", err);
    assert_non_null(cfg);
    return cfg;
}

static struct config *load_example(void)
{
    char err[512] = "";
    struct config *cfg = config_load(EXAMPLE_FILE, err, sizeof err);
    if (!cfg)
        fprintf(stderr, "%s\n", err);
    assert_non_null(cfg);
    return cfg;
}

static json_t *text_json(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j)
        fprintf(stderr, "line %d: %s\n", jerr.line, jerr.text);
    assert_non_null(j);
    return j;
}

/* Drops null members everywhere: null stands for "absent", which is how the
 * loader wants it. */
static void strip_nulls(json_t *j)
{
    if (json_is_object(j)) {
        const char *key;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(j, tmp, key, v)
        {
            if (json_is_null(v))
                json_object_del(j, key);
            else
                strip_nulls(v);
        }
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            strip_nulls(json_array_get(j, i));
    }
}

static void assert_json_equal(json_t *got, json_t *want)
{
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_INDENT(1) | JSON_ENCODE_ANY);
        char *w = json_dumps(want, JSON_INDENT(1) | JSON_ENCODE_ANY);
        fprintf(stderr, "got:\n%s\nwant:\n%s\n", g, w);
        free(g);
        free(w);
        fail();
    }
}

/* config_to_json(cfg) as text, loaded again, shown again: the same JSON. */
static void assert_round_trip(const struct config *cfg)
{
    json_t *first = config_to_json(cfg, false);
    assert_non_null(first);
    json_t *loadable = json_deep_copy(first);
    strip_nulls(loadable);
    char *text = json_dumps(loadable, JSON_INDENT(2));
    assert_non_null(text);
    struct config *again = parse(text);
    json_t *second = config_to_json(again, false);
    assert_json_equal(second, first);
    json_decref(second);
    config_free(again);
    free(text);
    json_decref(loadable);
    json_decref(first);
}

static void test_round_trip_example(void **state)
{
    (void)state;
    struct config *cfg = load_example();
    assert_round_trip(cfg);
    config_free(cfg);
}

/* Every key the loader accepts comes out with the value it read: the output
 * minus its nulls is the file itself. */
static void test_every_key_emitted(void **state)
{
    (void)state;
    struct config *cfg = parse(full_json);
    json_t *got = config_to_json(cfg, false);
    assert_non_null(got);
    /* Absent optional values are there, as null. */
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(got, "users"), 0), "password_hash")));
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(got, "users"), 1), "password")));
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(got, "users"), 2), "consistency")));
    json_t *want = text_json(full_json);
    strip_nulls(got);
    assert_json_equal(got, want);
    json_decref(want);
    json_decref(got);
    assert_round_trip(cfg);
    config_free(cfg);
}

/* In every object of the file, its keys come out in the file's order
 * (members the file leaves out may sit between them). */
static void assert_same_order(const json_t *file, const json_t *out, const char *path)
{
    if (json_is_array(file)) {
        for (size_t i = 0; i < json_array_size(file); i++)
            assert_same_order(json_array_get(file, i), json_array_get(out, i), path);
        return;
    }
    if (!json_is_object(file))
        return;
    assert_true(json_is_object(out));
    const char *key;
    json_t *v;
    void *it = json_object_iter((json_t *)out);
    json_object_foreach((json_t *)file, key, v)
    {
        while (it && strcmp(json_object_iter_key(it), key) != 0)
            it = json_object_iter_next((json_t *)out, it);
        if (!it)
            fail_msg("%s: key \"%s\" missing or out of the file's order", path, key);
        assert_same_order(v, json_object_iter_value(it), key);
    }
}

static void test_key_order_of_example_file(void **state)
{
    (void)state;
    struct config *cfg = load_example();
    json_t *out = config_to_json(cfg, false);
    /* Through text, as GET /config sends it. */
    char *text = json_dumps(out, JSON_COMPACT);
    json_t *sent = text_json(text);
    json_error_t jerr;
    json_t *file = json_load_file(EXAMPLE_FILE, 0, &jerr);
    assert_non_null(file);
    assert_same_order(file, sent, "");
    /* And the top level is exactly the file's keys, in its order. */
    const char *fk, *ok;
    json_t *v;
    void *it = json_object_iter(sent);
    json_object_foreach(file, fk, v)
    {
        assert_non_null(it);
        ok = json_object_iter_key(it);
        assert_string_equal(ok, fk);
        it = json_object_iter_next(sent, it);
    }
    assert_null(it);
    json_decref(file);
    json_decref(sent);
    free(text);
    json_decref(out);
    config_free(cfg);
}

static const char *at(const json_t *root, const char *section, size_t i, const char *key)
{
    const json_t *o = json_object_get(root, section);
    if (json_is_array(o))
        o = json_array_get(o, i);
    return json_string_value(json_object_get(o, key));
}

static void test_redaction(void **state)
{
    (void)state;
    struct config *cfg = parse(full_json);

    /* Unredacted, the secrets are there (so the searches below can fail). */
    json_t *plain = config_to_json(cfg, false);
    char *plain_text = json_dumps(plain, 0);
    assert_non_null(strstr(plain_text, "pw-SECRET-1"));
    assert_non_null(strstr(plain_text, HASH_DIGITS));
    assert_string_equal(at(plain, "admin", 0, "token"), "tok-SECRET-4");

    json_t *red = config_to_json(cfg, true);
    assert_non_null(red);
    assert_string_equal(at(red, "users", 0, "password"), CONFIG_JSON_REDACTED);
    assert_string_equal(at(red, "users", 1, "password_hash"), CONFIG_JSON_REDACTED);
    assert_string_equal(at(red, "users", 2, "password"), CONFIG_JSON_REDACTED); /* "" too */
    assert_string_equal(at(red, "backend_credentials", 0, "password"), CONFIG_JSON_REDACTED);
    assert_string_equal(at(red, "monitor", 0, "password"), CONFIG_JSON_REDACTED);
    assert_string_equal(at(red, "admin", 0, "token"), CONFIG_JSON_REDACTED);
    /* Absent secrets stay null. */
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(red, "users"), 0), "password_hash")));
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(red, "users"), 1), "password")));
    /* Non-secrets are untouched: only the secrets differ from the plain one. */
    json_t *diff = config_json_diff(plain, red);
    json_t *want = text_json("[\"admin.token\", \"backend_credentials.password\","
                             " \"monitor.password\", \"users[0].password\","
                             " \"users[1].password_hash\", \"users[2].password\"]");
    assert_json_equal(diff, want);

    char *text = json_dumps(red, JSON_INDENT(2));
    assert_non_null(text);
    assert_null(strstr(text, "SECRET"));
    assert_null(strstr(text, HASH_DIGITS));

    json_decref(want);
    json_decref(diff);
    free(text);
    json_decref(red);
    free(plain_text);
    json_decref(plain);
    config_free(cfg);

    /* The example has no token: null, not "<redacted>". */
    cfg = load_example();
    red = config_to_json(cfg, true);
    assert_true(json_is_null(json_object_get(json_object_get(red, "admin"), "token")));
    json_decref(red);
    config_free(cfg);
}

static void test_missing_keys_show_defaults(void **state)
{
    (void)state;
    struct config *cfg = parse(minimal_json);
    json_t *got = config_to_json(cfg, false);
    json_t *want = text_json(minimal_expected);
    assert_json_equal(got, want);
    json_decref(want);
    json_decref(got);
    assert_round_trip(cfg);
    config_free(cfg);

    /* A listener without a level shows the one it inherits. */
    char text[4096];
    snprintf(text, sizeof text, "%.*s, \"consistency\": {\"default_level\": \"global\"}}",
             (int)strlen(minimal_json) - 1, minimal_json);
    cfg = parse(text);
    got = config_to_json(cfg, false);
    assert_string_equal(at(got, "listeners", 0, "consistency"), "global");
    json_decref(got);
    config_free(cfg);
}

/* ---- diff ------------------------------------------------------------- */

/* diff(to_json(a), to_json(b)) == want (a JSON array as text). */
static void assert_config_diff(const struct config *a, const struct config *b, const char *want)
{
    json_t *ja = config_to_json(a, false), *jb = config_to_json(b, false);
    json_t *d = config_json_diff(ja, jb);
    assert_non_null(d);
    json_t *w = text_json(want);
    assert_json_equal(d, w);
    json_decref(w);
    json_decref(d);
    json_decref(jb);
    json_decref(ja);
}

static void replace(char **field, const char *value)
{
    free(*field);
    *field = strdup(value);
    assert_non_null(*field);
}

static void test_diff_identical(void **state)
{
    (void)state;
    struct config *a = load_example(), *b = load_example();
    assert_config_diff(a, b, "[]");
    config_free(b);
    config_free(a);
}

static void test_diff_weight(void **state)
{
    (void)state;
    struct config *a = load_example(), *b = load_example();
    b->backends[1].weight = 7;
    assert_config_diff(a, b, "[\"backends[1].weight\"]");
    config_free(b);
    config_free(a);
}

static void test_diff_password_path_only(void **state)
{
    (void)state;
    struct config *a = load_example(), *b = load_example();
    replace(&b->users[0].password, "new-SECRET-pw");
    assert_config_diff(a, b, "[\"users[0].password\"]");
    /* Values never appear, old or new. */
    json_t *ja = config_to_json(a, false), *jb = config_to_json(b, false);
    json_t *d = config_json_diff(ja, jb);
    char *text = json_dumps(d, 0);
    assert_null(strstr(text, "SECRET"));
    assert_null(strstr(text, "app_pw"));
    free(text);
    json_decref(d);
    json_decref(jb);
    json_decref(ja);
    /* A password swapped for a hash: both paths. */
    free(b->users[0].password);
    b->users[0].password = NULL;
    replace(&b->users[0].password_hash, "*" HASH_DIGITS);
    assert_config_diff(a, b, "[\"users[0].password\", \"users[0].password_hash\"]");
    config_free(b);
    config_free(a);
}

static void test_diff_user_added(void **state)
{
    (void)state;
    struct config *a = load_example(), *b = load_example();
    struct config_user *users = realloc(b->users, (b->n_users + 1) * sizeof *users);
    assert_non_null(users);
    b->users = users;
    b->users[b->n_users] =
        (struct config_user){.name = strdup("ops"), .password = strdup("x"), .consistency = -1};
    b->n_users++;
    assert_config_diff(a, b, "[\"users\"]");
    assert_config_diff(b, a, "[\"users\"]");
    config_free(b);
    config_free(a);
}

static void test_diff_several_sorted(void **state)
{
    (void)state;
    struct config *a = load_example(), *b = load_example();
    b->log_level = LOG_DEBUG;
    b->workers = 4;
    b->backends[2].port = 3310;
    b->backends[0].weight = 2;
    b->wait_timeout_ms = 500;
    b->listeners[0].consistency = CONSISTENCY_STRONG;
    b->fallback[1] = FALLBACK_ERROR;
    b->n_fallback = 2;
    b->users[0].consistency = -1;
    assert_config_diff(a, b,
                       "[\"backends[0].weight\", \"backends[2].port\", \"consistency.fallback\","
                       " \"consistency.wait_timeout_ms\", \"listeners[0].consistency\","
                       " \"logging.level\", \"users[0].consistency\", \"workers\"]");
    config_free(b);
    config_free(a);
}

static void test_diff_admin_added(void **state)
{
    (void)state;
    struct config *a = load_example(), *b = load_example();
    a->admin_enabled = false; /* as if the file had no "admin" */
    assert_config_diff(a, b, "[\"admin\"]");
    assert_config_diff(b, a, "[\"admin\"]");
    /* A token set where there was none: its own path. */
    replace(&b->admin_token, "t");
    a->admin_enabled = true;
    assert_config_diff(a, b, "[\"admin.token\"]");
    config_free(b);
    config_free(a);
}

/* The rules on plain JSON: index order is numeric, types matter, a member on
 * one side only is its path. */
static void test_diff_rules(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b, *want;
    } cases[] = {
        {"{\"x\": 5}", "{\"x\": 5.0}", "[\"x\"]"},
        {"{\"x\": 5}", "{\"x\": \"5\"}", "[\"x\"]"},
        {"{\"x\": true}", "{\"x\": false}", "[\"x\"]"},
        {"{\"x\": null}", "{\"x\": null}", "[]"},
        {"{\"x\": 1.5}", "{\"x\": 1.5}", "[]"},
        {"{\"a\": 1}", "{\"b\": 1}", "[\"a\", \"b\"]"},
        {"{\"z\": {\"q\": [1, {\"k\": 1}]}}", "{\"z\": {\"q\": [1, {\"k\": 2}]}}",
         "[\"z.q[1].k\"]"},
        {"{\"a\": [1, 2]}", "{\"a\": [1, 2, 3]}", "[\"a\"]"},
        {"{\"a\": [0,0,0,0,0,0,0,0,0,0,0,0]}", "{\"a\": [0,0,1,0,0,0,0,0,0,0,0,1]}",
         "[\"a[2]\", \"a[11]\"]"},
        {"{\"ab\": 1, \"a\": {\"x\": 1}, \"a_b\": 1}", "{\"ab\": 2, \"a\": {\"x\": 2}, \"a_b\": 2}",
         "[\"a.x\", \"a_b\", \"ab\"]"},
        {"[1]", "[2]", "[\"[0]\"]"},
        {"1", "2", "[\"\"]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *a = json_loads(cases[i].a, JSON_DECODE_ANY, NULL);
        json_t *b = json_loads(cases[i].b, JSON_DECODE_ANY, NULL);
        assert_non_null(a);
        assert_non_null(b);
        json_t *d = config_json_diff(a, b);
        json_t *w = text_json(cases[i].want);
        if (!json_equal(d, w)) {
            char *got = json_dumps(d, 0);
            fail_msg("case %zu: got %s, want %s", i, got, cases[i].want);
        }
        json_decref(w);
        json_decref(d);
        json_decref(b);
        json_decref(a);
    }
}

/* Out of memory at every jansson allocation in turn: NULL, nothing leaked
 * (the ASan build checks), never a half-built answer. */
static long allocs_left;

static void *failing_malloc(size_t n)
{
    if (allocs_left-- <= 0)
        return NULL;
    return malloc(n);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    struct config *cfg = parse(full_json), *other = parse(minimal_json);
    json_t *want = config_to_json(cfg, true);
    json_t *ja = config_to_json(cfg, false), *jb = config_to_json(other, false);
    json_t *want_diff = config_json_diff(ja, jb);
    bool built = false, diffed = false;
    for (long n = 0; !(built && diffed); n++) {
        assert_true(n < 100000);
        allocs_left = n;
        json_set_alloc_funcs(failing_malloc, free);
        json_t *got = config_to_json(cfg, true);
        json_set_alloc_funcs(malloc, free);
        if (got) {
            assert_json_equal(got, want);
            built = true;
        }
        json_decref(got);

        allocs_left = n;
        json_set_alloc_funcs(failing_malloc, free);
        json_t *d = config_json_diff(ja, jb);
        json_set_alloc_funcs(malloc, free);
        if (d) {
            assert_json_equal(d, want_diff);
            diffed = true;
        }
        json_decref(d);
    }
    json_decref(want_diff);
    json_decref(jb);
    json_decref(ja);
    json_decref(want);
    config_free(other);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_example),
        cmocka_unit_test(test_every_key_emitted),
        cmocka_unit_test(test_key_order_of_example_file),
        cmocka_unit_test(test_redaction),
        cmocka_unit_test(test_missing_keys_show_defaults),
        cmocka_unit_test(test_diff_identical),
        cmocka_unit_test(test_diff_weight),
        cmocka_unit_test(test_diff_password_path_only),
        cmocka_unit_test(test_diff_user_added),
        cmocka_unit_test(test_diff_several_sorted),
        cmocka_unit_test(test_diff_admin_added),
        cmocka_unit_test(test_diff_rules),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
