/*
 * admin.h - the admin port: HTTP + JSON status and control, Prometheus
 * metrics (README "Admin API" documents every endpoint and field).
 *
 *   libmicrohttpd thread ──request──▶ admin_handle() (admin.c: routing, auth)
 *        │                              ├─ GET  /status /backends /consistency /cache
 *        │                              ├─ GET  /sessions   worker_call() per worker (admin_sessions.c)
 *        │                              ├─ GET  /config     config_json.c (secrets redacted)
 *        │                              ├─ GET  /metrics    admin_metrics.c
 *        │                              └─ POST /backends/{name}/offline|online|drain, /config/reload
 *        └── admin_http.c: listener, limits, keep-alive, bearer token, JSON errors
 *
 * The four views (admin_view.c) and /metrics are built from one kind of
 * struct admin_snapshot (admin_snapshot.c reads the shared state), so the
 * JSON and the Prometheus text cannot disagree.
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
struct admin_snapshot;

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

/* The views (admin_view.c): each takes the snapshot parts it shows
 * (admin_snapshot.h) and returns a new JSON object, NULL only when out of
 * memory. Field names are the README's. */
json_t *admin_view_status(const struct admin_ctx *a);
json_t *admin_view_backends(const struct admin_ctx *a);
json_t *admin_view_consistency(const struct admin_ctx *a);
json_t *admin_view_cache(const struct admin_ctx *a);

/* The same documents from a snapshot holding their parts (pure: tests
 * fill one by hand). NULL only when out of memory. */
json_t *admin_status_json(const struct admin_snapshot *s);
json_t *admin_backends_json(const struct admin_snapshot *s);
json_t *admin_consistency_json(const struct admin_snapshot *s);
json_t *admin_cache_json(const struct admin_snapshot *s);

/* GET /sessions (admin_sessions.c): sessions ordered by id, from offset,
 * at most limit of them; NULL when out of memory. */
json_t *admin_view_sessions(const struct admin_ctx *a, size_t offset, size_t limit);

#endif
