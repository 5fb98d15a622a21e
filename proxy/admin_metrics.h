/*
 * admin_metrics.h - GET /metrics: the Prometheus text exposition (format
 * 0.0.4) of what /status, /backends and /consistency show. The text is
 * rendered from those views' JSON, so the two can never disagree.
 */
#ifndef GTIDPROXY_ADMIN_METRICS_H
#define GTIDPROXY_ADMIN_METRICS_H

#include <jansson.h>
#include <stddef.h>

#include "admin.h"

/* The Content-Type /metrics answers with. */
#define ADMIN_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The Prometheus text of the three views (admin_view_*); malloc'd, *len set
 * (the text is also NUL-terminated); NULL on OOM. */
char *admin_metrics(const struct admin_ctx *a, size_t *len);

/* The same from given view objects (pure; tests feed hand-made JSON). A
 * sample whose value is missing or null is left out; its family's HELP and
 * TYPE lines are always there. Any view may be NULL (its families then have
 * no samples). malloc'd, *len set, NUL-terminated; NULL on OOM. */
char *admin_metrics_render(const json_t *status, const json_t *backends, const json_t *consistency,
                           size_t *len);

#endif
