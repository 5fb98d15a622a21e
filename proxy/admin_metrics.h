/*
 * admin_metrics.h - GET /metrics: the Prometheus text exposition (format
 * 0.0.4) of what /status, /backends, /consistency and /cache show. The
 * text is rendered from the same struct admin_snapshot the JSON views are
 * built from (admin_snapshot.h), so the two can never disagree.
 */
#ifndef GTIDPROXY_ADMIN_METRICS_H
#define GTIDPROXY_ADMIN_METRICS_H

#include <stddef.h>

#include "admin.h"
#include "admin_snapshot.h"

/* The Content-Type /metrics answers with. */
#define ADMIN_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Takes a snapshot (ADMIN_SNAP_METRICS: no GTID texts, nothing allocated)
 * and renders it: malloc'd text, *len set (also NUL-terminated); NULL on
 * OOM. The text buffer is the only allocation: it becomes the response
 * body, sized from the previous scrape so it does not grow while written. */
char *admin_metrics(const struct admin_ctx *a, size_t *len);

/* The text of a snapshot (pure; tests fill one by hand). Every family has
 * its HELP and TYPE lines; a part the snapshot did not take (s->parts) has
 * no samples, nor has a value the views show as null. Families, names,
 * labels and order are those of the JSON-based renderer this replaced,
 * with the cache families last. malloc'd, *len set, NUL-terminated; NULL
 * on OOM. */
char *admin_metrics_render(const struct admin_snapshot *s, size_t *len);

#endif
