/* test_gtid_mysql.c - MySQL GTID sets: parse/format tables, malformed text,
 * set algebra against a bitmap model, limits, add, copy. Expected texts are
 * built by hand from the grammar in sql/rpl_gtid_set.cc (see gtid_mysql.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gtidproxy/gtid_set.h"

#define U1   "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define U1UP "3E11FA47-71CA-11E1-9E33-C80AA9429562"
#define U2   "4d22ab33-0000-11e1-8000-00000000000a"
#define U3   "ffffffff-ffff-ffff-ffff-ffffffffffff"
#define T32  "abcdefghijklmnopqrstuvwxyz_01234"

/* Parses text from an exactly sized heap copy, so ASan sees any overread. */
static int parse_exact(struct gtid_set *s, const char *text, size_t len, size_t *off)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    int rc = gtid_set_parse(s, copy, len, off);
    free(copy);
    return rc;
}

static void parse_ok(struct gtid_set *s, const char *text)
{
    size_t off = 99;
    int rc = parse_exact(s, text, strlen(text), &off);
    if (rc != PROTO_OK)
        fail_msg("parse \"%s\" = %d at %zu", text, rc, off);
}

/* Canonical text of s as a C string in buf. */
static const char *fmt(const struct gtid_set *s, char *buf, size_t cap)
{
    struct proto_wr w;
    proto_wr_init(&w, buf, cap - 1);
    gtid_set_format(s, &w);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    assert_int_equal(w.len, gtid_set_format_len(s));
    buf[w.len] = '\0';
    size_t tlen = 0; /* gtid_set_text: the same text, allocated */
    char *text = gtid_set_text(s, &tlen);
    assert_non_null(text);
    assert_int_equal(tlen, w.len);
    assert_string_equal(text, buf);
    free(text);
    return buf;
}

struct canon_vec {
    const char *in, *out;
};

static const struct canon_vec canon_vecs[] = {
    /* PROTOCOL.md 3.2 example; the server prints uuids lower case. */
    {U1UP ":23", U1 ":23"},
    {"", ""},
    {" \t\n ", ""},
    {U1 ":1-3:4-5", U1 ":1-5"},     /* adjacent intervals merge */
    {U1 ":1-5:3-8", U1 ":1-8"},     /* overlapping */
    {U1 ":7-9:1-5", U1 ":1-5:7-9"}, /* unsorted */
    {U1 ":5-5", U1 ":5"},
    {U1 ":1-10:2-3:4", U1 ":1-10"},             /* contained */
    {U2 ":1-3,\n" U1 ":5", U1 ":5," U2 ":1-3"}, /* server's ",\n", uuid order */
    {U1 ":1-2," U1 ":3", U1 ":1-3"},            /* same uuid twice */
    {"  " U1 " : 1 - 3 : 5 ,\t" U2 ":1  ", U1 ":1-3:5," U2 ":1"},
    {U1 ":9223372036854775806", U1 ":9223372036854775806"},
    {U1 ":1-9223372036854775806", U1 ":1-9223372036854775806"},
    /* tagged GTIDs (MySQL 8.3+): lower case, untagged first, tags sorted */
    {U1 ":TagA:1-3", U1 ":taga:1-3"},
    {U1 ":1-5:tag_b:1:tag_a:2-3", U1 ":1-5:tag_a:2-3:tag_b:1"},
    {U1 ":ab:1," U1 ":AB:2", U1 ":ab:1-2"},
    {U1 ":_x:1:x9:2", U1 ":_x:1:x9:2"},
    {U1 ":" T32 ":7", U1 ":" T32 ":7"},
    {U1 ":t:1-2:5," U1 ":3", U1 ":3:t:1-2:5"},
    {U1 ": t :1", U1 ":t:1"},
    {U3 ":1," U2 ":a:1:b:2," U1 ":1", U1 ":1," U2 ":a:1:b:2," U3 ":1"},
};

static void test_canonical(void **state)
{
    (void)state;
    struct gtid_set s, again;
    gtid_set_init(&s, GTID_FLAVOR_MYSQL);
    gtid_set_init(&again, GTID_FLAVOR_MYSQL);
    char buf[512];
    for (size_t i = 0; i < sizeof canon_vecs / sizeof canon_vecs[0]; i++) {
        parse_ok(&s, canon_vecs[i].in);
        assert_string_equal(fmt(&s, buf, sizeof buf), canon_vecs[i].out);
        assert_int_equal(gtid_set_is_empty(&s), canon_vecs[i].out[0] == '\0');
        /* format is a fixed point */
        parse_ok(&again, buf);
        assert_true(gtid_set_equal(&s, &again));
    }
    gtid_set_free(&s);
    gtid_set_free(&again);
}

struct bad_vec {
    const char *in;
    int rc;
    size_t off;
};

static const struct bad_vec bad_vecs[] = {
    {U1, PROTO_EBAD, 36},       /* missing colon: bare uuid */
    {U1 "1-5", PROTO_EBAD, 36}, /* missing colon */
    {U1 ":", PROTO_EBAD, 37},
    {U1 ":0", PROTO_EBAD, 37},   /* gno 0 */
    {U1 ":5-3", PROTO_EBAD, 39}, /* reversed */
    {U1 ":5-0", PROTO_EBAD, 39},
    {U1 ":010", PROTO_EBAD, 37}, /* octal to the server */
    {U1 ":0x10", PROTO_EBAD, 37},
    {U1 ":+5", PROTO_EBAD, 37},
    {U1 ":-5", PROTO_EBAD, 37},
    {U1 ":1-", PROTO_EBAD, 39},
    {U1 ":1-2-3", PROTO_EBAD, 40},
    {U1 "::1", PROTO_EBAD, 37},
    {U1 ":1:", PROTO_EBAD, 39},
    {U1 ":9223372036854775807", PROTO_EBAD, 55}, /* 2^63-1 = GNO_END */
    {U1 ":9223372036854775808", PROTO_EBAD, 55},
    {U1 ":1-99999999999999999999", PROTO_EBAD, 57},
    {"3e11fa47-71ca-11e1-9e33-c80aa942956g:1", PROTO_EBAD, 0}, /* bad uuid */
    {"3e11fa4771ca11e19e33c80aa9429562:1", PROTO_EBAD, 0},     /* no dashes */
    {"3e11fa47-71ca-11e1-9e33-c80aa942956:1", PROTO_EBAD, 0},  /* short */
    {"3e11fa47_71ca-11e1-9e33-c80aa9429562:1", PROTO_EBAD, 0},
    {"{3e11fa47-71ca-11e1-9e33-c80aa9429562}:1", PROTO_EBAD, 0},
    {U1 ":t", PROTO_EBAD, 38}, /* tag without interval */
    {U1 ":t,", PROTO_EBAD, 38},
    {U1 ":t1:t2:1", PROTO_EBAD, 40},
    {U1 ":1tag:1", PROTO_EBAD, 38}, /* tag cannot start with digit */
    {U1 ":ta-g:1", PROTO_EBAD, 39},
    {U1 ":t\xc3\xa9:1", PROTO_EBAD, 38}, /* non-ASCII tag */
    {U1 ":" T32 "x:1", PROTO_EBAD, 37},  /* 33 chars */
    {U1 ":1,", PROTO_EBAD, 39},          /* trailing comma */
    {U1 ":1, ", PROTO_EBAD, 40},
    {"," U1 ":1", PROTO_EBAD, 0}, /* leading comma */
    {U1 ":1,," U2 ":1", PROTO_EBAD, 39},
    {",", PROTO_EBAD, 0},
    {U1 ":1 " U2 ":1", PROTO_EBAD, 39},
    {"ANONYMOUS", PROTO_EBAD, 0},
    {"+" U1 ":1", PROTO_EBAD, 0},
    {U1 ":1\0", PROTO_EBAD, 38}, /* NUL inside the length */
};

static void test_malformed(void **state)
{
    (void)state;
    struct gtid_set s;
    gtid_set_init(&s, GTID_FLAVOR_MYSQL);
    for (size_t i = 0; i < sizeof bad_vecs / sizeof bad_vecs[0]; i++) {
        const char *in = bad_vecs[i].in;
        size_t len = strlen(in);
        if (i == sizeof bad_vecs / sizeof bad_vecs[0] - 1)
            len++; /* the vector with an embedded NUL */
        /* start from a non-empty set: an error must leave it empty */
        parse_ok(&s, U1 ":1-100");
        size_t off = 12345;
        int rc = parse_exact(&s, in, len, &off);
        if (rc != bad_vecs[i].rc || off != bad_vecs[i].off)
            fail_msg("vector %zu \"%s\": rc %d off %zu, want %d at %zu", i, in, rc, off,
                     bad_vecs[i].rc, bad_vecs[i].off);
        assert_true(gtid_set_is_empty(&s));
    }
    gtid_set_free(&s);
}

/* Every prefix of every vector is parsed from an exactly sized buffer: it is
 * a valid or invalid text, never an overread, and on success its format is a
 * fixed point. */
static void test_prefixes(void **state)
{
    (void)state;
    struct gtid_set s, again;
    gtid_set_init(&s, GTID_FLAVOR_MYSQL);
    gtid_set_init(&again, GTID_FLAVOR_MYSQL);
    char buf[512];
    for (size_t i = 0; i < sizeof canon_vecs / sizeof canon_vecs[0]; i++) {
        const char *in = canon_vecs[i].in;
        for (size_t cut = 0; cut <= strlen(in); cut++) {
            size_t off = 0;
            int rc = parse_exact(&s, in, cut, &off);
            if (rc != PROTO_OK) {
                assert_int_equal(rc, PROTO_EBAD);
                assert_true(off <= cut);
                continue;
            }
            parse_ok(&again, fmt(&s, buf, sizeof buf));
            assert_true(gtid_set_equal(&s, &again));
        }
    }
    gtid_set_free(&s);
    gtid_set_free(&again);
}

struct rel_vec {
    const char *a, *b;
    bool contains;
    uint64_t missing;
    const char *uni;
};

static const struct rel_vec rel_vecs[] = {
    {U1 ":1-10", U1 ":3-5", true, 0, U1 ":1-10"},
    {U1 ":1-10", U1 ":3-11", false, 1, U1 ":1-11"},
    {U1 ":1-10", U1 ":12", false, 1, U1 ":1-10:12"},
    {U1 ":1-10", U1 ":11", false, 1, U1 ":1-11"},
    {U1 ":1-10", "", true, 0, U1 ":1-10"},
    {"", U1 ":1-10", false, 10, U1 ":1-10"},
    {"", "", true, 0, ""},
    {U1 ":1-10", U1 ":t:1", false, 1, U1 ":1-10:t:1"}, /* tag is its own source */
    {U1 ":1-10", U2 ":1", false, 1, U1 ":1-10," U2 ":1"},
    {U1 ":1-10," U2 ":1-5", U1 ":5-15:20," U2 ":3", false, 6, U1 ":1-15:20," U2 ":1-5"},
    {U1 ":1-3:7-9", U1 ":4-6", false, 3, U1 ":1-9"},
    {U1 ":1-3:7-9", U1 ":2:8", true, 0, U1 ":1-3:7-9"},
    {U1 ":1-3:7-9", U1 ":2-8", false, 3, U1 ":1-9"},
    {U1 ":1:3:5:7", U1 ":2:4:6", false, 3, U1 ":1-7"},
    {U1 ":5-6", U1 ":1-2:9-10", false, 4, U1 ":1-2:5-6:9-10"},
    /* saturation: 3 * (2^63 - 2) transactions do not fit in 64 bits */
    {"", U1 ":1-9223372036854775806," U2 ":1-9223372036854775806," U3 ":1-9223372036854775806",
     false, UINT64_MAX,
     U1 ":1-9223372036854775806," U2 ":1-9223372036854775806," U3 ":1-9223372036854775806"},
    {"", U1 ":1-9223372036854775806," U2 ":1-9223372036854775806", false, UINT64_MAX - 3,
     U1 ":1-9223372036854775806," U2 ":1-9223372036854775806"},
};

static void test_relations(void **state)
{
    (void)state;
    struct gtid_set a, b, u;
    gtid_set_init(&a, GTID_FLAVOR_MYSQL);
    gtid_set_init(&b, GTID_FLAVOR_MYSQL);
    gtid_set_init(&u, GTID_FLAVOR_MYSQL);
    char buf[512];
    for (size_t i = 0; i < sizeof rel_vecs / sizeof rel_vecs[0]; i++) {
        parse_ok(&a, rel_vecs[i].a);
        parse_ok(&b, rel_vecs[i].b);
        assert_int_equal(gtid_set_contains(&a, &b), rel_vecs[i].contains);
        assert_true(gtid_set_missing(&a, &b) == rel_vecs[i].missing);
        assert_int_equal(gtid_set_copy(&u, &a), PROTO_OK);
        assert_int_equal(gtid_set_union(&u, &b), PROTO_OK);
        assert_string_equal(fmt(&u, buf, sizeof buf), rel_vecs[i].uni);
        assert_true(gtid_set_contains(&u, &a));
        assert_true(gtid_set_contains(&u, &b));
        /* the other order gives the same union */
        assert_int_equal(gtid_set_copy(&u, &b), PROTO_OK);
        assert_int_equal(gtid_set_union(&u, &a), PROTO_OK);
        assert_string_equal(fmt(&u, buf, sizeof buf), rel_vecs[i].uni);
    }
    gtid_set_free(&a);
    gtid_set_free(&b);
    gtid_set_free(&u);
}

static struct gtid_tsid tsid_of(const char *uuid_text, const char *tag)
{
    struct gtid_set s;
    char text[128];
    gtid_set_init(&s, GTID_FLAVOR_MYSQL);
    snprintf(text, sizeof text, "%s%s%s:1", uuid_text, tag[0] ? ":" : "", tag);
    parse_ok(&s, text);
    struct gtid_tsid t = s.u.my.run[0].tsid;
    gtid_set_free(&s);
    return t;
}

static void test_add(void **state)
{
    (void)state;
    struct gtid_set s;
    char buf[512];
    gtid_set_init(&s, GTID_FLAVOR_MYSQL);
    struct gtid_tsid t1 = tsid_of(U1, ""), t1a = tsid_of(U1, "a"), t2 = tsid_of(U2, "");
    assert_int_equal(gtid_mysql_add(&s, &t1, 2), PROTO_OK);
    assert_int_equal(gtid_mysql_add(&s, &t1, 3), PROTO_OK);
    assert_int_equal(gtid_mysql_add(&s, &t1, 5), PROTO_OK);
    assert_string_equal(fmt(&s, buf, sizeof buf), U1 ":2-3:5");
    assert_int_equal(gtid_mysql_add(&s, &t1, 4), PROTO_OK); /* fills the gap */
    assert_int_equal(gtid_mysql_add(&s, &t1, 1), PROTO_OK);
    assert_int_equal(gtid_mysql_add(&s, &t1, 3), PROTO_OK); /* already there */
    assert_string_equal(fmt(&s, buf, sizeof buf), U1 ":1-5");
    assert_int_equal(gtid_mysql_add(&s, &t2, 7), PROTO_OK);
    assert_int_equal(gtid_mysql_add(&s, &t1a, 1), PROTO_OK);
    assert_string_equal(fmt(&s, buf, sizeof buf), U1 ":1-5:a:1," U2 ":7");
    assert_int_equal(s.u.my.n_iv, 3);

    /* rejected: gno 0, gno past GNO_END, non-canonical tags; set unchanged */
    assert_int_equal(gtid_mysql_add(&s, &t1, 0), PROTO_EBAD);
    assert_int_equal(gtid_mysql_add(&s, &t1, GTID_MYSQL_GNO_MAX + 1), PROTO_EBAD);
    struct gtid_tsid bad = t1a;
    bad.tag[0] = 'A';
    assert_int_equal(gtid_mysql_add(&s, &bad, 1), PROTO_EBAD);
    bad.tag[0] = '1';
    assert_int_equal(gtid_mysql_add(&s, &bad, 1), PROTO_EBAD);
    assert_string_equal(fmt(&s, buf, sizeof buf), U1 ":1-5:a:1," U2 ":7");
    assert_int_equal(gtid_mysql_add(&s, &t1, GTID_MYSQL_GNO_MAX), PROTO_OK);

    /* the OWN_GTID path: parse what an OK packet carried, union it in */
    struct gtid_set own;
    gtid_set_init(&own, GTID_FLAVOR_MYSQL);
    parse_ok(&own, U2 ":8-9,\n" U1 ":6");
    assert_int_equal(gtid_set_union(&s, &own), PROTO_OK);
    assert_string_equal(fmt(&s, buf, sizeof buf), U1 ":1-6:9223372036854775806:a:1," U2 ":7-9");
    gtid_set_free(&own);
    gtid_set_free(&s);
}

/* A warmed-up set reuses its arrays: parse, union and add into it do not
 * change its buffers when the content fits. */
static void test_no_realloc_when_warm(void **state)
{
    (void)state;
    struct gtid_set s, b;
    gtid_set_init(&s, GTID_FLAVOR_MYSQL);
    gtid_set_init(&b, GTID_FLAVOR_MYSQL);
    parse_ok(&s, U1 ":1-3:5:7:9," U2 ":1:3:5:7:9");
    void *runs = s.u.my.run, *iv0 = s.u.my.run[0].iv;
    parse_ok(&s, U1 ":1:3");
    parse_ok(&b, U1 ":2");
    assert_int_equal(gtid_set_union(&s, &b), PROTO_OK);
    struct gtid_tsid t1 = s.u.my.run[0].tsid;
    for (uint64_t g = 4; g < 100; g++)
        assert_int_equal(gtid_mysql_add(&s, &t1, g), PROTO_OK);
    assert_ptr_equal(s.u.my.run, runs);
    assert_ptr_equal(s.u.my.run[0].iv, iv0);
    gtid_set_clear(&s);
    assert_true(gtid_set_is_empty(&s));
    assert_ptr_equal(s.u.my.run, runs);
    gtid_set_free(&s);
    gtid_set_free(&b);
}

static void test_format_small_buffer(void **state)
{
    (void)state;
    struct gtid_set s;
    gtid_set_init(&s, GTID_FLAVOR_MYSQL);
    parse_ok(&s, U1 ":1-5:t:7");
    size_t need = gtid_set_format_len(&s);
    assert_int_equal(need, strlen(U1 ":1-5:t:7"));
    char buf[64];
    for (size_t cap = 0; cap < need; cap++) {
        struct proto_wr w;
        proto_wr_init(&w, buf, cap);
        gtid_set_format(&s, &w);
        assert_int_equal(proto_wr_finish(&w), PROTO_ENOSPACE);
        assert_true(w.len <= cap);
    }
    gtid_set_free(&s);
}

static void test_flavor_mismatch(void **state)
{
    (void)state;
    struct gtid_set my, mdb;
    gtid_set_init(&my, GTID_FLAVOR_MYSQL);
    gtid_set_init(&mdb, GTID_FLAVOR_MARIADB);
    assert_string_equal(gtid_flavor_name(my.flavor), "mysql");
    assert_string_equal(gtid_flavor_name(mdb.flavor), "mariadb");
    assert_string_equal(gtid_flavor_name((enum gtid_flavor)7), "unknown");
    assert_string_equal(gtid_status_str(GTID_ENOMEM), "out of memory");
    assert_string_equal(gtid_status_str(PROTO_EBAD), "malformed input");
    /* two empty sets of different flavors still do not contain each other */
    assert_false(gtid_set_contains(&my, &mdb));
    assert_false(gtid_set_equal(&my, &mdb));
    assert_true(gtid_set_missing(&my, &mdb) == UINT64_MAX);
    assert_int_equal(gtid_set_union(&my, &mdb), PROTO_EUNSUPPORTED);
    struct gtid_tsid t;
    memset(&t, 0, sizeof t);
    assert_int_equal(gtid_mysql_add(&mdb, &t, 1), PROTO_EUNSUPPORTED);
    assert_int_equal(gtid_mariadb_add(&my, 0, 1, 1), PROTO_EUNSUPPORTED);
    /* copy across flavors takes the source's flavor */
    parse_ok(&my, U1 ":1");
    assert_int_equal(gtid_set_copy(&mdb, &my), PROTO_OK);
    assert_int_equal(mdb.flavor, GTID_FLAVOR_MYSQL);
    assert_true(gtid_set_equal(&mdb, &my));
    gtid_set_free(&my);
    gtid_set_free(&mdb);
}

/* Limits: the text as written counts, and union checks before it changes. */
static void test_limits(void **state)
{
    (void)state;
    struct gtid_set s, b, before;
    gtid_set_init(&s, GTID_FLAVOR_MYSQL);
    gtid_set_init(&b, GTID_FLAVOR_MYSQL);
    gtid_set_init(&before, GTID_FLAVOR_MYSQL);

    /* 65536 single intervals parse; one more does not */
    size_t cap = 37 + (size_t)(GTID_MYSQL_MAX_INTERVALS + 1) * 8 + 16;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t len = (size_t)snprintf(text, cap, "%s", U1);
    for (uint32_t k = 0; k < GTID_MYSQL_MAX_INTERVALS; k++)
        len += (size_t)snprintf(text + len, cap - len, ":%u", 2 * k + 1);
    assert_int_equal(gtid_set_parse(&s, text, len, NULL), PROTO_OK);
    assert_int_equal(s.u.my.n_iv, GTID_MYSQL_MAX_INTERVALS);
    size_t full = len;
    len += (size_t)snprintf(text + len, cap - len, ":%u", 2 * GTID_MYSQL_MAX_INTERVALS + 1);
    size_t off = 0;
    assert_int_equal(gtid_set_parse(&b, text, len, &off), PROTO_ETOOBIG);
    assert_int_equal(off, len);

    /* union that would pass the interval limit fails and changes nothing */
    assert_int_equal(gtid_set_copy(&before, &s), PROTO_OK);
    parse_ok(&b, U2 ":1");
    assert_int_equal(gtid_set_union(&s, &b), PROTO_ETOOBIG);
    assert_true(gtid_set_equal(&s, &before));
    struct gtid_tsid t2 = b.u.my.run[0].tsid;
    assert_int_equal(gtid_mysql_add(&s, &t2, 1), PROTO_ETOOBIG);
    assert_true(gtid_set_equal(&s, &before));
    /* but one that merges intervals is fine: 2 joins 1 and 3 */
    struct gtid_tsid t1 = s.u.my.run[0].tsid;
    assert_int_equal(gtid_mysql_add(&s, &t1, 2), PROTO_OK);
    assert_int_equal(s.u.my.n_iv, GTID_MYSQL_MAX_INTERVALS - 1);
    (void)full;
    free(text);

    /* too many (uuid, tag) sources */
    gtid_set_clear(&s);
    for (uint32_t k = 0; k < GTID_MYSQL_MAX_TSIDS; k++) {
        struct gtid_tsid t;
        memset(&t, 0, sizeof t);
        t.uuid[0] = (uint8_t)(k >> 8);
        t.uuid[1] = (uint8_t)k;
        assert_int_equal(gtid_mysql_add(&s, &t, 1), PROTO_OK);
    }
    assert_int_equal(gtid_set_copy(&before, &s), PROTO_OK);
    struct gtid_tsid extra;
    memset(&extra, 0xEE, sizeof extra);
    extra.tag_len = 0;
    assert_int_equal(gtid_mysql_add(&s, &extra, 1), PROTO_ETOOBIG);
    assert_true(gtid_set_equal(&s, &before));

    /* text longer than GTID_TEXT_MAX is refused before it is read */
    char *huge = malloc(GTID_TEXT_MAX + 1);
    assert_non_null(huge);
    memset(huge, ' ', GTID_TEXT_MAX + 1);
    assert_int_equal(gtid_set_parse(&b, huge, GTID_TEXT_MAX + 1, NULL), PROTO_ETOOBIG);
    assert_int_equal(gtid_set_parse(&b, huge, GTID_TEXT_MAX, NULL), PROTO_OK);
    free(huge);

    gtid_set_free(&s);
    gtid_set_free(&b);
    gtid_set_free(&before);
}

/* ---- property tests against a bitmap model ---------------------------
 * Universe: 3 uuids x tags {"", "a", "b"}; per source 64 gnos starting at a
 * base (1, 1000000 or GNO_MAX - 63) so numbers near the top are covered. */

#define NSRC 9
static const char *const model_uuid[3] = {U1, U2, U3}; /* sorted */
static const char *const model_tag[3] = {"", "a", "b"};
static const uint64_t model_base[3] = {1, 1000000, GTID_MYSQL_GNO_MAX - 63};

struct model {
    uint64_t bits[NSRC]; /* source = uuid * 3 + tag */
};

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t src_base(int src)
{
    return model_base[(src / 3 + src % 3) % 3];
}

static void model_random(struct model *m)
{
    for (int s = 0; s < NSRC; s++) {
        switch (rnd() % 4) {
        case 0:
            m->bits[s] = 0;
            break;
        case 1:
            m->bits[s] = rnd() & rnd(); /* sparse */
            break;
        case 2:
            m->bits[s] = rnd() | rnd(); /* dense */
            break;
        default: {
            unsigned lo = (unsigned)(rnd() % 64), hi = (unsigned)(rnd() % 64);
            if (lo > hi) {
                unsigned t = lo;
                lo = hi;
                hi = t;
            }
            m->bits[s] = (hi == 63 ? ~0ULL : ((1ULL << (hi + 1)) - 1)) & ~((1ULL << lo) - 1);
        }
        }
    }
}

__attribute__((format(printf, 4, 5))) static size_t put(char *buf, size_t cap, size_t len,
                                                        const char *fmt_, ...)
{
    va_list ap;
    va_start(ap, fmt_);
    int n = vsnprintf(buf + len, cap - len, fmt_, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < cap - len);
    return len + (size_t)n;
}

/* The canonical text, built straight from the model. */
static void model_canonical(const struct model *m, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int u = 0; u < 3; u++) {
        bool any = false;
        for (int t = 0; t < 3; t++) {
            uint64_t bits = m->bits[u * 3 + t], base = src_base(u * 3 + t);
            if (!bits)
                continue;
            if (!any)
                len = put(buf, cap, len, "%s%s", len ? "," : "", model_uuid[u]);
            any = true;
            if (t)
                len = put(buf, cap, len, ":%s", model_tag[t]);
            for (int k = 0; k < 64;) {
                if (!(bits >> k & 1)) {
                    k++;
                    continue;
                }
                int e = k;
                while (e + 1 < 64 && (bits >> (e + 1) & 1))
                    e++;
                if (e == k)
                    len = put(buf, cap, len, ":%llu", (unsigned long long)(base + k));
                else
                    len = put(buf, cap, len, ":%llu-%llu", (unsigned long long)(base + k),
                              (unsigned long long)(base + e));
                k = e + 1;
            }
        }
    }
}

/* A messy but equivalent text: random order of items, pieces split and
 * overlapping, upper case, whitespace, ",\n". */
static void model_messy(const struct model *m, char *buf, size_t cap)
{
    size_t len = 0;
    int order[NSRC];
    for (int i = 0; i < NSRC; i++)
        order[i] = i;
    for (int i = NSRC - 1; i > 0; i--) {
        int j = (int)(rnd() % (uint64_t)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    bool first = true;
    for (int i = 0; i < NSRC; i++) {
        int s = order[i];
        uint64_t bits = m->bits[s], base = src_base(s);
        if (!bits)
            continue;
        if (!first)
            len = put(buf, cap, len, rnd() % 2 ? ",\n" : " , ");
        first = false;
        char uuid[40];
        strcpy(uuid, model_uuid[s / 3]);
        if (rnd() % 2)
            for (char *p = uuid; *p; p++)
                if (*p >= 'a' && *p <= 'f')
                    *p = (char)(*p - 'a' + 'A');
        len = put(buf, cap, len, "%s", uuid);
        if (s % 3)
            len = put(buf, cap, len, rnd() % 2 ? ":%s" : ": %s ", s % 3 == 1 ? "A" : "b");
        /* each set bit once, sometimes as a range over set bits, reversed */
        for (int k = 63; k >= 0; k--) {
            if (!(bits >> k & 1))
                continue;
            int lo = k;
            if (rnd() % 2)
                while (lo > 0 && (bits >> (lo - 1) & 1) && rnd() % 4)
                    lo--;
            if (lo == k)
                len = put(buf, cap, len, ":%llu", (unsigned long long)(base + k));
            else
                len = put(buf, cap, len, ":%llu - %llu", (unsigned long long)(base + lo),
                          (unsigned long long)(base + k));
            if (rnd() % 3 == 0)
                len = put(buf, cap, len, ":%llu", (unsigned long long)(base + k)); /* dup */
            k = lo;
        }
    }
    if (first)
        len = put(buf, cap, len, "%s", rnd() % 2 ? "" : " \n");
}

static void model_parse(struct gtid_set *s, const struct model *m, bool messy)
{
    char text[16384];
    if (messy)
        model_messy(m, text, sizeof text);
    else
        model_canonical(m, text, sizeof text);
    parse_ok(s, text);
}

static bool model_contains(const struct model *a, const struct model *b)
{
    for (int s = 0; s < NSRC; s++)
        if (b->bits[s] & ~a->bits[s])
            return false;
    return true;
}

static uint64_t model_missing(const struct model *a, const struct model *b)
{
    uint64_t n = 0;
    for (int s = 0; s < NSRC; s++)
        n += (uint64_t)__builtin_popcountll(b->bits[s] & ~a->bits[s]);
    return n;
}

static void test_properties(void **state)
{
    (void)state;
    struct gtid_set a, b, c, u, v;
    gtid_set_init(&a, GTID_FLAVOR_MYSQL);
    gtid_set_init(&b, GTID_FLAVOR_MYSQL);
    gtid_set_init(&c, GTID_FLAVOR_MYSQL);
    gtid_set_init(&u, GTID_FLAVOR_MYSQL);
    gtid_set_init(&v, GTID_FLAVOR_MYSQL);
    static char want[16384], got[16384];
    int seen[2] = {0, 0};
    for (int it = 0; it < 3000; it++) {
        struct model ma, mb, mc, mu;
        model_random(&ma);
        model_random(&mb);
        /* c below b below a, for transitivity */
        for (int s = 0; s < NSRC; s++) {
            if (it % 4 == 1)
                mb.bits[s] &= ma.bits[s] | rnd(); /* mostly inside a */
            else if (it % 4 == 3)
                mb.bits[s] = ma.bits[s] & rnd(); /* inside a */
            mc.bits[s] = mb.bits[s] & rnd();
            mu.bits[s] = ma.bits[s] | mb.bits[s];
        }
        model_parse(&a, &ma, true);
        model_parse(&b, &mb, it % 3 == 0);
        model_parse(&c, &mc, true);

        /* parse of a messy text gives the canonical text (format∘parse) */
        model_canonical(&ma, want, sizeof want);
        assert_string_equal(fmt(&a, got, sizeof got), want);
        model_parse(&v, &ma, false);
        assert_true(gtid_set_equal(&a, &v));

        /* relations agree with the model */
        assert_int_equal(gtid_set_contains(&a, &b), model_contains(&ma, &mb));
        seen[model_contains(&ma, &mb)]++;
        assert_true(gtid_set_missing(&a, &b) == model_missing(&ma, &mb));
        assert_int_equal(gtid_set_missing(&a, &b) == 0, gtid_set_contains(&a, &b));
        assert_int_equal(gtid_set_equal(&a, &b), memcmp(&ma, &mb, sizeof ma) == 0);
        assert_true(gtid_set_contains(&a, &a));

        /* union: model, commutative, idempotent, contains both sides */
        assert_int_equal(gtid_set_copy(&u, &a), PROTO_OK);
        assert_int_equal(gtid_set_union(&u, &b), PROTO_OK);
        model_canonical(&mu, want, sizeof want);
        assert_string_equal(fmt(&u, got, sizeof got), want);
        assert_int_equal(gtid_set_copy(&v, &b), PROTO_OK);
        assert_int_equal(gtid_set_union(&v, &a), PROTO_OK);
        assert_true(gtid_set_equal(&u, &v));
        assert_int_equal(gtid_set_union(&v, &a), PROTO_OK);
        assert_int_equal(gtid_set_union(&v, &v), PROTO_OK);
        assert_true(gtid_set_equal(&u, &v));
        assert_true(gtid_set_contains(&u, &a) && gtid_set_contains(&u, &b));
        assert_true(gtid_set_missing(&u, &a) == 0 && gtid_set_missing(&u, &b) == 0);

        /* transitivity */
        if (gtid_set_contains(&a, &b) && gtid_set_contains(&b, &c))
            assert_true(gtid_set_contains(&a, &c));
        assert_true(gtid_set_contains(&b, &c));

        /* adding one gno at a time rebuilds the union */
        assert_int_equal(gtid_set_copy(&v, &a), PROTO_OK);
        for (int s = 0; s < NSRC; s++) {
            struct gtid_tsid t = tsid_of(model_uuid[s / 3], model_tag[s % 3]);
            for (int k = 0; k < 64; k++)
                if (mb.bits[s] >> k & 1)
                    assert_int_equal(gtid_mysql_add(&v, &t, src_base(s) + (uint64_t)k), PROTO_OK);
        }
        assert_true(gtid_set_equal(&u, &v));
    }
    /* both outcomes of contains were exercised often */
    assert_true(seen[0] > 500 && seen[1] > 500);
    gtid_set_free(&a);
    gtid_set_free(&b);
    gtid_set_free(&c);
    gtid_set_free(&u);
    gtid_set_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_relations),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_no_realloc_when_warm),
        cmocka_unit_test(test_format_small_buffer),
        cmocka_unit_test(test_flavor_mismatch),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_properties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
