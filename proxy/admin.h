/*
 * admin.h - the admin port: HTTP + JSON status and control, Prometheus
 * metrics (README "Admin API" documents every endpoint and field).
 *
 *   libmicrohttpd thread ──request──▶ admin_handle() (admin.c: routing, auth)
 *        │                              ├─ GET  /status /backends /consistency  admin_view.c
 *        │                              ├─ GET  /sessions   worker_call() per worker (admin_sessions.c)
 *        │                              ├─ GET  /config     config_json.c (secrets redacted)
 *        │                              ├─ GET  /metrics    admin_metrics.c (from the views)
 *        │                              └─ POST /backends/{name}/offline|online|drain, /config/reload
 *        └── admin_http.c: listener, limits, keep-alive, bearer token, JSON errors
 *
 * Everything the admin thread reads is shared state built for it: atomics
 * (counters, backend state), the monitor's table under its per-backend
 * locks, and the workers' sessions only through worker_call(). It never
 * blocks a worker: a view costs the data plane a few relaxed loads.
 */
#ifndef GTIDPROXY_ADMIN_H
#define GTIDPROXY_ADMIN_H

#include <jansson.h>
#include <stdint.h>

#include "proxy.h"
#include "worker.h"

struct admin_http;

/* What the admin thread may look at and do. */
struct admin_ctx {
    struct proxy *px;
    struct worker *workers;
    unsigned n_workers;
    /* Re-reads the config file like SIGHUP (serialised by px->reload_lock).
     * Returns a JSON report (admin.c answers with it; 200 when "reloaded"
     * is true, else 422): {"reloaded": bool, "changed": [paths],
     * "not_applied": [strings], "error": string (failures only)}. */
    json_t *(*reload)(void *arg);
    void *reload_arg;
    struct admin_http *http;
};

/* Starts the admin port when the config has one (else does nothing).
 * Returns 0, or -1 with the reason in err. */
int admin_start(struct admin_ctx *a, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Stops it (in-flight requests finish). Call before the workers are
 * joined: /sessions asks them. Idempotent. */
void admin_stop(struct admin_ctx *a);

/* The views (admin_view.c): each returns a new JSON object, NULL only when
 * out of memory. Field names are the README's. */
json_t *admin_view_status(const struct admin_ctx *a);
json_t *admin_view_backends(const struct admin_ctx *a);
json_t *admin_view_consistency(const struct admin_ctx *a);

/* GET /sessions (admin_sessions.c): sessions ordered by id, from offset,
 * at most limit of them; NULL when out of memory. */
json_t *admin_view_sessions(const struct admin_ctx *a, size_t offset, size_t limit);

#endif
