/*
 * sess_vars.c - session variables and schema, and their replay (sess_vars.h).
 */
#include "sess_vars.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gtidproxy/proto_session_state.h"

void svars_init(struct sess_vars *s)
{
    memset(s, 0, sizeof *s);
}

static void free_vars(struct sess_vars *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].name);
        free(s->v[i].value);
    }
    s->n = 0;
}

void svars_free(struct sess_vars *s)
{
    free_vars(s);
    free(s->v);
    free(s->schema);
    memset(s, 0, sizeof *s);
}

void svars_reset(struct sess_vars *s, bool keep_schema)
{
    free_vars(s);
    if (!keep_schema) {
        free(s->schema);
        s->schema = NULL;
        s->has_schema = false;
    }
    s->gen++;
}

static bool str_is(struct proto_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && strncasecmp((const char *)s.p, lit, n) == 0;
}

bool svars_is_internal(struct proto_str name)
{
    static const char prefix[] = "session_track_";
    if (name.len >= sizeof prefix - 1 &&
        strncasecmp((const char *)name.p, prefix, sizeof prefix - 1) == 0)
        return true;
    return str_is(name, "last_gtid");
}

static char *dup_str(struct proto_str s)
{
    char *d = malloc(s.len + 1);
    if (d) {
        memcpy(d, s.p, s.len);
        d[s.len] = '\0';
    }
    return d;
}

/* Index of name, or where it would be inserted (*found false). */
static size_t find(const struct sess_vars *s, const char *name, size_t len, bool *found)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strncasecmp(s->v[mid].name, name, len);
        if (c == 0 && s->v[mid].name[len] != '\0')
            c = 1;
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static int set_var(struct sess_vars *s, struct proto_str name, struct proto_str value);

static int grow(struct sess_vars *s)
{
    size_t cap = s->cap ? s->cap * 2 : 8;
    struct svar *v = realloc(s->v, cap * sizeof *v);
    if (!v)
        return -1;
    s->v = v;
    s->cap = cap;
    return 0;
}

int svars_set(struct sess_vars *s, struct proto_str name, struct proto_str value)
{
    if (svars_is_internal(name))
        return 0;
    uint64_t gen = s->gen;
    int rc = set_var(s, name, value);
    if (rc == 0 && s->gen != gen && str_is(name, "character_set_connection"))
        s->charset_touched = true;
    return rc;
}

static int set_var(struct sess_vars *s, struct proto_str name, struct proto_str value)
{
    bool found;
    size_t i = find(s, (const char *)name.p, name.len, &found);
    char *val = dup_str(value);
    if (!val)
        return -1;
    if (found) {
        if (strcmp(s->v[i].value, val) == 0) {
            free(val);
            return 0;
        }
        free(s->v[i].value);
        s->v[i].value = val;
        s->gen++;
        return 0;
    }
    char *nm = dup_str(name);
    if (!nm || (s->n == s->cap && grow(s) != 0)) {
        free(nm);
        free(val);
        return -1;
    }
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof s->v[0]);
    s->v[i].name = nm;
    s->v[i].value = val;
    s->n++;
    s->gen++;
    return 0;
}

int svars_set_schema(struct sess_vars *s, struct proto_str schema)
{
    if (s->has_schema && s->schema && strlen(s->schema) == schema.len &&
        memcmp(s->schema, schema.p, schema.len) == 0)
        return 0;
    char *d = dup_str(schema);
    if (!d)
        return -1;
    free(s->schema);
    s->schema = d;
    s->has_schema = true;
    s->gen++;
    return 0;
}

int svars_apply_block(struct sess_vars *s, struct proto_str block)
{
    struct proto_ss_iter it;
    proto_ss_iter_init(&it, block);
    while (!proto_ss_iter_done(&it)) {
        struct proto_ss_entry e;
        if (proto_ss_next(&it, &e) != PROTO_OK)
            return -1;
        struct proto_str name, value;
        if (e.type == PROTO_SESSION_TRACK_SYSTEM_VARIABLES) {
            if (proto_ss_sysvar(&e, &name, &value) != PROTO_OK || svars_set(s, name, value) != 0)
                return -1;
        } else if (e.type == PROTO_SESSION_TRACK_SCHEMA) {
            if (proto_ss_schema(&e, &name) != PROTO_OK || svars_set_schema(s, name) != 0)
                return -1;
        }
    }
    return 0;
}

int svars_copy(struct sess_vars *dst, const struct sess_vars *src)
{
    struct sess_vars tmp;
    svars_init(&tmp);
    for (size_t i = 0; i < src->n; i++) {
        struct proto_str n = {(const uint8_t *)src->v[i].name, strlen(src->v[i].name)};
        struct proto_str v = {(const uint8_t *)src->v[i].value, strlen(src->v[i].value)};
        if (svars_set(&tmp, n, v) != 0)
            goto fail;
    }
    if (src->has_schema) {
        struct proto_str sc = {(const uint8_t *)src->schema, strlen(src->schema)};
        if (svars_set_schema(&tmp, sc) != 0)
            goto fail;
    }
    tmp.gen = src->gen;
    svars_free(dst);
    *dst = tmp;
    return 0;
fail:
    svars_free(&tmp);
    return -1;
}

int svars_copy_vars(struct sess_vars *dst, const struct sess_vars *src)
{
    char *schema = dst->schema;
    bool has = dst->has_schema;
    dst->schema = NULL;
    int rc = svars_copy(dst, src);
    if (rc == 0) {
        free(dst->schema);
        dst->schema = schema;
        dst->has_schema = has;
    } else {
        dst->schema = schema;
    }
    return rc;
}

static const char *lookup(const struct sess_vars *s, const char *name)
{
    bool found;
    size_t i = find(s, name, strlen(name), &found);
    return found ? s->v[i].value : NULL;
}

static bool is_identifier(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

/* An integer or decimal literal: written bare, since integer variables
 * reject quoted values (ER_WRONG_TYPE_FOR_VAR). */
static bool is_number(const char *s)
{
    if (*s == '-')
        s++;
    if (!(*s >= '0' && *s <= '9'))
        return false;
    while (*s >= '0' && *s <= '9')
        s++;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

static int append_str(struct buf *out, const char *s)
{
    return buf_append(out, s, strlen(s));
}

static int append_quoted(struct buf *out, const char *v, bool backslash_escapes)
{
    if (buf_append(out, "'", 1) != 0)
        return -1;
    for (; *v; v++) {
        int rc;
        if (*v == '\'')
            rc = buf_append(out, "''", 2);
        else if (*v == '\\' && backslash_escapes)
            rc = buf_append(out, "\\\\", 2);
        else
            rc = buf_append(out, v, 1);
        if (rc != 0)
            return -1;
    }
    return buf_append(out, "'", 1);
}

int svars_sync_sql(const struct sess_vars *want, const struct sess_vars *have, const char *lead,
                   struct buf *out)
{
    const char *mode = lookup(have, "sql_mode");
    bool escapes = !(mode && strstr(mode, "NO_BACKSLASH_ESCAPES"));
    int count = 0;
    for (size_t i = 0; i < want->n; i++) {
        const struct svar *v = &want->v[i];
        const char *cur = lookup(have, v->name);
        if ((cur && strcmp(cur, v->value) == 0) || !is_identifier(v->name))
            continue;
        if (append_str(out, count ? ", " : lead) != 0 || append_str(out, "@@SESSION.") != 0 ||
            append_str(out, v->name) != 0 || append_str(out, " = ") != 0)
            return -1;
        int rc =
            is_number(v->value) ? append_str(out, v->value) : append_quoted(out, v->value, escapes);
        if (rc != 0)
            return -1;
        count++;
    }
    return count;
}

bool svars_schema_differs(const struct sess_vars *want, const struct sess_vars *have)
{
    if (!want->has_schema || !*want->schema)
        return false;
    return !have->has_schema || strcmp(want->schema, have->schema) != 0;
}
