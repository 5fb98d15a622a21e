/*
 * config_json.h - a loaded config as JSON (GET /config) and the paths where
 * two such JSON documents differ (POST /config/reload's "changed", SIGHUP's
 * log line).
 *
 * The JSON has the config file's own shape and key order (conf/gtidproxy.json)
 * with every default filled in; absent optional values are JSON null, never
 * omitted. The loader does not accept null, so feeding the output back to
 * config_parse() needs the null members dropped first (they mean "absent").
 */
#ifndef GTIDPROXY_CONFIG_JSON_H
#define GTIDPROXY_CONFIG_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"

/* The string every secret is replaced by when redacting. */
#define CONFIG_JSON_REDACTED "<redacted>"

/* The effective config in the file's own shape, defaults filled in; with
 * redact, secrets (users[].password, users[].password_hash,
 * backend_credentials.password, monitor.password, admin.token) become
 * "<redacted>" (absent optional values are null, never redacted; an empty
 * password is a value and is redacted). "admin" is null when the admin port
 * is off; cfg->file is not part of it. The caller owns the result.
 * NULL only when out of memory (a loaded config's strings are valid UTF-8,
 * the only other thing jansson could refuse). */
json_t *config_to_json(const struct config *cfg, bool redact);

/* Paths where a and b differ, in order: object members by key (byte order:
 * "consistency.wait_timeout_ms"), array elements by index
 * ("backends[1].weight" before "backends[10].weight"). Arrays of different
 * length give the array's own path ("users"); a member present on one side
 * only, or of a different type on each side, gives its path ("admin" when
 * null on one side); scalars are compared by value, integer 5 and real 5.0
 * differ. Keys are joined verbatim (config keys hold no '.' or '['); differing
 * roots that are not both objects give the path "". Only paths, never values:
 * compute it on unredacted JSON so that a changed secret shows as a path.
 * a and b must be non-NULL. Returns a new JSON array of strings ([] when
 * equal), NULL when out of memory. */
json_t *config_json_diff(const json_t *a, const json_t *b);

#endif
