/* test_admin_cli.c - `gtidproxy status` (proxy/admin_cli.h): the table from
 * fixture documents byte for byte, nulls and missing fields, and the whole
 * command against a tiny HTTP server in a thread of this test that answers
 * canned documents per path (exit statuses, messages, token, --json, -c). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin_cli.h"

#define FIXTURES GTIDPROXY_SOURCE_DIR "/tests/fixtures/admin/"

/* ---- fixtures and captured output ---- */

static char *read_fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, FIXTURES "%s", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    int c;
    while ((c = fgetc(f)) != EOF)
        fputc(c, m);
    fclose(f);
    fclose(m);
    return buf;
}

static json_t *load_fixture(const char *name)
{
    json_error_t e;
    char *text = read_fixture(name);
    json_t *j = json_loads(text, 0, &e);
    free(text);
    assert_non_null(j);
    return j;
}

/* A FILE whose contents the test reads back after capture_end(). */
struct capture {
    FILE *f;
    char *buf;
    size_t len;
};

static void capture_begin(struct capture *c)
{
    memset(c, 0, sizeof *c);
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
}

static void capture_end(struct capture *c)
{
    fclose(c->f);
    c->f = NULL;
}

/* admin_cli_format's text for three documents; rc through *rc. */
static char *format(const json_t *s, const json_t *b, const json_t *c, int *rc)
{
    struct capture out;
    capture_begin(&out);
    *rc = admin_cli_format(out.f, s, b, c);
    capture_end(&out);
    return out.buf;
}

/* The output line that starts with prefix (a copy), or NULL. */
static char *line_starting(const char *text, const char *prefix)
{
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, prefix, strlen(prefix)) == 0) {
            const char *e = strchr(l, '\n');
            return strndup(l, e ? (size_t)(e - l) : strlen(l));
        }
    }
    return NULL;
}

static bool has_line(const char *text, const char *prefix)
{
    char *l = line_starting(text, prefix);
    bool found = l != NULL;
    free(l);
    return found;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* ---- the formatter ---- */

static void test_format_golden(void **state)
{
    (void)state;
    json_t *s = load_fixture("cli_status.json");
    json_t *b = load_fixture("cli_backends.json");
    json_t *c = load_fixture("cli_consistency.json");
    char *want = read_fixture("cli_table.txt");
    int rc;
    char *got = format(s, b, c, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(got, want);
    /* No line ends in a blank: the last column is never padded. */
    assert_null(strstr(got, " \n"));
    free(got);
    free(want);
    json_decref(s);
    json_decref(b);
    json_decref(c);
}

/* Splits a row into at most n whitespace-separated words (WHY may hold
 * spaces: it is the rest of the line). */
static int words(char *line, char **w, int n)
{
    int k = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " ", &save); t && k < n; t = strtok_r(NULL, " ", &save))
        w[k++] = t;
    return k;
}

static void test_format_nulls_are_dashes(void **state)
{
    (void)state;
    json_t *s = load_fixture("cli_status.json");
    json_t *c = load_fixture("cli_consistency.json");
    json_t *b =
        json_pack("{s[{ss ss ss ss ss sn s{snsn} sn s{si} si s{sisisn}}]}", "backends", "name",
                  "r9", "role", "replica", "state", "unknown", "health", "unknown", "admin_state",
                  "online", "why", "lag", "seconds", "transactions", "known_age_ms", "connections",
                  "open", 0, "reads", 0, "waits", "count", 0, "timeouts", 0, "avg_ms");
    assert_non_null(b);
    int rc;
    char *got = format(s, b, c, &rc);
    assert_int_equal(rc, 0);
    char *row = line_starting(got, "r9 ");
    assert_non_null(row);
    char *w[16];
    assert_int_equal(words(row, w, 16), 14);
    const char *want[14] = {"r9", "replica", "unknown", "unknown", "online", "-", "-",
                            "-",  "0",       "0",       "0",       "-",      "0", "-"};
    for (int i = 0; i < 14; i++)
        assert_string_equal(w[i], want[i]);
    free(row);
    free(got);
    json_decref(s);
    json_decref(b);
    json_decref(c);
}

static void test_format_missing_field(void **state)
{
    (void)state;
    json_t *s = load_fixture("cli_status.json");
    json_t *b = load_fixture("cli_backends.json");
    json_t *c = load_fixture("cli_consistency.json");
    /* replica1 loses waits.avg_ms: its cell is "?", the rest still prints. */
    json_t *r1 = json_array_get(json_object_get(b, "backends"), 1);
    assert_int_equal(json_object_del(json_object_get(r1, "waits"), "avg_ms"), 0);
    int rc;
    char *got = format(s, b, c, &rc);
    assert_int_equal(rc, -1);
    char *row = line_starting(got, "replica1 ");
    assert_non_null(row);
    assert_non_null(strstr(row, " ? "));
    free(row);
    assert_true(has_line(got, "gtidproxy 0.1.0"));
    assert_true(has_line(got, "replica-eu-west "));
    assert_true(has_line(got, "waits: 9 "));
    free(got);

    /* A mistyped field counts as missing too. */
    json_object_set_new(json_object_get(s, "clients"), "total", json_string("ten"));
    json_object_set_new(json_object_get(r1, "waits"), "avg_ms", json_real(2.5));
    got = format(s, b, c, &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(got, "3 now, ? total"));
    free(got);

    /* A missing document: the others still print. */
    json_object_set_new(json_object_get(s, "clients"), "total", json_integer(10));
    got = format(s, NULL, c, &rc);
    assert_int_equal(rc, -1);
    assert_null(strstr(got, "NAME"));
    assert_non_null(strstr(got, "LEVEL"));
    free(got);
    got = format(s, b, c, &rc);
    assert_int_equal(rc, 0);
    free(got);
    json_decref(s);
    json_decref(b);
    json_decref(c);
}

static void test_format_levels_shown(void **state)
{
    (void)state;
    json_t *s = load_fixture("cli_status.json");
    json_t *b = load_fixture("cli_backends.json");
    json_t *c = load_fixture("cli_consistency.json");
    int rc;
    /* Levels with reads only: global and token served none. */
    char *got = format(s, b, c, &rc);
    assert_int_equal(rc, 0);
    assert_true(has_line(got, "strong "));
    assert_false(has_line(got, "global "));
    assert_false(has_line(got, "token "));
    free(got);
    /* A proxy that served no reads shows every level. */
    const char *name;
    json_t *lv;
    json_object_foreach(json_object_get(c, "levels"), name, lv)
        json_object_set_new(lv, "reads", json_integer(0));
    got = format(s, b, c, &rc);
    assert_int_equal(rc, 0);
    const char *all[] = {"eventual ", "session ", "global ", "strong ", "token "};
    for (size_t i = 0; i < 5; i++) {
        assert_true(has_line(got, all[i]));
    }
    free(got);
    json_decref(s);
    json_decref(b);
    json_decref(c);
}

static void test_format_header(void **state)
{
    (void)state;
    static const struct {
        json_int_t uptime_ms;
        const char *up;
    } cases[] = {{850, "up 850ms,"},    {1234, "up 1.2s,"},      {42999, "up 42s,"},
                 {303000, "up 5m03s,"}, {12345678, "up 3h25m,"}, {187200000, "up 2d04h,"}};
    json_t *s = load_fixture("cli_status.json");
    json_t *b = load_fixture("cli_backends.json");
    json_t *c = load_fixture("cli_consistency.json");
    int rc;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_object_set_new(s, "uptime_ms", json_integer(cases[i].uptime_ms));
        char *got = format(s, b, c, &rc);
        assert_int_equal(rc, 0);
        assert_non_null(strstr(got, cases[i].up));
        free(got);
    }
    /* An empty write set, a draining proxy, an unknown flavor. */
    json_object_set_new(s, "writes_gtid", json_string(""));
    json_object_set_new(s, "draining", json_true());
    json_object_set_new(s, "flavor", json_null());
    char *got = format(s, b, c, &rc);
    assert_int_equal(rc, 0);
    char *head = line_starting(got, "gtidproxy ");
    assert_non_null(head);
    assert_string_equal(head, "gtidproxy 0.1.0 (-), up 2d04h, 2 workers, DRAINING | clients 3 now,"
                              " 10 total, 0 rejected | queries primary 10, replica 20, proxy 1"
                              " | writes (none)");
    free(head);
    assert_false(has_line(got, "topology"));
    free(got);

    /* Topology: silent while stable, one line otherwise. */
    json_t *topo = json_pack("{s:s, s:s, s:s}", "primary", "primary", "state", "stable", "reason",
                             "primary is the primary");
    json_object_set_new(s, "topology", topo);
    got = format(s, b, c, &rc);
    assert_false(has_line(got, "topology"));
    free(got);
    json_object_set_new(topo, "state", json_string("split"));
    json_object_set_new(topo, "reason", json_string("more than one backend is writable "
                                                    "(read_only=0, not replicating): primary "
                                                    "replica1"));
    got = format(s, b, c, &rc);
    assert_int_equal(rc, 0);
    char *line = line_starting(got, "topology");
    assert_non_null(line);
    assert_string_equal(line, "topology split (WRITES REFUSED): more than one backend is writable "
                              "(read_only=0, not replicating): primary replica1");
    free(line);
    free(got);
    json_decref(s);
    json_decref(b);
    json_decref(c);
}

/* ---- a canned HTTP server ---- */

struct route {
    const char *path;
    int status;
    char *body; /* owned */
};

struct srv {
    int fd;
    unsigned port;
    pthread_t th;
    atomic_bool stop;
    struct route routes[4];
    size_t n_routes;
    pthread_mutex_t mu;
    char auth[256]; /* the last Authorization header value, "" when none */
    int requests;
};

static void srv_route(struct srv *s, const char *path, int status, const char *body)
{
    assert_true(s->n_routes < 4);
    s->routes[s->n_routes++] = (struct route){path, status, strdup(body)};
}

/* The three fixtures at their paths. */
static void srv_route_fixtures(struct srv *s)
{
    s->n_routes = 0;
    const char *names[3][2] = {{"/status", "cli_status.json"},
                               {"/backends", "cli_backends.json"},
                               {"/consistency", "cli_consistency.json"}};
    for (int i = 0; i < 3; i++) {
        char *body = read_fixture(names[i][1]);
        srv_route(s, names[i][0], 200, body);
        free(body);
    }
}

static void serve(struct srv *s, int c)
{
    char req[8192];
    size_t n = 0;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (n < sizeof req - 1) {
        ssize_t r = recv(c, req + n, sizeof req - 1 - n, 0);
        if (r <= 0)
            return;
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    char method[16], path[256];
    if (sscanf(req, "%15s %255s", method, path) != 2)
        return;
    pthread_mutex_lock(&s->mu);
    s->requests++;
    s->auth[0] = '\0';
    const char *a = strcasestr(req, "\r\nAuthorization: ");
    if (a) {
        a += strlen("\r\nAuthorization: ");
        snprintf(s->auth, sizeof s->auth, "%.*s", (int)strcspn(a, "\r"), a);
    }
    pthread_mutex_unlock(&s->mu);

    int status = 404;
    const char *body = "{\"error\": \"no such path\", \"status\": 404}";
    for (size_t i = 0; i < s->n_routes; i++) {
        if (strcmp(s->routes[i].path, path) == 0) {
            status = s->routes[i].status;
            body = s->routes[i].body;
        }
    }
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      status, strlen(body));
    if (send(c, head, (size_t)hl, MSG_NOSIGNAL) < 0 ||
        send(c, body, strlen(body), MSG_NOSIGNAL) < 0)
        return;
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        serve(s, c);
        close(c);
    }
    return NULL;
}

/* A listening socket on 127.0.0.1 at a port the kernel picks. */
static int listen_any(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static int srv_setup(void **state)
{
    struct srv *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->fd = listen_any(&s->port);
    pthread_mutex_init(&s->mu, NULL);
    srv_route_fixtures(s);
    /* Routes are set before each test's command runs; the thread only
     * reads them while a command is in flight. */
    if (pthread_create(&s->th, NULL, srv_main, s) != 0)
        return -1;
    unsetenv("GTIDPROXY_ADMIN_TOKEN");
    *state = s;
    return 0;
}

static int srv_teardown(void **state)
{
    struct srv *s = *state;
    atomic_store(&s->stop, true);
    pthread_join(s->th, NULL);
    close(s->fd);
    for (size_t i = 0; i < s->n_routes; i++)
        free(s->routes[i].body);
    pthread_mutex_destroy(&s->mu);
    free(s);
    unsetenv("GTIDPROXY_ADMIN_TOKEN");
    return 0;
}

/* Replaces the route table (between commands, while the server idles). */
static void srv_reset(struct srv *s)
{
    for (size_t i = 0; i < s->n_routes; i++)
        free(s->routes[i].body);
    s->n_routes = 0;
    pthread_mutex_lock(&s->mu);
    s->requests = 0;
    s->auth[0] = '\0';
    pthread_mutex_unlock(&s->mu);
}

struct run {
    int rc;
    char *out, *err;
};

/* Runs `gtidproxy status <args...>` (NULL-terminated) and captures it. */
static struct run run_cli(const char *first, ...)
{
    char *argv[16] = {"status"};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 15; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    struct capture out, err;
    capture_begin(&out);
    capture_begin(&err);
    struct run r;
    r.rc = admin_cli_main(argc, argv, out.f, err.f);
    capture_end(&out);
    capture_end(&err);
    r.out = out.buf;
    r.err = err.buf;
    return r;
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

static char *url_of(const struct srv *s, const char *path)
{
    char *u = NULL;
    assert_true(asprintf(&u, "http://127.0.0.1:%u%s", s->port, path) > 0);
    return u;
}

static void test_main_prints_table(void **state)
{
    struct srv *s = *state;
    char *url = url_of(s, "");
    struct run r = run_cli("--admin", url, NULL);
    char *want = read_fixture("cli_table.txt");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, want);
    assert_string_equal(r.err, "");
    assert_int_equal(s->requests, 3);
    assert_string_equal(s->auth, ""); /* no token given, none sent */
    free(want);
    run_free(&r);
    free(url);

    /* "host:port" without a scheme, with a trailing slash. */
    char hp[64];
    snprintf(hp, sizeof hp, "127.0.0.1:%u/", s->port);
    r = run_cli("--admin", hp, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(count_lines(r.out), count_lines(want = read_fixture("cli_table.txt")));
    free(want);
    run_free(&r);
}

static void test_main_json(void **state)
{
    struct srv *s = *state;
    char *url = url_of(s, "");
    char adm[128];
    snprintf(adm, sizeof adm, "--admin=%s", url);
    struct run r = run_cli(adm, "--json", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    json_error_t e;
    json_t *all = json_loads(r.out, 0, &e);
    assert_non_null(all);
    assert_int_equal(json_object_size(all), 3);
    const char *keys[3][2] = {{"status", "cli_status.json"},
                              {"backends", "cli_backends.json"},
                              {"consistency", "cli_consistency.json"}};
    for (int i = 0; i < 3; i++) {
        json_t *want = load_fixture(keys[i][1]);
        assert_true(json_equal(json_object_get(all, keys[i][0]), want));
        json_decref(want);
    }
    json_decref(all);
    run_free(&r);
    free(url);
}

static void test_main_token(void **state)
{
    struct srv *s = *state;
    char *url = url_of(s, "");
    struct run r = run_cli("--admin", url, "--token", "s3cret", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(s->auth, "Bearer s3cret");
    run_free(&r);

    setenv("GTIDPROXY_ADMIN_TOKEN", "from-env", 1);
    r = run_cli("--admin", url, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(s->auth, "Bearer from-env");
    run_free(&r);
    /* --token wins over the environment. */
    r = run_cli("--admin", url, "--token=flag", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(s->auth, "Bearer flag");
    run_free(&r);
    unsetenv("GTIDPROXY_ADMIN_TOKEN");

    /* A token that would end the header line is refused before any request. */
    srv_reset(s);
    srv_route_fixtures(s);
    r = run_cli("--admin", url, "--token", "a\r\nX-Evil: 1", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "control character"));
    assert_int_equal(s->requests, 0);
    run_free(&r);
    free(url);
}

static void test_main_401(void **state)
{
    struct srv *s = *state;
    srv_reset(s);
    srv_route(s, "/status", 401, "{\"error\": \"missing or wrong bearer token\", \"status\": 401}");
    char *url = url_of(s, "");
    char *st = url_of(s, "/status");
    struct run r = run_cli("--admin", url, NULL);
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.out, "");
    char want[256];
    snprintf(want, sizeof want,
             "gtidproxy status: %s: 401: missing or wrong bearer token"
             " (give it with --token or GTIDPROXY_ADMIN_TOKEN)\n",
             st);
    assert_string_equal(r.err, want);
    assert_int_equal(s->requests, 1); /* stops at the first error */
    run_free(&r);

    /* With a token: no hint; a 401 without a JSON body still says why. */
    srv_reset(s);
    srv_route(s, "/status", 401, "Unauthorized");
    r = run_cli("--admin", url, "--token", "wrong", NULL);
    assert_int_equal(r.rc, 1);
    snprintf(want, sizeof want, "gtidproxy status: %s: 401: missing or wrong bearer token\n", st);
    assert_string_equal(r.err, want);
    run_free(&r);
    free(st);
    free(url);
}

static void test_main_bad_answers(void **state)
{
    struct srv *s = *state;
    char *url = url_of(s, "");
    char want[256];

    /* A 2xx that is not JSON. */
    srv_reset(s);
    srv_route_fixtures(s);
    free(s->routes[1].body);
    s->routes[1].body = strdup("<html>hello</html>");
    struct run r = run_cli("--admin", url, NULL);
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.out, "");
    snprintf(want, sizeof want, "gtidproxy status: %s/backends: 200: the answer is not JSON (",
             url);
    assert_memory_equal(r.err, want, strlen(want));
    run_free(&r);

    /* A 5xx without a body, a 404 with the API's error. */
    srv_reset(s);
    srv_route(s, "/status", 503, "");
    r = run_cli("--admin", url, NULL);
    assert_int_equal(r.rc, 1);
    snprintf(want, sizeof want, "gtidproxy status: %s/status: 503: the answer is not JSON\n", url);
    assert_string_equal(r.err, want);
    run_free(&r);
    srv_reset(s);
    r = run_cli("--admin", url, NULL);
    assert_int_equal(r.rc, 1);
    snprintf(want, sizeof want, "gtidproxy status: %s/status: 404: no such path\n", url);
    assert_string_equal(r.err, want);
    run_free(&r);

    /* A document of another shape: the table prints, the field is named. */
    srv_reset(s);
    srv_route_fixtures(s);
    free(s->routes[1].body);
    s->routes[1].body =
        strdup("{\"backends\": [{\"name\": \"p\", \"role\": \"primary\","
               " \"state\": \"up\", \"health\": \"up\", \"admin_state\": \"online\","
               " \"why\": null,"
               " \"lag\": null, \"known_age_ms\": 1, \"connections\": {\"open\": 1},"
               " \"reads\": 2}]}");
    r = run_cli("--admin", url, NULL);
    assert_int_equal(r.rc, 1);
    assert_non_null(strstr(r.out, "\np "));
    snprintf(want, sizeof want,
             "gtidproxy status: %s/backends: the answer lacks a usable \"backends[0].waits.count\""
             " (a proxy of another version?)\n",
             url);
    assert_string_equal(r.err, want);
    run_free(&r);
    srv_reset(s);
    srv_route_fixtures(s);
    free(url);
}

static void test_main_not_listening(void **state)
{
    (void)state;
    unsigned port;
    int fd = listen_any(&port);
    close(fd); /* nothing listens there now */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    struct run r = run_cli("--admin", url, NULL);
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.out, "");
    char want[128];
    snprintf(want, sizeof want, "gtidproxy status: %s/status: Couldn't connect to server\n", url);
    assert_string_equal(r.err, want);
    run_free(&r);
}

#define MINIMAL_CONFIG                                                                             \
    "{\"listeners\": [{\"name\": \"app\", \"port\": 6033}],"                                       \
    " \"backends\": [{\"name\": \"p\", \"host\": \"127.0.0.1\", \"port\": 3306,"                   \
    " \"role\": \"primary\"}],"                                                                    \
    " \"users\": [{\"name\": \"app\", \"password\": \"pw\"}],"                                     \
    " \"backend_credentials\": {\"user\": \"app\", \"password\": \"pw\"},"                         \
    " \"monitor\": {\"user\": \"mon\", \"password\": \"mpw\"}%s}"

/* Writes a config file with extra spliced in; returns its malloc'd path. */
static char *write_config(const char *extra)
{
    char *path = strdup("/tmp/test_admin_cli_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fprintf(f, MINIMAL_CONFIG, extra);
    fclose(f);
    return path;
}

static void test_main_config_file(void **state)
{
    struct srv *s = *state;
    char extra[160];
    /* A wildcard address is reached on loopback. */
    snprintf(extra, sizeof extra,
             ", \"admin\": {\"address\": \"0.0.0.0\", \"port\": %u, \"token\": \"file-tok\"}",
             s->port);
    char *file = write_config(extra);
    struct run r = run_cli("-c", file, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    assert_string_equal(s->auth, "Bearer file-tok");
    run_free(&r);
    /* The environment's token wins over the file's. */
    setenv("GTIDPROXY_ADMIN_TOKEN", "env-tok", 1);
    r = run_cli("--config", file, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(s->auth, "Bearer env-tok");
    run_free(&r);
    unsetenv("GTIDPROXY_ADMIN_TOKEN");
    unlink(file);
    free(file);

    /* A file without an admin section, and one that does not load. */
    file = write_config("");
    r = run_cli("-c", file, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "no \"admin\" section"));
    run_free(&r);
    unlink(file);
    free(file);
    r = run_cli("-c", "/nonexistent/gtidproxy.json", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "/nonexistent/gtidproxy.json"));
    assert_string_equal(r.out, "");
    run_free(&r);
}

static void test_main_usage(void **state)
{
    (void)state;
    static const struct {
        const char *args[3];
        const char *msg;
    } cases[] = {
        {{"--bogus", NULL}, "unknown argument \"--bogus\""},
        {{"--admin", NULL}, "--admin needs a value"},
        {{"--token", NULL}, "--token needs a value"},
        {{"-c", NULL}, "-c needs a value"},
        {{"extra", NULL}, "unknown argument \"extra\""},
        {{"--json", "-x", NULL}, "unknown argument \"-x\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run r = run_cli(cases[i].args[0], cases[i].args[1], NULL);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.out, "");
        assert_non_null(strstr(r.err, cases[i].msg));
        assert_non_null(strstr(r.err, "usage: gtidproxy status"));
        run_free(&r);
    }
    struct run r = run_cli("--help", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    assert_memory_equal(r.out, "usage: gtidproxy status ", 24);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_golden),
        cmocka_unit_test(test_format_nulls_are_dashes),
        cmocka_unit_test(test_format_missing_field),
        cmocka_unit_test(test_format_levels_shown),
        cmocka_unit_test(test_format_header),
        cmocka_unit_test(test_main_usage),
        cmocka_unit_test(test_main_not_listening),
        cmocka_unit_test_setup_teardown(test_main_prints_table, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_main_json, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_main_token, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_main_401, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_main_bad_answers, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_main_config_file, srv_setup, srv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
