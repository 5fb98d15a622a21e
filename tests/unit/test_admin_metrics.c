/* test_admin_metrics.c - GET /metrics (admin_metrics.c): the Prometheus
 * text rendered from hand-made view JSON, line by line for the families
 * that carry labels, escaping and the histogram, and the whole output
 * checked by `promtool check metrics` (Debian package prometheus; the test
 * fails when promtool is missing: CI must run it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "admin_metrics.h"

static const char status_json[] =
    "{\"version\": \"0.1.0\", \"started_at\": \"2026-11-27T10:00:00.123Z\", \"uptime_ms\": 12345,"
    " \"workers\": 2, \"draining\": false, \"flavor\": \"mariadb\","
    " \"clients\": {\"current\": 3, \"total\": 10, \"rejected\": 1},"
    " \"queries\": {\"primary\": 15, \"replica\": 20, \"proxy\": 1},"
    " \"client_bytes\": {\"in\": 100, \"out\": 2000}, \"writes_gtid\": \"0-1-42\","
    " \"config\": {\"file\": \"/etc/gtidproxy.json\", \"loaded_at\": \"2026-11-27T10:00:00.123Z\","
    "  \"reloads\": 2, \"reload_failures\": 1}}";

/* A primary (no lag), a replica with a quote and a backslash in its name,
 * lagging, and a replica down whose lag and age are unknown. */
static const char backends_json[] =
    "{\"backends\": ["
    " {\"name\": \"primary\", \"role\": \"primary\", \"state\": \"up\","
    "  \"lag\": {\"seconds\": null, \"transactions\": null}, \"known_age_ms\": 250,"
    "  \"connections\": {\"open\": 2, \"opened\": 5, \"connect_failures\": 0},"
    "  \"commands\": 70, \"reads\": 3,"
    "  \"waits\": {\"count\": 0, \"timeouts\": 0, \"total_ms\": 0.0, \"avg_ms\": null},"
    "  \"checks\": {\"count\": 40, \"failures\": 0, \"last_ok_age_ms\": 300}},"
    " {\"name\": \"re\\\"pl\\\\ica\", \"role\": \"replica\", \"state\": \"lagging\","
    "  \"lag\": {\"seconds\": 1.5, \"transactions\": 8}, \"known_age_ms\": 12,"
    "  \"connections\": {\"open\": 3, \"opened\": 10, \"connect_failures\": 1},"
    "  \"commands\": 100, \"reads\": 50,"
    "  \"waits\": {\"count\": 4, \"timeouts\": 1, \"total_ms\": 12.5, \"avg_ms\": 3.125},"
    "  \"checks\": {\"count\": 41, \"failures\": 2, \"last_ok_age_ms\": 100}},"
    " {\"name\": \"replica2\", \"role\": \"replica\", \"state\": \"down\","
    "  \"lag\": {\"seconds\": null, \"transactions\": null}, \"known_age_ms\": null,"
    "  \"connections\": {\"open\": 0, \"opened\": 0, \"connect_failures\": 7},"
    "  \"commands\": 0, \"reads\": 0,"
    "  \"waits\": {\"count\": 0, \"timeouts\": 0, \"total_ms\": 0.0, \"avg_ms\": null},"
    "  \"checks\": {\"count\": 9, \"failures\": 9, \"last_ok_age_ms\": null}}]}";

#define LEVEL(r, d, w)                                                                             \
    "{\"reads\": " #r ", \"direct\": " #d ", \"waited\": " #w ", \"fallback_primary\": 0,"         \
    " \"fallback_cache\": 0, \"fallback_error\": 0, \"fallback_stale\": 0}"

/* clang-format off */
static const char consistency_json[] =
    "{\"levels\": {\"eventual\": " LEVEL(0, 0, 0) ", \"session\": " LEVEL(7, 5, 2) ","
    "  \"global\": " LEVEL(0, 0, 0) ", \"strong\": " LEVEL(0, 0, 0) ","
    "  \"token\": " LEVEL(0, 0, 0) "},"
    " \"outcomes\": {\"direct\": 5, \"waited\": 2, \"fallback_primary\": 0,"
    "  \"fallback_cache\": 0, \"fallback_error\": 0, \"fallback_stale\": 0},"
    " \"reads\": 7,"
    " \"waits\": {\"count\": 3, \"reached\": 2, \"timeouts\": 1, \"total_ms\": 10002.4,"
    "  \"avg_ms\": 3334.1333333333332, \"histogram\": ["
    "  {\"le_ms\": 1.0, \"count\": 1}, {\"le_ms\": 2.0, \"count\": 1},"
    "  {\"le_ms\": 5.0, \"count\": 0}, {\"le_ms\": 5000.0, \"count\": 0},"
    "  {\"le_ms\": null, \"count\": 1}]}}";
/* clang-format on */

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("test JSON, line %d col %d: %s", e.line, e.column, e.text);
    return j;
}

static char *render_fixture(size_t *len)
{
    json_t *s = parse(status_json), *b = parse(backends_json), *c = parse(consistency_json);
    char *text = admin_metrics_render(s, b, c, len);
    json_decref(s);
    json_decref(b);
    json_decref(c);
    assert_non_null(text);
    assert_int_equal(strlen(text), *len);
    return text;
}

/* The whole line `line` is in text. */
static void want_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return;
    fail_msg("line not found: %s\n--- output:\n%s", line, text);
}

/* No line starts with prefix. */
static void want_no_line_starting(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
        if (strncmp(p, prefix, n) == 0)
            fail_msg("unexpected line: %.*s", (int)(strchr(p, '\n') - p), p);
        if (!strchr(p, '\n'))
            break;
    }
}

/* Runs promtool check metrics on text; its exit status (0: valid). */
static int promtool_check(const char *text, size_t len)
{
    FILE *p = popen("promtool check metrics", "w");
    assert_non_null(p);
    size_t wrote = fwrite(text, 1, len, p);
    int st = pclose(p);
    assert_int_equal(wrote, len);
    if (!WIFEXITED(st))
        fail_msg("promtool did not exit normally");
    if (WEXITSTATUS(st) == 127)
        fail_msg("promtool not found (Debian package prometheus; scripts/test installs it)");
    return WEXITSTATUS(st);
}

static const struct {
    const char *name, *type;
} families[] = {
    {"gtidproxy_info", "gauge"},
    {"gtidproxy_uptime_seconds", "gauge"},
    {"gtidproxy_workers", "gauge"},
    {"gtidproxy_client_connections", "gauge"},
    {"gtidproxy_client_connections_total", "counter"},
    {"gtidproxy_client_connections_rejected_total", "counter"},
    {"gtidproxy_client_bytes_received_total", "counter"},
    {"gtidproxy_client_bytes_sent_total", "counter"},
    {"gtidproxy_queries_total", "counter"},
    {"gtidproxy_config_reloads_total", "counter"},
    {"gtidproxy_config_reload_failures_total", "counter"},
    {"gtidproxy_backend_up", "gauge"},
    {"gtidproxy_backend_state", "gauge"},
    {"gtidproxy_backend_lag_seconds", "gauge"},
    {"gtidproxy_backend_lag_transactions", "gauge"},
    {"gtidproxy_backend_known_age_seconds", "gauge"},
    {"gtidproxy_backend_connections", "gauge"},
    {"gtidproxy_backend_connects_total", "counter"},
    {"gtidproxy_backend_connect_failures_total", "counter"},
    {"gtidproxy_backend_commands_total", "counter"},
    {"gtidproxy_backend_reads_total", "counter"},
    {"gtidproxy_backend_waits_total", "counter"},
    {"gtidproxy_backend_wait_timeouts_total", "counter"},
    {"gtidproxy_backend_wait_seconds_total", "counter"},
    {"gtidproxy_backend_checks_total", "counter"},
    {"gtidproxy_backend_check_failures_total", "counter"},
    {"gtidproxy_reads_total", "counter"},
    {"gtidproxy_wait_duration_seconds", "histogram"},
    {"gtidproxy_wait_timeouts_total", "counter"},
};

static void test_every_family_has_help_and_type(void **state)
{
    (void)state;
    size_t len;
    char *text = render_fixture(&len);
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        char line[160];
        snprintf(line, sizeof line, "# TYPE %s %s", families[i].name, families[i].type);
        want_line(text, line);
        snprintf(line, sizeof line, "# HELP %s ", families[i].name);
        const char *help = strstr(text, line);
        if (!help || (help != text && help[-1] != '\n'))
            fail_msg("no HELP for %s", families[i].name);
    }
    free(text);
}

static void test_status_lines(void **state)
{
    (void)state;
    size_t len;
    char *text = render_fixture(&len);
    want_line(text, "gtidproxy_info{version=\"0.1.0\",flavor=\"mariadb\"} 1");
    want_line(text, "gtidproxy_uptime_seconds 12.345");
    want_line(text, "gtidproxy_workers 2");
    want_line(text, "gtidproxy_client_connections 3");
    want_line(text, "gtidproxy_client_connections_total 10");
    want_line(text, "gtidproxy_client_connections_rejected_total 1");
    want_line(text, "gtidproxy_client_bytes_received_total 100");
    want_line(text, "gtidproxy_client_bytes_sent_total 2000");
    want_line(text, "gtidproxy_queries_total{route=\"primary\"} 15");
    want_line(text, "gtidproxy_queries_total{route=\"replica\"} 20");
    want_line(text, "gtidproxy_queries_total{route=\"proxy\"} 1");
    want_line(text, "gtidproxy_config_reloads_total 2");
    want_line(text, "gtidproxy_config_reload_failures_total 1");
    free(text);
}

static void test_backend_lines_and_escaping(void **state)
{
    (void)state;
    size_t len;
    char *text = render_fixture(&len);
    /* re"pl\ica: quote and backslash escaped in every label value. */
    want_line(text, "gtidproxy_backend_up{backend=\"re\\\"pl\\\\ica\",role=\"replica\"} 0");
    want_line(text, "gtidproxy_backend_up{backend=\"primary\",role=\"primary\"} 1");
    want_line(text, "gtidproxy_backend_state{backend=\"re\\\"pl\\\\ica\",state=\"lagging\"} 1");
    want_line(text, "gtidproxy_backend_state{backend=\"re\\\"pl\\\\ica\",state=\"up\"} 0");
    want_line(text, "gtidproxy_backend_state{backend=\"replica2\",state=\"down\"} 1");
    static const char *const states[] = {"offline", "draining", "down", "unknown", "lagging"};
    for (size_t i = 0; i < 5; i++) { /* one series per state, 0 but the current one */
        char line[128];
        snprintf(line, sizeof line, "gtidproxy_backend_state{backend=\"primary\",state=\"%s\"} 0",
                 states[i]);
        want_line(text, line);
    }
    want_line(text, "gtidproxy_backend_state{backend=\"primary\",state=\"up\"} 1");
    want_line(text, "gtidproxy_backend_lag_seconds{backend=\"re\\\"pl\\\\ica\"} 1.5");
    want_line(text, "gtidproxy_backend_lag_transactions{backend=\"re\\\"pl\\\\ica\"} 8");
    want_line(text, "gtidproxy_backend_known_age_seconds{backend=\"primary\"} 0.25");
    want_line(text, "gtidproxy_backend_known_age_seconds{backend=\"re\\\"pl\\\\ica\"} 0.012");
    want_line(text, "gtidproxy_backend_connections{backend=\"re\\\"pl\\\\ica\"} 3");
    want_line(text, "gtidproxy_backend_connects_total{backend=\"re\\\"pl\\\\ica\"} 10");
    want_line(text, "gtidproxy_backend_connect_failures_total{backend=\"replica2\"} 7");
    want_line(text, "gtidproxy_backend_commands_total{backend=\"primary\"} 70");
    want_line(text, "gtidproxy_backend_reads_total{backend=\"re\\\"pl\\\\ica\"} 50");
    want_line(text, "gtidproxy_backend_waits_total{backend=\"re\\\"pl\\\\ica\"} 4");
    want_line(text, "gtidproxy_backend_wait_timeouts_total{backend=\"re\\\"pl\\\\ica\"} 1");
    want_line(text, "gtidproxy_backend_wait_seconds_total{backend=\"re\\\"pl\\\\ica\"} 0.0125");
    want_line(text, "gtidproxy_backend_wait_seconds_total{backend=\"primary\"} 0");
    want_line(text, "gtidproxy_backend_checks_total{backend=\"replica2\"} 9");
    want_line(text, "gtidproxy_backend_check_failures_total{backend=\"replica2\"} 9");
    /* Unknown values are left out, not written as 0. */
    want_no_line_starting(text, "gtidproxy_backend_lag_seconds{backend=\"primary\"}");
    want_no_line_starting(text, "gtidproxy_backend_lag_seconds{backend=\"replica2\"}");
    want_no_line_starting(text, "gtidproxy_backend_lag_transactions{backend=\"replica2\"}");
    want_no_line_starting(text, "gtidproxy_backend_known_age_seconds{backend=\"replica2\"}");
    free(text);
}

static void test_newline_in_label_escaped(void **state)
{
    (void)state;
    json_t *b = parse("{\"backends\": [{\"name\": \"a\\nb\", \"role\": \"replica\","
                      " \"state\": \"up\"}]}");
    size_t len;
    char *text = admin_metrics_render(NULL, b, NULL, &len);
    json_decref(b);
    assert_non_null(text);
    want_line(text, "gtidproxy_backend_up{backend=\"a\\nb\",role=\"replica\"} 1");
    free(text);
}

static void test_reads_and_histogram(void **state)
{
    (void)state;
    size_t len;
    char *text = render_fixture(&len);
    want_line(text, "gtidproxy_reads_total{level=\"session\",outcome=\"direct\"} 5");
    want_line(text, "gtidproxy_reads_total{level=\"session\",outcome=\"waited\"} 2");
    want_line(text, "gtidproxy_reads_total{level=\"token\",outcome=\"fallback_stale\"} 0");
    want_no_line_starting(text, "gtidproxy_reads_total{level=\"session\",outcome=\"reads\"}");
    size_t series = 0;
    for (const char *p = text; (p = strstr(p, "\ngtidproxy_reads_total{")) != NULL; p++)
        series++;
    assert_int_equal(series, 5 * 6);

    /* Cumulative, le in seconds, +Inf last; then _sum (s) and _count. */
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"0.001\"} 1");
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"0.002\"} 2");
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"0.005\"} 2");
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"5\"} 2");
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"+Inf\"} 3");
    want_line(text, "gtidproxy_wait_duration_seconds_sum 10.0024");
    want_line(text, "gtidproxy_wait_duration_seconds_count 3");
    want_line(text, "gtidproxy_wait_timeouts_total 1");
    const char *inf = strstr(text, "le=\"+Inf\"");
    const char *sum = strstr(text, "gtidproxy_wait_duration_seconds_sum");
    assert_true(inf && sum && inf < sum);
    free(text);
}

static void test_promtool_accepts_fixture(void **state)
{
    (void)state;
    size_t len;
    char *text = render_fixture(&len);
    int rc = promtool_check(text, len);
    if (rc != 0)
        fail_msg("promtool check metrics exited %d on:\n%s", rc, text);
    free(text);
}

/* promtool is a real check: it rejects what the format forbids. */
static void test_promtool_rejects_broken_text(void **state)
{
    (void)state;
    static const char bad[] = "# TYPE x_total counter\nx_total{a=\"b} 1\n";
    assert_int_not_equal(promtool_check(bad, sizeof bad - 1), 0);
}

/* The real views of a proxy whose monitor has not started: every backend
 * "unknown", no lag samples; still valid text. */
static void test_admin_metrics_from_a_proxy(void **state)
{
    (void)state;
    static const char conf[] =
        "{\"listeners\": [{\"name\": \"app\", \"port\": 6033}],"
        " \"backends\": [{\"name\": \"primary\", \"host\": \"127.0.0.1\", \"port\": 13306,"
        " \"role\": \"primary\"}, {\"name\": \"replica1\", \"host\": \"127.0.0.1\","
        " \"port\": 13307, \"role\": \"replica\"}],"
        " \"users\": [{\"name\": \"app\", \"password\": \"pw\"}],"
        " \"backend_credentials\": {\"user\": \"app\", \"password\": \"pw\"},"
        " \"monitor\": {\"user\": \"mon\", \"password\": \"mpw\"}}";
    char err[256] = "";
    struct config *cfg = config_parse(conf, "t.json", err, sizeof err);
    if (!cfg)
        fail_msg("config: %s", err);
    struct proxy px;
    assert_int_equal(proxy_init(&px, cfg, err, sizeof err), 0);
    struct worker *w = calloc(1, sizeof *w);
    assert_non_null(w);
    gate_count(&w->gate, GATE_SESSION, GATE_DIRECT);
    gate_count_wait(&w->gate, 3000, true);
    atomic_store(&w->st.queries[WROUTE_REPLICA], 4);
    struct admin_ctx a = {.px = &px, .workers = w, .n_workers = 1};

    size_t len;
    char *text = admin_metrics(&a, &len);
    assert_non_null(text);
    want_line(text, "gtidproxy_info{version=\"" GTIDPROXY_VERSION "\",flavor=\"mariadb\"} 1");
    want_line(text, "gtidproxy_workers 1");
    want_line(text, "gtidproxy_queries_total{route=\"replica\"} 4");
    want_line(text, "gtidproxy_backend_state{backend=\"replica1\",state=\"unknown\"} 1");
    want_line(text, "gtidproxy_backend_up{backend=\"replica1\",role=\"replica\"} 0");
    want_line(text, "gtidproxy_reads_total{level=\"session\",outcome=\"direct\"} 1");
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"0.002\"} 0");
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"0.005\"} 1");
    want_line(text, "gtidproxy_wait_duration_seconds_bucket{le=\"+Inf\"} 1");
    want_line(text, "gtidproxy_wait_duration_seconds_sum 0.003");
    want_line(text, "gtidproxy_wait_duration_seconds_count 1");
    want_no_line_starting(text, "gtidproxy_backend_lag_seconds{");
    want_no_line_starting(text, "gtidproxy_backend_known_age_seconds{");
    int rc = promtool_check(text, len);
    if (rc != 0)
        fail_msg("promtool check metrics exited %d on:\n%s", rc, text);
    free(text);
    free(w);
    proxy_destroy(&px);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_family_has_help_and_type),
        cmocka_unit_test(test_status_lines),
        cmocka_unit_test(test_backend_lines_and_escaping),
        cmocka_unit_test(test_newline_in_label_escaped),
        cmocka_unit_test(test_reads_and_histogram),
        cmocka_unit_test(test_promtool_accepts_fixture),
        cmocka_unit_test(test_promtool_rejects_broken_text),
        cmocka_unit_test(test_admin_metrics_from_a_proxy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
