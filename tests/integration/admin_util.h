/*
 * admin_util.h - what the admin API suite (it_admin.c) uses to talk to a
 * proxy's admin port and judge its answers:
 *   - HTTP through libcurl (one request per handle, never through an HTTP
 *     proxy from the environment), the status, the headers a test asserts
 *     (Content-Type, Allow, WWW-Authenticate) and the body parsed as JSON;
 *   - a raw TCP client for requests libcurl refuses to send (malformed ones);
 *   - JSON assertions by path ("backends[1].lag.seconds") and type set,
 *     and an exact key set for an object (adminspec: field names are final);
 *   - Prometheus text: one sample's value by its exact series name.
 *
 * Header-only (static inline): the build links each it_*.c with
 * cluster_env.c, proxy_env.c and raw_client.c only, and the fault suite
 * (fault_bigresult.c) uses it too, without raw_client.c. Functions named *_try never call
 * cmocka (its assertions longjmp and must not run on another thread); the
 * others fail the test.
 */
#ifndef GTIDPROXY_ADMIN_UTIL_H
#define GTIDPROXY_ADMIN_UTIL_H

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>

/* A request's budget: the admin views cost microseconds; 10 s only bounds
 * a proxy that stopped answering, so the test fails instead of hanging. */
#define AU_TIMEOUT_MS 10000L

/* ---- HTTP ---- */

struct au_resp {
    long status; /* 0: no answer (see err) */
    char *body;  /* NUL-terminated, malloc'd */
    size_t len;
    json_t *json;       /* body parsed, NULL when it is not JSON */
    char ctype[128];    /* Content-Type, "" when absent */
    char allow[64];     /* Allow */
    char www_auth[128]; /* WWW-Authenticate */
    char err[CURL_ERROR_SIZE];
};

static inline void au_resp_free(struct au_resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

static inline size_t au_on_body(char *p, size_t size, size_t n, void *arg)
{
    struct au_resp *r = arg;
    size_t add = size * n;
    char *b = realloc(r->body, r->len + add + 1);
    if (!b)
        return 0; /* curl then fails the transfer */
    memcpy(b + r->len, p, add);
    r->body = b;
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

/* Copies header `name`'s value (trimmed) into out when line is that header. */
static inline void au_header_value(const char *line, size_t n, const char *name, char *out,
                                   size_t outlen)
{
    size_t nl = strlen(name);
    if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    snprintf(out, outlen, "%.*s", (int)(end - v), v);
}

static inline size_t au_on_header(char *p, size_t size, size_t n, void *arg)
{
    struct au_resp *r = arg;
    size_t len = size * n;
    au_header_value(p, len, "Content-Type", r->ctype, sizeof r->ctype);
    au_header_value(p, len, "Allow", r->allow, sizeof r->allow);
    au_header_value(p, len, "WWW-Authenticate", r->www_auth, sizeof r->www_auth);
    return len;
}

/* A body fed to libcurl by its read callback: no length up front, so it
 * goes out chunked. */
struct au_upload {
    const char *p;
    size_t left;
};

static inline size_t au_on_read(char *buf, size_t size, size_t n, void *arg)
{
    struct au_upload *u = arg;
    size_t k = size * n < u->left ? size * n : u->left;
    memcpy(buf, u->p, k);
    u->p += k;
    u->left -= k;
    return k;
}

/* Thread-safe. One request to http://127.0.0.1:port<path>: method "GET" or
 * "POST" (any other is sent as a custom method), token NULL for none (else
 * an Authorization: Bearer header), body/body_len for POST (chunked: sent
 * with Transfer-Encoding: chunked, no Content-Length). Returns 0 with *r
 * filled (free it with au_resp_free), or -1 with r->err. */
static inline int au_http_try(unsigned port, const char *method, const char *path,
                              const char *token, const char *body, size_t body_len, bool chunked,
                              struct au_resp *r)
{
    memset(r, 0, sizeof *r);
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(r->err, sizeof r->err, "curl_easy_init failed");
        return -1;
    }
    char url[512], auth[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    struct curl_slist *hdr = NULL;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth);
    }
    struct au_upload up = {.p = body, .left = body_len};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, AU_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->err);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, au_on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, au_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        if (chunked) {
            hdr = curl_slist_append(hdr, "Transfer-Encoding: chunked");
            curl_easy_setopt(h, CURLOPT_READFUNCTION, au_on_read);
            curl_easy_setopt(h, CURLOPT_READDATA, &up);
        } else {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
        }
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    if (hdr)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    else if (!r->err[0])
        snprintf(r->err, sizeof r->err, "%s", curl_easy_strerror(rc));
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK)
        return -1;
    if (!r->body) {
        r->body = calloc(1, 1);
        if (!r->body)
            return -1;
    }
    r->json = json_loadb(r->body, r->len, 0, NULL);
    return 0;
}

/* The same; fails the test when there is no answer at all. */
static inline void au_http(unsigned port, const char *method, const char *path, const char *token,
                           const char *body, size_t body_len, struct au_resp *r)
{
    if (au_http_try(port, method, path, token, body, body_len, false, r) != 0)
        fail_msg("%s %s on admin port %u: %s", method, path, port, r->err);
}

/* A JSON answer with status `want` (and Content-Type application/json);
 * returns its document (a new reference: json_decref it). */
static inline json_t *au_json(unsigned port, const char *method, const char *path,
                              const char *token, long want)
{
    struct au_resp r;
    au_http(port, method, path, token, NULL, 0, &r);
    if (r.status != want || !r.json)
        fail_msg("%s %s: status %ld (want %ld), body %s%.400s", method, path, r.status, want,
                 r.json ? "" : "(not JSON) ", r.body);
    if (strcmp(r.ctype, "application/json") != 0)
        fail_msg("%s %s: Content-Type \"%s\", want application/json", method, path, r.ctype);
    json_t *doc = json_incref(r.json);
    au_resp_free(&r);
    return doc;
}

static inline json_t *au_get(unsigned port, const char *path)
{
    return au_json(port, "GET", path, NULL, 200);
}

/* Waits until the admin port answers HTTP at all (any status: a token
 * proxy answers 401), up to timeout_ms; fails the test after that. The
 * proxy starts its admin server after its client listener, which is what
 * proxy_start() waits for. */
static inline void au_wait_admin(unsigned port, unsigned timeout_ms)
{
    struct au_resp r;
    for (unsigned waited = 0;; waited += 20) {
        if (au_http_try(port, "GET", "/status", NULL, NULL, 0, false, &r) == 0) {
            au_resp_free(&r);
            return;
        }
        if (waited >= timeout_ms)
            fail_msg("admin port %u: no HTTP answer within %u ms: %s", port, timeout_ms, r.err);
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* ---- raw TCP ---- */

struct au_raw {
    char data[4096]; /* what came back, NUL-terminated (truncated) */
    size_t len;
    bool closed;    /* the server closed (EOF or reset) */
    bool timed_out; /* still open, silent, when the deadline passed */
};

/* Sends req (len bytes) on a new connection to the admin port and reads
 * until the server closes or timeout_ms passes. Fails the test when it
 * cannot connect or send. */
static inline void au_raw_request(unsigned port, const char *req, size_t len, unsigned timeout_ms,
                                  struct au_raw *out)
{
    memset(out, 0, sizeof *out);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long spent = (t.tv_sec - t0.tv_sec) * 1000L + (t.tv_nsec - t0.tv_nsec) / 1000000L;
        if (spent >= (long)timeout_ms) {
            out->timed_out = true;
            break;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n = poll(&pfd, 1, (int)(timeout_ms - (unsigned)spent));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            out->timed_out = n == 0;
            break;
        }
        char buf[1024];
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        if (got <= 0) {
            out->closed = true;
            break;
        }
        size_t keep = sizeof out->data - 1 - out->len;
        if ((size_t)got < keep)
            keep = (size_t)got;
        memcpy(out->data + out->len, buf, keep);
        out->len += keep;
        out->data[out->len] = '\0';
    }
    close(fd);
}

/* ---- JSON ---- */

enum {
    AU_STR = 1u << 0,
    AU_INT = 1u << 1,
    AU_REAL = 1u << 2,
    AU_NUM = AU_INT | AU_REAL,
    AU_BOOL = 1u << 3,
    AU_NULL = 1u << 4,
    AU_OBJ = 1u << 5,
    AU_ARR = 1u << 6,
};

static inline unsigned au_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return AU_STR;
    case JSON_INTEGER:
        return AU_INT;
    case JSON_REAL:
        return AU_REAL;
    case JSON_TRUE:
    case JSON_FALSE:
        return AU_BOOL;
    case JSON_NULL:
        return AU_NULL;
    case JSON_OBJECT:
        return AU_OBJ;
    case JSON_ARRAY:
        return AU_ARR;
    }
    return 0;
}

static inline const char *au_type_name(const json_t *v)
{
    static const char *const names[] = {"string", "integer", "real", "boolean",
                                        "null",   "object",  "array"};
    unsigned t = v ? au_type(v) : 0;
    for (unsigned i = 0; i < 7; i++)
        if (t == 1u << i)
            return names[i];
    return "absent";
}

/* The value at path under doc: keys apart by '.', array indexes in
 * brackets ("backends[1].lag.seconds", "users[0].password"); NULL when a
 * step is missing. */
static inline json_t *au_at(json_t *doc, const char *path)
{
    json_t *v = doc;
    const char *p = path;
    while (v && *p) {
        if (*p == '[') {
            char *end;
            unsigned long i = strtoul(p + 1, &end, 10);
            if (*end != ']')
                return NULL;
            v = json_is_array(v) ? json_array_get(v, i) : NULL;
            p = end + 1;
        } else {
            if (*p == '.')
                p++;
            size_t n = strcspn(p, ".[");
            char key[128];
            if (n == 0 || n >= sizeof key)
                return NULL;
            memcpy(key, p, n);
            key[n] = '\0';
            v = json_is_object(v) ? json_object_get(v, key) : NULL;
            p += n;
        }
    }
    return v;
}

/* The value at path, which must be of one of `types`; fails otherwise. */
static inline json_t *au_expect(json_t *doc, const char *path, unsigned types)
{
    json_t *v = au_at(doc, path);
    if (!v || !(au_type(v) & types))
        fail_msg("%s: %s, not of the documented type (mask 0x%x)", path, au_type_name(v), types);
    return v;
}

/* An integer >= 0 at path (every counter and duration of the API). */
static inline uint64_t au_count(json_t *doc, const char *path)
{
    json_int_t v = json_integer_value(au_expect(doc, path, AU_INT));
    if (v < 0)
        fail_msg("%s: %lld is negative", path, (long long)v);
    return (uint64_t)v;
}

static inline const char *au_str(json_t *doc, const char *path)
{
    return json_string_value(au_expect(doc, path, AU_STR));
}

static inline double au_num(json_t *doc, const char *path)
{
    return json_number_value(au_expect(doc, path, AU_NUM));
}

static inline void au_expect_str(json_t *doc, const char *path, const char *want)
{
    const char *got = au_str(doc, path);
    if (strcmp(got, want) != 0)
        fail_msg("%s: \"%s\", expected \"%s\"", path, got, want);
}

static inline void au_expect_null(json_t *doc, const char *path)
{
    au_expect(doc, path, AU_NULL);
}

/* "2026-11-21T10:00:00.123Z" (adminspec: *_at times). */
static inline void au_expect_time(json_t *doc, const char *path)
{
    const char *s = au_str(doc, path);
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    bool ok = strlen(s) == sizeof shape - 1;
    for (size_t i = 0; ok && shape[i]; i++)
        ok = shape[i] == 'd' ? s[i] >= '0' && s[i] <= '9' : s[i] == shape[i];
    if (!ok)
        fail_msg("%s: \"%s\" is not an ISO-8601 UTC time with milliseconds", path, s);
}

struct au_field {
    const char *key;
    unsigned types;
};

/* The object at path has exactly these keys, each of its type. */
static inline void au_expect_fields(json_t *doc, const char *path, const struct au_field *f,
                                    size_t n)
{
    json_t *o = *path ? au_expect(doc, path, AU_OBJ) : doc;
    assert_true(json_is_object(o));
    for (size_t i = 0; i < n; i++) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f[i].key);
        au_expect(doc, sub, f[i].types);
    }
    if (json_object_size(o) != n) {
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v)
        {
            bool known = false;
            for (size_t i = 0; i < n && !known; i++)
                known = strcmp(f[i].key, key) == 0;
            if (!known)
                fail_msg("%s: undocumented field \"%s\"", *path ? path : "(top)", key);
        }
    }
}
#define AU_FIELDS(doc, path, arr)                                                                  \
    au_expect_fields((doc), (path), (arr), sizeof(arr) / sizeof(arr)[0])

/* ---- Prometheus text ---- */

/* The value of the sample whose series is exactly `series` (name plus its
 * labels as the proxy prints them: gtidproxy_x{a="b",c="d"}); fails the test
 * when there is no such line. */
static inline double au_metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        if (strncmp(line, series, n) == 0 && line[n] == ' ')
            return strtod(line + n + 1, NULL);
        line = nl ? nl + 1 : NULL;
    }
    fail_msg("no sample \"%s\" in /metrics", series);
    return 0; /* not reached */
}

/* How many sample lines (not comments) start with prefix. */
static inline unsigned au_metric_lines(const char *text, const char *prefix)
{
    unsigned count = 0;
    size_t n = strlen(prefix);
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        if (line[0] != '#' && strncmp(line, prefix, n) == 0)
            count++;
        line = nl ? nl + 1 : NULL;
    }
    return count;
}

#endif
