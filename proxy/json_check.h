/*
 * json_check.h - validating JSON config documents with messages that name
 * the key path and the problem ("<file>: backends[1].port: must be 1-65535,
 * got \"abc\""): what config.c and query_rules.c share.
 */
#ifndef GTIDPROXY_JSON_CHECK_H
#define GTIDPROXY_JSON_CHECK_H

#include <jansson.h>
#include <stddef.h>

/* Longest key path kept in messages ("query_rules[999].fallback[3]"); a
 * longer one is cut, which harms nothing. */
#define JCHECK_PATH_MAX 128

/* Where the first error goes: err gets "<file>: <path>: <problem>" (no
 * "<file>: " when file is NULL, no "<path>: " for the root's own path ""). */
struct jcheck {
    const char *file;
    char *err;
    size_t errlen;
};

/* Writes the error; returns -1 (so callers can `return jcheck_fail(...)`). */
int jcheck_fail(struct jcheck *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The value as the user wrote it, for "got ..." in messages (cut with
 * "..." to n bytes). */
void jcheck_shown(const json_t *v, char *buf, size_t n);

/* out (JCHECK_PATH_MAX bytes) := path.key, or key for the root path "". */
void jcheck_child(char *out, const char *path, const char *key);

/* obj is an object whose keys are all in allowed (NULL-terminated). */
int jcheck_object(struct jcheck *c, const json_t *obj, const char *path,
                  const char *const allowed[]);

/* v is one of the strings in names (NULL-terminated): *out = its index. */
int jcheck_pick(struct jcheck *c, const json_t *v, const char *path, const char *const names[],
                int *out);

#endif
