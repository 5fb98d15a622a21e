/*
 * reload.h - re-reading the config file while running (SIGHUP and
 * POST /config/reload share it).
 */
#ifndef GTIDPROXY_RELOAD_H
#define GTIDPROXY_RELOAD_H

#include <jansson.h>

#include "proxy.h"

/*
 * Loads `file` and applies what can change safely (proxy_reload), one
 * reload at a time (px->reload_lock); logs the outcome and counts it in
 * px->reloads / reload_failures. Returns the report the admin API sends:
 *   {"reloaded": true, "changed": ["consistency.wait_timeout_ms", ...],
 *    "not_applied": ["admin (restart to apply)", ...]}
 *   {"reloaded": false, "error": "<file>: <key>: <problem>"}
 * ("changed": paths of the effective config that differ, secrets by path
 * only). NULL only when out of memory (the reload itself still happened
 * or failed as logged).
 */
json_t *reload_config(struct proxy *px, const char *file);

#endif
