/* test_config.c - config validation: defaults, and for each kind of mistake a
 * message naming the file, the key path and the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

/* The smallest valid file; %s is spliced in before the closing brace. */
#define MINIMAL_FMT                                                            \
    "{\"listeners\": [{\"name\": \"app\", \"port\": 6033}],"                   \
    " \"backends\": [{\"name\": \"p\", \"host\": \"127.0.0.1\", \"port\": 3306,"      \
    " \"role\": \"primary\"}, {\"name\": \"r1\", \"host\": \"127.0.0.1\","    \
    " \"port\": 3307, \"role\": \"replica\"}],"                               \
    " \"users\": [{\"name\": \"app\", \"password\": \"pw\"}],"                \
    " \"backend_credentials\": {\"user\": \"app\", \"password\": \"pw\"},"    \
    " \"monitor\": {\"user\": \"mon\", \"password\": \"mpw\"}%s}"

static struct config *parse_with(const char *extra, char *err, size_t errlen)
{
    char json[4096];
    snprintf(json, sizeof json, MINIMAL_FMT, extra);
    return config_parse(json, "t.json", err, errlen);
}

static void test_minimal_defaults(void **state)
{
    (void)state;
    char err[512] = "";
    struct config *cfg = parse_with("", err, sizeof err);
    assert_non_null(cfg);
    assert_int_equal(cfg->n_listeners, 1);
    assert_string_equal(cfg->listeners[0].address, "127.0.0.1");
    assert_int_equal(cfg->listeners[0].consistency, CONSISTENCY_SESSION);
    assert_int_equal(cfg->users[0].consistency, -1); /* the listener's */
    assert_int_equal(cfg->n_backends, 2);
    assert_int_equal(cfg->backends[1].role, BACKEND_ROLE_REPLICA);
    assert_int_equal(cfg->backends[1].weight, 1);
    assert_false(cfg->admin_enabled);
    assert_int_equal(cfg->wait_timeout_ms, 200);
    assert_int_equal(cfg->n_fallback, 1);
    assert_int_equal(cfg->fallback[0], FALLBACK_PRIMARY);
    assert_int_equal(cfg->max_packet_size, 67108864);
    assert_int_equal(cfg->log_level, LOG_INFO);
    assert_true(cfg->topology_follow);
    assert_int_equal(cfg->topology_confirm_ms, 3000);
    assert_int_equal(cfg->max_buffered_bytes, 256u << 20);
    assert_int_equal(cfg->monitor_fall_checks, 3);
    assert_int_equal(cfg->monitor_rise_checks, 2);
    config_free(cfg);
}

/* The hysteresis keys take 1..100, both ends included. */
static void test_monitor_checks(void **state)
{
    (void)state;
    static const struct {
        const char *extra;
        unsigned fall, rise;
    } ok[] = {
        {"\"fall_checks\": 1, \"rise_checks\": 1", 1, 1},
        {"\"fall_checks\": 100, \"rise_checks\": 100", 100, 100},
        {"\"fall_checks\": 5", 5, 2},
        {"\"rise_checks\": 7", 3, 7},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char json[4096], err[512] = "";
        snprintf(json, sizeof json,
                 "{\"listeners\": [{\"name\": \"app\", \"port\": 6033}],"
                 " \"backends\": [{\"name\": \"p\", \"host\": \"127.0.0.1\", \"port\": 3306,"
                 " \"role\": \"primary\"}],"
                 " \"users\": [{\"name\": \"app\", \"password\": \"pw\"}],"
                 " \"backend_credentials\": {\"user\": \"app\", \"password\": \"pw\"},"
                 " \"monitor\": {\"user\": \"mon\", \"password\": \"mpw\", %s}}",
                 ok[i].extra);
        struct config *cfg = config_parse(json, "t.json", err, sizeof err);
        if (!cfg)
            fail_msg("case %zu: %s", i, err);
        assert_int_equal(cfg->monitor_fall_checks, ok[i].fall);
        assert_int_equal(cfg->monitor_rise_checks, ok[i].rise);
        config_free(cfg);
    }
}

static void test_listener_inherits_default_level(void **state)
{
    (void)state;
    char err[512] = "";
    struct config *cfg = parse_with(
        ", \"consistency\": {\"default_level\": \"global\", \"fallback\": [\"cache\", \"error\"]}",
        err, sizeof err);
    assert_non_null(cfg);
    assert_int_equal(cfg->listeners[0].consistency, CONSISTENCY_GLOBAL);
    assert_int_equal(cfg->n_fallback, 2);
    assert_int_equal(cfg->fallback[1], FALLBACK_ERROR);
    config_free(cfg);
}

static void test_user_level(void **state)
{
    (void)state;
    char err[512] = "";
    char json[4096], edited[4096];
    snprintf(json, sizeof json, MINIMAL_FMT, "");
    const char *from = "\"password\": \"pw\"}]";
    char *at = strstr(json, from);
    assert_non_null(at);
    snprintf(edited, sizeof edited, "%.*s\"password\": \"pw\", \"consistency\": \"strong\"}]%s",
             (int)(at - json), json, at + strlen(from));
    struct config *cfg = config_parse(edited, "t.json", err, sizeof err);
    assert_non_null(cfg);
    assert_int_equal(cfg->users[0].consistency, CONSISTENCY_STRONG);
    config_free(cfg);
}

struct bad_case {
    const char *json; /* a whole file */
    const char *extra; /* or: spliced into the minimal file */
    const char *message;
};

static const struct bad_case bad_cases[] = {
    {"{\"listeners\": [", NULL, "t.json: line 1 column 15: "},
    {NULL, ", \"bogus\": 1", "t.json: bogus: unknown key"},
    {NULL, ", \"limits\": {\"max_packet_size\": 12}",
     "t.json: limits.max_packet_size: must be 1024-1073741824, got 12"},
    {NULL, ", \"limits\": {\"max_pakcet_size\": 2048}", "t.json: limits.max_pakcet_size: unknown key"},
    {NULL, ", \"consistency\": {\"default_level\": \"sometimes\"}",
     "t.json: consistency.default_level: must be one of \"eventual\", \"session\", "
     "\"global\", \"strong\", got \"sometimes\""},
    {NULL, ", \"consistency\": {\"fallback\": [\"primary\", \"primary\"]}",
     "t.json: consistency.fallback[1]: \"primary\" appears twice"},
    {NULL, ", \"consistency\": {\"fallback\": []}",
     "t.json: consistency.fallback: must be an array of 1-4 steps, got []"},
    {NULL, ", \"admin\": {\"address\": \"127.0.0.1\"}", "t.json: admin.port: missing (required)"},
    {NULL, ", \"admin\": {\"port\": 6080, \"token\": 5}",
     "t.json: admin.token: must be a non-empty string, got 5"},
    {NULL, ", \"admin\": {\"port\": 6080, \"max_connections\": 0}",
     "t.json: admin.max_connections: must be 1-10000, got 0"},
    {NULL, ", \"logging\": {\"level\": 3}",
     "t.json: logging.level: must be one of \"error\", \"warn\", \"info\", \"debug\", got 3"},
    {NULL, ", \"workers\": -1", "t.json: workers: must be 0-256, got -1"},
    {NULL, ", \"cache\": {\"ttl\": 5}", "t.json: cache.ttl: unknown key"},
    {NULL, ", \"cache\": {\"max_bytes\": 100000}",
     "t.json: cache.max_bytes: must be 0 (no cache) or at least 32 x cache.max_entry_bytes "
     "(33554432), got 100000"},
    {NULL, ", \"cache\": {\"max_entry_bytes\": 10}",
     "t.json: cache.max_entry_bytes: must be 1024-1073741824, got 10"},
    {NULL, ", \"topology\": {\"follow\": \"yes\"}",
     "t.json: topology.follow: must be true or false, got \"yes\""},
    {NULL, ", \"topology\": {\"confirm_ms\": 600001}",
     "t.json: topology.confirm_ms: must be 0-600000, got 600001"},
    {NULL, ", \"topology\": {\"promote\": true}", "t.json: topology.promote: unknown key"},
    {NULL, ", \"limits\": {\"max_buffered_bytes\": -1}",
     "t.json: limits.max_buffered_bytes: must be 0-1099511627776, got -1"},
};

static void test_bad_values_name_key_and_problem(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        char err[512] = "";
        struct config *cfg = bad_cases[i].json
                                 ? config_parse(bad_cases[i].json, "t.json", err, sizeof err)
                                 : parse_with(bad_cases[i].extra, err, sizeof err);
        assert_null(cfg);
        if (strncmp(err, bad_cases[i].message, strlen(bad_cases[i].message)) != 0) {
            fprintf(stderr, "case %zu: got '%s', want '%s'\n", i, err, bad_cases[i].message);
            fail();
        }
    }
}

/* Whole-file cases for the sections the minimal file already holds. */
static void test_bad_backends_and_users(void **state)
{
    (void)state;
    static const struct {
        const char *from, *to, *message;
    } edits[] = {
        {"\"port\": 3307", "\"port\": \"abc\"",
         "t.json: backends[1].port: must be 1-65535, got \"abc\""},
        {"\"port\": 3307", "\"port\": 70000",
         "t.json: backends[1].port: must be 1-65535, got 70000"},
        {"\"role\": \"replica\"", "\"role\": \"primary\"",
         "t.json: backends: must hold exactly one backend with role \"primary\", has 2"},
        {"\"name\": \"r1\"", "\"name\": \"p\"",
         "t.json: backends[1].name: \"p\" is also the name of backends[0]"},
        {"\"role\": \"replica\"", "\"role\": \"slave\"",
         "t.json: backends[1].role: must be one of \"primary\", \"replica\", got \"slave\""},
        {"\"password\": \"pw\"}]", "\"password\": \"pw\", \"password_hash\": \"*00\"}]",
         "t.json: users[0]: needs exactly one of \"password\" or \"password_hash\""},
        {"\"password\": \"pw\"}]", "\"password_hash\": \"*00\"}]",
         "t.json: users[0].password_hash: must be \"*\" followed by 40 hex digits"},
        {"\"listeners\": [{\"name\": \"app\", \"port\": 6033}]", "\"listeners\": []",
         "t.json: listeners: must be a non-empty array, got []"},
        {"\"monitor\": {\"user\": \"mon\", \"password\": \"mpw\"}",
         "\"monitor\": {\"user\": \"mon\"}", "t.json: monitor.password: missing (required)"},
        {"\"password\": \"mpw\"}", "\"password\": \"mpw\", \"fall_checks\": 0}",
         "t.json: monitor.fall_checks: must be 1-100, got 0"},
        {"\"password\": \"mpw\"}", "\"password\": \"mpw\", \"fall_checks\": 101}",
         "t.json: monitor.fall_checks: must be 1-100, got 101"},
        {"\"password\": \"mpw\"}", "\"password\": \"mpw\", \"rise_checks\": 0}",
         "t.json: monitor.rise_checks: must be 1-100, got 0"},
        {"\"password\": \"mpw\"}", "\"password\": \"mpw\", \"rise_checks\": \"2\"}",
         "t.json: monitor.rise_checks: must be 1-100, got \"2\""},
        {"\"password\": \"mpw\"}", "\"password\": \"mpw\", \"rise_checks\": 2.5}",
         "t.json: monitor.rise_checks: must be 1-100, got 2.5"},
        {"\"password\": \"mpw\"}", "\"password\": \"mpw\", \"rise_check\": 2}",
         "t.json: monitor.rise_check: unknown key"},
        {"\"password\": \"pw\"}]", "\"password\": \"pw\", \"consistency\": \"stale\"}]",
         "t.json: users[0].consistency: must be one of \"eventual\", \"session\", \"global\", "
         "\"strong\", got \"stale\""},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char json[4096], edited[4096], err[512] = "";
        snprintf(json, sizeof json, MINIMAL_FMT, "");
        char *at = strstr(json, edits[i].from);
        assert_non_null(at);
        snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - json), json, edits[i].to,
                 at + strlen(edits[i].from));
        struct config *cfg = config_parse(edited, "t.json", err, sizeof err);
        assert_null(cfg);
        if (strncmp(err, edits[i].message, strlen(edits[i].message)) != 0) {
            fprintf(stderr, "edit %zu: got '%s', want '%s'\n", i, err, edits[i].message);
            fail();
        }
    }
}

/* 64 backends load; the 65th is refused (sessions keep a bit per backend). */
static void test_backend_count_limit(void **state)
{
    (void)state;
    for (int n = 64; n <= 65; n++) {
        static char json[16384];
        int len = snprintf(json, sizeof json,
                           "{\"listeners\": [{\"name\": \"app\", \"port\": 6033}], "
                           "\"backends\": [{\"name\": \"p\", \"host\": \"h\", \"port\": 1, "
                           "\"role\": \"primary\"}");
        for (int i = 1; i < n; i++)
            len += snprintf(json + len, sizeof json - (size_t)len,
                            ", {\"name\": \"r%d\", \"host\": \"h\", \"port\": 1, "
                            "\"role\": \"replica\"}",
                            i);
        snprintf(json + len, sizeof json - (size_t)len,
                 "], \"users\": [{\"name\": \"app\", \"password\": \"pw\"}], "
                 "\"backend_credentials\": {\"user\": \"app\", \"password\": \"pw\"}, "
                 "\"monitor\": {\"user\": \"mon\", \"password\": \"mpw\"}}");
        char err[512] = "";
        struct config *cfg = config_parse(json, "t.json", err, sizeof err);
        if (n == 64) {
            assert_non_null(cfg);
            assert_int_equal(cfg->n_backends, 64);
            config_free(cfg);
        } else {
            assert_null(cfg);
            assert_string_equal(err, "t.json: backends: at most 64 backends, has 65");
        }
    }
}

static void test_shipped_example_is_valid(void **state)
{
    (void)state;
    char err[512] = "";
    struct config *cfg = config_load(GTIDPROXY_SOURCE_DIR "/conf/gtidproxy.json", err, sizeof err);
    if (!cfg)
        fprintf(stderr, "%s\n", err);
    assert_non_null(cfg);
    assert_true(cfg->admin_enabled);
    assert_int_equal(cfg->admin_port, 6080);
    assert_null(cfg->admin_token);
    assert_int_equal(cfg->admin_max_connections, 64);
    assert_int_equal(cfg->admin_max_body, 65536);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_monitor_checks),
        cmocka_unit_test(test_listener_inherits_default_level),
        cmocka_unit_test(test_user_level),
        cmocka_unit_test(test_bad_values_name_key_and_problem),
        cmocka_unit_test(test_bad_backends_and_users),
        cmocka_unit_test(test_backend_count_limit),
        cmocka_unit_test(test_shipped_example_is_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
