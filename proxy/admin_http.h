/*
 * admin_http.h - the admin port's HTTP server: a thin wrapper over
 * libmicrohttpd (one internal polling thread) that owns the listener, the
 * limits, keep-alive, the bearer token and the JSON error bodies, and hands
 * each complete request to one handler (admin.c routes it).
 *
 *   client ──TCP──▶ listen socket (bound here: errors name address:port)
 *                     │ accept; over max_connections: closed, no answer
 *                     ▼
 *                  libmicrohttpd thread (SCHED_BATCH): request line + headers (16 KiB pool)
 *                     │ token?  no/wrong ─▶ 401 + WWW-Authenticate
 *                     │ body > max_body ─▶ 413 (never buffered past max_body)
 *                     ▼
 *                  handler(arg, req, resp) ─▶ Content-Type, Cache-Control: no-store
 *
 * Every answer the wrapper makes itself is JSON: {"error": "...", "status": N}.
 * Requests are served one at a time on the server's thread, so a handler
 * never runs concurrently with itself.
 */
#ifndef GTIDPROXY_ADMIN_HTTP_H
#define GTIDPROXY_ADMIN_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct admin_http; /* opaque */

/* One complete request; valid during the handler call only. */
struct admin_req {
    const char *method, *path; /* path: percent-decoded, without the query string */
    const char *body;          /* whole body, NUL-terminated; "" when none */
    size_t body_len;           /* binary-safe length (body may hold NULs) */
    void *conn_;               /* private: the libmicrohttpd connection */
};

/* A query-string argument ("?limit=10" -> "10"); "" when given without a
 * value ("?verbose"); NULL when absent. Percent-decoded. */
const char *admin_req_arg(const struct admin_req *r, const char *key);
/* A request header (name case-insensitive), or NULL. */
const char *admin_req_header(const struct admin_req *r, const char *name);

/* The handler fills it. The server preset status 200, everything else 0/NULL. */
struct admin_resp {
    unsigned status;          /* 100..599, else the server answers 500 */
    const char *content_type; /* NULL: application/json */
    char *body;               /* malloc'd; the server frees it. NULL: 500 */
    size_t len;
    const char *allow; /* 405: value of the Allow header, else NULL */
};

typedef void (*admin_handler_fn)(void *arg, const struct admin_req *req, struct admin_resp *resp);

struct admin_http_opts {
    const char *address;      /* IPv4 or IPv6 literal */
    uint16_t port;            /* 0: any free port (tests; admin_http_port() tells) */
    const char *token;        /* NULL or "": no auth. Copied. */
    unsigned max_connections; /* open connections at once; 0 means 1 */
    size_t max_body;          /* request body bytes accepted (0: no body) */
    unsigned idle_timeout_s;  /* idle keep-alive connections closed after it; 0: 30 */
};

/* Binds, listens and starts the server thread. Returns 0 and *out, or -1 with
 * one line in err ("admin: listen on 127.0.0.1:6080: Address already in
 * use"). fn is called on the server's thread with arg. */
int admin_http_start(struct admin_http **out, const struct admin_http_opts *o, admin_handler_fn fn,
                     void *arg, char *err, size_t errlen) __attribute__((warn_unused_result));
/* The bound port (the real one when opts.port was 0). */
uint16_t admin_http_port(const struct admin_http *h);
/* Waits for the handler call in progress (if any) to return, joins the
 * server's thread, closes the listener and every connection (an answer
 * still being sent is cut off) and frees h. NULL is fine. */
void admin_http_stop(struct admin_http *h);

/* Serialises body into resp (status, JSON text + "\n") and releases body.
 * body NULL (a failed builder) or a failed dump -> 500 "out of memory". */
void admin_resp_json(struct admin_resp *r, unsigned status, json_t *body);
/* {"error": "<formatted message>", "status": status}. */
void admin_resp_error(struct admin_resp *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
