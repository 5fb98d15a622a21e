/*
 * admin_http.c - the admin port's HTTP server (admin_http.h): binds the
 * listener, runs libmicrohttpd (MHD) on its own thread, enforces the token,
 * the body limit and the connection limit, and turns each complete request
 * into one handler call. No HTTP parsing here: MHD parses; this file only
 * decides what to answer.
 *
 * One request through the access callback (MHD calls it several times):
 *
 *   call 1  headers parsed, *con_cls == NULL
 *             token wrong/missing      ─▶ 401 now (handler never runs)
 *             Content-Length > max_body ─▶ 413 now (body never read; MHD
 *                                          closes the connection after it)
 *             else allocate struct req, return YES (MHD may send 100-continue)
 *   call 2+ upload_data: append while it fits max_body; past it, free what
 *             we have, remember "too large", keep discarding (chunked bodies
 *             have no length up front)
 *   last    *upload_data_size == 0: too large ─▶ 413 (connection stays
 *             usable), else the handler ─▶ its answer
 *   done    MHD_OPTION_NOTIFY_COMPLETED frees struct req (also on aborts)
 *
 * A request without a body (every GET: what scrapers send) allocates
 * nothing here: its per-request state is a shared, never-written sentinel
 * until a first body byte arrives.
 *
 * The admin thread is SCHED_BATCH (admin_thread_init): the data plane's
 * threads share the same cores, and a woken normal thread preempts the one
 * running, so every scrape would interrupt a worker or a backend mid-query.
 * A batch thread waits for the running thread's slice or its next sleep
 * instead; it gets the same CPU time, only later (an answer waits at most
 * a scheduler slice, a few ms, and only when every core is busy).
 */
#include "admin_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

/* The listen backlog: the admin port serves a few operators and scrapers;
 * 64 pending connections absorb a burst of scrapes without SYN drops. */
#define ADMIN_LISTEN_BACKLOG 64
/* MHD's per-connection memory pool, which bounds the request line plus the
 * headers (and the reply headers): 16 KiB is far above any sane admin
 * request (a long bearer token and a curl's headers are < 1 KiB). MHD
 * zeroes the pool for every request, so its size is paid per scrape (64
 * KiB was a tenth of a /metrics request's instructions). Over it MHD
 * itself answers 431 (headers) or 414/413. */
#define ADMIN_CONN_MEMORY            (16 * 1024)
#define ADMIN_IDLE_TIMEOUT_DEFAULT_S 30
/* "[ipv6]:port" */
#define ADMIN_NAME_MAX (INET6_ADDRSTRLEN + 8)

struct admin_http {
    struct MHD_Daemon *mhd;
    uint16_t port;
    char name[ADMIN_NAME_MAX]; /* address:port, for log lines */
    char *auth;                /* "Bearer <token>" compared in constant time, or NULL */
    size_t auth_len;
    size_t max_body;
    admin_handler_fn fn;
    void *arg;
    /* Connection limit, enforced at accept by on_accept(): MHD's own
     * MHD_OPTION_CONNECTION_LIMIT stops polling the listener at the limit,
     * which leaves extra clients hanging in the backlog instead of telling
     * them no. Touched by MHD's thread (and by MHD_stop_daemon after it
     * joined); atomic so that is not a rule anyone must remember. */
    unsigned max_conn;
    atomic_uint open;
    atomic_bool refusing; /* log the first refusal of a burst only */
};

/* Per request (MHD's *con_cls), from the first access call to the
 * completion notice. */
struct req {
    char *body; /* NULL until a byte arrives; freed once "too large" */
    size_t len, cap;
    bool too_large;
};

/* The state of every request that has sent no body byte (yet): read, never
 * written, never freed, so one instance serves all threads and requests.
 * The first body byte replaces it with a struct req of the request's own. */
static struct req no_body;
/* Same kind of sentinel: the struct req could not be allocated; the body
 * is discarded and the answer is 500. */
static struct req no_memory;

/* ---- small helpers ---------------------------------------------------- */

/* Once per thread, from MHD's first callback on its thread (MHD has no
 * thread-start hook): makes it SCHED_BATCH (see the top of the file).
 * Switching between SCHED_OTHER and SCHED_BATCH needs no privilege; if the
 * system refuses anyway the thread stays as it was, which is only slower
 * for the data plane, so it is logged and not fatal. */
static void admin_thread_init(void)
{
    static _Thread_local bool done;
    if (done)
        return;
    done = true;
    struct sched_param sp = {.sched_priority = 0};
    int rc = pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    if (rc != 0)
        log_warn("admin: http: cannot make the admin thread SCHED_BATCH (%s); it may preempt "
                 "the data plane's threads",
                 strerror(rc));
}

/* MHD's error log, sent to ours (MHD never writes to stderr itself once an
 * external logger is set). Its messages end in '\n'; log_msg adds one. */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fm, va_list ap)
{
    (void)cls;
    char line[512];
    int n = vsnprintf(line, sizeof line, fm, ap);
    if (n < 0)
        return;
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    log_warn("admin: http: %s", line);
}

/* MHD's fatal-error hook (an internal inconsistency in MHD): its default
 * prints to stderr; ours logs the reason first, then aborts the same way. */
static void mhd_panic(void *cls, const char *file, unsigned int line, const char *reason)
{
    (void)cls;
    log_error("admin: http: libmicrohttpd panic at %s:%u: %s", file ? file : "?", line,
              reason ? reason : "?");
    abort();
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Bearer check: the scheme is case-insensitive (RFC 7235 2.1), then the
 * credentials must equal the token. The compare runs over the whole token
 * whatever the input, so its time tells nothing about how many leading
 * bytes matched (only whether the length did). */
static bool auth_ok(const struct admin_http *h, const char *got)
{
    if (!h->auth)
        return true;
    if (!got || strncasecmp(got, "Bearer ", 7) != 0)
        return false;
    got += 7;
    while (*got == ' ')
        got++;
    const char *want = h->auth + 7;
    size_t want_len = h->auth_len - 7, got_len = strlen(got);
    /* Compare want against got (or against want itself when the length is
     * wrong, so the work done is the same) and fold the length check in. */
    const char *cmp = got_len == want_len ? got : want;
    int diff = CRYPTO_memcmp(want, cmp, want_len);
    return diff == 0 && got_len == want_len;
}

/* Appends upload data, or discards it once max_body is crossed. Never holds
 * more than max_body + 1 bytes (the NUL). */
static void req_append(struct req *q, size_t max_body, const char *data, size_t n)
{
    if (q->too_large)
        return;
    if (n > max_body - q->len) {
        q->too_large = true;
        free(q->body);
        q->body = NULL;
        q->len = q->cap = 0;
        return;
    }
    if (q->len + n + 1 > q->cap) {
        size_t cap = q->cap ? q->cap : 1024;
        while (cap < q->len + n + 1)
            cap *= 2;
        if (cap > max_body + 1)
            cap = max_body + 1;
        char *p = realloc(q->body, cap);
        if (!p) {
            /* Out of memory: answer as if it were too large rather than
             * hand the handler a truncated body. */
            q->too_large = true;
            free(q->body);
            q->body = NULL;
            q->len = q->cap = 0;
            return;
        }
        q->body = p;
        q->cap = cap;
    }
    memcpy(q->body + q->len, data, n);
    q->len += n;
    q->body[q->len] = '\0';
}

/* ---- responses -------------------------------------------------------- */

/* The last resort when even the error body cannot be allocated: static,
 * so MHD must not free it. */
static const char oom_body[] = "{\"error\": \"out of memory\", \"status\": 500}\n";

void admin_resp_json(struct admin_resp *r, unsigned status, json_t *body)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
    r->content_type = NULL;
    char *text = NULL;
    if (body) {
        /* Indented for people reading it with curl; 15 significant digits
         * print 0.1 as 0.1 rather than 0.10000000000000001. */
        text = json_dumps(body, JSON_INDENT(2) | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY);
        json_decref(body);
    }
    size_t n = text ? strlen(text) : 0;
    char *withnl = text ? realloc(text, n + 2) : NULL;
    if (!withnl) {
        free(text);
        r->status = 500;
        r->body = strdup(oom_body); /* NULL is handled by the server */
        r->len = r->body ? strlen(r->body) : 0;
        return;
    }
    withnl[n] = '\n';
    withnl[n + 1] = '\0';
    r->status = status;
    r->body = withnl;
    r->len = n + 1;
}

void admin_resp_error(struct admin_resp *r, unsigned status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int rc = vasprintf(&msg, fmt, ap);
    va_end(ap);
    json_t *o = rc < 0 ? NULL : json_pack("{s:s, s:I}", "error", msg, "status", (json_int_t)status);
    free(msg);
    admin_resp_json(r, status, o);
}

/* Queues resp on c (taking its body) with the headers every answer
 * carries. Returns MHD's verdict (MHD_NO closes the connection). */
static enum MHD_Result send_resp(struct MHD_Connection *c, const char *method, const char *url,
                                 struct admin_resp *resp)
{
    if (!resp->body || resp->status < 100 || resp->status > 599) {
        unsigned bad = resp->status;
        if (resp->body)
            admin_resp_error(resp, 500, "handler answered with status %u", bad);
        else
            admin_resp_error(resp, 500, "handler produced no answer");
        resp->allow = NULL;
    }
    unsigned status = resp->status;
    struct MHD_Response *mr = NULL;
    if (resp->body) {
        mr = MHD_create_response_from_buffer_with_free_callback(resp->len, resp->body, free);
        if (mr)
            resp->body = NULL; /* MHD frees it with the response */
    }
    if (!mr) {
        free(resp->body);
        resp->body = NULL;
        status = 500;
        resp->len = sizeof oom_body - 1;
        mr = MHD_create_response_from_buffer(resp->len, (void *)oom_body, MHD_RESPMEM_PERSISTENT);
        resp->content_type = NULL;
        resp->allow = NULL;
        if (!mr)
            return MHD_NO; /* nothing left to answer with: close */
    }
    const char *ctype = resp->content_type ? resp->content_type : "application/json";
    bool ok = MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) == MHD_YES &&
              MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES;
    if (ok && resp->allow)
        ok = MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW, resp->allow) == MHD_YES;
    if (ok && status == 401)
        ok = MHD_add_response_header(mr, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                     "Bearer realm=\"gtidproxy\"") == MHD_YES;
    enum MHD_Result rc = ok ? MHD_queue_response(c, status, mr) : MHD_NO;
    MHD_destroy_response(mr);
    if (log_enabled(LOG_DEBUG)) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        char peer[INET6_ADDRSTRLEN] = "?";
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            const void *a = sa->sa_family == AF_INET6
                                ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
            if (!inet_ntop(sa->sa_family, a, peer, sizeof peer))
                strcpy(peer, "?");
        }
        log_debug("admin: %s %s %s -> %u (%zu bytes)%s", peer, method, url, status, resp->len,
                  rc == MHD_YES ? "" : " not sent");
    }
    return rc;
}

/* The wrapper's own answers (401, 413): JSON error, handler not called. */
static enum MHD_Result send_error(struct MHD_Connection *c, const char *method, const char *url,
                                  unsigned status, const char *msg)
{
    struct admin_resp resp = {.status = status};
    admin_resp_error(&resp, status, "%s", msg);
    enum MHD_Result rc = send_resp(c, method, url, &resp);
    free(resp.body);
    return rc;
}

/* ---- requests --------------------------------------------------------- */

const char *admin_req_arg(const struct admin_req *r, const char *key)
{
    const char *v = NULL;
    if (MHD_lookup_connection_value_n(r->conn_, MHD_GET_ARGUMENT_KIND, key, strlen(key), &v,
                                      NULL) != MHD_YES)
        return NULL;
    return v ? v : "";
}

const char *admin_req_header(const struct admin_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn_, MHD_HEADER_KIND, name);
}

/* True when the request announces a body longer than max_body. A value
 * that is not a plain number is left to MHD, which rejects it with 400. */
static bool announced_too_large(struct MHD_Connection *c, size_t max_body)
{
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl || *cl < '0' || *cl > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    if (errno == ERANGE)
        return true;
    return *end == '\0' && n > max_body;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct admin_http *h = cls;
    struct req *q = *con_cls;
    if (!q) {
        /* Headers are in: refuse what we can refuse before reading a body. */
        const char *authz =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!auth_ok(h, authz))
            return send_error(c, method, url, 401,
                              authz ? "wrong bearer token" : "missing bearer token");
        if (announced_too_large(c, h->max_body)) {
            char msg[96];
            snprintf(msg, sizeof msg, "request body over %zu bytes (admin.max_body_bytes)",
                     h->max_body);
            return send_error(c, method, url, 413, msg);
        }
        *con_cls = &no_body;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (q == &no_body) {
            struct req *own = calloc(1, sizeof *own);
            q = own ? own : &no_memory;
            *con_cls = q;
        }
        if (q != &no_memory)
            req_append(q, h->max_body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (q == &no_memory)
        return send_error(c, method, url, 500, "out of memory");
    if (q->too_large) {
        char msg[96];
        snprintf(msg, sizeof msg, "request body over %zu bytes (admin.max_body_bytes)",
                 h->max_body);
        return send_error(c, method, url, 413, msg);
    }
    struct admin_req req = {
        .method = method,
        .path = url,
        .body = q->body ? q->body : "",
        .body_len = q->len,
        .conn_ = c,
    };
    struct admin_resp resp = {.status = 200};
    h->fn(h->arg, &req, &resp);
    enum MHD_Result rc = send_resp(c, method, url, &resp);
    free(resp.body);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct req *q = *con_cls;
    if (q && q != &no_body && q != &no_memory) {
        free(q->body);
        free(q);
    }
    *con_cls = NULL;
}

/* ---- connections ------------------------------------------------------ */

/* Accept policy: over max_conn open connections the new one is closed at
 * once, without an answer (an HTTP 503 would need reading its request
 * first, which is the work the limit is there to refuse). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addr;
    (void)addrlen;
    struct admin_http *h = cls;
    admin_thread_init(); /* every connection starts here, on MHD's thread */
    unsigned open = atomic_load(&h->open);
    if (open < h->max_conn)
        return MHD_YES;
    if (!atomic_exchange(&h->refusing, true))
        log_warn("admin: %u connections open on %s, refusing new ones (admin.max_connections)",
                 open, h->name);
    return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)c;
    (void)socket_context;
    struct admin_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&h->open, 1);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        atomic_fetch_sub(&h->open, 1);
        atomic_store(&h->refusing, false);
    }
}

/* ---- listener --------------------------------------------------------- */

/* Binds and listens on address:port. Returns the socket, or -1 with err. */
static int bind_listener(const char *address, uint16_t port, char *name, size_t namelen,
                         uint16_t *bound, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, address, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        sslen = sizeof *s4;
        snprintf(name, namelen, "%s:%u", address, (unsigned)port);
    } else if (inet_pton(AF_INET6, address, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        sslen = sizeof *s6;
        snprintf(name, namelen, "[%s]:%u", address, (unsigned)port);
    } else {
        set_err(err, errlen, "admin: address \"%s\" is not an IPv4 or IPv6 literal", address);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        set_err(err, errlen, "admin: socket for %s: %s", name, strerror(errno));
        return -1;
    }
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, ADMIN_LISTEN_BACKLOG) != 0) {
        set_err(err, errlen, "admin: listen on %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    sslen = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0) {
        set_err(err, errlen, "admin: getsockname for %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    *bound = ntohs(ss.ss_family == AF_INET6 ? s6->sin6_port : s4->sin_port);
    if (port == 0) /* name the real port in later log lines */
        snprintf(name, namelen, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", address,
                 (unsigned)*bound);
    return fd;
}

int admin_http_start(struct admin_http **out, const struct admin_http_opts *o, admin_handler_fn fn,
                     void *arg, char *err, size_t errlen)
{
    *out = NULL;
    struct admin_http *h = calloc(1, sizeof *h);
    if (!h) {
        set_err(err, errlen, "admin: out of memory");
        return -1;
    }
    h->fn = fn;
    h->arg = arg;
    /* max_body + 1 (the NUL) must not wrap; the config caps it at 16 MiB. */
    h->max_body = o->max_body < SIZE_MAX / 4 ? o->max_body : SIZE_MAX / 4;
    if (o->token && *o->token) {
        if (asprintf(&h->auth, "Bearer %s", o->token) < 0) {
            h->auth = NULL;
            free(h);
            set_err(err, errlen, "admin: out of memory");
            return -1;
        }
        h->auth_len = strlen(h->auth);
    }
    int fd = bind_listener(o->address, o->port, h->name, sizeof h->name, &h->port, err, errlen);
    if (fd < 0) {
        free(h->auth);
        free(h);
        return -1;
    }
    /* MHD owns the socket it is given and closes it in MHD_stop_daemon;
     * whether it closes it when MHD_start_daemon fails is not documented.
     * Handing it a duplicate keeps ours to close either way: no double
     * close of a number another thread may have reused meanwhile (at worst
     * the duplicate leaks on that failure path). */
    int mhd_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (mhd_fd < 0) {
        set_err(err, errlen, "admin: dup listener %s: %s", h->name, strerror(errno));
        close(fd);
        free(h->auth);
        free(h);
        return -1;
    }
    MHD_set_panic_func(mhd_panic, NULL); /* process-wide; the same every time */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
    h->max_conn = o->max_connections ? o->max_connections : 1;
    unsigned idle = o->idle_timeout_s ? o->idle_timeout_s : ADMIN_IDLE_TIMEOUT_DEFAULT_S;
    unsigned mhd_limit = h->max_conn < UINT_MAX ? h->max_conn + 1 : h->max_conn;
    /* One option and its value(s) per line. */
    // clang-format off
    h->mhd = MHD_start_daemon(flags, 0, on_accept, h, on_request, h,
        /* first, so that no startup message escapes to stderr */
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, (void *)h,
        MHD_OPTION_LISTEN_SOCKET, mhd_fd,
        /* a backstop only: on_accept() refuses at max_conn */
        MHD_OPTION_CONNECTION_LIMIT, mhd_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, idle,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)ADMIN_CONN_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, (void *)h,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, (void *)h,
        MHD_OPTION_END);
    // clang-format on
    close(fd);
    if (!h->mhd) {
        set_err(err, errlen, "admin: cannot start the HTTP server on %s (see the log)", h->name);
        free(h->auth);
        free(h);
        return -1;
    }
    log_info("admin: listening on %s%s", h->name, h->auth ? " (bearer token required)" : "");
    *out = h;
    return 0;
}

uint16_t admin_http_port(const struct admin_http *h)
{
    return h->port;
}

void admin_http_stop(struct admin_http *h)
{
    if (!h)
        return;
    /* Joins MHD's thread: a handler call in progress finishes first; then
     * every connection and the listener are closed. */
    MHD_stop_daemon(h->mhd);
    log_info("admin: stopped listening on %s", h->name);
    if (h->auth)
        OPENSSL_cleanse(h->auth, h->auth_len);
    free(h->auth);
    free(h);
}
