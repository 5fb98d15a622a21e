/*
 * json_check.c - validating JSON config documents (json_check.h).
 */
#include "json_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jcheck_fail(struct jcheck *c, const char *path, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s%s%s%s%s", c->file ? c->file : "", c->file ? ": " : "", path,
             *path ? ": " : "", msg);
    return -1;
}

void jcheck_shown(const json_t *v, char *buf, size_t n)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(buf, n, "%s", s ? s : "?");
    if (strlen(buf) == n - 1 && n > 4)
        memcpy(buf + n - 4, "...", 4);
    free(s);
}

void jcheck_child(char *out, const char *path, const char *key)
{
    if (snprintf(out, JCHECK_PATH_MAX, "%s%s%s", path, *path ? "." : "", key) >= JCHECK_PATH_MAX)
        out[JCHECK_PATH_MAX - 1] = '\0';
}

int jcheck_object(struct jcheck *c, const json_t *obj, const char *path,
                  const char *const allowed[])
{
    if (!json_is_object(obj)) {
        char got[64];
        jcheck_shown(obj, got, sizeof got);
        return jcheck_fail(c, path, "must be an object, got %s", got);
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (!allowed[i]) {
            char p[JCHECK_PATH_MAX];
            jcheck_child(p, path, key);
            return jcheck_fail(c, p, "unknown key");
        }
    }
    return 0;
}

int jcheck_pick(struct jcheck *c, const json_t *v, const char *path, const char *const names[],
                int *out)
{
    if (json_is_string(v)) {
        for (int i = 0; names[i]; i++) {
            if (strcmp(names[i], json_string_value(v)) == 0) {
                *out = i;
                return 0;
            }
        }
    }
    char got[64], choices[128] = "";
    jcheck_shown(v, got, sizeof got);
    for (int i = 0; names[i]; i++)
        snprintf(choices + strlen(choices), sizeof choices - strlen(choices), "%s\"%s\"",
                 i ? ", " : "", names[i]);
    return jcheck_fail(c, path, "must be one of %s, got %s", choices, got);
}
