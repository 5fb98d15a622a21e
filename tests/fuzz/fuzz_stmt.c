/*
 * fuzz_stmt.c - libFuzzer target for protocol/stmt.c.
 *
 * Input: byte 0 is num_params (0..255), the rest one client payload. Every
 * function runs on it; whatever parses is checked, and a violation
 * abort()s:
 *   - proto_stmt_id / set_id: the id is bytes 1..4, set_id changes only
 *     those, and reads back;
 *   - proto_stmt_execute_parse: views inside the input and in wire order,
 *     lengths as num_params demands, values_off <= n;
 *   - types bound (or no parameters): with_types reproduces the input
 *     exactly after set_id, whatever types it is given;
 *   - not bound: with_types with made-up types parses back with
 *     types_bound, those types, the same id / flags / iterations / bitmap
 *     and the same values bytes, n + 2 * num_params long;
 *   - an output buffer of exactly that size is always enough.
 * Buffers are exact-size heap copies, so ASan sees any over-read.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gtidproxy/proto_stmt.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

static bool inside(struct proto_str s, const uint8_t *p, size_t n)
{
    if (s.len == 0)
        return true;
    return s.p >= p && s.len <= n && s.p - p <= (ptrdiff_t)(n - s.len);
}

static bool same(const uint8_t *a, const uint8_t *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

static void check_id(const uint8_t *p, size_t n)
{
    uint32_t id;
    int rc = proto_stmt_id(p, n, &id);
    if (rc != PROTO_OK) {
        CHECK(rc == PROTO_ETRUNC || rc == PROTO_EBAD);
        return;
    }
    CHECK(n >= 5 && id == proto_le32(p + 1));
    uint8_t *c = malloc(n);
    CHECK(c);
    memcpy(c, p, n);
    uint32_t other = ~id;
    CHECK(proto_stmt_set_id(c, n, other) == PROTO_OK);
    CHECK(proto_stmt_id(c, n, &id) == PROTO_OK && id == other);
    CHECK(c[0] == p[0] && same(c + 5, p + 5, n - 5));
    free(c);
}

static void check_execute(const uint8_t *p, size_t n, uint16_t np)
{
    struct proto_stmt_exec ex;
    int rc = proto_stmt_execute_parse(p, n, np, &ex);
    if (rc != PROTO_OK) {
        CHECK(rc == PROTO_ETRUNC || rc == PROTO_EBAD);
        return;
    }
    CHECK(n >= 10 && ex.values_off <= n);
    CHECK(ex.stmt_id == proto_le32(p + 1) && ex.flags == p[5] &&
          ex.iterations == proto_le32(p + 6));
    CHECK(inside(ex.null_bitmap, p, n) && inside(ex.types, p, n));
    if (np == 0) {
        CHECK(ex.null_bitmap.len == 0 && !ex.types_bound && ex.types.len == 0);
        CHECK(ex.values_off == 10);
    } else {
        size_t bm = ((size_t)np + 7) / 8;
        CHECK(ex.null_bitmap.len == bm && ex.null_bitmap.p == p + 10);
        CHECK(p[10 + bm] == (ex.types_bound ? 1 : 0));
        CHECK(ex.types.len == (ex.types_bound ? 2 * (size_t)np : 0));
        if (ex.types_bound)
            CHECK(ex.types.p == p + 11 + bm);
        CHECK(ex.values_off == 11 + bm + ex.types.len);
    }

    uint32_t id = ex.stmt_id ^ 0x5A5A5A5Au;
    bool insert = np > 0 && !ex.types_bound;
    size_t out_n = n + (insert ? 2 * (size_t)np : 0);
    uint8_t *out = malloc(out_n);
    uint8_t *types = malloc(2 * (size_t)np + 1);
    CHECK(out && types);
    for (size_t i = 0; i < 2 * (size_t)np + 1; i++)
        types[i] = (uint8_t)(i * 37 + 11);
    struct proto_str t = {types, 2 * (size_t)np};
    struct proto_wr w;

    /* A wrong types length is refused exactly when types are needed. */
    struct proto_str bad = {types, 2 * (size_t)np + 1};
    proto_wr_init(&w, out, out_n);
    rc = proto_stmt_execute_with_types(&w, p, n, np, bad, id);
    CHECK(insert ? rc == PROTO_EBAD && w.len == 0 : rc == PROTO_OK);

    proto_wr_init(&w, out, out_n);
    CHECK(proto_stmt_execute_with_types(&w, p, n, np, t, id) == PROTO_OK);
    CHECK(w.len == out_n);
    if (!insert) {
        uint8_t *c = malloc(n);
        CHECK(c);
        memcpy(c, p, n);
        CHECK(proto_stmt_set_id(c, n, id) == PROTO_OK);
        CHECK(same(out, c, n));
        free(c);
    } else {
        struct proto_stmt_exec again;
        CHECK(proto_stmt_execute_parse(out, out_n, np, &again) == PROTO_OK);
        CHECK(again.stmt_id == id && again.flags == ex.flags &&
              again.iterations == ex.iterations);
        CHECK(again.types_bound && again.types.len == t.len &&
              same(again.types.p, t.p, t.len));
        CHECK(again.null_bitmap.len == ex.null_bitmap.len &&
              same(again.null_bitmap.p, ex.null_bitmap.p, ex.null_bitmap.len));
        CHECK(out_n - again.values_off == n - ex.values_off &&
              same(out + again.values_off, p + ex.values_off, n - ex.values_off));
    }
    if (out_n > 0) {
        proto_wr_init(&w, out, out_n - 1);
        CHECK(proto_stmt_execute_with_types(&w, p, n, np, t, id) == PROTO_ENOSPACE);
    }
    free(types);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint16_t np = data[0];
    size_t n = size - 1;
    uint8_t *p = malloc(n ? n : 1); /* exact size for ASan when n > 0 */
    CHECK(p);
    if (n)
        memcpy(p, data + 1, n);
    else
        p[0] = 0; /* never read; keeps gcc's uninitialized check quiet */
    check_id(p, n);
    check_execute(p, n, np);
    free(p);
    return 0;
}
