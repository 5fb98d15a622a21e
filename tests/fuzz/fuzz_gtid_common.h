/*
 * fuzz_gtid_common.h - the invariants both GTID fuzz targets check, for one
 * flavor. Included by fuzz_gtid_mysql.c and fuzz_gtid_mariadb.c only.
 *
 * Input: set text, optionally "A|B" (split at the first '|'). Checked with
 * abort(), so a violated invariant is a crash libFuzzer reports:
 * - parse never reads past the input, fails with an offset inside it and
 *   leaves the set empty;
 * - format(parse(x)) re-parses to the same set and formats to the same bytes;
 *   format_len() is exact;
 * - s contains s, misses nothing of s, and s ∪ s = s;
 * - for A|B: A ∪ B contains both, equals B ∪ A, and missing(A, B) == 0
 *   exactly when A contains B.
 */
#ifndef GTIDPROXY_FUZZ_GTID_COMMON_H
#define GTIDPROXY_FUZZ_GTID_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gtidproxy/gtid_set.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

/* Parses p[0..n) into s; on success checks the single-set invariants. */
static int fuzz_gtid_one(struct gtid_set *s, const uint8_t *p, size_t n)
{
    size_t off = SIZE_MAX;
    int rc = gtid_set_parse(s, (const char *)p, n, &off);
    if (rc != PROTO_OK) {
        CHECK(rc == PROTO_EBAD || rc == PROTO_ETOOBIG || rc == GTID_ENOMEM);
        CHECK(off <= n);
        CHECK(gtid_set_is_empty(s));
        return rc;
    }
    size_t len = gtid_set_format_len(s);
    uint8_t *buf = malloc(len + 1);
    CHECK(buf != NULL);
    struct proto_wr w;
    proto_wr_init(&w, buf, len);
    gtid_set_format(s, &w);
    CHECK(proto_wr_finish(&w) == PROTO_OK && w.len == len);
    CHECK(gtid_set_is_empty(s) == (len == 0));

    struct gtid_set t;
    gtid_set_init(&t, s->flavor);
    CHECK(gtid_set_parse(&t, (const char *)buf, len, NULL) == PROTO_OK);
    CHECK(gtid_set_equal(s, &t));
    uint8_t *again = malloc(len + 1);
    CHECK(again != NULL);
    proto_wr_init(&w, again, len);
    gtid_set_format(&t, &w);
    CHECK(proto_wr_finish(&w) == PROTO_OK && w.len == len);
    CHECK(len == 0 || memcmp(buf, again, len) == 0);
    free(again);
    free(buf);

    CHECK(gtid_set_contains(s, s));
    CHECK(gtid_set_missing(s, s) == 0);
    CHECK(gtid_set_copy(&t, s) == PROTO_OK);
    CHECK(gtid_set_union(&t, s) == PROTO_OK);
    CHECK(gtid_set_equal(&t, s));
    CHECK(gtid_set_union(&t, &t) == PROTO_OK);
    CHECK(gtid_set_equal(&t, s));
    gtid_set_free(&t);
    return PROTO_OK;
}

static int fuzz_gtid_run(enum gtid_flavor flavor, const uint8_t *data, size_t size)
{
    struct gtid_set a, b, u, v;
    gtid_set_init(&a, flavor);
    gtid_set_init(&b, flavor);
    gtid_set_init(&u, flavor);
    gtid_set_init(&v, flavor);
    (void)fuzz_gtid_one(&a, data, size);

    const uint8_t *bar = memchr(data, '|', size);
    if (bar) {
        size_t na = (size_t)(bar - data);
        if (fuzz_gtid_one(&a, data, na) == PROTO_OK &&
            fuzz_gtid_one(&b, bar + 1, size - na - 1) == PROTO_OK) {
            CHECK(gtid_set_copy(&u, &a) == PROTO_OK);
            int rc = gtid_set_union(&u, &b);
            CHECK(rc == PROTO_OK || rc == PROTO_ETOOBIG);
            if (rc == PROTO_OK) {
                CHECK(gtid_set_contains(&u, &a) && gtid_set_contains(&u, &b));
                CHECK(gtid_set_copy(&v, &b) == PROTO_OK);
                CHECK(gtid_set_union(&v, &a) == PROTO_OK);
                CHECK(gtid_set_equal(&u, &v));
            } else {
                CHECK(gtid_set_equal(&u, &a)); /* failed union changed nothing */
            }
            CHECK((gtid_set_missing(&a, &b) == 0) == gtid_set_contains(&a, &b));
            CHECK((gtid_set_missing(&b, &a) == 0) == gtid_set_contains(&b, &a));
            if (gtid_set_contains(&a, &b) && gtid_set_contains(&b, &a) &&
                flavor == GTID_FLAVOR_MYSQL)
                CHECK(gtid_set_equal(&a, &b)); /* MySQL sets: ⊇ both ways is = */
        }
    }
    gtid_set_free(&a);
    gtid_set_free(&b);
    gtid_set_free(&u);
    gtid_set_free(&v);
    return 0;
}

#endif
