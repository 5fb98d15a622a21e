/* test_admin_http.c - the admin port's HTTP server (proxy/admin_http.h)
 * on 127.0.0.1, any free port, spoken to over raw sockets: what reaches the
 * handler, what the wrapper answers by itself (401, 413, 400, 500), limits,
 * keep-alive, and a clean stop. Every socket read has a timeout, so a
 * server that stays silent fails the test instead of hanging it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admin_http.h"
#include "log.h"

/* ---- the handler under test: records what it saw, answers by path ---- */

struct seen {
    pthread_mutex_t lock;
    int calls;
    char method[16], path[128];
    char *body; /* copy of the body */
    size_t body_len;
    bool body_nul_terminated;
};

static struct seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int seen_calls(void)
{
    pthread_mutex_lock(&seen.lock);
    int n = seen.calls;
    pthread_mutex_unlock(&seen.lock);
    return n;
}

static void seen_reset(void)
{
    pthread_mutex_lock(&seen.lock);
    seen.calls = 0;
    free(seen.body);
    seen.body = NULL;
    seen.body_len = 0;
    pthread_mutex_unlock(&seen.lock);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static void handler(void *arg, const struct admin_req *req, struct admin_resp *resp)
{
    if (arg != &seen) /* runs on the server's thread: no cmocka asserts here */
        abort();
    pthread_mutex_lock(&seen.lock);
    seen.calls++;
    snprintf(seen.method, sizeof seen.method, "%s", req->method);
    snprintf(seen.path, sizeof seen.path, "%s", req->path);
    free(seen.body);
    seen.body = malloc(req->body_len + 1);
    memcpy(seen.body, req->body, req->body_len);
    seen.body_len = req->body_len;
    seen.body_nul_terminated = req->body[req->body_len] == '\0';
    pthread_mutex_unlock(&seen.lock);

    if (strcmp(req->path, "/method") == 0) {
        resp->allow = "GET, POST";
        admin_resp_error(resp, 405, "%s not allowed on %s", req->method, req->path);
    } else if (strcmp(req->path, "/nothing") == 0) {
        /* leaves resp->body NULL */
    } else if (strcmp(req->path, "/badstatus") == 0) {
        admin_resp_json(resp, 42, json_object());
    } else if (strcmp(req->path, "/text") == 0) {
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
        resp->body = strdup("a_metric 1\n");
        resp->len = strlen(resp->body);
    } else {
        json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:I}", "method", req->method,
                              "path", req->path, "limit", str_or_null(admin_req_arg(req, "limit")),
                              "flag", str_or_null(admin_req_arg(req, "flag")), "name",
                              str_or_null(admin_req_arg(req, "name")), "missing",
                              str_or_null(admin_req_arg(req, "missing")), "x_test",
                              str_or_null(admin_req_header(req, "x-test")), "body_len",
                              (json_int_t)req->body_len);
        admin_resp_json(resp, 200, o);
    }
}

/* ---- server and raw client helpers ---------------------------------- */

static struct admin_http *start(const char *token, unsigned max_conn, size_t max_body,
                                unsigned idle_s)
{
    struct admin_http_opts o = {
        .address = "127.0.0.1",
        .port = 0,
        .token = token,
        .max_connections = max_conn,
        .max_body = max_body,
        .idle_timeout_s = idle_s,
    };
    struct admin_http *h = NULL;
    char err[256] = "";
    if (admin_http_start(&h, &o, handler, &seen, err, sizeof err) != 0)
        fail_msg("admin_http_start: %s", err);
    assert_non_null(h);
    assert_int_not_equal(admin_http_port(h), 0);
    seen_reset();
    return h;
}

struct conn {
    int fd;
    char buf[1 << 16];
    size_t len; /* bytes read but not consumed yet */
};

static struct conn *dial(uint16_t port)
{
    struct conn *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c->fd >= 0);
    struct timeval tv = {.tv_sec = 5};
    assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return c;
}

static void hang_up(struct conn *c)
{
    close(c->fd);
    free(c);
}

/* Sends all of p; false when the peer closed or reset meanwhile. */
static bool send_all(struct conn *c, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t k = send(c->fd, b, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        b += k;
        n -= (size_t)k;
    }
    return true;
}

static void send_str(struct conn *c, const char *s)
{
    assert_true(send_all(c, s, strlen(s)));
}

/* Reads more into c->buf: >0 bytes, 0 peer closed (or reset), -1 timeout. */
static int fill(struct conn *c)
{
    assert_true(c->len < sizeof c->buf);
    for (;;) {
        ssize_t k = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (k > 0) {
            c->len += (size_t)k;
            return (int)k;
        }
        if (k == 0 || errno == ECONNRESET)
            return 0;
        if (errno == EINTR)
            continue;
        return -1; /* EAGAIN: SO_RCVTIMEO ran out */
    }
}

struct resp {
    int status;
    char headers[4096]; /* "\r\n"-separated, as received */
    char body[8192];
    size_t body_len;
};

/* A header's value (case-insensitive name), copied into out; false if absent. */
static bool header(const struct resp *r, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    for (const char *p = r->headers; *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t linelen = eol ? (size_t)(eol - p) : strlen(p);
        if (linelen > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, outlen, "%.*s", (int)(linelen - (size_t)(v - p)), v);
            return true;
        }
        p += linelen + (eol ? 2 : 0);
    }
    return false;
}

/* Reads one response (status line, headers, Content-Length body).
 * Returns 1 with *r filled, 0 when the connection closed before any byte,
 * -1 on timeout. */
static int read_resp(struct conn *c, struct resp *r)
{
    memset(r, 0, sizeof *r);
    char *end;
    while (!(c->len > 0 && (end = memmem(c->buf, c->len, "\r\n\r\n", 4)))) {
        int k = fill(c);
        if (k <= 0) {
            if (k == 0 && c->len > 0)
                fail_msg("connection closed inside a response head");
            return k;
        }
    }
    size_t head = (size_t)(end - c->buf) + 4;
    char *eol = memmem(c->buf, head, "\r\n", 2);
    assert_int_equal(sscanf(c->buf, "HTTP/1.%*d %d", &r->status), 1);
    size_t hlen = head - (size_t)(eol + 2 - c->buf);
    assert_true(hlen < sizeof r->headers);
    memcpy(r->headers, eol + 2, hlen);
    r->headers[hlen] = '\0';
    char cl[32];
    size_t blen = 0;
    if (header(r, "Content-Length", cl, sizeof cl))
        blen = strtoul(cl, NULL, 10);
    assert_true(blen < sizeof r->body);
    while (c->len < head + blen)
        assert_true(fill(c) > 0);
    memcpy(r->body, c->buf + head, blen);
    r->body_len = blen;
    memmove(c->buf, c->buf + head + blen, c->len - head - blen);
    c->len -= head + blen;
    return 1;
}

/* True when the server closes c (no more bytes) within the read timeout. */
static bool closed_by_server(struct conn *c)
{
    return c->len == 0 && fill(c) == 0;
}

/* One request on a fresh connection; returns the status, fills *r. */
static int roundtrip(uint16_t port, const char *request, struct resp *r)
{
    struct conn *c = dial(port);
    send_str(c, request);
    int rc = read_resp(c, r);
    hang_up(c);
    assert_int_equal(rc, 1);
    return r->status;
}

static json_t *body_json(const struct resp *r)
{
    json_error_t je;
    json_t *j = json_loadb(r->body, r->body_len, 0, &je);
    if (!j)
        fail_msg("response body is not JSON (%s): %.*s", je.text, (int)r->body_len, r->body);
    return j;
}

/* Asserts the wrapper's own JSON error shape. */
static void assert_json_error(const struct resp *r, int status)
{
    assert_int_equal(r->status, status);
    char v[128];
    assert_true(header(r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/json");
    json_t *j = body_json(r);
    assert_true(json_is_string(json_object_get(j, "error")));
    assert_true(strlen(json_string_value(json_object_get(j, "error"))) > 0);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
    assert_int_equal(json_object_size(j), 2);
    json_decref(j);
}

/* ---- tests ------------------------------------------------------------ */

static void test_get_with_args(void **state)
{
    (void)state;
    struct admin_http *h = start(NULL, 8, 65536, 30);
    struct resp r;
    assert_int_equal(roundtrip(admin_http_port(h),
                               "GET /echo/x?limit=10&flag&name=a%20b HTTP/1.1\r\n"
                               "Host: t\r\nX-Test: hello\r\n\r\n",
                               &r),
                     200);
    char v[128];
    assert_true(header(&r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/json");
    assert_true(header(&r, "Cache-Control", v, sizeof v));
    assert_string_equal(v, "no-store");
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "method")), "GET");
    assert_string_equal(json_string_value(json_object_get(j, "path")), "/echo/x");
    assert_string_equal(json_string_value(json_object_get(j, "limit")), "10");
    assert_string_equal(json_string_value(json_object_get(j, "flag")), "");
    assert_string_equal(json_string_value(json_object_get(j, "name")), "a b");
    assert_true(json_is_null(json_object_get(j, "missing")));
    assert_string_equal(json_string_value(json_object_get(j, "x_test")), "hello");
    assert_int_equal(json_integer_value(json_object_get(j, "body_len")), 0);
    json_decref(j);
    assert_int_equal(seen_calls(), 1);
    /* A handler's own content type passes through, with no-store. */
    assert_int_equal(roundtrip(admin_http_port(h), "GET /text HTTP/1.1\r\nHost: t\r\n\r\n", &r),
                     200);
    assert_true(header(&r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "text/plain; version=0.0.4; charset=utf-8");
    assert_true(header(&r, "Cache-Control", v, sizeof v));
    assert_string_equal(v, "no-store");
    assert_int_equal(r.body_len, strlen("a_metric 1\n"));
    assert_memory_equal(r.body, "a_metric 1\n", r.body_len);
    admin_http_stop(h);
}

static void test_post_body_intact(void **state)
{
    (void)state;
    enum { MAX = 4096 };
    struct admin_http *h = start(NULL, 8, MAX, 30);
    /* Binary, with NULs and CR/LF in it, exactly max_body long: accepted. */
    static unsigned char body[MAX];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (unsigned char)(i * 7 + (i >> 8));
    body[0] = 0;
    body[100] = '\r';
    body[101] = '\n';
    struct conn *c = dial(admin_http_port(h));
    char head[256];
    snprintf(head, sizeof head,
             "POST /config/reload HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n", sizeof body);
    send_str(c, head);
    assert_true(send_all(c, body, sizeof body));
    struct resp r;
    assert_int_equal(read_resp(c, &r), 1);
    assert_int_equal(r.status, 200);
    pthread_mutex_lock(&seen.lock);
    assert_int_equal(seen.calls, 1);
    assert_string_equal(seen.method, "POST");
    assert_string_equal(seen.path, "/config/reload");
    assert_int_equal(seen.body_len, sizeof body);
    assert_memory_equal(seen.body, body, sizeof body);
    assert_true(seen.body_nul_terminated);
    pthread_mutex_unlock(&seen.lock);
    /* An empty POST: body "" of length 0. */
    send_str(c, "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(read_resp(c, &r), 1);
    assert_int_equal(r.status, 200);
    pthread_mutex_lock(&seen.lock);
    assert_int_equal(seen.body_len, 0);
    assert_true(seen.body_nul_terminated);
    pthread_mutex_unlock(&seen.lock);
    hang_up(c);
    admin_http_stop(h);
}

static void test_token(void **state)
{
    (void)state;
    struct admin_http *h = start("s3cret-token", 8, 65536, 30);
    uint16_t port = admin_http_port(h);
    static const char *const refused[] = {
        "GET /status HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /status HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer wrong\r\n\r\n",
        "GET /status HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer s3cret-toke\r\n\r\n",
        "GET /status HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer s3cret-tokenX\r\n\r\n",
        "GET /status HTTP/1.1\r\nHost: t\r\nAuthorization: Basic czNjcmV0LXRva2Vu\r\n\r\n",
        "GET /status HTTP/1.1\r\nHost: t\r\nAuthorization: s3cret-token\r\n\r\n",
        /* every path, and before any body is read */
        "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n",
        "POST /config/reload HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}",
    };
    struct resp r;
    char v[128];
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        roundtrip(port, refused[i], &r);
        assert_json_error(&r, 401);
        assert_true(header(&r, "WWW-Authenticate", v, sizeof v));
        assert_string_equal(v, "Bearer realm=\"gtidproxy\"");
        assert_true(header(&r, "Cache-Control", v, sizeof v));
    }
    assert_int_equal(seen_calls(), 0);
    assert_int_equal(roundtrip(port,
                               "GET /status HTTP/1.1\r\nHost: t\r\n"
                               "Authorization: Bearer s3cret-token\r\n\r\n",
                               &r),
                     200);
    assert_false(header(&r, "WWW-Authenticate", v, sizeof v));
    /* The scheme is case-insensitive (RFC 7235). */
    assert_int_equal(roundtrip(port,
                               "GET /status HTTP/1.1\r\nHost: t\r\n"
                               "Authorization: bearer s3cret-token\r\n\r\n",
                               &r),
                     200);
    assert_int_equal(seen_calls(), 2);
    admin_http_stop(h);
}

/* Content-Length over max_body: 413 before the body is read; the server
 * closes the connection after it (what follows would be body bytes). */
static void test_body_too_large_announced(void **state)
{
    (void)state;
    struct admin_http *h = start(NULL, 8, 64 * 1024, 30);
    struct conn *c = dial(admin_http_port(h));
    send_str(c, "POST /config/reload HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n");
    struct resp r;
    assert_int_equal(read_resp(c, &r), 1);
    assert_json_error(&r, 413);
    assert_true(closed_by_server(c));
    hang_up(c);
    /* Same with the first 64 KiB + 1 of the body already sent. */
    c = dial(admin_http_port(h));
    static char chunk[64 * 1024 + 1];
    memset(chunk, 'x', sizeof chunk);
    send_str(c, "POST /config/reload HTTP/1.1\r\nHost: t\r\nContent-Length: 65537\r\n\r\n");
    (void)send_all(c, chunk, sizeof chunk); /* may fail: the server needs none of it */
    assert_int_equal(read_resp(c, &r), 1);
    assert_json_error(&r, 413);
    hang_up(c);
    assert_int_equal(seen_calls(), 0);
    admin_http_stop(h);
}

/* A chunked 1 MB body has no length up front: the server reads and drops it
 * (holding at most max_body), answers 413 at its end, and the connection
 * stays usable. */
static void test_body_too_large_chunked(void **state)
{
    (void)state;
    struct admin_http *h = start(NULL, 8, 64 * 1024, 30);
    struct conn *c = dial(admin_http_port(h));
    send_str(c, "POST /config/reload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    static char chunk[16 * 1024];
    memset(chunk, 'y', sizeof chunk);
    for (int i = 0; i < 64; i++) { /* 64 x 16 KiB = 1 MiB */
        send_str(c, "4000\r\n");
        assert_true(send_all(c, chunk, sizeof chunk));
        send_str(c, "\r\n");
    }
    send_str(c, "0\r\n\r\n");
    struct resp r;
    assert_int_equal(read_resp(c, &r), 1);
    assert_json_error(&r, 413);
    assert_int_equal(seen_calls(), 0);
    send_str(c, "GET /after HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(read_resp(c, &r), 1);
    assert_int_equal(r.status, 200);
    assert_int_equal(seen_calls(), 1);
    /* A chunked body within the limit arrives whole. */
    send_str(c, "POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    assert_int_equal(read_resp(c, &r), 1);
    assert_int_equal(r.status, 200);
    pthread_mutex_lock(&seen.lock);
    assert_int_equal(seen.body_len, 5);
    assert_memory_equal(seen.body, "abcde", 5);
    pthread_mutex_unlock(&seen.lock);
    hang_up(c);
    admin_http_stop(h);
}

/* max_body 0: any body at all is too large; bodiless requests still pass. */
static void test_no_body_allowed(void **state)
{
    (void)state;
    struct admin_http *h = start(NULL, 8, 0, 30);
    struct resp r;
    roundtrip(admin_http_port(h), "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nz", &r);
    assert_json_error(&r, 413);
    assert_int_equal(roundtrip(admin_http_port(h),
                               "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", &r),
                     200);
    assert_int_equal(seen_calls(), 1);
    admin_http_stop(h);
}

/* Malformed HTTP is libmicrohttpd's to answer (its own HTML body, then it
 * closes); the handler never sees it and the server keeps serving.
 * libmicrohttpd 0.9.75 answers 400 for a bad header line or a request line
 * without a version, but closes without any answer when the request line
 * has no URI at all ("GARBAGE"). */
static void test_malformed_request(void **state)
{
    (void)state;
    struct admin_http *h = start(NULL, 8, 65536, 30);
    uint16_t port = admin_http_port(h);
    struct resp r;
    static const struct {
        const char *req;
        bool clean; /* one well-formed answer, then the server closes */
    } bad400[] = {
        {"GET /\r\n\r\n", true},
        {"GET /x HTTP/1.1\r\nHost: t\r\nno colon here\r\n\r\n", true},
        {"GET /x FOO/1.1\r\nHost: t\r\n\r\n", true},
        {"POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", true},
        /* 0.9.75 sends its response head twice here (its bug): only the
         * status is asserted */
        {"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n", false},
    };
    for (size_t i = 0; i < sizeof bad400 / sizeof bad400[0]; i++) {
        struct conn *c = dial(port);
        send_str(c, bad400[i].req);
        assert_int_equal(read_resp(c, &r), 1);
        if (r.status != 400)
            fail_msg("%s: status %d", bad400[i].req, r.status);
        if (bad400[i].clean)
            assert_true(closed_by_server(c));
        hang_up(c);
    }
    struct conn *c = dial(port);
    send_str(c, "GARBAGE\r\n\r\n");
    assert_int_equal(read_resp(c, &r), 0); /* closed, no answer */
    hang_up(c);
    assert_int_equal(seen_calls(), 0);
    assert_int_equal(roundtrip(port, "GET /ok HTTP/1.1\r\nHost: t\r\n\r\n", &r), 200);
    admin_http_stop(h);
}

/* Headers past the 16 KiB connection memory: libmicrohttpd refuses them
 * itself (431, or 413 in some versions), the handler never runs. */
static void test_headers_too_large(void **state)
{
    (void)state;
    struct admin_http *h = start(NULL, 8, 65536, 30);
    size_t n = 20 * 1024;
    char *req = malloc(n + 128);
    assert_non_null(req);
    int k = snprintf(req, 128, "GET /x HTTP/1.1\r\nHost: t\r\nX-Big: ");
    memset(req + k, 'b', n);
    strcpy(req + k + n, "\r\n\r\n");
    struct conn *c = dial(admin_http_port(h));
    (void)send_all(c, req, strlen(req));
    free(req);
    struct resp r;
    int rc = read_resp(c, &r);
    hang_up(c);
    assert_int_equal(rc, 1);
    if (r.status != 431 && r.status != 413)
        fail_msg("status %d for a 20 KiB header", r.status);
    assert_int_equal(seen_calls(), 0);
    admin_http_stop(h);
}

static void test_keep_alive(void **state)
{
    (void)state;
    struct admin_http *h = start(NULL, 8, 65536, 30);
    struct conn *c = dial(admin_http_port(h));
    struct resp r;
    send_str(c, "GET /one HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(read_resp(c, &r), 1);
    assert_int_equal(r.status, 200);
    send_str(c, "GET /two HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(read_resp(c, &r), 1);
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "path")), "/two");
    json_decref(j);
    assert_int_equal(seen_calls(), 2);
    hang_up(c);
    admin_http_stop(h);
}

/* max_connections 2: a third connection is closed without an HTTP answer
 * while the first two keep working. */
static void test_connection_limit(void **state)
{
    (void)state;
    struct admin_http *h = start(NULL, 2, 65536, 30);
    uint16_t port = admin_http_port(h);
    struct conn *a = dial(port), *b = dial(port);
    struct resp r;
    /* A request on each makes sure the server has accepted both. */
    send_str(a, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(read_resp(a, &r), 1);
    send_str(b, "GET /b HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(read_resp(b, &r), 1);
    struct conn *c = dial(port);
    (void)send_all(c, "GET /c HTTP/1.1\r\nHost: t\r\n\r\n", 29);
    assert_int_equal(read_resp(c, &r), 0);
    hang_up(c);
    send_str(a, "GET /a2 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(read_resp(a, &r), 1);
    assert_int_equal(r.status, 200);
    send_str(b, "GET /b2 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(read_resp(b, &r), 1);
    assert_int_equal(r.status, 200);
    assert_int_equal(seen_calls(), 4);
    /* Once one leaves, a new connection is served again. */
    hang_up(a);
    int status = 0;
    for (int i = 0; i < 50 && status != 200; i++) {
        struct conn *d = dial(port);
        (void)send_all(d, "GET /d HTTP/1.1\r\nHost: t\r\n\r\n", 29);
        if (read_resp(d, &r) == 1)
            status = r.status;
        hang_up(d);
        if (status != 200)
            usleep(20 * 1000); /* the server has not noticed a's close yet */
    }
    assert_int_equal(status, 200);
    hang_up(b);
    admin_http_stop(h);
}

static void test_handler_answers(void **state)
{
    (void)state;
    struct admin_http *h = start(NULL, 8, 65536, 30);
    uint16_t port = admin_http_port(h);
    struct resp r;
    char v[128];
    roundtrip(port, "DELETE /method HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_json_error(&r, 405);
    assert_true(header(&r, "Allow", v, sizeof v));
    assert_string_equal(v, "GET, POST");
    roundtrip(port, "GET /nothing HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_json_error(&r, 500);
    assert_non_null(memmem(r.body, r.body_len, "handler produced no answer", 26));
    roundtrip(port, "GET /badstatus HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_json_error(&r, 500);
    admin_http_stop(h);
}

static void test_resp_helpers(void **state)
{
    (void)state;
    struct admin_resp r = {.status = 200};
    admin_resp_json(&r, 201, json_pack("{s:f}", "x", 0.1));
    assert_int_equal(r.status, 201);
    assert_null(r.content_type);
    assert_int_equal(r.len, strlen(r.body));
    assert_int_equal(r.body[r.len - 1], '\n');
    assert_non_null(strstr(r.body, "0.1\n")); /* not 0.10000000000000001 */
    admin_resp_json(&r, 200, NULL);           /* replaces (and frees) the previous body */
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(r.body, "out of memory"));
    admin_resp_error(&r, 404, "no backend named \"%s\"", "x\"y");
    assert_int_equal(r.status, 404);
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "error")),
                        "no backend named \"x\"y\"");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
    json_decref(j);
    free(r.body);
}

static void test_port_taken(void **state)
{
    (void)state;
    struct admin_http *h = start(NULL, 8, 65536, 30);
    struct admin_http_opts o = {
        .address = "127.0.0.1", .port = admin_http_port(h), .max_connections = 8, .max_body = 1024};
    struct admin_http *h2 = (struct admin_http *)(uintptr_t)1; /* must be reset to NULL */
    char err[256] = "", want[64];
    assert_int_equal(admin_http_start(&h2, &o, handler, &seen, err, sizeof err), -1);
    assert_null(h2);
    snprintf(want, sizeof want, "admin: listen on 127.0.0.1:%u: ", (unsigned)o.port);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, strerror(EADDRINUSE)));
    o.address = "localhost"; /* not a literal */
    assert_int_equal(admin_http_start(&h2, &o, handler, &seen, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"localhost\""));
    admin_http_stop(h);
    admin_http_stop(NULL);
}

static void test_ipv6(void **state)
{
    (void)state;
    struct admin_http_opts o = {.address = "::1", .max_connections = 4, .max_body = 1024};
    struct admin_http *h = NULL;
    char err[256] = "";
    if (admin_http_start(&h, &o, handler, &seen, err, sizeof err) != 0) {
        assert_non_null(strstr(err, "[::1]:0"));
        skip(); /* no IPv6 loopback here */
    }
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(admin_http_port(h))};
    sa.sin6_addr = in6addr_loopback;
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct conn *c = calloc(1, sizeof *c);
    c->fd = fd;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    send_str(c, "GET /v6 HTTP/1.1\r\nHost: t\r\n\r\n");
    struct resp r;
    assert_int_equal(read_resp(c, &r), 1);
    assert_int_equal(r.status, 200);
    hang_up(c);
    admin_http_stop(h);
}

/* Stop returns with idle connections open (one kept alive after a request,
 * one that never sent a byte), and closes them. */
static void test_stop_with_idle_connections(void **state)
{
    (void)state;
    struct admin_http *h = start(NULL, 8, 65536, 30);
    struct conn *a = dial(admin_http_port(h)), *b = dial(admin_http_port(h));
    struct resp r;
    send_str(a, "GET /x HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(read_resp(a, &r), 1);
    admin_http_stop(h);
    assert_true(closed_by_server(a));
    assert_true(closed_by_server(b));
    hang_up(a);
    hang_up(b);
}

/* An idle keep-alive connection is closed after idle_timeout_s. */
static void test_idle_timeout(void **state)
{
    (void)state;
    struct admin_http *h = start(NULL, 8, 65536, 1);
    struct conn *c = dial(admin_http_port(h));
    struct resp r;
    send_str(c, "GET /x HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(read_resp(c, &r), 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_true(closed_by_server(c)); /* within the 5 s read timeout */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(s > 0.5);
    hang_up(c);
    admin_http_stop(h);
}

int main(void)
{
    log_set_level(LOG_DEBUG); /* runs the per-request log line too */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_with_args),
        cmocka_unit_test(test_post_body_intact),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_body_too_large_announced),
        cmocka_unit_test(test_body_too_large_chunked),
        cmocka_unit_test(test_no_body_allowed),
        cmocka_unit_test(test_malformed_request),
        cmocka_unit_test(test_headers_too_large),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_handler_answers),
        cmocka_unit_test(test_resp_helpers),
        cmocka_unit_test(test_port_taken),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_stop_with_idle_connections),
        cmocka_unit_test(test_idle_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
