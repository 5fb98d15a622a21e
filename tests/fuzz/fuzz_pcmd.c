/*
 * fuzz_pcmd.c - pcmd_parse (proxy-answered statements) on arbitrary bytes.
 * Every invariant below abort()s:
 *
 *   - the kind and variable are valid enum values; PCMD_ERROR and only it
 *     carries a reason;
 *   - the value (SET) and column (SELECT) views lie inside the input, and
 *     only the kind that owns them sets them;
 *   - a SET value holds no backslash; a SELECT column starts with "@@";
 *   - parsing twice gives the same answer (no hidden state);
 *   - an accepted statement stays accepted with a blank appended and
 *     stops being accepted with "; DO 1" appended (nothing else may follow).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gtidproxy/proto_pcmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static void check_view(struct proto_str v, const uint8_t *p, size_t n)
{
    if (v.p == NULL) {
        CHECK(v.len == 0);
        return;
    }
    CHECK(v.p >= p && v.p <= p + n && v.len <= (size_t)(p + n - v.p));
}

static void check(const struct pcmd *r, const uint8_t *p, size_t n)
{
    CHECK((unsigned)r->kind <= PCMD_ERROR);
    CHECK((unsigned)r->var <= PCMD_VAR_TOKEN);
    CHECK((r->kind == PCMD_ERROR) == (r->error != NULL));
    check_view(r->value, p, n);
    check_view(r->column, p, n);
    if (r->kind != PCMD_SET)
        CHECK(r->value.p == NULL);
    if (r->kind != PCMD_SELECT)
        CHECK(r->column.p == NULL);
    if (r->kind == PCMD_SET) {
        CHECK(r->value.p != NULL);
        CHECK(r->value.len == 0 || memchr(r->value.p, '\\', r->value.len) == NULL);
    }
    if (r->kind == PCMD_SELECT)
        CHECK(r->column.len > 2 && r->column.p[0] == '@' && r->column.p[1] == '@');
}

/* Parses data + tail in a fresh exactly-sized buffer. */
static enum pcmd_kind kind_with_tail(const uint8_t *data, size_t size, const char *tail)
{
    size_t t = strlen(tail);
    uint8_t *buf = malloc(size + t);
    CHECK(buf != NULL);
    memcpy(buf, data, size);
    memcpy(buf + size, tail, t);
    struct pcmd r;
    CHECK(pcmd_parse(buf, size + t, &r) == PROTO_OK);
    check(&r, buf, size + t);
    free(buf);
    return r.kind;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pcmd r, again;
    CHECK(pcmd_parse(data, size, &r) == PROTO_OK);
    check(&r, data, size);
    CHECK(pcmd_parse(data, size, &again) == PROTO_OK);
    CHECK(again.kind == r.kind && again.var == r.var && again.error == r.error &&
          again.value.p == r.value.p && again.value.len == r.value.len &&
          again.column.p == r.column.p && again.column.len == r.column.len);

    if (r.kind == PCMD_SET || r.kind == PCMD_SELECT) {
        /* A line comment at the end would swallow the blank anyway; "\n"
         * ends one, so the statement is unchanged. */
        CHECK(kind_with_tail(data, size, "\n") == r.kind);
        CHECK(kind_with_tail(data, size, "\n; DO 1") == PCMD_ERROR);
    }
    return 0;
}
